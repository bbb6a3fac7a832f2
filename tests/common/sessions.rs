//! Finds the PPTP sessions of a capture (their authentication exchange, the
//! CCP outcome and the MPPE frames each way) and decrypts them with a known
//! password through the crate's own `crypto` and `Mppe`. Shared by
//! `tests/windows_capture.rs` and `examples/decrypt_capture.rs`.

use std::net::IpAddr;
use std::time::Duration;

use pptp_proto::crypto::key_derivation::{mppe_keys_mschapv2, Role};
use pptp_proto::crypto::mschap::nt_password_hash;
use pptp_proto::crypto::mschapv2;
use pptp_proto::crypto::Password;
use pptp_proto::mppe::{Decrypted, Mppe, MppeOptions};
use pptp_proto::wire::auth::{ChapPacket, MsChapV2Response, MsChapV2Success, PapPacket};
use pptp_proto::wire::cp::{parse_options, CcpConfigOption, Code};
use pptp_proto::wire::gre::GrePacket;
use pptp_proto::wire::mppe::MppeBits;
use pptp_proto::wire::packet::PppPacket;
use pptp_proto::wire::ppp::{PppFrame, Protocol};

use super::{Frame, Unit};

/// An MS-CHAPv2 exchange as captured.
#[derive(Debug, Clone, Default)]
pub struct MsChapV2Exchange {
    /// The authenticator's challenge.
    pub authenticator_challenge: [u8; 16],
    /// The authenticator's name.
    pub server_name: String,
    /// The peer's challenge, from its Response.
    pub peer_challenge: [u8; 16],
    /// The NT-Response.
    pub nt_response: [u8; 24],
    /// The name the peer gave.
    pub username: String,
    /// The `S=` authenticator response of the Success packet, if one came.
    pub authenticator_response: Option<[u8; 20]>,
}

/// How a session authenticated, as far as the capture shows.
#[derive(Debug, Clone)]
pub enum AuthSeen {
    /// No authentication exchange in the capture (it began earlier).
    None,
    /// PAP with this peer-id.
    Pap(String),
    /// CHAP with a response that is not MS-CHAP (CHAP-MD5).
    ChapMd5(String),
    /// MS-CHAPv2.
    MsChapV2(MsChapV2Exchange),
}

/// One MPPE frame: the information field of a protocol 0x00FD frame.
#[derive(Debug, Clone)]
pub struct MppeFrame {
    /// Frame number in the capture.
    pub number: usize,
    /// Capture timestamp.
    pub time: Duration,
    /// Sent by the client (the side that answered the authentication).
    pub from_client: bool,
    /// MPPE header and ciphertext.
    pub bytes: Vec<u8>,
}

/// A PPTP session between two hosts.
#[derive(Debug, Clone)]
pub struct Session {
    /// Frame number of its first PPP frame.
    pub first_frame: usize,
    /// The two hosts; `hosts.0` is the client once authentication shows it.
    pub hosts: (IpAddr, IpAddr),
    /// The authentication seen.
    pub auth: AuthSeen,
    /// The MPPE option 18 bits of the last CCP Configure-Ack.
    pub mppe_bits: Option<MppeBits>,
    /// Every MPPE frame after authentication, in capture order.
    pub mppe: Vec<MppeFrame>,
}

/// Groups the GRE traffic of `frames` into sessions: a session starts with
/// the first LCP Configure-Request between two hosts after MPPE data flowed.
pub fn find_sessions(frames: &[Frame]) -> Vec<Session> {
    let mut sessions: Vec<Session> = Vec::new();
    for f in frames {
        let Some(Unit::Gre { src, dst, bytes }) = &f.unit else {
            continue;
        };
        let Ok(gre) = GrePacket::parse(bytes) else {
            continue;
        };
        let Ok(frame) = PppFrame::parse(gre.payload) else {
            continue;
        };
        let Ok(packet) = PppPacket::parse(&frame) else {
            continue;
        };
        let pair = |s: &Session| {
            (s.hosts.0 == *src && s.hosts.1 == *dst) || (s.hosts.0 == *dst && s.hosts.1 == *src)
        };
        let is_conf_req = matches!(
            packet,
            PppPacket::Control(Protocol::LCP, cp) if cp.code == Code::CONFIGURE_REQUEST
        );
        let index = match sessions.iter().rposition(pair) {
            Some(i) if !is_conf_req || sessions[i].mppe.is_empty() => i,
            _ => {
                sessions.push(Session {
                    first_frame: f.number,
                    hosts: (*src, *dst),
                    auth: AuthSeen::None,
                    mppe_bits: None,
                    mppe: Vec::new(),
                });
                sessions.len() - 1
            }
        };
        let session = &mut sessions[index];
        record(session, f, *src, &packet);
    }
    sessions
}

fn record(session: &mut Session, f: &Frame, src: IpAddr, packet: &PppPacket<'_>) {
    match packet {
        PppPacket::Pap(PapPacket::AuthenticateRequest { peer_id, .. }) => {
            session.hosts = client_first(session.hosts, src);
            session.auth = AuthSeen::Pap(String::from_utf8_lossy(peer_id).into_owned());
        }
        PppPacket::Chap(chap) => record_chap(session, src, chap),
        PppPacket::Control(Protocol::CCP, cp) if cp.code == Code::CONFIGURE_ACK => {
            if let Ok(options) = parse_options::<CcpConfigOption>(cp.data) {
                for o in options {
                    if let CcpConfigOption::Mppe(bits) = o {
                        session.mppe_bits = Some(bits);
                    }
                }
            }
        }
        PppPacket::Compressed(..) => {
            let mut bytes = Vec::new();
            packet.emit(&mut bytes);
            session.mppe.push(MppeFrame {
                number: f.number,
                time: f.time,
                from_client: src == session.hosts.0,
                bytes,
            });
        }
        _ => {}
    }
}

