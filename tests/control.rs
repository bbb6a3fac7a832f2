//! Two `ControlConnection`s (PNS and PAC) through an in-memory TCP stream
//! that splits and merges writes at random, and replays of real peers'
//! control messages from the shared captures.
//!
//! `cargo test --test control -- --nocapture`

mod common;

use common::{read_capture, reassemble, require_captures};
use pptp_proto::control::{
    CallDownReason, CloseReason, ControlConfig, ControlConnection, ControlError, ControlEvent, Role,
};
use pptp_proto::time::{Duration, Instant};
use pptp_proto::wire::control::{frame_length, ControlMessage, StopControlConnectionReason};

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// PNS and PAC joined by a byte stream that re-chunks at random.
struct Pair {
    now: Instant,
    pns: ControlConnection,
    pac: ControlConnection,
    rng: Rng,
    to_pac: Vec<u8>,
    to_pns: Vec<u8>,
    pns_events: Vec<ControlEvent>,
    pac_events: Vec<ControlEvent>,
    /// While false, the PAC's output is dropped (a silent peer).
    pac_speaks: bool,
}

impl Pair {
    fn new(seed: u64) -> Self {
        let mut pns = ControlConfig::new(Role::Pns);
        pns.seed = seed;
        let mut pac = ControlConfig::new(Role::Pac);
        pac.seed = seed.wrapping_add(1);
        pac.max_calls = 3;
        Self::with(seed, pns, pac)
    }

    fn with(seed: u64, pns: ControlConfig, pac: ControlConfig) -> Self {
        Pair {
            now: Instant::ZERO,
            pns: ControlConnection::new(pns),
            pac: ControlConnection::new(pac),
            rng: Rng(seed),
            to_pac: Vec::new(),
            to_pns: Vec::new(),
            pns_events: Vec::new(),
            pac_events: Vec::new(),
            pac_speaks: true,
        }
    }

    /// Delivers the pending bytes in random chunk sizes, both ways, until quiet.
    fn pump(&mut self) {
        for _ in 0..100 {
            while let Some(b) = self.pns.poll_transmit() {
                self.to_pac.extend_from_slice(&b);
            }
            while let Some(b) = self.pac.poll_transmit() {
                if self.pac_speaks {
                    self.to_pns.extend_from_slice(&b);
                }
            }
            self.pns_events
                .extend(std::iter::from_fn(|| self.pns.poll_event()));
            self.pac_events
                .extend(std::iter::from_fn(|| self.pac.poll_event()));
            if self.to_pac.is_empty() && self.to_pns.is_empty() {
                return;
            }
            while !self.to_pac.is_empty() {
                let n = 1 + (self.rng.next() as usize % 300).min(self.to_pac.len() - 1);
                let chunk: Vec<u8> = self.to_pac.drain(..n).collect();
                let _ = self.pac.handle_stream(self.now, &chunk);
            }
            while !self.to_pns.is_empty() {
                let n = 1 + (self.rng.next() as usize % 300).min(self.to_pns.len() - 1);
                let chunk: Vec<u8> = self.to_pns.drain(..n).collect();
                let _ = self.pns.handle_stream(self.now, &chunk);
            }
        }
        panic!("the pair never went quiet");
    }

    /// Advances virtual time to `until`, firing timers on the way.
    fn advance(&mut self, until: Instant) {
        loop {
            let next = [self.pns.poll_timeout(), self.pac.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    self.pns.handle_timeout(self.now);
                    self.pac.handle_timeout(self.now);
                    self.pump();
                }
                _ => break,
            }
        }
        self.now = until;
    }

    fn connect(&mut self) {
        self.pns.start(self.now);
        self.pac.start(self.now);
        self.pump();
        assert!(self.pns.is_established() && self.pac.is_established());
    }
}

fn closed_reason(events: &[ControlEvent]) -> Option<&CloseReason> {
    events.iter().find_map(|e| match e {
        ControlEvent::Closed { reason } => Some(reason),
        _ => None,
    })
}

