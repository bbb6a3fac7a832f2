//! CHAP with MD5 (RFC 1994 §4.1): Response = MD5(Identifier ‖ secret ‖
//! Challenge).
//!
//! # Example
//!
//! The authenticator sends a Challenge with an Identifier; the peer answers
//! with [`response`], which the authenticator checks with [`verify`].
//!
//! ```
//! use pptp_proto::crypto::{chap_md5, Password};
//!
//! let secret = Password::new("hashcat")?;
//! let (identifier, challenge) = (0x01, [0x42u8; 16]);
//! let answer = chap_md5::response(identifier, &secret, &challenge);
//! assert!(chap_md5::verify(identifier, &secret, &challenge, &answer));
//! assert!(!chap_md5::verify(identifier + 1, &secret, &challenge, &answer));
//! # Ok::<(), pptp_proto::crypto::Error>(())
//! ```

use md5::{Digest as _, Md5};
use subtle::ConstantTimeEq;

use super::Password;

/// The 16-octet CHAP-MD5 Response value.
///
/// # Example
///
/// A vector from hashcat (mode 4800), secret "hashcat":
///
/// ```
/// use pptp_proto::crypto::{chap_md5, Password};
///
/// let challenge = hex::decode("01020304050607080910111213141516").unwrap();
/// let answer = chap_md5::response(0x01, &Password::new("hashcat")?, &challenge);
/// assert_eq!(hex::encode(answer), "afd09efdd6f8ca9f18ec77c5869788c3");
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn response(identifier: u8, secret: &Password, challenge: &[u8]) -> [u8; 16] {
    response_raw(identifier, secret.as_bytes(), challenge)
}

/// [`response`] with the secret as raw octets.
///
/// # Example
///
/// A vector from hashcat (mode 4800), secret "hashcat":
///
/// ```
/// use pptp_proto::crypto::chap_md5;
///
/// let challenge = hex::decode("35343534373533343633383832343736").unwrap();
/// let answer = chap_md5::response_raw(0xDC, b"hashcat", &challenge);
/// assert_eq!(hex::encode(answer), "aa4aaa1d52319525023c06a4873f4c51");
/// ```
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
///
/// # Example
///
/// ```
/// use pptp_proto::crypto::{chap_md5, Password};
///
/// let secret = Password::new("hashcat")?;
/// let challenge = hex::decode("01020304050607080910111213141516").unwrap();
/// let received = hex::decode("afd09efdd6f8ca9f18ec77c5869788c3").unwrap();
/// assert!(chap_md5::verify(0x01, &secret, &challenge, &received));
/// assert!(!chap_md5::verify(0x02, &secret, &challenge, &received));
/// assert!(!chap_md5::verify(0x01, &secret, &challenge, &received[..15]));
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn verify(identifier: u8, secret: &Password, challenge: &[u8], received: &[u8]) -> bool {
    response(identifier, secret, challenge)
        .as_slice()
        .ct_eq(received)
        .into()
}
