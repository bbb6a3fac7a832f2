//! Published MS-CHAP, CHAP-MD5 and MPPE key-derivation vectors, read from
//! the data files in `tests/vectors/`.

#[path = "vectors/reader.rs"]
mod reader;

use pptp_proto::crypto::key_derivation::{
    get_asymmetric_start_key, get_master_key, get_new_key_from_sha, get_start_key,
    initial_session_key, rekey, MAGIC2,
};
use pptp_proto::crypto::mschap::{
    check_authenticator_response, generate_authenticator_response, generate_nt_response,
    nt_challenge_response,
};
use pptp_proto::crypto::{
    challenge_hash, chap_md5, hash_nt_password_hash, lm_password_hash, mppe_keys_mschapv1,
    mppe_keys_mschapv1_lm, mppe_keys_mschapv2, mschapv1, mschapv2, nt_password_hash, parity_expand,
    strip_domain, AuthenticatorResponse, KeyLength, NtHash, Password, Role, SessionKey,
};
use pptp_proto::mppe::{Mppe, MppeOptions};
use reader::{load, record, Record};

fn password(r: &Record, key: &str) -> Password {
    Password::new(r.text(key)).expect("vector password fits")
}

fn key_length(r: &Record) -> KeyLength {
    match r.raw("key_length") {
        "40" => KeyLength::Bits40,
        "56" => KeyLength::Bits56,
        "128" => KeyLength::Bits128,
        other => panic!("bad key_length {other}"),
    }
}

