//! The MOQT draft-18 engine: one uni control stream each way carrying SETUP then GOAWAY,
//! one bidi stream per request, uni data streams and datagrams for objects (draft-18 §3).
//!
//! The engine is split by responsibility; every file adds an `impl MoqtEngine` block:
//!
//! * `auth`: the authorization-token alias caches (§10.2.2): the peer's, and ours as the
//!   peer holds it (tokens we send come from [`crate::Authorized`]; the peer's reach the
//!   application as `Event::Authorization`).
//! * `control`: the uni control streams, SETUP exchange, GOAWAY (§3.3.1, §10.3, §10.4).
//! * `requests`: request-ID allocation and checks (§9), the per-request bidi stream
//!   (first message, FIN / RESET / STOP_SENDING meanings, §3.3.2 "Request Cancellation").
//! * `subscribe`: SUBSCRIBE / SUBSCRIBE_OK / REQUEST_UPDATE / PUBLISH_DONE and PUBLISH,
//!   in both directions, with publisher-chosen track aliases (§5, §10.7–§10.11).
//! * `update`: REQUEST_UPDATE on the peer's FETCH and namespace requests (§10.6).
//! * `namespace`: PUBLISH_NAMESPACE, SUBSCRIBE_NAMESPACE → NAMESPACE / NAMESPACE_DONE (§6).
//! * [`uri`]: `moqt://` URIs → PATH / AUTHORITY, and the RFC 3986 checks of both.
//! * `fetch`: FETCH / FETCH_OK and FETCH_HEADER streams (§10.12, §11.4).
//! * `data`: subgroup streams and datagrams in and out, unknown-alias buffering (§11).
//! * `priority`: the send order of a stream from the draft's priority rules (§7).
//! * `timeouts`: OBJECT_ / SUBGROUP_DELIVERY_TIMEOUT on the subgroup streams we write, and
//!   the subscriber's PUBLISH_DONE grace period (§"Delivery Timeouts and Data Reliability").
//! * `malformed`: subscriber-side malformed-track checks and the cancellation they cause
//!   (§"Malformed Tracks").
//! * `track_props`: value-range and Mandatory Track Property checks on received Track
//!   Properties (§2.5.1, §13).
//! * `reserved`: the `.` and `.session` reserved namespaces (§"Reserved Namespaces").
//! * `state`: the tables (requests, streams) these share.
//!
//! Peer misbehaviour closes the session with the draft's code through `MoqtEngine::fail`;
//! afterwards `clear` empties every table.
//!
//! # Limits (`Config`) and what hitting them does
//!
//! | limit | answer |
//! |---|---|
//! | `max_inbound_requests` | REQUEST_ERROR EXCESSIVE_LOAD + FIN (the Request ID is consumed) |
//! | `max_subscriptions` (both directions) | peer: REQUEST_ERROR EXCESSIVE_LOAD; ours: `CommandError::Limit` |
//! | `max_namespace_subscriptions` | REQUEST_ERROR EXCESSIVE_LOAD |
//! | `max_peer_streams` | STOP_SENDING (and RESET for bidi) EXCESSIVE_LOAD |
//! | `max_stream_buffer`, `max_session_buffer` | data stream: STOP_SENDING EXCESSIVE_LOAD; control or request stream: close PROTOCOL_VIOLATION (its messages cannot be skipped) |
//! | `max_unidentified_bytes` | STOP_SENDING EXCESSIVE_LOAD |
//! | `max_unknown_alias_bytes` | STOP_SENDING EXCESSIVE_LOAD on the stream that crosses it |
//! | `unknown_alias_timeout` | STOP_SENDING CANCELLED; also the PUBLISH_DONE grace period |
//! | `max_object_size` | STOP_SENDING EXCESSIVE_LOAD |
//! | `max_auth_token_cache` | close AUTH_TOKEN_CACHE_OVERFLOW (see `auth`) |
//! | `max_discovered_namespaces` | namespaces active on our SUBSCRIBE_NAMESPACE: one more cancels it (RESET + STOP_SENDING EXCESSIVE_LOAD, `DiscoveryEnded`) |
//! | `max_track_check_entries` | the lowest groups are forgotten by the malformed-track checks |
//! | `max_forwarding_runs` | the oldest runs are forgotten by the forwarding-preference check of a subscription we publish |
//!
//! Not implemented: AUTHORIZATION_TOKENs in our SETUP (they go only with requests); delivery timeouts on fetch streams and
//! datagrams (the core hands both to the adapter at once, so it never holds one to expire)
//! and on bytes the transport already holds (see `timeouts` for what a sans-IO core can
//! know); our own SUBGROUP_DELIVERY_TIMEOUT as a subscriber parameter or track property
//! (the model has no field: a local publisher sets it per subgroup with an object
//! property); malformed-track conditions 6 and 7 (see `malformed`).

