//! The draft-18 messages both codecs are measured on, built and encoded by sluice-wire, and
//! the sluice-wire side of each measured operation (the peer's side is `peer/moqtap.rs`).
//!
//! The peer codec's side (`peer/moqtap.rs`) decodes these bytes, and the equivalence test
//! checks field by field that it reads the same values and writes the same bytes, so the
//! benchmark compares equal work.

use bytes::{Bytes, BytesMut};
use sluice_wire::moqt::fetch_stream::{
    FetchHeader, FetchItem, FetchItemHeader, FetchObject, FetchObjectDecoder, FetchObjectEncoder, GroupOrder,
};
use sluice_wire::moqt::filter::SubscriptionFilter;
use sluice_wire::moqt::kvp::Properties;
use sluice_wire::moqt::location::Location;
use sluice_wire::moqt::message::{Subscribe, SubscribeOk};
use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
use sluice_wire::moqt::params::{self, Parameter, Parameters};
use sluice_wire::moqt::subgroup::{
    SubgroupHeader, SubgroupId, SubgroupObject, SubgroupObjectDecoder, SubgroupObjectEncoder,
};
use sluice_wire::{Decode, DecodeError, Encode, EncodeError, HeaderBytes, MoqtVersion, Reader};

/// The version every fixture is in.
pub const V18: MoqtVersion = MoqtVersion::Draft18;
/// Payload size of every object (the figure).
pub const PAYLOAD_LEN: usize = 1200;
/// Objects per subgroup stream and per fetch stream.
pub const OBJECTS: u64 = 30;
/// The group the subgroup stream carries.
pub const GROUP: u64 = 12_345;
/// The track alias of the subgroup stream and of SUBSCRIBE_OK.
pub const TRACK_ALIAS: u64 = 3;
/// The FETCH request the fetch stream answers.
pub const FETCH_REQUEST: u64 = 9;

/// Copies `v` into a `Bytes` that owns its allocation (so decoders can slice it).
pub fn shared(v: Vec<u8>) -> Bytes {
    Bytes::from(v)
}

/// SUBSCRIBE with a 3-field namespace and four parameters.
pub fn subscribe() -> Subscribe {
    Subscribe {
        request_id: 42,
        track: FullTrackName {
            namespace: TrackNamespace(vec![
                Bytes::from_static(b"example.net"),
                Bytes::from_static(b"live"),
                Bytes::from_static(b"room-7"),
            ]),
            name: Bytes::from_static(b"video-1080p"),
        },
        parameters: Parameters(vec![
            Parameter::Forward(true),
            Parameter::SubscriberPriority(96),
            Parameter::SubscriptionFilter(SubscriptionFilter::NextGroupStart),
            Parameter::GroupOrder(params::GroupOrder::Ascending),
        ]),
    }
}

/// SUBSCRIBE_OK with EXPIRES and LARGEST_OBJECT, no track properties.
pub fn subscribe_ok() -> SubscribeOk {
    SubscribeOk {
        track_alias: TRACK_ALIAS,
        parameters: Parameters(vec![
            Parameter::Expires(30_000),
            Parameter::LargestObject(Location { group: GROUP, object: 7 }),
        ]),
        track_properties: Properties::empty(),
    }
}

/// The subgroup header: explicit subgroup 0, priority 128, end of group, no properties.
pub fn subgroup_header() -> SubgroupHeader {
    SubgroupHeader {
        track_alias: TRACK_ALIAS,
        group_id: GROUP,
        subgroup_id: SubgroupId::Explicit(0),
        publisher_priority: Some(128),
        properties_present: false,
        end_of_group: true,
        first_object: false,
    }
}

/// The payload of every object (one shared allocation).
pub fn payload() -> Bytes {
    Bytes::from(vec![7u8; PAYLOAD_LEN])
}

