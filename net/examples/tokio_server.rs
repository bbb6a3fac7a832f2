//! The PPTP server for many clients: one [`Server`] driven by one tokio
//! event loop on one thread, one raw GRE socket for every client, batched.
//!
//! ```text
//! sudo cargo run --release -p pptp-net --example tokio_server -- --listen 0.0.0.0 \
//!     --user alice --password secret --local 10.64.0.1 --pool 10.64.0.2-10.64.255.254 \
//!     [--secrets FILE] [--dns D] [--auth LIST|any] [--mppe MODE] [--stateful] \
//!     [--mru N] [--mtu N] [--echo SECONDS] [--tun NAME] [--quiet] \
//!     [--max-sessions N] [--max-per-source N] [--max-accepts-per-source N] [--stats SECONDS] \
//!     [--radius HOST[:PORT] --radius-secret S [--radius-acct-port P] \
//!      [--radius-coa-port P] [--radius-nas-id NAME]]
//! ```
//!
//! The options are `server`'s (see `examples/server.rs`), with these
//! differences: `--max-sessions N` refuses connections beyond N (default
//! 65 535, the Call ID space); `--max-per-source N` and
//! `--max-accepts-per-source N` are the library's admission control per
//! source address (connections at once, default 64; accepts per second,
//! default 16): raise them when many clients share one address (a load
//! generator, a big NAT); `--stats SECONDS` prints one line every SECONDS
//! (also on SIGUSR1, and at exit): sessions up and in total, GRE datagrams
//! in and out with the `recvmmsg`/`sendmmsg` calls and datagrams per call,
//! drops, the resident set size; `--quiet` silences every per-session line
//! (and the pppd-style packet log), leaving only start, stop, stats and the
//! rate-limited drop lines.
//!
//! `--radius` is `server`'s (the code is shared, `support/aaa.rs`): every
//! method is authenticated by the RADIUS server (its Framed-IP-Address
//! wins over the pool; `--auth eap` relays EAP to it), Accounting-Requests
//! go to its accounting port, and an RFC 5176 Disconnect-Request on
//! `--radius-coa-port` (default 3799, 0: off) closes the session it names,
//! answered with Disconnect-ACK or -NAK. Without it, accounts come from
//! `--user`/`--password` and `--secrets`, addresses from the account or
//! `--pool`.
//!
//! With `--tun NAME` one TUN device serves every session: its address is
//! `--local` (a /32), and each session's address gets a /32 route through
//! it with the session's MTU when the session comes up, removed when it
//! ends. The routes go through one long-lived `ip -force -batch -` process
//! fed line by line: one process for every route instead of one per
//! session (a fork per session hurts at thousands per second), the order of
//! add and delete for one address kept, and no netlink crate to add.
//! Packets from the TUN go to the session that owns their destination;
//! packets between clients are forwarded directly; ICMP echo requests to
//! `--local` are answered by the server (reassembled first if fragmented).
//!
//! # Design
//!
//! - One `current_thread` runtime: the [`Server`] is one state machine with
//!   one owner, and the per-packet work (MPPE, GRE) is cheap next to the
//!   system calls, which batching cuts; a second core is better spent on a
//!   second server process with its own address (or on the clients'
//!   traffic) than on locks.
//! - TCP: `TcpListener` accepts in the loop; each connection has one small
//!   task that reads (into a bounded channel shared by all, so a flood
//!   slows the readers, not the loop). The loop writes control messages
//!   itself with a non-blocking `try_write`, so that they leave before the
//!   GRE packets that follow them (a client drops LCP that overtakes the
//!   Outgoing-Call-Reply and waits for the 3 s retransmission: that was
//!   the median setup time before); what the socket does not take goes to
//!   the task's own bounded queue (32 messages), written in order. A client
//!   that does not read its control messages fills that queue and is
//!   dropped; the loop never waits on a socket.
//! - GRE: one raw socket through `AsyncFd`, read with `recvmmsg` (up to 64
//!   datagrams a wakeup) and written with `sendmmsg`: every datagram the
//!   loop produces in one turn goes out in one call (64 per call at most).
//!   [`Server::handle_datagram`] finds the session by our Call ID and
//!   refuses a datagram from another address than that session's peer;
//!   those are counted and logged at most once a second. Two clients
//!   behind one NAT address are two connections with two Call IDs: every
//!   map here is keyed by [`ConnectionId`] (or by tunnel address), never
//!   by the peer's address.
//! - Timers: one `sleep_until` at [`Server::poll_timeout`], re-armed every
//!   turn, then [`Server::handle_timeout`].
//! - RADIUS: the exchange blocks (a timeout of 3 s, 3 tries), so each
//!   Access-Request runs on tokio's blocking pool (`spawn_blocking`, at
//!   most one per session at a time) and its verdict comes back through
//!   the bounded input channel the TCP reads use; accounting records go,
//!   in order, to one worker thread through a bounded queue (4096: beyond,
//!   dropped, counted and logged); the Disconnect port is a `UdpSocket` in
//!   the loop, answered at once. At exit the worker gets 5 s to send the
//!   sessions' Stop records.
//! - Memory per session is bounded: two bounded channels, a task, map
//!   entries removed when the session ends; the batches are fixed.
//!
//! # Limits
//!
//! One core. IPv4 only. One descriptor per session: the hard
//! `RLIMIT_NOFILE` caps the sessions (it is raised to, not past; tested to
//! 19 000 sessions under a hard limit of 20 000, by `tests/tokio_server.sh`
//! with `examples/loadgen.rs`). With `--tun`, a route change the `ip`
//! process has not applied yet leaves a session's first packets from the
//! host unrouted for a moment. Ctrl-C or SIGTERM closes every session
//! (LCP Terminate, then the control connection), waits at most 5 s, and
//! exits; a second signal exits at once.
//!
//! Needs root (or CAP_NET_RAW, and CAP_NET_ADMIN for `--tun`).