fn client_first(hosts: (IpAddr, IpAddr), client: IpAddr) -> (IpAddr, IpAddr) {
    if hosts.0 == client {
        hosts
    } else {
        (hosts.1, hosts.0)
    }
}

fn record_chap(session: &mut Session, src: IpAddr, chap: &ChapPacket<'_>) {
    let mut exchange = match &session.auth {
        AuthSeen::MsChapV2(e) => e.clone(),
        _ => MsChapV2Exchange::default(),
    };
    match chap {
        ChapPacket::Challenge { value, name, .. } => {
            if let Ok(v) = <[u8; 16]>::try_from(*value) {
                exchange.authenticator_challenge = v;
            }
            exchange.server_name = String::from_utf8_lossy(name).into_owned();
        }
        ChapPacket::Response { value, name, .. } => {
            session.hosts = client_first(session.hosts, src);
            let username = String::from_utf8_lossy(name).into_owned();
            match MsChapV2Response::parse(value) {
                Ok(r) => {
                    exchange.peer_challenge = r.peer_challenge;
                    exchange.nt_response = r.nt_response;
                    exchange.username = username;
                }
                Err(_) => {
                    session.auth = AuthSeen::ChapMd5(username);
                    return;
                }
            }
        }
        ChapPacket::Success { message, .. } => {
            if let Ok(s) = MsChapV2Success::parse(message) {
                exchange.authenticator_response = Some(s.authenticator_response);
            }
        }
        _ => {}
    }
    session.auth = AuthSeen::MsChapV2(exchange);
}

/// Why a session could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecryptError {
    /// No MS-CHAPv2 exchange: the keys cannot be derived.
    NoMsChapV2,
    /// The password does not reproduce the captured NT-Response.
    WrongPassword,
    /// The NT-Response matches but the server's `S=` does not verify.
    BadAuthenticatorResponse,
    /// CCP did not agree on MPPE (or the Configure-Ack is not in the capture).
    NoMppe,
    /// The password is not a valid MS-CHAP password (too long).
    BadPassword,
}

/// One decrypted packet: the PPP protocol and information inside MPPE.
#[derive(Debug, Clone)]
pub struct DecryptedFrame {
    /// Frame number in the capture.
    pub number: usize,
    /// Capture timestamp.
    pub time: Duration,
    /// Client to server.
    pub from_client: bool,
    /// The inner PPP protocol.
    pub protocol: Protocol,
    /// The inner information field (an IP packet for protocol 0x0021).
    pub payload: Vec<u8>,
}

/// Checks `password` against the session's MS-CHAPv2 exchange (NT-Response
/// and `S=`), derives both MPPE directions and decrypts every MPPE frame.
/// Frames MPPE refuses are left out of the result.
pub fn decrypt(session: &Session, password: &str) -> Result<Vec<DecryptedFrame>, DecryptError> {
    let AuthSeen::MsChapV2(x) = &session.auth else {
        return Err(DecryptError::NoMsChapV2);
    };
    let password = Password::new(password).map_err(|_| DecryptError::BadPassword)?;
    let (nt_response, auth_response) = mschapv2::peer_response(
        &x.authenticator_challenge,
        &x.peer_challenge,
        x.username.as_bytes(),
        &password,
    );
    if nt_response != x.nt_response {
        return Err(DecryptError::WrongPassword);
    }
    if let Some(s) = x.authenticator_response {
        if s != auth_response.0 {
            return Err(DecryptError::BadAuthenticatorResponse);
        }
    }
    let options = session
        .mppe_bits
        .and_then(MppeOptions::from_bits)
        .ok_or(DecryptError::NoMppe)?;
    let hash = nt_password_hash(&password);
    // The server's receiving half decrypts what the client sent, and the
    // client's receiving half what the server sent.
    let mut server = Mppe::new(
        options,
        &mppe_keys_mschapv2(&hash, &nt_response, Role::Authenticator),
    );
    let mut client = Mppe::new(
        options,
        &mppe_keys_mschapv2(&hash, &nt_response, Role::Peer),
    );
    let mut out = Vec::new();
    for m in &session.mppe {
        let mut bytes = m.bytes.clone();
        let mppe = if m.from_client {
            &mut server
        } else {
            &mut client
        };
        let Ok(Decrypted::Plaintext { payload, .. }) = mppe.decrypt(&mut bytes) else {
            continue;
        };
        let (protocol, rest) = match payload {
            [0x00, p, rest @ ..] => (Protocol(u16::from(*p)), rest),
            [p, rest @ ..] => (Protocol(u16::from(*p)), rest),
            [] => continue,
        };
        out.push(DecryptedFrame {
            number: m.number,
            time: m.time,
            from_client: m.from_client,
            protocol,
            payload: rest.to_vec(),
        });
    }
    Ok(out)
}

/// Whether `packet` starts with an IPv4 header whose checksum is right.
pub fn valid_ipv4(packet: &[u8]) -> bool {
    let Ok(header) = etherparse::Ipv4HeaderSlice::from_slice(packet) else {
        return false;
    };
    header.to_header().calc_header_checksum() == header.header_checksum()
        && usize::from(header.total_len()) <= packet.len()
}
