//! Shared harness of the loopback pub/sub tests: a client and a server endpoint stepped in one
//! thread with their events collected, and the deterministic track and payloads both
//! transports (raw QUIC, WebTransport) send.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use sluice::{Event, Namespace, ObjectWrite, TrackName, Version};
use sluice_quinn::Endpoint;
use sluice_quinn::quinn_proto::ConnectionHandle;

pub const LOCAL: &str = "127.0.0.1:0";

/// One client connection to one server endpoint.
pub struct Net {
    pub server: Endpoint,
    pub client: Endpoint,
    pub client_conn: ConnectionHandle,
    pub server_conn: Option<ConnectionHandle>,
    pub server_events: Vec<Event>,
    pub client_events: Vec<Event>,
}

impl Net {
    /// `client` has opened `client_conn` to `server`.
    pub fn from_parts(server: Endpoint, client: Endpoint, client_conn: ConnectionHandle) -> Net {
        Net { server, client, client_conn, server_conn: None, server_events: vec![], client_events: vec![] }
    }

    /// Steps both endpoints (1 ms waits each), collecting events, until `done` or 10 s.
    pub fn run_until(&mut self, mut done: impl FnMut(&Net) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "timed out; server {:?} client {:?}",
                self.server_events,
                self.client_events
            );
            self.client.step(Duration::from_millis(1)).unwrap();
            self.server.step(Duration::from_millis(1)).unwrap();
            if let Some(h) = self.server.accept() {
                assert!(self.server_conn.is_none(), "one connection expected");
                self.server_conn = Some(h);
            }
            if let Some(c) = self.client.connection(self.client_conn) {
                self.client_events.extend(c.take_events());
            }
            if let Some(h) = self.server_conn
                && let Some(c) = self.server.connection(h)
            {
                self.server_events.extend(c.take_events());
            }
        }
    }

    pub fn session(&mut self, client: bool) -> &mut sluice::Session {
        if client {
            self.client.connection(self.client_conn).unwrap().session()
        } else {
            let h = self.server_conn.unwrap();
            self.server.connection(h).unwrap().session()
        }
    }

    pub fn events(&mut self, client: bool) -> &mut Vec<Event> {
        if client { &mut self.client_events } else { &mut self.server_events }
    }

    /// Both sides ready; returns (client version, server version) and drops the Ready events.
    pub fn wait_ready(&mut self) -> (Version, Version) {
        self.run_until(|n| {
            n.client_events.iter().any(|e| matches!(e, Event::Ready { .. }))
                && n.server_events.iter().any(|e| matches!(e, Event::Ready { .. }))
        });
        let version = |ev: &mut Vec<Event>| {
            let v = ev
                .iter()
                .find_map(|e| if let Event::Ready { version, .. } = e { Some(*version) } else { None });
            ev.retain(|e| !matches!(e, Event::Ready { .. }));
            v.unwrap()
        };
        let c = version(&mut self.client_events);
        let s = version(&mut self.server_events);
        (c, s)
    }
}

pub fn track() -> TrackName {
    TrackName::new(Namespace::from_fields(["live", "cam"]), "video")
}

/// Deterministic payloads: sizes from 0 to 100 KB, content depending on (group, object).
pub fn payload(group: u64, object: u64) -> Bytes {
    let sizes = [1usize, 100_000, 0, 7, 65_536, 1_200, 99_999, 3, 40_000, 100_000];
    let len = sizes[object as usize % sizes.len()] + group as usize;
    Bytes::from((0..len).map(|i| (i as u64 * 31 + group * 7 + object * 13) as u8).collect::<Vec<u8>>())
}

/// Object `object` with `payload` (a lite-05 frame timestamp when the version is lite).
pub fn frame(version: Version, object: u64, payload: Bytes) -> ObjectWrite {
    let timestamp = matches!(version, Version::Lite(_)).then_some(object * 33);
    ObjectWrite { timestamp, ..ObjectWrite::new(object, payload) }
}
