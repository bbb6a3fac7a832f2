//! CCP option policy for MPPE and MPPC (RFC 1962, RFC 3078 §2, RFC 2118 §2).
//!
//! Option 18 carries the MPPE/MPPC bits. A client typically offers several
//! strengths (pptp-linux: H+S+L, `0x01000060`); the other side Naks down to
//! exactly one strength and the stateless bit its policy wants, and the
//! offerer takes the Nak if its policy allows (the Windows capture settles
//! on H+S, `0x01000040`). While MPPE is allowed, option 18 is never
//! Configure-Rejected: a request with nothing we accept is Nak'ed with what
//! we would take (RFC 3078 §2), and when MPPE is required and the peer's
//! Nak or Reject leaves no choice, the session ends
//! (`DownReason::MppeNegotiationFailed`). Every other CCP option is
//! Configure-Rejected.
//!
//! The `C` bit (MPPC) follows [`CcpConfig::mppc`]: offered and accepted when
//! it is set, Nak'ed off when it is not. `C` may come alone (compression
//! without encryption) unless MPPE is [`MppeRequirement::Required`]: a
//! `C`-only offer is then Nak'ed to the strength we want (plus `C`), and a
//! `C`-only agreement leaves MPPE down, so the session fails with
//! `MppeRefused` rather than carry plaintext.
//!
//! RFC 1962 §2: the bits of a Configure-Request say what its sender is
//! willing to receive, so MPPC compresses what we send when the peer's
//! request carried `C` and decompresses what we receive when ours did.
//!
//! The [`ppp` example](crate::ppp#example) narrows a client's offer of any
//! strength to the stateless MPPE-128 its server requires.

use alloc::vec::Vec;

use super::fsm::{Extended, Negotiator, Packet, Reply, State};
use crate::wire::cp::{CcpConfigOption, Code};
use crate::wire::mppe::MppeBits;

/// Whether MPPE must, may or must not be used. The [`ppp` example](crate::ppp#example)
/// requires it on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MppeRequirement {
    /// No IP packet goes either way unencrypted: if CCP does not agree on
    /// MPPE, the link goes down (pppd `require-mppe`).
    Required,
    /// MPPE if the peer agrees, plaintext otherwise.
    Optional,
    /// CCP is not run.
    Refused,
}

/// Stateless mode policy (the H bit). In the [`ppp` example](crate::ppp#example) the
/// server requires it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatelessPolicy {
    /// Stateless only (rekey every packet; robust to loss); pppd without
    /// `mppe-stateful`.
    Required,
    /// Stateless preferred, stateful accepted when the peer Naks our
    /// request toward it (the default, like Windows).
    Preferred,
    /// Stateful preferred: we ask for it, and take stateless when the peer
    /// Naks our request toward it (pppd `mppe-stateful`).
    Refused,
    /// Stateful only: a peer's stateless request is Nak'ed.
    StatefulOnly,
}

/// CCP policy.
///
/// # pppd options
///
/// The constructors take pppd's option names; `mppe-stateful` is
/// [`CcpConfig::stateful`]:
///
/// ```
/// use pptp_proto::ppp::ccp::{CcpConfig, MppeRequirement, StatelessPolicy};
/// use pptp_proto::wire::mppe::MppeBits;
///
/// let any = CcpConfig::require_mppe();
/// assert_eq!(any.mppe, MppeRequirement::Required);
/// assert_eq!(any.strengths, MppeBits::BITS_40 | MppeBits::BITS_56 | MppeBits::BITS_128);
/// assert_eq!(CcpConfig::require_mppe_128().strengths, MppeBits::BITS_128);
/// assert_eq!(CcpConfig::require_mppe_56().strengths, MppeBits::BITS_56);
/// assert_eq!(CcpConfig::require_mppe_40().strengths, MppeBits::BITS_40);
/// assert_eq!(CcpConfig::nomppe().mppe, MppeRequirement::Refused);
/// // pppd `mppe-stateful`: stateful preferred, a stateless peer accepted.
/// assert_eq!(any.stateful(false).stateless, StatelessPolicy::Refused);
/// // Stateful required.
/// assert_eq!(any.stateful(true).stateless, StatelessPolicy::StatefulOnly);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CcpConfig {
    /// Whether MPPE is required (default), optional or refused.
    /// [`MppeRequirement::Refused`] with [`CcpConfig::mppc`] still runs CCP,
    /// for compression only.
    pub mppe: MppeRequirement,
    /// Allowed strengths: any of [`MppeBits::BITS_40`], [`MppeBits::BITS_56`],
    /// [`MppeBits::BITS_128`] (default 128 only, as pppd `require-mppe-128`).
    pub strengths: MppeBits,
    /// Stateless mode.
    pub stateless: StatelessPolicy,
    /// Stateful mode: a Reset-Request derives a new key (Linux `ppp_mppe`)
    /// instead of restarting RC4 (default; see
    /// [`MppeOptions::reset_rekeys`](crate::mppe::MppeOptions::reset_rekeys)).
    /// A Linux peer (pppd with `mppe-stateful`) needs `true`: `interop/run`
    /// shows it resynchronising after a loss with it and never without.
    pub reset_rekeys: bool,
    /// Offer and accept MPPC compression (the `C` bit, RFC 2118), with or
    /// without MPPE. Default off: `C` is Nak'ed off.
    pub mppc: bool,
}

