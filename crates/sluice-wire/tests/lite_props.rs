//! Property tests for the moq-lite codec: roundtrip of every type in every version that has
//! it, stream decoding under arbitrary chunk splits, and "every prefix is Incomplete".

use std::collections::BTreeMap;
use std::num::NonZeroU64;

use bytes::Bytes;
use proptest::prelude::*;
use proptest::sample::Index;
use sluice_wire::lite::announce::{AnnounceBroadcast, AnnounceOk, AnnounceRequest, AnnounceStatus};
use sluice_wire::lite::datagram::{Datagram, MAX_DATAGRAM_LEN};
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
use sluice_wire::varint::QUIC_MAX;
use sluice_wire::{Decode, DecodeError, Encode, LiteVersion, Reader};

use LiteVersion::{Lite04, Lite05};

// ------------------------------------------------------------------ strategies

/// Any QUIC varint value, with the encoding-size boundaries drawn often.
fn qv() -> impl Strategy<Value = u64> + Clone {
    prop_oneof![
        prop::sample::select(vec![
            0,
            1,
            63,
            64,
            16_383,
            16_384,
            (1 << 30) - 1,
            1 << 30,
            QUIC_MAX - 1,
            QUIC_MAX
        ]),
        0..=QUIC_MAX,
    ]
}

/// A `+1`-encoded group: `None` or a sequence up to 2^62 - 2.
fn group_opt() -> impl Strategy<Value = Option<u64>> + Clone {
    prop::option::of(prop_oneof![
        prop::sample::select(vec![0, 62, 63, 16_382, 16_383, QUIC_MAX - 1]),
        0..QUIC_MAX,
    ])
}

/// A name of up to 24 Unicode scalar values (UTF-8 of up to 96 bytes).
fn name() -> impl Strategy<Value = String> + Clone {
    "\\PC{0,24}"
}

/// Timestamp deltas a FRAME can carry: -2^61 ..= 2^61 - 1.
fn delta() -> impl Strategy<Value = i64> + Clone {
    prop_oneof![
        prop::sample::select(vec![0, -1, 1, -32, 31, -33, 32, -(1 << 61), (1 << 61) - 1]),
        -(1i64 << 61)..=(1i64 << 61) - 1,
    ]
}

fn payload(max: usize) -> impl Strategy<Value = Bytes> + Clone {
    prop::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn setup() -> impl Strategy<Value = Setup> {
    let probe = prop::option::of(prop::sample::select(vec![
        ProbeLevel::None,
        ProbeLevel::Report,
        ProbeLevel::Increase,
    ]));
    let path = prop::option::of("/\\PC{0,16}");
    let unknown = prop::collection::btree_map(
        prop_oneof![3..=64u64, qv().prop_filter("known id", |id| *id > 2)],
        payload(6),
        0..4,
    );
    (probe, path, unknown)
        .prop_flat_map(|(probe, path, unknown): (_, Option<String>, BTreeMap<u64, Bytes>)| {
            let mut parameters: Vec<SetupParameter> =
                unknown.into_iter().map(|(id, value)| SetupParameter::Unknown { id, value }).collect();
            parameters.extend(probe.map(SetupParameter::Probe));
            parameters.extend(path.map(SetupParameter::Path));
            Just(parameters).prop_shuffle()
        })
        .prop_map(|parameters| Setup { parameters })
}

fn subscribe_drop() -> impl Strategy<Value = SubscribeDrop> + Clone {
    (qv(), qv(), qv()).prop_map(|(start, end, error_code)| SubscribeDrop { start, end, error_code })
}

/// One of every message, header or frame of `version`, as a value that knows its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Bidi(BidiStreamType),
    Uni(UniStreamType),
    Setup(Setup),
    AnnounceRequest(AnnounceRequest),
    AnnounceOk(AnnounceOk),
    AnnounceBroadcast(AnnounceBroadcast),
    Subscribe(Subscribe),
    SubscribeUpdate(SubscribeUpdate),
    Response(SubscribeResponse),
    Fetch(Fetch),
    Probe(Probe),
    Goaway(Goaway),
    Track(Track),
    TrackInfo(TrackInfo),
    Group(Group),
    Frame(Frame),
}

