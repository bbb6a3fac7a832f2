//! One PPTP call's data side: its [`GreChannel`] and [`PppSession`] wired
//! together. Shared by the [`Client`](crate::client::Client) and
//! [`Server`](crate::server::Server) facades.
//!
//! # Example
//!
//! Before its call is up, a client has no tunnel: IP is refused with
//! [`TunnelError::NoCall`] and every counter of its [`SessionStats`] is zero.
//!
//! ```
//! use pptp_proto::client::{Client, ClientConfig};
//! use pptp_proto::crypto::Password;
//! use pptp_proto::time::Instant;
//! use pptp_proto::tunnel::{SessionStats, TunnelError, SEND_OVERHEAD};
//!
//! let mut client = Client::new(ClientConfig::new("alice", Password::new("secret")?));
//! client.start(Instant::ZERO);
//! let ip = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1];
//! let mut out = [0u8; 20 + SEND_OVERHEAD];
//! let refused = client.send_ip(Instant::ZERO, &ip, &mut out);
//! assert_eq!(refused, Err(TunnelError::NoCall));
//! assert_eq!(refused.unwrap_err().to_string(), "no call is up");
//! let stats: SessionStats = client.stats();
//! assert_eq!(stats, SessionStats::default());
//! assert_eq!((stats.gre.sent, stats.ppp.ip_sent), (0, 0));
//! # Ok::<(), pptp_proto::crypto::Error>(())
//! ```

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;

use crate::control::{CallDownReason, CloseReason, ControlEvent};
use crate::gre::{Decapsulated, GreChannel, GreConfig, GreError};
use crate::ppp::session::{DownReason, PppError, PppEvent, PppSession, Received, SessionConfig};
use crate::time::Instant;

/// Why a datagram or an IP packet was not handled. See the
/// [module example](crate::tunnel#example).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TunnelError {
    /// The GRE layer refused it.
    #[error("GRE: {0}")]
    Gre(#[from] GreError),
    /// The PPP layer refused it.
    #[error("PPP: {0}")]
    Ppp(#[from] PppError),
    /// No call is up to carry it.
    #[error("no call is up")]
    NoCall,
    /// Not an error: the peer's window is full, and the packet waits in the
    /// session's send queue ([`GreConfig::send_queue`]) until an
    /// acknowledgment opens it; it then comes out of the facade's datagram
    /// poll (`poll_datagram_transmit`). Nothing is written to `out` now.
    #[error("queued until the peer's window opens")]
    Queued,
}

/// Counters of one session, at any moment: GRE (packets each way, lost,
/// reordered, duplicate, window and ack events) and PPP (IP packets and
/// bytes each way, drops, MPPE/MPPC resynchronisations, echo round trip).
/// See the [module example](crate::tunnel#example).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// The GRE channel's counters (zero before the call).
    pub gre: crate::gre::GreStats,
    /// The PPP session's counters (zero before the call).
    pub ppp: crate::ppp::session::PppStats,
    /// The send queue: packets that waited for the peer's window.
    pub queue: QueueStats,
}

/// Counters of the send queue ([`GreConfig::send_queue`]): IP packets that
/// found the peer's window full. `tests/sessions.rs`
/// (`a_full_window_queues_instead_of_dropping`) fills one.
///
/// ```
/// use pptp_proto::tunnel::{QueueStats, SessionStats};
///
/// // Before a call, and while the peer's window has room, nothing waits.
/// let stats = SessionStats::default();
/// assert_eq!(stats.queue, QueueStats { queued: 0, dropped: 0, depth: 0, max_depth: 0 });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Packets that waited in the queue ([`TunnelError::Queued`]).
    pub queued: u64,
    /// Packets refused because the queue was full as well
    /// ([`GreError::WindowFull`]).
    pub dropped: u64,
    /// Packets waiting now.
    pub depth: u32,
    /// The most that ever waited at once.
    pub max_depth: u32,
}

/// Datagrams queued for the embedder before the tunnel drops more.
const MAX_QUEUED_DATAGRAMS: usize = 64;
/// Room for the largest GRE header in front of a PPP frame.
const GRE_ROOM: usize = 16;

