//! The MS-CHAP building blocks of RFC 2433 (v1) and RFC 2759 (v2), named
//! after the RFCs' pseudo-code functions.
//!
//! [`mschapv2`](super::mschapv2) and [`mschapv1`](super::mschapv1) combine
//! them into one call for each end.
//!
//! # Example
//!
//! The MS-CHAPv2 exchange of RFC 2759 §9.2, user "User", password
//! "clientPass":
//!
//! ```
//! use pptp_proto::crypto::mschap::{generate_authenticator_response, generate_nt_response};
//! use pptp_proto::crypto::{nt_password_hash, Password};
//! # fn bytes<const N: usize>(h: &str) -> [u8; N] { hex::decode(h).unwrap().try_into().unwrap() }
//!
//! let auth_challenge = bytes("5B5D7C7D7B3F2F3E3C2C602132262628");
//! let peer_challenge = bytes("21402324255E262A28295F2B3A337C7E");
//! let nt_hash = nt_password_hash(&Password::new("clientPass")?);
//!
//! let nt_response = generate_nt_response(&auth_challenge, &peer_challenge, b"User", &nt_hash);
//! assert_eq!(hex::encode_upper(nt_response), "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF");
//! let auth = generate_authenticator_response(&nt_hash, &nt_response, &peer_challenge, &auth_challenge, b"User");
//! assert_eq!(&auth.to_ascii(), b"S=407A5589115FD0D6209F510FE9C04566932CDA56");
//! # Ok::<(), pptp_proto::crypto::Error>(())
//! ```

use core::fmt;

use md4::{Digest as _, Md4};
use sha1::Sha1;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::des::{challenge_response, des_encrypt};
use super::{LmHash, NtHash, NtHashHash, Password};

/// RFC 2759 §8.7 Magic1.
const AUTH_MAGIC1: &[u8; 39] = b"Magic server to client signing constant";
/// RFC 2759 §8.7 Magic2.
const AUTH_MAGIC2: &[u8; 41] = b"Pad to make it do more than one iteration";
/// RFC 2433 §A.3 StdText.
const LM_STD_TEXT: &[u8; 8] = b"KGS!@#$%";

/// The user name as MS-CHAP hashes it: the part after the last `\`
/// (RFC 2759 §8.2: "excluding any prepended domain name"), as Windows does.
///
/// # Example
///
/// ```
/// use pptp_proto::crypto::strip_domain;
///
/// assert_eq!(strip_domain(b"EXAMPLE\\bob"), b"bob");
/// assert_eq!(strip_domain(b"bob"), b"bob");
/// ```
pub fn strip_domain(user_name: &[u8]) -> &[u8] {
    match user_name.iter().rposition(|&b| b == b'\\') {
        Some(i) => user_name.get(i + 1..).unwrap_or_default(),
        None => user_name,
    }
}

/// `NtPasswordHash`: MD4 of the UTF-16LE password (RFC 2759 §8.3,
/// errata 1924).
///
/// # Example
///
/// RFC 2759 §9.2:
///
/// ```
/// use pptp_proto::crypto::{nt_password_hash, Password};
///
/// let hash = nt_password_hash(&Password::new("clientPass")?);
/// assert_eq!(hex::encode_upper(hash.as_bytes()), "44EBBA8D5312B8D611474411F56989AE");
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn nt_password_hash(password: &Password) -> NtHash {
    let mut md4 = Md4::new();
    for unit in password.utf16() {
        md4.update(unit.to_le_bytes());
    }
    NtHash::from_bytes(md4.finalize().into())
}

/// `HashNtPasswordHash`: MD4 of the NT hash (RFC 2759 §8.4).
///
/// # Example
///
/// RFC 2759 §9.2:
///
/// ```
/// use pptp_proto::crypto::{hash_nt_password_hash, nt_password_hash, Password};
///
/// let hash = nt_password_hash(&Password::new("clientPass")?);
/// let hash_hash = hash_nt_password_hash(&hash);
/// assert_eq!(hex::encode_upper(hash_hash.as_bytes()), "41C00C584BD2D91C4017A2A12FA59F3F");
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn hash_nt_password_hash(hash: &NtHash) -> NtHashHash {
    NtHashHash::from_bytes(Md4::digest(hash.as_bytes()).into())
}

