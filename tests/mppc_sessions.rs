//! Whole sessions with MPPC (RFC 2118) negotiated through CCP, with and
//! without MPPE, over the deterministic simulator: compressible traffic both
//! ways arrives intact and in order, the wire carries fewer bytes, and a
//! lossy, reordering link resynchronises through CCP Reset-Request.

mod harness;

use harness::{LinkConfig, Sim};
use pptp_proto::client::{ClientConfig, ClientEvent};
use pptp_proto::crypto::Password;
use pptp_proto::ppp::ccp::{MppeRequirement, StatelessPolicy};
use pptp_proto::ppp::lcp::AuthMethod;
use pptp_proto::server::{AddressPool, ServerConfig};
use pptp_proto::time::Duration;
use pptp_proto::wire::mppe::MppeBits;

fn pool() -> AddressPool {
    AddressPool {
        local: [198, 51, 100, 1].into(),
        range: ([198, 51, 100, 2].into(), [198, 51, 100, 250].into()),
        dns: [None, None],
    }
}

/// The modes: MPPC with stateless or stateful MPPE-128, MPPC alone (MPPE
/// refused), and MPPC alone because PAP yields no MPPE keys.
const MODES: [&str; 4] = ["mppe-stateless", "mppe-stateful", "mppc-only", "pap"];

fn configs(mode: &str, seed: u64) -> (ServerConfig, ClientConfig) {
    let mut server = ServerConfig::new("pptp-proto", pool());
    server.ppp.seed = seed;
    let mut client = ClientConfig::new("alice", Password::new("secret").unwrap()).with_seed(seed);
    for ppp in [&mut server.ppp, &mut client.ppp] {
        ppp.ccp.mppc = true;
        match mode {
            "mppe-stateful" => ppp.ccp.stateless = StatelessPolicy::Refused,
            "mppc-only" => ppp.ccp.mppe = MppeRequirement::Refused,
            "pap" => {
                ppp.ccp.mppe = MppeRequirement::Optional;
                ppp.lcp.auth = vec![AuthMethod::Pap];
            }
            _ => {}
        }
    }
    (server, client)
}

/// An IPv4 packet (UDP, no checksums) carrying a JSON document: compressible,
/// different each time, and self-describing so a receiver can check it.
fn json_packet(dir: u8, id: u32) -> Vec<u8> {
    let body = format!(
        "{{\"dir\":{dir},\"seq\":{id},\"user\":\"user{}\",\"items\":[{}],\"status\":\"ok\",\"note\":\"{}\"}}",
        id % 97,
        (0..id % 23)
            .map(|i| format!("{{\"id\":{i},\"name\":\"item-{i}\",\"price\":{}.{:02}}}", i * 3, id % 100))
            .collect::<Vec<_>>()
            .join(","),
        "lorem ipsum dolor sit amet ".repeat((id % 7) as usize),
    );
    let len = 28 + body.len();
    let mut p = vec![0x45, 0, (len >> 8) as u8, len as u8];
    p.extend_from_slice(&id.to_be_bytes()[2..]);
    p.extend_from_slice(&[0, 0, 64, 17, 0, 0, 198, 51, 100, 2, 198, 51, 100, 1]);
    p.extend_from_slice(&[
        0x30,
        0x39,
        0x00,
        0x35,
        ((len - 20) >> 8) as u8,
        (len - 20) as u8,
        0,
        0,
    ]);
    p.extend_from_slice(body.as_bytes());
    p
}

/// The sequence number a packet from `json_packet` carries.
fn seq_of(p: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(p.get(28..)?).ok()?;
    let at = text.find("\"seq\":")? + 6;
    text[at..].split(',').next()?.parse().ok()
}