mod auth;
mod control;
mod data;
mod fetch;
mod forwarding;
mod held_update;
mod malformed;
mod namespace;
mod object_props;
mod priority;
mod published;
mod requests;
mod reserved;
mod state;
mod subscribe;
mod timeouts;
mod track_props;
mod update;
pub mod uri;

use std::collections::{HashMap, HashSet};

use crate::hash::IdMap;
use crate::hot_map::HotMap;

use bytes::Bytes;
use sluice_wire::moqt::codes::{SessionErrorCode, session_code};
use sluice_wire::{DecodeError, MoqtVersion, Violation};

use crate::engine::{Engine, FetchOptions, JoinStart, ObjectWrite, Shared};
use crate::error::CommandError;
use crate::ids::{RequestHandle, StreamId};
use crate::io::Input;
use crate::model::{Location, Namespace, SubscribeOptions, TrackInfo, TrackName};
use crate::time::Time;

use state::InStream;

/// The MOQT engine. See the module docs.
#[derive(Debug)]
pub struct MoqtEngine {
    version: MoqtVersion,
    now: Time,
    /// Our uni control stream.
    control_out: Option<StreamId>,
    /// The peer's uni control stream, once identified.
    control_in: Option<StreamId>,
    /// The peer's SETUP arrived (requests and data are processed only after it).
    peer_ready: bool,
    /// Receive state of every stream the peer opened, and of our bidi request streams; the
    /// newest beside the map (objects arrive on the newest subgroup stream: one compare per
    /// chunk instead of a hash lookup).
    streams: HotMap<InStream>,
    /// Every live request, both directions.
    requests: state::Requests,
    /// Bidi request stream → request.
    by_stream: IdMap<StreamId, RequestHandle>,
    /// (outbound, wire Request ID) → request.
    by_wire_id: HashMap<(bool, u64), RequestHandle>,
    /// Our next Request ID (client even from 0, server odd from 1).
    next_request_id: u64,
    /// Peer Request IDs: every ID below `peer_id_floor` (of the peer's parity) is used;
    /// `peer_ids_above` holds used ones above it (out-of-order arrival).
    peer_id_floor: u64,
    peer_ids_above: HashSet<u64>,
    /// The peer sent GOAWAY on its control stream (a second one is a violation).
    peer_sent_goaway: bool,
    /// Track aliases we chose (for subscriptions made to us and our PUBLISHes).
    next_alias: u64,
    /// Track alias the peer chose → our subscription / accepted incoming publish.
    aliases_in: state::Aliases,
    /// Data streams we opened.
    data_out: state::OutStreams,
    /// Subgroup streams we finished whose delivery is still timed (see `timeouts`).
    closing: IdMap<StreamId, state::Closing>,
    /// Namespaces we announced, by the announce's handle.
    announced: IdMap<RequestHandle, Namespace>,
    /// GOAWAY: when we close with GOAWAY_TIMEOUT if the peer has not.
    goaway_deadline: Option<Time>,
    /// We sent or received GOAWAY: new peer requests are refused with GOING_AWAY.
    going_away: bool,
    /// The peer's registered authorization-token aliases.
    tokens: auth::TokenCache,
    /// Tokens of the peer message being processed, for `Event::Authorization`.
    presented: Vec<crate::event::PresentedToken>,
    /// Our registrations as the peer's cache holds them.
    sent_tokens: auth::SentTokens,
    /// The peer's MAX_AUTH_TOKEN_CACHE_SIZE (the draft's default 0 until its SETUP).
    peer_token_cache: u64,
    /// An upper bound of the bytes buffered across receive streams: raised by every
    /// received chunk, never lowered by consumption, and replaced by the exact sum only
    /// when it passes `max_session_buffer` (see `handle_data`), so the session limit is
    /// checked without summing every stream per chunk.
    buffered_bound: usize,
    /// The largest Location written per track by ended requests (LARGEST_OBJECT); bounded
    /// by pruning (see `published`), so not counted in `table_sizes`.
    published: published::Published,
}

