//! FETCH through the relay: answered from a track's group cache for what the cache holds,
//! the rest fetched from the track's publisher within the fetch's fill budget, and relayed
//! back on the same downstream fetch stream, in order.
//!
//! * Fill budget (draft-18 "FILL TIMEOUT Parameter"): the FETCH's FILL_TIMEOUT, else
//!   [`crate::RelayConfig::fetch_fill_default`] (every moq-lite FETCH: lite has no such
//!   field), at most [`crate::RelayConfig::fetch_fill_max`]. It bounds all the upstream
//!   FETCHes of one request together (a lite publisher's group-by-group ones included).
//!   When it runs out the upstream fetch is cancelled, what it has not brought is one End
//!   of Unknown Range marker (0x10C; MOQT downstream only: lite has no marker), and the
//!   cached rest is still delivered, then FIN. A budget of 0 never contacts upstream: the
//!   cached objects are sent at once and everything else is Unknown (fill-timeout-1).
//!   Draft-18 has one marker for both "unknown" and "timed out" (the later editor's copy
//!   adds 0x20C End of Timed-Out Range; not in draft-18, so not sent).
//! * Partly cached (the range starts before the cache's contiguous coverage and reaches
//!   into it): only the part before the cache goes upstream; the downstream FETCH_OK is
//!   sent at once with the end the cache gives (its largest location; the end is known, so
//!   §FETCH_OK allows it) but no object goes before upstream has answered for the first
//!   uncached one (fetch-handling-1); the cached objects follow the upstream part. An
//!   upstream failure there becomes an Unknown gap, not an abort (§Fetch Handling: "indicate
//!   the range of unknown Objects and continue serving other known Objects"). With no
//!   publisher to ask, the cached part is served with the rest Unknown.
//!
//! * Served from the cache when the track is relayed (or its cache is still kept after
//!   the last subscriber left, [`crate::RelayConfig::cache_keep`]) and the cache's
//!   contiguous coverage starts at or before the fetch's start, and the start is not past
//!   the largest cached location. The end is clamped to the largest cached location (what
//!   a publisher does with a range reaching past its largest object). MOQT: FETCH_OK with
//!   that end, the objects in ascending (group, object) order on one FETCH_HEADER stream,
//!   FIN. moq-lite (a whole group): the cached objects of that group in arrival order,
//!   renumbered as frames 0, 1, 2…; a group still being published gives what has arrived
//!   so far (lossy: lite has no "more to come").
//! * A joining fetch (draft-18 §10.12.2, resolved by the core into an absolute start and
//!   no end) ends at the joining subscription's start: the largest location the relay had
//!   when it accepted that subscriber's SUBSCRIBE on this session.
//! * Forwarded otherwise: one upstream FETCH per downstream FETCH, to the session routing
//!   the track's namespace. From a MOQT publisher: its FETCH_OK end is passed on, its
//!   objects and End of Range markers are relayed in order. From a moq-lite publisher
//!   (which fetches one whole group per request, with no FETCH_OK): the downstream fetch is
//!   accepted at once with its own end, the groups of the range are fetched one after the
//!   other (at most [`crate::RelayConfig::max_lite_fetch_groups`]), objects outside the
//!   range are dropped, and a group the publisher refuses becomes an End of Unknown Range
//!   marker downstream (MOQT) or is skipped (lite).
//! * An upstream failure before the downstream fetch was accepted refuses it with the
//!   mapped code ([`crate::codes::map_failure`]); after, the downstream fetch is aborted:
//!   its data stream is reset with the upstream's code (same family), else MOQT
//!   UNKNOWN_OBJECT_STATUS / lite NOT_FOUND ([`crate::codes::fetch_aborted`]), also when
//!   the publisher's session is gone. The exception is a moq-lite publisher
//!   refusing one group of a range served to MOQT: that group becomes an End of Unknown
//!   Range marker and the fetch goes on (a per-group answer, not a failure). The
//!   downstream peer cancelling cancels the upstream fetch.
//! * Upstream fetches go at the downstream FETCH's own subscriber priority.
//! * Ends: internally every range end is exclusive ({g, 0} = before group g, as moq-lite
//!   gives it); MOQT End Locations (the last object plus one, object 0 = the whole group
//!   g, draft-18 §10.12.1 and §10.13) are converted where they enter and leave.
//! * Forwarded fetches and statuses together are limited by
//!   [`crate::RelayConfig::max_forwarded_requests`] (EXCESSIVE_LOAD / LIMIT_EXCEEDED).

