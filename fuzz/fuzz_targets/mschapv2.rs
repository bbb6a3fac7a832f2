//! MS-CHAPv2 messages: `S=`/`E=` texts and Change-Password packets. No
//! panics; every message that parses re-parses to itself after `emit`
//! (which writes the canonical form), and a fuzzed `S=` never verifies
//! unless it is the right authenticator response.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pptp_proto::crypto::mschap::AuthenticatorResponse;
use pptp_proto::crypto::mschapv2::peer_response;
use pptp_proto::crypto::Password;
use pptp_proto::wire::auth::{ChapPacket, MsChapFailure, MsChapV2Success};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = MsChapV2Success::parse(data) {
        let mut out = Vec::new();
        s.emit(&mut out);
        assert_eq!(out.len(), s.buffer_len());
        assert_eq!(MsChapV2Success::parse(&out), Ok(s));
        let _ = s.to_string();
        // Mutual authentication: only the one right response passes.
        let password = Password::new("secret").unwrap();
        let (_, expected) = peer_response(&[1; 16], &[2; 16], b"alice", &password);
        let got = AuthenticatorResponse(s.authenticator_response);
        assert_eq!(got == expected, s.authenticator_response == expected.0);
        if s.message.is_none() {
            let ascii = AuthenticatorResponse::from_ascii(data).expect("S= alone parses");
            assert_eq!(ascii.0, s.authenticator_response);
        }
    }
    if let Ok(f) = MsChapFailure::parse(data) {
        let mut out = Vec::new();
        f.emit(&mut out);
        assert_eq!(out.len(), f.buffer_len());
        assert_eq!(MsChapFailure::parse(&out), Ok(f));
        let _ = f.to_string();
    }
    // Change-Password (code 7) is 4 + 586 bytes: pad short inputs to reach it.
    let mut packet = vec![7, data.first().copied().unwrap_or(0), 0x02, 0x4e];
    packet.extend_from_slice(data.get(1..).unwrap_or_default());
    packet.resize(590, 0);
    if let Ok(p) = ChapPacket::parse(&packet) {
        assert!(matches!(p, ChapPacket::ChangePassword(_)));
        let mut out = Vec::new();
        p.emit(&mut out);
        assert_eq!(out, packet);
        let _ = p.to_string();
    }
    if let Ok(p) = ChapPacket::parse(data) {
        let mut out = Vec::new();
        p.emit(&mut out);
        assert_eq!(ChapPacket::parse(&out), Ok(p));
    }
});
