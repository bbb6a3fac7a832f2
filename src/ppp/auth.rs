//! The authentication phase (RFC 1661 §3.5) in both roles: PAP (RFC 1334),
//! CHAP-MD5 (RFC 1994), MS-CHAPv1 (RFC 2433), MS-CHAPv2 (RFC 2759) and EAP
//! (RFC 3748) with MD5-Challenge or EAP-MSCHAPv2, or relayed to an external
//! verifier (pass-through, RFC 3579).
//!
//! An [`Authenticator`] never blocks on a secret: it reports
//! [`AuthEvent::Request`] and waits for
//! [`Authenticator::provide_credentials`] (the password or NT hash, checked
//! here in constant time) or [`Authenticator::provide_verdict`] (an external
//! verifier's answer, RADIUS style). A [`Peer`] answers challenges and, for
//! MS-CHAPv2, checks the authenticator's `S=` response and fails closed.
//!
//! A [`PppSession`](crate::ppp::session::PppSession) runs these machines
//! itself; they are public for embedders that run PPP authentication
//! elsewhere. Both roles are driven through [`AuthMachine`].
//!
//! # Example
//!
//! An MS-CHAPv2 exchange in memory; both ends derive matching MPPE keys.
//!
//! ```
//! use pptp_proto::crypto::Password;
//! use pptp_proto::ppp::auth::*;
//! use pptp_proto::ppp::lcp::AuthMethod;
//! use pptp_proto::time::Instant;
//!
//! let (method, timers, now) = (AuthMethod::MsChapV2, AuthTimers::default(), Instant::ZERO);
//! // The challenges are random octets from the embedder.
//! let peer = Peer::new(method, "alice", Password::new("secret")?, [7; 16], timers);
//! let authenticator = Authenticator::new(method, "vpn", [9; 16], 1, timers);
//! let mut client = AuthMachine::Peer(Box::new(peer));
//! let mut server = AuthMachine::Authenticator(Box::new(authenticator));
//! client.start(now); // waits for the Challenge
//! server.start(now); // sends it
//! let (mut client_keys, mut server_keys) = (None, None);
//! # let mut rounds = 0;
//! while client_keys.is_none() || server_keys.is_none() {
//! #   rounds += 1;
//! #   assert!(rounds < 10);
//!     while let Some((protocol, packet)) = server.poll_transmit() {
//!         client.handle_packet(now, protocol, &packet);
//!     }
//!     while let Some((protocol, packet)) = client.poll_transmit() {
//!         server.handle_packet(now, protocol, &packet);
//!     }
//!     while let Some(event) = server.poll_event() {
//!         match event {
//!             AuthEvent::Request { username, .. } => {
//!                 assert_eq!(username, "alice"); // look the user up
//!                 let secret = Credentials::Password(Password::new("secret")?);
//!                 server.provide_credentials(now, secret);
//!             }
//!             AuthEvent::Success { mppe_keys, .. } => server_keys = mppe_keys,
//!             other => panic!("{other:?}"),
//!         }
//!     }
//!     if let Some(AuthEvent::Success { peer_name, mppe_keys, .. }) = client.poll_event() {
//!         assert_eq!(peer_name, "vpn");
//!         client_keys = mppe_keys;
//!     }
//! }
//! // What one end sends with, the other receives with.
//! assert_eq!(client_keys.unwrap().send, server_keys.unwrap().recv);
//! # Ok::<(), pptp_proto::crypto::Error>(())
//! ```

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use super::lcp::AuthMethod;
use crate::crypto::key_derivation::{mppe_keys_mschapv1, mppe_keys_mschapv2, Role};
use crate::crypto::mschap::{
    generate_authenticator_response, generate_nt_response, nt_password_hash, AuthenticatorResponse,
};
use crate::crypto::{chap_md5, mschapv1, mschapv2, MppeKeys, NtHash, Password};
use crate::rand::Rng;
use crate::time::Instant;
use crate::timer::{timer_reasons, TimerTable};
use crate::wire::auth::{
    ChapPacket, FailureChallenge, MsChapError, MsChapFailure, MsChapV1Response,
    MsChapV2ChangePassword, MsChapV2Response, MsChapV2Success, PapPacket,
};
use crate::wire::ppp::Protocol;

mod eap;
pub use eap::MAX_EAP_ROUNDS;

timer_reasons! {
    /// Why an authentication machine's timer runs.
    enum AuthTimer {
        /// Send the packet again (RFC 1994 §4.1: Challenge, PAP Request).
        Retransmit,
        /// Give up waiting for the other side.
        Wait,
    }
}

/// The longest peer name an authenticator takes (pppd's `MAXNAMELEN` less
/// its NUL).
const MAX_PEER_NAME: usize = 255;
/// Why authentication failed. See the
/// [`Authenticator` example](Authenticator#example).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthFailure {
    /// Wrong name or password (MS-CHAP `E=691`, a PAP Nak, a CHAP Failure).
    BadPassword,
    /// The password expired (`E=648`) and no new one was configured.
    PasswordExpired,
    /// The account is disabled (`E=647`).
    AccountDisabled,
    /// Logon is not allowed at this time (`E=646`).
    RestrictedLogonHours,
    /// The account may not dial in (`E=649`).
    NoDialinPermission,
    /// Another MS-CHAP error code.
    Other(u32),
    /// MS-CHAPv2: the authenticator's `S=` response is wrong or missing:
    /// it does not know our password.
    AuthenticatorMismatch,
    /// No answer in time (retransmissions exhausted).
    Timeout,
    /// The embedder rejected the peer.
    Rejected,
    /// The credentials given cannot check this method (an NT hash for PAP,
    /// credentials for EAP pass-through).
    UnusableCredentials,
    /// EAP: the peer refused every EAP type we offer (a legacy Nak).
    MethodRefused,
    /// EAP: the authenticator reported Success before authenticating us
    /// (no method ran, or EAP-MSCHAPv2 without a checked `S=`).
    PrematureSuccess,
    /// EAP: more than [`MAX_EAP_ROUNDS`] Requests (a verifier relayed
    /// through pass-through, or an authenticator that never concludes).
    TooManyRounds,
}

impl core::fmt::Display for AuthFailure {
    /// Words for an operator's log, with the MS-CHAP error code where there
    /// is one.
    ///
    /// ```
    /// use pptp_proto::ppp::auth::AuthFailure;
    ///
    /// assert_eq!(AuthFailure::BadPassword.to_string(), "wrong name or password (E=691)");
    /// assert_eq!(AuthFailure::Other(709).to_string(), "MS-CHAP error E=709");
    /// ```
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AuthFailure::BadPassword => f.write_str("wrong name or password (E=691)"),
            AuthFailure::PasswordExpired => f.write_str("password expired (E=648)"),
            AuthFailure::AccountDisabled => f.write_str("account disabled (E=647)"),
            AuthFailure::RestrictedLogonHours => {
                f.write_str("logon not allowed at this time (E=646)")
            }
            AuthFailure::NoDialinPermission => f.write_str("no dial-in permission (E=649)"),
            AuthFailure::Other(code) => write!(f, "MS-CHAP error E={code}"),
            AuthFailure::AuthenticatorMismatch => f.write_str(
                "MS-CHAPv2 mutual authentication failed: the authenticator's S= is wrong",
            ),
            AuthFailure::Timeout => f.write_str("no answer in time"),
            AuthFailure::Rejected => f.write_str("rejected by the verifier"),
            AuthFailure::UnusableCredentials => {
                f.write_str("the credentials given cannot check this method")
            }
            AuthFailure::MethodRefused => f.write_str("the peer refused our EAP method"),
            AuthFailure::PrematureSuccess => {
                f.write_str("EAP success before the authenticator authenticated us")
            }
            AuthFailure::TooManyRounds => f.write_str("too many EAP rounds"),
        }
    }
}

/// What the embedder answers to [`AuthEvent::Request`].
/// See the [module example](crate::ppp::auth#example).
#[derive(Debug, Clone)]
// A transient answer moved once; boxing would only burden the embedder.
#[allow(clippy::large_enum_variant)]
pub enum Credentials {
    /// The user's password.
    Password(Password),
    /// The user's NT hash (MS-CHAP only).
    NtHash(NtHash),
    /// The user's password, which has expired: an MS-CHAPv2 peer that
    /// proves it is told `E=648` and may change it (RFC 2759 §7, §8.9).
    Expired(Password),
    /// No such user, or not allowed.
    Reject,
}

