//! A PPTP client on real sockets: TCP to port 1723 and a raw GRE socket,
//! driving [`Client`] from a plain blocking event loop (one reader thread per
//! socket feeding a channel; the main thread owns the client and all writes).
//!
//! ```text
//! sudo cargo run --release --example client -- --server 192.0.2.2 --user alice --password secret \
//!     [--mppe require|require-128|require-56|require-40|optional|none] [--auth LIST|any] \
//!     [--mru N] [--mtu N] [--echo SECONDS] \
//!     [--ping ADDR --count N] [--tun NAME] [--duration SECONDS] [--quiet]
//!     [--stateful [--restart-rc4]] [--lose N]
//! ```
//!
//! It prints the session the way pppd's debug log shows it. With `--ping`
//! it sends N ICMP echo requests through the tunnel (one every 200 ms) and
//! prints `ping ADDR: N/N replies`; without `--tun` or `--duration` it then
//! closes the tunnel. With `--tun NAME` it creates a TUN device with the
//! tunnel's addresses and moves packets between it and the tunnel until
//! Ctrl-C. `--duration` keeps the tunnel up that long (or until the server
//! ends it). Ctrl-C tears the tunnel down cleanly (a second one exits).
//!
//! `--auth` lists the methods we accept when the server asks for one,
//! favourite first (`mschapv2,mschapv1,chap,pap`; default: the MS-CHAPs and
//! CHAP, only the MS-CHAPs when MPPE is required; PAP only when listed, its
//! password crosses in clear); `any` is all four; `eap-mschapv2`,
//! `eap-md5` (what pppd's `require-eap` runs) and `eap` (either) accept
//! EAP. `--mppe` has pppd's
//! meanings (`require` = `require-mppe`, any strength).
//!
//! Test-tool knobs: `--stateful` prefers stateful MPPE (pppd's
//! `mppe-stateful`), `--restart-rc4` makes a CCP Reset restart RC4 with
//! the current key instead of deriving a new one (the default, as Linux
//! `ppp_mppe`; see `CcpConfig::reset_rekeys`; `--reset-rekeys` is still
//! accepted), and `--lose N` encrypts the Nth ping (from 0)
//! but does not send it, a simulated loss that makes the server resynchronise
//! stateful MPPE: it discards until our next FLUSHED packet, so the ping
//! after the lost one may go unanswered too. Missing replies are listed.
//!
//! Exit status 0 only if the tunnel came up and every ping was answered.
//! Needs root (or CAP_NET_RAW, and CAP_NET_ADMIN for `--tun`).

#[path = "support/mod.rs"]
mod support;

use std::io::Write;
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::process::exit;
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Arc;

use pptp_proto::client::{Client, ClientConfig, ClientEvent};
use pptp_proto::crypto::Password;
use pptp_proto::ppp::ccp::StatelessPolicy;
use pptp_proto::time::{Duration, Instant};
use support::{Args, Clock, GreSocket, Log};

const USAGE: &str = "usage: client --server ADDR --user U --password P
       [--mppe require|require-128|require-56|require-40|optional|none]
       [--auth LIST|any] [--mru N] [--mtu N] [--echo SECONDS] [--ping ADDR --count N]
       [--tun NAME] [--duration SECONDS] [--quiet] [--stateful [--restart-rc4]] [--lose N]";

/// What the reader threads and the Ctrl-C handler tell the main loop.
enum Input {
    Tcp(Vec<u8>),
    TcpClosed,
    Gre(Vec<u8>),
    Tun(Vec<u8>),
    Interrupt,
}

struct Options {
    server: Ipv4Addr,
    config: ClientConfig,
    ping: Option<Ipv4Addr>,
    count: u16,
    tun: Option<String>,
    duration: Option<std::time::Duration>,
    quiet: bool,
    lose: Option<u16>,
}

