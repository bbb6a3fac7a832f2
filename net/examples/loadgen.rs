//! A load generator: `--sessions N` PPTP clients in one process, to see how
//! many sessions a server holds and what each costs it.
//!
//! ```text
//! sudo cargo run --release -p pptp-net --example loadgen -- --server 10.98.0.1 \
//!     --user alice --password secret --sessions 1000 [--rate 200] [--hold 60] \
//!     [--source 10.98.1.1-10.98.1.40 | --source A,B,C] [--mppe MODE] [--echo SECONDS] \
//!     [--traffic PPS] [--max-loss FRACTION] [--timeout SECONDS] [--close-wait SECONDS] [--json]
//! ```
//!
//! Every client is the crate's [`Client`], unchanged, on one tokio thread: a
//! task per session owns its `TcpStream` (bound to the next `--source`
//! address, round-robin, so that one loadgen is not held to one address's
//! ephemeral ports or to a server's per-source connection limit) and its
//! `Client`. One raw GRE socket serves them all: a reader task hands each
//! packet to its session by the Call ID in the GRE key (RFC 2637 §4.1: the
//! receiver's, so ours; session `i` is given Call ID `i + 1`), and packets
//! are sent with our own IPv4 header (`IP_HDRINCL`) so that each comes from
//! the address its TCP connection uses, as the server checks.
//!
//! Sessions start at `--rate` per second; once each is up or failed
//! (`--timeout` bounds a setup), all stay up for `--hold` seconds, sending
//! `--traffic` ICMP echo requests per second each to the server's tunnel
//! address (0: none, idle but for LCP echoes), then close cleanly. A progress
//! line goes to stderr every 5 s; the report (to stdout, or JSON with
//! `--json` and the words to stderr) counts sessions attempted, up and
//! failed (by reason), those that went down after coming up, setup latency
//! (TCP connect start to [`ClientEvent::Up`]), the rate sessions came up,
//! echoes sent, answered and lost, and our own RSS and CPU time.
//!
//! Exit status 0 only if every session came up, none went down before we
//! closed it, and the echo loss is at most `--max-loss` (default 0).
//!
//! Memory per session is bounded: a queue of at most [`GRE_QUEUE`] GRE
//! packets, a few counters, the `Client` (whose queues the crate bounds);
//! read and write buffers are shared, since the thread does one thing at a
//! time. Needs root (or CAP_NET_RAW) for the GRE socket.

#[path = "support/mod.rs"]
mod support;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, IoSlice};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::process::exit;
use std::rc::Rc;

use etherparse::{IpNumber, Ipv4Header};
use pptp_proto::client::{Client, ClientConfig, ClientEvent, SessionDownReason};
use pptp_proto::crypto::Password;
use pptp_proto::ppp::session::DownReason;
use pptp_proto::time::{Duration, Instant};
use pptp_proto::wire::gre::GreHeader;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use support::{Args, Clock, GreSocket};
use tokio::io::unix::AsyncFd;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};

const USAGE: &str = "usage: loadgen --server ADDR[:PORT] --user U --password P --sessions N
       [--rate PER_SECOND] [--hold SECONDS] [--source A,B,C|A-B] [--mppe MODE]
       [--echo SECONDS] [--traffic PPS] [--max-loss FRACTION] [--timeout SECONDS]
       [--close-wait SECONDS] [--json]";

/// GRE packets queued for one session before more are dropped (as a
/// full socket buffer would).
const GRE_QUEUE: usize = 16;

/// Time between the last echo request and the close, for the last replies.
const QUIESCE: std::time::Duration = std::time::Duration::from_secs(1);

/// What every session is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Set up, stay up, ping.
    Run,
    /// Stop pinging: the last replies come back.
    Quiesce,
    /// Close the session.
    Stop,
}

struct Options {
    server: SocketAddrV4,
    config: ClientConfig,
    sessions: usize,
    rate: f64,
    hold: std::time::Duration,
    sources: Sources,
    traffic: Option<Duration>,
    max_loss: f64,
    timeout: std::time::Duration,
    close_wait: std::time::Duration,
    json: bool,
}

/// `--source`: addresses to bind to, round-robin.
struct Sources(Vec<(u32, u32)>);

