//! The demo publisher: a client [`Endpoint`] that announces the `demo` namespace to the
//! relay and serves every subscription the relay makes to it with a paced synthetic track.
//!
//! Pacing: object `seq` is due `seq / rate` seconds after the subscription was accepted.
//! Objects are grouped `group_size` to a group; each group goes on its own subgroup stream
//! (lite: group stream), opened at the group's first object and finished at its last, so
//! a group is never left open. Two rules keep groups reaching the relay in order on a
//! stalled (loaded) machine, where the relay would drop a group that starts after a newer
//! one, and the tail of a group that arrives after the group after the next started: a
//! tick that ends a group writes nothing more (the socket sends that group before the next
//! one's stream opens), and group `g + 2`'s stream opens only once the relay acknowledged
//! all of group `g`'s (objects due meanwhile wait, then go out at once). After the last object the publisher waits [`LINGER`] (so
//! the last stream's bytes reach the relay ahead of the end) and then ends the
//! subscription (MOQT PUBLISH_DONE / lite subscribe stream FIN).

use std::time::{Duration, Instant};

use sluice::{Event, Namespace, ObjectWrite, RequestHandle, StreamId, TrackInfo, Version};
use sluice_quinn::quinn_proto::ConnectionHandle;
use sluice_quinn::{Endpoint, Error};
use sluice_relay::codes::Family;

use crate::payload;

/// Delay between the last object and the end of the subscription.
pub const LINGER: Duration = Duration::from_millis(300);

/// What to publish.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Objects per second.
    pub rate: u32,
    /// Objects per group.
    pub group_size: u32,
    /// Payload bytes per object.
    pub payload: usize,
    /// Objects in the whole track.
    pub total: u64,
}

/// One subscription being served.
#[derive(Debug)]
struct Serving {
    request: RequestHandle,
    started: Instant,
    next_seq: u64,
    stream: Option<StreamId>,
    /// The streams of the last two groups finished (oldest first).
    finished: std::collections::VecDeque<StreamId>,
    finished_at: Option<Instant>,
    ended: bool,
}

/// The publisher endpoint and its counters.
#[derive(Debug)]
pub struct Publisher {
    /// The client endpoint.
    pub endpoint: Endpoint,
    conn: ConnectionHandle,
    namespace: Namespace,
    schedule: Schedule,
    base: Instant,
    serving: Vec<Serving>,
    /// Objects written.
    pub sent: u64,
    /// Payload bytes written.
    pub sent_bytes: u64,
    /// Commands the session refused (each one is an integrity failure).
    pub errors: Vec<String>,
    /// The negotiated version, once ready.
    pub version: Option<Version>,
    /// A due group waits for an acknowledgement (the socket wakes the loop when it comes).
    waiting_for_ack: bool,
}

impl Publisher {
    /// A publisher on `endpoint`'s connection `conn`; send times are measured from `base`.
    pub fn new(
        endpoint: Endpoint,
        conn: ConnectionHandle,
        namespace: Namespace,
        schedule: Schedule,
        base: Instant,
    ) -> Publisher {
        Publisher {
            endpoint,
            conn,
            namespace,
            schedule,
            base,
            serving: Vec::new(),
            sent: 0,
            sent_bytes: 0,
            errors: Vec::new(),
            version: None,
            waiting_for_ack: false,
        }
    }

    /// Handles session events and writes whatever objects are due, then steps the socket.
    /// Waits at most `max_wait` (less when an object falls due sooner).
    pub fn step(&mut self, max_wait: Duration) -> Result<(), Error> {
        let now = Instant::now();
        self.tick(now);
        let wait = match self.next_due() {
            _ if self.waiting_for_ack => max_wait.min(Duration::from_millis(1)),
            Some(due) => due.saturating_duration_since(now).min(max_wait),
            None => max_wait,
        };
        self.endpoint.step(wait)
    }

    /// When the next object (or the end of a finished track) is due.
    fn next_due(&self) -> Option<Instant> {
        let rate = f64::from(self.schedule.rate);
        self.serving
            .iter()
            .filter(|s| !s.ended)
            .map(|s| match s.finished_at {
                Some(finished) => finished + LINGER,
                None => s.started + Duration::from_secs_f64(s.next_seq as f64 / rate),
            })
            .min()
    }

