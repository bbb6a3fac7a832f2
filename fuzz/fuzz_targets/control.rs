//! PPTP control messages: `frame_length` and `ControlMessage::parse` never
//! panic, and whatever parses re-emits the bytes it consumed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pptp_proto::wire::control::{frame_length, ControlMessage};

fuzz_target!(|data: &[u8]| {
    let framed = frame_length(data);
    if let Ok(msg) = ControlMessage::parse(data) {
        let mut out = Vec::new();
        msg.emit(&mut out);
        assert_eq!(out.len(), msg.buffer_len());
        assert_eq!(&out[..], &data[..out.len()]);
        assert_eq!(framed, Ok(Some(out.len())));
        let _ = msg.to_string();
    }
});
