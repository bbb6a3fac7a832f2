//! MPPC (RFC 2118) compression ratio and speed on a generated corpus of
//! 1400-byte packets, against miniz_oxide deflate level 1 on the same packets.
//!
//! Run with `cargo bench --bench mppc`; the ratio lines are printed first.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use miniz_oxide::deflate::core::{
    compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
};
use pptp_proto::mppc::{MppcCompressor, MppcDecompressor, MppcFlags};

const PACKET: usize = 1400;
const CORPUS: usize = 2 << 20;

/// xorshift64*, seeded: the corpus is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const PATHS: &[&str] = &[
    "/",
    "/index.html",
    "/api/v2/users",
    "/static/app.js",
    "/img/logo.png",
    "/search",
];
const HOSTS: &[&str] = &[
    "example.com",
    "intranet.corp.local",
    "cdn.example.net",
    "mail.example.org",
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "curl/8.4.0",
];
const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "this",
    "are",
    "or",
    "his",
    "from",
    "at",
    "which",
    "but",
    "have",
    "an",
    "they",
    "network",
    "packet",
    "server",
    "client",
    "tunnel",
    "session",
    "history",
    "compression",
    "protocol",
    "window",
];
const NAMES: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
];

fn http(rng: &mut Rng, out: &mut Vec<u8>) {
    let s = if rng.below(2) == 0 {
        format!(
            "GET {}?q={} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nAccept: text/html,application/xhtml+xml,*/*;q=0.8\r\n\
             Accept-Encoding: gzip, deflate\r\nAccept-Language: en-US,en;q=0.5\r\nConnection: keep-alive\r\n\
             Cookie: session={:016x}; theme=dark\r\n\r\n",
            rng.pick(PATHS),
            rng.below(100_000),
            rng.pick(HOSTS),
            rng.pick(AGENTS),
            rng.next()
        )
    } else {
        format!(
            "HTTP/1.1 200 OK\r\nDate: Tue, 24 Nov 2026 {:02}:{:02}:{:02} GMT\r\nServer: nginx/1.24.0\r\n\
             Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-cache\r\n\
             ETag: \"{:08x}\"\r\nConnection: keep-alive\r\n\r\n",
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.below(20_000),
            rng.next() as u32
        )
    };
    out.extend_from_slice(s.as_bytes());
}

fn json(rng: &mut Rng, out: &mut Vec<u8>) {
    out.extend_from_slice(b"[");
    for i in 0..1 + rng.below(8) {
        let s = format!(
            "{}{{\"id\":{},\"name\":\"{}\",\"email\":\"{}@example.com\",\"active\":{},\"score\":{}.{},\"tags\":[\"{}\",\"{}\"]}}",
            if i > 0 { "," } else { "" },
            rng.below(1_000_000),
            rng.pick(NAMES),
            rng.pick(NAMES),
            rng.below(2) == 0,
            rng.below(100),
            rng.below(100),
            rng.pick(WORDS),
            rng.pick(WORDS)
        );
        out.extend_from_slice(s.as_bytes());
    }
    out.extend_from_slice(b"]\n");
}

fn text(rng: &mut Rng, out: &mut Vec<u8>) {
    for _ in 0..40 + rng.below(80) {
        out.extend_from_slice(rng.pick(WORDS).as_bytes());
        out.push(if rng.below(12) == 0 { b'.' } else { b' ' });
    }
    out.push(b'\n');
}

fn binary(rng: &mut Rng, out: &mut Vec<u8>) {
    if rng.below(2) == 0 {
        // Already-compressed or encrypted content: incompressible.
        for _ in 0..64 + rng.below(512) {
            out.push(rng.next() as u8);
        }
    } else {
        // Little-endian records: small counters, flags, zero padding.
        for i in 0..16 + rng.below(64) as u32 {
            out.extend_from_slice(&i.to_le_bytes());
            out.extend_from_slice(&(rng.below(1000) as u32).to_le_bytes());
            out.extend_from_slice(&[0, 0, 1, 0]);
        }
    }
}

/// About 2 MB of mixed traffic in 1400-byte packets.
fn corpus() -> Vec<Vec<u8>> {
    let mut rng = Rng(0x00c0_ffee_1234_5678);
    let mut bytes = Vec::with_capacity(CORPUS + 4096);
    while bytes.len() < CORPUS {
        match rng.below(10) {
            0..=2 => http(&mut rng, &mut bytes),
            3..=5 => json(&mut rng, &mut bytes),
            6..=7 => text(&mut rng, &mut bytes),
            _ => binary(&mut rng, &mut bytes),
        }
    }
    bytes.chunks(PACKET).map(<[u8]>::to_vec).collect()
}

