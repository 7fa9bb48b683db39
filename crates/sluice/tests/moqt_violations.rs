//! Protocol-violation table for the MOQT draft-18 engine: raw peer bytes on a stream (or a
//! datagram) → the exact session close code. Each case drives one `Session` directly.

use bytes::{BufMut, Bytes};
use sluice::{Config, Event, Input, MoqtVersion, Output, Role, Session, StreamId, Time, Version};
use sluice_wire::Encode;
use sluice_wire::moqt::codes::SessionErrorCode;
use sluice_wire::moqt::message::{Publish, RequestOk, Subscribe};
use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
use sluice_wire::moqt::setup::{Setup, SetupOption};
use sluice_wire::varint::put_vi64;

const D18: MoqtVersion = MoqtVersion::Draft18;

fn session(role: Role) -> Session {
    let mut s = Session::new(Config::default(), role, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(D18) });
    while s.poll().is_some() {}
    s
}

fn enc<M: Encode<Version = MoqtVersion>>(m: &M) -> Vec<u8> {
    m.encode_to_vec(D18).unwrap()
}

fn setup() -> Vec<u8> {
    enc(&Setup::default())
}

fn track() -> FullTrackName {
    FullTrackName::new(TrackNamespace::from_fields(["a"]), Bytes::from_static(b"t"))
}

fn subscribe(id: u64) -> Vec<u8> {
    enc(&Subscribe { request_id: id, track: track(), parameters: Default::default() })
}

fn publish(id: u64, alias: u64) -> Vec<u8> {
    enc(&Publish {
        request_id: id,
        track: track(),
        track_alias: alias,
        parameters: Default::default(),
        track_properties: Default::default(),
    })
}

/// One peer stream and the bytes it carries.
struct Feed {
    stream: u64,
    bidi: bool,
    bytes: Vec<u8>,
    fin: bool,
}

fn uni(stream: u64, bytes: Vec<u8>) -> Feed {
    Feed { stream, bidi: false, bytes, fin: false }
}

fn bidi(stream: u64, bytes: Vec<u8>) -> Feed {
    Feed { stream, bidi: true, bytes, fin: false }
}

/// Feeds the peer's SETUP on stream 100 (unless `with_setup` is false), then `feeds`;
/// returns the close code the session sent, if any.
fn close_code(role: Role, with_setup: bool, feeds: Vec<Feed>, datagram: Option<Vec<u8>>) -> Option<u64> {
    let mut s = session(role);
    let mut all = Vec::new();
    if with_setup {
        all.push(uni(100, setup()));
    }
    all.extend(feeds);
    for f in all {
        let stream = StreamId(f.stream);
        s.handle(Time::ZERO, Input::StreamOpened { stream, bidi: f.bidi });
        s.handle(Time::ZERO, Input::StreamData { stream, data: Bytes::from(f.bytes) });
        if f.fin {
            s.handle(Time::ZERO, Input::StreamFinished { stream });
        }
    }
    if let Some(d) = datagram {
        s.handle(Time::ZERO, Input::Datagram(Bytes::from(d)));
    }
    let mut code = None;
    while let Some(o) = s.poll() {
        if let Output::Close { code: c, .. } = o {
            code = Some(c);
        }
    }
    if code.is_some() {
        assert_eq!(s.table_sizes(), 0, "tables cleared after close");
    }
    code
}

const PV: u64 = SessionErrorCode::PROTOCOL_VIOLATION.0;

