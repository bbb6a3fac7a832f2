//! The packet shared by the PPP control protocols (RFC 1661 §5): LCP, IPCP
//! (RFC 1332, RFC 1877), IPv6CP (RFC 5072) and CCP (RFC 1962, RFC 3078), with
//! their Configuration Options as typed values.
//!
//! A [`CpPacket`] is Code, Identifier, Length and data. The data of the four
//! Configure codes is a list of option TLVs: [`Options`] walks it as
//! [`RawOption`]s, and each protocol has a typed enum ([`LcpConfigOption`],
//! [`IpcpConfigOption`], [`Ipv6cpConfigOption`], [`CcpConfigOption`]) that
//! keeps anything it does not understand raw, so a Configure-Reject can echo
//! it byte-for-byte. [`ConfigOption`] and [`parse_options`] /
//! [`emit_options`] work for all four.
//!
//! The LCP-only codes have small views of their data: [`ProtocolReject`],
//! [`Echo`] (Echo-Request/Reply, Discard-Request), [`CodeReject`],
//! [`Identification`], [`TimeRemaining`] and [`Terminate`].
//!
//! # Example
//!
//! A peer's LCP Configure-Request, answered with a Configure-Reject of the
//! one option this crate keeps raw (type 23, Link-Discriminator):
//!
//! ```
//! use pptp_proto::wire::cp::{Code, ConfigOption, CpPacket, LcpConfigOption};
//! use pptp_proto::wire::ppp::Protocol;
//!
//! let bytes = [
//!     1, 7, 0, 22, // Configure-Request, Identifier 7, Length 22
//!     1, 4, 0x05, 0x78, 5, 6, 0x5f, 0x3c, 0x2a, 0x19, 7, 2, 8, 2, 23, 4, 0, 1,
//! ];
//! let request = CpPacket::parse(&bytes)?;
//! assert_eq!(
//!     request.display(Protocol::LCP).to_string(),
//!     "[LCP ConfReq id=0x7 <mru 1400> <magic 0x5f3c2a19> <pcomp> <accomp> <opt 17 04 00 01>]"
//! );
//! let options: Vec<LcpConfigOption> = request.typed_options()?;
//! assert_eq!(options[0], LcpConfigOption::Mru(1400));
//!
//! let rejected: Vec<_> = options.into_iter().filter(|o| !o.is_recognised()).collect();
//! let mut reply = Vec::new();
//! CpPacket::emit_with_options(Code::CONFIGURE_REJECT, request.identifier, &rejected, &mut reply);
//! assert_eq!(reply, [4, 7, 0, 8, 23, 4, 0, 1]);
//! # Ok::<(), pptp_proto::wire::Error>(())
//! ```

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

use bytes::BufMut;

use super::mppe::MppeBits;
use super::ppp::Protocol;
use super::{need, Error};

/// Octets in Code, Identifier and Length (RFC 1661 §5).
pub const HEADER_LEN: usize = 4;

/// The most data a packet can carry: the Length field is 16 bits.
pub const MAX_DATA_LEN: usize = u16::MAX as usize - HEADER_LEN;

/// The most data an option can carry: its Length field is 8 bits.
pub const MAX_OPTION_DATA_LEN: usize = u8::MAX as usize - 2;

const WHAT: &str = "CP packet";

crate::wire::code_point! {
    /// The Code field of a control-protocol packet (RFC 1661 §5, RFC 1962 §5).
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::cp::Code;
    ///
    /// assert_eq!(Code::CONFIGURE_NAK, Code(3));
    /// assert_eq!(Code::CONFIGURE_NAK.name(), Some("ConfNak"));
    /// assert_eq!(Code(0x42).name(), None);
    /// assert_eq!(Code::ECHO_REQUEST.to_string(), "EchoReq");
    /// assert!(Code::CONFIGURE_REJECT.has_options());
    /// assert!(!Code::TERMINATE_REQUEST.has_options());
    /// ```
    pub struct Code(u8) {
        /// Configure-Request (RFC 1661 §5.1).
        CONFIGURE_REQUEST = 1 => "ConfReq",
        /// Configure-Ack (RFC 1661 §5.2).
        CONFIGURE_ACK = 2 => "ConfAck",
        /// Configure-Nak (RFC 1661 §5.3).
        CONFIGURE_NAK = 3 => "ConfNak",
        /// Configure-Reject (RFC 1661 §5.4).
        CONFIGURE_REJECT = 4 => "ConfRej",
        /// Terminate-Request (RFC 1661 §5.5).
        TERMINATE_REQUEST = 5 => "TermReq",
        /// Terminate-Ack (RFC 1661 §5.5).
        TERMINATE_ACK = 6 => "TermAck",
        /// Code-Reject (RFC 1661 §5.6).
        CODE_REJECT = 7 => "CodeRej",
        /// Protocol-Reject, LCP only (RFC 1661 §5.7).
        PROTOCOL_REJECT = 8 => "ProtRej",
        /// Echo-Request, LCP only (RFC 1661 §5.8).
        ECHO_REQUEST = 9 => "EchoReq",
        /// Echo-Reply, LCP only (RFC 1661 §5.8).
        ECHO_REPLY = 10 => "EchoRep",
        /// Discard-Request, LCP only (RFC 1661 §5.9).
        DISCARD_REQUEST = 11 => "DiscReq",
        /// Identification, LCP only (RFC 1570 §2.1).
        IDENTIFICATION = 12 => "Ident",
        /// Time-Remaining, LCP only (RFC 1570 §2.2).
        TIME_REMAINING = 13 => "TimeRem",
        /// Reset-Request, CCP only (RFC 1962 §5.1).
        RESET_REQUEST = 14 => "ResetReq",
        /// Reset-Ack, CCP only (RFC 1962 §5.2).
        RESET_ACK = 15 => "ResetAck",
    }
}

impl Code {
    /// Whether the data of this code is a Configuration Option list
    /// (Configure-Request, -Ack, -Nak, -Reject); see the
    /// [example](Self#example).
    pub fn has_options(self) -> bool {
        matches!(self.0, 1..=4)
    }
}

// ---------------------------------------------------------------------------
// Small byte helpers: never panic, whatever the input.

/// The first `N` bytes as an array, and the rest.
fn split<const N: usize>(data: &[u8]) -> Option<([u8; N], &[u8])> {
    let (head, tail) = data.split_at_checked(N)?;
    Some((head.try_into().ok()?, tail))
}

/// Exactly `N` bytes as an array.
fn exact<const N: usize>(data: &[u8]) -> Option<[u8; N]> {
    data.try_into().ok()
}

/// At most `max` leading bytes of `data`.
fn clamp(data: &[u8], max: usize) -> &[u8] {
    data.get(..max).unwrap_or(data)
}

/// Writes one option TLV whose data is `head` then `tail`; a `tail` too long
/// for the 8-bit Length field is cut so that Length stays truthful.
fn put_option<B: BufMut>(buf: &mut B, kind: u8, head: &[u8], tail: &[u8]) {
    let tail = clamp(tail, MAX_OPTION_DATA_LEN.saturating_sub(head.len()));
    let length = 2 + head.len() + tail.len();
    buf.put_u8(kind);
    buf.put_u8(u8::try_from(length).unwrap_or(u8::MAX));
    buf.put_slice(head);
    buf.put_slice(tail);
}

/// The bytes [`put_option`] writes.
fn option_len(head: usize, tail: usize) -> usize {
    2 + head + tail.min(MAX_OPTION_DATA_LEN.saturating_sub(head))
}

// ---------------------------------------------------------------------------
// The packet.

/// A control-protocol packet (RFC 1661 §5): the information field of a PPP
/// frame whose protocol is LCP, IPCP, IPv6CP or CCP.
///
/// The [module example](crate::wire::cp#example) answers a Configure-Request.
///
/// # Example
///
/// An LCP Echo-Request built, written and parsed back:
///
/// ```
/// use pptp_proto::wire::cp::{Code, CpPacket};
///
/// let echo = CpPacket::new(Code::ECHO_REQUEST, 0x2a, &[0, 0, 0x10, 0x92, b'h', b'i']);
/// let mut bytes = Vec::new();
/// echo.emit(&mut bytes);
/// assert_eq!(bytes, [9, 0x2a, 0, 10, 0, 0, 0x10, 0x92, b'h', b'i']);
/// assert_eq!(echo.buffer_len(), bytes.len());
/// assert_eq!(CpPacket::parse(&bytes)?, echo);
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CpPacket<'a> {
    /// The Code field.
    pub code: Code,
    /// The Identifier field, matching replies to requests.
    pub identifier: u8,
    /// The data: everything up to Length, without the padding after it.
    pub data: &'a [u8],
}

impl<'a> CpPacket<'a> {
    /// A packet from its parts; see the [example](Self#example).
    pub fn new(code: Code, identifier: u8, data: &'a [u8]) -> Self {
        CpPacket {
            code,
            identifier,
            data,
        }
    }

    /// Parses the PPP information field. Length must be at least 4 and fit
    /// the input; bytes after Length are padding and ignored (RFC 1661 §5).
    ///
    /// ```
    /// use pptp_proto::wire::{cp::{Code, CpPacket}, Error};
    ///
    /// // A Terminate-Ack (Length 4) followed by two octets of padding.
    /// let ack = CpPacket::parse(&[6, 7, 0, 4, 0, 0])?;
    /// assert_eq!((ack.code, ack.identifier, ack.data), (Code::TERMINATE_ACK, 7, &[][..]));
    ///
    /// // Length past the input, or shorter than the header itself.
    /// let long = CpPacket::parse(&[6, 7, 0, 9, 0]);
    /// assert!(matches!(long, Err(Error::BadLength { length: 9, .. })));
    /// let short = CpPacket::parse(&[6, 7, 0, 3]);
    /// assert!(matches!(short, Err(Error::BadLength { length: 3, .. })));
    /// assert!(matches!(CpPacket::parse(&[6, 7, 0]), Err(Error::Truncated { needed: 4, .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn parse(input: &'a [u8]) -> Result<Self, Error> {
        need(WHAT, input, HEADER_LEN)?;
        let ([code, identifier, hi, lo], _) = split::<4>(input).ok_or(Error::Truncated {
            what: WHAT,
            needed: HEADER_LEN,
            available: input.len(),
        })?;
        let length = usize::from(u16::from_be_bytes([hi, lo]));
        let bad = Error::BadLength {
            what: WHAT,
            length,
            expected: "4..=input length",
        };
        if length < HEADER_LEN {
            return Err(bad);
        }
        let data = input.get(HEADER_LEN..length).ok_or(bad)?;
        Ok(CpPacket::new(Code(code), identifier, data))
    }

    /// Writes the packet. Data beyond [`MAX_DATA_LEN`] is cut so that
    /// Length stays truthful.
    ///
    /// The [type's example](Self#example) writes an Echo-Request; here the
    /// data is too long for the 16-bit Length:
    ///
    /// ```
    /// use pptp_proto::wire::cp::{Code, CpPacket, MAX_DATA_LEN};
    ///
    /// let reason = vec![b'x'; 70_000];
    /// let term = CpPacket::new(Code::TERMINATE_REQUEST, 1, &reason);
    /// let mut bytes = Vec::new();
    /// term.emit(&mut bytes);
    /// assert_eq!(bytes.len(), 4 + MAX_DATA_LEN);
    /// assert_eq!(bytes[2..4], [0xff, 0xff]);
    /// assert_eq!(term.buffer_len(), bytes.len());
    /// ```
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        let data = clamp(self.data, MAX_DATA_LEN);
        emit_header(buf, self.code, self.identifier, data.len());
        buf.put_slice(data);
    }

    /// The bytes [`emit`](Self::emit) writes; see the [example](Self#example).
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data.len().min(MAX_DATA_LEN)
    }

    /// The option TLVs of the data (meaningful for the Configure codes).
    ///
    /// ```
    /// use pptp_proto::wire::cp::{CpPacket, RawOption};
    ///
    /// // IPCP Configure-Request: IP-Address 0.0.0.0, Primary DNS 0.0.0.0.
    /// let request = CpPacket::parse(&[1, 1, 0, 16, 3, 6, 0, 0, 0, 0, 0x81, 6, 0, 0, 0, 0])?;
    /// let options: Vec<RawOption> = request.options().collect::<Result<_, _>>()?;
    /// assert_eq!(options, [RawOption::new(3, &[0; 4]), RawOption::new(0x81, &[0; 4])]);
    /// # Ok::<(), pptp_proto::wire::Error>(())
    /// ```
    pub fn options(&self) -> Options<'a> {
        Options::new("CP option", self.data)
    }

    /// The data as a list of typed options of one protocol.
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use pptp_proto::wire::{cp::{CpPacket, IpcpConfigOption}, Error};
    ///
    /// let request = CpPacket::parse(&[1, 1, 0, 16, 3, 6, 0, 0, 0, 0, 0x81, 6, 0, 0, 0, 0])?;
    /// let options: Vec<IpcpConfigOption> = request.typed_options()?;
    /// assert_eq!(options[0], IpcpConfigOption::IpAddress(Ipv4Addr::UNSPECIFIED));
    /// assert_eq!(options[1], IpcpConfigOption::PrimaryDns(Ipv4Addr::UNSPECIFIED));
    ///
    /// // The second option's Length (7) runs past the data.
    /// let bad = CpPacket::parse(&[1, 1, 0, 16, 3, 6, 0, 0, 0, 0, 0x81, 7, 0, 0, 0, 0])?;
    /// assert!(matches!(
    ///     bad.typed_options::<IpcpConfigOption>(),
    ///     Err(Error::BadOptionLength { offset: 6, length: 7, .. })
    /// ));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn typed_options<O: ConfigOption<'a>>(&self) -> Result<Vec<O>, Error> {
        parse_options(self.data)
    }

    /// Writes a Configure packet (or any packet whose data is an option
    /// list) with exactly `options`, in their order: the Configure-Nak and
    /// Configure-Reject of RFC 1661 §5.3/§5.4 echo the offending options.
    /// Options that would take the data past [`MAX_DATA_LEN`] are left out,
    /// whole, so the Length field always matches the bytes written.
    ///
    /// A server's IPCP Configure-Nak telling the client its address and DNS
    /// server (the [module example](crate::wire::cp#example) builds a
    /// Configure-Reject):
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use pptp_proto::wire::cp::{Code, CpPacket, IpcpConfigOption};
    ///
    /// let nak = [
    ///     IpcpConfigOption::IpAddress(Ipv4Addr::new(10, 0, 0, 2)),
    ///     IpcpConfigOption::PrimaryDns(Ipv4Addr::new(8, 8, 8, 8)),
    /// ];
    /// let mut bytes = Vec::new();
    /// CpPacket::emit_with_options(Code::CONFIGURE_NAK, 1, &nak, &mut bytes);
    /// assert_eq!(bytes, [3, 1, 0, 16, 3, 6, 10, 0, 0, 2, 0x81, 6, 8, 8, 8, 8]);
    /// ```
    pub fn emit_with_options<'o, O: ConfigOption<'o>, B: BufMut>(
        code: Code,
        identifier: u8,
        options: &[O],
        buf: &mut B,
    ) {
        let mut fit = 0;
        let mut len = 0;
        for option in options {
            if len + option.buffer_len() > MAX_DATA_LEN {
                break;
            }
            len += option.buffer_len();
            fit += 1;
        }
        emit_header(buf, code, identifier, len);
        emit_options(&options[..fit], buf);
    }

    /// A `Display` in pppd's debug-log style, which needs the protocol:
    /// `[LCP ConfReq id=0x1 <mru 1400> <magic 0x5f3c2a19>]`.
    ///
    /// ```
    /// use pptp_proto::wire::{cp::{Code, CpPacket}, ppp::Protocol};
    ///
    /// let request = CpPacket::new(Code::CONFIGURE_REQUEST, 1, &[18, 6, 0x01, 0, 0, 0x40]);
    /// assert_eq!(
    ///     request.display(Protocol::CCP).to_string(),
    ///     "[CCP ConfReq id=0x1 <mppe +H -M +S -L -D -C>]"
    /// );
    /// ```
    pub fn display(&self, protocol: Protocol) -> CpDisplay<'a> {
        CpDisplay {
            packet: *self,
            protocol,
        }
    }
}