fn calls_up(events: &[ControlEvent]) -> Vec<(u16, u16)> {
    events
        .iter()
        .filter_map(|e| match e {
            ControlEvent::CallUp {
                call_id,
                peer_call_id,
                ..
            } => Some((*call_id, *peer_call_id)),
            _ => None,
        })
        .collect()
}

#[test]
fn handshake_calls_and_stop_over_a_rechunking_stream() {
    for seed in 0..20 {
        let mut p = Pair::new(seed);
        p.connect();
        assert!(
            matches!(&p.pns_events[0], ControlEvent::Connected { vendor, .. } if vendor == "pptp-proto")
        );
        // Three calls up (the PAC's limit), a fourth refused as Busy.
        let ids: Vec<u16> = (0..4).map(|_| p.pns.open_call(p.now).unwrap()).collect();
        p.pump();
        let pns_up = calls_up(&p.pns_events);
        let pac_up = calls_up(&p.pac_events);
        assert_eq!(pns_up.len(), 3, "seed {seed}");
        assert_eq!(pac_up.len(), 3);
        for (ours, peers) in &pns_up {
            assert!(
                pac_up.contains(&(*peers, *ours)),
                "ids match across the pair"
            );
        }
        assert!(p.pns_events.iter().any(|e| matches!(e,
            ControlEvent::CallDown { call_id, reason: CallDownReason::Refused(_) } if *call_id == ids[3])));
        // Set-Link-Info reaches the PAC for the right call.
        p.pns.set_link_info(ids[0], 0, 0xffff_ffff).unwrap();
        p.pump();
        let pac_call = pns_up[0].1;
        assert!(p.pac_events.iter().any(|e| matches!(e,
            ControlEvent::SetLinkInfo { call_id, receive_accm: 0xffff_ffff, .. } if *call_id == pac_call)));
        // WAN-Error-Notify from the PAC reaches the PNS for the right call.
        let errors = pptp_proto::wire::control::WanErrorNotify {
            crc_errors: 3,
            ..Default::default()
        };
        p.pac.wan_error_notify(pac_call, errors).unwrap();
        p.pump();
        assert!(p.pns_events.iter().any(|e| matches!(e,
            ControlEvent::WanError { call_id, errors } if *call_id == ids[0] && errors.crc_errors == 3)));
        // Clear one call from the PNS: CCRQ, then CDN.
        p.pns.clear_call(p.now, ids[1]).unwrap();
        p.pump();
        assert!(p.pns_events.iter().any(|e| matches!(e,
            ControlEvent::CallDown { call_id, reason: CallDownReason::PeerDisconnected(_) } if *call_id == ids[1])));
        assert!(p.pac_events.iter().any(|e| matches!(
            e,
            ControlEvent::CallDown {
                reason: CallDownReason::PeerCleared,
                ..
            }
        )));
        assert_eq!(
            p.pac.call_count(),
            1 + 1,
            "two calls left on the PAC, the refused one never existed"
        );
        // Stop from the PNS: both closed, remaining calls down.
        p.pns.close(p.now, StopControlConnectionReason::NONE);
        p.pump();
        assert_eq!(closed_reason(&p.pns_events), Some(&CloseReason::LocalStop));
        assert!(matches!(
            closed_reason(&p.pac_events),
            Some(CloseReason::PeerStop(_))
        ));
        assert_eq!(p.pns.call_count() + p.pac.call_count(), 0);
    }
    println!(
        "handshake, 3 calls up, 1 refused (busy), SLI, CCRQ/CDN, StopCCRQ/StopCCRP: 20 seeds ok"
    );
}

#[test]
fn stop_from_the_pac() {
    let mut p = Pair::new(7);
    p.connect();
    p.pns.open_call(p.now).unwrap();
    p.pump();
    p.pac
        .close(p.now, StopControlConnectionReason::STOP_LOCAL_SHUTDOWN);
    p.pump();
    assert_eq!(closed_reason(&p.pac_events), Some(&CloseReason::LocalStop));
    assert_eq!(
        closed_reason(&p.pns_events),
        Some(&CloseReason::PeerStop(
            StopControlConnectionReason::STOP_LOCAL_SHUTDOWN
        ))
    );
    assert!(p.pns_events.iter().any(|e| matches!(
        e,
        ControlEvent::CallDown {
            reason: CallDownReason::ConnectionClosed,
            ..
        }
    )));
    // Nothing after Closed.
    assert!(matches!(
        p.pns_events.last(),
        Some(ControlEvent::Closed { .. })
    ));
    println!("stop from the PAC: ok");
}

