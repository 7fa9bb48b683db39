//! Testing your own application logic on sluice-sim.
//!
//! The logic under test here is a tiny fan-out relay: whatever a publisher sends on a
//! stream, the relay forwards on a new stream to every subscriber, with the same send
//! order. The network has one publisher link and two subscriber links, one of them slow
//! and thin. The relay is ordinary code that, between network steps, looks at what each of
//! its connections received and issues commands on them; that is how any node owning
//! several sessions is expressed.
//!
//! Part 1 runs on [`ScriptedEndpoint`]s, which carry raw streams. Part 2 (further down,
//! clearly marked) is the same shape on real `sluice::Session`s, for moq-lite-04, -05 and
//! MOQT draft-18: a publisher session, the relay forwarding objects between sessions, and
//! two subscriber sessions that check every payload byte they receive.
//!
//! Run with `cargo run -p sluice-sim --example relay_fanout`.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use sluice::{
    Config, Event, Input, Namespace, ObjectStatus, ObjectWrite, RequestHandle, SendOrder, StreamId,
    SubscribeOptions, Time, TrackInfo, TrackName, Version,
};
use sluice_sim::{ConnId, LinkConfig, Network, ScriptedEndpoint, Side};

/// The application logic under test: forwards every upstream stream to every subscriber.
struct FanoutRelay {
    upstream: ConnId,
    downstream: Vec<ConnId>,
    /// Upstream stream → the stream opened for it on each downstream connection.
    routes: HashMap<StreamId, Vec<(ConnId, StreamId)>>,
}

impl FanoutRelay {
    /// One step of relay logic: handle what arrived on the relay's side of the upstream link.
    fn step(&mut self, net: &mut Network<ScriptedEndpoint>) {
        let arrived = net.endpoint_mut(self.upstream, Side::Server).take_received();
        for (_, input) in arrived {
            match input {
                Input::StreamOpened { stream, .. } => {
                    // The publisher names groups by stream; give newer groups priority.
                    let order = SendOrder(self.routes.len() as i32);
                    let routes = self
                        .downstream
                        .iter()
                        .map(|&conn| (conn, net.endpoint_mut(conn, Side::Server).open_stream(false, order)))
                        .collect();
                    self.routes.insert(stream, routes);
                }
                Input::StreamData { stream, data } => {
                    for &(conn, out) in self.routes.get(&stream).into_iter().flatten() {
                        // `data.clone()` is a reference count, not a copy of the frame.
                        net.endpoint_mut(conn, Side::Server).write(out, data.clone(), false);
                    }
                }
                Input::StreamFinished { stream } => {
                    for &(conn, out) in self.routes.get(&stream).into_iter().flatten() {
                        net.endpoint_mut(conn, Side::Server).write(out, Bytes::new(), true);
                    }
                }
                _ => {}
            }
        }
        net.run();
    }
}

fn part1_scripted() {
    println!("== part 1: scripted endpoints ==");
    let mut net: Network<ScriptedEndpoint> = Network::new(2024);
    let ms = Duration::from_millis;
    let upstream = net.connect(
        ScriptedEndpoint::new(),
        ScriptedEndpoint::new(),
        LinkConfig::perfect().with_latency(ms(10)),
    );
    let fast = net.connect(
        ScriptedEndpoint::new(),
        ScriptedEndpoint::new(),
        LinkConfig::perfect().with_latency(ms(20)).with_jitter(ms(5)),
    );
    let slow = net.connect(
        ScriptedEndpoint::new(),
        ScriptedEndpoint::new(),
        LinkConfig::perfect().with_latency(ms(60)).with_bandwidth(40_000).with_stream_window(16_000),
    );
    let mut relay = FanoutRelay { upstream, downstream: vec![fast, slow], routes: HashMap::new() };

    // The publisher: one 3 kB frame per stream every 33 ms, ten of them.
    let frame = Bytes::from(vec![0xAB; 3000]);
    for n in 0..10u64 {
        let publisher = net.endpoint_mut(upstream, Side::Client);
        let stream = publisher.open_stream(false, SendOrder(n as i32));
        publisher.write(stream, frame.clone(), true);
        // Step the network (and the relay logic) in 1 ms ticks until the next frame.
        for _ in 0..33 {
            net.advance(ms(1));
            relay.step(&mut net);
        }
    }
    for _ in 0..2000 {
        net.advance(ms(1));
        relay.step(&mut net);
    }

    for (name, conn) in [("fast", fast), ("slow", slow)] {
        let subscriber = net.endpoint(conn, Side::Client);
        let finished: Vec<Time> = subscriber
            .received
            .iter()
            .filter_map(|(t, i)| matches!(i, Input::StreamFinished { .. }).then_some(*t))
            .collect();
        let first_chunk_shares_memory =
            subscriber.stream_chunks(subscriber.opened_streams()[0])[0].as_ptr() == frame.as_ptr();
        println!(
            "{name}: {} frames, last complete at {} ms, zero-copy: {first_chunk_shares_memory}, stats {:?}",
            finished.len(),
            finished.last().map_or(0, |t| t.as_micros() / 1000),
            net.stats(conn).server_to_client,
        );
        assert_eq!(finished.len(), 10);
        assert!(first_chunk_shares_memory);
    }
}

