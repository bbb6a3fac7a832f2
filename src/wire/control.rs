//! PPTP control messages (RFC 2637 §2): the fifteen fixed-size records of the
//! control connection on TCP port 1723.
//!
//! Every message starts with the same 12-byte header (Length, PPTP Message
//! Type 1, Magic Cookie `0x1A2B3C4D`, Control Message Type, Reserved0) and has
//! one size fixed by the RFC. [`ControlMessage::parse`] reads the message at
//! the start of a buffer; [`frame_length`] tells a stream reader how long the
//! next message is as soon as its header has arrived.
//!
//! Reserved fields and string padding are kept as received, so re-emitting a
//! parsed message gives back the same bytes.
//!
//! # Example
//!
//! Reading messages off a TCP byte stream, where they may arrive back to back
//! or split anywhere:
//!
//! ```
//! use pptp_proto::wire::control::{frame_length, ControlMessage, EchoRequest};
//!
//! let mut stream = Vec::new();
//! EchoRequest { identifier: 1, ..Default::default() }.emit(&mut stream);
//! EchoRequest { identifier: 2, ..Default::default() }.emit(&mut stream);
//! stream.truncate(stream.len() - 3); // the second one is not all here yet
//!
//! let mut ids = Vec::new();
//! while let Some(len) = frame_length(&stream)? {
//!     if stream.len() < len {
//!         break; // wait for more bytes
//!     }
//!     match ControlMessage::parse(&stream[..len])? {
//!         ControlMessage::EchoRequest(m) => ids.push(m.identifier),
//!         other => panic!("unexpected {other}"),
//!     }
//!     stream.drain(..len);
//! }
//! assert_eq!(ids, [1]);
//! assert_eq!(stream.len(), 13); // the partial second message stays buffered
//! # Ok::<(), pptp_proto::wire::Error>(())
//! ```

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt::{self, Write as _};

use bytes::BufMut;
use nom::bytes::complete::take;
use nom::combinator::map_res;
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::sequence::tuple;
use nom::IResult;

use super::{need, Error};

/// The Magic Cookie every control message carries (RFC 2637 §2).
pub const MAGIC_COOKIE: u32 = 0x1A2B_3C4D;

/// The PPTP Message Type of a control message (RFC 2637 §2; 2 would be management).
pub const CONTROL_MESSAGE: u16 = 1;

/// Protocol Version 1.0, as sent in SCCRQ/SCCRP (RFC 2637 §2.1).
pub const PROTOCOL_VERSION: u16 = 0x0100;

/// Bytes of the common header: Length, PPTP Message Type, Magic Cookie,
/// Control Message Type and Reserved0.
pub const HEADER_LEN: usize = 12;

/// The largest control message (Incoming-Call-Request, RFC 2637 §2.9).
pub const MAX_MESSAGE_LEN: usize = 220;

super::code_point! {
    /// The Control Message Type of the header (RFC 2637 §2).
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::control::{EchoReply, MessageType};
    ///
    /// let t = MessageType::ECHO_REPLY;
    /// assert_eq!((t.0, t.name()), (6, Some("ECHORP")));
    /// assert_eq!(t.length(), Some(EchoReply::LENGTH)); // 20 bytes
    ///
    /// let unknown = MessageType(16);
    /// assert_eq!((unknown.name(), unknown.length()), (None, None));
    /// assert_eq!(format!("{t} {unknown} {unknown:?}"), "ECHORP 0x10 MessageType(0x10)");
    /// ```
    pub struct MessageType(u16) {
        /// Start-Control-Connection-Request (§2.1).
        START_CONTROL_CONNECTION_REQUEST = 1 => "SCCRQ",
        /// Start-Control-Connection-Reply (§2.2).
        START_CONTROL_CONNECTION_REPLY = 2 => "SCCRP",
        /// Stop-Control-Connection-Request (§2.3).
        STOP_CONTROL_CONNECTION_REQUEST = 3 => "StopCCRQ",
        /// Stop-Control-Connection-Reply (§2.4).
        STOP_CONTROL_CONNECTION_REPLY = 4 => "StopCCRP",
        /// Echo-Request (§2.5).
        ECHO_REQUEST = 5 => "ECHORQ",
        /// Echo-Reply (§2.6).
        ECHO_REPLY = 6 => "ECHORP",
        /// Outgoing-Call-Request (§2.7).
        OUTGOING_CALL_REQUEST = 7 => "OCRQ",
        /// Outgoing-Call-Reply (§2.8).
        OUTGOING_CALL_REPLY = 8 => "OCRP",
        /// Incoming-Call-Request (§2.9).
        INCOMING_CALL_REQUEST = 9 => "ICRQ",
        /// Incoming-Call-Reply (§2.10).
        INCOMING_CALL_REPLY = 10 => "ICRP",
        /// Incoming-Call-Connected (§2.11).
        INCOMING_CALL_CONNECTED = 11 => "ICCN",
        /// Call-Clear-Request (§2.12).
        CALL_CLEAR_REQUEST = 12 => "CCRQ",
        /// Call-Disconnect-Notify (§2.13).
        CALL_DISCONNECT_NOTIFY = 13 => "CDN",
        /// WAN-Error-Notify (§2.14).
        WAN_ERROR_NOTIFY = 14 => "WEN",
        /// Set-Link-Info (§2.15).
        SET_LINK_INFO = 15 => "SLI",
    }
}

super::code_point! {
    /// The Error Code shared by the replies (RFC 2637 §2.2, "General Error Codes").
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::control::GeneralError;
    ///
    /// assert_eq!(GeneralError::from(5), GeneralError::BAD_CALL_ID);
    /// assert_eq!(GeneralError::BAD_CALL_ID.name(), Some("Bad-Call-ID"));
    /// // Values RFC 2637 does not define are kept, and shown in hex.
    /// assert_eq!(GeneralError(9).name(), None);
    /// assert_eq!(GeneralError(9).to_string(), "0x9");
    /// ```
    pub struct GeneralError(u8) {
        /// No general error.
        NONE = 0 => "None",
        /// No control connection exists yet for this PAC-PNS pair.
        NOT_CONNECTED = 1 => "Not-Connected",
        /// Length is wrong or Magic Cookie value is incorrect.
        BAD_FORMAT = 2 => "Bad-Format",
        /// One of the field values was out of range or a reserved field was non-zero.
        BAD_VALUE = 3 => "Bad-Value",
        /// Insufficient resources to handle this command now.
        NO_RESOURCE = 4 => "No-Resource",
        /// The Call ID is invalid in this context.
        BAD_CALL_ID = 5 => "Bad-Call-ID",
        /// A generic vendor-specific error occurred in the PAC.
        PAC_ERROR = 6 => "PAC-Error",
    }
}

super::code_point! {
    /// Result Code of a Start-Control-Connection-Reply (RFC 2637 §2.2).
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::control::{StartControlConnectionReply, StartControlConnectionResult};
    ///
    /// let result = StartControlConnectionResult::BAD_PROTOCOL_VERSION;
    /// assert_eq!((u8::from(result), result.name()), (5, Some("Bad-Protocol-Version")));
    /// // 0 is not a Result Code, so a reply built with `Default` must set one.
    /// let reply = StartControlConnectionReply::default();
    /// assert_eq!(reply.result_code.name(), None);
    /// ```
    pub struct StartControlConnectionResult(u8) {
        /// Successful channel establishment.
        SUCCESSFUL = 1 => "Successful",
        /// General error; the Error Code says which.
        GENERAL_ERROR = 2 => "General-Error",
        /// Command channel already exists.
        CHANNEL_EXISTS = 3 => "Channel-Exists",
        /// Requester is not authorized to establish a command channel.
        NOT_AUTHORIZED = 4 => "Not-Authorized",
        /// The protocol version of the requester is not supported.
        BAD_PROTOCOL_VERSION = 5 => "Bad-Protocol-Version",
    }
}

super::code_point! {
    /// Reason of a Stop-Control-Connection-Request (RFC 2637 §2.3).
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::control::StopControlConnectionReason;
    ///
    /// let reason = StopControlConnectionReason::from(3);
    /// assert_eq!(reason, StopControlConnectionReason::STOP_LOCAL_SHUTDOWN);
    /// assert_eq!(reason.name(), Some("Stop-Local-Shutdown"));
    /// assert_eq!(StopControlConnectionReason::NONE.0, 1); // "None" is a value, not 0
    /// ```
    pub struct StopControlConnectionReason(u8) {
        /// General request to clear the control connection.
        NONE = 1 => "None",
        /// Can't support the peer's version of the protocol.
        STOP_PROTOCOL = 2 => "Stop-Protocol",
        /// Requester is being shut down.
        STOP_LOCAL_SHUTDOWN = 3 => "Stop-Local-Shutdown",
    }
}

super::code_point! {
    /// Result Code of a Stop-Control-Connection-Reply (RFC 2637 §2.4).
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::control::StopControlConnectionResult;
    ///
    /// assert_eq!(StopControlConnectionResult::OK.name(), Some("OK"));
    /// assert_eq!(format!("{:?}", StopControlConnectionResult(2)), "General-Error");
    /// assert_eq!(format!("{:?}", StopControlConnectionResult(7)), "StopControlConnectionResult(0x7)");
    /// ```
    pub struct StopControlConnectionResult(u8) {
        /// Control connection closed.
        OK = 1 => "OK",
        /// Control connection not closed; the Error Code says why.
        GENERAL_ERROR = 2 => "General-Error",
    }
}

super::code_point! {
    /// Result Code of an Echo-Reply (RFC 2637 §2.6).
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::control::EchoResult;
    ///
    /// assert_eq!(EchoResult::from(1), EchoResult::OK);
    /// assert_eq!(EchoResult::GENERAL_ERROR.name(), Some("General-Error"));
    /// assert_eq!(EchoResult(3).name(), None);
    /// ```
    pub struct EchoResult(u8) {
        /// The Echo-Reply is valid.
        OK = 1 => "OK",
        /// Echo-Request not accepted; the Error Code says why.
        GENERAL_ERROR = 2 => "General-Error",
    }
}

super::code_point! {
    /// Result Code of an Outgoing-Call-Reply (RFC 2637 §2.8).
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::control::OutgoingCallResult;
    ///
    /// let result = OutgoingCallResult::from(6);
    /// assert_eq!(result, OutgoingCallResult::TIME_OUT);
    /// assert_eq!(result.name(), Some("Time-out"));
    /// assert_ne!(result, OutgoingCallResult::CONNECTED);
    /// ```
    pub struct OutgoingCallResult(u8) {
        /// Call established with no errors.
        CONNECTED = 1 => "Connected",
        /// Outgoing call not established; the Error Code says why.
        GENERAL_ERROR = 2 => "General-Error",
        /// Outgoing call failed due to no carrier detected.
        NO_CARRIER = 3 => "No-Carrier",
        /// Outgoing call failed due to detection of a busy signal.
        BUSY = 4 => "Busy",
        /// Outgoing call failed due to lack of a dial tone.
        NO_DIAL_TONE = 5 => "No-Dial-Tone",
        /// Outgoing call was not established within the time allotted by the PAC.
        TIME_OUT = 6 => "Time-out",
        /// Outgoing call administratively prohibited.
        DO_NOT_ACCEPT = 7 => "Do-Not-Accept",
    }
}

super::code_point! {
    /// Result Code of an Incoming-Call-Reply (RFC 2637 §2.10).
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::control::IncomingCallResult;
    ///
    /// assert_eq!(IncomingCallResult::CONNECT.0, 1);
    /// assert_eq!(IncomingCallResult::DO_NOT_ACCEPT.name(), Some("Do-Not-Accept"));
    /// assert_eq!(IncomingCallResult(0).to_string(), "0x0");
    /// ```
    pub struct IncomingCallResult(u8) {
        /// The PAC should answer the incoming call.
        CONNECT = 1 => "Connect",
        /// The incoming call should not be established; the Error Code says why.
        GENERAL_ERROR = 2 => "General-Error",
        /// The PAC should not accept the incoming call.
        DO_NOT_ACCEPT = 3 => "Do-Not-Accept",
    }
}

super::code_point! {
    /// Result Code of a Call-Disconnect-Notify (RFC 2637 §2.13).
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::control::CallDisconnectResult;
    ///
    /// // The PAC's answer to a Call-Clear-Request:
    /// let result = CallDisconnectResult::REQUEST;
    /// assert_eq!((u8::from(result), result.name()), (4, Some("Request")));
    /// assert_eq!(CallDisconnectResult::from(1).to_string(), "Lost-Carrier");
    /// ```
    pub struct CallDisconnectResult(u8) {
        /// Call disconnected due to loss of carrier.
        LOST_CARRIER = 1 => "Lost-Carrier",
        /// Call disconnected for the reason in the Error Code.
        GENERAL_ERROR = 2 => "General-Error",
        /// Call disconnected for administrative reasons.
        ADMIN_SHUTDOWN = 3 => "Admin-Shutdown",
        /// Call disconnected due to a received Call-Clear-Request.
        REQUEST = 4 => "Request",
    }
}

