//! What the socket examples (`client`, `server`, `tokio_client`) share: the
//! clock that feeds the crate's [`Instant`], a pppd-style log of what goes
//! over TCP and GRE, the raw GRE socket, ICMP echo helpers, pppd option
//! parsing, the RADIUS client and what the two servers do with it (`aaa`); with what they share with `loopback`
//! (argument parser, ICMP echo reply, `describe_ccp`), which lives in the
//! root package's `examples/support/mod.rs` so that `loopback` builds
//! without this package's dependencies. Each example includes it with
//! `#[path]`; it is not an example of its own.

#![allow(dead_code)] // each example uses a different part

pub mod aaa;
pub mod batch;
#[path = "../../../examples/support/mod.rs"]
mod common;
pub mod pppd;
pub mod radius_nas;
pub mod reassembly;
pub mod serve;

pub use common::*;

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::ops::Range;

use etherparse::{Icmpv4Type, PacketBuilder, SlicedPacket, TransportSlice};
use pptp_proto::ppp::session::SessionConfig;
use pptp_proto::time::{Duration, Instant};
use pptp_proto::wire::control::{frame_length, ControlMessage};
use pptp_proto::wire::gre::{strip_ipv4, GrePacket};
use pptp_proto::wire::packet::PppPacket;
use pptp_proto::wire::ppp::PppFrame;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// IP protocol number of GRE.
pub const IPPROTO_GRE: i32 = 47;

/// The GRE socket's receive buffer we ask for (octets).
pub const GRE_RECV_BUFFER: usize = 4 << 20;

/// Wall-clock time as the crate's [`Instant`]: microseconds since start.
#[derive(Debug, Clone, Copy)]
pub struct Clock(std::time::Instant);

impl Clock {
    /// A clock starting now.
    pub fn start() -> Self {
        Clock(std::time::Instant::now())
    }

    /// The crate's time now.
    pub fn now(&self) -> Instant {
        Instant::from_micros(self.0.elapsed().as_micros() as u64)
    }

    /// How long from now until `t` (zero if it passed).
    pub fn until(&self, t: Instant) -> std::time::Duration {
        t.saturating_duration_since(self.now())
    }

    /// Seconds since start, for log lines.
    pub fn stamp(&self) -> String {
        format!("{:9.3}", self.0.elapsed().as_secs_f64())
    }
}

/// A pppd-style log: every control message and every PPP control packet
/// sent and received (data packets are only counted).
pub struct Log {
    clock: Clock,
    verbose: bool,
    /// Per (connection, direction): TCP bytes not yet a whole message.
    partial: HashMap<(u64, bool), Vec<u8>>,
}

impl Log {
    /// A log on `clock`; `verbose` false prints only [`Log::info`] lines.
    pub fn new(clock: Clock, verbose: bool) -> Self {
        Log {
            clock,
            verbose,
            partial: HashMap::new(),
        }
    }

    /// An informational line.
    pub fn info(&self, prefix: &str, line: impl std::fmt::Display) {
        println!("{} {prefix}{line}", self.clock.stamp());
    }

    /// TCP bytes of connection `conn`, `sent` or received: logs each whole
    /// control message.
    pub fn stream(&mut self, prefix: &str, conn: u64, sent: bool, bytes: &[u8]) {
        let buf = self.partial.entry((conn, sent)).or_default();
        buf.extend_from_slice(bytes);
        while let Ok(Some(len)) = frame_length(buf) {
            if len > buf.len() || len == 0 {
                break;
            }
            let message: Vec<u8> = buf.drain(..len).collect();
            if self.verbose {
                let word = if sent { "sent" } else { "rcvd" };
                match ControlMessage::parse(&message) {
                    Ok(m) => println!("{} {prefix}{word} {m}", self.clock.stamp()),
                    Err(e) => println!("{} {prefix}{word} [malformed: {e}]", self.clock.stamp()),
                }
            }
        }
        if buf.len() > 1 << 16 {
            buf.clear(); // not PPTP; the library says why
        }
    }

    /// Forgets a connection's partial messages.
    pub fn forget(&mut self, conn: u64) {
        self.partial.remove(&(conn, true));
        self.partial.remove(&(conn, false));
    }

