//! The codec comparison is fair: for every message `benches/codec_compare.rs` measures,
//! `moqtap-codec` decodes the bytes sluice-wire wrote to the same field values (spelled
//! out here from the fixtures, in the peer's types), and its encoder writes the same bytes
//! back. Also: sluice-wire reads an object header without a heap allocation.

#[path = "../peer/moqtap.rs"]
mod moqtap;

use bytes::Bytes;
use moqtap_codec::draft18::message::ControlMessage;
use moqtap_codec::kvp::{KeyValuePair, KvpValue};
use moqtap_codec::types::TrackNamespace;
use moqtap_codec::varint::VarInt;
use sluice_bench_compare::codec_fixtures as fx;
use sluice_bench_compare::counting::{CountingAlloc, Snapshot};
use sluice_wire::moqt::subgroup::{SubgroupHeader, SubgroupObjectDecoder};
use sluice_wire::{Decode, Encode, Reader};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn vi(v: u64) -> VarInt {
    VarInt::from_u64(v).expect("fits")
}

fn varint_param(key: u64, value: u64) -> KeyValuePair {
    KeyValuePair { key: vi(key), value: KvpValue::Varint(vi(value)) }
}

fn bytes_param(key: u64, value: Vec<u8>) -> KeyValuePair {
    KeyValuePair { key: vi(key), value: KvpValue::Bytes(value) }
}

fn vi64(values: &[u64]) -> Vec<u8> {
    let mut out = Vec::new();
    for &v in values {
        sluice_wire::varint::put_vi64(&mut out, v);
    }
    out
}

/// Decodes with the peer, checks the fields, re-encodes with the peer: same bytes.
fn peer_round_trip(sluice_bytes: &[u8], expected: &ControlMessage) {
    let decoded = moqtap::decode_control(sluice_bytes).expect("the peer decodes sluice's bytes");
    assert_eq!(&decoded, expected);
    let mut out = Vec::new();
    moqtap::encode_control(&decoded, &mut out).expect("the peer encodes");
    assert_eq!(out, sluice_bytes, "the peer writes the same bytes");
}

#[test]
fn subscribe_decodes_to_the_same_fields_and_encodes_to_the_same_bytes() {
    let message = fx::subscribe();
    let bytes = message.encode_to_vec(fx::V18).unwrap();
    let expected = ControlMessage::Subscribe(moqtap_codec::draft18::message::Subscribe {
        request_id: vi(42),
        track_namespace: TrackNamespace(vec![b"example.net".to_vec(), b"live".to_vec(), b"room-7".to_vec()]),
        track_name: b"video-1080p".to_vec(),
        parameters: vec![
            varint_param(0x10, 1),         // FORWARD = 1
            varint_param(0x20, 96),        // SUBSCRIBER_PRIORITY
            bytes_param(0x21, vec![0x01]), // SUBSCRIPTION_FILTER: Next Group Start
            varint_param(0x22, 1),         // GROUP_ORDER: Ascending
        ],
    });
    peer_round_trip(&bytes, &expected);
    let shared = Bytes::from(bytes);
    assert_eq!(
        sluice_wire::moqt::message::Subscribe::decode(&mut Reader::new(&shared), fx::V18).unwrap(),
        message
    );
}

#[test]
fn subscribe_ok_decodes_to_the_same_fields_and_encodes_to_the_same_bytes() {
    let message = fx::subscribe_ok();
    let bytes = message.encode_to_vec(fx::V18).unwrap();
    let expected = ControlMessage::SubscribeOk(moqtap_codec::draft18::message::SubscribeOk {
        track_alias: vi(fx::TRACK_ALIAS),
        parameters: vec![
            varint_param(0x08, 30_000),               // EXPIRES
            bytes_param(0x09, vi64(&[fx::GROUP, 7])), // LARGEST_OBJECT (a Location)
        ],
        track_properties: vec![],
    });
    peer_round_trip(&bytes, &expected);
    let shared = Bytes::from(bytes);
    assert_eq!(
        sluice_wire::moqt::message::SubscribeOk::decode(&mut Reader::new(&shared), fx::V18).unwrap(),
        message
    );
}

