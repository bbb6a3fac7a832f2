//! Decodes PPTP control messages, GRE packets and PPP frames given as hex and
//! prints them the way pppd's and tcpdump's logs do.
//!
//! ```text
//! cargo run --example decode                       # a built-in PPTP session, packet by packet
//! cargo run --example decode -- 001000011a2b3c4d000500000000002a
//! ```
//!
//! Each argument is tried as a PPTP control message, then an IPv4 datagram
//! carrying GRE, then a GRE packet, then a PPP frame.

use pptp_proto::wire::control::ControlMessage;
use pptp_proto::wire::gre::{strip_ipv4, GrePacket};
use pptp_proto::wire::packet::PppPacket;
use pptp_proto::wire::ppp::PppFrame;

/// A short PPTP session built with the crate's own codecs, in wire order.
fn sample_session() -> Vec<(&'static str, Vec<u8>)> {
    use pptp_proto::wire::auth::ChapPacket;
    use pptp_proto::wire::cp::{Code, CpPacket, IpcpConfigOption, LcpConfigOption};
    use pptp_proto::wire::ppp::Protocol;

    use pptp_proto::wire::control::{
        BearerCapabilities, FramingCapabilities, StartControlConnectionRequest, PROTOCOL_VERSION,
    };

    let mut out = Vec::new();
    let sccrq = ControlMessage::from(StartControlConnectionRequest {
        reserved0: 0,
        protocol_version: PROTOCOL_VERSION,
        reserved1: 0,
        framing_capabilities: FramingCapabilities::ASYNCHRONOUS,
        bearer_capabilities: BearerCapabilities::ANALOG,
        maximum_channels: 0,
        firmware_revision: 1,
        host_name: "client".into(),
        vendor_string: "pptp-proto".into(),
    });
    let mut bytes = Vec::new();
    sccrq.emit(&mut bytes);
    out.push(("sent", bytes));
    let mut push_ppp = |dir: &'static str, protocol: Protocol, info: Vec<u8>| {
        let mut frame = Vec::new();
        PppFrame::new(protocol, &info).emit(&mut frame);
        let mut gre = Vec::new();
        GrePacket::new(0x4000, Some(1), None, &frame)
            .expect("small payload")
            .emit(&mut gre);
        out.push((dir, gre));
    };
    let lcp = [
        LcpConfigOption::Mru(1400),
        LcpConfigOption::MagicNumber(0x5f3c_2a19),
        LcpConfigOption::Pfc,
        LcpConfigOption::Acfc,
    ];
    let mut info = Vec::new();
    CpPacket::emit_with_options(Code::CONFIGURE_REQUEST, 1, &lcp, &mut info);
    push_ppp("sent", Protocol::LCP, info.clone());
    let mut ack = info.clone();
    ack[0] = Code::CONFIGURE_ACK.0;
    push_ppp("rcvd", Protocol::LCP, ack);
    let mut chap = Vec::new();
    ChapPacket::Challenge {
        identifier: 1,
        value: &[0x5b; 16],
        name: b"pptp-proto",
    }
    .emit(&mut chap);
    push_ppp("rcvd", Protocol::CHAP, chap);
    let ipcp = [IpcpConfigOption::IpAddress([0, 0, 0, 0].into())];
    let mut info = Vec::new();
    CpPacket::emit_with_options(Code::CONFIGURE_REQUEST, 1, &ipcp, &mut info);
    push_ppp("sent", Protocol::IPCP, info);
    out
}

fn decode(bytes: &[u8]) -> String {
    if let Ok(msg) = ControlMessage::parse(bytes) {
        return msg.to_string();
    }
    let gre_bytes = strip_ipv4(bytes).unwrap_or(bytes);
    if let Ok(gre) = GrePacket::parse(gre_bytes) {
        if gre.payload.is_empty() {
            return gre.to_string();
        }
        return format!("{gre} {}", decode_ppp(gre.payload));
    }
    decode_ppp(bytes)
}

fn decode_ppp(bytes: &[u8]) -> String {
    match PppFrame::parse(bytes) {
        Ok(frame) => match PppPacket::parse(&frame) {
            Ok(packet) => packet.to_string(),
            Err(e) => format!("{frame}: {e}"),
        },
        Err(e) => format!("not a PPTP, GRE or PPP packet: {e}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!(
            "usage: decode [HEX ...]\n\
             Decodes each HEX argument as a PPTP control message, an IPv4 datagram\n\
             carrying GRE, a GRE packet or a PPP frame, in pppd's and tcpdump's words.\n\
             With no argument, decodes a built-in PPTP session packet by packet."
        );
        return;
    }
    if args.is_empty() {
        println!("A PPTP session's packets, decoded (pass hex arguments to decode your own):");
        for (dir, bytes) in sample_session() {
            println!("{dir} {}", decode(&bytes));
        }
        return;
    }
    let mut failed = false;
    for arg in args {
        let cleaned: String = arg.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        match hex_decode(&cleaned) {
            Some(bytes) => println!("{}", decode(&bytes)),
            None => {
                eprintln!("{arg}: not hex");
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(2);
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
