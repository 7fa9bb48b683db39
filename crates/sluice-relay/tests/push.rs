//! MOQT PUBLISH through the relay: a pushed track is cached and served to subscribers of
//! every version, lives on with nobody subscribed, and its end reaches them.

mod common;

use common::*;
use sluice::{Event, Namespace, ObjectWrite, SubscribeOptions, TrackInfo, TrackName};
use sluice_relay::RelayConfig;
use sluice_sim::LinkConfig;
use sluice_wire::moqt::codes::PublishDoneCode;

fn track() -> TrackName {
    TrackName::new(Namespace::from_fields(["pushed"]), "video")
}

fn write_group(node: &mut Node, conn: sluice_sim::ConnId, request: sluice::RequestHandle, group: u64) {
    let session = node.peer(conn);
    let stream = session.open_subgroup(request, group, 0, None).unwrap();
    for object in 0..3 {
        let mut w = ObjectWrite::new(object, frame(group, object, 150));
        w.timestamp = Some(object);
        session.write_object(stream, w).unwrap();
    }
    session.close_subgroup(stream, true).unwrap();
    node.pump();
}

#[test]
fn a_pushed_track_is_cached_and_served_to_every_version() {
    let mut node = Node::new(RelayConfig::default());
    let (_, publisher) = node.connect(DRAFT18, LinkConfig::perfect());
    let push = node.peer(publisher).publish(track(), TrackInfo::default()).unwrap();
    node.pump();
    assert!(
        node.events(publisher).iter().any(|e| matches!(e, Event::PublishAccepted { request, options } if *request == push && options.forward)),
        "the relay accepts with Forward=1"
    );
    write_group(&mut node, publisher, push, 0);
    assert_eq!(node.relay.cached(&track()).0, 1, "cached with nobody subscribed");

    let subs: Vec<_> = ALL
        .iter()
        .map(|v| {
            let (_, conn) = node.connect(*v, LinkConfig::perfect());
            node.peer(conn).subscribe(track(), SubscribeOptions::default()).unwrap();
            node.pump();
            conn
        })
        .collect();
    write_group(&mut node, publisher, push, 1);
    for (v, conn) in ALL.iter().zip(&subs) {
        let mut r = Received::default();
        r.take(&mut node, *conn);
        // moq-lite starts at the latest (cached) group; a MOQT Largest Object filter after
        // the Largest Location, (0, 2) here (draft-18 §5.1.2).
        let from = if *v == DRAFT18 { 3 } else { 0 };
        let all = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)];
        assert_eq!(r.ids(), all[from..].to_vec(), "{v:?}");
        for (g, _, o, payload, _) in &r.objects {
            assert_eq!(payload, &frame(*g, *o, 150));
        }
    }
    // Everyone leaves: the pushed track stays (its publisher still pushes).
    for conn in &subs {
        node.net.disconnect(*conn, 0, "bye");
    }
    node.pump();
    assert_eq!(node.relay.tracks(), 1);
    // A new subscriber, then the publisher ends the track.
    let (_, late) = node.connect(DRAFT18, LinkConfig::perfect());
    node.peer(late).subscribe(track(), SubscribeOptions::default()).unwrap();
    node.pump();
    node.peer(publisher).end_subscription(push, PublishDoneCode::TRACK_ENDED.0, "done").unwrap();
    node.pump();
    let mut r = Received::default();
    r.take(&mut node, late);
    assert_eq!(r.ended, Some(PublishDoneCode::TRACK_ENDED.0));
    assert_eq!(node.relay.tracks(), 0);
}

#[test]
fn a_waiting_subscription_is_served_by_a_push_and_duplicates_are_refused() {
    let mut node = Node::new(RelayConfig::default());
    let (_, sub) = node.connect(LITE05, LinkConfig::perfect());
    node.peer(sub).subscribe(track(), SubscribeOptions::default()).unwrap();
    node.pump();
    assert_eq!(node.relay.waiting(), 1);
    let (_, publisher) = node.connect(DRAFT18, LinkConfig::perfect());
    let push = node.peer(publisher).publish(track(), TrackInfo::default()).unwrap();
    node.pump();
    assert_eq!(node.relay.waiting(), 0);
    write_group(&mut node, publisher, push, 0);
    let mut r = Received::default();
    r.take(&mut node, sub);
    assert_eq!(r.ids(), vec![(0, 0), (0, 1), (0, 2)]);

    // A second push of the same track is refused.
    let (_, other) = node.connect(DRAFT18, LinkConfig::perfect());
    let again = node.peer(other).publish(track(), TrackInfo::default()).unwrap();
    node.pump();
    let refused = node.events(other).into_iter().find_map(|e| match e {
        Event::PublishRefused { request, reason } if request == again => Some(reason.code),
        _ => None,
    });
    assert_eq!(refused, Some(0x20), "the duplicate push is refused with UNINTERESTED");
    assert_eq!(node.relay.stats().tracks_pushed, 1);
    write_group(&mut node, publisher, push, 1);
    r.take(&mut node, sub);
    assert_eq!(r.ids().len(), 6, "the first publisher still feeds the track");
}
