//! `PppSession`: one PPP link over a PPTP call, in either role.
//!
//! The session owns the LCP, IPCP, IPv6CP and CCP automata, the
//! authentication machine agreed by LCP, the LCP echo keepalive and, once CCP
//! is up, the MPPE cipher and the MPPC histories. It walks the phases of RFC 1661 §3.2
//! (Dead → Establish → Authenticate → Network → Terminate) and keeps the rule
//! that a session which requires MPPE never carries plaintext.
//!
//! # Driving contract
//!
//! - [`PppSession::open`] once the GRE channel of the call is up: LCP starts.
//! - [`PppSession::handle_frame`] for every PPP frame received from GRE. It
//!   decrypts in place and returns the IP packet it carried, if any. A packet
//!   MPPC expanded does not fit in the frame: `handle_frame` then returns
//!   [`Received::Decompressed`] and [`PppSession::decompressed`] lends it
//!   from the session's history until the next frame.
//! - [`PppSession::send_ip`] to send an IP packet: it writes the whole PPP
//!   frame (MPPC-compressed and MPPE-encrypted when negotiated) into a
//!   caller buffer and allocates nothing.
//! - [`PppSession::poll_timeout`] says when to call
//!   [`PppSession::handle_timeout`]; an early or repeated call is a no-op.
//! - After every call drain [`PppSession::poll_transmit`] (control frames to
//!   send in GRE) and [`PppSession::poll_event`], then re-read the timeout.
//! - An authenticator answers [`PppEvent::AuthRequest`] with
//!   [`PppSession::provide_credentials`] or [`PppSession::provide_verdict`],
//!   and may set the peer's addresses with [`PppSession::set_ip_assignment`]
//!   before IPCP runs.
//! - [`PppSession::close`] ends the link with LCP Terminate-Request.
//!
//! The [`PppSession` example](PppSession#example) brings a client and a
//! server up against each other.
//!
//! # Example
//!
//! The first step: opening a session queues an LCP Configure-Request and
//! arms its Restart timer.
//!
//! ```
//! use pptp_proto::crypto::Password;
//! use pptp_proto::ppp::session::{Phase, PppSession, SessionConfig};
//! use pptp_proto::time::{Duration, Instant};
//! use pptp_proto::wire::ppp::{PppFrame, Protocol};
//!
//! let mut client = PppSession::new(SessionConfig::peer("alice", Password::new("secret")?));
//! assert_eq!(client.phase(), Phase::Dead);
//! client.open(Instant::ZERO);
//! assert_eq!(client.phase(), Phase::Establish);
//! let frame = client.poll_transmit().unwrap(); // to send in GRE
//! assert_eq!(PppFrame::parse(&frame)?.protocol, Protocol::LCP);
//! assert_eq!(client.poll_timeout(), Some(Instant::ZERO + Duration::from_secs(3)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use bytes::{BufMut, Bytes, BytesMut};

use super::auth::{
    AuthEvent, AuthFailure, AuthMachine, AuthTimers, Authenticator, Credentials, Peer, Verdict,
};
use super::ccp::{Ccp, CcpConfig, CcpReport, MppeRequirement};
use super::compressed::{CompressedLink, Opened};
use super::fsm::{FinishReason, Fsm, FsmConfig, FsmEvent, FsmStats, Packet, State};
use super::ipcp::{IpAssignment, Ipcp, IpcpConfig};
use super::ipv6cp::Ipv6cp;
use super::lcp::{AuthMethod, EchoConfig, Lcp, LcpConfig, LcpEcho, LcpReport};
use crate::crypto::{MppeKeys, Password};
use crate::mppc::MppcError;
use crate::mppe::{Mppe, MppeError, MppeOptions};
use crate::rand::Rng;
use crate::time::Instant;
use crate::wire::mppe::MppeBits;
use crate::wire::ppp::{PppFrame, Protocol};

/// Which side of PPP authentication a session is: one type for the
/// session, the authentication machines and MPPE key derivation (RFC 3079
/// names the same two sides). See the
/// [`PppSession` example](PppSession#example).
pub use crate::crypto::key_derivation::Role;

/// The phases of a PPP link (RFC 1661 §3.2). See the
/// [`PppSession` example](PppSession#example).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// No link.
    Dead,
    /// LCP is negotiating.
    Establish,
    /// The agreed authentication protocol runs.
    Authenticate,
    /// NCPs (IPCP, IPv6CP, CCP) run; data may flow once they are up.
    Network,
    /// LCP is terminating the link.
    Terminate,
}

/// Why a session went down.
///
/// # Example
///
/// A client with the wrong password: the server's check fails, both ends
/// report [`PppEvent::AuthFailed`] and the link goes down.
///
/// ```
/// use pptp_proto::crypto::Password;
/// use pptp_proto::ppp::auth::{AuthFailure, Credentials};
/// use pptp_proto::ppp::session::*;
/// use pptp_proto::time::Instant;
/// # // Moves every control frame to the other side until none is left.
/// # fn shuttle(a: &mut PppSession, b: &mut PppSession, now: Instant) -> Result<(), PppError> {
/// #     loop {
/// #         let mut moved = false;
/// #         while let Some(frame) = a.poll_transmit() { b.handle_frame(now, &mut frame.to_vec())?; moved = true; }
/// #         while let Some(frame) = b.poll_transmit() { a.handle_frame(now, &mut frame.to_vec())?; moved = true; }
/// #         if !moved { return Ok(()); }
/// #     }
/// # }
/// let config = SessionConfig::peer("alice", Password::new("guess")?);
/// let mut client = PppSession::new(SessionConfig { seed: 1, ..config });
/// let mut server = PppSession::new(SessionConfig { seed: 2, ..SessionConfig::authenticator("vpn") });
/// let now = Instant::ZERO;
/// client.open(now);
/// server.open(now);
/// shuttle(&mut client, &mut server, now)?; // LCP, then the MS-CHAPv2 Response
/// let mut server_events = std::iter::from_fn(|| server.poll_event());
/// assert!(server_events.any(|e| matches!(e, PppEvent::AuthRequest { .. })));
/// server.provide_credentials(now, Credentials::Password(Password::new("secret")?));
/// shuttle(&mut client, &mut server, now)?;
///
/// let events: Vec<PppEvent> = std::iter::from_fn(|| client.poll_event()).collect();
/// assert!(events.contains(&PppEvent::AuthFailed { reason: AuthFailure::BadPassword }));
/// let down = DownReason::AuthFailed(AuthFailure::BadPassword);
/// assert_eq!(events.last(), Some(&PppEvent::Down { reason: down }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownReason {
    /// [`PppSession::close`] was called.
    LocalClose,
    /// The peer sent LCP Terminate-Request.
    PeerTerminated,
    /// LCP Configure-Requests went unanswered (Max-Configure): often GRE blocked.
    LcpTimeout,
    /// LCP could not agree (Max-Failure, or the peer rejected something required).
    LcpFailed,
    /// No authentication method both sides accept.
    NoAuthMethod,
    /// Authentication failed.
    AuthFailed(AuthFailure),
    /// IPCP failed (for example the peer insists on an address it may not have).
    IpcpFailed,
    /// MPPE is required but the peer's CCP did not agree on it (it
    /// refused CCP, or rejected option 18).
    MppeRefused,
    /// MPPE is required but authentication gave no MPPE keys: PAP and
    /// CHAP-MD5 have none (RFC 3079 derives them from MS-CHAP only), and a
    /// verifier's accept may come without them
    /// ([`Acceptance::mppe_keys`](crate::ppp::auth::Acceptance::mppe_keys)).
    /// A configuration matter, not the peer's doing.
    NoMppeKeys,
    /// The peer stopped answering LCP Echo-Requests.
    EchoTimeout,
    /// The peer's LCP Magic-Number equals ours: the link is looped back.
    LoopedBack,
    /// The lower layer (the PPTP call) went away.
    LowerLayerDown,
    /// MPPE is required and the peer's CCP Naks or Rejects left no strength
    /// or mode we allow (RFC 3078 §2): ended at once instead of looping.
    MppeNegotiationFailed,
    /// Peer: IPCP opened without giving us an address (we would be 0.0.0.0).
    NoLocalAddress,
    /// Peer with [`PeerConfig::require_auth`]: the authenticator's LCP
    /// asked for no authentication.
    AuthNotRequested,
    /// The peer kept Protocol-Rejecting MPPE frames although CCP was
    /// Opened, through [`MAX_CCP_RESTARTS`] fresh CCP negotiations.
    MppeFramesRejected,
}

impl core::fmt::Display for DownReason {
    /// In pppd's words where pppd has them.
    ///
    /// ```
    /// use pptp_proto::ppp::session::DownReason;
    ///
    /// let reason = DownReason::MppeNegotiationFailed;
    /// assert_eq!(reason.to_string(), "MPPE required but peer negotiation failed");
    /// assert_eq!(DownReason::NoLocalAddress.to_string(), "Could not determine local IP address");
    /// ```
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DownReason::LocalClose => f.write_str("Connection terminated by us"),
            DownReason::PeerTerminated => f.write_str("LCP terminated by peer"),
            DownReason::LcpTimeout => f.write_str("LCP: timeout sending Config-Requests"),
            DownReason::LcpFailed => f.write_str("LCP negotiation failed"),
            DownReason::NoAuthMethod => f.write_str("peer refused to authenticate"),
            DownReason::AuthFailed(why) => write!(f, "authentication failed: {why}"),
            DownReason::IpcpFailed => f.write_str("IPCP negotiation failed"),
            DownReason::MppeRefused => f.write_str("MPPE required but peer refused"),
            DownReason::NoMppeKeys => f.write_str("MPPE required, but keys are not available"),
            DownReason::EchoTimeout => f.write_str("No response to LCP echo-requests"),
            DownReason::LoopedBack => f.write_str("Serial line is looped back"),
            DownReason::LowerLayerDown => f.write_str("Modem hangup"),
            DownReason::MppeNegotiationFailed => {
                f.write_str("MPPE required but peer negotiation failed")
            }
            DownReason::NoLocalAddress => f.write_str("Could not determine local IP address"),
            DownReason::AuthNotRequested => {
                f.write_str("authentication required, but the authenticator asked for none")
            }
            DownReason::MppeFramesRejected => {
                f.write_str("MPPE frames Protocol-Rejected by peer although CCP is open")
            }
        }
    }
}

