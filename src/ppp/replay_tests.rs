//! Replays: the Configure-Requests real peers sent (Windows, the RRAS server, pppd
//! behind pptpd, pptp-linux, Ixia) get the answers pppd would give from our
//! negotiators: Callback and Multilink rejected, EAP Nak'ed to MS-CHAPv2, the
//! CCP offer Nak'ed to 128-bit stateless, IPCP Nak'ed with the assigned
//! address and DNS.
//!
//! The negotiators are crate-internal machinery, so this replay lives in
//! the crate; it reads the captures with the integration tests' own reader.
//!
//! `cargo test --lib replay -- --nocapture`

#[allow(dead_code)]
#[path = "../../tests/common/capture.rs"]
mod capture;

use std::net::IpAddr;
use std::println;
use std::vec;
use std::vec::Vec;

use crate::ppp::ccp::{Ccp, CcpConfig};
use crate::ppp::fsm::Negotiator;
use crate::ppp::ipcp::{IpAssignment, Ipcp, IpcpConfig};
use crate::ppp::lcp::{AuthMethod, Lcp, LcpConfig};
use crate::wire::cp::{parse_options, CcpConfigOption, Code, IpcpConfigOption, LcpConfigOption};
use crate::wire::gre::GrePacket;
use crate::wire::mppe::MppeBits;
use crate::wire::packet::PppPacket;
use crate::wire::ppp::{PppFrame, Protocol};
use capture::{read_capture, require_captures, Unit};

/// The first Configure-Request of `protocol` sent by `from`, from frame `after` on.
fn first_request(name: &str, protocol: Protocol, from: IpAddr, after: usize) -> Option<Vec<u8>> {
    let dir = require_captures("ppp_replay")?;
    for f in read_capture(&dir.join(name)) {
        let Some(Unit::Gre { src, bytes, .. }) = &f.unit else {
            continue;
        };
        if *src != from || f.number < after {
            continue;
        }
        let Ok(g) = GrePacket::parse(bytes) else {
            continue;
        };
        let Ok(frame) = PppFrame::parse(g.payload) else {
            continue;
        };
        if let Ok(PppPacket::Control(p, cp)) = PppPacket::parse(&frame) {
            if p == protocol && cp.code == Code::CONFIGURE_REQUEST {
                return Some(cp.data.to_vec());
            }
        }
    }
    panic!("{name}: no {protocol} Configure-Request from {from}");
}

fn judge<N: Negotiator>(n: &mut N, options: &[u8]) -> (Code, Vec<u8>, Vec<u8>) {
    let reply = n.judge(options, false).expect("parses");
    (
        reply.verdict(),
        reply.naks().to_vec(),
        reply.rejects().to_vec(),
    )
}

const WINDOWS_CLIENT: [u8; 4] = [192, 168, 43, 39];
const RRAS_SERVER: [u8; 4] = [192, 168, 43, 104];

#[test]
fn windows_client_lcp_request_to_our_server() {
    let Some(req) = first_request(
        "pptpcrack_test.pcap",
        Protocol::LCP,
        WINDOWS_CLIENT.into(),
        270,
    ) else {
        return;
    };
    let mut lcp = Lcp::new(LcpConfig::default(), true, 1);
    let (verdict, _, reject) = judge(&mut lcp, &req);
    let rejected: Vec<LcpConfigOption> = parse_options(&reject).unwrap();
    println!(
        "Windows LCP request {:?}\n  -> {verdict:?} {:?}",
        parse_options::<LcpConfigOption>(&req).unwrap(),
        rejected
    );
    assert_eq!(verdict, Code::CONFIGURE_REJECT);
    assert!(
        rejected
            .iter()
            .any(|o| matches!(o, LcpConfigOption::Callback { .. })),
        "Callback rejected"
    );
    assert!(rejected.iter().all(|o| matches!(
        o,
        LcpConfigOption::Callback { .. }
            | LcpConfigOption::Mrru(_)
            | LcpConfigOption::EndpointDiscriminator { .. }
            | LcpConfigOption::Ssnhf
    )));
    // Without those, the rest is acknowledged.
    let rest: Vec<u8> = parse_options::<LcpConfigOption>(&req)
        .unwrap()
        .iter()
        .filter(|o| !rejected.contains(o))
        .flat_map(|o| {
            let mut v = Vec::new();
            o.emit(&mut v);
            v
        })
        .collect();
    assert_eq!(judge(&mut lcp, &rest).0, Code::CONFIGURE_ACK);
    assert_eq!(lcp.peer_mru(), 1400);
}

