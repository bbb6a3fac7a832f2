//! LCP/IPCP/IPv6CP/CCP packets and their typed options: no panics, options
//! re-emit byte for byte, Display never panics. The first byte picks the
//! protocol.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pptp_proto::wire::cp::{
    parse_options, CcpConfigOption, ConfigOption, CpPacket, Echo, Identification, IpcpConfigOption,
    Ipv6cpConfigOption, LcpConfigOption, ProtocolReject, TimeRemaining,
};
use pptp_proto::wire::ppp::Protocol;

fn options<'a, O: ConfigOption<'a>>(data: &'a [u8]) {
    if let Ok(options) = parse_options::<O>(data) {
        let mut out = Vec::new();
        for o in &options {
            o.emit(&mut out);
            let _ = o.to_string();
        }
        assert_eq!(out, data);
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&selector, data)) = input.split_first() else {
        return;
    };
    let protocol = [
        Protocol::LCP,
        Protocol::IPCP,
        Protocol::IPV6CP,
        Protocol::CCP,
    ][usize::from(selector % 4)];
    let Ok(packet) = CpPacket::parse(data) else {
        return;
    };
    let mut out = Vec::new();
    packet.emit(&mut out);
    assert_eq!(&out[..], &data[..out.len()]);
    let _ = packet.display(protocol).to_string();
    match protocol {
        Protocol::LCP => {
            options::<LcpConfigOption>(packet.data);
            let _ = Echo::parse(packet.data);
            let _ = ProtocolReject::parse(packet.data);
            let _ = Identification::parse(packet.data);
            let _ = TimeRemaining::parse(packet.data);
        }
        Protocol::IPCP => options::<IpcpConfigOption>(packet.data),
        Protocol::IPV6CP => options::<Ipv6cpConfigOption>(packet.data),
        _ => options::<CcpConfigOption>(packet.data),
    }
});
