//! The GRE batching of `examples/tokio_server.rs`
//! (`examples/support/batch.rs`), over UDP on the loopback, so without
//! root. The server itself, on namespaces and raw sockets, is tested by
//! `tests/tokio_server.sh` (root).

#[path = "../examples/support/batch.rs"]
mod batch;

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;

use batch::{RecvBatch, SendBatch};

fn pair() -> (UdpSocket, UdpSocket, SocketAddrV4, SocketAddrV4) {
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    let v4 = |s: &UdpSocket| match s.local_addr().unwrap() {
        SocketAddr::V4(v4) => v4,
        SocketAddr::V6(_) => unreachable!(),
    };
    let (aa, ba) = (v4(&a), v4(&b));
    (a, b, aa, ba)
}

/// Receives until the socket is empty: every datagram's source and bytes.
fn drain<const N: usize>(rx: &mut RecvBatch<N>, s: &UdpSocket) -> Vec<(SocketAddrV4, Vec<u8>)> {
    let mut got = Vec::new();
    loop {
        match rx.recv(s.as_raw_fd()) {
            Ok(n) => {
                assert!(n > 0 && n <= N);
                for i in 0..n {
                    let (from, bytes) = rx.get_mut(i).unwrap();
                    got.push((from, bytes.to_vec()));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return got,
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn a_hundred_datagrams_go_in_full_batches_and_arrive_in_order() {
    let (a, b, from, to) = pair();
    let mut tx = SendBatch::<8>::new(256);
    for i in 0..100u8 {
        assert!(tx.push(a.as_raw_fd(), to, &[i; 3]));
    }
    // Twelve full batches went when the slots filled; four wait.
    assert_eq!(tx.pending(), 4);
    assert_eq!((tx.counters.calls, tx.counters.packets), (12, 96));
    tx.flush(a.as_raw_fd()).unwrap();
    assert_eq!(tx.pending(), 0);
    assert_eq!((tx.counters.calls, tx.counters.packets), (13, 100));
    assert_eq!(tx.counters.per_call(), 100.0 / 13.0);

    let mut rx = RecvBatch::<32>::new(256);
    let got = drain(&mut rx, &b);
    assert_eq!(got.len(), 100);
    for (i, (src, bytes)) in got.iter().enumerate() {
        assert_eq!((*src, bytes.as_slice()), (from, &[i as u8; 3][..]));
    }
    // 100 datagrams waiting: 32 a call (the last short), then WouldBlock.
    assert_eq!((rx.counters.calls, rx.counters.packets), (4, 100));
    assert_eq!(rx.counters.dropped, 0);
}

#[test]
fn push_with_writes_into_the_slot_and_sends_only_its_range() {
    let (a, b, _, to) = pair();
    let mut tx = SendBatch::<4>::new(64);
    // As `Server::send_ip` does: the packet is written into the slot.
    assert!(tx.push_with(a.as_raw_fd(), to, |slot| {
        slot[..6].copy_from_slice(b"xxGRE!");
        Some(2..6)
    }));
    assert!(
        !tx.push_with(a.as_raw_fd(), to, |_| None),
        "nothing to send"
    );
    assert!(
        !tx.push_with(a.as_raw_fd(), to, |_| Some(0..65)),
        "beyond the slot"
    );
    assert_eq!(tx.pending(), 1);
    tx.flush(a.as_raw_fd()).unwrap();
    let mut rx = RecvBatch::<4>::new(64);
    let got = drain(&mut rx, &b);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, b"GRE!");
}

#[test]
fn a_datagram_larger_than_a_slot_is_dropped_and_counted() {
    let (a, b, _, to) = pair();
    let mut tx = SendBatch::<4>::new(2048);
    assert!(tx.push(a.as_raw_fd(), to, &[1; 100]));
    assert!(tx.push(a.as_raw_fd(), to, &[2; 10]));
    assert!(
        !tx.push(a.as_raw_fd(), to, &[3; 3000]),
        "larger than a send slot"
    );
    assert_eq!(tx.counters.dropped, 1);
    tx.flush(a.as_raw_fd()).unwrap();
    let mut rx = RecvBatch::<4>::new(16);
    let got = drain(&mut rx, &b);
    // The first was truncated by the kernel: empty, counted.
    assert_eq!(got.len(), 2);
    assert!(got[0].1.is_empty());
    assert_eq!(got[1].1, [2; 10]);
    assert_eq!(rx.counters.dropped, 1);
}

#[test]
fn a_datagram_the_kernel_refuses_is_dropped_and_the_next_ones_still_go() {
    let (a, b, _, to) = pair();
    let mut tx = SendBatch::<4>::new(64);
    // Broadcast without SO_BROADCAST: EACCES for that one datagram.
    let broadcast = SocketAddrV4::new(Ipv4Addr::BROADCAST, to.port());
    assert!(tx.push(a.as_raw_fd(), to, b"one"));
    assert!(tx.push(a.as_raw_fd(), broadcast, b"refused"));
    assert!(tx.push(a.as_raw_fd(), to, b"two"));
    tx.flush(a.as_raw_fd()).unwrap();
    assert_eq!(tx.pending(), 0);
    assert_eq!(tx.counters.dropped, 1);
    assert_eq!(tx.counters.packets, 2);
    let mut rx = RecvBatch::<4>::new(64);
    let got: Vec<Vec<u8>> = drain(&mut rx, &b).into_iter().map(|g| g.1).collect();
    assert_eq!(got, [b"one".to_vec(), b"two".to_vec()]);
}

#[test]
fn an_empty_socket_would_block() {
    let (_, b, _, _) = pair();
    let mut rx = RecvBatch::<4>::new(64);
    let e = rx.recv(b.as_raw_fd()).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    assert_eq!(rx.counters.calls, 0);
    assert!(rx.is_empty());
    let mut tx = SendBatch::<4>::new(64);
    tx.flush(b.as_raw_fd()).unwrap();
    assert_eq!(tx.counters.calls, 0, "nothing queued, no call");
}
