//! sluice-sim: a deterministic in-memory network for sluice sessions.
//!
//! [`Pair`] connects a client and a server [`Session`] with perfect, in-order, instant
//! streams and a virtual clock: every output of one side becomes the matching input of the
//! other, and [`Pair::run`] shuttles until both sides are idle. Application events are
//! collected per side. Nothing here reads a clock or a socket, so a test that drives a
//! pair is reproducible to the byte.

use std::collections::HashMap;
use std::time::Duration;

use sluice::{Config, Event, Input, Output, Role, Session, StreamId, Time, Version};

/// One side of a [`Pair`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The client session.
    Client,
    /// The server session.
    Server,
}

impl Side {
    /// The other side.
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// Two sessions joined by a perfect in-memory transport. See the crate docs.
#[derive(Debug)]
pub struct Pair {
    /// The client session.
    pub client: Session,
    /// The server session.
    pub server: Session,
    /// Events the client's application has received and not yet taken.
    pub client_events: Vec<Event>,
    /// Events the server's application has received and not yet taken.
    pub server_events: Vec<Event>,
    now: Time,
    /// (side, that side's stream id) → the peer's id for the same stream.
    streams: HashMap<(Side, StreamId), StreamId>,
    next_peer_stream: u64,
    closed: bool,
}

impl Pair {
    /// A connected pair speaking `version`, run until both sides are idle.
    pub fn new(version: Version, client: Config, server: Config) -> Pair {
        let now = Time::ZERO;
        let mut pair = Pair {
            client: Session::new(client, Role::Client, now),
            server: Session::new(server, Role::Server, now),
            client_events: Vec::new(),
            server_events: Vec::new(),
            now,
            streams: HashMap::new(),
            next_peer_stream: 0,
            closed: false,
        };
        pair.client.handle(now, Input::Connected { version });
        pair.server.handle(now, Input::Connected { version });
        pair.run();
        pair
    }

    /// The current virtual time.
    pub fn now(&self) -> Time {
        self.now
    }

    /// The session of one side.
    pub fn session(&mut self, side: Side) -> &mut Session {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    /// Takes the events one side has collected.
    pub fn take_events(&mut self, side: Side) -> Vec<Event> {
        match side {
            Side::Client => std::mem::take(&mut self.client_events),
            Side::Server => std::mem::take(&mut self.server_events),
        }
    }

    /// Moves outputs between the sides until neither has any. Returns how many outputs
    /// were moved.
    pub fn run(&mut self) -> usize {
        let mut moved = 0;
        loop {
            let mut progressed = false;
            for side in [Side::Client, Side::Server] {
                while let Some(output) = self.session(side).poll() {
                    self.deliver(side, output);
                    moved += 1;
                    progressed = true;
                }
            }
            if !progressed {
                return moved;
            }
        }
    }

    /// Advances the virtual clock by `d`, firing timers on the way, then runs.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        loop {
            let next = [self.client.poll_timeout(), self.server.poll_timeout()].into_iter().flatten().min();
            match next {
                Some(t) if t <= target => {
                    self.now = self.now.max(t);
                    let now = self.now;
                    self.client.handle_timeout(now);
                    self.server.handle_timeout(now);
                    self.run();
                }
                _ => break,
            }
        }
        self.now = target;
        self.run();
    }

    fn input(&mut self, side: Side, input: Input) {
        let now = self.now;
        self.session(side).handle(now, input);
    }

    fn peer_stream(&self, side: Side, stream: StreamId) -> Option<StreamId> {
        self.streams.get(&(side, stream)).copied()
    }

    fn deliver(&mut self, from: Side, output: Output) {
        let to = from.peer();
        match output {
            Output::OpenStream { stream, bidi, .. } => {
                let peer_id = StreamId(self.next_peer_stream);
                self.next_peer_stream += 1;
                self.streams.insert((from, stream), peer_id);
                self.streams.insert((to, peer_id), stream);
                self.input(from, Input::StreamOpenResult { stream, opened: true });
                self.input(to, Input::StreamOpened { stream: peer_id, bidi });
            }
            Output::Write { stream, header, payload, fin } => {
                let Some(peer_id) = self.peer_stream(from, stream) else { return };
                for data in [header, payload] {
                    if !data.is_empty() {
                        self.input(to, Input::StreamData { stream: peer_id, data });
                    }
                }
                if fin {
                    self.input(to, Input::StreamFinished { stream: peer_id });
                }
            }
            Output::Reset { stream, code } => {
                if let Some(peer_id) = self.peer_stream(from, stream) {
                    self.input(to, Input::StreamReset { stream: peer_id, code });
                }
            }
            Output::StopSending { stream, code } => {
                if let Some(peer_id) = self.peer_stream(from, stream) {
                    self.input(to, Input::StopSending { stream: peer_id, code });
                }
            }
            Output::SetOrder { .. } => {}
            Output::Datagram(data) => self.input(to, Input::Datagram(data)),
            Output::Close { code, reason } => {
                if !self.closed {
                    self.closed = true;
                    self.input(to, Input::Closed { code, reason: reason.into_bytes().into() });
                }
            }
            Output::Event(event) => match from {
                Side::Client => self.client_events.push(event),
                Side::Server => self.server_events.push(event),
            },
        }
    }
}
