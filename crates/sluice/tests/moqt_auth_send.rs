//! Sending AUTHORIZATION_TOKENs (draft-18 §10.2.2) through `Session::authorized`, the
//! sender-side alias rules, and the receiver's `Event::Authorization` hook, end to end
//! through `sluice_sim::Pair`.

use bytes::Bytes;
use sluice::{
    AuthToken, CommandError, Config, Event, LiteVersion, Location, MoqtVersion, Namespace, PresentedToken,
    Reason, RequestHandle, SubscribeOptions, TrackInfo, TrackName, Version,
};
use sluice_sim::{Pair, Side};
use sluice_wire::moqt::codes::RequestErrorCode;

const D18: Version = Version::Moqt(MoqtVersion::Draft18);

/// A draft-18 pair whose server (the token receiver) offers `cache` bytes of alias cache.
fn pair(cache: u64) -> Pair {
    let server = Config { max_auth_token_cache: cache, ..Config::default() };
    let mut p = Pair::new(D18, Config::default(), server);
    p.take_events(Side::Client);
    p.take_events(Side::Server);
    p
}

fn track(name: &str) -> TrackName {
    TrackName::new(Namespace::from_fields(["live"]), name)
}

fn value(v: &'static [u8]) -> AuthToken {
    AuthToken::UseValue { token_type: 0, value: Bytes::from_static(v) }
}

fn register(alias: u64, v: &'static [u8]) -> AuthToken {
    AuthToken::Register { alias, token_type: 0, value: Bytes::from_static(v) }
}

fn presented(v: &'static [u8]) -> PresentedToken {
    PresentedToken { token_type: 0, value: Bytes::from_static(v) }
}

/// The server's events: (handle, tokens) of the Authorization event, then the request's.
fn authorization_then(p: &mut Pair) -> (RequestHandle, Vec<PresentedToken>, Event) {
    match p.take_events(Side::Server).as_slice() {
        [Event::Authorization { request, tokens }, next] => (*request, tokens.clone(), next.clone()),
        other => panic!("expected Authorization then the request, got {other:?}"),
    }
}

#[test]
fn use_value_token_reaches_the_publisher_which_rejects_unauthorized() {
    let mut p = pair(0);
    let s = p
        .client
        .authorized(vec![value(b"secret")])
        .subscribe(track("a"), SubscribeOptions::default())
        .unwrap();
    p.run();
    let (r, tokens, next) = authorization_then(&mut p);
    assert_eq!(tokens, vec![presented(b"secret")]);
    assert!(matches!(next, Event::IncomingSubscribe { request, .. } if request == r), "{next:?}");
    p.server.reject(r, RequestErrorCode::UNAUTHORIZED.0, "no").unwrap();
    p.run();
    assert_eq!(
        p.take_events(Side::Client),
        vec![Event::SubscribeFailed {
            request: s,
            reason: Reason { code: RequestErrorCode::UNAUTHORIZED.0, text: "no".into() }
        }]
    );
}

#[test]
fn malformed_token_is_answered_with_malformed_auth_token() {
    let mut p = pair(0);
    let f = p
        .client
        .authorized(vec![value(b"\xff")])
        .fetch(track("a"), Location { group: 0, object: 0 }, Location { group: 1, object: 0 }, 0)
        .unwrap();
    p.run();
    let (r, tokens, next) = authorization_then(&mut p);
    assert_eq!(tokens, vec![presented(b"\xff")]);
    assert!(matches!(next, Event::IncomingFetch { request, .. } if request == r));
    p.server.reject(r, RequestErrorCode::MALFORMED_AUTH_TOKEN.0, "bad token").unwrap();
    p.run();
    assert_eq!(
        p.take_events(Side::Client),
        vec![Event::FetchEnded {
            request: f,
            reason: Reason { code: RequestErrorCode::MALFORMED_AUTH_TOKEN.0, text: "bad token".into() }
        }]
    );
}

