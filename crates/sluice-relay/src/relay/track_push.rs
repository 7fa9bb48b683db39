//! MOQT SUBSCRIBE_TRACKS toward the relay: pushing relayed tracks downstream with PUBLISH
//! (draft-18 §"Subscribing to tracks" and "SUBSCRIBE_TRACKS"; a relay receiving a PUBLISH
//! "MUST send a PUBLISH request to each subscriber that has sent SUBSCRIBE_TRACKS for the
//! Track's namespace or a prefix thereof").
//!
//! * A session's SUBSCRIBE_TRACKS (accepted by its engine, reported as
//!   `IncomingTrackDiscovery`) is recorded with its prefix. Every live relayed track under
//!   the prefix (subscribed upstream and answered, or pushed to the relay) is PUBLISHed to
//!   that session at once, and every one that goes live later as it does. A prefix update
//!   (the same event again) pushes what the new prefix adds.
//! * Skipped: tracks whose publisher is that session itself, and tracks that session
//!   already subscribes to (a SUBSCRIBE waiting for a publisher proceeds instead of a
//!   PUBLISH, as the draft requires).
//! * Each PUBLISH becomes a downstream subscription of the track like a SUBSCRIBE
//!   ([`crate::track::Downstream::via_publish`]): objects flow once the peer's PUBLISH_OK
//!   arrives, with the priority, group order, filter and forward state it asked for;
//!   refused (REQUEST_ERROR) or cancelled it leaves like a subscriber; the track's end is
//!   carried with PUBLISH_DONE. A pushed subscription keeps the upstream alive like any
//!   subscriber until the peer cancels it.
//! * The SUBSCRIBE_TRACKS ending stops further PUBLISHes; existing ones stay (§"Cancelling
//!   SUBSCRIBE_TRACKS": no further PUBLISH without knowing the client is interested).
//! * Forwarded upstream (issue 4; draft-18 §"Subscribing to Namespaces": a subscriber may
//!   send SUBSCRIBE_TRACKS to the publishers/relays it is connected to): to every draft-18
//!   session, other than the asker's neighbour, that published a namespace overlapping the
//!   prefix, now or when it announces one later. Aggregated per upstream session: a
//!   prefix under one already asked there joins it; a wider one replaces the narrower
//!   ones (cancelled first, their downstreams moved to it), since the peer refuses
//!   overlapping prefixes with PREFIX_OVERLAP. The upstream request is cancelled when its
//!   last downstream one ends; the PUBLISHes the upstream sends arrive as any PUBLISH
//!   (`push.rs`) and are pushed on from there, once per session. moq-lite upstreams are
//!   not asked (no push).
//! * One subscription per track and session and role (draft-18 §"Subscriptions"): a
//!   SUBSCRIBE from a MOQT session for a track it already has (PUBLISHed to it, pending or
//!   accepted, subscribed, or waiting) is refused with DUPLICATE_SUBSCRIPTION, so objects
//!   reach it once.
//! * Lossy: the core's PUBLISH always says Forward=1, so a SUBSCRIBE_TRACKS with Forward=0
//!   is honoured through the peer's PUBLISH_OK only (the relay records the forward state
//!   and sends no objects to a Forward=0 PUBLISH_OK). Over the relay's subscriber limit
//!   per track, a track is not pushed (no PUBLISH_BLOCKED: that is for tracks the
//!   publisher *cannot* publish).

use std::collections::BTreeSet;

use sluice::{Namespace, RequestHandle, SubscribeOptions, Time, TrackName, Version};

use super::Relay;
use crate::sessions::{SessionId, Sessions};
use crate::track::Downstream;

/// One SUBSCRIBE_TRACKS the relay sent upstream for the downstream ones under its prefix.
#[derive(Debug)]
pub(crate) struct ForwardedDiscovery {
    prefix: Namespace,
    /// The downstream SUBSCRIBE_TRACKS it serves: (session, request).
    downstream: BTreeSet<(SessionId, RequestHandle)>,
}

