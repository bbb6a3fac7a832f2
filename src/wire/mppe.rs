//! MPPE/MPPC: the CCP option 18 bits (RFC 3078 §2.1, RFC 2118 §2) and the
//! header of every compressed/encrypted packet (RFC 3078 §3).
//!
//! # Example
//!
//! The information field of a PPP frame with protocol 0x00FD starts with the
//! header; the receiver checks its coherency count against the one it expects.
//!
//! ```
//! use pptp_proto::wire::mppe::{CoherencyCount, MppeFlags, MppeHeader};
//!
//! let information = [0x90, 0x00, 0x0e, 0x55];
//! let (header, encrypted) = MppeHeader::parse(&information)?;
//! assert_eq!(header.flags, MppeFlags::FLUSHED | MppeFlags::ENCRYPTED);
//! assert_eq!(encrypted, [0x0e, 0x55]);
//!
//! // The previous packet carried count 0xfff: this one follows it.
//! let expected = CoherencyCount::new(0xfff).next();
//! assert_eq!(expected.distance_to(header.coherency_count), 0);
//! # Ok::<(), pptp_proto::wire::Error>(())
//! ```

use core::fmt;

use bytes::BufMut;

use super::Error;

bitflags::bitflags! {
    /// The 32-bit "Supported Bits" of CCP option 18 (MPPE/MPPC).
    ///
    /// Note the RFC's letters: `S` is 128-bit and `M` is 56-bit.
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::wire::mppe::{mppe_bits_display, MppeBits};
    ///
    /// // What a Windows server asks for: stateless 128-bit MPPE.
    /// let bits = MppeBits::from_bits_retain(0x0100_0040);
    /// assert_eq!(bits, MppeBits::STATELESS | MppeBits::BITS_128);
    /// assert_eq!(mppe_bits_display(bits).to_string(), "<mppe +H -M +S -L -D -C>");
    ///
    /// // Unknown bits are kept, so a Configure-Nak can echo them.
    /// let odd = MppeBits::from_bits_retain(0x0000_0241);
    /// assert_eq!(odd.difference(MppeBits::KNOWN).bits(), 0x200);
    /// assert_eq!(mppe_bits_display(odd).to_string(), "<mppe -H -M +S -L -D +C +U>");
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct MppeBits: u32 {
        /// `C`: MPPC compression (RFC 2118).
        const MPPC = 0x0000_0001;
        /// `D`: obsolete (was 56-bit in early drafts); never offered.
        const OBSOLETE_D = 0x0000_0010;
        /// `L`: 40-bit MPPE keys.
        const BITS_40 = 0x0000_0020;
        /// `S`: 128-bit MPPE keys.
        const BITS_128 = 0x0000_0040;
        /// `M`: 56-bit MPPE keys.
        const BITS_56 = 0x0000_0080;
        /// `H`: stateless mode (rekey every packet).
        const STATELESS = 0x0100_0000;
        // Unknown bits are kept so a Configure-Nak/Reject can echo them.
        const _ = !0;
    }
}

/// Writes CCP option 18 bits the way pppd logs them: `<mppe +H -M +S -L -D -C>`,
/// with ` +U` before the `>` when unknown bits are set.
///
/// [`MppeBits`'s example](MppeBits#example) prints both forms.
pub fn mppe_bits_display(bits: MppeBits) -> impl fmt::Display {
    MppeBitsDisplay(bits)
}

struct MppeBitsDisplay(MppeBits);

impl fmt::Display for MppeBitsDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bits = self.0;
        f.write_str("<mppe")?;
        for (flag, letter) in [
            (MppeBits::STATELESS, 'H'),
            (MppeBits::BITS_56, 'M'),
            (MppeBits::BITS_128, 'S'),
            (MppeBits::BITS_40, 'L'),
            (MppeBits::OBSOLETE_D, 'D'),
            (MppeBits::MPPC, 'C'),
        ] {
            let sign = if bits.contains(flag) { '+' } else { '-' };
            write!(f, " {sign}{letter}")?;
        }
        if bits.bits() & !MppeBits::KNOWN.bits() != 0 {
            f.write_str(" +U")?;
        }
        f.write_str(">")
    }
}

impl MppeBits {
    /// Every bit RFC 3078 §2.1 and RFC 2118 §2 define.
    pub const KNOWN: MppeBits = MppeBits::MPPC
        .union(MppeBits::OBSOLETE_D)
        .union(MppeBits::BITS_40)
        .union(MppeBits::BITS_128)
        .union(MppeBits::BITS_56)
        .union(MppeBits::STATELESS);
}