/// What the peer sent to authenticate, as an external verifier needs it
/// ([`AuthEvent::Request`]). Each field maps to one RADIUS attribute: PAP's
/// password to User-Password (RFC 2865 §5.2), CHAP-MD5's identifier and
/// response to CHAP-Password and its challenge to CHAP-Challenge (§5.3,
/// §5.40), MS-CHAP's to MS-CHAP-Challenge with MS-CHAP-Response or
/// MS-CHAP2-Response (RFC 2548 §2.1.3, §2.3.2, §2.3.3).
///
/// A response of the wrong length never reaches the embedder: it fails as a
/// wrong password at once. The PAP password is a [`Password`] (zeroized,
/// redacted in `Debug`); a PAP password that is not UTF-8 fails likewise.
///
/// ```
/// use pptp_proto::ppp::auth::AuthExchange;
///
/// // What a RADIUS client turns into MS-CHAP-Challenge + MS-CHAP2-Response.
/// let exchange = AuthExchange::MsChapV2 {
///     identifier: 1,
///     authenticator_challenge: [9; 16],
///     peer_challenge: [7; 16],
///     nt_response: [3; 24],
///     flags: 0,
/// };
/// let AuthExchange::MsChapV2 { identifier, flags, peer_challenge, nt_response, .. } = &exchange else {
///     unreachable!()
/// };
/// let mut ms_chap2_response = vec![*identifier, *flags];
/// ms_chap2_response.extend_from_slice(peer_challenge);
/// ms_chap2_response.extend_from_slice(&[0; 8]); // reserved
/// ms_chap2_response.extend_from_slice(nt_response);
/// assert_eq!(ms_chap2_response.len(), 50);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthExchange {
    /// PAP (RFC 1334): the password in clear.
    Pap {
        /// The password the peer gave (boxed: it is large).
        password: alloc::boxed::Box<Password>,
    },
    /// CHAP with MD5 (RFC 1994).
    ChapMd5 {
        /// The Response's Identifier (the first octet of CHAP-Password).
        identifier: u8,
        /// The challenge we sent.
        challenge: [u8; 16],
        /// The peer's MD5 response.
        response: [u8; 16],
    },
    /// MS-CHAPv1 (RFC 2433).
    MsChapV1 {
        /// The Response's Identifier.
        identifier: u8,
        /// The challenge we sent.
        challenge: [u8; 8],
        /// The LAN Manager response (zero when the peer does not send one).
        lm_response: [u8; 24],
        /// The NT response.
        nt_response: [u8; 24],
        /// The Use-NT flag (1: `nt_response` is to be used).
        flags: u8,
    },
    /// MS-CHAPv2 (RFC 2759).
    MsChapV2 {
        /// The Response's Identifier.
        identifier: u8,
        /// The challenge we sent.
        authenticator_challenge: [u8; 16],
        /// The peer's challenge.
        peer_challenge: [u8; 16],
        /// The NT-Response.
        nt_response: [u8; 24],
        /// The Response's flags octet.
        flags: u8,
    },
    /// EAP pass-through ([`AuthMethod::Eap`]): the peer's EAP Response,
    /// whole (Code to the end of Length), for RADIUS's EAP-Message
    /// (RFC 3579 §3.1); the user name is the peer's EAP Identity. Answer
    /// with [`Verdict::Challenge`] (the next Request), [`Verdict::Accept`]
    /// or [`Verdict::Reject`].
    Eap {
        /// The EAP Response packet.
        packet: Vec<u8>,
    },
}

/// An external verifier's acceptance ([`Verdict::Accept`]), with what a
/// RADIUS Access-Accept carries.
///
/// The PPP authenticator uses the keys and `S=`; a
/// [`Server`](crate::server::Server) also uses the rest: the address wins
/// over the pool, the timeouts end the session with their own reasons, the
/// interim interval and the class go into its accounting records.
///
/// ```
/// use pptp_proto::crypto::MppeKeys;
/// use pptp_proto::ppp::auth::{Acceptance, Verdict};
/// use pptp_proto::time::Duration;
///
/// // From MS-MPPE-Send-Key/Recv-Key, MS-CHAP2-Success, Framed-IP-Address,
/// // Session-Timeout and Class.
/// let verdict = Verdict::Accept(Acceptance {
///     mppe_keys: Some(MppeKeys { send: [1; 16], recv: [2; 16] }),
///     authenticator_response: Some([0xab; 20]),
///     address: Some([10, 77, 0, 9].into()),
///     session_timeout: Some(Duration::from_secs(3600)),
///     class: b"gold".to_vec(),
///     ..Acceptance::default()
/// });
/// assert!(matches!(verdict, Verdict::Accept(a) if a.idle_timeout.is_none()));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acceptance {
    /// MPPE start keys for this (the authenticator's) side: RADIUS's
    /// MS-MPPE-Send-Key is our `send`, MS-MPPE-Recv-Key our `recv`.
    pub mppe_keys: Option<MppeKeys>,
    /// The MS-CHAPv2 authenticator response (`S=`, from MS-CHAP2-Success):
    /// without it an MS-CHAPv2 peer fails with
    /// [`AuthFailure::AuthenticatorMismatch`].
    pub authenticator_response: Option<[u8; 20]>,
    /// The peer's address (Framed-IP-Address): wins over the pool.
    pub address: Option<core::net::Ipv4Addr>,
    /// The longest the session may last (Session-Timeout).
    pub session_timeout: Option<Duration>,
    /// The longest it may carry no IP either way (Idle-Timeout); wins over
    /// [`ServerConfig::idle_timeout`](crate::server::ServerConfig::idle_timeout).
    pub idle_timeout: Option<Duration>,
    /// How often to report interim accounting (Acct-Interim-Interval);
    /// wins over
    /// [`ServerConfig::accounting_interval`](crate::server::ServerConfig::accounting_interval).
    pub interim_interval: Option<Duration>,
    /// Opaque octets to echo into every accounting record (Class); empty:
    /// none.
    pub class: Vec<u8>,
}

/// An external verifier's refusal ([`Verdict::Reject`]): what the peer is
/// told. MS-CHAP peers see `E=<error> R=<retry> … M=<message>`, the
/// others a PAP Nak or CHAP Failure with the message.
///
/// ```
/// use pptp_proto::ppp::auth::Rejection;
///
/// let default = Rejection::default();
/// assert_eq!((default.error, default.retry, default.message), (691, false, None));
/// let disabled = Rejection { error: 647, ..Rejection::default() }; // account disabled
/// assert_eq!(disabled.error, 647);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The MS-CHAP error code (RFC 2759 §6: 691 authentication failure,
    /// 646 restricted hours, 647 account disabled, 648 password expired,
    /// 649 no dial-in permission).
    pub error: u32,
    /// MS-CHAP `R=1`: the peer may try again, with the fresh challenge the
    /// Failure carries. The authenticator then takes one more Response
    /// (up to [`MAX_RETRIES`] in all).
    pub retry: bool,
    /// Text for the peer (MS-CHAP `M=`, the PAP Nak's or CHAP Failure's
    /// message); `None`: "Authentication failure".
    pub message: Option<String>,
}

impl Default for Rejection {
    fn default() -> Self {
        Rejection {
            error: 691,
            retry: false,
            message: None,
        }
    }
}

/// The most Responses an authenticator takes after an MS-CHAP Failure with
/// `R=1` (Windows RRAS allows a few; pppd's peer never retries).
pub const MAX_RETRIES: u8 = 2;

/// An external verifier's answer (for example RADIUS with MS-CHAP
/// attributes, or EAP-Message). See the example of
/// [`Authenticator::provide_verdict`].
///
/// The three RADIUS answers map one to one: Access-Accept to `Accept`,
/// Access-Reject to `Reject`, Access-Challenge to `Challenge`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted, with what the verifier returned. Under EAP the peer is
    /// sent EAP-Success.
    Accept(Acceptance),
    /// Refused, with what the peer is told. Under EAP the peer is sent
    /// EAP-Failure.
    Reject(Rejection),
    /// EAP pass-through only: the next EAP Request for the peer (an
    /// Access-Challenge's EAP-Message), sent as it is; the peer's Response
    /// comes back as another [`AuthEvent::Request`]. Anything but an EAP
    /// Request, or a `Challenge` for another method, refuses the peer.
    Challenge(Vec<u8>),
}

/// What an authentication machine reports. See the [module example](crate::ppp::auth#example).
#[derive(Debug, Clone)]
#[non_exhaustive]
// Transient values, moved once into the session's own events.
#[allow(clippy::large_enum_variant)]
pub enum AuthEvent {
    /// Authenticator: a peer wants to authenticate as `username`.
    Request {
        /// The name it gave.
        username: String,
        /// The method.
        method: AuthMethod,
        /// What it sent, for an external verifier.
        exchange: AuthExchange,
    },
    /// Authentication succeeded.
    Success {
        /// The other side's name (the peer's user name, or the authenticator's name).
        peer_name: String,
        /// The method.
        method: AuthMethod,
        /// MPPE start keys for this side (MS-CHAP only).
        mppe_keys: Option<MppeKeys>,
    },
    /// Authentication failed.
    Failure {
        /// Why.
        reason: AuthFailure,
    },
    /// Authenticator: the peer changed its expired password (MS-CHAPv2);
    /// the embedder stores the new one. `Success` follows.
    PasswordChanged {
        /// The user.
        username: String,
        /// The new password (boxed: it is large, the event is rare, and
        /// every authenticator keeps room for a few events).
        new_password: alloc::boxed::Box<Password>,
    },
}

