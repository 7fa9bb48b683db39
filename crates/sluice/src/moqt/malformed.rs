//! Malformed-track detection on the subscriber side (draft-18 §"Malformed Tracks", and
//! §"Mandatory Track Properties": a Mandatory Track Property on an object is malformed).
//!
//! Each subscription (and fetch) we receive objects for keeps a [`TrackCheck`]: what it
//! has seen of the track's structure. Conditions detected, numbered as in the draft:
//!
//! 1. an object whose Publisher Priority differs from an earlier object of the same
//!    (group, subgroup) — across streams and fetch objects (a subgroup stream carries one
//!    priority; an absent priority byte means the track's default);
//! 2. an object whose id is larger than its subgroup's final object (the last object
//!    before a FIN), in either arrival order;
//! 3. a subgroup FIN-terminated on two streams with different final objects;
//! 4. an object whose id is larger than its group's final object (an END_OF_GROUP status
//!    object, or the last object before FIN on an END_OF_GROUP stream), either order;
//! 5. an object whose location is past the track's END_OF_TRACK object, either order;
//! * an object carrying a Mandatory Track Property (0x4000..=0x7FFF).
//!
//! Not detected: 6 (the same object twice with a different payload: the core keeps no
//! payloads) and 7 (forwarding preference: the draft does not say at what granularity a
//! change is observable). Within one subgroup stream object ids always increase: the
//! wire's Object ID Delta cannot express anything else.
//!
//! On detection (§"Malformed Tracks": the subscriber MUST cancel the subscriptions and
//! fetches of that track from that publisher, SHOULD tell the application) the engine
//! cancels every subscription and fetch it made for the track (RESET_STREAM and
//! STOP_SENDING on the request stream with the stream code MALFORMED_TRACK — the draft asks
//! for "a relevant error code" — and STOP_SENDING CANCELLED on its data streams, as for any
//! forgotten request), and reports `SubscriptionEnded` / `FetchEnded` with reason code
//! MALFORMED_TRACK (0x12) and a text naming the condition. The object that triggered it is
//! not delivered. Nothing is sent upstream beyond that cancellation; the session stays up.
//!
//! Memory: the groups and subgroups remembered per request are bounded by
//! `Config::max_track_check_entries`; past it the lowest groups are forgotten (their
//! later violations go undetected — detection is best effort, never an error).
//!
//! Speed: the checks run for every object, so the tables are [`Sorted`] ring buffers, not
//! trees: objects arrive for the newest group and subgroup, which is the last entry (or a
//! new last entry), and trimming forgets the first entries. An in-order object of the newest
//! subgroup (the common case) takes a fast path that touches one small struct, [`Hot`]: what
//! it needs of the two last entries, copied out after a full check.

use std::collections::VecDeque;

use sluice_wire::moqt::codes::StreamResetCode;
use sluice_wire::moqt::kvp::Properties;

use super::MoqtEngine;
use super::state::Kind;
use crate::engine::Shared;
use crate::event::{Event, Reason};
use crate::ids::RequestHandle;
use crate::io::Output;
use crate::model::ObjectStatus;

/// The reason code reported for a malformed track (REQUEST_ERROR, PUBLISH_DONE and stream
/// reset all use 0x12 for MALFORMED_TRACK).
pub(crate) const MALFORMED_TRACK: u64 = StreamResetCode::MALFORMED_TRACK.0;

/// The condition that made a track malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Malformed {
    PriorityChanged,
    BeyondSubgroupEnd,
    SubgroupEndsDiffer,
    BeyondGroupEnd,
    BeyondTrackEnd,
    MandatoryProperty,
}

impl Malformed {
    /// The text of the reason reported to the application.
    pub(crate) fn text(self) -> &'static str {
        match self {
            Malformed::PriorityChanged => "malformed track: publisher priority changed within a subgroup",
            Malformed::BeyondSubgroupEnd => "malformed track: object after the end of its subgroup",
            Malformed::SubgroupEndsDiffer => "malformed track: subgroup ended with different final objects",
            Malformed::BeyondGroupEnd => "malformed track: object after the end of its group",
            Malformed::BeyondTrackEnd => "malformed track: object after the end of the track",
            Malformed::MandatoryProperty => "malformed track: mandatory track property on an object",
        }
    }
}

