//! Testing your own application logic on sluice-sim.
//!
//! The logic under test here is a tiny fan-out relay: whatever a publisher sends on a
//! stream, the relay forwards on a new stream to every subscriber, with the same send
//! order. The network has one publisher link and two subscriber links, one of them slow
//! and thin. The relay is ordinary code that, between network steps, looks at what each of
//! its connections received and issues commands on them; that is how any node owning
//! several sessions is expressed.
//!
//! Part 1 runs on [`ScriptedEndpoint`]s, which carry raw streams, so it works today. Part 2
//! (further down, clearly marked) is the same shape on real `sluice::Session`s: it will
//! carry MoQ traffic once the engines land; with the current stub engines every command
//! is refused, and the example prints that.
//!
//! Run with `cargo run -p sluice-sim --example relay_fanout`.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use sluice::{
    Config, Event, Input, Namespace, SendOrder, StreamId, SubscribeOptions, Time, TrackName, Version,
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
// Part 2: the same shape on real sessions (`Network<Session>`, the default).
//
// Each connection's ends are `sluice::Session`s; the relay owns the server session of
// every connection and, each step, takes their events and calls commands on them. Until
// the engines land, the stub engines refuse commands (`CommandError::Unsupported`) and no
// MoQ traffic flows; the code below is what a test of real relay logic looks like.
// ---------------------------------------------------------------------------------------
fn part2_sessions() {
    println!("== part 2: sluice sessions ==");
    let version = Version::Lite(sluice::LiteVersion::Lite04);
    let link = LinkConfig::perfect().with_latency(Duration::from_millis(10));
    let mut net: Network = Network::new(7);
    let publisher = net.connect_sessions(version, Config::default(), Config::default(), link.clone());
    let subscriber = net.connect_sessions(version, Config::default(), Config::default(), link);
    net.settle();

    let track = TrackName::new(Namespace::from_fields(["demo"]), "video");
    match net.session(publisher, Side::Client).announce(track.namespace.clone()) {
        Ok(request) => println!("publisher announced: {request}"),
        Err(e) => println!("publisher announce refused (stub engine?): {e}"),
    }
    match net.session(subscriber, Side::Client).subscribe(track.clone(), SubscribeOptions::default()) {
        Ok(request) => println!("subscriber subscribed: {request}"),
        Err(e) => println!("subscribe refused (stub engine?): {e}"),
    }
    let mut upstream_requests = HashMap::new();
    for _ in 0..100 {
        net.advance(Duration::from_millis(1));
        // Relay logic: a subscriber asks for a track, the relay asks the publisher for it.
        for event in net.take_events(subscriber, Side::Server) {
            if let Event::IncomingSubscribe { request, track, options } = event {
                if let Ok(up) = net.session(publisher, Side::Server).subscribe(track, options) {
                    upstream_requests.insert(up, request);
                }
            }
        }
        // ... and forwards what the publisher sends (objects, ends) to the subscriber.
        for event in net.take_events(publisher, Side::Server) {
            if let Event::Object { request, info, .. } = event {
                println!("relay got object {info:?} for {request}");
            }
        }
    }
    println!(
        "subscriber saw {} events, {} upstream subscriptions opened",
        net.take_events(subscriber, Side::Client).len(),
        upstream_requests.len()
    );
}

fn main() {
    part1_scripted();
    part2_sessions();
}
