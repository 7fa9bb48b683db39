//! Cross-version forwarding: a moq-lite publisher feeds MOQT draft-18 subscribers and the
//! reverse, with every lossy mapping pinned down (see the crate docs).

mod common;

use bytes::Bytes;
use common::*;
use sluice::{Event, Namespace, ObjectWrite, SubscribeOptions, TrackName, Version};
use sluice_relay::RelayConfig;
use sluice_sim::LinkConfig;

fn setup(pub_version: Version) -> (Node, Publisher, TrackName) {
    let mut node = Node::new(RelayConfig::default());
    let (_, publisher) = Publisher::new(&mut node, pub_version, LinkConfig::perfect());
    let ns = Namespace::from_fields(["live", "room1"]);
    node.peer(publisher.conn).announce(ns.clone()).unwrap();
    node.pump();
    (node, publisher, TrackName::new(ns, "video"))
}

fn subscribe(node: &mut Node, version: Version, track: &TrackName) -> sluice_sim::ConnId {
    let (_, conn) = node.connect(version, LinkConfig::perfect());
    node.peer(conn).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
    node.pump();
    conn
}

#[test]
fn lite_publisher_feeds_draft18_subscribers() {
    for pub_version in [LITE04, LITE05] {
        let (mut node, mut publisher, track) = setup(pub_version);
        let sub = subscribe(&mut node, DRAFT18, &track);
        publisher.serve(&mut node);
        publisher.write_group(&mut node, 0, 0..3, 700);
        publisher.write_group(&mut node, 1, 0..2, 700);
        node.peer(publisher.conn).end_subscription(publisher.subscriptions[0], 0, "").unwrap();
        node.tick(1);
        let mut got = Received::default();
        got.take(&mut node, sub);
        assert!(got.subscribed);
        assert_eq!(got.ids(), vec![(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)], "{pub_version:?}");
        for (g, subgroup, o, payload, timestamp) in &got.objects {
            assert_eq!(payload, &frame(*g, *o, 700));
            assert_eq!(*subgroup, 0, "lite groups are subgroup 0");
            // Lossy: the lite-05 frame timestamp has no MOQT field.
            assert_eq!(*timestamp, None);
        }
        // A lite FIN (graceful) becomes PUBLISH_DONE TRACK_ENDED.
        assert_eq!(got.ended, Some(0x2), "{pub_version:?}");
    }
}

#[test]
fn draft18_publisher_feeds_lite_subscribers() {
    for sub_version in [LITE04, LITE05] {
        let (mut node, mut publisher, track) = setup(DRAFT18);
        let sub = subscribe(&mut node, sub_version, &track);
        publisher.serve(&mut node);
        let request = publisher.subscriptions[0];
        // Group 0: object ids with gaps, carrying properties, on subgroups 0 and 1.
        let session = node.peer(publisher.conn);
        let s0 = session.open_subgroup(request, 0, 0, None).unwrap();
        let s1 = session.open_subgroup(request, 0, 1, None).unwrap();
        let mut first = ObjectWrite::new(0, frame(0, 0, 300));
        first.properties = Bytes::from_static(&[0x02, 0x05]).into(); // one even-type property: 2 = 5
        session.write_object(s0, first).unwrap();
        session.write_object(s1, ObjectWrite::new(4, frame(0, 4, 300))).unwrap();
        session.write_object(s0, ObjectWrite::new(2, frame(0, 2, 300))).unwrap();
        session.close_subgroup(s0, false).unwrap();
        session.close_subgroup(s1, true).unwrap();
        node.pump();
        node.tick(5);
        publisher.write_group(&mut node, 1, 0..2, 300);
        node.peer(publisher.conn).end_subscription(request, 0x2, "track ended").unwrap();
        node.tick(1);

        let mut got = Received::default();
        got.take(&mut node, sub);
        assert!(got.subscribed, "{sub_version:?}");
        // Lossy: every subgroup lands on the one lite group stream in arrival order, and
        // ids are renumbered 0, 1, 2…: MOQT (0,0) (0,4) (0,2) arrive as lite 0, 1, 2.
        assert_eq!(got.ids(), vec![(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)], "{sub_version:?}");
        let payloads: Vec<Bytes> = got.objects.iter().map(|o| o.3.clone()).collect();
        assert_eq!(
            payloads,
            vec![frame(0, 0, 300), frame(0, 4, 300), frame(0, 2, 300), frame(1, 0, 300), frame(1, 1, 300)]
        );
        for (_, subgroup, _, _, timestamp) in &got.objects {
            assert_eq!(*subgroup, 0);
            // lite-05 needs a timestamp MOQT does not carry: the relay stamps its arrival
            // time in ms (here the objects arrived at t = 0 ms and t = 5 ms).
            if sub_version == LITE05 {
                assert!(matches!(timestamp, Some(0) | Some(5)), "{timestamp:?}");
            } else {
                assert_eq!(*timestamp, None);
            }
        }
        // PUBLISH_DONE TRACK_ENDED becomes the lite graceful end.
        assert_eq!(got.ended, Some(0), "{sub_version:?}");
    }
}

