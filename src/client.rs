//! `Client`: a PPTP client (PNS + PPP peer) behind one driving contract.
//!
//! # Driving contract
//!
//! 1. Connect TCP to the server's port 1723, then call [`Client::start`].
//! 2. Feed every TCP read to [`Client::handle_stream`], a TCP close to
//!    [`Client::handle_stream_closed`], and every GRE packet from the server
//!    to [`Client::handle_datagram`] **without its IPv4 header** (a raw
//!    IPPROTO_GRE socket on Linux delivers the header: skip it, e.g. with
//!    [`crate::wire::gre::strip_ipv4`]).
//! 3. After every call, drain [`Client::poll_stream_transmit`] (write to
//!    TCP), [`Client::poll_datagram_transmit`] (a [`Datagram`], sent as IP
//!    protocol 47 to the server; ack-only packets come inline, so the data
//!    path allocates nothing) and [`Client::poll_event`]; then sleep until
//!    [`Client::poll_timeout`] and call [`Client::handle_timeout`].
//! 4. Once [`ClientEvent::Up`] arrived, [`Client::send_ip`] encrypts and
//!    encapsulates an IP packet into your buffer. Inbound IP, one rule:
//!    every IP packet from the server reaches you exactly once, either as
//!    `Ok(Some(ip))` from `handle_datagram` (in order, decrypted in place)
//!    or as [`ClientEvent::IpPacket`] (released later from the reorder
//!    buffer, or decompressed by MPPC), never both. Take both and you see
//!    each packet once; take only the return value and you lose the
//!    reordered ones.
//! 5. [`Client::close`] tears down PPP, the call and the control connection;
//!    [`ClientEvent::Down`] is the last event.
//!
//! ```
//! use pptp_proto::client::{Client, ClientConfig, ClientEvent};
//! use pptp_proto::crypto::Password;
//! use pptp_proto::time::Instant;
//!
//! let mut client = Client::new(ClientConfig::new("alice", Password::new("secret").unwrap()));
//! client.start(Instant::ZERO);
//! let sccrq = client.poll_stream_transmit().unwrap(); // write this to TCP
//! assert_eq!(&sccrq[4..8], &[0x1a, 0x2b, 0x3c, 0x4d]);
//! assert!(client.poll_timeout().is_some());
//! ```

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;
use core::ops::Range;

use bytes::Bytes;

use crate::call::{Call, CallEvent, Setup};
use crate::control::{ControlConfig, Role};
use crate::crypto::Password;
use crate::gre::GreConfig;
use crate::ppp::session::{PppEvent, SessionConfig};
use crate::tap::{Direction, Tap, TapSlot};
use crate::time::Instant;
use crate::tunnel::TunnelError;
pub use crate::tunnel::{Datagram, SessionDownReason};
use crate::wire::gre::GreHeader;
use crate::wire::mppe::MppeBits;

/// Events kept for `poll_event` before reordered IP packets are dropped.
const MAX_QUEUED_EVENTS: usize = 256;

/// GRE packets for the call we asked for that may arrive before its
/// Outgoing-Call-Reply (TCP and GRE race on the way): kept, at most this
/// many, and handled once the call is up. Servers send their first LCP
/// Configure-Request right after the reply; dropping it cost the LCP
/// Restart timer (3 s) per session.
const MAX_EARLY_DATAGRAMS: usize = 4;
/// The largest early GRE packet kept (a full-size frame and its headers).
const MAX_EARLY_LEN: usize = 2048;

/// Everything a client is configured with.
///
/// See the [`Client` example](Client#example).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The control connection (role PNS).
    pub control: ControlConfig,
    /// GRE settings (reorder buffer, ack delay); Call IDs and window are
    /// filled in when the call comes up.
    pub gre: GreConfig,
    /// PPP: credentials, auth methods, MPPE/MPPC policy (`ppp.ccp`), timers.
    pub ppp: SessionConfig,
}

impl ClientConfig {
    /// Defaults: MS-CHAPv2, MPPE-128 required, PPTP echo every 60 s.
    ///
    /// See the [`Client` example](Client#example).
    pub fn new(username: &str, password: Password) -> Self {
        ClientConfig {
            control: ControlConfig::new(Role::Pns),
            gre: GreConfig::new(0, 0),
            ppp: SessionConfig::peer(username, password),
        }
    }

    crate::ppp::session::ppp_option_builders!(ppp);

