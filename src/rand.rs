//! The crate's only "randomness": a generator seeded from the embedder's
//! configuration (magic numbers, challenges, Call IDs, serial numbers, echo
//! identifiers). The crate draws no entropy of its own; the seed is the
//! embedder's to choose well: a [`Seed`] of 32 bytes from the operating
//! system's generator.
//!
//! Each output block is SHA-1 over a key (the seed and a label) and a
//! counter. What a generator puts on the wire (a CHAP challenge, a magic
//! number) therefore reveals neither its seed nor the output of any other
//! generator. A plain PRNG such as SplitMix64, whose state can be read back
//! from one output, let anyone who connected once compute the seed and with
//! it the challenges of every later session. A 64-bit seed still bounds the
//! work of a brute-force search, so it must come from the operating system.

use sha1::{Digest, Sha1};

/// 256 bits of the embedder's entropy, from which every random choice of a
/// [`Server`](crate::server::Server) or [`Client`](crate::client::Client)
/// is drawn (CHAP challenges, LCP magic numbers, Call IDs). Fill it from the
/// operating system's generator (`getrandom`, `/dev/urandom`); wiped when
/// dropped.
///
/// ```
/// use pptp_proto::Seed;
///
/// let os_bytes = [7u8; 32]; // in real code: read from the OS generator
/// let seed = Seed::from_bytes(os_bytes);
/// assert_ne!(seed, Seed::from_u64(7));
/// // A 64-bit seed is for tests and reproducible runs: an attacker who saw
/// // one CHAP challenge can search 2^64 seeds, not 2^256.
/// assert_eq!(Seed::from(7u64), Seed::from_u64(7));
/// ```
#[derive(Clone, PartialEq, Eq, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct Seed([u8; 32]);

impl Seed {
    /// A seed of 32 bytes of entropy. See the [example](Self).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Seed(bytes)
    }

    /// A seed from 64 bits, for tests and reproducible runs (weak: see the
    /// [example](Self)).
    pub const fn from_u64(seed: u64) -> Self {
        let b = seed.to_le_bytes();
        let mut bytes = [0u8; 32];
        let mut i = 0;
        while i < 8 {
            bytes[i] = b[i];
            i += 1;
        }
        Seed(bytes)
    }
}

impl Default for Seed {
    /// All zeros: reproducible, and as weak as a seed can be.
    fn default() -> Self {
        Seed([0; 32])
    }
}

impl From<u64> for Seed {
    fn from(seed: u64) -> Self {
        Seed::from_u64(seed)
    }
}

impl From<[u8; 32]> for Seed {
    fn from(bytes: [u8; 32]) -> Self {
        Seed(bytes)
    }
}

impl core::fmt::Debug for Seed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Seed(..)")
    }
}

/// A counter-mode generator over SHA-1 (in the manner of NIST SP 800-90A's
/// Hash_DRBG, without reseeding): 20 bytes per hash. The key is wiped when
/// dropped.
#[derive(Clone, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub(crate) struct Rng {
    key: [u8; 16],
    counter: u64,
}

impl core::fmt::Debug for Rng {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Rng(..)")
    }
}

impl Rng {
    /// A generator for `seed`: the key is the seed and a label. (Hashing
    /// it first would add nothing: the blocks hash the key already, and it
    /// cost one more SHA-1 per generator, five or six per handshake.)
    pub(crate) fn new(seed: u64) -> Self {
        let mut key = *b"\0\0\0\0\0\0\0\0pptp-rng";
        key[..8].copy_from_slice(&seed.to_le_bytes());
        Rng { key, counter: 0 }
    }

    /// A generator keyed by a 256-bit seed (hashed into the key).
    pub(crate) fn from_seed(seed: &Seed) -> Self {
        Self::from_material(&seed.0)
    }

    /// A generator keyed by any secret material, hashed into the key.
    pub(crate) fn from_material(material: &[u8]) -> Self {
        let digest = Sha1::new()
            .chain_update(b"pptp-proto rng\0")
            .chain_update(material)
            .finalize();
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        Rng { key, counter: 0 }
    }

    fn block(&mut self) -> [u8; 20] {
        let digest = Sha1::new()
            .chain_update(self.key)
            .chain_update(self.counter.to_le_bytes())
            .finalize();
        self.counter = self.counter.wrapping_add(1);
        digest.into()
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let block = self.block();
        let mut word = [0u8; 8];
        word.copy_from_slice(&block[..8]);
        u64::from_le_bytes(word)
    }

    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(20) {
            let block = self.block();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_give_distinct_reproducible_streams() {
        let mut a = Rng::new(1);
        let mut b = Rng::new(1);
        let mut c = Rng::new(2);
        let (x, y, z) = (a.next_u64(), b.next_u64(), c.next_u64());
        assert_eq!(x, y);
        assert_ne!(x, z);
        assert_ne!(a.next_u64(), x);
    }

    #[test]
    fn fill_uses_whole_blocks_and_covers_every_byte() {
        let mut a = Rng::new(7);
        let mut long = [0u8; 45];
        a.fill(&mut long);
        let mut b = Rng::new(7);
        let mut blocks = [0u8; 60];
        b.fill(&mut blocks);
        assert_eq!(long[..40], blocks[..40]);
        assert_eq!(long[40..], blocks[40..45]);
        assert!(long[40..].iter().any(|&x| x != 0));
    }

    #[test]
    fn known_answers() {
        // Known answers, computed independently with Python's hashlib:
        // SHA-1(seed LE || "pptp-rng" || counter LE), and for keyed
        // material SHA-1("pptp-proto rng\0" || material)[..16] as the key.
        let mut r = Rng::new(0x0102_0304_0506_0708);
        assert_eq!(
            r.next_u64().to_le_bytes(),
            [247, 191, 34, 61, 117, 128, 167, 106]
        );
        let mut r = Rng::from_material(&[0; 8]);
        assert_eq!(
            r.next_u64().to_le_bytes(),
            [100, 126, 248, 88, 5, 241, 29, 201]
        );
    }
}
