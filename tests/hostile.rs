//! The server against hostile clients, through its public API with a
//! virtual clock: silent and half-sent connections, clients that never
//! finish authenticating, a back-end that never answers, an exhausted pool,
//! GRE injected from another address, guessable Call IDs, floods from one
//! source, a user over the session limit, idle sessions. Each case asserts
//! what reaches the embedder, when (the deadlines), and what stays on the
//! heap (a counting allocator).
//!
//! The layers' own hostile cases are in `tests/hostile_*.rs`.

mod pair;

use core::net::IpAddr;
use std::collections::BTreeSet;

use pair::counting::{live_bytes, Counting};
use pptp_proto::client::{Client, ClientConfig, ClientEvent};
use pptp_proto::control::{CloseReason, ControlConfig, ControlConnection, ControlEvent, Role};
use pptp_proto::crypto::Password;
use pptp_proto::gre::{GreChannel, GreConfig};
use pptp_proto::ppp::auth::Credentials;
use pptp_proto::ppp::session::PppError;
use pptp_proto::server::{
    AddressPool, ConnectionId, Deadline, Refusal, Server, ServerConfig, ServerError, ServerEvent,
    SessionDownReason,
};
use pptp_proto::time::{Duration, Instant};
use pptp_proto::tunnel::TunnelError;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn pool(last: u8) -> AddressPool {
    AddressPool {
        local: [10, 0, 0, 1].into(),
        range: ([10, 0, 0, 2].into(), [10, 0, 0, last].into()),
        dns: [None, None],
    }
}

fn addr(i: u8) -> IpAddr {
    [198, 51, 100, i].into()
}

/// How the embedder answers a connection's `AuthRequest`.
#[derive(Clone, Copy, PartialEq)]
enum Answer {
    Password,
    Never,
}

struct Peer {
    conn: ConnectionId,
    addr: IpAddr,
    client: Client,
    answer: Answer,
    up: bool,
    local: Option<core::net::Ipv4Addr>,
    closed: bool,
}

/// A server and its clients in memory; the embedder's loop is `run`.
struct Lab {
    server: Server,
    now: Instant,
    peers: Vec<Peer>,
    /// Every server event, with the time it was seen.
    events: Vec<(Instant, ServerEvent)>,
    /// Frames `inject` sent so far (their sequence numbers follow the client's).
    injected: u32,
}

impl Lab {
    fn new(config: ServerConfig) -> Lab {
        Lab {
            server: Server::new(config),
            now: Instant::ZERO,
            peers: Vec::new(),
            events: Vec::new(),
            injected: 0,
        }
    }

    /// A client `user` (password "secret") connecting from `from`.
    fn connect(&mut self, user: &str, from: IpAddr, answer: Answer) -> usize {
        let conn = self.server.accept(self.now, from).expect("accept");
        let mut client = Client::new(
            ClientConfig::new(user, Password::new("secret").unwrap())
                .with_seed(self.peers.len() as u64 + 100),
        );
        client.start(self.now);
        self.peers.push(Peer {
            conn,
            addr: from,
            client,
            answer,
            up: false,
            local: None,
            closed: false,
        });
        self.peers.len() - 1
    }

    fn flush(&mut self) -> bool {
        let mut any = false;
        loop {
            let mut moved = false;
            for p in self.peers.iter_mut().filter(|p| !p.closed) {
                while let Some(b) = p.client.poll_stream_transmit() {
                    let _ = self.server.handle_stream(self.now, p.conn, &b);
                    moved = true;
                }
                while let Some(mut d) = p.client.poll_datagram_transmit() {
                    let _ = self.server.handle_datagram(self.now, p.addr, &mut d);
                    moved = true;
                }
                while let Some(e) = p.client.poll_event() {
                    if let ClientEvent::Up { local, .. } = e {
                        p.up = true;
                        p.local = Some(local);
                    }
                    if let ClientEvent::Down { .. } = e {
                        p.up = false;
                    }
                    moved = true;
                }
            }
            while let Some((to, b)) = self.server.poll_stream_transmit() {
                if let Some(p) = self.peers.iter_mut().find(|p| p.conn == to && !p.closed) {
                    p.client.handle_stream(self.now, &b);
                }
                moved = true;
            }
            while let Some((to, mut d)) = self.server.poll_datagram_transmit() {
                if let Some(p) = self.peers.iter_mut().find(|p| p.conn == to && !p.closed) {
                    let _ = p.client.handle_datagram(self.now, &mut d);
                }
                moved = true;
            }
            while let Some(e) = self.server.poll_event() {
                match &e {
                    ServerEvent::AuthRequest { connection, .. } => {
                        let p = self.peers.iter().find(|p| p.conn == *connection);
                        if p.is_some_and(|p| p.answer == Answer::Password) {
                            let secret = Credentials::Password(Password::new("secret").unwrap());
                            self.server
                                .provide_credentials(self.now, *connection, secret);
                        }
                    }
                    ServerEvent::SessionDown { connection, .. } => {
                        // The embedder closes the TCP connection.
                        if let Some(p) = self.peers.iter_mut().find(|p| p.conn == *connection) {
                            p.client.handle_stream_closed(self.now);
                            p.closed = true;
                        }
                        self.server.handle_stream_closed(self.now, *connection);
                    }
                    _ => {}
                }
                self.events.push((self.now, e));
                moved = true;
            }
            if !moved {
                return any;
            }
            any = true;
        }
    }