/// Objects 0..[`OBJECTS`] of the subgroup, each with [`payload`].
pub fn subgroup_objects() -> Vec<SubgroupObject> {
    let payload = payload();
    (0..OBJECTS).map(|id| SubgroupObject::normal(id, payload.clone())).collect()
}

/// A whole subgroup stream: header, then [`OBJECTS`] objects with their payloads.
pub fn subgroup_stream() -> Result<Bytes, EncodeError> {
    let header = subgroup_header();
    let mut out = Vec::new();
    header.encode(&mut out, V18)?;
    let mut encoder = SubgroupObjectEncoder::new(&header, V18);
    for object in subgroup_objects() {
        encoder.encode(&mut out, &object)?;
    }
    Ok(shared(out))
}

/// The fetch objects: group [`GROUP`], subgroup 0, objects 0..[`OBJECTS`], priority 128.
pub fn fetch_objects() -> Vec<FetchObject> {
    let payload = payload();
    (0..OBJECTS)
        .map(|id| FetchObject {
            group_id: GROUP,
            subgroup_id: Some(0),
            object_id: id,
            publisher_priority: 128,
            properties: Properties::empty(),
            payload: payload.clone(),
        })
        .collect()
}

/// A whole fetch stream: FETCH_HEADER, then [`OBJECTS`] objects with their payloads.
pub fn fetch_stream() -> Result<Bytes, EncodeError> {
    let mut out = Vec::new();
    FetchHeader { request_id: FETCH_REQUEST }.encode(&mut out, V18)?;
    let mut encoder = FetchObjectEncoder::new(GroupOrder::Ascending, V18);
    for object in fetch_objects() {
        encoder.encode(&mut out, &FetchItem::Object(object))?;
    }
    Ok(shared(out))
}

/// Reads a subgroup stream: the header, then every object header, stepping over each
/// payload (the zero-copy read the core does). Returns a checksum of the object ids and
/// payload lengths.
pub fn walk_subgroup(bytes: &Bytes) -> Result<u64, DecodeError> {
    let mut r = Reader::new(bytes);
    let header = SubgroupHeader::decode(&mut r, V18)?;
    let mut decoder = SubgroupObjectDecoder::new(&header, V18);
    let mut sum = header.group_id;
    while !r.is_empty() {
        let object = decoder.decode_header(&mut r)?;
        r.skip(usize::try_from(object.payload_len).unwrap_or(usize::MAX))?;
        sum = sum.wrapping_add(object.object_id).wrapping_add(object.payload_len);
    }
    Ok(sum)
}

/// Writes a subgroup stream: the header, then each whole object with its payload copied
/// into `out` (the same work as the peer codec's writer; sluice's own path writes only the
/// header and hands the payload `Bytes` to the transport).
pub fn write_subgroup(
    header: &SubgroupHeader,
    objects: &[SubgroupObject],
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    header.encode(out, V18)?;
    let mut encoder = SubgroupObjectEncoder::new(header, V18);
    for object in objects {
        encoder.encode(out, object)?;
    }
    Ok(())
}

/// Sluice's own send path for a subgroup stream: SUBGROUP_HEADER and each object header are
/// encoded as [`HeaderBytes`], held inline (no allocation, no reference count), and each
/// payload is handed over as the `Bytes` it already is (a reference count, no copy).
/// `chunks` receives the (header, payload) pairs a sender hands its transport; written one
/// after the other they are the bytes of [`subgroup_stream`]. Previous contents of `chunks`
/// are dropped first, as a transport drops what it has written.
pub fn send_subgroup(
    header: &SubgroupHeader,
    objects: &[SubgroupObject],
    chunks: &mut Vec<(HeaderBytes, Bytes)>,
) -> Result<(), EncodeError> {
    chunks.clear();
    chunks.push((header.encode_header_bytes(V18)?, Bytes::new()));
    let mut encoder = SubgroupObjectEncoder::new(header, V18);
    for object in objects {
        chunks.push((encoder.encode_object_header_bytes(object)?, object.payload.clone()));
    }
    Ok(())
}

