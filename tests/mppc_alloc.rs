//! MPPC never grows memory after construction: a counting allocator checks
//! that the decompressor allocates nothing on any input (random bytes, valid
//! packets, errors, resets), and that a `PppSession` data path with MPPC and
//! MPPE (`send_ip`, `handle_frame`, `decompressed`) allocates nothing per
//! packet.
//!
//! Its own test binary: the allocator is global.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use pptp_proto::crypto::Password;
use pptp_proto::mppc::{MppcCompressor, MppcDecompressor, MppcFlags};
use pptp_proto::ppp::auth::Credentials;
use pptp_proto::ppp::ipcp::IpAssignment;
use pptp_proto::ppp::session::{PppEvent, PppSession, Received, SessionConfig};
use pptp_proto::time::{Duration, Instant};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call goes to `System` unchanged; only a per-thread count is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.next() as u8;
        }
    }
}

fn text_packet(id: u32, out: &mut [u8]) -> usize {
    let line =
        b"GET /api/items?page=1 HTTP/1.1\r\nHost: example.com\r\nAccept: application/json\r\n\r\n";
    let n = 100 + (id as usize * 37) % 1290;
    out[0] = 0x45;
    out[1..5].copy_from_slice(&id.to_be_bytes());
    for (i, b) in out[5..n].iter_mut().enumerate() {
        *b = line[(i + id as usize) % line.len()];
    }
    n
}

#[test]
fn decompressor_allocates_nothing_on_any_input() {
    let mut rng = Rng(7);
    let mut tx = MppcCompressor::new();
    let mut rx = MppcDecompressor::new();
    let mut plain = [0u8; 1500];
    let mut wire = [0u8; 1500];
    let mut garbage = [0u8; 1500];
    let before = allocations();
    for id in 0..5_000u32 {
        let n = text_packet(id, &mut plain);
        let out = tx.compress(&plain[..n], &mut wire).unwrap();
        match id % 4 {
            0 => {
                // Garbage with arbitrary flags: errors, then a reset.
                let len = (rng.next() % 1500) as usize;
                rng.fill(&mut garbage[..len]);
                let flags = MppcFlags::from_bits_truncate(rng.next() as u8);
                let _ = rx.decompress(flags, &garbage[..len]);
                tx.reset();
            }
            _ => {
                let _ = rx.decompress(out.flags, &wire[..out.len]);
            }
        }
    }
    assert_eq!(allocations() - before, 0, "the MPPC data path allocated");
}

/// Two sessions joined back to back, no loss, MPPC + stateful MPPE-128.
struct Pair {
    now: Instant,
    a: PppSession,
    b: PppSession,
}

impl Pair {
    fn up() -> Pair {
        let mut server = SessionConfig::authenticator("pptp-proto");
        let mut client = SessionConfig::peer("alice", Password::new("secret").unwrap());
        (server.seed, client.seed) = (1, 2);
        for c in [&mut server, &mut client] {
            c.ccp.mppc = true;
            c.ccp.stateless = pptp_proto::ppp::ccp::StatelessPolicy::Refused;
        }
        let mut pair = Pair {
            now: Instant::ZERO,
            a: PppSession::new(server),
            b: PppSession::new(client),
        };
        pair.a.set_ip_assignment(IpAssignment {
            local: Some([10, 0, 0, 1].into()),
            peer: Some([10, 0, 0, 2].into()),
            dns: [None, None],
            nbns: [None, None],
        });
        pair.a.open(pair.now);
        pair.b.open(pair.now);
        for _ in 0..1000 {
            pair.exchange();
            if pair.a.is_network_up() && pair.b.is_network_up() {
                return pair;
            }
            pair.now += Duration::from_millis(100);
            pair.a.handle_timeout(pair.now);
            pair.b.handle_timeout(pair.now);
        }
        panic!("not up");
    }

    /// Moves control frames both ways until none are left.
    fn exchange(&mut self) {
        loop {
            let mut moved = false;
            while let Some(e) = self.a.poll_event() {
                if let PppEvent::AuthRequest { .. } = e {
                    let answer = Credentials::Password(Password::new("secret").unwrap());
                    self.a.provide_credentials(self.now, answer);
                }
                moved = true;
            }
            while self.b.poll_event().is_some() {
                moved = true;
            }
            while let Some(f) = self.a.poll_transmit() {
                let _ = self.b.handle_frame(self.now, &mut f.to_vec());
                moved = true;
            }
            while let Some(f) = self.b.poll_transmit() {
                let _ = self.a.handle_frame(self.now, &mut f.to_vec());
                moved = true;
            }
            if !moved {
                return;
            }
        }
    }
}

#[test]
fn session_data_path_with_mppc_allocates_nothing_per_packet() {
    let mut pair = Pair::up();
    assert!(pair.a.is_encrypted());
    assert_eq!(pair.a.is_compressed(), (true, true));
    let mut ip = [0u8; 1400];
    let mut frame = [0u8; 1500];
    let before = allocations();
    let mut expanded = 0;
    for id in 0..3_000u32 {
        let n = text_packet(id, &mut ip);
        let (tx, rx) = if id % 2 == 0 {
            (&mut pair.a, &mut pair.b)
        } else {
            (&mut pair.b, &mut pair.a)
        };
        let len = tx.send_ip(pair.now, &ip[..n], &mut frame).unwrap();
        assert!(len < n, "packet {id} compressed");
        let received = rx.handle_frame(pair.now, &mut frame[..len]).unwrap();
        assert_eq!(received, Received::Decompressed);
        assert_eq!(rx.decompressed(), Some(Received::Ipv4(&ip[..n])));
        expanded += 1;
    }
    assert_eq!(
        allocations() - before,
        0,
        "the MPPC+MPPE data path allocated"
    );
    assert_eq!(expanded, 3_000);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Arbitrary packets and flags: no panic, output within the bound, and
    /// not one allocation once the decompressor exists.
    #[test]
    fn decompressor_never_grows_memory(
        max in 0usize..10_000,
        packets in proptest::collection::vec(
            (proptest::prelude::any::<u8>(), proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1600)),
            1..12,
        ),
    ) {
        let mut rx = MppcDecompressor::with_max_output(max);
        let before = allocations();
        for (flags, input) in &packets {
            if let Ok(out) = rx.decompress(MppcFlags::from_bits_truncate(*flags), input) {
                proptest::prop_assert!(out.len() <= max.min(pptp_proto::mppc::HISTORY_SIZE));
            }
        }
        proptest::prop_assert_eq!(allocations() - before, 0);
    }
}
