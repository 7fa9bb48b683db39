//! Group expiry by max latency, both roles (lite-04 §Expiration, lite-05 §Expiration,
//! §SUBSCRIBE "Subscriber Max Latency", §TRACK_INFO "Publisher Max Latency").
//!
//! # The rule
//!
//! A group is never expired while it is the latest group of its subscription (lite: "never
//! expired until at least the next group (by sequence number) has been received or
//! queued"). Once a newer group exists, a group is expired when its age exceeds the
//! effective max latency `L`:
//!
//! * `L` is the minimum of the subscriber's Max Latency (SUBSCRIBE / SUBSCRIBE_UPDATE) and
//!   the publisher's (the `TrackInfo::max_latency_ms` given to `accept_subscribe`; on the
//!   subscriber side the lite-04 SUBSCRIBE_OK value, lite-05 has none on the Subscribe
//!   stream), ignoring zeros; both zero = no expiry. lite-04 allows the minimum ("MAY use
//!   the minimum of both"). lite-05 separates the two (subscriber's for live delivery,
//!   publisher's for its cache), but a group past the publisher's retention bound is one
//!   the publisher may already have dropped, so the minimum is what it can promise.
//! * **Wall-clock age**: the time since the group was queued (publisher: `open_subgroup`)
//!   or its GROUP header arrived (subscriber), measured up to *now*. The drafts measure it
//!   up to the latest group's own arrival instead; measuring to now is the sluice
//!   resolution, so that a stalled non-latest group also expires while no further group
//!   comes (the draft's measure would keep it indefinitely after a burst). It never keeps
//!   a group the draft's measure expires (now ≥ the latest group's arrival).
//! * **Timestamp age** (lite-05, publisher side): the latest group that has a frame minus
//!   this group's first-frame timestamp, converted to ms with the track's timescale (the
//!   `TrackInfo::timescale` given to `accept_subscribe`). Checked when a newer group's
//!   first frame is written. The subscriber side uses only the wall-clock age (its
//!   expiry is a MAY, and the engine keeps no TRACK_INFO cache to convert timestamps).
//! * "Exceeds" is strict: a group of age exactly `L` lives; the timer fires 1 µs later.
//!
//! # Zero
//!
//! The data model defines `max_latency_ms: 0` as "none" (no expiry), and sluice keeps that
//! meaning on both versions. lite-05 says a Subscriber Max Latency of 0 means "only the
//! latest group", i.e. immediately stale; treating it so would make every default
//! subscription drop all but the newest group, so an application that wants that sends
//! 1 ms instead. On the wire, though, 0 means "latest only" to the peer (lite-05 §SUBSCRIBE,
//! and moq-net reads lite-04's 0 the same way), so "none" is sent as [`NO_EXPIRY_MS`]
//! (see [`wire_latency`]).
//!
//! # What happens
//!
//! * Publisher: the group stream is reset with [`codes::EXPIRED`], the subscriber is told
//!   with SUBSCRIBE_DROP {group, group, error code [`codes::EXPIRED`]} on the Subscribe
//!   stream (both versions have it), and the application gets `Event::GroupExpired`
//!   (further writes to the stream fail with `UnknownStream`).
//! * Subscriber: the group stream is stopped (STOP_SENDING [`codes::EXPIRED`]) and the
//!   application gets `Event::GroupsDropped {group, group, code EXPIRED}`, the same event
//!   the publisher's SUBSCRIBE_DROP gives; a SUBSCRIBE_DROP {g, g, EXPIRED} for a group we
//!   already expired locally is not reported again (the last [`REMEMBERED_EXPIRIES`]
//!   groups are remembered).
//!
//! # Time
//!
//! Driven by `poll_timeout` and `handle_timeout`, and checked
//! whenever a newer group appears. Commands carry no time, so a group opened by
//! `open_subgroup` is stamped with the latest time the session was given (an input or
//! `handle_timeout`); an adapter that calls `handle_timeout(now)` before writing a new
//! group gets exact stamps.

use std::time::Duration;

use sluice_wire::lite::subscribe::{SubscribeDrop, SubscribeResponse};

use super::LiteEngine;
use super::codes;
use super::streams::State;
use super::subscribe::{SubIn, SubsOut};
use crate::engine::Shared;
use crate::event::{Event, Reason};
use crate::hash::IdMap;
use crate::ids::{RequestHandle, StreamId};
use crate::io::Output;
use crate::time::Time;

/// How many locally expired groups a subscription remembers to suppress the publisher's
/// matching SUBSCRIBE_DROP (bounded: older ones are forgotten and may be reported twice).
pub const REMEMBERED_EXPIRIES: usize = 32;

/// The effective max latency in ms: the smaller non-zero value; 0 = no expiry.
pub fn effective_latency(a: u64, b: u64) -> u64 {
    // Our own "none" coming back from the wire is none again.
    let none = |v: u64| if v >= NO_EXPIRY_MS { 0 } else { v };
    match (none(a), none(b)) {
        (0, x) | (x, 0) => x,
        (a, b) => a.min(b),
    }
}

/// When a group that arrived at `since` expires under `latency_ms` (> 0): 1 µs after its
/// age reaches the latency.
fn deadline(since: Time, latency_ms: u64) -> Time {
    since + Duration::from_millis(latency_ms) + Duration::from_micros(1)
}

/// True when the timestamp age `latest - first` (in `timescale` units per second) exceeds
/// `latency_ms`.
fn timestamp_expired(first: u64, latest: u64, timescale: u64, latency_ms: u64) -> bool {
    if timescale == 0 || latest <= first {
        return false;
    }
    u128::from(latest - first) * 1000 > u128::from(latency_ms) * u128::from(timescale)
}

