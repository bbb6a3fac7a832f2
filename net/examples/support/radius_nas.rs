//! The example server's RADIUS client (a NAS, RFC 2865): Access-Request from
//! the crate's [`AuthExchange`], the [`Verdict`] from the Access-Accept or
//! -Reject, Accounting-Request from an [`AccountingRecord`] (RFC 2866), and
//! the NAS side of RFC 5176 Disconnect-Request.
//!
//! The packet format, the standard attributes and the Request/Response
//! Authenticators are the `radius` crate's. What it lacks is written here:
//! RFC 2548's Microsoft vendor attributes (MS-CHAP-Challenge, -Response,
//! MS-CHAP2-Response, -Success, MS-CHAP-Error, MS-CHAP-MPPE-Keys and the
//! salted MS-MPPE-Send/Recv-Key, decrypted here) and the HMAC-MD5
//! Message-Authenticator of RFC 2869 §5.14, checked on every answer that
//! carries one (RFC 3579 §3.2 requires it with EAP-Message). EAP
//! pass-through (RFC 3579): an [`AuthExchange::Eap`] goes out as
//! EAP-Message with the State of the previous Access-Challenge, whose
//! EAP-Message comes back as [`Verdict::Challenge`];
//! [`RadiusClient::authenticate_answer`] keeps the answer too, for the
//! whole 32-octet MS-MPPE keys of EAP-TLS and PEAP ([`ms_mppe_keys`]; the
//! [`Acceptance`] holds MPPE's 16). Blocking, std only: the
//! example calls it from worker threads. Tests: `tests/radius_nas.rs`
//! (codec), `tests/radius.rs` (against FreeRADIUS), `tests/peap.rs` (PEAP
//! from eapol_test through it).

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use pptp_proto::accounting::{AccountingRecord, AccountingStatus};
use pptp_proto::crypto::key_derivation::get_start_key;
use pptp_proto::crypto::{MppeKeys, NtHashHash};
use pptp_proto::ppp::auth::{Acceptance, AuthExchange, Rejection, Verdict};
use radius::core::code::Code;
use radius::core::packet::Packet;
use radius::core::{avp::AVP, rfc2865, rfc2866, rfc2869, rfc3576};

/// Microsoft's vendor id (RFC 2548 §2).
const MICROSOFT: u32 = 311;
/// RFC 2548 vendor types.
const MS_CHAP_RESPONSE: u8 = 1;
const MS_CHAP_ERROR: u8 = 2;
const MS_CHAP_CHALLENGE: u8 = 11;
const MS_CHAP_MPPE_KEYS: u8 = 12;
const MS_MPPE_SEND_KEY: u8 = 16;
const MS_MPPE_RECV_KEY: u8 = 17;
const MS_CHAP2_RESPONSE: u8 = 25;
const MS_CHAP2_SUCCESS: u8 = 26;
/// Vendor-Specific (RFC 2865 §5.26) and Message-Authenticator (RFC 2869).
const VENDOR_SPECIFIC: u8 = 26;
const MESSAGE_AUTHENTICATOR: u8 = 80;

/// Where and how to reach the RADIUS server.
#[derive(Debug, Clone)]
pub struct RadiusConfig {
    /// The authentication port (1812).
    pub auth: SocketAddr,
    /// The accounting port (1813).
    pub acct: SocketAddr,
    /// The shared secret.
    pub secret: Vec<u8>,
    /// NAS-Identifier.
    pub nas_identifier: String,
    /// NAS-IP-Address, if set.
    pub nas_ip: Option<Ipv4Addr>,
    /// How long to wait for each answer.
    pub timeout: Duration,
    /// How many times to send a request.
    pub tries: u32,
}

/// Why there is no answer.
#[derive(Debug)]
pub enum RadiusError {
    /// No authentic answer after every try.
    Timeout,
    /// An answer that failed the authenticator check.
    NotAuthentic,
    /// An answer or request that does not parse.
    Malformed(String),
    /// The socket failed.
    Io(io::Error),
}

impl fmt::Display for RadiusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RadiusError::Timeout => f.write_str("no answer from the RADIUS server"),
            RadiusError::NotAuthentic => f.write_str("answer not authentic (wrong secret?)"),
            RadiusError::Malformed(m) => write!(f, "malformed RADIUS packet: {m}"),
            RadiusError::Io(e) => write!(f, "RADIUS socket: {e}"),
        }
    }
}

