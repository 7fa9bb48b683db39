//! Subscription lifecycle through the relay: late joiners served from the cache, the
//! upstream end carried downstream, the last leaver cancelling upstream, subscribing
//! before the publisher announces, and the relay's limits.

mod common;

use std::time::Duration;

use common::*;
use sluice::{Event, Filter, Namespace, SubscribeOptions, TrackName, Version};
use sluice_relay::RelayConfig;
use sluice_sim::LinkConfig;

fn setup(version: Version, config: RelayConfig) -> (Node, Publisher, TrackName) {
    let mut node = Node::new(config);
    let (_, publisher) = Publisher::new(&mut node, version, LinkConfig::perfect());
    let ns = Namespace::from_fields(["live"]);
    node.peer(publisher.conn).announce(ns.clone()).unwrap();
    node.pump();
    (node, publisher, TrackName::new(ns, "video"))
}

fn subscriber(node: &mut Node, version: Version, track: &TrackName) -> sluice_sim::ConnId {
    let (_, conn) = node.connect(version, LinkConfig::perfect());
    node.peer(conn).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
    node.pump();
    conn
}

/// Writes objects `objects` of `group` on an open stream (left open).
fn write_open(
    node: &mut Node,
    p: &mut Publisher,
    group: u64,
    objects: std::ops::Range<u64>,
) -> sluice::StreamId {
    let request = *p.subscriptions.last().unwrap();
    let session = node.peer(p.conn);
    let stream = session.open_subgroup(request, group, 0, None).unwrap();
    for object in objects {
        let mut w = sluice::ObjectWrite::new(object, frame(group, object, 500));
        w.timestamp = Some(object);
        session.write_object(stream, w).unwrap();
    }
    node.pump();
    stream
}

fn late_joiner(version: Version) {
    let (mut node, mut publisher, track) = setup(version, RelayConfig::default());
    let early = subscriber(&mut node, version, &track);
    publisher.serve(&mut node);
    publisher.write_group(&mut node, 0, 0..4, 500);
    let stream = write_open(&mut node, &mut publisher, 1, 0..3);
    assert_eq!(node.relay.cached(&track), (2, 7 * 500), "{version:?}: both groups cached");

    // A late joiner: moq-lite starts at the latest group, from its first object (served from
    // cache); MOQT after the Largest Location of its SUBSCRIBE_OK.
    let late = subscriber(&mut node, version, &track);
    publisher.serve(&mut node);
    assert!(publisher.subscriptions.len() == 1, "{version:?}: no second upstream subscription");
    let session = node.peer(publisher.conn);
    for object in 3..5 {
        let mut w = sluice::ObjectWrite::new(object, frame(1, object, 500));
        w.timestamp = Some(object);
        session.write_object(stream, w).unwrap();
    }
    session.close_subgroup(stream, true).unwrap();
    node.pump();
    publisher.write_group(&mut node, 2, 0..2, 500);

    let (mut e, mut l) = (Received::default(), Received::default());
    e.take(&mut node, early);
    l.take(&mut node, late);
    let mut all: Vec<(u64, u64)> = (0..4).map(|o| (0, o)).collect();
    all.extend((0..5).map(|o| (1, o)));
    all.extend((0..2).map(|o| (2, o)));
    assert_eq!(e.ids(), all, "{version:?}: early subscriber gets everything");
    if version == DRAFT18 {
        // draft-18 §5.1.2: Largest Object filter, start {Largest.Group, Largest.Object + 1}
        // (Largest = (1, 2) at SUBSCRIBE_OK); nothing older may be sent.
        assert_eq!(l.ids(), all[7..].to_vec(), "{version:?}: late joiner starts after (1, 2)");
    } else {
        assert_eq!(l.ids(), all[4..].to_vec(), "{version:?}: late joiner starts at group 1, object 0");
    }
    for (g, _, o, payload, _) in &l.objects {
        assert_eq!(payload, &frame(*g, *o, 500));
    }
}

#[test]
fn late_joiner_starts_from_the_latest_cached_group_lite04() {
    late_joiner(LITE04);
}

#[test]
fn late_joiner_starts_from_the_latest_cached_group_lite05() {
    late_joiner(LITE05);
}

#[test]
fn late_joiner_starts_after_the_largest_location_draft18() {
    late_joiner(DRAFT18);
}

