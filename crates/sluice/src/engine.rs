//! The contract between [`crate::Session`] and a wire family's engine.
//!
//! `Session` owns what every version shares (config, role, the output queue, handle
//! allocation, closed state) in [`Shared`]; an engine (`lite::LiteEngine`,
//! `moqt::MoqtEngine`) owns the version's protocol state and implements [`Engine`]. The
//! session picks the engine from the negotiated version and forwards every input and
//! command to it; engines push outputs into `Shared` and never see the adapter.

use std::collections::VecDeque;

use bytes::Bytes;
use sluice_wire::HeaderBytes;

use crate::config::Config;
use crate::error::CommandError;
use crate::event::Event;
use crate::ids::{RequestHandle, StreamId};
use crate::io::{Input, Output};
use crate::model::{Location, Namespace, ObjectInfo, Rejection, SubscribeOptions, TrackInfo, TrackName};
use crate::recv::Payload;
use crate::session::Role;
use crate::time::Time;

/// State every engine uses: limits, role, the output queue and handle counters.
#[derive(Debug)]
pub struct Shared {
    /// Limits.
    pub config: Config,
    /// Client or server.
    pub role: Role,
    /// Outputs not yet polled.
    pub outputs: VecDeque<Output>,
    next_stream: u64,
    next_request: u64,
    /// Set once the session is closed; engines must then emit nothing more.
    pub closed: bool,
    /// Where headers are encoded: see [`Shared::encode_header`].
    header_scratch: Vec<u8>,
    /// AUTHORIZATION_TOKENs the request command being run attaches (set only for the
    /// duration of one command by [`crate::Authorized`]; engines that cannot send tokens
    /// never see it non-empty).
    pub auth_tokens: Vec<sluice_wire::moqt::token::Token>,
}

impl Shared {
    /// Fresh shared state.
    pub fn new(config: Config, role: Role) -> Self {
        Shared {
            config,
            role,
            outputs: VecDeque::new(),
            next_stream: 0,
            next_request: 0,
            closed: false,
            header_scratch: Vec::new(),
            auth_tokens: Vec::new(),
        }
    }

