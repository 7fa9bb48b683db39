//! TRACK_STATUS answered from what the relay knows or forwarded upstream, and
//! SUBSCRIBE_UPDATE / REQUEST_UPDATE aggregation onto the single upstream subscription.

mod common;

use common::*;
use sluice::{Event, Location, Namespace, SubscribeOptions, TrackInfo, TrackName, Version};
use sluice_relay::RelayConfig;
use sluice_sim::{ConnId, LinkConfig};
use sluice_wire::moqt::codes::RequestErrorCode;

fn publisher(version: Version, config: RelayConfig) -> (Node, Publisher, TrackName) {
    let mut node = Node::new(config);
    let (_, p) = Publisher::new(&mut node, version, LinkConfig::perfect());
    let ns = Namespace::from_fields(["live"]);
    node.peer(p.conn).announce(ns.clone()).unwrap();
    node.pump();
    (node, p, TrackName::new(ns, "video"))
}

fn status_result(node: &mut Node, conn: ConnId) -> Option<Result<TrackInfo, u64>> {
    node.events(conn).into_iter().find_map(|e| match e {
        Event::TrackStatus { result, .. } => Some(result.map(|info| *info).map_err(|r| r.code)),
        _ => None,
    })
}

fn incoming_statuses(node: &mut Node, p: &Publisher) -> Vec<sluice::RequestHandle> {
    node.events(p.conn)
        .into_iter()
        .filter_map(|e| match e {
            Event::IncomingTrackStatus { request, .. } => Some(request),
            _ => None,
        })
        .collect()
}

#[test]
fn track_status_of_a_relayed_track_is_answered_by_the_relay() {
    for version in ALL {
        let (mut node, mut p, track) = publisher(version, RelayConfig::default());
        let (_, sub) = node.connect(version, LinkConfig::perfect());
        node.peer(sub).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
        node.pump();
        p.serve(&mut node);
        p.write_group(&mut node, 0, 0..3, 100);
        p.write_group(&mut node, 1, 0..5, 100);

        let (_, asker) = node.connect(DRAFT18, LinkConfig::perfect());
        node.peer(asker).track_status(track.clone()).unwrap();
        node.pump();
        let info = status_result(&mut node, asker).expect("answered").expect("ok");
        assert_eq!(info.largest, Some(Location { group: 1, object: 4 }), "{version:?}");
        assert!(incoming_statuses(&mut node, &p).is_empty(), "{version:?}: not forwarded");
        assert_eq!(node.relay.stats().statuses_answered, 1);
    }
}

#[test]
fn track_status_of_an_unrelayed_track_is_forwarded() {
    for version in [DRAFT18, LITE05] {
        let (mut node, p, track) = publisher(version, RelayConfig::default());
        let (_, asker) = node.connect(DRAFT18, LinkConfig::perfect());
        node.peer(asker).track_status(track.clone()).unwrap();
        node.pump();
        let asked = incoming_statuses(&mut node, &p);
        assert_eq!(asked.len(), 1, "{version:?}");
        assert_eq!(node.relay.forwarded(), 1);
        let info = TrackInfo {
            largest: Some(Location { group: 7, object: 2 }),
            publisher_priority: 40,
            ..TrackInfo::default()
        };
        node.peer(p.conn).accept_subscribe(asked[0], info).unwrap();
        node.pump();
        let got = status_result(&mut node, asker).expect("answered").expect("ok");
        assert_eq!(got.publisher_priority, 40, "{version:?}");
        // lite-05 TRACK_INFO has no largest location (lossy); MOQT carries it.
        let largest = (version == DRAFT18).then_some(Location { group: 7, object: 2 });
        assert_eq!(got.largest, largest, "{version:?}");
        assert_eq!(node.relay.forwarded(), 0);
    }
    // A refusal keeps its code between MOQT sessions.
    let (mut node, p, track) = publisher(DRAFT18, RelayConfig::default());
    let (_, asker) = node.connect(DRAFT18, LinkConfig::perfect());
    node.peer(asker).track_status(track.clone()).unwrap();
    node.pump();
    let asked = incoming_statuses(&mut node, &p);
    node.peer(p.conn).reject(asked[0], RequestErrorCode::DOES_NOT_EXIST.0, "no such track").unwrap();
    node.pump();
    assert_eq!(status_result(&mut node, asker), Some(Err(RequestErrorCode::DOES_NOT_EXIST.0)));
}

#[test]
fn track_status_without_a_publisher_or_a_way_to_ask_is_refused() {
    // Nobody publishes the namespace.
    let mut node = Node::new(RelayConfig::default());
    let (_, asker) = node.connect(DRAFT18, LinkConfig::perfect());
    node.peer(asker).track_status(TrackName::new(Namespace::from_fields(["none"]), "x")).unwrap();
    node.pump();
    assert_eq!(status_result(&mut node, asker), Some(Err(RequestErrorCode::DOES_NOT_EXIST.0)));
    // A lite-04 publisher has no status request.
    let (mut node, _p, track) = publisher(LITE04, RelayConfig::default());
    let (_, asker) = node.connect(DRAFT18, LinkConfig::perfect());
    node.peer(asker).track_status(track).unwrap();
    node.pump();
    assert_eq!(status_result(&mut node, asker), Some(Err(RequestErrorCode::NOT_SUPPORTED.0)));
    // The forwarded-request limit.
    let (mut node, _p, track) =
        publisher(DRAFT18, RelayConfig { max_forwarded_requests: 0, ..RelayConfig::default() });
    let (_, asker) = node.connect(DRAFT18, LinkConfig::perfect());
    node.peer(asker).track_status(track).unwrap();
    node.pump();
    assert_eq!(status_result(&mut node, asker), Some(Err(RequestErrorCode::EXCESSIVE_LOAD.0)));
}

