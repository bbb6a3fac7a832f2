//! MPPE key derivation (RFC 3079), from MS-CHAPv1 and MS-CHAPv2
//! credentials, and the rekeying step of RFC 3078 §7.3.
//!
//! [`mppe_keys_mschapv2`] and [`mppe_keys_mschapv1`] give the start keys in
//! one call; the steps below are the RFC's pseudo-code functions.
//!
//! # Example
//!
//! The 128-bit derivation of RFC 3079 §3.5.3, step by step, from the
//! MS-CHAPv2 exchange of RFC 2759 §9.2 to the server's first encrypted
//! message:
//!
//! ```
//! use pptp_proto::crypto::key_derivation::{
//!     get_asymmetric_start_key, get_master_key, initial_session_key,
//! };
//! use pptp_proto::crypto::{hash_nt_password_hash, nt_password_hash, KeyLength, Password};
//! use pptp_proto::rc4::Rc4;
//!
//! let hash_hash = hash_nt_password_hash(&nt_password_hash(&Password::new("clientPass")?));
//! let nt_response: [u8; 24] =
//!     hex::decode("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF").unwrap().try_into().unwrap();
//! let master = get_master_key(&hash_hash, &nt_response);
//! let start = get_asymmetric_start_key(&master, true, true); // the server's send key
//! let session = initial_session_key(&start, KeyLength::Bits128);
//!
//! let mut message = *b"test message";
//! Rc4::new(session.as_bytes()).apply_keystream(&mut message);
//! assert_eq!(hex::encode_upper(message), "81848317DF68846272FB5ABE");
//! # Ok::<(), pptp_proto::crypto::Error>(())
//! ```

use sha1::{Digest as _, Sha1};
use zeroize::Zeroize;

use super::mschap::hash_nt_password_hash;
use super::{LmHash, MasterKey, MppeKeys, NtHash, NtHashHash, SessionKey};
use crate::rc4::Rc4;

/// RFC 3079 §3.4 Magic1, for `GetMasterKey`.
pub const MAGIC1: &[u8; 27] = b"This is the MPPE Master Key";
/// RFC 3079 §3.4 Magic2: the client's send key, the server's receive key.
pub const MAGIC2: &[u8; 84] =
    b"On the client side, this is the send key; on the server side, it is the receive key.";
/// RFC 3079 §3.4 Magic3: the client's receive key, the server's send key.
pub const MAGIC3: &[u8; 84] =
    b"On the client side, this is the receive key; on the server side, it is the send key.";

/// RFC 3079 §3.4 SHSpad1 (40 zero octets).
const SHA_PAD1: [u8; 40] = [0; 40];
/// RFC 3079 §3.4 SHSpad2 (40 octets of 0xF2).
const SHA_PAD2: [u8; 40] = [0xF2; 40];

/// Which side of PPP authentication: the authenticator or the peer. MPPE
/// keys are derived for one (RFC 3079 §3.3 `IsServer`: the authenticator);
/// the PPP session is one (`ppp::session::Role` is this type).
///
/// # Example
///
/// ```
/// use pptp_proto::crypto::{mppe_keys_mschapv2, NtHash, Role};
///
/// let nt_hash = NtHash::from_bytes([0x44; 16]);
/// let nt_response = [0x82; 24];
/// let client = mppe_keys_mschapv2(&nt_hash, &nt_response, Role::Peer);
/// let server = mppe_keys_mschapv2(&nt_hash, &nt_response, Role::Authenticator);
/// assert_eq!((client.send, client.recv), (server.recv, server.send));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The authenticator: demands authentication and assigns addresses
    /// (the PPTP server, the PAC).
    Authenticator,
    /// The peer: authenticates itself and is given an address (the PPTP
    /// client, the PNS).
    Peer,
}

