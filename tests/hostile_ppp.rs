//! Hostile and broken peers (issue #16): renegotiation in Opened, CCP
//! Nak/Reject loops, an IPCP that assigns nothing, an authenticator's IPCP
//! waiting for its assignment; accel-ppp's quirks (issue #17): NCP
//! requests dropped before it starts them, IPCP held back with a
//! Terminate-Ack until CCP is up, MPPE frames Protocol-Rejected with CCP
//! Opened. Two `PppSession`s on a lossless in-memory
//! link with a virtual clock; a hook may drop a frame in flight and answer
//! its sender instead.
//!
//! `cargo test --test hostile_ppp -- --nocapture`

use std::collections::VecDeque;

use pptp_proto::crypto::Password;
use pptp_proto::ppp::auth::Credentials;
use pptp_proto::ppp::ccp::MppeRequirement;
use pptp_proto::ppp::ipcp::IpAssignment;
use pptp_proto::ppp::lcp::AuthMethod;
use pptp_proto::ppp::session::{
    AuthConfig, DownReason, Phase, PppEvent, PppSession, Received, SessionConfig,
};
use pptp_proto::time::{Duration, Instant};
use pptp_proto::wire::ppp::{PppFrame, Protocol};

const PASSWORD: &str = "secret";

/// Which way a frame travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    ToServer,
    ToClient,
}

/// What the hook does with a frame in flight.
enum Hook {
    Deliver,
    /// Drop it and hand this frame to its sender instead.
    Answer(Vec<u8>),
    /// Drop it.
    Drop,
}

type HookFn = Box<dyn FnMut(Dir, &[u8]) -> Hook>;

struct Pair {
    now: Instant,
    server: PppSession,
    client: PppSession,
    to_server: VecDeque<Vec<u8>>,
    to_client: VecDeque<Vec<u8>>,
    server_events: Vec<PppEvent>,
    client_events: Vec<PppEvent>,
    /// Every frame sent, as sent.
    sent: Vec<(Dir, Vec<u8>)>,
    hook: HookFn,
    /// Set the server's assignment this long after `Authenticated` (None:
    /// before `open`, as a server with a pool does).
    assign_after_auth: Option<Duration>,
    assign_at: Option<Instant>,
}

fn assignment() -> IpAssignment {
    IpAssignment {
        local: Some([10, 0, 0, 1].into()),
        peer: Some([10, 0, 0, 2].into()),
        dns: [Some([10, 0, 0, 53].into()), None],
        nbns: [None, None],
    }
}

fn configs() -> (SessionConfig, SessionConfig) {
    let server = SessionConfig {
        seed: 2,
        ..SessionConfig::authenticator("vpn")
    };
    let client = SessionConfig {
        seed: 1,
        ..SessionConfig::peer("alice", Password::new(PASSWORD).unwrap())
    };
    (server, client)
}

/// Protocol, Code and Identifier of a frame.
fn kind(frame: &[u8]) -> (Protocol, u8, u8) {
    let f = PppFrame::parse(frame).expect("frames parse");
    let code = f.information.first().copied().unwrap_or(0);
    let id = f.information.get(1).copied().unwrap_or(0);
    (f.protocol, code, id)
}

/// A control frame with Address/Control and a two-octet Protocol.
fn control_frame(protocol: Protocol, code: u8, identifier: u8, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0xff, 0x03];
    f.extend_from_slice(&protocol.0.to_be_bytes());
    f.extend_from_slice(&[code, identifier]);
    f.extend_from_slice(&(4 + data.len() as u16).to_be_bytes());
    f.extend_from_slice(data);
    f
}

/// The frame with its control packet's Identifier replaced.
fn with_identifier(frame: &[u8], identifier: u8) -> Vec<u8> {
    let f = PppFrame::parse(frame).unwrap();
    let info = f.information;
    control_frame(f.protocol, info[0], identifier, &info[4..])
}

impl Pair {
    fn new(server: SessionConfig, client: SessionConfig) -> Self {
        Pair {
            now: Instant::ZERO,
            server: PppSession::new(server),
            client: PppSession::new(client),
            to_server: VecDeque::new(),
            to_client: VecDeque::new(),
            server_events: Vec::new(),
            client_events: Vec::new(),
            sent: Vec::new(),
            hook: Box::new(|_, _| Hook::Deliver),
            assign_after_auth: None,
            assign_at: None,
        }
    }

