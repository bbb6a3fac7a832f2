//! A PPTP client and server in one process, over a simulated network with a
//! virtual clock, printing the session the way pppd's debug log shows it.
//!
//! ```text
//! cargo run --example loopback
//! cargo run --example loopback -- --loss 0.1 --seed 7
//! cargo run --example loopback -- --auth pap --mppe none --count 5
//! cargo run --example loopback -- --mppc --mppe stateful --count 20
//! cargo run --example loopback -- --pcap /tmp/s.pcap --pcap-inner /tmp/inner.pcap
//! ```
//!
//! Flags: `--auth mschapv2|mschapv1|chap|pap|eap-mschapv2|eap-md5`, `--mppe 128|56|40|stateful|none`,
//! `--mppc` (MPPC compression too, RFC 2118; pings then carry a JSON
//! payload and the summary shows the compression ratio),
//! `--loss P` (GRE loss, also reordering and duplication at P/2),
//! `--seed N`, `--count N` (pings), `--quiet`, `--pcap FILE` (the client's
//! view of the session as a capture Wireshark dissects: PPTP over TCP, GRE,
//! PPP), `--pcap-inner FILE` (the IP packets inside the tunnel, in clear).

#[path = "support/mod.rs"]
mod support;

use std::collections::VecDeque;
use std::process::exit;

use etherparse::PacketBuilder;
use pptp_proto::client::{Client, ClientConfig, ClientEvent};
use pptp_proto::crypto::Password;
use pptp_proto::pcap::PcapWriter;
use pptp_proto::ppp::auth::Credentials;
use pptp_proto::ppp::ccp::{MppeRequirement, StatelessPolicy};
use pptp_proto::ppp::lcp::AuthMethod;
use pptp_proto::server::{AddressPool, Server, ServerConfig, ServerEvent};
use pptp_proto::time::{Duration, Instant};
use pptp_proto::wire::control::{frame_length, ControlMessage};
use pptp_proto::wire::gre::GrePacket;
use pptp_proto::wire::mppe::MppeBits;
use pptp_proto::wire::packet::PppPacket;
use pptp_proto::wire::ppp::PppFrame;

struct Options {
    auth: AuthMethod,
    mppe: &'static str,
    mppc: bool,
    loss: f64,
    seed: u64,
    count: u16,
    quiet: bool,
    pcap: Option<String>,
    pcap_inner: Option<String>,
}

const USAGE: &str = "\
loopback: a PPTP client and server in one process, over a simulated network
with a virtual clock, logged the way pppd's debug log shows a session.

usage: cargo run --example loopback -- [flags]
  --auth METHOD                       mschapv2 (default), mschapv1, chap, pap, eap-mschapv2, eap-md5
  --mppe 128|56|40|stateful|none      MPPE policy of both ends (default 128)
  --mppc                              MPPC compression too (RFC 2118)
  --loss P                            GRE loss, with reordering and duplication at P/2
  --seed N                            the network's and the machines' seed (default 1)
  --count N                           pings (default 3)
  --quiet                             only the up/down lines and the summary
  --pcap FILE                         the client's view of the session as a capture
  --pcap-inner FILE                   the IP packets inside the tunnel, in clear
  -h, --help                          this text

Exit status 0 when the session came up and every ping was answered.";

