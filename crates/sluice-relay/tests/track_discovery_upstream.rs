//! SUBSCRIBE_TRACKS forwarded upstream (issue 4: "SUBSCRIBE_TRACKS and PUBLISH (push) tracks
//! are forwarded"): a relay asked for a prefix's tracks asks its draft-18 publishers of
//! overlapping namespaces in turn, one upstream SUBSCRIBE_TRACKS per upstream session and
//! prefix, ended with its last downstream one; the PUBLISHes that come back are pushed on
//! to every matching downstream once. moq-lite has no push: a lite publisher is not asked.

mod common;

use common::mesh::Mesh;
use common::*;
use sluice::{Event, Namespace, ObjectWrite, RequestHandle, SubscribeOptions, TrackInfo, TrackName};
use sluice_relay::RelayConfig;
use sluice_sim::{ConnId, LinkConfig};

fn live() -> Namespace {
    Namespace::from_fields(["live"])
}

/// The SUBSCRIBE_TRACKS a peer was sent: (request, prefix).
fn discoveries(events: &[Event]) -> Vec<(RequestHandle, Namespace)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::IncomingTrackDiscovery { request, prefix, .. } => Some((*request, prefix.clone())),
            _ => None,
        })
        .collect()
}

fn discoveries_ended(events: &[Event]) -> usize {
    events.iter().filter(|e| matches!(e, Event::IncomingTrackDiscoveryEnded { .. })).count()
}

/// The PUBLISHes a peer got: (request, track).
fn publishes(events: &[Event]) -> Vec<(RequestHandle, TrackName)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::IncomingPublish { request, track, .. } => Some((*request, track.clone())),
            _ => None,
        })
        .collect()
}

/// Normal objects (request, group, object) a peer got.
fn objects(events: &[Event]) -> Vec<(RequestHandle, u64, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Object { request, info, .. } if info.status == sluice::ObjectStatus::Normal => {
                Some((*request, info.group, info.object))
            }
            _ => None,
        })
        .collect()
}

fn write_group(mesh: &mut Mesh, conn: ConnId, request: RequestHandle, group: u64) {
    let session = mesh.peer(conn);
    let stream = session.open_subgroup(request, group, 0, None).unwrap();
    for object in 0..3 {
        session.write_object(stream, ObjectWrite::new(object, frame(group, object, 50))).unwrap();
    }
    session.close_subgroup(stream, true).unwrap();
    mesh.pump();
}

/// publisher → relay A (R0) → relay B (R1) → two subscribers sending SUBSCRIBE_TRACKS at B.
/// `announce_first`: the publisher's PUBLISH_NAMESPACE comes before the SUBSCRIBE_TRACKS
/// (else after: the relays forward it when the namespace appears).
fn cascade(announce_first: bool) {
    let tag = if announce_first { "announced first" } else { "announced later" };
    let mut mesh = Mesh::new(2);
    mesh.link(1, 0, DRAFT18);
    let publisher = mesh.attach(0, DRAFT18);
    if announce_first {
        mesh.peer(publisher).announce(live()).unwrap();
        mesh.pump();
    }
    let first = mesh.attach(1, DRAFT18);
    let second = mesh.attach(1, DRAFT18);
    let first_discovery = mesh.peer(first).discover_tracks(live()).unwrap();
    mesh.pump();
    // A narrower prefix is covered by the upstream one already made.
    let second_discovery =
        mesh.peer(second).discover_tracks(Namespace::from_fields(["live", "cam"])).unwrap();
    mesh.pump();
    if !announce_first {
        mesh.peer(publisher).announce(live()).unwrap();
        mesh.pump();
    }
    let events = mesh.events(publisher);
    assert_eq!(discoveries(&events).iter().map(|d| d.1.clone()).collect::<Vec<_>>(), vec![live()], "{tag}");
    for r in 0..2 {
        assert_eq!(mesh.relays[r].stats().track_discoveries_forwarded, 1, "{tag}: R{r} asked upstream once");
    }

    // The publisher pushes a track: it comes down the cascade to both subscribers once.
    let track = TrackName::new(Namespace::from_fields(["live", "cam"]), "video");
    let push = mesh.peer(publisher).publish(track.clone(), TrackInfo::default()).unwrap();
    mesh.pump();
    for r in 0..2 {
        assert_eq!(mesh.relays[r].forwarded_track_discoveries(), 1, "{tag}: R{r} holds one");
    }
    let mut pushed = Vec::new();
    for conn in [first, second] {
        let got = publishes(&mesh.events(conn));
        assert_eq!(got.iter().map(|p| p.1.clone()).collect::<Vec<_>>(), vec![track.clone()], "{tag}");
        mesh.peer(conn).accept_publish(got[0].0, SubscribeOptions::default()).unwrap();
        pushed.push(got[0].0);
    }
    mesh.pump();
    write_group(&mut mesh, publisher, push, 0);
    write_group(&mut mesh, publisher, push, 1);
    for (conn, request) in [first, second].into_iter().zip(pushed) {
        let want: Vec<(RequestHandle, u64, u64)> =
            (0..2).flat_map(|g| (0..3).map(move |o| (request, g, o))).collect();
        assert_eq!(objects(&mesh.events(conn)), want, "{tag}: every object once, on the PUBLISH");
    }
    assert!(
        !mesh.events(publisher).iter().any(|e| matches!(e, Event::IncomingSubscribe { .. })),
        "{tag}: nothing was subscribed: the push carries the track"
    );

    // The upstream SUBSCRIBE_TRACKS ends with the last downstream one, hop by hop.
    mesh.peer(first).cancel(first_discovery).unwrap();
    mesh.pump();
    assert_eq!(discoveries_ended(&mesh.events(publisher)), 0, "{tag}: the second still wants it");
    mesh.peer(second).cancel(second_discovery).unwrap();
    mesh.pump();
    assert_eq!(discoveries_ended(&mesh.events(publisher)), 1, "{tag}: ended after the last left");
    for r in 0..2 {
        assert_eq!(mesh.relays[r].forwarded_track_discoveries(), 0, "{tag}: R{r} holds none");
    }
}

