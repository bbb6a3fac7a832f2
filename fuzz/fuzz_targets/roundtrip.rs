//! emit → parse is the identity: message values built from `arbitrary`
//! representations (control messages, GRE, PPP frames, control-protocol
//! packets, MPPE headers, MS-CHAP values and messages) are emitted and
//! parsed back to the same value, with `buffer_len` matching the bytes.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pptp_proto::wire::auth::{
    FailureChallenge, MsChapError, MsChapFailure, MsChapV1Response, MsChapV2Response,
    MsChapV2Success, PapPacket,
};
use pptp_proto::wire::control::{
    BearerCapabilities, ControlMessage, EchoReply, EchoRequest, EchoResult, FixedStr,
    FramingCapabilities, GeneralError, SetLinkInfo, StartControlConnectionRequest,
};
use pptp_proto::wire::cp::{Code, CpPacket};
use pptp_proto::wire::gre::GrePacket;
use pptp_proto::wire::mppe::{CoherencyCount, MppeFlags, MppeHeader};
use pptp_proto::wire::ppp::{PppFrame, Protocol};

#[derive(Arbitrary, Debug)]
enum Repr {
    Sccrq {
        version: u16,
        framing: u32,
        bearer: u32,
        channels: u16,
        firmware: u16,
        host: [u8; 64],
        vendor: [u8; 64],
    },
    EchoRequest(u32),
    EchoReply(u32, u8, u8, u16),
    SetLinkInfo(u16, u32, u32),
    Gre {
        call_id: u16,
        sequence: Option<u32>,
        acknowledgment: Option<u32>,
        payload: Vec<u8>,
    },
    Ppp {
        address_control: bool,
        protocol: u16,
        compressed: bool,
        information: Vec<u8>,
    },
    Cp(u8, u8, Vec<u8>),
    Mppe(u16),
    V1Response([u8; 24], [u8; 24], u8),
    V2Response([u8; 16], [u8; 8], [u8; 24], u8),
    V2Success([u8; 20], Option<Vec<u8>>),
    Failure {
        error: u32,
        retry: Option<bool>,
        challenge: Option<Result<[u8; 8], [u8; 16]>>,
        version: Option<u32>,
        message: Option<Vec<u8>>,
    },
    PapRequest(u8, Vec<u8>, Vec<u8>),
}

fn control(m: ControlMessage) {
    let mut out = Vec::new();
    m.emit(&mut out);
    assert_eq!(out.len(), m.buffer_len());
    assert_eq!(ControlMessage::parse(&out), Ok(m));
}

fn check(repr: Repr) {
    let mut out = Vec::new();
    match repr {
        Repr::Sccrq {
            version,
            framing,
            bearer,
            channels,
            firmware,
            host,
            vendor,
        } => control(ControlMessage::from(StartControlConnectionRequest {
            protocol_version: version,
            framing_capabilities: FramingCapabilities::from_bits_retain(framing),
            bearer_capabilities: BearerCapabilities::from_bits_retain(bearer),
            maximum_channels: channels,
            firmware_revision: firmware,
            host_name: FixedStr(host),
            vendor_string: FixedStr(vendor),
            ..Default::default()
        })),
        Repr::EchoRequest(identifier) => control(ControlMessage::from(EchoRequest {
            reserved0: 0,
            identifier,
        })),
        Repr::EchoReply(identifier, result, error, reserved1) => {
            control(ControlMessage::from(EchoReply {
                reserved0: 0,
                identifier,
                result_code: EchoResult(result),
                error_code: GeneralError(error),
                reserved1,
            }))
        }
        Repr::SetLinkInfo(peer_call_id, send_accm, receive_accm) => {
            control(ControlMessage::from(SetLinkInfo {
                peer_call_id,
                send_accm,
                receive_accm,
                ..Default::default()
            }))
        }
        Repr::Gre {
            call_id,
            sequence,
            acknowledgment,
            payload,
        } => {
            let Some(p) = GrePacket::new(call_id, sequence, acknowledgment, &payload) else {
                return;
            };
            p.emit(&mut out);
            assert_eq!(out.len(), p.buffer_len());
            assert_eq!(GrePacket::parse(&out), Ok(p));
        }
        Repr::Ppp {
            address_control,
            protocol,
            compressed,
            information,
        } => {
            let protocol = Protocol(protocol);
            let f = PppFrame {
                address_control,
                protocol,
                protocol_compressed: compressed && protocol.is_compressible(),
                information: &information,
            };
            f.emit(&mut out);
            assert_eq!(out.len(), f.buffer_len());
            // A valid PPP protocol number has an odd low byte and an even
            // high byte (RFC 1661 §2); others cannot round-trip and are
            // refused by the parser or read differently.
            if protocol.0 & 0x0100 == 0 && protocol.0 & 1 == 1 {
                assert_eq!(PppFrame::parse(&out), Ok(f));
            }
        }
        Repr::Cp(code, identifier, data) => {
            let p = CpPacket::new(Code(code), identifier, &data);
            if p.buffer_len() > usize::from(u16::MAX) {
                return;
            }
            p.emit(&mut out);
            assert_eq!(CpPacket::parse(&out), Ok(p));
        }
        Repr::Mppe(word) => {
            let h = MppeHeader {
                flags: MppeFlags::from_bits_truncate(word),
                coherency_count: CoherencyCount::new(word),
            };
            h.emit(&mut out);
            assert_eq!(MppeHeader::parse(&out).map(|(h, _)| h), Ok(h));
        }
        Repr::V1Response(lm_response, nt_response, use_nt) => {
            let r = MsChapV1Response {
                lm_response,
                nt_response,
                use_nt,
            };
            r.emit(&mut out);
            assert_eq!(out.len(), r.buffer_len());
            assert_eq!(MsChapV1Response::parse(&out), Ok(r));
        }
        Repr::V2Response(peer_challenge, reserved, nt_response, flags) => {
            let r = MsChapV2Response {
                peer_challenge,
                reserved,
                nt_response,
                flags,
            };
            r.emit(&mut out);
            assert_eq!(MsChapV2Response::parse(&out), Ok(r));
        }
        Repr::V2Success(authenticator_response, message) => {
            let s = MsChapV2Success {
                authenticator_response,
                message: message.as_deref(),
            };
            s.emit(&mut out);
            assert_eq!(out.len(), s.buffer_len());
            assert_eq!(MsChapV2Success::parse(&out), Ok(s));
        }
        Repr::Failure {
            error,
            retry,
            challenge,
            version,
            message,
        } => {
            let f = MsChapFailure {
                error: MsChapError(error),
                retry,
                challenge: challenge.map(|c| match c {
                    Ok(v1) => FailureChallenge::V1(v1),
                    Err(v2) => FailureChallenge::V2(v2),
                }),
                version,
                message: message.as_deref(),
            };
            f.emit(&mut out);
            assert_eq!(out.len(), f.buffer_len());
            assert_eq!(MsChapFailure::parse(&out), Ok(f));
        }
        Repr::PapRequest(identifier, peer_id, password) => {
            if peer_id.len() > 255 || password.len() > 255 {
                return;
            }
            let p = PapPacket::AuthenticateRequest {
                identifier,
                peer_id: &peer_id,
                password: &password,
            };
            p.emit(&mut out);
            assert_eq!(out.len(), p.buffer_len());
            assert_eq!(PapPacket::parse(&out), Ok(p));
        }
    }
}

fuzz_target!(|repr: Repr| check(repr));
