//! Decrypts a real Windows RRAS PPTP session: the MS-CHAPv2 exchange of the
//! session starting at frame 270 of `pptpcrack_test.pcap` (user `vpnuser`,
//! password `vpnuser123`) is verified, both MPPE directions are derived, and
//! every MPPE frame after the handshake must decrypt to IPv4 with a valid
//! header checksum.
//!
//! `cargo test --test windows_capture -- --nocapture`

mod common;

use common::sessions::{decrypt, find_sessions, valid_ipv4, AuthSeen, DecryptError, Session};
use common::{read_capture, require_captures};
use pptp_proto::wire::mppe::MppeBits;
use pptp_proto::wire::ppp::Protocol;

fn sessions_of(name: &str) -> Option<Vec<Session>> {
    let dir = require_captures("windows_capture")?;
    Some(find_sessions(&read_capture(&dir.join(name))))
}

#[test]
fn windows_rras_session_decrypts_to_valid_ipv4() {
    let Some(sessions) = sessions_of("pptpcrack_test.pcap") else {
        return;
    };
    // Frames 1–127 belong to an earlier session whose handshake is not captured.
    assert!(matches!(sessions[0].auth, AuthSeen::None));
    let session = sessions
        .iter()
        .find(|s| s.first_frame >= 270)
        .expect("the session starting at frame 270");
    let AuthSeen::MsChapV2(x) = &session.auth else {
        panic!("expected MS-CHAPv2, got {:?}", session.auth);
    };
    assert_eq!(x.username, "vpnuser");
    assert_eq!(x.server_name, "WIN-9BAGS70V5IP");
    assert!(x.authenticator_response.is_some(), "no S= in the capture");
    // CCP settled on 128-bit stateless (H + S).
    assert_eq!(
        session.mppe_bits,
        Some(MppeBits::STATELESS | MppeBits::BITS_128)
    );

    assert_eq!(
        decrypt(session, "vpnuser1234").unwrap_err(),
        DecryptError::WrongPassword
    );
    let frames = decrypt(session, "vpnuser123").expect("password verifies");
    let mut totals = [(0usize, 0usize); 2];
    for (i, dir) in [(0, true), (1, false)] {
        let sent = session.mppe.iter().filter(|m| m.from_client == dir).count();
        let valid = frames
            .iter()
            .filter(|f| f.from_client == dir)
            .filter(|f| f.protocol == Protocol::IPV4 && valid_ipv4(&f.payload))
            .count();
        totals[i] = (valid, sent);
        let name = if dir {
            "client -> server"
        } else {
            "server -> client"
        };
        println!("{name}: decrypted {valid}/{sent} MPPE frames to valid IPv4");
        assert_eq!(valid, sent, "{name}: some frames did not decrypt");
    }
    let (valid, sent) = (totals[0].0 + totals[1].0, totals[0].1 + totals[1].1);
    println!("total: decrypted {valid}/{sent}");
    assert_eq!(sent, 689, "SOURCES.md: 689 MPPE frames after the handshake");
    assert_eq!(valid, 689);
}

#[test]
fn chapcrack_authenticator_response_verifies() {
    let Some(sessions) = sessions_of("chapcrack_pptp.cap") else {
        return;
    };
    let session = sessions
        .iter()
        .find(|s| matches!(s.auth, AuthSeen::MsChapV2(_)))
        .expect("an MS-CHAPv2 exchange");
    let AuthSeen::MsChapV2(x) = &session.auth else {
        unreachable!()
    };
    assert_eq!(x.username, "moxie");
    // No CCP in this three-frame capture: the password verifies (NT-Response
    // and S=), then decryption stops for want of MPPE options.
    assert_eq!(
        decrypt(session, "bPCFyF2uL1p5Lg5yrKmqmY").unwrap_err(),
        DecryptError::NoMppe
    );
    assert_eq!(
        decrypt(session, "bPCFyF2uL1p5Lg5yrKmqmZ").unwrap_err(),
        DecryptError::WrongPassword
    );
}
