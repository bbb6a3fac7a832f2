//! The MPPC compressor (RFC 2118 §4): LZ77 over an 8 KB history with a
//! hash-chain match finder whose work per byte is bounded.

use alloc::boxed::Box;

use super::bits::{BitWriter, Full};
use super::{MppcError, MppcFlags, MppcOutput, HISTORY_SIZE};

/// Bits of the 3-byte hash: 4096 chain heads.
const HASH_BITS: u32 = 12;
const HASH_SIZE: usize = 1 << HASH_BITS;
/// Marks an empty chain head or link.
const NONE: u16 = u16::MAX;
/// RFC 2118 §4.2.2: the longest length of match.
const MAX_MATCH: usize = HISTORY_SIZE - 1;
/// Chain links followed per position by default.
const DEFAULT_CHAIN_DEPTH: u16 = 16;
/// A match this long is taken without looking further.
const NICE_MATCH: usize = 64;
/// Matches shorter than this are checked against one starting a byte later.
const LAZY_LIMIT: usize = 32;

/// The history and match-finder tables, boxed once per compressor.
struct Tables {
    history: [u8; HISTORY_SIZE],
    head: [u16; HASH_SIZE],
    prev: [u16; HISTORY_SIZE],
}

/// The sending half of MPPC (RFC 2118): compresses one PPP packet at a time
/// against an 8192-byte history shared with the peer's [`MppcDecompressor`].
///
/// Driving contract: call [`compress`](Self::compress) for every packet, in
/// order, and send the bytes with the returned [`MppcFlags`] in the high bits
/// of the MPPE/MPPC header (RFC 3078 §3). When the peer sends a CCP
/// Reset-Request, call [`reset`](Self::reset): the next packet carries
/// [`MppcFlags::FLUSHED`]. The compressor allocates only in its constructor.
///
/// # Example
///
/// ```
/// use pptp_proto::mppc::{MppcCompressor, MppcDecompressor, MppcFlags};
///
/// let mut tx = MppcCompressor::with_chain_depth(64); // searches harder than new()'s 16
/// let mut rx = MppcDecompressor::new();
/// let packet = b"\x00\x21for whom the bell tolls, the bell tolls for thee";
/// let mut wire = [0u8; 64];
/// let sent = tx.compress(packet, &mut wire)?;
/// assert_eq!(sent.flags, MppcFlags::AT_FRONT | MppcFlags::COMPRESSED); // first packet
/// assert!(sent.len < packet.len());
/// assert_eq!(rx.decompress(sent.flags, &wire[..sent.len])?, packet);
///
/// // In place in the frame buffer; the history now holds the first packet.
/// let mut frame = *packet;
/// let sent = tx.compress_in_place(&mut frame);
/// assert_eq!(sent.flags, MppcFlags::COMPRESSED);
/// assert!(sent.len < 10);
/// assert_eq!(rx.decompress(sent.flags, &frame[..sent.len])?, packet);
///
/// tx.reset(); // the peer sent a CCP Reset-Request
/// let sent = tx.compress(packet, &mut wire)?;
/// assert!(sent.flags.contains(MppcFlags::FLUSHED));
/// assert_eq!(MppcCompressor::new().compress(packet, &mut wire)?.len, sent.len);
/// # Ok::<(), pptp_proto::mppc::MppcError>(())
/// ```
///
/// [`MppcDecompressor`]: super::MppcDecompressor
pub struct MppcCompressor {
    tables: Box<Tables>,
    /// Where the next packet starts in the history.
    pos: usize,
    /// The first history position not yet entered in the hash chains.
    hashed: usize,
    /// The next packet must carry FLUSHED (after `reset`).
    flush_pending: bool,
    chain_depth: u16,
}

impl Default for MppcCompressor {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for MppcCompressor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MppcCompressor")
            .field("pos", &self.pos)
            .field("flush_pending", &self.flush_pending)
            .field("chain_depth", &self.chain_depth)
            .finish_non_exhaustive()
    }
}

