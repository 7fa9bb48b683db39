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
//! different Forwarding Preference than previously observed"). The record keeps runs of
//! consecutive objects of one group sent the same way (a subgroup stream's objects are
//! usually one run, so the object path updates one entry that stays in cache instead of
//! storing an entry per object), the latest `Config::max_forwarding_runs` runs; older ones
//! are forgotten, so the check is exact for recent objects and best effort beyond.

use crate::error::CommandError;

/// How an object was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Preference {
    Subgroup,
    Datagram,
}

/// Objects `first..=last` of `group`, all sent `how`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    group: u64,
    first: u64,
    last: u64,
    how: Preference,
}

impl Run {
    fn holds(&self, group: u64, object: u64) -> bool {
        self.group == group && (self.first..=self.last).contains(&object)
    }
}

/// The preference of the recent objects of one subscription: the latest runs, a ring
/// overwritten oldest first once full. A subscription that has used only one preference
/// cannot conflict, so the per-object cost is extending the newest run (or starting one;
/// no allocation once the ring is full); the ring is searched only when an object goes the
/// other way than some earlier one.
#[derive(Debug, Default)]
pub(crate) struct ForwardingRecord {
    runs: Vec<Run>,
    /// The index of the newest run (the one an object may extend).
    newest: usize,
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
        if other_used && self.runs.iter().any(|r| r.how != how && r.holds(group, object)) {
            return Err(CommandError::ForwardingPreference { group, object });
        }
        Ok(())
    }

    /// Records that (group, object) was sent as `how`, keeping at most `bound` runs (the
    /// latest ones).
    #[inline]
    pub(crate) fn record(&mut self, group: u64, object: u64, how: Preference, bound: usize) {
        if let Some(run) = self.runs.get_mut(self.newest)
            && run.group == group
            && run.how == how
            && run.last.checked_add(1) == Some(object)
        {
            run.last = object;
            return;
        }
        self.start_run(Run { group, first: object, last: object, how }, bound);
    }

    /// [`ForwardingRecord::record`] of an object that does not extend the newest run.
    #[inline(never)]
    fn start_run(&mut self, run: Run, bound: usize) {
        match run.how {
            Preference::Subgroup => self.used_subgroup = true,
            Preference::Datagram => self.used_datagram = true,
        }
        if self.runs.len() < bound.max(1) {
            self.newest = self.runs.len();
            self.runs.push(run);
            return;
        }
        // Full: the oldest run (the one after the newest) gives way.
        self.newest = if self.newest + 1 >= self.runs.len() { 0 } else { self.newest + 1 };
        if let Some(slot) = self.runs.get_mut(self.newest) {
            *slot = run;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_record_forgets_its_oldest_runs_first() {
        let mut r = ForwardingRecord::default();
        // Five runs of one object each (every other object).
        for o in (0..10).step_by(2) {
            r.record(1, o, Preference::Subgroup, 3);
        }
        // Objects 4, 6 and 8 are remembered; 0 and 2 were forgotten; the odd ones never sent.
        for o in 0..10 {
            let refused = r.check(1, o, Preference::Datagram).is_err();
            assert_eq!(refused, o >= 4 && o % 2 == 0, "object {o}");
        }
        r.record(2, 0, Preference::Datagram, 3);
        assert!(r.check(1, 4, Preference::Datagram).is_ok(), "object 4's run was the oldest");
        assert!(r.check(1, 6, Preference::Datagram).is_err());
        assert!(r.check(2, 0, Preference::Subgroup).is_err());
        assert_eq!(r.runs.len(), 3);
    }

    #[test]
    fn consecutive_objects_of_a_group_sent_one_way_are_one_run() {
        let mut r = ForwardingRecord::default();
        for o in 0..30 {
            r.record(7, o, Preference::Subgroup, 4);
        }
        assert_eq!(r.runs, [Run { group: 7, first: 0, last: 29, how: Preference::Subgroup }]);
        // A gap, another group, or the other way each start a run.
        r.record(7, 31, Preference::Subgroup, 4);
        r.record(8, 32, Preference::Subgroup, 4);
        r.record(8, 33, Preference::Datagram, 4);
        assert_eq!(r.runs.len(), 4);
        for (o, refused) in [(29, true), (30, false), (31, true), (32, false)] {
            assert_eq!(r.check(7, o, Preference::Datagram).is_err(), refused, "group 7 object {o}");
        }
        assert!(r.check(8, 32, Preference::Datagram).is_err());
        assert!(r.check(8, 33, Preference::Subgroup).is_err());
        assert!(r.check(8, 34, Preference::Subgroup).is_ok(), "never sent");
        // The ring is full: the next run replaces the oldest (group 7's 0..=29).
        r.record(9, 0, Preference::Subgroup, 4);
        assert!(r.check(7, 5, Preference::Datagram).is_ok());
        assert!(r.check(7, 31, Preference::Datagram).is_err());
    }
}
