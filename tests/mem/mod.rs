//! A PPP session pair over a perfect in-memory link, for tests that bring a
//! pair up and then play one side by hand.
#![allow(dead_code)]

use pptp_proto::crypto::Password;
use pptp_proto::ppp::auth::Credentials;
use pptp_proto::ppp::ccp::{CcpConfig, MppeRequirement, StatelessPolicy};
use pptp_proto::ppp::ipcp::IpAssignment;
use pptp_proto::ppp::lcp::AuthMethod;
use pptp_proto::ppp::session::{PppEvent, PppSession, SessionConfig};
use pptp_proto::time::{Duration, Instant};
use pptp_proto::wire::mppe::MppeBits;

pub const USER: &str = "alice";
pub const PASSWORD: &str = "secret";

/// Authenticator and peer configurations for `method`, MPPE-128 required
/// (stateless or stateful) for the MS-CHAP methods, refused otherwise.
pub fn configs(method: AuthMethod, stateless: bool) -> (SessionConfig, SessionConfig) {
    let mppe = match method {
        AuthMethod::MsChapV1 | AuthMethod::MsChapV2 => MppeRequirement::Required,
        _ => MppeRequirement::Refused,
    };
    let ccp = CcpConfig {
        mppe,
        strengths: MppeBits::BITS_128,
        stateless: if stateless {
            StatelessPolicy::Required
        } else {
            StatelessPolicy::Refused
        },
        ..CcpConfig::default()
    };
    let mut server = SessionConfig::authenticator("pptp-proto");
    server.lcp.auth = vec![method];
    server.ccp = ccp;
    server.seed = 11;
    let mut client = SessionConfig::peer(USER, Password::new(PASSWORD).unwrap());
    client.lcp.auth = vec![method];
    client.ccp = ccp;
    client.seed = 12;
    (server, client)
}

/// Both sessions, the events each reported, and the virtual clock.
pub struct MemPair {
    pub server: PppSession,
    pub client: PppSession,
    pub server_events: Vec<PppEvent>,
    pub client_events: Vec<PppEvent>,
    pub now: Instant,
    /// The password the authenticator checks against.
    pub secret: Option<&'static str>,
    /// Sees (and may rewrite) every frame to the client; `false` drops it.
    pub to_client: Option<Hook>,
    /// Sees (and may rewrite) every frame to the server; `false` drops it.
    pub to_server: Option<Hook>,
}

/// A hook on frames in flight.
pub type Hook = Box<dyn FnMut(&mut Vec<u8>) -> bool>;

impl MemPair {
    pub fn new(server: SessionConfig, client: SessionConfig) -> Self {
        let mut server = PppSession::new(server);
        server.set_ip_assignment(IpAssignment {
            local: Some([10, 0, 0, 1].into()),
            peer: Some([10, 0, 0, 2].into()),
            dns: [None, None],
            nbns: [None, None],
        });
        MemPair {
            server,
            client: PppSession::new(client),
            server_events: Vec::new(),
            client_events: Vec::new(),
            now: Instant::ZERO,
            secret: Some(PASSWORD),
            to_client: None,
            to_server: None,
        }
    }

    /// Exchanges everything queued until both sides are quiet; returns
    /// whether anything moved.
    pub fn flush(&mut self) -> bool {
        let mut any = false;
        loop {
            let mut moved = false;
            while let Some(f) = self.server.poll_transmit() {
                let mut f = f.to_vec();
                if self.to_client.as_mut().is_none_or(|h| h(&mut f)) {
                    let _ = self.client.handle_frame(self.now, &mut f);
                }
                moved = true;
            }
            while let Some(f) = self.client.poll_transmit() {
                let mut f = f.to_vec();
                if self.to_server.as_mut().is_none_or(|h| h(&mut f)) {
                    let _ = self.server.handle_frame(self.now, &mut f);
                }
                moved = true;
            }
            while let Some(e) = self.server.poll_event() {
                if let PppEvent::AuthRequest { .. } = e {
                    let answer = match self.secret {
                        Some(s) => Credentials::Password(Password::new(s).unwrap()),
                        None => Credentials::Reject,
                    };
                    self.server.provide_credentials(self.now, answer);
                }
                self.server_events.push(e);
                moved = true;
            }
            while let Some(e) = self.client.poll_event() {
                self.client_events.push(e);
                moved = true;
            }
            if !moved {
                return any;
            }
            any = true;
        }
    }

    /// Opens both sides and runs (timers included) until both are up or
    /// `limit` passed; returns whether both came up.
    pub fn bring_up(&mut self, limit: Duration) -> bool {
        self.server.open(self.now);
        self.client.open(self.now);
        self.run(limit, |p| {
            p.server.is_network_up() && p.client.is_network_up()
        })
    }

    /// Runs until `done` or `limit` of virtual time passed.
    pub fn run(&mut self, limit: Duration, mut done: impl FnMut(&MemPair) -> bool) -> bool {
        let end = self.now + limit;
        for _ in 0..100_000 {
            self.flush();
            if done(self) {
                return true;
            }
            let next = Instant::soonest(self.server.poll_timeout(), self.client.poll_timeout());
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.server.handle_timeout(self.now);
                    self.client.handle_timeout(self.now);
                }
                _ => {
                    self.now = end;
                    return done(self);
                }
            }
        }
        panic!("step bound exceeded: a timer is busy-looping");
    }
}

/// An IPv4 header (no checksum needed by the session) and a little payload.
pub fn ipv4(id: u16) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 28, (id >> 8) as u8, id as u8, 0, 0, 64, 1, 0, 0];
    p.extend_from_slice(&[10, 0, 0, 2, 10, 0, 0, 1, 8, 0, 0, 0, 0, 1, 0, 1]);
    p
}
