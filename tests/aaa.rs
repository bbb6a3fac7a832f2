//! The external-verifier path of #20, in memory: what `AuthRequest` carries
//! is what a RADIUS server checks, and what its verdict says (keys, `S=`,
//! address, timeouts, class, the error) is what the session does. The same
//! through a real FreeRADIUS is `net/tests/radius.rs`.

mod pair;

use pair::aaa::{
    client_for, connect, exchange_ip, idle_until, log, pair_with, records, server_down,
};
use pptp_proto::accounting::{AccountingStatus, TerminateCause};
use pptp_proto::client::ClientEvent;
use pptp_proto::crypto::key_derivation::{mppe_keys_mschapv1, mppe_keys_mschapv2, Role};
use pptp_proto::crypto::mschap::nt_challenge_response;
use pptp_proto::crypto::{chap_md5, mschapv2, nt_password_hash, Password};
use pptp_proto::ppp::auth::{Acceptance, AuthExchange, AuthFailure, Rejection, Verdict};
use pptp_proto::ppp::lcp::AuthMethod;
use pptp_proto::ppp::session::DownReason;
use pptp_proto::server::{Deadline, ServerConfig, ServerEvent, SessionDownReason};
use pptp_proto::time::{Duration, Instant};

const PASSWORD: &str = "secret";

/// What a RADIUS server does with the exchange: checks it against the
/// password on its own, and returns the keys and `S=` it derives.
fn radius_like(event: &ServerEvent) -> Verdict {
    let ServerEvent::AuthRequest {
        username, exchange, ..
    } = event
    else {
        panic!("not an AuthRequest: {event:?}");
    };
    let password = Password::new(PASSWORD).unwrap();
    let hash = nt_password_hash(&password);
    let accept = |mppe_keys, authenticator_response| {
        Verdict::Accept(Acceptance {
            mppe_keys,
            authenticator_response,
            ..Acceptance::default()
        })
    };
    match exchange {
        AuthExchange::Pap { password: given } if **given == password => accept(None, None),
        AuthExchange::ChapMd5 {
            identifier,
            challenge,
            response,
        } if chap_md5::verify(*identifier, &password, challenge, response) => accept(None, None),
        AuthExchange::MsChapV1 {
            challenge,
            nt_response,
            flags: 1,
            ..
        } if nt_challenge_response(challenge, &hash) == *nt_response => {
            accept(Some(mppe_keys_mschapv1(&hash, challenge)), None)
        }
        AuthExchange::MsChapV2 {
            authenticator_challenge,
            peer_challenge,
            nt_response,
            ..
        } => match mschapv2::verify(
            authenticator_challenge,
            peer_challenge,
            username.as_bytes(),
            nt_response,
            &hash,
        ) {
            Some(s) => accept(
                Some(mppe_keys_mschapv2(&hash, nt_response, Role::Authenticator)),
                Some(s.0),
            ),
            None => Verdict::Reject(Rejection::default()),
        },
        _ => Verdict::Reject(Rejection::default()),
    }
}

#[test]
fn every_method_carries_what_a_verifier_checks_and_its_keys_encrypt() {
    for method in [
        AuthMethod::Pap,
        AuthMethod::ChapMd5,
        AuthMethod::MsChapV1,
        AuthMethod::MsChapV2,
    ] {
        let mut pair = pair_with(method, PASSWORD, |_| {}, radius_like);
        assert!(pair.handshake(), "{method:?}: not up");
        // MS-CHAP: the verifier's keys are the ones the server encrypts
        // with; the client derived its own from the password.
        exchange_ip(&mut pair, 300);
        let request = log(&pair)
            .server
            .iter()
            .find_map(|e| match e {
                ServerEvent::AuthRequest {
                    method, exchange, ..
                } => Some((*method, exchange.clone())),
                _ => None,
            })
            .unwrap();
        assert_eq!(request.0, method);
        let shape = match request.1 {
            AuthExchange::Pap { .. } => AuthMethod::Pap,
            AuthExchange::ChapMd5 { .. } => AuthMethod::ChapMd5,
            AuthExchange::MsChapV1 { .. } => AuthMethod::MsChapV1,
            AuthExchange::MsChapV2 { .. } => AuthMethod::MsChapV2,
            other => panic!("{other:?}"),
        };
        assert_eq!(shape, method);
    }
}

#[test]
fn a_wrong_password_is_refused_by_the_verifier() {
    for method in [AuthMethod::Pap, AuthMethod::ChapMd5, AuthMethod::MsChapV2] {
        let mut pair = pair_with(method, "wrong", |_| {}, radius_like);
        assert!(!pair.handshake(), "{method:?}: up with a wrong password");
        let down = log(&pair).client.iter().find_map(|e| match e {
            ClientEvent::Down { reason } => Some(reason.clone()),
            _ => None,
        });
        assert_eq!(
            down,
            Some(SessionDownReason::Ppp(DownReason::AuthFailed(
                AuthFailure::BadPassword
            ))),
            "{method:?}"
        );
        assert!(
            records(&pair).is_empty(),
            "accounting for a refused session"
        );
    }
}

