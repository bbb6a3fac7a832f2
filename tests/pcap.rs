//! `PcapWriter` (feature `pcap`) records a whole session, from both sides,
//! as a capture that our own parsers read back without a single malformed
//! packet: valid Ethernet/IPv4/TCP/GRE (checksums included), TCP sequence
//! numbers consistent from the handshake on, every control message, every
//! GRE packet and every PPP packet (LCP, CHAP, IPCP, CCP, MPPE data)
//! decoded; the inner capture holds the pings in clear. `tshark` reads the
//! same file (`.ci/run` checks it with zero malformed packets and no expert
//! errors).
//!
//! `cargo test --test pcap -- --nocapture`

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_file::pcap::PcapReader;
use pcap_file::DataLink;
use pptp_proto::client::{Client, ClientConfig};
use pptp_proto::crypto::Password;
use pptp_proto::pcap::PcapWriter;
use pptp_proto::ppp::auth::Credentials;
use pptp_proto::server::{AddressPool, Server, ServerConfig, ServerEvent};
use pptp_proto::time::{Duration, Instant};
use pptp_proto::wire::control::{frame_length, ControlMessage};
use pptp_proto::wire::gre::GrePacket;
use pptp_proto::wire::packet::PppPacket;
use pptp_proto::wire::ppp::{PppFrame, Protocol};

/// A `Write` whose bytes the test keeps after the tap is dropped.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

/// A ping from the client's tunnel address to the server's.
fn ping(seq: u16, local: [u8; 4], peer: [u8; 4]) -> Vec<u8> {
    let b = etherparse::PacketBuilder::ipv4(local, peer, 64).icmpv4_echo_request(9, seq);
    let mut out = Vec::new();
    b.write(&mut out, b"pcap test").unwrap();
    out
}

/// Hands a client datagram to the server; a ping in it is answered.
fn answer(server: &mut Server, client: &mut Client, now: Instant, d: &mut [u8]) {
    let Ok((conn, Some(ip))) = server.handle_datagram(now, [192, 0, 2, 1].into(), d) else {
        return;
    };
    let Ok(s) = SlicedPacket::from_ip(ip) else {
        return;
    };
    let (Some(NetSlice::Ipv4(v4)), Some(TransportSlice::Icmpv4(icmp))) = (&s.net, &s.transport)
    else {
        return;
    };
    let etherparse::Icmpv4Type::EchoRequest(echo) = icmp.icmp_type() else {
        return;
    };
    let h = v4.header();
    let b = etherparse::PacketBuilder::ipv4(h.destination(), h.source(), 64)
        .icmpv4_echo_reply(echo.id, echo.seq);
    let mut reply = Vec::new();
    b.write(&mut reply, icmp.payload()).unwrap();
    let mut buf = vec![0u8; 2048];
    let r = server.send_ip(now, conn, &reply, &mut buf).unwrap();
    let _ = client.handle_datagram(now, &mut buf[r]);
}