#[path = "support/mod.rs"]
mod support;

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::{AsRawFd, RawFd};
use std::process::exit;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use bytes::Bytes;
use pptp_proto::crypto::Password;
use pptp_proto::ppp::auth::{Credentials, Verdict};
use pptp_proto::ppp::ipcp::IpAssignment;
use pptp_proto::server::{ConnectionId, Server, ServerError, ServerEvent};
use support::aaa::{self, Aaa};
use support::batch::{RecvBatch, SendBatch};
use support::pppd::{self, Pool, Secret};
use support::serve::{self, ServeOptions};
use support::{Args, Clock, GreSocket, Log};
use tokio::io::unix::AsyncFd;
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

/// Our name in `chap-secrets`' server column.
const NAME: &str = "pptp-proto";
/// Datagrams per `recvmmsg` / `sendmmsg`.
const BATCH: usize = 64;
/// Control messages queued for one connection's TCP before it is dropped.
const OUT_QUEUE: usize = 32;
/// TCP reads queued from all connections for the loop.
const IN_QUEUE: usize = 4096;
/// Reads and TUN packets handled per wakeup, so that no source starves the others.
const PER_TURN: usize = 64;
/// A stalled client's control connection is given up after this.
const WRITE_TIMEOUT: StdDuration = StdDuration::from_secs(10);
/// How long Ctrl-C waits for the sessions to close.
const STOP_GRACE: StdDuration = StdDuration::from_secs(5);

const USAGE: &str =
    "usage: tokio_server --listen ADDR[:PORT] (--user U --password P | --secrets FILE)
       --local A --pool RANGES [--dns D] [--auth LIST|any]
       [--mppe require|require-128|require-56|require-40|optional|none] [--stateful]
       [--mru N] [--mtu N] [--echo SECONDS] [--tun NAME] [--quiet]
       [--max-sessions N] [--max-per-source N] [--max-accepts-per-source N] [--stats SECONDS]
       [--radius HOST[:PORT] --radius-secret S [--radius-acct-port P]
        [--radius-coa-port P] [--radius-nas-id NAME]]";

struct Options {
    serve: ServeOptions,
    stats: Option<StdDuration>,
}

fn options() -> Options {
    let mut a = Args::from_env(USAGE);
    let mut serve = serve::parse(&mut a, NAME);
    serve.config.max_connections = a.parse("--max-sessions", usize::from(u16::MAX));
    serve.config.max_connections_per_source = a.parse("--max-per-source", 64);
    serve.config.max_accepts_per_source_per_second = a.parse("--max-accepts-per-source", 16);
    let stats = a.opt("--stats").map(|s| {
        let s: f64 = s.parse().unwrap_or_else(|_| a.fail("--stats: seconds"));
        if !(s > 0.0 && s < 1e6) {
            a.fail("--stats: seconds, more than 0");
        }
        StdDuration::from_secs_f64(s)
    });
    a.finish();
    Options { serve, stats }
}

/// What the connection tasks (and the RADIUS jobs) tell the loop.
enum Input {
    Tcp(ConnectionId, Vec<u8>),
    TcpClosed(ConnectionId),
    /// A RADIUS server's answer (or why there is none).
    Verdict(ConnectionId, Result<Verdict, String>),
}

/// One client's control connection and addresses.
struct Conn {
    /// Its TCP, shared with its task: the loop writes what the socket
    /// takes at once, so a control message leaves before the GRE packets
    /// that follow it (a client may drop GRE for a call it has not yet
    /// seen answered on TCP).
    tcp: Arc<TcpStream>,
    /// To its task, for what the socket did not take; dropped to close it.
    out: mpsc::Sender<Bytes>,
    /// Messages given to its task and not yet written: while there are
    /// any, the loop queues behind them rather than write.
    backlog: Arc<AtomicUsize>,
    /// The address its TCP (and so its GRE) comes from.
    peer: Ipv4Addr,
    /// `[ADDR:PORT] `, for its log lines.
    prefix: String,
    /// Its tunnel address, once up.
    address: Option<Ipv4Addr>,
    /// The name it authenticated as.
    user: String,
    /// The address leased from our pool.
    leased: Option<Ipv4Addr>,
    /// Its Acct-Session-Id, once accounting started.
    session_id: Option<String>,
}

/// A line at most once a second, with the count of those held back.
#[derive(Default)]
struct RateLimited {
    last: Option<std::time::Instant>,
    held: u64,
}

impl RateLimited {
    /// Whether to print now, and how many were held back before.
    fn admit(&mut self) -> Option<u64> {
        let now = std::time::Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < StdDuration::from_secs(1))
        {
            self.held += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held))
    }
}

