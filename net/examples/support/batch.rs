//! Batched datagram I/O for the event-driven server: up to `N` datagrams
//! per `recvmmsg(2)` and per `sendmmsg(2)` (nix's safe wrappers), with
//! counters of calls and packets so an operator sees how full the batches
//! are. Works on any IPv4 datagram socket (the raw GRE socket in
//! `tokio_server`, a UDP socket in the tests); non-blocking sockets give
//! [`io::ErrorKind::WouldBlock`] when there is nothing to do, which is what
//! `tokio::io::unix::AsyncFd::try_io` wants to clear its readiness.
//!
//! Memory is fixed at construction: `N` slots of `slot` octets each way.
//! Neither side allocates per call or per packet.
//!
//! Tested in `tests/tokio_server.rs` over UDP on the loopback.
#![allow(dead_code)]

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::ops::Range;
use std::os::fd::RawFd;

use nix::errno::Errno;
use nix::sys::socket::{recvmmsg, sendmmsg, ControlMessage, MsgFlags, MultiHeaders, SockaddrIn};

/// What a batch did since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// System calls that moved at least one datagram.
    pub calls: u64,
    /// Datagrams moved.
    pub packets: u64,
    /// Datagrams dropped: truncated on receipt (larger than a slot), or
    /// refused by the kernel on sending (EMSGSIZE, ENETUNREACH, …), or
    /// with no room left while the socket could not take more.
    pub dropped: u64,
}

impl Counters {
    /// Datagrams per system call (0 before the first).
    pub fn per_call(&self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            self.packets as f64 / self.calls as f64
        }
    }
}

/// Receives up to `N` datagrams per `recvmmsg` call into fixed slots.
pub struct RecvBatch<const N: usize> {
    headers: MultiHeaders<SockaddrIn>,
    buf: Vec<u8>,
    slot: usize,
    /// Per datagram of the last call: source and length.
    got: Vec<(SocketAddrV4, usize)>,
    pub counters: Counters,
}

impl<const N: usize> RecvBatch<N> {
    /// `N` slots of `slot` octets; a longer datagram is dropped.
    pub fn new(slot: usize) -> Self {
        RecvBatch {
            headers: MultiHeaders::preallocate(N, None),
            buf: vec![0u8; N * slot],
            slot,
            got: Vec::with_capacity(N),
            counters: Counters::default(),
        }
    }

    /// One `recvmmsg`: how many datagrams it brought (at least one), or
    /// `WouldBlock` when none waited (the socket must be non-blocking).
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        let RecvBatch {
            headers,
            buf,
            slot,
            got,
            counters,
        } = self;
        got.clear();
        let mut chunks = buf.chunks_exact_mut(*slot);
        let mut iovs: [[IoSliceMut; 1]; N] =
            std::array::from_fn(|_| [IoSliceMut::new(chunks.next().unwrap_or_default())]);
        let results = recvmmsg(fd, headers, iovs.iter_mut(), MsgFlags::MSG_DONTWAIT, None)
            .map_err(io::Error::from)?;
        for r in results {
            let from = r
                .address
                .map_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0), Into::into);
            if r.flags.contains(MsgFlags::MSG_TRUNC) {
                counters.dropped += 1;
                got.push((from, 0));
            } else {
                got.push((from, r.bytes));
            }
        }
        counters.calls += 1;
        counters.packets += got.len() as u64;
        Ok(got.len())
    }

    /// Datagrams of the last [`RecvBatch::recv`].
    pub fn len(&self) -> usize {
        self.got.len()
    }

    pub fn is_empty(&self) -> bool {
        self.got.is_empty()
    }

    /// The `i`th datagram of the last call: its source and its bytes (a
    /// raw socket's include the IPv4 header). A truncated one is empty.
    pub fn get_mut(&mut self, i: usize) -> Option<(SocketAddrV4, &mut [u8])> {
        let (from, len) = *self.got.get(i)?;
        let start = i * self.slot;
        Some((from, &mut self.buf[start..start + len]))
    }
}

/// Queues datagrams in `N` fixed slots and sends them with `sendmmsg`:
/// when the slots are full, and at [`SendBatch::flush`].
pub struct SendBatch<const N: usize> {
    headers: MultiHeaders<SockaddrIn>,
    buf: Vec<u8>,
    slot: usize,
    /// Queued datagrams, in slot order: destination and range in its slot.
    queued: Vec<(SockaddrIn, Range<usize>)>,
    pub counters: Counters,
}