fn item(version: LiteVersion) -> BoxedStrategy<Item> {
    let lite05 = version == LiteVersion::Lite05;
    let bidi = if lite05 {
        prop::sample::select(vec![
            BidiStreamType::Announce,
            BidiStreamType::Subscribe,
            BidiStreamType::Fetch,
            BidiStreamType::Probe,
            BidiStreamType::Goaway,
            BidiStreamType::Track,
        ])
    } else {
        prop::sample::select(vec![
            BidiStreamType::Announce,
            BidiStreamType::Subscribe,
            BidiStreamType::Fetch,
            BidiStreamType::Probe,
            BidiStreamType::Goaway,
        ])
    };
    let uni = if lite05 {
        prop::sample::select(vec![UniStreamType::Group, UniStreamType::Setup])
    } else {
        prop::sample::select(vec![UniStreamType::Group])
    };
    let timestamp = move || -> BoxedStrategy<Option<i64>> {
        if lite05 { delta().prop_map(Some).boxed() } else { Just(None).boxed() }
    };
    let response = if lite05 {
        prop_oneof![
            qv().prop_map(|group| SubscribeResponse::Ok(SubscribeOk { group })),
            qv().prop_map(|group| SubscribeResponse::End(SubscribeEnd { group })),
            subscribe_drop().prop_map(SubscribeResponse::Drop),
        ]
        .boxed()
    } else {
        prop_oneof![
            (any::<u8>(), any::<bool>(), qv(), group_opt(), group_opt()).prop_map(
                |(priority, ordered, max_latency, start, end)| {
                    SubscribeResponse::OkLite04(SubscribeOkLite04 {
                        priority,
                        ordered,
                        max_latency,
                        start,
                        end,
                    })
                }
            ),
            subscribe_drop().prop_map(SubscribeResponse::Drop),
        ]
        .boxed()
    };
    let common = prop_oneof![
        bidi.prop_map(Item::Bidi),
        uni.prop_map(Item::Uni),
        (name(), qv())
            .prop_map(|(prefix, exclude_hop)| Item::AnnounceRequest(AnnounceRequest { prefix, exclude_hop })),
        (any::<bool>(), name(), prop::collection::vec(qv(), 0..6)).prop_map(|(active, suffix, hops)| {
            let status = if active { AnnounceStatus::Active } else { AnnounceStatus::Ended };
            Item::AnnounceBroadcast(AnnounceBroadcast { status, suffix, hops })
        }),
        (qv(), name(), name(), any::<u8>(), any::<bool>(), qv(), group_opt(), group_opt()).prop_map(
            |(id, broadcast, track, priority, ordered, max_latency, start, end)| {
                Item::Subscribe(Subscribe {
                    id,
                    broadcast,
                    track,
                    priority,
                    ordered,
                    max_latency,
                    start,
                    end,
                })
            }
        ),
        (any::<u8>(), any::<bool>(), qv(), group_opt(), group_opt()).prop_map(
            |(priority, ordered, max_latency, start, end)| {
                Item::SubscribeUpdate(SubscribeUpdate { priority, ordered, max_latency, start, end })
            }
        ),
        response.prop_map(Item::Response),
        (name(), name(), any::<u8>(), qv()).prop_map(|(broadcast, track, priority, group)| Item::Fetch(
            Fetch { broadcast, track, priority, group }
        )),
        (qv(), qv()).prop_map(|(bitrate, rtt)| Item::Probe(Probe { bitrate, rtt })),
        name().prop_map(|uri| Item::Goaway(Goaway { uri })),
        (qv(), qv()).prop_map(|(subscribe_id, sequence)| Item::Group(Group { subscribe_id, sequence })),
        (timestamp(), payload(40))
            .prop_map(|(timestamp_delta, payload)| Item::Frame(Frame { timestamp_delta, payload })),
    ];
    if !lite05 {
        return common.boxed();
    }
    prop_oneof![
        6 => common,
        1 => setup().prop_map(Item::Setup),
        1 => (qv(), qv()).prop_map(|(hop_id, active_count)| Item::AnnounceOk(AnnounceOk { hop_id, active_count })),
        1 => (name(), name()).prop_map(|(broadcast, track)| Item::Track(Track { broadcast, track })),
        1 => (any::<u8>(), any::<bool>(), qv(), qv().prop_filter("non-zero", |t| *t != 0)).prop_map(
            |(priority, ordered, max_latency, t)| Item::TrackInfo(TrackInfo {
                priority,
                ordered,
                max_latency,
                timescale: NonZeroU64::new(t).unwrap(),
            })
        ),
    ]
    .boxed()
}

