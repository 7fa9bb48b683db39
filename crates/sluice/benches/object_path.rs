//! Objects per second through the core (divan): 1200-byte objects from a publisher session
//! to subscriber sessions, for every version, in groups of 30 (one subgroup stream each).
//!
//! * `sim_1_to_1`: a publisher and a subscriber session joined by `sluice_sim::Pair` (a
//!   perfect link); each iteration writes [`BATCH`] objects, then runs the pair until they
//!   are delivered.
//! * `sim_1_to_100`: MoQ has one session per connection, so a publisher application fanning
//!   out to 100 subscribers owns 100 publisher sessions: 100 `Pair`s, each object written
//!   to every publisher session; each iteration writes one group ([`GROUP_LEN`] objects) to
//!   all 100, then runs every pair.
//! * `core_1_to_1` / `core_1_to_100`: the same with the minimal hand-written pump of
//!   `tests/pump` instead of the simulator (outputs fed straight into the peer's inputs), to
//!   isolate the core's own cost.
//!
//! The counter is delivered objects, so divan's time is per delivered object (send +
//! receive + event) and its throughput is objects/s. Every iteration asserts that all its
//! objects arrived. Run: `cargo bench -p sluice --bench object_path`; figures in
//! `docs/bench-core.md`.

#[path = "../tests/pump/mod.rs"]
mod pump;

use bytes::Bytes;
use divan::Bencher;
use divan::counter::ItemsCount;
use pump::{CorePump, GROUP_LEN, Publication, VERSIONS, payload, subscribed_pump, track};
use sluice::{Config, Event, ObjectStatus, SubscribeOptions, TrackInfo, Version};
use sluice_sim::{Pair, Side};

fn main() {
    divan::main();
}

/// Objects per iteration in the 1 → 1 cases (ten groups).
const BATCH: u64 = 10 * GROUP_LEN;

/// Subscribers in the fan-out cases.
const FANOUT: usize = 100;

const NAMES: [&str; 3] = ["lite04", "lite05", "draft18"];

fn version(name: &str) -> Version {
    VERSIONS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).expect("known version")
}

/// A sim pair whose client subscribed to the server's track and was accepted.
fn subscribed_pair(version: Version) -> (Pair, Publication) {
    let mut pair = Pair::new(version, Config::default(), Config::default());
    pair.client.subscribe(track(), SubscribeOptions::default()).expect("subscribe");
    pair.run();
    let request = pair
        .take_events(Side::Server)
        .into_iter()
        .find_map(|e| match e {
            Event::IncomingSubscribe { request, .. } => Some(request),
            _ => None,
        })
        .expect("IncomingSubscribe");
    pair.server.accept_subscribe(request, TrackInfo::default()).expect("accept");
    pair.run();
    pair.take_events(Side::Client);
    (pair, Publication::new(request))
}

/// Normal objects among the events the pair's subscriber collected (taken).
fn delivered(pair: &mut Pair) -> u64 {
    let events = pair.take_events(Side::Client);
    events
        .iter()
        .filter(|e| matches!(e, Event::Object { info, .. } if info.status == ObjectStatus::Normal))
        .count() as u64
}

#[divan::bench(args = NAMES)]
fn sim_1_to_1(bencher: Bencher<'_, '_>, name: &str) {
    let (mut pair, mut publication) = subscribed_pair(version(name));
    let data: Bytes = payload();
    bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
        for _ in 0..BATCH {
            publication.write(&mut pair.server, &data);
        }
        pair.run();
        assert_eq!(delivered(&mut pair), BATCH);
    });
}

#[divan::bench(args = NAMES, sample_count = 30)]
fn sim_1_to_100(bencher: Bencher<'_, '_>, name: &str) {
    let mut pairs: Vec<(Pair, Publication)> = (0..FANOUT).map(|_| subscribed_pair(version(name))).collect();
    let data: Bytes = payload();
    bencher.counter(ItemsCount::new(GROUP_LEN * FANOUT as u64)).bench_local(|| {
        for _ in 0..GROUP_LEN {
            for (pair, publication) in &mut pairs {
                publication.write(&mut pair.server, &data);
            }
        }
        for (pair, _) in &mut pairs {
            pair.run();
            assert_eq!(delivered(pair), GROUP_LEN);
        }
    });
}

#[divan::bench(args = NAMES)]
fn core_1_to_1(bencher: Bencher<'_, '_>, name: &str) {
    let (mut pump, mut publication) = subscribed_pump(version(name));
    let data: Bytes = payload();
    bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
        let before = pump.delivered();
        for _ in 0..BATCH {
            publication.write(pump.publisher(), &data);
        }
        pump.run();
        assert_eq!(pump.delivered() - before, BATCH);
    });
}

#[divan::bench(args = NAMES, sample_count = 30)]
fn core_1_to_100(bencher: Bencher<'_, '_>, name: &str) {
    let mut pumps: Vec<(CorePump, Publication)> =
        (0..FANOUT).map(|_| subscribed_pump(version(name))).collect();
    let data: Bytes = payload();
    bencher.counter(ItemsCount::new(GROUP_LEN * FANOUT as u64)).bench_local(|| {
        for _ in 0..GROUP_LEN {
            for (pump, publication) in &mut pumps {
                publication.write(pump.publisher(), &data);
            }
        }
        for (pump, _) in &mut pumps {
            let before = pump.delivered();
            pump.run();
            assert_eq!(pump.delivered() - before, GROUP_LEN);
        }
    });
}
