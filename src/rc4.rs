//! RC4, the stream cipher under MPPE (RFC 3078 §2), in safe Rust.
//!
//! [`Rc4`] keeps the 256-byte permutation `S` and the two indices `i`, `j`.
//! It is written for speed on the MPPE data path (one cipher per direction,
//! re-keyed in place, see [`Rc4::rekey`]):
//!
//! - `S` is a `[u8; 256]` indexed by `u8`, so no index needs a bounds check.
//! - RC4 is bound by the latency of its loads, not by arithmetic: step `n + 1`
//!   needs `S[i + 1]`, which a plain loop loads only after the swap of step `n`
//!   has been stored. Both loops below load `S[i + 1]`, `S[i + 2]`, ... a few
//!   steps *before* the swaps that may overwrite them and fix the value up in
//!   the rare case one did.
//! - The keystream runs in 16-byte blocks aligned on `i`: a byte-wise
//!   lead-in brings `i + 1` to a multiple of 16, and inside a block step `k`
//!   swaps at `base + k` for one `base` (a multiple of 16, at most 240), so
//!   the offsets are constants in the addressing and `i` is neither
//!   incremented nor zero-extended per byte. The lead-in and the tail (under
//!   16 bytes each) go byte by byte with `S[i + 1]` loaded one step ahead.
//! - Inside a block `S[i + 1]` and `S[i + 2]` are loaded one and two steps
//!   ahead, before the swap's stores. The swap can overwrite either
//!   (`j == i + 1` or `i + 2`, 2 times in 256); a counter
//!   `gap = j - (i + 1)`, updated beside `j`, detects that, and
//!   one rarely taken branch to a cold fix-up keeps compares and moves off
//!   the `j` chain. Each keystream byte is XORed straight into the data.
//!   About 14.7 instructions per byte (callgrind; the one-ahead, 8-byte word
//!   version before it took 19.4). Three loads ahead measured about 8 %
//!   slower here (and adds another 1-in-256 fix-up, a mispredicted branch).
//! - The key schedule is unrolled over MPPE's 8- and 16-byte keys the same
//!   way (rounds of key length at constant offsets, `gap` check, cold
//!   fix-up), with `S[i + 1]` to `S[i + 3]` loaded ahead: three ahead
//!   measured fastest there. Other key lengths take a plain loop with
//!   `S[i + 1]` loaded one step ahead.
//!
//! The output is byte-for-byte the RC4 keystream of the `rc4` crate and of
//! RFC 6229.

use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// The identity permutation every key schedule starts from.
const IDENTITY: [u8; 256] = identity();

const fn identity() -> [u8; 256] {
    let mut s = [0u8; 256];
    let mut k = 0;
    while k < 256 {
        s[k] = k as u8;
        k += 1;
    }
    s
}

/// An RC4 cipher: the key-scheduled permutation and the keystream position.
///
/// RC4 is symmetric: [`apply_keystream`](Rc4::apply_keystream) both encrypts
/// and decrypts. The state is key material: `Debug` prints `Rc4 { .. }` and
/// the state is zeroized on drop.
///
/// # Example
///
/// ```
/// use pptp_proto::rc4::Rc4;
///
/// let mut data = *b"Plaintext";
/// Rc4::new(b"Key").apply_keystream(&mut data);
/// assert_eq!(data, [0xBB, 0xF3, 0x16, 0xE8, 0xD9, 0x40, 0xAF, 0x0A, 0xD3]);
///
/// // The 128-bit MPPE session key of RFC 3079 §3.5.3 over its test message,
/// // in two pieces: the keystream runs on between calls.
/// let key = hex::decode("405CB2247A7956E6E211007AE27B22D4").unwrap();
/// let mut rc4 = Rc4::new(b"old key");
/// rc4.rekey(&key); // now as `Rc4::new(&key)`
/// let mut message = *b"test message";
/// let (head, tail) = message.split_at_mut(5);
/// rc4.apply_keystream(head);
/// rc4.apply_keystream(tail);
/// assert_eq!(hex::encode_upper(message), "81848317DF68846272FB5ABE");
/// ```
#[derive(Clone)]
pub struct Rc4 {
    s: [u8; 256],
    i: u8,
    j: u8,
}