/// MPPE session key strength (CCP option 18 bits L, M, S).
///
/// # Example
///
/// ```
/// use pptp_proto::mppe::KeyLength;
///
/// assert_eq!(KeyLength::Bits40.octets(), 8);
/// assert_eq!(KeyLength::Bits56.octets(), 8);
/// assert_eq!(KeyLength::Bits128.octets(), 16);
/// assert!(KeyLength::Bits40 < KeyLength::Bits128); // ordered by strength
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyLength {
    /// 40 bits: 8-octet keys whose first 3 octets are `D1 26 9E`.
    Bits40,
    /// 56 bits: 8-octet keys whose first octet is `D1`.
    Bits56,
    /// 128 bits: 16-octet keys.
    Bits128,
}

impl KeyLength {
    /// How many octets the RC4 key and the key derivation use. See the
    /// [example](Self#example).
    pub const fn octets(self) -> usize {
        match self {
            Self::Bits40 | Self::Bits56 => 8,
            Self::Bits128 => 16,
        }
    }
}

/// `GetMasterKey` (RFC 3079 §3.4): SHA-1(PasswordHashHash ‖ NT-Response ‖
/// Magic1), first 16 octets.
///
/// # Example
///
/// RFC 3079 §3.5:
///
/// ```
/// use pptp_proto::crypto::key_derivation::get_master_key;
/// use pptp_proto::crypto::NtHashHash;
///
/// let hash_hash: [u8; 16] = hex::decode("41C00C584BD2D91C4017A2A12FA59F3F").unwrap().try_into().unwrap();
/// let nt_response: [u8; 24] =
///     hex::decode("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF").unwrap().try_into().unwrap();
/// let master = get_master_key(&NtHashHash::from_bytes(hash_hash), &nt_response);
/// assert_eq!(master.as_bytes()[..], hex::decode("FDECE3717A8C838CB388E527AE3CDD31").unwrap());
/// ```
pub fn get_master_key(password_hash_hash: &NtHashHash, nt_response: &[u8; 24]) -> MasterKey {
    let mut digest: [u8; 20] = Sha1::new()
        .chain_update(password_hash_hash.as_bytes())
        .chain_update(nt_response)
        .chain_update(MAGIC1)
        .finalize()
        .into();
    let key = MasterKey::from_bytes(first16(&digest));
    digest.zeroize();
    key
}

/// `GetAsymmetricStartKey` (RFC 3079 §3.4), 16 octets (40/56-bit keys are
/// the first 8). Magic2 for the client's send and the server's receive
/// key, Magic3 for the other two.
///
/// # Example
///
/// The server's send key of RFC 3079 §3.5.3 is the client's receive key:
///
/// ```
/// use pptp_proto::crypto::key_derivation::get_asymmetric_start_key;
/// use pptp_proto::crypto::MasterKey;
///
/// let master: [u8; 16] = hex::decode("FDECE3717A8C838CB388E527AE3CDD31").unwrap().try_into().unwrap();
/// let master = MasterKey::from_bytes(master);
/// let server_send = get_asymmetric_start_key(&master, true, true);
/// assert_eq!(server_send.as_bytes()[..], hex::decode("8B7CDC149B993A1BA118CB153F56DCCB").unwrap());
/// assert_eq!(get_asymmetric_start_key(&master, false, false), server_send);
/// ```
pub fn get_asymmetric_start_key(
    master_key: &MasterKey,
    is_send: bool,
    is_server: bool,
) -> SessionKey {
    let magic = if is_send == is_server { MAGIC3 } else { MAGIC2 };
    let mut digest: [u8; 20] = Sha1::new()
        .chain_update(master_key.as_bytes())
        .chain_update(SHA_PAD1)
        .chain_update(magic)
        .chain_update(SHA_PAD2)
        .finalize()
        .into();
    let key = SessionKey::from_bytes(first16(&digest));
    digest.zeroize();
    key
}