use sluice::{Location, ObjectInfo, ObjectWrite, Payload, Reason, RequestHandle, Time, TrackName};

use super::Relay;
use crate::cache::GroupCache;
use crate::codes::{self, Family};
use crate::sessions::{SessionId, Sessions};

/// What a peer's FETCH asks for (`Event::IncomingFetch`).
#[derive(Debug)]
pub(super) struct Asked {
    pub(super) track: TrackName,
    pub(super) start: Location,
    pub(super) end: Option<Location>,
    /// Its subscriber priority: the upstream fetch goes at it too.
    pub(super) priority: u8,
    /// Its FILL_TIMEOUT in ms (MOQT; `None` when absent and on moq-lite).
    pub(super) fill_timeout_ms: Option<u64>,
}

/// The largest value a QUIC varint holds: an End of Range marker "to the end of the group".
const VARINT_MAX: u64 = (1 << 62) - 1;

/// One downstream FETCH forwarded upstream.
#[derive(Debug)]
pub(super) struct ForwardedFetch {
    pub(super) down: (SessionId, RequestHandle),
    down_family: Family,
    down_timestamps: bool,
    pub(super) publisher: SessionId,
    up_family: Family,
    track: TrackName,
    start: Location,
    /// Exclusive end of the range.
    end: Location,
    accepted: bool,
    /// MOQT upstream: FETCH_OK arrived. The core reports a MOQT fetch's end only after
    /// its FETCH_OK, so an end without it is a refusal, whatever its code (REQUEST_ERROR
    /// INTERNAL_ERROR is code 0, like a clean end).
    up_accepted: bool,
    /// lite upstream: the group being fetched now, and the last one to fetch.
    group: u64,
    last_group: u64,
    /// Objects written downstream (the next lite frame index).
    written: u64,
    /// The downstream FETCH's subscriber priority, asked upstream.
    priority: u8,
    /// The end the downstream fetch was accepted with (exclusive).
    down_end: Option<Location>,
    /// The last location written downstream (object or End of Range marker).
    last_written: Option<Location>,
    /// When the fill budget (FILL_TIMEOUT) runs out: the upstream fetch is cancelled and
    /// what it did not bring is reported as Unknown.
    deadline: Time,
    /// Cached objects after the upstream part (`end` on), delivered once it is complete
    /// (or has failed or timed out): a fetch served partly from the cache.
    tail: Vec<(ObjectInfo, Payload)>,
    /// Part of a fetch the cache serves too: an upstream failure becomes an Unknown gap
    /// and the cached rest is still delivered (draft-18 §Fetch Handling: "indicate the
    /// range of unknown Objects and continue serving other known Objects").
    filled: bool,
}

/// What of a forwarded FETCH goes upstream, and what the cache adds after it.
#[derive(Debug)]
struct Fill {
    /// The exclusive end of the range asked upstream (the fetch's start is its start).
    upstream_end: Location,
    /// The end to accept the downstream fetch with at once (a partly cached range: known
    /// from the cache); `None` = the upstream's answer gives it.
    down_end: Option<Location>,
    /// The cached objects that follow the upstream part.
    tail: Vec<(ObjectInfo, Payload)>,
}

/// How a FETCH's range meets a track's cache.
#[derive(Debug)]
enum Coverage {
    /// The cache holds the range from its start on (to the end or the largest cached).
    Whole,
    /// The cache holds the range from `from` (after its start) up to before `end`.
    From { from: Location, end: Location },
    /// The cache holds nothing of the range.
    None,
}

