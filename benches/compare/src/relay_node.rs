//! A sluice relay on the simulator: the harness the fan-out benchmark and the memory figures
//! share.
//!
//! Every connection joins a peer session (the client side, driven by the caller) to one of
//! the relay's sessions (the server side, owned by the network and driven by
//! [`sluice_relay::Relay`]). [`RelayNode::pump`] hands the relay every event of its
//! sessions until nothing moves. Links are perfect unless the caller says otherwise.

use std::collections::BTreeMap;

use bytes::Bytes;
use sluice::{
    Config, Event, Namespace, ObjectWrite, RequestHandle, Session, SubscribeOptions, TrackInfo, TrackName,
    Version,
};
use sluice_relay::{Relay, RelayConfig, SessionId, Sessions};
use sluice_sim::{ConnId, LinkConfig, Network, Side};

/// The relay's sessions inside the network, by relay id.
#[derive(Debug)]
struct NetSessions<'a> {
    net: &'a mut Network,
    conns: &'a BTreeMap<SessionId, ConnId>,
}

impl Sessions for NetSessions<'_> {
    fn session(&mut self, id: SessionId) -> Option<&mut Session> {
        let conn = *self.conns.get(&id)?;
        Some(self.net.session(conn, Side::Server))
    }
}

/// A relay node and the network its peers reach it over.
#[derive(Debug)]
pub struct RelayNode {
    /// The simulated network; the relay's sessions are the server sides.
    pub net: Network,
    /// The relay.
    pub relay: Relay,
    /// Relay session id → connection.
    pub conns: BTreeMap<SessionId, ConnId>,
    /// Scratch buffer for events (kept, so pumping does not allocate once warm).
    events: Vec<Event>,
    next_id: u64,
}

impl RelayNode {
    /// An empty node.
    pub fn new(config: RelayConfig) -> RelayNode {
        RelayNode {
            net: Network::new(1),
            relay: Relay::new(config),
            conns: BTreeMap::new(),
            events: Vec::new(),
            next_id: 0,
        }
    }

    /// Connects a peer speaking `version` over a perfect link and runs the setup; returns
    /// the relay's id for it and the connection (the peer is its client side).
    pub fn connect(&mut self, version: Version) -> (SessionId, ConnId) {
        self.connect_with(version, LinkConfig::perfect())
    }

    /// [`RelayNode::connect`] over a link with `link`.
    pub fn connect_with(&mut self, version: Version, link: LinkConfig) -> (SessionId, ConnId) {
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

    /// Feeds the relay every event of its sessions and fires its timer, until quiet.
    pub fn pump(&mut self) {
        loop {
            self.net.run();
            let now = self.net.now();
            let mut moved = false;
            for (&id, &conn) in &self.conns {
                self.net.drain_events_into(conn, Side::Server, &mut self.events);
                for event in self.events.drain(..) {
                    moved = true;
                    let mut sessions = NetSessions { net: &mut self.net, conns: &self.conns };
                    self.relay.on_event(now, id, event, &mut sessions);
                }
            }
            if self.relay.poll_timeout().is_some_and(|t| t <= now) {
                let mut sessions = NetSessions { net: &mut self.net, conns: &self.conns };
                self.relay.handle_timeout(now, &mut sessions);
                moved = true;
            }
            if !moved {
                break;
            }
        }
    }
}

/// A publisher peer: announces one namespace and accepts the relay's subscription to its
/// track.
#[derive(Debug)]
pub struct PublisherPeer {
    /// Its connection to the relay.
    pub conn: ConnId,
    /// The relay's (one, shared) subscription to the track, once accepted.
    pub subscription: Option<RequestHandle>,
}

impl PublisherPeer {
    /// Connects a publisher and announces `track`'s namespace.
    pub fn connect(node: &mut RelayNode, version: Version, namespace: Namespace) -> PublisherPeer {
        let (_, conn) = node.connect(version);
        let _ = node.peer(conn).announce(namespace);
        node.pump();
        PublisherPeer { conn, subscription: None }
    }

    /// Accepts every subscription the relay made since the last call.
    pub fn serve(&mut self, node: &mut RelayNode) {
        for event in node.net.take_events(self.conn, Side::Client) {
            if let Event::IncomingSubscribe { request, .. } = event
                && node.peer(self.conn).accept_subscribe(request, TrackInfo::default()).is_ok()
            {
                self.subscription = Some(request);
            }
        }
        node.pump();
    }

    /// Writes objects `0..objects` of `group`, each with `payload` (the same shared bytes:
    /// each write clones a reference count), on one subgroup stream closed at the end of
    /// the group. Returns false when there is no accepted subscription or a command failed.
    pub fn write_group(&self, node: &mut RelayNode, group: u64, objects: u64, payload: &Bytes) -> bool {
        let Some(request) = self.subscription else { return false };
        let session = node.peer(self.conn);
        let Ok(stream) = session.open_subgroup(request, group, 0, None) else { return false };
        for object in 0..objects {
            let mut write = ObjectWrite::new(object, payload.clone());
            write.timestamp = Some(group * 1000 + object); // lite-05 requires one
            if session.write_object(stream, write).is_err() {
                return false;
            }
        }
        session.close_subgroup(stream, true).is_ok()
    }
}

/// Connects a subscriber and subscribes it to `track` (the default options: from the
/// largest object on).
pub fn connect_subscriber(node: &mut RelayNode, version: Version, track: &TrackName) -> ConnId {
    let (_, conn) = node.connect(version);
    let _ = node.peer(conn).subscribe(track.clone(), SubscribeOptions::default());
    conn
}