#[test]
fn subgroup_stream_reads_the_same_objects_and_writes_the_same_bytes() {
    let bytes = fx::subgroup_stream().unwrap();
    let (header, metas) = moqtap::read_subgroup(&bytes).expect("the peer reads the stream");
    assert_eq!(header.track_alias.into_inner(), fx::TRACK_ALIAS);
    assert_eq!(header.group_id.into_inner(), fx::GROUP);
    assert_eq!(header.subgroup_id_mode(), 2, "explicit subgroup id");
    assert_eq!(header.subgroup_id.into_inner(), 0);
    assert_eq!(header.publisher_priority, Some(128));
    assert!(header.is_end_of_group() && !header.has_properties() && !header.is_first_object());
    assert_eq!(metas.len() as u64, fx::OBJECTS);
    for (id, meta) in metas.iter().enumerate() {
        assert_eq!(meta.object_id, id as u64);
        assert_eq!(meta.payload_length, fx::PAYLOAD_LEN as u64);
        assert_eq!((meta.status, meta.extension_headers_len), (None, 0));
    }
    // Whole objects (payload included) written by the peer are sluice's bytes.
    let (header, objects) = moqtap::subgroup_objects(&bytes).unwrap();
    assert!(objects.iter().all(|o| o.payload == vec![7u8; fx::PAYLOAD_LEN]));
    let mut out = Vec::new();
    moqtap::write_subgroup(&header, &objects, &mut out).unwrap();
    assert_eq!(out, bytes.as_ref());
    let mut ours = Vec::new();
    fx::write_subgroup(&fx::subgroup_header(), &fx::subgroup_objects(), &mut ours).unwrap();
    assert_eq!(ours, bytes.as_ref());
    // The two walks the benchmark times agree.
    assert_eq!(moqtap::walk_subgroup(&bytes).unwrap(), fx::walk_subgroup(&bytes).unwrap());
}

/// The zero-copy send pair writes the same stream: its chunks, in order, are the bytes of
/// the subgroup stream the peer reads, every header is inline, and every payload chunk is
/// the caller's allocation. The previous shared-block path gives the very same chunks.
#[test]
fn subgroup_send_chunks_are_the_stream_and_payloads_are_not_copied() {
    let (header, objects) = (fx::subgroup_header(), fx::subgroup_objects());
    let mut scratch = bytes::BytesMut::new();
    let mut chunks = Vec::new();
    let mut shared_chunks = Vec::new();
    // Twice: the second run replaces the first run's chunks (and reuses the scratch block).
    for _ in 0..2 {
        fx::send_subgroup(&header, &objects, &mut chunks).unwrap();
        assert_eq!(chunks.len(), 1 + objects.len());
        let joined: Vec<u8> = chunks.iter().flat_map(|(h, p)| h.iter().chain(p.iter()).copied()).collect();
        assert_eq!(joined, fx::subgroup_stream().unwrap().to_vec());
        assert!(chunks.iter().all(|(h, _)| h.is_inline()), "a header spilled to the heap");
        for ((_, payload), object) in chunks.iter().skip(1).zip(&objects) {
            assert_eq!(payload.as_ptr(), object.payload.as_ptr(), "payload copied");
        }
        let mut owned_chunks = Vec::new();
        fx::send_subgroup_owned(&header, objects.clone(), &mut owned_chunks).unwrap();
        assert_eq!(owned_chunks, chunks);
        fx::send_subgroup_shared_block(&header, &objects, &mut scratch, &mut shared_chunks).unwrap();
        assert_eq!(shared_chunks.len(), chunks.len());
        for ((h, p), (sh, sp)) in chunks.iter().zip(&shared_chunks) {
            assert_eq!((&h[..], p), (&sh[..], sp));
        }
    }
}

#[test]
fn fetch_stream_reads_the_same_objects_and_writes_the_same_headers() {
    let bytes = fx::fetch_stream().unwrap();
    let (header, objects) = moqtap::read_fetch(&bytes).expect("the peer reads the stream");
    assert_eq!(header.request_id.into_inner(), fx::FETCH_REQUEST);
    assert_eq!(objects.len() as u64, fx::OBJECTS);
    for (id, object) in objects.iter().enumerate() {
        assert_eq!(
            (object.group_id, object.subgroup_id, object.object_id, object.publisher_priority),
            (fx::GROUP, Some(0), id as u64, Some(128))
        );
        assert_eq!(object.header.payload_length.into_inner(), fx::PAYLOAD_LEN as u64);
    }
    let mut theirs = Vec::new();
    moqtap::write_fetch_headers(&header, &objects, &mut theirs).unwrap();
    let mut ours = Vec::new();
    fx::write_fetch_headers(&fx::fetch_headers(), &mut ours).unwrap();
    assert_eq!(theirs, ours, "the same header bytes");
    assert!(ours.len() < 5 * fx::OBJECTS as usize, "headers only, no payload");
    assert_eq!(moqtap::walk_fetch(&bytes).unwrap(), fx::walk_fetch(&bytes).unwrap());
}

#[test]
fn sluice_object_header_decode_allocates_nothing() {
    let bytes = fx::subgroup_stream().unwrap();
    let mut r = Reader::new(&bytes);
    let header = SubgroupHeader::decode(&mut r, fx::V18).unwrap();
    let mut decoder = SubgroupObjectDecoder::new(&header, fx::V18);
    let before = Snapshot::now();
    let mut objects = 0;
    while !r.is_empty() {
        let object = decoder.decode_header(&mut r).unwrap();
        r.skip(object.payload_len as usize).unwrap();
        objects += 1;
    }
    let allocations = Snapshot::now().allocations_since(before);
    assert_eq!(objects, fx::OBJECTS);
    assert_eq!(allocations, 0, "object header decode allocated");
    // The counter does count (so the zero above means something).
    let before = Snapshot::now();
    drop(std::hint::black_box(vec![0u8; 16]));
    assert_eq!(Snapshot::now().allocations_since(before), 1);
}
