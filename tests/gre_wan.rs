//! GRE under jitter (issue #19), on a virtual clock (exact and repeatable,
//! not timed): the reorder buffer must cost no more than the jitter. The
//! goodput of whole sessions on WAN paths, with each real peer's style, is
//! `tests/wan_sessions.rs` (simulator: `tests/harness/wan.rs`).

use pptp_proto::gre::{Decapsulated, GreChannel, GreConfig};
use pptp_proto::time::{Duration, Instant};

#[path = "harness/mod.rs"]
mod harness;
use harness::Rng;

/// Uniform in `0..n` (0 when `n` is 0).
fn below(rng: &mut Rng, n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        rng.next() % n
    }
}

/// Jitter reorders packets; the reorder buffer must then cost no more than
/// the jitter itself: a packet waits only for its predecessors, never for
/// a fixed timeout (the 100 ms `reorder_timeout` is for losses). 1 000
/// packets, one every millisecond, each delayed 25 ms plus up to `jitter`.
/// The buffer holds `reorder_packets` (default 16): jitter spanning more
/// packets than that needs a deeper buffer, or the overtaken ones are
/// counted lost (the 50 ms row runs with 64).
#[test]
fn jitter_costs_no_more_than_the_jitter() {
    for (jitter_ms, depth) in [(0u64, 16), (5, 16), (15, 16), (50, 64)] {
        let mut a = GreChannel::new(GreConfig::new(1, 2));
        let mut cb = GreConfig::new(2, 1);
        cb.reorder_packets = depth;
        let mut b = GreChannel::new(cb);
        let mut rng = Rng(jitter_ms + 7);
        let mut in_flight: Vec<(Instant, Vec<u8>)> = Vec::new();
        let mut buf = [0u8; 64];
        let mut delivered: Vec<(u32, Instant)> = Vec::new();
        let mut arrived = std::collections::HashMap::new();
        let mut now = Instant::ZERO;
        let mut next_seq = 0u32;
        let record = |f: &[u8], now: Instant, out: &mut Vec<(u32, Instant)>| {
            out.push((u32::from_be_bytes([f[4], f[5], f[6], f[7]]), now));
        };
        while delivered.len() < 1000 {
            if next_seq < 1000 && now >= Instant::from_millis(u64::from(next_seq)) {
                let mut frame = vec![0xff, 0x03, 0x00, 0x21];
                frame.extend_from_slice(&next_seq.to_be_bytes());
                let n = a.encapsulate(now, &frame, &mut buf).unwrap();
                // Uniform in 0..jitter: packets overtake each other. The
                // first arrives first, as a session's first packet (its LCP
                // Configure-Request) does: the receiver learns the
                // sequence from it, so nothing sent before it can follow.
                let extra = match next_seq {
                    0 => Duration::ZERO,
                    _ => Duration::from_micros(below(&mut rng, jitter_ms * 1000)),
                };
                in_flight.push((now + Duration::from_millis(25) + extra, buf[..n].to_vec()));
                next_seq += 1;
            }
            in_flight.sort_by_key(|(t, _)| *t);
            while in_flight.first().is_some_and(|(t, _)| *t <= now) {
                let (_, p) = in_flight.remove(0);
                let seq = u32::from_be_bytes([
                    p[p.len() - 4],
                    p[p.len() - 3],
                    p[p.len() - 2],
                    p[p.len() - 1],
                ]);
                arrived.insert(seq, now);
                if let Ok(Decapsulated::Frame(f)) = b.decapsulate(now, &p) {
                    record(f, now, &mut delivered);
                }
                while let Some(f) = b.poll_frame() {
                    record(&f, now, &mut delivered);
                }
            }
            if b.poll_timeout().is_some_and(|t| t <= now) {
                b.handle_timeout(now);
                while let Some(f) = b.poll_frame() {
                    record(&f, now, &mut delivered);
                }
            }
            now += Duration::from_micros(100);
            assert!(
                now < Instant::from_secs(10),
                "stalled at {}: {:?}",
                delivered.len(),
                b.stats()
            );
        }
        assert!(delivered.windows(2).all(|w| w[0].0 < w[1].0), "in order");
        let waits: Vec<Duration> = delivered
            .iter()
            .map(|(seq, at)| at.saturating_duration_since(arrived[seq]))
            .collect();
        let max = waits.iter().max().copied().unwrap_or_default();
        let mean = waits.iter().sum::<Duration>() / waits.len() as u32;
        println!(
            "jitter {jitter_ms:2} ms, buffer {depth:2}: reorder wait mean {:.2} ms, max {:.2} ms, lost {}",
            mean.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3,
            b.stats().lost
        );
        assert_eq!(b.stats().lost, 0, "jitter {jitter_ms}: nothing is lost");
        assert!(
            max <= Duration::from_millis(jitter_ms) + Duration::from_micros(200),
            "jitter {jitter_ms} ms: a packet waited {max:?}"
        );
    }
}