/// Frame headers alone (they stand before payload bytes that are not part of the value).
fn frame_header(version: LiteVersion) -> BoxedStrategy<FrameHeader> {
    let len = prop_oneof![
        prop::sample::select(vec![0, 63, 64, 16_383, 16_384, u64::from(u32::MAX)]),
        0..=u64::from(u32::MAX)
    ];
    match version {
        Lite04 => len.prop_map(|payload_len| FrameHeader { timestamp_delta: None, payload_len }).boxed(),
        Lite05 => (delta(), len)
            .prop_map(|(d, payload_len)| FrameHeader { timestamp_delta: Some(d), payload_len })
            .boxed(),
    }
}

// ------------------------------------------------------------------ encode / decode by kind

fn encode(item: &Item, v: LiteVersion) -> Vec<u8> {
    match item {
        Item::Bidi(x) => x.encode_to_vec(v),
        Item::Uni(x) => x.encode_to_vec(v),
        Item::Setup(x) => x.encode_to_vec(v),
        Item::AnnounceRequest(x) => x.encode_to_vec(v),
        Item::AnnounceOk(x) => x.encode_to_vec(v),
        Item::AnnounceBroadcast(x) => x.encode_to_vec(v),
        Item::Subscribe(x) => x.encode_to_vec(v),
        Item::SubscribeUpdate(x) => x.encode_to_vec(v),
        Item::Response(x) => x.encode_to_vec(v),
        Item::Fetch(x) => x.encode_to_vec(v),
        Item::Probe(x) => x.encode_to_vec(v),
        Item::Goaway(x) => x.encode_to_vec(v),
        Item::Track(x) => x.encode_to_vec(v),
        Item::TrackInfo(x) => x.encode_to_vec(v),
        Item::Group(x) => x.encode_to_vec(v),
        Item::Frame(x) => x.encode_to_vec(v),
    }
    .unwrap_or_else(|e| panic!("encode {item:?} in {v:?}: {e}"))
}

/// Decodes the same kind of value as `like` (a session always knows what comes next).
fn decode_like(like: &Item, r: &mut Reader<'_>, v: LiteVersion) -> Result<Item, DecodeError> {
    Ok(match like {
        Item::Bidi(_) => Item::Bidi(Decode::decode(r, v)?),
        Item::Uni(_) => Item::Uni(Decode::decode(r, v)?),
        Item::Setup(_) => Item::Setup(Decode::decode(r, v)?),
        Item::AnnounceRequest(_) => Item::AnnounceRequest(Decode::decode(r, v)?),
        Item::AnnounceOk(_) => Item::AnnounceOk(Decode::decode(r, v)?),
        Item::AnnounceBroadcast(_) => Item::AnnounceBroadcast(Decode::decode(r, v)?),
        Item::Subscribe(_) => Item::Subscribe(Decode::decode(r, v)?),
        Item::SubscribeUpdate(_) => Item::SubscribeUpdate(Decode::decode(r, v)?),
        Item::Response(_) => Item::Response(Decode::decode(r, v)?),
        Item::Fetch(_) => Item::Fetch(Decode::decode(r, v)?),
        Item::Probe(_) => Item::Probe(Decode::decode(r, v)?),
        Item::Goaway(_) => Item::Goaway(Decode::decode(r, v)?),
        Item::Track(_) => Item::Track(Decode::decode(r, v)?),
        Item::TrackInfo(_) => Item::TrackInfo(Decode::decode(r, v)?),
        Item::Group(_) => Item::Group(Decode::decode(r, v)?),
        Item::Frame(_) => Item::Frame(Decode::decode(r, v)?),
    })
}

fn version() -> impl Strategy<Value = LiteVersion> {
    prop::sample::select(vec![Lite04, Lite05])
}

fn items_in_version() -> impl Strategy<Value = (LiteVersion, Vec<Item>)> {
    version().prop_flat_map(|v| (Just(v), prop::collection::vec(item(v), 1..8)))
}

