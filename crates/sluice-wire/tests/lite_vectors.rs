//! Byte-exact vectors for every moq-lite message in every version that has it.
//!
//! The drafts give no examples, so every vector is hand-derived from the draft layout; the
//! comment on each breaks it down field by field. Each vector is checked both ways:
//! decode(hex) == value (spanning the input exactly) and encode(value) == hex.

use std::fmt::Debug;
use std::num::NonZeroU64;

use bytes::Bytes;
use sluice_wire::lite::announce::{AnnounceBroadcast, AnnounceOk, AnnounceRequest, AnnounceStatus};
use sluice_wire::lite::datagram::Datagram;
use sluice_wire::lite::fetch::Fetch;
use sluice_wire::lite::goaway::Goaway;
use sluice_wire::lite::group::{Frame, FrameHeader, Group, zigzag_decode, zigzag_encode};
use sluice_wire::lite::probe::Probe;
use sluice_wire::lite::setup::{ProbeLevel, Setup, SetupParameter};
use sluice_wire::lite::stream::{BidiStreamType, UniStreamType};
use sluice_wire::lite::subscribe::{
    Subscribe, SubscribeDrop, SubscribeEnd, SubscribeOk, SubscribeOkLite04, SubscribeResponse,
    SubscribeUpdate,
};
use sluice_wire::lite::track::{Track, TrackInfo};
use sluice_wire::{Decode, Encode, LiteVersion, Reader};

use LiteVersion::{Lite04, Lite05};

const BOTH: [LiteVersion; 2] = [Lite04, Lite05];

fn hex(s: &str) -> Bytes {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect::<Vec<u8>>().into()
}

/// decode(hex) == value, consuming all of it, and encode(value) == hex, in `version`.
fn check<T>(h: &str, value: T, version: LiteVersion)
where
    T: Encode<Version = LiteVersion> + Decode<Version = LiteVersion> + PartialEq + Debug,
{
    let bytes = hex(h);
    let mut r = Reader::new(&bytes);
    let decoded = T::decode(&mut r, version).unwrap_or_else(|e| panic!("{h} in {version:?}: {e}"));
    assert_eq!(decoded, value, "decode {h} in {version:?}");
    assert_eq!(r.position(), bytes.len(), "decode of {h} must use every byte");
    assert_eq!(value.encode_to_vec(version).unwrap(), bytes.to_vec(), "encode {value:?} in {version:?}");
}

// ------------------------------------------------------------------ STREAM_TYPE

/// lite-04/05 §Bidirectional Streams, §Unidirectional Streams: one varint (< 64 ⇒ one byte).
#[test]
fn stream_types() {
    for v in BOTH {
        check("01", BidiStreamType::Announce, v);
        check("02", BidiStreamType::Subscribe, v);
        check("03", BidiStreamType::Fetch, v);
        check("04", BidiStreamType::Probe, v);
        check("05", BidiStreamType::Goaway, v);
        check("00", UniStreamType::Group, v);
    }
    // lite-05 only: Track (bidi 0x6), Setup (uni 0x1).
    check("06", BidiStreamType::Track, Lite05);
    check("01", UniStreamType::Setup, Lite05);
}

// ------------------------------------------------------------------ SETUP (lite-05)

/// lite-05 §SETUP: Length 0x0f; Count 3;
/// {ID 0x1 Probe, Length 1, Level 2 (Increase)} = 01 01 02;
/// {ID 0x2 Path, Length 5, "/room"} = 02 05 2f 72 6f 6f 6d;
/// {ID 0x21 unknown, Length 2, de ad} = 21 02 de ad. Body = 1 + 3 + 7 + 4 = 15.
#[test]
fn setup_lite05() {
    let setup = Setup {
        parameters: vec![
            SetupParameter::Probe(ProbeLevel::Increase),
            SetupParameter::Path("/room".into()),
            SetupParameter::Unknown { id: 0x21, value: Bytes::from_static(&[0xde, 0xad]) },
        ],
    };
    check("0f 03 010102 02052f726f6f6d 2102dead", setup.clone(), Lite05);
    assert_eq!(setup.probe(), ProbeLevel::Increase);
    assert_eq!(setup.path(), Some("/room"));
    // §Setup: "an endpoint with no optional capabilities sends a SETUP with an empty
    // parameter list": Length 1, Count 0.
    check("01 00", Setup::default(), Lite05);
    assert_eq!(Setup::default().probe(), ProbeLevel::None);
}

