//! End to end over real QUIC on 127.0.0.1: a client and a server endpoint stepped in one
//! thread, a subscription, 3 groups × 10 objects of varying sizes up to 100 KB (enough to
//! exhaust quinn-proto's initial stream and connection windows), checked byte for byte and
//! in order, then the end of the subscription; for every version, both roles; plus ALPN
//! preference and certificate pinning.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sluice::{
    Config, Event, Filter, Location, ObjectStatus, RequestHandle, SubscribeOptions, TrackInfo, Version,
};
use sluice_quinn::quinn_proto::{ConnectionHandle, TransportConfig, VarInt};
use sluice_quinn::{
    AdapterStats, Endpoint, Fingerprint, ServerIdentity, ServerVerification, client_config, server_config,
};

mod common;

use common::{LOCAL, Net, frame, payload, track};

/// A raw QUIC client connection to a server offering `server_versions`.
fn quic_net(server_versions: &[Version], client_versions: &[Version], pin: Option<Fingerprint>) -> Net {
    quic_net_with_transport(server_versions, client_versions, pin, None)
}

/// [`quic_net`] with the server's QUIC transport configuration.
fn quic_net_with_transport(
    server_versions: &[Version],
    client_versions: &[Version],
    pin: Option<Fingerprint>,
    transport: Option<TransportConfig>,
) -> Net {
    let identity = ServerIdentity::self_signed(["localhost"]).unwrap();
    let verification = ServerVerification::Pin(pin.unwrap_or_else(|| identity.fingerprint()));
    let mut server_tls = server_config(identity, server_versions).unwrap();
    if let Some(transport) = transport {
        server_tls.transport_config(Arc::new(transport));
    }
    let server = Endpoint::server(LOCAL.parse().unwrap(), server_tls, Config::default()).unwrap();
    let client_tls = client_config(verification, client_versions).unwrap();
    let mut client = Endpoint::client(LOCAL.parse().unwrap(), client_tls, Config::default()).unwrap();
    let addr: SocketAddr = server.local_addr().unwrap();
    let client_conn = client.connect(addr, "localhost").unwrap();
    Net::from_parts(server, client, client_conn)
}

const GROUPS: u64 = 3;
const OBJECTS: u64 = 10;

fn pubsub(version: Version, client_publishes: bool) {
    pubsub_with(version, client_publishes, None);
}

/// Runs the flow; returns the publisher connection's adapter counters.
/// Connects, subscribes and accepts; returns the net and (subscriber handle, publisher handle).
fn subscribed(
    version: Version,
    publisher: bool,
    server_transport: Option<TransportConfig>,
) -> (Net, RequestHandle, RequestHandle) {
    let subscriber = !publisher;
    let mut net = quic_net_with_transport(&Version::ALL, &[version], None, server_transport);
    assert_eq!(net.wait_ready().0, version);
    let options = SubscribeOptions {
        filter: Filter::AbsoluteStart(Location { group: 0, object: 0 }),
        ..SubscribeOptions::default()
    };
    let sub = net.session(subscriber).subscribe(track(), options).unwrap();
    net.run_until(|n| {
        let ev = if publisher { &n.client_events } else { &n.server_events };
        !ev.is_empty()
    });
    let incoming: RequestHandle = match net.events(publisher).remove(0) {
        Event::IncomingSubscribe { request, track: t, .. } => {
            assert_eq!(t, track());
            request
        }
        other => panic!("expected IncomingSubscribe, got {other:?}"),
    };
    let info = TrackInfo { largest: None, ..TrackInfo::default() };
    net.session(publisher).accept_subscribe(incoming, info).unwrap();
    net.run_until(|n| {
        let ev = if subscriber { &n.client_events } else { &n.server_events };
        !ev.is_empty()
    });
    match net.events(subscriber).remove(0) {
        Event::Subscribed { request, .. } => assert_eq!(request, sub),
        other => panic!("expected Subscribed, got {other:?}"),
    }
    (net, sub, incoming)
}

