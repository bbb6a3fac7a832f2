//! Authentication packets: PAP (RFC 1334), CHAP (RFC 1994), the MS-CHAP
//! response values (RFC 2433, RFC 2759 §4), the MS-CHAPv2 Change-Password
//! packet (RFC 2759 §7) and the MS-CHAP success/failure messages
//! (RFC 2759 §5–6, RFC 2433 §6).
//!
//! Each packet is parsed from the PPP information field: Code, Identifier,
//! Length, data. Bytes past Length are link padding and ignored.
//!
//! # Example
//!
//! An MS-CHAP server refuses a password: the CHAP Failure packet carries an
//! MS-CHAP failure message.
//!
//! ```
//! use pptp_proto::wire::auth::{ChapPacket, MsChapError, MsChapFailure};
//!
//! let bytes = b"\x04\x01\x00\x0dE=691 R=0";
//! let packet = ChapPacket::parse(bytes)?;
//! assert_eq!(packet.to_string(), r#"[CHAP Failure id=0x1 "E=691 R=0"]"#);
//! let ChapPacket::Failure { message, .. } = packet else { panic!("not a Failure") };
//! let failure = MsChapFailure::parse(message)?;
//! assert_eq!(failure.error, MsChapError::AUTHENTICATION_FAILURE);
//! assert_eq!(failure.retry, Some(false));
//! # Ok::<(), pptp_proto::wire::Error>(())
//! ```

use core::fmt;

use bytes::BufMut;

use super::{need, Error, Hex};

pub(super) const HEADER_LEN: usize = 4;

/// Splits a Code/Identifier/Length packet into code, identifier and data.
pub(super) fn split_packet<'a>(
    what: &'static str,
    input: &'a [u8],
) -> Result<(u8, u8, &'a [u8]), Error> {
    let mut reader = Reader::new(what, input);
    let code = reader.u8()?;
    let identifier = reader.u8()?;
    let length = usize::from(u16::from_be_bytes(reader.array()?));
    if length < HEADER_LEN {
        return Err(Error::BadLength {
            what,
            length,
            expected: "4..=packet size",
        });
    }
    need(what, input, length)?;
    Ok((
        code,
        identifier,
        input.get(HEADER_LEN..length).unwrap_or_default(),
    ))
}

// RFC 1661 §5: Length is 16 bits; longer packets cannot be expressed (and exceed any MRU).
pub(super) fn put_header<B: BufMut>(buf: &mut B, code: u8, identifier: u8, data_len: usize) {
    buf.put_u8(code);
    buf.put_u8(identifier);
    buf.put_u16(u16::try_from(HEADER_LEN + data_len).unwrap_or(u16::MAX));
}

/// The part of a trailing field (a CHAP Name or Message, which run to the
/// end of the packet) that fits after `used` bytes of data.
pub(super) fn tail(field: &[u8], used: usize) -> &[u8] {
    // The same four-octet header as LCP's (RFC 1661 §5), so the same limit.
    field.get(..super::cp::MAX_DATA_LEN - used).unwrap_or(field)
}

/// The first 255 bytes of a field with a one-byte length prefix.
pub(super) fn short(field: &[u8]) -> &[u8] {
    field.get(..255).unwrap_or(field)
}

pub(super) fn put_short<B: BufMut>(buf: &mut B, field: &[u8]) {
    let field = short(field);
    buf.put_u8(u8::try_from(field.len()).unwrap_or(u8::MAX));
    buf.put_slice(field);
}

/// A cursor over peer bytes that fails instead of panicking.
pub(super) struct Reader<'a> {
    what: &'static str,
    pub(super) rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn new(what: &'static str, rest: &'a [u8]) -> Self {
        Reader { what, rest }
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        need(self.what, self.rest, n)?;
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub(super) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.array::<1>()?[0])
    }

    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(super) fn short_field(&mut self) -> Result<&'a [u8], Error> {
        let len = self.u8()?;
        self.take(usize::from(len))
    }

    fn end(&self, reason: &'static str) -> Result<(), Error> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Error::Malformed {
                what: self.what,
                reason,
            })
        }
    }
}

/// Text the way pppd's `print_string` shows it: printable ASCII as is,
/// anything else escaped, in double quotes.
pub(super) struct Quoted<'a>(pub(super) &'a [u8]);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for &b in self.0 {
            match b {
                b'"' | b'\\' => write!(f, "\\{}", char::from(b))?,
                0x20..=0x7e => write!(f, "{}", char::from(b))?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        f.write_str("\"")
    }
}

// ---------------------------------------------------------------------------
// PAP

const PAP: &str = "PAP";

/// A PAP packet (RFC 1334 §2.2).
///
/// # Example
///
/// An Authenticate-Request from a capture (peer-id and password `ixia`):
///
/// ```
/// use pptp_proto::wire::{auth::PapPacket, Error};
///
/// let bytes = [1, 1, 0, 14, 4, b'i', b'x', b'i', b'a', 4, b'i', b'x', b'i', b'a'];
/// let packet = PapPacket::parse(&bytes)?;
/// assert_eq!(
///     packet,
///     PapPacket::AuthenticateRequest { identifier: 1, peer_id: b"ixia", password: b"ixia" }
/// );
/// assert_eq!(packet.identifier(), 1);
/// assert_eq!(packet.to_string(), r#"[PAP AuthReq id=0x1 user="ixia" password=<hidden>]"#);
///
/// let mut out = Vec::new();
/// packet.emit(&mut out);
/// assert_eq!(out, bytes);
/// assert_eq!(packet.buffer_len(), bytes.len());
///
/// // Code 4 is not a PAP code.
/// assert!(matches!(
///     PapPacket::parse(&[4, 1, 0, 4]),
///     Err(Error::BadField { field: "code", value: 4, .. })
/// ));
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PapPacket<'a> {
    /// Code 1: the peer's name and password. Each is at most 255 bytes;
    /// `emit` cuts longer ones.
    AuthenticateRequest {
        /// Identifier.
        identifier: u8,
        /// Peer-ID (user name).
        peer_id: &'a [u8],
        /// Password, in clear.
        password: &'a [u8],
    },
    /// Code 2: authentication accepted.
    AuthenticateAck {
        /// Identifier.
        identifier: u8,
        /// Message; `None` when the Msg-Length octet itself is missing (pppd accepts that).
        message: Option<&'a [u8]>,
    },
    /// Code 3: authentication refused.
    AuthenticateNak {
        /// Identifier.
        identifier: u8,
        /// Message; `None` when the Msg-Length octet itself is missing.
        message: Option<&'a [u8]>,
    },
}

impl<'a> PapPacket<'a> {
    /// Code of Authenticate-Request.
    pub const AUTHENTICATE_REQUEST: u8 = 1;
    /// Code of Authenticate-Ack.
    pub const AUTHENTICATE_ACK: u8 = 2;
    /// Code of Authenticate-Nak.
    pub const AUTHENTICATE_NAK: u8 = 3;

    /// Parses a PAP packet from a PPP information field; see
    /// [`PapPacket`'s example](PapPacket#example).
    ///
    /// An Ack or Nak without even the Msg-Length octet is accepted, as pppd
    /// does, with `message: None`:
    ///
    /// ```
    /// use pptp_proto::wire::auth::PapPacket;
    ///
    /// assert_eq!(
    ///     PapPacket::parse(&[2, 7, 0, 4])?,
    ///     PapPacket::AuthenticateAck { identifier: 7, message: None }
    /// );
    /// # Ok::<(), pptp_proto::wire::Error>(())
    /// ```
    pub fn parse(input: &'a [u8]) -> Result<Self, Error> {
        let (code, identifier, data) = split_packet(PAP, input)?;
        match code {
            Self::AUTHENTICATE_REQUEST => {
                let mut reader = Reader::new(PAP, data);
                let peer_id = reader.short_field()?;
                let password = reader.short_field()?;
                reader.end("bytes after the password")?;
                Ok(PapPacket::AuthenticateRequest {
                    identifier,
                    peer_id,
                    password,
                })
            }
            Self::AUTHENTICATE_ACK => Ok(PapPacket::AuthenticateAck {
                identifier,
                message: pap_message(data)?,
            }),
            Self::AUTHENTICATE_NAK => Ok(PapPacket::AuthenticateNak {
                identifier,
                message: pap_message(data)?,
            }),
            _ => Err(Error::BadField {
                what: PAP,
                field: "code",
                value: code.into(),
            }),
        }
    }

