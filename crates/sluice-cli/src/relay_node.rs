//! The relay side of the demo: a server [`Endpoint`] whose every accepted connection's
//! session is driven by one sans-IO [`Relay`].
//!
//! The relay never owns sessions (see `sluice_relay`'s crate docs): it reaches them through
//! the [`Sessions`] trait, which [`EndpointSessions`] implements over the endpoint's
//! connections by mapping a quinn-proto `ConnectionHandle` to a [`SessionId`] one to one.
//! Each [`RelayNode::step`] steps the socket loop, registers new connections, feeds every
//! session event to the relay, reports transport backlog as congestion, and fires the
//! relay's timer.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use sluice::Session;
use sluice_quinn::quinn_proto::ConnectionHandle;
use sluice_quinn::{Endpoint, Error};
use sluice_relay::{Relay, SessionId, Sessions};

/// Bytes queued in the adapter for one connection above which the relay treats that
/// subscriber as congested (it then skips new groups for it instead of queueing more).
const CONGESTED_BYTES: usize = 4 << 20;
/// How often the congestion of every connection is re-read. Reading it sums the
/// adapter's per-stream queues, a walk of a hash map per connection: done on every step, it
/// took 40 % of the relay's CPU with 100 subscribers at saturation (perf, see
/// docs/bench-compare.md), while a 4 MiB backlog does not come or go within 5 ms.
const CONGESTION_CHECK: Duration = Duration::from_millis(5);

/// The relay's view of the server endpoint's sessions.
#[derive(Debug)]
pub struct EndpointSessions<'a>(pub &'a mut Endpoint);

/// The relay's name for a connection.
pub fn session_id(handle: ConnectionHandle) -> SessionId {
    SessionId(handle.0 as u64)
}

impl Sessions for EndpointSessions<'_> {
    fn session(&mut self, id: SessionId) -> Option<&mut Session> {
        let handle = ConnectionHandle(usize::try_from(id.0).ok()?);
        self.0.connection(handle).map(|c| c.session())
    }
}

/// A server endpoint and the relay over its connections.
#[derive(Debug)]
pub struct RelayNode {
    /// The server endpoint (its `local_addr` is where clients connect).
    pub endpoint: Endpoint,
    /// The relay state machine.
    pub relay: Relay,
    connections: BTreeSet<ConnectionHandle>,
    /// When congestion was last read (see [`CONGESTION_CHECK`]).
    congestion_read: Option<Instant>,
}

impl RelayNode {
    /// A relay over `endpoint` (a server endpoint).
    pub fn new(endpoint: Endpoint, relay: Relay) -> RelayNode {
        RelayNode { endpoint, relay, connections: BTreeSet::new(), congestion_read: None }
    }

    /// One round: socket I/O, new connections, session events, congestion, timer.
    pub fn step(&mut self, max_wait: Duration) -> Result<(), Error> {
        self.endpoint.step(max_wait)?;
        while let Some(handle) = self.endpoint.accept() {
            self.relay.add_session(session_id(handle));
            self.connections.insert(handle);
        }
        let clock = self.endpoint.clock();
        let instant = Instant::now();
        let now = clock.time(instant);
        let read_congestion = self.congestion_read.is_none_or(|t| instant >= t + CONGESTION_CHECK);
        if read_congestion {
            self.congestion_read = Some(instant);
        }
        let handles: Vec<ConnectionHandle> = self.connections.iter().copied().collect();
        for handle in handles {
            let id = session_id(handle);
            let Some(conn) = self.endpoint.connection(handle) else {
                // The endpoint dropped the drained connection: the relay forgets it.
                self.connections.remove(&handle);
                self.relay.remove_session(id, &mut EndpointSessions(&mut self.endpoint));
                continue;
            };
            if read_congestion {
                let congested = conn.queued_bytes() > CONGESTED_BYTES;
                self.relay.set_congested(id, congested);
            }
            let events = conn.take_events();
            for event in events {
                self.relay.on_event(now, id, event, &mut EndpointSessions(&mut self.endpoint));
            }
        }
        if self.relay.poll_timeout().is_some_and(|t| t <= now) {
            self.relay.handle_timeout(now, &mut EndpointSessions(&mut self.endpoint));
        }
        Ok(())
    }
}