/// True when one of two namespace prefixes is a prefix of the other (they match some
/// namespace in common).
fn overlap(a: &Namespace, b: &Namespace) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// A peer's SUBSCRIBE_TRACKS.
#[derive(Debug, Clone)]
pub(crate) struct TrackDiscovery {
    prefix: Namespace,
    forward: bool,
}

impl Relay {
    /// A peer's SUBSCRIBE_TRACKS, or an update of its prefix.
    pub(super) fn on_track_discovery(
        &mut self,
        id: SessionId,
        request: RequestHandle,
        prefix: Namespace,
        forward: bool,
        sessions: &mut impl Sessions,
    ) {
        let Some(peer) = self.peers.get_mut(&id) else { return };
        let before =
            peer.track_discoveries.insert(request, TrackDiscovery { prefix: prefix.clone(), forward });
        self.forward_discovery(id, request, &prefix, None, sessions);
        if before.is_some() {
            // A prefix update: it leaves the upstream ones that no longer cover it.
            self.leave_forwards(id, request, |f| !prefix.starts_with(&f.prefix), sessions);
        }
        let live: Vec<TrackName> = self
            .tracks
            .iter()
            .filter(|(name, t)| t.info.is_some() && name.namespace.starts_with(&prefix))
            .map(|(name, _)| name.clone())
            .collect();
        for name in live {
            self.push_track(&name, id, forward, sessions);
        }
    }

    /// Track `name` went live: PUBLISH it to every session whose SUBSCRIBE_TRACKS matches.
    pub(super) fn push_to_discoveries(&mut self, name: &TrackName, sessions: &mut impl Sessions) {
        let targets: Vec<(SessionId, bool)> = self
            .peers
            .iter()
            .filter_map(|(id, p)| {
                p.track_discoveries
                    .values()
                    .find(|d| name.namespace.starts_with(&d.prefix))
                    .map(|d| (*id, d.forward))
            })
            .collect();
        for (id, forward) in targets {
            self.push_track(name, id, forward, sessions);
        }
    }

    /// PUBLISHes relayed track `name` to session `id` unless it is its publisher, already
    /// gets it, or the track is full.
    fn push_track(&mut self, name: &TrackName, id: SessionId, forward: bool, sessions: &mut impl Sessions) {
        let family = self.family(id);
        let max = self.config.max_subscribers_per_track;
        let Some(t) = self.tracks.get_mut(name) else { return };
        if t.info.is_none() || t.publisher == id || t.subscribers.iter().any(|d| d.session == id) {
            return;
        }
        if self.waiting.iter().any(|w| w.session == id && w.track == *name) {
            return;
        }
        if t.subscribers.len() >= max {
            self.stats.refused_excessive_load += 1;
            return;
        }
        let Some(session) = sessions.session(id) else { return };
        let info = t.downstream_info();
        let requested_at = info.largest;
        let newest_at_arrival = t.newest_group;
        let request = match session.publish(name.clone(), info) {
            Ok(h) => h,
            Err(_) => {
                self.stats.command_errors += 1;
                return;
            }
        };
        self.stats.tracks_pushed_downstream += 1;
        t.subscribers.push(Downstream {
            session: id,
            request,
            options: SubscribeOptions { forward, ..SubscribeOptions::default() },
            family,
            needs_timestamp: false,
            accepted: false,
            joined_at: None,
            requested_at,
            newest_at_arrival,
            start_group: None,
            newest_group: None,
            skipped_group: None,
            accounted: Default::default(),
            open: Vec::new(),
            via_publish: true,
        });
        self.by_downstream.insert((id, request), name.clone());
    }