/// What the session tells its owner. See the
/// [`PppSession` example](PppSession#example).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PppEvent {
    /// The link moved to another phase.
    PhaseChanged(Phase),
    /// LCP is open.
    LinkUp,
    /// Authenticator: a peer asked to authenticate; answer with
    /// [`PppSession::provide_credentials`] or [`PppSession::provide_verdict`].
    AuthRequest {
        /// The name the peer gave.
        username: alloc::string::String,
        /// The method in use.
        method: AuthMethod,
        /// What the peer sent, for an external verifier.
        exchange: crate::ppp::auth::AuthExchange,
    },
    /// Authentication succeeded.
    Authenticated {
        /// The peer's name (the authenticator's name, on the peer side).
        peer_name: alloc::string::String,
        /// The method used.
        method: AuthMethod,
    },
    /// Authenticator: the peer changed its expired password (MS-CHAPv2);
    /// store the new one.
    PasswordChanged {
        /// The user.
        username: alloc::string::String,
        /// The new password (boxed: it is large and the event is rare).
        new_password: alloc::boxed::Box<Password>,
    },
    /// Authentication failed; the link goes down.
    AuthFailed {
        /// Why.
        reason: AuthFailure,
    },
    /// IPCP is open and data may flow (after CCP too, when MPPE is required).
    NetworkUp {
        /// Our address.
        local: Ipv4Addr,
        /// The peer's address.
        peer: Ipv4Addr,
        /// DNS servers (primary, secondary) assigned to us, if any.
        dns: [Option<Ipv4Addr>; 2],
        /// NBNS (WINS) servers assigned to us, if any.
        nbns: [Option<Ipv4Addr>; 2],
    },
    /// IPv6CP is open.
    Ipv6Up {
        /// Our interface identifier.
        local: [u8; 8],
        /// The peer's interface identifier.
        peer: [u8; 8],
    },
    /// CCP is open with these option 18 bits (MPPE strength, stateless, MPPC).
    CompressionUp {
        /// The agreed bits.
        mppe: MppeBits,
    },
    /// The link is down; no more events follow.
    Down {
        /// Why.
        reason: DownReason,
    },
}

/// Errors of the data path. The session's state is unchanged by each.
///
/// # Example
///
/// ```
/// use pptp_proto::crypto::Password;
/// use pptp_proto::ppp::session::{PppError, PppSession, SessionConfig};
/// use pptp_proto::time::Instant;
///
/// let mut session = PppSession::new(SessionConfig::peer("alice", Password::new("secret")?));
/// session.open(Instant::ZERO);
/// let ip = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1];
/// let mut out = [0; 64];
/// // IPCP and MPPE are not up yet.
/// assert_eq!(session.send_ip(Instant::ZERO, &ip, &mut out), Err(PppError::NotReady));
/// // Three octets cannot hold Address, Control and Protocol.
/// let mut short = [0xff, 0x03, 0xc0];
/// let result = session.handle_frame(Instant::ZERO, &mut short);
/// assert!(matches!(result, Err(PppError::Malformed(_))));
/// // Plaintext IP is refused while MPPE is required (the default).
/// let mut plain = [0x00, 0x21, 0x45];
/// let result = session.handle_frame(Instant::ZERO, &mut plain);
/// assert_eq!(result, Err(PppError::PlaintextRefused));
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PppError {
    /// The frame could not be parsed.
    #[error("malformed PPP frame: {0}")]
    Malformed(#[from] crate::wire::Error),
    /// IP cannot flow yet (IPCP, or CCP when MPPE is required, not open).
    #[error("the network phase is not up")]
    NotReady,
    /// A plaintext IP packet arrived while MPPE is required or in use.
    #[error("plaintext IP packet refused: MPPE is required")]
    PlaintextRefused,
    /// MPPE refused the packet.
    #[error("MPPE: {0}")]
    Mppe(#[from] MppeError),
    /// MPPC could not decompress the packet (a CCP Reset-Request went out).
    #[error("MPPC: {0}")]
    Mppc(#[from] MppcError),
    /// The caller's buffer cannot hold the frame.
    #[error("buffer too small: {required} bytes needed")]
    BufferTooSmall {
        /// Bytes needed.
        required: usize,
    },
    /// The IP packet is larger than the negotiated MTU.
    #[error("packet of {len} bytes exceeds the MTU of {mtu}")]
    TooLarge {
        /// The packet's length.
        len: usize,
        /// The MTU.
        mtu: usize,
    },
    /// The session is down.
    #[error("the session is down")]
    Down,
}

/// What a received frame carried. See the
/// [`PppSession` example](PppSession#example).
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Received<'a> {
    /// An IPv4 packet, decrypted in place.
    Ipv4(&'a [u8]),
    /// An IPv6 packet, decrypted in place.
    Ipv6(&'a [u8]),
    /// A control packet, handled; look at `poll_transmit` and `poll_event`.
    Control,
    /// Dropped (counted in [`PppStats`]): not for this phase, stale MPPE, …
    Dropped,
    /// An IP packet MPPC decompressed: it lives in the session's history,
    /// read it with [`PppSession::decompressed`] before the next frame.
    Decompressed,
}

/// Counters of one session. See the
/// [`PppSession` example](PppSession#example).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PppStats {
    /// IP packets sent.
    pub ip_sent: u64,
    /// IP packets received and delivered.
    pub ip_received: u64,
    /// IP payload bytes sent.
    pub bytes_sent: u64,
    /// IP payload bytes received.
    pub bytes_received: u64,
    /// Frames dropped: wrong phase, unknown while not Opened, plaintext under MPPE.
    pub dropped: u64,
    /// Frames that did not parse.
    pub malformed: u64,
    /// MPPE/MPPC packets discarded (stateful resynchronisation, bad count,
    /// undecodable MPPC).
    pub mppe_discarded: u64,
    /// CCP Reset-Requests sent after MPPE or MPPC losses.
    pub mppe_resets_sent: u64,
    /// MPPC: bytes (PPP protocol field and data) handed to the compressor.
    pub mppc_bytes_in: u64,
    /// MPPC: bytes the compressor produced (its packets' payloads).
    pub mppc_bytes_out: u64,
    /// Control frames dropped because the transmit queue was full.
    pub transmit_dropped: u64,
    /// The latest LCP Echo-Request round trip (with the echo keepalive on).
    pub echo_rtt: Option<core::time::Duration>,
    /// LCP Echo-Replies received.
    pub echo_replies: u64,
    /// Fresh CCP negotiations because the peer Protocol-Rejected MPPE
    /// frames with CCP Opened (see [`DownReason::MppeFramesRejected`]).
    pub ccp_restarts: u64,
}

/// How many times a session renegotiates CCP because the peer
/// Protocol-Rejects MPPE frames while CCP is Opened before it gives up
/// with [`DownReason::MppeFramesRejected`]. One is what accel-ppp's race
/// needs; three leaves room for a peer that loses the race again.
pub const MAX_CCP_RESTARTS: u32 = 3;

/// Everything a session is configured with.
///
/// # Example
///
/// [`SessionConfig::peer`] and [`SessionConfig::authenticator`] fill in the
/// defaults; every field may then be changed.
///
/// ```
/// use pptp_proto::crypto::Password;
/// use pptp_proto::ppp::ccp::MppeRequirement;
/// use pptp_proto::ppp::session::{AuthConfig, AuthenticatorConfig, PeerConfig, Role, SessionConfig};
///
/// let mut client = SessionConfig::peer("CORP\\alice", Password::new("secret")?);
/// assert_eq!(client.role, Role::Peer);
/// client.seed = 0x5eed; // from the system's random source
/// client.ccp.mppe = MppeRequirement::Optional; // accept plaintext if the server has no MPPE
/// let AuthConfig::Peer(PeerConfig { new_password, .. }) = &mut client.auth else { unreachable!() };
/// // MS-CHAPv2: change to this password if the server says it expired.
/// *new_password = Some(Password::new("n3w-secret")?);
///
/// let server = SessionConfig::authenticator("vpn");
/// assert_eq!(server.role, Role::Authenticator);
/// assert!(matches!(&server.auth, AuthConfig::Authenticator(AuthenticatorConfig { name, .. }) if name == "vpn"));
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
///
/// # pppd options
///
/// Builders named after the pppd options people know set the same fields,
/// on `SessionConfig` and, for their `ppp`, on
/// [`ClientConfig`](crate::client::ClientConfig) and
/// [`ServerConfig`](crate::server::ServerConfig). Each sets exactly the
/// fields it names; the fields stay public for everything else.
///
/// A server with pppd's `require-pap nomppe mtu 1400 mru 1400
/// lcp-echo-interval 30 lcp-echo-failure 4 idle 600`, and a client that
/// takes PAP and nothing else (pppd: `refuse-chap refuse-mschap
/// refuse-mschap-v2 nomppe`):
///
/// ```
/// use pptp_proto::client::ClientConfig;
/// use pptp_proto::crypto::Password;
/// use pptp_proto::ppp::ccp::{CcpConfig, MppeRequirement};
/// use pptp_proto::ppp::lcp::AuthMethod;
/// use pptp_proto::ppp::session::SessionConfig;
/// use pptp_proto::server::{AddressPool, ServerConfig};
/// use pptp_proto::time::Duration;
///
/// # let pool = AddressPool { local: [10, 0, 0, 1].into(), range: ([10, 0, 0, 2].into(), [10, 0, 0, 9].into()), dns: [None, None] };
/// let server = ServerConfig::new("vpn", pool)
///     .with_auth(&[AuthMethod::Pap])
///     .with_mppe(CcpConfig::nomppe())
///     .with_mtu(1400)
///     .with_mru(1400)
///     .with_lcp_echo(Duration::from_secs(30), 4)
///     .with_idle_timeout(Duration::from_secs(600));
/// assert_eq!(server.ppp.lcp.auth, [AuthMethod::Pap]);
/// assert_eq!((server.ppp.lcp.mtu, server.ppp.lcp.mru), (1400, 1400));
/// assert_eq!(server.ppp.echo.interval, Some(Duration::from_secs(30)));
/// assert_eq!(server.idle_timeout, Some(Duration::from_secs(600)));
///
/// let client = ClientConfig::new("alice", Password::new("secret")?)
///     .with_auth(&[AuthMethod::Pap])
///     .with_mppe(CcpConfig::nomppe());
/// assert_eq!(client.ppp.ccp.mppe, MppeRequirement::Refused);
///
/// // The same on a bare PPP session; `with_mppe` keeps MPPC as it was.
/// let ppp = SessionConfig::peer("alice", Password::new("secret")?)
///     .with_mppc(true)
///     .with_mppe(CcpConfig::require_mppe_128().stateful(false)); // mppe-stateful
/// assert!(ppp.ccp.mppc);
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Authenticator (server) or peer (client).
    pub role: Role,
    /// The RFC 1661 counters and Restart timer, shared by every control protocol.
    pub fsm: FsmConfig,
    /// LCP policy.
    pub lcp: LcpConfig,
    /// The LCP echo keepalive (off by default, like pppd).
    pub echo: EchoConfig,
    /// IPCP policy.
    pub ipcp: IpcpConfig,
    /// Run IPv6CP too (default off, like pppd without `+ipv6`: the peer's
    /// IPv6CP then gets a Protocol-Reject).
    pub ipv6: bool,
    /// CCP: the MPPE/MPPC policy.
    pub ccp: CcpConfig,
    /// Authentication: the peer's credentials or the authenticator's policy.
    pub auth: AuthConfig,
    /// Seed for the session's randomness (magic numbers, challenges, identifiers).
    pub seed: u64,
    /// Most control frames queued for [`PppSession::poll_transmit`] (default 32).
    pub max_queued_frames: usize,
    /// Stateless MPPE: how many coherency counts ahead a received packet may
    /// be (default 2048, as Linux `ppp_mppe`, which drops packets further
    /// ahead as late ones); each count costs one rekey. Clamped to 1..=4095.
    pub mppe_max_catch_up: u16,
}

/// The authentication half of [`SessionConfig`]. See the
/// [`SessionConfig` example](SessionConfig#example).
#[derive(Debug, Clone)]
// Configuration, built once per session.
#[allow(clippy::large_enum_variant)]
pub enum AuthConfig {
    /// Peer (client) side.
    Peer(PeerConfig),
    /// Authenticator (server) side.
    Authenticator(AuthenticatorConfig),
}

/// One PPP session. See the [module documentation](self) for the driving contract.
///
/// # Example
///
/// A client and a server session joined in memory: MS-CHAPv2, MPPE-128, an
/// address assigned by IPCP, then one IP packet and a close.
///
/// ```
/// use pptp_proto::crypto::Password;
/// use pptp_proto::ppp::auth::Credentials;
/// use pptp_proto::ppp::ipcp::IpAssignment;
/// use pptp_proto::ppp::session::*;
/// use pptp_proto::time::Instant;
/// # use std::net::Ipv4Addr;
/// # // Moves every control frame to the other side until none is left.
/// # fn shuttle(a: &mut PppSession, b: &mut PppSession, now: Instant) -> Result<(), PppError> {
/// #     loop {
/// #         let mut moved = false;
/// #         while let Some(frame) = a.poll_transmit() { b.handle_frame(now, &mut frame.to_vec())?; moved = true; }
/// #         while let Some(frame) = b.poll_transmit() { a.handle_frame(now, &mut frame.to_vec())?; moved = true; }
/// #         if !moved { return Ok(()); }
/// #     }
/// # }
/// let password = Password::new("secret")?;
/// // Each end needs its own seed: equal LCP magic numbers mean a looped link.
/// let client_config = SessionConfig { seed: 1, ..SessionConfig::peer("alice", password.clone()) };
/// let server_config = SessionConfig { seed: 2, ..SessionConfig::authenticator("vpn") };
/// let mut client = PppSession::new(client_config);
/// let mut server = PppSession::new(server_config);
/// assert_eq!((client.role(), server.role()), (Role::Peer, Role::Authenticator));
/// server.set_ip_assignment(IpAssignment {
///     local: Some([10, 0, 0, 1].into()),
///     peer: Some([10, 0, 0, 2].into()),
///     ..Default::default()
/// });
/// let now = Instant::ZERO;
/// client.open(now);
/// server.open(now);
/// let mut address = None;
/// # let mut rounds = 0;
/// while !(client.is_network_up() && server.is_network_up()) {
/// #   rounds += 1;
/// #   assert!(rounds < 20, "not up: {:?} {:?}", client.phase(), server.phase());
///     shuttle(&mut client, &mut server, now)?; // poll_transmit → handle_frame
///     while let Some(event) = server.poll_event() {
///         if let PppEvent::AuthRequest { username, .. } = event {
///             assert_eq!(username, "alice"); // look the user up
///             server.provide_credentials(now, Credentials::Password(password.clone()));
///         }
///     }
///     while let Some(event) = client.poll_event() {
///         if let PppEvent::NetworkUp { local, .. } = event {
///             address = Some(local);
///         }
///     }
/// }
/// assert_eq!(address, Some(Ipv4Addr::new(10, 0, 0, 2)));
/// assert_eq!(client.phase(), Phase::Network);
/// assert!(client.is_encrypted() && client.is_compressed() == (false, false));
/// assert_eq!(client.mtu(), 1396); // the server's MRU (1400) less MPPE's 4 octets
///
/// // An IP packet: the whole PPP frame is written into `out`, encrypted.
/// let ip = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1];
/// let mut out = vec![0; client.frame_overhead() + ip.len()];
/// let n = client.send_ip(now, &ip, &mut out)?;
/// assert_eq!(server.handle_frame(now, &mut out[..n])?, Received::Ipv4(&ip));
/// assert_eq!(server.decompressed(), None); // only after Received::Decompressed
/// let stats: &PppStats = client.stats();
/// assert_eq!((stats.ip_sent, stats.bytes_sent), (1, 20));
///
/// // Close: LCP Terminate-Request, answered by the server.
/// client.close(now);
/// assert_eq!(client.queued_frames(), 1); // the Terminate-Request, to send
/// shuttle(&mut client, &mut server, now)?;
/// assert_eq!(server.terminating(), Some(DownReason::PeerTerminated));
/// let last = std::iter::from_fn(|| client.poll_event()).last();
/// assert_eq!(last, Some(PppEvent::Down { reason: DownReason::LocalClose }));
/// // The server waits out its Restart timer before it reports Down.
/// let due = server.poll_timeout().unwrap();
/// server.handle_timeout(due);
/// let last = std::iter::from_fn(|| server.poll_event()).last();
/// assert_eq!(last, Some(PppEvent::Down { reason: DownReason::PeerTerminated }));
/// assert_eq!(server.phase(), Phase::Dead);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct PppSession {
    role: Role,
    phase: Phase,
    lcp: Fsm<Lcp>,
    ipcp: Fsm<Ipcp>,
    /// Boxed: rarely configured, and 300 octets in every session otherwise.
    ipv6cp: Option<alloc::boxed::Box<Fsm<Ipv6cp>>>,
    ipv6_up: bool,
    ccp: Fsm<Ccp>,
    ccp_mode: MppeMode,
    auth: Option<AuthMachine>,
    auth_config: AuthSettings,
    echo: LcpEcho,
    /// MPPE and/or MPPC, once CCP agreed on either.
    link: Option<CompressedLink>,
    /// The last frame MPPC expanded: its protocol and where the IP packet
    /// starts in [`CompressedLink::expanded`].
    expanded: Option<(Protocol, usize)>,
    mppe_keys: Option<MppeKeys>,
    rng: Rng,
    /// The MTU for IP packets (peer's MRU, less MPPE's overhead under MPPE).
    mtu: usize,
    /// Frames may go out with PFC/ACFC (the peer asked to receive them so).
    send_pfc: bool,
    send_acfc: bool,
    ipcp_up: bool,
    ccp_up: bool,
    /// IPCP/IPv6CP wait for CCP (see [`PppSession::start_network`]).
    ncps_deferred: bool,
    /// CCP renegotiations after MPPE frames were Protocol-Rejected.
    ccp_restarts: u32,
    /// Authenticator: IPCP waits for [`PppSession::set_ip_assignment`].
    ipcp_held: bool,
    /// The latest time any call brought (for calls that bring none).
    now: Instant,
    network_up_reported: bool,
    down: bool,
    /// Why the link is being terminated, reported once LCP finishes.
    pending_down: Option<DownReason>,
    transmit: VecDeque<Bytes>,
    max_queued_frames: usize,
    mppe_max_catch_up: u16,
    events: VecDeque<PppEvent>,
    stats: PppStats,
}

/// What CCP must achieve before IP may flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MppeMode {
    /// MPPE must be up before any IP packet goes either way.
    Required,
    /// MPPE is used if CCP agrees; plaintext otherwise.
    Optional,
    /// CCP is not run.
    Refused,
}