#[test]
fn violation_table() {
    let cat = |a: Vec<u8>, b: Vec<u8>| {
        let mut v = a;
        v.extend(b);
        v
    };
    let mut setup_with_path = Vec::new();
    Setup { options: vec![SetupOption::Path(Bytes::from_static(b"/x"))] }
        .encode(&mut setup_with_path, D18)
        .unwrap();
    // SUBSCRIBE whose AUTHORIZATION_TOKEN has alias type 9 (undefined).
    let mut bad_token_body = Vec::new();
    put_vi64(&mut bad_token_body, 0); // request id
    bad_token_body.extend([1, 1, b'a', 1, b't']); // namespace ("a"), name "t"
    bad_token_body.extend([1, 3, 1, 9]); // 1 param: type 3, length 1, alias type 9
    let mut bad_token = Vec::new();
    put_vi64(&mut bad_token, 0x03);
    bad_token.put_u16(bad_token_body.len() as u16);
    bad_token.extend(bad_token_body);
    let mut unknown_type = Vec::new();
    put_vi64(&mut unknown_type, 0x3F);
    unknown_type.put_u16(1000); // the body never arrives: the type alone closes the session

    let mut padding_datagram = Vec::new();
    put_vi64(&mut padding_datagram, 0x132B_3E29);
    padding_datagram.extend([0, 0]);

    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, Role, bool, Vec<Feed>, Option<Vec<u8>>, Option<u64>)> = vec![
        (
            "second SETUP on the control stream",
            Role::Server,
            false,
            vec![uni(100, cat(setup(), setup()))],
            None,
            Some(PV),
        ),
        ("second control stream", Role::Server, true, vec![uni(4, setup())], None, Some(PV)),
        (
            "control stream finished",
            Role::Server,
            true,
            vec![Feed { stream: 100, bidi: false, bytes: vec![], fin: true }],
            None,
            Some(PV),
        ),
        ("unknown uni stream type 0x06", Role::Server, true, vec![uni(2, vec![0x06])], None, Some(PV)),
        (
            "reserved subgroup id mode 0x16",
            Role::Server,
            true,
            vec![uni(2, vec![0x16, 0, 0])],
            None,
            Some(PV),
        ),
        (
            "bidi stream starting with REQUEST_OK",
            Role::Server,
            true,
            vec![bidi(
                0,
                enc(&RequestOk { parameters: Default::default(), track_properties: Default::default() }),
            )],
            None,
            Some(PV),
        ),
        (
            "unknown message type on a bidi stream",
            Role::Server,
            true,
            vec![bidi(0, unknown_type)],
            None,
            Some(PV),
        ),
        (
            "client request with odd id",
            Role::Server,
            true,
            vec![bidi(0, subscribe(1))],
            None,
            Some(SessionErrorCode::INVALID_REQUEST_ID.0),
        ),
        (
            "server request with even id",
            Role::Client,
            true,
            vec![bidi(1, subscribe(0))],
            None,
            Some(SessionErrorCode::INVALID_REQUEST_ID.0),
        ),
        (
            "duplicate request id",
            Role::Server,
            true,
            vec![bidi(0, subscribe(2)), bidi(4, subscribe(2))],
            None,
            Some(SessionErrorCode::INVALID_REQUEST_ID.0),
        ),
        (
            "duplicate request id below the floor",
            Role::Server,
            true,
            vec![bidi(0, subscribe(0)), bidi(4, subscribe(0))],
            None,
            Some(SessionErrorCode::INVALID_REQUEST_ID.0),
        ),
        (
            "out-of-order ids are fine",
            Role::Server,
            true,
            vec![bidi(0, subscribe(4)), bidi(4, subscribe(0)), bidi(8, subscribe(2))],
            None,
            None,
        ),
        (
            "PUBLISH reusing a live track alias",
            Role::Server,
            true,
            vec![bidi(0, publish(0, 7)), bidi(4, publish(2, 7))],
            None,
            Some(SessionErrorCode::DUPLICATE_TRACK_ALIAS.0),
        ),
        (
            "malformed authorization token",
            Role::Server,
            true,
            vec![bidi(0, bad_token)],
            None,
            Some(SessionErrorCode::KEY_VALUE_FORMATTING_ERROR.0),
        ),
        (
            "PATH from a server",
            Role::Client,
            false,
            vec![uni(101, setup_with_path)],
            None,
            Some(SessionErrorCode::INVALID_PATH.0),
        ),
        ("datagram with bit 0x10 set", Role::Server, true, vec![], Some(vec![0x10, 0, 0]), Some(PV)),
        ("padding datagram is ignored", Role::Server, true, vec![], Some(padding_datagram), None),
        (
            "request stream ends inside a message",
            Role::Server,
            true,
            vec![Feed { stream: 0, bidi: true, bytes: subscribe(0)[..4].to_vec(), fin: true }],
            None,
            Some(PV),
        ),
    ];
    for (name, role, with_setup, feeds, datagram, want) in cases {
        assert_eq!(close_code(role, with_setup, feeds, datagram), want, "case: {name}");
    }
}

#[test]
fn padding_stream_is_discarded() {
    let mut pad = Vec::new();
    put_vi64(&mut pad, 0x132B_3E28);
    pad.extend([0u8; 32]);
    assert_eq!(close_code(Role::Server, true, vec![uni(2, pad)], None), None);
}