/// Timers and retries (RFC 1994 §4.1; pppd: 3 s, 10 times).
///
/// # Example
///
/// An authenticator whose Challenge is never answered sends it
/// `max_transmissions` times, then fails.
///
/// ```
/// use pptp_proto::ppp::auth::*;
/// use pptp_proto::ppp::lcp::AuthMethod;
/// use pptp_proto::time::{Duration, Instant};
///
/// let timers = AuthTimers { restart: Duration::from_secs(1), max_transmissions: 2 };
/// let authenticator = Authenticator::new(AuthMethod::ChapMd5, "vpn", [9; 16], 1, timers);
/// let mut server = AuthMachine::Authenticator(Box::new(authenticator));
/// server.start(Instant::ZERO);
/// let challenge = server.poll_transmit().unwrap();
/// assert_eq!(server.poll_timeout(), Some(Instant::from_secs(1)));
/// server.handle_timeout(Instant::from_secs(1));
/// assert_eq!(server.poll_transmit(), Some(challenge)); // the same Challenge again
/// server.handle_timeout(Instant::from_secs(2));
/// assert!(matches!(server.poll_event(), Some(AuthEvent::Failure { reason: AuthFailure::Timeout })));
/// assert_eq!(server.poll_timeout(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthTimers {
    /// Retransmission interval (default 3 s).
    pub restart: Duration,
    /// Transmissions before giving up (default 10).
    pub max_transmissions: u32,
}

impl Default for AuthTimers {
    fn default() -> Self {
        AuthTimers {
            restart: Duration::from_secs(3),
            max_transmissions: 10,
        }
    }
}

/// Most packets queued between two drains.
const MAX_QUEUED: usize = 4;

/// Output and timer state shared by both roles.
#[derive(Debug)]
struct Io {
    transmit: VecDeque<(Protocol, Vec<u8>)>,
    events: VecDeque<AuthEvent>,
    /// The packet retransmitted by the timer, and how often it went out.
    retransmit: Option<(Protocol, Vec<u8>)>,
    sent: u32,
    deadlines: TimerTable<AuthTimer, { AuthTimer::COUNT }>,
    timers: AuthTimers,
    done: bool,
}

impl Io {
    fn new(timers: AuthTimers) -> Self {
        Io {
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            retransmit: None,
            sent: 0,
            deadlines: TimerTable::default(),
            timers,
            done: false,
        }
    }

    fn send(&mut self, protocol: Protocol, packet: Vec<u8>) {
        if self.transmit.len() < MAX_QUEUED {
            self.transmit.push_back((protocol, packet));
        }
    }

    /// Sends `packet` now and again every restart interval until stopped.
    fn send_reliably(&mut self, now: Instant, protocol: Protocol, packet: Vec<u8>) {
        self.send(protocol, packet.clone());
        self.retransmit = Some((protocol, packet));
        self.sent = 1;
        self.deadlines
            .set(AuthTimer::Retransmit, now + self.timers.restart);
    }

    /// Waits for the other side as long as its retransmissions could take
    /// (`restart × max_transmissions`), then fails with a timeout.
    fn wait(&mut self, now: Instant) {
        let wait = self.timers.restart * self.timers.max_transmissions;
        self.deadlines.set(AuthTimer::Wait, now + wait);
    }

    fn stop_timer(&mut self) {
        self.retransmit = None;
        self.deadlines.stop_all();
    }

    fn finish(&mut self, event: AuthEvent) {
        if !self.done {
            self.done = true;
            self.stop_timer();
            self.events.push_back(event);
        }
    }

    fn fail(&mut self, reason: AuthFailure) {
        self.finish(AuthEvent::Failure { reason });
    }

    /// Returns false when retransmissions are exhausted.
    fn handle_timeout(&mut self, now: Instant) -> bool {
        if self.deadlines.fire(AuthTimer::Wait, now) {
            // Waited for the other side (a peer awaiting its challenge).
            self.fail(AuthFailure::Timeout);
            return false;
        }
        if !self.deadlines.fire(AuthTimer::Retransmit, now) {
            return true;
        }
        if self.sent >= self.timers.max_transmissions {
            self.fail(AuthFailure::Timeout);
            return false;
        }
        if let Some((protocol, packet)) = self.retransmit.clone() {
            self.send(protocol, packet);
            self.sent += 1;
            self.deadlines
                .set(AuthTimer::Retransmit, now + self.timers.restart);
        } else {
            self.fail(AuthFailure::Timeout);
            return false;
        }
        true
    }
}

fn emit_chap(packet: &ChapPacket<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    packet.emit(&mut out);
    out
}

fn emit_pap(packet: &PapPacket<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    packet.emit(&mut out);
    out
}

fn failure_reason(message: &[u8]) -> AuthFailure {
    match MsChapFailure::parse(message) {
        Ok(f) => match f.error {
            MsChapError::AUTHENTICATION_FAILURE => AuthFailure::BadPassword,
            MsChapError::PASSWORD_EXPIRED => AuthFailure::PasswordExpired,
            MsChapError::ACCOUNT_DISABLED => AuthFailure::AccountDisabled,
            MsChapError::RESTRICTED_LOGON_HOURS => AuthFailure::RestrictedLogonHours,
            MsChapError::NO_DIALIN_PERMISSION => AuthFailure::NoDialinPermission,
            other => AuthFailure::Other(other.0),
        },
        // CHAP-MD5 and PAP failures carry free text.
        Err(_) => AuthFailure::BadPassword,
    }
}

/// The peer (client) side. See the [module example](crate::ppp::auth#example).
#[derive(Debug)]
pub struct Peer {
    method: AuthMethod,
    username: String,
    password: Password,
    peer_challenge: [u8; 16],
    io: Io,
    /// MS-CHAPv2: the `S=` we expect, and the keys once it checks.
    expected: Option<AuthenticatorResponse>,
    keys: Option<MppeKeys>,
    /// The identifier of the Challenge we answered.
    identifier: Option<u8>,
    authenticator_name: String,
    /// The password to change to when the authenticator says `E=648`.
    new_password: Option<Password>,
    changing: bool,
    /// EAP: the types we answer, and where the exchange stands.
    eap: eap::PeerEap,
}

impl Peer {
    /// A peer that authenticates as `username` with `password`.
    /// `peer_challenge` is 16 random octets for MS-CHAPv2 (the crate draws
    /// no randomness of its own). See the [module example](crate::ppp::auth#example).
    pub fn new(
        method: AuthMethod,
        username: &str,
        password: Password,
        peer_challenge: [u8; 16],
        timers: AuthTimers,
    ) -> Self {
        Peer {
            method,
            username: String::from(username),
            password,
            peer_challenge,
            io: Io::new(timers),
            expected: None,
            keys: None,
            identifier: None,
            authenticator_name: String::new(),
            new_password: None,
            changing: false,
            eap: eap::PeerEap::new(&[method]),
        }
    }

    /// EAP: answers every EAP type `methods` lists (EAP-MSCHAPv2, EAP-MD5;
    /// [`AuthMethod::Eap`] means both), and Naks the others, naming these
    /// (RFC 3748 §5.3.1). [`Peer::new`] allows only its own method's type.
    /// A session passes its LCP `auth` list.
    ///
    /// ```
    /// use pptp_proto::crypto::Password;
    /// use pptp_proto::ppp::auth::*;
    /// use pptp_proto::ppp::lcp::AuthMethod;
    /// use pptp_proto::time::Instant;
    ///
    /// let (timers, now) = (AuthTimers::default(), Instant::ZERO);
    /// let peer = Peer::new(AuthMethod::EapMsChapV2, "alice", Password::new("secret")?, [7; 16], timers)
    ///     .with_eap_methods(&[AuthMethod::EapMsChapV2, AuthMethod::EapMd5]);
    /// let mut client = AuthMachine::Peer(Box::new(peer));
    /// // The authenticator runs EAP-MD5 (pppd's require-eap): allowed, so it runs.
    /// let authenticator = Authenticator::new(AuthMethod::EapMd5, "vpn", [9; 16], 1, timers);
    /// let mut server = AuthMachine::Authenticator(Box::new(authenticator));
    /// client.start(now);
    /// server.start(now);
    /// for _ in 0..3 {
    ///     while let Some((p, d)) = server.poll_transmit() { client.handle_packet(now, p, &d); }
    ///     while let Some((p, d)) = client.poll_transmit() { server.handle_packet(now, p, &d); }
    ///     if let Some(AuthEvent::Request { username, .. }) = server.poll_event() {
    ///         assert_eq!(username, "alice");
    ///         server.provide_credentials(now, Credentials::Password(Password::new("secret")?));
    ///     }
    /// }
    /// let method = AuthMethod::EapMd5;
    /// assert!(matches!(client.poll_event(), Some(AuthEvent::Success { method: m, .. }) if m == method));
    /// # Ok::<(), pptp_proto::crypto::Error>(())
    /// ```
    pub fn with_eap_methods(mut self, methods: &[AuthMethod]) -> Self {
        self.eap = eap::PeerEap::new(methods);
        self
    }

