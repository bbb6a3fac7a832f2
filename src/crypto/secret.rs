//! Secret values: zeroized on drop, redacted in `Debug`, compared in
//! constant time, and never `Display`ed.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::Error;

/// Declares a fixed-size secret byte string.
macro_rules! secret_bytes {
    ($(#[$meta:meta])* $name:ident, $len:literal) => {
        $(#[$meta])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Length in octets.
            pub const LEN: usize = $len;

            /// Wraps raw secret bytes. See the [example](Self#example).
            pub const fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// The secret bytes. Handle with care: copies are not zeroized.
            /// See the [example](Self#example).
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0.ct_eq(&other.0).into()
            }
        }

        impl Eq for $name {}
    };
}

secret_bytes! {
    /// `NtPasswordHash`: MD4 of the UTF-16LE password (RFC 2759 §8.3).
    ///
    /// # Example
    ///
    /// The hash of RFC 2759 §9.2, made by
    /// [`nt_password_hash`](crate::crypto::nt_password_hash) or wrapped
    /// from stored bytes:
    ///
    /// ```
    /// use pptp_proto::crypto::{nt_password_hash, NtHash, Password};
    ///
    /// let hash = nt_password_hash(&Password::new("clientPass")?);
    /// let stored: [u8; 16] = hex::decode("44EBBA8D5312B8D611474411F56989AE").unwrap().try_into().unwrap();
    /// assert_eq!(hash.as_bytes(), &stored);
    /// assert_eq!(NtHash::from_bytes(stored), hash);
    /// assert_eq!(format!("{hash:?}"), "NtHash(<redacted>)");
    /// # Ok::<(), pptp_proto::crypto::Error>(())
    /// ```
    NtHash, 16
}

secret_bytes! {
    /// `LmPasswordHash`: the LAN Manager hash (RFC 2433 §A.2). Legacy; only
    /// MS-CHAPv1 and the RFC 3079 §2.1 40/56-bit keys use it.
    ///
    /// # Example
    ///
    /// The LM hash of "clientPass" from RFC 3079 §2.5, made by
    /// [`lm_password_hash`](crate::crypto::lm_password_hash):
    ///
    /// ```
    /// use pptp_proto::crypto::{lm_password_hash, LmHash, Password};
    ///
    /// let hash = lm_password_hash(&Password::new("clientPass")?).unwrap();
    /// let expected: [u8; 16] = hex::decode("76a152936096d7830e2390227404afd2").unwrap().try_into().unwrap();
    /// assert_eq!(hash.as_bytes(), &expected);
    /// assert_eq!(LmHash::from_bytes(expected), hash);
    /// # Ok::<(), pptp_proto::crypto::Error>(())
    /// ```
    LmHash, 16
}

secret_bytes! {
    /// `PasswordHashHash`: MD4 of the [`NtHash`] (RFC 2759 §8.4).
    ///
    /// # Example
    ///
    /// The value of RFC 2759 §9.2, made by
    /// [`hash_nt_password_hash`](crate::crypto::hash_nt_password_hash):
    ///
    /// ```
    /// use pptp_proto::crypto::{hash_nt_password_hash, nt_password_hash, NtHashHash, Password};
    ///
    /// let hash_hash = hash_nt_password_hash(&nt_password_hash(&Password::new("clientPass")?));
    /// let expected: [u8; 16] = hex::decode("41C00C584BD2D91C4017A2A12FA59F3F").unwrap().try_into().unwrap();
    /// assert_eq!(hash_hash.as_bytes(), &expected);
    /// assert_eq!(NtHashHash::from_bytes(expected), hash_hash);
    /// # Ok::<(), pptp_proto::crypto::Error>(())
    /// ```
    NtHashHash, 16
}