    /// Sets the seed every random choice derives from.
    ///
    /// Seed it from the OS in real use: Call IDs, LCP magic numbers and
    /// the MS-CHAP peer challenge derive from it. See the
    /// [`Client` example](Client#example).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.control.seed = seed;
        self.ppp.seed = seed.rotate_left(17) ^ 0x6b43_a9b5;
        self
    }

    /// Sets the client's randomness from 32 bytes of the operating system's
    /// generator (the [`Seed`](crate::Seed) for real use; [`ClientConfig::with_seed`]
    /// is for tests and reproducible runs).
    ///
    /// ```
    /// use pptp_proto::client::ClientConfig;
    /// use pptp_proto::crypto::Password;
    ///
    /// let os_bytes = [0x42; 32]; // in real code: from getrandom or /dev/urandom
    /// let a = ClientConfig::new("alice", Password::new("secret").unwrap()).with_seed_bytes(os_bytes);
    /// let b = ClientConfig::new("alice", Password::new("secret").unwrap()).with_seed(1);
    /// assert_ne!(a.ppp.seed, b.ppp.seed);
    /// ```
    pub fn with_seed_bytes(mut self, seed: impl Into<crate::Seed>) -> Self {
        let mut rng = crate::rand::Rng::from_seed(&seed.into());
        self.control.seed = rng.next_u64();
        self.ppp.seed = rng.next_u64();
        self
    }
}

/// What the client reports.
///
/// From [`Client::poll_event`]; the [`Client` example](Client#example)
/// shows the sequence up to [`ClientEvent::Up`] and down again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// The control connection is established.
    Connected {
        /// The server's host name.
        hostname: String,
        /// The server's vendor string.
        vendor: String,
    },
    /// The call is up; PPP starts.
    CallUp {
        /// Our Call ID.
        call_id: u16,
        /// The server's Call ID.
        peer_call_id: u16,
    },
    /// PPP authentication succeeded.
    Authenticated,
    /// The tunnel carries IP.
    Up {
        /// Our tunnel address.
        local: Ipv4Addr,
        /// The server's tunnel address.
        peer: Ipv4Addr,
        /// DNS servers assigned to us.
        dns: [Option<Ipv4Addr>; 2],
        /// The IP MTU.
        mtu: usize,
        /// The CCP option 18 bits in use (MPPE strength, H, MPPC's C), if
        /// CCP agreed on encryption or compression.
        mppe: Option<MppeBits>,
    },
    /// An IP packet released from the GRE reorder buffer, or one MPPC
    /// decompressed (it does not fit in the datagram `handle_datagram` lends).
    IpPacket(Vec<u8>),
    /// The tunnel is down; no more events follow.
    Down {
        /// Why.
        reason: SessionDownReason,
    },
}

/// Counters of the client: [`SessionStats`](crate::tunnel::SessionStats).
pub type ClientStats = crate::tunnel::SessionStats;