    fn open(&mut self) {
        if self.assign_after_auth.is_none() {
            self.server.set_ip_assignment(assignment());
        }
        self.server.open(self.now);
        self.client.open(self.now);
    }

    /// Moves outputs onto the link (through the hook) and events into the logs.
    fn flush(&mut self) -> bool {
        let mut moved = false;
        for dir in [Dir::ToServer, Dir::ToClient] {
            loop {
                let frame = match dir {
                    Dir::ToServer => self.client.poll_transmit(),
                    Dir::ToClient => self.server.poll_transmit(),
                };
                let Some(frame) = frame else { break };
                moved = true;
                self.sent.push((dir, frame.to_vec()));
                match (self.hook)(dir, &frame) {
                    Hook::Deliver => match dir {
                        Dir::ToServer => self.to_server.push_back(frame.to_vec()),
                        Dir::ToClient => self.to_client.push_back(frame.to_vec()),
                    },
                    Hook::Answer(answer) => match dir {
                        Dir::ToServer => self.to_client.push_back(answer),
                        Dir::ToClient => self.to_server.push_back(answer),
                    },
                    Hook::Drop => {}
                }
            }
        }
        while let Some(event) = self.server.poll_event() {
            moved = true;
            match &event {
                PppEvent::AuthRequest { .. } => {
                    let password = Password::new(PASSWORD).unwrap();
                    self.server
                        .provide_credentials(self.now, Credentials::Password(password));
                }
                PppEvent::Authenticated { .. } => match self.assign_after_auth {
                    // Within the event loop, right after the event.
                    Some(Duration::ZERO) => self.server.set_ip_assignment(assignment()),
                    Some(delay) => self.assign_at = Some(self.now + delay),
                    None => {}
                },
                _ => {}
            }
            self.server_events.push(event);
        }
        while let Some(event) = self.client.poll_event() {
            moved = true;
            self.client_events.push(event);
        }
        moved
    }

    /// Delivers what is in flight; returns whether anything was.
    fn deliver(&mut self) -> bool {
        let mut moved = false;
        while let Some(mut frame) = self.to_client.pop_front() {
            moved = true;
            let _ = self.client.handle_frame(self.now, &mut frame);
        }
        while let Some(mut frame) = self.to_server.pop_front() {
            moved = true;
            let _ = self.server.handle_frame(self.now, &mut frame);
        }
        moved
    }

    /// Runs until `done` or `limit` of virtual time passed; panics if the
    /// sessions keep talking without time passing (a packet loop).
    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Pair) -> bool) -> bool {
        let end = self.now + limit;
        let mut busy = 0;
        loop {
            if done(self) {
                self.flush();
                return true;
            }
            if self.flush() | self.deliver() {
                busy += 1;
                assert!(busy < 10_000, "a packet loop at {:?}", self.now);
                continue;
            }
            busy = 0;
            let next = [
                self.server.poll_timeout(),
                self.client.poll_timeout(),
                self.assign_at,
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(next) if next <= end => self.now = self.now.max(next),
                _ => {
                    self.now = end;
                    return done(self);
                }
            }
            if self.assign_at.is_some_and(|t| t <= self.now) {
                self.assign_at = None;
                self.server.set_ip_assignment(assignment());
            }
            self.server.handle_timeout(self.now);
            self.client.handle_timeout(self.now);
        }
    }

    fn both_up(&self) -> bool {
        self.server.is_network_up() && self.client.is_network_up()
    }

    fn up_count(events: &[PppEvent]) -> usize {
        events
            .iter()
            .filter(|e| matches!(e, PppEvent::NetworkUp { .. }))
            .count()
    }

    fn down_reason(events: &[PppEvent]) -> Option<&DownReason> {
        events.iter().find_map(|e| match e {
            PppEvent::Down { reason } => Some(reason),
            _ => None,
        })
    }

    /// Configure-Requests of `protocol` sent in `dir`, a retransmission
    /// (same Identifier, e.g. the early resend) counted once.
    fn distinct_requests(&self, dir: Dir, protocol: Protocol) -> usize {
        let mut ids: Vec<u8> = self
            .sent
            .iter()
            .filter(|(d, f)| *d == dir && kind(f).0 == protocol && kind(f).1 == 1)
            .map(|(_, f)| kind(f).2)
            .collect();
        ids.dedup();
        ids.len()
    }

    /// The first frame of `protocol`/`code` sent in `dir`.
    fn first_sent(&self, dir: Dir, protocol: Protocol, code: u8) -> Vec<u8> {
        self.sent
            .iter()
            .find(|(d, f)| *d == dir && kind(f).0 == protocol && kind(f).1 == code)
            .map(|(_, f)| f.clone())
            .expect("such a frame was sent")
    }

    /// One IPv4 packet each way, encrypted: it arrives intact.
    fn exchange_ip(&mut self) {
        let ip = [
            0x45, 0, 0, 20, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
        ];
        let mut out = vec![0; 64];
        let n = self.client.send_ip(self.now, &ip, &mut out).unwrap();
        let got = self.server.handle_frame(self.now, &mut out[..n]).unwrap();
        assert_eq!(got, Received::Ipv4(&ip));
        let n = self.server.send_ip(self.now, &ip, &mut out).unwrap();
        let got = self.client.handle_frame(self.now, &mut out[..n]).unwrap();
        assert_eq!(got, Received::Ipv4(&ip));
    }

    /// No frame of plain IP went either way.
    fn no_plaintext(&self) -> bool {
        !self
            .sent
            .iter()
            .any(|(_, f)| matches!(kind(f).0, Protocol::IPV4 | Protocol::IPV6))
    }
}

