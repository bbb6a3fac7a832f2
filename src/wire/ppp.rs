//! PPP frames as they travel in enhanced GRE (RFC 1661 §2, RFC 2637 §4).
//!
//! Over GRE there is no HDLC flag, byte stuffing or FCS: a frame is the
//! optional Address/Control pair `ff 03` (absent once ACFC is negotiated),
//! the Protocol field (one byte once PFC is negotiated and the value allows
//! it), and the information field.
//!
//! # Example
//!
//! The same IPv4 packet before and after ACFC and PFC are negotiated:
//!
//! ```
//! use pptp_proto::wire::ppp::{PppFrame, Protocol};
//!
//! let full = PppFrame::parse(&[0xff, 0x03, 0x00, 0x21, 0x45])?;
//! let short = PppFrame::parse(&[0x21, 0x45])?;
//! assert_eq!((full.protocol, full.information), (Protocol::IPV4, &[0x45][..]));
//! assert_eq!((short.protocol, short.information), (Protocol::IPV4, &[0x45][..]));
//! assert!(!short.address_control && short.protocol_compressed);
//! # Ok::<(), pptp_proto::wire::Error>(())
//! ```

use core::fmt;

use bytes::BufMut;

use super::Error;

const WHAT: &str = "PPP";

code_point! {
    /// A PPP Protocol field value (RFC 1661 §2, IANA "PPP DLL Protocol Numbers").
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::ppp::Protocol;
    ///
    /// assert_eq!(Protocol::from(0xc021), Protocol::LCP);
    /// assert_eq!(Protocol::LCP.name(), Some("LCP"));
    /// assert!(!Protocol::LCP.is_compressible());
    /// assert!(Protocol::IPV4.is_compressible());
    ///
    /// let unknown = Protocol(0x4021);
    /// assert_eq!(unknown.name(), None);
    /// assert_eq!(format!("{unknown} {unknown:?}"), "0x4021 Protocol(0x4021)");
    /// ```
    pub struct Protocol(u16) {
        /// Internet Protocol version 4.
        IPV4 = 0x0021 => "IP",
        /// Internet Protocol version 6.
        IPV6 = 0x0057 => "IPv6",
        /// Compressed datagram: MPPE/MPPC payload (RFC 1962, RFC 3078).
        COMPRESSED = 0x00fd => "Compressed",
        /// IP Control Protocol (RFC 1332).
        IPCP = 0x8021 => "IPCP",
        /// IPv6 Control Protocol (RFC 5072).
        IPV6CP = 0x8057 => "IPV6CP",
        /// Compression Control Protocol (RFC 1962).
        CCP = 0x80fd => "CCP",
        /// Link Control Protocol (RFC 1661).
        LCP = 0xc021 => "LCP",
        /// Password Authentication Protocol (RFC 1334).
        PAP = 0xc023 => "PAP",
        /// Link Quality Report (RFC 1989).
        LQR = 0xc025 => "LQR",
        /// Callback Control Protocol (Microsoft CBCP).
        CBCP = 0xc029 => "CBCP",
        /// Challenge-Handshake Authentication Protocol (RFC 1994).
        CHAP = 0xc223 => "CHAP",
        /// Extensible Authentication Protocol (RFC 3748).
        EAP = 0xc227 => "EAP",
        /// Van Jacobson compressed TCP/IP (RFC 1144, RFC 1332).
        VJ_COMPRESSED_TCP = 0x002d => "VJC_COMP",
        /// Van Jacobson uncompressed TCP/IP (RFC 1144, RFC 1332).
        VJ_UNCOMPRESSED_TCP = 0x002f => "VJC_UNCOMP",
        /// Multilink PPP fragment (RFC 1990).
        MULTILINK = 0x003d => "MP",
        /// Individual-link compressed datagram (RFC 1962).
        LINK_COMPRESSED = 0x00fb => "Individual link compressed",
        /// Individual-link Compression Control Protocol (RFC 1962).
        LINK_CCP = 0x80fb => "Individual link CCP",
        /// Cisco Discovery Protocol (seen from Cisco peers).
        CDP = 0x0207 => "CDP",
        /// Cisco Discovery Protocol Control Protocol (seen from Cisco peers).
        CDPCP = 0x8207 => "CDPCP",
        /// Bandwidth Allocation Protocol (RFC 2125).
        BAP = 0xc02d => "BAP",
        /// Bandwidth Allocation Control Protocol (RFC 2125).
        BACP = 0xc071 => "BACP",
    }
}