    /// The packet's Identifier; see [`PapPacket`'s example](PapPacket#example).
    pub fn identifier(&self) -> u8 {
        match *self {
            PapPacket::AuthenticateRequest { identifier, .. }
            | PapPacket::AuthenticateAck { identifier, .. }
            | PapPacket::AuthenticateNak { identifier, .. } => identifier,
        }
    }

    fn code(&self) -> u8 {
        match self {
            PapPacket::AuthenticateRequest { .. } => Self::AUTHENTICATE_REQUEST,
            PapPacket::AuthenticateAck { .. } => Self::AUTHENTICATE_ACK,
            PapPacket::AuthenticateNak { .. } => Self::AUTHENTICATE_NAK,
        }
    }

    fn data_len(&self) -> usize {
        match *self {
            PapPacket::AuthenticateRequest {
                peer_id, password, ..
            } => 2 + short(peer_id).len() + short(password).len(),
            PapPacket::AuthenticateAck { message, .. }
            | PapPacket::AuthenticateNak { message, .. } => {
                message.map_or(0, |m| 1 + short(m).len())
            }
        }
    }

    /// Writes the packet; [`PapPacket`'s example](PapPacket#example)
    /// round-trips one. A Peer-ID, Password or Message longer than 255 bytes
    /// is cut to 255, the most its length octet can say:
    ///
    /// ```
    /// use pptp_proto::wire::auth::PapPacket;
    ///
    /// let long = [b'x'; 300];
    /// let packet =
    ///     PapPacket::AuthenticateRequest { identifier: 1, peer_id: &long, password: b"pw" };
    /// let mut out = Vec::new();
    /// packet.emit(&mut out);
    /// assert_eq!(out.len(), 4 + 1 + 255 + 1 + 2);
    /// assert_eq!(out.len(), packet.buffer_len());
    /// let PapPacket::AuthenticateRequest { peer_id, .. } = PapPacket::parse(&out)? else {
    ///     panic!("not a request")
    /// };
    /// assert_eq!(peer_id, &long[..255]);
    /// # Ok::<(), pptp_proto::wire::Error>(())
    /// ```
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        put_header(buf, self.code(), self.identifier(), self.data_len());
        match *self {
            PapPacket::AuthenticateRequest {
                peer_id, password, ..
            } => {
                put_short(buf, peer_id);
                put_short(buf, password);
            }
            PapPacket::AuthenticateAck { message, .. }
            | PapPacket::AuthenticateNak { message, .. } => {
                if let Some(message) = message {
                    put_short(buf, message);
                }
            }
        }
    }

    /// How many bytes [`PapPacket::emit`] writes (see
    /// [`PapPacket`'s example](PapPacket#example)).
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data_len()
    }
}

fn pap_message(data: &[u8]) -> Result<Option<&[u8]>, Error> {
    if data.is_empty() {
        return Ok(None);
    }
    let mut reader = Reader::new(PAP, data);
    let message = reader.short_field()?;
    reader.end("bytes after the message")?;
    Ok(Some(message))
}

impl fmt::Display for PapPacket<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, message) = match *self {
            PapPacket::AuthenticateRequest { peer_id, .. } => {
                return write!(
                    f,
                    "[PAP AuthReq id={:#x} user={} password=<hidden>]",
                    self.identifier(),
                    Quoted(peer_id)
                );
            }
            PapPacket::AuthenticateAck { message, .. } => ("AuthAck", message),
            PapPacket::AuthenticateNak { message, .. } => ("AuthNak", message),
        };
        write!(f, "[PAP {name} id={:#x}", self.identifier())?;
        match message {
            Some(m) if !m.is_empty() => write!(f, " {}]", Quoted(m)),
            _ => f.write_str("]"),
        }
    }
}

// ---------------------------------------------------------------------------
// CHAP

const CHAP: &str = "CHAP";

/// A CHAP packet (RFC 1994 §4), including MS-CHAPv2 Change-Password (RFC 2759 §7).
///
/// # Example
///
/// The authenticator's Challenge, and a Response to it:
///
/// ```
/// use pptp_proto::wire::auth::ChapPacket;
///
/// let bytes = b"\x01\x2f\x00\x12\x07BBBBBBBserver";
/// let challenge = ChapPacket::parse(bytes)?;
/// assert_eq!(challenge.identifier(), 0x2f);
/// assert_eq!(
///     challenge.to_string(),
///     r#"[CHAP Challenge id=0x2f <42424242424242>, name = "server"]"#
/// );
///
/// let response = ChapPacket::Response { identifier: 0x2f, value: &[0; 16], name: b"client" };
/// let mut out = Vec::new();
/// response.emit(&mut out);
/// assert_eq!(out[..5], [0x02, 0x2f, 0x00, 0x1b, 16]); // Code, Identifier, Length 27, Value-Size
/// assert_eq!(response.buffer_len(), 27);
/// assert_eq!(ChapPacket::parse(&out)?, response);
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChapPacket<'a> {
    /// Code 1: the authenticator's challenge. `value` is at most 255 bytes.
    Challenge {
        /// Identifier.
        identifier: u8,
        /// Challenge value (16 bytes for MS-CHAPv2, 8 for MS-CHAPv1).
        value: &'a [u8],
        /// The authenticator's name.
        name: &'a [u8],
    },
    /// Code 2: the peer's answer. `value` is at most 255 bytes.
    Response {
        /// Identifier (echoes the Challenge's).
        identifier: u8,
        /// Response value (16 bytes MD5, 49 bytes MS-CHAP; see [`MsChapV1Response`], [`MsChapV2Response`]).
        value: &'a [u8],
        /// The peer's name.
        name: &'a [u8],
    },
    /// Code 3: authentication succeeded.
    Success {
        /// Identifier.
        identifier: u8,
        /// Message (MS-CHAPv2: see [`MsChapV2Success`]).
        message: &'a [u8],
    },
    /// Code 4: authentication failed.
    Failure {
        /// Identifier.
        identifier: u8,
        /// Message (MS-CHAP: see [`MsChapFailure`]).
        message: &'a [u8],
    },
    /// Code 7: MS-CHAPv2 Change-Password.
    ChangePassword(MsChapV2ChangePassword<'a>),
}

impl<'a> ChapPacket<'a> {
    /// Code of Challenge.
    pub const CHALLENGE: u8 = 1;
    /// Code of Response.
    pub const RESPONSE: u8 = 2;
    /// Code of Success.
    pub const SUCCESS: u8 = 3;
    /// Code of Failure.
    pub const FAILURE: u8 = 4;
    /// Code of MS-CHAPv2 Change-Password (RFC 2759 §7).
    pub const CHANGE_PASSWORD: u8 = 7;

    /// Parses a CHAP packet from a PPP information field; see
    /// [`ChapPacket`'s example](ChapPacket#example).
    pub fn parse(input: &'a [u8]) -> Result<Self, Error> {
        let (code, identifier, data) = split_packet(CHAP, input)?;
        match code {
            Self::CHALLENGE | Self::RESPONSE => {
                let mut reader = Reader::new(CHAP, data);
                let value = reader.short_field()?;
                let name = reader.rest;
                Ok(if code == Self::CHALLENGE {
                    ChapPacket::Challenge {
                        identifier,
                        value,
                        name,
                    }
                } else {
                    ChapPacket::Response {
                        identifier,
                        value,
                        name,
                    }
                })
            }
            Self::SUCCESS => Ok(ChapPacket::Success {
                identifier,
                message: data,
            }),
            Self::FAILURE => Ok(ChapPacket::Failure {
                identifier,
                message: data,
            }),
            Self::CHANGE_PASSWORD => Ok(ChapPacket::ChangePassword(
                MsChapV2ChangePassword::parse_data(identifier, data)?,
            )),
            _ => Err(Error::BadField {
                what: CHAP,
                field: "code",
                value: code.into(),
            }),
        }
    }

