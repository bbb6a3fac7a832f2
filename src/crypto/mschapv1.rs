//! MS-CHAPv1 (RFC 2433): the peer's 49-octet response and its check.
//!
//! # Example
//!
//! ```
//! use pptp_proto::crypto::{mschapv1, nt_password_hash, Password};
//!
//! let password = Password::new("MyPw")?;
//! let challenge = [0x10, 0x2D, 0xB5, 0xDF, 0x08, 0x5D, 0x30, 0x41]; // from the authenticator
//! let response = mschapv1::peer_response(&challenge, &password);
//! assert!(mschapv1::verify(&challenge, &response, &nt_password_hash(&password)));
//! # Ok::<(), pptp_proto::crypto::Error>(())
//! ```

use subtle::ConstantTimeEq;

use super::mschap::{lm_challenge_response, nt_challenge_response, nt_password_hash};
use super::{LmHash, NtHash, Password};

/// Length of the MS-CHAPv1 Response value (RFC 2433 §3).
pub const RESPONSE_LEN: usize = 49;

/// The MS-CHAPv1 Response value: LM-Response (24), NT-Response (24) and the
/// "use NT" flag (RFC 2433 §3). The LM part is all zeros, as pppd sends by
/// default: the LM response is weak and RFC 2433 allows leaving it out.
///
/// # Example
///
/// RFC 2433 Appendix B.2, as pppd's `test_chap_v1` checks it:
///
/// ```
/// use pptp_proto::crypto::{mschapv1, Password};
///
/// let challenge = [0x10, 0x2D, 0xB5, 0xDF, 0x08, 0x5D, 0x30, 0x41];
/// let response = mschapv1::peer_response(&challenge, &Password::new("MyPw")?);
/// assert_eq!(response[..24], [0; 24]);
/// assert_eq!(hex::encode_upper(&response[24..48]), "4E9D3C8F9CFD385D5BF4D3246791956CA4C351AB409A3D61");
/// assert_eq!(response[48], 1);
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn peer_response(challenge: &[u8; 8], password: &Password) -> [u8; RESPONSE_LEN] {
    peer_response_from_hash(challenge, &nt_password_hash(password), None)
}

/// Like [`peer_response`] from the NT hash; with `lm_hash` the LM-Response
/// is filled in too.
///
/// # Example
///
/// ```
/// use pptp_proto::crypto::mschap::{lm_challenge_response, nt_challenge_response};
/// use pptp_proto::crypto::{lm_password_hash, mschapv1, nt_password_hash, Password};
///
/// let password = Password::new("clientPass")?;
/// let (nt_hash, lm_hash) = (nt_password_hash(&password), lm_password_hash(&password).unwrap());
/// let challenge = [0x10, 0x2D, 0xB5, 0xDF, 0x08, 0x5D, 0x30, 0x41];
/// let response = mschapv1::peer_response_from_hash(&challenge, &nt_hash, Some(&lm_hash));
/// assert_eq!(response[..24], lm_challenge_response(&challenge, &lm_hash));
/// assert_eq!(response[24..48], nt_challenge_response(&challenge, &nt_hash));
/// assert_eq!(response, mschapv1::peer_response_from_hash(&challenge, &nt_hash, Some(&lm_hash)));
/// assert_eq!(response[24..], mschapv1::peer_response(&challenge, &password)[24..]);
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn peer_response_from_hash(
    challenge: &[u8; 8],
    nt_hash: &NtHash,
    lm_hash: Option<&LmHash>,
) -> [u8; RESPONSE_LEN] {
    let mut out = [0u8; RESPONSE_LEN];
    if let Some(lm) = lm_hash {
        out[..24].copy_from_slice(&lm_challenge_response(challenge, lm));
    }
    out[24..48].copy_from_slice(&nt_challenge_response(challenge, nt_hash));
    // RFC 2433 §3: flag 1 = use the NT-Response.
    out[48] = 1;
    out
}

/// Authenticator side: whether `response` (the 49-octet Response value)
/// proves knowledge of the password. Only the NT-Response is accepted
/// (flag 1); an LM-only response (flag 0) is refused. Constant-time compare.
///
/// # Example
///
/// A response from the FreeRADIUS tests (user "bob", password "bob"):
///
/// ```
/// use pptp_proto::crypto::{mschapv1, nt_password_hash, Password};
///
/// let challenge = [0xb9, 0x63, 0x4a, 0xdc, 0x35, 0x8b, 0x2a, 0xb3];
/// let mut response = [0u8; 49]; // LM-Response (zeros), NT-Response, flag
/// response[24..48].copy_from_slice(&hex::decode("7a42408782f745ef90a86fd21b0d9294132750f4af66a419").unwrap());
/// response[48] = 1;
/// let nt_hash = nt_password_hash(&Password::new("bob")?);
/// assert!(mschapv1::verify(&challenge, &response, &nt_hash));
/// assert!(!mschapv1::verify(&challenge, &response, &nt_password_hash(&Password::new("Bob")?)));
/// response[48] = 0; // "use the LM-Response"
/// assert!(!mschapv1::verify(&challenge, &response, &nt_hash));
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn verify(challenge: &[u8; 8], response: &[u8], nt_hash: &NtHash) -> bool {
    let (Some(nt), Some(&1)) = (response.get(24..48), response.get(48)) else {
        return false;
    };
    if response.len() != RESPONSE_LEN {
        return false;
    }
    nt_challenge_response(challenge, nt_hash).ct_eq(nt).into()
}