impl MppcCompressor {
    /// A compressor with an empty history, following at most 16 hash-chain
    /// links per position. See the [example](Self#example).
    pub fn new() -> Self {
        Self::with_chain_depth(DEFAULT_CHAIN_DEPTH)
    }

    /// A compressor that follows at most `depth` (at least 1) hash-chain links
    /// per position: more finds longer matches, at more work per byte. See
    /// the [example](Self#example).
    pub fn with_chain_depth(depth: u16) -> Self {
        MppcCompressor {
            tables: Box::new(Tables {
                history: [0; HISTORY_SIZE],
                head: [NONE; HASH_SIZE],
                prev: [NONE; HISTORY_SIZE],
            }),
            pos: 0,
            hashed: 0,
            flush_pending: false,
            chain_depth: depth.max(1),
        }
    }

    /// Forgets the history, as a CCP Reset-Request asks (RFC 1962 §2.2); the
    /// next packet carries [`MppcFlags::FLUSHED`] so the peer forgets it too.
    /// See the [example](Self#example).
    pub fn reset(&mut self) {
        self.tables.history.fill(0);
        self.restart_at_front();
        self.flush_pending = true;
    }

    /// Compresses `input` into `out` and says how to flag it.
    ///
    /// `out` must hold at least `input.len()` bytes: when compression would
    /// expand the packet (or `input` is longer than the 8192-byte history) the
    /// packet goes out uncompressed, the history is reset and the packet is
    /// flagged [`MppcFlags::FLUSHED`] so the peer resets too (RFC 2118 §3.1).
    ///
    /// # Errors
    ///
    /// [`MppcError::BufferTooSmall`] if `out` is shorter than `input`; the
    /// compressor is then untouched.
    ///
    /// See the [example](Self#example).
    pub fn compress(&mut self, input: &[u8], out: &mut [u8]) -> Result<MppcOutput, MppcError> {
        let Some(out) = out.get_mut(..input.len()) else {
            return Err(MppcError::BufferTooSmall {
                required: input.len(),
            });
        };
        out.copy_from_slice(input);
        Ok(self.compress_in_place(out))
    }

    /// Compresses the packet in `buf` in place: the result is in
    /// `buf[..len]` for the returned `len`, never more than `buf.len()`.
    /// Otherwise as [`compress`](Self::compress); the PPP data path uses this
    /// to compress inside the caller's frame buffer without a copy. See the
    /// [example](Self#example).
    pub fn compress_in_place(&mut self, buf: &mut [u8]) -> MppcOutput {
        let mut flags = MppcFlags::empty();
        if core::mem::take(&mut self.flush_pending) {
            flags |= MppcFlags::FLUSHED;
        }
        if buf.len() > HISTORY_SIZE {
            return self.send_uncompressed(buf.len());
        }
        // RFC 2118 §3.1 bit B: a packet that does not fit goes to the front.
        if self.pos + buf.len() > HISTORY_SIZE {
            self.restart_at_front();
        }
        if self.pos == 0 {
            flags |= MppcFlags::AT_FRONT;
        }
        let start = self.pos;
        let end = start + buf.len();
        self.tables.history[start..end].copy_from_slice(buf);
        match self.encode(start, end, buf) {
            Ok(len) => {
                self.pos = end;
                MppcOutput {
                    len,
                    flags: flags | MppcFlags::COMPRESSED,
                }
            }
            Err(Full) => {
                // The history still holds the packet the encoder overwrote.
                buf.copy_from_slice(&self.tables.history[start..end]);
                self.send_uncompressed(buf.len())
            }
        }
    }

    /// RFC 2118 §3.1: an expanding packet goes raw and flushes both histories.
    fn send_uncompressed(&mut self, len: usize) -> MppcOutput {
        self.tables.history.fill(0);
        self.restart_at_front();
        MppcOutput {
            len,
            flags: MppcFlags::FLUSHED,
        }
    }

