//! `pptp-proto`: a Sans-I/O implementation of the PPTP VPN stack.
//!
//! The crate implements the PPTP control connection (RFC 2637, TCP port 1723),
//! the enhanced GRE data channel (RFC 2637 §4), PPP (RFC 1661) with its
//! control protocols and authentication, MPPE encryption (RFC 3078/3079) and
//! MPPC compression (RFC 2118).
//! It opens no socket, reads no clock, spawns no thread and draws no
//! randomness of its own: the embedder feeds bytes and the current
//! [`time::Instant`] in, and takes events and bytes out.
//!
//! See the [`guide`] for the client and server event loops, every
//! configuration knob with its default and RFC, and troubleshooting.
//!
//! A session on the wire:
//!
//! 1. TCP to port 1723; Start-Control-Connection-Request/Reply.
//! 2. Outgoing-Call-Request/Reply; from then on PPP frames travel in enhanced GRE.
//! 3. LCP negotiation, then Set-Link-Info on the control connection.
//! 4. Authentication: PAP, CHAP-MD5, MS-CHAPv1 or MS-CHAPv2.
//! 5. IPCP assigns addresses and DNS; CCP negotiates MPPE (and MPPC when
//!    configured).
//! 6. IP packets flow, compressed and encrypted, inside PPP inside GRE.
//! 7. Keepalive: PPTP Echo and LCP Echo.
//!
//! Modules, bottom up:
//!
//! - [`time`]: the crate's own `Instant`.
//! - [`wire`]: stateless codecs for every packet (PPTP control, GRE, PPP, LCP,
//!   IPCP, IPv6CP, CCP, PAP, CHAP, MS-CHAP, MPPE header).
//! - [`crypto`]: MS-CHAP, CHAP-MD5 and RFC 3079 key derivation, as pure functions.
//! - [`rc4`]: a fast RC4 for MPPE's keystream and key schedule.
//! - [`mppe`]: the MPPE cipher state machine.
//! - [`mppc`]: RFC 2118 MPPC compression.
//! - [`control`]: the PPTP control connection, both roles, all 15 messages.
//! - [`gre`]: the enhanced-GRE channel of one call (sequence, acks, window, reordering).
//! - [`ppp`]: PPP: the RFC 1661 option-negotiation automaton.
//! - [`mtu`]: full-size packets over a smaller tunnel: IPv4 fragments, ICMP
//!   "fragmentation needed" and ICMPv6 "packet too big".
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod client;
pub mod control;
pub mod crypto;
pub mod gre;
/// The embedder's guide: event loops, configuration knobs, troubleshooting
/// (documentation only).
pub mod guide;
pub mod mppc;
pub mod mppe;
pub mod mtu;
#[cfg(feature = "pcap")]
pub mod pcap;
pub mod ppp;
mod queue;
pub(crate) mod rand;
pub mod rc4;
pub mod server;
pub mod tap;
pub mod time;
mod trace;
pub mod tunnel;
pub mod wire;

pub use rand::Seed;

/// The README's embedding example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
