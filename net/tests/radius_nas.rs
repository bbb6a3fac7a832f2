//! The example server's RADIUS codec (`examples/support/radius_nas.rs`)
//! without a server: what it writes beside the `radius` crate (RFC 2548
//! key hiding, MS-CHAP attributes, Message-Authenticator) and that hostile
//! bytes are errors, never panics. Against FreeRADIUS: `tests/radius.rs`.

#[allow(dead_code)]
#[path = "../examples/support/radius_nas.rs"]
mod radius_nas;

use std::net::Ipv4Addr;
use std::time::Duration;

use hmac::{Hmac, Mac};
use md5::Md5;
use pptp_proto::crypto::{hash_nt_password_hash, mppe_keys_mschapv1, nt_password_hash, Password};
use pptp_proto::ppp::auth::{AuthExchange, Verdict};
use radius::core::avp::AVP;
use radius::core::code::Code;
use radius::core::packet::Packet;
use radius::core::rfc2865;
use radius_nas::*;

const SECRET: &[u8] = b"testing123-pptp";

fn config() -> RadiusConfig {
    RadiusConfig {
        auth: "127.0.0.1:1812".parse().unwrap(),
        acct: "127.0.0.1:1813".parse().unwrap(),
        secret: SECRET.to_vec(),
        nas_identifier: "nas".into(),
        nas_ip: None,
        timeout: Duration::from_secs(1),
        tries: 1,
    }
}

fn v2_request(identifier: u8) -> Vec<u8> {
    let exchange = AuthExchange::MsChapV2 {
        identifier: 1,
        authenticator_challenge: [9; 16],
        peer_challenge: [7; 16],
        nt_response: [3; 24],
        flags: 0,
    };
    access_request(
        &config(),
        identifier,
        "alice",
        &exchange,
        5,
        Ipv4Addr::LOCALHOST.into(),
    )
}

/// A Microsoft Vendor-Specific attribute, built by hand.
fn ms(vendor_type: u8, value: &[u8]) -> AVP {
    let mut v = 311u32.to_be_bytes().to_vec();
    v.extend([vendor_type, value.len() as u8 + 2]);
    v.extend_from_slice(value);
    AVP::from_bytes(26, &v)
}

/// An Access-Accept for `request`, as a RADIUS server signs it.
fn accept(request: &[u8], secret: &[u8], attributes: Vec<AVP>) -> Vec<u8> {
    let req = Packet::decode(request, secret).unwrap();
    let mut reply = req.make_response_packet(Code::AccessAccept);
    for a in attributes {
        reply.add(a);
    }
    reply.encode().unwrap()
}

#[test]
fn ms_mppe_keys_decrypt_as_a_radius_server_hides_them() {
    let request = v2_request(1);
    let ra = &request[4..20];
    let key = [0x5a; 16];
    let hidden = encrypt_mppe_key(&key, [0x80, 0x01], ra, SECRET);
    assert_eq!(hidden.len(), 2 + 32); // salt + (length, key, padding)
    assert_eq!(decrypt_mppe_key(&hidden, ra, SECRET), Some(key));
    // The wrong secret, a salt without its high bit, a short value: none.
    assert_ne!(decrypt_mppe_key(&hidden, ra, b"other"), Some(key));
    let mut low_salt = hidden.clone();
    low_salt[0] = 0x01;
    assert_eq!(decrypt_mppe_key(&low_salt, ra, SECRET), None);
    assert_eq!(decrypt_mppe_key(&hidden[..10], ra, SECRET), None);
}

#[test]
fn eap_tls_32_octet_ms_mppe_keys_keep_all_their_octets_and_mppe_takes_16() {
    // PEAP and EAP-TLS send the MSK's halves (RFC 5216 §2.3): 32 octets
    // each, Key-Length 32, 33 octets padded to 48.
    let request = v2_request(6);
    let ra = request[4..20].to_vec();
    let send: Vec<u8> = (0..32).collect();
    let recv: Vec<u8> = (100..132).collect();
    let hidden_send = encrypt_mppe_key(&send, [0x80, 0x04], &ra, SECRET);
    let hidden_recv = encrypt_mppe_key(&recv, [0x80, 0x05], &ra, SECRET);
    assert_eq!(hidden_send.len(), 2 + 48);
    assert_eq!(
        decrypt_mppe_key_octets(&hidden_send, &ra, SECRET),
        Some(send.clone())
    );
    assert_eq!(
        decrypt_mppe_key(&hidden_send, &ra, SECRET).unwrap()[..],
        send[..16]
    );
    let reply = accept(
        &request,
        SECRET,
        vec![ms(16, &hidden_send), ms(17, &hidden_recv)],
    );
    assert_eq!(
        ms_mppe_keys(&reply, &request, SECRET),
        Some((send.clone(), recv.clone()))
    );
    // The verdict carries what MPPE uses: the first 16 octets of each.
    let Verdict::Accept(a) = verdict_of(&reply, &request, SECRET).unwrap() else {
        panic!("not an accept");
    };
    let keys = a.mppe_keys.unwrap();
    assert_eq!((&keys.send[..], &keys.recv[..]), (&send[..16], &recv[..16]));
    // A Key-Length beyond the octets there, or under 16: none.
    let mut short = recv.clone();
    short.truncate(15);
    let hidden_short = encrypt_mppe_key(&short, [0x80, 0x06], &ra, SECRET);
    assert_eq!(decrypt_mppe_key_octets(&hidden_short, &ra, SECRET), None);
    assert_eq!(
        ms_mppe_keys(&accept(&request, SECRET, vec![]), &request, SECRET),
        None
    );
}

