//! A GRE datagram (with or without its IPv4 header) down to the PPP packet:
//! no panics, and each layer that parses re-emits its bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pptp_proto::wire::gre::{strip_ipv4, GrePacket};
use pptp_proto::wire::mppe::MppeHeader;
use pptp_proto::wire::packet::PppPacket;
use pptp_proto::wire::ppp::PppFrame;

fuzz_target!(|data: &[u8]| {
    let gre_bytes = strip_ipv4(data).unwrap_or(data);
    if let Ok(gre) = GrePacket::parse(gre_bytes) {
        let mut out = Vec::new();
        gre.emit(&mut out);
        assert_eq!(out.len(), gre.buffer_len());
        assert_eq!(&out[..], &gre_bytes[..out.len()]);
        let _ = gre.to_string();
    }
    let Ok(frame) = PppFrame::parse(data) else {
        return;
    };
    let mut out = Vec::new();
    frame.emit(&mut out);
    assert_eq!(out, data);
    if let Ok(packet) = PppPacket::parse(&frame) {
        let mut info = Vec::new();
        packet.emit(&mut info);
        assert_eq!(info.len(), packet.buffer_len());
        let mut expected = frame.information[..info.len()].to_vec();
        if let PppPacket::Eap(_) = packet {
            // EAP-MSCHAPv2's MS-Length is written as Length - 5 whatever
            // it said (wire::eap, "MS-Length").
            if expected.len() >= 9 && expected[0] <= 2 && expected[4] == 26 {
                expected[7..9].copy_from_slice(&info[7..9]);
            }
        }
        assert_eq!(info, expected);
        let _ = packet.to_string();
    }
    if let Ok((header, _)) = MppeHeader::parse(data) {
        let mut out = Vec::new();
        header.emit(&mut out);
        assert_eq!(&out[..], &data[..2]);
    }
});
