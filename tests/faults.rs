//! Fault injection on whole sessions (`tests/harness`) and on a PPP pair
//! (`tests/mem`): asymmetric loss, heavy duplication, reordering beyond the
//! reorder window, the clock jumping forward by hours, and a peer flooding
//! Configure-Requests or Echo-Requests. Each case ends up or down cleanly,
//! with bounded queues, within its timer limits (the harness also asserts
//! that no timer stays in the past and that nothing busy-loops).
//!
//! TCP reset at every handshake step and a GRE black hole are in
//! `tests/sessions.rs`.

mod harness;
mod mem;

use harness::{Action, Dir, LinkConfig, Rng, Sim};
use mem::{configs as ppp_configs, MemPair};
use pptp_proto::client::{ClientConfig, ClientEvent};
use pptp_proto::crypto::Password;
use pptp_proto::ppp::lcp::AuthMethod;
use pptp_proto::ppp::session::PppEvent;
use pptp_proto::server::{AddressPool, ServerConfig, ServerEvent};
use pptp_proto::time::Duration;
use pptp_proto::wire::control::{ControlMessage, EchoRequest};

fn session(seed: u64, link: LinkConfig) -> Sim {
    session_with(seed, link, |_| {})
}

fn session_with(seed: u64, link: LinkConfig, edit: impl FnOnce(&mut ClientConfig)) -> Sim {
    let pool = AddressPool {
        local: [10, 9, 0, 1].into(),
        range: ([10, 9, 0, 2].into(), [10, 9, 0, 20].into()),
        dns: [None, None],
    };
    let mut server = ServerConfig::new("pptp-proto", pool);
    server.ppp.seed = seed;
    let mut client = ClientConfig::new("alice", Password::new("secret").unwrap()).with_seed(seed);
    edit(&mut client);
    Sim::new(server, vec![client], link, seed)
}

fn ping(id: u16) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 28, (id >> 8) as u8, id as u8, 0, 0, 64, 1, 0, 0];
    p.extend_from_slice(&[10, 9, 0, 2, 10, 9, 0, 1, 8, 0, 0, 0, 0, 1, 0, 1]);
    p
}

/// Up on both ends: the client says so and the server reported `SessionUp`
/// (a lost Configure-Ack can leave the server waiting a Restart period).
fn both_up(sim: &Sim) -> bool {
    sim.all_up()
        && sim
            .server_events
            .iter()
            .any(|e| matches!(e, ServerEvent::SessionUp { .. }))
}

fn client_down(sim: &Sim) -> bool {
    sim.client_events[0]
        .iter()
        .any(|e| matches!(e, ClientEvent::Down { .. }))
}

/// The server's queues are drained by the harness after every step; they
/// never hold more than one step's output.
fn assert_bounded(sim: &Sim) {
    let (streams, datagrams, events) = sim.server.queued();
    assert!(streams <= 64 && datagrams <= 1024 && events <= 1024);
    assert!(sim.server.connection_count() <= 1);
}

/// Sends `n` pings from the client at one per millisecond; returns how
/// many the GRE window let out and the ids the server received.
fn traffic(sim: &mut Sim, n: u16) -> (usize, Vec<u16>) {
    let before = sim.server_ip.len();
    let mut sent = 0;
    for i in 0..n {
        sent += usize::from(sim.client_send(0, &ping(i)));
        sim.drive_until(Duration::from_millis(1), |_| false);
        assert_bounded(sim);
    }
    sim.drive_until(Duration::from_secs(2), |_| false);
    let got = sim.server_ip[before..]
        .iter()
        .map(|p| u16::from_be_bytes([p[4], p[5]]))
        .collect();
    (sent, got)
}

fn assert_in_order(ids: &[u16]) {
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "in order, no duplicates"
    );
}

#[test]
fn asymmetric_loss_comes_up_and_carries_traffic() {
    let mut sim = session(21, LinkConfig::default());
    // 30% of the client's GRE is lost, none of the server's.
    let mut rng = Rng(21);
    sim.hook = Some(Box::new(move |dir, _| {
        if matches!(dir, Dir::ToServer(_)) && rng.chance(0.3) {
            Action::Drop
        } else {
            Action::Deliver
        }
    }));
    assert!(sim.drive_until(Duration::from_secs(60), both_up));
    let (sent, got) = traffic(&mut sim, 500);
    assert_in_order(&got);
    assert!(got.len() * 2 > sent, "{} of {sent}", got.len());
    assert!(sim.all_up());
    println!(
        "30% loss one way: up at {:?}, {}/{sent}",
        sim.now,
        got.len()
    );
}

#[test]
fn half_of_all_packets_duplicated() {
    let link = LinkConfig {
        duplicate: 0.5,
        ..LinkConfig::default()
    };
    let mut sim = session(22, link);
    assert!(sim.drive_until(Duration::from_secs(30), both_up));
    let (sent, got) = traffic(&mut sim, 500);
    assert_in_order(&got);
    assert_eq!(got.len(), sent, "duplicates dropped, nothing lost");
    let stats = sim.server.connection_count();
    assert_eq!(stats, 1);
    let client = sim.clients[0].stats();
    assert!(client.gre.sent >= 500);
    println!("50% duplication: all {sent} delivered once, in order");
}