bitflags::bitflags! {
    /// Framing Capabilities (SCCRQ/SCCRP, RFC 2637 §2.1) and Framing Type
    /// (OCRQ/ICCN, §2.7/§2.11: 1 asynchronous, 2 synchronous, 3 either).
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::control::FramingCapabilities;
    ///
    /// let either = FramingCapabilities::EITHER;
    /// assert_eq!(either.bits(), 3);
    /// assert!(either.contains(FramingCapabilities::SYNCHRONOUS));
    /// assert_eq!(either.to_string(), "AS");
    /// assert_ne!(FramingCapabilities::all(), either); // all() sets unknown bits too
    ///
    /// // Unknown bits from the wire are kept and shown in hex.
    /// let odd = FramingCapabilities::from_bits_retain(0x11);
    /// assert_eq!(odd.to_string(), "A+0x10");
    /// assert_eq!(FramingCapabilities::empty().to_string(), "none");
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct FramingCapabilities: u32 {
        /// Asynchronous framing.
        const ASYNCHRONOUS = 0x1;
        /// Synchronous framing.
        const SYNCHRONOUS = 0x2;
        // Unknown bits are kept so re-emit is byte-identical.
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// Bearer Capabilities (SCCRQ/SCCRP, RFC 2637 §2.1) and Bearer Type
    /// (OCRQ/ICRQ, §2.7/§2.9: 1 analog, 2 digital, 3 either).
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::control::BearerCapabilities;
    ///
    /// let bearer = BearerCapabilities::from_bits_retain(2);
    /// assert_eq!(bearer, BearerCapabilities::DIGITAL);
    /// assert!(!bearer.contains(BearerCapabilities::ANALOG));
    /// assert_eq!(bearer.to_string(), "D");
    /// assert_eq!(BearerCapabilities::EITHER.to_string(), "AD");
    /// assert_eq!(BearerCapabilities::from_bits_retain(4).to_string(), "0x4");
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct BearerCapabilities: u32 {
        /// Analog access.
        const ANALOG = 0x1;
        /// Digital access.
        const DIGITAL = 0x2;
        // Unknown bits are kept so re-emit is byte-identical.
        const _ = !0;
    }
}

impl FramingCapabilities {
    /// Either framing: Framing Type 3 (RFC 2637 §2.7). Use this, not
    /// `all()`, which also sets every unknown bit.
    pub const EITHER: Self = Self::ASYNCHRONOUS.union(Self::SYNCHRONOUS);
}

impl BearerCapabilities {
    /// Either bearer: Bearer Type 3 (RFC 2637 §2.7). Use this, not
    /// `all()`, which also sets every unknown bit.
    pub const EITHER: Self = Self::ANALOG.union(Self::DIGITAL);
}

/// The Framing Type of an Outgoing-Call-Request or Incoming-Call-Connected:
/// the same bits as [`FramingCapabilities`].
pub type FramingType = FramingCapabilities;

/// The Bearer Type of an Outgoing-Call-Request or Incoming-Call-Request:
/// the same bits as [`BearerCapabilities`].
pub type BearerType = BearerCapabilities;

/// Writes one letter per known bit (`none` for zero) and any unknown bits in hex.
fn write_flags(f: &mut fmt::Formatter<'_>, bits: u32, letters: &[(u32, char)]) -> fmt::Result {
    if bits == 0 {
        return f.write_str("none");
    }
    let mut known = 0;
    for &(bit, letter) in letters {
        if bits & bit != 0 {
            f.write_char(letter)?;
            known |= bit;
        }
    }
    match bits & !known {
        0 => Ok(()),
        rest if known == 0 => write!(f, "{rest:#x}"),
        rest => write!(f, "+{rest:#x}"),
    }
}

impl fmt::Display for FramingCapabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_flags(f, self.bits(), &[(0x1, 'A'), (0x2, 'S')])
    }
}

impl fmt::Display for BearerCapabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_flags(f, self.bits(), &[(0x1, 'A'), (0x2, 'D')])
    }
}

/// A fixed-width, NUL-padded text field (Host Name, Vendor String, Phone
/// Number, Subaddress, Call Statistics).
///
/// The raw `N` bytes are kept as received, padding included, so a parsed
/// message re-emits byte for byte. The text is the bytes up to the first NUL
/// (or all `N` when there is none); it need not be UTF-8.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::FixedStr;
///
/// let gw: FixedStr<8> = "gw".into(); // same as FixedStr::from_str("gw")
/// assert_eq!(gw.raw(), b"gw\0\0\0\0\0\0");
/// assert_eq!(gw.as_bytes(), b"gw");
/// assert!(!gw.is_empty() && FixedStr::<8>::default().is_empty());
///
/// // Too long: cut to N bytes, never inside a character.
/// assert_eq!(FixedStr::<8>::from_str("vpn.example").as_bytes(), b"vpn.exam");
/// assert_eq!(FixedStr::<2>::from_str("héllo").as_bytes(), b"h");
///
/// // Bytes from the wire stay as received, padding and bad UTF-8 included.
/// let field = FixedStr::from_raw(*b"ca\xc3\0junk");
/// assert_eq!(field.as_bytes(), b"ca\xc3");
/// assert_eq!(field.to_string_lossy(), "ca\u{FFFD}");
/// assert_eq!(&field.raw()[4..], b"junk");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FixedStr<const N: usize>(pub [u8; N]);

impl<const N: usize> FixedStr<N> {
    /// Wraps raw field bytes as received; see the [example](Self#example).
    pub const fn from_raw(raw: [u8; N]) -> Self {
        Self(raw)
    }

    /// Builds a field from text: cut to at most `N` bytes (on a character
    /// boundary) and padded with NULs. A NUL inside `s` ends the text there.
    /// The [example](Self#example) shows the cut.
    #[allow(clippy::should_implement_trait)] // infallible, unlike `FromStr`
    pub fn from_str(s: &str) -> Self {
        let mut end = s.len().min(N);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let mut raw = [0; N];
        for (dst, src) in raw.iter_mut().zip(&s.as_bytes()[..end]) {
            *dst = *src;
        }
        Self(raw)
    }

    /// The raw field bytes, padding included; see the [example](Self#example).
    pub const fn raw(&self) -> &[u8; N] {
        &self.0
    }

    /// The text bytes: up to the first NUL, or all `N` bytes if there is none.
    /// See the [example](Self#example).
    pub fn as_bytes(&self) -> &[u8] {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(N);
        self.0.get(..end).unwrap_or(&self.0)
    }

    /// True when the text is empty (the field starts with a NUL); see the
    /// [example](Self#example).
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// The text as UTF-8, with invalid sequences replaced by U+FFFD; see the
    /// [example](Self#example).
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }
}

impl<const N: usize> Default for FixedStr<N> {
    fn default() -> Self {
        Self([0; N])
    }
}

impl<const N: usize> From<&str> for FixedStr<N> {
    fn from(s: &str) -> Self {
        Self::from_str(s)
    }
}

impl<const N: usize> fmt::Display for FixedStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.as_bytes().utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_char(char::REPLACEMENT_CHARACTER)?;
            }
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for FixedStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for chunk in self.as_bytes().utf8_chunks() {
            write!(f, "{}", chunk.valid().escape_debug())?;
            if !chunk.invalid().is_empty() {
                f.write_char(char::REPLACEMENT_CHARACTER)?;
            }
        }
        f.write_char('"')
    }
}

/// Reads a fixed-width text field.
fn fixed_str<const N: usize>(i: &[u8]) -> IResult<&[u8], FixedStr<N>> {
    map_res(take(N), |s: &[u8]| <[u8; N]>::try_from(s).map(FixedStr))(i)
}

/// Prints a protocol version as `major.minor` (RFC 2637 §2.1: high octet major).
struct Version(u16);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [major, minor] = self.0.to_be_bytes();
        write!(f, "{major}.{minor}")
    }
}

/// The validated common header of a control message.
#[derive(Clone, Copy, Debug)]
struct Header {
    message_type: MessageType,
    length: usize,
    reserved0: u16,
}

impl Header {
    /// Reads and checks the 12 header bytes; the rest may still be missing.
    fn parse(buf: &[u8]) -> Result<Self, Error> {
        need("PPTP", buf, HEADER_LEN)?;
        let fields = tuple((be_u16, be_u16, be_u32, be_u16, be_u16))(buf);
        let (_, (length, pptp_type, cookie, code, reserved0)) =
            fields.map_err(|_: nom::Err<nom::error::Error<&[u8]>>| Error::Truncated {
                what: "PPTP",
                needed: HEADER_LEN,
                available: buf.len(),
            })?;
        if pptp_type != CONTROL_MESSAGE {
            return Err(Error::BadPptpMessageType(pptp_type));
        }
        if cookie != MAGIC_COOKIE {
            return Err(Error::BadMagicCookie(cookie));
        }
        let message_type = MessageType(code);
        let Some(expected) = message_type.length() else {
            return Err(Error::UnknownMessageType(code));
        };
        // RFC 2637 §2: every message type has exactly one size.
        if usize::from(length) != expected {
            return Err(Error::BadLength {
                what: message_type.name().unwrap_or("PPTP"),
                length: length.into(),
                expected: message_type.length_text(),
            });
        }
        Ok(Self {
            message_type,
            length: expected,
            reserved0,
        })
    }

    /// The body bytes (after the header), once the whole message is present.
    fn body<'a>(&self, buf: &'a [u8]) -> Result<&'a [u8], Error> {
        let what = self.message_type.name().unwrap_or("PPTP");
        need(what, buf, self.length)?;
        buf.get(HEADER_LEN..self.length).ok_or(Error::Truncated {
            what,
            needed: self.length,
            available: buf.len(),
        })
    }
}

/// Writes the common header.
fn emit_header<B: BufMut>(buf: &mut B, message_type: MessageType, length: u16, reserved0: u16) {
    buf.put_u16(length);
    buf.put_u16(CONTROL_MESSAGE);
    buf.put_u32(MAGIC_COOKIE);
    buf.put_u16(message_type.0);
    buf.put_u16(reserved0);
}

/// Splits a TCP stream into control messages.
///
/// Returns `Ok(None)` while fewer than the [`HEADER_LEN`] bytes needed to
/// check the header are buffered, then checks the PPTP Message Type, the
/// Magic Cookie, the Control Message Type and that Length is that type's
/// size, and returns `Ok(Some(length))`. The message is complete once
/// `buf.len() >= length`. An error means the byte stream has lost its
/// framing and cannot be resynchronised, so the connection should be closed.
///
/// The [module example](self#example) uses it in a read loop.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::{frame_length, CallClearRequest};
/// use pptp_proto::wire::Error;
///
/// let mut bytes = Vec::new();
/// CallClearRequest { call_id: 7, ..Default::default() }.emit(&mut bytes);
/// assert_eq!(frame_length(&bytes[..11]), Ok(None)); // header incomplete
/// assert_eq!(frame_length(&bytes[..12]), Ok(Some(16))); // body still missing
///
/// bytes[4] ^= 0xff; // corrupt the Magic Cookie
/// assert_eq!(frame_length(&bytes), Err(Error::BadMagicCookie(0xE52B_3C4D)));
/// ```
pub fn frame_length(buf: &[u8]) -> Result<Option<usize>, Error> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    Header::parse(buf).map(|h| Some(h.length))
}

