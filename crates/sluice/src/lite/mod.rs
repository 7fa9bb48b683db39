//! The moq-lite engine: drafts 04 and 05 (ALPNs `moq-lite-04`, `moq-lite-05`).
//!
//! [`LiteEngine`] implements [`Engine`] on top of the `sluice_wire::lite` codec. moq-lite has
//! no request ids and no control stream: every request is its own bidirectional stream
//! (lite-05 §Streams) and ends when that stream ends, and media flows on unidirectional
//! Group streams (and, in lite-05, datagrams). One module per concern:
//!
//! * [`streams`]: per-stream receive state, incremental decoders, and the input driver.
//! * [`setup`]: the lite-05 Setup streams (both directions) and `Event::Ready`.
//! * [`announce`]: our announced broadcasts, the peer's announce requests we answer, and
//!   our discoveries.
//! * [`subscribe`]: Subscribe streams in both directions.
//! * [`publish`]: Group streams and datagrams we send.
//! * [`groups`]: Group streams and datagrams we receive.
//! * [`fetch`]: Fetch streams in both directions.
//! * [`track`]: lite-05 Track streams (TRACK → TRACK_INFO) in both directions, behind
//!   `track_status` / `IncomingTrackStatus`.
//! * [`expiry`]: dropping groups older than max latency, publisher and subscriber side.
//! * [`goaway`]: Goaway streams; [`probe`]: answering Probe streams.
//! * [`priority`]: priority sense mapping and send orders; [`codes`]: reset/close codes.
//!
//! # Mapping onto the data model
//!
//! * A broadcast path is a [`Namespace`]: `Namespace::to_path` joins the fields with `/`
//!   (no leading slash), `Namespace::from_path` splits on `/` dropping empty segments. lite
//!   matches prefixes byte-wise (lite-05 §Announce: "byte-by-byte"), so as a *publisher* we
//!   answer an announce request for prefix `a` with `ab/c` too, as the draft says; as a
//!   *subscriber* (`discover`) we report only paths whose namespace starts with the prefix
//!   namespace field-wise, so `discover(["a"])` finds `a/x` but not `ab/c`.
//! * A frame is an object in subgroup 0 with ids consecutive from 0; a lite group is a group.
//! * Priorities: lite = 255 - MOQT (see [`priority`]).
//! * Filters: `NextGroup`/`LargestObject` → Group Start 0 (latest); `AbsoluteStart(l)` →
//!   start `l.group`; `AbsoluteRange` → start and inclusive end group. Incoming, start-less
//!   requests become `LargestObject` (an end group without a start cannot be expressed in
//!   the model and is dropped; it is the publisher's to enforce anyway).
//! * `group_order: None` is sent as descending (Ordered 0x0, the live default the draft
//!   recommends); incoming Ordered always gives `Some(..)`.
//! * `TrackInfo.largest` of `Event::Subscribed` carries the resolved start group of
//!   SUBSCRIBE_OK (lite has no "largest"); for a latest-group subscription that *is* the
//!   largest group. lite-05 SUBSCRIBE_OK has no publisher fields (they moved to TRACK_INFO):
//!   `Subscribed` takes them from the TRACK_INFO cache, or waits for a `track_status` of
//!   the track in flight; otherwise they are defaults (see [`track_info`]).
//! * Track info: MOQT's TRACK_STATUS flow is reused. `track_status` (lite-05) opens a Track
//!   stream and ends in `Event::TrackStatus`; the peer's TRACK is
//!   `Event::IncomingTrackStatus`, answered by `accept_subscribe` (TRACK_INFO) or `reject`.
//!   `TrackInfo::timescale` is the TRACK_INFO Timescale (units per second of frame
//!   timestamps; default 1000 = ms).
//!
//! # Hop IDs
//!
//! `Config::lite_hop_id` is our Hop ID (0 = unknown, the draft's reserved value; never
//! random). lite-05 sends it in ANNOUNCE_OK and an empty hop list per local broadcast; lite-04
//! sends `[hop id]` as the hop list when it is non-zero, else an empty list. An announce
//! request whose Exclude Hop equals our non-zero Hop ID gets no broadcasts (all of ours
//! contain it). Our own requests carry Exclude Hop = our Hop ID.
//!
//! # Time
//!
//! The engine keeps the latest `now` of `start`/`handle`/`handle_timeout`; commands carry no
//! time and use it. `poll_timeout` is the next group expiry ([`expiry`]) or the latest
//! moment a gracefully ending subscription may hold back its FIN
//! (`Config::lite_subscribe_end_wait`, see [`subscribe`]); nothing else in lite needs a
//! timer.
//!
//! # Accounting for every group
//!
//! lite-04/05 §Subscribe: the publisher FINs the Subscribe stream only once every group is
//! accounted for by a Group stream (completed or reset) or SUBSCRIBE_DROP. `drop_groups`
//! sends SUBSCRIBE_DROP; a graceful `end_subscription` defers the FIN until no Group stream
//! of the subscription is open or (when the adapter reports `Input::StreamAcked`)
//! unacknowledged, bounded by the config. As subscriber, Group streams still open when the
//! FIN arrives are read to their end before `SubscriptionEnded`.
//!
//! # What is not supported
//!
//! `publish`, `accept_publish`, `accept_announce` and `joining_fetch` have no lite
//! equivalent (lite is pull-only; lite-05 Appendix B) and return
//! [`CommandError::Unsupported`] (`accept_announce`: no incoming announce exists, so
//! `UnknownRequest`); so does `track_status` on lite-04 (no Track stream there).
//! moq-lite has no authorization-token field: [`crate::Authorized`] commands with tokens
//! return [`CommandError::Unsupported`] ("authorization tokens"), and no
//! `Event::Authorization` is ever emitted. Reserved MOQT namespaces (`.`, `.session`)
//! mean nothing to lite: paths are passed through.
//! `forward: false` is refused (lite has no paused subscriptions). Object properties and
//! status objects are refused. Probe: we only answer (Report level, with the adapter's
//! [`Input::PathEstimate`] values, when `Config::lite_probe` is set; otherwise Probe
//! streams are reset with [`codes::UNSUPPORTED`] as level None requires); we never open a
//! Probe stream and never pad (no Increase level). TRACK_INFO is cached per session and
//! dropped on re-announcement ([`track_info`]); the engine never opens a Track stream by
//! itself. The subscriber side of
//! expiry uses wall-clock age only. The GOAWAY timeout has no lite field and is ignored.
//!
//! # Terminal events
//!
//! Events report what the *peer* did. A request ended by our own command (`cancel`,
//! `reject`, `end_subscription`, `finish_fetch`) emits no event: the caller already knows.
//!
//! # Limits
//!
//! * `max_peer_streams`: a peer stream beyond it is reset (STOP_SENDING, and RESET_STREAM
//!   for bidi) with [`codes::LIMIT_EXCEEDED`] and never tracked.
//! * `max_inbound_requests` (Announce, Subscribe, Fetch, Track streams the peer opened),
//!   `max_namespace_subscriptions` (Announce streams), `max_subscriptions` (both
//!   directions; our own `subscribe` returns `CommandError::Limit`): reset
//!   [`codes::LIMIT_EXCEEDED`].
//! * `max_unidentified_bytes`: bytes buffered before a stream's type (and, for a Group
//!   stream, its GROUP header) is read; reset [`codes::LIMIT_EXCEEDED`].
//! * `max_stream_buffer`: bytes buffered on one stream beyond the frame being received;
//!   reset [`codes::LIMIT_EXCEEDED`]. A frame payload may be buffered whole up to
//!   `max_object_size`; a larger FRAME resets the stream with [`codes::FRAME_TOO_LARGE`].
//! * `max_session_buffer`: bytes buffered across all tracked streams; the stream whose bytes
//!   would pass it is reset [`codes::LIMIT_EXCEEDED`].
//! * `max_discovered_namespaces`: paths active on one discovery; reset
//!   [`codes::LIMIT_EXCEEDED`] and `DiscoveryEnded`.
//! * Malformed bytes on any stream close the session with [`codes::PROTOCOL_VIOLATION`];
//!   an unknown stream type resets that stream ([`codes::UNKNOWN_STREAM`]), never fatal.

