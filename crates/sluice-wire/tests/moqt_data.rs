//! MOQT draft-18 data plane: stream types, SUBGROUP_HEADER and subgroup objects,
//! FETCH_HEADER and fetch objects, OBJECT_DATAGRAM, padding.
//!
//! Vectors are hand-derived from draft-ietf-moq-transport-18 §"Data Streams and Datagrams"
//! and §"Unidirectional Stream Types" (field breakdowns in the comments), plus the draft's
//! own §"Examples".

use bytes::Bytes;
use proptest::prelude::*;
use sluice_wire::moqt::datagram::{Datagram, DatagramBody, ObjectDatagram, all_datagram_types};
use sluice_wire::moqt::fetch_stream::{
    EndOfRange, EndOfRangeKind, FetchHeader, FetchItem, FetchItemHeader, FetchObject, FetchObjectDecoder,
    FetchObjectEncoder, GroupOrder,
};
use sluice_wire::moqt::kvp::{KeyValue, Properties};
use sluice_wire::moqt::object::{MAX_OBJECT_PAYLOAD_LEN, ObjectStatus};
use sluice_wire::moqt::padding::{self, PaddingDatagram};
use sluice_wire::moqt::stream_type::UniStreamType;
use sluice_wire::moqt::subgroup::{
    SubgroupHeader, SubgroupId, SubgroupObject, SubgroupObjectDecoder, SubgroupObjectEncoder,
    SubgroupObjectHeader, SubgroupType,
};
use sluice_wire::{Decode, DecodeError, Encode, EncodeError, MoqtVersion, Reader, Violation};

const V: MoqtVersion = MoqtVersion::Draft18;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn props(pairs: &[KeyValue]) -> Properties {
    Properties::from_pairs(pairs).unwrap()
}

fn inv(v: Violation) -> DecodeError {
    DecodeError::Invalid(v)
}

/// Decodes `T` from exactly `h` and re-encodes it to exactly `h`.
fn check_vector<
    T: Decode<Version = MoqtVersion> + Encode<Version = MoqtVersion> + PartialEq + std::fmt::Debug,
>(
    h: &str,
    value: &T,
) {
    let bytes = Bytes::from(hex(h));
    assert_eq!(&T::decode_exact(&bytes, V).unwrap(), value, "decode {h}");
    assert_eq!(value.encode_to_vec(V).unwrap(), bytes.to_vec(), "encode {value:?}");
}

/// Decodes a whole subgroup stream (header then objects to the end).
fn decode_subgroup_stream(bytes: &[u8]) -> (SubgroupHeader, Vec<SubgroupObject>) {
    let buf = Bytes::copy_from_slice(bytes);
    let mut r = Reader::new(&buf);
    let header = SubgroupHeader::decode(&mut r, V).unwrap();
    let mut dec = SubgroupObjectDecoder::new(&header, V);
    let mut objects = Vec::new();
    while !r.is_empty() {
        objects.push(dec.decode(&mut r).unwrap());
    }
    (header, objects)
}

fn encode_subgroup_stream(header: &SubgroupHeader, objects: &[SubgroupObject]) -> Vec<u8> {
    let mut out = header.encode_to_vec(V).unwrap();
    let mut enc = SubgroupObjectEncoder::new(header, V);
    for o in objects {
        enc.encode(&mut out, o).unwrap();
    }
    out
}

fn decode_fetch_stream(bytes: &[u8], order: GroupOrder) -> (FetchHeader, Vec<FetchItem>) {
    let buf = Bytes::copy_from_slice(bytes);
    let mut r = Reader::new(&buf);
    let header = FetchHeader::decode(&mut r, V).unwrap();
    let mut dec = FetchObjectDecoder::new(order, V);
    let mut items = Vec::new();
    while !r.is_empty() {
        items.push(dec.decode(&mut r).unwrap());
    }
    (header, items)
}

fn encode_fetch_stream(header: &FetchHeader, order: GroupOrder, items: &[FetchItem]) -> Vec<u8> {
    let mut out = header.encode_to_vec(V).unwrap();
    let mut enc = FetchObjectEncoder::new(order, V);
    for i in items {
        enc.encode(&mut out, i).unwrap();
    }
    out
}

fn fobj(group_id: u64, subgroup_id: Option<u64>, object_id: u64, prio: u8, payload: &[u8]) -> FetchItem {
    FetchItem::Object(FetchObject {
        group_id,
        subgroup_id,
        object_id,
        publisher_priority: prio,
        properties: Properties::empty(),
        payload: Bytes::copy_from_slice(payload),
    })
}

// ------------------------------------------------------------------ stream types

/// §"Unidirectional Stream Types": 0x05 FETCH_HEADER, 0b0XX1XXXX SUBGROUP_HEADER, 0x2F00
/// SETUP, 0x132B3E28 PADDING; all as vi64.
#[test]
fn uni_stream_type_vectors() {
    // 0x05 < 128: one byte.
    check_vector("05", &UniStreamType::Fetch);
    // 0x2F00 needs 14 bits: 2-byte form 10xxxxxx -> 0x8000 | 0x2F00 = af 00.
    check_vector("af00", &UniStreamType::Control);
    // 0x132B3E28 needs 29 bits (> 28): 5-byte form 11110xxx + 4 bytes -> f0 13 2b 3e 28.
    check_vector("f0132b3e28", &UniStreamType::Padding);
    for t in SubgroupType::all() {
        check_vector(&format!("{:02x}", t.bits()), &UniStreamType::Subgroup(t));
    }
}

// ------------------------------------------------------------------ subgroup header

/// The valid SUBGROUP_HEADER types, exactly as listed in §"Subgroup Header".
fn spec_subgroup_types() -> Vec<u8> {
    let mut v = Vec::new();
    for base in [0x10u8, 0x18, 0x30, 0x38, 0x50, 0x58, 0x70, 0x78] {
        v.extend(base..=base + 5);
    }
    v
}

#[test]
fn subgroup_type_set_is_exactly_the_drafts_list() {
    let ours: Vec<u8> = SubgroupType::all().map(|t| t.bits()).collect();
    assert_eq!(ours, spec_subgroup_types());
    assert_eq!(ours.len(), 48);
}

/// Every valid type: header { alias 2, group 10, [subgroup 7], [priority 0x80] }.
/// Bytes = type, 02, 0a, then 07 iff mode (type & 6) >> 1 == 2, then 80 iff bit 0x20 clear.
#[test]
fn subgroup_header_vector_for_every_type() {
    for t in spec_subgroup_types() {
        let mode = (t & 0x06) >> 1;
        let header = SubgroupHeader {
            track_alias: 2,
            group_id: 10,
            subgroup_id: match mode {
                0 => SubgroupId::Zero,
                1 => SubgroupId::FirstObject,
                _ => SubgroupId::Explicit(7),
            },
            publisher_priority: if t & 0x20 == 0 { Some(0x80) } else { None },
            properties_present: t & 0x01 != 0,
            end_of_group: t & 0x08 != 0,
            first_object: t & 0x40 != 0,
        };
        let mut h = format!("{t:02x}020a");
        if mode == 2 {
            h.push_str("07");
        }
        if t & 0x20 == 0 {
            h.push_str("80");
        }
        assert_eq!(header.subgroup_type().bits(), t);
        check_vector(&h, &header);
    }
}

