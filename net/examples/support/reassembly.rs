//! IPv4 reassembly for the server example's echo responder (bounded; see
//! [`Reassembly`]). Its own file so that `tests/example_support.rs` can
//! test it without the socket code.

use std::net::Ipv4Addr;

use etherparse::{NetSlice, SlicedPacket};
use pptp_proto::time::{Duration, Instant};

/// Reassembles IPv4 fragments addressed to the example's own tunnel
/// address, so that its echo responder answers a fragmented ping as a host
/// would (`ping -s 2000` through a 1400-byte tunnel). etherparse's pool does
/// the work; this bounds it, which the pool itself does not: at most
/// [`Reassembly::MAX_PENDING`] packets in progress (a new one beyond that
/// drops them all), each kept at most [`Reassembly::TIMEOUT`] (RFC 791's
/// 15 s lower bound; Linux uses 30 s), none larger than 65 535 octets.
#[derive(Default)]
pub struct Reassembly {
    pool: etherparse::defrag::IpDefragPool<Instant, u64>,
    /// Packets in progress: (channel, source, identification), first seen.
    pending: Vec<((u64, Ipv4Addr, u16), Instant)>,
}

impl Reassembly {
    /// Packets in progress at once.
    pub const MAX_PENDING: usize = 64;
    /// How long a packet may take to arrive whole.
    pub const TIMEOUT: Duration = Duration::from_secs(15);

    /// `packet` if it is not a fragment; the whole packet (a new IPv4
    /// header, fragment fields clear) once its last fragment arrived;
    /// `None` while incomplete or if the fragments do not fit together.
    /// `channel` keeps different tunnels' fragments apart.
    pub fn push(&mut self, now: Instant, channel: u64, packet: &[u8]) -> Option<Vec<u8>> {
        let slice = SlicedPacket::from_ip(packet).ok()?;
        let Some(NetSlice::Ipv4(ip)) = &slice.net else {
            return Some(packet.to_vec());
        };
        let header = ip.header().to_header();
        if !header.is_fragmenting_payload() {
            return Some(packet.to_vec());
        }
        let fresh = |t: &Instant| now.saturating_duration_since(*t) < Self::TIMEOUT;
        self.pool.retain(fresh);
        self.pending.retain(|(_, t)| fresh(t));
        let key = (
            channel,
            Ipv4Addr::from(header.source),
            header.identification,
        );
        if !self.pending.iter().any(|(k, _)| *k == key) {
            if self.pending.len() >= Self::MAX_PENDING {
                self.pool.retain(|_| false);
                self.pending.clear();
            }
            self.pending.push((key, now));
        }
        let first_seen = self
            .pending
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, t)| *t)?;
        let result = self.pool.process_sliced_packet(&slice, first_seen, channel);
        let whole = match result {
            Ok(Some(whole)) => whole,
            Ok(None) => return None,
            Err(_) => {
                self.pending.retain(|(k, _)| *k != key);
                return None;
            }
        };
        self.pending.retain(|(k, _)| *k != key);
        let mut out_header = etherparse::Ipv4Header::new(
            u16::try_from(whole.payload.len()).ok()?,
            header.time_to_live,
            whole.ip_number,
            header.source,
            header.destination,
        )
        .ok()?;
        out_header.identification = header.identification;
        out_header.header_checksum = out_header.calc_header_checksum();
        let mut out = Vec::with_capacity(out_header.header_len() + whole.payload.len());
        out_header.write(&mut out).ok()?;
        out.extend_from_slice(&whole.payload);
        self.pool.return_buf(whole);
        Some(out)
    }
}