impl Rc4 {
    /// Runs the RC4 key schedule over `key`.
    ///
    /// RC4 keys are 1 to 256 bytes. Only the first 256 bytes of a longer key
    /// take part, as in the RC4 definition. An empty key does not panic: it
    /// is treated as the one-byte key `[0x00]` (missing key bytes count as
    /// zero), which no real protocol uses; callers must not pass one.
    /// See the [example](Self#example).
    #[must_use]
    pub fn new(key: &[u8]) -> Rc4 {
        let mut rc4 = Rc4::unkeyed();
        rc4.rekey(key);
        rc4
    }

    /// A state to [`rekey`](Rc4::rekey) before use: the identity
    /// permutation, without running a key schedule.
    pub(crate) const fn unkeyed() -> Rc4 {
        Rc4 {
            s: IDENTITY,
            i: 0,
            j: 0,
        }
    }

    /// Re-runs the key schedule with `key` in place, without allocating.
    ///
    /// Afterwards `self` is in the same state as `Rc4::new(key)`; the old
    /// permutation is overwritten. Keys are handled as in [`Rc4::new`].
    /// See the [example](Self#example).
    pub fn rekey(&mut self, key: &[u8]) {
        self.s = IDENTITY;
        self.i = 0;
        self.j = 0;
        key_schedule(&mut self.s, key);
    }

    /// XORs the next `data.len()` keystream bytes into `data`.
    ///
    /// The cipher is stateful: calling this on consecutive pieces of a buffer
    /// gives the same result as one call on the whole buffer, as the
    /// [example](Self#example) shows.
    pub fn apply_keystream(&mut self, data: &mut [u8]) {
        let mut prga = Prga::start(&mut self.s, self.i, self.j);
        // Byte by byte until `i + 1` is a multiple of 16, so that every
        // 16-byte block below starts at `i + 1 == base` with `base % 16 == 0`.
        let lead = usize::from(prga.i.wrapping_add(1).wrapping_neg() & 15).min(data.len());
        let (head, body) = data.split_at_mut(lead);
        for b in head {
            *b ^= prga.next_byte();
        }
        let mut blocks = body.chunks_exact_mut(16);
        if blocks.len() > 0 {
            prga.blocks(&mut blocks);
        }
        for b in blocks.into_remainder() {
            *b ^= prga.next_byte();
        }
        self.i = prga.i;
        self.j = prga.j;
    }
}

/// The KSA, on `s` holding the identity permutation.
///
/// MPPE's 8- and 16-byte keys get [`ksa_fixed`]; other lengths a loop over
/// the key with `S[i + 1]` loaded one step ahead. Not inlined: `Rc4::new`
/// and `Rc4::rekey` share one copy of the unrolled code.
#[inline(never)]
fn key_schedule(s: &mut [u8; 256], key: &[u8]) {
    if let Ok(key) = <&[u8; 16]>::try_from(key) {
        ksa_fixed(s, key);
    } else if let Ok(key) = <&[u8; 8]>::try_from(key) {
        ksa_fixed(s, key);
    } else {
        let mut ksa = Ksa { s, j: 0, x: 0 };
        ksa.x = ksa.s[0];
        ksa.run(if key.is_empty() { &[0] } else { key });
    }
}

/// The KSA for 16- and 8-byte keys: 256 / `N` rounds of `N` steps, unrolled
/// over the key as [`Prga::blocks`] is over its block.
///
/// Step `t` of a round swaps at `base + t` (`base` a multiple of `N`), and
/// `S[i + 1]`, `S[i + 2]` and `S[i + 3]` are loaded ahead of the swap's
/// stores; `gap = j - (i + 1)` flags the swaps (3 in 256) that overwrite one
/// of them, for a rare branch to [`patch3`]. Three ahead measured fastest
/// here, where a step is a swap and nothing else.
fn ksa_fixed<const N: usize>(s: &mut [u8; 256], key: &[u8; N]) {
    const { assert!(N == 8 || N == 16) };
    // `& mask` shows the compiler that `base + t` stays below 256.
    let mask = 0x100 - N;
    let mut j = 0u8;
    // S[i], S[i + 1], S[i + 2] for the step about to run.
    let (mut x1, mut x2, mut x3) = (s[0], s[1], s[2]);
    // j - (i + 1) for the step about to run, once `j` is updated.
    let mut gap = 0u8;
    let mut base = 0;
    for _ in 0..256 / N {
        let next_base = (base + N) & mask;
        macro_rules! step {
            ($t:literal) => {{
                let x = x1;
                let d = x.wrapping_add(key[$t]);
                j = j.wrapping_add(d);
                gap = gap.wrapping_add(d).wrapping_sub(1);
                let y = s[usize::from(j)];
                let mut x4 = s[if $t + 3 < N {
                    base + $t + 3
                } else {
                    next_base + ($t + 3 - N)
                }];
                s[base + $t] = y;
                s[usize::from(j)] = x;
                if gap < 3 {
                    (x2, x3, x4) = patch3(gap, x, (x2, x3, x4));
                }
                x1 = x2;
                x2 = x3;
                x3 = x4;
            }};
        }
        step!(0);
        step!(1);
        step!(2);
        step!(3);
        step!(4);
        step!(5);
        step!(6);
        step!(7);
        if N == 16 {
            step!(8);
            step!(9);
            step!(10);
            step!(11);
            step!(12);
            step!(13);
            step!(14);
            step!(15);
        }
        base = next_base;
    }
}

