//! The examples' reading of pppd's and pptpd's configuration
//! (`examples/support/pppd.rs`): `chap-secrets`, pptpd's `remoteip`, and the
//! `--auth` / `--mppe` option names; the server's bounded IPv4 reassembly
//! (`examples/support/reassembly.rs`).

#[path = "../examples/support/pppd.rs"]
mod pppd;
#[path = "../examples/support/reassembly.rs"]
mod reassembly;

use std::net::Ipv4Addr;

use pppd::{lookup, parse_auth, parse_mppe, parse_ranges, parse_secrets, Pool};
use pptp_proto::ppp::ccp::MppeRequirement;
use pptp_proto::ppp::lcp::AuthMethod;
use pptp_proto::wire::mppe::MppeBits;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

#[test]
fn chap_secrets_lines_quotes_comments_and_wildcards() {
    let text = r#"
# client   server   secret          addresses
alice      *        "s3cret pass"   10.0.0.7
"bob smith" pptp-proto 'b#b'        *
*          other    nope
carol      *        c
*          *        fallback
"#;
    let s = parse_secrets(text).unwrap();
    assert_eq!(s.len(), 5);
    assert_eq!(s[0].secret, "s3cret pass");
    assert_eq!(s[0].address(), Some(ip("10.0.0.7")));
    assert_eq!(s[1].client, "bob smith");
    assert_eq!(s[1].secret, "b#b");
    assert_eq!(s[1].address(), None);
    assert_eq!(
        lookup(&s, "alice", "pptp-proto").unwrap().secret,
        "s3cret pass"
    );
    assert_eq!(lookup(&s, "bob smith", "pptp-proto").unwrap().secret, "b#b");
    assert_eq!(lookup(&s, "carol", "pptp-proto").unwrap().secret, "c");
    // Anyone else: the `* *` line (not `* other`, which names another server).
    assert_eq!(lookup(&s, "dave", "pptp-proto").unwrap().secret, "fallback");
    assert!(lookup(&s[..4], "dave", "pptp-proto").is_none());
    assert!(parse_secrets("alice *").is_err());
    assert!(parse_secrets("alice * \"open").is_err());
}

#[test]
fn pptpd_remoteip_ranges() {
    assert_eq!(
        parse_ranges("198.51.100.2-9").unwrap(),
        [(ip("198.51.100.2"), ip("198.51.100.9"))]
    );
    assert_eq!(
        parse_ranges("192.168.0.234-238, 192.168.0.245,10.0.0.2-10.0.1.3").unwrap(),
        [
            (ip("192.168.0.234"), ip("192.168.0.238")),
            (ip("192.168.0.245"), ip("192.168.0.245")),
            (ip("10.0.0.2"), ip("10.0.1.3")),
        ]
    );
    assert!(parse_ranges("10.0.0.9-2").is_err());
    assert!(parse_ranges("10.0.0.1-300").is_err());
    assert!(parse_ranges("").is_err());
}

#[test]
fn the_pool_leases_per_user_addresses_and_the_lowest_free_one() {
    let mut pool = Pool::new(parse_ranges("10.0.0.2-3,10.0.5.1").unwrap());
    assert!(pool.contains(ip("10.0.5.1")) && !pool.contains(ip("10.0.0.4")));
    assert_eq!(pool.lease(Some(ip("10.0.0.3"))), Some(ip("10.0.0.3")));
    assert_eq!(pool.lease(Some(ip("10.0.0.3"))), None, "taken");
    assert_eq!(pool.lease(None), Some(ip("10.0.0.2")));
    assert_eq!(pool.lease(None), Some(ip("10.0.5.1")));
    assert_eq!(pool.lease(None), None);
    pool.release(ip("10.0.0.2"));
    assert_eq!(pool.lease(None), Some(ip("10.0.0.2")));
}

