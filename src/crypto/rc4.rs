//! A small wrapper around the RC4 stream cipher, so that a faster RC4 can
//! replace the `rc4` crate later without touching its users.

use core::fmt;

use rc4::cipher::generic_array::GenericArray;
use rc4::consts::{U16, U8};
use rc4::{KeyInit, StreamCipher};

/// RC4 keyed with 8 octets (40/56-bit MPPE) or 16 octets (128-bit MPPE,
/// MS-CHAPv2 password blocks). Its state is zeroized on drop.
pub(crate) enum Rc4 {
    /// 8-octet key.
    Short(rc4::Rc4<U8>),
    /// 16-octet key.
    Long(rc4::Rc4<U16>),
}

impl Rc4 {
    /// RC4 keyed with the first 8 octets of `key`.
    pub(crate) fn new_short(key: &[u8; 8]) -> Self {
        Self::Short(rc4::Rc4::new(GenericArray::from_slice(key)))
    }

    /// RC4 keyed with all 16 octets of `key`.
    pub(crate) fn new_long(key: &[u8; 16]) -> Self {
        Self::Long(rc4::Rc4::new(GenericArray::from_slice(key)))
    }

    /// RC4 keyed with the first `len` octets of `key`: 16 means the whole
    /// key, anything else the first 8 octets.
    pub(crate) fn new(key: &[u8; 16], len: usize) -> Self {
        if len == 16 {
            Self::new_long(key)
        } else {
            let mut short = [0u8; 8];
            short.copy_from_slice(&key[..8]);
            let rc4 = Self::new_short(&short);
            zeroize::Zeroize::zeroize(&mut short);
            rc4
        }
    }

    /// XORs the next keystream octets into `data` (encrypts or decrypts).
    pub(crate) fn apply(&mut self, data: &mut [u8]) {
        match self {
            Self::Short(c) => c.apply_keystream(data),
            Self::Long(c) => c.apply_keystream(data),
        }
    }
}

impl fmt::Debug for Rc4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Rc4(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6229 §2, key 0x0102030405060708 and the 128-bit key, offset 0.
    #[test]
    fn rfc6229_keystreams() {
        let mut a = [0u8; 16];
        Rc4::new_short(&[1, 2, 3, 4, 5, 6, 7, 8]).apply(&mut a);
        assert_eq!(
            a,
            [
                0x97, 0xab, 0x8a, 0x1b, 0xf0, 0xaf, 0xb9, 0x61, 0x32, 0xf2, 0xf6, 0x72, 0x58, 0xda,
                0x15, 0xa8
            ]
        );
        let key: [u8; 16] = core::array::from_fn(|i| (i + 1) as u8);
        let mut b = [0u8; 16];
        Rc4::new_long(&key).apply(&mut b);
        assert_eq!(
            b,
            [
                0x9a, 0xc7, 0xcc, 0x9a, 0x60, 0x9d, 0x1e, 0xf7, 0xb2, 0x93, 0x28, 0x99, 0xcd, 0xe4,
                0x1b, 0x97
            ]
        );
    }
}
