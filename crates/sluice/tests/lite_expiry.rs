//! moq-lite group expiry by max latency (lite-04/05 §Expiration), publisher and subscriber
//! side, in virtual time: exact reset/stop codes, SUBSCRIBE_DROP bytes, the min rule, 0 =
//! no expiry, lite-05 timestamp age.

mod lite_common;

use std::time::Duration;

use bytes::Bytes;
use lite_common::*;
use sluice::lite::codes;
use sluice::{
    CommandError, Config, Event, Input, LiteVersion, Location, ObjectWrite, Output, Reason, RequestHandle,
    Role, StreamId, SubscribeOptions, Time, TrackInfo,
};

/// SUBSCRIBE {id 0, room/alice, video, priority 128, descending, max latency, latest}
/// on a Subscribe stream (type 0x02). `max_latency` must fit a 2-byte varint.
fn subscribe_bytes(max_latency: u64) -> Vec<u8> {
    let mut out = vec![0x02, 0x18, 0x00, 0x0a];
    out.extend_from_slice(b"room/alice");
    out.push(0x05);
    out.extend_from_slice(b"video");
    out.extend_from_slice(&[0x80, 0x00, 0x40 | (max_latency >> 8) as u8, max_latency as u8, 0x00, 0x00]);
    out
}

/// SUBSCRIBE_DROP {group, group, EXPIRED} in this version's encoding.
fn drop_bytes(v: LiteVersion, group: u8) -> Vec<u8> {
    let kind = if v == LiteVersion::Lite05 { 0x02 } else { 0x01 };
    vec![kind, 0x03, group, group, codes::EXPIRED as u8]
}

fn frame(object: u64, ts: u64) -> ObjectWrite {
    ObjectWrite { timestamp: Some(ts), ..ObjectWrite::new(object, Bytes::from_static(b"x")) }
}

fn accept_info(max_latency_ms: u64) -> TrackInfo {
    TrackInfo { largest: Some(Location::default()), max_latency_ms, ..TrackInfo::default() }
}

/// A publisher session with one accepted subscription: (session, subscribe stream, request).
fn publisher(v: LiteVersion, sub_latency: u64, info: TrackInfo) -> (Raw, StreamId, RequestHandle) {
    let mut raw = Raw::ready(v, Role::Server, Config::default());
    let (id, out) = raw.stream(true, &subscribe_bytes(sub_latency));
    let ev = events(&out);
    let [Event::IncomingSubscribe { request, options, .. }] = ev.as_slice() else { panic!("{out:?}") };
    assert_eq!(options.max_latency_ms, sub_latency);
    let r = *request;
    raw.s.accept_subscribe(r, info).unwrap();
    raw.drain();
    (raw, id, r)
}

fn at(ms: u64, micros: u64) -> Time {
    Time::from_micros(ms * 1000 + micros)
}

#[test]
fn publisher_resets_a_stale_group_with_the_expiry_code_and_reports_it() {
    for v in VERSIONS {
        let (mut raw, sub_stream, r) = publisher(v, 100, accept_info(0));
        let g0 = raw.s.open_subgroup(r, 0, 0, None).unwrap();
        raw.s.write_object(g0, frame(0, 0)).unwrap();
        // The latest group never expires.
        assert_eq!(raw.s.poll_timeout(), None);
        raw.s.handle_timeout(Time::from_millis(50));
        let g1 = raw.s.open_subgroup(r, 1, 0, None).unwrap();
        raw.s.write_object(g1, frame(0, 50)).unwrap();
        raw.drain();
        assert_eq!(raw.s.poll_timeout(), Some(at(100, 1)));
        raw.s.handle_timeout(at(100, 0));
        assert!(raw.drain().is_empty(), "age exactly max latency lives");
        raw.s.handle_timeout(at(100, 1));
        assert_eq!(
            raw.drain(),
            vec![
                Output::Reset { stream: g0, code: codes::EXPIRED },
                Output::Write {
                    stream: sub_stream,
                    header: Bytes::from(drop_bytes(v, 0)).into(),
                    payload: Bytes::new(),
                    fin: false
                },
                Output::Event(Event::GroupExpired { request: r, group: 0, stream: g0 }),
            ],
            "{v:?}"
        );
        assert_eq!(raw.s.poll_timeout(), None);
        assert_eq!(raw.s.write_object(g0, frame(1, 1)), Err(CommandError::UnknownStream(g0)));
        assert!(raw.s.write_object(g1, frame(1, 60)).is_ok());
        // g1 becomes stale once g2 exists and 100 ms passed since g1 was queued (at 50 ms).
        raw.s.open_subgroup(r, 2, 0, None).unwrap();
        raw.drain();
        assert_eq!(raw.s.poll_timeout(), Some(at(150, 1)));
    }
}

