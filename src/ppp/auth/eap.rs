//! EAP (RFC 3748) in both roles, inside the authentication machines:
//! EAP-MD5 (§5.4) and EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2) run
//! here; any other type is Nak'ed by a peer and relayed by an authenticator
//! in pass-through mode ([`AuthMethod::Eap`], RFC 3579).
//!
//! The checks are the CHAP ones: EAP-MD5's response is CHAP-MD5's over the
//! EAP Identifier, EAP-MSCHAPv2's values are MS-CHAPv2's, so an embedder's
//! credentials or verdict (RADIUS with CHAP or MS-CHAP attributes) work
//! unchanged, and the MPPE keys are MS-CHAPv2's.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{
    failure_reason, upper_hex, AuthEvent, AuthFailure, Authenticator, Outcome, Peer,
    PendingResponse, Rejection, MAX_PEER_NAME,
};
use crate::crypto::mschap::AuthenticatorResponse;
use crate::crypto::{chap_md5, MppeKeys};
use crate::ppp::lcp::AuthMethod;
use crate::time::Instant;
use crate::wire::eap::{EapData, EapMsChapV2, EapPacket, EapType};
use crate::wire::ppp::Protocol;

/// The most Requests an authenticator relays from its verifier in one
/// authentication (hostapd's default `EAP_MAX_AUTH_ROUNDS`): PEAP and
/// EAP-TLS take a dozen with a certificate chain; a verifier or peer
/// looping for ever is cut off.
pub const MAX_EAP_ROUNDS: u8 = 50;

fn emit(packet: &EapPacket<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(packet.buffer_len());
    packet.emit(&mut out);
    out
}

/// The packet's bytes up to its Length (the rest is link padding).
fn whole(data: &[u8]) -> &[u8] {
    let length = data
        .get(2..4)
        .map_or(0, |l| usize::from(u16::from_be_bytes([l[0], l[1]])));
    data.get(..length).unwrap_or(data)
}

/// The EAP types `methods` allow a peer to answer, most preferred first.
fn types_of(methods: &[AuthMethod]) -> Vec<EapType> {
    let mut types = Vec::new();
    for m in methods {
        let these: &[EapType] = match m {
            AuthMethod::EapMsChapV2 => &[EapType::MS_CHAP_V2],
            AuthMethod::EapMd5 => &[EapType::MD5_CHALLENGE],
            AuthMethod::Eap => &[EapType::MS_CHAP_V2, EapType::MD5_CHALLENGE],
            _ => &[],
        };
        for t in these {
            if !types.contains(t) {
                types.push(*t);
            }
        }
    }
    types
}

/// A peer's EAP state.
#[derive(Debug)]
pub(super) struct PeerEap {
    /// The types we answer, most preferred first (named in our Naks).
    types: Vec<EapType>,
    /// The last Request answered and our answer: a retransmitted Request
    /// gets the same Response (RFC 3748 §4.1).
    last: Option<(u8, Vec<u8>)>,
    /// The method we answered a challenge of.
    ran: Option<AuthMethod>,
    /// EAP-MSCHAPv2: the authenticator's `S=` checked out.
    verified: bool,
    /// EAP-MSCHAPv2: why its Failure said no, reported at EAP-Failure.
    failure: Option<AuthFailure>,
    /// Our last answer was a legacy Nak: a Failure now means no common type.
    naked: bool,
    /// New Requests answered so far: an authenticator that never concludes
    /// (Notifications for ever) is cut off after the Identity and
    /// [`MAX_EAP_ROUNDS`] more, the budget of our own pass-through.
    answered: u8,
}

impl PeerEap {
    pub(super) fn new(methods: &[AuthMethod]) -> Self {
        PeerEap {
            types: types_of(methods),
            last: None,
            ran: None,
            verified: false,
            failure: None,
            naked: false,
            answered: 0,
        }
    }

    fn allows(&self, t: EapType) -> bool {
        self.types.contains(&t)
    }
}

impl Peer {
    /// A received EAP packet.
    pub(super) fn on_eap(&mut self, now: Instant, data: &[u8]) {
        let Ok(packet) = EapPacket::parse(data) else {
            return;
        };
        match packet {
            EapPacket::Request { identifier, data } => self.on_eap_request(now, identifier, data),
            EapPacket::Success { .. } => self.on_eap_success(),
            EapPacket::Failure { .. } => {
                let refused = self.eap.naked.then_some(AuthFailure::MethodRefused);
                let reason = self.eap.failure.take().or(refused);
                self.io.fail(reason.unwrap_or(AuthFailure::BadPassword));
            }
            EapPacket::Response { .. } => {}
        }
    }