/// [`send_subgroup`] for payloads the caller gives away, as a publisher hands each payload
/// to its session: the `Bytes` move into the chunks, so no reference count is touched at
/// all (the clones in [`send_subgroup`], and their drops, are two atomic operations per
/// object). The same chunks.
pub fn send_subgroup_owned(
    header: &SubgroupHeader,
    objects: Vec<SubgroupObject>,
    chunks: &mut Vec<(HeaderBytes, Bytes)>,
) -> Result<(), EncodeError> {
    chunks.push((header.encode_header_bytes(V18)?, Bytes::new()));
    let mut encoder = SubgroupObjectEncoder::new(header, V18);
    for object in objects {
        chunks.push((encoder.encode_object_header_bytes(&object)?, object.payload));
    }
    Ok(())
}

/// Room below which [`send_subgroup_shared_block`] starts a new header block, and the block
/// size: the same scheme as the core's header encoder (`Shared::encode_header` in
/// `crates/sluice`).
const HEADER_MIN_ROOM: usize = 64;
const HEADER_BLOCK: usize = 4096;

/// The previous send path, still the core's (`Output::Write { header: Bytes, .. }`): each
/// header is encoded into `scratch` and cut off as its own `Bytes` (one allocation per 4 KiB
/// block, but an atomic reference-count increment per cut and a decrement per drop). Kept
/// to measure [`send_subgroup`] against; the same chunks byte for byte.
pub fn send_subgroup_shared_block(
    header: &SubgroupHeader,
    objects: &[SubgroupObject],
    scratch: &mut BytesMut,
    chunks: &mut Vec<(Bytes, Bytes)>,
) -> Result<(), EncodeError> {
    chunks.clear();
    let cut = |scratch: &mut BytesMut| {
        let chunk = scratch.split().freeze();
        if scratch.capacity() < HEADER_MIN_ROOM {
            scratch.reserve(HEADER_BLOCK);
        }
        chunk
    };
    if scratch.capacity() < HEADER_MIN_ROOM {
        scratch.reserve(HEADER_BLOCK);
    }
    header.encode(scratch, V18)?;
    chunks.push((cut(scratch), Bytes::new()));
    let mut encoder = SubgroupObjectEncoder::new(header, V18);
    for object in objects {
        encoder.encode_header(scratch, &object.header())?;
        chunks.push((cut(scratch), object.payload.clone()));
    }
    Ok(())
}

/// Reads a fetch stream: FETCH_HEADER, then every object header with its fields resolved,
/// stepping over each payload. Returns a checksum of the ids and payload lengths.
pub fn walk_fetch(bytes: &Bytes) -> Result<u64, DecodeError> {
    let mut r = Reader::new(bytes);
    let header = FetchHeader::decode(&mut r, V18)?;
    let mut decoder = FetchObjectDecoder::new(GroupOrder::Ascending, V18);
    let mut sum = header.request_id;
    while !r.is_empty() {
        if let FetchItemHeader::Object(object) = decoder.decode_header(&mut r)? {
            r.skip(usize::try_from(object.payload_len).unwrap_or(usize::MAX))?;
            sum = sum
                .wrapping_add(object.group_id)
                .wrapping_add(object.object_id)
                .wrapping_add(object.payload_len);
        }
    }
    Ok(sum)
}

/// The headers of [`fetch_objects`], as the encoder takes them.
pub fn fetch_headers() -> Vec<FetchItemHeader> {
    fetch_objects().iter().map(|o| FetchItemHeader::Object(o.header())).collect()
}

/// Writes FETCH_HEADER and every object header (no payloads).
pub fn write_fetch_headers(headers: &[FetchItemHeader], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    FetchHeader { request_id: FETCH_REQUEST }.encode(out, V18)?;
    let mut encoder = FetchObjectEncoder::new(GroupOrder::Ascending, V18);
    for header in headers {
        encoder.encode_header(out, header)?;
    }
    Ok(())
}