#[test]
fn requests_before_setup_wait_for_it() {
    let mut s = session(Role::Server);
    let req = StreamId(0);
    s.handle(Time::ZERO, Input::StreamOpened { stream: req, bidi: true });
    s.handle(Time::ZERO, Input::StreamData { stream: req, data: Bytes::from(subscribe(0)) });
    let before: Vec<Output> = std::iter::from_fn(|| s.poll()).collect();
    assert!(before.is_empty(), "{before:?}");
    let ctl = StreamId(2);
    s.handle(Time::ZERO, Input::StreamOpened { stream: ctl, bidi: false });
    s.handle(Time::ZERO, Input::StreamData { stream: ctl, data: Bytes::from(setup()) });
    let events: Vec<Event> = std::iter::from_fn(|| s.poll())
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    assert!(
        matches!(events.as_slice(), [Event::Ready { .. }, Event::IncomingSubscribe { .. }]),
        "{events:?}"
    );
}

#[test]
fn setup_bytes_sent_by_the_client() {
    let cfg = Config {
        implementation: Some("x".into()),
        path: Some("/p".into()),
        max_auth_token_cache: 100,
        ..Config::default()
    };
    let mut s = Session::new(cfg, Role::Client, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(D18) });
    let outs: Vec<Output> = std::iter::from_fn(|| s.poll()).collect();
    let expected = enc(&Setup {
        options: vec![
            SetupOption::Path(Bytes::from_static(b"/p")),
            SetupOption::MaxAuthTokenCacheSize(100),
            SetupOption::MoqtImplementation(Bytes::from_static(b"x")),
        ],
    });
    match outs.as_slice() {
        [
            Output::OpenStream { stream, bidi: false, .. },
            Output::Write { stream: w, header, fin: false, .. },
        ] => {
            assert_eq!(stream, w);
            assert_eq!(header.as_ref(), expected.as_slice());
        }
        other => panic!("{other:?}"),
    }
}

/// A client with two requests out; the peer (server) answers them with raw bytes.
fn client_answers(answers: [Vec<u8>; 2]) -> Option<u64> {
    use sluice::{Namespace, SubscribeOptions, TrackName};
    let mut s = session(Role::Client);
    let ctl = StreamId(3);
    s.handle(Time::ZERO, Input::StreamOpened { stream: ctl, bidi: false });
    s.handle(Time::ZERO, Input::StreamData { stream: ctl, data: Bytes::from(setup()) });
    let t = TrackName::new(Namespace::from_fields(["a"]), "t");
    s.subscribe(t.clone(), SubscribeOptions::default()).unwrap();
    s.announce(Namespace::from_fields(["b"])).unwrap();
    // Streams the client opened: local#0 = control, local#1 = SUBSCRIBE, local#2 = announce.
    for (i, a) in answers.into_iter().enumerate() {
        let stream = StreamId::local(i as u64 + 1);
        s.handle(Time::ZERO, Input::StreamData { stream, data: Bytes::from(a) });
    }
    let mut code = None;
    while let Some(o) = s.poll() {
        if let Output::Close { code: c, .. } = o {
            code = Some(c);
        }
    }
    code
}

#[test]
fn response_violations_on_our_requests() {
    use sluice_wire::moqt::kvp::{KeyValue, Properties};
    use sluice_wire::moqt::message::{Namespace as NamespaceMsg, SubscribeOk};
    let ok = |alias| {
        enc(&SubscribeOk {
            track_alias: alias,
            parameters: Default::default(),
            track_properties: Default::default(),
        })
    };
    let request_ok = enc(&RequestOk { parameters: Default::default(), track_properties: Default::default() });
    let with_props = enc(&RequestOk {
        parameters: Default::default(),
        track_properties: Properties::from_pairs(&[KeyValue::varint(0x0E, 1)]).unwrap(),
    });
    let namespace = enc(&NamespaceMsg { suffix: TrackNamespace::from_fields(["x"]) });
    assert_eq!(client_answers([ok(1), request_ok.clone()]), None);
    assert_eq!(client_answers([ok(1), with_props]), Some(PV), "track properties in PUBLISH_NAMESPACE_OK");
    assert_eq!(
        client_answers([namespace.clone(), request_ok.clone()]),
        Some(PV),
        "NAMESPACE answering SUBSCRIBE"
    );
    assert_eq!(client_answers([ok(1), namespace]), Some(PV), "NAMESPACE answering PUBLISH_NAMESPACE");
}