    fn on_eap_request(&mut self, now: Instant, identifier: u8, data: EapData<'_>) {
        if let Some((last, answer)) = &self.eap.last {
            if *last == identifier {
                let answer = answer.clone();
                return self.io.send(Protocol::EAP, answer);
            }
        }
        self.eap.answered = self.eap.answered.saturating_add(1);
        if self.eap.answered > MAX_EAP_ROUNDS.saturating_add(1) {
            return self.io.fail(AuthFailure::TooManyRounds);
        }
        let response = |data| emit(&EapPacket::Response { identifier, data });
        let answer = match data {
            EapData::Identity(_) => response(EapData::Identity(self.username.as_bytes())),
            EapData::Notification(text) => {
                let _ = text; // unused without the `tracing` feature
                crate::trace::event!(info, message = ?String::from_utf8_lossy(text), "EAP notification");
                response(EapData::Notification(&[]))
            }
            EapData::Md5Challenge { value, name } if self.eap.allows(EapType::MD5_CHALLENGE) => {
                self.authenticator_name = String::from_utf8_lossy(name).into_owned();
                let md5 = chap_md5::response(identifier, &self.password, value);
                self.eap.ran = Some(AuthMethod::EapMd5);
                self.keys = None;
                response(EapData::Md5Challenge {
                    value: &md5,
                    name: self.username.as_bytes(),
                })
            }
            EapData::MsChapV2(EapMsChapV2::Challenge {
                ms_chap_id,
                challenge,
                name,
            }) if self.eap.allows(EapType::MS_CHAP_V2) => {
                let Ok(challenge) = <[u8; 16]>::try_from(challenge) else {
                    return;
                };
                self.authenticator_name = String::from_utf8_lossy(name).into_owned();
                let value = self.mschapv2_response(&challenge);
                self.eap.ran = Some(AuthMethod::EapMsChapV2);
                self.eap.verified = false;
                response(EapData::MsChapV2(EapMsChapV2::Response {
                    ms_chap_id,
                    response: &value,
                    name: self.username.as_bytes(),
                }))
            }
            EapData::MsChapV2(EapMsChapV2::Success { message, .. })
                if self.eap.ran == Some(AuthMethod::EapMsChapV2) =>
            {
                // The draft's §2.2, as RFC 2759 §8.8: the authenticator
                // proves it knows the password, or we go no further.
                if !self.authenticator_proved(message) {
                    return self.io.fail(AuthFailure::AuthenticatorMismatch);
                }
                self.eap.verified = true;
                response(EapData::MsChapV2(EapMsChapV2::SuccessAck))
            }
            EapData::MsChapV2(EapMsChapV2::Failure { message, .. })
                if self.eap.ran == Some(AuthMethod::EapMsChapV2) =>
            {
                self.eap.failure = Some(failure_reason(message));
                self.keys = None;
                response(EapData::MsChapV2(EapMsChapV2::FailureAck))
            }
            // A Response's opcode in a Request, a Success before our
            // Response, a Nak (a Response type): nothing to answer.
            EapData::MsChapV2(_) if self.eap.allows(EapType::MS_CHAP_V2) => return,
            EapData::Nak(_) => return,
            _ => {
                // RFC 3748 §5.3.1: a type we do not do gets a legacy Nak
                // naming those we do.
                let types: Vec<u8> = self.eap.types.iter().map(|t| t.0).collect();
                crate::trace::event!(
                    info,
                    eap_type = data.eap_type().0,
                    "EAP type not allowed: Nak"
                );
                response(EapData::Nak(&types))
            }
        };
        self.eap.naked = matches!(
            EapPacket::parse(&answer),
            Ok(EapPacket::Response {
                data: EapData::Nak(_),
                ..
            })
        );
        self.eap.last = Some((identifier, answer.clone()));
        self.io.stop_timer();
        self.io.send(Protocol::EAP, answer);
        self.io.wait(now);
        if let Some(reason) = self.eap.failure.take() {
            // The Failure said it all; pppd's authenticator sends no
            // EAP-Failure after it, only LCP's Terminate-Request.
            return self.io.fail(reason);
        }
        if self.eap.verified {
            // The authenticator proved it knows the password and we said
            // so: authentication is over (RFC 3748 §4.2 lets a peer
            // conclude without EAP-Success, and pppd's authenticator sends
            // none after EAP-MSCHAPv2: it opens the network phase at once).
            // A later EAP-Success changes nothing, a Failure is discarded.
            self.on_eap_success();
        }
    }

    /// After the outcome: a repeated Request (our answer was lost) gets
    /// the same answer again, so the authenticator can finish too.
    pub(super) fn repeat_eap_answer(&mut self, data: &[u8]) {
        let Ok(EapPacket::Request { identifier, .. }) = EapPacket::parse(data) else {
            return;
        };
        if let Some((last, answer)) = &self.eap.last {
            if *last == identifier {
                let answer = answer.clone();
                self.io.send(Protocol::EAP, answer);
            }
        }
    }

    fn on_eap_success(&mut self) {
        let method = self.eap.ran;
        let authenticated = match method {
            Some(AuthMethod::EapMd5) => true,
            Some(AuthMethod::EapMsChapV2) => self.eap.verified,
            _ => false,
        };
        let Some(method) = method.filter(|_| authenticated) else {
            // RFC 3748 §7.2 (mutual authentication): a Success that proves
            // nothing about the authenticator is not one.
            return self.io.fail(AuthFailure::PrematureSuccess);
        };
        let mppe_keys = self.keys.take();
        self.io.finish(AuthEvent::Success {
            peer_name: core::mem::take(&mut self.authenticator_name),
            method,
            mppe_keys,
        });
    }
}

