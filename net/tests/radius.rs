//! Our server authenticating through a real FreeRADIUS (#20): Debian's
//! `freeradius`, started per test on 127.0.0.1 with the configuration in
//! `tests/radius/` (`tests/freeradius/mod.rs`), asked over real UDP by the
//! example server's RADIUS client (`examples/support/radius_nas.rs`). An
//! in-memory pptp-proto client is the peer. Without FreeRADIUS installed
//! each test prints `SKIPPED` and passes, except under `CI` (or
//! `PPTP_RADIUS_REQUIRE=1`), where it fails.

mod freeradius;
#[path = "../../tests/pair/mod.rs"]
mod pair;
#[allow(dead_code)]
#[path = "../examples/support/radius_nas.rs"]
mod radius;

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::Arc;

use pair::aaa::{
    client_as, connect, exchange_ip, idle_until, log, pair_with, records, server_down,
};
use pair::{server_config, Pair};
use pptp_proto::accounting::{AccountingRecord, AccountingStatus, TerminateCause};
use pptp_proto::client::ClientEvent;
use pptp_proto::ppp::auth::{AuthFailure, Verdict};
use pptp_proto::ppp::lcp::AuthMethod;
use pptp_proto::ppp::session::DownReason;
use pptp_proto::server::{Deadline, Server, ServerEvent, SessionDownReason};
use pptp_proto::time::{Duration, Instant};
use radius::{RadiusClient, RadiusConfig};

/// A client of `rig`, as the example server makes one.
fn client(rig: &freeradius::FreeRadius) -> Arc<RadiusClient> {
    Arc::new(RadiusClient::new(RadiusConfig {
        auth: rig.auth,
        acct: rig.acct,
        secret: rig.secret.as_bytes().to_vec(),
        nas_identifier: "pptp-proto-test".into(),
        nas_ip: Some(Ipv4Addr::LOCALHOST),
        timeout: std::time::Duration::from_secs(3),
        tries: 3,
    }))
}

/// A verifier that asks FreeRADIUS (blocking: the test's event loop is
/// the pair's; the example server asks from worker threads).
fn asks(radius: Arc<RadiusClient>) -> impl FnMut(&ServerEvent) -> Verdict + 'static {
    move |event| {
        let ServerEvent::AuthRequest {
            username, exchange, ..
        } = event
        else {
            panic!("{event:?}");
        };
        let calling: IpAddr = Ipv4Addr::new(192, 0, 2, 7).into();
        radius
            .authenticate(username, exchange, 1, calling)
            .unwrap_or_else(|e| panic!("RADIUS: {e}"))
    }
}

fn client_down(pair: &Pair) -> Option<SessionDownReason> {
    log(pair).client.iter().find_map(|e| match e {
        ClientEvent::Down { reason } => Some(reason.clone()),
        _ => None,
    })
}

/// Sends the pair's accounting records to FreeRADIUS, in order.
fn account(radius: &RadiusClient, records: &[&AccountingRecord]) {
    for r in records {
        radius
            .account(r)
            .unwrap_or_else(|e| panic!("accounting {:?}: {e}", r.status));
    }
}

#[test]
fn every_method_authenticates_through_freeradius_and_its_keys_encrypt() {
    let Some(rig) = freeradius::start() else {
        return;
    };
    let radius = client(&rig);
    for method in [
        AuthMethod::Pap,
        AuthMethod::ChapMd5,
        AuthMethod::MsChapV1,
        AuthMethod::MsChapV2,
        // Local EAP: checked with CHAP-Password and MS-CHAP2-Response, as
        // their non-EAP forms.
        AuthMethod::EapMd5,
        AuthMethod::EapMsChapV2,
    ] {
        let mut pair = pair_with(method, "secret", |_| {}, asks(radius.clone()));
        assert!(
            pair.handshake(),
            "{method:?}: not up ({:?})\n{}",
            client_down(&pair),
            rig.log()
        );
        // MS-CHAP: the server encrypts with the keys FreeRADIUS sent
        // (MS-MPPE-Send/Recv-Key, MS-CHAP-MPPE-Keys), the client with its
        // own: a packet each way decrypts only if they agree.
        for _ in 0..3 {
            exchange_ip(&mut pair, 400);
        }
    }
}