#[test]
fn the_smaller_non_zero_max_latency_wins_and_zero_means_none() {
    // (subscriber, publisher, expected effective ms)
    let table = [
        (100, 0, Some(100)),
        (0, 100, Some(100)),
        (300, 100, Some(100)),
        (100, 300, Some(100)),
        (0, 0, None),
    ];
    for v in VERSIONS {
        for (sub_l, pub_l, want) in table {
            let (mut raw, _, r) = publisher(v, sub_l, accept_info(pub_l));
            let g0 = raw.s.open_subgroup(r, 0, 0, None).unwrap();
            raw.s.open_subgroup(r, 1, 0, None).unwrap();
            raw.drain();
            assert_eq!(raw.s.poll_timeout(), want.map(|ms| at(ms, 1)), "{v:?} {sub_l} {pub_l}");
            raw.s.handle_timeout(Time::from_millis(10_000));
            let out = raw.drain();
            let reset = out.contains(&Output::Reset { stream: g0, code: codes::EXPIRED });
            assert_eq!(reset, want.is_some(), "{v:?} {sub_l} {pub_l}");
        }
    }
}

#[test]
fn a_subscription_update_changes_the_latency() {
    for v in VERSIONS {
        let (mut raw, sub_stream, r) = publisher(v, 0, accept_info(0));
        raw.s.open_subgroup(r, 0, 0, None).unwrap();
        raw.s.open_subgroup(r, 1, 0, None).unwrap();
        raw.drain();
        assert_eq!(raw.s.poll_timeout(), None);
        // SUBSCRIBE_UPDATE {priority 128, descending, max latency 20, latest}.
        raw.feed(sub_stream, &[0x05, 0x80, 0x00, 0x14, 0x00, 0x00]);
        assert_eq!(raw.s.poll_timeout(), Some(at(20, 1)), "{v:?}");
    }
}

#[test]
fn lite05_timestamp_age_expires_with_the_track_timescale() {
    let info = TrackInfo { timescale: 90_000, ..accept_info(0) };
    let (mut raw, sub_stream, r) = publisher(LiteVersion::Lite05, 100, info);
    let g0 = raw.s.open_subgroup(r, 0, 0, None).unwrap();
    raw.s.write_object(g0, frame(0, 0)).unwrap();
    let g1 = raw.s.open_subgroup(r, 1, 0, None).unwrap();
    raw.drain();
    // 9000 units at 90 kHz = exactly 100 ms: not stale.
    raw.s.write_object(g1, frame(0, 9_000)).unwrap();
    assert_eq!(raw.drain().len(), 1);
    // 9001 units: g0 is stale by timestamp, with no time having passed; g1 is not.
    let g2 = raw.s.open_subgroup(r, 2, 0, None).unwrap();
    raw.drain();
    raw.s.write_object(g2, frame(0, 9_001)).unwrap();
    let out = raw.drain();
    assert_eq!(
        out[1..],
        [
            Output::Reset { stream: g0, code: codes::EXPIRED },
            Output::Write {
                stream: sub_stream,
                header: Bytes::from(drop_bytes(LiteVersion::Lite05, 0)).into(),
                payload: Bytes::new(),
                fin: false
            },
            Output::Event(Event::GroupExpired { request: r, group: 0, stream: g0 }),
        ]
    );
}