    /// Changes the password to `new_password` if the authenticator reports
    /// it expired (MS-CHAPv2 `E=648`).
    ///
    /// ```
    /// use pptp_proto::crypto::Password;
    /// use pptp_proto::ppp::auth::*;
    /// use pptp_proto::ppp::lcp::AuthMethod;
    /// use pptp_proto::time::Instant;
    /// # // Moves every packet to the other side until none is left.
    /// # fn exchange(a: &mut AuthMachine, b: &mut AuthMachine) {
    /// #     loop {
    /// #         let mut moved = false;
    /// #         while let Some((p, d)) = a.poll_transmit() { b.handle_packet(Instant::ZERO, p, &d); moved = true; }
    /// #         while let Some((p, d)) = b.poll_transmit() { a.handle_packet(Instant::ZERO, p, &d); moved = true; }
    /// #         if !moved { return; }
    /// #     }
    /// # }
    /// let (method, timers, now) = (AuthMethod::MsChapV2, AuthTimers::default(), Instant::ZERO);
    /// let peer = Peer::new(method, "alice", Password::new("old")?, [7; 16], timers)
    ///     .with_new_password(Password::new("new")?);
    /// let mut client = AuthMachine::Peer(Box::new(peer));
    /// let authenticator = Authenticator::new(method, "vpn", [9; 16], 1, timers);
    /// let mut server = AuthMachine::Authenticator(Box::new(authenticator));
    /// client.start(now);
    /// server.start(now);
    /// exchange(&mut client, &mut server); // Challenge, Response
    /// assert!(matches!(server.poll_event(), Some(AuthEvent::Request { .. })));
    /// // The right password, but expired: the server answers E=648.
    /// server.provide_credentials(now, Credentials::Expired(Password::new("old")?));
    /// exchange(&mut client, &mut server); // Failure, Change-Password, Success
    /// match server.poll_event() {
    ///     Some(AuthEvent::PasswordChanged { username, new_password }) => {
    ///         assert_eq!((username.as_str(), new_password.as_str()), ("alice", "new"));
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// assert!(matches!(server.poll_event(), Some(AuthEvent::Success { .. })));
    /// assert!(matches!(client.poll_event(), Some(AuthEvent::Success { .. })));
    /// # Ok::<(), pptp_proto::crypto::Error>(())
    /// ```
    pub fn with_new_password(mut self, new_password: Password) -> Self {
        self.new_password = Some(new_password);
        self
    }

    /// Starts: PAP sends its Authenticate-Request; CHAP waits for the
    /// Challenge (at most restart × max transmissions). Called by
    /// [`AuthMachine::start`]; see the [module example](crate::ppp::auth#example).
    pub fn start(&mut self, now: Instant) {
        if self.method == AuthMethod::Pap {
            let request = PapPacket::AuthenticateRequest {
                identifier: 1,
                peer_id: self.username.as_bytes(),
                password: self.password.as_bytes(),
            };
            self.io
                .send_reliably(now, Protocol::PAP, emit_pap(&request));
        } else {
            self.io.wait(now);
        }
    }

    /// Takes a received PAP, CHAP or EAP packet (the information field).
    /// Called by [`AuthMachine::handle_packet`]; see the
    /// [module example](crate::ppp::auth#example).
    pub fn handle_packet(&mut self, now: Instant, protocol: Protocol, data: &[u8]) {
        if self.io.done {
            if protocol == Protocol::EAP && self.method.is_eap() {
                // RFC 3748 §4.1: a repeated Request gets the same Response.
                self.repeat_eap_answer(data);
            }
            return;
        }
        match (protocol, self.method) {
            (Protocol::EAP, m) if m.is_eap() => self.on_eap(now, data),
            (Protocol::PAP, AuthMethod::Pap) => match PapPacket::parse(data) {
                Ok(PapPacket::AuthenticateAck { .. }) => self.io.finish(AuthEvent::Success {
                    peer_name: String::new(),
                    method: AuthMethod::Pap,
                    mppe_keys: None,
                }),
                Ok(PapPacket::AuthenticateNak { .. }) => self.io.fail(AuthFailure::BadPassword),
                _ => {}
            },
            (Protocol::CHAP, m) if m.is_chap() => match ChapPacket::parse(data) {
                Ok(ChapPacket::Challenge {
                    identifier,
                    value,
                    name,
                }) => self.on_challenge(now, identifier, value, name),
                Ok(ChapPacket::Success {
                    identifier,
                    message,
                }) if Some(identifier) == self.identifier => self.on_success(message),
                Ok(ChapPacket::Failure {
                    identifier,
                    message,
                }) if Some(identifier) == self.identifier => self.on_failure(identifier, message),
                _ => {}
            },
            _ => {}
        }
    }

    fn on_challenge(&mut self, now: Instant, identifier: u8, value: &[u8], name: &[u8]) {
        self.authenticator_name = String::from_utf8_lossy(name).into_owned();
        let mut response = Vec::new();
        match self.method {
            AuthMethod::ChapMd5 => {
                response.extend_from_slice(&chap_md5::response(identifier, &self.password, value));
            }
            AuthMethod::MsChapV1 => {
                let Ok(challenge) = <[u8; 8]>::try_from(value) else {
                    return;
                };
                response.extend_from_slice(&mschapv1::peer_response(&challenge, &self.password));
                let hash = nt_password_hash(&self.password);
                self.keys = Some(mppe_keys_mschapv1(&hash, &challenge));
            }
            AuthMethod::MsChapV2 => {
                let Ok(challenge) = <[u8; 16]>::try_from(value) else {
                    return;
                };
                response = self.mschapv2_response(&challenge);
            }
            _ => return,
        }
        self.identifier = Some(identifier);
        let packet = ChapPacket::Response {
            identifier,
            value: &response,
            name: self.username.as_bytes(),
        };
        // The authenticator retransmits its Challenge; we answer each one.
        self.io.stop_timer();
        self.io.send(Protocol::CHAP, emit_chap(&packet));
        self.io.wait(now);
    }

    /// Our MS-CHAPv2 Response value (RFC 2759 §4) to `challenge`; keeps
    /// the `S=` to expect and our MPPE keys.
    fn mschapv2_response(&mut self, challenge: &[u8; 16]) -> Vec<u8> {
        let (nt_response, expected) = mschapv2::peer_response(
            challenge,
            &self.peer_challenge,
            self.username.as_bytes(),
            &self.password,
        );
        let mut value = Vec::new();
        MsChapV2Response {
            peer_challenge: self.peer_challenge,
            reserved: [0; 8],
            nt_response,
            flags: 0,
        }
        .emit(&mut value);
        let hash = nt_password_hash(&self.password);
        self.keys = Some(mppe_keys_mschapv2(&hash, &nt_response, Role::Peer));
        self.expected = Some(expected);
        value
    }

    /// RFC 2759 §8.8: whether a Success message's `S=` is the one our
    /// Response called for (the authenticator knows the password).
    fn authenticator_proved(&self, message: &[u8]) -> bool {
        match (MsChapV2Success::parse(message), &self.expected) {
            (Ok(s), Some(expected)) => AuthenticatorResponse(s.authenticator_response) == *expected,
            _ => false,
        }
    }

    fn on_failure(&mut self, identifier: u8, message: &[u8]) {
        if !self.change_password(identifier, message) {
            self.io.fail(failure_reason(message));
        }
    }

