//! Heap bytes per idle session, per subscription and per cached byte at a relay node,
//! measured with [`crate::counting::CountingAlloc`] (the caller installs it as the global
//! allocator; without it every figure reads zero).
//!
//! Method: build the node in a given state, then *drop* the part being measured and count
//! the live heap bytes that drop frees. That is exactly the memory the part owns (shared
//! payload bytes that something else still references are not counted against it).
//!
//! * Per idle session: the relay's server-side [`sluice::Session`] of a connected, set-up
//!   peer that does nothing, plus the relay's own per-session state (relay with N idle
//!   sessions minus relay with none, divided by N).
//! * Per subscription: the same node with one publisher and N subscribers, each subscribed
//!   (accepted) to one track, against the same node with the N subscribers idle; the
//!   difference over the relay's sessions and the relay, divided by N. The one upstream
//!   subscription and the track's state are shared by the N and included.
//! * Per cached byte: a relay with its default group cache after some groups of 1200-byte
//!   objects, each payload its own allocation, against a relay with the cache disabled
//!   that saw the same traffic: the difference divided by the payload bytes the cache
//!   holds (1.0 would be the payload alone).

use bytes::Bytes;
use sluice::{Config, Namespace, Role, Session, TrackName, Version};
use sluice_relay::{Relay, RelayConfig};
use sluice_sim::Side;

use crate::counting::Snapshot;
use crate::relay_node::{PublisherPeer, RelayNode, connect_subscriber};

/// Sessions (or subscriptions) per measurement: large enough to average out one-off
/// growth of shared tables.
pub const N: usize = 100;

/// The figures for one version, in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryFigures {
    /// The relay's server session of an idle, set-up connection.
    pub session_per_idle: f64,
    /// The relay's own state per idle session.
    pub relay_per_idle: f64,
    /// Server sessions' growth per subscription.
    pub session_per_subscription: f64,
    /// The relay's growth per subscription.
    pub relay_per_subscription: f64,
    /// Relay heap bytes per cached payload byte.
    pub per_cached_byte: f64,
    /// Payload bytes the cache held when measured.
    pub cached_payload_bytes: usize,
}

impl MemoryFigures {
    /// Total per idle session (session + relay).
    pub fn per_idle_session(&self) -> f64 {
        self.session_per_idle + self.relay_per_idle
    }

    /// Total per subscription (sessions + relay).
    pub fn per_subscription(&self) -> f64 {
        self.session_per_subscription + self.relay_per_subscription
    }
}

/// Live bytes freed by dropping `value`.
fn freed_by_drop<T>(value: T) -> i64 {
    let before = Snapshot::now();
    drop(value);
    before.bytes_since(Snapshot::now())
}

/// Live bytes owned by the relay of `node` (freed by dropping it).
fn relay_bytes(node: &mut RelayNode) -> i64 {
    let empty = Relay::new(RelayConfig::default());
    freed_by_drop(std::mem::replace(&mut node.relay, empty))
}

/// Live bytes owned by all the relay's (server-side) sessions of `node`.
fn server_session_bytes(node: &mut RelayNode) -> i64 {
    let conns: Vec<_> = node.conns.values().copied().collect();
    let now = node.net.now();
    let mut total = 0;
    for conn in conns {
        let blank = Session::new(Config::default(), Role::Server, now);
        let slot = node.net.session(conn, Side::Server);
        total += freed_by_drop(std::mem::replace(slot, blank));
    }
    total
}

fn track() -> TrackName {
    TrackName::new(Namespace::from_fields(["mem", "room"]), "video")
}

/// A node with `sessions` idle peers.
fn idle(version: Version, sessions: usize) -> RelayNode {
    let mut node = RelayNode::new(RelayConfig::default());
    for _ in 0..sessions {
        node.connect(version);
    }
    node.pump();
    node
}

/// A node with a publisher and `n` subscribers; subscribed when `subscribe`.
fn with_subscribers(version: Version, n: usize, subscribe: bool) -> RelayNode {
    with_subscribers_in(RelayNode::new(RelayConfig::default()), version, n, subscribe).0
}

/// [`with_subscribers`] on `node`; also returns the publisher.
fn with_subscribers_in(
    mut node: RelayNode,
    version: Version,
    n: usize,
    subscribe: bool,
) -> (RelayNode, PublisherPeer) {
    let track = track();
    let mut publisher = PublisherPeer::connect(&mut node, version, track.namespace.clone());
    for _ in 0..n {
        if subscribe {
            connect_subscriber(&mut node, version, &track);
        } else {
            node.connect(version);
        }
    }
    node.pump();
    publisher.serve(&mut node);
    (node, publisher)
}