    /// Moves the history pointer to the front and forgets every chain.
    fn restart_at_front(&mut self) {
        self.pos = 0;
        self.hashed = 0;
        self.tables.head.fill(NONE);
    }

    /// Encodes `history[start..end]` as literals and copy tuples.
    fn encode(&mut self, start: usize, end: usize, out: &mut [u8]) -> Result<usize, Full> {
        let mut w = BitWriter::new(out);
        let mut i = start;
        let mut found = None;
        while i < end {
            self.insert_before(i, end);
            let (len, offset) = found.take().unwrap_or_else(|| self.longest_match(i, end));
            if (3..LAZY_LIMIT).contains(&len) {
                // Lazy matching: a longer match one byte on is worth a literal.
                self.insert_before(i + 1, end);
                let next = self.longest_match(i + 1, end);
                if next.0 > len {
                    put_literal(&mut w, self.tables.history[i])?;
                    i += 1;
                    found = Some(next);
                    continue;
                }
            }
            if len >= 3 {
                put_copy(&mut w, offset, len)?;
                i += len;
            } else {
                put_literal(&mut w, self.tables.history[i])?;
                i += 1;
            }
        }
        self.insert_before(end, end);
        w.finish()
    }

    /// Enters every position before `limit` whose 3 bytes lie before `end`.
    fn insert_before(&mut self, limit: usize, end: usize) {
        let t = &mut *self.tables;
        while self.hashed < limit && self.hashed + 3 <= end {
            let p = self.hashed;
            let h = hash3(&t.history, p);
            t.prev[p] = t.head[h];
            // p < HISTORY_SIZE = 8192 fits in u16.
            t.head[h] = p as u16;
            self.hashed += 1;
        }
    }

    /// The longest earlier match for position `i` (length, offset), walking
    /// at most `chain_depth` links.
    fn longest_match(&self, i: usize, end: usize) -> (usize, usize) {
        if i + 3 > end {
            return (0, 0);
        }
        let t = &*self.tables;
        let max = (end - i).min(MAX_MATCH);
        let (mut best_len, mut best_off) = (0, 0);
        let mut cand = t.head[hash3(&t.history, i)];
        let mut depth = self.chain_depth;
        while cand != NONE && depth > 0 {
            let c = usize::from(cand);
            if c >= i {
                break;
            }
            // Cheap reject: the byte that would make this match the longest.
            if t.history[c + best_len] == t.history[i + best_len] {
                let len = match_len(&t.history, c, i, max);
                if len > best_len {
                    (best_len, best_off) = (len, i - c);
                    if len >= NICE_MATCH.min(max) {
                        break;
                    }
                }
            }
            let next = t.prev[c];
            // Links only ever point backwards; anything else is stale.
            if next != NONE && usize::from(next) >= c {
                break;
            }
            cand = next;
            depth -= 1;
        }
        (best_len, best_off)
    }
}

/// Hash of the 3 bytes at `p` into `HASH_BITS` bits.
#[inline]
fn hash3(h: &[u8; HISTORY_SIZE], p: usize) -> usize {
    let v = u32::from(h[p]) << 16 | u32::from(h[p + 1]) << 8 | u32::from(h[p + 2]);
    (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
}

/// How many bytes at `c` equal those at `i`, up to `max` (overlap allowed).
#[inline]
fn match_len(h: &[u8; HISTORY_SIZE], c: usize, i: usize, max: usize) -> usize {
    let (a, b) = (&h[c..c + max], &h[i..i + max]);
    let mut n = 0;
    // Eight bytes at a time; the first differing bit says where the match ends.
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        let diff = word(x) ^ word(y);
        if diff != 0 {
            return n + (diff.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + a[n..]
        .iter()
        .zip(&b[n..])
        .take_while(|(x, y)| x == y)
        .count()
}

/// Eight bytes as a little-endian word (`chunk` is 8 bytes long).
#[inline]
fn word(chunk: &[u8]) -> u64 {
    u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]))
}

