//! MS-CHAPv2 (RFC 2759): the easy API for both ends, and the
//! change-password encryption (RFC 2759 §8.9–§8.13).
//!
//! # Example
//!
//! A password change (RFC 2759 §7): the peer encrypts the new password
//! with the old password's hash, the authenticator decrypts it with the
//! hash it stores.
//!
//! ```
//! use pptp_proto::crypto::mschapv2::{
//!     decrypt_pw_block_with_password_hash, new_password_encrypted_with_old_nt_password_hash,
//!     old_nt_password_hash_encrypted_with_new_nt_password_hash,
//! };
//! use pptp_proto::crypto::{nt_password_hash, Password};
//!
//! let (old, new) = (Password::new("clientPass")?, Password::new("n3w-Pässwort")?);
//! let random_fill = [0x5A; 512]; // use 512 random octets
//! let block = new_password_encrypted_with_old_nt_password_hash(&new, &old, &random_fill);
//! let encrypted_hash = old_nt_password_hash_encrypted_with_new_nt_password_hash(&new, &old);
//!
//! let stored = nt_password_hash(&old); // the authenticator's copy
//! let decrypted = decrypt_pw_block_with_password_hash(&block, &stored)?;
//! assert_eq!(decrypted.as_str(), "n3w-Pässwort");
//! let check = old_nt_password_hash_encrypted_with_new_nt_password_hash(&decrypted, &old);
//! assert_eq!(check, encrypted_hash);
//! # Ok::<(), pptp_proto::crypto::Error>(())
//! ```

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::des::des_encrypt;
use super::mschap::{
    generate_authenticator_response, generate_nt_response, nt_password_hash, AuthenticatorResponse,
};
use super::secret::MAX_PASSWORD_UNITS;
use super::{Error, NtHash, Password};
use crate::rc4::Rc4;

/// Length of the encrypted password block (RFC 2759 §8.10 `PW_BLOCK`).
pub const PW_BLOCK_LEN: usize = 516;

/// Peer side: the NT-Response to send and the authenticator response the
/// peer must then receive (RFC 2759 §8.1, §8.7). `peer_challenge` is 16
/// random octets chosen by the caller.
///
/// # Example
///
/// RFC 2759 §9.2:
///
/// ```
/// use pptp_proto::crypto::{mschapv2, Password};
/// # fn bytes<const N: usize>(h: &str) -> [u8; N] { hex::decode(h).unwrap().try_into().unwrap() }
///
/// let auth_challenge = bytes("5B5D7C7D7B3F2F3E3C2C602132262628");
/// let peer_challenge = bytes("21402324255E262A28295F2B3A337C7E"); // random
/// let password = Password::new("clientPass")?;
/// let (nt_response, expected) = mschapv2::peer_response(&auth_challenge, &peer_challenge, b"User", &password);
/// assert_eq!(hex::encode_upper(nt_response), "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF");
/// assert_eq!(&expected.to_ascii(), b"S=407A5589115FD0D6209F510FE9C04566932CDA56");
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn peer_response(
    authenticator_challenge: &[u8; 16],
    peer_challenge: &[u8; 16],
    user_name: &[u8],
    password: &Password,
) -> ([u8; 24], AuthenticatorResponse) {
    peer_response_from_hash(
        authenticator_challenge,
        peer_challenge,
        user_name,
        &nt_password_hash(password),
    )
}

/// [`peer_response`] from the NT hash.
///
/// # Example
///
/// A response from the FreeRADIUS tests (user `example\john`, password
/// "secret"); the domain is not hashed:
///
/// ```
/// use pptp_proto::crypto::{mschapv2, nt_password_hash, Password};
/// # fn bytes<const N: usize>(h: &str) -> [u8; N] { hex::decode(h).unwrap().try_into().unwrap() }
///
/// let nt_hash = nt_password_hash(&Password::new("secret")?);
/// let auth_challenge = bytes("16d2833f4239256dd2b2bb26f2ecb2a3");
/// let peer_challenge = bytes("502feeee9495a353cddbd1efc4007282");
/// let (nt_response, expected) =
///     mschapv2::peer_response_from_hash(&auth_challenge, &peer_challenge, b"example\\john", &nt_hash);
/// assert_eq!(hex::encode(nt_response), "e866286bb30d0215ed16cf425b6a29d206667a9853e23ca4");
/// assert_eq!(&expected.to_ascii(), b"S=68649B6763301DD65FC2559F2D172943196EA88A");
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn peer_response_from_hash(
    authenticator_challenge: &[u8; 16],
    peer_challenge: &[u8; 16],
    user_name: &[u8],
    nt_hash: &NtHash,
) -> ([u8; 24], AuthenticatorResponse) {
    let nt_response =
        generate_nt_response(authenticator_challenge, peer_challenge, user_name, nt_hash);
    let auth = generate_authenticator_response(
        nt_hash,
        &nt_response,
        peer_challenge,
        authenticator_challenge,
        user_name,
    );
    (nt_response, auth)
}