#[test]
fn a_wrong_password_is_refused_with_e691() {
    let Some(rig) = freeradius::start() else {
        return;
    };
    let radius = client(&rig);
    for method in [AuthMethod::MsChapV2, AuthMethod::MsChapV1, AuthMethod::Pap] {
        let mut pair = pair_with(method, "wrong", |_| {}, asks(radius.clone()));
        assert!(!pair.handshake(), "{method:?}: up with a wrong password");
        // The client read E=691 (or PAP's Nak) from the Failure.
        assert_eq!(
            client_down(&pair),
            Some(SessionDownReason::Ppp(DownReason::AuthFailed(
                AuthFailure::BadPassword
            ))),
            "{method:?}"
        );
        assert!(records(&pair).is_empty());
    }
}

#[test]
fn freeradius_reply_attributes_are_enforced() {
    let Some(rig) = freeradius::start() else {
        return;
    };
    let radius = client(&rig);
    // bob: Framed-IP-Address 10.77.0.9, Idle-Timeout 20, Session-Timeout 30,
    // Class "bob-class".
    let bob = client_as(AuthMethod::MsChapV2, "bob", "hunter2");
    let mut config = server_config(pair::Mode::Stateless, 4);
    config.accounting = true;
    let mut pair = connect(
        Server::new(config),
        bob,
        Instant::ZERO,
        asks(radius.clone()),
    );
    assert!(pair.handshake(), "bob: {:?}", client_down(&pair));
    let bobs = Ipv4Addr::new(10, 77, 0, 9);
    assert!(log(&pair)
        .client
        .iter()
        .any(|e| matches!(e, ClientEvent::Up { local, .. } if *local == bobs)));
    let up = pair.now;
    idle_until(&mut pair, up + Duration::from_secs(19));
    assert_eq!(server_down(&pair), None);
    idle_until(&mut pair, up + Duration::from_secs(21));
    assert_eq!(
        server_down(&pair),
        Some(&SessionDownReason::Deadline(Deadline::Idle))
    );
    let r = records(&pair);
    assert_eq!(r[0].class, b"bob-class");
    assert_eq!(r[0].address, bobs);
    // carol: Session-Timeout 3, traffic or not.
    let carol = client_as(AuthMethod::MsChapV2, "carol", "carol-pw");
    let mut config = server_config(pair::Mode::Stateless, 4);
    config.accounting = true;
    let mut pair = connect(Server::new(config), carol, Instant::ZERO, asks(radius));
    assert!(pair.handshake());
    let up = pair.now;
    idle_until(&mut pair, up + Duration::from_secs(2));
    exchange_ip(&mut pair, 100);
    idle_until(&mut pair, up + Duration::from_secs(4));
    assert_eq!(
        server_down(&pair),
        Some(&SessionDownReason::Deadline(Deadline::Session))
    );
    let stop = *records(&pair).last().unwrap();
    assert_eq!(stop.terminate_cause, Some(TerminateCause::SessionTimeout));
}

#[test]
fn accounting_start_and_stop_reach_freeradius_with_the_octets() {
    let Some(rig) = freeradius::start() else {
        return;
    };
    let radius = client(&rig);
    let mut pair = pair_with(AuthMethod::MsChapV2, "secret", |_| {}, asks(radius.clone()));
    assert!(pair.handshake());
    for _ in 0..5 {
        exchange_ip(&mut pair, 300);
    }
    pair.now += Duration::from_secs(7);
    pair.server.close(pair.now, pair.conn);
    pair.flush();
    let r = records(&pair);
    let statuses: Vec<_> = r.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [AccountingStatus::Start, AccountingStatus::Stop]);
    account(&radius, &r);
    let id = &r[0].session_id;
    let detail = rig.wait_detail("Acct-Status-Type = Stop", std::time::Duration::from_secs(5));
    // One Start and one Stop for this session, with our counters.
    assert!(detail.contains("Acct-Status-Type = Start"), "{detail}");
    assert!(
        detail.contains(&format!("Acct-Session-Id = \"{id}\"")),
        "{detail}"
    );
    assert!(detail.contains("User-Name = \"alice\""), "{detail}");
    assert!(detail.contains("Acct-Input-Octets = 1500"), "{detail}");
    assert!(detail.contains("Acct-Output-Octets = 1500"), "{detail}");
    assert!(detail.contains("Acct-Input-Packets = 5"), "{detail}");
    assert!(
        detail.contains("Acct-Terminate-Cause = Admin-Reset"),
        "{detail}"
    );
    assert!(detail.contains("Framed-IP-Address = 10.0.0.2"), "{detail}");
}

