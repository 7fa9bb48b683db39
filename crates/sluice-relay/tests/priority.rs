//! Per-subscriber priority and group order through the relay, over bandwidth-limited
//! simulated links (`LinkConfig::with_bandwidth`: one packet at a time, the next one from
//! the stream with the highest send order, as quinn does).
//!
//! The relay opens each downstream stream on the subscriber's own subscription, so the
//! core gives it that subscriber's priority and group order; these tests check the send
//! orders the relay's downstream sessions emit (read from the network trace) and what
//! completes first at the subscribers. The first subscriber's group order is also asked
//! upstream.

mod common;

use std::time::Duration;

use common::*;
use sluice::{
    Event, GroupOrder, Namespace, ObjectStatus, ObjectWrite, Output, RequestHandle, SubscribeOptions,
    TrackInfo, TrackName, Version,
};
use sluice_relay::RelayConfig;
use sluice_sim::{ConnId, LinkConfig, Side, Traced};

/// A downstream link slower than what the publisher sends.
fn slow_link() -> LinkConfig {
    LinkConfig::perfect().with_latency(Duration::from_millis(10)).with_bandwidth(50_000)
}

/// The subscriber priority (MOQT sense, 0 = most important) packed into a data stream's
/// send order by the core: lite puts the lite-sense priority (255 - p) in bits 30..23
/// (`sluice::lite::priority`), MOQT puts 255 - p in bits 29..22 (`moqt/priority.rs`).
fn subscriber_priority(version: Version, order: i32) -> u8 {
    let shift = if matches!(version, Version::Lite(_)) { 23 } else { 22 };
    255 - ((order >> shift) & 0xFF) as u8
}

/// The send orders of the data (unidirectional) streams the relay opened on `conn`.
fn relay_data_stream_orders(node: &Node, conn: ConnId) -> Vec<i32> {
    node.net
        .trace()
        .iter()
        .filter(|e| e.conn == conn && e.side == Side::Server)
        .filter_map(|e| match &e.what {
            Traced::Output(Output::OpenStream { bidi: false, order, .. }) => Some(order.0),
            _ => None,
        })
        .collect()
}

/// Groups whose last object (`last`) arrived, in arrival order, per request.
fn completions(events: Vec<Event>, last: u64, out: &mut Vec<(RequestHandle, u64)>, count: &mut usize) {
    for e in events {
        if let Event::Object { request, info, .. } = e
            && info.status == ObjectStatus::Normal
        {
            *count += 1;
            if info.object == last {
                out.push((request, info.group));
            }
        }
    }
}

