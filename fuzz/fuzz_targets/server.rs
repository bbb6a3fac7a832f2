//! A whole `Server` (MS-CHAPv2, MPPE required, MPPC offered) fed arbitrary TCP chunks from
//! several connections, arbitrary GRE datagrams and time steps, answering
//! every AuthRequest. Invariants: no plaintext IP delivered, connections
//! within `max_connections`, output queues bounded, no event for a
//! connection after its `SessionDown`, and after `handle_timeout(now)` no
//! timer is due.
//!
//! The server picks its Call IDs at random; the corpus addresses GRE to the
//! IDs it used to count up from 1. So a datagram's Call ID `n` (1–6) is
//! mapped onto the Call ID the server gave the `n`-th connection, and
//! coverage does not depend on the random choice.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use std::collections::BTreeSet;

use common::{assert_timer_after, Script, PASSWORD};
use libfuzzer_sys::fuzz_target;
use pptp_proto::crypto::Password;
use pptp_proto::ppp::auth::Credentials;
use pptp_proto::server::{AddressPool, ConnectionId, Server, ServerConfig, ServerEvent};
use pptp_proto::time::Instant;
use pptp_proto::wire::gre::GrePacket;
use pptp_proto::wire::ppp::{PppFrame, Protocol};

const MAX_CONNECTIONS: usize = 4;
const MAX_QUEUED_STREAM: usize = 24;

fn drain(server: &mut Server, now: Instant, down: &mut BTreeSet<ConnectionId>) {
    let (streams, datagrams, events) = server.queued();
    assert!(streams <= MAX_QUEUED_STREAM);
    assert!(datagrams <= 65_536 && events <= 4096 + 64);
    assert!(server.connection_count() <= MAX_CONNECTIONS);
    while server.poll_stream_transmit().is_some() {}
    while server.poll_datagram_transmit().is_some() {}
    while let Some(e) = server.poll_event() {
        match e {
            ServerEvent::AuthRequest { connection, .. } => {
                assert!(!down.contains(&connection));
                let secret = Password::new(PASSWORD).unwrap();
                server.provide_credentials(now, connection, Credentials::Password(secret));
            }
            ServerEvent::SessionDown { connection, .. } => {
                assert!(
                    down.insert(connection),
                    "two SessionDown for {connection:?}"
                );
            }
            ServerEvent::SessionUp { connection, .. }
            | ServerEvent::IpPacket { connection, .. } => {
                assert!(!down.contains(&connection), "event after SessionDown");
            }
            _ => {}
        }
    }
}

/// Rewrites the GRE Key's Call ID `n` to the one of the connection
/// accepted `n`-th (counting round the 6 IDs, as the server once did).
fn map_call_id(server: &Server, conns: &[ConnectionId], datagram: &mut [u8]) {
    let Some(key) = datagram.get(6..8) else { return };
    let n = usize::from(u16::from_be_bytes([key[0], key[1]]));
    if !(1..=6).contains(&n) {
        return;
    }
    let Some(&conn) = conns.iter().rev().find(|c| (c.0 as usize) % 6 == n - 1) else {
        return;
    };
    if let Some(id) = (1..=6u16).find(|id| server.connection_of_call(*id) == Some(conn)) {
        datagram[6..8].copy_from_slice(&id.to_be_bytes());
    }
}

fuzz_target!(|data: &[u8]| {
    let mut s = Script(data);
    let pool = AddressPool {
        local: [10, 0, 0, 1].into(),
        range: ([10, 0, 0, 2].into(), [10, 0, 0, 3].into()),
        dns: [None, None],
    };
    let mut config = ServerConfig::new("fuzz", pool);
    config.max_connections = MAX_CONNECTIONS;
    config.call_ids = (1, 6);
    config.max_queued_stream = MAX_QUEUED_STREAM;
    // MPPC offered and accepted too: a peer offering the C bit gets the
    // compressed data path, one that does not gets MPPE alone.
    config.ppp.ccp.mppc = true;
    let mut server = Server::new(config);
    let mut now = Instant::ZERO;
    let mut conns: Vec<ConnectionId> = Vec::new();
    let mut down = BTreeSet::new();
    while let Some(op) = s.byte() {
        match op % 8 {
            0 => {
                if let Ok(c) = server.accept(now, [192, 0, 2, 1].into()) {
                    conns.push(c);
                }
            }
            1..=3 => {
                let (Some(k), Some(chunk)) = (s.byte(), s.chunk()) else {
                    break;
                };
                if let Some(&c) = conns.get(usize::from(k) % conns.len().max(1)) {
                    let _ = server.handle_stream(now, c, chunk);
                }
            }
            4 | 5 => {
                let Some(raw) = s.long_chunk() else { break };
                let mut datagram = raw.to_vec();
                map_call_id(&server, &conns, &mut datagram);
                let protocol = GrePacket::parse(raw)
                    .ok()
                    .and_then(|g| PppFrame::parse(g.payload).ok())
                    .map(|f| f.protocol);
                if let Ok((_, Some(_))) = server.handle_datagram(now, [192, 0, 2, 1].into(), &mut datagram) {
                    assert_eq!(
                        protocol,
                        Some(Protocol::COMPRESSED),
                        "plaintext IP delivered"
                    );
                }
            }
            6 => {
                let Some(step) = s.step() else { break };
                now += step;
                server.handle_timeout(now);
                assert_timer_after(now, server.poll_timeout());
            }
            _ => {
                let (Some(k), Some(how)) = (s.byte(), s.byte()) else {
                    break;
                };
                if let Some(&c) = conns.get(usize::from(k) % conns.len().max(1)) {
                    if how & 1 == 0 {
                        server.close(now, c);
                    } else {
                        server.handle_stream_closed(now, c);
                    }
                }
            }
        }
        // The embedder drains now and then, not after every input.
        if s.0.first().is_some_and(|b| b & 0x80 == 0) {
            drain(&mut server, now, &mut down);
        } else {
            let (streams, _, _) = server.queued();
            assert!(streams <= MAX_QUEUED_STREAM);
        }
    }
});