/// `GetNewKeyFromSHA` (RFC 3079 §3.4; `Get_Key` of §2.4): SHA-1(StartKey ‖
/// pad1 ‖ SessionKey ‖ pad2) over the key length's octets. Octets beyond
/// the key length are zero in the result.
///
/// # Example
///
/// The 40-bit key of RFC 3079 §3.5.1 before [`reduce_session_key`]:
///
/// ```
/// use pptp_proto::crypto::key_derivation::get_new_key_from_sha;
/// use pptp_proto::crypto::{KeyLength, SessionKey};
///
/// let start: [u8; 16] = hex::decode("8B7CDC149B993A1BA118CB153F56DCCB").unwrap().try_into().unwrap();
/// let start = SessionKey::from_bytes(start);
/// let key = get_new_key_from_sha(&start, &start, KeyLength::Bits40);
/// assert_eq!(key.as_bytes()[..8], hex::decode("965C00C49FA62E3E").unwrap());
/// assert_eq!(key.as_bytes()[8..], [0; 8]);
/// ```
pub fn get_new_key_from_sha(
    start_key: &SessionKey,
    session_key: &SessionKey,
    length: KeyLength,
) -> SessionKey {
    let mut out = [0u8; 16];
    new_key_from_sha(
        start_key.as_bytes(),
        session_key.as_bytes(),
        length.octets(),
        &mut out,
    );
    let key = SessionKey::from_bytes(out);
    out.zeroize();
    key
}

pub(crate) fn new_key_from_sha(
    start: &[u8; 16],
    current: &[u8; 16],
    len: usize,
    out: &mut [u8; 16],
) {
    let n = len.min(16);
    let mut digest: [u8; 20] = Sha1::new()
        .chain_update(&start[..n])
        .chain_update(SHA_PAD1)
        .chain_update(&current[..n])
        .chain_update(SHA_PAD2)
        .finalize()
        .into();
    *out = [0; 16];
    out[..n].copy_from_slice(&digest[..n]);
    digest.zeroize();
}

/// Forces the weak-key prefix of 40- and 56-bit keys (RFC 3079 §3.5.1,
/// §3.5.2; RFC 3078 §7.3): `D1 26 9E` and `D1`.
///
/// # Example
///
/// The 40- and 56-bit session keys of RFC 3079 §3.5.1 and §3.5.2:
///
/// ```
/// use pptp_proto::crypto::key_derivation::reduce_session_key;
/// use pptp_proto::crypto::KeyLength;
///
/// let mut key = [0u8; 16];
/// key[..8].copy_from_slice(&[0x96, 0x5C, 0x00, 0xC4, 0x9F, 0xA6, 0x2E, 0x3E]);
/// let (mut k40, mut k56, mut k128) = (key, key, key);
/// reduce_session_key(&mut k40, KeyLength::Bits40);
/// reduce_session_key(&mut k56, KeyLength::Bits56);
/// reduce_session_key(&mut k128, KeyLength::Bits128);
/// assert_eq!(k40[..8], [0xD1, 0x26, 0x9E, 0xC4, 0x9F, 0xA6, 0x2E, 0x3E]);
/// assert_eq!(k56[..8], [0xD1, 0x5C, 0x00, 0xC4, 0x9F, 0xA6, 0x2E, 0x3E]);
/// assert_eq!(k128, key);
/// ```
pub fn reduce_session_key(key: &mut [u8; 16], length: KeyLength) {
    match length {
        KeyLength::Bits40 => key[..3].copy_from_slice(&[0xD1, 0x26, 0x9E]),
        KeyLength::Bits56 => key[0] = 0xD1,
        KeyLength::Bits128 => {}
    }
}

/// The initial session key of one direction: `GetNewKeyFromSHA(StartKey,
/// StartKey)`, reduced (RFC 3079 §3.5). No RC4 step.
///
/// # Example
///
/// The 40-bit SendSessionKey of RFC 3079 §3.5.1 (the 128-bit one is in the
/// [module example](self#example)):
///
/// ```
/// use pptp_proto::crypto::key_derivation::initial_session_key;
/// use pptp_proto::crypto::{KeyLength, SessionKey};
///
/// let mut start = [0u8; 16];
/// start[..8].copy_from_slice(&hex::decode("8B7CDC149B993A1B").unwrap());
/// let key = initial_session_key(&SessionKey::from_bytes(start), KeyLength::Bits40);
/// assert_eq!(key.as_bytes()[..8], hex::decode("D1269EC49FA62E3E").unwrap());
/// ```
pub fn initial_session_key(start_key: &SessionKey, length: KeyLength) -> SessionKey {
    let mut out = [0u8; 16];
    new_key_from_sha(
        start_key.as_bytes(),
        start_key.as_bytes(),
        length.octets(),
        &mut out,
    );
    reduce_session_key(&mut out, length);
    let key = SessionKey::from_bytes(out);
    out.zeroize();
    key
}

