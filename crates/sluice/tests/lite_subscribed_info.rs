//! lite-05 `Event::Subscribed` and TRACK_INFO (lite-05 §Subscribe, §Track): SUBSCRIBE_OK
//! carries only the start group, so the publisher fields come from TRACK_INFO — the one a
//! `track_status` asked at the same time, or the session's cache of earlier answers, which a
//! re-announcement of the broadcast clears. See `sluice::lite::track_info`.

mod lite_common;

use bytes::Bytes;
use lite_common::*;
use sluice::{
    Event, GroupOrder, LiteVersion, Location, ObjectWrite, RequestHandle, SubscribeOptions, TrackInfo,
};
use sluice_sim::{Pair, Side};

const PUB: Side = Side::Server;
const SUB: Side = Side::Client;

/// What the publisher answers TRACK with (every field away from its default).
fn publisher_info() -> TrackInfo {
    TrackInfo {
        publisher_priority: 20,
        group_order: GroupOrder::Ascending,
        largest: None,
        max_latency_ms: 250,
        timescale: 90_000,
        ..TrackInfo::default()
    }
}

/// The accept: the start resolved at group 3, so SUBSCRIBE_OK goes out at once.
fn accept_info() -> TrackInfo {
    TrackInfo { largest: Some(Location { group: 3, object: 0 }), ..TrackInfo::default() }
}

/// The publisher's pending IncomingSubscribe and IncomingTrackStatus handles, in that order
/// of presence (`None` when absent).
fn incoming(p: &mut Pair) -> (Option<RequestHandle>, Option<RequestHandle>) {
    let mut out = (None, None);
    for e in p.take_events(PUB) {
        match e {
            Event::IncomingSubscribe { request, .. } => out.0 = Some(request),
            Event::IncomingTrackStatus { request, .. } => out.1 = Some(request),
            other => panic!("{other:?}"),
        }
    }
    out
}

fn subscribed_info(events: &[Event], h: RequestHandle) -> Option<TrackInfo> {
    events.iter().find_map(|e| match e {
        Event::Subscribed { request, info } if *request == h => Some(TrackInfo::clone(info)),
        _ => None,
    })
}

/// The full info `Subscribed` should carry: TRACK_INFO's fields with SUBSCRIBE_OK's start.
fn full() -> TrackInfo {
    TrackInfo { largest: Some(Location { group: 3, object: 0 }), ..publisher_info() }
}

#[test]
fn subscribed_waits_for_the_track_info_asked_alongside() {
    let mut p = pair(LiteVersion::Lite05);
    let status = p.session(SUB).track_status(track()).unwrap();
    let sub = p.session(SUB).subscribe(track(), SubscribeOptions::default()).unwrap();
    p.run();
    let (Some(r), Some(t)) = incoming(&mut p) else { panic!() };
    // SUBSCRIBE_OK first: Subscribed is held for TRACK_INFO.
    p.session(PUB).accept_subscribe(r, accept_info()).unwrap();
    p.run();
    assert_eq!(p.take_events(SUB), vec![]);
    p.session(PUB).accept_subscribe(t, publisher_info()).unwrap();
    p.run();
    let got = p.take_events(SUB);
    assert_eq!(subscribed_info(&got, sub), Some(full()), "{got:?}");
    assert!(
        got.contains(&Event::TrackStatus { request: status, result: Ok(Box::new(publisher_info())) }),
        "{got:?}"
    );

    // A later subscription of the same track takes the cached TRACK_INFO at once.
    let again = p.session(SUB).subscribe(track(), SubscribeOptions::default()).unwrap();
    p.run();
    let (Some(r), None) = incoming(&mut p) else { panic!() };
    p.session(PUB).accept_subscribe(r, accept_info()).unwrap();
    p.run();
    assert_eq!(subscribed_info(&p.take_events(SUB), again), Some(full()));
}

#[test]
fn data_releases_a_held_subscribed_before_its_objects() {
    let mut p = pair(LiteVersion::Lite05);
    p.session(SUB).track_status(track()).unwrap();
    let sub = p.session(SUB).subscribe(track(), SubscribeOptions::default()).unwrap();
    p.run();
    let (Some(r), Some(_unanswered)) = incoming(&mut p) else { panic!() };
    p.session(PUB).accept_subscribe(r, accept_info()).unwrap();
    p.run();
    assert_eq!(p.take_events(SUB), vec![]);
    let g = p.session(PUB).open_subgroup(r, 3, 0, None).unwrap();
    let frame = ObjectWrite { timestamp: Some(0), ..ObjectWrite::new(0, Bytes::from_static(b"f")) };
    p.session(PUB).write_object(g, frame).unwrap();
    p.run();
    let got = p.take_events(SUB);
    let expected = TrackInfo { largest: Some(Location { group: 3, object: 0 }), ..TrackInfo::default() };
    assert_eq!(got.first(), Some(&Event::Subscribed { request: sub, info: Box::new(expected) }), "{got:?}");
    assert!(matches!(got.get(1), Some(Event::Object { request, .. }) if *request == sub), "{got:?}");
}

#[test]
fn a_reannouncement_clears_the_cached_track_info() {
    let mut p = pair(LiteVersion::Lite05);
    let ns = track().namespace;
    let announce = p.session(PUB).announce(ns.clone()).unwrap();
    p.session(SUB).discover(ns.clone()).unwrap();
    p.run();
    p.take_events(SUB);
    p.take_events(PUB);
    // Fill the cache.
    p.session(SUB).track_status(track()).unwrap();
    p.run();
    let (None, Some(t)) = incoming(&mut p) else { panic!() };
    p.session(PUB).accept_subscribe(t, publisher_info()).unwrap();
    p.run();
    p.take_events(SUB);
    // The broadcast ends and comes back: its TRACK_INFO may differ now.
    p.session(PUB).cancel(announce).unwrap();
    p.session(PUB).announce(ns).unwrap();
    p.run();
    let seen = p.take_events(SUB);
    assert!(seen.iter().any(|e| matches!(e, Event::NamespaceGone { .. })), "{seen:?}");
    p.take_events(PUB);
    let sub = p.session(SUB).subscribe(track(), SubscribeOptions::default()).unwrap();
    p.run();
    let (Some(r), None) = incoming(&mut p) else { panic!() };
    p.session(PUB).accept_subscribe(r, accept_info()).unwrap();
    p.run();
    assert_eq!(subscribed_info(&p.take_events(SUB), sub), Some(accept_info()));
}
