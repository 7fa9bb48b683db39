//! Malformed moq-lite input, and values the encoders must refuse: each row names the input
//! and the exact error.

use std::num::NonZeroU64;

use bytes::Bytes;
use sluice_wire::lite::announce::{AnnounceBroadcast, AnnounceOk, AnnounceRequest, AnnounceStatus};
use sluice_wire::lite::datagram::{Datagram, MAX_DATAGRAM_LEN};
use sluice_wire::lite::framing::{MAX_MESSAGE_LEN, MAX_NAME_LEN};
use sluice_wire::lite::goaway::Goaway;
use sluice_wire::lite::group::{Frame, FrameHeader, Group, MAX_FRAME_LEN};
use sluice_wire::lite::probe::Probe;
use sluice_wire::lite::setup::{ProbeLevel, Setup, SetupParameter};
use sluice_wire::lite::stream::{BidiStreamType, UniStreamType};
use sluice_wire::lite::subscribe::{
    Subscribe, SubscribeDrop, SubscribeEnd, SubscribeOk, SubscribeOkLite04, SubscribeResponse,
    SubscribeUpdate,
};
use sluice_wire::lite::track::{Track, TrackInfo};
use sluice_wire::varint::QUIC_MAX;
use sluice_wire::{Decode, DecodeError, Encode, EncodeError, LiteVersion, Reader, Violation};

use LiteVersion::{Lite04, Lite05};

fn hex(s: &str) -> Bytes {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect::<Vec<u8>>().into()
}

type Decoder = fn(&Bytes, LiteVersion) -> Result<(), DecodeError>;

/// Decodes a `T` from an open reader (a stream buffer).
fn open<T: Decode<Version = LiteVersion>>(b: &Bytes, v: LiteVersion) -> Result<(), DecodeError> {
    T::decode(&mut Reader::new(b), v).map(|_| ())
}

/// Decodes a `T` from a bounded reader (a datagram).
fn bounded<T: Decode<Version = LiteVersion>>(b: &Bytes, v: LiteVersion) -> Result<(), DecodeError> {
    T::decode(&mut Reader::bounded(b), v).map(|_| ())
}

fn invalid(v: Violation) -> DecodeError {
    DecodeError::Invalid(v)
}

fn not_in(message: &'static str) -> DecodeError {
    invalid(Violation::NotInVersion { message })
}