/// A MOQT End Location as on the wire (FETCH, FETCH_OK: the last object plus one, object 0
/// = the whole group `end.group`, draft-18 §10.12.1, §10.13) as the exclusive end the relay
/// works with (moq-lite ends already are).
fn from_wire(end: Location) -> Location {
    if end.object == 0 { Location { group: end.group.saturating_add(1), object: 0 } } else { end }
}

/// An exclusive end as a MOQT End Location (the inverse of [`from_wire`]).
fn to_wire(end: Location) -> Location {
    if end.object == 0 && end.group > 0 { Location { group: end.group - 1, object: 0 } } else { end }
}

/// `end` for a session of `family`: MOQT's wire encoding, moq-lite's exclusive end.
fn end_for(family: Family, end: Location) -> Location {
    if family == Family::Moqt { to_wire(end) } else { end }
}

/// The last group a range with exclusive `end` touches.
fn last_group(end: Location) -> u64 {
    if end.object == 0 { end.group.saturating_sub(1) } else { end.group }
}

/// The location just before `l` (for an End of Range marker ending there).
fn prev(l: Location) -> Location {
    if l.object == 0 {
        Location { group: l.group.saturating_sub(1), object: VARINT_MAX }
    } else {
        Location { group: l.group, object: l.object - 1 }
    }
}

/// The location just after `l`.
fn next(l: Location) -> Location {
    Location { group: l.group, object: l.object.saturating_add(1) }
}

/// The last location of a range with exclusive `end` (for an End of Range marker).
fn last_of(end: Location) -> Location {
    prev(end)
}

/// The write of one fetched object to a downstream of `family`.
fn fetch_write(
    family: Family,
    timestamps: bool,
    index: u64,
    info: &ObjectInfo,
    payload: Payload,
    now: Time,
) -> ObjectWrite {
    let mut write = ObjectWrite::new(info.object, payload);
    match family {
        Family::Lite => {
            write.object = index;
            if timestamps {
                write.timestamp = Some(info.timestamp.unwrap_or(now.as_micros() / 1000));
            }
        }
        Family::Moqt => write.properties = info.properties.clone(),
    }
    write
}

impl Relay {
    /// The cache that can answer for `track`: the live track's, else a kept one.
    fn cache_of(&self, track: &TrackName) -> Option<&GroupCache> {
        match self.tracks.get(track) {
            Some(t) => Some(&t.cache),
            None => self.kept.get(track).map(|k| &k.cache),
        }
    }

    /// How the cache of `track` covers `start..end`.
    fn coverage(&self, track: &TrackName, start: Location, end: Location) -> Coverage {
        let Some(cache) = self.cache_of(track) else { return Coverage::None };
        let (Some(from), Some(largest)) = (cache.covered_from(), cache.largest()) else {
            return Coverage::None;
        };
        if start > largest || end <= from {
            Coverage::None
        } else if start >= from {
            Coverage::Whole
        } else {
            Coverage::From { from, end: end.min(next(largest)) }
        }
    }

    /// The cached objects of `track` in `start..end`, ascending.
    fn cached_range(&self, track: &TrackName, start: Location, end: Location) -> Vec<(ObjectInfo, Payload)> {
        self.cache_of(track).map_or_else(Vec::new, |c| {
            c.range(start, end).into_iter().map(|o| (o.info.clone(), o.payload.clone())).collect()
        })
    }

    /// The fill budget of a FETCH: its FILL_TIMEOUT, else the configured default, at most
    /// [`crate::RelayConfig::fetch_fill_max`].
    fn fill_budget(&self, fill_timeout_ms: Option<u64>) -> std::time::Duration {
        fill_timeout_ms
            .map_or(self.config.fetch_fill_default, std::time::Duration::from_millis)
            .min(self.config.fetch_fill_max)
    }

