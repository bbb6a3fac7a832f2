//! Whole in-memory sessions per second: `Server::new`, `Client::new`, then
//! PPTP control (SCCRQ … OCRP), LCP, MS-CHAPv2, IPCP and CCP until both
//! report the tunnel up (`tests/pair`), on one core. One element is one
//! handshake; a summary prints handshakes per second.
//!
//! `cargo bench --bench handshake -- --warm-up-time 1 --measurement-time 3`

#[path = "../../tests/pair/mod.rs"]
mod pair;

use std::hint::black_box;
use std::time::Instant as StdInstant;

use criterion::{Criterion, Throughput};
use pair::{Mode, Pair};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("handshake");
    group.throughput(Throughput::Elements(1));
    for mode in Mode::ALL {
        let mut seed = 0u64;
        group.bench_function(mode.name(), |b| {
            b.iter(|| {
                seed += 1;
                black_box(Pair::established(mode, seed))
            })
        });
    }
    group.finish();
}

fn summary() {
    println!();
    println!("handshake summary (one core, best of 5 batches of 2000)");
    for mode in Mode::ALL {
        let mut seed = 0u64;
        let best = (0..5)
            .map(|_| {
                let t = StdInstant::now();
                for _ in 0..2000 {
                    seed += 1;
                    black_box(Pair::established(mode, seed));
                }
                t.elapsed().as_secs_f64() / 2000.0
            })
            .fold(f64::INFINITY, f64::min);
        println!(
            "{:<18} {:>8.1} µs/handshake {:>9.0} handshakes/s",
            mode.name(),
            best * 1e6,
            1.0 / best
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    if std::env::args().any(|a| a == "--bench") {
        summary();
    }
}
