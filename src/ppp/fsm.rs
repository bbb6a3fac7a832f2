//! The option-negotiation automaton of RFC 1661 §4, which LCP, IPCP,
//! IPv6CP and CCP each run inside a
//! [`PppSession`](crate::ppp::session::PppSession) with their own option
//! policy: all ten states, the sixteen events and the thirteen actions of the
//! state transition table in §4.1, with the Restart timer and the
//! Max-Terminate, Max-Configure and Max-Failure counters of §4.6. Codes
//! beyond Code-Reject (LCP's Protocol-Reject, Echo, Discard, Identification,
//! Time-Remaining; CCP's Reset-Request/Ack) go to the protocol's policy, so
//! the automaton never knows them.
//!
//! The automaton and the policies are the crate's machinery. What is public
//! is their configuration, [`FsmConfig`] (shared by the four protocols as
//! [`SessionConfig::fsm`](crate::ppp::session::SessionConfig::fsm)), and
//! their counters, [`FsmStats`] (summed by
//! [`PppSession::control_stats`](crate::ppp::session::PppSession::control_stats)).
//! Its queues are bounded; what does not fit is dropped and counted. The
//! [`ppp` example](crate::ppp#example) sets a Restart timer.
//!
//! # Choices where RFC 1661 leaves room
//!
//! - Identifiers (§5.1): every new Configure-Request takes a new Identifier;
//!   a retransmission after TO+ keeps it while the options are unchanged
//!   (as pppd does, and §5.1 allows), and takes a new one if they changed.
//!   Each Terminate-Request takes a new Identifier.
//! - A Configure-Ack, -Nak or -Reject whose Identifier is not that of our
//!   outstanding request, or that answers a request already answered, is
//!   ignored silently (§5.2-§5.4) and counted as stale. A Configure-Ack whose
//!   options differ from those we sent is ignored too (§5.2).
//! - A Terminate-Ack is accepted whatever its Identifier: §5.5 lets it arrive
//!   unelicited.
//! - A packet shorter than its header, whose Length runs past the bytes
//!   present, or whose options the negotiator cannot parse, is dropped
//!   silently and counted as malformed; it is not an event. Octets past
//!   Length are padding (§5).
//! - The optional Restart (`r`) and Passive (`p`) behaviours of the table are
//!   not implemented: Open in Stopped, Closing, Stopping or Opened just moves
//!   as the table says, and TO- in Req-Sent/Ack-Rcvd/Ack-Sent finishes.
//! - Max-Failure (§4.6): after that many Configure-Naks sent without a
//!   Configure-Ack, what the policy would Nak is rejected instead. The count
//!   restarts when we send a Configure-Ack or leave negotiation.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::time::Duration;

use bytes::BufMut;

use crate::time::Instant;
use crate::timer::{timer_reasons, TimerTable};

timer_reasons! {
    /// The FSM's one timer: RFC 1661's Restart timer.
    enum FsmTimer {
        /// Retransmit Configure- or Terminate-Request, or give up (TO+/TO-).
        Restart,
    }
}

use crate::wire::cp::{parse_options, Code, ConfigOption, CpPacket};

/// Octets in Code, Identifier and Length (RFC 1661 §5): `wire::cp`'s.
pub(crate) const HEADER_LEN: usize = crate::wire::cp::HEADER_LEN;

/// Most events queued between two drains; a call produces at most three.
const MAX_QUEUED_EVENTS: usize = 16;

/// The ten states of RFC 1661 §4.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum State {
    /// Lower layer down, no Open (state 0).
    Initial,
    /// Open, waiting for the lower layer (state 1).
    Starting,
    /// Lower layer up, no Open (state 2).
    Closed,
    /// Open, but negotiation gave up or the peer terminated (state 3).
    Stopped,
    /// Terminate-Request sent after Close (state 4).
    Closing,
    /// Terminate-Request sent without Close (state 5).
    Stopping,
    /// Configure-Request sent, no Configure-Ack either way (state 6).
    RequestSent,
    /// Configure-Ack received, not yet sent (state 7).
    AckReceived,
    /// Configure-Ack sent, not yet received (state 8).
    AckSent,
    /// Both Configure-Acks exchanged: the layer is up (state 9).
    Opened,
}

impl State {
    /// The state's number in RFC 1661 §4.1.
    pub const fn number(self) -> u8 {
        match self {
            State::Initial => 0,
            State::Starting => 1,
            State::Closed => 2,
            State::Stopped => 3,
            State::Closing => 4,
            State::Stopping => 5,
            State::RequestSent => 6,
            State::AckReceived => 7,
            State::AckSent => 8,
            State::Opened => 9,
        }
    }

    /// States in which the Restart timer runs (RFC 1661 §4.6).
    const fn has_timer(self) -> bool {
        matches!(
            self,
            State::Closing
                | State::Stopping
                | State::RequestSent
                | State::AckReceived
                | State::AckSent
        )
    }

    /// States with a Configure-Request of ours outstanding.
    const fn is_negotiating(self) -> bool {
        matches!(
            self,
            State::RequestSent | State::AckReceived | State::AckSent
        )
    }
}

/// The counters and timer of RFC 1661 §4.6, and the queue bound, shared by
/// LCP, IPCP, IPv6CP and CCP. The [`ppp` example](crate::ppp#example) shortens the
/// Restart timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsmConfig {
    /// Restart timer period (RFC 1661 §4.6, default 3 s).
    pub restart_timer: Duration,
    /// Terminate-Requests sent without a Terminate-Ack before giving up (default 2).
    pub max_terminate: u32,
    /// Configure-Requests sent without an answer before giving up (default 10).
    pub max_configure: u32,
    /// Configure-Naks sent without a Configure-Ack before rejecting instead (default 5).
    pub max_failure: u32,
    /// The peer's MRU: a Code-Reject is truncated to fit it (RFC 1661 §5.6, default 1500).
    pub peer_mru: u16,
    /// Most packets one protocol queues for sending (default 8).
    pub max_queued_packets: usize,
    /// Most options a peer's Configure-Request may carry (default 32); a
    /// longer one is discarded and counted as malformed, so one packet
    /// cannot make us judge and echo hundreds of options.
    pub max_options: usize,
    /// When the peer's first Configure-Request of a negotiation arrives
    /// and ours has had no answer, send ours again after this long instead
    /// of the full restart timer (default 100 ms; `None`: RFC 1661's timer
    /// only). A peer that drops packets of a protocol it has not started
    /// yet (accel-ppp discards CCP and IPCP packets that arrive before it
    /// sends its own request) then answers the copy 100 ms later instead
    /// of 3 s. A peer that did receive ours answers within the delay on
    /// any LAN, so nothing is sent twice; on a slower path the copy keeps
    /// the Identifier and the second answer is discarded as stale (RFC 1661
    /// §5.1). The copy is a restart-timer retransmission (it counts toward
    /// Max-Configure). `PppSession` uses it for IPCP, CCP and IPv6CP and
    /// turns it off for LCP, which both ends start together when the call
    /// comes up.
    pub early_resend: Option<Duration>,
    /// Hold our Configure-Ack of the peer's request until the peer has
    /// answered one of ours in this negotiation (default false). The Linux
    /// kernel starts its MPPE decompressor when it sees the Configure-Ack
    /// go by, but only once its CCP is marked open; accel-ppp marks it just
    /// after sending its own request, so an Ack that arrives within about a
    /// millisecond leaves the decompressor off and every MPPE frame is then
    /// Protocol-Rejected. Any answer to our request is sent after that
    /// point. `PppSession` turns this on for CCP in the peer role. A peer
    /// that holds its answers the same way is not deadlocked: its
    /// retransmitted request gets our Ack at once.
    pub hold_ack_until_answered: bool,
}

impl Default for FsmConfig {
    fn default() -> Self {
        FsmConfig {
            restart_timer: Duration::from_secs(3),
            max_terminate: 2,
            max_configure: 10,
            max_failure: 5,
            peer_mru: 1500,
            max_queued_packets: 8,
            max_options: 32,
            early_resend: Some(Duration::from_millis(100)),
            hold_ack_until_answered: false,
        }
    }
}

/// A control-protocol packet to send: Code, Identifier and data; Length is
/// implied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Packet {
    /// The Code field.
    pub code: Code,
    /// The Identifier field.
    pub identifier: u8,
    /// Everything after the Length field.
    pub data: Vec<u8>,
}

impl Packet {
    /// Octets [`Packet::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.data.len())
    }

    /// Writes Code, Identifier, Length and data.
    ///
    /// Data beyond what a 16-bit Length can describe is not written.
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        let max = usize::from(u16::MAX) - HEADER_LEN;
        let data = self.data.get(..max).unwrap_or(&self.data);
        buf.put_u8(self.code.0);
        buf.put_u8(self.identifier);
        buf.put_u16(u16::try_from(HEADER_LEN + data.len()).unwrap_or(u16::MAX));
        buf.put_slice(data);
    }
}

/// The answer a [`Negotiator`] builds for a Configure-Request: the Nak and
/// Reject lists, typed options in, TLVs out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Reply {
    nak: Vec<u8>,
    reject: Vec<u8>,
    reject_instead_of_nak: bool,
}

impl Reply {
    /// An empty reply; `reject_instead_of_nak` once Max-Failure is reached
    /// (RFC 1661 §4.6).
    pub fn new(reject_instead_of_nak: bool) -> Self {
        Reply {
            reject_instead_of_nak,
            ..Reply::default()
        }
    }

    /// The peer's `option` needs another value: Nak it with `instead`
    /// (rejected as it came once Max-Failure is reached).
    pub fn nak<'a>(&mut self, option: &impl ConfigOption<'a>, instead: &impl ConfigOption<'a>) {
        if self.reject_instead_of_nak {
            option.emit(&mut self.reject);
        } else {
            instead.emit(&mut self.nak);
        }
    }

    /// Nak an option the peer did not ask for, to suggest it (RFC 1661
    /// §5.3); nothing once Max-Failure is reached.
    pub fn suggest<'a>(&mut self, option: &impl ConfigOption<'a>) {
        if !self.reject_instead_of_nak {
            option.emit(&mut self.nak);
        }
    }

    /// The peer's `option` is unknown or refused: Reject it as it came.
    pub fn reject<'a>(&mut self, option: &impl ConfigOption<'a>) {
        option.emit(&mut self.reject);
    }

    /// Whether Max-Failure turned Naks into Rejects.
    pub fn rejects_instead_of_nak(&self) -> bool {
        self.reject_instead_of_nak
    }

    /// The code of the answer: Configure-Reject when anything is rejected,
    /// else Configure-Nak when anything is Nak'ed, else Configure-Ack.
    pub fn verdict(&self) -> Code {
        if !self.reject.is_empty() {
            Code::CONFIGURE_REJECT
        } else if !self.nak.is_empty() {
            Code::CONFIGURE_NAK
        } else {
            Code::CONFIGURE_ACK
        }
    }

    /// The Nak list (empty when anything is rejected: rejects go first).
    #[cfg(test)]
    pub fn naks(&self) -> &[u8] {
        if self.reject.is_empty() {
            &self.nak
        } else {
            &[]
        }
    }

    /// The Reject list.
    #[cfg(test)]
    pub fn rejects(&self) -> &[u8] {
        &self.reject
    }

    fn into_lists(self) -> (Vec<u8>, Vec<u8>) {
        (self.nak, self.reject)
    }
}

/// What [`Negotiator::handle_extended`] did with a code beyond Code-Reject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Extended {
    /// The protocol does not know the code: the FSM sends a Code-Reject (RUC).
    Unknown,
    /// Handled; nothing to send.
    Handled,
    /// Handled; send this answer (for example an Echo-Reply, RFC 1661 §5.8).
    Reply(Packet),
}

