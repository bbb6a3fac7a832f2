//! MPPE cipher state: real Windows traffic, stateless and stateful
//! recovery, coherency-count wrap, bounds and malformed packets.

#[path = "vectors/reader.rs"]
mod reader;

use pptp_proto::crypto::{mppe_keys_mschapv2, nt_password_hash, MppeKeys, Password, Role};
use pptp_proto::mppe::{Decrypted, KeyLength, Mppe, MppeError, MppeOptions, MAX_CATCH_UP};
use proptest::prelude::*;
use reader::record;

/// The keys of both ends of the pptpcrack capture (MS-CHAPv2, 128-bit).
fn capture_keys() -> (MppeKeys, MppeKeys) {
    let r = record("pptpcrack_mppe.txt", "pptpcrack-test-pcap");
    let pw = Password::new(r.text("password")).expect("short");
    let value = r.arr::<49>("response_value");
    let nt: [u8; 24] = value[24..48].try_into().expect("24");
    let hash = nt_password_hash(&pw);
    (
        mppe_keys_mschapv2(&hash, &nt, Role::Peer),
        mppe_keys_mschapv2(&hash, &nt, Role::Authenticator),
    )
}

fn plaintext(d: Decrypted<'_>) -> Vec<u8> {
    match d {
        Decrypted::Plaintext { payload, .. } => payload.to_vec(),
        other => panic!("expected plaintext, got {other:?}"),
    }
}

#[test]
fn capture_frames_decrypt() {
    let r = record("pptpcrack_mppe.txt", "pptpcrack-test-pcap");
    let (client_keys, server_keys) = capture_keys();
    // CCP option 18 = 0x01000040: stateless, 128-bit.
    let options = MppeOptions::new(KeyLength::Bits128, true);

    let mut frame = r.hex("frame315_client_to_server_mppe");
    // Header 0x9000: A (flushed) + D (encrypted), coherency count 0.
    assert_eq!(&frame[..2], &[0x90, 0x00]);
    let mut server = Mppe::new(options, &server_keys);
    let got = plaintext(server.decrypt(&mut frame).expect("decrypts"));
    assert_eq!(got, r.hex("frame315_plaintext"));
    assert_eq!(server.receive_coherency_count(), 0);

    let mut frame = r.hex("frame1463_server_to_client_mppe");
    assert_eq!(&frame[..2], &[0x90, 0x00]);
    let mut client = Mppe::new(options, &client_keys);
    let got = plaintext(client.decrypt(&mut frame).expect("decrypts"));
    assert_eq!(got, r.hex("frame1463_plaintext"));
}

#[test]
fn capture_frame_encrypts_identically() {
    let r = record("pptpcrack_mppe.txt", "pptpcrack-test-pcap");
    let (client_keys, _) = capture_keys();
    let mut client = Mppe::new(MppeOptions::new(KeyLength::Bits128, true), &client_keys);
    let plain = r.hex("frame315_plaintext");
    let mut buf = vec![0u8; plain.len() + 10];
    buf[2..2 + plain.len()].copy_from_slice(&plain);
    let n = client.encrypt(&mut buf, plain.len()).expect("fits");
    assert_eq!(n, plain.len() + 2);
    assert_eq!(&buf[..n], &r.hex("frame315_client_to_server_mppe")[..]);
    assert_eq!(client.send_coherency_count(), 0);
}

/// A small deterministic PRNG (xorshift64*), so losses are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn pair(length: KeyLength, stateless: bool) -> (Mppe, Mppe) {
    let (client, server) = capture_keys();
    let options = MppeOptions::new(length, stateless);
    (Mppe::new(options, &client), Mppe::new(options, &server))
}

/// Packet `i`: PPP protocol 0x0021 then `i`-dependent data of varying length.
fn message(i: usize) -> Vec<u8> {
    let len = 1 + (i * 37) % 200;
    let mut m = vec![0x00, 0x21];
    m.extend((0..len).map(|j| (i as u8).wrapping_mul(31).wrapping_add(j as u8)));
    m
}

