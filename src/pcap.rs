//! `PcapWriter` (feature `pcap`): a [`Tap`] that records a session as a
//! capture Wireshark and tcpdump open.
//!
//! Every control-connection chunk becomes an Ethernet/IPv4/TCP segment and
//! every GRE packet an Ethernet/IPv4/GRE frame, with synthesised but
//! consistent addresses, ports and TCP sequence numbers (a three-way
//! handshake opens each control connection, a FIN pair closes it), so
//! Wireshark's PPTP, GRE and PPP dissectors and "Follow TCP stream" work.
//! The server is `192.0.2.1`, port 1723; client `n` (the tap's connection
//! number) is `198.18.0.0 + n + 2`, port `40000 + n`. Optionally the IP
//! packets inside the tunnel, in clear, go to a second capture.
//!
//! ```
//! use pptp_proto::client::{Client, ClientConfig};
//! use pptp_proto::crypto::Password;
//! use pptp_proto::pcap::PcapWriter;
//! use pptp_proto::time::Instant;
//!
//! let mut client = Client::new(ClientConfig::new("alice", Password::new("secret").unwrap()));
//! let capture: Vec<u8> = Vec::new(); // or a std::fs::File
//! client.set_tap(PcapWriter::client(capture).unwrap());
//! client.start(Instant::ZERO);
//! while client.poll_stream_transmit().is_some() {} // the SCCRQ is recorded
//! ```

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::time::Duration;
use std::io::Write;

use etherparse::{IpNumber, PacketBuilder};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter as Writer};
use pcap_file::DataLink;

use crate::tap::{Direction, Tap};
use crate::time::Instant;

/// The PPTP control port.
const PPTP_PORT: u16 = 1723;
/// Largest TCP payload per synthesised segment.
const MSS: usize = 1460;
const SERVER_MAC: [u8; 6] = [0x02, 0, 0x5e, 0, 0, 1];

/// Which side of the session the tap is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

/// One control connection's TCP state.
#[derive(Debug, Clone, Copy)]
struct Tcp {
    /// Next sequence number of the client and of the server.
    client_seq: u32,
    server_seq: u32,
    open: bool,
}

/// Writes what a [`Client`](crate::client::Client) or
/// [`Server`](crate::server::Server) sends and receives as a pcap. See the
/// [module documentation](self).
///
/// # Example
///
/// Attached with `set_tap`, it records a whole session (see the
/// [module documentation](self)). Driven directly as a [`Tap`], it turns
/// bytes of your own into a capture, and gives the writers back:
///
/// ```
/// use pptp_proto::client::{Client, ClientConfig};
/// use pptp_proto::crypto::Password;
/// use pptp_proto::pcap::PcapWriter;
/// use pptp_proto::tap::{Direction, Tap};
/// use pptp_proto::time::Instant;
///
/// # /// The records of a (big-endian) pcap file.
/// # fn records(cap: &[u8]) -> Vec<&[u8]> {
/// #     let (mut out, mut at) = (Vec::new(), 24);
/// #     while at < cap.len() {
/// #         let len = u32::from_be_bytes(cap[at + 8..at + 12].try_into().unwrap()) as usize;
/// #         out.push(&cap[at + 16..at + 16 + len]);
/// #         at += 16 + len;
/// #     }
/// #     out
/// # }
/// // A real Start-Control-Connection-Request, 156 octets.
/// let mut client = Client::new(ClientConfig::new("alice", Password::new("secret").unwrap()));
/// client.start(Instant::ZERO);
/// let sccrq = client.poll_stream_transmit().unwrap();
///
/// let mut pcap = PcapWriter::client(Vec::new())?.with_inner(Vec::new())?;
/// let now = Instant::from_millis(5);
/// pcap.stream(now, 0, Direction::Sent, &sccrq);
/// let ip = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1];
/// pcap.inner(now, 0, Direction::Sent, &ip);
/// pcap.closed(now, 0);
/// assert!(pcap.error().is_none());
/// let (capture, inner) = pcap.into_writers();
///
/// // Link types: Ethernet (1) for the session, raw IPv4 (228) inside.
/// let inner = inner.unwrap();
/// assert_eq!(capture[20..24], 1u32.to_be_bytes());
/// assert_eq!(inner[20..24], 228u32.to_be_bytes());
/// // SYN, SYN-ACK, ACK; the SCCRQ in one segment; FIN-ACK, FIN-ACK, ACK.
/// let lengths: Vec<usize> = records(&capture).iter().map(|r| r.len()).collect();
/// assert_eq!(lengths, [54, 54, 54, 54 + 156, 54, 54, 54]);
/// assert_eq!(records(&inner).len(), 1);
/// # Ok::<(), pcap_file::PcapError>(())
/// ```
pub struct PcapWriter<W: Write> {
    side: Side,
    out: Writer<W>,
    inner: Option<Writer<W>>,
    conns: BTreeMap<u64, Tcp>,
    /// The first write error; later records are skipped.
    error: Option<pcap_file::PcapError>,
    scratch: Vec<u8>,
}

