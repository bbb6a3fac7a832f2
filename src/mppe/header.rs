//! The 2-octet MPPE/MPPC header (RFC 3078 §3, RFC 2118 §3): flags A–D in
//! the top 4 bits, the 12-bit coherency count below.
//!
//! Private stand-in for `crate::wire::mppe::MppeHeader` until the codecs
//! land.

/// A: FLUSHED (RC4 tables, MPPC history re-initialized).
pub(crate) const FLUSHED: u16 = 0x8000;
/// B: MPPC "packet at front of history".
pub(crate) const AT_FRONT: u16 = 0x4000;
/// C: MPPC compressed.
pub(crate) const COMPRESSED: u16 = 0x2000;
/// D: encrypted.
pub(crate) const ENCRYPTED: u16 = 0x1000;
/// The coherency count's 12 bits.
pub(crate) const COUNT_MASK: u16 = 0x0FFF;

/// A parsed header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// Flag bits A–D (already shifted into place, count bits clear).
    pub(crate) flags: u16,
    /// Coherency count, 0..=4095.
    pub(crate) count: u16,
}

impl Header {
    /// Reads the first 2 octets; `None` if there are fewer.
    pub(crate) fn parse(packet: &[u8]) -> Option<Self> {
        let word = u16::from_be_bytes([*packet.first()?, *packet.get(1)?]);
        Some(Self {
            flags: word & !COUNT_MASK,
            count: word & COUNT_MASK,
        })
    }

    /// The 2 octets on the wire.
    pub(crate) fn to_bytes(self) -> [u8; 2] {
        ((self.flags & !COUNT_MASK) | (self.count & COUNT_MASK)).to_be_bytes()
    }

    pub(crate) fn has(self, flag: u16) -> bool {
        self.flags & flag != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_emit() {
        let h = Header::parse(&[0x90, 0x00]);
        assert_eq!(
            h,
            Some(Header {
                flags: FLUSHED | ENCRYPTED,
                count: 0
            })
        );
        let h = Header::parse(&[0x1A, 0xBC, 0xFF]).unwrap_or_else(|| unreachable!());
        assert_eq!(h.count, 0xABC);
        assert!(h.has(ENCRYPTED) && !h.has(FLUSHED) && !h.has(AT_FRONT) && !h.has(COMPRESSED));
        assert_eq!(h.to_bytes(), [0x1A, 0xBC]);
        assert_eq!(Header::parse(&[0x90]), None);
    }
}