// ------------------------------------------------------------------ Announce stream

/// lite-04 §ANNOUNCE_INTEREST = lite-05 §ANNOUNCE_REQUEST: Length 7; Prefix (s) = 05 "live/"
/// (6c 69 76 65 2f); Exclude Hop 0.
/// Second: Length 3; Prefix "" = 00; Exclude Hop 300 = 0x012c as a 2-byte varint 41 2c.
#[test]
fn announce_request_both_versions() {
    for v in BOTH {
        check("07 05 6c6976652f 00", AnnounceRequest { prefix: "live/".into(), exclude_hop: 0 }, v);
        check("03 00 412c", AnnounceRequest { prefix: String::new(), exclude_hop: 300 }, v);
    }
}

/// lite-05 §ANNOUNCE_OK: Length 2; Hop ID 42 = 2a; Active Count 3 = 03.
#[test]
fn announce_ok_lite05() {
    check("02 2a 03", AnnounceOk { hop_id: 42, active_count: 3 }, Lite05);
}

/// lite-04 §ANNOUNCE = lite-05 §ANNOUNCE_BROADCAST: Length 12; Status 1 (active);
/// Suffix (s) = 04 "cam1" (63 61 6d 31); Hop Count 2; Hop IDs 5 = 05 and 16384 (first
/// 4-byte value) = 80 00 40 00. Body = 1 + 5 + 1 + 1 + 4 = 12.
/// Second: Length 4; Status 0 (ended); Suffix 01 "x" (78); Hop Count 0.
#[test]
fn announce_broadcast_both_versions() {
    for v in BOTH {
        check(
            "0c 01 0463616d31 02 05 80004000",
            AnnounceBroadcast { status: AnnounceStatus::Active, suffix: "cam1".into(), hops: vec![5, 16384] },
            v,
        );
        check(
            "04 00 0178 00",
            AnnounceBroadcast { status: AnnounceStatus::Ended, suffix: "x".into(), hops: vec![] },
            v,
        );
    }
    // lite-05 §ANNOUNCE_OK: full path = Hop IDs ++ [ANNOUNCE_OK Hop ID].
    let b = AnnounceBroadcast { status: AnnounceStatus::Active, suffix: "a".into(), hops: vec![5, 6] };
    assert_eq!(b.full_path(&AnnounceOk { hop_id: 9, active_count: 0 }), vec![5, 6, 9]);
}

// ------------------------------------------------------------------ Subscribe stream

/// lite-04/05 §SUBSCRIBE: Length 0x18 (24); Subscribe ID 1; Broadcast Path 0a "room/alice"
/// (72 6f 6f 6d 2f 61 6c 69 63 65); Track Name 05 "video" (76 69 64 65 6f); Priority 0x80;
/// Ordered 0 (descending); Max Latency 1000 = 0x3e8 → 43 e8; Start Group 0 (latest → None);
/// End Group 0x0a = group 9 + 1. Body = 1 + 11 + 6 + 1 + 1 + 2 + 1 + 1 = 24.
#[test]
fn subscribe_both_versions() {
    let sub = Subscribe {
        id: 1,
        broadcast: "room/alice".into(),
        track: "video".into(),
        priority: 0x80,
        ordered: false,
        max_latency: 1000,
        start: None,
        end: Some(9),
    };
    for v in BOTH {
        check("18 01 0a726f6f6d2f616c696365 05766964656f 80 00 43e8 00 0a", sub.clone(), v);
    }
}

/// lite-04/05 §SUBSCRIBE_UPDATE: Length 5; Priority 2; Ordered 1; Max Latency 0;
/// Start Group 01 = group 0 + 1; End Group 0 = unbounded.
#[test]
fn subscribe_update_both_versions() {
    let update = SubscribeUpdate { priority: 2, ordered: true, max_latency: 0, start: Some(0), end: None };
    for v in BOTH {
        check("05 02 01 00 01 00", update, v);
    }
}

