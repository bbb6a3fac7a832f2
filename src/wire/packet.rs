//! One entry point that decodes a PPP frame's information field by its
//! protocol: the control protocols, authentication, MPPE and IP.
//!
//! This is what a log line or a capture decoder wants: `PppPacket::parse`
//! followed by `Display`, which prints the packet as pppd's debug log does.
//!
//! # Example
//!
//! ```
//! use pptp_proto::wire::{packet::PppPacket, ppp::PppFrame};
//!
//! for (bytes, log) in [
//!     (&[0xfd, 0x90, 0x00, 0x0e, 0x55][..], "[MPPE flushed encrypted ccount=0x0] (2 bytes)"),
//!     (&[0x21, 0x45, 0x00][..], "[IP data len=2]"),
//!     (&[0xc0, 0x29, 0x01, 0x07][..], "[proto=CBCP len=2 0107]"),
//! ] {
//!     let frame = PppFrame::parse(bytes)?;
//!     assert_eq!(PppPacket::parse(&frame)?.to_string(), log);
//! }
//! # Ok::<(), pptp_proto::wire::Error>(())
//! ```

use core::fmt;

use bytes::BufMut;

use super::auth::{ChapPacket, PapPacket};
use super::cp::CpPacket;
use super::eap::EapPacket;
use super::mppe::MppeHeader;
use super::ppp::{PppFrame, Protocol};
use super::{Error, Hex};

