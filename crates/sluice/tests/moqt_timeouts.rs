//! MOQT draft-18 delivery timeouts (§"Delivery Timeouts and Data Reliability"): exact
//! deadlines from `poll_timeout`, exact DELIVERY_TIMEOUT resets from `handle_timeout`, the
//! min rule between subscriber parameter and publisher property, 0 = no timeout, and the
//! subscriber's PUBLISH_DONE grace period. Each case drives one `Session` against a
//! hand-written peer, so the adapter's inputs (stream opened, stream acknowledged) and the
//! clock are explicit; one case runs through `sluice_sim::Pair`.

use std::time::Duration;

use bytes::Bytes;
use sluice::{
    CommandError, Config, Event, Input, MoqtVersion, Namespace, ObjectWrite, Output, Reason, RequestHandle,
    Role, Session, StreamId, SubscribeOptions, Time, TrackInfo, TrackName, Version,
};
use sluice_sim::{Pair, Side};
use sluice_wire::Encode;
use sluice_wire::moqt::codes::{PropertyType, PublishDoneCode, StreamResetCode};
use sluice_wire::moqt::kvp::{KeyValue, Properties};
use sluice_wire::moqt::message::{PublishDone, Subscribe, SubscribeOk};
use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
use sluice_wire::moqt::params::{Parameter, Parameters};
use sluice_wire::moqt::reason::ReasonPhrase;
use sluice_wire::moqt::setup::Setup;

const D18: MoqtVersion = MoqtVersion::Draft18;
const DELIVERY_TIMEOUT: u64 = StreamResetCode::DELIVERY_TIMEOUT.0;

fn ms(n: u64) -> Time {
    Time::from_millis(n)
}

fn enc<M: Encode<Version = MoqtVersion>>(m: &M) -> Bytes {
    Bytes::from(m.encode_to_vec(D18).unwrap())
}

fn drain(s: &mut Session) -> Vec<Output> {
    std::iter::from_fn(|| s.poll()).collect()
}

fn events(outputs: &[Output]) -> Vec<Event> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn resets(outputs: &[Output]) -> Vec<(StreamId, u64)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Reset { stream, code } => Some((*stream, *code)),
            _ => None,
        })
        .collect()
}

fn feed(s: &mut Session, now: Time, stream: u64, bidi: bool, bytes: Bytes) {
    let stream = StreamId(stream);
    s.handle(now, Input::StreamOpened { stream, bidi });
    s.handle(now, Input::StreamData { stream, data: bytes });
}

fn wire_track() -> FullTrackName {
    FullTrackName::new(TrackNamespace::from_fields(["a"]), Bytes::from_static(b"t"))
}

fn props(pairs: &[KeyValue]) -> Properties {
    Properties::from_pairs(pairs).unwrap()
}

/// A server session publishing to a hand-driven client that sent SETUP and a SUBSCRIBE with
/// `params`; the subscription is accepted with `info`. Returns the session and handle.
fn publisher(params: Vec<Parameter>, info: TrackInfo) -> (Session, RequestHandle) {
    let mut s = Session::new(Config::default(), Role::Server, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(D18) });
    feed(&mut s, Time::ZERO, 2, false, enc(&Setup::default()));
    let sub = Subscribe { request_id: 0, track: wire_track(), parameters: Parameters(params) };
    feed(&mut s, Time::ZERO, 0, true, enc(&sub));
    let handle = match events(&drain(&mut s)).as_slice() {
        [.., Event::IncomingSubscribe { request, .. }] => *request,
        other => panic!("expected IncomingSubscribe, got {other:?}"),
    };
    s.accept_subscribe(handle, info).unwrap();
    drain(&mut s);
    (s, handle)
}

fn track_info(object_ms: u64) -> TrackInfo {
    TrackInfo { max_latency_ms: object_ms, ..TrackInfo::default() }
}