#[test]
fn subgroup_header_hand_vectors() {
    // 0x10: no bits but the fixed one; subgroup 0 (mode 00); priority byte present.
    // 10 | alias 00 | group 00 | priority 80
    check_vector(
        "10 00 00 80",
        &SubgroupHeader {
            track_alias: 0,
            group_id: 0,
            subgroup_id: SubgroupId::Zero,
            publisher_priority: Some(0x80),
            properties_present: false,
            end_of_group: false,
            first_object: false,
        },
    );
    // 0x12: mode 01 (subgroup = first object id, absent).
    // 12 | alias 01 | group 02 | priority 05
    check_vector(
        "12 01 02 05",
        &SubgroupHeader {
            track_alias: 1,
            group_id: 2,
            subgroup_id: SubgroupId::FirstObject,
            publisher_priority: Some(5),
            properties_present: false,
            end_of_group: false,
            first_object: false,
        },
    );
    // 0x39 = 0x20 default priority | 0x10 | 0x08 end of group | 0x01 properties; mode 00.
    // 39 | alias 3f (63, 1 byte) | group 8080 (128, 2-byte form)
    check_vector(
        "39 3f 8080",
        &SubgroupHeader {
            track_alias: 63,
            group_id: 128,
            subgroup_id: SubgroupId::Zero,
            publisher_priority: None,
            properties_present: true,
            end_of_group: true,
            first_object: false,
        },
    );
    // 0x7D = 0x40 first object | 0x20 | 0x10 | 0x08 | 0x04 (mode 10) | 0x01.
    // 7d | alias 300 = 0x8000|0x012c = 812c | group 16384 = 0xc00000|0x4000 = c04000 |
    // subgroup 2^64-1 = ff + 8 x ff
    check_vector(
        "7d 812c c04000 ffffffffffffffffff",
        &SubgroupHeader {
            track_alias: 300,
            group_id: 16384,
            subgroup_id: SubgroupId::Explicit(u64::MAX),
            publisher_priority: None,
            properties_present: true,
            end_of_group: true,
            first_object: true,
        },
    );
}

// ------------------------------------------------------------------ subgroup objects

/// §"Examples", first: type 0x14 (mode 10, priority present), alias 2, group 0, subgroup 0,
/// priority 0; objects 0 "abcd" and 1 "efgh", each Object ID Delta 0.
#[test]
fn draft_example_subgroup_stream() {
    let bytes = hex("14 02 00 00 00   00 04 61626364   00 04 65666768");
    let header = SubgroupHeader {
        track_alias: 2,
        group_id: 0,
        subgroup_id: SubgroupId::Explicit(0),
        publisher_priority: Some(0),
        properties_present: false,
        end_of_group: false,
        first_object: false,
    };
    let objects = vec![SubgroupObject::normal(0, &b"abcd"[..]), SubgroupObject::normal(1, &b"efgh"[..])];
    assert_eq!(decode_subgroup_stream(&bytes), (header, objects.clone()));
    assert_eq!(encode_subgroup_stream(&header, &objects), bytes);
}

