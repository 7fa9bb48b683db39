//! A payload written in several chunks (`ObjectWrite::new(.., Payload::Chunks(..))`, what a
//! relay forwards when an object arrived across stream chunks) goes out chunk by chunk and
//! reaches the subscribing application as the very same chunks (pointer identity), on
//! subgroup/group streams and fetch streams, for lite-04, lite-05 and draft-18; the object
//! after it still decodes (the size prefix / object header length is the total). A
//! datagram, one buffer by nature, carries the joined bytes.

use bytes::Bytes;
use sluice::{
    Config, Event, LiteVersion, Location, MoqtVersion, Namespace, ObjectWrite, Output, Payload,
    RequestHandle, Role, Session, SubscribeOptions, Time, TrackInfo, TrackName, Version,
};
use sluice_sim::{Pair, Side};

const VERSIONS: [Version; 3] = [
    Version::Lite(LiteVersion::Lite04),
    Version::Lite(LiteVersion::Lite05),
    Version::Moqt(MoqtVersion::Draft18),
];

fn track() -> TrackName {
    TrackName::new(Namespace::from_fields(["room", "alice"]), "video")
}

fn pair(v: Version) -> Pair {
    let mut p = Pair::new(v, Config::default(), Config::default());
    p.take_events(Side::Client);
    p.take_events(Side::Server);
    p
}

/// Three chunks, each its own allocation, of different lengths and contents.
fn three_chunks() -> Vec<Bytes> {
    vec![Bytes::from(vec![1u8; 700]), Bytes::from(vec![2u8; 3]), Bytes::from(vec![3u8; 1500])]
}

fn write(object: u64, payload: impl Into<Payload>) -> ObjectWrite {
    // lite-05 needs a timestamp; the others ignore it.
    ObjectWrite { timestamp: Some(10 + object), ..ObjectWrite::new(object, payload) }
}

/// The subscriber (client) subscribes to the publisher (server), which accepts; returns the
/// subscriber's and the publisher's handles.
fn subscribed(p: &mut Pair, v: Version) -> (RequestHandle, RequestHandle) {
    let s = p.client.subscribe(track(), SubscribeOptions::default()).unwrap();
    p.run();
    let ev = p.take_events(Side::Server);
    let [Event::IncomingSubscribe { request, .. }] = ev.as_slice() else { panic!("{v:?} {ev:?}") };
    let r = *request;
    // lite starts a subscription at the latest group: say it is group 0.
    let largest = matches!(v, Version::Lite(_)).then_some(Location { group: 0, object: 0 });
    p.server.accept_subscribe(r, TrackInfo { largest, ..TrackInfo::default() }).unwrap();
    p.run();
    let ev = p.take_events(Side::Client);
    assert!(matches!(ev.as_slice(), [Event::Subscribed { request, .. }] if *request == s), "{v:?} {ev:?}");
    (s, r)
}

/// The objects' payloads the subscriber got, in order.
fn payloads(events: Vec<Event>) -> Vec<Payload> {
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::Object { payload, .. } => Some(payload),
            _ => None,
        })
        .collect()
}

fn assert_same_memory(got: &Payload, sent: &[Bytes], what: &str) {
    let Payload::Chunks(got) = got else { panic!("{what}: not in chunks: {got:?}") };
    let got: Vec<(*const u8, usize)> = got.iter().map(|c| (c.as_ptr(), c.len())).collect();
    let sent: Vec<(*const u8, usize)> = sent.iter().map(|c| (c.as_ptr(), c.len())).collect();
    assert_eq!(got, sent, "{what}");
}