/// A GRE packet for the embedder to send (IP protocol 47): what
/// [`Client::poll_datagram_transmit`](crate::client::Client::poll_datagram_transmit)
/// and [`Server::poll_datagram_transmit`](crate::server::Server::poll_datagram_transmit)
/// return.
///
/// It derefs to the packet's bytes. A PPP control frame is a heap
/// buffer; an ack-only packet (the data path's one kind of datagram out
/// of this queue) is kept inline, so acknowledging data never allocates.
/// [`Datagram::into_vec`] hands out an owned buffer when the embedder
/// needs one.
///
/// # Example
///
/// ```
/// use pptp_proto::tunnel::Datagram;
///
/// let mut d = Datagram::from(vec![0x30, 0x81, 0x88, 0x0b]);
/// let bytes: &[u8] = &d; // what the raw GRE socket sends
/// assert_eq!(bytes, d.as_slice());
/// d[0] = 0x20; // or handed on as `&mut [u8]`
/// assert_eq!(d.into_vec(), [0x20, 0x81, 0x88, 0x0b]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram(Repr);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr {
    /// A PPP control frame in GRE.
    Frame(Vec<u8>),
    /// An ack-only GRE header.
    Ack([u8; GRE_ROOM], u8),
}

impl Datagram {
    /// The packet's bytes.
    ///
    /// See the [example](Self#example).
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Frame(v) => v,
            Repr::Ack(bytes, len) => &bytes[..usize::from(*len)],
        }
    }

    /// The packet as an owned buffer (allocates only for an ack-only packet).
    ///
    /// See the [example](Self#example).
    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Repr::Frame(v) => v,
            Repr::Ack(bytes, len) => bytes[..usize::from(len)].to_vec(),
        }
    }
}

impl From<Vec<u8>> for Datagram {
    fn from(frame: Vec<u8>) -> Self {
        Datagram(Repr::Frame(frame))
    }
}

impl core::ops::Deref for Datagram {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl core::ops::DerefMut for Datagram {
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Repr::Frame(v) => v,
            Repr::Ack(bytes, len) => &mut bytes[..usize::from(*len)],
        }
    }
}

impl AsRef<[u8]> for Datagram {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

#[derive(Debug)]
pub(crate) struct Tunnel {
    pub(crate) call_id: u16,
    pub(crate) gre: GreChannel,
    pub(crate) ppp: PppSession,
    datagrams: VecDeque<Datagram>,
    /// IP packets that came out of the GRE reorder buffer.
    released: VecDeque<Vec<u8>>,
    /// The send queue, made when a packet first finds the window full
    /// (boxed: most tunnels never need one, and an idle tunnel's footprint
    /// counts).
    queue: Option<alloc::boxed::Box<SendQueue>>,
    pub(crate) dropped: u64,
}

/// IP packets waiting for the peer's window, oldest first, and the counters.
#[derive(Debug, Default)]
struct SendQueue {
    held: VecDeque<Vec<u8>>,
    stats: QueueStats,
}

impl Tunnel {
    pub(crate) fn stats(&self) -> SessionStats {
        SessionStats {
            gre: *self.gre.stats(),
            ppp: *self.ppp.stats(),
            queue: self
                .queue
                .as_ref()
                .map_or_else(QueueStats::default, |q| q.stats),
        }
    }

    pub(crate) fn new(
        call_id: u16,
        peer_call_id: u16,
        peer_window: u16,
        gre: &GreConfig,
        ppp: SessionConfig,
    ) -> Self {
        let mut config = gre.clone();
        config.call_id = call_id;
        config.peer_call_id = peer_call_id;
        config.peer_window = peer_window.max(1);
        Tunnel {
            call_id,
            gre: GreChannel::new(config),
            ppp: PppSession::new(ppp),
            datagrams: VecDeque::new(),
            released: VecDeque::new(),
            queue: None,
            dropped: 0,
        }
    }

    pub(crate) fn open(&mut self, now: Instant) {
        self.ppp.open(now);
        self.flush(now);
    }