/// §"Examples", second: type 0x35 (properties, mode 10, default priority), alias 2, group 0,
/// subgroup 0. The first object has two properties: type 4 = 2186796243 and type 77 =
/// "traceID:123456".
///
/// The draft's "Properties Length = 33" and "Length = 21" do not match its own values
/// ("traceID:123456" is 14 bytes); the bytes below use the real lengths:
/// `04` (type 4) `f08257dcd3` (2186796243 = 0x8257dcd3, 32 bits: 5-byte vi64) = 6 bytes;
/// `49` (delta 77 - 4 = 73) `0e` (14) + 14 bytes = 16 bytes; Properties Length 22 = 0x16.
#[test]
fn draft_example_subgroup_stream_with_properties() {
    let bytes = hex("35 02 00 00
         00 16 04f08257dcd3 490e747261636549443a313233343536 04 61626364
         00 00 04 65666768");
    let header = SubgroupHeader {
        track_alias: 2,
        group_id: 0,
        subgroup_id: SubgroupId::Explicit(0),
        publisher_priority: None,
        properties_present: true,
        end_of_group: false,
        first_object: false,
    };
    let first = SubgroupObject {
        properties: props(&[KeyValue::varint(4, 2_186_796_243), KeyValue::bytes(77, &b"traceID:123456"[..])]),
        ..SubgroupObject::normal(0, &b"abcd"[..])
    };
    let objects = vec![first, SubgroupObject::normal(1, &b"efgh"[..])];
    assert_eq!(decode_subgroup_stream(&bytes), (header, objects.clone()));
    assert_eq!(encode_subgroup_stream(&header, &objects), bytes);
}

/// Every object form on a stream without properties (type 0x10: alias 1, group 2, prio 3):
/// * id 1000 "abcd": delta 1000 (first object: id = delta) = 0x8000|0x3e8 = 83e8, len 04
/// * id 1005, empty Normal: delta 1005-1000-1 = 4, len 00, status 00 (explicit Normal)
/// * id 1006, End of Group: delta 0, len 00, status 03
/// * id 1010, End of Track: delta 3, len 00, status 04
#[test]
fn subgroup_object_forms_without_properties() {
    let header = SubgroupHeader {
        track_alias: 1,
        group_id: 2,
        subgroup_id: SubgroupId::Zero,
        publisher_priority: Some(3),
        properties_present: false,
        end_of_group: false,
        first_object: false,
    };
    let bytes = hex("10 01 02 03   83e8 04 61626364   04 00 00   00 00 03   03 00 04");
    let objects = vec![
        SubgroupObject::normal(1000, &b"abcd"[..]),
        SubgroupObject::status(1005, ObjectStatus::Normal),
        SubgroupObject::status(1006, ObjectStatus::EndOfGroup),
        SubgroupObject::status(1010, ObjectStatus::EndOfTrack),
    ];
    assert_eq!(decode_subgroup_stream(&bytes), (header, objects.clone()));
    assert_eq!(encode_subgroup_stream(&header, &objects), bytes);
}

/// Type 0x11 (properties present, mode 00, priority 0x40); alias 1, group 2:
/// * id 0, property type 2 = 5 (`02 05`), payload "x": delta 00, props len 02, 0205, len 01, 78
/// * id 1, End of Track, no properties: delta 00, props len 00, len 00, status 04
#[test]
fn subgroup_object_forms_with_properties() {
    let header = SubgroupHeader {
        track_alias: 1,
        group_id: 2,
        subgroup_id: SubgroupId::Zero,
        publisher_priority: Some(0x40),
        properties_present: true,
        end_of_group: false,
        first_object: false,
    };
    let bytes = hex("11 01 02 40   00 02 0205 01 78   00 00 00 04");
    let objects = vec![
        SubgroupObject {
            properties: props(&[KeyValue::varint(2, 5)]),
            ..SubgroupObject::normal(0, &b"x"[..])
        },
        SubgroupObject::status(1, ObjectStatus::EndOfTrack),
    ];
    assert_eq!(decode_subgroup_stream(&bytes), (header, objects.clone()));
    assert_eq!(encode_subgroup_stream(&header, &objects), bytes);
}

#[test]
fn subgroup_payload_is_a_zero_copy_slice_and_header_needs_no_payload() {
    let header = SubgroupHeader {
        track_alias: 1,
        group_id: 2,
        subgroup_id: SubgroupId::FirstObject,
        publisher_priority: None,
        properties_present: false,
        end_of_group: false,
        first_object: false,
    };
    // Object 7 with a 5-byte payload of which only 2 bytes have arrived.
    let buf = Bytes::from(hex("07 05 6162"));
    let mut dec = SubgroupObjectDecoder::new(&header, V);
    let mut r = Reader::new(&buf);
    assert_eq!(dec.clone().decode(&mut r), Err(DecodeError::Incomplete));
    let mut r = Reader::new(&buf);
    let h = dec.decode_header(&mut r).unwrap();
    assert_eq!(
        h,
        SubgroupObjectHeader {
            object_id: 7,
            properties: Properties::empty(),
            status: ObjectStatus::Normal,
            payload_len: 5
        }
    );
    assert_eq!(r.position(), 2);
    assert_eq!(header.subgroup_id.resolve(dec.prev_object_id()), Some(7));

    let full = Bytes::from(hex("07 05 6162636465"));
    let mut r = Reader::new(&full);
    let o = SubgroupObjectDecoder::new(&header, V).decode(&mut r).unwrap();
    assert_eq!(o.payload.as_ptr(), full[2..].as_ptr());
}

// ------------------------------------------------------------------ fetch

/// FETCH_HEADER: type 05, request id 7 -> `05 07`; request id 2^64-1 -> `05 ff ff..ff`.
#[test]
fn fetch_header_vectors() {
    check_vector("05 07", &FetchHeader { request_id: 7 });
    check_vector("05 ffffffffffffffffff", &FetchHeader { request_id: u64::MAX });
}

/// An Ascending fetch stream exercising every flag and both markers (§"Flags",
/// §"End of Range"). Field order: flags, [group delta], [subgroup], [object delta],
/// [priority], [properties], payload length, payload.
#[test]
fn fetch_stream_vector_ascending() {
    let bytes = hex("05 07
         1c 05 00 80 02 6162
         00 01 63
         37 03 03 40 02 0201 00
         02 01 64
         808c 01 02
         40 01 65
         810c 01 00
         0c 00 00 01 66");
    // 1c = group 08 | object 04 | priority 10, mode 0: group 5 (first: absolute), object 0,
    //      priority 0x80, len 2 "ab".
    // 00: same group, subgroup 0, object prior+1 = 1, prior priority; len 1 "c".
    // 37 = mode 3 | object 04 | priority 10 | properties 20: subgroup 3, object 1 + 3 = 4,
    //      priority 0x40, props len 2 (type 2 = 1), len 0 (empty Normal object).
    // 02 = mode 2: subgroup 3 + 1 = 4, object 5, priority 0x40; len 1 "d".
    // 808c (0x8C as 2-byte vi64) End of Non-Existent Range: group 5 + 1 + 1 = 7, object 2.
    // 40 = datagram: no subgroup; group 7 (marker's), object 2 + 1 = 3, priority 0x40 (last
    //      real object's); len 1 "e".
    // 810c (0x10C) End of Unknown Range: group 7 + 1 + 1 = 9, object 0.
    // 0c = group | object, mode 0: group 9 + 0 + 1 = 10, object 0 (absolute), priority 0x40.
    let items = vec![
        fobj(5, Some(0), 0, 0x80, b"ab"),
        fobj(5, Some(0), 1, 0x80, b"c"),
        FetchItem::Object(FetchObject {
            group_id: 5,
            subgroup_id: Some(3),
            object_id: 4,
            publisher_priority: 0x40,
            properties: props(&[KeyValue::varint(2, 1)]),
            payload: Bytes::new(),
        }),
        fobj(5, Some(4), 5, 0x40, b"d"),
        FetchItem::EndOfRange(EndOfRange { kind: EndOfRangeKind::NonExistent, group_id: 7, object_id: 2 }),
        fobj(7, None, 3, 0x40, b"e"),
        FetchItem::EndOfRange(EndOfRange { kind: EndOfRangeKind::Unknown, group_id: 9, object_id: 0 }),
        fobj(10, Some(0), 0, 0x40, b"f"),
    ];
    let header = FetchHeader { request_id: 7 };
    assert_eq!(decode_fetch_stream(&bytes, GroupOrder::Ascending), (header, items.clone()));
    assert_eq!(encode_fetch_stream(&header, GroupOrder::Ascending, &items), bytes);
}

/// Descending: group = prior - (delta + 1).
/// 1f = mode 3 | object | group | priority: group 10, subgroup 1, object 0, priority 1, len 0.
/// 0d = mode 1 | object | group: group 10 - (1 + 1) = 8, subgroup prior 1, object 0 absolute,
///      len 1 "z".
#[test]
fn fetch_stream_vector_descending() {
    let bytes = hex("05 00   1f 0a 01 00 01 00   0d 01 00 01 7a");
    let items = vec![fobj(10, Some(1), 0, 1, b""), fobj(8, Some(1), 0, 1, b"z")];
    let header = FetchHeader { request_id: 0 };
    assert_eq!(decode_fetch_stream(&bytes, GroupOrder::Descending), (header, items.clone()));
    assert_eq!(encode_fetch_stream(&header, GroupOrder::Descending, &items), bytes);
}

/// With the datagram bit the subgroup mode bits are ignored (§"Flags"), even on the first
/// object where mode 1 would otherwise refer to a missing prior.
#[test]
fn fetch_datagram_bit_ignores_mode_bits() {
    // 5d = 40 | 10 | 08 | 04 | 01: group 3, object 4, priority 9, len 0.
    let buf = Bytes::from(hex("5d 03 04 09 00"));
    let mut dec = FetchObjectDecoder::new(GroupOrder::Ascending, V);
    assert_eq!(dec.decode(&mut Reader::new(&buf)).unwrap(), fobj(3, None, 4, 9, b""));
}

#[test]
fn fetch_header_only_decode_needs_no_payload() {
    let buf = Bytes::from(hex("1c 05 00 80 0a 61"));
    let mut dec = FetchObjectDecoder::new(GroupOrder::Ascending, V);
    assert_eq!(dec.clone().decode(&mut Reader::new(&buf)), Err(DecodeError::Incomplete));
    let mut r = Reader::new(&buf);
    match dec.decode_header(&mut r).unwrap() {
        FetchItemHeader::Object(h) => {
            assert_eq!((h.group_id, h.object_id, h.payload_len), (5, 0, 10));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.position(), 5);
}

// ------------------------------------------------------------------ datagrams

/// §"Object Datagram" valid types: 0x00..0x0F, 0x20, 0x21, 0x24, 0x25, 0x28, 0x29, 0x2C, 0x2D.
fn spec_datagram_types() -> Vec<u8> {
    let mut v: Vec<u8> = (0x00..=0x0f).collect();
    v.extend([0x20, 0x21, 0x24, 0x25, 0x28, 0x29, 0x2c, 0x2d]);
    v
}

#[test]
fn datagram_type_set_is_exactly_the_drafts_list() {
    assert_eq!(all_datagram_types().collect::<Vec<_>>(), spec_datagram_types());
}

/// Every valid type with alias 1, group 2 and, per bit:
/// 0x04 clear -> object 9 (`09`); 0x08 clear -> priority 0xaa (`aa`); 0x01 -> properties
/// type 2 = 7 (`02 0207`); 0x20 -> status Normal (`00`), else payload `ff`.
#[test]
fn object_datagram_vector_for_every_type() {
    for t in spec_datagram_types() {
        let mut h = format!("{t:02x}0102");
        if t & 0x04 == 0 {
            h.push_str("09");
        }
        if t & 0x08 == 0 {
            h.push_str("aa");
        }
        if t & 0x01 != 0 {
            h.push_str("020207");
        }
        h.push_str(if t & 0x20 != 0 { "00" } else { "ff" });
        let d = ObjectDatagram {
            track_alias: 1,
            group_id: 2,
            object_id: if t & 0x04 == 0 { 9 } else { 0 },
            publisher_priority: if t & 0x08 == 0 { Some(0xaa) } else { None },
            end_of_group: t & 0x02 != 0,
            properties: if t & 0x01 != 0 { props(&[KeyValue::varint(2, 7)]) } else { Properties::empty() },
            body: if t & 0x20 != 0 {
                DatagramBody::Status(ObjectStatus::Normal)
            } else {
                DatagramBody::Payload(Bytes::from_static(&[0xff]))
            },
        };
        assert_eq!(d.datagram_type(), t);
        let bytes = Bytes::from(hex(&h));
        assert_eq!(Datagram::decode_datagram(&bytes, V).unwrap(), Datagram::Object(d.clone()), "{h}");
        assert_eq!(Datagram::Object(d).encode_to_vec(V).unwrap(), bytes.to_vec());
    }
}

#[test]
fn object_datagram_hand_vectors() {
    // 00 | alias 01 | group 02 | object 03 | priority 10 | payload "hi"
    check_vector(
        "00 01 02 03 10 6869",
        &ObjectDatagram {
            track_alias: 1,
            group_id: 2,
            object_id: 3,
            publisher_priority: Some(0x10),
            end_of_group: false,
            properties: Properties::empty(),
            body: DatagramBody::Payload(Bytes::from_static(b"hi")),
        },
    );
    // 0f = properties | end of group | zero object id | default priority:
    // alias 01 | group 02 | props len 04: type 3 (odd) len 2 "ab" = 03 02 6162 | payload "x"
    check_vector(
        "0f 01 02 04 03026162 78",
        &ObjectDatagram {
            track_alias: 1,
            group_id: 2,
            object_id: 0,
            publisher_priority: None,
            end_of_group: true,
            properties: props(&[KeyValue::bytes(3, &b"ab"[..])]),
            body: DatagramBody::Payload(Bytes::from_static(b"x")),
        },
    );
    // 20 = status: alias 01 | group 02 | object 03 | priority 10 | status 04 (End of Track)
    check_vector(
        "20 01 02 03 10 04",
        &ObjectDatagram {
            track_alias: 1,
            group_id: 2,
            object_id: 3,
            publisher_priority: Some(0x10),
            end_of_group: false,
            properties: Properties::empty(),
            body: DatagramBody::Status(ObjectStatus::EndOfTrack),
        },
    );
    // 2c = status | default priority | zero object id: alias 01 | group 02 | status 03
    check_vector(
        "2c 01 02 03",
        &ObjectDatagram {
            track_alias: 1,
            group_id: 2,
            object_id: 0,
            publisher_priority: None,
            end_of_group: false,
            properties: Properties::empty(),
            body: DatagramBody::Status(ObjectStatus::EndOfGroup),
        },
    );
    // 2d = status | default priority | zero object id | properties (status must be Normal):
    // alias 01 | group 02 | props len 02: type 4 = 1 (04 01) | status 00
    check_vector(
        "2d 01 02 02 0401 00",
        &ObjectDatagram {
            track_alias: 1,
            group_id: 2,
            object_id: 0,
            publisher_priority: None,
            end_of_group: false,
            properties: props(&[KeyValue::varint(4, 1)]),
            body: DatagramBody::Status(ObjectStatus::Normal),
        },
    );
}

#[test]
fn datagram_payload_is_the_rest_zero_copy() {
    let bytes = Bytes::from(hex("0c 01 02 6869"));
    let Datagram::Object(d) = Datagram::decode_datagram(&bytes, V).unwrap() else { panic!() };
    let DatagramBody::Payload(p) = d.body else { panic!() };
    assert_eq!(&p[..], b"hi");
    assert_eq!(p.as_ptr(), bytes[3..].as_ptr());
}

// ------------------------------------------------------------------ padding

/// §"Padding Datagrams": type 0x132B3E29 (5-byte vi64 f0 13 2b 3e 29), then zeros.
#[test]
fn padding_vectors() {
    check_vector("f0132b3e29 000000", &PaddingDatagram { len: 3 });
    check_vector("f0132b3e29", &PaddingDatagram { len: 0 });
    let bytes = Bytes::from(hex("f0132b3e29 0000"));
    assert_eq!(Datagram::decode_datagram(&bytes, V).unwrap(), Datagram::Padding(PaddingDatagram { len: 2 }));
    // A padding stream: type, then everything is discarded (content is not inspected).
    let stream = Bytes::from(hex("f0132b3e28 00000001"));
    let mut r = Reader::new(&stream);
    assert_eq!(UniStreamType::decode(&mut r, V).unwrap(), UniStreamType::Padding);
    assert_eq!(padding::discard(&mut r), 4);
    assert!(r.is_empty());
}

// ------------------------------------------------------------------ negative table

#[derive(Debug, Clone, Copy)]
enum Ctx {
    /// `UniStreamType::decode` on an open reader.
    StreamType,
    /// `SubgroupHeader::decode` on an open reader.
    SubgroupHeader,
    /// A whole datagram.
    Datagram,
    /// The last object of a subgroup stream with the given header type byte (earlier objects
    /// must decode).
    SubgroupObjects(u8),
    /// Header-only decode of the last subgroup object.
    SubgroupObjectHeaders(u8),
    /// The last entry of an Ascending fetch stream (after the FETCH_HEADER).
    FetchAscending,
    /// The last entry of a Descending fetch stream.
    FetchDescending,
    /// Header-only decode of the last fetch entry (Ascending).
    FetchHeaders,
}

fn run(ctx: Ctx, bytes: &[u8]) -> Result<(), DecodeError> {
    let buf = Bytes::copy_from_slice(bytes);
    let mut r = Reader::new(&buf);
    match ctx {
        Ctx::StreamType => UniStreamType::decode(&mut r, V).map(drop),
        Ctx::SubgroupHeader => SubgroupHeader::decode(&mut r, V).map(drop),
        Ctx::Datagram => Datagram::decode_datagram(&buf, V).map(drop),
        Ctx::SubgroupObjects(t) | Ctx::SubgroupObjectHeaders(t) => {
            // Only the PROPERTIES bit of the header matters to the objects.
            let header = SubgroupHeader {
                track_alias: 0,
                group_id: 0,
                subgroup_id: SubgroupId::Zero,
                publisher_priority: None,
                properties_present: t & 0x01 != 0,
                end_of_group: false,
                first_object: false,
            };
            let mut dec = SubgroupObjectDecoder::new(&header, V);
            loop {
                let res = match ctx {
                    Ctx::SubgroupObjects(_) => dec.decode(&mut r).map(drop),
                    _ => dec.decode_header(&mut r).map(|h| {
                        r.skip(h.payload_len as usize).unwrap();
                    }),
                };
                if res.is_err() || r.is_empty() {
                    return res;
                }
            }
        }
        Ctx::FetchAscending | Ctx::FetchDescending | Ctx::FetchHeaders => {
            let order = if matches!(ctx, Ctx::FetchDescending) {
                GroupOrder::Descending
            } else {
                GroupOrder::Ascending
            };
            let mut dec = FetchObjectDecoder::new(order, V);
            loop {
                let res = match ctx {
                    Ctx::FetchHeaders => dec.decode_header(&mut r).map(|h| {
                        if let FetchItemHeader::Object(h) = h {
                            r.skip(h.payload_len as usize).unwrap();
                        }
                    }),
                    _ => dec.decode(&mut r).map(drop),
                };
                if res.is_err() || r.is_empty() {
                    return res;
                }
            }
        }
    }
}

fn sub_type(value: u64, reason: &'static str) -> DecodeError {
    inv(Violation::InvalidSubgroupType { value, reason })
}

fn dg_type(value: u64, reason: &'static str) -> DecodeError {
    inv(Violation::InvalidDatagramType { value, reason })
}

#[test]
fn negative_table() {
    let mode11 = "SUBGROUP_ID_MODE 0b11 is reserved";
    let status_eog = "STATUS and END_OF_GROUP cannot both be set";
    let too_large = inv(Violation::LengthTooLarge {
        field: "object payload",
        claimed: 1 << 62,
        max: MAX_OBJECT_PAYLOAD_LEN,
    });
    let cases: Vec<(&str, Ctx, &str, DecodeError)> = vec![
        // ---- stream type demux
        ("subgroup form with mode 11", Ctx::StreamType, "16", sub_type(0x16, mode11)),
        ("subgroup form with mode 11 (all bits)", Ctx::StreamType, "7f", sub_type(0x7f, mode11)),
        ("bit 0x10 clear, not fetch", Ctx::StreamType, "06", inv(Violation::UnknownStreamType(6))),
        ("0x90 (bit 0x80 set)", Ctx::StreamType, "8090", inv(Violation::UnknownStreamType(0x90))),
        ("0x2F01", Ctx::StreamType, "af01", inv(Violation::UnknownStreamType(0x2f01))),
        (
            "padding datagram type on a stream",
            Ctx::StreamType,
            "f0132b3e29",
            inv(Violation::UnknownStreamType(0x132b3e29)),
        ),
        // ---- SUBGROUP_HEADER type bits, each invalid class
        ("mode 11", Ctx::SubgroupHeader, "1e 00 00", sub_type(0x1e, mode11)),
        ("mode 11 with first object", Ctx::SubgroupHeader, "56 00 00", sub_type(0x56, mode11)),
        ("bit 0x10 clear", Ctx::SubgroupHeader, "04 00 00", sub_type(0x04, "bit 0x10 must be 1")),
        ("bit 0x80 set", Ctx::SubgroupHeader, "8090 00 00", sub_type(0x90, "bit 0x80 must be 0")),
        (
            "more than a byte",
            Ctx::SubgroupHeader,
            "8110",
            sub_type(0x110, "type must be a single byte below 0x80"),
        ),
        ("fetch type as subgroup", Ctx::SubgroupHeader, "05 00", sub_type(0x05, "bit 0x10 must be 1")),
        // ---- OBJECT_DATAGRAM type bits
        ("status + end of group 0x22", Ctx::Datagram, "22 01 02 03 10 00", dg_type(0x22, status_eog)),
        ("status + end of group 0x2f", Ctx::Datagram, "2f 01 02 02 0401 00", dg_type(0x2f, status_eog)),
        ("bit 0x10 set", Ctx::Datagram, "10 01 02 03 10", dg_type(0x10, "bit 0x10 must be 0")),
        ("bit 0x10 set with status", Ctx::Datagram, "30 01 02", dg_type(0x30, "bit 0x10 must be 0")),
        ("type 0x40", Ctx::Datagram, "40 01 02", inv(Violation::UnknownDatagramType(0x40))),
        (
            "padding stream type as datagram",
            Ctx::Datagram,
            "f0132b3e28",
            inv(Violation::UnknownDatagramType(0x132b3e28)),
        ),
        // ---- datagram content
        (
            "properties bit with length 0",
            Ctx::Datagram,
            "01 01 02 03 10 00 ff",
            inv(Violation::EmptyDatagramProperties),
        ),
        (
            "properties on End of Group status",
            Ctx::Datagram,
            "21 01 02 03 10 02 0401 03",
            inv(Violation::PropertiesOnNonNormalObject),
        ),
        (
            "status datagram with payload bytes",
            Ctx::Datagram,
            "20 01 02 03 10 03 ff",
            inv(Violation::TrailingBytes { extra: 1 }),
        ),
        (
            "invalid status 5",
            Ctx::Datagram,
            "20 01 02 03 10 05",
            inv(Violation::InvalidValue { field: "object status", value: 5 }),
        ),
        (
            "draft-14 status 1 is gone",
            Ctx::Datagram,
            "2c 01 02 01",
            inv(Violation::InvalidValue { field: "object status", value: 1 }),
        ),
        ("truncated datagram", Ctx::Datagram, "00 01", inv(Violation::BodyTooShort)),
        (
            "properties longer than the datagram",
            Ctx::Datagram,
            "0d 01 02 05 0401",
            inv(Violation::LengthExceedsBody { claimed: 5, available: 2 }),
        ),
        // ---- subgroup objects (header types 0x10 no properties / 0x11 properties)
        (
            "object id delta overflow",
            Ctx::SubgroupObjects(0x10),
            "ffffffffffffffffff 01 61   00 01 62",
            inv(Violation::Overflow { field: "object id" }),
        ),
        (
            "object id delta overflow, large delta",
            Ctx::SubgroupObjects(0x10),
            "05 01 61   ffffffffffffffffff 01 62",
            inv(Violation::Overflow { field: "object id" }),
        ),
        (
            "object id delta overflow (header only)",
            Ctx::SubgroupObjectHeaders(0x10),
            "ffffffffffffffffff 01 61   00",
            inv(Violation::Overflow { field: "object id" }),
        ),
        (
            "invalid status",
            Ctx::SubgroupObjects(0x10),
            "00 00 05",
            inv(Violation::InvalidValue { field: "object status", value: 5 }),
        ),
        (
            "invalid status 2",
            Ctx::SubgroupObjectHeaders(0x10),
            "00 00 02",
            inv(Violation::InvalidValue { field: "object status", value: 2 }),
        ),
        (
            "properties on End of Group",
            Ctx::SubgroupObjects(0x11),
            "00 02 0201 00 03",
            inv(Violation::PropertiesOnNonNormalObject),
        ),
        (
            "properties on End of Track (header only)",
            Ctx::SubgroupObjectHeaders(0x11),
            "00 02 0201 00 04",
            inv(Violation::PropertiesOnNonNormalObject),
        ),
        ("payload length 2^62", Ctx::SubgroupObjects(0x10), "00 ff4000000000000000", too_large.clone()),
        (
            "payload length 2^62 (header only)",
            Ctx::SubgroupObjectHeaders(0x10),
            "00 ff4000000000000000",
            too_large.clone(),
        ),
        (
            "properties length 65536",
            Ctx::SubgroupObjects(0x11),
            "00 c10000",
            inv(Violation::LengthTooLarge { field: "object properties", claimed: 65_536, max: 65_535 }),
        ),
        // ---- fetch flags
        ("flags 0x80", Ctx::FetchAscending, "8080", inv(Violation::InvalidFetchFlags(0x80))),
        ("flags 0x8d", Ctx::FetchAscending, "808d 05 00", inv(Violation::InvalidFetchFlags(0x8d))),
        ("flags 0xff", Ctx::FetchAscending, "80ff", inv(Violation::InvalidFetchFlags(0xff))),
        ("flags 0x10d", Ctx::FetchAscending, "810d", inv(Violation::InvalidFetchFlags(0x10d))),
        (
            "flags 0x20c (post-19 timed-out marker)",
            Ctx::FetchAscending,
            "820c 05 00",
            inv(Violation::InvalidFetchFlags(0x20c)),
        ),
        (
            "flags 2^64-1",
            Ctx::FetchHeaders,
            "ffffffffffffffffff",
            inv(Violation::InvalidFetchFlags(u64::MAX)),
        ),
        // ---- first fetch object referencing prior values
        (
            "first: no group delta",
            Ctx::FetchAscending,
            "14 00 80 00",
            inv(Violation::FetchMissingPrior { field: "group id" }),
        ),
        (
            "first: no object delta",
            Ctx::FetchAscending,
            "18 05 80 00",
            inv(Violation::FetchMissingPrior { field: "object id" }),
        ),
        (
            "first: no priority",
            Ctx::FetchAscending,
            "0c 05 00 00",
            inv(Violation::FetchMissingPrior { field: "priority" }),
        ),
        (
            "first: prior subgroup",
            Ctx::FetchAscending,
            "1d 05 00 80 00",
            inv(Violation::FetchMissingPrior { field: "subgroup id" }),
        ),
        (
            "first: prior subgroup + 1",
            Ctx::FetchHeaders,
            "1e 05 00 80 00",
            inv(Violation::FetchMissingPrior { field: "subgroup id" }),
        ),
        (
            "after a marker only: prior subgroup",
            Ctx::FetchAscending,
            "808c 05 00   11 80 00",
            inv(Violation::FetchMissingPrior { field: "subgroup id" }),
        ),
        (
            "after a marker only: prior priority",
            Ctx::FetchAscending,
            "810c 05 00   00 00",
            inv(Violation::FetchMissingPrior { field: "priority" }),
        ),
        (
            "after a datagram object: prior subgroup",
            Ctx::FetchAscending,
            "5c 05 00 80 00   01 00",
            inv(Violation::FetchMissingPrior { field: "subgroup id" }),
        ),
        // ---- fetch group / object arithmetic
        (
            "ascending group overflow",
            Ctx::FetchAscending,
            "1c ffffffffffffffffff 00 80 00   08 00 00",
            inv(Violation::Overflow { field: "group id" }),
        ),
        (
            "ascending group overflow (marker)",
            Ctx::FetchAscending,
            "1c 05 00 80 00   808c ffffffffffffffffff 00",
            inv(Violation::Overflow { field: "group id" }),
        ),
        (
            "descending group underflow",
            Ctx::FetchDescending,
            "1c 00 00 80 00   08 00 00",
            inv(Violation::FetchGroupIdUnderflow),
        ),
        (
            "descending group underflow by delta",
            Ctx::FetchDescending,
            "1c 05 00 80 00   08 05 00",
            inv(Violation::FetchGroupIdUnderflow),
        ),
        (
            "descending delta 2^64-1",
            Ctx::FetchDescending,
            "1c ffffffffffffffffff 00 80 00   08 ffffffffffffffffff 00",
            inv(Violation::FetchGroupIdUnderflow),
        ),
        (
            "object id + 1 overflow",
            Ctx::FetchAscending,
            "1c 00 ffffffffffffffffff 80 00   00 00",
            inv(Violation::Overflow { field: "object id" }),
        ),
        (
            "object id + delta overflow",
            Ctx::FetchAscending,
            "1c 00 05 80 00   04 ffffffffffffffffff 00",
            inv(Violation::Overflow { field: "object id" }),
        ),
        (
            "subgroup + 1 overflow",
            Ctx::FetchAscending,
            "1f 00 ffffffffffffffffff 00 80 00   02 00",
            inv(Violation::Overflow { field: "subgroup id" }),
        ),
        (
            "fetch payload length 2^62",
            Ctx::FetchAscending,
            "1c 00 00 80 ff4000000000000000",
            too_large.clone(),
        ),
        (
            "fetch payload length 2^62 (header only)",
            Ctx::FetchHeaders,
            "1c 00 00 80 ff4000000000000000",
            too_large.clone(),
        ),
    ];
    for (name, ctx, h, expected) in cases {
        assert_eq!(run(ctx, &hex(h)), Err(expected), "{name}: {h}");
    }
}

/// Encoders refuse what decoders reject.
#[test]
fn encoder_refusals() {
    let header = SubgroupHeader {
        track_alias: 0,
        group_id: 0,
        subgroup_id: SubgroupId::Zero,
        publisher_priority: None,
        properties_present: false,
        end_of_group: false,
        first_object: false,
    };
    let mut enc = SubgroupObjectEncoder::new(&header, V);
    enc.encode(&mut Vec::new(), &SubgroupObject::normal(5, &b"a"[..])).unwrap();
    assert_eq!(
        enc.encode(&mut Vec::new(), &SubgroupObject::normal(5, &b"a"[..])),
        Err(EncodeError::Invalid(Violation::SubgroupObjectIdNotIncreasing { prev: 5, object_id: 5 }))
    );
    let eog_with_payload =
        SubgroupObject { status: ObjectStatus::EndOfGroup, ..SubgroupObject::normal(6, &b"a"[..]) };
    assert_eq!(
        enc.encode(&mut Vec::new(), &eog_with_payload),
        Err(EncodeError::Invalid(Violation::PayloadOnNonNormalObject))
    );
    let with_props = SubgroupObject {
        properties: props(&[KeyValue::varint(2, 1)]),
        ..SubgroupObject::normal(6, &b"a"[..])
    };
    assert_eq!(
        enc.encode(&mut Vec::new(), &with_props),
        Err(EncodeError::Invalid(Violation::PropertiesNotAllowedBySubgroupType))
    );
    let mut enc = SubgroupObjectEncoder::new(&SubgroupHeader { properties_present: true, ..header }, V);
    let props_on_status = SubgroupObject {
        properties: props(&[KeyValue::varint(2, 1)]),
        ..SubgroupObject::status(0, ObjectStatus::EndOfTrack)
    };
    assert_eq!(
        enc.encode(&mut Vec::new(), &props_on_status),
        Err(EncodeError::Invalid(Violation::PropertiesOnNonNormalObject))
    );
    let huge = SubgroupObjectHeader {
        object_id: 0,
        properties: Properties::empty(),
        status: ObjectStatus::Normal,
        payload_len: MAX_OBJECT_PAYLOAD_LEN + 1,
    };
    assert_eq!(
        enc.encode_header(&mut Vec::new(), &huge),
        Err(EncodeError::Invalid(Violation::LengthTooLarge {
            field: "object payload",
            claimed: MAX_OBJECT_PAYLOAD_LEN + 1,
            max: MAX_OBJECT_PAYLOAD_LEN
        }))
    );
    // A refused object leaves the state untouched: object 0 is still "first".
    assert_eq!(enc.prev_object_id(), None);

    let dg = ObjectDatagram {
        track_alias: 0,
        group_id: 0,
        object_id: 1,
        publisher_priority: None,
        end_of_group: true,
        properties: Properties::empty(),
        body: DatagramBody::Status(ObjectStatus::Normal),
    };
    assert_eq!(
        dg.encode_to_vec(V),
        Err(EncodeError::Invalid(Violation::InvalidDatagramType {
            value: 0x2a,
            reason: "STATUS and END_OF_GROUP cannot both be set"
        }))
    );
    let dg = ObjectDatagram {
        end_of_group: false,
        properties: props(&[KeyValue::varint(2, 1)]),
        body: DatagramBody::Status(ObjectStatus::EndOfGroup),
        ..dg
    };
    assert_eq!(dg.encode_to_vec(V), Err(EncodeError::Invalid(Violation::PropertiesOnNonNormalObject)));

    let mut enc = FetchObjectEncoder::new(GroupOrder::Ascending, V);
    enc.encode(&mut Vec::new(), &fobj(5, Some(0), 3, 0, b"")).unwrap();
    assert_eq!(
        enc.encode(&mut Vec::new(), &fobj(4, Some(0), 0, 0, b"")),
        Err(EncodeError::Invalid(Violation::FetchGroupOutOfOrder { prior: 5, group: 4 }))
    );
    assert_eq!(
        enc.encode(&mut Vec::new(), &fobj(5, Some(0), 2, 0, b"")),
        Err(EncodeError::Invalid(Violation::FetchObjectIdBackwards { prior: 3, object_id: 2 }))
    );
    let same_group_marker =
        FetchItem::EndOfRange(EndOfRange { kind: EndOfRangeKind::Unknown, group_id: 5, object_id: 9 });
    assert_eq!(
        enc.encode(&mut Vec::new(), &same_group_marker),
        Err(EncodeError::Invalid(Violation::FetchGroupOutOfOrder { prior: 5, group: 5 }))
    );
    let mut enc = FetchObjectEncoder::new(GroupOrder::Descending, V);
    enc.encode(&mut Vec::new(), &fobj(5, Some(0), 3, 0, b"")).unwrap();
    assert_eq!(
        enc.encode(&mut Vec::new(), &fobj(6, Some(0), 0, 0, b"")),
        Err(EncodeError::Invalid(Violation::FetchGroupOutOfOrder { prior: 5, group: 6 }))
    );
}

// ------------------------------------------------------------------ prefixes

/// Every strict prefix of a stream element is `Incomplete`, never Invalid, never a value.
#[test]
fn every_prefix_is_incomplete() {
    let header = SubgroupHeader {
        track_alias: 300,
        group_id: u64::MAX,
        subgroup_id: SubgroupId::Explicit(16384),
        publisher_priority: Some(1),
        properties_present: true,
        end_of_group: true,
        first_object: true,
    };
    let enc = header.encode_to_vec(V).unwrap();
    for cut in 0..enc.len() {
        let b = Bytes::copy_from_slice(&enc[..cut]);
        assert_eq!(
            SubgroupHeader::decode(&mut Reader::new(&b), V),
            Err(DecodeError::Incomplete),
            "cut {cut}"
        );
        assert_eq!(
            UniStreamType::decode(&mut Reader::new(&b), V).err(),
            (cut == 0).then_some(DecodeError::Incomplete)
        );
    }
    let fh = FetchHeader { request_id: 1 << 40 }.encode_to_vec(V).unwrap();
    for cut in 0..fh.len() {
        let b = Bytes::copy_from_slice(&fh[..cut]);
        assert_eq!(FetchHeader::decode(&mut Reader::new(&b), V), Err(DecodeError::Incomplete), "cut {cut}");
    }
    for t in [UniStreamType::Control, UniStreamType::Padding] {
        let e = t.encode_to_vec(V).unwrap();
        for cut in 0..e.len() {
            let b = Bytes::copy_from_slice(&e[..cut]);
            assert_eq!(UniStreamType::decode(&mut Reader::new(&b), V), Err(DecodeError::Incomplete));
        }
    }

    // Subgroup objects: whole decode is Incomplete on every prefix; header-only decode is
    // Incomplete on every prefix of the header part and Ok from there on.
    let mut stream_enc = SubgroupObjectEncoder::new(&header, V);
    let object = SubgroupObject {
        properties: props(&[KeyValue::bytes(5, &b"xyz"[..])]),
        ..SubgroupObject::normal(20_000, &b"payload"[..])
    };
    let mut obj = Vec::new();
    stream_enc.encode(&mut obj, &object).unwrap();
    let header_len = obj.len() - 7;
    for cut in 0..obj.len() {
        let b = Bytes::copy_from_slice(&obj[..cut]);
        let mut dec = SubgroupObjectDecoder::new(&header, V);
        assert_eq!(dec.decode(&mut Reader::new(&b)), Err(DecodeError::Incomplete), "cut {cut}");
        assert_eq!(dec.prev_object_id(), None);
        let h = dec.decode_header(&mut Reader::new(&b));
        if cut < header_len {
            assert_eq!(h, Err(DecodeError::Incomplete), "header cut {cut}");
        } else {
            assert_eq!(h.unwrap(), object.header());
        }
    }
    let status = SubgroupObject::status(0, ObjectStatus::EndOfTrack);
    let mut obj = Vec::new();
    SubgroupObjectEncoder::new(&header, V).encode(&mut obj, &status).unwrap();
    for cut in 0..obj.len() {
        let b = Bytes::copy_from_slice(&obj[..cut]);
        let mut dec = SubgroupObjectDecoder::new(&header, V);
        assert_eq!(dec.decode_header(&mut Reader::new(&b)), Err(DecodeError::Incomplete), "cut {cut}");
    }

    // Fetch entries: an object with every optional field, then a marker.
    let items = [
        FetchItem::Object(FetchObject {
            group_id: 1 << 30,
            subgroup_id: Some(9),
            object_id: 70_000,
            publisher_priority: 7,
            properties: props(&[KeyValue::varint(2, 1 << 50)]),
            payload: Bytes::from_static(b"abc"),
        }),
        FetchItem::EndOfRange(EndOfRange {
            kind: EndOfRangeKind::Unknown,
            group_id: (1 << 30) + 500,
            object_id: 1,
        }),
    ];
    let mut fenc = FetchObjectEncoder::new(GroupOrder::Ascending, V);
    let mut fdec = FetchObjectDecoder::new(GroupOrder::Ascending, V);
    for item in &items {
        let mut e = Vec::new();
        fenc.encode(&mut e, item).unwrap();
        for cut in 0..e.len() {
            let b = Bytes::copy_from_slice(&e[..cut]);
            assert_eq!(fdec.clone().decode(&mut Reader::new(&b)), Err(DecodeError::Incomplete), "cut {cut}");
        }
        let b = Bytes::from(e);
        assert_eq!(&fdec.decode(&mut Reader::new(&b)).unwrap(), item);
    }
}

/// A datagram cut short is a short body, not `Incomplete` (a datagram is always whole).
#[test]
fn truncated_datagram_header_is_body_too_short_at_every_length() {
    let d = ObjectDatagram {
        track_alias: 300,
        group_id: 20_000,
        object_id: 5,
        publisher_priority: Some(1),
        end_of_group: false,
        properties: props(&[KeyValue::varint(2, 1)]),
        body: DatagramBody::Status(ObjectStatus::Normal),
    };
    let e = d.encode_to_vec(V).unwrap();
    for cut in 0..e.len() {
        let b = Bytes::copy_from_slice(&e[..cut]);
        let err = Datagram::decode_datagram(&b, V).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::Invalid(Violation::BodyTooShort | Violation::LengthExceedsBody { .. })
            ),
            "cut {cut}: {err:?}"
        );
    }
}

// ------------------------------------------------------------------ proptest strategies

fn edge_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(63),
        Just(64),
        Just(127),
        Just(128),
        Just(16_383),
        Just(16_384),
        Just(u64::MAX),
        0..1_000u64,
        any::<u64>(),
    ]
}