pub mod announce;
pub mod codes;
pub mod expiry;
pub mod fetch;
pub mod goaway;
pub mod groups;
pub mod priority;
pub mod probe;
pub mod publish;
pub mod setup;
pub mod streams;
pub mod subscribe;
pub mod track;
pub mod track_info;

use std::collections::BTreeMap;

use crate::hash::IdMap;

use bytes::Bytes;
use sluice_wire::{Encode, LiteVersion};

use crate::engine::{Engine, FetchOptions, JoinStart, ObjectWrite, Shared};
use crate::error::CommandError;
use crate::ids::{RequestHandle, StreamId};
use crate::io::{Input, Output, SendOrder};
use crate::model::{Location, Namespace, SubscribeOptions, TrackInfo, TrackName};
use crate::time::Time;

use self::streams::{State, Stream};

/// Streams the received-stream table holds without growing: the hot entry plus this many
/// (a session's setup and announce streams, a few requests and the Group streams in flight).
const STREAMS_CAPACITY: usize = 7;

/// The moq-lite engine. See the module docs.
#[derive(Debug)]
pub struct LiteEngine {
    pub(crate) version: LiteVersion,
    /// Every stream with a receive side we track.
    pub(crate) streams: streams::Streams,
    /// lite-05: the peer's SETUP arrived.
    pub(crate) setup_received: bool,
    /// Broadcast paths we announce.
    pub(crate) announces: BTreeMap<RequestHandle, String>,
    /// Hop paths of the broadcasts we relay (`announce_relayed`), by path.
    pub(crate) relayed_hops: BTreeMap<String, Vec<u64>>,
    /// Peer announce requests we answer, by stream.
    pub(crate) responders: BTreeMap<StreamId, announce::Responder>,
    /// Our discoveries.
    pub(crate) discoveries: BTreeMap<RequestHandle, announce::Discovery>,
    /// Our subscriptions.
    pub(crate) subs_out: subscribe::SubsOut,
    /// Subscribe ID → our subscription, to route Group streams and datagrams.
    pub(crate) sub_ids: BTreeMap<u64, RequestHandle>,
    pub(crate) next_subscribe_id: u64,
    /// Subscriptions the peer made to us. A hash map of boxes: a B-tree leaf has room for
    /// 11 entries, so inline ~190-byte values made a session's first subscription cost a
    /// 2 KiB node (nothing depends on their order).
    pub(crate) subs_in: IdMap<RequestHandle, Box<subscribe::SubIn>>,
    /// Group streams we write.
    pub(crate) writers: publish::Writers,
    /// Group streams we finished whose bytes the adapter has not yet reported acknowledged
    /// (only tracked once `acks_reported`), → their subscription: an ending subscription's
    /// FIN waits for them.
    pub(crate) unacked: IdMap<StreamId, RequestHandle>,
    /// The adapter has reported an `Input::StreamAcked`: it reports acks, so a finished
    /// Group stream counts as accounted for only once acknowledged.
    pub(crate) acks_reported: bool,
    /// Our fetches → their stream.
    pub(crate) fetch_out: BTreeMap<RequestHandle, StreamId>,
    /// Fetches the peer made to us.
    pub(crate) fetch_in: BTreeMap<RequestHandle, fetch::FetchIn>,
    /// Our Goaway stream, once sent.
    pub(crate) goaway_sent: bool,
    /// The peer sent GOAWAY: we open no new request streams.
    pub(crate) goaway_received: bool,
    /// Bytes buffered across the streams in `streams`.
    pub(crate) buffered: usize,
    /// lite-05: our Track-stream requests (`track_status`) → their stream.
    pub(crate) track_out: BTreeMap<RequestHandle, StreamId>,
    /// lite-05: the peer's Track-stream requests awaiting our answer → their stream.
    pub(crate) track_in: BTreeMap<RequestHandle, StreamId>,
    /// lite-05: TRACK_INFO per track and our own lookups for subscriptions (see [`track_info`]).
    pub(crate) track_infos: track_info::TrackInfos,
    /// The adapter's latest path estimate, reported on Probe streams.
    pub(crate) estimate: sluice_wire::lite::probe::Probe,
    /// The latest time the session told us (inputs and timers): commands carry no time,
    /// so they use this.
    pub(crate) now: Time,
}

