//! Requests and their bidi streams (draft-18 §3.3.2, §9 "Request ID").
//!
//! * Request IDs: the client uses even IDs from 0, the server odd IDs from 1, each +2.
//!   A peer ID of the wrong parity, or one already used, closes the session with
//!   INVALID_REQUEST_ID. Used peer IDs are tracked as a floor (every ID below it is used)
//!   plus the set of used IDs above it (requests may arrive out of order across streams);
//!   that set is bounded by `Config::max_peer_streams`, beyond which the session closes
//!   with INVALID_REQUEST_ID (a peer cannot have that many unanswered gaps).
//! * The first message on a peer bidi stream must be one of the seven request types,
//!   else PROTOCOL_VIOLATION. Peer requests that arrive before the peer's SETUP stay
//!   buffered (within the stream/session buffer limits) and are processed after it.
//! * Stream meanings (§3.3.2 "Request Cancellation and Rejection"): FIN means "no more
//!   messages this way", never cancellation; a rejection is REQUEST_ERROR then FIN; a
//!   cancellation is RESET_STREAM of our sending half plus STOP_SENDING of the receiving
//!   half, with code CANCELLED (§3.3.3). A peer RESET/STOP_SENDING on a request stream is
//!   the peer cancelling that request.
//! * Limits: more than `max_inbound_requests` live peer requests are answered with
//!   REQUEST_ERROR EXCESSIVE_LOAD (the ID is still consumed).

use bytes::Bytes;
use sluice_wire::moqt::codes::{RequestErrorCode, SessionErrorCode, StreamResetCode};
use sluice_wire::moqt::control::ControlMessage;
use sluice_wire::moqt::message::{Redirect, RequestError, RequestOk};
use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
use sluice_wire::moqt::params::{ParamScope, RequestKind};
use sluice_wire::moqt::reason::ReasonPhrase;
use sluice_wire::{Decode, DecodeError, Encode, MoqtVersion, Reader, Violation};

use super::MoqtEngine;
use super::state::{InStream, Kind, Request};
use crate::engine::Shared;
use crate::error::CommandError;
use crate::event::{Event, Reason};
use crate::ids::{RequestHandle, StreamId};
use crate::io::{Output, SendOrder};
use crate::model::{Namespace, Rejection, TrackName};
use crate::recv::RecvBuffer;
use crate::session::Role;

/// Send order of request streams: below the control streams, above every data stream.
pub(super) const REQUEST_ORDER: SendOrder = SendOrder(i32::MAX - 1);

