//! End to end over WebTransport on 127.0.0.1: a client endpoint connects with
//! `Transport::WebTransport` (ALPN h3, extended CONNECT) to a plain server endpoint (which
//! serves raw QUIC and WebTransport on one port), a subscription, 3 groups × 10 objects up to
//! 100 KB checked byte for byte, the end of the subscription and the session close; for every
//! version, both roles. Plus: the default version for a client that names none, datagrams,
//! and HTTP/3 clients that are not WebTransport.

use std::net::SocketAddr;

use bytes::Bytes;
use sluice::{
    Config, Event, Filter, Location, ObjectStatus, RequestHandle, SubscribeOptions, TrackInfo, Version,
};
use sluice_quinn::{Endpoint, ServerIdentity, ServerVerification, Transport, client_config, server_config};

mod common;

use common::{LOCAL, Net, frame, payload, track};

/// A WebTransport client connection (path `/moq`) to a server serving every version.
fn wt_net(client_versions: &[Version]) -> Net {
    let identity = ServerIdentity::self_signed(["localhost"]).unwrap();
    let verification = ServerVerification::Pin(identity.fingerprint());
    let server = Endpoint::server(
        LOCAL.parse().unwrap(),
        server_config(identity, &Version::ALL).unwrap(),
        Config::default(),
    )
    .unwrap();
    let tls = client_config(verification, client_versions).unwrap();
    let mut client = Endpoint::client(LOCAL.parse().unwrap(), tls, Config::default()).unwrap();
    let addr: SocketAddr = server.local_addr().unwrap();
    let transport = Transport::WebTransport { path: "/moq".into() };
    let client_conn = client.connect_over(addr, "localhost", &transport).unwrap();
    Net::from_parts(server, client, client_conn)
}

/// Both sides ready over WebTransport; returns (client version, server version).
fn wait_ready_wt(net: &mut Net) -> (Version, Version) {
    let versions = net.wait_ready();
    assert!(net.client.connection(net.client_conn).unwrap().is_webtransport());
    assert!(net.server.connection(net.server_conn.unwrap()).unwrap().is_webtransport());
    versions
}

fn subscribed(version: Version, publisher: bool) -> (Net, RequestHandle, RequestHandle) {
    let subscriber = !publisher;
    let mut net = wt_net(&[version]);
    assert_eq!(wait_ready_wt(&mut net), (version, version));
    let options = SubscribeOptions {
        filter: Filter::AbsoluteStart(Location { group: 0, object: 0 }),
        ..SubscribeOptions::default()
    };
    let sub = net.session(subscriber).subscribe(track(), options).unwrap();
    net.run_until(|n| !(if publisher { &n.client_events } else { &n.server_events }).is_empty());
    let incoming = match net.events(publisher).remove(0) {
        Event::IncomingSubscribe { request, track: t, .. } => {
            assert_eq!(t, track());
            request
        }
        other => panic!("expected IncomingSubscribe, got {other:?}"),
    };
    net.session(publisher)
        .accept_subscribe(incoming, TrackInfo { largest: None, ..TrackInfo::default() })
        .unwrap();
    net.run_until(|n| !(if subscriber { &n.client_events } else { &n.server_events }).is_empty());
    match net.events(subscriber).remove(0) {
        Event::Subscribed { request, .. } => assert_eq!(request, sub),
        other => panic!("expected Subscribed, got {other:?}"),
    }
    (net, sub, incoming)
}

const GROUPS: u64 = 3;
const OBJECTS: u64 = 10;