    /// Runs the loop until `until`, jumping the clock from timer to timer.
    fn run(&mut self, until: Instant) {
        for _ in 0..1_000_000 {
            self.flush();
            let next = self
                .peers
                .iter()
                .filter(|p| !p.closed)
                .filter_map(|p| p.client.poll_timeout())
                .chain(self.server.poll_timeout())
                .min();
            match next {
                Some(t) if t <= until => {
                    self.now = t.max(self.now);
                    self.server.handle_timeout(self.now);
                    for p in self.peers.iter_mut().filter(|p| !p.closed) {
                        p.client.handle_timeout(self.now);
                    }
                }
                _ => {
                    self.now = until;
                    return;
                }
            }
        }
        panic!("the loop did not settle");
    }

    fn down_reason(&self, i: usize) -> Option<(Instant, SessionDownReason)> {
        let conn = self.peers[i].conn;
        self.events.iter().find_map(|(t, e)| match e {
            ServerEvent::SessionDown { connection, reason } if *connection == conn => {
                Some((*t, reason.clone()))
            }
            _ => None,
        })
    }

    fn session_up(&self, i: usize) -> Option<core::net::Ipv4Addr> {
        let conn = self.peers[i].conn;
        self.events.iter().find_map(|(_, e)| match e {
            ServerEvent::SessionUp {
                connection,
                address,
                ..
            } if *connection == conn => Some(*address),
            _ => None,
        })
    }
}

fn secs(s: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(s)
}

/// The bytes of a PNS's Start-Control-Connection-Request.
fn sccrq() -> Vec<u8> {
    let mut pns = ControlConnection::new(ControlConfig::new(Role::Pns));
    pns.start(Instant::ZERO);
    pns.poll_transmit().unwrap().to_vec()
}

#[test]
fn a_silent_connection_is_closed_after_the_start_timeout_and_frees_everything() {
    let mut server = Server::new(ServerConfig::new("vpn", pool(9)));
    let before = live_bytes();
    let now = Instant::ZERO;
    let conns: Vec<_> = (0..200u8)
        .map(|i| server.accept(now, [203, 0, 113, i].into()).unwrap())
        .collect();
    // Nothing is said; the deadline is the default 5 s, not an hour.
    assert_eq!(server.poll_timeout(), Some(secs(5)));
    server.handle_timeout(secs(5));
    let mut down = 0;
    while let Some(e) = server.poll_event() {
        let ServerEvent::SessionDown { connection, reason } = e else {
            panic!("unexpected {e:?}");
        };
        assert_eq!(
            reason,
            SessionDownReason::Control(CloseReason::StartTimeout)
        );
        assert_eq!(
            reason.to_string(),
            "no Start-Control-Connection-Request in time"
        );
        server.handle_stream_closed(secs(5), connection);
        down += 1;
    }
    assert_eq!(down, conns.len());
    assert_eq!(server.counters().start_timeouts, 200);
    assert_eq!(server.connection_count(), 0);
    // A server with no sessions has no pending timer and holds (almost)
    // nothing: the admission table forgets sources after a second.
    assert_eq!(server.poll_timeout(), None);
    let held = live_bytes() - before;
    assert!(
        held < 64 * 1024,
        "{held} bytes held after every connection closed"
    );
}

