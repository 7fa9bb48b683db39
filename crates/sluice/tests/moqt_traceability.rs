//! Focused checks of draft-18 rules the other MOQT tests did not pin down exactly; each test
//! is cited by a row of `docs/traceability/draft-18.md`. Sessions are driven with raw peer
//! bytes (as in `moqt_violations.rs`) and their output decoded back into messages.

use bytes::Bytes;
use sluice::{
    Config, Event, Input, MoqtVersion, Namespace, ObjectWrite, Output, RequestHandle, Role, Session,
    StreamId, Time, TrackInfo, Version,
};
use sluice_wire::moqt::codes::SetupOptionType;
use sluice_wire::moqt::codes::{PublishDoneCode, RequestErrorCode, SessionErrorCode};
use sluice_wire::moqt::control::ControlMessage;
use sluice_wire::moqt::message::{Namespace as NamespaceMsg, RequestUpdate, Subscribe};
use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
use sluice_wire::moqt::params::{Parameter, Parameters};
use sluice_wire::moqt::setup::Setup;
use sluice_wire::moqt::token::Token;
use sluice_wire::{Decode, Encode, Reader};

const D18: MoqtVersion = MoqtVersion::Draft18;

fn enc<M: Encode<Version = MoqtVersion>>(m: &M) -> Vec<u8> {
    m.encode_to_vec(D18).unwrap()
}

/// A session of `role` that has received the peer's SETUP (on peer stream 1000 / 1001).
fn session(role: Role, cfg: Config) -> Session {
    let mut s = Session::new(cfg, role, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(D18) });
    let ctl = StreamId(if role == Role::Server { 1002 } else { 1003 });
    s.handle(Time::ZERO, Input::StreamOpened { stream: ctl, bidi: false });
    s.handle(Time::ZERO, Input::StreamData { stream: ctl, data: Bytes::from(enc(&Setup::default())) });
    while s.poll().is_some() {}
    s
}

fn subscribe(id: u64, ns: &'static str, params: Parameters) -> Vec<u8> {
    enc(&Subscribe {
        request_id: id,
        track: FullTrackName::new(TrackNamespace::from_fields([ns]), Bytes::from_static(b"t")),
        parameters: params,
    })
}

/// Feeds a new peer bidi stream; returns everything the session outputs.
fn feed(s: &mut Session, stream: u64, bytes: Vec<u8>) -> Vec<Output> {
    let stream = StreamId(stream);
    s.handle(Time::ZERO, Input::StreamOpened { stream, bidi: true });
    s.handle(Time::ZERO, Input::StreamData { stream, data: Bytes::from(bytes) });
    std::iter::from_fn(|| s.poll()).collect()
}

fn close_code(outs: &[Output]) -> Option<u64> {
    outs.iter().find_map(|o| match o {
        Output::Close { code, .. } => Some(*code),
        _ => None,
    })
}

fn incoming_subscribe(outs: &[Output]) -> RequestHandle {
    let found: Vec<RequestHandle> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Event(Event::IncomingSubscribe { request, .. }) => Some(*request),
            _ => None,
        })
        .collect();
    assert_eq!(found.len(), 1, "{outs:?}");
    found[0]
}

/// The control messages the session wrote on `stream`, in order, with each write's index in
/// `outs`.
fn messages_on(outs: &[Output], stream: StreamId) -> Vec<(usize, ControlMessage)> {
    let mut out = Vec::new();
    for (i, o) in outs.iter().enumerate() {
        if let Output::Write { stream: s, header, payload, .. } = o
            && *s == stream
        {
            let mut all = header.to_vec();
            all.extend_from_slice(payload);
            let all = Bytes::from(all);
            let mut r = Reader::new(&all);
            while !r.is_empty() {
                out.push((i, ControlMessage::decode(&mut r, D18).unwrap()));
            }
        }
    }
    out
}

