//! moq-lite session-level behaviour for lite-04 and lite-05: readiness and SETUP, GOAWAY,
//! Probe and unknown streams, the malformed-input table, every Config limit, and empty
//! tables after close.

mod lite_common;

use bytes::Bytes;
use lite_common::*;
use sluice::lite::codes;
use sluice::{
    Config, Event, Input, LiteVersion, Output, Role, SendOrder, StreamId, SubscribeOptions, TrackInfo,
    Version,
};
use sluice_sim::Side;

#[test]
fn lite04_is_ready_at_once_and_sends_nothing() {
    let (_, out) = Raw::new(LiteVersion::Lite04, Role::Client, Config::default());
    assert_eq!(
        out,
        vec![Output::Event(Event::Ready {
            version: Version::Lite(LiteVersion::Lite04),
            peer_implementation: None
        })]
    );
}

#[test]
fn lite05_sends_an_empty_setup_and_is_ready_on_the_peer_setup() {
    for role in [Role::Client, Role::Server] {
        let (mut raw, out) = Raw::new(LiteVersion::Lite05, role, Config::default());
        let stream = StreamId::local(0);
        assert_eq!(
            out,
            vec![
                Output::OpenStream { stream, bidi: false, order: SendOrder(i32::MAX) },
                Output::Write {
                    stream,
                    header: Bytes::from_static(&[0x01, 0x01, 0x00]).into(),
                    payload: Bytes::new(),
                    fin: true
                },
            ]
        );
        // Commands work before the peer's SETUP (it never blocks).
        assert!(raw.s.subscribe(track(), SubscribeOptions::default()).is_ok());
        // A SETUP with an unknown parameter (0x21, two bytes) is accepted.
        let (_, out) = raw.stream(false, &[0x01, 0x05, 0x01, 0x21, 0x02, 0xAA, 0xBB]);
        assert_eq!(
            events(&out),
            vec![Event::Ready { version: Version::Lite(LiteVersion::Lite05), peer_implementation: None }]
        );
    }
}

#[test]
fn both_versions_and_roles_get_ready_through_a_pair() {
    for v in VERSIONS {
        let p = pair(v);
        assert!(!p.client.is_closed() && !p.server.is_closed());
    }
}

#[test]
fn setup_violations_close_the_session() {
    let cases: Vec<(&str, Role, Vec<Vec<u8>>)> = vec![
        (
            "duplicate parameter",
            Role::Server,
            vec![vec![0x01, 0x07, 0x02, 0x01, 0x01, 0x00, 0x01, 0x01, 0x00]],
        ),
        ("path sent by the server", Role::Client, vec![vec![0x01, 0x05, 0x01, 0x02, 0x02, b'/', b'a']]),
        ("second setup stream", Role::Server, vec![vec![0x01, 0x01, 0x00], vec![0x01, 0x01, 0x00]]),
        ("bytes after setup", Role::Server, vec![vec![0x01, 0x01, 0x00, 0x00]]),
        ("truncated parameter", Role::Server, vec![vec![0x01, 0x02, 0x01, 0x07]]),
    ];
    for (name, role, streams) in cases {
        let (mut raw, _) = Raw::new(LiteVersion::Lite05, role, Config::default());
        let mut out = Vec::new();
        for data in streams {
            out.extend(raw.stream(false, &data).1);
        }
        assert_eq!(close_code(&out), Some(codes::PROTOCOL_VIOLATION), "{name}: {out:?}");
        assert_eq!(raw.s.table_sizes(), 0, "{name}");
    }
    // A FIN before the SETUP is complete.
    let (mut raw, _) = Raw::new(LiteVersion::Lite05, Role::Server, Config::default());
    let (id, _) = raw.stream(false, &[0x01, 0x03, 0x01]);
    let out = raw.input(Input::StreamFinished { stream: id });
    assert_eq!(close_code(&out), Some(codes::PROTOCOL_VIOLATION));
}

#[test]
fn goaway_reaches_the_peer_from_either_side() {
    for v in VERSIONS {
        for side in [Side::Client, Side::Server] {
            let mut p = pair(v);
            p.session(side)
                .goaway(Bytes::from_static(b"https://relay.example/x"), std::time::Duration::from_secs(1))
                .unwrap();
            p.run();
            assert_eq!(
                p.take_events(side.peer()),
                vec![Event::GoAway { uri: Bytes::from_static(b"https://relay.example/x") }]
            );
            assert_eq!(
                p.session(side).goaway(Bytes::new(), std::time::Duration::ZERO),
                Err(sluice::CommandError::InvalidState("GOAWAY already sent"))
            );
            assert!(!p.client.is_closed() && !p.server.is_closed());
        }
    }
}