#[test]
fn a_half_sent_message_is_closed_after_the_message_timeout() {
    let mut server = Server::new(ServerConfig::new("vpn", pool(9)));
    let sccrq = sccrq();
    // The first 10 bytes of an SCCRQ, then nothing: the start timeout ends it.
    let c = server.accept(Instant::ZERO, addr(1)).unwrap();
    server
        .handle_stream(Instant::ZERO, c, &sccrq[..10])
        .unwrap();
    server.handle_timeout(secs(5));
    let e = server.poll_event();
    assert!(
        matches!(
            &e,
            Some(ServerEvent::SessionDown {
                reason: SessionDownReason::Control(CloseReason::StartTimeout),
                ..
            })
        ),
        "{e:?}"
    );
    server.handle_stream_closed(secs(5), c);

    // A whole SCCRQ, then half an Outgoing-Call-Request at 1 s: closed 10 s
    // after its first byte.
    let mut pns = ControlConnection::new(ControlConfig::new(Role::Pns));
    pns.start(secs(6));
    let c = server.accept(secs(6), addr(2)).unwrap();
    server
        .handle_stream(secs(6), c, &pns.poll_transmit().unwrap())
        .unwrap();
    while let Some((_, b)) = server.poll_stream_transmit() {
        pns.handle_stream(secs(6), &b).unwrap();
    }
    pns.open_call(secs(7)).unwrap();
    let ocrq = pns.poll_transmit().unwrap();
    server.handle_stream(secs(7), c, &ocrq[..20]).unwrap();
    server.handle_timeout(secs(16));
    assert_eq!(server.poll_event(), None, "closed early");
    server.handle_timeout(secs(17));
    let e = server.poll_event();
    let Some(ServerEvent::SessionDown { reason, .. }) = e else {
        panic!("{e:?}")
    };
    assert_eq!(
        reason,
        SessionDownReason::Control(CloseReason::MessageTimeout)
    );
    assert_eq!(server.counters().message_timeouts, 1);
    let _ = pns.poll_event();
    assert!(matches!(
        pns.poll_event(),
        Some(ControlEvent::Connected { .. }) | None
    ));
}

#[test]
fn clients_that_never_finish_authenticating_hold_no_address() {
    // Two addresses; two clients stall at authentication (the embedder
    // never answers them), then a genuine user arrives.
    let mut config = ServerConfig::new("vpn", pool(3));
    config.verdict_timeout = Some(Duration::from_secs(30));
    let mut lab = Lab::new(config);
    let a = lab.connect("mallory", addr(1), Answer::Never);
    let b = lab.connect("trudy", addr(2), Answer::Never);
    lab.run(secs(5));
    let c = lab.connect("alice", addr(3), Answer::Password);
    lab.run(secs(10));
    assert_eq!(lab.session_up(c), Some([10, 0, 0, 2].into()));
    assert!(lab.peers[c].up);
    assert_eq!(lab.peers[c].local, Some([10, 0, 0, 2].into()));
    // The stalled ones got nothing and end at their verdict deadline.
    assert_eq!((lab.session_up(a), lab.session_up(b)), (None, None));
    lab.run(secs(60));
    for i in [a, b] {
        let (at, reason) = lab.down_reason(i).expect("down");
        assert_eq!(reason, SessionDownReason::Deadline(Deadline::Verdict));
        assert!(at <= secs(31), "verdict deadline passed at {at:?}");
        assert!(!lab.peers[i].up);
    }
    assert_eq!(lab.server.counters().verdict_timeouts, 2);
    assert!(lab.peers[c].up);
}

#[test]
fn an_exhausted_pool_ends_the_session_and_a_freed_address_is_reused() {
    let mut lab = Lab::new(ServerConfig::new("vpn", pool(2)));
    let first = lab.connect("alice", addr(1), Answer::Password);
    lab.run(secs(5));
    assert_eq!(lab.session_up(first), Some([10, 0, 0, 2].into()));
    let second = lab.connect("bob", addr(2), Answer::Password);
    lab.run(secs(10));
    let (_, reason) = lab.down_reason(second).expect("down");
    assert_eq!(reason, SessionDownReason::NoAddress);
    assert_eq!(reason.to_string(), "no free address in the pool");
    assert!(!lab.peers[second].up && lab.session_up(second).is_none());
    assert_eq!(lab.server.counters().pool_exhausted, 1);
    // The first goes down: its address comes back.
    let conn = lab.peers[first].conn;
    lab.server.close(lab.now, conn);
    lab.run(secs(30));
    assert!(lab.down_reason(first).is_some());
    let third = lab.connect("carol", addr(3), Answer::Password);
    lab.run(secs(40));
    assert_eq!(lab.session_up(third), Some([10, 0, 0, 2].into()));
}