    /// RFC 2759 §7: answers `E=648` with a Change-Password packet when a
    /// new password is configured. Returns whether it did.
    fn change_password(&mut self, identifier: u8, message: &[u8]) -> bool {
        let Ok(failure) = MsChapFailure::parse(message) else {
            return false;
        };
        let (Some(new), Some(FailureChallenge::V2(challenge))) =
            (&self.new_password, failure.challenge)
        else {
            return false;
        };
        if failure.error != MsChapError::PASSWORD_EXPIRED
            || self.method != AuthMethod::MsChapV2
            || self.changing
        {
            return false;
        }
        // Fresh peer challenge and padding. The injected peer challenge went
        // out in clear in our Response, so the generator is also keyed by the
        // old password's hash: only who can already decrypt the block (it is
        // encrypted with that hash) can predict its padding.
        let old_hash = nt_password_hash(&self.password);
        let mut material = [0u8; 32];
        material[..16].copy_from_slice(old_hash.as_bytes());
        material[16..].copy_from_slice(&self.peer_challenge);
        let mut rng = Rng::from_material(&material);
        zeroize::Zeroize::zeroize(&mut material);
        let mut peer_challenge = [0u8; 16];
        rng.fill(&mut peer_challenge);
        let mut fill = [0u8; 512];
        rng.fill(&mut fill);
        let new_hash = nt_password_hash(new);
        let nt_response = generate_nt_response(
            &challenge,
            &peer_challenge,
            self.username.as_bytes(),
            &new_hash,
        );
        let encrypted_password =
            mschapv2::new_password_encrypted_with_old_nt_password_hash(new, &self.password, &fill);
        let packet = ChapPacket::ChangePassword(MsChapV2ChangePassword {
            identifier: identifier.wrapping_add(1),
            encrypted_password: &encrypted_password,
            encrypted_hash: mschapv2::old_nt_password_hash_encrypted_with_new_nt_password_hash(
                new,
                &self.password,
            ),
            peer_challenge,
            reserved: [0; 8],
            nt_response,
            flags: 0,
        });
        self.expected = Some(generate_authenticator_response(
            &new_hash,
            &nt_response,
            &peer_challenge,
            &challenge,
            self.username.as_bytes(),
        ));
        self.keys = Some(mppe_keys_mschapv2(&new_hash, &nt_response, Role::Peer));
        self.identifier = Some(identifier.wrapping_add(1));
        self.changing = true;
        self.io.send(Protocol::CHAP, emit_chap(&packet));
        true
    }

    fn on_success(&mut self, message: &[u8]) {
        if self.method == AuthMethod::MsChapV2 {
            // RFC 2759 §8.8: the peer checks the authenticator knows the password.
            if !self.authenticator_proved(message) {
                return self.io.fail(AuthFailure::AuthenticatorMismatch);
            }
        }
        let mppe_keys = self.keys.take();
        self.io.finish(AuthEvent::Success {
            peer_name: core::mem::take(&mut self.authenticator_name),
            method: self.method,
            mppe_keys,
        });
    }
}

/// An expired password awaiting its change (MS-CHAPv2 `E=648`): the old
/// password, the user, the new challenge and the Failure's identifier.
type Expired = (Password, String, [u8; 16], u8);

/// The authenticator (server) side.
///
/// # Example
///
/// PAP with the wrong password: both ends fail with
/// [`AuthFailure::BadPassword`].
///
/// ```
/// use pptp_proto::crypto::Password;
/// use pptp_proto::ppp::auth::*;
/// use pptp_proto::ppp::lcp::AuthMethod;
/// use pptp_proto::time::Instant;
/// use pptp_proto::wire::ppp::Protocol;
///
/// let (method, timers, now) = (AuthMethod::Pap, AuthTimers::default(), Instant::ZERO);
/// let authenticator = Authenticator::new(method, "vpn", [0; 16], 1, timers);
/// let mut server = AuthMachine::Authenticator(Box::new(authenticator));
/// let peer = Peer::new(method, "alice", Password::new("guess")?, [0; 16], timers);
/// let mut client = AuthMachine::Peer(Box::new(peer));
/// server.start(now); // PAP: waits for the peer
/// client.start(now); // sends Authenticate-Request
/// let (protocol, request) = client.poll_transmit().unwrap();
/// assert_eq!(protocol, Protocol::PAP);
/// server.handle_packet(now, protocol, &request);
/// let Some(AuthEvent::Request { username, .. }) = server.poll_event() else { panic!() };
/// assert_eq!(username, "alice");
/// server.provide_credentials(now, Credentials::Password(Password::new("secret")?));
/// let bad = |event| matches!(event, Some(AuthEvent::Failure { reason: AuthFailure::BadPassword }));
/// assert!(bad(server.poll_event()));
/// let (protocol, nak) = server.poll_transmit().unwrap();
/// client.handle_packet(now, protocol, &nak);
/// assert!(bad(client.poll_event()));
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
#[derive(Debug)]
pub struct Authenticator {
    method: AuthMethod,
    name: String,
    challenge: [u8; 16],
    identifier: u8,
    io: Io,
    /// The response waiting for the embedder's credentials.
    pending: Option<PendingResponse>,
    /// The answer already sent, re-sent for a repeated Response.
    answer: Option<Vec<u8>>,
    /// Told the peer `E=648`: its old password, the new challenge and the
    /// Failure's identifier, waiting for Change-Password.
    /// Boxed: a password is large and password changes are rare.
    expired: Option<alloc::boxed::Box<Expired>>,
    /// Responses refused with MS-CHAP `R=1` so far ([`MAX_RETRIES`]).
    retries: u8,
    /// EAP: where the exchange stands (boxed: only EAP sessions pay).
    eap: Option<alloc::boxed::Box<eap::AuthenticatorEap>>,
}

/// A check's outcome: the keys and `S=` of an acceptance, or why not and
/// what the peer is told.
type Outcome = Result<(Option<MppeKeys>, Option<[u8; 20]>), (AuthFailure, Rejection)>;

#[derive(Debug, Clone)]
struct PendingResponse {
    identifier: u8,
    username: String,
    value: Vec<u8>,
}

// The value is a PAP password in clear, or a response derived from one.
impl Drop for PendingResponse {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(self.value.as_mut_slice());
    }
}

impl Authenticator {
    /// An authenticator named `name` (sent in CHAP Challenges).
    /// `challenge` is 16 random octets (MS-CHAPv1 uses the first 8).
    /// See the [example](Self#example).
    pub fn new(
        method: AuthMethod,
        name: &str,
        challenge: [u8; 16],
        identifier: u8,
        timers: AuthTimers,
    ) -> Self {
        Authenticator {
            method,
            name: String::from(name),
            challenge,
            identifier,
            io: Io::new(timers),
            pending: None,
            answer: None,
            expired: None,
            retries: 0,
            eap: method
                .is_eap()
                .then(|| alloc::boxed::Box::new(eap::AuthenticatorEap::new(&[method]))),
        }
    }

    /// EAP: the local EAP types a peer's legacy Nak may move us to, from
    /// `methods` (EAP-MSCHAPv2, EAP-MD5); [`Authenticator::new`] allows
    /// only its own. A session passes its LCP `auth` list, so a Nak never
    /// leads to a method the configuration does not list.
    ///
    /// ```
    /// use pptp_proto::crypto::Password;
    /// use pptp_proto::ppp::auth::*;
    /// use pptp_proto::ppp::lcp::AuthMethod;
    /// use pptp_proto::time::Instant;
    ///
    /// let (timers, now) = (AuthTimers::default(), Instant::ZERO);
    /// // We prefer EAP-MSCHAPv2 and accept EAP-MD5; the peer only does MD5.
    /// let authenticator = Authenticator::new(AuthMethod::EapMsChapV2, "vpn", [9; 16], 1, timers)
    ///     .with_eap_methods(&[AuthMethod::EapMsChapV2, AuthMethod::EapMd5]);
    /// let mut server = AuthMachine::Authenticator(Box::new(authenticator));
    /// let peer = Peer::new(AuthMethod::EapMd5, "alice", Password::new("secret")?, [7; 16], timers);
    /// let mut client = AuthMachine::Peer(Box::new(peer));
    /// server.start(now);
    /// client.start(now);
    /// let mut asked = None;
    /// for _ in 0..4 {
    ///     while let Some((p, d)) = server.poll_transmit() { client.handle_packet(now, p, &d); }
    ///     while let Some((p, d)) = client.poll_transmit() { server.handle_packet(now, p, &d); }
    ///     if let Some(AuthEvent::Request { method, .. }) = server.poll_event() {
    ///         asked = Some(method);
    ///         server.provide_credentials(now, Credentials::Password(Password::new("secret")?));
    ///     }
    /// }
    /// assert_eq!(asked, Some(AuthMethod::EapMd5)); // after the peer's Nak
    /// assert!(matches!(client.poll_event(), Some(AuthEvent::Success { .. })));
    /// # Ok::<(), pptp_proto::crypto::Error>(())
    /// ```
    pub fn with_eap_methods(mut self, methods: &[AuthMethod]) -> Self {
        if self.method.is_eap() {
            let mut all = alloc::vec![self.method];
            all.extend_from_slice(methods);
            self.eap = Some(alloc::boxed::Box::new(eap::AuthenticatorEap::new(&all)));
        }
        self
    }

