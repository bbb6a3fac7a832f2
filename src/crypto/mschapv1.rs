//! MS-CHAPv1 (RFC 2433): the peer's 49-octet response and its check.

use subtle::ConstantTimeEq;

use super::mschap::{lm_challenge_response, nt_challenge_response, nt_password_hash};
use super::{LmHash, NtHash, Password};

/// Length of the MS-CHAPv1 Response value (RFC 2433 §3).
pub const RESPONSE_LEN: usize = 49;

/// The MS-CHAPv1 Response value: LM-Response (24), NT-Response (24) and the
/// "use NT" flag (RFC 2433 §3). The LM part is all zeros, as pppd sends by
/// default: the LM response is weak and RFC 2433 allows leaving it out.
pub fn peer_response(challenge: &[u8; 8], password: &Password) -> [u8; RESPONSE_LEN] {
    peer_response_from_hash(challenge, &nt_password_hash(password), None)
}

/// Like [`peer_response`] from the NT hash; with `lm_hash` the LM-Response
/// is filled in too.
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
pub fn verify(challenge: &[u8; 8], response: &[u8], nt_hash: &NtHash) -> bool {
    let (Some(nt), Some(&1)) = (response.get(24..48), response.get(48)) else {
        return false;
    };
    if response.len() != RESPONSE_LEN {
        return false;
    }
    nt_challenge_response(challenge, nt_hash).ct_eq(nt).into()
}
