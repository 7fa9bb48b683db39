//! The simulator with real `sluice::Session`s: `Pair`'s API as other crates' tests use it,
//! and sessions on a `Network`: connection, clock, events, close, a session facing a
//! scripted peer.

use std::time::Duration;

use sluice::{Config, Event, Input, LiteVersion, MoqtVersion, Role, Session, Time, Version};
use sluice_sim::{LinkConfig, Network, Pair, Side, Traced};

const VERSIONS: [Version; 2] = [Version::Lite(LiteVersion::Lite04), Version::Moqt(MoqtVersion::Draft18)];

#[test]
fn pair_keeps_its_public_api() {
    for version in VERSIONS {
        let mut pair = Pair::new(version, Config::default(), Config::default());
        assert_eq!(pair.client.version(), Some(version));
        assert_eq!(pair.server.version(), Some(version));
        assert_eq!(pair.session(Side::Client).role(), Role::Client);
        assert_eq!(pair.session(Side::Server).role(), Role::Server);
        pair.advance(Duration::from_millis(250));
        assert_eq!(pair.now(), Time::from_millis(250));
        assert_eq!(pair.run(), 0, "idle sessions produced outputs");
        pair.take_events(Side::Client);
        pair.take_events(Side::Server);
        pair.client.close(0, "done");
        assert_eq!(pair.run(), 2); // Close + Event::Closed from the client
        assert!(pair.client.is_closed());
        assert!(pair.server.is_closed(), "the close did not reach the server");
        assert_eq!(pair.client.table_sizes() + pair.server.table_sizes(), 0);
        let closed = |by_peer| Event::Closed { code: 0, reason: "done".into(), by_peer };
        assert_eq!(pair.client_events, vec![closed(false)]);
        assert_eq!(pair.take_events(Side::Client), vec![closed(false)]);
        assert!(pair.client_events.is_empty());
        assert_eq!(pair.server_events, vec![closed(true)]);
    }
}

#[test]
fn sessions_on_a_network_connect_and_close_over_latency() {
    for version in VERSIONS {
        let mut net: Network = Network::new(1);
        net.record_trace(true);
        let link = LinkConfig::perfect().with_latency(Duration::from_millis(15));
        let conn = net.connect_sessions(version, Config::default(), Config::default(), link);
        assert_eq!(net.session(conn, Side::Client).version(), Some(version));
        let connected: Vec<_> = net
            .trace()
            .iter()
            .filter(|e| matches!(e.what, Traced::Input(Input::Connected { .. })))
            .map(|e| e.side)
            .collect();
        assert_eq!(connected, vec![Side::Client, Side::Server]);

        net.session(conn, Side::Server).close(0x2, "going away");
        net.advance(Duration::from_millis(14));
        assert!(!net.session(conn, Side::Client).is_closed());
        net.advance(Duration::from_millis(1));
        assert!(net.session(conn, Side::Client).is_closed());
        let closed = |by_peer| Event::Closed { code: 0x2, reason: "going away".into(), by_peer };
        // Engines may have reported readiness before; the close is the last event on each side.
        assert_eq!(net.take_events(conn, Side::Server).last(), Some(&closed(false)));
        assert_eq!(net.take_events(conn, Side::Client).last(), Some(&closed(true)));
        let closed_at: Vec<_> = net
            .trace()
            .iter()
            .filter(|e| matches!(e.what, Traced::Input(Input::Closed { code: 0x2, .. })))
            .map(|e| (e.side, e.at))
            .collect();
        assert_eq!(closed_at, vec![(Side::Client, Time::from_millis(15))]);
    }
}

#[test]
fn a_pair_over_an_impaired_link_uses_the_same_mechanics() {
    let link = LinkConfig::perfect().with_latency(Duration::from_millis(5));
    let mut pair = Pair::with_link(VERSIONS[1], Config::default(), Config::default(), link, 9);
    pair.client.close(1, "x");
    pair.run();
    assert!(!pair.server.is_closed());
    pair.advance(Duration::from_millis(5));
    assert!(pair.server.is_closed());
    let _: Session = pair.client;
}

#[test]
fn a_session_can_face_a_scripted_peer() {
    use bytes::Bytes;
    use sluice::{Output, SendOrder};
    use sluice_sim::{AnyEndpoint, ScriptedEndpoint};

    let version = VERSIONS[1];
    let mut net: Network<AnyEndpoint> = Network::new(3);
    let session = Session::new(Config::default(), Role::Server, Time::ZERO);
    let link = LinkConfig::perfect().with_latency(Duration::from_millis(2));
    let conn = net.connect(ScriptedEndpoint::new().into(), session.into(), link);
    net.input(conn, Side::Server, Input::Connected { version });
    let peer = net.endpoint_mut(conn, Side::Client).as_scripted_mut().unwrap();
    let stream = peer.open_stream(false, SendOrder(0));
    peer.write(stream, Bytes::from_static(b"\x00\x01raw"), false);
    peer.push(Output::Close { code: 0x7, reason: "scripted".into() });
    net.settle();
    let server = net.endpoint_mut(conn, Side::Server).as_session_mut().unwrap();
    assert!(server.is_closed());
    assert_eq!(server.version(), Some(version));
    // The raw stream arrives before the scripted close: the draft-18 engine rejects its
    // unknown stream type 0x00 with PROTOCOL_VIOLATION (0x3), and the peer's own close,
    // arriving after, changes nothing.
    assert_eq!(
        net.take_events(conn, Side::Server),
        vec![Event::Closed { code: 0x3, reason: "unknown stream type 0x0".into(), by_peer: false }]
    );
}