/// One MPPE rekey (RFC 3078 §7.3): `InterimKey = GetNewKeyFromSHA(StartKey,
/// CurrentKey)`, then `CurrentKey = RC4(InterimKey, InterimKey)`, reduced.
///
/// # Example
///
/// A client's first rekey in a real stateless 128-bit session (the
/// `pptpcrack` test capture; its packet with coherency count 0 decrypts with
/// the result):
///
/// ```
/// use pptp_proto::crypto::key_derivation::{initial_session_key, rekey};
/// use pptp_proto::crypto::{KeyLength, SessionKey};
///
/// let start: [u8; 16] = hex::decode("5feb418becd3d469e35a579c206297d0").unwrap().try_into().unwrap();
/// let start = SessionKey::from_bytes(start);
/// let initial = initial_session_key(&start, KeyLength::Bits128);
/// assert_eq!(hex::encode(initial.as_bytes()), "c5bf9f928c2e71358c7c95b610c82e4d");
/// let key = rekey(&start, &initial, KeyLength::Bits128);
/// assert_eq!(hex::encode(key.as_bytes()), "baa4ed9219b9068aacc7fab65caf1c34");
/// ```
pub fn rekey(start_key: &SessionKey, current_key: &SessionKey, length: KeyLength) -> SessionKey {
    let mut current = *current_key.as_bytes();
    // `rekey_in_place` re-keys it before use.
    let mut rc4 = Rc4::unkeyed();
    rekey_in_place(start_key.as_bytes(), &mut current, length, &mut rc4);
    let key = SessionKey::from_bytes(current);
    current.zeroize();
    key
}

/// [`rekey`] on raw keys, running the interim RC4 step in `rc4`, whose
/// state it overwrites: the data path passes the cipher it re-keys next,
/// which saves a second 256-octet state and its zeroizing per rekey.
pub(crate) fn rekey_in_place(
    start: &[u8; 16],
    current: &mut [u8; 16],
    length: KeyLength,
    rc4: &mut Rc4,
) {
    let len = length.octets();
    let mut interim = [0u8; 16];
    new_key_from_sha(start, current, len, &mut interim);
    *current = interim;
    rc4.rekey(&interim[..len]);
    rc4.apply_keystream(&mut current[..len]);
    reduce_session_key(current, length);
    interim.zeroize();
}

/// MPPE start keys from MS-CHAPv2 (RFC 3079 §3): `MasterKey` from the
/// NT-Response, then `GetAsymmetricStartKey` with the magic that fits the
/// direction and `role`.
///
/// # Example
///
/// RFC 3079 §3.5 (the client's receive key is printed there as the
/// "SendStartKey" of the server):
///
/// ```
/// use pptp_proto::crypto::{mppe_keys_mschapv2, nt_password_hash, Password, Role};
///
/// let nt_hash = nt_password_hash(&Password::new("clientPass")?);
/// let nt_response: [u8; 24] =
///     hex::decode("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF").unwrap().try_into().unwrap();
/// let client = mppe_keys_mschapv2(&nt_hash, &nt_response, Role::Peer);
/// assert_eq!(hex::encode_upper(client.recv), "8B7CDC149B993A1BA118CB153F56DCCB");
/// let server = mppe_keys_mschapv2(&nt_hash, &nt_response, Role::Authenticator);
/// assert_eq!((server.send, server.recv), (client.recv, client.send));
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn mppe_keys_mschapv2(nt_hash: &NtHash, nt_response: &[u8; 24], role: Role) -> MppeKeys {
    let master = get_master_key(&hash_nt_password_hash(nt_hash), nt_response);
    let is_server = role == Role::Authenticator;
    MppeKeys {
        send: *get_asymmetric_start_key(&master, true, is_server).as_bytes(),
        recv: *get_asymmetric_start_key(&master, false, is_server).as_bytes(),
    }
}

