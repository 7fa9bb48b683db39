//! MOQT draft-18 control plane: byte vectors for every control message, round-trip and
//! split properties, and the table of malformed inputs with their exact errors.
//!
//! Vectors are derived by hand from draft-ietf-moq-transport-18 §10 (message layouts),
//! §1.4.1 (vi64: 1 byte below 128, `10xxxxxx` 2 bytes below 16384, `110xxxxx` 3 bytes below
//! 2^21, `0xff` + 8 bytes above 2^56), §1.4.3 (Key-Value-Pairs) and §10.2 (parameters). The
//! comment above each one gives the field breakdown.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use sluice_wire::moqt::codes::{PublishDoneCode, RequestErrorCode};
use sluice_wire::moqt::control::ControlMessage;
use sluice_wire::moqt::filter::SubscriptionFilter;
use sluice_wire::moqt::kvp::{KeyValue, Properties};
use sluice_wire::moqt::location::Location;
use sluice_wire::moqt::message::*;
use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
use sluice_wire::moqt::params::{GroupOrder, ParamScope, Parameter, Parameters, RequestKind};
use sluice_wire::moqt::reason::ReasonPhrase;
use sluice_wire::moqt::setup::{Setup, SetupOption};
use sluice_wire::moqt::token::Token;
use sluice_wire::varint::put_vi64;
use sluice_wire::{Decode, DecodeError, Encode, EncodeError, MoqtVersion, Reader, Violation};

const V: MoqtVersion = MoqtVersion::Draft18;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

