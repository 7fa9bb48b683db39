//! Draft-18 relay rules from `docs/traceability/draft-18.md`, one test per rule group.
//!
//! * Object Properties (draft-18 §2.5 "Properties", §13 "Immutable Properties", "Prior
//!   Group ID Gap", "Prior Object ID Gap"): a relay forwards and caches every object's
//!   properties byte for byte (unknown ones, Immutable Properties with their exact varint
//!   encodings, the gap properties), never merges one object's with another's, and adds
//!   none to an object that had none.
//! * LARGEST_OBJECT (draft-18 "LARGEST OBJECT Parameter"): what a relay tells a
//!   subscriber is the largest of the upstream's LARGEST_OBJECT and the objects it
//!   received, cached or not.

mod common;

use bytes::Bytes;
use common::*;
use sluice::{Event, Location, Namespace, ObjectWrite, SubscribeOptions, TrackInfo, TrackName};
use sluice_relay::RelayConfig;
use sluice_sim::{ConnId, LinkConfig};

/// Object properties as raw Key-Value-Pairs (types delta-coded, vi64 varints), with
/// deliberately non-minimal varints so a re-encoding would show:
/// * Immutable Properties (0x0B) holding an unknown even type 0x40 (a 2-byte delta) with
///   the value 7 in a 2-byte varint, and an unknown odd type 0x41 with bytes "abc";
/// * Prior Group ID Gap (0x3C) = 1 as a 4-byte varint;
/// * Prior Object ID Gap (0x3E) = 3;
/// * an unknown odd type 0x101 (2-byte delta 0xC3) with bytes "zz".
fn rich_properties() -> Bytes {
    let nested = [0x80, 0x40, 0x80, 0x07, 0x01, 0x03, b'a', b'b', b'c'];
    let mut raw = vec![0x0B, nested.len() as u8];
    raw.extend_from_slice(&nested);
    raw.extend_from_slice(&[0x31, 0xE0, 0x00, 0x00, 0x01]); // 0x0B + 0x31 = 0x3C
    raw.extend_from_slice(&[0x02, 0x03]); // 0x3C + 2 = 0x3E
    raw.extend_from_slice(&[0x80, 0xC3, 0x02, b'z', b'z']); // 0x3E + 0xC3 = 0x101
    Bytes::from(raw)
}

/// A second, different set: one unknown even type 0x24 = 9 and one unknown odd type 0x25.
fn other_properties() -> Bytes {
    Bytes::from_static(&[0x24, 0x09, 0x01, 0x01, b'q'])
}

/// The properties object `object` of group `group` is written with: rich on object 0,
/// the other set on object 1, none on object 2 (properties go on a subgroup's first
/// object, so the stream's header says objects carry them).
fn properties_of(group: u64, object: u64) -> Bytes {
    match (group, object) {
        (_, 0) => rich_properties(),
        (_, 1) => other_properties(),
        _ => Bytes::new(),
    }
}

const LEN: usize = 100;

/// A draft-18 publisher of `live/video` behind a relay and one draft-18 subscriber; groups
/// 0 and 2 (a real gap, hence Prior Group ID Gap) written with `properties_of`.
fn relayed_with_properties(config: RelayConfig) -> (Node, Publisher, TrackName, ConnId) {
    let mut node = Node::new(config);
    let (_, mut publisher, track) = Publisher::live_video(&mut node, DRAFT18);
    let (_, sub) = node.connect(DRAFT18, LinkConfig::perfect());
    node.peer(sub).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
    node.pump();
    publisher.serve(&mut node);
    let request = *publisher.subscriptions.last().unwrap();
    for group in [0, 2] {
        let session = node.peer(publisher.conn);
        let stream = session.open_subgroup(request, group, 0, None).unwrap();
        for object in 0..3 {
            let mut write = ObjectWrite::new(object, frame(group, object, LEN));
            write.properties = properties_of(group, object).into();
            session.write_object(stream, write).unwrap();
        }
        session.close_subgroup(stream, true).unwrap();
        node.pump();
    }
    (node, publisher, track, sub)
}

/// (group, object, properties) of every object a subscription received.
fn live_properties(node: &mut Node, conn: ConnId) -> Vec<(u64, u64, Bytes)> {
    node.events(conn)
        .into_iter()
        .filter_map(|e| match e {
            Event::Object { info, .. } if info.status == sluice::ObjectStatus::Normal => {
                Some((info.group, info.object, info.properties.into_bytes()))
            }
            _ => None,
        })
        .collect()
}

/// What the publisher wrote: (group, object, properties) for groups 0 and 2.
fn written() -> Vec<(u64, u64, Bytes)> {
    [0, 2].into_iter().flat_map(|g| (0..3).map(move |o| (g, o, properties_of(g, o)))).collect()
}