fn pubsub(version: Version, client_publishes: bool) {
    let (publisher, subscriber) = (client_publishes, !client_publishes);
    let (mut net, sub, incoming) = subscribed(version, publisher);
    for group in 0..GROUPS {
        let stream = net.session(publisher).open_subgroup(incoming, group, 0, None).unwrap();
        for object in 0..OBJECTS {
            net.session(publisher)
                .write_object(stream, frame(version, object, payload(group, object)))
                .unwrap();
        }
        net.session(publisher).close_subgroup(stream, true).unwrap();
    }
    let count = |ev: &Vec<Event>| {
        ev.iter()
            .filter(|e| matches!(e, Event::Object { info, .. } if info.status == ObjectStatus::Normal))
            .count()
    };
    net.run_until(|n| {
        count(if subscriber { &n.client_events } else { &n.server_events }) == (GROUPS * OBJECTS) as usize
    });
    let mut got = Vec::new();
    for event in net.events(subscriber).drain(..) {
        match event {
            Event::Object { request, info, payload } => {
                assert_eq!(request, sub);
                if info.status == ObjectStatus::Normal {
                    got.push((info.group, info.object, payload.to_bytes()));
                } else {
                    assert!(matches!(version, Version::Moqt(_)), "{info:?}");
                    assert_eq!(info.status, ObjectStatus::EndOfGroup);
                }
            }
            // A finished group stream (reported since Event::SubgroupEnded exists).
            Event::SubgroupEnded { request, .. } => assert_eq!(request, sub),
            other => panic!("unexpected {other:?}"),
        }
    }
    got.sort_by_key(|(g, _, _)| *g);
    let want: Vec<(u64, u64, Bytes)> =
        (0..GROUPS).flat_map(|g| (0..OBJECTS).map(move |o| (g, o, payload(g, o)))).collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((g.0, g.1), (w.0, w.1));
        assert!(g.2 == w.2, "payload of group {} object {} differs", w.0, w.1);
    }

    net.session(publisher).end_subscription(incoming, 0, "done").unwrap();
    net.run_until(|n| {
        (if subscriber { &n.client_events } else { &n.server_events })
            .iter()
            .any(|e| matches!(e, Event::SubscriptionEnded { .. }))
    });

    // Close: WT_CLOSE_SESSION carries the code and message to the peer's session.
    net.session(publisher).close(7, "bye");
    net.run_until(|n| {
        (if subscriber { &n.client_events } else { &n.server_events })
            .iter()
            .any(|e| matches!(e, Event::Closed { .. }))
    });
    let closed = net.events(subscriber).iter().find(|e| matches!(e, Event::Closed { .. })).cloned();
    assert!(matches!(&closed, Some(Event::Closed { code: 7, by_peer: true, .. })), "{closed:?}");
}

#[test]
fn lite04_over_webtransport_both_roles() {
    pubsub(Version::Lite(sluice::LiteVersion::Lite04), true);
    pubsub(Version::Lite(sluice::LiteVersion::Lite04), false);
}

#[test]
fn lite05_over_webtransport_both_roles() {
    pubsub(Version::Lite(sluice::LiteVersion::Lite05), true);
    pubsub(Version::Lite(sluice::LiteVersion::Lite05), false);
}

#[test]
fn draft18_over_webtransport_both_roles() {
    pubsub(Version::Moqt(sluice::MoqtVersion::Draft18), true);
    pubsub(Version::Moqt(sluice::MoqtVersion::Draft18), false);
}

#[test]
fn server_picks_its_preferred_version_among_the_offered_protocols() {
    // Offered draft-18 first, but the server prefers lite-05 (Version::ALL order), as on raw QUIC.
    let mut net = wt_net(&[
        Version::Moqt(sluice::MoqtVersion::Draft18),
        Version::Lite(sluice::LiteVersion::Lite04),
        Version::Lite(sluice::LiteVersion::Lite05),
    ]);
    let lite05 = Version::Lite(sluice::LiteVersion::Lite05);
    assert_eq!(wait_ready_wt(&mut net), (lite05, lite05));
}

#[test]
fn datagram_objects_arrive_over_webtransport() {
    for version in [Version::Lite(sluice::LiteVersion::Lite05), Version::Moqt(sluice::MoqtVersion::Draft18)] {
        for client_publishes in [true, false] {
            let (mut net, sub, incoming) = subscribed(version, client_publishes);
            let subscriber = !client_publishes;
            let write = frame(version, 0, Bytes::from_static(b"datagram payload"));
            net.session(client_publishes).send_datagram(incoming, 5, write).unwrap();
            net.run_until(|n| !(if subscriber { &n.client_events } else { &n.server_events }).is_empty());
            let ev = std::mem::take(net.events(subscriber));
            let [Event::Object { request, info, payload }] = ev.as_slice() else {
                panic!("{version}: {ev:?}")
            };
            assert_eq!(*request, sub);
            assert_eq!((info.group, info.object), (5, 0));
            assert_eq!(payload.to_bytes(), Bytes::from_static(b"datagram payload"));
        }
    }
}