#[test]
fn draft18_error_end_becomes_lite_not_found() {
    let (mut node, mut publisher, track) = setup(DRAFT18);
    let sub = subscribe(&mut node, LITE05, &track);
    publisher.serve(&mut node);
    publisher.write_group(&mut node, 0, 0..1, 10);
    node.peer(publisher.conn).end_subscription(publisher.subscriptions[0], 0x6, "expired").unwrap();
    node.tick(1);
    let mut got = Received::default();
    got.take(&mut node, sub);
    assert_eq!(got.ended, Some(13));
}

#[test]
fn one_lite05_publisher_feeds_all_three_versions_at_once() {
    let (mut node, mut publisher, track) = setup(LITE05);
    let subs: Vec<_> = ALL.iter().map(|v| (*v, subscribe(&mut node, *v, &track))).collect();
    publisher.serve(&mut node);
    assert_eq!(publisher.subscriptions.len(), 1);
    for group in 0..3 {
        publisher.write_group(&mut node, group, 0..4, 900);
    }
    for (version, conn) in subs {
        let mut got = Received::default();
        got.take(&mut node, conn);
        let expected: Vec<(u64, u64)> = (0..3).flat_map(|g| (0..4).map(move |o| (g, o))).collect();
        assert_eq!(got.ids(), expected, "{version:?}");
        for (g, _, o, payload, timestamp) in &got.objects {
            assert_eq!(payload, &frame(*g, *o, 900));
            // lite-05 → lite-05 keeps the publisher's timestamps (group * 1000 + object).
            let kept = if version == LITE05 { Some(g * 1000 + o) } else { None };
            assert_eq!(*timestamp, kept, "{version:?}");
        }
    }
}

#[test]
fn discovery_gets_current_and_future_namespaces_and_withdrawals() {
    for (pub_version, sub_version) in
        [(LITE05, DRAFT18), (DRAFT18, LITE05), (LITE04, LITE04), (DRAFT18, DRAFT18)]
    {
        let mut node = Node::new(RelayConfig::default());
        let (_, publisher) = Publisher::new(&mut node, pub_version, LinkConfig::perfect());
        let first = Namespace::from_fields(["live", "a"]);
        node.peer(publisher.conn).announce(first.clone()).unwrap();
        node.pump();
        let (_, sub) = node.connect(sub_version, LinkConfig::perfect());
        let discovery = node.peer(sub).discover(Namespace::from_fields(["live"])).unwrap();
        node.pump();
        let second = Namespace::from_fields(["live", "b"]);
        let h2 = node.peer(publisher.conn).announce(second.clone()).unwrap();
        node.pump();
        node.peer(publisher.conn).cancel(h2).unwrap();
        node.pump();
        node.tick(1);
        let seen: Vec<(bool, Namespace)> = node
            .events(sub)
            .into_iter()
            .filter_map(|e| match e {
                Event::NamespaceFound { request, namespace } if request == discovery => {
                    Some((true, namespace))
                }
                Event::NamespaceGone { request, namespace } if request == discovery => {
                    Some((false, namespace))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            seen,
            vec![(true, first.clone()), (true, second.clone()), (false, second)],
            "{pub_version:?} -> {sub_version:?}"
        );
    }
}

#[test]
fn lite04_publisher_to_lite05_subscriber_gets_relay_timestamps() {
    // lite-04 frames carry no timestamp; lite-05 requires one: the relay stamps arrival ms.
    let (mut node, mut publisher, track) = setup(LITE04);
    node.tick(7);
    let sub = subscribe(&mut node, LITE05, &track);
    publisher.serve(&mut node);
    publisher.write_group(&mut node, 0, 0..2, 50);
    let mut got = Received::default();
    got.take(&mut node, sub);
    let stamps: Vec<Option<u64>> = got.objects.iter().map(|o| o.4).collect();
    assert_eq!(stamps, vec![Some(7), Some(7)]);
}