fn emit_header<B: BufMut>(buf: &mut B, code: Code, identifier: u8, data_len: usize) {
    let length = HEADER_LEN.saturating_add(data_len);
    buf.put_u8(code.0);
    buf.put_u8(identifier);
    buf.put_u16(u16::try_from(length).unwrap_or(u16::MAX));
}

// ---------------------------------------------------------------------------
// Raw options.

/// One Configuration Option TLV, uninterpreted (RFC 1661 §6).
///
/// # Example
///
/// ```
/// use pptp_proto::wire::{cp::RawOption, Error};
///
/// // LCP Callback (13) with Operation 6 (CBCP), then the next option.
/// let callback = RawOption::parse(&[13, 3, 6, 7, 2])?;
/// assert_eq!(callback, RawOption::new(13, &[6]));
/// let mut bytes = Vec::new();
/// callback.emit(&mut bytes);
/// assert_eq!(bytes, [13, 3, 6]);
/// assert_eq!(callback.buffer_len(), 3);
///
/// // Length counts Type and Length, so it is at least 2.
/// assert!(matches!(RawOption::parse(&[13, 1, 6]), Err(Error::BadOptionLength { length: 1, .. })));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RawOption<'a> {
    /// The Type octet.
    pub kind: u8,
    /// The bytes after Type and Length.
    pub data: &'a [u8],
}

impl<'a> RawOption<'a> {
    /// An option from its parts; see the [example](Self#example).
    pub fn new(kind: u8, data: &'a [u8]) -> Self {
        RawOption { kind, data }
    }

    /// Parses the option at the start of `input`; bytes after its Length
    /// belong to the next option (walk a list with [`Options`]). The
    /// [type's example](Self#example) parses one.
    pub fn parse(input: &'a [u8]) -> Result<Self, Error> {
        read_option("CP option", input, 0)
    }

    /// Writes the option. Data beyond [`MAX_OPTION_DATA_LEN`] is cut so
    /// that Length stays truthful.
    ///
    /// ```
    /// use pptp_proto::wire::cp::{RawOption, MAX_OPTION_DATA_LEN};
    ///
    /// let long = [0xaa; 300];
    /// let option = RawOption::new(0, &long);
    /// let mut bytes = Vec::new();
    /// option.emit(&mut bytes);
    /// assert_eq!(bytes.len(), 2 + MAX_OPTION_DATA_LEN);
    /// assert_eq!(bytes[1], 255);
    /// assert_eq!(option.buffer_len(), bytes.len());
    /// ```
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        put_option(buf, self.kind, &[], self.data);
    }

    /// The bytes [`emit`](Self::emit) writes; see the [example](Self#example).
    pub fn buffer_len(&self) -> usize {
        option_len(0, self.data.len())
    }
}

/// Writes one raw option TLV: Type `kind`, Length, `data`.
///
/// ```
/// use pptp_proto::wire::cp::emit_option;
///
/// let mut bytes = Vec::new();
/// emit_option(1, &1400u16.to_be_bytes(), &mut bytes); // LCP MRU 1400
/// assert_eq!(bytes, [1, 4, 0x05, 0x78]);
/// ```
pub fn emit_option<B: BufMut>(kind: u8, data: &[u8], buf: &mut B) {
    RawOption::new(kind, data).emit(buf);
}

fn read_option<'a>(
    what: &'static str,
    input: &'a [u8],
    offset: usize,
) -> Result<RawOption<'a>, Error> {
    need(what, input, 2)?;
    let ([kind, length], _) = split::<2>(input).ok_or(Error::Truncated {
        what,
        needed: 2,
        available: input.len(),
    })?;
    let bad = Error::BadOptionLength {
        what,
        offset,
        length: usize::from(length),
    };
    // RFC 1661 §6: Length counts Type and Length, so it is at least 2.
    if length < 2 {
        return Err(bad);
    }
    let data = input.get(2..usize::from(length)).ok_or(bad)?;
    Ok(RawOption::new(kind, data))
}

/// An iterator over the option TLVs of a Configure packet's data. After the
/// first error it yields nothing more.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::{cp::{Options, RawOption}, Error};
///
/// // MRU 1500, then an option whose Length (1) is below the minimum of 2.
/// let data = [1, 4, 0x05, 0xdc, 7, 1, 8, 2];
/// let mut options = Options::new("LCP option", &data);
/// assert_eq!(options.next(), Some(Ok(RawOption::new(1, &[0x05, 0xdc]))));
/// assert_eq!(options.rest(), [7, 1, 8, 2]);
/// let error = Error::BadOptionLength { what: "LCP option", offset: 4, length: 1 };
/// assert_eq!(options.next(), Some(Err(error)));
/// assert_eq!(options.next(), None);
/// assert_eq!(options.rest(), [7, 1, 8, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct Options<'a> {
    what: &'static str,
    data: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> Options<'a> {
    /// Walks `data`; `what` names the protocol in errors (`"LCP option"`).
    /// See the [example](Self#example).
    pub fn new(what: &'static str, data: &'a [u8]) -> Self {
        Options {
            what,
            data,
            offset: 0,
            failed: false,
        }
    }

    /// The bytes not yet yielded (after an error: from the bad option on).
    /// See the [example](Self#example).
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.offset..).unwrap_or(&[])
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<RawOption<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest();
        if self.failed || rest.is_empty() {
            return None;
        }
        let option = read_option(self.what, rest, self.offset);
        match &option {
            Ok(raw) => self.offset = self.offset.saturating_add(raw.buffer_len()),
            Err(_) => self.failed = true,
        }
        Some(option)
    }
}

impl core::iter::FusedIterator for Options<'_> {}

// ---------------------------------------------------------------------------
// The typed-option trait, shared by the four protocols.

/// A Configuration Option of one control protocol, typed where the protocol
/// is understood and raw where it is not, so that every option parsed can be
/// emitted back byte-for-byte (a Configure-Reject echoes it unchanged).
///
/// # Example
///
/// One function that builds Configure-Reject data for any of the protocols:
///
/// ```
/// use pptp_proto::wire::cp::{CcpConfigOption, ConfigOption, LcpConfigOption, RawOption};
///
/// /// Echoes `raw` into `reject` if protocol `O` does not understand it.
/// fn reject_unknown<'a, O: ConfigOption<'a>>(raw: RawOption<'a>, reject: &mut Vec<u8>) -> u8 {
///     let option = O::from_raw(raw);
///     if !option.is_recognised() {
///         reject.reserve(option.buffer_len());
///         option.emit(reject);
///     }
///     option.kind()
/// }
///
/// let mut reject = Vec::new();
/// // CCP keeps Deflate (26, window 15) raw, so it is rejected...
/// let deflate = RawOption::new(26, &[0x78, 0]);
/// assert_eq!(reject_unknown::<CcpConfigOption>(deflate, &mut reject), 26);
/// // ...while LCP understands an MRU of 1400.
/// let mru = RawOption::new(1, &[0x05, 0x78]);
/// assert_eq!(reject_unknown::<LcpConfigOption>(mru, &mut reject), 1);
/// assert_eq!(reject, [26, 4, 0x78, 0]);
/// ```
pub trait ConfigOption<'a>: Sized + Copy + fmt::Debug + fmt::Display {
    /// Names the protocol's options in errors (`"LCP option"`).
    const WHAT: &'static str;

    /// Interprets a raw option; never fails (unknown or badly sized options
    /// stay raw). See the [trait example](ConfigOption#example).
    fn from_raw(raw: RawOption<'a>) -> Self;

    /// The Type octet; see the [trait example](ConfigOption#example).
    fn kind(&self) -> u8;

    /// `false` for an option kept raw because its type is unknown or its
    /// length is wrong for its type: the usual answer is Configure-Reject
    /// (the [trait example](ConfigOption#example) builds one).
    ///
    /// The raw variants are meant to come from [`from_raw`](Self::from_raw);
    /// a hand-built raw variant holding a well-formed known option emits the
    /// same bytes but parses back typed.
    fn is_recognised(&self) -> bool;

    /// Writes the option TLV; see the [trait example](ConfigOption#example).
    fn emit<B: BufMut>(&self, buf: &mut B);

    /// The bytes [`emit`](Self::emit) writes; see the
    /// [trait example](ConfigOption#example).
    fn buffer_len(&self) -> usize;
}

impl<'a> ConfigOption<'a> for RawOption<'a> {
    const WHAT: &'static str = "CP option";

    fn from_raw(raw: RawOption<'a>) -> Self {
        raw
    }

    fn kind(&self) -> u8 {
        self.kind
    }

    fn is_recognised(&self) -> bool {
        false
    }

    fn emit<B: BufMut>(&self, buf: &mut B) {
        RawOption::emit(self, buf);
    }

    fn buffer_len(&self) -> usize {
        RawOption::buffer_len(self)
    }
}

/// Parses a Configure packet's data into typed options, in order.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::cp::{emit_options, options_len, parse_options, LcpConfigOption};
///
/// // pppd's LCP options: MRU 1400, ACCM 0, Magic-Number, PFC, ACFC.
/// let data = [1, 4, 0x05, 0x78, 2, 6, 0, 0, 0, 0, 5, 6, 0x5f, 0x3c, 0x2a, 0x19, 7, 2, 8, 2];
/// let options: Vec<LcpConfigOption> = parse_options(&data)?;
/// assert_eq!(options.len(), 5);
/// assert_eq!(options[2], LcpConfigOption::MagicNumber(0x5f3c_2a19));
///
/// let mut bytes = Vec::new();
/// emit_options(&options, &mut bytes);
/// assert_eq!(bytes, data);
/// assert_eq!(options_len(&options), data.len());
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
pub fn parse_options<'a, O: ConfigOption<'a>>(data: &'a [u8]) -> Result<Vec<O>, Error> {
    Options::new(O::WHAT, data)
        .map(|option| option.map(O::from_raw))
        .collect()
}

/// Writes options back to back, in order;
/// [`parse_options`' example](parse_options#example) round-trips a list.
pub fn emit_options<'a, O: ConfigOption<'a>, B: BufMut>(options: &[O], buf: &mut B) {
    for option in options {
        option.emit(buf);
    }
}

/// The bytes [`emit_options`] writes; see
/// [`parse_options`' example](parse_options#example).
pub fn options_len<'a, O: ConfigOption<'a>>(options: &[O]) -> usize {
    options.iter().map(ConfigOption::buffer_len).sum()
}

/// Prints `<opt 0d 03 06>`: the whole TLV of an option kept raw.
fn fmt_raw(f: &mut fmt::Formatter<'_>, raw: &RawOption<'_>) -> fmt::Result {
    let length = raw.buffer_len();
    write!(
        f,
        "<opt {:02x} {:02x}{}>",
        raw.kind,
        length,
        SpacedHex(raw.data)
    )
}

impl fmt::Display for RawOption<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_raw(f, self)
    }
}

/// Writes bytes as ` xx` each, the way pppd dumps option data.
struct SpacedHex<'a>(&'a [u8]);

impl fmt::Display for SpacedHex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, " {b:02x}"))
    }
}

/// A 16-bit value, exactly.
fn u16_exact(data: &[u8]) -> Option<u16> {
    exact::<2>(data).map(u16::from_be_bytes)
}

/// A 32-bit value, exactly.
fn u32_exact(data: &[u8]) -> Option<u32> {
    exact::<4>(data).map(u32::from_be_bytes)
}

/// A protocol number and whatever follows it.
fn protocol_and_data(data: &[u8]) -> Option<(Protocol, &[u8])> {
    split::<2>(data).map(|(p, rest)| (Protocol(u16::from_be_bytes(p)), rest))
}

// ---------------------------------------------------------------------------
// LCP.

