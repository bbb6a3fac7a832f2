//! The enhanced GRE header that carries PPP frames for one PPTP call
//! (RFC 2637 §4.1), and a helper to step over the IPv4 header around it.
//!
//! ```text
//! C R K S s Recur | A Flags Ver | Protocol Type (0x880B)
//! Key: Payload Length (16)      | Key: Call ID (16)
//! Sequence Number (present when S)
//! Acknowledgment Number (present when A)
//! ```
//!
//! # Example
//!
//! A PPTP data packet as it comes off a raw IP socket: [`strip_ipv4`] steps
//! over the IPv4 header, [`GrePacket::parse`] reads the GRE header and slices
//! out the PPP frame (here an LCP Echo-Request).
//!
//! ```
//! use pptp_proto::wire::gre::{strip_ipv4, GrePacket};
//!
//! let datagram = [
//!     0x45, 0x00, 0x00, 0x36, 0x00, 0x01, 0x00, 0x00, 0x40, 0x2f, 0xf9, 0x44, // IPv4, protocol 47
//!     0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0x02,
//!     0x30, 0x81, 0x88, 0x0b, 0x00, 0x12, 0x00, 0x00, // GRE: S, A, Key, version 1
//!     0x00, 0x00, 0x00, 0x2f, 0x00, 0x00, 0x00, 0x2a, // seq 47, ack 42
//!     0xff, 0x03, 0xc0, 0x21, 0x09, 0x2a, 0x00, 0x0e, 0x00, 0x00, 0x10, 0x92, // PPP
//!     b'a', b'b', b'c', b'd', b'e', b'f',
//! ];
//! let packet = GrePacket::parse(strip_ipv4(&datagram)?)?;
//! assert_eq!(packet.header.call_id, 0);
//! assert_eq!(packet.header.sequence, Some(47));
//! assert_eq!(packet.header.acknowledgment, Some(42));
//! assert_eq!(packet.payload, &datagram[36..]);
//! assert_eq!(packet.to_string(), "[GRE call=0 seq=47 ack=42 len=18]");
//! # Ok::<(), pptp_proto::wire::Error>(())
//! ```

use core::fmt;

use bytes::BufMut;

use super::{need, Error};

/// The GRE Protocol Type of PPP (RFC 2637 §4.1).
pub const GRE_PROTOCOL_PPP: u16 = 0x880B;

/// The IP protocol number of GRE (RFC 2784).
pub const IP_PROTOCOL_GRE: u8 = 47;

const WHAT: &str = "GRE";
const FLAG_C: u16 = 0x8000;
const FLAG_R: u16 = 0x4000;
const FLAG_K: u16 = 0x2000;
const FLAG_S: u16 = 0x1000;
const FLAG_A: u16 = 0x0080;
const VERSION_MASK: u16 = 0x0007;
// RFC 2637 §4.1: s, Recur and Flags carry no layout; kept raw for re-emit.
const OTHER_FLAGS: u16 = !(FLAG_C | FLAG_R | FLAG_K | FLAG_S | FLAG_A | VERSION_MASK);
/// Length of the header without sequence and acknowledgment numbers.
const BASE_LEN: usize = 8;

/// An enhanced GRE header (RFC 2637 §4.1).
///
/// # Example
///
/// An ack-only header from a capture: flags `20 81` (K, A, version 1), no
/// payload, Call ID 6, acknowledging sequence number 26.
///
/// ```
/// use pptp_proto::wire::gre::GreHeader;
///
/// let bytes = [0x20, 0x81, 0x88, 0x0b, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x1a];
/// let (header, len) = GreHeader::parse(&bytes)?;
/// assert_eq!(len, 12);
/// assert_eq!(header, GreHeader::new(6, 0, None, Some(26)));
/// assert_eq!(header.flags(), 0x2081);
///
/// let mut out = Vec::new();
/// header.emit(&mut out);
/// assert_eq!(out, bytes);
/// assert_eq!(header.buffer_len(), out.len());
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GreHeader {
    /// The receiver's Call ID (low half of the Key).
    pub call_id: u16,
    /// Bytes of PPP payload after the header (high half of the Key).
    pub payload_length: u16,
    /// The sequence number, present exactly when the S bit is set.
    pub sequence: Option<u32>,
    /// The highest sequence number received, present exactly when the A bit is set.
    pub acknowledgment: Option<u32>,
    /// The s, Recur and Flags bits as received (mask `0x0f78`); zero when sending.
    pub other_flags: u16,
}

