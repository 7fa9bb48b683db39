//! Object headers decode without touching the heap (issue: "Object headers must decode
//! without heap allocation"). A counting global allocator counts this thread's allocations
//! around each decode.
#![allow(unsafe_code)] // a GlobalAlloc impl is unsafe by definition; it only delegates to System.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::Bytes;
use sluice_wire::lite::group::{Frame, FrameHeader, Group};
use sluice_wire::moqt::fetch_stream::{
    FetchItem, FetchObject, FetchObjectDecoder, FetchObjectEncoder, GroupOrder,
};
use sluice_wire::moqt::kvp::{KeyValue, Properties};
use sluice_wire::moqt::object::ObjectStatus;
use sluice_wire::moqt::subgroup::{
    SubgroupHeader, SubgroupId, SubgroupObject, SubgroupObjectDecoder, SubgroupObjectEncoder,
};
use sluice_wire::{Decode, Encode, LiteVersion, MoqtVersion, Reader};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: delegates to System and only bumps a thread-local counter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A `Bytes` built from a `Vec` allocates its shared refcount on its first clone or slice
/// (once per receive buffer, not per object); receive buffers from a transport are already
/// shared. Tests warm their buffer the same way so that only the decoder is measured.
fn shared(bytes: Vec<u8>) -> Bytes {
    let b = Bytes::from(bytes);
    drop(b.clone());
    b
}

fn allocations_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let value = f();
    (value, ALLOCATIONS.with(Cell::get) - before)
}

const V: MoqtVersion = MoqtVersion::Draft18;

fn subgroup_stream() -> (SubgroupHeader, Bytes) {
    let header = SubgroupHeader {
        track_alias: 7,
        group_id: 1000,
        subgroup_id: SubgroupId::Explicit(3),
        publisher_priority: Some(64),
        properties_present: true,
        end_of_group: false,
        first_object: false,
    };
    let mut out = Vec::new();
    header.encode(&mut out, V).unwrap();
    let mut enc = SubgroupObjectEncoder::new(&header, V);
    let props =
        Properties::from_pairs(&[KeyValue::bytes(0x39, &b"meta"[..]), KeyValue::varint(0x3c, 2)]).unwrap();
    let mut obj = SubgroupObject::normal(5, vec![0xab; 1200]);
    obj.properties = props;
    enc.encode(&mut out, &obj).unwrap();
    enc.encode(&mut out, &SubgroupObject::status(6, ObjectStatus::EndOfGroup)).unwrap();
    (header, shared(out))
}

#[test]
fn subgroup_header_and_object_headers_decode_without_allocating() {
    let (expected, stream) = subgroup_stream();
    let ((header, first, second), allocs) = allocations_during(|| {
        let mut r = Reader::new(&stream);
        let header = SubgroupHeader::decode(&mut r, V).unwrap();
        let mut dec = SubgroupObjectDecoder::new(&header, V);
        let first = dec.decode_header(&mut r).unwrap();
        r.skip(first.payload_len as usize).unwrap();
        let second = dec.decode_header(&mut r).unwrap();
        (header, first, second)
    });
    assert_eq!(header, expected);
    assert_eq!((first.object_id, first.payload_len, first.properties.to_vec().len()), (5, 1200, 2));
    assert_eq!((second.object_id, second.status), (6, ObjectStatus::EndOfGroup));
    assert_eq!(allocs, 0, "subgroup header/object header decoding allocated");
}

#[test]
fn inline_subgroup_headers_encode_without_allocating() {
    let (header, stream) = subgroup_stream();
    let plain = SubgroupHeader { properties_present: false, ..header };
    let objects: Vec<_> =
        (0..30u64).map(|id| SubgroupObject::normal(id * 3, vec![1u8; 1200]).header()).collect();
    let (encoded, allocs) = allocations_during(|| {
        let stream_header = plain.encode_header_bytes(V).unwrap();
        let mut enc = SubgroupObjectEncoder::new(&plain, V);
        let headers: [_; 30] = std::array::from_fn(|i| enc.encode_header_bytes(&objects[i]).unwrap());
        (stream_header, headers)
    });
    assert_eq!(allocs, 0, "inline header encoding allocated");
    assert!(encoded.0.is_inline() && encoded.1.iter().all(|h| h.is_inline()));
    // The properties-carrying stream's first object header is short enough to stay inline too.
    let mut r = Reader::new(&stream);
    SubgroupHeader::decode(&mut r, V).unwrap();
    let first = SubgroupObjectDecoder::new(&header, V).decode_header(&mut r).unwrap();
    let (h, allocs) =
        allocations_during(|| SubgroupObjectEncoder::new(&header, V).encode_header_bytes(&first).unwrap());
    assert_eq!((allocs, h.is_inline()), (0, true));
}

#[test]
fn whole_subgroup_objects_decode_without_allocating_or_copying_payloads() {
    let (_, stream) = subgroup_stream();
    let (payload, allocs) = allocations_during(|| {
        let mut r = Reader::new(&stream);
        let header = SubgroupHeader::decode(&mut r, V).unwrap();
        let mut dec = SubgroupObjectDecoder::new(&header, V);
        dec.decode(&mut r).unwrap().payload
    });
    assert_eq!(allocs, 0);
    let offset = payload.as_ptr() as usize - stream.as_ptr() as usize;
    assert_eq!(&stream[offset..offset + payload.len()], &payload[..], "payload is a view of the input");
}

#[test]
fn fetch_object_headers_decode_without_allocating() {
    let mut out = Vec::new();
    let mut enc = FetchObjectEncoder::new(GroupOrder::Ascending, V);
    for (g, o) in [(1u64, 0u64), (1, 1), (2, 0)] {
        let obj = FetchObject {
            group_id: g,
            subgroup_id: Some(0),
            object_id: o,
            publisher_priority: 10,
            properties: Properties::empty(),
            payload: Bytes::from_static(b"payload"),
        };
        enc.encode(&mut out, &FetchItem::Object(obj)).unwrap();
    }
    let stream = shared(out);
    let (count, allocs) = allocations_during(|| {
        let mut r = Reader::new(&stream);
        let mut dec = FetchObjectDecoder::new(GroupOrder::Ascending, V);
        let mut count = 0;
        while !r.is_empty() {
            dec.decode(&mut r).unwrap();
            count += 1;
        }
        count
    });
    assert_eq!(count, 3);
    assert_eq!(allocs, 0);
}

#[test]
fn lite_group_and_frame_headers_decode_without_allocating() {
    let mut out = Vec::new();
    Group { subscribe_id: 4, sequence: 77 }.encode(&mut out, LiteVersion::Lite05).unwrap();
    Frame { timestamp_delta: Some(-33), payload: Bytes::from_static(&[1; 300]) }
        .encode(&mut out, LiteVersion::Lite05)
        .unwrap();
    let stream = shared(out);
    let ((group, frame), allocs) = allocations_during(|| {
        let mut r = Reader::new(&stream);
        let group = Group::decode(&mut r, LiteVersion::Lite05).unwrap();
        let frame = FrameHeader::decode(&mut r, LiteVersion::Lite05).unwrap();
        (group, frame)
    });
    assert_eq!(allocs, 0);
    assert_eq!(group, Group { subscribe_id: 4, sequence: 77 });
    assert_eq!(frame, FrameHeader { timestamp_delta: Some(-33), payload_len: 300 });
}
