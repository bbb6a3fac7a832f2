//! Decodes every PPTP control message, GRE header and PPP frame of the real
//! captures in `../shared/captures` and checks that each re-emits
//! byte-identically. Prints per capture the counts decoded by kind.
//!
//! `cargo test --test captures -- --nocapture`

mod common;

use std::collections::BTreeMap;

use common::{read_capture, reassemble, require_captures, Unit};
use pptp_proto::wire::auth::{ChapPacket, MsChapV2Response, MsChapV2Success};
use pptp_proto::wire::control::{self, ControlMessage};
use pptp_proto::wire::cp::{
    parse_options, CcpConfigOption, Code, ConfigOption, CpPacket, Echo, Identification,
    IpcpConfigOption, Ipv6cpConfigOption, LcpConfigOption, ProtocolReject, Terminate,
};
use pptp_proto::wire::gre::GrePacket;
use pptp_proto::wire::packet::PppPacket;
use pptp_proto::wire::ppp::{PppFrame, Protocol};
use pptp_proto::wire::Error;

/// Counts by kind, and the errors met (with where).
#[derive(Default)]
struct Tally {
    kinds: BTreeMap<String, usize>,
    errors: Vec<String>,
}

impl Tally {
    fn count(&mut self, kind: impl Into<String>) {
        *self.kinds.entry(kind.into()).or_default() += 1;
    }
    fn get(&self, kind: &str) -> usize {
        self.kinds.get(kind).copied().unwrap_or(0)
    }
}

fn emitted(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut out);
    out
}

/// Decodes the TCP stream of one direction of a control connection.
fn decode_stream(stream: &[u8], tally: &mut Tally, origin: &str) {
    let mut rest = stream;
    while !rest.is_empty() {
        let len = match control::frame_length(rest) {
            Ok(Some(len)) if len <= rest.len() => len,
            Ok(_) => {
                tally.errors.push(format!(
                    "{origin}: {} trailing bytes (incomplete message)",
                    rest.len()
                ));
                return;
            }
            Err(e) => {
                tally.errors.push(format!("{origin}: framing: {e}"));
                return;
            }
        };
        let (bytes, next) = rest.split_at(len);
        match ControlMessage::parse(bytes) {
            Ok(msg) => {
                let out = emitted(|b| msg.emit(b));
                assert_eq!(out, bytes, "{origin}: {msg} re-emits differently");
                assert_eq!(msg.buffer_len(), len);
                tally.count(format!("pptp {:?}", msg.message_type()));
            }
            Err(e) => tally.errors.push(format!("{origin}: {e}")),
        }
        rest = next;
    }
}

/// Decodes a PPP frame and everything inside it.
fn decode_ppp(bytes: &[u8], tally: &mut Tally, origin: &str) -> Result<(), Error> {
    let frame = PppFrame::parse(bytes)?;
    assert_eq!(emitted(|b| frame.emit(b)), bytes, "{origin}: PPP frame");
    let packet = PppPacket::parse(&frame)?;
    let info = emitted(|b| packet.emit(b));
    assert_eq!(
        info,
        &frame.information[..info.len()],
        "{origin}: {packet} re-emits differently"
    );
    let _ = packet.to_string();
    match packet {
        PppPacket::Control(protocol, cp) => decode_control_protocol(protocol, &cp, tally, origin)?,
        PppPacket::Chap(chap) => decode_chap(&chap, tally)?,
        PppPacket::Pap(pap) => tally.count(format!("PAP {}", pap_kind(&pap.to_string()))),
        PppPacket::Compressed(..) => tally.count("MPPE"),
        PppPacket::Ipv4(_) => tally.count("IPv4"),
        PppPacket::Ipv6(_) => tally.count("IPv6"),
        other => tally.count(format!("other {}", other.protocol())),
    }
    Ok(())
}

fn pap_kind(display: &str) -> String {
    display.split_whitespace().nth(1).unwrap_or("?").to_string()
}

