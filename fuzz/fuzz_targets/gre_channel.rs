//! A `GreChannel` fed arbitrary datagrams (raw or built around fuzzed
//! sequence/ack numbers), sends and time steps. Invariants: the reorder
//! buffer stays within `reorder_packets`, frames wait in the ready queue only
//! as many as the buffer released, packets in flight within the window the
//! policy allows (the peer's under `Strict`, at least `at_least` under
//! `Advisory`), delivered frames are never longer than the datagram, and after
//! `handle_timeout(now)` no timer is due.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use common::{assert_timer_after, Script};
use libfuzzer_sys::fuzz_target;
use pptp_proto::gre::{GreChannel, GreConfig, Decapsulated, WindowPolicy};
use pptp_proto::time::{Duration, Instant};
use pptp_proto::wire::gre::GrePacket;

fuzz_target!(|data: &[u8]| {
    let mut s = Script(data);
    let (Some(a), Some(b)) = (s.byte(), s.byte()) else {
        return;
    };
    let mut config = GreConfig::new(7, 9);
    config.reorder_packets = usize::from(a % 24);
    config.peer_window = u16::from(b % 70);
    config.receive_window = 1 + u16::from(b >> 4);
    config.reorder_timeout = Duration::from_millis(20 + u64::from(a >> 4) * 40);
    config.max_frame = 64 + usize::from(a) * 4;
    // Both policies; a small advisory bound reaches the silent-peer path.
    let at_least = u16::from(a >> 5);
    config.window_policy = match a & 1 {
        0 => WindowPolicy::Strict,
        _ => WindowPolicy::Advisory { at_least },
    };
    let reorder = config.reorder_packets;
    let window = usize::from(match config.window_policy {
        WindowPolicy::Strict => config.peer_window.max(1),
        _ => config.peer_window.max(1).max(at_least),
    });
    let max_frame = config.max_frame;
    let mut gre = GreChannel::new(config);
    let mut now = Instant::ZERO;
    let mut base = 0u32;
    let mut out = [0u8; 2048];
    while let Some(op) = s.byte() {
        match op % 6 {
            0 => {
                let Some(raw) = s.long_chunk() else { break };
                if let Ok(Decapsulated::Frame(f)) = gre.decapsulate(now, raw) {
                    assert!(f.len() <= raw.len());
                }
            }
            1 | 2 => {
                // A well-formed packet near the window, so the reorder
                // logic is reached.
                let (Some(delta), Some(flags)) = (s.byte(), s.byte()) else {
                    break;
                };
                let Some(payload) = s.chunk() else { break };
                let seq = base.wrapping_add(u32::from(delta)).wrapping_sub(16);
                let ack = (flags & 1 != 0).then_some(u32::from(flags >> 1));
                let seq = (flags & 0x80 == 0).then_some(seq);
                if flags & 0x40 != 0 {
                    base = base.wrapping_add(u32::from(delta));
                }
                let packet = GrePacket::new(7, seq, ack, payload).unwrap();
                let mut bytes = Vec::new();
                packet.emit(&mut bytes);
                if let Ok(Decapsulated::Frame(f)) = gre.decapsulate(now, &bytes) {
                    assert_eq!(f, payload);
                    assert!(f.len() <= max_frame.max(payload.len()));
                }
            }
            3 => {
                let Some(step) = s.step() else { break };
                now += step;
                gre.handle_timeout(now);
                assert_timer_after(now, gre.poll_timeout());
            }
            4 => {
                let Some(frame) = s.chunk() else { break };
                let _ = gre.encapsulate(now, frame, &mut out);
            }
            _ => {
                let _ = gre.poll_transmit(&mut out);
            }
        }
        assert!(gre.reorder_len() <= reorder);
        assert!(gre.ready_len() <= reorder + 1);
        assert!(gre.in_flight() <= window);
        while let Some(f) = gre.poll_frame() {
            assert!(f.len() <= max_frame);
        }
    }
});