/// Runs a session with taps on both sides: handshake, 5 pings, an idle
/// minute (echoes), close. Returns (client capture, client inner, server capture).
fn session() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let pool = AddressPool {
        local: [10, 0, 0, 1].into(),
        range: ([10, 0, 0, 2].into(), [10, 0, 0, 9].into()),
        dns: [None, None],
    };
    let mut sc = ServerConfig::new("vpn", pool);
    sc.ppp.echo.interval = Some(Duration::from_secs(20));
    let mut server = Server::new(sc);
    let mut client =
        Client::new(ClientConfig::new("alice", Password::new("secret").unwrap()).with_seed(3));
    let (cap, inner, scap) = (Shared::default(), Shared::default(), Shared::default());
    client.set_tap(
        PcapWriter::client(cap.clone())
            .unwrap()
            .with_inner(inner.clone())
            .unwrap(),
    );
    server.set_tap(PcapWriter::server(scap.clone()).unwrap());
    let mut now = Instant::ZERO;
    let conn = server.accept(now, [192, 0, 2, 1].into()).unwrap();
    client.start(now);
    let mut buf = vec![0u8; 2048];
    let mut pings = 0u16;
    let end = Instant::from_secs(90);
    while now < end {
        let mut moved = true;
        while moved {
            moved = false;
            while let Some(b) = client.poll_stream_transmit() {
                server.handle_stream(now, conn, &b).unwrap();
                moved = true;
            }
            while let Some(mut d) = client.poll_datagram_transmit() {
                answer(&mut server, &mut client, now, &mut d);
                moved = true;
            }
            while let Some((_, b)) = server.poll_stream_transmit() {
                client.handle_stream(now, &b);
                moved = true;
            }
            while let Some((_, mut d)) = server.poll_datagram_transmit() {
                let _ = client.handle_datagram(now, &mut d);
                moved = true;
            }
            while let Some(e) = server.poll_event() {
                if let ServerEvent::AuthRequest { connection, .. } = e {
                    let secret = Password::new("secret").unwrap();
                    server.provide_credentials(now, connection, Credentials::Password(secret));
                }
                moved = true;
            }
            while client.poll_event().is_some() {
                moved = true;
            }
        }
        if client.is_up() && pings < 5 {
            let p = ping(pings, [10, 0, 0, 2], [10, 0, 0, 1]);
            let r = client.send_ip(now, &p, &mut buf).unwrap();
            let mut d = buf[r].to_vec();
            answer(&mut server, &mut client, now, &mut d);
            pings += 1;
            continue;
        }
        if pings == 5 && now >= Instant::from_secs(70) {
            client.close(now);
            pings += 1;
            continue;
        }
        let next = [
            client.poll_timeout(),
            server.poll_timeout(),
            Some(Instant::from_secs(70)),
        ]
        .into_iter()
        .flatten()
        .filter(|t| *t > now)
        .min();
        let Some(next) = next else { break };
        now = next;
        client.handle_timeout(now);
        server.handle_timeout(now);
    }
    client.handle_stream_closed(now);
    server.handle_stream_closed(now, conn);
    drop(client.take_tap());
    drop(server.take_tap());
    (cap.bytes(), inner.bytes(), scap.bytes())
}

/// What the capture held.
#[derive(Debug, Default)]
struct Seen {
    frames: usize,
    tcp_segments: usize,
    control: Vec<String>,
    ppp: BTreeMap<String, usize>,
    encrypted: usize,
    ack_only: usize,
}

