//! Full-size packets over a smaller tunnel: what a TUN embedder does with an
//! IP packet larger than the session MTU ([`ClientEvent::Up`]'s `mtu`).
//!
//! [`Client::send_ip`] and [`Server::send_ip`] refuse a packet over the MTU
//! (`TooLarge`); dropping it there would blackhole every full-size packet
//! (TCP without MSS clamping, large UDP). [`fit`] says what to do instead,
//! as a router would (RFC 791, RFC 1191, RFC 4443):
//!
//! - IPv4 with DF clear: send the [`Ipv4Fragments`] it yields, each written
//!   into the caller's buffer.
//! - IPv4 with DF set, or IPv6 (routers never fragment it): hand the sender
//!   the ICMP "fragmentation needed" / ICMPv6 "packet too big" error that
//!   [`fit`] wrote into `reply`, naming the session MTU, so its path MTU
//!   discovery adapts.
//!
//! Nothing here allocates: every byte is written into the caller's buffers.
//!
//! [`ClientEvent::Up`]: crate::client::ClientEvent::Up
//! [`Client::send_ip`]: crate::client::Client::send_ip
//! [`Server::send_ip`]: crate::server::Server::send_ip
//!
//! # Example
//!
//! ```
//! use pptp_proto::mtu::{fit, Fit, Ipv4Fragments, MtuError};
//!
//! // A 1 500-octet IPv4 packet with DF clear, over a 1 396-octet tunnel.
//! let mut packet = vec![0u8; 1500];
//! packet[0] = 0x45;
//! packet[2..4].copy_from_slice(&1500u16.to_be_bytes());
//! packet[8] = 64; // TTL
//! packet[9] = 17; // UDP
//! packet[12..16].copy_from_slice(&[10, 0, 0, 2]);
//! packet[16..20].copy_from_slice(&[192, 0, 2, 9]);
//! let mut reply = [0u8; 1280];
//! let local = ([10, 0, 0, 1].into(), "fe80::1".parse().unwrap());
//! let Ok(Fit::Fragments(mut fragments)) = fit(&packet, 1396, local, &mut reply) else {
//!     panic!()
//! };
//! let mut out = [0u8; 1396];
//! let mut sizes = Vec::new();
//! let fragments: &mut Ipv4Fragments = &mut fragments;
//! while let Some(n) = fragments.next_into(&mut out).unwrap() {
//!     sizes.push(n); // send out[..n] with send_ip
//! }
//! assert_eq!(sizes, [1396, 124]); // 1 376 + 104 octets of payload
//!
//! // The same packet with DF set: an ICMP error for the sender instead.
//! packet[6] = 0x40;
//! let Ok(Fit::Reply(n)) = fit(&packet, 1396, local, &mut reply) else { panic!() };
//! assert_eq!((reply[9], reply[20], reply[21]), (1, 3, 4)); // ICMP, type 3 code 4
//! assert_eq!(u16::from_be_bytes([reply[26], reply[27]]), 1396); // next-hop MTU
//! assert_eq!(&reply[16..20], &[10, 0, 0, 2]); // back to the sender
//! assert_eq!(n, 20 + 8 + 28);
//! // Bytes that are no IP packet.
//! assert_eq!(fit(&[0x45, 0], 1396, local, &mut reply).unwrap_err(), MtuError::Malformed);
//! // A packet of the MTU fits as it is.
//! packet[2..4].copy_from_slice(&1396u16.to_be_bytes());
//! assert!(matches!(fit(&packet[..1396], 1396, local, &mut reply), Ok(Fit::Fits)));
//! ```

use core::net::{Ipv4Addr, Ipv6Addr};

/// What to do with a packet for a tunnel of a given MTU ([`fit`]).
///
/// See the [module example](self).
#[derive(Debug)]
pub enum Fit<'a> {
    /// It fits: send it as it is.
    Fits,
    /// IPv4, DF clear: send each fragment [`Ipv4Fragments::next_into`] writes.
    Fragments(Ipv4Fragments<'a>),
    /// Too big and not to be fragmented: `reply[..n]` is the ICMP or
    /// ICMPv6 error for the packet's sender (write it back to the TUN
    /// device); the packet is dropped.
    Reply(usize),
    /// Too big, and no error may be sent for it (it is itself an ICMP
    /// error, a non-first fragment, or from a multicast or unspecified
    /// source: RFC 1122 §3.2.2, RFC 4443 §2.4): drop it.
    Drop,
}