impl GreHeader {
    /// A header with no other flag bits set; [`GreHeader`'s example](GreHeader#example)
    /// builds one.
    pub const fn new(
        call_id: u16,
        payload_length: u16,
        sequence: Option<u32>,
        acknowledgment: Option<u32>,
    ) -> Self {
        GreHeader {
            call_id,
            payload_length,
            sequence,
            acknowledgment,
            other_flags: 0,
        }
    }

    /// Parses a header and returns it with its length in bytes.
    ///
    /// Headers PPTP forbids (C or R bit set, K bit clear, a version other
    /// than 1, a protocol other than PPP) are [`Error::BadField`]; see also
    /// [`GreHeader`'s example](GreHeader#example).
    ///
    /// ```
    /// use pptp_proto::wire::{gre::GreHeader, Error};
    ///
    /// // Version 0: plain GRE (RFC 2784), not PPTP's enhanced GRE.
    /// let bytes = [0x20, 0x00, 0x88, 0x0b, 0x00, 0x00, 0x00, 0x06];
    /// assert!(matches!(
    ///     GreHeader::parse(&bytes),
    ///     Err(Error::BadField { field: "version", value: 0, .. })
    /// ));
    /// ```
    pub fn parse(input: &[u8]) -> Result<(GreHeader, usize), Error> {
        need(WHAT, input, BASE_LEN)?;
        let flags = be16(input, 0);
        check_flags(flags)?;
        let protocol = be16(input, 2);
        if protocol != GRE_PROTOCOL_PPP {
            return Err(bad("protocol", protocol.into()));
        }
        let mut at = BASE_LEN;
        let sequence = optional_u32(input, flags & FLAG_S != 0, &mut at)?;
        let acknowledgment = optional_u32(input, flags & FLAG_A != 0, &mut at)?;
        let header = GreHeader {
            call_id: be16(input, 6),
            payload_length: be16(input, 4),
            sequence,
            acknowledgment,
            other_flags: flags & OTHER_FLAGS,
        };
        Ok((header, at))
    }

    /// The 16-bit flags-and-version word this header emits; shown in
    /// [`GreHeader`'s example](GreHeader#example).
    pub fn flags(&self) -> u16 {
        let mut flags = (self.other_flags & OTHER_FLAGS) | FLAG_K | 1;
        if self.sequence.is_some() {
            flags |= FLAG_S;
        }
        if self.acknowledgment.is_some() {
            flags |= FLAG_A;
        }
        flags
    }

    /// Writes the header; [`GreHeader`'s example](GreHeader#example)
    /// round-trips one.
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        buf.put_u16(self.flags());
        buf.put_u16(GRE_PROTOCOL_PPP);
        buf.put_u16(self.payload_length);
        buf.put_u16(self.call_id);
        if let Some(seq) = self.sequence {
            buf.put_u32(seq);
        }
        if let Some(ack) = self.acknowledgment {
            buf.put_u32(ack);
        }
    }

    /// How many bytes [`GreHeader::emit`] writes: 8, 12 or 16 (see
    /// [`GreHeader`'s example](GreHeader#example)).
    pub fn buffer_len(&self) -> usize {
        BASE_LEN
            + 4 * usize::from(self.sequence.is_some())
            + 4 * usize::from(self.acknowledgment.is_some())
    }
}

impl fmt::Display for GreHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[GRE call={}", self.call_id)?;
        if let Some(seq) = self.sequence {
            write!(f, " seq={seq}")?;
        }
        if let Some(ack) = self.acknowledgment {
            write!(f, " ack={ack}")?;
        }
        write!(f, " len={}]", self.payload_length)
    }
}

/// An enhanced GRE packet: header and the PPP frame it carries.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::gre::GrePacket;
///
/// let frame = [0xff, 0x03, 0x80, 0xfd, 0x06, 0x04, 0x00, 0x04]; // CCP Reset-Ack
/// let packet = GrePacket::new(6, Some(34), Some(17), &frame).unwrap();
/// assert_eq!(packet.header.payload_length, 8);
///
/// let mut out = Vec::new();
/// packet.emit(&mut out);
/// assert_eq!(out.len(), packet.buffer_len());
/// assert_eq!(out.len(), 16 + 8);
/// assert_eq!(GrePacket::parse(&out)?, packet);
///
/// // Link padding after the payload is ignored; a cut payload is an error.
/// out.extend_from_slice(&[0; 6]);
/// assert_eq!(GrePacket::parse(&out)?, packet);
/// assert!(GrePacket::parse(&out[..20]).is_err());
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GrePacket<'a> {
    /// The header; its `payload_length` equals `payload.len()`.
    pub header: GreHeader,
    /// The PPP frame (empty for an ack-only packet).
    pub payload: &'a [u8],
}