/// Everything the loop owns but the sockets it waits on.
struct State {
    clock: Clock,
    quiet: bool,
    log: Log,
    server: Server,
    /// The GRE socket's descriptor, owned by the loop's `AsyncFd`.
    gre: RawFd,
    tx: SendBatch<BATCH>,
    conns: HashMap<ConnectionId, Conn>,
    /// Tunnel address → its session.
    routes: HashMap<Ipv4Addr, ConnectionId>,
    closing: HashSet<ConnectionId>,
    local: Ipv4Addr,
    dns: Option<Ipv4Addr>,
    accounts: Vec<Secret>,
    pool: Pool,
    tun: Option<Rc<AsyncFd<tun::Device>>>,
    tun_name: Option<String>,
    /// Lines for the `ip -batch` process (`--tun`).
    ip: Option<mpsc::Sender<String>>,
    /// Fragments addressed to our tunnel address, for the echo responder.
    reassembly: support::reassembly::Reassembly,
    drops: RateLimited,
    accept_errors: RateLimited,
    /// Sessions that came up since start.
    sessions_total: u64,
    /// Connections dropped because their output queue overflowed.
    tcp_overflows: u64,
    /// Connections refused at accept.
    refused: u64,
    /// Route commands lost (the `ip` process fell behind or died).
    route_drops: u64,
    /// `--radius`: the client and its accounting worker.
    aaa: Option<Aaa>,
    /// Where the RADIUS jobs send their verdicts.
    inputs: mpsc::Sender<Input>,
    /// Lines about full accounting queues.
    accounting_drops: RateLimited,
}

impl State {
    /// A per-session line, unless `--quiet`.
    fn say(&self, prefix: &str, line: impl std::fmt::Display) {
        if !self.quiet {
            self.log.info(prefix, line);
        }
    }

    fn prefix(&self, conn: ConnectionId) -> String {
        self.conns
            .get(&conn)
            .map_or_else(|| format!("[#{}] ", conn.0), |c| c.prefix.clone())
    }

