//! PEAP (PEAPv0 with EAP-MSCHAPv2 inside) through our EAP pass-through
//! authenticator (RFC 3579), with a real PEAP peer and a real PEAP server.
//!
//! There is no PPP PEAP client, so wpa_supplicant's `eapol_test` is the
//! peer. It is a RADIUS client (it plays the 802.1X authenticator too) and
//! sends each EAP Response of its peer in an Access-Request to the fake
//! RADIUS server here, which feeds it to an
//! [`Authenticator`] with [`AuthMethod::Eap`], relays what the machine
//! asks through the example server's RADIUS client
//! (`examples/support/radius_nas.rs`) to FreeRADIUS (`tests/radius/`,
//! PEAP with a throwaway CA), hands the verdict back, and answers
//! eapol_test with whatever the machine transmits: Access-Challenge for an
//! EAP Request, Access-Accept for EAP-Success, Access-Reject for
//! EAP-Failure, each signed (RFC 3579 §3.2, RFC 2865 §3).
//!
//! ```text
//! eapol_test --Access-Request--> this test: Authenticator --RadiusClient--> FreeRADIUS
//!            <--Access-Challenge--         (EAP pass-through)  <--Access-Challenge--
//! ```
//!
//! The Access-Accept carries FreeRADIUS's MS-MPPE keys re-hidden for
//! eapol_test, which checks them against the MSK its TLS derived. They are
//! the MSK's 32-octet halves (RFC 5216 §2.3); the verdict's
//! [`Acceptance`] holds what MPPE uses,
//! the first 16 of each, and eapol_test would take those two for a
//! MS-CHAPv2 PMK and report a mismatch. So the relay keeps FreeRADIUS's
//! whole answer (`RadiusClient::authenticate_answer`), re-hides all 32
//! octets, and checks that the Acceptance's keys are their first 16.
//! Without FreeRADIUS or eapol_test (`apt-get install eapoltest`) each test
//! prints `SKIPPED` and passes, except under `CI` (or
//! `PPTP_RADIUS_REQUIRE=1`), where it fails.

mod freeradius;
#[allow(dead_code)]
#[path = "../examples/support/radius_nas.rs"]
mod radius_nas;

use std::fs::{self, File};
use std::io;
use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use hmac::{Hmac, Mac};
use md5::Md5;
use pptp_proto::ppp::auth::{
    Acceptance, AuthEvent, AuthFailure, AuthMachine, AuthTimers, Authenticator, Verdict,
};
use pptp_proto::ppp::lcp::AuthMethod;
use pptp_proto::time::Instant;
use pptp_proto::wire::eap::{EapData, EapPacket};
use pptp_proto::wire::ppp::Protocol;
use radius::core::avp::AVP;
use radius::core::code::Code;
use radius::core::packet::Packet;
use radius::core::{rfc2865, rfc2869};
use radius_nas::{
    encrypt_mppe_key, message_authenticator_ok, ms_mppe_keys, RadiusClient, RadiusConfig,
};

/// The fake RADIUS server's secret, shared with eapol_test only.
const SECRET: &[u8] = b"eapol-test-to-pptp-proto";
/// eapol_test's own limit (`-t`), and ours on top of it.
const EAPOL_TIMEOUT_SECS: u64 = 15;
const RUN_TIMEOUT: Duration = Duration::from_secs(EAPOL_TIMEOUT_SECS + 15);
/// Vendor-Specific (RFC 2865 §5.26), Microsoft's vendor id and RFC 2548's
/// MS-MPPE-Send-Key / -Recv-Key; Message-Authenticator (RFC 2869 §5.14).
const VENDOR_SPECIFIC: u8 = 26;
const MICROSOFT: u32 = 311;
const MS_MPPE_SEND_KEY: u8 = 16;
const MS_MPPE_RECV_KEY: u8 = 17;
const MESSAGE_AUTHENTICATOR: u8 = 80;
/// The NAS-Port and Calling-Station-Id our relay gives FreeRADIUS, as
/// the example server gives its sessions'.
const NAS_PORT: u16 = 1;
const CALLING: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));