    /// Encodes a header (object header, frame header, small message) and returns it as
    /// [`HeaderBytes`]: encoded into a reused scratch buffer, then copied inline when it
    /// fits (no allocation, no reference count), else into an allocation of its own. On
    /// error nothing is kept. The hottest headers (MOQT subgroup object headers) skip the
    /// scratch buffer through `SubgroupObjectEncoder::encode_header_bytes`.
    pub fn encode_header<E>(
        &mut self,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<HeaderBytes, E> {
        self.header_scratch.clear();
        let result = encode(&mut self.header_scratch);
        let header = HeaderBytes::from_slice(&self.header_scratch);
        if self.header_scratch.capacity() > HEADER_SCRATCH_KEEP {
            self.header_scratch = Vec::new();
        }
        result.map(|()| header)
    }

    /// A new handle for a stream the core opens.
    pub fn next_stream(&mut self) -> StreamId {
        let id = StreamId::local(self.next_stream);
        self.next_stream = self.next_stream.wrapping_add(1);
        id
    }

    /// A new request handle.
    pub fn next_request(&mut self) -> RequestHandle {
        let h = RequestHandle(self.next_request);
        self.next_request = self.next_request.wrapping_add(1);
        h
    }

    /// Queues an output.
    #[inline]
    pub fn push(&mut self, output: Output) {
        if !self.closed {
            self.outputs.push_back(output);
        }
    }

    /// Queues an object's bytes on a stream: `header`, then each chunk of `payload` in
    /// order, as one [`Output::Write`] per chunk (the first also carries the header), so a
    /// payload in several chunks goes out without being joined. `fin` goes on the last.
    #[inline(always)]
    pub fn write_payload(&mut self, stream: StreamId, header: HeaderBytes, payload: Payload, fin: bool) {
        match payload {
            // The common case, inlined into the object paths: one write built in place.
            Payload::One(payload) => {
                if !self.closed {
                    self.push_in_place(|| Output::Write { stream, header, payload, fin });
                }
            }
            Payload::Chunks(chunks) => self.write_chunks(stream, header, chunks, fin),
        }
    }

    /// [`Shared::write_payload`] of a payload in chunks.
    #[inline(never)]
    fn write_chunks(&mut self, stream: StreamId, header: HeaderBytes, chunks: Vec<Bytes>, fin: bool) {
        if chunks.is_empty() {
            return self.push(Output::Write { stream, header, payload: Bytes::new(), fin });
        }
        let last = chunks.len().saturating_sub(1);
        let mut header = header;
        for (i, payload) in chunks.into_iter().enumerate() {
            let header = std::mem::take(&mut header);
            self.push(Output::Write { stream, header, payload, fin: fin && i == last });
        }
    }

    /// Queues the output `make` builds, building it straight into the queue's next slot
    /// when the queue has room (nearly always). A plain `push_back` builds the output on
    /// the stack first, because the queue may have to grow between building and storing
    /// it, then copies it into the slot with 16-byte loads of what was just written with
    /// narrower stores: a store-forwarding stall on every object. Here the room is checked
    /// first, so the push that follows cannot grow and the compiler drops the copy (when it
    /// inlines the push, as it does on the draft-18 publisher path).
    #[inline(always)]
    fn push_in_place(&mut self, make: impl FnOnce() -> Output) {
        if self.outputs.len() < self.outputs.capacity() {
            self.outputs.push_back(make());
        } else {
            self.push_growing(make());
        }
    }

    /// [`Shared::push_in_place`] when the queue is full.
    #[cold]
    #[inline(never)]
    fn push_growing(&mut self, output: Output) {
        self.outputs.push_back(output);
    }

    /// Queues an application event.
    #[inline]
    pub fn event(&mut self, event: Event) {
        self.push(Output::Event(event));
    }

    /// Queues an [`Event::Object`]: the output is built in the queue's call from its parts
    /// (the hottest event; no `Event` built first and then moved into an `Output`).
    #[inline(always)]
    pub fn object(&mut self, request: RequestHandle, info: ObjectInfo, payload: Payload) {
        if !self.closed {
            self.outputs.push_back(Output::Event(Event::Object { request, info, payload }));
        }
    }

    /// Closes the session: the close output, then the `Closed` event, then nothing more.
    pub fn close(&mut self, code: u64, reason: &str, by_peer: bool) {
        if self.closed {
            return;
        }
        if !by_peer {
            self.push(Output::Close { code, reason: reason.to_owned() });
        }
        self.event(Event::Closed { code, reason: reason.to_owned(), by_peer });
        self.closed = true;
    }
}

/// The scratch buffer of [`Shared::encode_header`] is released after a header longer than
/// this (a long control message), so one large message does not pin its size.
const HEADER_SCRATCH_KEEP: usize = 4096;

/// One object the application writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectWrite {
    /// Object id (lite: must be the next frame index of the group, from 0).
    pub object: u64,
    /// Payload; handed to the transport without copying. A payload in several chunks
    /// ([`Payload::Chunks`], e.g. one a relay received across stream chunks) is written
    /// chunk by chunk, not joined; only a datagram, which is one buffer, joins it.
    pub payload: Payload,
    /// Object properties as raw MOQT Key-Value-Pairs (lite: must be empty); a relay hands
    /// on a received object's [`crate::ObjectInfo::properties`] (cloning them does not
    /// allocate).
    pub properties: crate::model::ObjectProperties,
    /// lite-05 frame timestamp in the track's timescale (lite-05 requires it; others ignore).
    pub timestamp: Option<u64>,
    /// End-of-group / end-of-track status objects carry no payload (MOQT only).
    pub status: crate::model::ObjectStatus,
    /// MOQT: whether this object is the first ever published in its subgroup, read from
    /// the first object written on a subgroup stream to set the SUBGROUP_HEADER's
    /// FIRST_OBJECT bit (draft-18 §"Subgroups": an original publisher opening a subgroup,
    /// and a relay forwarding one from its start, MUST set it). `None`: the core decides,
    /// and says yes only when it is certain, for object id 0 (no object of the group can
    /// precede it); a publisher whose subgroup starts at another id says `Some(true)`, a
    /// relay that knows it starts mid-subgroup `Some(false)`. lite has no such bit.
    pub first_in_subgroup: Option<bool>,
    /// MOQT: read from the first object written on a subgroup stream: `Some(true)` gives
    /// the stream a SUBGROUP_HEADER type whose objects all carry a properties field, so
    /// later objects may have properties even when this one has none (a relay mirrors
    /// the upstream stream's type from `ObjectInfo::properties_present`). `None` or
    /// `Some(false)`: the type says so only when this first object has properties; a
    /// later object with properties on a stream typed without them is then refused
    /// (`CommandError::Encode`). Datagrams and fetches ignore it.
    pub properties_present: Option<bool>,
    /// MOQT: when the object's first payload byte was received from upstream or produced
    /// by the application: the start of its OBJECT_DELIVERY_TIMEOUT (draft-18 §"Delivery
    /// Timeouts and Data Reliability"). `None`: now (the time of the session's latest
    /// input or timeout), so the object cannot have expired yet. A relay forwarding an
    /// object later than it got it says when it got it; an object already older than the
    /// timeout is then not sent (`CommandError::DeliveryTimeout`; see `moqt::timeouts`).
    /// Fetch objects have no delivery timeout and lite has none of this (it expires whole
    /// groups by max latency): both ignore it.
    pub first_byte_at: Option<Time>,
}

