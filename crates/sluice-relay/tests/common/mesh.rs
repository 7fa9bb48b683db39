//! Several relays on one `sluice_sim::Network`, each owning one side of some connections:
//! relays peered with relays (cascades, loops) and test-driven peers attached to them.

use std::collections::BTreeMap;

use sluice::{Config, Event, Session, Version};
use sluice_relay::{Relay, RelayConfig, SessionId, Sessions};
use sluice_sim::{ConnId, LinkConfig, Network, Side};

pub struct Mesh {
    pub net: Network,
    pub relays: Vec<Relay>,
    pub conns: Vec<BTreeMap<SessionId, (ConnId, Side)>>,
    next_id: u64,
}

struct MeshSessions<'a> {
    net: &'a mut Network,
    conns: &'a BTreeMap<SessionId, (ConnId, Side)>,
}

impl Sessions for MeshSessions<'_> {
    fn session(&mut self, id: SessionId) -> Option<&mut Session> {
        let (conn, side) = *self.conns.get(&id)?;
        Some(self.net.session(conn, side))
    }
}

/// Each relay's session configuration: its own lite Hop ID (non-zero, distinct), so lite
/// announces carry a path that loop detection can read.
pub fn config_of(relay: usize) -> Config {
    Config { lite_hop_id: 100 + relay as u64, ..Config::default() }
}

impl Mesh {
    pub fn new(relays: usize) -> Mesh {
        Mesh {
            net: Network::new(7),
            relays: (0..relays)
                .map(|r| {
                    Relay::new(RelayConfig {
                        lite_hop_id: config_of(r).lite_hop_id,
                        ..RelayConfig::default()
                    })
                })
                .collect(),
            conns: (0..relays).map(|_| BTreeMap::new()).collect(),
            next_id: 0,
        }
    }

    fn add(&mut self, relay: usize, conn: ConnId, side: Side) -> SessionId {
        let id = SessionId(self.next_id);
        self.next_id += 1;
        self.relays[relay].add_session(id);
        self.conns[relay].insert(id, (conn, side));
        id
    }

    /// Relay `client` connects to relay `server`; returns (client's id, server's id) of it.
    pub fn link(&mut self, client: usize, server: usize, version: Version) -> (SessionId, SessionId) {
        let conn =
            self.net.connect_sessions(version, config_of(client), config_of(server), LinkConfig::perfect());
        let c = self.add(client, conn, Side::Client);
        let s = self.add(server, conn, Side::Server);
        self.pump();
        (c, s)
    }

    /// A test-driven peer connects to relay `relay`; the peer is the client side.
    pub fn attach(&mut self, relay: usize, version: Version) -> ConnId {
        let conn =
            self.net.connect_sessions(version, Config::default(), config_of(relay), LinkConfig::perfect());
        self.add(relay, conn, Side::Server);
        self.pump();
        conn
    }

    pub fn peer(&mut self, conn: ConnId) -> &mut Session {
        self.net.session(conn, Side::Client)
    }

    pub fn events(&mut self, conn: ConnId) -> Vec<Event> {
        self.net.take_events(conn, Side::Client)
    }

    /// Feeds every relay its sessions' events until quiet; a loop that never settles fails.
    pub fn pump(&mut self) {
        for _ in 0..10_000 {
            self.net.run();
            let now = self.net.now();
            let mut moved = false;
            for r in 0..self.relays.len() {
                let ids: Vec<(SessionId, (ConnId, Side))> =
                    self.conns[r].iter().map(|(i, c)| (*i, *c)).collect();
                for (id, (conn, side)) in ids {
                    for event in self.net.take_events(conn, side) {
                        moved = true;
                        let mut s = MeshSessions { net: &mut self.net, conns: &self.conns[r] };
                        self.relays[r].on_event(now, id, event, &mut s);
                    }
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the mesh never settles: messages loop between relays");
    }
}