/// One received object, as the checks see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seen<'a> {
    pub group: u64,
    /// `None` for datagrams (no subgroup).
    pub subgroup: Option<u64>,
    pub object: u64,
    pub status: ObjectStatus,
    /// The effective publisher priority (checked only with a subgroup).
    pub priority: u8,
    pub properties: &'a Properties,
}

#[derive(Debug, Clone, Copy, Default)]
struct GroupFacts {
    end: Option<u64>,
    max_seen: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct SubgroupFacts {
    priority: Option<u8>,
    end: Option<u64>,
    max_seen: u64,
}

/// Entries sorted by key, in a ring buffer. Looking up the last key, or appending a key
/// above it, is O(1) (the common case: objects of the newest group); any other key is a
/// binary search; removing the lowest keys is O(1) each.
#[derive(Debug)]
struct Sorted<K, V> {
    entries: VecDeque<(K, V)>,
}

impl<K, V> Default for Sorted<K, V> {
    fn default() -> Self {
        Sorted { entries: VecDeque::new() }
    }
}

impl<K: Ord + Copy, V: Default> Sorted<K, V> {
    fn len(&self) -> usize {
        self.entries.len()
    }

    #[inline]
    fn position(&self, key: K) -> Result<usize, usize> {
        match self.entries.back() {
            Some((last, _)) if *last == key => Ok(self.entries.len().saturating_sub(1)),
            Some((last, _)) if *last < key => Err(self.entries.len()),
            None => Err(0),
            Some(_) => self.entries.binary_search_by(|(k, _)| k.cmp(&key)),
        }
    }

    /// The entry of `key`, created with the default value if absent (`None` cannot
    /// happen: the index was just found or made).
    #[inline]
    fn entry(&mut self, key: K) -> Option<&mut V> {
        let at = match self.position(key) {
            Ok(at) => at,
            // A new last key (the common case): appended without `insert`'s general moves.
            Err(at) if at == self.entries.len() => {
                self.entries.push_back((key, V::default()));
                at
            }
            Err(at) => {
                self.entries.insert(at, (key, V::default()));
                at
            }
        };
        self.entries.get_mut(at).map(|(_, v)| v)
    }

    fn first_key(&self) -> Option<K> {
        self.entries.front().map(|(k, _)| *k)
    }

    /// Removes the first entries while `drop(key)` holds.
    fn pop_front_while(&mut self, drop: impl Fn(&K) -> bool) {
        while self.entries.front().is_some_and(|(k, _)| drop(k)) {
            self.entries.pop_front();
        }
    }
}

/// What a subscriber has seen of a track (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct TrackCheck {
    track_end: Option<(u64, u64)>,
    largest: Option<(u64, u64)>,
    groups: Sorted<u64, GroupFacts>,
    subgroups: Sorted<(u64, u64), SubgroupFacts>,
    /// Armed after a full check whose object's group and subgroup are the last entries of
    /// both tables (no track end known); taken back ([`TrackCheck::settle`]) before anything
    /// else reads or changes the tables or `largest`.
    hot: Option<Hot>,
}

/// The newest subgroup as the fast path sees it. Invariants while armed (nothing but
/// [`TrackCheck::in_order`] runs between arming and [`TrackCheck::settle`]):
/// - `(group, subgroup)` is the last key of `subgroups` and `group` the last of `groups`
///   (only `object_full`, `subgroup_fin` and `trim` add or remove entries; they settle first);
/// - `priority` is the subgroup's recorded priority and `end` the smaller of the subgroup's
///   and group's ends (`u64::MAX`: neither known; ends change only in the settling methods);
/// - `sub_max` / `group_max` are the two entries' `max_seen` (the entries' own copies are
///   stale until settled);
/// - `largest_object` is `largest`'s object when `largest` is in `group`, else `None`: then
///   `largest` is in a later group (it is at least the object that armed us), so no object
///   of `group` raises it;
/// - no track end is known (it is set only by `object_full`).
#[derive(Debug, Clone, Copy)]
struct Hot {
    group: u64,
    subgroup: u64,
    end: u64,
    sub_max: u64,
    group_max: u64,
    largest_object: Option<u64>,
    priority: u8,
}

fn mandatory(kind: u64) -> bool {
    (0x4000..=0x7FFF).contains(&kind)
}

impl TrackCheck {
    /// Checks an object against what was seen, then records it.
    #[inline(always)]
    pub(crate) fn object(&mut self, o: &Seen<'_>, limit: usize) -> Result<(), Malformed> {
        if self.in_order(o) { Ok(()) } else { self.object_slow(o, limit) }
    }

