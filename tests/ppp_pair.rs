//! Two `PppSession`s, authenticator and peer, through an in-memory link with
//! a virtual clock: every auth method × MPPE mode comes up and carries IP
//! both ways; a lossy, duplicating, reordering link still comes up; the fault
//! cases go down for the right reason.
//!
//! `cargo test --test ppp_pair -- --nocapture`

use std::collections::VecDeque;

use pptp_proto::crypto::Password;
use pptp_proto::ppp::auth::{AuthFailure, Credentials};
use pptp_proto::ppp::ccp::{CcpConfig, MppeRequirement, StatelessPolicy};
use pptp_proto::ppp::ipcp::IpAssignment;
use pptp_proto::ppp::lcp::{AuthMethod, EchoConfig};
use pptp_proto::ppp::session::{DownReason, PppEvent, PppSession, Received, SessionConfig};
use pptp_proto::time::{Duration, Instant};
use pptp_proto::wire::mppe::MppeBits;
use pptp_proto::wire::ppp::{PppFrame, Protocol};

/// A seeded link: loss, duplication, reordering, fixed delay.
struct Link {
    rng: u64,
    loss: f64,
    duplicate: f64,
    reorder: f64,
    delay: Duration,
    in_flight: VecDeque<(Instant, Vec<u8>)>,
}

impl Link {
    fn new(seed: u64, loss: f64, duplicate: f64, reorder: f64) -> Self {
        Link {
            rng: seed,
            loss,
            duplicate,
            reorder,
            delay: Duration::from_millis(20),
            in_flight: VecDeque::new(),
        }
    }

    fn chance(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn send(&mut self, now: Instant, frame: Vec<u8>) {
        if self.chance() < self.loss {
            return;
        }
        let copies = if self.chance() < self.duplicate { 2 } else { 1 };
        for _ in 0..copies {
            let mut at = now + self.delay;
            if self.chance() < self.reorder {
                at += Duration::from_millis(50);
            }
            let pos = self
                .in_flight
                .iter()
                .position(|(t, _)| *t > at)
                .unwrap_or(self.in_flight.len());
            self.in_flight.insert(pos, (at, frame.clone()));
        }
    }

    fn next_delivery(&self) -> Option<Instant> {
        self.in_flight.front().map(|(t, _)| *t)
    }

    fn pop_due(&mut self, now: Instant) -> Option<Vec<u8>> {
        match self.in_flight.front() {
            Some((t, _)) if *t <= now => self.in_flight.pop_front().map(|(_, f)| f),
            _ => None,
        }
    }
}

/// Authenticator (server) and peer (client) joined by two links.
struct Pair {
    now: Instant,
    server: PppSession,
    client: PppSession,
    to_client: Link,
    to_server: Link,
    server_events: Vec<PppEvent>,
    client_events: Vec<PppEvent>,
    /// What the authenticator answers to `AuthRequest`.
    secret: Option<&'static str>,
    /// Answer with `Credentials::Expired` instead (MS-CHAPv2 E=648).
    expired: bool,
    server_ip: Vec<Vec<u8>>,
    client_ip: Vec<Vec<u8>>,
    /// Every frame sent: (by the client?, protocol, first byte of the information).
    trace: Vec<(bool, Protocol, u8)>,
}

/// The protocol and code of a frame, for the trace.
fn frame_kind(frame: &[u8]) -> (Protocol, u8) {
    let f = PppFrame::parse(frame).expect("our own frames parse");
    (f.protocol, f.information.first().copied().unwrap_or(0))
}

impl Pair {
    fn new(server: SessionConfig, client: SessionConfig, seed: u64, loss: f64) -> Self {
        Pair {
            now: Instant::ZERO,
            server: PppSession::new(server),
            client: PppSession::new(client),
            to_client: Link::new(seed, loss, loss / 2.0, loss),
            to_server: Link::new(seed ^ 0x5555, loss, loss / 2.0, loss),
            server_events: Vec::new(),
            client_events: Vec::new(),
            secret: Some(PASSWORD),
            expired: false,
            server_ip: Vec::new(),
            client_ip: Vec::new(),
            trace: Vec::new(),
        }
    }