impl CcpConfig {
    /// pppd `require-mppe`: MPPE required, any strength (see the
    /// [example](CcpConfig#pppd-options)).
    pub fn require_mppe() -> Self {
        CcpConfig {
            strengths: STRENGTHS,
            ..CcpConfig::default()
        }
    }

    /// pppd `require-mppe-128` (the default; see the [example](CcpConfig#pppd-options)).
    pub fn require_mppe_128() -> Self {
        CcpConfig::default()
    }

    /// MPPE required, 56-bit keys only (see the [example](CcpConfig#pppd-options)).
    pub fn require_mppe_56() -> Self {
        CcpConfig {
            strengths: MppeBits::BITS_56,
            ..CcpConfig::default()
        }
    }

    /// pppd `require-mppe-40` (see the [example](CcpConfig#pppd-options)).
    pub fn require_mppe_40() -> Self {
        CcpConfig {
            strengths: MppeBits::BITS_40,
            ..CcpConfig::default()
        }
    }

    /// pppd `nomppe`: CCP does not run (see the [example](CcpConfig#pppd-options)).
    pub fn nomppe() -> Self {
        CcpConfig {
            mppe: MppeRequirement::Refused,
            ..CcpConfig::default()
        }
    }

    /// pppd `mppe-stateful`: ask for stateful mode and accept a peer that
    /// asks for stateless; `required` Naks stateless too (see the
    /// [example](CcpConfig#pppd-options)).
    pub fn stateful(self, required: bool) -> Self {
        let stateless = if required {
            StatelessPolicy::StatefulOnly
        } else {
            StatelessPolicy::Refused
        };
        CcpConfig { stateless, ..self }
    }
}

impl Default for CcpConfig {
    fn default() -> Self {
        CcpConfig {
            mppe: MppeRequirement::Required,
            strengths: MppeBits::BITS_128,
            stateless: StatelessPolicy::Preferred,
            reset_rekeys: true,
            mppc: false,
        }
    }
}

const STRENGTHS: MppeBits = MppeBits::BITS_40
    .union(MppeBits::BITS_56)
    .union(MppeBits::BITS_128);

/// What CCP reports beside its automaton, as
/// [`FsmEvent::Report`](super::fsm::FsmEvent::Report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum CcpReport {
    /// The peer sent a Reset-Request (RFC 1962 §5.1): the MPPE sender must
    /// flush (a FLUSHED packet next).
    ResetRequested,
}

/// The CCP [`Negotiator`].
#[derive(Debug, Clone)]
pub(crate) struct Ccp {
    config: CcpConfig,
    /// The bits we offer; `None` once the peer rejected option 18.
    request: Option<MppeBits>,
    /// The bits of the peer's request we acknowledged.
    peer_agreed: Option<MppeBits>,
    /// The bits of our request the peer acknowledged.
    agreed: Option<MppeBits>,
    /// A Reset-Request arrived ([`Negotiator::poll_report`]).
    reset_requested: bool,
    /// MPPE is required and the peer left nothing to agree on.
    failed: bool,
}

impl Ccp {
    /// A CCP policy.
    pub fn new(config: CcpConfig) -> Self {
        let mut ccp = Ccp {
            config,
            request: None,
            peer_agreed: None,
            agreed: None,
            reset_requested: false,
            failed: false,
        };
        ccp.reset();
        ccp
    }

