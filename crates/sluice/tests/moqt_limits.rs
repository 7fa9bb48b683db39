//! Every `Config` limit of the MOQT engine, each with the draft's answer.

use std::time::Duration;

use bytes::Bytes;
use sluice::{
    CommandError, Config, Event, Input, MoqtVersion, Namespace, ObjectWrite, Output, Role, Session, StreamId,
    SubscribeOptions, Time, TrackInfo, TrackName, Version,
};
use sluice_sim::{Pair, Side};
use sluice_wire::Encode;
use sluice_wire::moqt::codes::{RequestErrorCode, SessionErrorCode, StreamResetCode};
use sluice_wire::moqt::setup::Setup;
use sluice_wire::moqt::subgroup::{SubgroupHeader, SubgroupId};

const D18: MoqtVersion = MoqtVersion::Draft18;
const V: Version = Version::Moqt(D18);

fn track(n: &str) -> TrackName {
    TrackName::new(Namespace::from_fields(["ns"]), n)
}

fn pair(server: Config) -> Pair {
    let mut p = Pair::new(V, Config::default(), server);
    p.take_events(Side::Client);
    p.take_events(Side::Server);
    p
}

fn failed_code(events: &[Event]) -> Option<u64> {
    events.iter().find_map(|e| match e {
        Event::SubscribeFailed { reason, .. } | Event::DiscoveryEnded { reason, .. } => Some(reason.code),
        _ => None,
    })
}

#[test]
fn max_inbound_requests_answers_excessive_load() {
    let cfg = Config { max_inbound_requests: 1, ..Config::default() };
    let mut p = pair(cfg);
    p.client.subscribe(track("a"), SubscribeOptions::default()).unwrap();
    p.client.subscribe(track("b"), SubscribeOptions::default()).unwrap();
    p.run();
    assert_eq!(p.take_events(Side::Server).len(), 1);
    assert_eq!(failed_code(&p.take_events(Side::Client)), Some(RequestErrorCode::EXCESSIVE_LOAD.0));
    assert!(!p.client.is_closed());
}

#[test]
fn max_subscriptions_inbound_and_outbound() {
    let cfg = Config { max_subscriptions: 1, ..Config::default() };
    let mut p = pair(cfg);
    p.client.subscribe(track("a"), SubscribeOptions::default()).unwrap();
    p.client.subscribe(track("b"), SubscribeOptions::default()).unwrap();
    p.run();
    assert_eq!(failed_code(&p.take_events(Side::Client)), Some(RequestErrorCode::EXCESSIVE_LOAD.0));
    // Announces are not subscriptions.
    p.client.announce(Namespace::from_fields(["x"])).unwrap();
    p.run();
    assert!(matches!(p.take_events(Side::Server).last(), Some(Event::IncomingAnnounce { .. })));
    // The limit counts both directions: the server's own subscription is refused
    // without sending anything, since the client's is alive.
    assert_eq!(
        p.server.subscribe(track("d"), SubscribeOptions::default()),
        Err(CommandError::Limit("max_subscriptions"))
    );
    assert_eq!(p.server.poll(), None);
}

#[test]
fn max_namespace_subscriptions_answers_excessive_load() {
    let cfg = Config { max_namespace_subscriptions: 1, ..Config::default() };
    let mut p = pair(cfg);
    p.client.discover(Namespace::from_fields(["a"])).unwrap();
    p.client.discover(Namespace::from_fields(["b"])).unwrap();
    p.run();
    assert_eq!(failed_code(&p.take_events(Side::Client)), Some(RequestErrorCode::EXCESSIVE_LOAD.0));
}