fn up_pair() -> Pair {
    let (server, client) = configs();
    let mut p = Pair::new(server, client);
    p.open();
    assert!(p.run_until(Duration::from_secs(30), Pair::both_up));
    assert_eq!(p.client.mtu(), 1396);
    p
}

#[test]
fn lcp_renegotiation_authenticates_again() {
    // The server renegotiates (it is handed the client's request again, as
    // if the client had sent it: it answers with its own request, which
    // the client meets in Opened), or the client does.
    for dir in [Dir::ToServer, Dir::ToClient] {
        lcp_renegotiation(dir);
    }
}

fn lcp_renegotiation(dir: Dir) {
    let mut p = up_pair();
    let authenticated = |events: &[PppEvent]| {
        events
            .iter()
            .filter(|e| matches!(e, PppEvent::Authenticated { .. }))
            .count()
    };
    assert_eq!(authenticated(&p.client_events), 1);
    // A Configure-Request in Opened, with a new Identifier (RFC 1661 §4.1
    // Opened + RCR).
    let request = with_identifier(&p.first_sent(dir, Protocol::LCP, 1), 0x77);
    match dir {
        Dir::ToServer => p.to_server.push_back(request),
        Dir::ToClient => p.to_client.push_back(request),
    }
    let renegotiated = p.run_until(Duration::from_secs(30), |p| {
        p.both_up() && Pair::up_count(&p.client_events) == 2
    });
    assert!(
        renegotiated,
        "{dir:?}: client events: {:?}",
        p.client_events
    );
    // RFC 1661 §3.5: authentication runs again, and the link is as before.
    assert_eq!(authenticated(&p.client_events), 2);
    assert_eq!(authenticated(&p.server_events), 2);
    assert_eq!(p.client.mtu(), 1396);
    assert!(p.client.is_encrypted() && p.server.is_encrypted());
    assert!(p.no_plaintext());
    p.exchange_ip();
}

#[test]
fn ccp_renegotiation_keeps_mppe() {
    for mppe in [MppeRequirement::Required, MppeRequirement::Optional] {
        let (mut server, mut client) = configs();
        server.ccp.mppe = mppe;
        client.ccp.mppe = mppe;
        let mut p = Pair::new(server, client);
        p.open();
        assert!(p.run_until(Duration::from_secs(30), Pair::both_up));
        // One CCP Configure-Request in Opened, genuine or spoofed.
        let request = p.first_sent(Dir::ToClient, Protocol::CCP, 1);
        p.to_client.push_back(with_identifier(&request, 0x66));
        let again = p.run_until(Duration::from_secs(30), |p| {
            p.both_up() && Pair::up_count(&p.client_events) == 2
        });
        assert!(again, "{mppe:?}: client events {:?}", p.client_events);
        assert_eq!(Pair::down_reason(&p.client_events), None);
        assert!(p.client.is_encrypted() && p.server.is_encrypted());
        assert_eq!(p.client.mtu(), 1396);
        assert!(p.no_plaintext());
        p.exchange_ip();
    }
}

