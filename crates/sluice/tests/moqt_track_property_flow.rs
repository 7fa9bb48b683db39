//! Track Properties and NEW_GROUP_REQUEST between two draft-18 sessions (draft-18 §2.5
//! "Properties", §13 "MOQT Properties", "NEW GROUP REQUEST Parameter"):
//!
//! * the Track Properties `TrackInfo` does not type (unknown types, Immutable Properties)
//!   go from the publisher's `TrackInfo` to the subscriber's unchanged, in SUBSCRIBE_OK,
//!   PUBLISH, TRACK_STATUS's REQUEST_OK and FETCH_OK; MAX_CACHE_DURATION and
//!   DYNAMIC_GROUPS arrive typed;
//! * a property looked up is found inside Immutable Properties too;
//! * NEW_GROUP_REQUEST travels in SUBSCRIBE, PUBLISH_OK and REQUEST_UPDATE, is reported
//!   once to the publisher, and is refused before sending in PUBLISH_OK / REQUEST_UPDATE
//!   for a track without DYNAMIC_GROUPS=1.

use bytes::Bytes;
use sluice::{
    CommandError, Config, Event, Location, MoqtVersion, Namespace, RequestHandle, SubscribeOptions,
    TrackInfo, TrackName, Version,
};
use sluice_sim::{Pair, Side};
use sluice_wire::moqt::codes::RequestErrorCode;

const V: Version = Version::Moqt(MoqtVersion::Draft18);

fn pair() -> Pair {
    let mut p = Pair::new(V, Config::default(), Config::default());
    p.take_events(Side::Client);
    p.take_events(Side::Server);
    p
}

fn track() -> TrackName {
    TrackName::new(Namespace::from_fields(["live"]), "video")
}

/// Track Properties TrackInfo does not type, as raw Key-Value-Pairs (ascending types,
/// delta-coded): Immutable Properties (0x0B) holding an unknown even type 0x40 = 7 in a
/// non-minimal 2-byte varint and an unknown odd type 0x41 = "abc"; an unknown even type
/// 0x24 = 9; an unknown odd type 0x101 = "zz".
fn untyped_properties() -> Bytes {
    let nested = [0x80, 0x40, 0x80, 0x07, 0x01, 0x03, b'a', b'b', b'c'];
    let mut raw = vec![0x0B, nested.len() as u8];
    raw.extend_from_slice(&nested);
    raw.extend_from_slice(&[0x19, 0x09]); // 0x0B + 0x19 = 0x24
    raw.extend_from_slice(&[0x80, 0xDD, 0x02, b'z', b'z']); // 0x24 + 0xDD = 0x101
    Bytes::from(raw)
}

fn rich_info() -> TrackInfo {
    TrackInfo {
        publisher_priority: 17,
        max_cache_duration_ms: Some(1500),
        dynamic_groups: true,
        properties: untyped_properties(),
        ..TrackInfo::default()
    }
}

/// The fields a receiver should see of `sent` (largest aside).
fn properties_of(info: &TrackInfo) -> (u8, Option<u64>, bool, Bytes) {
    (info.publisher_priority, info.max_cache_duration_ms, info.dynamic_groups, info.properties.clone())
}