impl From<io::Error> for RadiusError {
    fn from(e: io::Error) -> Self {
        RadiusError::Io(e)
    }
}

/// An Access-Request, its authentic answer and the verdict in it
/// ([`RadiusClient::authenticate_answer`]).
#[derive(Debug, Clone)]
pub struct Answered {
    /// What the answer says.
    pub verdict: Verdict,
    /// The Access-Request as sent (its authenticator keys the answer's
    /// hidden attributes).
    pub request: Vec<u8>,
    /// The answer as received.
    pub response: Vec<u8>,
}

/// A blocking RADIUS client, shareable between threads.
#[derive(Debug)]
pub struct RadiusClient {
    config: RadiusConfig,
    next_id: AtomicU8,
    /// EAP: the State of each session's last Access-Challenge, echoed in
    /// its next Access-Request (RFC 2865 §5.24), by (user, NAS-Port).
    states: Mutex<HashMap<(String, u16), Vec<u8>>>,
}

impl RadiusClient {
    /// A client for `config`.
    pub fn new(config: RadiusConfig) -> Self {
        RadiusClient {
            config,
            next_id: AtomicU8::new(0),
            states: Mutex::new(HashMap::new()),
        }
    }

    fn identifier(&self) -> u8 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Asks the server about one session's authentication.
    pub fn authenticate(
        &self,
        username: &str,
        exchange: &AuthExchange,
        nas_port: u16,
        calling_station: IpAddr,
    ) -> Result<Verdict, RadiusError> {
        self.authenticate_answer(username, exchange, nas_port, calling_station)
            .map(|answered| answered.verdict)
    }

    /// [`authenticate`](Self::authenticate), keeping the Access-Request and
    /// its authentic answer: for a caller that needs more than the
    /// [`Verdict`] holds, such as the whole 32-octet MS-MPPE keys of an
    /// EAP-TLS or PEAP accept ([`ms_mppe_keys`]).
    pub fn authenticate_answer(
        &self,
        username: &str,
        exchange: &AuthExchange,
        nas_port: u16,
        calling_station: IpAddr,
    ) -> Result<Answered, RadiusError> {
        let key = (username.to_string(), nas_port);
        let state = match exchange {
            AuthExchange::Eap { .. } => self.states.lock().ok().and_then(|s| s.get(&key).cloned()),
            _ => None,
        };
        let request = access_request_with_state(
            &self.config,
            self.identifier(),
            username,
            exchange,
            nas_port,
            calling_station,
            state.as_deref(),
        );
        let response = self.exchange(self.config.auth, &request)?;
        let verdict = verdict_of(&response, &request, &self.config.secret);
        if let Ok(mut states) = self.states.lock() {
            match (&verdict, state_of(&response, &self.config.secret)) {
                (Ok(Verdict::Challenge(_)), Some(state)) => {
                    states.insert(key, state);
                }
                _ => {
                    states.remove(&key);
                }
            }
        }
        Ok(Answered {
            verdict: verdict?,
            request,
            response,
        })
    }

    /// Sends one accounting record; returns once it is acknowledged.
    pub fn account(&self, record: &AccountingRecord) -> Result<(), RadiusError> {
        let request = accounting_request(&self.config, self.identifier(), record);
        let response = self.exchange(self.config.acct, &request)?;
        if accounting_response_ok(&response, &request, &self.config.secret) {
            Ok(())
        } else {
            Err(malformed("not an Accounting-Response"))
        }
    }

    /// Sends `request` up to `tries` times; returns the first authentic
    /// answer to it.
    fn exchange(&self, to: SocketAddr, request: &[u8]) -> Result<Vec<u8>, RadiusError> {
        let bind = if to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
        let socket = UdpSocket::bind(bind)?;
        let mut buf = [0u8; 4096];
        for _ in 0..self.config.tries.max(1) {
            socket.send_to(request, to)?;
            let until = Instant::now() + self.config.timeout;
            while let Some(left) = until.checked_duration_since(Instant::now()) {
                socket.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
                let (n, from) = match socket.recv_from(&mut buf) {
                    Ok(r) => r,
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                    {
                        break
                    }
                    Err(e) => return Err(e.into()),
                };
                let answer = &buf[..n];
                // Someone else's packet, or a forgery: keep waiting.
                if from != to || n < 20 || answer[1] != request[1] {
                    continue;
                }
                if Packet::is_authentic_response(answer, request, &self.config.secret) {
                    return Ok(answer.to_vec());
                }
            }
        }
        Err(RadiusError::Timeout)
    }
}

