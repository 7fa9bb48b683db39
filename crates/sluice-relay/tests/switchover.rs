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

/// Opens a subgroup stream of `group` on the publisher's latest subscription and writes
/// `objects` on it, leaving it open unless `close`.
fn write_objects(node: &mut Node, p: &Publisher, group: u64, objects: std::ops::Range<u64>, close: bool) {
    let request = *p.subscriptions.last().unwrap();
    let session = node.peer(p.conn);
    let stream = session.open_subgroup(request, group, 0, None).unwrap();
    for object in objects {
        let mut w = sluice::ObjectWrite::new(object, frame(group, object, 100));
        w.timestamp = Some(object);
        session.write_object(stream, w).unwrap();
    }
    if close {
        session.close_subgroup(stream, true).unwrap();
    }
    node.pump();
}

/// The publisher says GOAWAY and reconnects; returns the new one, serving.
fn switch(node: &mut Node, old: &Publisher, version: Version) -> Publisher {
    node.peer(old.conn).goaway(bytes::Bytes::new(), std::time::Duration::from_secs(1)).unwrap();
    node.pump();
    let mut new = announced(node, version);
    new.serve(node);
    assert_eq!(new.subscriptions.len(), 1);
    new
}

fn groups_dropped(r: &Received) -> Vec<u64> {
    r.other
        .iter()
        .filter_map(|e| match e {
            sluice::Event::GroupsDropped { first, .. } => Some(*first),
            _ => None,
        })
        .collect()
}

fn finished(r: &Received) -> Vec<u64> {
    r.other
        .iter()
        .filter_map(|e| match e {
            sluice::Event::SubgroupEnded { group, .. } => Some(*group),
            _ => None,
        })
        .collect()
}

#[test]
fn a_group_in_progress_continues_from_the_new_publisher_on_the_same_stream() {
    // d18-closing-subgroup-streams-3: the old publisher got objects 0..3 of group 0 out;
    // the new one resends group 0 from its start. The repeats are dropped and object 3 is
    // the next object of the open downstream stream (its id is one greater than the last
    // one sent on it), so group 0 goes on on the same stream: nothing reset, nothing twice.
    for version in ALL {
        for sub_version in [DRAFT18, LITE05] {
            let tag = format!("{version:?} → {sub_version:?}");
            let mut node = Node::new(RelayConfig::default());
            let mut old = announced(&mut node, version);
            let sub = subscriber(&mut node, sub_version);
            old.serve(&mut node);
            write_objects(&mut node, &old, 0, 0..3, false);
            let new = switch(&mut node, &old, version);
            write_objects(&mut node, &new, 0, 0..6, true);
            write_objects(&mut node, &new, 1, 0..3, true);
            let mut r = Received::default();
            r.take(&mut node, sub);
            let want: Vec<(u64, u64)> = (0..6).map(|o| (0, o)).chain((0..3).map(|o| (1, o))).collect();
            assert_eq!(r.ids(), want, "{tag}: continued, each object once");
            for (g, _, o, payload, _) in &r.objects {
                assert_eq!(payload, &frame(*g, *o, 100), "{tag}");
            }
            assert_eq!(node.relay.stats().streams_reset, 0, "{tag}: the stream went on");
            assert!(groups_dropped(&r).is_empty(), "{tag}: nothing reported lost");
            assert_eq!(finished(&r), vec![0, 1], "{tag}: group 0 finished once, whole");
        }
    }
}

#[test]
fn an_object_not_known_to_be_next_resets_the_stream_and_opens_a_new_one() {
    // d18-closing-subgroup-streams-4: the new publisher resumes group 0 at object 5, after
    // objects 0..3 went out: the relay cannot know objects 3 and 4 do not exist, so it
    // resets the downstream stream and forwards object 5 on a new one.
    let mut node = Node::new(RelayConfig::default());
    let mut old = announced(&mut node, DRAFT18);
    let sub = subscriber(&mut node, DRAFT18);
    old.serve(&mut node);
    write_objects(&mut node, &old, 0, 0..3, false);
    let new = switch(&mut node, &old, DRAFT18);
    write_objects(&mut node, &new, 0, 5..7, true);
    let mut r = Received::default();
    r.take(&mut node, sub);
    assert_eq!(r.ids(), vec![(0, 0), (0, 1), (0, 2), (0, 5), (0, 6)]);
    assert_eq!(node.relay.stats().streams_reset, 1, "the old stream was reset");
    assert_eq!(groups_dropped(&r), vec![0], "the subscriber saw the reset stream");
    assert_eq!(finished(&r), vec![0], "the new stream was finished");
}

#[test]
fn a_cut_group_the_new_publisher_never_continues_is_reset_not_finished() {
    // The new publisher starts at group 1: group 0's downstream stream lacks objects, so
    // it is reset when group 1 starts (draft-18 §Closing Subgroup Streams: a stream closed
    // before all objects were delivered MUST be reset), never finished with a FIN.
    for sub_version in [DRAFT18, LITE05] {
        let mut node = Node::new(RelayConfig::default());
        let mut old = announced(&mut node, DRAFT18);
        let sub = subscriber(&mut node, sub_version);
        old.serve(&mut node);
        write_objects(&mut node, &old, 0, 0..3, false);
        let new = switch(&mut node, &old, DRAFT18);
        write_objects(&mut node, &new, 1, 0..2, true);
        let mut r = Received::default();
        r.take(&mut node, sub);
        assert_eq!(r.ids(), vec![(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)], "{sub_version:?}");
        assert_eq!(node.relay.stats().streams_reset, 1, "{sub_version:?}");
        assert_eq!(finished(&r), vec![1], "{sub_version:?}: group 0 not claimed complete");
    }
}
