//! `Server`: a PPTP server (PAC + PPP authenticator) for many clients.
//!
//! Each TCP connection the embedder accepts gets a [`ConnectionId`]; each
//! connection carries one call (as pptpd does), whose Call ID the server
//! allocates from [`ServerConfig::call_ids`]. Incoming GRE is routed by the
//! Call ID in its key, so several `Server`s (one per core) can share one GRE
//! socket: give each a disjoint Call ID range and route each GRE packet to
//! the shard owning its Call ID ([`Server::owns_call_id`]).
//!
//! # Driving contract
//!
//! - [`Server::accept`] for each new TCP connection; [`Server::handle_stream`]
//!   / [`Server::handle_stream_closed`] for its reads and its close.
//! - [`Server::handle_datagram`] for each GRE packet (without IPv4 header).
//! - Inbound IP, one rule: every IP packet a client sends reaches you
//!   exactly once, either as `Ok((connection, Some(ip)))` from
//!   `handle_datagram` (in order, decrypted in place) or as
//!   [`ServerEvent::IpPacket`] (released later from the reorder buffer, or
//!   decompressed by MPPC), never both. Take both and you see each packet
//!   once; take only the return value and you lose the reordered ones.
//! - After every call drain [`Server::poll_stream_transmit`] (bytes for a
//!   connection's TCP), [`Server::poll_datagram_transmit`] (GRE packets for
//!   a connection's peer address) and [`Server::poll_event`]; then sleep
//!   until [`Server::poll_timeout`] and call [`Server::handle_timeout`].
//! - Answer [`ServerEvent::AuthRequest`] with [`Server::provide_credentials`]
//!   (or [`Server::provide_verdict`]). Addresses come from the pool in the
//!   configuration unless [`ServerEvent::AddressRequest`] is answered with
//!   [`Server::assign_address`] (pool disabled).
//! - Timers live in one binary heap: a tick touches only the connections
//!   whose timers are due, so 10 000 idle tunnels cost nothing per packet.
//!   A deadline that moves later leaves its entry in place (it fires early,
//!   a no-op, and re-registers); only an earlier one is pushed, so the data
//!   path neither allocates nor rebalances a tree per packet.
//! - [`Server::poll_datagram_transmit`] hands out a [`Datagram`]: ack-only
//!   packets come inline, so the data path allocates nothing.
//!
//! ```
//! use pptp_proto::server::{AddressPool, Server, ServerConfig};
//! use pptp_proto::time::Instant;
//!
//! let pool = AddressPool {
//!     local: [10, 0, 0, 1].into(),
//!     range: ([10, 0, 0, 2].into(), [10, 0, 0, 254].into()),
//!     dns: [Some([10, 0, 0, 53].into()), None],
//! };
//! // Shard 1 of 2 behind one GRE socket: this one owns Call IDs 1..=32767,
//! // the embedder routes GRE for 32768.. to the other shard.
//! let mut config = ServerConfig::new("vpn", pool);
//! config.call_ids = (1, 32767);
//! let mut server = Server::new(config);
//! assert!(server.owns_call_id(5) && !server.owns_call_id(40_000));
//! let conn = server.accept(Instant::ZERO, [192, 0, 2, 1].into()).unwrap(); // a TCP connection came in
//! // Then: server.handle_stream(now, conn, &bytes) for its reads,
//! // server.handle_datagram(now, [192, 0, 2, 1].into(), &mut gre) for GRE, drain the poll_* queues,
//! // and call handle_timeout at poll_timeout (see the README's example).
//! assert_eq!(server.connection_count(), 1);
//! assert!(server.poll_timeout().is_some());
//! # let _ = conn;
//! ```

use alloc::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Reverse;
use core::net::{IpAddr, Ipv4Addr};
use core::ops::Range;
use core::time::Duration;

use bytes::Bytes;

use crate::accounting::{AccountingRecord, AccountingStatus, TerminateCause};
use crate::call::{Call, CallEvent, Setup};
use crate::control::{CloseReason, ControlConfig, Role};
use crate::gre::GreConfig;
use crate::ppp::auth::{Acceptance, AuthExchange, Credentials, Verdict};
use crate::ppp::ipcp::IpAssignment;
use crate::ppp::lcp::AuthMethod;
use crate::ppp::session::{Phase, PppEvent, SessionConfig};
use crate::rand::{Rng, Seed};
use crate::tap::{Direction, Tap, TapSlot};
use crate::time::Instant;
pub use crate::tunnel::Datagram;
use crate::tunnel::TunnelError;
pub use crate::tunnel::{Deadline, SessionDownReason};
use crate::wire::gre::GreHeader;

/// Reordered IP packets kept for `poll_event` before more are dropped.
const MAX_QUEUED_IP_EVENTS: usize = 4096;
/// GRE datagrams kept for `poll_datagram_transmit` before more are dropped.
const MAX_QUEUED_DATAGRAMS: usize = 65_536;

/// The embedder's handle for one TCP connection.
///
/// From [`Server::accept`]; see the [`Server` example](Server#example).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(pub u64);

/// A simple address pool: our tunnel address and a range for clients.
///
/// See the [`Server` example](Server#example).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressPool {
    /// The server's own tunnel address.
    pub local: Ipv4Addr,
    /// First and last client address, inclusive.
    pub range: (Ipv4Addr, Ipv4Addr),
    /// DNS servers handed out.
    pub dns: [Option<Ipv4Addr>; 2],
}

/// Everything a server is configured with.
///
/// See the [`Server` example](Server#example); the [`Server::assign_address`]
/// example disables the pool.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The control connection template (role PAC).
    pub control: ControlConfig,
    /// GRE settings.
    pub gre: GreConfig,
    /// PPP: authenticator name, auth methods, MPPE/MPPC policy (`ppp.ccp`).
    pub ppp: SessionConfig,
    /// Address assignment; `None`: ask the embedder per session.
    pub pool: Option<AddressPool>,
    /// The Call IDs this server allocates, inclusive (shards take disjoint ranges).
    pub call_ids: (u16, u16),
    /// Most connections at once (default 10 000).
    pub max_connections: usize,
    /// Control messages queued for `poll_stream_transmit` across all
    /// connections (default 65 536). A connection whose output would exceed
    /// it is closed (its TCP must be reset), since dropping part of a byte
    /// stream would corrupt it.
    pub max_queued_stream: usize,
    /// Time from [`Server::accept`] to the session carrying IP (default
    /// 60 s; `None`: no limit). Covers every slow phase: LCP, the
    /// authentication exchange, IPCP and CCP. Ends the session with
    /// [`SessionDownReason::Deadline`]`(`[`Deadline::Establish`]`)`.
    pub establish_timeout: Option<Duration>,
    /// Time from [`ServerEvent::AuthRequest`] to the embedder's answer
    /// ([`Server::provide_credentials`] or [`Server::provide_verdict`]),
    /// for a RADIUS back-end that never answers (default 30 s; `None`: no
    /// limit). Ends the session with [`Deadline::Verdict`].
    pub verdict_timeout: Option<Duration>,
    /// pppd's `idle`: a session that carries no IP packet either way for
    /// this long is closed with [`Deadline::Idle`] (default `None`). A
    /// verdict's [`Acceptance::idle_timeout`] wins over it.
    pub idle_timeout: Option<Duration>,
    /// Whether sessions report [`ServerEvent::Accounting`] records: start,
    /// interim and stop (default `false`).
    pub accounting: bool,
    /// How often an up session reports an interim record (default `None`:
    /// never). A verdict's [`Acceptance::interim_interval`] wins over it.
    pub accounting_interval: Option<Duration>,
    /// Connections at once from one source address (accel-ppp's
    /// `connlimit`; default 64, room for an office behind one NAT
    /// address). [`Server::accept`] refuses more with
    /// [`Refusal::SourceConnections`].
    pub max_connections_per_source: usize,
    /// Connections [`Server::accept`] takes from one source address per
    /// second (default 16). More are refused with [`Refusal::SourceRate`].
    pub max_accepts_per_source_per_second: u32,
    /// Sessions up at once for one user name (pppd's and accel-ppp's
    /// `single-session` is `Some(1)`; default `None`: no limit). A session
    /// over the limit ends after authenticating, with
    /// [`SessionDownReason::UserLimit`].
    pub max_sessions_per_user: Option<usize>,
    /// The server's entropy: every connection draws fresh randomness from a
    /// generator keyed by it (see [`ServerConfig::with_seed_bytes`]).
    pub seed: Seed,
}

