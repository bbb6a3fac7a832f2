//! CHAP with MD5 (RFC 1994 §4.1): Response = MD5(Identifier ‖ secret ‖
//! Challenge).

use md5::{Digest as _, Md5};
use subtle::ConstantTimeEq;

use super::Password;

/// The 16-octet CHAP-MD5 Response value.
pub fn response(identifier: u8, secret: &Password, challenge: &[u8]) -> [u8; 16] {
    response_raw(identifier, secret.as_bytes(), challenge)
}

/// [`response`] with the secret as raw octets.
pub fn response_raw(identifier: u8, secret: &[u8], challenge: &[u8]) -> [u8; 16] {
    Md5::new()
        .chain_update([identifier])
        .chain_update(secret)
        .chain_update(challenge)
        .finalize()
        .into()
}

/// Authenticator side: whether `received` is the right Response value.
/// Constant-time compare.
pub fn verify(identifier: u8, secret: &Password, challenge: &[u8], received: &[u8]) -> bool {
    response(identifier, secret, challenge)
        .as_slice()
        .ct_eq(received)
        .into()
}
