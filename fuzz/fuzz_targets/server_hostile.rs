//! A `Server` against many concurrent hostile connections from a few source
//! addresses: pieces of genuine control messages, garbage, GRE to any Call
//! ID from any address, clock jumps of up to hours, an embedder that answers
//! some authentications and never others. Invariants: the deadlines hold
//! (no connection outlives its start or establish deadline without coming
//! up; the verdict deadline ends a session the embedder never answers),
//! admission control holds (connections per source), GRE from a source
//! that is not the call's peer never gets past `WrongSource`, and a server
//! with no connections has no timer.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;

use common::{assert_timer_after, Script, PASSWORD};
use libfuzzer_sys::fuzz_target;
use pptp_proto::control::{ControlConfig, ControlConnection, Role};
use pptp_proto::crypto::Password;
use pptp_proto::ppp::auth::Credentials;
use pptp_proto::server::{AddressPool, ConnectionId, Server, ServerConfig, ServerError, ServerEvent};
use pptp_proto::time::{Duration, Instant};

const PER_SOURCE: usize = 6;
const ESTABLISH: Duration = Duration::from_secs(20);

struct Conn {
    from: IpAddr,
    accepted: Instant,
    up: bool,
    down: bool,
}

/// Genuine control messages a PNS sends: SCCRQ, then an OCRQ.
fn templates() -> Vec<Vec<u8>> {
    let mut pns = ControlConnection::new(ControlConfig::new(Role::Pns));
    pns.start(Instant::ZERO);
    let mut out = vec![pns.poll_transmit().unwrap().to_vec()];
    let mut pac = ControlConnection::new(ControlConfig::new(Role::Pac));
    pac.start(Instant::ZERO);
    let _ = pac.handle_stream(Instant::ZERO, &out[0]);
    while let Some(b) = pac.poll_transmit() {
        let _ = pns.handle_stream(Instant::ZERO, &b);
    }
    if pns.open_call(Instant::ZERO).is_ok() {
        if let Some(b) = pns.poll_transmit() {
            out.push(b.to_vec());
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let mut s = Script(data);
    let pool = AddressPool {
        local: [10, 0, 0, 1].into(),
        range: ([10, 0, 0, 2].into(), [10, 0, 0, 5].into()),
        dns: [None, None],
    };
    let mut config = ServerConfig::new("fuzz", pool);
    config.max_connections = 32;
    config.max_connections_per_source = PER_SOURCE;
    config.establish_timeout = Some(ESTABLISH);
    config.verdict_timeout = Some(Duration::from_secs(5));
    let start = config.control.start_timeout.unwrap();
    let mut server = Server::new(config);
    let templates = templates();
    let mut now = Instant::ZERO;
    let mut conns: BTreeMap<ConnectionId, Conn> = BTreeMap::new();
    let mut order: Vec<ConnectionId> = Vec::new();
    while let Some(op) = s.byte() {
        let pick = |k: u8, order: &[ConnectionId]| order.get(usize::from(k) % order.len().max(1)).copied();
        match op % 8 {
            0 | 1 => {
                let Some(src) = s.byte() else { break };
                let from: IpAddr = [192, 0, 2, src % 4].into();
                match server.accept(now, from) {
                    Ok(c) => {
                        let live = conns.values().filter(|c| c.from == from && !c.down).count();
                        assert!(live < PER_SOURCE, "over the per-source limit");
                        conns.insert(c, Conn { from, accepted: now, up: false, down: false });
                        order.push(c);
                    }
                    Err(ServerError::Full | ServerError::Refused(_)) => {}
                    Err(e) => panic!("accept: {e:?}"),
                }
            }
            2 | 3 => {
                let (Some(k), Some(t), Some(cut)) = (s.byte(), s.byte(), s.byte()) else { break };
                let Some(c) = pick(k, &order) else { continue };
                // A genuine message, whole or cut, or fuzzer bytes.
                let bytes: Vec<u8> = match templates.get(usize::from(t) % (templates.len() + 1)) {
                    Some(m) => m[..usize::from(cut).min(m.len())].to_vec(),
                    None => s.chunk().unwrap_or(&[]).to_vec(),
                };
                let _ = server.handle_stream(now, c, &bytes);
            }
            4 => {
                let (Some(src), Some(raw)) = (s.byte(), s.long_chunk()) else { break };
                let from: IpAddr = [192, 0, 2, src % 4].into();
                let mut d = raw.to_vec();
                let call = d.get(6..8).map(|k| u16::from_be_bytes([k[0], k[1]]));
                let owner = call.and_then(|id| server.connection_of_call(id));
                let r = server.handle_datagram(now, from, &mut d);
                if let Some(o) = owner.and_then(|o| conns.get(&o)) {
                    if o.from != from && r.is_ok() {
                        panic!("GRE from {from} reached a call of {}", o.from);
                    }
                }
            }
            5 | 6 => {
                let Some(step) = s.step() else { break };
                now += step;
                server.handle_timeout(now);
                assert_timer_after(now, server.poll_timeout());
            }
            _ => {
                let Some(k) = s.byte() else { break };
                if let Some(c) = pick(k, &order) {
                    server.handle_stream_closed(now, c);
                    if let Some(c) = conns.get_mut(&c) {
                        c.down = true;
                    }
                }
            }
        }
        // The embedder: drains everything, answers every other AuthRequest.
        while server.poll_stream_transmit().is_some() {}
        while server.poll_datagram_transmit().is_some() {}
        while let Some(e) = server.poll_event() {
            match e {
                ServerEvent::AuthRequest { connection, .. } if connection.0 % 2 == 0 => {
                    let secret = Password::new(PASSWORD).unwrap();
                    server.provide_credentials(now, connection, Credentials::Password(secret));
                }
                ServerEvent::SessionUp { connection, .. } => {
                    if let Some(c) = conns.get_mut(&connection) {
                        assert!(!c.down, "up after down");
                        c.up = true;
                    }
                }
                ServerEvent::SessionDown { connection, .. } => {
                    if let Some(c) = conns.get_mut(&connection) {
                        c.down = true;
                    }
                    server.handle_stream_closed(now, connection);
                }
                _ => {}
            }
        }
        // The deadlines: a connection that is not up by its establish
        // deadline (and not silent past its start deadline) is down. The
        // server's clock is `now` only after `handle_timeout`, so check
        // only what has passed by the last timeout run.
        for c in conns.values() {
            if !c.up && !c.down {
                assert!(
                    now < c.accepted + ESTABLISH.max(start) || server.poll_timeout().is_some_and(|t| t <= now),
                    "a connection accepted at {:?} is neither up nor down at {now:?}",
                    c.accepted
                );
            }
        }
        if server.connection_count() == 0 {
            assert_eq!(server.poll_timeout(), None, "a timer with no connection");
        }
    }
});
