//! `GreChannel`: the enhanced-GRE data channel of one PPTP call
//! (RFC 2637 §4).
//!
//! It puts PPP frames into GRE with the peer's Call ID, the next sequence
//! number and a piggybacked acknowledgment, and takes them out again:
//! checking the Call ID, dropping duplicates and stale packets, restoring
//! order within a small bounded reorder buffer, and keeping the send window
//! the peer announced (RFC 2637 §4.4) with an adaptive acknowledgment
//! timeout.
//!
//! # Driving contract
//!
//! - [`GreChannel::encapsulate`] (or [`GreChannel::encapsulate_in_place`]
//!   with headroom) for each PPP frame to send. It writes into a caller
//!   buffer and allocates nothing; [`GreError::WindowFull`] means the peer's
//!   window is full: drop the frame or try again later, it is never queued.
//! - [`GreChannel::decapsulate`] for each GRE packet received (without its
//!   IP header). An in-order frame comes back at once as a sub-slice;
//!   out-of-order frames wait in the reorder buffer.
//! - After `decapsulate` and after [`GreChannel::handle_timeout`], drain
//!   [`GreChannel::poll_frame`] for frames released from the reorder buffer,
//!   then [`GreChannel::poll_transmit`] for an ack-only packet, then
//!   re-read [`GreChannel::poll_timeout`].
//! - An early or repeated `handle_timeout` is a no-op; a timer that fired is
//!   cleared.
//!
//! ```
//! use pptp_proto::gre::{GreChannel, GreConfig, Decapsulated};
//! use pptp_proto::time::Instant;
//!
//! let mut a = GreChannel::new(GreConfig::new(1, 2));
//! let mut b = GreChannel::new(GreConfig::new(2, 1));
//! let now = Instant::ZERO;
//! let mut buf = [0u8; 64];
//! let n = a.encapsulate(now, &[0xff, 0x03, 0xc0, 0x21, 9, 1, 0, 8, 0, 0, 0, 0], &mut buf).unwrap();
//! match b.decapsulate(now, &buf[..n]).unwrap() {
//!     Decapsulated::Frame(frame) => assert_eq!(frame[2..4], [0xc0, 0x21]),
//!     other => panic!("{other:?}"),
//! }
//! // No data goes back: after the ack delay, b sends an ack-only packet.
//! let due = b.poll_timeout().unwrap();
//! b.handle_timeout(due);
//! let n = b.poll_transmit(&mut buf).unwrap();
//! assert!(matches!(a.decapsulate(due, &buf[..n]), Ok(Decapsulated::AckOnly)));
//! ```

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::ops::Range;
use core::time::Duration;

use crate::time::Instant;
use crate::timer::timer_reasons;
use crate::wire::cp::Code;
use crate::wire::gre::{GreHeader, GrePacket};
use crate::wire::ppp::{PppFrame, Protocol};

/// Configuration of one call's GRE channel.
///
/// See the [`GreChannel` example](GreChannel#example).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GreConfig {
    /// Our Call ID: the peer puts it in the Key of every packet it sends us.
    pub call_id: u16,
    /// The peer's Call ID, which we put in the Key.
    pub peer_call_id: u16,
    /// The peer's Packet Receive Window Size from its
    /// Outgoing-Call-Request/Reply (default 64, pptpd's); what it means for
    /// sending is [`GreConfig::window_policy`].
    pub peer_window: u16,
    /// How the peer's window bounds what we have unacknowledged (default
    /// [`WindowPolicy::Advisory`] with at least 512 in flight).
    pub window_policy: WindowPolicy,
    /// IP packets a session holds while the peer's window is full (default
    /// 64): they go out, in order, as acknowledgments open it; beyond it a
    /// packet is refused with [`GreError::WindowFull`]. The facades
    /// report a held packet as `TunnelError::Queued`.
    pub send_queue: usize,
    /// Our Packet Receive Window Size, as announced in our OCRQ/OCRP
    /// (default 16384). The `Client` and `Server` facades set it from
    /// [`ControlConfig::receive_window`](crate::control::ControlConfig::receive_window).
    pub receive_window: u16,
    /// An acknowledgment goes out alone, without waiting for the ack delay,
    /// once this many packets are unacknowledged (default 32), or half our
    /// window if that is fewer: a busy one-way sender is acknowledged a few
    /// times per window and never stalls on the ack delay. pptp-linux acks
    /// at 2.
    pub ack_after: u16,
    /// Packets held in the reorder buffer (default 16; 0 delivers out of
    /// order packets at once and counts the gap as lost, as Linux does).
    pub reorder_packets: usize,
    /// How long a gap is waited for before it is skipped (default 100 ms:
    /// longer than reordering on one path, short enough for voice).
    pub reorder_timeout: Duration,
    /// How long an acknowledgment waits for data to ride on (default 100 ms).
    pub ack_delay: Duration,
    /// The acknowledgment timeout before the first RTT sample (default 1 s).
    pub initial_ack_timeout: Duration,
    /// Bounds of the adaptive acknowledgment timeout (default 100 ms .. 10 s).
    pub min_ack_timeout: Duration,
    /// Upper bound of the adaptive acknowledgment timeout.
    pub max_ack_timeout: Duration,
    /// Our first sequence number (default 0, as pptpd; Linux starts at 1).
    pub initial_sequence: u32,
    /// Largest PPP frame accepted into the reorder buffer (default 2048).
    pub max_frame: usize,
    /// The farthest one packet's sequence number may move the receive
    /// window ahead (default 1024). A packet farther ahead is dropped unless
    /// [`GreConfig::jump_evidence`] consecutive such packets arrive with no
    /// in-window packet between them, as after a long outage: one spoofed
    /// packet can no longer push the window past the genuine sequence.
    pub max_jump: u32,
    /// Consecutive far-ahead packets that move the window (default 4).
    pub jump_evidence: u32,
}

impl GreConfig {
    /// Defaults for the channel between `call_id` (ours) and `peer_call_id`.
    ///
    /// See the [`GreChannel` example](GreChannel#example).
    pub fn new(call_id: u16, peer_call_id: u16) -> Self {
        GreConfig {
            call_id,
            peer_call_id,
            peer_window: 64,
            window_policy: WindowPolicy::default(),
            send_queue: 64,
            receive_window: crate::control::DEFAULT_RECEIVE_WINDOW,
            ack_after: 32,
            reorder_packets: 16,
            reorder_timeout: Duration::from_millis(100),
            ack_delay: Duration::from_millis(100),
            initial_ack_timeout: Duration::from_secs(1),
            min_ack_timeout: Duration::from_millis(100),
            max_ack_timeout: Duration::from_secs(10),
            initial_sequence: 0,
            max_frame: 2048,
            max_jump: 1024,
            jump_evidence: 4,
        }
    }
}

