//! Parse throughput of the wire codecs: PPTP control messages, LCP packets
//! with typed options, and GRE + PPP headers, against a plain copy of the
//! same bytes measured in the same run (the baseline).
//!
//! `cargo bench --bench parse -- --warm-up-time 1 --measurement-time 2`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use pptp_proto::wire::control::ControlMessage;
use pptp_proto::wire::cp::{parse_options, CpPacket, LcpConfigOption};
use pptp_proto::wire::gre::GrePacket;
use pptp_proto::wire::ppp::PppFrame;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn samples() -> [(&'static str, Vec<u8>); 3] {
    // scapy's Outgoing-Call-Reply, an LCP Configure-Request with six options,
    // and a GRE packet carrying an LCP Echo-Request (vectors README §9).
    [
        (
            "control/OCRP",
            unhex("002000011a2b3c4d00080000109310920404002a00001388002000030000002a"),
        ),
        (
            "lcp/ConfReq",
            unhex("012a0027010413880206f0f0f0f00304c0230408c025746573740506000010920d070474657374"),
        ),
        (
            "gre+ppp/EchoReq",
            unhex("3081880b001200000000002f0000002aff03c021092a000e00001092616263646566"),
        ),
    ]
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(1));
    for (name, bytes) in samples() {
        let mut copy = vec![0u8; bytes.len()];
        group.bench_function(format!("{name}/baseline-copy"), |b| {
            b.iter(|| copy.copy_from_slice(black_box(&bytes)))
        });
        group.bench_function(name, |b| match name {
            "control/OCRP" => b.iter(|| ControlMessage::parse(black_box(&bytes)).is_ok()),
            "lcp/ConfReq" => b.iter(|| {
                let p = CpPacket::parse(black_box(&bytes)).expect("valid");
                parse_options::<LcpConfigOption>(p.data).map(|o| o.len())
            }),
            _ => b.iter(|| {
                let g = GrePacket::parse(black_box(&bytes)).expect("valid");
                PppFrame::parse(g.payload).map(|f| f.protocol)
            }),
        });
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