#[test]
fn a_pool_of_65_533_addresses_leases_and_releases_quickly_lowest_first() {
    let mut pool = Pool::new(parse_ranges("10.64.0.2-10.64.255.254").unwrap());
    let start = std::time::Instant::now();
    let all: Vec<Ipv4Addr> = std::iter::from_fn(|| pool.lease(None)).collect();
    assert_eq!(all.len(), 65_533);
    assert_eq!(
        (all[0], all[65_532]),
        (ip("10.64.0.2"), ip("10.64.255.254"))
    );
    for a in all.iter().rev() {
        pool.release(*a);
    }
    assert_eq!(pool.leased(), 0);
    // Given back in any order, handed out again lowest first.
    assert_eq!(pool.lease(None), Some(ip("10.64.0.2")));
    assert_eq!(pool.lease(Some(ip("10.64.0.4"))), Some(ip("10.64.0.4")));
    assert_eq!(pool.lease(None), Some(ip("10.64.0.3")));
    assert_eq!(pool.lease(None), Some(ip("10.64.0.5")));
    assert!(
        start.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn overlapping_ranges_never_lease_an_address_twice() {
    let mut pool = Pool::new(parse_ranges("10.0.0.2-5,10.0.0.4-7").unwrap());
    let mut got: Vec<Ipv4Addr> = std::iter::from_fn(|| pool.lease(None)).collect();
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 6);
    pool.release(ip("10.0.0.4"));
    assert_eq!(pool.lease(None), Some(ip("10.0.0.4")));
    assert_eq!(pool.lease(None), None);
}

#[test]
fn auth_lists_and_mppe_modes_have_pppds_meanings() {
    use AuthMethod::*;
    assert_eq!(parse_auth("mschap,pap,mschap").unwrap(), [MsChapV1, Pap]);
    assert_eq!(
        parse_auth("any").unwrap(),
        [MsChapV2, MsChapV1, ChapMd5, Pap]
    );
    assert_eq!(
        parse_auth("eap-mschapv2,eap-md5,eap").unwrap(),
        [EapMsChapV2, EapMd5, Eap]
    );
    assert!(parse_auth("srp").is_err());
    let all = MppeBits::BITS_128 | MppeBits::BITS_56 | MppeBits::BITS_40;
    let c = parse_mppe("require").unwrap();
    assert_eq!((c.mppe, c.strengths), (MppeRequirement::Required, all));
    assert_eq!(
        parse_mppe("require-40").unwrap().strengths,
        MppeBits::BITS_40
    );
    assert_eq!(
        parse_mppe("require-128").unwrap().strengths,
        MppeBits::BITS_128
    );
    assert_eq!(
        parse_mppe("optional").unwrap().mppe,
        MppeRequirement::Optional
    );
    assert_eq!(parse_mppe("none").unwrap().mppe, MppeRequirement::Refused);
    assert!(parse_mppe("maybe").is_err());
}

#[test]
fn pap_or_chap_with_required_mppe_is_refused_up_front() {
    use pptp_proto::crypto::Password;
    use pptp_proto::ppp::session::SessionConfig;
    let mut ppp = SessionConfig::peer("alice", Password::new("x").unwrap());
    ppp.lcp.auth = vec![AuthMethod::Pap];
    let e = pppd::check_keys(&ppp).unwrap_err();
    assert!(e.contains("--mppe none"), "{e}");
    ppp.lcp.auth = vec![AuthMethod::EapMd5];
    assert!(pppd::check_keys(&ppp).is_err());
    ppp.lcp.auth = vec![AuthMethod::EapMd5, AuthMethod::EapMsChapV2];
    assert!(pppd::check_keys(&ppp).is_ok());
    ppp.lcp.auth = vec![AuthMethod::Pap];
    ppp.ccp.mppe = MppeRequirement::Refused;
    assert!(pppd::check_keys(&ppp).is_ok());
}

/// A 2000-byte echo request, as `ping -s 1972` sends it.
fn big_echo_request(id: u16) -> Vec<u8> {
    let builder = etherparse::PacketBuilder::ipv4([10, 0, 0, 2], [10, 0, 0, 1], 64)
        .icmpv4_echo_request(id, 1);
    let payload = vec![0xab; 1972];
    let mut out = Vec::new();
    builder.write(&mut out, &payload).unwrap();
    out[4..6].copy_from_slice(&id.to_be_bytes()); // IPv4 Identification
    out[6] &= !0x40; // DF clear: may be fragmented
    out[10..12].fill(0);
    let sum = etherparse::Ipv4HeaderSlice::from_slice(&out)
        .unwrap()
        .to_header()
        .calc_header_checksum();
    out[10..12].copy_from_slice(&sum.to_be_bytes());
    out
}

/// The request cut into fragments for a 1400-byte tunnel by the crate.
fn fragments(packet: &[u8]) -> Vec<Vec<u8>> {
    use pptp_proto::mtu::{fit, Fit};
    let mut reply = [0u8; 1280];
    let addrs = (ip("10.0.0.1"), std::net::Ipv6Addr::LOCALHOST);
    let Ok(Fit::Fragments(mut f)) = fit(packet, 1400, addrs, &mut reply) else {
        panic!("must be fragmented");
    };
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1400];
    while let Ok(Some(n)) = f.next_into(&mut buf) {
        out.push(buf[..n].to_vec());
    }
    out
}

