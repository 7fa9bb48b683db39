//! Property test over random sequences of application commands between two well-behaved
//! sluice sessions, for every version, with the publisher on either side.
//!
//! Invariants:
//! * one sluice session never accuses another of a violation: no `Closed` event unless the
//!   test closed the session itself;
//! * every received object belongs to a subscription the subscriber made, arrives in order
//!   within its group (consecutive ids from the first seen) and carries exactly the payload
//!   bytes the publisher wrote;
//! * each subscription sees at most one terminal event (`SubscribeFailed` /
//!   `SubscriptionEnded`), and none after the subscriber cancelled it itself;
//! * after close every engine table on both sides is empty.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;
use sluice::{
    Config, Event, Namespace, ObjectStatus, ObjectWrite, RequestHandle, StreamId, SubscribeOptions,
    TrackInfo, TrackName, Version,
};
use sluice_sim::{Pair, Side};

#[derive(Debug, Clone)]
enum Op {
    Subscribe,
    Accept(usize),
    Reject(usize),
    OpenGroup(usize),
    Write(usize, usize),
    CloseGroup(usize),
    Cancel(usize),
    End(usize),
    Update(usize, u8),
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Subscribe),
        3 => (0..6usize).prop_map(Op::Accept),
        1 => (0..6usize).prop_map(Op::Reject),
        3 => (0..6usize).prop_map(Op::OpenGroup),
        6 => (0..8usize, 0..3000usize).prop_map(|(s, n)| Op::Write(s, n)),
        2 => (0..8usize).prop_map(Op::CloseGroup),
        1 => (0..6usize).prop_map(Op::Cancel),
        1 => (0..6usize).prop_map(Op::End),
        1 => (0..6usize, any::<u8>()).prop_map(|(s, p)| Op::Update(s, p)),
        1 => (1..200u64).prop_map(Op::Advance),
    ]
}

/// The payload the publisher writes for (track, group, object): checkable at the receiver.
fn payload(track: usize, group: u64, object: u64, len: usize) -> Bytes {
    let seed = (track as u64) * 1_000_003 + group * 1009 + object;
    Bytes::from((0..len).map(|i| (seed.wrapping_add(i as u64) % 251) as u8).collect::<Vec<u8>>())
}

struct Publication {
    track: usize,
    handle: RequestHandle,
    accepted: bool,
    alive: bool,
    next_group: u64,
}

struct Group {
    publication: usize,
    stream: StreamId,
    group: u64,
    next_object: u64,
    open: bool,
}

struct Harness {
    pair: Pair,
    publisher: Side,
    /// Subscriber handle → track index.
    subscriptions: Vec<(RequestHandle, usize)>,
    publications: Vec<Publication>,
    groups: Vec<Group>,
    /// (track, group, object) → payload length written.
    written: HashMap<(usize, u64, u64), usize>,
    /// (subscription, group) → last object id received.
    received: HashMap<(RequestHandle, u64), u64>,
    terminal: HashSet<RequestHandle>,
    cancelled: HashSet<RequestHandle>,
    tracks: HashMap<TrackName, usize>,
}

impl Harness {
    fn new(version: Version, publisher: Side) -> Harness {
        let mut h = Harness {
            pair: Pair::new(version, Config::default(), Config::default()),
            publisher,
            subscriptions: Vec::new(),
            publications: Vec::new(),
            groups: Vec::new(),
            written: HashMap::new(),
            received: HashMap::new(),
            terminal: HashSet::new(),
            cancelled: HashSet::new(),
            tracks: HashMap::new(),
        };
        h.settle();
        h
    }

    fn track_name(i: usize) -> TrackName {
        TrackName::new(Namespace::from_fields(["prop", "ns"]), &format!("t{i}"))
    }

