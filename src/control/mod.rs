//! `ControlConnection`: the PPTP control connection (RFC 2637 §2–3), in the
//! PNS (client) or PAC (server) role.
//!
//! It reassembles control messages from TCP reads of any size, runs the
//! Start-Control-Connection handshake (with the collision rule of §3.1.3),
//! manages several calls with their own states (outgoing and incoming),
//! answers and sends Echo-Requests as a keepalive, carries Set-Link-Info and
//! WAN-Error-Notify, and stops cleanly in either direction.
//!
//! # Driving contract
//!
//! - [`ControlConnection::start`] once the TCP connection is up (the PNS
//!   sends its Start-Control-Connection-Request; a PAC waits for one).
//! - [`ControlConnection::handle_stream`] with every chunk read from TCP;
//!   [`ControlConnection::handle_stream_closed`] when TCP closes.
//! - Commands: [`ControlConnection::open_call`] (PNS),
//!   [`ControlConnection::clear_call`], [`ControlConnection::set_link_info`],
//!   [`ControlConnection::close`].
//! - After every call drain [`ControlConnection::poll_transmit`] (bytes to
//!   write to TCP) and [`ControlConnection::poll_event`], then re-read
//!   [`ControlConnection::poll_timeout`] and call
//!   [`ControlConnection::handle_timeout`] when it is due (an early or
//!   repeated call is a no-op; a fired timer is cleared).
//! - After [`ControlEvent::Closed`] no more events come: close the TCP
//!   connection once `poll_transmit` is drained.
//!
//! ```
//! use pptp_proto::control::{ControlConfig, ControlConnection, ControlError, ControlEvent, Role};
//! use pptp_proto::time::Instant;
//!
//! let now = Instant::ZERO;
//! let mut pns = ControlConnection::new(ControlConfig::new(Role::Pns));
//! let mut pac = ControlConnection::new(ControlConfig::new(Role::Pac));
//! pns.start(now);
//! pac.start(now);
//! assert_eq!(pns.open_call(now), Err(ControlError::NotConnected));
//! // Shuttle bytes both ways until both sides are quiet.
//! for _ in 0..4 {
//!     while let Some(b) = pns.poll_transmit() { pac.handle_stream(now, &b).unwrap(); }
//!     while let Some(b) = pac.poll_transmit() { pns.handle_stream(now, &b).unwrap(); }
//! }
//! assert!(matches!(pns.poll_event(), Some(ControlEvent::Connected { .. })));
//! let call_id = pns.open_call(now).unwrap();
//! for _ in 0..4 {
//!     while let Some(b) = pns.poll_transmit() { pac.handle_stream(now, &b).unwrap(); }
//!     while let Some(b) = pac.poll_transmit() { pns.handle_stream(now, &b).unwrap(); }
//! }
//! assert!(matches!(pns.poll_event(), Some(ControlEvent::CallUp { call_id: c, .. }) if c == call_id));
//! ```

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;
use core::time::Duration;

use bytes::Bytes;

use crate::rand::Rng;
use crate::time::Instant;
use crate::timer::timer_reasons;
use crate::wire::control::{
    frame_length, BearerCapabilities, CallClearRequest, CallDisconnectNotify, CallDisconnectResult,
    ControlMessage, EchoReply, EchoRequest, EchoResult, FramingCapabilities, GeneralError,
    IncomingCallConnected, IncomingCallReply, IncomingCallRequest, IncomingCallResult,
    OutgoingCallReply, OutgoingCallRequest, OutgoingCallResult, SetLinkInfo,
    StartControlConnectionReply, StartControlConnectionRequest, StartControlConnectionResult,
    StopControlConnectionReason, StopControlConnectionReply, StopControlConnectionRequest,
    StopControlConnectionResult, WanErrorNotify, PROTOCOL_VERSION,
};

/// Which end of the control connection this is.
///
/// See the [`ControlConnection` example](ControlConnection#example).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// PPTP Network Server: the client; places outgoing calls.
    Pns,
    /// PPTP Access Concentrator: the server; answers them.
    Pac,
}

/// Our default Packet Receive Window Size: Windows RRAS's 16384.
pub const DEFAULT_RECEIVE_WINDOW: u16 = 16384;

/// Configuration of a control connection. Times and bounds have the
/// defaults of [`ControlConfig::new`].
///
/// See the [`ControlConnection` example](ControlConnection#example).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlConfig {
    /// PNS or PAC.
    pub role: Role,
    /// Our Host Name (RFC 2637 §2.1), at most 64 bytes.
    pub host_name: String,
    /// Our Vendor String, at most 64 bytes.
    pub vendor: String,
    /// Our Firmware Revision.
    pub firmware_revision: u16,
    /// Framing we offer (default asynchronous + synchronous).
    pub framing: FramingCapabilities,
    /// Bearers we offer (default analog + digital).
    pub bearer: BearerCapabilities,
    /// Calls this connection may carry at once (default 16).
    pub max_calls: usize,
    /// The Call IDs we allocate from, inclusive (default all of them). Several
    /// servers sharing one GRE socket each take a disjoint range.
    pub call_ids: (u16, u16),
    /// Our Packet Receive Window Size for GRE (default 16384, as Windows
    /// RRAS announces). We hand every packet on as it arrives and buffer at
    /// most [`GreConfig::reorder_packets`](crate::gre::GreConfig::reorder_packets),
    /// so any window is honest; a large one keeps a peer that holds to it
    /// (Windows) from stalling on a long round trip: 64 allowed 3.3 Mbit/s
    /// at 200 ms (BENCHMARKS.md, "GRE on WAN paths").
    pub receive_window: u16,
    /// The PAC's Connect Speed in bits/s (default 100 Mbit/s).
    pub connect_speed: u32,
    /// Quiet time before we send an Echo-Request (RFC 2637 §3.1.4: 60 s).
    pub echo_interval: Duration,
    /// Time to wait for its Echo-Reply before closing (60 s).
    pub echo_timeout: Duration,
    /// Time to wait for a Start-Control-Connection-Reply, an
    /// Outgoing-Call-Reply or a Stop-Control-Connection-Reply (60 s).
    pub reply_timeout: Duration,
    /// Control messages waiting in `poll_transmit` before the connection is
    /// closed as stuck (default 64).
    pub max_queued: usize,
    /// PAC: time from [`ControlConnection::start`] to a complete
    /// Start-Control-Connection-Request before the connection is closed
    /// with [`CloseReason::StartTimeout`] (default 5 s, as accel-ppp's
    /// `timeout`; `None`: wait forever). A scanner that connects to port
    /// 1723 and says nothing holds its socket no longer than this.
    pub start_timeout: Option<Duration>,
    /// Time from the first byte of a control message to its last before the
    /// connection is closed with [`CloseReason::MessageTimeout`] (default
    /// 10 s; `None`: wait forever). A peer that sends half a message and
    /// goes quiet holds its buffer no longer than this.
    pub message_timeout: Option<Duration>,
    /// Our address and the peer's, for the SCCRQ collision rule (§3.1.3:
    /// the higher address wins). Unknown addresses make the PAC win.
    pub addresses: Option<(Ipv4Addr, Ipv4Addr)>,
    /// Seed for Call IDs, call serial numbers and echo identifiers.
    pub seed: u64,
}

impl ControlConfig {
    /// The defaults for `role`.
    ///
    /// See the [`ControlConnection` example](ControlConnection#example).
    pub fn new(role: Role) -> Self {
        ControlConfig {
            role,
            host_name: String::from("pptp-proto"),
            vendor: String::from("pptp-proto"),
            firmware_revision: 1,
            framing: FramingCapabilities::ASYNCHRONOUS | FramingCapabilities::SYNCHRONOUS,
            bearer: BearerCapabilities::ANALOG | BearerCapabilities::DIGITAL,
            max_calls: 16,
            call_ids: (0, u16::MAX),
            receive_window: DEFAULT_RECEIVE_WINDOW,
            connect_speed: 100_000_000,
            echo_interval: Duration::from_secs(60),
            echo_timeout: Duration::from_secs(60),
            reply_timeout: Duration::from_secs(60),
            max_queued: 64,
            start_timeout: Some(Duration::from_secs(5)),
            message_timeout: Some(Duration::from_secs(10)),
            addresses: None,
            seed: 0,
        }
    }
}

