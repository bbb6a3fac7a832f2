//! Finds each PPTP session in a capture, reports its authentication and MPPE
//! mode, verifies a password against the captured MS-CHAPv2 exchange, and
//! writes the decrypted inner IP packets as a pcap.
//!
//! ```text
//! cargo run --example decrypt_capture -- CAPTURE --password P [--user U] [--out decrypted.pcap]
//! ```
//!
//! Exits 0 when every MS-CHAPv2 session (of `--user`, if given) was
//! decrypted; 1 when the password does not match; 2 on bad arguments.

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::exit;

use common::sessions::{decrypt, find_sessions, valid_ipv4, AuthSeen, DecryptError};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use pptp_proto::wire::mppe::mppe_bits_display;
use pptp_proto::wire::ppp::Protocol;

struct Args {
    capture: String,
    password: String,
    user: Option<String>,
    out: Option<String>,
}

const USAGE: &str = "usage: decrypt_capture CAPTURE --password P [--user U] [--out decrypted.pcap]";

fn usage() -> ! {
    eprintln!("{USAGE}");
    exit(2)
}

fn parse_args() -> Args {
    let mut args = std::env::args().skip(1);
    let (mut capture, mut password, mut user, mut out) = (None, None, None, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--password" => password = args.next(),
            "--user" => user = args.next(),
            "--out" => out = args.next(),
            "-h" | "--help" => {
                println!("{USAGE}");
                exit(0)
            }
            _ if capture.is_none() && !a.starts_with("--") => capture = Some(a),
            _ => usage(),
        }
    }
    match (capture, password) {
        (Some(capture), Some(password)) => Args {
            capture,
            password,
            user,
            out,
        },
        _ => usage(),
    }
}

fn main() {
    let args = parse_args();
    let path = std::path::Path::new(&args.capture);
    if !path.is_file() {
        eprintln!("{}: no such file", args.capture);
        exit(2);
    }
    let sessions = find_sessions(&common::read_capture(path));
    println!("{}: {} PPTP session(s)", args.capture, sessions.len());
    let mut packets = Vec::new();
    let mut mismatch = false;
    let mut decrypted_any = false;
    for (i, s) in sessions.iter().enumerate() {
        let mode = s
            .mppe_bits
            .map(|b| mppe_bits_display(b).to_string())
            .unwrap_or_else(|| "no MPPE agreed in the capture".into());
        let who = format!(
            "session {} (from frame {}, {} <-> {})",
            i + 1,
            s.first_frame,
            s.hosts.0,
            s.hosts.1
        );
        let user = match &s.auth {
            AuthSeen::None => {
                println!(
                    "{who}: no authentication captured, {} MPPE frames: skipped",
                    s.mppe.len()
                );
                continue;
            }
            AuthSeen::Pap(u) => {
                println!("{who}: PAP, user {u:?}: nothing to decrypt");
                continue;
            }
            AuthSeen::ChapMd5(u) => {
                println!("{who}: CHAP-MD5, user {u:?}: no MPPE keys: skipped");
                continue;
            }
            AuthSeen::MsChapV2(x) => x.username.clone(),
        };
        if args.user.as_deref().is_some_and(|u| u != user) {
            println!("{who}: MS-CHAPv2, user {user:?}: not --user, skipped");
            continue;
        }
        println!(
            "{who}: MS-CHAPv2, user {user:?}, {mode}, {} MPPE frames",
            s.mppe.len()
        );
        match decrypt(s, &args.password) {
            Ok(frames) => {
                let valid = frames
                    .iter()
                    .filter(|f| f.protocol == Protocol::IPV4 && valid_ipv4(&f.payload))
                    .count();
                println!("  password verified (NT-Response and S=); decrypted {}/{} frames, {valid} valid IPv4",
                    frames.len(), s.mppe.len());
                decrypted_any = true;
                packets.extend(
                    frames
                        .into_iter()
                        .filter(|f| f.protocol == Protocol::IPV4 || f.protocol == Protocol::IPV6),
                );
            }
            Err(DecryptError::WrongPassword | DecryptError::BadAuthenticatorResponse) => {
                eprintln!(
                    "  password does not match the MS-CHAPv2 exchange of {who} (user {user:?})"
                );
                mismatch = true;
            }
            Err(DecryptError::NoMppe) => {
                println!("  password verified (NT-Response and S=); CCP/MPPE not in the capture: nothing to decrypt");
                decrypted_any = true;
            }
            Err(e) => {
                eprintln!("  cannot decrypt: {e:?}");
                mismatch = true;
            }
        }
    }
    if let Some(out) = &args.out {
        packets.sort_by_key(|f| f.number);
        let file = std::fs::File::create(out).unwrap_or_else(|e| {
            eprintln!("{out}: {e}");
            exit(2)
        });
        let header = PcapHeader {
            datalink: DataLink::RAW,
            ..Default::default()
        };
        let mut writer = PcapWriter::with_header(file, header).expect("pcap header");
        for f in &packets {
            let packet = PcapPacket::new(f.time, f.payload.len() as u32, &f.payload);
            writer.write_packet(&packet).expect("pcap write");
        }
        println!("wrote {} decrypted packets to {out}", packets.len());
    }
    if mismatch || !decrypted_any {
        if !decrypted_any && !mismatch {
            eprintln!("no MS-CHAPv2 session to decrypt");
        }
        exit(1);
    }
}
