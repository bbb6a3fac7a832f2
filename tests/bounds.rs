//! Every configurable bound, driven past its limit: the result is a typed
//! error, a discarded input or a clean teardown, never unbounded memory.
//!
//! Bounds tested elsewhere (not repeated here): the control output queue
//! (`tests/control.rs`, PAC flooded with Echo-Requests), LCP echo failures
//! (`tests/ppp_pair.rs` fault cases, `tests/sessions.rs` keepalive), GRE
//! window (`tests/gre.rs`), Max-Failure and Max-Configure (unit tests in
//! `src/ppp/fsm.rs`), options per packet (`src/ppp/fsm.rs`
//! `too_many_options_are_discarded`, and at session level below).

mod mem;

use mem::{configs, ipv4, MemPair};
use pptp_proto::control::{
    CallDownReason, CloseReason, ControlConfig, ControlConnection, ControlEvent, Role,
};
use pptp_proto::gre::{Decapsulated, GreChannel, GreConfig};
use pptp_proto::mppe::MppeError;
use pptp_proto::ppp::lcp::AuthMethod;
use pptp_proto::ppp::session::{PppError, PppEvent, PppSession, SessionConfig};
use pptp_proto::server::{AddressPool, Server, ServerConfig, ServerError, ServerEvent};
use pptp_proto::time::{Duration, Instant};
use pptp_proto::wire::control::{ControlMessage, MAX_MESSAGE_LEN};
use pptp_proto::wire::gre::GrePacket;

/// Moves bytes between two control connections until both are quiet.
fn shuttle(now: Instant, a: &mut ControlConnection, b: &mut ControlConnection) {
    for _ in 0..100 {
        let mut moved = false;
        while let Some(bytes) = a.poll_transmit() {
            let _ = b.handle_stream(now, &bytes);
            moved = true;
        }
        while let Some(bytes) = b.poll_transmit() {
            let _ = a.handle_stream(now, &bytes);
            moved = true;
        }
        if !moved {
            return;
        }
    }
    panic!("control pair never went quiet");
}

fn events(c: &mut ControlConnection) -> Vec<ControlEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

#[test]
fn control_reassembly_buffer_holds_at_most_one_message() {
    let mut pns = ControlConnection::new(ControlConfig::new(Role::Pns));
    let mut pac = ControlConnection::new(ControlConfig::new(Role::Pac));
    pns.start(Instant::ZERO);
    pac.start(Instant::ZERO);
    let sccrq = pns.poll_transmit().unwrap();
    // Byte by byte: the buffer never holds more than the message.
    for b in sccrq.iter() {
        pac.handle_stream(Instant::ZERO, &[*b]).unwrap();
        assert!(pac.buffered_len() <= MAX_MESSAGE_LEN);
    }
    assert_eq!(pac.buffered_len(), 0);
    // A header announcing more than the largest control message closes the
    // connection at once, without buffering what follows.
    let mut huge = sccrq.to_vec();
    huge[0..2].copy_from_slice(&60_000u16.to_be_bytes());
    assert!(pac.handle_stream(Instant::ZERO, &huge).is_err());
    assert!(pac.is_closed());
    assert_eq!(pac.buffered_len(), 0);
    assert!(matches!(
        events(&mut pac).last(),
        Some(ControlEvent::Closed {
            reason: CloseReason::Malformed(_)
        })
    ));
    assert_eq!(pac.poll_timeout(), None);
}

#[test]
fn calls_per_connection_beyond_the_limit_are_refused() {
    let mut pns_config = ControlConfig::new(Role::Pns);
    pns_config.max_calls = 3;
    let mut pac_config = ControlConfig::new(Role::Pac);
    pac_config.max_calls = 1;
    let (mut pns, mut pac) = (
        ControlConnection::new(pns_config),
        ControlConnection::new(pac_config),
    );
    let now = Instant::ZERO;
    pns.start(now);
    pac.start(now);
    shuttle(now, &mut pns, &mut pac);
    assert!(pns.is_established() && pac.is_established());
    let first = pns.open_call(now).unwrap();
    let second = pns.open_call(now).unwrap();
    shuttle(now, &mut pns, &mut pac);
    // The PAC holds one call and refuses the second.
    assert_eq!(pac.call_count(), 1);
    let pns_events = events(&mut pns);
    assert!(pns_events
        .iter()
        .any(|e| matches!(e, ControlEvent::CallUp { call_id, .. } if *call_id == first)));
    assert!(pns_events.iter().any(|e| matches!(
        e,
        ControlEvent::CallDown { call_id, reason: CallDownReason::Refused(_) } if *call_id == second
    )));
    // The PAC itself cannot offer a call beyond its limit either.
    assert!(pac.offer_incoming_call(now).is_err());
    assert!(pns.is_established() && pac.is_established());
}