/// Where an authenticator's EAP exchange stands.
#[derive(Debug)]
enum Stage {
    /// Request/Identity sent.
    Identity,
    /// The method's challenge sent.
    Challenge,
    /// A Response is with the embedder.
    Verifying,
    /// EAP-MSCHAPv2: its Success (with `S=`) sent, awaiting the ack.
    Succeeded {
        /// The keys for our side.
        keys: Option<MppeKeys>,
        /// The peer's MS-CHAPv2 name.
        username: String,
    },
    /// EAP-MSCHAPv2: its Failure sent, awaiting the ack.
    Failed {
        /// Why.
        reason: AuthFailure,
    },
    /// Pass-through: a Request from the verifier sent, its Response
    /// awaited.
    Relay,
}

/// An authenticator's EAP state.
#[derive(Debug)]
pub(super) struct AuthenticatorEap {
    stage: Stage,
    /// The peer's EAP Identity.
    identity: String,
    /// Requests relayed so far ([`MAX_EAP_ROUNDS`]).
    rounds: u8,
    /// The local methods a legacy Nak may move us to.
    allowed: Vec<EapType>,
}

impl AuthenticatorEap {
    pub(super) fn new(methods: &[AuthMethod]) -> Self {
        AuthenticatorEap {
            stage: Stage::Identity,
            identity: String::new(),
            rounds: 0,
            // Pass-through leaves Naks to the verifier.
            allowed: types_of(
                &methods
                    .iter()
                    .copied()
                    .filter(|m| *m != AuthMethod::Eap)
                    .collect::<Vec<_>>(),
            ),
        }
    }
}

impl Authenticator {
    /// Starts EAP: Request/Identity (RFC 3748 §5.1), retransmitted.
    pub(super) fn start_eap(&mut self, now: Instant) {
        let request = emit(&EapPacket::Request {
            identifier: self.identifier,
            data: EapData::Identity(&[]),
        });
        self.io.send_reliably(now, Protocol::EAP, request);
    }

    /// The local method's challenge, under a new Identifier.
    fn send_eap_challenge(&mut self, now: Instant) {
        self.identifier = self.identifier.wrapping_add(1);
        let identifier = self.identifier;
        let data = match self.method {
            AuthMethod::EapMd5 => EapData::Md5Challenge {
                value: &self.challenge,
                name: self.name.as_bytes(),
            },
            AuthMethod::EapMsChapV2 => EapData::MsChapV2(EapMsChapV2::Challenge {
                ms_chap_id: identifier,
                challenge: &self.challenge,
                name: self.name.as_bytes(),
            }),
            _ => return,
        };
        let request = emit(&EapPacket::Request { identifier, data });
        if let Some(eap) = self.eap.as_mut() {
            eap.stage = Stage::Challenge;
        }
        self.io.send_reliably(now, Protocol::EAP, request);
    }

    /// A received EAP packet: only a Response to our outstanding Request
    /// counts (RFC 3748 §4.1).
    pub(super) fn on_eap(&mut self, now: Instant, data: &[u8]) {
        let Ok(EapPacket::Response {
            identifier,
            data: body,
        }) = EapPacket::parse(data)
        else {
            return;
        };
        if identifier != self.identifier || self.io.done || self.pending.is_some() {
            return;
        }
        let method = self.method;
        let Some(eap) = self.eap.as_mut() else {
            return;
        };
        let name_of = |name: &[u8]| {
            (name.len() <= MAX_PEER_NAME).then(|| String::from_utf8_lossy(name).into_owned())
        };
        match (&eap.stage, body) {
            (Stage::Identity, EapData::Identity(name)) => {
                let Some(identity) = name_of(name) else {
                    return; // pppd's MAXNAMELEN, as for CHAP
                };
                eap.identity = identity;
                if method == AuthMethod::Eap {
                    eap.stage = Stage::Relay;
                    let response = PendingResponse {
                        identifier,
                        username: eap.identity.clone(),
                        value: whole(data).to_vec(),
                    };
                    self.take_response(now, response);
                } else {
                    self.send_eap_challenge(now);
                }
            }
            (Stage::Challenge, EapData::Nak(types)) => {
                let alternative = types.iter().find_map(|t| match EapType(*t) {
                    EapType::MD5_CHALLENGE if method != AuthMethod::EapMd5 => {
                        Some((EapType::MD5_CHALLENGE, AuthMethod::EapMd5))
                    }
                    EapType::MS_CHAP_V2 if method != AuthMethod::EapMsChapV2 => {
                        Some((EapType::MS_CHAP_V2, AuthMethod::EapMsChapV2))
                    }
                    _ => None,
                });
                match alternative {
                    Some((t, next)) if eap.allowed.contains(&t) => {
                        crate::trace::event!(info, ?next, "EAP: the peer Nak'ed our type");
                        self.method = next;
                        self.send_eap_challenge(now);
                    }
                    _ => self.fail_eap(AuthFailure::MethodRefused),
                }
            }
            (Stage::Challenge, EapData::Md5Challenge { value, .. })
                if method == AuthMethod::EapMd5 =>
            {
                eap.stage = Stage::Verifying;
                let response = PendingResponse {
                    identifier,
                    username: eap.identity.clone(),
                    value: value.to_vec(),
                };
                self.take_response(now, response);
            }
            (
                Stage::Challenge,
                EapData::MsChapV2(EapMsChapV2::Response {
                    ms_chap_id,
                    response,
                    name,
                }),
            ) if method == AuthMethod::EapMsChapV2 && ms_chap_id == identifier => {
                let Some(username) = name_of(name) else {
                    return;
                };
                eap.stage = Stage::Verifying;
                let response = PendingResponse {
                    identifier: ms_chap_id,
                    username,
                    value: response.to_vec(),
                };
                self.take_response(now, response);
            }
            (Stage::Succeeded { .. }, EapData::MsChapV2(EapMsChapV2::SuccessAck)) => {
                let Stage::Succeeded { keys, username } =
                    core::mem::replace(&mut eap.stage, Stage::Verifying)
                else {
                    return;
                };
                self.io
                    .send(Protocol::EAP, emit(&EapPacket::Success { identifier }));
                self.io.finish(AuthEvent::Success {
                    peer_name: username,
                    method,
                    mppe_keys: keys,
                });
            }
            (Stage::Failed { .. }, EapData::MsChapV2(EapMsChapV2::FailureAck)) => {
                let Stage::Failed { reason } = core::mem::replace(&mut eap.stage, Stage::Verifying)
                else {
                    return;
                };
                self.fail_eap(reason);
            }
            (Stage::Relay, _) => {
                let response = PendingResponse {
                    identifier,
                    username: eap.identity.clone(),
                    value: whole(data).to_vec(),
                };
                self.take_response(now, response);
            }
            _ => {}
        }
    }