#[test]
fn optional_mppe_renegotiated_without_it_fails_closed() {
    let (mut server, mut client) = configs();
    server.ccp.mppe = MppeRequirement::Optional;
    client.ccp.mppe = MppeRequirement::Optional;
    let mut p = Pair::new(server, client);
    p.open();
    assert!(p.run_until(Duration::from_secs(30), Pair::both_up));
    // A renegotiation in which the "server" now rejects option 18: once
    // MPPE ran, the link goes down rather than on in plaintext.
    p.hook = Box::new(|dir, frame| match kind(frame) {
        (Protocol::CCP, 1, id) if dir == Dir::ToServer => {
            let info = PppFrame::parse(frame).unwrap().information.to_vec();
            Hook::Answer(control_frame(Protocol::CCP, 4, id, &info[4..]))
        }
        _ => Hook::Deliver,
    });
    let request = p.first_sent(Dir::ToClient, Protocol::CCP, 1);
    p.to_client.push_back(with_identifier(&request, 0x66));
    p.run_until(Duration::from_secs(60), |p| {
        Pair::down_reason(&p.client_events).is_some()
    });
    assert!(!p.client.is_network_up());
    assert_eq!(
        Pair::down_reason(&p.client_events),
        Some(&DownReason::MppeNegotiationFailed)
    );
    assert!(p.no_plaintext());
}

#[test]
fn ccp_nak_or_reject_loop_ends_at_once() {
    // 40-bit H (pptpd `require-mppe-40`) against our 128-bit only; then a Reject of 18.
    for code in [3u8, 4] {
        let (server, client) = configs();
        let mut p = Pair::new(server, client);
        p.hook = Box::new(move |dir, frame| match kind(frame) {
            (Protocol::CCP, 1, id) if dir == Dir::ToServer => {
                let data: &[u8] = if code == 3 {
                    &[18, 6, 0x01, 0, 0, 0x20]
                } else {
                    &[18, 6, 0x01, 0, 0, 0x40]
                };
                Hook::Answer(control_frame(Protocol::CCP, code, id, data))
            }
            _ => Hook::Deliver,
        });
        p.open();
        p.run_until(Duration::from_secs(300), |p| {
            Pair::down_reason(&p.client_events).is_some()
        });
        let requests = p.distinct_requests(Dir::ToServer, Protocol::CCP);
        assert_eq!(
            Pair::down_reason(&p.client_events),
            Some(&DownReason::MppeNegotiationFailed),
            "code {code}"
        );
        // The FSM answers the refusal with a new request before the session
        // sees the failure: two requests, then down.
        assert!(requests <= 2, "code {code}: {requests} requests");
        assert!(p.now < Instant::from_secs(10), "{:?}", p.now);
        assert!(p.no_plaintext());
        println!("code {code}: {}", DownReason::MppeNegotiationFailed);
    }
}