/// `LmPasswordHash` (RFC 2433 §A.2). `None` when the password has more
/// than 14 characters or a non-ASCII one (the OEM code page is unknown).
///
/// # Example
///
/// A vector from the FreeRADIUS tests:
///
/// ```
/// use pptp_proto::crypto::{lm_password_hash, Password};
///
/// let hash = lm_password_hash(&Password::new("testing_123")?).unwrap();
/// assert_eq!(hex::encode(hash.as_bytes()), "2d5545077d7b7d2ae4343f96ab15c596");
/// assert!(lm_password_hash(&Password::new("fifteen-letters")?).is_none());
/// assert!(lm_password_hash(&Password::new("Pässwort")?).is_none());
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn lm_password_hash(password: &Password) -> Option<LmHash> {
    let bytes = password.as_bytes();
    if bytes.len() > 14 || !bytes.is_ascii() {
        return None;
    }
    let mut upper = [0u8; 14];
    for (u, b) in upper.iter_mut().zip(bytes) {
        *u = b.to_ascii_uppercase();
    }
    let mut out = [0u8; 16];
    for (half, key) in out.chunks_exact_mut(8).zip(upper.chunks_exact(7)) {
        let mut k = [0u8; 7];
        k.copy_from_slice(key);
        half.copy_from_slice(&des_encrypt(LM_STD_TEXT, &k));
        k.zeroize();
    }
    upper.zeroize();
    let hash = LmHash::from_bytes(out);
    out.zeroize();
    Some(hash)
}

/// `ChallengeHash` (RFC 2759 §8.2): the first 8 octets of
/// SHA-1(PeerChallenge ‖ AuthenticatorChallenge ‖ UserName), with any
/// `DOMAIN\` prefix removed from the name.
///
/// # Example
///
/// RFC 2759 §9.2, and a FreeRADIUS vector with a domain:
///
/// ```
/// use pptp_proto::crypto::challenge_hash;
/// # fn bytes<const N: usize>(h: &str) -> [u8; N] { hex::decode(h).unwrap().try_into().unwrap() }
///
/// let peer = bytes("21402324255E262A28295F2B3A337C7E");
/// let auth = bytes("5B5D7C7D7B3F2F3E3C2C602132262628");
/// assert_eq!(hex::encode_upper(challenge_hash(&peer, &auth, b"User")), "D02E4386BCE91226");
///
/// let peer = bytes("0e93cfbfcef8d5b6af42d2b2ca5b4318");
/// let auth = bytes("04408dc2a98dae1ce351dfc53f57d08e");
/// assert_eq!(hex::encode(challenge_hash(&peer, &auth, b"EXAMPLE\\bob")), "ad18b6b8e1478b4c");
/// ```
pub fn challenge_hash(
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user_name: &[u8],
) -> [u8; 8] {
    let digest = Sha1::new()
        .chain_update(peer_challenge)
        .chain_update(authenticator_challenge)
        .chain_update(strip_domain(user_name))
        .finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

/// `GenerateNTResponse` (RFC 2759 §8.1), from the NT hash.
///
/// # Example
///
/// RFC 2759 §9.2:
///
/// ```
/// use pptp_proto::crypto::mschap::generate_nt_response;
/// # use pptp_proto::crypto::{nt_password_hash, Password};
/// # fn bytes<const N: usize>(h: &str) -> [u8; N] { hex::decode(h).unwrap().try_into().unwrap() }
/// // RFC 2759 §9.2
/// let auth_challenge = bytes("5B5D7C7D7B3F2F3E3C2C602132262628");
/// let peer_challenge = bytes("21402324255E262A28295F2B3A337C7E");
/// let nt_hash = nt_password_hash(&Password::new("clientPass")?);
/// let nt_response = generate_nt_response(&auth_challenge, &peer_challenge, b"User", &nt_hash);
/// assert_eq!(hex::encode_upper(nt_response), "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF");
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn generate_nt_response(
    authenticator_challenge: &[u8; 16],
    peer_challenge: &[u8; 16],
    user_name: &[u8],
    password_hash: &NtHash,
) -> [u8; 24] {
    let challenge = challenge_hash(peer_challenge, authenticator_challenge, user_name);
    challenge_response(&challenge, password_hash.as_bytes())
}

/// The 20-octet MS-CHAPv2 authenticator response, sent as `S=` followed by
/// 40 upper-case hex digits (RFC 2759 §8.7). Compared in constant time.
///
/// # Example
///
/// ```
/// use pptp_proto::crypto::AuthenticatorResponse;
///
/// // From a Success packet: "S=<40 hex digits> M=<message>".
/// let message = b"S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Welcome";
/// let response = AuthenticatorResponse::from_ascii(&message[..42]).unwrap();
/// assert_eq!(response.0[..2], [0x40, 0x7A]);
/// assert_eq!(&response.to_ascii(), &message[..42]);
/// assert_eq!(AuthenticatorResponse::from_ascii(&message[..]), None); // not just `S=…`
/// assert_eq!(AuthenticatorResponse::from_ascii(b"S=407A"), None);
/// ```
#[derive(Clone, Copy)]
pub struct AuthenticatorResponse(pub [u8; 20]);

impl AuthenticatorResponse {
    /// The 42-octet ASCII form `S=<40 upper-case hex digits>`. See the
    /// [example](Self#example).
    pub fn to_ascii(&self) -> [u8; 42] {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut out = [0u8; 42];
        out[0] = b'S';
        out[1] = b'=';
        for (pair, b) in out[2..].chunks_exact_mut(2).zip(self.0) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 0x0F)];
        }
        out
    }

    /// Parses `S=<40 hex digits>` (either case); `None` if malformed. See
    /// the [example](Self#example).
    pub fn from_ascii(text: &[u8]) -> Option<Self> {
        let hex = text.strip_prefix(b"S=")?;
        if hex.len() != 40 {
            return None;
        }
        let mut out = [0u8; 20];
        for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
            *o = (hex_digit(*pair.first()?)? << 4) | hex_digit(*pair.get(1)?)?;
        }
        Some(Self(out))
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl PartialEq for AuthenticatorResponse {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for AuthenticatorResponse {}

impl fmt::Debug for AuthenticatorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ascii = self.to_ascii();
        f.write_str(core::str::from_utf8(&ascii).unwrap_or("S=?"))
    }
}