    /// The policy.
    pub fn config(&self) -> &CcpConfig {
        &self.config
    }

    /// The MPPE bits both directions agreed on, once CCP is open: `None` if
    /// either side went without option 18.
    pub fn agreed(&self) -> Option<MppeBits> {
        match (self.agreed, self.peer_agreed) {
            // The send direction follows what the peer acknowledged.
            (Some(ours), Some(_)) => Some(ours),
            _ => None,
        }
    }

    /// Whether MPPC runs on what we send and on what we receive, once CCP
    /// is open: the peer's acknowledged request carried `C` (it decompresses
    /// what we send), and ours did (RFC 1962 §2).
    pub fn mppc_directions(&self) -> (bool, bool) {
        let has_c = |b: Option<MppeBits>| b.is_some_and(|b| b.contains(MppeBits::MPPC));
        match (self.agreed, self.peer_agreed) {
            (Some(_), Some(_)) => (has_c(self.peer_agreed), has_c(self.agreed)),
            _ => (false, false),
        }
    }

    /// Stops offering and accepting MPPE (no keys: authentication was not
    /// MS-CHAP) while MPPC may still be negotiated. Takes effect at once.
    pub fn refuse_mppe(&mut self) {
        self.config.mppe = MppeRequirement::Refused;
        self.reset();
    }

    /// Whether option 18 is negotiated at all.
    fn wants_option(&self) -> bool {
        self.config.mppe != MppeRequirement::Refused || self.config.mppc
    }

    /// What our policy makes of `bits`: the strongest allowed strength in
    /// it, the H bit our policy picks given whether `bits` offered it, and
    /// `C` if both want MPPC. `None` if nothing acceptable is left.
    fn choose(&self, bits: MppeBits) -> Option<MppeBits> {
        let mppe = self.config.mppe;
        let mppc = self.config.mppc && bits.contains(MppeBits::MPPC);
        let mut choice = if mppc {
            MppeBits::MPPC
        } else {
            MppeBits::empty()
        };
        if mppe != MppeRequirement::Refused {
            let offered = bits & STRENGTHS;
            // A `C`-only offer when MPPE is required: ask for our strength.
            let pool = if offered.is_empty() && mppe == MppeRequirement::Required {
                self.config.strengths
            } else {
                offered & self.config.strengths
            };
            match [MppeBits::BITS_128, MppeBits::BITS_56, MppeBits::BITS_40]
                .into_iter()
                .find(|s| pool.contains(*s))
            {
                Some(strength) => choice |= strength,
                None if mppe == MppeRequirement::Required || !mppc => return None,
                None => {}
            }
        }
        if choice.is_empty() {
            return None;
        }
        let stateless = match self.config.stateless {
            StatelessPolicy::Required => true,
            // Both directions in one mode: pppd and the Linux kernel run
            // one MPPE mode for the link, so a peer asking for the other H
            // than our request carries is Nak'ed toward ours; if it Naks
            // ours instead, we follow (`follow_nak`) and then agree.
            StatelessPolicy::Preferred | StatelessPolicy::Refused => match self.request {
                Some(r) if !(r & STRENGTHS).is_empty() && !(choice & STRENGTHS).is_empty() => {
                    r.contains(MppeBits::STATELESS)
                }
                _ => bits.contains(MppeBits::STATELESS),
            },
            StatelessPolicy::StatefulOnly => false,
        };
        Some(if stateless {
            choice | MppeBits::STATELESS
        } else {
            choice
        })
    }

    /// RFC 3078 §2: while MPPE is allowed, option 18 is not rejected: a
    /// request with nothing we accept is Nak'ed with what we would take
    /// (our strongest strength, our H bit, `C` if we want MPPC).
    fn counter_offer(&self) -> Option<MppeBits> {
        if self.config.mppe == MppeRequirement::Refused {
            return None;
        }
        let mut bits = [MppeBits::BITS_128, MppeBits::BITS_56, MppeBits::BITS_40]
            .into_iter()
            .find(|s| self.config.strengths.contains(*s))?;
        if matches!(
            self.config.stateless,
            StatelessPolicy::Required | StatelessPolicy::Preferred
        ) {
            bits |= MppeBits::STATELESS;
        }
        if self.config.mppc {
            bits |= MppeBits::MPPC;
        }
        Some(bits)
    }