/// How the peer's Packet Receive Window bounds the packets we have sent
/// and not yet seen acknowledged (RFC 2637 §4.4).
///
/// Real peers announce small windows and enforce none: pptp-linux sends
/// window 3 in its Outgoing-Call-Request, pptpd 64, Windows RRAS 16384, and
/// the receivers of pptp-linux, pptpd and the Linux kernel (`pptp.ko`, used
/// by accel-ppp and pppd's kernel mode) accept whatever arrives in
/// sequence. Enforced strictly, window 3 at a 50 ms round trip allows 3
/// packets per round trip: about 0.7 Mbit/s whatever the link. Cisco's VPN
/// 3000 ships "limit transmit to window" off for the same reason. The
/// default is therefore advisory, with at least 512 packets in flight:
/// enough for a 10 Mbit/s path with 400 ms between a packet and its
/// acknowledgment (round trip plus the peer's ack delay), or 100 Mbit/s
/// with 40 ms; each costs 16 octets of bookkeeping while unacknowledged
/// (`tests/wan_sessions.rs` measures the goodput).
///
/// ```
/// use pptp_proto::gre::{GreChannel, GreConfig, WindowPolicy};
/// use pptp_proto::time::Instant;
///
/// let mut a = GreChannel::new(GreConfig::new(1, 2));
/// a.set_peer_window(3); // pptp-linux
/// assert_eq!(a.window_limit(), Some(512)); // advisory: at least 512 in flight
/// let mut strict = GreConfig::new(1, 2);
/// strict.window_policy = WindowPolicy::Strict;
/// let mut b = GreChannel::new(strict);
/// b.set_peer_window(3);
/// assert_eq!(b.window_limit(), Some(3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WindowPolicy {
    /// RFC 2637 §4.4 to the letter: never more unacknowledged packets than
    /// the peer's window.
    Strict,
    /// The larger of the peer's window and `at_least` may be in flight. A
    /// peer that has acknowledged nothing when our acknowledgment timeout
    /// runs out (the Linux kernel sends no acknowledgment-only packets,
    /// so a one-way flow to it is never acknowledged) is not held to any
    /// window until it acknowledges something: it must not stall us.
    Advisory {
        /// Packets that may be in flight whatever the peer's window.
        at_least: u16,
    },
}

impl Default for WindowPolicy {
    fn default() -> Self {
        WindowPolicy::Advisory { at_least: 512 }
    }
}

/// Why a packet could not be sent or was not accepted. State is unchanged.
///
/// See the [`GreChannel` example](GreChannel#example) and
/// [`GreChannel::set_peer_window`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GreError {
    /// The packet is not valid enhanced GRE.
    #[error("malformed GRE packet: {0}")]
    Malformed(#[from] crate::wire::Error),
    /// The packet's Call ID is not ours.
    #[error("GRE packet for call {got}, ours is {ours}")]
    WrongCallId {
        /// The Call ID in the packet.
        got: u16,
        /// Ours.
        ours: u16,
    },
    /// The caller's buffer cannot hold the packet.
    #[error("buffer too small: {required} bytes needed")]
    BufferTooSmall {
        /// Bytes needed.
        required: usize,
    },
    /// The peer's receive window is full (RFC 2637 §4.4).
    #[error("the peer's receive window is full")]
    WindowFull,
    /// The frame is larger than a GRE payload can be.
    #[error("frame of {len} bytes is too large for GRE")]
    TooLarge {
        /// The frame's length.
        len: usize,
    },
}

/// What [`GreChannel::decapsulate`] made of a received packet.
///
/// See the [`GreChannel` example](GreChannel#example).
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decapsulated<'a> {
    /// A PPP frame, in order (or an LCP Echo, which passes out of order).
    Frame(&'a [u8]),
    /// An acknowledgment without data.
    AckOnly,
    /// Held in the reorder buffer; it comes out of [`GreChannel::poll_frame`].
    Buffered,
    /// Dropped, and why.
    Dropped(DropReason),
}

/// Why a received packet was dropped.
///
/// See the [`GreChannel` example](GreChannel#example).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropReason {
    /// Its sequence number was delivered (or skipped) already, recently.
    Duplicate,
    /// Its sequence number is far behind: out of the window.
    Stale,
    /// A data packet without a sequence number.
    NoSequence,
    /// Larger than the reorder buffer takes.
    TooLarge,
    /// Farther ahead than [`GreConfig::max_jump`], without the evidence of
    /// consecutive packets that the peer's sequence moved on.
    FarAhead,
}

/// The channel's counters.
///
/// See the [`GreChannel` example](GreChannel#example).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GreStats {
    /// Data packets sent.
    pub sent: u64,
    /// Data packets received and delivered.
    pub received: u64,
    /// Acknowledgments of sequence numbers we never sent (ignored).
    pub bad_acks: u64,
    /// Our packets the peer acknowledged.
    pub acked: u64,
    /// Sequence numbers never received (gaps skipped).
    pub lost: u64,
    /// Late packets that filled a gap: they arrived out of order and were
    /// put back in order.
    pub reordered: u64,
    /// Duplicates dropped.
    pub duplicate: u64,
    /// Packets dropped as too old (outside the window).
    pub out_of_window: u64,
    /// Sends refused because the peer's window was full.
    pub window_full: u64,
    /// Ack-only packets sent.
    pub ack_only_sent: u64,
    /// Ack-only packets received.
    pub ack_only_received: u64,
    /// Times the acknowledgment timeout expired with packets outstanding.
    pub ack_timeouts: u64,
    /// Packets sent while the peer's announced window was full
    /// ([`WindowPolicy::Advisory`]).
    pub beyond_window: u64,
    /// Times an advisory window stopped being kept because nothing was
    /// acknowledged for a whole acknowledgment timeout.
    pub window_released: u64,
}

timer_reasons! {
    /// The timers of a channel.
    enum Timer {
        /// An acknowledgment is owed and no data went out to carry it.
        AckDelay,
        /// The oldest gap in the reorder buffer has waited long enough.
        Reorder,
        /// The oldest unacknowledged packet has waited longer than the ack timeout.
        AckTimeout,
    }
}

type Timers = crate::timer::TimerTable<Timer, { Timer::COUNT }>;

/// Octets of a header with sequence and acknowledgment numbers.
const MAX_HEADER_LEN: usize = 16;