/// lite-04 §SUBSCRIBE_OK: Type 0x0; Length 7; Publisher Priority 3; Ordered 1;
/// Max Latency 500 = 0x1f4 → 41 f4; Start Group 0x3f = group 62 + 1 (largest 1-byte value);
/// End Group 64 = group 63 + 1 (smallest 2-byte value) → 40 40.
/// Second: all zero: start not yet known, end unbounded.
#[test]
fn subscribe_ok_lite04() {
    let ok =
        SubscribeOkLite04 { priority: 3, ordered: true, max_latency: 500, start: Some(62), end: Some(63) };
    check("00 07 03 01 41f4 3f 4040", ok, Lite04);
    check("00 07 03 01 41f4 3f 4040", SubscribeResponse::OkLite04(ok), Lite04);
    let unresolved =
        SubscribeOkLite04 { priority: 0, ordered: false, max_latency: 0, start: None, end: None };
    check("00 05 00 00 00 00 00", SubscribeResponse::OkLite04(unresolved), Lite04);
}

/// lite-04 §SUBSCRIBE_DROP: Type 0x1; Length 3; Start 5; End 7; Error Code 0 (plain
/// absolute sequences, no +1). lite-05 §SUBSCRIBE_DROP: identical body under Type 0x2.
#[test]
fn subscribe_drop_both_versions() {
    let drop = SubscribeDrop { start: 5, end: 7, error_code: 0 };
    check("01 03 05 07 00", drop, Lite04);
    check("01 03 05 07 00", SubscribeResponse::Drop(drop), Lite04);
    check("02 03 05 07 00", drop, Lite05);
    check("02 03 05 07 00", SubscribeResponse::Drop(drop), Lite05);
}

/// lite-05 §SUBSCRIBE_OK: Type 0x0; Length 4; Group 16384 (plain) = 80 00 40 00.
#[test]
fn subscribe_ok_lite05() {
    check("00 04 80004000", SubscribeOk { group: 16384 }, Lite05);
    check("00 04 80004000", SubscribeResponse::Ok(SubscribeOk { group: 16384 }), Lite05);
}

/// lite-05 §SUBSCRIBE_END: Type 0x1; Length 2; Group 16383 (largest 2-byte value) = 7f ff.
#[test]
fn subscribe_end_lite05() {
    check("01 02 7fff", SubscribeEnd { group: 16383 }, Lite05);
    check("01 02 7fff", SubscribeResponse::End(SubscribeEnd { group: 16383 }), Lite05);
}

// ------------------------------------------------------------------ Fetch, Probe, Goaway

/// lite-04/05 §FETCH: Length 6; Broadcast Path 01 "b" (62); Track Name 01 "t" (74);
/// Priority 0xff; Group Sequence 1.
#[test]
fn fetch_both_versions() {
    for v in BOTH {
        check(
            "06 0162 0174 ff 01",
            Fetch { broadcast: "b".into(), track: "t".into(), priority: 255, group: 1 },
            v,
        );
    }
}

/// lite-04/05 §PROBE: Length 5; Bitrate 1_000_000 = 0xf4240 (4-byte varint 80 0f 42 40);
/// RTT 25 = 19.
#[test]
fn probe_both_versions() {
    for v in BOTH {
        check("05 800f4240 19", Probe { bitrate: 1_000_000, rtt: 25 }, v);
    }
}

/// lite-04/05 §GOAWAY: Length 1; URI "" (00) = no redirect.
/// Second: Length 13; URI 0c "https://a.b/" (68 74 74 70 73 3a 2f 2f 61 2e 62 2f).
#[test]
fn goaway_both_versions() {
    for v in BOTH {
        check("01 00", Goaway::default(), v);
        check("0d 0c 68747470733a2f2f612e622f", Goaway { uri: "https://a.b/".into() }, v);
    }
}

// ------------------------------------------------------------------ Track stream (lite-05)

/// lite-05 §TRACK: Length 11; Broadcast Path 04 "room" (72 6f 6f 6d); Track Name 05 "audio"
/// (61 75 64 69 6f).
#[test]
fn track_lite05() {
    check("0b 04726f6f6d 05617564696f", Track { broadcast: "room".into(), track: "audio".into() }, Lite05);
}

/// lite-05 §TRACK_INFO: Length 8; Priority 1; Ordered 0; Max Latency 2000 = 0x7d0 → 47 d0;
/// Timescale 90000 = 0x15f90 → 80 01 5f 90.
#[test]
fn track_info_lite05() {
    let info = TrackInfo {
        priority: 1,
        ordered: false,
        max_latency: 2000,
        timescale: NonZeroU64::new(90_000).unwrap(),
    };
    check("08 01 00 47d0 80015f90", info, Lite05);
}

// ------------------------------------------------------------------ Group stream

/// lite-04/05 §GROUP: Length 2; Subscribe ID 1; Group Sequence 0.
#[test]
fn group_both_versions() {
    for v in BOTH {
        check("02 01 00", Group { subscribe_id: 1, sequence: 0 }, v);
    }
}