#[test]
fn rras_server_lcp_request_to_our_client() {
    let Some(req) = first_request(
        "pptpcrack_test.pcap",
        Protocol::LCP,
        RRAS_SERVER.into(),
        270,
    ) else {
        return;
    };
    let mut lcp = Lcp::new(LcpConfig::default(), false, 1);
    let options: Vec<LcpConfigOption> = parse_options(&req).unwrap();
    let (verdict, nak, reject) = judge(&mut lcp, &req);
    println!(
        "RRAS LCP request {options:?}\n  -> {verdict:?} nak {:?} reject {:?}",
        parse_options::<LcpConfigOption>(&nak).unwrap(),
        parse_options::<LcpConfigOption>(&reject).unwrap()
    );
    // Callback and Multilink are rejected first.
    assert_eq!(verdict, Code::CONFIGURE_REJECT);
    let rejected: Vec<LcpConfigOption> = parse_options(&reject).unwrap();
    assert!(rejected.iter().all(|o| matches!(
        o,
        LcpConfigOption::Callback { .. }
            | LcpConfigOption::Mrru(_)
            | LcpConfigOption::EndpointDiscriminator { .. }
    )));
    // RRAS asks again without them: EAP is Nak'ed to CHAP with MS-CHAPv2.
    let rest: Vec<u8> = options
        .iter()
        .filter(|o| !rejected.contains(o))
        .flat_map(|o| {
            let mut v = Vec::new();
            o.emit(&mut v);
            v
        })
        .collect();
    let (verdict, nak, _) = judge(&mut lcp, &rest);
    assert_eq!(verdict, Code::CONFIGURE_NAK);
    let nak: Vec<LcpConfigOption> = parse_options(&nak).unwrap();
    println!("  then -> Nak {nak:?}");
    assert_eq!(nak.len(), 1);
    assert!(
        matches!(nak[0], LcpConfigOption::AuthProtocol(crate::wire::cp::AuthProtocol::Chap { algorithm }) if algorithm.0 == 0x81)
    );
    // Our client accepts MS-CHAPv2, which RRAS asks for after the Nak.
    let mut v2 = Vec::new();
    LcpConfigOption::AuthProtocol(crate::wire::cp::AuthProtocol::Chap {
        algorithm: crate::wire::cp::ChapAlgorithm::MS_CHAP_V2,
    })
    .emit(&mut v2);
    assert_eq!(judge(&mut lcp, &v2).0, Code::CONFIGURE_ACK);
    assert_eq!(lcp.auth_method(), Some(AuthMethod::MsChapV2));
}