    fn tick(&mut self, now: Instant) {
        let Some(conn) = self.endpoint.connection(self.conn) else { return };
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Ready { version, .. } => {
                    self.version = Some(version);
                    if let Err(e) = conn.session().announce(self.namespace.clone()) {
                        self.errors.push(format!("publisher: announce refused: {e}"));
                    }
                }
                Event::IncomingSubscribe { request, .. } => {
                    match conn.session().accept_subscribe(request, TrackInfo::default()) {
                        Ok(()) => self.serving.push(Serving {
                            request,
                            started: now,
                            next_seq: 0,
                            stream: None,
                            finished: std::collections::VecDeque::new(),
                            finished_at: None,
                            ended: false,
                        }),
                        Err(e) => self.errors.push(format!("publisher: accept refused: {e}")),
                    }
                }
                Event::SubscriberGone { request } => {
                    if let Some(s) = self.serving.iter_mut().find(|s| s.request == request) {
                        s.ended = true;
                    }
                }
                _ => {}
            }
        }
        let schedule = self.schedule;
        self.waiting_for_ack = false;
        let lite = matches!(self.version, Some(Version::Lite(_)));
        let sent_us =
            |at: Instant| u64::try_from(at.duration_since(self.base).as_micros()).unwrap_or(u64::MAX);
        for s in self.serving.iter_mut().filter(|s| !s.ended) {
            let elapsed = now.duration_since(s.started).as_secs_f64();
            let due = ((elapsed * f64::from(schedule.rate)) as u64 + 1).min(schedule.total);
            while s.next_seq < due {
                let seq = s.next_seq;
                let group = seq / u64::from(schedule.group_size);
                let object = seq % u64::from(schedule.group_size);
                if s.stream.is_none() && s.finished.len() == 2 {
                    // Group g + 2 waits for group g to be acknowledged.
                    if s.finished.front().is_some_and(|g| conn.is_unacked(*g)) {
                        self.waiting_for_ack = true;
                        break;
                    }
                    s.finished.pop_front();
                }
                let session = conn.session();
                let stream = match s.stream {
                    Some(stream) => stream,
                    None => match session.open_subgroup(s.request, group, 0, None) {
                        Ok(stream) => {
                            s.stream = Some(stream);
                            stream
                        }
                        Err(e) => {
                            self.errors.push(format!("publisher: open group {group} refused: {e}"));
                            s.ended = true;
                            break;
                        }
                    },
                };
                let time = sent_us(Instant::now());
                let bytes = payload::encode(seq, time, schedule.payload);
                let len = bytes.len() as u64;
                let timestamp = lite.then_some(time / 1000);
                match session
                    .write_object(stream, ObjectWrite { timestamp, ..ObjectWrite::new(object, bytes) })
                {
                    Ok(()) => {
                        self.sent += 1;
                        self.sent_bytes += len;
                    }
                    Err(e) => self.errors.push(format!("publisher: write of object {seq} refused: {e}")),
                }
                s.next_seq += 1;
                let group_end = object + 1 == u64::from(schedule.group_size);
                if group_end || s.next_seq == schedule.total {
                    if let Err(e) = session.close_subgroup(stream, true) {
                        self.errors.push(format!("publisher: close of group {group} refused: {e}"));
                    }
                    s.stream = None;
                    s.finished.push_back(stream);
                    // Let the socket loop send this group before the next one opens: written
                    // together, the newer group's stream would go first (moq-lite sends
                    // newest first) and the relay drops a group that starts after a newer one.
                    break;
                }
            }
            if s.next_seq == schedule.total {
                let finished = *s.finished_at.get_or_insert(now);
                if now.duration_since(finished) >= LINGER {
                    let family = if lite { Family::Lite } else { Family::Moqt };
                    let code = sluice_relay::codes::track_ended(family);
                    if let Err(e) = conn.session().end_subscription(s.request, code, "end of demo track") {
                        self.errors.push(format!("publisher: end refused: {e}"));
                    }
                    s.ended = true;
                }
            }
        }
    }
}