#[rustfmt::skip]
fn table() -> Vec<(&'static str, Decoder, LiteVersion, &'static str, DecodeError)> {
    vec![
        // ---- framing: lengths
        ("PROBE body with a trailing byte", open::<Probe>, Lite04, "03 00 00 00",
            invalid(Violation::TrailingBytes { extra: 1 })),
        ("PROBE body without its RTT", open::<Probe>, Lite05, "01 00",
            invalid(Violation::BodyTooShort)),
        ("GROUP length 2^62-1, refused before the body arrives", open::<Group>, Lite04, "ffffffffffffffff",
            invalid(Violation::LengthTooLarge { field: "message", claimed: QUIC_MAX, max: MAX_MESSAGE_LEN })),
        ("SUBSCRIBE length 65536", open::<Subscribe>, Lite05, "80010000",
            invalid(Violation::LengthTooLarge { field: "message", claimed: 65_536, max: MAX_MESSAGE_LEN })),
        ("typed response length 2^62-1", open::<SubscribeResponse>, Lite05, "00 ffffffffffffffff",
            invalid(Violation::LengthTooLarge { field: "message", claimed: QUIC_MAX, max: MAX_MESSAGE_LEN })),
        ("FRAME payload length 2^62-1", open::<Frame>, Lite04, "ffffffffffffffff",
            invalid(Violation::LengthTooLarge { field: "frame payload", claimed: QUIC_MAX, max: MAX_FRAME_LEN })),
        ("FRAME header payload length 2^32", open::<FrameHeader>, Lite05, "00 c000000100000000",
            invalid(Violation::LengthTooLarge { field: "frame payload", claimed: 1 << 32, max: MAX_FRAME_LEN })),
        ("path longer than 4096 (0x1001), refused before its bytes", open::<AnnounceRequest>, Lite04, "02 5001",
            invalid(Violation::LengthTooLarge { field: "broadcast path prefix", claimed: 4097, max: MAX_NAME_LEN })),
        ("string length past the body end", open::<Goaway>, Lite04, "02 05 61",
            invalid(Violation::LengthExceedsBody { claimed: 5, available: 1 })),
        ("varint cut by the body end", open::<Group>, Lite05, "02 01 40",
            invalid(Violation::BodyTooShort)),
        // ---- stream types
        ("unknown bidi stream type 0x7", open::<BidiStreamType>, Lite05, "07",
            invalid(Violation::UnknownStreamType(7))),
        ("Track stream (0x6) in lite-04", open::<BidiStreamType>, Lite04, "06",
            invalid(Violation::UnknownStreamType(6))),
        ("Setup stream (uni 0x1) in lite-04", open::<UniStreamType>, Lite04, "01",
            invalid(Violation::UnknownStreamType(1))),
        ("unknown uni stream type 0x2", open::<UniStreamType>, Lite05, "02",
            invalid(Violation::UnknownStreamType(2))),
        ("unknown uni stream type 0x3fff (2-byte varint)", open::<UniStreamType>, Lite05, "7fff",
            invalid(Violation::UnknownStreamType(0x3fff))),
        // ---- subscribe responses
        ("response type 0x3 in lite-05", open::<SubscribeResponse>, Lite05, "03 01 00",
            invalid(Violation::UnknownMessageType(3))),
        ("response type 0x2 (lite-05 DROP) in lite-04", open::<SubscribeResponse>, Lite04, "02 03 05 07 00",
            invalid(Violation::UnknownMessageType(2))),
        ("SUBSCRIBE_END expected, DROP found", open::<SubscribeEnd>, Lite05, "02 03 05 07 00",
            invalid(Violation::UnknownMessageType(2))),
        ("lite-05 SUBSCRIBE_OK body (1 field) read as lite-04", open::<SubscribeResponse>, Lite04, "00 01 05",
            invalid(Violation::BodyTooShort)),
        ("lite-04 SUBSCRIBE_OK body read as lite-05", open::<SubscribeResponse>, Lite05, "00 05 00 00 00 00 00",
            invalid(Violation::TrailingBytes { extra: 4 })),
        ("subscriber ordered = 2", open::<SubscribeUpdate>, Lite04, "05 00 02 00 00 00",
            invalid(Violation::InvalidValue { field: "subscriber ordered", value: 2 })),
        ("publisher ordered = 0xff", open::<SubscribeOkLite04>, Lite04, "00 05 00 ff 00 00 00",
            invalid(Violation::InvalidValue { field: "publisher ordered", value: 0xff })),
        // ---- announce
        ("announce status 2", open::<AnnounceBroadcast>, Lite05, "04 02 0178 00",
            invalid(Violation::InvalidValue { field: "announce status", value: 2 })),
        ("hop count 2, one hop id in the body", open::<AnnounceBroadcast>, Lite04, "04 01 00 02 05",
            invalid(Violation::LengthExceedsBody { claimed: 2, available: 1 })),
        ("hop count 1, two hop ids in the body", open::<AnnounceBroadcast>, Lite04, "05 01 00 01 05 06",
            invalid(Violation::TrailingBytes { extra: 1 })),
        ("hop count 2, second hop id cut", open::<AnnounceBroadcast>, Lite05, "05 01 00 02 05 40",
            invalid(Violation::BodyTooShort)),
        // ---- track info
        ("TRACK_INFO timescale 0", open::<TrackInfo>, Lite05, "04 01 00 00 00",
            invalid(Violation::InvalidValue { field: "timescale", value: 0 })),
        // ---- invalid UTF-8
        ("SUBSCRIBE broadcast path 0xff", open::<Subscribe>, Lite04, "09 01 01ff 00 80 00 00 00 00",
            invalid(Violation::InvalidUtf8 { field: "broadcast path" })),
        ("TRACK track name 0xc3 (cut UTF-8 sequence)", open::<Track>, Lite05, "04 01 61 01 c3",
            invalid(Violation::InvalidUtf8 { field: "track name" })),
        ("SETUP path 0xff", open::<Setup>, Lite05, "04 01 02 01 ff",
            invalid(Violation::InvalidUtf8 { field: "setup path" })),
        // ---- setup
        ("duplicate Probe parameter", open::<Setup>, Lite05, "07 02 010101 010102",
            invalid(Violation::DuplicateSetupParameter { id: 1 })),
        ("duplicate unknown parameter 0x21", open::<Setup>, Lite05, "05 02 2100 2100",
            invalid(Violation::DuplicateSetupParameter { id: 0x21 })),
        ("probe level 3", open::<Setup>, Lite05, "04 01 01 01 03",
            invalid(Violation::InvalidValue { field: "probe level", value: 3 })),
        ("probe value with a trailing byte", open::<Setup>, Lite05, "05 01 01 02 0100",
            invalid(Violation::TrailingBytes { extra: 1 })),
        ("empty path", open::<Setup>, Lite05, "03 01 02 00",
            invalid(Violation::InvalidSetupPath)),
        ("path without a leading '/'", open::<Setup>, Lite05, "04 01 02 01 78",
            invalid(Violation::InvalidSetupPath)),
        ("parameter count 5 in a 1-byte remainder", open::<Setup>, Lite05, "02 05 00",
            invalid(Violation::LengthExceedsBody { claimed: 5, available: 1 })),
        ("parameter value past the body end", open::<Setup>, Lite05, "04 01 21 05 00",
            invalid(Violation::LengthExceedsBody { claimed: 5, available: 1 })),
        // ---- datagram
        ("datagram header cut", bounded::<Datagram>, Lite05, "03 40",
            invalid(Violation::BodyTooShort)),
        // ---- messages that do not exist in the version
        ("SETUP in lite-04", open::<Setup>, Lite04, "01 00", not_in("SETUP")),
        ("ANNOUNCE_OK in lite-04", open::<AnnounceOk>, Lite04, "02 2a 03", not_in("ANNOUNCE_OK")),
        ("TRACK in lite-04", open::<Track>, Lite04, "02 00 00", not_in("TRACK")),
        ("TRACK_INFO in lite-04", open::<TrackInfo>, Lite04, "04 01 00 00 01", not_in("TRACK_INFO")),
        ("SUBSCRIBE_END in lite-04", open::<SubscribeEnd>, Lite04, "01 02 7fff", not_in("SUBSCRIBE_END")),
        ("lite-05 SUBSCRIBE_OK in lite-04", open::<SubscribeOk>, Lite04, "00 01 05",
            not_in("SUBSCRIBE_OK (lite-05 layout)")),
        ("lite-04 SUBSCRIBE_OK in lite-05", open::<SubscribeOkLite04>, Lite05, "00 05 00 00 00 00 00",
            not_in("SUBSCRIBE_OK (lite-04 layout)")),
        ("DATAGRAM in lite-04", bounded::<Datagram>, Lite04, "00 00 00", not_in("DATAGRAM")),
    ]
}

