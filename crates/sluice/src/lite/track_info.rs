//! lite-05 subscriptions and TRACK_INFO: how `Event::Subscribed` gets the track's publisher
//! fields (priority, order, max latency, timescale) although lite-05 SUBSCRIBE_OK has only
//! the start group, since they moved to TRACK_INFO on a Track stream (lite-05 §Subscribe:
//! "The Subscribe Stream does not carry the track's publisher properties — those are
//! immutable and fetched once via a Track Stream"; §Track).
//!
//! Decision: a per-session TRACK_INFO cache fed by the application's `track_status`, not a
//! Track stream opened by the engine for every subscribe. An engine-opened stream would make
//! every lite-05 publisher application answer `IncomingTrackStatus` before its subscribers
//! heard `Subscribed`; the draft leaves the lookup to the subscriber ("MAY open the Track
//! and Subscribe streams concurrently"), and the application knows when it needs it.
//!
//! * Cache: every TRACK_INFO received is kept per track for the session (§Track: the
//!   subscriber "SHOULD cache TRACK_INFO and reuse it across every SUBSCRIBE and FETCH";
//!   one without announcement signals "SHOULD NOT cache TRACK_INFO beyond a single
//!   connection", so the cache lives and dies with the session). An ANNOUNCE of the
//!   broadcast (a re-announcement replaces it, an `ended` removes it) seen on one of our
//!   discoveries drops its tracks' entries, as §Track requires. At most
//!   `Config::max_subscriptions` tracks are cached; past it the oldest entry is dropped.
//! * A lite-05 `subscribe` of a cached track reports the cached fields in `Subscribed`.
//!   One made while a `track_status` of the same track is in flight (the application asked
//!   both at once, as the draft suggests) holds `Subscribed` until that TRACK_INFO, or the
//!   Track stream's reset or cancellation, arrives, but no longer than data: the first Group
//!   stream or datagram of the subscription releases it with what is known, so `Subscribed`
//!   still precedes the objects. A subscription that ends meanwhile reports `Subscribed`
//!   first. Otherwise `Subscribed` comes with SUBSCRIBE_OK and default publisher fields.
//!   Objects are never held back: their timestamps are handed out raw
//!   (`ObjectInfo::timestamp`), so they need no timescale to decode.
//!
//! lite-04 SUBSCRIBE_OK carries the publisher fields itself and needs none of this.

use std::collections::BTreeMap;

use sluice_wire::LiteVersion;

use super::LiteEngine;
use super::subscribe::SubOut;
use crate::engine::Shared;
use crate::event::Event;
use crate::ids::RequestHandle;
use crate::model::{Location, Namespace, TrackInfo, TrackName};

/// TRACK_INFO per track, and the Track-stream lookups (`track_status`) in flight.
#[derive(Debug, Default)]
pub(crate) struct TrackInfos {
    /// Known TRACK_INFO (publisher fields; `largest` unused), insertion order kept by `order`.
    cached: BTreeMap<TrackName, TrackInfo>,
    order: std::collections::VecDeque<TrackName>,
    /// Our `track_status` request → its track.
    pub(crate) lookups: BTreeMap<RequestHandle, TrackName>,
}

impl TrackInfos {
    fn insert(&mut self, track: TrackName, info: TrackInfo, bound: usize) {
        if self.cached.insert(track.clone(), info).is_none() {
            self.order.push_back(track);
        }
        while self.cached.len() > bound.max(1) {
            let Some(old) = self.order.pop_front() else { break };
            self.cached.remove(&old);
        }
    }

    /// Drops the cached TRACK_INFO of every track of broadcast `namespace`.
    pub(crate) fn invalidate(&mut self, namespace: &Namespace) {
        self.cached.retain(|t, _| t.namespace != *namespace);
        self.order.retain(|t| t.namespace != *namespace);
    }

    /// Lookups in flight (for `table_sizes`; the cache is bounded, not a leak).
    pub(crate) fn len(&self) -> usize {
        self.lookups.len()
    }

    pub(crate) fn clear(&mut self) {
        self.cached.clear();
        self.order.clear();
        self.lookups.clear();
    }
}

impl LiteEngine {
    /// A new lite-05 subscription of `track`: its publisher fields from the cache, else the
    /// `track_status` in flight it waits for. `(publisher, lookup)`.
    pub(crate) fn track_info_for(&self, track: &TrackName) -> (Option<TrackInfo>, Option<RequestHandle>) {
        if self.version == LiteVersion::Lite04 {
            return (None, None);
        }
        if let Some(info) = self.track_infos.cached.get(track) {
            return (Some(info.clone()), None);
        }
        let lookup = self.track_infos.lookups.iter().find(|(_, t)| *t == track).map(|(h, _)| *h);
        (None, lookup)
    }

    /// TRACK_INFO (`Some`) or the end of the Track stream without one (`None`) for our
    /// `track_status` `request`: cached, and the subscriptions waiting for it are released.
    pub(crate) fn lookup_answered(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        info: Option<TrackInfo>,
    ) {
        let Some(track) = self.track_infos.lookups.remove(&request) else { return };
        if let Some(info) = &info {
            self.track_infos.insert(track, info.clone(), shared.config.max_subscriptions);
        }
        for (handle, sub) in self.subs_out.iter_mut() {
            if sub.lookup == Some(request) {
                sub.lookup = None;
                sub.publisher = info.clone();
                release_subscribed(shared, *handle, sub);
            }
        }
    }
}

/// lite-05 SUBSCRIBE_OK {group} arrived: `Subscribed` now, or once the lookup answers.
pub(crate) fn subscribe_ok(shared: &mut Shared, request: RequestHandle, sub: &mut SubOut, group: u64) {
    sub.held_start = Some(group);
    release_subscribed(shared, request, sub);
}

/// The subscription is ending: its withheld `Subscribed` goes out now (with what is known
/// of the publisher fields), so it still precedes the terminal event.
pub(crate) fn release_subscribed_now(shared: &mut Shared, request: RequestHandle, sub: &mut SubOut) {
    sub.lookup = None;
    release_subscribed(shared, request, sub);
}

fn release_subscribed(shared: &mut Shared, request: RequestHandle, sub: &mut SubOut) {
    if sub.lookup.is_some() {
        return;
    }
    let Some(group) = sub.held_start.take() else { return };
    let mut info = sub.publisher.clone().unwrap_or_default();
    info.largest = Some(Location { group, object: 0 });
    shared.event(Event::Subscribed { request, info: Box::new(info) });
}
