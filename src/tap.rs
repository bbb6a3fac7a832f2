//! Taps: see every byte a [`Client`](crate::client::Client) or
//! [`Server`](crate::server::Server) sends and receives.
//!
//! A [`Tap`] attached with `Client::set_tap` or `Server::set_tap` is called
//! for every chunk of the control connection's TCP stream, every GRE packet
//! (as it is on the wire: encrypted, before decapsulation on the way in and
//! after encapsulation on the way out) and, optionally, every IP packet
//! inside the tunnel in clear. The `pcap` feature's `pcap::PcapWriter` is a
//! tap that writes a Wireshark-ready capture; a test can use a tap to assert
//! on the wire.
//!
//! With no tap attached the facades pay one branch per packet.

use crate::time::Instant;

/// Which way a packet went, seen from the side the tap is attached to.
///
/// See the [`Tap` example](Tap#example).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We sent it.
    Sent,
    /// We received it.
    Received,
}

/// Sees a facade's traffic. Every method has a default that ignores it.
///
/// `connection` is 0 for a [`Client`](crate::client::Client) and the
/// [`ConnectionId`](crate::server::ConnectionId) number for a
/// [`Server`](crate::server::Server).
///
/// # Example
///
/// A tap that counts a client's traffic, into counters the embedder keeps:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use pptp_proto::client::{Client, ClientConfig};
/// use pptp_proto::crypto::Password;
/// use pptp_proto::tap::{Direction, Tap};
/// use pptp_proto::time::Instant;
/// # use pptp_proto::ppp::auth::Credentials;
/// # use pptp_proto::server::{AddressPool, ConnectionId, Server, ServerConfig, ServerEvent};
/// # /// One turn of both event loops.
/// # fn run(server: &mut Server, client: &mut Client, now: Instant) {
/// #     server.handle_timeout(now);
/// #     client.handle_timeout(now);
/// #     while let Some((_, b)) = server.poll_stream_transmit() { client.handle_stream(now, &b); }
/// #     while let Some((_, mut d)) = server.poll_datagram_transmit() { let _ = client.handle_datagram(now, &mut d); }
/// #     while let Some(b) = client.poll_stream_transmit() { server.handle_stream(now, ConnectionId(0), &b).unwrap(); }
/// #     while let Some(mut d) = client.poll_datagram_transmit() { let _ = server.handle_datagram(now, [192, 0, 2, 1].into(), &mut d); }
/// #     while let Some(e) = server.poll_event() {
/// #         if let ServerEvent::AuthRequest { connection, .. } = e {
/// #             server.provide_credentials(now, connection, Credentials::Password(Password::new("secret").unwrap()));
/// #         }
/// #     }
/// # }
///
/// #[derive(Debug, Default)]
/// struct Counts {
///     stream_sent: usize,
///     stream_received: usize,
///     datagrams: [usize; 2], // sent, received
///     inner_sent: usize,
///     closed: bool,
/// }
///
/// #[derive(Clone, Default)]
/// struct Counter(Arc<Mutex<Counts>>);
///
/// impl Tap for Counter {
///     fn stream(&mut self, _: Instant, _: u64, direction: Direction, bytes: &[u8]) {
///         let mut c = self.0.lock().unwrap();
///         match direction {
///             Direction::Sent => c.stream_sent += bytes.len(),
///             Direction::Received => c.stream_received += bytes.len(),
///         }
///     }
///     fn datagram(&mut self, _: Instant, _: u64, direction: Direction, _gre: &[u8]) {
///         self.0.lock().unwrap().datagrams[(direction == Direction::Received) as usize] += 1;
///     }
///     fn inner(&mut self, _: Instant, _: u64, direction: Direction, _ip: &[u8]) {
///         if direction == Direction::Sent {
///             self.0.lock().unwrap().inner_sent += 1;
///         }
///     }
///     fn closed(&mut self, _: Instant, connection: u64) {
///         assert_eq!(connection, 0); // a client's connection is 0
///         self.0.lock().unwrap().closed = true;
///     }
/// }
///
/// let counter = Counter::default();
/// let mut client = Client::new(ClientConfig::new("alice", Password::new("secret").unwrap()));
/// client.set_tap(counter.clone());
/// # let pool = AddressPool { local: [10, 0, 0, 1].into(), range: ([10, 0, 0, 2].into(), [10, 0, 0, 9].into()), dns: [None, None] };
/// # let mut server = Server::new(ServerConfig::new("vpn", pool));
/// # server.accept(Instant::ZERO, [192, 0, 2, 1].into()).unwrap();
/// client.start(Instant::ZERO);
/// // ... the event loop runs until the tunnel is up (see `Client`) ...
/// # let mut now = Instant::ZERO;
/// # while !client.is_up() { now = now + core::time::Duration::from_millis(10); run(&mut server, &mut client, now); }
/// let ip = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1];
/// client.send_ip(now, &ip, &mut [0u8; 1600]).unwrap();
/// client.handle_stream_closed(now);
///
/// let c = counter.0.lock().unwrap();
/// assert!(c.stream_sent >= 156 && c.stream_received >= 156); // SCCRQ, SCCRP, ...
/// assert!(c.datagrams[0] > 1 && c.datagrams[1] > 0); // GRE both ways: PPP, our IP packet
/// assert_eq!(c.inner_sent, 1);
/// assert!(c.closed);
/// ```
pub trait Tap: Send {
    /// Bytes of the control connection's TCP stream (any chunking).
    ///
    /// See the [trait example](Tap#example).
    fn stream(&mut self, now: Instant, connection: u64, direction: Direction, bytes: &[u8]) {
        let _ = (now, connection, direction, bytes);
    }