    /// What the pending response says, typed for an external verifier;
    /// `None` when it has the wrong shape for the method.
    fn exchange(&self, pending: &PendingResponse) -> Option<AuthExchange> {
        let identifier = pending.identifier;
        Some(match self.method.base() {
            AuthMethod::Pap => {
                let text = core::str::from_utf8(&pending.value).ok()?;
                AuthExchange::Pap {
                    password: alloc::boxed::Box::new(Password::new(text).ok()?),
                }
            }
            AuthMethod::ChapMd5 => AuthExchange::ChapMd5 {
                identifier,
                challenge: self.challenge,
                response: pending.value.as_slice().try_into().ok()?,
            },
            AuthMethod::MsChapV1 => {
                let r = MsChapV1Response::parse(&pending.value).ok()?;
                let mut challenge = [0; 8];
                challenge.copy_from_slice(self.challenge_value());
                AuthExchange::MsChapV1 {
                    identifier,
                    challenge,
                    lm_response: r.lm_response,
                    nt_response: r.nt_response,
                    flags: r.use_nt,
                }
            }
            AuthMethod::MsChapV2 => {
                let r = MsChapV2Response::parse(&pending.value).ok()?;
                AuthExchange::MsChapV2 {
                    identifier,
                    authenticator_challenge: self.challenge,
                    peer_challenge: r.peer_challenge,
                    nt_response: r.nt_response,
                    flags: r.flags,
                }
            }
            _ => AuthExchange::Eap {
                packet: pending.value.clone(),
            },
        })
    }

    fn challenge_value(&self) -> &[u8] {
        match self.method {
            AuthMethod::MsChapV1 => &self.challenge[..8],
            _ => &self.challenge,
        }
    }

    /// Starts: CHAP sends the Challenge (retransmitted every 3 s); PAP
    /// waits for the peer's Authenticate-Request. Called by
    /// [`AuthMachine::start`]; see the [example](Self#example).
    pub fn start(&mut self, now: Instant) {
        if self.method == AuthMethod::Pap {
            self.io.wait(now);
            return;
        }
        if self.method.is_eap() {
            return self.start_eap(now);
        }
        let packet = ChapPacket::Challenge {
            identifier: self.identifier,
            value: self.challenge_value(),
            name: self.name.as_bytes(),
        };
        let bytes = emit_chap(&packet);
        self.io.send_reliably(now, Protocol::CHAP, bytes);
    }

    /// Takes a received PAP, CHAP or EAP packet (the information field).
    /// Called by [`AuthMachine::handle_packet`]; see the
    /// [example](Self#example). A peer name longer than 255 octets
    /// (pppd's `MAXNAMELEN`) is ignored.
    pub fn handle_packet(&mut self, now: Instant, protocol: Protocol, data: &[u8]) {
        let response = match (protocol, self.method) {
            (Protocol::EAP, m) if m.is_eap() => return self.on_eap(now, data),
            (Protocol::PAP, AuthMethod::Pap) => match PapPacket::parse(data) {
                Ok(PapPacket::AuthenticateRequest {
                    identifier,
                    peer_id,
                    password,
                }) => PendingResponse {
                    identifier,
                    username: String::from_utf8_lossy(peer_id).into_owned(),
                    value: password.to_vec(),
                },
                _ => return,
            },
            (Protocol::CHAP, m) if m.is_chap() => match ChapPacket::parse(data) {
                Ok(ChapPacket::ChangePassword(change)) => {
                    return self.on_change_password(now, &change)
                }
                Ok(ChapPacket::Response {
                    identifier,
                    value,
                    name,
                }) if identifier == self.identifier => PendingResponse {
                    identifier,
                    username: String::from_utf8_lossy(name).into_owned(),
                    value: value.to_vec(),
                },
                _ => return,
            },
            _ => return,
        };
        if response.username.len() > MAX_PEER_NAME {
            // pppd's MAXNAMELEN: no account has such a name, and the
            // embedder is not handed kilobytes an attacker chose.
            crate::trace::event!(
                info,
                len = response.username.len(),
                "peer name too long: ignored"
            );
            return;
        }
        if let Some(answer) = &self.answer {
            // A retransmitted Response: the peer lost our answer; repeat it.
            let protocol = if self.method == AuthMethod::Pap {
                Protocol::PAP
            } else {
                Protocol::CHAP
            };
            let answer = answer.clone();
            self.io.send(protocol, answer);
            return;
        }
        if self.pending.is_some() || self.expired.is_some() || self.io.done {
            return;
        }
        self.take_response(now, response);
    }

    /// Hands a response to the embedder (or refuses it at once when it has
    /// the wrong shape for the method).
    fn take_response(&mut self, now: Instant, response: PendingResponse) {
        self.io.stop_timer();
        let Some(exchange) = self.exchange(&response) else {
            // Malformed for the method: no verifier can accept it.
            return self.conclude(now, response, Err(bad_password()));
        };
        self.io.events.push_back(AuthEvent::Request {
            username: response.username.clone(),
            method: self.method,
            exchange,
        });
        self.pending = Some(response);
    }