/// Opens a subgroup, writes object 0 at `at` (with `properties`), returns the stream.
fn write_first(s: &mut Session, handle: RequestHandle, at: Time, properties: Properties) -> StreamId {
    s.handle_timeout(at);
    let stream = s.open_subgroup(handle, 1, 0, None).unwrap();
    let object = ObjectWrite {
        properties: properties.raw().clone().into(),
        ..ObjectWrite::new(0, Bytes::from_static(b"x"))
    };
    s.write_object(stream, object).unwrap();
    drain(s);
    stream
}

#[test]
fn object_timeout_resets_a_stream_the_adapter_has_not_opened() {
    let (mut s, h) = publisher(vec![Parameter::ObjectDeliveryTimeout(300)], TrackInfo::default());
    let stream = write_first(&mut s, h, ms(1000), Properties::empty());
    // A second object written later does not move the deadline: the oldest waits longest.
    s.handle_timeout(ms(1100));
    s.write_object(stream, ObjectWrite::new(1, Bytes::from_static(b"y"))).unwrap();
    drain(&mut s);
    assert_eq!(s.poll_timeout(), Some(ms(1300)));
    s.handle_timeout(ms(1299));
    assert_eq!(resets(&drain(&mut s)), vec![]);
    s.handle_timeout(ms(1300));
    assert_eq!(resets(&drain(&mut s)), vec![(stream, DELIVERY_TIMEOUT)]);
    assert_eq!(s.poll_timeout(), None);
    // The subgroup is over: no more objects on that stream.
    assert_eq!(
        s.write_object(stream, ObjectWrite::new(2, Bytes::from_static(b"z"))),
        Err(CommandError::UnknownStream(stream))
    );
}