impl MoqtEngine {
    /// A new engine for `version`.
    pub fn new(version: MoqtVersion) -> Self {
        MoqtEngine {
            version,
            now: Time::ZERO,
            control_out: None,
            control_in: None,
            peer_ready: false,
            streams: HotMap::default(),
            requests: state::Requests::default(),
            by_stream: IdMap::default(),
            by_wire_id: HashMap::new(),
            next_request_id: 0,
            peer_id_floor: 0,
            peer_ids_above: HashSet::new(),
            peer_sent_goaway: false,
            next_alias: 0,
            aliases_in: state::Aliases::default(),
            data_out: state::OutStreams::default(),
            closing: IdMap::default(),
            announced: IdMap::default(),
            goaway_deadline: None,
            going_away: false,
            tokens: auth::TokenCache::default(),
            presented: Vec::new(),
            sent_tokens: auth::SentTokens::default(),
            peer_token_cache: 0,
            buffered_bound: 0,
            published: published::Published::default(),
        }
    }

    /// Closes the session with `code` (a peer violation, or a limit the draft closes on).
    fn fail(&mut self, shared: &mut Shared, code: SessionErrorCode, reason: &str) {
        shared.close(code.0, reason, false);
        self.clear();
    }

    /// Closes the session for a decode violation, with the code the draft gives it.
    fn fail_violation(&mut self, shared: &mut Shared, v: &Violation) {
        let reason = v.to_string();
        self.fail(shared, session_code(v), &reason);
    }

    /// Closes the session for a decode error that is not `Incomplete`.
    fn fail_decode(&mut self, shared: &mut Shared, e: &DecodeError) {
        match e {
            DecodeError::Incomplete => {}
            DecodeError::Invalid(v) => self.fail_violation(shared, v),
        }
    }