/// Authenticator side: checks the peer's NT-Response in constant time and,
/// if it is right, returns the authenticator response to send in the
/// Success packet (`S=…`).
///
/// # Example
///
/// RFC 2759 §9.2:
///
/// ```
/// use pptp_proto::crypto::{mschapv2, nt_password_hash, Password};
/// # fn bytes<const N: usize>(h: &str) -> [u8; N] { hex::decode(h).unwrap().try_into().unwrap() }
///
/// let auth_challenge = bytes("5B5D7C7D7B3F2F3E3C2C602132262628");
/// let peer_challenge = bytes("21402324255E262A28295F2B3A337C7E");
/// let nt_response = bytes("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF");
/// let nt_hash = nt_password_hash(&Password::new("clientPass")?);
/// let answer = mschapv2::verify(&auth_challenge, &peer_challenge, b"User", &nt_response, &nt_hash);
/// assert_eq!(&answer.unwrap().to_ascii(), b"S=407A5589115FD0D6209F510FE9C04566932CDA56");
///
/// let wrong = nt_password_hash(&Password::new("clientpass")?);
/// assert!(mschapv2::verify(&auth_challenge, &peer_challenge, b"User", &nt_response, &wrong).is_none());
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn verify(
    authenticator_challenge: &[u8; 16],
    peer_challenge: &[u8; 16],
    user_name: &[u8],
    nt_response: &[u8; 24],
    nt_hash: &NtHash,
) -> Option<AuthenticatorResponse> {
    let expected =
        generate_nt_response(authenticator_challenge, peer_challenge, user_name, nt_hash);
    if !bool::from(expected.ct_eq(nt_response)) {
        return None;
    }
    Some(generate_authenticator_response(
        nt_hash,
        nt_response,
        peer_challenge,
        authenticator_challenge,
        user_name,
    ))
}

/// `NewPasswordEncryptedWithOldNtPasswordHash` (RFC 2759 §8.9).
/// `random_fill` is 512 random octets that pad the block in front of the
/// password (the crate draws no randomness itself). The authenticator
/// reads it with [`decrypt_pw_block_with_password_hash`]; see the
/// [module example](self#example).
pub fn new_password_encrypted_with_old_nt_password_hash(
    new_password: &Password,
    old_password: &Password,
    random_fill: &[u8; 512],
) -> [u8; PW_BLOCK_LEN] {
    encrypt_pw_block_with_password_hash(new_password, &nt_password_hash(old_password), random_fill)
}

/// `EncryptPwBlockWithPasswordHash` (RFC 2759 §8.10): the UTF-16LE password
/// at the end of a 512-octet random block, its octet length as a
/// little-endian u32, all RC4-encrypted with the hash.
///
/// # Example
///
/// ```
/// use pptp_proto::crypto::mschapv2::encrypt_pw_block_with_password_hash;
/// use pptp_proto::crypto::{NtHash, Password};
/// use pptp_proto::rc4::Rc4;
///
/// let key = NtHash::from_bytes([0x11; 16]);
/// let mut block = encrypt_pw_block_with_password_hash(&Password::new("Ab")?, &key, &[0xEE; 512]);
/// Rc4::new(key.as_bytes()).apply_keystream(&mut block); // decrypt
/// assert_eq!(block[508..], [b'A', 0, b'b', 0, 4, 0, 0, 0]); // UTF-16LE, then its length
/// assert!(block[..508].iter().all(|&b| b == 0xEE));
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn encrypt_pw_block_with_password_hash(
    password: &Password,
    password_hash: &NtHash,
    random_fill: &[u8; 512],
) -> [u8; PW_BLOCK_LEN] {
    let mut block = [0u8; PW_BLOCK_LEN];
    block[..512].copy_from_slice(random_fill);
    // At most 256 units (enforced by `Password`), so this fits.
    let units = password.utf16_len().min(MAX_PASSWORD_UNITS);
    let offset = 512 - 2 * units;
    for (pair, unit) in block[offset..512].chunks_exact_mut(2).zip(password.utf16()) {
        pair.copy_from_slice(&unit.to_le_bytes());
    }
    block[512..].copy_from_slice(&((2 * units) as u32).to_le_bytes());
    Rc4::new(password_hash.as_bytes()).apply_keystream(&mut block);
    block
}