#[test]
fn a_peer_given_no_address_goes_down() {
    // A server that asks for no authentication, acknowledges everything and
    // assigns nothing; the client's MPPE is optional (no keys: no CCP).
    let (_, mut config) = configs();
    config.ccp.mppe = MppeRequirement::Optional;
    let mut client = PppSession::new(config);
    let mut now = Instant::ZERO;
    client.open(now);
    let mut events = Vec::new();
    let mut sent_own = Vec::new();
    for _ in 0..200 {
        let mut inbound = Vec::new();
        while let Some(frame) = client.poll_transmit() {
            let (protocol, code, id) = kind(&frame);
            if code != 1 {
                continue;
            }
            let info = PppFrame::parse(&frame).unwrap().information.to_vec();
            inbound.push(control_frame(protocol, 2, id, &info[4..]));
            if !sent_own.contains(&protocol) {
                sent_own.push(protocol);
                let own: &[u8] = match protocol {
                    Protocol::LCP => &[5, 6, 0x0b, 0xad, 0xf0, 0x0d],
                    _ => &[3, 6, 10, 0, 0, 1],
                };
                inbound.push(control_frame(protocol, 1, 0x40, own));
            }
        }
        for mut frame in inbound {
            let _ = client.handle_frame(now, &mut frame);
        }
        events.extend(std::iter::from_fn(|| client.poll_event()));
        if events.iter().any(|e| matches!(e, PppEvent::Down { .. })) {
            break;
        }
        if let Some(t) = client.poll_timeout() {
            now = now.max(t);
            client.handle_timeout(now);
        }
    }
    let up = events
        .iter()
        .find(|e| matches!(e, PppEvent::NetworkUp { .. }));
    assert_eq!(up, None, "network up without an address");
    assert!(!client.is_network_up());
    let down = Pair::down_reason(&events);
    assert_eq!(down, Some(&DownReason::NoLocalAddress));
    assert_eq!(
        DownReason::NoLocalAddress.to_string(),
        "Could not determine local IP address"
    );
}

#[test]
fn ipcp_waits_for_the_assignment() {
    // The client asks for the gateway's own address; the server's embedder
    // assigns one within the event loop, or seconds after `Authenticated`.
    for delay in [Duration::ZERO, Duration::from_secs(5)] {
        let (server, mut client) = configs();
        client.ipcp.local = Some([10, 0, 0, 1].into());
        let mut p = Pair::new(server, client);
        p.assign_after_auth = Some(delay);
        p.open();
        assert!(
            p.run_until(Duration::from_secs(60), Pair::both_up),
            "{delay:?}: {:?} / {:?}",
            p.server_events,
            p.client_events
        );
        let up = p.client_events.iter().find_map(|e| match e {
            PppEvent::NetworkUp { local, peer, .. } => Some((*local, *peer)),
            _ => None,
        });
        let expected = ([10, 0, 0, 2].into(), [10, 0, 0, 1].into());
        assert_eq!(up, Some(expected), "{delay:?}");
        // Nothing was acknowledged before the assignment: no IPCP Ack from
        // the server precedes its first IPCP Configure-Request.
        let server_ipcp: Vec<u8> = p
            .sent
            .iter()
            .filter(|(d, f)| *d == Dir::ToClient && kind(f).0 == Protocol::IPCP)
            .map(|(_, f)| kind(f).1)
            .collect();
        assert_eq!(server_ipcp.first(), Some(&1), "{delay:?}: {server_ipcp:?}");
        p.exchange_ip();
    }
}

/// The method both ends settled on, once up.
fn method_used(events: &[PppEvent]) -> Option<AuthMethod> {
    events.iter().find_map(|e| match e {
        PppEvent::Authenticated { method, .. } => Some(*method),
        _ => None,
    })
}

#[test]
fn the_default_peer_takes_what_the_authenticator_asks_within_its_set() {
    use AuthMethod::*;
    // (server's list, MPPE, the method used; None: down for no method).
    let cases: [(&[AuthMethod], MppeRequirement, Option<AuthMethod>); 6] = [
        // pppd `require-mschap`: the default client Acks MS-CHAPv1.
        (&[MsChapV1], MppeRequirement::Required, Some(MsChapV1)),
        (&[MsChapV2], MppeRequirement::Required, Some(MsChapV2)),
        // MPPE required: CHAP-MD5 gives no keys, the client Naks toward MS-CHAPv2.
        (
            &[ChapMd5, MsChapV2],
            MppeRequirement::Required,
            Some(MsChapV2),
        ),
        // MPPE optional: CHAP-MD5 is in the default set.
        (&[ChapMd5], MppeRequirement::Optional, Some(ChapMd5)),
        // PAP only when allowed by hand.
        (&[Pap], MppeRequirement::Optional, None),
        (&[Pap, MsChapV1], MppeRequirement::Optional, Some(MsChapV1)),
    ];
    for (offer, mppe, expected) in cases {
        let (mut server, mut client) = configs();
        server.lcp.auth = offer.to_vec();
        server.ccp.mppe = mppe;
        client.ccp.mppe = mppe;
        let mut p = Pair::new(server, client);
        p.open();
        let up = p.run_until(Duration::from_secs(30), Pair::both_up);
        let case = format!("{offer:?}/{mppe:?}");
        match expected {
            Some(method) => {
                assert!(up, "{case}: {:?} / {:?}", p.server_events, p.client_events);
                assert_eq!(method_used(&p.client_events), Some(method), "{case}");
            }
            None => {
                assert!(!up, "{case}");
                let reason = Pair::down_reason(&p.server_events);
                assert_eq!(reason, Some(&DownReason::NoAuthMethod), "{case}");
            }
        }
    }
}

