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
/// ```
/// use pptp_proto::tap::{Direction, Tap};
/// use pptp_proto::time::Instant;
///
/// /// Counts control-connection bytes each way.
/// #[derive(Default)]
/// struct Count { sent: usize, received: usize }
///
/// impl Tap for Count {
///     fn stream(&mut self, _: Instant, _: u64, dir: Direction, bytes: &[u8]) {
///         match dir {
///             Direction::Sent => self.sent += bytes.len(),
///             Direction::Received => self.received += bytes.len(),
///         }
///     }
/// }
///
/// let mut client = pptp_proto::client::Client::new(pptp_proto::client::ClientConfig::new(
///     "alice",
///     pptp_proto::crypto::Password::new("secret").unwrap(),
/// ));
/// client.set_tap(Count::default());
/// client.start(Instant::ZERO);
/// while client.poll_stream_transmit().is_some() {}
/// ```
pub trait Tap: Send {
    /// Bytes of the control connection's TCP stream (any chunking).
    fn stream(&mut self, now: Instant, connection: u64, direction: Direction, bytes: &[u8]) {
        let _ = (now, connection, direction, bytes);
    }

    /// One GRE packet, without IPv4 header, as on the wire.
    fn datagram(&mut self, now: Instant, connection: u64, direction: Direction, gre: &[u8]) {
        let _ = (now, connection, direction, gre);
    }

    /// One IP packet inside the tunnel, in clear (after decryption on the
    /// way in, before encryption on the way out).
    fn inner(&mut self, now: Instant, connection: u64, direction: Direction, ip: &[u8]) {
        let _ = (now, connection, direction, ip);
    }

    /// The control connection's TCP stream closed.
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
