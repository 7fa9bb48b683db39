//! Publisher switchover: a publisher that says GOAWAY and reconnects, or a second
//! publisher of the same namespace, takes over a live track without its subscribers
//! resubscribing; with nobody to take over, the end reaches subscribers with the right code.

mod common;

use common::*;
use sluice::{Namespace, SubscribeOptions, TrackName, Version};
use sluice_relay::RelayConfig;
use sluice_sim::{ConnId, LinkConfig};
use sluice_wire::moqt::codes::PublishDoneCode;

fn announced(node: &mut Node, version: Version) -> Publisher {
    let (_, p) = Publisher::new(node, version, LinkConfig::perfect());
    node.peer(p.conn).announce(Namespace::from_fields(["live"])).unwrap();
    node.pump();
    p
}

fn track() -> TrackName {
    TrackName::new(Namespace::from_fields(["live"]), "video")
}

fn subscriber(node: &mut Node, version: Version) -> ConnId {
    let (_, conn) = node.connect(version, LinkConfig::perfect());
    node.peer(conn).subscribe(track(), SubscribeOptions::default()).unwrap();
    node.pump();
    conn
}

fn all(groups: std::ops::Range<u64>) -> Vec<(u64, u64)> {
    groups.flat_map(|g| (0..3).map(move |o| (g, o))).collect()
}

#[test]
fn a_publisher_saying_goaway_hands_over_to_its_reconnection() {
    for version in ALL {
        for sub_version in [version, DRAFT18] {
            let mut node = Node::new(RelayConfig::default());
            let mut old = announced(&mut node, version);
            let sub = subscriber(&mut node, sub_version);
            old.serve(&mut node);
            old.write_group(&mut node, 0, 0..3, 200);
            old.write_group(&mut node, 1, 0..3, 200);

            // The publisher says it is leaving, then comes back on a new session.
            node.peer(old.conn).goaway(bytes::Bytes::new(), std::time::Duration::from_secs(1)).unwrap();
            node.pump();
            let mut new = announced(&mut node, version);
            new.serve(&mut node);
            assert_eq!(new.subscriptions.len(), 1, "{version:?}: the relay subscribed on the new session");
            assert_eq!(node.relay.stats().switchovers, 1);
            new.write_group(&mut node, 2, 0..3, 200);
            new.write_group(&mut node, 3, 0..3, 200);
            node.net.disconnect(old.conn, 0, "moved");
            node.pump();
            new.write_group(&mut node, 4, 0..3, 200);

            let mut r = Received::default();
            r.take(&mut node, sub);
            assert_eq!(r.ids(), all(0..5), "{version:?} → {sub_version:?}: nothing lost, no resubscribe");
            for (g, _, o, payload, _) in &r.objects {
                assert_eq!(payload, &frame(*g, *o, 200));
            }
            assert_eq!((r.ended, r.failed), (None, None), "{version:?} → {sub_version:?}: still subscribed");
            assert_eq!(node.relay.tracks(), 1);
        }
    }
}

#[test]
fn a_second_publisher_takes_over_when_the_first_session_dies() {
    for version in ALL {
        let mut node = Node::new(RelayConfig::default());
        let mut first = announced(&mut node, version);
        let mut second = announced(&mut node, version);
        let sub = subscriber(&mut node, DRAFT18);
        first.serve(&mut node);
        second.serve(&mut node);
        assert_eq!((first.subscriptions.len(), second.subscriptions.len()), (1, 0), "{version:?}");
        first.write_group(&mut node, 0, 0..3, 100);
        // A group in progress when the publisher dies is cut short; the next one comes from
        // the second publisher, which resends group 1 whole: that repeat is not forwarded.
        node.net.disconnect(first.conn, 0, "crash");
        node.pump();
        second.serve(&mut node);
        assert_eq!(second.subscriptions.len(), 1, "{version:?}: moved to the second publisher");
        second.write_group(&mut node, 0, 0..3, 100);
        second.write_group(&mut node, 1, 0..3, 100);
        let mut r = Received::default();
        r.take(&mut node, sub);
        assert_eq!(r.ids(), all(0..2), "{version:?}");
        assert_eq!(r.ended, None);
    }
}

#[test]
fn with_nobody_to_take_over_the_end_carries_goaway() {
    // The publisher said GOAWAY and left: MOQT subscribers get PUBLISH_DONE GOING_AWAY.
    for version in ALL {
        let mut node = Node::new(RelayConfig::default());
        let mut p = announced(&mut node, version);
        let sub = subscriber(&mut node, DRAFT18);
        p.serve(&mut node);
        // One group, so the subscription is live (lite-05 answers once a group exists).
        p.write_group(&mut node, 0, 0..1, 10);
        node.peer(p.conn).goaway(bytes::Bytes::new(), std::time::Duration::from_secs(1)).unwrap();
        node.pump();
        node.net.disconnect(p.conn, 0, "gone");
        node.pump();
        let mut r = Received::default();
        r.take(&mut node, sub);
        assert_eq!(r.ended, Some(PublishDoneCode::GOING_AWAY.0), "{version:?}");
    }
    // Without GOAWAY the publisher just vanished: INTERNAL_ERROR.
    let mut node = Node::new(RelayConfig::default());
    let mut p = announced(&mut node, DRAFT18);
    let sub = subscriber(&mut node, DRAFT18);
    p.serve(&mut node);
    node.net.disconnect(p.conn, 0, "gone");
    node.pump();
    let mut r = Received::default();
    r.take(&mut node, sub);
    assert_eq!(r.ended, Some(PublishDoneCode::INTERNAL_ERROR.0));
}