    /// Whether `bits` is at most one strength we allow (exactly one when
    /// MPPE is required), `C` only if we want MPPC, something at all, and an
    /// H bit we accept.
    fn acceptable(&self, bits: MppeBits) -> bool {
        let strengths = bits & STRENGTHS;
        let strength_ok = match strengths.bits().count_ones() {
            0 => self.config.mppe != MppeRequirement::Required,
            1 => {
                self.config.mppe != MppeRequirement::Refused
                    && self.config.strengths.contains(strengths)
            }
            _ => false,
        };
        let c_ok = self.config.mppc || !bits.contains(MppeBits::MPPC);
        let something = !(bits & (STRENGTHS | MppeBits::MPPC)).is_empty();
        let extra = bits - STRENGTHS - MppeBits::STATELESS - MppeBits::MPPC;
        let h_ok = match self.config.stateless {
            StatelessPolicy::Required => bits.contains(MppeBits::STATELESS),
            StatelessPolicy::Preferred | StatelessPolicy::Refused => true,
            StatelessPolicy::StatefulOnly => !bits.contains(MppeBits::STATELESS),
        };
        strength_ok && c_ok && something && extra.is_empty() && h_ok
    }
}

impl Ccp {
    /// Whether MPPE is required and the peer's Naks or Rejects left nothing
    /// to ask for: the session ends the link (pppd: "MPPE required but peer
    /// negotiation failed").
    pub(crate) fn negotiation_failed(&self) -> bool {
        self.failed
    }

    /// MPPE ran on this link: from now on it is required, so a
    /// renegotiation brings it back or ends the link (never plaintext).
    pub(crate) fn require_mppe(&mut self) {
        self.config.mppe = MppeRequirement::Required;
    }

    fn give_up(&mut self, why: &'static str) {
        crate::trace::event!(warn, why, "MPPE required but peer negotiation failed");
        let _ = why; // unused without the `tracing` feature
        self.failed = true;
    }

    /// The peer Nak'ed option 18 with `bits`: take them if our policy
    /// allows, narrow our offer to what it allows, or stop (RFC 3078 §2).
    fn follow_nak(&mut self, bits: MppeBits) {
        if self.acceptable(bits) {
            self.request = Some(bits);
            return;
        }
        let allowed = bits & self.config.strengths & STRENGTHS;
        let next = if allowed.is_empty() && self.config.mppe == MppeRequirement::Required {
            None
        } else {
            // `C` stays as the peer put it: it may Nak it off.
            self.choose(bits | (self.config.strengths & STRENGTHS))
        };
        // The same request again would draw the same Nak, for ever...
        let mode_only = self
            .request
            .is_some_and(|r| (r ^ bits) - MppeBits::STATELESS == MppeBits::empty());
        match next {
            Some(next) if Some(next) != self.request => self.request = Some(next),
            // ...unless only the H bit differs: the peer Naks toward its
            // own mode and follows ours once we Nak its request (a
            // `mppe-stateful` peer against a stateless-only one), as pppd
            // asks again in its mode. The peer's Max-Failure bounds it.
            Some(_) if mode_only => {}
            _ if self.config.mppe == MppeRequirement::Required => {
                self.give_up("the peer Naks option 18 toward a strength or mode we do not allow")
            }
            // Optional MPPE: carry on without option 18 (plaintext).
            _ => self.request = None,
        }
    }
}

impl Negotiator for Ccp {
    type Opt<'a> = CcpConfigOption<'a>;
    type Report = CcpReport;

    fn poll_report(&mut self) -> Option<CcpReport> {
        core::mem::take(&mut self.reset_requested).then_some(CcpReport::ResetRequested)
    }

