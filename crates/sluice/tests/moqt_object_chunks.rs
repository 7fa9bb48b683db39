//! MOQT draft-18 subgroup objects cut into chunks at every place: a chunk that is exactly
//! one object header (decoded without buffering it) and every other shape (header and
//! payload together, a header split across chunks, status objects without payload, an
//! object over `max_object_size`) deliver the same events and outputs as the whole stream
//! in one chunk, and each object is delivered by the chunk that brings its last byte.

use bytes::Bytes;
use sluice::{
    Config, Input, MoqtVersion, Namespace, Output, Role, Session, StreamId, SubscribeOptions, Time,
    TrackName, Version,
};
use sluice_wire::Encode;
use sluice_wire::moqt::kvp::{KeyValue, Properties};
use sluice_wire::moqt::message::SubscribeOk;
use sluice_wire::moqt::object::ObjectStatus;
use sluice_wire::moqt::setup::Setup;
use sluice_wire::moqt::subgroup::{SubgroupHeader, SubgroupId, SubgroupObject, SubgroupObjectEncoder};

const D18: MoqtVersion = MoqtVersion::Draft18;

/// A client subscribed with alias 1, its outputs drained.
fn subscribed(config: Config) -> Session {
    let mut s = Session::new(config, Role::Client, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(D18) });
    let ctl = StreamId(3);
    s.handle(Time::ZERO, Input::StreamOpened { stream: ctl, bidi: false });
    let setup = Setup::default().encode_to_vec(D18).unwrap();
    s.handle(Time::ZERO, Input::StreamData { stream: ctl, data: Bytes::from(setup) });
    s.subscribe(TrackName::new(Namespace::from_fields(["n"]), "a"), SubscribeOptions::default()).unwrap();
    let ok =
        SubscribeOk { track_alias: 1, parameters: Default::default(), track_properties: Default::default() };
    let ok = ok.encode_to_vec(D18).unwrap();
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId::local(1), data: Bytes::from(ok) });
    while s.poll().is_some() {}
    s
}

/// The SUBGROUP_HEADER, the objects after it (encoded apart), and where each object ends.
fn stream(properties: bool, objects: &[SubgroupObject]) -> (Vec<u8>, Vec<u8>, Vec<usize>) {
    let header = SubgroupHeader {
        track_alias: 1,
        group_id: 3,
        subgroup_id: SubgroupId::Explicit(9),
        publisher_priority: Some(5),
        properties_present: properties,
        end_of_group: false,
        first_object: false,
    };
    let mut head = Vec::new();
    header.encode(&mut head, D18).unwrap();
    let mut body = Vec::new();
    let mut ends = Vec::new();
    let mut e = SubgroupObjectEncoder::new(&header, D18);
    for o in objects {
        e.encode(&mut body, o).unwrap();
        ends.push(body.len());
    }
    (head, body, ends)
}

/// Feeds the stream header, then `body` cut at `cuts`, then FIN; returns the outputs after
/// each chunk of the body (the last entry: after FIN), each object's payload joined (how it
/// was cut is not what is compared).
fn run(config: Config, head: &[u8], body: &[u8], cuts: &[usize]) -> Vec<(usize, Vec<String>)> {
    let mut s = subscribed(config);
    let data = StreamId(7);
    s.handle(Time::ZERO, Input::StreamOpened { stream: data, bidi: false });
    s.handle(Time::ZERO, Input::StreamData { stream: data, data: Bytes::copy_from_slice(head) });
    let drain = |s: &mut Session| -> Vec<String> {
        std::iter::from_fn(|| s.poll())
            .map(|o| match o {
                Output::Event(sluice::Event::Object { request, info, payload }) => {
                    format!("object {request:?} {info:?} {:?}", payload.to_bytes())
                }
                other => format!("{other:?}"),
            })
            .collect()
    };
    let mut out = vec![(0, drain(&mut s))];
    let mut at = 0;
    for &cut in cuts.iter().chain([body.len()].iter()) {
        let chunk = Bytes::copy_from_slice(&body[at..cut]);
        s.handle(Time::ZERO, Input::StreamData { stream: data, data: chunk });
        at = cut;
        out.push((at, drain(&mut s)));
    }
    s.handle(Time::ZERO, Input::StreamFinished { stream: data });
    out.push((at, drain(&mut s)));
    out
}

fn all(steps: &[(usize, Vec<String>)]) -> Vec<String> {
    steps.iter().flat_map(|(_, o)| o.clone()).collect()
}

/// Every way of cutting `body` in two and in three, against the stream in one chunk: the
/// same outputs, each object delivered by the chunk that completes it.
fn same_for_every_cut(config: Config, properties: bool, objects: &[SubgroupObject]) {
    let (head, body, ends) = stream(properties, objects);
    let whole = all(&run(config.clone(), &head, &body, &[]));
    assert!(whole.len() >= 2, "{whole:?}");
    let check = |cuts: &[usize]| {
        let steps = run(config.clone(), &head, &body, cuts);
        assert_eq!(all(&steps), whole, "cut at {cuts:?}");
        let (mut delivered, mut stopped) = (0, false);
        for (fed, outputs) in &steps[..steps.len() - 1] {
            delivered += outputs.iter().filter(|o| o.starts_with("object")).count();
            let complete = ends.iter().filter(|e| **e <= *fed).count();
            stopped |= outputs.iter().any(|o| o.starts_with("StopSending"));
            assert!(delivered == complete || stopped, "cut at {cuts:?}: {delivered} after {fed} bytes");
        }
    };
    for a in 0..=body.len() {
        check(&[a]);
        for b in a..=body.len() {
            check(&[a, b]);
        }
    }
}

fn normal(id: u64, payload: &'static [u8]) -> SubgroupObject {
    SubgroupObject::normal(id, Bytes::from_static(payload))
}

#[test]
fn objects_cut_anywhere_deliver_the_same() {
    let objects = [
        normal(0, b"first"),
        normal(1, b"x"),
        SubgroupObject::normal(2, Bytes::new()),
        normal(4, b"after a gap"),
        SubgroupObject::status(5, ObjectStatus::EndOfGroup),
    ];
    same_for_every_cut(Config::default(), false, &objects);
}

#[test]
fn objects_with_properties_cut_anywhere_deliver_the_same() {
    let props = Properties::from_pairs(&[KeyValue::bytes(0x0B, vec![7u8; 5])]).unwrap();
    let objects = [
        SubgroupObject { properties: props.clone(), ..normal(0, b"with") },
        normal(1, b"without"),
        SubgroupObject { properties: props, ..normal(2, b"with again") },
    ];
    same_for_every_cut(Config::default(), true, &objects);
}

#[test]
fn an_object_over_the_size_limit_stops_the_stream_however_cut() {
    let config = Config { max_object_size: 4, ..Config::default() };
    let objects = [normal(0, b"ok"), normal(1, b"too large")];
    let (head, body, ends) = stream(false, &objects);
    // The refusal comes with the chunk that completes the large object's header (2 bytes).
    for a in 0..=body.len() {
        for b in a..=body.len() {
            let steps = run(config.clone(), &head, &body, &[a, b]);
            let stop = steps.iter().position(|(_, o)| o.iter().any(|o| o.starts_with("StopSending")));
            let due = steps.iter().position(|(fed, _)| *fed >= ends[0] + 2);
            assert_eq!(stop, due, "cut at {a}, {b}");
        }
    }
    same_for_every_cut(config, false, &objects);
}
