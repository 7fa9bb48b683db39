//! The inline header encoders (`SubgroupHeader::encode_header_bytes`,
//! `SubgroupObjectEncoder::encode_header_bytes`) write the very bytes of the buffer encoders,
//! for every SUBGROUP_HEADER type and header mode, refuse what they refuse, and what they
//! write decodes back to the objects encoded.

use bytes::Bytes;
use proptest::prelude::*;
use sluice_wire::header_bytes::INLINE_HEADER_CAP;
use sluice_wire::moqt::kvp::{KeyValue, Properties};
use sluice_wire::moqt::object::{MAX_OBJECT_PAYLOAD_LEN, ObjectStatus};
use sluice_wire::moqt::subgroup::{
    MAX_OBJECT_HEADER_LEN_WITHOUT_PROPERTIES, SubgroupHeader, SubgroupId, SubgroupObject,
    SubgroupObjectDecoder, SubgroupObjectEncoder, SubgroupObjectHeader, SubgroupType,
};
use sluice_wire::{Decode, Encode, EncodeError, MoqtVersion, Reader, Violation};

const V: MoqtVersion = MoqtVersion::Draft18;

/// The header whose type byte is `ty`, with every varint field at `value`.
fn header_of_type(ty: SubgroupType, value: u64) -> SubgroupHeader {
    SubgroupHeader {
        track_alias: value,
        group_id: value,
        subgroup_id: match ty.subgroup_id_mode() {
            0 => SubgroupId::Zero,
            1 => SubgroupId::FirstObject,
            _ => SubgroupId::Explicit(value),
        },
        publisher_priority: if ty.default_priority() { None } else { Some(value as u8) },
        properties_present: ty.has_properties(),
        end_of_group: ty.end_of_group(),
        first_object: ty.first_object(),
    }
}

/// Encodes `objects` both ways, checks the header bytes agree one by one, and returns the
/// stream the inline form gives (header, then each (header bytes, payload)).
fn encode_both_ways(header: &SubgroupHeader, objects: &[SubgroupObject]) -> Vec<u8> {
    let inline = header.encode_header_bytes(V).unwrap();
    assert!(inline.is_inline());
    assert_eq!(&inline[..], &header.encode_to_vec(V).unwrap()[..]);
    let mut stream = inline.to_vec();
    let (mut a, mut b) = (SubgroupObjectEncoder::new(header, V), SubgroupObjectEncoder::new(header, V));
    for object in objects {
        let h = object.header();
        let mut expected = Vec::new();
        a.encode_header(&mut expected, &h).unwrap();
        let got = b.encode_header_bytes(&h).unwrap();
        assert_eq!(&got[..], &expected[..], "object {}", object.object_id);
        if h.properties.is_empty() || !header.properties_present {
            assert!(got.is_inline(), "a header without properties is inline");
            assert!(got.len() <= MAX_OBJECT_HEADER_LEN_WITHOUT_PROPERTIES);
        }
        if !got.is_inline() {
            assert!(header.properties_present && !h.properties.is_empty(), "only properties spill");
        }
        assert_eq!(a.prev_object_id(), b.prev_object_id());
        stream.extend_from_slice(&got);
        stream.extend_from_slice(&object.payload);
    }
    stream
}

fn decode_stream(bytes: Vec<u8>) -> (SubgroupHeader, Vec<SubgroupObject>) {
    let bytes = Bytes::from(bytes);
    let mut r = Reader::new(&bytes);
    let header = SubgroupHeader::decode(&mut r, V).unwrap();
    let mut dec = SubgroupObjectDecoder::new(&header, V);
    let mut objects = Vec::new();
    while !r.is_empty() {
        objects.push(dec.decode(&mut r).unwrap());
    }
    (header, objects)
}

#[test]
fn every_subgroup_type_encodes_inline_to_the_buffer_encoders_bytes_and_round_trips() {
    let props = Properties::from_pairs(&[KeyValue::varint(0x3c, 9)]).unwrap();
    let mut types = 0;
    for ty in SubgroupType::all() {
        for value in [0, 127, 128, 16_383, 16_384, u64::MAX] {
            let header = header_of_type(ty, value);
            let mut objects = vec![
                SubgroupObject::normal(value.min(u64::MAX - 100), vec![1u8; 3]),
                SubgroupObject::normal(value.min(u64::MAX - 100) + 1, vec![2u8; 20_000]),
                SubgroupObject::status(value.min(u64::MAX - 100) + 90, ObjectStatus::EndOfGroup),
            ];
            if header.properties_present {
                objects[0].properties = props.clone();
            }
            let stream = encode_both_ways(&header, &objects);
            assert_eq!(decode_stream(stream), (header, objects));
        }
        types += 1;
    }
    assert_eq!(types, 48);
}

