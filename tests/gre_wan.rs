//! GRE on WAN paths (issue #19): our sender against the peers' real
//! acknowledgment styles, through a bottleneck with a round trip, on a
//! virtual clock (exact and repeatable, not timed).
//!
//! The path: a one-way delay each way (half the RTT), a bottleneck that
//! serialises packets at `rate` with a drop-tail queue of 100 packets, and
//! a seeded loss. The sender offers 5 % more than the bottleneck carries,
//! as fast as its window lets it. The receiver is a `GreChannel` driven the
//! way each peer is:
//!
//! - `pptp-linux`: announces window 3, acknowledges after its ack delay
//!   (100 ms) or piggybacked; never enforces a window.
//! - `pptpd`: announces 64, otherwise the same.
//! - `kernel`: the Linux kernel's `pptp.c` (accel-ppp, pppd's kernel mode):
//!   sends no acknowledgment-only packets, so a one-way flow is never
//!   acknowledged.
//! - `windows`: announces 16384 and acknowledges like pptpd.
//!
//! `cargo test --test gre_wan -- --nocapture` prints the matrix that
//! BENCHMARKS.md quotes.

use std::collections::VecDeque;

use pptp_proto::gre::{GreChannel, GreConfig, Received, WindowPolicy};
use pptp_proto::time::{Duration, Instant};

const PAYLOAD: usize = 1400;
const QUEUE: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Acking,
    NoAckOnly,
}

struct Peer {
    name: &'static str,
    window: u16,
    style: Style,
}

const PEERS: [Peer; 4] = [
    Peer {
        name: "pptp-linux",
        window: 3,
        style: Style::Acking,
    },
    Peer {
        name: "pptpd",
        window: 64,
        style: Style::Acking,
    },
    Peer {
        name: "kernel",
        window: 3,
        style: Style::NoAckOnly,
    },
    Peer {
        name: "windows",
        window: 16384,
        style: Style::Acking,
    },
];

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

/// Goodput over seconds 1..6 as a fraction of the bottleneck rate.
fn goodput(policy: WindowPolicy, peer: &Peer, rtt_ms: u64, rate_mbit: u64, loss: f64) -> f64 {
    let mut ca = GreConfig::new(1, 2);
    ca.peer_window = peer.window;
    ca.window_policy = policy;
    let mut a = GreChannel::new(ca);
    let mut cb = GreConfig::new(2, 1);
    cb.receive_window = peer.window.max(64);
    let mut b = GreChannel::new(cb);
    let one_way = Duration::from_micros(rtt_ms * 500);
    let tx_time = Duration::from_nanos(PAYLOAD as u64 * 8 * 1000 / rate_mbit);
    let offer_every = tx_time * 100 / 105;
    let mut rng = Rng(rtt_ms ^ u64::from(peer.window) << 16);
    // The bottleneck (a -> b): packets waiting, and when the link frees.
    let mut bottleneck: VecDeque<Vec<u8>> = VecDeque::new();
    let mut link_free = Instant::ZERO;
    let mut to_b: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
    let mut to_a: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
    let frame = {
        let mut f = vec![0xff, 0x03, 0x00, 0x21];
        f.resize(PAYLOAD, 0x45);
        f
    };
    let (start, end) = (Instant::from_secs(1), Instant::from_secs(6));
    let mut delivered = 0u64;
    let mut next_offer = Instant::ZERO;
    let mut now = Instant::ZERO;
    let mut buf = vec![0u8; PAYLOAD + 64];
    while now < end {
        // Offer a packet when its time has come and the window allows.
        if now >= next_offer {
            next_offer = now + offer_every;
            if let Ok(n) = a.encapsulate(now, &frame, &mut buf) {
                if bottleneck.len() < QUEUE {
                    bottleneck.push_back(buf[..n].to_vec());
                }
            }
        }
        // The bottleneck serialises.
        if now >= link_free {
            if let Some(p) = bottleneck.pop_front() {
                link_free = now + tx_time;
                if !rng.chance(loss) {
                    to_b.push_back((now + tx_time + one_way, p));
                }
            }
        }
        while to_b.front().is_some_and(|(t, _)| *t <= now) {
            let (_, p) = to_b.pop_front().unwrap();
            if let Ok(Received::Frame(f)) = b.decapsulate(now, &p) {
                if now >= start {
                    delivered += f.len() as u64;
                }
            }
            while let Some(f) = b.poll_frame() {
                if now >= start {
                    delivered += f.len() as u64;
                }
            }
        }
        while to_a.front().is_some_and(|(t, _)| *t <= now) {
            let (_, p) = to_a.pop_front().unwrap();
            let _ = a.decapsulate(now, &p);
        }
        for c in [&mut a, &mut b] {
            if c.poll_timeout().is_some_and(|t| t <= now) {
                c.handle_timeout(now);
            }
        }
        if peer.style == Style::Acking {
            if let Some(n) = b.poll_transmit_ack(&mut buf) {
                to_a.push_back((now + one_way, buf[..n].to_vec()));
            }
        }
        // The next thing that happens.
        let mut next = next_offer.min(end);
        if !bottleneck.is_empty() {
            next = next.min(link_free.max(now));
        }
        for t in [to_b.front().map(|x| x.0), to_a.front().map(|x| x.0)]
            .into_iter()
            .flatten()
            .chain(a.poll_timeout())
            .chain(b.poll_timeout())
        {
            next = next.min(t);
        }
        now = if next > now {
            next
        } else {
            now + Duration::from_micros(1)
        };
    }
    let capacity = rate_mbit as f64 * 1e6 / 8.0 * (end - start).as_secs_f64();
    delivered as f64 / capacity
}

