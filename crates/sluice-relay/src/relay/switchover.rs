//! Publisher switchover: a live track moves to another publisher of its namespace without
//! its subscribers resubscribing.
//!
//! * A publisher session that sends GOAWAY is *going away*: new subscriptions avoid it when
//!   another publisher of the namespace exists, and its live tracks move at once to one
//!   (make before break), or as soon as one announces the namespace (the publisher
//!   reconnecting and announcing again). A publisher whose session closes, or whose MOQT
//!   subscription ends with PUBLISH_DONE GOING_AWAY, has its tracks moved the same way.
//! * Moving a track: one new upstream subscription on the new publisher with the track's
//!   aggregated options, the old one cancelled; every downstream subscription stays
//!   accepted. Each subscriber's open group streams are finished, and the new publisher's
//!   objects are forwarded from the group after the newest one the relay had (a publisher
//!   resending the current group from its start would otherwise repeat object ids on a
//!   stream), so a group in progress at the moment of the switch is cut short (lossy).
//! * No other publisher: the old behaviour; the subscriptions end when the publisher's
//!   session closes, MOQT with PUBLISH_DONE GOING_AWAY if it had said GOAWAY, else
//!   INTERNAL_ERROR ([`crate::codes`]).

use sluice::{Namespace, TrackName};

use super::Relay;
use crate::sessions::{SessionId, Sessions};

impl Relay {
    /// The publisher to subscribe upstream on for a track in `namespace` asked by session
    /// `subscriber`: one that is not going away if there is one.
    pub(super) fn pick_publisher(&self, namespace: &Namespace, subscriber: SessionId) -> Option<SessionId> {
        let going = |s: SessionId| self.peers.get(&s).is_some_and(|p| p.going_away);
        self.routes
            .route(namespace, |s| s != subscriber && !going(s))
            .or_else(|| self.routes.route(namespace, |s| s != subscriber))
    }

    /// Session `id` sent GOAWAY.
    pub(super) fn on_goaway(&mut self, id: SessionId, sessions: &mut impl Sessions) {
        let Some(peer) = self.peers.get_mut(&id) else { return };
        peer.going_away = true;
        let moving: Vec<TrackName> =
            self.tracks.iter().filter(|(_, t)| t.publisher == id).map(|(n, _)| n.clone()).collect();
        for name in moving {
            self.fail_over(&name, sessions);
        }
    }

    /// A publisher registered `namespace`: tracks under it whose publisher is going away
    /// move to it.
    pub(super) fn take_over(&mut self, namespace: &Namespace, sessions: &mut impl Sessions) {
        let moving: Vec<TrackName> = self
            .tracks
            .iter()
            .filter(|(n, t)| {
                n.namespace.starts_with(namespace)
                    && self.peers.get(&t.publisher).is_none_or(|p| p.going_away)
            })
            .map(|(n, _)| n.clone())
            .collect();
        for name in moving {
            self.fail_over(&name, sessions);
        }
    }

    /// Moves track `name` to another publisher that is not going away; false when there is
    /// none (nothing changed).
    pub(super) fn fail_over(&mut self, name: &TrackName, sessions: &mut impl Sessions) -> bool {
        let Some(t) = self.tracks.get(name) else { return false };
        let (old, old_upstream, options) = (t.publisher, t.upstream, t.upstream_options.clone());
        let subscribed: Vec<SessionId> = t.subscribers.iter().map(|d| d.session).collect();
        let going = |s: SessionId| self.peers.get(&s).is_none_or(|p| p.going_away);
        let Some(new) =
            self.routes.route(&name.namespace, |s| s != old && !going(s) && !subscribed.contains(&s))
        else {
            return false;
        };
        let Some(Ok(upstream)) = sessions.session(new).map(|s| s.subscribe(name.clone(), options)) else {
            self.stats.command_errors += 1;
            return false;
        };
        if let Some(s) = sessions.session(old) {
            let _ = s.cancel(old_upstream);
        }
        self.by_upstream.remove(&(old, old_upstream));
        self.by_upstream.insert((new, upstream), name.clone());
        self.stats.upstream_subscribes += 1;
        self.stats.switchovers += 1;
        let Some(t) = self.tracks.get_mut(name) else { return true };
        t.publisher = new;
        t.upstream = upstream;
        t.pushed = false;
        t.resume_from = t.newest_group.map(|g| g.saturating_add(1));
        for d in &mut t.subscribers {
            if let Some(s) = sessions.session(d.session) {
                d.close_all(s);
            }
        }
        true
    }
}
