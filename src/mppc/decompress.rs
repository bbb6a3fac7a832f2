//! The MPPC decompressor (RFC 2118 §4): rebuilds packets inside its 8 KB
//! history and rejects every malformed stream without reading outside it.

use alloc::boxed::Box;

use super::bits::BitReader;
use super::{MppcError, MppcFlags, HISTORY_SIZE};

/// The receiving half of MPPC (RFC 2118): rebuilds each packet in an
/// 8192-byte history shared with the peer's [`MppcCompressor`].
///
/// Driving contract: call [`decompress`](Self::decompress) for every packet in
/// order with the flags from its MPPE/MPPC header (RFC 3078 §3). After any
/// error, and after [`require_flush`](Self::require_flush) (call it when the
/// coherency count shows a lost packet), [`needs_reset`](Self::needs_reset)
/// is true: send a CCP Reset-Request; every packet is refused with
/// [`MppcError::NeedsReset`] until one flagged [`MppcFlags::FLUSHED`] arrives.
/// The decompressor allocates only in its constructor.
///
/// # Example
///
/// ```
/// use pptp_proto::mppc::{MppcCompressor, MppcDecompressor, MppcError, MppcFlags};
///
/// let (mut tx, mut rx) = (MppcCompressor::new(), MppcDecompressor::new());
/// let mut wire = [0u8; 64];
/// // A packet whose copy offset reaches before the history's front.
/// let bad = rx.decompress(MppcFlags::AT_FRONT | MppcFlags::COMPRESSED, &[0xf0, 0x40]);
/// assert!(matches!(bad, Err(MppcError::BadOffset { .. })));
/// assert!(rx.needs_reset()); // send CCP Reset-Request
/// tx.reset(); // the peer receives it
/// let sent = tx.compress(b"hello hello hello", &mut wire)?;
/// assert!(sent.flags.contains(MppcFlags::FLUSHED));
/// assert_eq!(rx.decompress(sent.flags, &wire[..sent.len])?, b"hello hello hello");
/// assert_eq!(rx.last_output(), b"hello hello hello"); // still there after the borrow
///
/// // A lost packet (the MPPE coherency count jumped): wait for FLUSHED.
/// rx.require_flush();
/// let sent = tx.compress(b"hello again", &mut wire)?;
/// assert_eq!(rx.decompress(sent.flags, &wire[..sent.len]), Err(MppcError::NeedsReset));
/// assert!(rx.last_output().is_empty());
/// # Ok::<(), MppcError>(())
/// ```
///
/// [`MppcCompressor`]: super::MppcCompressor
pub struct MppcDecompressor {
    history: Box<[u8; HISTORY_SIZE]>,
    /// Where the next packet's bytes go.
    pos: usize,
    max_output: usize,
    needs_reset: bool,
    /// Where the last packet's bytes are in the history.
    last: (usize, usize),
}

impl Default for MppcDecompressor {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for MppcDecompressor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MppcDecompressor")
            .field("pos", &self.pos)
            .field("max_output", &self.max_output)
            .field("needs_reset", &self.needs_reset)
            .finish_non_exhaustive()
    }
}

/// What one decoded code asks for.
enum Code {
    Literal(u8),
    Copy { offset: usize, len: usize },
}

impl MppcDecompressor {
    /// A decompressor with an empty history that accepts packets of up to
    /// 8192 bytes. See the [example](Self#example).
    pub fn new() -> Self {
        Self::with_max_output(HISTORY_SIZE)
    }

    /// A decompressor that refuses packets decompressing to more than `max`
    /// bytes (at most 8192, the history size), e.g. the negotiated MRU.
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::mppc::{MppcCompressor, MppcDecompressor, MppcError};
    ///
    /// let mut rx = MppcDecompressor::with_max_output(1500);
    /// let mut wire = [0u8; 2000];
    /// let sent = MppcCompressor::new().compress(&[0u8; 2000], &mut wire)?;
    /// assert!(sent.len < 300); // 2000 zeros compress well...
    /// let err = rx.decompress(sent.flags, &wire[..sent.len]).unwrap_err();
    /// assert_eq!(err, MppcError::OutputTooLong { max: 1500 }); // ...but exceed the MRU
    /// # Ok::<(), MppcError>(())
    /// ```
    pub fn with_max_output(max: usize) -> Self {
        MppcDecompressor {
            history: Box::new([0; HISTORY_SIZE]),
            pos: 0,
            max_output: max.min(HISTORY_SIZE),
            needs_reset: false,
            last: (0, 0),
        }
    }

    /// True after an error or [`require_flush`](Self::require_flush) until a
    /// FLUSHED packet arrives: the PPP layer should send a CCP Reset-Request
    /// (RFC 1962 §2.2). See the [example](Self#example).
    pub fn needs_reset(&self) -> bool {
        self.needs_reset
    }

    /// Refuses every packet until a FLUSHED one, e.g. when the coherency
    /// count shows a lost packet (RFC 3078 §3). See the
    /// [example](Self#example).
    pub fn require_flush(&mut self) {
        self.needs_reset = true;
    }