impl Sources {
    fn count(&self) -> u64 {
        self.0.iter().map(|(a, b)| u64::from(b - a) + 1).sum()
    }

    /// The address for session `i`; `None` without `--source`.
    fn nth(&self, i: usize) -> Option<Ipv4Addr> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let mut k = i as u64 % total;
        for (a, b) in &self.0 {
            let n = u64::from(b - a) + 1;
            if k < n {
                return Some(Ipv4Addr::from(*a + k as u32));
            }
            k -= n;
        }
        None
    }
}

fn options() -> Options {
    let mut a = Args::from_env(USAGE);
    let server = a.req("--server");
    let server = support::ipv4_and_port(&server, 1723)
        .unwrap_or_else(|| a.fail("--server: an IPv4 ADDR or ADDR:PORT"));
    let user = a.req("--user");
    let password =
        Password::new(&a.req("--password")).unwrap_or_else(|_| a.fail("--password: too long"));
    let mut config = ClientConfig::new(&user, password);
    if let Some(m) = a.opt("--mppe") {
        support::set_mppe(&mut config.ppp, &m).unwrap_or_else(|e| a.fail(&e));
    }
    if let Some(s) = a.opt("--echo") {
        let s = s.parse().unwrap_or_else(|_| a.fail("--echo: seconds"));
        support::set_echo(&mut config.ppp, s);
    }
    let sessions: usize = a.parse("--sessions", 1);
    if sessions == 0 || sessions > usize::from(u16::MAX) {
        a.fail("--sessions: 1 to 65535 (each session has its own Call ID)");
    }
    let rate: f64 = a.parse("--rate", 100.0);
    if !(rate > 0.0 && rate.is_finite()) {
        a.fail("--rate: sessions per second, more than 0");
    }
    let seconds = |a: &mut Args, name: &str, default: f64| {
        let s: f64 = a.parse(name, default);
        if !(s >= 0.0 && s.is_finite()) {
            a.fail(&format!("{name}: seconds, 0 or more"));
        }
        std::time::Duration::from_secs_f64(s)
    };
    let hold = seconds(&mut a, "--hold", 10.0);
    let timeout = seconds(&mut a, "--timeout", 30.0);
    let close_wait = seconds(&mut a, "--close-wait", 15.0);
    let pps: f64 = a.parse("--traffic", 0.0);
    if !(pps >= 0.0 && pps.is_finite()) {
        a.fail("--traffic: echo requests per second per session, 0 or more");
    }
    let traffic = (pps > 0.0).then(|| Duration::from_secs_f64(1.0 / pps));
    let max_loss: f64 = a.parse("--max-loss", 0.0);
    let sources = a.opt("--source").map_or(Sources(Vec::new()), |s| {
        let ranges =
            support::pppd::parse_ranges(&s).unwrap_or_else(|e| a.fail(&format!("--source {e}")));
        Sources(
            ranges
                .into_iter()
                .map(|(x, y)| (u32::from(x), u32::from(y)))
                .filter(|(x, y)| x <= y)
                .collect(),
        )
    });
    let json = a.flag("--json");
    a.finish();
    Options {
        server,
        config,
        sessions,
        rate,
        hold,
        sources,
        traffic,
        max_loss,
        timeout,
        close_wait,
        json,
    }
}

/// What the sessions did, for the progress lines and the report.
#[derive(Default)]
struct Stats {
    attempted: u64,
    /// Started, neither up nor failed yet.
    pending: u64,
    up_now: u64,
    ever_up: u64,
    /// Failed before coming up, by reason.
    failed: BTreeMap<String, u64>,
    /// Went down after coming up, before we closed them, by reason.
    dropped: BTreeMap<String, u64>,
    /// Setup latencies, microseconds.
    latencies: Vec<u32>,
    first_start: Option<std::time::Instant>,
    last_up: Option<std::time::Instant>,
    echo_sent: u64,
    echo_answered: u64,
    /// After our close: ended with our LCP Terminate (LocalClose).
    closed_clean: u64,
    /// After our close: ended otherwise, or not within `--close-wait`.
    closed_other: BTreeMap<String, u64>,
    /// Session tasks still running.
    live: u64,
    /// The first [`MAX_SLOW`] setups that took [`SLOW_US`] or more: when
    /// each step was done.
    slow: Vec<String>,
    /// GRE packets the clients refused, by error.
    gre_rejected: BTreeMap<String, u64>,
}