#[test]
fn malformed_input_gives_the_exact_error() {
    for (name, decode, version, h, expected) in table() {
        assert_eq!(decode(&hex(h), version), Err(expected), "{name}: {h}");
    }
}

#[test]
fn oversize_datagram_is_refused_both_ways() {
    let too_big = Bytes::from(vec![0u8; MAX_DATAGRAM_LEN + 1]);
    assert_eq!(
        Datagram::decode(&mut Reader::bounded(&too_big), Lite05),
        Err(invalid(Violation::DatagramTooLarge { len: 1201, max: 1200 }))
    );
    // Exactly 1200 bytes is fine: a 3-byte header and 1197 payload bytes.
    let fits = Bytes::from(vec![0u8; MAX_DATAGRAM_LEN]);
    assert_eq!(Datagram::decode(&mut Reader::bounded(&fits), Lite05).unwrap().payload.len(), 1197);

    let d = Datagram { subscribe_id: 0, group: 0, timestamp: 0, payload: Bytes::from(vec![0u8; 1198]) };
    assert_eq!(
        d.encode_to_vec(Lite05),
        Err(EncodeError::Invalid(Violation::DatagramTooLarge { len: 1201, max: 1200 }))
    );
}

fn refused(v: Violation) -> Result<Vec<u8>, EncodeError> {
    Err(EncodeError::Invalid(v))
}

#[test]
fn encoders_refuse_messages_absent_from_the_version() {
    let nv = |message| refused(Violation::NotInVersion { message });
    assert_eq!(Setup::default().encode_to_vec(Lite04), nv("SETUP"));
    assert_eq!(AnnounceOk { hop_id: 1, active_count: 0 }.encode_to_vec(Lite04), nv("ANNOUNCE_OK"));
    assert_eq!(Track { broadcast: "a".into(), track: "b".into() }.encode_to_vec(Lite04), nv("TRACK"));
    let info = TrackInfo { priority: 0, ordered: false, max_latency: 0, timescale: NonZeroU64::MIN };
    assert_eq!(info.encode_to_vec(Lite04), nv("TRACK_INFO"));
    assert_eq!(SubscribeEnd { group: 0 }.encode_to_vec(Lite04), nv("SUBSCRIBE_END"));
    assert_eq!(SubscribeOk { group: 0 }.encode_to_vec(Lite04), nv("SUBSCRIBE_OK (lite-05 layout)"));
    let ok04 = SubscribeOkLite04 { priority: 0, ordered: false, max_latency: 0, start: None, end: None };
    assert_eq!(ok04.encode_to_vec(Lite05), nv("SUBSCRIBE_OK (lite-04 layout)"));
    let d = Datagram { subscribe_id: 0, group: 0, timestamp: 0, payload: Bytes::new() };
    assert_eq!(d.encode_to_vec(Lite04), nv("DATAGRAM"));
    assert_eq!(BidiStreamType::Track.encode_to_vec(Lite04), nv("Track stream"));
    assert_eq!(UniStreamType::Setup.encode_to_vec(Lite04), nv("Setup stream"));
    let f = Frame { timestamp_delta: Some(0), payload: Bytes::new() };
    assert_eq!(f.encode_to_vec(Lite04), nv("FRAME Timestamp Delta"));
    let f = Frame { timestamp_delta: None, payload: Bytes::new() };
    assert_eq!(f.encode_to_vec(Lite05), refused(Violation::MissingTimestamp));
}