    /// Moves PPP control frames into GRE datagrams, and a due ack.
    pub(crate) fn flush(&mut self, now: Instant) {
        // While the peer's receive window is full, control frames wait in
        // the session's bounded queue for the acks that open it: dropping
        // them cost a 3 s retransmission against pptp-linux, whose window
        // is 3 (it acked our Configure-Request and two Configure-Acks just
        // after LCP opened, so the CHAP Challenge found the window full).
        while self.gre.window_open() {
            let Some(frame) = self.ppp.poll_transmit() else {
                break;
            };
            let mut out = vec![0u8; frame.len() + GRE_ROOM];
            match self.gre.encapsulate(now, &frame, &mut out) {
                Ok(n) => {
                    out.truncate(n);
                    self.push_datagram(Datagram(Repr::Frame(out)));
                }
                // Control frames are retransmitted by their own timers.
                Err(_) => self.dropped += 1,
            }
        }
        // Then the IP packets that waited for the window, in order.
        while self.gre.window_open() && self.datagrams.len() < MAX_QUEUED_DATAGRAMS {
            let Some(queue) = self.queue.as_mut() else {
                break;
            };
            let Some(ip) = crate::queue::pop_or_release(&mut queue.held, true) else {
                break;
            };
            queue.stats.depth = queue.stats.depth.saturating_sub(1);
            let mut out = vec![0u8; GRE_ROOM + self.ppp.frame_overhead() + ip.len()];
            match self.encode(now, &ip, &mut out) {
                Ok(range) => {
                    out.copy_within(range.clone(), 0);
                    out.truncate(range.len());
                    self.push_datagram(Datagram(Repr::Frame(out)));
                }
                Err(_) => self.dropped += 1,
            }
        }
        let mut ack = [0u8; GRE_ROOM];
        if let Some(n) = self.gre.poll_transmit(&mut ack) {
            // n <= GRE_ROOM
            self.push_datagram(Datagram(Repr::Ack(ack, n as u8)));
        }
    }

    fn push_datagram(&mut self, datagram: Datagram) {
        if self.datagrams.len() < MAX_QUEUED_DATAGRAMS {
            self.datagrams.push_back(datagram);
        } else {
            self.dropped += 1;
        }
    }

    pub(crate) fn poll_datagram(&mut self) -> Option<Datagram> {
        self.datagrams.pop_front()
    }

    pub(crate) fn poll_released(&mut self) -> Option<Vec<u8>> {
        self.released.pop_front()
    }

    pub(crate) fn poll_event(&mut self) -> Option<PppEvent> {
        self.ppp.poll_event()
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        Instant::soonest(self.gre.poll_timeout(), self.ppp.poll_timeout())
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.gre.handle_timeout(now);
        self.drain_reordered(now);
        self.ppp.handle_timeout(now);
        self.flush(now);
    }

    fn drain_reordered(&mut self, now: Instant) {
        while let Some(mut frame) = self.gre.poll_frame() {
            match self.ppp.handle_frame(now, &mut frame) {
                Ok(Received::Ipv4(ip) | Received::Ipv6(ip))
                    if self.released.len() < MAX_QUEUED_DATAGRAMS =>
                {
                    self.released.push_back(ip.to_vec());
                }
                Ok(Received::Decompressed) => self.release_decompressed(),
                _ => {}
            }
        }
    }

    /// A packet MPPC expanded does not fit in the datagram: it joins the
    /// released packets (the one copy the facades make of it).
    fn release_decompressed(&mut self) {
        if let Some(Received::Ipv4(ip) | Received::Ipv6(ip)) = self.ppp.decompressed() {
            if self.released.len() < MAX_QUEUED_DATAGRAMS {
                self.released.push_back(ip.to_vec());
            } else {
                self.dropped += 1;
            }
        }
    }

