//! More draft-18 rules checked against the session, each cited by a row of
//! `docs/traceability/draft-18.md`: namespace subscriptions held for the application's
//! authorization (§10.19, §10.21), the PATH / AUTHORITY setup options and `moqt://` URIs
//! (§3.1.2, §10.3.1), token aliases kept after an expired token (§10.2.1.1), and
//! subscription state kept until PUBLISH_DONE (§10.11). Sessions are driven with raw peer
//! bytes and their output decoded back into messages.

use bytes::Bytes;
use sluice::moqt::uri::{MoqtUri, UriError};
use sluice::{
    Config, Event, Input, MoqtVersion, Namespace, Output, PresentedToken, RequestHandle, Role, Session,
    StreamId, Time, TrackInfo, Version,
};
use sluice_wire::moqt::codes::{PublishDoneCode, RequestErrorCode, SessionErrorCode, SetupOptionType};
use sluice_wire::moqt::control::ControlMessage;
use sluice_wire::moqt::message::{RequestUpdate, Subscribe, SubscribeNamespace, SubscribeTracks};
use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
use sluice_wire::moqt::params::{Parameter, Parameters};
use sluice_wire::moqt::setup::{Setup, SetupOption};
use sluice_wire::moqt::token::Token;
use sluice_wire::{Decode, Encode, Reader};

const D18: MoqtVersion = MoqtVersion::Draft18;

fn enc<M: Encode<Version = MoqtVersion>>(m: &M) -> Vec<u8> {
    m.encode_to_vec(D18).unwrap()
}

fn drain(s: &mut Session) -> Vec<Output> {
    std::iter::from_fn(|| s.poll()).collect()
}

/// A connected session of `role` that has not yet received the peer's SETUP; returns the
/// outputs of connecting (our own SETUP among them).
fn connected(role: Role, cfg: Config) -> (Session, Vec<Output>) {
    let mut s = Session::new(cfg, role, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(D18) });
    let outs = drain(&mut s);
    (s, outs)
}

/// Feeds the peer's SETUP on its control stream; returns the outputs.
fn peer_setup(s: &mut Session, role: Role, setup: Setup) -> Vec<Output> {
    let ctl = StreamId(if role == Role::Server { 1002 } else { 1003 });
    s.handle(Time::ZERO, Input::StreamOpened { stream: ctl, bidi: false });
    s.handle(Time::ZERO, Input::StreamData { stream: ctl, data: Bytes::from(enc(&setup)) });
    drain(s)
}

/// A session of `role` past both SETUPs.
fn session(role: Role, cfg: Config) -> Session {
    let (mut s, _) = connected(role, cfg);
    let outs = peer_setup(&mut s, role, Setup::default());
    assert_eq!(close_code(&outs), None, "{outs:?}");
    s
}

/// Feeds a new peer bidi stream; returns everything the session outputs.
fn feed(s: &mut Session, stream: u64, bytes: Vec<u8>) -> Vec<Output> {
    let stream = StreamId(stream);
    s.handle(Time::ZERO, Input::StreamOpened { stream, bidi: true });
    s.handle(Time::ZERO, Input::StreamData { stream, data: Bytes::from(bytes) });
    drain(s)
}

fn more(s: &mut Session, stream: u64, bytes: Vec<u8>) -> Vec<Output> {
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId(stream), data: Bytes::from(bytes) });
    drain(s)
}

fn close_code(outs: &[Output]) -> Option<u64> {
    outs.iter().find_map(|o| match o {
        Output::Close { code, .. } => Some(*code),
        _ => None,
    })
}

fn events(outs: &[Output]) -> Vec<Event> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// The control messages the session wrote on `stream`, in order.
fn messages_on(outs: &[Output], stream: StreamId) -> Vec<ControlMessage> {
    let mut out = Vec::new();
    for o in outs {
        if let Output::Write { stream: s, header, payload, .. } = o
            && *s == stream
        {
            let mut all = header.to_vec();
            all.extend_from_slice(payload);
            let all = Bytes::from(all);
            let mut r = Reader::new(&all);
            while !r.is_empty() {
                out.push(ControlMessage::decode(&mut r, D18).unwrap());
            }
        }
    }
    out
}