#[test]
fn object_timeout_stops_once_the_stream_is_open() {
    let (mut s, h) = publisher(vec![Parameter::ObjectDeliveryTimeout(300)], TrackInfo::default());
    let stream = write_first(&mut s, h, ms(1000), Properties::empty());
    assert_eq!(s.poll_timeout(), Some(ms(1300)));
    s.handle(ms(1010), Input::StreamOpenResult { stream, opened: true });
    assert_eq!(s.poll_timeout(), None);
    // Objects written after the open are in the transport at once: no deadline.
    s.write_object(stream, ObjectWrite::new(1, Bytes::from_static(b"y"))).unwrap();
    s.handle_timeout(ms(5000));
    assert_eq!(resets(&drain(&mut s)), vec![]);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn object_timeout_takes_the_smaller_non_zero_value() {
    // (subscriber parameter, publisher track property, first-object property) → deadline.
    type Case = (Option<u64>, u64, Option<u64>, Option<u64>);
    let cases: [Case; 8] = [
        (Some(300), 0, None, Some(300)),
        (None, 200, None, Some(200)),
        (Some(300), 200, None, Some(200)),
        (Some(100), 200, None, Some(100)),
        (Some(0), 0, None, None),
        (None, 0, None, None),
        (Some(300), 200, Some(50), Some(50)),
        (Some(300), 0, Some(0), Some(300)),
    ];
    for (sub, track, first, want) in cases {
        let params = sub.map(Parameter::ObjectDeliveryTimeout).into_iter().collect();
        let (mut s, h) = publisher(params, track_info(track));
        let p = match first {
            Some(v) => props(&[KeyValue::varint(PropertyType::OBJECT_DELIVERY_TIMEOUT.0, v)]),
            None => Properties::empty(),
        };
        let stream = write_first(&mut s, h, ms(1000), p);
        let deadline = want.map(|w| ms(1000 + w));
        assert_eq!(s.poll_timeout(), deadline, "case {sub:?} {track} {first:?}");
        s.handle_timeout(ms(1_000_000));
        let want_resets = if want.is_some() { vec![(stream, DELIVERY_TIMEOUT)] } else { vec![] };
        assert_eq!(resets(&drain(&mut s)), want_resets, "case {sub:?} {track} {first:?}");
    }
}

#[test]
fn subgroup_timeout_runs_from_the_fin_until_the_adapter_reports_acks() {
    let (mut s, h) = publisher(vec![Parameter::SubgroupDeliveryTimeout(400)], TrackInfo::default());
    let stream = write_first(&mut s, h, ms(100), Properties::empty());
    s.handle(ms(100), Input::StreamOpenResult { stream, opened: true });
    // No subgroup timer before the FIN.
    assert_eq!(s.poll_timeout(), None);
    s.handle_timeout(ms(1000));
    s.close_subgroup(stream, false).unwrap();
    drain(&mut s);
    assert_eq!(s.poll_timeout(), Some(ms(1400)));
    s.handle_timeout(ms(1399));
    assert_eq!(resets(&drain(&mut s)), vec![]);
    s.handle_timeout(ms(1400));
    assert_eq!(resets(&drain(&mut s)), vec![(stream, DELIVERY_TIMEOUT)]);
    assert_eq!(s.poll_timeout(), None);

    // The same with the acknowledgement in time: nothing is reset.
    let stream = write_first(&mut s, h, ms(2000), Properties::empty());
    s.handle(ms(2000), Input::StreamOpenResult { stream, opened: true });
    s.close_subgroup(stream, true).unwrap();
    assert_eq!(s.poll_timeout(), Some(ms(2400)));
    s.handle(ms(2399), Input::StreamAcked { stream });
    assert_eq!(s.poll_timeout(), None);
    s.handle_timeout(ms(9000));
    assert_eq!(resets(&drain(&mut s)), vec![]);
}

/// Track info whose properties carry our SUBGROUP_DELIVERY_TIMEOUT (none for `None`).
fn subgroup_track_info(ms: Option<u64>) -> TrackInfo {
    let properties = match ms {
        Some(v) => props(&[KeyValue::varint(PropertyType::SUBGROUP_DELIVERY_TIMEOUT.0, v)]).raw().clone(),
        None => Bytes::new(),
    };
    TrackInfo { properties, ..TrackInfo::default() }
}

#[test]
fn subgroup_timeout_takes_the_smaller_non_zero_value() {
    // (subscriber parameter, publisher track property, publisher first-object property)
    // → delay after the FIN. The first object's property replaces the track's.
    type Case = (u64, Option<u64>, Option<u64>, Option<u64>);
    let cases: [Case; 9] = [
        (400, None, None, Some(400)),
        (0, None, Some(250), Some(250)),
        (400, None, Some(250), Some(250)),
        (100, None, Some(250), Some(100)),
        (0, None, None, None),
        (0, Some(300), None, Some(300)),
        (400, Some(300), None, Some(300)),
        (200, Some(300), None, Some(200)),
        (0, Some(300), Some(250), Some(250)),
    ];
    for (sub, track, first, want) in cases {
        let (mut s, h) = publisher(vec![Parameter::SubgroupDeliveryTimeout(sub)], subgroup_track_info(track));
        let p = match first {
            Some(v) => props(&[KeyValue::varint(PropertyType::SUBGROUP_DELIVERY_TIMEOUT.0, v)]),
            None => Properties::empty(),
        };
        let stream = write_first(&mut s, h, ms(0), p);
        s.handle(ms(0), Input::StreamOpenResult { stream, opened: true });
        s.handle_timeout(ms(500));
        s.close_subgroup(stream, false).unwrap();
        drain(&mut s);
        assert_eq!(s.poll_timeout(), want.map(|w| ms(500 + w)), "case {sub} {track:?} {first:?}");
    }
}

/// The track's SUBGROUP_DELIVERY_TIMEOUT property bounds datagrams too (draft-18 §Delivery
/// Timeouts: for datagrams it acts as the object timeout).
#[test]
fn track_subgroup_timeout_property_applies_to_datagrams() {
    let (mut s, h) = publisher(vec![], subgroup_track_info(Some(150)));
    s.handle_timeout(ms(10_000));
    s.send_datagram(h, 0, aged(0, ms(10_000 - 150))).unwrap();
    assert_eq!(datagrams(&drain(&mut s)), 1);
    assert_eq!(s.send_datagram(h, 0, aged(1, ms(10_000 - 151))), Err(CommandError::DeliveryTimeout));
}

#[test]
fn an_unopened_finished_stream_keeps_its_object_deadline() {
    let (mut s, h) = publisher(
        vec![Parameter::ObjectDeliveryTimeout(300), Parameter::SubgroupDeliveryTimeout(1000)],
        TrackInfo::default(),
    );
    let stream = write_first(&mut s, h, ms(0), Properties::empty());
    s.handle_timeout(ms(100));
    s.close_subgroup(stream, false).unwrap();
    drain(&mut s);
    // Object deadline 300 comes before the subgroup deadline 1100.
    assert_eq!(s.poll_timeout(), Some(ms(300)));
    s.handle(ms(200), Input::StreamOpenResult { stream, opened: true });
    assert_eq!(s.poll_timeout(), Some(ms(1100)));
    s.handle_timeout(ms(1100));
    assert_eq!(resets(&drain(&mut s)), vec![(stream, DELIVERY_TIMEOUT)]);
}

#[test]
fn request_update_changes_the_timeout_of_later_objects() {
    let (mut s, h) = publisher(vec![Parameter::ObjectDeliveryTimeout(300)], TrackInfo::default());
    let update = sluice_wire::moqt::message::RequestUpdate {
        request_id: 2,
        parameters: Parameters(vec![Parameter::ObjectDeliveryTimeout(50)]),
    };
    s.handle(ms(0), Input::StreamData { stream: StreamId(0), data: enc(&update) });
    let ev = events(&drain(&mut s));
    assert!(
        matches!(ev.as_slice(), [Event::SubscribeUpdated { options, .. }] if options.max_latency_ms == 50),
        "{ev:?}"
    );
    write_first(&mut s, h, ms(1000), Properties::empty());
    assert_eq!(s.poll_timeout(), Some(ms(1050)));
}

#[test]
fn closing_the_session_drops_every_timer() {
    let (mut s, h) = publisher(
        vec![Parameter::ObjectDeliveryTimeout(300), Parameter::SubgroupDeliveryTimeout(1000)],
        TrackInfo::default(),
    );
    let a = write_first(&mut s, h, ms(0), Properties::empty());
    let _b = write_first(&mut s, h, ms(0), Properties::empty());
    s.close_subgroup(a, false).unwrap();
    assert_eq!(s.poll_timeout(), Some(ms(300)));
    s.close(0, "bye");
    assert_eq!(s.poll_timeout(), None);
    assert_eq!(s.table_sizes(), 0);
}

/// A client session subscribed (by hand) with `max_latency_ms`; the publisher answered
/// with track properties `track_props`, then PUBLISH_DONE (1 stream, none seen) at 1 s.
fn subscriber_after_done(max_latency_ms: u64, track_props: Properties) -> (Session, RequestHandle) {
    let mut s = Session::new(Config::default(), Role::Client, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(D18) });
    drain(&mut s);
    feed(&mut s, Time::ZERO, 3, false, enc(&Setup::default()));
    let track = TrackName::new(Namespace::from_fields(["a"]), "t");
    let h = s.subscribe(track, SubscribeOptions { max_latency_ms, ..SubscribeOptions::default() }).unwrap();
    let stream = drain(&mut s)
        .iter()
        .find_map(|o| match o {
            Output::OpenStream { stream, bidi: true, .. } => Some(*stream),
            _ => None,
        })
        .unwrap();
    let ok = SubscribeOk { track_alias: 1, parameters: Parameters::new(), track_properties: track_props };
    s.handle(Time::ZERO, Input::StreamData { stream, data: enc(&ok) });
    let done = PublishDone {
        status: PublishDoneCode::TRACK_ENDED,
        stream_count: 1,
        reason: ReasonPhrase(Bytes::new()),
    };
    s.handle(ms(1000), Input::StreamData { stream, data: enc(&done) });
    drain(&mut s);
    (s, h)
}

