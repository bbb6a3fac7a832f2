//! What every simulated and real-socket example shares: the argument parser,
//! the ICMP echo reply and `describe_ccp`. `loopback` includes it with
//! `#[path]`, and so does the `net` package's `examples/support/mod.rs` for
//! the socket examples; it needs nothing beyond the crate and `etherparse`,
//! so that `cargo run --example loopback` builds no socket, TUN or tokio
//! crate. It is not an example of its own.

#![allow(dead_code)] // each example uses a different part

use std::net::Ipv4Addr;
use std::process::exit;

use etherparse::{Icmpv4Type, NetSlice, PacketBuilder, SlicedPacket, TransportSlice};
use pptp_proto::wire::mppe::MppeBits;

/// The reply to an ICMP echo request addressed to `to`, if `packet` is one.
pub fn echo_reply(packet: &[u8], to: Ipv4Addr) -> Option<Vec<u8>> {
    let p = SlicedPacket::from_ip(packet).ok()?;
    let Some(NetSlice::Ipv4(ip)) = &p.net else {
        return None;
    };
    let Some(TransportSlice::Icmpv4(icmp)) = &p.transport else {
        return None;
    };
    let Icmpv4Type::EchoRequest(echo) = icmp.icmp_type() else {
        return None;
    };
    let h = ip.header();
    if h.destination_addr() != to {
        return None;
    }
    let builder =
        PacketBuilder::ipv4(h.destination(), h.source(), 64).icmpv4_echo_reply(echo.id, echo.seq);
    let mut out = Vec::with_capacity(builder.size(icmp.payload().len()));
    builder.write(&mut out, icmp.payload()).ok()?;
    // DF clear, as a host's own replies: one larger than the client's tunnel
    // is fragmented on its way back, not refused.
    out[6] &= !0x40;
    out[10..12].fill(0);
    let mut sum: u32 = out[..20]
        .chunks_exact(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    out[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    Some(out)
}

/// What CCP agreed, in pppd's words ("MPPE 128-bit stateless compression
/// enabled"): `MPPE 128-bit stateless`, `+ MPPC` when MPPC runs too, or
/// `no MPPE`.
pub fn describe_ccp(agreed: Option<MppeBits>) -> String {
    let Some(bits) = agreed else {
        return "no MPPE".into();
    };
    let mppc = if bits.contains(MppeBits::MPPC) {
        " + MPPC"
    } else {
        ""
    };
    let strength = if bits.contains(MppeBits::BITS_128) {
        "128-bit"
    } else if bits.contains(MppeBits::BITS_56) {
        "56-bit"
    } else if bits.contains(MppeBits::BITS_40) {
        "40-bit"
    } else {
        return "MPPC, no MPPE".into();
    };
    let mode = if bits.contains(MppeBits::STATELESS) {
        "stateless"
    } else {
        "stateful"
    };
    format!("MPPE {strength} {mode}{mppc}")
}

/// `--flag value` arguments, with usage on error.
pub struct Args {
    args: Vec<String>,
    usage: &'static str,
}

impl Args {
    /// The process's arguments.
    pub fn from_env(usage: &'static str) -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.iter().any(|a| a == "-h" || a == "--help") {
            println!("{usage}");
            exit(0);
        }
        Args { args, usage }
    }

    /// Whether `--flag` is present (and removes it).
    pub fn flag(&mut self, name: &str) -> bool {
        match self.args.iter().position(|a| a == name) {
            Some(i) => {
                self.args.remove(i);
                true
            }
            None => false,
        }
    }

    /// The value after `--name`, if given (and removes both).
    pub fn opt(&mut self, name: &str) -> Option<String> {
        let i = self.args.iter().position(|a| a == name)?;
        if i + 1 >= self.args.len() {
            self.fail(&format!("{name} needs a value"));
        }
        let v = self.args.remove(i + 1);
        self.args.remove(i);
        Some(v)
    }

    /// The value after `--name`, which must be given.
    pub fn req(&mut self, name: &str) -> String {
        self.opt(name)
            .unwrap_or_else(|| self.fail(&format!("{name} is required")))
    }

    /// `--name` parsed, or `default`.
    pub fn parse<T: std::str::FromStr>(&mut self, name: &str, default: T) -> T {
        match self.opt(name) {
            Some(v) => v
                .parse()
                .unwrap_or_else(|_| self.fail(&format!("{name} {v}: not valid"))),
            None => default,
        }
    }

    /// Fails on anything not consumed.
    pub fn finish(self) {
        if let Some(a) = self.args.first() {
            self.fail(&format!("unknown argument {a:?}"));
        }
    }

    /// Prints the usage and exits with status 2.
    pub fn fail(&self, why: &str) -> ! {
        eprintln!("{why}\n\n{}", self.usage);
        exit(2)
    }
}