    /// Takes one GRE packet (without IP header); returns the IP packet it
    /// carried, decrypted in place inside `datagram`. A packet MPPC expanded
    /// comes out of [`poll_released`](Self::poll_released) instead.
    pub(crate) fn handle_datagram<'a>(
        &mut self,
        now: Instant,
        datagram: &'a mut [u8],
    ) -> Result<Option<&'a [u8]>, TunnelError> {
        let base = datagram.as_ptr() as usize;
        let range = match self.gre.decapsulate(now, datagram)? {
            // The frame is a sub-slice of `datagram`: find where, to
            // decrypt it in place.
            Decapsulated::Frame(f) => {
                let start = f.as_ptr() as usize - base;
                Some(start..start + f.len())
            }
            _ => None,
        };
        let ip = match range {
            Some(range) => {
                let frame = &mut datagram[range];
                match self.ppp.handle_frame(now, frame) {
                    Ok(Received::Ipv4(ip) | Received::Ipv6(ip)) => Some(ip),
                    Ok(Received::Decompressed) => {
                        self.release_decompressed();
                        None
                    }
                    Ok(_) => None,
                    Err(e) => {
                        self.drain_reordered(now);
                        self.flush(now);
                        return Err(e.into());
                    }
                }
            }
            None => None,
        };
        self.drain_reordered(now);
        self.flush(now);
        Ok(ip)
    }

    /// Writes `ip` as a GRE packet into `out`; returns the packet's range.
    pub(crate) fn send_ip(
        &mut self,
        now: Instant,
        ip: &[u8],
        out: &mut [u8],
    ) -> Result<Range<usize>, TunnelError> {
        let waiting = |t: &Self| t.queue.as_ref().is_some_and(|q| !q.held.is_empty());
        if waiting(self) && self.gre.window_open() {
            // The window opened while the embedder had not drained the
            // datagrams yet: what waits goes first.
            self.flush(now);
        }
        if !self.gre.window_open() || waiting(self) {
            // Before MPPE consumes a coherency count: the packet waits, in
            // order behind any that wait already, or is refused.
            return self.hold(ip);
        }
        self.encode(now, ip, out)
    }

    /// The peer's window is full: queue `ip` or refuse it.
    fn hold(&mut self, ip: &[u8]) -> Result<Range<usize>, TunnelError> {
        // Refused now what would be refused when sent.
        self.ppp.check_sendable(ip)?;
        let bound = self.gre.config().send_queue;
        let queue = self.queue.get_or_insert_with(Default::default);
        if queue.held.len() >= bound {
            queue.stats.dropped += 1;
            return Err(GreError::WindowFull.into());
        }
        queue.held.push_back(ip.to_vec());
        let stats = &mut queue.stats;
        stats.queued += 1;
        stats.depth = stats.depth.saturating_add(1);
        stats.max_depth = stats.max_depth.max(stats.depth);
        Err(TunnelError::Queued)
    }

    /// Encrypts and encapsulates `ip` into `out`; returns the packet's range.
    fn encode(
        &mut self,
        now: Instant,
        ip: &[u8],
        out: &mut [u8],
    ) -> Result<Range<usize>, TunnelError> {
        let body = out.get_mut(GRE_ROOM..).ok_or(PppError::BufferTooSmall {
            required: GRE_ROOM + self.ppp.frame_overhead() + ip.len(),
        })?;
        let len = self.ppp.send_ip(now, ip, body)?;
        let range = self.gre.encapsulate_in_place(now, out, GRE_ROOM, len)?;
        Ok(range)
    }
}

/// Octets a caller buffer for `send_ip` needs beyond the IP packet.
pub const SEND_OVERHEAD: usize = GRE_ROOM + 8;

/// A deadline of the server's that ended a session
/// ([`SessionDownReason::Deadline`]).
///
/// ```
/// use pptp_proto::server::{Deadline, SessionDownReason};
///
/// let reason = SessionDownReason::Deadline(Deadline::Verdict);
/// assert_eq!(reason.to_string(), "no authentication verdict in time");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Deadline {
    /// [`ServerConfig::establish_timeout`](crate::server::ServerConfig::establish_timeout):
    /// not carrying IP in time.
    Establish,
    /// [`ServerConfig::verdict_timeout`](crate::server::ServerConfig::verdict_timeout):
    /// the embedder did not answer an
    /// [`ServerEvent::AuthRequest`](crate::server::ServerEvent::AuthRequest) in time.
    Verdict,
    /// [`ServerConfig::idle_timeout`](crate::server::ServerConfig::idle_timeout)
    /// (or the verdict's [`Acceptance::idle_timeout`](crate::ppp::auth::Acceptance::idle_timeout)):
    /// no IP either way.
    Idle,
    /// The verdict's [`Acceptance::session_timeout`](crate::ppp::auth::Acceptance::session_timeout)
    /// (RADIUS Session-Timeout) passed since the session came up.
    Session,
}