impl ServerConfig {
    /// Defaults: authenticator `name`, MS-CHAPv2, MPPE-128 required,
    /// addresses from `pool`.
    ///
    /// See the [`Server` example](Server#example).
    pub fn new(name: &str, pool: AddressPool) -> Self {
        ServerConfig {
            control: ControlConfig::new(Role::Pac),
            gre: GreConfig::new(0, 0),
            ppp: SessionConfig::authenticator(name),
            pool: Some(pool),
            call_ids: (1, u16::MAX),
            max_connections: 10_000,
            max_queued_stream: 65_536,
            establish_timeout: Some(Duration::from_secs(60)),
            verdict_timeout: Some(Duration::from_secs(30)),
            idle_timeout: None,
            accounting: false,
            accounting_interval: None,
            max_connections_per_source: 64,
            max_accepts_per_source_per_second: 16,
            max_sessions_per_user: None,
            seed: Seed::default(),
        }
    }

    /// Sets the seed every random choice derives from (control-connection
    /// values, LCP magic numbers, CHAP challenges): seed it from the OS,
    /// or challenges repeat after every restart.
    ///
    /// See the [`Server` example](Server#example).
    pub fn with_seed(self, seed: u64) -> Self {
        self.with_seed_bytes(Seed::from_u64(seed))
    }

    /// Sets the server's entropy from 32 bytes of the operating system's
    /// generator. Each connection draws its own values (Call ID, control
    /// serials, CHAP challenges, LCP magic numbers) from a generator keyed
    /// by it, so what one session shows on the wire tells nothing about
    /// another's.
    ///
    /// ```
    /// use pptp_proto::server::{AddressPool, ServerConfig};
    /// use pptp_proto::Seed;
    ///
    /// # let pool = AddressPool { local: [10, 0, 0, 1].into(), range: ([10, 0, 0, 2].into(), [10, 0, 0, 9].into()), dns: [None, None] };
    /// let os_bytes = [0x5a; 32]; // in real code: from getrandom or /dev/urandom
    /// let config = ServerConfig::new("vpn", pool).with_seed_bytes(os_bytes);
    /// assert_eq!(config.seed, Seed::from_bytes(os_bytes));
    /// ```
    pub fn with_seed_bytes(mut self, seed: impl Into<Seed>) -> Self {
        self.seed = seed.into();
        self
    }

    crate::ppp::session::ppp_option_builders!(ppp);

    /// pppd's `idle`: sets [`ServerConfig::idle_timeout`]. See the
    /// [example](crate::ppp::session::SessionConfig#pppd-options).
    pub fn with_idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = Some(idle);
        self
    }
}

/// Why [`Server::accept`] refused a connection ([`ServerError::Refused`]).
///
/// See [`Server::accept`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// [`ServerConfig::max_connections_per_source`] reached.
    SourceConnections,
    /// [`ServerConfig::max_accepts_per_source_per_second`] reached.
    SourceRate,
}

/// Counters of what the server refused, dropped or timed out, for an
/// operator's dashboard ([`Server::counters`]).
///
/// ```
/// use pptp_proto::server::{AddressPool, Server, ServerConfig, ServerCounters};
/// use pptp_proto::time::Instant;
///
/// # let pool = AddressPool { local: [10, 0, 0, 1].into(), range: ([10, 0, 0, 2].into(), [10, 0, 0, 9].into()), dns: [None, None] };
/// let mut server = Server::new(ServerConfig::new("vpn", pool));
/// let c = server.accept(Instant::ZERO, [192, 0, 2, 7].into()).unwrap();
/// // A scanner that never says a word: closed at the start timeout (5 s).
/// server.handle_timeout(Instant::from_secs(5));
/// while server.poll_event().is_some() {}
/// server.handle_stream_closed(Instant::from_secs(5), c);
/// let counters: &ServerCounters = server.counters();
/// assert_eq!(counters.start_timeouts, 1);
/// assert_eq!(server.poll_timeout(), None);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerCounters {
    /// Connections refused: server full or out of Call IDs.
    pub refused_full: u64,
    /// Connections refused by [`ServerConfig::max_connections_per_source`].
    pub refused_source_connections: u64,
    /// Connections refused by
    /// [`ServerConfig::max_accepts_per_source_per_second`].
    pub refused_source_rate: u64,
    /// Connections closed: no Start-Control-Connection-Request in time
    /// ([`ControlConfig::start_timeout`]).
    pub start_timeouts: u64,
    /// Connections closed: a control message begun and not completed in
    /// time ([`ControlConfig::message_timeout`]).
    pub message_timeouts: u64,
    /// Sessions ended by [`Deadline::Establish`].
    pub establish_timeouts: u64,
    /// Sessions ended by [`Deadline::Verdict`].
    pub verdict_timeouts: u64,
    /// Sessions ended by [`Deadline::Idle`].
    pub idle_timeouts: u64,
    /// Sessions ended by [`Deadline::Session`].
    pub session_timeouts: u64,
    /// Sessions ended because the pool had no free address.
    pub pool_exhausted: u64,
    /// Sessions ended by [`ServerConfig::max_sessions_per_user`].
    pub user_limit: u64,
    /// GRE packets whose Call ID is ours but whose source address is not
    /// that session's peer (dropped).
    pub wrong_source: u64,
    /// GRE packets for no session of ours (dropped).
    pub unknown_call: u64,
}

/// What the server reports.
///
/// From [`Server::poll_event`]; see the [`Server` example](Server#example).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A client wants to authenticate.
    AuthRequest {
        /// Its connection.
        connection: ConnectionId,
        /// The name it gave.
        username: String,
        /// The method.
        method: AuthMethod,
        /// What it sent: the challenge and response (or PAP password) a
        /// RADIUS server needs, for [`Server::provide_verdict`].
        exchange: AuthExchange,
    },
    /// The session needs addresses (pool disabled): answer with
    /// [`Server::assign_address`].
    AddressRequest {
        /// Its connection.
        connection: ConnectionId,
        /// The verifier's address for it
        /// ([`Acceptance::address`], RADIUS Framed-IP-Address), which
        /// should win over the embedder's own pool.
        granted: Option<Ipv4Addr>,
    },
    /// A session carries IP.
    SessionUp {
        /// Its connection.
        connection: ConnectionId,
        /// The name it authenticated as.
        username: String,
        /// The client's tunnel address.
        address: Ipv4Addr,
    },
    /// A client changed its expired password (MS-CHAPv2): store the new one.
    PasswordChanged {
        /// Its connection.
        connection: ConnectionId,
        /// The user.
        username: String,
        /// The new password (boxed: it is large and the event is rare).
        new_password: alloc::boxed::Box<crate::crypto::Password>,
    },
    /// An IP packet from a client, released from the reorder buffer or
    /// decompressed by MPPC.
    IpPacket {
        /// Its connection.
        connection: ConnectionId,
        /// The packet.
        packet: Vec<u8>,
    },
    /// An accounting record (with [`ServerConfig::accounting`]): the
    /// session came up, is still up (every interim interval), or ended
    /// (after [`ServerEvent::SessionDown`]). Boxed: it is large and rare.
    Accounting(alloc::boxed::Box<AccountingRecord>),
    /// A session ended; the embedder closes the TCP connection once its
    /// output is drained and calls [`Server::handle_stream_closed`], which
    /// frees the connection, its Call ID and its address.
    SessionDown {
        /// Its connection.
        connection: ConnectionId,
        /// Why: the first cause, not its consequences.
        reason: SessionDownReason,
    },
}

/// Errors of the server's commands.
///
/// ```
/// use pptp_proto::gre::{GreChannel, GreConfig};
/// use pptp_proto::server::{AddressPool, ConnectionId, Server, ServerConfig, ServerError};
/// use pptp_proto::time::Instant;
///
/// # let pool = AddressPool { local: [10, 0, 0, 1].into(), range: ([10, 0, 0, 2].into(), [10, 0, 0, 9].into()), dns: [None, None] };
/// let mut config = ServerConfig::new("vpn", pool);
/// config.max_connections = 1;
/// let mut server = Server::new(config);
/// let now = Instant::ZERO;
/// server.accept(now, [192, 0, 2, 1].into()).unwrap();
/// assert_eq!(server.accept(now, [192, 0, 2, 1].into()), Err(ServerError::Full));
/// let unknown = server.handle_stream(now, ConnectionId(9), &[0; 16]);
/// assert_eq!(unknown, Err(ServerError::UnknownConnection));
/// // GRE for a Call ID no session here owns (the connection's call is not up yet).
/// let mut buf = [0u8; 32];
/// let mut other = GreChannel::new(GreConfig::new(0, 7));
/// let n = other.encapsulate(now, &[0xff, 0x03, 0x00, 0x21], &mut buf).unwrap();
/// let err = server.handle_datagram(now, [192, 0, 2, 1].into(), &mut buf[..n]).unwrap_err();
/// assert_eq!(err, ServerError::UnknownCall(7));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Connection limit or Call ID range exhausted.
    #[error("server full")]
    Full,
    /// No such connection.
    #[error("unknown connection")]
    UnknownConnection,
    /// The datagram's Call ID belongs to no session here.
    #[error("no session for call {0}")]
    UnknownCall(u16),
    /// The datagram's Call ID is a session's, but it came from another
    /// address than that session's peer: dropped (an injection attempt, or
    /// a client whose address changed).
    #[error("GRE for call {call_id} from a source that is not its peer")]
    WrongSource {
        /// The Call ID it named.
        call_id: u16,
    },
    /// Admission control refused the connection.
    #[error("connection refused: {0:?}")]
    Refused(Refusal),
    /// The tunnel refused it.
    #[error(transparent)]
    Tunnel(#[from] TunnelError),
}