fn parse_args() -> Options {
    let mut a = support::Args::from_env(USAGE);
    let auth = match a.opt("--auth").as_deref() {
        None | Some("mschapv2") => AuthMethod::MsChapV2,
        Some("mschapv1") => AuthMethod::MsChapV1,
        Some("chap") => AuthMethod::ChapMd5,
        Some("pap") => AuthMethod::Pap,
        Some("eap-mschapv2") => AuthMethod::EapMsChapV2,
        Some("eap-md5") => AuthMethod::EapMd5,
        Some(other) => a.fail(&format!("--auth {other}: not a method")),
    };
    let mppe = match a.opt("--mppe").as_deref() {
        None | Some("128") => "128",
        Some("56") => "56",
        Some("40") => "40",
        Some("stateful") => "stateful",
        Some("none") => "none",
        Some(other) => a.fail(&format!("--mppe {other}: not a policy")),
    };
    let o = Options {
        auth,
        mppe,
        mppc: a.flag("--mppc"),
        loss: a.parse("--loss", 0.0),
        seed: a.parse("--seed", 1),
        count: a.parse("--count", 3),
        quiet: a.flag("--quiet"),
        pcap: a.opt("--pcap"),
        pcap_inner: a.opt("--pcap-inner"),
    };
    // MPPE keys come from MS-CHAP only (RFC 3079): say so before running a
    // session that could only end "MPPE required, but keys are not available".
    if o.mppe != "none" && !o.auth.gives_mppe_keys() {
        let name = match o.auth {
            AuthMethod::Pap => "PAP",
            AuthMethod::ChapMd5 => "CHAP-MD5",
            _ => "EAP-MD5",
        };
        a.fail(&format!("{name} gives no MPPE keys: add --mppe none"));
    }
    if o.pcap_inner.is_some() && o.pcap.is_none() {
        a.fail("--pcap-inner goes with --pcap");
    }
    a.finish();
    o
}

/// A seeded generator for the network's loss, duplication and reordering.
struct Rng(u64);

