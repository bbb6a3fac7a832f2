//! MSB-first bit packing, the order RFC 2118 §4 writes its codes in.

/// Writes codes MSB first into a caller buffer, refusing to pass `limit` bytes.
pub(super) struct BitWriter<'o> {
    out: &'o mut [u8],
    len: usize,
    acc: u64,
    nbits: u32,
}

/// The writer reached its byte limit: the packet would not shrink.
#[derive(Debug)]
pub(super) struct Full;

impl<'o> BitWriter<'o> {
    /// A writer over `out` (its length is the byte limit).
    pub(super) fn new(out: &'o mut [u8]) -> Self {
        BitWriter {
            out,
            len: 0,
            acc: 0,
            nbits: 0,
        }
    }

    /// Appends the low `n` bits of `code` (`n <= 32`).
    #[inline]
    pub(super) fn put(&mut self, code: u32, n: u32) -> Result<(), Full> {
        self.acc = (self.acc << n) | u64::from(code);
        self.nbits += n;
        while self.nbits >= 8 {
            self.nbits -= 8;
            // Truncation keeps the next whole byte of the accumulator.
            self.push((self.acc >> self.nbits) as u8)?;
        }
        Ok(())
    }

    /// Pads the last byte with zero bits and returns the byte count.
    pub(super) fn finish(mut self) -> Result<usize, Full> {
        if self.nbits > 0 {
            let pad = 8 - self.nbits;
            self.put(0, pad)?;
        }
        Ok(self.len)
    }

    #[inline]
    fn push(&mut self, byte: u8) -> Result<(), Full> {
        let slot = self.out.get_mut(self.len).ok_or(Full)?;
        *slot = byte;
        self.len += 1;
        Ok(())
    }
}

/// Reads codes MSB first from peer bytes; never reads past them.
pub(super) struct BitReader<'i> {
    input: &'i [u8],
    next: usize,
    acc: u64,
    nbits: u32,
}

impl<'i> BitReader<'i> {
    /// A reader over `input`.
    pub(super) fn new(input: &'i [u8]) -> Self {
        BitReader {
            input,
            next: 0,
            acc: 0,
            nbits: 0,
        }
    }

    /// Bits not yet consumed.
    pub(super) fn remaining(&self) -> usize {
        self.nbits as usize + 8 * (self.input.len() - self.next)
    }

    /// Bits consumed so far (for error reports).
    pub(super) fn position(&self) -> usize {
        8 * self.next - self.nbits as usize
    }

    /// Loads whole bytes until at least 57 bits are buffered or input ends.
    #[inline]
    fn refill(&mut self) {
        while self.nbits <= 56 {
            let Some(&b) = self.input.get(self.next) else {
                return;
            };
            self.acc = (self.acc << 8) | u64::from(b);
            self.next += 1;
            self.nbits += 8;
        }
    }

    /// The next `n` bits (`n <= 32`) without consuming them; `None` if fewer remain.
    #[inline]
    pub(super) fn peek(&mut self, n: u32) -> Option<u32> {
        if self.nbits < n {
            self.refill();
            if self.nbits < n {
                return None;
            }
        }
        let mask = (1u64 << n) - 1;
        // The mask keeps at most 32 bits.
        Some(((self.acc >> (self.nbits - n)) & mask) as u32)
    }

    /// Consumes `n` bits previously peeked.
    #[inline]
    pub(super) fn skip(&mut self, n: u32) {
        self.nbits = self.nbits.saturating_sub(n);
    }

    /// Reads `n` bits (`n <= 32`); `None` if fewer remain.
    #[inline]
    pub(super) fn take(&mut self, n: u32) -> Option<u32> {
        let v = self.peek(n)?;
        self.skip(n);
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_reader_round_trip() {
        let mut buf = [0u8; 8];
        let mut w = BitWriter::new(&mut buf);
        w.put(0b1, 1).unwrap();
        w.put(0b0110_0110, 8).unwrap();
        w.put(0x3ff, 10).unwrap();
        let n = w.finish().unwrap();
        assert_eq!(n, 3);
        let mut r = BitReader::new(&buf[..n]);
        assert_eq!(r.take(1), Some(1));
        assert_eq!(r.take(8), Some(0x66));
        assert_eq!(r.take(10), Some(0x3ff));
        assert_eq!(r.remaining(), 5);
        assert_eq!(r.take(5), Some(0));
        assert_eq!(r.take(1), None);
    }

    #[test]
    fn writer_stops_at_limit() {
        let mut buf = [0u8; 1];
        let mut w = BitWriter::new(&mut buf);
        w.put(0xff, 8).unwrap();
        assert!(w.put(0x1, 8).is_err());
    }
}