/// A live subscription through the relay gets every object's properties exactly as the
/// original publisher serialized them: unknown types forwarded unchanged and
/// uninterpreted (properties-1, properties-3), Immutable Properties with their varint
/// encodings intact (immutable-properties-2/3), Prior Group/Object ID Gap neither modified
/// nor removed (prior-*-id-gap-2); each object keeps its own set, none merged into the
/// next (properties-2); an object published without properties arrives without any, so
/// the relay adds neither Immutable Properties nor a gap property (immutable-properties-1,
/// prior-*-id-gap-1).
#[test]
fn live_objects_keep_their_properties_byte_for_byte() {
    let (mut node, _publisher, _track, sub) = relayed_with_properties(RelayConfig::default());
    assert_eq!(live_properties(&mut node, sub), written());
}

/// The relay caches each object with its properties and serves them unchanged: a FETCH
/// answered from the cache (the publisher never sees it) carries the same bytes,
/// Immutable Properties and the gap properties included (properties-1: cached with the
/// object; immutable-properties-3; prior-*-id-gap-2: sluice keeps the gaps even on FETCH,
/// where removing them is only allowed).
#[test]
fn cached_objects_keep_their_properties_when_fetched() {
    let config = RelayConfig { cache_groups: 4, ..RelayConfig::default() };
    let (mut node, publisher, track, sub) = relayed_with_properties(config);
    assert_eq!(live_properties(&mut node, sub), written());
    let (_, fetcher) = node.connect(DRAFT18, LinkConfig::perfect());
    let h = node
        .peer(fetcher)
        .fetch(track, Location { group: 0, object: 0 }, Location { group: 2, object: 3 }, 10)
        .unwrap();
    node.pump();
    let mut fetched = Vec::new();
    let mut ended = None;
    for event in node.events(fetcher) {
        match event {
            Event::Object { request, info, .. } if request == h => {
                fetched.push((info.group, info.object, info.properties.into_bytes()))
            }
            Event::FetchEnded { request, reason } if request == h => ended = Some(reason.code),
            _ => {}
        }
    }
    assert_eq!(ended, Some(0));
    assert_eq!(fetched, written());
    let forwarded = node.events(publisher.conn).iter().any(|e| matches!(e, Event::IncomingFetch { .. }));
    assert!(!forwarded, "served from the cache, not forwarded");
}

/// A second subscriber's LARGEST_OBJECT is the largest location the relay received, even
/// with a cache that keeps nothing (largest-object-2, item 2), and the upstream's
/// LARGEST_OBJECT when that is larger (item 1).
#[test]
fn largest_object_is_the_larger_of_upstream_and_received() {
    // Groups 0 and 1 of 4 objects: (1, 3) is the largest object received (the End of Group
    // status object closing each group does not count, as for the cache).
    for (upstream_largest, expected) in [
        (None, Location { group: 1, object: 3 }),
        (Some(Location { group: 9, object: 5 }), Location { group: 9, object: 5 }),
    ] {
        let config = RelayConfig { cache_groups: 0, ..RelayConfig::default() };
        let mut node = Node::new(config);
        let (_, mut publisher, track) = Publisher::live_video(&mut node, DRAFT18);
        let (_, first) = node.connect(DRAFT18, LinkConfig::perfect());
        node.peer(first).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
        node.pump();
        for event in node.events(publisher.conn) {
            if let Event::IncomingSubscribe { request, .. } = event {
                let info = TrackInfo { largest: upstream_largest, ..TrackInfo::default() };
                node.peer(publisher.conn).accept_subscribe(request, info).unwrap();
                publisher.subscriptions.push(request);
            }
        }
        node.pump();
        publisher.write_group(&mut node, 0, 0..4, LEN);
        publisher.write_group(&mut node, 1, 0..4, LEN);

        let (_, second) = node.connect(DRAFT18, LinkConfig::perfect());
        let h = node.peer(second).subscribe(track, SubscribeOptions::default()).unwrap();
        node.pump();
        let largest = node.events(second).into_iter().find_map(|e| match e {
            Event::Subscribed { request, info } if request == h => Some(info.largest),
            _ => None,
        });
        assert_eq!(largest, Some(Some(expected)), "upstream said {upstream_largest:?}");
    }
}