fn properties() -> impl Strategy<Value = Properties> {
    prop::collection::vec((0u64..300, edge_u64(), prop::collection::vec(any::<u8>(), 0..6)), 0..4).prop_map(
        |mut raw| {
            raw.sort_by_key(|(k, _, _)| *k);
            let pairs: Vec<KeyValue> = raw
                .into_iter()
                .map(|(k, v, b)| if k % 2 == 0 { KeyValue::varint(k, v) } else { KeyValue::bytes(k, b) })
                .collect();
            Properties::from_pairs(&pairs).unwrap()
        },
    )
}

fn payload() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..20).prop_map(Bytes::from)
}

fn status() -> impl Strategy<Value = ObjectStatus> {
    prop::sample::select(ObjectStatus::ALL.to_vec())
}

fn subgroup_header() -> impl Strategy<Value = SubgroupHeader> {
    (
        edge_u64(),
        edge_u64(),
        prop_oneof![
            Just(SubgroupId::Zero),
            Just(SubgroupId::FirstObject),
            edge_u64().prop_map(SubgroupId::Explicit)
        ],
        any::<Option<u8>>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(track_alias, group_id, subgroup_id, publisher_priority, p, e, f)| SubgroupHeader {
            track_alias,
            group_id,
            subgroup_id,
            publisher_priority,
            properties_present: p,
            end_of_group: e,
            first_object: f,
        })
}