    /// A peer's FETCH (`Event::IncomingFetch`).
    pub(super) fn on_incoming_fetch(
        &mut self,
        now: Time,
        id: SessionId,
        request: RequestHandle,
        asked: Asked,
        sessions: &mut impl Sessions,
    ) {
        let Asked { track, start, end, priority, fill_timeout_ms } = asked;
        let family = self.family(id);
        // MAX_CACHE_DURATION: an expired object is not cached (never served from here).
        self.expire_cache(now, &track);
        let end = match end {
            Some(e) if family == Family::Moqt => Some(from_wire(e)),
            Some(e) => Some(e),
            // A joining fetch: up to where this session's subscription to the track started.
            None => self
                .tracks
                .get(&track)
                .and_then(|t| t.subscribers.iter().rev().find(|d| d.session == id && d.accepted))
                .and_then(|d| d.joined_at)
                .map(next),
        };
        let Some(end) = end else {
            if let Some(s) = sessions.session(id) {
                let _ = s.reject(request, codes::invalid_range(family), "no joining point known");
            }
            return;
        };
        let budget = self.fill_budget(fill_timeout_ms);
        let coverage = self.coverage(&track, start, end);
        if matches!(coverage, Coverage::Whole)
            && self.serve_from_cache(now, id, request, &track, start, end, sessions)
        {
            self.stats.fetches_from_cache += 1;
            return;
        }
        if budget.is_zero() {
            // FILL_TIMEOUT 0: what the cache has now, the rest Unknown; never upstream.
            self.stats.fetches_from_cache += 1;
            self.serve_cached_only(now, id, request, &track, start, end, sessions);
            return;
        }
        let fill = match coverage {
            Coverage::From { from, end: down_end } => Fill {
                upstream_end: from,
                down_end: Some(down_end),
                tail: self.cached_range(&track, from, down_end),
            },
            _ => Fill { upstream_end: end, down_end: None, tail: Vec::new() },
        };
        let deadline = now + budget;
        let asked = Asked { track, start, end: Some(end), priority, fill_timeout_ms };
        self.forward_fetch(now, id, request, asked, fill, deadline, sessions);
    }

    /// Answers a fetch with what the cache holds of `start..end` now (FILL_TIMEOUT 0, or
    /// no upstream to fill from): MOQT gets the uncached locations as End of Unknown Range
    /// markers (draft-18 "FILL TIMEOUT Parameter": "MUST report any unavailable Objects as
    /// Unknown gaps"); moq-lite, which has no marker, just the cached frames.
    #[allow(clippy::too_many_arguments)]
    fn serve_cached_only(
        &mut self,
        now: Time,
        id: SessionId,
        request: RequestHandle,
        track: &TrackName,
        start: Location,
        end: Location,
        sessions: &mut impl Sessions,
    ) {
        let family = self.family(id);
        let timestamps = self.needs_timestamp(id);
        let (from, end) = match self.coverage(track, start, end) {
            Coverage::Whole => {
                (start, end.min(self.cache_of(track).and_then(GroupCache::largest).map_or(end, next)))
            }
            Coverage::From { from, end } => (from, end),
            Coverage::None => (end, end),
        };
        let objects = self.cached_range(track, from, end);
        let Some(session) = sessions.session(id) else { return };
        let mut ok = session.accept_fetch(request, end_for(family, end)).is_ok();
        if ok && family == Family::Moqt && start < from {
            ok = session.write_fetch_gap(request, prev(from), true).is_ok();
        }
        for (index, (info, payload)) in (0u64..).zip(objects) {
            if !ok {
                break;
            }
            let subgroup = if family == Family::Lite { 0 } else { info.subgroup };
            let write = fetch_write(family, timestamps, index, &info, payload, now);
            ok = session.write_fetch_object(request, info.group, subgroup, write).is_ok();
            self.stats.objects_forwarded += u64::from(ok);
        }
        if !(ok && session.finish_fetch(request).is_ok()) {
            self.stats.command_errors += 1;
        }
    }