    /// Queues everything the server produced and handles its events, then
    /// closes the connections whose sessions ended.
    fn drain(&mut self) {
        loop {
            let mut moved = false;
            while let Some((conn, bytes)) = self.server.poll_stream_transmit() {
                moved = true;
                let Some(c) = self.conns.get(&conn) else {
                    continue;
                };
                if !self.quiet {
                    self.log.stream(&c.prefix, conn.0, true, &bytes);
                }
                match write_tcp(c, bytes) {
                    Ok(()) => {}
                    // It does not read what we send: dropped.
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        self.tcp_overflows += 1;
                        self.closing.insert(conn);
                    }
                    // Its TCP failed or its task ended; TcpClosed is on the way.
                    Err(mpsc::error::TrySendError::Closed(_)) => {
                        self.closing.insert(conn);
                    }
                }
            }
            while let Some((conn, datagram)) = self.server.poll_datagram_transmit() {
                moved = true;
                if let Some(c) = self.conns.get(&conn) {
                    if !self.quiet {
                        self.log.datagram(&c.prefix, true, &datagram);
                    }
                    let to = SocketAddrV4::new(c.peer, 0);
                    self.tx.push(self.gre, to, &datagram);
                }
            }
            while let Some(event) = self.server.poll_event() {
                moved = true;
                self.event(event);
            }
            if !moved {
                break;
            }
        }
        let now = self.clock.now();
        for conn in std::mem::take(&mut self.closing) {
            // Dropping `out` lets its task write what is queued, then close.
            if let Some(c) = self.conns.remove(&conn) {
                self.say(&c.prefix, "connection closed");
                if let Some(a) = c.address {
                    self.routes.remove(&a);
                    self.route(format!("route del {a}/32 dev"), None);
                }
                if let Some(a) = c.leased {
                    self.pool.release(a);
                }
            }
            self.server.handle_stream_closed(now, conn);
            if !self.quiet {
                self.log.forget(conn.0);
            }
        }
    }

    /// Sends a route command to the `ip` process (with `--tun`): `what`,
    /// the TUN's name, and `mtu M`.
    fn route(&mut self, what: String, mtu: Option<usize>) {
        let (Some(ip), Some(name)) = (&self.ip, &self.tun_name) else {
            return;
        };
        let line = match mtu {
            Some(m) => format!("{what} {name} mtu {m}\n"),
            None => format!("{what} {name}\n"),
        };
        if ip.try_send(line).is_err() {
            self.route_drops += 1;
        }
    }

    fn event(&mut self, event: ServerEvent) {
        let now = self.clock.now();
        match event {
            ServerEvent::AuthRequest {
                connection,
                username,
                method,
                exchange,
            } if self.aaa.is_some() => {
                self.say(
                    &self.prefix(connection),
                    format_args!("{username:?} authenticates with {method:?} via RADIUS"),
                );
                let Some(c) = self.conns.get_mut(&connection) else {
                    return;
                };
                c.user.clone_from(&username);
                let peer = c.peer;
                let nas_port = self.server.call_id(connection).unwrap_or(0);
                let Some(aaa) = &self.aaa else { return };
                let job = aaa.authentication(username, exchange, nas_port, peer);
                let inputs = self.inputs.clone();
                // Blocks up to 9 s: on tokio's blocking pool, never here.
                tokio::task::spawn_blocking(move || {
                    let _ = inputs.blocking_send(Input::Verdict(connection, job()));
                });
            }
            ServerEvent::AuthRequest {
                connection,
                username,
                method,
                ..
            } => {
                let account = pppd::lookup(&self.accounts, &username, NAME);
                if !self.quiet {
                    let known = if account.is_some() {
                        ""
                    } else {
                        ": no such user"
                    };
                    self.log.info(
                        &self.prefix(connection),
                        format_args!("{username:?} authenticates with {method:?}{known}"),
                    );
                }
                let credentials = match account.map(|a| Password::new(&a.secret)) {
                    Some(Ok(p)) => Credentials::Password(p),
                    _ => Credentials::Reject,
                };
                if let Some(c) = self.conns.get_mut(&connection) {
                    c.user = username;
                }
                self.server
                    .provide_credentials(now, connection, credentials);
            }
            ServerEvent::AddressRequest {
                connection,
                granted: Some(address),
            } => {
                // RADIUS's Framed-IP-Address, unless a session has it.
                if self.routes.contains_key(&address) {
                    self.say(
                        &self.prefix(connection),
                        format_args!("RADIUS address {address} is in use: closing"),
                    );
                    self.server.close(now, connection);
                    return;
                }
                self.assign(connection, address);
            }
            ServerEvent::AddressRequest { connection, .. } => {
                // Authenticated: the account's own address, or the pool's.
                let wanted = self
                    .conns
                    .get(&connection)
                    .and_then(|c| pppd::lookup(&self.accounts, &c.user, NAME))
                    .and_then(|a| a.address());
                match self.pool.lease(wanted) {
                    Some(address) => {
                        if let Some(c) = self.conns.get_mut(&connection) {
                            c.leased = Some(address);
                        }
                        self.assign(connection, address);
                    }
                    None => {
                        self.say(
                            &self.prefix(connection),
                            "no free address (pool exhausted): closing",
                        );
                        self.server.close(now, connection);
                    }
                }
            }
            ServerEvent::SessionUp {
                connection,
                username,
                address,
            } => {
                let mtu = self.server.mtu(connection);
                if !self.quiet {
                    self.log.info(
                        &self.prefix(connection),
                        format_args!(
                            "session up: {username:?} is {address}, we are {}, mtu {}",
                            self.local,
                            mtu.unwrap_or(0)
                        ),
                    );
                }
                self.sessions_total += 1;
                if let Some(c) = self.conns.get_mut(&connection) {
                    c.address = Some(address);
                }
                self.routes.insert(address, connection);
                // The host's packets to this client fit its tunnel.
                self.route(format!("route replace {address}/32 dev"), mtu);
            }
            ServerEvent::PasswordChanged {
                connection,
                username,
                new_password,
            } => {
                self.say(
                    &self.prefix(connection),
                    format_args!("{username:?} changed the password"),
                );
                for a in self.accounts.iter_mut().filter(|a| a.client == username) {
                    a.secret = new_password.as_str().to_string();
                }
            }
            ServerEvent::IpPacket { connection, packet } => self.ip_from(connection, &packet),
            ServerEvent::Accounting(record) => {
                self.say(
                    &self.prefix(record.connection),
                    aaa::accounting_line(&record),
                );
                if let Some(c) = self.conns.get_mut(&record.connection) {
                    c.session_id = Some(record.session_id.clone());
                }
                if let Some(aaa) = &mut self.aaa {
                    if let Err(dropped) = aaa.account(*record) {
                        if let Some(held) = self.accounting_drops.admit() {
                            self.log.info(
                                "",
                                format_args!(
                                    "RADIUS accounting queue full: record dropped \
                                     ({dropped} so far, {held} since the last line)"
                                ),
                            );
                        }
                    }
                }
            }
            ServerEvent::SessionDown { connection, reason } => {
                self.say(
                    &self.prefix(connection),
                    format_args!("session down: {reason}"),
                );
                self.closing.insert(connection);
            }
            _ => {}
        }
    }

    /// Gives a session its tunnel address (and ours, and the DNS server).
    fn assign(&mut self, connection: ConnectionId, address: Ipv4Addr) {
        let assignment = IpAssignment {
            local: Some(self.local),
            peer: Some(address),
            dns: [self.dns, None],
            nbns: [None, None],
        };
        let now = self.clock.now();
        self.server.assign_address(now, connection, assignment);
    }

    /// A RADIUS answer for a pending authentication.
    fn verdict(&mut self, connection: ConnectionId, answer: Result<Verdict, String>) {
        if !self.conns.contains_key(&connection) {
            return; // gone while RADIUS thought
        }
        let failed = answer.is_err();
        let (verdict, line) = aaa::verdict(answer);
        // An unanswered RADIUS server is logged even with --quiet.
        if failed || !self.quiet {
            self.log.info(&self.prefix(connection), line);
        }
        let now = self.clock.now();
        self.server.provide_verdict(now, connection, verdict);
    }

    /// A datagram on the RFC 5176 Disconnect port: an authentic
    /// Disconnect-Request closes the session it names, answered with
    /// Disconnect-ACK (found) or -NAK; anything else is dropped.
    fn disconnect(&mut self, bytes: &[u8], from: SocketAddr, socket: &UdpSocket) {
        let Some(aaa) = &self.aaa else { return };
        let request = match aaa.parse_disconnect(bytes) {
            Ok(r) => r,
            Err(e) => {
                self.log
                    .info("", format_args!("RADIUS packet from {from} dropped: {e}"));
                return;
            }
        };
        let found = self
            .conns
            .iter()
            .find(|(_, c)| {
                let session = aaa::SessionNames {
                    session_id: c.session_id.as_deref(),
                    user: &c.user,
                    address: c.address,
                };
                aaa::names(&request, &session)
            })
            .map(|(id, _)| *id);
        self.log
            .info("", aaa::disconnect_line(&request, from, found.is_some()));
        let reply = aaa.disconnect_reply(bytes, found.is_some());
        // UDP: the socket takes it now, or the NAS retries.
        let _ = socket.try_send_to(&reply, from);
        if let Some(conn) = found {
            let now = self.clock.now();
            self.server.close(now, conn);
        }
    }

    /// A GRE datagram (IPv4 header stripped) from `source`.
    fn gre_in(&mut self, source: Ipv4Addr, datagram: &mut [u8]) {
        if !self.quiet {
            self.log.datagram(&format!("[{source}] "), false, datagram);
        }
        let now = self.clock.now();
        match self.server.handle_datagram(now, source.into(), datagram) {
            Ok((conn, Some(ip))) => self.ip_from(conn, ip),
            Ok((_, None)) => {}
            Err(e) => {
                // Counted by the server; named here at most once a second.
                let noisy = matches!(e, ServerError::WrongSource { .. }) || !self.quiet;
                if noisy {
                    if let Some(held) = self.drops.admit() {
                        let more = if held > 0 {
                            format!(" ({held} more dropped since the last line)")
                        } else {
                            String::new()
                        };
                        self.log.info(
                            &format!("[{source}] "),
                            format_args!("GRE dropped: {e}{more}"),
                        );
                    }
                }
            }
        }
    }

    /// An IP packet from a client: an echo request to us is answered, a
    /// packet for another client is forwarded, anything else goes to TUN.
    fn ip_from(&mut self, from: ConnectionId, packet: &[u8]) {
        let to_us = support::ipv4_destination(packet) == Some(self.local);
        if to_us && support::is_fragment(packet) {
            // Ours, in pieces: whole again, it is answered or handed on.
            let now = self.clock.now();
            if let Some(whole) = self.reassembly.push(now, from.0, packet) {
                if let Some(reply) = support::echo_reply(&whole, self.local) {
                    self.send_ip(from, &reply);
                } else {
                    self.to_tun(&whole);
                }
            }
        } else if let Some(reply) = to_us
            .then(|| support::echo_reply(packet, self.local))
            .flatten()
        {
            self.send_ip(from, &reply);
        } else if let Some(&to) =
            support::ipv4_destination(packet).and_then(|d| self.routes.get(&d))
        {
            self.send_ip(to, packet);
        } else {
            self.to_tun(packet);
        }
    }

    /// Writes a packet to the TUN device, if any; dropped if it is full.
    fn to_tun(&self, packet: &[u8]) {
        if let Some(t) = &self.tun {
            let _ = t.get_ref().send(packet);
        }
    }

    /// Encrypts `packet` for a session, straight into a slot of the GRE
    /// batch (fragmented first if larger than its tunnel's MTU).
    fn send_ip(&mut self, conn: ConnectionId, packet: &[u8]) {
        let Some(peer) = self.conns.get(&conn).map(|c| c.peer) else {
            return;
        };
        let now = self.clock.now();
        let mtu = self.server.mtu(conn).unwrap_or(1500);
        let (server, tx, gre) = (&mut self.server, &mut self.tx, self.gre);
        let tun = self.tun.as_ref().map(|t| t.get_ref());
        let to = SocketAddrV4::new(peer, 0);
        support::send_fitted(packet, mtu, self.local, tun, |ip| {
            tx.push_with(gre, to, |slot| server.send_ip(now, conn, ip, slot).ok());
        });
    }

    /// A new TCP connection: a session, or refused.
    fn accept(&mut self, stream: TcpStream, addr: SocketAddr, inputs: &mpsc::Sender<Input>) {
        let SocketAddr::V4(v4) = addr else { return };
        let prefix = format!("[{addr}] ");
        let conn = match self.server.accept(self.clock.now(), (*v4.ip()).into()) {
            Ok(conn) => conn,
            Err(e) => {
                self.refused += 1;
                self.say(&prefix, format_args!("refused: {e}"));
                return; // dropping the stream closes it
            }
        };
        self.say(&prefix, "connected");
        let (out, queue) = mpsc::channel(OUT_QUEUE);
        let (tcp, backlog) = (Arc::new(stream), Arc::new(AtomicUsize::new(0)));
        let task = connection(conn, tcp.clone(), queue, backlog.clone(), inputs.clone());
        tokio::spawn(task);
        self.conns.insert(
            conn,
            Conn {
                tcp,
                out,
                backlog,
                peer: *v4.ip(),
                prefix,
                address: None,
                user: String::new(),
                leased: None,
                session_id: None,
            },
        );
    }

    fn input(&mut self, input: Input) {
        let now = self.clock.now();
        match input {
            Input::Tcp(conn, bytes) => {
                if !self.conns.contains_key(&conn) {
                    return; // closed while its read was queued
                }
                if !self.quiet {
                    let prefix = self.prefix(conn);
                    self.log.stream(&prefix, conn.0, false, &bytes);
                }
                if let Err(e) = self.server.handle_stream(now, conn, &bytes) {
                    self.say(&self.prefix(conn), e);
                }
            }
            Input::TcpClosed(conn) => {
                if self.conns.contains_key(&conn) {
                    self.server.handle_stream_closed(now, conn);
                    self.closing.insert(conn);
                }
            }
            Input::Verdict(conn, answer) => self.verdict(conn, answer),
        }
    }

    /// The `--stats` line.
    fn stats(&self, rx: &RecvBatch<BATCH>) -> String {
        let c = self.server.counters();
        let (r, t) = (rx.counters, self.tx.counters);
        format!(
            "stats: sessions up {} total {} connections {} | GRE in {} in {} recvmmsg ({:.1}/call), \
             out {} in {} sendmmsg ({:.1}/call), dropped in {} out {} | wrong source {}, \
             unknown call {}, refused {}, TCP overflows {}, route drops {} | RSS {} KiB",
            self.routes.len(),
            self.sessions_total,
            self.conns.len(),
            r.packets,
            r.calls,
            r.per_call(),
            t.packets,
            t.calls,
            t.per_call(),
            r.dropped,
            t.dropped,
            c.wrong_source,
            c.unknown_call,
            self.refused + c.refused_full + c.refused_source_connections + c.refused_source_rate,
            self.tcp_overflows,
            self.route_drops,
            rss_kib().map_or_else(|| "?".into(), |k| k.to_string()),
        )
    }
}