/// Reads a capture back and checks every layer; panics on anything malformed.
fn check(capture: &[u8]) -> Seen {
    let mut reader = PcapReader::new(capture).expect("pcap header");
    assert_eq!(reader.header().datalink, DataLink::ETHERNET);
    let mut seen = Seen::default();
    // Per direction (client → server?): next sequence number and stream bytes.
    let mut next_seq: BTreeMap<bool, u32> = BTreeMap::new();
    let mut streams: BTreeMap<bool, Vec<u8>> = BTreeMap::new();
    let mut last_ts = std::time::Duration::ZERO;
    while let Some(packet) = reader.next_packet() {
        let packet = packet.expect("pcap record");
        seen.frames += 1;
        assert!(packet.timestamp >= last_ts, "time goes backwards");
        last_ts = packet.timestamp;
        let n = seen.frames;
        let p = SlicedPacket::from_ethernet(&packet.data)
            .unwrap_or_else(|e| panic!("frame {n}: {e:?}"));
        let Some(NetSlice::Ipv4(ip)) = &p.net else {
            panic!("frame {n}: not IPv4");
        };
        let header = ip.header().to_header();
        assert_eq!(
            header.header_checksum,
            header.calc_header_checksum(),
            "frame {n}: IPv4 checksum"
        );
        let upstream = header.destination == [192, 0, 2, 1];
        match &p.transport {
            Some(TransportSlice::Tcp(tcp)) => {
                seen.tcp_segments += 1;
                let th = tcp.to_header();
                let payload = tcp.payload();
                assert_eq!(
                    th.checksum,
                    th.calc_checksum_ipv4(&header, payload).unwrap(),
                    "frame {n}: TCP checksum"
                );
                assert!(upstream == (th.destination_port == 1723));
                if th.syn {
                    next_seq.insert(upstream, th.sequence_number.wrapping_add(1));
                    continue;
                }
                let expected = *next_seq.get(&upstream).expect("SYN first");
                assert_eq!(th.sequence_number, expected, "frame {n}: TCP sequence");
                if th.ack {
                    let theirs = next_seq.get(&!upstream).copied();
                    assert_eq!(Some(th.acknowledgment_number), theirs, "frame {n}: TCP ack");
                }
                let advance = payload.len() as u32 + u32::from(th.fin);
                next_seq.insert(upstream, expected.wrapping_add(advance));
                let stream = streams.entry(upstream).or_default();
                stream.extend_from_slice(payload);
                while let Ok(Some(len)) = frame_length(stream) {
                    if len > stream.len() {
                        break;
                    }
                    let message: Vec<u8> = stream.drain(..len).collect();
                    let m = ControlMessage::parse(&message)
                        .unwrap_or_else(|e| panic!("frame {n}: control message: {e}"));
                    seen.control.push(format!("{:?}", m.message_type()));
                }
            }
            None if header.protocol == etherparse::IpNumber::GRE => {
                let gre = GrePacket::parse(ip.payload().payload)
                    .unwrap_or_else(|e| panic!("frame {n}: GRE: {e}"));
                if gre.payload.is_empty() {
                    seen.ack_only += 1;
                    continue;
                }
                let frame =
                    PppFrame::parse(gre.payload).unwrap_or_else(|e| panic!("frame {n}: PPP: {e}"));
                match PppPacket::parse(&frame).unwrap_or_else(|e| panic!("frame {n}: {e}")) {
                    PppPacket::Compressed(..) => seen.encrypted += 1,
                    PppPacket::Control(proto, _) => {
                        *seen.ppp.entry(proto.to_string()).or_default() += 1
                    }
                    PppPacket::Chap(_) => *seen.ppp.entry("CHAP".into()).or_default() += 1,
                    other => panic!("frame {n}: unexpected {other:?}"),
                }
            }
            other => panic!("frame {n}: unexpected transport {other:?}"),
        }
    }
    for (up, rest) in &streams {
        assert!(
            rest.is_empty(),
            "half a control message left (upstream {up})"
        );
    }
    seen
}

#[test]
fn a_whole_session_reads_back_through_our_parsers() {
    let (client, inner, server) = session();
    for (side, capture) in [("client", &client), ("server", &server)] {
        let seen = check(capture);
        println!("{side} capture: {seen:?}");
        for kind in ["SCCRQ", "SCCRP", "OCRQ", "OCRP", "SLI", "CCRQ", "StopCCRP"] {
            assert!(
                seen.control.iter().any(|c| c == kind),
                "{side}: no {kind} in {:?}",
                seen.control
            );
        }
        for proto in [Protocol::LCP, Protocol::IPCP, Protocol::CCP] {
            assert!(
                seen.ppp.get(&proto.to_string()).copied().unwrap_or(0) >= 2,
                "{side}: {proto} missing: {:?}",
                seen.ppp
            );
        }
        assert!(
            seen.ppp.get("CHAP").copied().unwrap_or(0) >= 3,
            "{side}: CHAP"
        );
        assert!(
            seen.encrypted >= 10,
            "{side}: 5 pings and 5 replies, encrypted"
        );
        // Handshake and FIN exchange included.
        assert!(seen.tcp_segments >= 3 + seen.control.len() + 3);
    }
    // The inner capture: the pings and replies in clear.
    let mut reader = PcapReader::new(&inner[..]).unwrap();
    assert_eq!(reader.header().datalink, DataLink::IPV4);
    let mut icmp = 0;
    while let Some(p) = reader.next_packet() {
        let p = p.unwrap();
        let s = SlicedPacket::from_ip(&p.data).expect("inner IPv4");
        if matches!(s.transport, Some(TransportSlice::Icmpv4(_))) {
            icmp += 1;
        }
    }
    assert_eq!(icmp, 10, "5 requests, 5 replies");
}
