//! The examples' reading of pppd's and pptpd's configuration
//! (`examples/support/pppd.rs`): `chap-secrets`, pptpd's `remoteip`, and the
//! `--auth` / `--mppe` option names.

#[path = "../examples/support/pppd.rs"]
mod pppd;

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
fn auth_lists_and_mppe_modes_have_pppds_meanings() {
    use AuthMethod::*;
    assert_eq!(parse_auth("mschap,pap,mschap").unwrap(), [MsChapV1, Pap]);
    assert_eq!(
        parse_auth("any").unwrap(),
        [MsChapV2, MsChapV1, ChapMd5, Pap]
    );
    assert!(parse_auth("eap").is_err());
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
    ppp.ccp.mppe = MppeRequirement::Refused;
    assert!(pppd::check_keys(&ppp).is_ok());
}
