//! The `tracing` feature: a session seen through a subscriber shows every
//! control message and PPP control packet in pppd's log format, inside
//! `pptp_client{call=…}` and `pptp_session{conn=…,call=…,user=…}` spans,
//! with the negotiation decisions, phase changes and the reason a link went
//! down; data packets appear at TRACE level only.
//!
//! `cargo test --test tracing -- --nocapture`

mod pair;

use std::io::Write;
use std::sync::{Arc, Mutex};

use pair::{client_config, server_config, Mode, Pair};
use pptp_proto::server::Server;
use pptp_proto::time::Instant;
use tracing_subscriber::fmt::MakeWriter;

/// Collects what the subscriber writes.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Log {
    type Writer = Log;
    fn make_writer(&'a self) -> Log {
        self.clone()
    }
}

/// Runs `f` under a subscriber at `level`; returns the log text.
fn logged(level: tracing::Level, f: impl FnOnce()) -> String {
    let log = Log::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(log.clone())
        .with_ansi(false)
        .without_time()
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    text
}

fn session_up_and_closed(mode: Mode) {
    let mut pair = Pair::new(
        Server::new(server_config(mode, 1)),
        client_config(mode, 11),
        Instant::ZERO,
    );
    assert!(pair.handshake());
    let mut buf = vec![0u8; 2048];
    let ping = [
        0x45u8, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
    ];
    let now = pair.now;
    let r = pair.client.send_ip(now, &ping, &mut buf).unwrap();
    let mut d = buf[r].to_vec();
    let _ = pair.server.handle_datagram(now, pair.peer, &mut d);
    pair.client.close(now);
    for _ in 0..100 {
        let moved = pair.flush();
        if !moved {
            match Instant::soonest(pair.client.poll_timeout(), pair.server.poll_timeout()) {
                Some(t) => pair.tick(t.max(pair.now)),
                None => break,
            }
        }
    }
}

#[test]
fn a_session_in_pppd_format_inside_spans() {
    let text = logged(tracing::Level::DEBUG, || {
        session_up_and_closed(Mode::Stateless)
    });
    for needle in [
        // Control connection, both ends, pppd-style.
        "sent [PPTP SCCRQ",
        "rcvd [PPTP SCCRQ",
        "sent [PPTP OCRP",
        "rcvd [PPTP SLI",
        // PPP control packets.
        "sent [LCP ConfReq",
        "rcvd [LCP ConfAck",
        "sent [CHAP Challenge",
        "rcvd [CHAP Success",
        "sent [CCP ConfReq",
        "sent [IPCP ConfNak",
        "sent [LCP TermReq",
        // Spans.
        "pptp_client{call=",
        "pptp_session{conn=0",
        "user=\"alice\"",
        // Decisions, phases, outcome.
        "Configure-Nak",
        "protocol=\"IPCP\"",
        "PPP phase",
        "PPP network up",
        "PPP link down",
        "reason=LocalClose",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    // Data packets only at TRACE.
    assert!(!text.contains("[MPPE"), "data at DEBUG:\n{text}");
    let trace = logged(tracing::Level::TRACE, || {
        session_up_and_closed(Mode::Stateless)
    });
    assert!(trace.contains("TRACE"), "no TRACE lines");
    println!("{text}");
}

#[test]
fn a_wrong_password_names_its_reason() {
    let text = logged(tracing::Level::INFO, || {
        let mut config = client_config(Mode::Stateless, 12);
        if let pptp_proto::ppp::session::AuthConfig::Peer(peer) = &mut config.ppp.auth {
            peer.password = pptp_proto::crypto::Password::new("wrong").unwrap();
        }
        let mut pair = Pair::new(
            Server::new(server_config(Mode::Stateless, 1)),
            config,
            Instant::ZERO,
        );
        assert!(!pair.handshake());
    });
    assert!(text.contains("AuthFailed"), "{text}");
    assert!(text.contains("PPTP control connection closed"), "{text}");
}
