//! Track Properties, NEW_GROUP_REQUEST and MAX_CACHE_DURATION through the relay
//! (draft-18 §2.5 "Properties", §2.5.1 "Mandatory Track Properties", §13 "MOQT
//! Properties", "NEW GROUP REQUEST Parameter" Relay Handling, "MAX CACHE DURATION"):
//!
//! * the publisher's untyped Track Properties (unknown types, Immutable Properties with
//!   non-minimal nested varints) reach every downstream subscriber byte for byte, and are
//!   cached with the track (a TRACK_STATUS after the last subscriber left gets them);
//! * an upstream SUBSCRIBE_OK / FETCH_OK with a Mandatory Track Property the core does not
//!   understand fails the pending downstream requests with UNSUPPORTED_EXTENSION;
//! * NEW_GROUP_REQUEST goes upstream in the first SUBSCRIBE, then as REQUEST_UPDATE only
//!   when the rules allow;
//! * objects older than MAX_CACHE_DURATION are served neither to late joiners nor to
//!   fetches.

mod common;

use bytes::Bytes;
use common::*;
use sluice::{Event, Filter, Location, Namespace, RequestHandle, SubscribeOptions, TrackInfo, TrackName};
use sluice_relay::RelayConfig;
use sluice_sim::{ConnId, LinkConfig};
use sluice_wire::moqt::codes::RequestErrorCode;

const UNSUPPORTED: u64 = RequestErrorCode::UNSUPPORTED_EXTENSION.0;
const LEN: usize = 50;

/// Untyped Track Properties (ascending types, delta-coded): Immutable Properties (0x0B)
/// holding an unknown even type 0x40 = 7 with a non-minimal 2-byte delta and value, and an
/// unknown odd type 0x41 = "abc"; an unknown even type 0x24 = 9; an unknown odd type
/// 0x101 = "zz".
fn untyped_properties() -> Bytes {
    let nested = [0x80, 0x40, 0x80, 0x07, 0x01, 0x03, b'a', b'b', b'c'];
    let mut raw = vec![0x0B, nested.len() as u8];
    raw.extend_from_slice(&nested);
    raw.extend_from_slice(&[0x19, 0x09]); // 0x0B + 0x19 = 0x24
    raw.extend_from_slice(&[0x80, 0xDD, 0x02, b'z', b'z']); // 0x24 + 0xDD = 0x101
    Bytes::from(raw)
}

/// `untyped_properties` plus a Mandatory Track Property 0x4000 = 1 nobody understands.
fn with_mandatory() -> Bytes {
    let mut raw = untyped_properties().to_vec();
    raw.extend_from_slice(&[0xBE, 0xFF, 0x01]); // 0x101 + 0x3EFF = 0x4000
    Bytes::from(raw)
}

fn video() -> TrackName {
    TrackName::new(Namespace::from_fields(["live"]), "video")
}

/// A relay with a draft-18 publisher announcing `live`.
fn relay(config: RelayConfig) -> (Node, Publisher) {
    let mut node = Node::new(config);
    let (_, publisher) = Publisher::new(&mut node, DRAFT18, LinkConfig::perfect());
    node.peer(publisher.conn).announce(Namespace::from_fields(["live"])).unwrap();
    node.pump();
    (node, publisher)
}

/// A draft-18 subscriber of `video()` with `options`.
fn subscriber(node: &mut Node, options: SubscribeOptions) -> (ConnId, RequestHandle) {
    let (_, conn) = node.connect(DRAFT18, LinkConfig::perfect());
    let h = node.peer(conn).subscribe(video(), options).unwrap();
    node.pump();
    (conn, h)
}

/// The publisher accepts every subscription the relay made since the last call with
/// `info`; returns the options each came with.
fn serve(node: &mut Node, publisher: &mut Publisher, info: &TrackInfo) -> Vec<SubscribeOptions> {
    let mut asked = Vec::new();
    for event in node.events(publisher.conn) {
        if let Event::IncomingSubscribe { request, options, .. } = event {
            node.peer(publisher.conn).accept_subscribe(request, info.clone()).unwrap();
            publisher.subscriptions.push(request);
            asked.push(*options);
        }
    }
    node.pump();
    asked
}

fn subscribed_info(node: &mut Node, conn: ConnId) -> Option<TrackInfo> {
    node.events(conn).into_iter().find_map(|e| match e {
        Event::Subscribed { info, .. } => Some(*info),
        _ => None,
    })
}