/// Admission-control state of one source address.
#[derive(Debug)]
struct Source {
    /// Connections from it now.
    connections: usize,
    /// Start of the current one-second accept window.
    window: Instant,
    /// Accepts in that window.
    accepts: u32,
}

impl Connection {
    /// The first of the server's own deadlines that has passed.
    fn expired(&self, now: Instant, idle: Option<Duration>) -> Option<Deadline> {
        let passed = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        if passed(self.verdict_by) {
            Some(Deadline::Verdict)
        } else if passed(self.establish_by) {
            Some(Deadline::Establish)
        } else if passed(self.session_deadline()) {
            Some(Deadline::Session)
        } else if passed(self.idle_deadline(idle)) {
            Some(Deadline::Idle)
        } else {
            None
        }
    }

    /// The idle deadline: the verdict's timeout, else the server's.
    fn idle_deadline(&self, idle: Option<Duration>) -> Option<Instant> {
        let idle = self.aaa.as_ref().and_then(|a| a.idle_timeout).or(idle);
        Some(self.active_at? + idle?)
    }

    /// The verdict's session timeout, counted from the session's start.
    fn session_deadline(&self) -> Option<Instant> {
        Some(self.up_at? + self.aaa.as_ref()?.session_timeout?)
    }

    /// When the next interim accounting record is due.
    fn interim_due(&self) -> Option<Instant> {
        self.aaa.as_ref()?.next_interim
    }

    /// An accounting record of the session now.
    fn record(
        &self,
        id: ConnectionId,
        now: Instant,
        boot: u32,
        status: AccountingStatus,
        reason: Option<&SessionDownReason>,
    ) -> AccountingRecord {
        let stats = self.call.stats().ppp;
        AccountingRecord {
            status,
            connection: id,
            session_id: alloc::format!("{boot:08X}{:08X}", id.0),
            username: self.username.clone(),
            peer: self.peer,
            address: self.address.unwrap_or(Ipv4Addr::UNSPECIFIED),
            call_id: self.call_id,
            session_time: self
                .up_at
                .map_or(Duration::ZERO, |t| now.saturating_duration_since(t)),
            packets_in: stats.ip_received,
            packets_out: stats.ip_sent,
            bytes_in: stats.bytes_received,
            bytes_out: stats.bytes_sent,
            class: self
                .aaa
                .as_ref()
                .map(|a| a.class.clone())
                .unwrap_or_default(),
            terminate_cause: reason.map(TerminateCause::of),
        }
    }
}

/// What a verdict granted beyond the keys, and the interim accounting
/// clock: boxed, since most sessions have none of it.
#[derive(Debug, Default)]
struct Aaa {
    /// The verifier's address for the client.
    address: Option<Ipv4Addr>,
    session_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    interim_interval: Option<Duration>,
    next_interim: Option<Instant>,
    class: Vec<u8>,
}

impl Aaa {
    /// What an acceptance says for the server, if anything.
    fn of(a: &Acceptance) -> Option<alloc::boxed::Box<Self>> {
        let any = a.address.is_some()
            || a.session_timeout.is_some()
            || a.idle_timeout.is_some()
            || a.interim_interval.is_some()
            || !a.class.is_empty();
        any.then(|| {
            alloc::boxed::Box::new(Aaa {
                address: a.address,
                session_timeout: a.session_timeout,
                idle_timeout: a.idle_timeout,
                interim_interval: a.interim_interval,
                next_interim: None,
                class: a.class.clone(),
            })
        })
    }
}

#[derive(Debug)]
struct Connection {
    /// The control connection, the tunnel and the down-cause rule.
    call: Call,
    /// The TCP peer's address: GRE for this call must come from it.
    peer: IpAddr,
    call_id: u16,
    username: String,
    address: Option<Ipv4Addr>,
    /// The earliest deadline with an entry in the server's timer heap.
    deadline: Option<Instant>,
    /// Whether the address was leased from the pool (and is given back).
    leased: bool,
    /// Whether this session counts toward its user's session limit.
    counted_user: bool,
    /// [`ServerConfig::establish_timeout`]'s deadline, until the session is up.
    establish_by: Option<Instant>,
    /// [`ServerConfig::verdict_timeout`]'s deadline, while a verdict is awaited.
    verdict_by: Option<Instant>,
    /// The last IP packet either way, for [`ServerConfig::idle_timeout`]
    /// (set when the session comes up).
    active_at: Option<Instant>,
    /// A server-side reason to end the session, applied by `service`.
    fail: Option<SessionDownReason>,
    /// When the session came up (carried IP), for accounting and the
    /// session timeout.
    up_at: Option<Instant>,
    /// What the verdict granted beyond the keys; the interim clock.
    aaa: Option<alloc::boxed::Box<Aaa>>,
    /// The session's PPP seed, drawn from the server's generator.
    ppp_seed: u64,
    /// `pptp_session{conn, call, user}` (feature `tracing`).
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

/// A PPTP server. See the [module documentation](self) for the driving
/// contract.
///
/// # Example
///
/// A [`Client`](crate::client::Client) connects, in memory, with time
/// passing: the server's event loop answers its authentication until the
/// session is up, carries an IP packet each way, then closes the session.
///
/// ```
/// use core::time::Duration;
/// use pptp_proto::client::{Client, ClientConfig};
/// use pptp_proto::crypto::Password;
/// use pptp_proto::ppp::auth::Credentials;
/// use pptp_proto::ppp::session::DownReason;
/// use pptp_proto::server::{
///     AddressPool, ConnectionId, Server, ServerConfig, ServerEvent, SessionDownReason,
/// };
/// use pptp_proto::time::Instant;
///
/// let pool = AddressPool {
///     local: [10, 0, 0, 1].into(),
///     range: ([10, 0, 0, 2].into(), [10, 0, 0, 9].into()),
///     dns: [None, None],
/// };
/// let mut server = Server::new(ServerConfig::new("vpn", pool).with_seed(1));
/// let mut client = Client::new(ClientConfig::new("alice", Password::new("secret").unwrap()));
///
/// let mut now = Instant::ZERO;
/// let conn = server.accept(now, [192, 0, 2, 1].into()).unwrap(); // a TCP connection came in
/// client.start(now);
/// assert_eq!(server.connection_count(), 1);
/// let mut events = Vec::new();
/// // One turn of the server's event loop (and of the client's).
/// fn run(server: &mut Server, client: &mut Client, now: Instant, events: &mut Vec<ServerEvent>) {
///     if server.poll_timeout().is_some_and(|t| t <= now) {
///         server.handle_timeout(now);
///     }
///     while let Some((to, bytes)) = server.poll_stream_transmit() {
///         assert_eq!(to, ConnectionId(0)); // write to its TCP connection
///         client.handle_stream(now, &bytes);
///     }
///     while let Some((to, mut gre)) = server.poll_datagram_transmit() {
///         assert_eq!(to, ConnectionId(0)); // send to its peer address
///         let _ = client.handle_datagram(now, &mut gre);
///     }
///     while let Some(event) = server.poll_event() {
///         if let ServerEvent::AuthRequest { connection, username, .. } = &event {
///             assert_eq!(username, "alice"); // look the user up
///             let secret = Credentials::Password(Password::new("secret").unwrap());
///             server.provide_credentials(now, *connection, secret);
///         }
///         events.push(event);
///     }
///     // The client's side.
///     client.handle_timeout(now);
///     while let Some(bytes) = client.poll_stream_transmit() {
///         server.handle_stream(now, ConnectionId(0), &bytes).unwrap();
///     }
///     while let Some(mut datagram) = client.poll_datagram_transmit() {
///         let _ = server.handle_datagram(now, [192, 0, 2, 1].into(), &mut datagram);
///     }
/// }
/// while !client.is_up() {
///     now += Duration::from_millis(10);
///     run(&mut server, &mut client, now, &mut events);
/// }
/// let up = ServerEvent::SessionUp {
///     connection: conn,
///     username: "alice".into(),
///     address: [10, 0, 0, 2].into(),
/// };
/// assert!(events.contains(&up));
///
/// // An IP packet from the client: its GRE Key is the server's Call ID.
/// let ip = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1];
/// let mut out = [0u8; 1600];
/// let range = client.send_ip(now, &ip, &mut out).unwrap();
/// let call_id = u16::from_be_bytes([out[range.start + 6], out[range.start + 7]]);
/// assert!(server.owns_call_id(call_id));
/// assert_eq!(server.connection_of_call(call_id), Some(conn));
/// let (from, received) = server.handle_datagram(now, [192, 0, 2, 1].into(), &mut out[range]).unwrap();
/// assert_eq!((from, received), (conn, Some(&ip[..])));
/// // And one back.
/// let reply = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
/// let range = server.send_ip(now, conn, &reply, &mut out).unwrap();
/// assert_eq!(client.handle_datagram(now, &mut out[range]).unwrap(), Some(&reply[..]));
/// let stats = server.stats(conn).unwrap();
/// assert_eq!((stats.ppp.ip_received, stats.ppp.ip_sent), (1, 1));
/// // The largest packet send_ip takes (the client's MRU, less MPPE's 4).
/// assert_eq!(server.mtu(conn), Some(1396));
///
/// // Closing: LCP Terminate, then the call and the control connection.
/// server.close(now, conn);
/// for _ in 0..10 {
///     now += Duration::from_millis(10);
///     run(&mut server, &mut client, now, &mut events);
/// }
/// let reason = SessionDownReason::Ppp(DownReason::LocalClose);
/// assert_eq!(reason.to_string(), "Connection terminated by us"); // for the log, as pppd says it
/// assert_eq!(events.last(), Some(&ServerEvent::SessionDown { connection: conn, reason }));
/// assert!(!client.is_up());
/// server.handle_stream_closed(now, conn); // we closed its TCP connection
/// assert_eq!(server.connection_count(), 0);
/// assert_eq!(server.stats(conn), None);
/// ```
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    /// Boxed entries: the map's nodes then hold pointers, not 400-octet
    /// connections with empty slots beside them.
    connections: BTreeMap<ConnectionId, alloc::boxed::Box<Connection>>,
    by_call: BTreeMap<u16, ConnectionId>,
    /// `(deadline, connection)`, soonest first; entries whose deadline is
    /// no longer the connection's registered one are stale and skipped.
    timers: BinaryHeap<Reverse<(Instant, ConnectionId)>>,
    next_connection: u64,
    next_call: u16,
    leased: BTreeSet<Ipv4Addr>,
    /// Live connections and recent accepts per source address.
    sources: BTreeMap<IpAddr, Source>,
    /// Sessions up per user name.
    users: BTreeMap<String, usize>,
    counters: ServerCounters,
    /// Keyed by [`ServerConfig::seed`]; every connection draws from it.
    rng: Rng,
    /// Drawn once from `rng`: the first half of every Acct-Session-Id.
    boot: u32,
    streams: VecDeque<(ConnectionId, Bytes)>,
    datagrams: VecDeque<(ConnectionId, Datagram)>,
    events: VecDeque<ServerEvent>,
    tap: TapSlot,
    /// The latest time an input carried, for taps on `poll_*` output.
    now: Instant,
}