#[test]
fn subscribe_tracks_is_forwarded_up_a_cascade_and_pushes_come_back_once() {
    cascade(true);
}

#[test]
fn subscribe_tracks_waiting_for_a_namespace_is_forwarded_when_it_is_announced() {
    cascade(false);
}

#[test]
fn a_wider_prefix_replaces_the_narrower_upstream_one() {
    let mut node = Node::new(RelayConfig::default());
    let (_, publisher) = node.connect(DRAFT18, LinkConfig::perfect());
    node.peer(publisher).announce(live()).unwrap();
    node.pump();
    let (_, a) = node.connect(DRAFT18, LinkConfig::perfect());
    let (_, b) = node.connect(DRAFT18, LinkConfig::perfect());
    node.peer(a).discover_tracks(Namespace::from_fields(["live", "cam"])).unwrap();
    node.pump();
    node.peer(b).discover_tracks(Namespace::default()).unwrap();
    node.pump();
    let events = node.events(publisher);
    let asked: Vec<Namespace> = discoveries(&events).into_iter().map(|d| d.1).collect();
    assert_eq!(asked, vec![Namespace::from_fields(["live", "cam"]), Namespace::default()]);
    assert_eq!(discoveries_ended(&events), 1, "the narrower one was cancelled");
    assert!(
        !events.iter().any(|e| matches!(e, Event::DiscoveryEnded { .. })),
        "the wider one was not refused as overlapping: {events:?}"
    );
    // The wider one serves both: a track under the narrower prefix reaches both.
    let track = TrackName::new(Namespace::from_fields(["live", "cam"]), "v");
    node.peer(publisher).publish(track.clone(), TrackInfo::default()).unwrap();
    node.pump();
    for conn in [a, b] {
        assert_eq!(publishes(&node.events(conn)).len(), 1);
    }
    // Their sessions closing ends the upstream one too.
    assert_eq!(node.relay.forwarded_track_discoveries(), 1);
    node.net.disconnect(a, 0, "bye");
    node.pump();
    assert_eq!(discoveries_ended(&node.events(publisher)), 0, "b still wants it");
    node.net.disconnect(b, 0, "bye");
    node.pump();
    assert_eq!(discoveries_ended(&node.events(publisher)), 1);
    assert_eq!(node.relay.forwarded_track_discoveries(), 0);
}

#[test]
fn a_lite_publisher_is_not_asked_and_its_tracks_are_pushed_once_live() {
    for version in [LITE04, LITE05] {
        let mut node = Node::new(RelayConfig::default());
        let mut publisher = Publisher::new(&mut node, version, LinkConfig::perfect()).1;
        node.peer(publisher.conn).announce(live()).unwrap();
        node.pump();
        let (_, watcher) = node.connect(DRAFT18, LinkConfig::perfect());
        node.peer(watcher).discover_tracks(live()).unwrap();
        node.pump();
        assert_eq!(node.relay.stats().track_discoveries_forwarded, 0, "{version:?}: lite has no push");
        publisher.serve(&mut node);
        assert!(publisher.subscriptions.is_empty(), "{version:?}: nothing subscribed on its behalf");
        assert!(publishes(&node.events(watcher)).is_empty());
        // Someone subscribes: the track is live at the relay and pushed to the watcher.
        let (_, viewer) = node.connect(version, LinkConfig::perfect());
        let track = TrackName::new(live(), "video");
        node.peer(viewer).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
        node.pump();
        publisher.serve(&mut node);
        // lite-05 answers a subscription once a group exists.
        publisher.write_group(&mut node, 0, 0..1, 10);
        let got = publishes(&node.events(watcher));
        assert_eq!(got.iter().map(|p| p.1.clone()).collect::<Vec<_>>(), vec![track], "{version:?}");
    }
}