impl<const N: usize> SendBatch<N> {
    /// `N` slots of `slot` octets.
    pub fn new(slot: usize) -> Self {
        SendBatch {
            headers: MultiHeaders::preallocate(N, None),
            buf: vec![0u8; N * slot],
            slot,
            queued: Vec::with_capacity(N),
            counters: Counters::default(),
        }
    }

    /// Datagrams waiting to be sent.
    pub fn pending(&self) -> usize {
        self.queued.len()
    }

    /// Queues a datagram to `to` that `fill` writes into a free slot,
    /// returning the range of the slot to send (`None`: nothing to send).
    /// With every slot taken it first sends what is queued; if the socket
    /// takes none of it the datagram is dropped (counted) and `false`
    /// returned.
    pub fn push_with(
        &mut self,
        fd: RawFd,
        to: SocketAddrV4,
        fill: impl FnOnce(&mut [u8]) -> Option<Range<usize>>,
    ) -> bool {
        if self.queued.len() == N {
            let _ = self.flush(fd);
            if self.queued.len() == N {
                self.counters.dropped += 1;
                return false;
            }
        }
        let i = self.queued.len();
        let slot = &mut self.buf[i * self.slot..(i + 1) * self.slot];
        match fill(slot) {
            Some(range) if range.end <= slot.len() => {
                self.queued.push((to.into(), range));
                true
            }
            _ => false,
        }
    }

    /// Queues a copy of `bytes` to `to` (see [`SendBatch::push_with`]);
    /// longer than a slot: dropped.
    pub fn push(&mut self, fd: RawFd, to: SocketAddrV4, bytes: &[u8]) -> bool {
        let fits = bytes.len() <= self.slot;
        if !fits {
            self.counters.dropped += 1;
            return false;
        }
        self.push_with(fd, to, |slot| {
            slot[..bytes.len()].copy_from_slice(bytes);
            Some(0..bytes.len())
        })
    }

    /// Sends everything queued, in as few `sendmmsg` calls as the kernel
    /// allows. `WouldBlock` if the socket's buffer filled first (the rest
    /// stays queued, in order); a datagram the kernel refuses is dropped
    /// and counted, and the ones after it still go.
    pub fn flush(&mut self, fd: RawFd) -> io::Result<()> {
        while !self.queued.is_empty() {
            match self.send_once(fd) {
                Ok(sent) => self.consume(sent),
                Err(Errno::EAGAIN) => return Err(io::ErrorKind::WouldBlock.into()),
                Err(Errno::EINTR) => {}
                Err(_) => {
                    // sendmmsg reports an error only for its first datagram.
                    self.counters.dropped += 1;
                    self.consume(1);
                }
            }
        }
        Ok(())
    }

    /// One `sendmmsg` of the queue: how many datagrams the kernel took.
    fn send_once(&mut self, fd: RawFd) -> nix::Result<usize> {
        let SendBatch {
            headers,
            buf,
            slot,
            queued,
            counters,
        } = self;
        let n = queued.len();
        let iovs: [[IoSlice; 1]; N] = std::array::from_fn(|i| {
            let range = queued.get(i).map_or(0..0, |(_, r)| r.clone());
            [IoSlice::new(&buf[i * *slot..][range])]
        });
        let addrs: [Option<SockaddrIn>; N] = std::array::from_fn(|i| queued.get(i).map(|q| q.0));
        let sent = sendmmsg(
            fd,
            headers,
            iovs[..n].iter(),
            &addrs[..n],
            [] as [ControlMessage; 0],
            MsgFlags::MSG_DONTWAIT,
        )?
        .count();
        counters.calls += 1;
        counters.packets += sent as u64;
        Ok(sent)
    }

    /// Forgets the first `sent` queued datagrams, moving the rest (only
    /// after a partial send) to the front slots.
    fn consume(&mut self, sent: usize) {
        let sent = sent.min(self.queued.len());
        if sent == self.queued.len() {
            self.queued.clear();
            return;
        }
        self.queued.drain(..sent);
        for (i, (_, range)) in self.queued.iter_mut().enumerate() {
            let from = (i + sent) * self.slot;
            self.buf
                .copy_within(from + range.start..from + range.end, i * self.slot);
            *range = 0..range.len();
        }
    }
}