secret_bytes! {
    /// The MS-CHAPv2 MPPE `MasterKey` (RFC 3079 §3.4).
    ///
    /// # Example
    ///
    /// The master key of RFC 3079 §3.5, made by
    /// [`get_master_key`](crate::crypto::key_derivation::get_master_key):
    ///
    /// ```
    /// use pptp_proto::crypto::key_derivation::get_master_key;
    /// use pptp_proto::crypto::{hash_nt_password_hash, nt_password_hash, MasterKey, Password};
    ///
    /// let hash_hash = hash_nt_password_hash(&nt_password_hash(&Password::new("clientPass")?));
    /// let nt_response: [u8; 24] =
    ///     hex::decode("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF").unwrap().try_into().unwrap();
    /// let master = get_master_key(&hash_hash, &nt_response);
    /// let expected: [u8; 16] = hex::decode("FDECE3717A8C838CB388E527AE3CDD31").unwrap().try_into().unwrap();
    /// assert_eq!(master.as_bytes(), &expected);
    /// assert_eq!(MasterKey::from_bytes(expected), master);
    /// # Ok::<(), pptp_proto::crypto::Error>(())
    /// ```
    MasterKey, 16
}

secret_bytes! {
    /// An MPPE start or session key (RFC 3079). 40- and 56-bit keys use the
    /// first 8 octets; the rest is then unused.
    ///
    /// # Example
    ///
    /// The 128-bit start and initial session keys of RFC 3079 §3.5.3:
    ///
    /// ```
    /// use pptp_proto::crypto::key_derivation::initial_session_key;
    /// use pptp_proto::crypto::{KeyLength, SessionKey};
    ///
    /// let start: [u8; 16] = hex::decode("8B7CDC149B993A1BA118CB153F56DCCB").unwrap().try_into().unwrap();
    /// let start = SessionKey::from_bytes(start);
    /// let session = initial_session_key(&start, KeyLength::Bits128);
    /// assert_eq!(session.as_bytes()[..], hex::decode("405CB2247A7956E6E211007AE27B22D4").unwrap());
    /// ```
    SessionKey, 16
}

/// The two MPPE start keys of one end of the link (RFC 3079 §3.3).
///
/// For MS-CHAPv2 these are the 16-octet outputs of
/// `GetAsymmetricStartKey`; 40- and 56-bit MPPE use the first 8 octets.
/// `send` protects what this end sends, `recv` what it receives; the peer's
/// `send` is this end's `recv`. RADIUS MS-MPPE-Send-Key/Recv-Key carry the
/// same values (RFC 2548 §2.4.2).
///
/// # Example
///
/// Made by [`mppe_keys_mschapv2`](crate::crypto::mppe_keys_mschapv2) and
/// the other derivations, or built from keys a RADIUS server sent:
///
/// ```
/// use pptp_proto::crypto::MppeKeys;
///
/// let server = MppeKeys { send: [0x11; 16], recv: [0x22; 16] };
/// let client = MppeKeys { send: server.recv, recv: server.send };
/// assert_ne!(client, server);
/// assert_eq!(format!("{client:?}"), "MppeKeys { send: <redacted>, recv: <redacted> }");
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MppeKeys {
    /// Start key for the packets this end sends.
    pub send: [u8; 16],
    /// Start key for the packets this end receives.
    pub recv: [u8; 16],
}

impl fmt::Debug for MppeKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MppeKeys { send: <redacted>, recv: <redacted> }")
    }
}

impl PartialEq for MppeKeys {
    fn eq(&self, other: &Self) -> bool {
        (self.send.ct_eq(&other.send) & self.recv.ct_eq(&other.recv)).into()
    }
}

impl Eq for MppeKeys {}

/// RFC 2759 §8.10: a password holds at most 256 UTF-16 code units.
pub const MAX_PASSWORD_UNITS: usize = 256;

// Three UTF-8 octets per UTF-16 unit at most.
const MAX_PASSWORD_UTF8: usize = 3 * MAX_PASSWORD_UNITS;