fn data(gre: &mut GreChannel, now: Instant, seq: u32) -> bool {
    let payload = seq.to_be_bytes();
    let mut bytes = Vec::new();
    GrePacket::new(7, Some(seq), None, &payload)
        .unwrap()
        .emit(&mut bytes);
    matches!(gre.decapsulate(now, &bytes), Ok(Decapsulated::Frame(_)))
}

#[test]
fn gre_reorder_buffer_is_bounded_in_packets_and_age() {
    let mut config = GreConfig::new(7, 9);
    config.reorder_packets = 4;
    config.reorder_timeout = Duration::from_millis(100);
    let mut gre = GreChannel::new(config);
    let t0 = Instant::ZERO;
    assert!(data(&mut gre, t0, 0));
    // Sequence 1 is missing: 2.. wait in the buffer, never more than 4.
    for seq in 2..40 {
        let _ = data(&mut gre, t0, seq);
        assert!(gre.reorder_len() <= 4, "reorder buffer grew past 4");
        while gre.poll_frame().is_some() {}
    }
    // Age: after the reorder timeout the gap is skipped and the rest flows.
    let mut config = GreConfig::new(7, 9);
    config.reorder_timeout = Duration::from_millis(100);
    let mut gre = GreChannel::new(config);
    assert!(data(&mut gre, t0, 0));
    assert!(!data(&mut gre, t0, 2));
    assert_eq!(gre.reorder_len(), 1);
    let due = gre.poll_timeout().expect("reorder timer");
    assert!(due <= t0 + Duration::from_millis(100));
    gre.handle_timeout(due);
    assert_eq!(gre.reorder_len(), 0);
    assert_eq!(gre.poll_frame().as_deref(), Some(&2u32.to_be_bytes()[..]));
    assert_eq!(gre.stats().lost, 1);
}

fn lcp(code: u8, id: u8, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0xff, 0x03, 0xc0, 0x21, code, id];
    f.extend_from_slice(&((4 + data.len()) as u16).to_be_bytes());
    f.extend_from_slice(data);
    f
}

#[test]
fn configure_request_with_too_many_options_is_discarded() {
    let (server, _) = configs(AuthMethod::MsChapV2, false);
    let mut s = PppSession::new(server);
    let now = Instant::ZERO;
    s.open(now);
    while s.poll_transmit().is_some() {}
    // 33 unknown empty options (the default bound is 32): no answer at all.
    let options: Vec<u8> = (0..33).flat_map(|i| [0x60 + i as u8, 2]).collect();
    let _ = s.handle_frame(now, &mut lcp(1, 1, &options));
    assert_eq!(s.poll_transmit(), None);
    // 32 are judged: the unknown ones are Configure-Rejected.
    let _ = s.handle_frame(now, &mut lcp(1, 2, &options[..64]));
    let reply = s.poll_transmit().expect("a reply to 32 options");
    assert_eq!(reply[4], 4, "Configure-Reject");
}

#[test]
fn a_nak_loop_ends_the_link_instead_of_running_forever() {
    // The peer insists on an MRU below our minimum, whatever we Nak.
    let (server, _) = configs(AuthMethod::MsChapV2, false);
    let max_failure = server.fsm.max_failure;
    let mut s = PppSession::new(server);
    let mut now = Instant::ZERO;
    s.open(now);
    let mut replies = 0;
    let mut down = false;
    let drain = |s: &mut PppSession, replies: &mut usize, down: &mut bool| {
        while s.poll_transmit().is_some() {
            *replies += 1;
        }
        while let Some(e) = s.poll_event() {
            *down |= matches!(e, PppEvent::Down { .. });
        }
    };
    for id in 0..100u8 {
        let _ = s.handle_frame(now, &mut lcp(1, id, &[1, 4, 0, 10]));
        drain(&mut s, &mut replies, &mut down);
    }
    // The layer gave up: Terminate-Requests time out within the RFC 1661
    // counters, and the link is down.
    while let Some(t) = s.poll_timeout().filter(|t| *t < Instant::from_secs(60)) {
        now = t;
        s.handle_timeout(now);
        drain(&mut s, &mut replies, &mut down);
    }
    assert!(down, "the Nak loop never ended");
    // Naks, then Rejects, then the layer finishes: a bounded exchange.
    assert!(
        replies <= 4 * max_failure as usize + 10,
        "{replies} replies"
    );
}