// ---------------------------------------------------------------------------------------
// Part 2: the same shape on real sessions (`Network<Session>`, the default), for every
// version. The relay owns the server session of each connection; between network steps it
// takes their events and calls commands on them:
// * a subscriber's SUBSCRIBE is accepted at once, and the first one makes the relay
//   subscribe upstream;
// * each upstream object is written to every downstream subscription, on a downstream
//   group stream opened when the group starts and closed when the next group starts (or
//   the track ends); a subscriber that arrives mid-group joins at the next group. The
//   payload is forwarded as the same `Bytes` (no copy);
// * when the upstream subscription ends (the track is over), the relay closes the open
//   groups and ends every downstream subscription with the same code.
// ---------------------------------------------------------------------------------------

/// MOQT PUBLISH_DONE status TRACK_ENDED (draft-18 §10.11; `sluice_wire::moqt::codes`).
const TRACK_ENDED: u64 = 0x2;

/// A downstream subscription and the group stream currently open on it.
struct Downstream {
    conn: ConnId,
    request: RequestHandle,
    open: Option<(u64, StreamId)>,
}

/// The relay logic of part 2.
struct SessionRelay {
    upstream: ConnId,
    downstream_conns: Vec<ConnId>,
    upstream_request: Option<RequestHandle>,
    subscribers: Vec<Downstream>,
}

impl SessionRelay {
    fn step(&mut self, net: &mut Network) {
        for &conn in &self.downstream_conns {
            for event in net.take_events(conn, Side::Server) {
                if let Event::IncomingSubscribe { request, track, options } = event {
                    net.session(conn, Side::Server).accept_subscribe(request, TrackInfo::default()).unwrap();
                    self.subscribers.push(Downstream { conn, request, open: None });
                    if self.upstream_request.is_none() {
                        let up = net.session(self.upstream, Side::Server).subscribe(track, *options).unwrap();
                        self.upstream_request = Some(up);
                    }
                }
            }
        }
        for event in net.take_events(self.upstream, Side::Server) {
            if let Event::SubscriptionEnded { reason, .. } = event {
                // The track ended upstream: finish the open groups, then each subscription.
                for sub in &mut self.subscribers {
                    let session = net.session(sub.conn, Side::Server);
                    if let Some((_, stream)) = sub.open.take() {
                        session.close_subgroup(stream, true).unwrap();
                    }
                    session.end_subscription(sub.request, reason.code, &reason.text).unwrap();
                }
                continue;
            }
            let Event::Object { info, payload, .. } = event else { continue };
            if info.status != ObjectStatus::Normal {
                continue; // MOQT end-of-group markers: a group closes when the next one starts
            }
            for sub in &mut self.subscribers {
                let session = net.session(sub.conn, Side::Server);
                let stream = match sub.open {
                    Some((group, stream)) if group == info.group => stream,
                    // A subscriber that arrived mid-group starts with the next group.
                    _ if info.object != 0 => continue,
                    previous => {
                        if let Some((_, old)) = previous {
                            session.close_subgroup(old, true).unwrap();
                        }
                        let stream = session
                            .open_subgroup(sub.request, info.group, info.subgroup, info.publisher_priority)
                            .unwrap();
                        sub.open = Some((info.group, stream));
                        stream
                    }
                };
                let mut object = ObjectWrite::new(info.object, payload.to_bytes());
                object.timestamp = info.timestamp;
                session.write_object(stream, object).unwrap();
            }
        }
        net.run();
    }
}

/// The payload of object `object` of group `group`: checkable at the subscribers.
fn frame(group: u64, object: u64) -> Bytes {
    Bytes::from((0..1000u64).map(|i| ((group * 31 + object * 7 + i) % 251) as u8).collect::<Vec<u8>>())
}

