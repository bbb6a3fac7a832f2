//! EAP packets (RFC 3748), PPP protocol 0xC227, with the Identity,
//! Notification, Nak and MD5-Challenge types (RFC 3748 §5) and EAP-MSCHAPv2
//! (draft-kamath-pppext-eap-mschapv2-02) decoded; any other type is kept raw.
//!
//! Each packet is parsed from the PPP information field: Code, Identifier,
//! Length, then for a Request or Response a Type octet and its Type-Data.
//! Bytes past Length are link padding and ignored.
//!
//! # MS-Length
//!
//! EAP-MSCHAPv2 repeats the length in its MS-Length field (EAP Length − 5).
//! Parsing does not check it: the fields end where the EAP Length says, and
//! `emit` always writes EAP Length − 5. Real peers disagree on it: pppd
//! 2.5's peer writes only its low octet (a name longer than 201 bytes makes
//! it wrong), pppd's authenticator ignores it in a Response, FreeRADIUS
//! only range-checks it, and wpa_supplicant by default ignores a wrong one
//! because "some authentication servers use invalid ms_len". A packet with
//! a wrong MS-Length therefore re-emits with the right one; every other
//! byte is kept.
//!
//! # Example
//!
//! An EAP-MSCHAPv2 exchange built from the RFC 2759 §9.2 test vectors
//! (user `User`): the authenticator's Challenge, the peer's Response, the
//! authenticator's Success message, the peer's one-octet acknowledgement and
//! EAP Success. The MS-CHAPv2 values inside are read with the
//! [`auth`](super::auth) types.
//!
//! ```
//! use pptp_proto::wire::auth::{MsChapV2Response, MsChapV2Success};
//! use pptp_proto::wire::eap::{EapData, EapMsChapV2, EapPacket, EapType};
//!
//! let challenge = [
//!     0x01, 0x02, 0x00, 0x20, // Request, Identifier 2, Length 32
//!     0x1a, 0x01, 0x02, 0x00, 0x1b, // MSCHAPv2, Challenge, MS-CHAPv2-ID 2, MS-Length 27
//!     0x10, 0x5b, 0x5d, 0x7c, 0x7d, 0x7b, 0x3f, 0x2f, 0x3e, // Value-Size 16, challenge
//!     0x3c, 0x2c, 0x60, 0x21, 0x32, 0x26, 0x26, 0x28, //
//!     b's', b'e', b'r', b'v', b'e', b'r', // the authenticator's name
//! ];
//! let packet = EapPacket::parse(&challenge)?;
//! assert_eq!(
//!     packet.to_string(),
//!     r#"[EAP Request id=0x2 MSCHAPv2 Challenge <5b5d7c7d7b3f2f3e3c2c602132262628>, <Name "server">]"#
//! );
//! let EapPacket::Request { data: EapData::MsChapV2(EapMsChapV2::Challenge { ms_chap_id, .. }), .. } =
//!     packet
//! else {
//!     panic!("not an MS-CHAPv2 Challenge")
//! };
//!
//! // The peer answers with the same MS-CHAPv2-ID.
//! let value = MsChapV2Response {
//!     peer_challenge: *b"\x21\x40\x23\x24\x25\x5e\x26\x2a\x28\x29\x5f\x2b\x3a\x33\x7c\x7e",
//!     reserved: [0; 8],
//!     nt_response: [
//!         0x82, 0x30, 0x9e, 0xcd, 0x8d, 0x70, 0x8b, 0x5e, 0xa0, 0x8f, 0xaa, 0x39, //
//!         0x81, 0xcd, 0x83, 0x54, 0x42, 0x33, 0x11, 0x4a, 0x3d, 0x85, 0xd6, 0xdf,
//!     ],
//!     flags: 0,
//! };
//! let mut response_value = Vec::new();
//! value.emit(&mut response_value);
//! let response = EapPacket::Response {
//!     identifier: 2,
//!     data: EapData::MsChapV2(EapMsChapV2::Response {
//!         ms_chap_id,
//!         response: &response_value,
//!         name: b"User",
//!     }),
//! };
//! let mut bytes = Vec::with_capacity(response.buffer_len());
//! response.emit(&mut bytes);
//! assert_eq!(bytes[..10], [0x02, 0x02, 0x00, 0x3f, 0x1a, 0x02, 0x02, 0x00, 0x3a, 49]);
//! let EapPacket::Response { data: EapData::MsChapV2(EapMsChapV2::Response { response, .. }), .. } =
//!     EapPacket::parse(&bytes)?
//! else {
//!     panic!("not an MS-CHAPv2 Response")
//! };
//! assert_eq!(MsChapV2Response::parse(response)?, value);
//!
//! let mut success = vec![0x01, 0x03, 0x00, 0x33, 0x1a, 0x03, 0x02, 0x00, 0x2e];
//! success.extend_from_slice(b"S=407A5589115FD0D6209F510FE9C04566932CDA56");
//! let EapPacket::Request { data: EapData::MsChapV2(EapMsChapV2::Success { message, .. }), .. } =
//!     EapPacket::parse(&success)?
//! else {
//!     panic!("not an MS-CHAPv2 Success")
//! };
//! assert_eq!(MsChapV2Success::parse(message)?.authenticator_response[..2], [0x40, 0x7a]);
//!
//! let ack = EapPacket::parse(&[0x02, 0x03, 0x00, 0x06, 0x1a, 0x03])?;
//! assert_eq!(
//!     ack,
//!     EapPacket::Response { identifier: 3, data: EapData::MsChapV2(EapMsChapV2::SuccessAck) }
//! );
//! assert_eq!(ack.to_string(), "[EAP Response id=0x3 MSCHAPv2 Success]");
//! let done = EapPacket::parse(&[0x03, 0x03, 0x00, 0x04])?;
//! assert_eq!(done.to_string(), "[EAP Success id=0x3]");
//! assert_eq!(EapType::MS_CHAP_V2.name(), Some("MSCHAPv2"));
//! # Ok::<(), pptp_proto::wire::Error>(())
//! ```

use core::fmt;

use bytes::BufMut;

use super::auth::{
    put_header, put_short, short, split_packet, tail, MsChapV2ChangePassword, Quoted, Reader,
    HEADER_LEN,
};
use super::{need, Error, Hex};

const EAP: &str = "EAP";
const MSCHAPV2: &str = "EAP-MSCHAPv2";

/// OpCode, MS-CHAPv2-ID and MS-Length (draft-kamath-pppext-eap-mschapv2-02 §2).
const MS_HEADER_LEN: usize = 4;

super::code_point! {
    /// An EAP Type (RFC 3748 §5, IANA "Method Types"); the names are pppd's.
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::eap::EapType;
    ///
    /// assert_eq!(EapType(26), EapType::MS_CHAP_V2);
    /// assert_eq!(EapType::MD5_CHALLENGE.name(), Some("MD5-Challenge"));
    /// assert_eq!(EapType::GTC.to_string(), "Generic-Token");
    /// assert_eq!(EapType(43).name(), None);
    /// assert_eq!(format!("{:?}", EapType(43)), "EapType(0x2b)");
    /// ```
    pub struct EapType(u8) {
        /// Identity (RFC 3748 §5.1).
        IDENTITY = 1 => "Identity",
        /// Notification (RFC 3748 §5.2).
        NOTIFICATION = 2 => "Notification",
        /// Legacy Nak, in a Response only (RFC 3748 §5.3.1).
        NAK = 3 => "Nak",
        /// MD5-Challenge (RFC 3748 §5.4).
        MD5_CHALLENGE = 4 => "MD5-Challenge",
        /// One-Time Password (RFC 3748 §5.5).
        OTP = 5 => "OTP",
        /// Generic Token Card (RFC 3748 §5.6).
        GTC = 6 => "Generic-Token",
        /// EAP-TLS (RFC 5216).
        TLS = 13 => "TLS",
        /// SRP-SHA1 (the type pppd suggests in its Nak).
        SRP = 19 => "SRP",
        /// EAP-TTLS (RFC 5281).
        TTLS = 21 => "TTLS",
        /// PEAP.
        PEAP = 25 => "PEAP",
        /// EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2-02).
        MS_CHAP_V2 = 26 => "MSCHAPv2",
        /// Expanded Types (RFC 3748 §5.7).
        EXPANDED = 254 => "Expanded",
        /// Experimental (RFC 3748 §5.8).
        EXPERIMENTAL = 255 => "Experimental",
    }
}