/// Why a session ended: [`ServerEvent::SessionDown`] on the server,
/// [`ClientEvent::Down`] on the client (one type for both sides).
///
/// The first cause is reported: when the client's TCP connection closes
/// under a running session the reason is `Control(StreamClosed)`, not the
/// PPP consequence `Ppp(LowerLayerDown)`.
///
/// See the [`Server` example](crate::server::Server#example),
/// [`Server::provide_verdict`](crate::server::Server::provide_verdict) and
/// the [`Client` example](crate::client::Client#example).
///
/// [`ServerEvent::SessionDown`]: crate::server::ServerEvent::SessionDown
/// [`ClientEvent::Down`]: crate::client::ClientEvent::Down
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
    /// stayed up (the client's Call-Clear-Request; on the client, the
    /// server refused or cleared the call).
    CallDown(CallDownReason),
    /// Server: one of its deadlines passed.
    Deadline(Deadline),
    /// Server: the address pool had no free address for an authenticated
    /// session (pptpd refuses the call likewise).
    NoAddress,
    /// Server: the verifier's address
    /// ([`Acceptance::address`](crate::ppp::auth::Acceptance::address)) is
    /// another session's.
    AddressInUse(core::net::Ipv4Addr),
    /// Server: the user already had
    /// [`ServerConfig::max_sessions_per_user`](crate::server::ServerConfig::max_sessions_per_user)
    /// sessions up.
    UserLimit,
}

impl core::fmt::Display for SessionDownReason {
    /// Words for an operator's log, pppd's where pppd has them.
    ///
    /// ```
    /// use pptp_proto::ppp::auth::AuthFailure;
    /// use pptp_proto::ppp::session::DownReason;
    /// use pptp_proto::tunnel::SessionDownReason;
    ///
    /// let bad = SessionDownReason::Ppp(DownReason::AuthFailed(AuthFailure::BadPassword));
    /// assert_eq!(bad.to_string(), "authentication failed: wrong name or password (E=691)");
    /// let pap = SessionDownReason::Ppp(DownReason::NoMppeKeys);
    /// assert_eq!(pap.to_string(), "MPPE required, but keys are not available");
    /// ```
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SessionDownReason::Ppp(r) => write!(f, "{r}"),
            SessionDownReason::Control(r) => write!(f, "{r}"),
            SessionDownReason::CallDown(r) => write!(f, "{r}"),
            SessionDownReason::Deadline(Deadline::Establish) => {
                f.write_str("session not established in time")
            }
            SessionDownReason::Deadline(Deadline::Verdict) => {
                f.write_str("no authentication verdict in time")
            }
            SessionDownReason::Deadline(Deadline::Idle) => f.write_str("idle timeout"),
            SessionDownReason::Deadline(Deadline::Session) => f.write_str("session timeout"),
            SessionDownReason::AddressInUse(a) => {
                write!(f, "the verifier's address {a} is another session's")
            }
            SessionDownReason::NoAddress => f.write_str("no free address in the pool"),
            SessionDownReason::UserLimit => f.write_str("user already has a session up"),
        }
    }
}

impl SessionDownReason {
    /// The cause a control-connection event gives, if any. A call taken
    /// down because its connection is closing has none of its own: the
    /// close, reported next, is the cause.
    pub(crate) fn of_control(event: &ControlEvent) -> Option<Self> {
        match event {
            ControlEvent::CallDown {
                reason: CallDownReason::ConnectionClosed,
                ..
            } => None,
            ControlEvent::CallDown { reason, .. } => Some(SessionDownReason::CallDown(*reason)),
            ControlEvent::Closed { reason } => Some(SessionDownReason::Control(reason.clone())),
            _ => None,
        }
    }

    /// The first cause, the rule both sides follow: a session whose PPP was
    /// already ending (the peer's LCP Terminate-Request, then its
    /// Call-Clear-Request) ended for the PPP reason, not for the call.
    pub(crate) fn first_cause(tunnel: Option<&Tunnel>, cause: Self) -> Self {
        tunnel
            .and_then(|t| t.ppp.terminating())
            .map_or(cause, SessionDownReason::Ppp)
    }
}
