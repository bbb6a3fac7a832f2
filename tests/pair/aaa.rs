//! The verifier side of a pair (#20): a server whose `AuthRequest`s an
//! external verifier answers, with accounting on and a log, and the checks
//! `tests/aaa.rs` (in memory) and `net/tests/radius.rs` (FreeRADIUS) share.

use super::{client_config, server_config, Log, Mode, Pair};
use pptp_proto::accounting::AccountingRecord;
use pptp_proto::client::ClientConfig;
use pptp_proto::crypto::Password;
use pptp_proto::ppp::auth::Verdict;
use pptp_proto::ppp::lcp::AuthMethod;
use pptp_proto::ppp::session::AuthConfig;
use pptp_proto::server::{Server, ServerConfig, ServerEvent, SessionDownReason};
use pptp_proto::time::Instant;

/// MPPE-128 for the methods with keys (the MS-CHAPs, EAP-MSCHAPv2, EAP
/// pass-through), none for the others.
pub fn mode_for(method: AuthMethod) -> Mode {
    if method.gives_mppe_keys() {
        Mode::Stateless
    } else {
        Mode::None
    }
}

/// A client of `method`: alice with `password`.
pub fn client_for(method: AuthMethod, password: &str) -> ClientConfig {
    client_as(method, "alice", password)
}

/// A client of `method`: `user` with `password`.
pub fn client_as(method: AuthMethod, user: &str, password: &str) -> ClientConfig {
    let mut client = client_config(mode_for(method), 7);
    if let AuthConfig::Peer(peer) = &mut client.ppp.auth {
        peer.username = user.into();
        peer.password = Password::new(password).unwrap();
    }
    client.ppp.lcp.auth = vec![method];
    client
}

/// Connects a client to `server`, whose `AuthRequest`s `verifier` answers.
pub fn connect(
    server: Server,
    client: ClientConfig,
    now: Instant,
    verifier: impl FnMut(&ServerEvent) -> Verdict + 'static,
) -> Pair {
    let mut pair = Pair::new(server, client, now);
    pair.verifier = Some(Box::new(verifier));
    pair.log = Some(Log::default());
    pair
}

/// A pair whose server asks `verifier`, with accounting on and a log.
pub fn pair_with(
    method: AuthMethod,
    password: &str,
    configure: impl FnOnce(&mut ServerConfig),
    verifier: impl FnMut(&ServerEvent) -> Verdict + 'static,
) -> Pair {
    let mut config = server_config(mode_for(method), 4);
    config.ppp.lcp.auth = vec![method];
    config.accounting = true;
    configure(&mut config);
    connect(
        Server::new(config),
        client_for(method, password),
        Instant::ZERO,
        verifier,
    )
}

pub fn log(pair: &Pair) -> &Log {
    pair.log.as_ref().unwrap()
}

pub fn records(pair: &Pair) -> Vec<&AccountingRecord> {
    log(pair)
        .server
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Accounting(r) => Some(&**r),
            _ => None,
        })
        .collect()
}

/// An IPv4 header of `len` octets, enough for the tunnel to carry.
pub fn ip_packet(len: usize) -> Vec<u8> {
    let mut p = vec![0u8; len];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    p[9] = 17;
    p
}

/// One packet each way through the tunnel; panics if either is lost or
/// garbled (wrong MPPE keys garble it).
pub fn exchange_ip(pair: &mut Pair, len: usize) {
    let ip = ip_packet(len);
    let mut out = vec![0u8; 2048];
    let now = pair.now;
    let r = pair.client.send_ip(now, &ip, &mut out).unwrap();
    let (_, got) = pair
        .server
        .handle_datagram(now, pair.peer, &mut out[r])
        .unwrap();
    assert_eq!(got, Some(&ip[..]), "client to server");
    let r = pair.server.send_ip(now, pair.conn, &ip, &mut out).unwrap();
    let got = pair.client.handle_datagram(now, &mut out[r]).unwrap();
    assert_eq!(got, Some(&ip[..]), "server to client");
}

/// Runs the pair's timers until `until`, nothing else happening.
pub fn idle_until(pair: &mut Pair, until: Instant) {
    while let Some(t) = Instant::soonest(pair.client.poll_timeout(), pair.server.poll_timeout()) {
        if t > until {
            break;
        }
        pair.tick(t.max(pair.now));
        pair.flush();
    }
    pair.now = pair.now.max(until);
}

pub fn server_down(pair: &Pair) -> Option<&SessionDownReason> {
    log(pair).server.iter().find_map(|e| match e {
        ServerEvent::SessionDown { reason, .. } => Some(reason),
        _ => None,
    })
}