#[test]
fn echo_keepalive_and_echo_loss() {
    let mut p = Pair::new(3);
    p.connect();
    // Quiet for an hour: echoes flow every 60 s and are answered.
    p.advance(Instant::from_secs(3600));
    assert!(p.pns.is_established() && p.pac.is_established());
    let echoes = p.pns.stats().echo_requests_sent + p.pac.stats().echo_requests_sent;
    assert!(echoes >= 60, "echoes: {echoes}");
    // The PAC goes silent: the PNS closes 60 s + 60 s later at the latest.
    p.pac_speaks = false;
    let silent_from = p.now;
    p.advance(silent_from + Duration::from_secs(121));
    assert_eq!(
        closed_reason(&p.pns_events),
        Some(&CloseReason::EchoTimeout)
    );
    println!("echo keepalive for 1 h ({echoes} echoes), silent peer closed within 120 s: ok");
}

#[test]
fn sccrq_collision_is_resolved_by_address() {
    for (ours, theirs) in [
        ([10, 0, 0, 1], [10, 0, 0, 2]),
        ([10, 0, 0, 9], [10, 0, 0, 2]),
    ] {
        let mut a = ControlConfig::new(Role::Pns);
        a.addresses = Some((ours.into(), theirs.into()));
        let mut b = ControlConfig::new(Role::Pns);
        b.addresses = Some((theirs.into(), ours.into()));
        let mut p = Pair::with(1, a, b);
        // Both ends send SCCRQ.
        p.pns.start(p.now);
        p.pac.start(p.now);
        p.pump();
        assert!(
            p.pns.is_established() && p.pac.is_established(),
            "{ours:?} vs {theirs:?}"
        );
        let connected = |ev: &[ControlEvent]| {
            ev.iter()
                .filter(|e| matches!(e, ControlEvent::Connected { .. }))
                .count()
        };
        assert_eq!((connected(&p.pns_events), connected(&p.pac_events)), (1, 1));
    }
    println!("SCCRQ collision, both address orders: ok");
}

#[test]
fn garbage_and_bounds() {
    let mut p = Pair::new(5);
    p.connect();
    let err = p
        .pac
        .handle_stream(p.now, &[0, 16, 0, 1, 0xde, 0xad, 0xbe, 0xef, 0, 1, 0, 0]);
    assert!(matches!(err, Err(ControlError::Malformed(_))));
    assert!(matches!(
        p.pac.poll_event(),
        Some(ControlEvent::Closed {
            reason: CloseReason::Malformed(_)
        })
    ));
    assert_eq!(p.pac.handle_stream(p.now, &[1]), Err(ControlError::Closed));
    // A PNS that never gets a reply gives up after the reply timeout.
    let mut lone = ControlConnection::new(ControlConfig::new(Role::Pns));
    lone.start(Instant::ZERO);
    let t = lone.poll_timeout().unwrap();
    assert_eq!(t, Instant::from_secs(60));
    lone.handle_timeout(Instant::from_secs(59));
    assert!(!lone.is_closed(), "early timeout is a no-op");
    lone.handle_timeout(t);
    assert!(matches!(
        lone.poll_event(),
        Some(ControlEvent::Closed {
            reason: CloseReason::HandshakeTimeout
        })
    ));
    // The output queue is bounded: a PAC flooded with Echo-Requests whose
    // replies are never drained closes instead of growing.
    let mut pac = ControlConfig::new(Role::Pac);
    pac.max_queued = 8;
    let mut p = Pair::with(9, ControlConfig::new(Role::Pns), pac);
    p.connect();
    let echo = {
        let mut v = Vec::new();
        ControlMessage::from(pptp_proto::wire::control::EchoRequest {
            identifier: 1,
            ..Default::default()
        })
        .emit(&mut v);
        v
    };
    for _ in 0..20 {
        let _ = p.pac.handle_stream(p.now, &echo);
    }
    assert!(p.pac.is_closed());
    println!("garbage closes, handshake timeout, output bound: ok");
}