/// RFC 2118 §4.1: 0x00..0x7f as `0` + 7 bits, 0x80..0xff as `10` + 7 bits.
#[inline]
fn put_literal(w: &mut BitWriter<'_>, b: u8) -> Result<(), Full> {
    if b < 0x80 {
        w.put(u32::from(b), 8)
    } else {
        w.put(0b10 << 7 | u32::from(b & 0x7f), 9)
    }
}

/// RFC 2118 §4.2: a copy offset (1..=8191) followed by a length (3..=8191).
#[inline]
fn put_copy(w: &mut BitWriter<'_>, offset: usize, len: usize) -> Result<(), Full> {
    // Both values are below 8192, so the casts keep every bit.
    let (offset, len) = (offset as u32, len as u32);
    // RFC 2118 §4.2.1: offset encoding.
    if offset < 64 {
        w.put(0b1111 << 6 | offset, 10)?;
    } else if offset < 320 {
        w.put(0b1110 << 8 | (offset - 64), 12)?;
    } else {
        w.put(0b110 << 13 | (offset - 320), 16)?;
    }
    // RFC 2118 §4.2.2: `0` for 3, else (k-1) ones, a zero and k bits for 2^k..2^(k+1)-1.
    if len == 3 {
        return w.put(0, 1);
    }
    let k = 31 - len.leading_zeros();
    let ones = (1u32 << (k - 1)) - 1;
    w.put(ones << (k + 1) | (len - (1 << k)), 2 * k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits_of(f: impl FnOnce(&mut BitWriter<'_>)) -> alloc::string::String {
        let mut buf = [0u8; 8];
        let mut w = BitWriter::new(&mut buf);
        f(&mut w);
        let n = w.finish().unwrap();
        buf[..n].iter().map(|b| alloc::format!("{b:08b}")).collect()
    }

    #[test]
    fn literal_codes() {
        assert!(bits_of(|w| put_literal(w, 0x66).unwrap()).starts_with("01100110"));
        assert!(bits_of(|w| put_literal(w, 0xff).unwrap()).starts_with("101111111"));
    }

    #[test]
    fn copy_codes_match_rfc_2118() {
        // Offset 3, length 3: 1111 000011 0.
        assert!(bits_of(|w| put_copy(w, 3, 3).unwrap()).starts_with("11110000110"));
        // Offset 128 (1110 + 64), length 4 (10 00).
        assert!(bits_of(|w| put_copy(w, 128, 4).unwrap()).starts_with("1110010000001000"));
        // Offset 1024 (110 + 704), length 15 (110 111).
        assert!(bits_of(|w| put_copy(w, 1024, 15).unwrap()).starts_with("1100001011000000110111"));
        // Length 8191: eleven ones, a zero, twelve ones.
        let s = bits_of(|w| put_copy(w, 1, 8191).unwrap());
        assert!(s.starts_with("1111000001111111111110111111111111"));
    }

    #[test]
    fn match_len_agrees_with_bytewise() {
        let mut h = [0u8; HISTORY_SIZE];
        let mut x = 1u32;
        for b in h.iter_mut() {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            *b = b"ab"[(x >> 16) as usize & 1];
        }
        h.copy_within(0..100, 5000);
        for (c, i) in [(0, 1), (3, 40), (100, 107), (5, 6000), (0, 5000), (1, 5001)] {
            for max in [0, 1, 7, 8, 9, 30, HISTORY_SIZE - i] {
                let slow = (0..max).take_while(|&k| h[c + k] == h[i + k]).count();
                assert_eq!(match_len(&h, c, i, max), slow, "c={c} i={i} max={max}");
            }
        }
    }

    #[test]
    fn too_small_output_leaves_state() {
        let mut c = MppcCompressor::new();
        let mut out = [0u8; 3];
        assert_eq!(
            c.compress(b"abcd", &mut out),
            Err(MppcError::BufferTooSmall { required: 4 })
        );
        assert_eq!(c.pos, 0);
    }
}