    /// One GRE packet, without IPv4 header, as on the wire.
    ///
    /// See the [trait example](Tap#example).
    fn datagram(&mut self, now: Instant, connection: u64, direction: Direction, gre: &[u8]) {
        let _ = (now, connection, direction, gre);
    }

    /// One IP packet inside the tunnel, in clear (after decryption on the
    /// way in, before encryption on the way out).
    ///
    /// See the [trait example](Tap#example).
    fn inner(&mut self, now: Instant, connection: u64, direction: Direction, ip: &[u8]) {
        let _ = (now, connection, direction, ip);
    }

    /// The control connection's TCP stream closed.
    ///
    /// See the [trait example](Tap#example).
    fn closed(&mut self, now: Instant, connection: u64) {
        let _ = (now, connection);
    }
}

/// Where a facade keeps its tap; `Debug` without requiring it of the tap.
#[derive(Default)]
pub(crate) struct TapSlot(Option<alloc::boxed::Box<dyn Tap>>);

impl core::fmt::Debug for TapSlot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Some(Tap)"
        } else {
            "None"
        })
    }
}

impl TapSlot {
    pub(crate) fn set(&mut self, tap: alloc::boxed::Box<dyn Tap>) {
        self.0 = Some(tap);
    }

    pub(crate) fn take(&mut self) -> Option<alloc::boxed::Box<dyn Tap>> {
        self.0.take()
    }

    #[inline]
    pub(crate) fn stream(&mut self, now: Instant, conn: u64, dir: Direction, bytes: &[u8]) {
        if let Some(t) = self.0.as_mut() {
            t.stream(now, conn, dir, bytes);
        }
    }

    #[inline]
    pub(crate) fn datagram(&mut self, now: Instant, conn: u64, dir: Direction, gre: &[u8]) {
        if let Some(t) = self.0.as_mut() {
            t.datagram(now, conn, dir, gre);
        }
    }

    #[inline]
    pub(crate) fn inner(&mut self, now: Instant, conn: u64, dir: Direction, ip: &[u8]) {
        if let Some(t) = self.0.as_mut() {
            t.inner(now, conn, dir, ip);
        }
    }

    #[inline]
    pub(crate) fn closed(&mut self, now: Instant, conn: u64) {
        if let Some(t) = self.0.as_mut() {
            t.closed(now, conn);
        }
    }
}