fn decode_control_protocol(
    protocol: Protocol,
    cp: &CpPacket<'_>,
    tally: &mut Tally,
    origin: &str,
) -> Result<(), Error> {
    tally.count(format!("{protocol} {}", cp.code));
    if cp.code.has_options() {
        match protocol {
            Protocol::LCP => check_options::<LcpConfigOption>(cp.data, origin)?,
            Protocol::IPCP => check_options::<IpcpConfigOption>(cp.data, origin)?,
            Protocol::IPV6CP => check_options::<Ipv6cpConfigOption>(cp.data, origin)?,
            Protocol::CCP => check_options::<CcpConfigOption>(cp.data, origin)?,
            _ => {}
        }
        return Ok(());
    }
    if protocol != Protocol::LCP {
        return Ok(());
    }
    // The LCP-only codes have typed views of their data.
    let data = cp.data;
    let again = match cp.code {
        Code::ECHO_REQUEST | Code::ECHO_REPLY | Code::DISCARD_REQUEST => {
            let v = Echo::parse(data)?;
            emitted(|b| v.emit(b))
        }
        Code::PROTOCOL_REJECT => {
            let v = ProtocolReject::parse(data)?;
            emitted(|b| v.emit(b))
        }
        Code::IDENTIFICATION => {
            let v = Identification::parse(data)?;
            emitted(|b| v.emit(b))
        }
        Code::TERMINATE_REQUEST | Code::TERMINATE_ACK => {
            let v = Terminate::parse(data)?;
            emitted(|b| v.emit(b))
        }
        _ => data.to_vec(),
    };
    assert_eq!(again, data, "{origin}: LCP {} data", cp.code);
    Ok(())
}

fn check_options<'a, O: ConfigOption<'a>>(data: &'a [u8], origin: &str) -> Result<(), Error> {
    let options: Vec<O> = parse_options(data)?;
    let mut out = Vec::new();
    for o in &options {
        o.emit(&mut out);
    }
    assert_eq!(out, data, "{origin}: options re-emit differently");
    Ok(())
}

fn decode_chap(chap: &ChapPacket<'_>, tally: &mut Tally) -> Result<(), Error> {
    match chap {
        ChapPacket::Challenge { .. } => tally.count("CHAP Challenge"),
        ChapPacket::Response { value, .. } => {
            if value.len() == 49 {
                let r = MsChapV2Response::parse(value)?;
                assert_eq!(emitted(|b| r.emit(b)), *value);
                tally.count("CHAP Response (MS-CHAP)");
            } else {
                tally.count("CHAP Response");
            }
        }
        ChapPacket::Success { message, .. } => {
            if message.starts_with(b"S=") {
                let s = MsChapV2Success::parse(message)?;
                assert_eq!(emitted(|b| s.emit(b)), *message);
                tally.count("CHAP Success (MS-CHAPv2)");
            } else {
                tally.count("CHAP Success");
            }
        }
        ChapPacket::Failure { .. } => tally.count("CHAP Failure"),
        _ => tally.count("CHAP other"),
    }
    Ok(())
}

fn decode_capture(name: &str, path: &std::path::Path) -> Tally {
    let frames = read_capture(path);
    let mut tally = Tally::default();
    for (flow, stream) in reassemble(&frames) {
        let origin = format!("{name} tcp {}:{} -> {}:{}", flow.0, flow.1, flow.2, flow.3);
        assert_eq!(stream.gaps, 0, "{origin}: TCP stream has holes");
        decode_stream(&stream.bytes, &mut tally, &origin);
    }
    for f in &frames {
        let origin = format!("{name} frame {}", f.number);
        match &f.unit {
            Some(Unit::Gre { bytes, .. }) => {
                let gre = match GrePacket::parse(bytes) {
                    Ok(g) => g,
                    Err(e) => {
                        tally.errors.push(format!("{origin}: {e}"));
                        continue;
                    }
                };
                let out = emitted(|b| gre.emit(b));
                assert_eq!(
                    out,
                    &bytes[..out.len()],
                    "{origin}: GRE re-emits differently"
                );
                if gre.payload.is_empty() {
                    tally.count("GRE ack-only");
                    continue;
                }
                tally.count("GRE data");
                if let Err(e) = decode_ppp(gre.payload, &mut tally, &origin) {
                    tally.errors.push(format!("{origin}: {e}"));
                }
            }
            Some(Unit::Ppp(bytes)) => {
                if let Err(e) = decode_ppp(bytes, &mut tally, &origin) {
                    tally.errors.push(format!("{origin}: {e}"));
                }
            }
            _ => {}
        }
    }
    tally
}