/// The policy of one control protocol: which options we ask for, which of
/// the peer's we accept, and its extra codes.
///
/// The [`Fsm`] parses every option list into the protocol's typed options
/// ([`Negotiator::Opt`], from [`wire::cp`](crate::wire::cp)) before the
/// policy sees it, and drops a malformed list itself; the policy answers a
/// request through a [`Reply`], which writes the Nak and Reject lists.
pub(crate) trait Negotiator {
    /// The protocol's name for logs ("LCP", "IPCP", …); only the `tracing`
    /// feature's logs read it.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    fn name(&self) -> &'static str {
        "CP"
    }

    /// Starts a fresh negotiation of our options (pppd's `resetci`): called
    /// before the first Configure-Request after leaving negotiation.
    fn reset(&mut self) {}

    /// The protocol's options, as [`wire::cp`](crate::wire::cp) parses
    /// them (`LcpConfigOption`, `IpcpConfigOption`, …).
    type Opt<'a>: ConfigOption<'a>;

    /// What the protocol reports beside the automaton's events, through
    /// [`FsmEvent::Report`] (`Infallible` for a protocol with nothing to
    /// report).
    type Report: Copy + core::fmt::Debug + PartialEq + Eq;

    /// The report the last [`Negotiator::handle_extended`] left, if any;
    /// the [`Fsm`] queues it as [`FsmEvent::Report`] at once.
    ///
    /// See the [`Lcp` example](crate::ppp::lcp::Lcp#echo-and-protocol-reject).
    fn poll_report(&mut self) -> Option<Self::Report> {
        None
    }

    /// Appends our Configure-Request options to `out` (each with
    /// [`ConfigOption::emit`]).
    fn build_request(&mut self, out: &mut Vec<u8>);

    /// Judges the peer's Configure-Request: each option it does not accept
    /// goes to [`Reply::nak`] with the value we would take, or to
    /// [`Reply::reject`], in the order they came (RFC 1661 §5.3, §5.4); an
    /// option it wants added goes to [`Reply::suggest`]. Once Max-Failure is
    /// reached the reply turns Naks into Rejects itself. The verdict follows
    /// from the reply ([`Reply::verdict`]).
    fn check_request(&mut self, options: &[Self::Opt<'_>], reply: &mut Reply);

    /// The peer acknowledged our request `options` (already checked to be
    /// exactly what we sent). Returns whether to accept it.
    fn on_ack(&mut self, options: &[Self::Opt<'_>]) -> bool {
        let _ = options;
        true
    }

    /// The peer Nak'd some of our options; adjust the next request. Returns
    /// whether the packet was acceptable (false: ignored).
    fn on_nak(&mut self, options: &[Self::Opt<'_>]) -> bool;

    /// The peer rejected some of our options; stop asking for them. Returns
    /// whether the packet was acceptable (false: ignored).
    fn on_reject(&mut self, options: &[Self::Opt<'_>]) -> bool;

    /// Parses a Configure-Request's option list and judges it (what the
    /// [`Fsm`] does with each one): the reply, or the parse error for a
    /// malformed list.
    fn judge(
        &mut self,
        options: &[u8],
        reject_instead_of_nak: bool,
    ) -> Result<Reply, crate::wire::Error> {
        let options = parse_options::<Self::Opt<'_>>(options)?;
        let mut reply = Reply::new(reject_instead_of_nak);
        self.check_request(&options, &mut reply);
        Ok(reply)
    }

    /// Whether the peer rejecting `code` (beyond 1..=7, which always are)
    /// makes this protocol unusable: RXJ- rather than RXJ+ (RFC 1661 §5.6).
    fn code_is_required(&self, code: Code) -> bool {
        let _ = code;
        false
    }

    /// Handles a packet whose code is beyond Code-Reject (8 and up).
    ///
    /// This is the RXR event of RFC 1661 §4.1: a [`Extended::Reply`] is sent
    /// only in the Opened state (ser) and dropped in any other.
    fn handle_extended(
        &mut self,
        state: State,
        code: Code,
        identifier: u8,
        data: &[u8],
    ) -> Extended {
        let _ = (state, code, identifier, data);
        Extended::Unknown
    }
}

/// Why the layer finished (This-Layer-Finished, RFC 1661 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum FinishReason {
    /// Close before the lower layer came up.
    Closed,
    /// Our Terminate-Request was acknowledged.
    TerminateAcked,
    /// Max-Configure Configure-Requests went unanswered (RFC 1661 §4.6).
    MaxConfigureExceeded,
    /// Max-Terminate Terminate-Requests went unanswered (RFC 1661 §4.6).
    MaxTerminateExceeded,
    /// The peer terminated the link and the wait after its request ended.
    PeerTerminated,
    /// The peer Code-Rejected a code this protocol needs (RXJ-).
    CodeRejected {
        /// The rejected code.
        code: Code,
    },
    /// The peer Protocol-Rejected this protocol (RXJ-, RFC 1661 §5.7).
    ProtocolRejected,
    /// The peer kept asking for what we Nak and Reject (twice Max-Failure
    /// requests without an Ack): we closed the layer rather than loop.
    NegotiationFailed,
}

/// The layer hooks of RFC 1661 §4.4, reported to the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum FsmEvent<R = core::convert::Infallible> {
    /// This-Layer-Up (tlu): the layer is open.
    Up,
    /// This-Layer-Down (tld): the layer left Opened.
    Down,
    /// This-Layer-Started (tls): the lower layer is wanted up.
    Started,
    /// This-Layer-Finished (tlf): the lower layer is no longer needed.
    Finished {
        /// Why.
        reason: FinishReason,
    },
    /// What the protocol itself reports beside the automaton
    /// ([`Negotiator::Report`]: LCP's Protocol-Reject and Echo-Reply,
    /// CCP's Reset-Request), in the order the packets came.
    Report(R),
}

/// Counters of what the automaton dropped or ignored. They saturate; 32
/// bits each, since every session carries four of these for its whole
/// life (an idle tunnel's footprint, `tests/footprint.rs`). A session sums
/// its four in [`PppSession::control_stats`](crate::ppp::session::PppSession::control_stats),
/// whose example counts a stale Configure-Ack.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsmStats {
    /// Packets dropped as malformed (bad header, bad option list).
    pub malformed: u32,
    /// Configure replies with a stale Identifier or options not matching ours.
    pub stale: u32,
    /// Packets received in Initial or Starting, where none may arrive.
    pub unexpected: u32,
    /// Output packets dropped because the transmit queue was full.
    pub transmit_dropped: u32,
    /// Events dropped because the event queue was full.
    pub events_dropped: u32,
    /// Code-Rejects sent (RUC).
    pub code_rejects_sent: u32,
    /// Restart timers cut short: on the peer's first request
    /// ([`FsmConfig::early_resend`]) or by the session, for a peer that held
    /// its answer back until something else happened (accel-ppp answers IPCP
    /// only once its CCP is up).
    pub hurried: u32,
}

impl core::ops::AddAssign for FsmStats {
    fn add_assign(&mut self, other: Self) {
        self.malformed = self.malformed.saturating_add(other.malformed);
        self.stale = self.stale.saturating_add(other.stale);
        self.unexpected = self.unexpected.saturating_add(other.unexpected);
        self.transmit_dropped = self.transmit_dropped.saturating_add(other.transmit_dropped);
        self.events_dropped = self.events_dropped.saturating_add(other.events_dropped);
        self.code_rejects_sent = self
            .code_rejects_sent
            .saturating_add(other.code_rejects_sent);
        self.hurried = self.hurried.saturating_add(other.hurried);
    }
}

/// The sixteen events of RFC 1661 §4.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Up,
    Down,
    Open,
    Close,
    TimeoutPositive,
    TimeoutNegative,
    GoodConfigureRequest,
    BadConfigureRequest,
    ConfigureAck,
    ConfigureNak,
    TerminateRequest,
    TerminateAck,
    UnknownCode,
    PermittedReject,
    CatastrophicReject,
    EchoOrDiscard,
}

/// What a received packet brings to the actions: its Identifier and the
/// answer sca/scn/scj/ser send.
#[derive(Debug, Clone, Default)]
struct Received {
    identifier: u8,
    reply: Option<Packet>,
}

/// Which counter irc loads (RFC 1661 §4.4, Initialize-Restart-Count).
#[derive(Clone, Copy)]
enum Restart {
    Configure,
    Terminate,
}

/// The RFC 1661 §4 automaton for one control protocol.
///
/// Feed it with [`Fsm::up`]/[`Fsm::down`]/[`Fsm::open`]/[`Fsm::close`],
/// received packets ([`Fsm::handle_packet`]) and [`Fsm::handle_timeout`];
/// after each call drain [`Fsm::poll_transmit`] and [`Fsm::poll_event`], then
/// re-read [`Fsm::poll_timeout`]. Time is always passed in.
#[derive(Debug)]
pub(crate) struct Fsm<N: Negotiator> {
    negotiator: N,
    config: FsmConfig,
    state: State,
    /// The Restart timer (RFC 1661 §4.6).
    timers: TimerTable<FsmTimer, { FsmTimer::COUNT }>,
    restart_count: u32,
    failure_count: u32,
    /// Configure-Rejects sent since the last Configure-Ack.
    reject_count: u32,
    /// Overrides the reason the next This-Layer-Finished reports.
    close_reason: Option<FinishReason>,
    next_identifier: u8,
    request_identifier: u8,
    request: Vec<u8>,
    answered: bool,
    /// Identifiers of the peer's Configure-Requests answered since the last
    /// negotiation began, and the last one we acknowledged (see
    /// `duplicate_request`).
    seen_requests: [u64; 4],
    /// The Identifier of the peer's latest Configure-Request.
    latest_request: Option<u8>,
    /// The peer answered one of our requests in this negotiation.
    peer_answered: bool,
    /// Our Configure-Ack of `last_acked` is held (see
    /// `FsmConfig::hold_ack_until_answered`).
    ack_held: bool,
    last_acked: Option<(u8, Vec<u8>)>,
    reject_reason: FinishReason,
    peer_terminated: bool,
    /// The negotiator was reset for a renegotiation the next scr starts.
    negotiator_fresh: bool,
    /// Configure-Naks and -Rejects of our requests in this negotiation.
    refusals_received: u32,
    transmit: VecDeque<Packet>,
    events: VecDeque<FsmEvent<N::Report>>,
    stats: FsmStats,
}

impl<N: Negotiator> Fsm<N> {
    /// A machine in the Initial state.
    pub fn new(negotiator: N, config: FsmConfig) -> Self {
        Fsm {
            negotiator,
            config,
            state: State::Initial,
            timers: TimerTable::default(),
            restart_count: 0,
            failure_count: 0,
            reject_count: 0,
            close_reason: None,
            next_identifier: 1,
            request_identifier: 0,
            request: Vec::new(),
            answered: true,
            seen_requests: [0; 4],
            latest_request: None,
            peer_answered: false,
            ack_held: false,
            last_acked: None,
            reject_reason: FinishReason::ProtocolRejected,
            peer_terminated: false,
            negotiator_fresh: false,
            refusals_received: 0,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            stats: FsmStats::default(),
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The configuration.
    pub fn config(&self) -> &FsmConfig {
        &self.config
    }

    /// Sets the peer's MRU once LCP learned it (bounds Code-Rejects).
    pub fn set_peer_mru(&mut self, mru: u16) {
        self.config.peer_mru = mru;
    }

    /// The option policy.
    pub fn negotiator(&self) -> &N {
        &self.negotiator
    }

    /// The option policy, mutable (for example to change wanted options).
    pub fn negotiator_mut(&mut self) -> &mut N {
        &mut self.negotiator
    }

    /// Counters of dropped and ignored input.
    pub fn stats(&self) -> &FsmStats {
        &self.stats
    }

    /// The next packet to send, oldest first.
    pub fn poll_transmit(&mut self) -> Option<Packet> {
        crate::queue::pop_or_release(&mut self.transmit, self.state == State::Opened)
    }

    /// The next layer event, oldest first.
    pub fn poll_event(&mut self) -> Option<FsmEvent<N::Report>> {
        crate::queue::pop_or_release(&mut self.events, self.state == State::Opened)
    }

    /// When to call [`Fsm::handle_timeout`], if a timer runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.earliest()
    }

    /// The Restart timer fired: TO+ while the Restart counter is above zero,
    /// else TO-. Early or repeated calls do nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        if !self.timers.fire(FsmTimer::Restart, now) {
            return;
        }
        let event = if self.restart_count > 0 {
            Event::TimeoutPositive
        } else {
            Event::TimeoutNegative
        };
        self.dispatch(now, event, Received::default());
    }

    /// The lower layer is up (Up event).
    pub fn up(&mut self, now: Instant) {
        self.seen_requests = [0; 4];
        self.latest_request = None;
        self.peer_answered = false;
        self.last_acked = None;
        self.dispatch(now, Event::Up, Received::default());
    }

    /// The lower layer is down (Down event).
    pub fn down(&mut self, now: Instant) {
        self.dispatch(now, Event::Down, Received::default());
    }

    /// The administrator wants the layer open (Open event).
    pub fn open(&mut self, now: Instant) {
        self.dispatch(now, Event::Open, Received::default());
    }

    /// The administrator wants the layer closed (Close event).
    pub fn close(&mut self, now: Instant) {
        self.dispatch(now, Event::Close, Received::default());
    }

    /// Cuts the restart timer short: if our Configure-Request has had no
    /// answer yet (in Req-Sent or Ack-Sent), it is sent again (same
    /// Identifier) `within` from `now` unless the timer fires sooner;
    /// returns whether it did. For a peer that held back its answer until
    /// something else happened: accel-ppp answers IPCP with a
    /// Terminate-Ack until its CCP is up, so the session hurries IPCP when
    /// CCP opens.
    pub fn hurry(&mut self, now: Instant, within: Duration) -> bool {
        if !matches!(self.state, State::RequestSent | State::AckSent) || self.answered {
            return false;
        }
        let soon = now + within;
        if self.timers.get(FsmTimer::Restart).is_some_and(|d| d > soon) {
            self.timers.set(FsmTimer::Restart, soon);
        }
        self.stats.hurried = self.stats.hurried.saturating_add(1);
        true
    }

    /// Starts a new negotiation of an Opened layer (This-Layer-Down, then a
    /// fresh Configure-Request: RFC 1661 §4.1's Opened + Down, Up); does
    /// nothing in any other state. The session uses it when the peer
    /// Protocol-Rejects MPPE frames although CCP is Opened.
    pub fn renegotiate(&mut self, now: Instant) {
        if self.state == State::Opened {
            self.dispatch(now, Event::Down, Received::default());
            self.up(now);
        }
    }

    /// LCP received a Protocol-Reject for this protocol (RXJ-, RFC 1661 §5.7).
    pub fn protocol_rejected(&mut self, now: Instant) {
        self.reject_reason = FinishReason::ProtocolRejected;
        self.dispatch(now, Event::CatastrophicReject, Received::default());
    }

    /// Queues a packet of an extended code (for example an LCP
    /// Echo-Request); returns false if the transmit queue was full.
    pub fn send_extended(&mut self, packet: Packet) -> bool {
        self.push(packet)
    }

    /// A fresh Identifier for a packet the owner originates.
    pub fn new_identifier(&mut self) -> u8 {
        let id = self.next_identifier;
        self.next_identifier = id.wrapping_add(1);
        id
    }

    /// Handles a packet as it arrived: Code, Identifier, Length, data and
    /// perhaps padding. A malformed header drops the packet (counted).
    pub fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        match CpPacket::parse(packet) {
            Ok(p) => self.handle(now, p.code, p.identifier, p.data),
            Err(_) => self.stats.malformed = self.stats.malformed.saturating_add(1),
        }
    }

    /// Handles a packet already split into Code, Identifier and data.
    pub fn handle(&mut self, now: Instant, code: Code, identifier: u8, data: &[u8]) {
        if matches!(self.state, State::Initial | State::Starting) {
            // RFC 1661 §4.1: no packet can arrive while the lower layer is down.
            self.stats.unexpected = self.stats.unexpected.saturating_add(1);
            return;
        }
        match code {
            Code::CONFIGURE_REQUEST => self.receive_configure_request(now, identifier, data),
            Code::CONFIGURE_ACK => self.receive_configure_ack(now, identifier, data),
            Code::CONFIGURE_NAK | Code::CONFIGURE_REJECT => {
                self.receive_configure_nak(now, code, identifier, data)
            }
            Code::TERMINATE_REQUEST => {
                self.dispatch(now, Event::TerminateRequest, received(identifier))
            }
            Code::TERMINATE_ACK => self.dispatch(now, Event::TerminateAck, received(identifier)),
            Code::CODE_REJECT => self.receive_code_reject(now, identifier, data),
            _ => self.receive_extended(now, code, identifier, data),
        }
    }

    /// A Configure-Request arriving in Opened whose Identifier was answered
    /// in this negotiation already is a duplicate or a late retransmission
    /// (a duplicating or reordering link), not the peer renegotiating: a
    /// renegotiating peer uses a new Identifier (RFC 1661 §5.1). The last
    /// one we acknowledged gets its Configure-Ack again; others are dropped.
    /// While negotiating, a request older than the peer's latest is dropped.
    fn duplicate_request(&mut self, identifier: u8, options: &[u8]) -> bool {
        let (word, bit) = (usize::from(identifier / 64), 1u64 << (identifier % 64));
        if self.state != State::Opened {
            let latest = self.latest_request.replace(identifier);
            if self.seen_requests[word] & bit != 0 && latest.is_some_and(|l| l != identifier) {
                // An older request of this negotiation, delayed or
                // duplicated: the peer only ever resends its latest one
                // (RFC 1661 §5.1). Answering it would take us back to
                // Req-Sent after we acknowledged the newer one, while the
                // peer, Opened, never asks again.
                self.latest_request = latest;
                self.stats.stale = self.stats.stale.saturating_add(1);
                return true;
            }
            self.seen_requests[word] |= bit;
            return false;
        }
        if self.seen_requests[word] & bit == 0 {
            // A new request: the peer renegotiates; start a new round.
            self.seen_requests = [0; 4];
            self.seen_requests[word] |= bit;
            self.latest_request = Some(identifier);
            return false;
        }
        self.stats.stale = self.stats.stale.saturating_add(1);
        if let Some((id, acked)) = &self.last_acked {
            if *id == identifier && acked.as_slice() == options {
                let ack = Packet {
                    code: Code::CONFIGURE_ACK,
                    identifier,
                    data: options.to_vec(),
                };
                self.push(ack);
            }
        }
        true
    }

    fn receive_configure_request(&mut self, now: Instant, identifier: u8, options: &[u8]) {
        let first = self.seen_requests == [0; 4]
            && self.state == State::RequestSent
            && self.config.early_resend.is_some();
        if self.duplicate_request(identifier, options) {
            return;
        }
        if self.receive_judged_request(now, identifier, options) && first {
            // The peer has started this protocol now; what we sent before
            // may have been dropped (see `FsmConfig::early_resend`).
            if let Some(within) = self.config.early_resend {
                self.hurry(now, within);
            }
        }
    }

    /// Judges and answers a Configure-Request; false if it was discarded.
    fn receive_judged_request(&mut self, now: Instant, identifier: u8, options: &[u8]) -> bool {
        if crate::wire::cp::Options::new("Configure-Request", options).count()
            > self.config.max_options
        {
            self.stats.malformed = self.stats.malformed.saturating_add(1);
            return false;
        }
        if matches!(self.state, State::Closed | State::Closing | State::Stopping) {
            // RFC 1661 §4.1: sta or nothing; the options are not judged.
            self.dispatch(now, Event::GoodConfigureRequest, received(identifier));
            return false;
        }
        let refused = self.failure_count.saturating_add(self.reject_count);
        if self.state.is_negotiating() && refused >= self.config.max_failure.saturating_mul(2) {
            // The peer keeps asking for what we refuse: RFC 1661 sets no
            // bound here, so end the layer instead of looping forever.
            crate::trace::event!(
                warn,
                protocol = self.negotiator.name(),
                refused,
                "the peer keeps asking for what we refuse: closing"
            );
            self.close_reason = Some(FinishReason::NegotiationFailed);
            self.close(now);
            return false;
        }
        let renegotiating = self.state == State::Opened;
        if renegotiating {
            // RFC 1661 §4.1 Opened + RCR: tld, then a fresh negotiation; the
            // policy starts over before it judges (and records) the request,
            // as pppd does, so what it acknowledges is what the link uses.
            self.negotiator.reset();
            self.negotiator_fresh = true;
            self.peer_answered = false;
        }
        let reject_instead_of_nak = self.failure_count >= self.config.max_failure;
        let reply = match self.negotiator.judge(options, reject_instead_of_nak) {
            Ok(reply) => reply,
            Err(_) => {
                self.stats.malformed = self.stats.malformed.saturating_add(1);
                if renegotiating {
                    // The policy already started over: the layer cannot stay
                    // Opened on what it forgot, so renegotiate (tld, scr).
                    self.dispatch(now, Event::ConfigureNak, received(identifier));
                }
                return false;
            }
        };
        let code = reply.verdict();
        let (nak, reject) = reply.into_lists();
        let (event, data) = if code == Code::CONFIGURE_ACK {
            self.last_acked = Some((identifier, options.to_vec()));
            (Event::GoodConfigureRequest, options.to_vec())
        } else if code == Code::CONFIGURE_NAK {
            crate::trace::event!(
                debug,
                protocol = self.negotiator.name(),
                "Configure-Nak: the peer asked for values we do not accept; the Nak carries ours"
            );
            (Event::BadConfigureRequest, nak)
        } else {
            crate::trace::event!(
                debug,
                protocol = self.negotiator.name(),
                max_failure_reached = reject_instead_of_nak,
                "Configure-Reject: options we do not know or do not allow (or would Nak once more after Max-Failure)"
            );
            (Event::BadConfigureRequest, reject)
        };
        let reply = Packet {
            code,
            identifier,
            data,
        };
        self.dispatch(
            now,
            event,
            Received {
                identifier,
                reply: Some(reply),
            },
        );
        true
    }

    /// Whether a Configure-Ack/Nak/Reject answers our outstanding request.
    fn answers_our_request(&mut self, identifier: u8) -> bool {
        // RFC 1661 §5.2-§5.4: replies not matching the request are discarded.
        let stale = self.answered || identifier != self.request_identifier;
        if stale {
            self.stats.stale = self.stats.stale.saturating_add(1);
        }
        !stale
    }

    fn receive_configure_ack(&mut self, now: Instant, identifier: u8, options: &[u8]) {
        if self.state.is_negotiating() || self.state == State::Opened {
            if !self.answers_our_request(identifier) {
                return;
            }
            // RFC 1661 §5.2: the Ack must carry exactly the options we sent.
            if options != self.request.as_slice() {
                self.stats.stale = self.stats.stale.saturating_add(1);
                return;
            }
            let accepted = parse_options(options).is_ok_and(|o| self.negotiator.on_ack(&o));
            if !accepted {
                self.stats.malformed = self.stats.malformed.saturating_add(1);
                return;
            }
            self.answered = true;
            self.peer_answered_us();
        }
        self.dispatch(now, Event::ConfigureAck, received(identifier));
    }

    fn receive_configure_nak(&mut self, now: Instant, code: Code, identifier: u8, options: &[u8]) {
        if self.state.is_negotiating() || self.state == State::Opened {
            if !self.answers_our_request(identifier) {
                return;
            }
            self.refusals_received = self.refusals_received.saturating_add(1);
            if self.refusals_received > self.config.max_configure {
                // Each Nak or Reject draws a new request at once (RCN: irc,
                // scr), so a peer that never Acks loops without any timer:
                // RFC 1661 sets no bound here, Max-Configure serves as one.
                crate::trace::event!(
                    warn,
                    protocol = self.negotiator.name(),
                    "the peer Naks or Rejects every request: closing"
                );
                self.answered = true;
                self.close_reason = Some(FinishReason::NegotiationFailed);
                self.close(now);
                return;
            }
            let accepted = parse_options(options).is_ok_and(|o| {
                if code == Code::CONFIGURE_NAK {
                    self.negotiator.on_nak(&o)
                } else {
                    self.negotiator.on_reject(&o)
                }
            });
            if !accepted {
                self.stats.malformed = self.stats.malformed.saturating_add(1);
                return;
            }
            self.answered = true;
            self.peer_answered_us();
        }
        self.dispatch(now, Event::ConfigureNak, received(identifier));
    }

    /// The peer answered our request: a held Configure-Ack goes out now,
    /// ahead of whatever the answer makes us send.
    fn peer_answered_us(&mut self) {
        self.peer_answered = true;
        self.release_held_ack();
    }

    fn release_held_ack(&mut self) {
        if core::mem::take(&mut self.ack_held) {
            if let Some((identifier, options)) = &self.last_acked {
                let ack = Packet {
                    code: Code::CONFIGURE_ACK,
                    identifier: *identifier,
                    data: options.clone(),
                };
                self.push(ack);
            }
        }
    }

    fn receive_code_reject(&mut self, now: Instant, identifier: u8, data: &[u8]) {
        let Some(code) = data.first().copied().map(Code) else {
            self.stats.malformed = self.stats.malformed.saturating_add(1);
            return;
        };
        // RFC 1661 §5.6: rejecting a code the automaton needs is catastrophic.
        let fatal = (Code::CONFIGURE_REQUEST.0..=Code::CODE_REJECT.0).contains(&code.0)
            || self.negotiator.code_is_required(code);
        let event = if fatal {
            self.reject_reason = FinishReason::CodeRejected { code };
            Event::CatastrophicReject
        } else {
            Event::PermittedReject
        };
        self.dispatch(now, event, received(identifier));
    }

    fn receive_extended(&mut self, now: Instant, code: Code, identifier: u8, data: &[u8]) {
        let (event, reply) = match self
            .negotiator
            .handle_extended(self.state, code, identifier, data)
        {
            Extended::Unknown => (
                Event::UnknownCode,
                Some(self.code_reject(code, identifier, data)),
            ),
            Extended::Handled => (Event::EchoOrDiscard, None),
            Extended::Reply(packet) => (Event::EchoOrDiscard, Some(packet)),
        };
        while let Some(report) = self.negotiator.poll_report() {
            self.emit(FsmEvent::Report(report));
        }
        self.dispatch(now, event, Received { identifier, reply });
    }

    /// A Code-Reject carrying the rejected packet, cut to the peer's MRU
    /// (RFC 1661 §5.6).
    fn code_reject(&mut self, code: Code, identifier: u8, data: &[u8]) -> Packet {
        let room = usize::from(self.config.peer_mru).saturating_sub(HEADER_LEN);
        let length = HEADER_LEN.saturating_add(data.len());
        let mut rejected = Vec::with_capacity(length.min(room));
        rejected.push(code.0);
        rejected.push(identifier);
        rejected.extend_from_slice(&u16::try_from(length).unwrap_or(u16::MAX).to_be_bytes());
        rejected.extend_from_slice(data);
        rejected.truncate(room);
        Packet {
            code: Code::CODE_REJECT,
            identifier: self.new_identifier(),
            data: rejected,
        }
    }

    /// The state transition table of RFC 1661 §4.1, row by row.
    fn dispatch(&mut self, now: Instant, event: Event, rx: Received) {
        use Event as E;
        use State as S;
        let state = self.state;
        match (event, state) {
            (E::Up, S::Initial) => self.goto(S::Closed),
            (E::Up, S::Starting) => {
                self.irc(Restart::Configure);
                self.scr(now, false);
                self.goto(S::RequestSent)
            }

            (E::Down, S::Closed | S::Closing) => self.goto(S::Initial),
            (E::Down, S::Stopped) => {
                self.emit(FsmEvent::Started);
                self.goto(S::Starting)
            }
            (E::Down, S::Stopping | S::RequestSent | S::AckReceived | S::AckSent) => {
                self.goto(S::Starting)
            }
            (E::Down, S::Opened) => {
                self.emit(FsmEvent::Down);
                self.goto(S::Starting)
            }

            (E::Open, S::Initial) => {
                self.emit(FsmEvent::Started);
                self.goto(S::Starting)
            }
            (E::Open, S::Closed) => {
                self.irc(Restart::Configure);
                self.scr(now, false);
                self.goto(S::RequestSent)
            }
            (E::Open, S::Closing) => self.goto(S::Stopping),

            (E::Close, S::Starting) => self.tlf(FinishReason::Closed, S::Initial),
            (E::Close, S::Stopped) => self.goto(S::Closed),
            (E::Close, S::Stopping) => self.goto(S::Closing),
            (E::Close, S::RequestSent | S::AckReceived | S::AckSent) => {
                self.irc(Restart::Terminate);
                self.str(now);
                self.goto(S::Closing)
            }
            (E::Close, S::Opened) => {
                self.emit(FsmEvent::Down);
                self.irc(Restart::Terminate);
                self.str(now);
                self.goto(S::Closing)
            }

            (E::TimeoutPositive, S::Closing | S::Stopping) => self.str(now),
            (E::TimeoutPositive, S::RequestSent | S::AckReceived) => {
                self.scr(now, true);
                self.goto(S::RequestSent)
            }
            (E::TimeoutPositive, S::AckSent) => self.scr(now, true),

            (E::TimeoutNegative, S::Closing) => {
                let reason = self.terminate_timeout_reason();
                self.tlf(reason, S::Closed)
            }
            (E::TimeoutNegative, S::Stopping) => {
                let reason = self.terminate_timeout_reason();
                self.tlf(reason, S::Stopped)
            }
            (E::TimeoutNegative, S::RequestSent | S::AckReceived | S::AckSent) => {
                self.tlf(FinishReason::MaxConfigureExceeded, S::Stopped)
            }

            (E::GoodConfigureRequest | E::BadConfigureRequest, S::Closed) => self.sta(rx),
            (E::GoodConfigureRequest, S::Stopped) => {
                self.irc(Restart::Configure);
                self.scr(now, false);
                self.sca(rx);
                self.goto(S::AckSent)
            }
            (E::GoodConfigureRequest, S::RequestSent | S::AckSent) => {
                self.sca(rx);
                self.goto(S::AckSent)
            }
            (E::GoodConfigureRequest, S::AckReceived) => {
                self.sca(rx);
                self.emit(FsmEvent::Up);
                self.goto(S::Opened)
            }
            (E::GoodConfigureRequest, S::Opened) => {
                self.emit(FsmEvent::Down);
                self.scr(now, false);
                self.sca(rx);
                self.goto(S::AckSent)
            }
            (E::BadConfigureRequest, S::Stopped) => {
                self.irc(Restart::Configure);
                self.scr(now, false);
                self.scn(rx);
                self.goto(S::RequestSent)
            }
            (E::BadConfigureRequest, S::RequestSent | S::AckSent) => {
                self.scn(rx);
                self.goto(S::RequestSent)
            }
            (E::BadConfigureRequest, S::AckReceived) => self.scn(rx),
            (E::BadConfigureRequest, S::Opened) => {
                self.emit(FsmEvent::Down);
                self.scr(now, false);
                self.scn(rx);
                self.goto(S::RequestSent)
            }

            (E::ConfigureAck | E::ConfigureNak, S::Closed | S::Stopped) => self.sta(rx),
            (E::ConfigureAck, S::RequestSent) => {
                self.irc(Restart::Configure);
                self.goto(S::AckReceived)
            }
            (E::ConfigureAck | E::ConfigureNak, S::AckReceived) => {
                // RFC 1661 §4.1 "x": a crossed connection; negotiate again.
                self.scr(now, false);
                self.goto(S::RequestSent)
            }
            (E::ConfigureAck, S::AckSent) => {
                self.irc(Restart::Configure);
                self.emit(FsmEvent::Up);
                self.goto(S::Opened)
            }
            (E::ConfigureAck | E::ConfigureNak, S::Opened) => {
                self.emit(FsmEvent::Down);
                self.scr(now, false);
                self.goto(S::RequestSent)
            }
            (E::ConfigureNak, S::RequestSent | S::AckSent) => {
                self.irc(Restart::Configure);
                self.scr(now, false)
            }

            (E::TerminateRequest, S::Closed | S::Stopped | S::Closing | S::Stopping) => {
                self.sta(rx)
            }
            (E::TerminateRequest, S::RequestSent | S::AckReceived | S::AckSent) => {
                self.sta(rx);
                self.goto(S::RequestSent)
            }
            (E::TerminateRequest, S::Opened) => {
                self.emit(FsmEvent::Down);
                self.zrc(now);
                self.sta(rx);
                self.goto(S::Stopping)
            }

            (E::TerminateAck, S::Closing) => self.tlf(FinishReason::TerminateAcked, S::Closed),
            (E::TerminateAck, S::Stopping) => self.tlf(FinishReason::TerminateAcked, S::Stopped),
            (E::TerminateAck, S::AckReceived) => self.goto(S::RequestSent),
            (E::TerminateAck, S::Opened) => {
                self.emit(FsmEvent::Down);
                self.scr(now, false);
                self.goto(S::RequestSent)
            }

            (E::UnknownCode, s) if s.number() >= 2 => self.send_reply(rx),

            (E::PermittedReject, S::AckReceived) => self.goto(S::RequestSent),

            (E::CatastrophicReject, S::Closed | S::Closing) => {
                let reason = self.reject_reason;
                self.tlf(reason, S::Closed)
            }
            (E::CatastrophicReject, S::Stopped | S::Stopping) => {
                let reason = self.reject_reason;
                self.tlf(reason, S::Stopped)
            }
            (E::CatastrophicReject, S::RequestSent | S::AckReceived | S::AckSent) => {
                let reason = self.reject_reason;
                self.tlf(reason, S::Stopped)
            }
            (E::CatastrophicReject, S::Opened) => {
                self.emit(FsmEvent::Down);
                self.irc(Restart::Terminate);
                self.str(now);
                self.goto(S::Stopping)
            }

            (E::EchoOrDiscard, S::Opened) => self.send_reply(rx),

            // RFC 1661 §4.1: every other cell keeps the state and does nothing.
            _ => {}
        }
    }

    /// Whether the peer's Terminate-Request is taking the layer down (it
    /// was acknowledged and the layer waits out one Restart period).
    pub(crate) fn terminated_by_peer(&self) -> bool {
        self.peer_terminated && matches!(self.state, State::Stopping | State::Closing)
    }

    /// Why TO- ended Closing/Stopping: our Terminate-Requests went
    /// unanswered, or (after zrc) the peer's own termination completed.
    fn terminate_timeout_reason(&self) -> FinishReason {
        if self.peer_terminated {
            FinishReason::PeerTerminated
        } else {
            FinishReason::MaxTerminateExceeded
        }
    }

    fn goto(&mut self, state: State) {
        self.state = state;
        if !state.has_timer() {
            self.timers.stop(FsmTimer::Restart);
        }
        if !state.is_negotiating() {
            // RFC 1661 §4.6: Max-Failure counts Naks within one negotiation.
            self.failure_count = 0;
            self.reject_count = 0;
            self.refusals_received = 0;
            // Only a negotiation compares Acks with our request or
            // retransmits it; an opened link gives its buffer back.
            self.request = Vec::new();
            if state == State::Opened {
                self.release_held_ack();
            }
            self.ack_held = false;
        }
    }

    fn emit(&mut self, event: FsmEvent<N::Report>) {
        if self.events.len() >= MAX_QUEUED_EVENTS {
            self.stats.events_dropped = self.stats.events_dropped.saturating_add(1);
        } else {
            self.events.push_back(event);
        }
    }

    fn push(&mut self, packet: Packet) -> bool {
        if self.transmit.len() >= self.config.max_queued_packets {
            self.stats.transmit_dropped = self.stats.transmit_dropped.saturating_add(1);
            false
        } else {
            self.transmit.push_back(packet);
            true
        }
    }

    fn start_timer(&mut self, now: Instant) {
        self.timers
            .set(FsmTimer::Restart, now + self.config.restart_timer);
    }

    /// tlf: This-Layer-Finished, then the new state.
    fn tlf(&mut self, reason: FinishReason, state: State) {
        let reason = self.close_reason.take().unwrap_or(reason);
        self.emit(FsmEvent::Finished { reason });
        self.goto(state);
    }

    /// irc: Initialize-Restart-Count (RFC 1661 §4.4).
    fn irc(&mut self, restart: Restart) {
        self.peer_terminated = false;
        self.restart_count = match restart {
            Restart::Configure => self.config.max_configure,
            Restart::Terminate => self.config.max_terminate,
        };
    }

    /// zrc: Zero-Restart-Count, and wait one Restart period (RFC 1661 §4.4).
    fn zrc(&mut self, now: Instant) {
        self.restart_count = 0;
        self.peer_terminated = true;
        self.start_timer(now);
    }

    /// scr: Send-Configure-Request; `retransmit` after TO+ keeps the
    /// Identifier while the options are unchanged (RFC 1661 §5.1).
    fn scr(&mut self, now: Instant, retransmit: bool) {
        let fresh = core::mem::take(&mut self.negotiator_fresh);
        if !self.state.is_negotiating() && !fresh {
            self.negotiator.reset();
        }
        let mut options = Vec::new();
        self.negotiator.build_request(&mut options);
        if !retransmit || options != self.request {
            self.request_identifier = self.new_identifier();
        }
        self.request = options;
        self.answered = false;
        self.restart_count = self.restart_count.saturating_sub(1);
        self.start_timer(now);
        let packet = Packet {
            code: Code::CONFIGURE_REQUEST,
            identifier: self.request_identifier,
            data: self.request.clone(),
        };
        self.push(packet);
    }

    /// sca: Send-Configure-Ack (the reply prepared from the request).
    fn sca(&mut self, rx: Received) {
        self.failure_count = 0;
        self.reject_count = 0;
        if self.config.hold_ack_until_answered && !self.peer_answered {
            // Held once (`last_acked` has it); the peer's retransmission
            // is acknowledged at once.
            if !self.ack_held {
                self.ack_held = true;
                return;
            }
            self.ack_held = false;
        }
        self.send_reply(rx);
    }

    /// scn: Send-Configure-Nak or -Reject (the reply prepared from the request).
    fn scn(&mut self, rx: Received) {
        match rx.reply.as_ref().map(|p| p.code) {
            Some(Code::CONFIGURE_NAK) => self.failure_count = self.failure_count.saturating_add(1),
            _ => self.reject_count = self.reject_count.saturating_add(1),
        }
        self.send_reply(rx);
    }

    /// str: Send-Terminate-Request with a new Identifier.
    fn str(&mut self, now: Instant) {
        self.restart_count = self.restart_count.saturating_sub(1);
        self.start_timer(now);
        let identifier = self.new_identifier();
        self.push(Packet {
            code: Code::TERMINATE_REQUEST,
            identifier,
            data: Vec::new(),
        });
    }

    /// sta: Send-Terminate-Ack echoing the received Identifier.
    fn sta(&mut self, rx: Received) {
        self.push(Packet {
            code: Code::TERMINATE_ACK,
            identifier: rx.identifier,
            data: Vec::new(),
        });
    }

    /// sca, scn, scj, ser: send the reply the received packet prepared.
    fn send_reply(&mut self, rx: Received) {
        if let Some(packet) = rx.reply {
            if packet.code == Code::CODE_REJECT {
                self.stats.code_rejects_sent = self.stats.code_rejects_sent.saturating_add(1);
            }
            self.push(packet);
        }
    }
}

