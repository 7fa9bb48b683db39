//! The subscriber's output order: payloads go to stdout in (group, object) order, each
//! exactly once, even when objects of the next group overtake the end of the previous one
//! (groups travel on separate streams) and while two sessions deliver the same track during
//! a GOAWAY migration.
//!
//! Rules, with `last` the last (group, object) written:
//! * an object at or below `last` is a duplicate and dropped (a migration's overlap);
//! * `(g, o + 1)` after `(g, o)` is written at once;
//! * `(h, 0)` with `h > g` is written once group `g` is *closed*: an object of group
//!   `g + 2` or later has arrived, an END_OF_GROUP for `g` arrived, or the track ended
//!   ([`Reorder::finish`]). The core reports no end of a moq-lite group stream, and the relay
//!   ends a group's stream when the group after the next starts, so "`g + 2` seen" is the
//!   signal every version shares. Held objects therefore cost up to about two groups;
//! * anything else waits, unless more than [`Reorder::max_held`] bytes are held, in which case
//!   the lowest held object is written anyway and the jump is counted as a gap.
//!
//! What this guarantees: output is strictly increasing in (group, object), without
//! duplicates; within a group it is gapless (objects come in order on one stream). A group
//! the relay skipped for a slow subscriber, or objects lost with a closed session, are
//! missing from the output, and each such jump is counted in [`Reorder::gaps`].

use std::collections::BTreeMap;

use bytes::Bytes;

/// A (group, object) location.
pub type Key = (u64, u64);

/// Which session an object came from (to detect a migration overlap).
pub type Source = u64;

/// The reorder buffer. See the module docs.
#[derive(Debug)]
pub struct Reorder {
    last: Option<Key>,
    held: BTreeMap<Key, (Source, Bytes)>,
    held_bytes: usize,
    /// Highest group any object has been seen of.
    newest_group: Option<u64>,
    /// Groups ended by an END_OF_GROUP status.
    ended_group: Option<u64>,
    /// Bytes held before the lowest held object is forced out.
    pub max_held: usize,
    /// Jumps over objects that never arrived.
    pub gaps: u64,
}

/// What [`Reorder::offer`] did with an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// New: held (and written once its turn comes).
    Taken,
    /// Already written: a duplicate.
    Written,
    /// Already held from the same source.
    Duplicate,
    /// Already held, delivered first by another source: the two overlap.
    Overlap,
}

impl Reorder {
    /// An empty buffer holding at most `max_held` bytes.
    pub fn new(max_held: usize) -> Reorder {
        Reorder {
            last: None,
            held: BTreeMap::new(),
            held_bytes: 0,
            newest_group: None,
            ended_group: None,
            max_held,
            gaps: 0,
        }
    }

    /// The last location written.
    pub fn last(&self) -> Option<Key> {
        self.last
    }

    /// Takes one object from `source`.
    pub fn offer(&mut self, key: Key, source: Source, payload: Bytes) -> Offer {
        self.newest_group = Some(self.newest_group.map_or(key.0, |g| g.max(key.0)));
        if self.last.is_some_and(|last| key <= last) {
            return Offer::Written;
        }
        if let Some((held_from, _)) = self.held.get(&key) {
            return if *held_from == source { Offer::Duplicate } else { Offer::Overlap };
        }
        self.held_bytes += payload.len();
        self.held.insert(key, (source, payload));
        Offer::Taken
    }

    /// Records an END_OF_GROUP for `group`.
    pub fn end_group(&mut self, group: u64) {
        self.ended_group = Some(self.ended_group.map_or(group, |g| g.max(group)));
    }

    /// Payloads that may be written now, in order.
    pub fn drain(&mut self, out: &mut Vec<Bytes>) {
        while let Some((&key, _)) = self.held.first_key_value() {
            let ready = match self.last {
                None => true,
                Some((g, o)) if key.0 == g => key.1 == o + 1,
                Some((g, _)) => {
                    let closed = self.newest_group.is_some_and(|n| n >= g + 2)
                        || self.ended_group.is_some_and(|e| e >= g);
                    closed && key.1 == 0
                }
            };
            if !ready && self.held_bytes <= self.max_held {
                return;
            }
            self.pop(out);
        }
    }

