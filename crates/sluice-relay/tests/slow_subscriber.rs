//! A slow subscriber neither stalls the others nor makes the relay (or the transport's
//! send queue) grow: once the caller reports it congested, it gets no new groups and its
//! stale group stream is reset; when it recovers it resumes at a group start.

mod common;

use common::*;
use sluice::{ObjectWrite, SubscribeOptions, Version};
use sluice_relay::RelayConfig;
use sluice_sim::{LinkConfig, Side};

fn slow_subscriber(version: Version) {
    let Congested { mut node, mut publisher, fast, slow, slow_id } = congested_start(version);
    let before = node.relay.bytes_written(slow_id);
    for group in 2..=20 {
        publisher.write_group(&mut node, group, 0..5, 1000);
        node.tick(1);
    }
    // Nothing more was queued for the slow subscriber while it was congested.
    assert_eq!(node.relay.bytes_written(slow_id), before, "{version:?}");
    let stats = node.relay.stats();
    assert_eq!(stats.groups_skipped, 19, "{version:?}: groups 2..=20 skipped for the slow one");
    assert_eq!(stats.streams_reset, 1, "{version:?}: its stale group 1 stream reset");

    // It recovers: back to reading, no longer congested; it resumes at the next group.
    node.net.set_reading(slow, Side::Client, true);
    node.relay.set_congested(slow_id, false);
    node.tick(1);
    for group in 21..=22 {
        publisher.write_group(&mut node, group, 0..5, 1000);
        node.tick(1);
    }

    let (mut f, mut s) = (Received::default(), Received::default());
    f.take(&mut node, fast);
    s.take(&mut node, slow);
    let full = |groups: std::ops::RangeInclusive<u64>| -> Vec<(u64, u64)> {
        groups.flat_map(|g| (0..5).map(move |o| (g, o))).collect()
    };
    assert_eq!(f.ids(), full(0..=22), "{version:?}: the fast subscriber got everything, in order");
    // The slow one: group 0 whole, a prefix of group 1 (what its window let through before
    // the reset), nothing of 2..=20, then 21 and 22 whole.
    let ids = s.ids();
    assert_eq!(ids[..5], full(0..=0)[..], "{version:?}");
    let group1: Vec<u64> = ids.iter().filter(|(g, _)| *g == 1).map(|(_, o)| *o).collect();
    assert!(group1.len() < 5, "{version:?}: group 1 was cut short: {group1:?}");
    assert_eq!(group1, (0..group1.len() as u64).collect::<Vec<_>>(), "{version:?}: a prefix, in order");
    let rest: Vec<(u64, u64)> = ids.iter().copied().filter(|(g, _)| *g > 1).collect();
    assert_eq!(rest, full(21..=22), "{version:?}: resumes at a group start");
    for (g, _, o, payload, _) in &s.objects {
        assert_eq!(payload, &frame(*g, *o, 1000));
    }
}

#[test]
fn slow_subscriber_does_not_stall_the_fast_one_lite05() {
    slow_subscriber(LITE05);
}

#[test]
fn slow_subscriber_does_not_stall_the_fast_one_draft18() {
    slow_subscriber(DRAFT18);
}

#[test]
fn open_stream_limit_resets_the_oldest_subgroup() {
    // A MOQT publisher with many concurrent subgroups of one group: past the limit the
    // relay resets the oldest downstream subgroup stream instead of keeping them all.
    let config = RelayConfig { max_open_streams_per_subscriber: 2, ..RelayConfig::default() };
    let mut node = Node::new(config);
    let (_, mut publisher, track) = Publisher::live_video(&mut node, DRAFT18);
    let (_, sub) = node.connect(DRAFT18, LinkConfig::perfect());
    node.peer(sub).subscribe(track, SubscribeOptions::default()).unwrap();
    node.pump();
    publisher.serve(&mut node);
    let request = publisher.subscriptions[0];
    for subgroup in 0..3 {
        let session = node.peer(publisher.conn);
        let stream = session.open_subgroup(request, 0, subgroup, None).unwrap();
        session.write_object(stream, ObjectWrite::new(subgroup, frame(0, subgroup, 10))).unwrap();
        node.pump();
    }
    assert_eq!(node.relay.stats().streams_reset, 1);
    let mut got = Received::default();
    got.take(&mut node, sub);
    let subgroups: Vec<u64> = got.objects.iter().map(|o| o.1).collect();
    assert_eq!(subgroups, vec![0, 1, 2]);
}