/// Why [`fit`] could not handle a packet.
///
/// See the [module example](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MtuError {
    /// Not an IPv4 or IPv6 packet, or its header is cut or inconsistent.
    #[error("not a well-formed IP packet")]
    Malformed,
    /// The MTU is below IPv4's minimum of 68 octets (RFC 791).
    #[error("MTU {0} below 68")]
    MtuTooSmall(usize),
    /// The output buffer cannot hold what must be written.
    #[error("buffer too small: {required} octets needed")]
    BufferTooSmall {
        /// Octets needed.
        required: usize,
    },
}

/// Decides what to do with `packet` for a tunnel whose MTU is `mtu`; for a
/// packet that needs an ICMP error, writes it into `reply` from `local` (our
/// tunnel address: IPv4, and IPv6 for IPv6 packets). See the
/// [module example](self).
pub fn fit<'a>(
    packet: &'a [u8],
    mtu: usize,
    local: (Ipv4Addr, Ipv6Addr),
    reply: &mut [u8],
) -> Result<Fit<'a>, MtuError> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => fit_v4(packet, mtu, local.0, reply),
        Some(6) => fit_v6(packet, mtu, local.1, reply),
        _ => Err(MtuError::Malformed),
    }
}

/// The IPv4 header length and total length, checked against the buffer.
fn ipv4_lengths(packet: &[u8]) -> Result<(usize, usize), MtuError> {
    let ihl = usize::from(packet.first().ok_or(MtuError::Malformed)? & 0x0f) * 4;
    let total = packet
        .get(2..4)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .ok_or(MtuError::Malformed)?;
    if ihl < 20 || total < ihl || total > packet.len() {
        return Err(MtuError::Malformed);
    }
    Ok((ihl, total))
}

fn fit_v4<'a>(
    packet: &'a [u8],
    mtu: usize,
    local: Ipv4Addr,
    reply: &mut [u8],
) -> Result<Fit<'a>, MtuError> {
    let (ihl, total) = ipv4_lengths(packet)?;
    if total <= mtu {
        return Ok(Fit::Fits);
    }
    if mtu < 68 {
        return Err(MtuError::MtuTooSmall(mtu));
    }
    let df = packet[6] & 0x40 != 0;
    if !df {
        return Ok(Fit::Fragments(Ipv4Fragments {
            packet: &packet[..total],
            ihl,
            mtu,
            done: 0,
        }));
    }
    // RFC 1122 §3.2.2: no error about an ICMP error, a later fragment, or
    // a source that names no single host.
    let offset = u16::from_be_bytes([packet[6], packet[7]]) & 0x1fff;
    let source = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
    let icmp_error = packet[9] == 1 && packet.get(ihl).is_some_and(|t| !matches!(t, 0 | 8));
    if offset != 0
        || icmp_error
        || source.is_unspecified()
        || source.is_multicast()
        || source.is_broadcast()
    {
        return Ok(Fit::Drop);
    }
    // RFC 1191 §4: type 3 code 4 with the next-hop MTU, quoting the
    // header and 8 octets of the datagram.
    let quoted = &packet[..(ihl + 8).min(total)];
    let n = 20 + 8 + quoted.len();
    let out = reply
        .get_mut(..n)
        .ok_or(MtuError::BufferTooSmall { required: n })?;
    out.fill(0);
    out[0] = 0x45;
    out[2..4].copy_from_slice(&(n as u16).to_be_bytes());
    out[8] = 64;
    out[9] = 1;
    out[12..16].copy_from_slice(&local.octets());
    out[16..20].copy_from_slice(&source.octets());
    let sum = checksum(&[&out[..20]]);
    out[10..12].copy_from_slice(&sum.to_be_bytes());
    out[20] = 3;
    out[21] = 4;
    out[26..28].copy_from_slice(&(mtu.min(0xffff) as u16).to_be_bytes());
    out[28..].copy_from_slice(quoted);
    let sum = checksum(&[&out[20..]]);
    out[22..24].copy_from_slice(&sum.to_be_bytes());
    Ok(Fit::Reply(n))
}