impl<W: Write> core::fmt::Debug for PcapWriter<W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PcapWriter")
            .field("side", &self.side)
            .field("connections", &self.conns.len())
            .field("error", &self.error)
            .finish()
    }
}

impl<W: Write> PcapWriter<W> {
    /// A tap for a [`Client`](crate::client::Client): `Sent` is client → server.
    ///
    /// See the [example](Self#example).
    pub fn client(out: W) -> Result<Self, pcap_file::PcapError> {
        Self::new(Side::Client, out)
    }

    /// A tap for a [`Server`](crate::server::Server): `Sent` is server → client.
    ///
    /// Each connection is its own client: [`ConnectionId`](crate::server::ConnectionId)
    /// `n` is `198.18.0.0 + n + 2`, port `40000 + n`.
    ///
    /// ```
    /// use pptp_proto::pcap::PcapWriter;
    /// use pptp_proto::tap::{Direction, Tap};
    /// use pptp_proto::time::Instant;
    ///
    /// # /// The records of a (big-endian) pcap file.
    /// # fn records(cap: &[u8]) -> Vec<&[u8]> {
    /// #     let (mut out, mut at) = (Vec::new(), 24);
    /// #     while at < cap.len() {
    /// #         let len = u32::from_be_bytes(cap[at + 8..at + 12].try_into().unwrap()) as usize;
    /// #         out.push(&cap[at + 16..at + 16 + len]);
    /// #         at += 16 + len;
    /// #     }
    /// #     out
    /// # }
    /// let mut pcap = PcapWriter::server(Vec::new())?;
    /// // A control message received on connection 3 (an Echo-Request).
    /// let echo = [0, 16, 0, 1, 0x1a, 0x2b, 0x3c, 0x4d, 0, 5, 0, 0, 0, 0, 0, 7];
    /// pcap.stream(Instant::ZERO, 3, Direction::Received, &echo);
    /// let (capture, _) = pcap.into_writers();
    /// let segment = records(&capture)[3]; // after the three-way handshake
    /// assert_eq!(segment[26..34], [198, 18, 0, 5, 192, 0, 2, 1]); // IPv4 source, destination
    /// assert_eq!(segment[34..38], [0x9c, 0x43, 0x06, 0xbb]); // TCP ports 40003 → 1723
    /// # Ok::<(), pcap_file::PcapError>(())
    /// ```
    pub fn server(out: W) -> Result<Self, pcap_file::PcapError> {
        Self::new(Side::Server, out)
    }

    fn new(side: Side, out: W) -> Result<Self, pcap_file::PcapError> {
        let header = PcapHeader {
            datalink: DataLink::ETHERNET,
            ..PcapHeader::default()
        };
        Ok(PcapWriter {
            side,
            out: Writer::with_header(out, header)?,
            inner: None,
            conns: BTreeMap::new(),
            error: None,
            scratch: Vec::with_capacity(2048),
        })
    }

    /// Also writes the tunnel's inner IP packets, in clear, to `out`
    /// (link type raw IPv4).
    ///
    /// See the [example](Self#example).
    pub fn with_inner(mut self, out: W) -> Result<Self, pcap_file::PcapError> {
        let header = PcapHeader {
            datalink: DataLink::IPV4,
            ..PcapHeader::default()
        };
        self.inner = Some(Writer::with_header(out, header)?);
        Ok(self)
    }

    /// The first write error, if any (recording stops at it).
    ///
    /// See the [example](Self#example).
    pub fn error(&self) -> Option<&pcap_file::PcapError> {
        self.error.as_ref()
    }

    /// Returns the capture's writer (and the inner one) as they are: a
    /// buffered writer still needs its `flush`.
    ///
    /// See the [example](Self#example).
    pub fn into_writers(self) -> (W, Option<W>) {
        (self.out.into_writer(), self.inner.map(Writer::into_writer))
    }

    fn addresses(conn: u64) -> ([u8; 4], [u8; 4], u16) {
        let n = 0xc612_0000u32.wrapping_add((conn as u32).wrapping_add(2)); // 198.18.0.0/15
        let client = n.to_be_bytes();
        (client, [192, 0, 2, 1], 40_000u16.wrapping_add(conn as u16))
    }

    /// Whether a packet going `dir` travels client → server.
    fn upstream(&self, dir: Direction) -> bool {
        matches!(
            (self.side, dir),
            (Side::Client, Direction::Sent) | (Side::Server, Direction::Received)
        )
    }