impl<'a> GrePacket<'a> {
    /// Builds a packet around `payload`; `None` when it exceeds 65535 bytes.
    /// [`GrePacket`'s example](GrePacket#example) builds one.
    pub fn new(
        call_id: u16,
        sequence: Option<u32>,
        acknowledgment: Option<u32>,
        payload: &'a [u8],
    ) -> Option<Self> {
        let len = u16::try_from(payload.len()).ok()?;
        Some(GrePacket {
            header: GreHeader::new(call_id, len, sequence, acknowledgment),
            payload,
        })
    }

    /// Parses a packet; bytes past the payload (link padding) are ignored.
    /// See [`GrePacket`'s example](GrePacket#example) and the
    /// [module example](self#example).
    pub fn parse(input: &'a [u8]) -> Result<Self, Error> {
        let (header, len) = GreHeader::parse(input)?;
        let rest = input.get(len..).unwrap_or_default();
        let payload_len = usize::from(header.payload_length);
        need("GRE payload", rest, payload_len)?;
        let payload = rest.get(..payload_len).unwrap_or_default();
        Ok(GrePacket { header, payload })
    }

    /// Writes header and payload; [`GrePacket`'s example](GrePacket#example)
    /// round-trips a packet.
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        self.header.emit(buf);
        buf.put_slice(self.payload);
    }

    /// How many bytes [`GrePacket::emit`] writes (see
    /// [`GrePacket`'s example](GrePacket#example)).
    pub fn buffer_len(&self) -> usize {
        self.header.buffer_len() + self.payload.len()
    }
}

impl fmt::Display for GrePacket<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.header.fmt(f)
    }
}

/// Returns the GRE packet inside an IPv4 datagram (RFC 791), checking the
/// version, header length, protocol 47 and total length. Fragments are
/// rejected: the embedder reassembles before handing datagrams over.
///
/// The [module example](self#example) reads a whole datagram; this one shows
/// what is refused.
///
/// ```
/// use pptp_proto::wire::{gre::strip_ipv4, Error};
///
/// // A 20-byte IPv4 header (protocol 47) and 4 bytes of payload.
/// let mut datagram = [
///     0x45, 0x00, 0x00, 0x18, 0x00, 0x01, 0x00, 0x00, 0x40, 0x2f, 0x00, 0x00,
///     10, 0, 0, 1, 10, 0, 0, 2, 0xde, 0xad, 0xbe, 0xef,
/// ];
/// assert_eq!(strip_ipv4(&datagram)?, [0xde, 0xad, 0xbe, 0xef]);
///
/// datagram[6] = 0x20; // More Fragments
/// assert!(matches!(
///     strip_ipv4(&datagram),
///     Err(Error::Malformed { reason: "fragment", .. })
/// ));
/// datagram[6] = 0;
/// datagram[9] = 17; // UDP
/// assert!(matches!(
///     strip_ipv4(&datagram),
///     Err(Error::BadField { field: "protocol", value: 17, .. })
/// ));
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
pub fn strip_ipv4(datagram: &[u8]) -> Result<&[u8], Error> {
    const IP: &str = "IPv4";
    need(IP, datagram, 20)?;
    let first = datagram.first().copied().unwrap_or_default();
    if first >> 4 != 4 {
        return Err(Error::BadField {
            what: IP,
            field: "version",
            value: u32::from(first >> 4),
        });
    }
    let header_len = usize::from(first & 0x0f) * 4;
    if header_len < 20 {
        return Err(Error::BadLength {
            what: IP,
            length: header_len,
            expected: "20..=60",
        });
    }
    need(IP, datagram, header_len)?;
    let total = usize::from(be16(datagram, 2));
    if total < header_len || total > datagram.len() {
        return Err(Error::BadLength {
            what: IP,
            length: total,
            expected: "header length..=datagram length",
        });
    }
    // RFC 791: MF set or a non-zero fragment offset means a fragment.
    if be16(datagram, 6) & 0x3fff != 0 {
        return Err(Error::Malformed {
            what: IP,
            reason: "fragment",
        });
    }
    let protocol = datagram.get(9).copied().unwrap_or_default();
    if protocol != IP_PROTOCOL_GRE {
        return Err(Error::BadField {
            what: IP,
            field: "protocol",
            value: protocol.into(),
        });
    }
    Ok(datagram.get(header_len..total).unwrap_or_default())
}

