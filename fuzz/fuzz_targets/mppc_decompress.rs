//! The MPPC decompressor over a sequence of packets: never panics, never
//! returns more than its maximum, and after an error asks for a reset.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pptp_proto::mppc::{MppcDecompressor, MppcFlags, HISTORY_SIZE};

fuzz_target!(|data: &[u8]| {
    let mut d = MppcDecompressor::new();
    // Packets: a flags byte, a length byte, then that many bytes.
    let mut rest = data;
    while let [flags, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (packet, next) = tail.split_at(n);
        match d.decompress(MppcFlags::from_bits_truncate(*flags), packet) {
            Ok(out) => assert!(out.len() <= HISTORY_SIZE),
            Err(_) => assert!(d.needs_reset()),
        }
        rest = next;
    }
});
