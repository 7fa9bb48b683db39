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
//! different Forwarding Preference than previously observed"). The record keeps the highest
//! `Config::max_track_check_entries` locations; older ones are forgotten, so the check is
//! exact for recent objects and best effort beyond.

use std::collections::BTreeMap;

use crate::error::CommandError;

/// How an object was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Preference {
    Subgroup,
    Datagram,
}

/// The preference of the recent objects of one subscription.
#[derive(Debug, Default)]
pub(crate) struct ForwardingRecord {
    sent: BTreeMap<(u64, u64), Preference>,
}

impl ForwardingRecord {
    /// Refuses object (group, object) sent as `how` when it was sent the other way.
    pub(crate) fn check(&self, group: u64, object: u64, how: Preference) -> Result<(), CommandError> {
        match self.sent.get(&(group, object)) {
            Some(p) if *p != how => Err(CommandError::ForwardingPreference { group, object }),
            _ => Ok(()),
        }
    }

    /// Records that (group, object) was sent as `how`, keeping at most `bound` entries.
    pub(crate) fn record(&mut self, group: u64, object: u64, how: Preference, bound: usize) {
        self.sent.insert((group, object), how);
        while self.sent.len() > bound.max(1) {
            if self.sent.pop_first().is_none() {
                break;
            }
        }
    }
}