bitflags::bitflags! {
    /// The four flag bits at the top of the MPPE/MPPC header (RFC 3078 §3, RFC 2118 §3).
    ///
    /// [`MppeHeader`'s example](MppeHeader#example) reads and writes them.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct MppeFlags: u16 {
        /// `A`: the history was reset before this packet (PACKET_FLUSHED).
        const FLUSHED = 0x8000;
        /// `B`: the compressed data starts at the front of the history (PACKET_AT_FRONT).
        const AT_FRONT = 0x4000;
        /// `C`: the data is MPPC-compressed (PACKET_COMPRESSED).
        const COMPRESSED = 0x2000;
        /// `D`: the data is MPPE-encrypted (PACKET_ENCRYPTED).
        const ENCRYPTED = 0x1000;
    }
}

/// The 12-bit coherency count of the MPPE/MPPC header (RFC 3078 §3).
///
/// # Example
///
/// ```
/// use pptp_proto::wire::mppe::CoherencyCount;
///
/// let last = CoherencyCount::new(0x1fff); // only the low 12 bits count
/// assert_eq!(last.get(), 0xfff);
/// let next = last.next(); // wraps modulo 4096
/// assert_eq!(next.get(), 0);
/// assert_eq!(last.distance_to(next), 1);
/// assert_eq!(next.distance_to(last), 4095);
/// assert_eq!(CoherencyCount::new(0x2a).to_string(), "0x2a");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CoherencyCount(u16);

impl CoherencyCount {
    /// The number of distinct counts (the count wraps modulo 4096).
    pub const MODULUS: u16 = 0x1000;

    /// A count from the low 12 bits of `value`; see
    /// [`CoherencyCount`'s example](CoherencyCount#example).
    pub const fn new(value: u16) -> Self {
        CoherencyCount(value & (Self::MODULUS - 1))
    }

    /// The count's value, 0..=4095; see
    /// [`CoherencyCount`'s example](CoherencyCount#example).
    pub const fn get(self) -> u16 {
        self.0
    }

    /// The count of the following packet; 4095 is followed by 0 (see
    /// [`CoherencyCount`'s example](CoherencyCount#example)).
    #[must_use]
    pub const fn next(self) -> Self {
        Self::new(self.0.wrapping_add(1))
    }

    /// How many steps forward, modulo 4096, lead from `self` to `other`:
    /// 0 for the same count, 4095 for the one just before (see
    /// [`CoherencyCount`'s example](CoherencyCount#example)).
    pub const fn distance_to(self, other: CoherencyCount) -> u16 {
        other.0.wrapping_sub(self.0) & (Self::MODULUS - 1)
    }
}

impl fmt::Display for CoherencyCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// The two-byte header in front of every MPPE/MPPC packet, after PPP
/// protocol 0x00FD (RFC 3078 §3, RFC 2118 §3).
///
/// # Example
///
/// ```
/// use pptp_proto::wire::{mppe::{CoherencyCount, MppeFlags, MppeHeader}, Error};
///
/// let header = MppeHeader {
///     flags: MppeFlags::ENCRYPTED,
///     coherency_count: CoherencyCount::new(5),
/// };
/// let mut out = Vec::new();
/// header.emit(&mut out);
/// assert_eq!(out, [0x10, 0x05]);
/// assert_eq!(header.buffer_len(), MppeHeader::LEN);
/// assert_eq!(header.to_string(), "[MPPE encrypted ccount=0x5]");
///
/// out.extend_from_slice(b"ciphertext");
/// assert_eq!(MppeHeader::parse(&out)?, (header, &b"ciphertext"[..]));
/// assert!(matches!(MppeHeader::parse(&[0x10]), Err(Error::Truncated { needed: 2, .. })));
/// # Ok::<(), pptp_proto::wire::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MppeHeader {
    /// The A/B/C/D bits.
    pub flags: MppeFlags,
    /// The coherency count.
    pub coherency_count: CoherencyCount,
}

impl MppeHeader {
    /// The header's length in bytes.
    pub const LEN: usize = 2;

    /// Parses the header and returns it with the (encrypted or compressed) rest;
    /// see [`MppeHeader`'s example](MppeHeader#example).
    pub fn parse(input: &[u8]) -> Result<(MppeHeader, &[u8]), Error> {
        match input {
            [high, low, rest @ ..] => {
                let word = u16::from_be_bytes([*high, *low]);
                let header = MppeHeader {
                    flags: MppeFlags::from_bits_truncate(word),
                    coherency_count: CoherencyCount::new(word),
                };
                Ok((header, rest))
            }
            _ => Err(Error::Truncated {
                what: "MPPE",
                needed: Self::LEN,
                available: input.len(),
            }),
        }
    }

    /// Writes the header; see [`MppeHeader`'s example](MppeHeader#example).
    pub fn emit<B: BufMut>(&self, buf: &mut B) {
        buf.put_u16(self.flags.bits() | self.coherency_count.get());
    }