/// Runs the flow; returns the publisher connection's adapter counters.
fn pubsub_with(
    version: Version,
    client_publishes: bool,
    server_transport: Option<TransportConfig>,
) -> AdapterStats {
    let (publisher, subscriber) = (client_publishes, !client_publishes);
    let (mut net, sub, incoming) = subscribed(version, publisher, server_transport);

    for group in 0..GROUPS {
        let stream = net.session(publisher).open_subgroup(incoming, group, 0, None).unwrap();
        for object in 0..OBJECTS {
            net.session(publisher)
                .write_object(stream, frame(version, object, payload(group, object)))
                .unwrap();
        }
        net.session(publisher).close_subgroup(stream, true).unwrap();
    }

    let count_objects = |ev: &Vec<Event>| {
        ev.iter()
            .filter(|e| matches!(e, Event::Object { info, .. } if info.status == ObjectStatus::Normal))
            .count()
    };
    net.run_until(|n| {
        let ev = if subscriber { &n.client_events } else { &n.server_events };
        count_objects(ev) == (GROUPS * OBJECTS) as usize
    });
    let mut got = Vec::new();
    for event in net.events(subscriber).drain(..) {
        match event {
            Event::Object { request, info, payload } => {
                assert_eq!(request, sub);
                if info.status == ObjectStatus::Normal {
                    got.push((info.group, info.object, payload.to_bytes()));
                } else {
                    // MOQT reports the end of each group as an EndOfGroup status object.
                    assert!(matches!(version, Version::Moqt(_)), "{info:?}");
                    assert_eq!(info.status, ObjectStatus::EndOfGroup);
                }
            }
            // A finished group stream (reported since Event::SubgroupEnded exists).
            Event::SubgroupEnded { request, .. } => assert_eq!(request, sub),
            other => panic!("unexpected {other:?}"),
        }
    }
    // Groups travel on separate streams, so groups may interleave; within a group the
    // order is the stream order.
    got.sort_by_key(|(g, _, _)| *g);
    let want: Vec<(u64, u64, Bytes)> =
        (0..GROUPS).flat_map(|g| (0..OBJECTS).map(move |o| (g, o, payload(g, o)))).collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((g.0, g.1, g.2.len()), (w.0, w.1, w.2.len()));
        assert!(g.2 == w.2, "payload of group {} object {} differs", w.0, w.1);
    }

    // End: the publisher ends the subscription; the subscriber hears it.
    net.session(publisher).end_subscription(incoming, 0, "done").unwrap();
    net.run_until(|n| {
        let ev = if subscriber { &n.client_events } else { &n.server_events };
        ev.iter().any(|e| matches!(e, Event::SubscriptionEnded { .. }))
    });
    let ended: Vec<&Event> =
        net.events(subscriber).iter().filter(|e| matches!(e, Event::SubscriptionEnded { .. })).collect();
    let [Event::SubscriptionEnded { request, reason }] = ended.as_slice() else { panic!("{ended:?}") };
    assert_eq!(*request, sub);
    assert_eq!(reason.code, 0);

    let stats = if publisher {
        net.client.connection(net.client_conn).unwrap().stats()
    } else {
        net.server.connection(net.server_conn.unwrap()).unwrap().stats()
    };

    // Closing: the peer sees Closed with our code.
    net.session(publisher).close(0, "bye");
    net.run_until(|n| {
        let ev = if subscriber { &n.client_events } else { &n.server_events };
        ev.iter().any(|e| matches!(e, Event::Closed { .. }))
    });
    let closed = net.events(subscriber).iter().find(|e| matches!(e, Event::Closed { .. })).cloned();
    assert!(matches!(closed, Some(Event::Closed { code: 0, by_peer: true, .. })), "{closed:?}");
    stats
}

#[test]
fn lite04_client_publishes_server_subscribes() {
    pubsub(Version::Lite(sluice::LiteVersion::Lite04), true);
}

#[test]
fn lite04_server_publishes_client_subscribes() {
    pubsub(Version::Lite(sluice::LiteVersion::Lite04), false);
}

#[test]
fn lite05_client_publishes_server_subscribes() {
    pubsub(Version::Lite(sluice::LiteVersion::Lite05), true);
}

#[test]
fn lite05_server_publishes_client_subscribes() {
    pubsub(Version::Lite(sluice::LiteVersion::Lite05), false);
}

#[test]
fn draft18_client_publishes_server_subscribes() {
    pubsub(Version::Moqt(sluice::MoqtVersion::Draft18), true);
}

#[test]
fn draft18_server_publishes_client_subscribes() {
    pubsub(Version::Moqt(sluice::MoqtVersion::Draft18), false);
}

