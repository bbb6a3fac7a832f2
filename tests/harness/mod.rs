//! A deterministic simulator for whole PPTP sessions: one `Server`, any
//! number of `Client`s, a virtual clock from `Instant::ZERO`, TCP delivered
//! in order (re-chunked at random) and GRE through a seeded link with loss,
//! duplication, reordering and delay. `drive_until` runs it with a step bound
//! so a busy-looping timer fails the test instead of hanging it; `hook`
//! drops or rewrites GRE packets in flight.
#![allow(dead_code)]

use std::collections::VecDeque;

use pptp_proto::client::{Client, ClientConfig, ClientEvent};
use pptp_proto::ppp::auth::Credentials;
use pptp_proto::server::{ConnectionId, Server, ServerConfig, ServerEvent};
use pptp_proto::time::{Duration, Instant};

pub mod wan;

/// splitmix64: every random choice follows from the seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// Which way a unit travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Client `i` to the server.
    ToServer(usize),
    /// Server to client `i`.
    ToClient(usize),
}

/// What a hook decides about a GRE packet in flight.
pub enum Action {
    Deliver,
    Drop,
}

/// The GRE link's behaviour.
#[derive(Debug, Clone, Copy, Default)]
pub struct LinkConfig {
    /// Largest GRE packet carried; larger ones are dropped (0: no limit).
    pub mtu: usize,
    pub loss: f64,
    pub duplicate: f64,
    pub reorder: f64,
    /// One-way delay (0: 1 ms).
    pub delay: Duration,
    /// A bottleneck each way for GRE, in bit/s (0: none): packets are
    /// serialised at this rate behind a drop-tail queue, before the loss.
    pub rate: u64,
    /// Packets the bottleneck queues (0: 100).
    pub queue: usize,
}

enum Unit {
    Stream(Vec<u8>),
    Datagram(Vec<u8>),
    Closed,
}

type Hook = Box<dyn FnMut(Dir, &mut Vec<u8>) -> Action>;

pub struct Sim {
    pub now: Instant,
    pub server: Server,
    pub clients: Vec<Client>,
    pub conns: Vec<ConnectionId>,
    pub link: LinkConfig,
    pub rng: Rng,
    in_flight: VecDeque<(Instant, Dir, Unit)>,
    pub client_events: Vec<Vec<ClientEvent>>,
    pub server_events: Vec<ServerEvent>,
    /// The password the server checks against (`None`: reject everyone).
    pub password: Option<String>,
    /// IP packets each client received, and the server received.
    pub client_ip: Vec<Vec<Vec<u8>>>,
    pub server_ip: Vec<Vec<u8>>,
    pub hook: Option<Hook>,
    pub steps: u64,
    /// Every control message and PPP packet delivered, in order, as
    /// `"> SCCRQ"` (to the server) or `"< LCP ConfAck"` (to a client).
    pub trace: Vec<String>,
    /// GRE packets dropped for exceeding the MTU.
    pub mtu_drops: u64,
    stream_log: std::collections::BTreeMap<(bool, usize), Vec<u8>>,
    /// When each direction's bottleneck is free again.
    busy_until: std::collections::BTreeMap<(bool, usize), Instant>,
    /// GRE packets the bottleneck's full queue dropped.
    pub bottleneck_drops: u64,
}

impl Sim {
    pub fn new(
        server: ServerConfig,
        clients: Vec<ClientConfig>,
        link: LinkConfig,
        seed: u64,
    ) -> Self {
        let n = clients.len();
        let mut sim = Sim {
            now: Instant::ZERO,
            server: Server::new(server),
            clients: clients.into_iter().map(Client::new).collect(),
            conns: Vec::new(),
            link,
            rng: Rng(seed),
            in_flight: VecDeque::new(),
            client_events: vec![Vec::new(); n],
            server_events: Vec::new(),
            password: Some("secret".into()),
            client_ip: vec![Vec::new(); n],
            server_ip: Vec::new(),
            hook: None,
            steps: 0,
            trace: Vec::new(),
            mtu_drops: 0,
            stream_log: Default::default(),
            busy_until: Default::default(),
            bottleneck_drops: 0,
        };
        for i in 0..n {
            let conn = sim.server.accept(sim.now, client_addr(i)).expect("accept");
            sim.conns.push(conn);
            sim.clients[i].start(sim.now);
        }
        sim.flush();
        sim
    }

