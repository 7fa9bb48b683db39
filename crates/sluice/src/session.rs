//! [`Session`]: the public, version-neutral face of the core.
//!
//! It follows the quinn-proto / str0m pattern: feed inputs with [`Session::handle`], issue
//! commands with its methods, and after *every* call drain [`Session::poll`] until it
//! returns `None`; arm a timer for [`Session::poll_timeout`] and call
//! [`Session::handle_timeout`] when it fires. The engine for the wire family is chosen when
//! the adapter reports the negotiated version ([`Input::Connected`]).

use std::time::Duration;

use bytes::Bytes;
use sluice_wire::Version;

use crate::config::Config;
use crate::engine::{Engine, FetchOptions, JoinStart, ObjectWrite, Shared};
use crate::error::CommandError;
use crate::ids::{RequestHandle, StreamId};
use crate::io::{Input, Output};
use crate::model::{Location, Namespace, Rejection, SubscribeOptions, TrackInfo, TrackName};
use crate::time::Time;

/// Which end of the connection this session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Opened the connection.
    Client,
    /// Accepted it.
    Server,
}

/// A MoQ session. See the module docs.
#[derive(Debug)]
pub struct Session {
    shared: Shared,
    engine: Option<Box<dyn Engine + Send>>,
    version: Option<Version>,
    now: Time,
}

impl Session {
    /// A session that waits for [`Input::Connected`].
    pub fn new(config: Config, role: Role, now: Time) -> Session {
        Session { shared: Shared::new(config, role), engine: None, version: None, now }
    }

    /// The negotiated version, once connected.
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// Tells the session it runs over WebTransport (`Config::webtransport`): MOQT then
    /// sends no PATH / AUTHORITY and refuses a peer's (draft-18 §10.3.1). An adapter that
    /// learns the transport only after creating the session calls it before
    /// [`Input::Connected`]; afterwards the SETUP is out and it changes nothing.
    pub fn set_webtransport(&mut self, webtransport: bool) {
        if self.engine.is_none() {
            self.shared.config.webtransport = webtransport;
        }
    }

    /// This session's role.
    pub fn role(&self) -> Role {
        self.shared.role
    }

    /// True once the session is closed (by either side).
    pub fn is_closed(&self) -> bool {
        self.shared.closed
    }

    /// Entries alive in the engine's tables: 0 once the session is closed.
    pub fn table_sizes(&self) -> usize {
        self.engine.as_ref().map_or(0, |e| e.table_sizes())
    }

    /// Received bytes the session holds in receive buffers (never above
    /// `Config::max_session_buffer` once an input has been handled).
    pub fn buffered_bytes(&self) -> usize {
        self.engine.as_ref().map_or(0, |e| e.buffered_bytes())
    }

    /// Feeds one transport input.
    // Inlined into the adapter's loop so the input it built goes to the engine as it is.
    // Out of line, this dispatch re-assembled the input on its stack field by field
    // (8-byte stores) and the engine's 16-byte loads of it then waited on those stores (a
    // store-forwarding stall per stream chunk): 9 ns/object on the object path.
    #[inline]
    pub fn handle(&mut self, now: Time, input: Input) {
        self.now = self.now.max(now);
        if self.shared.closed {
            return;
        }
        match input {
            Input::Connected { version } => self.connect(version),
            Input::Closed { code, reason } => self.peer_closed(code, &reason),
            other => {
                if let Some(engine) = self.engine.as_mut() {
                    engine.handle(&mut self.shared, self.now, other);
                }
                self.clear_if_closed();
            }
        }
    }

    /// The connection is gone (kept out of line: `handle` is on the per-chunk path).
    #[cold]
    #[inline(never)]
    fn peer_closed(&mut self, code: u64, reason: &[u8]) {
        self.shared.close(code, &String::from_utf8_lossy(reason), true);
        self.clear();
    }

    #[cold]
    #[inline(never)]
    fn connect(&mut self, version: Version) {
        if self.engine.is_some() {
            return;
        }
        let mut engine: Box<dyn Engine + Send> = match version {
            Version::Lite(v) => Box::new(crate::lite::LiteEngine::new(v)),
            Version::Moqt(v) => Box::new(crate::moqt::MoqtEngine::new(v)),
        };
        self.version = Some(version);
        engine.start(&mut self.shared, self.now);
        self.engine = Some(engine);
        self.clear_if_closed();
    }