    fn open(&mut self) {
        self.server.set_ip_assignment(IpAssignment {
            local: Some([10, 0, 0, 1].into()),
            peer: Some([10, 0, 0, 2].into()),
            dns: [Some([10, 0, 0, 53].into()), Some([9, 9, 9, 9].into())],
            nbns: [None, None],
        });
        self.server.open(self.now);
        self.client.open(self.now);
        self.flush();
    }

    /// Moves outputs into the links and events into the logs, answering
    /// the authenticator's credential requests.
    fn flush(&mut self) {
        loop {
            let mut moved = false;
            while let Some(frame) = self.server.poll_transmit() {
                let (protocol, code) = frame_kind(&frame);
                self.trace.push((false, protocol, code));
                self.to_client.send(self.now, frame.to_vec());
                moved = true;
            }
            while let Some(frame) = self.client.poll_transmit() {
                let (protocol, code) = frame_kind(&frame);
                self.trace.push((true, protocol, code));
                self.to_server.send(self.now, frame.to_vec());
                moved = true;
            }
            while let Some(event) = self.server.poll_event() {
                if let PppEvent::AuthRequest { .. } = &event {
                    let answer = match (self.expired, self.secret) {
                        (true, Some(s)) => Credentials::Expired(Password::new(s).unwrap()),
                        _ => credentials_for(self.secret),
                    };
                    self.server_events.push(event);
                    self.server.provide_credentials(self.now, answer);
                } else {
                    self.server_events.push(event);
                }
                moved = true;
            }
            while let Some(event) = self.client.poll_event() {
                self.client_events.push(event);
                moved = true;
            }
            if !moved {
                return;
            }
        }
    }

