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

use std::collections::VecDeque;

use crate::error::CommandError;

/// How an object was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Preference {
    Subgroup,
    Datagram,
}

/// The preference of the recent objects of one subscription: the latest written objects in
/// write order. A subscription that has used only one preference cannot conflict, so the
/// per-object cost is a push onto this ring (no allocation once it is full); the ring is
/// searched only when an object goes the other way than some earlier one.
#[derive(Debug, Default)]
pub(crate) struct ForwardingRecord {
    sent: VecDeque<(u64, u64, Preference)>,
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

    /// Records that (group, object) was sent as `how`, keeping at most `bound` entries.
    pub(crate) fn record(&mut self, group: u64, object: u64, how: Preference, bound: usize) {
        match how {
            Preference::Subgroup => self.used_subgroup = true,
            Preference::Datagram => self.used_datagram = true,
        }
        if self.sent.len() >= bound.max(1) {
            self.sent.pop_front();
        }
        self.sent.push_back((group, object, how));
    }
}
