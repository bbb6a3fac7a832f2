//! Shared by the state-machine targets: a cursor over the fuzzer's bytes and
//! a PPP pair brought up in memory.
#![allow(dead_code)]

use pptp_proto::crypto::Password;
use pptp_proto::ppp::auth::Credentials;
use pptp_proto::ppp::ccp::{CcpConfig, MppeRequirement, StatelessPolicy};
use pptp_proto::ppp::ipcp::IpAssignment;
use pptp_proto::ppp::lcp::AuthMethod;
use pptp_proto::ppp::session::{PppEvent, PppSession, SessionConfig};
use pptp_proto::time::{Duration, Instant};
use pptp_proto::wire::mppe::MppeBits;

/// Reads the fuzzer's bytes as a script: op bytes, length-prefixed chunks.
pub struct Script<'a>(pub &'a [u8]);

impl<'a> Script<'a> {
    pub fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    pub fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.byte()?, self.byte()?]))
    }

    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes([
            self.byte()?,
            self.byte()?,
            self.byte()?,
            self.byte()?,
        ]))
    }

    /// A chunk: a length byte, then up to that many bytes.
    pub fn chunk(&mut self) -> Option<&'a [u8]> {
        let len = usize::from(self.byte()?);
        let n = len.min(self.0.len());
        let (chunk, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(chunk)
    }

    /// A longer chunk: a two-byte length, then up to that many bytes.
    pub fn long_chunk(&mut self) -> Option<&'a [u8]> {
        let len = usize::from(self.u16()?);
        let n = len.min(self.0.len());
        let (chunk, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(chunk)
    }

    /// A time step: small steps mostly, now and then hours (clock jumps).
    pub fn step(&mut self) -> Option<Duration> {
        let b = self.byte()?;
        Some(match b {
            0..=199 => Duration::from_millis(u64::from(b) * 50),
            200..=249 => Duration::from_secs(u64::from(b - 199) * 10),
            _ => Duration::from_secs(u64::from(b - 249) * 3600),
        })
    }
}

/// Asserts the timer contract after `handle_timeout(now)`: nothing is due
/// any more (an embedder would busy-loop otherwise).
pub fn assert_timer_after(now: Instant, next: Option<Instant>) {
    if let Some(t) = next {
        assert!(
            t > now,
            "poll_timeout {t:?} not after handle_timeout({now:?})"
        );
    }
}

pub const USER: &str = "alice";
pub const PASSWORD: &str = "secret";

/// The authentication methods, MPPE policies and MPPC a pair can be built
/// with: bits 0-1 the method, bit 2 stateless, bit 4 MPPC, bit 5 the
/// method inside EAP where it has an EAP form (MS-CHAPv2, CHAP-MD5).
pub fn pair_configs(selector: u8) -> (SessionConfig, SessionConfig) {
    let method = [
        AuthMethod::MsChapV2,
        AuthMethod::MsChapV1,
        AuthMethod::ChapMd5,
        AuthMethod::Pap,
    ][usize::from(selector & 3)];
    let method = match method {
        AuthMethod::MsChapV2 if selector & 0x20 != 0 => AuthMethod::EapMsChapV2,
        AuthMethod::ChapMd5 if selector & 0x20 != 0 => AuthMethod::EapMd5,
        other => other,
    };
    let all = MppeBits::BITS_40 | MppeBits::BITS_56 | MppeBits::BITS_128;
    let stateless = if selector & 4 != 0 {
        StatelessPolicy::Required
    } else {
        StatelessPolicy::Refused
    };
    let mppe = if method.gives_mppe_keys() {
        MppeRequirement::Required
    } else {
        MppeRequirement::Refused
    };
    let ccp = CcpConfig {
        mppe,
        strengths: all,
        stateless,
        // Bit 4: MPPC too (with MPPE for MS-CHAP, alone for PAP/CHAP-MD5).
        mppc: selector & 0x10 != 0,
        ..CcpConfig::default()
    };
    let mut server = SessionConfig::authenticator("fuzz");
    server.lcp.auth = vec![method];
    server.ccp = ccp;
    server.seed = 1;
    let mut client = SessionConfig::peer(USER, Password::new(PASSWORD).unwrap());
    client.lcp.auth = vec![method];
    client.ccp = ccp;
    client.seed = 2;
    (server, client)
}

/// Brings a server/client pair up over a perfect in-memory link.
pub fn bring_up(selector: u8) -> (PppSession, PppSession, Instant) {
    let (s, c) = pair_configs(selector);
    let mut server = PppSession::new(s);
    let mut client = PppSession::new(c);
    server.set_ip_assignment(IpAssignment {
        local: Some([10, 0, 0, 1].into()),
        peer: Some([10, 0, 0, 2].into()),
        dns: [None, None],
        nbns: [None, None],
    });
    let mut now = Instant::ZERO;
    server.open(now);
    client.open(now);
    for _ in 0..200 {
        let mut moved = false;
        while let Some(f) = server.poll_transmit() {
            let _ = client.handle_frame(now, &mut f.to_vec());
            moved = true;
        }
        while let Some(f) = client.poll_transmit() {
            let _ = server.handle_frame(now, &mut f.to_vec());
            moved = true;
        }
        while let Some(e) = server.poll_event() {
            if let PppEvent::AuthRequest { .. } = e {
                let secret = Password::new(PASSWORD).unwrap();
                server.provide_credentials(now, Credentials::Password(secret));
            }
            moved = true;
        }
        while client.poll_event().is_some() {
            moved = true;
        }
        if !moved {
            if server.is_network_up() && client.is_network_up() {
                break;
            }
            now += Duration::from_millis(100);
            server.handle_timeout(now);
            client.handle_timeout(now);
        }
    }
    assert!(
        server.is_network_up() && client.is_network_up(),
        "pair did not come up"
    );
    (server, client, now)
}
