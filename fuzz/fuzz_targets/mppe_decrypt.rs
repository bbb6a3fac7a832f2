//! MPPE decryption in both modes (stateless and stateful, 40/56/128-bit):
//! arbitrary packets interleaved with genuine ones from a sender holding
//! the matching keys, some lost, some bit-flipped, and sender resets. Never
//! panics; a packet MPPE refuses leaves the receive state as it was; a
//! genuine packet that decrypts gives back exactly what was sent, until a
//! forged packet was accepted (MPPE has no integrity check: a forged count
//! moves a stateless receiver's key chain too), or, with Linux's stateful
//! reset rekeying without the protocol check, until a FLUSHED packet was
//! lost or discarded. With the check on (a mode bit), genuine packets are
//! IPv4 frames and a forged packet is taken only if it decrypts to one.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use common::Script;
use libfuzzer_sys::fuzz_target;
use pptp_proto::crypto::{KeyLength, MppeKeys};
use pptp_proto::mppe::{Decrypted, Mppe, MppeOptions};

fn receive(mppe: &mut Mppe, packet: &mut [u8]) -> Option<Vec<u8>> {
    let before = mppe.receive_coherency_count();
    match mppe.decrypt(packet) {
        Ok(Decrypted::Plaintext { payload, .. }) => Some(payload.to_vec()),
        Ok(_) => None,
        Err(_) => {
            assert_eq!(mppe.receive_coherency_count(), before);
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut s = Script(data);
    let Some(mode) = s.byte() else { return };
    let length = [KeyLength::Bits40, KeyLength::Bits56, KeyLength::Bits128][usize::from(mode % 3)];
    let stateless = mode & 0x80 != 0;
    let reset_rekeys = mode & 0x40 != 0;
    let options = MppeOptions::new(length, stateless)
        .with_reset_rekeys(reset_rekeys)
        .with_max_catch_up(if mode & 0x20 != 0 { 2048 } else { 4095 })
        .with_verify_protocol(mode & 0x10 != 0);
    // With the protocol check on, genuine packets are PPP frames (IPv4).
    let verify = options.verify_protocol;
    let mut receiver = Mppe::new(
        options,
        &MppeKeys {
            send: [7; 16],
            recv: [9; 16],
        },
    );
    let mut sender = Mppe::new(
        options,
        &MppeKeys {
            send: [9; 16],
            recv: [7; 16],
        },
    );
    let mut forged_accepted = false;
    // Linux's stateful reset (a new key per reset) cannot recover when a
    // FLUSHED packet is lost or discarded: the receiver misses a rekey it
    // cannot count (a documented limit of that option, shared with Linux).
    let mut flushed_lost = false;
    let mut buf = [0u8; 300];
    while let Some(op) = s.byte() {
        match op % 5 {
            0 => {
                let Some(raw) = s.chunk() else { break };
                let mut packet = raw.to_vec();
                forged_accepted |= receive(&mut receiver, &mut packet).is_some();
            }
            1..=3 => {
                let Some(plain) = s.chunk() else { break };
                if plain.len() < 2 {
                    continue;
                }
                let mut plain = plain.to_vec();
                if verify {
                    plain[..2].copy_from_slice(&[0x00, 0x21]);
                }
                let plain = &plain[..];
                buf[2..2 + plain.len()].copy_from_slice(plain);
                let n = sender
                    .encrypt(&mut buf, plain.len())
                    .expect("room for 255 bytes");
                let mut packet = buf[..n].to_vec();
                let flushed = buf[0] & 0x80 != 0;
                match op % 5 {
                    1 => match receive(&mut receiver, &mut packet) {
                        Some(got) if !forged_accepted && !flushed_lost => {
                            assert_eq!(got, plain, "a genuine packet decrypted wrong");
                        }
                        Some(_) => {}
                        // Discarded (a gap not yet answered by a reset).
                        None => flushed_lost |= !stateless && reset_rekeys && flushed && !verify,
                    },
                    2 => {
                        flushed_lost |=
                            !stateless && reset_rekeys && packet[0] & 0x80 != 0 && !verify
                    }
                    _ => {
                        let (Some(at), Some(x)) = (s.byte(), s.byte()) else {
                            break;
                        };
                        if let Some(b) = packet.get_mut(usize::from(at)) {
                            *b ^= x;
                        }
                        match receive(&mut receiver, &mut packet) {
                            Some(_) => forged_accepted = true,
                            // Refused: as good as lost.
                            None => {
                                flushed_lost |= !stateless && reset_rekeys && flushed && !verify
                            }
                        }
                    }
                }
            }
            _ => sender.reset_requested(),
        }
    }
});