fn options() -> Options {
    let mut a = Args::from_env(USAGE);
    let server: Ipv4Addr = a
        .req("--server")
        .parse()
        .unwrap_or_else(|_| a.fail("--server: an IPv4 address"));
    let user = a.req("--user");
    let password = Password::new(&a.req("--password"))
        .unwrap_or_else(|_| a.fail("--password: at most 256 characters"));
    let mut config = ClientConfig::new(&user, password).with_seed_bytes(support::os_seed());
    if let Some(m) = a.opt("--mppe") {
        support::set_mppe(&mut config.ppp, &m).unwrap_or_else(|e| a.fail(&e));
    }
    if let Some(m) = a.opt("--auth") {
        // The methods we accept when the server asks, favourite first.
        config.ppp.lcp.auth = support::pppd::parse_auth(&m).unwrap_or_else(|e| a.fail(&e));
    }
    if let Some(mru) = a.opt("--mru") {
        config.ppp.lcp.mru = mru.parse().unwrap_or_else(|_| a.fail("--mru: octets"));
    }
    if let Some(mtu) = a.opt("--mtu") {
        config.ppp.lcp.mtu = mtu.parse().unwrap_or_else(|_| a.fail("--mtu: octets"));
    }
    if let Err(e) = support::pppd::check_keys(&config.ppp) {
        a.fail(&e);
    }
    if let Some(s) = a.opt("--echo") {
        let s = s.parse().unwrap_or_else(|_| a.fail("--echo: seconds"));
        support::set_echo(&mut config.ppp, s);
    }
    let ping = a.opt("--ping").map(|p| {
        p.parse()
            .unwrap_or_else(|_| a.fail("--ping: an IPv4 address"))
    });
    let count = a.parse("--count", 4u16);
    let tun = a.opt("--tun");
    let duration = a.opt("--duration").map(|s| {
        std::time::Duration::from_secs_f64(
            s.parse().unwrap_or_else(|_| a.fail("--duration: seconds")),
        )
    });
    let quiet = a.flag("--quiet");
    if a.flag("--stateful") {
        config.ppp.ccp.stateless = StatelessPolicy::Refused;
    }
    // A Reset-Request derives a new key by default (Linux); --restart-rc4
    // restarts RC4 instead (RFC 3078's reading), for tests against it.
    let _ = a.flag("--reset-rekeys");
    config.ppp.ccp.reset_rekeys = !a.flag("--restart-rc4");
    let lose = a.opt("--lose").map(|n| {
        n.parse()
            .unwrap_or_else(|_| a.fail("--lose: a ping number"))
    });
    a.finish();
    Options {
        lose,
        server,
        config,
        ping,
        count,
        tun,
        duration,
        quiet,
    }
}