    /// The clock reached `now`.
    pub fn handle_timeout(&mut self, now: Time) {
        self.now = self.now.max(now);
        if let Some(engine) = self.engine.as_mut()
            && !self.shared.closed
        {
            engine.handle_timeout(&mut self.shared, self.now);
        }
        self.clear_if_closed();
    }

    /// When [`Session::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Time> {
        if self.shared.closed {
            return None;
        }
        self.engine.as_ref().and_then(|e| e.poll_timeout())
    }

    /// The next output, or `None` when there is nothing more to do.
    #[inline]
    pub fn poll(&mut self) -> Option<Output> {
        self.shared.outputs.pop_front()
    }

    /// Closes the session with an application code and reason.
    pub fn close(&mut self, code: u64, reason: &str) {
        self.shared.close(code, reason, false);
        self.clear();
    }

    /// The shared state, for command wrappers in other modules ([`crate::Authorized`]).
    pub(crate) fn shared_mut(&mut self) -> &mut Shared {
        &mut self.shared
    }

    #[inline]
    fn clear_if_closed(&mut self) {
        if self.shared.closed {
            self.clear();
        }
    }

    #[cold]
    fn clear(&mut self) {
        if let Some(engine) = self.engine.as_mut() {
            engine.clear();
        }
    }

    fn engine(&mut self) -> Result<(&mut (dyn Engine + Send), &mut Shared), CommandError> {
        if self.shared.closed {
            return Err(CommandError::Closed);
        }
        match self.engine.as_deref_mut() {
            Some(engine) => Ok((engine, &mut self.shared)),
            None => Err(CommandError::NotConnected),
        }
    }

    /// Announces (publishes) a namespace: MOQT PUBLISH_NAMESPACE; lite: advertised to
    /// every announce interest of the peer that matches.
    pub fn announce(&mut self, namespace: Namespace) -> Result<RequestHandle, CommandError> {
        let (e, s) = self.engine()?;
        e.announce(s, namespace)
    }

    /// Announces a namespace learned from another hop, as a relay does: `hops` is the path
    /// it came by, origin first ([`Session::discovered_hops`] of the discovery that found
    /// it). moq-lite carries the path in its announces (lite-04 appending our
    /// `Config::lite_hop_id`, lite-05 sending that in ANNOUNCE_OK) so relays further on can
    /// refuse loops; MOQT has no hop list and announces as [`Session::announce`].
    pub fn announce_relayed(
        &mut self,
        namespace: Namespace,
        hops: Vec<u64>,
    ) -> Result<RequestHandle, CommandError> {
        let (e, s) = self.engine()?;
        e.announce_relayed(s, namespace, hops)
    }

    /// The hop path (origin first) by which our discovery `request` found `namespace`
    /// (moq-lite; lite-05 includes the responder's ANNOUNCE_OK Hop ID when non-zero), or
    /// `None` (MOQT, or not found). A relay that finds its own Hop ID in it is looking at
    /// its own announce come back and should ignore it.
    pub fn discovered_hops(&self, request: RequestHandle, namespace: &Namespace) -> Option<Vec<u64>> {
        self.engine.as_deref()?.discovered_hops(request, namespace)
    }

    /// Accepts an [`crate::Event::IncomingAnnounce`].
    pub fn accept_announce(&mut self, request: RequestHandle) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.accept_announce(s, request)
    }

    /// Discovers namespaces under `prefix`: MOQT SUBSCRIBE_NAMESPACE; lite ANNOUNCE_INTEREST.
    pub fn discover(&mut self, prefix: Namespace) -> Result<RequestHandle, CommandError> {
        let (e, s) = self.engine()?;
        e.discover(s, prefix)
    }

    /// Asks the peer to PUBLISH every track under `prefix` (MOQT SUBSCRIBE_TRACKS); the
    /// tracks then arrive as [`crate::Event::IncomingPublish`].
    pub fn discover_tracks(&mut self, prefix: Namespace) -> Result<RequestHandle, CommandError> {
        let (e, s) = self.engine()?;
        e.discover_tracks(s, prefix)
    }

    /// Answers an [`crate::Event::IncomingTrackDiscovery`]: `track` matches but will not be
    /// pushed (MOQT PUBLISH_BLOCKED).
    pub fn publish_blocked(&mut self, request: RequestHandle, track: TrackName) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.publish_blocked(s, request, track)
    }

    /// Accepts a peer's namespace subscription held for the application
    /// (`Config::hold_namespace_subscriptions`): [`crate::Event::IncomingNamespaceSubscription`]
    /// or [`crate::Event::IncomingTrackDiscovery`] (MOQT REQUEST_OK).
    pub fn accept_discovery(&mut self, request: RequestHandle) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.accept_discovery(s, request)
    }

    /// Accepts the peer's REQUEST_UPDATEs held for the application
    /// (`Config::hold_request_updates`, [`crate::Event::IncomingRequestUpdate`]): the new
    /// options apply and each update gets its REQUEST_OK.
    pub fn accept_update(&mut self, request: RequestHandle) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.accept_update(s, request)
    }

    /// Refuses the peer's held REQUEST_UPDATEs of an accepted request: REQUEST_ERROR with
    /// `code` for each, then a subscription ends with PUBLISH_DONE UPDATE_FAILED and a
    /// fetch has its data stream reset (draft-18 §10.6). The request is then gone.
    pub fn reject_update(
        &mut self,
        request: RequestHandle,
        code: u64,
        reason: &str,
    ) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.reject_update(s, request, code, reason)
    }

    /// Subscribes to a track.
    pub fn subscribe(
        &mut self,
        track: TrackName,
        options: SubscribeOptions,
    ) -> Result<RequestHandle, CommandError> {
        let (e, s) = self.engine()?;
        e.subscribe(s, track, options)
    }

    /// Updates a subscription we made.
    pub fn update_subscription(
        &mut self,
        request: RequestHandle,
        options: SubscribeOptions,
    ) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.update_subscription(s, request, options)
    }

    /// Accepts an [`crate::Event::IncomingSubscribe`].
    pub fn accept_subscribe(&mut self, request: RequestHandle, info: TrackInfo) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.accept_subscribe(s, request, info)
    }

    /// Pushes a track to the peer (MOQT PUBLISH; lite: unsupported).
    pub fn publish(&mut self, track: TrackName, info: TrackInfo) -> Result<RequestHandle, CommandError> {
        let (e, s) = self.engine()?;
        e.publish(s, track, info)
    }

    /// Accepts an [`crate::Event::IncomingPublish`].
    pub fn accept_publish(
        &mut self,
        request: RequestHandle,
        options: SubscribeOptions,
    ) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.accept_publish(s, request, options)
    }

    /// Rejects an incoming request (announce, subscribe, publish, fetch, discovery). On a
    /// fetch already accepted it aborts it instead: the fetch's data stream (or, before
    /// any object, its request stream) is reset with `code` (MOQT: a stream reset code;
    /// lite: the reset code), which the fetcher sees as `FetchEnded` with that code.
    pub fn reject(&mut self, request: RequestHandle, code: u64, reason: &str) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.reject(s, request, code, reason)
    }

    /// Rejects an incoming request with MOQT's retry interval and/or REDIRECT
    /// ([`crate::Event::RetryAdvice`] at the peer); moq-lite refuses either with
    /// `CommandError::Unsupported`.
    pub fn reject_with(&mut self, request: RequestHandle, rejection: Rejection) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.reject_with(s, request, rejection)
    }

    /// Cancels a request we made: unsubscribe, withdraw an announce, stop a discovery,
    /// cancel a fetch.
    pub fn cancel(&mut self, request: RequestHandle) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.cancel(s, request)
    }

    /// Opens a subgroup stream (lite: a group stream) of an accepted subscription.
    pub fn open_subgroup(
        &mut self,
        request: RequestHandle,
        group: u64,
        subgroup: u64,
        priority: Option<u8>,
    ) -> Result<StreamId, CommandError> {
        let (e, s) = self.engine()?;
        e.open_subgroup(s, request, group, subgroup, priority)
    }

    /// Writes one object to an open subgroup stream.
    // Inlined so the caller's `ObjectWrite` goes to the engine as it is, not copied first.
    #[inline]
    pub fn write_object(&mut self, stream: StreamId, object: ObjectWrite) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.write_object(s, stream, object)
    }

    /// Finishes a subgroup stream.
    pub fn close_subgroup(&mut self, stream: StreamId, end_of_group: bool) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.close_subgroup(s, stream, end_of_group)
    }

    /// Abandons an open subgroup (lite: group) stream: it is reset with `code` and
    /// forgotten. A relay uses it to drop a group a slow subscriber cannot take.
    pub fn reset_subgroup(&mut self, stream: StreamId, code: u64) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.reset_subgroup(s, stream, code)
    }

    /// Reports groups `first..=last` (inclusive) of a subscription made to us as not
    /// delivered, with an application error `code` (0 = simply unavailable). moq-lite:
    /// SUBSCRIBE_DROP on the Subscribe stream (lite-04/05 §SUBSCRIBE_DROP), so a subscriber
    /// that waits for every group stops waiting for these; the subscriber sees
    /// `Event::GroupsDropped`. MOQT draft-18 has no message for it (a subscriber cannot
    /// infer anything about groups it did not get, and Prior Group ID Gap says a group does
    /// not *exist*, which relays MUST NOT add): nothing is sent and `Ok` is returned for a
    /// subscription we publish. A relay calls it for every group it skips for a subscriber.
    pub fn drop_groups(
        &mut self,
        request: RequestHandle,
        first: u64,
        last: u64,
        code: u64,
    ) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.drop_groups(s, request, first, last, code)
    }

    /// Sends one object of a subscription as a datagram.
    pub fn send_datagram(
        &mut self,
        request: RequestHandle,
        group: u64,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.send_datagram(s, request, group, object)
    }

    /// Ends a subscription made to us (MOQT PUBLISH_DONE with `code`; lite: FIN/reset).
    pub fn end_subscription(
        &mut self,
        request: RequestHandle,
        code: u64,
        reason: &str,
    ) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.end_subscription(s, request, code, reason)
    }

    /// Fetches `start..end` of a track (lite: the whole group `start.group`).
    pub fn fetch(
        &mut self,
        track: TrackName,
        start: Location,
        end: Location,
        priority: u8,
    ) -> Result<RequestHandle, CommandError> {
        self.fetch_with(track, start, end, FetchOptions::priority(priority))
    }

    /// [`Session::fetch`] with every option, FILL_TIMEOUT included (MOQT only; moq-lite
    /// refuses a FILL_TIMEOUT with `CommandError::Unsupported`).
    pub fn fetch_with(
        &mut self,
        track: TrackName,
        start: Location,
        end: Location,
        options: FetchOptions,
    ) -> Result<RequestHandle, CommandError> {
        let (e, s) = self.engine()?;
        e.fetch(s, track, start, end, options)
    }

    /// A joining fetch for one of our subscriptions (MOQT only).
    pub fn joining_fetch(
        &mut self,
        subscription: RequestHandle,
        start: JoinStart,
        priority: u8,
    ) -> Result<RequestHandle, CommandError> {
        self.joining_fetch_with(subscription, start, FetchOptions::priority(priority))
    }

    /// [`Session::joining_fetch`] with every option, FILL_TIMEOUT included.
    pub fn joining_fetch_with(
        &mut self,
        subscription: RequestHandle,
        start: JoinStart,
        options: FetchOptions,
    ) -> Result<RequestHandle, CommandError> {
        let (e, s) = self.engine()?;
        e.joining_fetch(s, subscription, start, options)
    }

    /// Accepts an [`crate::Event::IncomingFetch`]; `end` is exclusive.
    pub fn accept_fetch(&mut self, request: RequestHandle, end: Location) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.accept_fetch(s, request, end)
    }

    /// [`Session::accept_fetch`] whose MOQT FETCH_OK carries the Track Properties of `info`
    /// (typed ones and `info.properties`; `largest` is not sent). moq-lite ignores `info`.
    pub fn accept_fetch_with_info(
        &mut self,
        request: RequestHandle,
        end: Location,
        info: &TrackInfo,
    ) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.accept_fetch_with_info(s, request, end, info)
    }

    /// Writes one object of an accepted fetch.
    pub fn write_fetch_object(
        &mut self,
        request: RequestHandle,
        group: u64,
        subgroup: u64,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.write_fetch_object(s, request, group, subgroup, object)
    }

    /// Marks the locations after the previous fetch object up to and including `through` as
    /// non-existent, or (`unknown`) of unknown status (MOQT End of Range markers; moq-lite
    /// fetches are whole groups and have none).
    pub fn write_fetch_gap(
        &mut self,
        request: RequestHandle,
        through: Location,
        unknown: bool,
    ) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.write_fetch_gap(s, request, through, unknown)
    }

    /// Finishes an accepted fetch.
    pub fn finish_fetch(&mut self, request: RequestHandle) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.finish_fetch(s, request)
    }

    /// Asks for a track's status (MOQT TRACK_STATUS).
    pub fn track_status(&mut self, track: TrackName) -> Result<RequestHandle, CommandError> {
        let (e, s) = self.engine()?;
        e.track_status(s, track)
    }

    /// Sends GOAWAY: the peer should move to `uri` (empty: reconnect) within `timeout`.
    pub fn goaway(&mut self, uri: Bytes, timeout: Duration) -> Result<(), CommandError> {
        let (e, s) = self.engine()?;
        e.goaway(s, uri, timeout)
    }
}
