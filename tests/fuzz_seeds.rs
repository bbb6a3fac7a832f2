//! Writes seed corpora for the fuzz targets when `PPTP_FUZZ_SEEDS` names a
//! directory (`PPTP_FUZZ_SEEDS=fuzz/seeds cargo test --test fuzz_seeds`);
//! does nothing otherwise. Seeds come from the real captures in
//! `../shared/captures` and from a simulated client↔server session, written
//! in each target's input format (see `fuzz/common/mod.rs`). Minimise them
//! into `fuzz/corpus` with `cargo fuzz cmin` (FUZZING.md).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{read_capture, reassemble, require_captures, Unit};
use pptp_proto::client::{Client, ClientConfig};
use pptp_proto::crypto::Password;
use pptp_proto::ppp::auth::Credentials;
use pptp_proto::server::{AddressPool, Server, ServerConfig, ServerEvent};
use pptp_proto::time::Instant;
use pptp_proto::wire::control::frame_length;
use pptp_proto::wire::gre::GrePacket;
use pptp_proto::wire::ppp::{PppFrame, Protocol};

#[derive(Default)]
struct Seeds(BTreeMap<(&'static str, String), Vec<u8>>);

impl Seeds {
    fn add(&mut self, target: &'static str, name: String, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.0.insert((target, name), bytes);
        }
    }

    fn write(&self, dir: &Path) -> usize {
        for ((target, name), bytes) in &self.0 {
            let d = dir.join(target);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(name), bytes).unwrap();
        }
        self.0.len()
    }
}

/// A script op feeding a chunk of at most 255 bytes.
fn chunks(op: u8, bytes: &[u8], out: &mut Vec<u8>) {
    for c in bytes.chunks(255) {
        out.extend_from_slice(&[op, c.len() as u8]);
        out.extend_from_slice(c);
    }
}

