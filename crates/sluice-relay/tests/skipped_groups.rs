//! Every group a congested subscriber does not get is accounted for (lite-04/05
//! §Subscribe: a group stream, completed or reset, or SUBSCRIBE_DROP): the relay reports
//! each skipped group with `Session::drop_groups`, so a subscriber waiting for every group
//! does not stall, and the other subscribers see no drop at all.

mod common;

use std::collections::BTreeMap;

use common::*;
use sluice::{Event, ObjectWrite, SubscribeOptions, Version};
use sluice_relay::RelayConfig;
use sluice_sim::{LinkConfig, Side};

/// How each group ended for one subscriber: `Some(code)` dropped (SUBSCRIBE_DROP or a
/// reset group stream), `None` completed; a group reported twice fails.
fn outcomes(r: &Received) -> BTreeMap<u64, Option<u64>> {
    let mut out = BTreeMap::new();
    for e in &r.other {
        match e {
            Event::SubgroupEnded { group, .. } => {
                assert!(out.insert(*group, None).is_none(), "group {group} accounted twice: {e:?}");
            }
            Event::GroupsDropped { first, last, reason, .. } => {
                for g in *first..=*last {
                    assert!(out.insert(g, Some(reason.code)).is_none(), "group {g} accounted twice: {e:?}");
                }
            }
            _ => {}
        }
    }
    out
}

/// Group 0 whole, group 1 cut short by congestion, 2..=20 while congested, 21..=22 after:
/// returns what the fast and the slow subscriber received.
fn congested_run(version: Version) -> (Received, Received, u64) {
    let Congested { mut node, mut publisher, fast, slow, slow_id } = congested_start(version);
    for group in 2..=20 {
        publisher.write_group(&mut node, group, 0..5, 1000);
        node.tick(1);
    }
    node.net.set_reading(slow, Side::Client, true);
    node.relay.set_congested(slow_id, false);
    node.tick(1);
    for group in 21..=22 {
        publisher.write_group(&mut node, group, 0..5, 1000);
        node.tick(1);
    }
    node.tick(10);
    let (mut f, mut s) = (Received::default(), Received::default());
    f.take(&mut node, fast);
    s.take(&mut node, slow);
    let stats = node.relay.stats();
    assert_eq!(stats.groups_skipped, 19, "{version:?}");
    (f, s, stats.command_errors)
}

fn every_skipped_group_is_dropped(version: Version) {
    let (fast, slow, command_errors) = congested_run(version);
    assert_eq!(command_errors, 0, "{version:?}: drop_groups accepted for every skip");

    // The fast subscriber: every group completed, nothing dropped.
    let f = outcomes(&fast);
    assert_eq!(f, (0..=22).map(|g| (g, None)).collect::<BTreeMap<_, _>>(), "{version:?}");
    assert_eq!(fast.ids().len(), 23 * 5, "{version:?}");

    // The slow one: every group 0..=22 accounted for exactly once; 2..=20 by SUBSCRIBE_DROP
    // with the relay's code, 1 by its reset stream, the rest completed.
    let s = outcomes(&slow);
    assert_eq!(s.keys().copied().collect::<Vec<_>>(), (0..=22).collect::<Vec<_>>(), "{version:?}: {s:?}");
    let expired = sluice::lite::codes::EXPIRED;
    for g in 2..=20 {
        assert_eq!(s[&g], Some(expired), "{version:?}: group {g}");
    }
    assert!(s[&1].is_some(), "{version:?}: group 1 was reset");
    for g in [0, 21, 22] {
        assert_eq!(s[&g], None, "{version:?}: group {g} completed");
    }
    let drops = slow
        .other
        .iter()
        .filter(|e| matches!(e, Event::GroupsDropped { first, .. } if (2..=20).contains(first)));
    assert_eq!(drops.count(), 19, "{version:?}: one SUBSCRIBE_DROP per skipped group");
}

#[test]
fn congested_lite04_subscriber_gets_a_drop_for_every_skipped_group() {
    every_skipped_group_is_dropped(LITE04);
}

#[test]
fn congested_lite05_subscriber_gets_a_drop_for_every_skipped_group() {
    every_skipped_group_is_dropped(LITE05);
}

#[test]
fn draft18_skips_send_nothing_and_are_no_errors() {
    let (fast, slow, command_errors) = congested_run(DRAFT18);
    assert_eq!(command_errors, 0, "drop_groups is a no-op on MOQT, not an error");
    let dropped = |r: &Received| {
        r.other.iter().any(|e| matches!(e, Event::GroupsDropped { first, .. } if (2..=20).contains(first)))
    };
    assert!(!dropped(&fast) && !dropped(&slow), "draft-18 has no message for skipped groups");
}

/// A group older than the subscriber's newest that first shows up while it is congested is
/// never opened for it: it is reported dropped, once, however many of its objects come.
fn older_group_while_congested(version: Version) {
    let mut node = Node::new(RelayConfig::default());
    let (_, mut publisher, track) = Publisher::live_video(&mut node, version);
    let (_, fast) = node.connect(version, LinkConfig::perfect());
    let (slow_id, slow) = node.connect(version, LinkConfig::perfect());
    for conn in [fast, slow] {
        node.peer(conn).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
    }
    node.pump();
    publisher.serve(&mut node);
    publisher.write_group(&mut node, 0, 0..2, 100);
    let request = publisher.subscriptions[0];
    let write = |node: &mut Node, stream, group: u64, object: u64| {
        let mut w = ObjectWrite::new(object, frame(group, object, 100));
        w.timestamp = Some(group * 1000 + object);
        node.peer(publisher.conn).write_object(stream, w).unwrap();
        node.pump();
    };
    let g2 = node.peer(publisher.conn).open_subgroup(request, 2, 0, None).unwrap();
    write(&mut node, g2, 2, 0);
    node.relay.set_congested(slow_id, true);
    let g1 = node.peer(publisher.conn).open_subgroup(request, 1, 0, None).unwrap();
    write(&mut node, g1, 1, 0);
    write(&mut node, g1, 1, 1);
    for g in [g1, g2] {
        node.peer(publisher.conn).close_subgroup(g, true).unwrap();
    }
    node.pump();
    node.relay.set_congested(slow_id, false);
    publisher.write_group(&mut node, 3, 0..2, 100);
    node.tick(10);
    let (mut f, mut s) = (Received::default(), Received::default());
    f.take(&mut node, fast);
    s.take(&mut node, slow);
    assert_eq!(node.relay.stats().command_errors, 0, "{version:?}");
    assert_eq!(outcomes(&f), (0..=3).map(|g| (g, None)).collect::<BTreeMap<_, _>>(), "{version:?}");
    let expired = Some(sluice::lite::codes::EXPIRED);
    assert_eq!(
        outcomes(&s),
        BTreeMap::from([(0, None), (1, expired), (2, None), (3, None)]),
        "{version:?}: group 1 dropped once, the rest completed"
    );
    assert!(s.ids().iter().all(|(g, _)| *g != 1), "{version:?}: nothing of group 1");
}

#[test]
fn lite04_older_group_first_seen_while_congested_is_dropped_once() {
    older_group_while_congested(LITE04);
}

#[test]
fn lite05_older_group_first_seen_while_congested_is_dropped_once() {
    older_group_while_congested(LITE05);
}
