//! NEW_GROUP_REQUEST through the relay (draft-18 "NEW GROUP REQUEST Parameter", Relay
//! Handling). A downstream SUBSCRIBE, PUBLISH_OK or REQUEST_UPDATE may ask the original publisher for
//! a new group; the relay passes the wish upstream at most once per Largest Group:
//!
//! * no upstream subscription yet: the upstream SUBSCRIBE carries it (see `on_subscribe`);
//! * upstream SUBSCRIBE sent but not answered yet: kept (the largest value asked) and
//!   handled as below once SUBSCRIBE_OK has said whether the track has dynamic groups;
//! * established: a REQUEST_UPDATE with it goes upstream when its value is 0 or above the
//!   Largest Group the relay knows, unless the track lacks DYNAMIC_GROUPS=1 or a request
//!   the relay sent upstream is still outstanding with a value at least as large. A
//!   request stays outstanding until the Largest Group increases.

use sluice::TrackName;

use super::Relay;
use crate::sessions::Sessions;

impl Relay {
    /// A downstream subscriber of `name` asked for a new group with `value`.
    pub(super) fn on_new_group_request(
        &mut self,
        name: &TrackName,
        value: u64,
        sessions: &mut impl Sessions,
    ) {
        let Some(t) = self.tracks.get_mut(name) else { return };
        let Some(info) = &t.info else {
            t.new_group_waiting = Some(t.new_group_waiting.map_or(value, |w| w.max(value)));
            return;
        };
        if !info.dynamic_groups {
            return;
        }
        let largest = t.downstream_info().largest.map(|l| l.group);
        if value != 0 && largest.is_some_and(|g| value <= g) {
            return;
        }
        if let Some((sent, at)) = t.new_group_outstanding
            && largest <= at
            && sent >= value
        {
            return;
        }
        let mut options = t.upstream_options.clone();
        options.new_group_request = Some(value);
        t.new_group_outstanding = Some((value, largest));
        self.stats.upstream_updates += 1;
        if let Some(s) = sessions.session(t.publisher)
            && s.update_subscription(t.upstream, options).is_err()
        {
            self.stats.command_errors += 1;
        }
    }
}
