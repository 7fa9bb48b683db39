//! REQUEST_UPDATE on the peer's FETCH, PUBLISH_NAMESPACE, SUBSCRIBE_NAMESPACE and
//! SUBSCRIBE_TRACKS (draft-18 §10.6): exactly one REQUEST_OK / REQUEST_ERROR per update,
//! TRACK_NAMESPACE_PREFIX with the overlap rule, and a fetch's priority change. The peer is
//! raw bytes fed to one server `Session`.

mod moqt_common;

use bytes::Bytes;
use moqt_common::written;
use sluice::{
    Config, Event, Input, Location, MoqtVersion, Namespace, ObjectWrite, Output, Role, Session, StreamId,
    Time, Version,
};
use sluice_wire::Encode;
use sluice_wire::moqt::codes::RequestErrorCode;
use sluice_wire::moqt::control::ControlMessage;
use sluice_wire::moqt::location::Location as WireLocation;
use sluice_wire::moqt::message::{
    Fetch, FetchKind, Namespace as NamespaceMsg, PublishNamespace, RequestOk, RequestUpdate,
    SubscribeNamespace, SubscribeTracks,
};
use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
use sluice_wire::moqt::params::{Parameter, Parameters};
use sluice_wire::moqt::setup::Setup;

const D18: MoqtVersion = MoqtVersion::Draft18;

fn enc<M: Encode<Version = MoqtVersion>>(m: &M) -> Bytes {
    Bytes::from(m.encode_to_vec(D18).unwrap())
}

/// A server session whose client peer has sent SETUP.
fn server() -> Session {
    let mut s = Session::new(Config::default(), Role::Server, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(D18) });
    feed(&mut s, 2, false, enc(&Setup::default()));
    drain(&mut s);
    s
}

fn feed(s: &mut Session, stream: u64, bidi: bool, data: Bytes) {
    s.handle(Time::ZERO, Input::StreamOpened { stream: StreamId(stream), bidi });
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId(stream), data });
}

fn drain(s: &mut Session) -> Vec<Output> {
    std::iter::from_fn(|| s.poll()).collect()
}

fn events(out: &[Output]) -> Vec<Event> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn request_ok() -> ControlMessage {
    ControlMessage::RequestOk(RequestOk {
        parameters: Parameters::new(),
        track_properties: Default::default(),
    })
}

fn update(id: u64, params: Vec<Parameter>) -> Bytes {
    enc(&RequestUpdate { request_id: id, parameters: Parameters(params) })
}

fn ns(fields: &[&str]) -> TrackNamespace {
    TrackNamespace::from_fields(fields.iter().map(|f| Bytes::copy_from_slice(f.as_bytes())))
}

fn prefix_update(id: u64, fields: &[&str]) -> Bytes {
    update(id, vec![Parameter::TrackNamespacePrefix(ns(fields))])
}

/// The send order the engine gives a fetch stream: subscriber priority, publisher
/// priority, then the lowest group rank (draft-18 §7; see `moqt::priority`).
fn fetch_order(subscriber: u8, publisher: u8) -> i32 {
    ((i32::from(255 - subscriber)) << 22) | ((i32::from(255 - publisher)) << 14)
}

#[test]
fn fetch_update_changes_the_priority_and_gets_one_request_ok() {
    let mut s = server();
    let fetch = Fetch {
        request_id: 0,
        kind: FetchKind::Standalone {
            track: FullTrackName::new(ns(&["a"]), Bytes::from_static(b"t")),
            start: WireLocation { group: 0, object: 0 },
            end: WireLocation { group: 5, object: 0 },
        },
        parameters: Parameters(vec![Parameter::SubscriberPriority(100)]),
    };
    feed(&mut s, 0, true, enc(&fetch));
    let handle = match events(&drain(&mut s)).as_slice() {
        [Event::IncomingFetch { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    // An update before FETCH_OK is answered right after it (FETCH_OK comes first).
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId(0), data: update(2, vec![]) });
    assert_eq!(written(&drain(&mut s), 0), (vec![], false));
    s.accept_fetch(handle, Location { group: 5, object: 0 }).unwrap();
    s.write_fetch_object(handle, 0, 0, ObjectWrite::new(0, Bytes::from_static(b"x"))).unwrap();
    let out = drain(&mut s);
    match written(&out, 0) {
        (msgs, false) => {
            assert_eq!(msgs.len(), 2, "{msgs:?}");
            assert!(matches!(msgs[0], ControlMessage::FetchOk(_)), "{msgs:?}");
            assert_eq!(msgs[1], request_ok());
        }
        other => panic!("{other:?}"),
    }
    let data = out
        .iter()
        .find_map(|o| match o {
            Output::OpenStream { stream, bidi: false, order } => Some((*stream, *order)),
            _ => None,
        })
        .unwrap();
    assert_eq!(data.1.0, fetch_order(100, 128), "opened with the FETCH's subscriber priority");
    // The update: exactly one REQUEST_OK on the request stream, and the data stream moves.
    s.handle(
        Time::ZERO,
        Input::StreamData { stream: StreamId(0), data: update(4, vec![Parameter::SubscriberPriority(5)]) },
    );
    let out = drain(&mut s);
    assert_eq!(written(&out, 0), (vec![request_ok()], false));
    let orders: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::SetOrder { stream, order } => Some((*stream, order.0)),
            _ => None,
        })
        .collect();
    assert_eq!(orders, vec![(data.0, fetch_order(5, 128))]);
    assert!(events(&out).is_empty());
}