    /// Decompresses one packet; the bytes live in the history until the next
    /// call.
    ///
    /// `flags` are the A/B/C bits of the packet's header. FLUSHED resets the
    /// history; AT_FRONT moves the history pointer to the front; without
    /// COMPRESSED the payload is returned as-is and stays out of the history.
    ///
    /// # Errors
    ///
    /// Any malformed stream ([`MppcError::Truncated`], [`MppcError::BadOffset`],
    /// [`MppcError::PastHistoryEnd`], [`MppcError::BadLengthCode`],
    /// [`MppcError::OutputTooLong`], [`MppcError::NoRoomForUncompressed`]), after
    /// which [`needs_reset`](Self::needs_reset) is true, or
    /// [`MppcError::NeedsReset`] while waiting for a FLUSHED packet.
    ///
    /// # Example
    ///
    /// A packet compressed by another implementation (FreeRDP's RDP 4.0 test
    /// vector, the same bit stream as MPPC with an 8 KB history):
    ///
    /// ```
    /// use pptp_proto::mppc::{MppcDecompressor, MppcFlags};
    ///
    /// let packet = hex::decode("666f722e77686f6d2e7468652e62656c6c2e746f6c6c732cf4372e66fa1f199484").unwrap();
    /// let mut rx = MppcDecompressor::new();
    /// let text = rx.decompress(MppcFlags::AT_FRONT | MppcFlags::COMPRESSED, &packet)?;
    /// assert_eq!(text, b"for.whom.the.bell.tolls,.the.bell.tolls.for.thee!");
    /// # Ok::<(), pptp_proto::mppc::MppcError>(())
    /// ```
    pub fn decompress<'a>(
        &'a mut self,
        flags: MppcFlags,
        input: &[u8],
    ) -> Result<&'a [u8], MppcError> {
        if flags.contains(MppcFlags::FLUSHED) {
            // RFC 2118 §3.1 bit A: histories restart as all zeroes.
            self.history.fill(0);
            self.pos = 0;
            self.needs_reset = false;
        } else if self.needs_reset {
            self.last = (0, 0);
            return Err(MppcError::NeedsReset);
        }
        let range = if flags.contains(MppcFlags::COMPRESSED) {
            if flags.contains(MppcFlags::AT_FRONT) {
                self.pos = 0;
            }
            self.expand(input)
        } else {
            self.stash_uncompressed(input)
        };
        match range {
            Ok((start, end)) => {
                self.last = (start, end);
                Ok(&self.history[start..end])
            }
            Err(e) => {
                self.last = (0, 0);
                self.needs_reset = true;
                Err(e)
            }
        }
    }

    /// The bytes the last successful [`decompress`](Self::decompress)
    /// returned (empty after an error), valid until the next call: lets a
    /// caller read them after the borrow of `decompress` ended. See the
    /// [example](Self#example).
    pub fn last_output(&self) -> &[u8] {
        self.history
            .get(self.last.0..self.last.1)
            .unwrap_or_default()
    }

    /// Copies a raw payload into the unused history tail without advancing
    /// the pointer, so the history stays as the peer's compressor sees it.
    fn stash_uncompressed(&mut self, input: &[u8]) -> Result<(usize, usize), MppcError> {
        if input.len() > self.max_output {
            return Err(MppcError::OutputTooLong {
                max: self.max_output,
            });
        }
        let start = self.pos;
        let tail = self.history.get_mut(start..start + input.len()).ok_or(
            MppcError::NoRoomForUncompressed {
                len: input.len(),
                position: start,
            },
        )?;
        tail.copy_from_slice(input);
        Ok((start, start + input.len()))
    }

    /// Decodes `input` into the history at the pointer; returns the new bytes' range.
    fn expand(&mut self, input: &[u8]) -> Result<(usize, usize), MppcError> {
        let start = self.pos;
        let limit = (start + self.max_output).min(HISTORY_SIZE);
        let mut r = BitReader::new(input);
        let mut cur = start;
        while let Some(code) = next_code(&mut r)? {
            cur = self.apply(code, cur, start, limit)?;
        }
        self.pos = cur;
        Ok((start, cur))
    }

    /// Writes one code's bytes at `cur` after checking every bound.
    fn apply(
        &mut self,
        code: Code,
        cur: usize,
        start: usize,
        limit: usize,
    ) -> Result<usize, MppcError> {
        let len = match code {
            Code::Literal(_) => 1,
            Code::Copy { len, .. } => len,
        };
        let end = cur + len;
        if end > HISTORY_SIZE {
            return Err(MppcError::PastHistoryEnd { position: cur, len });
        }
        if end > limit {
            return Err(MppcError::OutputTooLong {
                max: self.max_output,
            });
        }
        match code {
            Code::Literal(b) => self.history[cur] = b,
            Code::Copy { offset, len } => {
                // RFC 2118 §3.1: only history written since the front may be referred to.
                if offset == 0 || offset > cur {
                    return Err(MppcError::BadOffset {
                        offset,
                        position: cur,
                        packet_start: start,
                    });
                }
                self.copy(cur - offset, cur, len);
            }
        }
        Ok(end)
    }

    /// LZ77 copy; an overlapping source repeats the bytes just written.
    fn copy(&mut self, src: usize, dst: usize, len: usize) {
        if dst - src >= len {
            self.history.copy_within(src..src + len, dst);
        } else {
            for k in 0..len {
                self.history[dst + k] = self.history[src + k];
            }
        }
    }
}