/// A user's password, kept as UTF-8 in a fixed buffer (no allocation).
///
/// MS-CHAP hashes its UTF-16LE form; PAP and CHAP-MD5 use the UTF-8 octets.
///
/// # Example
///
/// ```
/// use pptp_proto::crypto::{Error, Password};
///
/// let password = Password::new("Pässwort")?;
/// assert_eq!(password.as_str(), "Pässwort");
/// assert_eq!(password.as_bytes().len(), 9); // UTF-8: 'ä' takes two octets
/// assert_eq!(password.utf16_len(), 8);
/// assert_eq!(password.utf16().nth(1), Some(0x00E4));
/// assert_eq!(format!("{password:?}"), "Password(<redacted>)");
///
/// let too_long = "x".repeat(257);
/// assert_eq!(Password::new(&too_long).unwrap_err(), Error::PasswordTooLong { units: 257 });
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Password {
    utf8: [u8; MAX_PASSWORD_UTF8],
    len: usize,
}

impl Password {
    /// Wraps a password; fails if it has more than
    /// [`MAX_PASSWORD_UNITS`] UTF-16 code units. See the
    /// [example](Self#example).
    pub fn new(password: &str) -> Result<Self, Error> {
        let units = password.encode_utf16().count();
        if units > MAX_PASSWORD_UNITS {
            return Err(Error::PasswordTooLong { units });
        }
        let mut utf8 = [0u8; MAX_PASSWORD_UTF8];
        let bytes = password.as_bytes();
        // Cannot fail: `units <= 256` bounds the UTF-8 length to 768.
        let dst = utf8
            .get_mut(..bytes.len())
            .ok_or(Error::PasswordTooLong { units })?;
        dst.copy_from_slice(bytes);
        Ok(Self {
            utf8,
            len: bytes.len(),
        })
    }

    /// The password as text. See the [example](Self#example).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The password's UTF-8 octets (the PAP / CHAP-MD5 secret). See the
    /// [example](Self#example).
    pub fn as_bytes(&self) -> &[u8] {
        self.utf8.get(..self.len).unwrap_or_default()
    }

    /// The password's UTF-16 code units, in order. See the
    /// [example](Self#example).
    pub fn utf16(&self) -> impl Iterator<Item = u16> + '_ {
        self.as_str().encode_utf16()
    }

    /// The number of UTF-16 code units. See the [example](Self#example).
    pub fn utf16_len(&self) -> usize {
        self.utf16().count()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl PartialEq for Password {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes().ct_eq(other.as_bytes()).into()
    }
}

impl Eq for Password {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn debug_never_prints_secret_bytes() {
        let pw = Password::new("hunter2-secret").unwrap_or_else(|_| unreachable!());
        let hash = NtHash::from_bytes([0xAB; 16]);
        let keys = MppeKeys {
            send: [0xCD; 16],
            recv: [0xEF; 16],
        };
        let key = SessionKey::from_bytes([0x5A; 16]);
        for text in [
            format!("{pw:?}"),
            format!("{hash:?}"),
            format!("{keys:?}"),
            format!("{key:?}"),
            format!("{:#?}", MasterKey::from_bytes([0x77; 16])),
        ] {
            assert!(text.contains("<redacted>"), "{text}");
            for needle in [
                "hunter2", "ab", "AB", "171", "cd", "CD", "ef", "EF", "5a", "77", "119",
            ] {
                assert!(!text.contains(needle), "{text} contains {needle}");
            }
        }
    }

    #[test]
    fn equality_compares_contents() {
        assert_eq!(NtHash::from_bytes([1; 16]), NtHash::from_bytes([1; 16]));
        assert_ne!(NtHash::from_bytes([1; 16]), NtHash::from_bytes([2; 16]));
        let a = Password::new("abc").unwrap_or_else(|_| unreachable!());
        let b = Password::new("abd").unwrap_or_else(|_| unreachable!());
        assert_ne!(a, b);
        assert_eq!(a, a.clone());
    }

    #[test]
    fn password_length_limit() {
        let ok = "€".repeat(256);
        assert_eq!(Password::new(&ok).map(|p| p.utf16_len()), Ok(256));
        let long = "x".repeat(257);
        assert_eq!(
            Password::new(&long).map(|_| ()),
            Err(Error::PasswordTooLong { units: 257 })
        );
        // 128 astral characters are 256 UTF-16 units and 512 UTF-8 octets.
        let astral = "\u{1F600}".repeat(128);
        assert_eq!(Password::new(&astral).map(|p| p.as_str().len()), Ok(512));
    }
}