/// eapol_test's path, or `None` after a loud SKIPPED line (a panic under
/// `CI` or `PPTP_RADIUS_REQUIRE=1`).
fn eapol_test() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("eapol_test"))
            .find(|p| p.is_file())
    });
    let found = on_path.or_else(|| {
        ["/usr/bin/eapol_test", "/usr/sbin/eapol_test"]
            .map(PathBuf::from)
            .into_iter()
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if freeradius::required() {
            panic!("eapol_test is not installed: apt-get install eapoltest");
        }
        eprintln!(
            "SKIPPED: eapol_test not installed (apt-get install eapoltest); \
             the PEAP tests did not run"
        );
    }
    found
}

/// eapol_test's PEAP peer (wpa_supplicant.conf(5)): PEAPv0, EAP-MSCHAPv2
/// inside, the server's certificate checked against the rig's CA.
fn network_block(ca_cert: &Path, password: &str) -> String {
    format!(
        "network={{\n\
         \tkey_mgmt=IEEE8021X\n\
         \teap=PEAP\n\
         \tidentity=\"alice\"\n\
         \tpassword=\"{password}\"\n\
         \tphase1=\"peapver=0\"\n\
         \tphase2=\"auth=MSCHAPV2\"\n\
         \tca_cert=\"{}\"\n\
         }}\n",
        ca_cert.display()
    )
}

/// A Microsoft Vendor-Specific attribute (RFC 2548 §2).
fn ms(vendor_type: u8, value: &[u8]) -> AVP {
    let mut v = MICROSOFT.to_be_bytes().to_vec();
    v.extend([vendor_type, value.len() as u8 + 2]);
    v.extend_from_slice(value);
    AVP::from_bytes(VENDOR_SPECIFIC, &v)
}

/// Our answer of `code` to `request`: `eap` as EAP-Message and what `add`
/// puts in, then a Message-Authenticator computed with the Request
/// Authenticator in the header (RFC 3579 §3.2), then the Response
/// Authenticator over all of it (RFC 2865 §3).
fn signed_answer(request: &[u8], code: Code, eap: &[u8], add: impl Fn(&mut Packet)) -> Vec<u8> {
    let build = |message_authenticator: &[u8]| {
        let mut reply = Packet::decode(request, SECRET)
            .expect("eapol_test's request decodes")
            .make_response_packet(code);
        rfc2869::add_eap_message(&mut reply, eap);
        add(&mut reply);
        rfc2869::add_message_authenticator(&mut reply, message_authenticator);
        reply.encode().expect("our answer encodes")
    };
    let mut unsigned = build(&[0; 16]);
    unsigned[4..20].copy_from_slice(&request[4..20]);
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(SECRET).expect("HMAC takes any key");
    mac.update(&unsigned);
    let answer = build(&mac.finalize().into_bytes());
    // The support module's checks, which eapol_test's mirror.
    assert!(Packet::is_authentic_response(&answer, request, SECRET));
    assert_eq!(
        message_authenticator_ok(&answer, request, SECRET),
        Some(true)
    );
    assert_eq!(answer[answer.len() - 18], MESSAGE_AUTHENTICATOR);
    answer
}

/// The fake RADIUS server's side of one eapol_test run: our authenticator
/// between eapol_test and FreeRADIUS.
struct Relay {
    freeradius: RadiusClient,
    rig_secret: Vec<u8>,
    started: std::time::Instant,
    machine: Option<AuthMachine>,
    /// The last Access-Request and our answer: a retransmission gets it again.
    last: Option<(Vec<u8>, Vec<u8>)>,
    /// Our last Access-Challenge's State, which the next request echoes
    /// (RFC 2865 §5.24).
    state: Option<Vec<u8>>,
    /// Requests relayed to FreeRADIUS (one AuthEvent::Request each).
    rounds: usize,
    /// The EAP Type of each Request FreeRADIUS sent the peer.
    challenge_types: Vec<u8>,
    /// FreeRADIUS's Access-Accept: the verdict's acceptance, and its whole
    /// MS-MPPE-Send-Key and -Recv-Key.
    accepted: Option<(Acceptance, Vec<u8>, Vec<u8>)>,
    /// What the machine reported besides Requests.
    events: Vec<AuthEvent>,
    /// The code of each answer we gave eapol_test.
    answers: Vec<u8>,
}

