//! [`Relay`]: the relay's state machine. The caller feeds it each session's events
//! ([`Relay::on_event`]) and its clock ([`Relay::handle_timeout`]); the relay issues
//! commands on the sessions through [`Sessions`]. See the crate docs for the model.

use std::collections::BTreeMap;

use bytes::Bytes;
use sluice::{
    Event, Filter, Namespace, ObjectInfo, Payload, Reason, RequestHandle, Session, SubscribeOptions, Time,
    TrackName, Version,
};

use crate::cache::Limits;
use crate::codes::{self, Family};
use crate::config::RelayConfig;
use crate::routing::{Origin, Routes};
use crate::sessions::{SessionId, Sessions};
use crate::stats::RelayStats;
use crate::track::{Downstream, ForwardCtx, Track};

/// What the relay knows of one session.
#[derive(Debug, Default)]
struct Peer {
    version: Option<Version>,
    /// Our announce interest on a lite session (how lite publishers are discovered).
    discovery: Option<RequestHandle>,
    congested: bool,
    bytes_written: u64,
}

impl Peer {
    fn family(&self) -> Family {
        match self.version {
            Some(Version::Lite(_)) => Family::Lite,
            _ => Family::Moqt,
        }
    }
}

/// Why an upstream subscription is over.
#[derive(Debug, Clone, Copy)]
enum UpstreamEnd {
    /// The publisher ended or refused it with a code of this family.
    Code(Family),
    /// The publisher's session is gone.
    PublisherGone,
}

/// A subscription waiting for a publisher of its namespace.
#[derive(Debug)]
struct Waiting {
    session: SessionId,
    request: RequestHandle,
    track: TrackName,
    options: SubscribeOptions,
    deadline: Time,
}

/// The relay. See the crate docs.
#[derive(Debug)]
pub struct Relay {
    config: RelayConfig,
    peers: BTreeMap<SessionId, Peer>,
    routes: Routes,
    tracks: BTreeMap<TrackName, Track>,
    by_upstream: BTreeMap<(SessionId, RequestHandle), TrackName>,
    by_downstream: BTreeMap<(SessionId, RequestHandle), TrackName>,
    waiting: Vec<Waiting>,
    /// Track-status requests (lite-05 TRACK, MOQT TRACK_STATUS) forwarded to a publisher:
    /// (publisher, our request) → (asker, its request). At most `max_waiting_subscribes`.
    status_asks: BTreeMap<(SessionId, RequestHandle), (SessionId, RequestHandle)>,
    stats: RelayStats,
}

impl Relay {
    /// An empty relay.
    pub fn new(config: RelayConfig) -> Relay {
        Relay {
            config,
            peers: BTreeMap::new(),
            routes: Routes::default(),
            tracks: BTreeMap::new(),
            by_upstream: BTreeMap::new(),
            by_downstream: BTreeMap::new(),
            waiting: Vec::new(),
            status_asks: BTreeMap::new(),
            stats: RelayStats::default(),
        }
    }

    /// Starts relaying for session `id`. Call it before feeding the session's first event
    /// (its `Ready` is when the relay starts using it).
    pub fn add_session(&mut self, id: SessionId) {
        self.peers.entry(id).or_default();
    }

    /// Forgets session `id` (closed, or the caller dropped it): its namespaces are
    /// withdrawn, the tracks it published end downstream, its subscriptions leave.
    pub fn remove_session(&mut self, id: SessionId, sessions: &mut impl Sessions) {
        if self.peers.remove(&id).is_none() {
            return;
        }
        self.routes.advertised.retain(|(s, _), _| *s != id);
        let emptied = self.routes.remove_where(|_, o| o.session == id);
        self.withdraw(&emptied, sessions);
        self.waiting.retain(|w| w.session != id);
        let orphaned: Vec<(SessionId, RequestHandle)> =
            self.status_asks.iter().filter(|((p, _), _)| *p == id).map(|(_, asker)| *asker).collect();
        self.status_asks.retain(|(p, _), (a, _)| *p != id && *a != id);
        for (asker, request) in orphaned {
            let code = codes::publisher_gone(self.family(asker));
            if let Some(s) = sessions.session(asker) {
                let _ = s.reject(request, code, "publisher session gone");
            }
        }
        let downstream: Vec<RequestHandle> =
            self.by_downstream.keys().filter(|(s, _)| *s == id).map(|(_, r)| *r).collect();
        for request in downstream {
            self.downstream_gone(id, request, sessions);
        }
        let upstream: Vec<RequestHandle> =
            self.by_upstream.keys().filter(|(s, _)| *s == id).map(|(_, r)| *r).collect();
        for request in upstream {
            let reason = Reason { code: 0, text: "publisher session gone".to_owned() };
            self.upstream_ended(id, request, UpstreamEnd::PublisherGone, reason, sessions);
        }
    }