    /// Answers a fetch from the cache if it covers the range; false when it does not.
    #[allow(clippy::too_many_arguments)]
    fn serve_from_cache(
        &mut self,
        now: Time,
        id: SessionId,
        request: RequestHandle,
        track: &TrackName,
        start: Location,
        end: Location,
        sessions: &mut impl Sessions,
    ) -> bool {
        let family = self.family(id);
        let timestamps = self.needs_timestamp(id);
        let Some(cache) = self.cache_of(track) else { return false };
        let (Some(from), Some(largest)) = (cache.covered_from(), cache.largest()) else { return false };
        if start < from || start > largest {
            return false;
        }
        let end = end.min(next(largest));
        let objects: Vec<(ObjectInfo, Payload)> = match family {
            Family::Moqt => {
                cache.range(start, end).into_iter().map(|o| (o.info.clone(), o.payload.clone())).collect()
            }
            Family::Lite => match cache.group(start.group) {
                Some(g) if g.is_whole() => {
                    g.objects.iter().map(|o| (o.info.clone(), o.payload.clone())).collect()
                }
                // A group not cached (a later group's stream overtook its stream) or still
                // arriving: served from here it would end early, so while the track is live
                // its publisher answers for the whole group.
                _ if self.tracks.contains_key(track) => return false,
                Some(g) => g.objects.iter().map(|o| (o.info.clone(), o.payload.clone())).collect(),
                None => Vec::new(),
            },
        };
        let Some(session) = sessions.session(id) else { return true };
        if session.accept_fetch(request, end_for(family, end)).is_err() {
            self.stats.command_errors += 1;
            return true;
        }
        for (index, (info, payload)) in (0u64..).zip(objects) {
            let subgroup = if family == Family::Lite { 0 } else { info.subgroup };
            let write = fetch_write(family, timestamps, index, &info, payload, now);
            if session.write_fetch_object(request, info.group, subgroup, write).is_err() {
                self.stats.command_errors += 1;
                break;
            }
            self.stats.objects_forwarded += 1;
        }
        if session.finish_fetch(request).is_err() {
            self.stats.command_errors += 1;
        }
        true
    }

    /// True when session `id` speaks moq-lite-05 (frames carry timestamps).
    pub(super) fn needs_timestamp(&self, id: SessionId) -> bool {
        matches!(
            self.peers.get(&id).and_then(|p| p.version),
            Some(sluice::Version::Lite(sluice::LiteVersion::Lite05))
        )
    }

    /// Sends what the cache cannot answer of a fetch to the track's publisher: the whole
    /// range, or (`fill.tail` not empty) the part before the cache, the cached rest to
    /// follow. A partly cached fetch with no publisher to ask is served from the cache.
    #[allow(clippy::too_many_arguments)]
    fn forward_fetch(
        &mut self,
        now: Time,
        id: SessionId,
        request: RequestHandle,
        asked: Asked,
        fill: Fill,
        deadline: Time,
        sessions: &mut impl Sessions,
    ) {
        let Asked { track, start, end: asked_end, priority, .. } = asked;
        let Some(asked_end) = asked_end else { return };
        let filled = fill.down_end.is_some();
        let end = fill.upstream_end;
        let family = self.family(id);
        let publisher = match self.tracks.get(&track) {
            Some(t) if t.publisher != id => Some(t.publisher),
            _ => self.pick_publisher(&track.namespace, id),
        };
        let Some(publisher) = publisher else {
            if filled {
                self.serve_cached_only(now, id, request, &track, start, asked_end, sessions);
                return;
            }
            if let Some(s) = sessions.session(id) {
                let _ = s.reject(request, codes::does_not_exist(family), "no publisher for this namespace");
            }
            return;
        };
        let up_family = self.family(publisher);
        let last_group = last_group(end);
        let too_wide = up_family == Family::Lite
            && last_group.saturating_sub(start.group) >= self.config.max_lite_fetch_groups;
        if self.forwarded_requests() >= self.config.max_forwarded_requests || too_wide {
            self.refuse(id, request, family, sessions);
            return;
        }
        let Some(upstream) = sessions
            .session(publisher)
            .and_then(|s| s.fetch(track.clone(), start, end_for(up_family, end), priority).ok())
        else {
            self.stats.command_errors += 1;
            if filled {
                self.serve_cached_only(now, id, request, &track, start, asked_end, sessions);
                return;
            }
            if let Some(s) = sessions.session(id) {
                let _ = s.reject(request, codes::does_not_exist(family), "publisher unreachable");
            }
            return;
        };
        self.stats.fetches_forwarded += 1;
        self.stats.fetches_filled += u64::from(filled);
        let mut f = ForwardedFetch {
            down: (id, request),
            down_family: family,
            down_timestamps: self.needs_timestamp(id),
            publisher,
            up_family,
            track,
            start,
            end,
            accepted: false,
            up_accepted: false,
            group: start.group,
            last_group,
            written: 0,
            priority,
            down_end: None,
            last_written: None,
            deadline,
            tail: fill.tail,
            filled,
        };
        if let Some(down_end) = fill.down_end {
            // Partly cached: the end is known from the cache.
            self.accept_forwarded(&mut f, down_end, sessions);
        } else if up_family == Family::Lite {
            // lite has no FETCH_OK: accept downstream at once with the asked end.
            self.accept_forwarded(&mut f, end, sessions);
        }
        self.fetch_down.insert((id, request), (publisher, upstream));
        self.fetches.insert((publisher, upstream), f);
    }