crate::wire::code_point! {
    /// An LCP Configuration Option type (RFC 1661 §6, RFC 1570, RFC 1990).
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::cp::{LcpConfigOption, LcpOption};
    ///
    /// assert_eq!(LcpOption::MAGIC_NUMBER, LcpOption(5));
    /// assert_eq!(LcpOption::MAGIC_NUMBER.name(), Some("magic"));
    /// assert_eq!(LcpConfigOption::Pfc.option(), LcpOption::PFC);
    /// assert_eq!(LcpOption(23).name(), None);
    /// assert_eq!(LcpOption(23).to_string(), "0x17");
    /// ```
    pub struct LcpOption(u8) {
        /// Vendor-Specific (RFC 2153).
        VENDOR_SPECIFIC = 0 => "vendor",
        /// Maximum-Receive-Unit (RFC 1661 §6.1).
        MRU = 1 => "mru",
        /// Async-Control-Character-Map (RFC 1662 §7.1).
        ACCM = 2 => "asyncmap",
        /// Authentication-Protocol (RFC 1661 §6.2).
        AUTHENTICATION_PROTOCOL = 3 => "auth",
        /// Quality-Protocol (RFC 1661 §6.3).
        QUALITY_PROTOCOL = 4 => "quality",
        /// Magic-Number (RFC 1661 §6.4).
        MAGIC_NUMBER = 5 => "magic",
        /// Protocol-Field-Compression (RFC 1661 §6.5).
        PFC = 7 => "pcomp",
        /// Address-and-Control-Field-Compression (RFC 1661 §6.6).
        ACFC = 8 => "accomp",
        /// FCS-Alternatives (RFC 1570 §2.1).
        FCS_ALTERNATIVES = 9 => "fcs",
        /// Self-Describing-Padding (RFC 1570 §2.2).
        SELF_DESCRIBING_PADDING = 10 => "sdp",
        /// Numbered-Mode (RFC 1663).
        NUMBERED_MODE = 11 => "numbered-mode",
        /// Callback (RFC 1570 §2.3; Microsoft sends it with CBCP).
        CALLBACK = 13 => "callback",
        /// Multilink Maximum-Received-Reconstructed-Unit (RFC 1990 §5.1.1).
        MRRU = 17 => "mrru",
        /// Multilink Short-Sequence-Number-Header-Format (RFC 1990 §5.1.2).
        SSNHF = 18 => "ssnhf",
        /// Multilink Endpoint-Discriminator (RFC 1990 §5.1.3).
        ENDPOINT_DISCRIMINATOR = 19 => "endpoint",
    }
}

crate::wire::code_point! {
    /// The Algorithm octet of a CHAP Authentication-Protocol option
    /// (RFC 1994 §3, RFC 2433, RFC 2759).
    ///
    /// # Example
    ///
    /// A server asking for MS-CHAPv2 (CHAP, c223, with algorithm 0x81):
    ///
    /// ```
    /// use pptp_proto::wire::cp::{AuthProtocol, ChapAlgorithm, LcpConfigOption};
    ///
    /// let auth = LcpConfigOption::parse(&[3, 5, 0xc2, 0x23, 0x81])?;
    /// let algorithm = ChapAlgorithm::MS_CHAP_V2;
    /// assert_eq!(auth, LcpConfigOption::AuthProtocol(AuthProtocol::Chap { algorithm }));
    /// assert_eq!(algorithm.name(), Some("MS-v2"));
    /// assert_eq!(auth.to_string(), "<auth chap MS-v2>");
    /// # Ok::<(), pptp_proto::wire::Error>(())
    /// ```
    pub struct ChapAlgorithm(u8) {
        /// CHAP with MD5 (RFC 1994).
        MD5 = 5 => "MD5",
        /// MS-CHAP version 1 (RFC 2433).
        MS_CHAP = 0x80 => "MS",
        /// MS-CHAP version 2 (RFC 2759).
        MS_CHAP_V2 = 0x81 => "MS-v2",
    }
}

/// The value of an LCP Authentication-Protocol option (RFC 1661 §6.2).
///
/// # Example
///
/// ```
/// use pptp_proto::wire::{cp::{AuthProtocol, ChapAlgorithm, LcpConfigOption}, ppp::Protocol};
///
/// let chap = AuthProtocol::Chap { algorithm: ChapAlgorithm::MD5 };
/// assert_eq!(chap.protocol(), Protocol::CHAP);
/// assert_eq!(chap.to_string(), "chap MD5");
///
/// let pap = LcpConfigOption::parse(&[3, 4, 0xc0, 0x23])?;
/// assert_eq!(pap, LcpConfigOption::AuthProtocol(AuthProtocol::Pap));
/// // PAP carries no data: with some it is malformed, not `Other`.
/// let bad = LcpConfigOption::parse(&[3, 5, 0xc0, 0x23, 0])?;
/// assert!(matches!(bad, LcpConfigOption::Malformed(_)));
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthProtocol<'a> {
    /// PAP (RFC 1334), protocol c023 with no data.
    Pap,
    /// CHAP (RFC 1994), protocol c223 with one algorithm octet.
    Chap {
        /// MD5, MS-CHAP or MS-CHAPv2.
        algorithm: ChapAlgorithm,
    },
    /// EAP (RFC 3748), protocol c227 with no data.
    Eap,
    /// Any other protocol, with its data. (PAP, CHAP and EAP are never
    /// parsed as `Other`; a badly sized one is a malformed option.)
    Other {
        /// The authentication protocol.
        protocol: Protocol,
        /// The data after the protocol.
        data: &'a [u8],
    },
}

impl<'a> AuthProtocol<'a> {
    /// The protocol number on the wire; see the [example](Self#example).
    pub fn protocol(&self) -> Protocol {
        match self {
            AuthProtocol::Pap => Protocol::PAP,
            AuthProtocol::Chap { .. } => Protocol::CHAP,
            AuthProtocol::Eap => Protocol::EAP,
            AuthProtocol::Other { protocol, .. } => *protocol,
        }
    }

    /// `None` when a known protocol has the wrong data length.
    fn decode(data: &'a [u8]) -> Option<Self> {
        let (protocol, rest) = protocol_and_data(data)?;
        match protocol {
            Protocol::PAP => rest.is_empty().then_some(AuthProtocol::Pap),
            Protocol::CHAP => exact::<1>(rest).map(|[a]| AuthProtocol::Chap {
                algorithm: ChapAlgorithm(a),
            }),
            Protocol::EAP => rest.is_empty().then_some(AuthProtocol::Eap),
            _ => Some(AuthProtocol::Other {
                protocol,
                data: rest,
            }),
        }
    }

    /// The option data: protocol, then algorithm or data.
    fn parts(&self) -> ([u8; 3], usize, &'a [u8]) {
        let [hi, lo] = self.protocol().0.to_be_bytes();
        match self {
            AuthProtocol::Chap { algorithm } => ([hi, lo, algorithm.0], 3, &[]),
            AuthProtocol::Other { data, .. } => ([hi, lo, 0], 2, data),
            _ => ([hi, lo, 0], 2, &[]),
        }
    }
}

impl fmt::Display for AuthProtocol<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthProtocol::Pap => f.write_str("pap"),
            AuthProtocol::Chap { algorithm } => match algorithm.name() {
                Some(name) => write!(f, "chap {name}"),
                None => write!(f, "chap {:02x}", algorithm.0),
            },
            AuthProtocol::Eap => f.write_str("eap"),
            AuthProtocol::Other { protocol, data } => {
                write!(f, "{:#x}{}", protocol.0, SpacedHex(data))
            }
        }
    }
}

/// An LCP Configuration Option (RFC 1661 §6, RFC 1570, RFC 1990).
///
/// # Example
///
/// ```
/// use pptp_proto::wire::cp::{LcpConfigOption, LcpOption, RawOption};
///
/// let mru = LcpConfigOption::parse(&[1, 4, 0x05, 0x78])?;
/// assert_eq!(mru, LcpConfigOption::Mru(1400));
/// assert_eq!(mru.option(), LcpOption::MRU);
/// assert_eq!(mru.to_string(), "<mru 1400>");
/// let mut bytes = Vec::new();
/// mru.emit(&mut bytes);
/// assert_eq!(bytes, [1, 4, 0x05, 0x78]);
/// assert_eq!(mru.buffer_len(), 4);
///
/// // A 2-octet Magic-Number is malformed: kept raw, to be rejected.
/// let raw = RawOption::new(5, &[0x12, 0x34]);
/// assert_eq!(LcpConfigOption::from_raw(raw), LcpConfigOption::Malformed(raw));
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LcpConfigOption<'a> {
    /// Maximum-Receive-Unit.
    Mru(u16),
    /// Async-Control-Character-Map.
    Accm(u32),
    /// Authentication-Protocol.
    AuthProtocol(AuthProtocol<'a>),
    /// Quality-Protocol (c025 LQR with its 4-octet Reporting-Period).
    QualityProtocol {
        /// The quality protocol.
        protocol: Protocol,
        /// Its data.
        data: &'a [u8],
    },
    /// Magic-Number.
    MagicNumber(u32),
    /// Protocol-Field-Compression.
    Pfc,
    /// Address-and-Control-Field-Compression.
    Acfc,
    /// Callback (RFC 1570 §2.3).
    Callback {
        /// The Operation octet (6 is Microsoft's CBCP).
        operation: u8,
        /// The Message.
        message: &'a [u8],
    },
    /// Multilink MRRU.
    Mrru(u16),
    /// Multilink Short-Sequence-Number-Header-Format.
    Ssnhf,
    /// Multilink Endpoint-Discriminator.
    EndpointDiscriminator {
        /// The Class octet.
        class: u8,
        /// The Address, uninterpreted.
        address: &'a [u8],
    },
    /// A known type with a length wrong for it, kept raw.
    Malformed(RawOption<'a>),
    /// A type this crate does not interpret, kept raw.
    Unknown(RawOption<'a>),
}

impl<'a> LcpConfigOption<'a> {
    /// Parses the option at the start of `input`; see the
    /// [example](Self#example).
    pub fn parse(input: &'a [u8]) -> Result<Self, Error> {
        read_option(Self::WHAT, input, 0).map(Self::from_raw)
    }

    /// Interprets a raw option; unknown or badly sized ones stay raw (the
    /// [example](Self#example) shows one).
    pub fn from_raw(raw: RawOption<'a>) -> Self {
        let d = raw.data;
        let typed = match LcpOption(raw.kind) {
            LcpOption::MRU => u16_exact(d).map(Self::Mru),
            LcpOption::ACCM => u32_exact(d).map(Self::Accm),
            LcpOption::AUTHENTICATION_PROTOCOL => AuthProtocol::decode(d).map(Self::AuthProtocol),
            LcpOption::QUALITY_PROTOCOL => protocol_and_data(d)
                .map(|(protocol, data)| Self::QualityProtocol { protocol, data }),
            LcpOption::MAGIC_NUMBER => u32_exact(d).map(Self::MagicNumber),
            LcpOption::PFC => d.is_empty().then_some(Self::Pfc),
            LcpOption::ACFC => d.is_empty().then_some(Self::Acfc),
            LcpOption::CALLBACK => d
                .split_first()
                .map(|(&operation, message)| Self::Callback { operation, message }),
            LcpOption::MRRU => u16_exact(d).map(Self::Mrru),
            LcpOption::SSNHF => d.is_empty().then_some(Self::Ssnhf),
            LcpOption::ENDPOINT_DISCRIMINATOR => d
                .split_first()
                .map(|(&class, address)| Self::EndpointDiscriminator { class, address }),
            _ => return Self::Unknown(raw),
        };
        typed.unwrap_or(Self::Malformed(raw))
    }

    /// The option type; see the [example](Self#example).
    pub fn option(&self) -> LcpOption {
        LcpOption(match self {
            Self::Mru(_) => 1,
            Self::Accm(_) => 2,
            Self::AuthProtocol(_) => 3,
            Self::QualityProtocol { .. } => 4,
            Self::MagicNumber(_) => 5,
            Self::Pfc => 7,
            Self::Acfc => 8,
            Self::Callback { .. } => 13,
            Self::Mrru(_) => 17,
            Self::Ssnhf => 18,
            Self::EndpointDiscriminator { .. } => 19,
            Self::Malformed(raw) | Self::Unknown(raw) => raw.kind,
        })
    }

    /// The option data as a fixed head (at most 4 octets) and a tail.
    fn parts(&self) -> ([u8; 4], usize, &'a [u8]) {
        let short = |v: u16| {
            let [a, b] = v.to_be_bytes();
            ([a, b, 0, 0], 2, &[][..])
        };
        match *self {
            Self::Mru(v) | Self::Mrru(v) => short(v),
            Self::Accm(v) | Self::MagicNumber(v) => (v.to_be_bytes(), 4, &[]),
            Self::AuthProtocol(auth) => {
                let ([a, b, c], n, tail) = auth.parts();
                ([a, b, c, 0], n, tail)
            }
            Self::QualityProtocol { protocol, data } => {
                let (head, n, _) = short(protocol.0);
                (head, n, data)
            }
            Self::Pfc | Self::Acfc | Self::Ssnhf => ([0; 4], 0, &[]),
            Self::Callback {
                operation: b,
                message: tail,
            }
            | Self::EndpointDiscriminator {
                class: b,
                address: tail,
            } => ([b, 0, 0, 0], 1, tail),
            Self::Malformed(raw) | Self::Unknown(raw) => ([0; 4], 0, raw.data),
        }
    }

    /// Writes the option TLV; see the [example](Self#example).
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        let (head, n, tail) = self.parts();
        put_option(buf, self.option().0, head.get(..n).unwrap_or(&[]), tail);
    }

    /// The bytes [`emit`](Self::emit) writes; see the [example](Self#example).
    pub fn buffer_len(&self) -> usize {
        let (_, n, tail) = self.parts();
        option_len(n, tail.len())
    }
}

impl<'a> ConfigOption<'a> for LcpConfigOption<'a> {
    const WHAT: &'static str = "LCP option";

    fn from_raw(raw: RawOption<'a>) -> Self {
        LcpConfigOption::from_raw(raw)
    }

    fn kind(&self) -> u8 {
        self.option().0
    }

    fn is_recognised(&self) -> bool {
        !matches!(self, Self::Malformed(_) | Self::Unknown(_))
    }

    fn emit<B: BufMut>(&self, buf: &mut B) {
        LcpConfigOption::emit(self, buf);
    }

    fn buffer_len(&self) -> usize {
        LcpConfigOption::buffer_len(self)
    }
}

impl fmt::Display for LcpConfigOption<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mru(v) => write!(f, "<mru {v}>"),
            Self::Accm(v) => write!(f, "<asyncmap {v:#x}>"),
            Self::AuthProtocol(auth) => write!(f, "<auth {auth}>"),
            Self::QualityProtocol { protocol, data } => match *protocol {
                Protocol::LQR => write!(f, "<quality lqr{}>", SpacedHex(data)),
                p => write!(f, "<quality {:#x}{}>", p.0, SpacedHex(data)),
            },
            Self::MagicNumber(v) => write!(f, "<magic {v:#x}>"),
            Self::Pfc => f.write_str("<pcomp>"),
            Self::Acfc => f.write_str("<accomp>"),
            Self::Callback { operation, message } => match operation {
                6 => write!(f, "<callback CBCP{}>", SpacedHex(message)),
                op => write!(f, "<callback {op:#x}{}>", SpacedHex(message)),
            },
            Self::Mrru(v) => write!(f, "<mrru {v}>"),
            Self::Ssnhf => f.write_str("<ssnhf>"),
            Self::EndpointDiscriminator { class, address } => {
                write!(f, "<endpoint {class:02x}{}>", SpacedHex(address))
            }
            Self::Malformed(raw) | Self::Unknown(raw) => fmt_raw(f, raw),
        }
    }
}

