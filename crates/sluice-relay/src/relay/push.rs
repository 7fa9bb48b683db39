//! MOQT PUBLISH (a publisher pushing a track to the relay, draft-18 §10.9).
//!
//! * A pushed track becomes a relayed track whose upstream is the PUBLISH itself: it is
//!   accepted with Forward=1 (the relay always takes the objects, so its cache can serve
//!   late joiners and fetches), its objects are cached and fanned out to whoever
//!   subscribes to the track, in any version, exactly like a subscribed track's.
//!   Subscriptions that were waiting for a publisher of the track's namespace are served
//!   by it.
//! * It lives until the publisher ends it (PUBLISH_DONE, carried downstream with the
//!   mapped code) or its session goes; the last downstream subscriber leaving does not
//!   end it (the relay never asked for it), and the upstream forward state stays 1.
//! * A PUBLISH of a track the relay already subscribes to on that same session is a second
//!   subscription with the same role: refused with DUPLICATE_SUBSCRIPTION (0x19, draft-18
//!   §"Subscriptions"). One the relay relays from another publisher is refused with
//!   UNINTERESTED (0x20); past [`crate::RelayConfig::max_tracks`] with EXCESSIVE_LOAD.
//! * Sessions that sent SUBSCRIBE_TRACKS for its namespace get it PUBLISHed on
//!   (`track_push.rs`), after the waiting subscriptions were served.

use sluice::{Filter, RequestHandle, SubscribeOptions, Time, TrackInfo, TrackName};
use sluice_wire::moqt::codes::RequestErrorCode;

use super::{Relay, Waiting};
use crate::sessions::{SessionId, Sessions};
use crate::track::Track;

impl Relay {
    /// A peer's PUBLISH (`Event::IncomingPublish`).
    pub(super) fn on_incoming_publish(
        &mut self,
        now: Time,
        id: SessionId,
        request: RequestHandle,
        track: TrackName,
        info: TrackInfo,
        sessions: &mut impl Sessions,
    ) {
        let family = self.family(id);
        if self.tracks.get(&track).is_some_and(|t| t.publisher == id) {
            // We subscribed to it on this session already: a second subscription with the
            // same role (draft-18 §"Subscriptions").
            self.refuse_duplicate(id, request, sessions);
            return;
        }
        if self.tracks.contains_key(&track) {
            if let Some(s) = sessions.session(id) {
                let _ = s.reject(request, RequestErrorCode::UNINTERESTED.0, "track already relayed");
            }
            return;
        }
        if self.tracks.len() >= self.config.max_tracks {
            self.refuse(id, request, family, sessions);
            return;
        }
        let options =
            SubscribeOptions { filter: Filter::LargestObject, forward: true, ..SubscribeOptions::default() };
        match sessions.session(id).map(|s| s.accept_publish(request, options.clone())) {
            Some(Ok(())) => {}
            _ => {
                self.stats.command_errors += 1;
                return;
            }
        }
        self.stats.tracks_pushed += 1;
        self.kept.remove(&track);
        self.by_upstream.insert((id, request), track.clone());
        let newest_group = info.largest.map(|l| l.group);
        self.tracks.insert(
            track.clone(),
            Track {
                publisher: id,
                upstream: request,
                upstream_options: options,
                switch: Default::default(),
                pushed: true,
                info: Some(info),
                subscribers: Vec::new(),
                cache: Default::default(),
                newest_group,
                largest_received: None,
                new_group_outstanding: None,
                new_group_waiting: None,
            },
        );
        let (ready, still): (Vec<Waiting>, Vec<Waiting>) =
            std::mem::take(&mut self.waiting).into_iter().partition(|w| w.track == track && w.session != id);
        self.waiting = still;
        for w in ready {
            self.on_subscribe(now, w.session, w.request, w.track, w.options, sessions);
        }
        self.push_to_discoveries(&track, sessions);
    }
}