#[test]
fn reassembly_puts_fragments_back_together_in_any_order() {
    use pptp_proto::time::Instant;
    use reassembly::Reassembly;
    let whole = big_echo_request(7);
    let parts = fragments(&whole);
    assert_eq!(parts.len(), 2);
    let mut r = Reassembly::default();
    let now = Instant::from_secs(1);
    // A whole packet passes as it is.
    let small =
        etherparse::PacketBuilder::ipv4([10, 0, 0, 2], [10, 0, 0, 1], 64).icmpv4_echo_request(1, 1);
    let mut p = Vec::new();
    small.write(&mut p, &[1, 2, 3]).unwrap();
    assert_eq!(r.push(now, 1, &p), Some(p.clone()));
    // Last fragment first.
    assert_eq!(r.push(now, 1, &parts[1]), None);
    let back = r.push(now, 1, &parts[0]).expect("whole again");
    assert_eq!(back.len(), whole.len());
    assert_eq!(back[20..], whole[20..], "the payload");
    assert_eq!(back[12..20], whole[12..20], "the addresses");
    assert_eq!(back[6] & 0x3f, 0, "no fragment fields");
    let sliced = etherparse::SlicedPacket::from_ip(&back).expect("a valid packet");
    assert!(matches!(
        sliced.transport,
        Some(etherparse::TransportSlice::Icmpv4(_))
    ));
    // Another tunnel's fragment with the same Identification stays apart.
    assert_eq!(r.push(now, 2, &parts[0]), None);
    assert_eq!(r.push(now, 1, &parts[1]), None);
}

#[test]
fn reassembly_is_bounded_in_count_and_time() {
    use pptp_proto::time::{Duration, Instant};
    use reassembly::Reassembly;
    let mut r = Reassembly::default();
    let now = Instant::from_secs(1);
    // A first fragment that never completes...
    let first = fragments(&big_echo_request(1));
    assert_eq!(r.push(now, 1, &first[0]), None);
    // ...is forgotten after the timeout: its second half alone completes nothing.
    let later = now + Reassembly::TIMEOUT + Duration::from_secs(1);
    assert_eq!(r.push(later, 1, &first[1]), None);
    // A flood of unfinished packets: beyond MAX_PENDING all are dropped, so
    // the first of the flood cannot complete any more.
    let flood: Vec<Vec<Vec<u8>>> = (100..100 + Reassembly::MAX_PENDING as u16 + 1)
        .map(|id| fragments(&big_echo_request(id)))
        .collect();
    for f in &flood {
        assert_eq!(r.push(later, 1, &f[0]), None);
    }
    assert_eq!(r.push(later, 1, &flood[0][1]), None, "dropped by the bound");
    let last = flood.last().unwrap();
    assert!(r.push(later, 1, &last[1]).is_some(), "the newest survives");
}