/// The options of every upstream SUBSCRIBE / update the publisher saw, in order.
fn upstream_options(node: &mut Node, p: &mut Publisher) -> Vec<SubscribeOptions> {
    let mut out = Vec::new();
    for e in node.events(p.conn) {
        match &e {
            Event::IncomingSubscribe { request, options, .. } => {
                node.peer(p.conn).accept_subscribe(*request, TrackInfo::default()).unwrap();
                p.subscriptions.push(*request);
                out.push((**options).clone());
            }
            Event::SubscribeUpdated { options, .. } => out.push(options.clone()),
            _ => {}
        }
        p.log.push(e);
    }
    node.pump();
    out
}

fn subscribe(
    node: &mut Node,
    version: Version,
    track: &TrackName,
    options: SubscribeOptions,
) -> (ConnId, sluice::RequestHandle) {
    let (_, conn) = node.connect(version, LinkConfig::perfect());
    let h = node.peer(conn).subscribe(track.clone(), options).unwrap();
    node.pump();
    (conn, h)
}

#[test]
fn upstream_priority_follows_the_most_important_subscriber() {
    for version in ALL {
        let (mut node, mut p, track) = publisher(version, RelayConfig::default());
        let low = SubscribeOptions { priority: 200, ..SubscribeOptions::default() };
        let (_a, _) = subscribe(&mut node, version, &track, low.clone());
        assert_eq!(
            upstream_options(&mut node, &mut p).iter().map(|o| o.priority).collect::<Vec<_>>(),
            vec![200]
        );
        let high = SubscribeOptions { priority: 20, ..SubscribeOptions::default() };
        let (b, hb) = subscribe(&mut node, version, &track, high);
        assert_eq!(
            upstream_options(&mut node, &mut p).iter().map(|o| o.priority).collect::<Vec<_>>(),
            vec![20],
            "{version:?}: the second subscriber raised it"
        );
        // The important one lowers its priority by an update: upstream follows.
        node.peer(b)
            .update_subscription(hb, SubscribeOptions { priority: 150, ..SubscribeOptions::default() })
            .unwrap();
        node.pump();
        assert_eq!(
            upstream_options(&mut node, &mut p).iter().map(|o| o.priority).collect::<Vec<_>>(),
            vec![150],
            "{version:?}"
        );
        // It leaves: back to the remaining subscriber's priority.
        node.peer(b).cancel(hb).unwrap();
        node.pump();
        assert_eq!(
            upstream_options(&mut node, &mut p).iter().map(|o| o.priority).collect::<Vec<_>>(),
            vec![200],
            "{version:?}"
        );
        assert_eq!(p.subscriptions.len(), 1, "still one upstream subscription");
    }
}

#[test]
fn upstream_forwards_while_any_subscriber_does() {
    let (mut node, mut p, track) = publisher(DRAFT18, RelayConfig::default());
    let (a, ha) = subscribe(&mut node, DRAFT18, &track, SubscribeOptions::default());
    let (b, hb) = subscribe(&mut node, DRAFT18, &track, SubscribeOptions::default());
    let first = upstream_options(&mut node, &mut p);
    assert_eq!(first.iter().map(|o| o.forward).collect::<Vec<_>>(), vec![true]);
    p.write_group(&mut node, 0, 0..2, 100);

    let paused = SubscribeOptions { forward: false, ..SubscribeOptions::default() };
    node.peer(b).update_subscription(hb, paused.clone()).unwrap();
    node.pump();
    assert!(upstream_options(&mut node, &mut p).is_empty(), "a still forwards: no upstream change");
    p.write_group(&mut node, 1, 0..2, 100);

    node.peer(a).update_subscription(ha, paused).unwrap();
    node.pump();
    let up = upstream_options(&mut node, &mut p);
    assert_eq!(up.iter().map(|o| o.forward).collect::<Vec<_>>(), vec![false], "nobody forwards: Forward=0");

    node.peer(b).update_subscription(hb, SubscribeOptions::default()).unwrap();
    node.pump();
    let up = upstream_options(&mut node, &mut p);
    assert_eq!(up.iter().map(|o| o.forward).collect::<Vec<_>>(), vec![true], "b forwards again");
    p.write_group(&mut node, 2, 0..2, 100);

    let (mut ra, mut rb) = (Received::default(), Received::default());
    ra.take(&mut node, a);
    rb.take(&mut node, b);
    assert_eq!(ra.ids(), vec![(0, 0), (0, 1), (1, 0), (1, 1)], "a: until it paused");
    assert_eq!(rb.ids(), vec![(0, 0), (0, 1), (2, 0), (2, 1)], "b: before its pause and after");
}