fn up(sim: &mut Sim, mode: &str) -> MppeBits {
    assert!(
        sim.drive_until(Duration::from_secs(30), Sim::all_up),
        "{mode}: not up: {:?}",
        sim.client_events[0]
    );
    let bits = sim.client_events[0].iter().find_map(|e| match e {
        ClientEvent::Up { mppe, .. } => *mppe,
        _ => None,
    });
    let bits = bits.unwrap_or_else(|| panic!("{mode}: no CCP bits"));
    assert!(bits.contains(MppeBits::MPPC), "{mode}: {bits:?}");
    let encrypted = bits.contains(MppeBits::BITS_128);
    assert_eq!(encrypted, mode.starts_with("mppe"), "{mode}: {bits:?}");
    assert_eq!(
        bits.contains(MppeBits::STATELESS),
        mode == "mppe-stateless",
        "{mode}: {bits:?}"
    );
    bits
}

/// Checks that `got` are packets of direction `dir`, intact and in order.
fn check_in_order(mode: &str, dir: u8, got: &[Vec<u8>]) -> usize {
    let mut last = None;
    for p in got {
        let seq = seq_of(p).unwrap_or_else(|| panic!("{mode}: garbled packet {p:?}"));
        assert_eq!(*p, json_packet(dir, seq), "{mode}: packet {seq} intact");
        assert!(last < Some(seq), "{mode}: {seq} after {last:?}");
        last = Some(seq);
    }
    got.len()
}

#[test]
fn mppc_sessions_carry_compressible_traffic_intact_both_ways() {
    for mode in MODES {
        let (server, client) = configs(mode, 11);
        let mut sim = Sim::new(server, vec![client], LinkConfig::default(), 11);
        up(&mut sim, mode);
        let n = 1200u32;
        for id in 0..n {
            assert!(sim.client_send(0, &json_packet(0, id)), "{mode}: send {id}");
            assert!(sim.server_send(0, &json_packet(1, id)), "{mode}: send {id}");
            sim.drive_until(Duration::from_millis(2), |_| false);
        }
        sim.drive_until(Duration::from_secs(1), |_| false);
        assert_eq!(
            check_in_order(mode, 0, &sim.server_ip),
            n as usize,
            "{mode}"
        );
        assert_eq!(
            check_in_order(mode, 1, &sim.client_ip[0]),
            n as usize,
            "{mode}"
        );
        let stats = sim.clients[0].stats().ppp;
        assert_eq!(stats.mppe_discarded, 0, "{mode}");
        let ratio = stats.mppc_bytes_in as f64 / stats.mppc_bytes_out as f64;
        // History-less (stateless) compression gains less than stateful.
        let floor = if mode == "mppe-stateless" { 1.3 } else { 2.0 };
        assert!(ratio > floor, "{mode}: ratio {ratio:.2}");
        println!("{mode}: {n} packets each way intact, compression ratio {ratio:.2}");
    }
}

#[test]
fn mppc_resynchronises_after_loss_and_reordering() {
    for mode in ["mppe-stateful", "mppc-only", "mppe-stateless"] {
        let (server, client) = configs(mode, 5);
        let link = LinkConfig {
            loss: 0.03,
            duplicate: 0.02,
            reorder: 0.05,
            delay: Duration::from_millis(10),
            ..LinkConfig::default()
        };
        let mut sim = Sim::new(server, vec![client], link, 5);
        up(&mut sim, mode);
        let n = 3000u32;
        let mut sent = 0;
        for id in 0..n {
            sent += u32::from(sim.client_send(0, &json_packet(0, id)));
            sent += u32::from(sim.server_send(0, &json_packet(1, id)));
            sim.drive_until(Duration::from_millis(1), |_| false);
        }
        sim.drive_until(Duration::from_secs(2), |_| false);
        let got =
            check_in_order(mode, 0, &sim.server_ip) + check_in_order(mode, 1, &sim.client_ip[0]);
        let stats = sim.clients[0].stats().ppp;
        if mode != "mppe-stateless" {
            // Every loss costs a Reset-Request round trip of discards.
            assert!(stats.mppe_resets_sent > 0, "{mode}: {stats:?}");
        }
        assert!(
            got as f64 > f64::from(sent) * 0.2,
            "{mode}: {got} of {sent} delivered"
        );
        assert!(sim.all_up(), "{mode}: still up");
        println!(
            "{mode}: 3% loss+dup+reorder: {got}/{sent} delivered intact and in order, {} Reset-Requests from the client",
            stats.mppe_resets_sent
        );
    }
}
