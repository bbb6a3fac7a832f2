//! Whole sessions on WAN paths (issue #19): our `Server` against a `Client`
//! configured to behave like each real peer, MPPE-128 on, through a
//! bottleneck with a round trip and loss, on the harness's virtual clock
//! (exact and repeatable, not timed).
//!
//! The path: half the round trip each way, a bottleneck each way that
//! serialises GRE packets at `rate` with a drop-tail queue of 100 packets,
//! and seeded loss after it. The sender offers 5 % more IP traffic than the
//! bottleneck carries, one 1300-octet packet at a time, as fast as its send
//! path takes it.
//!
//! The peer styles, as the real peers behave on the wire:
//!
//! | style        | acknowledges                        | its sender             |
//! |--------------|-------------------------------------|------------------------|
//! | `pptp-linux` | piggybacked; alone at once when 2 are owed, after 0.5 s for 1 | keeps no window |
//! | `pptpd`      | as pptp-linux (the same GRE code)    | keeps no window        |
//! | `kernel`     | piggybacked only (no ack-only)       | keeps no window        |
//! | `windows`    | piggybacked, or alone after 100 ms or 32 owed | holds to our window |
//!
//! The window the peer announces is a separate dimension (pptp-linux
//! announces 3, pptpd 64, Windows 16384): every style is run with every
//! window. `Sender::KernelModel` replaces our end by a model of the Linux
//! kernel's `pptp.c` on the same path: as a sender it keeps no window at
//! all, as a receiver it sends no ack-only packets.

use pptp_proto::client::ClientConfig;
use pptp_proto::crypto::Password;
use pptp_proto::gre::{GreConfig, WindowPolicy};
use pptp_proto::ppp::ccp::StatelessPolicy;
use pptp_proto::server::{AddressPool, ServerConfig};
use pptp_proto::time::Duration;
use pptp_proto::wire::gre::GrePacket;

use super::{Action, Dir, LinkConfig, Sim};

/// How a real peer acknowledges and sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    PptpLinux,
    Pptpd,
    Kernel,
    Windows,
}

impl Style {
    pub const ALL: [Style; 4] = [
        Style::PptpLinux,
        Style::Pptpd,
        Style::Kernel,
        Style::Windows,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Style::PptpLinux => "pptp-linux",
            Style::Pptpd => "pptpd",
            Style::Kernel => "kernel",
            Style::Windows => "windows",
        }
    }

    /// The window this peer announces in its own configuration.
    pub fn window(self) -> u16 {
        match self {
            Style::PptpLinux | Style::Kernel => 3,
            Style::Pptpd => 64,
            Style::Windows => 16384,
        }
    }

    /// Whether it sends acknowledgment-only packets.
    pub fn sends_ack_only(self) -> bool {
        self != Style::Kernel
    }

    /// Its acknowledgments, on our `GreConfig` standing in for it.
    pub fn configure(self, gre: &mut GreConfig) {
        gre.window_policy = self.sender_policy();
        if matches!(self, Style::PptpLinux | Style::Pptpd) {
            gre.ack_after = 2;
            gre.ack_delay = Duration::from_millis(500);
        }
    }

    /// How its sender treats the window we announce.
    pub fn sender_policy(self) -> WindowPolicy {
        match self {
            Style::Windows => WindowPolicy::Strict,
            _ => NO_WINDOW,
        }
    }
}

/// A sender that keeps no window: an advisory bound nothing reaches.
pub const NO_WINDOW: WindowPolicy = WindowPolicy::Advisory { at_least: u16::MAX };

/// Which way the data flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Our server sends, the peer receives (a download).
    ToPeer,
    /// The peer sends, our server receives (an upload).
    FromPeer,
}

/// Our end, or the kernel model in its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// Our defaults.
    Ours,
    /// Ours with the given window policy.
    Policy(WindowPolicy),
    /// The Linux kernel's `pptp.c`: no window, no ack-only packets.
    KernelModel,
}

/// One run.
#[derive(Debug, Clone, Copy)]
pub struct Cell {
    pub style: Style,
    /// The window the peer announces.
    pub window: u16,
    pub rtt: Duration,
    /// Bottleneck rate, bit/s, each way.
    pub rate: u64,
    pub loss: f64,
    pub flow: Flow,
    pub stateful: bool,
    pub ours: Sender,
    /// Measured span (after one second of warm-up).
    pub measure: Duration,
}