// ---------------------------------------------------------------------------
// LCP-only packet data.

/// The data of an LCP Protocol-Reject (RFC 1661 §5.7).
///
/// # Example
///
/// A peer without MPPE rejects our CCP (80fd) Configure-Request:
///
/// ```
/// use pptp_proto::wire::{cp::ProtocolReject, ppp::Protocol, Error};
///
/// let data = [0x80, 0xfd, 1, 1, 0, 10, 18, 6, 0x01, 0, 0, 0x40];
/// let reject = ProtocolReject::parse(&data)?;
/// assert_eq!(reject.protocol, Protocol::CCP);
/// assert_eq!(reject.information, &data[2..]);
/// let mut bytes = Vec::new();
/// reject.emit(&mut bytes);
/// assert_eq!(bytes, data);
/// assert_eq!(reject.buffer_len(), data.len());
/// assert!(matches!(ProtocolReject::parse(&[0x80]), Err(Error::Truncated { needed: 2, .. })));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProtocolReject<'a> {
    /// The protocol of the rejected frame.
    pub protocol: Protocol,
    /// The rejected frame's information field (maybe truncated to the MRU).
    pub information: &'a [u8],
}

impl<'a> ProtocolReject<'a> {
    /// Parses the data of a Protocol-Reject.
    /// See the [example](Self#example).
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        need("LCP Protocol-Reject", data, 2)?;
        let (protocol, information) = protocol_and_data(data).ok_or(Error::Truncated {
            what: "LCP Protocol-Reject",
            needed: 2,
            available: data.len(),
        })?;
        Ok(ProtocolReject {
            protocol,
            information,
        })
    }

    /// Writes the data; see the [example](Self#example).
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        buf.put_u16(self.protocol.0);
        buf.put_slice(self.information);
    }

    /// The bytes [`emit`](Self::emit) writes; see the [example](Self#example).
    pub fn buffer_len(&self) -> usize {
        2 + self.information.len()
    }
}

/// The data of an LCP Echo-Request, Echo-Reply (RFC 1661 §5.8) or
/// Discard-Request (§5.9): Magic-Number and Data.
///
/// # Example
///
/// An Echo-Request answered with an Echo-Reply carrying our own magic
/// number:
///
/// ```
/// use pptp_proto::wire::{cp::{Code, CpPacket, Echo}, Error};
///
/// let request = CpPacket::parse(&[9, 3, 0, 8, 0x5f, 0x3c, 0x2a, 0x19])?;
/// assert_eq!(Echo::parse(request.data)?, Echo { magic_number: 0x5f3c_2a19, data: &[] });
///
/// let echo = Echo { magic_number: 0x0bad_cafe, data: &[] };
/// let mut data = Vec::new();
/// echo.emit(&mut data);
/// assert_eq!(echo.buffer_len(), 4);
/// let reply = CpPacket::new(Code::ECHO_REPLY, request.identifier, &data);
/// assert_eq!(reply.data, [0x0b, 0xad, 0xca, 0xfe]);
/// assert!(matches!(Echo::parse(&[0, 0, 1]), Err(Error::Truncated { needed: 4, .. })));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Echo<'a> {
    /// The sender's Magic-Number, or zero if none was negotiated.
    pub magic_number: u32,
    /// Uninterpreted data.
    pub data: &'a [u8],
}

impl<'a> Echo<'a> {
    /// Parses the data of an Echo-Request, Echo-Reply or Discard-Request.
    /// See the [example](Self#example).
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let (magic_number, data) = magic_and_rest("LCP Echo", data)?;
        Ok(Echo { magic_number, data })
    }

    /// Writes the data; see the [example](Self#example).
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        buf.put_u32(self.magic_number);
        buf.put_slice(self.data);
    }

    /// The bytes [`emit`](Self::emit) writes; see the [example](Self#example).
    pub fn buffer_len(&self) -> usize {
        4 + self.data.len()
    }
}

fn magic_and_rest<'a>(what: &'static str, data: &'a [u8]) -> Result<(u32, &'a [u8]), Error> {
    need(what, data, 4)?;
    let (magic, rest) = split::<4>(data).ok_or(Error::Truncated {
        what,
        needed: 4,
        available: data.len(),
    })?;
    Ok((u32::from_be_bytes(magic), rest))
}

/// The data of a Code-Reject (RFC 1661 §5.6): the rejected packet.
///
/// # Example
///
/// A Code-Reject of a packet with the unknown Code 0x2a:
///
/// ```
/// use pptp_proto::wire::cp::{Code, CodeReject, CpPacket};
///
/// let packet = CpPacket::parse(&[7, 1, 0, 10, 0x2a, 7, 0, 6, 0xab, 0xcd])?;
/// let reject = CodeReject::parse(packet.data)?;
/// assert_eq!(reject.rejected_code(), Some(Code(0x2a)));
/// assert_eq!(CpPacket::parse(reject.rejected_packet)?.identifier, 7);
/// let mut bytes = Vec::new();
/// reject.emit(&mut bytes);
/// assert_eq!(bytes, packet.data);
/// assert_eq!(reject.buffer_len(), 6);
/// assert_eq!(CodeReject::parse(&[])?.rejected_code(), None);
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CodeReject<'a> {
    /// The rejected packet, header included (maybe truncated to the MRU).
    pub rejected_packet: &'a [u8],
}

impl<'a> CodeReject<'a> {
    /// Parses the data of a Code-Reject (any bytes will do).
    /// See the [example](Self#example).
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        Ok(CodeReject {
            rejected_packet: data,
        })
    }

    /// The Code of the rejected packet, if it was not truncated away; see
    /// the [example](Self#example).
    pub fn rejected_code(&self) -> Option<Code> {
        self.rejected_packet.first().copied().map(Code)
    }

    /// Writes the data; see the [example](Self#example).
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(self.rejected_packet);
    }

    /// The bytes [`emit`](Self::emit) writes; see the [example](Self#example).
    pub fn buffer_len(&self) -> usize {
        self.rejected_packet.len()
    }
}

/// The data of an LCP Identification (RFC 1570 §2.1).
///
/// # Example
///
/// The Identification a Windows client sends:
///
/// ```
/// use pptp_proto::wire::cp::Identification;
///
/// let data = b"\x5f\x3c\x2a\x19MSRASV5.20";
/// let ident = Identification::parse(data)?;
/// assert_eq!(ident.magic_number, 0x5f3c_2a19);
/// assert_eq!(ident.message, b"MSRASV5.20");
/// let mut bytes = Vec::new();
/// ident.emit(&mut bytes);
/// assert_eq!(bytes, data);
/// assert_eq!(ident.buffer_len(), 14);
/// assert!(Identification::parse(&data[..3]).is_err());
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Identification<'a> {
    /// The sender's Magic-Number.
    pub magic_number: u32,
    /// The Message, human-readable.
    pub message: &'a [u8],
}

impl<'a> Identification<'a> {
    /// Parses the data of an Identification.
    /// See the [example](Self#example).
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let (magic_number, message) = magic_and_rest("LCP Identification", data)?;
        Ok(Identification {
            magic_number,
            message,
        })
    }

    /// Writes the data; see the [example](Self#example).
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        buf.put_u32(self.magic_number);
        buf.put_slice(self.message);
    }

    /// The bytes [`emit`](Self::emit) writes; see the [example](Self#example).
    pub fn buffer_len(&self) -> usize {
        4 + self.message.len()
    }
}

/// The data of an LCP Time-Remaining (RFC 1570 §2.2).
///
/// # Example
///
/// ```
/// use pptp_proto::wire::{cp::TimeRemaining, Error};
///
/// let data = b"\0\0\0\x01\0\0\x0e\x10bye";
/// let left = TimeRemaining::parse(data)?;
/// assert_eq!((left.magic_number, left.seconds, left.message), (1, 3600, &b"bye"[..]));
/// let mut bytes = Vec::new();
/// left.emit(&mut bytes);
/// assert_eq!(bytes, data);
/// assert_eq!(left.buffer_len(), 11);
/// assert!(matches!(TimeRemaining::parse(&data[..7]), Err(Error::Truncated { needed: 8, .. })));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeRemaining<'a> {
    /// The sender's Magic-Number.
    pub magic_number: u32,
    /// Seconds left in the session.
    pub seconds: u32,
    /// The Message, human-readable.
    pub message: &'a [u8],
}

impl<'a> TimeRemaining<'a> {
    /// Parses the data of a Time-Remaining.
    /// See the [example](Self#example).
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        const WHAT: &str = "LCP Time-Remaining";
        let (magic_number, rest) = magic_and_rest(WHAT, data)?;
        need(WHAT, data, 8)?;
        let (seconds, message) = magic_and_rest(WHAT, rest)?;
        Ok(TimeRemaining {
            magic_number,
            seconds,
            message,
        })
    }

    /// Writes the data; see the [example](Self#example).
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        buf.put_u32(self.magic_number);
        buf.put_u32(self.seconds);
        buf.put_slice(self.message);
    }

    /// The bytes [`emit`](Self::emit) writes; see the [example](Self#example).
    pub fn buffer_len(&self) -> usize {
        8 + self.message.len()
    }
}

/// The data of a Terminate-Request or Terminate-Ack (RFC 1661 §5.5).
///
/// # Example
///
/// ```
/// use pptp_proto::wire::cp::{Code, CpPacket, Terminate};
///
/// let request = CpPacket::parse(b"\x05\x02\x00\x10User request")?;
/// assert_eq!(request.code, Code::TERMINATE_REQUEST);
/// let term = Terminate::parse(request.data)?;
/// assert_eq!(term.data, b"User request");
/// let mut bytes = Vec::new();
/// term.emit(&mut bytes);
/// assert_eq!(bytes, request.data);
/// assert_eq!(term.buffer_len(), 12);
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Terminate<'a> {
    /// Uninterpreted data (pppd puts a human-readable reason here).
    pub data: &'a [u8],
}

impl<'a> Terminate<'a> {
    /// Parses the data of a Terminate packet (any bytes will do).
    /// See the [example](Self#example).
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        Ok(Terminate { data })
    }

    /// Writes the data; see the [example](Self#example).
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(self.data);
    }

    /// The bytes [`emit`](Self::emit) writes; see the [example](Self#example).
    pub fn buffer_len(&self) -> usize {
        self.data.len()
    }
}

// ---------------------------------------------------------------------------
// IPCP.

/// Van Jacobson Compressed TCP/IP, the IP-Compression-Protocol value of
/// RFC 1332 §3.2.
pub const VAN_JACOBSON: Protocol = Protocol(0x002d);

/// The IP-Compression-Protocol value of RFC 1172's draft of VJ (pppd's
/// "old-VJ").
const VAN_JACOBSON_OLD: Protocol = Protocol(0x0037);

crate::wire::code_point! {
    /// An IPCP Configuration Option type (RFC 1332 §3, RFC 1877 §1).
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::cp::{IpcpConfigOption, IpcpOption};
    ///
    /// assert_eq!(IpcpOption::PRIMARY_DNS, IpcpOption(0x81));
    /// assert_eq!(IpcpOption::PRIMARY_DNS.name(), Some("ms-dns1"));
    /// let dns = IpcpConfigOption::PrimaryDns([8, 8, 8, 8].into());
    /// assert_eq!(dns.option(), IpcpOption::PRIMARY_DNS);
    /// ```
    pub struct IpcpOption(u8) {
        /// IP-Addresses, deprecated (RFC 1172 §5.1); kept raw.
        IP_ADDRESSES = 1 => "addrs",
        /// IP-Compression-Protocol (RFC 1332 §3.2).
        IP_COMPRESSION_PROTOCOL = 2 => "compress",
        /// IP-Address (RFC 1332 §3.3).
        IP_ADDRESS = 3 => "addr",
        /// Primary DNS Server Address (RFC 1877 §1.1).
        PRIMARY_DNS = 0x81 => "ms-dns1",
        /// Primary NBNS Server Address (RFC 1877 §1.2).
        PRIMARY_NBNS = 0x82 => "ms-wins1",
        /// Secondary DNS Server Address (RFC 1877 §1.3).
        SECONDARY_DNS = 0x83 => "ms-dns2",
        /// Secondary NBNS Server Address (RFC 1877 §1.4).
        SECONDARY_NBNS = 0x84 => "ms-wins2",
    }
}

