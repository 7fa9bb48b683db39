//! The core object path through a relay in the simulator: one publisher session → a
//! `sluice-relay` node → N subscriber sessions, every link perfect.
//!
//! This is the 1 → N shape of the issue with the relay in the middle (not N independent
//! publisher/subscriber pairs, which `crates/sluice/benches/object_path.rs` measures): each
//! object is decoded once by the relay's upstream session, handed to the relay, and written
//! by each of the N downstream sessions, whose peers decode it again. The cost per
//! delivered object therefore includes two sessions' work on the subscriber side of the
//! relay plus a 1/N share of the publisher side, the relay's routing and cache, and the
//! simulator's link model.

use bytes::Bytes;
use sluice::{Event, Namespace, ObjectStatus, Payload, TrackName, Version};
use sluice_relay::RelayConfig;
use sluice_sim::{ConnId, Side};

use crate::relay_node::{PublisherPeer, RelayNode, connect_subscriber};

/// Objects per group (one subgroup stream per group).
pub const GROUP_LEN: u64 = 30;

/// A relay with one publisher and N subscribers of one track, subscribed and flowing.
#[derive(Debug)]
pub struct Fanout {
    /// The relay node.
    pub node: RelayNode,
    publisher: PublisherPeer,
    subscribers: Vec<ConnId>,
    next_group: u64,
    events: Vec<sluice::Event>,
    /// Normal objects delivered to all subscribers so far.
    pub delivered: u64,
    /// The payload of the last object the first subscriber received.
    pub last_payload: Option<Payload>,
}

impl Fanout {
    /// Sets up the relay, a publisher and `subscribers` subscribers, all speaking `version`,
    /// and runs until the relay's upstream subscription is accepted.
    pub fn new(version: Version, subscribers: usize) -> Option<Fanout> {
        let mut node = RelayNode::new(RelayConfig::default());
        let namespace = Namespace::from_fields(["bench", "room"]);
        let mut publisher = PublisherPeer::connect(&mut node, version, namespace.clone());
        let track = TrackName::new(namespace, "video");
        let subscribers = (0..subscribers).map(|_| connect_subscriber(&mut node, version, &track)).collect();
        node.pump();
        publisher.serve(&mut node);
        publisher.subscription?;
        let mut fanout = Fanout {
            node,
            publisher,
            subscribers,
            next_group: 0,
            events: Vec::new(),
            delivered: 0,
            last_payload: None,
        };
        fanout.collect();
        Some(fanout)
    }

    /// The number of subscribers.
    pub fn subscribers(&self) -> usize {
        self.subscribers.len()
    }

    /// Writes the next group of [`GROUP_LEN`] objects of `payload`, runs the relay until
    /// quiet and collects what the subscribers received. Returns the objects delivered by
    /// this call (all subscribers together), or `None` if the publisher could not write.
    pub fn group(&mut self, payload: &Bytes) -> Option<u64> {
        let group = self.next_group;
        self.next_group += 1;
        if !self.publisher.write_group(&mut self.node, group, GROUP_LEN, payload) {
            return None;
        }
        self.node.pump();
        let before = self.delivered;
        self.collect();
        Some(self.delivered - before)
    }

    /// Takes every subscriber's events, counting normal objects.
    fn collect(&mut self) {
        for (i, &conn) in self.subscribers.iter().enumerate() {
            self.node.net.drain_events_into(conn, Side::Client, &mut self.events);
            for event in self.events.drain(..) {
                if let Event::Object { info, payload, .. } = event
                    && info.status == ObjectStatus::Normal
                {
                    self.delivered += 1;
                    if i == 0 {
                        self.last_payload = Some(payload);
                    }
                }
            }
        }
    }
}
