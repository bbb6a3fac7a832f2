//! Heap bytes per established, idle tunnel on the server, counted by a
//! global allocator: `N` clients connect to one `Server` (MPPE-128
//! stateless), come up, let their acks go out, and are dropped; what the
//! server still holds is divided by `N`.
//!
//! Issue #9 asks for ≤ 2 KiB per tunnel; we are at about 6 KiB (from 15 KiB)
//! and BENCHMARKS.md says where the rest goes. Until then the test guards
//! against regressions with `LIMIT`.
//!
//! `N` is 10 000 in release builds and 500 in debug builds (each handshake
//! runs MS-CHAPv2):
//! `cargo test --release --test footprint -- --nocapture`.

mod pair;

use pair::counting::{allocations, live_bytes, Counting};
use pair::{client_config, server_config, Mode, Pair};
use pptp_proto::server::Server;
use pptp_proto::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const TUNNELS: u32 = if cfg!(debug_assertions) { 500 } else { 10_000 };
/// Heap bytes per idle tunnel this test accepts (the goal is 2048; we
/// measure about 6 000, and leave room for features still being added).
const LIMIT: i64 = 7 * 1024;
/// Issue #9's target, reported next to the measurement.
const TARGET: i64 = 2048;

/// Brings up `n` tunnels on one server; returns it with its heap bytes.
fn idle_server(mode: Mode, n: u32) -> (Server, i64) {
    let base = live_bytes();
    let calls = allocations();
    let mut server = Server::new(server_config(mode, n));
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
    let (server, bytes) = idle_server(Mode::Stateless, TUNNELS);
    let per_tunnel = bytes / i64::from(TUNNELS);
    println!(
        "{TUNNELS} idle tunnels: {bytes} bytes of heap, {per_tunnel} bytes per tunnel \
         (target {TARGET}; + {} bytes of Server itself)",
        std::mem::size_of::<Server>()
    );
    assert!(per_tunnel <= LIMIT, "{per_tunnel} bytes per tunnel");
    drop(server);
}
