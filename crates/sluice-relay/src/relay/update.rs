//! SUBSCRIBE_UPDATE / REQUEST_UPDATE through the relay: the upstream subscription follows
//! the set of downstream ones.
//!
//! * A downstream update changes that subscriber's priority, group order and forward
//!   state. The core already re-orders that subscriber's own streams (its send order comes
//!   from the subscription's priority and group order), so the relay only records the new
//!   options: a subscriber with Forward=0 gets no objects until it sets Forward=1 again (it
//!   then resumes at the next group start, never mid-group).
//! * The upstream subscription is updated whenever the aggregate changes
//!   ([`crate::track::Track::aggregate`]): the most important subscriber priority, and
//!   Forward=1 if any downstream subscriber forwards (Forward=0 upstream when none does).
//!   Subscribers joining and leaving re-aggregate too.
//! * Filter changes (narrowing a subscription's range) are recorded but not applied
//!   (lossy): the relay keeps forwarding from where the subscriber started.
//! * moq-lite has no forward state: toward a lite publisher only the priority is carried;
//!   a lite session refusing the update is counted in `command_errors`.

use sluice::{RequestHandle, SubscribeOptions, TrackName};

use super::Relay;
use crate::sessions::{SessionId, Sessions};

impl Relay {
    /// A downstream subscriber updated its subscription (`Event::SubscribeUpdated`).
    pub(super) fn on_subscribe_updated(
        &mut self,
        id: SessionId,
        request: RequestHandle,
        options: SubscribeOptions,
        sessions: &mut impl Sessions,
    ) {
        let Some(name) = self.by_downstream.get(&(id, request)).cloned() else { return };
        let Some(t) = self.tracks.get_mut(&name) else { return };
        let current_group = t.newest_group;
        let Some(d) = t.subscribers.iter_mut().find(|d| d.session == id && d.request == request) else {
            return;
        };
        if !d.options.forward && options.forward {
            // Resume at the next group start: the current group's stream is not reopened
            // mid-group.
            d.skipped_group = current_group;
        }
        let new_group = options.new_group_request;
        d.options = options;
        self.reaggregate(&name, sessions);
        if let Some(value) = new_group {
            self.on_new_group_request(&name, value, sessions);
        }
    }

    /// Updates the upstream subscription of `name` if the downstream set calls for other
    /// options than it has.
    pub(super) fn reaggregate(&mut self, name: &TrackName, sessions: &mut impl Sessions) {
        let Some(t) = self.tracks.get_mut(name) else { return };
        if t.pushed {
            // A pushed track always forwards: the relay caches it for whoever comes.
            return;
        }
        let wanted = t.aggregate();
        if wanted == t.upstream_options {
            return;
        }
        t.upstream_options = wanted.clone();
        self.stats.upstream_updates += 1;
        if let Some(s) = sessions.session(t.publisher)
            && s.update_subscription(t.upstream, wanted).is_err()
        {
            self.stats.command_errors += 1;
        }
    }
}