fn fit_v6<'a>(
    packet: &'a [u8],
    mtu: usize,
    local: Ipv6Addr,
    reply: &mut [u8],
) -> Result<Fit<'a>, MtuError> {
    let payload = packet
        .get(4..6)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .ok_or(MtuError::Malformed)?;
    let total = 40 + payload;
    if total > packet.len() {
        return Err(MtuError::Malformed);
    }
    if total <= mtu {
        return Ok(Fit::Fits);
    }
    let mut src = [0u8; 16];
    src.copy_from_slice(&packet[8..24]);
    let source = Ipv6Addr::from(src);
    // RFC 4443 §2.4: no error about an error message (types below 128;
    // only a plain ICMPv6 header is looked at) or to a non-unicast source.
    let icmp_error = packet[6] == 58 && packet.get(40).is_some_and(|t| *t < 128);
    if icmp_error || source.is_unspecified() || source.is_multicast() {
        return Ok(Fit::Drop);
    }
    // RFC 4443 §3.2: as much of the packet as fits in 1 280 octets.
    let quoted = &packet[..total.min(1280 - 48)];
    let n = 48 + quoted.len();
    let out = reply
        .get_mut(..n)
        .ok_or(MtuError::BufferTooSmall { required: n })?;
    out.fill(0);
    out[0] = 0x60;
    let len = (n - 40) as u16;
    out[4..6].copy_from_slice(&len.to_be_bytes());
    out[6] = 58;
    out[7] = 64;
    out[8..24].copy_from_slice(&local.octets());
    out[24..40].copy_from_slice(&src);
    out[40] = 2;
    out[44..48].copy_from_slice(&(mtu as u32).to_be_bytes());
    out[48..].copy_from_slice(quoted);
    // The checksum covers a pseudo-header: addresses, length, next header.
    let mut pseudo = [0u8; 40];
    pseudo[..16].copy_from_slice(&local.octets());
    pseudo[16..32].copy_from_slice(&src);
    pseudo[34..36].copy_from_slice(&len.to_be_bytes());
    pseudo[39] = 58;
    let sum = checksum(&[&pseudo, &out[40..]]);
    out[42..44].copy_from_slice(&sum.to_be_bytes());
    Ok(Fit::Reply(n))
}

/// The RFC 1071 Internet checksum over the concatenation of `parts` (each
/// of even length but the last).
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for part in parts {
        let mut chunks = part.chunks_exact(2);
        for c in &mut chunks {
            sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
        }
        if let [last] = chunks.remainder() {
            sum += u32::from(*last) << 8;
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The fragments of an IPv4 packet with DF clear (RFC 791 §3.2), written one
/// at a time into the caller's buffer. See the [module example](self).
#[derive(Debug, Clone)]
pub struct Ipv4Fragments<'a> {
    packet: &'a [u8],
    ihl: usize,
    mtu: usize,
    /// Payload octets already sent.
    done: usize,
}

impl Ipv4Fragments<'_> {
    /// Writes the next fragment into `out` and returns its length, or
    /// `None` when every fragment has been written. Only options with the
    /// copy flag set go into fragments after the first (RFC 791 §3.1).
    /// See the [module example](self).
    pub fn next_into(&mut self, out: &mut [u8]) -> Result<Option<usize>, MtuError> {
        let data = &self.packet[self.ihl..];
        if self.done >= data.len() {
            return Ok(None);
        }
        let first = self.done == 0;
        // The header of this fragment: the whole header for the first,
        // the copied options only for later ones.
        let mut header = [0u8; 60];
        let hlen = if first {
            header[..self.ihl].copy_from_slice(&self.packet[..self.ihl]);
            self.ihl
        } else {
            header[..20].copy_from_slice(&self.packet[..20]);
            let mut n = 20;
            let options = &self.packet[20..self.ihl];
            let mut i = 0;
            while i < options.len() {
                let kind = options[i];
                let len = match kind {
                    0 => break,
                    1 => 1,
                    _ => usize::from(*options.get(i + 1).ok_or(MtuError::Malformed)?).max(2),
                };
                let option = options.get(i..i + len).ok_or(MtuError::Malformed)?;
                if kind & 0x80 != 0 {
                    header[n..n + len].copy_from_slice(option);
                    n += len;
                }
                i += len;
            }
            // Padded to whole words with End of Option List (zeros).
            n.div_ceil(4) * 4
        };
        let room = (self.mtu - hlen) & !7;
        let take = room.min(data.len() - self.done);
        let n = hlen + take;
        let out = out
            .get_mut(..n)
            .ok_or(MtuError::BufferTooSmall { required: n })?;
        out[..hlen].copy_from_slice(&header[..hlen]);
        out[hlen..].copy_from_slice(&data[self.done..self.done + take]);
        out[0] = 0x40 | (hlen / 4) as u8;
        out[2..4].copy_from_slice(&(n as u16).to_be_bytes());
        let original = u16::from_be_bytes([self.packet[6], self.packet[7]]);
        let offset = (original & 0x1fff) + (self.done / 8) as u16;
        let last = self.done + take == data.len();
        // MF on all but the last; the last keeps the original's MF.
        let mf = if last { original & 0x2000 } else { 0x2000 };
        out[6..8].copy_from_slice(&(mf | offset).to_be_bytes());
        out[10..12].fill(0);
        let sum = checksum(&[&out[..hlen]]);
        out[10..12].copy_from_slice(&sum.to_be_bytes());
        self.done += take;
        Ok(Some(n))
    }
}