impl Relay {
    fn new(rig: &freeradius::FreeRadius) -> Self {
        let freeradius = RadiusClient::new(RadiusConfig {
            auth: rig.auth,
            acct: rig.acct,
            secret: rig.secret.as_bytes().to_vec(),
            nas_identifier: "pptp-proto-peap-test".into(),
            nas_ip: Some(Ipv4Addr::LOCALHOST),
            timeout: Duration::from_secs(3),
            tries: 3,
        });
        Relay {
            freeradius,
            rig_secret: rig.secret.as_bytes().to_vec(),
            started: std::time::Instant::now(),
            machine: None,
            last: None,
            state: None,
            rounds: 0,
            challenge_types: Vec::new(),
            accepted: None,
            events: Vec::new(),
            answers: Vec::new(),
        }
    }

    fn now(&self) -> Instant {
        Instant::from_millis(self.started.elapsed().as_millis() as u64)
    }

    /// Our answer to one of eapol_test's Access-Requests.
    fn answer(&mut self, request: &[u8]) -> Vec<u8> {
        if let Some((last, answer)) = &self.last {
            if last == request {
                return answer.clone(); // eapol_test lost our answer
            }
        }
        assert_eq!(request.first(), Some(&1), "not an Access-Request");
        // RFC 3579 §3.2: a request with EAP-Message is signed.
        assert_eq!(
            message_authenticator_ok(request, request, SECRET),
            Some(true),
            "eapol_test's Message-Authenticator (wrong secret?)"
        );
        let packet = Packet::decode(request, SECRET).expect("an Access-Request that parses");
        assert_eq!(
            rfc2865::lookup_state(&packet),
            self.state.take(),
            "the State of our last Access-Challenge, echoed"
        );
        let eap = rfc2869::lookup_eap_message(&packet).expect("an EAP-Message");
        let now = self.now();
        let machine = self.machine.get_or_insert_with(|| start(now, &eap));
        machine.handle_packet(now, Protocol::EAP, &eap);
        self.drive(now);
        let machine = self.machine.as_mut().expect("started above");
        let (protocol, reply) = machine
            .poll_transmit()
            .expect("the authenticator answers every Response");
        assert_eq!(protocol, Protocol::EAP);
        assert!(
            machine.poll_transmit().is_none(),
            "one EAP packet per round"
        );
        let answer = self.wrap(request, &reply);
        self.answers.push(answer[0]);
        self.last = Some((request.to_vec(), answer.clone()));
        answer
    }

    /// Relays each Request the machine reports to FreeRADIUS and hands the
    /// verdict back.
    fn drive(&mut self, now: Instant) {
        let Some(machine) = self.machine.as_mut() else {
            return;
        };
        while let Some(event) = machine.poll_event() {
            let AuthEvent::Request {
                username,
                method,
                exchange,
            } = event
            else {
                self.events.push(event);
                continue;
            };
            assert_eq!((username.as_str(), method), ("alice", AuthMethod::Eap));
            self.rounds += 1;
            let answered = self
                .freeradius
                .authenticate_answer(&username, &exchange, NAS_PORT, CALLING)
                .unwrap_or_else(|e| panic!("FreeRADIUS, round {}: {e}", self.rounds));
            match &answered.verdict {
                Verdict::Challenge(request) => self.challenge_types.push(request[4]),
                Verdict::Accept(acceptance) => {
                    let (send, recv) =
                        ms_mppe_keys(&answered.response, &answered.request, &self.rig_secret)
                            .expect("FreeRADIUS's PEAP accept carries MS-MPPE keys");
                    self.accepted = Some((acceptance.clone(), send, recv));
                }
                Verdict::Reject(_) => {}
            }
            machine.provide_verdict(now, answered.verdict);
        }
    }