    /// Runs until `done` or `limit` of virtual time passed. Returns whether `done` held.
    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Pair) -> bool) -> bool {
        let end = self.now + limit;
        for _ in 0..1_000_000 {
            if done(self) {
                return true;
            }
            let next = [
                self.server.poll_timeout(),
                self.client.poll_timeout(),
                self.to_client.next_delivery(),
                self.to_server.next_delivery(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next else { return done(self) };
            if next > end {
                self.now = end;
                return done(self);
            }
            self.now = self.now.max(next);
            while let Some(mut frame) = self.to_client.pop_due(self.now) {
                if let Ok(Received::Ipv4(ip)) = self.client.handle_frame(self.now, &mut frame) {
                    self.client_ip.push(ip.to_vec());
                }
            }
            while let Some(mut frame) = self.to_server.pop_due(self.now) {
                if let Ok(Received::Ipv4(ip)) = self.server.handle_frame(self.now, &mut frame) {
                    self.server_ip.push(ip.to_vec());
                }
            }
            self.server.handle_timeout(self.now);
            self.client.handle_timeout(self.now);
            self.flush();
        }
        panic!("step bound exceeded: a timer is busy-looping");
    }

    fn both_up(&self) -> bool {
        self.server.is_network_up() && self.client.is_network_up()
    }

    fn down_reason(events: &[PppEvent]) -> Option<&DownReason> {
        events.iter().find_map(|e| match e {
            PppEvent::Down { reason } => Some(reason),
            _ => None,
        })
    }

    /// Sends `n` IPv4 packets each way and checks they arrive intact, in order.
    fn exchange_ip(&mut self, n: usize) {
        let mut buf = vec![0u8; 2048];
        for i in 0..n {
            let packet = ipv4_packet(i as u16);
            let len = self
                .client
                .send_ip(self.now, &packet, &mut buf)
                .expect("client send");
            self.to_server.send(self.now, buf[..len].to_vec());
            let len = self
                .server
                .send_ip(self.now, &packet, &mut buf)
                .expect("server send");
            self.to_client.send(self.now, buf[..len].to_vec());
        }
        let limit = Duration::from_secs(5);
        self.run_until(limit, |p| p.server_ip.len() >= n && p.client_ip.len() >= n);
    }
}

const USER: &str = "alice";
const PASSWORD: &str = "secret";

/// An IPv4 header with a valid checksum and an id, plus a little payload.
fn ipv4_packet(id: u16) -> Vec<u8> {
    let mut p = vec![
        0x45,
        0,
        0,
        28,
        (id >> 8) as u8,
        id as u8,
        0,
        0,
        64,
        1,
        0,
        0,
        10,
        0,
        0,
        2,
        10,
        0,
        0,
        1,
        8,
        0,
        0,
        0,
        0,
        1,
        0,
        1,
    ];
    let sum = p[..20]
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum::<u32>();
    let sum = !((sum & 0xffff) + (sum >> 16)) as u16;
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p
}

fn credentials_for(secret: Option<&str>) -> Credentials {
    match secret {
        Some(s) => Credentials::Password(Password::new(s).unwrap()),
        None => Credentials::Reject,
    }
}

/// The MPPE modes of the matrix: a name and the CCP policy of both sides.
fn mppe_modes() -> Vec<(&'static str, CcpConfig)> {
    let mode = |mppe, strengths, stateless| CcpConfig {
        mppe,
        strengths,
        stateless,
        ..CcpConfig::default()
    };
    let all = MppeBits::BITS_40 | MppeBits::BITS_56 | MppeBits::BITS_128;
    vec![
        (
            "none",
            mode(MppeRequirement::Refused, all, StatelessPolicy::Preferred),
        ),
        (
            "40",
            mode(
                MppeRequirement::Required,
                MppeBits::BITS_40,
                StatelessPolicy::Preferred,
            ),
        ),
        (
            "56",
            mode(
                MppeRequirement::Required,
                MppeBits::BITS_56,
                StatelessPolicy::Preferred,
            ),
        ),
        (
            "128",
            mode(
                MppeRequirement::Required,
                MppeBits::BITS_128,
                StatelessPolicy::Preferred,
            ),
        ),
        (
            "128 stateless",
            mode(MppeRequirement::Required, all, StatelessPolicy::Required),
        ),
        (
            "128 stateful",
            mode(MppeRequirement::Required, all, StatelessPolicy::Refused),
        ),
    ]
}

fn configs(method: AuthMethod, ccp: CcpConfig, seed: u64) -> (SessionConfig, SessionConfig) {
    let mut server = SessionConfig::authenticator("pptp-proto");
    server.lcp.auth = vec![method];
    server.ccp = ccp;
    server.seed = seed;
    let mut client = SessionConfig::peer(USER, Password::new(PASSWORD).unwrap());
    client.lcp.auth = vec![method];
    client.ccp = ccp;
    client.seed = seed.wrapping_mul(31).wrapping_add(7);
    (server, client)
}

const METHODS: [AuthMethod; 4] = [
    AuthMethod::Pap,
    AuthMethod::ChapMd5,
    AuthMethod::MsChapV1,
    AuthMethod::MsChapV2,
];

#[test]
fn every_auth_method_and_mppe_mode() {
    println!("{:10} {:14} result", "auth", "mppe");
    for method in METHODS {
        for (name, ccp) in mppe_modes() {
            let (server, client) = configs(method, ccp, 1);
            let mut p = Pair::new(server, client, 1, 0.0);
            p.open();
            let up = p.run_until(Duration::from_secs(30), Pair::both_up);
            let ms_chap = matches!(method, AuthMethod::MsChapV1 | AuthMethod::MsChapV2);
            if ccp.mppe == MppeRequirement::Required && !ms_chap {
                // MPPE keys come only from MS-CHAP: required MPPE cannot run.
                assert!(!up, "{method:?}/{name}: came up without MPPE keys");
                let reason = Pair::down_reason(&p.server_events).cloned();
                assert_eq!(reason, Some(DownReason::NoMppeKeys), "{method:?}/{name}");
                println!(
                    "{:10} {name:14} down: MPPE required but no MPPE keys (as expected)",
                    format!("{method:?}")
                );
                continue;
            }
            assert!(
                up,
                "{method:?}/{name}: not up; server {:?} client {:?}",
                p.server_events, p.client_events
            );
            assert_eq!(
                p.server.is_encrypted(),
                ccp.mppe == MppeRequirement::Required
            );
            assert_eq!(
                p.client.is_encrypted(),
                ccp.mppe == MppeRequirement::Required
            );
            let bits = p.client_events.iter().find_map(|e| match e {
                PppEvent::CompressionUp { mppe } => Some(*mppe),
                _ => None,
            });
            if let Some(bits) = bits {
                match name {
                    "40" => assert!(bits.contains(MppeBits::BITS_40)),
                    "56" => assert!(bits.contains(MppeBits::BITS_56)),
                    "128 stateful" => assert!(!bits.contains(MppeBits::STATELESS)),
                    _ => assert!(bits.contains(MppeBits::BITS_128 | MppeBits::STATELESS)),
                }
            }
            let addresses = p.client_events.iter().find_map(|e| match e {
                PppEvent::NetworkUp {
                    local, peer, dns, ..
                } => Some((*local, *peer, *dns)),
                _ => None,
            });
            assert_eq!(
                addresses,
                Some((
                    [10, 0, 0, 2].into(),
                    [10, 0, 0, 1].into(),
                    [Some([10, 0, 0, 53].into()), Some([9, 9, 9, 9].into())]
                )),
                "{method:?}/{name}: the 0.0.0.0 -> Nak -> address flow"
            );
            p.exchange_ip(50);
            assert_eq!(p.client_ip.len(), 50, "{method:?}/{name}");
            assert_eq!(p.server_ip.len(), 50, "{method:?}/{name}");
            for (i, ip) in p.server_ip.iter().enumerate() {
                assert_eq!(ip, &ipv4_packet(i as u16), "in order and intact");
            }
            println!(
                "{:10} {name:14} up at {:?}, mppe {:?}, 50 IP packets each way",
                format!("{method:?}"),
                p.now,
                bits
            );
        }
    }
}

#[test]
fn lossy_duplicating_reordering_link_still_comes_up() {
    for seed in 0..10 {
        let (server, client) = configs(AuthMethod::MsChapV2, CcpConfig::default(), seed);
        let mut p = Pair::new(server, client, seed, 0.2);
        p.open();
        assert!(
            p.run_until(Duration::from_secs(60), Pair::both_up),
            "seed {seed}: client {:?}\nserver {:?}\n{:?}",
            p.client_events,
            p.server_events,
            p.trace
        );
        println!("seed {seed}: 20% loss/reorder, 10% dup: up at {:?}", p.now);
    }
}

fn assert_down(p: &Pair, server: Option<DownReason>, client: Option<DownReason>) {
    if let Some(r) = server {
        assert_eq!(
            Pair::down_reason(&p.server_events),
            Some(&r),
            "server events {:?}",
            p.server_events
        );
    }
    if let Some(r) = client {
        assert_eq!(
            Pair::down_reason(&p.client_events),
            Some(&r),
            "client events {:?}",
            p.client_events
        );
    }
}

#[test]
fn fault_cases_go_down_for_the_right_reason() {
    // Wrong password: both sides report it.
    for method in METHODS {
        let (server, mut client) = configs(
            method,
            CcpConfig {
                mppe: MppeRequirement::Optional,
                ..CcpConfig::default()
            },
            3,
        );
        if let pptp_proto::ppp::session::AuthConfig::Peer(peer) = &mut client.auth {
            peer.password = Password::new("wrong").unwrap();
        }
        let mut p = Pair::new(server, client, 3, 0.0);
        p.open();
        p.run_until(Duration::from_secs(30), |p| {
            !p.client_events.is_empty() && Pair::down_reason(&p.client_events).is_some()
        });
        assert_down(
            &p,
            Some(DownReason::AuthFailed(AuthFailure::BadPassword)),
            Some(DownReason::AuthFailed(AuthFailure::BadPassword)),
        );
        println!(
            "wrong password, {method:?}: both down, bad password at {:?}",
            p.now
        );
    }
    // The peer accepts only PAP; the server demands MS-CHAPv2.
    let (server, mut client) = configs(AuthMethod::MsChapV2, CcpConfig::default(), 4);
    client.lcp.auth = vec![AuthMethod::Pap];
    let mut p = Pair::new(server, client, 4, 0.0);
    p.open();
    p.run_until(Duration::from_secs(30), |p| {
        Pair::down_reason(&p.server_events).is_some()
    });
    assert_down(&p, Some(DownReason::NoAuthMethod), None);
    println!("peer refuses every auth method: server down, no auth method");
    // The peer refuses MPPE, the server requires it.
    let (server, mut client) = configs(AuthMethod::MsChapV2, CcpConfig::default(), 5);
    client.ccp.mppe = MppeRequirement::Refused;
    let mut p = Pair::new(server, client, 5, 0.0);
    p.open();
    p.run_until(Duration::from_secs(60), |p| {
        Pair::down_reason(&p.server_events).is_some()
    });
    assert_down(&p, Some(DownReason::MppeRefused), None);
    assert!(p.server_ip.is_empty() && p.client_ip.is_empty());
    println!("peer refuses MPPE while required: server down, MPPE refused, no plaintext");
    // A silent server: the client's LCP gives up after Max-Configure (10 x 3 s).
    let (server, client) = configs(AuthMethod::MsChapV2, CcpConfig::default(), 6);
    let mut p = Pair::new(server, client, 6, 0.0);
    p.to_server.loss = 1.0;
    p.to_client.loss = 1.0;
    p.open();
    p.run_until(Duration::from_secs(60), |p| {
        Pair::down_reason(&p.client_events).is_some()
    });
    assert_down(&p, None, Some(DownReason::LcpTimeout));
    assert!(
        p.now <= Instant::from_secs(31),
        "within Max-Configure x Restart: {:?}",
        p.now
    );
    println!("silent peer: LCP timeout at {:?}", p.now);
    // Echo loss once up: the client's keepalive (1 s, 3 failures) brings it down.
    let (server, mut client) = configs(AuthMethod::MsChapV2, CcpConfig::default(), 7);
    client.echo = EchoConfig {
        interval: Some(Duration::from_secs(1)),
        max_failures: 3,
    };
    let mut p = Pair::new(server, client, 7, 0.0);
    p.open();
    assert!(p.run_until(Duration::from_secs(30), Pair::both_up));
    let blackout = p.now;
    p.to_client.loss = 1.0;
    p.run_until(Duration::from_secs(10), |p| {
        Pair::down_reason(&p.client_events).is_some()
    });
    assert_down(&p, None, Some(DownReason::EchoTimeout));
    // 3 unanswered echoes (4 s), then Terminate-Requests (Max-Terminate 2 x 3 s).
    assert!(
        p.now - blackout <= Duration::from_secs(11),
        "{:?}",
        p.now - blackout
    );
    println!("echo loss: client down after {:?}", p.now - blackout);
}

#[test]
fn ipv6cp_up_or_protocol_rejected() {
    // Both run IPv6CP: interface identifiers are exchanged.
    let (mut server, mut client) = configs(AuthMethod::MsChapV2, CcpConfig::default(), 11);
    server.ipv6 = true;
    client.ipv6 = true;
    let mut p = Pair::new(server, client, 11, 0.0);
    p.open();
    let v6 = |events: &[PppEvent]| {
        events.iter().find_map(|e| match e {
            PppEvent::Ipv6Up { local, peer } => Some((*local, *peer)),
            _ => None,
        })
    };
    assert!(
        p.run_until(Duration::from_secs(30), |p| v6(&p.server_events).is_some()
            && v6(&p.client_events).is_some())
    );
    let (s, c) = (v6(&p.server_events).unwrap(), v6(&p.client_events).unwrap());
    assert_eq!((s.0, s.1), (c.1, c.0), "identifiers agree");
    assert_ne!(s.0, s.1);
    println!("IPv6CP: up, identifiers {:02x?} / {:02x?}", s.0, s.1);
    // Only the server runs IPv6CP (Windows rejects it): a Protocol-Reject
    // stops it and IPv4 carries on.
    let (mut server, client) = configs(AuthMethod::MsChapV2, CcpConfig::default(), 12);
    server.ipv6 = true;
    let mut p = Pair::new(server, client, 12, 0.0);
    p.open();
    assert!(p.run_until(Duration::from_secs(30), Pair::both_up));
    p.run_until(Duration::from_secs(5), |_| false);
    assert!(v6(&p.server_events).is_none());
    assert!(p.server.is_network_up() && p.client.is_network_up());
    p.exchange_ip(5);
    assert_eq!(p.server_ip.len(), 5);
    println!("IPv6CP Protocol-Rejected by the peer: IPv4 still up");
}

#[test]
fn expired_password_is_changed_or_reported() {
    // E=648 with a new password configured: Change-Password, then Success.
    let (server, mut client) = configs(AuthMethod::MsChapV2, CcpConfig::default(), 21);
    if let pptp_proto::ppp::session::AuthConfig::Peer(peer) = &mut client.auth {
        peer.new_password = Some(Password::new("n3w-secret").unwrap());
    }
    let mut p = Pair::new(server, client, 21, 0.0);
    p.expired = true;
    p.open();
    assert!(
        p.run_until(Duration::from_secs(30), Pair::both_up),
        "{:?}",
        p.client_events
    );
    let changed = p.server_events.iter().find_map(|e| match e {
        PppEvent::PasswordChanged {
            username,
            new_password,
        } => Some((username.clone(), (**new_password).clone())),
        _ => None,
    });
    assert_eq!(
        changed,
        Some((USER.to_string(), Password::new("n3w-secret").unwrap()))
    );
    assert!(
        p.client.is_encrypted() && p.server.is_encrypted(),
        "MPPE keys from the new password agree"
    );
    p.exchange_ip(10);
    assert_eq!((p.server_ip.len(), p.client_ip.len()), (10, 10));
    println!("E=648: password changed, session up with keys from the new password");
    // Without a new password the peer reports the expiry.
    let (server, client) = configs(AuthMethod::MsChapV2, CcpConfig::default(), 22);
    let mut p = Pair::new(server, client, 22, 0.0);
    p.expired = true;
    p.open();
    p.run_until(Duration::from_secs(60), |p| {
        Pair::down_reason(&p.client_events).is_some()
    });
    assert_eq!(
        Pair::down_reason(&p.client_events),
        Some(&DownReason::AuthFailed(AuthFailure::PasswordExpired))
    );
    println!("E=648 without a new password: client down, password expired");
}

/// Like pppd, neither side starts IPCP while CCP negotiates (pppd answers an
/// early IPCP Configure-Request with Terminate-Ack, which cost a 3 s
/// retransmission against pptpd); both CCP Configure-Acks come first.
#[test]
fn ipcp_waits_for_ccp() {
    let (server, client) = configs(AuthMethod::MsChapV2, CcpConfig::default(), 5);
    let mut pair = Pair::new(server, client, 5, 0.0);
    pair.open();
    assert!(pair.run_until(Duration::from_secs(5), Pair::both_up));
    let first_ipcp = pair
        .trace
        .iter()
        .position(|(_, p, _)| *p == Protocol::IPCP)
        .expect("IPCP ran");
    for by_client in [true, false] {
        let acked_ccp = pair.trace[..first_ipcp]
            .iter()
            .any(|&(c, p, code)| c == by_client && p == Protocol::CCP && code == 2);
        assert!(acked_ccp, "IPCP before CCP settled: {:?}", pair.trace);
    }
    // And it took no retransmission.
    assert!(pair.now < Instant::from_millis(500), "up at {:?}", pair.now);
}

/// A peer that starts IPCP while CCP still negotiates (Windows does) is
/// answered at once, and our own IPCP starts with it.
#[test]
fn a_peer_starting_ipcp_early_starts_ours() {
    let (server, client) = configs(AuthMethod::MsChapV2, CcpConfig::default(), 6);
    let mut pair = Pair::new(server, client, 6, 0.0);
    pair.open();
    let client_sent = |p: &Pair, protocol| p.trace.iter().any(|&(c, q, _)| c && q == protocol);
    assert!(pair.run_until(Duration::from_secs(5), |p| client_sent(p, Protocol::CCP)));
    assert!(!client_sent(&pair, Protocol::IPCP));
    // IPCP Configure-Request id 0x42 for 10.0.0.1, as the peer would send it.
    let mut frame = vec![0xff, 0x03, 0x80, 0x21, 1, 0x42, 0, 10, 3, 6, 10, 0, 0, 1];
    pair.client
        .handle_frame(pair.now, &mut frame)
        .expect("IPCP frame");
    pair.flush();
    let answers: Vec<u8> = pair
        .trace
        .iter()
        .filter(|&&(c, p, _)| c && p == Protocol::IPCP)
        .map(|&(_, _, code)| code)
        .collect();
    assert!(answers.contains(&1), "our IPCP request: {answers:?}");
    assert!(answers.contains(&2), "an Ack to the peer's: {answers:?}");
}

/// pptp-linux's pppd sent its first LCP Configure-Request twice, 5 ms
/// apart; the authenticator must still challenge as soon as LCP opens.
#[test]
fn duplicated_requests_cost_no_timeout() {
    let (server, client) = configs(AuthMethod::MsChapV2, CcpConfig::default(), 8);
    let mut pair = Pair::new(server, client, 8, 0.0);
    pair.to_server.duplicate = 1.0;
    pair.to_client.duplicate = 1.0;
    pair.open();
    assert!(pair.run_until(Duration::from_secs(10), Pair::both_up));
    assert!(
        pair.now < Instant::from_millis(500),
        "up at {:?}: {:?}",
        pair.now,
        pair.trace
    );
}

#[test]
fn looped_back_link_goes_down_without_recursing() {
    // Equal seeds: both ends draw the same magic numbers, as a looped link
    // (or a peer echoing ours) shows; once `fail` recursed until the stack
    // overflowed.
    let (server, mut client) = configs(AuthMethod::MsChapV2, CcpConfig::default(), 9);
    client.seed = 9;
    let mut p = Pair::new(server, client, 9, 0.0);
    p.open();
    p.run_until(Duration::from_secs(60), |p| {
        p.server_events
            .iter()
            .chain(&p.client_events)
            .any(|e| matches!(e, PppEvent::Down { .. }))
    });
    let reasons: Vec<_> = p
        .server_events
        .iter()
        .chain(&p.client_events)
        .filter_map(|e| match e {
            PppEvent::Down { reason } => Some(reason.clone()),
            _ => None,
        })
        .collect();
    assert!(reasons.contains(&DownReason::LoopedBack), "{reasons:?}");
}

/// pppd's `mtu`: the client sends no frame larger than its configured MTU
/// even though the server's MRU allows more; the server's side is its own
/// MRU's business. `mru` on the server lowers what the client may send.
#[test]
fn mtu_option_caps_what_we_send() {
    let (mut server, mut client) = configs(AuthMethod::MsChapV2, CcpConfig::default(), 3);
    server.lcp.mru = 1500;
    client.lcp.mru = 1500;
    client.lcp.mtu = 1300;
    let mut p = Pair::new(server, client, 3, 0.0);
    p.open();
    assert!(p.run_until(Duration::from_secs(30), Pair::both_up));
    // MPPE takes 4 octets of each (RFC 3078 §3).
    assert_eq!(p.client.mtu(), 1296);
    assert_eq!(p.server.mtu(), 1496);
    let big = vec![0x45; 1297];
    assert!(p.client.send_ip(p.now, &big, &mut [0; 2000]).is_err());
    // The peer's smaller MRU wins over a larger `mtu`.
    let (mut server, mut client) = configs(AuthMethod::MsChapV2, CcpConfig::default(), 4);
    server.lcp.mru = 1200;
    client.lcp.mtu = 1400;
    let mut p = Pair::new(server, client, 4, 0.0);
    p.open();
    assert!(p.run_until(Duration::from_secs(30), Pair::both_up));
    assert_eq!(p.client.mtu(), 1196);
}