fn subscribed(p: &mut Pair) -> sluice::RequestHandle {
    p.take_events(Side::Client);
    p.take_events(Side::Server);
    p.client.subscribe(track("a"), SubscribeOptions::default()).unwrap();
    p.run();
    let incoming = match p.take_events(Side::Server).as_slice() {
        [Event::IncomingSubscribe { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    p.server.accept_subscribe(incoming, TrackInfo::default()).unwrap();
    p.run();
    p.take_events(Side::Client);
    incoming
}

#[test]
fn max_stream_buffer_stops_a_data_stream() {
    let client = Config { max_stream_buffer: 100, ..Config::default() };
    let mut p = Pair::new(V, client, Config::default());
    let incoming = subscribed(&mut p);
    let st = p.server.open_subgroup(incoming, 0, 0, None).unwrap();
    p.server.write_object(st, ObjectWrite::new(0, Bytes::from(vec![1u8; 200]))).unwrap();
    p.run();
    assert!(p.take_events(Side::Client).iter().all(|e| !matches!(e, Event::Object { .. })));
    // The client sent STOP_SENDING: the server forgot the stream.
    assert_eq!(
        p.server.write_object(st, ObjectWrite::new(1, Bytes::new())),
        Err(CommandError::UnknownStream(st))
    );
    assert!(!p.client.is_closed());
}

#[test]
fn max_session_buffer_stops_the_stream_that_crosses_it() {
    let client = Config { max_session_buffer: 150, ..Config::default() };
    let mut p = Pair::new(V, client, Config::default());
    let incoming = subscribed(&mut p);
    let a = p.server.open_subgroup(incoming, 0, 0, None).unwrap();
    let b = p.server.open_subgroup(incoming, 1, 0, None).unwrap();
    // Incomplete objects (length says 500) so the bytes stay buffered.
    p.server.write_object(a, ObjectWrite::new(0, Bytes::from(vec![1u8; 500]))).unwrap();
    p.run();
    assert_eq!(
        p.server.write_object(a, ObjectWrite::new(1, Bytes::new())),
        Err(CommandError::UnknownStream(a))
    );
    p.server.write_object(b, ObjectWrite::new(0, Bytes::from(vec![1u8; 10]))).unwrap();
    p.run();
    assert!(matches!(p.take_events(Side::Client).last(), Some(Event::Object { .. })));
}

#[test]
fn max_object_size_stops_the_stream() {
    let client = Config { max_object_size: 10, ..Config::default() };
    let mut p = Pair::new(V, client, Config::default());
    let incoming = subscribed(&mut p);
    let st = p.server.open_subgroup(incoming, 0, 0, None).unwrap();
    p.server.write_object(st, ObjectWrite::new(0, Bytes::from(vec![1u8; 11]))).unwrap();
    p.run();
    assert!(p.take_events(Side::Client).iter().all(|e| !matches!(e, Event::Object { .. })));
    assert_eq!(
        p.server.write_object(st, ObjectWrite::new(1, Bytes::new())),
        Err(CommandError::UnknownStream(st))
    );
}

// ---- raw-peer limits

fn raw_session(cfg: Config) -> Session {
    let mut s = Session::new(cfg, Role::Server, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: V });
    let ctl = StreamId(1000);
    s.handle(Time::ZERO, Input::StreamOpened { stream: ctl, bidi: false });
    let setup = Setup::default().encode_to_vec(D18).unwrap();
    s.handle(Time::ZERO, Input::StreamData { stream: ctl, data: Bytes::from(setup) });
    while s.poll().is_some() {}
    s
}

fn feed(s: &mut Session, now: Time, stream: u64, bidi: bool, bytes: Vec<u8>) -> Vec<Output> {
    let stream = StreamId(stream);
    s.handle(now, Input::StreamOpened { stream, bidi });
    s.handle(now, Input::StreamData { stream, data: Bytes::from(bytes) });
    std::iter::from_fn(|| s.poll()).collect()
}

fn subgroup_stream(alias: u64, body: usize) -> Vec<u8> {
    let h = SubgroupHeader {
        track_alias: alias,
        group_id: 0,
        subgroup_id: SubgroupId::Zero,
        publisher_priority: None,
        properties_present: false,
        end_of_group: false,
        first_object: false,
    };
    let mut v = h.encode_to_vec(D18).unwrap();
    v.extend(std::iter::repeat_n(0u8, body));
    v
}

#[test]
fn max_unidentified_bytes_stops_a_stream_without_a_header() {
    let mut s = raw_session(Config { max_unidentified_bytes: 2, ..Config::default() });
    // Subgroup type 0x14 (explicit subgroup id, priority byte present): alias, group, then
    // the header is still incomplete.
    let out = feed(&mut s, Time::ZERO, 2, false, vec![0x14, 0x00, 0x00]);
    assert_eq!(
        out,
        vec![Output::StopSending { stream: StreamId(2), code: StreamResetCode::EXCESSIVE_LOAD.0 }]
    );
}

#[test]
fn unknown_alias_is_buffered_then_dropped_after_the_timeout() {
    let cfg = Config { unknown_alias_timeout: Duration::from_millis(100), ..Config::default() };
    let mut s = raw_session(cfg);
    assert_eq!(feed(&mut s, Time::ZERO, 2, false, subgroup_stream(9, 5)), vec![]);
    assert_eq!(s.poll_timeout(), Some(Time::from_millis(100)));
    s.handle_timeout(Time::from_millis(99));
    assert_eq!(s.poll(), None);
    s.handle_timeout(Time::from_millis(100));
    assert_eq!(
        s.poll(),
        Some(Output::StopSending { stream: StreamId(2), code: StreamResetCode::CANCELLED.0 })
    );
    assert_eq!(s.table_sizes(), 1, "only the peer's control stream is left");
}

#[test]
fn unknown_alias_bytes_are_bounded() {
    let cfg = Config { max_unknown_alias_bytes: 10, ..Config::default() };
    let mut s = raw_session(cfg);
    assert_eq!(feed(&mut s, Time::ZERO, 2, false, subgroup_stream(9, 6)), vec![]);
    assert_eq!(
        feed(&mut s, Time::ZERO, 6, false, subgroup_stream(9, 6)),
        vec![Output::StopSending { stream: StreamId(6), code: StreamResetCode::EXCESSIVE_LOAD.0 }]
    );
}

#[test]
fn request_stream_over_its_buffer_closes_the_session() {
    let mut s = raw_session(Config { max_stream_buffer: 8, ..Config::default() });
    // SUBSCRIBE type, length 100, then 10 body bytes: incomplete and over the limit.
    let mut bytes = vec![0x03, 0x00, 100];
    bytes.extend([0u8; 10]);
    let out = feed(&mut s, Time::ZERO, 0, true, bytes);
    assert!(
        out.contains(&Output::Close {
            code: SessionErrorCode::PROTOCOL_VIOLATION.0,
            reason: "stream buffer limit exceeded".into()
        }),
        "{out:?}"
    );
    assert_eq!(s.table_sizes(), 0);
}

#[test]
fn max_peer_streams_refuses_more_streams() {
    let mut s = raw_session(Config { max_peer_streams: 2, ..Config::default() });
    assert_eq!(feed(&mut s, Time::ZERO, 2, false, vec![]), vec![]);
    let code = StreamResetCode::EXCESSIVE_LOAD.0;
    assert_eq!(
        feed(&mut s, Time::ZERO, 4, true, vec![]),
        vec![Output::StopSending { stream: StreamId(4), code }, Output::Reset { stream: StreamId(4), code }]
    );
}