/// `Get_Start_Key` (RFC 3079 §2.4): SHA-1(PasswordHashHash ‖
/// PasswordHashHash ‖ Challenge), first 16 octets.
///
/// # Example
///
/// RFC 3079 §2.5 (the RFC prints octet 7 wrongly as `CA` in step 3; step 4
/// has the right `C1`):
///
/// ```
/// use pptp_proto::crypto::key_derivation::get_start_key;
/// use pptp_proto::crypto::{hash_nt_password_hash, nt_password_hash, Password};
///
/// let hash_hash = hash_nt_password_hash(&nt_password_hash(&Password::new("clientPass")?));
/// let challenge = [0x10, 0x2D, 0xB5, 0xDF, 0x08, 0x5D, 0x30, 0x41];
/// let key = get_start_key(&challenge, &hash_hash);
/// assert_eq!(hex::encode(key.as_bytes()), "a8947850cfc0acc1d1789fb62ddcddb0");
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn get_start_key(challenge: &[u8; 8], password_hash_hash: &NtHashHash) -> SessionKey {
    let mut digest: [u8; 20] = Sha1::new()
        .chain_update(password_hash_hash.as_bytes())
        .chain_update(password_hash_hash.as_bytes())
        .chain_update(challenge)
        .finalize()
        .into();
    let key = SessionKey::from_bytes(first16(&digest));
    digest.zeroize();
    key
}

/// MPPE start keys from MS-CHAPv1 with the NT hash (RFC 3079 §2.3): the
/// same key in both directions, `Get_Start_Key(Challenge,
/// PasswordHashHash)`. This is the 128-bit derivation; pppd and Linux use
/// its first 8 octets for 40-bit keys as well. For the RFC's LM-based
/// 40/56-bit keys use [`mppe_keys_mschapv1_lm`].
///
/// # Example
///
/// RFC 3079 §2.5:
///
/// ```
/// use pptp_proto::crypto::{mppe_keys_mschapv1, nt_password_hash, Password};
///
/// let nt_hash = nt_password_hash(&Password::new("clientPass")?);
/// let challenge = [0x10, 0x2D, 0xB5, 0xDF, 0x08, 0x5D, 0x30, 0x41];
/// let keys = mppe_keys_mschapv1(&nt_hash, &challenge);
/// assert_eq!(hex::encode(keys.send), "a8947850cfc0acc1d1789fb62ddcddb0");
/// assert_eq!(keys.recv, keys.send);
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn mppe_keys_mschapv1(nt_hash: &NtHash, challenge: &[u8; 8]) -> MppeKeys {
    let key = get_start_key(challenge, &hash_nt_password_hash(nt_hash));
    MppeKeys {
        send: *key.as_bytes(),
        recv: *key.as_bytes(),
    }
}

/// MPPE start keys from MS-CHAPv1 with the LM hash, for 40- and 56-bit
/// keys (RFC 3079 §2.1, §2.2): the first 8 octets of `LmPasswordHash` in
/// both directions.
///
/// # Example
///
/// With the LM hash of "clientPass" (RFC 3079 §2.5):
///
/// ```
/// use pptp_proto::crypto::{lm_password_hash, mppe_keys_mschapv1_lm, Password};
///
/// let lm_hash = lm_password_hash(&Password::new("clientPass")?).unwrap();
/// let keys = mppe_keys_mschapv1_lm(&lm_hash);
/// assert_eq!(hex::encode(&keys.send[..8]), "76a152936096d783");
/// assert_eq!(keys.send[8..], [0; 8]);
/// assert_eq!(keys.recv, keys.send);
/// # Ok::<(), pptp_proto::crypto::Error>(())
/// ```
pub fn mppe_keys_mschapv1_lm(lm_hash: &LmHash) -> MppeKeys {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&lm_hash.as_bytes()[..8]);
    let keys = MppeKeys {
        send: key,
        recv: key,
    };
    key.zeroize();
    keys
}

fn first16(digest: &[u8; 20]) -> [u8; 16] {
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}
