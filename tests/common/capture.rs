//! Reading the captures in `../shared/captures` with `pcap-file` and
//! `etherparse`, and reassembling TCP port 1723 streams. Used by the
//! integration tests (through `common`) and by the crate's own unit tests that
//! replay captures into internal machines (`src/ppp/replay_tests.rs`), which
//! is why it names what it takes from `std`: the crate is `no_std`.

use std::println;
use std::vec::Vec;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_file::pcap::PcapReader;
use pcap_file::DataLink;

#[path = "skips.rs"]
pub mod skips;

/// Where the shared captures live, if they are present.
pub fn captures_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/captures");
    dir.is_dir().then_some(dir)
}

/// Returns the captures directory, or explains why the test is skipped and
/// records the skip for the summary at the end of `cargo test` ([`skips`]).
/// Under CI (`CI` set) a missing directory is a failure, not a skip.
pub fn require_captures(test: &str) -> Option<PathBuf> {
    match captures_dir() {
        Some(d) => {
            skips::clear();
            Some(d)
        }
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{test}: ../shared/captures is missing and CI is set"
            );
            println!("{test}: ../shared/captures not present, skipping");
            skips::record();
            None
        }
    }
}

/// One TCP or GRE unit found in a capture frame.
#[derive(Debug, Clone)]
pub enum Unit {
    /// A TCP segment to or from port 1723.
    Tcp {
        /// `(source, source port, destination, destination port)`.
        flow: (IpAddr, u16, IpAddr, u16),
        /// The TCP sequence number.
        seq: u32,
        /// SYN flag.
        syn: bool,
        /// The segment's payload.
        payload: Vec<u8>,
    },
    /// A GRE packet (IP protocol 47), without its IP header.
    Gre {
        /// Outer source address.
        src: IpAddr,
        /// Outer destination address.
        dst: IpAddr,
        /// The GRE header and payload.
        bytes: Vec<u8>,
    },
    /// A PPP frame from a DLT_PPP / PPP-serial capture (starts at the address field).
    Ppp(Vec<u8>),
}

/// A frame of a capture: its 1-based number, time and what it carries.
#[derive(Debug, Clone)]
pub struct Frame {
    /// 1-based frame number, as Wireshark counts.
    pub number: usize,
    /// Timestamp.
    pub time: std::time::Duration,
    /// The PPTP-relevant content, if any.
    pub unit: Option<Unit>,
}

/// Reads every frame of a classic pcap file.
pub fn read_capture(path: &std::path::Path) -> Vec<Frame> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = PcapReader::new(file).expect("pcap header");
    let datalink = reader.header().datalink;
    let mut frames = Vec::new();
    let mut number = 0;
    while let Some(packet) = reader.next_packet() {
        let packet = packet.expect("pcap record");
        number += 1;
        let unit = match datalink {
            DataLink::ETHERNET => SlicedPacket::from_ethernet(&packet.data)
                .ok()
                .and_then(|p| unit_from_sliced(&p)),
            DataLink::PPP | DataLink::PPP_HDLC => Some(Unit::Ppp(packet.data.to_vec())),
            other => panic!("{}: unexpected link type {other:?}", path.display()),
        };
        frames.push(Frame {
            number,
            time: packet.timestamp,
            unit,
        });
    }
    frames
}

fn unit_from_sliced(p: &SlicedPacket<'_>) -> Option<Unit> {
    let (src, dst, payload) = match p.net.as_ref()? {
        NetSlice::Ipv4(ip) => (
            IpAddr::V4(ip.header().source_addr()),
            IpAddr::V4(ip.header().destination_addr()),
            ip.payload(),
        ),
        NetSlice::Ipv6(ip) => (
            IpAddr::V6(ip.header().source_addr()),
            IpAddr::V6(ip.header().destination_addr()),
            ip.payload(),
        ),
    };
    match payload.ip_number.0 {
        // GRE
        47 => Some(Unit::Gre {
            src,
            dst,
            bytes: payload.payload.to_vec(),
        }),
        // IPv4 in IP (zeek's 4in6 capture): look inside.
        4 => SlicedPacket::from_ip(payload.payload)
            .ok()
            .and_then(|inner| unit_from_sliced(&inner)),
        6 => match p.transport.as_ref()? {
            TransportSlice::Tcp(tcp)
                if tcp.source_port() == 1723 || tcp.destination_port() == 1723 =>
            {
                Some(Unit::Tcp {
                    flow: (src, tcp.source_port(), dst, tcp.destination_port()),
                    seq: tcp.sequence_number(),
                    syn: tcp.syn(),
                    payload: tcp.payload().to_vec(),
                })
            }
            _ => None,
        },
        _ => None,
    }
}

/// A reassembled TCP stream in one direction, with the frame numbers that
/// contributed to it.
#[derive(Debug, Default, Clone)]
pub struct Stream {
    /// The in-order bytes.
    pub bytes: Vec<u8>,
    /// Bytes that arrived after a hole that never filled (capture loss).
    pub gaps: usize,
}

/// Reassembles every TCP flow of the capture in sequence order, dropping
/// retransmitted and duplicated segments.
pub fn reassemble(frames: &[Frame]) -> BTreeMap<(IpAddr, u16, IpAddr, u16), Stream> {
    #[derive(Default)]
    struct State {
        next: Option<u32>,
        pending: BTreeMap<u32, Vec<u8>>,
        out: Stream,
    }
    let mut flows: BTreeMap<_, State> = BTreeMap::new();
    for f in frames {
        let Some(Unit::Tcp {
            flow,
            seq,
            syn,
            payload,
        }) = &f.unit
        else {
            continue;
        };
        let st = flows.entry(*flow).or_default();
        if *syn {
            st.next = Some(seq.wrapping_add(1));
            continue;
        }
        if payload.is_empty() {
            continue;
        }
        let next = *st.next.get_or_insert(*seq);
        let offset = seq.wrapping_sub(next) as i32;
        if offset > 0 {
            st.pending.entry(*seq).or_insert_with(|| payload.clone());
            continue;
        }
        push_segment(st_next(&mut st.next), &mut st.out.bytes, *seq, payload);
        // Drain pending segments that now fit.
        loop {
            let next = st.next.unwrap_or(0);
            let Some((&s, _)) = st
                .pending
                .iter()
                .find(|(s, _)| (s.wrapping_sub(next) as i32) <= 0)
            else {
                break;
            };
            let data = st.pending.remove(&s).unwrap_or_default();
            push_segment(st_next(&mut st.next), &mut st.out.bytes, s, &data);
        }
    }
    flows
        .into_iter()
        .map(|(k, mut st)| {
            // Segments after a hole that never filled: append in order, note the gap.
            let pending = std::mem::take(&mut st.pending);
            for (_, data) in pending {
                st.out.gaps += 1;
                st.out.bytes.extend_from_slice(&data);
            }
            (k, st.out)
        })
        .collect()
}

fn st_next(next: &mut Option<u32>) -> &mut u32 {
    next.get_or_insert(0)
}

fn push_segment(next: &mut u32, out: &mut Vec<u8>, seq: u32, payload: &[u8]) {
    // Skip the part already delivered (retransmission or duplicate).
    let already = next.wrapping_sub(seq) as usize;
    if already >= payload.len() {
        return;
    }
    out.extend_from_slice(&payload[already..]);
    *next = seq.wrapping_add(payload.len() as u32);
}
