//! A `PppSession` pair brought up in memory (every auth method, stateless or
//! stateful MPPE, with or without MPPC), then one side fed arbitrary frames, IP to send and time
//! steps. Invariants: no plaintext IP in or out while MPPE is required, the
//! control queue within `max_queued_frames`, nothing after `Down`, and after
//! `handle_timeout(now)` no timer is due.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use common::{assert_timer_after, bring_up, Script};
use libfuzzer_sys::fuzz_target;
use pptp_proto::ppp::session::{PppError, PppEvent, PppSession, Received};
use pptp_proto::wire::ppp::{PppFrame, Protocol};

fn drain(p: &mut PppSession, down: &mut bool, max_queued: usize) {
    assert!(p.queued_frames() <= max_queued);
    while p.poll_transmit().is_some() {}
    while let Some(e) = p.poll_event() {
        assert!(!*down, "event {e:?} after Down");
        if let PppEvent::Down { .. } = e {
            *down = true;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut s = Script(data);
    let Some(setup) = s.byte() else { return };
    let (server, client, mut now) = bring_up(setup);
    let (mut p, mut other) = if setup & 8 == 0 {
        (server, client)
    } else {
        (client, server)
    };
    let encrypted = p.is_encrypted();
    let max_queued = 32;
    let mut down = false;
    let mut buf = [0u8; 2048];
    drain(&mut p, &mut down, max_queued);
    while let Some(op) = s.byte() {
        match op % 6 {
            0 | 1 => {
                let Some(raw) = s.long_chunk() else { break };
                let mut frame = raw.to_vec();
                let protocol = PppFrame::parse(raw).map(|f| f.protocol);
                match p.handle_frame(now, &mut frame) {
                    Ok(Received::Ipv4(_) | Received::Ipv6(_)) if encrypted => {
                        assert_eq!(protocol, Ok(Protocol::COMPRESSED), "plaintext IP accepted");
                    }
                    Err(PppError::Down) => assert!(down),
                    _ => {}
                }
            }
            2 => {
                // A genuine encrypted frame from the other side, then a fuzzed edit.
                let Some(ip) = s.chunk() else { break };
                let (Some(at), Some(x)) = (s.byte(), s.byte()) else {
                    break;
                };
                if let Ok(n) = other.send_ip(now, ip, &mut buf) {
                    let mut frame = buf[..n].to_vec();
                    if let Some(b) = frame.get_mut(usize::from(at)) {
                        *b ^= x;
                    }
                    let protocol = PppFrame::parse(&frame).map(|f| f.protocol);
                    if let Ok(Received::Ipv4(_) | Received::Ipv6(_)) =
                        p.handle_frame(now, &mut frame)
                    {
                        assert!(!encrypted || protocol == Ok(Protocol::COMPRESSED));
                    }
                }
            }
            3 => {
                let Some(ip) = s.chunk() else { break };
                if let Ok(n) = p.send_ip(now, ip, &mut buf) {
                    if encrypted {
                        let f = PppFrame::parse(&buf[..n]).expect("own frame parses");
                        assert_eq!(f.protocol, Protocol::COMPRESSED, "plaintext IP sent");
                    }
                }
            }
            4 => {
                let Some(step) = s.step() else { break };
                now += step;
                p.handle_timeout(now);
                assert_timer_after(now, p.poll_timeout());
            }
            _ => match s.byte().unwrap_or(0) % 3 {
                0 => p.close(now),
                1 => p.lower_layer_down(now),
                _ => p.handle_timeout(now),
            },
        }
        drain(&mut p, &mut down, max_queued);
        if down {
            assert_eq!(p.poll_timeout(), None);
        }
    }
});
