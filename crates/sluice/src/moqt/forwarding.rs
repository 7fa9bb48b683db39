//! Each object's Object Forwarding Preference within a subscription we publish (draft-18
//! §"Object Header": "`Object Forwarding Preference` is a property of an individual
//! Object and can vary among Objects in the same Track. In a subscription, an Object MUST
//! be sent according to its `Object Forwarding Preference`"; §"Data Streams and
//! Datagrams": "Every Object has a 'Object Forwarding Preference' and the Original
//! Publisher MAY use both Subgroups and Datagrams within a Group or Track").
//!
//! So the preference is per object, not per track: the engine remembers, per subscription,
//! which way each object went (subgroup stream or datagram), and writing the same object
//! the other way is refused with `CommandError::ForwardingPreference` (a subscriber would
//! see a malformed track, §"Malformed Tracks" item 7: "an Object is received with a
//! different Forwarding Preference than previously observed"). The record keeps the latest
//! `Config::max_track_check_entries` objects written; older ones are forgotten, so the
//! check is exact for recent objects and best effort beyond.

use crate::error::CommandError;

/// How an object was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Preference {
    Subgroup,
    Datagram,
}

/// The preference of the recent objects of one subscription: the latest written objects, a
/// ring overwritten oldest first once full. A subscription that has used only one
/// preference cannot conflict, so the per-object cost is one store into this ring (no
/// allocation once it is full); the ring is searched only when an object goes the other
/// way than some earlier one.
#[derive(Debug, Default)]
pub(crate) struct ForwardingRecord {
    sent: Vec<(u64, u64, Preference)>,
    /// Once the ring is full: the index of its oldest entry, the next to be overwritten.
    oldest: usize,
    used_subgroup: bool,
    used_datagram: bool,
}

impl ForwardingRecord {
    /// Refuses object (group, object) sent as `how` when it was sent the other way.
    pub(crate) fn check(&self, group: u64, object: u64, how: Preference) -> Result<(), CommandError> {
        let other_used = match how {
            Preference::Subgroup => self.used_datagram,
            Preference::Datagram => self.used_subgroup,
        };
        if other_used && self.sent.iter().any(|&(g, o, p)| g == group && o == object && p != how) {
            return Err(CommandError::ForwardingPreference { group, object });
        }
        Ok(())
    }

    /// Records that (group, object) was sent as `how`, keeping at most `bound` entries (the
    /// latest ones).
    pub(crate) fn record(&mut self, group: u64, object: u64, how: Preference, bound: usize) {
        match how {
            Preference::Subgroup => self.used_subgroup = true,
            Preference::Datagram => self.used_datagram = true,
        }
        let entry = (group, object, how);
        if self.sent.len() < bound.max(1) {
            self.sent.push(entry);
        } else if let Some(slot) = self.sent.get_mut(self.oldest) {
            // Full: the oldest entry gives way (what popping it and pushing this would keep).
            *slot = entry;
            self.oldest = if self.oldest + 1 >= self.sent.len() { 0 } else { self.oldest + 1 };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_record_forgets_its_oldest_entries_first() {
        let mut r = ForwardingRecord::default();
        for o in 0..5 {
            r.record(1, o, Preference::Subgroup, 3);
        }
        // Objects 2, 3 and 4 are remembered; 0 and 1 were forgotten.
        for o in 0..5 {
            let refused = r.check(1, o, Preference::Datagram).is_err();
            assert_eq!(refused, o >= 2, "object {o}");
        }
        r.record(2, 0, Preference::Datagram, 3);
        assert!(r.check(1, 2, Preference::Datagram).is_ok(), "object 2 was the oldest");
        assert!(r.check(1, 3, Preference::Datagram).is_err());
        assert!(r.check(2, 0, Preference::Subgroup).is_err());
        assert_eq!(r.sent.len(), 3);
    }
}
