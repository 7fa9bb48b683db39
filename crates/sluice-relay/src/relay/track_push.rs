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
//! * Lossy: the core's PUBLISH always says Forward=1, so a SUBSCRIBE_TRACKS with Forward=0
//!   is honoured through the peer's PUBLISH_OK only (the relay records the forward state
//!   and sends no objects to a Forward=0 PUBLISH_OK). Over the relay's subscriber limit
//!   per track, a track is not pushed (no PUBLISH_BLOCKED: that is for tracks the
//!   publisher *cannot* publish).

use sluice::{Namespace, RequestHandle, SubscribeOptions, Time, TrackName};

use super::Relay;
use crate::sessions::{SessionId, Sessions};
use crate::track::Downstream;

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
        peer.track_discoveries.insert(request, TrackDiscovery { prefix: prefix.clone(), forward });
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
}