/// A PPTP client. See the [module documentation](self) for the driving
/// contract.
///
/// # Example
///
/// A client against a [`Server`](crate::server::Server) in memory: the
/// event loop of both, with time passing, until the tunnel is up; an IP
/// packet through it; then the teardown.
///
/// ```
/// use core::time::Duration;
/// use pptp_proto::client::{Client, ClientConfig, SessionDownReason, ClientEvent};
/// use pptp_proto::crypto::Password;
/// use pptp_proto::ppp::auth::Credentials;
/// use pptp_proto::ppp::session::DownReason;
/// use pptp_proto::server::{AddressPool, ConnectionId, Server, ServerConfig, ServerEvent};
/// use pptp_proto::time::Instant;
///
/// let pool = AddressPool {
///     local: [10, 0, 0, 1].into(),
///     range: ([10, 0, 0, 2].into(), [10, 0, 0, 9].into()),
///     dns: [Some([10, 0, 0, 53].into()), None],
/// };
/// let mut server = Server::new(ServerConfig::new("vpn", pool).with_seed(1));
/// let config = ClientConfig::new("alice", Password::new("secret").unwrap())
///     .with_seed(2) // from the OS in real use
///     .with_mppc(false); // MPPE without MPPC compression, the default
/// let mut client = Client::new(config);
///
/// let mut now = Instant::ZERO;
/// let conn = server.accept(now, [192, 0, 2, 1].into()).unwrap(); // the server accepted our TCP connection
/// assert_eq!(conn, ConnectionId(0));
/// client.start(now); // and our connect completed
/// let mut events = Vec::new();
/// // One turn of both event loops; in memory, nothing is lost.
/// fn run(client: &mut Client, server: &mut Server, now: Instant, events: &mut Vec<ClientEvent>) {
///     let conn = ConnectionId(0);
///     if client.poll_timeout().is_some_and(|t| t <= now) {
///         client.handle_timeout(now);
///     }
///     while let Some(bytes) = client.poll_stream_transmit() {
///         server.handle_stream(now, conn, &bytes).unwrap();
///     }
///     while let Some(mut gre) = client.poll_datagram_transmit() {
///         let _ = server.handle_datagram(now, [192, 0, 2, 1].into(), &mut gre);
///     }
///     while let Some((_, bytes)) = server.poll_stream_transmit() {
///         client.handle_stream(now, &bytes);
///     }
///     while let Some((_, mut datagram)) = server.poll_datagram_transmit() {
///         let _ = client.handle_datagram(now, &mut datagram);
///     }
///     while let Some(event) = server.poll_event() {
///         if let ServerEvent::AuthRequest { connection, .. } = event {
///             let secret = Credentials::Password(Password::new("secret").unwrap());
///             server.provide_credentials(now, connection, secret);
///         }
///     }
///     if server.poll_timeout().is_some_and(|t| t <= now) {
///         server.handle_timeout(now);
///     }
///     while let Some(event) = client.poll_event() {
///         events.push(event);
///     }
/// }
/// while !client.is_up() {
///     now += Duration::from_millis(10);
///     run(&mut client, &mut server, now, &mut events);
/// }
/// assert!(matches!(&events[0], ClientEvent::Connected { vendor, .. } if vendor == "pptp-proto"));
/// assert!(matches!(events[1], ClientEvent::CallUp { .. }));
/// assert!(events.contains(&ClientEvent::Authenticated));
/// let Some(ClientEvent::Up { local, peer, dns, mppe, .. }) = events.last() else { panic!() };
/// assert_eq!((*local, *peer), ([10, 0, 0, 2].into(), [10, 0, 0, 1].into()));
/// assert_eq!(dns[0], Some([10, 0, 0, 53].into()));
/// assert!(mppe.is_some()); // MPPE-128, the default policy
///
/// // An IP packet, encrypted into a GRE packet for the server.
/// let ip = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1];
/// let mut out = [0u8; 1600];
/// let range = client.send_ip(now, &ip, &mut out).unwrap();
/// let (from, received) = server.handle_datagram(now, [192, 0, 2, 1].into(), &mut out[range]).unwrap();
/// assert_eq!((from, received), (conn, Some(&ip[..])));
/// assert_eq!(client.stats().ppp.ip_sent, 1);
///
/// // Teardown: LCP Terminate, Call-Clear, Stop-Control-Connection.
/// client.close(now);
/// for _ in 0..10 {
///     now += Duration::from_millis(10);
///     run(&mut client, &mut server, now, &mut events);
/// }
/// let down = ClientEvent::Down { reason: SessionDownReason::Ppp(DownReason::LocalClose) };
/// assert_eq!(events.last(), Some(&down));
/// client.handle_stream_closed(now); // the server closed TCP
/// assert_eq!(client.poll_event(), None); // Down was the last event
/// assert_eq!(client.poll_timeout(), None);
/// ```
#[derive(Debug)]
pub struct Client {
    call: Call,
    gre: GreConfig,
    ppp: SessionConfig,
    /// The CCP option 18 bits, once CCP is up.
    mppe: Option<MppeBits>,
    events: VecDeque<ClientEvent>,
    tap: TapSlot,
    /// The latest time an input carried, for taps on `poll_*` output.
    now: Instant,
    /// GRE for our call that came before the call was up
    /// ([`MAX_EARLY_DATAGRAMS`]).
    early: Vec<Vec<u8>>,
    /// `pptp_client{call}` (feature `tracing`).
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

impl Client {
    /// A client; call [`Client::start`] once TCP is connected.
    ///
    /// See the [example](Self#example).
    pub fn new(config: ClientConfig) -> Self {
        let mut control = config.control;
        control.role = Role::Pns;
        let mut gre = config.gre;
        // The window GRE paces its acks by is the one the OCRQ announces.
        gre.receive_window = control.receive_window;
        Client {
            call: Call::new(control),
            gre,
            ppp: config.ppp,
            mppe: None,
            events: VecDeque::new(),
            tap: TapSlot::default(),
            now: Instant::ZERO,
            early: Vec::new(),
            #[cfg(feature = "tracing")]
            span: tracing::info_span!("pptp_client", call = tracing::field::Empty),
        }
    }

    /// Attaches a [`Tap`] that sees every byte sent and received from now
    /// on (for example `pcap::PcapWriter`, with the `pcap` feature);
    /// replaces any earlier one.
    pub fn set_tap(&mut self, tap: impl Tap + 'static) {
        self.tap.set(Box::new(tap));
    }

