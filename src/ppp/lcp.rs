//! LCP option policy (RFC 1661 §6) and the LCP echo keepalive (§5.8).
//!
//! The session's LCP understands MRU, ACCM, Auth-Protocol, Magic-Number
//! (with loopback detection: ten of our own magic numbers back mean a loop,
//! as in pppd), PFC and ACFC; everything else (Windows sends Callback 13 and
//! Multilink 17–19) is Configure-Rejected. An MRU below
//! [`LcpConfig::min_mru`] is Nak'ed up to it; an Auth-Protocol not in
//! [`LcpConfig::auth`] is Nak'ed toward the first one there.
//!
//! The [`ppp` example](crate::ppp#example) agrees on MS-CHAPv1 and an MRU of
//! 1300; [`EchoConfig`] has the keepalive's.

use alloc::vec::Vec;
use core::time::Duration;

use super::fsm::{Extended, Negotiator, Packet, Reply, State};
use crate::rand::Rng;
use crate::time::Instant;
use crate::timer::{timer_reasons, TimerTable};
use crate::wire::cp::{AuthProtocol, ChapAlgorithm, Code, LcpConfigOption};
use crate::wire::ppp::Protocol;

/// An authentication method LCP can agree on. In the [`ppp` example](crate::ppp#example)
/// a client that allows both MS-CHAPs agrees on the server's MS-CHAPv1.
///
/// The three EAP methods share one LCP option (`<auth eap>`, RFC 3748
/// §7.2); which EAP type runs is settled inside EAP: an authenticator
/// offers its method and a peer answers with a legacy Nak naming the types
/// it allows when it does not allow that one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMethod {
    /// PAP (RFC 1334): cleartext password.
    Pap,
    /// CHAP with MD5 (RFC 1994).
    ChapMd5,
    /// MS-CHAP version 1 (RFC 2433).
    MsChapV1,
    /// MS-CHAP version 2 (RFC 2759): mutual; gives MPPE keys.
    MsChapV2,
    /// EAP (RFC 3748) with MD5-Challenge (§5.4, pppd's `require-eap`):
    /// CHAP-MD5's exchange inside EAP; no MPPE keys.
    EapMd5,
    /// EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2): MS-CHAPv2 inside
    /// EAP; mutual, and gives the same MPPE keys as MS-CHAPv2.
    EapMsChapV2,
    /// Authenticator: EAP relayed to an external verifier (EAP
    /// pass-through, RFC 3579): after the peer's Identity every EAP Response
    /// goes to the embedder as an [`AuthEvent::Request`](crate::ppp::auth::AuthEvent::Request)
    /// and every Request comes back as
    /// [`Verdict::Challenge`](crate::ppp::auth::Verdict::Challenge), so a
    /// RADIUS server runs the method (PEAP, EAP-TLS, EAP-TTLS, EAP-MSCHAPv2).
    /// Peer: the same as listing [`EapMsChapV2`](Self::EapMsChapV2) and
    /// [`EapMd5`](Self::EapMd5).
    Eap,
}

