//! A publisher that writes several groups at once (Cloudflare's moq-transport does: one
//! subgroup stream per group, all open together) makes objects of older groups arrive
//! after a newer group's, and an older group's first object after a newer group started.
//! draft-18 lets no relay drop those objects (§2.2: objects are ordered only within a
//! subgroup), so every subscriber, of every version, must get every object of every group,
//! each group in order, and see each of its group streams finished.

mod common;

use common::*;
use sluice::{Event, ObjectWrite, SubscribeOptions, Version};
use sluice_relay::RelayConfig;
use sluice_sim::LinkConfig;

const GROUPS: u64 = 4;
const OBJECTS: u64 = 5;
const LEN: usize = 300;

fn concurrent_groups(version: Version) {
    let mut node = Node::new(RelayConfig::default());
    let (_, mut publisher, track) = Publisher::live_video(&mut node, version);
    let mut subs = Vec::new();
    for sub_version in ALL {
        let (_, conn) = node.connect(sub_version, LinkConfig::perfect());
        node.peer(conn).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
        subs.push((sub_version, conn, Received::default()));
    }
    node.pump();
    publisher.serve(&mut node);
    let request = publisher.subscriptions[0];

    // Groups 0..4 open at once, newest first; objects written interleaved, newest group
    // first, pumping after each, so the relay sees group 3 start before group 0's objects
    // and every older group's objects after newer ones. Streams end oldest last.
    let streams: Vec<_> = (0..GROUPS)
        .rev()
        .map(|g| (g, node.peer(publisher.conn).open_subgroup(request, g, 0, None).unwrap()))
        .collect();
    for object in 0..OBJECTS {
        for (group, stream) in &streams {
            let mut write = ObjectWrite::new(object, frame(*group, object, LEN));
            write.timestamp = Some(group * 1000 + object);
            node.peer(publisher.conn).write_object(*stream, write).unwrap();
            node.pump();
        }
    }
    for (_, stream) in &streams {
        node.peer(publisher.conn).close_subgroup(*stream, false).unwrap();
        node.pump();
    }
    node.tick(1);

    for (sub_version, conn, got) in &mut subs {
        got.take(&mut node, *conn);
        let what = format!("{version:?} → {sub_version:?}");
        assert!(got.subscribed, "{what}: subscribed");
        for group in 0..GROUPS {
            let objects: Vec<(u64, &[u8])> = got
                .objects
                .iter()
                .filter(|o| o.0 == group)
                .map(|(_, _, object, payload, _)| (*object, &payload[..]))
                .collect();
            let ids: Vec<u64> = objects.iter().map(|(o, _)| *o).collect();
            assert_eq!(ids, (0..OBJECTS).collect::<Vec<_>>(), "{what}: group {group}, every object in order");
            for (object, payload) in objects {
                assert_eq!(payload, &frame(group, object, LEN)[..], "{what}: ({group}, {object}) bytes");
            }
        }
        let mut finished: Vec<u64> = got
            .other
            .iter()
            .filter_map(|e| match e {
                Event::SubgroupEnded { group, .. } => Some(*group),
                _ => None,
            })
            .collect();
        finished.sort_unstable();
        assert_eq!(finished, (0..GROUPS).collect::<Vec<_>>(), "{what}: every group stream finished");
    }
    assert_eq!(node.relay.stats().late_objects_dropped, 0, "{version:?}: nothing dropped as late");
}

#[test]
fn lite04_publisher_writing_groups_at_once_reaches_every_subscriber_whole() {
    concurrent_groups(LITE04);
}

#[test]
fn lite05_publisher_writing_groups_at_once_reaches_every_subscriber_whole() {
    concurrent_groups(LITE05);
}

#[test]
fn draft18_publisher_writing_groups_at_once_reaches_every_subscriber_whole() {
    concurrent_groups(DRAFT18);
}
