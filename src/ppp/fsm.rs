//! The option-negotiation automaton of RFC 1661 §4, generic over the
//! option policy of one control protocol.
//!
//! [`Fsm`] implements all ten states, the sixteen events and the thirteen
//! actions of the state transition table in RFC 1661 §4.1, with the Restart
//! timer and the Max-Terminate, Max-Configure and Max-Failure counters of
//! §4.6. What the options mean is the business of a [`Negotiator`]: LCP,
//! IPCP, IPv6CP and CCP each implement it, and codes beyond Code-Reject
//! (LCP's Protocol-Reject, Echo, Discard, Identification, Time-Remaining;
//! CCP's Reset-Request/Ack) reach the negotiator through
//! [`Negotiator::handle_extended`], so the automaton never knows them.
//!
//! # Driving contract
//!
//! The owner (the PPP session) feeds input and drains output:
//!
//! - Lower layer and administrator events: [`Fsm::up`], [`Fsm::down`],
//!   [`Fsm::open`], [`Fsm::close`], and [`Fsm::protocol_rejected`] when LCP
//!   receives a Protocol-Reject for this protocol (RFC 1661 §5.7, RXJ-).
//! - Received packets: [`Fsm::handle_packet`] (Code, Identifier, Length and
//!   data as on the wire) or [`Fsm::handle`] (already split).
//! - Time: [`Fsm::poll_timeout`] says when to call [`Fsm::handle_timeout`];
//!   an early or repeated call is a no-op and a fired timer is always cleared.
//! - After every call, drain [`Fsm::poll_transmit`] (packets to send inside
//!   this protocol's PPP frames) and [`Fsm::poll_event`] (the layer hooks
//!   This-Layer-Up/Down/Started/Finished as [`FsmEvent`]s), then re-read
//!   [`Fsm::poll_timeout`]. Both queues are bounded; what does not fit is
//!   dropped and counted in [`FsmStats`].
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
//!   Configure-Ack, [`Negotiator::check_request`] is told to reject instead
//!   of Nak. The count restarts when we send a Configure-Ack or leave
//!   negotiation.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::time::Duration;

use bytes::BufMut;

use crate::time::Instant;

// RFC 1661 §5: the codes every control protocol shares.
const CONFIGURE_REQUEST: u8 = 1;
const CONFIGURE_ACK: u8 = 2;
const CONFIGURE_NAK: u8 = 3;
const CONFIGURE_REJECT: u8 = 4;
const TERMINATE_REQUEST: u8 = 5;
const TERMINATE_ACK: u8 = 6;
const CODE_REJECT: u8 = 7;

/// Octets in Code, Identifier and Length (RFC 1661 §5).
pub const HEADER_LEN: usize = 4;

/// Most events queued between two drains; a call produces at most three.
const MAX_QUEUED_EVENTS: usize = 16;

/// The ten states of RFC 1661 §4.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
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

/// The counters and timer of RFC 1661 §4.6, and the queue bound.
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
    /// Most packets queued for [`Fsm::poll_transmit`] (default 8).
    pub max_queued_packets: usize,
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
        }
    }
}

/// A control-protocol packet to send: Code, Identifier and data; Length is
/// implied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The Code field.
    pub code: u8,
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
        buf.put_u8(self.code);
        buf.put_u8(self.identifier);
        buf.put_u16(u16::try_from(HEADER_LEN + data.len()).unwrap_or(u16::MAX));
        buf.put_slice(data);
    }
}

/// What [`Negotiator::check_request`] decided about a Configure-Request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every option is acceptable: the FSM sends a Configure-Ack echoing them.
    Ack,
    /// Some options need other values: the FSM sends the `nak` list.
    Nak,
    /// Some options are unknown or refused: the FSM sends the `reject` list.
    Reject,
}

/// What [`Negotiator::handle_extended`] did with a code beyond Code-Reject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extended {
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
/// Option lists are passed as raw bytes (a sequence of Type, Length, Data);
/// the negotiator parses them and must not panic on any input.
pub trait Negotiator {
    /// Starts a fresh negotiation of our options (pppd's `resetci`): called
    /// before the first Configure-Request after leaving negotiation.
    fn reset(&mut self) {}

