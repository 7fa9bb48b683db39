//! REQUEST_ERROR retry interval and REDIRECT (draft-18 §10.6 "REQUEST_ERROR", §10.6.1
//! "Redirect Structure") end to end through `sluice_sim::Pair`: `Session::reject_with` on
//! the responder, `Event::RetryAdvice` before the terminal event at the requester.

use std::time::Duration;

use bytes::Bytes;
use sluice::{
    CommandError, Config, Event, Input, LiteVersion, MoqtVersion, Namespace, Output, Reason, Redirect,
    Rejection, RequestHandle, Role, Session, StreamId, SubscribeOptions, Time, TrackName, Version,
};
use sluice_sim::{Pair, Side};
use sluice_wire::moqt::codes::{RequestErrorCode, SessionErrorCode};
use sluice_wire::moqt::message::{Redirect as WireRedirect, RequestError};
use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
use sluice_wire::moqt::reason::ReasonPhrase;
use sluice_wire::moqt::setup::Setup;
use sluice_wire::{Encode, EncodeError, Violation};

fn pair(version: Version) -> Pair {
    let mut p = Pair::new(version, Config::default(), Config::default());
    p.take_events(Side::Client);
    p.take_events(Side::Server);
    p
}

fn track() -> TrackName {
    TrackName::new(Namespace::from_fields(["live", "room"]), "video")
}

/// The client subscribes; returns (client handle, server handle of the incoming request).
fn incoming(p: &mut Pair) -> (RequestHandle, RequestHandle) {
    let s = p.client.subscribe(track(), SubscribeOptions::default()).unwrap();
    p.run();
    match p.take_events(Side::Server).as_slice() {
        [Event::IncomingSubscribe { request, .. }] => (s, *request),
        other => panic!("expected IncomingSubscribe, got {other:?}"),
    }
}

#[test]
fn redirect_with_retry_interval_reaches_the_subscriber_before_the_failure() {
    let mut p = pair(Version::Moqt(MoqtVersion::Draft18));
    let before = (p.client.table_sizes(), p.server.table_sizes());
    let (s, r) = incoming(&mut p);
    let elsewhere = TrackName::new(Namespace::from_fields(["live", "room-2"]), "video");
    let redirect = Redirect { uri: Bytes::from_static(b"moqt://relay-2.example:443/live"), track: elsewhere };
    let rejection = Rejection {
        code: RequestErrorCode::REDIRECT.0,
        reason: "moved".into(),
        retry_after: Some(Duration::from_millis(1500)),
        redirect: Some(redirect.clone()),
    };
    p.server.reject_with(r, rejection).unwrap();
    p.run();
    assert_eq!(
        p.take_events(Side::Client),
        vec![
            Event::RetryAdvice {
                request: s,
                retry_after: Some(Duration::from_millis(1500)),
                redirect: Some(Box::new(redirect))
            },
            Event::SubscribeFailed {
                request: s,
                reason: Reason { code: RequestErrorCode::REDIRECT.0, text: "moved".into() }
            },
        ]
    );
    // Both sides forgot the request.
    assert_eq!((p.client.table_sizes(), p.server.table_sizes()), before);
}

#[test]
fn retry_at_once_is_a_zero_interval_and_plain_rejects_carry_no_advice() {
    let mut p = pair(Version::Moqt(MoqtVersion::Draft18));
    let (s, r) = incoming(&mut p);
    let rejection = Rejection { retry_after: Some(Duration::ZERO), ..Rejection::new(0x9, "busy") };
    p.server.reject_with(r, rejection).unwrap();
    p.run();
    let events = p.take_events(Side::Client);
    assert_eq!(
        events[0],
        Event::RetryAdvice { request: s, retry_after: Some(Duration::ZERO), redirect: None }
    );

    let (s, r) = incoming(&mut p);
    p.server.reject(r, 0x10, "no such track").unwrap();
    p.run();
    assert_eq!(
        p.take_events(Side::Client),
        vec![Event::SubscribeFailed {
            request: s,
            reason: Reason { code: 0x10, text: "no such track".into() }
        }]
    );
}

#[test]
fn a_redirect_needs_the_redirect_code_and_nothing_is_sent_otherwise() {
    let mut p = pair(Version::Moqt(MoqtVersion::Draft18));
    let (_, r) = incoming(&mut p);
    let rejection = Rejection {
        redirect: Some(Redirect { uri: Bytes::new(), track: TrackName::default() }),
        ..Rejection::new(0x10, "x")
    };
    assert_eq!(
        p.server.reject_with(r, rejection),
        Err(CommandError::Encode(EncodeError::Invalid(Violation::RedirectMismatch)))
    );
    assert_eq!(p.server.poll(), None, "a refused command sends nothing");
    // The request is still pending and can be answered properly.
    p.server.reject(r, 0x10, "x").unwrap();
}

