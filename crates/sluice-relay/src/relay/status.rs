//! TRACK_STATUS through the relay (draft-18 §10.14; moq-lite-05 TRACK probe).
//!
//! * A track the relay relays, or whose cache it still keeps, is answered at once with
//!   what the relay knows: the publisher's track info (priority, group order, max
//!   latency, timescale) with the largest location raised to the largest the relay has
//!   seen. The model's `TrackInfo` has no forwarding state, so none is reported (lossy).
//! * Any other track is asked of the session routing its namespace, and that answer (or
//!   refusal, its code mapped across families by [`crate::codes::map_failure`]) is passed
//!   back. No publisher: DOES_NOT_EXIST (lite: NOT_FOUND). The publisher's session cannot
//!   ask (a version without status requests): NOT_SUPPORTED (lite: UNSUPPORTED).
//! * Forwarded statuses count against [`crate::RelayConfig::max_forwarded_requests`].

use sluice::{Reason, RequestHandle, TrackInfo, TrackName};

use super::Relay;
use crate::codes;
use crate::sessions::{SessionId, Sessions};

impl Relay {
    /// A peer's TRACK_STATUS (`Event::IncomingTrackStatus`).
    pub(super) fn on_incoming_status(
        &mut self,
        id: SessionId,
        request: RequestHandle,
        track: TrackName,
        sessions: &mut impl Sessions,
    ) {
        let family = self.family(id);
        let known = match self.tracks.get(&track) {
            Some(t) if t.info.is_some() => Some(t.downstream_info()),
            _ => self.kept.get(&track).map(|k| k.info()),
        };
        if let Some(info) = known {
            self.stats.statuses_answered += 1;
            if let Some(s) = sessions.session(id)
                && s.accept_subscribe(request, info).is_err()
            {
                self.stats.command_errors += 1;
            }
            return;
        }
        let Some(publisher) = self.pick_publisher(&track.namespace, id) else {
            if let Some(s) = sessions.session(id) {
                let _ = s.reject(request, codes::does_not_exist(family), "no publisher for this namespace");
            }
            return;
        };
        if self.forwarded_requests() >= self.config.max_forwarded_requests {
            self.refuse(id, request, family, sessions);
            return;
        }
        match sessions.session(publisher).map(|s| s.track_status(track)) {
            Some(Ok(up)) => {
                self.statuses.insert((publisher, up), (id, request));
            }
            _ => {
                if let Some(s) = sessions.session(id) {
                    let _ =
                        s.reject(request, codes::not_supported(family), "the publisher cannot report status");
                }
            }
        }
    }

    /// The answer to a status we forwarded.
    pub(super) fn on_status(
        &mut self,
        id: SessionId,
        request: RequestHandle,
        result: Result<TrackInfo, Reason>,
        sessions: &mut impl Sessions,
    ) {
        let Some((down, down_request)) = self.statuses.remove(&(id, request)) else { return };
        let (from, to) = (self.family(id), self.family(down));
        let Some(s) = sessions.session(down) else { return };
        let result = match result {
            Ok(info) => {
                self.stats.statuses_answered += 1;
                s.accept_subscribe(down_request, info)
            }
            Err(reason) => s.reject(down_request, codes::map_failure(from, to, reason.code), &reason.text),
        };
        if result.is_err() {
            self.stats.command_errors += 1;
        }
    }

    /// Session `id` is gone: statuses it asked for are dropped, statuses asked of it fail.
    pub(super) fn statuses_of_gone_session(&mut self, id: SessionId, sessions: &mut impl Sessions) {
        self.statuses.retain(|_, (down, _)| *down != id);
        let up: Vec<(SessionId, RequestHandle)> =
            self.statuses.keys().filter(|(s, _)| *s == id).copied().collect();
        for u in up {
            if let Some((down, request)) = self.statuses.remove(&u) {
                let code = codes::publisher_gone(self.family(down));
                if let Some(s) = sessions.session(down) {
                    let _ = s.reject(request, code, "publisher gone");
                }
            }
        }
    }
}