/// The SETUP among `outs` (our control stream's first write).
fn our_setup(outs: &[Output]) -> Setup {
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
    setups.into_iter().next().unwrap()
}

fn ns(f: &[&str]) -> TrackNamespace {
    TrackNamespace::from_fields(f.iter().map(|x| Bytes::copy_from_slice(x.as_bytes())))
}

fn sub_ns(id: u64, prefix: &[&str]) -> Vec<u8> {
    enc(&SubscribeNamespace { request_id: id, prefix: ns(prefix), parameters: Parameters::new() })
}

fn sub_tracks(id: u64, prefix: &[&str]) -> Vec<u8> {
    enc(&SubscribeTracks { request_id: id, prefix: ns(prefix), parameters: Parameters::new() })
}

fn held() -> Config {
    Config { hold_namespace_subscriptions: true, ..Config::default() }
}

fn is_ok(m: &ControlMessage) -> bool {
    matches!(m, ControlMessage::RequestOk(_))
}

fn namespace_suffix(m: &ControlMessage) -> Option<TrackNamespace> {
    match m {
        ControlMessage::Namespace(n) => Some(n.suffix.clone()),
        _ => None,
    }
}

/// §10.19 SUBSCRIBE_NAMESPACE: with `hold_namespace_subscriptions`, the engine answers
/// nothing (no REQUEST_OK, no NAMESPACE, even for a namespace announced meanwhile) until the
/// application, told by `IncomingNamespaceSubscription`, accepts: then REQUEST_OK comes
/// first and a NAMESPACE for the matching announce follows.
#[test]
fn held_namespace_subscription_waits_for_the_applications_acceptance() {
    let mut s = session(Role::Server, held());
    let outs = feed(&mut s, 0, sub_ns(0, &["live"]));
    let h = match events(&outs).as_slice() {
        [Event::IncomingNamespaceSubscription { request, prefix }] => {
            assert_eq!(*prefix, Namespace::from_fields(["live"]));
            *request
        }
        other => panic!("{other:?}"),
    };
    assert!(messages_on(&outs, StreamId(0)).is_empty(), "{outs:?}");
    s.announce(Namespace::from_fields(["live", "cam"])).unwrap();
    let outs = drain(&mut s);
    assert!(messages_on(&outs, StreamId(0)).is_empty(), "no NAMESPACE before acceptance: {outs:?}");

    s.accept_discovery(h).unwrap();
    let msgs = messages_on(&drain(&mut s), StreamId(0));
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(is_ok(&msgs[0]), "{msgs:?}");
    assert_eq!(namespace_suffix(&msgs[1]), Some(ns(&["cam"])));
    assert!(matches!(s.accept_discovery(h), Err(sluice::CommandError::InvalidState(_))));
}