    /// [`TrackCheck::object`] past the fast path (out of line: it stays small inline).
    #[inline(never)]
    fn object_slow(&mut self, o: &Seen<'_>, limit: usize) -> Result<(), Malformed> {
        self.settle();
        self.object_full(o, limit)?;
        self.arm(o);
        Ok(())
    }

    /// The common case, true when it applied: a Normal object without properties of the
    /// armed newest subgroup, with its priority and within both ends. Every check of
    /// [`TrackCheck::object_full`] passes for it (no track end, both entries exist, so no
    /// entry is created and no trim is due) and the records are the same: both `max_seen`,
    /// and `largest` only when it is in this group (see [`Hot`]); the priority recorded is
    /// the one already there.
    #[inline(always)]
    fn in_order(&mut self, o: &Seen<'_>) -> bool {
        let Some(h) = &mut self.hot else { return false };
        if o.subgroup != Some(h.subgroup)
            || o.group != h.group
            || o.priority != h.priority
            || o.object > h.end
            || o.status != ObjectStatus::Normal
            || !o.properties.is_empty()
        {
            return false;
        }
        h.sub_max = h.sub_max.max(o.object);
        h.group_max = h.group_max.max(o.object);
        if let Some(l) = &mut h.largest_object {
            *l = (*l).max(o.object);
        }
        true
    }

    /// After `o` passed the full check: arms the fast path if `o`'s group and subgroup are
    /// the last entries of both tables and no track end is known (see [`Hot`]).
    fn arm(&mut self, o: &Seen<'_>) {
        let Some(s) = o.subgroup else { return };
        if self.track_end.is_some() {
            return;
        }
        let (Some(((g, sg), facts)), Some((last_group, group))) =
            (self.subgroups.entries.back(), self.groups.entries.back())
        else {
            return;
        };
        let Some(priority) = facts.priority else { return };
        if (*g, *sg) != (o.group, s) || *last_group != o.group {
            return;
        }
        let end = facts.end.unwrap_or(u64::MAX).min(group.end.unwrap_or(u64::MAX));
        self.hot = Some(Hot {
            group: o.group,
            subgroup: s,
            end,
            sub_max: facts.max_seen,
            group_max: group.max_seen,
            largest_object: self.largest.filter(|l| l.0 == o.group).map(|l| l.1),
            priority,
        });
    }

    /// Disarms the fast path, writing what it recorded back (see [`Hot`]).
    fn settle(&mut self) {
        let Some(h) = self.hot.take() else { return };
        if let Some((_, facts)) = self.subgroups.entries.back_mut() {
            facts.max_seen = h.sub_max;
        }
        if let Some((_, group)) = self.groups.entries.back_mut() {
            group.max_seen = h.group_max;
        }
        if let (Some(l), Some(object)) = (&mut self.largest, h.largest_object) {
            l.1 = object;
        }
    }

    /// Every check, then the records (see the module docs).
    fn object_full(&mut self, o: &Seen<'_>, limit: usize) -> Result<(), Malformed> {
        if !o.properties.is_empty() && o.properties.iter().any(|kv| mandatory(kv.kind)) {
            return Err(Malformed::MandatoryProperty);
        }
        let loc = (o.group, o.object);
        if self.track_end.is_some_and(|end| loc > end) {
            return Err(Malformed::BeyondTrackEnd);
        }
        if o.status == ObjectStatus::EndOfTrack && self.largest.is_some_and(|l| l > loc) {
            return Err(Malformed::BeyondTrackEnd);
        }
        // One lookup per table: the entries are created before the checks (a failed check
        // cancels the track, so an empty entry left behind is harmless).
        let Some(group) = self.groups.entry(o.group) else { return Ok(()) };
        if group.end.is_some_and(|end| o.object > end) {
            return Err(Malformed::BeyondGroupEnd);
        }
        if o.status == ObjectStatus::EndOfGroup && group.max_seen > o.object {
            return Err(Malformed::BeyondGroupEnd);
        }
        let sub = match o.subgroup {
            Some(s) => {
                let Some(facts) = self.subgroups.entry((o.group, s)) else { return Ok(()) };
                if facts.priority.is_some_and(|p| p != o.priority) {
                    return Err(Malformed::PriorityChanged);
                }
                if facts.end.is_some_and(|end| o.object > end) {
                    return Err(Malformed::BeyondSubgroupEnd);
                }
                Some(facts)
            }
            None => None,
        };
        // Record.
        group.max_seen = group.max_seen.max(o.object);
        if o.status == ObjectStatus::EndOfGroup {
            group.end = Some(o.object);
        }
        if let Some(facts) = sub {
            facts.priority = Some(o.priority);
            facts.max_seen = facts.max_seen.max(o.object);
        }
        self.largest = Some(self.largest.map_or(loc, |l| l.max(loc)));
        if o.status == ObjectStatus::EndOfTrack {
            self.track_end = Some(loc);
        }
        if self.entries() > limit {
            self.trim(limit);
        }
        Ok(())
    }