impl Stats {
    fn fail(&mut self, why: String) {
        self.pending -= 1;
        *self.failed.entry(why).or_default() += 1;
    }

    fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }

    fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }
}

/// What the session tasks share (one thread: `RefCell`s, borrowed only
/// between awaits).
struct Shared {
    clock: Clock,
    server: SocketAddrV4,
    gre: AsyncFd<GreSocket>,
    /// Call ID → its session's GRE queue.
    routes: RefCell<HashMap<u16, mpsc::Sender<Vec<u8>>>>,
    stats: RefCell<Stats>,
    /// For TCP reads and for `send_ip`.
    scratch: RefCell<Vec<u8>>,
    config: ClientConfig,
    base_seed: u64,
    sources: Sources,
    traffic: Option<Duration>,
    timeout: std::time::Duration,
    close_wait: Duration,
}

impl Shared {
    /// Sends one GRE packet from `src` (our IPv4 header, `IP_HDRINCL`).
    fn send_gre(&self, src: Ipv4Addr, gre: &[u8]) {
        let Ok(len) = u16::try_from(gre.len()) else {
            return;
        };
        let Ok(mut ip) = Ipv4Header::new(
            len,
            64,
            IpNumber::GRE,
            src.octets(),
            self.server.ip().octets(),
        ) else {
            return;
        };
        ip.dont_fragment = false;
        ip.header_checksum = ip.calc_header_checksum();
        let header = ip.to_bytes();
        let to = SockAddr::from(SocketAddrV4::new(*self.server.ip(), 0));
        // A full socket buffer drops the packet, as a lossy link would.
        let _ = self
            .gre
            .get_ref()
            .socket()
            .send_to_vectored(&[IoSlice::new(&header), IoSlice::new(gre)], &to);
    }

    /// Sends every GRE packet `client` has for the server.
    fn flush_datagrams(&self, client: &mut Client, src: Ipv4Addr) {
        while let Some(d) = client.poll_datagram_transmit() {
            self.send_gre(src, &d);
        }
    }
}

/// Removes a session's GRE route when its task ends.
struct Route(Rc<Shared>, u16);

impl Drop for Route {
    fn drop(&mut self) {
        self.0.routes.borrow_mut().remove(&self.1);
    }
}

/// Counts the task as live while it runs.
struct Live(Rc<Shared>);

impl Live {
    fn new(sh: &Rc<Shared>) -> Self {
        sh.stats.borrow_mut().live += 1;
        Live(sh.clone())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.stats.borrow_mut().live -= 1;
    }
}

/// A TCP connection to the server from `src` (any address if `None`).
async fn connect(server: SocketAddrV4, src: Option<Ipv4Addr>) -> io::Result<TcpStream> {
    let s = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    s.set_nonblocking(true)?;
    if let Some(a) = src {
        // The port is picked at connect time, unique per 4-tuple: many
        // more than the ~28k ephemeral ports per source address.
        nix::sys::socket::setsockopt(&s, nix::sys::socket::sockopt::IpBindAddressNoPort, &true)
            .map_err(io::Error::from)?;
        s.bind(&SockAddr::from(SocketAddrV4::new(a, 0)))?;
    }
    let socket = TcpSocket::from_std_stream(s.into());
    let tcp = socket.connect(SocketAddr::V4(server)).await?;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

/// A setup slower than this is described in the report (µs).
const SLOW_US: u128 = 1_000_000;
const MAX_SLOW: usize = 10;

/// When each setup step was done, ms after the TCP connect started: TCP
/// connected, control connection, call, authentication.
#[derive(Default)]
struct Marks([Option<u128>; 4]);

impl Marks {
    const STEPS: [&'static str; 4] = ["tcp", "control", "call", "auth"];

    fn set(&mut self, step: usize, started: std::time::Instant) {
        if let Some(m) = self.0.get_mut(step) {
            m.get_or_insert(started.elapsed().as_millis());
        }
    }

    /// The first step not done.
    fn waiting_for(&self) -> &'static str {
        let names = ["control connection", "call", "authentication", "IPCP/CCP"];
        match self.0.iter().skip(1).position(Option::is_none) {
            Some(k) => names[k],
            None => names[3],
        }
    }
}

impl std::fmt::Display for Marks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (k, (name, m)) in Self::STEPS.iter().zip(&self.0).enumerate() {
            let sep = if k == 0 { "" } else { ", " };
            match m {
                Some(ms) => write!(f, "{sep}{name} {ms} ms")?,
                None => write!(f, "{sep}{name} -")?,
            }
        }
        Ok(())
    }
}