    /// Detaches the tap, giving it back (as `Box<dyn Tap>`).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use pptp_proto::client::{Client, ClientConfig};
    /// use pptp_proto::crypto::Password;
    /// use pptp_proto::tap::{Direction, Tap};
    /// use pptp_proto::time::Instant;
    ///
    /// /// Counts the control messages sent, into a counter we keep.
    /// struct Sent(Arc<AtomicUsize>);
    /// impl Tap for Sent {
    ///     fn stream(&mut self, _: Instant, _: u64, dir: Direction, _: &[u8]) {
    ///         if dir == Direction::Sent {
    ///             self.0.fetch_add(1, Ordering::Relaxed);
    ///         }
    ///     }
    /// }
    ///
    /// let sent = Arc::new(AtomicUsize::new(0));
    /// let mut client = Client::new(ClientConfig::new("alice", Password::new("secret").unwrap()));
    /// client.set_tap(Sent(sent.clone()));
    /// client.start(Instant::ZERO);
    /// client.poll_stream_transmit().unwrap(); // the SCCRQ, seen
    /// assert!(client.take_tap().is_some());
    /// client.close(Instant::ZERO);
    /// client.poll_stream_transmit().unwrap(); // the StopCCRQ, unseen
    /// assert_eq!(sent.load(Ordering::Relaxed), 1);
    /// assert!(client.take_tap().is_none());
    /// ```
    pub fn take_tap(&mut self) -> Option<Box<dyn Tap>> {
        self.tap.take()
    }

    /// TCP is connected: send Start-Control-Connection-Request.
    ///
    /// See the [example](Self#example).
    pub fn start(&mut self, now: Instant) {
        crate::trace::enter!(self.span);
        self.now = now;
        self.call.control.start(now);
        self.pump(now);
    }

    /// Bytes read from TCP. Nothing the server sends makes this fail: a
    /// malformed or hostile stream ends in [`ClientEvent::Down`] with its
    /// reason. ([`Server::handle_stream`](crate::server::Server::handle_stream)
    /// returns a `Result` only for an unknown `ConnectionId`, the
    /// embedder's own mistake, which a client cannot make.)
    ///
    /// See the [example](Self#example).
    pub fn handle_stream(&mut self, now: Instant, bytes: &[u8]) {
        crate::trace::enter!(self.span);
        self.now = now;
        self.call.handle_stream(now, bytes, &mut self.tap, 0);
        self.pump(now);
    }

    /// TCP closed.
    ///
    /// See the [example](Self#example).
    pub fn handle_stream_closed(&mut self, now: Instant) {
        crate::trace::enter!(self.span);
        self.now = now;
        self.call.handle_stream_closed(now, &mut self.tap, 0);
        self.pump(now);
    }