    /// Applies the peer's tokens to the alias cache; false (after closing) on a violation.
    fn apply_tokens<'a>(
        &mut self,
        shared: &mut Shared,
        tokens: impl Iterator<Item = &'a sluice_wire::moqt::token::Token>,
        in_setup: bool,
    ) -> bool {
        let limit = shared.config.max_auth_token_cache;
        self.presented.clear();
        for t in tokens {
            // §10.2.2: a client's SETUP may only carry values or registrations.
            if in_setup
                && shared.role == crate::session::Role::Server
                && matches!(
                    t,
                    sluice_wire::moqt::token::Token::Delete { .. }
                        | sluice_wire::moqt::token::Token::UseAlias { .. }
                )
            {
                self.fail(shared, SessionErrorCode::PROTOCOL_VIOLATION, "DELETE or USE_ALIAS in SETUP");
                return false;
            }
            match self.tokens.apply(t, limit, in_setup) {
                Ok(Some(p)) => self.presented.push(p),
                Ok(None) => {}
                Err(code) => {
                    self.fail(shared, code, "authorization token alias");
                    return false;
                }
            }
        }
        true
    }

    /// Reports the tokens of the peer message just applied as `Event::Authorization` for
    /// `request` (nothing when it carried none).
    fn present_tokens(&mut self, shared: &mut Shared, request: RequestHandle) {
        if !self.presented.is_empty() {
            let tokens = std::mem::take(&mut self.presented);
            shared.event(crate::event::Event::Authorization { request, tokens });
        }
    }

    /// The tokens staged for the command being run (`Shared::auth_tokens`), checked against
    /// the peer's cache for a message on `stream` (`None`: a new request stream).
    fn staged_tokens(
        &self,
        shared: &mut Shared,
        stream: Option<StreamId>,
    ) -> Result<auth::Checked, CommandError> {
        let tokens = std::mem::take(&mut shared.auth_tokens);
        self.sent_tokens.check(tokens, stream, self.peer_token_cache)
    }

    /// `params` with the checked tokens added as AUTHORIZATION_TOKEN parameters, in the
    /// ascending type order the wire needs.
    fn with_tokens(
        params: sluice_wire::moqt::params::Parameters,
        checked: &auth::Checked,
    ) -> sluice_wire::moqt::params::Parameters {
        if checked.tokens().is_empty() {
            return params;
        }
        let mut all = params.0;
        all.extend(
            checked.tokens().iter().cloned().map(sluice_wire::moqt::params::Parameter::AuthorizationToken),
        );
        all.sort_by_key(|p| p.kind());
        sluice_wire::moqt::params::Parameters(all)
    }

    /// Bytes buffered across all receive streams.
    fn buffered(&self) -> usize {
        self.streams.values().map(InStream::buffered).sum()
    }

    fn handle_stream_opened(&mut self, shared: &mut Shared, stream: StreamId, bidi: bool) {
        if self.streams.contains_key(&stream) {
            return;
        }
        if self.streams.len() >= shared.config.max_peer_streams {
            let code = sluice_wire::moqt::codes::StreamResetCode::EXCESSIVE_LOAD.0;
            shared.push(crate::io::Output::StopSending { stream, code });
            if bidi {
                shared.push(crate::io::Output::Reset { stream, code });
            }
            return;
        }
        let state = if bidi { InStream::request_in() } else { InStream::unidentified() };
        self.streams.insert(stream, state);
    }

    fn handle_data(&mut self, shared: &mut Shared, stream: StreamId, data: &mut Bytes) {
        let len = data.len();
        let Some(s) = self.streams.get_mut(&stream) else { return };
        let (stream_len, subgroup) = match s {
            InStream::Discard => return,
            // The object path, without the generic dispatch.
            InStream::Subgroup(sg) => {
                let bound = self.buffered_bound.saturating_add(len);
                if bound <= shared.config.max_session_buffer
                    && sg.buf.len().saturating_add(len) <= shared.config.max_stream_buffer
                {
                    // Within both limits (what the checks below find once the chunk is
                    // buffered): deliver with the entry in hand instead of looking the
                    // stream up again. (`handle` returned already if the session is closed.)
                    self.buffered_bound = bound;
                    // An object pending: the chunk may be its payload, else it may start a
                    // header (each function finds nothing to do in the other case).
                    let used = if sg.pending.is_some() {
                        match data::lone_payload(sg, data, &mut self.requests, shared) {
                            Some(stop) => return self.subgroup_stopped(shared, stream, stop),
                            None => 0,
                        }
                    } else {
                        match data::lone_header(sg, data, shared.config.max_object_size) {
                            Some(used) => used,
                            None => return,
                        }
                    };
                    let mut data = std::mem::take(data);
                    if used > 0 {
                        bytes::Buf::advance(&mut data, used);
                    }
                    sg.buf.push(data);
                    let stop = data::deliver_subgroup(sg, &mut self.requests, shared);
                    self.subgroup_stopped(shared, stream, stop);
                    return;
                }
                sg.buf.push(std::mem::take(data));
                (sg.buf.len(), true)
            }
            other => {
                other.push(std::mem::take(data));
                (other.buffered(), false)
            }
        };
        self.buffered_bound = self.buffered_bound.saturating_add(len);
        if self.buffered_bound > shared.config.max_session_buffer {
            // Bytes only enter buffers here, so the exact sum is at most the bound.
            self.buffered_bound = self.buffered();
        }
        if stream_len > shared.config.max_stream_buffer
            || self.buffered_bound > shared.config.max_session_buffer
        {
            self.over_buffer(shared, stream);
            return;
        }
        if subgroup {
            // The object path: skip `process_stream`'s dispatch lookup.
            self.process_subgroup(shared, stream);
        } else {
            self.process_stream(shared, stream);
        }
    }

    /// A receive stream holds more than the Config allows: control and request streams
    /// close the session (their messages cannot be skipped), data streams are stopped.
    fn over_buffer(&mut self, shared: &mut Shared, stream: StreamId) {
        let kind = self.streams.get(&stream).map(InStream::is_data_like);
        match kind {
            Some(true) => self.stop_data_stream(
                shared,
                stream,
                sluice_wire::moqt::codes::StreamResetCode::EXCESSIVE_LOAD.0,
            ),
            Some(false) => {
                self.fail(shared, SessionErrorCode::PROTOCOL_VIOLATION, "stream buffer limit exceeded")
            }
            None => {}
        }
    }

    /// Decodes whatever the stream's buffer now allows.
    fn process_stream(&mut self, shared: &mut Shared, stream: StreamId) {
        let Some(s) = self.streams.get(&stream) else { return };
        match s {
            InStream::Unidentified { .. } => self.identify_uni(shared, stream),
            InStream::Control { .. } => self.process_control(shared, stream),
            InStream::Request { .. } => self.process_request_stream(shared, stream),
            InStream::Subgroup(_) => self.process_subgroup(shared, stream),
            InStream::Fetch(_) => self.process_fetch_stream(shared, stream),
            InStream::Discard => {}
        }
    }

    /// After the peer's SETUP: process everything that was buffered.
    fn process_all(&mut self, shared: &mut Shared) {
        let mut ids: Vec<StreamId> = self.streams.keys().copied().collect();
        ids.sort();
        for id in ids {
            if shared.closed {
                return;
            }
            self.process_stream(shared, id);
        }
    }

    fn handle_finished(&mut self, shared: &mut Shared, stream: StreamId) {
        if Some(stream) == self.control_in {
            self.fail(shared, SessionErrorCode::PROTOCOL_VIOLATION, "control stream closed");
            return;
        }
        let Some(s) = self.streams.get_mut(&stream) else { return };
        s.set_fin();
        match s {
            InStream::Unidentified { .. } => {
                // Finished before identifying itself: nothing to route; drop it.
                self.streams.remove(&stream);
            }
            InStream::Request { .. } => self.process_request_stream(shared, stream),
            // `process_subgroup` with the entry in hand (no second lookup).
            InStream::Subgroup(sg) => {
                if shared.closed {
                    return;
                }
                let stop = data::deliver_subgroup(sg, &mut self.requests, shared);
                self.subgroup_stopped(shared, stream, stop);
            }
            InStream::Fetch(_) => self.process_fetch_stream(shared, stream),
            InStream::Discard | InStream::Control { .. } => {
                self.streams.remove(&stream);
            }
        }
    }

    fn handle_reset(&mut self, shared: &mut Shared, stream: StreamId, code: u64) {
        if Some(stream) == self.control_in {
            self.fail(shared, SessionErrorCode::PROTOCOL_VIOLATION, "control stream reset");
            return;
        }
        if let Some(handle) = self.by_stream.get(&stream).copied() {
            self.request_reset(shared, handle, code);
            return;
        }
        match self.streams.remove(&stream) {
            Some(InStream::Subgroup(sg)) => self.subgroup_gone(shared, sg, code),
            Some(InStream::Fetch(f)) => self.fetch_stream_reset(shared, f, code),
            _ => {}
        }
    }

    fn handle_stop_sending(&mut self, shared: &mut Shared, stream: StreamId, code: u64) {
        if Some(stream) == self.control_out {
            self.fail(shared, SessionErrorCode::PROTOCOL_VIOLATION, "control stream stopped");
            return;
        }
        if let Some(handle) = self.by_stream.get(&stream).copied() {
            self.request_stopped(shared, handle, code);
            return;
        }
        self.timing_forget(stream);
        if self.data_out.remove(&stream).is_some() {
            shared.push(crate::io::Output::Reset { stream, code });
            return;
        }
        // The requester stopped our fetch data stream: the fetch is over.
        let fetch = self
            .requests
            .iter()
            .find(|(_, r)| r.fetch_out.as_ref().is_some_and(|(s, _)| *s == stream))
            .map(|(h, _)| *h);
        if let Some(handle) = fetch {
            if let Some(r) = self.requests.get_mut(&handle) {
                r.fetch_out = None;
            }
            shared.push(crate::io::Output::Reset { stream, code });
            shared.event(crate::event::Event::FetchEnded {
                request: handle,
                reason: crate::event::Reason { code, text: String::new() },
            });
            self.forget(shared, handle);
        }
    }
}