    /// The packet's Identifier; see [`ChapPacket`'s example](ChapPacket#example).
    pub fn identifier(&self) -> u8 {
        match *self {
            ChapPacket::Challenge { identifier, .. }
            | ChapPacket::Response { identifier, .. }
            | ChapPacket::Success { identifier, .. }
            | ChapPacket::Failure { identifier, .. } => identifier,
            ChapPacket::ChangePassword(ref change) => change.identifier,
        }
    }

    fn code(&self) -> u8 {
        match self {
            ChapPacket::Challenge { .. } => Self::CHALLENGE,
            ChapPacket::Response { .. } => Self::RESPONSE,
            ChapPacket::Success { .. } => Self::SUCCESS,
            ChapPacket::Failure { .. } => Self::FAILURE,
            ChapPacket::ChangePassword(_) => Self::CHANGE_PASSWORD,
        }
    }

    fn data_len(&self) -> usize {
        match *self {
            ChapPacket::Challenge { value, name, .. }
            | ChapPacket::Response { value, name, .. } => {
                let used = 1 + short(value).len();
                used + tail(name, used).len()
            }
            ChapPacket::Success { message, .. } | ChapPacket::Failure { message, .. } => {
                tail(message, 0).len()
            }
            ChapPacket::ChangePassword(_) => MsChapV2ChangePassword::DATA_LEN,
        }
    }

    /// Writes the packet; [`ChapPacket`'s example](ChapPacket#example)
    /// round-trips one. A Name or Message that would take the packet past
    /// the 65 535 octets its Length can say is cut there.
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        put_header(buf, self.code(), self.identifier(), self.data_len());
        match *self {
            ChapPacket::Challenge { value, name, .. }
            | ChapPacket::Response { value, name, .. } => {
                put_short(buf, value);
                buf.put_slice(tail(name, 1 + short(value).len()));
            }
            ChapPacket::Success { message, .. } | ChapPacket::Failure { message, .. } => {
                buf.put_slice(tail(message, 0));
            }
            ChapPacket::ChangePassword(ref change) => change.emit_data(buf),
        }
    }

    /// How many bytes [`ChapPacket::emit`] writes (see
    /// [`ChapPacket`'s example](ChapPacket#example)).
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data_len()
    }
}

impl fmt::Display for ChapPacket<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.identifier();
        match *self {
            ChapPacket::Challenge { value, name, .. } => write!(
                f,
                "[CHAP Challenge id={id:#x} <{}>, name = {}]",
                Hex(value),
                Quoted(name)
            ),
            ChapPacket::Response { value, name, .. } => write!(
                f,
                "[CHAP Response id={id:#x} <{}>, name = {}]",
                Hex(value),
                Quoted(name)
            ),
            ChapPacket::Success { message, .. } => chap_message(f, "Success", id, message),
            ChapPacket::Failure { message, .. } => chap_message(f, "Failure", id, message),
            ChapPacket::ChangePassword(ref change) => write!(
                f,
                "[CHAP ChangePassword id={id:#x} peer-challenge <{}>]",
                Hex(&change.peer_challenge)
            ),
        }
    }
}

fn chap_message(f: &mut fmt::Formatter<'_>, name: &str, id: u8, message: &[u8]) -> fmt::Result {
    write!(f, "[CHAP {name} id={id:#x}")?;
    if message.is_empty() {
        f.write_str("]")
    } else {
        write!(f, " {}]", Quoted(message))
    }
}

/// The MS-CHAPv2 Change-Password packet body (RFC 2759 §7), Length 586.
///
/// It travels as [`ChapPacket::ChangePassword`].
///
/// # Example
///
/// ```
/// use pptp_proto::wire::auth::{ChapPacket, MsChapV2ChangePassword};
///
/// let encrypted_password = [0x55; 516];
/// let packet = ChapPacket::ChangePassword(MsChapV2ChangePassword {
///     identifier: 3,
///     encrypted_password: &encrypted_password,
///     encrypted_hash: [0x11; 16],
///     peer_challenge: [0x22; 16],
///     reserved: [0; 8],
///     nt_response: [0x33; 24],
///     flags: 0,
/// });
/// let mut out = Vec::new();
/// packet.emit(&mut out);
/// assert_eq!(out.len(), 4 + MsChapV2ChangePassword::DATA_LEN);
/// assert_eq!(out[..4], [7, 3, 0x02, 0x4a]); // Code 7, Identifier 3, Length 586
/// assert_eq!(ChapPacket::parse(&out)?, packet);
/// // Any other Length is refused.
/// assert!(ChapPacket::parse(&[7, 3, 0, 4]).is_err());
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MsChapV2ChangePassword<'a> {
    /// Identifier.
    pub identifier: u8,
    /// The new password encrypted with the old password hash (516 bytes).
    pub encrypted_password: &'a [u8; 516],
    /// The old password hash encrypted with the new one.
    pub encrypted_hash: [u8; 16],
    /// The peer's new challenge.
    pub peer_challenge: [u8; 16],
    /// Reserved, zero when sent; kept as received.
    pub reserved: [u8; 8],
    /// NT-Response computed with the new password.
    pub nt_response: [u8; 24],
    /// Flags, zero when sent; kept as received.
    pub flags: u16,
}

impl<'a> MsChapV2ChangePassword<'a> {
    /// Length of the data after Code/Identifier/Length.
    pub const DATA_LEN: usize = 516 + 16 + 16 + 8 + 24 + 2;

    pub(super) fn parse_data(identifier: u8, data: &'a [u8]) -> Result<Self, Error> {
        // RFC 2759 §7: the Length field is exactly 586.
        if data.len() != Self::DATA_LEN {
            return Err(Error::BadLength {
                what: "MS-CHAPv2 Change-Password",
                length: HEADER_LEN + data.len(),
                expected: "586",
            });
        }
        let mut reader = Reader::new(CHAP, data);
        let encrypted_password =
            <&[u8; 516]>::try_from(reader.take(516)?).map_err(|_| Error::Malformed {
                what: CHAP,
                reason: "encrypted password",
            })?;
        Ok(MsChapV2ChangePassword {
            identifier,
            encrypted_password,
            encrypted_hash: reader.array()?,
            peer_challenge: reader.array()?,
            reserved: reader.array()?,
            nt_response: reader.array()?,
            flags: u16::from_be_bytes(reader.array()?),
        })
    }

    pub(super) fn emit_data<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(self.encrypted_password);
        buf.put_slice(&self.encrypted_hash);
        buf.put_slice(&self.peer_challenge);
        buf.put_slice(&self.reserved);
        buf.put_slice(&self.nt_response);
        buf.put_u16(self.flags);
    }
}

// ---------------------------------------------------------------------------
// MS-CHAP response values

const RESPONSE_LEN: usize = 49;

fn response_value<'a>(what: &'static str, value: &'a [u8]) -> Result<Reader<'a>, Error> {
    if value.len() != RESPONSE_LEN {
        return Err(Error::BadLength {
            what,
            length: value.len(),
            expected: "49",
        });
    }
    Ok(Reader::new(what, value))
}

/// The 49-byte MS-CHAPv1 Response value (RFC 2433 §5).
///
/// # Example
///
/// ```
/// use pptp_proto::wire::{auth::MsChapV1Response, Error};
///
/// let response = MsChapV1Response { lm_response: [0; 24], nt_response: [0xab; 24], use_nt: 1 };
/// let mut value = Vec::new();
/// response.emit(&mut value);
/// assert_eq!(value.len(), response.buffer_len());
/// assert_eq!(value.len(), MsChapV1Response::LEN);
/// assert_eq!(MsChapV1Response::parse(&value)?, response);
/// assert!(matches!(
///     MsChapV1Response::parse(&value[..48]),
///     Err(Error::BadLength { length: 48, .. })
/// ));
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MsChapV1Response {
    /// LAN Manager challenge response (zero when not used).
    pub lm_response: [u8; 24],
    /// Windows NT challenge response.
    pub nt_response: [u8; 24],
    /// 1 when `nt_response` is to be used.
    pub use_nt: u8,
}

impl MsChapV1Response {
    /// Length of the value.
    pub const LEN: usize = RESPONSE_LEN;