/// `sub` subscribes and the other side accepts with `info`; returns both handles and the
/// info the subscriber got.
fn subscribe_with(
    p: &mut Pair,
    options: SubscribeOptions,
    info: TrackInfo,
) -> (RequestHandle, RequestHandle, TrackInfo) {
    let s = p.session(Side::Client).subscribe(track(), options).unwrap();
    p.run();
    let incoming = match p.take_events(Side::Server).as_slice() {
        [Event::IncomingSubscribe { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    p.session(Side::Server).accept_subscribe(incoming, info).unwrap();
    p.run();
    match p.take_events(Side::Client).as_slice() {
        [Event::Subscribed { request, info }] if *request == s => (s, incoming, TrackInfo::clone(info)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn untyped_track_properties_reach_the_subscriber_unchanged() {
    let sent = rich_info();
    // SUBSCRIBE_OK.
    let mut p = pair();
    let (_, _, got) = subscribe_with(&mut p, SubscribeOptions::default(), sent.clone());
    assert_eq!(properties_of(&got), properties_of(&sent));

    // PUBLISH.
    let mut p = pair();
    p.session(Side::Server).publish(track(), sent.clone()).unwrap();
    p.run();
    match p.take_events(Side::Client).as_slice() {
        [Event::IncomingPublish { info, .. }] => assert_eq!(properties_of(info), properties_of(&sent)),
        other => panic!("{other:?}"),
    }

    // TRACK_STATUS's REQUEST_OK.
    let mut p = pair();
    let h = p.session(Side::Client).track_status(track()).unwrap();
    p.run();
    let incoming = match p.take_events(Side::Server).as_slice() {
        [Event::IncomingTrackStatus { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    p.session(Side::Server).accept_subscribe(incoming, sent.clone()).unwrap();
    p.run();
    match p.take_events(Side::Client).as_slice() {
        [Event::TrackStatus { request, result: Ok(info) }] if *request == h => {
            assert_eq!(properties_of(info), properties_of(&sent))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn fetch_ok_carries_the_track_properties_given_on_acceptance() {
    let mut p = pair();
    let start = Location { group: 0, object: 0 };
    let end = Location { group: 1, object: 0 };
    let f = p.session(Side::Client).fetch(track(), start, end, 0).unwrap();
    p.run();
    let incoming = match p.take_events(Side::Server).as_slice() {
        [Event::IncomingFetch { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    // A TrackInfo whose properties carry an unknown Mandatory Track Property (0x4000): the
    // fetcher proves it received them by cancelling the fetch with UNSUPPORTED_EXTENSION.
    let mut raw = untyped_properties().to_vec();
    raw.extend_from_slice(&[0xBE, 0xFF, 0x01]); // 0x101 + 0x3EFF = 0x4000 = 1
    let mandatory = TrackInfo { properties: Bytes::from(raw), ..rich_info() };
    p.session(Side::Server)
        .accept_fetch_with_info(incoming, Location { group: 1, object: 0 }, &mandatory)
        .unwrap();
    p.run();
    match p.take_events(Side::Client).as_slice() {
        [Event::FetchEnded { request, reason }] if *request == f => {
            assert_eq!(reason.code, RequestErrorCode::UNSUPPORTED_EXTENSION.0)
        }
        other => panic!("{other:?}"),
    }
}

/// The fetcher gets FETCH_OK's Track Properties with `Event::FetchAccepted`: the typed
/// ones in their fields, the rest byte for byte.
#[test]
fn fetch_accepted_reports_the_track_properties_of_fetch_ok() {
    let mut p = pair();
    let end = Location { group: 1, object: 0 };
    let f = p.session(Side::Client).fetch(track(), Location { group: 0, object: 0 }, end, 0).unwrap();
    p.run();
    let incoming = match p.take_events(Side::Server).as_slice() {
        [Event::IncomingFetch { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    let sent = rich_info();
    p.session(Side::Server).accept_fetch_with_info(incoming, end, &sent).unwrap();
    p.run();
    match p.take_events(Side::Client).as_slice() {
        [Event::FetchAccepted { request, end: got_end, info }, ..] if *request == f => {
            assert_eq!(*got_end, end);
            assert_eq!(properties_of(info), properties_of(&sent));
        }
        other => panic!("{other:?}"),
    }
}

/// Immutable Properties (0x0B) holding, in ascending type order, MAX_CACHE_DURATION (0x04)
/// = 700, DEFAULT_PUBLISHER_PRIORITY (0x0E) = 9 and DYNAMIC_GROUPS (0x30) = 1.
fn typed_inside_immutable() -> Bytes {
    let nested = [0x04, 0x82, 0xBC, 0x0A, 0x09, 0x22, 0x01];
    let mut raw = vec![0x0B, nested.len() as u8];
    raw.extend_from_slice(&nested);
    Bytes::from(raw)
}

#[test]
fn properties_inside_immutable_properties_are_found_and_not_repeated() {
    let mut p = pair();
    let sent = TrackInfo { properties: typed_inside_immutable(), ..TrackInfo::default() };
    let (_, _, got) = subscribe_with(&mut p, SubscribeOptions::default(), sent);
    // The typed fields come from inside Immutable Properties; the TrackInfo's own values
    // for them (priority 128, no cache duration, no dynamic groups) were not sent beside.
    assert_eq!(got.publisher_priority, 9);
    assert_eq!(got.max_cache_duration_ms, Some(700));
    assert!(got.dynamic_groups);
    assert_eq!(got.properties, typed_inside_immutable());
}

#[test]
fn track_properties_that_are_not_valid_or_repeat_a_typed_one_are_refused() {
    let mut p = pair();
    let s = p.session(Side::Client).subscribe(track(), SubscribeOptions::default()).unwrap();
    p.run();
    let incoming = match p.take_events(Side::Server).as_slice() {
        [Event::IncomingSubscribe { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    for raw in [
        &[0x01, 0x05, b'a'][..], // odd type claiming 5 bytes, 1 present
        &[0x0E, 0x05][..],       // DEFAULT_PUBLISHER_PRIORITY at top level
        &[0x04, 0x10][..],       // MAX_CACHE_DURATION at top level
    ] {
        let info = TrackInfo { properties: Bytes::copy_from_slice(raw), ..TrackInfo::default() };
        assert!(matches!(
            p.session(Side::Server).accept_subscribe(incoming, info),
            Err(CommandError::InvalidState(_))
        ));
    }
    p.run();
    assert!(p.take_events(Side::Client).is_empty(), "nothing was sent for {s:?}");
}

fn with_new_group(value: u64) -> SubscribeOptions {
    SubscribeOptions { new_group_request: Some(value), ..SubscribeOptions::default() }
}

#[test]
fn new_group_request_reaches_the_publisher_once_per_message() {
    let mut p = pair();
    let s = p.session(Side::Client).subscribe(track(), with_new_group(0)).unwrap();
    p.run();
    let incoming = match p.take_events(Side::Server).as_slice() {
        [Event::IncomingSubscribe { request, options, .. }] => {
            // Sent in SUBSCRIBE without foreknowledge of dynamic groups.
            assert_eq!(options.new_group_request, Some(0));
            *request
        }
        other => panic!("{other:?}"),
    };
    p.session(Side::Server)
        .accept_subscribe(incoming, TrackInfo { dynamic_groups: true, ..TrackInfo::default() })
        .unwrap();
    p.run();
    p.take_events(Side::Client);
    let updates = [with_new_group(5), SubscribeOptions { priority: 3, ..SubscribeOptions::default() }];
    let mut seen = Vec::new();
    for update in updates {
        p.session(Side::Client).update_subscription(s, update).unwrap();
        p.run();
        for e in p.take_events(Side::Server) {
            if let Event::SubscribeUpdated { options, .. } = e {
                seen.push((options.priority, options.new_group_request));
            }
        }
    }
    assert_eq!(seen, [(128, Some(5)), (3, None)]);
}

#[test]
fn new_group_request_needs_dynamic_groups_in_request_update_and_publish_ok() {
    // REQUEST_UPDATE: refused before sending for a track without DYNAMIC_GROUPS=1.
    let mut p = pair();
    let (s, _, got) = subscribe_with(&mut p, SubscribeOptions::default(), TrackInfo::default());
    assert!(!got.dynamic_groups);
    assert!(matches!(
        p.session(Side::Client).update_subscription(s, with_new_group(1)),
        Err(CommandError::InvalidState(_))
    ));
    p.run();
    assert!(p.take_events(Side::Server).is_empty());

    // PUBLISH_OK: refused without, sent with DYNAMIC_GROUPS=1.
    for dynamic_groups in [false, true] {
        let mut p = pair();
        let info = TrackInfo { dynamic_groups, ..TrackInfo::default() };
        let h = p.session(Side::Server).publish(track(), info).unwrap();
        p.run();
        let incoming = match p.take_events(Side::Client).as_slice() {
            [Event::IncomingPublish { request, .. }] => *request,
            other => panic!("{other:?}"),
        };
        let result = p.session(Side::Client).accept_publish(incoming, with_new_group(4));
        p.run();
        let events = p.take_events(Side::Server);
        if dynamic_groups {
            result.unwrap();
            match events.as_slice() {
                [Event::PublishAccepted { request, options }] if *request == h => {
                    assert_eq!(options.new_group_request, Some(4))
                }
                other => panic!("{other:?}"),
            }
        } else {
            assert!(matches!(result, Err(CommandError::InvalidState(_))));
            assert!(events.is_empty(), "{events:?}");
        }
    }
}