fn print(name: &str, tally: &Tally) {
    println!("{name}:");
    for (kind, n) in &tally.kinds {
        println!("  {n:5}  {kind}");
    }
    for e in &tally.errors {
        println!("  error: {e}");
    }
}

#[test]
fn every_capture_decodes_and_reemits() {
    let Some(dir) = require_captures("captures") else {
        return;
    };
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("captures dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".cap") || n.ends_with(".dump"))
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        10,
        "expected the ten shared captures: {names:?}"
    );
    let mut failures = Vec::new();
    for name in &names {
        let tally = decode_capture(name, &dir.join(name));
        print(name, &tally);
        if name == "tcpdump_ppp-invalid-lengths.pcap" {
            // Deliberately malformed: every frame must be a clean error, never a panic.
            assert!(
                !tally.errors.is_empty(),
                "{name}: the malformed frame was accepted"
            );
        } else if !tally.errors.is_empty() {
            failures.push(format!("{name}: {} errors", tally.errors.len()));
        }
    }
    assert!(failures.is_empty(), "undecodable packets: {failures:?}");
}

#[test]
fn windows_rras_capture_counts() {
    let Some(dir) = require_captures("captures") else {
        return;
    };
    let t = decode_capture("pptpcrack_test.pcap", &dir.join("pptpcrack_test.pcap"));
    // SOURCES.md: 697 MPPE frames and 201 ack-only GRE packets.
    assert_eq!(t.get("MPPE"), 697);
    assert_eq!(t.get("GRE ack-only"), 201);
    for kind in [
        "SCCRQ", "SCCRP", "OCRQ", "OCRP", "CCRQ", "CDN", "StopCCRQ", "StopCCRP",
    ] {
        assert!(t.get(&format!("pptp {kind}")) >= 1, "no {kind}");
    }
    assert_eq!(t.get("pptp SLI"), 5);
    assert_eq!(t.get("CHAP Success (MS-CHAPv2)"), 1);
    assert_eq!(t.get("CHAP Response (MS-CHAP)"), 1);
    assert!(t.get("LCP ProtRej") >= 1);
    assert!(t.get("LCP Ident") >= 3);
}

#[test]
fn ixia_cisco_pap_capture_counts() {
    let Some(dir) = require_captures("captures") else {
        return;
    };
    let t = decode_capture(
        "packetlife_PPTP_negotiation.cap",
        &dir.join("packetlife_PPTP_negotiation.cap"),
    );
    assert_eq!(t.get("PAP AuthReq"), 1);
    assert_eq!(t.get("PAP AuthAck"), 1);
    assert_eq!(t.get("LCP ConfReq"), 3);
    assert_eq!(t.get("LCP ConfAck"), 2);
    assert_eq!(t.get("IPCP ConfNak"), 1);
    assert_eq!(t.get("GRE ack-only"), 2);
    assert_eq!(t.get("IPv4"), 2);
}

#[test]
fn scapy_icrp_with_wrong_length_is_an_error() {
    // scapy's ICRP vector is 24 bytes but its Length field says 148.
    let bytes = hex::decode("009400011a2b3c4d000a00001093109201000010002a0000").unwrap();
    assert!(ControlMessage::parse(&bytes).is_err());
    assert!(matches!(
        control::frame_length(&bytes),
        Err(_) | Ok(Some(148))
    ));
}
