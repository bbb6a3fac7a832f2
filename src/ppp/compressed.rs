//! PPP protocol `0x00FD`, the compressed datagram (RFC 1962 §2), as MPPE
//! and MPPC use it: one 2-octet header (RFC 3078 §3, RFC 2118 §3.1) with the
//! bits A (FLUSHED), B (AT_FRONT), C (COMPRESSED), D (ENCRYPTED) and one
//! 12-bit coherency count, shared by both.
//!
//! Sending compresses, then encrypts; receiving decrypts, then decompresses.
//! The A bit means the same to both layers: the sender reset its MPPC
//! history and (stateful MPPE) restarted RC4. So:
//!
//! - Whenever MPPE sets A (stateless mode on every packet, stateful mode on
//!   0xFF counts and after a Reset-Request), the compressor is reset first,
//!   and whenever MPPC sets A (a packet that would expand goes out
//!   uncompressed) MPPE restarts RC4 as after a Reset-Request.
//! - Stateless mode (the H bit) therefore compresses every packet against an
//!   empty history ("history-less", as Windows calls it): no MPPC state
//!   carries over, a loss costs nothing more than the lost packet. With MPPC
//!   alone H means the same: the sender flushes every packet.
//! - Stateful mode (and MPPC alone without H) carries the history over. A
//!   receiver that sees a coherency-count gap or a packet that does not
//!   decompress sends a CCP Reset-Request and discards everything until a
//!   packet with A arrives; the sender's answer to the Reset-Request is such
//!   a packet (MPPE's own resync, [`Mppe::decrypt`], drives the count check
//!   when MPPE runs). The Reset-Request is repeated every 32 discarded
//!   packets in case it or its answer was lost.
//!
//! Everything works in the caller's buffers; the MPPC histories are
//! allocated once, when CCP comes up.

use crate::mppc::{MppcCompressor, MppcDecompressor, MppcError, MppcFlags};
use crate::mppe::{Decrypted, Mppe, MppeError};
use crate::wire::mppe::{CoherencyCount, MppeFlags, MppeHeader};

/// Octets of the MPPE/MPPC header.
pub(crate) const HEADER_LEN: usize = 2;

/// The 12 bits of the coherency count.
const COUNT_MASK: u16 = crate::wire::mppe::CoherencyCount::MODULUS - 1;

/// A receiver still discarding repeats its Reset-Request after this many
/// discarded packets (as stateful MPPE does).
const RESET_REPEAT: u16 = 32;

/// What [`CompressedLink::open`] made of a packet.
#[derive(Debug)]
pub(crate) enum Opened<'a> {
    /// Not compressed: the PPP protocol field and data, in place.
    InPlace(&'a [u8]),
    /// Decompressed: read it with [`CompressedLink::expanded`].
    Expanded,
    /// Dropped while resynchronising (or a compressed packet MPPC was not
    /// negotiated for); send a CCP Reset-Request if asked.
    Discarded {
        /// Ask the peer to flush.
        send_reset_request: bool,
    },
    /// MPPC could not decompress the packet; a Reset-Request is due.
    Undecodable(MppcError),
}

/// The negotiated MPPE and/or MPPC state of one link, both directions.
#[derive(Debug)]
pub(crate) struct CompressedLink {
    mppe: Option<Mppe>,
    compressor: Option<MppcCompressor>,
    decompressor: Option<MppcDecompressor>,
    /// The H bit: every packet sent flushes the MPPC history.
    stateless: bool,
    /// MPPC alone: the count of the last packet sent.
    send_count: u16,
    /// MPPC alone: the count of the last packet received.
    recv_count: u16,
    /// Packets refused since the decompressor lost step.
    refused: u16,
}

impl CompressedLink {
    /// A link with MPPE if `mppe`, compressing what it sends if
    /// `compress` and decompressing what it receives if `decompress`.
    /// An MPPC packet expands to at most `max_output` octets (protocol field
    /// and data: our MRU and 2), so an 18-octet frame cannot unfold into
    /// 8 KiB.
    pub(crate) fn new(
        mppe: Option<Mppe>,
        compress: bool,
        decompress: bool,
        stateless: bool,
        max_output: usize,
    ) -> Self {
        CompressedLink {
            mppe,
            compressor: compress.then(MppcCompressor::new),
            decompressor: decompress.then(|| MppcDecompressor::with_max_output(max_output)),
            stateless,
            send_count: COUNT_MASK,
            recv_count: COUNT_MASK,
            refused: 0,
        }
    }