#[test]
fn properties_too_long_to_be_inline_get_their_own_allocation_with_the_same_bytes() {
    let header = header_of_type(SubgroupType::from_u64(0x11).unwrap(), 5);
    let long = Properties::from_pairs(&[KeyValue::bytes(0x39, vec![0xee; 40])]).unwrap();
    let mut object = SubgroupObject::normal(1, vec![3u8; 10]);
    object.properties = long;
    let mut expected = Vec::new();
    SubgroupObjectEncoder::new(&header, V).encode_header(&mut expected, &object.header()).unwrap();
    let got = SubgroupObjectEncoder::new(&header, V).encode_header_bytes(&object.header()).unwrap();
    assert!(!got.is_inline());
    assert!(expected.len() > INLINE_HEADER_CAP);
    assert_eq!(&got[..], &expected[..]);
    let stream = encode_both_ways(&header, &[object.clone()]);
    assert_eq!(decode_stream(stream).1, vec![object]);
}

#[test]
fn refusals_match_the_buffer_encoder_and_leave_the_state_untouched() {
    let plain = header_of_type(SubgroupType::from_u64(0x10).unwrap(), 1);
    let with_props = header_of_type(SubgroupType::from_u64(0x11).unwrap(), 1);
    let props = Properties::from_pairs(&[KeyValue::varint(2, 1)]).unwrap();
    let cases: Vec<(SubgroupHeader, Option<u64>, SubgroupObjectHeader, Violation)> = vec![
        (
            plain,
            Some(5),
            SubgroupObjectHeader {
                object_id: 5,
                properties: Properties::empty(),
                status: ObjectStatus::Normal,
                payload_len: 1,
            },
            Violation::SubgroupObjectIdNotIncreasing { prev: 5, object_id: 5 },
        ),
        (
            plain,
            None,
            SubgroupObjectHeader {
                object_id: 0,
                properties: props.clone(),
                status: ObjectStatus::Normal,
                payload_len: 1,
            },
            Violation::PropertiesNotAllowedBySubgroupType,
        ),
        (
            with_props,
            None,
            SubgroupObjectHeader {
                object_id: 0,
                properties: props,
                status: ObjectStatus::EndOfGroup,
                payload_len: 0,
            },
            Violation::PropertiesOnNonNormalObject,
        ),
        (
            plain,
            None,
            SubgroupObjectHeader {
                object_id: 0,
                properties: Properties::empty(),
                status: ObjectStatus::EndOfTrack,
                payload_len: 4,
            },
            Violation::PayloadOnNonNormalObject,
        ),
        (
            plain,
            Some(2),
            SubgroupObjectHeader {
                object_id: 3,
                properties: Properties::empty(),
                status: ObjectStatus::Normal,
                payload_len: MAX_OBJECT_PAYLOAD_LEN + 1,
            },
            Violation::LengthTooLarge {
                field: "object payload",
                claimed: MAX_OBJECT_PAYLOAD_LEN + 1,
                max: MAX_OBJECT_PAYLOAD_LEN,
            },
        ),
    ];
    for (header, prev, object, violation) in cases {
        let mut a = SubgroupObjectEncoder::new(&header, V);
        let mut b = SubgroupObjectEncoder::new(&header, V);
        if let Some(prev) = prev {
            let first = SubgroupObject::normal(prev, vec![0u8]).header();
            a.encode_header(&mut Vec::new(), &first).unwrap();
            b.encode_header_bytes(&first).unwrap();
        }
        let expected = a.encode_header(&mut Vec::new(), &object).unwrap_err();
        assert_eq!(expected, EncodeError::from(violation));
        assert_eq!(b.encode_header_bytes(&object).unwrap_err(), expected);
        assert_eq!(b.prev_object_id(), prev, "a refused header changes nothing");
    }
}

fn edge_u64() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), Just(127), Just(128), Just(16_383), Just(16_384), Just(u64::MAX), any::<u64>()]
}

