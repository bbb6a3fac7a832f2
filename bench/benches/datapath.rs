//! The data path, IP in → GRE out → IP back, through an established
//! `Client` ↔ `Server` pair (`tests/pair`), against baselines over the
//! same bytes in the same run:
//!
//! - `rc4-crate`: the `rc4` crate's raw keystream applied twice (the
//!   sender's encryption and the receiver's decryption), nothing else;
//! - `rc4-crate+ks`: the same with a fresh 128-bit key schedule on each side
//!   per packet, the least any stateless MPPE must do;
//! - `memcpy`: copying the packet twice.
//!
//! One element is one IP packet sent by one side and delivered by the other,
//! including the GRE ack-only packets that go back. After criterion, a
//! summary measures every case again in 31 interleaved rounds with the
//! baselines (one batch of each per round, the order rotating) and prints
//! the median per-round ratio (`ours / baseline` in throughput) with its
//! spread, so one busy moment of the machine cannot make or break a ratio.
//!
//! `cargo bench --bench datapath -- --warm-up-time 1 --measurement-time 2`

#[path = "../../tests/pair/mod.rs"]
mod pair;

use std::hint::black_box;
use std::time::{Duration as StdDuration, Instant as StdInstant};

use criterion::{BenchmarkId, Criterion, Throughput};
use pair::{Mode, Pair};
use pptp_proto::tunnel::SEND_OVERHEAD;
use rc4::cipher::generic_array::GenericArray;
use rc4::{consts::U16, KeyInit, Rc4 as RefRc4, StreamCipher};

const SIZES: [usize; 3] = [64, 512, 1400];
const KEY: [u8; 16] = *b"\x40\x5c\xb2\x24\x7a\x79\x56\xe6\xe2\x11\x00\x7a\xe2\x7b\x22\xd4";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    ClientToServer,
    ServerToClient,
}

impl Dir {
    fn name(self) -> &'static str {
        match self {
            Dir::ClientToServer => "client-to-server",
            Dir::ServerToClient => "server-to-client",
        }
    }
}

/// An established pair and the buffers one direction reuses.
struct Path {
    pair: Pair,
    dir: Dir,
    ip: Vec<u8>,
    out: Vec<u8>,
}

impl Path {
    fn new(mode: Mode, dir: Dir, size: usize) -> Path {
        let mut ip: Vec<u8> = (0..size).map(|k| (k * 13 + 5) as u8).collect();
        ip[0] = 0x45;
        Path {
            pair: Pair::established(mode, 3),
            dir,
            ip,
            out: vec![0u8; size + SEND_OVERHEAD],
        }
    }

    /// One packet across, and any ack back.
    #[inline]
    fn packet(&mut self) {
        let p = &mut self.pair;
        let now = p.now;
        match self.dir {
            Dir::ClientToServer => {
                let r = p
                    .client
                    .send_ip(now, &self.ip, &mut self.out)
                    .expect("send");
                let (_, ip) = p
                    .server
                    .handle_datagram(now, p.peer, &mut self.out[r])
                    .expect("receive");
                black_box(ip);
                while let Some((_, mut ack)) = p.server.poll_datagram_transmit() {
                    let _ = p.client.handle_datagram(now, &mut ack);
                }
            }
            Dir::ServerToClient => {
                let r = p
                    .server
                    .send_ip(now, p.conn, &self.ip, &mut self.out)
                    .expect("send");
                let ip = p
                    .client
                    .handle_datagram(now, &mut self.out[r])
                    .expect("receive");
                black_box(ip);
                while let Some(mut ack) = p.client.poll_datagram_transmit() {
                    let _ = p.server.handle_datagram(now, p.peer, &mut ack);
                }
            }
        }
    }
}

/// The baselines: the same bytes through the reference RC4, or copied.
struct Baseline {
    kind: &'static str,
    data: Vec<u8>,
    copy: Vec<u8>,
    tx: RefRc4<U16>,
    rx: RefRc4<U16>,
}