#[test]
fn a_peer_requiring_authentication_refuses_a_link_without() {
    let (_, mut config) = configs();
    config.ccp.mppe = MppeRequirement::Optional;
    if let AuthConfig::Peer(peer) = &mut config.auth {
        peer.require_auth = true;
    }
    let mut client = PppSession::new(config);
    let now = Instant::ZERO;
    client.open(now);
    // The authenticator's LCP asks for nothing, and Acks our request.
    let ours = client.poll_transmit().unwrap();
    let (_, _, id) = kind(&ours);
    let info = PppFrame::parse(&ours).unwrap().information.to_vec();
    let _ = client.handle_frame(now, &mut control_frame(Protocol::LCP, 2, id, &info[4..]));
    let theirs = [5, 6, 0x0b, 0xad, 0xf0, 0x0d];
    let _ = client.handle_frame(now, &mut control_frame(Protocol::LCP, 1, 9, &theirs));
    let events: Vec<PppEvent> = std::iter::from_fn(|| client.poll_event()).collect();
    assert!(!events
        .iter()
        .any(|e| matches!(e, PppEvent::PhaseChanged(Phase::Network))));
    // LCP Terminate-Request is out; unanswered, the link is down.
    assert_eq!(client.terminating(), Some(DownReason::AuthNotRequested));
    while let Some(t) = client.poll_timeout() {
        client.handle_timeout(t);
    }
    let events: Vec<PppEvent> = std::iter::from_fn(|| client.poll_event()).collect();
    let down = Pair::down_reason(&events);
    assert_eq!(down, Some(&DownReason::AuthNotRequested), "{events:?}");
}

#[test]
fn option_18_is_naked_against_pptpd_require_mppe_40() {
    use pptp_proto::ppp::ccp::CcpConfig;
    // Our default (require-mppe-128) against pptpd's require-mppe-40: the
    // client Naks option 18 (RFC 3078 §2), and the link ends with a reason
    // when the server's Nak leaves no choice.
    let (mut server, client) = configs();
    server.ccp = CcpConfig::require_mppe_40();
    let mut p = Pair::new(server, client);
    p.open();
    p.run_until(Duration::from_secs(60), |p| {
        Pair::down_reason(&p.client_events).is_some()
    });
    let client_rejects = p
        .sent
        .iter()
        .filter(|(d, f)| *d == Dir::ToServer && kind(f).0 == Protocol::CCP && kind(f).1 == 4)
        .count();
    assert_eq!(client_rejects, 0, "option 18 was Configure-Rejected");
    assert_eq!(
        Pair::down_reason(&p.client_events),
        Some(&DownReason::MppeNegotiationFailed)
    );
    assert!(p.no_plaintext());
    // require-mppe (any strength) on the client: 40-bit MPPE comes up.
    let (mut server, mut client) = configs();
    server.ccp = CcpConfig::require_mppe_40();
    client.ccp = CcpConfig::require_mppe();
    let mut p = Pair::new(server, client);
    p.open();
    assert!(p.run_until(Duration::from_secs(30), Pair::both_up));
    let bits = p.client_events.iter().find_map(|e| match e {
        PppEvent::CompressionUp { mppe } => Some(*mppe),
        _ => None,
    });
    assert!(bits.is_some_and(|b| b.contains(pptp_proto::wire::mppe::MppeBits::BITS_40)));
    p.exchange_ip();
}