#[test]
fn an_embedder_that_never_assigns_an_address_hits_the_establish_deadline() {
    let mut config = ServerConfig::new("vpn", pool(9));
    config.pool = None;
    // Shorter than the client's own IPCP patience (10 × 3 s).
    config.establish_timeout = Some(Duration::from_secs(20));
    let mut lab = Lab::new(config);
    let i = lab.connect("alice", addr(1), Answer::Password);
    lab.run(secs(120));
    // The AddressRequest came after authentication, never before.
    let asked = lab
        .events
        .iter()
        .position(|(_, e)| matches!(e, ServerEvent::AddressRequest { .. }));
    let auth = lab
        .events
        .iter()
        .position(|(_, e)| matches!(e, ServerEvent::AuthRequest { .. }));
    assert!(auth.is_some() && asked > auth, "{:?}", lab.events);
    let (at, reason) = lab.down_reason(i).expect("down");
    assert_eq!(reason, SessionDownReason::Deadline(Deadline::Establish));
    assert_eq!(at, secs(20));
    assert!(
        lab.peers[i].local.is_none(),
        "the client came up without an address"
    );
    assert_eq!(lab.server.counters().establish_timeouts, 1);
}

/// An LCP Terminate-Request to `call_id`, as GRE with sequence number `seq`.
fn forged_terminate(call_id: u16, seq: u32) -> Vec<u8> {
    let mut config = GreConfig::new(0, call_id);
    config.initial_sequence = seq;
    let mut gre = GreChannel::new(config);
    let mut out = vec![0u8; 64];
    let lcp = [0xff, 0x03, 0xc0, 0x21, 5, 0x77, 0, 4];
    let n = gre.encapsulate(Instant::ZERO, &lcp, &mut out).unwrap();
    out.truncate(n);
    out
}

fn call_ids(server: &Server) -> BTreeSet<u16> {
    (0..=u16::MAX)
        .filter(|id| server.connection_of_call(*id).is_some())
        .collect()
}

#[test]
fn gre_from_another_address_cannot_reach_a_session() {
    let mut lab = Lab::new(ServerConfig::new("vpn", pool(9)));
    let victim = lab.connect("alice", addr(1), Answer::Password);
    lab.run(secs(5));
    assert!(lab.peers[victim].up);
    let call_id = *call_ids(&lab.server).first().unwrap();
    // The attacker knows the Call ID but sends from its own address.
    // The next sequence number but one: in the window.
    let conn = lab.peers[victim].conn;
    let seq = lab.server.stats(conn).unwrap().gre.received as u32 + 1;
    for _ in 0..10 {
        let mut d = forged_terminate(call_id, seq);
        let r = lab.server.handle_datagram(lab.now, addr(66), &mut d);
        assert_eq!(r, Err(ServerError::WrongSource { call_id }));
    }
    assert_eq!(lab.server.counters().wrong_source, 10);
    lab.run(secs(20));
    assert!(lab.peers[victim].up && lab.down_reason(victim).is_none());
    // The same packet from the victim's own address does end it: the
    // check above is what kept it up.
    let mut d = forged_terminate(call_id, seq);
    let _ = lab.server.handle_datagram(lab.now, addr(1), &mut d);
    lab.run(secs(40));
    assert!(lab.down_reason(victim).is_some());
}

#[test]
fn call_ids_are_random_not_sequential() {
    let ids = |seed: u64| {
        let mut server = Server::new(ServerConfig::new("vpn", pool(9)).with_seed(seed));
        for i in 0..8 {
            server.accept(Instant::ZERO, addr(i)).unwrap();
        }
        call_ids(&server)
    };
    let (a, b) = (ids(1), ids(2));
    assert_eq!(a.len(), 8);
    assert_ne!(a, b, "two seeds gave the same Call IDs");
    let sequential: BTreeSet<u16> = (1..=8).collect();
    assert_ne!(a, sequential);
    let (lo, hi) = (a.first().unwrap(), a.last().unwrap());
    assert!(hi - lo > 100, "Call IDs {a:?} are clustered");
}

