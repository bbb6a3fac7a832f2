//! The data path allocates nothing: 100 000 IP packets each way through an
//! established `Client` ↔ `Server` pair, for MPPE-128 stateless, stateful
//! and none, counted by a global allocator. The traffic comes in bursts so
//! that both piggybacked and ack-only acknowledgments go out (ack-only on
//! half a window and on the ack-delay timer), drained with the
//! `poll_datagram_transmit` calls (ack-only packets come inline).
//!
//! `cargo test --test alloc` (`--release` for speed).

mod pair;

use pair::counting::{allocations, Counting};
use pair::{Mode, Pair};
use pptp_proto::time::{Duration, Instant};
use pptp_proto::tunnel::SEND_OVERHEAD;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const PACKETS: u32 = 100_000;
/// Packets one way before the other way sends: more than half the receive
/// window (64), so the receiver acknowledges with an ack-only packet.
const BURST: u32 = 40;

/// An IPv4 header and `len - 20` octets of payload.
fn ip_packet(len: usize) -> Vec<u8> {
    let mut p: Vec<u8> = (0..len).map(|k| (k * 7 + 1) as u8).collect();
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    p
}

#[derive(Debug, Default)]
struct Traffic {
    to_server: u32,
    to_client: u32,
    acks_to_server: u32,
    acks_to_client: u32,
}

/// Sends `packets` each way in bursts; returns what went over the link.
fn run(pair: &mut Pair, packets: u32, ip: &[u8], out: &mut [u8]) -> Traffic {
    let mut t = Traffic::default();
    let mut k = 0;
    while k < packets {
        let burst = BURST.min(packets - k);
        // Every 50th burst the clock jumps past the ack delay (100 ms), so
        // the delayed-ack timer sends too.
        let step = if (k / BURST) % 50 == 49 {
            Duration::from_millis(150)
        } else {
            Duration::from_micros(20)
        };
        pair.tick(pair.now + step);
        for _ in 0..burst {
            let now = pair.now;
            let r = pair.client.send_ip(now, ip, out).expect("client send");
            let (_, got) = pair
                .server
                .handle_datagram(now, pair.peer, &mut out[r])
                .expect("server receive");
            assert_eq!(got.map(<[u8]>::len), Some(ip.len()));
            t.to_server += 1;
        }
        t.acks_to_client += drain(pair);
        for _ in 0..burst {
            let now = pair.now;
            let r = pair
                .server
                .send_ip(now, pair.conn, ip, out)
                .expect("server send");
            let got = pair
                .client
                .handle_datagram(now, &mut out[r])
                .expect("client receive");
            assert_eq!(got.map(<[u8]>::len), Some(ip.len()));
            t.to_client += 1;
        }
        t.acks_to_server += drain(pair);
        k += burst;
    }
    t.acks_to_client += drain(pair);
    t.acks_to_server += drain(pair);
    t
}

/// Delivers every queued datagram both ways; returns how many there were.
fn drain(pair: &mut Pair) -> u32 {
    let mut n = 0;
    loop {
        let mut moved = false;
        while let Some(mut d) = pair.client.poll_datagram_transmit() {
            let _ = pair.server.handle_datagram(pair.now, pair.peer, &mut d);
            moved = true;
            n += 1;
        }
        while let Some((_, mut d)) = pair.server.poll_datagram_transmit() {
            let _ = pair.client.handle_datagram(pair.now, &mut d);
            moved = true;
            n += 1;
        }
        while pair.server.poll_event().is_some() || pair.client.poll_event().is_some() {
            moved = true;
        }
        if !moved {
            return n;
        }
    }
}

fn no_allocation_per_packet(mode: Mode, len: usize) {
    let mut pair = Pair::established(mode, 11);
    let ip = ip_packet(len);
    let mut out = vec![0u8; len + SEND_OVERHEAD];
    // Warm-up: queues reach their working capacity.
    run(&mut pair, 2 * BURST * 50, &ip, &mut out);
    let before = allocations();
    let t = run(&mut pair, PACKETS, &ip, &mut out);
    let made = allocations() - before;
    println!("{}: {t:?}, {made} allocations", mode.name());
    assert_eq!(t.to_server, PACKETS);
    assert_eq!(t.to_client, PACKETS);
    assert!(t.acks_to_client > 0 && t.acks_to_server > 0, "{t:?}");
    assert!(pair.client.is_up());
    assert_eq!(
        made,
        0,
        "{} allocations over {PACKETS} packets each way",
        mode.name()
    );
}

#[test]
fn stateless_mppe_data_path_allocates_nothing() {
    no_allocation_per_packet(Mode::Stateless, 64);
}

#[test]
fn stateful_mppe_data_path_allocates_nothing() {
    no_allocation_per_packet(Mode::Stateful, 64);
}

#[test]
fn plaintext_data_path_allocates_nothing() {
    no_allocation_per_packet(Mode::None, 64);
}

#[test]
fn the_counter_sees_allocations() {
    let before = allocations();
    let v = std::hint::black_box(vec![1u8; 100]);
    drop(v);
    assert_eq!(allocations() - before, 1);
    // The legacy polls allocate the ack-only packets they return.
    let _ = Instant::ZERO;
}
