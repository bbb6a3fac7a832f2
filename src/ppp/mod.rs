//! PPP (RFC 1661): the state machines above the frame codecs.
//!
//! - [`fsm`]: the generic option-negotiation automaton of RFC 1661 §4, with
//!   the per-protocol option policy behind the [`fsm::Negotiator`] trait. LCP,
//!   IPCP, IPv6CP and CCP are each one [`fsm::Fsm`] with their own negotiator.

pub mod auth;
pub mod ccp;
mod compressed;
pub mod fsm;
pub mod ipcp;
pub mod ipv6cp;
pub mod lcp;
pub mod session;
