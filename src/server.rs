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
//! - [`Server::poll_datagram_transmit_into`] drains the same queue as
//!   [`Server::poll_datagram_transmit`] into a reused buffer: with it, the
//!   data path allocates nothing, ack-only packets included.
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
//! let conn = server.accept(Instant::ZERO).unwrap(); // a TCP connection came in
//! // Then: server.handle_stream(now, conn, &bytes) for its reads,
//! // server.handle_datagram(now, &mut gre) for GRE, drain the poll_* queues,
//! // and call handle_timeout at poll_timeout (see the README's example).
//! assert_eq!(server.connection_count(), 1);
//! assert!(server.poll_timeout().is_some());
//! # let _ = conn;
//! ```

use alloc::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Reverse;
use core::net::Ipv4Addr;
use core::ops::Range;

use bytes::Bytes;

use crate::control::{
    CallDownReason, CloseReason, ControlConfig, ControlConnection, ControlEvent, Role,
};
use crate::gre::GreConfig;
use crate::ppp::auth::{Credentials, Verdict};
use crate::ppp::ipcp::IpAssignment;
use crate::ppp::lcp::AuthMethod;
use crate::ppp::session::{DownReason, PppEvent, SessionConfig};
use crate::tap::{Direction, Tap, TapSlot};
use crate::time::Instant;
use crate::tunnel::{Datagram, Tunnel, TunnelError};
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
        }
    }

    /// Sets the seed every random choice derives from (control-connection
    /// values, LCP magic numbers, CHAP challenges): seed it from the OS,
    /// or challenges repeat after every restart.
    ///
    /// See the [`Server` example](Server#example).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.control.seed = seed;
        self.ppp.seed = seed.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15;
        self
    }
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
    },
    /// The session needs addresses (pool disabled): answer with
    /// [`Server::assign_address`].
    AddressRequest {
        /// Its connection.
        connection: ConnectionId,
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

/// Why a session ended ([`ServerEvent::SessionDown`]).
///
/// The first cause is reported: when the client's TCP connection closes
/// under a running session the reason is `Control(StreamClosed)`, not the
/// PPP consequence `Ppp(LowerLayerDown)`.
///
/// See the [`Server` example](Server#example) and
/// [`Server::provide_verdict`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionDownReason {
    /// PPP ended (authentication failed, MPPE refused, LCP timeout, the
    /// client's LCP Terminate-Request, …).
    Ppp(DownReason),
    /// The control connection closed (TCP closed, Stop-Control-Connection,
    /// a malformed message, echo timeout, …).
    Control(CloseReason),
    /// The call ended on the control connection while the connection
    /// stayed up (the client's Call-Clear-Request).
    CallDown(CallDownReason),
}

impl core::fmt::Display for SessionDownReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SessionDownReason::Ppp(r) => write!(f, "PPP: {r:?}"),
            SessionDownReason::Control(r) => write!(f, "control connection: {r:?}"),
            SessionDownReason::CallDown(r) => write!(f, "call: {r:?}"),
        }
    }
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
/// server.accept(now).unwrap();
/// assert_eq!(server.accept(now), Err(ServerError::Full));
/// let unknown = server.handle_stream(now, ConnectionId(9), &[0; 16]);
/// assert_eq!(unknown, Err(ServerError::UnknownConnection));
/// // GRE for a Call ID no session here owns (the connection's call is not up yet).
/// let mut buf = [0u8; 32];
/// let mut other = GreChannel::new(GreConfig::new(0, 7));
/// let n = other.encapsulate(now, &[0xff, 0x03, 0x00, 0x21], &mut buf).unwrap();
/// let err = server.handle_datagram(now, &mut buf[..n]).unwrap_err();
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
    /// The tunnel refused it.
    #[error(transparent)]
    Tunnel(#[from] TunnelError),
}