#[test]
fn the_verifiers_error_code_reaches_the_peer() {
    let mut pair = pair_with(
        AuthMethod::MsChapV2,
        PASSWORD,
        |_| {},
        |_| {
            Verdict::Reject(Rejection {
                error: 647,
                message: Some("Account disabled".into()),
                ..Rejection::default()
            })
        },
    );
    assert!(!pair.handshake());
    assert!(log(&pair).client.iter().any(|e| matches!(
        e,
        ClientEvent::Down {
            reason: SessionDownReason::Ppp(DownReason::AuthFailed(AuthFailure::AccountDisabled))
        }
    )));
}

#[test]
fn missing_s_response_fails_the_client_closed() {
    // A verifier that accepts but returns no MS-CHAP2-Success: the client
    // cannot know the server holds its password, and refuses.
    let mut pair = pair_with(
        AuthMethod::MsChapV2,
        PASSWORD,
        |_| {},
        |e| match radius_like(e) {
            Verdict::Accept(a) => Verdict::Accept(Acceptance {
                authenticator_response: None,
                ..a
            }),
            r => r,
        },
    );
    assert!(!pair.handshake());
    assert!(log(&pair).client.iter().any(|e| matches!(
        e,
        ClientEvent::Down {
            reason: SessionDownReason::Ppp(DownReason::AuthFailed(
                AuthFailure::AuthenticatorMismatch
            ))
        }
    )));
}

fn with_grant(grant: Acceptance) -> impl FnMut(&ServerEvent) -> Verdict {
    move |e| match radius_like(e) {
        Verdict::Accept(a) => Verdict::Accept(Acceptance {
            mppe_keys: a.mppe_keys,
            authenticator_response: a.authenticator_response,
            ..grant.clone()
        }),
        r => r,
    }
}

#[test]
fn the_verdicts_address_wins_over_the_pool_and_is_never_given_twice() {
    let grant = Acceptance {
        address: Some([10, 77, 0, 9].into()),
        ..Acceptance::default()
    };
    let mut pair = pair_with(
        AuthMethod::MsChapV2,
        PASSWORD,
        |_| {},
        with_grant(grant.clone()),
    );
    assert!(pair.handshake());
    assert!(log(&pair).client.iter().any(|e| matches!(
        e,
        ClientEvent::Up { local, .. } if *local == std::net::Ipv4Addr::new(10, 77, 0, 9)
    )));
    // A second session the verifier gives the same address is refused:
    // it would take the first one's traffic.
    let now = pair.now;
    let server = pair.into_server();
    let client = client_for(AuthMethod::MsChapV2, PASSWORD);
    let mut second = connect(server, client, now, with_grant(grant));
    assert!(!second.handshake());
    let address = std::net::Ipv4Addr::new(10, 77, 0, 9);
    assert!(log(&second).server.iter().any(|e| matches!(
        e,
        ServerEvent::SessionDown { reason: SessionDownReason::AddressInUse(a), .. } if *a == address
    )));
}

#[test]
fn a_verdict_nobody_asked_for_changes_nothing() {
    // The embedder (a stale RADIUS answer, a bug) hands over an Accept
    // with an address before any AuthRequest; the session then
    // authenticates with its password and must get a pool address, not
    // the unsolicited one, and no session timeout.
    let mut pair = pair_with(AuthMethod::MsChapV2, PASSWORD, |_| {}, radius_like);
    pair.verifier = None; // the server's own password check answers
    let stale = Acceptance {
        address: Some([10, 77, 0, 9].into()),
        session_timeout: Some(Duration::from_secs(1)),
        ..Acceptance::default()
    };
    let (now, conn) = (pair.now, pair.conn);
    pair.server
        .provide_verdict(now, conn, Verdict::Accept(stale));
    assert!(pair.handshake());
    let local = log(&pair).client.iter().find_map(|e| match e {
        ClientEvent::Up { local, .. } => Some(*local),
        _ => None,
    });
    assert!(local.is_some());
    assert_ne!(local, Some(std::net::Ipv4Addr::new(10, 77, 0, 9)));
    idle_until(&mut pair, now + Duration::from_secs(5));
    assert_eq!(server_down(&pair), None, "a session timeout nobody granted");
}