    /// Appends our Configure-Request options to `out`.
    fn build_request(&mut self, out: &mut Vec<u8>);

    /// Judges the peer's Configure-Request `options`.
    ///
    /// For [`Verdict::Nak`] append the offending options with acceptable
    /// values to `nak`, for [`Verdict::Reject`] append the offending options
    /// verbatim to `reject`, in the order they came (RFC 1661 §5.3, §5.4).
    /// When `reject_instead_of_nak` is set, Max-Failure was reached: options
    /// that would be Nak'd must be rejected. A malformed option list is an
    /// error: the FSM drops the packet.
    fn check_request(
        &mut self,
        options: &[u8],
        reject_instead_of_nak: bool,
        nak: &mut Vec<u8>,
        reject: &mut Vec<u8>,
    ) -> Result<Verdict, crate::wire::Error>;

    /// The peer acknowledged our request `options` (already checked to be
    /// exactly what we sent). Returns whether to accept it.
    fn on_ack(&mut self, options: &[u8]) -> bool;

    /// The peer Nak'd some of our options; adjust the next request. Returns
    /// whether the packet was acceptable (false: ignored).
    fn on_nak(&mut self, options: &[u8]) -> bool;

    /// The peer rejected some of our options; stop asking for them. Returns
    /// whether the packet was acceptable (false: ignored).
    fn on_reject(&mut self, options: &[u8]) -> bool;

    /// Whether the peer rejecting `code` (beyond 1..=7, which always are)
    /// makes this protocol unusable: RXJ- rather than RXJ+ (RFC 1661 §5.6).
    fn code_is_required(&self, code: u8) -> bool {
        let _ = code;
        false
    }

    /// Handles a packet whose code is beyond Code-Reject (8 and up).
    ///
    /// `state` lets LCP answer Echo-Requests only when Opened (RFC 1661 §5.8).
    fn handle_extended(&mut self, state: State, code: u8, identifier: u8, data: &[u8]) -> Extended {
        let _ = (state, code, identifier, data);
        Extended::Unknown
    }
}

/// Why the layer finished (This-Layer-Finished, RFC 1661 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FinishReason {
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
        code: u8,
    },
    /// The peer Protocol-Rejected this protocol (RXJ-, RFC 1661 §5.7).
    ProtocolRejected,
}

/// The layer hooks of RFC 1661 §4.4, reported to the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FsmEvent {
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
}

/// Counters of what the automaton dropped or ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsmStats {
    /// Packets dropped as malformed (bad header, bad option list).
    pub malformed: u64,
    /// Configure replies with a stale Identifier or options not matching ours.
    pub stale: u64,
    /// Packets received in Initial or Starting, where none may arrive.
    pub unexpected: u64,
    /// Output packets dropped because the transmit queue was full.
    pub transmit_dropped: u64,
    /// Events dropped because the event queue was full.
    pub events_dropped: u64,
    /// Code-Rejects sent (RUC).
    pub code_rejects_sent: u64,
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

/// The RFC 1661 §4 automaton for one control protocol. See the module docs
/// for the driving contract.
#[derive(Debug)]
pub struct Fsm<N: Negotiator> {
    negotiator: N,
    config: FsmConfig,
    state: State,
    deadline: Option<Instant>,
    restart_count: u32,
    failure_count: u32,
    next_identifier: u8,
    request_identifier: u8,
    request: Vec<u8>,
    answered: bool,
    reject_reason: FinishReason,
    peer_terminated: bool,
    transmit: VecDeque<Packet>,
    events: VecDeque<FsmEvent>,
    stats: FsmStats,
}