/// Authenticator side of §8.10: decrypts a password block with the old NT
/// hash and returns the new password. Fails on an impossible length or a
/// password that is not valid UTF-16.
///
/// # Example
///
/// ```
/// use pptp_proto::crypto::mschapv2::{
///     decrypt_pw_block_with_password_hash, encrypt_pw_block_with_password_hash,
/// };
/// use pptp_proto::crypto::{nt_password_hash, Error, Password};
///
/// let old_hash = nt_password_hash(&Password::new("clientPass")?);
/// let new = Password::new("n3w-Pässwort")?;
/// let block = encrypt_pw_block_with_password_hash(&new, &old_hash, &[0x5A; 512]);
/// assert_eq!(decrypt_pw_block_with_password_hash(&block, &old_hash), Ok(new));
///
/// let wrong_hash = nt_password_hash(&Password::new("wrong")?);
/// assert_eq!(decrypt_pw_block_with_password_hash(&block, &wrong_hash), Err(Error::BadPasswordBlock));
/// # Ok::<(), Error>(())
/// ```
pub fn decrypt_pw_block_with_password_hash(
    encrypted: &[u8; PW_BLOCK_LEN],
    password_hash: &NtHash,
) -> Result<Password, Error> {
    let mut block = *encrypted;
    Rc4::new(password_hash.as_bytes()).apply_keystream(&mut block);
    let result = password_from_clear_block(&block);
    block.zeroize();
    result
}

fn password_from_clear_block(block: &[u8; PW_BLOCK_LEN]) -> Result<Password, Error> {
    let mut len_bytes = [0u8; 4];
    len_bytes.copy_from_slice(&block[512..]);
    let len = u32::from_le_bytes(len_bytes);
    let len = usize::try_from(len).map_err(|_| Error::BadPasswordBlock)?;
    if len > 512 || len % 2 != 0 {
        return Err(Error::BadPasswordBlock);
    }
    let units = block[512 - len..512]
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]));
    let mut utf8 = [0u8; 3 * MAX_PASSWORD_UNITS];
    let mut n = 0;
    for c in char::decode_utf16(units) {
        let c = c.map_err(|_| Error::BadPasswordBlock)?;
        let dst = utf8.get_mut(n..).ok_or(Error::BadPasswordBlock)?;
        n += c.encode_utf8(dst).len();
    }
    let text = core::str::from_utf8(utf8.get(..n).unwrap_or_default());
    let password = text
        .map_err(|_| Error::BadPasswordBlock)
        .and_then(Password::new);
    utf8.zeroize();
    password
}

/// `OldNtPasswordHashEncryptedWithNewNtPasswordHash` (RFC 2759 §8.12).
///
/// # Example
///
/// ```
/// use pptp_proto::crypto::mschapv2::old_nt_password_hash_encrypted_with_new_nt_password_hash;
/// use pptp_proto::crypto::Password;
///
/// let (new, old) = (Password::new("MyPw")?, Password::new("clientPass")?);
/// let encrypted = old_nt_password_hash_encrypted_with_new_nt_password_hash(&new, &old);
/// assert_eq!(hex::encode(encrypted), "6f69bbe9311fd36714e380e62855261d");
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn old_nt_password_hash_encrypted_with_new_nt_password_hash(
    new_password: &Password,
    old_password: &Password,
) -> [u8; 16] {
    nt_password_hash_encrypted_with_block(
        &nt_password_hash(old_password),
        &nt_password_hash(new_password),
    )
}