    /// The machine's EAP packet as the RADIUS answer that carries it.
    fn wrap(&mut self, request: &[u8], eap: &[u8]) -> Vec<u8> {
        let authenticator = &request[4..20];
        match EapPacket::parse(eap).expect("the machine sends EAP that parses") {
            EapPacket::Request { .. } => {
                let state = format!("pptp-proto-round-{}", self.rounds).into_bytes();
                self.state = Some(state.clone());
                signed_answer(request, Code::AccessChallenge, eap, |p| {
                    rfc2865::add_state(p, &state)
                })
            }
            EapPacket::Success { .. } => {
                let (_, send, recv) = self
                    .accepted
                    .as_ref()
                    .expect("EAP-Success only after FreeRADIUS's Access-Accept");
                // RFC 2548 §2.4.2: hidden again with our secret and
                // eapol_test's Request Authenticator; a salt per key.
                let send = encrypt_mppe_key(send, [0x80, 0x01], authenticator, SECRET);
                let recv = encrypt_mppe_key(recv, [0x80, 0x02], authenticator, SECRET);
                signed_answer(request, Code::AccessAccept, eap, |p| {
                    rfc2865::add_user_name(p, "alice");
                    p.add(ms(MS_MPPE_SEND_KEY, &send));
                    p.add(ms(MS_MPPE_RECV_KEY, &recv));
                })
            }
            EapPacket::Failure { .. } => signed_answer(request, Code::AccessReject, eap, |_| {}),
            other => panic!("the authenticator sent {other:?}"),
        }
    }
}

/// Our pass-through authenticator for a peer whose Response/Identity is
/// `identity`: its Request/Identity (which eapol_test made up itself) is
/// dropped, so the machine awaits the Response under that Identifier.
fn start(now: Instant, identity: &[u8]) -> AuthMachine {
    let Ok(EapPacket::Response {
        identifier,
        data: EapData::Identity(_),
    }) = EapPacket::parse(identity)
    else {
        panic!("eapol_test's first EAP-Message is not a Response/Identity: {identity:02x?}");
    };
    let authenticator = Authenticator::new(
        AuthMethod::Eap,
        "vpn",
        [0x5a; 16],
        identifier,
        AuthTimers::default(),
    );
    let mut machine = AuthMachine::Authenticator(Box::new(authenticator));
    machine.start(now);
    let (protocol, request) = machine.poll_transmit().expect("a Request/Identity");
    assert_eq!(protocol, Protocol::EAP);
    assert!(matches!(
        EapPacket::parse(&request),
        Ok(EapPacket::Request {
            identifier: id,
            data: EapData::Identity(_),
        }) if id == identifier
    ));
    machine
}

/// Kills eapol_test if the test ends (or panics) before it does.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One eapol_test run against our relay.
struct Run {
    status: ExitStatus,
    output: String,
    log: PathBuf,
    relay: Relay,
}

impl Run {
    /// eapol_test's verdict lines, for messages.
    fn summary(&self) -> String {
        let lines: Vec<&str> = self
            .output
            .lines()
            .filter(|l| l.starts_with("MPPE keys") || *l == "SUCCESS" || *l == "FAILURE")
            .collect();
        format!(
            "eapol_test {} [{}], {} rounds, EAP types {:?}, answers {:?}, log {}",
            self.status,
            lines.join("; "),
            self.relay.rounds,
            self.relay.challenge_types,
            self.relay.answers,
            self.log.display()
        )
    }
}

fn run_peap(rig: &freeradius::FreeRadius, eapol_test: &Path, password: &str) -> Run {
    let dir = rig.workdir.join(format!("eapol_test-{password}"));
    fs::create_dir_all(&dir).expect("eapol_test's directory");
    let conf = dir.join("peap.conf");
    fs::write(&conf, network_block(&rig.ca_cert(), password)).expect("eapol_test's config");
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("the fake RADIUS server");
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("a read timeout");
    let port = socket.local_addr().expect("its address").port();
    let log = dir.join("eapol_test.log");
    let out = File::create(&log).expect("eapol_test's log");
    let err = out.try_clone().expect("eapol_test's log, again");
    let secret = std::str::from_utf8(SECRET).expect("an ASCII secret");
    let child = Command::new(eapol_test)
        .arg("-c")
        .arg(&conf)
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-s", secret])
        .args(["-r", "0", "-t", &EAPOL_TIMEOUT_SECS.to_string()])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", eapol_test.display()));
    let mut child = Running(child);
    let mut relay = Relay::new(rig);
    let deadline = std::time::Instant::now() + RUN_TIMEOUT;
    let mut buf = [0u8; 4096];
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("eapol_test's status") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "eapol_test still running after {RUN_TIMEOUT:?}; its log: {}",
            log.display()
        );
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                let answer = relay.answer(&buf[..n]);
                socket.send_to(&answer, from).expect("answering eapol_test");
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("the fake RADIUS server's socket: {e}"),
        }
    };
    let output = String::from_utf8_lossy(&fs::read(&log).unwrap_or_default()).into_owned();
    Run {
        status,
        output,
        log,
        relay,
    }
}

