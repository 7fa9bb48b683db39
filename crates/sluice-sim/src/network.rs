//! [`Network`]: many simulated connections under one virtual clock and one seeded RNG.
//!
//! Each connection joins two [`Endpoint`]s (a client and a server) over a simulated link
//! ([`crate::link`]) with its own [`LinkConfig`]. A node that owns several connections (a relay: one session per
//! peer) is simply the caller: it looks at each of its endpoints between steps
//! ([`Network::take_events`], [`Network::endpoint_mut`] / [`Network::session`]) and issues
//! commands on them, then lets the network run. Nothing advances by itself: time moves
//! only in [`Network::advance`], [`Network::run_until`] and [`Network::settle`], and at
//! one instant connections are visited in the order they were made, client before server,
//! so a run is a pure function of the seed and the calls.

use std::time::Duration;

use sluice::{Config, Event, Input, Role, Session, Time, Version};

use crate::config::LinkConfig;
use crate::endpoint::Endpoint;
use crate::link::{Ctx, Ends, Link};
use crate::rng::Rng;
use crate::side::Side;
use crate::stats::LinkStats;
use crate::trace::{ConnId, TraceEntry};

/// How much virtual time [`Network::settle`] allows before deciding the links never go quiet.
pub const SETTLE_LIMIT: Duration = Duration::from_secs(3600);

/// Steps at one instant after which the network assumes endpoints are ping-ponging forever.
const LIVELOCK_STEPS: usize = 10_000_000;

#[derive(Debug)]
struct Connection<E> {
    endpoints: [E; 2],
    events: [Vec<Event>; 2],
    link: Link,
}

/// Many connections on one virtual clock. See the module docs.
#[derive(Debug)]
pub struct Network<E: Endpoint = Session> {
    now: Time,
    rng: Rng,
    conns: Vec<Connection<E>>,
    trace: Option<Vec<TraceEntry>>,
}

/// Runs `f` on one connection with its link, endpoints and the network context split.
macro_rules! with_conn {
    ($net:expr, $id:expr, |$link:ident, $ends:ident, $ctx:ident| $body:expr) => {{
        let now = $net.now;
        let conn = &mut $net.conns[$id.0];
        let [c, s] = &mut conn.endpoints;
        let [ce, se] = &mut conn.events;
        let mut $ends = Ends { endpoints: [c, s], events: [ce, se] };
        let mut $ctx = Ctx { now, conn: $id, rng: &mut $net.rng, trace: $net.trace.as_mut() };
        let $link = &mut conn.link;
        $body
    }};
}

impl<E: Endpoint> Network<E> {
    /// An empty network at time zero whose randomness is fixed by `seed`.
    pub fn new(seed: u64) -> Network<E> {
        Network { now: Time::ZERO, rng: Rng::new(seed), conns: Vec::new(), trace: None }
    }

    /// The current virtual time.
    pub fn now(&self) -> Time {
        self.now
    }

    /// Joins `client` and `server` over a link with `config`. Nothing is delivered until
    /// the network runs.
    pub fn connect(&mut self, client: E, server: E, config: LinkConfig) -> ConnId {
        let id = ConnId(self.conns.len());
        self.conns.push(Connection {
            endpoints: [client, server],
            events: [Vec::new(), Vec::new()],
            link: Link::new(config),
        });
        id
    }

    /// The connections made so far, in order.
    pub fn connections(&self) -> impl Iterator<Item = ConnId> + use<E> {
        (0..self.conns.len()).map(ConnId)
    }

    /// One endpoint.
    ///
    /// # Panics
    /// If `conn` was not returned by this network's [`Network::connect`] (as all accessors).
    pub fn endpoint(&self, conn: ConnId, side: Side) -> &E {
        &self.conns[conn.0].endpoints[side.index()]
    }

    /// One endpoint, to issue commands on. Call [`Network::run`] (or advance) afterwards so
    /// its outputs are carried.
    pub fn endpoint_mut(&mut self, conn: ConnId, side: Side) -> &mut E {
        &mut self.conns[conn.0].endpoints[side.index()]
    }