/// Feeds `wire` in chunks cut at `cuts`, decoding like a session: accumulate, decode from
/// an open reader, drop the consumed bytes on success, wait on Incomplete.
fn decode_in_chunks(wire: &[u8], cuts: &[usize], kinds: &[Item], v: LiteVersion) -> Vec<Item> {
    let mut points: Vec<usize> = cuts.to_vec();
    points.push(wire.len());
    points.sort_unstable();
    let mut pending: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    let mut fed = 0;
    for point in points {
        pending.extend_from_slice(&wire[fed..point]);
        fed = point;
        while out.len() < kinds.len() {
            let buf = Bytes::from(pending.clone());
            let mut r = Reader::new(&buf);
            match decode_like(&kinds[out.len()], &mut r, v) {
                Ok(item) => {
                    out.push(item);
                    pending.drain(..r.position());
                }
                Err(DecodeError::Incomplete) => break,
                Err(e) => panic!("invalid after {fed} bytes: {e}"),
            }
        }
    }
    assert!(pending.is_empty(), "{} bytes left undecoded", pending.len());
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// decode(encode(x)) == x for every type, spanning the encoding exactly.
    #[test]
    fn roundtrip((v, items) in items_in_version()) {
        for x in items {
            let wire = Bytes::from(encode(&x, v));
            let mut r = Reader::new(&wire);
            prop_assert_eq!(decode_like(&x, &mut r, v).unwrap(), x);
            prop_assert_eq!(r.position(), wire.len());
        }
    }

    /// A frame header decodes without its payload and leaves the reader at the payload.
    #[test]
    fn frame_header_roundtrip((v, h) in version().prop_flat_map(|v| (Just(v), frame_header(v)))) {
        let wire = Bytes::from(h.encode_to_vec(v).unwrap());
        let mut r = Reader::new(&wire);
        prop_assert_eq!(FrameHeader::decode(&mut r, v).unwrap(), h);
        prop_assert_eq!(r.position(), wire.len());
    }

    /// `FrameHeader::decode_prefix` gives exactly what `decode` gives on any bytes (a valid
    /// header, its length), and `None` whenever `decode` fails (incomplete or invalid).
    #[test]
    fn frame_header_decode_prefix_is_decode(v in version(), bytes in prop::collection::vec(any::<u8>(), 0..20)) {
        let wire = Bytes::from(bytes);
        let mut r = Reader::new(&wire);
        let full = FrameHeader::decode(&mut r, v).ok().map(|h| (h, r.position()));
        prop_assert_eq!(FrameHeader::decode_prefix(&wire, v), full);
    }

    /// `Group::decode_prefix` gives exactly what `decode` gives on any bytes (a GROUP, its
    /// length), and `None` whenever `decode` fails; valid GROUPs decode through it too.
    #[test]
    fn group_decode_prefix_is_decode(
        v in version(),
        bytes in prop::collection::vec(any::<u8>(), 0..24),
        id in any::<u64>(),
        seq in any::<u64>(),
    ) {
        let group = Group { subscribe_id: id >> 2, sequence: seq >> 2 };
        let mut valid = group.encode_to_vec(v).unwrap();
        valid.extend_from_slice(&bytes);
        for wire in [Bytes::from(bytes.clone()), Bytes::from(valid)] {
            let mut r = Reader::new(&wire);
            let full = Group::decode(&mut r, v).ok().map(|g| (g, r.position()));
            prop_assert_eq!(Group::decode_prefix(&wire), full);
        }
        let wire = Bytes::from(group.encode_to_vec(v).unwrap());
        prop_assert_eq!(Group::decode_prefix(&wire), Some((group, wire.len())));
    }

    /// `FrameHeader::encode_header_bytes` writes inline exactly the bytes `encode` writes,
    /// never more than `FrameHeader::MAX_LEN`, and refuses what `encode` refuses (a header
    /// of the other version's shape).
    #[test]
    fn frame_header_bytes_are_the_encoded_bytes((v, h) in version().prop_flat_map(|v| (Just(v), frame_header(v)))) {
        let inline = h.encode_header_bytes(v).unwrap();
        prop_assert!(inline.is_inline());
        prop_assert!(inline.len() <= FrameHeader::MAX_LEN);
        prop_assert_eq!(&inline[..], &h.encode_to_vec(v).unwrap()[..]);
        let other = if v == Lite04 { Lite05 } else { Lite04 };
        prop_assert_eq!(h.encode_header_bytes(other).err(), h.encode_to_vec(other).err());
    }

    /// Concatenated messages decode to the same values whatever the chunk splits.
    #[test]
    fn split_stream_decodes_the_same((v, items) in items_in_version(), cuts in prop::collection::vec(any::<Index>(), 0..10)) {
        let mut wire = Vec::new();
        for x in &items {
            wire.extend(encode(x, v));
        }
        let cuts: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        let whole = decode_in_chunks(&wire, &[], &items, v);
        let split = decode_in_chunks(&wire, &cuts, &items, v);
        prop_assert_eq!(&whole, &items);
        prop_assert_eq!(split, items);
    }

    /// A Group stream read the zero-copy way: STREAM_TYPE, GROUP, then per frame a
    /// FrameHeader and the payload taken separately once `payload_len` bytes are there.
    /// Any chunking gives back the frames that were written.
    #[test]
    fn group_stream_via_frame_headers(
        (v, frames) in version().prop_flat_map(|v| {
            let ts: BoxedStrategy<Option<i64>> =
                if v == Lite05 { delta().prop_map(Some).boxed() } else { Just(None).boxed() };
            (Just(v), prop::collection::vec((ts, payload(300)), 0..6))
        }),
        group in (qv(), qv()),
        cuts in prop::collection::vec(any::<Index>(), 0..10),
    ) {
        let frames: Vec<Frame> =
            frames.into_iter().map(|(timestamp_delta, payload)| Frame { timestamp_delta, payload }).collect();
        let header = Group { subscribe_id: group.0, sequence: group.1 };
        let mut wire = UniStreamType::Group.encode_to_vec(v).unwrap();
        wire.extend(header.encode_to_vec(v).unwrap());
        for f in &frames {
            wire.extend(f.encode_to_vec(v).unwrap());
        }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        points.push(wire.len());
        points.sort_unstable();

        // State: 0 = stream type, 1 = GROUP, 2 = frame header, 3 = payload of `want` bytes.
        let (mut state, mut want, mut ts) = (0u8, 0usize, None);
        let (mut pending, mut fed) = (Vec::<u8>::new(), 0usize);
        let mut got_group = None;
        let mut got = Vec::new();
        for point in points {
            pending.extend_from_slice(&wire[fed..point]);
            fed = point;
            loop {
                let buf = Bytes::from(pending.clone());
                let mut r = Reader::new(&buf);
                let step = match state {
                    0 => UniStreamType::decode(&mut r, v).map(|t| assert_eq!(t, UniStreamType::Group)),
                    1 => Group::decode(&mut r, v).map(|g| got_group = Some(g)),
                    2 => FrameHeader::decode(&mut r, v).map(|h| {
                        want = h.payload_len as usize;
                        ts = h.timestamp_delta;
                    }),
                    _ => r.bytes(want).map(|p| got.push(Frame { timestamp_delta: ts, payload: p })),
                };
                match step {
                    Ok(()) => {
                        pending.drain(..r.position());
                        state = match state { 0 => 1, 1 | 3 => 2, _ => 3 };
                    }
                    Err(DecodeError::Incomplete) => break,
                    Err(e) => panic!("{e}"),
                }
                if pending.is_empty() && state == 2 {
                    break;
                }
            }
        }
        prop_assert!(pending.is_empty());
        prop_assert_eq!(state, 2, "stream ends between frames");
        prop_assert_eq!(got_group, Some(header));
        prop_assert_eq!(got, frames);
    }

    /// Every strict prefix of an encoding is Incomplete: never a value, never Invalid.
    #[test]
    fn every_prefix_is_incomplete((v, items) in items_in_version()) {
        for x in items {
            let wire = encode(&x, v);
            for cut in 0..wire.len() {
                let prefix = Bytes::copy_from_slice(&wire[..cut]);
                let got = decode_like(&x, &mut Reader::new(&prefix), v);
                prop_assert_eq!(got, Err(DecodeError::Incomplete), "{:?} cut at {}", &x, cut);
            }
        }
    }

    /// lite-05 datagrams roundtrip from a bounded reader, payload to the end.
    #[test]
    fn datagram_roundtrip(subscribe_id in qv(), group in qv(), timestamp in qv(), payload in payload(1200)) {
        let d = Datagram { subscribe_id, group, timestamp, payload };
        match d.encode_to_vec(Lite05) {
            Ok(wire) => {
                prop_assert!(wire.len() <= MAX_DATAGRAM_LEN);
                let wire = Bytes::from(wire);
                prop_assert_eq!(Datagram::decode(&mut Reader::bounded(&wire), Lite05).unwrap(), d);
            }
            // Only a body over the limit may be refused.
            Err(e) => prop_assert_eq!(
                e,
                sluice_wire::EncodeError::Invalid(sluice_wire::Violation::DatagramTooLarge {
                    len: wire_len(&d),
                    max: MAX_DATAGRAM_LEN
                })
            ),
        }
    }

    /// Zigzag is a bijection between i64 and u64.
    #[test]
    fn zigzag_roundtrip(s in any::<i64>(), u in any::<u64>()) {
        prop_assert_eq!(zigzag_decode(zigzag_encode(s)), s);
        prop_assert_eq!(zigzag_encode(zigzag_decode(u)), u);
    }
}

fn wire_len(d: &Datagram) -> usize {
    let q = |v: u64| sluice_wire::varint::quic_len(v).unwrap();
    q(d.subscribe_id) + q(d.group) + q(d.timestamp) + d.payload.len()
}