/// The rare fix-up of [`ksa_fixed`]: the swap stored `x` at `i + 1 + gap`,
/// which `ahead` (`S[i + 1]`, `S[i + 2]`, `S[i + 3]`) had loaded before it.
#[cold]
#[inline(never)]
fn patch3(gap: u8, x: u8, ahead: (u8, u8, u8)) -> (u8, u8, u8) {
    match gap {
        0 => (x, ahead.1, ahead.2),
        1 => (ahead.0, x, ahead.2),
        _ => (ahead.0, ahead.1, x),
    }
}

/// KSA state with `S[i]` loaded one step ahead of the swap's stores.
struct Ksa<'a> {
    s: &'a mut [u8; 256],
    j: u8,
    /// `S[i]` for the next step.
    x: u8,
}

impl Ksa<'_> {
    /// Any non-empty key; bytes past the 256th are not used.
    fn run(&mut self, key: &[u8]) {
        let mut i = 0;
        while i < 256 {
            for &k in key.iter().take(256 - i) {
                self.step(i, k);
                i += 1;
            }
        }
    }

    #[inline(always)]
    fn step(&mut self, i: usize, k: u8) {
        let x = self.x;
        let j = self.j.wrapping_add(x).wrapping_add(k);
        let y = self.s[usize::from(j)];
        let next = (i + 1) & 0xff;
        let x_next = self.s[next];
        self.s[i & 0xff] = y;
        self.s[usize::from(j)] = x;
        // The swap just stored `x` into S[j]; if j == i + 1 the early load is stale.
        self.x = if usize::from(j) == next { x } else { x_next };
        self.j = j;
    }
}

/// The keystream generator (PRGA) with `S[i + 1]` always loaded one step ahead.
struct Prga<'a> {
    s: &'a mut [u8; 256],
    i: u8,
    j: u8,
    /// `S[i + 1]`, valid for the current state.
    x: u8,
}