    /// Takes the application events one endpoint has produced so far.
    pub fn take_events(&mut self, conn: ConnId, side: Side) -> Vec<Event> {
        std::mem::take(&mut self.conns[conn.0].events[side.index()])
    }

    /// Moves the application events one endpoint has produced so far to the end of `out`.
    /// Unlike [`Network::take_events`] both buffers keep their capacity, so a loop that
    /// drains events over and over (a relay node, a benchmark) allocates nothing once warm.
    pub fn drain_events_into(&mut self, conn: ConnId, side: Side, out: &mut Vec<Event>) {
        out.append(&mut self.conns[conn.0].events[side.index()]);
    }

    /// The application events one endpoint has produced and nobody took yet.
    pub fn events(&self, conn: ConnId, side: Side) -> &[Event] {
        &self.conns[conn.0].events[side.index()]
    }

    /// Counters of one connection's link.
    pub fn stats(&self, conn: ConnId) -> LinkStats {
        self.conns[conn.0].link.stats
    }

    /// The link conditions of one connection.
    pub fn link(&self, conn: ConnId) -> &LinkConfig {
        &self.conns[conn.0].link.config
    }

    /// Changes the link conditions of one connection from now on (what is already in
    /// flight keeps its arrival time).
    pub fn set_link(&mut self, conn: ConnId, config: LinkConfig) {
        self.conns[conn.0].link.config = config;
    }

    /// True once `side` of `conn` has closed or learned of the close.
    pub fn is_closed(&self, conn: ConnId, side: Side) -> bool {
        self.conns[conn.0].link.is_closed(side)
    }

    /// Starts (or stops) recording a [`TraceEntry`] for everything that happens.
    pub fn record_trace(&mut self, on: bool) {
        if on {
            self.trace.get_or_insert_with(Vec::new);
        } else {
            self.trace = None;
        }
    }

    /// The trace recorded so far (empty when not recording).
    pub fn trace(&self) -> &[TraceEntry] {
        self.trace.as_deref().unwrap_or(&[])
    }