#[test]
fn reordering_beyond_the_reorder_window() {
    // A third of the packets arrive 30 ms late: at one packet per ms that
    // is beyond the 16-packet reorder buffer, so they are dropped as stale.
    let link = LinkConfig {
        reorder: 0.33,
        delay: Duration::from_millis(5),
        ..LinkConfig::default()
    };
    let mut sim = session(23, link);
    assert!(sim.drive_until(Duration::from_secs(60), both_up));
    let (sent, got) = traffic(&mut sim, 1000);
    assert_in_order(&got);
    assert!(got.len() * 2 > sent, "{} of {sent}", got.len());
    assert!(sim.all_up());
    println!("33% reordered by 30 ms: {}/{sent} in order", got.len());
}

#[test]
fn clock_jumps_forward_by_hours() {
    // With an LCP echo keepalive, a jump must not count as many misses.
    let mut sim = session_with(24, LinkConfig::default(), |c| {
        c.ppp.echo.interval = Some(Duration::from_secs(10));
        c.ppp.echo.max_failures = 3;
    });
    assert!(sim.drive_until(Duration::from_secs(30), Sim::all_up));
    for hours in [1, 5, 24] {
        let steps = sim.steps;
        sim.now += Duration::from_secs(hours * 3600);
        sim.drive_until(Duration::from_secs(5), |_| false);
        assert!(
            sim.steps - steps < 1000,
            "a jump must not replay missed timers"
        );
        assert!(sim.all_up(), "still up after a {hours} h jump");
        let (sent, got) = traffic(&mut sim, 20);
        assert_eq!(got.len(), sent);
        assert!(sent > 0);
    }
    println!("clock jumps of 1, 5 and 24 h: up, traffic flows");
}

#[test]
fn flood_of_pptp_echo_requests() {
    let mut sim = session(25, LinkConfig::default());
    assert!(sim.drive_until(Duration::from_secs(30), Sim::all_up));
    let mut echo = Vec::new();
    ControlMessage::from(EchoRequest {
        identifier: 7,
        ..Default::default()
    })
    .emit(&mut echo);
    for _ in 0..200 {
        sim.inject_stream(Dir::ToServer(0), echo.repeat(50));
        sim.drive_until(Duration::from_millis(1), |_| false);
        assert_bounded(&sim);
    }
    sim.drive_until(Duration::from_secs(1), |_| false);
    assert!(sim.all_up(), "10 000 echoes answered, session up");
}

fn lcp(code: u8, id: u8, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0xff, 0x03, 0xc0, 0x21, code, id];
    f.extend_from_slice(&((4 + data.len()) as u16).to_be_bytes());
    f.extend_from_slice(data);
    f
}

#[test]
fn flood_of_lcp_configure_requests_ends_cleanly() {
    let (server, client) = ppp_configs(AuthMethod::MsChapV2, true);
    let max = server.max_queued_frames;
    let mut p = MemPair::new(server, client);
    assert!(p.bring_up(Duration::from_secs(30)));
    // A peer that renegotiates without end: ConfReqs the server must Nak
    // (MRU below its minimum), thousands of them, each answered at most once.
    let mut answers = 0;
    for i in 0..5000u32 {
        let _ = p
            .server
            .handle_frame(p.now, &mut lcp(1, i as u8, &[1, 4, 0, 10]));
        assert!(p.server.queued_frames() <= max);
        while p.server.poll_transmit().is_some() {
            answers += 1;
        }
        while let Some(e) = p.server.poll_event() {
            p.server_events.push(e);
        }
    }
    assert!(answers <= 5000 + 10);
    // Renegotiation went nowhere: the server ends the link within its timers.
    p.run(Duration::from_secs(60), |p| {
        p.server_events
            .iter()
            .any(|e| matches!(e, PppEvent::Down { .. }))
    });
    assert!(p
        .server_events
        .iter()
        .any(|e| matches!(e, PppEvent::Down { .. })));
    assert_eq!(p.server.poll_timeout(), None);
    assert!(!p.server.is_network_up());
}

#[test]
fn flood_of_lcp_echo_requests_is_answered_and_stays_up() {
    let (server, client) = ppp_configs(AuthMethod::MsChapV2, true);
    let mut p = MemPair::new(server, client);
    assert!(p.bring_up(Duration::from_secs(30)));
    let magic = [0, 0, 0, 0];
    let mut replies = 0;
    for i in 0..10_000u32 {
        let _ = p.server.handle_frame(p.now, &mut lcp(9, i as u8, &magic));
        while p.server.poll_transmit().is_some() {
            replies += 1;
        }
    }
    assert_eq!(replies, 10_000);
    assert!(p.server.is_network_up());
    assert!(!client_down_mem(&p));
}

fn client_down_mem(p: &MemPair) -> bool {
    p.client_events
        .iter()
        .any(|e| matches!(e, PppEvent::Down { .. }))
}

#[test]
fn everything_at_once_ends_up_or_down_cleanly() {
    for seed in 0..4 {
        let link = LinkConfig {
            loss: 0.2,
            duplicate: 0.5,
            reorder: 0.3,
            delay: Duration::from_millis(20),
            ..LinkConfig::default()
        };
        let mut sim = session(100 + seed, link);
        let up = sim.drive_until(Duration::from_secs(120), |s| s.all_up() || client_down(s));
        assert!(up, "seed {seed}: neither up nor down in 120 s");
        sim.now += Duration::from_secs(7200);
        sim.drive_until(Duration::from_secs(30), |_| false);
        assert_bounded(&sim);
        assert!(sim.all_up() || client_down(&sim), "seed {seed}: limbo");
    }
}
