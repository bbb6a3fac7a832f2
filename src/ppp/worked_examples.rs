//! The worked examples of the control protocols' machinery (the RFC 1661
//! automaton, the LCP, IPCP, IPv6CP and CCP policies), which were doc
//! examples while that machinery was public API. They call the machines
//! directly, as the session does.
#![allow(clippy::unwrap_used)]

use std::vec;
use std::vec::Vec;

#[test]
fn fsm_numbers_its_states_as_rfc_1661() {
    use crate::ppp::fsm::{Fsm, FsmConfig, State};
    use crate::ppp::ipv6cp::Ipv6cp;
    use crate::time::Instant;

    let mut ncp = Fsm::new(Ipv6cp::new(1), FsmConfig::default());
    assert_eq!(ncp.state(), State::Initial);
    ncp.open(Instant::ZERO);
    ncp.up(Instant::ZERO);
    // Our Configure-Request is out: state 6 of the table.
    assert_eq!(ncp.state(), State::RequestSent);
    assert_eq!(ncp.state().number(), 6);
}

/// A faster Restart timer and fewer retries than RFC 1661's defaults:
#[test]
fn fsm_gives_up_after_max_configure() {
    use crate::ppp::fsm::{Fsm, FsmConfig, State};
    use crate::ppp::ipv6cp::Ipv6cp;
    use crate::time::Instant;
    use core::time::Duration;

    assert_eq!(FsmConfig::default().restart_timer, Duration::from_secs(3));
    assert_eq!(FsmConfig::default().max_configure, 10);
    let config = FsmConfig {
        restart_timer: Duration::from_secs(1),
        max_configure: 2,
        ..FsmConfig::default()
    };
    let mut ncp = Fsm::new(Ipv6cp::new(1), config);
    ncp.open(Instant::ZERO);
    ncp.up(Instant::ZERO);
    ncp.handle_timeout(Instant::from_secs(1)); // the second Configure-Request
    ncp.handle_timeout(Instant::from_secs(2)); // no answer: give up
    assert_eq!(ncp.state(), State::Stopped);
}

#[test]
fn packet_emits_code_identifier_length_data() {
    use crate::ppp::fsm::Packet;
    use crate::wire::cp::Code;

    // An LCP Echo-Request carrying magic number 0x01020304.
    let echo = Packet {
        code: Code::ECHO_REQUEST,
        identifier: 7,
        data: vec![1, 2, 3, 4],
    };
    let mut wire = Vec::new();
    echo.emit(&mut wire);
    assert_eq!(wire, [9, 7, 0, 8, 1, 2, 3, 4]);
    assert_eq!(echo.buffer_len(), wire.len());
}

#[test]
fn reply_rejects_win_over_naks_and_max_failure_rejects() {
    use crate::ppp::fsm::Reply;
    use crate::wire::cp::{Code, LcpConfigOption};

    let mut reply = Reply::new(false);
    assert_eq!(reply.verdict(), Code::CONFIGURE_ACK);
    reply.nak(&LcpConfigOption::Mru(100), &LcpConfigOption::Mru(576));
    assert_eq!(
        (reply.verdict(), reply.naks()),
        (Code::CONFIGURE_NAK, &[1, 4, 0x02, 0x40][..])
    );
    // A Reject wins: the Nak list is dropped (RFC 1661 §5.4).
    reply.reject(&LcpConfigOption::Pfc);
    assert_eq!(
        (reply.verdict(), reply.rejects()),
        (Code::CONFIGURE_REJECT, &[7, 2][..])
    );
    assert!(reply.naks().is_empty());
    // An option the peer did not ask for, suggested in the Nak.
    let mut reply = Reply::new(false);
    reply.suggest(&LcpConfigOption::Mru(1400));
    assert_eq!(reply.naks(), &[1, 4, 0x05, 0x78]);
    // After Max-Failure, what would be Nak'ed is rejected as it came, and
    // nothing is suggested.
    let mut reply = Reply::new(true);
    assert!(reply.rejects_instead_of_nak());
    reply.nak(&LcpConfigOption::Mru(100), &LcpConfigOption::Mru(576));
    reply.suggest(&LcpConfigOption::Mru(1400));
    assert_eq!(
        (reply.rejects(), reply.naks()),
        (&[1, 4, 0, 100][..], &[][..])
    );
}

