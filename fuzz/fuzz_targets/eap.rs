//! EAP packets and their MS-CHAPv2 values: no panics; what parses re-emits
//! its first Length bytes (MS-Length rewritten to Length − 5) and
//! `buffer_len` agrees.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pptp_proto::wire::auth::{MsChapFailure, MsChapV2Response, MsChapV2Success};
use pptp_proto::wire::eap::{EapData, EapMsChapV2, EapPacket};

fuzz_target!(|data: &[u8]| {
    let Ok(p) = EapPacket::parse(data) else {
        return;
    };
    let mut out = Vec::new();
    p.emit(&mut out);
    assert_eq!(out.len(), p.buffer_len());
    let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
    let mut expected = data[..len].to_vec();
    let ms = match p {
        EapPacket::Request {
            data: EapData::MsChapV2(ms),
            ..
        }
        | EapPacket::Response {
            data: EapData::MsChapV2(ms),
            ..
        } => Some(ms),
        _ => None,
    };
    if ms.is_some_and(|ms| ms.ms_chap_id().is_some()) {
        // MS-Length is not checked on parse; emit writes the right one.
        expected[7..9].copy_from_slice(&u16::try_from(len - 5).unwrap().to_be_bytes());
    }
    assert_eq!(out, expected);
    assert_eq!(EapPacket::parse(&out).unwrap(), p);
    let _ = p.to_string();
    match ms {
        Some(EapMsChapV2::Response { response, .. }) => {
            if let Ok(r) = MsChapV2Response::parse(response) {
                let mut v = Vec::new();
                r.emit(&mut v);
                assert_eq!(v, response);
            }
        }
        Some(EapMsChapV2::Success { message, .. }) => {
            if let Ok(s) = MsChapV2Success::parse(message) {
                let _ = s.to_string();
            }
        }
        Some(EapMsChapV2::Failure { message, .. }) => {
            if let Ok(f) = MsChapFailure::parse(message) {
                let _ = f.to_string();
            }
        }
        _ => {}
    }
});