/// An IPCP Configuration Option (RFC 1332 §3, RFC 1877).
///
/// # Example
///
/// A client asks for an address (0.0.0.0) and for VJ compression:
///
/// ```
/// use std::net::Ipv4Addr;
/// use pptp_proto::wire::cp::{IpcpConfigOption, IpcpOption, RawOption, VAN_JACOBSON};
///
/// let addr = IpcpConfigOption::parse(&[3, 6, 0, 0, 0, 0])?;
/// assert_eq!(addr.option(), IpcpOption::IP_ADDRESS);
/// assert_eq!(addr.address(), Some(Ipv4Addr::UNSPECIFIED));
///
/// let vj = IpcpConfigOption::from_raw(RawOption::new(2, &[0x00, 0x2d, 0x0f, 0x01]));
/// let expected = IpcpConfigOption::IpCompressionProtocol {
///     protocol: VAN_JACOBSON,
///     data: &[0x0f, 0x01], // Max-Slot-Id 15, Comp-Slot-Id 1
/// };
/// assert_eq!(vj, expected);
/// assert_eq!(vj.address(), None);
/// assert_eq!(vj.to_string(), "<compress VJ 0f 01>");
/// assert_eq!(vj.buffer_len(), 6);
///
/// let mut bytes = Vec::new();
/// IpcpConfigOption::IpAddress(Ipv4Addr::new(10, 0, 0, 2)).emit(&mut bytes);
/// assert_eq!(bytes, [3, 6, 10, 0, 0, 2]);
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpcpConfigOption<'a> {
    /// IP-Compression-Protocol, for example [`VAN_JACOBSON`] with
    /// Max-Slot-Id and Comp-Slot-Id.
    IpCompressionProtocol {
        /// The compression protocol.
        protocol: Protocol,
        /// Its data.
        data: &'a [u8],
    },
    /// IP-Address (0.0.0.0 asks the peer to assign one).
    IpAddress(Ipv4Addr),
    /// Primary DNS Server Address.
    PrimaryDns(Ipv4Addr),
    /// Primary NBNS (WINS) Server Address.
    PrimaryNbns(Ipv4Addr),
    /// Secondary DNS Server Address.
    SecondaryDns(Ipv4Addr),
    /// Secondary NBNS (WINS) Server Address.
    SecondaryNbns(Ipv4Addr),
    /// A known type with a length wrong for it, kept raw.
    Malformed(RawOption<'a>),
    /// A type this crate does not interpret, kept raw.
    Unknown(RawOption<'a>),
}

impl<'a> IpcpConfigOption<'a> {
    /// Parses the option at the start of `input`; see the
    /// [example](Self#example).
    pub fn parse(input: &'a [u8]) -> Result<Self, Error> {
        read_option(Self::WHAT, input, 0).map(Self::from_raw)
    }

    /// Interprets a raw option; unknown or badly sized ones stay raw (the
    /// [example](Self#example) shows one).
    pub fn from_raw(raw: RawOption<'a>) -> Self {
        let addr = || exact::<4>(raw.data).map(Ipv4Addr::from);
        let typed = match IpcpOption(raw.kind) {
            IpcpOption::IP_COMPRESSION_PROTOCOL => protocol_and_data(raw.data)
                .map(|(protocol, data)| Self::IpCompressionProtocol { protocol, data }),
            IpcpOption::IP_ADDRESS => addr().map(Self::IpAddress),
            IpcpOption::PRIMARY_DNS => addr().map(Self::PrimaryDns),
            IpcpOption::PRIMARY_NBNS => addr().map(Self::PrimaryNbns),
            IpcpOption::SECONDARY_DNS => addr().map(Self::SecondaryDns),
            IpcpOption::SECONDARY_NBNS => addr().map(Self::SecondaryNbns),
            _ => return Self::Unknown(raw),
        };
        typed.unwrap_or(Self::Malformed(raw))
    }

    /// The option type; see the [example](Self#example).
    pub fn option(&self) -> IpcpOption {
        match self {
            Self::IpCompressionProtocol { .. } => IpcpOption::IP_COMPRESSION_PROTOCOL,
            Self::IpAddress(_) => IpcpOption::IP_ADDRESS,
            Self::PrimaryDns(_) => IpcpOption::PRIMARY_DNS,
            Self::PrimaryNbns(_) => IpcpOption::PRIMARY_NBNS,
            Self::SecondaryDns(_) => IpcpOption::SECONDARY_DNS,
            Self::SecondaryNbns(_) => IpcpOption::SECONDARY_NBNS,
            Self::Malformed(raw) | Self::Unknown(raw) => IpcpOption(raw.kind),
        }
    }

    /// The address of the address-valued options; see the
    /// [example](Self#example).
    pub fn address(&self) -> Option<Ipv4Addr> {
        match *self {
            Self::IpAddress(a)
            | Self::PrimaryDns(a)
            | Self::PrimaryNbns(a)
            | Self::SecondaryDns(a)
            | Self::SecondaryNbns(a) => Some(a),
            _ => None,
        }
    }

    fn parts(&self) -> ([u8; 4], usize, &'a [u8]) {
        match *self {
            Self::IpCompressionProtocol { protocol, data } => {
                let [a, b] = protocol.0.to_be_bytes();
                ([a, b, 0, 0], 2, data)
            }
            Self::Malformed(raw) | Self::Unknown(raw) => ([0; 4], 0, raw.data),
            _ => (self.address().map_or([0; 4], |a| a.octets()), 4, &[]),
        }
    }

    /// Writes the option TLV; see the [example](Self#example).
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        let (head, n, tail) = self.parts();
        put_option(buf, self.option().0, head.get(..n).unwrap_or(&[]), tail);
    }

    /// The bytes [`emit`](Self::emit) writes; see the [example](Self#example).
    pub fn buffer_len(&self) -> usize {
        let (_, n, tail) = self.parts();
        option_len(n, tail.len())
    }
}

impl<'a> ConfigOption<'a> for IpcpConfigOption<'a> {
    const WHAT: &'static str = "IPCP option";

    fn from_raw(raw: RawOption<'a>) -> Self {
        IpcpConfigOption::from_raw(raw)
    }

    fn kind(&self) -> u8 {
        self.option().0
    }

    fn is_recognised(&self) -> bool {
        !matches!(self, Self::Malformed(_) | Self::Unknown(_))
    }

    fn emit<B: BufMut>(&self, buf: &mut B) {
        IpcpConfigOption::emit(self, buf);
    }

    fn buffer_len(&self) -> usize {
        IpcpConfigOption::buffer_len(self)
    }
}

impl fmt::Display for IpcpConfigOption<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IpCompressionProtocol { protocol, data } => {
                match *protocol {
                    VAN_JACOBSON => f.write_str("<compress VJ")?,
                    VAN_JACOBSON_OLD => f.write_str("<compress old-VJ")?,
                    p => write!(f, "<compress {:#x}", p.0)?,
                }
                write!(f, "{}>", SpacedHex(data))
            }
            Self::Malformed(raw) | Self::Unknown(raw) => fmt_raw(f, raw),
            _ => {
                let name = self.option().name().unwrap_or("opt");
                let addr = self.address().unwrap_or(Ipv4Addr::UNSPECIFIED);
                write!(f, "<{name} {addr}>")
            }
        }
    }
}

// ---------------------------------------------------------------------------
// IPv6CP.

crate::wire::code_point! {
    /// An IPv6CP Configuration Option type (RFC 5072 §4).
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::cp::{Ipv6cpConfigOption, Ipv6cpOption};
    ///
    /// assert_eq!(Ipv6cpOption::INTERFACE_IDENTIFIER, Ipv6cpOption(1));
    /// assert_eq!(Ipv6cpOption::INTERFACE_IDENTIFIER.name(), Some("addr"));
    /// let id = Ipv6cpConfigOption::InterfaceIdentifier([0, 0, 0, 0, 0, 0, 0, 1]);
    /// assert_eq!(id.option(), Ipv6cpOption::INTERFACE_IDENTIFIER);
    /// ```
    pub struct Ipv6cpOption(u8) {
        /// Interface-Identifier (RFC 5072 §4.1).
        INTERFACE_IDENTIFIER = 1 => "addr",
        /// IPv6-Compression-Protocol (RFC 5072 §4.2).
        IPV6_COMPRESSION_PROTOCOL = 2 => "compress",
    }
}

/// An IPv6CP Configuration Option (RFC 5072 §4).
///
/// # Example
///
/// ```
/// use pptp_proto::wire::cp::{Ipv6cpConfigOption, Ipv6cpOption, RawOption};
///
/// let bytes = [1, 10, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55];
/// let id = Ipv6cpConfigOption::parse(&bytes)?;
/// assert_eq!(id, Ipv6cpConfigOption::InterfaceIdentifier(bytes[2..].try_into().unwrap()));
/// assert_eq!(id.option(), Ipv6cpOption::INTERFACE_IDENTIFIER);
/// assert_eq!(id.to_string(), "<addr fe80::0211:22ff:fe33:4455>");
/// let mut out = Vec::new();
/// id.emit(&mut out);
/// assert_eq!(out, bytes);
/// assert_eq!(id.buffer_len(), 10);
///
/// // An identifier of 4 octets is malformed.
/// let short = RawOption::new(1, &[1, 2, 3, 4]);
/// assert_eq!(Ipv6cpConfigOption::from_raw(short), Ipv6cpConfigOption::Malformed(short));
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ipv6cpConfigOption<'a> {
    /// Interface-Identifier: the low 64 bits of the link-local address.
    InterfaceIdentifier([u8; 8]),
    /// IPv6-Compression-Protocol.
    Ipv6CompressionProtocol {
        /// The compression protocol.
        protocol: Protocol,
        /// Its data.
        data: &'a [u8],
    },
    /// A known type with a length wrong for it, kept raw.
    Malformed(RawOption<'a>),
    /// A type this crate does not interpret, kept raw.
    Unknown(RawOption<'a>),
}

impl<'a> Ipv6cpConfigOption<'a> {
    /// Parses the option at the start of `input`; see the
    /// [example](Self#example).
    pub fn parse(input: &'a [u8]) -> Result<Self, Error> {
        read_option(Self::WHAT, input, 0).map(Self::from_raw)
    }

    /// Interprets a raw option; unknown or badly sized ones stay raw (the
    /// [example](Self#example) shows one).
    pub fn from_raw(raw: RawOption<'a>) -> Self {
        let typed = match Ipv6cpOption(raw.kind) {
            Ipv6cpOption::INTERFACE_IDENTIFIER => {
                exact::<8>(raw.data).map(Self::InterfaceIdentifier)
            }
            Ipv6cpOption::IPV6_COMPRESSION_PROTOCOL => protocol_and_data(raw.data)
                .map(|(protocol, data)| Self::Ipv6CompressionProtocol { protocol, data }),
            _ => return Self::Unknown(raw),
        };
        typed.unwrap_or(Self::Malformed(raw))
    }

    /// The option type; see the [example](Self#example).
    pub fn option(&self) -> Ipv6cpOption {
        match self {
            Self::InterfaceIdentifier(_) => Ipv6cpOption::INTERFACE_IDENTIFIER,
            Self::Ipv6CompressionProtocol { .. } => Ipv6cpOption::IPV6_COMPRESSION_PROTOCOL,
            Self::Malformed(raw) | Self::Unknown(raw) => Ipv6cpOption(raw.kind),
        }
    }

    /// Writes the option TLV; see the [example](Self#example).
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        let kind = self.option().0;
        match self {
            Self::InterfaceIdentifier(id) => put_option(buf, kind, id, &[]),
            Self::Ipv6CompressionProtocol { protocol, data } => {
                put_option(buf, kind, &protocol.0.to_be_bytes(), data)
            }
            Self::Malformed(raw) | Self::Unknown(raw) => raw.emit(buf),
        }
    }

    /// The bytes [`emit`](Self::emit) writes; see the [example](Self#example).
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::InterfaceIdentifier(_) => option_len(8, 0),
            Self::Ipv6CompressionProtocol { data, .. } => option_len(2, data.len()),
            Self::Malformed(raw) | Self::Unknown(raw) => raw.buffer_len(),
        }
    }
}

impl<'a> ConfigOption<'a> for Ipv6cpConfigOption<'a> {
    const WHAT: &'static str = "IPv6CP option";

    fn from_raw(raw: RawOption<'a>) -> Self {
        Ipv6cpConfigOption::from_raw(raw)
    }

    fn kind(&self) -> u8 {
        self.option().0
    }

    fn is_recognised(&self) -> bool {
        !matches!(self, Self::Malformed(_) | Self::Unknown(_))
    }

    fn emit<B: BufMut>(&self, buf: &mut B) {
        Ipv6cpConfigOption::emit(self, buf);
    }

    fn buffer_len(&self) -> usize {
        Ipv6cpConfigOption::buffer_len(self)
    }
}

impl fmt::Display for Ipv6cpConfigOption<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // pppd prints the link-local address the identifier makes.
            Self::InterfaceIdentifier(id) => {
                f.write_str("<addr fe80::")?;
                for (i, pair) in id.chunks(2).enumerate() {
                    let sep = if i == 0 { "" } else { ":" };
                    write!(f, "{sep}{}", super::Hex(pair))?;
                }
                f.write_str(">")
            }
            Self::Ipv6CompressionProtocol { protocol, data } => {
                write!(f, "<compress {:#x}{}>", protocol.0, SpacedHex(data))
            }
            Self::Malformed(raw) | Self::Unknown(raw) => fmt_raw(f, raw),
        }
    }
}

// ---------------------------------------------------------------------------
// CCP.

crate::wire::code_point! {
    /// A CCP Configuration Option type (RFC 1962 §4, IANA "PPP CCP
    /// Configuration Option Types").
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::cp::{CcpConfigOption, CcpOption, RawOption};
    ///
    /// assert_eq!(CcpOption::MPPE, CcpOption(18));
    /// assert_eq!(CcpOption::DEFLATE.name(), Some("deflate"));
    /// let deflate = CcpConfigOption::from_raw(RawOption::new(26, &[0x78, 0]));
    /// assert_eq!(deflate.option(), CcpOption::DEFLATE);
    /// assert_eq!(deflate.to_string(), "<deflate 15>");
    /// ```
    pub struct CcpOption(u8) {
        /// Organization-Unique-Identifier (RFC 1962 §4.1).
        OUI = 0 => "oui",
        /// Predictor type 1 (RFC 1978).
        PREDICTOR_1 = 1 => "predictor 1",
        /// Predictor type 2 (RFC 1978).
        PREDICTOR_2 = 2 => "predictor 2",
        /// Puddle Jumper.
        PUDDLE_JUMPER = 3 => "puddle",
        /// Hewlett-Packard PPC.
        HP_PPC = 16 => "hp-ppc",
        /// Stac Electronics LZS (RFC 1974).
        STAC_LZS = 17 => "lzs",
        /// Microsoft PPC: MPPE and MPPC (RFC 3078 §2, RFC 2118 §2).
        MPPE = 18 => "mppe",
        /// Gandalf FZA (RFC 1993).
        GANDALF_FZA = 19 => "fza",
        /// V.42bis compression.
        V42BIS = 20 => "v42bis",
        /// BSD LZW Compress (RFC 1977).
        BSD_COMPRESS = 21 => "bsd",
        /// LZS-DCP (RFC 1967).
        LZS_DCP = 23 => "lzs-dcp",
        /// Deflate with the type of its draft (pppd still offers it).
        DEFLATE_DRAFT = 24 => "deflate(old#)",
        /// Deflate (RFC 1979).
        DEFLATE = 26 => "deflate",
    }
}