impl Engine for MoqtEngine {
    fn start(&mut self, shared: &mut Shared, now: Time) {
        self.now = now;
        self.next_request_id = match shared.role {
            crate::session::Role::Client => 0,
            crate::session::Role::Server => 1,
        };
        self.peer_id_floor = match shared.role {
            crate::session::Role::Client => 1,
            crate::session::Role::Server => 0,
        };
        self.send_setup(shared);
    }

    fn handle(&mut self, shared: &mut Shared, now: Time, mut input: Input) {
        self.now = self.now.max(now);
        if shared.closed {
            return;
        }
        // Stream data is taken by reference: its bytes are moved out only where they are
        // kept (a payload, a buffered chunk), not copied to the stack on entry, where the
        // wide loads of the caller's just-written input stall on store forwarding.
        if let Input::StreamData { stream, data } = &mut input {
            let stream = *stream;
            return self.handle_data(shared, stream, data);
        }
        match input {
            Input::Connected { .. } | Input::Closed { .. } => {}
            Input::StreamOpened { stream, bidi } => self.handle_stream_opened(shared, stream, bidi),
            Input::StreamData { .. } => {} // handled above
            Input::StreamFinished { stream } => self.handle_finished(shared, stream),
            Input::StreamReset { stream, code } => self.handle_reset(shared, stream, code),
            Input::StopSending { stream, code } => self.handle_stop_sending(shared, stream, code),
            Input::StreamOpenResult { stream, opened } => {
                if opened {
                    self.timing_opened(stream);
                } else {
                    self.timing_forget(stream);
                    self.open_failed(shared, stream);
                }
            }
            Input::StreamAcked { stream } => self.timing_acked(stream),
            Input::Writable { .. } | Input::PathEstimate { .. } => {}
            Input::Datagram(d) => self.handle_datagram(shared, d),
        }
    }

