//! MS-CHAP, CHAP-MD5 and MPPE key derivation, as pure functions.
//!
//! - [`mschap`]: the RFC 2433 / RFC 2759 building blocks (`NtPasswordHash`,
//!   `ChallengeHash`, `ChallengeResponse`, `GenerateNTResponse`,
//!   `GenerateAuthenticatorResponse`, …), named after the RFC pseudo-code.
//! - [`mschapv2`] and [`mschapv1`]: the easy API for each end, and the
//!   MS-CHAPv2 change-password encryption.
//! - [`chap_md5`]: CHAP with MD5 (RFC 1994).
//! - [`key_derivation`]: MPPE start and session keys (RFC 3079) for 40-,
//!   56- and 128-bit keys, and the rekeying step of RFC 3078.
//!
//! Random inputs (the peer challenge, the change-password fill) are
//! parameters: the crate draws no randomness of its own.
//!
//! Secrets ([`Password`], [`NtHash`], [`LmHash`], [`NtHashHash`],
//! [`MasterKey`], [`SessionKey`], [`MppeKeys`]) are zeroized when dropped,
//! print `<redacted>` in `Debug`, have no `Display`, and compare in constant
//! time.
//!
//! ```
//! use pptp_proto::crypto::{mppe_keys_mschapv2, mschapv2, Password, Role};
//! # fn main() -> Result<(), pptp_proto::crypto::Error> {
//! let password = Password::new("clientPass")?;
//! let auth_challenge = [0x5B; 16]; // from the authenticator's Challenge
//! let peer_challenge = [0x21; 16]; // random, chosen by the peer
//! let (nt_response, expected) =
//!     mschapv2::peer_response(&auth_challenge, &peer_challenge, b"User", &password);
//!
//! // The authenticator checks the response and answers with `expected`.
//! let nt_hash = pptp_proto::crypto::nt_password_hash(&password);
//! let answer = mschapv2::verify(&auth_challenge, &peer_challenge, b"User", &nt_response, &nt_hash);
//! assert_eq!(answer, Some(expected));
//!
//! // Both ends derive the MPPE start keys; one's send key is the other's receive key.
//! let client = mppe_keys_mschapv2(&nt_hash, &nt_response, Role::Peer);
//! let server = mppe_keys_mschapv2(&nt_hash, &nt_response, Role::Authenticator);
//! assert_eq!(client.send, server.recv);
//! # Ok(()) }
//! ```

pub mod chap_md5;
mod des;
pub mod key_derivation;
pub mod mschap;
pub mod mschapv1;
pub mod mschapv2;
mod secret;

pub use self::des::{challenge_response, parity_expand};
pub use key_derivation::{
    mppe_keys_mschapv1, mppe_keys_mschapv1_lm, mppe_keys_mschapv2, KeyLength, Role,
};
pub use mschap::{
    challenge_hash, hash_nt_password_hash, lm_password_hash, nt_password_hash, strip_domain,
    AuthenticatorResponse,
};
pub use secret::{
    LmHash, MasterKey, MppeKeys, NtHash, NtHashHash, Password, SessionKey, MAX_PASSWORD_UNITS,
};

/// Errors from the crypto helpers.
///
/// # Example
///
/// ```
/// use pptp_proto::crypto::mschapv2::{decrypt_pw_block_with_password_hash, PW_BLOCK_LEN};
/// use pptp_proto::crypto::{Error, NtHash, Password};
///
/// let long = "x".repeat(300);
/// assert_eq!(Password::new(&long).unwrap_err(), Error::PasswordTooLong { units: 300 });
///
/// // A password block that decrypts to a length field of 0xFFFFFFFF.
/// let hash = NtHash::from_bytes([0; 16]);
/// let mut block = [0u8; PW_BLOCK_LEN];
/// pptp_proto::rc4::Rc4::new(hash.as_bytes()).apply_keystream(&mut block);
/// for b in &mut block[512..] { *b = !*b; }
/// let err = decrypt_pw_block_with_password_hash(&block, &hash).unwrap_err();
/// assert_eq!(err, Error::BadPasswordBlock);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A password longer than RFC 2759 allows (256 UTF-16 code units).
    #[error("password has {units} UTF-16 code units, more than 256")]
    PasswordTooLong {
        /// The password's length in UTF-16 code units.
        units: usize,
    },
    /// A decrypted MS-CHAPv2 password block has an impossible length or a
    /// password that is not valid UTF-16 (wrong key or corrupt block).
    #[error("malformed MS-CHAPv2 password block")]
    BadPasswordBlock,
}
