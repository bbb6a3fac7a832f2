//! An ad-hoc load for `tests/tokio_server.sh load` (until
//! `examples/loadgen.rs` exists): N [`Client`]s in one process, one tokio
//! task each over its own TCP connection, sharing one raw GRE socket whose
//! datagrams go to the client named by the Call ID in the GRE key (client
//! `i` has Call ID `i`, so none collide, unlike N client processes with
//! random Call IDs on one host). Each session pings the server's tunnel
//! address every PING seconds while up (default 1; 0: never; none in its
//! last 2 s), stays up HOLD seconds, then closes. Its TCP connections come
//! from the SOURCES addresses in turn (default: the kernel's choice), so
//! that more than one address's ephemeral ports can be used.
//!
//! Does nothing unless `PPTP_TS_LOAD="SERVER TUNNEL SESSIONS RATE HOLD
//! [PING [SOURCES,...]]"` is set (root: raw socket). Prints one `LOAD ...`
//! summary line.

#[path = "../examples/support/mod.rs"]
#[allow(unused)]
mod support;

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use pptp_proto::client::{Client, ClientConfig, ClientEvent};
use pptp_proto::crypto::Password;
use pptp_proto::time::{Duration, Instant};
use support::{Clock, GreSocket};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

#[derive(Default, Debug)]
struct Outcome {
    /// From TCP connect to `Up`.
    setup: Option<StdDuration>,
    sent: u32,
    replies: u32,
    /// Why it ended before its hold was over, if it did.
    early: Option<String>,
}

struct Shared {
    server: Ipv4Addr,
    tunnel: Ipv4Addr,
    /// One raw socket per source address (bound to it, so that GRE leaves
    /// from the address its TCP did, as the server checks), or one unbound.
    gres: Vec<AsyncFd<GreSocket>>,
    clock: Clock,
    hold: Duration,
    ping: Option<Duration>,
    sources: Vec<Ipv4Addr>,
    up_now: AtomicUsize,
    up_peak: AtomicUsize,
}

async fn session(i: u16, s: Arc<Shared>, mut gre_in: mpsc::Receiver<Vec<u8>>) -> Outcome {
    let mut o = Outcome::default();
    let gre = &s.gres[usize::from(i) % s.gres.len()];
    let start = std::time::Instant::now();
    let mut tcp = match connect(&s, i).await {
        Ok(t) => t,
        Err(e) => {
            o.early = Some(format!("TCP: {e}"));
            return o;
        }
    };
    let _ = tcp.set_nodelay(true);
    let Ok(password) = Password::new("secret") else {
        return o;
    };
    let mut config = ClientConfig::new("alice", password).with_seed(u64::from(i) + 1);
    config.control.call_ids = (i, i);
    let mut client = Client::new(config);
    client.start(s.clock.now());
    let (mut buf, mut out) = ([0u8; 2048], [0u8; 2048]);
    let (mut local, mut next_ping, mut close_at) = (Ipv4Addr::UNSPECIFIED, None::<Instant>, None);
    let mut closing = false;
    loop {
        while let Some(b) = client.poll_stream_transmit() {
            if tcp.write_all(&b).await.is_err() {
                o.early.get_or_insert_with(|| "TCP write".into());
            }
        }
        while let Some(d) = client.poll_datagram_transmit() {
            let _ = gre.get_ref().send_to(s.server, &d);
        }
        while let Some(e) = client.poll_event() {
            match e {
                ClientEvent::Up { local: l, .. } => {
                    o.setup = Some(start.elapsed());
                    local = l;
                    let now = s.clock.now();
                    next_ping = s.ping.map(|_| now + Duration::from_millis(500));
                    close_at = Some(now + s.hold);
                    let up = s.up_now.fetch_add(1, Ordering::Relaxed) + 1;
                    s.up_peak.fetch_max(up, Ordering::Relaxed);
                }
                ClientEvent::IpPacket(p) => {
                    o.replies += u32::from(support::echo_reply_seq(&p, 7).is_some());
                }
                ClientEvent::Down { reason } => {
                    if o.setup.is_some() {
                        s.up_now.fetch_sub(1, Ordering::Relaxed);
                    }
                    if !closing {
                        o.early = Some(format!("{reason:?}"));
                    }
                    return o;
                }
                _ => {}
            }
        }
        let now = s.clock.now();
        // No ping in the last 2 s of the hold: each has time to come back.
        let quiet_end = close_at.is_some_and(|t| now + Duration::from_secs(2) >= t);
        if next_ping.is_some_and(|t| t <= now) && !closing && !quiet_end {
            let p = support::echo_request(local, s.tunnel, 7, o.sent as u16);
            if let Ok(r) = client.send_ip(now, &p, &mut out) {
                let _ = gre.get_ref().send_to(s.server, &out[r]);
            }
            o.sent += 1;
            next_ping = s.ping.map(|p| now + p);
        }
        if close_at.is_some_and(|t| t <= now) {
            close_at = None;
            closing = true;
            client.close(now);
            continue;
        }
        let next = [client.poll_timeout(), next_ping, close_at]
            .into_iter()
            .flatten()
            .min();
        let sleep =
            tokio::time::sleep(next.map_or(StdDuration::from_secs(3600), |t| s.clock.until(t)));
        tokio::select! {
            // TCP first: GRE that overtook the Outgoing-Call-Reply in our
            // own queues would be dropped by a client whose call is not up.
            biased;
            r = tcp.read(&mut buf) => match r {
                Ok(n) if n > 0 => client.handle_stream(s.clock.now(), &buf[..n]),
                _ => client.handle_stream_closed(s.clock.now()),
            },
            d = gre_in.recv() => {
                let Some(mut d) = d else { return o };
                if let Ok(Some(ip)) = client.handle_datagram(s.clock.now(), &mut d) {
                    o.replies += u32::from(support::echo_reply_seq(ip, 7).is_some());
                }
            }
            _ = sleep => client.handle_timeout(s.clock.now()),
        }
    }
}