/// Stateless MPPE catch-up by default: half the count space, as Linux.
const DEFAULT_MPPE_CATCH_UP: u16 = 2048;

/// Octets of the Address/Control pair.
const ADDRESS_CONTROL: [u8; 2] = [0xff, 0x03];

impl PppSession {
    /// A session in the Dead phase; call [`PppSession::open`] to start LCP.
    /// See the [example](Self#example).
    pub fn new(config: SessionConfig) -> Self {
        let mut rng = Rng::new(config.seed);
        let ccp_mode = mppe_mode(&config.ccp);
        // Both ends start LCP together when the call comes up, and no peer
        // drops an early LCP request: the early resend is for the NCPs.
        let lcp_fsm = FsmConfig {
            early_resend: None,
            ..config.fsm.clone()
        };
        let lcp = Fsm::new(new_lcp(&config, &mut rng), lcp_fsm);
        let ipcp = Fsm::new(new_ipcp(&config), config.fsm.clone());
        // The peer role holds its CCP Configure-Ack until the authenticator
        // answered our request: accel-ppp's kernel then starts its MPPE
        // decompressor (see `FsmConfig::hold_ack_until_answered`).
        let ccp_fsm = FsmConfig {
            hold_ack_until_answered: matches!(config.auth, AuthConfig::Peer(_)),
            ..config.fsm.clone()
        };
        let ccp = Fsm::new(new_ccp(&config), ccp_fsm);
        let ipv6cp = config
            .ipv6
            .then(|| Fsm::new(Ipv6cp::new(rng.next_u64()), config.fsm.clone()).into());
        PppSession {
            role: config.role,
            phase: Phase::Dead,
            lcp,
            ipcp,
            ipv6cp,
            ipv6_up: false,
            ccp,
            ccp_mode,
            auth: None,
            auth_config: match config.auth {
                AuthConfig::Peer(p) => AuthSettings::Peer(p.into()),
                AuthConfig::Authenticator(a) => AuthSettings::Authenticator(a),
            },
            echo: LcpEcho::new(config.echo),
            link: None,
            expanded: None,
            mppe_keys: None,
            rng,
            mtu: DEFAULT_MTU,
            send_pfc: false,
            send_acfc: false,
            ipcp_up: false,
            ccp_up: false,
            ncps_deferred: false,
            ccp_restarts: 0,
            ipcp_held: false,
            now: Instant::ZERO,
            network_up_reported: false,
            down: false,
            pending_down: None,
            transmit: VecDeque::new(),
            max_queued_frames: config.max_queued_frames,
            mppe_max_catch_up: config.mppe_max_catch_up,
            events: VecDeque::new(),
            stats: PppStats::default(),
        }
    }

    /// The role this session plays.
    /// See the [example](Self#example).
    pub fn role(&self) -> Role {
        self.role
    }

    /// The current phase.
    /// See the [example](Self#example).
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The counters.
    /// See the [example](Self#example).
    pub fn stats(&self) -> &PppStats {
        &self.stats
    }