/// The default policy keeps the link full against every real peer's style
/// at every round trip: >= 90 % of the bottleneck (the frame headers and
/// the 5 % over-offer put 100 % a little out of reach).
#[test]
fn advisory_window_fills_the_link_with_every_peer_style() {
    for peer in &PEERS {
        for rtt in [1, 20, 50, 200] {
            let g = goodput(WindowPolicy::default(), peer, rtt, 10, 0.0);
            assert!(g >= 0.90, "{} at {rtt} ms: {:.1} %", peer.name, g * 100.0);
        }
    }
}

/// The case of the issue: pptp-linux's window 3 at 50 ms. Held to it
/// strictly (what the code did before the advisory policy), the sender gets
/// 3 packets per round trip, under 10 % of a 10 Mbit/s link; the default
/// policy fills it.
#[test]
fn window_3_at_50_ms() {
    let linux = &PEERS[0];
    let strict = goodput(WindowPolicy::Strict, linux, 50, 10, 0.0);
    let advisory = goodput(WindowPolicy::default(), linux, 50, 10, 0.0);
    println!(
        "window 3, 50 ms: strict {:.1} %, advisory {:.1} %",
        strict * 100.0,
        advisory * 100.0
    );
    assert!(strict < 0.10, "strict: {strict}");
    assert!(advisory >= 0.90, "advisory: {advisory}");
    // The kernel never acknowledges a one-way flow: no stall either.
    let kernel = goodput(WindowPolicy::default(), &PEERS[2], 50, 10, 0.0);
    assert!(kernel >= 0.90, "kernel: {kernel}");
}

/// 1 % loss costs about 1 % (GRE does not retransmit; MPPE stateless
/// resynchronises per packet): >= 95 % of the loss-free goodput.
#[test]
fn one_percent_loss_costs_about_one_percent() {
    for peer in &PEERS {
        for rtt in [20, 50] {
            let clean = goodput(WindowPolicy::default(), peer, rtt, 10, 0.0);
            let lossy = goodput(WindowPolicy::default(), peer, rtt, 10, 0.01);
            assert!(
                lossy >= 0.95 * clean,
                "{} at {rtt} ms: {:.1} % of {:.1} %",
                peer.name,
                lossy * 100.0,
                clean * 100.0
            );
        }
    }
}

/// The matrix BENCHMARKS.md quotes (printed with --nocapture).
#[test]
fn matrix() {
    println!("goodput, % of a 10 Mbit/s bottleneck, 1400-octet frames, sender offering 105 %");
    println!(
        "{:12} {:>6} {:>7} {:>9} {:>9} {:>12} {:>8}",
        "peer", "window", "RTT ms", "strict", "advisory", "advisory 1%", "kernel"
    );
    // The Linux kernel's pptp.c sender keeps no window at all: modelled
    // as an advisory window nothing reaches.
    let kernel_sender = WindowPolicy::Advisory { at_least: u16::MAX };
    for peer in &PEERS {
        for rtt in [1, 20, 50, 200] {
            let strict = goodput(WindowPolicy::Strict, peer, rtt, 10, 0.0);
            let advisory = goodput(WindowPolicy::default(), peer, rtt, 10, 0.0);
            let lossy = goodput(WindowPolicy::default(), peer, rtt, 10, 0.01);
            let kernel = goodput(kernel_sender, peer, rtt, 10, 0.0);
            println!(
                "{:12} {:>6} {:>7} {:>8.1}% {:>8.1}% {:>11.1}% {:>7.1}%",
                peer.name,
                peer.window,
                rtt,
                strict * 100.0,
                advisory * 100.0,
                lossy * 100.0,
                kernel * 100.0
            );
            assert!(
                advisory >= kernel - 0.01,
                "{} at {rtt} ms: below the kernel model",
                peer.name
            );
        }
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
                if let Ok(Received::Frame(f)) = b.decapsulate(now, &p) {
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