/// A PPP frame without HDLC framing, as carried in GRE (RFC 1661 §2).
///
/// # Example
///
/// A CCP Reset-Ack from a capture:
///
/// ```
/// use pptp_proto::wire::ppp::{PppFrame, Protocol};
///
/// let bytes = [0xff, 0x03, 0x80, 0xfd, 0x06, 0x04, 0x00, 0x04];
/// let frame = PppFrame::parse(&bytes)?;
/// assert_eq!(frame, PppFrame::new(Protocol::CCP, &[0x06, 0x04, 0x00, 0x04]));
/// assert_eq!(frame.to_string(), "[PPP CCP len=4]");
///
/// let mut out = Vec::new();
/// frame.emit(&mut out);
/// assert_eq!(out, bytes);
/// assert_eq!(frame.buffer_len(), bytes.len());
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PppFrame<'a> {
    /// Whether the frame starts with the Address/Control pair `ff 03`.
    pub address_control: bool,
    /// The Protocol field.
    pub protocol: Protocol,
    /// Whether the Protocol field is one byte (PFC, RFC 1661 §6.5); honoured
    /// by `emit` only when [`Protocol::is_compressible`].
    pub protocol_compressed: bool,
    /// The information field (and any padding).
    pub information: &'a [u8],
}

impl Protocol {
    /// Whether the value can travel as a one-byte Protocol field (RFC 1661 §6.5):
    /// below 0x100 and odd; `0xff` cannot, as it would read as the Address field.
    ///
    /// See [`Protocol`'s example](Protocol#example); [`PppFrame::emit`] writes
    /// a compressible protocol in one byte when asked to.
    pub const fn is_compressible(self) -> bool {
        self.0 < 0xff && self.0 & 1 == 1
    }
}

impl<'a> PppFrame<'a> {
    /// A frame with Address/Control and a two-byte Protocol field, the form
    /// every peer accepts (LCP always travels this way). See
    /// [`PppFrame`'s example](PppFrame#example).
    pub const fn new(protocol: Protocol, information: &'a [u8]) -> Self {
        PppFrame {
            address_control: true,
            protocol,
            protocol_compressed: false,
            information,
        }
    }

    /// Parses a frame with or without `ff 03` and with a one- or two-byte
    /// Protocol field.
    ///
    /// See [`PppFrame`'s example](PppFrame#example) and the
    /// [module example](self#example). A Protocol value must be odd (RFC 1661 §2):
    ///
    /// ```
    /// use pptp_proto::wire::{ppp::PppFrame, Error};
    ///
    /// assert!(matches!(
    ///     PppFrame::parse(&[0xff, 0x03, 0xc0, 0x22]),
    ///     Err(Error::BadField { field: "protocol", value: 0xc022, .. })
    /// ));
    /// assert!(matches!(PppFrame::parse(&[0xff, 0x03]), Err(Error::Truncated { .. })));
    /// ```
    pub fn parse(input: &'a [u8]) -> Result<Self, Error> {
        let (address_control, rest) = match input {
            [0xff, 0x03, rest @ ..] => (true, rest),
            _ => (false, input),
        };
        let (protocol, protocol_compressed, information) = parse_protocol(rest)?;
        Ok(PppFrame {
            address_control,
            protocol,
            protocol_compressed,
            information,
        })
    }