#[test]
fn moq_lite_cannot_carry_retry_advice() {
    for v in [LiteVersion::Lite04, LiteVersion::Lite05] {
        let mut p = pair(Version::Lite(v));
        let (_, r) = incoming(&mut p);
        let rejection = Rejection { retry_after: Some(Duration::from_secs(1)), ..Rejection::new(3, "later") };
        assert_eq!(
            p.server.reject_with(r, rejection),
            Err(CommandError::Unsupported { what: "retry interval / redirect", version: Version::Lite(v) })
        );
        // Without advice it is an ordinary reject.
        p.server.reject_with(r, Rejection::new(3, "later")).unwrap();
        p.run();
        assert!(
            matches!(p.take_events(Side::Client).as_slice(), [Event::SubscribeFailed { reason, .. }] if reason.code == 3)
        );
    }
}

/// A session of `role` whose peer has sent its SETUP, with one request of ours open; returns
/// the session and the request's stream.
fn with_request(role: Role, request: impl FnOnce(&mut Session)) -> (Session, StreamId) {
    let d18 = MoqtVersion::Draft18;
    let mut s = Session::new(Config::default(), role, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(d18) });
    let peer_control = StreamId(3);
    s.handle(Time::ZERO, Input::StreamOpened { stream: peer_control, bidi: false });
    let setup = Setup::default().encode_to_vec(d18).unwrap();
    s.handle(Time::ZERO, Input::StreamData { stream: peer_control, data: setup.into() });
    while s.poll().is_some() {}
    request(&mut s);
    let mut stream = None;
    while let Some(o) = s.poll() {
        if let Output::OpenStream { stream: id, bidi: true, .. } = o {
            stream = Some(id);
        }
    }
    let stream = stream.expect("the request opened a bidi stream");
    s.handle(Time::ZERO, Input::StreamOpenResult { stream, opened: true });
    while s.poll().is_some() {}
    (s, stream)
}

fn redirect_error(uri: &'static [u8], name: &'static [u8]) -> Bytes {
    let e = RequestError {
        code: RequestErrorCode::REDIRECT,
        retry_interval: 0,
        reason: ReasonPhrase(Bytes::new()),
        redirect: Some(WireRedirect {
            connect_uri: Bytes::from_static(uri),
            track: FullTrackName::new(TrackNamespace::from_fields(["x"]), Bytes::from_static(name)),
        }),
    };
    e.encode_to_vec(MoqtVersion::Draft18).unwrap().into()
}

fn close_code(s: &mut Session) -> Option<u64> {
    std::iter::from_fn(|| s.poll()).find_map(|o| match o {
        Output::Close { code, .. } => Some(code),
        _ => None,
    })
}

/// §10.6.1: a server receiving a Redirect with a Connect URI closes with PROTOCOL_VIOLATION;
/// a client may receive one.
#[test]
fn a_connect_uri_in_a_redirect_to_a_server_is_a_protocol_violation() {
    let subscribe = |s: &mut Session| {
        s.subscribe(track(), SubscribeOptions::default()).unwrap();
    };
    let (mut server, stream) = with_request(Role::Server, subscribe);
    server.handle(Time::ZERO, Input::StreamData { stream, data: redirect_error(b"moqt://x", b"t") });
    assert_eq!(close_code(&mut server), Some(SessionErrorCode::PROTOCOL_VIOLATION.0));

    let (mut client, stream) = with_request(Role::Client, subscribe);
    client.handle(Time::ZERO, Input::StreamData { stream, data: redirect_error(b"moqt://x", b"t") });
    assert_eq!(close_code(&mut client), None);
    assert!(!client.is_closed());
}

/// §10.6.1: a Track Name in a Redirect for a namespace-scoped request is a protocol
/// violation, and sluice never sends one.
#[test]
fn a_track_name_in_a_namespace_redirect_is_a_protocol_violation() {
    let discover = |s: &mut Session| {
        s.discover(Namespace::from_fields(["x"])).unwrap();
    };
    let (mut client, stream) = with_request(Role::Client, discover);
    client.handle(Time::ZERO, Input::StreamData { stream, data: redirect_error(b"", b"t") });
    assert_eq!(close_code(&mut client), Some(SessionErrorCode::PROTOCOL_VIOLATION.0));

    let (mut client, stream) = with_request(Role::Client, discover);
    client.handle(Time::ZERO, Input::StreamData { stream, data: redirect_error(b"", b"") });
    assert_eq!(close_code(&mut client), None);

    // Our own refusals obey the same rules.
    let mut p = pair(Version::Moqt(MoqtVersion::Draft18));
    p.client.announce(Namespace::from_fields(["x"])).unwrap();
    p.run();
    let Some(Event::IncomingAnnounce { request, .. }) = p.take_events(Side::Server).first().cloned() else {
        panic!("expected IncomingAnnounce")
    };
    let named = Rejection {
        redirect: Some(Redirect { uri: Bytes::new(), track: track() }),
        ..Rejection::new(RequestErrorCode::REDIRECT.0, "")
    };
    assert_eq!(
        p.server.reject_with(request, named),
        Err(CommandError::InvalidState("a namespace request's Redirect carries no Track Name"))
    );
    let (_, r) = incoming(&mut p);
    let elsewhere = Rejection {
        redirect: Some(Redirect { uri: Bytes::from_static(b"moqt://y"), track: TrackName::default() }),
        ..Rejection::new(RequestErrorCode::REDIRECT.0, "")
    };
    // The server may name a URI (it is the client that may not).
    assert_eq!(p.server.reject_with(r, elsewhere), Ok(()));
}