#[test]
fn server_picks_its_most_preferred_version_the_client_offers() {
    // The client lists draft-18 first, but the server prefers lite-05 (Version::ALL order).
    let client_order = [
        Version::Moqt(sluice::MoqtVersion::Draft18),
        Version::Lite(sluice::LiteVersion::Lite04),
        Version::Lite(sluice::LiteVersion::Lite05),
    ];
    let mut net = quic_net(&Version::ALL, &client_order, None);
    assert_eq!(net.wait_ready().0, Version::Lite(sluice::LiteVersion::Lite05));
    // A server that only speaks draft-18 gets draft-18.
    let mut net = quic_net(&[Version::Moqt(sluice::MoqtVersion::Draft18)], &Version::ALL, None);
    assert_eq!(net.wait_ready().0, Version::Moqt(sluice::MoqtVersion::Draft18));
}

#[test]
fn wrong_fingerprint_fails_the_handshake() {
    let other = ServerIdentity::self_signed(["localhost"]).unwrap().fingerprint();
    let mut net = quic_net(&Version::ALL, &Version::ALL, Some(other));
    net.run_until(|n| n.client_events.iter().any(|e| matches!(e, Event::Closed { .. })));
    assert!(!net.client_events.iter().any(|e| matches!(e, Event::Ready { .. })), "{:?}", net.client_events);
    let closed = net.client_events.iter().find(|e| matches!(e, Event::Closed { .. })).cloned();
    // rustls answers a refused certificate with the access_denied alert (49): QUIC transport
    // error CRYPTO_ERROR 0x100 + 49.
    assert!(matches!(closed, Some(Event::Closed { code: 0x131, by_peer: true, .. })), "{closed:?}");
    // The server hears the same alert and never becomes ready either.
    net.run_until(|n| n.server_events.iter().any(|e| matches!(e, Event::Closed { .. })));
    assert!(!net.server_events.iter().any(|e| matches!(e, Event::Ready { .. })), "{:?}", net.server_events);
    let closed = net.server_events.iter().find(|e| matches!(e, Event::Closed { .. })).cloned();
    assert!(matches!(closed, Some(Event::Closed { code: 0x131, by_peer: true, .. })), "{closed:?}");
    assert_eq!(net.client.connection(net.client_conn).and_then(|c| c.version()), None);
}

/// A server that grants two concurrent uni streams and small flow-control windows: the
/// client publisher's group streams must wait for stream credit (queued opens retried on
/// `StreamEvent::Available`) and its writes for window (queued bytes, `Writable`), and every
/// byte still arrives in order.
#[test]
fn stream_credit_and_window_exhaustion_queue_without_loss() {
    for version in Version::ALL {
        let mut transport = TransportConfig::default();
        transport.max_concurrent_uni_streams(VarInt::from_u32(2));
        transport.stream_receive_window(VarInt::from_u32(16 * 1024));
        transport.receive_window(VarInt::from_u32(48 * 1024));
        let stats = pubsub_with(version, true, Some(transport));
        assert!(stats.deferred_opens >= 1, "{version}: {stats:?}");
        assert!(stats.blocked_writes >= 1, "{version}: {stats:?}");
        assert!(stats.writable_reports >= 1, "{version}: {stats:?}");
    }
}

/// Objects sent as QUIC datagrams arrive as objects (lite-05 and draft-18; lite-04 has no
/// datagrams).
#[test]
fn datagram_objects_arrive() {
    for version in [Version::Lite(sluice::LiteVersion::Lite05), Version::Moqt(sluice::MoqtVersion::Draft18)] {
        for client_publishes in [true, false] {
            let (mut net, sub, incoming) = subscribed(version, client_publishes, None);
            let subscriber = !client_publishes;
            let write = frame(version, 0, Bytes::from_static(b"datagram payload"));
            net.session(client_publishes).send_datagram(incoming, 5, write).unwrap();
            net.run_until(|n| {
                let ev = if subscriber { &n.client_events } else { &n.server_events };
                !ev.is_empty()
            });
            let ev = std::mem::take(net.events(subscriber));
            let [Event::Object { request, info, payload }] = ev.as_slice() else {
                panic!("{version}: {ev:?}")
            };
            assert_eq!(*request, sub);
            assert_eq!((info.group, info.object, info.status), (5, 0, ObjectStatus::Normal));
            assert_eq!(payload.to_bytes(), Bytes::from_static(b"datagram payload"));
        }
    }
}

