//! Heap bytes per established, idle tunnel on the server, counted by a
//! global allocator: `N` clients connect to one `Server` (MPPE-128
//! stateless), come up, let their acks go out, and are dropped; what the
//! server still holds is divided by `N`.
//!
//! Issue #9 asks for ≤ 2 KiB per tunnel; we are at about 3.6 KiB (from
//! 15 KiB) and BENCHMARKS.md says where the rest goes. Until then the test
//! guards against regressions with `LIMIT`.
//!
//! `N` is 10 000 in release builds and 500 in debug builds (each handshake
//! runs MS-CHAPv2), or `PPTP_FOOTPRINT_TUNNELS`:
//! `cargo test --release --test footprint -- --nocapture`.

mod pair;

use pair::counting::{allocations, live_bytes, Counting};
use pair::{client_config, server_config, Mode, Pair};
use pptp_proto::server::Server;
use pptp_proto::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const TUNNELS: u32 = if cfg!(debug_assertions) { 500 } else { 10_000 };

/// `TUNNELS`, or `PPTP_FOOTPRINT_TUNNELS` when set.
fn tunnels() -> u32 {
    std::env::var("PPTP_FOOTPRINT_TUNNELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(TUNNELS)
}

/// Heap bytes per idle tunnel this test accepts (the goal is 2048; we
/// measure about 3 650).
const LIMIT: i64 = 4 * 1024;
/// Issue #9's target, reported next to the measurement.
const TARGET: i64 = 2048;

/// Brings up `n` tunnels on one server; returns it with its heap bytes.
fn idle_server(mode: Mode, n: u32) -> (Server, i64) {
    let base = live_bytes();
    let calls = allocations();
    let mut config = server_config(mode, n);
    // The clients are dropped once up, and bringing 10 000 tunnels up one
    // after the other takes over half an hour of virtual time: the PPTP
    // keepalive (60 s) would find the early ones dead and close them, and
    // the test would measure closed connections, not idle tunnels.
    config.control.echo_interval = Duration::from_secs(24 * 3600);
    let mut server = Server::new(config);
    let mut now = Instant::ZERO;
    for i in 0..n {
        let mut pair = Pair::new(server, client_config(mode, u64::from(i) + 1), now);
        assert!(pair.handshake(), "tunnel {i} did not come up");
        // Idle: the delayed acks go out, nothing else is pending.
        let idle = pair.now + Duration::from_millis(200);
        pair.tick(idle);
        pair.flush();
        now = pair.now;
        server = pair.into_server();
    }
    assert_eq!(server.connection_count(), n as usize);
    assert!(
        now < Instant::from_secs(24 * 3600),
        "keepalives fired during the test"
    );
    assert!(server.poll_datagram_transmit().is_none());
    assert!(server.poll_stream_transmit().is_none());
    assert!(server.poll_event().is_none());
    let bytes = live_bytes() - base;
    println!(
        "{} heap allocations per handshake (client and server together)",
        (allocations() - calls) / u64::from(n)
    );
    (server, bytes)
}

#[test]
fn an_idle_tunnel_costs_at_most_2_kib_on_the_server() {
    let n = tunnels();
    let (server, bytes) = idle_server(Mode::Stateless, n);
    let per_tunnel = bytes / i64::from(n);
    println!(
        "{n} idle tunnels: {bytes} bytes of heap, {per_tunnel} bytes per tunnel \
         (target {TARGET}; + {} bytes of Server itself)",
        std::mem::size_of::<Server>()
    );
    assert!(per_tunnel <= LIMIT, "{per_tunnel} bytes per tunnel");
    drop(server);
}