/// Where a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Setup,
    Up,
    /// We called `close`; `was_up` says whether it had come up.
    Closing {
        was_up: bool,
    },
}

/// One session, from TCP connect to the end; records what happened.
async fn session(sh: Rc<Shared>, i: usize, mut phase: watch::Receiver<Phase>) {
    let _live = Live::new(&sh);
    let started = std::time::Instant::now();
    {
        let mut st = sh.stats.borrow_mut();
        st.attempted += 1;
        st.pending += 1;
        st.first_start.get_or_insert(started);
    }
    let call_id = (i % usize::from(u16::MAX)) as u16 + 1;
    let tcp = match tokio::time::timeout(sh.timeout, connect(sh.server, sh.sources.nth(i))).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => return sh.stats.borrow_mut().fail(format!("tcp connect: {e}")),
        Err(_) => return sh.stats.borrow_mut().fail("timeout (tcp connect)".into()),
    };
    let mut marks = Marks::default();
    marks.set(0, started);
    let src = match tcp.local_addr() {
        Ok(SocketAddr::V4(a)) => *a.ip(),
        _ => {
            return sh
                .stats
                .borrow_mut()
                .fail("tcp: no IPv4 local address".into())
        }
    };
    let (tx, mut rx) = mpsc::channel(GRE_QUEUE);
    sh.routes.borrow_mut().insert(call_id, tx);
    let _route = Route(sh.clone(), call_id);

    let mut config = sh.config.clone();
    config.control.call_ids = (call_id, call_id);
    // Distinct per session, all from one OS seed (a splitmix64 step apart).
    let config = config.with_seed(sh.base_seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut client = Client::new(config);
    let clock = sh.clock;
    let deadline = clock.now() + Duration::from_micros(sh.timeout.as_micros() as u64);
    client.start(clock.now());

    let mut state = State::Setup;
    let mut tcp = tcp;
    let mut tcp_open = true;
    let (mut local, mut peer) = (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED);
    let (mut sent, mut answered) = (0u32, 0u32);
    let mut next_ping: Option<Instant> = None;
    let mut close_by: Option<Instant> = None;
    loop {
        while let Some(b) = client.poll_stream_transmit() {
            if tcp_open && tcp.write_all(&b).await.is_err() {
                tcp_open = false;
                client.handle_stream_closed(clock.now());
            }
        }
        sh.flush_datagrams(&mut client, src);
        while let Some(e) = client.poll_event() {
            match e {
                ClientEvent::Up {
                    local: l, peer: p, ..
                } => {
                    (local, peer) = (l, p);
                    if state == State::Setup {
                        state = State::Up;
                        let at = std::time::Instant::now();
                        let mut st = sh.stats.borrow_mut();
                        st.pending -= 1;
                        st.up_now += 1;
                        st.ever_up += 1;
                        let us = at.duration_since(started).as_micros();
                        st.latencies.push(u32::try_from(us).unwrap_or(u32::MAX));
                        st.last_up = Some(at);
                        if us >= SLOW_US && st.slow.len() < MAX_SLOW {
                            st.slow.push(format!(
                                "session {i} from {src}: {marks}, up {} ms",
                                us / 1000
                            ));
                        }
                        if let Some(iv) = sh.traffic {
                            // Spread the sessions' pings over the interval.
                            let spread = iv.as_micros() as u64 * (i as u64 % 97) / 97;
                            next_ping = Some(clock.now() + Duration::from_micros(spread));
                        }
                    }
                }
                ClientEvent::IpPacket(p) => {
                    count_reply(&sh, &p, call_id, sent, &mut answered);
                }
                ClientEvent::Connected { .. } => marks.set(1, started),
                ClientEvent::CallUp { .. } => marks.set(2, started),
                ClientEvent::Authenticated => marks.set(3, started),
                ClientEvent::Down { reason } => {
                    return record_down(&sh, state, &reason);
                }
                _ => {}
            }
        }
        let now = clock.now();
        let current = *phase.borrow_and_update();
        if current == Phase::Stop && !matches!(state, State::Closing { .. }) {
            if state == State::Setup {
                sh.stats
                    .borrow_mut()
                    .fail("stopped before it came up".into());
            }
            state = State::Closing {
                was_up: state == State::Up,
            };
            close_by = Some(now + sh.close_wait);
            client.close(now);
            continue;
        }
        if state == State::Setup && now >= deadline {
            return sh
                .stats
                .borrow_mut()
                .fail(format!("timeout waiting for {}", marks.waiting_for()));
        }
        if close_by.is_some_and(|t| now >= t) {
            let mut st = sh.stats.borrow_mut();
            st.up_now -= u64::from(state == State::Closing { was_up: true });
            *st.closed_other.entry("close timeout".into()).or_default() += 1;
            return;
        }
        if let (Some(t), Some(iv)) = (next_ping, sh.traffic) {
            if state == State::Up && current == Phase::Run && now >= t {
                let p = support::echo_request(local, peer, call_id, sent as u16);
                let mut out = sh.scratch.borrow_mut();
                if let Ok(r) = client.send_ip(now, &p, &mut out) {
                    sh.send_gre(src, &out[r]);
                    sent += 1;
                    sh.stats.borrow_mut().echo_sent += 1;
                }
                drop(out);
                // Catch up without a burst if we were late.
                next_ping = Some((t + iv).max(now));
                continue;
            }
        }
        let mut wake = client.poll_timeout();
        if state == State::Setup {
            wake = Some(wake.map_or(deadline, |w| w.min(deadline)));
        }
        if state == State::Up && current == Phase::Run {
            wake = [wake, next_ping].into_iter().flatten().min();
        }
        wake = [wake, close_by].into_iter().flatten().min();
        let sleep = tokio::time::sleep(
            wake.map_or(std::time::Duration::from_secs(3600), |t| clock.until(t)),
        );
        tokio::select! {
            // TCP first: the Outgoing-Call-Reply before the GRE it enables.
            biased;
            r = tcp.readable(), if tcp_open => {
                if r.is_err() {
                    tcp_open = false;
                    client.handle_stream_closed(clock.now());
                    continue;
                }
                let mut buf = sh.scratch.borrow_mut();
                match tcp.try_read(&mut buf) {
                    Ok(n) if n > 0 => client.handle_stream(clock.now(), &buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Ok(_) | Err(_) => {
                        tcp_open = false;
                        client.handle_stream_closed(clock.now());
                    }
                }
            },
            d = rx.recv() => {
                if let Some(mut d) = d {
                    // GRE that overtakes the Outgoing-Call-Reply is kept by
                    // the Client itself until the call is up.
                    match client.handle_datagram(clock.now(), &mut d) {
                        Ok(Some(ip)) => count_reply(&sh, ip, call_id, sent, &mut answered),
                        Ok(None) => {}
                        Err(e) => {
                            let when = if state == State::Setup { "in setup" } else { "later" };
                            let why = format!("{e:?} {when}");
                            *sh.stats.borrow_mut().gre_rejected.entry(why).or_default() += 1;
                        }
                    }
                }
            },
            r = phase.changed() => {
                if r.is_err() {
                    return; // the main task is gone
                }
            },
            _ = sleep => client.handle_timeout(clock.now()),
        }
    }
}

/// An IP packet from the tunnel: counts it if it answers one of our echoes.
fn count_reply(sh: &Shared, ip: &[u8], id: u16, sent: u32, answered: &mut u32) {
    if support::echo_reply_seq(ip, id).is_some() && *answered < sent {
        *answered += 1;
        sh.stats.borrow_mut().echo_answered += 1;
    }
}

/// `ClientEvent::Down` in `state`.
fn record_down(sh: &Shared, state: State, reason: &SessionDownReason) {
    let mut st = sh.stats.borrow_mut();
    let why = format!("Down({reason:?})");
    match state {
        State::Setup => st.fail(why),
        State::Up => {
            st.up_now -= 1;
            *st.dropped.entry(why).or_default() += 1;
        }
        State::Closing { was_up } => {
            st.up_now -= u64::from(was_up);
            if matches!(reason, SessionDownReason::Ppp(DownReason::LocalClose)) {
                st.closed_clean += 1;
            } else {
                *st.closed_other.entry(why).or_default() += 1;
            }
        }
    }
}

/// The one GRE socket's reader: each packet from the server to its session,
/// by the Call ID in the key.
async fn gre_reader(sh: Rc<Shared>) {
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok(mut guard) = sh.gre.readable().await else {
            return;
        };
        // A batch at a time, so that the sessions get their turn.
        for _ in 0..256 {
            match guard.try_io(|g| g.get_ref().recv(&mut buf)) {
                Ok(Ok((src, range))) if src == *sh.server.ip() => {
                    let d = &buf[range];
                    let Ok((header, _)) = GreHeader::parse(d) else {
                        continue;
                    };
                    if let Some(tx) = sh.routes.borrow().get(&header.call_id) {
                        // Full: dropped, as a full socket buffer would.
                        let _ = tx.try_send(d.to_vec());
                    }
                }
                Ok(_) => {} // another host's GRE, not IPv4, an ICMP error
                Err(_would_block) => break,
            }
        }
        drop(guard);
        tokio::task::yield_now().await;
    }
}