fn received(identifier: u8) -> Received {
    Received {
        identifier,
        reply: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::cp::RawOption;
    use alloc::{vec, vec::Vec};
    use proptest::prelude::*;

    /// A small policy: option 1 (an MRU-like u16) and option 5 (a 4-octet
    /// value we may ask for); the peer's option 1 must be at least `min_mru`.
    #[derive(Debug, Clone)]
    struct TestNegotiator {
        mru: Option<u16>,
        want_five: bool,
        min_mru: u16,
        resets: u32,
    }

    impl Default for TestNegotiator {
        fn default() -> Self {
            TestNegotiator {
                mru: Some(1500),
                want_five: false,
                min_mru: 1000,
                resets: 0,
            }
        }
    }

    impl Negotiator for TestNegotiator {
        type Opt<'a> = RawOption<'a>;
        type Report = core::convert::Infallible;

        fn reset(&mut self) {
            self.resets += 1;
        }

        fn build_request(&mut self, out: &mut Vec<u8>) {
            if let Some(mru) = self.mru {
                out.extend_from_slice(&[1, 4]);
                out.extend_from_slice(&mru.to_be_bytes());
            }
            if self.want_five {
                out.extend_from_slice(&[5, 6, 0, 0, 0, 1]);
            }
        }

        fn check_request(&mut self, list: &[RawOption<'_>], reply: &mut Reply) {
            for option in list {
                match (option.kind, option.data) {
                    (1, &[high, low]) if u16::from_be_bytes([high, low]) >= self.min_mru => {}
                    (1, &[_, _]) => {
                        let min = self.min_mru.to_be_bytes();
                        reply.nak(option, &RawOption::new(1, &min));
                    }
                    _ => reply.reject(option),
                }
            }
        }

        fn on_nak(&mut self, list: &[RawOption<'_>]) -> bool {
            for option in list {
                if let (1, &[high, low]) = (option.kind, option.data) {
                    self.mru = Some(u16::from_be_bytes([high, low]));
                }
            }
            true
        }

        fn on_reject(&mut self, list: &[RawOption<'_>]) -> bool {
            for option in list {
                match option.kind {
                    1 => self.mru = None,
                    5 => self.want_five = false,
                    _ => {}
                }
            }
            true
        }

        fn code_is_required(&self, code: Code) -> bool {
            code == Code::IDENTIFICATION
        }

        fn handle_extended(&mut self, state: State, code: Code, id: u8, data: &[u8]) -> Extended {
            match code {
                Code::ECHO_REQUEST if state == State::Opened => Extended::Reply(Packet {
                    code: Code::ECHO_REPLY,
                    identifier: id,
                    data: data.to_vec(),
                }),
                Code::ECHO_REQUEST | Code::ECHO_REPLY | Code::DISCARD_REQUEST => Extended::Handled,
                _ => Extended::Unknown,
            }
        }
    }

    type TestFsm = Fsm<TestNegotiator>;

    fn ms(millis: u64) -> Instant {
        Instant::from_millis(millis)
    }

    /// RFC 1661 to the letter: the transcript tests below expect exactly
    /// its packets, without our early resend on the peer's first request
    /// (which has tests of its own).
    fn rfc_config() -> FsmConfig {
        FsmConfig {
            early_resend: None,
            ..FsmConfig::default()
        }
    }

    fn fsm() -> TestFsm {
        Fsm::new(TestNegotiator::default(), rfc_config())
    }

    /// Feeds a packet at a time: `send!(fsm, time 0, (code, id, [data]))`.
    macro_rules! send {
        ($fsm:expr, time $t:expr, ($code:expr, $id:expr, $data:expr)) => {
            $fsm.handle(ms($t), $code, $id, &$data)
        };
    }

    /// Expects the next output: `recv!(fsm, (code, id, [data]))` or `recv!(fsm, nothing)`.
    macro_rules! recv {
        ($fsm:expr, nothing) => {
            assert_eq!($fsm.poll_transmit(), None)
        };
        ($fsm:expr, ($code:expr, $id:expr, $data:expr)) => {
            assert_eq!(
                $fsm.poll_transmit(),
                Some(Packet {
                    code: $code,
                    identifier: $id,
                    data: $data.to_vec(),
                })
            )
        };
    }

    fn events(fsm: &mut TestFsm) -> Vec<FsmEvent> {
        core::iter::from_fn(|| fsm.poll_event()).collect()
    }

    const OUR_REQUEST: [u8; 4] = [1, 4, 0x05, 0xdc];

    /// Up and Open at time 0: Req-Sent with our first request drained.
    fn requesting() -> TestFsm {
        requesting_with(rfc_config())
    }

    /// `requesting` with another configuration.
    fn requesting_with(config: FsmConfig) -> TestFsm {
        let mut f = Fsm::new(TestNegotiator::default(), config);
        f.open(ms(0));
        f.up(ms(0));
        recv!(f, (Code::CONFIGURE_REQUEST, 1, OUR_REQUEST));
        recv!(f, nothing);
        assert_eq!(f.state(), State::RequestSent);
        assert_eq!(events(&mut f), vec![FsmEvent::Started]);
        f
    }

    /// Opened at time 0, output and events drained.
    fn opened() -> TestFsm {
        let mut f = requesting();
        send!(f, time 0, (Code::CONFIGURE_ACK, 1, OUR_REQUEST));
        send!(f, time 0, (Code::CONFIGURE_REQUEST, 9, [1, 4, 0x05, 0x78]));
        recv!(f, (Code::CONFIGURE_ACK, 9, [1, 4, 0x05, 0x78]));
        assert_eq!(f.state(), State::Opened);
        assert_eq!(events(&mut f), vec![FsmEvent::Up]);
        f
    }

    // RFC 1661 §4.1, transcribed: rows are events, columns states 0-9.
    #[rustfmt::skip]
    const TABLE: &[(&str, [&str; 10])] = &[
        // columns: states 0-9 in STATES order, Initial .. Opened
        ("Up",    ["2",     "irc,scr/6", "-",         "-",             "-",     "-",     "-",         "-",         "-",         "-"]),
        ("Down",  ["-",     "-",         "0",         "tls/1",         "0",     "1",     "1",         "1",         "1",         "tld/1"]),
        ("Open",  ["tls/1", "1",         "irc,scr/6", "3r",            "5r",    "5r",    "6",         "7",         "8",         "9r"]),
        ("Close", ["0",     "tlf/0",     "2",         "2",             "4",     "4",     "irc,str/4", "irc,str/4", "irc,str/4", "tld,irc,str/4"]),
        ("TO+",   ["-",     "-",         "-",         "-",             "str/4", "str/5", "scr/6",     "scr/6",     "scr/8",     "-"]),
        ("TO-",   ["-",     "-",         "-",         "-",             "tlf/2", "tlf/3", "tlf/3p",    "tlf/3p",    "tlf/3p",    "-"]),
        ("RCR+",  ["-",     "-",         "sta/2",     "irc,scr,sca/8", "4",     "5",     "sca/8",     "sca,tlu/9", "sca/8",     "tld,scr,sca/8"]),
        ("RCR-",  ["-",     "-",         "sta/2",     "irc,scr,scn/6", "4",     "5",     "scn/6",     "scn/7",     "scn/6",     "tld,scr,scn/6"]),
        ("RCA",   ["-",     "-",         "sta/2",     "sta/3",         "4",     "5",     "irc/7",     "scr/6x",    "irc,tlu/9", "tld,scr/6x"]),
        ("RCN",   ["-",     "-",         "sta/2",     "sta/3",         "4",     "5",     "irc,scr/6", "scr/6x",    "irc,scr/8", "tld,scr/6x"]),
        ("RTR",   ["-",     "-",         "sta/2",     "sta/3",         "sta/4", "sta/5", "sta/6",     "sta/6",     "sta/6",     "tld,zrc,sta/5"]),
        ("RTA",   ["-",     "-",         "2",         "3",             "tlf/2", "tlf/3", "6",         "6",         "8",         "tld,scr/6"]),
        ("RUC",   ["-",     "-",         "scj/2",     "scj/3",         "scj/4", "scj/5", "scj/6",     "scj/7",     "scj/8",     "scj/9"]),
        ("RXJ+",  ["-",     "-",         "2",         "3",             "4",     "5",     "6",         "6",         "8",         "9"]),
        ("RXJ-",  ["-",     "-",         "tlf/2",     "tlf/3",         "tlf/2", "tlf/3", "tlf/3",     "tlf/3",     "tlf/3",     "tld,irc,str/5"]),
        ("RXR",   ["-",     "-",         "2",         "3",             "4",     "5",     "6",         "7",         "8",         "ser/9"]),
    ];

    const STATES: [State; 10] = [
        State::Initial,
        State::Starting,
        State::Closed,
        State::Stopped,
        State::Closing,
        State::Stopping,
        State::RequestSent,
        State::AckReceived,
        State::AckSent,
        State::Opened,
    ];

    /// The event a table row names, and the reply its packet would prepare.
    fn table_event(name: &str) -> (Event, Option<Packet>) {
        let reply = |code| {
            Some(Packet {
                code,
                identifier: 0x42,
                data: vec![code.0],
            })
        };
        match name {
            "Up" => (Event::Up, None),
            "Down" => (Event::Down, None),
            "Open" => (Event::Open, None),
            "Close" => (Event::Close, None),
            "TO+" => (Event::TimeoutPositive, None),
            "TO-" => (Event::TimeoutNegative, None),
            "RCR+" => (Event::GoodConfigureRequest, reply(Code::CONFIGURE_ACK)),
            "RCR-" => (Event::BadConfigureRequest, reply(Code::CONFIGURE_NAK)),
            "RCA" => (Event::ConfigureAck, None),
            "RCN" => (Event::ConfigureNak, None),
            "RTR" => (Event::TerminateRequest, None),
            "RTA" => (Event::TerminateAck, None),
            "RUC" => (Event::UnknownCode, reply(Code::CODE_REJECT)),
            "RXJ+" => (Event::PermittedReject, None),
            "RXJ-" => (Event::CatastrophicReject, None),
            "RXR" => (Event::EchoOrDiscard, reply(Code::ECHO_REPLY)),
            other => panic!("no event {other}"),
        }
    }

    /// Runs one cell from `state`; returns (state, output codes, events).
    fn run_cell(
        state: State,
        event: Event,
        reply: Option<Packet>,
    ) -> (TestFsm, Vec<Code>, Vec<FsmEvent>) {
        let mut f = fsm();
        f.state = state;
        f.restart_count = 1;
        f.timers
            .set_opt(FsmTimer::Restart, state.has_timer().then_some(ms(500)));
        let now = ms(1000);
        f.dispatch(
            now,
            event,
            Received {
                identifier: 0x42,
                reply,
            },
        );
        let codes = core::iter::from_fn(|| f.poll_transmit())
            .inspect(|p| {
                if p.code == Code::TERMINATE_ACK {
                    assert_eq!(p.identifier, 0x42, "sta echoes the Identifier");
                }
            })
            .map(|p| p.code)
            .collect();
        let evs = events(&mut f);
        (f, codes, evs)
    }

    #[test]
    fn walks_the_whole_rfc1661_state_transition_table() {
        let config = rfc_config();
        for (name, row) in TABLE {
            for (from, cell) in STATES.iter().zip(row) {
                let (event, reply) = table_event(name);
                let (f, codes, evs) = run_cell(*from, event, reply);
                let at = alloc::format!("{name} in {from:?} ({cell})");
                if *cell == "-" {
                    assert_eq!((f.state(), codes.len(), evs.len()), (*from, 0, 0), "{at}");
                    continue;
                }
                let (actions, next) = cell.rsplit_once('/').unwrap_or(("", cell));
                let next: u8 = next.trim_end_matches(['r', 'p', 'x']).parse().unwrap();
                assert_eq!(f.state().number(), next, "{at}");
                let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
                let want_codes: Vec<Code> = actions
                    .iter()
                    .filter_map(|a| match *a {
                        "scr" => Some(Code::CONFIGURE_REQUEST),
                        "sca" => Some(Code::CONFIGURE_ACK),
                        "scn" => Some(Code::CONFIGURE_NAK),
                        "str" => Some(Code::TERMINATE_REQUEST),
                        "sta" => Some(Code::TERMINATE_ACK),
                        "scj" => Some(Code::CODE_REJECT),
                        "ser" => Some(Code::ECHO_REPLY),
                        _ => None,
                    })
                    .collect();
                assert_eq!(codes, want_codes, "{at}");
                let want_events: Vec<&str> = actions
                    .iter()
                    .copied()
                    .filter(|a| a.starts_with("tl"))
                    .collect();
                let got_events: Vec<&str> = evs
                    .iter()
                    .map(|e| match e {
                        FsmEvent::Up => "tlu",
                        FsmEvent::Down => "tld",
                        FsmEvent::Started => "tls",
                        FsmEvent::Finished { .. } => "tlf",
                        FsmEvent::Report(never) => match *never {},
                    })
                    .collect();
                assert_eq!(got_events, want_events, "{at}");
                let count = if actions.contains(&"zrc") {
                    Some(0)
                } else if actions.contains(&"irc") && actions.contains(&"str") {
                    Some(config.max_terminate - 1)
                } else if actions.contains(&"irc") && actions.contains(&"scr") {
                    Some(config.max_configure - 1)
                } else if actions.contains(&"irc") {
                    Some(config.max_configure)
                } else {
                    None
                };
                if let Some(count) = count {
                    assert_eq!(f.restart_count, count, "{at}");
                }
                let timer_started = actions.iter().any(|a| matches!(*a, "scr" | "str" | "zrc"));
                let want_deadline = if timer_started {
                    Some(ms(4000))
                } else if f.state().has_timer() && from.has_timer() {
                    Some(ms(500))
                } else {
                    None
                };
                assert_eq!(f.poll_timeout(), want_deadline, "{at}");
            }
        }
    }

    #[test]
    fn opens_from_both_sides() {
        let mut a = fsm();
        let mut b = Fsm::new(
            TestNegotiator {
                mru: Some(1400),
                want_five: true,
                ..TestNegotiator::default()
            },
            rfc_config(),
        );
        for f in [&mut a, &mut b] {
            f.up(ms(0));
            f.open(ms(0));
        }
        for _ in 0..10 {
            while let Some(p) = a.poll_transmit() {
                b.handle(ms(10), p.code, p.identifier, &p.data);
            }
            while let Some(p) = b.poll_transmit() {
                a.handle(ms(10), p.code, p.identifier, &p.data);
            }
        }
        assert_eq!((a.state(), b.state()), (State::Opened, State::Opened));
        assert_eq!(events(&mut a), vec![FsmEvent::Up]);
        assert_eq!(events(&mut b), vec![FsmEvent::Up]);
        // a rejected b's option 5, so b stopped asking for it.
        assert!(!b.negotiator().want_five);
        assert_eq!((a.poll_timeout(), b.poll_timeout()), (None, None));
    }

    #[test]
    fn opens_at_packet_level() {
        let mut f = requesting();
        send!(f, time 100, (Code::CONFIGURE_ACK, 1, OUR_REQUEST));
        recv!(f, nothing);
        assert_eq!(f.state(), State::AckReceived);
        send!(f, time 200, (Code::CONFIGURE_REQUEST, 0x33, [1, 4, 0x05, 0xdc]));
        recv!(f, (Code::CONFIGURE_ACK, 0x33, [1, 4, 0x05, 0xdc]));
        assert_eq!(f.state(), State::Opened);
        assert_eq!(events(&mut f), vec![FsmEvent::Up]);
        assert_eq!(f.poll_timeout(), None);
    }

    #[test]
    fn peer_opens_first() {
        let mut f = fsm();
        f.up(ms(0));
        f.open(ms(0));
        recv!(f, (Code::CONFIGURE_REQUEST, 1, OUR_REQUEST));
        send!(f, time 0, (Code::CONFIGURE_REQUEST, 1, [1, 4, 0x04, 0x00]));
        recv!(f, (Code::CONFIGURE_ACK, 1, [1, 4, 0x04, 0x00]));
        assert_eq!(f.state(), State::AckSent);
        send!(f, time 0, (Code::CONFIGURE_ACK, 1, OUR_REQUEST));
        assert_eq!(f.state(), State::Opened);
    }

    #[test]
    fn nak_round() {
        let mut f = requesting();
        // The peer's value is too small: we Nak with ours.
        send!(f, time 0, (Code::CONFIGURE_REQUEST, 4, [1, 4, 0x01, 0xf4]));
        recv!(f, (Code::CONFIGURE_NAK, 4, [1, 4, 0x03, 0xe8]));
        assert_eq!(f.state(), State::RequestSent);
        // The peer Naks us: a new request with a new Identifier.
        send!(f, time 10, (Code::CONFIGURE_NAK, 1, [1, 4, 0x05, 0x78]));
        recv!(f, (Code::CONFIGURE_REQUEST, 2, [1, 4, 0x05, 0x78]));
        // The old Identifier is stale now.
        send!(f, time 20, (Code::CONFIGURE_ACK, 1, [1, 4, 0x05, 0x78]));
        assert_eq!(f.state(), State::RequestSent);
        assert_eq!(f.stats().stale, 1);
        send!(f, time 20, (Code::CONFIGURE_ACK, 2, [1, 4, 0x05, 0x78]));
        assert_eq!(f.state(), State::AckReceived);
    }

    #[test]
    fn reject_round() {
        let mut f = Fsm::new(
            TestNegotiator {
                want_five: true,
                ..TestNegotiator::default()
            },
            rfc_config(),
        );
        f.up(ms(0));
        f.open(ms(0));
        recv!(
            f,
            (
                Code::CONFIGURE_REQUEST,
                1,
                [1, 4, 0x05, 0xdc, 5, 6, 0, 0, 0, 1]
            )
        );
        // Unknown options are rejected verbatim, in order, known ones left out.
        send!(f, time 0, (Code::CONFIGURE_REQUEST, 8, [7, 2, 1, 4, 0x05, 0xdc, 13, 3, 6]));
        recv!(f, (Code::CONFIGURE_REJECT, 8, [7, 2, 13, 3, 6]));
        send!(f, time 5, (Code::CONFIGURE_REJECT, 1, [5, 6, 0, 0, 0, 1]));
        recv!(f, (Code::CONFIGURE_REQUEST, 2, OUR_REQUEST));
        assert!(!f.negotiator().want_five);
    }

    #[test]
    fn max_failure_turns_naks_into_rejects() {
        let mut f = requesting();
        for id in 0..5u8 {
            send!(f, time 0, (Code::CONFIGURE_REQUEST, id, [1, 4, 0x01, 0x00]));
            recv!(f, (Code::CONFIGURE_NAK, id, [1, 4, 0x03, 0xe8]));
        }
        send!(f, time 0, (Code::CONFIGURE_REQUEST, 5, [1, 4, 0x01, 0x00]));
        recv!(f, (Code::CONFIGURE_REJECT, 5, [1, 4, 0x01, 0x00]));
        // An Ack we send restarts the count.
        send!(f, time 0, (Code::CONFIGURE_REQUEST, 6, [2, 2]));
        recv!(f, (Code::CONFIGURE_REJECT, 6, [2, 2]));
        send!(f, time 0, (Code::CONFIGURE_REQUEST, 7, []));
        recv!(f, (Code::CONFIGURE_ACK, 7, []));
        send!(f, time 0, (Code::CONFIGURE_REQUEST, 8, [1, 4, 0x01, 0x00]));
        recv!(f, (Code::CONFIGURE_NAK, 8, [1, 4, 0x03, 0xe8]));
    }

    #[test]
    fn max_configure_exhaustion_stops() {
        let mut f = requesting();
        for n in 1..10u64 {
            assert_eq!(f.poll_timeout(), Some(ms(3000 * n)));
            f.handle_timeout(ms(3000 * n));
            recv!(f, (Code::CONFIGURE_REQUEST, 1, OUR_REQUEST));
        }
        f.handle_timeout(ms(30_000));
        recv!(f, nothing);
        assert_eq!(f.state(), State::Stopped);
        assert_eq!(
            events(&mut f),
            vec![FsmEvent::Finished {
                reason: FinishReason::MaxConfigureExceeded
            }]
        );
        assert_eq!(f.poll_timeout(), None);
    }

    #[test]
    fn stopped_answers_a_late_peer() {
        let mut f = requesting();
        for n in 1..=10u64 {
            f.handle_timeout(ms(3000 * n));
        }
        assert_eq!(f.state(), State::Stopped);
        while f.poll_transmit().is_some() {}
        // RFC 1661 §4.2 Stopped: a Configure-Request restarts negotiation.
        send!(f, time 40_000, (Code::CONFIGURE_REQUEST, 3, [1, 4, 0x05, 0xdc]));
        recv!(f, (Code::CONFIGURE_REQUEST, 2, OUR_REQUEST));
        recv!(f, (Code::CONFIGURE_ACK, 3, [1, 4, 0x05, 0xdc]));
        assert_eq!(f.state(), State::AckSent);
        assert_eq!(f.poll_timeout(), Some(ms(43_000)));
        // Other packets get a Terminate-Ack while Stopped.
        let mut f = requesting();
        f.protocol_rejected(ms(0));
        send!(f, time 0, (Code::CONFIGURE_NAK, 1, [1, 4, 0, 0]));
        recv!(f, (Code::TERMINATE_ACK, 1, []));
    }

    /// accel-ppp drops our first request of a protocol it has not started:
    /// its own first request makes us send ours again 100 ms later (not
    /// 3 s), with the same Identifier, and the answer opens the layer.
    #[test]
    fn first_peer_request_hurries_ours() {
        let mut f = requesting_with(FsmConfig::default());
        send!(f, time 5, (Code::CONFIGURE_REQUEST, 7, [1, 4, 0x05, 0x78]));
        recv!(f, (Code::CONFIGURE_ACK, 7, [1, 4, 0x05, 0x78]));
        recv!(f, nothing);
        assert_eq!(f.poll_timeout(), Some(ms(105)));
        assert_eq!(f.stats().hurried, 1);
        // The peer's retransmission is not a first request.
        send!(f, time 6, (Code::CONFIGURE_REQUEST, 8, [1, 4, 0x05, 0x78]));
        recv!(f, (Code::CONFIGURE_ACK, 8, [1, 4, 0x05, 0x78]));
        assert_eq!(f.stats().hurried, 1);
        f.handle_timeout(ms(105));
        recv!(f, (Code::CONFIGURE_REQUEST, 1, OUR_REQUEST));
        recv!(f, nothing);
        // Then the restart timer as usual.
        assert_eq!(f.poll_timeout(), Some(ms(3105)));
        send!(f, time 110, (Code::CONFIGURE_ACK, 1, OUR_REQUEST));
        assert_eq!(f.state(), State::Opened);
    }

    /// A peer that answers within the delay gets our request once.
    #[test]
    fn a_prompt_answer_leaves_nothing_to_resend() {
        let mut f = requesting_with(FsmConfig::default());
        send!(f, time 5, (Code::CONFIGURE_REQUEST, 7, [1, 4, 0x05, 0x78]));
        recv!(f, (Code::CONFIGURE_ACK, 7, [1, 4, 0x05, 0x78]));
        send!(f, time 8, (Code::CONFIGURE_ACK, 1, OUR_REQUEST));
        assert_eq!(f.state(), State::Opened);
        f.handle_timeout(ms(200));
        recv!(f, nothing);
    }

    /// A link that delays or duplicates: the peer's older request arriving
    /// after we acknowledged its newer one is stale. Answering it (a Nak)
    /// would take us back to Req-Sent while the peer, Opened, never asks
    /// again: the layer would never open.
    #[test]
    fn an_older_request_after_a_newer_one_is_stale() {
        let mut f = requesting();
        send!(f, time 1, (Code::CONFIGURE_REQUEST, 4, [1, 4, 0x01, 0xf4]));
        recv!(f, (Code::CONFIGURE_NAK, 4, [1, 4, 0x03, 0xe8]));
        send!(f, time 2, (Code::CONFIGURE_REQUEST, 5, [1, 4, 0x05, 0x78]));
        recv!(f, (Code::CONFIGURE_ACK, 5, [1, 4, 0x05, 0x78]));
        assert_eq!(f.state(), State::AckSent);
        // Request 4 again, late: dropped, no Nak, still Ack-Sent.
        send!(f, time 3, (Code::CONFIGURE_REQUEST, 4, [1, 4, 0x01, 0xf4]));
        recv!(f, nothing);
        assert_eq!(f.state(), State::AckSent);
        assert_eq!(f.stats().stale, 1);
        // The latest one resent (our Ack was lost) is answered again.
        send!(f, time 4, (Code::CONFIGURE_REQUEST, 5, [1, 4, 0x05, 0x78]));
        recv!(f, (Code::CONFIGURE_ACK, 5, [1, 4, 0x05, 0x78]));
        send!(f, time 5, (Code::CONFIGURE_ACK, 1, OUR_REQUEST));
        assert_eq!(f.state(), State::Opened);
    }

    /// `hold_ack_until_answered`: our Ack waits for the peer's answer to our
    /// request and goes out ahead of what that answer makes us send; the
    /// peer's retransmission is acknowledged at once.
    #[test]
    fn ack_held_until_the_peer_answers() {
        let config = FsmConfig {
            hold_ack_until_answered: true,
            ..rfc_config()
        };
        let mut f = requesting_with(config.clone());
        send!(f, time 1, (Code::CONFIGURE_REQUEST, 7, [1, 4, 0x05, 0x78]));
        recv!(f, nothing);
        assert_eq!(f.state(), State::AckSent);
        send!(f, time 2, (Code::CONFIGURE_NAK, 1, [1, 4, 0x05, 0x78]));
        recv!(f, (Code::CONFIGURE_ACK, 7, [1, 4, 0x05, 0x78]));
        recv!(f, (Code::CONFIGURE_REQUEST, 2, [1, 4, 0x05, 0x78]));
        send!(f, time 3, (Code::CONFIGURE_ACK, 2, [1, 4, 0x05, 0x78]));
        assert_eq!(f.state(), State::Opened);
        // A peer that holds its answer too retransmits: Acked at once.
        let mut f = requesting_with(config);
        send!(f, time 1, (Code::CONFIGURE_REQUEST, 7, [1, 4, 0x05, 0x78]));
        recv!(f, nothing);
        send!(f, time 3000, (Code::CONFIGURE_REQUEST, 7, [1, 4, 0x05, 0x78]));
        recv!(f, (Code::CONFIGURE_ACK, 7, [1, 4, 0x05, 0x78]));
        send!(f, time 3001, (Code::CONFIGURE_ACK, 1, OUR_REQUEST));
        assert_eq!(f.state(), State::Opened);
        recv!(f, nothing);
    }

    /// Once the peer has answered our request, its first request needs no copy.
    #[test]
    fn no_resend_once_answered() {
        let mut f = requesting_with(FsmConfig::default());
        send!(f, time 1, (Code::CONFIGURE_ACK, 1, OUR_REQUEST));
        assert_eq!(f.state(), State::AckReceived);
        send!(f, time 2, (Code::CONFIGURE_REQUEST, 7, [1, 4, 0x05, 0x78]));
        recv!(f, (Code::CONFIGURE_ACK, 7, [1, 4, 0x05, 0x78]));
        recv!(f, nothing);
        assert_eq!(f.state(), State::Opened);
        assert!(
            !f.hurry(ms(2), Duration::ZERO),
            "nothing outstanding in Opened"
        );
        assert_eq!(f.stats().hurried, 0);
    }

    /// `renegotiate` on an Opened layer: This-Layer-Down, a fresh request
    /// with a new Identifier, and the layer opens again on the answers.
    #[test]
    fn renegotiate_an_opened_layer() {
        let mut f = opened();
        f.renegotiate(ms(10));
        assert_eq!(events(&mut f), vec![FsmEvent::Down]);
        assert_eq!(f.state(), State::RequestSent);
        recv!(f, (Code::CONFIGURE_REQUEST, 2, OUR_REQUEST));
        send!(f, time 11, (Code::CONFIGURE_ACK, 2, OUR_REQUEST));
        send!(f, time 11, (Code::CONFIGURE_REQUEST, 10, [1, 4, 0x05, 0x78]));
        recv!(f, (Code::CONFIGURE_ACK, 10, [1, 4, 0x05, 0x78]));
        assert_eq!(f.state(), State::Opened);
        assert_eq!(events(&mut f), vec![FsmEvent::Up]);
    }

    #[test]
    fn too_many_options_are_discarded() {
        let config = FsmConfig {
            max_options: 3,
            ..rfc_config()
        };
        let mut f = requesting_with(config);
        // Four empty unknown options: one more than allowed, no reply.
        let packet = [
            Code::CONFIGURE_REQUEST.0,
            9,
            0,
            12,
            0x70,
            2,
            0x71,
            2,
            0x72,
            2,
            0x73,
            2,
        ];
        f.handle_packet(ms(1), &packet);
        assert!(f.poll_transmit().is_none());
        assert_eq!(f.stats().malformed, 1);
        // Three are judged (and rejected) as usual.
        let packet = [
            Code::CONFIGURE_REQUEST.0,
            10,
            0,
            10,
            0x70,
            2,
            0x71,
            2,
            0x72,
            2,
        ];
        f.handle_packet(ms(2), &packet);
        assert!(f.poll_transmit().is_some());
        assert_eq!(f.stats().malformed, 1);
    }

    #[test]
    fn configurable_counters_and_timer() {
        let config = FsmConfig {
            restart_timer: Duration::from_millis(500),
            max_configure: 2,
            ..rfc_config()
        };
        let mut f = requesting_with(config);
        f.handle_timeout(ms(500));
        recv!(f, (Code::CONFIGURE_REQUEST, 1, OUR_REQUEST));
        f.handle_timeout(ms(1000));
        assert_eq!(f.state(), State::Stopped);
    }

    #[test]
    fn max_terminate_closes() {
        let mut f = opened();
        f.close(ms(1000));
        recv!(f, (Code::TERMINATE_REQUEST, 2, []));
        assert_eq!(events(&mut f), vec![FsmEvent::Down]);
        assert_eq!(f.state(), State::Closing);
        f.handle_timeout(ms(4000));
        recv!(f, (Code::TERMINATE_REQUEST, 3, []));
        f.handle_timeout(ms(7000));
        recv!(f, nothing);
        assert_eq!(f.state(), State::Closed);
        assert_eq!(
            events(&mut f),
            vec![FsmEvent::Finished {
                reason: FinishReason::MaxTerminateExceeded
            }]
        );
    }

    #[test]
    fn terminate_ack_closes() {
        let mut f = opened();
        f.close(ms(1000));
        recv!(f, (Code::TERMINATE_REQUEST, 2, []));
        send!(f, time 1100, (Code::TERMINATE_ACK, 0x77, []));
        assert_eq!(f.state(), State::Closed);
        assert_eq!(
            events(&mut f),
            vec![
                FsmEvent::Down,
                FsmEvent::Finished {
                    reason: FinishReason::TerminateAcked
                }
            ]
        );
        assert_eq!(f.poll_timeout(), None);
    }

    #[test]
    fn peer_terminates() {
        let mut f = opened();
        send!(f, time 1000, (Code::TERMINATE_REQUEST, 0x21, *b"bye"));
        recv!(f, (Code::TERMINATE_ACK, 0x21, []));
        assert_eq!(f.state(), State::Stopping);
        assert_eq!(events(&mut f), vec![FsmEvent::Down]);
        f.handle_timeout(ms(3999));
        assert_eq!(f.state(), State::Stopping);
        f.handle_timeout(ms(4000));
        recv!(f, nothing);
        assert_eq!(f.state(), State::Stopped);
        assert_eq!(
            events(&mut f),
            vec![FsmEvent::Finished {
                reason: FinishReason::PeerTerminated
            }]
        );
    }

    #[test]
    fn stale_and_mismatched_replies_are_ignored() {
        let mut f = requesting();
        send!(f, time 0, (Code::CONFIGURE_ACK, 2, OUR_REQUEST));
        send!(f, time 0, (Code::CONFIGURE_NAK, 0, [1, 4, 0, 0]));
        send!(f, time 0, (Code::CONFIGURE_REJECT, 0xff, [1, 4, 0, 0]));
        // Right Identifier, wrong options: RFC 1661 §5.2 says ignore.
        send!(f, time 0, (Code::CONFIGURE_ACK, 1, [1, 4, 0x05, 0xdd]));
        recv!(f, nothing);
        assert_eq!(f.state(), State::RequestSent);
        assert_eq!(f.stats().stale, 4);
        send!(f, time 0, (Code::CONFIGURE_ACK, 1, OUR_REQUEST));
        assert_eq!(f.state(), State::AckReceived);
        // A duplicate of the Ack just taken is stale too.
        send!(f, time 0, (Code::CONFIGURE_ACK, 1, OUR_REQUEST));
        assert_eq!(f.state(), State::AckReceived);
        assert_eq!(f.stats().stale, 5);
    }

    #[test]
    fn early_and_repeated_timeouts_are_no_ops() {
        let mut f = requesting();
        f.handle_timeout(ms(0));
        f.handle_timeout(ms(2999));
        recv!(f, nothing);
        f.handle_timeout(ms(3000));
        // A retransmission keeps the Identifier while the options are unchanged.
        recv!(f, (Code::CONFIGURE_REQUEST, 1, OUR_REQUEST));
        assert_eq!(f.poll_timeout(), Some(ms(6000)));
        f.handle_timeout(ms(3000));
        recv!(f, nothing);
        // A changed option list on retransmission takes a new Identifier.
        f.negotiator_mut().mru = Some(1400);
        f.handle_timeout(ms(6000));
        recv!(f, (Code::CONFIGURE_REQUEST, 2, [1, 4, 0x05, 0x78]));
    }

    #[test]
    fn timer_is_cleared_when_it_fires_in_a_quiet_state() {
        let mut f = fsm();
        f.up(ms(0));
        f.handle_timeout(ms(100_000));
        assert_eq!((f.state(), f.poll_timeout()), (State::Closed, None));
    }

    #[test]
    fn flooding_configure_requests_stays_bounded() {
        let mut f = requesting();
        for n in 0..1000u32 {
            let id = n as u8;
            send!(f, time u64::from(n), (Code::CONFIGURE_REQUEST, id, [1, 4, 0x01, 0x00, 9, 2]));
            assert!(f.transmit.len() <= f.config().max_queued_packets);
        }
        // Twice Max-Failure refused requests, then the layer closes instead
        // of answering a peer that never changes its mind.
        assert_eq!(f.state(), State::Closing);
        let mut answers = 0;
        while let Some(p) = f.poll_transmit() {
            answers += u32::from(p.code == Code::CONFIGURE_REJECT || p.code == Code::CONFIGURE_NAK);
        }
        assert!(answers <= f.config().max_queued_packets as u32);
        send!(f, time 2000, (Code::TERMINATE_ACK, 0, []));
        assert!(f.events.iter().any(|e| *e
            == FsmEvent::Finished {
                reason: FinishReason::NegotiationFailed
            }));
        assert!(f.events.len() <= MAX_QUEUED_EVENTS);
    }

    #[test]
    fn unknown_code_is_code_rejected_within_the_mru() {
        let mut f = opened();
        f.set_peer_mru(64);
        let data = [0xab; 200];
        send!(f, time 0, (Code(0x20), 0x11, data));
        let p = f.poll_transmit().unwrap();
        assert_eq!((p.code, p.data.len()), (Code::CODE_REJECT, 60));
        assert_eq!(p.data[..6], [0x20, 0x11, 0, 204, 0xab, 0xab]);
        assert_eq!(p.buffer_len(), 64);
        assert_eq!(f.state(), State::Opened);
        assert_eq!(f.stats().code_rejects_sent, 1);
        // Whole when it fits.
        send!(f, time 0, (Code(0x21), 0x12, [1, 2]));
        recv!(f, (Code::CODE_REJECT, 3, [0x21, 0x12, 0, 6, 1, 2]));
    }

    #[test]
    fn extended_codes_reach_the_negotiator() {
        let mut f = requesting();
        send!(f, time 0, (Code::ECHO_REQUEST, 5, [0, 0, 0, 0]));
        recv!(f, nothing);
        let mut f = opened();
        send!(f, time 0, (Code::ECHO_REQUEST, 5, [1, 2, 3, 4]));
        recv!(f, (Code::ECHO_REPLY, 5, [1, 2, 3, 4]));
        assert!(f.send_extended(Packet {
            code: Code::ECHO_REQUEST,
            identifier: 0x40,
            data: vec![]
        }));
        recv!(f, (Code::ECHO_REQUEST, 0x40, []));
    }

    #[test]
    fn code_reject_permitted_or_catastrophic() {
        let mut f = opened();
        send!(f, time 0, (Code::CODE_REJECT, 1, [9, 1, 0, 4]));
        assert_eq!(f.state(), State::Opened);
        send!(f, time 0, (Code::CODE_REJECT, 2, [12, 1, 0, 4]));
        assert_eq!(f.state(), State::Stopping);
        assert_eq!(events(&mut f), vec![FsmEvent::Down]);
        recv!(f, (Code::TERMINATE_REQUEST, 2, []));
        let mut f = requesting();
        send!(f, time 0, (Code::CODE_REJECT, 1, [Code::CONFIGURE_REQUEST.0, 1, 0, 8]));
        assert_eq!(f.state(), State::Stopped);
        assert_eq!(
            events(&mut f),
            vec![FsmEvent::Finished {
                reason: FinishReason::CodeRejected {
                    code: Code::CONFIGURE_REQUEST
                }
            }]
        );
        let mut f = requesting();
        f.protocol_rejected(ms(0));
        assert_eq!(
            events(&mut f),
            vec![FsmEvent::Finished {
                reason: FinishReason::ProtocolRejected
            }]
        );
    }

    #[test]
    fn malformed_input_is_dropped_and_counted() {
        let mut f = requesting();
        f.handle_packet(ms(0), &[1, 2, 0]);
        f.handle_packet(ms(0), &[1, 2, 0, 3]);
        f.handle_packet(ms(0), &[1, 2, 0, 9, 1, 4]);
        // Bad option length inside a Configure-Request.
        f.handle_packet(ms(0), &[1, 2, 0, 6, 1, 9]);
        send!(f, time 0, (Code::CODE_REJECT, 3, []));
        recv!(f, nothing);
        assert_eq!(f.stats().malformed, 5);
        assert_eq!(f.state(), State::RequestSent);
        // Padding past Length is ignored.
        f.handle_packet(ms(0), &[2, 1, 0, 8, 1, 4, 0x05, 0xdc, 0xee, 0xee]);
        assert_eq!(f.state(), State::AckReceived);
    }

    #[test]
    fn packets_before_the_lower_layer_are_unexpected() {
        let mut f = fsm();
        f.open(ms(0));
        send!(f, time 0, (Code::CONFIGURE_REQUEST, 1, []));
        recv!(f, nothing);
        assert_eq!((f.state(), f.stats().unexpected), (State::Starting, 1));
    }

    #[test]
    fn renegotiation_resets_the_negotiator() {
        let mut f = opened();
        let before = f.negotiator().resets;
        send!(f, time 0, (Code::CONFIGURE_REQUEST, 0x50, []));
        recv!(f, (Code::CONFIGURE_REQUEST, 2, OUR_REQUEST));
        recv!(f, (Code::CONFIGURE_ACK, 0x50, []));
        assert_eq!(f.negotiator().resets, before + 1);
        assert_eq!(f.state(), State::AckSent);
        assert_eq!(events(&mut f), vec![FsmEvent::Down]);
    }

    #[test]
    fn renegotiation_resets_before_judging() {
        let mut f = opened();
        let resets = f.negotiator().resets;
        send!(f, time 0, (Code::CONFIGURE_REQUEST, 0x51, [1, 4, 0x05, 0x78]));
        // One reset, and before the request was judged: scr did not reset again.
        assert_eq!(f.negotiator().resets, resets + 1);
        recv!(f, (Code::CONFIGURE_REQUEST, 2, OUR_REQUEST));
        recv!(f, (Code::CONFIGURE_ACK, 0x51, [1, 4, 0x05, 0x78]));
        // A malformed request in Opened still renegotiates: the policy started over.
        send!(f, time 0, (Code::CONFIGURE_ACK, 2, OUR_REQUEST));
        assert_eq!(f.state(), State::Opened);
        while f.poll_event().is_some() {}
        f.handle_packet(ms(0), &[Code::CONFIGURE_REQUEST.0, 0x52, 0, 6, 1, 9]);
        assert_eq!(f.stats().malformed, 1);
        assert_eq!(f.state(), State::RequestSent);
        assert_eq!(events(&mut f), vec![FsmEvent::Down]);
        recv!(f, (Code::CONFIGURE_REQUEST, 3, OUR_REQUEST));
    }

    #[test]
    fn a_peer_refusing_every_request_ends_the_negotiation() {
        let mut f = requesting();
        let mut sent = 1;
        for _ in 0..100 {
            send!(f, time 0, (Code::CONFIGURE_NAK, f.request_identifier, [1, 4, 0x03, 0xe8]));
            match f.poll_transmit() {
                Some(p) if p.code == Code::CONFIGURE_REQUEST => sent += 1,
                _ => break,
            }
        }
        // Max-Configure refusals answered, then Terminate-Request, not a loop.
        assert!(sent <= 12, "{sent} requests");
        assert_eq!(f.state(), State::Closing);
        send!(f, time 10, (Code::TERMINATE_ACK, 0, []));
        assert!(events(&mut f).contains(&FsmEvent::Finished {
            reason: FinishReason::NegotiationFailed
        }));
    }

    #[test]
    fn packet_emit_writes_the_header() {
        let p = Packet {
            code: Code::TERMINATE_REQUEST,
            identifier: 7,
            data: vec![1, 2],
        };
        let mut out = Vec::new();
        p.emit(&mut out);
        assert_eq!(out, [5, 7, 0, 6, 1, 2]);
        let parsed = CpPacket::parse(&out).unwrap();
        assert_eq!(
            (parsed.code, parsed.identifier, parsed.data),
            (Code::TERMINATE_REQUEST, 7, &[1u8, 2][..])
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Packet(u8, u8, Vec<u8>),
        Raw(Vec<u8>),
        Advance(u64),
        Up,
        Down,
        Open,
        Close,
        ProtocolReject,
        Renegotiate,
        Resend,
        Drain,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..16, any::<u8>(), proptest::collection::vec(any::<u8>(), 0..24))
                .prop_map(|(c, i, d)| Op::Packet(c, i, d)),
            1 => proptest::collection::vec(any::<u8>(), 0..12).prop_map(Op::Raw),
            2 => (0u64..5000).prop_map(Op::Advance),
            1 => Just(Op::Up),
            1 => Just(Op::Down),
            1 => Just(Op::Open),
            1 => Just(Op::Close),
            1 => Just(Op::ProtocolReject),
            1 => Just(Op::Renegotiate),
            1 => Just(Op::Resend),
            1 => Just(Op::Drain),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn arbitrary_input_never_panics_and_stays_bounded(ops in proptest::collection::vec(op(), 0..80)) {
            // The shipped configuration, early resends included.
            let mut f = Fsm::new(TestNegotiator::default(), FsmConfig::default());
            let mut now = ms(0);
            for op in ops {
                match op {
                    Op::Packet(code, id, data) => f.handle(now, Code(code), id, &data),
                    Op::Raw(bytes) => f.handle_packet(now, &bytes),
                    Op::Advance(step) => {
                        now += Duration::from_millis(step);
                        f.handle_timeout(now);
                    }
                    Op::Up => f.up(now),
                    Op::Down => f.down(now),
                    Op::Open => f.open(now),
                    Op::Close => f.close(now),
                    Op::ProtocolReject => f.protocol_rejected(now),
                    Op::Renegotiate => f.renegotiate(now),
                    Op::Resend => {
                        f.hurry(now, Duration::from_millis(100));
                    }
                    Op::Drain => while f.poll_transmit().is_some() {},
                }
                prop_assert!(f.transmit.len() <= f.config().max_queued_packets);
                prop_assert!(f.events.len() <= MAX_QUEUED_EVENTS);
                // The timer runs exactly in the states that have one.
                prop_assert_eq!(f.poll_timeout().is_some(), f.state().has_timer());
                if let Some(deadline) = f.poll_timeout() {
                    prop_assert!(deadline > now);
                }
            }
        }
    }
}