impl Server {
    /// A server.
    ///
    /// See the [example](Self#example).
    pub fn new(mut config: ServerConfig) -> Self {
        let next_call = config.call_ids.0;
        // The window GRE paces its acks by is the one the OCRP announces.
        config.gre.receive_window = config.control.receive_window;
        let mut rng = Rng::from_seed(&config.seed);
        let boot = rng.next_u64() as u32;
        Server {
            boot,
            config,
            sources: BTreeMap::new(),
            users: BTreeMap::new(),
            counters: ServerCounters::default(),
            rng,
            connections: BTreeMap::new(),
            by_call: BTreeMap::new(),
            timers: BinaryHeap::new(),
            next_connection: 0,
            next_call,
            leased: BTreeSet::new(),
            streams: VecDeque::new(),
            datagrams: VecDeque::new(),
            events: VecDeque::new(),
            tap: TapSlot::default(),
            now: Instant::ZERO,
        }
    }

    /// Attaches a [`Tap`] that sees every connection's bytes sent and
    /// received from now on (for example `pcap::PcapWriter`, with the
    /// `pcap` feature); replaces any earlier one.
    pub fn set_tap(&mut self, tap: impl Tap + 'static) {
        self.tap.set(alloc::boxed::Box::new(tap));
    }

    /// Detaches the tap, giving it back.
    ///
    /// It works as [`Client::take_tap`](crate::client::Client::take_tap)
    /// does (see its example).
    pub fn take_tap(&mut self) -> Option<alloc::boxed::Box<dyn Tap>> {
        self.tap.take()
    }

    /// Whether GRE for `call_id` belongs to this server (for sharding).
    ///
    /// See the [example](Self#example).
    pub fn owns_call_id(&self, call_id: u16) -> bool {
        (self.config.call_ids.0..=self.config.call_ids.1).contains(&call_id)
    }

    /// The connection whose call uses `call_id` (the Call ID in GRE packets
    /// the client sends): lets the embedder check a datagram's source
    /// address before handing it to [`Server::handle_datagram`].
    ///
    /// See the [example](Self#example).
    pub fn connection_of_call(&self, call_id: u16) -> Option<ConnectionId> {
        self.by_call.get(&call_id).copied()
    }

    /// The Call ID the server gave a connection (the inverse of
    /// [`Server::connection_of_call`]; RADIUS's NAS-Port).
    ///
    /// ```
    /// use pptp_proto::server::{AddressPool, Server, ServerConfig};
    /// use pptp_proto::time::Instant;
    ///
    /// # let pool = AddressPool { local: [10, 0, 0, 1].into(), range: ([10, 0, 0, 2].into(), [10, 0, 0, 9].into()), dns: [None, None] };
    /// let mut server = Server::new(ServerConfig::new("vpn", pool));
    /// let conn = server.accept(Instant::ZERO, [192, 0, 2, 1].into()).unwrap();
    /// let call_id = server.call_id(conn).unwrap();
    /// assert_eq!(server.connection_of_call(call_id), Some(conn));
    /// ```
    pub fn call_id(&self, connection: ConnectionId) -> Option<u16> {
        Some(self.connections.get(&connection)?.call_id)
    }

    /// A connection's counters (`None` for an unknown connection; zero
    /// before its call is up).
    ///
    /// See the [example](Self#example).
    pub fn stats(&self, connection: ConnectionId) -> Option<crate::tunnel::SessionStats> {
        Some(self.connections.get(&connection)?.call.stats())
    }

    /// The session MTU of a connection's tunnel: the largest IP packet
    /// [`Server::send_ip`] takes (the client's MRU less MPPE's 4 octets).
    /// Set the route's MTU to it, and pass larger packets through
    /// [`mtu::fit`](crate::mtu::fit). `None` before the call is up.
    ///
    /// See the [example](Self#example).
    pub fn mtu(&self, connection: ConnectionId) -> Option<usize> {
        let c = self.connections.get(&connection)?;
        Some(c.call.tunnel.as_ref()?.ppp.mtu())
    }

    /// Connections open now.
    ///
    /// See the [example](Self#example).
    pub fn connection_count(&self) -> usize {
        self.connections.len()
    }