impl ObjectWrite {
    /// A normal object with a payload: one `Bytes`, or a received [`Payload`] as it came.
    pub fn new(object: u64, payload: impl Into<Payload>) -> Self {
        ObjectWrite {
            object,
            payload: payload.into(),
            properties: crate::model::ObjectProperties::empty(),
            timestamp: None,
            status: crate::model::ObjectStatus::Normal,
            first_in_subgroup: None,
            properties_present: None,
            first_byte_at: None,
        }
    }
}

/// Which part of a track a joining fetch wants, relative to a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinStart {
    /// Start this many groups before the subscription's joining location.
    Relative(u64),
    /// Start at this absolute group.
    Absolute(u64),
}

/// What a fetch request asks besides its range (`Session::fetch_with`,
/// `Session::joining_fetch_with`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchOptions {
    /// Subscriber priority, 0 = most important (MOQT SUBSCRIBER_PRIORITY; lite: mapped).
    pub priority: u8,
    /// MOQT FILL_TIMEOUT (draft-18 "FILL TIMEOUT Parameter", 0x0A): how long, in ms, a relay
    /// may wait for upstream sources to fill objects it does not have before reporting them
    /// as Unknown gaps; `Some(0)` = only what the relay has at once; `None` = the relay's
    /// default. moq-lite's FETCH has no such field: `Some(_)` there is
    /// `CommandError::Unsupported`.
    pub fill_timeout_ms: Option<u64>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions { priority: 128, fill_timeout_ms: None }
    }
}

impl FetchOptions {
    /// Priority `priority`, no FILL_TIMEOUT.
    pub fn priority(priority: u8) -> Self {
        FetchOptions { priority, fill_timeout_ms: None }
    }
}

/// A wire family's protocol state machine. See the module docs.
///
/// Every method may push outputs into `shared`; every command either succeeds (and has
/// queued what it sends) or returns an error having sent nothing.
pub trait Engine: std::fmt::Debug {
    /// Called once, right after the engine is created, to send what the version sends first
    /// (MOQT control stream + SETUP, lite-05 SETUP stream).
    fn start(&mut self, shared: &mut Shared, now: Time);
    /// A transport input (never `Input::Connected`: the session handles that).
    fn handle(&mut self, shared: &mut Shared, now: Time, input: Input);
    /// The clock reached `now`.
    fn handle_timeout(&mut self, shared: &mut Shared, now: Time);
    /// The next time the engine wants `handle_timeout`.
    fn poll_timeout(&self) -> Option<Time>;
    /// Drops all state (after close). Afterwards every table must be empty.
    fn clear(&mut self);
    /// Entries alive in the engine's tables (requests, streams, buffers): 0 after `clear`.
    fn table_sizes(&self) -> usize;
    /// Received bytes held in receive buffers across all streams (bounded by
    /// `Config::max_session_buffer`).
    fn buffered_bytes(&self) -> usize;

