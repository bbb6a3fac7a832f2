//! A `ControlConnection` in either role fed arbitrary stream chunks, time
//! steps and commands. Invariants: the reassembly buffer never exceeds one
//! control message, the output queue stays within `max_queued`, calls within
//! `max_calls`, nothing follows `Closed`, and after `handle_timeout(now)`
//! no timer is due.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use common::{assert_timer_after, Script};
use libfuzzer_sys::fuzz_target;
use pptp_proto::control::{ControlConfig, ControlConnection, ControlEvent, Role};
use pptp_proto::time::Instant;
use pptp_proto::wire::control::{StopControlConnectionReason, MAX_MESSAGE_LEN};

struct Checked {
    c: ControlConnection,
    max_queued: usize,
    max_calls: usize,
    closed: bool,
}

impl Checked {
    fn check(&mut self) {
        assert!(self.c.buffered_len() <= MAX_MESSAGE_LEN);
        assert!(self.c.queued_len() <= self.max_queued);
        assert!(self.c.call_count() <= self.max_calls);
        while self.c.poll_transmit().is_some() {}
        while let Some(e) = self.c.poll_event() {
            assert!(!self.closed, "event {e:?} after Closed");
            if let ControlEvent::Closed { .. } = e {
                self.closed = true;
            }
        }
        if self.c.is_closed() {
            assert!(self.closed, "closed without a Closed event");
            assert_eq!(self.c.poll_timeout(), None);
            assert_eq!(self.c.call_count(), 0);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut s = Script(data);
    let Some(setup) = s.byte() else { return };
    let role = if setup & 1 == 0 { Role::Pns } else { Role::Pac };
    let mut config = ControlConfig::new(role);
    config.max_queued = 1 + usize::from(setup >> 5);
    config.max_calls = 1 + usize::from((setup >> 1) & 3);
    config.seed = u64::from(setup);
    let mut m = Checked {
        max_queued: config.max_queued,
        max_calls: config.max_calls,
        c: ControlConnection::new(config),
        closed: false,
    };
    let mut now = Instant::ZERO;
    m.c.start(now);
    m.check();
    while let Some(op) = s.byte() {
        match op % 8 {
            0..=2 => {
                let Some(chunk) = s.chunk() else { break };
                let _ = m.c.handle_stream(now, chunk);
            }
            3 | 4 => {
                let Some(step) = s.step() else { break };
                now += step;
                m.c.handle_timeout(now);
                assert_timer_after(now, m.c.poll_timeout());
            }
            5 => {
                let _ = m.c.open_call(now);
                let _ = m.c.offer_incoming_call(now);
            }
            6 => {
                let Some(id) = s.u16() else { break };
                let _ = m.c.clear_call(now, id);
            }
            _ => match s.byte().unwrap_or(0) % 3 {
                0 => m.c.close(now, StopControlConnectionReason::NONE),
                1 => m.c.handle_stream_closed(now),
                _ => m.c.handle_timeout(now),
            },
        }
        m.check();
    }
});
