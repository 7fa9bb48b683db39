//! Objects per second through the relay (divan): one publisher → relay → 1, 10 or 100
//! subscribers, all sessions on a `sluice_sim` network with perfect links, every version.
//!
//! Each iteration the publisher writes one group of [`GROUP_LEN`] objects of
//! [`OBJECT_LEN`] bytes (the same `Bytes`, as a real publisher hands out its buffer), the
//! network and relay are pumped until quiet, and every subscriber's events are drained and
//! counted: the iteration asserts each subscriber got the whole group. The counter is
//! delivered objects, so divan's time is per delivered object (publisher send, relay
//! receive + fan-out, subscriber receive, the simulator's carrying) and its throughput is
//! delivered objects/s; the allocation profiler gives allocations per delivered object.
//! Run: `cargo bench -p sluice-relay --bench fanout`.

#[path = "../tests/common/mod.rs"]
mod common;

use bytes::Bytes;
use common::{DRAFT18, LITE04, LITE05, Node};
use divan::Bencher;
use divan::counter::ItemsCount;
use sluice::{Event, Namespace, ObjectStatus, ObjectWrite, SubscribeOptions, TrackInfo, TrackName, Version};
use sluice_relay::RelayConfig;
use sluice_sim::{ConnId, LinkConfig};

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

const GROUP_LEN: u64 = 30;
const OBJECT_LEN: usize = 1200;
const NAMES: [&str; 3] = ["lite04", "lite05", "draft18"];

fn version(name: &str) -> Version {
    match name {
        "lite04" => LITE04,
        "lite05" => LITE05,
        _ => DRAFT18,
    }
}

/// A relay with one publisher (its accepted upstream subscription returned) and `n`
/// subscribers of its track.
fn setup(version: Version, n: usize) -> (Node, ConnId, sluice::RequestHandle, Vec<ConnId>) {
    let mut node = Node::new(RelayConfig::default());
    let (_, publisher) = node.connect(version, LinkConfig::perfect());
    let ns = Namespace::from_fields(["bench"]);
    node.peer(publisher).announce(ns.clone()).expect("announce");
    node.pump();
    let track = TrackName::new(ns, "video");
    let subscribers: Vec<ConnId> = (0..n)
        .map(|_| {
            let (_, conn) = node.connect(version, LinkConfig::perfect());
            node.peer(conn).subscribe(track.clone(), SubscribeOptions::default()).expect("subscribe");
            node.pump();
            conn
        })
        .collect();
    let request = node
        .events(publisher)
        .into_iter()
        .find_map(|e| match e {
            Event::IncomingSubscribe { request, .. } => Some(request),
            _ => None,
        })
        .expect("the relay subscribed");
    node.peer(publisher).accept_subscribe(request, TrackInfo::default()).expect("accept");
    node.pump();
    for &s in &subscribers {
        node.events(s);
    }
    (node, publisher, request, subscribers)
}

fn fanout(bencher: Bencher<'_, '_>, name: &str, n: usize) {
    let (mut node, publisher, request, subscribers) = setup(version(name), n);
    let payload = Bytes::from(vec![7u8; OBJECT_LEN]);
    let mut group = 0u64;
    bencher.counter(ItemsCount::new(GROUP_LEN * n as u64)).bench_local(|| {
        let session = node.peer(publisher);
        let stream = session.open_subgroup(request, group, 0, None).expect("open");
        for object in 0..GROUP_LEN {
            let mut w = ObjectWrite::new(object, payload.clone());
            w.timestamp = Some(group * 1000 + object);
            session.write_object(stream, w).expect("write");
        }
        session.close_subgroup(stream, true).expect("close");
        node.pump();
        for &s in &subscribers {
            let got = node
                .events(s)
                .iter()
                .filter(|e| matches!(e, Event::Object { info, .. } if info.status == ObjectStatus::Normal))
                .count() as u64;
            assert_eq!(got, GROUP_LEN, "every subscriber gets the whole group");
        }
        group += 1;
    });
}

#[divan::bench(args = NAMES)]
fn relay_1_to_1(bencher: Bencher<'_, '_>, name: &str) {
    fanout(bencher, name, 1);
}

#[divan::bench(args = NAMES)]
fn relay_1_to_10(bencher: Bencher<'_, '_>, name: &str) {
    fanout(bencher, name, 10);
}

#[divan::bench(args = NAMES, sample_count = 20)]
fn relay_1_to_100(bencher: Bencher<'_, '_>, name: &str) {
    fanout(bencher, name, 100);
}