/// `radclient`'s answer to one Disconnect-Request with `attributes`, sent
/// to `to`; meanwhile `answer` plays the NAS.
fn radclient_disconnect(
    to: std::net::SocketAddr,
    secret: &str,
    attributes: &str,
    answer: impl FnOnce(),
) -> String {
    let mut child = Command::new("radclient")
        .args([
            "-x",
            "-r",
            "1",
            "-t",
            "5",
            &to.to_string(),
            "disconnect",
            secret,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("radclient (freeradius-utils)");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(attributes.as_bytes()).unwrap();
    }
    answer();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn a_disconnect_request_from_radclient_ends_the_session_it_names() {
    let Some(rig) = freeradius::start() else {
        return;
    };
    let radius = client(&rig);
    let mut pair = pair_with(AuthMethod::MsChapV2, "secret", |_| {}, asks(radius));
    assert!(pair.handshake());
    let id = records(&pair)[0].session_id.clone();
    // Our side of RFC 5176, as the example server does it.
    let nas = UdpSocket::bind("127.0.0.1:0").unwrap();
    nas.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let to = nas.local_addr().unwrap();
    let serve = |pair: &mut Pair| {
        let mut buf = [0u8; 4096];
        let (n, from) = nas.recv_from(&mut buf).expect("no Disconnect-Request");
        let request = radius::parse_disconnect(&buf[..n], rig.secret.as_bytes()).unwrap();
        let found = request.session_id.as_deref() == Some(id.as_str());
        if found {
            pair.server.close(pair.now, pair.conn);
            pair.flush();
        }
        let reply = radius::disconnect_reply(&buf[..n], rig.secret.as_bytes(), found);
        nas.send_to(&reply, from).unwrap();
    };
    // A session that is not ours: NAK, and ours stays up.
    let out = radclient_disconnect(to, rig.secret, "Acct-Session-Id = \"nope\"\n", || {
        serve(&mut pair)
    });
    assert!(out.contains("Disconnect-NAK"), "{out}");
    assert_eq!(server_down(&pair), None);
    let attrs = format!("Acct-Session-Id = \"{id}\"\n");
    let out = radclient_disconnect(to, rig.secret, &attrs, || serve(&mut pair));
    assert!(out.contains("Disconnect-ACK"), "{out}");
    assert_eq!(
        server_down(&pair),
        Some(&SessionDownReason::Ppp(DownReason::LocalClose))
    );
    assert_eq!(
        client_down(&pair),
        Some(SessionDownReason::Ppp(DownReason::PeerTerminated))
    );
    let stop = *records(&pair).last().unwrap();
    assert_eq!(stop.terminate_cause, Some(TerminateCause::AdminReset));
}

#[test]
fn eap_passes_through_to_freeradius_which_runs_md5_and_mschapv2_and_sends_keys() {
    let Some(rig) = freeradius::start() else {
        return;
    };
    let radius = client(&rig);
    // Our server relays EAP (AuthMethod::Eap); FreeRADIUS offers EAP-MD5
    // first, and the EAP-MSCHAPv2 client Naks toward its type.
    for method in [AuthMethod::EapMd5, AuthMethod::EapMsChapV2] {
        for (password, up) in [("secret", true), ("wrong", false)] {
            let mut pair = pair_with(
                method,
                password,
                |config| config.ppp.lcp.auth = vec![AuthMethod::Eap],
                asks(radius.clone()),
            );
            let what = format!("{method:?} with {password:?}");
            assert_eq!(
                pair.handshake(),
                up,
                "{what}: ({:?})\n{}",
                client_down(&pair),
                rig.log()
            );
            if !up {
                assert_eq!(
                    client_down(&pair),
                    Some(SessionDownReason::Ppp(DownReason::AuthFailed(
                        AuthFailure::BadPassword
                    ))),
                    "{what}"
                );
                assert!(records(&pair).is_empty(), "{what}");
                continue;
            }
            // Each round trip to FreeRADIUS is one AuthRequest: Identity and
            // MD5; Identity, the Nak, the MS-CHAPv2 Response and its ack.
            let rounds = log(&pair)
                .server
                .iter()
                .filter(|e| matches!(e, ServerEvent::AuthRequest { .. }))
                .count();
            let expect = if method == AuthMethod::EapMd5 { 2 } else { 4 };
            assert_eq!(rounds, expect, "{what}");
            // EAP-MSCHAPv2: the server encrypts with FreeRADIUS's
            // MS-MPPE keys, the client with its own.
            let mppe = log(&pair).client.iter().find_map(|e| match e {
                ClientEvent::Up { mppe, .. } => Some(mppe.is_some()),
                _ => None,
            });
            assert_eq!(mppe, Some(method == AuthMethod::EapMsChapV2), "{what}");
            for _ in 0..3 {
                exchange_ip(&mut pair, 400);
            }
            println!("{what}: up through FreeRADIUS's EAP module (MPPE {mppe:?})");
        }
    }
}