#[test]
fn every_request_kind_that_allows_a_token_carries_it() {
    let mut p = pair(0);
    let c = &mut p.client;
    c.authorized(vec![value(b"1")]).announce(Namespace::from_fields(["n1"])).unwrap();
    c.authorized(vec![value(b"2")]).discover(Namespace::from_fields(["n2"])).unwrap();
    c.authorized(vec![value(b"3")]).discover_tracks(Namespace::from_fields(["n3"])).unwrap();
    c.authorized(vec![value(b"4")]).track_status(track("t4")).unwrap();
    c.authorized(vec![value(b"5")]).publish(track("t5"), TrackInfo::default()).unwrap();
    p.run();
    let events = p.take_events(Side::Server);
    let mut seen: Vec<PresentedToken> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if let Event::Authorization { tokens, .. } = e {
            // Never two in a row: each precedes its request's event (or the next request's
            // Authorization, for SUBSCRIBE_NAMESPACE, which the engine answers itself).
            assert!(
                i + 1 == events.len()
                    || tokens[0].value.as_ref() == b"2"
                    || !matches!(events[i + 1], Event::Authorization { .. })
            );
            seen.extend(tokens.iter().cloned());
        }
    }
    seen.sort_by(|a, b| a.value.cmp(&b.value));
    assert_eq!(
        seen,
        vec![presented(b"1"), presented(b"2"), presented(b"3"), presented(b"4"), presented(b"5")]
    );
}

