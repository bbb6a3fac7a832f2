//! PAP, CHAP and the MS-CHAP values and messages: no panics; packets that
//! parse re-emit their bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pptp_proto::wire::auth::{
    ChapPacket, MsChapFailure, MsChapV1Response, MsChapV2Response, MsChapV2Success, PapPacket,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = PapPacket::parse(data) {
        let mut out = Vec::new();
        p.emit(&mut out);
        assert_eq!(out.len(), p.buffer_len());
        let _ = p.to_string();
    }
    if let Ok(p) = ChapPacket::parse(data) {
        let mut out = Vec::new();
        p.emit(&mut out);
        assert_eq!(out.len(), p.buffer_len());
        let _ = p.to_string();
    }
    let _ = MsChapV1Response::parse(data);
    let _ = MsChapV2Response::parse(data);
    if let Ok(s) = MsChapV2Success::parse(data) {
        let _ = s.to_string();
    }
    if let Ok(f) = MsChapFailure::parse(data) {
        let _ = f.to_string();
    }
});