#[test]
fn untyped_track_properties_are_forwarded_and_cached_unchanged() {
    let (mut node, mut publisher) = relay(RelayConfig::default());
    let sent = TrackInfo {
        properties: untyped_properties(),
        max_cache_duration_ms: Some(60_000),
        ..TrackInfo::default()
    };
    let (first, h1) = subscriber(&mut node, SubscribeOptions::default());
    serve(&mut node, &mut publisher, &sent);
    publisher.write_group(&mut node, 0, 0..2, LEN);
    let got = subscribed_info(&mut node, first).expect("first subscriber accepted");
    assert_eq!(got.properties, untyped_properties());
    assert_eq!(got.max_cache_duration_ms, Some(60_000));

    // A subscriber joining the live track gets them from what the relay kept.
    let (second, h2) = subscriber(&mut node, SubscribeOptions::default());
    let got = subscribed_info(&mut node, second).expect("second subscriber accepted");
    assert_eq!(got.properties, untyped_properties());

    // Both leave: the track's cache is kept, and so are its properties.
    node.peer(first).cancel(h1).unwrap();
    node.peer(second).cancel(h2).unwrap();
    node.pump();
    let (_, third) = node.connect(DRAFT18, LinkConfig::perfect());
    let status = node.peer(third).track_status(video()).unwrap();
    node.pump();
    let answered = node.events(third).into_iter().find_map(|e| match e {
        Event::TrackStatus { request, result: Ok(info) } if request == status => Some(info),
        _ => None,
    });
    assert_eq!(answered.map(|i| i.properties), Some(untyped_properties()));
}

#[test]
fn an_unknown_mandatory_track_property_fails_every_pending_subscriber_with_unsupported_extension() {
    let (mut node, mut publisher) = relay(RelayConfig::default());
    // Two downstream subscribers wait for the one upstream SUBSCRIBE.
    let (a, _) = subscriber(&mut node, SubscribeOptions::default());
    let (b, _) = subscriber(&mut node, SubscribeOptions::default());
    let asked =
        serve(&mut node, &mut publisher, &TrackInfo { properties: with_mandatory(), ..TrackInfo::default() });
    assert_eq!(asked.len(), 1);
    for conn in [a, b] {
        let mut r = Received::default();
        r.take(&mut node, conn);
        assert_eq!((r.subscribed, r.failed), (false, Some(UNSUPPORTED)));
    }
}

#[test]
fn an_unknown_mandatory_track_property_in_fetch_ok_refuses_the_downstream_fetch() {
    let (mut node, publisher) = relay(RelayConfig::default());
    let (_, fetcher) = node.connect(DRAFT18, LinkConfig::perfect());
    let start = Location { group: 0, object: 0 };
    let end = Location { group: 1, object: 0 };
    let f = node.peer(fetcher).fetch(video(), start, end, 0).unwrap();
    node.pump();
    let incoming = node
        .events(publisher.conn)
        .into_iter()
        .find_map(|e| match e {
            Event::IncomingFetch { request, .. } => Some(request),
            _ => None,
        })
        .expect("the relay forwards the fetch upstream");
    let info = TrackInfo { properties: with_mandatory(), ..TrackInfo::default() };
    node.peer(publisher.conn).accept_fetch_with_info(incoming, end, &info).unwrap();
    node.pump();
    // The publisher may write objects: the relay cancelled the fetch, so they go nowhere.
    let _ = node.peer(publisher.conn).write_fetch_object(
        incoming,
        0,
        0,
        sluice::ObjectWrite::new(0, frame(0, 0, LEN)),
    );
    node.pump();
    let events = node.events(fetcher);
    let ended: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Event::FetchEnded { request, reason } if *request == f => Some(reason.code),
            _ => None,
        })
        .collect();
    assert_eq!(ended, [UNSUPPORTED]);
    // Refused before FETCH_OK went downstream, so no data was forwarded on a fetch stream.
    assert!(
        !events.iter().any(|e| matches!(e, Event::FetchAccepted { .. } | Event::Object { .. })),
        "{events:?}"
    );
}

fn new_group(value: u64) -> SubscribeOptions {
    SubscribeOptions { new_group_request: Some(value), ..SubscribeOptions::default() }
}

/// The NEW_GROUP_REQUEST values the publisher got in REQUEST_UPDATEs since the last call.
fn upstream_requests(node: &mut Node, publisher: &Publisher) -> Vec<u64> {
    node.events(publisher.conn)
        .into_iter()
        .filter_map(|e| match e {
            Event::SubscribeUpdated { options, .. } => options.new_group_request,
            _ => None,
        })
        .collect()
}

#[test]
fn new_group_request_goes_upstream_in_the_first_subscribe() {
    let (mut node, mut publisher) = relay(RelayConfig::default());
    subscriber(&mut node, new_group(0));
    let asked = serve(&mut node, &mut publisher, &TrackInfo::default());
    assert_eq!(asked.iter().map(|o| o.new_group_request).collect::<Vec<_>>(), [Some(0)]);
}

