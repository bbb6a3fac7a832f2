//! A PPTP server on real sockets: a TCP listener on port 1723 and one raw GRE
//! socket for every client, driving one [`Server`] from a plain blocking
//! event loop (reader threads feed a channel; the main thread owns the
//! server and does every write).
//!
//! ```text
//! sudo cargo run --release --example server -- --listen 0.0.0.0 --user alice --password secret \
//!     --local 198.51.100.1 --pool 198.51.100.2-9 [--dns 198.51.100.1] \
//!     [--secrets FILE] [--auth LIST|any] [--mppe MODE] [--stateful] [--mru N] [--mtu N] \
//!     [--echo SECONDS] [--tun NAME] [--quiet]
//!     [--radius HOST[:PORT] --radius-secret S [--radius-acct-port P]
//!      [--radius-coa-port P] [--radius-nas-id NAME]]
//! ```
//!
//! `--radius` authenticates every method through a RADIUS server instead
//! of the accounts (RFC 2865; MS-CHAP per RFC 2548, the MPPE keys it
//! returns decrypted): its Framed-IP-Address wins over the pool, its
//! Session-Timeout and Idle-Timeout end the session, its MS-CHAP-Error
//! reaches the client. Accounting-Requests (start, interim, stop with the
//! terminate cause) go to the accounting port (default: the auth port + 1),
//! and an RFC 5176 Disconnect-Request on `--radius-coa-port` (default 3799,
//! 0: off) closes the session it names (by Acct-Session-Id, User-Name or
//! Framed-IP-Address), answered with Disconnect-ACK or -NAK. The RADIUS
//! exchange runs on worker threads; the event loop never waits for it.
//!
//! `--secrets FILE` reads accounts in pppd's `chap-secrets` format (`client
//! server secret [address]`, `*` wildcards, one line per user, any number of
//! users; a per-user address is assigned), instead of or beside the one
//! `--user`/`--password` account. `--pool` takes pptpd's `remoteip` syntax
//! (`198.51.100.2-9`, `10.0.0.2-10.0.0.9,10.0.1.5`). `--auth` is the list of
//! methods offered, in order (`mschapv2,mschapv1,chap,pap,eap-mschapv2,eap-md5`;
//! default `mschapv2`; `eap` relays EAP to `--radius`, which then runs
//! any method, PEAP and EAP-TLS included); `--mppe require|require-128|require-56|require-40|optional|none`
//! has pppd's meanings (`require-mppe`, …, `nomppe`; default `require-128`);
//! `--stateful` prefers stateful MPPE (pppd's `mppe-stateful`); `--mru N`
//! is our LCP MRU and `--mtu N` caps what we send (pppd's `mru`, `mtu`).
//!
//! It accepts any number of clients, authenticates them against those
//! accounts, assigns addresses after authentication (the account's own, or
//! the lowest free one of the pool), answers ICMP echo requests to its own
//! tunnel address itself (fragmented ones too: it reassembles what is
//! addressed to it, bounded), forwards packets between clients, and with `--tun NAME` forwards everything else to
//! a TUN device (address `--local`, the pool's /24 routed through it). It
//! logs each session pppd-style and keeps serving when a client misbehaves:
//! malformed input, a wrong password or a vanished client ends only that
//! client's session. Ctrl-C closes every session cleanly, then exits.
//!
//! Needs root (or CAP_NET_RAW, and CAP_NET_ADMIN for `--tun`).

#[path = "support/mod.rs"]
mod support;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::exit;
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread;

use pptp_proto::crypto::Password;
use pptp_proto::ppp::auth::{Credentials, Verdict};
use pptp_proto::ppp::ipcp::IpAssignment;
use pptp_proto::server::{ConnectionId, Server, ServerEvent};
use support::aaa::{self, Aaa};
use support::pppd::{self, Pool, Secret};
use support::radius_nas as radius;
use support::serve::{self, ServeOptions};
use support::{Args, Clock, GreSocket, Log};

/// Our name in `chap-secrets`' server column.
const NAME: &str = "pptp-proto";

const USAGE: &str = "usage: server --listen ADDR[:PORT] (--user U --password P | --secrets FILE)
       --local A --pool RANGES [--dns D] [--auth LIST|any]
       [--mppe require|require-128|require-56|require-40|optional|none] [--stateful]
       [--mru N] [--mtu N] [--echo SECONDS] [--tun NAME] [--quiet]
       [--radius HOST[:PORT] --radius-secret S [--radius-acct-port P]
        [--radius-coa-port P] [--radius-nas-id NAME]]";