    /// A new TCP connection was accepted.
    ///
    /// See the [example](Self#example).
    ///
    /// `peer` is the TCP peer's address: the session's GRE must come from
    /// it ([`Server::handle_datagram`]). Admission control refuses a
    /// connection over [`ServerConfig::max_connections_per_source`] or
    /// [`ServerConfig::max_accepts_per_source_per_second`]; the embedder
    /// closes (or resets) that TCP connection at once.
    ///
    /// ```
    /// use core::time::Duration;
    /// use pptp_proto::server::{AddressPool, Refusal, Server, ServerConfig, ServerError};
    /// use pptp_proto::time::Instant;
    ///
    /// # let pool = AddressPool { local: [10, 0, 0, 1].into(), range: ([10, 0, 0, 2].into(), [10, 0, 0, 9].into()), dns: [None, None] };
    /// let mut config = ServerConfig::new("vpn", pool);
    /// config.max_connections_per_source = 2;
    /// config.max_accepts_per_source_per_second = 3;
    /// let mut server = Server::new(config);
    /// let (scanner, other) = ([192, 0, 2, 7].into(), [192, 0, 2, 8].into());
    /// let now = Instant::ZERO;
    /// let a = server.accept(now, scanner).unwrap();
    /// server.accept(now, scanner).unwrap();
    /// let third = server.accept(now, scanner);
    /// assert_eq!(third, Err(ServerError::Refused(Refusal::SourceConnections)));
    /// server.handle_stream_closed(now, a); // one goes away
    /// server.accept(now, scanner).unwrap(); // the third accept this second
    /// # server.handle_stream_closed(now, pptp_proto::server::ConnectionId(2));
    /// let fourth = server.accept(now, scanner);
    /// assert_eq!(fourth, Err(ServerError::Refused(Refusal::SourceRate)));
    /// server.accept(now, other).unwrap(); // other sources are not affected
    /// assert_eq!(server.counters().refused_source_rate, 1);
    /// ```
    pub fn accept(&mut self, now: Instant, peer: IpAddr) -> Result<ConnectionId, ServerError> {
        if self.connections.len() >= self.config.max_connections {
            self.counters.refused_full += 1;
            return Err(ServerError::Full);
        }
        self.admit(now, peer)?;
        let Some(call_id) = self.allocate_call_id() else {
            self.counters.refused_full += 1;
            return Err(ServerError::Full);
        };
        if let Some(source) = self.sources.get_mut(&peer) {
            source.connections += 1;
        }
        let id = ConnectionId(self.next_connection);
        self.next_connection += 1;
        let mut control = self.config.control.clone();
        control.role = Role::Pac;
        // One call per connection, with a Call ID unique across the server.
        control.call_ids = (call_id, call_id);
        control.max_calls = 1;
        control.seed = self.rng.next_u64();
        let mut call = Call::new(control);
        call.control.start(now);
        self.by_call.insert(call_id, id);
        // Room for every entry `push_timer` keeps, so a packet never grows it.
        let room = 2 * (self.connections.len() + 1) + 64;
        self.timers.reserve(room.saturating_sub(self.timers.len()));
        self.connections.insert(
            id,
            alloc::boxed::Box::new(Connection {
                call,
                peer,
                call_id,
                username: String::new(),
                address: None,
                deadline: None,
                leased: false,
                counted_user: false,
                establish_by: self.config.establish_timeout.map(|t| now + t),
                verdict_by: None,
                active_at: None,
                fail: None,
                up_at: None,
                aaa: None,
                ppp_seed: self.rng.next_u64(),
                #[cfg(feature = "tracing")]
                span: tracing::info_span!(
                    "pptp_session",
                    conn = id.0,
                    call = tracing::field::Empty,
                    user = tracing::field::Empty
                ),
            }),
        );
        self.service(now, id);
        Ok(id)
    }

    /// Admission control per source address: records the attempt, or
    /// refuses it.
    fn admit(&mut self, now: Instant, peer: IpAddr) -> Result<(), ServerError> {
        const SECOND: Duration = Duration::from_secs(1);
        // Sources with no connection are forgotten a second after their
        // last accept, so the table stays near the live connections' size.
        if self.sources.len() > 2 * self.connections.len() + 1024 {
            self.sources
                .retain(|_, s| s.connections > 0 || now - s.window < SECOND);
        }
        let source = self.sources.entry(peer).or_insert(Source {
            connections: 0,
            window: now,
            accepts: 0,
        });
        if now - source.window >= SECOND {
            source.window = now;
            source.accepts = 0;
        }
        let refusal = if source.connections >= self.config.max_connections_per_source {
            self.counters.refused_source_connections += 1;
            Refusal::SourceConnections
        } else if source.accepts >= self.config.max_accepts_per_source_per_second {
            self.counters.refused_source_rate += 1;
            Refusal::SourceRate
        } else {
            source.accepts += 1;
            return Ok(());
        };
        crate::trace::event!(info, peer = ?peer, reason = ?refusal, "connection refused");
        Err(ServerError::Refused(refusal))
    }

    /// A Call ID from a random start in the range (a guessable Call ID
    /// is half of what an injected GRE packet needs).
    fn allocate_call_id(&mut self) -> Option<u16> {
        let (lo, hi) = self.config.call_ids;
        let span = u32::from(hi.saturating_sub(lo)) + 1;
        self.next_call = lo.wrapping_add((self.rng.next_u64() % u64::from(span)) as u16);
        for _ in 0..span {
            let id = self.next_call;
            self.next_call = if id >= hi { lo } else { id + 1 };
            if !self.by_call.contains_key(&id) {
                return Some(id);
            }
        }
        None
    }

    /// Bytes read from a connection's TCP.
    ///
    /// See the [example](Self#example).
    pub fn handle_stream(
        &mut self,
        now: Instant,
        connection: ConnectionId,
        bytes: &[u8],
    ) -> Result<(), ServerError> {
        let c = self
            .connections
            .get_mut(&connection)
            .ok_or(ServerError::UnknownConnection)?;
        self.now = now;
        crate::trace::enter!(c.span);
        c.call
            .handle_stream(now, bytes, &mut self.tap, connection.0);
        self.service(now, connection);
        Ok(())
    }

    /// A connection's TCP closed.
    ///
    /// See the [example](Self#example).
    pub fn handle_stream_closed(&mut self, now: Instant, connection: ConnectionId) {
        self.now = now;
        if let Some(c) = self.connections.get_mut(&connection) {
            c.call
                .handle_stream_closed(now, &mut self.tap, connection.0);
        }
        self.service(now, connection);
        self.remove(connection);
    }

