//! CCP option policy for MPPE (RFC 1962, RFC 3078 §2).
//!
//! Option 18 carries the MPPE/MPPC bits. A client typically offers several
//! strengths (pptp-linux: H+S+L, `0x01000060`); the other side Naks down to
//! exactly one strength and the stateless bit its policy wants, and the
//! offerer takes the Nak if its policy allows (the Windows capture settles
//! on H+S, `0x01000040`). Every other CCP option is Configure-Rejected.

use alloc::vec::Vec;

use super::fsm::{Extended, Negotiator, Packet, State, Verdict};
use crate::wire::cp::{parse_options, CcpConfigOption};
use crate::wire::mppe::MppeBits;
use crate::wire::Error;

/// Whether MPPE must, may or must not be used.
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

/// Stateless mode policy (the H bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatelessPolicy {
    /// Stateless only (rekey every packet; robust to loss).
    Required,
    /// Stateless preferred, stateful accepted (the default, like Windows).
    Preferred,
    /// Stateful only.
    Refused,
}

/// CCP policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CcpConfig {
    /// Whether MPPE is required (default), optional or refused.
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
}

impl Default for CcpConfig {
    fn default() -> Self {
        CcpConfig {
            mppe: MppeRequirement::Required,
            strengths: MppeBits::BITS_128,
            stateless: StatelessPolicy::Preferred,
            reset_rekeys: false,
        }
    }
}

const STRENGTHS: MppeBits = MppeBits::BITS_40
    .union(MppeBits::BITS_56)
    .union(MppeBits::BITS_128);

/// The CCP [`Negotiator`].
#[derive(Debug, Clone)]
pub struct Ccp {
    config: CcpConfig,
    /// The bits we offer; `None` once the peer rejected option 18.
    request: Option<MppeBits>,
    /// The bits of the peer's request we acknowledged.
    peer_agreed: Option<MppeBits>,
    /// The bits of our request the peer acknowledged.
    agreed: Option<MppeBits>,
    reset_requested: bool,
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

    /// Takes the fact that the peer sent a Reset-Request (RFC 1962 §2.2):
    /// the MPPE sender must flush.
    pub fn take_reset_request(&mut self) -> bool {
        core::mem::take(&mut self.reset_requested)
    }

    /// The strongest allowed strength in `bits`, with the H bit our policy
    /// picks given whether `bits` offered it.
    fn choose(&self, bits: MppeBits) -> Option<MppeBits> {
        let common = bits & self.config.strengths;
        let strength = [MppeBits::BITS_128, MppeBits::BITS_56, MppeBits::BITS_40]
            .into_iter()
            .find(|s| common.contains(*s))?;
        let stateless = match self.config.stateless {
            StatelessPolicy::Required => true,
            StatelessPolicy::Preferred => bits.contains(MppeBits::STATELESS),
            StatelessPolicy::Refused => false,
        };
        Some(if stateless {
            strength | MppeBits::STATELESS
        } else {
            strength
        })
    }

    /// Whether `bits` is one strength we allow with an H bit we accept.
    fn acceptable(&self, bits: MppeBits) -> bool {
        let strengths = bits & STRENGTHS;
        let one = strengths.bits().count_ones() == 1;
        let extra = bits - STRENGTHS - MppeBits::STATELESS;
        let h_ok = match self.config.stateless {
            StatelessPolicy::Required => bits.contains(MppeBits::STATELESS),
            StatelessPolicy::Preferred => true,
            StatelessPolicy::Refused => !bits.contains(MppeBits::STATELESS),
        };
        one && extra.is_empty() && self.config.strengths.contains(strengths) && h_ok
    }
}

const RESET_REQUEST: u8 = 14;
const RESET_ACK: u8 = 15;

impl Negotiator for Ccp {
    fn reset(&mut self) {
        let mut offer = self.config.strengths & STRENGTHS;
        if self.config.stateless != StatelessPolicy::Refused {
            offer |= MppeBits::STATELESS;
        }
        self.request =
            (self.config.mppe != MppeRequirement::Refused && !offer.is_empty()).then_some(offer);
        self.peer_agreed = None;
        self.agreed = None;
    }

    fn build_request(&mut self, out: &mut Vec<u8>) {
        if let Some(bits) = self.request {
            CcpConfigOption::Mppe(bits).emit(out);
        }
    }

    fn check_request(
        &mut self,
        options: &[u8],
        reject_instead_of_nak: bool,
        nak: &mut Vec<u8>,
        reject: &mut Vec<u8>,
    ) -> Result<Verdict, Error> {
        let options: Vec<CcpConfigOption<'_>> = parse_options(options)?;
        let mut agreed = None;
        for option in &options {
            match option {
                CcpConfigOption::Mppe(bits) if self.config.mppe != MppeRequirement::Refused => {
                    match self.choose(*bits) {
                        Some(choice) if choice == *bits => agreed = Some(choice),
                        Some(choice) if !reject_instead_of_nak => {
                            CcpConfigOption::Mppe(choice).emit(nak)
                        }
                        _ => option.emit(reject),
                    }
                }
                _ => option.emit(reject),
            }
        }
        let verdict = Verdict::of(nak, reject);
        if verdict != Verdict::Ack {
            return Ok(verdict);
        }
        self.peer_agreed = agreed;
        Ok(Verdict::Ack)
    }

    fn on_ack(&mut self, _options: &[u8]) -> bool {
        self.agreed = self.request.filter(|b| self.acceptable(*b));
        true
    }

    fn on_nak(&mut self, options: &[u8]) -> bool {
        let Ok(options) = parse_options::<CcpConfigOption<'_>>(options) else {
            return false;
        };
        for option in options {
            if let CcpConfigOption::Mppe(bits) = option {
                // Take the peer's suggestion if it is within policy, else
                // narrow our own offer to one strength and keep asking.
                self.request = Some(if self.acceptable(bits) {
                    bits
                } else {
                    match self.choose(bits | (self.config.strengths & STRENGTHS)) {
                        Some(b) => b,
                        None => return true,
                    }
                });
            }
        }
        true
    }

    fn on_reject(&mut self, options: &[u8]) -> bool {
        let Ok(options) = parse_options::<CcpConfigOption<'_>>(options) else {
            return false;
        };
        if options
            .iter()
            .any(|o| matches!(o, CcpConfigOption::Mppe(_)))
        {
            self.request = None;
        }
        true
    }

    fn handle_extended(
        &mut self,
        state: State,
        code: u8,
        identifier: u8,
        _data: &[u8],
    ) -> Extended {
        match code {
            RESET_REQUEST => {
                if state == State::Opened {
                    self.reset_requested = true;
                }
                Extended::Reply(Packet {
                    code: RESET_ACK,
                    identifier,
                    data: Vec::new(),
                })
            }
            RESET_ACK => Extended::Handled,
            _ => Extended::Unknown,
        }
    }
}