/// A full output queue in the middle of a handler closes the connection
/// only once the handler is done: the call it was answering goes down with
/// the connection and nothing follows `Closed` (found by the
/// `control_machine` fuzz target: a `CallUp` came after `Closed`).
#[test]
fn output_overflow_inside_a_handler_closes_cleanly() {
    let emit = |m: ControlMessage| {
        let mut v = Vec::new();
        m.emit(&mut v);
        v
    };
    let mut pns = ControlConnection::new(ControlConfig::new(Role::Pns));
    pns.start(Instant::ZERO);
    let sccrq = pns.poll_transmit().unwrap();
    let mut config = ControlConfig::new(Role::Pac);
    config.max_queued = 1;
    let mut pac = ControlConnection::new(config);
    pac.start(Instant::ZERO);
    // The SCCRQ and an OCRQ arrive together; the SCCRP fills the queue, so
    // the Outgoing-Call-Reply overflows it.
    let mut stream = sccrq.to_vec();
    stream.extend(emit(
        pptp_proto::wire::control::OutgoingCallRequest {
            call_id: 7,
            ..Default::default()
        }
        .into(),
    ));
    let _ = pac.handle_stream(Instant::ZERO, &stream);
    let events: Vec<_> = std::iter::from_fn(|| pac.poll_event()).collect();
    assert!(pac.is_closed());
    assert_eq!(pac.call_count(), 0);
    assert_eq!(pac.poll_timeout(), None);
    assert!(matches!(
        events.first(),
        Some(ControlEvent::Connected { .. })
    ));
    assert!(
        matches!(
            events.last(),
            Some(ControlEvent::Closed {
                reason: CloseReason::OutputFull
            })
        ),
        "{events:?}"
    );
    // Every call that came up also went down before `Closed`.
    let up = calls_up(&events).len();
    let down = events
        .iter()
        .filter(|e| matches!(e, ControlEvent::CallDown { .. }))
        .count();
    assert_eq!(up, down, "{events:?}");
    // Only the SCCRP went out; the reply that did not fit was dropped.
    assert_eq!(pac.queued_len(), 1);
    assert!(pac.handle_stream(Instant::ZERO, &stream).is_err());

    // Stopping when the queue is full closes at once instead of waiting in
    // `Stopping` for a reply to a request that was never sent.
    let mut config = ControlConfig::new(Role::Pns);
    config.max_queued = 1;
    let mut pns = ControlConnection::new(config);
    pns.start(Instant::ZERO);
    pns.close(Instant::ZERO, StopControlConnectionReason::NONE);
    assert!(pns.is_closed());
    assert_eq!(pns.poll_timeout(), None);
}

/// The control messages each side sent in a capture, in stream order.
fn capture_messages(name: &str) -> Option<Vec<(bool, Vec<u8>)>> {
    let dir = require_captures("control")?;
    let frames = read_capture(&dir.join(name));
    let mut out = Vec::new();
    for (flow, stream) in reassemble(&frames) {
        let from_client = flow.3 == 1723;
        let mut rest = &stream.bytes[..];
        while let Ok(Some(len)) = frame_length(rest) {
            if len > rest.len() {
                break;
            }
            out.push((from_client, rest[..len].to_vec()));
            rest = &rest[len..];
        }
    }
    Some(out)
}