/// An EAP packet (RFC 3748 §4).
///
/// # Example
///
/// The start of an RFC 3748 §A exchange: the authenticator asks for the
/// identity, the peer gives it, and an MD5-Challenge follows.
///
/// ```
/// use pptp_proto::wire::eap::{EapData, EapPacket};
///
/// let request = EapPacket::parse(&[0x01, 0x01, 0x00, 0x05, 0x01])?;
/// assert_eq!(request, EapPacket::Request { identifier: 1, data: EapData::Identity(b"") });
/// assert_eq!(request.to_string(), "[EAP Request id=0x1 Identity <No message>]");
///
/// let response = EapPacket::Response { identifier: 1, data: EapData::Identity(b"alice") };
/// let mut out = Vec::with_capacity(response.buffer_len());
/// response.emit(&mut out);
/// assert_eq!(out, b"\x02\x01\x00\x0a\x01alice");
/// assert_eq!(response.identifier(), 1);
/// assert_eq!(response.to_string(), r#"[EAP Response id=0x1 Identity <Name "alice">]"#);
///
/// let md5 = EapPacket::Request {
///     identifier: 2,
///     data: EapData::Md5Challenge { value: &[0xde, 0xad, 0xbe, 0xef], name: b"nas" },
/// };
/// assert_eq!(md5.to_string(), r#"[EAP Request id=0x2 MD5-Challenge <Value de ad be ef> <Name "nas">]"#);
/// let mut out = Vec::new();
/// md5.emit(&mut out);
/// assert_eq!(out.len(), md5.buffer_len());
/// assert_eq!(EapPacket::parse(&out)?, md5);
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EapPacket<'a> {
    /// Code 1: from the authenticator.
    Request {
        /// Identifier.
        identifier: u8,
        /// The Type and its data.
        data: EapData<'a>,
    },
    /// Code 2: from the peer, echoing the Request's Identifier.
    Response {
        /// Identifier.
        identifier: u8,
        /// The Type and its data.
        data: EapData<'a>,
    },
    /// Code 3: authentication succeeded.
    Success {
        /// Identifier.
        identifier: u8,
    },
    /// Code 4: authentication failed.
    Failure {
        /// Identifier.
        identifier: u8,
    },
}

impl<'a> EapPacket<'a> {
    /// Code of Request.
    pub const REQUEST: u8 = 1;
    /// Code of Response.
    pub const RESPONSE: u8 = 2;
    /// Code of Success.
    pub const SUCCESS: u8 = 3;
    /// Code of Failure.
    pub const FAILURE: u8 = 4;

    /// Parses an EAP packet from a PPP information field; see
    /// [`EapPacket`'s example](EapPacket#example).
    ///
    /// A Length below 4 or past the input, a Request or Response without a
    /// Type octet, a Success or Failure whose Length is not 4 (RFC 3748
    /// §4.2) and a Type-Data too short for its type are errors:
    ///
    /// ```
    /// use pptp_proto::wire::{eap::EapPacket, Error};
    ///
    /// assert!(matches!(EapPacket::parse(&[1, 1, 0]), Err(Error::Truncated { .. })));
    /// assert!(matches!(
    ///     EapPacket::parse(&[1, 1, 0, 9, 1]),
    ///     Err(Error::Truncated { needed: 9, available: 5, .. })
    /// ));
    /// assert!(matches!(
    ///     EapPacket::parse(&[3, 1, 0, 3]),
    ///     Err(Error::BadLength { length: 3, .. })
    /// ));
    /// assert!(matches!(
    ///     EapPacket::parse(&[1, 1, 0, 4]),
    ///     Err(Error::BadLength { length: 4, .. })
    /// ));
    /// // MD5-Challenge whose Value-Size (16) runs past the packet.
    /// assert!(matches!(
    ///     EapPacket::parse(&[1, 1, 0, 7, 4, 16, 0]),
    ///     Err(Error::Truncated { needed: 16, available: 1, .. })
    /// ));
    /// // MS-CHAPv2 Challenge without its MS-CHAPv2-ID and MS-Length.
    /// assert!(matches!(
    ///     EapPacket::parse(&[1, 1, 0, 7, 26, 1, 1]),
    ///     Err(Error::Truncated { what: "EAP-MSCHAPv2", needed: 4, available: 2 })
    /// ));
    /// // Padding past Length is ignored.
    /// assert_eq!(EapPacket::parse(&[3, 9, 0, 4, 0xff])?, EapPacket::Success { identifier: 9 });
    /// # Ok::<(), pptp_proto::wire::Error>(())
    /// ```
    pub fn parse(input: &'a [u8]) -> Result<Self, Error> {
        let (code, identifier, data) = split_packet(EAP, input)?;
        match code {
            Self::REQUEST | Self::RESPONSE => {
                let Some((&eap_type, type_data)) = data.split_first() else {
                    return Err(Error::BadLength {
                        what: EAP,
                        length: HEADER_LEN,
                        expected: "5..=packet size (a Type octet)",
                    });
                };
                let data = EapData::parse(EapType(eap_type), type_data)?;
                Ok(if code == Self::REQUEST {
                    EapPacket::Request { identifier, data }
                } else {
                    EapPacket::Response { identifier, data }
                })
            }
            Self::SUCCESS | Self::FAILURE => {
                // RFC 3748 §4.2: Success and Failure have Length 4.
                if !data.is_empty() {
                    return Err(Error::BadLength {
                        what: EAP,
                        length: HEADER_LEN + data.len(),
                        expected: "4",
                    });
                }
                Ok(if code == Self::SUCCESS {
                    EapPacket::Success { identifier }
                } else {
                    EapPacket::Failure { identifier }
                })
            }
            _ => Err(Error::BadField {
                what: EAP,
                field: "code",
                value: code.into(),
            }),
        }
    }

    /// The packet's Identifier; see [`EapPacket`'s example](EapPacket#example).
    pub fn identifier(&self) -> u8 {
        match *self {
            EapPacket::Request { identifier, .. }
            | EapPacket::Response { identifier, .. }
            | EapPacket::Success { identifier }
            | EapPacket::Failure { identifier } => identifier,
        }
    }

    fn code(&self) -> u8 {
        match self {
            EapPacket::Request { .. } => Self::REQUEST,
            EapPacket::Response { .. } => Self::RESPONSE,
            EapPacket::Success { .. } => Self::SUCCESS,
            EapPacket::Failure { .. } => Self::FAILURE,
        }
    }