/// Declares the message list once: the enum, its dispatch, the per-type
/// codecs and the size table.
macro_rules! control_messages {
    ($( $(#[$doc:meta])* $name:ident => $code:ident, $len:literal; )*) => {
        /// Any PPTP control message (RFC 2637 §2).
        ///
        /// Each variant wraps the struct of the same name; `From` converts
        /// each struct into this enum.
        ///
        /// # Example
        ///
        /// ```
        /// use pptp_proto::wire::control::{ControlMessage, MessageType, SetLinkInfo};
        /// use pptp_proto::wire::Error;
        ///
        /// let sli = SetLinkInfo { peer_call_id: 5, receive_accm: 0xffff_ffff, ..Default::default() };
        /// let msg = ControlMessage::from(sli);
        /// assert_eq!(msg.message_type(), MessageType::SET_LINK_INFO);
        ///
        /// let mut buf = Vec::new();
        /// msg.emit(&mut buf);
        /// assert_eq!(buf.len(), msg.buffer_len());
        /// assert_eq!(ControlMessage::parse(&buf)?, msg);
        /// assert_eq!(msg.to_string(), "[PPTP SLI peer_call=5 send_accm=0x00000000 recv_accm=0xffffffff]");
        ///
        /// buf[9] = 16; // a Control Message Type RFC 2637 does not define
        /// assert_eq!(ControlMessage::parse(&buf), Err(Error::UnknownMessageType(16)));
        /// # Ok::<(), Error>(())
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ControlMessage {
            $( $(#[$doc])* $name($name), )*
        }

        impl ControlMessage {
            /// Parses the message at the start of `buf`. Bytes after its Length
            /// are not looked at (see [`frame_length`] for stream splitting).
            ///
            /// The [example](Self#example) round-trips one and shows the error
            /// for an unknown type.
            pub fn parse(buf: &[u8]) -> Result<Self, Error> {
                let header = Header::parse(buf)?;
                match header.message_type {
                    $( MessageType::$code => $name::parse_after(&header, buf).map(Self::$name), )*
                    other => Err(Error::UnknownMessageType(other.0)),
                }
            }

            /// Writes the message, header included.
            ///
            /// Panics like [`BufMut`] does if `buf` cannot take [`Self::buffer_len`] bytes.
            /// The [example](Self#example) emits one into a `Vec<u8>`.
            pub fn emit<B: BufMut>(&self, buf: &mut B) {
                match self {
                    $( Self::$name(m) => m.emit(buf), )*
                }
            }

            /// The number of bytes [`Self::emit`] writes (the RFC size of the type);
            /// see the [example](Self#example).
            pub const fn buffer_len(&self) -> usize {
                match self {
                    $( Self::$name(_) => $name::LENGTH, )*
                }
            }

            /// The Control Message Type; see the [example](Self#example).
            pub const fn message_type(&self) -> MessageType {
                match self {
                    $( Self::$name(_) => MessageType::$code, )*
                }
            }
        }

        impl fmt::Display for ControlMessage {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $( Self::$name(m) => fmt::Display::fmt(m, f), )*
                }
            }
        }

        impl MessageType {
            /// The RFC 2637 size of this message type, header included;
            /// `None` for an unknown type. See the [example](Self#example).
            pub const fn length(self) -> Option<usize> {
                match self {
                    $( MessageType::$code => Some($len), )*
                    _ => None,
                }
            }

            /// The size as text, for [`Error::BadLength`].
            const fn length_text(self) -> &'static str {
                match self {
                    $( MessageType::$code => stringify!($len), )*
                    _ => "1..=15 type",
                }
            }
        }

        $(
            impl $name {
                /// The RFC 2637 size of this message, header included.
                pub const LENGTH: usize = $len;

                /// This message's Control Message Type.
                pub const MESSAGE_TYPE: MessageType = MessageType::$code;

                /// Parses this message type from the start of `buf`; another
                /// valid type is an [`Error::BadField`].
                ///
                #[doc = concat!("[`", stringify!($name), "`'s example](Self#example) parses one.")]
                pub fn parse(buf: &[u8]) -> Result<Self, Error> {
                    let header = Header::parse(buf)?;
                    if header.message_type != Self::MESSAGE_TYPE {
                        return Err(Error::BadField {
                            what: stringify!($name),
                            field: "control message type",
                            value: header.message_type.0.into(),
                        });
                    }
                    Self::parse_after(&header, buf)
                }

                /// Parses the body once the header is checked.
                fn parse_after(header: &Header, buf: &[u8]) -> Result<Self, Error> {
                    let body = header.body(buf)?;
                    match Self::parse_body(header.reserved0, body) {
                        Ok((_, message)) => Ok(message),
                        Err(_) => Err(Error::Truncated {
                            what: stringify!($name),
                            needed: $len,
                            available: buf.len(),
                        }),
                    }
                }

                /// Writes the message, header included.
                ///
                /// Panics like [`BufMut`] does if `buf` cannot take [`Self::LENGTH`] bytes.
                #[doc = concat!("[`", stringify!($name), "`'s example](Self#example) emits one.")]
                pub fn emit<B: BufMut>(&self, buf: &mut B) {
                    emit_header(buf, Self::MESSAGE_TYPE, $len, self.reserved0);
                    self.emit_body(buf);
                }

                /// The number of bytes [`Self::emit`] writes, [`Self::LENGTH`];
                #[doc = concat!("see [`", stringify!($name), "`'s example](Self#example).")]
                pub const fn buffer_len(&self) -> usize {
                    Self::LENGTH
                }
            }

            impl From<$name> for ControlMessage {
                fn from(m: $name) -> Self {
                    Self::$name(m)
                }
            }
        )*
    };
}

control_messages! {
    /// Start-Control-Connection-Request.
    StartControlConnectionRequest => START_CONTROL_CONNECTION_REQUEST, 156;
    /// Start-Control-Connection-Reply.
    StartControlConnectionReply => START_CONTROL_CONNECTION_REPLY, 156;
    /// Stop-Control-Connection-Request.
    StopControlConnectionRequest => STOP_CONTROL_CONNECTION_REQUEST, 16;
    /// Stop-Control-Connection-Reply.
    StopControlConnectionReply => STOP_CONTROL_CONNECTION_REPLY, 16;
    /// Echo-Request.
    EchoRequest => ECHO_REQUEST, 16;
    /// Echo-Reply.
    EchoReply => ECHO_REPLY, 20;
    /// Outgoing-Call-Request.
    OutgoingCallRequest => OUTGOING_CALL_REQUEST, 168;
    /// Outgoing-Call-Reply.
    OutgoingCallReply => OUTGOING_CALL_REPLY, 32;
    /// Incoming-Call-Request.
    IncomingCallRequest => INCOMING_CALL_REQUEST, 220;
    /// Incoming-Call-Reply.
    IncomingCallReply => INCOMING_CALL_REPLY, 24;
    /// Incoming-Call-Connected.
    IncomingCallConnected => INCOMING_CALL_CONNECTED, 28;
    /// Call-Clear-Request.
    CallClearRequest => CALL_CLEAR_REQUEST, 16;
    /// Call-Disconnect-Notify.
    CallDisconnectNotify => CALL_DISCONNECT_NOTIFY, 148;
    /// WAN-Error-Notify.
    WanErrorNotify => WAN_ERROR_NOTIFY, 40;
    /// Set-Link-Info.
    SetLinkInfo => SET_LINK_INFO, 24;
}

/// Start-Control-Connection-Request (RFC 2637 §2.1), sent by whichever side
/// opens the control connection.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::*;
///
/// let sccrq = StartControlConnectionRequest {
///     protocol_version: PROTOCOL_VERSION,
///     framing_capabilities: FramingCapabilities::ASYNCHRONOUS,
///     bearer_capabilities: BearerCapabilities::EITHER,
///     host_name: "pns.example".into(),
///     vendor_string: "pptp-proto".into(),
///     ..Default::default()
/// };
/// let mut buf = Vec::new();
/// sccrq.emit(&mut buf);
/// assert_eq!(buf.len(), sccrq.buffer_len()); // 156 bytes
/// assert_eq!(StartControlConnectionRequest::parse(&buf)?, sccrq);
/// assert_eq!(
///     sccrq.to_string(),
///     r#"[PPTP SCCRQ ver=1.0 framing=A bearer=AD max_channels=0 firm=0 host="pns.example" vendor="pptp-proto"]"#
/// );
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct StartControlConnectionRequest {
    /// Header Reserved0 (must be 0; kept as received).
    pub reserved0: u16,
    /// Protocol Version, [`PROTOCOL_VERSION`] for 1.0.
    pub protocol_version: u16,
    /// Reserved1 (must be 0; kept as received).
    pub reserved1: u16,
    /// Framing Capabilities of the sender.
    pub framing_capabilities: FramingCapabilities,
    /// Bearer Capabilities of the sender.
    pub bearer_capabilities: BearerCapabilities,
    /// Maximum Channels (0 from a PNS).
    pub maximum_channels: u16,
    /// Firmware Revision of the sender.
    pub firmware_revision: u16,
    /// Host Name: the DNS name of the sender.
    pub host_name: FixedStr<64>,
    /// Vendor String.
    pub vendor_string: FixedStr<64>,
}

impl StartControlConnectionRequest {
    fn parse_body(reserved0: u16, i: &[u8]) -> IResult<&[u8], Self> {
        let (i, (protocol_version, reserved1, framing, bearer, maximum_channels)) =
            tuple((be_u16, be_u16, be_u32, be_u32, be_u16))(i)?;
        let (i, (firmware_revision, host_name, vendor_string)) =
            tuple((be_u16, fixed_str, fixed_str))(i)?;
        let message = Self {
            reserved0,
            protocol_version,
            reserved1,
            framing_capabilities: FramingCapabilities::from_bits_retain(framing),
            bearer_capabilities: BearerCapabilities::from_bits_retain(bearer),
            maximum_channels,
            firmware_revision,
            host_name,
            vendor_string,
        };
        Ok((i, message))
    }

    fn emit_body<B: BufMut>(&self, buf: &mut B) {
        buf.put_u16(self.protocol_version);
        buf.put_u16(self.reserved1);
        buf.put_u32(self.framing_capabilities.bits());
        buf.put_u32(self.bearer_capabilities.bits());
        buf.put_u16(self.maximum_channels);
        buf.put_u16(self.firmware_revision);
        buf.put_slice(&self.host_name.0);
        buf.put_slice(&self.vendor_string.0);
    }
}

impl fmt::Display for StartControlConnectionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[PPTP SCCRQ ver={} framing={} bearer={} max_channels={} firm={} host={:?} vendor={:?}]",
            Version(self.protocol_version),
            self.framing_capabilities,
            self.bearer_capabilities,
            self.maximum_channels,
            self.firmware_revision,
            self.host_name,
            self.vendor_string
        )
    }
}

/// Start-Control-Connection-Reply (RFC 2637 §2.2).
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::*;
///
/// let sccrp = StartControlConnectionReply {
///     protocol_version: PROTOCOL_VERSION,
///     result_code: StartControlConnectionResult::SUCCESSFUL,
///     framing_capabilities: FramingCapabilities::EITHER,
///     maximum_channels: 16,
///     host_name: "pac".into(),
///     ..Default::default()
/// };
/// let mut buf = Vec::new();
/// sccrp.emit(&mut buf);
/// assert_eq!(buf.len(), sccrp.buffer_len());
/// let parsed = StartControlConnectionReply::parse(&buf)?;
/// assert_eq!(parsed, sccrp);
/// assert_eq!(parsed.result_code.name(), Some("Successful"));
/// assert_eq!(parsed.host_name.as_bytes(), b"pac");
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct StartControlConnectionReply {
    /// Header Reserved0 (must be 0; kept as received).
    pub reserved0: u16,
    /// Protocol Version, [`PROTOCOL_VERSION`] for 1.0.
    pub protocol_version: u16,
    /// Result Code.
    pub result_code: StartControlConnectionResult,
    /// Error Code (meaningful when the result is a general error).
    pub error_code: GeneralError,
    /// Framing Capabilities of the sender.
    pub framing_capabilities: FramingCapabilities,
    /// Bearer Capabilities of the sender.
    pub bearer_capabilities: BearerCapabilities,
    /// Maximum Channels the PAC supports.
    pub maximum_channels: u16,
    /// Firmware Revision of the sender.
    pub firmware_revision: u16,
    /// Host Name: the DNS name of the sender.
    pub host_name: FixedStr<64>,
    /// Vendor String.
    pub vendor_string: FixedStr<64>,
}

impl StartControlConnectionReply {
    fn parse_body(reserved0: u16, i: &[u8]) -> IResult<&[u8], Self> {
        let (i, (protocol_version, result, error, framing, bearer)) =
            tuple((be_u16, be_u8, be_u8, be_u32, be_u32))(i)?;
        let (i, (maximum_channels, firmware_revision, host_name, vendor_string)) =
            tuple((be_u16, be_u16, fixed_str, fixed_str))(i)?;
        let message = Self {
            reserved0,
            protocol_version,
            result_code: StartControlConnectionResult(result),
            error_code: GeneralError(error),
            framing_capabilities: FramingCapabilities::from_bits_retain(framing),
            bearer_capabilities: BearerCapabilities::from_bits_retain(bearer),
            maximum_channels,
            firmware_revision,
            host_name,
            vendor_string,
        };
        Ok((i, message))
    }

    fn emit_body<B: BufMut>(&self, buf: &mut B) {
        buf.put_u16(self.protocol_version);
        buf.put_u8(self.result_code.0);
        buf.put_u8(self.error_code.0);
        buf.put_u32(self.framing_capabilities.bits());
        buf.put_u32(self.bearer_capabilities.bits());
        buf.put_u16(self.maximum_channels);
        buf.put_u16(self.firmware_revision);
        buf.put_slice(&self.host_name.0);
        buf.put_slice(&self.vendor_string.0);
    }
}

impl fmt::Display for StartControlConnectionReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[PPTP SCCRP ver={} result={} error={} framing={} bearer={} max_channels={} firm={} \
             host={:?} vendor={:?}]",
            Version(self.protocol_version),
            self.result_code,
            self.error_code,
            self.framing_capabilities,
            self.bearer_capabilities,
            self.maximum_channels,
            self.firmware_revision,
            self.host_name,
            self.vendor_string
        )
    }
}

/// Stop-Control-Connection-Request (RFC 2637 §2.3).
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::{StopControlConnectionReason, StopControlConnectionRequest};
///
/// let bytes = [
///     0x00, 0x10, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x03, 0x00, 0x00, // header
///     0x03, 0x00, 0x00, 0x00, // Reason 3, Reserved1, Reserved2
/// ];
/// let m = StopControlConnectionRequest::parse(&bytes)?;
/// assert_eq!(m.reason, StopControlConnectionReason::STOP_LOCAL_SHUTDOWN);
/// assert_eq!(m.buffer_len(), bytes.len());
/// let mut out = Vec::new();
/// m.emit(&mut out);
/// assert_eq!(out, bytes);
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct StopControlConnectionRequest {
    /// Header Reserved0 (must be 0; kept as received).
    pub reserved0: u16,
    /// Reason for closing the control connection.
    pub reason: StopControlConnectionReason,
    /// Reserved1 (must be 0; kept as received).
    pub reserved1: u8,
    /// Reserved2 (must be 0; kept as received).
    pub reserved2: u16,
}

impl StopControlConnectionRequest {
    fn parse_body(reserved0: u16, i: &[u8]) -> IResult<&[u8], Self> {
        let (i, (reason, reserved1, reserved2)) = tuple((be_u8, be_u8, be_u16))(i)?;
        let message = Self {
            reserved0,
            reason: StopControlConnectionReason(reason),
            reserved1,
            reserved2,
        };
        Ok((i, message))
    }

    fn emit_body<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(self.reason.0);
        buf.put_u8(self.reserved1);
        buf.put_u16(self.reserved2);
    }
}

impl fmt::Display for StopControlConnectionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[PPTP StopCCRQ reason={}]", self.reason)
    }
}

/// Stop-Control-Connection-Reply (RFC 2637 §2.4).
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::{GeneralError, StopControlConnectionReply, StopControlConnectionResult};
///
/// let bytes = [
///     0x00, 0x10, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x04, 0x00, 0x00, // header
///     0x02, 0x06, 0x00, 0x00, // Result Code 2, Error Code 6, Reserved1
/// ];
/// let m = StopControlConnectionReply::parse(&bytes)?;
/// assert_eq!(m.result_code, StopControlConnectionResult::GENERAL_ERROR);
/// assert_eq!(m.error_code, GeneralError::PAC_ERROR);
/// assert_eq!(m.to_string(), "[PPTP StopCCRP result=General-Error error=PAC-Error]");
/// let mut out = Vec::with_capacity(m.buffer_len());
/// m.emit(&mut out);
/// assert_eq!(out, bytes);
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct StopControlConnectionReply {
    /// Header Reserved0 (must be 0; kept as received).
    pub reserved0: u16,
    /// Result Code.
    pub result_code: StopControlConnectionResult,
    /// Error Code.
    pub error_code: GeneralError,
    /// Reserved1 (must be 0; kept as received).
    pub reserved1: u16,
}

impl StopControlConnectionReply {
    fn parse_body(reserved0: u16, i: &[u8]) -> IResult<&[u8], Self> {
        let (i, (result, error, reserved1)) = tuple((be_u8, be_u8, be_u16))(i)?;
        let message = Self {
            reserved0,
            result_code: StopControlConnectionResult(result),
            error_code: GeneralError(error),
            reserved1,
        };
        Ok((i, message))
    }

    fn emit_body<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(self.result_code.0);
        buf.put_u8(self.error_code.0);
        buf.put_u16(self.reserved1);
    }
}