impl LiteEngine {
    /// The expiry deadline of one of our group writers, if it can expire by wall clock.
    fn writer_deadline(&self, stream: &StreamId) -> Option<Time> {
        let w = self.writers.get(stream)?;
        let sub = self.subs_in.get(&w.request)?;
        let latency = effective_latency(sub.max_latency, sub.publisher_latency);
        let newer = sub.largest.is_some_and(|l| l > w.group);
        (latency > 0 && newer).then(|| deadline(w.since, latency))
    }

    /// The expiry deadline of a peer Group stream, if it can expire.
    fn group_deadline(&self, state: &State) -> Option<Time> {
        let State::Group { request, group, since, .. } = state else { return None };
        let sub = self.subs_out.get(request)?;
        let latency = effective_latency(sub.max_latency, sub.publisher_latency);
        let newer = sub.latest.is_some_and(|l| l > *group);
        (latency > 0 && newer).then(|| deadline(*since, latency))
    }

    /// The next time a group expires (`poll_timeout`).
    pub(crate) fn next_expiry(&self) -> Option<Time> {
        let writers = self.writers.keys().filter_map(|id| self.writer_deadline(id));
        let groups = self.streams.values().filter_map(|s| self.group_deadline(&s.state));
        writers.chain(groups).min()
    }

    /// A lite-05 group's first frame was written: it may make older groups stale by
    /// timestamp age.
    pub(crate) fn first_frame_written(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        timestamp: u64,
    ) {
        if let Some(sub) = self.subs_in.get_mut(&request)
            && sub.latest_timestamp.is_none_or(|(g, _)| group >= g)
        {
            sub.latest_timestamp = Some((group, timestamp));
        }
        self.expire_groups(shared);
    }

    /// True if some subscription has a max latency: without one, [`Self::expire_groups`]
    /// does nothing (both ways to expire need a non-zero effective latency).
    pub(crate) fn expiry_armed(&self) -> bool {
        armed(&self.subs_in, &self.subs_out)
    }

    /// Expires every group whose age exceeds its max latency at `self.now`.
    pub(crate) fn expire_groups(&mut self, shared: &mut Shared) {
        // With no max latency (the default) on any subscription, skip the walks over
        // writers and streams (called per group).
        if !self.expiry_armed() {
            return;
        }
        let now = self.now;
        let stale: Vec<StreamId> = self
            .writers
            .iter()
            .filter(|(id, w)| {
                let by_clock = self.writer_deadline(id).is_some_and(|d| d <= now);
                let by_timestamp = self.subs_in.get(&w.request).is_some_and(|sub| {
                    let latency = effective_latency(sub.max_latency, sub.publisher_latency);
                    match (w.first_timestamp, sub.latest_timestamp) {
                        (Some(first), Some((g, latest))) if latency > 0 && g > w.group => {
                            timestamp_expired(first, latest, sub.timescale, latency)
                        }
                        _ => false,
                    }
                });
                by_clock || by_timestamp
            })
            .map(|(id, _)| *id)
            .collect();
        for stream in stale {
            self.expire_writer(shared, stream);
        }
        let stale: Vec<StreamId> = self
            .streams
            .iter()
            .filter(|(_, s)| self.group_deadline(&s.state).is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            let Some(s) = self.streams.get(&id) else { continue };
            let State::Group { request, group, .. } = s.state else { continue };
            self.abort_stream(shared, id, codes::EXPIRED);
            if let Some(sub) = self.subs_out.get_mut(&request) {
                if sub.expired.len() >= REMEMBERED_EXPIRIES {
                    sub.expired.pop_front();
                }
                sub.expired.push_back(group);
            }
            shared.event(Event::GroupsDropped {
                request,
                first: group,
                last: group,
                reason: Reason { code: codes::EXPIRED, text: String::new() },
            });
            self.end_if_drained(shared, request);
        }
    }

    /// Resets one of our expired group streams and reports it.
    fn expire_writer(&mut self, shared: &mut Shared, stream: StreamId) {
        let Some(w) = self.writers.remove(&stream) else { return };
        shared.push(Output::Reset { stream, code: codes::EXPIRED });
        if let Some(sub) = self.subs_in.get(&w.request) {
            let drop = SubscribeResponse::Drop(SubscribeDrop {
                start: w.group,
                end: w.group,
                error_code: codes::EXPIRED,
            });
            if let Ok(bytes) = self.encode(&drop) {
                Self::write(shared, sub.stream, bytes, false);
            }
        }
        shared.event(Event::GroupExpired { request: w.request, group: w.group, stream });
        self.finish_end_if_done(shared, w.request);
    }
}

/// [`LiteEngine::expiry_armed`] over the two subscription tables.
pub(crate) fn armed(subs_in: &IdMap<RequestHandle, Box<SubIn>>, subs_out: &SubsOut) -> bool {
    let expiring = |max: u64, publisher: u64| effective_latency(max, publisher) > 0;
    subs_in.values().any(|s| expiring(s.max_latency, s.publisher_latency))
        || subs_out.values().any(|s| expiring(s.max_latency, s.publisher_latency))
}

/// The Max Latency sent for the data model's "none" (0): about 49.7 days, far beyond any
/// live group's age, and small enough for a peer to add to a clock without overflow.
pub(crate) const NO_EXPIRY_MS: u64 = u32::MAX as u64;

/// The wire Max Latency (subscriber's or publisher's) for a data-model value.
pub(crate) fn wire_latency(ms: u64) -> u64 {
    if ms == 0 { NO_EXPIRY_MS } else { ms }
}
