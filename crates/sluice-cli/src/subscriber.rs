//! The demo subscriber: a client [`Endpoint`] that subscribes to `demo/video` through the
//! relay and checks every object it receives.
//!
//! Checks, per object: the payload is byte-exact for its sequence number (see
//! [`crate::payload`]), where sequence = group × group size + object id; within a group
//! objects arrive in order with no gap or duplicate (object ids 0, 1, 2, …). The totals
//! (every object exactly once) are compared with the publisher's count by the caller.
//! Latency is the receive time minus the send time carried in the payload, both measured
//! from the shared in-process `Instant` base.
//!
//! If the relay refuses the subscription (e.g. the publisher's announce has not reached it
//! and its wait for a publisher ran out), the subscriber retries after [`RETRY`].

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sluice::{Event, ObjectStatus, RequestHandle, SubscribeOptions, TrackName};
use sluice_quinn::quinn_proto::ConnectionHandle;
use sluice_quinn::{Endpoint, Error};
use sluice_relay::codes::Family;

use crate::payload;

/// Wait before re-subscribing after a refusal.
pub const RETRY: Duration = Duration::from_millis(100);

/// Where the subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not subscribed yet (connecting, or waiting to retry).
    Idle,
    /// SUBSCRIBE sent, no answer yet.
    Pending,
    /// The publisher (through the relay) accepted.
    Subscribed,
    /// The track ended gracefully.
    Ended,
}

/// The subscriber endpoint and what it received.
#[derive(Debug)]
pub struct Subscriber {
    /// The client endpoint.
    pub endpoint: Endpoint,
    conn: ConnectionHandle,
    track: TrackName,
    group_size: u64,
    payload_len: usize,
    base: Instant,
    ready: bool,
    request: Option<RequestHandle>,
    retry_at: Option<Instant>,
    /// Where the subscription stands.
    pub state: State,
    /// Next expected object id per group.
    next_object: BTreeMap<u64, u64>,
    /// Objects received intact.
    pub received: u64,
    /// Payload bytes received.
    pub received_bytes: u64,
    /// Publish → receive latency of each object, in microseconds.
    pub latencies_us: Vec<u64>,
    /// Integrity or protocol failures.
    pub errors: Vec<String>,
    /// Subscription refusals that were retried.
    pub retries: u32,
}

impl Subscriber {
    /// A subscriber on `endpoint`'s connection `conn`.
    pub fn new(
        endpoint: Endpoint,
        conn: ConnectionHandle,
        track: TrackName,
        group_size: u64,
        payload_len: usize,
        base: Instant,
    ) -> Subscriber {
        Subscriber {
            endpoint,
            conn,
            track,
            group_size,
            payload_len,
            base,
            ready: false,
            request: None,
            retry_at: None,
            state: State::Idle,
            next_object: BTreeMap::new(),
            received: 0,
            received_bytes: 0,
            latencies_us: Vec::new(),
            errors: Vec::new(),
            retries: 0,
        }
    }

    /// Sequence numbers below `total` that never arrived (each group is checked to be a
    /// gapless prefix as objects arrive, so only group tails can be missing).
    pub fn missing(&self, total: u64) -> Vec<u64> {
        (0..total)
            .filter(|seq| {
                let (group, object) = (seq / self.group_size, seq % self.group_size);
                self.next_object.get(&group).is_none_or(|next| object >= *next)
            })
            .collect()
    }

    /// Closes the session (sent on the next step).
    pub fn close(&mut self) {
        if let Some(conn) = self.endpoint.connection(self.conn) {
            conn.session().close(0, "demo done");
        }
    }

    /// Handles session events, (re)subscribes when due, then steps the socket.
    pub fn step(&mut self, max_wait: Duration) -> Result<(), Error> {
        self.tick(Instant::now());
        self.endpoint.step(max_wait)
    }

    fn tick(&mut self, now: Instant) {
        let Some(conn) = self.endpoint.connection(self.conn) else { return };
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Ready { .. } => self.ready = true,
                Event::Subscribed { request, .. } if Some(request) == self.request => {
                    self.state = State::Subscribed;
                }
                Event::SubscribeFailed { request, reason } if Some(request) == self.request => {
                    self.retries += 1;
                    eprintln!("  subscriber: refused ({} {}), retrying", reason.code, reason.text);
                    self.state = State::Idle;
                    self.request = None;
                    self.retry_at = Some(now + RETRY);
                }
                Event::SubscriptionEnded { request, reason } if Some(request) == self.request => {
                    let family = match conn.version() {
                        Some(sluice::Version::Lite(_)) => Family::Lite,
                        _ => Family::Moqt,
                    };
                    if !sluice_relay::codes::is_graceful_end(family, reason.code) {
                        self.errors
                            .push(format!("subscription ended with code {} ({})", reason.code, reason.text));
                    }
                    self.state = State::Ended;
                }
                Event::GroupsDropped { first, last, reason, .. } => {
                    self.errors.push(format!("groups {first}..={last} dropped (code {})", reason.code));
                }
                Event::Object { request, info, payload } if Some(request) == self.request => {
                    if info.status != ObjectStatus::Normal {
                        continue;
                    }
                    let received_at = Instant::now();
                    let next = self.next_object.entry(info.group).or_insert(0);
                    if info.object != *next {
                        self.errors.push(format!(
                            "group {}: object {} arrived, expected {}",
                            info.group, info.object, *next
                        ));
                    }
                    *next = info.object + 1;
                    let seq = info.group * self.group_size + info.object;
                    let bytes = payload.to_bytes();
                    match payload::verify(&bytes, seq, self.payload_len) {
                        Ok(sent_us) => {
                            let now_us = u64::try_from(received_at.duration_since(self.base).as_micros())
                                .unwrap_or(u64::MAX);
                            self.latencies_us.push(now_us.saturating_sub(sent_us));
                            self.received += 1;
                            self.received_bytes += bytes.len() as u64;
                        }
                        Err(e) => self.errors.push(e),
                    }
                }
                Event::Closed { code, reason, .. } if self.state != State::Ended => {
                    self.errors.push(format!("session closed early: {code} {reason}"));
                }
                _ => {}
            }
        }
        let due = self.retry_at.is_none_or(|t| t <= now);
        if self.ready && self.state == State::Idle && due {
            match conn.session().subscribe(self.track.clone(), SubscribeOptions::default()) {
                Ok(request) => {
                    self.request = Some(request);
                    self.state = State::Pending;
                }
                Err(e) => {
                    self.errors.push(format!("subscribe refused locally: {e}"));
                    self.state = State::Ended;
                }
            }
        }
    }
}
