//! [`HotMap`]: a table of streams that keeps the entry inserted last beside the hash map.
//!
//! Media is written to, and arrives on, the newest stream of a track nearly all the time (a
//! group's objects follow each other on one stream), so a lookup of that stream ends at one
//! compare instead of a hash lookup, on the object path of both the publisher and the
//! subscriber. Every other stream is in the map. Iteration visits the hot entry first, then
//! the map in hash order (callers that need an order sort).

use crate::hash::IdMap;
use crate::ids::StreamId;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct HotMap<V> {
    hot: Option<(StreamId, V)>,
    map: IdMap<StreamId, V>,
}

impl<V> Default for HotMap<V> {
    fn default() -> Self {
        HotMap { hot: None, map: IdMap::default() }
    }
}

impl<V> HotMap<V> {
    /// A table whose map has room for `capacity` entries besides the hot one before it
    /// first grows.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        HotMap { hot: None, map: IdMap::with_capacity_and_hasher(capacity, Default::default()) }
    }

    /// Adds (or replaces) `id`, which becomes the hot entry.
    pub(crate) fn insert(&mut self, id: StreamId, value: V) {
        match self.hot.replace((id, value)) {
            Some((s, _)) if s == id => {}
            Some((s, old)) => {
                self.map.insert(s, old);
                self.map.remove(&id);
            }
            None => {
                self.map.remove(&id);
            }
        }
    }

    pub(crate) fn get(&self, id: &StreamId) -> Option<&V> {
        match &self.hot {
            Some((s, v)) if s == id => Some(v),
            _ => self.map.get(id),
        }
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, id: &StreamId) -> Option<&mut V> {
        match &mut self.hot {
            Some((s, v)) if s == id => Some(v),
            _ => self.map.get_mut(id),
        }
    }

    pub(crate) fn contains_key(&self, id: &StreamId) -> bool {
        self.get(id).is_some()
    }

    pub(crate) fn remove(&mut self, id: &StreamId) -> Option<V> {
        match &self.hot {
            Some((s, _)) if s == id => self.hot.take().map(|(_, v)| v),
            _ => self.map.remove(id),
        }
    }

    /// Every entry: the hot one first, then the rest in hash order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&StreamId, &V)> {
        self.hot.iter().map(|(s, v)| (s, v)).chain(self.map.iter())
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &StreamId> {
        self.iter().map(|(s, _)| s)
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len() + usize::from(self.hot.is_some())
    }

    pub(crate) fn clear(&mut self) {
        self.hot = None;
        self.map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_found_hot_or_not() {
        let mut t = HotMap::default();
        for s in 0..4u64 {
            t.insert(StreamId(s * 4), s);
        }
        assert_eq!(t.len(), 4);
        // The hot entry (the last inserted) and the older ones in the map alike.
        for s in 0..4u64 {
            assert_eq!(t.get_mut(&StreamId(s * 4)).copied(), Some(s));
            assert_eq!(t.get(&StreamId(s * 4)).copied(), Some(s));
            assert!(t.contains_key(&StreamId(s * 4)));
        }
        assert!(t.get_mut(&StreamId(99)).is_none() && !t.contains_key(&StreamId(99)));
        // Re-inserting replaces the entry (one entry), wherever it was.
        t.insert(StreamId(4), 40);
        t.insert(StreamId(4), 41);
        assert_eq!(t.len(), 4);
        assert_eq!(t.get(&StreamId(4)).copied(), Some(41));
        // A cold entry re-inserted becomes hot and leaves the map.
        t.insert(StreamId(8), 80);
        assert_eq!((t.len(), t.get(&StreamId(4)).copied()), (4, Some(41)));
        assert_eq!(t.iter().next().map(|(s, v)| (s.0, *v)), Some((8, 80)), "hot entry first");
        let mut ids: Vec<u64> = t.keys().map(|s| s.0).collect();
        ids.sort();
        assert_eq!(ids, vec![0, 4, 8, 12]);
        // Removing the hot one and a cold one.
        assert_eq!(t.remove(&StreamId(8)), Some(80));
        assert_eq!(t.remove(&StreamId(0)), Some(0));
        assert!(t.remove(&StreamId(0)).is_none() && t.get(&StreamId(8)).is_none());
        assert_eq!((t.len(), t.values().count()), (2, 2));
        t.clear();
        assert_eq!((t.len(), t.iter().count()), (0, 0));
    }
}