    /// The secret for the pending request; checks the peer's response.
    /// Called by [`AuthMachine::provide_credentials`]; see the
    /// [example](Self#example).
    pub fn provide_credentials(&mut self, now: Instant, credentials: Credentials) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        if let Credentials::Expired(old) = &credentials {
            return self.password_expired(now, pending, old.clone());
        }
        let nt_hash = match &credentials {
            Credentials::Password(p) => Some(nt_password_hash(p)),
            Credentials::Expired(_) => None,
            Credentials::NtHash(h) => Some(h.clone()),
            Credentials::Reject => None,
        };
        let outcome = match (self.method.base(), &credentials, nt_hash) {
            (_, Credentials::Reject, _) | (_, _, None) => {
                Err((AuthFailure::Rejected, Rejection::default()))
            }
            (AuthMethod::Pap, Credentials::Password(p), _) => {
                // No lossy copy: it would leave the clear password behind.
                match core::str::from_utf8(&pending.value).map(Password::new) {
                    Ok(Ok(given)) if given == *p => Ok((None, None)),
                    _ => Err(bad_password()),
                }
            }
            (AuthMethod::ChapMd5, Credentials::Password(p), _) => {
                if chap_md5::verify(pending.identifier, p, &self.challenge, &pending.value) {
                    Ok((None, None))
                } else {
                    Err(bad_password())
                }
            }
            (AuthMethod::Pap | AuthMethod::ChapMd5, _, _) => {
                Err((AuthFailure::UnusableCredentials, Rejection::default()))
            }
            (AuthMethod::MsChapV1, _, Some(hash)) => self.verify_v1(&pending, &hash),
            (AuthMethod::MsChapV2, _, Some(hash)) => self.verify_v2(&pending, &hash),
            // Pass-through: the verifier runs the method, not us.
            _ => Err((AuthFailure::UnusableCredentials, Rejection::default())),
        };
        self.conclude(now, pending, outcome);
    }

    /// The right old password but expired: `E=648` with a new challenge.
    fn password_expired(&mut self, now: Instant, mut pending: PendingResponse, old: Password) {
        let hash = nt_password_hash(&old);
        if self.method != AuthMethod::MsChapV2 || self.verify_v2(&pending, &hash).is_err() {
            // (EAP-MSCHAPv2 has no Change-Password here: the expired
            // password is refused like a wrong one.)
            return self.conclude(now, pending, Err(bad_password()));
        }
        let mut challenge = self.challenge;
        challenge.reverse();
        challenge[0] ^= 0x5a;
        let message = format!(
            "E=648 R=0 C={} V=3 M=Password expired",
            upper_hex(&challenge)
        );
        let id = pending.identifier;
        self.io.send(
            Protocol::CHAP,
            emit_chap(&ChapPacket::Failure {
                identifier: id,
                message: message.as_bytes(),
            }),
        );
        self.expired = Some((old, core::mem::take(&mut pending.username), challenge, id).into());
    }

    /// RFC 2759 §8.9–8.12: recover the new password with the old hash,
    /// check both encryptions and the NT-Response made with it.
    fn on_change_password(&mut self, now: Instant, change: &MsChapV2ChangePassword<'_>) {
        let Some(expired) = self.expired.take() else {
            return;
        };
        if change.identifier != expired.3.wrapping_add(1) {
            self.expired = Some(expired);
            return;
        }
        let (old, username, challenge, _) = *expired;
        let old_hash = nt_password_hash(&old);
        let outcome =
            mschapv2::decrypt_pw_block_with_password_hash(change.encrypted_password, &old_hash)
                .ok()
                .filter(|new| {
                    let hash = mschapv2::old_nt_password_hash_encrypted_with_new_nt_password_hash(
                        new, &old,
                    );
                    bool::from(subtle::ConstantTimeEq::ct_eq(
                        &hash[..],
                        &change.encrypted_hash[..],
                    ))
                })
                .and_then(|new| {
                    let new_hash = nt_password_hash(&new);
                    mschapv2::verify(
                        &challenge,
                        &change.peer_challenge,
                        username.as_bytes(),
                        &change.nt_response,
                        &new_hash,
                    )
                    .map(|auth| (new, new_hash, auth))
                });
        let pending = PendingResponse {
            identifier: change.identifier,
            username: username.clone(),
            value: Vec::new(),
        };
        match outcome {
            Some((new_password, new_hash, auth)) => {
                self.io.events.push_back(AuthEvent::PasswordChanged {
                    username,
                    new_password: alloc::boxed::Box::new(new_password),
                });
                let keys = mppe_keys_mschapv2(&new_hash, &change.nt_response, Role::Authenticator);
                self.conclude(now, pending, Ok((Some(keys), Some(auth.0))));
            }
            None => {
                let refusal = Rejection {
                    error: 709,
                    ..Rejection::default()
                };
                self.conclude(now, pending, Err((AuthFailure::Other(709), refusal)))
            }
        }
    }

    fn verify_v1(&self, pending: &PendingResponse, hash: &NtHash) -> Outcome {
        let mut challenge = [0u8; 8];
        challenge.copy_from_slice(&self.challenge[..8]);
        if MsChapV1Response::parse(&pending.value).is_ok()
            && mschapv1::verify(&challenge, &pending.value, hash)
        {
            Ok((Some(mppe_keys_mschapv1(hash, &challenge)), None))
        } else {
            Err(bad_password())
        }
    }

    fn verify_v2(&self, pending: &PendingResponse, hash: &NtHash) -> Outcome {
        let Ok(r) = MsChapV2Response::parse(&pending.value) else {
            return Err(bad_password());
        };
        match mschapv2::verify(
            &self.challenge,
            &r.peer_challenge,
            pending.username.as_bytes(),
            &r.nt_response,
            hash,
        ) {
            Some(auth) => Ok((
                Some(mppe_keys_mschapv2(
                    hash,
                    &r.nt_response,
                    Role::Authenticator,
                )),
                Some(auth.0),
            )),
            None => Err(bad_password()),
        }
    }

    /// The verdict of an external verifier for the pending request.
    /// Called by [`AuthMachine::provide_verdict`].
    ///
    /// MS-CHAP verifiers return the MPPE keys and, for MS-CHAPv2, the `S=`
    /// response: without it the peer fails with
    /// [`AuthFailure::AuthenticatorMismatch`].
    ///
    /// ```
    /// use pptp_proto::crypto::Password;
    /// use pptp_proto::ppp::auth::*;
    /// use pptp_proto::ppp::lcp::AuthMethod;
    /// use pptp_proto::time::Instant;
    ///
    /// let (method, timers, now) = (AuthMethod::Pap, AuthTimers::default(), Instant::ZERO);
    /// let authenticator = Authenticator::new(method, "vpn", [0; 16], 1, timers);
    /// let mut server = AuthMachine::Authenticator(Box::new(authenticator));
    /// let peer = Peer::new(method, "alice", Password::new("secret")?, [0; 16], timers);
    /// let mut client = AuthMachine::Peer(Box::new(peer));
    /// server.start(now);
    /// client.start(now);
    /// let (protocol, request) = client.poll_transmit().unwrap();
    /// server.handle_packet(now, protocol, &request);
    /// assert!(matches!(server.poll_event(), Some(AuthEvent::Request { .. })));
    /// // The verifier (a RADIUS server, say) accepts; PAP has no keys.
    /// let verdict = Verdict::Accept(Acceptance::default());
    /// server.provide_verdict(now, verdict);
    /// assert!(matches!(server.poll_event(), Some(AuthEvent::Success { .. })));
    /// let (protocol, ack) = server.poll_transmit().unwrap();
    /// client.handle_packet(now, protocol, &ack);
    /// assert!(matches!(client.poll_event(), Some(AuthEvent::Success { .. })));
    /// # Ok::<(), pptp_proto::crypto::Error>(())
    /// ```
    pub fn provide_verdict(&mut self, now: Instant, verdict: Verdict) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        let outcome = match verdict {
            Verdict::Accept(a) => Ok((a.mppe_keys.clone(), a.authenticator_response)),
            Verdict::Reject(r) => Err((AuthFailure::Rejected, r)),
            Verdict::Challenge(request) if self.method == AuthMethod::Eap => {
                return self.relay_request(now, pending, &request);
            }
            // A Challenge for a method that has none: fail closed.
            Verdict::Challenge(_) => Err((AuthFailure::Rejected, Rejection::default())),
        };
        self.conclude(now, pending, outcome);
    }

    /// MS-CHAP `R=1` with retries left: a fresh challenge (derived from the
    /// old, as for `E=648`) and room for one more Response, with the next
    /// Identifier. Returns the challenge to announce.
    fn offer_retry(&mut self, now: Instant, told: &Rejection) -> Option<[u8; 16]> {
        let ms_chap = matches!(self.method, AuthMethod::MsChapV1 | AuthMethod::MsChapV2);
        if !told.retry || !ms_chap || self.retries >= MAX_RETRIES {
            return None;
        }
        self.retries += 1;
        use sha1::Digest as _;
        let digest = sha1::Sha1::new()
            .chain_update(self.challenge)
            .chain_update([self.retries])
            .finalize();
        self.challenge.copy_from_slice(&digest[..16]);
        self.identifier = self.identifier.wrapping_add(1);
        self.io.wait(now);
        Some(self.challenge)
    }

    fn conclude(&mut self, now: Instant, mut pending: PendingResponse, outcome: Outcome) {
        if self.method.is_eap() {
            return self.conclude_eap(now, pending, outcome);
        }
        let id = pending.identifier;
        let retry = match &outcome {
            Err((_, told)) => self.offer_retry(now, told),
            Ok(_) => None,
        };
        let (protocol, answer) = match (&outcome, self.method) {
            (Ok(_), AuthMethod::Pap) => (
                Protocol::PAP,
                emit_pap(&PapPacket::AuthenticateAck {
                    identifier: id,
                    message: Some(b"Login ok"),
                }),
            ),
            (Err((_, told)), AuthMethod::Pap) => (
                Protocol::PAP,
                emit_pap(&PapPacket::AuthenticateNak {
                    identifier: id,
                    message: Some(
                        told.message
                            .as_deref()
                            .unwrap_or("Login incorrect")
                            .as_bytes(),
                    ),
                }),
            ),
            (Ok((_, auth)), method) => {
                let message = match (method, auth) {
                    (AuthMethod::MsChapV2, Some(auth)) => {
                        let mut m = AuthenticatorResponse(*auth).to_ascii().to_vec();
                        m.extend_from_slice(b" M=Access granted");
                        m
                    }
                    _ => b"Access granted".to_vec(),
                };
                (
                    Protocol::CHAP,
                    emit_chap(&ChapPacket::Success {
                        identifier: id,
                        message: &message,
                    }),
                )
            }
            (Err((_, told)), method) => {
                let text = told.message.as_deref().unwrap_or("Authentication failure");
                let (e, r) = (told.error, u8::from(retry.is_some()));
                let message = match method {
                    // RFC 2759 §6: a challenge as Windows sends, fresh when
                    // the peer may retry with it.
                    AuthMethod::MsChapV2 => format!(
                        "E={e} R={r} C={} V=3 M={text}",
                        upper_hex(&retry.unwrap_or(self.challenge))
                    ),
                    // RFC 2433 §5: C= only with a retry, 8 octets.
                    AuthMethod::MsChapV1 => match retry {
                        Some(c) => format!("E={e} R=1 C={} V=1", upper_hex(&c[..8])),
                        None => format!("E={e} R=0 V=1"),
                    },
                    _ => String::from(text),
                };
                (
                    Protocol::CHAP,
                    emit_chap(&ChapPacket::Failure {
                        identifier: id,
                        message: message.as_bytes(),
                    }),
                )
            }
        };
        self.io.send(protocol, answer.clone());
        if retry.is_some() {
            // Waits for the peer's next Response, to the new challenge.
            crate::trace::event!(info, retries = self.retries, "MS-CHAP failure with R=1");
            return;
        }
        self.answer = Some(answer);
        match outcome {
            Ok((mppe_keys, _)) => self.io.finish(AuthEvent::Success {
                peer_name: core::mem::take(&mut pending.username),
                method: self.method,
                mppe_keys,
            }),
            Err((reason, _)) => self.io.fail(reason),
        }
    }
}

/// Either role, as the session holds it. See the [module example](crate::ppp::auth#example).
#[derive(Debug)]
pub enum AuthMachine {
    /// Peer (client) side.
    Peer(alloc::boxed::Box<Peer>),
    /// Authenticator (server) side.
    Authenticator(alloc::boxed::Box<Authenticator>),
}

impl AuthMachine {
    fn io(&self) -> &Io {
        match self {
            AuthMachine::Peer(p) => &p.io,
            AuthMachine::Authenticator(a) => &a.io,
        }
    }

    fn io_mut(&mut self) -> &mut Io {
        match self {
            AuthMachine::Peer(p) => &mut p.io,
            AuthMachine::Authenticator(a) => &mut a.io,
        }
    }

    /// Starts the exchange. See the [module example](crate::ppp::auth#example).
    pub fn start(&mut self, now: Instant) {
        match self {
            AuthMachine::Peer(p) => p.start(now),
            AuthMachine::Authenticator(a) => a.start(now),
        }
    }