    fn client_of(&self, conn: ConnectionId) -> Option<usize> {
        self.conns.iter().position(|c| *c == conn)
    }

    fn send(&mut self, dir: Dir, unit: Unit) {
        let delay = match self.link.delay {
            Duration::ZERO => Duration::from_millis(1),
            d => d,
        };
        let mut at = self.now + delay;
        let mut copies = 1;
        if let Unit::Datagram(d) = &unit {
            if self.link.mtu > 0 && d.len() > self.link.mtu {
                self.mtu_drops += 1;
                return;
            }
            let bits = d.len() as u64 * 8_000_000_000;
            if let Some(nanos) = bits.checked_div(self.link.rate) {
                let key = match dir {
                    Dir::ToServer(i) => (true, i),
                    Dir::ToClient(i) => (false, i),
                };
                let tx = Duration::from_nanos(nanos);
                let queue = match self.link.queue {
                    0 => 100,
                    n => n as u32,
                };
                let free = self
                    .busy_until
                    .get(&key)
                    .map_or(self.now, |t| (*t).max(self.now));
                if free.saturating_duration_since(self.now) > tx * queue {
                    self.bottleneck_drops += 1;
                    return;
                }
                self.busy_until.insert(key, free + tx);
                at = free + tx + delay;
            }
            if self.rng.chance(self.link.loss) {
                return;
            }
            if self.rng.chance(self.link.reorder) {
                at += Duration::from_millis(30);
            }
            if self.rng.chance(self.link.duplicate) {
                copies = 2;
            }
        }
        // TCP stays in order: never before the last unit in flight on its way.
        if !matches!(unit, Unit::Datagram(_)) {
            if let Some((t, _, _)) = self
                .in_flight
                .iter()
                .rev()
                .find(|(_, d, u)| *d == dir && !matches!(u, Unit::Datagram(_)))
            {
                at = at.max(*t);
            }
        }
        let pos = self
            .in_flight
            .iter()
            .position(|(t, _, _)| *t > at)
            .unwrap_or(self.in_flight.len());
        if copies == 2 {
            if let Unit::Datagram(d) = &unit {
                self.in_flight
                    .insert(pos, (at, dir, Unit::Datagram(d.clone())));
            }
        }
        self.in_flight.insert(pos, (at, dir, unit));
    }