/// A Protocol-Reject of `frame` (LCP code 8): the rejected protocol and
/// the frame's information, as accel-ppp sends it.
fn protocol_reject(frame: &[u8], identifier: u8) -> Vec<u8> {
    let f = PppFrame::parse(frame).unwrap();
    let mut data = f.protocol.0.to_be_bytes().to_vec();
    data.extend_from_slice(&f.information[..f.information.len().min(32)]);
    control_frame(Protocol::LCP, 8, identifier, &data)
}

/// accel-ppp discards CCP and IPCP packets that arrive before it starts
/// those protocols. Our first request of each is lost; the peer's own first
/// request makes us send it again at once, so the link is up long before
/// the 3 s restart timer (it would take 3 s without the early resend).
#[test]
fn ncp_requests_dropped_before_the_peer_starts_cost_no_restart_timer() {
    let (server, client) = configs();
    let mut p = Pair::new(server, client);
    let mut dropped = Vec::new();
    p.hook = Box::new(move |dir, frame| {
        let (protocol, code, _) = kind(frame);
        let ncp = matches!(protocol, Protocol::CCP | Protocol::IPCP);
        if dir == Dir::ToServer && ncp && code == 1 && !dropped.contains(&protocol) {
            dropped.push(protocol);
            return Hook::Drop;
        }
        Hook::Deliver
    });
    p.open();
    assert!(p.run_until(Duration::from_secs(30), Pair::both_up));
    assert!(p.now < Instant::from_millis(500), "up at {:?}", p.now);
    assert!(p.client.is_encrypted());
    p.exchange_ip();
}

/// accel-ppp answers IPCP Configure-Requests with a Terminate-Ack until its
/// CCP is up. Our IPCP asks again as soon as our CCP opens instead of
/// waiting for the restart timer. Here the first CCP request is dropped too,
/// as in the run that took 3 s against the real accel-ppp.
#[test]
fn ipcp_held_back_with_terminate_ack_until_ccp_is_up() {
    let (server, client) = configs();
    let mut p = Pair::new(server, client);
    let (mut acks, mut ccp_dropped, mut held) = ([false; 2], false, 0);
    p.hook = Box::new(move |dir, frame| {
        let (protocol, code, id) = kind(frame);
        match (dir, protocol, code) {
            (Dir::ToServer, Protocol::CCP, 1) if !ccp_dropped => {
                ccp_dropped = true;
                return Hook::Drop;
            }
            (_, Protocol::CCP, 2) => acks[dir as usize] = true,
            (Dir::ToServer, Protocol::IPCP, 1) if acks != [true; 2] => {
                held += 1;
                assert!(held < 10, "held back for ever");
                return Hook::Answer(control_frame(Protocol::IPCP, 6, id, &[]));
            }
            _ => {}
        }
        Hook::Deliver
    });
    p.open();
    // accel-ppp sends its IPCP request before its CCP is up; ours waits
    // for CCP. Play its request to the client as soon as it authenticated.
    assert!(p.run_until(Duration::from_secs(5), |p| p.client.phase()
        == Phase::Network));
    assert!(!p.client.is_encrypted());
    let address = [3, 6, 10, 0, 0, 1];
    p.to_client
        .push_back(control_frame(Protocol::IPCP, 1, 0x77, &address));
    assert!(p.run_until(Duration::from_secs(30), Pair::both_up));
    let held_back = p
        .sent
        .iter()
        .any(|(d, f)| *d == Dir::ToServer && kind(f).0 == Protocol::IPCP && kind(f).1 == 1);
    assert!(held_back);
    assert!(p.now < Instant::from_millis(500), "up at {:?}", p.now);
    p.exchange_ip();
}

/// accel-ppp's kernel starts its MPPE decompressor when our CCP
/// Configure-Ack goes by, but only after accel-ppp marked CCP open, just
/// after sending its own request: an Ack sent the moment that request
/// arrives can beat it. The client holds its Ack until the server has
/// answered the client's own request, which the server does after that
/// point; the server, whose peer may hold the same way, does not hold.
#[test]
fn the_client_acks_ccp_after_the_server_answered_its_request() {
    let (server, client) = configs();
    let mut p = Pair::new(server, client);
    p.open();
    assert!(p.run_until(Duration::from_secs(30), Pair::both_up));
    let position = |dir: Dir, codes: &[u8]| {
        p.sent
            .iter()
            .position(|(d, f)| {
                *d == dir && kind(f).0 == Protocol::CCP && codes.contains(&kind(f).1)
            })
            .expect("sent")
    };
    let server_request = position(Dir::ToClient, &[1]);
    let server_answer = position(Dir::ToClient, &[2, 3, 4]);
    let client_ack = position(Dir::ToServer, &[2]);
    assert!(
        server_request < server_answer,
        "the test needs the request first"
    );
    assert!(
        client_ack > server_answer,
        "the client's Ack went out before the server's answer"
    );
    assert!(p.now < Instant::from_millis(500), "up at {:?}", p.now);
    p.exchange_ip();
}

