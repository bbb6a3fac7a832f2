//! MPPC (RFC 2118): the FreeRDP vector, round trips with history carry-over,
//! loss and resynchronisation, malformed streams, and proptests.

use pptp_proto::mppc::{MppcCompressor, MppcDecompressor, MppcError, MppcFlags, HISTORY_SIZE};
use proptest::prelude::*;

/// xorshift64*: a small seeded generator, so failures replay.
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
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

const WORDS: &[&str] = &[
    "the",
    "bell",
    "tolls",
    "for",
    "whom",
    "packet",
    "history",
    "compress",
    "tunnel",
    "point",
    "protocol",
    "GET",
    "Host:",
    "Accept:",
    "{\"id\":",
    "\"name\":",
    "\r\n",
    "HTTP/1.1",
    "200",
    "OK",
];

fn text(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(n + 16);
    while v.len() < n {
        v.extend_from_slice(WORDS[rng.below(WORDS.len())].as_bytes());
        v.push(b' ');
    }
    v.truncate(n);
    v
}

/// Compresses and decompresses each packet in turn and checks the identity.
fn round_trip(packets: &[Vec<u8>]) -> (usize, usize) {
    let mut tx = MppcCompressor::new();
    let mut rx = MppcDecompressor::new();
    let mut wire = vec![0u8; HISTORY_SIZE * 2];
    let (mut raw, mut sent) = (0, 0);
    for (i, p) in packets.iter().enumerate() {
        let out = tx.compress(p, &mut wire).unwrap();
        assert!(out.len <= p.len(), "packet {i} expanded");
        let got = rx.decompress(out.flags, &wire[..out.len]).unwrap();
        assert_eq!(
            got,
            &p[..],
            "packet {i} ({} bytes, {:?})",
            p.len(),
            out.flags
        );
        raw += p.len();
        sent += out.len;
    }
    (raw, sent)
}

#[test]
fn freerdp_bells_vector() {
    // vectors/README.md §8: TEST_MPPC_BELLS_RDP4, flags 0x0060 = B|C.
    let input =
        hex::decode("666f722e77686f6d2e7468652e62656c6c2e746f6c6c732cf4372e66fa1f199484").unwrap();
    let flags = MppcFlags::from_header(0x0060 << 8);
    assert_eq!(flags, MppcFlags::AT_FRONT | MppcFlags::COMPRESSED);
    let mut rx = MppcDecompressor::new();
    let got = rx.decompress(flags, &input).unwrap();
    assert_eq!(got, b"for.whom.the.bell.tolls,.the.bell.tolls.for.thee!");
}

#[test]
fn bells_round_trip_is_no_longer_than_freerdp() {
    let plain = b"for.whom.the.bell.tolls,.the.bell.tolls.for.thee!";
    let mut tx = MppcCompressor::new();
    let mut wire = [0u8; 64];
    let out = tx.compress(plain, &mut wire).unwrap();
    assert_eq!(out.flags, MppcFlags::AT_FRONT | MppcFlags::COMPRESSED);
    assert!(out.len <= 33, "{} bytes", out.len);
    let mut rx = MppcDecompressor::new();
    assert_eq!(rx.decompress(out.flags, &wire[..out.len]).unwrap(), plain);
}