/// A Vendor-Specific attribute of Microsoft's (RFC 2865 §5.26).
fn ms_attribute(vendor_type: u8, value: &[u8]) -> AVP {
    let mut v = MICROSOFT.to_be_bytes().to_vec();
    v.push(vendor_type);
    v.push((value.len() + 2) as u8);
    v.extend_from_slice(value);
    AVP::from_bytes(VENDOR_SPECIFIC, &v)
}

/// Microsoft's vendor attributes of `packet`: (vendor type, value).
fn ms_attributes(packet: &Packet) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    for avp in packet.lookup_all(VENDOR_SPECIFIC) {
        let v = avp.encode_bytes();
        if v.len() < 4 || u32::from_be_bytes([v[0], v[1], v[2], v[3]]) != MICROSOFT {
            continue;
        }
        // One Vendor-Specific may hold several sub-attributes.
        let mut rest = &v[4..];
        while rest.len() >= 2 {
            let len = usize::from(rest[1]);
            if len < 2 || len > rest.len() {
                break;
            }
            out.push((rest[0], rest[2..len].to_vec()));
            rest = &rest[len..];
        }
    }
    out
}

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Encodes `packet`, adding a Message-Authenticator (RFC 2869 §5.14):
/// HMAC-MD5 with the secret over the packet with the attribute zero.
fn encode_signed(mut packet: Packet, secret: &[u8]) -> Vec<u8> {
    rfc2869::add_message_authenticator(&mut packet, &[0; 16]);
    let mut bytes = packet.encode().expect("a packet we built encodes");
    let at = bytes.len() - 16;
    debug_assert_eq!(bytes[at - 2], MESSAGE_AUTHENTICATOR);
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(&bytes);
    bytes[at..].copy_from_slice(&mac.finalize().into_bytes());
    bytes
}

/// The Access-Request for one session.
pub fn access_request(
    config: &RadiusConfig,
    identifier: u8,
    username: &str,
    exchange: &AuthExchange,
    nas_port: u16,
    calling_station: IpAddr,
) -> Vec<u8> {
    access_request_with_state(
        config,
        identifier,
        username,
        exchange,
        nas_port,
        calling_station,
        None,
    )
}

/// The Access-Request for one session, echoing an Access-Challenge's
/// State (EAP's later rounds).
pub fn access_request_with_state(
    config: &RadiusConfig,
    identifier: u8,
    username: &str,
    exchange: &AuthExchange,
    nas_port: u16,
    calling_station: IpAddr,
    state: Option<&[u8]>,
) -> Vec<u8> {
    let mut p = Packet::new_with_identifier(Code::AccessRequest, &config.secret, identifier);
    rfc2865::add_user_name(&mut p, username);
    if let Some(state) = state {
        rfc2865::add_state(&mut p, state);
    }
    match exchange {
        AuthExchange::Pap { password } => {
            // At most 128 octets (RFC 2865 §5.2); a longer one cannot match.
            let pw = &password.as_bytes()[..password.as_bytes().len().min(128)];
            let _ = rfc2865::add_user_password(&mut p, pw);
        }
        AuthExchange::ChapMd5 {
            identifier,
            challenge,
            response,
        } => {
            let mut v = vec![*identifier];
            v.extend_from_slice(response);
            rfc2865::add_chap_password(&mut p, &v);
            rfc2865::add_chap_challenge(&mut p, challenge);
        }
        AuthExchange::MsChapV1 {
            identifier,
            challenge,
            lm_response,
            nt_response,
            flags,
        } => {
            let mut v = vec![*identifier, *flags];
            v.extend_from_slice(lm_response);
            v.extend_from_slice(nt_response);
            p.add(ms_attribute(MS_CHAP_CHALLENGE, challenge));
            p.add(ms_attribute(MS_CHAP_RESPONSE, &v));
        }
        AuthExchange::MsChapV2 {
            identifier,
            authenticator_challenge,
            peer_challenge,
            nt_response,
            flags,
        } => {
            let mut v = vec![*identifier, *flags];
            v.extend_from_slice(peer_challenge);
            v.extend_from_slice(&[0; 8]);
            v.extend_from_slice(nt_response);
            p.add(ms_attribute(MS_CHAP_CHALLENGE, authenticator_challenge));
            p.add(ms_attribute(MS_CHAP2_RESPONSE, &v));
        }
        // RFC 3579 §3.1: the peer's EAP Response, split into 253-octet
        // EAP-Message attributes (the signature is added below).
        AuthExchange::Eap { packet } => rfc2869::add_eap_message(&mut p, packet),
        _ => {}
    }
    nas_attributes(&mut p, config, nas_port, calling_station);
    encode_signed(p, &config.secret)
}

