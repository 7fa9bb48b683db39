//! Codec micro-benchmarks (divan): the hot headers of every family and a draft-18 SUBSCRIBE.
//! Run: `cargo bench -p sluice-wire --bench codec`. Figures go in the README.

use bytes::Bytes;
use divan::{Bencher, black_box};
use sluice_wire::lite::group::FrameHeader;
use sluice_wire::moqt::subgroup::{
    SubgroupHeader, SubgroupId, SubgroupObject, SubgroupObjectDecoder, SubgroupObjectEncoder,
};
use sluice_wire::{Decode, Encode, LiteVersion, MoqtVersion, Reader};

fn main() {
    divan::main();
}

const V18: MoqtVersion = MoqtVersion::Draft18;

fn shared(v: Vec<u8>) -> Bytes {
    let b = Bytes::from(v);
    drop(b.clone());
    b
}

fn subgroup_header() -> SubgroupHeader {
    SubgroupHeader {
        track_alias: 3,
        group_id: 12_345,
        subgroup_id: SubgroupId::Explicit(0),
        publisher_priority: Some(128),
        properties_present: false,
        end_of_group: true,
        first_object: false,
    }
}

/// SUBGROUP_HEADER followed by one object header with a 1200-byte payload.
fn subgroup_bytes() -> Bytes {
    let header = subgroup_header();
    let mut out = Vec::new();
    header.encode(&mut out, V18).unwrap();
    SubgroupObjectEncoder::new(&header, V18)
        .encode(&mut out, &SubgroupObject::normal(0, vec![7u8; 1200]))
        .unwrap();
    shared(out)
}

#[divan::bench]
fn d18_subgroup_header_and_object_header_decode(bencher: Bencher<'_, '_>) {
    let bytes = subgroup_bytes();
    bencher.bench_local(|| {
        let mut r = Reader::new(black_box(&bytes));
        let header = SubgroupHeader::decode(&mut r, V18).unwrap();
        let mut dec = SubgroupObjectDecoder::new(&header, V18);
        black_box(dec.decode_header(&mut r).unwrap())
    });
}

#[divan::bench]
fn d18_subgroup_header_and_object_header_encode(bencher: Bencher<'_, '_>) {
    let header = subgroup_header();
    let object = SubgroupObject::normal(0, Bytes::from(vec![7u8; 1200]));
    let mut out = Vec::with_capacity(64);
    bencher.bench_local(|| {
        out.clear();
        black_box(&header).encode(&mut out, V18).unwrap();
        SubgroupObjectEncoder::new(&header, V18)
            .encode_header(&mut out, &black_box(&object).header())
            .unwrap();
        black_box(out.len())
    });
}

#[divan::bench(args = [LiteVersion::Lite04, LiteVersion::Lite05])]
fn lite_frame_header_decode(bencher: Bencher<'_, '_>, version: LiteVersion) {
    let header = FrameHeader {
        timestamp_delta: (version == LiteVersion::Lite05).then_some(33_000),
        payload_len: 1200,
    };
    let bytes = shared(header.encode_to_vec(version).unwrap());
    bencher.bench_local(|| {
        let mut r = Reader::new(black_box(&bytes));
        black_box(FrameHeader::decode(&mut r, version).unwrap())
    });
}

#[divan::bench(args = [LiteVersion::Lite04, LiteVersion::Lite05])]
fn lite_frame_header_encode(bencher: Bencher<'_, '_>, version: LiteVersion) {
    let header = FrameHeader {
        timestamp_delta: (version == LiteVersion::Lite05).then_some(33_000),
        payload_len: 1200,
    };
    let mut out = Vec::with_capacity(16);
    bencher.bench_local(|| {
        out.clear();
        black_box(&header).encode(&mut out, version).unwrap();
        black_box(out.len())
    });
}

fn subscribe() -> sluice_wire::moqt::message::Subscribe {
    use sluice_wire::moqt::filter::SubscriptionFilter;
    use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
    use sluice_wire::moqt::params::{GroupOrder, Parameter, Parameters};
    sluice_wire::moqt::message::Subscribe {
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
            Parameter::GroupOrder(GroupOrder::Ascending),
        ]),
    }
}

#[divan::bench]
fn d18_subscribe_decode(bencher: Bencher<'_, '_>) {
    let bytes = shared(subscribe().encode_to_vec(V18).unwrap());
    bencher.bench_local(|| {
        let mut r = Reader::new(black_box(&bytes));
        black_box(sluice_wire::moqt::message::Subscribe::decode(&mut r, V18).unwrap())
    });
}

#[divan::bench]
fn d18_subscribe_encode(bencher: Bencher<'_, '_>) {
    let message = subscribe();
    let mut out = Vec::with_capacity(128);
    bencher.bench_local(|| {
        out.clear();
        black_box(&message).encode(&mut out, V18).unwrap();
        black_box(out.len())
    });
}
