//! Enhanced GRE against spoofed packets (#16): one packet with a sequence
//! number far ahead used to move the receive window there for good (every
//! genuine packet after it "stale": the session blackholed while it stayed
//! up). Now a far jump needs consecutive evidence with no genuine packet in
//! between, as after a real outage; and acknowledgments of packets never
//! sent are ignored.

use pptp_proto::gre::{Decapsulated, DropReason, GreChannel, GreConfig};
use pptp_proto::time::{Duration, Instant};

const FRAME: [u8; 8] = [0xff, 0x03, 0x00, 0x21, 0x45, 0, 0, 4];

/// A sender for our Call ID 7 whose first sequence number is `seq`.
fn sender(seq: u32) -> GreChannel {
    let mut c = GreConfig::new(9, 7);
    c.initial_sequence = seq;
    c.peer_window = u16::MAX;
    GreChannel::new(c)
}

fn packet(tx: &mut GreChannel, now: Instant) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    let n = tx.encapsulate(now, &FRAME, &mut out).unwrap();
    out.truncate(n);
    out
}

fn delivered(rx: &mut GreChannel, now: Instant, d: &[u8]) -> bool {
    matches!(rx.decapsulate(now, d), Ok(Decapsulated::Frame(_)))
}

#[test]
fn one_far_ahead_packet_does_not_blackhole_the_channel() {
    let mut rx = GreChannel::new(GreConfig::new(7, 9));
    let mut genuine = sender(0);
    let mut now = Instant::ZERO;
    for _ in 0..10 {
        assert!(delivered(&mut rx, now, &packet(&mut genuine, now)));
    }
    for jump in [1 << 30, 5000, 1025] {
        let mut forger = sender(10 + jump);
        let forged = packet(&mut forger, now);
        assert_eq!(
            rx.decapsulate(now, &forged),
            Ok(Decapsulated::Dropped(DropReason::FarAhead)),
            "jump {jump}"
        );
    }
    // Genuine traffic, ten minutes later too, all delivered.
    for k in 0..200 {
        now += Duration::from_secs(3);
        assert!(
            delivered(&mut rx, now, &packet(&mut genuine, now)),
            "packet {k}"
        );
    }
    assert_eq!(rx.stats().out_of_window, 3);
}

#[test]
fn interleaved_forgeries_never_move_the_window() {
    // Even a run of consecutive forged packets does not move the window
    // while genuine packets keep arriving in it.
    let mut rx = GreChannel::new(GreConfig::new(7, 9));
    let mut genuine = sender(0);
    let mut forger = sender(1 << 20);
    let now = Instant::ZERO;
    for k in 0..500 {
        assert!(
            delivered(&mut rx, now, &packet(&mut genuine, now)),
            "genuine {k}"
        );
        let forged = packet(&mut forger, now);
        assert!(!delivered(&mut rx, now, &forged), "forged {k} delivered");
    }
}

#[test]
fn a_real_outage_recovers_after_consecutive_evidence() {
    // The peer's packets were lost for a long while (5 000 of them): its
    // sequence really moved on, and after `jump_evidence` consecutive
    // packets the window follows.
    let mut rx = GreChannel::new(GreConfig::new(7, 9));
    let mut peer = sender(0);
    let now = Instant::ZERO;
    for _ in 0..5 {
        assert!(delivered(&mut rx, now, &packet(&mut peer, now)));
    }
    for _ in 0..5000 {
        let _ = packet(&mut peer, now); // lost
    }
    let evidence = GreConfig::new(7, 9).jump_evidence;
    let mut first = None;
    for k in 0..20 {
        if delivered(&mut rx, now, &packet(&mut peer, now)) && first.is_none() {
            first = Some(k);
        }
    }
    assert_eq!(first, Some(evidence - 1));
    assert!(rx.stats().lost >= 5000);
}

#[test]
fn acks_for_packets_never_sent_are_ignored() {
    let mut rx = GreChannel::new(GreConfig::new(7, 9));
    let now = Instant::ZERO;
    // We send two packets (sequence 0 and 1) to the peer.
    let mut out = vec![0u8; 64];
    for _ in 0..2 {
        rx.encapsulate(now, &FRAME, &mut out).unwrap();
    }
    // A forged ack-only packet for our Call ID acknowledging 1 000, which
    // we never sent: K and A flags, version 1, no payload.
    let mut forged = vec![0x20, 0x81, 0x88, 0x0b, 0, 0, 0, 7];
    forged.extend_from_slice(&1000u32.to_be_bytes());
    let before = *rx.stats();
    assert_eq!(rx.decapsulate(now, &forged), Ok(Decapsulated::AckOnly));
    let after = *rx.stats();
    assert_eq!(after.acked, before.acked, "acked packets never sent");
    assert_eq!(after.bad_acks, before.bad_acks + 1);
    // A genuine ack for 1 is taken.
    let mut ack = vec![0x20, 0x81, 0x88, 0x0b, 0, 0, 0, 7];
    ack.extend_from_slice(&1u32.to_be_bytes());
    let _ = rx.decapsulate(now, &ack);
    assert_eq!(rx.stats().acked, before.acked + 2);
}