    /// Sends TCP bytes in random chunks (1..=all).
    fn send_stream(&mut self, dir: Dir, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = 1 + (self.rng.next() as usize % rest.len());
            let (a, b) = rest.split_at(n);
            self.send(dir, Unit::Stream(a.to_vec()));
            rest = b;
        }
    }

    /// Moves every output into the network and every event into the logs.
    pub fn flush(&mut self) {
        loop {
            let mut moved = false;
            for i in 0..self.clients.len() {
                while let Some(b) = self.clients[i].poll_stream_transmit() {
                    self.send_stream(Dir::ToServer(i), &b);
                    moved = true;
                }
                while let Some(d) = self.clients[i].poll_datagram_transmit() {
                    self.send(Dir::ToServer(i), Unit::Datagram(d.into_vec()));
                    moved = true;
                }
                while let Some(e) = self.clients[i].poll_event() {
                    if let ClientEvent::IpPacket(p) = &e {
                        self.client_ip[i].push(p.clone());
                    }
                    self.client_events[i].push(e);
                    moved = true;
                }
            }
            while let Some((conn, b)) = self.server.poll_stream_transmit() {
                if let Some(i) = self.client_of(conn) {
                    self.send_stream(Dir::ToClient(i), &b);
                }
                moved = true;
            }
            while let Some((conn, d)) = self.server.poll_datagram_transmit() {
                if let Some(i) = self.client_of(conn) {
                    self.send(Dir::ToClient(i), Unit::Datagram(d.into_vec()));
                }
                moved = true;
            }
            while let Some(e) = self.server.poll_event() {
                match &e {
                    ServerEvent::AuthRequest { connection, .. } => {
                        let answer = match &self.password {
                            Some(p) => {
                                Credentials::Password(pptp_proto::crypto::Password::new(p).unwrap())
                            }
                            None => Credentials::Reject,
                        };
                        self.server
                            .provide_credentials(self.now, *connection, answer);
                    }
                    ServerEvent::IpPacket { packet, .. } => self.server_ip.push(packet.clone()),
                    ServerEvent::SessionDown { connection, .. } => {
                        // The embedder closes TCP once the session is down.
                        if let Some(i) = self.client_of(*connection) {
                            self.send(Dir::ToClient(i), Unit::Closed);
                        }
                    }
                    _ => {}
                }
                self.server_events.push(e);
                moved = true;
            }
            if !moved {
                return;
            }
        }
    }

    fn record(&mut self, dir: Dir, unit: &Unit) {
        use pptp_proto::wire::{control, gre::GrePacket, packet::PppPacket, ppp::PppFrame};
        let (arrow, key) = match dir {
            Dir::ToServer(i) => (">", (true, i)),
            Dir::ToClient(i) => ("<", (false, i)),
        };
        match unit {
            Unit::Stream(b) => {
                let buf = self.stream_log.entry(key).or_default();
                buf.extend_from_slice(b);
                while let Ok(Some(len)) = control::frame_length(buf) {
                    if len > buf.len() {
                        break;
                    }
                    let m: Vec<u8> = buf.drain(..len).collect();
                    if let Ok(m) = control::ControlMessage::parse(&m) {
                        self.trace.push(format!("{arrow} {:?}", m.message_type()));
                    }
                }
            }
            Unit::Datagram(d) => {
                let Ok(g) = GrePacket::parse(d) else { return };
                let Ok(f) = PppFrame::parse(g.payload) else {
                    return;
                };
                let name = match PppPacket::parse(&f) {
                    Ok(PppPacket::Control(p, cp)) => format!("{p} {}", cp.code),
                    Ok(PppPacket::Chap(c)) => {
                        let text = c.to_string();
                        format!("CHAP {}", text.split_whitespace().nth(1).unwrap_or("?"))
                    }
                    Ok(PppPacket::Pap(p)) => format!(
                        "PAP {}",
                        p.to_string().split_whitespace().nth(1).unwrap_or("?")
                    ),
                    _ => return,
                };
                self.trace.push(format!("{arrow} {name}"));
            }
            Unit::Closed => self.trace.push(format!("{arrow} TCP close")),
        }
    }

    fn deliver(&mut self, dir: Dir, unit: Unit) {
        self.record(dir, &unit);
        let now = self.now;
        match (dir, unit) {
            (Dir::ToServer(i), Unit::Stream(b)) => {
                let _ = self.server.handle_stream(now, self.conns[i], &b);
            }
            (Dir::ToServer(i), Unit::Closed) => {
                self.server.handle_stream_closed(now, self.conns[i])
            }
            (Dir::ToServer(i), Unit::Datagram(mut d)) => {
                if let Some(hook) = self.hook.as_mut() {
                    if let Action::Drop = hook(dir, &mut d) {
                        return;
                    }
                }
                if let Ok((_, Some(ip))) = self.server.handle_datagram(now, client_addr(i), &mut d)
                {
                    self.server_ip.push(ip.to_vec());
                }
            }
            (Dir::ToClient(i), Unit::Stream(b)) => self.clients[i].handle_stream(now, &b),
            (Dir::ToClient(i), Unit::Closed) => self.clients[i].handle_stream_closed(now),
            (Dir::ToClient(i), Unit::Datagram(mut d)) => {
                if let Some(hook) = self.hook.as_mut() {
                    if let Action::Drop = hook(dir, &mut d) {
                        return;
                    }
                }
                if let Ok(Some(ip)) = self.clients[i].handle_datagram(now, &mut d) {
                    self.client_ip[i].push(ip.to_vec());
                }
            }
        }
    }

    /// One step: advance to the soonest delivery or timer and handle it.
    /// Returns false when nothing is left to happen.
    pub fn step(&mut self) -> bool {
        self.steps += 1;
        assert!(
            self.steps < 5_000_000,
            "step bound exceeded: something busy-loops"
        );
        let Some(next) = self.next_event() else {
            return false;
        };
        self.now = self.now.max(next);
        self.run_due();
        true
    }

    /// When the next delivery or timer is due.
    pub fn next_event(&self) -> Option<Instant> {
        let timers = self
            .clients
            .iter()
            .filter_map(|c| c.poll_timeout())
            .chain(self.server.poll_timeout())
            .min();
        Instant::soonest(self.in_flight.front().map(|(t, _, _)| *t), timers)
    }

    fn run_due(&mut self) {
        while self
            .in_flight
            .front()
            .is_some_and(|(t, _, _)| *t <= self.now)
        {
            let (_, dir, unit) = self.in_flight.pop_front().unwrap();
            self.deliver(dir, unit);
            // Collect released packets before the next delivery, in order.
            self.flush();
        }
        for c in &mut self.clients {
            if c.poll_timeout().is_some_and(|t| t <= self.now) {
                c.handle_timeout(self.now);
                // Invariant: a fired timer never stays in the past.
                assert!(
                    c.poll_timeout().is_none_or(|t| t > self.now),
                    "client timer in the past"
                );
            }
        }
        if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
            self.server.handle_timeout(self.now);
            assert!(
                self.server.poll_timeout().is_none_or(|t| t > self.now),
                "server timer in the past"
            );
        }
        self.flush();
    }

    /// Runs until `done` holds (true) or `limit` of virtual time passed (false).
    pub fn drive_until(&mut self, limit: Duration, mut done: impl FnMut(&Sim) -> bool) -> bool {
        let end = self.now + limit;
        loop {
            if done(self) {
                return true;
            }
            match self.next_event() {
                Some(t) if t <= end => {
                    self.step();
                }
                _ => {
                    // Nothing more before the limit: stop at it.
                    self.now = self.now.max(end);
                    return done(self);
                }
            }
        }
    }

    pub fn all_up(&self) -> bool {
        self.clients.iter().all(|c| c.is_up())
    }

    /// How long the bottleneck toward `dir` is busy with what it has
    /// queued (zero without a bottleneck).
    pub fn backlog(&self, dir: Dir) -> Duration {
        let key = match dir {
            Dir::ToServer(i) => (true, i),
            Dir::ToClient(i) => (false, i),
        };
        self.busy_until
            .get(&key)
            .map_or(Duration::ZERO, |t| t.saturating_duration_since(self.now))
    }

    /// Sends `ip` from client `i` now.
    pub fn client_send(&mut self, i: usize, ip: &[u8]) -> bool {
        let mut buf = vec![0u8; 2048];
        match self.clients[i].send_ip(self.now, ip, &mut buf) {
            Ok(range) => {
                self.send(Dir::ToServer(i), Unit::Datagram(buf[range].to_vec()));
                true
            }
            Err(_) => false,
        }
    }

    /// Sends `ip` from the server to client `i` now.
    pub fn server_send(&mut self, i: usize, ip: &[u8]) -> bool {
        let mut buf = vec![0u8; 2048];
        match self.server.send_ip(self.now, self.conns[i], ip, &mut buf) {
            Ok(range) => {
                self.send(Dir::ToClient(i), Unit::Datagram(buf[range].to_vec()));
                true
            }
            Err(_) => false,
        }
    }

    /// Injects raw bytes as if sent on TCP or GRE.
    pub fn inject_stream(&mut self, dir: Dir, bytes: Vec<u8>) {
        self.send(dir, Unit::Stream(bytes));
    }

    pub fn inject_datagram(&mut self, dir: Dir, bytes: Vec<u8>) {
        self.send(dir, Unit::Datagram(bytes));
    }
}

/// Client `i`'s address: the source of its TCP connection and its GRE.
pub fn client_addr(i: usize) -> core::net::IpAddr {
    core::net::Ipv4Addr::from(0xc633_6400 + i as u32).into() // 198.51.100.0/24 and up
}