    fn handle_timeout(&mut self, shared: &mut Shared, now: Time) {
        self.now = self.now.max(now);
        if let Some(deadline) = self.goaway_deadline
            && self.now >= deadline
        {
            self.fail(shared, SessionErrorCode::GOAWAY_TIMEOUT, "GOAWAY timeout");
            return;
        }
        self.expire_unknown_aliases(shared);
        self.expire_done_subscriptions(shared);
        self.expire_deliveries(shared);
    }

    fn poll_timeout(&self) -> Option<Time> {
        let aliases = self.streams.values().filter_map(InStream::alias_deadline);
        let done = self.requests.values().filter_map(|r| r.done.as_ref().map(|d| d.deadline));
        aliases.chain(done).chain(self.goaway_deadline).chain(self.delivery_deadline()).min()
    }

    fn clear(&mut self) {
        self.control_out = None;
        self.control_in = None;
        self.streams.clear();
        self.requests.clear();
        self.by_stream.clear();
        self.by_wire_id.clear();
        self.peer_ids_above.clear();
        self.aliases_in.clear();
        self.data_out.clear();
        self.closing.clear();
        self.announced.clear();
        self.goaway_deadline = None;
        self.tokens.clear();
        self.presented.clear();
        self.sent_tokens.clear();
        self.buffered_bound = 0;
        self.published.clear();
    }

    fn buffered_bytes(&self) -> usize {
        self.buffered()
    }

    fn table_sizes(&self) -> usize {
        self.streams.len()
            + self.requests.len()
            + self.by_stream.len()
            + self.by_wire_id.len()
            + self.peer_ids_above.len()
            + self.aliases_in.len()
            + self.data_out.len()
            + self.closing.len()
            + self.announced.len()
            + self.tokens.len()
            + self.presented.len()
            + self.sent_tokens.len()
    }