#[test]
fn one_source_cannot_take_every_connection() {
    let mut config = ServerConfig::new("vpn", pool(9));
    config.max_connections = 100;
    let mut server = Server::new(config);
    let before = live_bytes();
    let mut accepted = Vec::new();
    let mut refused = (0, 0);
    // 1 000 attempts in 10 s from one address.
    for k in 0..1000u64 {
        let now = Instant::ZERO + Duration::from_millis(10 * k);
        match server.accept(now, addr(9)) {
            Ok(c) => accepted.push(c),
            Err(ServerError::Refused(Refusal::SourceRate)) => refused.0 += 1,
            Err(ServerError::Refused(Refusal::SourceConnections)) => refused.1 += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    // 16 a second, 64 at once at most; everyone else still gets in.
    assert!(accepted.len() <= 64, "{} accepted", accepted.len());
    assert!(refused.0 > 0 && refused.1 > 0, "{refused:?}");
    assert!(server.accept(secs(10), addr(10)).is_ok());
    let c = server.counters();
    assert_eq!(
        (c.refused_source_rate, c.refused_source_connections),
        refused
    );
    // Each held connection costs little.
    let per = (live_bytes() - before) / (accepted.len() as i64 + 1);
    assert!(per < 4096, "{per} bytes per idle connection");
}

#[test]
fn single_session_per_user() {
    let mut config = ServerConfig::new("vpn", pool(9));
    config.max_sessions_per_user = Some(1);
    let mut lab = Lab::new(config);
    let first = lab.connect("alice", addr(1), Answer::Password);
    lab.run(secs(5));
    let again = lab.connect("alice", addr(2), Answer::Password);
    let bob = lab.connect("bob", addr(3), Answer::Password);
    lab.run(secs(10));
    assert!(lab.peers[first].up && lab.peers[bob].up);
    let (_, reason) = lab.down_reason(again).expect("down");
    assert_eq!(reason, SessionDownReason::UserLimit);
    assert!(!lab.peers[again].up);
    assert_eq!(lab.server.counters().user_limit, 1);
    // Once the first session ends, alice may connect again.
    let conn = lab.peers[first].conn;
    lab.server.close(lab.now, conn);
    lab.run(secs(30));
    let later = lab.connect("alice", addr(4), Answer::Password);
    lab.run(secs(40));
    assert!(lab.peers[later].up);
}

#[test]
fn an_idle_session_is_closed_and_traffic_keeps_it_open() {
    let mut config = ServerConfig::new("vpn", pool(9));
    config.idle_timeout = Some(Duration::from_secs(60));
    let mut lab = Lab::new(config);
    let i = lab.connect("alice", addr(1), Answer::Password);
    lab.run(secs(5));
    assert!(lab.peers[i].up);
    let ip = [
        0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
    ];
    let mut out = vec![0u8; 1600];
    // A packet every 40 s for 4 minutes: LCP and PPTP echoes alone would
    // not keep it, these do.
    for k in 1..=6 {
        lab.run(secs(5 + 40 * k));
        let now = lab.now;
        let r = lab.peers[i].client.send_ip(now, &ip, &mut out).unwrap();
        let got = lab.server.handle_datagram(now, addr(1), &mut out[r]);
        assert!(matches!(got, Ok((_, Some(_)))), "{got:?}");
    }
    let last = lab.now;
    assert!(lab.down_reason(i).is_none());
    lab.run(last + Duration::from_secs(120));
    let (at, reason) = lab.down_reason(i).expect("down");
    assert_eq!(reason, SessionDownReason::Deadline(Deadline::Idle));
    assert_eq!(at, last + Duration::from_secs(60));
    assert_eq!(lab.server.counters().idle_timeouts, 1);
}

#[test]
fn an_outgoing_call_request_flood_closes_the_connection_and_holds_nothing() {
    let mut server = Server::new(ServerConfig::new("vpn", pool(9)));
    let before = live_bytes();
    let mut pns = ControlConnection::new(ControlConfig::new(Role::Pns));
    pns.start(Instant::ZERO);
    let c = server.accept(Instant::ZERO, addr(1)).unwrap();
    server
        .handle_stream(Instant::ZERO, c, &pns.poll_transmit().unwrap())
        .unwrap();
    while let Some((_, b)) = server.poll_stream_transmit() {
        pns.handle_stream(Instant::ZERO, &b).unwrap();
    }
    // The same OCRQ ten thousand times, nobody reading the replies.
    pns.open_call(Instant::ZERO).unwrap();
    let ocrq = pns.poll_transmit().unwrap();
    for _ in 0..10_000 {
        if server.handle_stream(Instant::ZERO, c, &ocrq).is_err() {
            break;
        }
    }
    let (streams, _, _) = server.queued();
    assert!(streams <= 65_536);
    let mut down = false;
    while let Some(e) = server.poll_event() {
        down |= matches!(e, ServerEvent::SessionDown { .. });
    }
    while server.poll_stream_transmit().is_some() {}
    server.handle_stream_closed(Instant::ZERO, c);
    assert!(down || server.connection_count() == 0);
    assert_eq!(server.poll_timeout(), None);
    let held = live_bytes() - before;
    assert!(held < 64 * 1024, "{held} bytes held");
}

impl Lab {
    /// Sends `frame` (a PPP frame) on client `i`'s call from its own
    /// address, with a sequence number in the window: what an attacker on
    /// the path, or a client's own malicious stack, can do.
    fn inject(&mut self, i: usize, frame: &[u8]) -> Result<Option<Vec<u8>>, ServerError> {
        let conn = self.peers[i].conn;
        let call_id = (0..=u16::MAX)
            .find(|id| self.server.connection_of_call(*id) == Some(conn))
            .expect("a call");
        // The client's next sequence number, then on past what we sent.
        let seq = self.peers[i].client.stats().gre.sent as u32 + self.injected;
        self.injected += 1;
        let mut config = GreConfig::new(0, call_id);
        config.initial_sequence = seq;
        let mut gre = GreChannel::new(config);
        let mut out = vec![0u8; frame.len() + 64];
        let n = gre.encapsulate(self.now, frame, &mut out).unwrap();
        let from = self.peers[i].addr;
        self.server
            .handle_datagram(self.now, from, &mut out[..n])
            .map(|(_, ip)| ip.map(<[u8]>::to_vec))
    }

    fn ip_events(&self) -> usize {
        self.events
            .iter()
            .filter(|(_, e)| matches!(e, ServerEvent::IpPacket { .. }))
            .count()
    }
}

/// A plaintext IP packet in a PPP frame (protocol 0x0021).
fn plain_ip_frame() -> Vec<u8> {
    let mut f = vec![0xff, 0x03, 0x00, 0x21];
    f.extend_from_slice(&[
        0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
    ]);
    f
}

fn lcp_frame(code: u8, identifier: u8, data: &[u8]) -> Vec<u8> {
    let len = (4 + data.len()) as u16;
    let mut f = vec![0xff, 0x03, 0xc0, 0x21, code, identifier];
    f.extend_from_slice(&len.to_be_bytes());
    f.extend_from_slice(data);
    f
}

#[test]
fn ip_before_authentication_is_never_delivered_and_earns_no_address() {
    let mut lab = Lab::new(ServerConfig::new("vpn", pool(9)));
    let i = lab.connect("mallory", addr(1), Answer::Never);
    lab.run(secs(3));
    for _ in 0..50 {
        let got = lab.inject(i, &plain_ip_frame());
        assert!(matches!(got, Ok(None) | Err(_)), "{got:?}");
    }
    lab.run(secs(10));
    assert_eq!(lab.ip_events(), 0);
    assert!(lab.session_up(i).is_none());
    assert!(!lab
        .events
        .iter()
        .any(|(_, e)| matches!(e, ServerEvent::AddressRequest { .. })));
    let stats = lab.server.stats(lab.peers[i].conn).unwrap();
    assert_eq!(stats.ppp.ip_received, 0);
    assert!(stats.ppp.dropped >= 50, "{:?}", stats.ppp);
}

#[test]
fn after_an_authentication_failure_nothing_is_delivered() {
    let mut lab = Lab::new(ServerConfig::new("vpn", pool(9)));
    let conn = lab.server.accept(lab.now, addr(1)).unwrap();
    let call_id = (0..=u16::MAX)
        .find(|id| lab.server.connection_of_call(*id) == Some(conn))
        .unwrap();
    let mut client =
        Client::new(ClientConfig::new("alice", Password::new("wrong").unwrap()).with_seed(5));
    client.start(lab.now);
    lab.peers.push(Peer {
        conn,
        addr: addr(1),
        client,
        answer: Answer::Password,
        up: false,
        local: None,
        closed: false,
    });
    lab.run(secs(10));
    let (_, reason) = lab.down_reason(0).expect("down");
    assert!(matches!(reason, SessionDownReason::Ppp(_)), "{reason:?}");
    assert!(lab.session_up(0).is_none());
    // The call is gone: IP sent on its Call ID finds nothing.
    let mut gre = GreChannel::new(GreConfig::new(0, call_id));
    let mut out = vec![0u8; 128];
    let n = gre
        .encapsulate(lab.now, &plain_ip_frame(), &mut out)
        .unwrap();
    let got = lab.server.handle_datagram(lab.now, addr(1), &mut out[..n]);
    assert_eq!(got, Err(ServerError::UnknownCall(call_id)));
    assert_eq!(lab.ip_events(), 0);
}

#[test]
fn plaintext_ip_after_mppe_is_up_is_dropped_and_counted() {
    let mut lab = Lab::new(ServerConfig::new("vpn", pool(9)));
    let i = lab.connect("alice", addr(1), Answer::Password);
    lab.run(secs(5));
    assert!(lab.peers[i].up);
    let conn = lab.peers[i].conn;
    let dropped = lab.server.stats(conn).unwrap().ppp.dropped;
    for _ in 0..20 {
        let refused = Err(ServerError::Tunnel(TunnelError::Ppp(
            PppError::PlaintextRefused,
        )));
        assert_eq!(lab.inject(i, &plain_ip_frame()), refused);
    }
    lab.run(secs(10));
    assert_eq!(lab.ip_events(), 0);
    let stats = lab.server.stats(conn).unwrap();
    assert_eq!(stats.ppp.dropped, dropped + 20);
    assert!(lab.peers[i].up, "plaintext took the session down");
}

#[test]
fn lcp_storms_and_echo_floods_stay_bounded() {
    let mut lab = Lab::new(ServerConfig::new("vpn", pool(9)));
    let i = lab.connect("alice", addr(1), Answer::Password);
    lab.run(secs(5));
    assert!(lab.peers[i].up);
    let before = live_bytes();
    // 2 000 Echo-Requests with 1 400 octets of data, nobody draining.
    let magic = [0, 0, 0, 0];
    let mut data = magic.to_vec();
    data.resize(1400, 0x55);
    for k in 0..2_000u32 {
        let _ = lab.inject(i, &lcp_frame(9, k as u8, &data));
    }
    let (streams, datagrams, events) = lab.server.queued();
    assert!(datagrams <= 65_536 && streams <= 65_536 && events <= 4096 + 64);
    let peak = live_bytes() - before;
    // What is queued is bounded (per session and per server), not 2 000 replies.
    assert!(peak < 8 << 20, "{peak} bytes after an echo flood");
    while lab.server.poll_datagram_transmit().is_some() {}
    // 500 Configure-Requests with changing Identifiers: renegotiation
    // each time, answers bounded, and the session ends or recovers.
    let mru = [1, 4, 0x05, 0x78];
    for k in 0..500u32 {
        let _ = lab.inject(i, &lcp_frame(1, k as u8, &mru));
    }
    let (_, datagrams, _) = lab.server.queued();
    assert!(datagrams <= 65_536);
    lab.run(secs(120));
    let settled = lab.down_reason(i).is_some() || lab.peers[i].up;
    assert!(settled, "neither down nor up after an LCP storm");
    assert_eq!(lab.ip_events(), 0);
}

#[test]
fn a_huge_user_name_is_bounded_by_the_frame() {
    // A client whose name fills what a frame can carry: the server takes
    // it (or refuses it) without holding more than the frame.
    let mut lab = Lab::new(ServerConfig::new("vpn", pool(9)));
    let name = "x".repeat(4000);
    let before = live_bytes();
    let i = lab.connect(&name, addr(1), Answer::Password);
    lab.run(secs(60));
    let held = live_bytes() - before;
    assert!(held < 256 * 1024, "{held} bytes for one session");
    let asked: Vec<_> = lab
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            ServerEvent::AuthRequest { username, .. } => Some(username.len()),
            _ => None,
        })
        .collect();
    // pppd's MAXNAMELEN: the embedder never sees it, and nothing comes up.
    assert!(asked.is_empty(), "{asked:?}");
    assert!(lab.session_up(i).is_none() && !lab.peers[i].up);
}