#[test]
fn probe_track_and_unknown_streams_are_reset_not_fatal() {
    for v in VERSIONS {
        let mut raw = Raw::ready(v, Role::Server, Config::default());
        let (id, out) = raw.stream(true, &[0x04, 0x02, 0x00, 0x00]);
        assert_eq!(aborts(&out, id), (vec![codes::UNSUPPORTED], vec![codes::UNSUPPORTED]), "{v:?} probe");
        let (id, out) = raw.stream(true, &[0x3f]);
        assert_eq!(
            aborts(&out, id),
            (vec![codes::UNKNOWN_STREAM], vec![codes::UNKNOWN_STREAM]),
            "{v:?} bidi 0x3f"
        );
        let (id, out) = raw.stream(false, &[0x05]);
        assert_eq!(aborts(&out, id), (vec![codes::UNKNOWN_STREAM], vec![]), "{v:?} uni 0x5");
        assert!(!raw.s.is_closed());
        // Data after the reset is ignored.
        assert!(raw.feed(id, &[1, 2, 3]).is_empty());
    }
    // lite-04 has no Track stream: bidi 0x6 is unknown there (lite-05 serves it, see
    // lite_track.rs).
    let mut raw = Raw::ready(LiteVersion::Lite04, Role::Server, Config::default());
    let (id, out) = raw.stream(true, &[0x06]);
    assert_eq!(aborts(&out, id), (vec![codes::UNKNOWN_STREAM], vec![codes::UNKNOWN_STREAM]));
    // lite-04 has no Setup stream: uni 0x1 is unknown there.
    let mut raw = Raw::ready(LiteVersion::Lite04, Role::Server, Config::default());
    let (id, out) = raw.stream(false, &[0x01, 0x01, 0x00]);
    assert_eq!(aborts(&out, id), (vec![codes::UNKNOWN_STREAM], vec![]));
    assert!(!raw.s.is_closed());
}

/// Garbage on every stream kind closes the session with PROTOCOL_VIOLATION.
#[test]
fn violation_table() {
    let table: Vec<(&str, bool, Vec<u8>)> = vec![
        ("SUBSCRIBE body too short", true, vec![0x02, 0x02, 0x00, 0x00]),
        (
            "SUBSCRIBE ordered byte 7",
            true,
            vec![0x02, 0x09, 0x00, 0x01, b'a', 0x01, b'b', 0x80, 0x07, 0x00, 0x00, 0x00],
        ),
        ("SUBSCRIBE length too large", true, vec![0x02, 0x80, 0x01, 0x00, 0x00]),
        ("ANNOUNCE_REQUEST prefix past body", true, vec![0x01, 0x01, 0x05]),
        ("FETCH body too short", true, vec![0x03, 0x01, 0x00]),
        ("GOAWAY body too short", true, vec![0x05, 0x02, 0x05, b'a']),
        ("GOAWAY not UTF-8", true, vec![0x05, 0x02, 0x01, 0xFF]),
        ("GROUP body too short", false, vec![0x00, 0x01, 0x00]),
        ("stream type varint, then more after GOAWAY", true, vec![0x05, 0x01, 0x00, 0x00]),
        ("bytes after FETCH", true, vec![0x03, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01]),
    ];
    for v in VERSIONS {
        for (name, bidi, data) in &table {
            let mut raw = Raw::ready(v, Role::Server, Config::default());
            let (_, out) = raw.stream(*bidi, data);
            assert_eq!(close_code(&out), Some(codes::PROTOCOL_VIOLATION), "{v:?} {name}: {out:?}");
            assert!(raw.s.is_closed(), "{v:?} {name}");
            assert_eq!(raw.s.table_sizes(), 0, "{v:?} {name}");
        }
        // Responses on streams we opened.
        let mut raw = Raw::ready(v, Role::Client, Config::default());
        raw.s.subscribe(track(), SubscribeOptions::default()).unwrap();
        raw.drain();
        let out = raw.feed(StreamId::local(if v == LiteVersion::Lite05 { 1 } else { 0 }), &[0x07, 0x00]);
        assert_eq!(close_code(&out), Some(codes::PROTOCOL_VIOLATION), "{v:?} unknown subscribe response");

        let mut raw = Raw::ready(v, Role::Client, Config::default());
        raw.s.discover(sluice::Namespace::from_fields(["a"])).unwrap();
        raw.drain();
        let first = if v == LiteVersion::Lite05 { 1 } else { 0 };
        let mut data = Vec::new();
        if v == LiteVersion::Lite05 {
            data.extend([0x02, 0x00, 0x00]);
        }
        data.extend([0x04, 0x02, 0x00, 0x00, 0x00]); // status 2
        let out = raw.feed(StreamId::local(first), &data);
        assert_eq!(close_code(&out), Some(codes::PROTOCOL_VIOLATION), "{v:?} announce status 2");

        // A FIN in the middle of a message.
        let mut raw = Raw::ready(v, Role::Server, Config::default());
        let (id, _) = raw.stream(true, &[0x02, 0x10, 0x00]);
        let out = raw.input(Input::StreamFinished { stream: id });
        assert_eq!(close_code(&out), Some(codes::PROTOCOL_VIOLATION), "{v:?} FIN mid-SUBSCRIBE");
    }
}