#[test]
fn accounting_reports_start_interim_and_stop_with_the_traffic_and_class() {
    let grant = Acceptance {
        interim_interval: Some(Duration::from_secs(60)),
        class: b"gold".to_vec(),
        ..Acceptance::default()
    };
    let mut pair = pair_with(AuthMethod::MsChapV2, PASSWORD, |_| {}, with_grant(grant));
    assert!(pair.handshake());
    let up = pair.now;
    for _ in 0..3 {
        exchange_ip(&mut pair, 200);
    }
    // Keepalives answer each other meanwhile; two interim records.
    idle_until(&mut pair, up + Duration::from_secs(125));
    pair.server.close(pair.now, pair.conn);
    pair.flush();
    let r = records(&pair);
    let statuses: Vec<_> = r.iter().map(|r| r.status).collect();
    use AccountingStatus::*;
    assert_eq!(statuses, [Start, Interim, Interim, Stop], "{r:#?}");
    let (start, stop) = (r[0].clone(), r[3].clone());
    assert_eq!(start.session_id, stop.session_id);
    assert_eq!(stop.username, "alice");
    assert_eq!(stop.address, std::net::Ipv4Addr::new(10, 0, 0, 2));
    assert_eq!(stop.class, b"gold");
    assert_eq!((stop.packets_in, stop.packets_out), (3, 3));
    assert_eq!((stop.bytes_in, stop.bytes_out), (600, 600));
    assert_eq!(r[1].session_time, Duration::from_secs(60));
    drop(r);
    assert!(stop.session_time >= Duration::from_secs(125));
    assert_eq!(stop.terminate_cause, Some(TerminateCause::AdminReset));
    assert_eq!(start.terminate_cause, None);
    // A second session has another id.
    let server = pair.into_server();
    let client = client_for(AuthMethod::MsChapV2, PASSWORD);
    let mut second = connect(server, client, Instant::from_secs(500), radius_like);
    assert!(second.handshake());
    assert_ne!(records(&second)[0].session_id, stop.session_id);
}

#[test]
fn the_verdicts_session_timeout_ends_the_session_with_its_own_reason() {
    let grant = Acceptance {
        session_timeout: Some(Duration::from_secs(30)),
        ..Acceptance::default()
    };
    let mut pair = pair_with(AuthMethod::MsChapV2, PASSWORD, |_| {}, with_grant(grant));
    assert!(pair.handshake());
    let up = pair.now;
    // Traffic does not extend it.
    idle_until(&mut pair, up + Duration::from_secs(20));
    exchange_ip(&mut pair, 100);
    idle_until(&mut pair, up + Duration::from_secs(29));
    assert_eq!(server_down(&pair), None);
    idle_until(&mut pair, up + Duration::from_secs(31));
    assert_eq!(
        server_down(&pair),
        Some(&SessionDownReason::Deadline(Deadline::Session))
    );
    assert_eq!(pair.server.counters().session_timeouts, 1);
    let stop = *records(&pair).last().unwrap();
    assert_eq!(stop.status, AccountingStatus::Stop);
    assert_eq!(stop.terminate_cause, Some(TerminateCause::SessionTimeout));
}

#[test]
fn the_verdicts_idle_timeout_wins_over_the_servers() {
    let grant = Acceptance {
        idle_timeout: Some(Duration::from_secs(20)),
        ..Acceptance::default()
    };
    let configure = |c: &mut ServerConfig| c.idle_timeout = Some(Duration::from_secs(600));
    let mut pair = pair_with(AuthMethod::MsChapV2, PASSWORD, configure, with_grant(grant));
    assert!(pair.handshake());
    let up = pair.now;
    // Traffic at 15 s moves the deadline to 35 s.
    idle_until(&mut pair, up + Duration::from_secs(15));
    exchange_ip(&mut pair, 100);
    idle_until(&mut pair, up + Duration::from_secs(34));
    assert_eq!(server_down(&pair), None);
    idle_until(&mut pair, up + Duration::from_secs(36));
    assert_eq!(
        server_down(&pair),
        Some(&SessionDownReason::Deadline(Deadline::Idle))
    );
    let stop = *records(&pair).last().unwrap();
    assert_eq!(stop.terminate_cause, Some(TerminateCause::IdleTimeout));
}

#[test]
fn the_address_is_leased_only_after_authentication_and_given_back() {
    // A pool of one address: a client that never authenticates holds
    // nothing, and the address is free again after a session ends.
    let configure = |c: &mut ServerConfig| {
        let pool = c.pool.as_mut().unwrap();
        pool.range.1 = pool.range.0;
    };
    let mut stalled = pair_with(AuthMethod::MsChapV2, PASSWORD, configure, |_| {
        Verdict::Reject(Rejection::default())
    });
    assert!(!stalled.handshake());
    let now = stalled.now;
    let server = stalled.into_server();
    let client = client_for(AuthMethod::MsChapV2, PASSWORD);
    let mut ok = connect(server, client, now, radius_like);
    assert!(ok.handshake(), "the refused session kept the only address");
    ok.server.close(ok.now, ok.conn);
    ok.flush();
    let now = ok.now + Duration::from_secs(1);
    let server = ok.into_server();
    let client = client_for(AuthMethod::MsChapV2, PASSWORD);
    let mut again = connect(server, client, now, radius_like);
    assert!(
        again.handshake(),
        "the closed session did not give its address back"
    );
}