    /// Whether MPPE encrypts the link.
    pub(crate) fn is_encrypted(&self) -> bool {
        self.mppe.is_some()
    }

    /// Whether MPPC compresses what we send / decompresses what we receive.
    pub(crate) fn mppc(&self) -> (bool, bool) {
        (self.compressor.is_some(), self.decompressor.is_some())
    }

    /// The peer sent a CCP Reset-Request (RFC 1962 §2.2): the next packet
    /// flushes both the MPPC history and (stateful) the RC4 state.
    pub(crate) fn reset_requested(&mut self) {
        if let Some(mppe) = self.mppe.as_mut() {
            mppe.reset_requested();
        }
        if let Some(compressor) = self.compressor.as_mut() {
            compressor.reset();
        }
    }

    /// Compresses and encrypts `body[2..2 + len]` (PPP protocol field and
    /// data) in place, writes the header into `body[0..2]` and returns the
    /// packet's length, at most `2 + len`. `body` holds at least `2 + len`.
    pub(crate) fn seal(&mut self, body: &mut [u8], len: usize) -> Result<usize, MppeError> {
        let required = len.saturating_add(HEADER_LEN);
        if len == 0 {
            return Err(MppeError::TooShort { len });
        }
        let Some(packet) = body.get_mut(..required) else {
            return Err(MppeError::BufferTooSmall { required });
        };
        let mut flags = MppcFlags::empty();
        let mut len = len;
        if let Some(compressor) = self.compressor.as_mut() {
            // RFC 3078 §3: one A bit for both; a flushing MPPE packet must
            // carry a flushed history too.
            if self.stateless || self.mppe.as_ref().is_some_and(Mppe::next_packet_flushes) {
                compressor.reset();
            }
            let out = compressor.compress_in_place(&mut packet[HEADER_LEN..]);
            len = out.len;
            flags = out.flags;
        }
        match self.mppe.as_mut() {
            Some(mppe) => mppe.encrypt_with(packet, len, flags),
            None => {
                self.send_count = (self.send_count + 1) & COUNT_MASK;
                let header = MppeHeader {
                    flags: MppeFlags::from_bits_truncate(flags.to_header()),
                    coherency_count: CoherencyCount::new(self.send_count),
                };
                header.emit(&mut &mut packet[..HEADER_LEN]);
                Ok(HEADER_LEN + len)
            }
        }
    }

