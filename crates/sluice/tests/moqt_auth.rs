//! Authorization-token alias rules of draft-18 §10.2.2 on the peer's requests and SETUP.

use bytes::Bytes;
use sluice::{Config, Event, Input, MoqtVersion, Output, Role, Session, StreamId, Time, Version};
use sluice_wire::Encode;
use sluice_wire::moqt::codes::SessionErrorCode;
use sluice_wire::moqt::message::Subscribe;
use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
use sluice_wire::moqt::params::{Parameter, Parameters};
use sluice_wire::moqt::setup::{Setup, SetupOption};
use sluice_wire::moqt::token::Token;

const D18: MoqtVersion = MoqtVersion::Draft18;

fn register(alias: u64) -> Token {
    Token::Register { alias, token_type: 0, value: Bytes::from_static(b"abcd") }
}

fn subscribe(id: u64, tokens: Vec<Token>) -> Vec<u8> {
    Subscribe {
        request_id: id,
        track: FullTrackName::new(TrackNamespace::from_fields(["a"]), Bytes::from_static(b"t")),
        parameters: Parameters(tokens.into_iter().map(Parameter::AuthorizationToken).collect()),
    }
    .encode_to_vec(D18)
    .unwrap()
}

/// Runs a server with `cache` bytes of token cache through the peer's `setup` and the
/// given SUBSCRIBEs; returns the close code, or the number of IncomingSubscribe events.
fn run(cache: u64, setup: Setup, requests: Vec<Vec<u8>>) -> Result<usize, u64> {
    let cfg = Config { max_auth_token_cache: cache, ..Config::default() };
    let mut s = Session::new(cfg, Role::Server, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(D18) });
    let mut feeds = vec![(StreamId(2), false, setup.encode_to_vec(D18).unwrap())];
    for (i, r) in requests.into_iter().enumerate() {
        feeds.push((StreamId(4 * i as u64), true, r));
    }
    for (stream, bidi, bytes) in feeds {
        s.handle(Time::ZERO, Input::StreamOpened { stream, bidi });
        s.handle(Time::ZERO, Input::StreamData { stream, data: Bytes::from(bytes) });
    }
    let mut subs = 0;
    while let Some(o) = s.poll() {
        match o {
            Output::Close { code, .. } => return Err(code),
            Output::Event(Event::IncomingSubscribe { .. }) => subs += 1,
            _ => {}
        }
    }
    Ok(subs)
}

#[test]
fn registration_without_a_cache_overflows() {
    assert_eq!(
        run(0, Setup::default(), vec![subscribe(0, vec![register(1)])]),
        Err(SessionErrorCode::AUTH_TOKEN_CACHE_OVERFLOW.0)
    );
}

#[test]
fn registration_within_the_cache_then_use() {
    let use1 = Token::UseAlias { alias: 1 };
    assert_eq!(
        run(20, Setup::default(), vec![subscribe(0, vec![register(1)]), subscribe(2, vec![use1])]),
        Ok(2)
    );
    // 16 + 4 = 20 bytes: a second registration does not fit.
    assert_eq!(
        run(20, Setup::default(), vec![subscribe(0, vec![register(1)]), subscribe(2, vec![register(2)])]),
        Err(SessionErrorCode::AUTH_TOKEN_CACHE_OVERFLOW.0)
    );
}

#[test]
fn duplicate_and_unknown_aliases_close_the_session() {
    assert_eq!(
        run(100, Setup::default(), vec![subscribe(0, vec![register(1)]), subscribe(2, vec![register(1)])]),
        Err(SessionErrorCode::DUPLICATE_AUTH_TOKEN_ALIAS.0)
    );
    assert_eq!(
        run(100, Setup::default(), vec![subscribe(0, vec![Token::UseAlias { alias: 5 }])]),
        Err(SessionErrorCode::UNKNOWN_AUTH_TOKEN_ALIAS.0)
    );
    assert_eq!(
        run(
            100,
            Setup::default(),
            vec![
                subscribe(0, vec![register(1)]),
                subscribe(2, vec![Token::Delete { alias: 1 }]),
                subscribe(4, vec![Token::UseAlias { alias: 1 }])
            ]
        ),
        Err(SessionErrorCode::UNKNOWN_AUTH_TOKEN_ALIAS.0)
    );
}

#[test]
fn setup_registration_over_the_limit_is_used_as_a_value() {
    let setup = Setup { options: vec![SetupOption::AuthorizationToken(register(1))] };
    assert_eq!(run(0, setup.clone(), vec![subscribe(0, vec![])]), Ok(1));
    // It was not registered, so using the alias fails.
    assert_eq!(
        run(0, setup, vec![subscribe(0, vec![Token::UseAlias { alias: 1 }])]),
        Err(SessionErrorCode::UNKNOWN_AUTH_TOKEN_ALIAS.0)
    );
}

#[test]
fn server_receiving_delete_or_use_alias_in_setup_closes_with_protocol_violation() {
    // §10.2.2: even when the same SETUP registered the alias first.
    for second in [Token::Delete { alias: 1 }, Token::UseAlias { alias: 1 }] {
        let setup = Setup {
            options: vec![
                SetupOption::AuthorizationToken(register(1)),
                SetupOption::AuthorizationToken(second),
            ],
        };
        assert_eq!(run(100, setup, vec![]), Err(SessionErrorCode::PROTOCOL_VIOLATION.0));
    }
    // A registration alone is fine.
    let setup = Setup { options: vec![SetupOption::AuthorizationToken(register(1))] };
    assert_eq!(run(100, setup, vec![subscribe(0, vec![Token::UseAlias { alias: 1 }])]), Ok(1));
}
