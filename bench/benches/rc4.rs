//! RC4 throughput: `pptp_proto::rc4::Rc4` against the `rc4` crate, same run.
//!
//! `cargo bench --bench rc4 -- --warm-up-time 1 --measurement-time 2`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pptp_proto::rc4::Rc4;
use rc4::cipher::generic_array::GenericArray;
use rc4::{consts::U16, KeyInit, Rc4 as RefRc4, StreamCipher};

const KEY: [u8; 16] = *b"\x40\x5c\xb2\x24\x7a\x79\x56\xe6\xe2\x11\x00\x7a\xe2\x7b\x22\xd4";

/// Buffer sizes: a small packet, a medium one, a full PPTP MTU, and bulk.
const SIZES: [usize; 4] = [64, 512, 1400, 65536];

fn keystream(c: &mut Criterion) {
    let mut group = c.benchmark_group("rc4/keystream");
    for size in SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        let mut buf = vec![0u8; size];
        let mut ours = Rc4::new(&KEY);
        group.bench_function(BenchmarkId::new("pptp-proto", size), |b| {
            b.iter(|| ours.apply_keystream(black_box(&mut buf)))
        });
        let mut theirs = RefRc4::<U16>::new(GenericArray::from_slice(&KEY));
        group.bench_function(BenchmarkId::new("rc4-crate", size), |b| {
            b.iter(|| theirs.apply_keystream(black_box(&mut buf)))
        });
    }
    group.finish();
}

fn key_schedule(c: &mut Criterion) {
    let mut group = c.benchmark_group("rc4/key-schedule-16");
    // One element = one complete key schedule (identity fill + 256 KSA steps).
    group.throughput(Throughput::Elements(1));
    group.bench_function("pptp-proto/new", |b| b.iter(|| Rc4::new(black_box(&KEY))));
    let mut ours = Rc4::new(&KEY);
    group.bench_function("pptp-proto/rekey", |b| {
        b.iter(|| ours.rekey(black_box(&KEY)))
    });
    group.bench_function("rc4-crate/new", |b| {
        b.iter(|| RefRc4::<U16>::new(GenericArray::from_slice(black_box(&KEY))))
    });
    group.finish();
}

criterion_group!(benches, keystream, key_schedule);
criterion_main!(benches);
