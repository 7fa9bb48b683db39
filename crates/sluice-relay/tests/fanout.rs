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