/// A CCP Configuration Option (RFC 1962). Only MPPE/MPPC is interpreted;
/// every other method is kept raw to be rejected.
///
/// # Example
///
/// pppd's request for stateless 128-bit MPPE:
///
/// ```
/// use pptp_proto::wire::{cp::{CcpConfigOption, CcpOption, RawOption}, mppe::MppeBits};
///
/// let mppe = CcpConfigOption::parse(&[18, 6, 0x01, 0, 0, 0x40])?;
/// assert_eq!(mppe, CcpConfigOption::Mppe(MppeBits::STATELESS | MppeBits::BITS_128));
/// assert_eq!(mppe.option(), CcpOption::MPPE);
/// assert_eq!(mppe.to_string(), "<mppe +H -M +S -L -D -C>");
/// assert_eq!(mppe.buffer_len(), 6);
/// let mut bytes = Vec::new();
/// CcpConfigOption::Mppe(MppeBits::BITS_128).emit(&mut bytes);
/// assert_eq!(bytes, [18, 6, 0, 0, 0, 0x40]);
///
/// // Five octets of bits are malformed.
/// let raw = RawOption::new(18, &[0, 0, 0, 0x40, 0]);
/// assert_eq!(CcpConfigOption::from_raw(raw), CcpConfigOption::Malformed(raw));
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CcpConfigOption<'a> {
    /// MPPE/MPPC Supported Bits (RFC 3078 §2.1).
    Mppe(MppeBits),
    /// A known type with a length wrong for it, kept raw.
    Malformed(RawOption<'a>),
    /// A type this crate does not interpret, kept raw.
    Unknown(RawOption<'a>),
}

impl<'a> CcpConfigOption<'a> {
    /// Parses the option at the start of `input`; see the
    /// [example](Self#example).
    pub fn parse(input: &'a [u8]) -> Result<Self, Error> {
        read_option(Self::WHAT, input, 0).map(Self::from_raw)
    }

    /// Interprets a raw option; unknown or badly sized ones stay raw (the
    /// [example](Self#example) shows one).
    pub fn from_raw(raw: RawOption<'a>) -> Self {
        match CcpOption(raw.kind) {
            CcpOption::MPPE => u32_exact(raw.data)
                .map(|bits| Self::Mppe(MppeBits::from_bits_retain(bits)))
                .unwrap_or(Self::Malformed(raw)),
            _ => Self::Unknown(raw),
        }
    }

    /// The option type; see the [example](Self#example).
    pub fn option(&self) -> CcpOption {
        match self {
            Self::Mppe(_) => CcpOption::MPPE,
            Self::Malformed(raw) | Self::Unknown(raw) => CcpOption(raw.kind),
        }
    }

    /// Writes the option TLV; see the [example](Self#example).
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        match self {
            Self::Mppe(bits) => put_option(buf, 18, &bits.bits().to_be_bytes(), &[]),
            Self::Malformed(raw) | Self::Unknown(raw) => raw.emit(buf),
        }
    }

    /// The bytes [`emit`](Self::emit) writes; see the [example](Self#example).
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::Mppe(_) => option_len(4, 0),
            Self::Malformed(raw) | Self::Unknown(raw) => raw.buffer_len(),
        }
    }
}

impl<'a> ConfigOption<'a> for CcpConfigOption<'a> {
    const WHAT: &'static str = "CCP option";

    fn from_raw(raw: RawOption<'a>) -> Self {
        CcpConfigOption::from_raw(raw)
    }

    fn kind(&self) -> u8 {
        self.option().0
    }

    fn is_recognised(&self) -> bool {
        matches!(self, Self::Mppe(_))
    }

    fn emit<B: BufMut>(&self, buf: &mut B) {
        CcpConfigOption::emit(self, buf);
    }

    fn buffer_len(&self) -> usize {
        CcpConfigOption::buffer_len(self)
    }
}

/// pppd's `mppe +H -M +S -L -D -C`, then ` +U (xx xx xx xx)` when bits
/// outside those six are set.
struct MppeDisplay(MppeBits);

impl fmt::Display for MppeDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        let flags = [
            ('H', MppeBits::STATELESS),
            ('M', MppeBits::BITS_56),
            ('S', MppeBits::BITS_128),
            ('L', MppeBits::BITS_40),
            ('D', MppeBits::OBSOLETE_D),
            ('C', MppeBits::MPPC),
        ];
        f.write_str("mppe")?;
        let mut known = MppeBits::empty();
        for (letter, bit) in flags {
            let sign = if b.contains(bit) { '+' } else { '-' };
            write!(f, " {sign}{letter}")?;
            known |= bit;
        }
        if !b.difference(known).is_empty() {
            write!(f, " +U ({})", SpacedHex(&b.bits().to_be_bytes()).trim())?;
        }
        Ok(())
    }
}

impl SpacedHex<'_> {
    /// The same bytes without the leading space.
    fn trim(&self) -> TrimmedHex<'_> {
        TrimmedHex(self.0)
    }
}

/// Bytes as `xx xx xx`.
struct TrimmedHex<'a>(&'a [u8]);

impl fmt::Display for TrimmedHex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((first, rest)) = self.0.split_first() else {
            return Ok(());
        };
        write!(f, "{first:02x}{}", SpacedHex(rest))
    }
}

/// pppd's spelling of the compression methods it knows but this crate keeps
/// raw (RFC 1979 §2.1 Deflate window/method/check, RFC 1977 §2.1 BSD).
fn fmt_ccp_raw(f: &mut fmt::Formatter<'_>, raw: &RawOption<'_>) -> fmt::Result {
    let kind = CcpOption(raw.kind);
    match (kind, raw.data) {
        (CcpOption::DEFLATE | CcpOption::DEFLATE_DRAFT, [window, check, rest @ ..]) => {
            let name = kind.name().unwrap_or("deflate");
            write!(f, "<{name} {}", (window >> 4) + 8)?;
            if window & 0x0f != 8 {
                write!(f, " method {}", window & 0x0f)?;
            }
            if *check != 0 {
                write!(f, " check {check}")?;
            }
            write!(f, "{}>", SpacedHex(rest))
        }
        (CcpOption::BSD_COMPRESS, [bits, rest @ ..]) => {
            write!(f, "<bsd v{} {}{}>", bits >> 5, bits & 0x1f, SpacedHex(rest))
        }
        (CcpOption::PREDICTOR_1 | CcpOption::PREDICTOR_2, data) => {
            write!(f, "<{kind}{}>", SpacedHex(data))
        }
        _ => fmt_raw(f, raw),
    }
}

impl fmt::Display for CcpConfigOption<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mppe(bits) => write!(f, "<{}>", MppeDisplay(*bits)),
            Self::Unknown(raw) => fmt_ccp_raw(f, raw),
            Self::Malformed(raw) => fmt_raw(f, raw),
        }
    }
}

// ---------------------------------------------------------------------------
// Display in pppd's debug-log style.

/// The most trailing bytes printed before `...`, as pppd's LCP does.
const MAX_HEX_DUMP: usize = 32;

/// A [`CpPacket`] with its protocol, printed the way pppd's debug log does:
/// `[IPCP ConfNak id=0x2 <addr 10.0.0.2> <ms-dns1 8.8.8.8>]`.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::{cp::{Code, CpDisplay, CpPacket}, ppp::Protocol};
///
/// let echo = CpPacket::new(Code::ECHO_REQUEST, 0x2a, &[0, 0, 0x10, 0x92, b'h', b'i']);
/// let shown: CpDisplay = echo.display(Protocol::LCP);
/// assert_eq!(shown.to_string(), "[LCP EchoReq id=0x2a magic=0x1092 68 69]");
///
/// let term = CpPacket::new(Code::TERMINATE_REQUEST, 2, b"User request");
/// assert_eq!(term.display(Protocol::IPCP).to_string(), "[IPCP TermReq id=0x2 \"User request\"]");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct CpDisplay<'a> {
    packet: CpPacket<'a>,
    protocol: Protocol,
}

impl fmt::Display for CpDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.packet;
        write!(f, "[{} ", self.protocol)?;
        match p.code.name() {
            Some(name) => f.write_str(name)?,
            None => write!(f, "code={:#x}", p.code.0)?,
        }
        write!(f, " id={:#x}", p.identifier)?;
        let rest = self.fmt_body(f)?;
        fmt_rest(f, rest)?;
        f.write_str("]")
    }
}

impl<'a> CpDisplay<'a> {
    /// Prints what the code's data means; returns the bytes left unprinted.
    fn fmt_body(&self, f: &mut fmt::Formatter<'_>) -> Result<&'a [u8], fmt::Error> {
        let data = self.packet.data;
        let lcp = self.protocol == Protocol::LCP;
        match self.packet.code {
            code if code.has_options() => self.fmt_options(f),
            Code::TERMINATE_REQUEST | Code::TERMINATE_ACK => fmt_reason(f, data),
            Code::PROTOCOL_REJECT if lcp => match ProtocolReject::parse(data) {
                Ok(rej) => write!(f, " proto={}", rej.protocol).map(|()| rej.information),
                Err(_) => Ok(data),
            },
            Code::ECHO_REQUEST | Code::ECHO_REPLY | Code::DISCARD_REQUEST if lcp => {
                fmt_magic(f, data)
            }
            Code::IDENTIFICATION if lcp => fmt_magic(f, data).and_then(|m| fmt_message(f, m)),
            Code::TIME_REMAINING if lcp => match TimeRemaining::parse(data) {
                Ok(t) => {
                    write!(f, " magic={:#x} seconds={}", t.magic_number, t.seconds)?;
                    fmt_message(f, t.message)
                }
                Err(_) => fmt_magic(f, data),
            },
            _ => Ok(data),
        }
    }

    /// Prints each option; stops at the first bad one and returns the rest.
    fn fmt_options(&self, f: &mut fmt::Formatter<'_>) -> Result<&'a [u8], fmt::Error> {
        let mut options = self.packet.options();
        for raw in options.by_ref() {
            let Ok(raw) = raw else { break };
            match self.protocol {
                Protocol::LCP => write!(f, " {}", LcpConfigOption::from_raw(raw))?,
                Protocol::IPCP => write!(f, " {}", IpcpConfigOption::from_raw(raw))?,
                Protocol::IPV6CP => write!(f, " {}", Ipv6cpConfigOption::from_raw(raw))?,
                Protocol::CCP => write!(f, " {}", CcpConfigOption::from_raw(raw))?,
                _ => write!(f, " {raw}")?,
            }
        }
        Ok(options.rest())
    }
}

/// pppd prints a Terminate's data as a string when it starts printable.
fn fmt_reason<'a>(f: &mut fmt::Formatter<'_>, data: &'a [u8]) -> Result<&'a [u8], fmt::Error> {
    match data.first() {
        Some(b' '..=b'~') => fmt_message(f, data),
        _ => Ok(data),
    }
}

fn fmt_magic<'a>(f: &mut fmt::Formatter<'_>, data: &'a [u8]) -> Result<&'a [u8], fmt::Error> {
    match split::<4>(data) {
        Some((magic, rest)) => {
            write!(f, " magic={:#x}", u32::from_be_bytes(magic))?;
            Ok(rest)
        }
        None => Ok(data),
    }
}

/// Prints a non-empty message as a quoted string, escaped as pppd does.
fn fmt_message<'a>(f: &mut fmt::Formatter<'_>, data: &'a [u8]) -> Result<&'a [u8], fmt::Error> {
    if !data.is_empty() {
        write!(f, " {}", Quoted(data))?;
    }
    Ok(&[])
}

/// Writes up to [`MAX_HEX_DUMP`] bytes as hex, then `...` if there are more.
fn fmt_rest(f: &mut fmt::Formatter<'_>, rest: &[u8]) -> fmt::Result {
    write!(f, "{}", SpacedHex(clamp(rest, MAX_HEX_DUMP)))?;
    if rest.len() > MAX_HEX_DUMP {
        f.write_str(" ...")?;
    }
    Ok(())
}

/// Bytes as a double-quoted string: printable ASCII as-is (with `"` and `\`
/// escaped), `\n` `\r` `\t`, and other bytes in octal.
struct Quoted<'a>(&'a [u8]);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for &b in self.0 {
            match b {
                b'"' | b'\\' => write!(f, "\\{}", char::from(b))?,
                b' '..=b'~' => write!(f, "{}", char::from(b))?,
                b'\n' => f.write_str("\\n")?,
                b'\r' => f.write_str("\\r")?,
                b'\t' => f.write_str("\\t")?,
                _ => write!(f, "\\{b:03o}")?,
            }
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{format, string::String, vec, vec::Vec};
    use proptest::prelude::*;

    /// Strips the 2-byte PPP protocol the scapy vectors start with.
    fn info(hex_frame: &str, protocol: u16) -> Vec<u8> {
        let frame = hex::decode(hex_frame).unwrap();
        assert_eq!(frame[..2], protocol.to_be_bytes());
        frame[2..].to_vec()
    }

    #[test]
    fn emit_with_options_leaves_out_what_does_not_fit() {
        let data = [0u8; 253];
        let options = vec![RawOption::new(0x42, &data); 300]; // 76 500 octets
        let mut bytes = Vec::new();
        CpPacket::emit_with_options(Code::CONFIGURE_REJECT, 1, &options, &mut bytes);
        let fit = MAX_DATA_LEN / 255;
        assert_eq!(bytes.len(), HEADER_LEN + fit * 255);
        let p = CpPacket::parse(&bytes).unwrap();
        assert_eq!(p.options().count(), fit);
        assert!(p.options().all(|o| o == Ok(RawOption::new(0x42, &data))));
    }

    fn emitted(p: &CpPacket<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        p.emit(&mut out);
        assert_eq!(out.len(), p.buffer_len());
        out
    }

    fn emit_one<'a, O: ConfigOption<'a>>(o: &O) -> Vec<u8> {
        let mut out = Vec::new();
        o.emit(&mut out);
        assert_eq!(out.len(), o.buffer_len());
        out
    }

    // scapy ppp.uts: LCP Conf-Req with MRU, ACCM, PAP, LQR, magic, callback.
    const LCP_CONF_REQ: &str =
        "c021012a0027010413880206f0f0f0f00304c0230408c025746573740506000010920d070474657374";

