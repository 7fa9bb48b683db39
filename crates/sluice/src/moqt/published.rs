//! The largest Location this session has published per track, so every SUBSCRIBE_OK,
//! PUBLISH and TRACK_STATUS answer carries LARGEST_OBJECT once objects of the track were
//! written (draft-18 §"LARGEST OBJECT Parameter": "If Objects have been published on
//! this Track the Publisher MUST include this parameter"), even when the application's
//! `TrackInfo::largest` says nothing or less.
//!
//! Nothing is done per object: a live subscription we publish already keeps its track's
//! Largest Location (raised by every object written, for Joining Fetches); when it ends, its
//! value moves into this table, and an answer takes the largest of the application's
//! `TrackInfo::largest`, this table and the live subscriptions of the same track.
//!
//! The table is pruned to the tracks that still have a live request when it passes twice
//! `Config::max_subscriptions`, so a long session that serves many short-lived tracks does
//! not grow it without bound (a pruned track is then only as known as the application's
//! `TrackInfo` says).

use std::collections::HashMap;

use crate::model::{Location, TrackInfo, TrackName};

/// Largest written Location per track, of requests that ended.
#[derive(Debug, Default)]
pub(crate) struct Published {
    largest: HashMap<TrackName, Location>,
}

impl Published {
    /// A request that published up to `at` of `track` ended.
    pub(crate) fn note(&mut self, track: &TrackName, at: Location) {
        match self.largest.get_mut(track) {
            Some(l) => {
                if (l.group, l.object) < (at.group, at.object) {
                    *l = at;
                }
            }
            None => {
                self.largest.insert(track.clone(), at);
            }
        }
    }

    /// `info` with `largest` raised to what ended requests wrote of `track`.
    pub(crate) fn raise(&self, track: &TrackName, info: &mut TrackInfo) {
        if let Some(w) = self.largest.get(track) {
            raise(info, *w);
        }
    }

    /// Keeps only the tracks `live` says are still served, once the table passes `bound`.
    pub(crate) fn prune(&mut self, bound: usize, live: impl Fn(&TrackName) -> bool) {
        if self.largest.len() > bound {
            self.largest.retain(|t, _| live(t));
        }
    }

    pub(crate) fn clear(&mut self) {
        self.largest.clear();
    }
}

/// Raises `info.largest` to `at` if that is larger.
pub(crate) fn raise(info: &mut TrackInfo, at: Location) {
    if info.largest.is_none_or(|l| (l.group, l.object) < (at.group, at.object)) {
        info.largest = Some(at);
    }
}

impl super::MoqtEngine {
    /// `info` as the application gave it, with LARGEST_OBJECT raised to the largest
    /// Location this session published of `track` (ended and live requests).
    pub(super) fn with_published_largest(&self, track: &TrackName, mut info: TrackInfo) -> TrackInfo {
        self.published.raise(track, &mut info);
        for r in self.requests.values() {
            if r.we_publish()
                && r.track == *track
                && let Some(l) = r.info.largest
            {
                raise(&mut info, l);
            }
        }
        info
    }
}