#[test]
fn many_packets_with_history_carry_over() {
    // 100 000 packets (~75 MB) of text, random data, deflate output and a
    // mix, 1-byte and MTU-sized ones among them, through one compressor
    // and decompressor pair; generated as they go, so memory stays flat.
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let deflated = miniz_oxide::deflate::compress_to_vec(&text(&mut rng, 1 << 20), 6);
    let mut tx = MppcCompressor::new();
    let mut rx = MppcDecompressor::new();
    let mut wire = vec![0u8; 1500];
    let (mut raw, mut sent, mut compressed) = (0usize, 0usize, 0usize);
    for i in 0..100_000 {
        let n = match i % 5 {
            0 => 1,
            1 => 1500,
            _ => 1 + rng.below(1500),
        };
        let p = match rng.below(4) {
            0 => text(&mut rng, n),
            1 => rng.bytes(n),
            2 => {
                // Already compressed: a slice of deflate output.
                let at = rng.below(deflated.len() - n);
                deflated[at..at + n].to_vec()
            }
            _ => {
                // Text with random runs spliced in: partly compressible.
                let mut t = text(&mut rng, n);
                let k = rng.below(n);
                t[k..].copy_from_slice(&rng.bytes(n - k));
                t
            }
        };
        let out = tx.compress(&p, &mut wire).unwrap();
        assert!(out.len <= p.len(), "packet {i} expanded");
        let got = rx.decompress(out.flags, &wire[..out.len]).unwrap();
        assert!(got == &p[..], "packet {i} ({n} bytes, {:?})", out.flags);
        raw += n;
        sent += out.len;
        compressed += usize::from(out.flags.contains(MppcFlags::COMPRESSED));
    }
    // Both kinds of packet occur, and the whole still shrinks.
    assert!(compressed > 30_000 && compressed < 95_000, "{compressed}");
    assert!(sent < raw * 9 / 10, "{sent} of {raw}");
}

#[test]
fn text_compresses_and_uses_history() {
    let mut rng = Rng(7);
    let packets: Vec<Vec<u8>> = (0..200).map(|_| text(&mut rng, 1400)).collect();
    let (raw, sent) = round_trip(&packets);
    assert!(sent * 2 < raw, "text ratio {raw}/{sent}");
    // A repeated packet costs far less the second time: the history carries over.
    let mut tx = MppcCompressor::new();
    let mut wire = [0u8; 1500];
    let first = tx.compress(&packets[0], &mut wire).unwrap();
    let second = tx.compress(&packets[0], &mut wire).unwrap();
    assert!(
        second.len * 10 < first.len,
        "{} then {}",
        first.len,
        second.len
    );
    assert_eq!(second.flags, MppcFlags::COMPRESSED);
}

#[test]
fn random_data_goes_uncompressed_and_flushed() {
    let mut rng = Rng(99);
    let mut tx = MppcCompressor::new();
    let mut rx = MppcDecompressor::new();
    let mut wire = [0u8; 1500];
    let noise = rng.bytes(1500);
    let out = tx.compress(&noise, &mut wire).unwrap();
    assert_eq!(out.flags, MppcFlags::FLUSHED);
    assert_eq!(out.len, 1500);
    assert_eq!(&wire[..], &noise[..]);
    assert_eq!(rx.decompress(out.flags, &wire).unwrap(), &noise[..]);
    // The next packet starts a fresh history at the front.
    let t = text(&mut rng, 500);
    let out = tx.compress(&t, &mut wire).unwrap();
    assert_eq!(out.flags, MppcFlags::AT_FRONT | MppcFlags::COMPRESSED);
    assert_eq!(rx.decompress(out.flags, &wire[..out.len]).unwrap(), &t[..]);
}

#[test]
fn full_history_restarts_at_front() {
    let mut rng = Rng(3);
    let mut tx = MppcCompressor::new();
    let mut rx = MppcDecompressor::new();
    let mut wire = [0u8; 1500];
    let mut used = 0;
    for i in 0..20 {
        let t = text(&mut rng, 1000);
        let out = tx.compress(&t, &mut wire).unwrap();
        let at_front = used + t.len() > HISTORY_SIZE || i == 0;
        assert_eq!(
            out.flags.contains(MppcFlags::AT_FRONT),
            at_front,
            "packet {i}"
        );
        assert!(!out.flags.contains(MppcFlags::FLUSHED));
        used = if at_front { t.len() } else { used + t.len() };
        assert_eq!(rx.decompress(out.flags, &wire[..out.len]).unwrap(), &t[..]);
    }
}