/// Why a call went down.
///
/// See the [`ControlConnection` example](ControlConnection#example) and
/// [`ControlConnection::handle_stream_closed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallDownReason {
    /// We cleared it ([`ControlConnection::clear_call`]).
    LocalClear,
    /// The peer sent Call-Disconnect-Notify (with its result code).
    PeerDisconnected(CallDisconnectResult),
    /// The peer sent Call-Clear-Request.
    PeerCleared,
    /// The peer refused the Outgoing-Call-Request.
    Refused(OutgoingCallResult),
    /// The peer refused our Incoming-Call-Request.
    IncomingRefused(IncomingCallResult),
    /// No Outgoing-Call-Reply in time.
    Timeout,
    /// The control connection closed.
    ConnectionClosed,
}

/// Why the control connection closed.
///
/// See the [`ControlConnection` example](ControlConnection#example) and
/// [`ControlConnection::handle_timeout`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// We stopped it and the peer replied (or the reply timed out).
    LocalStop,
    /// The peer sent Stop-Control-Connection-Request with this reason.
    PeerStop(StopControlConnectionReason),
    /// The peer refused our Start-Control-Connection-Request.
    Refused(StartControlConnectionResult, GeneralError),
    /// The peer speaks another protocol version.
    BadVersion(u16),
    /// The TCP connection closed.
    StreamClosed,
    /// No Echo-Reply within the echo timeout.
    EchoTimeout,
    /// No Start-Control-Connection-Reply within the reply timeout.
    HandshakeTimeout,
    /// PAC: no Start-Control-Connection-Request within
    /// [`ControlConfig::start_timeout`] of the TCP connection.
    StartTimeout,
    /// A control message begun but not completed within
    /// [`ControlConfig::message_timeout`].
    MessageTimeout,
    /// The peer sent bytes that are not PPTP.
    Malformed(crate::wire::Error),
    /// Too much output queued: the embedder is not draining `poll_transmit`.
    OutputFull,
}

impl core::fmt::Display for CallDownReason {
    /// Words for an operator's log.
    ///
    /// ```
    /// use pptp_proto::control::CallDownReason;
    /// use pptp_proto::wire::control::OutgoingCallResult;
    ///
    /// let refused = CallDownReason::Refused(OutgoingCallResult::BUSY);
    /// assert_eq!(refused.to_string(), "peer refused the call (Busy)");
    /// ```
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CallDownReason::LocalClear => f.write_str("call cleared by us"),
            CallDownReason::PeerDisconnected(r) => write!(f, "peer disconnected the call ({r})"),
            CallDownReason::PeerCleared => f.write_str("peer cleared the call"),
            CallDownReason::Refused(r) => write!(f, "peer refused the call ({r})"),
            CallDownReason::IncomingRefused(r) => {
                write!(f, "peer refused the incoming call ({r})")
            }
            CallDownReason::Timeout => f.write_str("no Outgoing-Call-Reply in time"),
            CallDownReason::ConnectionClosed => f.write_str("control connection closed"),
        }
    }
}

impl core::fmt::Display for CloseReason {
    /// Words for an operator's log.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CloseReason::LocalStop => f.write_str("control connection stopped by us"),
            CloseReason::PeerStop(r) => {
                write!(f, "peer stopped the control connection (reason {})", r.0)
            }
            CloseReason::Refused(r, e) => write!(
                f,
                "peer refused the control connection (result {}, error {})",
                r.0, e.0
            ),
            CloseReason::BadVersion(v) => write!(f, "peer speaks PPTP version {v:#06x}"),
            CloseReason::StreamClosed => f.write_str("TCP connection closed"),
            CloseReason::EchoTimeout => f.write_str("no reply to PPTP Echo-Request"),
            CloseReason::HandshakeTimeout => {
                f.write_str("no Start-Control-Connection-Reply in time")
            }
            CloseReason::StartTimeout => f.write_str("no Start-Control-Connection-Request in time"),
            CloseReason::MessageTimeout => f.write_str("control message not completed in time"),
            CloseReason::Malformed(e) => write!(f, "malformed control message: {e}"),
            CloseReason::OutputFull => f.write_str("control output not drained"),
        }
    }
}

/// What the control connection reports.
///
/// From [`ControlConnection::poll_event`]; see the
/// [`ControlConnection` example](ControlConnection#example).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControlEvent {
    /// The handshake completed.
    Connected {
        /// The peer's Host Name.
        hostname: String,
        /// The peer's Vendor String.
        vendor: String,
        /// The peer's Firmware Revision.
        firmware: u16,
        /// The peer's framing capabilities.
        framing: FramingCapabilities,
        /// The peer's bearer capabilities.
        bearer: BearerCapabilities,
    },
    /// A call is up: GRE may flow.
    CallUp {
        /// Our Call ID (the peer puts it in GRE packets to us).
        call_id: u16,
        /// The peer's Call ID (we put it in GRE packets to the peer).
        peer_call_id: u16,
        /// The peer's Packet Receive Window Size.
        peer_window: u16,
        /// The connect speed in bits/s.
        speed: u32,
    },
    /// Set-Link-Info for one of our calls (the peer's ACCMs).
    SetLinkInfo {
        /// Our Call ID.
        call_id: u16,
        /// The send ACCM.
        send_accm: u32,
        /// The receive ACCM.
        receive_accm: u32,
    },
    /// WAN-Error-Notify for one of our calls.
    WanError {
        /// Our Call ID.
        call_id: u16,
        /// The counters the PAC reported.
        errors: WanErrorNotify,
    },
    /// A call is down.
    CallDown {
        /// Our Call ID.
        call_id: u16,
        /// Why.
        reason: CallDownReason,
    },
    /// The connection is closed; no more events follow.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// Errors returned by commands and input.
///
/// The [module example](self) gets [`ControlError::NotConnected`], the
/// [`offer_incoming_call`](ControlConnection::offer_incoming_call) example
/// [`ControlError::WrongRole`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// The handshake has not completed.
    #[error("the control connection is not established")]
    NotConnected,
    /// The connection is closed.
    #[error("the control connection is closed")]
    Closed,
    /// The call limit is reached, or no Call ID is free.
    #[error("no more calls on this control connection")]
    TooManyCalls,
    /// No call with this Call ID.
    #[error("no call {0}")]
    UnknownCall(u16),
    /// Only a PNS places outgoing calls.
    #[error("only a PNS places outgoing calls, only a PAC incoming ones")]
    WrongRole,
    /// The peer's bytes are not PPTP; the connection closed.
    #[error("malformed control message: {0}")]
    Malformed(#[from] crate::wire::Error),
}

/// The connection's counters.
///
/// See the [`ControlConnection` example](ControlConnection#example) and
/// [`ControlConnection::handle_timeout`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ControlStats {
    /// Messages sent.
    pub sent: u64,
    /// Messages received.
    pub received: u64,
    /// Messages ignored: wrong state, unknown call.
    pub ignored: u64,
    /// Echo-Requests sent.
    pub echo_requests_sent: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not started.
    Idle,
    /// PNS (or a PAC that initiated): SCCRQ sent.
    WaitReply,
    /// PAC: waiting for SCCRQ.
    WaitRequest,
    Established,
    /// StopCCRQ sent.
    Stopping,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallState {
    /// PNS: OCRQ sent.
    WaitOutgoingReply,
    /// PAC: ICRQ sent.
    WaitIncomingReply,
    /// PNS: ICRP sent, waiting for ICCN.
    WaitConnected,
    Established,
    /// PNS: CCRQ sent.
    WaitDisconnect,
}

#[derive(Debug, Clone)]
struct Call {
    peer_call_id: u16,
    state: CallState,
    since: Instant,
    peer_window: u16,
}

/// The calls of a connection by our Call ID, sorted: a vector sized to
/// the calls (usually one) instead of a B-tree node of eleven slots.
#[derive(Debug, Default)]
struct CallTable(Vec<(u16, Call)>);

impl CallTable {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn find(&self, id: u16) -> Result<usize, usize> {
        self.0.binary_search_by_key(&id, |(k, _)| *k)
    }

    fn get(&self, id: &u16) -> Option<&Call> {
        self.find(*id).ok().map(|k| &self.0[k].1)
    }

    fn get_mut(&mut self, id: &u16) -> Option<&mut Call> {
        self.find(*id).ok().map(|k| &mut self.0[k].1)
    }

    fn contains_key(&self, id: &u16) -> bool {
        self.find(*id).is_ok()
    }