    /// A GRE packet (without IPv4 header) `sent` or received: logs the PPP
    /// control packet it carries, if any.
    pub fn datagram(&self, prefix: &str, sent: bool, gre: &[u8]) {
        if !self.verbose {
            return;
        }
        let Ok(packet) = GrePacket::parse(gre) else {
            return;
        };
        if packet.payload.is_empty() {
            return; // ack only
        }
        let Ok(frame) = PppFrame::parse(packet.payload) else {
            return;
        };
        let word = if sent { "sent" } else { "rcvd" };
        match PppPacket::parse(&frame) {
            Ok(PppPacket::Compressed(..) | PppPacket::Ipv4(_) | PppPacket::Ipv6(_)) => {}
            Ok(p) => println!("{} {prefix}{word} {p}", self.clock.stamp()),
            Err(e) => println!("{} {prefix}{word} [malformed: {e}]", self.clock.stamp()),
        }
    }
}

/// A raw IPv4 socket for IP protocol 47 (needs root or CAP_NET_RAW).
pub struct GreSocket(Socket);

impl std::os::fd::AsRawFd for GreSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.0.as_raw_fd()
    }
}

impl GreSocket {
    /// Opens the socket.
    pub fn open() -> io::Result<Self> {
        let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_GRE)))?;
        // The default receive buffer (212992 B) holds ~90 full-size packets:
        // a burst overflows it and stateful MPPE resynchronises per drop.
        // Linux caps the request at net.core.rmem_max; a refusal is harmless.
        let _ = s.set_recv_buffer_size(GRE_RECV_BUFFER);
        Ok(GreSocket(s))
    }

    /// The socket itself (for `AsyncFd`, non-blocking mode, …).
    pub fn socket(&self) -> &Socket {
        &self.0
    }

    /// A second handle on the same socket (for a reader thread).
    pub fn try_clone(&self) -> io::Result<Self> {
        Ok(GreSocket(self.0.try_clone()?))
    }

    /// Sends one GRE packet to `to`; the kernel adds the IPv4 header.
    pub fn send_to(&self, to: Ipv4Addr, gre: &[u8]) -> io::Result<()> {
        self.0
            .send_to(gre, &SockAddr::from(SocketAddrV4::new(to, 0)))
            .map(|_| ())
    }

    /// Receives one datagram into `buf`: its source and the range of `buf`
    /// holding the GRE packet (the kernel delivers the IPv4 header too).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<(Ipv4Addr, Range<usize>)> {
        let n = (&self.0).read(buf)?;
        split_ipv4(&buf[..n]).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad IPv4"))
    }
}

/// `ADDR` or `ADDR:PORT` (IPv4), the port `default_port` when not given:
/// `--listen`, `--server`, `--radius`.
pub fn ipv4_and_port(text: &str, default_port: u16) -> Option<SocketAddrV4> {
    text.parse().ok().or_else(|| {
        text.parse::<Ipv4Addr>()
            .ok()
            .map(|ip| SocketAddrV4::new(ip, default_port))
    })
}

/// The source of an IPv4 datagram and the range of its payload.
pub fn split_ipv4(datagram: &[u8]) -> Option<(Ipv4Addr, Range<usize>)> {
    let payload = strip_ipv4(datagram).ok()?;
    // The payload starts after the header (IHL), whatever trails it.
    let start = usize::from(datagram[0] & 0x0f) * 4;
    let end = start + payload.len();
    let src = Ipv4Addr::new(datagram[12], datagram[13], datagram[14], datagram[15]);
    Some((src, start..end))
}

/// An ICMP echo request from `src` to `dst`.
pub fn echo_request(src: Ipv4Addr, dst: Ipv4Addr, id: u16, seq: u16) -> Vec<u8> {
    let builder = PacketBuilder::ipv4(src.octets(), dst.octets(), 64).icmpv4_echo_request(id, seq);
    let payload = b"pptp-proto ping 0123456789abcdef";
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut out, payload).expect("ICMP into a Vec");
    out
}

/// If `packet` is an ICMP echo reply with identifier `id`: its sequence number.
pub fn echo_reply_seq(packet: &[u8], id: u16) -> Option<u16> {
    let p = SlicedPacket::from_ip(packet).ok()?;
    let Some(TransportSlice::Icmpv4(icmp)) = &p.transport else {
        return None;
    };
    match icmp.icmp_type() {
        Icmpv4Type::EchoReply(echo) if echo.id == id => Some(echo.seq),
        _ => None,
    }
}

/// Whether an IPv4 packet is a fragment (More Fragments set or an offset).
pub fn is_fragment(packet: &[u8]) -> bool {
    packet.len() >= 20
        && packet[0] >> 4 == 4
        && u16::from_be_bytes([packet[6], packet[7]]) & 0x3fff != 0
}

