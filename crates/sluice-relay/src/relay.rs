//! [`Relay`]: the relay's state machine. The caller feeds it each session's events
//! ([`Relay::on_event`]) and its clock ([`Relay::handle_timeout`]); the relay issues
//! commands on the sessions through [`Sessions`]. See the crate docs for the model.

use std::collections::BTreeMap;
use std::time::Duration;

use sluice::{
    Event, Filter, Location, Namespace, ObjectInfo, Payload, Reason, RequestHandle, Session,
    SubscribeOptions, Time, TrackInfo, TrackName, Version,
};

mod fetch;
mod new_group;
mod push;
mod status;
pub(crate) mod switchover;
mod track_push;
mod update;

use crate::cache::{GroupCache, Limits};
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
    /// The peer sent GOAWAY: it is leaving, so its tracks move to another publisher.
    going_away: bool,
    /// The remote relay this session leads to, as the caller said
    /// ([`Relay::set_neighbour`]).
    neighbour: Option<u64>,
    /// The peer's SUBSCRIBE_TRACKS requests: namespace prefix and forward state.
    track_discoveries: BTreeMap<RequestHandle, track_push::TrackDiscovery>,
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
    /// The publisher's session is gone (after saying GOAWAY or not).
    PublisherGone {
        /// It had sent GOAWAY.
        going_away: bool,
    },
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

/// A track nobody subscribes to any more whose cache is kept for fetches and statuses
/// until `until` ([`RelayConfig::cache_keep`]).
#[derive(Debug)]
struct Kept {
    info: Option<TrackInfo>,
    cache: GroupCache,
    until: Time,
}

impl Kept {
    /// What a TRACK_STATUS is answered with.
    fn info(&self) -> TrackInfo {
        let mut info = self.info.clone().unwrap_or_default();
        if let Some(l) = self.cache.largest() {
            info.largest = Some(info.largest.map_or(l, |x| x.max(l)));
        }
        info
    }
}