    fn data(&self) -> Option<&EapData<'a>> {
        match self {
            EapPacket::Request { data, .. } | EapPacket::Response { data, .. } => Some(data),
            EapPacket::Success { .. } | EapPacket::Failure { .. } => None,
        }
    }

    /// Writes the packet; [`EapPacket`'s example](EapPacket#example)
    /// round-trips one. A Value longer than 255 bytes is cut to 255 (the
    /// most Value-Size can say), and a trailing field (a name, message or
    /// raw Type-Data) that would take the packet past the 65 535 octets its
    /// Length can say is cut there, so Length always tells the truth:
    ///
    /// ```
    /// use pptp_proto::wire::eap::{EapData, EapPacket};
    ///
    /// let long = vec![b'n'; 70_000];
    /// let packet = EapPacket::Response {
    ///     identifier: 1,
    ///     data: EapData::Md5Challenge { value: &[7; 300], name: &long },
    /// };
    /// let mut out = Vec::new();
    /// packet.emit(&mut out);
    /// assert_eq!(out.len(), 65_535);
    /// assert_eq!(packet.buffer_len(), out.len());
    /// assert_eq!(out[2..6], [0xff, 0xff, 4, 255]); // Length, Type, Value-Size
    /// let EapPacket::Response { data: EapData::Md5Challenge { value, name }, .. } =
    ///     EapPacket::parse(&out)?
    /// else {
    ///     panic!("not an MD5-Challenge")
    /// };
    /// assert_eq!((value.len(), name.len()), (255, 65_535 - 4 - 2 - 255));
    /// # Ok::<(), pptp_proto::wire::Error>(())
    /// ```
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        let data_len = self.data().map_or(0, EapData::len);
        put_header(buf, self.code(), self.identifier(), data_len);
        if let Some(data) = self.data() {
            data.emit(buf);
        }
    }

    /// How many bytes [`EapPacket::emit`] writes (see
    /// [`EapPacket`'s example](EapPacket#example)).
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data().map_or(0, EapData::len)
    }
}