    fn record(&mut self, now: Instant, frame: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let ts = Duration::from_micros(now.total_micros());
        let packet = PcapPacket::new(ts, frame.len() as u32, frame);
        if let Err(e) = self.out.write_packet(&packet) {
            self.error = Some(e);
        }
    }

    /// One TCP segment with `flags` ("S", "SA", "A", "PA", "FA").
    fn segment(&mut self, now: Instant, conn: u64, upstream: bool, flags: &str, payload: &[u8]) {
        let (client, server, port) = Self::addresses(conn);
        let Some(tcp) = self.conns.get_mut(&conn) else {
            return;
        };
        let (src, dst, sport, dport, seq, ack) = if upstream {
            (
                client,
                server,
                port,
                PPTP_PORT,
                tcp.client_seq,
                tcp.server_seq,
            )
        } else {
            (
                server,
                client,
                PPTP_PORT,
                port,
                tcp.server_seq,
                tcp.client_seq,
            )
        };
        let mut advance = payload.len() as u32;
        let mut b = PacketBuilder::ethernet2(mac(src), mac(dst))
            .ipv4(src, dst, 64)
            .tcp(sport, dport, seq, 64_240);
        for f in flags.chars() {
            b = match f {
                'S' => {
                    advance += 1;
                    b.syn()
                }
                'F' => {
                    advance += 1;
                    b.fin()
                }
                'P' => b.psh(),
                _ => b,
            };
        }
        if flags.contains('A') {
            b = b.ack(ack);
        }
        if upstream {
            tcp.client_seq = tcp.client_seq.wrapping_add(advance);
        } else {
            tcp.server_seq = tcp.server_seq.wrapping_add(advance);
        }
        let mut frame = core::mem::take(&mut self.scratch);
        frame.clear();
        if b.write(&mut frame, payload).is_ok() {
            self.record(now, &frame);
        }
        self.scratch = frame;
    }

    /// Opens the connection's synthetic TCP stream with a handshake.
    fn ensure_open(&mut self, now: Instant, conn: u64) {
        if self.conns.get(&conn).is_some_and(|t| t.open) {
            return;
        }
        self.conns.insert(
            conn,
            Tcp {
                client_seq: 1_000_000u32.wrapping_add((conn as u32).wrapping_mul(7919)),
                server_seq: 3_000_000u32.wrapping_add((conn as u32).wrapping_mul(104_729)),
                open: true,
            },
        );
        self.segment(now, conn, true, "S", &[]);
        self.segment(now, conn, false, "SA", &[]);
        self.segment(now, conn, true, "A", &[]);
    }
}

/// A locally administered MAC address derived from an IPv4 address.
fn mac(ip: [u8; 4]) -> [u8; 6] {
    if ip == [192, 0, 2, 1] {
        SERVER_MAC
    } else {
        [0x02, 0x00, ip[0], ip[1], ip[2], ip[3]]
    }
}

impl<W: Write + Send> Tap for PcapWriter<W> {
    fn stream(&mut self, now: Instant, connection: u64, direction: Direction, bytes: &[u8]) {
        self.ensure_open(now, connection);
        let up = self.upstream(direction);
        for chunk in bytes.chunks(MSS) {
            self.segment(now, connection, up, "PA", chunk);
        }
    }

    fn datagram(&mut self, now: Instant, connection: u64, direction: Direction, gre: &[u8]) {
        let (client, server, _) = Self::addresses(connection);
        let (src, dst) = if self.upstream(direction) {
            (client, server)
        } else {
            (server, client)
        };
        let b = PacketBuilder::ethernet2(mac(src), mac(dst)).ipv4(src, dst, 64);
        let mut frame = core::mem::take(&mut self.scratch);
        frame.clear();
        if b.write(&mut frame, IpNumber::GRE, gre).is_ok() {
            self.record(now, &frame);
        }
        self.scratch = frame;
    }

    fn inner(&mut self, now: Instant, _connection: u64, _direction: Direction, ip: &[u8]) {
        if self.error.is_some() {
            return;
        }
        if let Some(w) = self.inner.as_mut() {
            let ts = Duration::from_micros(now.total_micros());
            if let Err(e) = w.write_packet(&PcapPacket::new(ts, ip.len() as u32, ip)) {
                self.error = Some(e);
            }
        }
    }

    fn closed(&mut self, now: Instant, connection: u64) {
        if !self.conns.get(&connection).is_some_and(|t| t.open) {
            return;
        }
        let up = match self.side {
            Side::Client => false, // the server closed on us, or we saw it close
            Side::Server => true,
        };
        self.segment(now, connection, up, "FA", &[]);
        self.segment(now, connection, !up, "FA", &[]);
        self.segment(now, connection, up, "A", &[]);
        if let Some(t) = self.conns.get_mut(&connection) {
            t.open = false;
        }
    }
}
