//! The MPPE/MPPC header and the CCP option 18 bits: no panics, the header
//! re-emits its two bytes, the coherency count stays within 12 bits, and
//! option bits survive a round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pptp_proto::wire::mppe::{mppe_bits_display, MppeBits, MppeHeader};

fuzz_target!(|data: &[u8]| {
    match MppeHeader::parse(data) {
        Ok((header, rest)) => {
            assert_eq!(rest, &data[2..]);
            assert!(header.coherency_count.get() < 0x1000);
            let mut out = Vec::new();
            header.emit(&mut out);
            assert_eq!(out.len(), header.buffer_len());
            assert_eq!(&out[..], &data[..2]);
            assert_eq!(MppeHeader::parse(&out).map(|(h, _)| h), Ok(header));
            let _ = header.to_string();
        }
        Err(_) => assert!(data.len() < 2),
    }
    if let Some(word) = data.get(..4) {
        let bits = MppeBits::from_bits_retain(u32::from_be_bytes(word.try_into().unwrap()));
        assert_eq!(MppeBits::from_bits_retain(bits.bits()), bits);
        let _ = mppe_bits_display(bits).to_string();
    }
});
