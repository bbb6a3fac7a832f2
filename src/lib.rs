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
//! 4. Authentication: PAP, CHAP-MD5, MS-CHAPv1, MS-CHAPv2 or EAP (MD5,
//!    MS-CHAPv2, or any method relayed to a RADIUS server).
//! 5. IPCP assigns addresses and DNS; CCP negotiates MPPE (and MPPC when
//!    configured).
//! 6. IP packets flow, compressed and encrypted, inside PPP inside GRE.
//! 7. Keepalive: PPTP Echo and LCP Echo.
//!
//! # The map
//!
//! ```text
//!  embedder (sockets, TUN, clock, RNG seed)
//!     │ TCP bytes          │ GRE datagrams          │ IP packets
//!     ▼                    ▼                        ▼
//!  client::Client ── or ── server::Server (accept, Call IDs, pool, AAA, deadlines)
//!     │  per call, one shared type: control connection + tunnel, the
//!     │  first-cause rule (SessionDownReason), the tap hooks
//!     ▼                    ▼
//!  control::ControlConnection   tunnel::Tunnel
//!     (SCCRQ … CDN, echo)           │
//!                                   ├─ gre::GreChannel   (sequence, acks, window, reorder)
//!                                   └─ ppp::session::PppSession
//!                                        ├─ ppp::fsm::Fsm × LCP, IPCP, IPv6CP, CCP
//!                                        ├─ ppp::auth     (PAP, CHAP-MD5, MS-CHAPv1/v2, EAP)
//!                                        └─ ppp::compressed → mppe::Mppe (rc4), mppc
//!  every layer parses and emits with wire::* ; crypto:: holds the pure MS-CHAP/RFC 3079 functions
//! ```
//!
//! An IP packet going out: [`client::Client::send_ip`] (or
//! [`server::Server::send_ip`]) → the call's tunnel ([`tunnel`]) →
//! [`ppp::session::PppSession::send_ip`] adds the PPP protocol, MPPC
//! compresses and [`mppe::Mppe`] encrypts (a 2-octet MPPE header) →
//! [`gre::GreChannel`] adds the enhanced GRE header with its sequence and
//! piggybacked ack → the embedder writes the datagram to the raw GRE socket.
//! A datagram coming in takes the same way back up; control messages go
//! through [`control::ControlConnection`] on the TCP stream. Every machine
//! follows one contract: input through `handle_*`, output and events
//! through `poll_*`, time through `poll_timeout` and `handle_timeout`.
//! What comes out is one shape per layer: a stream's bytes as
//! [`bytes::Bytes`] (the control connection, the PPP session's frames, the
//! facades' `poll_stream_transmit`), a GRE packet as a
//! [`tunnel::Datagram`] (the facades' `poll_datagram_transmit`; ack-only
//! packets inline, so the data path allocates nothing), GRE written into the
//! caller's buffer by [`gre::GreChannel::poll_transmit`], and a protocol
//! with its payload from the authentication machines inside a PPP session.
//!
//! Words: PPTP's roles are PNS (the client, which places calls) and PAC
//! (the server) ([`control::Role`]); PPP's are peer and authenticator
//! ([`ppp::session::Role`], the same type MPPE key derivation takes); the
//! facades are [`client`] and [`server`]. A *call* is one PPTP call (a
//! Call ID pair, one GRE channel); its PPP link is its *session*. A
//! *verdict* is an authentication decision ([`ppp::auth::Verdict`]); a
//! control protocol answers a Configure-Request with a Configure-Ack, -Nak
//! or -Reject ([`wire::cp::Code`]).
//!
//! Modules, bottom up:
//!
//! - [`time`]: the crate's own `Instant`.
//! - [`wire`]: stateless codecs for every packet (PPTP control, GRE, PPP, LCP,
//!   IPCP, IPv6CP, CCP, PAP, CHAP, MS-CHAP, MPPE header); every code point
//!   is declared here once.
//! - [`crypto`]: MS-CHAP, CHAP-MD5 and RFC 3079 key derivation, as pure functions.
//! - [`rc4`]: a fast RC4 for MPPE's keystream and key schedule.
//! - [`mppe`]: the MPPE cipher state machine.
//! - [`mppc`]: RFC 2118 MPPC compression.
//! - [`control`]: the PPTP control connection, both roles, all 15 messages.
//! - [`gre`]: the enhanced-GRE channel of one call (sequence, acks, window, reordering).
//! - [`ppp`]: PPP: the RFC 1661 option-negotiation automaton, LCP, IPCP,
//!   IPv6CP, CCP, authentication, and the session that ties them together.
//! - [`tunnel`]: one call's GRE channel and PPP session wired together, and
//!   why a session ended; shared by both facades.
//! - [`client`], [`server`]: the facades an embedder drives.
//! - [`mtu`]: full-size packets over a smaller tunnel: IPv4 fragments, ICMP
//!   "fragmentation needed" and ICMPv6 "packet too big".
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod accounting;
pub(crate) mod call;
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
mod timer;
mod trace;
pub mod tunnel;
pub mod wire;

pub use rand::Seed;

/// The README's embedding example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
