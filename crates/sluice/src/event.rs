//! Events for the application, delivered as [`crate::Output::Event`].
//!
//! Every request ends in exactly one terminal event for its handle (`*Failed`, `*Ended`,
//! `*Cancelled`), after which the handle is forgotten.

use bytes::Bytes;
use sluice_wire::Version;

use crate::ids::RequestHandle;
use crate::model::{Location, Namespace, ObjectInfo, Redirect, SubscribeOptions, TrackInfo, TrackName};
use crate::recv::Payload;

/// Why a request failed or ended, in version-neutral terms, with the wire code kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The wire error/status code (REQUEST_ERROR, PUBLISH_DONE, stream reset, …).
    pub code: u64,
    /// The reason phrase, if the version carries one.
    pub text: String,
}

/// One authorization token the peer presented (MOQT AUTHORIZATION_TOKEN, its alias
/// already resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedToken {
    /// The token type (MOQT Auth Token Type registry; 0 = negotiated out of band).
    pub token_type: u64,
    /// The token value.
    pub value: bytes::Bytes,
}

/// An application event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The session can carry requests (MOQT: both SETUPs exchanged; lite: connected).
    Ready {
        /// The negotiated version.
        version: Version,
        /// The peer's MOQT_IMPLEMENTATION, if it sent one.
        peer_implementation: Option<String>,
    },

    // ---- namespaces we announced
    /// The peer accepted our announce (MOQT REQUEST_OK; lite: implicit).
    AnnounceAccepted {
        /// From [`crate::Session::announce`].
        request: RequestHandle,
    },
    /// The peer rejected or cancelled our announce. Terminal.
    AnnounceEnded {
        /// From [`crate::Session::announce`].
        request: RequestHandle,
        /// Why.
        reason: Reason,
    },
    /// The peer announced a namespace to us (MOQT PUBLISH_NAMESPACE). Answer with
    /// [`crate::Session::accept_announce`] or [`crate::Session::reject`].
    IncomingAnnounce {
        /// Handle for the answer.
        request: RequestHandle,
        /// The namespace.
        namespace: Namespace,
    },
    /// An announce the peer made to us was withdrawn. Terminal.
    IncomingAnnounceEnded {
        /// The incoming announce.
        request: RequestHandle,
    },

    // ---- discovery we asked for
    /// A namespace under our discovery prefix became available.
    NamespaceFound {
        /// From [`crate::Session::discover`].
        request: RequestHandle,
        /// The full namespace.
        namespace: Namespace,
    },
    /// A namespace found earlier is gone.
    NamespaceGone {
        /// From [`crate::Session::discover`].
        request: RequestHandle,
        /// The full namespace.
        namespace: Namespace,
    },
    /// The discovery request was refused or ended. Terminal.
    DiscoveryEnded {
        /// From [`crate::Session::discover`].
        request: RequestHandle,
        /// Why.
        reason: Reason,
    },

    /// The peer subscribed to the namespaces under `prefix` (MOQT SUBSCRIBE_NAMESPACE).
    /// Reported only with `Config::hold_namespace_subscriptions`: answer with
    /// [`crate::Session::accept_discovery`] or [`crate::Session::reject`] (e.g.
    /// UNAUTHORIZED); NAMESPACE messages flow only after acceptance. A peer that cancels
    /// first ends the request silently (the answer then finds the handle gone).
    IncomingNamespaceSubscription {
        /// Handle for the answer.
        request: RequestHandle,
        /// The namespace prefix.
        prefix: Namespace,
    },
    /// The peer asks us to PUBLISH every track under `prefix` (MOQT SUBSCRIBE_TRACKS):
    /// publish the matching tracks with [`crate::Session::publish`]. Already accepted,
    /// unless `Config::hold_namespace_subscriptions` is set: then answer first with
    /// [`crate::Session::accept_discovery`] or [`crate::Session::reject`].
    IncomingTrackDiscovery {
        /// The peer's request (cancel it to refuse further interest).
        request: RequestHandle,
        /// The namespace prefix.
        prefix: Namespace,
        /// Whether the resulting PUBLISHes should forward objects (FORWARD).
        forward: bool,
    },
    /// The peer withdrew its SUBSCRIBE_TRACKS. Terminal.
    IncomingTrackDiscoveryEnded {
        /// The peer's request.
        request: RequestHandle,
    },

    // ---- subscriptions we made (and tracks pushed to us)
    /// The publisher accepted our subscription.
    Subscribed {
        /// From [`crate::Session::subscribe`].
        request: RequestHandle,
        /// What the publisher said about the track (boxed: see `IncomingPublish::info`).
        info: Box<TrackInfo>,
    },
    /// The peer pushed a track to us (MOQT PUBLISH). Answer with
    /// [`crate::Session::accept_publish`] or [`crate::Session::reject`].
    IncomingPublish {
        /// Handle for the answer and for the objects that follow.
        request: RequestHandle,
        /// The track.
        track: TrackName,
        /// What the publisher says about it (boxed, like the other large fields of rare
        /// events, so that no event is larger than `Object`: every object passes through
        /// the output queue, and every `Event` and `Output` is as large as the largest).
        info: Box<TrackInfo>,
    },
    /// An object of a subscription (or of a fetch).
    Object {
        /// The subscription or fetch.
        request: RequestHandle,
        /// Its metadata.
        info: ObjectInfo,
        /// Its payload: the received bytes, not a copy.
        payload: Payload,
    },
    /// The publisher finished (FIN) a stream of a subscription: every object of this
    /// (group, subgroup) sent on it has been delivered. MOQT: a subgroup stream that carried
    /// at least one object; lite: a group stream (subgroup 0). A relay uses it to finish its
    /// own stream of the subgroup, since streams of different groups race (draft-18 §2.2).
    SubgroupEnded {
        /// The subscription.
        request: RequestHandle,
        /// The group.
        group: u64,
        /// The subgroup (0 on lite).
        subgroup: u64,
    },
    /// Groups in a range will not arrive, or not completely (lite SUBSCRIBE_DROP or a reset
    /// group stream, MOQT subgroup reset). A group the publisher expires may be reported
    /// twice (its stream reset and its SUBSCRIBE_DROP).
    GroupsDropped {
        /// The subscription.
        request: RequestHandle,
        /// First group dropped.
        first: u64,
        /// Last group dropped (inclusive).
        last: u64,
        /// Why.
        reason: Reason,
    },
    /// The subscription failed before it started. Terminal.
    SubscribeFailed {
        /// The subscription.
        request: RequestHandle,
        /// Why.
        reason: Reason,
    },
    /// The subscription ended (track ended, publisher done, cancelled by peer). Terminal.
    /// lite: a graceful end (FIN) is reported after the Group streams that were open when
    /// it arrived have ended, so their objects come first.
    SubscriptionEnded {
        /// The subscription.
        request: RequestHandle,
        /// Why.
        reason: Reason,
    },

    /// The AUTHORIZATION_TOKENs the peer attached to a request (MOQT: the request itself,
    /// or a REQUEST_UPDATE of it), delivered just before the request's own event (e.g.
    /// `IncomingSubscribe`) or, for an update, before the update's event. To refuse,
    /// `reject` with UNAUTHORIZED (0x1); see [`crate::authorize`].
    Authorization {
        /// The request the tokens came with.
        request: RequestHandle,
        /// Tokens in message order (DELETEs are applied, not listed).
        tokens: Vec<PresentedToken>,
    },
    // ---- subscriptions made to us
    /// The peer subscribes to one of our tracks. Answer with
    /// [`crate::Session::accept_subscribe`] or [`crate::Session::reject`].
    IncomingSubscribe {
        /// Handle for the answer and for the data we send.
        request: RequestHandle,
        /// The track.
        track: TrackName,
        /// What the subscriber asks for (boxed: see `IncomingPublish::info`).
        options: Box<SubscribeOptions>,
    },
    /// The subscriber changed its subscription.
    SubscribeUpdated {
        /// The subscription.
        request: RequestHandle,
        /// The new options.
        options: SubscribeOptions,
    },
    /// The subscriber asks to change a subscription we publish, or the priority of a fetch
    /// we serve (MOQT REQUEST_UPDATE). Reported only with `Config::hold_request_updates`:
    /// answer with [`crate::Session::accept_update`] or [`crate::Session::reject_update`].
    /// Updates that arrive before the answer are coalesced: each is reported with the
    /// options all of them together give, and one answer covers them all.
    IncomingRequestUpdate {
        /// The subscription or fetch.
        request: RequestHandle,
        /// Its options once the update applies (a fetch: only `priority` matters).
        options: SubscribeOptions,
    },
    /// A group stream we opened for a subscription was reset because the group expired
    /// (moq-lite max latency: a newer group exists and this one is too old). Writes to
    /// `stream` now fail with `UnknownStream`; the subscription goes on.
    GroupExpired {
        /// The subscription.
        request: RequestHandle,
        /// The expired group.
        group: u64,
        /// Its stream (no longer open).
        stream: crate::ids::StreamId,
    },
    /// The subscriber left. Terminal.
    SubscriberGone {
        /// The subscription.
        request: RequestHandle,
    },

    // ---- fetches
    /// The peer asks for past objects. Answer with [`crate::Session::accept_fetch`] or
    /// [`crate::Session::reject`], then write objects with
    /// [`crate::Session::write_fetch_object`].
    IncomingFetch {
        /// Handle for the answer.
        request: RequestHandle,
        /// The track (boxed: see `IncomingPublish::info`).
        track: Box<TrackName>,
        /// First location wanted.
        start: Location,
        /// End location as on the wire (draft-18 FETCH End Location): the last object
        /// wanted plus one, and object 0 means the whole group `end.group`; `None` = up to
        /// the largest.
        end: Option<Location>,
        /// The fetch's subscriber priority, 0 = most important (MOQT sense; MOQT
        /// SUBSCRIBER_PRIORITY, 128 when absent; lite FETCH priority, mapped).
        priority: u8,
        /// The FETCH's FILL_TIMEOUT in ms (draft-18 "FILL TIMEOUT Parameter"): how long a
        /// relay may wait for upstream to fill what it lacks; `None` when absent (the relay's
        /// own default) and always on moq-lite (no such field).
        fill_timeout_ms: Option<u64>,
    },
    /// A fetch's End of Range marker (MOQT): the locations after the previous object up to
    /// and including `through` do not exist, or (`unknown`) their status is unknown.
    FetchGap {
        /// The fetch.
        request: RequestHandle,
        /// The last location of the range.
        through: Location,
        /// True for "unknown", false for "does not exist".
        unknown: bool,
    },
    /// Our fetch was accepted.
    FetchAccepted {
        /// From [`crate::Session::fetch`].
        request: RequestHandle,
        /// The end of the range the publisher will send.
        end: Location,
        /// What FETCH_OK's Track Properties say of the track (draft-18): the typed fields
        /// (publisher priority, group order, MAX_CACHE_DURATION, ...) and the rest of the
        /// properties in `properties`. Boxed: a rare event.
        info: Box<TrackInfo>,
    },
    /// A fetch (ours or the peer's) ended or failed. Terminal. A MOQT fetch of ours that
    /// ends without a `FetchAccepted` before it was refused, whatever the code (REQUEST_ERROR
    /// INTERNAL_ERROR is 0): the core holds a data stream's end until FETCH_OK has arrived.
    FetchEnded {
        /// The fetch.
        request: RequestHandle,
        /// Why (code 0 = complete, or a refusal with INTERNAL_ERROR: see above).
        reason: Reason,
    },

    // ---- pushes we made (MOQT PUBLISH)
    /// The peer accepted a track we pushed with [`crate::Session::publish`] (MOQT
    /// PUBLISH_OK); objects may flow.
    PublishAccepted {
        /// From [`crate::Session::publish`].
        request: RequestHandle,
        /// What the subscriber asks for.
        options: SubscribeOptions,
    },

    /// The peer refused a track we pushed with [`crate::Session::publish`] (MOQT
    /// REQUEST_ERROR on PUBLISH). Terminal.
    PublishRefused {
        /// From [`crate::Session::publish`].
        request: RequestHandle,
        /// The REQUEST_ERROR code and reason.
        reason: Reason,
    },

    // ---- track status
    /// The peer asks for a track's status (MOQT TRACK_STATUS). Answer with
    /// [`crate::Session::accept_subscribe`] (its `info` is the answer) or
    /// [`crate::Session::reject`].
    IncomingTrackStatus {
        /// Handle for the answer.
        request: RequestHandle,
        /// The track.
        track: TrackName,
    },
    /// The answer to [`crate::Session::track_status`]. Terminal.
    TrackStatus {
        /// From [`crate::Session::track_status`].
        request: RequestHandle,
        /// The track's status (boxed: see `IncomingPublish::info`), or why the peer refused
        /// to give it.
        result: Result<Box<TrackInfo>, Reason>,
    },

    /// A track matching our track discovery (MOQT SUBSCRIBE_TRACKS) that the peer cannot
    /// PUBLISH to us (PUBLISH_BLOCKED).
    PublishBlocked {
        /// From [`crate::Session::discover_tracks`].
        request: RequestHandle,
        /// The full track name.
        track: TrackName,
    },

    // ---- refusals with advice
    /// The peer refused one of our requests and said when or where to retry (MOQT
    /// REQUEST_ERROR retry interval / REDIRECT). Comes just before the request's terminal
    /// event (`SubscribeFailed`, `FetchEnded`, …).
    RetryAdvice {
        /// The refused request.
        request: RequestHandle,
        /// The least time before retrying (`Some(ZERO)` = at once); `None` = do not retry.
        retry_after: Option<std::time::Duration>,
        /// Where to retry instead (boxed: see `IncomingPublish::info`).
        redirect: Option<Box<Redirect>>,
    },

    // ---- session
    /// The peer asks us to move to another session (empty URI = reconnect to the same).
    GoAway {
        /// Where to.
        uri: Bytes,
    },
    /// The session is closed; nothing more will happen.
    Closed {
        /// The close code.
        code: u64,
        /// The reason.
        reason: String,
        /// True when the peer (or the transport) closed it, false when we did.
        by_peer: bool,
    },
}