impl<'a> Prga<'a> {
    fn start(s: &'a mut [u8; 256], i: u8, j: u8) -> Prga<'a> {
        let x = s[usize::from(i.wrapping_add(1))];
        Prga { s, i, j, x }
    }

    #[inline(always)]
    fn next_byte(&mut self) -> u8 {
        let s = &mut *self.s;
        let i = self.i.wrapping_add(1);
        let x = self.x;
        let j = self.j.wrapping_add(x);
        let y = s[usize::from(j)];
        let next = i.wrapping_add(1);
        let mut x_next = s[usize::from(next)];
        s[usize::from(i)] = y;
        s[usize::from(j)] = x;
        // The swap just stored `x` into S[j]; if j == i + 1 the early load is
        // stale. A rare branch, not a select: it keeps the compare off `j`.
        if j == next {
            x_next = patch1(x);
        }
        self.x = x_next;
        self.i = i;
        self.j = j;
        s[usize::from(x.wrapping_add(y))]
    }

    /// XORs the keystream into whole 16-byte blocks; `i + 1` must be a
    /// multiple of 16 (it stays one: each block advances `i` by 16).
    ///
    /// In a block starting at `i + 1 == base`, step `k` swaps at `base + k`,
    /// a constant offset from one register, and `base & 0xF0` lets the
    /// compiler see that `base + 15 < 256`: no per-byte increment of `i`,
    /// no zero-extension, no bounds check. `S[i + 1]` and `S[i + 2]` are
    /// loaded one and two steps ahead; `gap` says when a swap wrote one of
    /// them (see the loop).
    fn blocks(&mut self, blocks: &mut core::slice::ChunksExactMut<'_, u8>) {
        let s = &mut *self.s;
        let mut j = self.j;
        let mut base = usize::from(self.i.wrapping_add(1)) & 0xF0;
        // `x1` = S[i + 1] (the next step's `x`) and `x2` = S[i + 2], both
        // valid for the current state.
        let mut x1 = self.x;
        let mut x2 = s[base + 1];
        // `gap` = j - (i + 1), mod 256, for the step about to run once `j`
        // has been updated: `i` grows by 1 a step and `j` by `x`.
        let mut gap = j.wrapping_sub(base as u8);
        for block in blocks {
            let next_base = (base + 16) & 0xF0;
            macro_rules! step {
                ($k:literal, $ahead2:expr) => {{
                    let x = x1;
                    j = j.wrapping_add(x);
                    gap = gap.wrapping_add(x).wrapping_sub(1);
                    let y = s[usize::from(j)];
                    // S[i + 3], for two steps on, before this step's stores.
                    let mut x3 = s[$ahead2];
                    s[base + $k] = y;
                    s[usize::from(j)] = x;
                    // The swap stored `x` at S[j]: stale early loads if j is
                    // i + 1 (gap 0) or i + 2 (gap 1), 2 times in 256; a rare
                    // branch keeps the `j` chain free of compares.
                    if gap < 2 {
                        (x2, x3) = patch2(gap, x, (x2, x3));
                    }
                    x1 = x2;
                    x2 = x3;
                    block[$k] ^= s[usize::from(x.wrapping_add(y))];
                }};
            }
            step!(0, base + 2);
            step!(1, base + 3);
            step!(2, base + 4);
            step!(3, base + 5);
            step!(4, base + 6);
            step!(5, base + 7);
            step!(6, base + 8);
            step!(7, base + 9);
            step!(8, base + 10);
            step!(9, base + 11);
            step!(10, base + 12);
            step!(11, base + 13);
            step!(12, base + 14);
            step!(13, base + 15);
            step!(14, next_base);
            step!(15, next_base + 1);
            base = next_base;
        }
        self.i = (base as u8).wrapping_sub(1);
        self.j = j;
        self.x = x1;
    }
}

/// The rare fix-up of [`Prga::next_byte`]: the swap stored `x` at `i + 1`.
/// Out of line and opaque, so that the compiler keeps a branch.
#[cold]
#[inline(never)]
fn patch1(x: u8) -> u8 {
    core::hint::black_box(x)
}

/// The rare fix-up of [`Prga::blocks`]: the swap stored `x` at `i + 1 + gap`,
/// which `ahead` (`S[i + 1]`, `S[i + 2]`) had loaded before it. Out of line
/// and cold so that the common path is one predicted branch.
#[cold]
#[inline(never)]
fn patch2(gap: u8, x: u8, ahead: (u8, u8)) -> (u8, u8) {
    if gap == 0 {
        (x, ahead.1)
    } else {
        (ahead.0, x)
    }
}

impl fmt::Debug for Rc4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The permutation and indices are key material.
        f.debug_struct("Rc4").finish_non_exhaustive()
    }
}

impl Drop for Rc4 {
    fn drop(&mut self) {
        self.s.zeroize();
        self.i.zeroize();
        self.j.zeroize();
    }
}

impl ZeroizeOnDrop for Rc4 {}

#[cfg(test)]
mod tests {
    use super::Rc4;
    use ::rc4::cipher::generic_array::GenericArray;
    use ::rc4::{consts, KeyInit, Rc4 as RefRc4, StreamCipher};
    use alloc::{format, vec, vec::Vec};
    use proptest::prelude::*;

    /// The `rc4` crate's output for `key`, which fixes the key size in its type.
    fn reference(key: &[u8], data: &mut [u8]) {
        macro_rules! by_len {
            ($($n:literal => $u:ident),* $(,)?) => {
                match key.len() {
                    $($n => RefRc4::<consts::$u>::new(GenericArray::from_slice(key))
                        .apply_keystream(data),)*
                    n => panic!("no reference instance for key length {n}"),
                }
            };
        }
        by_len!(
            1 => U1, 2 => U2, 3 => U3, 4 => U4, 5 => U5, 6 => U6, 7 => U7, 8 => U8,
            9 => U9, 10 => U10, 11 => U11, 12 => U12, 13 => U13, 14 => U14, 15 => U15,
            16 => U16, 17 => U17, 18 => U18, 19 => U19, 20 => U20, 21 => U21, 22 => U22,
            23 => U23, 24 => U24, 25 => U25, 26 => U26, 27 => U27, 28 => U28, 29 => U29,
            30 => U30, 31 => U31, 32 => U32, 64 => U64, 128 => U128, 255 => U255,
            256 => U256,
        );
    }