fn seal(sender: &mut Mppe, msg: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; msg.len() + 2];
    buf[2..].copy_from_slice(msg);
    let n = sender.encrypt(&mut buf, msg.len()).expect("fits");
    buf.truncate(n);
    buf
}

fn count_of(packet: &[u8]) -> u16 {
    u16::from_be_bytes([packet[0], packet[1]]) & 0x0FFF
}

#[test]
fn stateful_losses_recover_through_reset_request() {
    // Linux's reset behaviour (a reset rekeys): a lost FLUSHED answer to a
    // Reset-Request cannot be detected, so this link never drops those.
    for length in [KeyLength::Bits40, KeyLength::Bits56, KeyLength::Bits128] {
        let (client_keys, server_keys) = capture_keys();
        let options = MppeOptions::new(length, false).with_reset_rekeys(true);
        let (mut client, mut server) = (
            Mppe::new(options, &client_keys),
            Mppe::new(options, &server_keys),
        );
        let mut rng = Rng(0x5EED_0000_0000_0001 ^ length.octets() as u64);
        // A Reset-Request in flight: delivered to the sender after a few packets.
        let mut reset_in: Option<u64> = None;
        let (mut delivered, mut decrypted, mut resets, mut recovered) = (0, 0, 0, 0);
        let mut waiting_for_flush = false;
        let mut reset_pending = false;
        for i in 0..10_000 {
            if let Some(left) = reset_in {
                if left == 0 {
                    client.reset_requested();
                    reset_pending = true;
                    reset_in = None;
                } else {
                    reset_in = Some(left - 1);
                }
            }
            let msg = message(i);
            let mut packet = seal(&mut client, &msg);
            let count = count_of(&packet);
            let flushed = packet[0] & 0x80 != 0;
            // RFC 3078 §8.2: flushed on 0xFF packets and after a Reset-Request.
            assert_eq!(
                flushed,
                count & 0xFF == 0xFF || reset_pending,
                "count {count}"
            );
            reset_pending = false;
            // Loss of a FLUSHED packet that answers a Reset-Request cannot be
            // detected (the receiver would rekey one time too few), so this
            // lossy link never drops those; 0xFF packets may be lost.
            let reset_flush = flushed && count & 0xFF != 0xFF;
            let burst = rng.below(1000) == 0;
            if !reset_flush && (rng.below(100) < 3 || burst) {
                continue;
            }
            delivered += 1;
            match server.decrypt(&mut packet).expect("well-formed") {
                Decrypted::Plaintext {
                    payload,
                    flushed: f,
                    ..
                } => {
                    assert_eq!(payload, &msg[..], "packet {i} count {count}");
                    assert_eq!(f, flushed);
                    decrypted += 1;
                    if waiting_for_flush {
                        assert!(flushed, "resynchronized only by a FLUSHED packet");
                        recovered += 1;
                        waiting_for_flush = false;
                    }
                }
                Decrypted::SendResetRequest => {
                    assert!(!waiting_for_flush, "one Reset-Request per loss");
                    assert!(server.is_discarding());
                    resets += 1;
                    waiting_for_flush = true;
                    reset_in = Some(rng.below(5));
                }
                Decrypted::Discarded => {
                    assert!(waiting_for_flush);
                    assert!(!flushed, "a FLUSHED packet ends the discard state");
                }
            }
        }
        assert!(resets > 100, "{resets} losses seen");
        assert_eq!(recovered, resets - u64::from(waiting_for_flush));
        assert!(decrypted > delivered * 9 / 10, "{decrypted} of {delivered}");
        // After the last loss, everything decrypts again.
        for i in 10_000..10_300 {
            let msg = message(i);
            let mut packet = seal(&mut client, &msg);
            if server.is_discarding() && packet[0] & 0x80 == 0 {
                let outcome = server.decrypt(&mut packet);
                assert!(matches!(
                    outcome,
                    Ok(Decrypted::Discarded | Decrypted::SendResetRequest)
                ));
                continue;
            }
            assert_eq!(plaintext(server.decrypt(&mut packet).expect("ok")), msg);
        }
    }
}