#[test]
fn encoders_refuse_what_decoders_reject() {
    // Timestamp deltas outside -2^61 ..= 2^61-1 do not fit a QUIC varint once zigzagged.
    let h = FrameHeader { timestamp_delta: Some(i64::MAX), payload_len: 0 };
    assert_eq!(h.encode_to_vec(Lite05), Err(EncodeError::VarintTooLarge(u64::MAX - 1)));
    let h = FrameHeader { timestamp_delta: Some(1 << 61), payload_len: 0 };
    assert_eq!(h.encode_to_vec(Lite05), Err(EncodeError::VarintTooLarge(1 << 62)));
    assert!(
        FrameHeader { timestamp_delta: Some((1 << 61) - 1), payload_len: 0 }.encode_to_vec(Lite05).is_ok()
    );
    assert!(FrameHeader { timestamp_delta: Some(-(1 << 61)), payload_len: 0 }.encode_to_vec(Lite05).is_ok());
    let h = FrameHeader { timestamp_delta: None, payload_len: MAX_FRAME_LEN + 1 };
    assert_eq!(
        h.encode_to_vec(Lite04),
        refused(Violation::LengthTooLarge { field: "frame payload", claimed: 1 << 32, max: MAX_FRAME_LEN })
    );

    // Group numbers written as +1: u64::MAX + 1 overflows, 2^62 - 1 + 1 is past the varint.
    let mut update =
        SubscribeUpdate { priority: 0, ordered: false, max_latency: 0, start: Some(u64::MAX), end: None };
    assert_eq!(update.encode_to_vec(Lite04), refused(Violation::Overflow { field: "start group" }));
    update.start = Some(QUIC_MAX);
    assert_eq!(update.encode_to_vec(Lite04), Err(EncodeError::VarintTooLarge(1 << 62)));
    update.start = Some(QUIC_MAX - 1);
    assert!(update.encode_to_vec(Lite04).is_ok());

    // Names over 4096 bytes.
    let long = "a".repeat(4097);
    let goaway_ok = Goaway { uri: long.clone() };
    assert!(goaway_ok.encode_to_vec(Lite04).is_ok(), "the URI limit is 8192");
    let req = AnnounceRequest { prefix: long, exclude_hop: 0 };
    assert_eq!(
        req.encode_to_vec(Lite05),
        refused(Violation::LengthTooLarge { field: "broadcast path prefix", claimed: 4097, max: 4096 })
    );

    // SETUP: duplicates, a known ID posing as unknown, a bad path, an oversize message.
    let dup = Setup {
        parameters: vec![SetupParameter::Probe(ProbeLevel::Report), SetupParameter::Probe(ProbeLevel::None)],
    };
    assert_eq!(dup.encode_to_vec(Lite05), refused(Violation::DuplicateSetupParameter { id: 1 }));
    let posing =
        Setup { parameters: vec![SetupParameter::Unknown { id: 2, value: Bytes::from_static(b"/x") }] };
    assert_eq!(
        posing.encode_to_vec(Lite05),
        refused(Violation::InvalidValue { field: "unknown setup parameter id", value: 2 })
    );
    let bad_path = Setup { parameters: vec![SetupParameter::Path(String::new())] };
    assert_eq!(bad_path.encode_to_vec(Lite05), refused(Violation::InvalidSetupPath));
    let huge =
        Setup { parameters: vec![SetupParameter::Unknown { id: 9, value: Bytes::from(vec![0u8; 65_535]) }] };
    assert_eq!(
        huge.encode_to_vec(Lite05),
        refused(Violation::LengthTooLarge { field: "message", claimed: 65_541, max: MAX_MESSAGE_LEN })
    );

    // Hop IDs and other varints past 2^62 - 1.
    let b = AnnounceBroadcast { status: AnnounceStatus::Active, suffix: String::new(), hops: vec![1 << 62] };
    assert_eq!(b.encode_to_vec(Lite04), Err(EncodeError::VarintTooLarge(1 << 62)));
    let drop = SubscribeDrop { start: 0, end: 0, error_code: u64::MAX };
    assert_eq!(drop.encode_to_vec(Lite05), Err(EncodeError::VarintTooLarge(u64::MAX)));
}