/// A script op feeding a datagram with a two-byte length.
fn long(op: u8, bytes: &[u8], out: &mut Vec<u8>) {
    out.push(op);
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn from_capture(seeds: &mut Seeds, path: &Path) {
    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
    let frames = read_capture(path);
    for (i, ((_, sport, _, dport), stream)) in reassemble(&frames).into_iter().enumerate() {
        let mut rest = &stream.bytes[..];
        let mut n = 0;
        while let Ok(Some(len)) = frame_length(rest) {
            let Some(m) = rest.get(..len) else { break };
            seeds.add("control", format!("{stem}-{i}-{n}"), m.to_vec());
            rest = &rest[len..];
            n += 1;
        }
        // Client→PAC bytes feed a PAC, PAC→client bytes a PNS.
        let setup = if dport == 1723 { 0xe1 } else { 0xe0 };
        let _ = sport;
        let mut script = vec![setup];
        chunks(0, &stream.bytes, &mut script);
        script.extend_from_slice(&[3, 100]);
        seeds.add("control_machine", format!("{stem}-{i}"), script);
    }
    let mut gre_script = vec![16, 64];
    let mut session_script = vec![0];
    let mut decrypt = BTreeMap::<u8, Vec<u8>>::new();
    let ppp_frames = frames.iter().filter_map(|f| match &f.unit {
        Some(Unit::Gre { bytes, .. }) => Some((f.number, bytes.clone(), true)),
        Some(Unit::Ppp(bytes)) => Some((f.number, bytes.clone(), false)),
        _ => None,
    });
    for (number, bytes, is_gre) in ppp_frames {
        let name = format!("{stem}-{number}");
        let frame = if is_gre {
            seeds.add("gre_ppp", name.clone(), bytes.clone());
            let mut ours = bytes.clone();
            if let Some(id) = ours.get_mut(6..8) {
                id.copy_from_slice(&7u16.to_be_bytes());
            }
            long(0, &ours, &mut gre_script);
            gre_script.extend_from_slice(&[3, 1]);
            match GrePacket::parse(&bytes) {
                Ok(g) => g.payload.to_vec(),
                Err(_) => continue,
            }
        } else {
            bytes
        };
        let Ok(f) = PppFrame::parse(&frame) else {
            continue;
        };
        if session_script.len() < 16 * 1024 {
            long(0, &frame, &mut session_script);
        }
        let info = f.information.to_vec();
        let selector = match f.protocol {
            Protocol::LCP => Some(0),
            Protocol::IPCP => Some(1),
            Protocol::IPV6CP => Some(2),
            Protocol::CCP => Some(3),
            _ => None,
        };
        if let Some(s) = selector {
            seeds.add("control_protocols", name, [&[s][..], &info].concat());
        } else if f.protocol == Protocol::PAP || f.protocol == Protocol::CHAP {
            if f.protocol == Protocol::CHAP && matches!(info.first(), Some(3 | 4)) {
                seeds.add(
                    "mschapv2",
                    name.clone(),
                    info.get(4..).unwrap_or(&[]).to_vec(),
                );
            }
            seeds.add("auth", name, info);
        } else if f.protocol == Protocol::COMPRESSED {
            seeds.add("mppe_header", name, info.iter().take(8).copied().collect());
            for mode in [0x02u8, 0x82] {
                let d = decrypt.entry(mode).or_insert_with(|| vec![mode]);
                if d.len() < 64 * 64 {
                    let mut p = info.clone();
                    p.resize(64, 0);
                    d.extend_from_slice(&p);
                }
            }
        }
    }
    seeds.add("gre_channel", stem.clone(), gre_script);
    seeds.add("ppp_session", stem.clone(), session_script.clone());
    session_script[0] = 8;
    seeds.add("ppp_session", format!("{stem}-client"), session_script);
    for (mode, d) in decrypt {
        seeds.add("mppe_decrypt", format!("{stem}-{mode:02x}"), d);
    }
}

/// A client brought up against a server configured as the `server` fuzz
/// target's, its TCP and GRE recorded as that target's script.
fn simulated_session(seeds: &mut Seeds) {
    let pool = AddressPool {
        local: [10, 0, 0, 1].into(),
        range: ([10, 0, 0, 2].into(), [10, 0, 0, 3].into()),
        dns: [None, None],
    };
    let mut config = ServerConfig::new("fuzz", pool);
    config.max_connections = 4;
    config.call_ids = (1, 6);
    config.max_queued_stream = 24;
    let mut server = Server::new(config);
    let mut client = Client::new(ClientConfig::new("alice", Password::new("secret").unwrap()));
    let now = Instant::ZERO;
    let conn = server.accept(now, [192, 0, 2, 1].into()).unwrap();
    client.start(now);
    let mut script = vec![0];
    for _ in 0..100 {
        let mut moved = false;
        while let Some(b) = client.poll_stream_transmit() {
            for c in b.chunks(255) {
                script.extend_from_slice(&[1, 0, c.len() as u8]);
                script.extend_from_slice(c);
            }
            server.handle_stream(now, conn, &b).unwrap();
            moved = true;
        }
        while let Some(d) = client.poll_datagram_transmit() {
            // The target maps Call ID 1 onto its first connection's
            // (randomly chosen) one: record it as 1.
            let mut canonical = d.clone();
            if let Some(key) = canonical.get_mut(6..8) {
                key.copy_from_slice(&1u16.to_be_bytes());
            }
            long(4, &canonical, &mut script);
            let _ = server.handle_datagram(now, [192, 0, 2, 1].into(), &mut d.clone());
            moved = true;
        }
        while let Some((_, b)) = server.poll_stream_transmit() {
            client.handle_stream(now, &b);
            moved = true;
        }
        while let Some((_, d)) = server.poll_datagram_transmit() {
            let _ = client.handle_datagram(now, &mut d.clone());
            moved = true;
        }
        while let Some(e) = server.poll_event() {
            if let ServerEvent::AuthRequest { connection, .. } = e {
                let secret = Credentials::Password(Password::new("secret").unwrap());
                server.provide_credentials(now, connection, secret);
            }
            moved = true;
        }
        while client.poll_event().is_some() {
            moved = true;
        }
        if !moved {
            break;
        }
    }
    assert!(client.is_up(), "the simulated session came up");
    seeds.add("server", "session".into(), script.clone());
    script.extend_from_slice(&[6, 255, 6, 255]);
    seeds.add("server", "session-idle".into(), script);
}

#[test]
fn write_fuzz_seeds() {
    let Some(dir) = std::env::var_os("PPTP_FUZZ_SEEDS").map(PathBuf::from) else {
        return;
    };
    let mut seeds = Seeds::default();
    simulated_session(&mut seeds);
    if let Some(captures) = require_captures("fuzz_seeds") {
        let mut paths: Vec<_> = std::fs::read_dir(captures)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("pcap" | "cap")))
            .collect();
        paths.sort();
        for p in paths {
            from_capture(&mut seeds, &p);
        }
    }
    println!("{} seeds written to {}", seeds.write(&dir), dir.display());
}
