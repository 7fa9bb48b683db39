//! The SUBGROUP_HEADER FIRST_OBJECT bit (0x40, draft-18 §"Subgroups" and §"Subgroup
//! Header"): set when the stream's first object is the first ever published in its
//! subgroup — by default for object id 0, or as `ObjectWrite::first_in_subgroup` says — and
//! a stream carrying it is received like any other.

use bytes::Bytes;
use sluice::{
    Config, Event, MoqtVersion, Namespace, ObjectWrite, Output, RequestHandle, StreamId, SubscribeOptions,
    TrackInfo, TrackName, Version,
};
use sluice_sim::{Pair, Side};

const V: Version = Version::Moqt(MoqtVersion::Draft18);
const FIRST_OBJECT: u8 = 0x40;

fn accepted(p: &mut Pair) -> (RequestHandle, RequestHandle) {
    let track = TrackName::new(Namespace::from_fields(["f"]), "t");
    let s = p.client.subscribe(track, SubscribeOptions::default()).unwrap();
    p.run();
    let incoming = p
        .take_events(Side::Server)
        .into_iter()
        .find_map(|e| match e {
            Event::IncomingSubscribe { request, .. } => Some(request),
            _ => None,
        })
        .expect("IncomingSubscribe");
    p.server.accept_subscribe(incoming, TrackInfo::default()).unwrap();
    p.run();
    p.take_events(Side::Client);
    (s, incoming)
}

/// Writes `object` as the first object of a new subgroup stream and returns the stream's
/// first byte (the SUBGROUP_HEADER type: a one-byte vi64, 0x10..=0x7D). The outputs are
/// inspected, not delivered.
fn header_type(p: &mut Pair, request: RequestHandle, group: u64, subgroup: u64, object: ObjectWrite) -> u8 {
    let stream = p.server.open_subgroup(request, group, subgroup, None).unwrap();
    p.server.write_object(stream, object).unwrap();
    first_written_byte(p, stream)
}

fn first_written_byte(p: &mut Pair, stream: StreamId) -> u8 {
    let mut found = None;
    while let Some(o) = p.server.poll() {
        if let Output::Write { stream: s, header, .. } = o
            && s == stream
            && found.is_none()
        {
            found = header.first().copied();
        }
    }
    found.expect("the stream's first write")
}

#[test]
fn object_zero_starts_a_stream_with_first_object() {
    let mut p = Pair::new(V, Config::default(), Config::default());
    let (_, incoming) = accepted(&mut p);
    let ty = header_type(&mut p, incoming, 0, 0, ObjectWrite::new(0, Bytes::from_static(b"a")));
    assert_eq!(ty & FIRST_OBJECT, FIRST_OBJECT, "type {ty:#x}");
}

#[test]
fn a_stream_starting_later_in_the_group_leaves_it_clear_by_default() {
    let mut p = Pair::new(V, Config::default(), Config::default());
    let (_, incoming) = accepted(&mut p);
    let ty = header_type(&mut p, incoming, 0, 0, ObjectWrite::new(5, Bytes::from_static(b"a")));
    assert_eq!(ty & FIRST_OBJECT, 0, "type {ty:#x}");
}

#[test]
fn the_application_overrides_the_default_both_ways() {
    let mut p = Pair::new(V, Config::default(), Config::default());
    let (_, incoming) = accepted(&mut p);
    let starts_at_5 =
        ObjectWrite { first_in_subgroup: Some(true), ..ObjectWrite::new(5, Bytes::from_static(b"a")) };
    let ty = header_type(&mut p, incoming, 1, 1, starts_at_5);
    assert_eq!(ty & FIRST_OBJECT, FIRST_OBJECT, "type {ty:#x}");
    let resumed =
        ObjectWrite { first_in_subgroup: Some(false), ..ObjectWrite::new(0, Bytes::from_static(b"a")) };
    let ty = header_type(&mut p, incoming, 2, 0, resumed);
    assert_eq!(ty & FIRST_OBJECT, 0, "type {ty:#x}");
}

#[test]
fn a_header_only_stream_does_not_claim_a_first_object() {
    let mut p = Pair::new(V, Config::default(), Config::default());
    let (_, incoming) = accepted(&mut p);
    let stream = p.server.open_subgroup(incoming, 0, 0, None).unwrap();
    p.server.close_subgroup(stream, true).unwrap();
    let ty = first_written_byte(&mut p, stream);
    assert_eq!(ty & FIRST_OBJECT, 0, "type {ty:#x}");
}

#[test]
fn objects_on_a_first_object_stream_are_delivered() {
    let mut p = Pair::new(V, Config::default(), Config::default());
    let (sub, incoming) = accepted(&mut p);
    let stream = p.server.open_subgroup(incoming, 3, 0, None).unwrap();
    for id in 0..3u64 {
        p.server.write_object(stream, ObjectWrite::new(id, Bytes::from(vec![id as u8; 10]))).unwrap();
    }
    p.server.close_subgroup(stream, true).unwrap();
    p.run();
    let got: Vec<(u64, u64, Vec<u8>)> = p
        .take_events(Side::Client)
        .into_iter()
        .filter_map(|e| match e {
            Event::Object { request, info, payload } if request == sub && !payload.is_empty() => {
                Some((info.group, info.object, payload.to_bytes().to_vec()))
            }
            _ => None,
        })
        .collect();
    let want: Vec<(u64, u64, Vec<u8>)> = (0..3u64).map(|id| (3, id, vec![id as u8; 10])).collect();
    assert_eq!(got, want);
}

#[test]
fn a_close_whose_last_header_cannot_be_encoded_keeps_the_stream() {
    // After object u64::MAX no End of Group status object can follow (its id would not
    // increase): that close fails and the stream stays open, so a plain close still works.
    let mut p = Pair::new(V, Config::default(), Config::default());
    let (_, incoming) = accepted(&mut p);
    let stream = p.server.open_subgroup(incoming, 0, 0, None).unwrap();
    p.server.write_object(stream, ObjectWrite::new(u64::MAX, Bytes::from_static(b"a"))).unwrap();
    let first = p.server.close_subgroup(stream, true).unwrap_err();
    assert!(!matches!(first, sluice::CommandError::UnknownStream(_)), "{first:?}");
    p.server.close_subgroup(stream, false).unwrap();
    assert!(matches!(p.server.close_subgroup(stream, true), Err(sluice::CommandError::UnknownStream(_))));
}