/// One server endpoint, three clients each offering a different single version: the server
/// accepts all three connections, each with its own session on the version its client offered.
#[test]
fn one_server_many_connections_each_with_its_own_version() {
    let identity = ServerIdentity::self_signed(["localhost"]).unwrap();
    let pin = identity.fingerprint();
    let mut server = Endpoint::server(
        LOCAL.parse().unwrap(),
        server_config(identity, &Version::ALL).unwrap(),
        Config::default(),
    )
    .unwrap();
    let addr = server.local_addr().unwrap();
    let mut clients: Vec<(Version, Endpoint, ConnectionHandle)> = Version::ALL
        .into_iter()
        .map(|v| {
            let tls = client_config(ServerVerification::Pin(pin), &[v]).unwrap();
            let mut ep = Endpoint::client(LOCAL.parse().unwrap(), tls, Config::default()).unwrap();
            let h = ep.connect(addr, "localhost").unwrap();
            (v, ep, h)
        })
        .collect();
    let mut accepted = Vec::new();
    let mut client_ready = vec![None; clients.len()];
    let deadline = Instant::now() + Duration::from_secs(10);
    while accepted.len() < clients.len() || client_ready.iter().any(Option::is_none) {
        assert!(Instant::now() < deadline, "timed out: {accepted:?} {client_ready:?}");
        for (i, (_, ep, h)) in clients.iter_mut().enumerate() {
            ep.step(Duration::from_millis(1)).unwrap();
            for e in ep.connection(*h).unwrap().take_events() {
                if let Event::Ready { version, .. } = e {
                    client_ready[i] = Some(version);
                }
            }
        }
        server.step(Duration::from_millis(1)).unwrap();
        while let Some(h) = server.accept() {
            accepted.push(h);
        }
    }
    let want: Vec<Option<Version>> = clients.iter().map(|(v, _, _)| Some(*v)).collect();
    assert_eq!(client_ready, want);
    let mut server_versions: Vec<String> =
        accepted.iter().map(|h| server.connection(*h).unwrap().version().unwrap().to_string()).collect();
    server_versions.sort();
    assert_eq!(server_versions, vec!["moq-lite-04", "moq-lite-05", "moqt-18"]);
    assert_eq!(server.connections().count(), 3);
}

/// `Connection::unacked_streams` counts finished streams until the peer acknowledged all of
/// their data: right after the publisher hands three finished group streams to QUIC (and
/// before the subscriber ran at all) all three count; once the count is back to 0 the
/// subscriber has every object (an acknowledgement implies receipt).
#[test]
fn finished_streams_count_as_unacked_until_the_peer_acknowledges_them() {
    for version in Version::ALL {
        let (mut net, _sub, incoming) = subscribed(version, true, None);
        let mut streams = Vec::new();
        for group in 0..3 {
            let stream = net.session(true).open_subgroup(incoming, group, 0, None).unwrap();
            streams.push(stream);
            for object in 0..4 {
                let payload = Bytes::from(vec![group as u8; 100]);
                net.session(true).write_object(stream, frame(version, object, payload)).unwrap();
            }
            net.session(true).close_subgroup(stream, true).unwrap();
        }
        net.client.step(Duration::from_millis(1)).unwrap();
        let conn = net.client.connection(net.client_conn).unwrap();
        assert_eq!((conn.queued_bytes(), conn.unacked_streams()), (0, 3), "{version}");
        assert!(streams.iter().all(|s| conn.is_unacked(*s)), "{version}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while net.client.connection(net.client_conn).unwrap().unacked_streams() > 0 {
            assert!(Instant::now() < deadline, "{version}: never acknowledged");
            // One round of run_until: client step, server step, events collected.
            let mut stepped = false;
            net.run_until(|_| std::mem::replace(&mut stepped, true));
        }
        let objects = net
            .server_events
            .iter()
            .filter(|e| matches!(e, Event::Object { info, .. } if info.status == ObjectStatus::Normal))
            .count();
        assert_eq!(objects, 12, "{version}: acknowledged before received");
        let conn = net.client.connection(net.client_conn).unwrap();
        assert!(!streams.iter().any(|s| conn.is_unacked(*s)), "{version}");
    }
}