impl AuthMethod {
    fn option(self) -> LcpConfigOption<'static> {
        LcpConfigOption::AuthProtocol(match self {
            AuthMethod::Pap => AuthProtocol::Pap,
            AuthMethod::ChapMd5 => AuthProtocol::Chap {
                algorithm: ChapAlgorithm::MD5,
            },
            AuthMethod::MsChapV1 => AuthProtocol::Chap {
                algorithm: ChapAlgorithm::MS_CHAP,
            },
            AuthMethod::MsChapV2 => AuthProtocol::Chap {
                algorithm: ChapAlgorithm::MS_CHAP_V2,
            },
            AuthMethod::EapMd5 | AuthMethod::EapMsChapV2 | AuthMethod::Eap => AuthProtocol::Eap,
        })
    }

    /// Whether the method runs inside EAP.
    ///
    /// ```
    /// use pptp_proto::ppp::lcp::AuthMethod;
    ///
    /// assert!(AuthMethod::EapMsChapV2.is_eap() && AuthMethod::Eap.is_eap());
    /// assert!(!AuthMethod::MsChapV2.is_eap());
    /// ```
    pub fn is_eap(self) -> bool {
        matches!(
            self,
            AuthMethod::EapMd5 | AuthMethod::EapMsChapV2 | AuthMethod::Eap
        )
    }

    /// Whether the method yields MPPE start keys (RFC 3079 §3): the
    /// MS-CHAPs, EAP-MSCHAPv2, and EAP pass-through (whose verifier returns
    /// them, as MS-MPPE-Send-Key/Recv-Key).
    ///
    /// ```
    /// use pptp_proto::ppp::lcp::AuthMethod;
    ///
    /// assert!(AuthMethod::EapMsChapV2.gives_mppe_keys());
    /// assert!(!AuthMethod::EapMd5.gives_mppe_keys() && !AuthMethod::Pap.gives_mppe_keys());
    /// ```
    pub fn gives_mppe_keys(self) -> bool {
        matches!(
            self,
            AuthMethod::MsChapV1 | AuthMethod::MsChapV2 | AuthMethod::EapMsChapV2 | AuthMethod::Eap
        )
    }

    /// The CHAP methods (RFC 1994's packets).
    pub(crate) fn is_chap(self) -> bool {
        matches!(
            self,
            AuthMethod::ChapMd5 | AuthMethod::MsChapV1 | AuthMethod::MsChapV2
        )
    }

    /// The method whose check this one runs: EAP-MD5 is CHAP-MD5's,
    /// EAP-MSCHAPv2 MS-CHAPv2's; the others are their own.
    pub(crate) fn base(self) -> Self {
        match self {
            AuthMethod::EapMd5 => AuthMethod::ChapMd5,
            AuthMethod::EapMsChapV2 => AuthMethod::MsChapV2,
            other => other,
        }
    }

    /// The first method in `list` that LCP's `auth` option names.
    fn first_for<'l>(list: &'l [AuthMethod], auth: &AuthProtocol<'_>) -> Option<(usize, &'l Self)> {
        let wanted = LcpConfigOption::AuthProtocol(*auth);
        list.iter().enumerate().find(|(_, m)| m.option() == wanted)
    }
}

/// LCP policy. The [`ppp` example](crate::ppp#example) sets a server's MRU and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LcpConfig {
    /// The MRU we ask for (default 1400, what Windows and pptpd use over
    /// PPTP); 1500 is the default and is then not requested at all.
    pub mru: u16,
    /// The smallest MRU we accept from the peer (default 576); lower is Nak'ed.
    pub min_mru: u16,
    /// pppd's `mtu`: the largest frame we send, whatever larger MRU the
    /// peer announces (default 1500); the session MTU is the smaller of
    /// this and the peer's MRU. The peer's MRU below it still wins.
    pub mtu: u16,
    /// Ask for Protocol-Field-Compression (default on).
    pub pfc: bool,
    /// Ask for Address-and-Control-Field-Compression (default on).
    pub acfc: bool,
    /// Authenticator: the methods we offer, most preferred first; a Nak
    /// moves to the method the peer suggests if it is listed, else to the
    /// next one, as does a Reject; none left ends the link.
    /// Peer: the methods we accept, whichever the authenticator asks for
    /// (Naks suggest the first). Default: MS-CHAPv2 only, as pptpd and
    /// Windows RRAS require; `SessionConfig::peer` sets MS-CHAPv2,
    /// MS-CHAPv1 and CHAP-MD5, and a peer session requiring MPPE drops
    /// the methods without MPPE keys while an MS-CHAP one is listed. List
    /// PAP only on purpose: the password crosses in clear.
    pub auth: Vec<AuthMethod>,
}

impl Default for LcpConfig {
    fn default() -> Self {
        LcpConfig {
            mru: 1400,
            min_mru: 576,
            mtu: 1500,
            pfc: true,
            acfc: true,
            auth: alloc::vec![AuthMethod::MsChapV2],
        }
    }
}

/// Loopback is declared after this many Configure-Requests carrying our
/// own magic number (pppd's default is 10, too).
const MAX_LOOPBACKS: u32 = 10;