/// `NtPasswordHashEncryptedWithBlock` (RFC 2759 §8.13): each half of
/// `password_hash` DES-encrypted with 7 octets of `block`.
///
/// # Example
///
/// The hash of "clientPass" (RFC 2759 §9.2) encrypted with the hash of
/// "MyPw" (RFC 2433 Appendix B.2):
///
/// ```
/// use pptp_proto::crypto::mschapv2::nt_password_hash_encrypted_with_block;
/// use pptp_proto::crypto::NtHash;
/// # fn bytes<const N: usize>(h: &str) -> [u8; N] { hex::decode(h).unwrap().try_into().unwrap() }
///
/// let hash = NtHash::from_bytes(bytes("44EBBA8D5312B8D611474411F56989AE"));
/// let block = NtHash::from_bytes(bytes("FC156AF7EDCD6C0EDDE3337D427F4EAC"));
/// let encrypted = nt_password_hash_encrypted_with_block(&hash, &block);
/// assert_eq!(hex::encode(encrypted), "6f69bbe9311fd36714e380e62855261d");
/// ```
pub fn nt_password_hash_encrypted_with_block(password_hash: &NtHash, block: &NtHash) -> [u8; 16] {
    let h = password_hash.as_bytes();
    let b = block.as_bytes();
    let mut out = [0u8; 16];
    for i in 0..2 {
        let mut clear = [0u8; 8];
        clear.copy_from_slice(&h[8 * i..8 * i + 8]);
        let mut key = [0u8; 7];
        key.copy_from_slice(&b[7 * i..7 * i + 7]);
        out[8 * i..8 * i + 8].copy_from_slice(&des_encrypt(&clear, &key));
        clear.zeroize();
        key.zeroize();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::new(s).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn password_block_round_trip() {
        let fill: [u8; 512] = core::array::from_fn(|i| (i * 7) as u8);
        let old = pw("clientPass");
        for new in ["", "n3w-Pässwörd", &"€".repeat(256)] {
            let new = pw(new);
            let block = new_password_encrypted_with_old_nt_password_hash(&new, &old, &fill);
            let got = decrypt_pw_block_with_password_hash(&block, &nt_password_hash(&old));
            assert_eq!(got, Ok(new.clone()));
            // The wrong hash yields garbage, almost surely an error or another password.
            let wrong = decrypt_pw_block_with_password_hash(&block, &nt_password_hash(&new));
            assert_ne!(wrong, Ok(new));
        }
    }

    #[test]
    fn clear_block_layout() {
        // With an all-zero hash key RC4 is still applied; check the layout
        // by decrypting with the same key.
        let fill = [0xEEu8; 512];
        let hash = NtHash::from_bytes([0x11; 16]);
        let mut block = encrypt_pw_block_with_password_hash(&pw("Ab"), &hash, &fill);
        Rc4::new(hash.as_bytes()).apply_keystream(&mut block);
        assert_eq!(&block[508..512], &[b'A', 0, b'b', 0]);
        assert_eq!(&block[512..], &[4, 0, 0, 0]);
        assert!(block[..508].iter().all(|&b| b == 0xEE));
    }

    #[test]
    fn bad_blocks_are_errors() {
        let hash = NtHash::from_bytes([0x22; 16]);
        let mut clear = [0u8; PW_BLOCK_LEN];
        clear[512..].copy_from_slice(&513u32.to_le_bytes());
        let mut enc = clear;
        Rc4::new(hash.as_bytes()).apply_keystream(&mut enc);
        assert_eq!(
            decrypt_pw_block_with_password_hash(&enc, &hash),
            Err(Error::BadPasswordBlock)
        );
        // A lone surrogate is not a password.
        clear[510..512].copy_from_slice(&0xD800u16.to_le_bytes());
        clear[512..].copy_from_slice(&2u32.to_le_bytes());
        let mut enc = clear;
        Rc4::new(hash.as_bytes()).apply_keystream(&mut enc);
        assert_eq!(
            decrypt_pw_block_with_password_hash(&enc, &hash),
            Err(Error::BadPasswordBlock)
        );
    }

    #[test]
    fn old_hash_encryption_matches_des_halves() {
        let old = pw("old");
        let new = pw("new");
        let out = old_nt_password_hash_encrypted_with_new_nt_password_hash(&new, &old);
        let h = nt_password_hash(&old);
        let n = nt_password_hash(&new);
        let mut k = [0u8; 7];
        k.copy_from_slice(&n.as_bytes()[..7]);
        let mut c = [0u8; 8];
        c.copy_from_slice(&h.as_bytes()[..8]);
        assert_eq!(&out[..8], &des_encrypt(&c, &k));
        assert_ne!(&out[8..], &[0u8; 8]);
    }
}