proptest! {
    #[test]
    fn header_bytes_equal_the_buffer_encoders_and_round_trip(
        ty in prop::sample::select(SubgroupType::all().collect::<Vec<_>>()),
        value in edge_u64(),
        first in 0u64..1_000_000,
        specs in prop::collection::vec(
            (0u64..300, prop::sample::select(ObjectStatus::ALL.to_vec()), 0usize..50, 0usize..40),
            0..8,
        ),
    ) {
        let header = header_of_type(ty, value);
        let mut objects = Vec::new();
        let mut id = first;
        for (gap, status, payload_len, props_len) in specs {
            let normal = status == ObjectStatus::Normal;
            let mut object = if normal {
                SubgroupObject::normal(id, vec![0x5a; payload_len])
            } else {
                SubgroupObject::status(id, status)
            };
            if normal && header.properties_present && props_len > 0 {
                object.properties =
                    Properties::from_pairs(&[KeyValue::bytes(0x41, vec![1u8; props_len])]).unwrap();
            }
            objects.push(object);
            id += gap + 1;
        }
        let stream = encode_both_ways(&header, &objects);
        prop_assert_eq!(decode_stream(stream), (header, objects));
    }
}

proptest! {
    /// Header fields over their whole range (Object IDs up to u64::MAX, so deltas of every
    /// vi64 length, and payload lengths up to and past MAX_OBJECT_PAYLOAD_LEN): the inline
    /// encoder writes, refuses and remembers exactly what the buffer encoder does.
    #[test]
    fn header_fields_over_their_whole_range_match_the_buffer_encoder(
        ty in prop::sample::select(SubgroupType::all().collect::<Vec<_>>()),
        shifts in prop::collection::vec((0u32..64, any::<u64>(), 0u32..64, any::<u64>()), 1..6),
        statuses in prop::collection::vec(prop::sample::select(ObjectStatus::ALL.to_vec()), 6),
    ) {
        let header = header_of_type(ty, 1);
        let (mut a, mut b) = (SubgroupObjectEncoder::new(&header, V), SubgroupObjectEncoder::new(&header, V));
        for ((id_shift, id, len_shift, len), status) in shifts.into_iter().zip(statuses) {
            // Shifted so every vi64 length is as likely as any other.
            let payload_len = (len >> len_shift) >> 28;
            let payload_len = if status == ObjectStatus::Normal { payload_len } else { payload_len & 1 };
            let h = SubgroupObjectHeader {
                object_id: id >> id_shift,
                properties: Properties::empty(),
                status,
                payload_len,
            };
            let mut expected = Vec::new();
            let want = a.encode_header(&mut expected, &h).map(|()| expected);
            let got = b.encode_header_bytes(&h).map(|bytes| bytes.to_vec());
            prop_assert_eq!(got, want);
            prop_assert_eq!(a.prev_object_id(), b.prev_object_id());
        }
    }
}

/// The register-built header (delta and payload length both under 0x4000, a payload) and
/// its fallbacks (a longer field, no payload) across every 1-/2-/3-byte boundary: the same
/// bytes and the same remembered Object ID as the buffer encoder.
#[test]
fn short_headers_and_their_fallbacks_match_the_buffer_encoder_at_every_boundary() {
    let edges = [0u64, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0x1f_ffff, 0x20_0000];
    for ty in SubgroupType::all() {
        let header = header_of_type(ty, 1);
        for &delta in &edges {
            for &payload_len in &edges {
                let (mut a, mut b) =
                    (SubgroupObjectEncoder::new(&header, V), SubgroupObjectEncoder::new(&header, V));
                let first = SubgroupObjectHeader {
                    object_id: 3,
                    properties: Properties::empty(),
                    status: ObjectStatus::Normal,
                    payload_len: 1,
                };
                let h = SubgroupObjectHeader { object_id: 4 + delta, payload_len, ..first.clone() };
                for h in [first, h] {
                    let mut expected = Vec::new();
                    a.encode_header(&mut expected, &h).unwrap();
                    assert_eq!(
                        b.encode_header_bytes(&h).unwrap().to_vec(),
                        expected,
                        "{delta} {payload_len}"
                    );
                    assert_eq!(a.prev_object_id(), b.prev_object_id());
                }
            }
        }
    }
}