impl Baseline {
    const KINDS: [&'static str; 3] = ["rc4-crate", "rc4-crate+ks", "memcpy"];

    fn new(kind: &'static str, size: usize) -> Baseline {
        Baseline {
            kind,
            data: (0..size).map(|k| k as u8).collect(),
            copy: vec![0u8; size],
            tx: RefRc4::new(GenericArray::from_slice(&KEY)),
            rx: RefRc4::new(GenericArray::from_slice(&KEY)),
        }
    }

    #[inline]
    fn packet(&mut self) {
        match self.kind {
            "rc4-crate" => {
                self.tx.apply_keystream(black_box(&mut self.data));
                self.rx.apply_keystream(black_box(&mut self.data));
            }
            "rc4-crate+ks" => {
                let key = GenericArray::from_slice(black_box(&KEY));
                RefRc4::<U16>::new(key).apply_keystream(black_box(&mut self.data));
                RefRc4::<U16>::new(key).apply_keystream(black_box(&mut self.data));
            }
            _ => {
                self.copy.copy_from_slice(black_box(&self.data));
                self.data.copy_from_slice(black_box(&self.copy));
            }
        }
    }
}

fn bench(c: &mut Criterion) {
    for size in SIZES {
        let mut group = c.benchmark_group(format!("datapath/{size}B"));
        group.throughput(Throughput::Bytes(size as u64));
        for dir in [Dir::ClientToServer, Dir::ServerToClient] {
            for mode in Mode::ALL {
                let mut path = Path::new(mode, dir, size);
                let id = BenchmarkId::new(dir.name(), mode.name());
                group.bench_function(id, |b| b.iter(|| path.packet()));
            }
        }
        for kind in Baseline::KINDS {
            let mut base = Baseline::new(kind, size);
            group.bench_function(BenchmarkId::new("baseline", kind), |b| {
                b.iter(|| base.packet())
            });
        }
        group.finish();
    }
}

/// Calls per timed batch: enough for `f` to run about 4 ms.
fn batch_for(f: &mut dyn FnMut()) -> u64 {
    let mut batch = 16u64;
    loop {
        let t = StdInstant::now();
        for _ in 0..batch {
            f();
        }
        if t.elapsed() > StdDuration::from_millis(4) {
            return batch;
        }
        batch *= 2;
    }
}

/// Nanoseconds per call of one batch of `f`.
fn batch_ns(f: &mut dyn FnMut(), batch: u64) -> f64 {
    let t = StdInstant::now();
    for _ in 0..batch {
        f();
    }
    t.elapsed().as_nanos() as f64 / batch as f64
}

/// Interleaved alternations: each round times one batch of every case
/// back to back (the order rotating from round to round), so a busy moment
/// of the machine hits ours and the baselines alike; a ratio is taken per
/// round. `ROUNDS` rounds; the median and the spread are reported.
const ROUNDS: usize = 31;

/// Median, lowest and highest of `v`.
fn spread(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// Every case again against the baselines in interleaved rounds, printed as
/// a table of median ratios with their spread.
fn summary() {
    println!();
    println!(
        "datapath summary ({ROUNDS} interleaved rounds of ours and the baselines; \
         ns/pkt and Gbit/s of IP bytes are medians; ratio = ours / baseline throughput, \
         median [lowest-highest] of the per-round ratios)"
    );
    println!(
        "{:>6} {:<17} {:<18} {:>8} {:>7} {:>22} {:>22} {:>22}",
        "size",
        "direction",
        "mode",
        "ns/pkt",
        "Gbit/s",
        "x rc4-crate",
        "x rc4-crate+ks",
        "x memcpy"
    );
    for size in SIZES {
        let mut bases: Vec<Baseline> = Baseline::KINDS
            .iter()
            .map(|k| Baseline::new(k, size))
            .collect();
        for dir in [Dir::ClientToServer, Dir::ServerToClient] {
            for mode in Mode::ALL {
                let mut path = Path::new(mode, dir, size);
                let mut cases: Vec<Box<dyn FnMut() + '_>> = vec![Box::new(|| path.packet())];
                for b in bases.iter_mut() {
                    cases.push(Box::new(move || b.packet()));
                }
                let batches: Vec<u64> = cases.iter_mut().map(|f| batch_for(f.as_mut())).collect();
                let mut ns = vec![Vec::with_capacity(ROUNDS); cases.len()];
                for round in 0..ROUNDS {
                    for k in 0..cases.len() {
                        let i = (k + round) % cases.len();
                        ns[i].push(batch_ns(cases[i].as_mut(), batches[i]));
                    }
                }
                let ours = ns[0].clone();
                let mut cells = Vec::new();
                for base in &ns[1..] {
                    let mut ratios: Vec<f64> = base.iter().zip(&ours).map(|(b, o)| b / o).collect();
                    let (median, low, high) = spread(&mut ratios);
                    cells.push(format!("{median:.2}x [{low:.2}-{high:.2}]"));
                }
                let (ns_median, _, _) = spread(&mut ours.clone());
                println!(
                    "{:>6} {:<17} {:<18} {:>8.1} {:>7.2} {:>22} {:>22} {:>22}",
                    size,
                    dir.name(),
                    mode.name(),
                    ns_median,
                    size as f64 * 8.0 / ns_median,
                    cells[0],
                    cells[1],
                    cells[2],
                );
            }
        }
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    if std::env::args().any(|a| a == "--bench") {
        summary();
    }
}
