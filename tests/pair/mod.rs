//! One `Client` and one `Server` wired back to back in memory: a perfect
//! link, a virtual clock that moves only to the next timer. Shared by
//! `tests/alloc.rs`, `tests/footprint.rs` and the `datapath` and
//! `handshake` benches (`#[path]`), where the simulator in `tests/harness`
//! (lossy link, traces) would cost more than what is measured.
#![allow(dead_code)]

pub mod aaa;
pub mod counting;

use pptp_proto::client::{Client, ClientConfig, ClientEvent};
use pptp_proto::crypto::Password;
use pptp_proto::ppp::auth::{Credentials, Verdict};
use pptp_proto::ppp::ccp::{MppeRequirement, StatelessPolicy};
use pptp_proto::server::{AddressPool, ConnectionId, Server, ServerConfig, ServerEvent};
use pptp_proto::time::Instant;

/// The MPPE setting both ends are configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// MPPE-128, stateless (rekey every packet).
    Stateless,
    /// MPPE-128, stateful (rekey every 256 packets).
    Stateful,
    /// No MPPE (CCP refused).
    None,
}

impl Mode {
    /// Every mode, for loops.
    pub const ALL: [Mode; 3] = [Mode::Stateless, Mode::Stateful, Mode::None];

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Stateless => "mppe128-stateless",
            Mode::Stateful => "mppe128-stateful",
            Mode::None => "none",
        }
    }
}

/// A server with a pool large enough for `clients` tunnels.
pub fn server_config(mode: Mode, clients: u32) -> ServerConfig {
    let lo = u32::from(std::net::Ipv4Addr::new(10, 0, 0, 2));
    let pool = AddressPool {
        local: [10, 0, 0, 1].into(),
        range: (lo.into(), (lo + clients.max(1) - 1).into()),
        dns: [Some([10, 0, 0, 53].into()), None],
    };
    let mut config = ServerConfig::new("pptp-proto", pool);
    config.max_connections = clients.max(1) as usize;
    // Room for 1400-byte IP packets under MPPE (the default MRU is 1400).
    config.ppp.lcp.mru = 1500;
    set_mode(&mut config.ppp.ccp, mode);
    config
}

/// A client configured for `mode`.
pub fn client_config(mode: Mode, seed: u64) -> ClientConfig {
    let mut config =
        ClientConfig::new("alice", Password::new("secret").expect("password")).with_seed(seed);
    config.ppp.lcp.mru = 1500;
    set_mode(&mut config.ppp.ccp, mode);
    config
}

fn set_mode(ccp: &mut pptp_proto::ppp::ccp::CcpConfig, mode: Mode) {
    match mode {
        Mode::Stateless => ccp.stateless = StatelessPolicy::Required,
        Mode::Stateful => ccp.stateless = StatelessPolicy::Refused,
        Mode::None => ccp.mppe = MppeRequirement::Refused,
    }
}

/// A client and a server, back to back.
pub struct Pair {
    pub now: Instant,
    pub client: Client,
    pub server: Server,
    pub conn: ConnectionId,
    /// The client's address, distinct per pair on one server.
    pub peer: core::net::IpAddr,
    pub client_up: bool,
    pub server_up: bool,
    /// Answers `AuthRequest`s in place of the password "secret" (an
    /// external verifier, as RADIUS is).
    pub verifier: Option<Verifier>,
    /// Every server and client event, when set (tests of what was
    /// reported; off where allocations are counted).
    pub log: Option<Log>,
}

/// An external verifier: the verdict for an `AuthRequest`.
pub type Verifier = Box<dyn FnMut(&ServerEvent) -> Verdict>;

/// What each side reported, in order.
#[derive(Debug, Default)]
pub struct Log {
    pub server: Vec<ServerEvent>,
    pub client: Vec<ClientEvent>,
}