impl fmt::Display for StopControlConnectionReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[PPTP StopCCRP result={} error={}]",
            self.result_code, self.error_code
        )
    }
}

/// Echo-Request (RFC 2637 §2.5): the control connection keepalive.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::{EchoReply, EchoRequest};
/// use pptp_proto::wire::Error;
///
/// let bytes = [
///     0x00, 0x10, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x05, 0x00, 0x00, // header
///     0x00, 0x00, 0x00, 0x2a, // Identifier
/// ];
/// let m = EchoRequest::parse(&bytes)?;
/// assert_eq!((m.identifier, m.buffer_len()), (42, 16));
/// let mut out = Vec::new();
/// m.emit(&mut out);
/// assert_eq!(out, bytes);
///
/// // Each message type's parse accepts only its own type.
/// let err = EchoReply::parse(&bytes).unwrap_err();
/// assert!(matches!(err, Error::BadField { field: "control message type", value: 5, .. }));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct EchoRequest {
    /// Header Reserved0 (must be 0; kept as received).
    pub reserved0: u16,
    /// Identifier, echoed in the reply.
    pub identifier: u32,
}

impl EchoRequest {
    fn parse_body(reserved0: u16, i: &[u8]) -> IResult<&[u8], Self> {
        let (i, identifier) = be_u32(i)?;
        Ok((
            i,
            Self {
                reserved0,
                identifier,
            },
        ))
    }

    fn emit_body<B: BufMut>(&self, buf: &mut B) {
        buf.put_u32(self.identifier);
    }
}

impl fmt::Display for EchoRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[PPTP ECHORQ id={:#x}]", self.identifier)
    }
}

/// Echo-Reply (RFC 2637 §2.6).
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::{EchoReply, EchoRequest, EchoResult};
///
/// let request = EchoRequest { identifier: 42, ..Default::default() };
/// let reply = EchoReply { identifier: request.identifier, result_code: EchoResult::OK, ..Default::default() };
/// let mut buf = Vec::new();
/// reply.emit(&mut buf);
/// assert_eq!(reply.buffer_len(), 20);
/// assert_eq!(buf[12..], [0, 0, 0, 42, 1, 0, 0, 0]); // Identifier, Result, Error, Reserved1
/// assert_eq!(EchoReply::parse(&buf)?, reply);
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct EchoReply {
    /// Header Reserved0 (must be 0; kept as received).
    pub reserved0: u16,
    /// Identifier copied from the Echo-Request.
    pub identifier: u32,
    /// Result Code.
    pub result_code: EchoResult,
    /// Error Code.
    pub error_code: GeneralError,
    /// Reserved1 (must be 0; kept as received).
    pub reserved1: u16,
}

impl EchoReply {
    fn parse_body(reserved0: u16, i: &[u8]) -> IResult<&[u8], Self> {
        let (i, (identifier, result, error, reserved1)) = tuple((be_u32, be_u8, be_u8, be_u16))(i)?;
        let message = Self {
            reserved0,
            identifier,
            result_code: EchoResult(result),
            error_code: GeneralError(error),
            reserved1,
        };
        Ok((i, message))
    }

    fn emit_body<B: BufMut>(&self, buf: &mut B) {
        buf.put_u32(self.identifier);
        buf.put_u8(self.result_code.0);
        buf.put_u8(self.error_code.0);
        buf.put_u16(self.reserved1);
    }
}

impl fmt::Display for EchoReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[PPTP ECHORP id={:#x} result={} error={}]",
            self.identifier, self.result_code, self.error_code
        )
    }
}

/// Outgoing-Call-Request (RFC 2637 §2.7), sent by the PNS to open a call.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::*;
///
/// let ocrq = OutgoingCallRequest {
///     call_id: 1,
///     call_serial_number: 1,
///     minimum_bps: 300,
///     maximum_bps: 100_000_000,
///     bearer_type: BearerType::EITHER,
///     framing_type: FramingType::EITHER,
///     packet_recv_window_size: 64,
///     ..Default::default()
/// };
/// let mut buf = Vec::new();
/// ocrq.emit(&mut buf);
/// assert_eq!(buf.len(), ocrq.buffer_len()); // 168 bytes
/// let parsed = OutgoingCallRequest::parse(&buf)?;
/// assert_eq!(parsed, ocrq);
/// assert!(parsed.phone_number.is_empty());
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct OutgoingCallRequest {
    /// Header Reserved0 (must be 0; kept as received).
    pub reserved0: u16,
    /// Call ID chosen by the PNS (the PAC puts it in GRE packets it sends).
    pub call_id: u16,
    /// Call Serial Number, for logging.
    pub call_serial_number: u16,
    /// Minimum BPS acceptable for the call.
    pub minimum_bps: u32,
    /// Maximum BPS acceptable for the call.
    pub maximum_bps: u32,
    /// Bearer Type wanted.
    pub bearer_type: BearerType,
    /// Framing Type wanted.
    pub framing_type: FramingType,
    /// Packet Recv. Window Size: GRE packets the PNS can buffer for this call.
    pub packet_recv_window_size: u16,
    /// Packet Processing Delay, in 1/10 seconds.
    pub packet_processing_delay: u16,
    /// Phone Number Length: the digits used in Phone Number.
    pub phone_number_length: u16,
    /// Reserved1 (must be 0; kept as received).
    pub reserved1: u16,
    /// Phone Number to dial.
    pub phone_number: FixedStr<64>,
    /// Subaddress: extra dialing information.
    pub subaddress: FixedStr<64>,
}

impl OutgoingCallRequest {
    fn parse_body(reserved0: u16, i: &[u8]) -> IResult<&[u8], Self> {
        let (i, (call_id, call_serial_number, minimum_bps, maximum_bps, bearer, framing)) =
            tuple((be_u16, be_u16, be_u32, be_u32, be_u32, be_u32))(i)?;
        let (i, (window, delay, phone_number_length, reserved1, phone_number, subaddress)) =
            tuple((be_u16, be_u16, be_u16, be_u16, fixed_str, fixed_str))(i)?;
        let message = Self {
            reserved0,
            call_id,
            call_serial_number,
            minimum_bps,
            maximum_bps,
            bearer_type: BearerType::from_bits_retain(bearer),
            framing_type: FramingType::from_bits_retain(framing),
            packet_recv_window_size: window,
            packet_processing_delay: delay,
            phone_number_length,
            reserved1,
            phone_number,
            subaddress,
        };
        Ok((i, message))
    }

    fn emit_body<B: BufMut>(&self, buf: &mut B) {
        buf.put_u16(self.call_id);
        buf.put_u16(self.call_serial_number);
        buf.put_u32(self.minimum_bps);
        buf.put_u32(self.maximum_bps);
        buf.put_u32(self.bearer_type.bits());
        buf.put_u32(self.framing_type.bits());
        buf.put_u16(self.packet_recv_window_size);
        buf.put_u16(self.packet_processing_delay);
        buf.put_u16(self.phone_number_length);
        buf.put_u16(self.reserved1);
        buf.put_slice(&self.phone_number.0);
        buf.put_slice(&self.subaddress.0);
    }
}

impl fmt::Display for OutgoingCallRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[PPTP OCRQ call={} serial={} min_bps={} max_bps={} bearer={} framing={} window={} \
             delay={} phone={:?} subaddr={:?}]",
            self.call_id,
            self.call_serial_number,
            self.minimum_bps,
            self.maximum_bps,
            self.bearer_type,
            self.framing_type,
            self.packet_recv_window_size,
            self.packet_processing_delay,
            self.phone_number,
            self.subaddress
        )
    }
}

/// Outgoing-Call-Reply (RFC 2637 §2.8), the PAC's answer to an
/// Outgoing-Call-Request.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::{GeneralError, OutgoingCallReply, OutgoingCallResult};
///
/// let bytes = [
///     0x00, 0x20, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x08, 0x00, 0x00, // header
///     0x10, 0x93, 0x10, 0x92, // Call ID, Peer's Call ID
///     0x04, 0x04, 0x00, 0x2a, // Result Code, Error Code, Cause Code
///     0x00, 0x00, 0x13, 0x88, // Connect Speed
///     0x00, 0x20, 0x00, 0x03, // Packet Recv. Window Size, Packet Processing Delay
///     0x00, 0x00, 0x00, 0x2a, // Physical Channel ID
/// ];
/// let m = OutgoingCallReply::parse(&bytes)?;
/// assert_eq!((m.call_id, m.peer_call_id), (0x1093, 0x1092));
/// assert_eq!((m.result_code, m.error_code), (OutgoingCallResult::BUSY, GeneralError::NO_RESOURCE));
/// assert_eq!((m.connect_speed, m.packet_recv_window_size), (5000, 32));
/// let mut out = Vec::new();
/// m.emit(&mut out);
/// assert_eq!((out.len(), m.buffer_len()), (bytes.len(), bytes.len()));
/// assert_eq!(out, bytes);
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct OutgoingCallReply {
    /// Header Reserved0 (must be 0; kept as received).
    pub reserved0: u16,
    /// Call ID chosen by the PAC (the PNS puts it in GRE packets it sends).
    pub call_id: u16,
    /// Peer's Call ID: the Call ID of the Outgoing-Call-Request.
    pub peer_call_id: u16,
    /// Result Code.
    pub result_code: OutgoingCallResult,
    /// Error Code.
    pub error_code: GeneralError,
    /// Cause Code: extra failure information (for example a Q.931 cause).
    pub cause_code: u16,
    /// Connect Speed in bits per second.
    pub connect_speed: u32,
    /// Packet Recv. Window Size: GRE packets the PAC can buffer for this call.
    pub packet_recv_window_size: u16,
    /// Packet Processing Delay, in 1/10 seconds.
    pub packet_processing_delay: u16,
    /// Physical Channel ID, for logging.
    pub physical_channel_id: u32,
}

impl OutgoingCallReply {
    fn parse_body(reserved0: u16, i: &[u8]) -> IResult<&[u8], Self> {
        let (i, (call_id, peer_call_id, result, error, cause_code, connect_speed)) =
            tuple((be_u16, be_u16, be_u8, be_u8, be_u16, be_u32))(i)?;
        let (i, (window, delay, physical_channel_id)) = tuple((be_u16, be_u16, be_u32))(i)?;
        let message = Self {
            reserved0,
            call_id,
            peer_call_id,
            result_code: OutgoingCallResult(result),
            error_code: GeneralError(error),
            cause_code,
            connect_speed,
            packet_recv_window_size: window,
            packet_processing_delay: delay,
            physical_channel_id,
        };
        Ok((i, message))
    }

    fn emit_body<B: BufMut>(&self, buf: &mut B) {
        buf.put_u16(self.call_id);
        buf.put_u16(self.peer_call_id);
        buf.put_u8(self.result_code.0);
        buf.put_u8(self.error_code.0);
        buf.put_u16(self.cause_code);
        buf.put_u32(self.connect_speed);
        buf.put_u16(self.packet_recv_window_size);
        buf.put_u16(self.packet_processing_delay);
        buf.put_u32(self.physical_channel_id);
    }
}

impl fmt::Display for OutgoingCallReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[PPTP OCRP call={} peer_call={} result={} error={} cause={} speed={} window={} \
             delay={} channel={}]",
            self.call_id,
            self.peer_call_id,
            self.result_code,
            self.error_code,
            self.cause_code,
            self.connect_speed,
            self.packet_recv_window_size,
            self.packet_processing_delay,
            self.physical_channel_id
        )
    }
}

/// Incoming-Call-Request (RFC 2637 §2.9), sent by the PAC for an inbound call.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::{BearerType, IncomingCallRequest};
///
/// let icrq = IncomingCallRequest {
///     call_id: 7,
///     call_bearer_type: BearerType::DIGITAL,
///     dialed_number_length: 4,
///     dialed_number: "5551".into(),
///     dialing_number_length: 3,
///     dialing_number: "911".into(),
///     ..Default::default()
/// };
/// let mut buf = Vec::new();
/// icrq.emit(&mut buf);
/// assert_eq!(buf.len(), icrq.buffer_len()); // 220 bytes, the largest message
/// let parsed = IncomingCallRequest::parse(&buf)?;
/// assert_eq!(parsed, icrq);
/// assert_eq!(parsed.dialing_number.to_string(), "911");
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct IncomingCallRequest {
    /// Header Reserved0 (must be 0; kept as received).
    pub reserved0: u16,
    /// Call ID chosen by the PAC.
    pub call_id: u16,
    /// Call Serial Number, for logging.
    pub call_serial_number: u16,
    /// Call Bearer Type of the inbound call.
    pub call_bearer_type: BearerType,
    /// Physical Channel ID, for logging.
    pub physical_channel_id: u32,
    /// Dialed Number Length: the digits used in Dialed Number.
    pub dialed_number_length: u16,
    /// Dialing Number Length: the digits used in Dialing Number.
    pub dialing_number_length: u16,
    /// Dialed Number (DNIS).
    pub dialed_number: FixedStr<64>,
    /// Dialing Number (calling line ID).
    pub dialing_number: FixedStr<64>,
    /// Subaddress.
    pub subaddress: FixedStr<64>,
}

impl IncomingCallRequest {
    fn parse_body(reserved0: u16, i: &[u8]) -> IResult<&[u8], Self> {
        let (i, (call_id, call_serial_number, bearer, physical_channel_id)) =
            tuple((be_u16, be_u16, be_u32, be_u32))(i)?;
        let (i, (dialed_number_length, dialing_number_length)) = tuple((be_u16, be_u16))(i)?;
        let (i, (dialed_number, dialing_number, subaddress)) =
            tuple((fixed_str, fixed_str, fixed_str))(i)?;
        let message = Self {
            reserved0,
            call_id,
            call_serial_number,
            call_bearer_type: BearerType::from_bits_retain(bearer),
            physical_channel_id,
            dialed_number_length,
            dialing_number_length,
            dialed_number,
            dialing_number,
            subaddress,
        };
        Ok((i, message))
    }

