//! Property test: random subscribe / unsubscribe / disconnect / publish sequences across
//! versions keep the relay's invariants: at most one upstream subscription per track,
//! alive exactly while a downstream subscriber is; every subscriber gets, per group, a
//! consecutive run of objects with the right bytes; when everyone has left the relay holds
//! no track and the publisher has seen every upstream subscription go.

mod common;

use common::*;
use proptest::prelude::*;
use sluice::{Event, Namespace, RequestHandle, SubscribeOptions, TrackName};
use sluice_relay::RelayConfig;
use sluice_sim::{ConnId, LinkConfig};

#[derive(Debug, Clone)]
enum Op {
    Subscribe(usize),
    Cancel(usize),
    Disconnect(usize),
    Group(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..6).prop_map(Op::Subscribe),
        (0usize..6).prop_map(Op::Cancel),
        (0usize..6).prop_map(Op::Disconnect),
        (1u64..4).prop_map(Op::Group),
    ]
}

struct Sub {
    conn: ConnId,
    request: Option<RequestHandle>,
    connected: bool,
    got: Received,
    /// Where in `got.objects` each of its subscriptions started (a new subscription may
    /// legitimately start again from the cached group).
    starts: Vec<usize>,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn relay_invariants_hold(pub_version in 0usize..3, ops in proptest::collection::vec(op(), 1..40)) {
        let mut node = Node::new(RelayConfig::default());
        let (_, mut publisher) = Publisher::new(&mut node, ALL[pub_version], LinkConfig::perfect());
        let ns = Namespace::from_fields(["p"]);
        node.peer(publisher.conn).announce(ns.clone()).unwrap();
        node.pump();
        let track = TrackName::new(ns, "t");
        let mut subs: Vec<Sub> = (0..6)
            .map(|i| {
                let (_, conn) = node.connect(ALL[i % 3], LinkConfig::perfect());
                Sub { conn, request: None, connected: true, got: Received::default(), starts: Vec::new() }
            })
            .collect();
        let mut group = 0u64;
        for op in ops {
            match op {
                Op::Subscribe(i) if subs[i].connected && subs[i].request.is_none() => {
                    let start = subs[i].got.objects.len();
                    subs[i].starts.push(start);
                    subs[i].request = Some(node.peer(subs[i].conn).subscribe(track.clone(), SubscribeOptions::default()).unwrap());
                }
                Op::Cancel(i) if subs[i].connected => {
                    if let Some(r) = subs[i].request.take() {
                        node.peer(subs[i].conn).cancel(r).unwrap();
                    }
                }
                Op::Disconnect(i) if subs[i].connected => {
                    node.net.disconnect(subs[i].conn, 0, "bye");
                    subs[i].connected = false;
                    subs[i].request = None;
                }
                Op::Group(n) if !publisher.subscriptions.is_empty() && node.relay.tracks() == 1 => {
                    publisher.write_group(&mut node, group, 0..n, 64);
                    group += 1;
                }
                _ => {}
            }
            node.pump();
            node.tick(1);
            publisher.serve(&mut node);
            for s in &mut subs {
                if s.connected {
                    s.got.take(&mut node, s.conn);
                }
            }
            let live = subs.iter().filter(|s| s.request.is_some()).count();
            prop_assert_eq!(node.relay.tracks(), usize::from(live > 0));
            prop_assert_eq!(node.relay.subscribers(&track), live);
            let started = publisher.subscriptions.len();
            let gone = publisher.log.iter().filter(|e| matches!(e, Event::SubscriberGone { .. })).count();
            prop_assert_eq!(started - gone, usize::from(live > 0), "one upstream while anyone listens");
            prop_assert_eq!(node.relay.stats().upstream_subscribes as usize, started);
        }
        for s in &mut subs {
            if let Some(r) = s.request.take() {
                node.peer(s.conn).cancel(r).unwrap();
            }
        }
        node.tick(1);
        publisher.serve(&mut node);
        prop_assert_eq!(node.relay.tracks(), 0);
        let gone = publisher.log.iter().filter(|e| matches!(e, Event::SubscriberGone { .. })).count();
        prop_assert_eq!(gone, publisher.subscriptions.len());
        for s in &subs {
            let mut last: Option<(u64, u64)> = None;
            for (index, (g, _, o, payload, _)) in s.got.objects.iter().enumerate() {
                if s.starts.contains(&index) {
                    last = None;
                }
                prop_assert_eq!(payload, &frame(*g, *o, 64));
                if let Some((lg, lo)) = last {
                    prop_assert!(*g > lg || (*g == lg && *o == lo + 1), "in order, no gap within a group: {:?}", s.got.ids());
                }
                last = Some((*g, *o));
            }
        }
    }
}