/// A FETCH whose range starts before the cache (group 2 of 0..3 is all it keeps) is not
/// answered from the cached part first: the relay sends nothing until the upstream FETCH
/// has confirmed what the uncached objects are, then relays the whole range in order
/// (fetch-handling-1: delivery pauses at the first uncached object of unknown status).
#[test]
fn a_fetch_reaching_before_the_cache_waits_for_the_upstream() {
    let config = RelayConfig { cache_groups: 1, ..RelayConfig::default() };
    let mut node = Node::new(config);
    let (_, mut publisher, track) = Publisher::live_video(&mut node, DRAFT18);
    let (_, sub) = node.connect(DRAFT18, LinkConfig::perfect());
    node.peer(sub).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
    node.pump();
    publisher.serve(&mut node);
    for group in 0..3 {
        publisher.write_group(&mut node, group, 0..4, LEN);
    }
    let (_, fetcher) = node.connect(DRAFT18, LinkConfig::perfect());
    let start = Location { group: 1, object: 2 };
    let end = Location { group: 2, object: 2 };
    let h = node.peer(fetcher).fetch(track, start, end, 10).unwrap();
    node.pump();
    let before: Vec<Event> = node.events(fetcher);
    assert!(
        !before.iter().any(|e| matches!(e, Event::Object { request, .. } if *request == h)),
        "no object before the upstream answered: {before:?}"
    );
    let upstream: Vec<(sluice::RequestHandle, Location)> = node
        .events(publisher.conn)
        .into_iter()
        .filter_map(|e| match e {
            Event::IncomingFetch { request, start, .. } => Some((request, start)),
            _ => None,
        })
        .collect();
    assert_eq!(upstream.iter().map(|u| u.1).collect::<Vec<_>>(), vec![start], "forwarded upstream");
    let (request, _) = upstream[0];
    let session = node.peer(publisher.conn);
    session.accept_fetch(request, end).unwrap();
    let wanted = [(1, 2), (1, 3), (2, 0), (2, 1)];
    for (g, o) in wanted {
        session.write_fetch_object(request, g, 0, ObjectWrite::new(o, frame(g, o, LEN))).unwrap();
    }
    session.finish_fetch(request).unwrap();
    node.pump();
    let got: Vec<(u64, u64, Bytes)> = node
        .events(fetcher)
        .into_iter()
        .filter_map(|e| match e {
            Event::Object { request, info, payload } if request == h => {
                Some((info.group, info.object, payload.to_bytes()))
            }
            _ => None,
        })
        .collect();
    let want: Vec<(u64, u64, Bytes)> = wanted.iter().map(|&(g, o)| (g, o, frame(g, o, LEN))).collect();
    assert_eq!(got, want);
}

/// A MOQT SUBSCRIBE for a track nobody publishes: without RENDEZVOUS_TIMEOUT, or with 0, the
/// relay answers at once with REQUEST_ERROR DOES_NOT_EXIST, holding nothing
/// (rendezvous-timeout-1); with a timeout it is held until a publisher appears (then
/// served) or the timeout passes (then refused), whichever is first, and never longer
/// than the relay's own `subscribe_wait`.
#[test]
fn rendezvous_timeout_decides_how_long_a_subscribe_waits_for_a_publisher() {
    use std::time::Duration;
    let does_not_exist = sluice_wire::moqt::codes::RequestErrorCode::DOES_NOT_EXIST.0;
    let config = RelayConfig { subscribe_wait: Duration::from_millis(500), ..RelayConfig::default() };
    // (RENDEZVOUS_TIMEOUT, publisher announces after ms, failed by 40 ms, outcome at 1 s)
    type Case = (Option<u64>, Option<u64>, Option<u64>, Option<u64>);
    let cases: [Case; 5] = [
        (None, None, Some(does_not_exist), Some(does_not_exist)),
        (Some(0), None, Some(does_not_exist), Some(does_not_exist)),
        (Some(60), None, None, Some(does_not_exist)),
        (Some(60_000), None, None, Some(does_not_exist)), // capped by subscribe_wait
        (Some(200), Some(100), None, None),
    ];
    for (rendezvous, announce_at, failed_early, failed_late) in cases {
        let mut node = Node::new(config.clone());
        let (_, mut publisher) = Publisher::new(&mut node, DRAFT18, LinkConfig::perfect());
        let track = TrackName::new(Namespace::from_fields(["later"]), "audio");
        let (_, sub) = node.connect(DRAFT18, LinkConfig::perfect());
        let options = SubscribeOptions { rendezvous_timeout_ms: rendezvous, ..SubscribeOptions::default() };
        node.peer(sub).subscribe(track.clone(), options).unwrap();
        node.pump();
        let mut got = Received::default();
        got.take(&mut node, sub);
        assert_eq!(got.failed, failed_early, "{rendezvous:?}: answer before any time passed");
        assert_eq!(node.relay.waiting(), usize::from(failed_early.is_none()), "{rendezvous:?}");
        node.tick(40);
        got.take(&mut node, sub);
        assert_eq!(got.failed, failed_early, "{rendezvous:?}: at 40 ms");
        if let Some(at) = announce_at {
            node.tick(at - 40);
            node.peer(publisher.conn).announce(track.namespace.clone()).unwrap();
            node.pump();
            publisher.serve(&mut node);
            publisher.write_group(&mut node, 0, 0..1, 10);
        }
        node.tick(960);
        got.take(&mut node, sub);
        assert_eq!(got.failed, failed_late, "{rendezvous:?}: at 1 s");
        if failed_late.is_none() {
            assert!(got.subscribed, "{rendezvous:?}: served once the publisher appeared");
            assert_eq!(got.ids(), vec![(0, 0)]);
        }
        assert_eq!(node.relay.waiting(), 0, "{rendezvous:?}");
    }
}