#[test]
fn stateful_recovers_even_when_flushed_packets_are_lost() {
    // Either reset behaviour (the default, a new key per Reset-Request; or
    // RC4 restarted with the current key): any packet may be lost, FLUSHED
    // answers included, and nothing ever decrypts to garbage (with a new
    // key, the receiver catches up the answers it lost).
    for (length, rekeys) in [
        (KeyLength::Bits40, true),
        (KeyLength::Bits128, true),
        (KeyLength::Bits128, false),
    ] {
        let (client_keys, server_keys) = capture_keys();
        let options = MppeOptions::new(length, false).with_reset_rekeys(rekeys);
        let (mut client, mut server) = (
            Mppe::new(options, &client_keys),
            Mppe::new(options, &server_keys),
        );
        let mut rng = Rng(0xF1_05ED ^ length.octets() as u64);
        let (mut decrypted, mut resets) = (0u32, 0u32);
        let mut reset_in: Option<u64> = None;
        for i in 0..10_000 {
            if let Some(left) = reset_in {
                if left == 0 {
                    client.reset_requested();
                    reset_in = None;
                } else {
                    reset_in = Some(left - 1);
                }
            }
            let msg = message(i);
            let mut packet = seal(&mut client, &msg);
            if rng.below(100) < 5 {
                continue;
            }
            match server.decrypt(&mut packet).expect("well-formed") {
                Decrypted::Plaintext { payload, .. } => {
                    assert_eq!(payload, &msg[..], "packet {i}: garbage after a loss");
                    decrypted += 1;
                }
                Decrypted::SendResetRequest => {
                    resets += 1;
                    reset_in = Some(rng.below(5));
                }
                Decrypted::Discarded => {}
            }
        }
        println!("{length:?}: 5% loss (FLUSHED packets too): {decrypted} decrypted, {resets} Reset-Requests");
        assert!(resets > 300, "{resets}");
        // About 5% lost, and a few packets discarded after each loss.
        assert!(decrypted > 7_500, "{decrypted}");
    }
}

#[test]
fn stateful_reset_request_sets_flushed_once() {
    let (mut client, mut server) = pair(KeyLength::Bits128, false);
    let p0 = seal(&mut client, &message(0));
    assert_eq!(p0[0], 0x10, "stateful packets are not flushed by default");
    client.reset_requested();
    client.reset_requested();
    let p1 = seal(&mut client, &message(1));
    let p2 = seal(&mut client, &message(2));
    assert_eq!(p1[0] & 0xF0, 0x90);
    assert_eq!(p2[0] & 0xF0, 0x10);
    for (mut p, i) in [(p0, 0), (p1, 1), (p2, 2)] {
        assert_eq!(plaintext(server.decrypt(&mut p).expect("ok")), message(i));
    }
}

#[test]
fn stateful_flag_packets_rekey_and_need_flushed() {
    let (mut client, mut server) = pair(KeyLength::Bits40, false);
    for i in 0..600 {
        let mut p = seal(&mut client, &message(i));
        let count = count_of(&p);
        assert_eq!(p[0] & 0x80 != 0, count & 0xFF == 0xFF, "count {count}");
        assert_eq!(plaintext(server.decrypt(&mut p).expect("ok")), message(i));
    }
    // A 0xFF packet without FLUSHED (as FreeBSD ng_mppc sends them) is
    // still rekeyed for, so the stream stays in step.
    let (mut client, mut server) = pair(KeyLength::Bits40, false);
    for i in 0..600 {
        let mut p = seal(&mut client, &message(i));
        p[0] &= 0x7F;
        assert_eq!(plaintext(server.decrypt(&mut p).expect("ok")), message(i));
    }
}