#[test]
fn stateless_mppe_catches_up_2048_counts_and_drops_packets_further_ahead() {
    assert_eq!(
        SessionConfig::peer("u", mem_password()).mppe_max_catch_up,
        2048
    );
    for (skipped, accepted) in [(2047, true), (2048, false)] {
        let (server, client) = configs(AuthMethod::MsChapV2, true);
        let mut p = MemPair::new(server, client);
        assert!(p.bring_up(Duration::from_secs(30)));
        let mut buf = [0u8; 2048];
        // `skipped` packets are lost: the next is `skipped + 1` counts ahead.
        for i in 0..skipped {
            p.client.send_ip(p.now, &ipv4(i as u16), &mut buf).unwrap();
        }
        let n = p.client.send_ip(p.now, &ipv4(9999), &mut buf).unwrap();
        let result = p.server.handle_frame(p.now, &mut buf[..n]);
        if accepted {
            assert!(matches!(
                result,
                Ok(pptp_proto::ppp::session::Received::Ipv4(_))
            ));
        } else {
            assert!(
                matches!(
                    result,
                    Err(PppError::Mppe(MppeError::CountOutOfRange { max: 2048, .. }))
                ),
                "{result:?}"
            );
            // The session stays up and takes the next packet in range.
            assert!(p.server.is_network_up());
        }
    }
}

fn mem_password() -> pptp_proto::crypto::Password {
    pptp_proto::crypto::Password::new("x").unwrap()
}

#[test]
fn ppp_control_queue_is_bounded_when_the_embedder_does_not_drain() {
    let (server, client) = configs(AuthMethod::MsChapV2, false);
    let max = server.max_queued_frames;
    let mut p = MemPair::new(server, client);
    assert!(p.bring_up(Duration::from_secs(30)));
    // A flood of Echo-Requests; the replies are never taken.
    for id in 0..=255u8 {
        let _ = p.server.handle_frame(p.now, &mut lcp(9, id, &[0, 0, 0, 0]));
        assert!(p.server.queued_frames() <= max);
    }
    assert!(p.server.stats().transmit_dropped > 0);
    assert!(p.server.is_network_up());
}

fn pool() -> AddressPool {
    AddressPool {
        local: [10, 0, 0, 1].into(),
        range: ([10, 0, 0, 2].into(), [10, 0, 0, 200].into()),
        dns: [None, None],
    }
}

#[test]
fn server_connections_are_bounded_and_freed() {
    let mut config = ServerConfig::new("pptp-proto", pool());
    config.max_connections = 3;
    let mut s = Server::new(config);
    let now = Instant::ZERO;
    let ids: Vec<_> = (0..3)
        .map(|_| s.accept(now, [192, 0, 2, 1].into()).unwrap())
        .collect();
    assert_eq!(s.accept(now, [192, 0, 2, 1].into()), Err(ServerError::Full));
    s.handle_stream_closed(now, ids[1]);
    assert_eq!(s.connection_count(), 2);
    assert!(s.accept(now, [192, 0, 2, 1].into()).is_ok());
    assert_eq!(s.accept(now, [192, 0, 2, 1].into()), Err(ServerError::Full));
}

#[test]
fn server_stream_queue_is_bounded_across_connections() {
    let mut config = ServerConfig::new("pptp-proto", pool());
    config.max_queued_stream = 10;
    let mut s = Server::new(config);
    let now = Instant::ZERO;
    // 20 clients each send a Start-Control-Connection-Request; nobody reads
    // the server's replies.
    let mut pns = ControlConnection::new(ControlConfig::new(Role::Pns));
    pns.start(now);
    let sccrq = pns.poll_transmit().unwrap();
    let conns: Vec<_> = (0..20u8)
        .map(|i| s.accept(now, [192, 0, 2, i].into()).unwrap())
        .collect();
    for &c in &conns {
        s.handle_stream(now, c, &sccrq).unwrap();
        assert!(s.queued().0 <= 10);
    }
    // The ten that did not fit were failed closed and reported.
    let mut down = Vec::new();
    while let Some(e) = s.poll_event() {
        if let ServerEvent::SessionDown { connection, .. } = e {
            down.push(connection);
        }
    }
    assert_eq!(down, conns[10..]);
    let replies: Vec<_> = std::iter::from_fn(|| s.poll_stream_transmit()).collect();
    assert_eq!(replies.len(), 10);
    assert!(replies.iter().all(|(c, b)| conns[..10].contains(c)
        && matches!(
            ControlMessage::parse(b),
            Ok(ControlMessage::StartControlConnectionReply(_))
        )));
}
