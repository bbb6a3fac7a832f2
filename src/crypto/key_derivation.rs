//! MPPE key derivation (RFC 3079), from MS-CHAPv1 and MS-CHAPv2
//! credentials, and the rekeying step of RFC 3078 §7.3.

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

/// Which end of the link the keys are for (RFC 3079 §3.3 `IsServer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The peer that authenticates itself (PPTP PNS, the dial-in client).
    Client,
    /// The authenticator (PPTP PAC, the access server).
    Server,
}

/// MPPE session key strength (CCP option 18 bits L, M, S).
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
    /// How many octets the RC4 key and the key derivation use.
    pub const fn octets(self) -> usize {
        match self {
            Self::Bits40 | Self::Bits56 => 8,
            Self::Bits128 => 16,
        }
    }
}

/// `GetMasterKey` (RFC 3079 §3.4): SHA-1(PasswordHashHash ‖ NT-Response ‖
/// Magic1), first 16 octets.
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
pub fn reduce_session_key(key: &mut [u8; 16], length: KeyLength) {
    match length {
        KeyLength::Bits40 => key[..3].copy_from_slice(&[0xD1, 0x26, 0x9E]),
        KeyLength::Bits56 => key[0] = 0xD1,
        KeyLength::Bits128 => {}
    }
}

/// The initial session key of one direction: `GetNewKeyFromSHA(StartKey,
/// StartKey)`, reduced (RFC 3079 §3.5). No RC4 step.
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
pub fn rekey(start_key: &SessionKey, current_key: &SessionKey, length: KeyLength) -> SessionKey {
    let mut current = *current_key.as_bytes();
    let mut rc4 = Rc4::new(&[0]);
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
pub fn mppe_keys_mschapv2(nt_hash: &NtHash, nt_response: &[u8; 24], role: Role) -> MppeKeys {
    let master = get_master_key(&hash_nt_password_hash(nt_hash), nt_response);
    let is_server = role == Role::Server;
    MppeKeys {
        send: *get_asymmetric_start_key(&master, true, is_server).as_bytes(),
        recv: *get_asymmetric_start_key(&master, false, is_server).as_bytes(),
    }
}

/// `Get_Start_Key` (RFC 3079 §2.4): SHA-1(PasswordHashHash ‖
/// PasswordHashHash ‖ Challenge), first 16 octets.
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
