//! Single-DES as MS-CHAP uses it: 7-octet keys expanded with parity bits
//! (RFC 2759 §8.6, §9.3).

use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockEncrypt, KeyInit};
use zeroize::Zeroize;

/// Spreads 56 key bits over 8 octets, 7 bits each, and sets each octet's
/// low bit for odd parity (RFC 2759 §9.3 shows the expected output).
///
/// # Example
///
/// The first DES key of RFC 2759 §9.3:
///
/// ```
/// use pptp_proto::crypto::parity_expand;
///
/// let key = parity_expand(&[0xFC, 0x15, 0x6A, 0xF7, 0xED, 0xCD, 0x6C]);
/// assert_eq!(key, [0xFD, 0x0B, 0x5B, 0x5E, 0x7F, 0x6E, 0x34, 0xD9]);
/// assert!(key.iter().all(|b| b.count_ones() % 2 == 1));
/// ```
pub fn parity_expand(key: &[u8; 7]) -> [u8; 8] {
    let mut bits = 0u64;
    for &b in key {
        bits = (bits << 8) | u64::from(b);
    }
    let mut out = [0u8; 8];
    for (i, o) in out.iter_mut().enumerate() {
        // Bits 55..49 go to octet 0, 48..42 to octet 1, and so on.
        let seven = ((bits >> (49 - 7 * i)) & 0x7F) as u8;
        let shifted = seven << 1;
        *o = shifted | u8::from(shifted.count_ones() % 2 == 0);
    }
    bits.zeroize();
    out
}

/// `DesEncrypt(Clear, Key)` of RFC 2759 §8.6 with a 7-octet key.
pub(crate) fn des_encrypt(clear: &[u8; 8], key: &[u8; 7]) -> [u8; 8] {
    let mut key8 = parity_expand(key);
    let cipher = des::Des::new(GenericArray::from_slice(&key8));
    key8.zeroize();
    let mut block = GenericArray::clone_from_slice(clear);
    cipher.encrypt_block(&mut block);
    block.into()
}

/// `ChallengeResponse(Challenge, PasswordHash)` (RFC 2759 §8.5,
/// RFC 2433 §A.5): the hash, zero-padded to 21 octets, is three DES keys
/// that each encrypt the 8-octet challenge.
///
/// # Example
///
/// The NT response of RFC 2433 Appendix B.2 (password "MyPw"):
///
/// ```
/// use pptp_proto::crypto::challenge_response;
///
/// let challenge = [0x10, 0x2D, 0xB5, 0xDF, 0x08, 0x5D, 0x30, 0x41];
/// let hash: [u8; 16] = hex::decode("FC156AF7EDCD6C0EDDE3337D427F4EAC").unwrap().try_into().unwrap();
/// let response = challenge_response(&challenge, &hash);
/// assert_eq!(hex::encode_upper(response), "4E9D3C8F9CFD385D5BF4D3246791956CA4C351AB409A3D61");
/// ```
pub fn challenge_response(challenge: &[u8; 8], password_hash: &[u8; 16]) -> [u8; 24] {
    let mut z = [0u8; 21];
    z[..16].copy_from_slice(password_hash);
    let mut out = [0u8; 24];
    for (chunk, key) in out.chunks_exact_mut(8).zip(z.chunks_exact(7)) {
        let mut k = [0u8; 7];
        k.copy_from_slice(key);
        chunk.copy_from_slice(&des_encrypt(challenge, &k));
        k.zeroize();
    }
    z.zeroize();
    out
}