impl LiteEngine {
    /// A new engine for `version`.
    pub fn new(version: LiteVersion) -> Self {
        LiteEngine {
            version,
            // Room for the streams of a session with a few requests (setup, announce
            // interest, a subscription or two) without growing while it serves them.
            streams: streams::Streams::with_capacity(STREAMS_CAPACITY),
            setup_received: false,
            announces: BTreeMap::new(),
            relayed_hops: BTreeMap::new(),
            responders: BTreeMap::new(),
            discoveries: BTreeMap::new(),
            subs_out: subscribe::SubsOut::default(),
            sub_ids: BTreeMap::new(),
            next_subscribe_id: 0,
            subs_in: IdMap::default(),
            writers: publish::Writers::default(),
            unacked: IdMap::default(),
            acks_reported: false,
            fetch_out: BTreeMap::new(),
            fetch_in: BTreeMap::new(),
            goaway_sent: false,
            goaway_received: false,
            buffered: 0,
            track_out: BTreeMap::new(),
            track_in: BTreeMap::new(),
            track_infos: track_info::TrackInfos::default(),
            estimate: sluice_wire::lite::probe::Probe { bitrate: 0, rtt: 0 },
            now: Time::ZERO,
        }
    }

    pub(crate) fn unsupported(&self, what: &'static str) -> CommandError {
        CommandError::Unsupported { what, version: self.version.into() }
    }