impl Cell {
    /// `style` with its own window, 10 Mbit/s, no loss, stateless, our
    /// defaults, measured over 4 s.
    pub fn new(style: Style, rtt_ms: u64, flow: Flow) -> Self {
        Cell {
            style,
            window: style.window(),
            rtt: Duration::from_millis(rtt_ms),
            rate: 10_000_000,
            loss: 0.0,
            flow,
            stateful: false,
            ours: Sender::Ours,
            measure: Duration::from_secs(4),
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// IP octets delivered over the measured span, as a fraction of what
    /// the bottleneck carries in it.
    pub goodput: f64,
    /// IP packets the sender's path refused (its send queue full).
    pub refused: u64,
    /// GRE packets the bottleneck's queue dropped.
    pub bottleneck_drops: u64,
}

const PACKET: usize = 1300;

fn ip_packet(id: u32, src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
    let mut p = vec![0u8; PACKET];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(PACKET as u16).to_be_bytes());
    p[4..8].copy_from_slice(&id.to_be_bytes());
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    p
}

/// Whether a GRE packet carries no payload (an acknowledgment only).
fn ack_only(datagram: &[u8]) -> bool {
    GrePacket::parse(datagram).is_ok_and(|g| g.payload.is_empty())
}

/// Runs one cell: brings a session up on the path, offers 105 % of the
/// bottleneck one way for a second of warm-up and then `measure`.
pub fn run(cell: Cell, seed: u64) -> Outcome {
    let pool = AddressPool {
        local: [198, 51, 100, 1].into(),
        range: ([198, 51, 100, 2].into(), [198, 51, 100, 250].into()),
        dns: [None, None],
    };
    let mut server = ServerConfig::new("pptp-proto", pool);
    server.ppp.seed = seed;
    let mut client = ClientConfig::new("alice", Password::new("secret").unwrap()).with_seed(seed);
    // The peer: the window it announces and how its sender keeps ours.
    client.control.receive_window = cell.window;
    cell.style.configure(&mut client.gre);
    match cell.ours {
        Sender::Ours => {}
        Sender::Policy(p) => server.gre.window_policy = p,
        Sender::KernelModel => server.gre.window_policy = NO_WINDOW,
    }
    if cell.stateful {
        server.ppp.ccp.stateless = StatelessPolicy::Refused;
        client.ppp.ccp.stateless = StatelessPolicy::Refused;
    }
    let link = LinkConfig {
        delay: cell.rtt / 2,
        rate: cell.rate,
        ..LinkConfig::default()
    };
    let mut sim = Sim::new(server, vec![client], link, seed);
    assert!(
        sim.drive_until(Duration::from_secs(10), Sim::all_up),
        "{cell:?}: not up"
    );
    // Who sends no ack-only packets: the kernel peer, and the kernel model
    // in our place.
    let peer_quiet = !cell.style.sends_ack_only();
    let ours_quiet = cell.ours == Sender::KernelModel;
    sim.hook = Some(Box::new(move |dir, d: &mut Vec<u8>| {
        let quiet = match dir {
            Dir::ToServer(_) => peer_quiet,
            Dir::ToClient(_) => ours_quiet,
        };
        if quiet && ack_only(d) {
            Action::Drop
        } else {
            Action::Deliver
        }
    }));
    sim.link.loss = cell.loss;
    let (ours, peer) = ([198, 51, 100, 1], [198, 51, 100, 2]);
    // A saturating sender that does not overflow the bottleneck: it offers
    // the next packet whenever less than two packets' time is queued
    // there, so the link never idles for want of an offer. (Offering more
    // than the link carries would only measure the drop-tail queue.)
    let tx = Duration::from_nanos(PACKET as u64 * 8_000_000_000 / cell.rate);
    let towards = match cell.flow {
        Flow::ToPeer => Dir::ToClient(0),
        Flow::FromPeer => Dir::ToServer(0),
    };
    let start = sim.now + Duration::from_secs(1);
    let end = start + cell.measure;
    let (mut from, mut id) = (None, 0u32);
    let received = |sim: &Sim| match cell.flow {
        Flow::ToPeer => sim.client_ip[0].len(),
        Flow::FromPeer => sim.server_ip.len(),
    };
    while sim.now < end {
        if from.is_none() && sim.now >= start {
            from = Some(received(&sim));
        }
        if sim.backlog(towards) < tx * 2 {
            id += 1;
            match cell.flow {
                Flow::ToPeer => sim.server_send(0, &ip_packet(id, ours, peer)),
                Flow::FromPeer => sim.client_send(0, &ip_packet(id, peer, ours)),
            };
        }
        sim.drive_until(tx / 2, |_| false);
    }
    // What the sender's path refused: its send queue full.
    let queue = match cell.flow {
        Flow::ToPeer => sim.server.stats(sim.conns[0]).map(|s| s.queue),
        Flow::FromPeer => Some(sim.clients[0].stats().queue),
    };
    let refused = queue.map_or(0, |q| q.dropped);
    let delivered = (received(&sim) - from.unwrap_or(0)) as f64 * PACKET as f64;
    let capacity = cell.rate as f64 / 8.0 * cell.measure.as_secs_f64();
    assert!(
        sim.clients[0].is_up(),
        "{cell:?}: the session went down: {:?}",
        sim.client_events[0].last()
    );
    Outcome {
        goodput: delivered / capacity,
        refused,
        bottleneck_drops: sim.bottleneck_drops,
    }
}

/// `cell` with our end, then with the kernel model in its place, on the
/// same path and seed: (ours, kernel).
pub fn run_beside_kernel(cell: Cell, seed: u64) -> (Outcome, Outcome) {
    let kernel = Cell {
        ours: Sender::KernelModel,
        ..cell
    };
    (run(cell, seed), run(kernel, seed))
}