/// Our resident set, kB (`VmRSS` of /proc/self/status).
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Our CPU time so far: (user, system) seconds.
fn cpu_seconds() -> (f64, f64) {
    use nix::sys::resource::{getrusage, UsageWho};
    use nix::sys::time::TimeValLike;
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(u) => (
            u.user_time().num_microseconds() as f64 / 1e6,
            u.system_time().num_microseconds() as f64 / 1e6,
        ),
        Err(_) => (0.0, 0.0),
    }
}

/// Raises the open-file limit to the hard limit: a socket per session.
fn raise_nofile(sessions: usize) {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) => {
            if soft < hard {
                if let Err(e) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
                    eprintln!("loadgen: RLIMIT_NOFILE {soft} -> {hard}: {e}");
                }
            }
            if hard < sessions as u64 + 64 {
                eprintln!(
                    "loadgen: warning: RLIMIT_NOFILE hard limit {hard} is below {} sessions + 64",
                    sessions
                );
            }
        }
        Err(e) => eprintln!("loadgen: RLIMIT_NOFILE: {e}"),
    }
}

/// The `q` quantile of sorted `v`, in milliseconds.
fn quantile_ms(v: &[u32], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let k = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    f64::from(v[k]) / 1000.0
}

fn progress_line(sh: &Shared, since: std::time::Instant) -> String {
    let st = sh.stats.borrow();
    format!(
        "loadgen {:7.1}s: attempted {} pending {} up {} failed {} dropped {} echo {}/{} rss {} kB",
        since.elapsed().as_secs_f64(),
        st.attempted,
        st.pending,
        st.up_now,
        st.failed_total(),
        st.dropped_total(),
        st.echo_answered,
        st.echo_sent,
        rss_kb()
    )
}