    /// Takes a received PAP, CHAP or EAP packet. See the [module example](crate::ppp::auth#example).
    pub fn handle_packet(&mut self, now: Instant, protocol: Protocol, data: &[u8]) {
        match self {
            AuthMachine::Peer(p) => p.handle_packet(now, protocol, data),
            AuthMachine::Authenticator(a) => a.handle_packet(now, protocol, data),
        }
    }

    /// Authenticator: see [`Authenticator::provide_credentials`] and the
    /// [module example](crate::ppp::auth#example).
    pub fn provide_credentials(&mut self, now: Instant, credentials: Credentials) {
        if let AuthMachine::Authenticator(a) = self {
            a.provide_credentials(now, credentials);
        }
    }

    /// Authenticator: see [`Authenticator::provide_verdict`].
    pub fn provide_verdict(&mut self, now: Instant, verdict: Verdict) {
        if let AuthMachine::Authenticator(a) = self {
            a.provide_verdict(now, verdict);
        }
    }

    /// Authenticator: a Response waits for the embedder's credentials or
    /// verdict.
    pub(crate) fn awaits_answer(&self) -> bool {
        matches!(self, AuthMachine::Authenticator(a) if a.pending.is_some())
    }

    /// Runs the retransmission timer; an early or repeated call is a no-op.
    /// See the [`AuthTimers` example](AuthTimers#example).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.io_mut().handle_timeout(now);
    }

    /// When [`AuthMachine::handle_timeout`] is due. See the
    /// [`AuthTimers` example](AuthTimers#example).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.io().deadlines.earliest()
    }

    /// The next packet to send: its protocol and information field.
    /// See the [module example](crate::ppp::auth#example).
    pub fn poll_transmit(&mut self) -> Option<(Protocol, Vec<u8>)> {
        self.io_mut().transmit.pop_front()
    }

    /// The next event. See the [module example](crate::ppp::auth#example).
    pub fn poll_event(&mut self) -> Option<AuthEvent> {
        self.io_mut().events.pop_front()
    }
}

/// A wrong password (or a malformed response): `E=691`, no retry.
fn bad_password() -> (AuthFailure, Rejection) {
    (AuthFailure::BadPassword, Rejection::default())
}

fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pap_verdict(stored: &str, sent: &[u8]) -> Option<AuthEvent> {
        let a = Authenticator::new(AuthMethod::Pap, "pac", [0; 16], 1, AuthTimers::default());
        let mut m = AuthMachine::Authenticator(alloc::boxed::Box::new(a));
        m.start(Instant::ZERO);
        let mut request = Vec::new();
        PapPacket::AuthenticateRequest {
            identifier: 1,
            peer_id: b"alice",
            password: sent,
        }
        .emit(&mut request);
        m.handle_packet(Instant::ZERO, Protocol::PAP, &request);
        match m.poll_event() {
            Some(AuthEvent::Request { .. }) => {}
            // Not UTF-8: refused before any verifier is asked.
            other => return other,
        }
        let secret = Password::new(stored).unwrap_or_else(|_| unreachable!());
        m.provide_credentials(Instant::ZERO, Credentials::Password(secret));
        m.poll_event()
    }

    #[test]
    fn pap_password_that_is_not_utf8_never_matches() {
        // A lossy conversion turned 0xFF into U+FFFD and let it match.
        assert!(matches!(
            pap_verdict("\u{fffd}", &[0xff]),
            Some(AuthEvent::Failure {
                reason: AuthFailure::BadPassword
            })
        ));
        assert!(matches!(
            pap_verdict("secret", b"secret"),
            Some(AuthEvent::Success { .. })
        ));
    }

    /// A Response to `challenge` for alice's password, with `identifier`.
    fn v2_response(identifier: u8, challenge: &[u8; 16]) -> Vec<u8> {
        let pw = Password::new("secret").unwrap_or_else(|_| unreachable!());
        let peer_challenge = [7; 16];
        let nt = generate_nt_response(challenge, &peer_challenge, b"alice", &nt_password_hash(&pw));
        let mut value = peer_challenge.to_vec();
        value.extend_from_slice(&[0; 8]);
        value.extend_from_slice(&nt);
        value.push(0);
        emit_chap(&ChapPacket::Response {
            identifier,
            value: &value,
            name: b"alice",
        })
    }

    /// An MS-CHAPv2 authenticator whose Challenge ([9; 16], Identifier 1)
    /// has gone out.
    fn v2_authenticator(now: Instant) -> AuthMachine {
        let timers = AuthTimers::default();
        let a = Authenticator::new(AuthMethod::MsChapV2, "vpn", [9; 16], 1, timers);
        let mut m = AuthMachine::Authenticator(alloc::boxed::Box::new(a));
        m.start(now);
        let _challenge = m.poll_transmit();
        m
    }

    /// The Failure just sent: its message.
    fn failure_text(m: &mut AuthMachine) -> String {
        let (_, bytes) = m.poll_transmit().unwrap_or_else(|| unreachable!());
        match ChapPacket::parse(&bytes) {
            Ok(ChapPacket::Failure { message, .. }) => {
                String::from_utf8_lossy(message).into_owned()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_rejection_with_retry_takes_responses_to_fresh_challenges_then_fails() {
        let now = Instant::ZERO;
        let mut m = v2_authenticator(now);
        let retry = || {
            Verdict::Reject(Rejection {
                retry: true,
                message: Some("try again".into()),
                ..Rejection::default()
            })
        };
        let (mut challenge, mut id) = ([9u8; 16], 1u8);
        for attempt in 0..=MAX_RETRIES {
            m.handle_packet(now, Protocol::CHAP, &v2_response(id, &challenge));
            match m.poll_event() {
                Some(AuthEvent::Request {
                    exchange:
                        AuthExchange::MsChapV2 {
                            identifier,
                            authenticator_challenge,
                            ..
                        },
                    ..
                }) => assert_eq!((identifier, authenticator_challenge), (id, challenge)),
                other => panic!("attempt {attempt}: {other:?}"),
            }
            m.provide_verdict(now, retry());
            let text = failure_text(&mut m);
            if attempt == MAX_RETRIES {
                // No retries left: R=0, and the peer has failed.
                assert!(text.starts_with("E=691 R=0 C="), "{text}");
                assert!(matches!(
                    m.poll_event(),
                    Some(AuthEvent::Failure {
                        reason: AuthFailure::Rejected
                    })
                ));
                break;
            }
            assert!(text.starts_with("E=691 R=1 C="), "{text}");
            assert!(text.ends_with(" V=3 M=try again"), "{text}");
            let hex = &text["E=691 R=1 C=".len()..][..32];
            let fresh: Vec<u8> = (0..16)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or_default())
                .collect();
            assert_ne!(fresh, challenge, "the retry's challenge is fresh");
            challenge.copy_from_slice(&fresh);
            assert!(m.poll_event().is_none(), "failed before the retry");
            // The old challenge's answer is no longer taken.
            m.handle_packet(now, Protocol::CHAP, &v2_response(id, &challenge));
            assert!(m.poll_event().is_none());
            id = id.wrapping_add(1);
        }
    }

    #[test]
    fn a_retry_can_succeed() {
        let now = Instant::ZERO;
        let mut m = v2_authenticator(now);
        m.handle_packet(now, Protocol::CHAP, &v2_response(1, &[9; 16]));
        assert!(matches!(m.poll_event(), Some(AuthEvent::Request { .. })));
        let retry = Rejection {
            retry: true,
            ..Rejection::default()
        };
        m.provide_verdict(now, Verdict::Reject(retry));
        let text = failure_text(&mut m);
        let mut challenge = [0u8; 16];
        for (i, b) in challenge.iter_mut().enumerate() {
            *b = u8::from_str_radix(&text[12 + 2 * i..14 + 2 * i], 16).unwrap_or_default();
        }
        m.handle_packet(now, Protocol::CHAP, &v2_response(2, &challenge));
        assert!(matches!(m.poll_event(), Some(AuthEvent::Request { .. })));
        let pw = Password::new("secret").unwrap_or_else(|_| unreachable!());
        m.provide_credentials(now, Credentials::Password(pw));
        assert!(matches!(m.poll_event(), Some(AuthEvent::Success { .. })));
    }

    #[test]
    fn a_malformed_response_fails_without_asking_the_verifier() {
        let now = Instant::ZERO;
        let mut m = v2_authenticator(now);
        let short = emit_chap(&ChapPacket::Response {
            identifier: 1,
            value: &[0; 20],
            name: b"alice",
        });
        m.handle_packet(now, Protocol::CHAP, &short);
        assert!(matches!(
            m.poll_event(),
            Some(AuthEvent::Failure {
                reason: AuthFailure::BadPassword
            })
        ));
    }
}