/// MPPC over all packets with history carried: (bytes sent, packets sent raw).
fn mppc_sizes(packets: &[Vec<u8>]) -> (usize, usize) {
    let mut tx = MppcCompressor::new();
    let mut rx = MppcDecompressor::new();
    let mut wire = [0u8; PACKET];
    let (mut sent, mut raw) = (0, 0);
    for p in packets {
        let out = tx.compress(p, &mut wire).unwrap();
        sent += out.len;
        raw += usize::from(!out.flags.contains(MppcFlags::COMPRESSED));
        assert_eq!(rx.decompress(out.flags, &wire[..out.len]).unwrap(), &p[..]);
    }
    (sent, raw)
}

fn deflate_compressor() -> CompressorOxide {
    // Raw deflate (no zlib header), level 1, 32 KB window.
    CompressorOxide::new(create_comp_flags_from_zip_params(1, -15, 0))
}

/// Deflate level 1 on each packet alone, sent raw when it would expand.
fn deflate_packet(d: &mut CompressorOxide, p: &[u8], out: &mut [u8]) -> usize {
    d.reset();
    let (_, _, n) = compress(d, p, out, TDEFLFlush::Finish);
    n.min(p.len())
}

/// Deflate level 1 as one stream with a sync flush per packet (history carried, like RFC 1979).
fn deflate_stream_sizes(packets: &[Vec<u8>]) -> usize {
    let mut d = deflate_compressor();
    let mut out = vec![0u8; 2 * PACKET + 64];
    packets
        .iter()
        .map(|p| compress(&mut d, p, &mut out, TDEFLFlush::Sync).2)
        .sum()
}

fn print_ratios(packets: &[Vec<u8>]) {
    let total: usize = packets.iter().map(Vec::len).sum();
    let (mppc, raw) = mppc_sizes(packets);
    let mut out = vec![0u8; 2 * PACKET + 64];
    let mut d = deflate_compressor();
    let per_packet: usize = packets
        .iter()
        .map(|p| deflate_packet(&mut d, p, &mut out))
        .sum();
    let stream = deflate_stream_sizes(packets);
    let line = |name: &str, n: usize| {
        println!(
            "ratio {name:<40} {total} -> {n} bytes, {:.3}x ({:.1}% of input)",
            total as f64 / n as f64,
            100.0 * n as f64 / total as f64
        );
    };
    println!(
        "corpus: {} packets of up to {PACKET} bytes, {total} bytes",
        packets.len()
    );
    line("mppc (8 KB history carried)", mppc);
    println!("      mppc packets sent uncompressed+flushed: {raw}");
    line("deflate-1 per packet (miniz_oxide)", per_packet);
    line("deflate-1 stream, sync flush per packet", stream);
}

fn bench(c: &mut Criterion) {
    let packets = corpus();
    print_ratios(&packets);
    let total: usize = packets.iter().map(Vec::len).sum();

    // Pre-compress once so the decompression bench decodes real MPPC packets.
    let mut tx = MppcCompressor::new();
    let mut wire = [0u8; PACKET];
    let sent: Vec<(MppcFlags, Vec<u8>)> = packets
        .iter()
        .map(|p| {
            let out = tx.compress(p, &mut wire).unwrap();
            (out.flags, wire[..out.len].to_vec())
        })
        .collect();

    let mut g = c.benchmark_group("mppc");
    g.throughput(Throughput::Bytes(total as u64));
    g.sample_size(10);
    g.bench_function("compress", |b| {
        b.iter(|| {
            let mut tx = MppcCompressor::new();
            let mut wire = [0u8; PACKET];
            for p in &packets {
                black_box(tx.compress(p, &mut wire).unwrap().len);
            }
        })
    });
    g.bench_function("decompress", |b| {
        b.iter(|| {
            let mut rx = MppcDecompressor::new();
            for (flags, bytes) in &sent {
                black_box(rx.decompress(*flags, bytes).unwrap());
            }
        })
    });
    g.bench_function("deflate-1 per packet (miniz_oxide)", |b| {
        let mut out = vec![0u8; 2 * PACKET + 64];
        let mut d = deflate_compressor();
        b.iter(|| {
            for p in &packets {
                black_box(deflate_packet(&mut d, p, &mut out));
            }
        })
    });
    g.bench_function("deflate-1 stream, sync flush (miniz_oxide)", |b| {
        b.iter(|| black_box(deflate_stream_sizes(&packets)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