#[test]
fn token_in_request_update_is_presented_before_the_update() {
    let mut p = pair(0);
    let s = p.client.subscribe(track("a"), SubscribeOptions::default()).unwrap();
    p.run();
    let r = match p.take_events(Side::Server).as_slice() {
        [Event::IncomingSubscribe { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    p.server.accept_subscribe(r, TrackInfo::default()).unwrap();
    p.run();
    p.take_events(Side::Client);
    let options = SubscribeOptions { priority: 7, ..SubscribeOptions::default() };
    p.client.authorized(vec![value(b"again")]).update_subscription(s, options).unwrap();
    p.run();
    let (request, tokens, next) = authorization_then(&mut p);
    assert_eq!((request, tokens), (r, vec![presented(b"again")]));
    assert!(
        matches!(next, Event::SubscribeUpdated { request, options } if request == r && options.priority == 7)
    );
}

#[test]
fn use_alias_waits_for_the_answer_to_its_register_then_resolves_at_the_peer() {
    let mut p = pair(100);
    // The REGISTER goes out with a SUBSCRIBE the server has not answered yet.
    p.client
        .authorized(vec![register(1, b"tok")])
        .subscribe(track("a"), SubscribeOptions::default())
        .unwrap();
    assert_eq!(
        p.client.authorized(vec![AuthToken::UseAlias { alias: 1 }]).track_status(track("b")),
        Err(CommandError::InvalidState("token alias registration not yet answered"))
    );
    p.run();
    let (r, tokens, _) = authorization_then(&mut p);
    assert_eq!(tokens, vec![presented(b"tok")]);
    p.server.accept_subscribe(r, TrackInfo::default()).unwrap();
    p.run();
    // Answered: USE_ALIAS on another request stream is allowed and resolves to the value.
    p.client.authorized(vec![AuthToken::UseAlias { alias: 1 }]).track_status(track("b")).unwrap();
    p.run();
    let (_, tokens, next) = authorization_then(&mut p);
    assert_eq!(tokens, vec![presented(b"tok")]);
    assert!(matches!(next, Event::IncomingTrackStatus { .. }));
    assert!(!p.server.is_closed() && !p.client.is_closed());
}

#[test]
fn registration_past_the_peers_cache_is_refused_and_nothing_is_sent() {
    // The draft's default cache size 0 forbids every registration.
    let mut p = pair(0);
    assert_eq!(
        p.client.authorized(vec![register(1, b"abcd")]).discover(Namespace::from_fields(["x"])),
        Err(CommandError::Limit("peer MAX_AUTH_TOKEN_CACHE_SIZE"))
    );
    assert!(p.client.poll().is_none(), "nothing was sent");
    // 16 + 4 = 20 bytes fit a 20-byte cache exactly; a second entry does not.
    let mut p = pair(20);
    p.client.authorized(vec![register(1, b"abcd")]).discover(Namespace::from_fields(["x"])).unwrap();
    p.run();
    assert_eq!(
        p.client.authorized(vec![register(2, b"")]).discover(Namespace::from_fields(["y"])),
        Err(CommandError::Limit("peer MAX_AUTH_TOKEN_CACHE_SIZE"))
    );
    assert!(p.client.poll().is_none(), "nothing was sent");
    assert!(!p.server.is_closed());
}

#[test]
fn delete_waits_for_unanswered_uses_and_frees_the_peers_cache() {
    let mut p = pair(20);
    p.client.authorized(vec![register(1, b"abcd")]).discover(Namespace::from_fields(["x"])).unwrap();
    p.run(); // SUBSCRIBE_NAMESPACE is answered by the server's engine at once
    p.take_events(Side::Server);
    p.client
        .authorized(vec![AuthToken::UseAlias { alias: 1 }])
        .subscribe(track("a"), SubscribeOptions::default())
        .unwrap();
    assert_eq!(
        p.client.authorized(vec![AuthToken::Delete { alias: 1 }]).track_status(track("b")),
        Err(CommandError::InvalidState("token alias used by an unanswered request"))
    );
    p.run();
    let (r, _, _) = authorization_then(&mut p);
    p.server.reject(r, RequestErrorCode::UNAUTHORIZED.0, "").unwrap();
    p.run();
    // Answered (even with an error): DELETE is allowed, and frees the 20 bytes, so a new
    // registration in the same message fits the peer's cache.
    p.client
        .authorized(vec![AuthToken::Delete { alias: 1 }, register(2, b"wxyz")])
        .track_status(track("b"))
        .unwrap();
    p.run();
    let (_, tokens, _) = authorization_then(&mut p);
    assert_eq!(tokens, vec![presented(b"wxyz")]);
    assert!(!p.server.is_closed(), "the server's cache did not overflow");
}

#[test]
fn duplicate_unknown_and_repeated_tokens_are_refused() {
    let mut p = pair(100);
    p.client.authorized(vec![register(1, b"a")]).discover(Namespace::from_fields(["x"])).unwrap();
    p.run();
    let ns = || Namespace::from_fields(["y"]);
    assert_eq!(
        p.client.authorized(vec![register(1, b"b")]).discover(ns()),
        Err(CommandError::InvalidState("token alias already registered"))
    );
    assert_eq!(
        p.client.authorized(vec![AuthToken::UseAlias { alias: 9 }]).discover(ns()),
        Err(CommandError::InvalidState("token alias not registered"))
    );
    assert_eq!(
        p.client.authorized(vec![AuthToken::Delete { alias: 9 }]).discover(ns()),
        Err(CommandError::InvalidState("token alias not registered"))
    );
    // Alias 1 resolves to "a": using it next to the value "a" repeats the same token.
    assert_eq!(
        p.client.authorized(vec![AuthToken::UseAlias { alias: 1 }, value(b"a")]).discover(ns()),
        Err(CommandError::InvalidState("the same authorization token twice"))
    );
    assert!(p.client.poll().is_none(), "nothing was sent");
}

#[test]
fn lite_sessions_cannot_carry_tokens() {
    for v in [LiteVersion::Lite04, LiteVersion::Lite05] {
        let mut p = Pair::new(Version::Lite(v), Config::default(), Config::default());
        p.take_events(Side::Client);
        assert_eq!(
            p.client.authorized(vec![value(b"x")]).subscribe(track("a"), SubscribeOptions::default()),
            Err(CommandError::Unsupported { what: "authorization tokens", version: Version::Lite(v) })
        );
        // Without tokens the same view is the plain command.
        assert!(p.client.authorized(vec![]).subscribe(track("a"), SubscribeOptions::default()).is_ok());
    }
}
