//! MPPC, the Microsoft Point-to-Point Compression protocol (RFC 2118).
//!
//! MPPC is LZ77 over an 8192-byte history that both ends keep in step: each
//! packet is a bit stream of literals and copy tuples (offset back into the
//! history, length of match), packed most significant bit first and padded
//! with zero bits to a whole byte. The three high bits of the MPPE/MPPC header
//! (RFC 3078 §3) say how the history moved: [`MppcFlags`].
//!
//! [`MppcCompressor`] and [`MppcDecompressor`] are Sans-I/O: bytes in, bytes
//! out, no allocation per packet, no panic on any peer input.
//!
//! ```
//! use pptp_proto::mppc::{MppcCompressor, MppcDecompressor};
//!
//! let mut tx = MppcCompressor::new();
//! let mut rx = MppcDecompressor::new();
//! let packet = b"\x00\x21GET /index.html HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
//! let mut wire = [0u8; 1500];
//! let sent = tx.compress(packet, &mut wire)?;
//! let got = rx.decompress(sent.flags, &wire[..sent.len])?;
//! assert_eq!(got, &packet[..]);
//! # Ok::<(), pptp_proto::mppc::MppcError>(())
//! ```

mod bits;
mod compress;
mod decompress;

pub use compress::MppcCompressor;
pub use decompress::MppcDecompressor;

/// RFC 2118 §4: the size of the history both ends keep, in bytes.
pub const HISTORY_SIZE: usize = 8192;

bitflags::bitflags! {
    /// The MPPC bits A, B and C, as they sit in the high byte of the
    /// MPPE/MPPC header (RFC 2118 §3.1, RFC 3078 §3). The MPPE layer adds
    /// bit D (encrypted) and the 12-bit coherency count.
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::mppc::MppcFlags;
    ///
    /// // Header 0xB00A: A (flushed), C (compressed), D (encrypted), count 10.
    /// let flags = MppcFlags::from_header(0xB00A);
    /// assert_eq!(flags, MppcFlags::FLUSHED | MppcFlags::COMPRESSED);
    /// assert_eq!(flags.to_header(), 0xA000);
    /// assert_eq!(MppcFlags::AT_FRONT.to_header() | 0x1000 | 10, 0x500A);
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct MppcFlags: u8 {
        /// Bit A: the sender reset its history; the receiver resets too.
        const FLUSHED = 0x80;
        /// Bit B: the packet starts at the front of the history.
        const AT_FRONT = 0x40;
        /// Bit C: the payload is compressed.
        const COMPRESSED = 0x20;
    }
}

impl MppcFlags {
    /// The A/B/C bits of a 16-bit MPPE/MPPC header; other bits are dropped.
    pub fn from_header(header: u16) -> Self {
        // The high byte holds A, B, C, D.
        Self::from_bits_truncate((header >> 8) as u8)
    }

    /// These bits in position in a 16-bit MPPE/MPPC header.
    pub fn to_header(self) -> u16 {
        u16::from(self.bits()) << 8
    }
}

/// What [`MppcCompressor::compress`] wrote.
///
/// # Example
///
/// ```
/// use pptp_proto::mppc::{MppcCompressor, MppcFlags, MppcOutput};
///
/// let mut compressor = MppcCompressor::new();
/// let mut out = [0u8; 64];
/// let sent: MppcOutput = compressor.compress(b"\x00\x21abcabcabcabcabcabc", &mut out)?;
/// assert_eq!(sent.flags, MppcFlags::AT_FRONT | MppcFlags::COMPRESSED);
/// assert!(sent.len < 20);
///
/// // Bytes that would grow go out as they are, and both histories restart.
/// let noise = [0xF1, 0x83, 0xD7, 0x9A, 0xE5, 0xB2];
/// let sent = compressor.compress(&noise, &mut out)?;
/// assert_eq!(sent, MppcOutput { len: 6, flags: MppcFlags::FLUSHED });
/// assert_eq!(out[..6], noise);
/// # Ok::<(), pptp_proto::mppc::MppcError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct MppcOutput {
    /// Bytes written at the start of the output buffer.
    pub len: usize,
    /// The A/B/C bits to send in the packet's header.
    pub flags: MppcFlags,
}

/// An MPPC failure: a malformed compressed packet, a decompressor waiting for
/// a reset, or a too-small output buffer.
///
/// # Example
///
/// ```
/// use pptp_proto::mppc::{MppcCompressor, MppcDecompressor, MppcError, MppcFlags};
///
/// let compressed = MppcFlags::AT_FRONT | MppcFlags::COMPRESSED;
/// let mut rx = MppcDecompressor::with_max_output(16);
/// let long = hex::decode("666f722e77686f6d2e7468652e62656c6c2e746f6c6c732cf4372e66fa1f199484").unwrap(); // 47 bytes
/// assert_eq!(rx.decompress(compressed, &long), Err(MppcError::OutputTooLong { max: 16 }));
/// assert_eq!(rx.decompress(compressed, b"ok"), Err(MppcError::NeedsReset));
///
/// let mut rx = MppcDecompressor::new();
/// // `1111` starts a copy whose 6-bit offset is cut off.
/// assert_eq!(rx.decompress(compressed, &[0xF0]), Err(MppcError::Truncated { bits: 8 }));
///
/// let mut out = [0u8; 2];
/// let err = MppcCompressor::new().compress(b"abc", &mut out).unwrap_err();
/// assert_eq!(err, MppcError::BufferTooSmall { required: 3 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MppcError {
    /// The compressed bits end inside a literal or copy tuple (or the
    /// padding of the last byte is not zero).
    #[error("MPPC: truncated code in a {bits}-bit packet")]
    Truncated {
        /// The packet's length in bits.
        bits: usize,
    },
    /// A copy offset of zero, or one reaching before the front of the history.
    #[error("MPPC: copy offset {offset} at history position {position} (packet starts at {packet_start})")]
    BadOffset {
        /// The decoded copy offset.
        offset: usize,
        /// The history position being written.
        position: usize,
        /// Where this packet's bytes started in the history.
        packet_start: usize,
    },
    /// A literal or copy would write past the end of the 8192-byte history.
    #[error("MPPC: {len} bytes at history position {position} run past the history end")]
    PastHistoryEnd {
        /// The history position being written.
        position: usize,
        /// The number of bytes to write.
        len: usize,
    },
    /// A length-of-match code of twelve or more ones, which RFC 2118 §4.2.2 does not define.
    #[error("MPPC: undefined length-of-match code at bit {bit}")]
    BadLengthCode {
        /// Bit position after the twelfth one.
        bit: usize,
    },
    /// The packet decompresses to more than the configured maximum.
    #[error("MPPC: packet decompresses to more than {max} bytes")]
    OutputTooLong {
        /// The configured maximum.
        max: usize,
    },
    /// An uncompressed, unflushed packet longer than the unused history tail
    /// it is returned from.
    #[error("MPPC: uncompressed {len}-byte packet does not fit after history position {position}")]
    NoRoomForUncompressed {
        /// The packet's length.
        len: usize,
        /// The history pointer.
        position: usize,
    },
    /// The decompressor lost step with the peer and waits for a FLUSHED packet
    /// (send a CCP Reset-Request).
    #[error("MPPC: history out of step, waiting for a FLUSHED packet")]
    NeedsReset,
    /// The output buffer is shorter than the input packet.
    #[error("MPPC: output buffer too small, {required} bytes required")]
    BufferTooSmall {
        /// The smallest output buffer that works.
        required: usize,
    },
}