    /// The control protocols' counters, LCP, IPCP, IPv6CP and CCP summed:
    /// packets dropped as malformed, stale or unexpected, Code-Rejects sent,
    /// Restart timers cut short. A peer that keeps sending garbage shows here
    /// before it shows anywhere else.
    ///
    /// ```
    /// use pptp_proto::crypto::Password;
    /// use pptp_proto::ppp::fsm::FsmStats;
    /// use pptp_proto::ppp::session::{PppSession, SessionConfig};
    /// use pptp_proto::time::Instant;
    /// use pptp_proto::wire::ppp::{PppFrame, Protocol};
    ///
    /// let mut ppp = PppSession::new(SessionConfig::peer("alice", Password::new("secret")?));
    /// ppp.open(Instant::ZERO); // LCP Configure-Request, Identifier 1
    /// // A Configure-Ack of a request never sent (Identifier 99).
    /// let mut frame = Vec::new();
    /// PppFrame::new(Protocol::LCP, &[2, 99, 0, 4]).emit(&mut frame);
    /// ppp.handle_frame(Instant::ZERO, &mut frame)?;
    /// assert_eq!(ppp.control_stats(), FsmStats { stale: 1, ..FsmStats::default() });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn control_stats(&self) -> FsmStats {
        let mut total = *self.lcp.stats();
        total += *self.ipcp.stats();
        if let Some(ipv6cp) = &self.ipv6cp {
            total += *ipv6cp.stats();
        }
        total += *self.ccp.stats();
        total
    }

    /// The largest IP packet [`PppSession::send_ip`] accepts: the peer's MRU,
    /// less 4 octets under MPPE (RFC 3078 §3).
    /// See the [example](Self#example).
    pub fn mtu(&self) -> usize {
        self.mtu
    }

    /// Whether IP packets may be sent and received now.
    /// See the [example](Self#example).
    pub fn is_network_up(&self) -> bool {
        self.network_up_reported && !self.down
    }

    /// Whether MPPE is on for the data path.
    /// See the [example](Self#example).
    pub fn is_encrypted(&self) -> bool {
        self.link.as_ref().is_some_and(CompressedLink::is_encrypted)
    }

    /// Whether MPPC compresses what we send and what we receive. See the
    /// [example](Self#example), and [`decompressed`'s](Self::decompressed) for MPPC.
    pub fn is_compressed(&self) -> (bool, bool) {
        self.link
            .as_ref()
            .map_or((false, false), CompressedLink::mppc)
    }

    /// The IP packet of the last frame [`handle_frame`](Self::handle_frame)
    /// answered with [`Received::Decompressed`]; `None` after any other
    /// frame. Allocates nothing: the bytes are in the MPPC history.
    ///
    /// ```
    /// use pptp_proto::crypto::Password;
    /// use pptp_proto::ppp::auth::Credentials;
    /// use pptp_proto::ppp::ipcp::IpAssignment;
    /// use pptp_proto::ppp::session::*;
    /// use pptp_proto::time::Instant;
    /// # fn shuttle(a: &mut PppSession, b: &mut PppSession, now: Instant) -> Result<(), PppError> {
    /// #     loop {
    /// #         let mut moved = false;
    /// #         while let Some(frame) = a.poll_transmit() { b.handle_frame(now, &mut frame.to_vec())?; moved = true; }
    /// #         while let Some(frame) = b.poll_transmit() { a.handle_frame(now, &mut frame.to_vec())?; moved = true; }
    /// #         if !moved { return Ok(()); }
    /// #     }
    /// # }
    /// let now = Instant::ZERO;
    /// let mut client = SessionConfig { seed: 1, ..SessionConfig::peer("alice", Password::new("secret")?) };
    /// let mut server = SessionConfig { seed: 2, ..SessionConfig::authenticator("vpn") };
    /// client.ccp.mppc = true; // MPPC compression alongside MPPE
    /// server.ccp.mppc = true;
    /// let (mut client, mut server) = (PppSession::new(client), PppSession::new(server));
    /// # server.set_ip_assignment(IpAssignment { peer: Some([10, 0, 0, 2].into()), ..Default::default() });
    /// # client.open(now);
    /// # server.open(now);
    /// # for _ in 0..5 {
    /// #     shuttle(&mut client, &mut server, now)?;
    /// #     while let Some(e) = server.poll_event() {
    /// #         if let PppEvent::AuthRequest { .. } = e {
    /// #             server.provide_credentials(now, Credentials::Password(Password::new("secret")?));
    /// #         }
    /// #     }
    /// # }
    /// // … brought up as in the type's example …
    /// assert!(client.is_network_up() && client.is_compressed() == (true, true));
    /// // A packet that compresses well: its frame is shorter than the packet.
    /// let mut ip = vec![0u8; 1000];
    /// ip[..4].copy_from_slice(&[0x45, 0, 0x03, 0xe8]);
    /// let mut out = vec![0; client.frame_overhead() + ip.len()];
    /// let n = client.send_ip(now, &ip, &mut out)?;
    /// assert!(n < 100);
    /// // The expanded packet does not fit in the frame: the session lends it.
    /// assert_eq!(server.handle_frame(now, &mut out[..n])?, Received::Decompressed);
    /// assert_eq!(server.decompressed(), Some(Received::Ipv4(&ip)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decompressed(&self) -> Option<Received<'_>> {
        let (protocol, start) = self.expanded?;
        let ip = self.link.as_ref()?.expanded().get(start..)?;
        Some(if protocol == Protocol::IPV6 {
            Received::Ipv6(ip)
        } else {
            Received::Ipv4(ip)
        })
    }

    /// The lower layer (the PPTP call's GRE channel) is up: start LCP.
    /// See the [example](Self#example).
    pub fn open(&mut self, now: Instant) {
        if self.down || self.phase != Phase::Dead {
            return;
        }
        self.set_phase(Phase::Establish);
        self.lcp.open(now);
        self.lcp.up(now);
        self.pump(now);
    }

    /// Ends the link: LCP Terminate-Request, then `Down { LocalClose }`.
    /// See the [example](Self#example).
    pub fn close(&mut self, now: Instant) {
        self.fail(now, DownReason::LocalClose);
    }

    /// The lower layer went away (call cleared, TCP closed): the session is
    /// down at once, without a Terminate exchange.
    ///
    /// ```
    /// use pptp_proto::crypto::Password;
    /// use pptp_proto::ppp::session::*;
    /// use pptp_proto::time::Instant;
    ///
    /// let mut session = PppSession::new(SessionConfig::peer("alice", Password::new("secret")?));
    /// session.open(Instant::ZERO);
    /// session.lower_layer_down(Instant::ZERO);
    /// assert_eq!(session.phase(), Phase::Dead);
    /// let last = std::iter::from_fn(|| session.poll_event()).last();
    /// assert_eq!(last, Some(PppEvent::Down { reason: DownReason::LowerLayerDown }));
    /// assert_eq!(session.poll_timeout(), None); // every timer stopped
    /// assert_eq!(session.handle_frame(Instant::ZERO, &mut [0xff]), Err(PppError::Down));
    /// # Ok::<(), pptp_proto::crypto::Error>(())
    /// ```
    pub fn lower_layer_down(&mut self, now: Instant) {
        if self.down {
            return;
        }
        self.pending_down.get_or_insert(DownReason::LowerLayerDown);
        self.lcp.down(now);
        self.pump(now);
        self.finish();
    }

    /// Authenticator: the secret for the pending [`PppEvent::AuthRequest`].
    /// See the [example](Self#example); a wrong password is in
    /// [`DownReason`'s](DownReason#example).
    pub fn provide_credentials(&mut self, now: Instant, credentials: Credentials) {
        if let Some(auth) = self.auth.as_mut() {
            auth.provide_credentials(now, credentials);
        }
        self.pump(now);
    }

    /// Authenticator: the verdict of an external verifier (RADIUS style) for
    /// the pending [`PppEvent::AuthRequest`].
    ///
    /// ```
    /// use pptp_proto::crypto::Password;
    /// use pptp_proto::ppp::auth::{AuthFailure, Rejection, Verdict};
    /// use pptp_proto::ppp::session::*;
    /// use pptp_proto::time::Instant;
    /// # // Moves every control frame to the other side until none is left.
    /// # fn shuttle(a: &mut PppSession, b: &mut PppSession, now: Instant) -> Result<(), PppError> {
    /// #     loop {
    /// #         let mut moved = false;
    /// #         while let Some(frame) = a.poll_transmit() { b.handle_frame(now, &mut frame.to_vec())?; moved = true; }
    /// #         while let Some(frame) = b.poll_transmit() { a.handle_frame(now, &mut frame.to_vec())?; moved = true; }
    /// #         if !moved { return Ok(()); }
    /// #     }
    /// # }
    /// let config = SessionConfig::peer("alice", Password::new("secret")?);
    /// let mut client = PppSession::new(SessionConfig { seed: 1, ..config });
    /// let mut server = PppSession::new(SessionConfig { seed: 2, ..SessionConfig::authenticator("vpn") });
    /// let now = Instant::ZERO;
    /// client.open(now);
    /// server.open(now);
    /// shuttle(&mut client, &mut server, now)?;
    /// let mut server_events = std::iter::from_fn(|| server.poll_event());
    /// assert!(server_events.any(|e| matches!(e, PppEvent::AuthRequest { .. })));
    /// // The verifier (a RADIUS server, say) says no.
    /// server.provide_verdict(now, Verdict::Reject(Rejection::default()));
    /// let failed = PppEvent::AuthFailed { reason: AuthFailure::Rejected };
    /// assert!(std::iter::from_fn(|| server.poll_event()).any(|e| e == failed));
    /// shuttle(&mut client, &mut server, now)?;
    /// // The client only learns MS-CHAP's E=691.
    /// let failed = PppEvent::AuthFailed { reason: AuthFailure::BadPassword };
    /// assert!(std::iter::from_fn(|| client.poll_event()).any(|e| e == failed));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn provide_verdict(&mut self, now: Instant, verdict: Verdict) {
        if let Some(auth) = self.auth.as_mut() {
            auth.provide_verdict(now, verdict);
        }
        self.pump(now);
    }

    /// Authenticator: a Response waits for the embedder's credentials or
    /// verdict (an `AuthRequest` is outstanding).
    pub(crate) fn awaits_verdict(&self) -> bool {
        self.auth.as_ref().is_some_and(AuthMachine::awaits_answer)
    }

    /// Authenticator: the addresses IPCP assigns to the peer (by
    /// Configure-Nak when it asks for 0.0.0.0) and our own.
    /// See the [example](Self#example).
    ///
    /// Until it is called, an authenticator's IPCP does not run: it neither
    /// sends nor answers, so no address is acknowledged that was not
    /// assigned. Called once the network phase began (for example on
    /// [`PppEvent::Authenticated`]), it starts IPCP at the time of the
    /// session's latest call and queues frames: drain
    /// [`poll_transmit`](Self::poll_transmit) afterwards.
    pub fn set_ip_assignment(&mut self, assignment: IpAssignment) {
        set_ipcp_assignment(self.ipcp.negotiator_mut(), assignment);
        if self.ipcp_held && !self.down && self.phase == Phase::Network {
            self.ipcp_held = false;
            let now = self.now;
            self.ipcp.up(now);
            self.pump(now);
        }
    }

    /// Why the link is going down, while it is: a local close, the peer's
    /// LCP Terminate-Request, or a failure whose Terminate-Request is
    /// under way. `None` while the link runs, and once
    /// [`PppEvent::Down`] has been reported.
    /// See the [example](Self#example).
    pub fn terminating(&self) -> Option<DownReason> {
        if self.down {
            return None;
        }
        self.pending_down.clone().or_else(|| {
            self.lcp
                .terminated_by_peer()
                .then_some(DownReason::PeerTerminated)
        })
    }

    /// Control frames waiting for [`PppSession::poll_transmit`] (at most
    /// [`SessionConfig::max_queued_frames`]; beyond it they are dropped and
    /// retransmitted by their timers). See the [example](Self#example).
    pub fn queued_frames(&self) -> usize {
        self.transmit.len()
    }

    /// The next control frame to send in GRE.
    /// See the [example](Self#example).
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        crate::queue::pop_or_release(&mut self.transmit, self.network_up_reported)
    }

    /// The next event.
    /// See the [example](Self#example).
    pub fn poll_event(&mut self) -> Option<PppEvent> {
        crate::queue::pop_or_release(&mut self.events, self.network_up_reported)
    }

    /// When [`PppSession::handle_timeout`] is due.
    /// See the [example](Self#example).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.down {
            return None;
        }
        let mut t = Instant::soonest(self.lcp.poll_timeout(), self.ipcp.poll_timeout());
        t = Instant::soonest(t, self.ccp.poll_timeout());
        if let Some(v6) = &self.ipv6cp {
            t = Instant::soonest(t, v6.poll_timeout());
        }
        if let Some(auth) = &self.auth {
            t = Instant::soonest(t, auth.poll_timeout());
        }
        Instant::soonest(t, self.echo.poll_timeout())
    }

    /// Runs the timers that are due; an early or repeated call is a no-op.
    /// See the [example](Self#example).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.down {
            return;
        }
        self.lcp.handle_timeout(now);
        self.ipcp.handle_timeout(now);
        self.ccp.handle_timeout(now);
        if let Some(v6) = self.ipv6cp.as_mut() {
            v6.handle_timeout(now);
        }
        if let Some(auth) = self.auth.as_mut() {
            auth.handle_timeout(now);
        }
        if self.echo.handle_timeout(now) {
            let id = self.lcp.new_identifier();
            let packet = self.lcp.negotiator().echo_request(id);
            self.lcp.send_extended(packet);
        }
        if self.echo.failed() {
            // The peer is gone: send it a Terminate-Request, but do not wait
            // the restart timer out for an answer that will not come, so
            // Down arrives within interval × max_failures.
            self.fail(now, DownReason::EchoTimeout);
            self.finish();
        }
        self.pump(now);
    }
}