#[test]
fn publish_namespace_update_is_answered_after_the_acceptance() {
    let mut s = server();
    feed(
        &mut s,
        0,
        true,
        enc(&PublishNamespace { request_id: 0, namespace: ns(&["a"]), parameters: Parameters::new() }),
    );
    let handle = match events(&drain(&mut s)).as_slice() {
        [Event::IncomingAnnounce { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    // Before the acceptance: the answer waits (a REQUEST_OK now would read as acceptance).
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId(0), data: update(2, vec![]) });
    assert_eq!(written(&drain(&mut s), 0), (vec![], false));
    s.accept_announce(handle).unwrap();
    assert_eq!(written(&drain(&mut s), 0), (vec![request_ok(), request_ok()], false));
    // After it: answered at once.
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId(0), data: update(4, vec![]) });
    let out = drain(&mut s);
    assert_eq!(written(&out, 0), (vec![request_ok()], false));
    assert!(events(&out).is_empty());
}

#[test]
fn subscribe_namespace_prefix_update_moves_the_subscription() {
    let mut s = server();
    let ab = s.announce(Namespace::from_fields(["b", "x"])).unwrap();
    let _ = ab;
    drain(&mut s);
    let sn = |id, f: &[&str]| {
        enc(&SubscribeNamespace { request_id: id, prefix: ns(f), parameters: Parameters::new() })
    };
    feed(&mut s, 0, true, sn(0, &["a"]));
    feed(&mut s, 4, true, sn(2, &["c"]));
    let out = drain(&mut s);
    assert_eq!(written(&out, 0), (vec![request_ok()], false));
    // To ["b"]: accepted, then the namespace now matching is announced relative to it.
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId(0), data: prefix_update(6, &["b"]) });
    let out = drain(&mut s);
    assert_eq!(
        written(&out, 0),
        (vec![request_ok(), ControlMessage::Namespace(NamespaceMsg { suffix: ns(&["x"]) })], false)
    );
    // Stream 4 to ["b", "x", "y"]: overlaps stream 0's ["b"] → PREFIX_OVERLAP, stream closed.
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId(4), data: prefix_update(8, &["b", "x", "y"]) });
    let out = drain(&mut s);
    match written(&out, 4) {
        (msgs, true) => match msgs.as_slice() {
            [ControlMessage::RequestError(e)] => assert_eq!(e.code, RequestErrorCode::PREFIX_OVERLAP),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert!(!s.is_closed());
    // Only stream 0's subscription is left.
    feed(&mut s, 12, true, sn(10, &["c"]));
    assert_eq!(written(&drain(&mut s), 12), (vec![request_ok()], false));
}

#[test]
fn subscribe_tracks_prefix_update_overlap_is_per_kind() {
    let mut s = server();
    let st = |id, f: &[&str]| {
        enc(&SubscribeTracks { request_id: id, prefix: ns(f), parameters: Parameters::new() })
    };
    feed(&mut s, 0, true, st(0, &["a"]));
    feed(&mut s, 4, true, st(2, &["b"]));
    // A SUBSCRIBE_NAMESPACE on ["c"] does not count against SUBSCRIBE_TRACKS.
    feed(
        &mut s,
        8,
        true,
        enc(&SubscribeNamespace { request_id: 4, prefix: ns(&["c"]), parameters: Parameters::new() }),
    );
    let handles: Vec<_> = events(&drain(&mut s))
        .into_iter()
        .map(|e| match e {
            Event::IncomingTrackDiscovery { request, .. } => request,
            other => panic!("{other:?}"),
        })
        .collect();
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId(0), data: prefix_update(6, &["c", "d"]) });
    let out = drain(&mut s);
    assert_eq!(written(&out, 0), (vec![request_ok()], false));
    assert_eq!(
        events(&out),
        vec![Event::IncomingTrackDiscovery {
            request: handles[0],
            prefix: Namespace::from_fields(["c", "d"]),
            forward: true
        }]
    );
    // Stream 4 to ["c"]: overlaps stream 0's new ["c", "d"].
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId(4), data: prefix_update(10, &["c"]) });
    let out = drain(&mut s);
    match written(&out, 4) {
        (msgs, true) => match msgs.as_slice() {
            [ControlMessage::RequestError(e)] => assert_eq!(e.code, RequestErrorCode::PREFIX_OVERLAP),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert_eq!(events(&out), vec![Event::IncomingTrackDiscoveryEnded { request: handles[1] }]);
}