/// Our PAC answers a real PNS's SCCRQ and OCRQ.
fn pac_accepts(name: &str) -> Option<()> {
    let messages = capture_messages(name)?;
    let mut pac = ControlConnection::new(ControlConfig::new(Role::Pac));
    pac.start(Instant::ZERO);
    let mut fed = Vec::new();
    // Start at the SCCRQ: the Windows capture begins with an older session's teardown.
    let from_start = messages.iter().filter(|(c, _)| *c).skip_while(|(_, b)| {
        !matches!(
            ControlMessage::parse(b),
            Ok(ControlMessage::StartControlConnectionRequest(_))
        )
    });
    for (_, bytes) in from_start {
        let msg = ControlMessage::parse(bytes).unwrap();
        fed.push(format!("{:?}", msg.message_type()));
        pac.handle_stream(Instant::ZERO, bytes).unwrap();
        if matches!(msg, ControlMessage::OutgoingCallRequest(_)) {
            break;
        }
    }
    let events: Vec<_> = std::iter::from_fn(|| pac.poll_event()).collect();
    let vendor = events.iter().find_map(|e| match e {
        ControlEvent::Connected { vendor, .. } => Some(vendor.clone()),
        _ => None,
    });
    assert!(vendor.is_some(), "{name}: not connected: {events:?}");
    assert_eq!(calls_up(&events).len(), 1, "{name}: the call is up");
    println!(
        "{name}: our PAC accepted {} (peer vendor {:?})",
        fed.join(", "),
        vendor.unwrap()
    );
    Some(())
}

#[test]
fn pac_accepts_windows_pptp_linux_and_ixia() {
    for name in [
        "pptpcrack_test.pcap",
        "chapcrack_sample.dump",
        "nDPI_pptp.pcap",
        "packetlife_PPTP_negotiation.cap",
    ] {
        if pac_accepts(name).is_none() {
            return;
        }
    }
}

/// Our PNS accepts a real PAC's replies: its SCCRP and OCRP (the OCRP's Peer
/// Call ID rewritten to the Call ID we chose), then SLI/CDN if present.
fn pns_accepts(name: &str) -> Option<()> {
    let messages = capture_messages(name)?;
    let mut pns = ControlConnection::new(ControlConfig::new(Role::Pns));
    pns.start(Instant::ZERO);
    let mut ours = None;
    let mut captured_pns_id = None;
    let mut fed = Vec::new();
    let from_start = messages.iter().filter(|(c, _)| !*c).skip_while(|(_, b)| {
        !matches!(
            ControlMessage::parse(b),
            Ok(ControlMessage::StartControlConnectionReply(_))
        )
    });
    for (_, bytes) in from_start {
        let mut msg = ControlMessage::parse(bytes).unwrap();
        fed.push(format!("{:?}", msg.message_type()));
        if let ControlMessage::OutgoingCallReply(r) = &mut msg {
            let call = pns.open_call(Instant::ZERO).unwrap();
            while pns.poll_transmit().is_some() {}
            captured_pns_id = Some(r.peer_call_id);
            r.peer_call_id = call;
            ours = Some((call, r.call_id));
        }
        // A CDN naming the captured PNS's Call ID (as Microsoft's does) now names ours.
        if let (ControlMessage::CallDisconnectNotify(c), Some(old), Some((call, _))) =
            (&mut msg, captured_pns_id, ours)
        {
            if c.call_id == old {
                c.call_id = call;
            }
        }
        let mut bytes = Vec::new();
        msg.emit(&mut bytes);
        pns.handle_stream(Instant::ZERO, &bytes).unwrap();
        if pns.is_closed() {
            break;
        }
    }
    let events: Vec<_> = std::iter::from_fn(|| pns.poll_event()).collect();
    assert!(
        matches!(events.first(), Some(ControlEvent::Connected { .. })),
        "{name}: {events:?}"
    );
    if let Some((call, peer)) = ours {
        assert_eq!(calls_up(&events), vec![(call, peer)], "{name}");
        if fed.iter().any(|m| m == "CDN") {
            assert!(
                events.iter().any(
                    |e| matches!(e, ControlEvent::CallDown { call_id, .. } if *call_id == call)
                ),
                "{name}: the CDN takes the call down: {events:?}"
            );
        }
    }
    println!("{name}: our PNS accepted {}", fed.join(", "));
    Some(())
}

#[test]
fn pns_accepts_pptpd_windows_rras_and_cisco() {
    for name in [
        "chapcrack_sample.dump",
        "pptpcrack_test.pcap",
        "packetlife_PPTP_negotiation.cap",
        "nDPI_pptp.pcap",
    ] {
        if pns_accepts(name).is_none() {
            return;
        }
    }
}