/// NAS-Identifier, NAS-IP-Address, NAS-Port, NAS-Port-Type Virtual,
/// Service-Type Framed, Framed-Protocol PPP, Calling-Station-Id.
fn nas_attributes(p: &mut Packet, config: &RadiusConfig, nas_port: u16, calling: IpAddr) {
    rfc2865::add_nas_identifier(p, &config.nas_identifier);
    if let Some(ip) = &config.nas_ip {
        rfc2865::add_nas_ip_address(p, ip);
    }
    rfc2865::add_nas_port(p, u32::from(nas_port));
    rfc2865::add_nas_port_type(p, 5); // Virtual
    rfc2865::add_service_type(p, 2); // Framed
    rfc2865::add_framed_protocol(p, 1); // PPP
    rfc2865::add_calling_station_id(p, &calling.to_string());
}

/// RFC 2548 §2.4.2: decrypts a salted MS-MPPE-Send-Key or -Recv-Key, as
/// MPPE uses it: its first 16 octets (RFC 3079 §3.3's 128-bit start key;
/// EAP-TLS and PEAP send 32, RFC 5216 §2.3).
pub fn decrypt_mppe_key(
    value: &[u8],
    request_authenticator: &[u8],
    secret: &[u8],
) -> Option<[u8; 16]> {
    let key = decrypt_mppe_key_octets(value, request_authenticator, secret)?;
    key.get(..16)?.try_into().ok()
}

/// RFC 2548 §2.4.2: the whole key of a salted MS-MPPE-Send-Key or
/// -Recv-Key (its Key-Length octets), at least 16.
pub fn decrypt_mppe_key_octets(
    value: &[u8],
    request_authenticator: &[u8],
    secret: &[u8],
) -> Option<Vec<u8>> {
    if value.len() < 2 + 16 || (value.len() - 2) % 16 != 0 || value[0] & 0x80 == 0 {
        return None;
    }
    let (salt, cipher) = value.split_at(2);
    let mut plain = Vec::with_capacity(cipher.len());
    let mut b = md5(&[secret, request_authenticator, salt]);
    for chunk in cipher.chunks(16) {
        plain.extend(chunk.iter().zip(b).map(|(c, k)| c ^ k));
        b = md5(&[secret, chunk]);
    }
    let len = usize::from(plain[0]);
    if len < 16 || len + 1 > plain.len() {
        return None;
    }
    Some(plain[1..=len].to_vec())
}

/// The whole MS-MPPE-Send-Key and -Recv-Key of an authentic answer to
/// `request`, decrypted: (send, recv). `None` without both.
pub fn ms_mppe_keys(response: &[u8], request: &[u8], secret: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let authenticator = request.get(4..20)?;
    let packet = Packet::decode(response, secret).ok()?;
    let ms = ms_attributes(&packet);
    let key = |t: u8| {
        let (_, v) = ms.iter().find(|(v, _)| *v == t)?;
        decrypt_mppe_key_octets(v, authenticator, secret)
    };
    Some((key(MS_MPPE_SEND_KEY)?, key(MS_MPPE_RECV_KEY)?))
}

/// RFC 2548 §2.4.2's encryption, as a RADIUS server does it (for tests).
pub fn encrypt_mppe_key(
    key: &[u8],
    salt: [u8; 2],
    request_authenticator: &[u8],
    secret: &[u8],
) -> Vec<u8> {
    let mut plain = vec![key.len() as u8];
    plain.extend_from_slice(key);
    while plain.len() % 16 != 0 {
        plain.push(0);
    }
    let mut out = salt.to_vec();
    let mut b = md5(&[secret, request_authenticator, &salt]);
    for chunk in plain.chunks(16) {
        let c: Vec<u8> = chunk.iter().zip(b).map(|(p, k)| p ^ k).collect();
        b = md5(&[secret, &c]);
        out.extend(c);
    }
    out
}