/// What LCP reports beside its automaton, as
/// [`FsmEvent::Report`](super::fsm::FsmEvent::Report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum LcpReport {
    /// The peer Protocol-Rejected this protocol (RFC 1661 §5.7).
    ProtocolRejected(Protocol),
    /// An Echo-Reply to one of our Echo-Requests arrived (RFC 1661 §5.8).
    EchoReply,
}

/// The LCP [`Negotiator`].
#[derive(Debug, Clone)]
pub(crate) struct Lcp {
    config: LcpConfig,
    authenticator: bool,
    /// Our requested options, adjusted by Naks and Rejects.
    request_mru: Option<u16>,
    request_magic: Option<u32>,
    request_pfc: bool,
    request_acfc: bool,
    /// Index into `config.auth` of the method we ask for (authenticator).
    request_auth: Option<usize>,
    /// Indices into `config.auth` offered in this negotiation (bit per index).
    tried_auth: u64,
    /// What the peer asked for in the request we last acknowledged.
    peer_mru: u16,
    peer_magic: Option<u32>,
    peer_pfc: bool,
    peer_acfc: bool,
    peer_auth: Option<AuthMethod>,
    /// What our acknowledged request carried.
    agreed_auth: Option<AuthMethod>,
    magic_source: Rng,
    loopbacks: u32,
    /// Protocols the peer rejected, for the session to stop their NCPs.
    /// What the last extended packet reported ([`Negotiator::poll_report`]).
    report: Option<LcpReport>,
}

impl Lcp {
    /// An LCP policy; `authenticator` selects the role; `magic_seed` feeds
    /// the magic numbers (the crate draws no randomness of its own).
    pub fn new(config: LcpConfig, authenticator: bool, magic_seed: u64) -> Self {
        let mut lcp = Lcp {
            authenticator,
            request_mru: None,
            request_magic: None,
            request_pfc: false,
            request_acfc: false,
            request_auth: None,
            tried_auth: 0,
            peer_mru: 1500,
            peer_magic: None,
            peer_pfc: false,
            peer_acfc: false,
            peer_auth: None,
            agreed_auth: None,
            magic_source: Rng::new(magic_seed),
            loopbacks: 0,
            report: None,
            config,
        };
        lcp.reset();
        lcp
    }

    fn new_magic(&mut self) -> u32 {
        loop {
            let magic = self.magic_source.next_u64() as u32;
            // RFC 1661 §6.4: zero is not a magic number.
            if magic != 0 {
                return magic;
            }
        }
    }

    /// The MRU the peer can receive: the most we may send.
    pub fn peer_mru(&self) -> u16 {
        self.peer_mru
    }

    /// Our configured MRU (what we ask the peer to respect).
    pub(crate) fn own_mru(&self) -> u16 {
        self.config.mru
    }

    /// The configured cap on what we send (pppd's `mtu`).
    pub(crate) fn mtu_cap(&self) -> u16 {
        self.config.mtu
    }

    /// Our magic number (0 if not negotiated).
    pub fn magic(&self) -> u32 {
        self.request_magic.unwrap_or(0)
    }

    /// Whether we may send frames with a one-octet Protocol field.
    pub fn send_pfc(&self) -> bool {
        self.peer_pfc
    }

    /// Whether we may leave out Address and Control.
    pub fn send_acfc(&self) -> bool {
        self.peer_acfc
    }

    /// The authentication the link runs: as authenticator, what the peer
    /// acknowledged in our request; as peer, what we acknowledged in its.
    pub fn auth_method(&self) -> Option<AuthMethod> {
        if self.authenticator {
            self.agreed_auth
        } else {
            self.peer_auth
        }
    }

    /// The methods we allow (after the session's MPPE filter).
    pub(crate) fn auth_methods(&self) -> &[AuthMethod] {
        &self.config.auth
    }

    /// Whether the link looks looped back (our magic number came back).
    pub fn looped_back(&self) -> bool {
        self.loopbacks >= MAX_LOOPBACKS
    }

    /// An Echo-Request with our magic number (RFC 1661 §5.8).
    pub fn echo_request(&self, identifier: u8) -> Packet {
        Packet {
            code: Code::ECHO_REQUEST,
            identifier,
            data: self.magic().to_be_bytes().to_vec(),
        }
    }
}

