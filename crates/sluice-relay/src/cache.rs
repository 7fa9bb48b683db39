//! The per-track group cache that lets a late joiner start at the latest group.
//!
//! A live subscriber arriving mid-group would otherwise wait for the next group (a key
//! frame, for video); the relay keeps the most recent groups of each track it relays and
//! replays them to a newcomer before the live objects (moq-lite: a subscription starts at
//! the latest group, lite-05 §SUBSCRIBE). MOQT subscriptions replay it only for
//! AbsoluteStart/AbsoluteRange filters (a LargestObject filter starts after the Largest
//! Location, draft-18 §5.1.2); FETCH is served from it.
//!
//! Bounded three ways ([`crate::RelayConfig`]): group count, payload bytes per track, and
//! age. Only whole groups are evicted, oldest first, so a cached group always starts where
//! the relay first saw it. A group bigger than the byte limit on its own stops being cached
//! (its objects so far are dropped, with every older group, so the cache is always one
//! contiguous stretch of the track). Payloads are the received chunks (reference counts,
//! no copies).
//!
//! FETCH is answered from it when the asked range starts within that stretch
//! ([`GroupCache::covered_from`]: the first cached group from the first object the relay
//! got of it).

use std::collections::VecDeque;
use std::time::Duration;

use sluice::{Location, ObjectInfo, Payload, Time};

/// One cached object.
#[derive(Debug, Clone)]
pub(crate) struct CachedObject {
    pub(crate) info: ObjectInfo,
    pub(crate) payload: Payload,
}

/// One cached group, objects in arrival order.
#[derive(Debug)]
pub(crate) struct CachedGroup {
    pub(crate) group: u64,
    first_seen: Time,
    /// The smallest object id the relay has of this group (0 unless it joined mid-group).
    first_object: u64,
    bytes: usize,
    pub(crate) objects: Vec<CachedObject>,
    /// Subgroups whose upstream stream ended (a replay finishes their streams).
    pub(crate) ended: Vec<u64>,
}

impl CachedGroup {
    /// True when the relay has all of this group as far as it can tell: it saw the group
    /// from object 0 and an upstream stream of it ended (a moq-lite group is one stream; a
    /// MOQT group whose other subgroups are still open counts as whole once one ended).
    pub(crate) fn is_whole(&self) -> bool {
        self.first_object == 0 && !self.ended.is_empty()
    }
}

/// The limits a cache applies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) groups: usize,
    pub(crate) bytes: usize,
    pub(crate) max_age: Duration,
}

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct GroupCache {
    groups: VecDeque<CachedGroup>,
    bytes: usize,
    /// The newest group too large to cache: its further objects are not kept.
    oversized: Option<u64>,
}

impl GroupCache {
    /// Adds one object. Objects of a group older than every cached one are not kept.
    pub(crate) fn insert(&mut self, now: Time, info: &ObjectInfo, payload: &Payload, limits: Limits) {
        if limits.groups == 0 || self.oversized == Some(info.group) {
            return;
        }
        let index = match self.groups.iter().position(|g| g.group == info.group) {
            Some(i) => i,
            None => {
                if self.groups.front().is_some_and(|g| g.group > info.group)
                    && self.groups.len() >= limits.groups
                {
                    return;
                }
                let at = self.groups.iter().position(|g| g.group > info.group).unwrap_or(self.groups.len());
                self.groups.insert(
                    at,
                    CachedGroup {
                        group: info.group,
                        first_seen: now,
                        first_object: info.object,
                        bytes: 0,
                        objects: Vec::new(),
                        ended: Vec::new(),
                    },
                );
                at
            }
        };
        let Some(group) = self.groups.get_mut(index) else { return };
        group.first_object = group.first_object.min(info.object);
        group.bytes = group.bytes.saturating_add(payload.len());
        group.objects.push(CachedObject { info: info.clone(), payload: payload.clone() });
        self.bytes = self.bytes.saturating_add(payload.len());
        if group.bytes > limits.bytes {
            // Everything older goes too, so the cache stays one contiguous stretch of the
            // track (what a fetch served from it relies on: no hole in the middle).
            self.oversized = Some(info.group);
            self.groups.retain(|g| g.group > info.group);
            self.bytes = self.groups.iter().map(|g| g.bytes).sum();
        }
        while self.groups.len() > limits.groups || self.bytes > limits.bytes {
            self.evict_oldest();
        }
        self.expire(now, limits.max_age);
    }

    /// The upstream stream of (`group`, `subgroup`) ended.
    pub(crate) fn subgroup_ended(&mut self, group: u64, subgroup: u64) {
        if let Some(g) = self.groups.iter_mut().find(|g| g.group == group)
            && !g.ended.contains(&subgroup)
        {
            g.ended.push(subgroup);
        }
    }