#[test]
fn ccp_offers_are_nakked_to_128_bit_stateless() {
    for (name, from, after) in [
        ("pptpcrack_test.pcap", IpAddr::from(WINDOWS_CLIENT), 270),
        // pptp-linux + pppd offer H+S+L (0x01000060).
        (
            "chapcrack_sample.dump",
            "192.168.1.102".parse::<IpAddr>().unwrap(),
            0,
        ),
        (
            "chapcrack_sample.dump",
            "198.252.153.26".parse::<IpAddr>().unwrap(),
            0,
        ),
    ] {
        let Some(req) = first_request(name, Protocol::CCP, from, after) else {
            return;
        };
        let mut ccp = Ccp::new(CcpConfig::default());
        let (verdict, nak, reject) = judge(&mut ccp, &req);
        let offer: Vec<CcpConfigOption> = parse_options(&req).unwrap();
        println!(
            "{name} CCP offer {offer:?} -> {verdict:?} {:?} {:?}",
            parse_options::<CcpConfigOption>(&nak).unwrap(),
            parse_options::<CcpConfigOption>(&reject).unwrap()
        );
        match verdict {
            Code::CONFIGURE_NAK => assert_eq!(
                parse_options::<CcpConfigOption>(&nak).unwrap(),
                vec![CcpConfigOption::Mppe(
                    MppeBits::STATELESS | MppeBits::BITS_128
                )]
            ),
            Code::CONFIGURE_ACK => assert_eq!(
                offer,
                vec![CcpConfigOption::Mppe(
                    MppeBits::STATELESS | MppeBits::BITS_128
                )]
            ),
            other => panic!("{name}: the MPPE offer was answered {other}"),
        }
        if offer
            == vec![CcpConfigOption::Mppe(
                MppeBits::STATELESS | MppeBits::BITS_128 | MppeBits::BITS_40,
            )]
        {
            assert_eq!(verdict, Code::CONFIGURE_NAK, "H+S+L is Nak'ed down to H+S");
        }
    }
}

#[test]
fn ipcp_requests_get_the_assigned_address_and_dns() {
    for (name, from, after) in [
        ("pptpcrack_test.pcap", IpAddr::from(WINDOWS_CLIENT), 270),
        (
            "packetlife_PPTP_negotiation.cap",
            "20.0.0.2".parse::<IpAddr>().unwrap(),
            0,
        ),
    ] {
        let Some(req) = first_request(name, Protocol::IPCP, from, after) else {
            return;
        };
        let mut ipcp = Ipcp::new(IpcpConfig::default(), true);
        ipcp.set_assignment(IpAssignment {
            local: Some([10, 0, 0, 1].into()),
            peer: Some([10, 0, 0, 7].into()),
            dns: [Some([10, 0, 0, 53].into()), None],
            nbns: [None, None],
        });
        let options: Vec<IpcpConfigOption> = parse_options(&req).unwrap();
        let (verdict, nak, reject) = judge(&mut ipcp, &req);
        let nak: Vec<IpcpConfigOption> = parse_options(&nak).unwrap();
        let reject: Vec<IpcpConfigOption> = parse_options(&reject).unwrap();
        println!("{name} IPCP request {options:?} -> {verdict:?} nak {nak:?} reject {reject:?}");
        // Options we cannot serve (VJ, NBNS, a secondary DNS) are rejected first.
        if verdict == Code::CONFIGURE_REJECT {
            assert!(reject.iter().all(|o| matches!(
                o,
                IpcpConfigOption::IpCompressionProtocol { .. }
                    | IpcpConfigOption::PrimaryNbns(_)
                    | IpcpConfigOption::SecondaryNbns(_)
                    | IpcpConfigOption::SecondaryDns(_)
            )));
            let rest: Vec<u8> = options
                .iter()
                .filter(|o| !reject.contains(o))
                .flat_map(|o| {
                    let mut v = Vec::new();
                    o.emit(&mut v);
                    v
                })
                .collect();
            let (verdict, nak, _) = judge(&mut ipcp, &rest);
            assert_eq!(verdict, Code::CONFIGURE_NAK);
            let nak: Vec<IpcpConfigOption> = parse_options(&nak).unwrap();
            assert!(
                nak.contains(&IpcpConfigOption::IpAddress([10, 0, 0, 7].into())),
                "{nak:?}"
            );
        } else {
            assert_eq!(verdict, Code::CONFIGURE_NAK);
            assert!(
                nak.contains(&IpcpConfigOption::IpAddress([10, 0, 0, 7].into())),
                "{nak:?}"
            );
        }
    }
}