impl PppSession {
    /// Handles one PPP frame received from GRE. IP packets are decrypted in
    /// place and returned as a sub-slice of `frame`.
    /// See the [example](Self#example).
    pub fn handle_frame<'a>(
        &mut self,
        now: Instant,
        frame: &'a mut [u8],
    ) -> Result<Received<'a>, PppError> {
        #[cfg(feature = "tracing")]
        crate::trace::ppp_frame("rcvd", frame);
        if self.down {
            return Err(PppError::Down);
        }
        self.expanded = None;
        let (protocol, header_len) = match PppFrame::parse(frame) {
            Ok(f) => (f.protocol, frame.len() - f.information.len()),
            Err(e) => {
                self.stats.malformed += 1;
                return Err(e.into());
            }
        };
        let info = frame.get_mut(header_len..).unwrap_or_default();
        let received = match protocol {
            Protocol::COMPRESSED => return self.receive_mppe(now, info),
            Protocol::IPV4 | Protocol::IPV6 => return self.receive_plain(protocol, info),
            _ => self.receive_control(now, protocol, info),
        };
        self.pump(now);
        Ok(received)
    }

    fn receive_control(
        &mut self,
        now: Instant,
        protocol: Protocol,
        info: &[u8],
    ) -> Received<'static> {
        let network = self.phase == Phase::Network;
        match protocol {
            Protocol::LCP => self.lcp.handle_packet(now, info),
            Protocol::PAP | Protocol::CHAP | Protocol::EAP => match self.auth.as_mut() {
                Some(auth) => auth.handle_packet(now, protocol, info),
                None => return self.drop_frame(),
            },
            // RFC 1661 §3.4: NCP packets before the Network phase are discarded.
            Protocol::IPCP | Protocol::IPV6CP if network && self.ncps_deferred => {
                self.start_ncps(now);
                return self.receive_control(now, protocol, info);
            }
            Protocol::IPCP if network && self.ipcp_held => return self.drop_frame(),
            Protocol::IPCP if network => self.ipcp.handle_packet(now, info),
            Protocol::CCP if network && self.ccp_mode != MppeMode::Refused => {
                self.ccp.handle_packet(now, info)
            }
            Protocol::IPV6CP if network && self.ipv6cp.is_some() => {
                if let Some(v6) = self.ipv6cp.as_mut() {
                    v6.handle_packet(now, info);
                }
            }
            Protocol::IPCP | Protocol::CCP | Protocol::IPV6CP if !network => {
                return self.drop_frame()
            }
            _ => {
                // RFC 1661 §5.7: unknown (or unwanted) protocols get a
                // Protocol-Reject, but only while LCP is Opened.
                if self.lcp.state() != State::Opened {
                    return self.drop_frame();
                }
                let mut data = Vec::with_capacity(2 + info.len());
                data.extend_from_slice(&protocol.0.to_be_bytes());
                data.extend_from_slice(info);
                let identifier = self.lcp.new_identifier();
                self.lcp.send_extended(Packet {
                    code: crate::wire::cp::Code::PROTOCOL_REJECT,
                    identifier,
                    data,
                });
            }
        }
        Received::Control
    }

    fn drop_frame(&mut self) -> Received<'static> {
        self.stats.dropped += 1;
        Received::Dropped
    }

    fn receive_plain<'a>(
        &mut self,
        protocol: Protocol,
        info: &'a [u8],
    ) -> Result<Received<'a>, PppError> {
        if self.ccp_mode == MppeMode::Required || self.is_encrypted() {
            // A session that requires MPPE never accepts plaintext.
            self.stats.dropped += 1;
            return Err(PppError::PlaintextRefused);
        }
        if !self.is_network_up() || (protocol == Protocol::IPV6 && !self.ipv6_up) {
            return Ok(self.drop_frame());
        }
        Ok(self.deliver(protocol, info))
    }

    fn receive_mppe<'a>(
        &mut self,
        now: Instant,
        info: &'a mut [u8],
    ) -> Result<Received<'a>, PppError> {
        let Some(link) = self.link.as_mut() else {
            return Ok(self.drop_frame());
        };
        let outcome = match link.open(info) {
            Ok(o) => o,
            Err(e) => {
                self.stats.mppe_discarded += 1;
                return Err(e.into());
            }
        };
        let payload: &'a [u8] = match outcome {
            Opened::InPlace(payload) => payload,
            Opened::Expanded => {
                let expanded = link.expanded();
                let Some((protocol, inner)) = split_protocol(expanded) else {
                    self.stats.malformed += 1;
                    return Ok(Received::Dropped);
                };
                let (start, len) = (expanded.len() - inner.len(), inner.len());
                if !self.accepts(protocol) {
                    return Ok(self.drop_frame());
                }
                self.expanded = Some((protocol, start));
                self.stats.ip_received += 1;
                self.stats.bytes_received += len as u64;
                return Ok(Received::Decompressed);
            }
            Opened::Discarded { send_reset_request } => {
                self.stats.mppe_discarded += 1;
                if send_reset_request {
                    self.send_reset_request(now);
                }
                return Ok(Received::Dropped);
            }
            Opened::Undecodable(e) => {
                self.stats.mppe_discarded += 1;
                self.send_reset_request(now);
                return Err(e.into());
            }
        };
        match split_protocol(payload) {
            Some((protocol, inner)) if self.accepts(protocol) => Ok(self.deliver(protocol, inner)),
            Some(_) => Ok(self.drop_frame()),
            None => {
                self.stats.malformed += 1;
                Ok(Received::Dropped)
            }
        }
    }

    /// Whether an IP packet of `protocol` may be delivered now.
    fn accepts(&self, protocol: Protocol) -> bool {
        match protocol {
            Protocol::IPV4 => self.is_network_up(),
            Protocol::IPV6 => self.is_network_up() && self.ipv6_up,
            _ => false,
        }
    }

    /// RFC 1962 §2.2: asks the peer to flush after a loss.
    fn send_reset_request(&mut self, now: Instant) {
        self.stats.mppe_resets_sent += 1;
        let identifier = self.ccp.new_identifier();
        self.ccp.send_extended(Packet {
            code: crate::wire::cp::Code::RESET_REQUEST,
            identifier,
            data: Vec::new(),
        });
        self.pump(now);
    }

    fn deliver<'a>(&mut self, protocol: Protocol, packet: &'a [u8]) -> Received<'a> {
        self.stats.ip_received += 1;
        self.stats.bytes_received += packet.len() as u64;
        if protocol == Protocol::IPV6 {
            Received::Ipv6(packet)
        } else {
            Received::Ipv4(packet)
        }
    }

    /// Octets `send_ip` writes in front of an IP packet of the current link.
    /// See the [example](Self#example).
    pub fn frame_overhead(&self) -> usize {
        let address = if self.send_acfc { 0 } else { 2 };
        let protocol = if self.send_pfc { 1 } else { 2 };
        match self.link {
            // Outer protocol, MPPE/MPPC header, the inner two-octet protocol.
            Some(_) => address + protocol + crate::mppe::HEADER_LEN + 2,
            None => address + protocol,
        }
    }

    /// Whether [`send_ip`](Self::send_ip) would take `ip` now: the error it
    /// would give, checked before anything is encoded (the tunnel checks a
    /// packet it queues for the peer's window the same way).
    pub(crate) fn check_sendable(&self, ip: &[u8]) -> Result<(), PppError> {
        if self.down {
            return Err(PppError::Down);
        }
        if !self.is_network_up() {
            return Err(PppError::NotReady);
        }
        if ip.len() > self.mtu || ip.is_empty() {
            return Err(PppError::TooLarge {
                len: ip.len(),
                mtu: self.mtu,
            });
        }
        Ok(())
    }

    /// Writes `ip` as a complete PPP frame into `out` (MPPC-compressed and
    /// MPPE-encrypted when negotiated) and returns its length. `out` must
    /// hold [`frame_overhead`](Self::frame_overhead) + `ip.len()` octets even
    /// when compression makes the frame shorter. Allocates nothing; on error
    /// the session is unchanged.
    /// See the [example](Self#example).
    pub fn send_ip(&mut self, now: Instant, ip: &[u8], out: &mut [u8]) -> Result<usize, PppError> {
        let _ = now;
        self.check_sendable(ip)?;
        let protocol = if ip[0] >> 4 == 6 {
            Protocol::IPV6
        } else {
            Protocol::IPV4
        };
        if protocol == Protocol::IPV6 && !self.ipv6_up {
            return Err(PppError::NotReady);
        }
        let required = self.frame_overhead() + ip.len();
        let Some(out) = out.get_mut(..required) else {
            return Err(PppError::BufferTooSmall { required });
        };
        let mut at = 0;
        if !self.send_acfc {
            out[..2].copy_from_slice(&ADDRESS_CONTROL);
            at = 2;
        }
        let outer = if self.link.is_some() {
            Protocol::COMPRESSED
        } else {
            protocol
        };
        at += put_protocol(&mut out[at..], outer, self.send_pfc);
        let len = match self.link.as_mut() {
            Some(link) => {
                let body = &mut out[at..];
                body[2..4].copy_from_slice(&protocol.0.to_be_bytes());
                body[4..].copy_from_slice(ip);
                let sealed = link.seal(body, 2 + ip.len())?;
                if link.mppc().0 {
                    self.stats.mppc_bytes_in += 2 + ip.len() as u64;
                    self.stats.mppc_bytes_out += (sealed - crate::mppe::HEADER_LEN) as u64;
                }
                at + sealed
            }
            None => {
                out[at..].copy_from_slice(ip);
                required
            }
        };
        self.stats.ip_sent += 1;
        self.stats.bytes_sent += ip.len() as u64;
        #[cfg(feature = "tracing")]
        crate::trace::ppp_frame("sent", &out[..len]);
        Ok(len)
    }
}