    /// Parses a CHAP Response value; anything but 49 bytes is
    /// [`Error::BadLength`] (see [`MsChapV1Response`'s example](MsChapV1Response#example)).
    pub fn parse(value: &[u8]) -> Result<Self, Error> {
        let mut reader = response_value("MS-CHAPv1 response", value)?;
        Ok(MsChapV1Response {
            lm_response: reader.array()?,
            nt_response: reader.array()?,
            use_nt: reader.u8()?,
        })
    }

    /// Writes the value; see [`MsChapV1Response`'s example](MsChapV1Response#example).
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(&self.lm_response);
        buf.put_slice(&self.nt_response);
        buf.put_u8(self.use_nt);
    }

    /// How many bytes [`MsChapV1Response::emit`] writes (49; see
    /// [`MsChapV1Response`'s example](MsChapV1Response#example)).
    pub fn buffer_len(&self) -> usize {
        Self::LEN
    }
}

/// The 49-byte MS-CHAPv2 Response value (RFC 2759 §4).
///
/// # Example
///
/// The value inside a CHAP Response, written by the peer and read back by
/// the authenticator:
///
/// ```
/// use pptp_proto::wire::auth::{ChapPacket, MsChapV2Response};
///
/// let response = MsChapV2Response {
///     peer_challenge: [0x78; 16],
///     reserved: [0; 8],
///     nt_response: [0x8c; 24],
///     flags: 0,
/// };
/// let mut value = Vec::with_capacity(response.buffer_len());
/// response.emit(&mut value);
/// let mut bytes = Vec::new();
/// ChapPacket::Response { identifier: 1, value: &value, name: b"vpnuser" }.emit(&mut bytes);
///
/// let ChapPacket::Response { value, name, .. } = ChapPacket::parse(&bytes)? else {
///     panic!("not a Response")
/// };
/// assert_eq!(name, b"vpnuser");
/// assert_eq!(MsChapV2Response::parse(value)?, response);
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MsChapV2Response {
    /// The peer's challenge.
    pub peer_challenge: [u8; 16],
    /// Reserved, zero when sent; kept as received.
    pub reserved: [u8; 8],
    /// The NT-Response.
    pub nt_response: [u8; 24],
    /// Flags, zero when sent; kept as received.
    pub flags: u8,
}

impl MsChapV2Response {
    /// Length of the value.
    pub const LEN: usize = RESPONSE_LEN;

    /// Parses a CHAP Response value; anything but 49 bytes is
    /// [`Error::BadLength`] (see [`MsChapV2Response`'s example](MsChapV2Response#example)).
    pub fn parse(value: &[u8]) -> Result<Self, Error> {
        let mut reader = response_value("MS-CHAPv2 response", value)?;
        Ok(MsChapV2Response {
            peer_challenge: reader.array()?,
            reserved: reader.array()?,
            nt_response: reader.array()?,
            flags: reader.u8()?,
        })
    }

    /// Writes the value; see [`MsChapV2Response`'s example](MsChapV2Response#example).
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(&self.peer_challenge);
        buf.put_slice(&self.reserved);
        buf.put_slice(&self.nt_response);
        buf.put_u8(self.flags);
    }

    /// How many bytes [`MsChapV2Response::emit`] writes (49; see
    /// [`MsChapV2Response`'s example](MsChapV2Response#example)).
    pub fn buffer_len(&self) -> usize {
        Self::LEN
    }
}

// ---------------------------------------------------------------------------
// MS-CHAP success and failure messages

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn decode_hex(what: &'static str, text: &[u8], out: &mut [u8]) -> Result<(), Error> {
    let bad = Error::Malformed {
        what,
        reason: "bad hex digits",
    };
    if text.len() != 2 * out.len() {
        return Err(bad);
    }
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        match pair {
            [high, low] => match (hex_value(*high), hex_value(*low)) {
                (Some(h), Some(l)) => *byte = h << 4 | l,
                _ => return Err(bad),
            },
            _ => return Err(bad),
        }
    }
    Ok(())
}

fn put_upper_hex<B: BufMut>(buf: &mut B, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for b in bytes {
        buf.put_u8(DIGITS[usize::from(b >> 4)]);
        buf.put_u8(DIGITS[usize::from(b & 0x0f)]);
    }
}

struct UpperHex<'a>(&'a [u8]);

impl fmt::Display for UpperHex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02X}"))
    }
}

const SUCCESS: &str = "MS-CHAPv2 success";

/// The MS-CHAPv2 Success message `S=<40 hex> M=<text>` (RFC 2759 §5).
///
/// Parsing accepts either hex case and a missing ` M=` part (pppd does);
/// `emit` writes upper-case hex, as the RFC requires.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::auth::MsChapV2Success;
///
/// let text = b"S=54644f81e5f18c0ee9e26776495d6bc7addfb767 M=Access granted";
/// let success = MsChapV2Success::parse(text)?;
/// assert_eq!(success.authenticator_response[..3], [0x54, 0x64, 0x4f]);
/// assert_eq!(success.message, Some(&b"Access granted"[..]));
///
/// let mut out = Vec::new();
/// success.emit(&mut out);
/// assert_eq!(out, b"S=54644F81E5F18C0EE9E26776495D6BC7ADDFB767 M=Access granted");
/// assert_eq!(success.buffer_len(), out.len());
///
/// // Without the " M=" part:
/// assert_eq!(MsChapV2Success::parse(&text[..42])?.message, None);
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MsChapV2Success<'a> {
    /// The 20-byte AuthenticatorResponse.
    pub authenticator_response: [u8; 20],
    /// The text after ` M=`; `None` when the message has no ` M=` part.
    pub message: Option<&'a [u8]>,
}

impl<'a> MsChapV2Success<'a> {
    /// Parses the message of a CHAP Success packet; see
    /// [`MsChapV2Success`'s example](MsChapV2Success#example).
    pub fn parse(text: &'a [u8]) -> Result<Self, Error> {
        let rest = text.strip_prefix(b"S=").ok_or(Error::Malformed {
            what: SUCCESS,
            reason: "no S=",
        })?;
        let mut reader = Reader::new(SUCCESS, rest);
        let mut authenticator_response = [0; 20];
        decode_hex(SUCCESS, reader.take(40)?, &mut authenticator_response)?;
        let message = match reader.rest {
            [] => None,
            [b' ', b'M', b'=', message @ ..] => Some(message),
            _ => {
                return Err(Error::Malformed {
                    what: SUCCESS,
                    reason: "text after S= is not \" M=\"",
                })
            }
        };
        Ok(MsChapV2Success {
            authenticator_response,
            message,
        })
    }

    /// Writes the message, in upper-case hex; see
    /// [`MsChapV2Success`'s example](MsChapV2Success#example).
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(b"S=");
        put_upper_hex(buf, &self.authenticator_response);
        if let Some(message) = self.message {
            buf.put_slice(b" M=");
            buf.put_slice(message);
        }
    }

    /// How many bytes [`MsChapV2Success::emit`] writes (see
    /// [`MsChapV2Success`'s example](MsChapV2Success#example)).
    pub fn buffer_len(&self) -> usize {
        42 + self.message.map_or(0, |m| 3 + m.len())
    }
}

impl fmt::Display for MsChapV2Success<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S={}", UpperHex(&self.authenticator_response))?;
        if let Some(message) = self.message {
            write!(f, " M={}", Quoted(message))?;
        }
        Ok(())
    }
}

super::code_point! {
    /// An MS-CHAP failure error code (RFC 2759 §6, RFC 2433 §6).
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::auth::MsChapError;
    ///
    /// assert_eq!(MsChapError(691), MsChapError::AUTHENTICATION_FAILURE);
    /// assert_eq!(MsChapError::PASSWORD_EXPIRED.name(), Some("ERROR_PASSWD_EXPIRED"));
    /// assert_eq!(MsChapError(1).name(), None);
    /// ```
    pub struct MsChapError(u32) {
        /// Logon outside the allowed hours.
        RESTRICTED_LOGON_HOURS = 646 => "ERROR_RESTRICTED_LOGON_HOURS",
        /// The account is disabled.
        ACCOUNT_DISABLED = 647 => "ERROR_ACCT_DISABLED",
        /// The password has expired (the peer may change it).
        PASSWORD_EXPIRED = 648 => "ERROR_PASSWD_EXPIRED",
        /// The account may not dial in.
        NO_DIALIN_PERMISSION = 649 => "ERROR_NO_DIALIN_PERMISSION",
        /// Wrong user name or password.
        AUTHENTICATION_FAILURE = 691 => "ERROR_AUTHENTICATION_FAILURE",
        /// A password change failed.
        CHANGING_PASSWORD = 709 => "ERROR_CHANGING_PASSWORD",
    }
}