    fn emit_body<B: BufMut>(&self, buf: &mut B) {
        buf.put_u16(self.call_id);
        buf.put_u16(self.call_serial_number);
        buf.put_u32(self.call_bearer_type.bits());
        buf.put_u32(self.physical_channel_id);
        buf.put_u16(self.dialed_number_length);
        buf.put_u16(self.dialing_number_length);
        buf.put_slice(&self.dialed_number.0);
        buf.put_slice(&self.dialing_number.0);
        buf.put_slice(&self.subaddress.0);
    }
}

impl fmt::Display for IncomingCallRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[PPTP ICRQ call={} serial={} bearer={} channel={} dialed={:?} dialing={:?} \
             subaddr={:?}]",
            self.call_id,
            self.call_serial_number,
            self.call_bearer_type,
            self.physical_channel_id,
            self.dialed_number,
            self.dialing_number,
            self.subaddress
        )
    }
}

/// Incoming-Call-Reply (RFC 2637 §2.10), the PNS's answer to an
/// Incoming-Call-Request.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::{IncomingCallReply, IncomingCallResult};
/// use pptp_proto::wire::Error;
///
/// let mut bytes = [
///     0x00, 0x94, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x0a, 0x00, 0x00, // header
///     0x10, 0x93, 0x10, 0x92, // Call ID, Peer's Call ID
///     0x01, 0x00, 0x00, 0x10, // Result Code, Error Code, Packet Recv. Window Size
///     0x00, 0x2a, 0x00, 0x00, // Packet Transmit Delay, Reserved1
/// ];
/// // Length says 148 (0x94), but an Incoming-Call-Reply is always 24 bytes.
/// let err = IncomingCallReply::parse(&bytes).unwrap_err();
/// assert_eq!(err, Error::BadLength { what: "ICRP", length: 148, expected: "24" });
///
/// bytes[1] = 24;
/// let m = IncomingCallReply::parse(&bytes)?;
/// assert_eq!((m.call_id, m.peer_call_id, m.result_code), (0x1093, 0x1092, IncomingCallResult::CONNECT));
/// assert_eq!((m.packet_recv_window_size, m.packet_transmit_delay), (16, 42));
/// let mut out = Vec::new();
/// m.emit(&mut out);
/// assert_eq!((out.len(), out), (m.buffer_len(), bytes.to_vec()));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct IncomingCallReply {
    /// Header Reserved0 (must be 0; kept as received).
    pub reserved0: u16,
    /// Call ID chosen by the PNS.
    pub call_id: u16,
    /// Peer's Call ID: the Call ID of the Incoming-Call-Request.
    pub peer_call_id: u16,
    /// Result Code.
    pub result_code: IncomingCallResult,
    /// Error Code.
    pub error_code: GeneralError,
    /// Packet Recv. Window Size: GRE packets the PNS can buffer for this call.
    pub packet_recv_window_size: u16,
    /// Packet Transmit Delay, in 1/10 seconds.
    pub packet_transmit_delay: u16,
    /// Reserved1 (must be 0; kept as received).
    pub reserved1: u16,
}

impl IncomingCallReply {
    fn parse_body(reserved0: u16, i: &[u8]) -> IResult<&[u8], Self> {
        let (i, (call_id, peer_call_id, result, error, window, delay, reserved1)) =
            tuple((be_u16, be_u16, be_u8, be_u8, be_u16, be_u16, be_u16))(i)?;
        let message = Self {
            reserved0,
            call_id,
            peer_call_id,
            result_code: IncomingCallResult(result),
            error_code: GeneralError(error),
            packet_recv_window_size: window,
            packet_transmit_delay: delay,
            reserved1,
        };
        Ok((i, message))
    }

    fn emit_body<B: BufMut>(&self, buf: &mut B) {
        buf.put_u16(self.call_id);
        buf.put_u16(self.peer_call_id);
        buf.put_u8(self.result_code.0);
        buf.put_u8(self.error_code.0);
        buf.put_u16(self.packet_recv_window_size);
        buf.put_u16(self.packet_transmit_delay);
        buf.put_u16(self.reserved1);
    }
}

impl fmt::Display for IncomingCallReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[PPTP ICRP call={} peer_call={} result={} error={} window={} delay={}]",
            self.call_id,
            self.peer_call_id,
            self.result_code,
            self.error_code,
            self.packet_recv_window_size,
            self.packet_transmit_delay
        )
    }
}

/// Incoming-Call-Connected (RFC 2637 §2.11), the PAC's third message of an
/// inbound call setup.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::{FramingType, IncomingCallConnected};
///
/// let bytes = [
///     0x00, 0x1c, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x0b, 0x00, 0x00, // header
///     0x10, 0x92, 0x00, 0x00, // Peer's Call ID, Reserved1
///     0x02, 0xd4, 0x68, 0x3b, // Connect Speed
///     0x00, 0x10, 0x00, 0x07, // Packet Recv. Window Size, Packet Transmit Delay
///     0x00, 0x00, 0x00, 0x03, // Framing Type
/// ];
/// let m = IncomingCallConnected::parse(&bytes)?;
/// assert_eq!((m.peer_call_id, m.connect_speed), (0x1092, 47_474_747));
/// assert_eq!(m.framing_type, FramingType::EITHER);
/// let mut out = Vec::new();
/// m.emit(&mut out);
/// assert_eq!((m.buffer_len(), out), (28, bytes.to_vec()));
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct IncomingCallConnected {
    /// Header Reserved0 (must be 0; kept as received).
    pub reserved0: u16,
    /// Peer's Call ID: the Call ID of the Incoming-Call-Reply.
    pub peer_call_id: u16,
    /// Reserved1 (must be 0; kept as received).
    pub reserved1: u16,
    /// Connect Speed in bits per second.
    pub connect_speed: u32,
    /// Packet Recv. Window Size: GRE packets the PAC can buffer for this call.
    pub packet_recv_window_size: u16,
    /// Packet Transmit Delay, in 1/10 seconds.
    pub packet_transmit_delay: u16,
    /// Framing Type of the call.
    pub framing_type: FramingType,
}

impl IncomingCallConnected {
    fn parse_body(reserved0: u16, i: &[u8]) -> IResult<&[u8], Self> {
        let (i, (peer_call_id, reserved1, connect_speed, window, delay, framing)) =
            tuple((be_u16, be_u16, be_u32, be_u16, be_u16, be_u32))(i)?;
        let message = Self {
            reserved0,
            peer_call_id,
            reserved1,
            connect_speed,
            packet_recv_window_size: window,
            packet_transmit_delay: delay,
            framing_type: FramingType::from_bits_retain(framing),
        };
        Ok((i, message))
    }

    fn emit_body<B: BufMut>(&self, buf: &mut B) {
        buf.put_u16(self.peer_call_id);
        buf.put_u16(self.reserved1);
        buf.put_u32(self.connect_speed);
        buf.put_u16(self.packet_recv_window_size);
        buf.put_u16(self.packet_transmit_delay);
        buf.put_u32(self.framing_type.bits());
    }
}

impl fmt::Display for IncomingCallConnected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[PPTP ICCN peer_call={} speed={} window={} delay={} framing={}]",
            self.peer_call_id,
            self.connect_speed,
            self.packet_recv_window_size,
            self.packet_transmit_delay,
            self.framing_type
        )
    }
}

/// Call-Clear-Request (RFC 2637 §2.12), sent by the PNS to end a call.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::CallClearRequest;
/// use pptp_proto::wire::Error;
///
/// let bytes = [
///     0x00, 0x10, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x0c, 0x00, 0x00, // header
///     0x10, 0x92, 0x00, 0x00, // Call ID, Reserved1
/// ];
/// let m = CallClearRequest::parse(&bytes)?;
/// assert_eq!(m, CallClearRequest { call_id: 0x1092, ..Default::default() });
/// let mut out = Vec::new();
/// m.emit(&mut out);
/// assert_eq!((m.buffer_len(), out), (16, bytes.to_vec()));
///
/// let err = CallClearRequest::parse(&bytes[..15]).unwrap_err();
/// assert_eq!(err, Error::Truncated { what: "CCRQ", needed: 16, available: 15 });
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CallClearRequest {
    /// Header Reserved0 (must be 0; kept as received).
    pub reserved0: u16,
    /// Call ID: the PNS's own Call ID for the call.
    pub call_id: u16,
    /// Reserved1 (must be 0; kept as received).
    pub reserved1: u16,
}

impl CallClearRequest {
    fn parse_body(reserved0: u16, i: &[u8]) -> IResult<&[u8], Self> {
        let (i, (call_id, reserved1)) = tuple((be_u16, be_u16))(i)?;
        let message = Self {
            reserved0,
            call_id,
            reserved1,
        };
        Ok((i, message))
    }

    fn emit_body<B: BufMut>(&self, buf: &mut B) {
        buf.put_u16(self.call_id);
        buf.put_u16(self.reserved1);
    }
}

impl fmt::Display for CallClearRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[PPTP CCRQ call={}]", self.call_id)
    }
}

/// Call-Disconnect-Notify (RFC 2637 §2.13), sent by the PAC when a call ends.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::{CallDisconnectNotify, CallDisconnectResult};
///
/// let cdn = CallDisconnectNotify {
///     call_id: 7,
///     result_code: CallDisconnectResult::REQUEST,
///     call_statistics: "rx 1234 tx 5678".into(),
///     ..Default::default()
/// };
/// let mut buf = Vec::new();
/// cdn.emit(&mut buf);
/// assert_eq!(buf.len(), cdn.buffer_len()); // 148 bytes
/// let parsed = CallDisconnectNotify::parse(&buf)?;
/// assert_eq!(parsed, cdn);
/// assert_eq!(parsed.call_statistics.to_string_lossy(), "rx 1234 tx 5678");
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CallDisconnectNotify {
    /// Header Reserved0 (must be 0; kept as received).
    pub reserved0: u16,
    /// Call ID: the PAC's own Call ID for the call.
    pub call_id: u16,
    /// Result Code.
    pub result_code: CallDisconnectResult,
    /// Error Code.
    pub error_code: GeneralError,
    /// Cause Code: extra disconnect information.
    pub cause_code: u16,
    /// Reserved1 (must be 0; kept as received).
    pub reserved1: u16,
    /// Call Statistics: vendor text for logging.
    pub call_statistics: FixedStr<128>,
}

impl CallDisconnectNotify {
    fn parse_body(reserved0: u16, i: &[u8]) -> IResult<&[u8], Self> {
        let (i, (call_id, result, error, cause_code, reserved1, call_statistics)) =
            tuple((be_u16, be_u8, be_u8, be_u16, be_u16, fixed_str))(i)?;
        let message = Self {
            reserved0,
            call_id,
            result_code: CallDisconnectResult(result),
            error_code: GeneralError(error),
            cause_code,
            reserved1,
            call_statistics,
        };
        Ok((i, message))
    }

    fn emit_body<B: BufMut>(&self, buf: &mut B) {
        buf.put_u16(self.call_id);
        buf.put_u8(self.result_code.0);
        buf.put_u8(self.error_code.0);
        buf.put_u16(self.cause_code);
        buf.put_u16(self.reserved1);
        buf.put_slice(&self.call_statistics.0);
    }
}

impl fmt::Display for CallDisconnectNotify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[PPTP CDN call={} result={} error={} cause={} stats={:?}]",
            self.call_id, self.result_code, self.error_code, self.cause_code, self.call_statistics
        )
    }
}

/// WAN-Error-Notify (RFC 2637 §2.14): the PAC's cumulative error counters.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::WanErrorNotify;
///
/// let wen = WanErrorNotify { peer_call_id: 7, crc_errors: 3, timeout_errors: 1, ..Default::default() };
/// let mut buf = Vec::new();
/// wen.emit(&mut buf);
/// assert_eq!(buf.len(), wen.buffer_len()); // 40 bytes
/// assert_eq!(buf[16..20], [0, 0, 0, 3]); // CRC Errors
/// assert_eq!(WanErrorNotify::parse(&buf)?, wen);
/// assert_eq!(
///     wen.to_string(),
///     "[PPTP WEN peer_call=7 crc=3 framing=0 hw_overruns=0 buf_overruns=0 timeout=1 alignment=0]"
/// );
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct WanErrorNotify {
    /// Header Reserved0 (must be 0; kept as received).
    pub reserved0: u16,
    /// Peer's Call ID: the PNS's Call ID for the call.
    pub peer_call_id: u16,
    /// Reserved1 (must be 0; kept as received).
    pub reserved1: u16,
    /// CRC Errors: PPP frames received with CRC errors.
    pub crc_errors: u32,
    /// Framing Errors: improperly framed PPP packets received.
    pub framing_errors: u32,
    /// Hardware Overruns: receive buffer overruns.
    pub hardware_overruns: u32,
    /// Buffer Overruns: buffer overruns detected.
    pub buffer_overruns: u32,
    /// Time-out Errors.
    pub timeout_errors: u32,
    /// Alignment Errors.
    pub alignment_errors: u32,
}

impl WanErrorNotify {
    fn parse_body(reserved0: u16, i: &[u8]) -> IResult<&[u8], Self> {
        let (i, (peer_call_id, reserved1)) = tuple((be_u16, be_u16))(i)?;
        let (i, (crc, framing, hardware, buffer, timeout, alignment)) =
            tuple((be_u32, be_u32, be_u32, be_u32, be_u32, be_u32))(i)?;
        let message = Self {
            reserved0,
            peer_call_id,
            reserved1,
            crc_errors: crc,
            framing_errors: framing,
            hardware_overruns: hardware,
            buffer_overruns: buffer,
            timeout_errors: timeout,
            alignment_errors: alignment,
        };
        Ok((i, message))
    }

    fn emit_body<B: BufMut>(&self, buf: &mut B) {
        buf.put_u16(self.peer_call_id);
        buf.put_u16(self.reserved1);
        buf.put_u32(self.crc_errors);
        buf.put_u32(self.framing_errors);
        buf.put_u32(self.hardware_overruns);
        buf.put_u32(self.buffer_overruns);
        buf.put_u32(self.timeout_errors);
        buf.put_u32(self.alignment_errors);
    }
}

