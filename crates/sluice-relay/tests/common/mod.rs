//! Test harness: a relay node on a `sluice_sim::Network`.
//!
//! Every connection joins a peer (the client side: a publisher or a subscriber the test
//! drives) to the relay (the server side, owned by the network and driven by the relay
//! through [`NetSessions`]). [`Node::pump`] hands every event of the relay's sessions to
//! the relay until nothing moves; [`Node::tick`] advances the clock in small steps.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use sluice::{Config, Event, LiteVersion, MoqtVersion, Session, Time, Version};
use sluice_relay::{Relay, RelayConfig, SessionId, Sessions};
use sluice_sim::{ConnId, LinkConfig, Network, Side};

pub mod mesh;

pub const LITE04: Version = Version::Lite(LiteVersion::Lite04);
pub const LITE05: Version = Version::Lite(LiteVersion::Lite05);
pub const DRAFT18: Version = Version::Moqt(MoqtVersion::Draft18);
pub const ALL: [Version; 3] = [LITE04, LITE05, DRAFT18];

/// The relay's sessions inside the network.
pub struct NetSessions<'a> {
    pub net: &'a mut Network,
    pub conns: &'a BTreeMap<SessionId, ConnId>,
}

impl Sessions for NetSessions<'_> {
    fn session(&mut self, id: SessionId) -> Option<&mut Session> {
        let conn = *self.conns.get(&id)?;
        Some(self.net.session(conn, Side::Server))
    }
}

pub struct Node {
    pub net: Network,
    pub relay: Relay,
    pub conns: BTreeMap<SessionId, ConnId>,
    next_id: u64,
}

impl Node {
    pub fn new(config: RelayConfig) -> Node {
        Node { net: Network::new(1), relay: Relay::new(config), conns: BTreeMap::new(), next_id: 0 }
    }

    /// Connects a peer speaking `version` to the relay; returns the relay's id for it and
    /// the connection (the peer is its client side).
    pub fn connect(&mut self, version: Version, link: LinkConfig) -> (SessionId, ConnId) {
        let id = SessionId(self.next_id);
        self.next_id += 1;
        self.relay.add_session(id);
        let conn = self.net.connect_sessions(version, Config::default(), Config::default(), link);
        self.conns.insert(id, conn);
        self.pump();
        (id, conn)
    }

    /// The peer (client) session of a connection.
    pub fn peer(&mut self, conn: ConnId) -> &mut Session {
        self.net.session(conn, Side::Client)
    }

    /// Takes the peer's events.
    pub fn events(&mut self, conn: ConnId) -> Vec<Event> {
        self.net.take_events(conn, Side::Client)
    }

    /// Feeds the relay every event of its sessions and fires its timer, until quiet.
    pub fn pump(&mut self) {
        loop {
            self.net.run();
            let now = self.net.now();
            let mut moved = false;
            let ids: Vec<(SessionId, ConnId)> = self.conns.iter().map(|(i, c)| (*i, *c)).collect();
            for (id, conn) in ids {
                for event in self.net.take_events(conn, Side::Server) {
                    moved = true;
                    let mut s = NetSessions { net: &mut self.net, conns: &self.conns };
                    self.relay.on_event(now, id, event, &mut s);
                }
            }
            if self.relay.poll_timeout().is_some_and(|t| t <= now) {
                let mut s = NetSessions { net: &mut self.net, conns: &self.conns };
                self.relay.handle_timeout(now, &mut s);
                moved = true;
            }
            if !moved {
                break;
            }
        }
    }

    /// Advances `ms` milliseconds in 1 ms steps, pumping the relay at each.
    pub fn tick(&mut self, ms: u64) {
        for _ in 0..ms {
            self.net.advance(Duration::from_millis(1));
            self.pump();
        }
    }

    pub fn now(&self) -> Time {
        self.net.now()
    }
}

/// The payload of object `object` of group `group`: checkable byte for byte.
pub fn frame(group: u64, object: u64, len: usize) -> Bytes {
    Bytes::from((0..len as u64).map(|i| ((group * 31 + object * 7 + i) % 251) as u8).collect::<Vec<u8>>())
}

/// A publisher peer driven by the test.
pub struct Publisher {
    pub conn: ConnId,
    pub version: Version,
    /// Subscriptions the relay made to us, accepted.
    pub subscriptions: Vec<sluice::RequestHandle>,
    /// Every event seen.
    pub log: Vec<Event>,
    /// Every payload written, to check zero-copy forwarding.
    pub written: Vec<Bytes>,
}

impl Publisher {
    pub fn new(node: &mut Node, version: Version, link: LinkConfig) -> (SessionId, Publisher) {
        let (id, conn) = node.connect(version, link);
        (id, Publisher { conn, version, subscriptions: Vec::new(), log: Vec::new(), written: Vec::new() })
    }