    fn keystream(key: &[u8], n: usize) -> Vec<u8> {
        let mut out = vec![0u8; n];
        Rc4::new(key).apply_keystream(&mut out);
        out
    }

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).expect("test vector hex")
    }

    // RFC 6229 §2: keystream at offsets 0 and 16 for the 40-bit key 0x0102030405.
    #[test]
    fn rfc6229_40_bit_key() {
        let ks = keystream(&[1, 2, 3, 4, 5], 32);
        assert_eq!(
            ks[..16],
            unhex("b2 39 63 05 f0 3d c0 27 cc c3 52 4a 0a 11 18 a8")
        );
        assert_eq!(
            ks[16..],
            unhex("69 82 94 4f 18 fc 82 d5 89 c4 03 a4 7a 0d 09 19")
        );
    }

    // RFC 6229 §2: keystream at offsets 0 and 16 for the 128-bit key 0x0102..10.
    #[test]
    fn rfc6229_128_bit_key() {
        let key: Vec<u8> = (1..=16).collect();
        let ks = keystream(&key, 32);
        assert_eq!(
            ks[..16],
            unhex("9a c7 cc 9a 60 9d 1e f7 b2 93 28 99 cd e4 1b 97")
        );
        assert_eq!(
            ks[16..],
            unhex("52 48 c4 95 90 14 12 6a 6e 8a 84 f1 1d 1a 9e 1c")
        );
    }

    /// RC4(SendSessionKey, "test message") from RFC 3079 §3.5.1-§3.5.3.
    fn rfc3079_check(key: &str, expected: &str) {
        let mut data = *b"test message";
        Rc4::new(&unhex(key)).apply_keystream(&mut data);
        assert_eq!(data[..], unhex(expected), "key {key}");
    }

    #[test]
    fn rfc3079_test_message() {
        rfc3079_check(
            "D1 26 9E C4 9F A6 2E 3E",
            "92 91 37 91 7E 58 03 D6 68 D7 58 98",
        );
        // The RFC prints ...57 58; the key it prints gives ...57 B8 (vectors README §3.1).
        rfc3079_check(
            "D1 5C 00 C4 9F A6 2E 3E",
            "3F 10 68 33 FA 44 8D A8 42 BC 57 B8",
        );
        rfc3079_check(
            "40 5C B2 24 7A 79 56 E6 E2 11 00 7A E2 7B 22 D4",
            "81 84 83 17 DF 68 84 62 72 FB 5A BE",
        );
    }

    #[test]
    fn matches_reference_for_every_tested_key_length() {
        let lens = (1..=32).chain([64, 128, 255, 256]);
        for len in lens {
            let key: Vec<u8> = (0..len).map(|k| (k * 151 + len * 7 + 3) as u8).collect();
            let mut ours: Vec<u8> = (0..4000).map(|k| (k % 253) as u8).collect();
            let mut theirs = ours.clone();
            Rc4::new(&key).apply_keystream(&mut ours);
            reference(&key, &mut theirs);
            assert_eq!(ours, theirs, "key length {len}");
        }
    }

    #[test]
    fn longer_key_uses_its_first_256_bytes() {
        let key: Vec<u8> = (0..300).map(|k| (k * 31 + 1) as u8).collect();
        assert_eq!(keystream(&key, 600), keystream(&key[..256], 600));
    }

    #[test]
    fn empty_key_is_the_zero_byte_key() {
        assert_eq!(keystream(&[], 300), keystream(&[0], 300));
    }

    #[test]
    fn rekey_equals_new() {
        let mut rc4 = Rc4::new(b"an old key");
        let mut junk = [0u8; 777];
        rc4.apply_keystream(&mut junk);
        rc4.rekey(&[1, 2, 3, 4, 5]);
        let mut ks = [0u8; 1000];
        rc4.apply_keystream(&mut ks);
        assert_eq!(ks[..], keystream(&[1, 2, 3, 4, 5], 1000));
    }

    #[test]
    fn clone_continues_the_same_stream() {
        let mut a = Rc4::new(b"clone me");
        let mut skip = [0u8; 13];
        a.apply_keystream(&mut skip);
        let mut b = a.clone();
        let (mut x, mut y) = ([0u8; 100], [0u8; 100]);
        a.apply_keystream(&mut x);
        b.apply_keystream(&mut y);
        assert_eq!(x, y);
        assert_eq!(keystream(b"clone me", 113)[13..], x);
    }

    // The block path needs `i + 1` to be a multiple of 16, so a call's
    // byte-wise lead-in depends on where the previous call stopped: every
    // start position 0..=40 with every length 0..=300, then more bytes.
    #[test]
    fn every_start_position_and_length_matches_the_reference() {
        let key = [0x5a, 0x01, 0xc3, 0x77, 0x10, 0xfe, 0x42, 0x99];
        let mut expected = vec![0u8; 40 + 300 + 40];
        reference(&key, &mut expected);
        for start in 0..=40 {
            for len in 0..=300 {
                let mut rc4 = Rc4::new(&key);
                let mut out = vec![0u8; start + len + 40];
                let (head, rest) = out.split_at_mut(start);
                let (middle, tail) = rest.split_at_mut(len);
                rc4.apply_keystream(head);
                rc4.apply_keystream(middle);
                rc4.apply_keystream(tail);
                assert_eq!(
                    out[..],
                    expected[..out.len()],
                    "start {start}, length {len}"
                );
            }
        }
    }

    #[test]
    fn debug_hides_the_state() {
        assert_eq!(format!("{:?}", Rc4::new(b"secret")), "Rc4 { .. }");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn split_calls_match_the_reference(
            key in prop::collection::vec(any::<u8>(), 1..=32),
            data in prop::collection::vec(any::<u8>(), 0..=4000),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            let mut expected = data.clone();
            reference(&key, &mut expected);

            let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1)).collect();
            cuts.push(data.len());
            cuts.sort_unstable();
            let mut ours = data;
            let mut rc4 = Rc4::new(&key);
            let mut start = 0;
            for cut in cuts {
                rc4.apply_keystream(&mut ours[start..cut]);
                start = cut;
            }
            prop_assert_eq!(ours, expected);
        }

        // Three calls: a short first one (0..=40 bytes, any alignment of
        // `i`), a middle one of 0..=300 bytes, then the rest.
        #[test]
        fn short_first_call_then_any_length_matches_the_reference(
            key in prop::collection::vec(any::<u8>(), 1..=32),
            first in 0usize..=40,
            middle in 0usize..=300,
            data in prop::collection::vec(any::<u8>(), 340..=400),
        ) {
            let mut expected = data.clone();
            reference(&key, &mut expected);
            let mut ours = data;
            let mut rc4 = Rc4::new(&key);
            let (head, rest) = ours.split_at_mut(first);
            let (mid, tail) = rest.split_at_mut(middle);
            rc4.apply_keystream(head);
            rc4.apply_keystream(mid);
            rc4.apply_keystream(tail);
            prop_assert_eq!(ours, expected);
        }

        // The key schedule: in place over any earlier state, for MPPE's 8-
        // and 16-byte fast paths and every other length the reference has.
        #[test]
        fn rekey_in_place_matches_the_reference(
            old in prop::collection::vec(any::<u8>(), 1..=32),
            skip in 0usize..600,
            len in prop::sample::select(
                (1usize..=32).chain([64, 128, 255, 256]).collect::<Vec<_>>()
            ),
            key_seed in any::<u64>(),
            data in prop::collection::vec(any::<u8>(), 0..=1500),
        ) {
            let key: Vec<u8> = (0..len as u64)
                .map(|k| (key_seed.rotate_left((k % 64) as u32) ^ k.wrapping_mul(0x9e37)) as u8)
                .collect();
            let mut expected = data.clone();
            reference(&key, &mut expected);
            let mut rc4 = Rc4::new(&old);
            let mut junk = vec![0u8; skip];
            rc4.apply_keystream(&mut junk);
            rc4.rekey(&key);
            let mut ours = data;
            rc4.apply_keystream(&mut ours);
            prop_assert_eq!(ours, expected);
        }
    }
}
