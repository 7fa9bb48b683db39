//! MOQT SUBSCRIBE_TRACKS toward the relay: the relay PUBLISHes its matching live tracks
//! (subscribed ones and pushed ones), now and as they appear, and relays their objects and
//! end on each PUBLISH.

mod common;

use common::*;
use sluice::{
    Event, GroupOrder, Namespace, ObjectWrite, RequestHandle, SubscribeOptions, TrackInfo, TrackName,
};
use sluice_relay::RelayConfig;
use sluice_sim::{ConnId, LinkConfig};

fn write_group(node: &mut Node, conn: ConnId, request: RequestHandle, group: u64) {
    let session = node.peer(conn);
    let stream = session.open_subgroup(request, group, 0, None).unwrap();
    for object in 0..3 {
        let mut w = ObjectWrite::new(object, frame(group, object, 100));
        w.timestamp = Some(object);
        session.write_object(stream, w).unwrap();
    }
    session.close_subgroup(stream, true).unwrap();
    node.pump();
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

/// Objects (group, object) a peer got on `request`.
fn objects_on(events: &[Event], on: RequestHandle) -> Vec<(u64, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Object { request, info, .. }
                if *request == on && info.status == sluice::ObjectStatus::Normal =>
            {
                Some((info.group, info.object))
            }
            _ => None,
        })
        .collect()
}

/// Serves every subscription the relay made to a publisher; returns (request, track).
fn serve(node: &mut Node, conn: ConnId) -> Vec<(RequestHandle, TrackName)> {
    let mut served = Vec::new();
    for e in node.events(conn) {
        if let Event::IncomingSubscribe { request, track, .. } = e {
            node.peer(conn).accept_subscribe(request, TrackInfo::default()).unwrap();
            served.push((request, track));
        }
    }
    node.pump();
    served
}

#[test]
fn subscribe_tracks_gets_current_and_new_tracks_pushed() {
    for publisher_version in [DRAFT18, LITE04] {
        let tag = format!("{publisher_version:?}");
        let mut node = Node::new(RelayConfig::default());
        let (_, publisher) = node.connect(publisher_version, LinkConfig::perfect());
        let live = Namespace::from_fields(["live", "a"]);
        node.peer(publisher).announce(live.clone()).unwrap();
        node.peer(publisher).announce(Namespace::from_fields(["other"])).unwrap();
        node.pump();
        let video = TrackName::new(live.clone(), "video");
        // A subscriber makes "video" live at the relay.
        let (_, viewer) = node.connect(LITE05, LinkConfig::perfect());
        node.peer(viewer).subscribe(video.clone(), SubscribeOptions::default()).unwrap();
        node.pump();
        let served = serve(&mut node, publisher);
        assert_eq!(served.len(), 1, "{tag}");
        let video_up = served[0].0;

        // A draft-18 peer asks for every track under "live".
        let (_, watcher) = node.connect(DRAFT18, LinkConfig::perfect());
        node.peer(watcher).discover_tracks(Namespace::from_fields(["live"])).unwrap();
        node.pump();
        let events = node.events(watcher);
        let pushed = publishes(&events);
        assert_eq!(pushed.iter().map(|p| p.1.clone()).collect::<Vec<_>>(), vec![video.clone()], "{tag}");
        let video_push = pushed[0].0;
        let options =
            SubscribeOptions { priority: 3, group_order: Some(GroupOrder::Ascending), ..Default::default() };
        node.peer(watcher).accept_publish(video_push, options).unwrap();
        node.pump();
        assert_eq!(node.relay.subscribers(&video), 2, "{tag}: the PUBLISH is a downstream subscription");
        write_group(&mut node, publisher, video_up, 0);
        let events = node.events(watcher);
        assert_eq!(objects_on(&events, video_push), vec![(0, 0), (0, 1), (0, 2)], "{tag}: objects flow");

        // A new track under the prefix goes live: pushed too. One outside it: not.
        let audio = TrackName::new(live.clone(), "audio");
        let elsewhere = TrackName::new(Namespace::from_fields(["other"]), "x");
        node.peer(viewer).subscribe(audio.clone(), SubscribeOptions::default()).unwrap();
        node.peer(viewer).subscribe(elsewhere.clone(), SubscribeOptions::default()).unwrap();
        node.pump();
        assert!(publishes(&node.events(watcher)).is_empty(), "{tag}: not pushed before it is live");
        let served = serve(&mut node, publisher);
        assert_eq!(served.len(), 2, "{tag}");
        let events = node.events(watcher);
        let pushed = publishes(&events);
        assert_eq!(pushed.iter().map(|p| p.1.clone()).collect::<Vec<_>>(), vec![audio.clone()], "{tag}");
        // The watcher refuses it: the relay forgets that downstream.
        node.peer(watcher).reject(pushed[0].0, 0x20, "not interested").unwrap();
        node.pump();
        assert_eq!(node.relay.subscribers(&audio), 1, "{tag}: a refused PUBLISH leaves");

        // The track ends upstream: PUBLISH_DONE reaches the watcher.
        let done_code = if publisher_version == DRAFT18 { 0x2 } else { 0 };
        node.peer(publisher).end_subscription(video_up, done_code, "over").unwrap();
        node.pump();
        let events = node.events(watcher);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::SubscriptionEnded { request, .. } if *request == video_push)),
            "{tag}: the end is carried on the PUBLISH: {events:?}"
        );
        assert_eq!(node.relay.stats().tracks_pushed_downstream, 2, "{tag}");
    }
}