/// Sends one IPv4 packet from the client through the hook; returns whether
/// the server got it.
fn client_ip_through_hook(p: &mut Pair) -> bool {
    let ip = [
        0x45, 0, 0, 20, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
    ];
    let mut out = vec![0; 64];
    let Ok(n) = p.client.send_ip(p.now, &ip, &mut out) else {
        return false;
    };
    p.sent.push((Dir::ToServer, out[..n].to_vec()));
    match (p.hook)(Dir::ToServer, &out[..n]) {
        Hook::Deliver => p.server.handle_frame(p.now, &mut out[..n]) == Ok(Received::Ipv4(&ip)),
        Hook::Answer(mut answer) => {
            let _ = p.client.handle_frame(p.now, &mut answer);
            false
        }
        Hook::Drop => false,
    }
}

/// accel-ppp's decompressor race: CCP is Opened on both sides but the
/// peer's kernel Protocol-Rejects every MPPE frame (0x00FD). The client
/// renegotiates CCP, never sends in clear, and traffic flows afterwards.
#[test]
fn mppe_frames_rejected_with_ccp_opened_renegotiate_ccp() {
    let mut p = up_pair();
    let mut rejected = 0u8;
    p.hook = Box::new(move |dir, frame| {
        if dir == Dir::ToServer && kind(frame).0 == Protocol::COMPRESSED && rejected == 0 {
            rejected += 1;
            return Hook::Answer(protocol_reject(frame, 0x40 + rejected));
        }
        Hook::Deliver
    });
    let ccp_requests = |p: &Pair| p.distinct_requests(Dir::ToServer, Protocol::CCP);
    let before = ccp_requests(&p);
    assert!(
        !client_ip_through_hook(&mut p),
        "the first packet is rejected"
    );
    assert!(!p.client.is_encrypted(), "CCP renegotiates");
    assert!(
        p.client.send_ip(p.now, &[0x45; 20], &mut [0; 64]).is_err(),
        "nothing in clear"
    );
    assert!(p.run_until(Duration::from_secs(5), |p| p.both_up()
        && p.client.is_encrypted()));
    assert_eq!(ccp_requests(&p), before + 1);
    assert_eq!(p.client.stats().ccp_restarts, 1);
    assert!(client_ip_through_hook(&mut p));
    p.exchange_ip();
    assert!(p.no_plaintext());
    assert_eq!(Pair::down_reason(&p.client_events), None);
}

/// A peer that rejects MPPE frames whatever CCP agrees: after
/// `MAX_CCP_RESTARTS` fresh negotiations the link ends with a reason.
#[test]
fn a_peer_rejecting_every_mppe_frame_ends_the_link() {
    use pptp_proto::ppp::session::MAX_CCP_RESTARTS;
    let mut p = up_pair();
    p.hook = Box::new(|dir, frame| {
        if dir == Dir::ToServer && kind(frame).0 == Protocol::COMPRESSED {
            return Hook::Answer(protocol_reject(frame, 0x50));
        }
        Hook::Deliver
    });
    for _ in 0..=MAX_CCP_RESTARTS {
        assert!(!client_ip_through_hook(&mut p));
        p.run_until(Duration::from_secs(5), |p| {
            p.client.is_encrypted() || Pair::down_reason(&p.client_events).is_some()
        });
    }
    assert_eq!(
        Pair::down_reason(&p.client_events),
        Some(&DownReason::MppeFramesRejected)
    );
    assert_eq!(p.client.stats().ccp_restarts, u64::from(MAX_CCP_RESTARTS));
    assert!(p.no_plaintext());
    println!("{}", DownReason::MppeFramesRejected);
}