    /// Ends the exchange with EAP-Failure (RFC 3748 §4.2: its Identifier
    /// is the last Response's).
    fn fail_eap(&mut self, reason: AuthFailure) {
        let identifier = self.identifier;
        self.io
            .send(Protocol::EAP, emit(&EapPacket::Failure { identifier }));
        self.io.fail(reason);
    }

    /// Pass-through: the verifier's next Request for the peer.
    pub(super) fn relay_request(&mut self, now: Instant, pending: PendingResponse, request: &[u8]) {
        let Ok(EapPacket::Request { identifier, .. }) = EapPacket::parse(request) else {
            crate::trace::event!(warn, "the verifier's EAP Challenge is not an EAP Request");
            return self.conclude_eap(
                now,
                pending,
                Err((AuthFailure::Rejected, Rejection::default())),
            );
        };
        let Some(eap) = self.eap.as_mut() else {
            return;
        };
        eap.rounds = eap.rounds.saturating_add(1);
        if eap.rounds > MAX_EAP_ROUNDS {
            return self.conclude_eap(
                now,
                pending,
                Err((AuthFailure::TooManyRounds, Rejection::default())),
            );
        }
        eap.stage = Stage::Relay;
        drop(pending); // zeroized: the next Response replaces it
        self.identifier = identifier;
        self.io
            .send_reliably(now, Protocol::EAP, whole(request).to_vec());
    }

