//! FETCH options and range checks on the publisher side (draft-18 §Fetch Handling, "FILL
//! TIMEOUT Parameter"): FILL_TIMEOUT is carried to the publisher's `IncomingFetch`; a FETCH
//! for a track the session publishes is refused with INVALID_RANGE when nothing is
//! published or its Start is past the Largest Object, before the application sees it.

use bytes::Bytes;
use sluice::{
    CommandError, Config, Event, FetchOptions, JoinStart, LiteVersion, Location, MoqtVersion, Namespace,
    ObjectWrite, RequestHandle, SubscribeOptions, TrackInfo, TrackName, Version,
};
use sluice_sim::{Pair, Side};
use sluice_wire::moqt::codes::RequestErrorCode;

const V: Version = Version::Moqt(MoqtVersion::Draft18);

fn pair(version: Version) -> Pair {
    let mut p = Pair::new(version, Config::default(), Config::default());
    p.take_events(Side::Client);
    p.take_events(Side::Server);
    p
}

fn track() -> TrackName {
    TrackName::new(Namespace::from_fields(["live"]), "video")
}

fn loc(group: u64, object: u64) -> Location {
    Location { group, object }
}

/// The FILL_TIMEOUT of the one `IncomingFetch` among `events`.
fn fill_of(events: &[Event]) -> Option<u64> {
    match events {
        [Event::IncomingFetch { fill_timeout_ms, .. }] => *fill_timeout_ms,
        other => panic!("expected one IncomingFetch, got {other:?}"),
    }
}

/// The code the fetch `f` ended with, if it ended.
fn ended(events: &[Event], f: RequestHandle) -> Option<u64> {
    events.iter().find_map(|e| match e {
        Event::FetchEnded { request, reason } if *request == f => Some(reason.code),
        _ => None,
    })
}

#[test]
fn fill_timeout_reaches_the_publisher_as_sent() {
    for (sent, seen) in [(Some(250), Some(250)), (Some(0), Some(0)), (None, None)] {
        let mut p = pair(V);
        let options = FetchOptions { priority: 9, fill_timeout_ms: sent };
        p.client.fetch_with(track(), loc(1, 0), loc(2, 0), options).unwrap();
        p.run();
        let ev = p.take_events(Side::Server);
        assert_eq!(fill_of(&ev), seen, "{sent:?}");
        assert!(matches!(ev[0], Event::IncomingFetch { priority: 9, .. }));
    }
    // A joining fetch carries it too, reported once the joined subscription resolves it.
    let mut p = pair(V);
    let s = p.client.subscribe(track(), SubscribeOptions::default()).unwrap();
    p.run();
    let incoming = match p.take_events(Side::Server).as_slice() {
        [Event::IncomingSubscribe { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    let info = TrackInfo { largest: Some(loc(4, 1)), ..TrackInfo::default() };
    p.server.accept_subscribe(incoming, info).unwrap();
    p.run();
    p.take_events(Side::Client);
    let options = FetchOptions { priority: 128, fill_timeout_ms: Some(40) };
    p.client.joining_fetch_with(s, JoinStart::Relative(1), options).unwrap();
    p.run();
    assert_eq!(fill_of(&p.take_events(Side::Server)), Some(40));
}

#[test]
fn lite_cannot_send_a_fill_timeout() {
    for lite in [LiteVersion::Lite04, LiteVersion::Lite05] {
        let mut p = pair(Version::Lite(lite));
        let options = FetchOptions { priority: 9, fill_timeout_ms: Some(10) };
        let err = p.client.fetch_with(track(), loc(1, 0), loc(2, 0), options).unwrap_err();
        assert!(matches!(err, CommandError::Unsupported { .. }), "{err:?}");
        // Without one the lite fetch goes out, and the publisher sees no FILL_TIMEOUT.
        p.client.fetch_with(track(), loc(1, 0), loc(2, 0), FetchOptions::priority(9)).unwrap();
        p.run();
        assert_eq!(fill_of(&p.take_events(Side::Server)), None);
    }
}

/// fetch-handling-3: "If no Objects have been published for the track or Start Location is
/// greater than the Largest Object the publisher MUST return REQUEST_ERROR with error code
/// INVALID_RANGE". The engine knows the Largest Object of a track it publishes on the
/// session (the TrackInfo the application accepted the SUBSCRIBE with, raised by every
/// object written since); a track it does not publish there is the application's to judge.
#[test]
fn a_fetch_past_the_largest_object_is_refused_with_invalid_range() {
    let invalid = Some(RequestErrorCode::INVALID_RANGE.0);
    let mut p = pair(V);
    // Unknown to the engine: passed to the application.
    p.client.fetch(track(), loc(0, 0), loc(1, 0), 1).unwrap();
    p.run();
    assert_eq!(fill_of(&p.take_events(Side::Server)), None);

    // Published here with no object yet: refused, the application never asked.
    let s = p.client.subscribe(track(), SubscribeOptions::default()).unwrap();
    p.run();
    let incoming = match p.take_events(Side::Server).as_slice() {
        [Event::IncomingSubscribe { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    p.server.accept_subscribe(incoming, TrackInfo::default()).unwrap();
    p.run();
    p.take_events(Side::Client);
    let f = p.client.fetch(track(), loc(0, 0), loc(1, 0), 1).unwrap();
    p.run();
    assert_eq!(ended(&p.take_events(Side::Client), f), invalid, "nothing published");
    assert!(p.take_events(Side::Server).is_empty());
    let j = p.client.joining_fetch(s, JoinStart::Absolute(0), 1).unwrap();
    p.run();
    assert_eq!(ended(&p.take_events(Side::Client), j), invalid, "joining, nothing published");

    // Objects up to (2, 3) written: Largest Object (2, 3).
    let st = p.server.open_subgroup(incoming, 2, 0, None).unwrap();
    for o in 0..4 {
        p.server.write_object(st, ObjectWrite::new(o, Bytes::from_static(b"x"))).unwrap();
    }
    p.run();
    p.take_events(Side::Client);
    let past = p.client.fetch(track(), loc(2, 4), loc(3, 0), 1).unwrap();
    p.run();
    assert_eq!(ended(&p.take_events(Side::Client), past), invalid, "Start past Largest");
    assert!(p.take_events(Side::Server).is_empty());
    let past_group = p.client.joining_fetch(s, JoinStart::Absolute(3), 1).unwrap();
    p.run();
    assert_eq!(ended(&p.take_events(Side::Client), past_group), invalid, "joining Start past Largest");

    // Start at the Largest Object itself is fine.
    p.client.fetch(track(), loc(2, 3), loc(3, 0), 1).unwrap();
    p.client.joining_fetch(s, JoinStart::Absolute(2), 1).unwrap();
    p.run();
    let ev = p.take_events(Side::Server);
    assert_eq!(ev.iter().filter(|e| matches!(e, Event::IncomingFetch { .. })).count(), 2, "{ev:?}");
}