/// The new challenge in an MS-CHAP failure message's `C=` field;
/// [`MsChapFailure`'s example](MsChapFailure#example) reads one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureChallenge {
    /// 16 hex digits: an MS-CHAPv1 challenge (RFC 2433 §6).
    V1([u8; 8]),
    /// 32 hex digits: an MS-CHAPv2 authenticator challenge (RFC 2759 §6).
    V2([u8; 16]),
}

impl FailureChallenge {
    /// The challenge bytes: 8 or 16 of them. See
    /// [`MsChapFailure`'s example](MsChapFailure#example).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            FailureChallenge::V1(c) => c,
            FailureChallenge::V2(c) => c,
        }
    }
}

const FAILURE: &str = "MS-CHAP failure";

/// The MS-CHAP Failure message `E=eeee R=r C=cccc V=vvvv M=<msg>`
/// (RFC 2759 §6, RFC 2433 §6).
///
/// `E=` comes first; `R=`, `C=`, `V=` and `M=` are each optional but keep that
/// order. `emit` writes the canonical form: decimal numbers without leading
/// zeros, upper-case hex, single spaces.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::auth::{FailureChallenge, MsChapError, MsChapFailure};
///
/// let text = b"E=691 R=1 C=0123456789abcdef0123456789abcdef V=3 M=Try again";
/// let failure = MsChapFailure::parse(text)?;
/// assert_eq!(failure.error, MsChapError::AUTHENTICATION_FAILURE);
/// assert_eq!(failure.retry, Some(true));
/// let challenge = failure.challenge.unwrap();
/// assert!(matches!(challenge, FailureChallenge::V2(_)));
/// assert_eq!(challenge.as_bytes()[..2], [0x01, 0x23]);
/// assert_eq!((failure.version, failure.message), (Some(3), Some(&b"Try again"[..])));
///
/// let mut out = Vec::new();
/// failure.emit(&mut out);
/// assert_eq!(out, b"E=691 R=1 C=0123456789ABCDEF0123456789ABCDEF V=3 M=Try again");
/// assert_eq!(failure.buffer_len(), out.len());
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MsChapFailure<'a> {
    /// The error code.
    pub error: MsChapError,
    /// `R=`: whether the peer may retry.
    pub retry: Option<bool>,
    /// `C=`: the challenge for a retry or password change.
    pub challenge: Option<FailureChallenge>,
    /// `V=`: the password-change protocol version (3 for MS-CHAPv2).
    pub version: Option<u32>,
    /// `M=`: the text, to the end of the message.
    pub message: Option<&'a [u8]>,
}

/// The fields of a failure message, in the order they must appear.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FailureField {
    Retry,
    Challenge,
    Version,
    Message,
}

impl<'a> MsChapFailure<'a> {
    /// Parses the message of a CHAP Failure packet; see
    /// [`MsChapFailure`'s example](MsChapFailure#example). Fields out of
    /// order are refused:
    ///
    /// ```
    /// use pptp_proto::wire::{auth::MsChapFailure, Error};
    ///
    /// assert!(matches!(
    ///     MsChapFailure::parse(b"E=691 V=3 R=1"),
    ///     Err(Error::Malformed { reason: "fields out of order", .. })
    /// ));
    /// ```
    pub fn parse(text: &'a [u8]) -> Result<Self, Error> {
        let rest = text.strip_prefix(b"E=").ok_or(malformed("no E="))?;
        let (digits, mut rest) = split_token(rest);
        let mut failure = MsChapFailure {
            error: MsChapError(parse_decimal(digits)?),
            retry: None,
            challenge: None,
            version: None,
            message: None,
        };
        let mut last = None;
        while let [b' ', key, b'=', after @ ..] = rest {
            let field = match key {
                b'R' => FailureField::Retry,
                b'C' => FailureField::Challenge,
                b'V' => FailureField::Version,
                b'M' => FailureField::Message,
                _ => return Err(malformed("unknown field")),
            };
            if last.is_some_and(|l| l >= field) {
                return Err(malformed("fields out of order"));
            }
            last = Some(field);
            if field == FailureField::Message {
                failure.message = Some(after);
                return Ok(failure);
            }
            let (token, tail) = split_token(after);
            failure.set(field, token)?;
            rest = tail;
        }
        if rest.is_empty() {
            Ok(failure)
        } else {
            Err(malformed("bad field separator"))
        }
    }

    fn set(&mut self, field: FailureField, token: &'a [u8]) -> Result<(), Error> {
        match field {
            FailureField::Retry => {
                self.retry = Some(match token {
                    b"0" => false,
                    b"1" => true,
                    _ => return Err(malformed("R= is not 0 or 1")),
                });
            }
            FailureField::Challenge => self.challenge = Some(parse_challenge(token)?),
            FailureField::Version => self.version = Some(parse_decimal(token)?),
            FailureField::Message => self.message = Some(token),
        }
        Ok(())
    }

    /// Writes the message in canonical form; see
    /// [`MsChapFailure`'s example](MsChapFailure#example).
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(b"E=");
        put_decimal(buf, self.error.0);
        if let Some(retry) = self.retry {
            buf.put_slice(if retry { b" R=1" } else { b" R=0" });
        }
        if let Some(challenge) = self.challenge {
            buf.put_slice(b" C=");
            put_upper_hex(buf, challenge.as_bytes());
        }
        if let Some(version) = self.version {
            buf.put_slice(b" V=");
            put_decimal(buf, version);
        }
        if let Some(message) = self.message {
            buf.put_slice(b" M=");
            buf.put_slice(message);
        }
    }

    /// How many bytes [`MsChapFailure::emit`] writes (see
    /// [`MsChapFailure`'s example](MsChapFailure#example)).
    pub fn buffer_len(&self) -> usize {
        2 + decimal_len(self.error.0)
            + self.retry.map_or(0, |_| 4)
            + self.challenge.map_or(0, |c| 3 + 2 * c.as_bytes().len())
            + self.version.map_or(0, |v| 3 + decimal_len(v))
            + self.message.map_or(0, |m| 3 + m.len())
    }
}

impl fmt::Display for MsChapFailure<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E={}", self.error.0)?;
        if let Some(retry) = self.retry {
            write!(f, " R={}", u8::from(retry))?;
        }
        if let Some(challenge) = self.challenge {
            write!(f, " C={}", UpperHex(challenge.as_bytes()))?;
        }
        if let Some(version) = self.version {
            write!(f, " V={version}")?;
        }
        if let Some(message) = self.message {
            write!(f, " M={}", Quoted(message))?;
        }
        Ok(())
    }
}

fn malformed(reason: &'static str) -> Error {
    Error::Malformed {
        what: FAILURE,
        reason,
    }
}

/// Splits at the first space (the space stays with the tail).
fn split_token(text: &[u8]) -> (&[u8], &[u8]) {
    let end = text.iter().position(|&b| b == b' ').unwrap_or(text.len());
    text.split_at(end)
}

fn parse_decimal(digits: &[u8]) -> Result<u32, Error> {
    if digits.is_empty() {
        return Err(malformed("empty number"));
    }
    digits.iter().try_fold(0u32, |acc, &d| {
        if !d.is_ascii_digit() {
            return Err(malformed("not a decimal number"));
        }
        acc.checked_mul(10)
            .and_then(|v| v.checked_add(u32::from(d - b'0')))
            .ok_or(malformed("number too large"))
    })
}

fn parse_challenge(token: &[u8]) -> Result<FailureChallenge, Error> {
    match token.len() {
        16 => {
            let mut c = [0; 8];
            decode_hex(FAILURE, token, &mut c)?;
            Ok(FailureChallenge::V1(c))
        }
        32 => {
            let mut c = [0; 16];
            decode_hex(FAILURE, token, &mut c)?;
            Ok(FailureChallenge::V2(c))
        }
        _ => Err(malformed("C= is neither 16 nor 32 hex digits")),
    }
}