    #[test]
    fn scapy_lcp_configure_request() {
        let bytes = info(LCP_CONF_REQ, 0xc021);
        let p = CpPacket::parse(&bytes).unwrap();
        assert_eq!(p.code, Code::CONFIGURE_REQUEST);
        assert_eq!(p.identifier, 0x2a);
        let opts: Vec<LcpConfigOption> = p.typed_options().unwrap();
        assert_eq!(
            opts,
            vec![
                LcpConfigOption::Mru(5000),
                LcpConfigOption::Accm(0xf0f0_f0f0),
                LcpConfigOption::AuthProtocol(AuthProtocol::Pap),
                LcpConfigOption::QualityProtocol {
                    protocol: Protocol::LQR,
                    data: b"test"
                },
                LcpConfigOption::MagicNumber(4242),
                LcpConfigOption::Callback {
                    operation: 4,
                    message: b"test"
                },
            ]
        );
        assert!(opts.iter().all(ConfigOption::is_recognised));
        assert_eq!(emitted(&p), bytes);
        let mut again = Vec::new();
        CpPacket::emit_with_options(p.code, p.identifier, &opts, &mut again);
        assert_eq!(again, bytes);
        assert_eq!(
            format!("{}", p.display(Protocol::LCP)),
            "[LCP ConfReq id=0x2a <mru 5000> <asyncmap 0xf0f0f0f0> <auth pap> \
             <quality lqr 74 65 73 74> <magic 0x1092> <callback 0x4 74 65 73 74>]"
        );
    }

    #[test]
    fn scapy_lcp_configure_nak() {
        let bytes = info("c021032a000e010405dc0206ffff0000", 0xc021);
        let p = CpPacket::parse(&bytes).unwrap();
        assert_eq!(p.code, Code::CONFIGURE_NAK);
        let opts: Vec<LcpConfigOption> = p.typed_options().unwrap();
        assert_eq!(
            opts,
            [
                LcpConfigOption::Mru(1500),
                LcpConfigOption::Accm(0xffff_0000)
            ]
        );
        assert_eq!(emitted(&p), bytes);
        assert_eq!(
            format!("{}", p.display(Protocol::LCP)),
            "[LCP ConfNak id=0x2a <mru 1500> <asyncmap 0xffff0000>]"
        );
    }

    // scapy pptp.uts: the LCP Conf-Req inside the first GRE packet.
    #[test]
    fn scapy_gre_lcp_configure_request() {
        let gre = hex::decode(
            "4500003c18324000402f0e5a0a0000020a0000063001880b001c9bf500000000\
             ff03c021010100180206000000000304c2270506fbb8831007020802",
        )
        .unwrap();
        let bytes = &gre[gre.len() - 24..];
        assert_eq!(bytes[..2], [1, 1]);
        let p = CpPacket::parse(bytes).unwrap();
        let opts: Vec<LcpConfigOption> = p.typed_options().unwrap();
        assert_eq!(opts[1], LcpConfigOption::AuthProtocol(AuthProtocol::Eap));
        assert_eq!(opts[2], LcpConfigOption::MagicNumber(0xfbb8_8310));
        assert_eq!(emitted(&p), bytes);
        assert_eq!(
            format!("{}", p.display(Protocol::LCP)),
            "[LCP ConfReq id=0x1 <asyncmap 0x0> <auth eap> <magic 0xfbb88310> <pcomp> <accomp>]"
        );
    }

    #[test]
    fn scapy_lcp_echo_request() {
        let gre = hex::decode(
            "4500003600010000402ff944c0a80001c0a800023081880b001200000000002f\
             0000002aff03c021092a000e00001092616263646566",
        )
        .unwrap();
        let bytes = &gre[gre.len() - 14..];
        let p = CpPacket::parse(bytes).unwrap();
        assert_eq!(p.code, Code::ECHO_REQUEST);
        let echo = Echo::parse(p.data).unwrap();
        assert_eq!(echo.magic_number, 4242);
        assert_eq!(echo.data, b"abcdef");
        let mut out = Vec::new();
        echo.emit(&mut out);
        assert_eq!(out, p.data);
        assert_eq!(
            format!("{}", p.display(Protocol::LCP)),
            "[LCP EchoReq id=0x2a magic=0x1092 61 62 63 64 65 66]"
        );
    }

    #[test]
    fn scapy_lcp_code_reject() {
        let bytes = info("c021072a00142a070010756e6b6e6f776e5f64617461", 0xc021);
        let p = CpPacket::parse(&bytes).unwrap();
        assert_eq!(p.code, Code::CODE_REJECT);
        let rej = CodeReject::parse(p.data).unwrap();
        assert_eq!(rej.rejected_code(), Some(Code(0x2a)));
        let inner = CpPacket::parse(rej.rejected_packet).unwrap();
        assert_eq!((inner.identifier, inner.data), (7, &b"unknown_data"[..]));
        assert_eq!(emitted(&p), bytes);
    }

    #[test]
    fn scapy_lcp_protocol_reject() {
        let bytes = info("c021082a000b80390305c22306", 0xc021);
        let p = CpPacket::parse(&bytes).unwrap();
        let rej = ProtocolReject::parse(p.data).unwrap();
        assert_eq!(rej.protocol, Protocol(0x8039));
        assert_eq!(rej.information, [3, 5, 0xc2, 0x23, 6]);
        let mut out = Vec::new();
        rej.emit(&mut out);
        assert_eq!(out, p.data);
        assert_eq!(emitted(&p), bytes);
        assert_eq!(
            format!("{}", p.display(Protocol::LCP)),
            "[LCP ProtRej id=0x2a proto=0x8039 03 05 c2 23 06]"
        );
        let v6 = CpPacket::new(Code::PROTOCOL_REJECT, 2, &[0x80, 0x57, 1, 1, 0, 4]);
        assert_eq!(
            format!("{}", v6.display(Protocol::LCP)),
            "[LCP ProtRej id=0x2 proto=IPV6CP 01 01 00 04]"
        );
    }

    #[test]
    fn scapy_lcp_terminate() {
        let req = info("c0210507000874657374", 0xc021);
        let p = CpPacket::parse(&req).unwrap();
        assert_eq!(p.code, Code::TERMINATE_REQUEST);
        assert_eq!(Terminate::parse(p.data).unwrap().data, b"test");
        assert_eq!(emitted(&p), req);
        assert_eq!(
            format!("{}", p.display(Protocol::LCP)),
            "[LCP TermReq id=0x7 \"test\"]"
        );
        let ack = info("c02106070004", 0xc021);
        let p = CpPacket::parse(&ack).unwrap();
        assert_eq!((p.code, p.data), (Code::TERMINATE_ACK, &[][..]));
        assert_eq!(emitted(&p), ack);
        assert_eq!(
            format!("{}", p.display(Protocol::LCP)),
            "[LCP TermAck id=0x7]"
        );
    }

    #[test]
    fn scapy_ipcp_configure_request_vj() {
        let bytes = info("8021010100100306c0a801010206002d0f01", 0x8021);
        let p = CpPacket::parse(&bytes).unwrap();
        let opts: Vec<IpcpConfigOption> = p.typed_options().unwrap();
        assert_eq!(
            opts,
            [
                IpcpConfigOption::IpAddress(Ipv4Addr::new(192, 168, 1, 1)),
                IpcpConfigOption::IpCompressionProtocol {
                    protocol: VAN_JACOBSON,
                    data: &[0x0f, 0x01]
                },
            ]
        );
        assert_eq!(emitted(&p), bytes);
        assert_eq!(
            format!("{}", p.display(Protocol::IPCP)),
            "[IPCP ConfReq id=0x1 <addr 192.168.1.1> <compress VJ 0f 01>]"
        );
    }

    #[test]
    fn scapy_ipcp_rfc1877() {
        let bytes = info("8021010000168106010203048306050607088406090a0b0c", 0x8021);
        let p = CpPacket::parse(&bytes).unwrap();
        let opts: Vec<IpcpConfigOption> = p.typed_options().unwrap();
        assert_eq!(
            opts,
            [
                IpcpConfigOption::PrimaryDns(Ipv4Addr::new(1, 2, 3, 4)),
                IpcpConfigOption::SecondaryDns(Ipv4Addr::new(5, 6, 7, 8)),
                IpcpConfigOption::SecondaryNbns(Ipv4Addr::new(9, 10, 11, 12)),
            ]
        );
        let mut out = Vec::new();
        CpPacket::emit_with_options(p.code, p.identifier, &opts, &mut out);
        assert_eq!(out, bytes);
        assert_eq!(
            format!("{}", p.display(Protocol::IPCP)),
            "[IPCP ConfReq id=0x0 <ms-dns1 1.2.3.4> <ms-dns2 5.6.7.8> <ms-wins2 9.10.11.12>]"
        );
    }

    #[test]
    fn ipcp_nak_display() {
        let opts = [
            IpcpConfigOption::IpAddress(Ipv4Addr::new(10, 0, 0, 2)),
            IpcpConfigOption::PrimaryDns(Ipv4Addr::new(8, 8, 8, 8)),
        ];
        let mut out = Vec::new();
        CpPacket::emit_with_options(Code::CONFIGURE_NAK, 2, &opts, &mut out);
        let p = CpPacket::parse(&out).unwrap();
        assert_eq!(
            format!("{}", p.display(Protocol::IPCP)),
            "[IPCP ConfNak id=0x2 <addr 10.0.0.2> <ms-dns1 8.8.8.8>]"
        );
    }

    #[test]
    fn lcp_chap_algorithms_and_display() {
        // RFC 1994 §3: CHAP option is c223 plus one algorithm octet.
        let data = hex::decode("0206000000000305c22381050600c0ffee01040578050207020802").unwrap();
        let opts: Vec<LcpConfigOption> = parse_options(&data).unwrap();
        assert_eq!(
            opts[1],
            LcpConfigOption::AuthProtocol(AuthProtocol::Chap {
                algorithm: ChapAlgorithm::MS_CHAP_V2
            })
        );
        let p = CpPacket::new(Code::CONFIGURE_REQUEST, 1, &data);
        assert_eq!(
            format!("{}", p.display(Protocol::LCP)),
            "[LCP ConfReq id=0x1 <asyncmap 0x0> <auth chap MS-v2> <magic 0xc0ffee> \
             <mru 1400> <opt 05 02> <pcomp> <accomp>]"
        );
        // Magic-Number of length 2 is malformed, kept raw and not recognised.
        assert_eq!(opts[4], LcpConfigOption::Malformed(RawOption::new(5, &[])));
        assert!(!opts[4].is_recognised());
    }

    #[test]
    fn unknown_and_malformed_stay_raw() {
        // Type 0x0d with length 3 is Callback CBCP; 0x0e is unknown to us.
        let data = [0x0d, 0x03, 0x06, 0x0e, 0x04, 0xaa, 0xbb, 0x01, 0x03, 0x05];
        let opts: Vec<LcpConfigOption> = parse_options(&data).unwrap();
        assert_eq!(
            opts,
            [
                LcpConfigOption::Callback {
                    operation: 6,
                    message: &[]
                },
                LcpConfigOption::Unknown(RawOption::new(0x0e, &[0xaa, 0xbb])),
                LcpConfigOption::Malformed(RawOption::new(1, &[5])),
            ]
        );
        // A Configure-Reject built from exactly the unrecognised ones.
        let rejected: Vec<_> = opts
            .iter()
            .copied()
            .filter(|o| !o.is_recognised())
            .collect();
        let mut out = Vec::new();
        emit_options(&rejected, &mut out);
        assert_eq!(out, data[3..]);
        assert_eq!(options_len(&rejected), 7);
        let p = CpPacket::new(Code::CONFIGURE_REQUEST, 3, &data);
        assert_eq!(
            format!("{}", p.display(Protocol::LCP)),
            "[LCP ConfReq id=0x3 <callback CBCP> <opt 0e 04 aa bb> <opt 01 03 05>]"
        );
    }

    #[test]
    fn ccp_mppe_option() {
        // RFC 3078 §2.1: H is 0x01000000, S (128-bit) is 0x40.
        let bytes = [1, 1, 0, 10, 18, 6, 0x01, 0, 0, 0x40];
        let p = CpPacket::parse(&bytes).unwrap();
        let opts: Vec<CcpConfigOption> = p.typed_options().unwrap();
        assert_eq!(
            opts,
            [CcpConfigOption::Mppe(
                MppeBits::STATELESS | MppeBits::BITS_128
            )]
        );
        assert_eq!(emitted(&p), bytes);
        assert_eq!(
            format!("{}", p.display(Protocol::CCP)),
            "[CCP ConfReq id=0x1 <mppe +H -M +S -L -D -C>]"
        );
        let odd = CcpConfigOption::Mppe(MppeBits::from_bits_retain(0x0200_00e1));
        assert_eq!(
            format!("{odd}"),
            "<mppe -H +M +S +L -D +C +U (02 00 00 e1)>"
        );
        // RFC 1979 Deflate (26) window 15, and a 5-byte MPPE option.
        let data = [26, 4, 0x78, 0, 18, 5, 0, 0, 0];
        let opts: Vec<CcpConfigOption> = parse_options(&data).unwrap();
        assert!(matches!(opts[0], CcpConfigOption::Unknown(_)));
        assert!(matches!(opts[1], CcpConfigOption::Malformed(_)));
        let p = CpPacket::new(Code::CONFIGURE_REQUEST, 9, &data);
        assert_eq!(
            format!("{}", p.display(Protocol::CCP)),
            "[CCP ConfReq id=0x9 <deflate 15> <opt 12 05 00 00 00>]"
        );
        let reset = CpPacket::new(Code::RESET_REQUEST, 4, &[]);
        assert_eq!(
            format!("{}", reset.display(Protocol::CCP)),
            "[CCP ResetReq id=0x4]"
        );
    }

    #[test]
    fn ipv6cp_interface_identifier() {
        let data = [1, 10, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55];
        let opts: Vec<Ipv6cpConfigOption> = parse_options(&data).unwrap();
        assert_eq!(
            opts,
            [Ipv6cpConfigOption::InterfaceIdentifier([
                0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55
            ])]
        );
        assert_eq!(emit_one(&opts[0]), data);
        let p = CpPacket::new(Code::CONFIGURE_ACK, 1, &data);
        assert_eq!(
            format!("{}", p.display(Protocol::IPV6CP)),
            "[IPV6CP ConfAck id=0x1 <addr fe80::0211:22ff:fe33:4455>]"
        );
    }