#[test]
fn stateless_losses_never_desynchronise() {
    for length in [KeyLength::Bits40, KeyLength::Bits56, KeyLength::Bits128] {
        let (mut client, mut server) = pair(length, true);
        let mut rng = Rng(0xC0FFEE ^ length.octets() as u64);
        let mut i = 0;
        let mut delivered = 0;
        let mut bursts = 0;
        while i < 8_000 {
            // Sometimes drop a long burst, up to the full catch-up range.
            if rng.below(300) == 0 {
                bursts += 1;
                let burst = 1 + rng.below(u64::from(MAX_CATCH_UP) - 1) as usize;
                for _ in 0..burst {
                    seal(&mut client, &message(i));
                    i += 1;
                }
            }
            let msg = message(i);
            let mut packet = seal(&mut client, &msg);
            assert_eq!(packet[0] & 0xF0, 0x90, "stateless packets are flushed");
            i += 1;
            if rng.below(10) < 2 {
                continue;
            }
            assert_eq!(plaintext(server.decrypt(&mut packet).expect("ok")), msg);
            delivered += 1;
        }
        assert!(bursts > 3, "{bursts} bursts");
        assert!(delivered > 1_000, "{delivered} delivered");
    }
}

#[test]
fn stateless_catch_up_of_4095_and_duplicates() {
    let (mut client, mut server) = pair(KeyLength::Bits128, true);
    let mut first = seal(&mut client, &message(0));
    let copy = first.clone();
    assert_eq!(
        plaintext(server.decrypt(&mut first).expect("ok")),
        message(0)
    );
    // A duplicate of the last packet is a replay: refused (before, it
    // decrypted again with the same key, and was delivered twice).
    let mut dup = copy.clone();
    assert_eq!(
        server.decrypt(&mut dup),
        Err(MppeError::Replayed { count: 0 })
    );
    for i in 1..4095 {
        seal(&mut client, &message(i));
    }
    // 4095 counts ahead: the largest catch-up, count 4095.
    let mut far = seal(&mut client, &message(4095));
    assert_eq!(count_of(&far), 4095);
    assert_eq!(
        plaintext(server.decrypt(&mut far).expect("ok")),
        message(4095)
    );
    // Wrapped to count 0 again, in step.
    let mut next = seal(&mut client, &message(4096));
    assert_eq!(count_of(&next), 0);
    assert_eq!(
        plaintext(server.decrypt(&mut next).expect("ok")),
        message(4096)
    );
}

#[test]
fn coherency_count_wraps_past_4095() {
    for stateless in [true, false] {
        let (mut client, mut server) = pair(KeyLength::Bits56, stateless);
        let mut last = None;
        for i in 0..(4096 + 300) {
            let mut p = seal(&mut client, &message(i));
            assert_eq!(usize::from(count_of(&p)), i % 4096);
            assert_eq!(plaintext(server.decrypt(&mut p).expect("ok")), message(i));
            last = Some(count_of(&p));
        }
        assert_eq!(last, Some(299));
        assert_eq!(client.send_coherency_count(), 299);
        assert_eq!(server.receive_coherency_count(), 299);
    }
}