#[test]
fn oversized_packet_goes_uncompressed() {
    let big = vec![b'a'; HISTORY_SIZE + 1];
    let mut tx = MppcCompressor::new();
    let mut wire = vec![0u8; big.len()];
    let out = tx.compress(&big, &mut wire).unwrap();
    assert_eq!(out.flags, MppcFlags::FLUSHED);
    assert_eq!(wire, big);
    assert_eq!(
        tx.compress(&big, &mut wire[..10]),
        Err(MppcError::BufferTooSmall {
            required: HISTORY_SIZE + 1
        })
    );
}

#[test]
fn loss_is_detected_and_flushed_packet_resyncs() {
    let mut rng = Rng(42);
    let mut tx = MppcCompressor::new();
    let mut rx = MppcDecompressor::new();
    let packets: Vec<Vec<u8>> = (0..8).map(|_| text(&mut rng, 600)).collect();
    let mut wire: Vec<(MppcFlags, Vec<u8>)> = Vec::new();
    let mut buf = [0u8; 1500];
    for p in &packets[..4] {
        let out = tx.compress(p, &mut buf).unwrap();
        wire.push((out.flags, buf[..out.len].to_vec()));
    }
    assert_eq!(
        rx.decompress(wire[0].0, &wire[0].1).unwrap(),
        &packets[0][..]
    );
    assert_eq!(
        rx.decompress(wire[1].0, &wire[1].1).unwrap(),
        &packets[1][..]
    );
    // Packet 2 is lost: packet 3 refers to history the receiver never saw.
    match rx.decompress(wire[3].0, &wire[3].1) {
        Ok(got) => assert_ne!(got, &packets[3][..]),
        Err(_) => assert!(rx.needs_reset()),
    }
    // The MPPE layer sees the coherency-count gap and asks for a reset.
    rx.require_flush();
    assert!(rx.needs_reset());
    let out = tx.compress(&packets[4], &mut buf).unwrap();
    assert_eq!(
        rx.decompress(out.flags, &buf[..out.len]),
        Err(MppcError::NeedsReset)
    );
    // CCP Reset-Request reaches the sender.
    tx.reset();
    for p in &packets[5..] {
        let out = tx.compress(p, &mut buf).unwrap();
        assert_eq!(
            out.flags.contains(MppcFlags::FLUSHED),
            std::ptr::eq(p, &packets[5])
        );
        assert_eq!(rx.decompress(out.flags, &buf[..out.len]).unwrap(), &p[..]);
    }
    assert!(!rx.needs_reset());
}

/// Packs (value, bit count) codes MSB first with zero padding.
fn pack(codes: &[(u32, u32)]) -> Vec<u8> {
    let mut bits = String::new();
    for &(v, n) in codes {
        for k in (0..n).rev() {
            bits.push(if v >> k & 1 == 1 { '1' } else { '0' });
        }
    }
    while bits.len() % 8 != 0 {
        bits.push('0');
    }
    bits.as_bytes()
        .chunks(8)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap())
        .collect()
}

const BC: MppcFlags = MppcFlags::AT_FRONT.union(MppcFlags::COMPRESSED);

fn expect_err(rx: &mut MppcDecompressor, flags: MppcFlags, input: &[u8]) -> MppcError {
    let e = rx.decompress(flags, input).unwrap_err();
    assert!(rx.needs_reset());
    e
}