/// LCP answers an Echo-Request in the Opened state, and does not know code 0x20:
#[test]
fn lcp_answers_echo_and_knows_no_code_0x20() {
    use crate::ppp::fsm::{Extended, Negotiator, State};
    use crate::ppp::lcp::{Lcp, LcpConfig};
    use crate::wire::cp::Code;

    let mut lcp = Lcp::new(LcpConfig::default(), false, 1);
    let Extended::Reply(reply) =
        lcp.handle_extended(State::Opened, Code::ECHO_REQUEST, 5, &[0, 0, 0, 0])
    else {
        panic!("no Echo-Reply");
    };
    assert_eq!((reply.code, reply.identifier), (Code::ECHO_REPLY, 5));
    assert_eq!(reply.data, lcp.magic().to_be_bytes());
    assert_eq!(
        lcp.handle_extended(State::Opened, Code(0x20), 6, &[]),
        Extended::Unknown
    );
}

/// The calls `Fsm` makes, made by hand on the LCP policy of a peer
/// (`fsm_with_a_negotiator_that_accepts_everything` implements one):
#[test]
fn lcp_policy_called_by_hand() -> Result<(), crate::wire::Error> {
    use crate::ppp::fsm::{Negotiator, Reply};
    use crate::ppp::lcp::{Lcp, LcpConfig};
    use crate::wire::cp::{parse_options, Code, LcpConfigOption};

    let mut lcp = Lcp::new(LcpConfig::default(), false, 1);
    assert_eq!(lcp.name(), "LCP");
    lcp.reset();
    let mut request = Vec::new();
    lcp.build_request(&mut request);
    assert_eq!(request[..4], [1, 4, 0x05, 0x78]); // MRU 1400

    // The peer asks for an MRU of 100: Nak'ed up to the 576 we accept
    // (`judge` parses the list and calls `check_request`).
    let reply = lcp.judge(&[1, 4, 0, 100], false)?;
    assert_eq!(
        (reply.verdict(), reply.naks()),
        (Code::CONFIGURE_NAK, &[1, 4, 0x02, 0x40][..])
    );
    let mut reply = Reply::new(false);
    lcp.check_request(&[LcpConfigOption::Mru(1400)], &mut reply);
    assert_eq!(reply.verdict(), Code::CONFIGURE_ACK);
    // The peer Naks our MRU down to 1200, then rejects it altogether.
    assert!(lcp.on_nak(&[LcpConfigOption::Mru(1200)]));
    request.clear();
    lcp.build_request(&mut request);
    assert_eq!(request[..4], [1, 4, 0x04, 0xb0]);
    assert!(lcp.on_reject(&[LcpConfigOption::Mru(1200)]));
    request.clear();
    lcp.build_request(&mut request);
    assert_eq!(request[0], 5); // Magic-Number comes first now
    assert!(lcp.on_ack(&parse_options(&request)?));
    // Protocol-Reject is vital to LCP; Echo-Request is not.
    assert!(lcp.code_is_required(Code::PROTOCOL_REJECT));
    assert!(!lcp.code_is_required(Code::ECHO_REQUEST));
    Ok::<(), crate::wire::Error>(())
}

#[test]
fn fsm_finish_reasons() {
    use crate::ppp::fsm::{FinishReason, Fsm, FsmConfig, FsmEvent};
    use crate::ppp::ipv6cp::Ipv6cp;
    use crate::time::Instant;

    let mut ncp = Fsm::new(Ipv6cp::new(1), FsmConfig::default());
    ncp.up(Instant::ZERO);
    ncp.open(Instant::ZERO);
    // The peer never answers: ten Configure-Requests, then the layer finishes.
    while let Some(deadline) = ncp.poll_timeout() {
        ncp.handle_timeout(deadline);
    }
    assert_eq!(
        ncp.poll_event(),
        Some(FsmEvent::Finished {
            reason: FinishReason::MaxConfigureExceeded
        })
    );
}

/// An IPv6CP layer opening and closing again:
#[test]
fn ipv6cp_layer_opens_and_closes() {
    use crate::ppp::fsm::{FinishReason, Fsm, FsmConfig, FsmEvent};
    use crate::ppp::ipv6cp::Ipv6cp;
    use crate::time::Instant;
    use crate::wire::cp::Code;

    let now = Instant::ZERO;
    let mut ncp = Fsm::new(Ipv6cp::new(1), FsmConfig::default());
    ncp.open(now);
    ncp.up(now);
    let ours = ncp.poll_transmit().unwrap();
    ncp.handle(now, Code::CONFIGURE_ACK, ours.identifier, &ours.data);
    ncp.handle(
        now,
        Code::CONFIGURE_REQUEST,
        1,
        &[1, 10, 1, 2, 3, 4, 5, 6, 7, 8],
    ); // the peer's
    assert_eq!(ncp.poll_event(), Some(FsmEvent::Started));
    assert_eq!(ncp.poll_event(), Some(FsmEvent::Up));
    ncp.close(now);
    ncp.handle(now, Code::TERMINATE_ACK, 0, &[]);
    assert_eq!(ncp.poll_event(), Some(FsmEvent::Down));
    let finished = FsmEvent::Finished {
        reason: FinishReason::TerminateAcked,
    };
    assert_eq!(ncp.poll_event(), Some(finished));
}