fn decimal_len(mut value: u32) -> usize {
    let mut len = 1;
    while value >= 10 {
        value /= 10;
        len += 1;
    }
    len
}

fn put_decimal<B: BufMut>(buf: &mut B, value: u32) {
    let mut digits = [0u8; 10];
    let len = decimal_len(value);
    let mut rest = value;
    for slot in digits[..len].iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    buf.put_slice(&digits[..len]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{format, vec, vec::Vec};
    use proptest::prelude::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    fn emitted(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        f(&mut out);
        out
    }

    #[test]
    fn chap_names_and_messages_are_cut_to_what_length_can_say() {
        let long = vec![b'n'; 70_000];
        let response = ChapPacket::Response {
            identifier: 1,
            value: &[7; 49],
            name: &long,
        };
        let failure = ChapPacket::Failure {
            identifier: 2,
            message: &long,
        };
        for packet in [response, failure] {
            let bytes = emitted(|b| packet.emit(b));
            assert_eq!(bytes.len(), usize::from(u16::MAX));
            assert_eq!(packet.buffer_len(), bytes.len());
            let back = ChapPacket::parse(&bytes).unwrap();
            assert_eq!(back.buffer_len(), bytes.len());
            assert_eq!(back.identifier(), packet.identifier());
        }
    }

    fn pap_roundtrip(bytes: &[u8]) -> PapPacket<'_> {
        let packet = PapPacket::parse(bytes).unwrap();
        assert_eq!(emitted(|b| packet.emit(b)), bytes);
        assert_eq!(packet.buffer_len(), bytes.len());
        for n in 0..bytes.len() {
            assert!(PapPacket::parse(&bytes[..n]).is_err(), "prefix {n}");
        }
        let mut padded = bytes.to_vec();
        padded.extend_from_slice(&[0xaa, 0xbb]);
        assert_eq!(PapPacket::parse(&padded).unwrap(), packet);
        packet
    }

    fn chap_roundtrip(bytes: &[u8]) -> ChapPacket<'_> {
        let packet = ChapPacket::parse(bytes).unwrap();
        assert_eq!(emitted(|b| packet.emit(b)), bytes);
        assert_eq!(packet.buffer_len(), bytes.len());
        for n in 0..bytes.len() {
            assert!(ChapPacket::parse(&bytes[..n]).is_err(), "prefix {n}");
        }
        let mut padded = bytes.to_vec();
        padded.extend_from_slice(&[0xaa, 0xbb]);
        assert_eq!(ChapPacket::parse(&padded).unwrap(), packet);
        packet
    }

    // scapy ppp.uts, PPP protocol field c023/c223 removed.
    #[test]
    fn scapy_pap() {
        let bytes = unhex("012a00220d61646d696e6973747261746f720f7365637265745f70617373776f7264");
        let packet = pap_roundtrip(&bytes);
        assert_eq!(
            packet,
            PapPacket::AuthenticateRequest {
                identifier: 0x2a,
                peer_id: b"administrator",
                password: b"secret_password"
            }
        );
        assert_eq!(
            format!("{packet}"),
            "[PAP AuthReq id=0x2a user=\"administrator\" password=<hidden>]"
        );
        let ack_bytes = unhex("022a000500");
        let ack = pap_roundtrip(&ack_bytes);
        assert_eq!(
            ack,
            PapPacket::AuthenticateAck {
                identifier: 0x2a,
                message: Some(b"")
            }
        );
        assert_eq!(format!("{ack}"), "[PAP AuthAck id=0x2a]");
        let nak_bytes = unhex("032a00110c4261642070617373776f7264");
        let nak = pap_roundtrip(&nak_bytes);
        assert_eq!(
            nak,
            PapPacket::AuthenticateNak {
                identifier: 0x2a,
                message: Some(b"Bad password")
            }
        );
        assert_eq!(format!("{nak}"), "[PAP AuthNak id=0x2a \"Bad password\"]");
    }

    #[test]
    fn pap_display_hides_password() {
        // packetlife PPTP_negotiation: Ixia sends peer-id and password "ixia".
        let packet = PapPacket::AuthenticateRequest {
            identifier: 1,
            peer_id: b"ixia",
            password: b"ixia",
        };
        let bytes = emitted(|b| packet.emit(b));
        assert_eq!(bytes, unhex("0101000e 04 69786961 04 69786961"));
        assert_eq!(
            format!("{}", pap_roundtrip(&bytes)),
            "[PAP AuthReq id=0x1 user=\"ixia\" password=<hidden>]"
        );
    }

    #[test]
    fn pap_malformed() {
        let missing_msg_length = pap_roundtrip(&[2, 7, 0, 4]);
        assert_eq!(
            missing_msg_length,
            PapPacket::AuthenticateAck {
                identifier: 7,
                message: None
            }
        );
        assert!(matches!(
            PapPacket::parse(&[2, 7, 0, 3, 0]),
            Err(Error::BadLength { length: 3, .. })
        ));
        assert!(matches!(
            PapPacket::parse(&[4, 7, 0, 4]),
            Err(Error::BadField {
                field: "code",
                value: 4,
                ..
            })
        ));
        // Msg-Length runs past Length.
        assert!(matches!(
            PapPacket::parse(&[3, 7, 0, 6, 5, b'x', b'y']),
            Err(Error::Truncated { .. })
        ));
        // Bytes inside Length after the password.
        assert!(matches!(
            PapPacket::parse(&[1, 7, 0, 9, 1, b'u', 1, b'p', 0]),
            Err(Error::Malformed { .. })
        ));
    }

    #[test]
    fn scapy_chap() {
        let challenge_bytes = unhex("012f00120742424242424242736572766572");
        let challenge = chap_roundtrip(&challenge_bytes);
        assert_eq!(
            challenge,
            ChapPacket::Challenge {
                identifier: 0x2f,
                value: b"BBBBBBB",
                name: b"server"
            }
        );
        let response_bytes = unhex("022f001b1000000000000000000000000000000000636c69656e74");
        let response = chap_roundtrip(&response_bytes);
        assert_eq!(
            response,
            ChapPacket::Response {
                identifier: 0x2f,
                value: &[0; 16],
                name: b"client"
            }
        );
        let success_bytes = unhex("032f0004");
        let success = chap_roundtrip(&success_bytes);
        assert_eq!(format!("{success}"), "[CHAP Success id=0x2f]");
        let failure_bytes = unhex("042f000b476f2061776179");
        let failure = chap_roundtrip(&failure_bytes);
        assert_eq!(
            failure,
            ChapPacket::Failure {
                identifier: 0x2f,
                message: b"Go away"
            }
        );
        assert_eq!(format!("{failure}"), "[CHAP Failure id=0x2f \"Go away\"]");
    }

    #[test]
    fn chap_malformed() {
        // Value-Size runs past Length.
        assert!(matches!(
            ChapPacket::parse(&unhex("012f00080742424242")),
            Err(Error::Truncated { .. })
        ));
        assert!(matches!(
            ChapPacket::parse(&[1, 1, 0, 4]),
            Err(Error::Truncated { .. })
        ));
        assert!(matches!(
            ChapPacket::parse(&[5, 1, 0, 4]),
            Err(Error::BadField { field: "code", .. })
        ));
        assert!(matches!(
            ChapPacket::parse(&[3, 1, 0, 0]),
            Err(Error::BadLength { .. })
        ));
        assert!(matches!(
            ChapPacket::parse(&[7, 1, 0, 5, 0]),
            Err(Error::BadLength { .. })
        ));
    }

    // vectors §5: pptpcrack_test.pcap frames 290-292.
    const PPTPCRACK_CHALLENGE: &str = "05b2f10bdc3d6c92b6cd160adee148b4";
    const PPTPCRACK_RESPONSE: &str = "789223b02a0cc515404bca2c696edcff 0000000000000000 8cd6161253eac63fa53cfc6f74692fd73b0768ca63d612f0 00";

    #[test]
    fn pptpcrack_mschapv2_exchange() {
        let challenge_value = unhex(PPTPCRACK_CHALLENGE);
        let challenge = ChapPacket::Challenge {
            identifier: 1,
            value: &challenge_value,
            name: b"WIN-9BAGS70V5IP",
        };
        let bytes = emitted(|b| challenge.emit(b));
        assert_eq!(&bytes[..5], &[1, 1, 0, 36, 16]);
        assert_eq!(chap_roundtrip(&bytes), challenge);
        assert_eq!(
            format!("{challenge}"),
            "[CHAP Challenge id=0x1 <05b2f10bdc3d6c92b6cd160adee148b4>, name = \"WIN-9BAGS70V5IP\"]"
        );

        let value = unhex(PPTPCRACK_RESPONSE);
        let response = ChapPacket::Response {
            identifier: 1,
            value: &value,
            name: b"vpnuser",
        };
        let bytes = emitted(|b| response.emit(b));
        assert_eq!(&bytes[..5], &[2, 1, 0, 61, 49]);
        let ChapPacket::Response { value: parsed, .. } = chap_roundtrip(&bytes) else {
            panic!("not a response");
        };
        let v2 = MsChapV2Response::parse(parsed).unwrap();
        assert_eq!(
            v2.peer_challenge[..],
            unhex("789223b02a0cc515404bca2c696edcff")[..]
        );
        assert_eq!(v2.reserved, [0; 8]);
        assert_eq!(
            v2.nt_response[..],
            unhex("8cd6161253eac63fa53cfc6f74692fd73b0768ca63d612f0")[..]
        );
        assert_eq!(v2.flags, 0);
        assert_eq!(emitted(|b| v2.emit(b)), value);
        assert_eq!(
            format!("{response}"),
            format!(
                "[CHAP Response id=0x1 <{}>, name = \"vpnuser\"]",
                hex::encode(&value)
            )
        );

        let text = b"S=974E79C350CC7DC53FBC5F3A114C63B1EFA16E19";
        let success = success_roundtrip(text);
        assert_eq!(
            success.authenticator_response[..],
            unhex("974E79C350CC7DC53FBC5F3A114C63B1EFA16E19")[..]
        );
        assert_eq!(success.message, None);
    }

    fn success_roundtrip(text: &[u8]) -> MsChapV2Success<'_> {
        let success = MsChapV2Success::parse(text).unwrap();
        assert_eq!(emitted(|b| success.emit(b)), text);
        assert_eq!(success.buffer_len(), text.len());
        for n in 0..42.min(text.len()) {
            assert!(MsChapV2Success::parse(&text[..n]).is_err(), "prefix {n}");
        }
        success
    }

    #[test]
    fn chapcrack_values() {
        // vectors §4: chapcrack tests/pptp.cap.
        let value = unhex("abfe01e6c759850155b4d8d6258cdb6700000000000000001c93abce815400686baeca315f348469256420598a73ad4900");
        let v2 = MsChapV2Response::parse(&value).unwrap();
        assert_eq!(
            v2.peer_challenge[..],
            unhex("abfe01e6c759850155b4d8d6258cdb67")[..]
        );
        assert_eq!(
            v2.nt_response[..],
            unhex("1c93abce815400686baeca315f348469256420598a73ad49")[..]
        );
        assert_eq!(emitted(|b| v2.emit(b)), value);
        for n in 0..value.len() {
            assert!(MsChapV2Response::parse(&value[..n]).is_err());
        }
        let text = b"S=54644F81E5F18C0EE9E26776495D6BC7ADDFB767 M=Access granted";
        let success = success_roundtrip(text);
        assert_eq!(success.message, Some(&b"Access granted"[..]));
        assert_eq!(success.authenticator_response[0], 0x54);
        assert_eq!(success.authenticator_response[19], 0x67);
        let packet = ChapPacket::Success {
            identifier: 1,
            message: text,
        };
        assert_eq!(
            format!("{packet}"),
            "[CHAP Success id=0x1 \"S=54644F81E5F18C0EE9E26776495D6BC7ADDFB767 M=Access granted\"]"
        );
    }

    #[test]
    fn freeradius_mschapv2_response() {
        // vectors §4, auth_mschapv2: RADIUS MS-CHAP2-Response = ident, flags, peer, reserved, nt.
        let attr = unhex("0001502feeee9495a353cddbd1efc40072820000000000000000e866286bb30d0215ed16cf425b6a29d206667a9853e23ca4");
        let mut value = attr[2..].to_vec();
        value.push(attr[1]);
        let v2 = MsChapV2Response::parse(&value).unwrap();
        assert_eq!(
            v2.peer_challenge[..],
            unhex("502feeee9495a353cddbd1efc4007282")[..]
        );
        assert_eq!(
            v2.nt_response[..],
            unhex("e866286bb30d0215ed16cf425b6a29d206667a9853e23ca4")[..]
        );
        assert_eq!(v2.flags, 1);
        assert_eq!(emitted(|b| v2.emit(b)), value);
        let success = success_roundtrip(b"S=68649B6763301DD65FC2559F2D172943196EA88A");
        assert_eq!(success.authenticator_response[0], 0x68);
        // RFC 2759 §9.2.
        success_roundtrip(b"S=407A5589115FD0D6209F510FE9C04566932CDA56");
    }

    #[test]
    fn freeradius_mschapv1_responses() {
        // vectors §4: RADIUS MS-CHAP-Response = ident, flags, LM, NT.
        for (attr, nt) in [
            (
                "b9010000000000000000000000000000000000000000000000007a42408782f745ef90a86fd21b0d9294132750f4af66a419",
                "7a42408782f745ef90a86fd21b0d9294132750f4af66a419",
            ),
            (
                "000100000000000000000000000000000000000000000000000016c32819add27b3d29f6866506e6cc6548f50b6429518579",
                "16c32819add27b3d29f6866506e6cc6548f50b6429518579",
            ),
        ] {
            let attr = unhex(attr);
            let mut value = attr[2..].to_vec();
            value.push(attr[1]);
            let v1 = MsChapV1Response::parse(&value).unwrap();
            assert_eq!(v1.lm_response, [0; 24]);
            assert_eq!(v1.nt_response[..], unhex(nt)[..]);
            assert_eq!(v1.use_nt, 1);
            assert_eq!(emitted(|b| v1.emit(b)), value);
            assert_eq!(v1.buffer_len(), 49);
            let mut long = value.clone();
            long.push(0);
            assert!(matches!(
                MsChapV1Response::parse(&long),
                Err(Error::BadLength { length: 50, .. })
            ));
        }
    }

    #[test]
    fn success_accepts_lower_case_and_rejects_junk() {
        let lower = MsChapV2Success::parse(b"S=407a5589115fd0d6209f510fe9c04566932cda56").unwrap();
        let upper = MsChapV2Success::parse(b"S=407A5589115FD0D6209F510FE9C04566932CDA56").unwrap();
        assert_eq!(lower, upper);
        for junk in [
            &b"S=407A5589115FD0D6209F510FE9C04566932CDA5G"[..],
            b"S=407A5589115FD0D6209F510FE9C04566932CDA56M=x",
            b"S=407A5589115FD0D6209F510FE9C04566932CDA56 ",
            b"X=407A5589115FD0D6209F510FE9C04566932CDA56",
        ] {
            assert!(MsChapV2Success::parse(junk).is_err());
        }
    }

    fn failure_roundtrip(text: &[u8]) -> MsChapFailure<'_> {
        let failure = MsChapFailure::parse(text).unwrap();
        assert_eq!(emitted(|b| failure.emit(b)), text);
        assert_eq!(failure.buffer_len(), text.len());
        failure
    }

    #[test]
    fn failure_messages() {
        // Windows RRAS form (RFC 2759 §6).
        let text = b"E=691 R=0 C=05B2F10BDC3D6C92B6CD160ADEE148B4 V=3 M=The user name or password is incorrect.";
        let failure = failure_roundtrip(text);
        assert_eq!(failure.error, MsChapError::AUTHENTICATION_FAILURE);
        assert_eq!(failure.retry, Some(false));
        assert_eq!(
            failure.challenge.unwrap().as_bytes(),
            &unhex(PPTPCRACK_CHALLENGE)[..]
        );
        assert_eq!(failure.version, Some(3));
        assert_eq!(
            failure.message,
            Some(&b"The user name or password is incorrect."[..])
        );
        // MS-CHAPv1 form (RFC 2433 §6) with the RFC 2433 B.2 challenge.
        let v1 = failure_roundtrip(b"E=648 R=1 C=102DB5DF085D3041 V=2");
        assert_eq!(v1.error, MsChapError::PASSWORD_EXPIRED);
        assert_eq!(
            v1.challenge,
            Some(FailureChallenge::V1([
                0x10, 0x2d, 0xb5, 0xdf, 0x08, 0x5d, 0x30, 0x41
            ]))
        );
        assert_eq!(v1.message, None);
        let bare = failure_roundtrip(b"E=709");
        assert_eq!(bare.error, MsChapError::CHANGING_PASSWORD);
        assert_eq!(format!("{:?}", bare.error), "ERROR_CHANGING_PASSWORD");
        let spaced = failure_roundtrip(b"E=649 R=0 M=no dial-in C=x V=1");
        assert_eq!(spaced.message, Some(&b"no dial-in C=x V=1"[..]));
        assert_eq!(format!("{spaced}"), "E=649 R=0 M=\"no dial-in C=x V=1\"");
    }

    #[test]
    fn failure_prefixes_never_panic() {
        let text = b"E=691 R=1 C=05B2F10BDC3D6C92B6CD160ADEE148B4 V=3 M=Access denied";
        for n in 0..text.len() {
            if let Ok(failure) = MsChapFailure::parse(&text[..n]) {
                assert_eq!(emitted(|b| failure.emit(b)), &text[..n]);
            }
        }
        assert!(MsChapFailure::parse(&text[..2]).is_err());
        assert!(MsChapFailure::parse(&text[..7]).is_err());
        assert!(MsChapFailure::parse(&text[..20]).is_err());
    }

    #[test]
    fn failure_malformed() {
        for text in [
            &b""[..],
            b"E=",
            b"E=x",
            b"E=99999999999",
            b"R=1 E=691",
            b"E=691 R=2",
            b"E=691 V=3 R=1",
            b"E=691 C=0123",
            b"E=691 C=0123456789ABCDEF0123456789ABCDEZ",
            b"E=691  R=1",
            b"E=691 X=1",
            b"E=691 R=1 ",
            b"E=691 R=1 R=1",
        ] {
            assert!(MsChapFailure::parse(text).is_err(), "{text:?}");
        }
        // Leading zeros parse but re-emit canonically.
        let failure = MsChapFailure::parse(b"E=0691 R=1").unwrap();
        assert_eq!(emitted(|b| failure.emit(b)), b"E=691 R=1");
    }

    #[test]
    fn change_password_packet() {
        let mut bytes = vec![7, 9, 0x02, 0x4a];
        bytes.extend((0..582u32).map(|i| (i * 7 + 3) as u8));
        let packet = chap_roundtrip(&bytes);
        let ChapPacket::ChangePassword(change) = packet else {
            panic!("not a change-password packet");
        };
        assert_eq!(change.identifier, 9);
        assert_eq!(change.encrypted_password[..], bytes[4..520]);
        assert_eq!(change.encrypted_hash[..], bytes[520..536]);
        assert_eq!(change.peer_challenge[..], bytes[536..552]);
        assert_eq!(change.reserved[..], bytes[552..560]);
        assert_eq!(change.nt_response[..], bytes[560..584]);
        assert_eq!(change.flags, u16::from_be_bytes([bytes[584], bytes[585]]));
        let mut short = bytes[..585].to_vec();
        short[3] = 0x49;
        assert!(matches!(
            ChapPacket::parse(&short),
            Err(Error::BadLength { length: 585, .. })
        ));
    }

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..max)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn pap_identity(code in 1u8..4, identifier: u8, a in bytes(255), b in bytes(255), has_msg: bool) {
            let packet = match code {
                1 => PapPacket::AuthenticateRequest { identifier, peer_id: &a, password: &b },
                2 => PapPacket::AuthenticateAck { identifier, message: has_msg.then_some(&a[..]) },
                _ => PapPacket::AuthenticateNak { identifier, message: has_msg.then_some(&a[..]) },
            };
            let out = emitted(|buf| packet.emit(buf));
            prop_assert_eq!(out.len(), packet.buffer_len());
            prop_assert_eq!(PapPacket::parse(&out).unwrap(), packet);
        }

        #[test]
        fn chap_identity(code in 1u8..5, identifier: u8, a in bytes(255), b in bytes(64)) {
            let packet = match code {
                1 => ChapPacket::Challenge { identifier, value: &a, name: &b },
                2 => ChapPacket::Response { identifier, value: &a, name: &b },
                3 => ChapPacket::Success { identifier, message: &a },
                _ => ChapPacket::Failure { identifier, message: &a },
            };
            let out = emitted(|buf| packet.emit(buf));
            prop_assert_eq!(out.len(), packet.buffer_len());
            prop_assert_eq!(ChapPacket::parse(&out).unwrap(), packet);
        }

        #[test]
        fn change_password_identity(identifier: u8, data in proptest::collection::vec(any::<u8>(), 582)) {
            let mut input = vec![7, identifier, 0x02, 0x4a];
            input.extend_from_slice(&data);
            let packet = ChapPacket::parse(&input).unwrap();
            let out = emitted(|buf| packet.emit(buf));
            prop_assert_eq!(ChapPacket::parse(&out).unwrap(), packet);
            prop_assert_eq!(out, input);
        }

        #[test]
        fn response_identity(value in proptest::collection::vec(any::<u8>(), 49)) {
            let v1 = MsChapV1Response::parse(&value).unwrap();
            prop_assert_eq!(MsChapV1Response::parse(&emitted(|b| v1.emit(b))).unwrap(), v1);
            let v2 = MsChapV2Response::parse(&value).unwrap();
            prop_assert_eq!(MsChapV2Response::parse(&emitted(|b| v2.emit(b))).unwrap(), v2);
            prop_assert_eq!(emitted(|b| v2.emit(b)), value);
        }

        #[test]
        fn success_identity(authenticator_response: [u8; 20], message in proptest::option::of(bytes(40))) {
            let success = MsChapV2Success { authenticator_response, message: message.as_deref() };
            let out = emitted(|b| success.emit(b));
            prop_assert_eq!(out.len(), success.buffer_len());
            prop_assert_eq!(MsChapV2Success::parse(&out).unwrap(), success);
        }

        #[test]
        fn failure_identity(
            error: u32,
            retry: Option<bool>,
            challenge in proptest::option::of(prop_oneof![
                any::<[u8; 8]>().prop_map(FailureChallenge::V1),
                any::<[u8; 16]>().prop_map(FailureChallenge::V2),
            ]),
            version: Option<u32>,
            message in proptest::option::of(bytes(40)),
        ) {
            let failure = MsChapFailure {
                error: MsChapError(error), retry, challenge, version, message: message.as_deref(),
            };
            let out = emitted(|b| failure.emit(b));
            prop_assert_eq!(out.len(), failure.buffer_len());
            prop_assert_eq!(MsChapFailure::parse(&out).unwrap(), failure);
        }

        #[test]
        fn arbitrary_bytes_never_panic(input in bytes(80)) {
            if let Ok(packet) = PapPacket::parse(&input) {
                let out = emitted(|b| packet.emit(b));
                prop_assert_eq!(&out[..], &input[..out.len()]);
            }
            if let Ok(packet) = ChapPacket::parse(&input) {
                let out = emitted(|b| packet.emit(b));
                prop_assert_eq!(&out[..], &input[..out.len()]);
            }
            let _ = MsChapV1Response::parse(&input);
            let _ = MsChapV2Response::parse(&input);
            let _ = MsChapV2Success::parse(&input);
            let _ = MsChapFailure::parse(&input);
        }

        #[test]
        fn failure_like_text_never_panics(input in "E=[0-9]{0,11}( [RCVMX]=[0-9A-Fa-f ]{0,33}){0,5}") {
            if let Ok(failure) = MsChapFailure::parse(input.as_bytes()) {
                let out = emitted(|b| failure.emit(b));
                prop_assert_eq!(MsChapFailure::parse(&out).unwrap(), failure);
            }
        }
    }
}