/// Writes a Protocol field, one octet when PFC allows it; returns its length.
fn put_protocol(out: &mut [u8], protocol: Protocol, pfc: bool) -> usize {
    if pfc && protocol.is_compressible() {
        out[0] = protocol.0 as u8;
        1
    } else {
        out[..2].copy_from_slice(&protocol.0.to_be_bytes());
        2
    }
}

/// The IP MTU before LCP says otherwise (RFC 1661 §6.1 default MRU).
const DEFAULT_MTU: usize = 1500;

impl PppSession {
    fn set_phase(&mut self, phase: Phase) {
        if self.phase != phase {
            crate::trace::event!(debug, from = ?self.phase, to = ?phase, "PPP phase");
            self.phase = phase;
            self.events.push_back(PppEvent::PhaseChanged(phase));
        }
    }

    /// Starts the termination of the link with `reason` (the first reason wins).
    fn fail(&mut self, now: Instant, reason: DownReason) {
        if self.down {
            return;
        }
        crate::trace::event!(info, ?reason, "PPP terminating the link");
        self.pending_down.get_or_insert(reason);
        self.set_phase(Phase::Terminate);
        self.lcp.close(now);
        self.pump(now);
        // Closing from Initial/Starting/Closed finishes at once (no Terminate).
        if matches!(
            self.lcp.state(),
            State::Initial | State::Closed | State::Stopped
        ) {
            self.finish();
        }
    }

    /// The link is down: report it once and stop every timer.
    fn finish(&mut self) {
        if self.down {
            return;
        }
        let reason = self.pending_down.take().unwrap_or(DownReason::LcpFailed);
        crate::trace::event!(info, ?reason, "PPP link down");
        self.link = None;
        self.network_up_reported = false;
        self.set_phase(Phase::Dead);
        self.down = true;
        self.events.push_back(PppEvent::Down { reason });
    }

    fn queue_frame(&mut self, protocol: Protocol, packet: &Packet) {
        if self.transmit.len() >= self.max_queued_frames {
            self.stats.transmit_dropped += 1;
            return;
        }
        // LCP always travels with Address/Control and a full Protocol field
        // (RFC 1661 §6.5, §6.6); other control protocols may be compressed.
        let (acfc, pfc) = if protocol == Protocol::LCP {
            (false, false)
        } else {
            (self.send_acfc, self.send_pfc)
        };
        let mut frame = BytesMut::with_capacity(4 + packet.buffer_len());
        if !acfc {
            frame.put_slice(&ADDRESS_CONTROL);
        }
        if pfc && protocol.is_compressible() {
            frame.put_u8(protocol.0 as u8);
        } else {
            frame.put_u16(protocol.0);
        }
        packet.emit(&mut frame);
        #[cfg(feature = "tracing")]
        crate::trace::ppp_frame("sent", &frame);
        self.transmit.push_back(frame.freeze());
    }

    /// Drains every sub-machine's output and events until nothing moves.
    fn pump(&mut self, now: Instant) {
        self.now = self.now.max(now);
        // Each round either moves a packet or an event; the bound only
        // guards against a logic error looping forever.
        for _ in 0..256 {
            if !self.pump_once(now) {
                break;
            }
        }
        // Once the network is up the peer has seen the authentication
        // outcome (it started the NCPs only after it), so the machine and
        // the packets it kept for retransmission can go: a stray PAP/CHAP
        // packet is dropped from then on. About 650 octets per session.
        if self.network_up_reported && self.auth.is_some() {
            self.auth = None;
        }
    }

    fn pump_once(&mut self, now: Instant) -> bool {
        let mut moved = false;
        while let Some(p) = self.lcp.poll_transmit() {
            self.queue_frame(Protocol::LCP, &p);
            moved = true;
        }
        while let Some(event) = self.lcp.poll_event() {
            self.on_lcp_event(now, event);
            moved = true;
        }
        moved |= self.pump_lcp_reports(now);
        moved |= self.pump_ipv6cp();
        moved |= self.pump_auth(now);
        while let Some(p) = self.ipcp.poll_transmit() {
            self.queue_frame(Protocol::IPCP, &p);
            moved = true;
        }
        while let Some(event) = self.ipcp.poll_event() {
            self.on_ipcp_event(now, event);
            moved = true;
        }
        while let Some(p) = self.ccp.poll_transmit() {
            self.queue_frame(Protocol::CCP, &p);
            moved = true;
        }
        while let Some(event) = self.ccp.poll_event() {
            self.on_ccp_event(now, event);
            moved = true;
        }
        if self.ccp.negotiator().negotiation_failed() && self.pending_down.is_none() && !self.down {
            self.fail(now, DownReason::MppeNegotiationFailed);
            moved = true;
        }
        self.check_network_up();
        moved
    }

    fn pump_ipv6cp(&mut self) -> bool {
        let Some(v6) = self.ipv6cp.as_mut() else {
            return false;
        };
        let packets: Vec<Packet> = core::iter::from_fn(|| v6.poll_transmit()).collect();
        let events: Vec<FsmEvent> = core::iter::from_fn(|| v6.poll_event()).collect();
        let ids = (v6.negotiator().local(), v6.negotiator().peer());
        let moved = !packets.is_empty() || !events.is_empty();
        for p in &packets {
            self.queue_frame(Protocol::IPV6CP, p);
        }
        for event in events {
            match event {
                FsmEvent::Up => {
                    self.ipv6_up = true;
                    self.events.push_back(PppEvent::Ipv6Up {
                        local: ids.0,
                        peer: ids.1,
                    });
                }
                FsmEvent::Down => self.ipv6_up = false,
                _ => {}
            }
        }
        moved
    }

    fn on_lcp_event(&mut self, now: Instant, event: FsmEvent<LcpReport>) {
        match event {
            FsmEvent::Report(report) => self.on_lcp_report(now, report),
            FsmEvent::Up => {
                let (pfc, acfc, peer_mru) = lcp_link_options(self.lcp.negotiator());
                self.send_pfc = pfc;
                self.send_acfc = acfc;
                let cap = self.lcp.negotiator().mtu_cap();
                self.mtu = usize::from(peer_mru.min(cap)).min(DEFAULT_MTU);
                self.ipcp.set_peer_mru(peer_mru);
                self.ccp.set_peer_mru(peer_mru);
                self.events.push_back(PppEvent::LinkUp);
                self.echo.start(now);
                self.start_authentication(now);
            }
            FsmEvent::Down => {
                // tld: the NCPs lose their lower layer (RFC 1661 §4.4).
                self.echo.stop();
                self.ipcp.down(now);
                self.ccp.down(now);
                if let Some(v6) = self.ipv6cp.as_mut() {
                    v6.down(now);
                }
                self.ipv6_up = false;
                if self.link.take().is_some_and(|l| l.is_encrypted()) {
                    // Renegotiated from scratch, but once encrypted, never plaintext.
                    self.ccp_mode = MppeMode::Required;
                    self.ccp.negotiator_mut().require_mppe();
                }
                self.ipcp_up = false;
                self.ipcp_held = false;
                self.ccp_up = false;
                self.network_up_reported = false;
                if self.phase != Phase::Terminate {
                    self.set_phase(Phase::Establish);
                }
            }
            FsmEvent::Finished { reason } => {
                let mapped = match reason {
                    FinishReason::MaxConfigureExceeded => DownReason::LcpTimeout,
                    FinishReason::PeerTerminated => DownReason::PeerTerminated,
                    FinishReason::Closed | FinishReason::TerminateAcked => DownReason::LocalClose,
                    _ => DownReason::LcpFailed,
                };
                self.pending_down.get_or_insert(mapped);
                self.finish();
            }
            _ => {}
        }
    }

    fn on_lcp_report(&mut self, now: Instant, report: LcpReport) {
        match report {
            // RFC 1661 §5.7: a rejected NCP stops (RXJ-), e.g. Windows and IPv6CP.
            LcpReport::ProtocolRejected(protocol) => match protocol {
                Protocol::IPCP => self.ipcp.protocol_rejected(now),
                Protocol::CCP => self.ccp.protocol_rejected(now),
                Protocol::COMPRESSED => self.mppe_frames_rejected(now),
                Protocol::IPV6CP => {
                    if let Some(v6) = self.ipv6cp.as_mut() {
                        v6.protocol_rejected(now);
                    }
                }
                _ => {}
            },
            LcpReport::EchoReply => {
                if let Some(rtt) = self.echo.on_reply(now) {
                    self.stats.echo_rtt = Some(rtt);
                }
                self.stats.echo_replies += 1;
            }
        }
    }

    fn pump_lcp_reports(&mut self, now: Instant) -> bool {
        let mut moved = false;
        // Once: `fail` pumps again, and the loopback flag stays set.
        if lcp_looped_back(self.lcp.negotiator()) && self.pending_down.is_none() && !self.down {
            self.fail(now, DownReason::LoopedBack);
            moved = true;
        }
        moved
    }

    fn start_authentication(&mut self, now: Instant) {
        let method = negotiated_auth(self.lcp.negotiator(), self.role);
        match (method, &self.auth_config) {
            (None, AuthSettings::Authenticator(_)) => {
                // LCP opened without an Auth-Protocol: the peer refused every method.
                self.fail(now, DownReason::NoAuthMethod);
            }
            (None, AuthSettings::Peer(peer)) if peer.require_auth => {
                crate::trace::event!(info, "the authenticator asked for no authentication");
                self.fail(now, DownReason::AuthNotRequested);
            }
            (None, AuthSettings::Peer(_)) => self.start_network(now),
            (Some(method), config) => {
                let allowed = self.lcp.negotiator().auth_methods();
                let auth = AuthMachine::new(config, method, allowed, &mut self.rng);
                self.auth = Some(auth);
                self.set_phase(Phase::Authenticate);
                if let Some(auth) = self.auth.as_mut() {
                    auth.start(now);
                }
            }
        }
    }