    fn insert(&mut self, id: u16, call: Call) {
        match self.find(id) {
            Ok(k) => self.0[k].1 = call,
            Err(k) => {
                if self.0.len() == self.0.capacity() {
                    self.0.reserve_exact(self.0.len().max(1));
                }
                self.0.insert(k, (id, call));
            }
        }
    }

    fn remove(&mut self, id: &u16) -> Option<Call> {
        let call = self.find(*id).ok().map(|k| self.0.remove(k).1);
        if self.0.is_empty() {
            self.0 = Vec::new();
        }
        call
    }

    fn keys(&self) -> impl Iterator<Item = &u16> {
        self.0.iter().map(|(k, _)| k)
    }

    fn values(&self) -> impl Iterator<Item = &Call> {
        self.0.iter().map(|(_, c)| c)
    }

    fn iter(&self) -> impl Iterator<Item = (&u16, &Call)> {
        self.0.iter().map(|(k, c)| (k, c))
    }
}

timer_reasons! {
    /// The timers of a connection.
    enum Timer {
        /// Quiet for `echo_interval`: send an Echo-Request.
        EchoIdle,
        /// Echo-Request outstanding.
        EchoReply,
        /// A reply (SCCRP, StopCCRP, OCRP) is awaited.
        Reply,
        /// PAC: the peer's SCCRQ is awaited.
        Start,
        /// Part of a message is buffered; the rest is awaited.
        Message,
    }
}

type Timers = crate::timer::TimerTable<Timer, { Timer::COUNT }>;

/// One PPTP control connection. See the [module documentation](self) for
/// the driving contract.
///
/// # Example
///
/// A PNS and a PAC joined in memory: the handshake, a call up, Set-Link-Info,
/// then the call cleared and the connection stopped.
///
/// ```
/// use pptp_proto::control::{
///     CallDownReason, CloseReason, ControlConfig, ControlConnection, ControlEvent, ControlStats,
///     Role,
/// };
/// use pptp_proto::time::Instant;
/// use pptp_proto::wire::control::{CallDisconnectResult, StopControlConnectionReason};
///
/// /// Moves every queued message across, both ways, until both sides are quiet.
/// fn shuttle(now: Instant, a: &mut ControlConnection, b: &mut ControlConnection) {
///     loop {
///         let mut moved = false;
///         while let Some(bytes) = a.poll_transmit() {
///             b.handle_stream(now, &bytes).unwrap();
///             moved = true;
///         }
///         while let Some(bytes) = b.poll_transmit() {
///             a.handle_stream(now, &bytes).unwrap();
///             moved = true;
///         }
///         if !moved {
///             break;
///         }
///     }
/// }
/// fn events(c: &mut ControlConnection) -> Vec<ControlEvent> {
///     core::iter::from_fn(|| c.poll_event()).collect()
/// }
///
/// let now = Instant::ZERO;
/// let mut config = ControlConfig::new(Role::Pac);
/// config.host_name = "vpn.example".into();
/// let mut pac = ControlConnection::new(config);
/// let mut pns = ControlConnection::new(ControlConfig::new(Role::Pns));
/// assert_eq!(pns.role(), Role::Pns);
/// pac.start(now); // waits for the Start-Control-Connection-Request
/// pns.start(now); // sends it
/// shuttle(now, &mut pns, &mut pac);
/// assert!(pns.is_established() && pac.is_established());
/// let [ControlEvent::Connected { hostname, .. }] = &events(&mut pns)[..] else { panic!() };
/// assert_eq!(hostname, "vpn.example");
/// assert!(matches!(events(&mut pac)[..], [ControlEvent::Connected { .. }]));
///
/// // The PNS places a call; both sides learn the other's Call ID.
/// let call_id = pns.open_call(now).unwrap();
/// shuttle(now, &mut pns, &mut pac);
/// let [ControlEvent::CallUp { peer_call_id, peer_window, .. }] = events(&mut pns)[..] else {
///     panic!()
/// };
/// let [ControlEvent::CallUp { call_id: pac_call, .. }] = events(&mut pac)[..] else { panic!() };
/// assert_eq!(peer_call_id, pac_call);
/// assert_eq!(pns.call_info(call_id), Some((pac_call, peer_window)));
/// assert_eq!(pns.call_count(), 1);
///
/// // PPP negotiated its ACCMs: the PNS reports them.
/// pns.set_link_info(call_id, u32::MAX, 0).unwrap();
/// shuttle(now, &mut pns, &mut pac);
/// let sli = ControlEvent::SetLinkInfo { call_id: pac_call, send_accm: u32::MAX, receive_accm: 0 };
/// assert_eq!(events(&mut pac), [sli]);
///
/// // Call-Clear-Request, answered by Call-Disconnect-Notify.
/// pns.clear_call(now, call_id).unwrap();
/// shuttle(now, &mut pns, &mut pac);
/// let reason = CallDownReason::PeerDisconnected(CallDisconnectResult::REQUEST);
/// assert_eq!(events(&mut pns), [ControlEvent::CallDown { call_id, reason }]);
/// let reason = CallDownReason::PeerCleared;
/// assert_eq!(events(&mut pac), [ControlEvent::CallDown { call_id: pac_call, reason }]);
/// assert_eq!(pns.call_count(), 0);
///
/// // Stop-Control-Connection-Request and its reply.
/// pns.close(now, StopControlConnectionReason::NONE);
/// shuttle(now, &mut pns, &mut pac);
/// assert_eq!(events(&mut pns), [ControlEvent::Closed { reason: CloseReason::LocalStop }]);
/// let reason = CloseReason::PeerStop(StopControlConnectionReason::NONE);
/// assert_eq!(events(&mut pac), [ControlEvent::Closed { reason }]);
/// assert!(pns.is_closed() && pac.is_closed());
/// assert_eq!(pns.poll_timeout(), None);
/// // Nothing is held: no partial message, no output waiting.
/// assert_eq!((pns.buffered_len(), pns.queued_len()), (0, 0));
/// // Sent: SCCRQ, OCRQ, SLI, CCRQ, StopCCRQ. Received: the replies.
/// let ControlStats { sent, received, ignored, .. } = *pns.stats();
/// assert_eq!((sent, received, ignored), (5, 4, 0));
/// ```
#[derive(Debug)]
pub struct ControlConnection {
    config: ControlConfig,
    state: State,
    rx: Vec<u8>,
    transmit: VecDeque<Bytes>,
    events: VecDeque<ControlEvent>,
    calls: CallTable,
    timers: Timers,
    echo_outstanding: Option<u32>,
    rng: Rng,
    next_call_id: u16,
    serial: u16,
    stats: ControlStats,
    /// The output queue overflowed during the current operation; the
    /// connection closes once that operation has finished changing state.
    overflowed: bool,
}

impl ControlConnection {
    /// A connection in the given role; call [`ControlConnection::start`].
    ///
    /// See the [example](Self#example).
    pub fn new(config: ControlConfig) -> Self {
        let mut rng = Rng::new(config.seed ^ 0x5054_5450_2d70_726f);
        let span = u32::from(config.call_ids.1.saturating_sub(config.call_ids.0)) + 1;
        let first = config
            .call_ids
            .0
            .wrapping_add((rng.next_u64() % u64::from(span)) as u16);
        ControlConnection {
            state: State::Idle,
            rx: Vec::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            calls: CallTable::default(),
            timers: Timers::default(),
            echo_outstanding: None,
            next_call_id: first,
            serial: rng.next_u64() as u16,
            rng,
            config,
            stats: ControlStats::default(),
            overflowed: false,
        }
    }

    /// The role.
    ///
    /// See the [example](Self#example).
    pub fn role(&self) -> Role {
        self.config.role
    }