/// Decodes one value from the front of `buf`, advancing past it on success.
///
/// The front is made contiguous a little at a time (starting with the first chunk, which
/// costs nothing), so a header that straddles chunks copies only a few bytes and a payload
/// that follows it in its own chunk is never copied. `Ok(None)`: more bytes are needed.
pub(super) fn decode_buffered<T>(
    buf: &mut RecvBuffer,
    f: impl FnMut(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<Option<T>, Violation> {
    let found = peek_buffered(buf, f)?;
    Ok(found.map(|(v, used)| {
        buf.advance(used);
        v
    }))
}

/// Like [`decode_buffered`] without consuming: the value and how many bytes it spans.
pub(super) fn peek_buffered<T>(
    buf: &mut RecvBuffer,
    mut f: impl FnMut(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<Option<(T, usize)>, Violation> {
    // The first chunk, borrowed: what `front(1)` returns first, without the reference
    // count traffic of its clone (a non-empty buffer's first chunk is never empty).
    let Some(first) = buf.first_chunk() else { return Ok(None) };
    let mut r = Reader::new(first);
    let mut want = match f(&mut r) {
        Ok(v) => return Ok(Some((v, r.position()))),
        Err(DecodeError::Invalid(v)) => return Err(v),
        Err(DecodeError::Incomplete) if first.len() >= buf.len() => return Ok(None),
        Err(DecodeError::Incomplete) => first.len().saturating_add(first.len().max(16)),
    };
    loop {
        let front = buf.front(want);
        let mut r = Reader::new(&front);
        match f(&mut r) {
            Ok(v) => return Ok(Some((v, r.position()))),
            Err(DecodeError::Incomplete) => {
                if front.len() >= buf.len() {
                    return Ok(None);
                }
                want = front.len().saturating_add(front.len().max(16));
            }
            Err(DecodeError::Invalid(v)) => return Err(v),
        }
    }
}

/// True once a whole control message frame (`Type (vi64), Length (16), Body`) is buffered.
///
/// Checked before decoding so that a large message arriving in many small chunks is
/// decoded (and its front made contiguous) once, not once per chunk.
pub(super) fn frame_complete(buf: &mut RecvBuffer) -> bool {
    let head = peek_buffered(buf, |r| {
        let kind = sluice_wire::moqt::codes::MessageType(r.vi64()?);
        if !kind.is_known() {
            // Unknown types close the session at once, without waiting for the body.
            return Err(Violation::UnknownMessageType(kind.0).into());
        }
        let len = r.u16()?;
        Ok(usize::from(len))
    });
    match head {
        Ok(Some((len, used))) => buf.len() >= used.saturating_add(len),
        Ok(None) => false,
        // Let the real decoder report the violation.
        Err(_) => true,
    }
}

/// A Reason from a wire code and phrase.
pub(super) fn reason(code: u64, phrase: &ReasonPhrase) -> Reason {
    Reason { code, text: phrase.to_text().into_owned() }
}

impl MoqtEngine {
    /// The Reason of a REQUEST_ERROR answering one of our requests; first reports its retry
    /// interval and redirect, if it has either, as [`Event::RetryAdvice`]. `None` when the
    /// redirect breaks §10.6.1 (a Connect URI sent to a server, a Track Name for a
    /// namespace-scoped request): the session is then closed with PROTOCOL_VIOLATION.
    pub(super) fn refusal(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        e: &RequestError,
    ) -> Option<Reason> {
        if let Some(r) = &e.redirect {
            let namespace_scoped = self
                .requests
                .get(&handle)
                .is_some_and(|q| matches!(q.kind, Kind::SubscribeNamespace | Kind::PublishNamespace));
            if shared.role == Role::Server && !r.connect_uri.is_empty() {
                self.fail(
                    shared,
                    SessionErrorCode::PROTOCOL_VIOLATION,
                    "Redirect with a Connect URI to a server",
                );
                return None;
            }
            if namespace_scoped && !r.track.name.is_empty() {
                self.fail(
                    shared,
                    SessionErrorCode::PROTOCOL_VIOLATION,
                    "Redirect with a Track Name for a namespace",
                );
                return None;
            }
        }
        let retry_after = e.retry_interval.checked_sub(1).map(std::time::Duration::from_millis);
        if retry_after.is_some() || e.redirect.is_some() {
            let redirect = e.redirect.as_ref().map(|r| {
                Box::new(crate::model::Redirect {
                    uri: r.connect_uri.clone(),
                    track: TrackName {
                        namespace: Namespace(r.track.namespace.0.clone()),
                        name: r.track.name.clone(),
                    },
                })
            });
            shared.event(Event::RetryAdvice { request: handle, retry_after, redirect });
        }
        Some(reason(e.code.0, &e.reason))
    }

    /// Encodes one whole control message.
    pub(super) fn encode<M: Encode<Version = MoqtVersion>>(&self, m: &M) -> Result<Bytes, CommandError> {
        let mut buf = Vec::new();
        m.encode_into_vec(&mut buf, self.version)?;
        Ok(Bytes::from(buf))
    }

    /// Allocates our next Request ID.
    pub(super) fn alloc_request_id(&mut self) -> u64 {
        let id = self.next_request_id;
        self.next_request_id = self.next_request_id.saturating_add(2);
        id
    }

    /// Records a peer Request ID; false (after closing the session) when it is invalid.
    pub(super) fn use_peer_request_id(&mut self, shared: &mut Shared, id: u64) -> bool {
        let parity = self.peer_id_floor % 2;
        let ok = if id % 2 != parity || id < self.peer_id_floor {
            false
        } else if id == self.peer_id_floor {
            self.peer_id_floor = self.peer_id_floor.saturating_add(2);
            while self.peer_ids_above.remove(&self.peer_id_floor) {
                self.peer_id_floor = self.peer_id_floor.saturating_add(2);
            }
            true
        } else if self.peer_ids_above.len() >= shared.config.max_peer_streams {
            false
        } else {
            self.peer_ids_above.insert(id)
        };
        if !ok {
            self.fail(shared, SessionErrorCode::INVALID_REQUEST_ID, "invalid request id");
        }
        ok
    }

    /// Opens a bidi stream for a request we make and writes its first message.
    pub(super) fn open_request(
        &mut self,
        shared: &mut Shared,
        kind: Kind,
        wire_id: u64,
        first: Bytes,
    ) -> (RequestHandle, StreamId) {
        let stream = shared.next_stream();
        let handle = shared.next_request();
        shared.push(Output::OpenStream { stream, bidi: true, order: REQUEST_ORDER });
        shared.push(Output::Write { stream, header: first.into(), payload: Bytes::new(), fin: false });
        self.streams.insert(stream, InStream::request_in());
        self.by_stream.insert(stream, handle);
        self.by_wire_id.insert((true, wire_id), handle);
        self.requests.insert(handle, Request::new(kind, true, stream, wire_id));
        (handle, stream)
    }

    /// Sends a request we make: encodes `msg` (carrying request ID `wire_id`, the next one),
    /// takes that ID, opens the request's stream with it, and records the tokens it carries
    /// as sent. Nothing changes when encoding fails.
    pub(super) fn send_new_request<M: Encode<Version = MoqtVersion>>(
        &mut self,
        shared: &mut Shared,
        kind: Kind,
        wire_id: u64,
        msg: &M,
        tokens: &super::auth::Checked,
    ) -> Result<RequestHandle, CommandError> {
        let bytes = self.encode(msg)?;
        self.alloc_request_id();
        let (handle, stream) = self.open_request(shared, kind, wire_id, bytes);
        self.sent_tokens.commit(tokens, stream);
        Ok(handle)
    }

    /// Writes a message on a request's stream.
    pub(super) fn send_on(&mut self, shared: &mut Shared, stream: StreamId, msg: Bytes, fin: bool) {
        shared.push(Output::Write { stream, header: msg.into(), payload: Bytes::new(), fin });
    }

    /// Forgets a request: its tables, its alias, and its stream's receive state (kept as
    /// `Discard` until the peer finishes its half, so late bytes are ignored).
    pub(super) fn forget(&mut self, shared: &mut Shared, handle: RequestHandle) {
        let Some(req) = self.requests.remove(&handle) else { return };
        if req.we_publish()
            && let Some(l) = req.info.largest
        {
            self.published.note(&req.track, l);
            let requests = &self.requests;
            self.published.prune(shared.config.max_subscriptions.saturating_mul(2), |t| {
                requests.values().any(|r| r.track == *t)
            });
        }
        self.sent_tokens.request_gone(req.stream);
        self.by_stream.remove(&req.stream);
        self.by_wire_id.remove(&(req.outbound, req.wire_id));
        if let Some(alias) = req.alias {
            self.aliases_in.remove_if(alias, handle);
        }
        self.announced.remove(&handle);
        let fin = matches!(self.streams.get(&req.stream), Some(InStream::Request { fin: true, .. }));
        if fin {
            self.streams.remove(&req.stream);
        } else if self.streams.contains_key(&req.stream) {
            self.streams.insert(req.stream, InStream::Discard);
        }
        // Data streams we still write for it are reset; data streams we receive for it
        // are stopped.
        let mut outs: Vec<StreamId> =
            self.data_out.iter().filter(|(_, d)| d.request == handle).map(|(s, _)| *s).collect();
        outs.sort();
        for s in outs {
            self.data_out.remove(&s);
            shared.push(Output::Reset { stream: s, code: StreamResetCode::CANCELLED.0 });
        }
        let ins: Vec<StreamId> = self
            .streams
            .iter()
            .filter(|(_, st)| match st {
                InStream::Subgroup(sg) => sg.request == Some(handle),
                InStream::Fetch(f) => f.request == Some(handle),
                _ => false,
            })
            .map(|(s, _)| *s)
            .collect();
        for s in ins {
            self.streams.remove(&s);
            shared.push(Output::StopSending { stream: s, code: StreamResetCode::CANCELLED.0 });
        }
        if let Some((s, _)) = req.fetch_out {
            shared.push(Output::Reset { stream: s, code: StreamResetCode::CANCELLED.0 });
        }
        // Joining Fetches buffered on a subscription that ends unanswered are refused.
        if !shared.closed {
            self.resolve_joining_fetches(shared, handle);
        }
    }

    /// Sends REQUEST_ERROR then FIN.
    pub(super) fn send_request_error(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        code: RequestErrorCode,
        text: &str,
    ) {
        let msg = RequestError {
            code,
            retry_interval: 0,
            reason: ReasonPhrase(Bytes::copy_from_slice(text.as_bytes())),
            redirect: None,
        };
        if let Ok(bytes) = self.encode(&msg) {
            self.send_on(shared, stream, bytes, true);
        }
    }

    /// Refuses a peer request before it is tracked: REQUEST_ERROR + FIN, and the rest of its
    /// stream is discarded.
    pub(super) fn refuse_new_request(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        code: RequestErrorCode,
        text: &str,
    ) {
        self.send_request_error(shared, stream, code, text);
        self.streams.insert(stream, InStream::Discard);
    }

    fn inbound_requests(&self) -> usize {
        self.requests.values().filter(|r| !r.outbound).count()
    }

    /// Reads every complete message on a request stream.
    pub(super) fn process_request_stream(&mut self, shared: &mut Shared, stream: StreamId) {
        loop {
            if shared.closed || !self.peer_ready {
                return;
            }
            let version = self.version;
            let Some(InStream::Request { buf, fin, first_done }) = self.streams.get_mut(&stream) else {
                return;
            };
            let (fin, first_done) = (*fin, *first_done);
            let ready = frame_complete(buf);
            let decoded =
                if ready { decode_buffered(buf, |r| ControlMessage::decode(r, version)) } else { Ok(None) };
            let msg = match decoded {
                Ok(Some(m)) => m,
                Ok(None) => {
                    if fin {
                        if !buf.is_empty() {
                            return self.fail(
                                shared,
                                SessionErrorCode::PROTOCOL_VIOLATION,
                                "request stream ends inside a message",
                            );
                        }
                        self.request_stream_fin(shared, stream);
                    }
                    return;
                }
                Err(v) => return self.fail_violation(shared, &v),
            };
            if let Some(InStream::Request { first_done, .. }) = self.streams.get_mut(&stream) {
                *first_done = true;
            }
            match self.by_stream.get(&stream).copied() {
                Some(handle) => self.on_request_message(shared, handle, msg),
                None if !first_done => self.on_new_request(shared, stream, msg),
                None => {}
            }
        }
    }

    /// The first message of a peer bidi stream.
    fn on_new_request(&mut self, shared: &mut Shared, stream: StreamId, msg: ControlMessage) {
        if !msg.message_type().starts_request() {
            return self.fail(
                shared,
                SessionErrorCode::PROTOCOL_VIOLATION,
                "bidi stream must start with a request message",
            );
        }
        let wire_id = match &msg {
            ControlMessage::Subscribe(m) => m.request_id,
            ControlMessage::Publish(m) => m.request_id,
            ControlMessage::Fetch(m) => m.request_id,
            ControlMessage::TrackStatus(m) => m.request_id,
            ControlMessage::PublishNamespace(m) => m.request_id,
            ControlMessage::SubscribeNamespace(m) => m.request_id,
            ControlMessage::SubscribeTracks(m) => m.request_id,
            _ => return,
        };
        if !self.use_peer_request_id(shared, wire_id) {
            return;
        }
        let params = match &msg {
            ControlMessage::Subscribe(m) => &m.parameters,
            ControlMessage::Publish(m) => &m.parameters,
            ControlMessage::Fetch(m) => &m.parameters,
            ControlMessage::TrackStatus(m) => &m.parameters,
            ControlMessage::PublishNamespace(m) => &m.parameters,
            ControlMessage::SubscribeNamespace(m) => &m.parameters,
            ControlMessage::SubscribeTracks(m) => &m.parameters,
            _ => return,
        };
        let tokens: Vec<_> = params.auth_tokens().cloned().collect();
        if !self.apply_tokens(shared, tokens.iter(), false) {
            return;
        }
        if self.going_away {
            self.refuse_new_request(shared, stream, RequestErrorCode::GOING_AWAY, "going away");
            return;
        }
        if self.inbound_requests() >= shared.config.max_inbound_requests {
            self.refuse_new_request(shared, stream, RequestErrorCode::EXCESSIVE_LOAD, "too many requests");
            return;
        }
        if super::reserved::refused_by_engine(&msg) {
            self.refuse_new_request(shared, stream, RequestErrorCode::DOES_NOT_EXIST, "reserved namespace");
            return;
        }
        match msg {
            ControlMessage::Subscribe(m) => self.on_subscribe(shared, stream, m),
            ControlMessage::Publish(m) => self.on_publish(shared, stream, m),
            ControlMessage::Fetch(m) => self.on_fetch(shared, stream, m),
            ControlMessage::TrackStatus(m) => self.on_track_status(shared, stream, m),
            ControlMessage::PublishNamespace(m) => self.on_publish_namespace(shared, stream, m),
            ControlMessage::SubscribeNamespace(m) => self.on_subscribe_namespace(shared, stream, m),
            ControlMessage::SubscribeTracks(m) => self.on_subscribe_tracks(shared, stream, m),
            _ => {}
        }
    }

    /// Registers a peer request.
    pub(super) fn add_inbound(
        &mut self,
        stream: StreamId,
        kind: Kind,
        wire_id: u64,
        shared: &mut Shared,
    ) -> RequestHandle {
        let handle = shared.next_request();
        self.by_stream.insert(stream, handle);
        self.by_wire_id.insert((false, wire_id), handle);
        self.requests.insert(handle, Request::new(kind, false, stream, wire_id));
        self.present_tokens(shared, handle);
        handle
    }

    /// A later message on a request stream.
    fn on_request_message(&mut self, shared: &mut Shared, handle: RequestHandle, msg: ControlMessage) {
        let Some(req) = self.requests.get(&handle) else { return };
        let (kind, outbound) = (req.kind, req.outbound);
        if matches!(
            msg,
            ControlMessage::RequestOk(_)
                | ControlMessage::RequestError(_)
                | ControlMessage::SubscribeOk(_)
                | ControlMessage::FetchOk(_)
        ) {
            self.sent_tokens.answered(req.stream);
        }
        match (kind, outbound) {
            (Kind::Subscribe, true) | (Kind::Publish, false) => {
                self.on_subscriber_side_msg(shared, handle, msg)
            }
            (Kind::Subscribe, false) | (Kind::Publish, true) => {
                self.on_publisher_side_msg(shared, handle, msg)
            }
            (Kind::Fetch, true) => self.on_fetch_response(shared, handle, msg),
            (Kind::TrackStatus, true) => self.on_track_status_response(shared, handle, msg),
            (Kind::PublishNamespace, true) => self.on_announce_response(shared, handle, msg),
            (Kind::SubscribeNamespace | Kind::SubscribeTracks, true) => {
                self.on_discover_response(shared, handle, msg)
            }
            (
                Kind::Fetch | Kind::PublishNamespace | Kind::SubscribeNamespace | Kind::SubscribeTracks,
                false,
            ) => match msg {
                ControlMessage::RequestUpdate(u) => self.on_request_update(shared, handle, u),
                _ => self.unexpected(shared),
            },
            _ => self.unexpected(shared),
        }
    }

    /// Checks a REQUEST_OK against the request it answers (§10.5): only TRACK_STATUS_OK
    /// carries track properties, and parameters must be allowed for that request. False
    /// (after closing the session) when it breaks either rule.
    pub(super) fn check_request_ok(
        &mut self,
        shared: &mut Shared,
        ok: &RequestOk,
        kind: RequestKind,
    ) -> bool {
        if kind != RequestKind::TrackStatus && !ok.track_properties.is_empty() {
            self.fail(shared, SessionErrorCode::PROTOCOL_VIOLATION, "track properties in REQUEST_OK");
            return false;
        }
        if let Err(v) = ok.parameters.check(ParamScope::RequestOk(Some(kind))) {
            self.fail_violation(shared, &v);
            return false;
        }
        true
    }

    /// A message that may not appear where it did.
    pub(super) fn unexpected(&mut self, shared: &mut Shared) {
        self.fail(shared, SessionErrorCode::PROTOCOL_VIOLATION, "unexpected message on a request stream");
    }

    /// The peer finished its half of a request stream.
    fn request_stream_fin(&mut self, shared: &mut Shared, stream: StreamId) {
        let Some(handle) = self.by_stream.get(&stream).copied() else {
            self.streams.remove(&stream);
            return;
        };
        let Some(req) = self.requests.get(&handle) else { return };
        // A response half that ends before the request was answered (or, for a
        // subscription, before PUBLISH_DONE) ends the request.
        if req.outbound {
            let ev = match req.kind {
                Kind::Subscribe => Some(Event::SubscriptionEnded {
                    request: handle,
                    reason: Reason { code: 0, text: "stream finished".into() },
                }),
                Kind::PublishNamespace => Some(Event::AnnounceEnded {
                    request: handle,
                    reason: Reason { code: 0, text: "stream finished".into() },
                }),
                Kind::SubscribeNamespace | Kind::SubscribeTracks => Some(Event::DiscoveryEnded {
                    request: handle,
                    reason: Reason { code: 0, text: "stream finished".into() },
                }),
                Kind::Publish => Some(Event::SubscriberGone { request: handle }),
                // The fetch ends with its data stream; the bidi FIN only closes the
                // response half (the stream stays routed for STOP_SENDING).
                Kind::Fetch => return,
                Kind::TrackStatus => None,
            };
            if req.done.is_some() {
                // PUBLISH_DONE arrived; the data streams decide when it ends.
                return;
            }
            if let Some(ev) = ev {
                shared.event(ev);
            }
            self.forget(shared, handle);
        }
        // Otherwise the requester finished its half: no more updates, nothing else
        // changes; the stream stays routed so a later STOP_SENDING still cancels.
    }

    /// The peer reset its half of a request stream: it cancelled the request. We reset
    /// what is left of our half (§3.3.2) and end the request with its terminal event (a
    /// peer's TRACK_STATUS or SUBSCRIBE_NAMESPACE has none: the application's answer, if
    /// any, finds the handle gone).
    pub(super) fn request_reset(&mut self, shared: &mut Shared, handle: RequestHandle, code: u64) {
        let Some(req) = self.requests.get(&handle) else { return };
        let reason = Reason { code, text: String::new() };
        let (stream, kind, outbound) = (req.stream, req.kind, req.outbound);
        let request = handle;
        let ev = match (kind, outbound) {
            (Kind::Subscribe, true) | (Kind::Publish, false) => {
                Some(Event::SubscriptionEnded { request, reason })
            }
            (Kind::Subscribe, false) | (Kind::Publish, true) => Some(Event::SubscriberGone { request }),
            (Kind::Fetch, _) => Some(Event::FetchEnded { request, reason }),
            (Kind::TrackStatus, true) => Some(Event::TrackStatus { request, result: Err(reason) }),
            (Kind::PublishNamespace, true) => Some(Event::AnnounceEnded { request, reason }),
            (Kind::PublishNamespace, false) => Some(Event::IncomingAnnounceEnded { request }),
            (Kind::SubscribeNamespace | Kind::SubscribeTracks, true) => {
                Some(Event::DiscoveryEnded { request, reason })
            }
            (Kind::SubscribeTracks, false) => Some(Event::IncomingTrackDiscoveryEnded { request }),
            (Kind::TrackStatus, false) | (Kind::SubscribeNamespace, false) => None,
        };
        shared.push(Output::Reset { stream, code: StreamResetCode::CANCELLED.0 });
        if let Some(ev) = ev {
            shared.event(ev);
        }
        if kind == Kind::PublishNamespace && outbound {
            self.withdraw_namespace(shared, handle);
        }
        self.streams.remove(&stream);
        self.forget(shared, handle);
    }

    /// The peer asked us to stop sending on a request stream: it cancelled the request
    /// (we reset our half; the peer's RESET of its half, if any, ends the rest).
    pub(super) fn request_stopped(&mut self, shared: &mut Shared, handle: RequestHandle, code: u64) {
        self.request_reset(shared, handle, code);
    }

    /// A stream we asked to open could not be opened.
    pub(super) fn open_failed(&mut self, shared: &mut Shared, stream: StreamId) {
        if Some(stream) == self.control_out {
            return self.fail(shared, SessionErrorCode::INTERNAL_ERROR, "control stream could not be opened");
        }
        if let Some(handle) = self.by_stream.get(&stream).copied() {
            self.request_reset(shared, handle, StreamResetCode::INTERNAL_ERROR.0);
        }
        self.data_out.remove(&stream);
    }

    /// Rejects a peer request: REQUEST_ERROR then FIN.
    pub(super) fn cmd_reject(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        rejection: Rejection,
    ) -> Result<(), CommandError> {
        let req = self.requests.get(&handle).ok_or(CommandError::UnknownRequest(handle))?;
        if req.outbound {
            return Err(CommandError::UnknownRequest(handle));
        }
        if req.kind == Kind::Fetch && req.phase == super::state::Phase::Established {
            return self.abort_fetch(shared, handle, rejection.code);
        }
        if req.phase != super::state::Phase::Pending {
            return Err(CommandError::InvalidState("request already answered"));
        }
        let stream = req.stream;
        if let Some(r) = &rejection.redirect {
            // §10.6.1: clients cannot send servers elsewhere; namespace requests take no name.
            if shared.role == Role::Client && !r.uri.is_empty() {
                return Err(CommandError::InvalidState("a client's Redirect carries no Connect URI"));
            }
            if matches!(req.kind, Kind::SubscribeNamespace | Kind::PublishNamespace)
                && !r.track.name.is_empty()
            {
                return Err(CommandError::InvalidState(
                    "a namespace request's Redirect carries no Track Name",
                ));
            }
        }
        let msg = RequestError {
            code: RequestErrorCode(rejection.code),
            // §10.6: milliseconds plus one; 0 = do not retry.
            retry_interval: rejection
                .retry_after
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX).saturating_add(1)),
            reason: ReasonPhrase(Bytes::copy_from_slice(rejection.reason.as_bytes())),
            redirect: rejection.redirect.map(|r| Redirect {
                connect_uri: r.uri,
                track: FullTrackName { namespace: TrackNamespace(r.track.namespace.0), name: r.track.name },
            }),
        };
        let bytes = self.encode(&msg)?;
        self.send_on(shared, stream, bytes, true);
        self.forget(shared, handle);
        Ok(())
    }

    /// Aborts a peer FETCH we accepted (`reject` after `accept_fetch`): its data stream is
    /// reset with `code` (a draft-18 stream reset code; the fetcher sees `FetchEnded` with
    /// it), or, when no object was written yet, the request stream is, and the request is
    /// forgotten.
    fn abort_fetch(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        code: u64,
    ) -> Result<(), CommandError> {
        let Some(req) = self.requests.get_mut(&handle) else {
            return Err(CommandError::UnknownRequest(handle));
        };
        let stream = req.stream;
        match req.fetch_out.take() {
            Some((data, _)) => {
                shared.push(Output::Reset { stream: data, code });
                self.send_on(shared, stream, Bytes::new(), true);
            }
            None => shared.push(Output::Reset { stream, code }),
        }
        self.forget(shared, handle);
        Ok(())
    }

    /// Cancels a request: RESET our half, STOP_SENDING theirs (CANCELLED, §3.3.2). Meant
    /// for requests we made (unsubscribe, withdraw, stop discovery, cancel a fetch), and
    /// also allowed on a peer's request we no longer want to serve or receive (e.g. a
    /// subscriber leaving a track the peer PUBLISHed to it).
    pub(super) fn cmd_cancel(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
    ) -> Result<(), CommandError> {
        let req = self.requests.get(&handle).ok_or(CommandError::UnknownRequest(handle))?;
        let (stream, kind, outbound) = (req.stream, req.kind, req.outbound);
        shared.push(Output::Reset { stream, code: StreamResetCode::CANCELLED.0 });
        shared.push(Output::StopSending { stream, code: StreamResetCode::CANCELLED.0 });
        if kind == Kind::PublishNamespace && outbound {
            self.withdraw_namespace(shared, handle);
        }
        self.streams.remove(&stream);
        self.forget(shared, handle);
        Ok(())
    }
}