    fn accept_forwarded(&mut self, f: &mut ForwardedFetch, end: Location, sessions: &mut impl Sessions) {
        if f.accepted {
            return;
        }
        f.accepted = true;
        f.down_end = Some(end);
        if let Some(s) = sessions.session(f.down.0)
            && s.accept_fetch(f.down.1, end_for(f.down_family, end)).is_err()
        {
            self.stats.command_errors += 1;
        }
    }

    /// Forwarded fetches and statuses not yet answered.
    pub(super) fn forwarded_requests(&self) -> usize {
        self.fetches.len() + self.statuses.len()
    }

    /// True when `(id, request)` is one of our upstream fetches.
    pub(super) fn is_upstream_fetch(&self, id: SessionId, request: RequestHandle) -> bool {
        self.fetches.contains_key(&(id, request))
    }

    /// The publisher accepted an upstream fetch (MOQT FETCH_OK).
    pub(super) fn on_fetch_accepted(
        &mut self,
        id: SessionId,
        request: RequestHandle,
        end: Location,
        sessions: &mut impl Sessions,
    ) {
        let Some(mut f) = self.fetches.remove(&(id, request)) else { return };
        f.up_accepted = true;
        self.accept_forwarded(&mut f, from_wire(end), sessions);
        self.fetches.insert((id, request), f);
    }

    /// An object of an upstream fetch: relayed to the downstream fetch.
    pub(super) fn on_fetch_object(
        &mut self,
        now: Time,
        id: SessionId,
        request: RequestHandle,
        info: ObjectInfo,
        payload: Payload,
        sessions: &mut impl Sessions,
    ) {
        let Some(mut f) = self.fetches.remove(&(id, request)) else { return };
        let at = Location { group: info.group, object: info.object };
        if at >= f.start && at < f.end {
            let end = f.end;
            self.accept_forwarded(&mut f, end, sessions);
            let subgroup = if f.down_family == Family::Lite { 0 } else { info.subgroup };
            let write = fetch_write(f.down_family, f.down_timestamps, f.written, &info, payload, now);
            match sessions
                .session(f.down.0)
                .map(|s| s.write_fetch_object(f.down.1, info.group, subgroup, write))
            {
                Some(Ok(())) => {
                    f.written += 1;
                    f.last_written = Some(at);
                    self.stats.objects_forwarded += 1;
                }
                _ => self.stats.command_errors += 1,
            }
        }
        self.fetches.insert((id, request), f);
    }