#[test]
fn next_group_joiner_skips_the_current_group() {
    let (mut node, mut publisher, track) = setup(DRAFT18, RelayConfig::default());
    let _early = subscriber(&mut node, DRAFT18, &track);
    publisher.serve(&mut node);
    publisher.write_group(&mut node, 0, 0..2, 500);
    let (_, late) = node.connect(DRAFT18, LinkConfig::perfect());
    let options = SubscribeOptions { filter: Filter::NextGroup, ..SubscribeOptions::default() };
    node.peer(late).subscribe(track.clone(), options).unwrap();
    node.pump();
    publisher.write_group(&mut node, 1, 0..2, 500);
    let mut l = Received::default();
    l.take(&mut node, late);
    assert_eq!(l.ids(), vec![(1, 0), (1, 1)]);
}

fn upstream_end(version: Version, expected_code: u64) {
    let (mut node, mut publisher, track) = setup(version, RelayConfig::default());
    let subs: Vec<_> = (0..3).map(|_| subscriber(&mut node, version, &track)).collect();
    publisher.serve(&mut node);
    publisher.write_group(&mut node, 0, 0..2, 100);
    let request = publisher.subscriptions[0];
    let code = if matches!(version, Version::Moqt(_)) { 0x2 } else { 0 };
    node.peer(publisher.conn).end_subscription(request, code, "done").unwrap();
    node.pump();
    node.tick(1);
    for conn in subs {
        let mut got = Received::default();
        got.take(&mut node, conn);
        assert_eq!(got.ids(), vec![(0, 0), (0, 1)]);
        assert_eq!(got.ended, Some(expected_code), "{version:?}: the end reaches every subscriber");
    }
    assert_eq!(node.relay.tracks(), 0, "{version:?}: the track is forgotten");
}

#[test]
fn upstream_end_is_carried_downstream_lite04() {
    upstream_end(LITE04, 0);
}

#[test]
fn upstream_end_is_carried_downstream_lite05() {
    upstream_end(LITE05, 0);
}

#[test]
fn upstream_end_is_carried_downstream_draft18() {
    upstream_end(DRAFT18, 0x2);
}

fn last_leaver(version: Version) {
    let (mut node, mut publisher, track) = setup(version, RelayConfig::default());
    let (_, a) = node.connect(version, LinkConfig::perfect());
    let ha = node.peer(a).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
    let (_, b) = node.connect(version, LinkConfig::perfect());
    let hb = node.peer(b).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
    node.pump();
    publisher.serve(&mut node);
    publisher.write_group(&mut node, 0, 0..1, 100);
    node.peer(a).cancel(ha).unwrap();
    node.tick(1);
    publisher.serve(&mut node);
    assert!(
        !publisher.log.iter().any(|e| matches!(e, Event::SubscriberGone { .. })),
        "{version:?}: one subscriber left, upstream stays"
    );
    assert_eq!(node.relay.subscribers(&track), 1);
    node.peer(b).cancel(hb).unwrap();
    node.tick(1);
    publisher.serve(&mut node);
    let gone: Vec<_> = publisher.log.iter().filter(|e| matches!(e, Event::SubscriberGone { .. })).collect();
    assert_eq!(gone, vec![&Event::SubscriberGone { request: publisher.subscriptions[0] }]);
    assert_eq!(node.relay.tracks(), 0);
}

#[test]
fn last_leaver_cancels_upstream_lite05() {
    last_leaver(LITE05);
}

#[test]
fn last_leaver_cancels_upstream_draft18() {
    last_leaver(DRAFT18);
}

fn subscribe_before_announce(version: Version, announce: bool, code: u64) {
    // MOQT subscribers here send no RENDEZVOUS_TIMEOUT: hold them like lite ones (the
    // draft-18 parameter itself: tests/d18_rules.rs).
    let config = RelayConfig {
        subscribe_wait: Duration::from_millis(100),
        moqt_default_rendezvous: Duration::from_millis(100),
        ..RelayConfig::default()
    };
    let mut node = Node::new(config);
    let (_, mut publisher) = Publisher::new(&mut node, version, LinkConfig::perfect());
    let track = TrackName::new(Namespace::from_fields(["later"]), "audio");
    let sub = subscriber(&mut node, version, &track);
    assert_eq!(node.relay.waiting(), 1);
    node.tick(50);
    if announce {
        node.peer(publisher.conn).announce(track.namespace.clone()).unwrap();
        node.pump();
        publisher.serve(&mut node);
        publisher.write_group(&mut node, 0, 0..1, 10);
    }
    node.tick(100);
    let mut got = Received::default();
    got.take(&mut node, sub);
    if announce {
        assert_eq!(got.ids(), vec![(0, 0)], "{version:?}: served once the publisher appeared");
        assert_eq!(got.failed, None);
    } else {
        assert_eq!(got.failed, Some(code), "{version:?}: fails after the wait");
        assert!(got.objects.is_empty());
    }
    assert_eq!(node.relay.waiting(), 0);
}