/// The GRE channel of one call. See the [module documentation](self) for
/// the driving contract.
///
/// # Example
///
/// Two ends of a call: three frames one way, the network swapping two of
/// them and duplicating one, and an answer that acknowledges them all.
///
/// ```
/// use core::time::Duration;
/// use pptp_proto::gre::{DropReason, GreChannel, GreConfig, GreError, GreStats, Decapsulated};
/// use pptp_proto::time::Instant;
///
/// // PPP frames: address, control, protocol IPv4, a payload byte.
/// let frames: [&[u8]; 3] = [
///     &[0xff, 0x03, 0x00, 0x21, 1],
///     &[0xff, 0x03, 0x00, 0x21, 2],
///     &[0xff, 0x03, 0x00, 0x21, 3],
/// ];
/// let mut a = GreChannel::new(GreConfig::new(10, 20)); // our Call ID 10, the peer's 20
/// let mut b = GreChannel::new(GreConfig::new(20, 10));
/// assert_eq!(a.config().peer_call_id, 20);
///
/// let now = Instant::ZERO;
/// let mut packets = Vec::new();
/// for frame in frames {
///     let mut buf = [0u8; 64];
///     let n = a.encapsulate(now, frame, &mut buf)?;
///     packets.push(buf[..n].to_vec());
/// }
/// assert_eq!(a.in_flight(), 3);
///
/// // The network swaps the last two and repeats one.
/// assert_eq!(b.decapsulate(now, &packets[0])?, Decapsulated::Frame(frames[0]));
/// assert_eq!(b.decapsulate(now, &packets[2])?, Decapsulated::Buffered);
/// assert_eq!(b.decapsulate(now, &packets[1])?, Decapsulated::Frame(frames[1]));
/// assert_eq!(b.poll_frame().as_deref(), Some(frames[2])); // released in order
/// assert_eq!(b.decapsulate(now, &packets[1])?, Decapsulated::Dropped(DropReason::Duplicate));
/// let GreStats { received, reordered, duplicate, .. } = *b.stats();
/// assert_eq!((received, reordered, duplicate), (3, 1, 1));
///
/// // 20 ms later b's own data packet acknowledges all three.
/// let later = now + Duration::from_millis(20);
/// let mut buf = [0u8; 64];
/// let n = b.encapsulate(later, frames[0], &mut buf)?;
/// assert_eq!(a.decapsulate(later, &buf[..n])?, Decapsulated::Frame(frames[0]));
/// assert_eq!(a.in_flight(), 0);
/// let GreStats { sent, acked, .. } = *a.stats();
/// assert_eq!((sent, acked), (3, 3));
/// // A 20 ms round trip: the ack timeout falls from 1 s to its 100 ms minimum.
/// assert_eq!(a.ack_timeout(), Duration::from_millis(100));
///
/// // A packet for another call is refused.
/// let err = a.decapsulate(later, &packets[0]).unwrap_err();
/// assert_eq!(err, GreError::WrongCallId { got: 20, ours: 10 });
/// # Ok::<(), GreError>(())
/// ```
#[derive(Debug)]
pub struct GreChannel {
    config: GreConfig,
    timers: Timers,
    /// The next sequence number we send.
    next_send: u32,
    /// Send times of our packets not yet acknowledged, oldest first.
    unacked: VecDeque<(u32, Instant)>,
    /// Advisory policy: the peer has acknowledged nothing by the time our
    /// acknowledgment timeout ran out; no window is kept until it does.
    peer_silent: bool,
    /// When the latest valid acknowledgment arrived.
    last_ack: Option<Instant>,
    /// The next sequence number we expect; `None` until the first arrives.
    expected: Option<u32>,
    /// Far-ahead packets seen in a row: the last one's sequence number and
    /// how many ([`GreConfig::max_jump`]).
    jump: Option<(u32, u32)>,
    /// An acknowledgment for `expected - 1` is owed to the peer.
    ack_owed: bool,
    /// The ack delay ran out: the owed acknowledgment goes out alone.
    ack_due: bool,
    /// Data packets received since the last acknowledgment we sent.
    unacked_received: u16,
    /// Frames that arrived ahead of a gap: sequence number, arrival, bytes
    /// (`None`: delivered already, an LCP Echo that passed).
    reorder: Vec<(u32, Instant, Option<Vec<u8>>)>,
    /// Frames released in order, waiting for `poll_frame`.
    ready: VecDeque<Vec<u8>>,
    rtt: RttEstimator,
    stats: GreStats,
}

/// RFC 2637 §4.4 / Appendix A: smoothed round-trip time and deviation give
/// the adaptive acknowledgment timeout, doubled on expiry.
#[derive(Debug, Clone, Copy)]
struct RttEstimator {
    srtt: Option<Duration>,
    dev: Duration,
    timeout: Duration,
    min: Duration,
    max: Duration,
}

impl RttEstimator {
    fn sample(&mut self, rtt: Duration) {
        let (srtt, dev) = match self.srtt {
            None => (rtt, rtt / 2),
            Some(srtt) => {
                // Gains 1/8 and 1/4, as the appendix (and TCP) uses.
                let err = rtt.abs_diff(srtt);
                let srtt = srtt - srtt / 8 + rtt / 8;
                (srtt, self.dev - self.dev / 4 + err / 4)
            }
        };
        self.srtt = Some(srtt);
        self.dev = dev;
        self.timeout = (srtt + dev * 4).clamp(self.min, self.max);
    }

    fn back_off(&mut self) {
        self.timeout = (self.timeout * 2).clamp(self.min, self.max);
    }
}

/// Serial-number comparison (RFC 1982 style, signed 32-bit difference).
fn distance(from: u32, to: u32) -> i32 {
    to.wrapping_sub(from) as i32
}

impl GreChannel {
    /// A channel with the given configuration.
    ///
    /// See the [example](Self#example).
    pub fn new(config: GreConfig) -> Self {
        let rtt = RttEstimator {
            srtt: None,
            dev: Duration::ZERO,
            timeout: config.initial_ack_timeout,
            min: config.min_ack_timeout,
            max: config.max_ack_timeout,
        };
        GreChannel {
            next_send: config.initial_sequence,
            jump: None,
            config,
            timers: Timers::default(),
            unacked: VecDeque::new(),
            peer_silent: false,
            last_ack: None,
            expected: None,
            ack_owed: false,
            ack_due: false,
            unacked_received: 0,
            reorder: Vec::new(),
            ready: VecDeque::new(),
            rtt,
            stats: GreStats::default(),
        }
    }

    /// The configuration.
    ///
    /// See the [example](Self#example).
    pub fn config(&self) -> &GreConfig {
        &self.config
    }

    /// The counters.
    ///
    /// See the [example](Self#example).
    pub fn stats(&self) -> &GreStats {
        &self.stats
    }

    /// Updates the peer's receive window (learned from OCRQ/OCRP).
    ///
    /// Under [`WindowPolicy::Strict`] the window bounds the packets in
    /// flight (under the default advisory policy, see [`WindowPolicy`]); a
    /// full window refuses to send, it does not queue:
    ///
    /// ```
    /// use pptp_proto::gre::{GreChannel, GreConfig, GreError, WindowPolicy};
    /// use pptp_proto::time::Instant;
    ///
    /// let mut config = GreConfig::new(1, 2);
    /// config.window_policy = WindowPolicy::Strict;
    /// let mut a = GreChannel::new(config);
    /// a.set_peer_window(1);
    /// let frame = [0xff, 0x03, 0x00, 0x21, 0x45];
    /// let mut buf = [0u8; 32];
    /// assert!(a.window_open());
    /// a.encapsulate(Instant::ZERO, &frame, &mut buf)?;
    /// assert!(!a.window_open());
    /// assert_eq!(a.encapsulate(Instant::ZERO, &frame, &mut buf), Err(GreError::WindowFull));
    /// assert_eq!(a.stats().window_full, 1);
    /// # Ok::<(), GreError>(())
    /// ```
    pub fn set_peer_window(&mut self, window: u16) {
        self.config.peer_window = window;
    }

    /// Packets sent and not yet acknowledged.
    ///
    /// See the [example](Self#example).
    pub fn in_flight(&self) -> usize {
        self.unacked.len()
    }

    /// The current adaptive acknowledgment timeout.
    ///
    /// GRE does not retransmit: when the oldest packet goes unacknowledged
    /// this long, the channel counts it, frees the window and doubles the
    /// timeout (up to `max_ack_timeout`).
    ///
    /// ```
    /// use core::time::Duration;
    /// use pptp_proto::gre::{GreChannel, GreConfig, GreError};
    /// use pptp_proto::time::Instant;
    ///
    /// let mut a = GreChannel::new(GreConfig::new(1, 2));
    /// assert_eq!(a.ack_timeout(), Duration::from_secs(1)); // before any round trip
    /// let mut buf = [0u8; 32];
    /// a.encapsulate(Instant::ZERO, &[0xff, 0x03, 0x00, 0x21, 0x45], &mut buf)?;
    /// assert_eq!(a.poll_timeout(), Some(Instant::from_secs(1)));
    /// a.handle_timeout(Instant::from_secs(1)); // no acknowledgment came
    /// assert_eq!(a.stats().ack_timeouts, 1);
    /// assert_eq!(a.in_flight(), 0);
    /// assert_eq!(a.ack_timeout(), Duration::from_secs(2));
    /// # Ok::<(), GreError>(())
    /// ```
    pub fn ack_timeout(&self) -> Duration {
        self.rtt.timeout
    }