/// Heap bytes per subscription once `groups` groups of 30 objects have gone through it
/// (steady state: per-subscription records that fill up with traffic, such as the
/// publisher's forwarding-preference record and the malformed-track tables, are full by
/// then), measured as [`MemoryFigures::per_subscription`] but after the traffic and with
/// the relay's group cache off (so the cache does not count against the subscriptions).
/// The subscriber sessions' events are taken after each group, as an application would.
pub fn per_subscription_after_traffic(version: Version, subscribers: usize, groups: u64) -> f64 {
    let bytes = [true, false].map(|subscribe| {
        let node = RelayNode::new(RelayConfig { cache_groups: 0, ..RelayConfig::default() });
        let (mut node, publisher) = with_subscribers_in(node, version, subscribers, subscribe);
        let payload = Bytes::from(vec![7u8; 1200]);
        let conns: Vec<_> = node.conns.values().copied().collect();
        for group in 0..groups {
            publisher.write_group(&mut node, group, 30, &payload);
            node.pump();
            for &conn in &conns {
                drop(node.net.take_events(conn, Side::Client));
            }
        }
        server_session_bytes(&mut node) + relay_bytes(&mut node)
    });
    (bytes[0] - bytes[1]) as f64 / subscribers as f64
}

/// A node with a publisher and one subscriber after `groups` groups of 30 objects of 1200
/// bytes, each payload a separate allocation; returns the node and the track.
fn after_traffic(version: Version, config: RelayConfig, groups: u64) -> RelayNode {
    let mut node = RelayNode::new(config);
    let track = track();
    let mut publisher = PublisherPeer::connect(&mut node, version, track.namespace.clone());
    let subscriber = connect_subscriber(&mut node, version, &track);
    node.pump();
    publisher.serve(&mut node);
    let Some(request) = publisher.subscription else { return node };
    for group in 0..groups {
        let session = node.peer(publisher.conn);
        let Ok(stream) = session.open_subgroup(request, group, 0, None) else { break };
        for object in 0..30u64 {
            let mut write = sluice::ObjectWrite::new(object, Bytes::from(vec![group as u8; 1200]));
            write.timestamp = Some(group * 1000 + object);
            let _ = session.write_object(stream, write);
        }
        let _ = session.close_subgroup(stream, true);
        node.pump();
        drop(node.net.take_events(subscriber, Side::Client));
    }
    node
}

/// Measures every figure for `version`.
pub fn measure(version: Version) -> MemoryFigures {
    let n = N as f64;
    let mut empty = idle(version, 0);
    let relay_empty = relay_bytes(&mut empty);
    let mut node = idle(version, N);
    let relay_idle = relay_bytes(&mut node);
    let sessions_idle = server_session_bytes(&mut node);

    let mut idle_subs = with_subscribers(version, N, false);
    let relay_unsubscribed = relay_bytes(&mut idle_subs);
    let sessions_unsubscribed = server_session_bytes(&mut idle_subs);
    let mut subs = with_subscribers(version, N, true);
    let relay_subscribed = relay_bytes(&mut subs);
    let sessions_subscribed = server_session_bytes(&mut subs);

    let groups = 4;
    let mut cached = after_traffic(version, RelayConfig::default(), groups);
    let cached_payload_bytes = cached.relay.cached(&track()).1;
    let relay_cached = relay_bytes(&mut cached);
    let mut uncached =
        after_traffic(version, RelayConfig { cache_groups: 0, ..RelayConfig::default() }, groups);
    let relay_uncached = relay_bytes(&mut uncached);

    MemoryFigures {
        session_per_idle: sessions_idle as f64 / n,
        relay_per_idle: (relay_idle - relay_empty) as f64 / n,
        session_per_subscription: (sessions_subscribed - sessions_unsubscribed) as f64 / n,
        relay_per_subscription: (relay_subscribed - relay_unsubscribed) as f64 / n,
        per_cached_byte: if cached_payload_bytes == 0 {
            f64::NAN
        } else {
            (relay_cached - relay_uncached) as f64 / cached_payload_bytes as f64
        },
        cached_payload_bytes,
    }
}