/// How long a track's objects may be served from the cache: [`RelayConfig::cache_max_age`],
/// shortened by the publisher's MAX_CACHE_DURATION Track Property (draft-18 §MAX CACHE
/// DURATION: no object may start being forwarded after that many ms since it was
/// received). A cached group goes once its first object (received first) is that old, so
/// no expired object is ever served and a group never has a hole at its start.
fn cache_age(config: Duration, info: Option<&TrackInfo>) -> Duration {
    match info.and_then(|i| i.max_cache_duration_ms) {
        Some(ms) => config.min(Duration::from_millis(ms)),
        None => config,
    }
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
    /// Caches kept after their track's last subscriber left.
    kept: BTreeMap<TrackName, Kept>,
    /// Forwarded fetches by their upstream (publisher session, our request there).
    fetches: BTreeMap<(SessionId, RequestHandle), fetch::ForwardedFetch>,
    /// Downstream fetch → its upstream key in `fetches`.
    fetch_down: BTreeMap<(SessionId, RequestHandle), (SessionId, RequestHandle)>,
    /// Forwarded track statuses: upstream (session, request) → downstream.
    statuses: BTreeMap<(SessionId, RequestHandle), (SessionId, RequestHandle)>,
    /// SUBSCRIBE_TRACKS sent upstream, by (upstream session, our request there).
    discovery_forwards: BTreeMap<(SessionId, RequestHandle), track_push::ForwardedDiscovery>,
    /// The latest time the caller gave.
    now: Time,
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
            kept: BTreeMap::new(),
            fetches: BTreeMap::new(),
            fetch_down: BTreeMap::new(),
            statuses: BTreeMap::new(),
            discovery_forwards: BTreeMap::new(),
            now: Time::ZERO,
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
        let Some(peer) = self.peers.remove(&id) else {
            return;
        };
        self.routes.advertised.retain(|(s, _), _| *s != id);
        self.routes.remove_where(|_, o| o.session == id);
        self.withdraw(sessions);
        self.waiting.retain(|w| w.session != id);
        let downstream: Vec<RequestHandle> =
            self.by_downstream.keys().filter(|(s, _)| *s == id).map(|(_, r)| *r).collect();
        for request in downstream {
            self.downstream_gone(id, request, sessions);
        }
        let upstream: Vec<RequestHandle> =
            self.by_upstream.keys().filter(|(s, _)| *s == id).map(|(_, r)| *r).collect();
        for request in upstream {
            let reason = Reason { code: 0, text: "publisher session gone".to_owned() };
            let end = UpstreamEnd::PublisherGone { going_away: peer.going_away };
            self.upstream_ended(id, request, end, reason, sessions);
        }
        self.fetches_of_gone_session(id, sessions);
        self.statuses_of_gone_session(id, sessions);
        self.discoveries_of_gone_session(id, sessions);
    }

    /// Ties session `id` to remote relay `neighbour` (a key of the caller's choosing: the
    /// peer relay's address or authenticated name). Sessions with the same key lead to the
    /// same relay, and split horizon treats them as one: a namespace learned on any of
    /// them is not announced back on any of them, and is withdrawn from them when only
    /// they publish it; subscriptions and SUBSCRIBE_TRACKS from one are not routed to
    /// another. Needed for two relays peered over more than one MOQT session (each
    /// dialing the other): MOQT carries no hop list, so without it a withdrawn namespace
    /// stays alive between them until a session closes. Call it right after
    /// [`Relay::add_session`], before namespaces are routed over the session.
    pub fn set_neighbour(&mut self, id: SessionId, neighbour: u64) {
        if let Some(p) = self.peers.get_mut(&id) {
            p.neighbour = Some(neighbour);
        }
    }

    /// True when sessions `a` and `b` lead to the same peer: the same session, or tied to
    /// the same remote relay ([`Relay::set_neighbour`]).
    fn same_neighbour(&self, a: SessionId, b: SessionId) -> bool {
        let key = |s: SessionId| self.peers.get(&s).and_then(|p| p.neighbour);
        a == b || key(a).is_some_and(|k| key(b) == Some(k))
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

    /// (groups, payload bytes) cached for `track` (relayed, or kept after its last
    /// subscriber left).
    pub fn cached(&self, track: &TrackName) -> (usize, usize) {
        match self.tracks.get(track) {
            Some(t) => (t.cache.len(), t.cache.bytes()),
            None => self.kept.get(track).map_or((0, 0), |k| (k.cache.len(), k.cache.bytes())),
        }
    }

    /// Tracks whose cache is kept with nobody subscribed.
    pub fn kept_tracks(&self) -> usize {
        self.kept.len()
    }

    /// Fetches and track statuses forwarded upstream and not yet answered.
    pub fn forwarded(&self) -> usize {
        self.forwarded_requests()
    }

    /// SUBSCRIBE_TRACKS the relay has open upstream for its downstream ones.
    pub fn forwarded_track_discoveries(&self) -> usize {
        self.discovery_forwards.len()
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
            .chain(self.tracks.values().filter_map(|t| t.cache.next_expiry(cache_age(age, t.info.as_ref()))))
            .chain(self.kept.values().map(|k| k.until))
            .chain(self.next_fill_deadline())
            .chain(self.kept.values().filter_map(|k| k.cache.next_expiry(cache_age(age, k.info.as_ref()))))
            .min()
    }

    /// The clock reached `now`: subscriptions that waited too long for a publisher fail
    /// (DOES_NOT_EXIST), old cached groups go.
    pub fn handle_timeout(&mut self, now: Time, sessions: &mut impl Sessions) {
        self.now = self.now.max(now);
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
        self.expire_fetch_fills(now, sessions);
        let age = self.config.cache_max_age;
        for t in self.tracks.values_mut() {
            t.cache.expire(now, cache_age(age, t.info.as_ref()));
        }
        self.kept.retain(|_, k| {
            k.cache.expire(now, cache_age(age, k.info.as_ref()));
            k.until > now && k.cache.len() > 0
        });
    }

    /// How long a SUBSCRIBE for a track nobody publishes is held for a publisher: a MOQT
    /// subscriber's RENDEZVOUS_TIMEOUT (absent: [`RelayConfig::moqt_default_rendezvous`],
    /// 0 by the draft), capped by [`RelayConfig::subscribe_wait`]; moq-lite has no such
    /// field and gets `subscribe_wait`.
    fn rendezvous(&self, family: Family, options: &SubscribeOptions) -> Duration {
        match family {
            Family::Moqt => options
                .rendezvous_timeout_ms
                .map_or(self.config.moqt_default_rendezvous, Duration::from_millis)
                .min(self.config.subscribe_wait),
            Family::Lite => self.config.subscribe_wait,
        }
    }

    /// Keeps a track's cache for fetches and statuses after its last subscriber left.
    fn keep(&mut self, name: TrackName, info: Option<TrackInfo>, cache: GroupCache) {
        if self.config.cache_keep.is_zero() || cache.len() == 0 || self.config.max_kept_tracks == 0 {
            return;
        }
        while self.kept.len() >= self.config.max_kept_tracks {
            let Some(oldest) = self.kept.iter().min_by_key(|(_, k)| k.until).map(|(n, _)| n.clone()) else {
                break;
            };
            self.kept.remove(&oldest);
        }
        let until = self.now + self.config.cache_keep;
        self.kept.insert(name, Kept { info, cache, until });
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

    /// Drops what of `name`'s cache (live or kept) is too old to be served at `now`: a
    /// caller may run [`Relay::handle_timeout`] late, and an expired object must not be
    /// served (draft-18 §MAX CACHE DURATION: it is then treated as not cached).
    fn expire_cache(&mut self, now: Time, name: &TrackName) {
        let age = self.config.cache_max_age;
        if let Some(t) = self.tracks.get_mut(name) {
            t.cache.expire(now, cache_age(age, t.info.as_ref()));
        }
        if let Some(k) = self.kept.get_mut(name) {
            k.cache.expire(now, cache_age(age, k.info.as_ref()));
        }
    }

    /// Handles one event of session `id` (as drained from its `poll`). Events of sessions
    /// not added are ignored.
    pub fn on_event(&mut self, now: Time, id: SessionId, event: Event, sessions: &mut impl Sessions) {
        if !self.peers.contains_key(&id) {
            return;
        }
        self.now = self.now.max(now);
        match event {
            Event::Ready { version, .. } => self.on_ready(id, version, sessions),
            Event::IncomingAnnounce { request, namespace } => {
                self.on_incoming_announce(now, id, request, namespace, sessions)
            }
            Event::IncomingAnnounceEnded { request } => {
                self.routes.remove_where(|_, o| o.session == id && o.request == request);
                self.withdraw(sessions);
            }
            Event::NamespaceFound { request, namespace }
                if self.peers.get(&id).and_then(|p| p.discovery) == Some(request) =>
            {
                let hops = sessions.session(id).and_then(|s| s.discovered_hops(request, &namespace));
                let hop = self.config.lite_hop_id;
                if hop != 0 && hops.as_ref().is_some_and(|h| h.contains(&hop)) {
                    // Our own announce come back around a loop of relays.
                    self.stats.looped_announces += 1;
                } else if self.routes.len() >= self.config.max_namespaces && !self.routes.contains(&namespace)
                {
                    self.stats.refused_excessive_load += 1;
                } else {
                    self.routes.set_hops(&namespace, hops.unwrap_or_default());
                    self.register(now, namespace, Origin { session: id, request }, sessions);
                }
            }
            Event::NamespaceGone { request, namespace } => {
                self.routes.remove_where(|ns, o| o.session == id && o.request == request && *ns == namespace);
                self.withdraw(sessions);
            }
            Event::DiscoveryEnded { request, .. } => {
                self.forwarded_discovery_ended(id, request);
                self.routes.remove_where(|_, o| o.session == id && o.request == request);
                self.withdraw(sessions);
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
                self.on_subscribe(now, id, request, track, *options, sessions)
            }
            // A subscriber left, or refused a track the relay PUBLISHed to it.
            Event::SubscriberGone { request } | Event::PublishRefused { request, .. } => {
                self.downstream_gone(id, request, sessions)
            }
            Event::GroupExpired { request, stream, .. } => {
                if let Some(name) = self.by_downstream.get(&(id, request))
                    && let Some(t) = self.tracks.get_mut(name)
                    && let Some(d) =
                        t.subscribers.iter_mut().find(|d| d.session == id && d.request == request)
                {
                    d.open.retain(|o| o.stream != stream);
                }
            }
            Event::Subscribed { request, info } => self.on_subscribed(now, id, request, *info, sessions),
            Event::SubscribeFailed { request, reason } | Event::SubscriptionEnded { request, reason } => {
                let end = UpstreamEnd::Code(self.family(id));
                self.upstream_ended(id, request, end, reason, sessions)
            }
            Event::SubscribeUpdated { request, options } => {
                self.on_subscribe_updated(id, request, options, sessions)
            }
            Event::Object { request, info, payload } if self.is_upstream_fetch(id, request) => {
                self.on_fetch_object(now, id, request, info, payload, sessions)
            }
            Event::Object { request, info, payload } => {
                self.on_object(now, id, request, info, payload, sessions)
            }
            Event::SubgroupEnded { request, group, subgroup } => {
                self.on_subgroup_ended(id, request, group, subgroup, sessions)
            }
            Event::IncomingFetch { request, track, start, end, priority, fill_timeout_ms } => {
                let asked = fetch::Asked { track: *track, start, end, priority, fill_timeout_ms };
                self.on_incoming_fetch(now, id, request, asked, sessions)
            }
            Event::FetchAccepted { request, end, .. } => self.on_fetch_accepted(id, request, end, sessions),
            Event::FetchGap { request, through, unknown } => {
                self.on_fetch_gap(id, request, through, unknown, sessions)
            }
            Event::FetchEnded { request, reason } => self.on_fetch_ended(id, request, reason, sessions),
            Event::IncomingTrackStatus { request, track } => {
                self.on_incoming_status(id, request, track, sessions)
            }
            Event::TrackStatus { request, result } => {
                self.on_status(id, request, result.map(|info| *info), sessions)
            }
            Event::IncomingPublish { request, track, info } => {
                self.on_incoming_publish(now, id, request, track, *info, sessions)
            }
            Event::IncomingTrackDiscovery { request, prefix, forward } => {
                self.on_track_discovery(id, request, prefix, forward, sessions)
            }
            Event::IncomingTrackDiscoveryEnded { request } => {
                self.on_track_discovery_ended(id, request, sessions)
            }
            Event::PublishAccepted { request, options } => {
                self.on_publish_accepted(now, id, request, options, sessions)
            }
            Event::GoAway { .. } => self.on_goaway(id, sessions),
            Event::Closed { .. } => self.remove_session(id, sessions),
            _ => {}
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
            .filter(|(_, origins)| origins.iter().all(|o| !self.same_neighbour(o.session, id)))
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
        match session.announce_relayed(ns.clone(), self.routes.hops(&ns)) {
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
        // Announced once, when new: announcing it again when a second publisher (maybe
        // an echo from another relay) registers it is how a loop of relays would keep it.
        if self.routes.add(namespace.clone(), origin) {
            let targets: Vec<SessionId> = self
                .peers
                .iter()
                .filter(|(id, p)| !self.same_neighbour(**id, origin.session) && p.version.is_some())
                .map(|(id, _)| *id)
                .collect();
            for id in targets {
                if let Some(session) = sessions.session(id) {
                    self.advertise(id, namespace.clone(), session);
                }
            }
        }
        self.take_over(&namespace, sessions);
        self.forward_discoveries_to(origin.session, &namespace, sessions);
        let (ready, still): (Vec<Waiting>, Vec<Waiting>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|w| w.track.namespace.starts_with(&namespace) && w.session != origin.session);
        self.waiting = still;
        for w in ready {
            self.on_subscribe(now, w.session, w.request, w.track, w.options, sessions);
        }
    }

    /// Withdraws the relay's announces that no longer have a publisher behind them: every
    /// announce of a namespace that lost its last publisher, and, by split
    /// horizon, every announce made on a session that is itself the namespace's only
    /// remaining publisher. Without the latter, two relays that learned a namespace from
    /// each other (a loop of relays) would keep it alive for each other after its real
    /// publisher left.
    fn withdraw(&mut self, sessions: &mut impl Sessions) {
        let stale: Vec<((SessionId, Namespace), RequestHandle)> = self
            .routes
            .advertised
            .iter()
            .filter(|((s, ns), _)| !self.routes.published_by(ns, |o| !self.same_neighbour(o, *s)))
            .map(|(k, h)| (k.clone(), *h))
            .collect();
        for (key, h) in stale {
            self.routes.advertised.remove(&key);
            if let Some(session) = sessions.session(key.0) {
                let _ = session.cancel(h);
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
        if family == Family::Moqt && self.already_subscribed(id, &track) {
            self.refuse_duplicate(id, request, sessions);
            return;
        }
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
            joined_at: None,
            requested_at: self.tracks.get(&track).and_then(|t| t.downstream_info().largest),
            start_group: None,
            newest_at_arrival: None,
            newest_group: None,
            skipped_group: None,
            accounted: Default::default(),
            open: Vec::new(),
            via_publish: false,
        };
        if let Some(t) = self.tracks.get_mut(&track) {
            if t.subscribers.len() >= self.config.max_subscribers_per_track {
                self.refuse(id, request, family, sessions);
                return;
            }
            let mut downstream = downstream;
            downstream.newest_at_arrival = t.newest_group;
            t.subscribers.push(downstream);
            self.by_downstream.insert((id, request), track.clone());
            let live = t.info.is_some();
            self.reaggregate(&track, sessions);
            if let Some(value) = options.new_group_request {
                self.on_new_group_request(&track, value, sessions);
            }
            if live {
                self.accept_downstream(now, &track, id, request, sessions);
            }
            return;
        }
        let Some(publisher) = self.pick_publisher(&track.namespace, id) else {
            if self.waiting.len() >= self.config.max_waiting_subscribes {
                self.refuse(id, request, family, sessions);
                return;
            }
            let wait = self.rendezvous(family, &options);
            if wait.is_zero() {
                // draft-18 "RENDEZVOUS TIMEOUT Parameter": 0 (or absent) wants an answer at once.
                if let Some(s) = sessions.session(id)
                    && s.reject(request, codes::does_not_exist(family), "no publisher for this track")
                        .is_err()
                {
                    self.stats.command_errors += 1;
                }
                return;
            }
            let deadline = now + wait;
            self.waiting.push(Waiting { session: id, request, track, options, deadline });
            return;
        };
        if self.tracks.len() >= self.config.max_tracks {
            self.refuse(id, request, family, sessions);
            return;
        }
        // One upstream subscription for everyone: at the first subscriber's priority, group
        // order and forward state (later ones update the priority and forward state, see
        // `update`; the group order stays the first one's). It starts at the latest group,
        // unless the first subscriber asks for an explicit start: that may lie before the
        // publisher's Largest Object (draft-18 §5.1.2 AbsoluteStart/AbsoluteRange; lite-04/05
        // §SUBSCRIBE Start Group), and only the publisher still has those objects. Open
        // ended, since later subscribers may want more than the first one's range.
        let filter = match options.filter {
            Filter::AbsoluteStart(l) | Filter::AbsoluteRange { start: l, .. } => Filter::AbsoluteStart(l),
            Filter::LargestObject | Filter::NextGroup => Filter::LargestObject,
        };
        let upstream_options = SubscribeOptions {
            filter,
            priority: options.priority,
            group_order: options.group_order,
            forward: options.forward,
            max_latency_ms: 0,
            rendezvous_timeout_ms: None,
            new_group_request: None,
        };
        // draft-18 "NEW GROUP REQUEST Parameter": with no Established subscription, the
        // upstream SUBSCRIBE carries the subscriber's NEW_GROUP_REQUEST (a one-shot: later
        // updates do not repeat it).
        let subscribe_options =
            SubscribeOptions { new_group_request: options.new_group_request, ..upstream_options.clone() };
        let upstream =
            match sessions.session(publisher).map(|s| s.subscribe(track.clone(), subscribe_options)) {
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
        // A live track starts a fresh cache: a kept one may have a hole up to the new edge.
        self.kept.remove(&track);
        self.tracks.insert(
            track,
            Track {
                publisher,
                upstream,
                upstream_options,
                switch: Default::default(),
                pushed: false,
                info: None,
                subscribers: vec![downstream],
                cache: Default::default(),
                newest_group: None,
                largest_received: None,
                new_group_outstanding: options.new_group_request.map(|v| (v, None)),
                new_group_waiting: None,
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

    /// Accepts one downstream subscription of a live track and replays the cache to it. A
    /// subscriber that was waiting for the upstream SUBSCRIBE_OK arrived before any object
    /// (no largest location, no newest group), so it gets every object the upstream
    /// subscription delivered before that OK.
    fn accept_downstream(
        &mut self,
        now: Time,
        name: &TrackName,
        id: SessionId,
        request: RequestHandle,
        sessions: &mut impl Sessions,
    ) {
        let max_open = self.config.max_open_streams_per_subscriber;
        self.expire_cache(now, name);
        let Some(t) = self.tracks.get_mut(name) else { return };
        let info = t.downstream_info();
        let Some(d) = t.subscribers.iter_mut().find(|d| d.session == id && d.request == request) else {
            return;
        };
        let Some(session) = sessions.session(id) else { return };
        let joined_at = info.largest;
        // A track pushed with PUBLISH was accepted by the peer (PUBLISH_OK) instead.
        if !d.via_publish && session.accept_subscribe(request, info).is_err() {
            self.stats.command_errors += 1;
            return;
        }
        d.accepted = true;
        d.joined_at = joined_at;
        // Where this subscriber starts, and what of the cache it gets first.
        let replay_from = match d.options.filter {
            // MOQT: the filter starts after the Largest Object the relay had when the
            // SUBSCRIBE arrived ({0, 0} if none), and nothing before it may be sent
            // (draft-18 §5.1.2): a late joiner gets nothing from the cache.
            Filter::LargestObject if matches!(session.version(), Some(sluice::Version::Moqt(_))) => {
                d.start_group = d.requested_at.map(|l| l.group);
                Some(d.requested_at.map_or((0, 0), |l| (l.group, l.object.saturating_add(1))))
            }
            // moq-lite (lite-05 §SUBSCRIBE): the latest group when the subscription arrived;
            // if there was none, every group cached since (all of them came after it: a new
            // upstream starts a fresh cache).
            Filter::LargestObject => match d.newest_at_arrival {
                Some(group) => Some((group, 0)),
                None => t.cache.covered_from().map(|l| (l.group, 0)),
            },
            Filter::NextGroup => {
                d.start_group = t.newest_group.map(|g| g.saturating_add(1));
                None
            }
            Filter::AbsoluteStart(l) | Filter::AbsoluteRange { start: l, .. } => {
                d.start_group = Some(l.group);
                Some((l.group, l.object))
            }
        };
        if let Some((group, object)) = replay_from.filter(|_| d.options.forward) {
            let peer = self.peers.entry(id).or_default();
            let ended: Vec<(u64, u64)> =
                t.cache.groups_since(group).flat_map(|g| g.ended.iter().map(|s| (g.group, *s))).collect();
            let objects: Vec<(ObjectInfo, Payload)> = t
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
            for (group, subgroup) in ended {
                d.subgroup_ended(session, group, subgroup, peer.congested, &mut self.stats);
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
        let pending: Vec<(SessionId, RequestHandle)> = t
            .subscribers
            .iter()
            .filter(|d| !d.accepted && !d.via_publish)
            .map(|d| (d.session, d.request))
            .collect();
        // Group streams race the SUBSCRIBE_OK (they are separate streams), so objects may
        // have arrived before it; they were only cached, since no downstream subscription
        // was accepted yet. The track's cache started empty with the upstream subscription
        // and the subscriptions waiting for its answer have had nothing yet, so all of it
        // is theirs: replaying only the latest cached group would silently lose the groups
        // before it.
        for (s, r) in pending {
            self.accept_downstream(now, &name, s, r, sessions);
        }
        if let Some(value) = self.tracks.get_mut(&name).and_then(|t| t.new_group_waiting.take()) {
            self.on_new_group_request(&name, value, sessions);
        }
        self.push_to_discoveries(&name, sessions);
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
        if !t.switch.forwards(&info) {
            // A new publisher after a switchover resending what was already forwarded.
            self.stats.late_objects_dropped += 1;
            return;
        }
        t.switch.seen(&info);
        // The payload is forwarded (and cached) as the chunks it arrived in: no copy.
        if info.status == sluice::ObjectStatus::Normal {
            // Largest Object counts objects with content, as the cache does: an End of
            // Group status object (one past the group's last) does not raise it.
            let at = Location { group: info.group, object: info.object };
            t.largest_received = Some(t.largest_received.map_or(at, |l| l.max(at)));
            // Objects can overtake the upstream SUBSCRIBE_OK (lite: they come on their own
            // streams). Until it arrives nobody is accepted, so the cache is all the waiting
            // subscribers will get: it keeps every group then, bounded by bytes and age only.
            let limits = if t.info.is_none() { Limits { groups: usize::MAX, ..limits } } else { limits };
            let limits = Limits { max_age: cache_age(limits.max_age, t.info.as_ref()), ..limits };
            t.cache.insert(now, &info, &payload, limits);
            t.newest_group = Some(t.newest_group.map_or(info.group, |g| g.max(info.group)));
        }
        for d in t.subscribers.iter_mut().filter(|d| d.accepted && d.options.forward) {
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

    /// An upstream subgroup stream ended: so do the subscribers' streams of it.
    fn on_subgroup_ended(
        &mut self,
        id: SessionId,
        request: RequestHandle,
        group: u64,
        subgroup: u64,
        sessions: &mut impl Sessions,
    ) {
        let Some(name) = self.by_upstream.get(&(id, request)) else { return };
        let Some(t) = self.tracks.get_mut(name) else { return };
        if !t.switch.forwards_end(group, subgroup) {
            // The new publisher ending a stream of a group cut at the switchover.
            return;
        }
        t.switch.ended(group, subgroup);
        t.cache.subgroup_ended(group, subgroup);
        for d in t.subscribers.iter_mut().filter(|d| d.accepted) {
            let Some(session) = sessions.session(d.session) else { continue };
            let congested = self.peers.get(&d.session).is_some_and(|p| p.congested);
            d.subgroup_ended(session, group, subgroup, congested, &mut self.stats);
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
        let Some(name) = self.by_upstream.get(&(id, request)).cloned() else { return };
        let leaving = match end {
            UpstreamEnd::PublisherGone { .. } => true,
            // MOQT PUBLISH_DONE GOING_AWAY: the publisher moves; so does the track.
            UpstreamEnd::Code(Family::Moqt) => reason.code == codes::GOING_AWAY,
            UpstreamEnd::Code(Family::Lite) => false,
        };
        if leaving && self.fail_over(&name, sessions) {
            return;
        }
        self.by_upstream.remove(&(id, request));
        let Some(mut t) = self.tracks.remove(&name) else { return };
        let cache = std::mem::take(&mut t.cache);
        self.keep(name, t.info.as_ref().map(|_| t.downstream_info()), cache);
        for mut d in t.subscribers.drain(..) {
            self.by_downstream.remove(&(d.session, d.request));
            let Some(session) = sessions.session(d.session) else { continue };
            let result = match (end, d.accepted || d.via_publish) {
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
                (UpstreamEnd::PublisherGone { going_away }, true) => {
                    d.close_all(session);
                    let code = if going_away {
                        codes::publisher_going_away(d.family)
                    } else {
                        codes::publisher_gone(d.family)
                    };
                    session.end_subscription(d.request, code, &reason.text)
                }
                (UpstreamEnd::PublisherGone { .. }, false) => {
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
        if !t.subscribers.is_empty() || t.pushed {
            self.reaggregate(&name, sessions);
            return;
        }
        let (publisher, upstream) = (t.publisher, t.upstream);
        if let Some(t) = self.tracks.remove(&name) {
            let info = t.info.as_ref().map(|_| t.downstream_info());
            self.keep(name, info, t.cache);
        }
        self.by_upstream.remove(&(publisher, upstream));
        if let Some(s) = sessions.session(publisher) {
            let _ = s.cancel(upstream);
        }
    }
}