#[test]
fn offset_before_front_is_rejected() {
    let mut rx = MppcDecompressor::new();
    // Copy offset 1 (1111 000001), length 3 (0) with nothing before it.
    let e = expect_err(&mut rx, BC, &pack(&[(0b1111_000001, 10), (0, 1)]));
    assert!(
        matches!(
            e,
            MppcError::BadOffset {
                offset: 1,
                position: 0,
                ..
            }
        ),
        "{e:?}"
    );
    // Offset 0 is never valid.
    let mut rx = MppcDecompressor::new();
    let e = expect_err(
        &mut rx,
        BC,
        &pack(&[(b'a'.into(), 8), (0b1111_000000, 10), (0, 1)]),
    );
    assert!(matches!(e, MppcError::BadOffset { offset: 0, .. }), "{e:?}");
    // The largest 13-bit offset (320 + 8191) reaches beyond any history.
    let mut rx = MppcDecompressor::new();
    let e = expect_err(
        &mut rx,
        BC,
        &pack(&[(b'a'.into(), 8), (0b110 << 13 | 0x1fff, 16), (0, 1)]),
    );
    assert!(
        matches!(e, MppcError::BadOffset { offset: 8511, .. }),
        "{e:?}"
    );
}

#[test]
fn copy_past_history_end_is_rejected() {
    let mut rx = MppcDecompressor::new();
    // Two literals, then offset 1 with length 8191 (11 ones, 0, 12 bits): ends at 8193.
    let len_code = (0b1111_1111_1110 << 12) | (8191 - 4096);
    let input = pack(&[
        (b'a'.into(), 8),
        (b'a'.into(), 8),
        (0b1111_000001, 10),
        (len_code, 24),
    ]);
    let e = expect_err(&mut rx, BC, &input);
    assert_eq!(
        e,
        MppcError::PastHistoryEnd {
            position: 2,
            len: 8191
        }
    );
    // One literal fewer fills the history exactly, which is fine.
    let input = pack(&[(b'a'.into(), 8), (0b1111_000001, 10), (len_code, 24)]);
    let got = rx.decompress(MppcFlags::FLUSHED | BC, &input).unwrap();
    assert_eq!(got.len(), HISTORY_SIZE);
    assert!(got.iter().all(|&b| b == b'a'));
    // The history is full: a further packet without B is rejected.
    let e = expect_err(&mut rx, MppcFlags::COMPRESSED, &pack(&[(b'b'.into(), 8)]));
    assert_eq!(
        e,
        MppcError::PastHistoryEnd {
            position: HISTORY_SIZE,
            len: 1
        }
    );
}

#[test]
fn output_longer_than_maximum_is_rejected() {
    let mut rx = MppcDecompressor::with_max_output(10);
    // Literal, then offset 1 length 16 (1110 0000): 17 bytes.
    let e = expect_err(
        &mut rx,
        BC,
        &pack(&[(b'a'.into(), 8), (0b1111_000001, 10), (0b1110_0000, 8)]),
    );
    assert_eq!(e, MppcError::OutputTooLong { max: 10 });
    let e = expect_err(&mut rx, MppcFlags::FLUSHED, &[0u8; 11]);
    assert_eq!(e, MppcError::OutputTooLong { max: 10 });
}

#[test]
fn truncated_codes_are_rejected() {
    for input in [
        &[0x80][..],                // `10` + only 6 bits
        &[0xff],                    // `1111` + only 4 offset bits
        &[0xa0, 0x40],              // literal 0xc0, then 7 bits that are not zero padding
        &[0x61, 0xf0, 0x40 | 0x3f], // copy whose length code is cut
    ] {
        let mut rx = MppcDecompressor::new();
        let e = expect_err(&mut rx, BC, input);
        assert!(
            matches!(e, MppcError::Truncated { .. }),
            "{input:02x?}: {e:?}"
        );
    }
}

#[test]
fn undefined_length_code_is_rejected() {
    let mut rx = MppcDecompressor::new();
    let input = pack(&[(b'a'.into(), 8), (0b1111_000001, 10), (0xfff, 12), (0, 12)]);
    let e = expect_err(&mut rx, BC, &input);
    assert!(matches!(e, MppcError::BadLengthCode { .. }), "{e:?}");
}