    /// A GRE packet (without IPv4 header) from `source`, the address in
    /// its IP header. Returns the connection it belongs to and the IP
    /// packet it carried, decrypted in place; packets that arrive out of
    /// order come later as [`ServerEvent::IpPacket`] instead (each packet
    /// one way, once: the [module docs](self)' rule). A packet whose Call ID is a
    /// session's but whose source is not that session's peer is refused
    /// ([`ServerError::WrongSource`]) and touches nothing.
    ///
    /// See the [example](Self#example).
    pub fn handle_datagram<'a>(
        &mut self,
        now: Instant,
        source: IpAddr,
        datagram: &'a mut [u8],
    ) -> Result<(ConnectionId, Option<&'a [u8]>), ServerError> {
        let call_id = GreHeader::parse(datagram)
            .map_err(|e| ServerError::Tunnel(TunnelError::Gre(e.into())))?
            .0
            .call_id;
        let found = self
            .by_call
            .get(&call_id)
            .and_then(|id| Some((*id, self.connections.get_mut(id)?)))
            .filter(|(_, c)| c.call.tunnel.is_some());
        let Some((id, c)) = found else {
            self.counters.unknown_call += 1;
            return Err(ServerError::UnknownCall(call_id));
        };
        if c.peer != source {
            self.counters.wrong_source += 1;
            return Err(ServerError::WrongSource { call_id });
        }
        self.now = now;
        crate::trace::enter!(c.span);
        let ip = c.call.handle_datagram(now, datagram, &mut self.tap, id.0);
        if matches!(ip, Ok(Some(_))) && c.active_at.is_some() {
            c.active_at = Some(now);
        }
        self.service(now, id);
        Ok((id, ip?))
    }

    /// Encrypts and encapsulates `ip` for a connection's client into `out`;
    /// returns the range of `out` to send. Allocates nothing.
    ///
    /// See the [example](Self#example).
    pub fn send_ip(
        &mut self,
        now: Instant,
        connection: ConnectionId,
        ip: &[u8],
        out: &mut [u8],
    ) -> Result<Range<usize>, ServerError> {
        let c = self
            .connections
            .get_mut(&connection)
            .ok_or(ServerError::UnknownConnection)?;
        let range = c.call.send_ip(now, ip, out, &mut self.tap, connection.0)?;
        if c.active_at.is_some() {
            c.active_at = Some(now);
        }
        self.now = now;
        Ok(range)
    }

    /// The secret for a connection's pending [`ServerEvent::AuthRequest`].
    ///
    /// See the [example](Self#example).
    pub fn provide_credentials(
        &mut self,
        now: Instant,
        connection: ConnectionId,
        credentials: Credentials,
    ) {
        if let Some(c) = self.connections.get_mut(&connection) {
            c.verdict_by = None;
            if let Some(t) = c.call.tunnel.as_mut() {
                t.ppp.provide_credentials(now, credentials);
            }
        }
        self.service(now, connection);
    }

    /// An external verifier's verdict for a pending [`ServerEvent::AuthRequest`].
    ///
    /// A verdict for a connection with no outstanding `AuthRequest` (a
    /// stale or duplicated answer) changes nothing: neither its address nor
    /// its timeouts are taken.
    ///
    /// A RADIUS server, say, checks the response and answers; here it
    /// refuses alice, and her session goes down:
    ///
    /// ```
    /// # use pptp_proto::client::{Client, ClientConfig};
    /// # use pptp_proto::crypto::Password;
    /// # use pptp_proto::server::{AddressPool, ConnectionId, Server, ServerConfig, ServerEvent};
    /// # use pptp_proto::time::Instant;
    /// # /// One turn of both event loops; returns the server's events.
    /// # fn run(server: &mut Server, client: &mut Client, now: Instant) -> Vec<ServerEvent> {
    /// #     server.handle_timeout(now);
    /// #     client.handle_timeout(now);
    /// #     while let Some((_, b)) = server.poll_stream_transmit() { client.handle_stream(now, &b); }
    /// #     while let Some((_, mut d)) = server.poll_datagram_transmit() { let _ = client.handle_datagram(now, &mut d); }
    /// #     while let Some(b) = client.poll_stream_transmit() { server.handle_stream(now, ConnectionId(0), &b).unwrap(); }
    /// #     while let Some(mut d) = client.poll_datagram_transmit() { let _ = server.handle_datagram(now, [192, 0, 2, 1].into(), &mut d); }
    /// #     core::iter::from_fn(|| server.poll_event()).collect()
    /// # }
    /// use core::time::Duration;
    /// use pptp_proto::ppp::auth::{AuthFailure, Rejection, Verdict};
    /// use pptp_proto::ppp::session::DownReason;
    /// use pptp_proto::server::SessionDownReason;
    ///
    /// # let pool = AddressPool { local: [10, 0, 0, 1].into(), range: ([10, 0, 0, 2].into(), [10, 0, 0, 9].into()), dns: [None, None] };
    /// let mut server = Server::new(ServerConfig::new("vpn", pool));
    /// let mut client = Client::new(ClientConfig::new("alice", Password::new("guess").unwrap()));
    /// let mut now = Instant::ZERO;
    /// let conn = server.accept(now, [192, 0, 2, 1].into()).unwrap();
    /// client.start(now);
    /// let reason = 'session: loop {
    ///     now += Duration::from_millis(10);
    ///     for event in run(&mut server, &mut client, now) {
    ///         match event {
    ///             ServerEvent::AuthRequest { connection, .. } => {
    ///                 server.provide_verdict(now, connection, Verdict::Reject(Rejection::default()));
    ///             }
    ///             ServerEvent::SessionDown { reason, .. } => break 'session reason,
    ///             _ => {}
    ///         }
    ///     }
    /// };
    /// assert!(matches!(reason, SessionDownReason::Ppp(DownReason::AuthFailed(_))));
    /// assert!(!client.is_up());
    /// # let _ = conn;
    /// ```
    pub fn provide_verdict(&mut self, now: Instant, connection: ConnectionId, verdict: Verdict) {
        if let Some(c) = self.connections.get_mut(&connection) {
            // Only for an outstanding AuthRequest, before the session has
            // its address: a verdict nobody asked for changes nothing (the
            // PPP machine ignores it too).
            let asked = c
                .call
                .tunnel
                .as_ref()
                .is_some_and(|t| t.ppp.awaits_verdict());
            if !asked {
                return;
            }
            c.verdict_by = None;
            if let (None, Verdict::Accept(a)) = (c.address, &verdict) {
                c.aaa = Aaa::of(a);
            }
            if let Some(t) = c.call.tunnel.as_mut() {
                t.ppp.provide_verdict(now, verdict);
            }
        }
        self.service(now, connection);
    }

    /// Addresses for a connection (after [`ServerEvent::AddressRequest`]).
    ///
    /// With [`ServerConfig::pool`] set to `None` the embedder assigns the
    /// addresses, from its own pool or a RADIUS reply:
    ///
    /// ```
    /// # use pptp_proto::client::{Client, ClientConfig};
    /// # use pptp_proto::crypto::Password;
    /// # use pptp_proto::server::{AddressPool, ConnectionId, Server, ServerConfig, ServerEvent};
    /// # use pptp_proto::time::Instant;
    /// # /// One turn of both event loops; returns the server's events.
    /// # fn run(server: &mut Server, client: &mut Client, now: Instant) -> Vec<ServerEvent> {
    /// #     server.handle_timeout(now);
    /// #     client.handle_timeout(now);
    /// #     while let Some((_, b)) = server.poll_stream_transmit() { client.handle_stream(now, &b); }
    /// #     while let Some((_, mut d)) = server.poll_datagram_transmit() { let _ = client.handle_datagram(now, &mut d); }
    /// #     while let Some(b) = client.poll_stream_transmit() { server.handle_stream(now, ConnectionId(0), &b).unwrap(); }
    /// #     while let Some(mut d) = client.poll_datagram_transmit() { let _ = server.handle_datagram(now, [192, 0, 2, 1].into(), &mut d); }
    /// #     core::iter::from_fn(|| server.poll_event()).collect()
    /// # }
    /// use core::time::Duration;
    /// use pptp_proto::ppp::auth::Credentials;
    /// use pptp_proto::ppp::ipcp::IpAssignment;
    ///
    /// # let pool = AddressPool { local: [10, 0, 0, 1].into(), range: ([10, 0, 0, 2].into(), [10, 0, 0, 9].into()), dns: [None, None] };
    /// let mut config = ServerConfig::new("vpn", pool);
    /// config.pool = None;
    /// let mut server = Server::new(config);
    /// let mut client = Client::new(ClientConfig::new("alice", Password::new("secret").unwrap()));
    /// let mut now = Instant::ZERO;
    /// server.accept(now, [192, 0, 2, 1].into()).unwrap();
    /// client.start(now);
    /// while !client.is_up() {
    ///     now += Duration::from_millis(10);
    ///     for event in run(&mut server, &mut client, now) {
    ///         match event {
    ///             ServerEvent::AuthRequest { connection, .. } => {
    ///                 let secret = Credentials::Password(Password::new("secret").unwrap());
    ///                 server.provide_credentials(now, connection, secret);
    ///             }
    ///             ServerEvent::AddressRequest { connection, .. } => {
    ///                 let assignment = IpAssignment {
    ///                     local: Some([192, 168, 7, 1].into()),
    ///                     peer: Some([192, 168, 7, 20].into()),
    ///                     dns: [Some([192, 168, 7, 1].into()), None],
    ///                     nbns: [None, None],
    ///                 };
    ///                 server.assign_address(now, connection, assignment);
    ///             }
    ///             _ => {}
    ///         }
    ///     }
    /// }
    /// let up = core::iter::from_fn(|| client.poll_event()).last();
    /// use pptp_proto::client::ClientEvent;
    /// let Some(ClientEvent::Up { local, peer, dns, .. }) = up else { panic!() };
    /// assert_eq!((local, peer), ([192, 168, 7, 20].into(), [192, 168, 7, 1].into()));
    /// assert_eq!(dns[0], Some([192, 168, 7, 1].into()));
    /// ```
    pub fn assign_address(
        &mut self,
        now: Instant,
        connection: ConnectionId,
        assignment: IpAssignment,
    ) {
        if let Some(c) = self
            .connections
            .get_mut(&connection)
            .filter(|c| !c.call.is_down())
        {
            c.address = assignment.peer;
            if let Some(t) = c.call.tunnel.as_mut() {
                t.ppp.set_ip_assignment(assignment);
            }
        }
        // IPCP, held until now, starts.
        self.service(now, connection);
    }

    /// Closes a session (LCP Terminate, then the call and the connection).
    ///
    /// See the [example](Self#example).
    pub fn close(&mut self, now: Instant, connection: ConnectionId) {
        if let Some(c) = self.connections.get_mut(&connection) {
            c.call.close(now);
        }
        self.service(now, connection);
    }

    /// When [`Server::handle_timeout`] is due (possibly early: a deadline
    /// that moved later is found out when its old entry fires).
    ///
    /// See the [example](Self#example).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.connections.is_empty() {
            return None;
        }
        self.timers.peek().map(|Reverse((t, _))| *t)
    }

    /// What admission control refused, what was dropped and which
    /// deadlines passed, since the server started.
    ///
    /// See [`Server::accept`].
    pub fn counters(&self) -> &ServerCounters {
        &self.counters
    }

    /// Runs the due timers, touching only the connections they belong to.
    ///
    /// See the [example](Self#example).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        while let Some(&Reverse((t, id))) = self.timers.peek() {
            if t > now {
                break;
            }
            self.timers.pop();
            let Some(c) = self.connections.get_mut(&id) else {
                continue;
            };
            if c.deadline != Some(t) {
                // Stale: an earlier deadline replaced this one.
                continue;
            }
            c.deadline = None;
            if c.interim_due().is_some_and(|t| t <= now) && !c.call.is_down() {
                let record = c.record(id, now, self.boot, AccountingStatus::Interim, None);
                if let Some(aaa) = c.aaa.as_mut() {
                    aaa.next_interim = aaa.interim_interval.map(|i| now + i);
                }
                self.events
                    .push_back(ServerEvent::Accounting(alloc::boxed::Box::new(record)));
            }
            if let Some(deadline) = c.expired(now, self.config.idle_timeout) {
                if !c.call.is_down() {
                    crate::trace::event!(info, conn = id.0, deadline = ?deadline, "deadline passed");
                    c.fail = Some(SessionDownReason::Deadline(deadline));
                }
                c.establish_by = None;
                c.verdict_by = None;
                c.active_at = None;
            }
            c.call.handle_timeout(now);
            self.service(now, id);
        }
    }

    /// What waits for the embedder's polls: the lengths of the stream,
    /// datagram and event queues. Each is bounded
    /// ([`ServerConfig::max_queued_stream`] for the stream; the datagram and
    /// event queues drop beyond theirs), so a loop that falls behind sees
    /// its backlog here before anything is lost. Zero after a full drain:
    ///
    /// ```
    /// use pptp_proto::server::{AddressPool, Server, ServerConfig};
    /// use pptp_proto::time::Instant;
    ///
    /// let pool = AddressPool {
    ///     local: [10, 0, 0, 1].into(),
    ///     range: ([10, 0, 0, 2].into(), [10, 0, 0, 9].into()),
    ///     dns: [None, None],
    /// };
    /// let mut server = Server::new(ServerConfig::new("vpn", pool));
    /// server.accept(Instant::ZERO, [192, 0, 2, 1].into()).unwrap();
    /// assert_eq!(server.queued(), (0, 0, 0)); // a PAC waits for the SCCRQ
    /// ```
    pub fn queued(&self) -> (usize, usize, usize) {
        (self.streams.len(), self.datagrams.len(), self.events.len())
    }

    /// The next bytes for a connection's TCP.
    ///
    /// See the [example](Self#example).
    pub fn poll_stream_transmit(&mut self) -> Option<(ConnectionId, Bytes)> {
        let Some((c, bytes)) = self.streams.pop_front() else {
            // A flood's backlog gives its memory back once drained.
            shrink_drained(&mut self.streams);
            return None;
        };
        self.tap.stream(self.now, c.0, Direction::Sent, &bytes);
        Some((c, bytes))
    }

    /// The next GRE packet for a connection's client.
    ///
    /// Ack-only packets come inline in the [`Datagram`]: the data path
    /// allocates nothing here.
    ///
    /// The [`Client` example](crate::client::Client#example) drains it.
    pub fn poll_datagram_transmit(&mut self) -> Option<(ConnectionId, Datagram)> {
        let (c, d) = self.datagrams.pop_front()?;
        self.tap.datagram(self.now, c.0, Direction::Sent, &d);
        Some((c, d))
    }

    /// The next event.
    ///
    /// See the [example](Self#example).
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        let event = self.events.pop_front();
        if event.is_none() {
            shrink_drained(&mut self.events);
        }
        event
    }

    fn remove(&mut self, id: ConnectionId) {
        // Its timer entries go stale and are skipped when they come up.
        if let Some(mut c) = self.connections.remove(&id) {
            self.by_call.remove(&c.call_id);
            release(&mut c, &mut self.leased, &mut self.users);
            if let Some(source) = self.sources.get_mut(&c.peer) {
                source.connections = source.connections.saturating_sub(1);
            }
        }
        if self.connections.is_empty() {
            self.timers.clear();
        }
    }

    /// Drains one connection's machines into the server's queues and
    /// re-registers its timer. The connection stays in its map: taking it
    /// out and back in would rebalance the tree, allocating, per packet.
    fn service(&mut self, now: Instant, id: ConnectionId) {
        #[cfg(feature = "tracing")]
        let _entered = self.connections.get(&id).map(|c| c.span.clone().entered());
        let Server {
            config,
            connections,
            timers,
            leased,
            users,
            counters,
            streams,
            datagrams,
            events,
            tap,
            boot,
            ..
        } = self;
        let Some(c) = connections.get_mut(&id) else {
            return;
        };
        let mut out = Output {
            streams,
            datagrams,
            events,
            tap,
            leased,
            users,
            counters,
            boot: *boot,
        };
        let max_stream = config.max_queued_stream;
        let mut overflow = out.queue_stream(now, id, c, max_stream);
        // Twice at most: a failure found while servicing (no address, a
        // user over the limit) is applied and its consequences drained.
        for _ in 0..2 {
            out.apply_fail(now, id, c, config.accounting);
            out.service_call(now, id, c, config);
            if c.fail.is_none() {
                break;
            }
        }
        overflow |= out.queue_stream(now, id, c, max_stream);
        let own = Instant::soonest(
            Instant::soonest(c.establish_by, c.verdict_by),
            Instant::soonest(
                c.idle_deadline(config.idle_timeout),
                Instant::soonest(c.session_deadline(), c.interim_due()),
            ),
        );
        let deadline = Instant::soonest(c.call.poll_timeout(), own);
        // A later or equal deadline keeps the entry it has; when that fires
        // early the connection's timers are a no-op and it re-registers.
        let earlier = deadline.filter(|d| c.deadline.is_none_or(|r| *d < r));
        if let Some(d) = earlier {
            c.deadline = Some(d);
            push_timer(timers, connections, (d, id));
        }
        if overflow {
            // Report the closed control connection (CallDown, SessionDown).
            self.service(now, id);
        }
    }
}