/// Reads the next literal or copy tuple; `None` at the end of the packet.
fn next_code(r: &mut BitReader<'_>) -> Result<Option<Code>, MppcError> {
    let left = r.remaining();
    if left < 8 {
        // The last byte is padded with zero bits; anything else is a cut code.
        return match r.take(left as u32) {
            Some(0) | None => Ok(None),
            Some(_) => Err(truncated(r)),
        };
    }
    let code = match r.peek(3).ok_or_else(|| truncated(r))? {
        // RFC 2118 §4.1: `0` + 7 bits.
        0b000..=0b011 => {
            r.skip(1);
            Code::Literal(take(r, 7)? as u8)
        }
        // RFC 2118 §4.1: `10` + 7 bits for 0x80..0xff.
        0b100 | 0b101 => {
            r.skip(2);
            Code::Literal(0x80 | take(r, 7)? as u8)
        }
        0b110 => {
            r.skip(3);
            let offset = 320 + take(r, 13)? as usize;
            Code::Copy {
                offset,
                len: length(r)?,
            }
        }
        _ => {
            let offset = if take(r, 4)? == 0b1111 {
                take(r, 6)? as usize
            } else {
                64 + take(r, 8)? as usize
            };
            Code::Copy {
                offset,
                len: length(r)?,
            }
        }
    };
    Ok(Some(code))
}

/// RFC 2118 §4.2.2: `0` is 3; k-1 ones, a zero and k bits give 2^k..2^(k+1)-1.
fn length(r: &mut BitReader<'_>) -> Result<usize, MppcError> {
    let mut ones = 0u32;
    while take(r, 1)? == 1 {
        ones += 1;
        if ones == 12 {
            return Err(MppcError::BadLengthCode { bit: r.position() });
        }
    }
    if ones == 0 {
        return Ok(3);
    }
    let k = ones + 1;
    Ok((1usize << k) + take(r, k)? as usize)
}

fn take(r: &mut BitReader<'_>, n: u32) -> Result<u32, MppcError> {
    r.take(n).ok_or_else(|| truncated(r))
}

fn truncated(r: &BitReader<'_>) -> MppcError {
    MppcError::Truncated {
        bits: r.position() + r.remaining(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mppc::MppcCompressor;

    /// FreeRDP `TEST_MPPC_BELLS_RDP4` (vectors/README.md §8), flags B|C.
    const BELLS: [u8; 33] = [
        0x66, 0x6f, 0x72, 0x2e, 0x77, 0x68, 0x6f, 0x6d, 0x2e, 0x74, 0x68, 0x65, 0x2e, 0x62, 0x65,
        0x6c, 0x6c, 0x2e, 0x74, 0x6f, 0x6c, 0x6c, 0x73, 0x2c, 0xf4, 0x37, 0x2e, 0x66, 0xfa, 0x1f,
        0x19, 0x94, 0x84,
    ];
    const BELLS_PLAIN: &[u8] = b"for.whom.the.bell.tolls,.the.bell.tolls.for.thee!";

    #[test]
    fn bells_codes() {
        // After 24 literals: offset 16 (1111 010000), length 15 (110 111).
        let mut r = BitReader::new(&BELLS);
        for &b in &BELLS_PLAIN[..24] {
            assert!(matches!(next_code(&mut r), Ok(Some(Code::Literal(x))) if x == b));
        }
        assert!(matches!(
            next_code(&mut r),
            Ok(Some(Code::Copy {
                offset: 16,
                len: 15
            }))
        ));
    }

    #[test]
    fn bells_decompress_and_recompress() {
        let mut rx = MppcDecompressor::new();
        let flags = MppcFlags::AT_FRONT | MppcFlags::COMPRESSED;
        assert_eq!(rx.decompress(flags, &BELLS).unwrap(), BELLS_PLAIN);
        let mut tx = MppcCompressor::new();
        let mut out = [0u8; 64];
        let sent = tx.compress(BELLS_PLAIN, &mut out).unwrap();
        assert_eq!(sent.flags, flags);
        // Same 24 literals; our match finder then takes `for.` as one copy, FreeRDP `f` + `or.`.
        assert_eq!(out[..24], BELLS[..24]);
        assert!(sent.len <= BELLS.len());
        let mut rx = MppcDecompressor::new();
        assert_eq!(rx.decompress(flags, &out[..sent.len]).unwrap(), BELLS_PLAIN);
    }
}