    fn settle(&mut self) {
        self.pair.run();
        let sub_side = self.publisher.peer();
        for event in self.pair.take_events(self.publisher) {
            match event {
                Event::IncomingSubscribe { request, track, .. } => {
                    let t = self.tracks[&track];
                    self.publications.push(Publication {
                        track: t,
                        handle: request,
                        accepted: false,
                        alive: true,
                        next_group: 0,
                    });
                }
                Event::SubscriberGone { request } => {
                    if let Some(p) = self.publications.iter_mut().find(|p| p.handle == request) {
                        p.alive = false;
                    }
                }
                Event::Closed { .. } => panic!("publisher closed unexpectedly: {event:?}"),
                _ => {}
            }
        }
        for event in self.pair.take_events(sub_side) {
            match event {
                Event::Object { request, info, payload } => {
                    let track = self.subscriptions.iter().find(|(h, _)| *h == request).map(|(_, t)| *t);
                    let track = track.unwrap_or_else(|| panic!("object for unknown request {request}"));
                    if info.status != ObjectStatus::Normal {
                        // End-of-group/track markers (MOQT) carry no payload and were not written
                        // as objects by the application.
                        assert!(payload.is_empty(), "status object with a payload: {info:?}");
                        continue;
                    }
                    let len = self.written.get(&(track, info.group, info.object)).copied();
                    let len = len.unwrap_or_else(|| panic!("object {info:?} was never written"));
                    assert_eq!(payload.to_bytes(), payload_of(track, &info, len), "payload differs");
                    if let Some(prev) = self.received.insert((request, info.group), info.object) {
                        assert_eq!(info.object, prev + 1, "objects out of order in group {}", info.group);
                    }
                }
                Event::SubscribeFailed { request, .. } | Event::SubscriptionEnded { request, .. } => {
                    assert!(self.terminal.insert(request), "second terminal event for {request}");
                    assert!(!self.cancelled.contains(&request), "terminal event after own cancel");
                }
                Event::Closed { .. } => panic!("subscriber closed unexpectedly: {event:?}"),
                _ => {}
            }
        }
    }

    fn apply(&mut self, op: Op) {
        let sub_side = self.publisher.peer();
        let (np, ng, ns) = (self.publications.len(), self.groups.len(), self.subscriptions.len());
        match op {
            Op::Subscribe => {
                let t = self.tracks.len();
                let name = Self::track_name(t);
                self.tracks.insert(name.clone(), t);
                if let Ok(h) = self.pair.session(sub_side).subscribe(name, SubscribeOptions::default()) {
                    self.subscriptions.push((h, t));
                }
            }
            Op::Accept(i) => {
                // Accept one of the publications not accepted yet.
                let waiting: Vec<usize> = (0..np)
                    .filter(|&k| self.publications[k].alive && !self.publications[k].accepted)
                    .collect();
                if let Some(&k) = waiting.get(pick(i, waiting.len())) {
                    let handle = self.publications[k].handle;
                    if self
                        .pair
                        .session(self.publisher)
                        .accept_subscribe(handle, TrackInfo::default())
                        .is_ok()
                    {
                        self.publications[k].accepted = true;
                    }
                }
            }
            Op::Reject(i) => {
                if let Some(p) = self.publications.get_mut(pick(i, np))
                    && p.alive
                    && !p.accepted
                {
                    let handle = p.handle;
                    p.alive = false;
                    let _ = self.pair.session(self.publisher).reject(handle, 0x10, "no");
                }
            }
            Op::OpenGroup(i) => {
                // Open a group of one of the accepted publications.
                let accepted: Vec<usize> = (0..np)
                    .filter(|&k| self.publications[k].alive && self.publications[k].accepted)
                    .collect();
                let Some(&i) = accepted.get(pick(i, accepted.len())) else { return };
                let p = &mut self.publications[i];
                let group = p.next_group;
                let handle = p.handle;
                if let Ok(stream) = self.pair.session(self.publisher).open_subgroup(handle, group, 0, None) {
                    let p = &mut self.publications[i];
                    p.next_group += 1;
                    self.groups.push(Group { publication: i, stream, group, next_object: 0, open: true });
                }
            }
            Op::Write(g, len) => {
                let Some(grp) = self.groups.get_mut(pick(g, ng)) else { return };
                if !grp.open {
                    return;
                }
                let track = self.publications[grp.publication].track;
                let object = grp.next_object;
                let mut write = ObjectWrite::new(object, payload(track, grp.group, object, len));
                write.timestamp = Some(object * 33);
                if self.pair.session(self.publisher).write_object(grp.stream, write).is_ok() {
                    grp.next_object += 1;
                    self.written.insert((track, grp.group, object), len);
                }
            }
            Op::CloseGroup(g) => {
                if let Some(grp) = self.groups.get_mut(pick(g, ng))
                    && grp.open
                {
                    grp.open = false;
                    let _ = self.pair.session(self.publisher).close_subgroup(grp.stream, true);
                }
            }
            Op::Cancel(i) => {
                if let Some(&(h, _)) = self.subscriptions.get(pick(i, ns))
                    && !self.terminal.contains(&h)
                    && self.pair.session(sub_side).cancel(h).is_ok()
                {
                    self.cancelled.insert(h);
                }
            }
            Op::End(i) => {
                if let Some(p) = self.publications.get_mut(pick(i, np))
                    && p.alive
                {
                    let handle = p.handle;
                    p.alive = false;
                    let _ = self.pair.session(self.publisher).end_subscription(handle, 0x2, "done");
                }
            }
            Op::Update(i, prio) => {
                if let Some(&(h, _)) = self.subscriptions.get(pick(i, ns)) {
                    let options = SubscribeOptions { priority: prio, ..SubscribeOptions::default() };
                    let _ = self.pair.session(sub_side).update_subscription(h, options);
                }
            }
            Op::Advance(ms) => self.pair.advance(Duration::from_millis(ms)),
        }
        self.settle();
    }
}