    /// Marks session `id` congested (its transport send buffers are above the caller's
    /// high-water mark) or not. While congested its subscriptions get no new groups and
    /// their older group streams are reset when a newer group starts (see [`crate::track`]).
    pub fn set_congested(&mut self, id: SessionId, congested: bool) {
        if let Some(p) = self.peers.get_mut(&id) {
            p.congested = congested;
        }
    }

    /// Counters.
    pub fn stats(&self) -> RelayStats {
        self.stats
    }

    /// Payload bytes written to session `id` so far.
    pub fn bytes_written(&self, id: SessionId) -> u64 {
        self.peers.get(&id).map_or(0, |p| p.bytes_written)
    }

    /// Namespaces routed.
    pub fn namespaces(&self) -> Vec<Namespace> {
        self.routes.namespaces().map(|(ns, _)| ns.clone()).collect()
    }

    /// Tracks relayed (one upstream subscription each).
    pub fn tracks(&self) -> usize {
        self.tracks.len()
    }

    /// Downstream subscribers of `track`.
    pub fn subscribers(&self, track: &TrackName) -> usize {
        self.tracks.get(track).map_or(0, |t| t.subscribers.len())
    }

    /// (groups, payload bytes) cached for `track`.
    pub fn cached(&self, track: &TrackName) -> (usize, usize) {
        self.tracks.get(track).map_or((0, 0), |t| (t.cache.len(), t.cache.bytes()))
    }