    /// Encodes a value of this version into a fresh buffer.
    pub(crate) fn encode<T: Encode<Version = LiteVersion>>(
        &self,
        value: &T,
    ) -> Result<Vec<u8>, CommandError> {
        Ok(value.encode_to_vec(self.version)?)
    }

    /// Opens a bidirectional stream of kind `kind` carrying `first` (already encoded, after
    /// the STREAM_TYPE) and tracks its receive side with `state`.
    pub(crate) fn open_bidi(
        &mut self,
        shared: &mut Shared,
        kind: sluice_wire::lite::stream::BidiStreamType,
        first: Vec<u8>,
        order: SendOrder,
        state: State,
    ) -> Result<StreamId, CommandError> {
        let mut header = self.encode(&kind)?;
        header.extend_from_slice(&first);
        let stream = shared.next_stream();
        shared.push(Output::OpenStream { stream, bidi: true, order });
        shared.push(Output::Write {
            stream,
            header: Bytes::from(header).into(),
            payload: Bytes::new(),
            fin: false,
        });
        self.streams.insert(stream, Stream::local(state));
        Ok(stream)
    }

    /// Refuses to open request streams once the peer sent GOAWAY (lite-05 §Goaway: "MUST NOT
    /// open new streams").
    pub(crate) fn check_no_goaway(&self) -> Result<(), CommandError> {
        if self.goaway_received { Err(CommandError::InvalidState("the peer sent GOAWAY")) } else { Ok(()) }
    }

    /// Writes encoded bytes to a stream.
    pub(crate) fn write(shared: &mut Shared, stream: StreamId, header: Vec<u8>, fin: bool) {
        shared.push(Output::Write { stream, header: Bytes::from(header).into(), payload: Bytes::new(), fin });
    }
}

impl Engine for LiteEngine {
    fn start(&mut self, shared: &mut Shared, now: Time) {
        self.now = now;
        self.start_setup(shared);
    }

    fn handle(&mut self, shared: &mut Shared, now: Time, input: Input) {
        self.now = self.now.max(now);
        match input {
            Input::PathEstimate { bitrate, rtt } => self.on_path_estimate(shared, bitrate, rtt),
            Input::Connected { .. } | Input::Closed { .. } | Input::Writable { .. } => {}
            Input::StreamAcked { stream } => self.on_stream_acked(shared, stream),
            Input::StreamOpened { stream, bidi } => self.on_opened(shared, stream, bidi),
            Input::StreamData { stream, data } => self.on_data(shared, stream, data),
            Input::StreamFinished { stream } => self.on_fin(shared, stream),
            Input::StreamReset { stream, code } => self.on_reset(shared, stream, code),
            Input::StopSending { stream, code } => self.on_stop_sending(shared, stream, code),
            Input::StreamOpenResult { stream, opened } => {
                if !opened {
                    self.on_stop_sending(shared, stream, codes::CANCELLED);
                }
            }
            Input::Datagram(data) => self.on_datagram(shared, data),
        }
    }