#[test]
fn limit_max_peer_streams() {
    for v in VERSIONS {
        let config = Config { max_peer_streams: 3, ..Config::default() };
        // lite-05's Setup stream is one of them, and is finished (and forgotten).
        let mut raw = Raw::ready(v, Role::Server, config);
        let a = raw.open(true);
        let b = raw.open(true);
        let c = raw.open(false);
        let mut out = raw.drain();
        let d = raw.open(true);
        out.extend(raw.drain());
        let _ = (a, b, c);
        assert_eq!(aborts(&out, d), (vec![codes::LIMIT_EXCEEDED], vec![codes::LIMIT_EXCEEDED]), "{v:?}");
        assert_eq!(aborts(&out, c), (vec![], vec![]), "{v:?}");
        assert!(!raw.s.is_closed());
    }
}

#[test]
fn limit_max_inbound_requests_and_subscriptions() {
    for v in VERSIONS {
        let config = Config { max_inbound_requests: 1, ..Config::default() };
        let mut raw = Raw::ready(v, Role::Server, config);
        let (_, out) = raw.stream(true, &[0x02]);
        assert!(out.is_empty());
        let (id, out) = raw.stream(true, &[0x03]);
        assert_eq!(aborts(&out, id), (vec![codes::LIMIT_EXCEEDED], vec![codes::LIMIT_EXCEEDED]), "{v:?}");

        let config = Config { max_namespace_subscriptions: 1, ..Config::default() };
        let mut raw = Raw::ready(v, Role::Server, config);
        raw.stream(true, &[0x01]);
        let (id, out) = raw.stream(true, &[0x01]);
        assert_eq!(
            aborts(&out, id),
            (vec![codes::LIMIT_EXCEEDED], vec![codes::LIMIT_EXCEEDED]),
            "{v:?} announce"
        );

        let config = Config { max_subscriptions: 1, ..Config::default() };
        let mut p = pair_with(v, config.clone(), config);
        p.client.subscribe(track(), SubscribeOptions::default()).unwrap();
        assert_eq!(
            p.client.subscribe(track(), SubscribeOptions::default()),
            Err(sluice::CommandError::Limit("max_subscriptions"))
        );
        p.run();
        // The server holds one incoming subscription now: its own subscribe is refused too.
        assert_eq!(
            p.server.subscribe(track(), SubscribeOptions::default()),
            Err(sluice::CommandError::Limit("max_subscriptions"))
        );
    }
}

#[test]
fn limit_max_unidentified_and_stream_buffer() {
    for v in VERSIONS {
        let config = Config { max_unidentified_bytes: 4, ..Config::default() };
        let mut raw = Raw::ready(v, Role::Client, config);
        // GROUP claims 16 bytes; 5 bytes buffered before it is identified.
        let (id, out) = raw.stream(false, &[0x00, 0x10, 1, 2, 3, 4]);
        assert_eq!(aborts(&out, id), (vec![codes::LIMIT_EXCEEDED], vec![]), "{v:?}");

        let config = Config { max_stream_buffer: 16, ..Config::default() };
        let mut raw = Raw::ready(v, Role::Server, config);
        let mut data = vec![0x02, 0x40, 0x64];
        data.extend([0u8; 20]);
        let (id, out) = raw.stream(true, &data);
        assert_eq!(aborts(&out, id), (vec![codes::LIMIT_EXCEEDED], vec![codes::LIMIT_EXCEEDED]), "{v:?}");
        assert!(!raw.s.is_closed());
    }
}