    /// An End of Range marker of an upstream fetch: relayed to a MOQT downstream (lite has
    /// no such marker; the locations are simply absent).
    pub(super) fn on_fetch_gap(
        &mut self,
        id: SessionId,
        request: RequestHandle,
        through: Location,
        unknown: bool,
        sessions: &mut impl Sessions,
    ) {
        let Some(mut f) = self.fetches.remove(&(id, request)) else { return };
        if f.down_family == Family::Moqt {
            let end = f.end;
            self.accept_forwarded(&mut f, end, sessions);
            if let Some(s) = sessions.session(f.down.0)
                && s.write_fetch_gap(f.down.1, through, unknown).is_err()
            {
                self.stats.command_errors += 1;
            }
            f.last_written = Some(through);
        }
        self.fetches.insert((id, request), f);
    }

    /// A fetch ended on session `id`: one of ours upstream (complete or failed), or a
    /// downstream peer cancelling one we serve.
    pub(super) fn on_fetch_ended(
        &mut self,
        id: SessionId,
        request: RequestHandle,
        reason: Reason,
        sessions: &mut impl Sessions,
    ) {
        if let Some(up) = self.fetch_down.remove(&(id, request)) {
            // The downstream peer cancelled: so do we upstream.
            self.fetches.remove(&up);
            if let Some(s) = sessions.session(up.0) {
                let _ = s.cancel(up.1);
            }
            return;
        }
        let Some(mut f) = self.fetches.remove(&(id, request)) else { return };
        let refused = f.up_family == Family::Moqt && !f.up_accepted;
        let more = f.up_family == Family::Lite && f.group < f.last_group;
        // A lite publisher refusing one group of a range served to MOQT: say that group
        // (or, at the last one, the rest of the range) is unknown and go on.
        let marked =
            reason.code != 0 && f.accepted && f.down_family == Family::Moqt && f.up_family == Family::Lite;
        if marked {
            let through = if more { Location { group: f.group, object: VARINT_MAX } } else { last_of(f.end) };
            if let Some(s) = sessions.session(f.down.0)
                && s.write_fetch_gap(f.down.1, through, true).is_err()
            {
                self.stats.command_errors += 1;
            }
            f.last_written = Some(through);
        }
        if more {
            // lite fetches one group at a time: on to the next group of the range.
            f.group += 1;
            let start = Location { group: f.group, object: 0 };
            let next = sessions
                .session(f.publisher)
                .and_then(|s| s.fetch(f.track.clone(), start, f.end, f.priority).ok());
            if let Some(h) = next {
                self.fetch_down.insert(f.down, (f.publisher, h));
                self.fetches.insert((f.publisher, h), f);
                return;
            }
            self.stats.command_errors += 1;
        }
        self.fetch_down.remove(&f.down);
        let failure = ((reason.code != 0 || refused) && !marked).then(|| match f.accepted {
            true => codes::fetch_aborted(Some(f.up_family), f.down_family, reason.code),
            false => codes::map_failure(f.up_family, f.down_family, reason.code),
        });
        self.end_downstream_fetch(self.now, f, failure, &reason.text, sessions);
    }

    /// Ends a forwarded fetch downstream: the cached tail and FIN when accepted, or, when
    /// it failed, an abort (the data stream reset with `failure`, the downstream family's
    /// code); not accepted yet, a refusal with `failure`. A partly cached fetch does not
    /// fail: what upstream did not bring is reported Unknown and the tail still follows.
    fn end_downstream_fetch(
        &mut self,
        now: Time,
        mut f: ForwardedFetch,
        mut failure: Option<u64>,
        text: &str,
        sessions: &mut impl Sessions,
    ) {
        if failure.is_some() && f.filled {
            self.mark_rest_unknown(&mut f, sessions);
            failure = None;
        }
        if failure.is_none() && f.accepted {
            self.write_tail(now, &mut f, sessions);
        }
        let Some(s) = sessions.session(f.down.0) else { return };
        let result = match (f.accepted, failure) {
            // Complete with nothing sent and no FETCH_OK: an empty answer.
            (false, None) => s
                .accept_fetch(f.down.1, end_for(f.down_family, f.end))
                .and_then(|()| s.finish_fetch(f.down.1)),
            (false, Some(code)) => s.reject(f.down.1, code, text),
            // Accepted: `reject` aborts it (resets its data stream with the code).
            (true, Some(code)) => s.reject(f.down.1, code, text),
            (true, _) => s.finish_fetch(f.down.1),
        };
        if result.is_err() {
            self.stats.command_errors += 1;
        }
    }