impl fmt::Display for WanErrorNotify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[PPTP WEN peer_call={} crc={} framing={} hw_overruns={} buf_overruns={} timeout={} \
             alignment={}]",
            self.peer_call_id,
            self.crc_errors,
            self.framing_errors,
            self.hardware_overruns,
            self.buffer_overruns,
            self.timeout_errors,
            self.alignment_errors
        )
    }
}

/// Set-Link-Info (RFC 2637 §2.15): the PNS tells the PAC the negotiated
/// PPP ACCMs.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::control::SetLinkInfo;
///
/// // After LCP, the PNS tells the PAC that no characters need escaping.
/// let sli = SetLinkInfo { peer_call_id: 7, send_accm: 0, receive_accm: 0, ..Default::default() };
/// let mut buf = Vec::new();
/// sli.emit(&mut buf);
/// assert_eq!(buf.len(), sli.buffer_len()); // 24 bytes
/// assert_eq!(buf[12..16], [0, 7, 0, 0]); // Peer's Call ID, Reserved1
/// assert_eq!(SetLinkInfo::parse(&buf)?, sli);
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SetLinkInfo {
    /// Header Reserved0 (must be 0; kept as received).
    pub reserved0: u16,
    /// Peer's Call ID: the PAC's Call ID for the call.
    pub peer_call_id: u16,
    /// Reserved1 (must be 0; kept as received).
    pub reserved1: u16,
    /// Send ACCM the PAC should use.
    pub send_accm: u32,
    /// Receive ACCM the PAC should use.
    pub receive_accm: u32,
}

impl SetLinkInfo {
    fn parse_body(reserved0: u16, i: &[u8]) -> IResult<&[u8], Self> {
        let (i, (peer_call_id, reserved1, send_accm, receive_accm)) =
            tuple((be_u16, be_u16, be_u32, be_u32))(i)?;
        let message = Self {
            reserved0,
            peer_call_id,
            reserved1,
            send_accm,
            receive_accm,
        };
        Ok((i, message))
    }

    fn emit_body<B: BufMut>(&self, buf: &mut B) {
        buf.put_u16(self.peer_call_id);
        buf.put_u16(self.reserved1);
        buf.put_u32(self.send_accm);
        buf.put_u32(self.receive_accm);
    }
}