/// `GenerateAuthenticatorResponse` (RFC 2759 §8.7), from the NT hash.
///
/// # Example
///
/// RFC 2759 §9.2:
///
/// ```
/// use pptp_proto::crypto::mschap::generate_authenticator_response;
/// # use pptp_proto::crypto::{nt_password_hash, Password};
/// # fn bytes<const N: usize>(h: &str) -> [u8; N] { hex::decode(h).unwrap().try_into().unwrap() }
/// // RFC 2759 §9.2
/// let auth_challenge = bytes("5B5D7C7D7B3F2F3E3C2C602132262628");
/// let peer_challenge = bytes("21402324255E262A28295F2B3A337C7E");
/// let nt_hash = nt_password_hash(&Password::new("clientPass")?);
/// let nt_response = bytes("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF");
/// let auth = generate_authenticator_response(&nt_hash, &nt_response, &peer_challenge, &auth_challenge, b"User");
/// assert_eq!(&auth.to_ascii(), b"S=407A5589115FD0D6209F510FE9C04566932CDA56");
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn generate_authenticator_response(
    password_hash: &NtHash,
    nt_response: &[u8; 24],
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user_name: &[u8],
) -> AuthenticatorResponse {
    let hash_hash = hash_nt_password_hash(password_hash);
    let mut digest: [u8; 20] = Sha1::new()
        .chain_update(hash_hash.as_bytes())
        .chain_update(nt_response)
        .chain_update(AUTH_MAGIC1)
        .finalize()
        .into();
    let challenge = challenge_hash(peer_challenge, authenticator_challenge, user_name);
    let out = Sha1::new()
        .chain_update(digest)
        .chain_update(challenge)
        .chain_update(AUTH_MAGIC2)
        .finalize()
        .into();
    digest.zeroize();
    AuthenticatorResponse(out)
}

