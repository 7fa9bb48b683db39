//! The draft-18 messages both codecs are measured on, built and encoded by sluice-wire.
//!
//! The peer codec's side (`peer/moqtap.rs`) decodes these bytes, and the equivalence test
//! checks field by field that it reads the same values and writes the same bytes, so the
//! benchmark compares equal work.

use bytes::Bytes;
use sluice_wire::moqt::fetch_stream::{FetchHeader, FetchItem, FetchObject, FetchObjectEncoder, GroupOrder};
use sluice_wire::moqt::filter::SubscriptionFilter;
use sluice_wire::moqt::kvp::Properties;
use sluice_wire::moqt::location::Location;
use sluice_wire::moqt::message::{Subscribe, SubscribeOk};
use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
use sluice_wire::moqt::params::{self, Parameter, Parameters};
use sluice_wire::moqt::subgroup::{SubgroupHeader, SubgroupId, SubgroupObject, SubgroupObjectEncoder};
use sluice_wire::{Encode, EncodeError, MoqtVersion};

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
