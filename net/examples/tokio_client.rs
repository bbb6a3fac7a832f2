//! The PPTP client of `examples/client.rs`, driven by tokio instead of
//! threads: a `tokio::net::TcpStream` for the control connection, the raw GRE
//! socket through `tokio::io::unix::AsyncFd`, `sleep_until` for the crate's
//! timers and one `select!` loop. The [`Client`] is the same, unchanged: a
//! Sans-I/O state machine fits any runtime.
//!
//! ```text
//! sudo cargo run --release --example tokio_client -- --server 192.0.2.2 --user alice --password secret \
//!     [--mppe require|optional|none] [--ping ADDR --count N] [--duration SECONDS] [--quiet]
//! ```
//!
//! Exit status 0 only if the tunnel came up and every ping was answered.

#[path = "support/mod.rs"]
mod support;

use std::io;
use std::net::Ipv4Addr;
use std::process::exit;

use pptp_proto::client::{Client, ClientConfig, ClientEvent};
use pptp_proto::crypto::Password;
use pptp_proto::time::{Duration, Instant};
use support::{Args, Clock, GreSocket, Log};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::signal::unix::{signal, SignalKind};

const USAGE: &str =
    "usage: tokio_client --server ADDR --user U --password P [--mppe require|optional|none]
       [--ping ADDR --count N] [--duration SECONDS] [--quiet]";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut a = Args::from_env(USAGE);
    let server: Ipv4Addr = a
        .req("--server")
        .parse()
        .unwrap_or_else(|_| a.fail("--server: an IPv4 address"));
    let user = a.req("--user");
    let password =
        Password::new(&a.req("--password")).unwrap_or_else(|_| a.fail("--password: too long"));
    let mut config = ClientConfig::new(&user, password).with_seed_bytes(support::os_seed());
    if let Some(m) = a.opt("--mppe") {
        support::set_mppe(&mut config.ppp, &m).unwrap_or_else(|e| a.fail(&e));
    }
    let ping: Option<Ipv4Addr> = a.opt("--ping").map(|p| {
        p.parse()
            .unwrap_or_else(|_| a.fail("--ping: an IPv4 address"))
    });
    let count = a.parse("--count", 4u16);
    let duration = a.opt("--duration").map(|s| {
        Duration::from_secs_f64(s.parse().unwrap_or_else(|_| a.fail("--duration: seconds")))
    });
    let quiet = a.flag("--quiet");
    a.finish();

    match run(server, config, ping, count, duration, quiet).await {
        Ok(true) => {}
        Ok(false) => exit(1),
        Err(e) => {
            eprintln!("tokio_client: {e}");
            exit(1)
        }
    }
}

/// Runs one session; `Ok(true)` if it came up and every ping was answered.
async fn run(
    server: Ipv4Addr,
    config: ClientConfig,
    ping: Option<Ipv4Addr>,
    count: u16,
    duration: Option<Duration>,
    quiet: bool,
) -> io::Result<bool> {
    let clock = Clock::start();
    let mut log = Log::new(clock, !quiet);
    let gre = GreSocket::open()?;
    gre.socket().set_nonblocking(true)?;
    // `AsyncFd::new` is deprecated in favour of an `unsafe` `register`: the
    // soundness condition is that the fd outlives its registration, which
    // holds because the AsyncFd owns the socket. We keep to safe code.
    #[allow(deprecated)]
    let gre = AsyncFd::new(gre)?;
    let mut tcp = TcpStream::connect((server, 1723)).await?;
    tcp.set_nodelay(true)?;
    log.info("", format_args!("connected to {server}:1723 (tokio)"));
    let mut sigint = signal(SignalKind::interrupt())?;

    let mut client = Client::new(config);
    client.start(clock.now());
    let (mut tcp_buf, mut gre_buf, mut out) =
        (vec![0u8; 16384], vec![0u8; 65536], vec![0u8; 65536]);
    let mut local = Ipv4Addr::UNSPECIFIED;
    let (mut up, mut sent, mut replies) = (false, 0u16, 0u16);
    let (mut next_ping, mut close_at) = (None::<Instant>, None::<Instant>);
    let mut tcp_open = true;
    loop {
        while let Some(b) = client.poll_stream_transmit() {
            log.stream("", 0, true, &b);
            if tcp_open && tcp.write_all(&b).await.is_err() {
                tcp_open = false;
            }
        }
        while let Some(d) = client.poll_datagram_transmit() {
            log.datagram("", true, &d);
            let _ = gre.get_ref().send_to(server, &d);
        }
        let mut down = false;
        while let Some(e) = client.poll_event() {
            match e {
                ClientEvent::Up {
                    local: l,
                    peer,
                    mppe,
                    ..
                } => {
                    up = true;
                    local = l;
                    log.info(
                        "",
                        format_args!(
                            "tunnel up: local {l}, remote {peer}, {}",
                            support::describe_ccp(mppe)
                        ),
                    );
                    if ping.is_some() {
                        next_ping = Some(clock.now() + Duration::from_millis(500));
                    }
                    if let Some(d) = duration {
                        close_at = Some(clock.now() + d);
                    }
                }
                ClientEvent::IpPacket(p) => {
                    replies += u16::from(support::echo_reply_seq(&p, 7).is_some());
                }
                ClientEvent::Down { reason } => {
                    log.info("", format_args!("tunnel down: {reason} [{reason:?}]"));
                    down = true;
                }
                _ => {}
            }
        }
        if down {
            break;
        }
        let now = clock.now();
        if let (Some(t), Some(dst)) = (next_ping, ping) {
            if t <= now && sent < count {
                let p = support::echo_request(local, dst, 7, sent);
                if let Ok(r) = client.send_ip(now, &p, &mut out) {
                    let _ = gre.get_ref().send_to(server, &out[r]);
                }
                sent += 1;
                next_ping = Some(now + Duration::from_millis(200));
            } else if t <= now {
                next_ping = None;
                if duration.is_none() {
                    close_at = Some(now + Duration::from_secs(3));
                }
            }
        }
        if ping.is_some() && sent == count && replies >= count && duration.is_none() {
            close_at = close_at.map(|_| now);
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
        let sleep = tokio::time::sleep(
            next.map_or(std::time::Duration::from_secs(3600), |t| clock.until(t)),
        );
        tokio::select! {
            r = tcp.read(&mut tcp_buf), if tcp_open => match r {
                Ok(n) if n > 0 => {
                    log.stream("", 0, false, &tcp_buf[..n]);
                    client.handle_stream(clock.now(), &tcp_buf[..n]);
                }
                _ => {
                    tcp_open = false;
                    client.handle_stream_closed(clock.now());
                }
            },
            guard = gre.readable() => {
                let mut guard = guard?;
                match guard.try_io(|g| g.get_ref().recv(&mut gre_buf)) {
                    Ok(Ok((src, range))) if src == server => {
                        let d = &mut gre_buf[range];
                        log.datagram("", false, d);
                        if let Ok(Some(ip)) = client.handle_datagram(clock.now(), d) {
                            replies += u16::from(support::echo_reply_seq(ip, 7).is_some());
                        }
                    }
                    Ok(_) | Err(_) => {} // someone else's GRE, a bad header, or not ready
                }
            },
            _ = sigint.recv() => {
                log.info("", "interrupted: closing");
                client.close(clock.now());
            },
            _ = sleep => client.handle_timeout(clock.now()),
        }
    }
    if let Some(dst) = ping {
        println!("ping {dst}: {replies}/{sent} replies");
    }
    Ok(up && (ping.is_none() || replies >= count))
}
