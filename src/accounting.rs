//! Accounting records (RFC 2866): what a [`Server`](crate::server::Server)
//! reports when a session starts carrying IP, at an interim interval, and
//! when it stops, with its counters and the RFC 2866 §5.10
//! Acct-Terminate-Cause mapped from its down reason.
//!
//! Turned on by [`ServerConfig::accounting`](crate::server::ServerConfig::accounting);
//! records arrive as [`ServerEvent::Accounting`](crate::server::ServerEvent::Accounting).
//! The embedder sends them on (a RADIUS Accounting-Request, a log line, a
//! database row); the crate keeps nothing of them.
//!
//! # Example
//!
//! Each field is one RADIUS accounting attribute; the cause of a session
//! the client hung up is User-Request:
//!
//! ```
//! use pptp_proto::accounting::{AccountingRecord, AccountingStatus, TerminateCause};
//! use pptp_proto::control::CloseReason;
//! use pptp_proto::server::SessionDownReason;
//!
//! fn attributes(r: &AccountingRecord) -> Vec<(&'static str, String)> {
//!     let mut a = vec![
//!         ("Acct-Status-Type", r.status.code().to_string()),
//!         ("Acct-Session-Id", r.session_id.clone()),
//!         ("User-Name", r.username.clone()),
//!         ("Acct-Input-Octets", r.bytes_in.to_string()),
//!         ("Acct-Session-Time", r.session_time.as_secs().to_string()),
//!     ];
//!     if let Some(cause) = r.terminate_cause {
//!         a.push(("Acct-Terminate-Cause", cause.code().to_string()));
//!     }
//!     a
//! }
//! let cause = TerminateCause::of(&SessionDownReason::Control(CloseReason::StreamClosed));
//! assert_eq!(cause, TerminateCause::LostCarrier);
//! assert_eq!(AccountingStatus::Stop.code(), 2);
//! # let _ = attributes;
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr};
use core::time::Duration;

use crate::control::{CallDownReason, CloseReason};
use crate::ppp::session::DownReason;
use crate::tunnel::{Deadline, SessionDownReason};

/// Which record this is (RFC 2866 §5.1 Acct-Status-Type). See the
/// [module example](self#example).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountingStatus {
    /// The session came up (carries IP).
    Start,
    /// The session is still up: counters so far.
    Interim,
    /// The session ended: final counters and the cause.
    Stop,
}

impl AccountingStatus {
    /// The Acct-Status-Type value: Start 1, Stop 2, Interim-Update 3. See
    /// the [module example](self#example).
    pub const fn code(self) -> u32 {
        match self {
            AccountingStatus::Start => 1,
            AccountingStatus::Stop => 2,
            AccountingStatus::Interim => 3,
        }
    }
}

/// Why a session ended, in RFC 2866 §5.10's words (Acct-Terminate-Cause).
/// See the [module example](self#example).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TerminateCause {
    /// The client ended it (LCP Terminate-Request, Call-Clear-Request,
    /// Stop-Control-Connection-Request).
    UserRequest,
    /// The client vanished: TCP closed, echo keepalive unanswered.
    LostCarrier,
    /// The link beneath failed in the middle of the session (the client's
    /// lower layer went down).
    LostService,
    /// [`Deadline::Idle`]: no IP for the idle timeout.
    IdleTimeout,
    /// [`Deadline::Session`]: the session timeout passed.
    SessionTimeout,
    /// The server closed it ([`Server::close`](crate::server::Server::close),
    /// for example after a RADIUS Disconnect-Request).
    AdminReset,
    /// The client broke the protocol or failed a negotiation.
    UserError,
    /// The server could not serve it (no address, a user over its limit,
    /// its output queue full).
    NasError,
}

impl TerminateCause {
    /// The Acct-Terminate-Cause value. See the [module example](self#example).
    pub const fn code(self) -> u32 {
        match self {
            TerminateCause::UserRequest => 1,
            TerminateCause::LostCarrier => 2,
            TerminateCause::LostService => 3,
            TerminateCause::IdleTimeout => 4,
            TerminateCause::SessionTimeout => 5,
            TerminateCause::AdminReset => 6,
            TerminateCause::NasError => 9,
            TerminateCause::UserError => 17,
        }
    }

    /// The cause a session's down reason amounts to. See the
    /// [module example](self#example).
    pub fn of(reason: &SessionDownReason) -> Self {
        match reason {
            SessionDownReason::Ppp(r) => match r {
                DownReason::PeerTerminated => TerminateCause::UserRequest,
                DownReason::LocalClose => TerminateCause::AdminReset,
                DownReason::EchoTimeout => TerminateCause::LostCarrier,
                DownReason::LowerLayerDown => TerminateCause::LostService,
                _ => TerminateCause::UserError,
            },
            SessionDownReason::Control(r) => match r {
                CloseReason::PeerStop(_) => TerminateCause::UserRequest,
                CloseReason::LocalStop => TerminateCause::AdminReset,
                CloseReason::StreamClosed | CloseReason::EchoTimeout => TerminateCause::LostCarrier,
                CloseReason::OutputFull => TerminateCause::NasError,
                _ => TerminateCause::UserError,
            },
            SessionDownReason::CallDown(r) => match r {
                CallDownReason::LocalClear => TerminateCause::AdminReset,
                CallDownReason::Timeout => TerminateCause::LostCarrier,
                _ => TerminateCause::UserRequest,
            },
            SessionDownReason::Deadline(Deadline::Idle) => TerminateCause::IdleTimeout,
            SessionDownReason::Deadline(Deadline::Session) => TerminateCause::SessionTimeout,
            SessionDownReason::Deadline(_) => TerminateCause::UserError,
            _ => TerminateCause::NasError,
        }
    }
}

/// One accounting record ([`ServerEvent::Accounting`](crate::server::ServerEvent::Accounting)).
/// "In" is what the client sent (RADIUS's Acct-Input-*), "out" what it was
/// sent; octets are IP payload bytes. See the [module example](self#example).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccountingRecord {
    /// Start, interim or stop.
    pub status: AccountingStatus,
    /// The session's connection on the server.
    pub connection: crate::server::ConnectionId,
    /// Acct-Session-Id: unique to this session on this server, and (with
    /// the server seeded from the OS) across its restarts.
    pub session_id: String,
    /// The name it authenticated as.
    pub username: String,
    /// The client's public address (Calling-Station-Id).
    pub peer: IpAddr,
    /// Its tunnel address (Framed-IP-Address).
    pub address: Ipv4Addr,
    /// The server's Call ID for it (NAS-Port).
    pub call_id: u16,
    /// Time since it came up (Acct-Session-Time).
    pub session_time: Duration,
    /// IP packets from the client.
    pub packets_in: u64,
    /// IP packets to the client.
    pub packets_out: u64,
    /// IP octets from the client.
    pub bytes_in: u64,
    /// IP octets to the client.
    pub bytes_out: u64,
    /// The verifier's Class, echoed (empty: none).
    pub class: Vec<u8>,
    /// Why it ended (stop records only).
    pub terminate_cause: Option<TerminateCause>,
}