#[test]
fn new_group_request_on_an_established_subscription_follows_the_relay_rules() {
    let (mut node, mut publisher) = relay(RelayConfig::default());
    let (a, ha) = subscriber(&mut node, SubscribeOptions::default());
    let asked = serve(&mut node, &mut publisher, &TrackInfo { dynamic_groups: true, ..TrackInfo::default() });
    assert_eq!(asked.iter().map(|o| o.new_group_request).collect::<Vec<_>>(), [None]);
    for g in 0..3 {
        publisher.write_group(&mut node, g, 0..2, LEN);
    }
    // Largest Group 2. A non-zero value up to it: nothing upstream.
    node.peer(a).update_subscription(ha, new_group(2)).unwrap();
    node.pump();
    assert_eq!(upstream_requests(&mut node, &publisher), Vec::<u64>::new());
    // Larger: a REQUEST_UPDATE (here from a new subscriber's SUBSCRIBE).
    subscriber(&mut node, new_group(3));
    assert_eq!(upstream_requests(&mut node, &publisher), [3]);
    // Outstanding with 3 >= these: nothing more.
    node.peer(a).update_subscription(ha, new_group(0)).unwrap();
    node.peer(a).update_subscription(ha, new_group(3)).unwrap();
    node.pump();
    assert_eq!(upstream_requests(&mut node, &publisher), Vec::<u64>::new());
    // A larger value than the outstanding one goes.
    node.peer(a).update_subscription(ha, new_group(4)).unwrap();
    node.pump();
    assert_eq!(upstream_requests(&mut node, &publisher), [4]);
    // The Largest Group increases: no longer outstanding, 0 goes again.
    publisher.write_group(&mut node, 3, 0..2, LEN);
    node.peer(a).update_subscription(ha, new_group(0)).unwrap();
    node.pump();
    assert_eq!(upstream_requests(&mut node, &publisher), [0]);
}

#[test]
fn new_group_request_is_not_sent_upstream_for_a_track_without_dynamic_groups() {
    let (mut node, mut publisher) = relay(RelayConfig::default());
    subscriber(&mut node, SubscribeOptions::default());
    serve(&mut node, &mut publisher, &TrackInfo::default());
    publisher.write_group(&mut node, 0, 0..2, LEN);
    let (_, _) = subscriber(&mut node, new_group(0));
    let (_, _) = subscriber(&mut node, new_group(9));
    assert_eq!(upstream_requests(&mut node, &publisher), Vec::<u64>::new());
}

/// A late joiner asking for group 0 from the start (AbsoluteStart), `after_ms` after group
/// 0 was received, with MAX_CACHE_DURATION 100 ms: the group ids it got.
fn late_joiner_groups(after_ms: u64) -> Vec<u64> {
    let (mut node, mut publisher) = relay(RelayConfig::default());
    subscriber(&mut node, SubscribeOptions::default());
    serve(&mut node, &mut publisher, &TrackInfo { max_cache_duration_ms: Some(100), ..TrackInfo::default() });
    publisher.write_group(&mut node, 0, 0..3, LEN);
    node.tick(after_ms);
    let from_start = SubscribeOptions {
        filter: Filter::AbsoluteStart(Location::default()),
        ..SubscribeOptions::default()
    };
    let (late, _) = subscriber(&mut node, from_start);
    let mut r = Received::default();
    r.take(&mut node, late);
    assert!(r.subscribed);
    r.objects.iter().map(|o| o.0).collect()
}

#[test]
fn objects_older_than_max_cache_duration_are_not_replayed_to_late_joiners() {
    assert_eq!(late_joiner_groups(90), [0, 0, 0]);
    assert_eq!(late_joiner_groups(110), Vec::<u64>::new());
}

/// Fetches group 0 `after_ms` after it was received with MAX_CACHE_DURATION 100 ms:
/// whether the publisher was asked (true: not served from the cache).
fn fetch_reaches_the_publisher(after_ms: u64) -> bool {
    let (mut node, mut publisher) = relay(RelayConfig::default());
    subscriber(&mut node, SubscribeOptions::default());
    serve(&mut node, &mut publisher, &TrackInfo { max_cache_duration_ms: Some(100), ..TrackInfo::default() });
    publisher.write_group(&mut node, 0, 0..3, LEN);
    publisher.write_group(&mut node, 1, 0..3, LEN);
    node.tick(after_ms);
    let (_, fetcher) = node.connect(DRAFT18, LinkConfig::perfect());
    let end = Location { group: 0, object: 3 };
    node.peer(fetcher).fetch(video(), Location::default(), end, 0).unwrap();
    node.pump();
    node.events(publisher.conn).iter().any(|e| matches!(e, Event::IncomingFetch { .. }))
}

#[test]
fn objects_older_than_max_cache_duration_are_not_served_to_fetches() {
    assert!(!fetch_reaches_the_publisher(90));
    assert!(fetch_reaches_the_publisher(110));
}