#[test]
fn subscribe_before_announce_is_served_when_the_publisher_appears() {
    for version in ALL {
        subscribe_before_announce(version, true, 0);
    }
}

#[test]
fn subscribe_without_publisher_fails_after_the_wait() {
    subscribe_before_announce(LITE05, false, 13); // lite NOT_FOUND
    subscribe_before_announce(DRAFT18, false, 0x10); // DOES_NOT_EXIST
}

#[test]
fn track_limit_answers_excessive_load() {
    for (version, code) in [(DRAFT18, 0x9), (LITE05, 11)] {
        let config = RelayConfig { max_tracks: 1, ..RelayConfig::default() };
        let (mut node, _publisher, track) = setup(version, config);
        let first = subscriber(&mut node, version, &track);
        let other = TrackName::new(track.namespace.clone(), "audio");
        let second = subscriber(&mut node, version, &other);
        let (mut a, mut b) = (Received::default(), Received::default());
        a.take(&mut node, first);
        b.take(&mut node, second);
        assert_eq!(a.failed, None);
        assert_eq!(b.failed, Some(code), "{version:?}");
        assert_eq!(node.relay.stats().refused_excessive_load, 1);
    }
}

#[test]
fn namespace_limit_answers_excessive_load() {
    let config = RelayConfig { max_namespaces: 1, ..RelayConfig::default() };
    let mut node = Node::new(config);
    let (_, a) = Publisher::new(&mut node, DRAFT18, LinkConfig::perfect());
    let (_, b) = Publisher::new(&mut node, DRAFT18, LinkConfig::perfect());
    node.peer(a.conn).announce(Namespace::from_fields(["one"])).unwrap();
    node.pump();
    let h = node.peer(b.conn).announce(Namespace::from_fields(["two"])).unwrap();
    node.pump();
    let ended: Vec<_> = node
        .events(b.conn)
        .into_iter()
        .filter_map(|e| match e {
            Event::AnnounceEnded { request, reason } => Some((request, reason.code)),
            _ => None,
        })
        .collect();
    assert_eq!(ended, vec![(h, 0x9)]);
    assert_eq!(node.relay.namespaces(), vec![Namespace::from_fields(["one"])]);
}

#[test]
fn upstream_refusal_fails_every_waiting_subscriber_with_the_mapped_code() {
    let (mut node, publisher, track) = setup(DRAFT18, RelayConfig::default());
    let moqt = subscriber(&mut node, DRAFT18, &track);
    let lite = subscriber(&mut node, LITE05, &track);
    for event in node.events(publisher.conn) {
        if let Event::IncomingSubscribe { request, .. } = event {
            node.peer(publisher.conn).reject(request, 0x10, "no such track").unwrap();
        }
    }
    node.pump();
    let (mut m, mut l) = (Received::default(), Received::default());
    m.take(&mut node, moqt);
    l.take(&mut node, lite);
    assert_eq!(m.failed, Some(0x10), "same family: the code is kept");
    assert_eq!(l.failed, Some(13), "MOQT refusal to lite: NOT_FOUND");
    assert_eq!(node.relay.tracks(), 0);
}

#[test]
fn subscriber_and_waiting_limits_answer_excessive_load() {
    let config = RelayConfig {
        max_subscribers_per_track: 1,
        max_waiting_subscribes: 1,
        moqt_default_rendezvous: Duration::from_secs(2), // the MOQT subscriber is held
        ..RelayConfig::default()
    };
    let (mut node, _publisher, track) = setup(DRAFT18, config);
    let first = subscriber(&mut node, DRAFT18, &track);
    let second = subscriber(&mut node, DRAFT18, &track);
    let nowhere = TrackName::new(Namespace::from_fields(["nobody"]), "x");
    let wait1 = subscriber(&mut node, DRAFT18, &nowhere);
    let wait2 = subscriber(&mut node, LITE04, &nowhere);
    let got: Vec<Option<u64>> = [first, second, wait1, wait2]
        .into_iter()
        .map(|c| {
            let mut r = Received::default();
            r.take(&mut node, c);
            r.failed
        })
        .collect();
    assert_eq!(got, vec![None, Some(0x9), None, Some(11)]);
    assert_eq!(node.relay.waiting(), 1);
    assert_eq!(node.relay.stats().refused_excessive_load, 2);
}