fn group_order_per_subscriber(version: Version) {
    let mut node = Node::new(RelayConfig::default());
    let (_, mut publisher) = Publisher::new(&mut node, version, LinkConfig::perfect());
    let ns = Namespace::from_fields(["prio"]);
    node.peer(publisher.conn).announce(ns.clone()).unwrap();
    node.pump();
    let track = TrackName::new(ns, "video");
    let (_, ascending) = node.connect(version, slow_link());
    let (_, descending) = node.connect(version, slow_link());
    let asks = [(ascending, 10u8, GroupOrder::Ascending), (descending, 200, GroupOrder::Descending)];
    for (conn, priority, order) in asks {
        let options = SubscribeOptions { priority, group_order: Some(order), ..SubscribeOptions::default() };
        node.peer(conn).subscribe(track.clone(), options).unwrap();
        node.tick(30);
    }
    publisher.serve(&mut node);
    assert_eq!(publisher.subscriptions.len(), 1, "{version:?}: one upstream subscription");
    let upstream = publisher.log.iter().find_map(|e| match e {
        Event::IncomingSubscribe { options, .. } => Some(options.group_order),
        _ => None,
    });
    assert_eq!(
        upstream,
        Some(Some(GroupOrder::Ascending)),
        "{version:?}: the first subscriber's order upstream"
    );
    node.tick(30);
    node.events(ascending);
    node.events(descending);

    // A burst of four groups: the downstream links cannot carry it at once.
    node.net.record_trace(true);
    for group in 0..4 {
        publisher.write_group(&mut node, group, 0..5, 1200);
    }
    let (mut done_asc, mut done_desc) = (Vec::new(), Vec::new());
    let (mut n_asc, mut n_desc) = (0, 0);
    for _ in 0..5000 {
        node.tick(1);
        completions(node.events(ascending), 4, &mut done_asc, &mut n_asc);
        completions(node.events(descending), 4, &mut done_desc, &mut n_desc);
        if n_asc == 20 && n_desc == 20 {
            break;
        }
    }
    assert_eq!((n_asc, n_desc), (20, 20), "{version:?}: every object reaches both");
    let groups = |d: &[(RequestHandle, u64)]| d.iter().map(|(_, g)| *g).collect::<Vec<_>>();
    assert_eq!(groups(&done_asc), vec![0, 1, 2, 3], "{version:?}: ascending completes oldest first");
    assert_eq!(groups(&done_desc), vec![3, 2, 1, 0], "{version:?}: descending completes newest first");

    let asc = relay_data_stream_orders(&node, ascending);
    let desc = relay_data_stream_orders(&node, descending);
    assert_eq!((asc.len(), desc.len()), (4, 4), "{version:?}: one stream per group each");
    assert!(asc.windows(2).all(|w| w[0] > w[1]), "{version:?}: ascending: older groups send first {asc:?}");
    assert!(desc.windows(2).all(|w| w[0] < w[1]), "{version:?}: descending: newer groups first {desc:?}");
    assert!(asc.iter().all(|o| subscriber_priority(version, *o) == 10), "{version:?}: {asc:?}");
    assert!(desc.iter().all(|o| subscriber_priority(version, *o) == 200), "{version:?}: {desc:?}");
}

#[test]
fn lite04_each_subscriber_gets_its_priority_and_group_order() {
    group_order_per_subscriber(LITE04);
}

#[test]
fn lite05_each_subscriber_gets_its_priority_and_group_order() {
    group_order_per_subscriber(LITE05);
}

#[test]
fn draft18_each_subscriber_gets_its_priority_and_group_order() {
    group_order_per_subscriber(DRAFT18);
}

/// One subscriber, two tracks at different priorities, more than its link carries: the
/// relay's streams for the important track go first.
fn important_track_first(publisher_version: Version, subscriber_version: Version) {
    const GROUPS: u64 = 6;
    const GROUP_LEN: u64 = 10;
    let mut node = Node::new(RelayConfig::default());
    let (_, publisher) = Publisher::new(&mut node, publisher_version, LinkConfig::perfect());
    let ns = Namespace::from_fields(["prio"]);
    node.peer(publisher.conn).announce(ns.clone()).unwrap();
    node.pump();
    let (_, sub) = node.connect(subscriber_version, slow_link());
    let low = node
        .peer(sub)
        .subscribe(
            TrackName::new(ns.clone(), "low"),
            SubscribeOptions { priority: 200, ..Default::default() },
        )
        .unwrap();
    let high = node
        .peer(sub)
        .subscribe(TrackName::new(ns.clone(), "high"), SubscribeOptions { priority: 0, ..Default::default() })
        .unwrap();
    node.tick(30);
    // Accept both upstream subscriptions; the low one is written first at each instant.
    let mut lanes: Vec<(bool, RequestHandle)> = Vec::new();
    for e in node.events(publisher.conn) {
        if let Event::IncomingSubscribe { request, track, .. } = e {
            node.peer(publisher.conn).accept_subscribe(request, TrackInfo::default()).unwrap();
            lanes.push((track.name.as_ref() == b"high", request));
        }
    }
    lanes.sort_by_key(|(is_high, _)| *is_high);
    assert_eq!(lanes.len(), 2);
    node.tick(30);
    node.events(sub);

    node.net.record_trace(true);
    let mut open = [None, None];
    let (mut done, mut count) = (Vec::new(), 0);
    for frame in 0..GROUPS * GROUP_LEN {
        let (group, object) = (frame / GROUP_LEN, frame % GROUP_LEN);
        for (i, (_, request)) in lanes.iter().enumerate() {
            let session = node.peer(publisher.conn);
            let stream = match open[i] {
                Some(s) => s,
                None => session.open_subgroup(*request, group, 0, None).unwrap(),
            };
            let mut write = ObjectWrite::new(object, frame_bytes(group, object));
            write.timestamp = Some(frame * 33);
            session.write_object(stream, write).unwrap();
            open[i] = Some(stream);
            if object + 1 == GROUP_LEN {
                session.close_subgroup(stream, true).unwrap();
                open[i] = None;
            }
        }
        node.tick(33);
        completions(node.events(sub), GROUP_LEN - 1, &mut done, &mut count);
    }
    for _ in 0..10_000 {
        if count == (2 * GROUPS * GROUP_LEN) as usize {
            break;
        }
        node.tick(1);
        completions(node.events(sub), GROUP_LEN - 1, &mut done, &mut count);
    }
    let tag = format!("{publisher_version:?} -> {subscriber_version:?}");
    assert_eq!(count, (2 * GROUPS * GROUP_LEN) as usize, "{tag}: everything arrives in the end");
    for group in 0..GROUPS {
        let at = |r| done.iter().position(|d| *d == (r, group)).unwrap();
        assert!(at(high) < at(low), "{tag}: group {group} of the important track first: {done:?}");
    }
    // The low track's last groups complete after every group of the important one: it
    // was starved while the link was busy.
    let last_high = done.iter().rposition(|d| d.0 == high).unwrap();
    let first_low_after = done.iter().position(|d| d.0 == low && d.1 == GROUPS - 1).unwrap();
    assert!(first_low_after > last_high, "{tag}: {done:?}");

    let mut priorities: Vec<u8> = relay_data_stream_orders(&node, sub)
        .iter()
        .map(|o| subscriber_priority(subscriber_version, *o))
        .collect();
    priorities.sort();
    let expected: Vec<u8> = [0u8; GROUPS as usize].into_iter().chain([200u8; GROUPS as usize]).collect();
    assert_eq!(priorities, expected, "{tag}: each stream carries its subscription's priority");
}