/// §10.19 / §10.21: the application refuses an unauthorized namespace subscription or
/// SUBSCRIBE_TRACKS with REQUEST_ERROR UNAUTHORIZED; the refused one never gets a NAMESPACE.
#[test]
fn held_namespace_subscriptions_can_be_refused_as_unauthorized() {
    let mut s = session(Role::Server, held());
    let outs = feed(&mut s, 0, sub_ns(0, &["a"]));
    let Some(Event::IncomingNamespaceSubscription { request: h, .. }) = events(&outs).into_iter().next()
    else {
        panic!("{outs:?}")
    };
    s.reject(h, RequestErrorCode::UNAUTHORIZED.0, "who are you").unwrap();
    let outs = drain(&mut s);
    match messages_on(&outs, StreamId(0)).as_slice() {
        [ControlMessage::RequestError(e)] => assert_eq!(e.code, RequestErrorCode::UNAUTHORIZED),
        other => panic!("{other:?}"),
    }
    s.announce(Namespace::from_fields(["a", "b"])).unwrap();
    assert!(messages_on(&drain(&mut s), StreamId(0)).is_empty());

    let outs = feed(&mut s, 4, sub_tracks(2, &["t"]));
    let h = match events(&outs).as_slice() {
        [Event::IncomingTrackDiscovery { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    assert!(messages_on(&outs, StreamId(4)).is_empty(), "held SUBSCRIBE_TRACKS answered: {outs:?}");
    s.reject(h, RequestErrorCode::UNAUTHORIZED.0, "").unwrap();
    match messages_on(&drain(&mut s), StreamId(4)).as_slice() {
        [ControlMessage::RequestError(e)] => assert_eq!(e.code, RequestErrorCode::UNAUTHORIZED),
        other => panic!("{other:?}"),
    }
}

/// §10.21 SUBSCRIBE_TRACKS held: REQUEST_OK only on acceptance; a REQUEST_UPDATE that
/// arrived while it was held is answered after it (and its new prefix re-reported).
#[test]
fn held_track_discovery_is_accepted_then_its_queued_update_answered() {
    let mut s = session(Role::Server, held());
    let outs = feed(&mut s, 0, sub_tracks(0, &["a"]));
    let Some(Event::IncomingTrackDiscovery { request: h, .. }) = events(&outs).into_iter().next() else {
        panic!("{outs:?}")
    };
    let update = enc(&RequestUpdate {
        request_id: 2,
        parameters: Parameters(vec![Parameter::TrackNamespacePrefix(ns(&["b"]))]),
    });
    let outs = more(&mut s, 0, update);
    assert!(messages_on(&outs, StreamId(0)).is_empty(), "{outs:?}");
    assert!(
        matches!(events(&outs).as_slice(), [Event::IncomingTrackDiscovery { request, prefix, .. }]
            if *request == h && *prefix == Namespace::from_fields(["b"])),
        "{outs:?}"
    );
    s.accept_discovery(h).unwrap();
    let msgs = messages_on(&drain(&mut s), StreamId(0));
    assert!(msgs.len() == 2 && msgs.iter().all(is_ok), "{msgs:?}");
}

/// The default keeps the engine's own answer: REQUEST_OK at once, no application event for
/// SUBSCRIBE_NAMESPACE, and `accept_discovery` has nothing to accept.
#[test]
fn namespace_subscriptions_are_accepted_at_once_by_default() {
    let mut s = session(Role::Server, Config::default());
    s.announce(Namespace::from_fields(["a", "x"])).unwrap();
    drain(&mut s);
    let outs = feed(&mut s, 0, sub_ns(0, &["a"]));
    assert!(events(&outs).is_empty(), "{outs:?}");
    let msgs = messages_on(&outs, StreamId(0));
    assert!(msgs.len() == 2 && is_ok(&msgs[0]), "{msgs:?}");
    assert_eq!(namespace_suffix(&msgs[1]), Some(ns(&["x"])));
    let outs = feed(&mut s, 4, sub_tracks(2, &["t"]));
    let h = match events(&outs).as_slice() {
        [Event::IncomingTrackDiscovery { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    assert!(matches!(messages_on(&outs, StreamId(4)).as_slice(), [m] if is_ok(m)));
    assert!(s.accept_discovery(h).is_err());
}

fn setup_with(options: Vec<SetupOption>) -> Setup {
    Setup { options }
}

fn path(p: &str) -> SetupOption {
    SetupOption::Path(Bytes::copy_from_slice(p.as_bytes()))
}

fn authority(a: &str) -> SetupOption {
    SetupOption::Authority(Bytes::copy_from_slice(a.as_bytes()))
}

/// The close code of a `role` session with `cfg` receiving a SETUP with `options`.
fn setup_close(role: Role, cfg: Config, options: Vec<SetupOption>) -> Option<u64> {
    let (mut s, _) = connected(role, cfg);
    let outs = peer_setup(&mut s, role, setup_with(options));
    close_code(&outs)
}

/// §10.3.1 AUTHORITY: one received from a server closes the session with
/// INVALID_AUTHORITY (as PATH does with INVALID_PATH).
#[test]
fn authority_or_path_from_a_server_closes_invalid() {
    let code = setup_close(Role::Client, Config::default(), vec![authority("example.com")]);
    assert_eq!(code, Some(SessionErrorCode::INVALID_AUTHORITY.0));
    let code = setup_close(Role::Client, Config::default(), vec![path("/x")]);
    assert_eq!(code, Some(SessionErrorCode::INVALID_PATH.0));
}

/// §10.3.1: over WebTransport a client sends neither PATH nor AUTHORITY (even configured),
/// and a server receiving either closes with INVALID_PATH / INVALID_AUTHORITY; over native
/// QUIC the same options are sent and accepted.
#[test]
fn path_and_authority_are_neither_sent_nor_accepted_over_webtransport() {
    let cfg =
        Config { path: Some("/live".into()), authority: Some("relay.example".into()), ..Config::default() };
    let (_, outs) = connected(Role::Client, Config { webtransport: true, ..cfg.clone() });
    let setup = our_setup(&outs);
    assert!(setup.get(SetupOptionType::PATH).is_none() && setup.get(SetupOptionType::AUTHORITY).is_none());
    let (_, outs) = connected(Role::Client, cfg);
    let setup = our_setup(&outs);
    assert!(setup.get(SetupOptionType::PATH).is_some() && setup.get(SetupOptionType::AUTHORITY).is_some());

    let wt = Config { webtransport: true, ..Config::default() };
    assert_eq!(
        setup_close(Role::Server, wt.clone(), vec![path("/live")]),
        Some(SessionErrorCode::INVALID_PATH.0)
    );
    assert_eq!(
        setup_close(Role::Server, wt, vec![authority("relay.example")]),
        Some(SessionErrorCode::INVALID_AUTHORITY.0)
    );
    assert_eq!(
        setup_close(Role::Server, Config::default(), vec![path("/live"), authority("relay.example")]),
        None
    );
}

/// §10.3.1: a PATH or AUTHORITY that breaks RFC 3986 closes the session with
/// MALFORMED_PATH / MALFORMED_AUTHORITY; well-formed ones (query, port, userinfo, IPv6,
/// empty path-abempty) are accepted.
#[test]
fn malformed_path_or_authority_closes_with_the_malformed_codes() {
    let server = |o| setup_close(Role::Server, Config::default(), vec![o]);
    for bad in ["live", "/a b", "/a#frag", "/%zz"] {
        assert_eq!(server(path(bad)), Some(SessionErrorCode::MALFORMED_PATH.0), "{bad}");
    }
    for bad in ["", ":443", "host:port", "[::1", "a b", "h/x"] {
        assert_eq!(server(authority(bad)), Some(SessionErrorCode::MALFORMED_AUTHORITY.0), "{bad}");
    }
    for good in ["", "/", "/live/a?x=1&y", "/%41"] {
        assert_eq!(server(path(good)), None, "{good}");
    }
    for good in ["relay.example", "relay.example:4443", "u@h:1", "[::1]:9"] {
        assert_eq!(server(authority(good)), None, "{good}");
    }
}

/// §10.3.1: a server closes with INVALID_PATH / INVALID_AUTHORITY when the client names a
/// path or authority it does not serve (`Config::accepted_paths` / `accepted_authorities`).
#[test]
fn unserved_path_or_authority_closes_invalid() {
    let cfg = Config {
        accepted_paths: Some(vec!["/live".into()]),
        accepted_authorities: Some(vec!["relay.example:443".into()]),
        ..Config::default()
    };
    let server = |o: Vec<SetupOption>| setup_close(Role::Server, cfg.clone(), o);
    assert_eq!(server(vec![path("/other")]), Some(SessionErrorCode::INVALID_PATH.0));
    assert_eq!(server(vec![authority("other.example")]), Some(SessionErrorCode::INVALID_AUTHORITY.0));
    assert_eq!(server(vec![path("/live"), authority("relay.example:443")]), None);
}

/// §10.3.1 / §3.1.2: from a `moqt` URI the client sends its `authority` as AUTHORITY and its
/// `path-abempty` plus `?query` as PATH (the fragment is not sent); a URI with an empty host
/// or a fragment without a `type:` identifier of `[a-z0-9-]` is refused.
#[test]
fn moqt_uri_becomes_authority_and_path_options() {
    let uri = MoqtUri::parse("moqt://user@relay.example:4443/live/a?x=1#t:0").unwrap();
    assert_eq!(uri.authority, "user@relay.example:4443");
    assert_eq!(uri.path, "/live/a?x=1");
    let mut cfg = Config::default();
    uri.apply(&mut cfg);
    let (_, outs) = connected(Role::Client, cfg);
    let setup = our_setup(&outs);
    assert_eq!(setup.get(SetupOptionType::AUTHORITY), Some(&authority("user@relay.example:4443")));
    assert_eq!(setup.get(SetupOptionType::PATH), Some(&path("/live/a?x=1")));

    let bare = MoqtUri::parse("MOQT://[::1]:9").unwrap();
    assert_eq!((bare.authority.as_str(), bare.path.as_str()), ("[::1]:9", ""));
    assert_eq!(MoqtUri::parse("moqt://h?q").unwrap().path, "?q");
    assert_eq!(MoqtUri::parse("moqt://:443/x"), Err(UriError::Authority));
    assert_eq!(MoqtUri::parse("moqt:///x"), Err(UriError::Authority));
    assert_eq!(MoqtUri::parse("https://h/x"), Err(UriError::Scheme));
    assert_eq!(MoqtUri::parse("moqt://h/x#Group:1"), Err(UriError::Fragment));
    assert_eq!(MoqtUri::parse("moqt://h/x#nocolon"), Err(UriError::Fragment));
    assert_eq!(MoqtUri::parse("moqt://h/x#g_1:1"), Err(UriError::Fragment));
    assert!(MoqtUri::parse("moqt://h/x#group-2:1").is_ok());
}

fn subscribe(id: u64, name: &'static str, params: Parameters) -> Vec<u8> {
    enc(&Subscribe {
        request_id: id,
        track: FullTrackName::new(TrackNamespace::from_fields(["a"]), Bytes::from_static(name.as_bytes())),
        parameters: params,
    })
}

fn incoming_subscribe(outs: &[Output]) -> RequestHandle {
    let found: Vec<RequestHandle> = events(outs)
        .into_iter()
        .filter_map(|e| match e {
            Event::IncomingSubscribe { request, .. } => Some(request),
            _ => None,
        })
        .collect();
    assert_eq!(found.len(), 1, "{outs:?}");
    found[0]
}

/// §10.2.1.1: when the application finds a token expired (it refuses the request with
/// EXPIRED_AUTH_TOKEN), the registered alias stays: a later USE_ALIAS still resolves to the
/// same token value instead of closing with UNKNOWN_AUTH_TOKEN_ALIAS.
#[test]
fn alias_of_an_expired_token_stays_registered() {
    let mut s = session(Role::Server, Config { max_auth_token_cache: 100, ..Config::default() });
    let register = Token::Register { alias: 3, token_type: 9, value: Bytes::from_static(b"old") };
    let outs = feed(&mut s, 0, subscribe(0, "x", Parameters(vec![Parameter::AuthorizationToken(register)])));
    let h = incoming_subscribe(&outs);
    s.reject(h, RequestErrorCode::EXPIRED_AUTH_TOKEN.0, "expired").unwrap();
    drain(&mut s);
    let use_alias = Parameters(vec![Parameter::AuthorizationToken(Token::UseAlias { alias: 3 })]);
    let outs = feed(&mut s, 4, subscribe(2, "y", use_alias));
    assert_eq!(close_code(&outs), None, "{outs:?}");
    let h2 = incoming_subscribe(&outs);
    let presented: Vec<Vec<PresentedToken>> = events(&outs)
        .into_iter()
        .filter_map(|e| match e {
            Event::Authorization { request, tokens } if request == h2 => Some(tokens),
            _ => None,
        })
        .collect();
    assert_eq!(presented, vec![vec![PresentedToken { token_type: 9, value: Bytes::from_static(b"old") }]]);
}

/// §10.11 PUBLISH_DONE: the publisher keeps a subscription's state until it has sent
/// PUBLISH_DONE: until then the subscription takes data and answers the subscriber's
/// REQUEST_UPDATE; the PUBLISH_DONE is written when the state goes, and only then does
/// the handle stop working.
#[test]
fn subscription_state_lives_until_publish_done_is_sent() {
    let mut s = session(Role::Server, Config::default());
    let h = incoming_subscribe(&feed(&mut s, 0, subscribe(0, "x", Parameters::new())));
    s.accept_subscribe(h, TrackInfo::default()).unwrap();
    drain(&mut s);
    let tables = s.table_sizes();
    let stream = s.open_subgroup(h, 0, 0, None).unwrap();
    s.write_object(stream, sluice::ObjectWrite::new(0, Bytes::from_static(b"o"))).unwrap();
    let update =
        enc(&RequestUpdate { request_id: 2, parameters: Parameters(vec![Parameter::SubscriberPriority(1)]) });
    let outs = more(&mut s, 0, update);
    assert!(matches!(messages_on(&outs, StreamId(0)).as_slice(), [m] if is_ok(m)), "{outs:?}");
    assert!(s.table_sizes() >= tables);

    s.end_subscription(h, PublishDoneCode::TRACK_ENDED.0, "bye").unwrap();
    let outs = drain(&mut s);
    assert!(
        matches!(messages_on(&outs, StreamId(0)).as_slice(), [ControlMessage::PublishDone(d)] if d.stream_count == 1),
        "{outs:?}"
    );
    assert!(s.open_subgroup(h, 1, 0, None).is_err(), "state gone after PUBLISH_DONE");
    assert!(s.table_sizes() < tables, "{} !< {tables}", s.table_sizes());
}

fn props(pairs: &[sluice_wire::moqt::kvp::KeyValue]) -> Bytes {
    sluice_wire::moqt::kvp::Properties::from_pairs(pairs).unwrap().raw().clone()
}

/// §13 Immutable Properties, Prior Group ID Gap, Prior Object ID Gap: "an Object MUST NOT
/// contain more than one instance" of each. The publisher refuses to write such an object
/// (on a subgroup stream or as a datagram), counting the gaps inside Immutable Properties
/// too, and sends nothing; one instance of each is written.
#[test]
fn objects_with_a_repeated_single_instance_property_are_not_written() {
    use sluice_wire::moqt::codes::PropertyType;
    use sluice_wire::moqt::kvp::KeyValue;
    let gap_g = |v| KeyValue::varint(PropertyType::PRIOR_GROUP_ID_GAP.0, v);
    let gap_o = |v| KeyValue::varint(PropertyType::PRIOR_OBJECT_ID_GAP.0, v);
    let immutable = |inner: &[KeyValue]| KeyValue::bytes(PropertyType::IMMUTABLE_PROPERTIES.0, props(inner));
    let bad = [
        props(&[gap_g(1), gap_g(2)]),
        props(&[gap_o(1), gap_o(1)]),
        props(&[immutable(&[]), immutable(&[])]),
        props(&[immutable(&[gap_g(1)]), gap_g(1)]),
        props(&[immutable(&[gap_o(3), gap_o(4)])]),
    ];
    let good = props(&[immutable(&[gap_g(1)]), gap_o(2)]);

    let mut s = session(Role::Server, Config::default());
    let h = incoming_subscribe(&feed(&mut s, 0, subscribe(0, "x", Parameters::new())));
    s.accept_subscribe(h, TrackInfo::default()).unwrap();
    let stream = s.open_subgroup(h, 0, 0, None).unwrap();
    drain(&mut s);
    let object = |id, properties: &Bytes| sluice::ObjectWrite {
        properties: properties.clone().into(),
        ..sluice::ObjectWrite::new(id, Bytes::from_static(b"p"))
    };
    for (i, p) in bad.iter().enumerate() {
        assert!(
            matches!(s.write_object(stream, object(0, p)), Err(sluice::CommandError::InvalidState(_))),
            "case {i}"
        );
        assert!(
            matches!(s.send_datagram(h, 1, object(0, p)), Err(sluice::CommandError::InvalidState(_))),
            "datagram case {i}"
        );
        assert!(drain(&mut s).is_empty(), "case {i}: nothing is sent");
    }
    s.write_object(stream, object(0, &good)).unwrap();
    s.send_datagram(h, 1, object(0, &good)).unwrap();
    let outs = drain(&mut s);
    assert!(outs.iter().any(|o| matches!(o, Output::Write { stream: w, .. } if *w == stream)), "{outs:?}");
    assert!(outs.iter().any(|o| matches!(o, Output::Datagram { .. })), "{outs:?}");
}