/// The IPv4 destination of a packet.
pub fn ipv4_destination(packet: &[u8]) -> Option<Ipv4Addr> {
    (packet.len() >= 20 && packet[0] >> 4 == 4)
        .then(|| Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]))
}

/// Applies `--mppe require|require-128|require-56|require-40|optional|none`
/// (pppd's `require-mppe`, …, `nomppe`) to a session's CCP policy.
pub fn set_mppe(ppp: &mut SessionConfig, mode: &str) -> Result<(), String> {
    let c = pppd::parse_mppe(mode)?;
    ppp.ccp.mppe = c.mppe;
    ppp.ccp.strengths = c.strengths;
    Ok(())
}

/// Sets the LCP echo keepalive (`--echo SECONDS`, 0 turns it off): the
/// link is down after 3 unanswered requests (pppd's `lcp-echo-failure 3`).
pub fn set_echo(ppp: &mut SessionConfig, seconds: u64) {
    ppp.echo.interval = (seconds > 0).then(|| Duration::from_secs(seconds));
    ppp.echo.max_failures = 3;
}

/// The crate takes its randomness from the embedder: 32 bytes from the
/// OS generator. There is no fallback: a clock is not a secret, and CHAP
/// challenges drawn from it could be predicted.
pub fn os_seed() -> [u8; 32] {
    let mut b = [0u8; 32];
    if let Err(e) = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)) {
        eprintln!("cannot read /dev/urandom ({e}): refusing to run without a random seed");
        std::process::exit(1);
    }
    b
}

/// A thread reading `tcp` into the channel: each read as `data(bytes)`,
/// then `closed` at EOF or error.
pub fn spawn_tcp_reader<T: Send + 'static>(
    mut tcp: std::net::TcpStream,
    tx: std::sync::mpsc::Sender<T>,
    data: impl Fn(Vec<u8>) -> T + Send + 'static,
    closed: T,
) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 16384];
        loop {
            match tcp.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(closed);
                    return;
                }
                Ok(n) => {
                    if tx.send(data(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
}

/// A thread reading GRE packets (IPv4 header stripped) into the channel as
/// `wrap(source, packet)`; malformed datagrams are skipped.
pub fn spawn_gre_reader<T: Send + 'static>(
    gre: GreSocket,
    tx: std::sync::mpsc::Sender<T>,
    wrap: impl Fn(Ipv4Addr, Vec<u8>) -> Option<T> + Send + 'static,
) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        loop {
            match gre.recv(&mut buf) {
                Ok((src, range)) => {
                    if let Some(msg) = wrap(src, buf[range].to_vec()) {
                        if tx.send(msg).is_err() {
                            return;
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {}
                Err(_) => return,
            }
        }
    });
}

/// A thread reading IP packets from a TUN device into the channel.
pub fn spawn_tun_reader<T: Send + 'static>(
    tun: std::sync::Arc<tun::Device>,
    tx: std::sync::mpsc::Sender<T>,
    wrap: fn(Vec<u8>) -> T,
) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = tun.recv(&mut buf) {
            if tx.send(wrap(buf[..n].to_vec())).is_err() {
                return;
            }
        }
    });
}

/// Sends `packet` from the TUN device through a tunnel of `mtu`: as it is
/// when it fits, as IPv4 fragments when DF is clear, or not at all, with
/// the ICMP "fragmentation needed" / ICMPv6 "packet too big" error written
/// back to the TUN device for the host's path MTU discovery. `send` is
/// called with each packet to encapsulate.
pub fn send_fitted(
    packet: &[u8],
    mtu: usize,
    local: Ipv4Addr,
    tun: Option<&tun::Device>,
    mut send: impl FnMut(&[u8]),
) {
    use pptp_proto::mtu::{fit, Fit};
    let mut reply = [0u8; 1280];
    let v6 = std::net::Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    match fit(packet, mtu, (local, v6), &mut reply) {
        Ok(Fit::Fits) => send(packet),
        Ok(Fit::Fragments(mut fragments)) => {
            let mut out = vec![0u8; mtu];
            while let Ok(Some(n)) = fragments.next_into(&mut out) {
                send(&out[..n]);
            }
        }
        Ok(Fit::Reply(n)) => {
            if let Some(t) = tun {
                let _ = t.send(&reply[..n]);
            }
        }
        Ok(Fit::Drop) | Err(_) => {}
    }
}