/// A TCP connection to the server, from the `i`th source in turn.
async fn connect(s: &Shared, i: u16) -> std::io::Result<TcpStream> {
    if s.sources.is_empty() {
        return TcpStream::connect((s.server, 1723)).await;
    }
    let from = s.sources[usize::from(i) % s.sources.len()];
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind((from, 0).into())?;
    socket.connect((s.server, 1723).into()).await
}

/// Hands each GRE datagram to the session whose Call ID its key names.
async fn dispatch(s: Arc<Shared>, k: usize, to: Vec<mpsc::Sender<Vec<u8>>>) {
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok(mut guard) = s.gres[k].readable().await else {
            return;
        };
        while let Ok(Ok((src, range))) = guard.try_io(|g| g.get_ref().recv(&mut buf)) {
            let d = &buf[range];
            if src != s.server || d.len() < 8 {
                continue;
            }
            let call = usize::from(u16::from_be_bytes([d[6], d[7]]));
            if let Some(tx) = to.get(call) {
                let _ = tx.try_send(d.to_vec());
            }
        }
    }
}

fn percentile(sorted: &[StdDuration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[test]
fn load() {
    let Ok(spec) = std::env::var("PPTP_TS_LOAD") else {
        eprintln!("skipped: PPTP_TS_LOAD=\"SERVER TUNNEL SESSIONS RATE HOLD\" not set");
        return;
    };
    let w: Vec<&str> = spec.split_whitespace().collect();
    assert!(
        (5..=7).contains(&w.len()),
        "PPTP_TS_LOAD: SERVER TUNNEL SESSIONS RATE HOLD [PING [SOURCES]]"
    );
    let (server, tunnel): (Ipv4Addr, Ipv4Addr) = (w[0].parse().unwrap(), w[1].parse().unwrap());
    let n: u16 = w[2].parse().unwrap();
    let rate: f64 = w[3].parse().unwrap();
    let hold: u64 = w[4].parse().unwrap();
    let ping: u64 = w.get(5).map_or(1, |p| p.parse().unwrap());
    let sources: Vec<Ipv4Addr> = w.get(6).map_or(vec![], |l| {
        l.split(',').map(|a| a.parse().unwrap()).collect()
    });
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let open = |from: Option<Ipv4Addr>| {
            let gre = GreSocket::open().expect("raw GRE socket: root");
            if let Some(a) = from {
                let at = std::net::SocketAddrV4::new(a, 0);
                gre.socket().bind(&at.into()).expect("bind the GRE socket");
            }
            gre.socket().set_nonblocking(true).unwrap();
            let _ = gre.socket().set_recv_buffer_size(8 << 20);
            #[allow(deprecated)]
            AsyncFd::new(gre).unwrap()
        };
        let gres: Vec<_> = if sources.is_empty() {
            vec![open(None)]
        } else {
            sources.iter().map(|a| open(Some(*a))).collect()
        };
        let s = Arc::new(Shared {
            server,
            tunnel,
            gres,
            clock: Clock::start(),
            hold: Duration::from_secs(hold),
            ping: (ping > 0).then(|| Duration::from_secs(ping)),
            sources,
            up_now: AtomicUsize::new(0),
            up_peak: AtomicUsize::new(0),
        });
        let mut senders = vec![];
        let mut receivers = vec![];
        for _ in 0..=n {
            let (tx, rx) = mpsc::channel(64);
            senders.push(tx);
            receivers.push(Some(rx));
        }
        for k in 0..s.gres.len() {
            tokio::spawn(dispatch(s.clone(), k, senders.clone()));
        }
        let t0 = std::time::Instant::now();
        let mut tasks = Vec::new();
        for i in 1..=n {
            let rx = receivers[usize::from(i)].take().unwrap();
            tasks.push(tokio::spawn(session(i, s.clone(), rx)));
            tokio::time::sleep_until(
                tokio::time::Instant::from_std(t0) + StdDuration::from_secs_f64(f64::from(i) / rate),
            )
            .await;
        }
        let ramp = t0.elapsed();
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(t.await.unwrap());
        }
        let mut setups: Vec<StdDuration> = outcomes.iter().filter_map(|o| o.setup).collect();
        setups.sort();
        let up = setups.len();
        let early: Vec<&String> = outcomes.iter().filter_map(|o| o.early.as_ref()).collect();
        let (sent, replies): (u32, u32) = outcomes
            .iter()
            .fold((0, 0), |(a, b), o| (a + o.sent, b + o.replies));
        println!(
            "LOAD sessions={n} up={up} peak_up={} ramp_s={:.1} setup_ms_p50={:.1} p99={:.1} max={:.1} \
             pings={sent} replies={replies} ended_early={} total_s={:.1}",
            s.up_peak.load(Ordering::Relaxed),
            ramp.as_secs_f64(),
            percentile(&setups, 0.5),
            percentile(&setups, 0.99),
            percentile(&setups, 1.0),
            early.len(),
            t0.elapsed().as_secs_f64(),
        );
        for e in early.iter().take(5) {
            println!("LOAD early end: {e}");
        }
        assert_eq!(up, usize::from(n), "sessions up");
        assert!(early.is_empty(), "sessions ended early");
        assert_eq!(sent, replies, "pings answered");
    });
}