impl Pair {
    /// Connects a new client to `server` and starts it.
    pub fn new(server: Server, client: ClientConfig, now: Instant) -> Pair {
        let mut server = server;
        let peer = core::net::Ipv4Addr::from(0x0a00_0000 + server.connection_count() as u32).into();
        let conn = server.accept(now, peer).expect("accept");
        let mut client = Client::new(client);
        client.start(now);
        Pair {
            now,
            client,
            server,
            conn,
            peer,
            client_up: false,
            server_up: false,
            verifier: None,
            log: None,
        }
    }

    /// A fresh client and server in `mode`, brought up.
    pub fn established(mode: Mode, seed: u64) -> Pair {
        let mut pair = Pair::new(
            Server::new(server_config(mode, 1)),
            client_config(mode, seed),
            Instant::ZERO,
        );
        assert!(pair.handshake(), "the pair did not come up ({mode:?})");
        pair
    }

    /// Moves every output of each side to the other until nothing moves.
    /// Returns whether anything moved.
    pub fn flush(&mut self) -> bool {
        let mut any = false;
        loop {
            let mut moved = false;
            while let Some(b) = self.client.poll_stream_transmit() {
                let _ = self.server.handle_stream(self.now, self.conn, &b);
                moved = true;
            }
            while let Some((_, b)) = self.server.poll_stream_transmit() {
                self.client.handle_stream(self.now, &b);
                moved = true;
            }
            while let Some(mut d) = self.client.poll_datagram_transmit() {
                let _ = self.server.handle_datagram(self.now, self.peer, &mut d);
                moved = true;
            }
            while let Some((_, mut d)) = self.server.poll_datagram_transmit() {
                let _ = self.client.handle_datagram(self.now, &mut d);
                moved = true;
            }
            while let Some(e) = self.server.poll_event() {
                match &e {
                    ServerEvent::AuthRequest { connection, .. } if self.verifier.is_some() => {
                        let verdict = self.verifier.as_mut().map(|v| v(&e));
                        if let Some(verdict) = verdict {
                            self.server.provide_verdict(self.now, *connection, verdict);
                        }
                    }
                    ServerEvent::AuthRequest { connection, .. } => {
                        let connection = *connection;
                        let secret = Password::new("secret").expect("password");
                        self.server.provide_credentials(
                            self.now,
                            connection,
                            Credentials::Password(secret),
                        );
                    }
                    ServerEvent::SessionUp { .. } => self.server_up = true,
                    _ => {}
                }
                if let Some(log) = self.log.as_mut() {
                    log.server.push(e);
                }
                moved = true;
            }
            while let Some(e) = self.client.poll_event() {
                if let ClientEvent::Up { .. } = e {
                    self.client_up = true;
                }
                if let Some(log) = self.log.as_mut() {
                    log.client.push(e);
                }
                moved = true;
            }
            if !moved {
                return any;
            }
            any = true;
        }
    }

    /// Runs both sides' due timers at `now` (advancing the clock to it).
    pub fn tick(&mut self, now: Instant) {
        self.now = now;
        if self.client.poll_timeout().is_some_and(|t| t <= now) {
            self.client.handle_timeout(now);
        }
        if self.server.poll_timeout().is_some_and(|t| t <= now) {
            self.server.handle_timeout(now);
        }
    }

    /// Drives the pair until both report the tunnel up (and nothing is in
    /// flight); jumps the clock to the next timer when idle.
    pub fn handshake(&mut self) -> bool {
        for _ in 0..10_000 {
            let moved = self.flush();
            if self.client_up && self.server_up && !moved {
                return true;
            }
            if !moved {
                let next = Instant::soonest(self.client.poll_timeout(), self.server.poll_timeout());
                match next {
                    Some(t) => self.tick(t.max(self.now)),
                    None => return false,
                }
            }
        }
        false
    }

    /// Takes the server back (the client is dropped).
    pub fn into_server(self) -> Server {
        self.server
    }
}