/// RFC 2865 §5.2's hiding (MS-CHAP-MPPE-Keys uses it, RFC 2548 §2.4.1):
/// its own inverse's partner; `decrypt` chooses the direction.
pub fn user_password_cipher(
    data: &[u8],
    request_authenticator: &[u8],
    secret: &[u8],
    decrypt: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut b = md5(&[secret, request_authenticator]);
    for chunk in data.chunks(16) {
        let x: Vec<u8> = chunk.iter().zip(b).map(|(d, k)| d ^ k).collect();
        let c = if decrypt { chunk.to_vec() } else { x.clone() };
        b = md5(&[secret, &c]);
        out.extend(x);
    }
    out
}

/// The 16 octets of an `S=` (MS-CHAP2-Success: Ident, then `S=<40 hex>`).
fn parse_success(value: &[u8]) -> Option<[u8; 20]> {
    let text = std::str::from_utf8(value.get(1..)?).ok()?;
    let hex = text.strip_prefix("S=")?.get(..40)?;
    let mut out = [0u8; 20];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// MS-CHAP-Error (Ident, then `E=691 R=0 C=… V=3 M=…`) as a Rejection.
pub fn parse_error(value: &[u8]) -> Option<Rejection> {
    let text = String::from_utf8_lossy(value.get(1..)?).into_owned();
    let mut rejection = Rejection::default();
    let (fields, message) = match text.find("M=") {
        Some(i) => (&text[..i], Some(text[i + 2..].to_string())),
        None => (&text[..], None),
    };
    for field in fields.split_whitespace() {
        if let Some(e) = field.strip_prefix("E=") {
            rejection.error = e.parse().ok()?;
        } else if let Some(r) = field.strip_prefix("R=") {
            rejection.retry = r == "1";
        }
    }
    rejection.message = message.filter(|m| !m.is_empty());
    Some(rejection)
}

fn malformed(what: impl fmt::Display) -> RadiusError {
    RadiusError::Malformed(what.to_string())
}

/// Whether an answer's Message-Authenticator (RFC 2869 §5.14) is right:
/// HMAC-MD5 with the secret over the answer with the request's
/// authenticator in place of its own and the attribute zeroed. `None`: the
/// answer has none.
pub fn message_authenticator_ok(response: &[u8], request: &[u8], secret: &[u8]) -> Option<bool> {
    if response.len() < 20 || request.len() < 20 {
        return Some(false);
    }
    let mut at = 20;
    while at + 2 <= response.len() {
        let len = usize::from(response[at + 1]);
        if len < 2 || at + len > response.len() {
            return Some(false);
        }
        if response[at] == MESSAGE_AUTHENTICATOR {
            if len != 18 {
                return Some(false);
            }
            let mut copy = response.to_vec();
            copy[4..20].copy_from_slice(&request[4..20]);
            copy[at + 2..at + 18].fill(0);
            let mut mac = <Hmac<Md5> as Mac>::new_from_slice(secret).expect("HMAC takes any key");
            mac.update(&copy);
            return Some(mac.verify_slice(&response[at + 2..at + 18]).is_ok());
        }
        at += len;
    }
    None
}

/// An Access-Challenge's State, to echo in the next request.
pub fn state_of(response: &[u8], secret: &[u8]) -> Option<Vec<u8>> {
    let packet = Packet::decode(response, secret).ok()?;
    rfc2865::lookup_state(&packet)
}

/// The verdict in an authentic answer to `request`.
pub fn verdict_of(response: &[u8], request: &[u8], secret: &[u8]) -> Result<Verdict, RadiusError> {
    if request.len() < 20 || !Packet::is_authentic_response(response, request, secret) {
        return Err(RadiusError::NotAuthentic);
    }
    let packet = Packet::decode(response, secret).map_err(malformed)?;
    let eap = rfc2869::lookup_eap_message(&packet);
    match message_authenticator_ok(response, request, secret) {
        Some(false) => return Err(RadiusError::NotAuthentic),
        // RFC 3579 §3.2: EAP-Message without Message-Authenticator is
        // silently discarded.
        None if eap.is_some() => return Err(RadiusError::NotAuthentic),
        _ => {}
    }
    let authenticator = &request[4..20];
    let ms = ms_attributes(&packet);
    let find = |t: u8| ms.iter().find(|(v, _)| *v == t).map(|(_, v)| v.as_slice());
    match packet.get_code() {
        Code::AccessAccept => {}
        Code::AccessReject => {
            let mut rejection = find(MS_CHAP_ERROR)
                .and_then(parse_error)
                .unwrap_or_default();
            if rejection.message.is_none() {
                rejection.message = rfc2865::lookup_reply_message(&packet).and_then(Result::ok);
            }
            return Ok(Verdict::Reject(rejection));
        }
        // RFC 3579 §2.6.4: the next EAP Request for the peer.
        Code::AccessChallenge => {
            return match eap {
                Some(request) => Ok(Verdict::Challenge(request)),
                None => Err(malformed("Access-Challenge without EAP-Message")),
            }
        }
        other => return Err(malformed(format!("answer {other:?}"))),
    }
    let mut a = Acceptance::default();
    let send = find(MS_MPPE_SEND_KEY).map(|v| decrypt_mppe_key(v, authenticator, secret));
    let recv = find(MS_MPPE_RECV_KEY).map(|v| decrypt_mppe_key(v, authenticator, secret));
    match (send, recv) {
        (Some(Some(send)), Some(Some(recv))) => a.mppe_keys = Some(MppeKeys { send, recv }),
        (None, None) => {}
        _ => return Err(malformed("MS-MPPE keys that do not decrypt")),
    }
    if a.mppe_keys.is_none() {
        if let Some(v) = find(MS_CHAP_MPPE_KEYS) {
            a.mppe_keys = Some(ms_chap_v1_keys(v, request, secret)?);
        }
    }
    if let Some(v) = find(MS_CHAP2_SUCCESS) {
        a.authenticator_response =
            Some(parse_success(v).ok_or_else(|| malformed("MS-CHAP2-Success"))?);
    }
    a.address = rfc2865::lookup_framed_ip_address(&packet)
        .and_then(Result::ok)
        // 255.255.255.254: the NAS chooses; .255: the user may.
        .filter(|ip| u32::from(*ip) < 0xffff_fffe && !ip.is_unspecified());
    let secs = |v: Option<Result<u32, _>>| {
        v.and_then(Result::ok)
            .map(|s| Duration::from_secs(u64::from(s)))
    };
    a.session_timeout = secs(rfc2865::lookup_session_timeout(&packet));
    a.idle_timeout = secs(rfc2865::lookup_idle_timeout(&packet));
    a.interim_interval = secs(rfc2869::lookup_acct_interim_interval(&packet));
    a.class = rfc2865::lookup_class(&packet).unwrap_or_default();
    Ok(Verdict::Accept(a))
}

/// MS-CHAP-MPPE-Keys (RFC 2548 §2.4.1): LM-Key and NT-Key (the password's
/// NtPasswordHashHash), hidden like User-Password; the 128-bit start key
/// is `GetStartKey(challenge, NT-Key)` (RFC 3079 §2.4), both ways.
fn ms_chap_v1_keys(value: &[u8], request: &[u8], secret: &[u8]) -> Result<MppeKeys, RadiusError> {
    if value.len() < 32 || value.len() % 16 != 0 {
        return Err(malformed("MS-CHAP-MPPE-Keys length"));
    }
    let plain = user_password_cipher(value, &request[4..20], secret, true);
    let nt_key: [u8; 16] = plain[8..24].try_into().map_err(malformed)?;
    let challenge = request_ms_challenge(request, secret)?;
    let key = get_start_key(&challenge, &NtHashHash::from_bytes(nt_key));
    Ok(MppeKeys {
        send: *key.as_bytes(),
        recv: *key.as_bytes(),
    })
}

/// The 8-octet MS-CHAP-Challenge of our own request.
fn request_ms_challenge(request: &[u8], secret: &[u8]) -> Result<[u8; 8], RadiusError> {
    let packet = Packet::decode(request, secret).map_err(malformed)?;
    ms_attributes(&packet)
        .into_iter()
        .find(|(t, _)| *t == MS_CHAP_CHALLENGE)
        .and_then(|(_, v)| v.try_into().ok())
        .ok_or_else(|| malformed("no 8-octet MS-CHAP-Challenge in the request"))
}

/// The Accounting-Request for one record (RFC 2866).
pub fn accounting_request(config: &RadiusConfig, identifier: u8, r: &AccountingRecord) -> Vec<u8> {
    let mut p = Packet::new_with_identifier(Code::AccountingRequest, &config.secret, identifier);
    rfc2866::add_acct_status_type(&mut p, r.status.code());
    rfc2866::add_acct_session_id(&mut p, &r.session_id);
    rfc2865::add_user_name(&mut p, &r.username);
    nas_attributes(&mut p, config, r.call_id, r.peer);
    if !r.address.is_unspecified() {
        rfc2865::add_framed_ip_address(&mut p, &r.address);
    }
    if !r.class.is_empty() {
        rfc2865::add_class(&mut p, &r.class);
    }
    rfc2866::add_acct_authentic(&mut p, 1); // RADIUS
    rfc2866::add_acct_delay_time(&mut p, 0);
    if r.status != AccountingStatus::Start {
        let low = |n: u64| n as u32;
        let high = |n: u64| (n >> 32) as u32;
        rfc2866::add_acct_input_octets(&mut p, low(r.bytes_in));
        rfc2866::add_acct_output_octets(&mut p, low(r.bytes_out));
        rfc2869::add_acct_input_gigawords(&mut p, high(r.bytes_in));
        rfc2869::add_acct_output_gigawords(&mut p, high(r.bytes_out));
        rfc2866::add_acct_input_packets(&mut p, low(r.packets_in));
        rfc2866::add_acct_output_packets(&mut p, low(r.packets_out));
        rfc2866::add_acct_session_time(&mut p, r.session_time.as_secs() as u32);
    }
    if let Some(cause) = r.terminate_cause {
        rfc2866::add_acct_terminate_cause(&mut p, cause.code());
    }
    p.encode().expect("a packet we built encodes")
}

/// Whether `response` is an authentic Accounting-Response to `request`.
pub fn accounting_response_ok(response: &[u8], request: &[u8], secret: &[u8]) -> bool {
    response.first() == Some(&5) && Packet::is_authentic_response(response, request, secret)
}

/// What an RFC 5176 Disconnect-Request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisconnectRequest {
    /// Its Identifier.
    pub identifier: u8,
    /// Acct-Session-Id.
    pub session_id: Option<String>,
    /// User-Name.
    pub username: Option<String>,
    /// Framed-IP-Address.
    pub address: Option<Ipv4Addr>,
}

