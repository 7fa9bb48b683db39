//! Codec checks of draft-18 rules that `docs/traceability/draft-18.md` listed as codec gaps.

use bytes::{BufMut, Bytes};
use sluice_wire::moqt::codes::{MessageType, SessionErrorCode, session_code};
use sluice_wire::moqt::control::ControlMessage;
use sluice_wire::moqt::padding::{PADDING_STREAM_TYPE, put_padding};
use sluice_wire::moqt::setup::{Setup, SetupOption};
use sluice_wire::moqt::token::Token;
use sluice_wire::varint::put_vi64;
use sluice_wire::{Decode, DecodeError, Encode, EncodeError, MoqtVersion, Reader, Violation};

const V: MoqtVersion = MoqtVersion::Draft18;

/// A framed control message: type, 16-bit length, body.
fn framed(ty: MessageType, body: &[u8]) -> Bytes {
    let mut v = Vec::new();
    put_vi64(&mut v, ty.0);
    v.put_u16(body.len() as u16);
    v.extend_from_slice(body);
    Bytes::from(v)
}

fn violation(bytes: &Bytes) -> Violation {
    match ControlMessage::decode(&mut Reader::new(bytes), V) {
        Err(DecodeError::Invalid(v)) => v,
        other => panic!("expected a violation, got {other:?}"),
    }
}

/// §1.4.3 Key-Value-Pair: a known type whose value does not match its serialization closes
/// with KEY_VALUE_FORMATTING_ERROR. In draft-18 the Key-Value-Pairs are Setup Options and
/// Properties (Message Parameters are a different, count-bounded encoding); the known pair
/// with a structured value is the AUTHORIZATION TOKEN Setup Option (0x03), whose Token must
/// decode. A malformed Message Parameter is not a Key-Value-Pair: PROTOCOL_VIOLATION.
#[test]
fn setup_option_value_not_matching_its_type_is_key_value_formatting_error() {
    for (name, token) in [
        ("alias type 9", &[0x09][..]),
        ("DELETE with a trailing byte", &[0x00, 0x01, 0xff][..]),
        ("REGISTER without a token type", &[0x01, 0x01][..]),
    ] {
        // One option: type 0x03 (odd: length-prefixed), the token bytes.
        let mut body = vec![0x03];
        put_vi64(&mut body, token.len() as u64);
        body.extend_from_slice(token);
        let v = violation(&framed(MessageType::SETUP, &body));
        assert_eq!(session_code(&v), SessionErrorCode::KEY_VALUE_FORMATTING_ERROR, "{name}: {v:?}");
    }
    // A well-formed token in the same place decodes.
    let ok = Setup { options: vec![SetupOption::AuthorizationToken(Token::Delete { alias: 1 })] };
    let bytes = Bytes::from(ok.encode_to_vec(V).unwrap());
    assert_eq!(ControlMessage::decode(&mut Reader::new(&bytes), V).unwrap(), ControlMessage::Setup(ok));
    // REQUEST_UPDATE (0x2) whose SUBSCRIPTION_FILTER parameter (0x21) has a trailing byte:
    // a Message Parameter, not a Key-Value-Pair.
    let v = violation(&framed(MessageType::REQUEST_UPDATE, &[0x00, 0x01, 0x21, 0x02, 0x01, 0x00]));
    assert_eq!(v, Violation::TrailingBytes { extra: 1 });
    assert_eq!(session_code(&v), SessionErrorCode::PROTOCOL_VIOLATION);
}

/// §10.3 SETUP: senders do not repeat an Option Type unless its definition allows it; the
/// encoder refuses a repeated known option and accepts repeated AUTHORIZATION TOKENs.
#[test]
fn setup_encoder_refuses_a_repeated_option() {
    let twice = Setup {
        options: vec![
            SetupOption::Path(Bytes::from_static(b"/a")),
            SetupOption::Path(Bytes::from_static(b"/b")),
        ],
    };
    assert_eq!(twice.encode_to_vec(V), Err(EncodeError::Invalid(Violation::DuplicateSetupOption(0x01))));
    let cache_twice =
        Setup { options: vec![SetupOption::MaxAuthTokenCacheSize(1), SetupOption::MaxAuthTokenCacheSize(2)] };
    assert!(cache_twice.encode_to_vec(V).is_err());
    let tokens = Setup {
        options: vec![
            SetupOption::AuthorizationToken(Token::Delete { alias: 1 }),
            SetupOption::AuthorizationToken(Token::Delete { alias: 2 }),
        ],
    };
    assert!(tokens.encode_to_vec(V).is_ok());
}

/// §10.18 SUBSCRIBE_NAMESPACE / §10.19 SUBSCRIBE_TRACKS: a Track Namespace Prefix of more
/// than 32 fields closes the session with PROTOCOL_VIOLATION; 32 fields are fine.
#[test]
fn namespace_prefix_of_33_fields_is_a_protocol_violation() {
    for ty in [MessageType::SUBSCRIBE_NAMESPACE, MessageType::SUBSCRIBE_TRACKS] {
        let body = |fields: u64| {
            let mut b = Vec::new();
            put_vi64(&mut b, 0); // request id
            put_vi64(&mut b, fields);
            for _ in 0..fields {
                b.extend([0x01, b'x']);
            }
            put_vi64(&mut b, 0); // no parameters
            b
        };
        let v = violation(&framed(ty, &body(33)));
        assert_eq!(v, Violation::TooManyNamespaceFields { count: 33 }, "{ty:?}");
        assert_eq!(session_code(&v), SessionErrorCode::PROTOCOL_VIOLATION);
        let ok = framed(ty, &body(32));
        assert!(ControlMessage::decode(&mut Reader::new(&ok), V).is_ok(), "{ty:?}");
    }
}

/// §11.8 Padding Streams: after the stream type, the padding bytes are all zero.
#[test]
fn padding_stream_bytes_are_zero() {
    let mut buf = Vec::new();
    put_vi64(&mut buf, PADDING_STREAM_TYPE);
    let header = buf.len();
    put_padding(&mut buf, 300);
    assert_eq!(buf.len(), header + 300);
    assert!(buf[header..].iter().all(|&b| b == 0));
    let bytes = Bytes::from(buf);
    let mut r = Reader::new(&bytes);
    assert_eq!(r.vi64().unwrap(), PADDING_STREAM_TYPE);
}
