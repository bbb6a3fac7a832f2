//! PPP (RFC 1661): the state machines above the frame codecs.
//!
//! - [`session`]: [`session::PppSession`], one PPP link in either role, which
//!   runs everything below; its [example](session::PppSession#example)
//!   brings a client and a server up against each other in memory.
//! - [`auth`]: PAP, CHAP-MD5, MS-CHAPv1 and MS-CHAPv2 in both roles.
//! - [`fsm`], [`lcp`], [`ipcp`], [`ccp`]: the policy of each control
//!   protocol, as configuration. Inside the session LCP, IPCP, IPv6CP and CCP
//!   each run the option-negotiation automaton of RFC 1661 §4 with their own
//!   option policy; the automaton and the policies are the crate's own
//!   machinery, and what they counted is [`session::PppSession::control_stats`].
//!
//! # Example
//!
//! Each control protocol's policy set away from its default, and what a
//! client and a server in memory agree on with them: the server asks for
//! MS-CHAPv1, an MRU of 1300 and stateless MPPE-128, and resends after 1 s;
//! the client accepts either MS-CHAP, offers MPPE of any strength, and asks
//! for DNS.
//!
//! ```
//! use core::time::Duration;
//! use pptp_proto::crypto::Password;
//! use pptp_proto::ppp::auth::Credentials;
//! use pptp_proto::ppp::ccp::{CcpConfig, MppeRequirement, StatelessPolicy};
//! use pptp_proto::ppp::fsm::FsmConfig;
//! use pptp_proto::ppp::ipcp::{IpAssignment, IpcpConfig};
//! use pptp_proto::ppp::lcp::{AuthMethod, LcpConfig};
//! use pptp_proto::ppp::session::*;
//! use pptp_proto::time::Instant;
//! use pptp_proto::wire::mppe::MppeBits;
//! use std::net::Ipv4Addr;
//! # // Moves every control frame to the other side until none is left.
//! # fn shuttle(a: &mut PppSession, b: &mut PppSession, now: Instant) -> Result<(), PppError> {
//! #     loop {
//! #         let mut moved = false;
//! #         while let Some(frame) = a.poll_transmit() { b.handle_frame(now, &mut frame.to_vec())?; moved = true; }
//! #         while let Some(frame) = b.poll_transmit() { a.handle_frame(now, &mut frame.to_vec())?; moved = true; }
//! #         if !moved { return Ok(()); }
//! #     }
//! # }
//! let password = Password::new("secret")?;
//! let mut client = SessionConfig { seed: 1, ..SessionConfig::peer("alice", password.clone()) };
//! client.lcp.auth = vec![AuthMethod::MsChapV2, AuthMethod::MsChapV1];
//! client.ccp = CcpConfig::require_mppe(); // pppd `require-mppe`: 40, 56 or 128 bits
//! client.ipcp = IpcpConfig { request_dns: true, ..IpcpConfig::default() };
//!
//! let mut server = SessionConfig { seed: 2, ..SessionConfig::authenticator("vpn") };
//! server.lcp = LcpConfig { mru: 1300, auth: vec![AuthMethod::MsChapV1], ..LcpConfig::default() };
//! server.ccp = CcpConfig {
//!     mppe: MppeRequirement::Required,
//!     stateless: StatelessPolicy::Required,
//!     ..CcpConfig::default() // 128-bit only
//! };
//! server.fsm = FsmConfig { restart_timer: Duration::from_secs(1), ..FsmConfig::default() };
//!
//! let (mut client, mut server) = (PppSession::new(client), PppSession::new(server));
//! server.set_ip_assignment(IpAssignment {
//!     local: Some(Ipv4Addr::new(10, 0, 0, 1)),
//!     peer: Some(Ipv4Addr::new(10, 0, 0, 2)),
//!     dns: [Some(Ipv4Addr::new(10, 0, 0, 53)), None],
//!     ..IpAssignment::default()
//! });
//! let now = Instant::ZERO;
//! client.open(now);
//! server.open(now);
//! // The server's LCP Configure-Request goes again after its Restart timer.
//! assert_eq!(server.poll_timeout(), Some(Instant::from_secs(1)));
//!
//! let (mut method, mut mppe, mut dns) = (None, None, None);
//! # let mut rounds = 0;
//! while !(client.is_network_up() && server.is_network_up()) {
//! #   rounds += 1;
//! #   assert!(rounds < 20, "not up: {:?} {:?}", client.phase(), server.phase());
//!     shuttle(&mut client, &mut server, now)?;
//!     while let Some(event) = server.poll_event() {
//!         if let PppEvent::AuthRequest { .. } = event {
//!             server.provide_credentials(now, Credentials::Password(password.clone()));
//!         }
//!     }
//!     while let Some(event) = client.poll_event() {
//!         match event {
//!             PppEvent::Authenticated { method: m, .. } => method = Some(m),
//!             PppEvent::CompressionUp { mppe: bits } => mppe = Some(bits),
//!             PppEvent::NetworkUp { dns: d, .. } => dns = Some(d),
//!             _ => {}
//!         }
//!     }
//! }
//! assert_eq!(method, Some(AuthMethod::MsChapV1));
//! assert_eq!(mppe, Some(MppeBits::BITS_128 | MppeBits::STATELESS)); // Nak'ed down to one
//! assert_eq!(dns, Some([Some(Ipv4Addr::new(10, 0, 0, 53)), None]));
//! assert_eq!(client.mtu(), 1296); // the server's MRU less MPPE's 4 octets
//! let dropped = client.control_stats();
//! assert_eq!((dropped.malformed, dropped.stale, dropped.unexpected), (0, 0, 0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod auth;
pub mod ccp;
mod compressed;
pub mod fsm;
pub mod ipcp;
pub(crate) mod ipv6cp;
pub mod lcp;
#[cfg(all(test, feature = "std"))]
mod replay_tests;
pub mod session;
#[cfg(all(test, feature = "std"))]
mod worked_examples;