    /// Whether the handshake completed and the connection is not closing.
    ///
    /// See the [example](Self#example).
    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }

    /// Whether the connection is closed.
    ///
    /// See the [example](Self#example).
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// The counters.
    ///
    /// See the [example](Self#example).
    pub fn stats(&self) -> &ControlStats {
        &self.stats
    }

    /// Calls currently known (in any state).
    ///
    /// See the [example](Self#example).
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// Bytes of a partly received control message held for its rest (at
    /// most one message). See the [example](Self#example).
    pub fn buffered_len(&self) -> usize {
        self.rx.len()
    }

    /// Messages waiting for [`ControlConnection::poll_transmit`] (at most
    /// [`ControlConfig::max_queued`]; beyond it the connection closes with
    /// [`CloseReason::OutputFull`]). See the [example](Self#example).
    pub fn queued_len(&self) -> usize {
        self.transmit.len()
    }

    /// The TCP connection is up: a PNS sends its Start-Control-Connection-
    /// Request; a PAC waits for the peer's.
    ///
    /// See the [example](Self#example).
    pub fn start(&mut self, now: Instant) {
        if self.state != State::Idle {
            return;
        }
        match self.config.role {
            Role::Pns => {
                self.send(ControlMessage::from(self.sccrq()));
                self.state = State::WaitReply;
                self.timers
                    .set(Timer::Reply, now + self.config.reply_timeout);
            }
            Role::Pac => {
                self.state = State::WaitRequest;
                self.timers
                    .set_opt(Timer::Start, self.config.start_timeout.map(|t| now + t));
            }
        }
        self.arm_echo(now);
        self.settle();
    }

    /// Bytes to write to TCP, one message at a time.
    ///
    /// See the [example](Self#example).
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        crate::queue::pop_or_release(&mut self.transmit, self.state == State::Established)
    }

    /// The next event.
    ///
    /// See the [example](Self#example).
    pub fn poll_event(&mut self) -> Option<ControlEvent> {
        crate::queue::pop_or_release(&mut self.events, self.state == State::Established)
    }

    /// When [`ControlConnection::handle_timeout`] is due.
    ///
    /// See the [`handle_timeout` example](Self::handle_timeout).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Closed {
            return None;
        }
        self.timers.earliest()
    }

    /// Places an outgoing call (PNS): sends Outgoing-Call-Request and returns
    /// our Call ID; [`ControlEvent::CallUp`] follows the peer's reply.
    ///
    /// See the [example](Self#example).
    pub fn open_call(&mut self, now: Instant) -> Result<u16, ControlError> {
        self.check_established()?;
        if self.config.role != Role::Pns {
            return Err(ControlError::WrongRole);
        }
        let call_id = self.allocate_call_id()?;
        self.serial = self.serial.wrapping_add(1);
        let request = OutgoingCallRequest {
            call_id,
            call_serial_number: self.serial,
            minimum_bps: 2400,
            maximum_bps: 10_000_000,
            bearer_type: self.config.bearer,
            framing_type: self.config.framing,
            packet_recv_window_size: self.config.receive_window,
            ..Default::default()
        };
        self.calls.insert(
            call_id,
            Call {
                peer_call_id: 0,
                state: CallState::WaitOutgoingReply,
                since: now,
                peer_window: 0,
            },
        );
        self.send(request.into());
        self.rearm_reply_timer();
        self.settle();
        Ok(call_id)
    }

    /// Offers an incoming call (PAC): sends Incoming-Call-Request and returns
    /// our Call ID; [`ControlEvent::CallUp`] follows once it is connected.
    ///
    /// ```
    /// # use pptp_proto::control::{ControlConfig, ControlConnection, ControlEvent, Role};
    /// # use pptp_proto::time::Instant;
    /// # fn shuttle(now: Instant, a: &mut ControlConnection, b: &mut ControlConnection) {
    /// #     loop {
    /// #         let mut moved = false;
    /// #         while let Some(m) = a.poll_transmit() { b.handle_stream(now, &m).unwrap(); moved = true; }
    /// #         while let Some(m) = b.poll_transmit() { a.handle_stream(now, &m).unwrap(); moved = true; }
    /// #         if !moved { break; }
    /// #     }
    /// # }
    /// # fn events(c: &mut ControlConnection) -> Vec<ControlEvent> { core::iter::from_fn(|| c.poll_event()).collect() }
    /// # let now = Instant::ZERO;
    /// # let mut pns = ControlConnection::new(ControlConfig::new(Role::Pns));
    /// # let mut pac = ControlConnection::new(ControlConfig::new(Role::Pac));
    /// # pns.start(now);
    /// # pac.start(now);
    /// # shuttle(now, &mut pns, &mut pac);
    /// # let _ = (events(&mut pns), events(&mut pac));
    /// use pptp_proto::control::ControlError;
    ///
    /// // (`pns` and `pac` are connected, as in the type's example.)
    /// assert_eq!(pns.offer_incoming_call(now), Err(ControlError::WrongRole));
    /// let call_id = pac.offer_incoming_call(now).unwrap();
    /// shuttle(now, &mut pns, &mut pac); // Incoming-Call-Request, -Reply, -Connected
    /// let [ControlEvent::CallUp { peer_call_id, .. }] = events(&mut pns)[..] else { panic!() };
    /// let [ControlEvent::CallUp { call_id: up, .. }] = events(&mut pac)[..] else { panic!() };
    /// assert_eq!(up, call_id);
    /// assert_eq!(peer_call_id, call_id);
    /// ```
    pub fn offer_incoming_call(&mut self, now: Instant) -> Result<u16, ControlError> {
        self.check_established()?;
        if self.config.role != Role::Pac {
            return Err(ControlError::WrongRole);
        }
        let call_id = self.allocate_call_id()?;
        self.serial = self.serial.wrapping_add(1);
        let request = IncomingCallRequest {
            call_id,
            call_serial_number: self.serial,
            call_bearer_type: self.config.bearer,
            ..Default::default()
        };
        self.calls.insert(
            call_id,
            Call {
                peer_call_id: 0,
                state: CallState::WaitIncomingReply,
                since: now,
                peer_window: 0,
            },
        );
        self.send(request.into());
        self.rearm_reply_timer();
        self.settle();
        Ok(call_id)
    }

    /// Clears a call: a PNS sends Call-Clear-Request (and waits for the
    /// PAC's Call-Disconnect-Notify); a PAC sends Call-Disconnect-Notify.
    ///
    /// See the [example](Self#example).
    pub fn clear_call(&mut self, now: Instant, call_id: u16) -> Result<(), ControlError> {
        if self.state == State::Closed {
            return Err(ControlError::Closed);
        }
        let call = self
            .calls
            .get(&call_id)
            .ok_or(ControlError::UnknownCall(call_id))?;
        match self.config.role {
            Role::Pns => {
                let _ = call;
                if let Some(c) = self.calls.get_mut(&call_id) {
                    c.state = CallState::WaitDisconnect;
                    c.since = now;
                }
                // The CCRQ carries the PNS's own Call ID (RFC 2637 §2.12).
                self.send(
                    CallClearRequest {
                        call_id,
                        ..Default::default()
                    }
                    .into(),
                );
                self.rearm_reply_timer();
            }
            Role::Pac => {
                self.send_disconnect(call_id, CallDisconnectResult::ADMIN_SHUTDOWN);
                self.call_down(call_id, CallDownReason::LocalClear);
            }
        }
        self.settle();
        Ok(())
    }

    /// Sends Set-Link-Info for a call (the ACCMs PPP negotiated).
    ///
    /// See the [example](Self#example).
    pub fn set_link_info(
        &mut self,
        call_id: u16,
        send_accm: u32,
        receive_accm: u32,
    ) -> Result<(), ControlError> {
        self.check_established()?;
        let call = self
            .calls
            .get(&call_id)
            .ok_or(ControlError::UnknownCall(call_id))?;
        let message = SetLinkInfo {
            peer_call_id: call.peer_call_id,
            send_accm,
            receive_accm,
            ..Default::default()
        };
        self.send(message.into());
        self.settle();
        Ok(())
    }

    /// Sends WAN-Error-Notify for a call (PAC): the error counters of its line.
    ///
    /// ```
    /// # use pptp_proto::control::{ControlConfig, ControlConnection, ControlEvent, Role};
    /// # use pptp_proto::time::Instant;
    /// # fn shuttle(now: Instant, a: &mut ControlConnection, b: &mut ControlConnection) {
    /// #     loop {
    /// #         let mut moved = false;
    /// #         while let Some(m) = a.poll_transmit() { b.handle_stream(now, &m).unwrap(); moved = true; }
    /// #         while let Some(m) = b.poll_transmit() { a.handle_stream(now, &m).unwrap(); moved = true; }
    /// #         if !moved { break; }
    /// #     }
    /// # }
    /// # fn events(c: &mut ControlConnection) -> Vec<ControlEvent> { core::iter::from_fn(|| c.poll_event()).collect() }
    /// # let now = Instant::ZERO;
    /// # let mut pns = ControlConnection::new(ControlConfig::new(Role::Pns));
    /// # let mut pac = ControlConnection::new(ControlConfig::new(Role::Pac));
    /// # pns.start(now);
    /// # pac.start(now);
    /// # shuttle(now, &mut pns, &mut pac);
    /// # let _ = (events(&mut pns), events(&mut pac));
    /// # let call_id = pns.open_call(now).unwrap();
    /// # shuttle(now, &mut pns, &mut pac);
    /// # let _ = events(&mut pns);
    /// # let [ControlEvent::CallUp { call_id: pac_call, .. }] = events(&mut pac)[..] else { panic!() };
    /// use pptp_proto::wire::control::WanErrorNotify;
    ///
    /// // (`pns` placed a call, `pac_call` is its Call ID at the PAC.)
    /// let errors = WanErrorNotify { crc_errors: 3, ..Default::default() };
    /// pac.wan_error_notify(pac_call, errors).unwrap();
    /// shuttle(now, &mut pns, &mut pac);
    /// let [ControlEvent::WanError { call_id: c, errors }] = events(&mut pns)[..] else {
    ///     panic!()
    /// };
    /// assert_eq!((c, errors.crc_errors), (call_id, 3));
    /// ```
    pub fn wan_error_notify(
        &mut self,
        call_id: u16,
        errors: WanErrorNotify,
    ) -> Result<(), ControlError> {
        self.check_established()?;
        if self.config.role != Role::Pac {
            return Err(ControlError::WrongRole);
        }
        let call = self
            .calls
            .get(&call_id)
            .ok_or(ControlError::UnknownCall(call_id))?;
        let message = WanErrorNotify {
            peer_call_id: call.peer_call_id,
            ..errors
        };
        self.send(message.into());
        self.settle();
        Ok(())
    }

    /// Stops the connection: Stop-Control-Connection-Request, then
    /// [`ControlEvent::Closed`] on the reply or its timeout.
    ///
    /// See the [example](Self#example).
    pub fn close(&mut self, now: Instant, reason: StopControlConnectionReason) {
        match self.state {
            State::Closed | State::Stopping => {}
            State::Idle | State::WaitRequest => self.closed(CloseReason::LocalStop),
            _ => {
                self.send(
                    StopControlConnectionRequest {
                        reason,
                        ..Default::default()
                    }
                    .into(),
                );
                self.state = State::Stopping;
                self.timers
                    .set(Timer::Reply, now + self.config.reply_timeout);
                self.settle();
            }
        }
    }

    /// The TCP connection closed: every call goes down, then the connection.
    /// (pptpd closes TCP on Call-Clear-Request without a
    /// Call-Disconnect-Notify; this is the clean teardown for that.)
    ///
    /// ```
    /// # use pptp_proto::control::{ControlConfig, ControlConnection, ControlEvent, Role};
    /// # use pptp_proto::time::Instant;
    /// # fn shuttle(now: Instant, a: &mut ControlConnection, b: &mut ControlConnection) {
    /// #     loop {
    /// #         let mut moved = false;
    /// #         while let Some(m) = a.poll_transmit() { b.handle_stream(now, &m).unwrap(); moved = true; }
    /// #         while let Some(m) = b.poll_transmit() { a.handle_stream(now, &m).unwrap(); moved = true; }
    /// #         if !moved { break; }
    /// #     }
    /// # }
    /// # fn events(c: &mut ControlConnection) -> Vec<ControlEvent> { core::iter::from_fn(|| c.poll_event()).collect() }
    /// # let now = Instant::ZERO;
    /// # let mut pns = ControlConnection::new(ControlConfig::new(Role::Pns));
    /// # let mut pac = ControlConnection::new(ControlConfig::new(Role::Pac));
    /// # pns.start(now);
    /// # pac.start(now);
    /// # shuttle(now, &mut pns, &mut pac);
    /// # let _ = (events(&mut pns), events(&mut pac));
    /// # let call_id = pns.open_call(now).unwrap();
    /// # shuttle(now, &mut pns, &mut pac);
    /// # let _ = events(&mut pns);
    /// # let [ControlEvent::CallUp { call_id: pac_call, .. }] = events(&mut pac)[..] else { panic!() };
    /// use pptp_proto::control::{CallDownReason, CloseReason};
    ///
    /// // (`pns` placed a call with Call ID `call_id`.)
    /// pns.handle_stream_closed(now);
    /// assert_eq!(
    ///     events(&mut pns),
    ///     [
    ///         ControlEvent::CallDown { call_id, reason: CallDownReason::ConnectionClosed },
    ///         ControlEvent::Closed { reason: CloseReason::StreamClosed },
    ///     ]
    /// );
    /// assert!(pns.is_closed());
    /// # let _ = pac_call;
    /// ```
    pub fn handle_stream_closed(&mut self, now: Instant) {
        let _ = now;
        if self.state != State::Closed {
            let reason = if self.state == State::Stopping {
                CloseReason::LocalStop
            } else {
                CloseReason::StreamClosed
            };
            self.closed(reason);
        }
    }

    /// Runs the timers that are due; an early or repeated call is a no-op.
    ///
    /// The keepalive: after `echo_interval` (60 s) without a message the
    /// connection sends Echo-Request, and closes when no reply comes within
    /// `echo_timeout` (60 s).
    ///
    /// ```
    /// # use pptp_proto::control::{ControlConfig, ControlConnection, ControlEvent, Role};
    /// # use pptp_proto::time::Instant;
    /// # fn shuttle(now: Instant, a: &mut ControlConnection, b: &mut ControlConnection) {
    /// #     loop {
    /// #         let mut moved = false;
    /// #         while let Some(m) = a.poll_transmit() { b.handle_stream(now, &m).unwrap(); moved = true; }
    /// #         while let Some(m) = b.poll_transmit() { a.handle_stream(now, &m).unwrap(); moved = true; }
    /// #         if !moved { break; }
    /// #     }
    /// # }
    /// # fn events(c: &mut ControlConnection) -> Vec<ControlEvent> { core::iter::from_fn(|| c.poll_event()).collect() }
    /// # let now = Instant::ZERO;
    /// # let mut pns = ControlConnection::new(ControlConfig::new(Role::Pns));
    /// # let mut pac = ControlConnection::new(ControlConfig::new(Role::Pac));
    /// # pns.start(now);
    /// # pac.start(now);
    /// # shuttle(now, &mut pns, &mut pac);
    /// # let _ = (events(&mut pns), events(&mut pac));
    /// use core::time::Duration;
    /// use pptp_proto::control::CloseReason;
    ///
    /// // (`pns` connected to `pac` at `now`; then the PAC goes silent.)
    /// let echo_at = pns.poll_timeout().unwrap();
    /// assert_eq!(echo_at, now + Duration::from_secs(60));
    /// pns.handle_timeout(now + Duration::from_secs(30)); // early: nothing happens
    /// assert!(pns.poll_transmit().is_none());
    /// pns.handle_timeout(echo_at);
    /// assert!(pns.poll_transmit().is_some()); // the Echo-Request
    /// assert_eq!(pns.stats().echo_requests_sent, 1);
    /// let give_up = pns.poll_timeout().unwrap();
    /// assert_eq!(give_up, echo_at + Duration::from_secs(60));
    /// pns.handle_timeout(give_up);
    /// assert_eq!(events(&mut pns), [ControlEvent::Closed { reason: CloseReason::EchoTimeout }]);
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        #[cfg(feature = "tracing")]
        if let Some((timer, at)) = self.timers.next().filter(|&(_, at)| at <= now) {
            tracing::trace!(?timer, due = ?at, "timer due");
        }
        self.run_timers(now);
        self.settle();
    }

    fn run_timers(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        if self.timers.fire(Timer::EchoReply, now) {
            self.closed(CloseReason::EchoTimeout);
            return;
        }
        if self.timers.fire(Timer::Start, now) && self.state == State::WaitRequest {
            return self.closed(CloseReason::StartTimeout);
        }
        if self.timers.fire(Timer::Message, now) && !self.rx.is_empty() {
            return self.closed(CloseReason::MessageTimeout);
        }
        if self.timers.fire(Timer::Reply, now) {
            match self.state {
                State::WaitReply => return self.closed(CloseReason::HandshakeTimeout),
                State::Stopping => return self.closed(CloseReason::LocalStop),
                _ => self.expire_calls(now),
            }
        }
        if self.timers.fire(Timer::EchoIdle, now) && self.state == State::Established {
            let identifier = self.rng.next_u64() as u32;
            self.echo_outstanding = Some(identifier);
            self.stats.echo_requests_sent += 1;
            self.send(
                EchoRequest {
                    identifier,
                    ..Default::default()
                }
                .into(),
            );
            self.timers
                .set(Timer::EchoReply, now + self.config.echo_timeout);
        }
    }

    /// Takes bytes read from TCP, split or coalesced in any way.
    ///
    /// See the [example](Self#example).
    pub fn handle_stream(&mut self, now: Instant, bytes: &[u8]) -> Result<(), ControlError> {
        let result = self.take_stream(now, bytes);
        // The message deadline runs from the first byte of a split message.
        let message = match (self.rx.is_empty(), self.timers.get(Timer::Message)) {
            (true, _) => None,
            (false, Some(t)) => Some(t),
            (false, None) => self.config.message_timeout.map(|t| now + t),
        };
        self.timers.set_opt(Timer::Message, message);
        result
    }

    fn take_stream(&mut self, now: Instant, mut bytes: &[u8]) -> Result<(), ControlError> {
        if self.state == State::Closed {
            return Err(ControlError::Closed);
        }
        while !bytes.is_empty() {
            if self.rx.is_empty() {
                // A whole message in `bytes` is parsed where it lies; only a
                // message split across reads is copied into `rx`.
                match frame_length(bytes) {
                    Ok(Some(len)) if len <= bytes.len() => {
                        let (message, rest) = bytes.split_at(len);
                        bytes = rest;
                        self.receive(now, message)?;
                        if self.state == State::Closed {
                            return Ok(());
                        }
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => return Err(self.malformed(e)),
                }
            }
            // Take only what the current message needs: the buffer never
            // holds more than one message.
            let need = match frame_length(&self.rx) {
                Ok(None) => HEADER_PEEK - self.rx.len(),
                Ok(Some(len)) => len - self.rx.len(),
                Err(e) => return Err(self.malformed(e)),
            };
            let (head, rest) = bytes.split_at(need.min(bytes.len()));
            self.rx.extend_from_slice(head);
            bytes = rest;
            match frame_length(&self.rx) {
                Ok(Some(len)) if len == self.rx.len() => {
                    // The buffer is given back: split messages are rare and
                    // an idle connection should not hold it.
                    let message = core::mem::take(&mut self.rx);
                    self.receive(now, &message)?;
                    if self.state == State::Closed {
                        return Ok(());
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(self.malformed(e)),
            }
        }
        Ok(())
    }

    /// One whole control message from the stream.
    fn receive(&mut self, now: Instant, message: &[u8]) -> Result<(), ControlError> {
        match ControlMessage::parse(message) {
            Ok(message) => {
                crate::trace::event!(debug, "rcvd {}", message);
                self.on_message(now, message);
                self.settle();
                Ok(())
            }
            Err(e) => Err(self.malformed(e)),
        }
    }
}

/// Bytes of the header [`frame_length`] needs to judge a message.
const HEADER_PEEK: usize = 12;

impl ControlConnection {
    fn sccrq(&self) -> StartControlConnectionRequest {
        StartControlConnectionRequest {
            protocol_version: PROTOCOL_VERSION,
            framing_capabilities: self.config.framing,
            bearer_capabilities: self.config.bearer,
            maximum_channels: u16::try_from(self.config.max_calls).unwrap_or(u16::MAX),
            firmware_revision: self.config.firmware_revision,
            host_name: self.config.host_name.as_str().into(),
            vendor_string: self.config.vendor.as_str().into(),
            ..Default::default()
        }
    }

    fn sccrp(&self, result_code: StartControlConnectionResult) -> StartControlConnectionReply {
        StartControlConnectionReply {
            protocol_version: PROTOCOL_VERSION,
            result_code,
            framing_capabilities: self.config.framing,
            bearer_capabilities: self.config.bearer,
            maximum_channels: u16::try_from(self.config.max_calls).unwrap_or(u16::MAX),
            firmware_revision: self.config.firmware_revision,
            host_name: self.config.host_name.as_str().into(),
            vendor_string: self.config.vendor.as_str().into(),
            ..Default::default()
        }
    }

    /// Queues a message. A full queue drops it and marks the connection
    /// for closing: closing here, in the middle of a handler, would let the
    /// rest of the handler add calls, timers or events after `Closed`.
    fn send(&mut self, message: ControlMessage) {
        if self.overflowed {
            return;
        }
        if self.transmit.len() >= self.config.max_queued {
            self.overflowed = true;
            return;
        }
        crate::trace::event!(debug, "sent {}", message);
        let mut out = Vec::with_capacity(message.buffer_len());
        message.emit(&mut out);
        self.stats.sent += 1;
        self.transmit.push_back(Bytes::from(out));
    }

    fn check_established(&self) -> Result<(), ControlError> {
        match self.state {
            State::Established => Ok(()),
            State::Closed => Err(ControlError::Closed),
            _ => Err(ControlError::NotConnected),
        }
    }

    /// The next free Call ID in our range; 0 is as valid as any other.
    fn allocate_call_id(&mut self) -> Result<u16, ControlError> {
        if self.calls.len() >= self.config.max_calls {
            return Err(ControlError::TooManyCalls);
        }
        let (lo, hi) = self.config.call_ids;
        let span = u32::from(hi.saturating_sub(lo)) + 1;
        for _ in 0..span.min(u32::from(u16::MAX) + 1) {
            let id = self.next_call_id;
            self.next_call_id = if id >= hi || id < lo { lo } else { id + 1 };
            if (lo..=hi).contains(&id) && !self.calls.contains_key(&id) {
                return Ok(id);
            }
        }
        Err(ControlError::TooManyCalls)
    }

    fn arm_echo(&mut self, now: Instant) {
        self.timers
            .set(Timer::EchoIdle, now + self.config.echo_interval);
    }

    /// The reply timer follows the oldest call waiting for a reply.
    fn rearm_reply_timer(&mut self) {
        if matches!(self.state, State::WaitReply | State::Stopping) {
            return;
        }
        let oldest = self
            .calls
            .values()
            .filter(|c| {
                matches!(
                    c.state,
                    CallState::WaitOutgoingReply
                        | CallState::WaitIncomingReply
                        | CallState::WaitConnected
                        | CallState::WaitDisconnect
                )
            })
            .map(|c| c.since)
            .min();
        self.timers
            .set_opt(Timer::Reply, oldest.map(|t| t + self.config.reply_timeout));
    }

    fn expire_calls(&mut self, now: Instant) {
        let timeout = self.config.reply_timeout;
        let expired: Vec<(u16, CallState)> = self
            .calls
            .iter()
            .filter(|(_, c)| c.state != CallState::Established && c.since + timeout <= now)
            .map(|(id, c)| (*id, c.state))
            .collect();
        for (id, state) in expired {
            // A PNS whose CCRQ went unanswered (pptpd closes TCP instead)
            // considers the call cleared.
            let reason = if state == CallState::WaitDisconnect {
                CallDownReason::LocalClear
            } else {
                CallDownReason::Timeout
            };
            self.call_down(id, reason);
        }
        self.rearm_reply_timer();
    }

    fn send_disconnect(&mut self, call_id: u16, result_code: CallDisconnectResult) {
        self.send(
            CallDisconnectNotify {
                call_id,
                result_code,
                ..Default::default()
            }
            .into(),
        );
    }

    fn call_down(&mut self, call_id: u16, reason: CallDownReason) {
        if self.calls.remove(&call_id).is_some() {
            self.events
                .push_back(ControlEvent::CallDown { call_id, reason });
        }
        self.rearm_reply_timer();
    }

    fn closed(&mut self, reason: CloseReason) {
        if self.state == State::Closed {
            return;
        }
        crate::trace::event!(info, ?reason, "PPTP control connection closed");
        let ids: Vec<u16> = self.calls.keys().copied().collect();
        for call_id in ids {
            self.calls.remove(&call_id);
            self.events.push_back(ControlEvent::CallDown {
                call_id,
                reason: CallDownReason::ConnectionClosed,
            });
        }
        self.state = State::Closed;
        self.timers.stop_all();
        self.rx.clear();
        self.events.push_back(ControlEvent::Closed { reason });
    }

    /// Ends every public operation: closes the connection if the output
    /// queue overflowed during it.
    fn settle(&mut self) {
        if self.overflowed {
            self.overflowed = false;
            self.closed(CloseReason::OutputFull);
        }
    }

    fn malformed(&mut self, e: crate::wire::Error) -> ControlError {
        self.closed(CloseReason::Malformed(e.clone()));
        ControlError::Malformed(e)
    }

    fn ignore(&mut self) {
        self.stats.ignored += 1;
    }

    /// Our call whose peer Call ID is `peer_call_id`.
    fn call_by_peer_id(&self, peer_call_id: u16) -> Option<u16> {
        self.calls
            .iter()
            .find(|(_, c)| {
                c.peer_call_id == peer_call_id
                    && c.state != CallState::WaitOutgoingReply
                    && c.state != CallState::WaitIncomingReply
            })
            .map(|(id, _)| *id)
    }

    fn on_message(&mut self, now: Instant, message: ControlMessage) {
        self.stats.received += 1;
        // Any message from the peer shows it is alive (RFC 2637 §3.1.4).
        self.arm_echo(now);
        match message {
            ControlMessage::StartControlConnectionRequest(m) => self.on_sccrq(now, m),
            ControlMessage::StartControlConnectionReply(m) => self.on_sccrp(now, m),
            ControlMessage::StopControlConnectionRequest(m) => {
                self.send(
                    StopControlConnectionReply {
                        result_code: StopControlConnectionResult::OK,
                        ..Default::default()
                    }
                    .into(),
                );
                self.closed(CloseReason::PeerStop(m.reason));
            }
            ControlMessage::StopControlConnectionReply(_) if self.state == State::Stopping => {
                self.closed(CloseReason::LocalStop)
            }
            ControlMessage::EchoRequest(m) => self.send(
                EchoReply {
                    identifier: m.identifier,
                    result_code: EchoResult::OK,
                    ..Default::default()
                }
                .into(),
            ),
            ControlMessage::EchoReply(m) => {
                if self.echo_outstanding == Some(m.identifier) {
                    self.echo_outstanding = None;
                    self.timers.stop(Timer::EchoReply);
                } else {
                    self.ignore();
                }
            }
            _ if self.state != State::Established => self.ignore(),
            ControlMessage::OutgoingCallRequest(m) => self.on_ocrq(now, m),
            ControlMessage::OutgoingCallReply(m) => self.on_ocrp(m),
            ControlMessage::IncomingCallRequest(m) => self.on_icrq(now, m),
            ControlMessage::IncomingCallReply(m) => self.on_icrp(m),
            ControlMessage::IncomingCallConnected(m) => self.on_iccn(m),
            ControlMessage::CallClearRequest(m) => self.on_ccrq(m),
            ControlMessage::CallDisconnectNotify(m) => self.on_cdn(m),
            ControlMessage::SetLinkInfo(m) => match self.call_for_peer_message(m.peer_call_id) {
                Some(call_id) => self.events.push_back(ControlEvent::SetLinkInfo {
                    call_id,
                    send_accm: m.send_accm,
                    receive_accm: m.receive_accm,
                }),
                None => self.ignore(),
            },
            ControlMessage::WanErrorNotify(m) => match self.call_for_peer_message(m.peer_call_id) {
                Some(call_id) => self
                    .events
                    .push_back(ControlEvent::WanError { call_id, errors: m }),
                None => self.ignore(),
            },
            _ => self.ignore(),
        }
    }

    /// SLI and WEN carry "Peer's Call ID": ours as the peer knows it. Some
    /// peers put their own there; accept either.
    fn call_for_peer_message(&self, id: u16) -> Option<u16> {
        if self.calls.contains_key(&id) {
            Some(id)
        } else {
            self.call_by_peer_id(id)
        }
    }

    fn on_sccrq(&mut self, now: Instant, m: StartControlConnectionRequest) {
        match self.state {
            State::WaitRequest | State::Idle => {}
            State::WaitReply => {
                // RFC 2637 §3.1.3: both sent SCCRQ; the higher address wins
                // and keeps its request; the other answers.
                let we_win = match self.config.addresses {
                    Some((ours, peers)) => u32::from(ours) > u32::from(peers),
                    None => self.config.role == Role::Pac,
                };
                if we_win {
                    return self.ignore();
                }
                self.timers.stop(Timer::Reply);
            }
            _ => return self.ignore(),
        }
        if m.protocol_version != PROTOCOL_VERSION {
            self.send(
                self.sccrp(StartControlConnectionResult::BAD_PROTOCOL_VERSION)
                    .into(),
            );
            return self.closed(CloseReason::BadVersion(m.protocol_version));
        }
        self.send(self.sccrp(StartControlConnectionResult::SUCCESSFUL).into());
        self.established(
            now,
            m.host_name.to_string_lossy().into(),
            m.vendor_string.to_string_lossy().into(),
            m.firmware_revision,
            m.framing_capabilities,
            m.bearer_capabilities,
        );
    }

    fn on_sccrp(&mut self, now: Instant, m: StartControlConnectionReply) {
        if self.state != State::WaitReply {
            return self.ignore();
        }
        self.timers.stop(Timer::Reply);
        if m.result_code != StartControlConnectionResult::SUCCESSFUL {
            return self.closed(CloseReason::Refused(m.result_code, m.error_code));
        }
        if m.protocol_version != PROTOCOL_VERSION {
            return self.closed(CloseReason::BadVersion(m.protocol_version));
        }
        self.established(
            now,
            m.host_name.to_string_lossy().into(),
            m.vendor_string.to_string_lossy().into(),
            m.firmware_revision,
            m.framing_capabilities,
            m.bearer_capabilities,
        );
    }

    fn established(
        &mut self,
        now: Instant,
        hostname: String,
        vendor: String,
        firmware: u16,
        framing: FramingCapabilities,
        bearer: BearerCapabilities,
    ) {
        self.state = State::Established;
        self.timers.stop(Timer::Start);
        self.arm_echo(now);
        self.events.push_back(ControlEvent::Connected {
            hostname,
            vendor,
            firmware,
            framing,
            bearer,
        });
    }

    fn on_ocrq(&mut self, now: Instant, m: OutgoingCallRequest) {
        if self.config.role != Role::Pac {
            return self.ignore();
        }
        let (speed, window) = (self.config.connect_speed, self.config.receive_window);
        let reply = |call_id, result_code| OutgoingCallReply {
            call_id,
            peer_call_id: m.call_id,
            result_code,
            connect_speed: speed,
            packet_recv_window_size: window,
            ..Default::default()
        };
        let call_id = match self.allocate_call_id() {
            Ok(id) => id,
            Err(_) => {
                let refusal = reply(0, OutgoingCallResult::BUSY);
                return self.send(refusal.into());
            }
        };
        let accepted = reply(call_id, OutgoingCallResult::CONNECTED);
        let speed = accepted.connect_speed;
        self.calls.insert(
            call_id,
            Call {
                peer_call_id: m.call_id,
                state: CallState::Established,
                since: now,
                peer_window: m.packet_recv_window_size,
            },
        );
        self.send(accepted.into());
        self.events.push_back(ControlEvent::CallUp {
            call_id,
            peer_call_id: m.call_id,
            peer_window: m.packet_recv_window_size,
            speed,
        });
    }

    fn on_ocrp(&mut self, m: OutgoingCallReply) {
        let waiting =
            self.calls.get(&m.peer_call_id).map(|c| c.state) == Some(CallState::WaitOutgoingReply);
        if !waiting {
            return self.ignore();
        }
        if m.result_code != OutgoingCallResult::CONNECTED {
            return self.call_down(m.peer_call_id, CallDownReason::Refused(m.result_code));
        }
        if let Some(call) = self.calls.get_mut(&m.peer_call_id) {
            call.peer_call_id = m.call_id;
            call.state = CallState::Established;
            call.peer_window = m.packet_recv_window_size;
        }
        self.rearm_reply_timer();
        self.events.push_back(ControlEvent::CallUp {
            call_id: m.peer_call_id,
            peer_call_id: m.call_id,
            peer_window: m.packet_recv_window_size,
            speed: m.connect_speed,
        });
    }

    fn on_icrq(&mut self, now: Instant, m: IncomingCallRequest) {
        if self.config.role != Role::Pns {
            return self.ignore();
        }
        let (call_id, result_code) = match self.allocate_call_id() {
            Ok(id) => (id, IncomingCallResult::CONNECT),
            Err(_) => (0, IncomingCallResult::DO_NOT_ACCEPT),
        };
        self.send(
            IncomingCallReply {
                call_id,
                peer_call_id: m.call_id,
                result_code,
                packet_recv_window_size: self.config.receive_window,
                ..Default::default()
            }
            .into(),
        );
        if result_code == IncomingCallResult::CONNECT {
            self.calls.insert(
                call_id,
                Call {
                    peer_call_id: m.call_id,
                    state: CallState::WaitConnected,
                    since: now,
                    peer_window: 0,
                },
            );
            self.rearm_reply_timer();
        }
    }

    fn on_icrp(&mut self, m: IncomingCallReply) {
        let waiting =
            self.calls.get(&m.peer_call_id).map(|c| c.state) == Some(CallState::WaitIncomingReply);
        if !waiting {
            return self.ignore();
        }
        if m.result_code != IncomingCallResult::CONNECT {
            return self.call_down(
                m.peer_call_id,
                CallDownReason::IncomingRefused(m.result_code),
            );
        }
        let call_id = m.peer_call_id;
        if let Some(call) = self.calls.get_mut(&call_id) {
            call.peer_call_id = m.call_id;
            call.state = CallState::Established;
            call.peer_window = m.packet_recv_window_size;
        }
        self.send(
            IncomingCallConnected {
                peer_call_id: m.call_id,
                connect_speed: self.config.connect_speed,
                packet_recv_window_size: self.config.receive_window,
                framing_type: self.config.framing,
                ..Default::default()
            }
            .into(),
        );
        self.rearm_reply_timer();
        self.events.push_back(ControlEvent::CallUp {
            call_id,
            peer_call_id: m.call_id,
            peer_window: m.packet_recv_window_size,
            speed: self.config.connect_speed,
        });
    }

    fn on_iccn(&mut self, m: IncomingCallConnected) {
        let waiting =
            self.calls.get(&m.peer_call_id).map(|c| c.state) == Some(CallState::WaitConnected);
        if !waiting {
            return self.ignore();
        }
        let call_id = m.peer_call_id;
        let mut up = None;
        if let Some(call) = self.calls.get_mut(&call_id) {
            call.state = CallState::Established;
            call.peer_window = m.packet_recv_window_size;
            up = Some(call.peer_call_id);
        }
        self.rearm_reply_timer();
        if let Some(peer_call_id) = up {
            self.events.push_back(ControlEvent::CallUp {
                call_id,
                peer_call_id,
                peer_window: m.packet_recv_window_size,
                speed: m.connect_speed,
            });
        }
    }

    fn on_ccrq(&mut self, m: CallClearRequest) {
        // The CCRQ names the PNS's Call ID: the peer id of our call.
        if self.config.role != Role::Pac {
            return self.ignore();
        }
        match self.call_by_peer_id(m.call_id) {
            Some(call_id) => {
                self.send_disconnect(call_id, CallDisconnectResult::REQUEST);
                self.call_down(call_id, CallDownReason::PeerCleared);
            }
            None => self.ignore(),
        }
    }

    fn on_cdn(&mut self, m: CallDisconnectNotify) {
        // The CDN names the sender's Call ID: the peer id of our call. The
        // Microsoft server in nDPI's capture puts our own ID there instead.
        let ours = self.calls.contains_key(&m.call_id).then_some(m.call_id);
        match self.call_by_peer_id(m.call_id).or(ours) {
            Some(call_id) => {
                self.call_down(call_id, CallDownReason::PeerDisconnected(m.result_code))
            }
            None => self.ignore(),
        }
    }
}

/// The peer's receive window for a call, as learned from its reply or request.
impl ControlConnection {
    /// The peer's Call ID and Packet Receive Window Size for one of our calls.
    ///
    /// See the [example](Self#example).
    pub fn call_info(&self, call_id: u16) -> Option<(u16, u16)> {
        self.calls
            .get(&call_id)
            .map(|c| (c.peer_call_id, c.peer_window))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_table_is_a_sorted_map_that_frees_when_empty() {
        let call = |peer_call_id| Call {
            peer_call_id,
            state: CallState::Established,
            since: Instant::ZERO,
            peer_window: 0,
        };
        let mut t = CallTable::default();
        for id in [9u16, 3, 7, 3] {
            t.insert(id, call(id + 100));
        }
        assert_eq!(t.len(), 3);
        assert_eq!(t.keys().copied().collect::<Vec<_>>(), [3, 7, 9]);
        assert_eq!(t.get(&7).map(|c| c.peer_call_id), Some(107));
        assert!(t.get(&8).is_none() && !t.contains_key(&8));
        t.get_mut(&9).unwrap().peer_window = 5;
        assert_eq!(t.values().map(|c| c.peer_window).sum::<u16>(), 5);
        assert_eq!(t.remove(&7).map(|c| c.peer_call_id), Some(107));
        assert!(t.remove(&7).is_none());
        assert_eq!(t.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [3, 9]);
        t.remove(&3);
        t.remove(&9);
        assert_eq!(t.0.capacity(), 0);
        // One call costs one slot.
        t.insert(1, call(1));
        assert_eq!(t.0.capacity(), 1);
    }

    fn established(role: Role) -> ControlConnection {
        let mut c = ControlConnection::new(ControlConfig::new(role));
        c.state = State::Established;
        c
    }

    #[test]
    fn call_ids_include_zero_and_are_never_reused_while_in_use() {
        let mut config = ControlConfig::new(Role::Pns);
        config.call_ids = (0, 2);
        config.max_calls = 8;
        let mut c = ControlConnection::new(config);
        c.state = State::Established;
        let mut ids: Vec<u16> = (0..3)
            .map(|_| c.open_call(Instant::ZERO).unwrap())
            .collect();
        ids.sort_unstable();
        assert_eq!(ids, [0, 1, 2]);
        assert_eq!(c.open_call(Instant::ZERO), Err(ControlError::TooManyCalls));
        c.call_down(1, CallDownReason::LocalClear);
        assert_eq!(c.open_call(Instant::ZERO), Ok(1));
    }

    #[test]
    fn commands_check_state_and_role() {
        let mut c = ControlConnection::new(ControlConfig::new(Role::Pns));
        assert_eq!(c.open_call(Instant::ZERO), Err(ControlError::NotConnected));
        let mut pac = established(Role::Pac);
        assert_eq!(pac.open_call(Instant::ZERO), Err(ControlError::WrongRole));
        assert_eq!(
            pac.set_link_info(9, 0, 0),
            Err(ControlError::UnknownCall(9))
        );
        c.close(Instant::ZERO, StopControlConnectionReason::NONE);
        assert!(c.is_closed());
        assert_eq!(c.clear_call(Instant::ZERO, 0), Err(ControlError::Closed));
    }

    #[test]
    fn unanswered_outgoing_call_times_out() {
        let mut c = established(Role::Pns);
        let id = c.open_call(Instant::ZERO).unwrap();
        assert_eq!(c.poll_timeout(), Some(Instant::from_secs(60)));
        c.handle_timeout(Instant::from_secs(60));
        assert!(
            c.events.iter().any(|e| matches!(e,
            ControlEvent::CallDown { call_id, reason: CallDownReason::Timeout } if *call_id == id))
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_stream_never_panics_and_stays_bounded(
            chunks in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..300), 0..20),
            pac in proptest::bool::ANY,
            header in proptest::bool::ANY,
        ) {
            let role = if pac { Role::Pac } else { Role::Pns };
            let mut c = ControlConnection::new(ControlConfig::new(role));
            c.start(Instant::ZERO);
            let mut now = Instant::ZERO;
            for mut chunk in chunks {
                if header && chunk.len() >= 12 {
                    // A valid header prefix so the fuzz reaches message handling.
                    let len = [156u16, 16, 20, 168, 32, 220, 24, 28, 148, 40][chunk[8] as usize % 10];
                    chunk[..8].copy_from_slice(&[(len >> 8) as u8, len as u8, 0, 1, 0x1a, 0x2b, 0x3c, 0x4d]);
                }
                let _ = c.handle_stream(now, &chunk);
                proptest::prop_assert!(c.rx.len() <= crate::wire::control::MAX_MESSAGE_LEN);
                proptest::prop_assert!(c.transmit.len() <= c.config.max_queued);
                now += Duration::from_secs(7);
                c.handle_timeout(now);
                if let Some(t) = c.poll_timeout() {
                    proptest::prop_assert!(t > now);
                }
                while c.poll_transmit().is_some() {}
                let mut closed = false;
                while let Some(e) = c.poll_event() {
                    proptest::prop_assert!(!closed, "event after Closed");
                    closed = matches!(e, ControlEvent::Closed { .. });
                }
            }
        }
    }
}