#[test]
fn peap_passes_through_our_authenticator_to_freeradius_and_the_keys_match_eapol_tests_msk() {
    let Some(eapol_test) = eapol_test() else {
        return;
    };
    let Some(rig) = freeradius::start() else {
        return;
    };
    let run = run_peap(&rig, &eapol_test, "secret");
    let what = run.summary();
    assert!(run.status.success(), "{what}\n{}", rig.log());
    assert!(run.output.lines().any(|l| l == "SUCCESS"), "{what}");
    // eapol_test's check: the Access-Accept's MS-MPPE-Recv-Key is its PMK
    // (the MSK's first 32 octets).
    assert!(
        run.output.contains("MPPE keys OK: 1  mismatch: 0"),
        "{what}"
    );
    // A TLS handshake and a tunnelled EAP-MSCHAPv2 went through us: MD5
    // offered first, then PEAP (Type 25) for the rest.
    assert!(run.relay.rounds > 5, "{what}");
    assert_eq!(run.relay.challenge_types.first(), Some(&4), "{what}");
    assert!(
        run.relay.challenge_types[1..].iter().all(|t| *t == 25),
        "{what}"
    );
    assert_eq!(run.relay.answers.last(), Some(&2), "{what}");
    let (acceptance, send, recv) = run.relay.accepted.as_ref().expect("accepted");
    let ours = run
        .relay
        .events
        .iter()
        .find_map(|e| match e {
            AuthEvent::Success {
                peer_name,
                method: AuthMethod::Eap,
                mppe_keys: Some(keys),
            } => Some((peer_name.clone(), keys.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("our machine reported {:?}; {what}", run.relay.events));
    assert_eq!(ours.0, "alice");
    // MPPE's 128-bit start keys are the first 16 octets of FreeRADIUS's
    // (RFC 3079 §3.3); eapol_test got all 32 of each.
    assert_eq!((send.len(), recv.len()), (32, 32));
    assert_eq!(acceptance.mppe_keys.as_ref(), Some(&ours.1));
    assert_eq!(ours.1.send[..], send[..16]);
    assert_eq!(ours.1.recv[..], recv[..16]);
    println!("PEAP up through our pass-through authenticator: {what}");
}

#[test]
fn peap_with_a_wrong_password_fails_in_our_authenticator_and_in_eapol_test() {
    let Some(eapol_test) = eapol_test() else {
        return;
    };
    let Some(rig) = freeradius::start() else {
        return;
    };
    let run = run_peap(&rig, &eapol_test, "wrong");
    let what = run.summary();
    assert!(!run.status.success(), "{what}");
    assert!(run.output.lines().any(|l| l == "FAILURE"), "{what}");
    // The TLS tunnel came up; the inner MS-CHAPv2 failed.
    assert!(run.relay.rounds > 5, "{what}");
    assert!(run.relay.accepted.is_none(), "{what}");
    assert_eq!(run.relay.answers.last(), Some(&3), "{what}");
    let failure = run.relay.events.iter().find_map(|e| match e {
        AuthEvent::Failure { reason } => Some(reason.clone()),
        _ => None,
    });
    // The verifier said no (Access-Reject): the authenticator's words for it.
    assert_eq!(failure, Some(AuthFailure::Rejected), "{what}");
    assert!(
        !run.relay
            .events
            .iter()
            .any(|e| matches!(e, AuthEvent::Success { .. })),
        "{what}"
    );
    println!("PEAP with a wrong password refused: {what}");
}