/// lite-04 §FRAME: Length 2 (the payload's), Payload "hi" (68 69). Empty payload: 00.
#[test]
fn frame_lite04() {
    check("02 6869", Frame { timestamp_delta: None, payload: Bytes::from_static(b"hi") }, Lite04);
    check("00", Frame { timestamp_delta: None, payload: Bytes::new() }, Lite04);
    check("02", FrameHeader { timestamp_delta: None, payload_len: 2 }, Lite04);
}

/// lite-05 §FRAME: Timestamp Delta (zigzag), Length, Payload.
/// -1 → zigzag 1 → 01; 1 → 2 → 02; 0 → 00; 100 → 200 = 0xc8 → 2-byte 40 c8.
/// Header only: delta 1000 → 2000 = 0x7d0 → 47 d0; length 70000 = 0x11170 → 80 01 11 70.
#[test]
fn frame_lite05() {
    check("01 02 6869", Frame { timestamp_delta: Some(-1), payload: Bytes::from_static(b"hi") }, Lite05);
    check("02 02 6869", Frame { timestamp_delta: Some(1), payload: Bytes::from_static(b"hi") }, Lite05);
    check("00 00", Frame { timestamp_delta: Some(0), payload: Bytes::new() }, Lite05);
    check("40c8 01 2a", Frame { timestamp_delta: Some(100), payload: Bytes::from_static(b"*") }, Lite05);
    check("47d0 80011170", FrameHeader { timestamp_delta: Some(1000), payload_len: 70_000 }, Lite05);
}

/// FrameHeader needs only the header bytes and leaves the reader at the payload.
#[test]
fn frame_header_does_not_need_the_payload() {
    let bytes = hex("47d0 80011170");
    let mut r = Reader::new(&bytes);
    let h = FrameHeader::decode(&mut r, Lite05).unwrap();
    assert_eq!(h, FrameHeader { timestamp_delta: Some(1000), payload_len: 70_000 });
    assert_eq!(r.position(), 6);
    // ...while the whole Frame waits for its 70000 bytes.
    assert_eq!(Frame::decode(&mut Reader::new(&bytes), Lite05), Err(sluice_wire::DecodeError::Incomplete));
}

/// Decoded payloads are slices of the input, not copies.
#[test]
fn frame_payload_is_zero_copy() {
    let bytes = hex("05 02 6869 ffff");
    let frame = Frame::decode(&mut Reader::new(&bytes), Lite05).unwrap();
    assert_eq!(&frame.payload[..], b"hi");
    assert_eq!(frame.payload.as_ptr(), bytes[2..].as_ptr());
}

/// lite-05 §FRAME zigzag: 0 → 0, -1 → 1, 1 → 2, -2 → 3, 2 → 4; the extremes map to the
/// top of u64: i64::MIN → 2^64 - 1, i64::MAX → 2^64 - 2.
#[test]
fn zigzag_mapping() {
    for (s, u) in
        [(0i64, 0u64), (-1, 1), (1, 2), (-2, 3), (2, 4), (i64::MIN, u64::MAX), (i64::MAX, u64::MAX - 1)]
    {
        assert_eq!(zigzag_encode(s), u, "encode {s}");
        assert_eq!(zigzag_decode(u), s, "decode {u}");
    }
}

// ------------------------------------------------------------------ Datagram (lite-05)

/// lite-05 §Datagrams: Subscribe ID 3; Group Sequence 9; Timestamp 90000 (absolute, not
/// zigzag) = 80 01 5f 90; Payload "ok" (6f 6b) to the end, no length.
#[test]
fn datagram_lite05() {
    let bytes = hex("03 09 80015f90 6f6b");
    let d = Datagram::decode(&mut Reader::bounded(&bytes), Lite05).unwrap();
    assert_eq!(
        d,
        Datagram { subscribe_id: 3, group: 9, timestamp: 90_000, payload: Bytes::from_static(b"ok") }
    );
    assert_eq!(d.payload.as_ptr(), bytes[6..].as_ptr(), "payload is a slice of the datagram");
    assert_eq!(d.encode_to_vec(Lite05).unwrap(), bytes.to_vec());
    // A header-only datagram has an empty payload.
    check("00 00 00", Datagram { subscribe_id: 0, group: 0, timestamp: 0, payload: Bytes::new() }, Lite05);
}