    /// The peer accepted a track the relay pushed (`Event::PublishAccepted`): objects flow
    /// with what its PUBLISH_OK asked for.
    pub(super) fn on_publish_accepted(
        &mut self,
        now: Time,
        id: SessionId,
        request: RequestHandle,
        options: SubscribeOptions,
        sessions: &mut impl Sessions,
    ) {
        let Some(name) = self.by_downstream.get(&(id, request)).cloned() else { return };
        let Some(t) = self.tracks.get_mut(&name) else { return };
        let Some(d) = t.subscribers.iter_mut().find(|d| d.session == id && d.request == request) else {
            return;
        };
        if d.accepted {
            return;
        }
        let new_group = options.new_group_request;
        d.options = options;
        self.reaggregate(&name, sessions);
        self.accept_downstream(now, &name, id, request, sessions);
        // A PUBLISH_OK may carry NEW_GROUP_REQUEST (the track said DYNAMIC_GROUPS=1).
        if let Some(value) = new_group {
            self.on_new_group_request(&name, value, sessions);
        }
    }

    /// Forwards session `id`'s SUBSCRIBE_TRACKS `request` for `prefix` upstream: to every
    /// draft-18 session (but `id`) that published a namespace overlapping the prefix, or
    /// only to `only`. One upstream SUBSCRIBE_TRACKS per upstream session serves every
    /// downstream one whose prefix it covers; a wider prefix replaces a narrower one (the
    /// peer refuses overlapping ones with PREFIX_OVERLAP, draft-18 "SUBSCRIBE_TRACKS").
    pub(super) fn forward_discovery(
        &mut self,
        id: SessionId,
        request: RequestHandle,
        prefix: &Namespace,
        only: Option<SessionId>,
        sessions: &mut impl Sessions,
    ) {
        let moqt =
            |s: &SessionId| self.peers.get(s).is_some_and(|p| matches!(p.version, Some(Version::Moqt(_))));
        let upstreams: BTreeSet<SessionId> = self
            .routes
            .namespaces()
            .filter(|(ns, _)| overlap(ns, prefix))
            .flat_map(|(_, origins)| origins.iter().map(|o| o.session))
            .filter(|s| !self.same_neighbour(*s, id) && only.is_none_or(|o| o == *s) && moqt(s))
            .collect();
        let member = (id, request);
        for upstream in upstreams {
            let on_it: Vec<RequestHandle> = self
                .discovery_forwards
                .iter()
                .filter(|((s, _), f)| *s == upstream && overlap(&f.prefix, prefix))
                .map(|((_, r), _)| *r)
                .collect();
            // An upstream one covering the prefix already: join it.
            if let Some(r) = on_it.iter().find(|r| {
                self.discovery_forwards.get(&(upstream, **r)).is_some_and(|f| prefix.starts_with(&f.prefix))
            }) {
                if let Some(f) = self.discovery_forwards.get_mut(&(upstream, *r)) {
                    f.downstream.insert(member);
                }
                continue;
            }
            let Some(session) = sessions.session(upstream) else { continue };
            // Narrower ones it replaces: cancelled first (so the peer has let them go when
            // the wider one arrives), their downstreams moved to it.
            let mut downstream = BTreeSet::from([member]);
            for r in on_it {
                if let Some(old) = self.discovery_forwards.remove(&(upstream, r)) {
                    downstream.extend(old.downstream);
                    let _ = session.cancel(r);
                }
            }
            let Ok(handle) = session.discover_tracks(prefix.clone()) else {
                self.stats.command_errors += 1;
                continue;
            };
            self.stats.track_discoveries_forwarded += 1;
            self.discovery_forwards
                .insert((upstream, handle), ForwardedDiscovery { prefix: prefix.clone(), downstream });
        }
    }

    /// Session `id`'s SUBSCRIBE_TRACKS `request` ended (or its session did): it leaves the
    /// upstream ones it shared; an upstream one left with nobody is cancelled.
    pub(super) fn unforward_discovery(
        &mut self,
        id: SessionId,
        request: RequestHandle,
        sessions: &mut impl Sessions,
    ) {
        self.leave_forwards(id, request, |_| true, sessions);
    }