#[test]
fn subscribe_ok_reusing_a_live_alias_closes_duplicate_track_alias() {
    use sluice::{Namespace, SubscribeOptions, TrackName};
    use sluice_wire::moqt::message::SubscribeOk;
    let mut s = session(Role::Client);
    let ctl = StreamId(3);
    s.handle(Time::ZERO, Input::StreamOpened { stream: ctl, bidi: false });
    s.handle(Time::ZERO, Input::StreamData { stream: ctl, data: Bytes::from(setup()) });
    for name in ["a", "b"] {
        s.subscribe(TrackName::new(Namespace::from_fields(["n"]), name), SubscribeOptions::default())
            .unwrap();
    }
    let ok = enc(&SubscribeOk {
        track_alias: 5,
        parameters: Default::default(),
        track_properties: Default::default(),
    });
    for i in [1, 2] {
        s.handle(Time::ZERO, Input::StreamData { stream: StreamId::local(i), data: Bytes::from(ok.clone()) });
    }
    let close = std::iter::from_fn(|| s.poll()).find_map(|o| match o {
        Output::Close { code, .. } => Some(code),
        _ => None,
    });
    assert_eq!(close, Some(SessionErrorCode::DUPLICATE_TRACK_ALIAS.0));
    assert_eq!(s.table_sizes(), 0);
}

#[test]
fn subgroup_reset_by_the_publisher_reports_the_dropped_group() {
    use sluice::{Namespace, Reason, SubscribeOptions, TrackName};
    use sluice_wire::moqt::message::SubscribeOk;
    use sluice_wire::moqt::subgroup::{SubgroupHeader, SubgroupId};
    let mut s = session(Role::Client);
    let ctl = StreamId(3);
    s.handle(Time::ZERO, Input::StreamOpened { stream: ctl, bidi: false });
    s.handle(Time::ZERO, Input::StreamData { stream: ctl, data: Bytes::from(setup()) });
    let h =
        s.subscribe(TrackName::new(Namespace::from_fields(["n"]), "a"), SubscribeOptions::default()).unwrap();
    let ok = enc(&SubscribeOk {
        track_alias: 4,
        parameters: Default::default(),
        track_properties: Default::default(),
    });
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId::local(1), data: Bytes::from(ok) });
    let header = SubgroupHeader {
        track_alias: 4,
        group_id: 12,
        subgroup_id: SubgroupId::Zero,
        publisher_priority: None,
        properties_present: false,
        end_of_group: false,
        first_object: false,
    };
    let data = StreamId(7);
    s.handle(Time::ZERO, Input::StreamOpened { stream: data, bidi: false });
    s.handle(Time::ZERO, Input::StreamData { stream: data, data: Bytes::from(enc(&header)) });
    while s.poll().is_some() {}
    s.handle(Time::ZERO, Input::StreamReset { stream: data, code: 2 });
    let events: Vec<Event> = std::iter::from_fn(|| s.poll())
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(
        events,
        vec![Event::GroupsDropped {
            request: h,
            first: 12,
            last: 12,
            reason: Reason { code: 2, text: String::new() }
        }]
    );
}