    /// Takes the trace recorded so far (recording continues).
    pub fn take_trace(&mut self) -> Vec<TraceEntry> {
        self.trace.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Hands `input` to one endpoint now (e.g. [`Input::Connected`]), then runs.
    pub fn input(&mut self, conn: ConnId, side: Side, input: Input) {
        with_conn!(self, conn, |link, ends, ctx| link.feed(side, input, &mut ends, &mut ctx));
        self.run();
    }

    /// Stops handing stream data to one endpoint (`reading` false), as if its application
    /// stopped reading: arriving data is held and its flow-control credit does not return,
    /// so the sender blocks. `true` hands over what was held and resumes.
    pub fn set_reading(&mut self, conn: ConnId, side: Side, reading: bool) {
        with_conn!(self, conn, |link, ends, ctx| link.set_reading(side, reading, &mut ends, &mut ctx));
        self.run();
    }

    /// Breaks a connection as a transport failure would: both endpoints that have not
    /// closed get [`Input::Closed`] with `code` and `reason` now; everything in flight is lost.
    pub fn disconnect(&mut self, conn: ConnId, code: u64, reason: &str) {
        with_conn!(self, conn, |link, ends, ctx| link.disconnect(code, reason, &mut ends, &mut ctx));
        self.run();
    }

    /// Carries outputs and delivers everything due at the current time, until nothing
    /// moves. Returns how many outputs the endpoints produced.
    pub fn run(&mut self) -> usize {
        let mut outputs = 0;
        for _ in 0..LIVELOCK_STEPS {
            let mut progressed = 0;
            for id in 0..self.conns.len() {
                let conn = ConnId(id);
                with_conn!(self, conn, |link, ends, ctx| {
                    for side in Side::BOTH {
                        let n = link.drain(side, &mut ends, &mut ctx);
                        outputs += n;
                        progressed += n;
                    }
                    progressed += link.deliver_due(&mut ends, &mut ctx);
                });
            }
            if progressed == 0 {
                return outputs;
            }
        }
        panic!("sluice-sim: endpoints keep producing outputs at {:?} (livelock)", self.now);
    }

    /// The earliest pending arrival or endpoint deadline.
    pub fn next_deadline(&self) -> Option<Time> {
        self.conns
            .iter()
            .flat_map(|c| [c.link.next_due(), c.endpoints[0].poll_timeout(), c.endpoints[1].poll_timeout()])
            .flatten()
            .min()
    }

    /// Runs until `target`, delivering arrivals and firing timers in time order, and leaves
    /// the clock at `target` (or where it is, if that is later).
    pub fn run_until(&mut self, target: Time) {
        let mut steps = 0;
        loop {
            self.run();
            match self.next_deadline() {
                Some(t) if t <= target => {
                    steps = if t <= self.now { steps + 1 } else { 0 };
                    assert!(steps < LIVELOCK_STEPS, "sluice-sim: a timer keeps firing at {:?}", self.now);
                    self.now = self.now.max(t);
                    self.fire_timers();
                }
                _ => break,
            }
        }
        self.now = self.now.max(target);
        self.run();
    }

    /// Advances the clock by `d` (see [`Network::run_until`]).
    pub fn advance(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    /// Moves to the next instant at which anything happens (an arrival or an endpoint
    /// deadline), processes everything due then, and returns that time; `None` (clock
    /// unchanged) when nothing is pending at all. A caller-owned node (a relay) runs its
    /// logic between steps and so sees every instant at which its inputs change.
    pub fn step(&mut self) -> Option<Time> {
        self.run();
        let next = self.next_deadline()?;
        self.run_until(next);
        Some(self.now)
    }

    /// Runs until nothing is in flight on any link (endpoint timers fire on the way but do
    /// not by themselves keep it going) and returns the time reached.
    ///
    /// # Panics
    /// If links are still busy after [`SETTLE_LIMIT`] of virtual time (endpoints that keep
    /// sending, e.g. on a periodic timer, never settle: use [`Network::advance`]).
    pub fn settle(&mut self) -> Time {
        let deadline = self.now + SETTLE_LIMIT;
        loop {
            self.run();
            let next = self.conns.iter().filter(|c| c.link.busy()).filter_map(|c| c.link.next_due()).min();
            match next {
                Some(t) => {
                    assert!(t <= deadline, "sluice-sim: links still busy after {SETTLE_LIMIT:?} of settling");
                    self.run_until(t);
                }
                None => return self.now,
            }
        }
    }

    fn fire_timers(&mut self) {
        for id in 0..self.conns.len() {
            let conn = ConnId(id);
            with_conn!(self, conn, |link, ends, ctx| {
                for side in Side::BOTH {
                    link.fire_timer(side, &mut ends, &mut ctx);
                }
            });
        }
    }
}

impl Network<Session> {
    /// Makes a client and a server session, joins them over `config` and reports the
    /// connection up with `version` to both (the setup handshake then runs as the network
    /// is advanced; over a link with latency, call [`Network::settle`]).
    pub fn connect_sessions(
        &mut self,
        version: Version,
        client: Config,
        server: Config,
        config: LinkConfig,
    ) -> ConnId {
        let now = self.now;
        let id = self.connect(
            Session::new(client, Role::Client, now),
            Session::new(server, Role::Server, now),
            config,
        );
        for side in Side::BOTH {
            with_conn!(self, id, |link, ends, ctx| link.feed(
                side,
                Input::Connected { version },
                &mut ends,
                &mut ctx
            ));
        }
        self.run();
        id
    }

    /// One session, to issue commands on (same as [`Network::endpoint_mut`]).
    pub fn session(&mut self, conn: ConnId, side: Side) -> &mut Session {
        self.endpoint_mut(conn, side)
    }
}