    /// Takes (`id`, `request`) out of the upstream SUBSCRIBE_TRACKS for which `leave` is
    /// true; one left with nobody is cancelled.
    fn leave_forwards(
        &mut self,
        id: SessionId,
        request: RequestHandle,
        leave: impl Fn(&ForwardedDiscovery) -> bool,
        sessions: &mut impl Sessions,
    ) {
        let mut emptied = Vec::new();
        for (key, f) in self.discovery_forwards.iter_mut() {
            if leave(f) && f.downstream.remove(&(id, request)) && f.downstream.is_empty() {
                emptied.push(*key);
            }
        }
        for (upstream, handle) in emptied {
            self.discovery_forwards.remove(&(upstream, handle));
            if let Some(s) = sessions.session(upstream) {
                let _ = s.cancel(handle);
            }
        }
    }

    /// A peer's SUBSCRIBE_TRACKS ended (`Event::IncomingTrackDiscoveryEnded`).
    pub(super) fn on_track_discovery_ended(
        &mut self,
        id: SessionId,
        request: RequestHandle,
        sessions: &mut impl Sessions,
    ) {
        if let Some(p) = self.peers.get_mut(&id) {
            p.track_discoveries.remove(&request);
        }
        self.unforward_discovery(id, request, sessions);
    }

    /// Session `upstream` registered `namespace`: the downstream SUBSCRIBE_TRACKS whose
    /// prefix overlaps it are forwarded to it too (as a SUBSCRIBE is, draft-18 "Relay
    /// Track Handling": a new PUBLISH_NAMESPACE matching existing subscriptions).
    pub(super) fn forward_discoveries_to(
        &mut self,
        upstream: SessionId,
        namespace: &Namespace,
        sessions: &mut impl Sessions,
    ) {
        let matching: Vec<(SessionId, RequestHandle, Namespace)> = self
            .peers
            .iter()
            .flat_map(|(id, p)| p.track_discoveries.iter().map(move |(r, d)| (*id, *r, d.prefix.clone())))
            .filter(|(_, _, prefix)| overlap(prefix, namespace))
            .collect();
        for (id, request, prefix) in matching {
            self.forward_discovery(id, request, &prefix, Some(upstream), sessions);
        }
    }

    /// Forgets what the relay forwarded on, and for, a session that is gone.
    pub(super) fn discoveries_of_gone_session(&mut self, id: SessionId, sessions: &mut impl Sessions) {
        self.discovery_forwards.retain(|(s, _), _| *s != id);
        let own: Vec<RequestHandle> = self
            .discovery_forwards
            .values()
            .flat_map(|f| f.downstream.iter().filter(|(s, _)| *s == id).map(|(_, r)| *r))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for request in own {
            self.unforward_discovery(id, request, sessions);
        }
    }

    /// Our upstream SUBSCRIBE_TRACKS `request` on `id` ended (refused or closed by the
    /// peer): forgotten; the downstream ones keep what was pushed.
    pub(super) fn forwarded_discovery_ended(&mut self, id: SessionId, request: RequestHandle) {
        self.discovery_forwards.remove(&(id, request));
    }

    /// True when session `id` already has a subscription to `track` from the relay: one
    /// the relay PUBLISHed to it (pending or accepted), one it SUBSCRIBEd, or one waiting
    /// for a publisher.
    pub(super) fn already_subscribed(&self, id: SessionId, track: &TrackName) -> bool {
        self.tracks.get(track).is_some_and(|t| t.subscribers.iter().any(|d| d.session == id))
            || self.waiting.iter().any(|w| w.session == id && w.track == *track)
    }

    /// Refuses a second subscription of one session to one track: draft-18 §"Subscriptions"
    /// allows an endpoint at most one subscription to a Track per role and requires
    /// DUPLICATE_SUBSCRIPTION (0x19) for a request attempting a second one (also when the
    /// first is a PUBLISH still pending).
    pub(super) fn refuse_duplicate(
        &mut self,
        id: SessionId,
        request: RequestHandle,
        sessions: &mut impl Sessions,
    ) {
        self.stats.duplicate_subscriptions += 1;
        let code = sluice_wire::moqt::codes::RequestErrorCode::DUPLICATE_SUBSCRIPTION.0;
        if let Some(s) = sessions.session(id)
            && s.reject(request, code, "already subscribed to this track").is_err()
        {
            self.stats.command_errors += 1;
        }
    }
}