#[test]
fn object_with_properties_fed_byte_by_byte() {
    use sluice::{Namespace, SubscribeOptions, TrackName};
    use sluice_wire::moqt::kvp::{KeyValue, Properties};
    use sluice_wire::moqt::message::SubscribeOk;
    use sluice_wire::moqt::subgroup::{SubgroupHeader, SubgroupId, SubgroupObject, SubgroupObjectEncoder};
    let mut s = session(Role::Client);
    let ctl = StreamId(3);
    s.handle(Time::ZERO, Input::StreamOpened { stream: ctl, bidi: false });
    s.handle(Time::ZERO, Input::StreamData { stream: ctl, data: Bytes::from(setup()) });
    let h =
        s.subscribe(TrackName::new(Namespace::from_fields(["n"]), "a"), SubscribeOptions::default()).unwrap();
    let ok = enc(&SubscribeOk {
        track_alias: 1,
        parameters: Default::default(),
        track_properties: Default::default(),
    });
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId::local(1), data: Bytes::from(ok) });
    while s.poll().is_some() {}
    let header = SubgroupHeader {
        track_alias: 1,
        group_id: 3,
        subgroup_id: SubgroupId::Explicit(9),
        publisher_priority: Some(5),
        properties_present: true,
        end_of_group: false,
        first_object: false,
    };
    let props = Properties::from_pairs(&[KeyValue::bytes(0x0B, vec![1u8; 300])]).unwrap();
    let object = SubgroupObject {
        object_id: 4,
        properties: props.clone(),
        status: sluice_wire::moqt::object::ObjectStatus::Normal,
        payload: Bytes::from_static(b"pay"),
    };
    let mut bytes = enc(&header);
    SubgroupObjectEncoder::new(&header, D18).encode(&mut bytes, &object).unwrap();
    let data = StreamId(7);
    s.handle(Time::ZERO, Input::StreamOpened { stream: data, bidi: false });
    for b in bytes {
        s.handle(Time::ZERO, Input::StreamData { stream: data, data: Bytes::from(vec![b]) });
    }
    s.handle(Time::ZERO, Input::StreamFinished { stream: data });
    let events: Vec<Event> = std::iter::from_fn(|| s.poll())
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    match events.as_slice() {
        [Event::Object { request, info, payload }, Event::SubgroupEnded { group: 3, subgroup: 9, .. }] => {
            assert_eq!(*request, h);
            assert_eq!((info.group, info.subgroup, info.object, info.publisher_priority), (3, 9, 4, Some(5)));
            assert_eq!(&info.properties, props.raw());
            assert_eq!(payload.to_bytes(), Bytes::from_static(b"pay"));
            assert_eq!(payload.chunks().len(), 3, "one chunk per received byte, none copied");
        }
        other => panic!("{other:?}"),
    }
}

fn goaway(uri: &'static [u8], request_id: Option<u64>) -> Vec<u8> {
    use sluice_wire::moqt::message::GoAway;
    enc(&GoAway { new_session_uri: Bytes::from_static(uri), timeout: 0, request_id })
}

#[test]
fn server_receiving_goaway_with_a_uri_closes_with_protocol_violation() {
    // §10.4: clients cannot redirect servers, so a server closes on a non-empty URI ...
    let with_uri = cat2(setup(), goaway(b"https://x", Some(1)));
    assert_eq!(close_code(Role::Server, false, vec![uni(100, with_uri)], None), Some(PV));
    // ... while an empty one is accepted.
    let empty = cat2(setup(), goaway(b"", Some(1)));
    assert_eq!(close_code(Role::Server, false, vec![uni(100, empty)], None), None);
    // A client may receive a URI from a server.
    let from_server = cat2(setup(), goaway(b"https://x", Some(0)));
    assert_eq!(close_code(Role::Client, false, vec![uni(101, from_server)], None), None);
}

#[test]
fn goaway_request_id_of_the_wrong_parity_closes_with_invalid_request_id() {
    const IRI: u64 = SessionErrorCode::INVALID_REQUEST_ID.0;
    // The Request ID names the receiver's own requests: even for a client, odd for a server.
    for (role, stream, good, bad) in [(Role::Client, 101, 4, 3), (Role::Server, 100, 5, 2)] {
        let wrong = cat2(setup(), goaway(b"", Some(bad)));
        assert_eq!(close_code(role, false, vec![uni(stream, wrong)], None), Some(IRI), "{role:?}");
        let right = cat2(setup(), goaway(b"", Some(good)));
        assert_eq!(close_code(role, false, vec![uni(stream, right)], None), None, "{role:?}");
    }
}

fn cat2(mut a: Vec<u8>, b: Vec<u8>) -> Vec<u8> {
    a.extend(b);
    a
}

/// A client whose first request is SUBSCRIBE_NAMESPACE ["p"], answered with REQUEST_OK and
/// then `then` (NAMESPACE / NAMESPACE_DONE messages); returns the events and close code.
fn discovery_answers(config: Config, then: Vec<Vec<u8>>) -> (Vec<Event>, Option<u64>) {
    use sluice::Namespace;
    let mut s = Session::new(config, Role::Client, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(D18) });
    s.handle(Time::ZERO, Input::StreamOpened { stream: StreamId(3), bidi: false });
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId(3), data: Bytes::from(setup()) });
    s.discover(Namespace::from_fields(["p"])).unwrap();
    let mut bytes = enc(&RequestOk { parameters: Default::default(), track_properties: Default::default() });
    for m in then {
        bytes.extend(m);
    }
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId::local(1), data: Bytes::from(bytes) });
    let mut events = Vec::new();
    let mut code = None;
    while let Some(o) = s.poll() {
        match o {
            Output::Event(
                e @ (Event::NamespaceFound { .. }
                | Event::NamespaceGone { .. }
                | Event::DiscoveryEnded { .. }),
            ) => events.push(e),
            Output::Close { code: c, .. } => code = Some(c),
            _ => {}
        }
    }
    (events, code)
}