#[test]
fn fsm_counts_malformed_and_stale() {
    use crate::ppp::fsm::{Fsm, FsmConfig, FsmStats, State};
    use crate::ppp::ipv6cp::Ipv6cp;
    use crate::time::Instant;

    let now = Instant::ZERO;
    let mut ncp = Fsm::new(Ipv6cp::new(1), FsmConfig::default());
    ncp.open(now);
    ncp.up(now); // Configure-Request with Identifier 1
    ncp.handle_packet(now, &[2, 1, 0, 9]); // Length runs past the octets present
    ncp.handle_packet(now, &[2, 99, 0, 4]); // an Ack of a request never sent
    let expected = FsmStats {
        malformed: 1,
        stale: 1,
        ..FsmStats::default()
    };
    assert_eq!(*ncp.stats(), expected);
    assert_eq!(ncp.state(), State::RequestSent);
}

#[test]
fn fsm_with_a_negotiator_that_accepts_everything() {
    use crate::ppp::fsm::{Fsm, FsmConfig, FsmEvent, Negotiator, Reply, State};
    use crate::time::Instant;
    use crate::wire::cp::{Code, RawOption};

    /// Asks for nothing, accepts everything.
    struct Anything;
    impl Negotiator for Anything {
        type Opt<'a> = RawOption<'a>;
        type Report = core::convert::Infallible;
        fn build_request(&mut self, _: &mut Vec<u8>) {}
        fn check_request(&mut self, _: &[RawOption<'_>], _: &mut Reply) {}
        fn on_nak(&mut self, _: &[RawOption<'_>]) -> bool {
            true
        }
        fn on_reject(&mut self, _: &[RawOption<'_>]) -> bool {
            true
        }
    }

    let mut lcp = Fsm::new(Anything, FsmConfig::default());
    let now = Instant::ZERO;
    lcp.open(now);
    lcp.up(now);
    let request = lcp.poll_transmit().unwrap();
    assert_eq!(
        (request.code, request.identifier),
        (Code::CONFIGURE_REQUEST, 1)
    );
    assert_eq!(lcp.poll_timeout(), Some(Instant::from_secs(3)));
    // The peer acknowledges and sends its own (empty) request.
    lcp.handle_packet(now, &[2, 1, 0, 4]);
    lcp.handle_packet(now, &[1, 7, 0, 4]);
    assert_eq!(lcp.poll_transmit().unwrap().code, Code::CONFIGURE_ACK);
    assert_eq!(lcp.state(), State::Opened);
    assert_eq!(lcp.poll_event(), Some(FsmEvent::Started));
    assert_eq!(lcp.poll_event(), Some(FsmEvent::Up));
}

/// An unanswered Configure-Request goes out again when the Restart timer
/// fires; Close sends a Terminate-Request, and the peer's Terminate-Ack
/// finishes the layer:
#[test]
fn fsm_resends_then_terminates() {
    use crate::ppp::fsm::{Fsm, FsmConfig, State};
    use crate::ppp::ipv6cp::Ipv6cp;
    use crate::time::Instant;
    use crate::wire::cp::Code;

    let mut ncp = Fsm::new(Ipv6cp::new(7), FsmConfig::default());
    ncp.up(Instant::ZERO);
    ncp.open(Instant::ZERO);
    let first = ncp.poll_transmit().unwrap();
    let deadline = ncp.poll_timeout().unwrap();
    ncp.handle_timeout(deadline); // TO+: the same request, same Identifier
    assert_eq!(ncp.poll_transmit(), Some(first));
    ncp.close(deadline);
    assert_eq!(ncp.poll_transmit().unwrap().code, Code::TERMINATE_REQUEST);
    ncp.handle(deadline, Code::TERMINATE_ACK, 0, &[]); // already split
    assert_eq!(ncp.state(), State::Closed);
    ncp.down(deadline);
    assert_eq!(ncp.state(), State::Initial);
}

/// The owner sends LCP's Echo-Requests itself, reads the Protocol-Rejects
/// LCP reports among its events, and tells the rejected protocol's
/// automaton:
#[test]
fn owner_drives_echo_and_protocol_reject() {
    use crate::ppp::fsm::{Fsm, FsmConfig, FsmEvent, Negotiator, State};
    use crate::ppp::ipv6cp::Ipv6cp;
    use crate::ppp::lcp::{Lcp, LcpConfig, LcpReport};
    use crate::time::Instant;
    use crate::wire::cp::Code;
    use crate::wire::ppp::Protocol;

    let now = Instant::ZERO;
    let mut lcp = Fsm::new(
        Lcp::new(LcpConfig::default(), false, 1),
        FsmConfig::default(),
    );
    lcp.up(now);
    let id = lcp.new_identifier();
    let echo = lcp.negotiator().echo_request(id);
    assert!(lcp.send_extended(echo));
    assert_eq!(lcp.poll_transmit().unwrap().code, Code::ECHO_REQUEST);
    // The peer Protocol-Rejects IPv6CP (0x8057).
    lcp.handle_packet(now, &[8, 3, 0, 6, 0x80, 0x57]);
    let rejected = FsmEvent::Report(LcpReport::ProtocolRejected(Protocol::IPV6CP));
    assert_eq!(lcp.poll_event(), Some(rejected));
    // The policy can be changed in place: a fresh negotiation of our options.
    lcp.negotiator_mut().reset();
    let mut ipv6cp = Fsm::new(Ipv6cp::new(1), FsmConfig::default());
    ipv6cp.up(now);
    ipv6cp.open(now);
    ipv6cp.protocol_rejected(now);
    assert_eq!(ipv6cp.state(), State::Stopped);
    // Once LCP learned the peer's MRU, it bounds the Code-Rejects we send.
    lcp.set_peer_mru(1400);
    assert_eq!(lcp.config().peer_mru, 1400);
}

#[test]
fn fsm_hurry_cuts_the_restart_timer() {
    use crate::ppp::fsm::{Fsm, FsmConfig};
    use crate::ppp::ipv6cp::Ipv6cp;
    use crate::time::{Duration, Instant};

    let mut ncp = Fsm::new(Ipv6cp::new(1), FsmConfig::default());
    ncp.open(Instant::ZERO);
    ncp.up(Instant::ZERO);
    let first = ncp.poll_transmit().unwrap();
    assert!(ncp.hurry(Instant::ZERO, Duration::from_millis(100)));
    assert_eq!(ncp.poll_timeout(), Some(Instant::from_millis(100)));
    ncp.handle_timeout(Instant::from_millis(100));
    assert_eq!(ncp.poll_transmit(), Some(first)); // the same request, same Identifier
    assert_eq!(ncp.stats().hurried, 1);
}

#[test]
fn fsm_renegotiates_only_when_opened() {
    use crate::ppp::fsm::{Fsm, FsmConfig, State};
    use crate::ppp::ipv6cp::Ipv6cp;
    use crate::time::Instant;

    let mut ncp = Fsm::new(Ipv6cp::new(1), FsmConfig::default());
    ncp.renegotiate(Instant::ZERO);
    assert_eq!(ncp.state(), State::Initial); // not Opened: nothing to do
}

#[test]
fn lcp_server_judges_a_windows_request() {
    use crate::ppp::fsm::Negotiator;
    use crate::ppp::lcp::{Lcp, LcpConfig};
    use crate::wire::cp::Code;

    let mut lcp = Lcp::new(LcpConfig::default(), true, 42);
    let mut judge = |request: &[u8]| {
        let reply = lcp.judge(request, false).unwrap();
        (
            reply.verdict(),
            reply.naks().to_vec(),
            reply.rejects().to_vec(),
        )
    };
    // MRU 296 and Callback (13, operation 6).
    let (verdict, _, reject) = judge(&[1, 4, 0x01, 0x28, 13, 3, 6]);
    assert_eq!((verdict, reject), (Code::CONFIGURE_REJECT, vec![13, 3, 6]));
    let (verdict, nak, _) = judge(&[1, 4, 0x01, 0x28]);
    assert_eq!(
        (verdict, nak),
        (Code::CONFIGURE_NAK, vec![1, 4, 0x02, 0x40])
    ); // 576
    assert_eq!(judge(&[1, 4, 0x02, 0x40]).0, Code::CONFIGURE_ACK);
    assert_eq!(lcp.peer_mru(), 576);
}

/// A client that accepts MS-CHAPv1 (preferred) or MS-CHAPv2 Naks the
/// server's CHAP-MD5 with the method it prefers, and acknowledges MS-CHAPv2:
#[test]
fn lcp_client_naks_chap_md5_toward_its_method() -> Result<(), crate::wire::Error> {
    use crate::ppp::fsm::Negotiator;
    use crate::ppp::lcp::{AuthMethod, Lcp, LcpConfig};
    use crate::wire::cp::Code;

    let auth = vec![AuthMethod::MsChapV1, AuthMethod::MsChapV2];
    let mut lcp = Lcp::new(
        LcpConfig {
            auth,
            ..LcpConfig::default()
        },
        false,
        1,
    );
    // Auth-Protocol CHAP (0xc223) with algorithm 5 (MD5).
    let reply = lcp.judge(&[3, 5, 0xc2, 0x23, 5], false)?;
    assert_eq!(
        (reply.verdict(), reply.naks()),
        (Code::CONFIGURE_NAK, &[3, 5, 0xc2, 0x23, 0x80][..])
    );
    let reply = lcp.judge(&[3, 5, 0xc2, 0x23, 0x81], false)?;
    assert_eq!(reply.verdict(), Code::CONFIGURE_ACK);
    assert_eq!(lcp.auth_method(), Some(AuthMethod::MsChapV2));
    Ok::<(), crate::wire::Error>(())
}

#[test]
fn lcp_defaults_and_mru_1500_not_asked_for() {
    use crate::ppp::fsm::Negotiator;
    use crate::ppp::lcp::{AuthMethod, Lcp, LcpConfig};

    let config = LcpConfig::default();
    assert_eq!((config.mru, config.min_mru), (1400, 576));
    assert_eq!(config.auth, [AuthMethod::MsChapV2]);
    // 1500 is PPP's default MRU: it is not asked for.
    let mut lcp = Lcp::new(
        LcpConfig {
            mru: 1500,
            ..config
        },
        false,
        1,
    );
    let mut request = Vec::new();
    lcp.build_request(&mut request);
    assert!(request.starts_with(&[5, 6])); // Magic-Number first, no MRU
}

/// A client acknowledging the server's Configure-Request, then reading
/// what the link uses:
#[test]
fn lcp_client_acks_the_server_request() -> Result<(), crate::wire::Error> {
    use crate::ppp::fsm::Negotiator;
    use crate::ppp::lcp::{AuthMethod, Lcp, LcpConfig};
    use crate::wire::cp::Code;

    let mut lcp = Lcp::new(LcpConfig::default(), false, 1);
    let request = [
        1, 4, 0x05, 0x78, // MRU 1400
        3, 5, 0xc2, 0x23, 0x81, // MS-CHAPv2
        5, 6, 0x12, 0x34, 0x56, 0x78, // Magic-Number
        7, 2, 8, 2, // PFC, ACFC
    ];
    assert_eq!(lcp.judge(&request, false)?.verdict(), Code::CONFIGURE_ACK);
    assert_eq!(lcp.peer_mru(), 1400);
    assert!(lcp.send_pfc() && lcp.send_acfc());
    assert_eq!(lcp.auth_method(), Some(AuthMethod::MsChapV2));
    assert_ne!(lcp.magic(), 0); // ours, drawn from the seed
    Ok::<(), crate::wire::Error>(())
}

#[test]
fn lcp_echo_and_protocol_reject_reports() {
    use crate::ppp::fsm::{Negotiator, State};
    use crate::ppp::lcp::{Lcp, LcpConfig, LcpReport};
    use crate::wire::cp::Code;
    use crate::wire::ppp::Protocol;

    let mut lcp = Lcp::new(LcpConfig::default(), false, 1);
    let request = lcp.echo_request(3);
    assert_eq!(
        (request.code, request.data),
        (Code::ECHO_REQUEST, lcp.magic().to_be_bytes().to_vec())
    );
    // The peer's Echo-Reply carries its own magic number.
    lcp.handle_extended(
        State::Opened,
        Code::ECHO_REPLY,
        3,
        &[0xa1, 0xb2, 0xc3, 0xd4],
    );
    assert_eq!(lcp.poll_report(), Some(LcpReport::EchoReply));
    assert_eq!(lcp.poll_report(), None);
    // The peer Protocol-Rejects CCP.
    lcp.handle_extended(State::Opened, Code::PROTOCOL_REJECT, 4, &[0x80, 0xfd]);
    assert_eq!(
        lcp.poll_report(),
        Some(LcpReport::ProtocolRejected(Protocol::CCP))
    );
}

/// One echo of our magic number can be a coincidence; ten mean a loop
/// (as in pppd):
#[test]
fn lcp_ten_own_magics_mean_a_loop() -> Result<(), crate::wire::Error> {
    use crate::ppp::fsm::Negotiator;
    use crate::ppp::lcp::{Lcp, LcpConfig};

    let mut lcp = Lcp::new(LcpConfig::default(), false, 1);
    let mut ours = Vec::new();
    lcp.build_request(&mut ours);
    for _ in 0..10 {
        assert!(!lcp.looped_back());
        // Our own request comes back as the peer's.
        lcp.judge(&ours, false)?;
    }
    assert!(lcp.looped_back());
    Ok::<(), crate::wire::Error>(())
}

/// A client asking for an address and two DNS servers from a server that
/// has one DNS server to hand out:
#[test]
fn ipcp_client_gets_address_and_one_dns() {
    use crate::ppp::fsm::Negotiator;
    use crate::ppp::ipcp::{IpAssignment, Ipcp, IpcpConfig};
    use crate::wire::cp::{parse_options, Code};
    use core::net::Ipv4Addr;

    let mut client = Ipcp::new(IpcpConfig::default(), false);
    let mut server = Ipcp::new(IpcpConfig::default(), true);
    server.set_assignment(IpAssignment {
        local: Some(Ipv4Addr::new(10, 0, 0, 1)),
        peer: Some(Ipv4Addr::new(10, 0, 0, 2)),
        dns: [Some(Ipv4Addr::new(10, 0, 0, 53)), None],
        nbns: [None; 2],
    });
    // The client's request goes to the server, the answer back to the client.
    let mut round = || {
        let mut request = Vec::new();
        client.build_request(&mut request);
        let reply = server.judge(&request, false).unwrap();
        let accepted = match reply.verdict() {
            Code::CONFIGURE_ACK => client.on_ack(&parse_options(&request).unwrap()),
            Code::CONFIGURE_NAK => client.on_nak(&parse_options(reply.naks()).unwrap()),
            _ => client.on_reject(&parse_options(reply.rejects()).unwrap()),
        };
        assert!(accepted);
        reply.verdict()
    };
    assert_eq!(round(), Code::CONFIGURE_REJECT); // no secondary DNS server
    assert_eq!(round(), Code::CONFIGURE_NAK); // the address and DNS server to use
    assert_eq!(round(), Code::CONFIGURE_ACK);
    assert_eq!(client.local(), Ipv4Addr::new(10, 0, 0, 2));
    assert_eq!(client.dns(), [Some(Ipv4Addr::new(10, 0, 0, 53)), None]);
    assert_eq!(server.peer(), Ipv4Addr::new(10, 0, 0, 2));
}

#[test]
fn ipcp_defaults_and_a_fixed_address() {
    use crate::ppp::fsm::Negotiator;
    use crate::ppp::ipcp::{Ipcp, IpcpConfig};
    use core::net::Ipv4Addr;

    let config = IpcpConfig::default();
    assert_eq!(
        (config.local, config.request_dns, config.request_nbns),
        (None, true, false)
    );
    // A client with a fixed address that wants no name servers.
    let fixed = IpcpConfig {
        local: Some(Ipv4Addr::new(192, 168, 1, 7)),
        request_dns: false,
        ..config
    };
    let mut request = Vec::new();
    Ipcp::new(fixed, false).build_request(&mut request);
    assert_eq!(request, [3, 6, 192, 168, 1, 7]);
}

/// The server's side (the [module example](crate::ppp::ipcp#example) shows
/// both):
#[test]
fn ipcp_server_side() -> Result<(), crate::wire::Error> {
    use crate::ppp::fsm::Negotiator;
    use crate::ppp::ipcp::{IpAssignment, Ipcp, IpcpConfig};
    use crate::wire::cp::Code;
    use core::net::Ipv4Addr;

    let mut server = Ipcp::new(IpcpConfig::default(), true);
    server.set_assignment(IpAssignment {
        local: Some(Ipv4Addr::new(10, 0, 0, 1)),
        peer: Some(Ipv4Addr::new(10, 0, 0, 2)),
        nbns: [Some(Ipv4Addr::new(10, 0, 0, 9)), None],
        ..IpAssignment::default()
    });
    assert_eq!(server.local(), Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(server.dns(), [None, None]); // handed out: none
    assert_eq!(server.nbns(), [Some(Ipv4Addr::new(10, 0, 0, 9)), None]);
    // The client asks for the address it was given: acknowledged.
    assert_eq!(
        server.judge(&[3, 6, 10, 0, 0, 2], false)?.verdict(),
        Code::CONFIGURE_ACK
    );
    assert_eq!(server.peer(), Ipv4Addr::new(10, 0, 0, 2));
    Ok::<(), crate::wire::Error>(())
}

#[test]
fn ipv6cp_naks_a_zero_identifier() -> Result<(), crate::wire::Error> {
    use crate::ppp::fsm::Negotiator;
    use crate::ppp::ipv6cp::Ipv6cp;
    use crate::wire::cp::Code;

    let mut v6 = Ipv6cp::new(7);
    // The peer proposes the identifier zero: Nak'ed with a suggestion.
    let zero = [1, 10, 0, 0, 0, 0, 0, 0, 0, 0];
    let reply = v6.judge(&zero, false)?;
    assert_eq!(reply.verdict(), Code::CONFIGURE_NAK);
    let nak = reply.naks();
    assert_eq!(nak[..2], [1, 10]);
    assert_ne!(nak[2..], [0; 8]);
    // The peer asks again with the suggestion: acknowledged.
    assert_eq!(v6.judge(nak, false)?.verdict(), Code::CONFIGURE_ACK);
    assert_eq!(v6.peer()[..], nak[2..]);
    Ok::<(), crate::wire::Error>(())
}

#[test]
fn ipv6cp_both_ends_agree_on_identifiers() -> Result<(), crate::wire::Error> {
    use crate::ppp::fsm::Negotiator;
    use crate::ppp::ipv6cp::Ipv6cp;
    use crate::wire::cp::Code;

    let (mut ours, mut theirs) = (Ipv6cp::new(1), Ipv6cp::new(2));
    assert_ne!(ours.local(), [0; 8]);
    assert_eq!(ours.peer(), [0; 8]); // not known yet
    let mut request = Vec::new();
    theirs.build_request(&mut request);
    assert_eq!(ours.judge(&request, false)?.verdict(), Code::CONFIGURE_ACK);
    assert_eq!(ours.peer(), theirs.local());
    Ok::<(), crate::wire::Error>(())
}

/// The default policy (MPPE required, 128-bit only, stateless preferred)
/// narrows a pptp-linux offer of H+S+L to H+S:
#[test]
fn ccp_default_narrows_hsl_to_hs() -> Result<(), crate::wire::Error> {
    use crate::ppp::ccp::{Ccp, CcpConfig};
    use crate::ppp::fsm::Negotiator;
    use crate::wire::cp::Code;

    let mut ccp = Ccp::new(CcpConfig::default());
    let offer = [18, 6, 0x01, 0x00, 0x00, 0x60]; // option 18: H, S and L
    let reply = ccp.judge(&offer, false)?;
    assert_eq!(reply.verdict(), Code::CONFIGURE_NAK);
    assert_eq!(reply.naks(), [18, 6, 0x01, 0x00, 0x00, 0x40]); // H and S

    // The peer takes the Nak: acknowledged.
    assert_eq!(
        ccp.judge(reply.naks(), false)?.verdict(),
        Code::CONFIGURE_ACK
    );
    Ok::<(), crate::wire::Error>(())
}

/// How each requirement answers a peer that offers MPPC compression
/// alone, without encryption:
#[test]
fn ccp_each_requirement_against_mppc_alone() {
    use crate::ppp::ccp::{Ccp, CcpConfig, MppeRequirement};
    use crate::ppp::fsm::Negotiator;
    use crate::wire::cp::Code;

    let judge = |mppe| {
        let mut ccp = Ccp::new(CcpConfig {
            mppe,
            ..CcpConfig::default()
        });
        let offer = [18, 6, 0, 0, 0, 0x01]; // C only
        let reply = ccp.judge(&offer, false).unwrap();
        (reply.verdict(), reply.naks().to_vec())
    };
    // Asked to encrypt with 128-bit keys instead, stateless as our request.
    let nak = vec![18, 6, 0x01, 0, 0, 0x40];
    assert_eq!(judge(MppeRequirement::Required), (Code::CONFIGURE_NAK, nak));
    // Optional: option 18 is not rejected while MPPE is allowed (RFC 3078
    // §2); the Nak offers what we would take, stateless 128-bit.
    let nak = vec![18, 6, 0x01, 0, 0, 0x40];
    assert_eq!(judge(MppeRequirement::Optional), (Code::CONFIGURE_NAK, nak));
    assert_eq!(judge(MppeRequirement::Refused).0, Code::CONFIGURE_REJECT);
}

#[test]
fn ccp_each_stateless_policy() {
    use crate::ppp::ccp::{Ccp, CcpConfig, StatelessPolicy};
    use crate::ppp::fsm::Negotiator;
    use crate::wire::cp::Code;

    let judge = |stateless, offer: &[u8]| {
        let mut ccp = Ccp::new(CcpConfig {
            stateless,
            ..CcpConfig::default()
        });
        ccp.judge(offer, false).unwrap().verdict()
    };
    let stateful = [18, 6, 0x00, 0, 0, 0x40]; // S
    let stateless = [18, 6, 0x01, 0, 0, 0x40]; // H and S

    // Both directions run one mode (pppd and Linux need it): a request in
    // the other mode than ours is Nak'ed toward ours...
    assert_eq!(
        judge(StatelessPolicy::Preferred, &stateful),
        Code::CONFIGURE_NAK
    );
    assert_eq!(
        judge(StatelessPolicy::Preferred, &stateless),
        Code::CONFIGURE_ACK
    );
    assert_eq!(
        judge(StatelessPolicy::Required, &stateful),
        Code::CONFIGURE_NAK
    );
    // ...and stateful preferred (pppd `mppe-stateful`) asks for stateful.
    assert_eq!(
        judge(StatelessPolicy::Refused, &stateless),
        Code::CONFIGURE_NAK
    );
    assert_eq!(
        judge(StatelessPolicy::Refused, &stateful),
        Code::CONFIGURE_ACK
    );
    assert_eq!(
        judge(StatelessPolicy::StatefulOnly, &stateless),
        Code::CONFIGURE_NAK
    );
    // A peer that Naks our mode toward its own is followed, unless the
    // policy requires ours (`Required`, `StatefulOnly`); see
    // `CcpConfig::stateful`.
}

#[test]
fn ccp_defaults() {
    use crate::ppp::ccp::{Ccp, CcpConfig, MppeRequirement, StatelessPolicy};
    use crate::ppp::fsm::Negotiator;
    use crate::wire::mppe::MppeBits;

    let config = CcpConfig::default();
    assert_eq!(config.mppe, MppeRequirement::Required);
    assert_eq!(config.strengths, MppeBits::BITS_128);
    assert_eq!(config.stateless, StatelessPolicy::Preferred);
    assert!(!config.mppc && config.reset_rekeys);
    // Compression without encryption: CCP offers the C bit alone.
    let compress_only = CcpConfig {
        mppe: MppeRequirement::Refused,
        mppc: true,
        ..config
    };
    let mut request = Vec::new();
    Ccp::new(compress_only).build_request(&mut request);
    assert_eq!(request, [18, 6, 0, 0, 0, 0x01]);
}

/// We offer MPPC with MPPE; the peer wants MPPE alone for what it receives:
#[test]
fn ccp_mppc_one_direction_only() -> Result<(), crate::wire::Error> {
    use crate::ppp::ccp::{Ccp, CcpConfig};
    use crate::ppp::fsm::Negotiator;
    use crate::wire::cp::{parse_options, Code};
    use crate::wire::mppe::MppeBits;

    let mut ccp = Ccp::new(CcpConfig {
        mppc: true,
        ..CcpConfig::default()
    });
    assert!(ccp.config().mppc);
    let mut request = Vec::new();
    ccp.build_request(&mut request);
    assert_eq!(request, [18, 6, 0x01, 0, 0, 0x41]); // H, S and C
    assert!(ccp.on_ack(&parse_options(&request)?));
    let peer = [18, 6, 0x01, 0, 0, 0x40]; // H and S
    assert_eq!(ccp.judge(&peer, false)?.verdict(), Code::CONFIGURE_ACK);
    let ours = MppeBits::STATELESS | MppeBits::BITS_128 | MppeBits::MPPC;
    assert_eq!(ccp.agreed(), Some(ours));
    // MPPC on what we send: no; on what we receive: yes.
    assert_eq!(ccp.mppc_directions(), (false, true));
    Ok::<(), crate::wire::Error>(())
}

#[test]
fn ccp_reset_request_is_reported_and_acked() {
    use crate::ppp::ccp::{Ccp, CcpConfig, CcpReport};
    use crate::ppp::fsm::{Extended, Negotiator, State};
    use crate::wire::cp::Code;

    let mut ccp = Ccp::new(CcpConfig::default());
    // The peer lost a packet of a stateful MPPE stream.
    let answer = ccp.handle_extended(State::Opened, Code::RESET_REQUEST, 9, &[]);
    let reset_ack = (Code::RESET_ACK, 9);
    assert!(matches!(answer, Extended::Reply(ack) if (ack.code, ack.identifier) == reset_ack));
    assert_eq!(ccp.poll_report(), Some(CcpReport::ResetRequested)); // flush the MPPE sender
    assert_eq!(ccp.poll_report(), None);
}

#[test]
fn ccp_refuse_mppe_after_pap() {
    use crate::ppp::ccp::{Ccp, CcpConfig, MppeRequirement};
    use crate::ppp::fsm::Negotiator;

    let mut ccp = Ccp::new(CcpConfig {
        mppc: true,
        ..CcpConfig::default()
    });
    ccp.refuse_mppe(); // PAP authenticated the link: no MPPE keys
    assert_eq!(ccp.config().mppe, MppeRequirement::Refused);
    let mut request = Vec::new();
    ccp.build_request(&mut request);
    assert_eq!(request, [18, 6, 0, 0, 0, 0x01]); // C alone
}