#[test]
fn stateless_catch_up_bound() {
    let (client_keys, server_keys) = capture_keys();
    let options = MppeOptions::new(KeyLength::Bits128, true).with_max_catch_up(100);
    let mut client = Mppe::new(options, &client_keys);
    let mut server = Mppe::new(options, &server_keys);
    let mut p = seal(&mut client, &message(0));
    assert_eq!(plaintext(server.decrypt(&mut p).expect("ok")), message(0));
    // 100 ahead is allowed.
    for i in 1..100 {
        seal(&mut client, &message(i));
    }
    let p100 = seal(&mut client, &message(100));
    let mut p = p100.clone();
    assert_eq!(plaintext(server.decrypt(&mut p).expect("ok")), message(100));
    // 101 ahead is not, and the state is unchanged.
    for i in 101..201 {
        seal(&mut client, &message(i));
    }
    let mut p = seal(&mut client, &message(201));
    let before = p.clone();
    assert_eq!(
        server.decrypt(&mut p),
        Err(MppeError::CountOutOfRange {
            count: 201,
            distance: 101,
            max: 100
        })
    );
    assert_eq!(p, before, "rejected packets are left alone");
    assert_eq!(server.receive_coherency_count(), 100);
    // A late packet (behind) is far "ahead" mod 4096 and refused too.
    let mut late = before.clone();
    late[0] = 0x90;
    late[1] = 50;
    assert_eq!(
        server.decrypt(&mut late),
        Err(MppeError::CountOutOfRange {
            count: 50,
            distance: 4046,
            max: 100
        })
    );
    // The key state is untouched: packet 100 again is seen as the replay
    // it is, and packet 101 still decrypts.
    let mut again = p100;
    assert_eq!(
        server.decrypt(&mut again),
        Err(MppeError::Replayed { count: 100 })
    );
    let mut client = Mppe::new(options, &capture_keys().0);
    let mut p101 = Vec::new();
    for i in 0..=101 {
        p101 = seal(&mut client, &message(i));
    }
    assert_eq!(
        plaintext(server.decrypt(&mut p101).expect("ok")),
        message(101)
    );
}

#[test]
fn malformed_packets_are_rejected() {
    let (mut client, mut server) = pair(KeyLength::Bits128, true);
    for len in 0..=2 {
        let mut short = vec![0x90; len];
        assert_eq!(server.decrypt(&mut short), Err(MppeError::TooShort { len }));
    }
    // D bit clear: not encrypted.
    let mut plain = vec![0x80, 0x00, 0x00, 0x21, 0x45];
    assert_eq!(server.decrypt(&mut plain), Err(MppeError::NotEncrypted));
    // Stateless without FLUSHED.
    let mut p = seal(&mut client, &message(0));
    let copy = p.clone();
    p[0] &= 0x7F;
    assert_eq!(
        server.decrypt(&mut p),
        Err(MppeError::FlushedBitMissing { count: 0 })
    );
    // None of that changed the state.
    let mut p = copy;
    assert_eq!(plaintext(server.decrypt(&mut p).expect("ok")), message(0));
    // Buffer too small to encrypt.
    let mut small = [0u8; 3];
    assert_eq!(
        client.encrypt(&mut small, 2),
        Err(MppeError::BufferTooSmall { required: 4 })
    );
    assert_eq!(
        client.encrypt(&mut small, 0),
        Err(MppeError::TooShort { len: 0 })
    );
    assert_eq!(client.send_coherency_count(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decrypt_arbitrary_bytes_never_panics(
        stateless in any::<bool>(),
        packets in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..8),
    ) {
        // A small catch-up bound keeps the rekey work per case low.
        let (_, server_keys) = capture_keys();
        let options = MppeOptions::new(KeyLength::Bits40, stateless).with_max_catch_up(64);
        let mut server = Mppe::new(options, &server_keys);
        for mut p in packets {
            let _ = server.decrypt(&mut p);
        }
    }

    #[test]
    fn round_trip_any_payload(msg in proptest::collection::vec(any::<u8>(), 8..300), stateless in any::<bool>()) {
        // Arbitrary bytes are no PPP frame: the protocol check is off.
        let (client_keys, server_keys) = capture_keys();
        let options = MppeOptions::new(KeyLength::Bits128, stateless).with_verify_protocol(false);
        let (mut client, mut server) = (Mppe::new(options, &client_keys), Mppe::new(options, &server_keys));
        let mut p = seal(&mut client, &msg);
        prop_assert_ne!(&p[2..], &msg[..]);
        prop_assert_eq!(plaintext(server.decrypt(&mut p).expect("ok")), msg);
    }
}