/// The Type and Type-Data of an EAP Request or Response (RFC 3748 §5).
///
/// # Example
///
/// ```
/// use pptp_proto::wire::eap::{EapData, EapPacket, EapType};
///
/// // A legacy Nak: the peer would rather do MS-CHAPv2 or MD5-Challenge.
/// let nak = EapPacket::parse(&[2, 4, 0, 7, 3, 26, 4])?;
/// let EapPacket::Response { data, .. } = nak else { panic!("not a Response") };
/// assert_eq!(data, EapData::Nak(&[26, 4]));
/// assert_eq!(data.eap_type(), EapType::NAK);
/// assert_eq!(nak.to_string(), "[EAP Response id=0x4 Nak <Suggested-type 1A (MSCHAPv2)> 04]");
///
/// // EAP-TLS Start (flags 0x20) is kept raw.
/// let start = EapPacket::parse(&[1, 5, 0, 6, 13, 0x20])?;
/// let EapPacket::Request { data, .. } = start else { panic!("not a Request") };
/// assert_eq!(data, EapData::Other { eap_type: EapType::TLS, data: &[0x20] });
/// assert_eq!(data.eap_type(), EapType::TLS);
/// assert_eq!(start.to_string(), "[EAP Request id=0x5 TLS 20]");
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EapData<'a> {
    /// Type 1: in a Request an optional displayable prompt, in a Response
    /// the peer's identity (RFC 3748 §5.1).
    Identity(&'a [u8]),
    /// Type 2: a displayable message in a Request; a Response is empty
    /// (RFC 3748 §5.2).
    Notification(&'a [u8]),
    /// Type 3, legacy Nak: the authentication types the peer would accept,
    /// one octet each (RFC 3748 §5.3.1).
    Nak(&'a [u8]),
    /// Type 4: Value-Size, Value, Name (RFC 3748 §5.4). `value` is at most
    /// 255 bytes.
    Md5Challenge {
        /// The challenge (Request) or the MD5 response (Response).
        value: &'a [u8],
        /// The sender's name.
        name: &'a [u8],
    },
    /// Type 26: EAP-MSCHAPv2.
    MsChapV2(EapMsChapV2<'a>),
    /// Any other type, its Type-Data kept raw (TLS, PEAP, TTLS, expanded …).
    /// A type that has its own variant here parses back as that variant.
    Other {
        /// The Type.
        eap_type: EapType,
        /// The Type-Data.
        data: &'a [u8],
    },
}

impl<'a> EapData<'a> {
    /// The EAP Type this data travels as; see [`EapData`'s example](EapData#example).
    pub fn eap_type(&self) -> EapType {
        match *self {
            EapData::Identity(_) => EapType::IDENTITY,
            EapData::Notification(_) => EapType::NOTIFICATION,
            EapData::Nak(_) => EapType::NAK,
            EapData::Md5Challenge { .. } => EapType::MD5_CHALLENGE,
            EapData::MsChapV2(_) => EapType::MS_CHAP_V2,
            EapData::Other { eap_type, .. } => eap_type,
        }
    }

    fn parse(eap_type: EapType, data: &'a [u8]) -> Result<Self, Error> {
        Ok(match eap_type {
            EapType::IDENTITY => EapData::Identity(data),
            EapType::NOTIFICATION => EapData::Notification(data),
            EapType::NAK => EapData::Nak(data),
            EapType::MD5_CHALLENGE => {
                let mut reader = Reader::new(EAP, data);
                let value = reader.short_field()?;
                EapData::Md5Challenge {
                    value,
                    name: reader.rest,
                }
            }
            EapType::MS_CHAP_V2 => EapData::MsChapV2(EapMsChapV2::parse(data)?),
            _ => EapData::Other { eap_type, data },
        })
    }

    /// The Type octet and the Type-Data.
    fn len(&self) -> usize {
        match *self {
            EapData::Identity(data)
            | EapData::Notification(data)
            | EapData::Nak(data)
            | EapData::Other { data, .. } => 1 + tail(data, 1).len(),
            EapData::Md5Challenge { value, name } => {
                let used = 2 + short(value).len();
                used + tail(name, used).len()
            }
            EapData::MsChapV2(ref ms) => 1 + ms.type_data_len(),
        }
    }

    fn emit<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(self.eap_type().0);
        match *self {
            EapData::Identity(data)
            | EapData::Notification(data)
            | EapData::Nak(data)
            | EapData::Other { data, .. } => buf.put_slice(tail(data, 1)),
            EapData::Md5Challenge { value, name } => {
                put_short(buf, value);
                buf.put_slice(tail(name, 2 + short(value).len()));
            }
            EapData::MsChapV2(ref ms) => ms.emit(buf),
        }
    }
}

/// The Type-Data of an EAP-MSCHAPv2 packet
/// (draft-kamath-pppext-eap-mschapv2-02): OpCode, MS-CHAPv2-ID, MS-Length,
/// then the opcode's data.
///
/// A Type-Data of exactly one octet, OpCode 3 or 4, is the peer's
/// acknowledgement ([`SuccessAck`](EapMsChapV2::SuccessAck),
/// [`FailureAck`](EapMsChapV2::FailureAck)); longer, it is the
/// authenticator's message. MS-Length is not checked (see
/// [the module](self#ms-length)).
///
/// # Example
///
/// ```
/// use pptp_proto::wire::auth::{MsChapError, MsChapFailure};
/// use pptp_proto::wire::eap::{EapData, EapMsChapV2, EapPacket};
///
/// let failure = EapMsChapV2::Failure { ms_chap_id: 7, message: b"E=691 R=0 V=3" };
/// assert_eq!(failure.opcode(), EapMsChapV2::FAILURE);
/// assert_eq!(failure.ms_chap_id(), Some(7));
/// let packet = EapPacket::Request { identifier: 8, data: EapData::MsChapV2(failure) };
/// let mut out = Vec::new();
/// packet.emit(&mut out);
/// assert_eq!(out[..9], [1, 8, 0, 22, 26, 4, 7, 0, 17]); // ... MS-Length = Length - 5
/// assert_eq!(packet.to_string(), r#"[EAP Request id=0x8 MSCHAPv2 Failure <Message "E=691 R=0 V=3">]"#);
/// let EapPacket::Request { data: EapData::MsChapV2(EapMsChapV2::Failure { message, .. }), .. } =
///     EapPacket::parse(&out)?
/// else {
///     panic!("not an MS-CHAPv2 Failure")
/// };
/// assert_eq!(MsChapFailure::parse(message)?.error, MsChapError::AUTHENTICATION_FAILURE);
///
/// // The peer's acknowledgement is the OpCode alone.
/// let ack = EapMsChapV2::FailureAck;
/// assert_eq!((ack.opcode(), ack.ms_chap_id()), (EapMsChapV2::FAILURE, None));
/// let packet = EapPacket::Response { identifier: 8, data: EapData::MsChapV2(ack) };
/// assert_eq!(packet.buffer_len(), 6);
/// assert_eq!(packet.to_string(), "[EAP Response id=0x8 MSCHAPv2 Failure]");
/// // An OpCode 4 with a partial header is neither.
/// assert!(EapPacket::parse(&[2, 8, 0, 7, 26, 4, 7]).is_err());
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EapMsChapV2<'a> {
    /// OpCode 1, from the authenticator: Value-Size, the challenge (16
    /// bytes; at most 255), the authenticator's name.
    Challenge {
        /// MS-CHAPv2-ID.
        ms_chap_id: u8,
        /// The authenticator challenge.
        challenge: &'a [u8],
        /// The authenticator's name.
        name: &'a [u8],
    },
    /// OpCode 2, from the peer: Value-Size, the response (49 bytes, see
    /// [`MsChapV2Response`](super::auth::MsChapV2Response); at most 255), the
    /// peer's name.
    Response {
        /// MS-CHAPv2-ID (echoes the Challenge's).
        ms_chap_id: u8,
        /// The response value.
        response: &'a [u8],
        /// The peer's name.
        name: &'a [u8],
    },
    /// OpCode 3 from the authenticator: `S=<40 hex> M=…` (see
    /// [`MsChapV2Success`](super::auth::MsChapV2Success)).
    Success {
        /// MS-CHAPv2-ID.
        ms_chap_id: u8,
        /// The success message.
        message: &'a [u8],
    },
    /// OpCode 3 alone: the peer's one-octet Response to a Success.
    SuccessAck,
    /// OpCode 4 from the authenticator: `E=… R=… C=… V=… M=…` (see
    /// [`MsChapFailure`](super::auth::MsChapFailure)).
    Failure {
        /// MS-CHAPv2-ID.
        ms_chap_id: u8,
        /// The failure message.
        message: &'a [u8],
    },
    /// OpCode 4 alone: the peer's one-octet Response to a Failure.
    FailureAck,
    /// OpCode 7, from the peer: the data of a CHAP Change-Password packet
    /// (RFC 2759 §7), MS-Length 586; its `identifier` is the MS-CHAPv2-ID.
    ChangePassword(MsChapV2ChangePassword<'a>),
}

impl<'a> EapMsChapV2<'a> {
    /// OpCode of Challenge.
    pub const CHALLENGE: u8 = 1;
    /// OpCode of Response.
    pub const RESPONSE: u8 = 2;
    /// OpCode of Success and its acknowledgement.
    pub const SUCCESS: u8 = 3;
    /// OpCode of Failure and its acknowledgement.
    pub const FAILURE: u8 = 4;
    /// OpCode of Change-Password.
    pub const CHANGE_PASSWORD: u8 = 7;

    /// The OpCode; see [`EapMsChapV2`'s example](EapMsChapV2#example).
    pub fn opcode(&self) -> u8 {
        match self {
            EapMsChapV2::Challenge { .. } => Self::CHALLENGE,
            EapMsChapV2::Response { .. } => Self::RESPONSE,
            EapMsChapV2::Success { .. } | EapMsChapV2::SuccessAck => Self::SUCCESS,
            EapMsChapV2::Failure { .. } | EapMsChapV2::FailureAck => Self::FAILURE,
            EapMsChapV2::ChangePassword(_) => Self::CHANGE_PASSWORD,
        }
    }

    /// The MS-CHAPv2-ID, `None` for the one-octet acknowledgements; see
    /// [`EapMsChapV2`'s example](EapMsChapV2#example).
    pub fn ms_chap_id(&self) -> Option<u8> {
        match *self {
            EapMsChapV2::Challenge { ms_chap_id, .. }
            | EapMsChapV2::Response { ms_chap_id, .. }
            | EapMsChapV2::Success { ms_chap_id, .. }
            | EapMsChapV2::Failure { ms_chap_id, .. } => Some(ms_chap_id),
            EapMsChapV2::ChangePassword(ref change) => Some(change.identifier),
            EapMsChapV2::SuccessAck | EapMsChapV2::FailureAck => None,
        }
    }

    fn parse(data: &'a [u8]) -> Result<Self, Error> {
        need(MSCHAPV2, data, 1)?;
        let mut reader = Reader::new(MSCHAPV2, data);
        let opcode = reader.u8()?;
        match opcode {
            Self::CHALLENGE | Self::RESPONSE | Self::CHANGE_PASSWORD => {}
            Self::SUCCESS if reader.rest.is_empty() => return Ok(EapMsChapV2::SuccessAck),
            Self::FAILURE if reader.rest.is_empty() => return Ok(EapMsChapV2::FailureAck),
            Self::SUCCESS | Self::FAILURE => {}
            _ => {
                return Err(Error::BadField {
                    what: MSCHAPV2,
                    field: "opcode",
                    value: opcode.into(),
                })
            }
        }
        need(MSCHAPV2, data, MS_HEADER_LEN)?;
        let ms_chap_id = reader.u8()?;
        // MS-Length is not checked: see the module documentation.
        let _ms_length: [u8; 2] = reader.array()?;
        Ok(match opcode {
            Self::CHALLENGE | Self::RESPONSE => {
                let value = reader.short_field()?;
                let name = reader.rest;
                if opcode == Self::CHALLENGE {
                    EapMsChapV2::Challenge {
                        ms_chap_id,
                        challenge: value,
                        name,
                    }
                } else {
                    EapMsChapV2::Response {
                        ms_chap_id,
                        response: value,
                        name,
                    }
                }
            }
            Self::SUCCESS => EapMsChapV2::Success {
                ms_chap_id,
                message: reader.rest,
            },
            Self::FAILURE => EapMsChapV2::Failure {
                ms_chap_id,
                message: reader.rest,
            },
            _ => EapMsChapV2::ChangePassword(MsChapV2ChangePassword::parse_data(
                ms_chap_id,
                reader.rest,
            )?),
        })
    }

    /// The Type-Data length, which is also MS-Length.
    fn type_data_len(&self) -> usize {
        // What comes before a trailing field: Type, the MS header, Value-Size, the value.
        let before = |value: &[u8]| 1 + MS_HEADER_LEN + 1 + short(value).len();
        match *self {
            EapMsChapV2::Challenge {
                challenge: value,
                name,
                ..
            }
            | EapMsChapV2::Response {
                response: value,
                name,
                ..
            } => before(value) - 1 + tail(name, before(value)).len(),
            EapMsChapV2::Success { message, .. } | EapMsChapV2::Failure { message, .. } => {
                MS_HEADER_LEN + tail(message, 1 + MS_HEADER_LEN).len()
            }
            EapMsChapV2::SuccessAck | EapMsChapV2::FailureAck => 1,
            EapMsChapV2::ChangePassword(_) => MS_HEADER_LEN + MsChapV2ChangePassword::DATA_LEN,
        }
    }

    fn emit<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(self.opcode());
        let Some(ms_chap_id) = self.ms_chap_id() else {
            return;
        };
        buf.put_u8(ms_chap_id);
        // draft-kamath §2: MS-Length = EAP Length - 5 (at most 65 530).
        buf.put_u16(u16::try_from(self.type_data_len()).unwrap_or(u16::MAX));
        match *self {
            EapMsChapV2::Challenge {
                challenge: value,
                name,
                ..
            }
            | EapMsChapV2::Response {
                response: value,
                name,
                ..
            } => {
                put_short(buf, value);
                buf.put_slice(tail(name, 1 + MS_HEADER_LEN + 1 + short(value).len()));
            }
            EapMsChapV2::Success { message, .. } | EapMsChapV2::Failure { message, .. } => {
                buf.put_slice(tail(message, 1 + MS_HEADER_LEN));
            }
            EapMsChapV2::ChangePassword(ref change) => change.emit_data(buf),
            EapMsChapV2::SuccessAck | EapMsChapV2::FailureAck => {}
        }
    }
}

/// Bytes the way pppd's `%.*B` prints them: each as ` xx`; after eight,
/// `...` (pppd's `%8B...` for a long remainder).
struct Dump<'a>(&'a [u8]);