#[test]
fn subscriber_waits_the_larger_delivery_timeout_after_publish_done() {
    // (our OBJECT_DELIVERY_TIMEOUT, publisher's OBJECT / SUBGROUP track properties) → grace.
    let cases: [(u64, u64, u64, u64); 5] = [
        (0, 0, 0, 500), // Config::unknown_alias_timeout
        (2000, 0, 0, 2000),
        (2000, 1500, 0, 1500),
        (2000, 0, 3000, 3000),
        (100, 0, 200, 500),
    ];
    for (ours, object, subgroup, grace) in cases {
        let mut pairs = Vec::new();
        if object > 0 {
            pairs.push(KeyValue::varint(PropertyType::OBJECT_DELIVERY_TIMEOUT.0, object));
        }
        if subgroup > 0 {
            pairs.push(KeyValue::varint(PropertyType::SUBGROUP_DELIVERY_TIMEOUT.0, subgroup));
        }
        let (mut s, h) = subscriber_after_done(ours, props(&pairs));
        assert_eq!(s.poll_timeout(), Some(ms(1000 + grace)), "case {ours} {object} {subgroup}");
        s.handle_timeout(ms(1000 + grace));
        assert_eq!(
            events(&drain(&mut s)),
            vec![Event::SubscriptionEnded {
                request: h,
                reason: Reason { code: PublishDoneCode::TRACK_ENDED.0, text: String::new() }
            }]
        );
    }
}