/// Our resident set size from `/proc/self/statm`.
fn rss_kib() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096);
    Some(pages * u64::try_from(page).unwrap_or(4096) / 1024)
}

/// Counts the connection tasks still running, for a clean exit.
struct Live(Arc<AtomicUsize>);

impl Live {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Live(count.clone())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

static LIVE: std::sync::OnceLock<Arc<AtomicUsize>> = std::sync::OnceLock::new();

/// Writes a control message to a connection's TCP: at once as far as the
/// socket takes it, the rest through its task (in order); `Full` when its
/// task's queue is, `Closed` when the connection failed.
fn write_tcp(c: &Conn, mut bytes: Bytes) -> Result<(), mpsc::error::TrySendError<Bytes>> {
    if c.backlog.load(Ordering::Relaxed) == 0 {
        match c.tcp.try_write(&bytes) {
            Ok(n) if n == bytes.len() => return Ok(()),
            Ok(n) => bytes = bytes.slice(n..),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return Err(mpsc::error::TrySendError::Closed(bytes)),
        }
    }
    c.out.try_send(bytes)?;
    c.backlog.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// One connection's task: its reads go to the loop; what the loop could
/// not write at once it writes. Ends at EOF, on an error, or when the loop
/// drops `out` (after writing what was queued; the last `Arc` closes it).
async fn connection(
    conn: ConnectionId,
    stream: Arc<TcpStream>,
    mut out: mpsc::Receiver<Bytes>,
    backlog: Arc<AtomicUsize>,
    inputs: mpsc::Sender<Input>,
) {
    let _live = LIVE.get().map(Live::new);
    let _ = stream.set_nodelay(true);
    loop {
        tokio::select! {
            ready = stream.readable() => {
                if ready.is_err() {
                    break;
                }
                match read_now(&stream) {
                    Ok(Some(bytes)) => {
                        if inputs.send(Input::Tcp(conn, bytes)).await.is_err() {
                            return;
                        }
                    }
                    Ok(None) => {}
                    Err(_) => break,
                }
            }
            message = out.recv() => match message {
                Some(bytes) => {
                    let wrote = tokio::time::timeout(WRITE_TIMEOUT, write_all(&stream, &bytes)).await;
                    backlog.fetch_sub(1, Ordering::Relaxed);
                    if !matches!(wrote, Ok(Ok(()))) {
                        break;
                    }
                }
                // The loop closed the session: its last words are written.
                None => return,
            },
        }
    }
    let _ = inputs.send(Input::TcpClosed(conn)).await;
}

/// `write_all` on a shared stream.
async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One read of what is there (`None`: nothing after all); EOF is an error.
/// Not async, so its buffer lives on the stack, not in every task.
fn read_now(stream: &TcpStream) -> io::Result<Option<Vec<u8>>> {
    let mut buf = [0u8; 4096];
    match stream.try_read(&mut buf) {
        Ok(0) => Err(io::ErrorKind::UnexpectedEof.into()),
        Ok(n) => Ok(Some(buf[..n].to_vec())),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(e),
    }
}

/// The `ip -force -batch -` process and the task feeding it lines.
fn spawn_ip() -> io::Result<mpsc::Sender<String>> {
    let mut child = tokio::process::Command::new("ip")
        .args(["-force", "-batch", "-"])
        .stdin(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("ip: no stdin"))?;
    let (tx, mut rx) = mpsc::channel::<String>(65_536);
    tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            if let Err(e) = stdin.write_all(line.as_bytes()).await {
                eprintln!("tokio_server: ip -batch: {e}: no more route changes");
                return;
            }
        }
        drop(stdin);
        let _ = child.wait().await;
    });
    Ok(tx)
}