    fn writes_compressed(&self) -> bool {
        self.protocol_compressed && self.protocol.is_compressible()
    }

    /// Writes the frame. `protocol_compressed` is honoured only for a
    /// [compressible](Protocol::is_compressible) protocol; [`PppFrame`'s
    /// example](PppFrame#example) round-trips a frame.
    ///
    /// ```
    /// use pptp_proto::wire::ppp::{PppFrame, Protocol};
    ///
    /// let mut frame = PppFrame::new(Protocol::COMPRESSED, &[0x90, 0x00]);
    /// frame.address_control = false;
    /// frame.protocol_compressed = true;
    /// let mut out = Vec::new();
    /// frame.emit(&mut out);
    /// assert_eq!(out, [0xfd, 0x90, 0x00]);
    ///
    /// frame.protocol = Protocol::LCP; // 0xc021 needs two bytes
    /// out.clear();
    /// frame.emit(&mut out);
    /// assert_eq!(out, [0xc0, 0x21, 0x90, 0x00]);
    /// ```
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        if self.address_control {
            buf.put_slice(&[0xff, 0x03]);
        }
        if self.writes_compressed() {
            buf.put_u8(self.protocol.0.to_be_bytes()[1]);
        } else {
            buf.put_u16(self.protocol.0);
        }
        buf.put_slice(self.information);
    }

    /// How many bytes [`PppFrame::emit`] writes (see
    /// [`PppFrame`'s example](PppFrame#example)).
    pub fn buffer_len(&self) -> usize {
        2 * usize::from(self.address_control)
            + if self.writes_compressed() { 1 } else { 2 }
            + self.information.len()
    }
}

impl fmt::Display for PppFrame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[PPP {} len={}]", self.protocol, self.information.len())
    }
}

fn parse_protocol(input: &[u8]) -> Result<(Protocol, bool, &[u8]), Error> {
    match input {
        [] => Err(Error::Truncated {
            what: WHAT,
            needed: 1,
            available: 0,
        }),
        // RFC 1662 §3.1: a lone 0xff is the Address field, never a Protocol.
        [0xff, ..] => Err(bad_protocol(0xff)),
        // RFC 1661 §6.5: an odd first byte is a compressed one-byte Protocol.
        [low, rest @ ..] if low & 1 == 1 => Ok((Protocol(u16::from(*low)), true, rest)),
        [_] => Err(Error::Truncated {
            what: WHAT,
            needed: 2,
            available: 1,
        }),
        // RFC 1661 §2: the low byte of a Protocol value is odd.
        [high, low, rest @ ..] => {
            let value = u16::from_be_bytes([*high, *low]);
            if low & 1 == 0 {
                return Err(bad_protocol(value));
            }
            Ok((Protocol(value), false, rest))
        }
    }
}