#[test]
fn pair_objects_arrive_without_resets_when_streams_open_at_once() {
    let mut p = Pair::new(Version::Moqt(D18), Config::default(), Config::default());
    p.take_events(Side::Client);
    let track = TrackName::new(Namespace::from_fields(["a"]), "t");
    let sub = p
        .client
        .subscribe(track, SubscribeOptions { max_latency_ms: 100, ..SubscribeOptions::default() })
        .unwrap();
    p.run();
    let incoming = match p.take_events(Side::Server).as_slice() {
        [.., Event::IncomingSubscribe { request, options, .. }] => {
            assert_eq!(options.max_latency_ms, 100);
            *request
        }
        other => panic!("{other:?}"),
    };
    p.server.accept_subscribe(incoming, track_info(50)).unwrap();
    p.run();
    let stream = p.server.open_subgroup(incoming, 0, 0, None).unwrap();
    p.server.write_object(stream, ObjectWrite::new(0, Bytes::from_static(b"a"))).unwrap();
    p.run();
    // The sim reported the stream open at once: nothing is due.
    assert_eq!(p.server.poll_timeout(), None);
    p.advance(Duration::from_secs(1));
    p.server.write_object(stream, ObjectWrite::new(1, Bytes::from_static(b"b"))).unwrap();
    p.server.close_subgroup(stream, false).unwrap();
    p.advance(Duration::from_secs(1));
    let objects: Vec<u64> = p
        .take_events(Side::Client)
        .into_iter()
        .map(|e| match e {
            Event::Subscribed { .. } => u64::MAX,
            Event::Object { request, info, .. } => {
                assert_eq!(request, sub);
                info.object
            }
            Event::SubgroupEnded { request, .. } => {
                assert_eq!(request, sub);
                u64::MAX - 1
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(objects, vec![u64::MAX, 0, 1, u64::MAX - 1]);
}

fn datagrams(outputs: &[Output]) -> usize {
    outputs.iter().filter(|o| matches!(o, Output::Datagram(_))).count()
}

/// An object whose first payload byte came at `at`.
fn aged(object: u64, at: Time) -> ObjectWrite {
    ObjectWrite { first_byte_at: Some(at), ..ObjectWrite::new(object, Bytes::from_static(b"d")) }
}

#[test]
fn datagram_older_than_the_object_timeout_is_dropped() {
    let (mut s, h) = publisher(vec![Parameter::ObjectDeliveryTimeout(300)], TrackInfo::default());
    s.handle_timeout(ms(1000));
    // Exactly as old as the timeout: not yet "exceeds", sent.
    s.send_datagram(h, 1, aged(0, ms(700))).unwrap();
    assert_eq!(datagrams(&drain(&mut s)), 1);
    // One millisecond older: dropped, nothing sent.
    assert_eq!(s.send_datagram(h, 1, aged(1, ms(699))), Err(CommandError::DeliveryTimeout));
    assert_eq!(drain(&mut s), vec![]);
    // No first-byte time: produced now, never expired.
    s.send_datagram(h, 1, ObjectWrite::new(2, Bytes::from_static(b"d"))).unwrap();
    assert_eq!(datagrams(&drain(&mut s)), 1);
    // The clock is the session's: after a later timeout the same object is too old.
    s.handle_timeout(ms(1001));
    assert_eq!(s.send_datagram(h, 1, aged(3, ms(700))), Err(CommandError::DeliveryTimeout));
    assert_eq!(s.poll_timeout(), None, "a dropped datagram leaves no timer");
}

#[test]
fn datagram_timeout_is_the_smaller_of_the_object_and_subgroup_timeouts() {
    // (subscriber object, subscriber subgroup, publisher object) → effective datagram timeout.
    let cases: [(u64, u64, u64, u64); 4] =
        [(500, 200, 0, 200), (0, 200, 0, 200), (500, 0, 100, 100), (0, 0, 0, 0)];
    for (object, subgroup, track, want) in cases {
        let mut params = Vec::new();
        if object > 0 {
            params.push(Parameter::ObjectDeliveryTimeout(object));
        }
        if subgroup > 0 {
            params.push(Parameter::SubgroupDeliveryTimeout(subgroup));
        }
        let (mut s, h) = publisher(params, track_info(track));
        s.handle_timeout(ms(10_000));
        if want == 0 {
            // No timeout: any age goes.
            s.send_datagram(h, 0, aged(0, Time::ZERO)).unwrap();
            assert_eq!(datagrams(&drain(&mut s)), 1);
            continue;
        }
        s.send_datagram(h, 0, aged(0, ms(10_000 - want))).unwrap();
        assert_eq!(datagrams(&drain(&mut s)), 1, "{object} {subgroup} {track}");
        assert_eq!(
            s.send_datagram(h, 0, aged(1, ms(10_000 - want - 1))),
            Err(CommandError::DeliveryTimeout),
            "{object} {subgroup} {track}"
        );
        assert_eq!(drain(&mut s), vec![]);
    }
}

#[test]
fn subgroup_object_already_expired_when_written_resets_the_stream() {
    let (mut s, h) = publisher(vec![Parameter::ObjectDeliveryTimeout(300)], TrackInfo::default());
    s.handle_timeout(ms(1000));
    let stream = s.open_subgroup(h, 1, 0, None).unwrap();
    s.handle(ms(1000), Input::StreamOpenResult { stream, opened: true });
    drain(&mut s);
    s.write_object(stream, aged(0, ms(700))).unwrap();
    let out = drain(&mut s);
    assert!(matches!(out.as_slice(), [Output::Write { stream: w, .. }] if *w == stream), "{out:?}");
    assert_eq!(s.write_object(stream, aged(1, ms(699))), Err(CommandError::DeliveryTimeout));
    assert_eq!(drain(&mut s), vec![Output::Reset { stream, code: DELIVERY_TIMEOUT }]);
    assert_eq!(
        s.write_object(stream, ObjectWrite::new(2, Bytes::from_static(b"z"))),
        Err(CommandError::UnknownStream(stream))
    );
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn an_expired_first_object_still_sends_the_subgroup_header_before_the_reset() {
    let (mut s, h) = publisher(vec![Parameter::ObjectDeliveryTimeout(300)], TrackInfo::default());
    s.handle_timeout(ms(1000));
    let stream = s.open_subgroup(h, 1, 0, None).unwrap();
    drain(&mut s);
    assert_eq!(s.write_object(stream, aged(0, ms(699))), Err(CommandError::DeliveryTimeout));
    let out = drain(&mut s);
    let [Output::Write { stream: w, header, payload, fin: false }, Output::Reset { stream: r, code }] =
        out.as_slice()
    else {
        panic!("{out:?}")
    };
    assert_eq!((*w, *r, *code), (stream, stream, DELIVERY_TIMEOUT));
    assert!(!header.is_empty() && payload.is_empty(), "only the SUBGROUP_HEADER: {out:?}");
}

#[test]
fn object_deadline_runs_from_the_first_byte_not_from_the_write() {
    let (mut s, h) = publisher(vec![Parameter::ObjectDeliveryTimeout(300)], TrackInfo::default());
    s.handle_timeout(ms(1000));
    let stream = s.open_subgroup(h, 1, 0, None).unwrap();
    s.write_object(stream, aged(0, ms(900))).unwrap();
    drain(&mut s);
    assert_eq!(s.poll_timeout(), Some(ms(1200)));
    s.handle_timeout(ms(1199));
    assert_eq!(resets(&drain(&mut s)), vec![]);
    s.handle_timeout(ms(1200));
    assert_eq!(resets(&drain(&mut s)), vec![(stream, DELIVERY_TIMEOUT)]);
}

#[test]
fn fetch_objects_have_no_delivery_timeout() {
    let mut p = Pair::new(Version::Moqt(D18), Config::default(), Config::default());
    p.take_events(Side::Client);
    p.take_events(Side::Server);
    let track = TrackName::new(Namespace::from_fields(["a"]), "t");
    // A subscription with a 100 ms object timeout on the same track.
    p.client
        .subscribe(track.clone(), SubscribeOptions { max_latency_ms: 100, ..SubscribeOptions::default() })
        .unwrap();
    p.run();
    let sub = match p.take_events(Side::Server).as_slice() {
        [Event::IncomingSubscribe { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    // Object 0/0 is published (a FETCH of a track with none is INVALID_RANGE).
    let largest = Some(sluice::Location { group: 0, object: 0 });
    p.server.accept_subscribe(sub, TrackInfo { largest, ..TrackInfo::default() }).unwrap();
    let (start, end) = (sluice::Location { group: 0, object: 0 }, sluice::Location { group: 1, object: 0 });
    let f = p.client.fetch(track, start, end, 0).unwrap();
    p.run();
    let incoming = match p.take_events(Side::Server).as_slice() {
        [Event::IncomingFetch { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    p.server.accept_fetch(incoming, end).unwrap();
    p.advance(Duration::from_secs(1));
    // The session's clock moves with its inputs and timeouts: tell it the time.
    let now = p.now();
    p.server.handle_timeout(now);
    let old = Time::ZERO;
    // The subscription's datagram of that age is dropped; the fetch object is sent.
    assert_eq!(p.server.send_datagram(sub, 0, aged(0, old)), Err(CommandError::DeliveryTimeout));
    p.server.write_fetch_object(incoming, 0, 0, aged(0, old)).unwrap();
    p.server.finish_fetch(incoming).unwrap();
    p.run();
    assert_eq!(p.server.poll_timeout(), None);
    let got: Vec<_> = p
        .take_events(Side::Client)
        .into_iter()
        .filter_map(|e| match e {
            Event::Object { request, info, payload } => Some((request, info.object, payload.to_bytes())),
            _ => None,
        })
        .collect();
    assert_eq!(got, vec![(f, 0, Bytes::from_static(b"d"))]);
}

/// draft-18 §13 "Immutable Properties": a processor looking for a property searches the
/// contents of Immutable Properties too, so an OBJECT_DELIVERY_TIMEOUT there applies.
#[test]
fn an_object_timeout_inside_immutable_properties_applies() {
    let (mut s, h) = publisher(vec![Parameter::ObjectDeliveryTimeout(300)], TrackInfo::default());
    let inner = props(&[KeyValue::varint(PropertyType::OBJECT_DELIVERY_TIMEOUT.0, 50)]);
    let p = props(&[KeyValue::bytes(PropertyType::IMMUTABLE_PROPERTIES.0, inner.raw().clone())]);
    let stream = write_first(&mut s, h, ms(1000), p);
    assert_eq!(s.poll_timeout(), Some(ms(1050)));
    s.handle_timeout(ms(1050));
    assert_eq!(resets(&drain(&mut s)), vec![(stream, DELIVERY_TIMEOUT)]);
}