    /// Reports what the upstream part of `f` has not delivered as Unknown (MOQT: one End
    /// of Unknown Range marker up to the upstream part's end; lite has no marker).
    fn mark_rest_unknown(&mut self, f: &mut ForwardedFetch, sessions: &mut impl Sessions) {
        let end = f.end;
        self.accept_forwarded(f, end, sessions);
        let through = last_of(f.down_end.map_or(f.end, |d| d.min(f.end)));
        let pending = f.last_written.is_none_or(|l| l < through) && through >= f.start;
        if f.down_family == Family::Moqt && pending {
            match sessions.session(f.down.0).map(|s| s.write_fetch_gap(f.down.1, through, true)) {
                Some(Ok(())) => f.last_written = Some(through),
                _ => self.stats.command_errors += 1,
            }
        }
    }

    /// Writes the cached objects that follow a fetch's upstream part.
    fn write_tail(&mut self, now: Time, f: &mut ForwardedFetch, sessions: &mut impl Sessions) {
        let Some(s) = sessions.session(f.down.0) else { return };
        for (info, payload) in std::mem::take(&mut f.tail) {
            let subgroup = if f.down_family == Family::Lite { 0 } else { info.subgroup };
            let write = fetch_write(f.down_family, f.down_timestamps, f.written, &info, payload, now);
            if s.write_fetch_object(f.down.1, info.group, subgroup, write).is_err() {
                self.stats.command_errors += 1;
                return;
            }
            f.written += 1;
            self.stats.objects_forwarded += 1;
        }
    }

    /// The earliest fill deadline of the forwarded fetches.
    pub(super) fn next_fill_deadline(&self) -> Option<Time> {
        self.fetches.values().map(|f| f.deadline).min()
    }

    /// Fetches whose fill budget ran out by `now`: the upstream fetch is cancelled, what it
    /// did not bring is reported Unknown, and the cached rest is delivered (draft-18 "FILL
    /// TIMEOUT Parameter": "reports any remaining unavailable Objects as Unknown gaps and
    /// continues delivering available Objects in the range").
    pub(super) fn expire_fetch_fills(&mut self, now: Time, sessions: &mut impl Sessions) {
        let due: Vec<(SessionId, RequestHandle)> =
            self.fetches.iter().filter(|(_, f)| f.deadline <= now).map(|(k, _)| *k).collect();
        for up in due {
            let Some(mut f) = self.fetches.remove(&up) else { continue };
            self.fetch_down.remove(&f.down);
            if let Some(s) = sessions.session(up.0) {
                let _ = s.cancel(up.1);
            }
            self.stats.fetch_fills_timed_out += 1;
            self.mark_rest_unknown(&mut f, sessions);
            self.end_downstream_fetch(now, f, None, "", sessions);
        }
    }

    /// Session `id` is gone: its forwarded fetches (as publisher or as requester) end.
    pub(super) fn fetches_of_gone_session(&mut self, id: SessionId, sessions: &mut impl Sessions) {
        let down: Vec<(SessionId, RequestHandle)> =
            self.fetch_down.keys().filter(|(s, _)| *s == id).copied().collect();
        for d in down {
            if let Some(up) = self.fetch_down.remove(&d) {
                self.fetches.remove(&up);
                if let Some(s) = sessions.session(up.0) {
                    let _ = s.cancel(up.1);
                }
            }
        }
        let up: Vec<(SessionId, RequestHandle)> =
            self.fetches.keys().filter(|(s, _)| *s == id).copied().collect();
        for u in up {
            if let Some(f) = self.fetches.remove(&u) {
                self.fetch_down.remove(&f.down);
                let code = match f.accepted {
                    true => codes::fetch_aborted(None, f.down_family, 0),
                    false => codes::publisher_gone(f.down_family),
                };
                self.end_downstream_fetch(self.now, f, Some(code), "publisher gone", sessions);
            }
        }
    }
}