fn check_flags(flags: u16) -> Result<(), Error> {
    // RFC 2637 §4.1: no checksum or routing in PPTP's GRE.
    if flags & FLAG_C != 0 {
        return Err(bad("C bit", flags.into()));
    }
    if flags & FLAG_R != 0 {
        return Err(bad("R bit", flags.into()));
    }
    if flags & FLAG_K == 0 {
        return Err(bad("K bit", flags.into()));
    }
    if flags & VERSION_MASK != 1 {
        return Err(bad("version", (flags & VERSION_MASK).into()));
    }
    Ok(())
}

fn optional_u32(input: &[u8], present: bool, at: &mut usize) -> Result<Option<u32>, Error> {
    if !present {
        return Ok(None);
    }
    let end = *at + 4;
    need(WHAT, input, end)?;
    let value = u32::from_be_bytes([
        byte(input, *at),
        byte(input, *at + 1),
        byte(input, *at + 2),
        byte(input, *at + 3),
    ]);
    *at = end;
    Ok(Some(value))
}

fn bad(field: &'static str, value: u32) -> Error {
    Error::BadField {
        what: WHAT,
        field,
        value,
    }
}

fn byte(input: &[u8], at: usize) -> u8 {
    input.get(at).copied().unwrap_or_default()
}

fn be16(input: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([byte(input, at), byte(input, at + 1)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{format, vec::Vec};
    use proptest::prelude::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    const PCAPPP_GREV1_1: &str =
        "000ded7b48f400904b1fa4f708004500002007360000802face9c0a80241c0a802fe2081880b000000060000001a";
    const PCAPPP_GREV1_3: &str = "000ded7b48f400904b1fa4f708004500002c067c0000802fad97c0a80241c0a802fe3081880b000800060000002200000011ff0380fd06040004";
    const SCAPY_LCP: &str = "4500003c18324000402f0e5a0a0000020a0000063001880b001c9bf500000000ff03c021010100180206000000000304c2270506fbb8831007020802";
    const SCAPY_ECHO: &str = "4500003600010000402ff944c0a80001c0a800023081880b001200000000002f0000002aff03c021092a000e00001092616263646566";

    fn roundtrip(gre: &[u8]) -> GrePacket<'_> {
        let packet = GrePacket::parse(gre).unwrap();
        let mut out = Vec::new();
        packet.emit(&mut out);
        assert_eq!(out, gre);
        assert_eq!(packet.buffer_len(), gre.len());
        packet
    }

    #[test]
    fn pcapplusplus_ack_only() {
        let frame = unhex(PCAPPP_GREV1_1);
        let gre = strip_ipv4(&frame[14..]).unwrap();
        let packet = roundtrip(gre);
        assert_eq!(packet.header.call_id, 6);
        assert_eq!(packet.header.payload_length, 0);
        assert_eq!(packet.header.sequence, None);
        assert_eq!(packet.header.acknowledgment, Some(26));
        assert_eq!(GreHeader::parse(gre).unwrap().1, 12);
        assert!(packet.payload.is_empty());
        assert_eq!(format!("{packet}"), "[GRE call=6 ack=26 len=0]");
    }

    #[test]
    fn pcapplusplus_seq_ack_ccp() {
        let frame = unhex(PCAPPP_GREV1_3);
        let gre = strip_ipv4(&frame[14..]).unwrap();
        let packet = roundtrip(gre);
        assert_eq!(packet.header.sequence, Some(34));
        assert_eq!(packet.header.acknowledgment, Some(17));
        assert_eq!(packet.payload, &unhex("ff0380fd06040004")[..]);
        assert_eq!(
            format!("{}", packet.header),
            "[GRE call=6 seq=34 ack=17 len=8]"
        );
    }

    #[test]
    fn scapy_vectors() {
        let datagram = unhex(SCAPY_LCP);
        let packet = roundtrip(strip_ipv4(&datagram).unwrap());
        assert_eq!(packet.header.call_id, 39925);
        assert_eq!(packet.header.sequence, Some(0));
        assert_eq!(packet.header.acknowledgment, None);
        assert_eq!(&packet.payload[..4], &[0xff, 0x03, 0xc0, 0x21]);
        assert_eq!(format!("{packet}"), "[GRE call=39925 seq=0 len=28]");
        let datagram = unhex(SCAPY_ECHO);
        let packet = roundtrip(strip_ipv4(&datagram).unwrap());
        assert_eq!(packet.header.sequence, Some(47));
        assert_eq!(packet.header.acknowledgment, Some(42));
        assert_eq!(packet.payload.len(), 18);
    }

    #[test]
    fn padding_is_ignored_and_short_payload_is_truncated() {
        let datagram = unhex(SCAPY_ECHO);
        let gre = strip_ipv4(&datagram).unwrap();
        let mut padded = gre.to_vec();
        padded.extend_from_slice(&[0; 6]);
        assert_eq!(
            GrePacket::parse(&padded).unwrap(),
            GrePacket::parse(gre).unwrap()
        );
        for n in 0..gre.len() {
            assert!(
                matches!(GrePacket::parse(&gre[..n]), Err(Error::Truncated { .. })),
                "prefix {n}"
            );
        }
    }

    #[test]
    fn forbidden_flags_are_rejected() {
        let frame = unhex(PCAPPP_GREV1_3);
        let gre = strip_ipv4(&frame[14..]).unwrap().to_vec();
        let cases: [(usize, u8, &str); 5] = [
            (0, 0x80, "C bit"),
            (0, 0x40, "R bit"),
            (0, 0x20, "K bit"),
            (1, 0x01, "version"),
            (2, 0x01, "protocol"),
        ];
        for (at, bit, field) in cases {
            let mut bad = gre.clone();
            bad[at] ^= bit;
            match GrePacket::parse(&bad) {
                Err(Error::BadField { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn other_flags_survive() {
        let frame = unhex(PCAPPP_GREV1_1);
        let mut gre = strip_ipv4(&frame[14..]).unwrap().to_vec();
        gre[0] |= 0x0b; // s + Recur 3
        gre[1] |= 0x28; // Flags
        let packet = roundtrip(&gre);
        assert_eq!(packet.header.other_flags, 0x0b28);
    }

    #[test]
    fn strip_ipv4_rejects_bad_headers() {
        let datagram = unhex(SCAPY_LCP);
        for n in 0..20 {
            assert!(matches!(
                strip_ipv4(&datagram[..n]),
                Err(Error::Truncated { .. })
            ));
        }
        assert!(matches!(
            strip_ipv4(&datagram[..datagram.len() - 1]),
            Err(Error::BadLength { .. })
        ));
        let mut bad = datagram.clone();
        bad[0] = 0x65;
        assert!(matches!(
            strip_ipv4(&bad),
            Err(Error::BadField {
                field: "version",
                ..
            })
        ));
        let mut bad = datagram.clone();
        bad[0] = 0x44;
        assert!(matches!(strip_ipv4(&bad), Err(Error::BadLength { .. })));
        let mut bad = datagram.clone();
        bad[9] = 17;
        assert!(matches!(
            strip_ipv4(&bad),
            Err(Error::BadField {
                field: "protocol",
                ..
            })
        ));
        let mut bad = datagram.clone();
        bad[6] = 0x20; // MF
        assert!(matches!(strip_ipv4(&bad), Err(Error::Malformed { .. })));
        let mut bad = datagram.clone();
        bad[2] = 0;
        bad[3] = 10;
        assert!(matches!(strip_ipv4(&bad), Err(Error::BadLength { .. })));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn emit_parse_identity(
            call_id: u16,
            sequence: Option<u32>,
            acknowledgment: Option<u32>,
            other in any::<u16>(),
            payload in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut packet = GrePacket::new(call_id, sequence, acknowledgment, &payload).unwrap();
            packet.header.other_flags = other & OTHER_FLAGS;
            let mut out = Vec::new();
            packet.emit(&mut out);
            prop_assert_eq!(out.len(), packet.buffer_len());
            prop_assert_eq!(GrePacket::parse(&out).unwrap(), packet);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = GrePacket::parse(&bytes);
            let _ = strip_ipv4(&bytes);
        }
    }
}