impl fmt::Display for SetLinkInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[PPTP SLI peer_call={} send_accm={:#010x} recv_accm={:#010x}]",
            self.peer_call_id, self.send_accm, self.receive_accm
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::{format, vec, vec::Vec};
    use proptest::collection::vec as vec_of;
    use proptest::prelude::*;

    // scapy test/scapy/layers/pptp.uts (vectors/README.md §9), hex as printed there.
    const SCCRQ: &str = concat!(
        "009c00011a2b3c4d00010000010000000000000100000002002a00",
        "2f7465737420686f7374206e616d65000000000000000000000000",
        "000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000746573742076656e646f722073747269",
        "6e6700000000000000000000000000000000000000000000000000",
        "000000000000000000000000000000000000000000",
    );
    const SCCRP: &str = concat!(
        "009c00011a2b3c4d00020000010002010000000200000001ffff0",
        "1006c696e75780000000000000000000000000000000000000000",
        "00000000000000000000000000000000000000000000000000000",
        "000000000000000000000000076656e646f720000000000000000",
        "00000000000000000000000000000000000000000000000000000",
        "00000000000000000000000000000000000000000000000",
    );
    const STOP_CCRQ: &str = "001000011a2b3c4d0003000003000000";
    const STOP_CCRP: &str = "001000011a2b3c4d0004000002060000";
    const ECHO_REQUEST: &str = "001000011a2b3c4d000500000000002a";
    const ECHO_REPLY: &str = "001400011a2b3c4d000600000000002a01000000";
    const OCRQ: &str = concat!(
        "00a800011a2b3c4d000700001092002f000003e8000027100000000200",
        "0000030010000100090000313233343536373839000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000746573740000000000000000",
        "0000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000",
    );
    const OCRP: &str = "002000011a2b3c4d00080000109310920404002a00001388002000030000002a";
    const ICRQ: &str = concat!(
        "00dc00011a2b3c4d000900001092002f000000020000000c0009000a313233343536373839",
        "00000000000000000000000000000000000000000000000000000000000000000000000000",
        "00000000000000000000000000000000000030313233343536373839000000000000000000",
        "00000000000000000000000000000000000000000000000000000000000000000000000000",
        "00000000000000007465737400000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000000000000",
    );
    /// scapy's ICRP: 24 bytes but Length 0x94 (148), a scapy bug.
    const ICRP_SCAPY_BAD_LENGTH: &str = "009400011a2b3c4d000a00001093109201000010002a0000";
    const ICCN: &str = "001c00011a2b3c4d000b00001092000002d4683b0010000700000003";
    const CCRQ: &str = "001000011a2b3c4d000c000010920000";
    const CDN: &str = concat!(
        "009400011a2b3c4d000d000010920300002f0000736f6d65206465736372697074696",
        "f6e000000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000000000000000000000000000000000000000000000000",
        "00000000000000000000",
    );
    const WEN: &str =
        "002800011a2b3c4d000e000010920000000000010000000200000003000000040000000500000006";
    const SLI: &str = "001800011a2b3c4d000f0000109200000f0f0f0ff0f0f0f0";

    /// Every valid scapy vector, in Control Message Type order (ICRP aside).
    const VECTORS: [&str; 14] = [
        SCCRQ,
        SCCRP,
        STOP_CCRQ,
        STOP_CCRP,
        ECHO_REQUEST,
        ECHO_REPLY,
        OCRQ,
        OCRP,
        ICRQ,
        ICCN,
        CCRQ,
        CDN,
        WEN,
        SLI,
    ];

    fn bytes(hex: &str) -> Vec<u8> {
        hex::decode(hex).expect("test vector is hex")
    }

    fn emit(message: &ControlMessage) -> Vec<u8> {
        let mut out = Vec::new();
        message.emit(&mut out);
        out
    }

    /// Parses a vector, checks that it re-emits byte for byte, returns it.
    fn roundtrip(hex: &str) -> ControlMessage {
        let wire = bytes(hex);
        let message = ControlMessage::parse(&wire).expect("vector parses");
        assert_eq!(message.buffer_len(), wire.len());
        assert_eq!(emit(&message), wire, "re-emit of {message}");
        assert_eq!(frame_length(&wire), Ok(Some(wire.len())));
        message
    }

    macro_rules! expect {
        ($message:expr, $variant:ident) => {
            match $message {
                ControlMessage::$variant(m) => m,
                other => panic!("expected {}, got {other:?}", stringify!($variant)),
            }
        };
    }

    /// The scapy ICRP with Length corrected to the RFC's 24.
    fn icrp_fixed() -> Vec<u8> {
        let mut wire = bytes(ICRP_SCAPY_BAD_LENGTH);
        wire[1] = 24;
        wire
    }

    #[test]
    fn scapy_start_control_connection() {
        let rq = expect!(roundtrip(SCCRQ), StartControlConnectionRequest);
        assert_eq!(rq.protocol_version, PROTOCOL_VERSION);
        assert_eq!(rq.framing_capabilities, FramingCapabilities::ASYNCHRONOUS);
        assert_eq!(rq.bearer_capabilities, BearerCapabilities::DIGITAL);
        assert_eq!(rq.maximum_channels, 42);
        assert_eq!(rq.firmware_revision, 47);
        assert_eq!(rq.host_name.as_bytes(), b"test host name");
        assert_eq!(rq.vendor_string.as_bytes(), b"test vendor string");

        let rp = expect!(roundtrip(SCCRP), StartControlConnectionReply);
        assert_eq!(rp.protocol_version, PROTOCOL_VERSION);
        assert_eq!(rp.result_code, StartControlConnectionResult::GENERAL_ERROR);
        assert_eq!(rp.error_code, GeneralError::NOT_CONNECTED);
        assert_eq!(rp.framing_capabilities, FramingCapabilities::SYNCHRONOUS);
        assert_eq!(rp.bearer_capabilities, BearerCapabilities::ANALOG);
        assert_eq!(rp.maximum_channels, 0xffff);
        assert_eq!(rp.firmware_revision, 0x0100);
        assert_eq!(rp.host_name.to_string_lossy(), "linux");
        assert_eq!(rp.vendor_string.to_string_lossy(), "vendor");
    }

    #[test]
    fn scapy_stop_control_connection() {
        let rq = expect!(roundtrip(STOP_CCRQ), StopControlConnectionRequest);
        assert_eq!(rq.reason, StopControlConnectionReason::STOP_LOCAL_SHUTDOWN);
        assert_eq!((rq.reserved0, rq.reserved1, rq.reserved2), (0, 0, 0));
        let rp = expect!(roundtrip(STOP_CCRP), StopControlConnectionReply);
        assert_eq!(rp.result_code, StopControlConnectionResult::GENERAL_ERROR);
        assert_eq!(rp.error_code, GeneralError::PAC_ERROR);
    }

    #[test]
    fn scapy_echo() {
        let rq = expect!(roundtrip(ECHO_REQUEST), EchoRequest);
        assert_eq!(rq.identifier, 42);
        let rp = expect!(roundtrip(ECHO_REPLY), EchoReply);
        assert_eq!(rp.identifier, 42);
        assert_eq!(rp.result_code, EchoResult::OK);
        assert_eq!(rp.error_code, GeneralError::NONE);
    }

    #[test]
    fn scapy_outgoing_call() {
        let rq = expect!(roundtrip(OCRQ), OutgoingCallRequest);
        assert_eq!((rq.call_id, rq.call_serial_number), (4242, 47));
        assert_eq!((rq.minimum_bps, rq.maximum_bps), (1000, 10000));
        assert_eq!(rq.bearer_type, BearerType::DIGITAL);
        assert_eq!(rq.framing_type, FramingType::EITHER);
        assert_eq!(rq.framing_type.bits(), 3);
        assert_eq!(
            (rq.packet_recv_window_size, rq.packet_processing_delay),
            (16, 1)
        );
        assert_eq!(rq.phone_number_length, 9);
        assert_eq!(rq.phone_number.as_bytes(), b"123456789");
        assert_eq!(rq.subaddress.as_bytes(), b"test");

        let rp = expect!(roundtrip(OCRP), OutgoingCallReply);
        assert_eq!((rp.call_id, rp.peer_call_id), (4243, 4242));
        assert_eq!(rp.result_code, OutgoingCallResult::BUSY);
        assert_eq!(rp.error_code, GeneralError::NO_RESOURCE);
        assert_eq!(rp.cause_code, 42);
        assert_eq!(rp.connect_speed, 5000);
        assert_eq!(
            (rp.packet_recv_window_size, rp.packet_processing_delay),
            (32, 3)
        );
        assert_eq!(rp.physical_channel_id, 42);
    }

    #[test]
    fn scapy_incoming_call() {
        let rq = expect!(roundtrip(ICRQ), IncomingCallRequest);
        assert_eq!((rq.call_id, rq.call_serial_number), (4242, 47));
        assert_eq!(rq.call_bearer_type, BearerType::DIGITAL);
        assert_eq!(rq.physical_channel_id, 12);
        assert_eq!((rq.dialed_number_length, rq.dialing_number_length), (9, 10));
        assert_eq!(rq.dialed_number.as_bytes(), b"123456789");
        assert_eq!(rq.dialing_number.as_bytes(), b"0123456789");
        assert_eq!(rq.subaddress.as_bytes(), b"test");

        let cn = expect!(roundtrip(ICCN), IncomingCallConnected);
        assert_eq!(cn.peer_call_id, 4242);
        assert_eq!(cn.connect_speed, 47_474_747);
        assert_eq!(
            (cn.packet_recv_window_size, cn.packet_transmit_delay),
            (16, 7)
        );
        assert_eq!(cn.framing_type, FramingType::EITHER);
    }

    #[test]
    fn scapy_icrp_length_148_is_rejected() {
        let wire = bytes(ICRP_SCAPY_BAD_LENGTH);
        let bad = Error::BadLength {
            what: "ICRP",
            length: 148,
            expected: "24",
        };
        assert_eq!(ControlMessage::parse(&wire), Err(bad.clone()));
        assert_eq!(IncomingCallReply::parse(&wire), Err(bad.clone()));
        assert_eq!(frame_length(&wire), Err(bad.clone()));
        // Even with 148 bytes present the Length disagrees with the type.
        let mut padded = wire.clone();
        padded.resize(148, 0);
        assert_eq!(ControlMessage::parse(&padded), Err(bad));
    }

    #[test]
    fn scapy_icrp_with_rfc_length() {
        let wire = icrp_fixed();
        let rp = IncomingCallReply::parse(&wire).expect("24-byte ICRP parses");
        assert_eq!((rp.call_id, rp.peer_call_id), (4243, 4242));
        assert_eq!(rp.result_code, IncomingCallResult::CONNECT);
        assert_eq!(rp.error_code, GeneralError::NONE);
        assert_eq!(
            (rp.packet_recv_window_size, rp.packet_transmit_delay),
            (16, 42)
        );
        assert_eq!(emit(&rp.into()), wire);
    }

    #[test]
    fn scapy_call_clear_and_disconnect() {
        let cc = expect!(roundtrip(CCRQ), CallClearRequest);
        assert_eq!(cc.call_id, 4242);
        let cdn = expect!(roundtrip(CDN), CallDisconnectNotify);
        assert_eq!(cdn.call_id, 4242);
        assert_eq!(cdn.result_code, CallDisconnectResult::ADMIN_SHUTDOWN);
        assert_eq!(cdn.error_code, GeneralError::NONE);
        assert_eq!(cdn.cause_code, 47);
        assert_eq!(cdn.call_statistics.as_bytes(), b"some description");
    }

    #[test]
    fn scapy_wan_error_and_set_link_info() {
        let wen = expect!(roundtrip(WEN), WanErrorNotify);
        assert_eq!(wen.peer_call_id, 4242);
        let counters = [
            wen.crc_errors,
            wen.framing_errors,
            wen.hardware_overruns,
            wen.buffer_overruns,
            wen.timeout_errors,
            wen.alignment_errors,
        ];
        assert_eq!(counters, [1, 2, 3, 4, 5, 6]);
        let sli = expect!(roundtrip(SLI), SetLinkInfo);
        assert_eq!(sli.peer_call_id, 4242);
        assert_eq!(
            (sli.send_accm, sli.receive_accm),
            (0x0f0f_0f0f, 0xf0f0_f0f0)
        );
    }

    #[test]
    fn vectors_cover_every_type_with_its_rfc_size() {
        let mut types: Vec<u16> = VECTORS
            .iter()
            .map(|hex| roundtrip(hex).message_type().0)
            .collect();
        types.push(
            ControlMessage::parse(&icrp_fixed())
                .unwrap()
                .message_type()
                .0,
        );
        types.sort_unstable();
        assert_eq!(types, (1..=15).collect::<Vec<u16>>());
        let sizes: Vec<usize> = (1..=15).filter_map(|t| MessageType(t).length()).collect();
        let rfc = [
            156, 156, 16, 16, 16, 20, 168, 32, 220, 24, 28, 16, 148, 40, 24,
        ];
        assert_eq!(sizes, rfc);
        assert_eq!(sizes.iter().max(), Some(&MAX_MESSAGE_LEN));
    }

    #[test]
    fn truncated_at_every_prefix() {
        let mut all: Vec<Vec<u8>> = VECTORS.iter().map(|hex| bytes(hex)).collect();
        all.push(icrp_fixed());
        for wire in &all {
            for n in 0..wire.len() {
                let prefix = &wire[..n];
                match ControlMessage::parse(prefix) {
                    Err(Error::Truncated {
                        needed, available, ..
                    }) => {
                        assert_eq!(available, n);
                        assert_eq!(
                            needed,
                            if n < HEADER_LEN {
                                HEADER_LEN
                            } else {
                                wire.len()
                            }
                        );
                    }
                    other => panic!("prefix {n} of {}: {other:?}", hex::encode(wire)),
                }
                let expected = if n < HEADER_LEN {
                    None
                } else {
                    Some(wire.len())
                };
                assert_eq!(frame_length(prefix), Ok(expected));
            }
        }
    }

    #[test]
    fn bad_magic_cookie() {
        let mut wire = bytes(ECHO_REQUEST);
        wire[7] = 0x4e;
        assert_eq!(
            ControlMessage::parse(&wire),
            Err(Error::BadMagicCookie(0x1a2b_3c4e))
        );
        assert_eq!(frame_length(&wire), Err(Error::BadMagicCookie(0x1a2b_3c4e)));
    }

    #[test]
    fn bad_pptp_message_type() {
        for pptp_type in [0u8, 2, 3] {
            let mut wire = bytes(SLI);
            wire[3] = pptp_type;
            let err = Error::BadPptpMessageType(pptp_type.into());
            assert_eq!(ControlMessage::parse(&wire), Err(err.clone()));
            assert_eq!(frame_length(&wire), Err(err));
        }
    }

    #[test]
    fn unknown_control_message_type() {
        for code in [0u16, 16, 0x100, 0xffff] {
            let mut wire = bytes(CCRQ);
            wire[8..10].copy_from_slice(&code.to_be_bytes());
            assert_eq!(
                ControlMessage::parse(&wire),
                Err(Error::UnknownMessageType(code))
            );
            assert_eq!(frame_length(&wire), Err(Error::UnknownMessageType(code)));
            assert_eq!(MessageType(code).length(), None);
        }
    }

    #[test]
    fn length_must_be_the_type_size() {
        for hex in VECTORS {
            let wire = bytes(hex);
            let size = wire.len();
            for length in [0, size - 1, size + 1, 0xffff] {
                let mut bad = wire.clone();
                bad[..2].copy_from_slice(&(length as u16).to_be_bytes());
                bad.resize(size.max(length), 0);
                match ControlMessage::parse(&bad) {
                    Err(Error::BadLength {
                        length: got,
                        expected,
                        ..
                    }) => {
                        assert_eq!(got, length);
                        assert_eq!(expected, size.to_string());
                    }
                    other => panic!("length {length} for {hex}: {other:?}"),
                }
                assert!(matches!(frame_length(&bad), Err(Error::BadLength { .. })));
            }
        }
    }

    #[test]
    fn typed_parse_rejects_other_types() {
        let wire = bytes(ECHO_REQUEST);
        assert_eq!(
            EchoReply::parse(&wire),
            Err(Error::BadField {
                what: "EchoReply",
                field: "control message type",
                value: 5,
            })
        );
        assert_eq!(EchoRequest::parse(&wire).map(|m| m.identifier), Ok(42));
    }

    #[test]
    fn coalesced_stream_splits_with_frame_length() {
        let stream: Vec<u8> = VECTORS.iter().flat_map(|hex| bytes(hex)).collect();
        let mut rest = &stream[..];
        let mut reemitted = Vec::new();
        let mut count = 0;
        while let Some(len) = frame_length(rest).expect("valid stream") {
            // parse looks only at the first message, whatever follows it.
            let message = ControlMessage::parse(rest).expect("message parses");
            assert_eq!(message.buffer_len(), len);
            message.emit(&mut reemitted);
            rest = &rest[len..];
            count += 1;
        }
        assert!(rest.is_empty());
        assert_eq!(count, VECTORS.len());
        assert_eq!(reemitted, stream);
    }

    #[test]
    fn reserved_fields_survive_roundtrip() {
        let mut wire = bytes(STOP_CCRQ);
        wire[10..16].copy_from_slice(&[0xde, 0xad, 0x03, 0x77, 0xbe, 0xef]);
        let rq = StopControlConnectionRequest::parse(&wire).unwrap();
        assert_eq!(
            (rq.reserved0, rq.reserved1, rq.reserved2),
            (0xdead, 0x77, 0xbeef)
        );
        let mut out = Vec::new();
        rq.emit(&mut out);
        assert_eq!(out, wire);
    }

    /// A message from hex for its fixed fields followed by NUL-padded strings.
    fn build(fixed_hex: &str, strings: &[(&str, usize)]) -> Vec<u8> {
        let mut wire = bytes(fixed_hex);
        for (text, width) in strings {
            let start = wire.len();
            wire.extend_from_slice(text.as_bytes());
            wire.resize(start + width, 0);
        }
        wire
    }

    // Golden values from captures/tcpdump_pptp-v.out (frames 5, 8, 10, 13, 15),
    // rebuilt in the RFC 2637 layout from tcpdump's decoded fields.
    #[test]
    fn tcpdump_sccrq_sccrp() {
        let fixed = "009c00011a2b3c4d00010000 0100 0000 00000001 00000001 0000 0870";
        let wire = build(
            &fixed.replace(' ', ""),
            &[("", 64), ("Microsoft Windows NT", 64)],
        );
        let message = roundtrip(&hex::encode(&wire));
        assert_eq!(
            message.to_string(),
            "[PPTP SCCRQ ver=1.0 framing=A bearer=A max_channels=0 firm=2160 host=\"\" \
             vendor=\"Microsoft Windows NT\"]"
        );

        let fixed = "009c00011a2b3c4d00020000 0100 01 00 00000000 00000000 0001 0001";
        let wire = build(
            &fixed.replace(' ', ""),
            &[("local", 64), ("MoretonBay", 64)],
        );
        let rp = expect!(roundtrip(&hex::encode(&wire)), StartControlConnectionReply);
        assert_eq!(rp.result_code, StartControlConnectionResult::SUCCESSFUL);
        assert_eq!(rp.error_code, GeneralError::NONE);
        assert_eq!(
            rp.to_string(),
            "[PPTP SCCRP ver=1.0 result=Successful error=None framing=none bearer=none \
             max_channels=1 firm=1 host=\"local\" vendor=\"MoretonBay\"]"
        );
    }

    #[test]
    fn tcpdump_ocrq_ocrp_sli() {
        let fixed = "00a800011a2b3c4d00070000 0000 7828 0000012c 05f5e100 00000003 00000003 \
                     0040 0000 0000 0000";
        let wire = build(&fixed.replace(' ', ""), &[("", 64), ("", 64)]);
        let rq = expect!(roundtrip(&hex::encode(&wire)), OutgoingCallRequest);
        assert_eq!((rq.call_id, rq.call_serial_number), (0, 30760));
        assert_eq!((rq.minimum_bps, rq.maximum_bps), (300, 100_000_000));
        assert_eq!(
            rq.to_string(),
            "[PPTP OCRQ call=0 serial=30760 min_bps=300 max_bps=100000000 bearer=AD \
             framing=AS window=64 delay=0 phone=\"\" subaddr=\"\"]"
        );

        let fixed = "002000011a2b3c4d00080000 0000 0000 01 00 0000 05f5e100 0040 0000 00000000";
        let rp = expect!(roundtrip(&fixed.replace(' ', "")), OutgoingCallReply);
        assert_eq!(rp.result_code, OutgoingCallResult::CONNECTED);
        assert_eq!(
            rp.to_string(),
            "[PPTP OCRP call=0 peer_call=0 result=Connected error=None cause=0 \
             speed=100000000 window=64 delay=0 channel=0]"
        );

        let fixed = "001800011a2b3c4d000f0000 0000 0000 ffffffff ffffffff";
        let sli = roundtrip(&fixed.replace(' ', ""));
        assert_eq!(
            sli.to_string(),
            "[PPTP SLI peer_call=0 send_accm=0xffffffff recv_accm=0xffffffff]"
        );
    }

    #[test]
    fn display_of_every_vector() {
        let expected = [
            "[PPTP SCCRQ ver=1.0 framing=A bearer=D max_channels=42 firm=47 \
             host=\"test host name\" vendor=\"test vendor string\"]",
            "[PPTP SCCRP ver=1.0 result=General-Error error=Not-Connected framing=S bearer=A \
             max_channels=65535 firm=256 host=\"linux\" vendor=\"vendor\"]",
            "[PPTP StopCCRQ reason=Stop-Local-Shutdown]",
            "[PPTP StopCCRP result=General-Error error=PAC-Error]",
            "[PPTP ECHORQ id=0x2a]",
            "[PPTP ECHORP id=0x2a result=OK error=None]",
            "[PPTP OCRQ call=4242 serial=47 min_bps=1000 max_bps=10000 bearer=D framing=AS \
             window=16 delay=1 phone=\"123456789\" subaddr=\"test\"]",
            "[PPTP OCRP call=4243 peer_call=4242 result=Busy error=No-Resource cause=42 \
             speed=5000 window=32 delay=3 channel=42]",
            "[PPTP ICRQ call=4242 serial=47 bearer=D channel=12 dialed=\"123456789\" \
             dialing=\"0123456789\" subaddr=\"test\"]",
            "[PPTP ICCN peer_call=4242 speed=47474747 window=16 delay=7 framing=AS]",
            "[PPTP CCRQ call=4242]",
            "[PPTP CDN call=4242 result=Admin-Shutdown error=None cause=47 \
             stats=\"some description\"]",
            "[PPTP WEN peer_call=4242 crc=1 framing=2 hw_overruns=3 buf_overruns=4 timeout=5 \
             alignment=6]",
            "[PPTP SLI peer_call=4242 send_accm=0x0f0f0f0f recv_accm=0xf0f0f0f0]",
        ];
        for (hex, text) in VECTORS.iter().zip(expected) {
            assert_eq!(roundtrip(hex).to_string(), text);
        }
        let icrp = ControlMessage::parse(&icrp_fixed()).unwrap();
        assert_eq!(
            icrp.to_string(),
            "[PPTP ICRP call=4243 peer_call=4242 result=Connect error=None window=16 delay=42]"
        );
    }

    #[test]
    fn display_of_unknown_codes_and_flags() {
        assert_eq!(OutgoingCallResult(9).to_string(), "0x9");
        assert_eq!(format!("{:?}", GeneralError(7)), "GeneralError(0x7)");
        assert_eq!(MessageType::SET_LINK_INFO.to_string(), "SLI");
        assert_eq!(FramingCapabilities::empty().to_string(), "none");
        assert_eq!(
            FramingCapabilities::from_bits_retain(5).to_string(),
            "A+0x4"
        );
        assert_eq!(BearerCapabilities::from_bits_retain(8).to_string(), "0x8");
        assert_eq!(BearerCapabilities::from_bits_retain(3).to_string(), "AD");
        assert_eq!(Version(0x0203).to_string(), "2.3");
    }

    #[test]
    fn fixed_str_from_str_pads_and_truncates() {
        let s = FixedStr::<8>::from_str("abc");
        assert_eq!(s.raw(), b"abc\0\0\0\0\0");
        assert_eq!(s.as_bytes(), b"abc");
        assert!(!s.is_empty());
        assert!(FixedStr::<8>::default().is_empty());
        let long = FixedStr::<64>::from_str(&"x".repeat(70));
        assert_eq!(long.as_bytes(), "x".repeat(64).as_bytes());
        // "€" is 3 bytes: it does not fit after "aé" in 4 bytes, so it is dropped whole.
        let cut = FixedStr::<4>::from_str("aé€");
        assert_eq!(cut.raw(), &[b'a', 0xc3, 0xa9, 0]);
        assert_eq!(cut.to_string_lossy(), "aé");
        assert_eq!(FixedStr::<4>::from("ab\0c").as_bytes(), b"ab");
        assert_eq!(FixedStr::<4>::from("ab\0c").raw(), b"ab\0c");
    }

    #[test]
    fn fixed_str_lossy_text_never_panics() {
        let bad = FixedStr::from_raw([0xff, b'a', 0xc3, 0, b'z']);
        assert_eq!(bad.as_bytes(), &[0xff, b'a', 0xc3]);
        assert_eq!(bad.to_string_lossy(), "\u{fffd}a\u{fffd}");
        assert_eq!(bad.to_string(), "\u{fffd}a\u{fffd}");
        assert_eq!(format!("{bad:?}"), "\"\u{fffd}a\u{fffd}\"");
        let unterminated = FixedStr::from_raw([b'z'; 64]);
        assert_eq!(unterminated.as_bytes().len(), 64);
        assert_eq!(unterminated.to_string(), "z".repeat(64));
        let quoted = FixedStr::<8>::from_str("a\"b\n");
        assert_eq!(format!("{quoted:?}"), "\"a\\\"b\\n\"");
        assert_eq!(quoted.to_string(), "a\"b\n");
    }

    fn fixed<const N: usize>() -> impl Strategy<Value = FixedStr<N>> {
        vec_of(any::<u8>(), 0..=N).prop_map(|text| {
            let mut raw = [0; N];
            for (dst, src) in raw.iter_mut().zip(&text) {
                *dst = *src;
            }
            FixedStr(raw)
        })
    }

    fn framing() -> impl Strategy<Value = FramingCapabilities> {
        any::<u32>().prop_map(FramingCapabilities::from_bits_retain)
    }

    fn bearer() -> impl Strategy<Value = BearerCapabilities> {
        any::<u32>().prop_map(BearerCapabilities::from_bits_retain)
    }

    fn error_code() -> impl Strategy<Value = GeneralError> {
        any::<u8>().prop_map(GeneralError)
    }

    fn sccrq() -> impl Strategy<Value = StartControlConnectionRequest> {
        let ids = (
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
        );
        (ids, framing(), bearer(), fixed(), fixed()).prop_map(
            |(
                (reserved0, version, reserved1, channels, firmware),
                framing,
                bearer,
                host,
                vendor,
            )| {
                StartControlConnectionRequest {
                    reserved0,
                    protocol_version: version,
                    reserved1,
                    framing_capabilities: framing,
                    bearer_capabilities: bearer,
                    maximum_channels: channels,
                    firmware_revision: firmware,
                    host_name: host,
                    vendor_string: vendor,
                }
            },
        )
    }

    fn sccrp() -> impl Strategy<Value = StartControlConnectionReply> {
        let ids = (
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            any::<u8>(),
        );
        (ids, error_code(), framing(), bearer(), fixed(), fixed()).prop_map(
            |(
                (reserved0, version, channels, firmware, result),
                error,
                framing,
                bearer,
                host,
                vendor,
            )| {
                StartControlConnectionReply {
                    reserved0,
                    protocol_version: version,
                    result_code: StartControlConnectionResult(result),
                    error_code: error,
                    framing_capabilities: framing,
                    bearer_capabilities: bearer,
                    maximum_channels: channels,
                    firmware_revision: firmware,
                    host_name: host,
                    vendor_string: vendor,
                }
            },
        )
    }

    fn stop_ccrq() -> impl Strategy<Value = StopControlConnectionRequest> {
        (any::<u16>(), any::<u8>(), any::<u8>(), any::<u16>()).prop_map(
            |(reserved0, reason, reserved1, reserved2)| StopControlConnectionRequest {
                reserved0,
                reason: StopControlConnectionReason(reason),
                reserved1,
                reserved2,
            },
        )
    }

    fn stop_ccrp() -> impl Strategy<Value = StopControlConnectionReply> {
        (any::<u16>(), any::<u8>(), error_code(), any::<u16>()).prop_map(
            |(reserved0, result, error_code, reserved1)| StopControlConnectionReply {
                reserved0,
                result_code: StopControlConnectionResult(result),
                error_code,
                reserved1,
            },
        )
    }

    fn echo_request() -> impl Strategy<Value = EchoRequest> {
        (any::<u16>(), any::<u32>()).prop_map(|(reserved0, identifier)| EchoRequest {
            reserved0,
            identifier,
        })
    }

    fn echo_reply() -> impl Strategy<Value = EchoReply> {
        (
            any::<u16>(),
            any::<u32>(),
            any::<u8>(),
            error_code(),
            any::<u16>(),
        )
            .prop_map(
                |(reserved0, identifier, result, error_code, reserved1)| EchoReply {
                    reserved0,
                    identifier,
                    result_code: EchoResult(result),
                    error_code,
                    reserved1,
                },
            )
    }

    fn ocrq() -> impl Strategy<Value = OutgoingCallRequest> {
        let ids = (
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
            any::<u32>(),
        );
        let window = (any::<u16>(), any::<u16>(), any::<u16>(), any::<u16>());
        (ids, bearer(), framing(), window, fixed(), fixed()).prop_map(
            |((reserved0, call_id, serial, min, max), bearer, framing, w, phone, sub)| {
                OutgoingCallRequest {
                    reserved0,
                    call_id,
                    call_serial_number: serial,
                    minimum_bps: min,
                    maximum_bps: max,
                    bearer_type: bearer,
                    framing_type: framing,
                    packet_recv_window_size: w.0,
                    packet_processing_delay: w.1,
                    phone_number_length: w.2,
                    reserved1: w.3,
                    phone_number: phone,
                    subaddress: sub,
                }
            },
        )
    }

    fn ocrp() -> impl Strategy<Value = OutgoingCallReply> {
        let ids = (
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            any::<u8>(),
            error_code(),
        );
        let rest = (
            any::<u16>(),
            any::<u32>(),
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
        );
        (ids, rest).prop_map(
            |((reserved0, call_id, peer_call_id, result, error_code), r)| OutgoingCallReply {
                reserved0,
                call_id,
                peer_call_id,
                result_code: OutgoingCallResult(result),
                error_code,
                cause_code: r.0,
                connect_speed: r.1,
                packet_recv_window_size: r.2,
                packet_processing_delay: r.3,
                physical_channel_id: r.4,
            },
        )
    }

    fn icrq() -> impl Strategy<Value = IncomingCallRequest> {
        let ids = (any::<u16>(), any::<u16>(), any::<u16>(), any::<u32>());
        let lengths = (any::<u16>(), any::<u16>());
        (ids, bearer(), lengths, fixed(), fixed(), fixed()).prop_map(
            |((reserved0, call_id, serial, channel), bearer, lengths, dialed, dialing, sub)| {
                IncomingCallRequest {
                    reserved0,
                    call_id,
                    call_serial_number: serial,
                    call_bearer_type: bearer,
                    physical_channel_id: channel,
                    dialed_number_length: lengths.0,
                    dialing_number_length: lengths.1,
                    dialed_number: dialed,
                    dialing_number: dialing,
                    subaddress: sub,
                }
            },
        )
    }

    fn icrp() -> impl Strategy<Value = IncomingCallReply> {
        let ids = (
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            any::<u8>(),
            error_code(),
        );
        (ids, any::<u16>(), any::<u16>(), any::<u16>()).prop_map(
            |((reserved0, call_id, peer_call_id, result, error_code), window, delay, reserved1)| {
                IncomingCallReply {
                    reserved0,
                    call_id,
                    peer_call_id,
                    result_code: IncomingCallResult(result),
                    error_code,
                    packet_recv_window_size: window,
                    packet_transmit_delay: delay,
                    reserved1,
                }
            },
        )
    }

    fn iccn() -> impl Strategy<Value = IncomingCallConnected> {
        let ids = (any::<u16>(), any::<u16>(), any::<u16>(), any::<u32>());
        (ids, any::<u16>(), any::<u16>(), framing()).prop_map(
            |((reserved0, peer_call_id, reserved1, speed), window, delay, framing)| {
                IncomingCallConnected {
                    reserved0,
                    peer_call_id,
                    reserved1,
                    connect_speed: speed,
                    packet_recv_window_size: window,
                    packet_transmit_delay: delay,
                    framing_type: framing,
                }
            },
        )
    }

    fn ccrq() -> impl Strategy<Value = CallClearRequest> {
        (any::<u16>(), any::<u16>(), any::<u16>()).prop_map(|(reserved0, call_id, reserved1)| {
            CallClearRequest {
                reserved0,
                call_id,
                reserved1,
            }
        })
    }

    fn cdn() -> impl Strategy<Value = CallDisconnectNotify> {
        let ids = (any::<u16>(), any::<u16>(), any::<u8>(), error_code());
        (ids, any::<u16>(), any::<u16>(), fixed()).prop_map(
            |((reserved0, call_id, result, error_code), cause, reserved1, stats)| {
                CallDisconnectNotify {
                    reserved0,
                    call_id,
                    result_code: CallDisconnectResult(result),
                    error_code,
                    cause_code: cause,
                    reserved1,
                    call_statistics: stats,
                }
            },
        )
    }

    fn wen() -> impl Strategy<Value = WanErrorNotify> {
        let ids = (any::<u16>(), any::<u16>(), any::<u16>());
        (ids, any::<[u32; 6]>()).prop_map(|((reserved0, peer_call_id, reserved1), c)| {
            WanErrorNotify {
                reserved0,
                peer_call_id,
                reserved1,
                crc_errors: c[0],
                framing_errors: c[1],
                hardware_overruns: c[2],
                buffer_overruns: c[3],
                timeout_errors: c[4],
                alignment_errors: c[5],
            }
        })
    }

    fn sli() -> impl Strategy<Value = SetLinkInfo> {
        let ids = (any::<u16>(), any::<u16>(), any::<u16>());
        (ids, any::<u32>(), any::<u32>()).prop_map(
            |((reserved0, peer_call_id, reserved1), send_accm, receive_accm)| SetLinkInfo {
                reserved0,
                peer_call_id,
                reserved1,
                send_accm,
                receive_accm,
            },
        )
    }

    fn any_message() -> impl Strategy<Value = ControlMessage> {
        prop_oneof![
            sccrq().prop_map(ControlMessage::from).boxed(),
            sccrp().prop_map(ControlMessage::from).boxed(),
            stop_ccrq().prop_map(ControlMessage::from).boxed(),
            stop_ccrp().prop_map(ControlMessage::from).boxed(),
            echo_request().prop_map(ControlMessage::from).boxed(),
            echo_reply().prop_map(ControlMessage::from).boxed(),
            ocrq().prop_map(ControlMessage::from).boxed(),
            ocrp().prop_map(ControlMessage::from).boxed(),
            icrq().prop_map(ControlMessage::from).boxed(),
            icrp().prop_map(ControlMessage::from).boxed(),
            iccn().prop_map(ControlMessage::from).boxed(),
            ccrq().prop_map(ControlMessage::from).boxed(),
            cdn().prop_map(ControlMessage::from).boxed(),
            wen().prop_map(ControlMessage::from).boxed(),
            sli().prop_map(ControlMessage::from).boxed(),
        ]
    }

    /// Parses `wire` with the parser of `message`'s own type.
    fn typed_parse(message: &ControlMessage, wire: &[u8]) -> Result<ControlMessage, Error> {
        use ControlMessage as M;
        match message {
            M::StartControlConnectionRequest(_) => {
                StartControlConnectionRequest::parse(wire).map(M::from)
            }
            M::StartControlConnectionReply(_) => {
                StartControlConnectionReply::parse(wire).map(M::from)
            }
            M::StopControlConnectionRequest(_) => {
                StopControlConnectionRequest::parse(wire).map(M::from)
            }
            M::StopControlConnectionReply(_) => {
                StopControlConnectionReply::parse(wire).map(M::from)
            }
            M::EchoRequest(_) => EchoRequest::parse(wire).map(M::from),
            M::EchoReply(_) => EchoReply::parse(wire).map(M::from),
            M::OutgoingCallRequest(_) => OutgoingCallRequest::parse(wire).map(M::from),
            M::OutgoingCallReply(_) => OutgoingCallReply::parse(wire).map(M::from),
            M::IncomingCallRequest(_) => IncomingCallRequest::parse(wire).map(M::from),
            M::IncomingCallReply(_) => IncomingCallReply::parse(wire).map(M::from),
            M::IncomingCallConnected(_) => IncomingCallConnected::parse(wire).map(M::from),
            M::CallClearRequest(_) => CallClearRequest::parse(wire).map(M::from),
            M::CallDisconnectNotify(_) => CallDisconnectNotify::parse(wire).map(M::from),
            M::WanErrorNotify(_) => WanErrorNotify::parse(wire).map(M::from),
            M::SetLinkInfo(_) => SetLinkInfo::parse(wire).map(M::from),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn emit_parse_identity(message in any_message()) {
            let wire = emit(&message);
            prop_assert_eq!(wire.len(), message.buffer_len());
            prop_assert_eq!(Some(wire.len()), message.message_type().length());
            prop_assert_eq!(frame_length(&wire), Ok(Some(wire.len())));
            prop_assert_eq!(ControlMessage::parse(&wire), Ok(message));
            prop_assert_eq!(typed_parse(&message, &wire), Ok(message));
            prop_assert!(message.to_string().starts_with("[PPTP "));
        }

        #[test]
        fn arbitrary_bytes_never_panic(buf in vec_of(any::<u8>(), 0..=MAX_MESSAGE_LEN + 8)) {
            let parsed = ControlMessage::parse(&buf);
            let framed = frame_length(&buf);
            if let Ok(message) = parsed {
                prop_assert_eq!(framed, Ok(Some(message.buffer_len())));
                let _ = message.to_string();
            }
        }

        #[test]
        fn any_body_after_a_valid_header_reemits_identically(
            code in 1u16..=15,
            reserved0 in any::<u16>(),
            body in vec_of(any::<u8>(), MAX_MESSAGE_LEN - HEADER_LEN),
        ) {
            let length = MessageType(code).length().unwrap();
            let mut wire = Vec::new();
            emit_header(&mut wire, MessageType(code), length as u16, reserved0);
            wire.extend_from_slice(&body[..length - HEADER_LEN]);
            let message = ControlMessage::parse(&wire).unwrap();
            prop_assert_eq!(message.message_type(), MessageType(code));
            prop_assert_eq!(emit(&message), wire);
            let _ = format!("{message} {message:?}");
        }

        #[test]
        fn one_corrupted_byte_never_panics(
            message in any_message(),
            index in 0..MAX_MESSAGE_LEN,
            value in any::<u8>(),
        ) {
            let mut wire = emit(&message);
            let index = index % wire.len();
            wire[index] = value;
            let parsed = ControlMessage::parse(&wire);
            if index >= HEADER_LEN {
                // Only the header is validated: any body is a valid message.
                prop_assert_eq!(parsed.map(|m| emit(&m)), Ok(wire));
            }
        }
    }
}