/// §10.19 / §10.21: the first message answering SUBSCRIBE_NAMESPACE or SUBSCRIBE_TRACKS must
/// be REQUEST_OK or REQUEST_ERROR; a NAMESPACE first closes the session with
/// PROTOCOL_VIOLATION.
#[test]
fn namespace_subscription_answered_first_by_namespace_closes_protocol_violation() {
    for tracks in [false, true] {
        let mut s = session(Role::Client, Config::default());
        let prefix = Namespace::from_fields(["a"]);
        if tracks {
            s.discover_tracks(prefix).unwrap();
        } else {
            s.discover(prefix).unwrap();
        }
        while s.poll().is_some() {}
        // Streams the client opened: local#0 = control, local#1 = the request.
        let answer = enc(&NamespaceMsg { suffix: TrackNamespace::from_fields(["x"]) });
        s.handle(Time::ZERO, Input::StreamData { stream: StreamId::local(1), data: Bytes::from(answer) });
        let outs: Vec<Output> = std::iter::from_fn(|| s.poll()).collect();
        assert_eq!(close_code(&outs), Some(SessionErrorCode::PROTOCOL_VIOLATION.0), "tracks: {tracks}");
    }
}

/// §10.9 REQUEST_UPDATE / "Updating Subscriptions": every successful update of a subscription
/// gets exactly one REQUEST_OK, in order, and nothing else.
#[test]
fn every_request_update_gets_exactly_one_request_ok() {
    let mut s = session(Role::Server, Config::default());
    let outs = feed(&mut s, 0, subscribe(0, "a", Parameters::new()));
    let h = incoming_subscribe(&outs);
    s.accept_subscribe(h, TrackInfo::default()).unwrap();
    while s.poll().is_some() {}
    let mut updates = Vec::new();
    for id in [2, 4, 6] {
        updates.extend(enc(&RequestUpdate {
            request_id: id,
            parameters: Parameters(vec![Parameter::SubscriberPriority(id as u8)]),
        }));
    }
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId(0), data: Bytes::from(updates) });
    let outs: Vec<Output> = std::iter::from_fn(|| s.poll()).collect();
    assert_eq!(close_code(&outs), None);
    let answers: Vec<ControlMessage> = messages_on(&outs, StreamId(0)).into_iter().map(|(_, m)| m).collect();
    assert_eq!(answers.len(), 3, "{answers:?}");
    assert!(answers.iter().all(|m| matches!(m, ControlMessage::RequestOk(_))), "{answers:?}");
}