    fn name(&self) -> &'static str {
        "CCP"
    }

    fn reset(&mut self) {
        let mut offer = MppeBits::empty();
        if self.config.mppe != MppeRequirement::Refused {
            offer = self.config.strengths & STRENGTHS;
            // H (stateless) is an MPPE mode: MPPC alone is offered with its
            // history kept, the better ratio; a peer's H is still accepted.
            let stateful = matches!(
                self.config.stateless,
                StatelessPolicy::Refused | StatelessPolicy::StatefulOnly
            );
            if !offer.is_empty() && !stateful {
                offer |= MppeBits::STATELESS;
            }
        }
        if self.config.mppc {
            offer |= MppeBits::MPPC;
        }
        self.request = (!offer.is_empty()).then_some(offer);
        self.peer_agreed = None;
        self.agreed = None;
    }

    fn build_request(&mut self, out: &mut Vec<u8>) {
        if let Some(bits) = self.request {
            CcpConfigOption::Mppe(bits).emit(out);
        }
    }

    fn check_request(&mut self, options: &[CcpConfigOption<'_>], reply: &mut Reply) {
        let mut agreed = None;
        for option in options {
            match option {
                CcpConfigOption::Mppe(bits) if self.wants_option() => {
                    match self.choose(*bits).or_else(|| self.counter_offer()) {
                        Some(choice) if choice == *bits => agreed = Some(choice),
                        Some(choice) => reply.nak(option, &CcpConfigOption::Mppe(choice)),
                        None => reply.reject(option),
                    }
                }
                _ => reply.reject(option),
            }
        }
        if reply.verdict() == Code::CONFIGURE_ACK {
            self.peer_agreed = agreed;
        }
    }

    fn on_ack(&mut self, _options: &[CcpConfigOption<'_>]) -> bool {
        self.agreed = self.request.filter(|b| self.acceptable(*b));
        true
    }

    fn on_nak(&mut self, options: &[CcpConfigOption<'_>]) -> bool {
        for option in options {
            if let CcpConfigOption::Mppe(bits) = *option {
                self.follow_nak(bits);
            }
        }
        true
    }

    fn on_reject(&mut self, options: &[CcpConfigOption<'_>]) -> bool {
        if options
            .iter()
            .any(|o| matches!(o, CcpConfigOption::Mppe(_)))
        {
            self.request = None;
            if self.config.mppe == MppeRequirement::Required {
                // RFC 3078 §2: without option 18 there is no MPPE; asking
                // again without it would only open CCP to go down (pppd).
                self.give_up("the peer rejected option 18 (MPPE)");
            }
        }
        true
    }

    fn handle_extended(
        &mut self,
        state: State,
        code: Code,
        identifier: u8,
        _data: &[u8],
    ) -> Extended {
        match code {
            Code::RESET_REQUEST => {
                if state == State::Opened {
                    self.reset_requested = true;
                }
                Extended::Reply(Packet {
                    code: Code::RESET_ACK,
                    identifier,
                    data: Vec::new(),
                })
            }
            Code::RESET_ACK => Extended::Handled,
            _ => Extended::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::cp::parse_options;

    const S: MppeBits = MppeBits::BITS_128;
    const H: MppeBits = MppeBits::STATELESS;
    const C: MppeBits = MppeBits::MPPC;

    fn ccp(mppe: MppeRequirement, mppc: bool) -> Ccp {
        Ccp::new(CcpConfig {
            mppe,
            mppc,
            ..CcpConfig::default()
        })
    }

    fn option(bits: MppeBits) -> [CcpConfigOption<'static>; 1] {
        [CcpConfigOption::Mppe(bits)]
    }

    /// The verdict on a peer request of `bits`, and the Nak'ed bits if any.
    fn judge(ccp: &mut Ccp, bits: MppeBits) -> (Code, Option<MppeBits>) {
        let mut reply = Reply::new(false);
        ccp.check_request(&option(bits), &mut reply);
        let naked = match parse_options::<CcpConfigOption<'_>>(reply.naks())
            .unwrap()
            .first()
        {
            Some(CcpConfigOption::Mppe(b)) => Some(*b),
            _ => None,
        };
        (reply.verdict(), naked)
    }

    fn request(ccp: &mut Ccp) -> Option<MppeBits> {
        let mut out = Vec::new();
        ccp.build_request(&mut out);
        match parse_options::<CcpConfigOption<'_>>(&out).unwrap().first() {
            Some(CcpConfigOption::Mppe(b)) => Some(*b),
            _ => None,
        }
    }

    #[test]
    fn c_is_offered_only_when_configured() {
        assert_eq!(
            request(&mut ccp(MppeRequirement::Required, false)),
            Some(S | H)
        );
        assert_eq!(
            request(&mut ccp(MppeRequirement::Required, true)),
            Some(S | H | C)
        );
        assert_eq!(request(&mut ccp(MppeRequirement::Refused, true)), Some(C));
        assert_eq!(request(&mut ccp(MppeRequirement::Refused, false)), None);
        let mut keyless = ccp(MppeRequirement::Optional, true);
        keyless.refuse_mppe();
        assert_eq!(request(&mut keyless), Some(C));
    }

    #[test]
    fn unwanted_c_is_naked_off() {
        let mut c = ccp(MppeRequirement::Required, false);
        assert_eq!(judge(&mut c, S | H | C), (Code::CONFIGURE_NAK, Some(S | H)));
        assert_eq!(judge(&mut c, S | H), (Code::CONFIGURE_ACK, None));
        // Optional MPPE, no MPPC: a C-only offer is Nak'ed toward MPPE
        // (RFC 3078 §2: option 18 is not rejected while MPPE is allowed).
        let mut c = ccp(MppeRequirement::Optional, false);
        assert_eq!(judge(&mut c, C), (Code::CONFIGURE_NAK, Some(S | H)));
    }

    #[test]
    fn wanted_c_is_acked_alone_or_with_mppe() {
        let mut c = ccp(MppeRequirement::Optional, true);
        assert_eq!(judge(&mut c, S | H | C), (Code::CONFIGURE_ACK, None));
        assert_eq!(judge(&mut c, C), (Code::CONFIGURE_ACK, None));
        assert_eq!(judge(&mut c, C | H), (Code::CONFIGURE_ACK, None));
        // Several strengths are narrowed to one, C kept.
        assert_eq!(
            judge(&mut c, S | MppeBits::BITS_40 | C),
            (Code::CONFIGURE_NAK, Some(S | H | C))
        );
        let mut c = ccp(MppeRequirement::Refused, true);
        assert_eq!(judge(&mut c, C), (Code::CONFIGURE_ACK, None));
        // MPPE refused: strengths are Nak'ed off, C kept.
        assert_eq!(judge(&mut c, S | H | C), (Code::CONFIGURE_NAK, Some(C | H)));
        assert_eq!(judge(&mut c, S | H).0, Code::CONFIGURE_REJECT);
    }

    #[test]
    fn required_mppe_answers_c_only_with_a_strength() {
        let mut c = ccp(MppeRequirement::Required, true);
        assert_eq!(judge(&mut c, C), (Code::CONFIGURE_NAK, Some(S | H | C)));
        let mut c = ccp(MppeRequirement::Required, false);
        assert_eq!(judge(&mut c, C), (Code::CONFIGURE_NAK, Some(S | H)));
        // A strength we do not allow is Nak'ed to the one we do, not rejected.
        assert_eq!(
            judge(&mut c, MppeBits::BITS_40),
            (Code::CONFIGURE_NAK, Some(S | H))
        );
    }

    #[test]
    fn option_18_is_naked_not_rejected_while_mppe_is_allowed() {
        // pptpd `require-mppe-40` asks for L|H; our default allows 128 only.
        let l = MppeBits::BITS_40;
        for mppe in [MppeRequirement::Required, MppeRequirement::Optional] {
            let mut c = ccp(mppe, false);
            assert_eq!(
                judge(&mut c, l | H),
                (Code::CONFIGURE_NAK, Some(S | H)),
                "{mppe:?}"
            );
        }
        // MPPE refused: nothing to offer, so option 18 is rejected.
        let mut c = ccp(MppeRequirement::Refused, false);
        assert_eq!(judge(&mut c, l | H).0, Code::CONFIGURE_REJECT);
    }

    #[test]
    fn the_strength_follows_the_pppd_option() {
        let l = MppeBits::BITS_40;
        let m = MppeBits::BITS_56;
        // require-mppe: any strength, the strongest offered wins.
        let mut c = Ccp::new(CcpConfig::require_mppe());
        assert_eq!(
            judge(&mut c, S | m | l | H),
            (Code::CONFIGURE_NAK, Some(S | H))
        );
        assert_eq!(judge(&mut c, l | H), (Code::CONFIGURE_ACK, None));
        assert_eq!(request(&mut c), Some(S | m | l | H));
        // require-mppe-40 Acks 40 and Naks 128 down to 40.
        let mut c = Ccp::new(CcpConfig::require_mppe_40());
        assert_eq!(judge(&mut c, l | H), (Code::CONFIGURE_ACK, None));
        assert_eq!(judge(&mut c, S | H), (Code::CONFIGURE_NAK, Some(l | H)));
        // require-mppe-56.
        let mut c = Ccp::new(CcpConfig::require_mppe_56());
        assert_eq!(judge(&mut c, S | m | H), (Code::CONFIGURE_NAK, Some(m | H)));
    }

    #[test]
    fn stateful_is_a_preference_unless_required() {
        // mppe-stateful: we ask for stateful, a stateless peer is accepted.
        let mut c = Ccp::new(CcpConfig::default().stateful(false));
        assert_eq!(request(&mut c), Some(S));
        // Against pptpd `mppe-stateful`, which asks +H and Acks -H: both
        // directions end stateful (before, we Acked +H and the link ran
        // one direction of each mode, which Linux cannot decrypt).
        assert_eq!(judge(&mut c, S | H), (Code::CONFIGURE_NAK, Some(S)));
        assert_eq!(judge(&mut c, S), (Code::CONFIGURE_ACK, None));
        // A peer that Naks our stateful request toward stateless is followed.
        assert!(c.on_nak(&option(S | H)));
        assert_eq!(
            (request(&mut c), c.negotiation_failed()),
            (Some(S | H), false)
        );
        assert_eq!(judge(&mut c, S | H), (Code::CONFIGURE_ACK, None));
        // Stateful required: a stateless request is Nak'ed to stateful.
        let mut c = Ccp::new(CcpConfig::default().stateful(true));
        assert_eq!(judge(&mut c, S | H), (Code::CONFIGURE_NAK, Some(S)));
    }

    #[test]
    fn naks_of_our_request_within_policy_are_taken() {
        // The peer takes MPPE but not MPPC.
        let mut c = ccp(MppeRequirement::Optional, true);
        assert!(c.on_nak(&option(S | H)));
        assert_eq!(request(&mut c), Some(S | H));
        // The peer takes MPPC only: fine when MPPE is optional.
        let mut c = ccp(MppeRequirement::Optional, true);
        assert!(c.on_nak(&option(C)));
        assert_eq!(request(&mut c), Some(C));
        // Not when it is required: asking again would loop, so CCP gives up.
        let mut c = ccp(MppeRequirement::Required, true);
        assert!(c.on_nak(&option(C)));
        assert!(c.negotiation_failed());
        // A peer that Naks C on when we do not want it is not followed.
        let mut c = ccp(MppeRequirement::Required, false);
        assert!(c.on_nak(&option(S | H | C)));
        assert_eq!(request(&mut c), Some(S | H));
    }

    #[test]
    fn required_mppe_gives_up_on_a_reject_or_a_nak_outside_policy() {
        // pppd `require-mppe-128` against a peer that Naks toward 40 bits.
        let mut c = ccp(MppeRequirement::Required, false);
        assert!(c.on_nak(&option(MppeBits::BITS_40 | H)));
        assert!(c.negotiation_failed());
        // A Reject of option 18.
        let mut c = ccp(MppeRequirement::Required, false);
        assert!(c.on_reject(&option(S | H)));
        assert!(c.negotiation_failed());
        // Stateless required, the peer Naks toward stateful: only the mode
        // differs, and a peer preferring stateful follows our Nak of its
        // request, so we ask again in our mode (the peer's Max-Failure, or
        // our FSM's, ends a peer that never follows:
        // tests/sessions.rs, a_stateful_preferring_client_takes_...).
        let mut c = Ccp::new(CcpConfig {
            stateless: StatelessPolicy::Required,
            ..CcpConfig::default()
        });
        assert!(c.on_nak(&option(S)));
        assert_eq!(
            (request(&mut c), c.negotiation_failed()),
            (Some(S | H), false)
        );
        // Optional MPPE: option 18 is dropped instead (plaintext), no failure.
        let mut c = ccp(MppeRequirement::Optional, false);
        assert!(c.on_nak(&option(MppeBits::BITS_40 | H)));
        assert_eq!((request(&mut c), c.negotiation_failed()), (None, false));
        // A Nak within policy is no failure.
        let mut c = ccp(MppeRequirement::Required, false);
        assert!(c.on_nak(&option(S)));
        assert_eq!((request(&mut c), c.negotiation_failed()), (Some(S), false));
    }

    #[test]
    fn directions_follow_each_request() {
        let mut c = ccp(MppeRequirement::Optional, true);
        assert_eq!(judge(&mut c, S | H).0, Code::CONFIGURE_ACK);
        c.on_ack(&option(S | H | C));
        // The peer's request had no C: we send uncompressed, receive MPPC.
        assert_eq!(c.mppc_directions(), (false, true));
        assert_eq!(c.agreed(), Some(S | H | C));
    }
}