/// Parses and authenticates a Disconnect-Request (RFC 5176 §2.3: its
/// Request Authenticator is computed as an Accounting-Request's).
pub fn parse_disconnect(bytes: &[u8], secret: &[u8]) -> Result<DisconnectRequest, RadiusError> {
    if bytes.first() != Some(&40) {
        return Err(malformed("not a Disconnect-Request"));
    }
    let packet = Packet::decode(bytes, secret).map_err(malformed)?;
    if !Packet::is_authentic_request(bytes, secret) {
        return Err(RadiusError::NotAuthentic);
    }
    Ok(DisconnectRequest {
        identifier: packet.get_identifier(),
        session_id: rfc2866::lookup_acct_session_id(&packet).and_then(Result::ok),
        username: rfc2865::lookup_user_name(&packet).and_then(Result::ok),
        address: rfc2865::lookup_framed_ip_address(&packet).and_then(Result::ok),
    })
}

/// Disconnect-ACK, or Disconnect-NAK with Error-Cause 503
/// (Session-Context-Not-Found) when no session matched.
pub fn disconnect_reply(request: &[u8], secret: &[u8], found: bool) -> Vec<u8> {
    let Ok(req) = Packet::decode(request, secret) else {
        return Vec::new();
    };
    let code = if found {
        Code::DisconnectACK
    } else {
        Code::DisconnectNAK
    };
    let mut reply = req.make_response_packet(code);
    if !found {
        rfc3576::add_error_cause(&mut reply, 503);
    }
    reply.encode().unwrap_or_default()
}