enum Input {
    Accepted(TcpStream, SocketAddr),
    Tcp(ConnectionId, Vec<u8>),
    TcpClosed(ConnectionId),
    Gre(Ipv4Addr, Vec<u8>),
    Tun(Vec<u8>),
    Interrupt,
    /// A RADIUS server's answer (or why there is none).
    Verdict(ConnectionId, Result<Verdict, String>),
    /// An RFC 5176 Disconnect-Request: what it names, and where to answer.
    Disconnect(radius::DisconnectRequest, Vec<u8>, SocketAddr),
}

type Options = ServeOptions;

fn options() -> Options {
    let mut a = Args::from_env(USAGE);
    let o = serve::parse(&mut a, NAME);
    a.finish();
    o
}

fn spawn_listener(listener: TcpListener, tx: Sender<Input>) {
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let Ok(peer) = stream.peer_addr() else {
                continue;
            };
            if tx.send(Input::Accepted(stream, peer)).is_err() {
                return;
            }
        }
    });
}

/// One client's TCP connection and addresses.
struct Conn {
    tcp: TcpStream,
    peer: Ipv4Addr,
    prefix: String,
    address: Option<Ipv4Addr>,
    /// The name it authenticated as.
    user: String,
    /// The address leased from our pool.
    leased: Option<Ipv4Addr>,
    /// Its Acct-Session-Id, once accounting started.
    session_id: Option<String>,
}

/// The RADIUS side: the client and its accounting worker (shared with
/// tokio_server, `support/aaa.rs`), the Disconnect socket.
struct Radius {
    aaa: Aaa,
    coa: Option<UdpSocket>,
    /// Where verdicts come back to the event loop.
    tx: Sender<Input>,
}

/// Everything the main loop owns.
struct State {
    clock: Clock,
    log: Log,
    server: Server,
    gre: GreSocket,
    conns: HashMap<ConnectionId, Conn>,
    /// Tunnel address → its session.
    routes: HashMap<Ipv4Addr, ConnectionId>,
    closing: HashSet<ConnectionId>,
    local: Ipv4Addr,
    dns: Option<Ipv4Addr>,
    accounts: Vec<Secret>,
    pool: Pool,
    tun: Option<Arc<tun::Device>>,
    tun_name: Option<String>,
    buf: Vec<u8>,
    /// Fragments addressed to our tunnel address, for the echo responder.
    reassembly: support::reassembly::Reassembly,
    radius: Option<Radius>,
}