impl fmt::Display for Dump<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0.iter().take(8) {
            write!(f, " {b:02x}")?;
        }
        if self.0.len() > 8 {
            f.write_str("...")?;
        }
        Ok(())
    }
}

/// pppd's ` <Message "…">`, or ` <No message>` when empty.
fn message(f: &mut fmt::Formatter<'_>, text: &[u8]) -> fmt::Result {
    if text.is_empty() {
        f.write_str(" <No message>")
    } else {
        write!(f, " <Message {}>", Quoted(text))
    }
}

fn fmt_data(f: &mut fmt::Formatter<'_>, data: &EapData<'_>, request: bool) -> fmt::Result {
    let eap_type = data.eap_type();
    match eap_type.name() {
        Some(name) => write!(f, " {name}")?,
        None => write!(f, " type={:#x}", eap_type.0)?,
    }
    match *data {
        EapData::Identity(text) if request => message(f, text),
        EapData::Identity([]) => Ok(()),
        EapData::Identity(name) => write!(f, " <Name {}>", Quoted(name)),
        EapData::Notification(text) if request => message(f, text),
        EapData::Notification(data) | EapData::Other { data, .. } => write!(f, "{}", Dump(data)),
        EapData::Nak(types) if request => write!(f, "{}", Dump(types)),
        EapData::Nak(types) => match types.split_first() {
            None => f.write_str(" <missing hint>"),
            Some((&first, rest)) => {
                write!(f, " <Suggested-type {first:02X}")?;
                if let Some(name) = EapType(first).name() {
                    write!(f, " ({name})")?;
                }
                write!(f, ">{}", Dump(rest))
            }
        },
        EapData::Md5Challenge { value, name } => {
            write!(f, " <Value{}>", Dump(value))?;
            if name.is_empty() {
                f.write_str(" <No name>")
            } else {
                write!(f, " <Name {}>", Quoted(name))
            }
        }
        EapData::MsChapV2(ref ms) => fmt_ms_chap_v2(f, ms),
    }
}

fn fmt_ms_chap_v2(f: &mut fmt::Formatter<'_>, ms: &EapMsChapV2<'_>) -> fmt::Result {
    let (word, value, name) = match *ms {
        EapMsChapV2::Challenge {
            challenge, name, ..
        } => ("Challenge", challenge, name),
        EapMsChapV2::Response { response, name, .. } => ("Response", response, name),
        EapMsChapV2::Success { message: text, .. } => {
            return write!(f, " Success <Message {}>", Quoted(text))
        }
        EapMsChapV2::Failure { message: text, .. } => {
            return write!(f, " Failure <Message {}>", Quoted(text))
        }
        EapMsChapV2::SuccessAck => return f.write_str(" Success"),
        EapMsChapV2::FailureAck => return f.write_str(" Failure"),
        EapMsChapV2::ChangePassword(ref change) => {
            return write!(
                f,
                " ChangePassword peer-challenge <{}>",
                Hex(&change.peer_challenge)
            )
        }
    };
    write!(f, " {word} <{}>", Hex(value))?;
    if name.is_empty() {
        f.write_str(", <No name>")
    } else {
        write!(f, ", <Name {}>", Quoted(name))
    }
}