impl<N: Negotiator> Fsm<N> {
    /// A machine in the Initial state.
    pub fn new(negotiator: N, config: FsmConfig) -> Self {
        Fsm {
            negotiator,
            config,
            state: State::Initial,
            deadline: None,
            restart_count: 0,
            failure_count: 0,
            next_identifier: 1,
            request_identifier: 0,
            request: Vec::new(),
            answered: true,
            reject_reason: FinishReason::ProtocolRejected,
            peer_terminated: false,
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
        self.transmit.pop_front()
    }

    /// The next layer event, oldest first.
    pub fn poll_event(&mut self) -> Option<FsmEvent> {
        self.events.pop_front()
    }

    /// When to call [`Fsm::handle_timeout`], if a timer runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// The Restart timer fired: TO+ while the Restart counter is above zero,
    /// else TO-. Early or repeated calls do nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.deadline {
            Some(deadline) if now >= deadline => {}
            _ => return,
        }
        self.deadline = None;
        let event = if self.restart_count > 0 {
            Event::TimeoutPositive
        } else {
            Event::TimeoutNegative
        };
        self.dispatch(now, event, Received::default());
    }

    /// The lower layer is up (Up event).
    pub fn up(&mut self, now: Instant) {
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
        match split_packet(packet) {
            Some((code, identifier, data)) => self.handle(now, code, identifier, data),
            None => self.stats.malformed = self.stats.malformed.saturating_add(1),
        }
    }

    /// Handles a packet already split into Code, Identifier and data.
    pub fn handle(&mut self, now: Instant, code: u8, identifier: u8, data: &[u8]) {
        if matches!(self.state, State::Initial | State::Starting) {
            // RFC 1661 §4.1: no packet can arrive while the lower layer is down.
            self.stats.unexpected = self.stats.unexpected.saturating_add(1);
            return;
        }
        match code {
            CONFIGURE_REQUEST => self.receive_configure_request(now, identifier, data),
            CONFIGURE_ACK => self.receive_configure_ack(now, identifier, data),
            CONFIGURE_NAK | CONFIGURE_REJECT => {
                self.receive_configure_nak(now, code, identifier, data)
            }
            TERMINATE_REQUEST => self.dispatch(now, Event::TerminateRequest, received(identifier)),
            TERMINATE_ACK => self.dispatch(now, Event::TerminateAck, received(identifier)),
            CODE_REJECT => self.receive_code_reject(now, identifier, data),
            _ => self.receive_extended(now, code, identifier, data),
        }
    }

    fn receive_configure_request(&mut self, now: Instant, identifier: u8, options: &[u8]) {
        if matches!(self.state, State::Closed | State::Closing | State::Stopping) {
            // RFC 1661 §4.1: sta or nothing; the options are not judged.
            self.dispatch(now, Event::GoodConfigureRequest, received(identifier));
            return;
        }
        let reject_instead_of_nak = self.failure_count >= self.config.max_failure;
        let (mut nak, mut reject) = (Vec::new(), Vec::new());
        let verdict =
            self.negotiator
                .check_request(options, reject_instead_of_nak, &mut nak, &mut reject);
        let (event, code, data) = match verdict {
            Ok(Verdict::Ack) => (Event::GoodConfigureRequest, CONFIGURE_ACK, options.to_vec()),
            Ok(Verdict::Nak) => (Event::BadConfigureRequest, CONFIGURE_NAK, nak),
            Ok(Verdict::Reject) => (Event::BadConfigureRequest, CONFIGURE_REJECT, reject),
            Err(_) => {
                self.stats.malformed = self.stats.malformed.saturating_add(1);
                return;
            }
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
    }

    /// Whether a Configure-Ack/Nak/Reject answers our outstanding request.
    fn answers_our_request(&mut self, identifier: u8) -> bool {
        // RFC 1661 §5.2-§5.4: replies not matching the request are discarded.
        let fresh = self.answered || identifier != self.request_identifier;
        if fresh {
            self.stats.stale = self.stats.stale.saturating_add(1);
        }
        !fresh
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
            if !self.negotiator.on_ack(options) {
                self.stats.malformed = self.stats.malformed.saturating_add(1);
                return;
            }
            self.answered = true;
        }
        self.dispatch(now, Event::ConfigureAck, received(identifier));
    }

    fn receive_configure_nak(&mut self, now: Instant, code: u8, identifier: u8, options: &[u8]) {
        if self.state.is_negotiating() || self.state == State::Opened {
            if !self.answers_our_request(identifier) {
                return;
            }
            let accepted = if code == CONFIGURE_NAK {
                self.negotiator.on_nak(options)
            } else {
                self.negotiator.on_reject(options)
            };
            if !accepted {
                self.stats.malformed = self.stats.malformed.saturating_add(1);
                return;
            }
            self.answered = true;
        }
        self.dispatch(now, Event::ConfigureNak, received(identifier));
    }

    fn receive_code_reject(&mut self, now: Instant, identifier: u8, data: &[u8]) {
        let Some(&code) = data.first() else {
            self.stats.malformed = self.stats.malformed.saturating_add(1);
            return;
        };
        // RFC 1661 §5.6: rejecting a code the automaton needs is catastrophic.
        let fatal = (CONFIGURE_REQUEST..=CODE_REJECT).contains(&code)
            || self.negotiator.code_is_required(code);
        let event = if fatal {
            self.reject_reason = FinishReason::CodeRejected { code };
            Event::CatastrophicReject
        } else {
            Event::PermittedReject
        };
        self.dispatch(now, event, received(identifier));
    }

    fn receive_extended(&mut self, now: Instant, code: u8, identifier: u8, data: &[u8]) {
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
        self.dispatch(now, event, Received { identifier, reply });
    }

    /// A Code-Reject carrying the rejected packet, cut to the peer's MRU
    /// (RFC 1661 §5.6).
    fn code_reject(&mut self, code: u8, identifier: u8, data: &[u8]) -> Packet {
        let room = usize::from(self.config.peer_mru).saturating_sub(HEADER_LEN);
        let length = HEADER_LEN.saturating_add(data.len());
        let mut rejected = Vec::with_capacity(length.min(room));
        rejected.push(code);
        rejected.push(identifier);
        rejected.extend_from_slice(&u16::try_from(length).unwrap_or(u16::MAX).to_be_bytes());
        rejected.extend_from_slice(data);
        rejected.truncate(room);
        Packet {
            code: CODE_REJECT,
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
            self.deadline = None;
        }
        if !state.is_negotiating() {
            // RFC 1661 §4.6: Max-Failure counts Naks within one negotiation.
            self.failure_count = 0;
        }
    }

    fn emit(&mut self, event: FsmEvent) {
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
        self.deadline = Some(now + self.config.restart_timer);
    }

    /// tlf: This-Layer-Finished, then the new state.
    fn tlf(&mut self, reason: FinishReason, state: State) {
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
        if !self.state.is_negotiating() {
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
            code: CONFIGURE_REQUEST,
            identifier: self.request_identifier,
            data: self.request.clone(),
        };
        self.push(packet);
    }

    /// sca: Send-Configure-Ack (the reply prepared from the request).
    fn sca(&mut self, rx: Received) {
        self.failure_count = 0;
        self.send_reply(rx);
    }

    /// scn: Send-Configure-Nak or -Reject (the reply prepared from the request).
    fn scn(&mut self, rx: Received) {
        if rx.reply.as_ref().map(|p| p.code) == Some(CONFIGURE_NAK) {
            self.failure_count = self.failure_count.saturating_add(1);
        }
        self.send_reply(rx);
    }

    /// str: Send-Terminate-Request with a new Identifier.
    fn str(&mut self, now: Instant) {
        self.restart_count = self.restart_count.saturating_sub(1);
        self.start_timer(now);
        let identifier = self.new_identifier();
        self.push(Packet {
            code: TERMINATE_REQUEST,
            identifier,
            data: Vec::new(),
        });
    }

    /// sta: Send-Terminate-Ack echoing the received Identifier.
    fn sta(&mut self, rx: Received) {
        self.push(Packet {
            code: TERMINATE_ACK,
            identifier: rx.identifier,
            data: Vec::new(),
        });
    }

    /// sca, scn, scj, ser: send the reply the received packet prepared.
    fn send_reply(&mut self, rx: Received) {
        if let Some(packet) = rx.reply {
            if packet.code == CODE_REJECT {
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

/// Splits Code, Identifier and data off a packet; `None` if the Length
/// field is below 4 or runs past the bytes present (RFC 1661 §5).
fn split_packet(packet: &[u8]) -> Option<(u8, u8, &[u8])> {
    let header: [u8; HEADER_LEN] = packet.get(..HEADER_LEN)?.try_into().ok()?;
    let [code, identifier, high, low] = header;
    let length = usize::from(u16::from_be_bytes([high, low]));
    if length < HEADER_LEN {
        return None;
    }
    let data = packet.get(HEADER_LEN..length)?;
    Some((code, identifier, data))
}