/// 1200-byte payload of a frame.
fn frame_bytes(group: u64, object: u64) -> bytes::Bytes {
    frame(group, object, 1200)
}

#[test]
fn important_track_first_draft18_to_draft18() {
    important_track_first(DRAFT18, DRAFT18);
}

#[test]
fn important_track_first_lite04_to_draft18() {
    important_track_first(LITE04, DRAFT18);
}

#[test]
fn important_track_first_draft18_to_lite05() {
    important_track_first(DRAFT18, LITE05);
}

/// A lite publisher on a slow link sends a burst newest-first unless asked otherwise; the
/// relay asks for the first subscriber's ascending order, so every group of the burst
/// arrives and reaches that subscriber in order.
#[test]
fn ascending_subscriber_gets_a_whole_burst_from_a_slow_lite_publisher() {
    for version in [LITE04, LITE05, DRAFT18] {
        let mut node = Node::new(RelayConfig::default());
        let (_, mut publisher) = Publisher::new(&mut node, version, slow_link());
        let ns = Namespace::from_fields(["burst"]);
        node.peer(publisher.conn).announce(ns.clone()).unwrap();
        node.tick(30);
        let (_, sub) = node.connect(DRAFT18, LinkConfig::perfect());
        let options = SubscribeOptions {
            group_order: Some(GroupOrder::Ascending),
            rendezvous_timeout_ms: Some(1000),
            ..Default::default()
        };
        node.peer(sub).subscribe(TrackName::new(ns, "t"), options).unwrap();
        node.tick(30);
        publisher.serve(&mut node);
        node.tick(30);
        for group in 0..4 {
            publisher.write_group(&mut node, group, 0..5, 1200);
        }
        let mut got = Received::default();
        for _ in 0..3000 {
            node.tick(1);
            got.take(&mut node, sub);
            if got.objects.len() == 20 {
                break;
            }
        }
        let expected: Vec<(u64, u64)> = (0..4).flat_map(|g| (0..5).map(move |o| (g, o))).collect();
        assert_eq!(got.ids(), expected, "{version:?}: the whole burst, oldest group first");
    }
}