/// §10.11 PUBLISH_DONE: sent only after every stream of the subscription is closed (a FIN
/// for a subgroup the application closed, a RESET CANCELLED for one it left open, as
/// "Closing Subgroup Streams" requires), with Stream Count the exact number of streams; 0
/// when none was opened.
#[test]
fn publish_done_follows_the_fins_and_counts_the_streams() {
    let mut s = session(Role::Server, Config::default());
    let h0 = incoming_subscribe(&feed(&mut s, 0, subscribe(0, "a", Parameters::new())));
    let h1 = incoming_subscribe(&feed(&mut s, 4, subscribe(2, "b", Parameters::new())));
    s.accept_subscribe(h0, TrackInfo::default()).unwrap();
    s.accept_subscribe(h1, TrackInfo::default()).unwrap();
    while s.poll().is_some() {}

    // h0: one closed stream and one left open; the engine resets it before PUBLISH_DONE.
    let a = s.open_subgroup(h0, 0, 0, None).unwrap();
    s.write_object(a, ObjectWrite::new(0, Bytes::from_static(b"a"))).unwrap();
    s.close_subgroup(a, false).unwrap();
    let b = s.open_subgroup(h0, 1, 0, None).unwrap();
    s.write_object(b, ObjectWrite::new(0, Bytes::from_static(b"b"))).unwrap();
    let before: Vec<Output> = std::iter::from_fn(|| s.poll()).collect();
    assert!(before.iter().any(|o| matches!(o, Output::Write { stream, fin: true, .. } if *stream == a)));
    s.end_subscription(h0, PublishDoneCode::TRACK_ENDED.0, "").unwrap();
    let outs: Vec<Output> = std::iter::from_fn(|| s.poll()).collect();
    let reset_b = outs
        .iter()
        .position(|o| {
            matches!(o, Output::Reset { stream, code } if *stream == b && *code == sluice_wire::moqt::codes::StreamResetCode::CANCELLED.0)
        })
        .expect("the open stream is reset");
    match messages_on(&outs, StreamId(0)).as_slice() {
        [(at, ControlMessage::PublishDone(d))] => {
            assert!(reset_b < *at, "the last stream ends before PUBLISH_DONE");
            assert_eq!(d.stream_count, 2);
            assert_eq!(d.status, PublishDoneCode::TRACK_ENDED);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        !outs.iter().any(|o| matches!(o, Output::Write { fin: true, stream, .. } if *stream == b)),
        "{outs:?}"
    );

    // h1: no stream was ever opened.
    s.end_subscription(h1, PublishDoneCode::SUBSCRIPTION_ENDED.0, "").unwrap();
    let outs: Vec<Output> = std::iter::from_fn(|| s.poll()).collect();
    match messages_on(&outs, StreamId(4)).as_slice() {
        [(_, ControlMessage::PublishDone(d))] => assert_eq!(d.stream_count, 0),
        other => panic!("{other:?}"),
    }
}

/// §11.1 Track Alias: a publisher never uses one alias for two tracks at once (SUBSCRIBE_OKs
/// and PUBLISHes of one session all carry distinct aliases).
#[test]
fn publisher_track_aliases_are_distinct() {
    let mut s = session(Role::Server, Config::default());
    let mut handles = Vec::new();
    for (i, ns) in ["a", "b", "c"].into_iter().enumerate() {
        let stream = 4 * i as u64;
        handles.push((
            stream,
            incoming_subscribe(&feed(&mut s, stream, subscribe(2 * i as u64, ns, Parameters::new()))),
        ));
    }
    let mut aliases = Vec::new();
    for (stream, h) in handles {
        s.accept_subscribe(h, TrackInfo::default()).unwrap();
        let outs: Vec<Output> = std::iter::from_fn(|| s.poll()).collect();
        match messages_on(&outs, StreamId(stream)).as_slice() {
            [(_, ControlMessage::SubscribeOk(ok))] => aliases.push(ok.track_alias),
            other => panic!("{other:?}"),
        }
    }
    s.publish(sluice::TrackName::new(Namespace::from_fields(["d"]), "t"), TrackInfo::default()).unwrap();
    let outs: Vec<Output> = std::iter::from_fn(|| s.poll()).collect();
    let published: Vec<u64> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Write { header, .. } => {
                let bytes = header.clone().into_bytes();
                let mut r = Reader::new(&bytes);
                match ControlMessage::decode(&mut r, D18) {
                    Ok(ControlMessage::Publish(p)) => Some(p.track_alias),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect();
    assert_eq!(published.len(), 1, "{outs:?}");
    aliases.extend(published);
    let mut unique = aliases.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), aliases.len(), "aliases {aliases:?}");
}

/// §10.2.2 AUTHORIZATION TOKEN: a REGISTER that causes no session error is registered even
/// when its message fails for another reason (here the application refuses the SUBSCRIBE).
#[test]
fn registration_in_a_refused_request_stays_registered() {
    let cfg = Config { max_auth_token_cache: 100, ..Config::default() };
    let mut s = session(Role::Server, cfg);
    let register = Token::Register { alias: 7, token_type: 0, value: Bytes::from_static(b"tok") };
    let h = incoming_subscribe(&feed(
        &mut s,
        0,
        subscribe(0, "a", Parameters(vec![Parameter::AuthorizationToken(register)])),
    ));
    s.reject(h, RequestErrorCode::UNAUTHORIZED.0, "no").unwrap();
    let outs: Vec<Output> = std::iter::from_fn(|| s.poll()).collect();
    assert!(
        matches!(messages_on(&outs, StreamId(0)).as_slice(), [(_, ControlMessage::RequestError(e))] if e.code == RequestErrorCode::UNAUTHORIZED),
        "{outs:?}"
    );
    let use_alias = Parameters(vec![Parameter::AuthorizationToken(Token::UseAlias { alias: 7 })]);
    let outs = feed(&mut s, 4, subscribe(2, "b", use_alias));
    assert_eq!(close_code(&outs), None);
    incoming_subscribe(&outs);
}

/// §3.2.1 Reserved Namespaces: a request for an unrecognized reserved namespace (first field
/// starting with `.`) is passed to the application.
#[test]
fn unrecognized_reserved_namespace_reaches_the_application() {
    let mut s = session(Role::Server, Config::default());
    let outs = feed(&mut s, 0, subscribe(0, ".future", Parameters::new()));
    assert_eq!(close_code(&outs), None);
    match outs.iter().find_map(|o| match o {
        Output::Event(Event::IncomingSubscribe { track, .. }) => Some(track.clone()),
        _ => None,
    }) {
        Some(t) => assert_eq!(t, sluice::TrackName::new(Namespace::from_fields([".future"]), "t")),
        None => panic!("{outs:?}"),
    }
}

/// §10.3.1 AUTHORITY / PATH: a server never sends them, even when configured.
#[test]
fn server_setup_carries_no_path_or_authority() {
    let cfg = Config { path: Some("/p".into()), authority: Some("example.com".into()), ..Config::default() };
    let mut s = Session::new(cfg, Role::Server, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(D18) });
    let outs: Vec<Output> = std::iter::from_fn(|| s.poll()).collect();
    let setups: Vec<Setup> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Write { header, .. } => {
                match ControlMessage::decode(&mut Reader::new(&header.clone().into_bytes()), D18) {
                    Ok(ControlMessage::Setup(setup)) => Some(setup),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect();
    assert_eq!(setups.len(), 1, "{outs:?}");
    assert!(setups[0].get(SetupOptionType::PATH).is_none(), "{:?}", setups[0]);
    assert!(setups[0].get(SetupOptionType::AUTHORITY).is_none(), "{:?}", setups[0]);
}

/// "Reserved Namespaces", "Session-Level Tracks and Namespaces": requests naming the `.`
/// namespace, or any `.session` track or namespace (none is implemented; the empty track
/// name included), are refused by the engine with DOES_NOT_EXIST and never reach the
/// application; the application may not publish or announce under a reserved namespace.
#[test]
fn dot_and_session_namespaces_are_refused_with_does_not_exist() {
    use sluice_wire::moqt::location::Location as WireLocation;
    use sluice_wire::moqt::message::{Fetch, FetchKind, PublishNamespace, SubscribeNamespace, TrackStatus};
    let ns = |f: &'static str| TrackNamespace::from_fields([f]);
    let full = |f: &'static str, name: &'static [u8]| FullTrackName::new(ns(f), Bytes::from_static(name));
    let requests: Vec<(&str, Vec<u8>)> = vec![
        ("SUBSCRIBE .", subscribe(0, ".", Parameters::new())),
        ("SUBSCRIBE .session/t", subscribe(0, ".session", Parameters::new())),
        (
            "SUBSCRIBE .session with an empty name",
            enc(&Subscribe { request_id: 0, track: full(".session", b""), parameters: Parameters::new() }),
        ),
        (
            "TRACK_STATUS .",
            enc(&TrackStatus { request_id: 0, track: full(".", b"t"), parameters: Parameters::new() }),
        ),
        (
            "FETCH .session",
            enc(&Fetch {
                request_id: 0,
                kind: FetchKind::Standalone {
                    track: full(".session", b"t"),
                    start: WireLocation { group: 0, object: 0 },
                    end: WireLocation { group: 1, object: 0 },
                },
                parameters: Parameters::new(),
            }),
        ),
        (
            "PUBLISH_NAMESPACE .",
            enc(&PublishNamespace { request_id: 0, namespace: ns("."), parameters: Parameters::new() }),
        ),
        (
            "SUBSCRIBE_NAMESPACE .session",
            enc(&SubscribeNamespace { request_id: 0, prefix: ns(".session"), parameters: Parameters::new() }),
        ),
    ];
    for (what, bytes) in requests {
        let mut s = session(Role::Server, Config::default());
        let outs = feed(&mut s, 0, bytes);
        assert_eq!(close_code(&outs), None, "{what}");
        assert!(!outs.iter().any(|o| matches!(o, Output::Event(_))), "{what}: {outs:?}");
        match messages_on(&outs, StreamId(0)).as_slice() {
            [(_, ControlMessage::RequestError(e))] => {
                assert_eq!(e.code, RequestErrorCode::DOES_NOT_EXIST, "{what}")
            }
            other => panic!("{what}: {other:?}"),
        }
        assert!(
            outs.iter().any(|o| matches!(o, Output::Write { stream: StreamId(0), fin: true, .. })),
            "{what}"
        );
    }
    // The application cannot publish or announce under a reserved namespace.
    let mut s = session(Role::Server, Config::default());
    for first in [".", ".session", ".future"] {
        let refused = Err(sluice::CommandError::InvalidState("reserved namespace"));
        assert_eq!(s.announce(Namespace::from_fields([first])), refused);
        let track = sluice::TrackName::new(Namespace::from_fields([first, "x"]), "t");
        assert_eq!(s.publish(track, TrackInfo::default()), refused);
    }
    assert!(s.announce(Namespace::from_fields(["x."])).is_ok());
}

/// "Reserved Namespaces" (`.` may not be used for any purpose) and "Session-Level Tracks
/// and Namespaces" (managed by the implementation, not the application): our own
/// SUBSCRIBE, FETCH, TRACK_STATUS, SUBSCRIBE_NAMESPACE and SUBSCRIBE_TRACKS naming either
/// are refused before anything is sent; other reserved namespaces go out.
#[test]
fn our_requests_for_dot_and_session_namespaces_are_not_sent() {
    let refused = Err(sluice::CommandError::InvalidState("reserved namespace"));
    for first in [".", ".session"] {
        let mut s = session(Role::Client, Config::default());
        let ns = Namespace::from_fields([first, "x"]);
        let track = sluice::TrackName::new(ns.clone(), "t");
        let at = |group| sluice::Location { group, object: 0 };
        assert_eq!(s.subscribe(track.clone(), sluice::SubscribeOptions::default()), refused);
        assert_eq!(s.fetch(track.clone(), at(0), at(1), 0), refused);
        assert_eq!(s.track_status(track), refused);
        assert_eq!(s.discover(ns.clone()), refused);
        assert_eq!(s.discover_tracks(ns), refused);
        assert!(s.poll().is_none(), "nothing was sent for {first}");
    }
    let mut s = session(Role::Client, Config::default());
    let future = sluice::TrackName::new(Namespace::from_fields([".future"]), "t");
    assert!(s.subscribe(future, sluice::SubscribeOptions::default()).is_ok());
}

/// The peer may not publish under `.`, and `.session` namespaces are not the
/// application's: NAMESPACE / NAMESPACE_DONE naming them are not surfaced (and a
/// NAMESPACE_DONE for one is not "before its NAMESPACE").
#[test]
fn peer_namespaces_under_dot_or_session_are_not_surfaced() {
    use sluice_wire::moqt::kvp::Properties;
    use sluice_wire::moqt::message::{NamespaceDone, RequestOk};
    let mut s = session(Role::Client, Config::default());
    let d = s.discover(Namespace::default()).unwrap();
    let outs: Vec<Output> = std::iter::from_fn(|| s.poll()).collect();
    let stream = outs
        .iter()
        .find_map(|o| match o {
            Output::OpenStream { stream, bidi: true, .. } => Some(*stream),
            _ => None,
        })
        .unwrap();
    s.handle(Time::ZERO, Input::StreamOpenResult { stream, opened: true });
    let ns = |fields: &[&'static str]| TrackNamespace::from_fields(fields.iter().copied());
    let mut bytes = enc(&RequestOk { parameters: Parameters::new(), track_properties: Properties::empty() });
    bytes.extend(enc(&NamespaceMsg { suffix: ns(&[".session", "x"]) }));
    bytes.extend(enc(&NamespaceMsg { suffix: ns(&["."]) }));
    bytes.extend(enc(&NamespaceMsg { suffix: ns(&["live"]) }));
    bytes.extend(enc(&NamespaceDone { suffix: ns(&[".session", "x"]) }));
    s.handle(Time::ZERO, Input::StreamData { stream, data: Bytes::from(bytes) });
    let outs: Vec<Output> = std::iter::from_fn(|| s.poll()).collect();
    assert_eq!(close_code(&outs), None, "{outs:?}");
    let events: Vec<&Event> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(
        events,
        vec![&Event::NamespaceFound { request: d, namespace: Namespace::from_fields(["live"]) }]
    );
}

/// §10.12 "Fetch Handling": End Location must not precede Start Location (an End object of
/// 0 covers the whole End group). `fetch` refuses it; a peer's is answered with
/// REQUEST_ERROR INVALID_RANGE and never reaches the application.
#[test]
fn fetch_end_before_start_is_refused_both_ways() {
    use sluice_wire::moqt::location::Location as WireLocation;
    use sluice_wire::moqt::message::{Fetch, FetchKind};
    let loc = |group, object| sluice::Location { group, object };
    let track = || sluice::TrackName::new(Namespace::from_fields(["a"]), "t");
    let mut c = session(Role::Client, Config::default());
    assert_eq!(
        c.fetch(track(), loc(5, 3), loc(5, 2), 0),
        Err(sluice::CommandError::InvalidState("fetch End Location before its Start Location"))
    );
    assert!(c.poll().is_none());
    assert!(c.fetch(track(), loc(5, 3), loc(5, 0), 0).is_ok(), "End object 0 = the whole group 5");
    let fetch = |start: (u64, u64), end: (u64, u64)| {
        enc(&Fetch {
            request_id: 0,
            kind: FetchKind::Standalone {
                track: FullTrackName::new(TrackNamespace::from_fields(["a"]), Bytes::from_static(b"t")),
                start: WireLocation { group: start.0, object: start.1 },
                end: WireLocation { group: end.0, object: end.1 },
            },
            parameters: Parameters::new(),
        })
    };
    let mut s = session(Role::Server, Config::default());
    let outs = feed(&mut s, 0, fetch((5, 3), (4, 9)));
    let answers = messages_on(&outs, StreamId(0));
    assert!(
        matches!(answers.as_slice(), [(_, ControlMessage::RequestError(e))] if e.code == RequestErrorCode::INVALID_RANGE),
        "{answers:?}"
    );
    assert!(!outs.iter().any(|o| matches!(o, Output::Event(Event::IncomingFetch { .. }))));
    let mut s = session(Role::Server, Config::default());
    let outs = feed(&mut s, 0, fetch((5, 3), (5, 0)));
    assert!(outs.iter().any(|o| matches!(o, Output::Event(Event::IncomingFetch { .. }))), "{outs:?}");
}

/// "Closing Subgroup Streams": a sender that ends a stream early for a reason other than
/// the end of its subgroup resets it. When the subscriber cancels (resets its request
/// stream), the publisher resets every subgroup stream still open for that subscription
/// with CANCELLED, and writes nothing more on it.
#[test]
fn subgroup_streams_of_a_cancelled_subscription_are_reset() {
    use sluice_wire::moqt::codes::StreamResetCode;
    let mut s = session(Role::Server, Config::default());
    let outs = feed(&mut s, 0, subscribe(0, "a", Parameters::new()));
    let r = incoming_subscribe(&outs);
    s.accept_subscribe(r, TrackInfo::default()).unwrap();
    let open = s.open_subgroup(r, 0, 0, None).unwrap();
    s.write_object(open, ObjectWrite::new(0, Bytes::from_static(b"x"))).unwrap();
    let done = s.open_subgroup(r, 1, 0, None).unwrap();
    s.write_object(done, ObjectWrite::new(0, Bytes::from_static(b"y"))).unwrap();
    s.close_subgroup(done, false).unwrap();
    while s.poll().is_some() {}
    s.handle(
        Time::ZERO,
        Input::StreamReset { stream: StreamId(0), code: RequestErrorCode::INTERNAL_ERROR.0 },
    );
    let outs: Vec<Output> = std::iter::from_fn(|| s.poll()).collect();
    let resets: Vec<(StreamId, u64)> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Reset { stream, code } if *stream == open || *stream == done => Some((*stream, *code)),
            _ => None,
        })
        .collect();
    assert_eq!(resets, vec![(open, StreamResetCode::CANCELLED.0)], "{outs:?}");
    assert!(s.write_object(open, ObjectWrite::new(1, Bytes::from_static(b"z"))).is_err());
}

/// "Joining Fetches": a publisher applies a REQUEST_UPDATE of the subscription that
/// arrived before a Joining Fetch first. Here the update stops forwarding, so the fetch
/// is refused with INVALID_RANGE; without the update the same fetch is served.
#[test]
fn joining_fetch_sees_the_update_that_preceded_it() {
    use sluice_wire::moqt::message::{Fetch, FetchKind};
    for with_update in [false, true] {
        let mut s = session(Role::Server, Config::default());
        let outs = feed(&mut s, 0, subscribe(0, "a", Parameters::new()));
        let r = incoming_subscribe(&outs);
        let info =
            TrackInfo { largest: Some(sluice::Location { group: 10, object: 5 }), ..TrackInfo::default() };
        s.accept_subscribe(r, info).unwrap();
        while s.poll().is_some() {}
        if with_update {
            let update =
                RequestUpdate { request_id: 2, parameters: Parameters(vec![Parameter::Forward(false)]) };
            s.handle(Time::ZERO, Input::StreamData { stream: StreamId(0), data: Bytes::from(enc(&update)) });
        }
        let fetch = enc(&Fetch {
            request_id: 4,
            kind: FetchKind::RelativeJoining { joining_request_id: 0, joining_start: 1 },
            parameters: Parameters::new(),
        });
        let outs = feed(&mut s, 4, fetch);
        let refused = messages_on(&outs, StreamId(4)).iter().any(
            |(_, m)| matches!(m, ControlMessage::RequestError(e) if e.code == RequestErrorCode::INVALID_RANGE),
        );
        let served = outs.iter().any(|o| matches!(o, Output::Event(Event::IncomingFetch { .. })));
        assert_eq!((refused, served), (with_update, !with_update), "{outs:?}");
    }
}

/// §SUBSCRIPTION FILTER Parameter: "If omitted from SUBSCRIBE or PUBLISH_OK, the
/// subscription is unfiltered", which §Subscription Filters equates with AbsoluteStart
/// {0, 0}. moq-net (moq-native 0.19.19) subscribes that way on draft-18; reading it as
/// Largest Object made a relay deliver nothing published before the SUBSCRIBE.
#[test]
fn a_subscribe_without_a_filter_is_unfiltered() {
    use sluice::{Filter, Location};
    let filter_of = |params: Parameters| {
        let mut s = session(Role::Server, Config::default());
        feed(&mut s, 0, subscribe(0, "a", params)).iter().find_map(|o| match o {
            Output::Event(Event::IncomingSubscribe { options, .. }) => Some(options.filter),
            _ => None,
        })
    };
    assert_eq!(filter_of(Parameters::new()), Some(Filter::AbsoluteStart(Location { group: 0, object: 0 })));
    let largest = sluice_wire::moqt::filter::SubscriptionFilter::LargestObject;
    assert_eq!(
        filter_of(Parameters(vec![Parameter::SubscriptionFilter(largest)])),
        Some(Filter::LargestObject),
        "an explicit filter still applies"
    );
}