/// Raises the open-file limit to the hard limit: every client is a socket.
fn raise_nofile() -> Option<u64> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).ok()?;
    Some(hard)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Options { serve: o, stats } = options();
    let fail = |what: &str, e: io::Error| -> ! {
        eprintln!("tokio_server: {what}: {e}");
        exit(1)
    };
    let nofile = raise_nofile();
    let _ = LIVE.set(Arc::new(AtomicUsize::new(0)));
    let clock = Clock::start();
    let gre = GreSocket::open().unwrap_or_else(|e| fail("raw GRE socket (root needed)", e));
    gre.socket()
        .set_nonblocking(true)
        .unwrap_or_else(|e| fail("gre", e));
    // A burst of 60 000 sessions' echoes must not overflow the queue.
    let _ = gre.socket().set_recv_buffer_size(8 << 20);
    let _ = gre.socket().set_send_buffer_size(8 << 20);
    let gre_fd = gre.as_raw_fd();
    // `AsyncFd::new` is deprecated for an `unsafe` `register`; it is sound
    // here because the AsyncFd owns the socket (see tokio_client).
    #[allow(deprecated)]
    let gre = AsyncFd::new(gre).unwrap_or_else(|e| fail("gre", e));
    let listener = TcpListener::bind(o.listen)
        .await
        .unwrap_or_else(|e| fail(&format!("listen {}", o.listen), e));
    let tun = o.tun.as_ref().map(|name| {
        let mut config = tun::Configuration::default();
        config
            .tun_name(name)
            .address(o.local)
            .netmask(Ipv4Addr::new(255, 255, 255, 255))
            .up();
        let dev = tun::create(&config).unwrap_or_else(|e| {
            eprintln!("tokio_server: TUN {name}: {e}");
            exit(1)
        });
        dev.set_nonblock().unwrap_or_else(|e| fail("TUN", e));
        #[allow(deprecated)]
        let dev = AsyncFd::new(dev).unwrap_or_else(|e| fail("TUN", e));
        Rc::new(dev)
    });
    let ip = tun
        .as_ref()
        .map(|_| spawn_ip().unwrap_or_else(|e| fail("ip -batch (iproute2)", e)));
    let (inputs, mut rx) = mpsc::channel::<Input>(IN_QUEUE);
    let mut sigint = signal(SignalKind::interrupt()).unwrap_or_else(|e| fail("SIGINT", e));
    let mut sigterm = signal(SignalKind::terminate()).unwrap_or_else(|e| fail("SIGTERM", e));
    let mut sigusr1 = signal(SignalKind::user_defined1()).unwrap_or_else(|e| fail("SIGUSR1", e));
    let slot = usize::from(o.config.ppp.lcp.mru.max(o.config.ppp.lcp.mtu)).max(1500) + 256;
    let coa = match &o.radius {
        Some(r) if r.coa_port != 0 => {
            let at = SocketAddr::new(o.listen.ip(), r.coa_port);
            let socket = UdpSocket::bind(at)
                .await
                .unwrap_or_else(|e| fail(&format!("RADIUS Disconnect port {at}"), e));
            Some(socket)
        }
        _ => None,
    };
    let mut coa_buf = vec![0u8; 4096];
    let aaa = o.radius.map(|r| Aaa::new(r.config, "tokio_server"));
    let mut s = State {
        clock,
        quiet: o.quiet,
        log: Log::new(clock, !o.quiet),
        server: Server::new(o.config),
        gre: gre_fd,
        tx: SendBatch::new(slot),
        conns: HashMap::new(),
        routes: HashMap::new(),
        closing: HashSet::new(),
        local: o.local,
        dns: o.dns,
        accounts: o.accounts,
        pool: o.pool,
        tun: tun.clone(),
        tun_name: o.tun.clone(),
        ip,
        reassembly: support::reassembly::Reassembly::default(),
        drops: RateLimited::default(),
        accept_errors: RateLimited::default(),
        sessions_total: 0,
        tcp_overflows: 0,
        refused: 0,
        route_drops: 0,
        aaa,
        inputs: inputs.clone(),
        accounting_drops: RateLimited::default(),
    };
    // Incoming GRE: large enough for the biggest packet a client may send.
    let mut rxb = RecvBatch::<BATCH>::new(65_535.min(slot + 64));
    let mut tun_buf = vec![0u8; 65_536];
    s.log.info(
        "",
        format_args!(
            "listening on {}, tunnel address {}, open files up to {}",
            o.listen,
            o.local,
            nofile.map_or_else(|| "?".into(), |n| n.to_string())
        ),
    );
    let far = || tokio::time::Instant::now() + StdDuration::from_secs(3600);
    let sleep = tokio::time::sleep_until(far());
    tokio::pin!(sleep);
    let mut tick = stats.map(|every| {
        let mut i = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });
    let mut stopping: Option<std::time::Instant> = None;

    loop {
        s.drain();
        let _ = s.tx.flush(s.gre);
        if let Some(since) = stopping {
            if s.conns.is_empty() || since.elapsed() > STOP_GRACE {
                break;
            }
        }
        let mut until = s
            .server
            .poll_timeout()
            .map_or_else(far, |t| tokio::time::Instant::now() + clock.until(t));
        if stopping.is_some() {
            until = until.min(tokio::time::Instant::now() + StdDuration::from_millis(100));
        }
        sleep.as_mut().reset(until);
        let tun_readable = async {
            match &tun {
                Some(t) => t.readable().await,
                None => std::future::pending().await,
            }
        };
        let coa_in = async {
            match &coa {
                Some(socket) => socket
                    .recv_from(&mut coa_buf)
                    .await
                    .map(|(n, from)| (n, from, socket)),
                None => std::future::pending().await,
            }
        };
        let stats_due = async {
            match tick.as_mut() {
                Some(t) => t.tick().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = sigint.recv() => stop(&mut s, &mut stopping),
            _ = sigterm.recv() => stop(&mut s, &mut stopping),
            _ = sigusr1.recv() => s.log.info("", s.stats(&rxb)),
            _ = stats_due => s.log.info("", s.stats(&rxb)),
            ready = gre.readable() => {
                let Ok(mut guard) = ready else { continue };
                match guard.try_io(|_| rxb.recv(gre_fd)) {
                    Ok(Ok(n)) => {
                        for i in 0..n {
                            let Some((_, datagram)) = rxb.get_mut(i) else { continue };
                            // The raw socket delivers the IPv4 header too.
                            if let Some((source, range)) = support::split_ipv4(datagram) {
                                s.gre_in(source, &mut datagram[range]);
                            }
                        }
                    }
                    Ok(Err(e)) => s.log.info("", format_args!("GRE receive: {e}")),
                    Err(_would_block) => {}
                }
            }
            ready = gre.writable(), if s.tx.pending() > 0 => {
                if let Ok(mut guard) = ready {
                    let _ = guard.try_io(|_| s.tx.flush(gre_fd));
                }
            }
            input = rx.recv() => {
                let Some(input) = input else { break };
                s.input(input);
                for _ in 1..PER_TURN {
                    match rx.try_recv() {
                        Ok(input) => s.input(input),
                        Err(_) => break,
                    }
                }
            }
            accepted = listener.accept(), if stopping.is_none() => match accepted {
                Ok((stream, addr)) => s.accept(stream, addr, &inputs),
                Err(e) => {
                    // EMFILE and the like: wait a little rather than spin.
                    if let Some(held) = s.accept_errors.admit() {
                        s.log.info("", format_args!("accept: {e} ({held} more since the last line)"));
                    }
                    tokio::time::sleep(StdDuration::from_millis(50)).await;
                }
            },
            ready = tun_readable => {
                let (Ok(mut guard), Some(t)) = (ready, &tun) else { continue };
                for _ in 0..PER_TURN {
                    match guard.try_io(|_| t.get_ref().recv(&mut tun_buf)) {
                        Ok(Ok(n)) => {
                            let packet = &tun_buf[..n];
                            if let Some(&conn) =
                                support::ipv4_destination(packet).and_then(|d| s.routes.get(&d))
                            {
                                s.send_ip(conn, packet);
                            }
                        }
                        Ok(Err(_)) | Err(_) => break,
                    }
                }
            }
            received = coa_in => match received {
                Ok((n, from, socket)) => {
                    let bytes = coa_buf[..n].to_vec();
                    s.disconnect(&bytes, from, socket);
                }
                Err(e) => s.log.info("", format_args!("RADIUS Disconnect port: {e}")),
            },
            _ = &mut sleep => s.server.handle_timeout(clock.now()),
        }
    }
    // Last words: what is queued for GRE, then the control connections.
    let _ = s.tx.flush(s.gre);
    let live = LIVE.get().cloned();
    drop(s.conns.drain());
    let deadline = std::time::Instant::now() + StdDuration::from_secs(2);
    while live.as_ref().is_some_and(|l| l.load(Ordering::Relaxed) > 0)
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    s.log.info("", s.stats(&rxb));
    if let Some(aaa) = &mut s.aaa {
        // The sessions' Stop records: sent before we go.
        if !aaa.finish(STOP_GRACE) {
            s.log.info("", "RADIUS accounting: records left unsent");
        }
        s.log.info("", "stopped");
        // Not the runtime's drop: it would wait for every RADIUS job on
        // the blocking pool (up to 9 s each).
        exit(0);
    }
    s.log.info("", "stopped");
}

/// Ctrl-C or SIGTERM: closes every session; a second one exits at once.
fn stop(s: &mut State, stopping: &mut Option<std::time::Instant>) {
    if stopping.is_some() {
        exit(130);
    }
    s.log.info(
        "",
        format_args!("stopping: closing {} sessions", s.conns.len()),
    );
    *stopping = Some(std::time::Instant::now());
    let now = s.clock.now();
    let conns: Vec<ConnectionId> = s.conns.keys().copied().collect();
    for conn in conns {
        s.server.close(now, conn);
    }
}