    fn evict_oldest(&mut self) {
        if let Some(g) = self.groups.pop_front() {
            self.bytes = self.bytes.saturating_sub(g.bytes);
        }
    }

    /// Drops groups first seen longer than `max_age` ago.
    pub(crate) fn expire(&mut self, now: Time, max_age: Duration) {
        self.groups.retain(|g| now.saturating_since(g.first_seen) <= max_age);
        self.bytes = self.groups.iter().map(|g| g.bytes).sum();
    }

    /// When the oldest cached group expires: the first instant [`GroupCache::expire`]
    /// drops it (a group exactly `max_age` old is still kept, so a timer set at that age
    /// would fire without dropping anything, and fire again at once).
    pub(crate) fn next_expiry(&self, max_age: Duration) -> Option<Time> {
        self.groups.iter().map(|g| g.first_seen + max_age + Duration::from_micros(1)).min()
    }

    /// The largest location cached.
    pub(crate) fn largest(&self) -> Option<Location> {
        let g = self.groups.back()?;
        let object = g.objects.iter().map(|o| o.info.object).max()?;
        Some(Location { group: g.group, object })
    }

    /// Where the cache's contiguous coverage of the track starts: every object the relay
    /// received from this location on is cached (up to [`GroupCache::largest`]).
    pub(crate) fn covered_from(&self) -> Option<Location> {
        self.groups.front().map(|g| Location { group: g.group, object: g.first_object })
    }

    /// The cached objects with `start <= location < end`, in ascending (group, object)
    /// order: what a FETCH of that range gets (draft-18 §10.12: ascending order).
    pub(crate) fn range(&self, start: Location, end: Location) -> Vec<&CachedObject> {
        let mut out = Vec::new();
        for g in self.groups.iter().filter(|g| g.group >= start.group && g.group <= end.group) {
            let first = out.len();
            out.extend(g.objects.iter().filter(|o| {
                let at = Location { group: o.info.group, object: o.info.object };
                at >= start && at < end
            }));
            if let Some(tail) = out.get_mut(first..) {
                tail.sort_by_key(|o| o.info.object);
            }
        }
        out
    }

    /// The cached objects of one group in arrival order (a moq-lite FETCH of that group).
    pub(crate) fn group(&self, group: u64) -> Option<&CachedGroup> {
        self.groups.iter().find(|g| g.group == group)
    }

    /// The cached groups from `group` on, oldest first.
    pub(crate) fn groups_since(&self, group: u64) -> impl Iterator<Item = &CachedGroup> {
        self.groups.iter().filter(move |g| g.group >= group)
    }

    /// Groups cached.
    pub(crate) fn len(&self) -> usize {
        self.groups.len()
    }

    /// Payload bytes cached.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use sluice::ObjectStatus;

    fn info(group: u64, object: u64) -> ObjectInfo {
        ObjectInfo {
            group,
            subgroup: 0,
            object,
            status: ObjectStatus::Normal,
            publisher_priority: None,
            properties: sluice::ObjectProperties::empty(),
            timestamp: None,
            properties_present: false,
        }
    }

    const LIMITS: Limits = Limits { groups: 2, bytes: 100, max_age: Duration::from_secs(1) };

    #[test]
    fn keeps_the_latest_groups_within_count_bytes_and_age() {
        let mut cache = GroupCache::default();
        let p = Payload::One(Bytes::from_static(&[0; 10]));
        for g in 0..3 {
            for o in 0..2 {
                cache.insert(Time::from_millis(g * 100), &info(g, o), &p, LIMITS);
            }
        }
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.largest(), Some(Location { group: 2, object: 1 }));
        assert_eq!(cache.groups_since(0).map(|g| g.group).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(cache.bytes(), 40);
        // A group over the byte limit is not kept at all, and stops being cached.
        let big = Payload::One(Bytes::from_static(&[0; 60]));
        cache.insert(Time::from_millis(300), &info(3, 0), &big, LIMITS);
        cache.insert(Time::from_millis(300), &info(3, 1), &big, LIMITS);
        assert_eq!(cache.groups_since(3).count(), 0);
        cache.insert(Time::from_millis(300), &info(3, 2), &p, LIMITS);
        assert_eq!(cache.groups_since(3).count(), 0);
        // Age: group 2 was first seen at 200 ms.
        cache.expire(Time::from_millis(1201), LIMITS.max_age);
        assert_eq!(cache.len(), 0);
        assert_eq!(cache.bytes(), 0);
    }
}