/// `CheckAuthenticatorResponse` (RFC 2759 §8.8): whether `received` (the
/// ASCII `S=…` string) is the response the authenticator must send.
/// Constant-time in the digest comparison.
///
/// # Example
///
/// RFC 2759 §9.2, as the peer checks the authenticator's Success packet:
///
/// ```
/// use pptp_proto::crypto::mschap::check_authenticator_response;
/// # use pptp_proto::crypto::{nt_password_hash, Password};
/// # fn bytes<const N: usize>(h: &str) -> [u8; N] { hex::decode(h).unwrap().try_into().unwrap() }
/// // RFC 2759 §9.2
/// let auth_challenge = bytes("5B5D7C7D7B3F2F3E3C2C602132262628");
/// let peer_challenge = bytes("21402324255E262A28295F2B3A337C7E");
/// let nt_hash = nt_password_hash(&Password::new("clientPass")?);
/// let nt_response = bytes("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF");
/// let check = |received: &[u8]| {
///     check_authenticator_response(&nt_hash, &nt_response, &peer_challenge, &auth_challenge, b"User", received)
/// };
/// assert!(check(b"S=407A5589115FD0D6209F510FE9C04566932CDA56"));
/// assert!(check(b"S=407a5589115fd0d6209f510fe9c04566932cda56"));
/// assert!(!check(b"S=407A5589115FD0D6209F510FE9C04566932CDA57"));
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn check_authenticator_response(
    password_hash: &NtHash,
    nt_response: &[u8; 24],
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user_name: &[u8],
    received: &[u8],
) -> bool {
    let expected = generate_authenticator_response(
        password_hash,
        nt_response,
        peer_challenge,
        authenticator_challenge,
        user_name,
    );
    AuthenticatorResponse::from_ascii(received).is_some_and(|r| r == expected)
}

/// `NtChallengeResponse` (RFC 2433 §A.5) from the NT hash.
///
/// # Example
///
/// RFC 2433 Appendix B.2:
///
/// ```
/// use pptp_proto::crypto::mschap::nt_challenge_response;
/// use pptp_proto::crypto::{nt_password_hash, Password};
///
/// let challenge = [0x10, 0x2D, 0xB5, 0xDF, 0x08, 0x5D, 0x30, 0x41];
/// let response = nt_challenge_response(&challenge, &nt_password_hash(&Password::new("MyPw")?));
/// assert_eq!(hex::encode_upper(response), "4E9D3C8F9CFD385D5BF4D3246791956CA4C351AB409A3D61");
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn nt_challenge_response(challenge: &[u8; 8], password_hash: &NtHash) -> [u8; 24] {
    challenge_response(challenge, password_hash.as_bytes())
}

/// `LmChallengeResponse` (RFC 2433 §A.1) from the LM hash.
///
/// # Example
///
/// The LM hash of "clientPass" (RFC 3079 §2.5) with the challenge of
/// RFC 2433 Appendix B.2:
///
/// ```
/// use pptp_proto::crypto::mschap::lm_challenge_response;
/// use pptp_proto::crypto::{lm_password_hash, Password};
///
/// let lm_hash = lm_password_hash(&Password::new("clientPass")?).unwrap();
/// let challenge = [0x10, 0x2D, 0xB5, 0xDF, 0x08, 0x5D, 0x30, 0x41];
/// let response = lm_challenge_response(&challenge, &lm_hash);
/// assert_eq!(hex::encode(response), "edbac3d1b2bc24bda687a4ebde1f18943f4a329d5c372a8f");
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn lm_challenge_response(challenge: &[u8; 8], lm_hash: &LmHash) -> [u8; 24] {
    challenge_response(challenge, lm_hash.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_is_stripped_at_the_last_backslash() {
        assert_eq!(strip_domain(b"example\\john"), b"john");
        assert_eq!(strip_domain(b"a\\b\\c"), b"c");
        assert_eq!(strip_domain(b"john"), b"john");
        assert_eq!(strip_domain(b"trailing\\"), b"");
    }

    #[test]
    fn authenticator_response_ascii_round_trip() {
        let r = AuthenticatorResponse([0x0F; 20]);
        let ascii = r.to_ascii();
        assert_eq!(&ascii[..6], b"S=0F0F");
        assert_eq!(AuthenticatorResponse::from_ascii(&ascii), Some(r));
        let lower = ascii.to_ascii_lowercase();
        assert_eq!(AuthenticatorResponse::from_ascii(&lower[..]), None);
        let mut lower_hex = ascii;
        lower_hex[2..].make_ascii_lowercase();
        assert_eq!(AuthenticatorResponse::from_ascii(&lower_hex), Some(r));
        assert_eq!(AuthenticatorResponse::from_ascii(&ascii[..41]), None);
        assert_eq!(AuthenticatorResponse::from_ascii(b"S=zz"), None);
    }
}