#[test]
fn ms_mppe_key_against_an_independent_computation() {
    // RFC 2548 §2.4.2 step by step, apart from the module's loop (secret
    // "testing123-pptp", authenticator 00..0f, salt 80 01, key 00..0f):
    // b1 = md5(secret + ra + salt); c1 = (16, 00..0e) ^ b1;
    // b2 = md5(secret + c1); c2 = (0f, 0 * 15) ^ b2.
    let ra: Vec<u8> = (0..16).collect();
    let key: Vec<u8> = (0..16).collect();
    let hidden = encrypt_mppe_key(&key, [0x80, 0x01], &ra, SECRET);
    let b1 = md5_of(&[SECRET, &ra, &[0x80, 0x01]]);
    let mut plain1 = vec![16u8];
    plain1.extend(0..15u8);
    let c1: Vec<u8> = plain1.iter().zip(b1).map(|(p, b)| p ^ b).collect();
    assert_eq!(&hidden[2..18], &c1[..]);
    let b2 = md5_of(&[SECRET, &c1]);
    assert_eq!(hidden[18], 15 ^ b2[0]);
}

fn md5_of(parts: &[&[u8]]) -> [u8; 16] {
    use md5::Digest;
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

#[test]
fn an_access_accept_gives_keys_s_address_timeouts_and_class() {
    let request = v2_request(7);
    let ra = request[4..20].to_vec();
    let mut s = b"\x01S=".to_vec();
    s.extend(b"0123456789ABCDEF0123456789ABCDEF01234567");
    let mut attributes = vec![
        ms(16, &encrypt_mppe_key(&[1; 16], [0x80, 0x02], &ra, SECRET)),
        ms(17, &encrypt_mppe_key(&[2; 16], [0x80, 0x03], &ra, SECRET)),
        ms(26, &s),
        AVP::from_ipv4(8, &Ipv4Addr::new(10, 77, 0, 9)),
        AVP::from_u32(27, 3600),
        AVP::from_u32(28, 600),
        AVP::from_u32(85, 60),
    ];
    attributes.push(AVP::from_bytes(25, b"gold"));
    let reply = accept(&request, SECRET, attributes);
    let Verdict::Accept(a) = verdict_of(&reply, &request, SECRET).unwrap() else {
        panic!("not an accept");
    };
    let keys = a.mppe_keys.unwrap();
    assert_eq!((keys.send, keys.recv), ([1; 16], [2; 16]));
    let s = a.authenticator_response.unwrap();
    assert_eq!(&s[..3], &[0x01, 0x23, 0x45]);
    assert_eq!(a.address, Some(Ipv4Addr::new(10, 77, 0, 9)));
    assert_eq!(a.session_timeout, Some(Duration::from_secs(3600)));
    assert_eq!(a.idle_timeout, Some(Duration::from_secs(600)));
    assert_eq!(a.interim_interval, Some(Duration::from_secs(60)));
    assert_eq!(a.class, b"gold");
    // "The NAS chooses" is no address.
    let reply = accept(
        &request,
        SECRET,
        vec![AVP::from_ipv4(8, &Ipv4Addr::new(255, 255, 255, 254))],
    );
    let Verdict::Accept(a) = verdict_of(&reply, &request, SECRET).unwrap() else {
        panic!()
    };
    assert_eq!(a.address, None);
}

#[test]
fn ms_chap_mppe_keys_give_the_keys_the_client_derives() {
    let pw = Password::new("secret").unwrap();
    let exchange = AuthExchange::MsChapV1 {
        identifier: 1,
        challenge: [4; 8],
        lm_response: [0; 24],
        nt_response: [5; 24],
        flags: 1,
    };
    let request = access_request(
        &config(),
        3,
        "alice",
        &exchange,
        1,
        Ipv4Addr::LOCALHOST.into(),
    );
    // FreeRADIUS's MS-CHAP-MPPE-Keys: LM key (8), NtPasswordHashHash (16),
    // padding, hidden like User-Password.
    let mut plain = vec![0u8; 8];
    plain.extend_from_slice(hash_nt_password_hash(&nt_password_hash(&pw)).as_bytes());
    plain.extend([0; 8]);
    let hidden = user_password_cipher(&plain, &request[4..20], SECRET, false);
    let reply = accept(&request, SECRET, vec![ms(12, &hidden)]);
    let Verdict::Accept(a) = verdict_of(&reply, &request, SECRET).unwrap() else {
        panic!()
    };
    assert_eq!(
        a.mppe_keys,
        Some(mppe_keys_mschapv1(&nt_password_hash(&pw), &[4; 8]))
    );
}

#[test]
fn ms_chap_error_becomes_the_rejection() {
    let r = parse_error(b"\x01E=691 R=1 C=00112233445566778899AABBCCDDEEFF V=3 M=bad").unwrap();
    assert_eq!(
        (r.error, r.retry, r.message.as_deref()),
        (691, true, Some("bad"))
    );
    let r = parse_error(b"\x01E=647 R=0 V=3").unwrap();
    assert_eq!((r.error, r.retry, r.message), (647, false, None));
    let request = v2_request(2);
    let req = Packet::decode(&request, SECRET).unwrap();
    let mut reject = req.make_response_packet(Code::AccessReject);
    reject.add(ms(2, b"\x01E=649 R=0 V=3"));
    let reply = reject.encode().unwrap();
    let Verdict::Reject(r) = verdict_of(&reply, &request, SECRET).unwrap() else {
        panic!()
    };
    assert_eq!(r.error, 649);
}

#[test]
fn a_forged_answer_is_not_authentic() {
    let request = v2_request(4);
    let forged = accept(&request, b"not-the-secret", vec![]);
    assert!(matches!(
        verdict_of(&forged, &request, SECRET),
        Err(RadiusError::NotAuthentic)
    ));
}

#[test]
fn the_access_request_is_signed_and_carries_the_ms_chap2_response() {
    let request = v2_request(9);
    let at = request.len() - 16;
    assert_eq!(request[at - 2], 80);
    let mut zeroed = request.clone();
    zeroed[at..].fill(0);
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(SECRET).unwrap();
    mac.update(&zeroed);
    assert_eq!(&request[at..], &mac.finalize().into_bytes()[..]);
    let p = Packet::decode(&request, SECRET).unwrap();
    assert_eq!(rfc2865::lookup_user_name(&p).unwrap().unwrap(), "alice");
    // MS-CHAP2-Response: vendor 311, type 25, length 52.
    let vsa: Vec<Vec<u8>> = p.lookup_all(26).iter().map(|a| a.encode_bytes()).collect();
    assert!(vsa.iter().any(|v| v[4] == 25 && v[5] == 52 && v[6] == 1));
}

#[test]
fn disconnect_requests_round_trip_and_forgeries_are_refused() {
    let mut p = Packet::new(Code::DisconnectRequest, SECRET);
    radius::core::rfc2866::add_acct_session_id(&mut p, "ABCD0001");
    let bytes = p.encode().unwrap();
    let d = parse_disconnect(&bytes, SECRET).unwrap();
    assert_eq!(d.session_id.as_deref(), Some("ABCD0001"));
    for (found, code) in [(true, 41), (false, 42)] {
        let reply = disconnect_reply(&bytes, SECRET, found);
        assert_eq!(reply[0], code);
        assert!(Packet::is_authentic_response(&reply, &bytes, SECRET));
    }
    assert!(matches!(
        parse_disconnect(&bytes, b"other"),
        Err(RadiusError::NotAuthentic)
    ));
}

#[test]
fn hostile_bytes_are_errors_not_panics() {
    let request = v2_request(5);
    let mut x: u32 = 0x1234_5678;
    for len in 0..300 {
        let mut bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let _ = verdict_of(&bytes, &request, SECRET);
        let _ = parse_disconnect(&bytes, SECRET);
        if len >= 20 {
            // Valid header, random attributes.
            bytes[0] = 40;
            bytes[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            let _ = parse_disconnect(&bytes, SECRET);
            let _ = disconnect_reply(&bytes, SECRET, false);
        }
        let _ = decrypt_mppe_key(&bytes, &request[4..20], SECRET);
        let _ = ms_mppe_keys(&bytes, &request, SECRET);
        let _ = parse_error(&bytes);
    }
}

/// An answer of `code` to `request` carrying `eap` as EAP-Message, signed
/// with a Message-Authenticator as RFC 3579 §3.2 says (`forge`: a wrong one;
/// `sign`: none at all when false).
fn eap_answer(request: &[u8], code: Code, eap: &[u8], sign: bool, forge: bool) -> Vec<u8> {
    let build = |ma: Option<[u8; 16]>| {
        let req = Packet::decode(request, SECRET).unwrap();
        let mut reply = req.make_response_packet(code);
        radius::core::rfc2869::add_eap_message(&mut reply, eap);
        rfc2865::add_state(&mut reply, b"round-1");
        if let Some(ma) = ma {
            reply.add(AVP::from_bytes(80, &ma));
        }
        reply.encode().unwrap()
    };
    if !sign {
        return build(None);
    }
    let mut zeroed = build(Some([0; 16]));
    zeroed[4..20].copy_from_slice(&request[4..20]);
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(SECRET).unwrap();
    mac.update(&zeroed);
    let mut ma: [u8; 16] = mac.finalize().into_bytes().into();
    if forge {
        ma[0] ^= 1;
    }
    build(Some(ma))
}

#[test]
fn eap_rounds_go_out_as_eap_message_and_an_access_challenge_is_a_challenge() {
    // The peer's Identity Response, relayed (RFC 3579 §3.1) with the State
    // of the last Access-Challenge.
    let identity = b"\x02\x01\x00\x0a\x01alice".to_vec();
    let exchange = AuthExchange::Eap {
        packet: identity.clone(),
    };
    let request = access_request_with_state(
        &config(),
        3,
        "alice",
        &exchange,
        5,
        Ipv4Addr::LOCALHOST.into(),
        Some(b"round-0"),
    );
    let packet = Packet::decode(&request, SECRET).unwrap();
    assert_eq!(
        radius::core::rfc2869::lookup_eap_message(&packet),
        Some(identity)
    );
    assert_eq!(rfc2865::lookup_state(&packet), Some(b"round-0".to_vec()));
    // A long Response is split into 253-octet attributes and joined back.
    let mut long = b"\x02\x02\x02\x00\x19".to_vec();
    long.resize(512, 0xab);
    let request = access_request(
        &config(),
        4,
        "alice",
        &AuthExchange::Eap {
            packet: long.clone(),
        },
        5,
        Ipv4Addr::LOCALHOST.into(),
    );
    let packet = Packet::decode(&request, SECRET).unwrap();
    assert_eq!(packet.lookup_all(79).len(), 3);
    assert_eq!(
        radius::core::rfc2869::lookup_eap_message(&packet),
        Some(long)
    );

    // The server's next EAP Request comes back as Verdict::Challenge.
    let md5_request = b"\x01\x02\x00\x16\x04\x10AAAAAAAAAAAAAAAA".to_vec();
    let reply = eap_answer(&request, Code::AccessChallenge, &md5_request, true, false);
    assert_eq!(
        message_authenticator_ok(&reply, &request, SECRET),
        Some(true)
    );
    assert_eq!(
        verdict_of(&reply, &request, SECRET).unwrap(),
        Verdict::Challenge(md5_request.clone())
    );
    assert_eq!(state_of(&reply, SECRET), Some(b"round-1".to_vec()));
    // A wrong Message-Authenticator, or none beside EAP-Message: not authentic.
    for (sign, forge) in [(true, true), (false, false)] {
        let reply = eap_answer(&request, Code::AccessChallenge, &md5_request, sign, forge);
        assert!(
            matches!(
                verdict_of(&reply, &request, SECRET),
                Err(RadiusError::NotAuthentic)
            ),
            "signed {sign}, forged {forge}"
        );
    }
    // Access-Reject with EAP-Failure is a Reject; Accept with EAP-Success an Accept.
    let reply = eap_answer(
        &request,
        Code::AccessReject,
        b"\x04\x02\x00\x04",
        true,
        false,
    );
    assert!(matches!(
        verdict_of(&reply, &request, SECRET),
        Ok(Verdict::Reject(_))
    ));
    let reply = eap_answer(
        &request,
        Code::AccessAccept,
        b"\x03\x02\x00\x04",
        true,
        false,
    );
    assert!(matches!(
        verdict_of(&reply, &request, SECRET),
        Ok(Verdict::Accept(_))
    ));
}