/// A header and a valid object sequence for it: ids strictly increase from `first`.
fn subgroup_stream() -> impl Strategy<Value = (SubgroupHeader, Vec<SubgroupObject>)> {
    (
        subgroup_header(),
        edge_u64(),
        prop::collection::vec(
            (prop_oneof![Just(0u64), 0..100u64, edge_u64()], status(), properties(), payload()),
            0..8,
        ),
    )
        .prop_map(|(header, first, specs)| {
            let mut objects = Vec::new();
            let mut next = Some(first);
            for (gap, status, props, payload) in specs {
                let Some(id) = next else { break };
                let normal = status == ObjectStatus::Normal;
                objects.push(SubgroupObject {
                    object_id: id,
                    properties: if header.properties_present && normal { props } else { Properties::empty() },
                    status,
                    payload: if normal { payload } else { Bytes::new() },
                });
                next = id.checked_add(1).and_then(|v| v.checked_add(gap));
            }
            (header, objects)
        })
}

fn datagram() -> impl Strategy<Value = ObjectDatagram> {
    (
        edge_u64(),
        edge_u64(),
        edge_u64(),
        any::<Option<u8>>(),
        any::<bool>(),
        properties(),
        prop_oneof![payload().prop_map(DatagramBody::Payload), status().prop_map(DatagramBody::Status)],
    )
        .prop_map(|(track_alias, group_id, object_id, publisher_priority, eog, props, body)| {
            let is_status = matches!(body, DatagramBody::Status(_));
            let normal = !matches!(body, DatagramBody::Status(s) if s != ObjectStatus::Normal);
            ObjectDatagram {
                track_alias,
                group_id,
                object_id,
                publisher_priority,
                end_of_group: eog && !is_status,
                properties: if normal { props } else { Properties::empty() },
                body,
            }
        })
}