fn bad_protocol(value: u16) -> Error {
    Error::BadField {
        what: WHAT,
        field: "protocol",
        value: value.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{format, vec::Vec};
    use proptest::prelude::*;

    fn roundtrip(bytes: &[u8]) -> PppFrame<'_> {
        let frame = PppFrame::parse(bytes).unwrap();
        let mut out = Vec::new();
        frame.emit(&mut out);
        assert_eq!(out, bytes);
        assert_eq!(frame.buffer_len(), bytes.len());
        frame
    }

    #[test]
    fn full_header_from_pcapplusplus() {
        // PcapPlusPlus GREv1_3.dat payload: CCP Reset-Ack.
        let bytes = hex::decode("ff0380fd06040004").unwrap();
        let frame = roundtrip(&bytes);
        assert!(frame.address_control);
        assert!(!frame.protocol_compressed);
        assert_eq!(frame.protocol, Protocol::CCP);
        assert_eq!(frame.information, &[6, 4, 0, 4]);
        assert_eq!(frame, PppFrame::new(Protocol::CCP, &[6, 4, 0, 4]));
        assert_eq!(format!("{frame}"), "[PPP CCP len=4]");
    }

    #[test]
    fn scapy_without_address_control() {
        // scapy ppp.uts: PAP Ack without ff03.
        let bytes = hex::decode("c023022a000500").unwrap();
        let frame = roundtrip(&bytes);
        assert!(!frame.address_control);
        assert_eq!(frame.protocol, Protocol::PAP);
        assert_eq!(frame.information, &[2, 0x2a, 0, 5, 0]);
    }

    #[test]
    fn compressed_mppe_frame() {
        // After ACFC+PFC (vectors §5): fd 90 00 ...
        let bytes = [0xfd, 0x90, 0x00, 0x0e, 0x55];
        let frame = roundtrip(&bytes);
        assert!(!frame.address_control);
        assert!(frame.protocol_compressed);
        assert_eq!(frame.protocol, Protocol::COMPRESSED);
        assert_eq!(frame.information, &[0x90, 0x00, 0x0e, 0x55]);
        let with_ac = [0xff, 0x03, 0x21, 0x45];
        assert_eq!(roundtrip(&with_ac).protocol, Protocol::IPV4);
    }

    #[test]
    fn malformed_protocols() {
        let bad = |b: &[u8]| matches!(PppFrame::parse(b), Err(Error::BadField { .. }));
        assert!(bad(&[0xc0, 0x22]));
        assert!(bad(&[0xff, 0x03, 0x00, 0x20, 0x45]));
        assert!(bad(&[0xff, 0x04]));
        assert!(bad(&[0xff]));
        let truncated = |b: &[u8]| matches!(PppFrame::parse(b), Err(Error::Truncated { .. }));
        assert!(truncated(&[]));
        assert!(truncated(&[0xff, 0x03]));
        assert!(truncated(&[0xc0]));
        assert!(truncated(&[0xff, 0x03, 0xc0]));
    }

    #[test]
    fn every_short_prefix_fails() {
        let bytes = hex::decode("ff03c021010100040000").unwrap();
        for n in 0..4 {
            assert!(PppFrame::parse(&bytes[..n]).is_err(), "prefix {n}");
        }
        for n in 4..bytes.len() {
            assert_eq!(
                PppFrame::parse(&bytes[..n]).unwrap().information,
                &bytes[4..n]
            );
        }
    }

    #[test]
    fn compressibility() {
        assert!(Protocol::IPV4.is_compressible());
        assert!(Protocol::COMPRESSED.is_compressible());
        assert!(!Protocol::LCP.is_compressible());
        assert!(!Protocol(0xff).is_compressible());
        assert!(!Protocol(0x20).is_compressible());
    }

    #[test]
    fn uncompressible_protocol_is_written_in_full() {
        let frame = PppFrame {
            address_control: false,
            protocol: Protocol::LCP,
            protocol_compressed: true,
            information: &[1],
        };
        let mut out = Vec::new();
        frame.emit(&mut out);
        assert_eq!(out, [0xc0, 0x21, 0x01]);
        assert_eq!(frame.buffer_len(), 3);
    }

    fn valid_protocol() -> impl Strategy<Value = u16> {
        any::<u16>().prop_map(|v| (v | 0x0001) & 0xfeff)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn emit_parse_identity(
            address_control: bool,
            value in valid_protocol(),
            compress: bool,
            information in proptest::collection::vec(any::<u8>(), 0..32),
        ) {
            let protocol = Protocol(value);
            let frame = PppFrame {
                address_control,
                protocol,
                protocol_compressed: compress && protocol.is_compressible(),
                information: &information,
            };
            let mut out = Vec::new();
            frame.emit(&mut out);
            prop_assert_eq!(out.len(), frame.buffer_len());
            prop_assert_eq!(PppFrame::parse(&out).unwrap(), frame);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..16)) {
            if let Ok(frame) = PppFrame::parse(&bytes) {
                let mut out = Vec::new();
                frame.emit(&mut out);
                prop_assert_eq!(out, bytes);
            }
        }
    }
}