#[test]
fn a_track_pushed_to_the_relay_is_pushed_on_and_a_cancelled_discovery_stops_pushes() {
    let mut node = Node::new(RelayConfig::default());
    let (_, watcher) = node.connect(DRAFT18, LinkConfig::perfect());
    let discovery = node.peer(watcher).discover_tracks(Namespace::from_fields(["pushed"])).unwrap();
    node.pump();
    let (_, publisher) = node.connect(DRAFT18, LinkConfig::perfect());
    let first = TrackName::new(Namespace::from_fields(["pushed", "x"]), "one");
    let push = node.peer(publisher).publish(first.clone(), TrackInfo::default()).unwrap();
    node.pump();
    let events = node.events(watcher);
    let pushed = publishes(&events);
    assert_eq!(pushed.iter().map(|p| p.1.clone()).collect::<Vec<_>>(), vec![first.clone()]);
    node.peer(watcher).accept_publish(pushed[0].0, SubscribeOptions::default()).unwrap();
    node.pump();
    write_group(&mut node, publisher, push, 5);
    assert_eq!(objects_on(&node.events(watcher), pushed[0].0), vec![(5, 0), (5, 1), (5, 2)]);
    // The watcher itself is never pushed its own track back.
    let own = TrackName::new(Namespace::from_fields(["pushed", "y"]), "mine");
    node.peer(watcher).publish(own.clone(), TrackInfo::default()).unwrap();
    node.pump();
    assert!(publishes(&node.events(watcher)).is_empty(), "its own track is not pushed back");

    node.peer(watcher).cancel(discovery).unwrap();
    node.pump();
    let second = TrackName::new(Namespace::from_fields(["pushed", "x"]), "two");
    node.peer(publisher).publish(second, TrackInfo::default()).unwrap();
    node.pump();
    assert!(publishes(&node.events(watcher)).is_empty(), "no PUBLISH after SUBSCRIBE_TRACKS ended");
    // The PUBLISH already made goes on.
    write_group(&mut node, publisher, push, 6);
    assert_eq!(objects_on(&node.events(watcher), pushed[0].0), vec![(6, 0), (6, 1), (6, 2)]);
}

#[test]
fn a_subscribe_for_a_track_already_pushed_is_refused_and_objects_arrive_once() {
    // draft-18 §"Subscriptions": at most one subscription to a Track per role; a second
    // one (here a SUBSCRIBE for a track the relay PUBLISHed to the session, accepted or
    // still pending) fails with DUPLICATE_SUBSCRIPTION.
    for accept_first in [true, false] {
        let mut node = Node::new(RelayConfig::default());
        let (_, watcher) = node.connect(DRAFT18, LinkConfig::perfect());
        node.peer(watcher).discover_tracks(Namespace::from_fields(["pushed"])).unwrap();
        node.pump();
        let (_, publisher) = node.connect(DRAFT18, LinkConfig::perfect());
        let track = TrackName::new(Namespace::from_fields(["pushed"]), "one");
        let push = node.peer(publisher).publish(track.clone(), TrackInfo::default()).unwrap();
        node.pump();
        let pushed = publishes(&node.events(watcher));
        assert_eq!(pushed.len(), 1);
        if accept_first {
            node.peer(watcher).accept_publish(pushed[0].0, SubscribeOptions::default()).unwrap();
        }
        let sub = node.peer(watcher).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
        node.pump();
        if !accept_first {
            node.peer(watcher).accept_publish(pushed[0].0, SubscribeOptions::default()).unwrap();
            node.pump();
        }
        write_group(&mut node, publisher, push, 0);
        let events = node.events(watcher);
        let refused = events.iter().find_map(|e| match e {
            Event::SubscribeFailed { request, reason } if *request == sub => Some(reason.code),
            _ => None,
        });
        assert_eq!(refused, Some(0x19), "accepted first: {accept_first}: {events:?}");
        assert_eq!(objects_on(&events, pushed[0].0), vec![(0, 0), (0, 1), (0, 2)]);
        assert!(objects_on(&events, sub).is_empty(), "nothing on the refused SUBSCRIBE");
        assert_eq!(node.relay.subscribers(&track), 1);
        assert_eq!(node.relay.stats().duplicate_subscriptions, 1);
    }
}

#[test]
fn a_publish_of_a_track_the_relay_subscribed_on_that_session_is_a_duplicate() {
    // The relay subscribed to the track on the publisher's session; the publisher then
    // PUBLISHes it: a second subscription with the subscriber role (draft-18
    // §"Subscriptions") is refused with DUPLICATE_SUBSCRIPTION, and the one SUBSCRIBE
    // keeps delivering.
    let mut node = Node::new(RelayConfig::default());
    let (_, publisher) = node.connect(DRAFT18, LinkConfig::perfect());
    node.peer(publisher).announce(Namespace::from_fields(["live"])).unwrap();
    node.pump();
    let (_, viewer) = node.connect(DRAFT18, LinkConfig::perfect());
    let track = TrackName::new(Namespace::from_fields(["live"]), "video");
    let sub = node.peer(viewer).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
    node.pump();
    let served = serve(&mut node, publisher);
    assert_eq!(served.len(), 1);
    let push = node.peer(publisher).publish(track.clone(), TrackInfo::default()).unwrap();
    node.pump();
    let refused = node.events(publisher).into_iter().find_map(|e| match e {
        Event::SubscribeFailed { request, reason } if request == push => Some(reason.code),
        Event::PublishRefused { request, reason } if request == push => Some(reason.code),
        _ => None,
    });
    assert_eq!(refused, Some(0x19));
    write_group(&mut node, publisher, served[0].0, 0);
    assert_eq!(objects_on(&node.events(viewer), sub), vec![(0, 0), (0, 1), (0, 2)]);
}