/// Candidate fetch entries; the stream keeps those the encoder accepts in sequence.
fn fetch_candidates() -> impl Strategy<Value = Vec<FetchItem>> {
    let group = prop_oneof![0..6u64, edge_u64()];
    let object = prop_oneof![0..6u64, edge_u64()];
    let entry = (
        0u8..8,
        group,
        prop_oneof![Just(None), Just(Some(0)), (0..4u64).prop_map(Some), edge_u64().prop_map(Some)],
        object,
        prop_oneof![Just(0u8), Just(128), any::<u8>()],
        properties(),
        payload(),
    )
        .prop_map(|(k, group_id, subgroup_id, object_id, prio, properties, payload)| match k {
            0 => FetchItem::EndOfRange(EndOfRange { kind: EndOfRangeKind::NonExistent, group_id, object_id }),
            1 => FetchItem::EndOfRange(EndOfRange { kind: EndOfRangeKind::Unknown, group_id, object_id }),
            _ => FetchItem::Object(FetchObject {
                group_id,
                subgroup_id,
                object_id,
                publisher_priority: prio,
                properties,
                payload,
            }),
        });
    prop::collection::vec(entry, 0..12)
}

/// Encodes the candidates the encoder accepts; returns (bytes, accepted entries).
fn encode_accepted(order: GroupOrder, candidates: &[FetchItem]) -> (Vec<u8>, Vec<FetchItem>) {
    let mut enc = FetchObjectEncoder::new(order, V);
    let mut out = Vec::new();
    let mut accepted = Vec::new();
    for c in candidates {
        let mut scratch = Vec::new();
        if enc.encode(&mut scratch, c).is_ok() {
            out.extend_from_slice(&scratch);
            accepted.push(c.clone());
        }
    }
    (out, accepted)
}