    /// How many bytes [`MppeHeader::emit`] writes (always 2; see
    /// [`MppeHeader`'s example](MppeHeader#example)).
    pub fn buffer_len(&self) -> usize {
        Self::LEN
    }
}

impl fmt::Display for MppeHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[MPPE")?;
        for (flag, name) in [
            (MppeFlags::FLUSHED, "flushed"),
            (MppeFlags::AT_FRONT, "at-front"),
            (MppeFlags::COMPRESSED, "compressed"),
            (MppeFlags::ENCRYPTED, "encrypted"),
        ] {
            if self.flags.contains(flag) {
                write!(f, " {name}")?;
            }
        }
        write!(f, " ccount={}]", self.coherency_count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{format, vec::Vec};
    use proptest::prelude::*;

    #[test]
    fn pptpcrack_frame_header() {
        // vectors §5: frame 315 starts `fd 90 00 0e55...`.
        let bytes = hex::decode("90000e55bc73").unwrap();
        let (header, rest) = MppeHeader::parse(&bytes).unwrap();
        assert_eq!(header.flags, MppeFlags::FLUSHED | MppeFlags::ENCRYPTED);
        assert_eq!(header.coherency_count.get(), 0);
        assert_eq!(rest, &bytes[2..]);
        let mut out = Vec::new();
        header.emit(&mut out);
        assert_eq!(out, &bytes[..2]);
        assert_eq!(format!("{header}"), "[MPPE flushed encrypted ccount=0x0]");
    }

    #[test]
    fn count_and_flags_split() {
        let (header, rest) = MppeHeader::parse(&[0x60, 0x12]).unwrap();
        assert!(rest.is_empty());
        assert_eq!(header.flags, MppeFlags::AT_FRONT | MppeFlags::COMPRESSED);
        assert_eq!(header.coherency_count, CoherencyCount::new(0x12));
        assert_eq!(
            format!("{header}"),
            "[MPPE at-front compressed ccount=0x12]"
        );
        let (header, _) = MppeHeader::parse(&[0x9f, 0xff]).unwrap();
        assert_eq!(header.coherency_count.get(), 0xfff);
        assert_eq!(format!("{header}"), "[MPPE flushed encrypted ccount=0xfff]");
    }

    #[test]
    fn truncated() {
        for n in 0..2 {
            assert_eq!(
                MppeHeader::parse(&[0x90, 0x01][..n]),
                Err(Error::Truncated {
                    what: "MPPE",
                    needed: 2,
                    available: n
                })
            );
        }
    }

    #[test]
    fn coherency_count_wraps() {
        let last = CoherencyCount::new(0xfff);
        assert_eq!(last.next(), CoherencyCount::new(0));
        assert_eq!(CoherencyCount::new(0x1234).get(), 0x234);
        assert_eq!(last.distance_to(CoherencyCount::new(2)), 3);
        assert_eq!(CoherencyCount::new(2).distance_to(last), 4093);
        assert_eq!(last.distance_to(last), 0);
    }

    #[test]
    fn bits_display_like_pppd() {
        // vectors §5: the pptpcrack session settles on 0x01000040.
        let bits = MppeBits::from_bits_retain(0x0100_0040);
        assert_eq!(
            format!("{}", mppe_bits_display(bits)),
            "<mppe +H -M +S -L -D -C>"
        );
        let bits = MppeBits::from_bits_retain(0x0100_0060);
        assert_eq!(
            format!("{}", mppe_bits_display(bits)),
            "<mppe +H -M +S +L -D -C>"
        );
        let bits = MppeBits::from_bits_retain(0x0000_00b1 | 0x0200_0000);
        assert_eq!(
            format!("{}", mppe_bits_display(bits)),
            "<mppe -H +M -S +L +D +C +U>"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn emit_parse_identity(flags in 0u16..16, count in 0u16..4096) {
            let header = MppeHeader {
                flags: MppeFlags::from_bits_truncate(flags << 12),
                coherency_count: CoherencyCount::new(count),
            };
            let mut out = Vec::new();
            header.emit(&mut out);
            prop_assert_eq!(out.len(), header.buffer_len());
            prop_assert_eq!(MppeHeader::parse(&out).unwrap(), (header, &[][..]));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4)) {
            if let Ok((header, rest)) = MppeHeader::parse(&bytes) {
                let mut out = Vec::new();
                header.emit(&mut out);
                out.extend_from_slice(rest);
                prop_assert_eq!(out, bytes);
            }
        }

        #[test]
        fn distance_then_steps(a in 0u16..4096, b in 0u16..4096) {
            let (a, b) = (CoherencyCount::new(a), CoherencyCount::new(b));
            let mut c = a;
            for _ in 0..a.distance_to(b) {
                c = c.next();
            }
            prop_assert_eq!(c, b);
        }
    }
}
