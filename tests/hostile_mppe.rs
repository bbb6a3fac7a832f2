//! MPPE against an attacker on the path (#16): a Reset-Request sent in
//! clear must not make the sender reuse keystream; replayed stateless
//! packets are refused; forged far-ahead counts cost a bounded number of
//! rekeys and never move the receiver off the genuine sequence. (The MPPC
//! bomb bound is a unit test in `src/ppp/compressed.rs`.)

use pptp_proto::crypto::MppeKeys;
use pptp_proto::mppe::{
    Decrypted, KeyLength, Mppe, MppeError, MppeOptions, CATCH_UP_BUDGET, CATCH_UP_REFILL,
};

/// The two ends' start keys: the sender's, then the receiver's.
fn keys() -> (MppeKeys, MppeKeys) {
    let a = MppeKeys {
        send: [7; 16],
        recv: [9; 16],
    };
    let b = MppeKeys {
        send: [9; 16],
        recv: [7; 16],
    };
    (a, b)
}

fn pair(options: MppeOptions) -> (Mppe, Mppe) {
    let (a, b) = keys();
    (Mppe::new(options, &a), Mppe::new(options, &b))
}

/// An IPv4-in-PPP plaintext, `i`-dependent.
fn message(i: u32) -> Vec<u8> {
    let mut m = vec![0x00, 0x21, 0x45, 0x00];
    m.extend((0..60).map(|k| (i as u8).wrapping_mul(13).wrapping_add(k)));
    m
}

fn seal(tx: &mut Mppe, msg: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; msg.len() + 2];
    buf[2..].copy_from_slice(msg);
    let n = tx.encrypt(&mut buf, msg.len()).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn a_reset_request_never_makes_the_sender_reuse_keystream() {
    // Stateful, the defaults. Packet 0 is the first under its key; after a
    // Reset-Request (anyone can send one in clear) the next packet must not
    // run under the same keystream: C0 ^ C1 == P0 ^ P1 would give the
    // plaintexts away.
    let (mut tx, mut rx) = pair(MppeOptions::new(KeyLength::Bits128, false));
    let mut keystreams = Vec::new();
    for round in 0..5u32 {
        let p = message(round);
        let c = seal(&mut tx, &p);
        let ks: Vec<u8> = c[2..].iter().zip(&p).map(|(c, p)| c ^ p).collect();
        keystreams.push(ks);
        let mut d = c.clone();
        assert!(matches!(
            rx.decrypt(&mut d),
            Ok(Decrypted::Plaintext { .. })
        ));
        tx.reset_requested();
    }
    for (i, a) in keystreams.iter().enumerate() {
        for b in &keystreams[i + 1..] {
            assert_ne!(a, b, "keystream reused after a Reset-Request");
        }
    }
}

#[test]
fn a_receiver_follows_a_sender_that_restarts_rc4() {
    // A peer that restarts RC4 on a Reset-Request (RFC 3078's reading)
    // still interoperates: the receiver finds out from the FLUSHED packet
    // and follows, and sends that way too from then on.
    let restart = MppeOptions::new(KeyLength::Bits128, false).with_reset_rekeys(false);
    let ours = MppeOptions::new(KeyLength::Bits128, false);
    let (a, b) = keys();
    let (mut peer, mut us) = (Mppe::new(restart, &a), Mppe::new(ours, &b));
    for i in 0..20 {
        if i % 5 == 4 {
            peer.reset_requested();
        }
        let p = message(i);
        let mut c = seal(&mut peer, &p);
        match us.decrypt(&mut c) {
            Ok(Decrypted::Plaintext { payload, .. }) => assert_eq!(payload, &p[..], "packet {i}"),
            other => panic!("packet {i}: {other:?}"),
        }
    }
    assert!(!us.options().reset_rekeys, "did not follow the peer");
}

#[test]
fn a_replayed_stateless_packet_is_refused() {
    let (mut tx, mut rx) = pair(MppeOptions::new(KeyLength::Bits128, true));
    let c = seal(&mut tx, &message(1));
    let mut first = c.clone();
    assert!(matches!(
        rx.decrypt(&mut first),
        Ok(Decrypted::Plaintext { .. })
    ));
    for _ in 0..4 {
        let mut again = c.clone();
        assert_eq!(
            rx.decrypt(&mut again),
            Err(MppeError::Replayed { count: 0 })
        );
    }
    let mut next = seal(&mut tx, &message(2));
    assert!(matches!(
        rx.decrypt(&mut next),
        Ok(Decrypted::Plaintext { .. })
    ));
}

#[test]
fn forged_far_ahead_counts_cost_a_bounded_number_of_rekeys() {
    let (mut tx, mut rx) = pair(MppeOptions::new(KeyLength::Bits128, true));
    let mut genuine = seal(&mut tx, &message(0));
    assert!(matches!(
        rx.decrypt(&mut genuine),
        Ok(Decrypted::Plaintext { .. })
    ));
    // 100 forged packets each 4 000 counts ahead: before, each cost 4 000
    // rekeys (and the first moved the key chain for good).
    let (mut spent, mut refused) = (0u32, 0u32);
    for k in 0..100u32 {
        let count = 4000u16;
        let mut forged = vec![0x90 | (count >> 8) as u8, count as u8];
        forged.extend((0..40).map(|j| (k * 31 + j) as u8));
        let before = rx.catch_up_budget();
        match rx.decrypt(&mut forged) {
            Err(MppeError::RekeyBudget { .. }) => refused += 1,
            Err(MppeError::Implausible { .. }) => spent += before - rx.catch_up_budget(),
            other => panic!("forged packet {k}: {other:?}"),
        }
    }
    assert!(spent <= CATCH_UP_BUDGET, "{spent} rekeys spent");
    assert!(refused >= 97, "{refused} refused");
    // Genuine packets are untouched, and each refills the budget a little.
    let drained = rx.catch_up_budget();
    for i in 1..=10 {
        let mut c = seal(&mut tx, &message(i));
        match rx.decrypt(&mut c) {
            Ok(Decrypted::Plaintext { payload, .. }) => assert_eq!(payload, &message(i)[..]),
            other => panic!("genuine packet {i}: {other:?}"),
        }
    }
    assert_eq!(
        rx.catch_up_budget(),
        (drained + 10 * CATCH_UP_REFILL).min(CATCH_UP_BUDGET)
    );
}