#[derive(Debug)]
struct Connection {
    control: ControlConnection,
    call_id: u16,
    /// Boxed: a connection waiting for its call holds no tunnel.
    tunnel: Option<alloc::boxed::Box<Tunnel>>,
    username: String,
    address: Option<Ipv4Addr>,
    /// The earliest deadline with an entry in the server's timer heap.
    deadline: Option<Instant>,
    down: bool,
    /// What ended the call or the control connection, kept until PPP
    /// reports the consequence.
    cause: Option<SessionDownReason>,
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
/// let conn = server.accept(now).unwrap(); // a TCP connection came in
/// client.start(now);
/// assert_eq!(server.connection_count(), 1);
/// let mut events = Vec::new();
/// // One turn of the server's event loop (and of the client's).
/// fn run(server: &mut Server, client: &mut Client, now: Instant, events: &mut Vec<ServerEvent>) {
///     let mut gre = Vec::new(); // reused for every outgoing GRE packet
///     if server.poll_timeout().is_some_and(|t| t <= now) {
///         server.handle_timeout(now);
///     }
///     while let Some((to, bytes)) = server.poll_stream_transmit() {
///         assert_eq!(to, ConnectionId(0)); // write to its TCP connection
///         client.handle_stream(now, &bytes);
///     }
///     while let Some(to) = server.poll_datagram_transmit_into(&mut gre) {
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
///         let _ = server.handle_datagram(now, &mut datagram);
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
/// let (from, received) = server.handle_datagram(now, &mut out[range]).unwrap();
/// assert_eq!((from, received), (conn, Some(&ip[..])));
/// // And one back.
/// let reply = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
/// let range = server.send_ip(now, conn, &reply, &mut out).unwrap();
/// assert_eq!(client.handle_datagram(now, &mut out[range]).unwrap(), Some(&reply[..]));
/// let stats = server.stats(conn).unwrap();
/// assert_eq!((stats.ppp.ip_received, stats.ppp.ip_sent), (1, 1));
///
/// // Closing: LCP Terminate, then the call and the control connection.
/// server.close(now, conn);
/// for _ in 0..10 {
///     now += Duration::from_millis(10);
///     run(&mut server, &mut client, now, &mut events);
/// }
/// let reason = SessionDownReason::Ppp(DownReason::LocalClose);
/// assert_eq!(reason.to_string(), "PPP: LocalClose"); // for the log
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
        Server {
            config,
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

    /// A connection's counters (`None` for an unknown connection; zero
    /// before its call is up).
    ///
    /// See the [example](Self#example).
    pub fn stats(&self, connection: ConnectionId) -> Option<crate::tunnel::SessionStats> {
        let c = self.connections.get(&connection)?;
        Some(
            c.tunnel
                .as_ref()
                .map_or_else(Default::default, |t| t.stats()),
        )
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
    pub fn accept(&mut self, now: Instant) -> Result<ConnectionId, ServerError> {
        if self.connections.len() >= self.config.max_connections {
            return Err(ServerError::Full);
        }
        let call_id = self.allocate_call_id().ok_or(ServerError::Full)?;
        let id = ConnectionId(self.next_connection);
        self.next_connection += 1;
        let mut control = self.config.control.clone();
        control.role = Role::Pac;
        // One call per connection, with a Call ID unique across the server.
        control.call_ids = (call_id, call_id);
        control.max_calls = 1;
        control.seed ^= id.0;
        let mut control = ControlConnection::new(control);
        control.start(now);
        self.by_call.insert(call_id, id);
        // Room for every entry `push_timer` keeps, so a packet never grows it.
        let room = 2 * (self.connections.len() + 1) + 64;
        self.timers.reserve(room.saturating_sub(self.timers.len()));
        self.connections.insert(
            id,
            alloc::boxed::Box::new(Connection {
                control,
                call_id,
                tunnel: None,
                username: String::new(),
                address: None,
                deadline: None,
                down: false,
                cause: None,
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

    fn allocate_call_id(&mut self) -> Option<u16> {
        let (lo, hi) = self.config.call_ids;
        let span = u32::from(hi.saturating_sub(lo)) + 1;
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
        self.tap
            .stream(now, connection.0, Direction::Received, bytes);
        crate::trace::enter!(c.span);
        let _ = c.control.handle_stream(now, bytes);
        self.service(now, connection);
        Ok(())
    }

    /// A connection's TCP closed.
    ///
    /// See the [example](Self#example).
    pub fn handle_stream_closed(&mut self, now: Instant, connection: ConnectionId) {
        self.now = now;
        if let Some(c) = self.connections.get_mut(&connection) {
            self.tap.closed(now, connection.0);
            c.control.handle_stream_closed(now);
        }
        self.service(now, connection);
        self.remove(connection);
    }

    /// A GRE packet (without IPv4 header) from any client. Returns the
    /// connection it belongs to and the IP packet it carried, decrypted in
    /// place.
    ///
    /// See the [example](Self#example).
    pub fn handle_datagram<'a>(
        &mut self,
        now: Instant,
        datagram: &'a mut [u8],
    ) -> Result<(ConnectionId, Option<&'a [u8]>), ServerError> {
        let call_id = GreHeader::parse(datagram)
            .map_err(|e| ServerError::Tunnel(TunnelError::Gre(e.into())))?
            .0
            .call_id;
        let id = *self
            .by_call
            .get(&call_id)
            .ok_or(ServerError::UnknownCall(call_id))?;
        let c = self
            .connections
            .get_mut(&id)
            .ok_or(ServerError::UnknownCall(call_id))?;
        let tunnel = c.tunnel.as_mut().ok_or(ServerError::UnknownCall(call_id))?;
        self.now = now;
        self.tap.datagram(now, id.0, Direction::Received, datagram);
        crate::trace::enter!(c.span);
        let ip = tunnel.handle_datagram(now, datagram);
        if let Ok(Some(ip)) = &ip {
            self.tap.inner(now, id.0, Direction::Received, ip);
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
        let tunnel = c.tunnel.as_mut().ok_or(TunnelError::NoCall)?;
        let range = tunnel.send_ip(now, ip, out)?;
        self.now = now;
        self.tap.inner(now, connection.0, Direction::Sent, ip);
        self.tap
            .datagram(now, connection.0, Direction::Sent, &out[range.clone()]);
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
        if let Some(t) = self
            .connections
            .get_mut(&connection)
            .and_then(|c| c.tunnel.as_mut())
        {
            t.ppp.provide_credentials(now, credentials);
        }
        self.service(now, connection);
    }

    /// An external verifier's verdict for a pending [`ServerEvent::AuthRequest`].
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
    /// #     while let Some(mut d) = client.poll_datagram_transmit() { let _ = server.handle_datagram(now, &mut d); }
    /// #     core::iter::from_fn(|| server.poll_event()).collect()
    /// # }
    /// use core::time::Duration;
    /// use pptp_proto::ppp::auth::{AuthFailure, Verdict};
    /// use pptp_proto::ppp::session::DownReason;
    /// use pptp_proto::server::SessionDownReason;
    ///
    /// # let pool = AddressPool { local: [10, 0, 0, 1].into(), range: ([10, 0, 0, 2].into(), [10, 0, 0, 9].into()), dns: [None, None] };
    /// let mut server = Server::new(ServerConfig::new("vpn", pool));
    /// let mut client = Client::new(ClientConfig::new("alice", Password::new("guess").unwrap()));
    /// let mut now = Instant::ZERO;
    /// let conn = server.accept(now).unwrap();
    /// client.start(now);
    /// let reason = 'session: loop {
    ///     now += Duration::from_millis(10);
    ///     for event in run(&mut server, &mut client, now) {
    ///         match event {
    ///             ServerEvent::AuthRequest { connection, .. } => {
    ///                 server.provide_verdict(now, connection, Verdict::Reject);
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
        if let Some(t) = self
            .connections
            .get_mut(&connection)
            .and_then(|c| c.tunnel.as_mut())
        {
            t.ppp.provide_verdict(now, verdict);
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
    /// #     while let Some(mut d) = client.poll_datagram_transmit() { let _ = server.handle_datagram(now, &mut d); }
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
    /// server.accept(now).unwrap();
    /// client.start(now);
    /// while !client.is_up() {
    ///     now += Duration::from_millis(10);
    ///     for event in run(&mut server, &mut client, now) {
    ///         match event {
    ///             ServerEvent::AuthRequest { connection, .. } => {
    ///                 let secret = Credentials::Password(Password::new("secret").unwrap());
    ///                 server.provide_credentials(now, connection, secret);
    ///             }
    ///             ServerEvent::AddressRequest { connection } => {
    ///                 let assignment = IpAssignment {
    ///                     local: Some([192, 168, 7, 1].into()),
    ///                     peer: Some([192, 168, 7, 20].into()),
    ///                     dns: [Some([192, 168, 7, 1].into()), None],
    ///                     nbns: [None, None],
    ///                 };
    ///                 server.assign_address(connection, assignment);
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
    pub fn assign_address(&mut self, connection: ConnectionId, assignment: IpAssignment) {
        if let Some(c) = self.connections.get_mut(&connection) {
            c.address = assignment.peer;
            if let Some(t) = c.tunnel.as_mut() {
                t.ppp.set_ip_assignment(assignment);
            }
        }
    }

    /// Closes a session (LCP Terminate, then the call and the connection).
    ///
    /// See the [example](Self#example).
    pub fn close(&mut self, now: Instant, connection: ConnectionId) {
        if let Some(c) = self.connections.get_mut(&connection) {
            match c.tunnel.as_mut() {
                Some(t) => t.ppp.close(now),
                None => c
                    .control
                    .close(now, crate::wire::control::StopControlConnectionReason::NONE),
            }
        }
        self.service(now, connection);
    }

    /// When [`Server::handle_timeout`] is due (possibly early: a deadline
    /// that moved later is found out when its old entry fires).
    ///
    /// See the [example](Self#example).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((t, _))| *t)
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
            c.control.handle_timeout(now);
            if let Some(tunnel) = c.tunnel.as_mut() {
                tunnel.handle_timeout(now);
            }
            self.service(now, id);
        }
    }

    /// Lengths of the stream, datagram and event queues; for bound checks in
    /// tests and fuzzers.
    #[doc(hidden)]
    pub fn queued(&self) -> (usize, usize, usize) {
        (self.streams.len(), self.datagrams.len(), self.events.len())
    }

    /// The next bytes for a connection's TCP.
    ///
    /// See the [example](Self#example).
    pub fn poll_stream_transmit(&mut self) -> Option<(ConnectionId, Bytes)> {
        let (c, bytes) = self.streams.pop_front()?;
        self.tap.stream(self.now, c.0, Direction::Sent, &bytes);
        Some((c, bytes))
    }

    /// The next GRE packet for a connection's client.
    ///
    /// Ack-only packets are allocated here; the data path's embedder uses
    /// [`Server::poll_datagram_transmit_into`], which never allocates for them.
    ///
    /// The [`Client` example](crate::client::Client#example) drains it.
    pub fn poll_datagram_transmit(&mut self) -> Option<(ConnectionId, Vec<u8>)> {
        let (c, d) = self.datagrams.pop_front()?;
        let d = d.into_vec();
        self.tap.datagram(self.now, c.0, Direction::Sent, &d);
        Some((c, d))
    }

    /// Like [`Server::poll_datagram_transmit`], but copies the packet into
    /// `out` (cleared first, its capacity reused) and returns its
    /// connection. Allocates nothing once `out` holds the largest packet.
    ///
    /// See the [example](Self#example).
    pub fn poll_datagram_transmit_into(&mut self, out: &mut Vec<u8>) -> Option<ConnectionId> {
        let (c, d) = self.datagrams.pop_front()?;
        d.copy_into(out);
        self.tap.datagram(self.now, c.0, Direction::Sent, out);
        Some(c)
    }

    /// The next event.
    ///
    /// See the [example](Self#example).
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    fn remove(&mut self, id: ConnectionId) {
        // Its timer entries go stale and are skipped when they come up.
        if let Some(c) = self.connections.remove(&id) {
            self.by_call.remove(&c.call_id);
            if let (Some(a), Some(_)) = (c.address, &self.config.pool) {
                self.leased.remove(&a);
            }
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
            streams,
            datagrams,
            events,
            tap,
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
        };
        let max_stream = config.max_queued_stream;
        let mut overflow = out.queue_stream(now, id, c, max_stream);
        out.service_control(now, id, c, config, leased);
        out.service_tunnel(now, id, c);
        overflow |= out.queue_stream(now, id, c, max_stream);
        let tunnel = c.tunnel.as_ref().and_then(|t| t.poll_timeout());
        let deadline = Instant::soonest(c.control.poll_timeout(), tunnel);
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

/// The server's output queues, borrowed apart from its connection map.
struct Output<'a> {
    streams: &'a mut VecDeque<(ConnectionId, Bytes)>,
    datagrams: &'a mut VecDeque<(ConnectionId, Datagram)>,
    events: &'a mut VecDeque<ServerEvent>,
    tap: &'a mut TapSlot,
}

impl Output<'_> {
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
        while let Some(b) = c.control.poll_transmit() {
            if self.streams.len() >= max {
                c.control.handle_stream_closed(now);
                while c.control.poll_transmit().is_some() {}
                return true;
            }
            self.streams.push_back((id, b));
        }
        false
    }

    /// Handles a connection's control events (its output was queued first).
    fn service_control(
        &mut self,
        now: Instant,
        id: ConnectionId,
        c: &mut Connection,
        config: &ServerConfig,
        leased: &mut BTreeSet<Ipv4Addr>,
    ) {
        while let Some(event) = c.control.poll_event() {
            match event {
                ControlEvent::CallUp {
                    call_id,
                    peer_call_id,
                    peer_window,
                    ..
                } if c.tunnel.is_none() => {
                    #[cfg(feature = "tracing")]
                    c.span.record("call", call_id);
                    let mut ppp = config.ppp.clone();
                    ppp.seed ^= u64::from(call_id) << 32 | id.0;
                    let mut tunnel =
                        Tunnel::new(call_id, peer_call_id, peer_window, &config.gre, ppp);
                    match (config.pool.clone(), lease(config.pool.as_ref(), leased)) {
                        (Some(pool), Some(address)) => {
                            c.address = Some(address);
                            tunnel.ppp.set_ip_assignment(IpAssignment {
                                local: Some(pool.local),
                                peer: Some(address),
                                dns: pool.dns,
                                nbns: [None, None],
                            });
                        }
                        _ => self
                            .events
                            .push_back(ServerEvent::AddressRequest { connection: id }),
                    }
                    tunnel.open(now);
                    c.tunnel = Some(tunnel.into());
                }
                ControlEvent::CallDown { .. } | ControlEvent::Closed { .. } => {
                    let cause = match event {
                        // A closing connection takes its calls down first;
                        // the close is the cause.
                        ControlEvent::CallDown {
                            reason: CallDownReason::ConnectionClosed,
                            ..
                        } => None,
                        ControlEvent::CallDown { reason, .. } => {
                            Some(SessionDownReason::CallDown(reason))
                        }
                        ControlEvent::Closed { reason } => Some(SessionDownReason::Control(reason)),
                        _ => None,
                    };
                    // A session whose PPP was already ending (the client's
                    // LCP Terminate-Request, then its Call-Clear-Request)
                    // ended for the PPP reason. One already reported down
                    // records no cause.
                    let ppp = c.tunnel.as_ref().and_then(|t| t.ppp.terminating());
                    if c.cause.is_none() && !c.down {
                        c.cause = ppp.map(SessionDownReason::Ppp).or(cause);
                    }
                    match c.tunnel.as_mut() {
                        Some(t) => t.ppp.lower_layer_down(now),
                        None if !c.down => {
                            if let Some(reason) = c.cause.take() {
                                c.down = true;
                                self.events.push_back(ServerEvent::SessionDown {
                                    connection: id,
                                    reason,
                                });
                            }
                        }
                        None => {}
                    }
                }
                _ => {}
            }
        }
    }

    fn service_tunnel(&mut self, now: Instant, id: ConnectionId, c: &mut Connection) {
        let Some(tunnel) = c.tunnel.as_mut() else {
            return;
        };
        while let Some(packet) = tunnel.poll_released() {
            // Reordered IP is dropped, not queued without bound, when the
            // embedder does not poll.
            if self.events.len() < MAX_QUEUED_IP_EVENTS {
                self.tap.inner(now, id.0, Direction::Received, &packet);
                self.events.push_back(ServerEvent::IpPacket {
                    connection: id,
                    packet,
                });
            }
        }
        let mut down = None;
        while let Some(event) = tunnel.poll_event() {
            match event {
                PppEvent::AuthRequest { username, method } => {
                    c.username.clone_from(&username);
                    #[cfg(feature = "tracing")]
                    c.span.record("user", username.as_str());
                    self.events.push_back(ServerEvent::AuthRequest {
                        connection: id,
                        username,
                        method,
                    });
                }
                PppEvent::NetworkUp { peer, .. } => self.events.push_back(ServerEvent::SessionUp {
                    connection: id,
                    username: c.username.clone(),
                    address: peer,
                }),
                PppEvent::PasswordChanged {
                    username,
                    new_password,
                } => self.events.push_back(ServerEvent::PasswordChanged {
                    connection: id,
                    username,
                    new_password,
                }),
                PppEvent::Down { reason } => down = Some(reason),
                _ => {}
            }
        }
        tunnel.flush(now);
        while let Some(d) = tunnel.poll_datagram() {
            // Control-plane datagrams are retransmitted by their timers:
            // beyond the bound they are dropped like a full socket would.
            if self.datagrams.len() < MAX_QUEUED_DATAGRAMS {
                self.datagrams.push_back((id, d));
            }
        }
        if let Some(reason) = down {
            let call_id = c.call_id;
            let _ = c.control.clear_call(now, call_id);
            c.control
                .close(now, crate::wire::control::StopControlConnectionReason::NONE);
            if !c.down {
                c.down = true;
                let reason = c.cause.take().unwrap_or(SessionDownReason::Ppp(reason));
                self.events.push_back(ServerEvent::SessionDown {
                    connection: id,
                    reason,
                });
            }
        }
    }
}