/// Gives back the memory of an empty queue that grew past a working size.
fn shrink_drained<T>(queue: &mut VecDeque<T>) {
    if queue.capacity() > 256 {
        queue.shrink_to(64);
    }
}

/// Pushes a timer entry; when stale entries outnumber the live ones the
/// heap is compacted in place, so its capacity stays bounded.
fn push_timer(
    timers: &mut BinaryHeap<Reverse<(Instant, ConnectionId)>>,
    connections: &BTreeMap<ConnectionId, alloc::boxed::Box<Connection>>,
    entry: (Instant, ConnectionId),
) {
    // Each connection has at most one live entry: the one its `deadline` names.
    if timers.len() >= 2 * connections.len() + 64 {
        timers
            .retain(|Reverse((t, id))| connections.get(id).is_some_and(|c| c.deadline == Some(*t)));
    }
    timers.push(Reverse(entry));
}

/// Leases the lowest free address of the pool.
fn lease(pool: Option<&AddressPool>, leased: &mut BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    let pool = pool?;
    let (lo, hi) = (u32::from(pool.range.0), u32::from(pool.range.1));
    (lo..=hi)
        .map(Ipv4Addr::from)
        .find(|a| !leased.contains(a))
        .inspect(|a| {
            leased.insert(*a);
        })
}

/// Gives back what a session held: its pool address and its place in its
/// user's session count. Idempotent.
fn release(
    c: &mut Connection,
    leased: &mut BTreeSet<Ipv4Addr>,
    users: &mut BTreeMap<String, usize>,
) {
    if c.leased {
        c.leased = false;
        if let Some(a) = c.address {
            leased.remove(&a);
        }
    }
    if c.counted_user {
        c.counted_user = false;
        if let Some(n) = users.get_mut(&c.username) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                users.remove(&c.username);
            }
        }
    }
}

/// The server's output queues and shared tables, borrowed apart from its
/// connection map.
struct Output<'a> {
    streams: &'a mut VecDeque<(ConnectionId, Bytes)>,
    datagrams: &'a mut VecDeque<(ConnectionId, Datagram)>,
    events: &'a mut VecDeque<ServerEvent>,
    tap: &'a mut TapSlot,
    leased: &'a mut BTreeSet<Ipv4Addr>,
    users: &'a mut BTreeMap<String, usize>,
    counters: &'a mut ServerCounters,
    /// [`Server`]'s Acct-Session-Id prefix.
    boot: u32,
}

