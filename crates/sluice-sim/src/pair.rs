//! [`Pair`]: the simplest simulation, one client and one server session over a link.
//!
//! Its fields are the two sessions and their event queues, so a test can call commands
//! directly (`pair.client.subscribe(..)`) and then [`Pair::run`]. It uses the same link
//! mechanics as [`crate::Network`]; [`Pair::new`] uses a perfect link (everything arrives
//! at the instant it is sent), [`Pair::with_link`] takes any [`LinkConfig`].

use std::time::Duration;

use sluice::{Config, Event, Input, Role, Session, Time, Version};

use crate::config::LinkConfig;
use crate::link::{Ctx, Ends, Link};
use crate::rng::Rng;
use crate::side::Side;
use crate::stats::LinkStats;
use crate::trace::ConnId;

/// Two sessions joined by a simulated link. See the module docs.
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
    link: Link,
    rng: Rng,
}

macro_rules! with_link {
    ($pair:expr, |$link:ident, $ends:ident, $ctx:ident| $body:expr) => {{
        let mut $ends = Ends {
            endpoints: [&mut $pair.client, &mut $pair.server],
            events: [&mut $pair.client_events, &mut $pair.server_events],
        };
        let mut $ctx = Ctx { now: $pair.now, conn: ConnId(0), rng: &mut $pair.rng, trace: None };
        let $link = &mut $pair.link;
        $body
    }};
}

impl Pair {
    /// A connected pair speaking `version` over a perfect link, run until both sides are
    /// idle.
    pub fn new(version: Version, client: Config, server: Config) -> Pair {
        Pair::with_link(version, client, server, LinkConfig::perfect(), 0)
    }

    /// A connected pair over a link with `config`, randomness fixed by `seed`; the setup
    /// exchange has run as far as it can at time zero (call [`Pair::advance`] for links
    /// with latency).
    pub fn with_link(
        version: Version,
        client: Config,
        server: Config,
        config: LinkConfig,
        seed: u64,
    ) -> Pair {
        let now = Time::ZERO;
        let mut pair = Pair {
            client: Session::new(client, Role::Client, now),
            server: Session::new(server, Role::Server, now),
            client_events: Vec::new(),
            server_events: Vec::new(),
            now,
            link: Link::new(config),
            rng: Rng::new(seed),
        };
        for side in Side::BOTH {
            with_link!(pair, |link, ends, ctx| link.feed(
                side,
                Input::Connected { version },
                &mut ends,
                &mut ctx
            ));
        }
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

    /// Counters of the link.
    pub fn stats(&self) -> LinkStats {
        self.link.stats
    }

    /// Moves outputs between the sides and delivers what is due now, until nothing moves.
    /// Returns how many outputs the sessions produced.
    pub fn run(&mut self) -> usize {
        let mut outputs = 0;
        loop {
            let mut progressed = 0;
            with_link!(self, |link, ends, ctx| {
                for side in Side::BOTH {
                    let n = link.drain(side, &mut ends, &mut ctx);
                    outputs += n;
                    progressed += n;
                }
                progressed += link.deliver_due(&mut ends, &mut ctx);
            });
            if progressed == 0 {
                return outputs;
            }
        }
    }

    /// Advances the virtual clock by `d`, delivering arrivals and firing timers on the
    /// way, then runs.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        loop {
            self.run();
            let next = [self.link.next_due(), self.client.poll_timeout(), self.server.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= target => {
                    self.now = self.now.max(t);
                    with_link!(self, |link, ends, ctx| {
                        for side in Side::BOTH {
                            link.fire_timer(side, &mut ends, &mut ctx);
                        }
                    });
                }
                _ => break,
            }
        }
        self.now = target;
        self.run();
    }
}