fn ns(fields: &[&'static str]) -> TrackNamespace {
    TrackNamespace::from_fields(fields.iter().map(|f| b(f)))
}

fn name(fields: &[&'static str], n: &'static str) -> FullTrackName {
    FullTrackName::new(ns(fields), b(n))
}

fn props(pairs: &[KeyValue]) -> Properties {
    Properties::from_pairs(pairs).unwrap()
}

fn decode_all(bytes: &[u8]) -> Result<ControlMessage, DecodeError> {
    ControlMessage::decode_exact(&Bytes::copy_from_slice(bytes), V)
}

/// Every vector: (what, wire hex, value).
fn vectors() -> Vec<(&'static str, &'static str, ControlMessage)> {
    vec![
        (
            // §10.3 SETUP: type 0x2F00 = af00, length 42 = 002a, then Key-Value-Pairs:
            //   01 04 "/moq"            delta 1 -> PATH (odd: length 4)
            //   02 03 03 00 74          delta 2 -> AUTHORIZATION_TOKEN, 3 bytes: USE_VALUE(3), type 0, "t"
            //   00 05 01 01 02 61 62    delta 0 -> AUTHORIZATION_TOKEN again: REGISTER(1), alias 1, type 2, "ab"
            //   01 83e8                 delta 1 -> MAX_AUTH_TOKEN_CACHE_SIZE (even) = 1000 (2-byte vi64)
            //   01 03 "a.b"             delta 1 -> AUTHORITY
            //   02 06 "sluice"          delta 2 -> MOQT_IMPLEMENTATION
            //   01 02                   delta 1 -> 0x08 (unknown in d18; d19's MAX_REQUEST_UPDATES) = 2
            //   8095 01 67              delta 0x95 -> 0x9D (GREASE N=0, odd) = "g"
            //   7f 05                   delta 0x7f -> 0x11C (GREASE N=1, even) = 5
            "SETUP with every option, an unknown one and two GREASE",
            "af00 002a 01042f6d6f71 0203030074 00050101026162 0183e8 0103612e62 0206736c75696365 0102
             80950167 7f05",
            ControlMessage::Setup(Setup {
                options: vec![
                    SetupOption::Path(b("/moq")),
                    SetupOption::AuthorizationToken(Token::UseValue { token_type: 0, value: b("t") }),
                    SetupOption::AuthorizationToken(Token::Register {
                        alias: 1,
                        token_type: 2,
                        value: b("ab"),
                    }),
                    SetupOption::MaxAuthTokenCacheSize(1000),
                    SetupOption::Authority(b("a.b")),
                    SetupOption::MoqtImplementation(b("sluice")),
                    SetupOption::Unknown(KeyValue::varint(0x08, 2)),
                    SetupOption::Unknown(KeyValue::bytes(0x9D, b("g"))),
                    SetupOption::Unknown(KeyValue::varint(0x11C, 5)),
                ],
            }),
        ),
        ("SETUP with no options", "af00 0000", ControlMessage::Setup(Setup::default())),
        (
            // §10.4 GOAWAY: 10, length 11: URI length 8 "moqt://x", timeout 10000 = a710, no Request ID.
            "GOAWAY with a URI, no request id",
            "10 000b 08 6d6f71743a2f2f78 a710",
            ControlMessage::GoAway(GoAway {
                new_session_uri: b("moqt://x"),
                timeout: 10_000,
                request_id: None,
            }),
        ),
        (
            // §10.4 GOAWAY on the control stream: empty URI, timeout 0, Request ID 1.
            "GOAWAY with a request id",
            "10 0003 00 00 01",
            ControlMessage::GoAway(GoAway { new_session_uri: Bytes::new(), timeout: 0, request_id: Some(1) }),
        ),
        (
            // §10.5 REQUEST_OK: 07, length 6: 2 params: delta 8 EXPIRES = 100 (64), delta 1
            // LARGEST_OBJECT = {5, 3}; no Track Properties.
            "REQUEST_OK (PUBLISH_OK / REQUEST_UPDATE_OK shape)",
            "07 0006 02 0864 01 0503",
            ControlMessage::RequestOk(RequestOk {
                parameters: Parameters(vec![
                    Parameter::Expires(100),
                    Parameter::LargestObject(Location::new(5, 3)),
                ]),
                track_properties: Properties::empty(),
            }),
        ),
        (
            // §10.5 REQUEST_OK as TRACK_STATUS_OK: 1 param LARGEST_OBJECT {0,0}; Track Property
            // delta 0x0e DEFAULT_PUBLISHER_PRIORITY = 128 (8080).
            "REQUEST_OK with Track Properties (TRACK_STATUS_OK)",
            "07 0007 01 090000 0e8080",
            ControlMessage::RequestOk(RequestOk {
                parameters: Parameters(vec![Parameter::LargestObject(Location::new(0, 0))]),
                track_properties: props(&[KeyValue::varint(0x0e, 128)]),
            }),
        ),
        (
            // §10.6 REQUEST_ERROR: code DOES_NOT_EXIST 0x10, retry 0, reason "no".
            "REQUEST_ERROR without redirect",
            "05 0005 10 00 026e6f",
            ControlMessage::RequestError(RequestError {
                code: RequestErrorCode::DOES_NOT_EXIST,
                retry_interval: 0,
                reason: ReasonPhrase::from("no"),
                redirect: None,
            }),
        ),
        (
            // §10.6 REQUEST_ERROR REDIRECT (0x34), retry 1001 (83e9), empty reason, Redirect:
            // URI length 8 "moqt://r", namespace 1 field "ns", name "t". Length 19.
            "REQUEST_ERROR with redirect",
            "05 0013 34 83e9 00 08 6d6f71743a2f2f72 01 026e73 0174",
            ControlMessage::RequestError(RequestError {
                code: RequestErrorCode::REDIRECT,
                retry_interval: 1001,
                reason: ReasonPhrase::empty(),
                redirect: Some(Redirect { connect_uri: b("moqt://r"), track: name(&["ns"], "t") }),
            }),
        ),
        (
            // §10.6.1 a Redirect keeping URI and name: all lengths and counts 0.
            "REQUEST_ERROR with empty redirect",
            "05 0006 34 00 00 00 00 00",
            ControlMessage::RequestError(RequestError {
                code: RequestErrorCode::REDIRECT,
                retry_interval: 0,
                reason: ReasonPhrase::empty(),
                redirect: Some(Redirect::default()),
            }),
        ),
        (
            // §10.7 SUBSCRIBE: 03, length 36. Request ID 0; namespace 2 fields "a", "bc"; name "v";
            // 9 params: 02 81f4 ODT=500 | 01 02 0207 AUTH USE_ALIAS 7 | 01 83e8 RENDEZVOUS=1000 |
            // 02 00 SDT=0 | 0a 01 FORWARD=1 | 10 c8 PRIORITY=200 | 01 04 040a0005 FILTER
            // AbsoluteRange {10,0} +5 | 01 02 GROUP_ORDER descending | 10 00 NEW_GROUP_REQUEST=0.
            "SUBSCRIBE with every allowed parameter",
            "03 0024 00 02 0161 026263 0176 09 0281f4 01020207 0183e8 0200 0a01 10c8 0104040a0005 0102 1000",
            ControlMessage::Subscribe(Subscribe {
                request_id: 0,
                track: name(&["a", "bc"], "v"),
                parameters: Parameters(vec![
                    Parameter::ObjectDeliveryTimeout(500),
                    Parameter::AuthorizationToken(Token::UseAlias { alias: 7 }),
                    Parameter::RendezvousTimeout(1000),
                    Parameter::SubgroupDeliveryTimeout(0),
                    Parameter::Forward(true),
                    Parameter::SubscriberPriority(200),
                    Parameter::SubscriptionFilter(SubscriptionFilter::AbsoluteRange {
                        start: Location::new(10, 0),
                        end_group_delta: 5,
                    }),
                    Parameter::GroupOrder(GroupOrder::Descending),
                    Parameter::NewGroupRequest(0),
                ]),
            }),
        ),
        (
            // §10.8 SUBSCRIBE_OK: alias 1, 1 param EXPIRES=0, Track Property type 0x3f (odd) "hi".
            "SUBSCRIBE_OK",
            "04 0008 01 01 0800 3f026869",
            ControlMessage::SubscribeOk(SubscribeOk {
                track_alias: 1,
                parameters: Parameters(vec![Parameter::Expires(0)]),
                track_properties: props(&[KeyValue::bytes(0x3f, b("hi"))]),
            }),
        ),
        (
            // §10.9 REQUEST_UPDATE for a SUBSCRIBE_NAMESPACE: Request ID 4, 1 param delta 0x34
            // TRACK_NAMESPACE_PREFIX = namespace 1 field "x".
            "REQUEST_UPDATE with TRACK_NAMESPACE_PREFIX",
            "02 0006 04 01 34 010178",
            ControlMessage::RequestUpdate(RequestUpdate {
                request_id: 4,
                parameters: Parameters(vec![Parameter::TrackNamespacePrefix(ns(&["x"]))]),
            }),
        ),
        (
            // §10.9 REQUEST_UPDATE for a subscription: Request ID 2, FORWARD=0, PRIORITY=0.
            "REQUEST_UPDATE for a subscription",
            "02 0006 02 02 1000 1000",
            ControlMessage::RequestUpdate(RequestUpdate {
                request_id: 2,
                parameters: Parameters(vec![Parameter::Forward(false), Parameter::SubscriberPriority(0)]),
            }),
        ),
        (
            // §10.10 PUBLISH: Request ID 1; namespace ["m"]; empty name; alias 9; 4 params:
            // 03 04 03809d6b AUTH USE_VALUE type 0x9D "k" | 05 c07530 EXPIRES=30000 (3-byte) |
            // 01 0102 LARGEST {1,2} | 07 00 FORWARD=0; Track Property DYNAMIC_GROUPS (0x30) = 1.
            "PUBLISH",
            "1d 0018 01 01016d 00 09 04 030403809d6b 05c07530 010102 0700 3001",
            ControlMessage::Publish(Publish {
                request_id: 1,
                track: name(&["m"], ""),
                track_alias: 9,
                parameters: Parameters(vec![
                    Parameter::AuthorizationToken(Token::UseValue { token_type: 0x9D, value: b("k") }),
                    Parameter::Expires(30_000),
                    Parameter::LargestObject(Location::new(1, 2)),
                    Parameter::Forward(false),
                ]),
                track_properties: props(&[KeyValue::varint(0x30, 1)]),
            }),
        ),
        (
            // §10.11 PUBLISH_DONE: TRACK_ENDED (2), Stream Count 2^62-1 (9-byte vi64: ff + 8 bytes),
            // empty reason.
            "PUBLISH_DONE",
            "0b 000b 02 ff3fffffffffffffff 00",
            ControlMessage::PublishDone(PublishDone {
                status: PublishDoneCode::TRACK_ENDED,
                stream_count: PublishDone::UNKNOWN_STREAM_COUNT,
                reason: ReasonPhrase::empty(),
            }),
        ),
        (
            // §10.12 FETCH standalone: Request ID 2, type 1, namespace ["a"], name "b", start {1,0},
            // end {3,0}; 3 params: 0a 00 FILL_TIMEOUT=0 | 16 01 PRIORITY=1 | 02 01 GROUP_ORDER asc.
            "FETCH standalone",
            "16 0012 02 01 010161 0162 0100 0300 03 0a00 1601 0201",
            ControlMessage::Fetch(Fetch {
                request_id: 2,
                kind: FetchKind::Standalone {
                    track: name(&["a"], "b"),
                    start: Location::new(1, 0),
                    end: Location::new(3, 0),
                },
                parameters: Parameters(vec![
                    Parameter::FillTimeout(0),
                    Parameter::SubscriberPriority(1),
                    Parameter::GroupOrder(GroupOrder::Ascending),
                ]),
            }),
        ),
        (
            // §10.12 FETCH relative joining: Request ID 4, type 2, joining 0, start 3, no params.
            "FETCH relative joining",
            "16 0005 04 02 00 03 00",
            ControlMessage::Fetch(Fetch {
                request_id: 4,
                kind: FetchKind::RelativeJoining { joining_request_id: 0, joining_start: 3 },
                parameters: Parameters::new(),
            }),
        ),
        (
            // §10.12 FETCH absolute joining: Request ID 6, type 3, joining 2, start group 100,
            // 1 param AUTH USE_ALIAS 1.
            "FETCH absolute joining",
            "16 0009 06 03 02 64 01 03020201",
            ControlMessage::Fetch(Fetch {
                request_id: 6,
                kind: FetchKind::AbsoluteJoining { joining_request_id: 2, joining_start: 100 },
                parameters: Parameters(vec![Parameter::AuthorizationToken(Token::UseAlias { alias: 1 })]),
            }),
        ),
        (
            // §10.13 FETCH_OK: End Of Track 1, End {7,0}, no params, Track Property
            // MAX_CACHE_DURATION (0x04) = 60000 (3-byte c0ea60).
            "FETCH_OK",
            "18 0008 01 0700 00 04c0ea60",
            ControlMessage::FetchOk(FetchOk {
                end_of_track: true,
                end_location: Location::new(7, 0),
                parameters: Parameters::new(),
                track_properties: props(&[KeyValue::varint(0x04, 60_000)]),
            }),
        ),
        (
            // §10.14 TRACK_STATUS: Request ID 8, namespace ["a"], name "b", no params.
            "TRACK_STATUS",
            "0d 0007 08 010161 0162 00",
            ControlMessage::TrackStatus(TrackStatus {
                request_id: 8,
                track: name(&["a"], "b"),
                parameters: Parameters::new(),
            }),
        ),
        (
            // §10.15 PUBLISH_NAMESPACE: Request ID 10, namespace ["live", "room"], AUTH USE_VALUE
            // type 1 with an empty value (token bytes 03 01).
            "PUBLISH_NAMESPACE",
            "06 0011 0a 02 046c697665 04726f6f6d 01 03020301",
            ControlMessage::PublishNamespace(PublishNamespace {
                request_id: 10,
                namespace: ns(&["live", "room"]),
                parameters: Parameters(vec![Parameter::AuthorizationToken(Token::UseValue {
                    token_type: 1,
                    value: Bytes::new(),
                })]),
            }),
        ),
        (
            // §10.16 NAMESPACE: suffix ["r1"].
            "NAMESPACE",
            "08 0004 01 027231",
            ControlMessage::Namespace(Namespace { suffix: ns(&["r1"]) }),
        ),
        (
            // §10.17 NAMESPACE_DONE: suffix ["r1"].
            "NAMESPACE_DONE",
            "0e 0004 01 027231",
            ControlMessage::NamespaceDone(NamespaceDone { suffix: ns(&["r1"]) }),
        ),
        (
            // §10.18 SUBSCRIBE_NAMESPACE: Request ID 12, empty prefix (0 fields), no params.
            "SUBSCRIBE_NAMESPACE with an empty prefix",
            "50 0003 0c 00 00",
            ControlMessage::SubscribeNamespace(SubscribeNamespace {
                request_id: 12,
                prefix: TrackNamespace::empty(),
                parameters: Parameters::new(),
            }),
        ),
        (
            // §10.19 SUBSCRIBE_TRACKS: Request ID 14, prefix ["live"], FORWARD=0.
            "SUBSCRIBE_TRACKS",
            "51 000a 0e 01046c697665 01 1000",
            ControlMessage::SubscribeTracks(SubscribeTracks {
                request_id: 14,
                prefix: ns(&["live"]),
                parameters: Parameters(vec![Parameter::Forward(false)]),
            }),
        ),
        (
            // §10.20 PUBLISH_BLOCKED: suffix ["r1"], name "cam".
            "PUBLISH_BLOCKED",
            "0f 0008 01027231 0363616d",
            ControlMessage::PublishBlocked(PublishBlocked { track: name(&["r1"], "cam") }),
        ),
    ]
}

#[test]
fn every_vector_decodes_and_encodes_byte_exactly() {
    for (what, h, value) in vectors() {
        let wire = hex(h);
        assert_eq!(decode_all(&wire), Ok(value.clone()), "decode {what}");
        assert_eq!(value.encode_to_vec(V).unwrap(), wire, "encode {what}");
        // The generic path (body encoded aside, then framed) writes the same bytes as the
        // in-place one `encode_to_vec` takes.
        let mut generic = BytesMut::new();
        value.encode(&mut generic, V).unwrap();
        assert_eq!(&generic[..], &wire[..], "generic encode {what}");
    }
}

#[test]
fn vectors_cover_every_message_type() {
    let mut seen: Vec<u64> = vectors().iter().map(|(_, _, m)| m.message_type().0).collect();
    seen.sort();
    seen.dedup();
    let mut known: Vec<u64> = sluice_wire::moqt::codes::MessageType::KNOWN.iter().map(|t| t.0).collect();
    known.sort();
    assert_eq!(seen, known);
}

#[test]
fn message_structs_decode_their_own_frame_and_refuse_others() {
    let wire = Bytes::from(hex("08 0004 01 027231"));
    assert_eq!(Namespace::decode_exact(&wire, V), Ok(Namespace { suffix: ns(&["r1"]) }));
    assert_eq!(
        Subscribe::decode_exact(&wire, V),
        Err(Violation::UnexpectedMessageType { expected: 0x03, found: 0x08 }.into())
    );
    let setup = Setup { options: vec![SetupOption::Path(b("/"))] };
    assert_eq!(setup.encode_to_vec(V).unwrap(), hex("af00 0003 01 01 2f"));
}

#[test]
fn every_prefix_of_every_vector_is_incomplete() {
    for (what, h, _) in vectors() {
        let wire = hex(h);
        for cut in 0..wire.len() {
            let buf = Bytes::copy_from_slice(&wire[..cut]);
            let mut r = Reader::new(&buf);
            assert_eq!(
                ControlMessage::decode(&mut r, V),
                Err(DecodeError::Incomplete),
                "{what} cut at {cut}"
            );
        }
    }
}

fn invalid(v: Violation) -> DecodeError {
    DecodeError::Invalid(v)
}

/// Frames `body` as a control message of `kind`.
fn frame(kind: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    put_vi64(&mut out, kind);
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

#[test]
fn malformed_inputs_fail_with_the_exact_violation() {
    // A SUBSCRIBE whose namespace has one field of 4000 bytes and whose name claims 97 bytes:
    // 4097 > 4096 is refused from the length alone.
    let mut long_name = vec![0x00, 0x01];
    put_vi64(&mut long_name, 4000);
    long_name.extend(std::iter::repeat_n(b'a', 4000));
    put_vi64(&mut long_name, 97);
    // Two namespace fields of 4000 + 97 bytes: the namespace alone is over 4096.
    let mut long_ns = vec![0x00, 0x02];
    put_vi64(&mut long_ns, 4000);
    long_ns.extend(std::iter::repeat_n(b'a', 4000));
    put_vi64(&mut long_ns, 97);

    let table: Vec<(&str, Vec<u8>, DecodeError)> = vec![
        (
            "namespace of 33 fields (§2.4.1)",
            hex("03 0002 00 21"),
            invalid(Violation::TooManyNamespaceFields { count: 33 }),
        ),
        (
            "zero-length namespace field (§2.4.1)",
            hex("03 0003 00 01 00"),
            invalid(Violation::EmptyNamespaceField),
        ),
        (
            "full track name over 4096 (§2.4.1)",
            frame(0x03, &long_name),
            invalid(Violation::FullTrackNameTooLong { len: 4097 }),
        ),
        (
            "namespace over 4096 (§2.4.1)",
            frame(0x03, &long_ns),
            invalid(Violation::TrackNamespaceTooLong { len: 4097 }),
        ),
        (
            "reason phrase of 1025 bytes (§1.4.4)",
            hex("05 0004 10 00 8401"),
            invalid(Violation::LengthTooLarge { field: "reason phrase", claimed: 1025, max: 1024 }),
        ),
        (
            "GOAWAY URI of 8193 bytes (§10.4)",
            hex("10 0002 a001"),
            invalid(Violation::LengthTooLarge { field: "new session uri", claimed: 8193, max: 8192 }),
        ),
        (
            "parameter type delta past 2^64-1 (§10.2)",
            hex("02 000f 00 02 03 02 0207 ffffffffffffffffff"),
            invalid(Violation::TypeDeltaOverflow),
        ),
        (
            "unknown message parameter 0x05 (§10.2)",
            hex("02 0003 00 01 05"),
            invalid(Violation::UnknownParameter(5)),
        ),
        (
            "first parameter of type 0 (§10.2)",
            hex("02 0004 00 01 00 00"),
            invalid(Violation::UnknownParameter(0)),
        ),
        (
            "FILL_TIMEOUT in SUBSCRIBE_NAMESPACE (§10.2.1)",
            hex("50 0005 00 00 01 0a 00"),
            invalid(Violation::ParameterNotAllowed { kind: 0x0a, message: 0x50 }),
        ),
        (
            "RENDEZVOUS_TIMEOUT in TRACK_STATUS (§10.14)",
            hex("0d 0005 00 00 00 01 04"),
            invalid(Violation::ParameterNotAllowed { kind: 0x04, message: 0x0d }),
        ),
        (
            "any parameter in FETCH_OK (§10.13)",
            hex("18 0006 00 0000 01 08 00"),
            invalid(Violation::ParameterNotAllowed { kind: 0x08, message: 0x18 }),
        ),
        (
            "FORWARD repeated (§10.2)",
            hex("02 0006 00 02 1001 0001"),
            invalid(Violation::DuplicateParameter(0x10)),
        ),
        (
            "FORWARD = 2 (§10.2.11)",
            hex("02 0004 00 01 10 02"),
            invalid(Violation::InvalidValue { field: "FORWARD", value: 2 }),
        ),
        (
            "GROUP_ORDER = 3 (§10.2.8)",
            hex("16 0007 00 02 00 00 01 22 03"),
            invalid(Violation::InvalidValue { field: "GROUP_ORDER", value: 3 }),
        ),
        (
            "subscription filter type 5 (§5.1.2)",
            hex("02 0005 00 01 21 01 05"),
            invalid(Violation::InvalidValue { field: "filter type", value: 5 }),
        ),
        (
            "subscription filter end group past 2^64-1 (§5.1.2)",
            hex("02 0010 00 01 21 0c 04 ffffffffffffffffff 00 01"),
            invalid(Violation::Overflow { field: "subscription filter end group" }),
        ),
        (
            "subscription filter with a trailing byte inside its length",
            hex("02 0006 00 01 21 02 01 00"),
            invalid(Violation::TrailingBytes { extra: 1 }),
        ),
        (
            "token alias type 4 (§10.2.2)",
            hex("02 0005 00 01 03 01 04"),
            invalid(Violation::UnknownTokenAliasType(4)),
        ),
        (
            "DELETE token with extra bytes (§10.2.2)",
            hex("02 0007 00 01 03 03 00 01 ff"),
            invalid(Violation::MalformedAuthToken),
        ),
        (
            "REGISTER token without a type (§10.2.2)",
            hex("02 0006 00 01 03 02 01 01"),
            invalid(Violation::MalformedAuthToken),
        ),
        (
            "SETUP token alias type 9 (§10.3.1.4)",
            hex("af00 0003 03 01 09"),
            invalid(Violation::UnknownTokenAliasType(9)),
        ),
        (
            "SETUP with PATH twice (§10.3)",
            hex("af00 0006 01 01 61 00 01 62"),
            invalid(Violation::DuplicateSetupOption(1)),
        ),
        (
            "SETUP option value past the body (§1.4.3)",
            hex("af00 0003 01 05 61"),
            invalid(Violation::LengthExceedsBody { claimed: 5, available: 1 }),
        ),
        (
            "Track Property value past the message end (§2.5)",
            hex("04 0004 01 00 01 05"),
            invalid(Violation::LengthExceedsBody { claimed: 5, available: 0 }),
        ),
        ("message length shorter than its fields (§10)", hex("03 0001 00"), invalid(Violation::BodyTooShort)),
        ("SUBSCRIBE_OK with an empty body (§10)", hex("04 0000"), invalid(Violation::BodyTooShort)),
        (
            "trailing byte after a NAMESPACE body (§10)",
            hex("08 0005 01 027231 ff"),
            invalid(Violation::TrailingBytes { extra: 1 }),
        ),
        (
            "trailing bytes after a GOAWAY request id (§10.4)",
            hex("10 0005 00 00 01 02 03"),
            invalid(Violation::TrailingBytes { extra: 2 }),
        ),
        (
            "fetch type 4 (§10.12)",
            hex("16 0002 00 04"),
            invalid(Violation::InvalidValue { field: "fetch type", value: 4 }),
        ),
        (
            "fetch type 0 (§10.12)",
            hex("16 0002 00 00"),
            invalid(Violation::InvalidValue { field: "fetch type", value: 0 }),
        ),
        (
            "End Of Track = 2 (§10.13)",
            hex("18 0004 02 00 00 00"),
            invalid(Violation::InvalidValue { field: "end of track", value: 2 }),
        ),
        (
            "type 0x1E, PUBLISH_OK before draft-18 (§10)",
            hex("1e 0000"),
            invalid(Violation::UnknownMessageType(0x1e)),
        ),
        (
            "type 0x20, CLIENT_SETUP before draft-17 (§10)",
            hex("20 0000"),
            invalid(Violation::UnknownMessageType(0x20)),
        ),
        (
            "unknown type fails before its body arrives (§10)",
            hex("7e"),
            invalid(Violation::UnknownMessageType(0x7e)),
        ),
    ];
    for (what, wire, expected) in table {
        let buf = Bytes::from(wire);
        let mut r = Reader::new(&buf);
        assert_eq!(ControlMessage::decode(&mut r, V), Err(expected), "{what}");
    }
}

#[test]
fn token_errors_close_with_key_value_formatting_error() {
    use sluice_wire::moqt::codes::{SessionErrorCode, session_code};
    let buf = Bytes::from(hex("02 0005 00 01 03 01 04"));
    let Err(DecodeError::Invalid(v)) = ControlMessage::decode(&mut Reader::new(&buf), V) else { panic!() };
    assert_eq!(session_code(&v), SessionErrorCode::KEY_VALUE_FORMATTING_ERROR);
    let buf = Bytes::from(hex("03 0002 00 21"));
    let Err(DecodeError::Invalid(v)) = ControlMessage::decode(&mut Reader::new(&buf), V) else { panic!() };
    assert_eq!(session_code(&v), SessionErrorCode::PROTOCOL_VIOLATION);
}

#[test]
fn encoders_refuse_what_decoders_reject() {
    // Both encode paths refuse with the same error, and the in-place one leaves what the
    // buffer held before untouched.
    let encode = |m: ControlMessage| {
        let mut out = b"before".to_vec();
        let err = m.encode_into_vec(&mut out, V).unwrap_err();
        assert_eq!(out, b"before", "in-place encode left bytes behind for {m:?}");
        assert_eq!(m.encode(&mut BytesMut::new(), V), Err(err.clone()), "generic encode of {m:?}");
        err
    };
    let too_many = TrackNamespace((0..33).map(|_| b("x")).collect());
    assert_eq!(
        encode(Namespace { suffix: too_many }.into()),
        EncodeError::Invalid(Violation::TooManyNamespaceFields { count: 33 })
    );
    assert_eq!(
        encode(Namespace { suffix: TrackNamespace(vec![Bytes::new()]) }.into()),
        EncodeError::Invalid(Violation::EmptyNamespaceField)
    );
    let long = FullTrackName::new(ns(&["a"]), Bytes::from(vec![b'n'; 4096]));
    assert_eq!(
        encode(PublishBlocked { track: long }.into()),
        EncodeError::Invalid(Violation::FullTrackNameTooLong { len: 4097 })
    );
    assert_eq!(
        encode(
            PublishDone {
                status: PublishDoneCode::INTERNAL_ERROR,
                stream_count: 0,
                reason: ReasonPhrase(Bytes::from(vec![b'r'; 1025])),
            }
            .into()
        ),
        EncodeError::Invalid(Violation::LengthTooLarge { field: "reason phrase", claimed: 1025, max: 1024 })
    );
    assert_eq!(
        encode(
            GoAway { new_session_uri: Bytes::from(vec![b'u'; 8193]), timeout: 0, request_id: None }.into()
        ),
        EncodeError::Invalid(Violation::LengthTooLarge {
            field: "new session uri",
            claimed: 8193,
            max: 8192
        })
    );
    assert_eq!(
        encode(
            RequestError {
                code: RequestErrorCode::REDIRECT,
                retry_interval: 0,
                reason: ReasonPhrase::empty(),
                redirect: None
            }
            .into()
        ),
        EncodeError::Invalid(Violation::RedirectMismatch)
    );
    let update = |p: Vec<Parameter>| RequestUpdate { request_id: 0, parameters: Parameters(p) }.into();
    assert_eq!(
        encode(update(vec![Parameter::Forward(true), Parameter::Expires(1)])),
        EncodeError::Invalid(Violation::ParameterNotAllowed { kind: 0x08, message: 0x02 })
    );
    assert_eq!(
        encode(update(vec![Parameter::SubscriberPriority(1), Parameter::Forward(true)])),
        EncodeError::Invalid(Violation::ParametersOutOfOrder)
    );
    assert_eq!(
        encode(update(vec![Parameter::Forward(true), Parameter::Forward(false)])),
        EncodeError::Invalid(Violation::DuplicateParameter(0x10))
    );
    assert_eq!(
        encode(Setup { options: vec![SetupOption::Unknown(KeyValue::bytes(0x01, b("/")))] }.into()),
        EncodeError::Invalid(Violation::InvalidValue { field: "unknown setup option type", value: 1 })
    );
    // A body of 65536 bytes cannot be framed: SETUP with one unknown option of 65531 bytes
    // (delta 0x9D = 2 bytes, length 65531 = 3 bytes).
    let big = Setup { options: vec![SetupOption::Unknown(KeyValue::bytes(0x9D, vec![0u8; 65_531]))] };
    assert_eq!(encode(big.into()), EncodeError::Invalid(Violation::MessageTooLong { len: 65_536 }));
    let fits = Setup { options: vec![SetupOption::Unknown(KeyValue::bytes(0x9D, vec![0u8; 65_530]))] };
    assert_eq!(fits.encode_to_vec(V).unwrap().len(), 2 + 2 + 65_535);
}

#[test]
fn request_ok_parameters_can_be_narrowed_to_the_request_answered() {
    let expires = Parameters(vec![Parameter::Expires(5)]);
    assert!(expires.check(ParamScope::RequestOk(None)).is_ok());
    assert!(expires.check(ParamScope::RequestOk(Some(RequestKind::Publish))).is_ok());
    assert_eq!(
        expires.check(ParamScope::RequestOk(Some(RequestKind::TrackStatus))),
        Err(Violation::ParameterNotAllowed { kind: 0x08, message: 0x07 })
    );
    let prefix = Parameters(vec![Parameter::TrackNamespacePrefix(ns(&["a"]))]);
    assert!(prefix.check(ParamScope::RequestUpdate(Some(RequestKind::SubscribeTracks))).is_ok());
    assert!(prefix.check(ParamScope::RequestUpdate(Some(RequestKind::Subscribe))).is_err());
}

// ------------------------------------------------------------------------ strategies

fn edge_u64() -> BoxedStrategy<u64> {
    prop_oneof![
        Just(0u64),
        Just(63),
        Just(64),
        Just(127),
        Just(128),
        Just(16_383),
        Just(16_384),
        Just((1 << 62) - 1),
        Just(u64::MAX),
        any::<u64>(),
    ]
    .boxed()
}

fn bytes_up_to(max: usize) -> BoxedStrategy<Bytes> {
    proptest::collection::vec(any::<u8>(), 0..=max).prop_map(Bytes::from).boxed()
}

fn arb_namespace() -> BoxedStrategy<TrackNamespace> {
    proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..8).prop_map(Bytes::from), 0..5)
        .prop_map(TrackNamespace)
        .boxed()
}

fn arb_full_name() -> BoxedStrategy<FullTrackName> {
    (arb_namespace(), bytes_up_to(8)).prop_map(|(namespace, name)| FullTrackName { namespace, name }).boxed()
}

fn arb_location() -> BoxedStrategy<Location> {
    (edge_u64(), edge_u64()).prop_map(|(group, object)| Location { group, object }).boxed()
}

fn arb_token() -> BoxedStrategy<Token> {
    prop_oneof![
        edge_u64().prop_map(|alias| Token::Delete { alias }),
        (edge_u64(), edge_u64(), bytes_up_to(16)).prop_map(|(alias, token_type, value)| Token::Register {
            alias,
            token_type,
            value
        }),
        edge_u64().prop_map(|alias| Token::UseAlias { alias }),
        (edge_u64(), bytes_up_to(16)).prop_map(|(token_type, value)| Token::UseValue { token_type, value }),
    ]
    .boxed()
}

fn arb_filter() -> BoxedStrategy<SubscriptionFilter> {
    prop_oneof![
        Just(SubscriptionFilter::NextGroupStart),
        Just(SubscriptionFilter::LargestObject),
        arb_location().prop_map(|start| SubscriptionFilter::AbsoluteStart { start }),
        (arb_location(), edge_u64()).prop_map(|(start, d)| SubscriptionFilter::AbsoluteRange {
            start,
            end_group_delta: d.min(u64::MAX - start.group),
        }),
    ]
    .boxed()
}

/// One optional instance of every parameter type (two token slots), in type order, kept
/// where `scope` allows them.
fn arb_params(scope: ParamScope) -> BoxedStrategy<Parameters> {
    let a = (
        proptest::option::of(edge_u64().prop_map(Parameter::ObjectDeliveryTimeout)),
        proptest::collection::vec(arb_token().prop_map(Parameter::AuthorizationToken), 0..3),
        proptest::option::of(edge_u64().prop_map(Parameter::RendezvousTimeout)),
        proptest::option::of(edge_u64().prop_map(Parameter::SubgroupDeliveryTimeout)),
        proptest::option::of(edge_u64().prop_map(Parameter::Expires)),
        proptest::option::of(arb_location().prop_map(Parameter::LargestObject)),
        proptest::option::of(edge_u64().prop_map(Parameter::FillTimeout)),
    );
    let b = (
        proptest::option::of(any::<bool>().prop_map(Parameter::Forward)),
        proptest::option::of(any::<u8>().prop_map(Parameter::SubscriberPriority)),
        proptest::option::of(arb_filter().prop_map(Parameter::SubscriptionFilter)),
        proptest::option::of(
            prop_oneof![Just(GroupOrder::Ascending), Just(GroupOrder::Descending)]
                .prop_map(Parameter::GroupOrder),
        ),
        proptest::option::of(edge_u64().prop_map(Parameter::NewGroupRequest)),
        proptest::option::of(arb_namespace().prop_map(Parameter::TrackNamespacePrefix)),
    );
    (a, b)
        .prop_map(move |((o1, tokens, o3, o4, o5, o6, o7), (p1, p2, p3, p4, p5, p6))| {
            let mut all = Vec::new();
            all.extend(o1);
            all.extend(tokens);
            all.extend([o3, o4, o5, o6, o7].into_iter().flatten());
            all.extend([p1, p2, p3, p4, p5, p6].into_iter().flatten());
            Parameters(all.into_iter().filter(|p| scope.allows(p.kind())).collect())
        })
        .boxed()
}

fn arb_properties() -> BoxedStrategy<Properties> {
    proptest::collection::vec((0u64..0x200, edge_u64(), bytes_up_to(8)), 0..5)
        .prop_map(|mut raw| {
            raw.sort_by_key(|(k, _, _)| *k);
            let pairs: Vec<KeyValue> = raw
                .into_iter()
                .map(
                    |(k, v, bytes)| {
                        if k % 2 == 0 { KeyValue::varint(k, v) } else { KeyValue::bytes(k, bytes) }
                    },
                )
                .collect();
            Properties::from_pairs(&pairs).unwrap()
        })
        .boxed()
}

fn arb_reason() -> BoxedStrategy<ReasonPhrase> {
    prop_oneof![bytes_up_to(12), Just(Bytes::from(vec![b'r'; 1024]))].prop_map(ReasonPhrase).boxed()
}

fn arb_setup() -> BoxedStrategy<Setup> {
    let option = prop_oneof![
        bytes_up_to(12).prop_map(SetupOption::Path),
        arb_token().prop_map(SetupOption::AuthorizationToken),
        edge_u64().prop_map(SetupOption::MaxAuthTokenCacheSize),
        bytes_up_to(12).prop_map(SetupOption::Authority),
        bytes_up_to(12).prop_map(SetupOption::MoqtImplementation),
        (0u64..4, edge_u64(), bytes_up_to(8)).prop_map(|(n, v, bytes)| {
            let k = sluice_wire::moqt::codes::grease::value(n).unwrap();
            SetupOption::Unknown(if k % 2 == 0 { KeyValue::varint(k, v) } else { KeyValue::bytes(k, bytes) })
        }),
        (8u64..0x40, edge_u64(), bytes_up_to(8)).prop_map(|(k, v, bytes)| {
            SetupOption::Unknown(if k % 2 == 0 { KeyValue::varint(k, v) } else { KeyValue::bytes(k, bytes) })
        }),
    ];
    proptest::collection::vec(option, 0..8)
        .prop_map(|mut options| {
            // Types must be non-decreasing and known non-repeatable options single.
            options.sort_by_key(|o| o.kind());
            options.dedup_by(|a, b| a.kind() == b.kind() && !SetupOption::repeatable(a.kind()));
            Setup { options }
        })
        .boxed()
}

fn arb_fetch_kind() -> BoxedStrategy<FetchKind> {
    prop_oneof![
        (arb_full_name(), arb_location(), arb_location())
            .prop_map(|(track, start, end)| FetchKind::Standalone { track, start, end }),
        (edge_u64(), edge_u64()).prop_map(|(joining_request_id, joining_start)| FetchKind::RelativeJoining {
            joining_request_id,
            joining_start
        }),
        (edge_u64(), edge_u64()).prop_map(|(joining_request_id, joining_start)| FetchKind::AbsoluteJoining {
            joining_request_id,
            joining_start
        }),
    ]
    .boxed()
}

fn arb_message() -> BoxedStrategy<ControlMessage> {
    let redirect =
        (bytes_up_to(12), arb_full_name()).prop_map(|(connect_uri, track)| Redirect { connect_uri, track });
    let request_error =
        (edge_u64(), edge_u64(), arb_reason(), redirect).prop_map(|(code, retry, reason, r)| {
            let code = RequestErrorCode(code);
            RequestError {
                code,
                retry_interval: retry,
                reason,
                redirect: (code == RequestErrorCode::REDIRECT).then_some(r),
            }
        });
    let redirect_error = (edge_u64(), arb_reason(), bytes_up_to(12), arb_full_name()).prop_map(
        |(retry, reason, connect_uri, track)| RequestError {
            code: RequestErrorCode::REDIRECT,
            retry_interval: retry,
            reason,
            redirect: Some(Redirect { connect_uri, track }),
        },
    );
    proptest::strategy::Union::new(vec![
        arb_setup().prop_map(ControlMessage::Setup).boxed(),
        (bytes_up_to(16), edge_u64(), proptest::option::of(edge_u64()))
            .prop_map(|(new_session_uri, timeout, request_id)| {
                GoAway { new_session_uri, timeout, request_id }.into()
            })
            .boxed(),
        (arb_params(ParamScope::RequestOk(None)), arb_properties())
            .prop_map(|(parameters, track_properties)| RequestOk { parameters, track_properties }.into())
            .boxed(),
        request_error.prop_map(ControlMessage::RequestError).boxed(),
        redirect_error.prop_map(ControlMessage::RequestError).boxed(),
        (edge_u64(), arb_full_name(), arb_params(ParamScope::Subscribe))
            .prop_map(|(request_id, track, parameters)| Subscribe { request_id, track, parameters }.into())
            .boxed(),
        (edge_u64(), arb_params(ParamScope::SubscribeOk), arb_properties())
            .prop_map(|(track_alias, parameters, track_properties)| {
                SubscribeOk { track_alias, parameters, track_properties }.into()
            })
            .boxed(),
        (edge_u64(), arb_params(ParamScope::RequestUpdate(None)))
            .prop_map(|(request_id, parameters)| RequestUpdate { request_id, parameters }.into())
            .boxed(),
        (edge_u64(), arb_full_name(), edge_u64(), arb_params(ParamScope::Publish), arb_properties())
            .prop_map(|(request_id, track, track_alias, parameters, track_properties)| {
                Publish { request_id, track, track_alias, parameters, track_properties }.into()
            })
            .boxed(),
        (edge_u64(), edge_u64(), arb_reason())
            .prop_map(|(status, stream_count, reason)| {
                PublishDone { status: PublishDoneCode(status), stream_count, reason }.into()
            })
            .boxed(),
        (edge_u64(), arb_fetch_kind(), arb_params(ParamScope::Fetch))
            .prop_map(|(request_id, kind, parameters)| Fetch { request_id, kind, parameters }.into())
            .boxed(),
        (any::<bool>(), arb_location(), arb_properties())
            .prop_map(|(end_of_track, end_location, track_properties)| {
                FetchOk { end_of_track, end_location, parameters: Parameters::new(), track_properties }.into()
            })
            .boxed(),
        (edge_u64(), arb_full_name(), arb_params(ParamScope::TrackStatus))
            .prop_map(|(request_id, track, parameters)| TrackStatus { request_id, track, parameters }.into())
            .boxed(),
        (edge_u64(), arb_namespace(), arb_params(ParamScope::PublishNamespace))
            .prop_map(|(request_id, namespace, parameters)| {
                PublishNamespace { request_id, namespace, parameters }.into()
            })
            .boxed(),
        arb_namespace().prop_map(|suffix| Namespace { suffix }.into()).boxed(),
        arb_namespace().prop_map(|suffix| NamespaceDone { suffix }.into()).boxed(),
        (edge_u64(), arb_namespace(), arb_params(ParamScope::SubscribeNamespace))
            .prop_map(|(request_id, prefix, parameters)| {
                SubscribeNamespace { request_id, prefix, parameters }.into()
            })
            .boxed(),
        (edge_u64(), arb_namespace(), arb_params(ParamScope::SubscribeTracks))
            .prop_map(|(request_id, prefix, parameters)| {
                SubscribeTracks { request_id, prefix, parameters }.into()
            })
            .boxed(),
        arb_full_name().prop_map(|track| PublishBlocked { track }.into()).boxed(),
    ])
    .boxed()
}

/// Decodes messages from a stream fed in `chunks`, as a session would.
fn decode_stream(chunks: &[&[u8]]) -> Vec<ControlMessage> {
    let mut pending: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    for chunk in chunks {
        pending.extend_from_slice(chunk);
        loop {
            let buf = Bytes::copy_from_slice(&pending);
            let mut r = Reader::new(&buf);
            match ControlMessage::decode(&mut r, V) {
                Ok(m) => {
                    out.push(m);
                    pending.drain(..r.position());
                }
                Err(DecodeError::Incomplete) => break,
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
    }
    assert!(pending.is_empty(), "{} bytes left over", pending.len());
    out
}

proptest! {
    #[test]
    fn every_message_roundtrips(m in arb_message()) {
        let wire = Bytes::from(m.encode_to_vec(V).unwrap());
        let mut generic = BytesMut::new();
        m.encode(&mut generic, V).unwrap();
        prop_assert_eq!(&generic[..], &wire[..]);
        prop_assert_eq!(ControlMessage::decode_exact(&wire, V), Ok(m));
    }

    #[test]
    fn every_prefix_of_a_message_is_incomplete(m in arb_message()) {
        let wire = m.encode_to_vec(V).unwrap();
        for cut in 0..wire.len() {
            let buf = Bytes::copy_from_slice(&wire[..cut]);
            let mut r = Reader::new(&buf);
            prop_assert_eq!(ControlMessage::decode(&mut r, V), Err(DecodeError::Incomplete), "cut at {}", cut);
        }
    }

    #[test]
    fn a_sequence_decodes_the_same_in_any_chunking(
        msgs in proptest::collection::vec(arb_message(), 1..6),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut wire = Vec::new();
        for m in &msgs {
            m.encode(&mut wire, V).unwrap();
        }
        let whole = decode_stream(&[&wire]);
        prop_assert_eq!(&whole, &msgs);
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        points.sort();
        let mut chunks = Vec::new();
        let mut start = 0;
        for p in points {
            chunks.push(&wire[start..p]);
            start = p;
        }
        chunks.push(&wire[start..]);
        prop_assert_eq!(decode_stream(&chunks), msgs);
    }

    #[test]
    fn location_order_is_lexicographic(a in arb_location(), c in arb_location()) {
        let expected = (a.group, a.object).cmp(&(c.group, c.object));
        prop_assert_eq!(a.cmp(&c), expected);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics_or_overreads(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let buf = Bytes::from(bytes);
        let mut r = Reader::new(&buf);
        if ControlMessage::decode(&mut r, V).is_ok() {
            prop_assert!(r.position() <= buf.len());
        }
    }
}