impl State {
    /// Writes everything the server produced and handles its events.
    fn drain(&mut self) {
        loop {
            let mut moved = false;
            while let Some((conn, bytes)) = self.server.poll_stream_transmit() {
                moved = true;
                let Some(c) = self.conns.get_mut(&conn) else {
                    continue;
                };
                self.log.stream(&c.prefix, conn.0, true, &bytes);
                if c.tcp.write_all(&bytes).is_err() {
                    self.closing.insert(conn);
                }
            }
            while let Some((conn, datagram)) = self.server.poll_datagram_transmit() {
                moved = true;
                if let Some(c) = self.conns.get(&conn) {
                    self.log.datagram(&c.prefix, true, &datagram);
                    let _ = self.gre.send_to(c.peer, &datagram);
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
        // Sessions that ended: their output is written, close their TCP.
        for conn in std::mem::take(&mut self.closing) {
            if let Some(c) = self.conns.remove(&conn) {
                let _ = c.tcp.shutdown(Shutdown::Both);
                self.log.info(&c.prefix, "connection closed");
                if let Some(a) = c.address {
                    self.routes.remove(&a);
                }
                if let Some(a) = c.leased {
                    self.pool.release(a);
                }
            }
            self.server.handle_stream_closed(self.clock.now(), conn);
            self.log.forget(conn.0);
        }
    }

    fn prefix(&self, conn: ConnectionId) -> String {
        self.conns
            .get(&conn)
            .map_or_else(|| format!("[#{}] ", conn.0), |c| c.prefix.clone())
    }

    fn event(&mut self, event: ServerEvent) {
        let now = self.clock.now();
        match event {
            ServerEvent::AuthRequest {
                connection,
                username,
                method,
                exchange,
            } if self.radius.is_some() => {
                let prefix = self.prefix(connection);
                self.log.info(
                    &prefix,
                    format_args!("{username:?} authenticates with {method:?} via RADIUS"),
                );
                let peer = self.conns.get(&connection).map(|c| c.peer);
                if let Some(c) = self.conns.get_mut(&connection) {
                    c.user.clone_from(&username);
                }
                let nas_port = self.server.call_id(connection).unwrap_or(0);
                let (Some(r), Some(peer)) = (&self.radius, peer) else {
                    return;
                };
                let job = r.aaa.authentication(username, exchange, nas_port, peer);
                let tx = r.tx.clone();
                thread::spawn(move || {
                    let _ = tx.send(Input::Verdict(connection, job()));
                });
            }
            ServerEvent::AuthRequest {
                connection,
                username,
                method,
                ..
            } => {
                let prefix = self.prefix(connection);
                let account = pppd::lookup(&self.accounts, &username, NAME);
                self.log.info(
                    &prefix,
                    format_args!(
                        "{username:?} authenticates with {method:?}{}",
                        if account.is_some() {
                            ""
                        } else {
                            ": no such user"
                        }
                    ),
                );
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
                let prefix = self.prefix(connection);
                if self.routes.contains_key(&address) {
                    self.log.info(
                        &prefix,
                        format_args!("RADIUS address {address} is in use: closing"),
                    );
                    self.server.close(now, connection);
                    return;
                }
                self.assign(connection, address);
            }
            ServerEvent::AddressRequest { connection, .. } => {
                // Authenticated: the account's own address, or the pool's.
                let prefix = self.prefix(connection);
                let user = self.conns.get(&connection).map(|c| c.user.clone());
                let wanted = user
                    .and_then(|u| pppd::lookup(&self.accounts, &u, NAME).cloned())
                    .and_then(|a| a.address());
                match self.pool.lease(wanted) {
                    Some(address) => {
                        if let Some(c) = self.conns.get_mut(&connection) {
                            c.leased = Some(address);
                        }
                        self.assign(connection, address);
                    }
                    None => {
                        self.log
                            .info(&prefix, "no free address (pool exhausted): closing");
                        self.server.close(now, connection);
                    }
                }
            }
            ServerEvent::SessionUp {
                connection,
                username,
                address,
            } => {
                let prefix = self.prefix(connection);
                let mtu = self.server.mtu(connection).unwrap_or(0);
                self.log.info(
                    &prefix,
                    format_args!(
                        "session up: {username:?} is {address}, we are {}, mtu {mtu}",
                        self.local
                    ),
                );
                if let Some(c) = self.conns.get_mut(&connection) {
                    c.address = Some(address);
                }
                self.routes.insert(address, connection);
                // The host's packets to this client fit its tunnel.
                if let (Some(name), Some(mtu)) = (&self.tun_name, self.server.mtu(connection)) {
                    let _ = std::process::Command::new("ip")
                        .args(["route", "replace", &format!("{address}/32"), "dev", name])
                        .args(["mtu", &mtu.to_string()])
                        .status();
                }
            }
            ServerEvent::PasswordChanged {
                connection,
                username,
                new_password,
            } => {
                let prefix = self.prefix(connection);
                self.log
                    .info(&prefix, format_args!("{username:?} changed the password"));
                for a in self.accounts.iter_mut().filter(|a| a.client == username) {
                    a.secret = new_password.as_str().to_string();
                }
            }
            ServerEvent::IpPacket { connection, packet } => self.route(connection, &packet),
            ServerEvent::Accounting(record) => {
                let prefix = self.prefix(record.connection);
                self.log.info(&prefix, aaa::accounting_line(&record));
                if let Some(c) = self.conns.get_mut(&record.connection) {
                    c.session_id = Some(record.session_id.clone());
                }
                if let Some(r) = &mut self.radius {
                    if let Err(dropped) = r.aaa.account(*record) {
                        self.log.info(
                            &prefix,
                            format_args!(
                                "RADIUS accounting queue full: record dropped ({dropped} so far)"
                            ),
                        );
                    }
                }
            }
            ServerEvent::SessionDown { connection, reason } => {
                let prefix = self.prefix(connection);
                self.log
                    .info(&prefix, format_args!("session down: {reason}"));
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
    fn verdict(&mut self, connection: ConnectionId, verdict: Result<Verdict, String>) {
        let now = self.clock.now();
        let prefix = self.prefix(connection);
        let (verdict, line) = aaa::verdict(verdict);
        self.log.info(&prefix, line);
        self.server.provide_verdict(now, connection, verdict);
    }

    /// An RFC 5176 Disconnect-Request: closes the session it names.
    fn disconnect(&mut self, request: radius::DisconnectRequest, bytes: &[u8], from: SocketAddr) {
        let now = self.clock.now();
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
        if let Some(conn) = found {
            self.server.close(now, conn);
        }
        if let Some(r) = &self.radius {
            let reply = r.aaa.disconnect_reply(bytes, found.is_some());
            if let Some(socket) = &r.coa {
                let _ = socket.send_to(&reply, from);
            }
        }
    }

    /// An IP packet from a client: an echo request to us is answered, a
    /// packet for another client is forwarded, anything else goes to TUN.
    fn route(&mut self, from: ConnectionId, packet: &[u8]) {
        if support::ipv4_destination(packet) == Some(self.local) && support::is_fragment(packet) {
            // Ours, in pieces: whole again, it is answered or handed on.
            let now = self.clock.now();
            if let Some(whole) = self.reassembly.push(now, from.0, packet) {
                if let Some(reply) = support::echo_reply(&whole, self.local) {
                    self.send_ip(from, &reply);
                } else if let Some(t) = &self.tun {
                    let _ = t.send(&whole);
                }
            }
        } else if let Some(reply) = support::echo_reply(packet, self.local) {
            self.send_ip(from, &reply);
        } else if let Some(to) = support::ipv4_destination(packet).and_then(|d| self.routes.get(&d))
        {
            let to = *to;
            self.send_ip(to, packet);
        } else if let Some(t) = &self.tun {
            let _ = t.send(packet);
        }
    }

    fn send_ip(&mut self, conn: ConnectionId, packet: &[u8]) {
        let now = self.clock.now();
        let Some(peer) = self.conns.get(&conn).map(|c| c.peer) else {
            return;
        };
        let mtu = self.server.mtu(conn).unwrap_or(1500);
        let (server, gre, buf) = (&mut self.server, &self.gre, &mut self.buf);
        // Larger than the client's tunnel: fragments, or ICMP to the sender.
        support::send_fitted(packet, mtu, self.local, self.tun.as_deref(), |ip| {
            if let Ok(range) = server.send_ip(now, conn, ip, buf) {
                let _ = gre.send_to(peer, &buf[range]);
            }
        });
    }
}

fn main() {
    let o = options();
    let clock = Clock::start();
    let fail = |what: &str, e: std::io::Error| -> ! {
        eprintln!("server: {what}: {e}");
        exit(1)
    };
    let gre = GreSocket::open().unwrap_or_else(|e| fail("raw GRE socket (root needed)", e));
    let listener =
        TcpListener::bind(o.listen).unwrap_or_else(|e| fail(&format!("listen {}", o.listen), e));
    let (tx, rx) = channel();
    spawn_listener(listener, tx.clone());
    let reader = gre.try_clone().unwrap_or_else(|e| fail("gre", e));
    support::spawn_gre_reader(reader, tx.clone(), |src, d| Some(Input::Gre(src, d)));
    {
        let tx = tx.clone();
        let _ = ctrlc::set_handler(move || {
            let _ = tx.send(Input::Interrupt);
        });
    }
    let tun = o.tun.as_ref().map(|name| {
        let mut config = tun::Configuration::default();
        config
            .tun_name(name)
            .address(o.local)
            .netmask(Ipv4Addr::new(255, 255, 255, 0))
            .up();
        let dev = Arc::new(tun::create(&config).unwrap_or_else(|e| {
            eprintln!("server: TUN {name}: {e}");
            exit(1)
        }));
        support::spawn_tun_reader(dev.clone(), tx.clone(), Input::Tun);
        dev
    });
    let radius = o.radius.map(|r| {
        let secret = r.config.secret.clone();
        let aaa = Aaa::new(r.config, "server");
        let coa = (r.coa_port != 0).then(|| {
            let at = SocketAddr::new(o.listen.ip(), r.coa_port);
            let socket = UdpSocket::bind(at)
                .unwrap_or_else(|e| fail(&format!("RADIUS Disconnect port {at}"), e));
            let reader = socket.try_clone().unwrap_or_else(|e| fail("udp", e));
            let (tx, secret) = (tx.clone(), secret.clone());
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok((n, from)) = reader.recv_from(&mut buf) {
                    let bytes = buf[..n].to_vec();
                    match radius::parse_disconnect(&bytes, &secret) {
                        Ok(request) => {
                            if tx.send(Input::Disconnect(request, bytes, from)).is_err() {
                                return;
                            }
                        }
                        Err(e) => eprintln!("server: RADIUS packet from {from} dropped: {e}"),
                    }
                }
            });
            socket
        });
        Radius {
            aaa,
            coa,
            tx: tx.clone(),
        }
    });
    let mut s = State {
        clock,
        log: Log::new(clock, !o.quiet),
        server: Server::new(o.config),
        gre,
        conns: HashMap::new(),
        routes: HashMap::new(),
        closing: HashSet::new(),
        local: o.local,
        dns: o.dns,
        accounts: o.accounts,
        pool: o.pool,
        tun,
        tun_name: o.tun.clone(),
        buf: vec![0u8; 65536],
        reassembly: support::reassembly::Reassembly::default(),
        radius,
    };
    s.log.info(
        "",
        format_args!("listening on {}, tunnel address {}", o.listen, o.local),
    );
    let mut stopping: Option<std::time::Instant> = None;

    loop {
        s.drain();
        if let Some(since) = stopping {
            if s.conns.is_empty() || since.elapsed() > std::time::Duration::from_secs(5) {
                // The sessions' Stop records: sent before we go.
                if let Some(r) = &mut s.radius {
                    r.aaa.finish(std::time::Duration::from_secs(5));
                }
                s.log.info("", "stopped");
                return;
            }
        }
        let wait = s
            .server
            .poll_timeout()
            .map_or(std::time::Duration::from_secs(3600), |t| clock.until(t))
            .min(std::time::Duration::from_millis(if stopping.is_some() {
                100
            } else {
                3_600_000
            }));
        let now = || clock.now();
        match rx.recv_timeout(wait) {
            Ok(Input::Accepted(tcp, addr)) => {
                let SocketAddr::V4(v4) = addr else { continue };
                if stopping.is_some() {
                    continue;
                }
                match s.server.accept(now(), (*v4.ip()).into()) {
                    Ok(conn) => {
                        let _ = tcp.set_nodelay(true);
                        let _ = tcp.set_write_timeout(Some(std::time::Duration::from_secs(2)));
                        let prefix = format!("[{addr}] ");
                        s.log.info(&prefix, "connected");
                        match tcp.try_clone() {
                            Ok(reader) => support::spawn_tcp_reader(
                                reader,
                                tx.clone(),
                                move |b| Input::Tcp(conn, b),
                                Input::TcpClosed(conn),
                            ),
                            Err(_) => continue,
                        }
                        s.conns.insert(
                            conn,
                            Conn {
                                tcp,
                                peer: *v4.ip(),
                                prefix,
                                address: None,
                                user: String::new(),
                                leased: None,
                                session_id: None,
                            },
                        );
                    }
                    Err(e) => {
                        s.log
                            .info(&format!("[{addr}] "), format_args!("refused: {e}"));
                        let _ = tcp.shutdown(Shutdown::Both);
                    }
                }
            }
            Ok(Input::Tcp(conn, bytes)) => {
                let prefix = s.prefix(conn);
                s.log.stream(&prefix, conn.0, false, &bytes);
                if let Err(e) = s.server.handle_stream(now(), conn, &bytes) {
                    s.log.info(&prefix, format_args!("{e}"));
                }
            }
            Ok(Input::TcpClosed(conn)) => {
                s.server.handle_stream_closed(now(), conn);
                s.closing.insert(conn);
            }
            Ok(Input::Gre(src, mut datagram)) => {
                let prefix = format!("[{src}] ");
                s.log.datagram(&prefix, false, &datagram);
                // Only the client that placed a call may send on it: the
                // server checks the source against the call's peer.
                match s.server.handle_datagram(now(), src.into(), &mut datagram) {
                    Ok((conn, ip)) => {
                        if let Some(ip) = ip {
                            let ip = ip.to_vec();
                            s.route(conn, &ip);
                        }
                    }
                    Err(e) => s.log.info(&prefix, format_args!("GRE dropped: {e}")),
                }
            }
            Ok(Input::Tun(packet)) => {
                if let Some(conn) =
                    support::ipv4_destination(&packet).and_then(|d| s.routes.get(&d))
                {
                    let conn = *conn;
                    s.send_ip(conn, &packet);
                }
            }
            Ok(Input::Interrupt) => {
                if stopping.is_some() {
                    exit(130);
                }
                s.log.info("", "interrupted: closing every session");
                stopping = Some(std::time::Instant::now());
                let conns: Vec<ConnectionId> = s.conns.keys().copied().collect();
                for conn in conns {
                    s.server.close(now(), conn);
                }
            }
            Ok(Input::Verdict(conn, verdict)) => s.verdict(conn, verdict),
            Ok(Input::Disconnect(request, bytes, from)) => s.disconnect(request, &bytes, from),
            Err(RecvTimeoutError::Timeout) => s.server.handle_timeout(now()),
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
