//! PPP (RFC 1661): the state machines above the frame codecs.
//!
//! - [`session`]: [`session::PppSession`], one PPP link in either role, which
//!   runs everything below; its [example](session::PppSession#example)
//!   brings a client and a server up against each other in memory.
//! - [`auth`]: PAP, CHAP-MD5, MS-CHAPv1 and MS-CHAPv2 in both roles.
//! - [`fsm`]: the generic option-negotiation automaton of RFC 1661 §4, with
//!   the per-protocol option policy behind the [`fsm::Negotiator`] trait. LCP,
//!   IPCP, IPv6CP and CCP are each one [`fsm::Fsm`] with their own negotiator:
//!   [`lcp`], [`ipcp`], [`ipv6cp`], [`ccp`].

pub mod auth;
pub mod ccp;
mod compressed;
pub mod fsm;
pub mod ipcp;
pub mod ipv6cp;
pub mod lcp;
pub mod session;