impl Rng {
    fn chance(&mut self, p: f64) -> bool {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Dir {
    ToServer,
    ToClient,
}

enum Unit {
    Stream(Vec<u8>),
    Datagram(Vec<u8>),
}

struct Net {
    now: Instant,
    rng: Rng,
    loss: f64,
    in_flight: VecDeque<(Instant, Dir, Unit)>,
    quiet: bool,
    /// TCP bytes not yet split into messages, for the log.
    log_stream: [Vec<u8>; 2],
}

impl Net {
    fn send(&mut self, dir: Dir, unit: Unit) {
        let mut delay = Duration::from_millis(10);
        let mut copies = 1;
        if let Unit::Datagram(d) = &unit {
            // The client's view: what it sends is logged now, what it
            // receives when it arrives; a datagram the network drops is
            // logged as lost.
            let lost = self.rng.chance(self.loss);
            match (dir, lost) {
                (Dir::ToServer, false) => self.log_datagram("sent", d),
                (Dir::ToServer, true) => self.log_datagram("sent, lost", d),
                (Dir::ToClient, true) => self.log_datagram("lost", d),
                (Dir::ToClient, false) => {}
            }
            if lost {
                return;
            }
            if self.rng.chance(self.loss / 2.0) {
                delay += Duration::from_millis(25);
            }
            if self.rng.chance(self.loss / 2.0) {
                copies = 2;
            }
        } else if let Unit::Stream(b) = &unit {
            if dir == Dir::ToServer {
                self.log_stream(dir, b);
            }
        }
        let at = self.now + delay;
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

    fn word(dir: Dir) -> &'static str {
        match dir {
            Dir::ToServer => "sent",
            Dir::ToClient => "rcvd",
        }
    }

    fn log_stream(&mut self, dir: Dir, bytes: &[u8]) {
        let buf = &mut self.log_stream[dir as usize];
        buf.extend_from_slice(bytes);
        while let Ok(Some(len)) = frame_length(buf) {
            if len > buf.len() {
                break;
            }
            let message: Vec<u8> = buf.drain(..len).collect();
            if !self.quiet {
                if let Ok(m) = ControlMessage::parse(&message) {
                    println!("{:>9} {} {m}", format!("{:?}", self.now), Self::word(dir));
                }
            }
        }
    }

    fn log_datagram(&self, word: &str, d: &[u8]) {
        if self.quiet {
            return;
        }
        let Ok(gre) = GrePacket::parse(d) else { return };
        if gre.payload.is_empty() {
            return;
        }
        let Ok(frame) = PppFrame::parse(gre.payload) else {
            return;
        };
        match PppPacket::parse(&frame) {
            // The data path: shown as a count in the summary, not per packet.
            Ok(PppPacket::Compressed(..) | PppPacket::Ipv4(_)) => {}
            Ok(p) => println!("{:>9} {word} {p}", format!("{:?}", self.now)),
            Err(e) => println!("{:>9} {word} [malformed: {e}]", format!("{:?}", self.now)),
        }
    }
}

/// The server's tunnel address, which answers pings.
const SERVER_ADDRESS: [u8; 4] = [198, 51, 100, 1];
const USER: &str = "alice";
const PASSWORD: &str = "secret";

fn configs(o: &Options) -> (ClientConfig, ServerConfig) {
    let mut client =
        ClientConfig::new(USER, Password::new(PASSWORD).expect("password")).with_seed(o.seed);
    let pool = AddressPool {
        local: SERVER_ADDRESS.into(),
        range: ([198, 51, 100, 2].into(), [198, 51, 100, 9].into()),
        dns: [Some([198, 51, 100, 53].into()), None],
    };
    let mut server = ServerConfig::new("pptp-proto", pool);
    server.control.seed = o.seed.wrapping_add(99);
    server.ppp.seed = o.seed.wrapping_mul(7);
    for ppp in [&mut client.ppp, &mut server.ppp] {
        ppp.lcp.auth = vec![o.auth];
        ppp.echo.interval = Some(Duration::from_secs(30));
        ppp.echo.max_failures = 3;
        let ccp = &mut ppp.ccp;
        ccp.mppc = o.mppc;
        match o.mppe {
            "none" => ccp.mppe = MppeRequirement::Refused,
            "40" => ccp.strengths = MppeBits::BITS_40,
            "56" => ccp.strengths = MppeBits::BITS_56,
            "stateful" => ccp.stateless = StatelessPolicy::Refused,
            _ => {}
        }
    }
    (client, server)
}

/// The ping payload: short text, or with `--mppc` a JSON document of the
/// kind web traffic carries, different in every ping.
fn ping_payload(o: &Options, seq: u16) -> Vec<u8> {
    if !o.mppc {
        return b"pptp-proto ping".to_vec();
    }
    let items: Vec<String> = (0..12)
        .map(|i| {
            format!(
                "{{\"id\":{},\"name\":\"item-{i}\",\"price\":{}.{:02},\"tags\":[\"json\",\"demo\"]}}",
                u32::from(seq) * 100 + i,
                i * 7 + u32::from(seq),
                (i * 13 + u32::from(seq)) % 100
            )
        })
        .collect();
    format!(
        "{{\"seq\":{seq},\"status\":\"ok\",\"user\":\"{USER}\",\"items\":[{}]}}",
        items.join(",")
    )
    .into_bytes()
}

/// Answers the ping in `ip` (from connection `c`) through the server.
fn answer(server: &mut Server, net: &mut Net, c: pptp_proto::server::ConnectionId, ip: &[u8]) {
    let mut buf = [0u8; 2048];
    if let Some(reply) = support::echo_reply(ip, SERVER_ADDRESS.into()) {
        if let Ok(range) = server.send_ip(net.now, c, &reply, &mut buf) {
            net.send(Dir::ToClient, Unit::Datagram(buf[range].to_vec()));
        }
    }
}

fn main() {
    let o = parse_args();
    let (client_config, server_config) = configs(&o);
    let mut client = Client::new(client_config);
    if let Some(path) = &o.pcap {
        let file = |p: &str| {
            std::fs::File::create(p)
                .map(std::io::BufWriter::new)
                .unwrap_or_else(|e| {
                    eprintln!("{p}: {e}");
                    exit(2)
                })
        };
        let mut tap = PcapWriter::client(file(path)).expect("pcap header");
        if let Some(inner) = &o.pcap_inner {
            tap = tap.with_inner(file(inner)).expect("pcap header");
        }
        client.set_tap(tap);
    }
    let mut server = Server::new(server_config);
    let mut net = Net {
        now: Instant::ZERO,
        rng: Rng(o.seed),
        loss: o.loss,
        in_flight: VecDeque::new(),
        quiet: o.quiet,
        log_stream: [Vec::new(), Vec::new()],
    };
    println!(
        "loopback: {:?}, --mppe {}{}, GRE loss {:.0}%, seed {}",
        o.auth,
        o.mppe,
        if o.mppc { " + MPPC" } else { "" },
        o.loss * 100.0,
        o.seed
    );
    let conn = server
        .accept(net.now, [192, 0, 2, 1].into())
        .expect("accept");
    client.start(net.now);

    let mut up_at = None;
    let mut local = [0u8; 4];
    let mut peer = [0u8; 4];
    let (mut sent, mut replies, mut next_ping) = (0u16, 0u16, None::<Instant>);
    let mut down = None;
    let mut agreed = String::from("nothing agreed");
    let mut close_at: Option<Instant> = None;
    let mut buf = vec![0u8; 2048];
    let end = Instant::from_secs(120);
    while net.now < end {
        // Drain every output and event; answering one may produce more.
        for _ in 0..4 {
            while let Some(b) = client.poll_stream_transmit() {
                net.send(Dir::ToServer, Unit::Stream(b.to_vec()));
            }
            while let Some(d) = client.poll_datagram_transmit() {
                net.send(Dir::ToServer, Unit::Datagram(d.into_vec()));
            }
            while let Some((_, b)) = server.poll_stream_transmit() {
                net.send(Dir::ToClient, Unit::Stream(b.to_vec()));
            }
            while let Some((_, d)) = server.poll_datagram_transmit() {
                net.send(Dir::ToClient, Unit::Datagram(d.into_vec()));
            }
            while let Some(e) = server.poll_event() {
                match e {
                    ServerEvent::AuthRequest {
                        connection,
                        username,
                        method,
                        ..
                    } => {
                        println!(
                            "{:>9} server: {username:?} asks to authenticate with {method:?}",
                            format!("{:?}", net.now)
                        );
                        let secret = Password::new(PASSWORD).expect("password");
                        server.provide_credentials(
                            net.now,
                            connection,
                            Credentials::Password(secret),
                        );
                    }
                    ServerEvent::SessionUp {
                        username, address, ..
                    } => {
                        println!(
                            "{:>9} server: session up for {username:?}, address {address}",
                            format!("{:?}", net.now)
                        )
                    }
                    ServerEvent::SessionDown { reason, .. } => {
                        println!(
                            "{:>9} server: session down: {reason}",
                            format!("{:?}", net.now)
                        );
                        server.handle_stream_closed(net.now, conn);
                    }
                    // Reordered, or expanded by MPPC.
                    ServerEvent::IpPacket { connection, packet } => {
                        answer(&mut server, &mut net, connection, &packet)
                    }
                    _ => {}
                }
            }
            while let Some(e) = client.poll_event() {
                match e {
                    ClientEvent::Up {
                        local: l,
                        peer: p,
                        dns,
                        mtu,
                        mppe,
                    } => {
                        agreed = support::describe_ccp(mppe);
                        let dns = dns[0].map_or("no DNS".to_string(), |d| format!("dns {d}"));
                        println!(
                            "{:>9} client: up: local {l}, remote {p}, {dns}, mtu {mtu}, {agreed}",
                            format!("{:?}", net.now),
                        );
                        local = l.octets();
                        peer = p.octets();
                        up_at = Some(net.now);
                        next_ping = Some(net.now);
                    }
                    ClientEvent::IpPacket(_) => replies += 1,
                    ClientEvent::Down { reason } => {
                        println!("{:>9} client: down: {reason}", format!("{:?}", net.now));
                        down = Some(reason);
                    }
                    _ => {}
                }
            }
        }
        if down.is_some() && net.in_flight.is_empty() {
            break;
        }
        // Pings once up, one a second; then close.
        if next_ping.is_some_and(|t| t <= net.now) {
            if sent < o.count {
                let builder = PacketBuilder::ipv4(local, peer, 64).icmpv4_echo_request(7, sent);
                let mut ping = Vec::new();
                builder
                    .write(&mut ping, &ping_payload(&o, sent))
                    .expect("ping");
                if let Ok(range) = client.send_ip(net.now, &ping, &mut buf) {
                    net.send(Dir::ToServer, Unit::Datagram(buf[range].to_vec()));
                    sent += 1;
                }
                next_ping = Some(net.now + Duration::from_secs(1));
            } else {
                next_ping = None;
                // Idle long enough for an LCP echo (10 s) and a PPTP echo (60 s).
                close_at = Some(net.now + Duration::from_secs(61));
            }
        }
        if close_at.is_some_and(|t| t <= net.now) {
            println!("{:>9} client: closing", format!("{:?}", net.now));
            client.close(net.now);
            close_at = None;
            continue;
        }
        // Advance to the next thing that happens.
        let next = [
            net.in_flight.front().map(|(t, _, _)| *t),
            client.poll_timeout(),
            server.poll_timeout(),
            next_ping,
            close_at,
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else { break };
        net.now = net.now.max(next);
        while net.in_flight.front().is_some_and(|(t, _, _)| *t <= net.now) {
            let (_, dir, unit) = net.in_flight.pop_front().expect("front");
            match (dir, unit) {
                (Dir::ToServer, Unit::Stream(b)) => {
                    let _ = server.handle_stream(net.now, conn, &b);
                }
                (Dir::ToClient, Unit::Stream(b)) => {
                    net.log_stream(Dir::ToClient, &b);
                    client.handle_stream(net.now, &b)
                }
                (Dir::ToServer, Unit::Datagram(mut d)) => {
                    if let Ok((c, Some(ip))) =
                        server.handle_datagram(net.now, [192, 0, 2, 1].into(), &mut d)
                    {
                        let ip = ip.to_vec();
                        answer(&mut server, &mut net, c, &ip);
                    }
                }
                (Dir::ToClient, Unit::Datagram(mut d)) => {
                    net.log_datagram("rcvd", &d);
                    if let Ok(Some(_)) = client.handle_datagram(net.now, &mut d) {
                        replies += 1;
                    }
                }
            }
        }
        client.handle_timeout(net.now);
        server.handle_timeout(net.now);
    }
    drop(client.take_tap()); // flushes the capture
    if let Some(path) = &o.pcap {
        println!("capture written to {path}");
    }
    let stats = client.stats();
    println!(
        "summary: {} in {:?}, {replies}/{sent} pings answered, GRE sent {} received {} lost {} reordered {} duplicate {}, {:?}, {agreed}",
        if up_at.is_some() { "up" } else { "NOT UP" },
        up_at.unwrap_or(net.now),
        stats.gre.sent,
        stats.gre.received,
        stats.gre.lost,
        stats.gre.reordered,
        stats.gre.duplicate,
        o.auth,
    );
    if o.mppc {
        let (raw, wire) = (stats.ppp.mppc_bytes_in, stats.ppp.mppc_bytes_out);
        println!(
            "MPPC: client compressed {raw} bytes (PPP protocol + IP) to {wire} on the wire (before MPPE/GRE headers), ratio {:.2}",
            raw as f64 / wire.max(1) as f64
        );
    }
    let compressed = !o.mppc || stats.ppp.mppc_bytes_out < stats.ppp.mppc_bytes_in;
    let ok = up_at.is_some() && (o.loss > 0.0 || replies == sent) && compressed;
    exit(if ok { 0 } else { 1 });
}