/// pppd's `eap_printpkt` words: `[EAP Request id=0x1 Identity <Message "…">]`,
/// `[EAP Response id=0x2 MD5-Challenge <Value 01 02> <Name "alice">]`,
/// `[EAP Request id=0x3 MSCHAPv2 Challenge <…>, <Name "srv">]`,
/// `[EAP Success id=0x3]`; an unnamed type prints as `type=0x2b` followed by
/// its first eight bytes.
impl fmt::Display for EapPacket<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self {
            EapPacket::Request { .. } => "Request",
            EapPacket::Response { .. } => "Response",
            EapPacket::Success { .. } => "Success",
            EapPacket::Failure { .. } => "Failure",
        };
        write!(f, "[EAP {word} id={:#x}", self.identifier())?;
        if let Some(data) = self.data() {
            fmt_data(f, data, matches!(self, EapPacket::Request { .. }))?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::auth::{MsChapFailure, MsChapV2Response, MsChapV2Success};
    use alloc::{format, string::ToString, vec, vec::Vec};
    use proptest::prelude::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    fn emitted(packet: &EapPacket<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        packet.emit(&mut out);
        assert_eq!(out.len(), packet.buffer_len());
        out
    }

    /// Parses, re-emits byte for byte, refuses every prefix, ignores padding.
    fn roundtrip(bytes: &[u8]) -> EapPacket<'_> {
        let packet = EapPacket::parse(bytes).unwrap();
        assert_eq!(emitted(&packet), bytes);
        for n in 0..bytes.len() {
            assert!(EapPacket::parse(&bytes[..n]).is_err(), "prefix {n}");
        }
        let mut padded = bytes.to_vec();
        padded.extend_from_slice(&[0xaa, 0xbb]);
        assert_eq!(EapPacket::parse(&padded).unwrap(), packet);
        packet
    }

    /// What `emit` writes for input that parsed: the first Length bytes,
    /// with MS-Length set to Length − 5 for an MS-CHAPv2 packet that has one.
    fn canonical(input: &[u8], packet: &EapPacket<'_>) -> Vec<u8> {
        let len = usize::from(u16::from_be_bytes([input[2], input[3]]));
        let mut expected = input[..len].to_vec();
        if let Some(EapData::MsChapV2(ms)) = packet.data() {
            if ms.ms_chap_id().is_some() {
                expected[7..9].copy_from_slice(&((len - 5) as u16).to_be_bytes());
            }
        }
        expected
    }

    // RFC 2759 §9.2 values in the draft-kamath-pppext-eap-mschapv2-02 §2 layout.
    const AUTH_CHALLENGE: &str = "5b5d7c7d7b3f2f3e3c2c602132262628";
    const PEER_CHALLENGE: &str = "21402324255e262a28295f2b3a337c7e";
    const NT_RESPONSE: &str = "82309ecd8d708b5ea08faa3981cd83544233114a3d85d6df";
    const AUTH_RESPONSE: &str = "S=407A5589115FD0D6209F510FE9C04566932CDA56";

    #[test]
    fn rfc2759_eap_mschapv2_exchange() {
        let challenge = unhex(&format!(
            "01020020 1a 01 02 001b 10 {AUTH_CHALLENGE} {}",
            hex::encode("server")
        ));
        let packet = roundtrip(&challenge);
        assert_eq!(
            packet,
            EapPacket::Request {
                identifier: 2,
                data: EapData::MsChapV2(EapMsChapV2::Challenge {
                    ms_chap_id: 2,
                    challenge: &unhex(AUTH_CHALLENGE),
                    name: b"server",
                }),
            }
        );
        assert_eq!(
            packet.to_string(),
            format!(
                "[EAP Request id=0x2 MSCHAPv2 Challenge <{AUTH_CHALLENGE}>, <Name \"server\">]"
            )
        );

        let value = format!("{PEER_CHALLENGE} 0000000000000000 {NT_RESPONSE} 00");
        let response = unhex(&format!(
            "0202003f 1a 02 02 003a 31 {value} {}",
            hex::encode("User")
        ));
        let packet = roundtrip(&response);
        let EapPacket::Response {
            identifier: 2,
            data:
                EapData::MsChapV2(EapMsChapV2::Response {
                    ms_chap_id: 2,
                    response: value_bytes,
                    name: b"User",
                }),
        } = packet
        else {
            panic!("not the Response: {packet:?}");
        };
        let v2 = MsChapV2Response::parse(value_bytes).unwrap();
        assert_eq!(v2.peer_challenge[..], unhex(PEER_CHALLENGE)[..]);
        assert_eq!(v2.nt_response[..], unhex(NT_RESPONSE)[..]);
        assert_eq!(
            packet.to_string(),
            format!(
                "[EAP Response id=0x2 MSCHAPv2 Response <{}>, <Name \"User\">]",
                value.replace(' ', "")
            )
        );

        let mut success = unhex("01030033 1a 03 02 002e");
        success.extend_from_slice(AUTH_RESPONSE.as_bytes());
        let packet = roundtrip(&success);
        let EapPacket::Request {
            data:
                EapData::MsChapV2(EapMsChapV2::Success {
                    ms_chap_id: 2,
                    message,
                }),
            ..
        } = packet
        else {
            panic!("not the Success: {packet:?}");
        };
        let parsed = MsChapV2Success::parse(message).unwrap();
        assert_eq!(
            parsed.authenticator_response[..],
            unhex(&AUTH_RESPONSE[2..])[..]
        );
        assert_eq!(
            packet.to_string(),
            format!("[EAP Request id=0x3 MSCHAPv2 Success <Message \"{AUTH_RESPONSE}\">]")
        );

        let ack = roundtrip(&[2, 3, 0, 6, 26, 3]);
        assert_eq!(
            ack,
            EapPacket::Response {
                identifier: 3,
                data: EapData::MsChapV2(EapMsChapV2::SuccessAck)
            }
        );
        assert_eq!(ack.to_string(), "[EAP Response id=0x3 MSCHAPv2 Success]");
        let done = roundtrip(&[3, 3, 0, 4]);
        assert_eq!(done, EapPacket::Success { identifier: 3 });
        assert_eq!(done.to_string(), "[EAP Success id=0x3]");
    }

    #[test]
    fn mschapv2_failure_and_retry() {
        let text = b"E=691 R=1 C=0123456789ABCDEF0123456789ABCDEF V=3 M=Bad password";
        let mut bytes = vec![
            1,
            4,
            0,
            (9 + text.len()) as u8,
            26,
            4,
            3,
            0,
            (4 + text.len()) as u8,
        ];
        bytes.extend_from_slice(text);
        let packet = roundtrip(&bytes);
        let EapPacket::Request {
            data:
                EapData::MsChapV2(EapMsChapV2::Failure {
                    ms_chap_id: 3,
                    message,
                }),
            ..
        } = packet
        else {
            panic!("not a Failure: {packet:?}");
        };
        let failure = MsChapFailure::parse(message).unwrap();
        assert_eq!(failure.retry, Some(true));
        assert_eq!(failure.version, Some(3));
        assert_eq!(
            packet.to_string(),
            format!(
                "[EAP Request id=0x4 MSCHAPv2 Failure <Message \"{}\">]",
                core::str::from_utf8(text).unwrap()
            )
        );
        let ack = roundtrip(&[2, 4, 0, 6, 26, 4]);
        assert_eq!(ack.to_string(), "[EAP Response id=0x4 MSCHAPv2 Failure]");
        // An authenticator's Success or Failure with an empty message is not an Ack.
        let empty = roundtrip(&[1, 5, 0, 9, 26, 3, 5, 0, 4]);
        assert_eq!(
            empty,
            EapPacket::Request {
                identifier: 5,
                data: EapData::MsChapV2(EapMsChapV2::Success {
                    ms_chap_id: 5,
                    message: b""
                })
            }
        );
        assert_eq!(
            empty.to_string(),
            "[EAP Request id=0x5 MSCHAPv2 Success <Message \"\">]"
        );
    }

    #[test]
    fn mschapv2_change_password() {
        let mut bytes = vec![2, 6, 0x02, 0x4f, 26, 7, 5, 0x02, 0x4a];
        bytes.extend((0..582u32).map(|i| (i * 13 + 1) as u8));
        assert_eq!(bytes.len(), 591);
        let packet = roundtrip(&bytes);
        let EapPacket::Response {
            data: EapData::MsChapV2(ms @ EapMsChapV2::ChangePassword(change)),
            ..
        } = packet
        else {
            panic!("not a Change-Password: {packet:?}");
        };
        assert_eq!(ms.opcode(), EapMsChapV2::CHANGE_PASSWORD);
        assert_eq!(ms.ms_chap_id(), Some(5));
        assert_eq!(change.identifier, 5);
        assert_eq!(change.encrypted_password[..], bytes[9..525]);
        assert_eq!(change.peer_challenge[..], bytes[541..557]);
        assert_eq!(change.flags, u16::from_be_bytes([bytes[589], bytes[590]]));
        assert_eq!(
            packet.to_string(),
            format!(
                "[EAP Response id=0x6 MSCHAPv2 ChangePassword peer-challenge <{}>]",
                hex::encode(&bytes[541..557])
            )
        );
        // One octet short (Length and MS-Length both say so).
        let mut short = bytes[..590].to_vec();
        short[3] = 0x4e;
        short[8] = 0x49;
        assert!(matches!(
            EapPacket::parse(&short),
            Err(Error::BadLength { length: 585, .. })
        ));
    }

    #[test]
    fn mschapv2_cisco_neat_and_empty_names() {
        // FreeRADIUS: Cisco NEAT sends Value-Size 16 in its Response; no name.
        let bytes = unhex(&format!("0207001a 1a 02 07 0015 10 {PEER_CHALLENGE}"));
        let packet = roundtrip(&bytes);
        assert_eq!(
            packet.to_string(),
            format!("[EAP Response id=0x7 MSCHAPv2 Response <{PEER_CHALLENGE}>, <No name>]")
        );
    }

    #[test]
    fn ms_length_is_not_checked() {
        // pppd 2.5's peer writes only MS-Length's low octet; others send nonsense.
        let name = vec![b'u'; 210];
        let mut bytes = vec![
            2,
            1,
            0x01,
            0x0d,
            26,
            2,
            1,
            0x00,
            (5u32 + 49 + 210) as u8,
            49,
        ];
        bytes.extend_from_slice(&[0x11; 49]);
        bytes.extend_from_slice(&name);
        assert_eq!(bytes.len(), 0x10d);
        let packet = EapPacket::parse(&bytes).unwrap();
        let EapPacket::Response {
            data: EapData::MsChapV2(EapMsChapV2::Response { name: parsed, .. }),
            ..
        } = packet
        else {
            panic!("not a Response: {packet:?}");
        };
        assert_eq!(parsed, &name[..]);
        let out = emitted(&packet);
        assert_eq!(out[7..9], [0x01, 0x08]);
        assert_eq!(out, canonical(&bytes, &packet));
        for ms_length in [[0, 0], [0xff, 0xff]] {
            let mut odd = unhex("01090009 1a 03 09 0000");
            odd[7..9].copy_from_slice(&ms_length);
            let packet = EapPacket::parse(&odd).unwrap();
            assert_eq!(emitted(&packet), unhex("01090009 1a 03 09 0004"));
        }
    }

    #[test]
    fn rfc3748_identity_md5_exchange() {
        let request = roundtrip(&[1, 1, 0, 5, 1]);
        assert_eq!(
            request.to_string(),
            "[EAP Request id=0x1 Identity <No message>]"
        );
        let prompt = roundtrip(b"\x01\x01\x00\x0b\x01Login:");
        assert_eq!(
            prompt.to_string(),
            "[EAP Request id=0x1 Identity <Message \"Login:\">]"
        );
        let response = roundtrip(b"\x02\x01\x00\x0a\x01alice");
        assert_eq!(
            response,
            EapPacket::Response {
                identifier: 1,
                data: EapData::Identity(b"alice")
            }
        );
        assert_eq!(
            response.to_string(),
            "[EAP Response id=0x1 Identity <Name \"alice\">]"
        );
        assert_eq!(
            roundtrip(&[2, 1, 0, 5, 1]).to_string(),
            "[EAP Response id=0x1 Identity]"
        );

        let challenge = unhex("01020019 04 10 00112233445566778899aabbccddeeff 6e6173");
        let packet = roundtrip(&challenge);
        assert_eq!(
            packet,
            EapPacket::Request {
                identifier: 2,
                data: EapData::Md5Challenge {
                    value: &unhex("00112233445566778899aabbccddeeff"),
                    name: b"nas"
                }
            }
        );
        assert_eq!(
            packet.to_string(),
            "[EAP Request id=0x2 MD5-Challenge <Value 00 11 22 33 44 55 66 77...> <Name \"nas\">]"
        );
        let md5 = unhex("02020018 04 10 0f0e0d0c0b0a09080706050403020100 6d65");
        let packet = roundtrip(&md5);
        assert_eq!(
            packet.to_string(),
            "[EAP Response id=0x2 MD5-Challenge <Value 0f 0e 0d 0c 0b 0a 09 08...> <Name \"me\">]"
        );
        let no_name = roundtrip(&[2, 2, 0, 8, 4, 2, 0xab, 0xcd]);
        assert_eq!(
            no_name.to_string(),
            "[EAP Response id=0x2 MD5-Challenge <Value ab cd> <No name>]"
        );
        assert_eq!(roundtrip(&[4, 2, 0, 4]).to_string(), "[EAP Failure id=0x2]");
    }

    #[test]
    fn notification_nak_and_raw_types() {
        let note = roundtrip(b"\x01\x03\x00\x0b\x02Hello!");
        assert_eq!(
            note.to_string(),
            "[EAP Request id=0x3 Notification <Message \"Hello!\">]"
        );
        let note_ack = roundtrip(&[2, 3, 0, 5, 2]);
        assert_eq!(
            note_ack,
            EapPacket::Response {
                identifier: 3,
                data: EapData::Notification(b"")
            }
        );
        assert_eq!(note_ack.to_string(), "[EAP Response id=0x3 Notification]");
        // pppd's Nak: it suggests SRP-SHA1.
        let nak = roundtrip(&[2, 4, 0, 6, 3, 19]);
        assert_eq!(
            nak.to_string(),
            "[EAP Response id=0x4 Nak <Suggested-type 13 (SRP)>]"
        );
        assert_eq!(
            roundtrip(&[2, 4, 0, 5, 3]).to_string(),
            "[EAP Response id=0x4 Nak <missing hint>]"
        );
        assert_eq!(
            roundtrip(&[2, 4, 0, 6, 3, 43]).to_string(),
            "[EAP Response id=0x4 Nak <Suggested-type 2B>]"
        );
        let peap = roundtrip(&[1, 5, 0, 6, 25, 0x21]);
        assert_eq!(
            peap,
            EapPacket::Request {
                identifier: 5,
                data: EapData::Other {
                    eap_type: EapType::PEAP,
                    data: &[0x21]
                }
            }
        );
        assert_eq!(peap.to_string(), "[EAP Request id=0x5 PEAP 21]");
        // RFC 3748 §5.7: Expanded Type, Vendor-Id 0x00372a (WSC), Vendor-Type 1.
        let expanded_bytes = unhex("01060011 fe 00372a 00000001 0400 0000 00");
        let expanded = roundtrip(&expanded_bytes);
        assert_eq!(
            expanded.to_string(),
            "[EAP Request id=0x6 Expanded 00 37 2a 00 00 00 01 04...]"
        );
        let unknown = roundtrip(&[2, 7, 0, 7, 43, 1, 2]);
        assert_eq!(unknown.to_string(), "[EAP Response id=0x7 type=0x2b 01 02]");
        let gtc = roundtrip(b"\x01\x08\x00\x0b\x06Token:");
        assert_eq!(
            gtc.to_string(),
            "[EAP Request id=0x8 Generic-Token 54 6f 6b 65 6e 3a]"
        );
        let text = format!("{:?}", EapType(43));
        assert_eq!(text, "EapType(0x2b)");
    }

    #[test]
    fn malformed() {
        let cases: &[(&[u8], Error)] = &[
            (
                &[1, 1, 0],
                Error::Truncated {
                    what: EAP,
                    needed: 2,
                    available: 1,
                },
            ),
            (
                &[1, 1, 0, 3, 1],
                Error::BadLength {
                    what: EAP,
                    length: 3,
                    expected: "4..=packet size",
                },
            ),
            (
                &[1, 1, 0, 0],
                Error::BadLength {
                    what: EAP,
                    length: 0,
                    expected: "4..=packet size",
                },
            ),
            (
                &[2, 1, 0, 6, 1],
                Error::Truncated {
                    what: EAP,
                    needed: 6,
                    available: 5,
                },
            ),
            (
                &[1, 1, 0, 4, 1],
                Error::BadLength {
                    what: EAP,
                    length: 4,
                    expected: "5..=packet size (a Type octet)",
                },
            ),
            (
                &[2, 1, 0, 4],
                Error::BadLength {
                    what: EAP,
                    length: 4,
                    expected: "5..=packet size (a Type octet)",
                },
            ),
            (
                &[3, 1, 0, 5, 0],
                Error::BadLength {
                    what: EAP,
                    length: 5,
                    expected: "4",
                },
            ),
            (
                &[5, 1, 0, 4],
                Error::BadField {
                    what: EAP,
                    field: "code",
                    value: 5,
                },
            ),
            // MD5-Challenge: no Value-Size; Value-Size past the end.
            (
                &[1, 1, 0, 5, 4],
                Error::Truncated {
                    what: EAP,
                    needed: 1,
                    available: 0,
                },
            ),
            (
                &[1, 1, 0, 8, 4, 3, 0, 0],
                Error::Truncated {
                    what: EAP,
                    needed: 3,
                    available: 2,
                },
            ),
            // MS-CHAPv2: no OpCode; unknown OpCode; headers cut short.
            (
                &[1, 1, 0, 5, 26],
                Error::Truncated {
                    what: MSCHAPV2,
                    needed: 1,
                    available: 0,
                },
            ),
            (
                &[1, 1, 0, 6, 26, 5],
                Error::BadField {
                    what: MSCHAPV2,
                    field: "opcode",
                    value: 5,
                },
            ),
            (
                &[2, 1, 0, 6, 26, 0],
                Error::BadField {
                    what: MSCHAPV2,
                    field: "opcode",
                    value: 0,
                },
            ),
            (
                &[1, 1, 0, 6, 26, 1],
                Error::Truncated {
                    what: MSCHAPV2,
                    needed: 4,
                    available: 1,
                },
            ),
            (
                &[2, 1, 0, 6, 26, 2],
                Error::Truncated {
                    what: MSCHAPV2,
                    needed: 4,
                    available: 1,
                },
            ),
            (
                &[2, 1, 0, 6, 26, 7],
                Error::Truncated {
                    what: MSCHAPV2,
                    needed: 4,
                    available: 1,
                },
            ),
            (
                &[1, 1, 0, 7, 26, 3, 1],
                Error::Truncated {
                    what: MSCHAPV2,
                    needed: 4,
                    available: 2,
                },
            ),
            (
                &[1, 1, 0, 8, 26, 4, 1, 0],
                Error::Truncated {
                    what: MSCHAPV2,
                    needed: 4,
                    available: 3,
                },
            ),
            // Challenge and Response without Value-Size, or with one past the end.
            (
                &[1, 1, 0, 9, 26, 1, 1, 0, 4],
                Error::Truncated {
                    what: MSCHAPV2,
                    needed: 1,
                    available: 0,
                },
            ),
            (
                &[2, 1, 0, 12, 26, 2, 1, 0, 7, 49, 0, 0],
                Error::Truncated {
                    what: MSCHAPV2,
                    needed: 49,
                    available: 2,
                },
            ),
            (
                &[2, 1, 0, 9, 26, 7, 1, 2, 0x4a],
                Error::BadLength {
                    what: "MS-CHAPv2 Change-Password",
                    length: 4,
                    expected: "586",
                },
            ),
        ];
        for (input, error) in cases {
            assert_eq!(EapPacket::parse(input).as_ref(), Err(error), "{input:?}");
        }
        assert_eq!(
            EapPacket::parse(&[]),
            Err(Error::Truncated {
                what: EAP,
                needed: 1,
                available: 0
            })
        );
    }

    #[test]
    fn trailing_fields_are_cut_to_what_length_can_say() {
        let long = vec![b'x'; 70_000];
        let value = [9u8; 300];
        let packets = [
            EapPacket::Request {
                identifier: 1,
                data: EapData::Identity(&long),
            },
            EapPacket::Response {
                identifier: 1,
                data: EapData::Other {
                    eap_type: EapType::TLS,
                    data: &long,
                },
            },
            EapPacket::Request {
                identifier: 1,
                data: EapData::MsChapV2(EapMsChapV2::Challenge {
                    ms_chap_id: 1,
                    challenge: &value,
                    name: &long,
                }),
            },
            EapPacket::Request {
                identifier: 1,
                data: EapData::MsChapV2(EapMsChapV2::Failure {
                    ms_chap_id: 1,
                    message: &long,
                }),
            },
        ];
        for packet in packets {
            let bytes = emitted(&packet);
            assert_eq!(bytes.len(), usize::from(u16::MAX), "{packet:?}");
            let back = EapPacket::parse(&bytes).unwrap();
            assert_eq!(emitted(&back), bytes);
            if let Some(EapData::MsChapV2(_)) = packet.data() {
                assert_eq!(bytes[7..9], [0xff, 0xfa]);
            }
        }
        let challenge_bytes = emitted(&packets[2]);
        let challenge = EapPacket::parse(&challenge_bytes).unwrap();
        let EapPacket::Request {
            data: EapData::MsChapV2(EapMsChapV2::Challenge { challenge, .. }),
            ..
        } = challenge
        else {
            panic!("not a Challenge");
        };
        assert_eq!(challenge, &value[..255]);
    }

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..max)
    }

    /// Types that parse as `EapData::Other`.
    fn raw_type() -> impl Strategy<Value = EapType> {
        any::<u8>()
            .prop_filter("decoded type", |t| !matches!(t, 1..=4 | 26))
            .prop_map(EapType)
    }

    fn ms_chap_v2<'a>(
        opcode: u8,
        ms_chap_id: u8,
        a: &'a [u8],
        b: &'a [u8],
        change: &'a [u8; 582],
    ) -> EapMsChapV2<'a> {
        match opcode % 7 {
            0 => EapMsChapV2::Challenge {
                ms_chap_id,
                challenge: a,
                name: b,
            },
            1 => EapMsChapV2::Response {
                ms_chap_id,
                response: a,
                name: b,
            },
            2 => EapMsChapV2::Success {
                ms_chap_id,
                message: a,
            },
            3 => EapMsChapV2::Failure {
                ms_chap_id,
                message: a,
            },
            4 => EapMsChapV2::SuccessAck,
            5 => EapMsChapV2::FailureAck,
            _ => EapMsChapV2::ChangePassword(
                MsChapV2ChangePassword::parse_data(ms_chap_id, change).unwrap(),
            ),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn identity(
            code in 1u8..5,
            identifier: u8,
            kind in 0u8..6,
            eap_type in raw_type(),
            opcode: u8,
            ms_chap_id: u8,
            a in bytes(300),
            b in bytes(64),
            change: [u8; 32],
        ) {
            let change: Vec<u8> = change.iter().cycle().take(582).copied().collect();
            let change = <&[u8; 582]>::try_from(&change[..]).unwrap();
            let data = match kind {
                0 => EapData::Identity(&a),
                1 => EapData::Notification(&a),
                2 => EapData::Nak(&b),
                3 => EapData::Md5Challenge { value: &a, name: &b },
                4 => EapData::MsChapV2(ms_chap_v2(opcode, ms_chap_id, &a, &b, change)),
                _ => EapData::Other { eap_type, data: &a },
            };
            let packet = match code {
                1 => EapPacket::Request { identifier, data },
                2 => EapPacket::Response { identifier, data },
                3 => EapPacket::Success { identifier },
                _ => EapPacket::Failure { identifier },
            };
            let out = emitted(&packet);
            let back = EapPacket::parse(&out).unwrap();
            if a.len() <= 255 {
                prop_assert_eq!(back, packet);
            }
            prop_assert!(!back.to_string().is_empty());
            prop_assert_eq!(emitted(&back), out);
        }

        #[test]
        fn arbitrary_bytes_never_panic(input in bytes(80)) {
            if let Ok(packet) = EapPacket::parse(&input) {
                prop_assert_eq!(emitted(&packet), canonical(&input, &packet));
                let _ = packet.to_string();
            }
        }

        #[test]
        fn well_framed_bytes_never_panic(
            code in 1u8..5,
            identifier: u8,
            eap_type in prop_oneof![Just(1u8), Just(2), Just(3), Just(4), Just(26), any::<u8>()],
            body in bytes(600),
            padding in bytes(4),
        ) {
            let mut input = vec![code, identifier, 0, 0, eap_type];
            input.extend_from_slice(&body);
            let len = input.len() as u16;
            input[2..4].copy_from_slice(&len.to_be_bytes());
            input.extend_from_slice(&padding);
            if let Ok(packet) = EapPacket::parse(&input) {
                prop_assert_eq!(emitted(&packet), canonical(&input, &packet));
                let _ = packet.to_string();
                if let Some(EapData::MsChapV2(ms)) = packet.data() {
                    match ms {
                        EapMsChapV2::Response { response, .. } => { let _ = MsChapV2Response::parse(response); }
                        EapMsChapV2::Success { message, .. } => { let _ = MsChapV2Success::parse(message); }
                        EapMsChapV2::Failure { message, .. } => { let _ = MsChapFailure::parse(message); }
                        _ => {}
                    }
                }
            }
        }
    }
}