    /// When [`GreChannel::handle_timeout`] is due.
    ///
    /// See the [`handle_timeout` example](Self::handle_timeout).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.earliest()
    }

    /// Octets a packet needs in front of its PPP frame, at most.
    ///
    /// See the [`encapsulate_in_place` example](Self::encapsulate_in_place).
    pub const fn header_room() -> usize {
        MAX_HEADER_LEN
    }

    /// Whether the peer's window has room for another data packet.
    ///
    /// See the [`set_peer_window` example](Self::set_peer_window).
    pub fn window_open(&self) -> bool {
        self.window_limit()
            .is_none_or(|limit| self.unacked.len() < usize::from(limit))
    }

    /// How many packets may be unacknowledged now ([`WindowPolicy`]);
    /// `None` while an advisory window is not kept because the peer never
    /// acknowledges. A window of 0 would stall the call: it counts as 1.
    ///
    /// See the [`WindowPolicy` example](WindowPolicy#example).
    pub fn window_limit(&self) -> Option<u16> {
        let window = self.config.peer_window.max(1);
        match self.config.window_policy {
            WindowPolicy::Strict => Some(window),
            WindowPolicy::Advisory { .. } if self.peer_silent => None,
            WindowPolicy::Advisory { at_least } => {
                let limit = window.max(at_least);
                // Full, and nothing acknowledged since the oldest packet in
                // flight left: the peer is not acknowledging this flow (or
                // not yet). Waiting would stall; `commit_send` stops
                // keeping the window until it acknowledges.
                let full = self.unacked.len() >= usize::from(limit);
                let unheard = self
                    .unacked
                    .front()
                    .is_some_and(|&(_, sent)| self.last_ack.is_none_or(|t| t < sent));
                (!(full && unheard)).then_some(limit)
            }
        }
    }

    /// The header the next data packet gets; does not change state.
    fn next_header(&self, payload_len: u16) -> GreHeader {
        let ack = self.owed_ack();
        GreHeader::new(
            self.config.peer_call_id,
            payload_len,
            Some(self.next_send),
            ack,
        )
    }

    fn owed_ack(&self) -> Option<u32> {
        match self.expected {
            Some(e) if self.ack_owed => Some(e.wrapping_sub(1)),
            _ => None,
        }
    }

    /// Records a data packet as sent (after the header was written).
    fn commit_send(&mut self, now: Instant, acked: bool) {
        if self.unacked.len() >= usize::from(self.config.peer_window.max(1)) {
            self.stats.beyond_window += 1;
        }
        if self.window_limit().is_none() && !self.peer_silent {
            self.go_silent();
        }
        if !self.peer_silent {
            // A silent peer acknowledges nothing: nothing to wait for.
            self.unacked.push_back((self.next_send, now));
        }
        self.next_send = self.next_send.wrapping_add(1);
        self.stats.sent += 1;
        if acked {
            self.ack_owed = false;
            self.ack_due = false;
            self.unacked_received = 0;
            self.timers.stop(Timer::AckDelay);
        }
        if !self.peer_silent {
            self.timers
                .set_if_idle(Timer::AckTimeout, now + self.rtt.timeout);
        }
    }

    /// Writes a GRE packet carrying `frame` into `out`; returns its length.
    ///
    /// See the [example](Self#example).
    pub fn encapsulate(
        &mut self,
        now: Instant,
        frame: &[u8],
        out: &mut [u8],
    ) -> Result<usize, GreError> {
        let len =
            u16::try_from(frame.len()).map_err(|_| GreError::TooLarge { len: frame.len() })?;
        if !self.window_open() {
            self.stats.window_full += 1;
            return Err(GreError::WindowFull);
        }
        let header = self.next_header(len);
        let required = header.buffer_len() + frame.len();
        let Some(out) = out.get_mut(..required) else {
            return Err(GreError::BufferTooSmall { required });
        };
        let (head, body) = out.split_at_mut(header.buffer_len());
        header.emit(&mut &mut head[..]);
        body.copy_from_slice(frame);
        self.commit_send(now, header.acknowledgment.is_some());
        Ok(required)
    }

    /// Writes the GRE header just before the frame at
    /// `buf[offset..offset + len]` (which needs [`GreChannel::header_room`]
    /// octets of headroom) and returns the packet's range in `buf`.
    ///
    /// ```
    /// use pptp_proto::gre::{GreChannel, GreConfig, GreError, Decapsulated};
    /// use pptp_proto::time::Instant;
    ///
    /// let mut a = GreChannel::new(GreConfig::new(1, 2));
    /// let frame = [0xff, 0x03, 0x00, 0x21, 0x45];
    /// // The frame is built after room for the header, which goes in front.
    /// let room = GreChannel::header_room();
    /// let mut buf = vec![0u8; room + frame.len()];
    /// buf[room..].copy_from_slice(&frame);
    /// let packet = a.encapsulate_in_place(Instant::ZERO, &mut buf, room, frame.len())?;
    ///
    /// let mut b = GreChannel::new(GreConfig::new(2, 1));
    /// assert_eq!(b.decapsulate(Instant::ZERO, &buf[packet])?, Decapsulated::Frame(&frame));
    /// # Ok::<(), GreError>(())
    /// ```
    pub fn encapsulate_in_place(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        offset: usize,
        len: usize,
    ) -> Result<Range<usize>, GreError> {
        let payload_len = u16::try_from(len).map_err(|_| GreError::TooLarge { len })?;
        let end = offset.checked_add(len).ok_or(GreError::TooLarge { len })?;
        if end > buf.len() {
            return Err(GreError::BufferTooSmall { required: end });
        }
        if !self.window_open() {
            self.stats.window_full += 1;
            return Err(GreError::WindowFull);
        }
        let header = self.next_header(payload_len);
        let start = offset
            .checked_sub(header.buffer_len())
            .ok_or(GreError::BufferTooSmall {
                required: end + header.buffer_len() - offset,
            })?;
        header.emit(&mut &mut buf[start..offset]);
        self.commit_send(now, header.acknowledgment.is_some());
        Ok(start..end)
    }

    /// The one packet the channel sends of its own accord (data goes out
    /// when the owner calls [`GreChannel::encapsulate`]): writes an
    /// ack-only packet if an acknowledgment is owed and its delay ran out
    /// (see [`GreChannel::handle_timeout`]) or [`GreConfig::ack_after`]
    /// packets are unacknowledged; returns its length.
    ///
    /// See the [`handle_timeout` example](Self::handle_timeout).
    pub fn poll_transmit(&mut self, out: &mut [u8]) -> Option<usize> {
        if !self.ack_due {
            return None;
        }
        let ack = self.owed_ack()?;
        let header = GreHeader::new(self.config.peer_call_id, 0, None, Some(ack));
        let len = header.buffer_len();
        let slot = out.get_mut(..len)?;
        header.emit(&mut &mut slot[..]);
        self.ack_owed = false;
        self.ack_due = false;
        self.unacked_received = 0;
        self.stats.ack_only_sent += 1;
        Some(len)
    }

    /// Takes a GRE packet (without its IP header).
    ///
    /// See the [example](Self#example).
    pub fn decapsulate<'a>(
        &mut self,
        now: Instant,
        datagram: &'a [u8],
    ) -> Result<Decapsulated<'a>, GreError> {
        let packet = GrePacket::parse(datagram)?;
        let header = packet.header;
        if header.call_id != self.config.call_id {
            return Err(GreError::WrongCallId {
                got: header.call_id,
                ours: self.config.call_id,
            });
        }
        if let Some(ack) = header.acknowledgment {
            self.on_ack(now, ack);
        }
        if packet.payload.is_empty() && header.sequence.is_none() {
            self.stats.ack_only_received += 1;
            return Ok(Decapsulated::AckOnly);
        }
        let Some(seq) = header.sequence else {
            return Ok(Decapsulated::Dropped(DropReason::NoSequence));
        };
        Ok(self.on_data(now, seq, packet.payload))
    }

    fn on_ack(&mut self, now: Instant, ack: u32) {
        // An ack for a packet we never sent is forged or corrupt: ignored.
        if distance(ack, self.next_send) <= 0 {
            self.stats.bad_acks += 1;
            return;
        }
        // A peer that acknowledges is held to its window again.
        self.peer_silent = false;
        self.last_ack = Some(now);
        // Everything up to and including `ack` is acknowledged.
        while let Some(&(seq, sent)) = self.unacked.front() {
            if distance(seq, ack) < 0 {
                break;
            }
            self.unacked.pop_front();
            self.stats.acked += 1;
            if seq == ack {
                self.rtt.sample(now.saturating_duration_since(sent));
            }
        }
        self.timers.set_opt(
            Timer::AckTimeout,
            self.unacked
                .front()
                .map(|&(_, sent)| sent + self.rtt.timeout),
        );
    }

    /// Stops keeping an advisory window for a peer that does not
    /// acknowledge (see [`WindowPolicy::Advisory`]).
    fn go_silent(&mut self) {
        self.peer_silent = true;
        self.unacked.clear();
        self.timers.stop(Timer::AckTimeout);
        self.stats.window_released += 1;
    }

    fn owe_ack(&mut self, now: Instant) {
        self.ack_owed = true;
        self.unacked_received = self.unacked_received.saturating_add(1);
        let due = self.config.ack_after.min(self.config.receive_window / 2);
        if self.unacked_received >= due.max(1) {
            self.ack_due = true;
        }
        self.timers
            .set_if_idle(Timer::AckDelay, now + self.config.ack_delay);
    }

    fn on_data<'a>(&mut self, now: Instant, seq: u32, frame: &'a [u8]) -> Decapsulated<'a> {
        let expected = *self.expected.get_or_insert(seq);
        let d = distance(expected, seq);
        if d < 0 {
            // Behind what was delivered: a duplicate if recent, else stale.
            if d > -i32::from(self.config.peer_window.max(64)) {
                self.stats.duplicate += 1;
                return Decapsulated::Dropped(DropReason::Duplicate);
            }
            self.stats.out_of_window += 1;
            return Decapsulated::Dropped(DropReason::Stale);
        }
        if d.unsigned_abs() > self.config.max_jump {
            return self.far_ahead(now, seq, d.unsigned_abs(), frame);
        }
        // In-window traffic: the genuine sequence is alive here.
        self.jump = None;
        self.owe_ack(now);
        if d == 0 {
            if !self.reorder.is_empty() {
                // A late packet filling a gap: it arrived out of order.
                self.stats.reordered += 1;
            }
            return self.deliver_in_order(seq, frame);
        }
        // Ahead of a gap.
        if self.reorder.iter().any(|(s, _, _)| *s == seq) {
            self.stats.duplicate += 1;
            return Decapsulated::Dropped(DropReason::Duplicate);
        }
        let echo = is_lcp_echo(frame);
        if self.config.reorder_packets == 0 {
            // No reordering: deliver now and count the gap as lost.
            self.stats.lost += u64::from(d.unsigned_abs());
            self.expected = Some(seq.wrapping_add(1));
            self.stats.received += 1;
            return Decapsulated::Frame(frame);
        }
        if !echo && frame.len() > self.config.max_frame {
            return Decapsulated::Dropped(DropReason::TooLarge);
        }
        if self.reorder.len() >= self.config.reorder_packets {
            // Full: give up on the oldest gap to make room. That may move
            // past this very packet: then it is in order now, or too late.
            self.skip_gap();
            let now_expected = self.expected.unwrap_or(seq);
            match distance(now_expected, seq) {
                0 => return self.deliver_in_order(seq, frame),
                d if d < 0 => {
                    self.stats.duplicate += 1;
                    return Decapsulated::Dropped(DropReason::Duplicate);
                }
                _ => {}
            }
        }
        let stored = if echo { None } else { Some(frame.to_vec()) };
        self.reorder.push((seq, now, stored));
        self.timers
            .set_if_idle(Timer::Reorder, now + self.config.reorder_timeout);
        if echo {
            // LCP Echo measures liveness, not order: let it through.
            self.stats.received += 1;
            return Decapsulated::Frame(frame);
        }
        Decapsulated::Buffered
    }

    /// A packet beyond [`GreConfig::max_jump`]: dropped, unless it makes
    /// [`GreConfig::jump_evidence`] consecutive ones with no in-window packet
    /// between them; then the window moves to it (RFC 2637 §4.3 lets a
    /// receiver drop what it cannot place).
    fn far_ahead<'a>(
        &mut self,
        now: Instant,
        seq: u32,
        d: u32,
        frame: &'a [u8],
    ) -> Decapsulated<'a> {
        self.stats.out_of_window += 1;
        let n = match self.jump {
            Some((last, n)) if seq == last.wrapping_add(1) => n + 1,
            _ => 1,
        };
        if n < self.config.jump_evidence.max(1) {
            self.jump = Some((seq, n));
            return Decapsulated::Dropped(DropReason::FarAhead);
        }
        crate::trace::event!(info, from = ?self.expected, to = seq, "GRE sequence jumped");
        self.jump = None;
        self.stats.lost += u64::from(d);
        self.reorder.clear();
        self.owe_ack(now);
        self.deliver_in_order(seq, frame)
    }

    fn deliver_in_order<'a>(&mut self, seq: u32, frame: &'a [u8]) -> Decapsulated<'a> {
        self.expected = Some(seq.wrapping_add(1));
        self.stats.received += 1;
        if !self.ready.is_empty() {
            // Frames released before this one must come out first.
            self.ready.push_back(frame.to_vec());
            self.release_in_order();
            return Decapsulated::Buffered;
        }
        self.release_in_order();
        Decapsulated::Frame(frame)
    }

    /// Moves buffered frames that are now in order to the ready queue.
    fn release_in_order(&mut self) {
        while let Some(expected) = self.expected {
            let Some(i) = self.reorder.iter().position(|(s, _, _)| *s == expected) else {
                break;
            };
            let (_, _, frame) = self.reorder.swap_remove(i);
            self.expected = Some(expected.wrapping_add(1));
            if let Some(frame) = frame {
                self.stats.received += 1;
                self.ready.push_back(frame);
            }
        }
        self.rearm_reorder_timer();
    }

    /// Skips the gap before the lowest buffered sequence number.
    fn skip_gap(&mut self) {
        let Some(expected) = self.expected else {
            return;
        };
        // Entries behind `expected` cannot be there; never step backwards.
        self.reorder.retain(|(s, _, _)| distance(expected, *s) > 0);
        let lowest = self
            .reorder
            .iter()
            .map(|(s, _, _)| *s)
            .min_by_key(|s| distance(expected, *s));
        if let Some(lowest) = lowest {
            self.stats.lost += u64::from(distance(expected, lowest).unsigned_abs());
            self.expected = Some(lowest);
            self.release_in_order();
        }
    }

    fn rearm_reorder_timer(&mut self) {
        let oldest = self.reorder.iter().map(|(_, t, _)| *t).min();
        self.timers.set_opt(
            Timer::Reorder,
            oldest.map(|t| t + self.config.reorder_timeout),
        );
    }

    /// The next frame released from the reorder buffer, in order.
    ///
    /// See the [example](Self#example).
    pub fn poll_frame(&mut self) -> Option<Vec<u8>> {
        self.ready.pop_front()
    }

    /// Frames held in the reorder buffer, waiting for a gap before them
    /// (at most [`GreConfig::reorder_packets`]). See the
    /// [`handle_timeout` example](Self::handle_timeout).
    pub fn reorder_len(&self) -> usize {
        self.reorder.len()
    }

    /// Frames released in order and not yet taken by
    /// [`GreChannel::poll_frame`] (at most one more than
    /// [`GreConfig::reorder_packets`]). See the
    /// [`handle_timeout` example](Self::handle_timeout).
    pub fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// Runs the timers that are due; an early or repeated call is a no-op.
    ///
    /// A gap that stays open for `reorder_timeout` (100 ms) is skipped and
    /// counted as lost; an acknowledgment with no data to ride on goes out
    /// alone after `ack_delay` (100 ms):
    ///
    /// ```
    /// use pptp_proto::gre::{GreChannel, GreConfig, GreError, Decapsulated};
    /// use pptp_proto::time::Instant;
    ///
    /// let mut a = GreChannel::new(GreConfig::new(1, 2));
    /// let mut b = GreChannel::new(GreConfig::new(2, 1));
    /// let now = Instant::ZERO;
    /// let mut packets = Vec::new();
    /// for n in 1..=3u8 {
    ///     let mut buf = [0u8; 32];
    ///     let len = a.encapsulate(now, &[0xff, 0x03, 0x00, 0x21, n], &mut buf)?;
    ///     packets.push(buf[..len].to_vec());
    /// }
    /// // The second packet is lost.
    /// assert!(matches!(b.decapsulate(now, &packets[0])?, Decapsulated::Frame(_)));
    /// assert_eq!(b.decapsulate(now, &packets[2])?, Decapsulated::Buffered);
    /// assert_eq!(b.reorder_len(), 1);
    ///
    /// let due = b.poll_timeout().unwrap();
    /// b.handle_timeout(due);
    /// assert_eq!((b.reorder_len(), b.ready_len()), (0, 1));
    /// assert_eq!(b.poll_frame(), Some(vec![0xff, 0x03, 0x00, 0x21, 3]));
    /// assert_eq!(b.stats().lost, 1);
    /// let mut ack = [0u8; 16];
    /// let len = b.poll_transmit(&mut ack).unwrap();
    /// assert_eq!(a.decapsulate(due, &ack[..len])?, Decapsulated::AckOnly);
    /// assert_eq!(a.in_flight(), 0);
    /// # Ok::<(), GreError>(())
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        #[cfg(feature = "tracing")]
        if let Some((timer, at)) = self.timers.next().filter(|&(_, at)| at <= now) {
            tracing::trace!(?timer, due = ?at, "timer due");
        }
        // Skipping one gap may expose another that waited as long.
        while self.timers.fire(Timer::Reorder, now) {
            self.skip_gap();
        }
        if self.timers.fire(Timer::AckTimeout, now) {
            // GRE does not retransmit: count the ack timeout, back off and
            // free the window so the call does not stall (RFC 2637 §4.4).
            self.stats.ack_timeouts += 1;
            self.rtt.back_off();
            self.unacked.clear();
            if matches!(self.config.window_policy, WindowPolicy::Advisory { .. }) {
                // Nothing acknowledged for a whole timeout: a peer that
                // sends no acknowledgment-only packets (the Linux kernel)
                // on a one-way flow, or lost acks. Waiting for it would
                // stall the call; its next acknowledgment brings the
                // window back.
                self.go_silent();
            }
        }
        if self.timers.fire(Timer::AckDelay, now) {
            self.ack_due = self.ack_owed;
        }
    }
}