#[test]
fn limit_max_object_size_resets_the_group_stream() {
    for (v, pub_side) in cases() {
        let small = Config { max_object_size: 10, ..Config::default() };
        let (client, server) =
            if pub_side == Side::Client { (Config::default(), small) } else { (small, Config::default()) };
        let mut p = pair_with(v, client, server);
        let (_, r) = subscribed(
            &mut p,
            pub_side,
            SubscribeOptions::default(),
            TrackInfo { largest: Some(sluice::Location::default()), ..TrackInfo::default() },
        );
        let g = p.session(pub_side).open_subgroup(r, 0, 0, None).unwrap();
        let mut w = sluice::ObjectWrite::new(0, Bytes::from_static(b"0123456789A"));
        w.timestamp = Some(0);
        p.session(pub_side).write_object(g, w.clone()).unwrap();
        p.run();
        assert_eq!(p.take_events(pub_side.peer()), vec![], "{v:?} {pub_side:?}");
        // The subscriber's STOP_SENDING made the publisher reset and forget the stream.
        w.object = 1;
        assert_eq!(p.session(pub_side).write_object(g, w), Err(sluice::CommandError::UnknownStream(g)));
    }
}

#[test]
fn limit_max_discovered_namespaces() {
    for v in VERSIONS {
        let config = Config { max_discovered_namespaces: 1, ..Config::default() };
        let mut p = pair_with(v, config, Config::default());
        let d = p.client.discover(sluice::Namespace::from_fields(["room"])).unwrap();
        p.run();
        p.server.announce(sluice::Namespace::from_fields(["room", "a"])).unwrap();
        p.server.announce(sluice::Namespace::from_fields(["room", "b"])).unwrap();
        p.run();
        let a = sluice::Namespace::from_fields(["room", "a"]);
        assert_eq!(
            p.take_events(Side::Client),
            vec![
                Event::NamespaceFound { request: d, namespace: a.clone() },
                Event::NamespaceGone { request: d, namespace: a },
                Event::DiscoveryEnded {
                    request: d,
                    reason: sluice::Reason {
                        code: codes::LIMIT_EXCEEDED,
                        text: "too many discovered paths".into()
                    }
                },
            ],
            "{v:?}"
        );
    }
}

#[test]
fn tables_are_empty_after_close() {
    for (v, pub_side) in cases() {
        let mut p = pair(v);
        let (_, r) = subscribed(
            &mut p,
            pub_side,
            SubscribeOptions::default(),
            TrackInfo { largest: Some(sluice::Location::default()), ..TrackInfo::default() },
        );
        p.session(pub_side).open_subgroup(r, 0, 0, None).unwrap();
        p.session(pub_side).announce(sluice::Namespace::from_fields(["x"])).unwrap();
        p.session(pub_side.peer()).discover(sluice::Namespace::from_fields(["x"])).unwrap();
        p.run();
        assert!(p.client.table_sizes() > 0 && p.server.table_sizes() > 0);
        p.session(pub_side).close(0, "bye");
        p.run();
        assert!(p.client.is_closed() && p.server.is_closed());
        assert_eq!((p.client.table_sizes(), p.server.table_sizes()), (0, 0), "{v:?} {pub_side:?}");
    }
}

#[test]
fn limit_max_session_buffer() {
    for v in VERSIONS {
        let config = Config { max_session_buffer: 30, ..Config::default() };
        let mut raw = Raw::ready(v, Role::Server, config);
        // Two SUBSCRIBEs that claim 100 bytes each and hold 20 bytes while incomplete.
        let mut data = vec![0x02, 0x40, 0x64];
        data.extend([0u8; 17]);
        let (a, out) = raw.stream(true, &data);
        assert_eq!(aborts(&out, a), (vec![], vec![]), "{v:?}");
        let (b, out) = raw.stream(true, &data);
        assert_eq!(aborts(&out, b), (vec![codes::LIMIT_EXCEEDED], vec![codes::LIMIT_EXCEEDED]), "{v:?}");
        // The first stream's bytes still count; freeing them (peer reset) makes room again.
        raw.input(Input::StreamReset { stream: a, code: 0 });
        let (c, out) = raw.stream(true, &data);
        assert_eq!(aborts(&out, c), (vec![], vec![]), "{v:?}");
        assert!(!raw.s.is_closed());
    }
}

#[test]
fn no_new_requests_after_the_peer_goaway() {
    for v in VERSIONS {
        let mut p = pair(v);
        p.server.goaway(Bytes::new(), std::time::Duration::ZERO).unwrap();
        p.run();
        assert_eq!(p.take_events(Side::Client), vec![Event::GoAway { uri: Bytes::new() }]);
        let refused = Err(sluice::CommandError::InvalidState("the peer sent GOAWAY"));
        assert_eq!(p.client.subscribe(track(), SubscribeOptions::default()), refused);
        assert_eq!(p.client.discover(sluice::Namespace::from_fields(["a"])), refused);
        assert_eq!(
            p.client.fetch(track(), sluice::Location::default(), sluice::Location::default(), 0),
            refused
        );
        // The side that sent GOAWAY may still ask.
        assert!(p.server.subscribe(track(), SubscribeOptions::default()).is_ok());
    }
}