    /// The check's outcome under EAP: EAP-MSCHAPv2 says it with its own
    /// Success or Failure first (the draft's §2.2–2.3), the others with
    /// EAP-Success or EAP-Failure at once.
    pub(super) fn conclude_eap(
        &mut self,
        now: Instant,
        pending: PendingResponse,
        outcome: Outcome,
    ) {
        let ms_chap_id = pending.identifier;
        if self.method != AuthMethod::EapMsChapV2 {
            return match outcome {
                Ok((mppe_keys, _)) => {
                    let identifier = self.identifier;
                    self.io
                        .send(Protocol::EAP, emit(&EapPacket::Success { identifier }));
                    let mut pending = pending;
                    self.io.finish(AuthEvent::Success {
                        peer_name: core::mem::take(&mut pending.username),
                        method: self.method,
                        mppe_keys,
                    });
                }
                Err((reason, _)) => self.fail_eap(reason),
            };
        }
        let (stage, message) = match outcome {
            Ok((keys, auth)) => {
                let message = match auth {
                    Some(auth) => {
                        let mut m = AuthenticatorResponse(auth).to_ascii().to_vec();
                        m.extend_from_slice(b" M=Access granted");
                        m
                    }
                    // A verdict without S=: the peer will refuse us.
                    None => b"M=Access granted".to_vec(),
                };
                let mut pending = pending;
                let username = core::mem::take(&mut pending.username);
                (Stage::Succeeded { keys, username }, message)
            }
            Err((reason, told)) => {
                let text = told.message.as_deref().unwrap_or("Authentication failure");
                let message = format!(
                    "E={} R=0 C={} V=3 M={text}",
                    told.error,
                    upper_hex(&self.challenge)
                );
                (Stage::Failed { reason }, message.into_bytes())
            }
        };
        let succeeded = matches!(stage, Stage::Succeeded { .. });
        if let Some(eap) = self.eap.as_mut() {
            eap.stage = stage;
        }
        self.identifier = self.identifier.wrapping_add(1);
        let data = if succeeded {
            EapMsChapV2::Success {
                ms_chap_id,
                message: &message,
            }
        } else {
            EapMsChapV2::Failure {
                ms_chap_id,
                message: &message,
            }
        };
        let request = emit(&EapPacket::Request {
            identifier: self.identifier,
            data: EapData::MsChapV2(data),
        });
        self.io.send_reliably(now, Protocol::EAP, request);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{AuthExchange, AuthMachine, AuthTimers, Credentials, Verdict};
    use super::*;
    use crate::crypto::key_derivation::{mppe_keys_mschapv2, Role};
    use crate::crypto::mschap::nt_password_hash;
    use crate::crypto::Password;
    use crate::ppp::auth::Acceptance;

    const NOW: Instant = Instant::ZERO;

    fn password(p: &str) -> Password {
        Password::new(p).unwrap_or_else(|_| unreachable!())
    }

    fn peer(methods: &[AuthMethod], secret: &str) -> AuthMachine {
        let p = Peer::new(
            methods[0],
            "alice",
            password(secret),
            [7; 16],
            AuthTimers::default(),
        )
        .with_eap_methods(methods);
        AuthMachine::Peer(alloc::boxed::Box::new(p))
    }

    fn authenticator(methods: &[AuthMethod]) -> AuthMachine {
        let a = Authenticator::new(methods[0], "vpn", [9; 16], 0x40, AuthTimers::default())
            .with_eap_methods(methods);
        AuthMachine::Authenticator(alloc::boxed::Box::new(a))
    }

    /// What each side reported, and the EAP packets that crossed.
    #[derive(Default)]
    struct Run {
        client: Vec<AuthEvent>,
        server: Vec<AuthEvent>,
        wire: Vec<String>,
    }

    /// Shuttles packets both ways; `answer` decides each AuthRequest.
    fn exchange(
        client: &mut AuthMachine,
        server: &mut AuthMachine,
        mut answer: impl FnMut(&mut AuthMachine, &AuthEvent),
    ) -> Run {
        let mut out = Run::default();
        client.start(NOW);
        server.start(NOW);
        for _ in 0..200 {
            let mut moved = false;
            while let Some((p, d)) = server.poll_transmit() {
                assert_eq!(p, Protocol::EAP);
                out.wire
                    .push(alloc::format!("{}", EapPacket::parse(&d).unwrap()));
                client.handle_packet(NOW, p, &d);
                moved = true;
            }
            while let Some((p, d)) = client.poll_transmit() {
                assert_eq!(p, Protocol::EAP);
                out.wire
                    .push(alloc::format!("{}", EapPacket::parse(&d).unwrap()));
                server.handle_packet(NOW, p, &d);
                moved = true;
            }
            while let Some(e) = server.poll_event() {
                answer(server, &e);
                out.server.push(e);
                moved = true;
            }
            while let Some(e) = client.poll_event() {
                out.client.push(e);
                moved = true;
            }
            if !moved {
                break;
            }
        }
        out
    }

    fn with_password(secret: &'static str) -> impl FnMut(&mut AuthMachine, &AuthEvent) {
        move |server, event| {
            if let AuthEvent::Request { .. } = event {
                server.provide_credentials(NOW, Credentials::Password(password(secret)));
            }
        }
    }

    fn success(events: &[AuthEvent]) -> Option<(AuthMethod, Option<MppeKeys>)> {
        events.iter().find_map(|e| match e {
            AuthEvent::Success {
                method, mppe_keys, ..
            } => Some((*method, mppe_keys.clone())),
            _ => None,
        })
    }

    fn failure(events: &[AuthEvent]) -> Option<AuthFailure> {
        events.iter().find_map(|e| match e {
            AuthEvent::Failure { reason } => Some(reason.clone()),
            _ => None,
        })
    }

    #[test]
    fn eap_md5_authenticates_without_keys() {
        let (mut c, mut s) = (
            peer(&[AuthMethod::EapMd5], "secret"),
            authenticator(&[AuthMethod::EapMd5]),
        );
        let run = exchange(&mut c, &mut s, with_password("secret"));
        assert_eq!(
            success(&run.client),
            Some((AuthMethod::EapMd5, None)),
            "{:?}",
            run.wire
        );
        assert_eq!(success(&run.server), Some((AuthMethod::EapMd5, None)));
        // Identity, MD5-Challenge, Success: five packets.
        assert_eq!(run.wire.len(), 5, "{:?}", run.wire);
        assert!(run.wire[0].contains("Identity"), "{:?}", run.wire);
        assert!(run.wire[2].contains("MD5"), "{:?}", run.wire);
        let Some(AuthEvent::Request {
            username, exchange, ..
        }) = run.server.first()
        else {
            panic!("{:?}", run.server)
        };
        assert_eq!(username, "alice");
        // The exchange is CHAP-MD5's over the EAP Identifier: a RADIUS
        // CHAP-Password checks it.
        let AuthExchange::ChapMd5 {
            identifier,
            challenge,
            response,
        } = exchange
        else {
            panic!("{exchange:?}")
        };
        assert_eq!(
            *response,
            chap_md5::response(*identifier, &password("secret"), challenge)
        );
    }

    #[test]
    fn eap_md5_wrong_password_fails_both_ends() {
        let (mut c, mut s) = (
            peer(&[AuthMethod::EapMd5], "guess"),
            authenticator(&[AuthMethod::EapMd5]),
        );
        let run = exchange(&mut c, &mut s, with_password("secret"));
        assert_eq!(failure(&run.server), Some(AuthFailure::BadPassword));
        assert_eq!(failure(&run.client), Some(AuthFailure::BadPassword));
        assert!(
            run.wire.last().is_some_and(|w| w.contains("Failure")),
            "{:?}",
            run.wire
        );
    }

    #[test]
    fn eap_mschapv2_is_mutual_and_keys_match() {
        let m = [AuthMethod::EapMsChapV2];
        let (mut c, mut s) = (peer(&m, "secret"), authenticator(&m));
        let run = exchange(&mut c, &mut s, with_password("secret"));
        let (method, client_keys) = success(&run.client).expect("client up");
        let (_, server_keys) = success(&run.server).expect("server up");
        assert_eq!(method, AuthMethod::EapMsChapV2);
        let (client_keys, server_keys) = (client_keys.unwrap(), server_keys.unwrap());
        assert_eq!(client_keys.send, server_keys.recv);
        assert_eq!(client_keys.recv, server_keys.send);
        // Identity, Challenge/Response, Success/ack, EAP-Success.
        assert_eq!(run.wire.len(), 7, "{:?}", run.wire);
        // The same keys as plain MS-CHAPv2 over the same exchange.
        let Some(AuthEvent::Request {
            exchange: AuthExchange::MsChapV2 { nt_response, .. },
            ..
        }) = run.server.first()
        else {
            panic!("{:?}", run.server)
        };
        let hash = nt_password_hash(&password("secret"));
        assert_eq!(
            mppe_keys_mschapv2(&hash, nt_response, Role::Peer).send,
            client_keys.send
        );
    }

    #[test]
    fn a_checked_s_ends_it_without_eap_success_as_pppd_sends_none() {
        // pppd's EAP-MSCHAPv2 authenticator opens the network phase after
        // its Success Request and never sends EAP-Success; the Success
        // Request is retransmitted if our ack is lost.
        let m = [AuthMethod::EapMsChapV2];
        let (mut c, mut s) = (peer(&m, "secret"), authenticator(&m));
        c.start(NOW);
        s.start(NOW);
        let mut success_request = None;
        for _ in 0..10 {
            while let Some((p, d)) = s.poll_transmit() {
                match EapPacket::parse(&d).unwrap() {
                    EapPacket::Success { .. } => continue, // never sent
                    EapPacket::Request {
                        data: EapData::MsChapV2(EapMsChapV2::Success { .. }),
                        ..
                    } => {
                        success_request = Some(d.clone());
                    }
                    _ => {}
                }
                c.handle_packet(NOW, p, &d);
            }
            while let Some((p, d)) = c.poll_transmit() {
                s.handle_packet(NOW, p, &d);
            }
            if let Some(AuthEvent::Request { .. }) = s.poll_event() {
                s.provide_credentials(NOW, Credentials::Password(password("secret")));
            }
        }
        let events: Vec<_> = core::iter::from_fn(|| c.poll_event()).collect();
        assert!(
            success(&events).is_some_and(|(_, keys)| keys.is_some()),
            "{events:?}"
        );
        // Our ack was lost: the repeated Success Request is acked again.
        c.handle_packet(NOW, Protocol::EAP, &success_request.unwrap());
        let (_, again) = c.poll_transmit().expect("the ack again");
        assert!(matches!(
            EapPacket::parse(&again),
            Ok(EapPacket::Response {
                data: EapData::MsChapV2(EapMsChapV2::SuccessAck),
                ..
            })
        ));
    }

    #[test]
    fn eap_mschapv2_wrong_password_is_e691_at_the_peer() {
        let m = [AuthMethod::EapMsChapV2];
        let (mut c, mut s) = (peer(&m, "guess"), authenticator(&m));
        let run = exchange(&mut c, &mut s, with_password("secret"));
        assert_eq!(
            failure(&run.server),
            Some(AuthFailure::BadPassword),
            "{:?}",
            run.wire
        );
        assert_eq!(failure(&run.client), Some(AuthFailure::BadPassword));
        assert!(
            run.wire.iter().any(|w| w.contains("E=691")),
            "{:?}",
            run.wire
        );
        assert!(
            run.wire.last().is_some_and(|w| w.contains("Failure")),
            "{:?}",
            run.wire
        );
    }

    #[test]
    fn an_authenticator_with_a_wrong_s_fails_the_peer() {
        let m = [AuthMethod::EapMsChapV2];
        let (mut c, mut s) = (peer(&m, "secret"), authenticator(&m));
        let run = exchange(&mut c, &mut s, |server, event| {
            if let AuthEvent::Request { .. } = event {
                // A verifier that accepts without knowing the password.
                let verdict = Verdict::Accept(Acceptance {
                    mppe_keys: Some(MppeKeys {
                        send: [1; 16],
                        recv: [2; 16],
                    }),
                    authenticator_response: Some([0x42; 20]),
                    ..Acceptance::default()
                });
                server.provide_verdict(NOW, verdict);
            }
        });
        assert_eq!(
            failure(&run.client),
            Some(AuthFailure::AuthenticatorMismatch)
        );
        // The peer never acknowledged, so the authenticator did not succeed.
        assert_eq!(success(&run.server), None);
        assert!(
            !run.wire.iter().any(|w| w.contains("EAP Success")),
            "{:?}",
            run.wire
        );
    }

    #[test]
    fn a_type_the_peer_does_not_allow_is_naked_and_ends_in_method_refused() {
        let (mut c, mut s) = (
            peer(&[AuthMethod::EapMsChapV2], "secret"),
            authenticator(&[AuthMethod::EapMd5]),
        );
        let run = exchange(&mut c, &mut s, with_password("secret"));
        assert!(run.wire.iter().any(|w| w.contains("Nak")), "{:?}", run.wire);
        assert_eq!(failure(&run.server), Some(AuthFailure::MethodRefused));
        assert_eq!(failure(&run.client), Some(AuthFailure::MethodRefused));
    }

    #[test]
    fn a_nak_moves_to_a_listed_method_only() {
        // Listed: the authenticator follows the Nak to EAP-MD5.
        let (mut c, mut s) = (
            peer(&[AuthMethod::EapMd5], "secret"),
            authenticator(&[AuthMethod::EapMsChapV2, AuthMethod::EapMd5]),
        );
        let run = exchange(&mut c, &mut s, with_password("secret"));
        assert_eq!(
            success(&run.client).map(|s| s.0),
            Some(AuthMethod::EapMd5),
            "{:?}",
            run.wire
        );
        // Not listed: no downgrade to MD5.
        let (mut c, mut s) = (
            peer(&[AuthMethod::EapMd5], "secret"),
            authenticator(&[AuthMethod::EapMsChapV2]),
        );
        let run = exchange(&mut c, &mut s, with_password("secret"));
        assert_eq!(failure(&run.server), Some(AuthFailure::MethodRefused));
    }

    #[test]
    fn tls_and_peap_requests_get_a_nak_naming_our_types() {
        let mut c = peer(&[AuthMethod::Eap], "secret");
        c.start(NOW);
        for t in [EapType::TLS, EapType::PEAP, EapType(99)] {
            let request = emit(&EapPacket::Request {
                identifier: t.0,
                data: EapData::Other {
                    eap_type: t,
                    data: &[0x20],
                },
            });
            c.handle_packet(NOW, Protocol::EAP, &request);
            let (_, answer) = c.poll_transmit().expect("an answer");
            let parsed = EapPacket::parse(&answer).unwrap();
            assert_eq!(
                parsed,
                EapPacket::Response {
                    identifier: t.0,
                    data: EapData::Nak(&[26, 4])
                }
            );
        }
    }

    #[test]
    fn a_retransmitted_request_gets_the_same_response() {
        let mut c = peer(&[AuthMethod::EapMsChapV2], "secret");
        c.start(NOW);
        let challenge = emit(&EapPacket::Request {
            identifier: 5,
            data: EapData::MsChapV2(EapMsChapV2::Challenge {
                ms_chap_id: 5,
                challenge: &[3; 16],
                name: b"vpn",
            }),
        });
        c.handle_packet(NOW, Protocol::EAP, &challenge);
        let first = c.poll_transmit().unwrap();
        c.handle_packet(NOW, Protocol::EAP, &challenge);
        assert_eq!(c.poll_transmit(), Some(first));
    }

    #[test]
    fn a_peer_stops_answering_an_authenticator_that_never_concludes() {
        let mut c = peer(&[AuthMethod::EapMd5], "secret");
        c.start(NOW);
        let mut answers = 0;
        for id in 0..=u8::MAX {
            let note = emit(&EapPacket::Request {
                identifier: id,
                data: EapData::Notification(b"hi"),
            });
            c.handle_packet(NOW, Protocol::EAP, &note);
            answers += core::iter::from_fn(|| c.poll_transmit()).count();
        }
        assert_eq!(answers, usize::from(MAX_EAP_ROUNDS) + 1);
        let events: Vec<_> = core::iter::from_fn(|| c.poll_event()).collect();
        assert_eq!(failure(&events), Some(AuthFailure::TooManyRounds));
    }

    #[test]
    fn success_before_any_method_is_refused() {
        let mut c = peer(&[AuthMethod::EapMd5], "secret");
        c.start(NOW);
        let identity = emit(&EapPacket::Request {
            identifier: 1,
            data: EapData::Identity(&[]),
        });
        c.handle_packet(NOW, Protocol::EAP, &identity);
        c.handle_packet(
            NOW,
            Protocol::EAP,
            &emit(&EapPacket::Success { identifier: 1 }),
        );
        let events: Vec<_> = core::iter::from_fn(|| c.poll_event()).collect();
        assert_eq!(failure(&events), Some(AuthFailure::PrematureSuccess));
    }

    #[test]
    fn a_peer_that_never_answers_times_out() {
        let timers = AuthTimers {
            restart: crate::time::Duration::from_secs(1),
            max_transmissions: 3,
        };
        let a = Authenticator::new(AuthMethod::EapMsChapV2, "vpn", [9; 16], 1, timers);
        let mut s = AuthMachine::Authenticator(alloc::boxed::Box::new(a));
        s.start(NOW);
        let mut sent = 0;
        for t in 1..10 {
            while s.poll_transmit().is_some() {
                sent += 1;
            }
            s.handle_timeout(Instant::from_secs(t));
        }
        assert_eq!(sent, 3);
        assert_eq!(
            failure(&core::iter::from_fn(|| s.poll_event()).collect::<Vec<_>>()),
            Some(AuthFailure::Timeout)
        );
        assert_eq!(s.poll_timeout(), None);
    }

    /// A verifier running EAP-MD5 itself, as FreeRADIUS does behind a
    /// pass-through authenticator.
    fn md5_verifier(secret: &'static str) -> impl FnMut(&mut AuthMachine, &AuthEvent) {
        move |server, event| {
            let AuthEvent::Request {
                exchange: AuthExchange::Eap { packet },
                ..
            } = event
            else {
                return;
            };
            match EapPacket::parse(packet) {
                Ok(EapPacket::Response {
                    data: EapData::Identity(_),
                    ..
                }) => {
                    let request = emit(&EapPacket::Request {
                        identifier: 0x77,
                        data: EapData::Md5Challenge {
                            value: &[5; 16],
                            name: b"radius",
                        },
                    });
                    server.provide_verdict(NOW, Verdict::Challenge(request));
                }
                Ok(EapPacket::Response {
                    identifier: 0x77,
                    data: EapData::Md5Challenge { value, .. },
                }) => {
                    let ok = value == chap_md5::response(0x77, &password(secret), &[5; 16]);
                    let verdict = if ok {
                        Verdict::Accept(Acceptance::default())
                    } else {
                        Verdict::Reject(Rejection::default())
                    };
                    server.provide_verdict(NOW, verdict);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn pass_through_relays_the_verifiers_method() {
        let (mut c, mut s) = (
            peer(&[AuthMethod::EapMd5], "secret"),
            authenticator(&[AuthMethod::Eap]),
        );
        let run = exchange(&mut c, &mut s, md5_verifier("secret"));
        assert_eq!(
            success(&run.client).map(|s| s.0),
            Some(AuthMethod::EapMd5),
            "{:?}",
            run.wire
        );
        assert_eq!(success(&run.server).map(|s| s.0), Some(AuthMethod::Eap));
        assert!(
            run.wire.iter().any(|w| w.contains("radius")),
            "{:?}",
            run.wire
        );
        // The Success carries the last Response's Identifier.
        assert!(
            run.wire
                .last()
                .is_some_and(|w| w.contains("Success id=0x77")),
            "{:?}",
            run.wire
        );
        let requests = run
            .server
            .iter()
            .filter(|e| matches!(e, AuthEvent::Request { .. }))
            .count();
        assert_eq!(requests, 2);

        let (mut c, mut s) = (
            peer(&[AuthMethod::EapMd5], "guess"),
            authenticator(&[AuthMethod::Eap]),
        );
        let run = exchange(&mut c, &mut s, md5_verifier("secret"));
        assert_eq!(failure(&run.server), Some(AuthFailure::Rejected));
        assert_eq!(failure(&run.client), Some(AuthFailure::BadPassword));
    }

    #[test]
    fn pass_through_cuts_off_an_endless_verifier_and_refuses_non_requests() {
        let (mut c, mut s) = (
            peer(&[AuthMethod::EapMd5], "secret"),
            authenticator(&[AuthMethod::Eap]),
        );
        let mut id = 0u8;
        let run = exchange(&mut c, &mut s, |server, event| {
            if let AuthEvent::Request { .. } = event {
                id = id.wrapping_add(1);
                let note = emit(&EapPacket::Request {
                    identifier: id,
                    data: EapData::Notification(b"hi"),
                });
                server.provide_verdict(NOW, Verdict::Challenge(note));
            }
        });
        assert_eq!(failure(&run.server), Some(AuthFailure::TooManyRounds));
        let requests = run
            .server
            .iter()
            .filter(|e| matches!(e, AuthEvent::Request { .. }))
            .count();
        assert_eq!(requests, usize::from(MAX_EAP_ROUNDS) + 1);

        let (mut c, mut s) = (
            peer(&[AuthMethod::EapMd5], "secret"),
            authenticator(&[AuthMethod::Eap]),
        );
        let run = exchange(&mut c, &mut s, |server, event| {
            if let AuthEvent::Request { .. } = event {
                let success = emit(&EapPacket::Success { identifier: 1 });
                server.provide_verdict(NOW, Verdict::Challenge(success));
            }
        });
        assert_eq!(failure(&run.server), Some(AuthFailure::Rejected));
        assert_eq!(failure(&run.client), Some(AuthFailure::BadPassword));
        // Credentials cannot answer pass-through.
        let (mut c, mut s) = (
            peer(&[AuthMethod::EapMd5], "secret"),
            authenticator(&[AuthMethod::Eap]),
        );
        let run = exchange(&mut c, &mut s, with_password("secret"));
        assert_eq!(failure(&run.server), Some(AuthFailure::UnusableCredentials));
    }
}
