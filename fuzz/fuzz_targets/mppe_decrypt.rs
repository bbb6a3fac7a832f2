//! MPPE decryption of arbitrary packets in both modes: never panics, and a
//! packet MPPE refuses leaves the receive state as it was.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pptp_proto::crypto::{KeyLength, MppeKeys};
use pptp_proto::mppe::{Mppe, MppeOptions};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, packets)) = data.split_first() else {
        return;
    };
    let length = [KeyLength::Bits40, KeyLength::Bits56, KeyLength::Bits128][usize::from(mode % 3)];
    let options = MppeOptions::new(length, mode & 0x80 != 0);
    let keys = MppeKeys {
        send: [7; 16],
        recv: [9; 16],
    };
    let mut mppe = Mppe::new(options, &keys);
    for chunk in packets.chunks(64) {
        let before = mppe.receive_coherency_count();
        let mut buf = chunk.to_vec();
        if mppe.decrypt(&mut buf).is_err() {
            assert_eq!(mppe.receive_coherency_count(), before);
        }
    }
});