fn session_key(bytes: &[u8]) -> SessionKey {
    let mut k = [0u8; 16];
    k[..bytes.len()].copy_from_slice(bytes);
    SessionKey::from_bytes(k)
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// RC4 with the initial session key, through the public API: a stateful
/// `Mppe` encrypts its first packet (count 0, no flush) with exactly that key.
fn rc4_initial_session_key(start: &[u8], length: KeyLength, plaintext: &[u8]) -> Vec<u8> {
    let mut send = [0u8; 16];
    send[..start.len()].copy_from_slice(start);
    let keys = pptp_proto::crypto::MppeKeys { send, recv: send };
    let mut mppe = Mppe::new(MppeOptions::new(length, false), &keys);
    let mut buf = vec![0u8; plaintext.len() + 2];
    buf[2..].copy_from_slice(plaintext);
    let n = mppe.encrypt(&mut buf, plaintext.len()).expect("fits");
    assert_eq!(&buf[..2], &[0x10, 0x00], "stateful count 0, not flushed");
    buf[2..n].to_vec()
}

#[test]
fn rfc2759_9_2_hash_example() {
    let r = record("rfc2759.txt", "rfc2759-9.2");
    let pw = password(&r, "password");
    let user = r.text("user_name").as_bytes();
    let auth = r.arr::<16>("authenticator_challenge");
    let peer = r.arr::<16>("peer_challenge");
    assert_eq!(utf16le(pw.as_str()), r.hex("password_utf16le"));
    assert_eq!(challenge_hash(&peer, &auth, user), r.arr::<8>("challenge"));
    let hash = nt_password_hash(&pw);
    assert_eq!(hash.as_bytes(), &r.arr::<16>("password_hash"));
    assert_eq!(
        hash_nt_password_hash(&hash).as_bytes(),
        &r.arr::<16>("password_hash_hash")
    );
    let nt_response = generate_nt_response(&auth, &peer, user, &hash);
    assert_eq!(nt_response, r.arr::<24>("nt_response"));
    let s = r.text("authenticator_response").as_bytes();
    let got = generate_authenticator_response(&hash, &nt_response, &peer, &auth, user);
    assert_eq!(&got.to_ascii()[..], s);
    assert!(check_authenticator_response(
        &hash,
        &nt_response,
        &peer,
        &auth,
        user,
        s
    ));
    let mut bad = s.to_vec();
    bad[41] ^= 1;
    assert!(!check_authenticator_response(
        &hash,
        &nt_response,
        &peer,
        &auth,
        user,
        &bad
    ));

    // The easy API gives the same values on both ends.
    let (nt, expected) = mschapv2::peer_response(&auth, &peer, user, &pw);
    assert_eq!(nt, nt_response);
    assert_eq!(expected, got);
    assert_eq!(mschapv2::verify(&auth, &peer, user, &nt, &hash), Some(got));
    let mut wrong = nt;
    wrong[0] ^= 0x80;
    assert_eq!(mschapv2::verify(&auth, &peer, user, &wrong, &hash), None);
}

#[test]
fn rfc2759_9_3_and_rfc2433_b3_des_keys() {
    for (file, name) in [
        ("rfc2759.txt", "rfc2759-9.3"),
        ("rfc2433.txt", "rfc2433-B.3"),
    ] {
        let r = record(file, name);
        let hash = r2759_9_3_hash();
        assert_eq!(&hash[..7], &r.hex("des_key_1")[..]);
        assert_eq!(&hash[7..14], &r.hex("des_key_2")[..]);
        assert_eq!(
            parity_expand(&r.arr::<7>("des_key_1")),
            r.arr::<8>("parity_key_1")
        );
        assert_eq!(
            parity_expand(&r.arr::<7>("des_key_2")),
            r.arr::<8>("parity_key_2")
        );
    }
}

fn r2759_9_3_hash() -> [u8; 16] {
    let r = record("rfc2759.txt", "rfc2759-9.3");
    let hash = nt_password_hash(&password(&r, "password"));
    assert_eq!(hash.as_bytes(), &r.arr::<16>("password_hash"));
    *hash.as_bytes()
}

#[test]
fn rfc2433_b2_mschapv1() {
    let r = record("rfc2433.txt", "rfc2433-B.2");
    let pw = password(&r, "password");
    let challenge = r.arr::<8>("challenge");
    assert_eq!(utf16le(pw.as_str()), r.hex("nt_password_utf16le"));
    let hash = nt_password_hash(&pw);
    assert_eq!(hash.as_bytes(), &r.arr::<16>("nt_password_hash"));
    assert_eq!(
        nt_challenge_response(&challenge, &hash),
        r.arr::<24>("nt_challenge_response")
    );
    let response = mschapv1::peer_response(&challenge, &pw);
    assert_eq!(response, r.arr::<49>("response_value"));
    assert!(mschapv1::verify(&challenge, &response, &hash));
    let mut lm_only = response;
    lm_only[48] = 0;
    assert!(!mschapv1::verify(&challenge, &lm_only, &hash));
    assert!(!mschapv1::verify(&challenge, &response[..48], &hash));
    let other = nt_password_hash(&Password::new("MyPW").expect("short"));
    assert!(!mschapv1::verify(&challenge, &response, &other));
}

#[test]
fn rfc3079_3_5_mschapv2_keys() {
    for name in ["rfc3079-3.5.1", "rfc3079-3.5.2", "rfc3079-3.5.3"] {
        let r = record("rfc3079.txt", name);
        let length = key_length(&r);
        let n = length.octets();
        let pw = password(&r, "password");
        let user = r.text("user_name").as_bytes();
        let auth = r.arr::<16>("authenticator_challenge");
        let peer = r.arr::<16>("peer_challenge");
        let hash = nt_password_hash(&pw);
        assert_eq!(hash.as_bytes(), &r.arr::<16>("password_hash"), "{name}");
        let hh = hash_nt_password_hash(&hash);
        assert_eq!(hh.as_bytes(), &r.arr::<16>("password_hash_hash"), "{name}");
        let nt_response = generate_nt_response(&auth, &peer, user, &hash);
        assert_eq!(nt_response, r.arr::<24>("nt_response"), "{name}");

        let master = get_master_key(&hh, &nt_response);
        assert_eq!(master.as_bytes(), &r.arr::<16>("master_key"), "{name}");
        let start = get_asymmetric_start_key(&master, true, true);
        let expected_start = r.hex("send_start_key");
        assert_eq!(&start.as_bytes()[..n], &expected_start[..], "{name}");
        // The server sends with it, the client receives with it.
        let server = mppe_keys_mschapv2(&hash, &nt_response, Role::Authenticator);
        let client = mppe_keys_mschapv2(&hash, &nt_response, Role::Peer);
        assert_eq!(&server.send[..n], &expected_start[..], "{name}");
        assert_eq!(server.send, client.recv);
        assert_eq!(server.recv, client.send);
        assert_ne!(server.send, server.recv);

        let session = initial_session_key(&session_key(&expected_start), length);
        assert_eq!(
            &session.as_bytes()[..n],
            &r.hex("send_session_key")[..],
            "{name}"
        );
        let ciphertext = rc4_initial_session_key(
            &expected_start,
            length,
            r.text("sample_plaintext").as_bytes(),
        );
        assert_eq!(ciphertext, r.hex("sample_ciphertext"), "{name}");
        if name == "rfc3079-3.5.2" {
            assert_ne!(ciphertext, r.hex("sample_ciphertext_printed_typo"));
        }
    }
}

#[test]
fn rfc3079_3_5_other_direction() {
    let r = record("rfc3079.txt", "rfc3079-3.5.3-magic2");
    let hash = nt_password_hash(&password(&r, "password"));
    let keys = mppe_keys_mschapv2(&hash, &r.arr::<24>("nt_response"), Role::Peer);
    assert_eq!(keys.send, r.arr::<16>("client_send_start_key"));
    let session = initial_session_key(&SessionKey::from_bytes(keys.send), key_length(&r));
    assert_eq!(session.as_bytes(), &r.arr::<16>("client_send_session_key"));
}

#[test]
fn rfc3079_2_5_mschapv1_keys() {
    let r = record("rfc3079.txt", "rfc3079-2.5");
    let pw = password(&r, "password");
    let lm = lm_password_hash(&pw).expect("10 ASCII characters");
    assert_eq!(lm.as_bytes(), &r.arr::<16>("lm_password_hash"));

    // 40/56-bit: GetKey over the first 8 octets of the LM hash, then reduced.
    let keys = mppe_keys_mschapv1_lm(&lm);
    assert_eq!(&keys.send[..8], &lm.as_bytes()[..8]);
    assert_eq!(keys.send, keys.recv);
    let start = SessionKey::from_bytes(keys.send);
    let unreduced = get_new_key_from_sha(&start, &start, KeyLength::Bits40);
    assert_eq!(&unreduced.as_bytes()[..8], &r.hex("session_key_64")[..]);
    assert_eq!(&unreduced.as_bytes()[8..], &[0u8; 8]);
    for (length, key) in [
        (KeyLength::Bits40, "session_key_40"),
        (KeyLength::Bits56, "session_key_56"),
    ] {
        let session = initial_session_key(&start, length);
        assert_eq!(&session.as_bytes()[..8], &r.hex(key)[..], "{key}");
    }

    // 128-bit: Get_Start_Key from the NT hash hash and the challenge.
    let hash = nt_password_hash(&pw);
    assert_eq!(hash.as_bytes(), &r.arr::<16>("nt_password_hash"));
    let hh = hash_nt_password_hash(&hash);
    assert_eq!(hh.as_bytes(), &r.arr::<16>("password_hash_hash"));
    let challenge = r.arr::<8>("challenge");
    let initial = get_start_key(&challenge, &hh);
    assert_eq!(initial.as_bytes(), &r.arr::<16>("initial_session_key"));
    assert_ne!(
        initial.as_bytes(),
        &r.arr::<16>("initial_session_key_printed_typo")
    );
    let keys = mppe_keys_mschapv1(&hash, &challenge);
    assert_eq!(keys.send, *initial.as_bytes());
    assert_eq!(keys.recv, *initial.as_bytes());
    let session = get_new_key_from_sha(&initial, &initial, KeyLength::Bits128);
    assert_eq!(session.as_bytes(), &r.arr::<16>("session_key_128"));
    assert_eq!(initial_session_key(&initial, KeyLength::Bits128), session);
}

#[test]
fn freeradius_mschapv1() {
    for name in ["freeradius-mschapv1-bob", "freeradius-mschapv1-john"] {
        let r = record("freeradius.txt", name);
        let pw = password(&r, "password");
        let challenge = r.arr::<8>("challenge");
        // MS-CHAP-Response: ident, flags, LM-Response (24), NT-Response (24).
        let attr = r.arr::<50>("ms_chap_response");
        assert_eq!(attr[1], 1, "{name}: use-NT flag");
        let hash = nt_password_hash(&pw);
        assert_eq!(
            nt_challenge_response(&challenge, &hash)[..],
            attr[26..50],
            "{name}"
        );
        let mut value = [0u8; 49];
        value[..48].copy_from_slice(&attr[2..50]);
        value[48] = attr[1];
        assert!(mschapv1::verify(&challenge, &value, &hash), "{name}");
        assert_eq!(mschapv1::peer_response(&challenge, &pw), value, "{name}");
    }

    // MS-CHAP-MPPE-Keys = LM-Key || NT-Key || zero padding.
    let r = record("freeradius.txt", "freeradius-mschapv1-bob");
    let pw = password(&r, "password");
    let keys = r.arr::<32>("ms_chap_mppe_keys");
    let lm = lm_password_hash(&pw).expect("short ASCII");
    assert_eq!(&lm.as_bytes()[..8], &keys[..8]);
    assert_eq!(
        hash_nt_password_hash(&nt_password_hash(&pw)).as_bytes(),
        &keys[8..24]
    );
    assert_eq!(&keys[24..], &[0u8; 8]);
}

#[test]
fn freeradius_mschapv2_domain_user() {
    let r = record("freeradius.txt", "freeradius-mschapv2-example-john");
    let pw = password(&r, "password");
    let user = r.text("user_name").as_bytes();
    assert_eq!(user, b"example\\john");
    let auth = r.arr::<16>("authenticator_challenge");
    // MS-CHAP2-Response: ident, flags, peer challenge, 8 reserved, NT-Response.
    let attr = r.arr::<50>("ms_chap2_response");
    let peer: [u8; 16] = attr[2..18].try_into().expect("16");
    let nt: [u8; 24] = attr[26..50].try_into().expect("24");
    assert_eq!(&attr[18..26], &[0u8; 8]);
    let hash = nt_password_hash(&pw);
    assert_eq!(generate_nt_response(&auth, &peer, user, &hash), nt);
    assert_eq!(generate_nt_response(&auth, &peer, b"john", &hash), nt);
    // With the domain hashed in, the response would differ.
    assert_ne!(
        generate_nt_response(&auth, &peer, b"examplejohn", &hash),
        nt
    );
    let s = r.text("authenticator_response").as_bytes();
    let expected = AuthenticatorResponse::from_ascii(s).expect("S=");
    assert_eq!(
        mschapv2::verify(&auth, &peer, user, &nt, &hash),
        Some(expected)
    );
    let (nt2, s2) = mschapv2::peer_response(&auth, &peer, user, &pw);
    assert_eq!((nt2, s2), (nt, expected));
}

#[test]
fn freeradius_challenge_hash_and_hashes() {
    let r = record("freeradius.txt", "freeradius-mschapv2-EXAMPLE-bob");
    let auth = r.arr::<16>("authenticator_challenge");
    let peer = r.arr::<16>("peer_challenge");
    let expected = r.arr::<8>("challenge");
    assert_eq!(
        challenge_hash(&peer, &auth, r.text("user_name").as_bytes()),
        expected
    );
    let bare = r.text("user_name_without_domain").as_bytes();
    assert_eq!(strip_domain(r.text("user_name").as_bytes()), bare);
    assert_eq!(challenge_hash(&peer, &auth, bare), expected);

    let r = record("freeradius.txt", "freeradius-hashes-testing_123");
    let pw = password(&r, "password");
    assert_eq!(nt_password_hash(&pw).as_bytes(), &r.arr::<16>("nt_hash"));
    assert_eq!(
        lm_password_hash(&pw).expect("11 ASCII").as_bytes(),
        &r.arr::<16>("lm_hash")
    );
}

#[test]
fn hashcat_chap_md5() {
    let records = load("hashcat_chap_md5.txt");
    assert_eq!(records.len(), 2);
    for r in records {
        let secret = password(&r, "secret");
        let id = r.arr::<1>("identifier")[0];
        let challenge = r.hex("challenge");
        let response = r.arr::<16>("response");
        assert_eq!(
            chap_md5::response(id, &secret, &challenge),
            response,
            "{}",
            r.name
        );
        assert!(chap_md5::verify(id, &secret, &challenge, &response));
        assert!(!chap_md5::verify(id ^ 1, &secret, &challenge, &response));
        assert!(!chap_md5::verify(id, &secret, &challenge, &response[..15]));
    }
}

#[test]
fn chapcrack_pptp_cap() {
    let r = record("chapcrack.txt", "chapcrack-pptp-cap");
    let pw = password(&r, "password");
    let user = r.text("user_name").as_bytes();
    let auth = r.arr::<16>("authenticator_challenge");
    let value = r.arr::<49>("response_value");
    let peer: [u8; 16] = value[..16].try_into().expect("16");
    let nt: [u8; 24] = value[24..48].try_into().expect("24");
    let hash = nt_password_hash(&pw);
    assert_eq!(hash, NtHash::from_bytes(r.arr::<16>("nt_hash")));
    assert_eq!(generate_nt_response(&auth, &peer, user, &hash), nt);
    let success = r.text("success_message").as_bytes();
    assert!(check_authenticator_response(
        &hash,
        &nt,
        &peer,
        &auth,
        user,
        &success[..42]
    ));
    assert_eq!(
        mschapv2::verify(&auth, &peer, user, &nt, &hash).map(|s| s.to_ascii()),
        Some(success[..42].try_into().expect("42"))
    );
}

#[test]
fn pptpcrack_capture_key_schedule() {
    let r = record("pptpcrack_mppe.txt", "pptpcrack-test-pcap");
    let pw = password(&r, "password");
    let user = r.text("user_name").as_bytes();
    let auth = r.arr::<16>("authenticator_challenge");
    let value = r.arr::<49>("response_value");
    let peer: [u8; 16] = value[..16].try_into().expect("16");
    let nt: [u8; 24] = value[24..48].try_into().expect("24");
    assert_eq!(
        challenge_hash(&peer, &auth, user),
        r.arr::<8>("challenge_hash")
    );
    let hash = nt_password_hash(&pw);
    assert_eq!(hash.as_bytes(), &r.arr::<16>("password_hash"));
    let hh = hash_nt_password_hash(&hash);
    assert_eq!(hh.as_bytes(), &r.arr::<16>("password_hash_hash"));
    let success = r.text("success_message").as_bytes();
    assert_eq!(
        mschapv2::verify(&auth, &peer, user, &nt, &hash).map(|s| s.to_ascii().to_vec()),
        Some(success.to_vec())
    );
    let master = get_master_key(&hh, &nt);
    assert_eq!(master.as_bytes(), &r.arr::<16>("master_key"));

    let client = mppe_keys_mschapv2(&hash, &nt, Role::Peer);
    let server = mppe_keys_mschapv2(&hash, &nt, Role::Authenticator);
    assert_eq!(client.send, r.arr::<16>("client_send_start_key"));
    assert_eq!(server.send, r.arr::<16>("server_send_start_key"));
    assert_eq!(client.recv, server.send);
    assert_eq!(server.recv, client.send);

    for (start, side) in [(client.send, "client"), (server.send, "server")] {
        let start = SessionKey::from_bytes(start);
        let initial = initial_session_key(&start, KeyLength::Bits128);
        assert_eq!(
            initial.as_bytes(),
            &r.arr::<16>(&format!("{side}_initial_session_key"))
        );
        // Count 0 is already rekeyed once, count 1 twice.
        let k0 = rekey(&start, &initial, KeyLength::Bits128);
        assert_eq!(
            k0.as_bytes(),
            &r.arr::<16>(&format!("{side}_session_key_ccount0"))
        );
        let k1 = rekey(&start, &k0, KeyLength::Bits128);
        assert_eq!(
            k1.as_bytes(),
            &r.arr::<16>(&format!("{side}_session_key_ccount1"))
        );
    }
}

#[test]
fn md4_md5_sha1_suites_and_magic2() {
    use md4::Digest as _;
    let records = load("md4_md5.txt");
    assert_eq!(records.len(), 8);
    for r in &records {
        let input = r.text("input").as_bytes();
        assert_eq!(md4::Md4::digest(input)[..], r.hex("md4")[..], "{}", r.name);
        assert_eq!(md5::Md5::digest(input)[..], r.hex("md5")[..], "{}", r.name);
    }
    let r = record("md4_md5.txt", "pppd-magic2");
    assert_eq!(r.text("input").as_bytes(), &MAGIC2[..]);
    assert_eq!(sha1::Sha1::digest(MAGIC2)[..], r.hex("sha1")[..]);
}