fn part2_sessions(version: Version) {
    println!("== part 2: sluice sessions, {version:?} ==");
    let ms = Duration::from_millis;
    let mut net: Network = Network::new(7);
    let config = Config::default;
    let upstream =
        net.connect_sessions(version, config(), config(), LinkConfig::perfect().with_latency(ms(10)));
    let fast = net.connect_sessions(version, config(), config(), LinkConfig::perfect().with_latency(ms(20)));
    let slow = net.connect_sessions(
        version,
        config(),
        config(),
        LinkConfig::perfect().with_latency(ms(60)).with_bandwidth(40_000).with_stream_window(16_000),
    );
    let start = net.settle(); // the setup exchanges (MOQT, lite-05) take a round trip
    let mut relay = SessionRelay {
        upstream,
        downstream_conns: vec![fast, slow],
        upstream_request: None,
        subscribers: Vec::new(),
    };

    let track = TrackName::new(Namespace::from_fields(["demo"]), "video");
    for conn in [fast, slow] {
        net.session(conn, Side::Client).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
    }

    // The publisher (client of the upstream connection): accepts the relay's subscription,
    // then writes 3 groups of 5 one-kilobyte objects, one object every 33 ms. The network
    // and the relay run in 1 ms ticks; the subscribers check every payload byte.
    let (groups, per_group) = (3u64, 5u64);
    let mut publication = None;
    let mut open = None;
    let mut written = 0u64;
    let mut received: [Vec<(Time, u64, u64)>; 2] = [Vec::new(), Vec::new()];
    let mut ended = [None, None];
    for tick in 0..1500u64 {
        net.advance(ms(1));
        relay.step(&mut net);
        for event in net.take_events(upstream, Side::Client) {
            if let Event::IncomingSubscribe { request, .. } = event {
                net.session(upstream, Side::Client).accept_subscribe(request, TrackInfo::default()).unwrap();
                publication = Some(request);
            }
        }
        if let Some(request) = publication
            && tick % 33 == 0
            && written < groups * per_group
        {
            let (group, object) = (written / per_group, written % per_group);
            let publisher = net.session(upstream, Side::Client);
            let stream = match open {
                Some(stream) => stream,
                None => publisher.open_subgroup(request, group, 0, None).unwrap(),
            };
            let mut write = ObjectWrite::new(object, frame(group, object));
            write.timestamp = Some(written * 33); // lite-05 needs one
            publisher.write_object(stream, write).unwrap();
            open = Some(stream);
            if object + 1 == per_group {
                publisher.close_subgroup(stream, true).unwrap();
                open = None;
            }
            written += 1;
        }
        if tick == 1000 {
            // The track ends (lite: a clean FIN of the subscription; MOQT: PUBLISH_DONE).
            let code = if matches!(version, Version::Moqt(_)) { TRACK_ENDED } else { 0 };
            net.session(upstream, Side::Client).end_subscription(publication.unwrap(), code, "done").unwrap();
        }
        for (i, (conn, got)) in [fast, slow].into_iter().zip(&mut received).enumerate() {
            for event in net.take_events(conn, Side::Client) {
                match event {
                    Event::Object { info, payload, .. } if info.status == ObjectStatus::Normal => {
                        assert_eq!(payload.to_bytes(), frame(info.group, info.object), "payload differs");
                        got.push((net.now(), info.group, info.object));
                    }
                    Event::SubscriptionEnded { reason, .. } => ended[i] = Some(reason.code),
                    _ => {}
                }
            }
        }
    }

    let all: Vec<(u64, u64)> = (0..groups).flat_map(|g| (0..per_group).map(move |o| (g, o))).collect();
    for ((name, got), ended) in ["fast", "slow"].into_iter().zip(&received).zip(ended) {
        let ids: Vec<(u64, u64)> = got.iter().map(|&(_, g, o)| (g, o)).collect();
        let first_group = ids.first().map_or(groups, |&(g, _)| g);
        let last = got.last().map_or(0, |(t, ..)| (*t - start).as_millis());
        println!(
            "{name}: {} objects (groups {first_group}..={}), payload bytes checked, last {last} ms after setup, \
             subscription ended with code {ended:?}",
            got.len(),
            groups - 1
        );
        // Everything from the group it joined at, in order, nothing missing.
        assert_eq!(ids, all[(first_group * per_group) as usize..], "{name} received other objects");
        assert!(ended.is_some(), "{name}: the end of the track did not reach the subscriber");
    }
}

fn main() {
    part1_scripted();
    for version in [
        Version::Lite(sluice::LiteVersion::Lite04),
        Version::Lite(sluice::LiteVersion::Lite05),
        Version::Moqt(sluice::MoqtVersion::Draft18),
    ] {
        part2_sessions(version);
    }
}