/// Whether a PPP frame is an LCP Echo-Request or Echo-Reply.
fn is_lcp_echo(frame: &[u8]) -> bool {
    match PppFrame::parse(frame) {
        Ok(f) => {
            f.protocol == Protocol::LCP
                && f.information
                    .first()
                    .is_some_and(|&c| c == Code::ECHO_REQUEST.0 || c == Code::ECHO_REPLY.0)
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const LCP_CONF_REQ: [u8; 8] = [0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4];
    const LCP_ECHO: [u8; 12] = [0xff, 0x03, 0xc0, 0x21, 9, 1, 0, 8, 0, 0, 0, 0];

    fn ms(n: u64) -> Instant {
        Instant::from_millis(n)
    }

    /// A packet from the peer (call 2) to us (call 1).
    fn packet(seq: Option<u32>, ack: Option<u32>, frame: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        GrePacket::new(1, seq, ack, frame).unwrap().emit(&mut out);
        out
    }

    fn channel() -> GreChannel {
        GreChannel::new(GreConfig::new(1, 2))
    }

    #[test]
    fn serial_arithmetic_wraps() {
        assert_eq!(distance(u32::MAX, 0), 1);
        assert_eq!(distance(0, u32::MAX), -1);
        assert_eq!(distance(5, 5), 0);
        assert_eq!(distance(0x7fff_ffff, 0x8000_0000), 1);
    }

    #[test]
    fn first_sequence_number_is_accepted_whatever_it_is() {
        for first in [0, 1, 1000, u32::MAX] {
            let mut c = channel();
            let p = packet(Some(first), None, &LCP_CONF_REQ);
            assert_eq!(
                c.decapsulate(ms(0), &p),
                Ok(Decapsulated::Frame(&LCP_CONF_REQ[..]))
            );
            let p = packet(Some(first.wrapping_add(1)), None, &LCP_CONF_REQ);
            assert!(matches!(
                c.decapsulate(ms(1), &p),
                Ok(Decapsulated::Frame(_))
            ));
        }
    }

    #[test]
    fn each_drop_reason() {
        let mut c = channel();
        let p = packet(Some(10), None, &LCP_CONF_REQ);
        assert!(matches!(
            c.decapsulate(ms(0), &p),
            Ok(Decapsulated::Frame(_))
        ));
        assert_eq!(
            c.decapsulate(ms(0), &p),
            Ok(Decapsulated::Dropped(DropReason::Duplicate))
        );
        let old = packet(Some(10u32.wrapping_sub(100_000)), None, &LCP_CONF_REQ);
        assert_eq!(
            c.decapsulate(ms(0), &old),
            Ok(Decapsulated::Dropped(DropReason::Stale))
        );
        let noseq = packet(None, None, &LCP_CONF_REQ);
        assert_eq!(
            c.decapsulate(ms(0), &noseq),
            Ok(Decapsulated::Dropped(DropReason::NoSequence))
        );
        let mut wrong = Vec::new();
        GrePacket::new(9, Some(11), None, &LCP_CONF_REQ)
            .unwrap()
            .emit(&mut wrong);
        assert_eq!(
            c.decapsulate(ms(0), &wrong),
            Err(GreError::WrongCallId { got: 9, ours: 1 })
        );
        assert!(matches!(
            c.decapsulate(ms(0), &[0x30]),
            Err(GreError::Malformed(_))
        ));
        assert_eq!(c.stats().duplicate, 1);
        assert_eq!(c.stats().out_of_window, 1);
    }

    #[test]
    fn reorder_buffer_restores_order_and_skips_gaps_on_timeout() {
        let mut c = channel();
        let frames: Vec<Vec<u8>> = (0..4u8).map(|i| vec![0x21, 0x45, i]).collect();
        assert!(matches!(
            c.decapsulate(ms(0), &packet(Some(0), None, &frames[0])),
            Ok(Decapsulated::Frame(_))
        ));
        assert_eq!(
            c.decapsulate(ms(1), &packet(Some(2), None, &frames[2])),
            Ok(Decapsulated::Buffered)
        );
        assert_eq!(
            c.poll_timeout(),
            Some(ms(1) + Duration::from_millis(100)).min(c.poll_timeout())
        );
        assert!(
            matches!(c.decapsulate(ms(2), &packet(Some(1), None, &frames[1])), Ok(Decapsulated::Frame(f)) if f == &frames[1][..])
        );
        assert_eq!(c.poll_frame().as_deref(), Some(&frames[2][..]));
        assert_eq!(c.poll_frame(), None);
        // A gap that never fills is skipped when the reorder timer fires.
        assert_eq!(
            c.decapsulate(ms(3), &packet(Some(5), None, &frames[3])),
            Ok(Decapsulated::Buffered)
        );
        c.handle_timeout(ms(50));
        assert_eq!(c.poll_frame(), None, "early timeout is a no-op");
        c.handle_timeout(ms(103));
        assert_eq!(c.poll_frame().as_deref(), Some(&frames[3][..]));
        assert_eq!(c.stats().lost, 2);
        assert_eq!(c.stats().reordered, 1);
        assert_eq!(c.stats().received, 4);
    }

    #[test]
    fn full_reorder_buffer_skips_the_oldest_gap() {
        let mut config = GreConfig::new(1, 2);
        config.reorder_packets = 2;
        let mut c = GreChannel::new(config);
        let f = [0x21, 0x45];
        let _ = c.decapsulate(ms(0), &packet(Some(0), None, &f));
        assert_eq!(
            c.decapsulate(ms(0), &packet(Some(2), None, &f)),
            Ok(Decapsulated::Buffered)
        );
        assert_eq!(
            c.decapsulate(ms(0), &packet(Some(3), None, &f)),
            Ok(Decapsulated::Buffered)
        );
        // A third out-of-order frame: seq 1 is given up, 2 and 3 come out.
        assert_eq!(
            c.decapsulate(ms(0), &packet(Some(5), None, &f)),
            Ok(Decapsulated::Buffered)
        );
        assert_eq!(c.stats().lost, 1);
        assert!(c.poll_frame().is_some() && c.poll_frame().is_some());
        assert!(c.reorder.len() <= 2);
    }

    #[test]
    fn skipping_a_gap_for_room_keeps_the_order() {
        // Found by the session simulator: a packet that became in order
        // because a full buffer skipped a gap must come out after the
        // frames that skip released, and a stale one must never reach PPP.
        let mut config = GreConfig::new(1, 2);
        config.reorder_packets = 2;
        let mut c = GreChannel::new(config);
        let f = |n: u8| [0x21, 0x45, n];
        let _ = c.decapsulate(ms(0), &packet(Some(10), None, &f(10)));
        assert_eq!(
            c.decapsulate(ms(0), &packet(Some(12), None, &f(12))),
            Ok(Decapsulated::Buffered)
        );
        assert_eq!(
            c.decapsulate(ms(0), &packet(Some(14), None, &f(14))),
            Ok(Decapsulated::Buffered)
        );
        assert_eq!(
            c.decapsulate(ms(0), &packet(Some(13), None, &f(13))),
            Ok(Decapsulated::Buffered)
        );
        let order: Vec<u8> = core::iter::from_fn(|| c.poll_frame())
            .map(|v| v[2])
            .collect();
        assert_eq!(order, [12, 13, 14]);
        assert_eq!(
            c.decapsulate(ms(0), &packet(Some(11), None, &f(11))),
            Ok(Decapsulated::Dropped(DropReason::Duplicate))
        );
    }

    #[test]
    fn reordering_disabled_delivers_at_once() {
        let mut config = GreConfig::new(1, 2);
        config.reorder_packets = 0;
        let mut c = GreChannel::new(config);
        let f = [0x21, 0x45];
        let _ = c.decapsulate(ms(0), &packet(Some(0), None, &f));
        assert!(matches!(
            c.decapsulate(ms(0), &packet(Some(3), None, &f)),
            Ok(Decapsulated::Frame(_))
        ));
        assert_eq!(c.stats().lost, 2);
        assert_eq!(
            c.decapsulate(ms(0), &packet(Some(1), None, &f)),
            Ok(Decapsulated::Dropped(DropReason::Duplicate))
        );
    }

    #[test]
    fn lcp_echo_passes_out_of_order() {
        let mut c = channel();
        let _ = c.decapsulate(ms(0), &packet(Some(0), None, &LCP_CONF_REQ));
        assert_eq!(
            c.decapsulate(ms(1), &packet(Some(2), None, &LCP_ECHO)),
            Ok(Decapsulated::Frame(&LCP_ECHO[..]))
        );
        // When the gap fills, the echo is not delivered twice.
        assert!(matches!(
            c.decapsulate(ms(2), &packet(Some(1), None, &LCP_CONF_REQ)),
            Ok(Decapsulated::Frame(_))
        ));
        assert_eq!(c.poll_frame(), None);
        assert_eq!(c.expected, Some(3));
    }

    #[test]
    fn acks_piggyback_or_go_alone_after_the_delay() {
        let mut c = channel();
        let mut buf = [0u8; 64];
        let _ = c.decapsulate(ms(0), &packet(Some(7), None, &LCP_CONF_REQ));
        assert_eq!(c.poll_timeout(), Some(ms(100)));
        assert_eq!(c.poll_transmit(&mut buf), None, "not before the delay");
        // Data going out carries the ack.
        let n = c.encapsulate(ms(10), &LCP_CONF_REQ, &mut buf).unwrap();
        let sent = GrePacket::parse(&buf[..n]).unwrap();
        assert_eq!(sent.header.acknowledgment, Some(7));
        assert_eq!(sent.header.call_id, 2);
        assert_eq!(sent.header.sequence, Some(0));
        // Next receive: nothing goes out, so an ack-only packet follows.
        let _ = c.decapsulate(ms(20), &packet(Some(8), None, &LCP_CONF_REQ));
        c.handle_timeout(ms(120));
        let n = c.poll_transmit(&mut buf).unwrap();
        let ack = GrePacket::parse(&buf[..n]).unwrap();
        assert_eq!(
            (ack.header.sequence, ack.header.acknowledgment),
            (None, Some(8))
        );
        assert!(ack.payload.is_empty());
        assert_eq!(c.poll_transmit(&mut buf), None, "sent once");
    }

    #[test]
    fn window_full_is_reported_and_acks_reopen_it() {
        let mut config = GreConfig::new(1, 2);
        config.peer_window = 2;
        config.window_policy = WindowPolicy::Strict;
        let mut c = GreChannel::new(config);
        let mut buf = [0u8; 64];
        assert!(c.encapsulate(ms(0), &LCP_CONF_REQ, &mut buf).is_ok());
        assert!(c.encapsulate(ms(0), &LCP_CONF_REQ, &mut buf).is_ok());
        assert_eq!(
            c.encapsulate(ms(0), &LCP_CONF_REQ, &mut buf),
            Err(GreError::WindowFull)
        );
        assert_eq!(c.stats().window_full, 1);
        assert_eq!(
            c.decapsulate(ms(40), &packet(None, Some(0), &[])),
            Ok(Decapsulated::AckOnly)
        );
        assert_eq!(c.in_flight(), 1);
        assert!(c.encapsulate(ms(40), &LCP_CONF_REQ, &mut buf).is_ok());
        // RTT sample of 40 ms shapes the timeout (within its bounds).
        assert!(c.ack_timeout() >= Duration::from_millis(100));
        assert!(c.ack_timeout() < Duration::from_secs(1));
    }

    /// Advisory: a peer that acknowledges nothing (the Linux kernel on a
    /// one-way flow) is not waited for once the window is full; its next
    /// acknowledgment brings the window back.
    #[test]
    fn a_silent_peer_does_not_stall_an_advisory_window() {
        let mut config = GreConfig::new(1, 2);
        config.peer_window = 3;
        config.window_policy = WindowPolicy::Advisory { at_least: 8 };
        let mut c = GreChannel::new(config);
        let mut buf = [0u8; 64];
        for i in 0..8 {
            assert_eq!(c.window_limit(), Some(8), "packet {i}");
            c.encapsulate(ms(i), &LCP_CONF_REQ, &mut buf).unwrap();
        }
        assert_eq!(c.stats().beyond_window, 5);
        // Full and unheard: sending goes on, the window is released.
        assert_eq!(c.window_limit(), None);
        for i in 8..100 {
            c.encapsulate(ms(i), &LCP_CONF_REQ, &mut buf).unwrap();
        }
        assert_eq!(c.in_flight(), 0, "nothing kept for a silent peer");
        assert_eq!(c.stats().window_released, 1);
        assert_eq!(c.poll_timeout(), None, "no ack timeout to wait for");
        // The peer acknowledges: the window is kept again.
        c.decapsulate(ms(200), &packet(None, Some(99), &[]))
            .unwrap();
        assert_eq!(c.window_limit(), Some(8));
        c.encapsulate(ms(201), &LCP_CONF_REQ, &mut buf).unwrap();
        assert_eq!(c.in_flight(), 1);
        // An acknowledging peer with a full window is held to it.
        for i in 0..7 {
            c.encapsulate(ms(202 + i), &LCP_CONF_REQ, &mut buf).unwrap();
        }
        c.decapsulate(ms(210), &packet(None, Some(100), &[]))
            .unwrap();
        c.encapsulate(ms(211), &LCP_CONF_REQ, &mut buf).unwrap();
        assert_eq!(c.in_flight(), 8);
        assert_eq!(c.window_limit(), Some(8));
        assert_eq!(
            c.encapsulate(ms(212), &LCP_CONF_REQ, &mut buf),
            Err(GreError::WindowFull)
        );
    }

    #[test]
    fn ack_timeout_frees_the_window_and_backs_off() {
        let mut config = GreConfig::new(1, 2);
        config.peer_window = 1;
        config.window_policy = WindowPolicy::Strict;
        let mut c = GreChannel::new(config);
        let mut buf = [0u8; 64];
        c.encapsulate(ms(0), &LCP_CONF_REQ, &mut buf).unwrap();
        assert_eq!(
            c.encapsulate(ms(1), &LCP_CONF_REQ, &mut buf),
            Err(GreError::WindowFull)
        );
        assert_eq!(c.poll_timeout(), Some(ms(1000)));
        c.handle_timeout(ms(999));
        assert_eq!(c.in_flight(), 1, "early timeout is a no-op");
        c.handle_timeout(ms(1000));
        assert_eq!(c.in_flight(), 0);
        assert_eq!(c.ack_timeout(), Duration::from_secs(2));
        assert_eq!(c.poll_timeout(), None, "a fired timer is cleared");
        assert!(c.encapsulate(ms(1000), &LCP_CONF_REQ, &mut buf).is_ok());
    }

    #[test]
    fn buffer_too_small_leaves_state_untouched() {
        let mut c = channel();
        let mut small = [0u8; 10];
        assert_eq!(
            c.encapsulate(ms(0), &LCP_CONF_REQ, &mut small),
            Err(GreError::BufferTooSmall { required: 20 })
        );
        assert_eq!((c.stats().sent, c.next_send, c.in_flight()), (0, 0, 0));
        let mut buf = [0u8; 40];
        buf[16..24].copy_from_slice(&LCP_CONF_REQ);
        assert!(matches!(
            c.encapsulate_in_place(ms(0), &mut buf, 4, 8),
            Err(GreError::BufferTooSmall { .. })
        ));
        let range = c.encapsulate_in_place(ms(0), &mut buf, 16, 8).unwrap();
        let p = GrePacket::parse(&buf[range]).unwrap();
        assert_eq!(p.payload, &LCP_CONF_REQ[..]);
        assert_eq!(p.header.sequence, Some(0));
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut config = GreConfig::new(1, 2);
        config.initial_sequence = u32::MAX;
        let mut c = GreChannel::new(config);
        let mut buf = [0u8; 64];
        let n = c.encapsulate(ms(0), &LCP_CONF_REQ, &mut buf).unwrap();
        assert_eq!(
            GrePacket::parse(&buf[..n]).unwrap().header.sequence,
            Some(u32::MAX)
        );
        let n = c.encapsulate(ms(0), &LCP_CONF_REQ, &mut buf).unwrap();
        assert_eq!(
            GrePacket::parse(&buf[..n]).unwrap().header.sequence,
            Some(0)
        );
        // Acking 0 acknowledges u32::MAX too.
        let _ = c.decapsulate(ms(5), &packet(None, Some(0), &[]));
        assert_eq!(c.in_flight(), 0);
        assert_eq!(c.stats().acked, 2);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_input_never_panics_and_stays_bounded(
            steps in proptest::collection::vec(
                (proptest::collection::vec(proptest::num::u8::ANY, 0..40), 0u64..500, proptest::bool::ANY),
                0..64,
            ),
            reorder in 0usize..5,
        ) {
            let mut config = GreConfig::new(1, 2);
            config.reorder_packets = reorder;
            let mut c = GreChannel::new(config);
            let mut now = Instant::ZERO;
            let mut buf = [0u8; 128];
            for (bytes, step, structured) in steps {
                now += Duration::from_millis(step);
                let datagram = if structured && bytes.len() >= 6 {
                    let seq = u32::from(bytes[0] % 8);
                    let ack = (bytes[1] & 1 == 1).then_some(u32::from(bytes[2] % 8));
                    packet(Some(seq), ack, &bytes[3..])
                } else {
                    bytes
                };
                let _ = c.decapsulate(now, &datagram);
                while c.poll_frame().is_some() {}
                c.handle_timeout(now);
                if let Some(t) = c.poll_timeout() {
                    proptest::prop_assert!(t > now);
                }
                let _ = c.poll_transmit(&mut buf);
                let _ = c.encapsulate(now, &LCP_CONF_REQ, &mut buf);
                proptest::prop_assert!(c.reorder.len() <= reorder);
                proptest::prop_assert!(c.in_flight() <= 64);
            }
        }
    }
}