    /// A subgroup stream ended with FIN after `last` (`end_of_group`: its header had the
    /// END_OF_GROUP bit, so `last` is also the group's final object).
    pub(crate) fn subgroup_fin(
        &mut self,
        group: u64,
        subgroup: u64,
        last: u64,
        end_of_group: bool,
        limit: usize,
    ) -> Result<(), Malformed> {
        self.settle();
        // One lookup per table: the entries are made before the checks (a failed check
        // cancels the track, so an entry left behind is harmless).
        let Some(facts) = self.subgroups.entry((group, subgroup)) else { return Ok(()) };
        if facts.end.is_some_and(|end| end != last) {
            return Err(Malformed::SubgroupEndsDiffer);
        }
        if facts.max_seen > last {
            return Err(Malformed::BeyondSubgroupEnd);
        }
        let Some(g) = self.groups.entry(group) else { return Ok(()) };
        if end_of_group {
            if g.max_seen > last {
                return Err(Malformed::BeyondGroupEnd);
            }
            g.end = Some(last);
        }
        facts.end = Some(last);
        self.trim(limit);
        Ok(())
    }

    /// Groups and subgroups remembered.
    pub(crate) fn entries(&self) -> usize {
        self.groups.len() + self.subgroups.len()
    }

    /// Forgets the lowest groups until at most `limit` entries remain.
    fn trim(&mut self, limit: usize) {
        while self.entries() > limit {
            let lowest = [self.groups.first_key(), self.subgroups.first_key().map(|k| k.0)]
                .into_iter()
                .flatten()
                .min();
            let Some(g) = lowest else { return };
            self.groups.pop_front_while(|k| *k == g);
            self.subgroups.pop_front_while(|k| k.0 == g);
        }
    }
}

impl MoqtEngine {
    /// Runs the object checks of `handle`'s track; on a violation cancels the track's
    /// requests (see the module docs) and returns false.
    pub(super) fn check_object(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        seen: &Seen<'_>,
    ) -> bool {
        let limit = shared.config.max_track_check_entries;
        let Some(r) = self.requests.get_mut(&handle) else { return false };
        match r.check.object(seen, limit) {
            Ok(()) => true,
            Err(m) => {
                self.malformed(shared, handle, m);
                false
            }
        }
    }

    /// `handle`'s track is malformed: cancel every subscription and fetch we made for it.
    pub(super) fn malformed(&mut self, shared: &mut Shared, handle: RequestHandle, m: Malformed) {
        let Some(track) = self.requests.get(&handle).map(|r| r.track.clone()) else { return };
        let mut victims: Vec<RequestHandle> = self
            .requests
            .iter()
            .filter(|(_, r)| {
                r.track == track
                    && matches!(
                        (r.kind, r.outbound),
                        (Kind::Subscribe, true) | (Kind::Publish, false) | (Kind::Fetch, true)
                    )
            })
            .map(|(h, _)| *h)
            .collect();
        victims.sort();
        for h in victims {
            let Some(r) = self.requests.get(&h) else { continue };
            let (stream, kind) = (r.stream, r.kind);
            shared.push(Output::Reset { stream, code: MALFORMED_TRACK });
            shared.push(Output::StopSending { stream, code: MALFORMED_TRACK });
            let reason = Reason { code: MALFORMED_TRACK, text: m.text().to_owned() };
            shared.event(match kind {
                Kind::Fetch => Event::FetchEnded { request: h, reason },
                _ => Event::SubscriptionEnded { request: h, reason },
            });
            self.streams.remove(&stream);
            self.forget(shared, h);
        }
    }
}