    /// Decrypts and decompresses one `0x00FD` packet (header and payload).
    pub(crate) fn open<'a>(&mut self, packet: &'a mut [u8]) -> Result<Opened<'a>, MppeError> {
        let (flags, payload) = match self.mppe.as_mut() {
            Some(mppe) => match mppe.decrypt(packet)? {
                Decrypted::Plaintext {
                    payload,
                    flushed,
                    at_front,
                    compressed,
                } => {
                    let mut flags = MppcFlags::empty();
                    flags.set(MppcFlags::FLUSHED, flushed);
                    flags.set(MppcFlags::AT_FRONT, at_front);
                    flags.set(MppcFlags::COMPRESSED, compressed);
                    (flags, payload)
                }
                Decrypted::SendResetRequest => {
                    // A lost packet took history with it too.
                    if let Some(d) = self.decompressor.as_mut() {
                        d.require_flush();
                    }
                    return Ok(Opened::Discarded {
                        send_reset_request: true,
                    });
                }
                Decrypted::Discarded => {
                    return Ok(Opened::Discarded {
                        send_reset_request: false,
                    })
                }
            },
            None => match self.check_count(packet)? {
                Ok(flags) => (flags, packet.get_mut(HEADER_LEN..).unwrap_or_default()),
                Err(discarded) => return Ok(discarded),
            },
        };
        let Some(decompressor) = self.decompressor.as_mut() else {
            if flags.contains(MppcFlags::COMPRESSED) {
                return Ok(Opened::Discarded {
                    send_reset_request: false,
                });
            }
            return Ok(Opened::InPlace(payload));
        };
        match decompressor.decompress(flags, payload) {
            Ok(_) => {
                self.refused = 0;
                if flags.contains(MppcFlags::COMPRESSED) {
                    Ok(Opened::Expanded)
                } else {
                    Ok(Opened::InPlace(payload))
                }
            }
            Err(MppcError::NeedsReset) => {
                self.refused = self.refused.wrapping_add(1);
                Ok(Opened::Discarded {
                    send_reset_request: self.refused % RESET_REPEAT == 0,
                })
            }
            Err(e) => {
                self.refused = 0;
                Ok(Opened::Undecodable(e))
            }
        }
    }

    /// MPPC alone (RFC 2118 §3.1): a gap in the coherency count means lost
    /// history unless the packet flushed it. Returns the packet's A/B/C
    /// bits, or the outcome when it is refused.
    fn check_count(
        &mut self,
        packet: &[u8],
    ) -> Result<Result<MppcFlags, Opened<'static>>, MppeError> {
        let len = packet.len();
        let header = match MppeHeader::parse(packet) {
            Ok((h, _)) if len > HEADER_LEN => h,
            _ => return Err(MppeError::TooShort { len }),
        };
        if header.flags.contains(MppeFlags::ENCRYPTED) {
            // Encrypted although MPPE was not negotiated: nothing to read.
            return Ok(Err(Opened::Discarded {
                send_reset_request: false,
            }));
        }
        let count = header.coherency_count.get();
        let expected = (self.recv_count + 1) & COUNT_MASK;
        self.recv_count = count;
        let flushed = header.flags.contains(MppeFlags::FLUSHED);
        if count != expected && !flushed {
            if let Some(d) = self.decompressor.as_mut() {
                if !d.needs_reset() {
                    d.require_flush();
                    self.refused = 0;
                    return Ok(Err(Opened::Discarded {
                        send_reset_request: true,
                    }));
                }
            }
        }
        Ok(Ok(MppcFlags::from_header(
            header.flags.bits() | header.coherency_count.get(),
        )))
    }

    /// The packet the last [`open`](Self::open) returned
    /// [`Opened::Expanded`] for: PPP protocol field and data.
    pub(crate) fn expanded(&self) -> &[u8] {
        self.decompressor
            .as_ref()
            .map(MppcDecompressor::last_output)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;
    use crate::crypto::MppeKeys;
    use crate::mppe::{KeyLength, MppeOptions};

    fn pair(mppe: Option<MppeOptions>, stateless: bool) -> (CompressedLink, CompressedLink) {
        let a = MppeKeys {
            send: [1; 16],
            recv: [2; 16],
        };
        let b = MppeKeys {
            send: [2; 16],
            recv: [1; 16],
        };
        (
            CompressedLink::new(mppe.map(|o| Mppe::new(o, &a)), true, true, stateless, 8192),
            CompressedLink::new(mppe.map(|o| Mppe::new(o, &b)), true, true, stateless, 8192),
        )
    }

    /// Packet `i`: text, or (every third) bytes that do not compress.
    fn packet(i: u32) -> Vec<u8> {
        let mut p = vec![0x00, 0x21];
        if i % 3 == 0 {
            let mut x = i.wrapping_mul(0x9e37_79b9) | 1;
            p.extend((0..200).map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            }));
        } else {
            for k in 0..(20 + i % 40) {
                p.extend_from_slice(alloc::format!("line {k} of packet {i}; ").as_bytes());
            }
        }
        p
    }

    fn send(link: &mut CompressedLink, i: u32) -> Vec<u8> {
        let plain = packet(i);
        let mut buf = vec![0u8; plain.len() + HEADER_LEN];
        buf[HEADER_LEN..].copy_from_slice(&plain);
        let n = link.seal(&mut buf, plain.len()).unwrap();
        buf.truncate(n);
        buf
    }

    /// The packet `rx` got out of `wire`, or how it was refused.
    fn receive(rx: &mut CompressedLink, mut wire: Vec<u8>) -> Result<Vec<u8>, bool> {
        match rx.open(&mut wire) {
            Ok(Opened::InPlace(p)) => Ok(p.to_vec()),
            Ok(Opened::Expanded) => Ok(rx.expanded().to_vec()),
            Ok(Opened::Discarded { send_reset_request }) => Err(send_reset_request),
            Ok(Opened::Undecodable(_)) => Err(true),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn every_mode_round_trips_across_flag_packets_and_flushes() {
        let stateful = MppeOptions::new(KeyLength::Bits128, false);
        for (mppe, stateless) in [
            (Some(stateful), false),
            (Some(stateful.with_reset_rekeys(true)), false),
            (Some(MppeOptions::new(KeyLength::Bits40, true)), true),
            (None, false),
            (None, true),
        ] {
            let (mut tx, mut rx) = pair(mppe, stateless);
            // Past two 0xFF counts; every third packet goes out flushed.
            for i in 0..600 {
                let wire = send(&mut tx, i);
                let flags = MppeFlags::from_bits_truncate(u16::from_be_bytes([wire[0], wire[1]]));
                if stateless || i % 3 == 0 {
                    assert!(flags.contains(MppeFlags::FLUSHED), "{mppe:?} {i}");
                }
                assert_eq!(flags.contains(MppeFlags::ENCRYPTED), mppe.is_some());
                assert_eq!(receive(&mut rx, wire), Ok(packet(i)), "{mppe:?} {i}");
            }
        }
    }

    #[test]
    fn an_mppc_packet_expanding_past_the_mru_is_refused() {
        // An MPPC bomb: a few octets of compressed zeros that unfold far past
        // what the receiver accepts (its MRU and the protocol field).
        for mppe in [Some(MppeOptions::new(KeyLength::Bits128, true)), None] {
            let keys = |s, r| MppeKeys {
                send: [s; 16],
                recv: [r; 16],
            };
            let mut tx = CompressedLink::new(
                mppe.map(|o| Mppe::new(o, &keys(1, 2))),
                true,
                false,
                true,
                8192,
            );
            let mut rx = CompressedLink::new(
                mppe.map(|o| Mppe::new(o, &keys(2, 1))),
                false,
                true,
                true,
                1502,
            );
            let mut plain = vec![0u8; 8000];
            plain[1] = 0x21;
            let mut buf = vec![0u8; plain.len() + HEADER_LEN];
            buf[HEADER_LEN..].copy_from_slice(&plain);
            let n = tx.seal(&mut buf, plain.len()).unwrap();
            assert!(n < 200, "{n}: the bomb should be small");
            buf.truncate(n);
            assert!(
                receive(&mut rx, buf).is_err(),
                "{mppe:?}: an 8 000-octet expansion was taken"
            );
            // A packet within the bound still goes through.
            let ok = packet(1);
            let mut buf = vec![0u8; ok.len() + HEADER_LEN];
            buf[HEADER_LEN..].copy_from_slice(&ok);
            let n = tx.seal(&mut buf, ok.len()).unwrap();
            buf.truncate(n);
            assert_eq!(receive(&mut rx, buf), Ok(ok), "{mppe:?}");
        }
    }

    #[test]
    fn a_gap_discards_until_the_answer_to_the_reset_request() {
        let stateful = MppeOptions::new(KeyLength::Bits128, false);
        for mppe in [Some(stateful), None] {
            let (mut tx, mut rx) = pair(mppe, false);
            assert!(receive(&mut rx, send(&mut tx, 1)).is_ok());
            let _lost = send(&mut tx, 2);
            assert_eq!(receive(&mut rx, send(&mut tx, 4)), Err(true), "{mppe:?}");
            assert_eq!(receive(&mut rx, send(&mut tx, 5)), Err(false), "{mppe:?}");
            tx.reset_requested();
            assert_eq!(
                receive(&mut rx, send(&mut tx, 7)),
                Ok(packet(7)),
                "{mppe:?}"
            );
            assert_eq!(
                receive(&mut rx, send(&mut tx, 8)),
                Ok(packet(8)),
                "{mppe:?}"
            );
        }
    }

    #[test]
    fn an_undecodable_packet_asks_for_a_reset() {
        let stateful = MppeOptions::new(KeyLength::Bits128, false);
        for mppe in [Some(stateful), None] {
            let (mut tx, mut rx) = pair(mppe, false);
            let mut wire = send(&mut tx, 1);
            // A copy reaching before the front of the history: the first
            // code of a packet at the front cannot be a copy.
            let encrypted = mppe.is_some();
            if !encrypted {
                wire[2] = 0xf0;
                wire[3] = 0x40;
                assert_eq!(receive(&mut rx, wire), Err(true));
                assert_eq!(receive(&mut rx, send(&mut tx, 2)), Err(false));
                tx.reset_requested();
                assert_eq!(receive(&mut rx, send(&mut tx, 4)), Ok(packet(4)));
            } else {
                // Flip ciphertext: MPPE cannot tell, MPPC must not panic.
                wire[5] ^= 0x55;
                let _ = receive(&mut rx, wire);
                tx.reset_requested();
                let mut resynced = false;
                for i in 2..40 {
                    if receive(&mut rx, send(&mut tx, i)) == Ok(packet(i)) {
                        resynced = true;
                    }
                }
                assert!(resynced);
            }
        }
    }
}