#[test]
fn errors_need_a_flushed_packet() {
    let mut rx = MppcDecompressor::new();
    expect_err(&mut rx, BC, &[0xff]);
    let good = pack(&[(b'o'.into(), 8), (b'k'.into(), 8)]);
    assert_eq!(rx.decompress(BC, &good), Err(MppcError::NeedsReset));
    assert_eq!(
        rx.decompress(MppcFlags::COMPRESSED, &good),
        Err(MppcError::NeedsReset)
    );
    assert_eq!(
        rx.decompress(MppcFlags::FLUSHED | BC, &good).unwrap(),
        b"ok"
    );
    assert!(!rx.needs_reset());
}

#[test]
fn uncompressed_packet_stays_out_of_history() {
    let mut rx = MppcDecompressor::new();
    assert_eq!(rx.decompress(BC, &pack(&[(b'x'.into(), 8)])).unwrap(), b"x");
    assert_eq!(rx.decompress(MppcFlags::empty(), b"raw").unwrap(), b"raw");
    // Offset 1 still refers to `x`, not to the raw packet.
    let got = rx
        .decompress(MppcFlags::COMPRESSED, &pack(&[(0b1111_000001, 10), (0, 1)]))
        .unwrap();
    assert_eq!(got, b"xxx");
}

#[test]
fn header_bits_round_trip() {
    let f = MppcFlags::FLUSHED | MppcFlags::COMPRESSED;
    assert_eq!(f.to_header(), 0xa000);
    // Bit D (encrypted) and the coherency count are MPPE's, not ours.
    assert_eq!(MppcFlags::from_header(0xb123), f);
}

fn flags_strategy() -> impl Strategy<Value = MppcFlags> {
    any::<u8>().prop_map(MppcFlags::from_bits_truncate)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decompressor_never_panics(
        max in 0usize..10_000,
        packets in prop::collection::vec((flags_strategy(), prop::collection::vec(any::<u8>(), 0..600)), 1..8),
    ) {
        let mut rx = MppcDecompressor::with_max_output(max);
        for (flags, input) in &packets {
            if let Ok(out) = rx.decompress(*flags, input) {
                prop_assert!(out.len() <= max.min(HISTORY_SIZE));
            }
        }
    }

}

proptest! {
    // Each case compresses up to 24 KB in a debug build: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn compress_then_decompress_is_identity(
        packets in prop::collection::vec(
            prop::collection::vec(prop::sample::select(b"abcdefgh\x00\xff".to_vec()), 0..2000),
            1..12,
        ),
        reset_at in 0usize..12,
        depth in 1u16..40,
    ) {
        let mut tx = MppcCompressor::with_chain_depth(depth);
        let mut rx = MppcDecompressor::new();
        let mut wire = vec![0u8; 2000];
        for (i, p) in packets.iter().enumerate() {
            if i == reset_at {
                tx.reset();
            }
            let out = tx.compress(p, &mut wire).unwrap();
            prop_assert!(out.len <= p.len());
            prop_assert_eq!(rx.decompress(out.flags, &wire[..out.len]).unwrap(), &p[..]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn corrupted_streams_never_panic(
        seed in any::<u64>(),
        flips in prop::collection::vec((any::<u16>(), any::<u8>()), 1..4),
        cut in any::<u16>(),
        max in 1usize..9000,
    ) {
        let mut rng = Rng(seed | 1);
        let mut tx = MppcCompressor::new();
        let mut rx = MppcDecompressor::with_max_output(max);
        let mut wire = [0u8; 1500];
        for _ in 0..4 {
            let n = 1 + rng.below(1400);
            let out = tx.compress(&text(&mut rng, n), &mut wire).unwrap();
            let mut bytes = wire[..out.len].to_vec();
            for &(at, bit) in &flips {
                if !bytes.is_empty() {
                    let k = usize::from(at) % bytes.len();
                    bytes[k] ^= 1 << (bit % 8);
                }
            }
            bytes.truncate(usize::from(cut).max(bytes.len() / 2));
            if let Ok(got) = rx.decompress(out.flags, &bytes) {
                prop_assert!(got.len() <= max);
            }
        }
    }
}