/// Ops name items by an index; taken modulo the live count so that most ops hit something.
fn pick(i: usize, len: usize) -> usize {
    if len == 0 { 0 } else { i % len }
}

fn payload_of(track: usize, info: &sluice::ObjectInfo, len: usize) -> Bytes {
    payload(track, info.group, info.object, len)
}

/// The harness itself is not vacuous: a plain subscribe/accept/write sequence delivers every
/// object through the same checks the property uses.
#[test]
fn harness_delivers_a_scripted_sequence() {
    for version in Version::ALL {
        for publisher in [Side::Client, Side::Server] {
            let mut h = Harness::new(version, publisher);
            for op in [
                Op::Subscribe,
                Op::Accept(0),
                Op::OpenGroup(0),
                Op::Write(0, 1200),
                Op::Write(0, 0),
                Op::Write(0, 5000),
                Op::CloseGroup(0),
                Op::OpenGroup(0),
                Op::Write(1, 7),
            ] {
                h.apply(op);
            }
            assert_eq!(h.written.len(), 4, "{version} publisher {publisher:?}");
            let last: Vec<_> = h.received.iter().map(|(&(_, g), &o)| (g, o)).collect();
            assert_eq!(last.len(), 2, "{version}: both groups arrive");
            assert!(last.contains(&(0, 2)) && last.contains(&(1, 0)), "{version}: {last:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn well_behaved_sessions_agree(
        version in prop::sample::select(Version::ALL.to_vec()),
        publisher_is_client in any::<bool>(),
        ops in prop::collection::vec(op(), 20..80),
    ) {
        let publisher = if publisher_is_client { Side::Client } else { Side::Server };
        let mut h = Harness::new(version, publisher);
        for op in ops {
            h.apply(op);
        }
        h.pair.session(Side::Client).close(0, "bye");
        h.pair.run();
        prop_assert_eq!(h.pair.session(Side::Client).table_sizes(), 0);
        prop_assert_eq!(h.pair.session(Side::Server).table_sizes(), 0);
    }
}
