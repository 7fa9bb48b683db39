//! One publisher → relay → many subscribers, per version: one upstream subscription,
//! every object delivered to every subscriber byte for byte, in order, without copies.

mod common;

use common::*;
use sluice::{Namespace, SubscribeOptions, TrackName, Version};
use sluice_relay::RelayConfig;
use sluice_sim::LinkConfig;

fn fanout(version: Version, subscribers: usize) {
    let mut node = Node::new(RelayConfig::default());
    let (_, mut publisher) = Publisher::new(&mut node, version, LinkConfig::perfect());
    let ns = Namespace::from_fields(["live", "room1"]);
    node.peer(publisher.conn).announce(ns.clone()).unwrap();
    node.pump();
    assert_eq!(node.relay.namespaces(), vec![ns.clone()], "{version:?}: the publisher's namespace is routed");

    let track = TrackName::new(ns, "video");
    let mut subs = Vec::new();
    for _ in 0..subscribers {
        let (_, conn) = node.connect(version, LinkConfig::perfect());
        node.peer(conn).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
        subs.push((conn, Received::default()));
    }
    node.pump();
    publisher.serve(&mut node);
    assert_eq!(publisher.subscriptions.len(), 1, "{version:?}: one upstream subscription for all");
    assert_eq!(node.relay.subscribers(&track), subscribers);

    for group in 0..3 {
        publisher.write_group(&mut node, group, 0..5, 1200);
        node.tick(1);
    }
    let expected: Vec<(u64, u64)> = (0..3).flat_map(|g| (0..5).map(move |o| (g, o))).collect();
    for (conn, got) in &mut subs {
        got.take(&mut node, *conn);
        assert!(got.subscribed, "{version:?}: subscription accepted");
        assert_eq!(got.ids(), expected, "{version:?}: every object, in order");
        for ((g, _, o, payload, _), original) in got.objects.iter().zip(&publisher.written) {
            assert_eq!(payload, &frame(*g, *o, 1200), "{version:?}: payload bytes");
            assert_eq!(payload.as_ptr(), original.as_ptr(), "{version:?}: payload not copied end to end");
        }
    }
    assert_eq!(node.relay.stats().upstream_subscribes, 1);
    assert_eq!(node.relay.stats().objects_forwarded, 15 * subscribers as u64);
    assert_eq!(node.relay.stats().payload_copies, 0);
}

#[test]
fn lite04_publisher_to_100_subscribers_byte_identical() {
    fanout(LITE04, 100);
}

#[test]
fn lite05_publisher_to_100_subscribers_byte_identical() {
    fanout(LITE05, 100);
}

#[test]
fn draft18_publisher_to_100_subscribers_byte_identical() {
    fanout(DRAFT18, 100);
}

/// 100 subscribers, half from the start and half joining mid-track with each filter: each
/// gets exactly what its filter asks, in order, byte for byte, from one upstream.
#[test]
fn a_hundred_subscribers_half_joining_mid_track_each_get_their_filter() {
    use sluice::{Filter, Location};
    let mut node = Node::new(RelayConfig::default());
    let (_, mut publisher, track) = Publisher::live_video(&mut node, DRAFT18);
    let ids = |groups: &[(u64, std::ops::Range<u64>)]| -> Vec<(u64, u64)> {
        groups.iter().flat_map(|(g, r)| r.clone().map(move |o| (*g, o))).collect()
    };
    // (connection, the (group, object)s it must get, what it got)
    type Expect = Vec<(u64, u64)>;
    let mut subs: Vec<(sluice_sim::ConnId, Expect, Received)> = Vec::new();
    for i in 0..50 {
        let version = if i % 2 == 0 { DRAFT18 } else { LITE05 };
        let (_, conn) = node.connect(version, LinkConfig::perfect());
        node.peer(conn).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
        subs.push((conn, ids(&[(0, 0..5), (1, 0..5), (2, 0..5), (3, 0..5)]), Received::default()));
    }
    node.pump();
    publisher.serve(&mut node);
    publisher.write_group(&mut node, 0, 0..5, 500);
    // Mid-group 1: objects 0..3 written, the stream still open.
    let request = publisher.subscriptions[0];
    let stream = node.peer(publisher.conn).open_subgroup(request, 1, 0, None).unwrap();
    for object in 0..3 {
        let payload = frame(1, object, 500);
        node.peer(publisher.conn).write_object(stream, sluice::ObjectWrite::new(object, payload)).unwrap();
    }
    node.pump();
    // 50 join now, mid group 1, with every filter.
    for i in 0..50 {
        let (version, filter, want) = match i % 4 {
            // MOQT: after the Largest Object {1, 2} the relay had when the SUBSCRIBE came
            // (draft-18 §5.1.2: nothing before it), so from {1, 3} on.
            0 => (DRAFT18, Filter::LargestObject, ids(&[(1, 3..5), (2, 0..5), (3, 0..5)])),
            // moq-lite: the latest group from its start (cached), then on (lite-05 §SUBSCRIBE).
            1 => (LITE04, Filter::LargestObject, ids(&[(1, 0..5), (2, 0..5), (3, 0..5)])),
            // From the next group.
            2 => (DRAFT18, Filter::NextGroup, ids(&[(2, 0..5), (3, 0..5)])),
            // From an absolute location inside the cached group.
            _ => (
                DRAFT18,
                Filter::AbsoluteStart(Location { group: 1, object: 2 }),
                ids(&[(1, 2..5), (2, 0..5), (3, 0..5)]),
            ),
        };
        let (_, conn) = node.connect(version, LinkConfig::perfect());
        let options = SubscribeOptions { filter, ..SubscribeOptions::default() };
        node.peer(conn).subscribe(track.clone(), options).unwrap();
        subs.push((conn, want, Received::default()));
    }
    node.pump();
    for object in 3..5 {
        let payload = frame(1, object, 500);
        node.peer(publisher.conn).write_object(stream, sluice::ObjectWrite::new(object, payload)).unwrap();
    }
    node.peer(publisher.conn).close_subgroup(stream, true).unwrap();
    node.pump();
    publisher.write_group(&mut node, 2, 0..5, 500);
    publisher.write_group(&mut node, 3, 0..5, 500);
    node.tick(1);
    assert_eq!(node.relay.stats().upstream_subscribes, 1, "one upstream for all 100");
    assert_eq!(node.relay.subscribers(&track), 100);
    for (i, (conn, want, got)) in subs.iter_mut().enumerate() {
        got.take(&mut node, *conn);
        assert!(got.subscribed, "subscriber {i} accepted");
        assert_eq!(&got.ids(), want, "subscriber {i}");
        for (g, _, o, payload, _) in &got.objects {
            // lite renumbers frames, but every lite group here is delivered from its object
            // 0; MOQT keeps ids (absolute start, largest object).
            assert_eq!(payload, &frame(*g, *o, 500), "subscriber {i} object {g}/{o}");
        }
    }
}
