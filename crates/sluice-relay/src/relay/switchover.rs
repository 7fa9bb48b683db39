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
//!   accepted, and so do its open subgroup streams.
//! * Continuing the group in progress ([`Switch`]): the relay tracks, for the newest group
//!   upstream, the last object id of each subgroup and which subgroups ended. After the
//!   switch the new publisher's objects of older groups, of subgroups that had ended, and
//!   with ids at or below the last one forwarded are repeats and are dropped ("The relay
//!   will attempt to deduplicate Objects", draft-18 §Graceful Publisher Relay
//!   Switchover). The rest is forwarded under draft-18 §Closing Subgroup Streams: an open
//!   downstream subgroup stream whose upstream stream was the old publisher's takes an
//!   object only if its id is the next one (one greater than the last written); otherwise
//!   the relay cannot know it is the next, so the stream is reset and a new one opened for
//!   it. A stream the new publisher never continues is reset (never finished: objects are
//!   missing) when a newer group starts for that subscriber. moq-lite subscribers see
//!   frames without ids, so a gap is forwarded as is (lossy). Past
//!   [`MAX_TRACKED_SUBGROUPS`] subgroups in one group the relay stops tracking it, and the
//!   group in progress is cut at a switch (the new publisher is forwarded from the next
//!   group on).
//! * No other publisher: the old behaviour; the subscriptions end when the publisher's
//!   session closes, MOQT with PUBLISH_DONE GOING_AWAY if it had said GOAWAY, else
//!   INTERNAL_ERROR ([`crate::codes`]).

use sluice::{Namespace, ObjectInfo, ObjectStatus, TrackName};

use super::Relay;
use crate::sessions::{SessionId, Sessions};

impl Relay {
    /// The publisher to subscribe upstream on for a track in `namespace` asked by session
    /// `subscriber`: one that is not going away if there is one.
    pub(super) fn pick_publisher(&self, namespace: &Namespace, subscriber: SessionId) -> Option<SessionId> {
        let going = |s: SessionId| self.peers.get(&s).is_some_and(|p| p.going_away);
        self.routes
            .route(namespace, |s| !self.same_neighbour(s, subscriber) && !going(s))
            .or_else(|| self.routes.route(namespace, |s| !self.same_neighbour(s, subscriber)))
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
        t.switch.switched(t.newest_group);
        for d in &mut t.subscribers {
            d.upstream_switched();
        }
        true
    }
}

/// Subgroups of one group whose progress the relay tracks; past it, the group in progress
/// is cut at a switchover instead of continued.
pub(crate) const MAX_TRACKED_SUBGROUPS: usize = 64;

/// One upstream subgroup of the newest group.
#[derive(Debug, Clone, Copy)]
struct Subgroup {
    id: u64,
    last_object: u64,
    ended: bool,
}

/// How far the upstream got in its newest group.
#[derive(Debug, Clone, Default)]
struct Progress {
    group: Option<u64>,
    subgroups: Vec<Subgroup>,
    /// More than [`MAX_TRACKED_SUBGROUPS`] subgroups: not tracked.
    overflow: bool,
}

/// Where the old publisher left off at a switchover.
#[derive(Debug, Clone)]
struct Resume {
    /// Objects of older groups are repeats.
    from_group: u64,
    /// What was forwarded of `from_group` (none: nothing).
    partial: Option<Progress>,
}

/// A track's upstream progress and its last switchover (see the module docs).
#[derive(Debug, Clone, Default)]
pub(crate) struct Switch {
    progress: Progress,
    resume: Option<Resume>,
}

impl Switch {
    /// An upstream object arrived (and is forwarded).
    pub(crate) fn seen(&mut self, info: &ObjectInfo) {
        if info.status != ObjectStatus::Normal {
            return;
        }
        let p = &mut self.progress;
        match p.group {
            Some(g) if info.group < g => return,
            Some(g) if info.group == g => {}
            _ => *p = Progress { group: Some(info.group), ..Progress::default() },
        }
        if let Some(s) = p.subgroups.iter_mut().find(|s| s.id == info.subgroup) {
            s.last_object = s.last_object.max(info.object);
        } else if p.subgroups.len() < MAX_TRACKED_SUBGROUPS {
            p.subgroups.push(Subgroup { id: info.subgroup, last_object: info.object, ended: false });
        } else {
            p.overflow = true;
        }
    }

    /// An upstream subgroup stream ended.
    pub(crate) fn ended(&mut self, group: u64, subgroup: u64) {
        if self.progress.group == Some(group)
            && let Some(s) = self.progress.subgroups.iter_mut().find(|s| s.id == subgroup)
        {
            s.ended = true;
        }
    }

    /// The publisher changed; `newest` is the newest group the relay had.
    pub(crate) fn switched(&mut self, newest: Option<u64>) {
        let Some(newest) = newest else {
            self.resume = None;
            return;
        };
        let p = &self.progress;
        self.resume = Some(if p.group == Some(newest) && !p.overflow {
            Resume { from_group: newest, partial: Some(p.clone()) }
        } else {
            Resume { from_group: newest.saturating_add(1), partial: None }
        });
    }

    /// False for an object the new publisher repeats (already forwarded, or of a group cut
    /// at the switch).
    pub(crate) fn forwards(&self, info: &ObjectInfo) -> bool {
        let Some(r) = &self.resume else { return true };
        if info.group != r.from_group {
            return info.group > r.from_group;
        }
        let Some(p) = &r.partial else { return true };
        p.subgroups
            .iter()
            .find(|s| s.id == info.subgroup)
            .is_none_or(|s| !s.ended && info.object > s.last_object)
    }

    /// False for the end of an upstream stream the relay did not forward (a group cut at
    /// the switch, or a subgroup that had already ended).
    pub(crate) fn forwards_end(&self, group: u64, subgroup: u64) -> bool {
        let Some(r) = &self.resume else { return true };
        if group != r.from_group {
            return group > r.from_group;
        }
        let Some(p) = &r.partial else { return true };
        p.subgroups.iter().find(|s| s.id == subgroup).is_none_or(|s| !s.ended)
    }
}