/// A decoded PPP packet.
///
/// # Example
///
/// A PAP Authenticate-Ack, sent without Address/Control:
///
/// ```
/// use pptp_proto::wire::{auth::PapPacket, packet::PppPacket, ppp::{PppFrame, Protocol}};
///
/// let frame = PppFrame::parse(&[0xc0, 0x23, 0x02, 0x2a, 0x00, 0x05, 0x00])?;
/// let packet = PppPacket::parse(&frame)?;
/// let ack = PapPacket::AuthenticateAck { identifier: 0x2a, message: Some(&b""[..]) };
/// assert_eq!(packet, PppPacket::Pap(ack));
/// assert_eq!(packet.protocol(), Protocol::PAP);
/// assert_eq!(packet.to_string(), "[PAP AuthAck id=0x2a]");
///
/// let mut out = Vec::new();
/// packet.emit(&mut out);
/// assert_eq!(out, frame.information);
/// assert_eq!(packet.buffer_len(), 5);
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PppPacket<'a> {
    /// A control-protocol packet: LCP, IPCP, IPv6CP or CCP (the protocol says which).
    Control(Protocol, CpPacket<'a>),
    /// A PAP packet.
    Pap(PapPacket<'a>),
    /// A CHAP packet (CHAP-MD5, MS-CHAPv1 or MS-CHAPv2).
    Chap(ChapPacket<'a>),
    /// An EAP packet (RFC 3748).
    Eap(EapPacket<'a>),
    /// An MPPE/MPPC packet: its header and the encrypted or compressed rest.
    Compressed(MppeHeader, &'a [u8]),
    /// An IPv4 datagram.
    Ipv4(&'a [u8]),
    /// An IPv6 datagram.
    Ipv6(&'a [u8]),
    /// Any other protocol, kept raw (CBCP, …).
    Other(Protocol, &'a [u8]),
}

impl<'a> PppPacket<'a> {
    /// Decodes the information field of `frame` according to its protocol.
    ///
    /// A protocol this crate does not decode is kept raw as
    /// [`PppPacket::Other`]; a malformed packet of a known protocol is an
    /// [`Error`]. See [`PppPacket`'s example](PppPacket#example) and the
    /// [module example](self#example).
    pub fn parse(frame: &PppFrame<'a>) -> Result<Self, Error> {
        let info = frame.information;
        Ok(match frame.protocol {
            p @ (Protocol::LCP | Protocol::IPCP | Protocol::IPV6CP | Protocol::CCP) => {
                PppPacket::Control(p, CpPacket::parse(info)?)
            }
            Protocol::PAP => PppPacket::Pap(PapPacket::parse(info)?),
            Protocol::CHAP => PppPacket::Chap(ChapPacket::parse(info)?),
            Protocol::EAP => PppPacket::Eap(EapPacket::parse(info)?),
            Protocol::COMPRESSED => {
                let (header, rest) = MppeHeader::parse(info)?;
                PppPacket::Compressed(header, rest)
            }
            Protocol::IPV4 => PppPacket::Ipv4(info),
            Protocol::IPV6 => PppPacket::Ipv6(info),
            p => PppPacket::Other(p, info),
        })
    }

    /// The PPP protocol this packet travels under; see
    /// [`PppPacket`'s example](PppPacket#example).
    pub fn protocol(&self) -> Protocol {
        match self {
            PppPacket::Control(p, _) | PppPacket::Other(p, _) => *p,
            PppPacket::Pap(_) => Protocol::PAP,
            PppPacket::Chap(_) => Protocol::CHAP,
            PppPacket::Eap(_) => Protocol::EAP,
            PppPacket::Compressed(..) => Protocol::COMPRESSED,
            PppPacket::Ipv4(_) => Protocol::IPV4,
            PppPacket::Ipv6(_) => Protocol::IPV6,
        }
    }

    /// Writes the information field (what [`PppFrame::information`] holds);
    /// see [`PppPacket`'s example](PppPacket#example).
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        match self {
            PppPacket::Control(_, p) => p.emit(buf),
            PppPacket::Pap(p) => p.emit(buf),
            PppPacket::Chap(p) => p.emit(buf),
            PppPacket::Eap(p) => p.emit(buf),
            PppPacket::Compressed(h, rest) => {
                h.emit(buf);
                buf.put_slice(rest);
            }
            PppPacket::Ipv4(d) | PppPacket::Ipv6(d) | PppPacket::Other(_, d) => buf.put_slice(d),
        }
    }

    /// How many bytes [`PppPacket::emit`] writes (see
    /// [`PppPacket`'s example](PppPacket#example)).
    pub fn buffer_len(&self) -> usize {
        match self {
            PppPacket::Control(_, p) => p.buffer_len(),
            PppPacket::Pap(p) => p.buffer_len(),
            PppPacket::Chap(p) => p.buffer_len(),
            PppPacket::Eap(p) => p.buffer_len(),
            PppPacket::Compressed(h, rest) => h.buffer_len() + rest.len(),
            PppPacket::Ipv4(d) | PppPacket::Ipv6(d) | PppPacket::Other(_, d) => d.len(),
        }
    }
}

impl fmt::Display for PppPacket<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PppPacket::Control(p, packet) => fmt::Display::fmt(&packet.display(*p), f),
            PppPacket::Pap(p) => fmt::Display::fmt(p, f),
            PppPacket::Chap(p) => fmt::Display::fmt(p, f),
            PppPacket::Eap(p) => fmt::Display::fmt(p, f),
            PppPacket::Compressed(h, rest) => write!(f, "{h} ({} bytes)", rest.len()),
            PppPacket::Ipv4(d) => write!(f, "[IP data len={}]", d.len()),
            PppPacket::Ipv6(d) => write!(f, "[IPv6 data len={}]", d.len()),
            PppPacket::Other(p, d) => {
                let shown = d.get(..d.len().min(32)).unwrap_or(d);
                write!(f, "[proto={p} len={} {}]", d.len(), Hex(shown))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    fn roundtrip(bytes: &[u8]) -> alloc::string::String {
        let frame = PppFrame::parse(bytes).expect("frame");
        let packet = PppPacket::parse(&frame).expect("packet");
        let mut out = Vec::new();
        packet.emit(&mut out);
        assert_eq!(out, frame.information);
        assert_eq!(packet.buffer_len(), out.len());
        packet.to_string()
    }

    #[test]
    fn decodes_by_protocol() {
        // scapy ppp.uts: LCP Terminate-Ack, PAP Ack, CHAP Success.
        assert_eq!(roundtrip(&[0xc0, 0x21, 6, 7, 0, 4]), "[LCP TermAck id=0x7]");
        assert!(roundtrip(&[0xc0, 0x23, 2, 0x2a, 0, 5, 0]).starts_with("[PAP AuthAck id=0x2a"));
        assert!(roundtrip(&[0xc2, 0x23, 3, 0x2f, 0, 4]).starts_with("[CHAP Success id=0x2f"));
        // The Windows capture's MPPE frames: PFC+ACFC form `fd 90 00 …`.
        let s = roundtrip(&[0xfd, 0x90, 0x00, 0xaa, 0xbb]);
        assert!(s.contains("flushed") && s.contains("encrypted"), "{s}");
        assert_eq!(roundtrip(&[0x21, 0x45, 0, 0]), "[IP data len=3]");
        assert_eq!(roundtrip(&[0xc0, 0x29, 1, 2]), "[proto=CBCP len=2 0102]");
    }

    #[test]
    fn errors_are_typed() {
        let frame = PppFrame::parse(&[0xc0, 0x21, 1, 1, 0, 9]).expect("frame");
        assert!(matches!(
            PppPacket::parse(&frame),
            Err(Error::BadLength { .. } | Error::Truncated { .. })
        ));
    }
}