    fn pump_auth(&mut self, now: Instant) -> bool {
        let mut moved = false;
        let mut frames = Vec::new();
        let mut events = Vec::new();
        if let Some(auth) = self.auth.as_mut() {
            while let Some(frame) = auth.poll_transmit() {
                frames.push(frame);
            }
            while let Some(event) = auth.poll_event() {
                events.push(event);
            }
        }
        for (protocol, info) in frames {
            moved = true;
            self.queue_info(protocol, &info);
        }
        for event in events {
            moved = true;
            match event {
                AuthEvent::Request {
                    username,
                    method,
                    exchange,
                } => {
                    self.events.push_back(PppEvent::AuthRequest {
                        username,
                        method,
                        exchange,
                    });
                }
                AuthEvent::Success {
                    peer_name,
                    method,
                    mppe_keys,
                } => {
                    self.mppe_keys = mppe_keys;
                    self.events
                        .push_back(PppEvent::Authenticated { peer_name, method });
                    if self.phase == Phase::Authenticate {
                        self.start_network(now);
                    }
                }
                AuthEvent::PasswordChanged {
                    username,
                    new_password,
                } => self.events.push_back(PppEvent::PasswordChanged {
                    username,
                    new_password,
                }),
                AuthEvent::Failure { reason } => {
                    self.events.push_back(PppEvent::AuthFailed {
                        reason: reason.clone(),
                    });
                    self.fail(now, DownReason::AuthFailed(reason));
                }
            }
        }
        moved
    }

    /// Queues an already-encoded information field (authentication packets).
    fn queue_info(&mut self, protocol: Protocol, info: &[u8]) {
        if self.transmit.len() >= self.max_queued_frames {
            self.stats.transmit_dropped += 1;
            return;
        }
        let mut frame = BytesMut::with_capacity(4 + info.len());
        if !self.send_acfc {
            frame.put_slice(&ADDRESS_CONTROL);
        }
        if self.send_pfc && protocol.is_compressible() {
            frame.put_u8(protocol.0 as u8);
        } else {
            frame.put_u16(protocol.0);
        }
        frame.put_slice(info);
        #[cfg(feature = "tracing")]
        crate::trace::ppp_frame("sent", &frame);
        self.transmit.push_back(frame.freeze());
    }

    fn start_network(&mut self, now: Instant) {
        self.set_phase(Phase::Network);
        if self.ccp_mode != MppeMode::Refused {
            if self.mppe_keys.is_none() {
                // MPPE keys come only from MS-CHAP (RFC 3079): without them
                // MPPE cannot run, MPPC still can.
                if self.ccp_mode == MppeMode::Required {
                    self.fail(now, DownReason::NoMppeKeys);
                    return;
                }
                if self.ccp.negotiator().config().mppc {
                    self.ccp.negotiator_mut().refuse_mppe();
                    self.ccp.open(now);
                    self.ccp.up(now);
                } else {
                    self.ccp_mode = MppeMode::Refused;
                }
            } else {
                self.ccp.open(now);
                self.ccp.up(now);
            }
        }
        self.ipcp.open(now);
        if let Some(v6) = self.ipv6cp.as_mut() {
            v6.open(now);
        }
        // While CCP negotiates, IPCP and IPv6CP wait: pppd opens them only
        // once CCP is up when it requires MPPE, and answers an early IPCP
        // Configure-Request with Terminate-Ack, which would cost us a
        // retransmission timeout. They start when CCP settles either way,
        // or as soon as the peer starts them (Windows runs them at once).
        self.ncps_deferred = self.ccp_mode != MppeMode::Refused;
        if !self.ncps_deferred {
            self.start_ncps(now);
        }
    }

    fn start_ncps(&mut self, now: Instant) {
        self.ncps_deferred = false;
        if self.role == Role::Authenticator && !self.ipcp.negotiator().has_assignment() {
            // No address for this peer yet: IPCP waits for set_ip_assignment
            // (the peer retransmits its Configure-Request meanwhile).
            crate::trace::event!(debug, "IPCP held until the address assignment");
            self.ipcp_held = true;
        } else {
            self.ipcp.up(now);
        }
        if let Some(v6) = self.ipv6cp.as_mut() {
            v6.up(now);
        }
    }

    fn on_ipcp_event(&mut self, now: Instant, event: FsmEvent) {
        match event {
            FsmEvent::Up => {
                // RFC 1332: a peer that would not take an address (it kept
                // insisting on one it may not have) gets no link.
                let (local, peer, _, _) = ipcp_addresses(self.ipcp.negotiator());
                if self.role == Role::Authenticator && peer.is_unspecified() {
                    self.fail(now, DownReason::IpcpFailed);
                } else if self.role == Role::Peer && local.is_unspecified() {
                    // RFC 1332 §3.3: 0.0.0.0 asks for an address; acknowledged
                    // as is, we have none (pppd: the same words, IPCP closed).
                    self.fail(now, DownReason::NoLocalAddress);
                } else {
                    self.ipcp_up = true;
                }
            }
            FsmEvent::Down => {
                self.ipcp_up = false;
                self.network_up_reported = false;
            }
            FsmEvent::Finished { .. } if self.phase == Phase::Network => {
                self.fail(now, DownReason::IpcpFailed);
            }
            _ => {}
        }
    }

    fn on_ccp_event(&mut self, now: Instant, event: FsmEvent<CcpReport>) {
        match event {
            FsmEvent::Report(CcpReport::ResetRequested) => {
                if let Some(link) = self.link.as_mut() {
                    link.reset_requested();
                }
            }
            FsmEvent::Up => {
                let ccp = self.ccp.negotiator();
                let bits = agreed_mppe_bits(ccp);
                let (compress, decompress) = ccp.mppc_directions();
                let rekeys = ccp.config().reset_rekeys;
                let catch_up = self.mppe_max_catch_up;
                let options = bits
                    .and_then(MppeOptions::from_bits)
                    .map(|o| o.with_reset_rekeys(rekeys).with_max_catch_up(catch_up));
                let mppe = match (options, &self.mppe_keys) {
                    (Some(options), Some(keys)) => Some(Mppe::new(options, keys)),
                    _ => None,
                };
                if mppe.is_none() && self.ccp_mode == MppeMode::Required {
                    let reason = if options.is_some() {
                        DownReason::NoMppeKeys
                    } else {
                        DownReason::MppeRefused
                    };
                    self.fail(now, reason);
                    return;
                }
                self.ccp_up = true;
                // accel-ppp answers IPCP with a Terminate-Ack until its CCP
                // is up: ask again soon instead of after the restart timer.
                if let Some(within) = self.ipcp.config().early_resend {
                    self.ipcp.hurry(now, within);
                    if let Some(v6) = self.ipv6cp.as_mut() {
                        v6.hurry(now, within);
                    }
                }
                if mppe.is_none() && !compress && !decompress {
                    return;
                }
                let bits = bits.unwrap_or(MppeBits::empty());
                let stateless = bits.contains(MppeBits::STATELESS);
                // What we accept: our MRU (a peer may use 1 500 regardless,
                // as Windows does) and the protocol field.
                let max_output = usize::from(self.lcp.negotiator().own_mru()).max(1500) + 2;
                self.link = Some(CompressedLink::new(
                    mppe, compress, decompress, stateless, max_output,
                ));
                self.mtu = self.mtu.saturating_sub(crate::mppe::MTU_OVERHEAD);
                self.events
                    .push_back(PppEvent::CompressionUp { mppe: bits });
            }
            FsmEvent::Down => {
                self.ccp_up = false;
                if let Some(link) = self.link.take() {
                    self.mtu = self.mtu.saturating_add(crate::mppe::MTU_OVERHEAD);
                    if link.is_encrypted() {
                        // A renegotiation (RFC 1661 §4.1 Opened + RCR) must bring
                        // MPPE back or end the link: never fall back to plaintext.
                        self.ccp_mode = MppeMode::Required;
                        self.ccp.negotiator_mut().require_mppe();
                    }
                }
                if self.ccp_mode == MppeMode::Required {
                    self.network_up_reported = false;
                }
            }
            FsmEvent::Finished { .. } if self.ccp_mode == MppeMode::Required => {
                self.fail(now, DownReason::MppeRefused);
            }
            FsmEvent::Finished { .. } => {
                // Optional MPPE refused by the peer: carry on in plaintext.
                self.ccp_mode = MppeMode::Refused;
            }
            _ => {}
        }
        let settled = self.ccp_up || self.ccp_mode == MppeMode::Refused;
        if self.ncps_deferred && settled && !self.down && self.phase == Phase::Network {
            self.start_ncps(now);
        }
    }

    /// The peer Protocol-Rejected a compressed (MPPE/MPPC) frame. With CCP
    /// Opened that means the peer's decompressor is not running although
    /// it agreed to one: accel-ppp starts the kernel's MPPE decompressor
    /// only if our CCP Configure-Ack arrives after it marked CCP open, and
    /// a fast peer beats it. A fresh CCP negotiation starts it; nothing is
    /// ever sent in clear meanwhile (MPPE stays required). Bounded by
    /// [`MAX_CCP_RESTARTS`]; beyond that the link ends.
    fn mppe_frames_rejected(&mut self, now: Instant) {
        if self.ccp.state() != State::Opened || self.link.is_none() || self.down {
            return;
        }
        if self.ccp_restarts >= MAX_CCP_RESTARTS {
            crate::trace::event!(
                warn,
                restarts = self.ccp_restarts,
                "the peer keeps Protocol-Rejecting MPPE frames with CCP Opened: closing"
            );
            self.fail(now, DownReason::MppeFramesRejected);
            return;
        }
        self.ccp_restarts += 1;
        crate::trace::event!(
            warn,
            restart = self.ccp_restarts,
            "the peer Protocol-Rejected an MPPE frame with CCP Opened (its decompressor is off): renegotiating CCP"
        );
        self.stats.ccp_restarts = self.stats.ccp_restarts.saturating_add(1);
        self.ccp.renegotiate(now);
    }

    fn check_network_up(&mut self) {
        if self.network_up_reported || self.down || !self.ipcp_up {
            return;
        }
        let ccp_done = match self.ccp_mode {
            MppeMode::Required => self.is_encrypted(),
            // Optional: wait until CCP settles either way.
            MppeMode::Optional => self.ccp_up,
            MppeMode::Refused => true,
        };
        if !ccp_done {
            return;
        }
        self.network_up_reported = true;
        let (local, peer, dns, nbns) = ipcp_addresses(self.ipcp.negotiator());
        crate::trace::event!(
            info,
            %local,
            %peer,
            mppe = ?self.link.as_ref().map(|_| "on"),
            "PPP network up"
        );
        self.events.push_back(PppEvent::NetworkUp {
            local,
            peer,
            dns,
            nbns,
        });
    }
}