impl Negotiator for Lcp {
    type Opt<'a> = LcpConfigOption<'a>;
    type Report = LcpReport;

    fn poll_report(&mut self) -> Option<LcpReport> {
        self.report.take()
    }

    fn name(&self) -> &'static str {
        "LCP"
    }

    fn reset(&mut self) {
        self.request_mru = (self.config.mru != 1500).then_some(self.config.mru);
        if self.request_magic.is_none() {
            self.request_magic = Some(self.new_magic());
        }
        self.request_pfc = self.config.pfc;
        self.request_acfc = self.config.acfc;
        self.request_auth = (self.authenticator && !self.config.auth.is_empty()).then_some(0);
        self.tried_auth = u64::from(self.request_auth.is_some());
        self.peer_mru = 1500;
        self.peer_pfc = false;
        self.peer_acfc = false;
        self.peer_auth = None;
        self.agreed_auth = None;
    }

    fn build_request(&mut self, out: &mut Vec<u8>) {
        if let Some(mru) = self.request_mru {
            LcpConfigOption::Mru(mru).emit(out);
        }
        if let Some(method) = self.request_auth.and_then(|i| self.config.auth.get(i)) {
            method.option().emit(out);
        }
        if let Some(magic) = self.request_magic {
            LcpConfigOption::MagicNumber(magic).emit(out);
        }
        if self.request_pfc {
            LcpConfigOption::Pfc.emit(out);
        }
        if self.request_acfc {
            LcpConfigOption::Acfc.emit(out);
        }
    }

    fn check_request(&mut self, options: &[LcpConfigOption<'_>], reply: &mut Reply) {
        let (mut mru, mut magic, mut pfc, mut acfc, mut auth) = (1500, None, false, false, None);
        for option in options {
            match option {
                LcpConfigOption::Mru(m) if *m >= self.config.min_mru => mru = *m,
                LcpConfigOption::Mru(_) => {
                    reply.nak(option, &LcpConfigOption::Mru(self.config.min_mru))
                }
                LcpConfigOption::Accm(_) => {}
                LcpConfigOption::MagicNumber(m) if Some(*m) == self.request_magic || *m == 0 => {
                    // RFC 1661 §6.4: our own magic back means a looped link.
                    self.loopbacks += 1;
                    let fresh = self.new_magic();
                    reply.nak(option, &LcpConfigOption::MagicNumber(fresh));
                }
                LcpConfigOption::MagicNumber(m) => magic = Some(*m),
                LcpConfigOption::Pfc => pfc = true,
                LcpConfigOption::Acfc => acfc = true,
                LcpConfigOption::AuthProtocol(_) if self.authenticator => reply.reject(option),
                LcpConfigOption::AuthProtocol(p) => {
                    match AuthMethod::first_for(&self.config.auth, p) {
                        Some((_, m)) => auth = Some(*m),
                        _ => match self.config.auth.first() {
                            // Suggest the method we prefer (e.g. EAP from Windows → MS-CHAPv2).
                            Some(preferred) => reply.nak(option, &preferred.option()),
                            None => reply.reject(option),
                        },
                    }
                }
                _ => reply.reject(option),
            }
        }
        if reply.verdict() != Code::CONFIGURE_ACK {
            return;
        }
        self.peer_mru = mru;
        self.peer_magic = magic;
        self.peer_pfc = pfc;
        self.peer_acfc = acfc;
        self.peer_auth = auth;
    }

    fn on_ack(&mut self, _options: &[LcpConfigOption<'_>]) -> bool {
        self.agreed_auth = self
            .request_auth
            .and_then(|i| self.config.auth.get(i).copied());
        true
    }

    fn on_nak(&mut self, options: &[LcpConfigOption<'_>]) -> bool {
        for option in options {
            match *option {
                LcpConfigOption::Mru(m) if m >= self.config.min_mru => self.request_mru = Some(m),
                LcpConfigOption::Mru(_) => self.request_mru = None,
                LcpConfigOption::MagicNumber(_) => {
                    self.loopbacks += 1;
                    self.request_magic = Some(self.new_magic());
                }
                LcpConfigOption::AuthProtocol(p) if self.authenticator => {
                    self.follow_auth_nak(Some(&p))
                }
                _ => {}
            }
        }
        true
    }

    fn on_reject(&mut self, options: &[LcpConfigOption<'_>]) -> bool {
        for option in options {
            match option {
                LcpConfigOption::Mru(_) => self.request_mru = None,
                LcpConfigOption::MagicNumber(_) => self.request_magic = None,
                LcpConfigOption::Pfc => self.request_pfc = false,
                LcpConfigOption::Acfc => self.request_acfc = false,
                // RFC 1661 §5.4: the peer will not do this method; offer the next.
                LcpConfigOption::AuthProtocol(_) if self.authenticator => {
                    self.follow_auth_nak(None)
                }
                _ => {}
            }
        }
        true
    }

    fn code_is_required(&self, code: Code) -> bool {
        // Protocol-Reject is needed to keep NCPs honest; Echo is optional.
        code == Code::PROTOCOL_REJECT
    }

    fn handle_extended(
        &mut self,
        state: State,
        code: Code,
        identifier: u8,
        data: &[u8],
    ) -> Extended {
        match code {
            Code::PROTOCOL_REJECT => {
                if let [hi, lo, ..] = data {
                    let protocol = Protocol(u16::from_be_bytes([*hi, *lo]));
                    self.report = Some(LcpReport::ProtocolRejected(protocol));
                }
                Extended::Handled
            }
            Code::ECHO_REQUEST if state == State::Opened => {
                // RFC 1661 §5.8: the reply echoes the data, but no packet may
                // exceed the peer's MRU (§6.1), whatever the request carried.
                let room = usize::from(self.peer_mru).saturating_sub(super::fsm::HEADER_LEN);
                let mut reply = self.magic().to_be_bytes().to_vec();
                reply.extend_from_slice(data.get(4..).unwrap_or_default());
                reply.truncate(room);
                Extended::Reply(Packet {
                    code: Code::ECHO_REPLY,
                    identifier,
                    data: reply,
                })
            }
            Code::ECHO_REPLY => {
                // A reply carrying our own magic is our request looped back.
                if data.get(..4) == Some(&self.magic().to_be_bytes()[..]) && self.magic() != 0 {
                    self.loopbacks += 1;
                } else {
                    self.report = Some(LcpReport::EchoReply);
                }
                Extended::Handled
            }
            Code::ECHO_REQUEST
            | Code::DISCARD_REQUEST
            | Code::IDENTIFICATION
            | Code::TIME_REMAINING => Extended::Handled,
            _ => Extended::Unknown,
        }
    }
}

impl Lcp {
    /// The peer Nak'ed our Auth-Protocol with `suggested`: take it if we
    /// allow it, else move down our list (RFC 1661 §6.2).
    ///
    /// A method is offered once per negotiation, so a peer cannot lead us
    /// round in circles; `None` (a Reject, or a suggestion we do not allow)
    /// moves to the next method not yet offered. The EAP methods share one
    /// option: a peer refusing one refuses them all, so all are marked
    /// tried together.
    fn follow_auth_nak(&mut self, suggested: Option<&AuthProtocol<'_>>) {
        if let Some(i) = self.request_auth {
            self.mark_tried(i);
        }
        let untried = |i: usize| i < 64 && self.tried_auth & (1u64 << i) == 0;
        let list = &self.config.auth;
        let wanted = suggested.and_then(|p| {
            let option = LcpConfigOption::AuthProtocol(*p);
            (0..list.len()).find(|&i| list.get(i).map(|m| m.option()) == Some(option) && untried(i))
        });
        let next = wanted.or_else(|| {
            let from = self.request_auth.map_or(0, |i| i.saturating_add(1));
            let len = list.len();
            (from..len).chain(0..from.min(len)).find(|&i| untried(i))
        });
        let method = next.and_then(|i| list.get(i).copied());
        let _ = (suggested, method); // unused without the `tracing` feature
        crate::trace::event!(
            debug,
            ?suggested,
            offering = ?method,
            "LCP: the peer refused our Auth-Protocol"
        );
        if let Some(i) = next {
            self.mark_tried(i);
        }
        // Nothing left: LCP opens without authentication and the session
        // refuses the link (DownReason::NoAuthMethod).
        self.request_auth = next;
    }

    /// Marks the method at `index`, and every method sharing its option, as
    /// offered.
    fn mark_tried(&mut self, index: usize) {
        let Some(option) = self.config.auth.get(index).map(|m| m.option()) else {
            return;
        };
        for (i, m) in self.config.auth.iter().enumerate().take(64) {
            if m.option() == option {
                self.tried_auth |= 1u64 << i;
            }
        }
    }
}

/// The LCP echo keepalive: an Echo-Request every `interval`, the link
/// declared dead after `max_failures` unanswered in a row (pppd's
/// lcp-echo-interval / lcp-echo-failure; off by default, like pppd).
///
/// # Example
///
/// pppd's `lcp-echo-interval 10` and `lcp-echo-failure 3`, the session's
/// keepalive (a link that misses three in a row goes down with
/// `DownReason::EchoTimeout`):
///
/// ```
/// use core::time::Duration;
/// use pptp_proto::ppp::lcp::EchoConfig;
/// use pptp_proto::ppp::session::SessionConfig;
///
/// let mut config = SessionConfig::authenticator("vpn");
/// assert_eq!(config.echo, EchoConfig::default()); // off
/// config.echo = EchoConfig { interval: Some(Duration::from_secs(10)), max_failures: 3 };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoConfig {
    /// Time between Echo-Requests; `None` turns the keepalive off.
    pub interval: Option<Duration>,
    /// Unanswered Echo-Requests before the link is down.
    pub max_failures: u32,
}

impl Default for EchoConfig {
    /// Off; once an `interval` is set, 3 unanswered requests end the link
    /// (what pptpd's and most pppd configurations use: `lcp-echo-failure 3`).
    fn default() -> Self {
        EchoConfig {
            interval: None,
            max_failures: 3,
        }
    }
}

timer_reasons! {
    /// The echo keepalive's one timer.
    enum EchoTimer {
        /// Send the next Echo-Request (or, too many unanswered, fail).
        Request,
    }
}

/// The echo keepalive's state; the session drives it (its timer is one
/// of the session's, see [`EchoConfig`]).
#[derive(Debug, Clone)]
pub(crate) struct LcpEcho {
    config: EchoConfig,
    timers: TimerTable<EchoTimer, { EchoTimer::COUNT }>,
    outstanding: u32,
    failed: bool,
    /// When the latest Echo-Request went out.
    sent_at: Option<Instant>,
}

impl LcpEcho {
    /// A keepalive with the given configuration, stopped.
    pub(crate) fn new(config: EchoConfig) -> Self {
        LcpEcho {
            config,
            timers: TimerTable::default(),
            outstanding: 0,
            failed: false,
            sent_at: None,
        }
    }

    /// LCP opened: start sending, with no request outstanding and no
    /// earlier failure.
    pub(crate) fn start(&mut self, now: Instant) {
        self.outstanding = 0;
        self.failed = false;
        self.sent_at = None;
        self.timers
            .set_opt(EchoTimer::Request, self.config.interval.map(|i| now + i));
    }

    /// LCP left Opened.
    pub(crate) fn stop(&mut self) {
        self.timers.stop(EchoTimer::Request);
    }

    /// An Echo-Reply arrived at `now`; returns the round-trip time since
    /// the latest Echo-Request (replies do not say which request they
    /// answer: an approximation, exact while one request is outstanding).
    pub(crate) fn on_reply(&mut self, now: Instant) -> Option<Duration> {
        let rtt = self
            .sent_at
            .take()
            .map(|t| now.saturating_duration_since(t));
        self.outstanding = 0;
        rtt
    }

    /// Whether too many Echo-Requests went unanswered.
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    /// When [`LcpEcho::handle_timeout`] is due.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.timers.earliest()
    }

    /// Returns `true` when an Echo-Request is to be sent now.
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> bool {
        let Some(interval) = self.config.interval else {
            return false;
        };
        if !self.timers.fire(EchoTimer::Request, now) {
            return false;
        }
        if self.outstanding >= self.config.max_failures.max(1) {
            self.failed = true;
            return false;
        }
        self.outstanding += 1;
        self.timers.set(EchoTimer::Request, now + interval);
        self.sent_at = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::fsm::{Fsm, FsmConfig, FsmEvent};
    use super::*;
    use crate::wire::cp::parse_options;

    /// The authenticator's request as pptpd sends it: MRU 1400, MS-CHAPv2, a magic number.
    const SERVER_REQUEST: [u8; 15] = [
        1, 4, 0x05, 0x78, 3, 5, 0xc2, 0x23, 0x81, 5, 6, 0x12, 0x34, 0x56, 0x78,
    ];

    fn opened_peer() -> Fsm<Lcp> {
        let now = Instant::ZERO;
        let mut lcp = Fsm::new(
            Lcp::new(LcpConfig::default(), false, 1),
            FsmConfig::default(),
        );
        lcp.open(now);
        lcp.up(now);
        let ours = lcp.poll_transmit().unwrap();
        lcp.handle(now, Code::CONFIGURE_ACK, ours.identifier, &ours.data);
        lcp.handle(now, Code::CONFIGURE_REQUEST, 1, &SERVER_REQUEST);
        assert_eq!(lcp.state(), State::Opened);
        while lcp.poll_transmit().is_some() {}
        while lcp.poll_event().is_some() {}
        lcp
    }

    #[test]
    fn a_renegotiation_keeps_what_it_acknowledged() {
        let mut lcp = opened_peer();
        // The authenticator renegotiates (RFC 1661 §4.1 Opened + RCR).
        lcp.handle(Instant::ZERO, Code::CONFIGURE_REQUEST, 2, &SERVER_REQUEST);
        assert_eq!(lcp.poll_event(), Some(FsmEvent::Down));
        let request = lcp.poll_transmit().unwrap();
        let ack = lcp.poll_transmit().unwrap();
        assert_eq!(
            (request.code, ack.code, ack.identifier),
            (Code::CONFIGURE_REQUEST, Code::CONFIGURE_ACK, 2)
        );
        lcp.handle(
            Instant::ZERO,
            Code::CONFIGURE_ACK,
            request.identifier,
            &request.data,
        );
        assert_eq!(lcp.state(), State::Opened);
        // What the Ack agreed to is what the link uses: MS-CHAPv2 runs
        // again and the MRU stays 1400.
        assert_eq!(lcp.negotiator().auth_method(), Some(AuthMethod::MsChapV2));
        assert_eq!(lcp.negotiator().peer_mru(), 1400);
    }

    /// The Auth-Protocol of our next request, as the method.
    fn offered(lcp: &mut Lcp) -> Option<AuthMethod> {
        let mut out = Vec::new();
        lcp.build_request(&mut out);
        parse_options::<LcpConfigOption<'_>>(&out)
            .unwrap()
            .iter()
            .find_map(|o| match o {
                LcpConfigOption::AuthProtocol(p) => {
                    AuthMethod::first_for(&lcp.config.auth, p).map(|(_, m)| *m)
                }
                _ => None,
            })
    }

    fn auth_option(method: AuthMethod) -> Vec<u8> {
        let mut out = Vec::new();
        method.option().emit(&mut out);
        out
    }

    fn parsed(options: &[u8]) -> Vec<LcpConfigOption<'_>> {
        parse_options(options).unwrap()
    }

    #[test]
    fn the_authenticator_falls_back_in_order() {
        use AuthMethod::*;
        let auth = alloc::vec![MsChapV2, MsChapV1, ChapMd5];
        let mut lcp = Lcp::new(
            LcpConfig {
                auth,
                ..LcpConfig::default()
            },
            true,
            1,
        );
        assert_eq!(offered(&mut lcp), Some(MsChapV2));
        // A Nak suggesting a method in the list: that one.
        assert!(lcp.on_nak(&parsed(&auth_option(ChapMd5))));
        assert_eq!(offered(&mut lcp), Some(ChapMd5));
        // A Reject: the next method not yet offered.
        assert!(lcp.on_reject(&parsed(&auth_option(ChapMd5))));
        assert_eq!(offered(&mut lcp), Some(MsChapV1));
        // A Nak back to one already refused: not offered twice; none left.
        assert!(lcp.on_nak(&parsed(&auth_option(MsChapV2))));
        assert_eq!(offered(&mut lcp), None);
        // A suggestion outside the list moves to the next method.
        let auth = alloc::vec![MsChapV2, MsChapV1];
        let mut lcp = Lcp::new(
            LcpConfig {
                auth,
                ..LcpConfig::default()
            },
            true,
            1,
        );
        assert!(lcp.on_nak(&parsed(&auth_option(Pap))));
        assert_eq!(offered(&mut lcp), Some(MsChapV1));
        // A new negotiation starts from the top.
        lcp.reset();
        assert_eq!(offered(&mut lcp), Some(MsChapV2));
    }

    #[test]
    fn the_peer_accepts_its_set_and_naks_toward_its_favourite() {
        use AuthMethod::*;
        let auth = alloc::vec![MsChapV2, MsChapV1];
        let mut lcp = Lcp::new(
            LcpConfig {
                auth,
                ..LcpConfig::default()
            },
            false,
            1,
        );
        let mut judge = |method: AuthMethod| {
            let reply = lcp.judge(&auth_option(method), false).unwrap();
            (reply.verdict(), reply.naks().to_vec())
        };
        assert_eq!(judge(MsChapV1), (Code::CONFIGURE_ACK, Vec::new()));
        assert_eq!(judge(ChapMd5), (Code::CONFIGURE_NAK, auth_option(MsChapV2)));
        assert_eq!(judge(Pap), (Code::CONFIGURE_NAK, auth_option(MsChapV2)));
    }

    #[test]
    fn echo_replies_fit_the_peers_mru() {
        let lcp = &mut opened_peer();
        let data = [0xee; 2000];
        let Extended::Reply(reply) =
            lcp.negotiator_mut()
                .handle_extended(State::Opened, Code::ECHO_REQUEST, 7, &data)
        else {
            panic!("no Echo-Reply");
        };
        assert_eq!(reply.buffer_len(), 1400);
        // A short request is echoed whole.
        let Extended::Reply(reply) =
            lcp.negotiator_mut()
                .handle_extended(State::Opened, Code::ECHO_REQUEST, 8, &data[..10])
        else {
            panic!("no Echo-Reply");
        };
        assert_eq!(reply.data.len(), 10);
    }

    #[test]
    fn the_keepalive_sends_measures_and_gives_up() {
        let config = EchoConfig {
            interval: Some(Duration::from_secs(10)),
            ..EchoConfig::default()
        };
        let mut echo = LcpEcho::new(config);
        assert_eq!(echo.poll_timeout(), None); // stopped until LCP opens
        echo.start(Instant::ZERO);
        let due = echo.poll_timeout().unwrap();
        assert_eq!(due, Instant::from_secs(10));
        assert!(echo.handle_timeout(due)); // send an Echo-Request now
        let rtt = echo.on_reply(due + Duration::from_millis(40));
        assert_eq!(rtt, Some(Duration::from_millis(40)));
        // Three unanswered requests: the fourth timeout declares the link dead.
        for _ in 0..3 {
            assert!(echo.handle_timeout(echo.poll_timeout().unwrap()));
        }
        assert!(!echo.handle_timeout(echo.poll_timeout().unwrap()));
        assert!(echo.failed());
        echo.stop(); // LCP left Opened
        assert_eq!(echo.poll_timeout(), None);
    }

    #[test]
    fn a_restarted_keepalive_forgets_the_earlier_failure() {
        let config = EchoConfig {
            interval: Some(Duration::from_secs(1)),
            max_failures: 1,
        };
        let mut echo = LcpEcho::new(config);
        echo.start(Instant::ZERO);
        assert!(echo.handle_timeout(Instant::from_secs(1)));
        assert!(!echo.handle_timeout(Instant::from_secs(2)));
        assert!(echo.failed());
        echo.start(Instant::from_secs(3)); // LCP opened again
        assert!(!echo.failed());
        assert!(echo.handle_timeout(Instant::from_secs(4)));
        assert_eq!(
            echo.on_reply(Instant::from_secs(4) + Duration::from_millis(5)),
            Some(Duration::from_millis(5))
        );
        assert!(!echo.failed());
    }
}