    /// The track ended: everything held, in order (jumps counted as gaps).
    pub fn finish(&mut self, out: &mut Vec<Bytes>) {
        self.drain(out);
        while !self.held.is_empty() {
            self.pop(out);
            self.drain(out);
        }
    }

    /// Writes the lowest held object; a jump that is neither the next object of the group
    /// nor the first of the next group counts as a gap.
    fn pop(&mut self, out: &mut Vec<Bytes>) {
        if let Some((key, (_, payload))) = self.held.pop_first() {
            let follows = match self.last {
                None => true,
                Some((g, o)) => key == (g, o + 1) || key == (g + 1, 0),
            };
            if !follows {
                self.gaps += 1;
            }
            self.held_bytes -= payload.len();
            self.last = Some(key);
            out.push(payload);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn drained(r: &mut Reorder) -> String {
        let mut out = Vec::new();
        r.drain(&mut out);
        out.iter().map(|p| String::from_utf8_lossy(p).into_owned()).collect()
    }

    #[test]
    fn in_group_order_is_written_at_once() {
        let mut r = Reorder::new(1 << 20);
        r.offer((0, 0), 1, b("a"));
        r.offer((0, 1), 1, b("b"));
        assert_eq!(drained(&mut r), "ab");
    }

    #[test]
    fn the_next_group_waits_until_the_previous_is_closed() {
        let mut r = Reorder::new(1 << 20);
        r.offer((0, 0), 1, b("a"));
        assert_eq!(drained(&mut r), "a");
        r.offer((1, 0), 1, b("c"));
        assert_eq!(drained(&mut r), "", "group 0 may still have a tail in flight");
        r.offer((0, 1), 1, b("b"));
        assert_eq!(drained(&mut r), "b");
        r.offer((2, 0), 1, b("d"));
        assert_eq!(drained(&mut r), "c", "group 2 closes group 0; group 1 is still open");
        let mut out = Vec::new();
        r.finish(&mut out);
        assert_eq!(out, vec![b("d")]);
        assert_eq!(r.gaps, 0);
    }

    #[test]
    fn end_of_group_closes_a_group_at_once() {
        let mut r = Reorder::new(1 << 20);
        r.offer((0, 0), 1, b("a"));
        r.offer((1, 0), 1, b("b"));
        assert_eq!(drained(&mut r), "a");
        r.end_group(0);
        assert_eq!(drained(&mut r), "b");
    }

    #[test]
    fn duplicates_are_dropped_and_a_second_source_is_an_overlap() {
        let mut r = Reorder::new(1 << 20);
        assert_eq!(r.offer((0, 0), 1, b("a")), Offer::Taken);
        assert_eq!(r.offer((0, 1), 2, b("b")), Offer::Taken);
        assert_eq!(r.offer((0, 1), 1, b("b")), Offer::Overlap);
        assert_eq!(r.offer((0, 1), 2, b("b")), Offer::Duplicate);
        assert_eq!(drained(&mut r), "ab");
        assert_eq!(r.offer((0, 0), 2, b("a")), Offer::Written);
        assert_eq!(drained(&mut r), "");
    }

    #[test]
    fn a_mid_group_jump_waits_for_the_end_and_counts_as_a_gap() {
        let mut r = Reorder::new(1 << 20);
        r.offer((0, 0), 1, b("a"));
        r.offer((3, 2), 1, b("z"));
        assert_eq!(drained(&mut r), "a");
        let mut out = Vec::new();
        r.finish(&mut out);
        assert_eq!(out, vec![b("z")]);
        assert_eq!(r.gaps, 1);
    }

    #[test]
    fn too_much_held_forces_the_lowest_out() {
        let mut r = Reorder::new(3);
        r.offer((0, 0), 1, b("a"));
        assert_eq!(drained(&mut r), "a");
        r.offer((0, 5), 1, b("xx"));
        assert_eq!(drained(&mut r), "");
        r.offer((0, 6), 1, b("yy"));
        assert_eq!(drained(&mut r), "xxyy");
        assert_eq!(r.gaps, 1);
    }
}