    /// Subscriptions waiting for a publisher.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// When [`Relay::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Time> {
        let age = self.config.cache_max_age;
        self.waiting
            .iter()
            .map(|w| w.deadline)
            .chain(self.tracks.values().filter_map(|t| t.cache.next_expiry(age)))
            .min()
    }

    /// The clock reached `now`: subscriptions that waited too long for a publisher fail
    /// (DOES_NOT_EXIST), old cached groups go.
    pub fn handle_timeout(&mut self, now: Time, sessions: &mut impl Sessions) {
        let (expired, kept): (Vec<Waiting>, Vec<Waiting>) =
            std::mem::take(&mut self.waiting).into_iter().partition(|w| w.deadline <= now);
        self.waiting = kept;
        for w in expired {
            let family = self.family(w.session);
            if let Some(s) = sessions.session(w.session)
                && s.reject(w.request, codes::does_not_exist(family), "no publisher for this namespace")
                    .is_err()
            {
                self.stats.command_errors += 1;
            }
        }
        for t in self.tracks.values_mut() {
            t.cache.expire(now, self.config.cache_max_age);
        }
    }

    fn family(&self, id: SessionId) -> Family {
        self.peers.get(&id).map_or(Family::Moqt, Peer::family)
    }

    fn limits(&self) -> Limits {
        Limits {
            groups: self.config.cache_groups,
            bytes: self.config.cache_bytes,
            max_age: self.config.cache_max_age,
        }
    }

    /// Handles one event of session `id` (as drained from its `poll`). Events of sessions
    /// not added are ignored.
    pub fn on_event(&mut self, now: Time, id: SessionId, event: Event, sessions: &mut impl Sessions) {
        if !self.peers.contains_key(&id) {
            return;
        }
        match event {
            Event::Ready { version, .. } => self.on_ready(id, version, sessions),
            Event::IncomingAnnounce { request, namespace } => {
                self.on_incoming_announce(now, id, request, namespace, sessions)
            }
            Event::IncomingAnnounceEnded { request } => {
                let emptied = self.routes.remove_where(|_, o| o.session == id && o.request == request);
                self.withdraw(&emptied, sessions);
            }
            Event::NamespaceFound { request, namespace }
                if self.peers.get(&id).and_then(|p| p.discovery) == Some(request) =>
            {
                if self.routes.len() >= self.config.max_namespaces && !self.routes.contains(&namespace) {
                    self.stats.refused_excessive_load += 1;
                } else {
                    self.register(now, namespace, Origin { session: id, request }, sessions);
                }
            }
            Event::NamespaceGone { request, namespace } => {
                let emptied = self
                    .routes
                    .remove_where(|ns, o| o.session == id && o.request == request && *ns == namespace);
                self.withdraw(&emptied, sessions);
            }
            Event::DiscoveryEnded { request, .. } => {
                let emptied = self.routes.remove_where(|_, o| o.session == id && o.request == request);
                self.withdraw(&emptied, sessions);
                if let Some(p) = self.peers.get_mut(&id)
                    && p.discovery == Some(request)
                {
                    p.discovery = None;
                }
            }
            Event::AnnounceEnded { request, .. } => {
                self.routes.advertised.retain(|(s, _), r| !(*s == id && *r == request));
            }
            Event::IncomingSubscribe { request, track, options } => {
                self.on_subscribe(now, id, request, track, options, sessions)
            }
            Event::SubscriberGone { request } => self.downstream_gone(id, request, sessions),
            Event::GroupExpired { request, stream, .. } => {
                if let Some(name) = self.by_downstream.get(&(id, request))
                    && let Some(t) = self.tracks.get_mut(name)
                    && let Some(d) =
                        t.subscribers.iter_mut().find(|d| d.session == id && d.request == request)
                {
                    d.open.retain(|o| o.stream != stream);
                }
            }
            Event::Subscribed { request, info } => self.on_subscribed(now, id, request, info, sessions),
            Event::SubscribeFailed { request, reason } | Event::SubscriptionEnded { request, reason } => {
                let end = UpstreamEnd::Code(self.family(id));
                self.upstream_ended(id, request, end, reason, sessions)
            }
            Event::Object { request, info, payload } => {
                self.on_object(now, id, request, info, payload, sessions)
            }
            Event::IncomingTrackStatus { request, track } => {
                self.on_track_status(id, request, track, sessions)
            }
            Event::TrackStatus { request, result } => {
                if let Some((asker, asked)) = self.status_asks.remove(&(id, request))
                    && let Some(s) = sessions.session(asker)
                {
                    let _ = match result {
                        Ok(info) => s.accept_subscribe(asked, info),
                        Err(reason) => {
                            let code = codes::map_failure(self.family(id), self.family(asker), reason.code);
                            s.reject(asked, code, &reason.text)
                        }
                    };
                }
            }
            Event::IncomingFetch { request, .. } | Event::IncomingPublish { request, .. } => {
                let code = codes::not_supported(self.family(id));
                if let Some(s) = sessions.session(id) {
                    let _ = s.reject(request, code, "not supported by this relay");
                }
            }
            Event::Closed { .. } => self.remove_session(id, sessions),
            _ => {}
        }
    }

    /// A track-status request (lite-05 TRACK stream, MOQT TRACK_STATUS): answered from the
    /// track's upstream subscription when the relay has one, else asked of the publisher
    /// that routes the namespace (lite-05 §Track: a subscriber MUST have TRACK_INFO before
    /// it can read a subscription's frames, so a relay that refused it could serve no
    /// lite-05 subscriber that asks).
    fn on_track_status(
        &mut self,
        id: SessionId,
        request: RequestHandle,
        track: TrackName,
        sessions: &mut impl Sessions,
    ) {
        if let Some(info) = self.tracks.get(&track).filter(|t| t.info.is_some()).map(|t| t.downstream_info())
        {
            if let Some(s) = sessions.session(id) {
                let _ = s.accept_subscribe(request, info);
            }
            return;
        }
        let family = self.family(id);
        let upstream = self.routes.route(&track.namespace, id);
        let asked = match upstream {
            Some(_) if self.status_asks.len() >= self.config.max_waiting_subscribes => {
                self.stats.refused_excessive_load += 1;
                Err(codes::excessive_load(family))
            }
            Some(publisher) => match sessions.session(publisher).map(|s| s.track_status(track)) {
                Some(Ok(ours)) => Ok((publisher, ours)),
                _ => Err(codes::not_supported(family)),
            },
            None => Err(codes::does_not_exist(family)),
        };
        match asked {
            Ok(key) => {
                self.status_asks.insert(key, (id, request));
            }
            Err(code) => {
                if let Some(s) = sessions.session(id) {
                    let _ = s.reject(request, code, "track status unavailable");
                }
            }
        }
    }

    fn on_ready(&mut self, id: SessionId, version: Version, sessions: &mut impl Sessions) {
        let Some(peer) = self.peers.get_mut(&id) else { return };
        peer.version = Some(version);
        let Some(session) = sessions.session(id) else { return };
        if matches!(version, Version::Lite(_)) {
            // lite has no unsolicited announce: ask the peer for every broadcast it has.
            match session.discover(Namespace::default()) {
                Ok(h) => peer.discovery = Some(h),
                Err(_) => self.stats.command_errors += 1,
            }
        }
        let known: Vec<Namespace> = self
            .routes
            .namespaces()
            .filter(|(_, origins)| origins.iter().all(|o| o.session != id))
            .map(|(ns, _)| ns.clone())
            .collect();
        for ns in known {
            self.advertise(id, ns, session);
        }
    }

    /// Announces `ns` on session `id` (so its discoveries find it).
    fn advertise(&mut self, id: SessionId, ns: Namespace, session: &mut Session) {
        if self.routes.advertised.contains_key(&(id, ns.clone())) {
            return;
        }
        match session.announce(ns.clone()) {
            Ok(h) => {
                self.routes.advertised.insert((id, ns), h);
            }
            Err(_) => self.stats.command_errors += 1,
        }
    }

    fn on_incoming_announce(
        &mut self,
        now: Time,
        id: SessionId,
        request: RequestHandle,
        namespace: Namespace,
        sessions: &mut impl Sessions,
    ) {
        let family = self.family(id);
        let Some(session) = sessions.session(id) else { return };
        if self.routes.len() >= self.config.max_namespaces && !self.routes.contains(&namespace) {
            self.stats.refused_excessive_load += 1;
            let _ = session.reject(request, codes::excessive_load(family), "relay namespace limit");
            return;
        }
        if session.accept_announce(request).is_err() {
            self.stats.command_errors += 1;
            return;
        }
        self.register(now, namespace, Origin { session: id, request }, sessions);
    }

    /// A publisher registered `namespace`: advertise it if new, and route the subscriptions
    /// that were waiting for it.
    fn register(&mut self, now: Time, namespace: Namespace, origin: Origin, sessions: &mut impl Sessions) {
        if self.routes.add(namespace.clone(), origin) {
            let targets: Vec<SessionId> = self
                .peers
                .iter()
                .filter(|(id, p)| **id != origin.session && p.version.is_some())
                .map(|(id, _)| *id)
                .collect();
            for id in targets {
                if let Some(session) = sessions.session(id) {
                    self.advertise(id, namespace.clone(), session);
                }
            }
        }
        let (ready, still): (Vec<Waiting>, Vec<Waiting>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|w| w.track.namespace.starts_with(&namespace) && w.session != origin.session);
        self.waiting = still;
        for w in ready {
            self.on_subscribe(now, w.session, w.request, w.track, w.options, sessions);
        }
    }

    /// Namespaces that lost their last publisher: withdraw the relay's announces of them.
    fn withdraw(&mut self, emptied: &[Namespace], sessions: &mut impl Sessions) {
        for ns in emptied {
            let ours: Vec<(SessionId, RequestHandle)> = self
                .routes
                .advertised
                .iter()
                .filter(|((_, n), _)| n == ns)
                .map(|((s, _), h)| (*s, *h))
                .collect();
            for (s, h) in ours {
                self.routes.advertised.remove(&(s, ns.clone()));
                if let Some(session) = sessions.session(s) {
                    let _ = session.cancel(h);
                }
            }
        }
    }

    fn on_subscribe(
        &mut self,
        now: Time,
        id: SessionId,
        request: RequestHandle,
        track: TrackName,
        options: SubscribeOptions,
        sessions: &mut impl Sessions,
    ) {
        let family = self.family(id);
        let needs_timestamp = matches!(
            self.peers.get(&id).and_then(|p| p.version),
            Some(Version::Lite(sluice::LiteVersion::Lite05))
        );
        let downstream = Downstream {
            session: id,
            request,
            options: options.clone(),
            family,
            needs_timestamp,
            accepted: false,
            start_group: None,
            newest_group: None,
            skipped_group: None,
            open: Vec::new(),
        };
        if let Some(t) = self.tracks.get_mut(&track) {
            if t.subscribers.len() >= self.config.max_subscribers_per_track {
                self.refuse(id, request, family, sessions);
                return;
            }
            t.subscribers.push(downstream);
            self.by_downstream.insert((id, request), track.clone());
            if t.info.is_some() {
                self.accept_downstream(now, &track, id, request, sessions);
            }
            return;
        }
        let Some(publisher) = self.routes.route(&track.namespace, id) else {
            if self.waiting.len() >= self.config.max_waiting_subscribes {
                self.refuse(id, request, family, sessions);
                return;
            }
            let deadline = now + self.config.subscribe_wait;
            self.waiting.push(Waiting { session: id, request, track, options, deadline });
            return;
        };
        if self.tracks.len() >= self.config.max_tracks {
            self.refuse(id, request, family, sessions);
            return;
        }
        // One upstream subscription for everyone, at the first subscriber's priority and
        // from where it asks to start (a start group before the live edge is the first group
        // to deliver: lite-04/05 §SUBSCRIBE Start Group; draft-18 §Subscription Filters);
        // the relay always wants the objects.
        let upstream_options = SubscribeOptions {
            filter: options.filter,
            priority: options.priority,
            group_order: None,
            forward: true,
            max_latency_ms: 0,
        };
        let upstream = match sessions.session(publisher).map(|s| s.subscribe(track.clone(), upstream_options))
        {
            Some(Ok(h)) => h,
            _ => {
                self.stats.command_errors += 1;
                if let Some(s) = sessions.session(id) {
                    let _ = s.reject(request, codes::does_not_exist(family), "publisher unreachable");
                }
                return;
            }
        };
        self.stats.upstream_subscribes += 1;
        self.by_upstream.insert((publisher, upstream), track.clone());
        self.by_downstream.insert((id, request), track.clone());
        self.tracks.insert(
            track,
            Track {
                publisher,
                upstream,
                info: None,
                subscribers: vec![downstream],
                cache: Default::default(),
                newest_group: None,
            },
        );
    }

    fn refuse(
        &mut self,
        id: SessionId,
        request: RequestHandle,
        family: Family,
        sessions: &mut impl Sessions,
    ) {
        self.stats.refused_excessive_load += 1;
        if let Some(s) = sessions.session(id) {
            let _ = s.reject(request, codes::excessive_load(family), "relay limit reached");
        }
    }

    /// Accepts one downstream subscription of a live track and replays the cache to it.
    fn accept_downstream(
        &mut self,
        now: Time,
        name: &TrackName,
        id: SessionId,
        request: RequestHandle,
        sessions: &mut impl Sessions,
    ) {
        let max_open = self.config.max_open_streams_per_subscriber;
        let Some(t) = self.tracks.get_mut(name) else { return };
        let info = t.downstream_info();
        let Some(d) = t.subscribers.iter_mut().find(|d| d.session == id && d.request == request) else {
            return;
        };
        let Some(session) = sessions.session(id) else { return };
        if session.accept_subscribe(request, info).is_err() {
            self.stats.command_errors += 1;
            return;
        }
        d.accepted = true;
        // Where this subscriber starts, and what of the cache it gets first.
        let replay_from = match d.options.filter {
            Filter::LargestObject => t.cache.latest().map(|g| (g.group, 0)),
            Filter::NextGroup => {
                d.start_group = t.newest_group.map(|g| g.saturating_add(1));
                None
            }
            Filter::AbsoluteStart(l) | Filter::AbsoluteRange { start: l, .. } => {
                d.start_group = Some(l.group);
                Some((l.group, l.object))
            }
        };
        if let Some((group, object)) = replay_from {
            let peer = self.peers.entry(id).or_default();
            let objects: Vec<(ObjectInfo, Bytes)> = t
                .cache
                .groups_since(group)
                .flat_map(|g| g.objects.iter())
                .filter(|o| o.info.group > group || o.info.object >= object)
                .map(|o| (o.info.clone(), o.payload.clone()))
                .collect();
            for (info, payload) in objects {
                let ctx = ForwardCtx {
                    now,
                    congested: peer.congested,
                    max_open,
                    stats: &mut self.stats,
                    bytes_written: &mut peer.bytes_written,
                };
                d.forward(session, &info, &payload, ctx);
            }
        }
    }

    fn on_subscribed(
        &mut self,
        now: Time,
        id: SessionId,
        request: RequestHandle,
        info: sluice::TrackInfo,
        sessions: &mut impl Sessions,
    ) {
        let Some(name) = self.by_upstream.get(&(id, request)).cloned() else { return };
        let Some(t) = self.tracks.get_mut(&name) else { return };
        t.info = Some(info);
        let pending: Vec<(SessionId, RequestHandle)> =
            t.subscribers.iter().filter(|d| !d.accepted).map(|d| (d.session, d.request)).collect();
        for (s, r) in pending {
            self.accept_downstream(now, &name, s, r, sessions);
        }
    }

    fn on_object(
        &mut self,
        now: Time,
        id: SessionId,
        request: RequestHandle,
        info: ObjectInfo,
        payload: Payload,
        sessions: &mut impl Sessions,
    ) {
        let Some(name) = self.by_upstream.get(&(id, request)) else { return };
        let limits = self.limits();
        let max_open = self.config.max_open_streams_per_subscriber;
        let Some(t) = self.tracks.get_mut(name) else { return };
        let payload = match payload {
            Payload::One(b) => b,
            chunks => {
                // `ObjectWrite` takes one `Bytes`: a payload that arrived in pieces is joined.
                self.stats.payload_copies += 1;
                chunks.to_bytes()
            }
        };
        if info.status == sluice::ObjectStatus::Normal {
            t.cache.insert(now, &info, &payload, limits);
            t.newest_group = Some(t.newest_group.map_or(info.group, |g| g.max(info.group)));
        }
        for d in t.subscribers.iter_mut().filter(|d| d.accepted) {
            let Some(session) = sessions.session(d.session) else { continue };
            let peer = self.peers.entry(d.session).or_default();
            let ctx = ForwardCtx {
                now,
                congested: peer.congested,
                max_open,
                stats: &mut self.stats,
                bytes_written: &mut peer.bytes_written,
            };
            d.forward(session, &info, &payload, ctx);
        }
    }

    /// The upstream subscription ended or failed: every downstream one that was accepted
    /// ends, every other one fails, with the mapped code, and the track is forgotten.
    fn upstream_ended(
        &mut self,
        id: SessionId,
        request: RequestHandle,
        end: UpstreamEnd,
        reason: Reason,
        sessions: &mut impl Sessions,
    ) {
        let Some(name) = self.by_upstream.remove(&(id, request)) else { return };
        let Some(mut t) = self.tracks.remove(&name) else { return };
        for mut d in t.subscribers.drain(..) {
            self.by_downstream.remove(&(d.session, d.request));
            let Some(session) = sessions.session(d.session) else { continue };
            let result = match (end, d.accepted) {
                (UpstreamEnd::Code(from), true) => {
                    d.close_all(session);
                    session.end_subscription(
                        d.request,
                        codes::map_end(from, d.family, reason.code),
                        &reason.text,
                    )
                }
                (UpstreamEnd::Code(from), false) => {
                    session.reject(d.request, codes::map_failure(from, d.family, reason.code), &reason.text)
                }
                (UpstreamEnd::PublisherGone, true) => {
                    d.close_all(session);
                    session.end_subscription(d.request, codes::publisher_gone(d.family), &reason.text)
                }
                (UpstreamEnd::PublisherGone, false) => {
                    session.reject(d.request, codes::publisher_gone(d.family), &reason.text)
                }
            };
            if result.is_err() {
                self.stats.command_errors += 1;
            }
        }
    }

    /// A downstream subscriber left; the last one takes the upstream subscription with it.
    fn downstream_gone(&mut self, id: SessionId, request: RequestHandle, sessions: &mut impl Sessions) {
        self.waiting.retain(|w| !(w.session == id && w.request == request));
        let Some(name) = self.by_downstream.remove(&(id, request)) else { return };
        let Some(t) = self.tracks.get_mut(&name) else { return };
        t.subscribers.retain(|d| !(d.session == id && d.request == request));
        if !t.subscribers.is_empty() {
            return;
        }
        let (publisher, upstream) = (t.publisher, t.upstream);
        self.tracks.remove(&name);
        self.by_upstream.remove(&(publisher, upstream));
        if let Some(s) = sessions.session(publisher) {
            let _ = s.cancel(upstream);
        }
    }
}