    fn handle_timeout(&mut self, shared: &mut Shared, now: Time) {
        self.now = self.now.max(now);
        self.expire_groups(shared);
        self.finish_overdue_ends(shared);
    }

    fn poll_timeout(&self) -> Option<Time> {
        match (self.next_expiry(), self.next_end_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn clear(&mut self) {
        self.buffered = 0;
        self.streams.clear();
        self.announces.clear();
        self.relayed_hops.clear();
        self.responders.clear();
        self.discoveries.clear();
        self.subs_out.clear();
        self.sub_ids.clear();
        self.subs_in.clear();
        self.writers.clear();
        self.unacked.clear();
        self.fetch_out.clear();
        self.fetch_in.clear();
        self.track_out.clear();
        self.track_in.clear();
        self.track_infos.clear();
    }

    fn buffered_bytes(&self) -> usize {
        self.streams.values().map(|s| s.buf.len()).sum()
    }

    fn table_sizes(&self) -> usize {
        self.streams.len()
            + self.announces.len()
            + self.relayed_hops.len()
            + self.responders.len()
            + self.discoveries.len()
            + self.subs_out.len()
            + self.sub_ids.len()
            + self.subs_in.len()
            + self.writers.len()
            + self.unacked.len()
            + self.fetch_out.len()
            + self.fetch_in.len()
            + self.track_out.len()
            + self.track_in.len()
            + self.track_infos.len()
    }

    fn announce(&mut self, shared: &mut Shared, namespace: Namespace) -> Result<RequestHandle, CommandError> {
        self.announce_path(shared, namespace)
    }

    fn announce_relayed(
        &mut self,
        shared: &mut Shared,
        namespace: Namespace,
        hops: Vec<u64>,
    ) -> Result<RequestHandle, CommandError> {
        self.announce_relayed_path(shared, namespace, hops)
    }

    fn discovered_hops(&self, request: RequestHandle, namespace: &Namespace) -> Option<Vec<u64>> {
        self.hops_found(request, namespace)
    }

    fn accept_announce(&mut self, _shared: &mut Shared, request: RequestHandle) -> Result<(), CommandError> {
        Err(CommandError::UnknownRequest(request))
    }

    fn discover(&mut self, shared: &mut Shared, prefix: Namespace) -> Result<RequestHandle, CommandError> {
        self.start_discovery(shared, prefix)
    }

    fn subscribe(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
        options: SubscribeOptions,
    ) -> Result<RequestHandle, CommandError> {
        self.start_subscription(shared, track, options)
    }

    fn update_subscription(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        options: SubscribeOptions,
    ) -> Result<(), CommandError> {
        self.send_update(shared, request, options)
    }

    fn accept_subscribe(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        info: TrackInfo,
    ) -> Result<(), CommandError> {
        if self.track_in.contains_key(&request) {
            return self.answer_track(shared, request, info);
        }
        self.accept_incoming_subscription(shared, request, info)
    }

    fn publish(
        &mut self,
        _shared: &mut Shared,
        _track: TrackName,
        _info: TrackInfo,
    ) -> Result<RequestHandle, CommandError> {
        Err(self.unsupported("publish"))
    }

    fn accept_publish(
        &mut self,
        _shared: &mut Shared,
        _request: RequestHandle,
        _options: SubscribeOptions,
    ) -> Result<(), CommandError> {
        Err(self.unsupported("accept_publish"))
    }

    fn reject_with(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        rejection: crate::model::Rejection,
    ) -> Result<(), CommandError> {
        if rejection.retry_after.is_some() || rejection.redirect.is_some() {
            return Err(CommandError::Unsupported {
                what: "retry interval / redirect",
                version: self.version.into(),
            });
        }
        self.reject(shared, request, rejection.code, &rejection.reason)
    }

    fn reject(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        code: u64,
        _reason: &str,
    ) -> Result<(), CommandError> {
        if let Some(sub) = self.subs_in.remove(&request) {
            self.drop_writers_of(shared, request);
            self.forget_unacked(request);
            self.abort_stream(shared, sub.stream, code);
            return Ok(());
        }
        if let Some(fetch) = self.fetch_in.remove(&request) {
            self.abort_stream(shared, fetch.stream, code);
            return Ok(());
        }
        if let Some(stream) = self.track_in.remove(&request) {
            self.abort_stream(shared, stream, code);
            return Ok(());
        }
        Err(CommandError::UnknownRequest(request))
    }

    fn cancel(&mut self, shared: &mut Shared, request: RequestHandle) -> Result<(), CommandError> {
        if let Some(sub) = self.subs_out.remove(&request) {
            self.sub_ids.remove(&sub.id);
            self.abort_stream(shared, sub.stream, codes::CANCELLED);
            return Ok(());
        }
        if let Some(d) = self.discoveries.remove(&request) {
            self.abort_stream(shared, d.stream, codes::CANCELLED);
            return Ok(());
        }
        if let Some(stream) = self.fetch_out.remove(&request) {
            self.abort_stream(shared, stream, codes::CANCELLED);
            return Ok(());
        }
        if let Some(stream) = self.track_out.remove(&request) {
            self.lookup_answered(shared, request, None);
            self.abort_stream(shared, stream, codes::CANCELLED);
            return Ok(());
        }
        if self.announces.contains_key(&request) {
            self.withdraw(shared, request);
            return Ok(());
        }
        Err(CommandError::UnknownRequest(request))
    }

    fn open_subgroup(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        subgroup: u64,
        priority: Option<u8>,
    ) -> Result<StreamId, CommandError> {
        self.open_group(shared, request, group, subgroup, priority)
    }

    fn write_object(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        self.write_frame(shared, stream, object)
    }

    fn close_subgroup(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        _end_of_group: bool,
    ) -> Result<(), CommandError> {
        self.close_group(shared, stream)
    }

    fn reset_subgroup(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        code: u64,
    ) -> Result<(), CommandError> {
        let w = self.writers.remove(&stream).ok_or(CommandError::UnknownStream(stream))?;
        shared.push(crate::io::Output::Reset { stream, code });
        self.finish_end_if_done(shared, w.request);
        Ok(())
    }

    fn send_datagram(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        self.send_group_datagram(shared, request, group, object)
    }

    fn drop_groups(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        first: u64,
        last: u64,
        code: u64,
    ) -> Result<(), CommandError> {
        self.drop_incoming_groups(shared, request, first, last, code)
    }

    fn end_subscription(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        code: u64,
        _reason: &str,
    ) -> Result<(), CommandError> {
        self.end_incoming_subscription(shared, request, code)
    }

    fn fetch(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
        start: Location,
        _end: Location,
        options: FetchOptions,
    ) -> Result<RequestHandle, CommandError> {
        if options.fill_timeout_ms.is_some() {
            // lite FETCH has no FILL_TIMEOUT field.
            return Err(self.unsupported("fetch FILL_TIMEOUT"));
        }
        self.start_fetch(shared, track, start, options.priority)
    }

    fn joining_fetch(
        &mut self,
        _shared: &mut Shared,
        _subscription: RequestHandle,
        _start: JoinStart,
        _options: FetchOptions,
    ) -> Result<RequestHandle, CommandError> {
        Err(self.unsupported("joining_fetch"))
    }

    fn accept_fetch(
        &mut self,
        _shared: &mut Shared,
        request: RequestHandle,
        _end: Location,
    ) -> Result<(), CommandError> {
        let fetch = self.fetch_in.get_mut(&request).ok_or(CommandError::UnknownRequest(request))?;
        if fetch.accepted {
            return Err(CommandError::InvalidState("fetch already accepted"));
        }
        fetch.accepted = true;
        Ok(())
    }

    fn write_fetch_object(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        subgroup: u64,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        self.write_fetch_frame(shared, request, group, subgroup, object)
    }

    fn finish_fetch(&mut self, shared: &mut Shared, request: RequestHandle) -> Result<(), CommandError> {
        self.finish_incoming_fetch(shared, request)
    }

    fn track_status(&mut self, shared: &mut Shared, track: TrackName) -> Result<RequestHandle, CommandError> {
        self.request_track_info(shared, track)
    }

    fn goaway(
        &mut self,
        shared: &mut Shared,
        uri: Bytes,
        _timeout: std::time::Duration,
    ) -> Result<(), CommandError> {
        self.send_goaway(shared, uri)
    }
}