    /// Announce/publish a namespace.
    fn announce(&mut self, shared: &mut Shared, namespace: Namespace) -> Result<RequestHandle, CommandError>;
    /// Announce a namespace that came by the hop path `hops` (origin first), as a relay
    /// re-announcing does (moq-lite hop lists; MOQT has none, so by default the hops are
    /// dropped and this is `announce`).
    fn announce_relayed(
        &mut self,
        shared: &mut Shared,
        namespace: Namespace,
        hops: Vec<u64>,
    ) -> Result<RequestHandle, CommandError> {
        let _ = hops;
        self.announce(shared, namespace)
    }
    /// The hop path (origin first) by which discovery `request` found `namespace`, where the
    /// version carries one (moq-lite); `None` otherwise.
    fn discovered_hops(&self, request: RequestHandle, namespace: &Namespace) -> Option<Vec<u64>> {
        let _ = (request, namespace);
        None
    }
    /// Accept an incoming announce.
    fn accept_announce(&mut self, shared: &mut Shared, request: RequestHandle) -> Result<(), CommandError>;
    /// Discover namespaces under a prefix.
    fn discover(&mut self, shared: &mut Shared, prefix: Namespace) -> Result<RequestHandle, CommandError>;
    /// Subscribe to a track.
    fn subscribe(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
        options: SubscribeOptions,
    ) -> Result<RequestHandle, CommandError>;
    /// Change a subscription we made.
    fn update_subscription(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        options: SubscribeOptions,
    ) -> Result<(), CommandError>;
    /// Accept a subscription made to us.
    fn accept_subscribe(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        info: TrackInfo,
    ) -> Result<(), CommandError>;
    /// Push a track to the peer (MOQT PUBLISH).
    fn publish(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
        info: TrackInfo,
    ) -> Result<RequestHandle, CommandError>;
    /// Accept a track the peer pushed.
    fn accept_publish(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        options: SubscribeOptions,
    ) -> Result<(), CommandError>;
    /// Reject any incoming request with a wire code and reason.
    fn reject(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        code: u64,
        reason: &str,
    ) -> Result<(), CommandError>;
    /// Reject an incoming request with retry advice and/or a redirect (MOQT); versions that
    /// cannot carry them refuse with `CommandError::Unsupported` when either is set.
    fn reject_with(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        rejection: Rejection,
    ) -> Result<(), CommandError>;
    /// Cancel/withdraw/stop any request we made (unsubscribe, withdraw announce, stop
    /// discovery, cancel fetch).
    fn cancel(&mut self, shared: &mut Shared, request: RequestHandle) -> Result<(), CommandError>;
    /// Open a subgroup (lite: a group) stream for a subscription made to us (or a track we
    /// publish); objects follow with `write_object`.
    fn open_subgroup(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        subgroup: u64,
        priority: Option<u8>,
    ) -> Result<StreamId, CommandError>;
    /// Write one object to an open subgroup stream.
    fn write_object(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        object: ObjectWrite,
    ) -> Result<(), CommandError>;
    /// Finish a subgroup stream (`end_of_group`: it held the group's last object).
    fn close_subgroup(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        end_of_group: bool,
    ) -> Result<(), CommandError>;
    /// Abandon an open subgroup stream: reset it with `code` and forget it (objects already
    /// handed to the transport may or may not arrive).
    fn reset_subgroup(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        code: u64,
    ) -> Result<(), CommandError>;
    /// Send one object as a datagram.
    fn send_datagram(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        object: ObjectWrite,
    ) -> Result<(), CommandError>;
    /// Report groups of a subscription made to us as not delivered (lite SUBSCRIBE_DROP;
    /// MOQT: nothing to send).
    fn drop_groups(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        first: u64,
        last: u64,
        code: u64,
    ) -> Result<(), CommandError>;
    /// End a subscription made to us or a track we publish (MOQT PUBLISH_DONE; lite FIN).
    fn end_subscription(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        code: u64,
        reason: &str,
    ) -> Result<(), CommandError>;
    /// Fetch a range of a track (lite: one whole group: `start.group`).
    fn fetch(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
        start: Location,
        end: Location,
        options: FetchOptions,
    ) -> Result<RequestHandle, CommandError>;
    /// A joining fetch tied to one of our subscriptions (MOQT only).
    fn joining_fetch(
        &mut self,
        shared: &mut Shared,
        subscription: RequestHandle,
        start: JoinStart,
        options: FetchOptions,
    ) -> Result<RequestHandle, CommandError>;
    /// Accept a fetch made to us; `end` is the exclusive end of what will be sent.
    fn accept_fetch(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        end: Location,
    ) -> Result<(), CommandError>;
    /// [`Engine::accept_fetch`] with the Track Properties of `info` in FETCH_OK (MOQT); an
    /// engine without track properties (moq-lite) ignores `info`.
    fn accept_fetch_with_info(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        end: Location,
        info: &TrackInfo,
    ) -> Result<(), CommandError> {
        let _ = info;
        self.accept_fetch(shared, request, end)
    }
    /// Write one object of an accepted fetch.
    fn write_fetch_object(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        subgroup: u64,
        object: ObjectWrite,
    ) -> Result<(), CommandError>;
    /// Mark a range of an accepted fetch as non-existent or unknown (MOQT End of Range).
    fn write_fetch_gap(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        through: Location,
        unknown: bool,
    ) -> Result<(), CommandError> {
        let _ = (shared, request, through, unknown);
        Err(CommandError::InvalidState("fetch gaps are a MOQT FETCH_HEADER feature"))
    }
    /// Finish an accepted fetch.
    fn finish_fetch(&mut self, shared: &mut Shared, request: RequestHandle) -> Result<(), CommandError>;
    /// Ask for a track's status (MOQT TRACK_STATUS).
    fn track_status(&mut self, shared: &mut Shared, track: TrackName) -> Result<RequestHandle, CommandError>;
    /// Tell the peer to move to `uri` (empty: reconnect) within `timeout`.
    fn goaway(
        &mut self,
        shared: &mut Shared,
        uri: Bytes,
        timeout: std::time::Duration,
    ) -> Result<(), CommandError>;
    /// Ask the peer to PUBLISH every track under `prefix` (MOQT SUBSCRIBE_TRACKS).
    /// Versions without it keep this default.
    /// Tell the peer that a track matching its track discovery will not be pushed to it
    /// (MOQT PUBLISH_BLOCKED).
    fn publish_blocked(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        track: TrackName,
    ) -> Result<(), CommandError> {
        let _ = (shared, request, track);
        Err(CommandError::InvalidState("publish_blocked answers a MOQT SUBSCRIBE_TRACKS"))
    }
    fn discover_tracks(
        &mut self,
        shared: &mut Shared,
        prefix: Namespace,
    ) -> Result<RequestHandle, CommandError> {
        let _ = (shared, prefix);
        Err(CommandError::InvalidState("discover_tracks needs MOQT SUBSCRIBE_TRACKS"))
    }
    fn accept_discovery(&mut self, shared: &mut Shared, request: RequestHandle) -> Result<(), CommandError> {
        let _ = (shared, request);
        Err(CommandError::InvalidState("accept_discovery answers a held MOQT namespace subscription"))
    }

    /// Accepts the peer's held REQUEST_UPDATEs of `request` (MOQT only).
    fn accept_update(&mut self, shared: &mut Shared, request: RequestHandle) -> Result<(), CommandError> {
        let _ = (shared, request);
        Err(CommandError::InvalidState("accept_update answers a held MOQT REQUEST_UPDATE"))
    }

    /// Refuses the peer's held REQUEST_UPDATEs of `request` (MOQT only).
    fn reject_update(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        code: u64,
        reason: &str,
    ) -> Result<(), CommandError> {
        let _ = (shared, request, code, reason);
        Err(CommandError::InvalidState("reject_update answers a held MOQT REQUEST_UPDATE"))
    }
}