impl Output<'_> {
    /// Reports a session down (once: the call reports its own down once,
    /// and `Call::fail` answers false for one already down), and gives back
    /// what it held.
    fn report_down(
        &mut self,
        now: Instant,
        id: ConnectionId,
        c: &mut Connection,
        reason: SessionDownReason,
        accounting: bool,
    ) {
        match &reason {
            SessionDownReason::Control(CloseReason::StartTimeout) => {
                self.counters.start_timeouts += 1
            }
            SessionDownReason::Control(CloseReason::MessageTimeout) => {
                self.counters.message_timeouts += 1
            }
            _ => {}
        }
        c.establish_by = None;
        c.verdict_by = None;
        c.active_at = None;
        crate::trace::event!(info, conn = id.0, reason = %reason, "session down");
        // The stop record reads the address and counters: before they go.
        let stop = (accounting && c.up_at.is_some())
            .then(|| c.record(id, now, self.boot, AccountingStatus::Stop, Some(&reason)));
        c.up_at = None;
        if let Some(aaa) = c.aaa.as_mut() {
            aaa.next_interim = None;
        }
        release(c, self.leased, self.users);
        self.events.push_back(ServerEvent::SessionDown {
            connection: id,
            reason,
        });
        if let Some(record) = stop {
            self.events
                .push_back(ServerEvent::Accounting(alloc::boxed::Box::new(record)));
        }
    }

    /// Ends a session for a reason of the server's own: reported at once,
    /// its resources given back; LCP Terminate-Request and
    /// Stop-Control-Connection-Request go out.
    fn apply_fail(&mut self, now: Instant, id: ConnectionId, c: &mut Connection, accounting: bool) {
        let Some(reason) = c.fail.take() else {
            return;
        };
        if !c.call.fail(now) {
            return;
        }
        match reason {
            SessionDownReason::Deadline(Deadline::Establish) => {
                self.counters.establish_timeouts += 1
            }
            SessionDownReason::Deadline(Deadline::Verdict) => self.counters.verdict_timeouts += 1,
            SessionDownReason::Deadline(Deadline::Idle) => self.counters.idle_timeouts += 1,
            SessionDownReason::Deadline(Deadline::Session) => self.counters.session_timeouts += 1,
            SessionDownReason::NoAddress => self.counters.pool_exhausted += 1,
            SessionDownReason::UserLimit => self.counters.user_limit += 1,
            _ => {}
        }
        self.report_down(now, id, c, reason, accounting);
    }

    /// Moves a connection's control output to the stream queue; when the
    /// queue holds `max` messages the connection fails closed instead, since
    /// dropping part of a byte stream would corrupt it. Returns whether it
    /// did.
    fn queue_stream(
        &mut self,
        now: Instant,
        id: ConnectionId,
        c: &mut Connection,
        max: usize,
    ) -> bool {
        while let Some(b) = c.call.poll_stream_transmit() {
            if self.streams.len() >= max {
                c.call.control.handle_stream_closed(now);
                while c.call.poll_stream_transmit().is_some() {}
                return true;
            }
            self.streams.push_back((id, b));
        }
        false
    }

    /// Handles a connection's call events (its control output was queued
    /// first) and queues its datagrams.
    fn service_call(
        &mut self,
        now: Instant,
        id: ConnectionId,
        c: &mut Connection,
        config: &ServerConfig,
    ) {
        let setup = Setup {
            gre: &config.gre,
            ppp: &config.ppp,
            seed: Some(c.ppp_seed),
        };
        while let Some(event) = c.call.poll_event(now, &setup) {
            match event {
                // The address waits for authentication (see `assign`).
                CallEvent::CallUp { call_id, .. } => {
                    crate::trace::record!(c.span, "call", call_id);
                }
                CallEvent::Ppp(PppEvent::AuthRequest {
                    username,
                    method,
                    exchange,
                }) => {
                    c.verdict_by = config.verdict_timeout.map(|t| now + t);
                    c.username.clone_from(&username);
                    #[cfg(feature = "tracing")]
                    c.span.record("user", username.as_str());
                    self.events.push_back(ServerEvent::AuthRequest {
                        connection: id,
                        username,
                        method,
                        exchange,
                    });
                }
                // Authenticated (or no authentication configured): only now
                // does the session get an address (RFC 1661 §3.5: NCPs
                // start in the Network phase).
                CallEvent::Ppp(PppEvent::PhaseChanged(Phase::Network)) => {
                    if let Some(reason) = self.admit_user(c, config) {
                        c.fail = Some(reason);
                    } else if let Some(reason) = self.assign(id, c, config) {
                        c.fail = Some(reason);
                    }
                }
                CallEvent::Ppp(PppEvent::PasswordChanged {
                    username,
                    new_password,
                }) => self.events.push_back(ServerEvent::PasswordChanged {
                    connection: id,
                    username,
                    new_password,
                }),
                CallEvent::Up { peer, .. } => {
                    c.establish_by = None;
                    c.active_at = Some(now);
                    c.up_at = Some(now);
                    self.events.push_back(ServerEvent::SessionUp {
                        connection: id,
                        username: c.username.clone(),
                        address: peer,
                    });
                    if config.accounting {
                        let interval = c.aaa.as_ref().and_then(|a| a.interim_interval);
                        if let Some(i) = interval.or(config.accounting_interval) {
                            let aaa = c.aaa.get_or_insert_with(Default::default);
                            aaa.interim_interval = Some(i);
                            aaa.next_interim = Some(now + i);
                        }
                        let record = c.record(id, now, self.boot, AccountingStatus::Start, None);
                        self.events
                            .push_back(ServerEvent::Accounting(alloc::boxed::Box::new(record)));
                    }
                }
                CallEvent::Released(packet) => {
                    if c.active_at.is_some() {
                        c.active_at = Some(now);
                    }
                    // Reordered IP is dropped, not queued without bound,
                    // when the embedder does not poll.
                    if self.events.len() < MAX_QUEUED_IP_EVENTS {
                        self.tap.inner(now, id.0, Direction::Received, &packet);
                        self.events.push_back(ServerEvent::IpPacket {
                            connection: id,
                            packet,
                        });
                    }
                }
                CallEvent::Down(reason) => self.report_down(now, id, c, reason, config.accounting),
                CallEvent::Connected { .. } | CallEvent::Ppp(_) => {}
            }
        }
        while let Some(d) = c.call.poll_datagram() {
            // Control-plane datagrams are retransmitted by their timers:
            // beyond the bound they are dropped like a full socket would.
            if self.datagrams.len() < MAX_QUEUED_DATAGRAMS {
                self.datagrams.push_back((id, d));
            }
        }
    }

    /// Counts an authenticated session toward its user's limit, or refuses it.
    fn admit_user(
        &mut self,
        c: &mut Connection,
        config: &ServerConfig,
    ) -> Option<SessionDownReason> {
        if c.counted_user || c.username.is_empty() {
            return None;
        }
        let n = self.users.get(&c.username).copied().unwrap_or(0);
        if config.max_sessions_per_user.is_some_and(|max| n >= max) {
            return Some(SessionDownReason::UserLimit);
        }
        *self.users.entry(c.username.clone()).or_insert(0) += 1;
        c.counted_user = true;
        None
    }

    /// Gives an authenticated session its addresses: from the pool, or by
    /// asking the embedder when there is none. An exhausted pool ends it.
    fn assign(
        &mut self,
        id: ConnectionId,
        c: &mut Connection,
        config: &ServerConfig,
    ) -> Option<SessionDownReason> {
        if c.address.is_some() {
            return None;
        }
        let granted = c.aaa.as_ref().and_then(|a| a.address);
        let Some(pool) = &config.pool else {
            self.events.push_back(ServerEvent::AddressRequest {
                connection: id,
                granted,
            });
            return None;
        };
        let address = match granted {
            // The verifier's address wins over the pool; never two
            // sessions on one address (the second would take its traffic).
            Some(a) if !self.leased.insert(a) => return Some(SessionDownReason::AddressInUse(a)),
            Some(a) => a,
            None => match lease(Some(pool), self.leased) {
                Some(a) => a,
                None => return Some(SessionDownReason::NoAddress),
            },
        };
        c.address = Some(address);
        c.leased = true;
        if let Some(t) = c.call.tunnel.as_mut() {
            t.ppp.set_ip_assignment(IpAssignment {
                local: Some(pool.local),
                peer: Some(address),
                dns: pool.dns,
                nbns: [None, None],
            });
        }
        None
    }
}