    /// A publisher on a perfect link that announced the namespace `live` (routed by the
    /// relay), and the track `live/video` the tests have it serve.
    pub fn live_video(node: &mut Node, version: Version) -> (SessionId, Publisher, sluice::TrackName) {
        let (id, publisher) = Publisher::new(node, version, LinkConfig::perfect());
        let ns = sluice::Namespace::from_fields(["live"]);
        node.peer(publisher.conn).announce(ns.clone()).unwrap();
        node.pump();
        (id, publisher, sluice::TrackName::new(ns, "video"))
    }

    /// Accepts every subscription the relay made since the last call.
    pub fn serve(&mut self, node: &mut Node) {
        for event in node.events(self.conn) {
            if let Event::IncomingSubscribe { request, .. } = &event {
                node.peer(self.conn).accept_subscribe(*request, sluice::TrackInfo::default()).unwrap();
                self.subscriptions.push(*request);
            }
            self.log.push(event);
        }
        node.pump();
    }

    /// Writes group `group` (objects 0..count, `len` bytes each) on the latest accepted
    /// subscription; closes the group stream when `close`.
    pub fn write_group(&mut self, node: &mut Node, group: u64, objects: std::ops::Range<u64>, len: usize) {
        let request = *self.subscriptions.last().expect("no subscription to publish on");
        let session = node.peer(self.conn);
        let stream = session.open_subgroup(request, group, 0, None).unwrap();
        for object in objects {
            let payload = frame(group, object, len);
            self.written.push(payload.clone());
            let mut write = sluice::ObjectWrite::new(object, payload);
            write.timestamp = Some(group * 1000 + object);
            session.write_object(stream, write).unwrap();
        }
        session.close_subgroup(stream, true).unwrap();
        node.pump();
    }
}

/// A subscriber peer driven by the test: what it received.
#[derive(Debug, Default)]
pub struct Received {
    /// (group, subgroup, object, payload, timestamp) of every normal object, in order.
    pub objects: Vec<(u64, u64, u64, Bytes, Option<u64>)>,
    pub subscribed: bool,
    pub ended: Option<u64>,
    pub failed: Option<u64>,
    pub other: Vec<Event>,
}

impl Received {
    pub fn take(&mut self, node: &mut Node, conn: ConnId) {
        for event in node.events(conn) {
            match event {
                Event::Object { info, payload, .. } => {
                    if info.status == sluice::ObjectStatus::Normal {
                        let bytes = match payload {
                            sluice::Payload::One(b) => b,
                            p => p.to_bytes(),
                        };
                        self.objects.push((info.group, info.subgroup, info.object, bytes, info.timestamp));
                    }
                }
                Event::Subscribed { .. } => self.subscribed = true,
                Event::SubscriptionEnded { reason, .. } => self.ended = Some(reason.code),
                Event::SubscribeFailed { reason, .. } => self.failed = Some(reason.code),
                other => self.other.push(other),
            }
        }
    }

    /// (group, object) of every object received.
    pub fn ids(&self) -> Vec<(u64, u64)> {
        self.objects.iter().map(|o| (o.0, o.2)).collect()
    }
}

/// A live track `live/video` with a fast subscriber and a slow one (small stream window)
/// after [`congested_start`]: what the slow-subscriber tests start from.
pub struct Congested {
    pub node: Node,
    pub publisher: Publisher,
    pub fast: ConnId,
    pub slow: ConnId,
    pub slow_id: SessionId,
}

/// Group 0 goes whole to both subscribers; group 1 starts, then the slow subscriber stops
/// reading and the caller (which would see its send queue grow) reports it congested while
/// the rest of group 1 (objects 1..5) is written and its stream closed.
pub fn congested_start(version: Version) -> Congested {
    use sluice::{ObjectWrite, SubscribeOptions};
    let mut node = Node::new(RelayConfig::default());
    let (_, mut publisher, track) = Publisher::live_video(&mut node, version);
    let (_, fast) = node.connect(version, LinkConfig::perfect());
    let (slow_id, slow) = node.connect(version, LinkConfig::perfect().with_stream_window(2_500));
    for conn in [fast, slow] {
        node.peer(conn).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
    }
    node.pump();
    publisher.serve(&mut node);
    publisher.write_group(&mut node, 0, 0..5, 1000);

    let request = publisher.subscriptions[0];
    let stream = node.peer(publisher.conn).open_subgroup(request, 1, 0, None).unwrap();
    let write = |node: &mut Node, object: u64| {
        let mut w = ObjectWrite::new(object, frame(1, object, 1000));
        w.timestamp = Some(object);
        node.peer(publisher.conn).write_object(stream, w).unwrap();
        node.pump();
    };
    write(&mut node, 0);
    node.net.set_reading(slow, Side::Client, false);
    node.relay.set_congested(slow_id, true);
    for object in 1..5 {
        write(&mut node, object);
    }
    node.peer(publisher.conn).close_subgroup(stream, true).unwrap();
    Congested { node, publisher, fast, slow, slow_id }
}