async fn progress(sh: Rc<Shared>, since: std::time::Instant) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    tick.tick().await;
    loop {
        tick.tick().await;
        eprintln!("{}", progress_line(&sh, since));
    }
}

fn main() {
    let o = options();
    raise_nofile(o.sessions);
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: tokio: {e}");
            exit(1)
        }
    };
    let local = tokio::task::LocalSet::new();
    let code = local.block_on(&rt, run(o));
    exit(code)
}

/// Sleeps `d`, or less if Ctrl-C came.
async fn sleep_or_interrupt(d: std::time::Duration, interrupted: &std::cell::Cell<bool>) {
    let end = tokio::time::Instant::now() + d;
    while !interrupted.get() && tokio::time::Instant::now() < end {
        let step = end.saturating_duration_since(tokio::time::Instant::now());
        tokio::time::sleep(step.min(std::time::Duration::from_millis(50))).await;
    }
}

async fn run(o: Options) -> i32 {
    let gre = match open_gre() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("loadgen: raw GRE socket (root needed): {e}");
            return 1;
        }
    };
    let seed = support::os_seed();
    let mut base = [0u8; 8];
    base.copy_from_slice(&seed[..8]);
    let sh = Rc::new(Shared {
        clock: Clock::start(),
        server: o.server,
        gre,
        routes: RefCell::new(HashMap::new()),
        stats: RefCell::new(Stats::default()),
        scratch: RefCell::new(vec![0u8; 65536]),
        config: o.config,
        base_seed: u64::from_le_bytes(base),
        sources: o.sources,
        traffic: o.traffic,
        timeout: o.timeout,
        close_wait: Duration::from_micros(o.close_wait.as_micros() as u64),
    });
    let started = std::time::Instant::now();
    let (phase_tx, phase_rx) = watch::channel(Phase::Run);
    tokio::task::spawn_local(gre_reader(sh.clone()));
    tokio::task::spawn_local(progress(sh.clone(), started));
    let interrupted = Rc::new(std::cell::Cell::new(false));
    {
        let interrupted = interrupted.clone();
        tokio::task::spawn_local(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("loadgen: interrupted: closing every session");
                interrupted.set(true);
            }
        });
    }
    let sources = sh.sources.count();
    eprintln!(
        "loadgen: {} sessions to {} at {}/s from {}, hold {} s",
        o.sessions,
        o.server,
        o.rate,
        if sources == 0 {
            "the default address".to_string()
        } else {
            format!("{sources} source addresses")
        },
        o.hold.as_secs_f64()
    );

    // The ramp.
    let t0 = tokio::time::Instant::now();
    let mut spawned = 0u64;
    for i in 0..o.sessions {
        if interrupted.get() {
            break;
        }
        tokio::time::sleep_until(t0 + std::time::Duration::from_secs_f64(i as f64 / o.rate)).await;
        tokio::task::spawn_local(session(sh.clone(), i, phase_rx.clone()));
        spawned += 1;
    }
    // Every session up or failed (each within --timeout).
    loop {
        {
            let st = sh.stats.borrow();
            if st.attempted == spawned && st.pending == 0 {
                break;
            }
        }
        if interrupted.get() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let ramp = t0.elapsed();
    eprintln!("{}", progress_line(&sh, started));
    eprintln!("loadgen: ramp done in {:.1} s: holding", ramp.as_secs_f64());

    // The hold.
    let (hold_user0, hold_sys0) = cpu_seconds();
    let hold_start = std::time::Instant::now();
    sleep_or_interrupt(o.hold, &interrupted).await;
    let hold_seconds = hold_start.elapsed().as_secs_f64();
    let (hold_user1, hold_sys1) = cpu_seconds();
    let rss_hold = rss_kb();
    let up_at_hold_end = sh.stats.borrow().up_now;
    if sh.traffic.is_some() {
        let _ = phase_tx.send(Phase::Quiesce);
        tokio::time::sleep(QUIESCE).await;
    }

    // The close, bounded.
    let _ = phase_tx.send(Phase::Stop);
    let close_start = std::time::Instant::now();
    let close_limit = o.close_wait + std::time::Duration::from_secs(1);
    while sh.stats.borrow().live > 0 && close_start.elapsed() < close_limit {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let close_seconds = close_start.elapsed().as_secs_f64();
    let (user, sys) = cpu_seconds();

    let mut st = sh.stats.borrow_mut();
    let still_live = st.live;
    st.latencies.sort_unstable();
    let lat = &st.latencies;
    let (p50, p90, p99, max) = (
        quantile_ms(lat, 0.5),
        quantile_ms(lat, 0.9),
        quantile_ms(lat, 0.99),
        quantile_ms(lat, 1.0),
    );
    let up_span = match (st.first_start, st.last_up) {
        (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
        _ => 0.0,
    };
    let rate_up = if up_span > 0.0 {
        st.ever_up as f64 / up_span
    } else {
        0.0
    };
    let lost = st.echo_sent.saturating_sub(st.echo_answered);
    let loss = if st.echo_sent > 0 {
        lost as f64 / st.echo_sent as f64
    } else {
        0.0
    };
    let failed = st.failed_total();
    let dropped = st.dropped_total();
    let pass = st.ever_up == o.sessions as u64
        && failed == 0
        && dropped == 0
        && loss <= o.max_loss
        && !interrupted.get();
    let hold_cpu = (hold_user1 - hold_user0) + (hold_sys1 - hold_sys0);

    let reasons = |m: &BTreeMap<String, u64>| {
        if m.is_empty() {
            String::new()
        } else {
            let v: Vec<String> = m.iter().map(|(k, n)| format!("{n} {k}")).collect();
            format!(" ({})", v.join(", "))
        }
    };
    let report = [
        format!(
            "sessions: {} attempted, {} up, {} failed{}",
            st.attempted,
            st.ever_up,
            failed,
            reasons(&st.failed)
        ),
        format!(
            "went down before we closed them: {dropped}{}; up at the end of the hold: {up_at_hold_end}",
            reasons(&st.dropped)
        ),
        format!(
            "setup latency (TCP connect to Up): p50 {p50:.1} ms, p90 {p90:.1} ms, p99 {p99:.1} ms, max {max:.1} ms"
        ),
        format!(
            "established: {rate_up:.1} sessions/s ({} up in {up_span:.2} s); ramp {:.2} s; hold {hold_seconds:.1} s",
            st.ever_up,
            ramp.as_secs_f64()
        ),
        format!(
            "echo: {} sent, {} answered, {lost} lost ({:.4} %)",
            st.echo_sent,
            st.echo_answered,
            loss * 100.0
        ),
        format!(
            "close: {} clean, {} otherwise{}, {still_live} unfinished, in {close_seconds:.2} s",
            st.closed_clean,
            st.closed_other.values().sum::<u64>(),
            reasons(&st.closed_other)
        ),
        format!(
            "loadgen: RSS {rss_hold} kB during the hold ({:.1} kB per session); CPU {user:.2} s user + {sys:.2} s system, {:.1} % of a core during the hold",
            rss_hold as f64 / o.sessions as f64,
            if hold_seconds > 0.0 { hold_cpu / hold_seconds * 100.0 } else { 0.0 }
        ),
    ];
    let mut report: Vec<String> = report.into();
    if !st.gre_rejected.is_empty() {
        report.push(format!(
            "GRE packets refused by the clients:{}",
            reasons(&st.gre_rejected)
        ));
    }
    for s in &st.slow {
        report.push(format!("slow setup: {s}"));
    }
    report.push((if pass { "PASS" } else { "FAIL" }).to_string());
    for line in &report {
        if o.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
    if o.json {
        let summary = serde_json::json!({
            "sessions": o.sessions,
            "attempted": st.attempted,
            "up": st.ever_up,
            "failed": failed,
            "failed_reasons": st.failed,
            "dropped": dropped,
            "dropped_reasons": st.dropped,
            "up_at_hold_end": up_at_hold_end,
            "setup_ms": { "p50": p50, "p90": p90, "p99": p99, "max": max },
            "rate": rate_up,
            "ramp_seconds": ramp.as_secs_f64(),
            "hold_seconds": hold_seconds,
            "echo": { "sent": st.echo_sent, "answered": st.echo_answered, "lost": lost, "loss": loss },
            "closed_clean": st.closed_clean,
            "closed_other": st.closed_other,
            "unfinished": still_live,
            "rss_kb": rss_hold,
            "cpu_seconds": { "user": user, "system": sys, "hold": hold_cpu },
            "slow": st.slow,
            "gre_rejected": st.gre_rejected,
            "pass": pass,
        });
        println!("{summary}");
    }
    i32::from(!pass)
}

/// The shared GRE socket: non-blocking, our own IPv4 headers, big buffers.
fn open_gre() -> io::Result<AsyncFd<GreSocket>> {
    let gre = GreSocket::open()?;
    let s = gre.socket();
    s.set_nonblocking(true)?;
    s.set_header_included_v4(true)?;
    // Capped by net.core.[rw]mem_max; more is better for many sessions.
    let _ = s.set_recv_buffer_size(8 << 20);
    let _ = s.set_send_buffer_size(8 << 20);
    // `AsyncFd::new` is deprecated in favour of an `unsafe` `register`: the
    // soundness condition is that the fd outlives its registration, which
    // holds because the AsyncFd owns the socket. We keep to safe code.
    #[allow(deprecated)]
    AsyncFd::new(gre)
}