    fn announce(&mut self, shared: &mut Shared, namespace: Namespace) -> Result<RequestHandle, CommandError> {
        self.cmd_announce(shared, namespace)
    }
    fn accept_announce(&mut self, shared: &mut Shared, request: RequestHandle) -> Result<(), CommandError> {
        self.cmd_accept_announce(shared, request)
    }
    fn discover(&mut self, shared: &mut Shared, prefix: Namespace) -> Result<RequestHandle, CommandError> {
        self.cmd_discover(shared, prefix)
    }
    fn subscribe(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
        options: SubscribeOptions,
    ) -> Result<RequestHandle, CommandError> {
        self.cmd_subscribe(shared, track, options)
    }
    fn update_subscription(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        options: SubscribeOptions,
    ) -> Result<(), CommandError> {
        self.cmd_update(shared, request, options)
    }
    fn accept_subscribe(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        info: TrackInfo,
    ) -> Result<(), CommandError> {
        self.cmd_accept_subscribe(shared, request, info)
    }
    fn publish(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
        info: TrackInfo,
    ) -> Result<RequestHandle, CommandError> {
        self.cmd_publish(shared, track, info)
    }
    fn accept_publish(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        options: SubscribeOptions,
    ) -> Result<(), CommandError> {
        self.cmd_accept_publish(shared, request, options)
    }
    fn reject(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        code: u64,
        reason: &str,
    ) -> Result<(), CommandError> {
        self.cmd_reject(shared, request, crate::model::Rejection::new(code, reason))
    }
    fn reject_with(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        rejection: crate::model::Rejection,
    ) -> Result<(), CommandError> {
        self.cmd_reject(shared, request, rejection)
    }
    fn cancel(&mut self, shared: &mut Shared, request: RequestHandle) -> Result<(), CommandError> {
        self.cmd_cancel(shared, request)
    }
    fn open_subgroup(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        subgroup: u64,
        priority: Option<u8>,
    ) -> Result<StreamId, CommandError> {
        self.cmd_open_subgroup(shared, request, group, subgroup, priority)
    }
    fn write_object(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        self.cmd_write_object(shared, stream, object)
    }
    fn close_subgroup(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        end_of_group: bool,
    ) -> Result<(), CommandError> {
        self.cmd_close_subgroup(shared, stream, end_of_group)
    }
    fn reset_subgroup(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        code: u64,
    ) -> Result<(), CommandError> {
        if self.data_out.remove(&stream).is_none() {
            return Err(CommandError::UnknownStream(stream));
        }
        self.timing_forget(stream);
        shared.push(crate::io::Output::Reset { stream, code });
        Ok(())
    }
    fn send_datagram(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        self.cmd_send_datagram(shared, request, group, object)
    }
    /// draft-18 has nothing to say it (see `Session::drop_groups`): a subscription we
    /// publish is checked, and nothing is sent.
    fn drop_groups(
        &mut self,
        _shared: &mut Shared,
        request: RequestHandle,
        first: u64,
        last: u64,
        _code: u64,
    ) -> Result<(), CommandError> {
        if !self.requests.get(&request).is_some_and(|r| r.we_publish()) {
            return Err(CommandError::UnknownRequest(request));
        }
        if first > last {
            return Err(CommandError::InvalidState("drop_groups: first group after last"));
        }
        Ok(())
    }
    fn end_subscription(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        code: u64,
        reason: &str,
    ) -> Result<(), CommandError> {
        self.cmd_end_subscription(shared, request, code, reason)
    }
    fn fetch(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
        start: Location,
        end: Location,
        options: FetchOptions,
    ) -> Result<RequestHandle, CommandError> {
        self.cmd_fetch(shared, track, start, end, options)
    }
    fn joining_fetch(
        &mut self,
        shared: &mut Shared,
        subscription: RequestHandle,
        start: JoinStart,
        options: FetchOptions,
    ) -> Result<RequestHandle, CommandError> {
        self.cmd_joining_fetch(shared, subscription, start, options)
    }
    fn accept_fetch(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        end: Location,
    ) -> Result<(), CommandError> {
        self.cmd_accept_fetch(shared, request, end, None)
    }
    fn accept_fetch_with_info(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        end: Location,
        info: &TrackInfo,
    ) -> Result<(), CommandError> {
        self.cmd_accept_fetch(shared, request, end, Some(info))
    }
    fn write_fetch_object(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        subgroup: u64,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        self.cmd_write_fetch_object(shared, request, group, subgroup, object)
    }
    fn write_fetch_gap(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        through: Location,
        unknown: bool,
    ) -> Result<(), CommandError> {
        self.cmd_write_fetch_gap(shared, request, through, unknown)
    }
    fn finish_fetch(&mut self, shared: &mut Shared, request: RequestHandle) -> Result<(), CommandError> {
        self.cmd_finish_fetch(shared, request)
    }
    fn track_status(&mut self, shared: &mut Shared, track: TrackName) -> Result<RequestHandle, CommandError> {
        self.cmd_track_status(shared, track)
    }
    fn goaway(
        &mut self,
        shared: &mut Shared,
        uri: Bytes,
        timeout: std::time::Duration,
    ) -> Result<(), CommandError> {
        self.cmd_goaway(shared, uri, timeout)
    }
    fn publish_blocked(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        track: TrackName,
    ) -> Result<(), CommandError> {
        self.cmd_publish_blocked(shared, request, track)
    }
    fn discover_tracks(
        &mut self,
        shared: &mut Shared,
        prefix: Namespace,
    ) -> Result<RequestHandle, CommandError> {
        self.cmd_discover_tracks(shared, prefix)
    }
    fn accept_discovery(&mut self, shared: &mut Shared, request: RequestHandle) -> Result<(), CommandError> {
        self.cmd_accept_discovery(shared, request)
    }
    fn accept_update(&mut self, shared: &mut Shared, request: RequestHandle) -> Result<(), CommandError> {
        self.cmd_accept_update(shared, request)
    }
    fn reject_update(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        code: u64,
        reason: &str,
    ) -> Result<(), CommandError> {
        self.cmd_reject_update(shared, request, code, reason)
    }
}