fn order() -> impl Strategy<Value = GroupOrder> {
    prop_oneof![Just(GroupOrder::Ascending), Just(GroupOrder::Descending)]
}

/// Feeds `bytes` in chunks cut at `cuts` (sorted, deduplicated inside), calling `step` on
/// the accumulated unconsumed buffer until it returns Incomplete; `step` returns bytes used.
fn feed_in_chunks(
    bytes: &[u8],
    cuts: &[usize],
    mut step: impl FnMut(&Bytes) -> Result<usize, DecodeError>,
) -> Result<(), DecodeError> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.push(bytes.len());
    points.sort_unstable();
    points.dedup();
    let mut pending: Vec<u8> = Vec::new();
    let mut start = 0;
    for p in points {
        pending.extend_from_slice(&bytes[start..p]);
        start = p;
        loop {
            let buf = Bytes::copy_from_slice(&pending);
            match step(&buf) {
                Ok(used) => {
                    pending.drain(..used);
                }
                Err(DecodeError::Incomplete) => break,
                Err(e) => return Err(e),
            }
            if pending.is_empty() {
                break;
            }
        }
    }
    assert!(pending.is_empty(), "{} bytes left undecoded", pending.len());
    Ok(())
}

proptest! {
    #[test]
    fn subgroup_header_roundtrip(h in subgroup_header()) {
        let e = h.encode_to_vec(V).unwrap();
        prop_assert_eq!(SubgroupHeader::decode_exact(&Bytes::from(e), V).unwrap(), h);
    }

    #[test]
    fn fetch_header_roundtrip(id in edge_u64()) {
        let h = FetchHeader { request_id: id };
        prop_assert_eq!(FetchHeader::decode_exact(&Bytes::from(h.encode_to_vec(V).unwrap()), V).unwrap(), h);
    }

    #[test]
    fn stream_type_roundtrip(t in prop_oneof![
        Just(UniStreamType::Fetch),
        Just(UniStreamType::Control),
        Just(UniStreamType::Padding),
        prop::sample::select(SubgroupType::all().collect::<Vec<_>>()).prop_map(UniStreamType::Subgroup),
    ]) {
        prop_assert_eq!(UniStreamType::decode_exact(&Bytes::from(t.encode_to_vec(V).unwrap()), V).unwrap(), t);
    }

    #[test]
    fn datagram_roundtrip(d in datagram()) {
        let e = Bytes::from(d.encode_to_vec(V).unwrap());
        prop_assert_eq!(Datagram::decode_datagram(&e, V).unwrap(), Datagram::Object(d));
    }

    #[test]
    fn padding_datagram_roundtrip(len in 0usize..64) {
        let p = PaddingDatagram { len };
        let e = Bytes::from(p.encode_to_vec(V).unwrap());
        prop_assert!(e[5..].iter().all(|b| *b == 0));
        prop_assert_eq!(Datagram::decode_datagram(&e, V).unwrap(), Datagram::Padding(p));
    }

    #[test]
    fn subgroup_stream_roundtrip((header, objects) in subgroup_stream()) {
        let e = encode_subgroup_stream(&header, &objects);
        prop_assert_eq!(decode_subgroup_stream(&e), (header, objects));
    }

    #[test]
    fn fetch_stream_roundtrip(order in order(), request_id in edge_u64(), candidates in fetch_candidates()) {
        let header = FetchHeader { request_id };
        let (body, items) = encode_accepted(order, &candidates);
        let mut e = header.encode_to_vec(V).unwrap();
        e.extend_from_slice(&body);
        prop_assert_eq!(decode_fetch_stream(&e, order), (header, items));
    }

    /// Split property, whole-object decoding: header then objects, fed in arbitrary chunks.
    #[test]
    fn subgroup_stream_split((header, objects) in subgroup_stream(),
                             cuts in prop::collection::vec(any::<usize>(), 0..10)) {
        let e = encode_subgroup_stream(&header, &objects);
        let mut got_header = None;
        let mut dec = None;
        let mut got = Vec::new();
        feed_in_chunks(&e, &cuts, |buf| {
            let mut r = Reader::new(buf);
            match &mut dec {
                None => {
                    let h = SubgroupHeader::decode(&mut r, V)?;
                    dec = Some(SubgroupObjectDecoder::new(&h, V));
                    got_header = Some(h);
                }
                Some(d) => got.push(d.decode(&mut r)?),
            }
            Ok(r.position())
        }).unwrap();
        prop_assert_eq!(got_header, Some(header));
        prop_assert_eq!(got, objects);
    }

    /// Split property, header-only decoding with payloads consumed as they stream in.
    #[test]
    fn subgroup_stream_split_streaming_payloads((header, objects) in subgroup_stream(),
                                                cuts in prop::collection::vec(any::<usize>(), 0..10)) {
        let e = encode_subgroup_stream(&header, &objects);
        let mut dec = None;
        let mut got: Vec<SubgroupObject> = Vec::new();
        let mut payload_left = 0usize;
        feed_in_chunks(&e, &cuts, |buf| {
            if payload_left > 0 {
                // Stream payload bytes out as they come.
                let n = payload_left.min(buf.len());
                if n == 0 { return Err(DecodeError::Incomplete); }
                let last = got.last_mut().unwrap();
                let mut p = last.payload.to_vec();
                p.extend_from_slice(&buf[..n]);
                last.payload = Bytes::from(p);
                payload_left -= n;
                return Ok(n);
            }
            let mut r = Reader::new(buf);
            match &mut dec {
                None => dec = Some(SubgroupObjectDecoder::new(&SubgroupHeader::decode(&mut r, V)?, V)),
                Some(d) => {
                    let h = d.decode_header(&mut r)?;
                    payload_left = h.payload_len as usize;
                    got.push(SubgroupObject { object_id: h.object_id, properties: h.properties, status: h.status, payload: Bytes::new() });
                }
            }
            Ok(r.position())
        }).unwrap();
        prop_assert_eq!(got, objects);
    }

    /// Split property over a whole fetch stream.
    #[test]
    fn fetch_stream_split(order in order(), candidates in fetch_candidates(),
                          cuts in prop::collection::vec(any::<usize>(), 0..10)) {
        let header = FetchHeader { request_id: 3 };
        let (body, items) = encode_accepted(order, &candidates);
        let mut e = header.encode_to_vec(V).unwrap();
        e.extend_from_slice(&body);
        let mut dec: Option<FetchObjectDecoder> = None;
        let mut got = Vec::new();
        feed_in_chunks(&e, &cuts, |buf| {
            let mut r = Reader::new(buf);
            match &mut dec {
                None => {
                    assert_eq!(FetchHeader::decode(&mut r, V)?, header);
                    dec = Some(FetchObjectDecoder::new(order, V));
                }
                Some(d) => got.push(d.decode(&mut r)?),
            }
            Ok(r.position())
        }).unwrap();
        prop_assert_eq!(got, items);
    }

    /// Arbitrary bytes never panic any decoder and never yield Incomplete from a datagram.
    #[test]
    fn datagrams_are_never_incomplete(bytes in prop::collection::vec(any::<u8>(), 0..24)) {
        let b = Bytes::from(bytes);
        prop_assert_ne!(Datagram::decode_datagram(&b, V).err(), Some(DecodeError::Incomplete));
    }
}