#[test]
fn subscriber_stops_a_stale_group_and_reports_it_once() {
    for v in VERSIONS {
        let mut raw = Raw::ready(v, Role::Client, Config::default());
        let options = SubscribeOptions { max_latency_ms: 100, ..SubscribeOptions::default() };
        let s = raw.s.subscribe(track(), options).unwrap();
        raw.drain();
        let sub_stream = StreamId::local(if v == LiteVersion::Lite05 { 1 } else { 0 });
        let ok: &[u8] = match v {
            LiteVersion::Lite04 => &[0x00, 0x05, 0x80, 0x00, 0x00, 0x01, 0x00],
            LiteVersion::Lite05 => &[0x00, 0x01, 0x00],
        };
        raw.feed(sub_stream, ok);
        let g0 = raw.open(false);
        raw.s.handle(
            Time::ZERO,
            Input::StreamData { stream: g0, data: Bytes::from_static(&[0x00, 0x02, 0x00, 0x00]) },
        );
        assert_eq!(raw.s.poll_timeout(), None);
        let g1 = raw.open(false);
        raw.s.handle(
            Time::from_millis(40),
            Input::StreamData { stream: g1, data: Bytes::from_static(&[0x00, 0x02, 0x00, 0x01]) },
        );
        raw.drain();
        assert_eq!(raw.s.poll_timeout(), Some(at(100, 1)), "{v:?}");
        raw.s.handle_timeout(at(100, 1));
        let dropped = Event::GroupsDropped {
            request: s,
            first: 0,
            last: 0,
            reason: Reason { code: codes::EXPIRED, text: String::new() },
        };
        assert_eq!(
            raw.drain(),
            vec![Output::StopSending { stream: g0, code: codes::EXPIRED }, Output::Event(dropped.clone())]
        );
        // The publisher's SUBSCRIBE_DROP for the same group is not reported again, a
        // second one (or one for another group) is.
        assert!(events(&raw.feed(sub_stream, &drop_bytes(v, 0))).is_empty());
        assert_eq!(events(&raw.feed(sub_stream, &drop_bytes(v, 0))), vec![dropped]);
        assert_eq!(raw.s.poll_timeout(), None);
    }
}

#[test]
fn end_to_end_expiry_in_virtual_time_for_both_versions_and_roles() {
    for (v, pub_side) in cases() {
        let mut p = pair(v);
        let options = SubscribeOptions { max_latency_ms: 100, ..SubscribeOptions::default() };
        let (s, r) = subscribed(&mut p, pub_side, options, accept_info(0));
        let sub_side = pub_side.peer();
        let g0 = p.session(pub_side).open_subgroup(r, 0, 0, None).unwrap();
        p.session(pub_side).write_object(g0, frame(0, 0)).unwrap();
        p.run();
        p.advance(Duration::from_millis(50));
        let g1 = p.session(pub_side).open_subgroup(r, 1, 0, None).unwrap();
        p.session(pub_side).write_object(g1, frame(0, 50)).unwrap();
        p.run();
        assert_eq!(p.take_events(sub_side).len(), 2, "two objects");
        p.advance(Duration::from_millis(50));
        assert!(p.take_events(pub_side).is_empty() && p.take_events(sub_side).is_empty());
        p.advance(Duration::from_micros(1));
        assert_eq!(p.take_events(pub_side), vec![Event::GroupExpired { request: r, group: 0, stream: g0 }]);
        assert_eq!(
            p.take_events(sub_side),
            vec![Event::GroupsDropped {
                request: s,
                first: 0,
                last: 0,
                reason: Reason { code: codes::EXPIRED, text: String::new() }
            }],
            "{v:?} {pub_side:?}"
        );
        // g1 stays: it is the latest group.
        p.advance(Duration::from_secs(10));
        assert!(p.take_events(pub_side).is_empty() && p.take_events(sub_side).is_empty());
        assert!(p.session(pub_side).write_object(g1, frame(1, 60)).is_ok());
        p.session(pub_side).close(0, "bye");
        p.run();
        assert_eq!((p.client.table_sizes(), p.server.table_sizes()), (0, 0));
        assert_eq!((p.client.poll_timeout(), p.server.poll_timeout()), (None, None));
    }
}

#[test]
fn no_expiry_without_a_max_latency() {
    for (v, pub_side) in cases() {
        let mut p = pair(v);
        let (_, r) = subscribed(&mut p, pub_side, SubscribeOptions::default(), accept_info(0));
        let sub_side = pub_side.peer();
        for g in 0..3 {
            let st = p.session(pub_side).open_subgroup(r, g, 0, None).unwrap();
            p.session(pub_side).write_object(st, frame(0, g * 1000)).unwrap();
            p.advance(Duration::from_secs(5));
        }
        assert_eq!((p.client.poll_timeout(), p.server.poll_timeout()), (None, None));
        assert!(p.take_events(pub_side).is_empty());
        assert!(p.take_events(sub_side).iter().all(|e| matches!(e, Event::Object { .. })));
    }
}