/// The peer's (client's) authentication settings. See the
/// [`SessionConfig` example](SessionConfig#example).
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// The user name (`DOMAIN\user` is sent as given; MS-CHAP hashes the
    /// part after the backslash, as Windows does).
    pub username: alloc::string::String,
    /// The password.
    pub password: Password,
    /// MS-CHAPv2: the password to change to if the server says the current
    /// one expired (`E=648`).
    pub new_password: Option<Password>,
    /// Retransmission timers.
    pub timers: AuthTimers,
    /// Go down ([`DownReason::AuthNotRequested`]) when the authenticator's
    /// LCP asks for no authentication at all (default off, as pppd's
    /// client; with MPPE required such a link goes down anyway, for want
    /// of MPPE keys).
    pub require_auth: bool,
}

/// The authenticator's (server's) authentication settings. See the
/// [`SessionConfig` example](SessionConfig#example).
#[derive(Debug, Clone)]
pub struct AuthenticatorConfig {
    /// Our name in CHAP Challenges.
    pub name: alloc::string::String,
    /// Retransmission timers.
    pub timers: AuthTimers,
}

impl SessionConfig {
    /// A peer (client) authenticating as `username`, with the defaults:
    /// MS-CHAPv2, MS-CHAPv1 or CHAP-MD5, whichever the authenticator asks
    /// for (MS-CHAP only while MPPE is required, for its keys; never PAP
    /// unless listed in `lcp.auth`), MPPE-128 required, DNS requested,
    /// echo keepalive off.
    /// See the [example](SessionConfig#example).
    pub fn peer(username: &str, password: Password) -> Self {
        Self::base(
            Role::Peer,
            AuthConfig::Peer(PeerConfig {
                username: username.into(),
                password,
                new_password: None,
                timers: AuthTimers::default(),
                require_auth: false,
            }),
        )
        .with_peer_auth()
    }

    /// The peer's default acceptance set: every method that can meet the
    /// default MPPE requirement; [`PppSession::new`] drops CHAP-MD5 from it
    /// when MPPE is required (no MPPE keys), PAP only when listed by hand.
    fn with_peer_auth(mut self) -> Self {
        self.lcp.auth = alloc::vec![
            AuthMethod::MsChapV2,
            AuthMethod::MsChapV1,
            AuthMethod::ChapMd5
        ];
        self
    }

    /// An authenticator (server) named `name`, with the same defaults.
    /// See the [example](SessionConfig#example).
    pub fn authenticator(name: &str) -> Self {
        Self::base(
            Role::Authenticator,
            AuthConfig::Authenticator(AuthenticatorConfig {
                name: name.into(),
                timers: AuthTimers::default(),
            }),
        )
    }

    fn base(role: Role, auth: AuthConfig) -> Self {
        SessionConfig {
            role,
            fsm: FsmConfig::default(),
            lcp: LcpConfig::default(),
            echo: EchoConfig::default(),
            ipcp: IpcpConfig::default(),
            ipv6: false,
            ccp: CcpConfig::default(),
            auth,
            seed: 0,
            max_queued_frames: 32,
            mppe_max_catch_up: DEFAULT_MPPE_CATCH_UP,
        }
    }
}

// Builders named after pppd options, for SessionConfig and for the `ppp`
// of ClientConfig and ServerConfig (one definition, so the three agree);
// the example is on SessionConfig (`#pppd-options`).
macro_rules! ppp_option_builders {
    ($($ppp:ident).*) => {
        /// pppd's `require-pap`, `require-chap`, `require-mschap`,
        /// `require-mschap-v2` (authenticator: the methods offered, first
        /// preferred) or `refuse-*` of every method not listed (peer):
        /// sets [`LcpConfig::auth`](crate::ppp::lcp::LcpConfig::auth). PAP
        /// and CHAP-MD5 give no MPPE keys: pair them with
        /// `with_mppe(CcpConfig::nomppe())`. See the
        /// [example](crate::ppp::session::SessionConfig#pppd-options).
        pub fn with_auth(mut self, methods: &[crate::ppp::lcp::AuthMethod]) -> Self {
            self$(.$ppp)*.lcp.auth = methods.to_vec();
            self
        }

        /// The MPPE policy, from pppd's options through
        /// [`CcpConfig`](crate::ppp::ccp::CcpConfig)'s constructors
        /// (`require_mppe_128()` is the default, `nomppe()`,
        /// `require_mppe_40()`, `.stateful(..)` for `mppe-stateful`); MPPC
        /// stays as it was. See the
        /// [example](crate::ppp::session::SessionConfig#pppd-options).
        pub fn with_mppe(mut self, ccp: crate::ppp::ccp::CcpConfig) -> Self {
            let mppc = self$(.$ppp)*.ccp.mppc;
            self$(.$ppp)*.ccp = crate::ppp::ccp::CcpConfig { mppc, ..ccp };
            self
        }

        /// pppd's `mtu`: the largest frame sent, whatever larger MRU the
        /// peer announces ([`LcpConfig::mtu`](crate::ppp::lcp::LcpConfig::mtu)).
        /// See the [example](crate::ppp::session::SessionConfig#pppd-options).
        pub fn with_mtu(mut self, mtu: u16) -> Self {
            self$(.$ppp)*.lcp.mtu = mtu;
            self
        }

        /// pppd's `mru`: the MRU asked of the peer
        /// ([`LcpConfig::mru`](crate::ppp::lcp::LcpConfig::mru)). See the
        /// [example](crate::ppp::session::SessionConfig#pppd-options).
        pub fn with_mru(mut self, mru: u16) -> Self {
            self$(.$ppp)*.lcp.mru = mru;
            self
        }

        /// pppd's `lcp-echo-interval` and `lcp-echo-failure`: an LCP
        /// Echo-Request every `interval`, the link down after `failures`
        /// unanswered ([`EchoConfig`](crate::ppp::lcp::EchoConfig)). See the
        /// [example](crate::ppp::session::SessionConfig#pppd-options).
        pub fn with_lcp_echo(mut self, interval: core::time::Duration, failures: u32) -> Self {
            self$(.$ppp)*.echo.interval = Some(interval);
            self$(.$ppp)*.echo.max_failures = failures;
            self
        }

        /// Offers and accepts MPPC compression (RFC 2118) alongside the
        /// MPPE policy ([`CcpConfig::mppc`](crate::ppp::ccp::CcpConfig::mppc)).
        /// See the [example](crate::ppp::session::SessionConfig#pppd-options).
        pub fn with_mppc(mut self, mppc: bool) -> Self {
            self$(.$ppp)*.ccp.mppc = mppc;
            self
        }
    };
}
pub(crate) use ppp_option_builders;

impl SessionConfig {
    ppp_option_builders!();
}

fn mppe_mode(config: &CcpConfig) -> MppeMode {
    match config.mppe {
        MppeRequirement::Required => MppeMode::Required,
        MppeRequirement::Optional => MppeMode::Optional,
        // CCP runs for MPPC alone; its failure leaves plaintext.
        MppeRequirement::Refused if config.mppc => MppeMode::Optional,
        MppeRequirement::Refused => MppeMode::Refused,
    }
}

fn new_lcp(config: &SessionConfig, rng: &mut Rng) -> Lcp {
    let mut lcp = config.lcp.clone();
    if config.role == Role::Peer && config.ccp.mppe == MppeRequirement::Required {
        // RFC 3079 §3: only MS-CHAP yields MPPE keys. Accepting another
        // method would end in NoMppeKeys: Nak toward MS-CHAP instead,
        // unless nothing else was allowed (then the link fails as asked).
        // A peer's `Eap` is EAP-MSCHAPv2 or EAP-MD5: only the first has keys.
        for m in lcp.auth.iter_mut().filter(|m| **m == AuthMethod::Eap) {
            *m = AuthMethod::EapMsChapV2;
        }
        let keyed = |m: &AuthMethod| m.gives_mppe_keys();
        if lcp.auth.iter().any(keyed) {
            lcp.auth.retain(keyed);
        }
    }
    Lcp::new(lcp, config.role == Role::Authenticator, rng.next_u64())
}

fn new_ipcp(config: &SessionConfig) -> Ipcp {
    Ipcp::new(config.ipcp, config.role == Role::Authenticator)
}

fn new_ccp(config: &SessionConfig) -> Ccp {
    Ccp::new(config.ccp)
}

fn set_ipcp_assignment(ipcp: &mut Ipcp, assignment: IpAssignment) {
    ipcp.set_assignment(assignment);
}

fn lcp_link_options(lcp: &Lcp) -> (bool, bool, u16) {
    (lcp.send_pfc(), lcp.send_acfc(), lcp.peer_mru())
}

fn lcp_looped_back(lcp: &Lcp) -> bool {
    lcp.looped_back()
}

fn negotiated_auth(lcp: &Lcp, _role: Role) -> Option<AuthMethod> {
    lcp.auth_method()
}

fn agreed_mppe_bits(ccp: &Ccp) -> Option<MppeBits> {
    ccp.agreed()
}

type Addresses = (
    Ipv4Addr,
    Ipv4Addr,
    [Option<Ipv4Addr>; 2],
    [Option<Ipv4Addr>; 2],
);

fn ipcp_addresses(ipcp: &Ipcp) -> Addresses {
    (ipcp.local(), ipcp.peer(), ipcp.dns(), ipcp.nbns())
}

/// A session's [`AuthConfig`], with the peer's passwords boxed so that an
/// authenticator's session (one per tunnel on a server) stays small.
#[derive(Debug)]
enum AuthSettings {
    Peer(alloc::boxed::Box<PeerConfig>),
    Authenticator(AuthenticatorConfig),
}

impl AuthMachine {
    fn new(
        config: &AuthSettings,
        method: AuthMethod,
        allowed: &[AuthMethod],
        rng: &mut Rng,
    ) -> Self {
        let mut random = [0u8; 16];
        rng.fill(&mut random);
        match config {
            AuthSettings::Peer(p) => {
                let mut peer = Peer::new(method, &p.username, p.password.clone(), random, p.timers)
                    .with_eap_methods(allowed);
                if let Some(new) = &p.new_password {
                    peer = peer.with_new_password(new.clone());
                }
                AuthMachine::Peer(alloc::boxed::Box::new(peer))
            }
            AuthSettings::Authenticator(a) => {
                let identifier = (rng.next_u64() & 0xff) as u8;
                AuthMachine::Authenticator(alloc::boxed::Box::new(
                    Authenticator::new(method, &a.name, random, identifier, a.timers)
                        .with_eap_methods(allowed),
                ))
            }
        }
    }
}

/// The Protocol field in front of a decrypted or decompressed packet
/// (RFC 3078 §3): two octets as Windows and Linux send it, or one under PFC.
fn split_protocol(payload: &[u8]) -> Option<(Protocol, &[u8])> {
    match payload {
        [0x00, p, rest @ ..] => Some((Protocol(u16::from(*p)), rest)),
        [p, rest @ ..] if p & 1 == 1 => Some((Protocol(u16::from(*p)), rest)),
        _ => None,
    }
}