    /// A GRE packet from the server, without its IPv4 header. Returns the IP
    /// packet it carried, decrypted in place inside `datagram`; packets that
    /// arrive out of order come later as [`ClientEvent::IpPacket`] instead
    /// (each packet one way, once: the [module docs](self)' rule).
    ///
    /// GRE for the call we asked for that overtakes the server's
    /// Outgoing-Call-Reply (TCP and GRE race) is kept, up to 4 packets,
    /// and handled when the call comes up (`Ok(None)` now), so the
    /// server's first LCP Configure-Request is not lost to the race.
    ///
    /// See the [example](Self#example).
    pub fn handle_datagram<'a>(
        &mut self,
        now: Instant,
        datagram: &'a mut [u8],
    ) -> Result<Option<&'a [u8]>, TunnelError> {
        crate::trace::enter!(self.span);
        self.now = now;
        if self.keep_early(datagram) {
            return Ok(None);
        }
        let ip = self.call.handle_datagram(now, datagram, &mut self.tap, 0);
        self.pump(now);
        ip
    }

    /// Keeps a GRE packet for the call we asked for when it overtook the
    /// Outgoing-Call-Reply; bounded in number and size.
    fn keep_early(&mut self, datagram: &[u8]) -> bool {
        if self.call.tunnel.is_some()
            || self.call.is_down()
            || self.early.len() >= MAX_EARLY_DATAGRAMS
            || datagram.len() > MAX_EARLY_LEN
        {
            return false;
        }
        let ours = GreHeader::parse(datagram)
            .is_ok_and(|(h, _)| self.call.control.call_info(h.call_id).is_some());
        if ours {
            self.early.push(datagram.to_vec());
        }
        ours
    }

    /// Encrypts and encapsulates `ip` into `out`; returns the range of `out`
    /// holding the GRE packet to send. Allocates nothing.
    ///
    /// See the [example](Self#example).
    pub fn send_ip(
        &mut self,
        now: Instant,
        ip: &[u8],
        out: &mut [u8],
    ) -> Result<Range<usize>, TunnelError> {
        self.now = now;
        self.call.send_ip(now, ip, out, &mut self.tap, 0)
    }

    /// Tears the tunnel down: LCP Terminate, Call-Clear, Stop-Control-Connection.
    ///
    /// See the [example](Self#example).
    pub fn close(&mut self, now: Instant) {
        crate::trace::enter!(self.span);
        self.now = now;
        self.call.close(now);
        self.pump(now);
    }

    /// Runs the timers that are due; an early or repeated call is a no-op.
    ///
    /// See the [example](Self#example).
    pub fn handle_timeout(&mut self, now: Instant) {
        crate::trace::enter!(self.span);
        self.now = now;
        self.call.handle_timeout(now);
        self.pump(now);
    }

    /// When [`Client::handle_timeout`] is due: the soonest inner timer.
    ///
    /// See the [example](Self#example).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.call.is_down() {
            return None;
        }
        self.call.poll_timeout()
    }

    /// The next bytes to write to TCP.
    ///
    /// See the [example](Self#example).
    pub fn poll_stream_transmit(&mut self) -> Option<Bytes> {
        let bytes = self.call.poll_stream_transmit()?;
        self.tap.stream(self.now, 0, Direction::Sent, &bytes);
        Some(bytes)
    }

    /// The next GRE packet to send to the server (IP protocol 47).
    ///
    /// Ack-only packets come inline in the [`Datagram`]: the data path
    /// allocates nothing here.
    ///
    /// See the [example](Self#example).
    pub fn poll_datagram_transmit(&mut self) -> Option<Datagram> {
        let d = self.call.poll_datagram()?;
        self.tap.datagram(self.now, 0, Direction::Sent, &d);
        Some(d)
    }

    /// The next event.
    ///
    /// See the [example](Self#example).
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// Whether the tunnel carries IP.
    ///
    /// See the [example](Self#example).
    pub fn is_up(&self) -> bool {
        self.call.is_up()
    }

    /// The counters.
    ///
    /// See the [example](Self#example).
    pub fn stats(&self) -> ClientStats {
        self.call.stats()
    }

    /// Turns the call's events into the client's.
    fn pump(&mut self, now: Instant) {
        let setup = Setup {
            gre: &self.gre,
            ppp: &self.ppp,
            seed: None,
        };
        while let Some(event) = self.call.poll_event(now, &setup) {
            let event = match event {
                CallEvent::Connected { hostname, vendor } => {
                    ClientEvent::Connected { hostname, vendor }
                }
                CallEvent::CallUp {
                    call_id,
                    peer_call_id,
                } => {
                    crate::trace::record!(self.span, "call", call_id);
                    self.events.push_back(ClientEvent::CallUp {
                        call_id,
                        peer_call_id,
                    });
                    // What came early goes through the tunnel now.
                    for mut d in core::mem::take(&mut self.early) {
                        let ip = self.call.handle_datagram(now, &mut d, &mut self.tap, 0);
                        if let (Ok(Some(ip)), true) = (ip, self.events.len() < MAX_QUEUED_EVENTS) {
                            self.events.push_back(ClientEvent::IpPacket(ip.to_vec()));
                        }
                    }
                    continue;
                }
                CallEvent::Ppp(PppEvent::Authenticated { .. }) => ClientEvent::Authenticated,
                CallEvent::Ppp(PppEvent::CompressionUp { mppe }) => {
                    self.mppe = Some(mppe);
                    continue;
                }
                CallEvent::Ppp(_) => continue,
                CallEvent::Up {
                    local,
                    peer,
                    dns,
                    mtu,
                } => ClientEvent::Up {
                    local,
                    peer,
                    dns,
                    mtu,
                    mppe: self.mppe,
                },
                CallEvent::Released(ip) => {
                    // Reordered IP waits in the event queue only up to a
                    // bound: an embedder that does not poll loses packets,
                    // not memory.
                    if self.events.len() >= MAX_QUEUED_EVENTS {
                        continue;
                    }
                    self.tap.inner(now, 0, Direction::Received, &ip);
                    ClientEvent::IpPacket(ip)
                }
                CallEvent::Down(reason) => {
                    self.early = Vec::new();
                    ClientEvent::Down { reason }
                }
            };
            self.events.push_back(event);
        }
    }
}