#[test]
fn a_three_chunk_object_reaches_the_subscriber_as_the_same_three_chunks() {
    for v in VERSIONS {
        let mut p = pair(v);
        let (_, r) = subscribed(&mut p, v);
        let g = p.server.open_subgroup(r, 0, 0, None).unwrap();
        let chunks = three_chunks();
        p.server.write_object(g, write(0, Payload::Chunks(chunks.clone()))).unwrap();
        p.server.write_object(g, write(1, Bytes::from_static(b"next"))).unwrap();
        p.run();
        let got = payloads(p.take_events(Side::Client));
        assert_eq!(got.len(), 2, "{v:?} {got:?}");
        assert_same_memory(&got[0], &chunks, &format!("{v:?}"));
        assert_eq!(got[1].to_bytes(), Bytes::from_static(b"next"), "{v:?}");
    }
}

#[test]
fn a_three_chunk_fetch_object_reaches_the_fetcher_as_the_same_three_chunks() {
    for v in VERSIONS {
        let mut p = pair(v);
        let (start, end) = (Location { group: 4, object: 0 }, Location { group: 5, object: 0 });
        p.client.fetch(track(), start, end, 0).unwrap();
        p.run();
        let ev = p.take_events(Side::Server);
        let [Event::IncomingFetch { request, .. }] = ev.as_slice() else { panic!("{v:?} {ev:?}") };
        let r = *request;
        p.server.accept_fetch(r, end).unwrap();
        let chunks = three_chunks();
        p.server.write_fetch_object(r, 4, 0, write(0, Payload::Chunks(chunks.clone()))).unwrap();
        p.server.write_fetch_object(r, 4, 0, write(1, Bytes::from_static(b"next"))).unwrap();
        p.server.finish_fetch(r).unwrap();
        p.run();
        let got = payloads(p.take_events(Side::Client));
        assert_eq!(got.len(), 2, "{v:?} {got:?}");
        assert_same_memory(&got[0], &chunks, &format!("{v:?}"));
        assert_eq!(got[1].to_bytes(), Bytes::from_static(b"next"), "{v:?}");
    }
}

#[test]
fn a_chunked_object_is_written_as_one_write_per_chunk_with_the_header_first() {
    // Draft-18 publisher driven by hand: the outputs of one chunked object.
    let v = Version::Moqt(MoqtVersion::Draft18);
    let mut p = pair(v);
    let (_, r) = subscribed(&mut p, v);
    let g = p.server.open_subgroup(r, 0, 0, None).unwrap();
    // Drain what the open queued, outside the sim (the sim would consume it).
    let mut s: Session =
        std::mem::replace(&mut p.server, Session::new(Config::default(), Role::Server, Time::ZERO));
    while s.poll().is_some() {}
    let chunks = three_chunks();
    s.write_object(g, write(0, Payload::Chunks(chunks.clone()))).unwrap();
    let mut writes = Vec::new();
    while let Some(o) = s.poll() {
        if let Output::Write { stream, header, payload, fin } = o {
            assert_eq!((stream, fin), (g, false));
            writes.push((header, payload));
        }
    }
    assert_eq!(writes.len(), 3, "{writes:?}");
    assert!(!writes[0].0.is_empty(), "the first write carries the headers");
    assert!(writes[1].0.is_empty() && writes[2].0.is_empty(), "{writes:?}");
    for ((_, payload), chunk) in writes.iter().zip(&chunks) {
        assert_eq!((payload.as_ptr(), payload.len()), (chunk.as_ptr(), chunk.len()));
    }
}

#[test]
fn a_chunked_datagram_payload_is_joined_into_the_one_datagram() {
    for v in [Version::Lite(LiteVersion::Lite05), Version::Moqt(MoqtVersion::Draft18)] {
        let mut p = pair(v);
        let (_, r) = subscribed(&mut p, v);
        let chunks = vec![Bytes::from_static(b"ab"), Bytes::from_static(b"cde"), Bytes::from_static(b"f")];
        p.server.send_datagram(r, 1, write(0, Payload::Chunks(chunks))).unwrap();
        p.run();
        let got = payloads(p.take_events(Side::Client));
        assert_eq!(got, vec![Payload::One(Bytes::from_static(b"abcdef"))], "{v:?}");
    }
}