#[test]
fn namespace_done_before_its_namespace_closes_with_protocol_violation() {
    use sluice::Namespace;
    use sluice_wire::moqt::message::{Namespace as NamespaceMsg, NamespaceDone};
    let found = |f: &'static str| enc(&NamespaceMsg { suffix: TrackNamespace::from_fields([f]) });
    let done = |f: &'static str| enc(&NamespaceDone { suffix: TrackNamespace::from_fields([f]) });
    let full = |f: &'static str| Namespace::from_fields(["p", f]);
    // NAMESPACE then NAMESPACE_DONE: both reported.
    let (events, code) = discovery_answers(Config::default(), vec![found("a"), done("a")]);
    assert_eq!(code, None);
    assert_eq!(events.len(), 2);
    assert!(matches!(&events[0], Event::NamespaceFound { namespace, .. } if *namespace == full("a")));
    assert!(matches!(&events[1], Event::NamespaceGone { namespace, .. } if *namespace == full("a")));
    // NAMESPACE_DONE for a namespace never reported, or already withdrawn: closed.
    let (events, code) = discovery_answers(Config::default(), vec![found("a"), done("b")]);
    assert_eq!((events.len(), code), (1, Some(PV)));
    let (events, code) = discovery_answers(Config::default(), vec![found("a"), done("a"), done("a")]);
    assert_eq!((events.len(), code), (2, Some(PV)));
    // The remembered namespaces are bounded: one too many cancels the discovery.
    let cfg = Config { max_discovered_namespaces: 1, ..Config::default() };
    let (events, code) = discovery_answers(cfg, vec![found("a"), found("b")]);
    assert_eq!(code, None);
    assert_eq!(events.len(), 2);
    assert!(matches!(&events[1], Event::DiscoveryEnded { reason, .. }
        if reason.code == sluice_wire::moqt::codes::StreamResetCode::EXCESSIVE_LOAD.0));
}

fn publish_with(props: &[sluice_wire::moqt::kvp::KeyValue]) -> Vec<u8> {
    enc(&Publish {
        request_id: 0,
        track: track(),
        track_alias: 1,
        parameters: Default::default(),
        track_properties: sluice_wire::moqt::kvp::Properties::from_pairs(props).unwrap(),
    })
}

fn subscribe_ok_with(props: &[sluice_wire::moqt::kvp::KeyValue]) -> Vec<u8> {
    enc(&sluice_wire::moqt::message::SubscribeOk {
        track_alias: 1,
        parameters: Default::default(),
        track_properties: sluice_wire::moqt::kvp::Properties::from_pairs(props).unwrap(),
    })
}

#[test]
fn track_property_values_out_of_range_close_with_protocol_violation() {
    use sluice_wire::moqt::kvp::KeyValue;
    const ORDER: u64 = 0x22; // DEFAULT_PUBLISHER_GROUP_ORDER: 1 or 2
    const DYNAMIC: u64 = 0x30; // DYNAMIC_GROUPS: 0 or 1
    let request_ok = enc(&RequestOk { parameters: Default::default(), track_properties: Default::default() });
    for (kind, value, closes) in [
        (ORDER, 0, true),
        (ORDER, 1, false),
        (ORDER, 2, false),
        (ORDER, 3, true),
        (DYNAMIC, 0, false),
        (DYNAMIC, 1, false),
        (DYNAMIC, 2, true),
    ] {
        let expected = closes.then_some(PV);
        let props = [KeyValue::varint(kind, value)];
        // In a PUBLISH received by a server ...
        assert_eq!(
            close_code(Role::Server, true, vec![bidi(0, publish_with(&props))], None),
            expected,
            "PUBLISH {kind:#x}={value}"
        );
        // ... and in the SUBSCRIBE_OK a client receives.
        assert_eq!(
            client_answers([subscribe_ok_with(&props), request_ok.clone()]),
            expected,
            "SUBSCRIBE_OK {kind:#x}={value}"
        );
    }
}