fn main() {
    let o = options();
    let clock = Clock::start();
    let mut log = Log::new(clock, !o.quiet);
    let fail = |what: &str, e: std::io::Error| -> ! {
        eprintln!("client: {what}: {e}");
        exit(1)
    };

    let gre = GreSocket::open().unwrap_or_else(|e| fail("raw GRE socket (root needed)", e));
    let addr = SocketAddr::from((o.server, 1723));
    let mut tcp = TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(10))
        .unwrap_or_else(|e| fail(&format!("connect {addr}"), e));
    let _ = tcp.set_nodelay(true);
    log.info("", format_args!("connected to {addr}"));

    let (tx, rx) = channel();
    let reader = tcp.try_clone().unwrap_or_else(|e| fail("tcp", e));
    support::spawn_tcp_reader(reader, tx.clone(), Input::Tcp, Input::TcpClosed);
    let server = o.server;
    let reader = gre.try_clone().unwrap_or_else(|e| fail("gre", e));
    // GRE from anyone but the server is not ours.
    support::spawn_gre_reader(reader, tx.clone(), move |src, d| {
        (src == server).then_some(Input::Gre(d))
    });
    {
        let tx = tx.clone();
        let _ = ctrlc::set_handler(move || {
            let _ = tx.send(Input::Interrupt);
        });
    }

    let mut client = Client::new(o.config);
    client.start(clock.now());

    let [a, b, ..] = support::os_seed();
    let ping_id = u16::from_le_bytes([a, b]);
    let mut local = Ipv4Addr::UNSPECIFIED;
    let mut was_up = false;
    let mut sent = 0u16;
    let mut replies = std::collections::BTreeSet::new();
    let mut next_ping: Option<Instant> = None;
    let mut close_at: Option<Instant> = None;
    let mut tun_dev: Option<Arc<tun::Device>> = None;
    let mut interrupts = 0;
    let mut down_reason = None;
    let mut tcp_closed = false;
    let mut buf = vec![0u8; 65536];
    let mut tunnel_mtu = 1500;

    loop {
        // Everything the client wants written, then its events.
        while let Some(b) = client.poll_stream_transmit() {
            log.stream("", 0, true, &b);
            if !tcp_closed && tcp.write_all(&b).is_err() {
                tcp_closed = true;
            }
        }
        while let Some(d) = client.poll_datagram_transmit() {
            log.datagram("", true, &d);
            let _ = gre.send_to(o.server, &d);
        }
        while let Some(e) = client.poll_event() {
            match e {
                ClientEvent::Connected { hostname, vendor } => log.info(
                    "",
                    format_args!("control connection up: host {hostname:?}, vendor {vendor:?}"),
                ),
                ClientEvent::CallUp {
                    call_id,
                    peer_call_id,
                } => log.info(
                    "",
                    format_args!("call up: call id {call_id}, peer call id {peer_call_id}"),
                ),
                ClientEvent::Authenticated => log.info("", "authenticated"),
                ClientEvent::Up {
                    local: l,
                    peer,
                    dns,
                    mtu,
                    mppe,
                } => {
                    was_up = true;
                    local = l;
                    tunnel_mtu = mtu;
                    let crypto = support::describe_ccp(mppe);
                    println!("local  IP address {l}");
                    println!("remote IP address {peer}");
                    for d in dns.iter().flatten() {
                        println!("DNS address {d}");
                    }
                    log.info("", format_args!("tunnel up: mtu {mtu}, {crypto}"));
                    if o.ping.is_some() {
                        // pppd sets its interface up (ip-up) a moment after
                        // IPCP opens; a ping sent at once can be dropped.
                        next_ping = Some(clock.now() + Duration::from_millis(500));
                    }
                    if let Some(name) = &o.tun {
                        match open_tun(name, l, peer, mtu) {
                            Ok(dev) => {
                                let dev = Arc::new(dev);
                                support::spawn_tun_reader(dev.clone(), tx.clone(), Input::Tun);
                                log.info("", format_args!("TUN {name} up: {l} -> {peer}"));
                                tun_dev = Some(dev);
                            }
                            Err(e) => {
                                eprintln!("client: TUN {name}: {e}");
                                client.close(clock.now());
                            }
                        }
                    }
                    if let Some(d) = o.duration {
                        close_at = Some(clock.now() + d);
                    }
                }
                ClientEvent::IpPacket(p) => {
                    deliver(&p, &mut replies, ping_id, tun_dev.as_deref());
                }
                ClientEvent::Down { reason } => {
                    log.info("", format_args!("tunnel down: {reason} [{reason:?}]"));
                    down_reason = Some(reason);
                }
                _ => {}
            }
        }
        if down_reason.is_some() {
            break;
        }

        // Pings: one every 200 ms, then 3 s for the last replies.
        let now = clock.now();
        if let (Some(t), Some(dst)) = (next_ping, o.ping) {
            if t <= now {
                if sent < o.count {
                    let p = support::echo_request(local, dst, ping_id, sent);
                    if let Ok(r) = client.send_ip(now, &p, &mut buf) {
                        if o.lose != Some(sent) {
                            let _ = gre.send_to(o.server, &buf[r]);
                        }
                    }
                    sent += 1;
                    next_ping = Some(now + Duration::from_millis(200));
                } else {
                    next_ping = None;
                    if o.tun.is_none() && o.duration.is_none() {
                        close_at = Some(now + Duration::from_secs(3));
                    }
                }
            }
        }
        if o.ping.is_some()
            && sent == o.count
            && replies.len() >= usize::from(o.count)
            && close_at.is_some()
            && o.duration.is_none()
            && o.tun.is_none()
        {
            close_at = Some(now); // every reply is in
        }
        if close_at.is_some_and(|t| t <= now) {
            close_at = None;
            log.info("", "closing");
            client.close(now);
            continue;
        }

        let next = [client.poll_timeout(), next_ping, close_at]
            .into_iter()
            .flatten()
            .min();
        let wait = next.map_or(std::time::Duration::from_secs(3600), |t| clock.until(t));
        match rx.recv_timeout(wait) {
            Ok(Input::Tcp(b)) => {
                log.stream("", 0, false, &b);
                client.handle_stream(clock.now(), &b);
            }
            Ok(Input::TcpClosed) => {
                tcp_closed = true;
                client.handle_stream_closed(clock.now());
            }
            Ok(Input::Gre(mut d)) => {
                log.datagram("", false, &d);
                if let Ok(Some(ip)) = client.handle_datagram(clock.now(), &mut d) {
                    deliver(ip, &mut replies, ping_id, tun_dev.as_deref());
                }
            }
            Ok(Input::Tun(p)) => {
                // Larger than the tunnel: fragments, or ICMP back to the host.
                support::send_fitted(&p, tunnel_mtu, local, tun_dev.as_deref(), |ip| {
                    if let Ok(r) = client.send_ip(clock.now(), ip, &mut buf) {
                        let _ = gre.send_to(o.server, &buf[r]);
                    }
                });
            }
            Ok(Input::Interrupt) => {
                interrupts += 1;
                if interrupts > 1 {
                    eprintln!("client: interrupted twice, exiting");
                    exit(130);
                }
                log.info("", "interrupted: closing");
                client.close(clock.now());
            }
            Err(RecvTimeoutError::Timeout) => client.handle_timeout(clock.now()),
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = tcp.shutdown(Shutdown::Both);

    if let Some(dst) = o.ping {
        println!("ping {dst}: {}/{sent} replies", replies.len());
        let missing: Vec<u16> = (0..sent).filter(|s| !replies.contains(s)).collect();
        if !missing.is_empty() {
            println!("ping {dst}: no reply to {missing:?}");
        }
    }
    let stats = client.stats();
    log.info(
        "",
        format_args!(
            "sent {} packets, received {} packets; GRE lost {}",
            stats.gre.sent, stats.gre.received, stats.gre.lost
        ),
    );
    let pings_ok = o.ping.is_none() || (sent == o.count && replies.len() >= usize::from(o.count));
    if !was_up {
        match &down_reason {
            Some(reason) => eprintln!("client: the tunnel did not come up: {reason}"),
            None => eprintln!("client: the tunnel did not come up"),
        }
        exit(1);
    }
    if !pings_ok {
        eprintln!(
            "client: {} of {} pings unanswered",
            usize::from(o.count).saturating_sub(replies.len()),
            o.count
        );
        exit(1);
    }
}

/// An IP packet out of the tunnel: a ping reply is counted, anything else
/// goes to the TUN device, if there is one.
fn deliver(
    ip: &[u8],
    replies: &mut std::collections::BTreeSet<u16>,
    ping_id: u16,
    tun: Option<&tun::Device>,
) {
    if let Some(seq) = support::echo_reply_seq(ip, ping_id) {
        replies.insert(seq);
    } else if let Some(t) = tun {
        let _ = t.send(ip);
    }
}

fn open_tun(name: &str, local: Ipv4Addr, peer: Ipv4Addr, mtu: usize) -> tun::Result<tun::Device> {
    let mut config = tun::Configuration::default();
    config
        .tun_name(name)
        .address(local)
        .destination(peer)
        .netmask(Ipv4Addr::new(255, 255, 255, 255))
        .mtu(mtu.min(u16::MAX as usize) as u16)
        .up();
    tun::create(&config)
}