    #[test]
    fn lcp_identification_and_time_remaining() {
        let data = b"\x5f\x3c\x2a\x19MSRASV5.20";
        let ident = Identification::parse(data).unwrap();
        assert_eq!(ident.magic_number, 0x5f3c_2a19);
        assert_eq!(ident.message, b"MSRASV5.20");
        let p = CpPacket::new(Code::IDENTIFICATION, 3, data);
        assert_eq!(
            format!("{}", p.display(Protocol::LCP)),
            "[LCP Ident id=0x3 magic=0x5f3c2a19 \"MSRASV5.20\"]"
        );
        let data = b"\0\0\0\x01\0\0\x0e\x10bye\n";
        let t = TimeRemaining::parse(data).unwrap();
        assert_eq!(
            (t.magic_number, t.seconds, t.message),
            (1, 3600, &b"bye\n"[..])
        );
        let mut out = Vec::new();
        t.emit(&mut out);
        assert_eq!(out, data);
        assert_eq!(t.buffer_len(), data.len());
        let p = CpPacket::new(Code::TIME_REMAINING, 4, data);
        assert_eq!(
            format!("{}", p.display(Protocol::LCP)),
            "[LCP TimeRem id=0x4 magic=0x1 seconds=3600 \"bye\\n\"]"
        );
        assert!(TimeRemaining::parse(&data[..7]).is_err());
        assert!(Identification::parse(&data[..3]).is_err());
    }

    #[test]
    fn display_fallbacks() {
        let term = CpPacket::new(Code::TERMINATE_REQUEST, 2, b"User request");
        assert_eq!(
            format!("{}", term.display(Protocol::LCP)),
            "[LCP TermReq id=0x2 \"User request\"]"
        );
        let binary = CpPacket::new(Code::TERMINATE_REQUEST, 2, &[0, 1]);
        assert_eq!(
            format!("{}", binary.display(Protocol::IPCP)),
            "[IPCP TermReq id=0x2 00 01]"
        );
        let long = [0xab; 40];
        let unknown = CpPacket::new(Code(0x42), 0, &long);
        let text = format!("{}", unknown.display(Protocol::LCP));
        assert!(text.starts_with("[LCP code=0x42 id=0x0 ab ab"));
        assert!(text.ends_with(" ab ...]"));
        assert_eq!(text.matches("ab").count(), 32);
        // A bad option stops the list; the rest is dumped as hex.
        let bad = CpPacket::new(Code::CONFIGURE_REQUEST, 1, &[1, 4, 5, 0xdc, 7, 9, 1]);
        assert_eq!(
            format!("{}", bad.display(Protocol::LCP)),
            "[LCP ConfReq id=0x1 <mru 1500> 07 09 01]"
        );
        let quoted = CpPacket::new(Code::TERMINATE_ACK, 1, b"a\"b\\c\x01");
        assert_eq!(
            format!("{}", quoted.display(Protocol::CCP)),
            "[CCP TermAck id=0x1 \"a\\\"b\\\\c\\001\"]"
        );
    }

    #[test]
    fn packet_length_rules() {
        // Truncated header.
        assert!(matches!(
            CpPacket::parse(&[1, 1, 0]),
            Err(Error::Truncated {
                needed: 4,
                available: 3,
                ..
            })
        ));
        // Length below the header.
        assert!(matches!(
            CpPacket::parse(&[1, 1, 0, 3]),
            Err(Error::BadLength { length: 3, .. })
        ));
        // Length past the input.
        assert!(matches!(
            CpPacket::parse(&[1, 1, 0, 9, 1, 2]),
            Err(Error::BadLength { length: 9, .. })
        ));
        // RFC 1661 §5: octets after Length are padding.
        let p = CpPacket::parse(&[6, 1, 0, 5, 0xaa, 0, 0, 0]).unwrap();
        assert_eq!(p.data, [0xaa]);
        assert_eq!(emitted(&p), [6, 1, 0, 5, 0xaa]);
    }

    #[test]
    fn option_length_rules() {
        let errs = |data: &'static [u8]| -> Vec<Result<RawOption<'static>, Error>> {
            Options::new("LCP option", data).collect()
        };
        // Length 1 at offset 4.
        let r = errs(&[7, 2, 8, 2, 3, 1, 0]);
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[2],
            Err(Error::BadOptionLength {
                what: "LCP option",
                offset: 4,
                length: 1
            })
        );
        // Length past the end.
        assert_eq!(
            errs(&[1, 4, 5]),
            [Err(Error::BadOptionLength {
                what: "LCP option",
                offset: 0,
                length: 4
            })]
        );
        // A lone Type octet.
        assert!(matches!(
            errs(&[7, 2, 8])[1],
            Err(Error::Truncated { needed: 2, .. })
        ));
        assert!(parse_options::<IpcpConfigOption>(&[3, 6, 1, 2, 3]).is_err());
        assert!(LcpConfigOption::parse(&[1, 0]).is_err());
        assert!(ProtocolReject::parse(&[0x80]).is_err());
        assert!(Echo::parse(&[0, 0, 0]).is_err());
        let mut it = Options::new("x", &[0, 0, 1, 2]);
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
        assert_eq!(it.rest(), [0, 0, 1, 2]);
    }

    #[test]
    fn emit_clamps_overlong_data() {
        let long = [7u8; 300];
        let raw = RawOption::new(9, &long);
        let out = emit_one(&raw);
        assert_eq!(out.len(), 255);
        assert_eq!(out[1], 255);
        assert_eq!(RawOption::parse(&out).unwrap().data, &long[..253]);
        let cb = LcpConfigOption::Callback {
            operation: 1,
            message: &long,
        };
        let out = emit_one(&cb);
        assert_eq!(LcpConfigOption::parse(&out).unwrap().buffer_len(), 255);
        let mut emitted_raw = Vec::new();
        emit_option(3, &[1, 2, 3, 4], &mut emitted_raw);
        assert_eq!(emitted_raw, [3, 6, 1, 2, 3, 4]);
    }

    // ---- proptests ----

    fn raw_option(kinds: Vec<u8>) -> impl Strategy<Value = (u8, Vec<u8>)> {
        (
            prop_oneof![proptest::sample::select(kinds), any::<u8>()],
            proptest::collection::vec(any::<u8>(), 0..12),
        )
    }

    /// Parsing a raw option's bytes gives back the same bytes on emit, and
    /// emit→parse of the typed value is the identity.
    fn check_raw_roundtrip<'a, O: ConfigOption<'a> + PartialEq>(
        bytes: &'a [u8],
        parse: fn(&'a [u8]) -> Result<O, Error>,
    ) -> Result<(), TestCaseError> {
        let typed = parse(bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(emit_one(&typed), bytes);
        prop_assert_eq!(typed.kind(), bytes[0]);
        let _ = format!("{typed}");
        Ok(())
    }

    fn tlv(kind: u8, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        emit_option(kind, data, &mut out);
        out
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..20)
    }

    /// Random inputs from which the builders below pick one typed value.
    #[derive(Debug, Clone)]
    struct Seed {
        variant: u8,
        short: u16,
        long: u32,
        octet: u8,
        id: [u8; 8],
        data: Vec<u8>,
    }

    fn seed() -> impl Strategy<Value = Seed> {
        (
            any::<u8>(),
            any::<u16>(),
            any::<u32>(),
            any::<u8>(),
            any::<[u8; 8]>(),
            bytes(),
        )
            .prop_map(|(variant, short, long, octet, id, data)| Seed {
                variant,
                short,
                long,
                octet,
                id,
                data,
            })
    }

    fn build_lcp(s: &Seed) -> LcpConfigOption<'_> {
        let data = &s.data[..];
        let mut other = Protocol(s.short);
        if [Protocol::PAP, Protocol::CHAP, Protocol::EAP].contains(&other) {
            // AuthProtocol::Other is documented as never PAP, CHAP or EAP.
            other = Protocol(0x1234);
        }
        match s.variant % 14 {
            0 => LcpConfigOption::Mru(s.short),
            1 => LcpConfigOption::Accm(s.long),
            2 => LcpConfigOption::AuthProtocol(AuthProtocol::Pap),
            3 => LcpConfigOption::AuthProtocol(AuthProtocol::Eap),
            4 => LcpConfigOption::AuthProtocol(AuthProtocol::Chap {
                algorithm: ChapAlgorithm(s.octet),
            }),
            5 => LcpConfigOption::AuthProtocol(AuthProtocol::Other {
                protocol: other,
                data,
            }),
            6 => LcpConfigOption::QualityProtocol {
                protocol: Protocol(s.short),
                data,
            },
            7 => LcpConfigOption::MagicNumber(s.long),
            8 => LcpConfigOption::Pfc,
            9 => LcpConfigOption::Acfc,
            10 => LcpConfigOption::Callback {
                operation: s.octet,
                message: data,
            },
            11 => LcpConfigOption::Mrru(s.short),
            12 => LcpConfigOption::Ssnhf,
            _ => LcpConfigOption::EndpointDiscriminator {
                class: s.octet,
                address: data,
            },
        }
    }

    fn build_ipcp(s: &Seed) -> IpcpConfigOption<'_> {
        let addr = Ipv4Addr::from(s.long);
        match s.variant % 6 {
            0 => IpcpConfigOption::IpCompressionProtocol {
                protocol: Protocol(s.short),
                data: &s.data,
            },
            1 => IpcpConfigOption::IpAddress(addr),
            2 => IpcpConfigOption::PrimaryDns(addr),
            3 => IpcpConfigOption::PrimaryNbns(addr),
            4 => IpcpConfigOption::SecondaryDns(addr),
            _ => IpcpConfigOption::SecondaryNbns(addr),
        }
    }

    fn build_ipv6cp(s: &Seed) -> Ipv6cpConfigOption<'_> {
        match s.variant % 2 {
            0 => Ipv6cpConfigOption::InterfaceIdentifier(s.id),
            _ => Ipv6cpConfigOption::Ipv6CompressionProtocol {
                protocol: Protocol(s.short),
                data: &s.data,
            },
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn lcp_raw_roundtrip((kind, data) in raw_option(vec![1, 2, 3, 4, 5, 7, 8, 13, 17, 18, 19])) {
            let mut bytes = tlv(kind, &data);
            // Steer some Authentication-Protocol options to PAP/CHAP/EAP.
            if kind == 3 && data.len() >= 2 {
                let p: [u16; 3] = [0xc023, 0xc223, 0xc227];
                bytes[2..4].copy_from_slice(&p[usize::from(data[0]) % 3].to_be_bytes());
            }
            check_raw_roundtrip(&bytes, LcpConfigOption::parse)?;
        }

        #[test]
        fn ipcp_raw_roundtrip((kind, data) in raw_option(vec![1, 2, 3, 0x81, 0x82, 0x83, 0x84])) {
            check_raw_roundtrip(&tlv(kind, &data), IpcpConfigOption::parse)?;
        }

        #[test]
        fn ipv6cp_raw_roundtrip((kind, data) in raw_option(vec![1, 2])) {
            check_raw_roundtrip(&tlv(kind, &data), Ipv6cpConfigOption::parse)?;
        }

        #[test]
        fn ccp_raw_roundtrip((kind, data) in raw_option(vec![1, 2, 17, 18, 21, 24, 26])) {
            check_raw_roundtrip(&tlv(kind, &data), CcpConfigOption::parse)?;
        }

        #[test]
        fn lcp_typed_roundtrip(s in seed()) {
            let o = build_lcp(&s);
            let out = emit_one(&o);
            prop_assert_eq!(LcpConfigOption::parse(&out).unwrap(), o);
            prop_assert!(o.is_recognised());
        }

        #[test]
        fn ipcp_typed_roundtrip(s in seed()) {
            let o = build_ipcp(&s);
            let out = emit_one(&o);
            prop_assert_eq!(IpcpConfigOption::parse(&out).unwrap(), o);
        }

        #[test]
        fn ipv6cp_typed_roundtrip(s in seed()) {
            let o = build_ipv6cp(&s);
            let out = emit_one(&o);
            prop_assert_eq!(Ipv6cpConfigOption::parse(&out).unwrap(), o);
        }

        #[test]
        fn ccp_typed_roundtrip(bits in any::<u32>()) {
            let o = CcpConfigOption::Mppe(MppeBits::from_bits_retain(bits));
            let out = emit_one(&o);
            prop_assert_eq!(CcpConfigOption::parse(&out).unwrap(), o);
        }

        #[test]
        fn packet_roundtrip(code in any::<u8>(), identifier in any::<u8>(), data in bytes(), pad in bytes()) {
            let p = CpPacket::new(Code(code), identifier, &data);
            let mut out = emitted(&p);
            out.extend_from_slice(&pad);
            prop_assert_eq!(CpPacket::parse(&out).unwrap(), p);
        }

        #[test]
        fn lcp_views_roundtrip(magic in any::<u32>(), secs in any::<u32>(), proto in any::<u16>(), data in bytes()) {
            let mut out = Vec::new();
            let e = Echo { magic_number: magic, data: &data };
            e.emit(&mut out);
            prop_assert_eq!(out.len(), e.buffer_len());
            prop_assert_eq!(Echo::parse(&out).unwrap(), e);
            out.clear();
            let t = TimeRemaining { magic_number: magic, seconds: secs, message: &data };
            t.emit(&mut out);
            prop_assert_eq!(TimeRemaining::parse(&out).unwrap(), t);
            out.clear();
            let i = Identification { magic_number: magic, message: &data };
            i.emit(&mut out);
            prop_assert_eq!(out.len(), i.buffer_len());
            prop_assert_eq!(Identification::parse(&out).unwrap(), i);
            out.clear();
            let r = ProtocolReject { protocol: Protocol(proto), information: &data };
            r.emit(&mut out);
            prop_assert_eq!(out.len(), r.buffer_len());
            prop_assert_eq!(ProtocolReject::parse(&out).unwrap(), r);
            out.clear();
            let c = CodeReject { rejected_packet: &data };
            c.emit(&mut out);
            prop_assert_eq!(CodeReject::parse(&out).unwrap(), c);
            let t = Terminate { data: &data };
            prop_assert_eq!(Terminate::parse(&data).unwrap().buffer_len(), t.buffer_len());
        }

        #[test]
        fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = CpPacket::parse(&input);
            let _ = parse_options::<LcpConfigOption>(&input);
            let _ = parse_options::<IpcpConfigOption>(&input);
            let _ = parse_options::<Ipv6cpConfigOption>(&input);
            let _ = parse_options::<CcpConfigOption>(&input);
            let _ = (ProtocolReject::parse(&input), Echo::parse(&input), TimeRemaining::parse(&input));
            let _ = Identification::parse(&input);
            for code in 1..=15u8 {
                let p = CpPacket::new(Code(code), 0, &input);
                for proto in [Protocol::LCP, Protocol::IPCP, Protocol::IPV6CP, Protocol::CCP, Protocol(0x1234)] {
                    let s: String = format!("{}", p.display(proto));
                    prop_assert!(s.starts_with('[') && s.ends_with(']'));
                }
            }
        }
    }
}
