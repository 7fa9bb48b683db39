//! FETCH (draft-18 §10.12, §10.13) and FETCH_HEADER data streams (§11.4).
//!
//! * Standalone: `fetch(track, start, end)` sends FETCH type 0x1 with `end` as the wire End
//!   Location (the model's exclusive end is passed through as the draft's "end plus one
//!   object"; object 0 = the whole previous group). Joining: `joining_fetch` sends type 0x2
//!   (relative) or 0x3 (absolute) naming one of our subscriptions' Request ID; the
//!   publisher resolves it to that peer SUBSCRIBE's track (§10.12.2): an unknown one is
//!   refused with INVALID_JOINING_REQUEST_ID; one not yet answered buffers the fetch until
//!   it is accepted (then evaluated) or ends unaccepted (then INVALID_JOINING_REQUEST_ID);
//!   an accepted one with Forward State 0, or with no Largest Location (none given at
//!   acceptance and no object written since), is refused with INVALID_RANGE. Otherwise
//!   `IncomingFetch` reports the start group computed from the Largest Location
//!   (relative) or given (absolute), and `end: None`.
//! * FILL_TIMEOUT (`FetchOptions::fill_timeout_ms`) is sent as parameter 0x0A and
//!   reported in `IncomingFetch::fill_timeout_ms` (for joining fetches too).
//! * §Fetch Handling "no Objects published, or Start greater than the Largest Object:
//!   INVALID_RANGE": the engine knows the Largest Object only of a track it publishes on
//!   this session (an established peer SUBSCRIBE or our accepted PUBLISH of it: the
//!   TrackInfo the application gave, raised by every object written since); a FETCH of
//!   such a track is refused here before the application sees it (standalone, and absolute
//!   joining past the joined subscription's Largest). Any other track is the
//!   application's to judge (it may serve an archive never sent on this session); it
//!   answers `reject(request, INVALID_RANGE)`.
//! * The fetch data stream's send order comes from the FETCH's SUBSCRIBER_PRIORITY (see
//!   `priority::fetch_order`); a REQUEST_UPDATE can change it (`update`).
//! * `accept_fetch` sends FETCH_OK (ascending order); `write_fetch_object` opens the
//!   FETCH_HEADER stream on first use and writes objects with the draft's compact flags
//!   (`FetchObjectEncoder`); `finish_fetch` FINs the data stream (opening it empty if no
//!   object was written) and the response half of the request stream.
//! * A FETCH_OK whose End Location is smaller than our Start Location (known for standalone
//!   and absolute joining fetches; object 0 = the whole group) closes the session with
//!   PROTOCOL_VIOLATION (§10.13).
//! * The requester reports every object as `Event::Object` (status Normal: fetch objects
//!   carry no status) and `FetchEnded{0}` when the data stream ends; a reset of the data
//!   stream or the request ends it with that code.

use bytes::Bytes;
use sluice_wire::moqt::codes::{RequestErrorCode, SessionErrorCode};
use sluice_wire::moqt::control::ControlMessage;
use sluice_wire::moqt::fetch_stream::{
    EndOfRange, EndOfRangeKind, FetchHeader, FetchItemHeader, FetchObjectEncoder, FetchObjectHeader,
    GroupOrder as FetchOrder,
};
use sluice_wire::moqt::kvp::Properties;
use sluice_wire::moqt::location::Location as WireLocation;
use sluice_wire::moqt::message::{Fetch, FetchKind, FetchOk};
use sluice_wire::moqt::params::{Parameter, Parameters};
use sluice_wire::{Encode, HeaderBytes};

use super::MoqtEngine;
use super::malformed::Seen;
use super::priority::fetch_order;
use super::requests::decode_buffered;
use super::state::{FetchIn, InStream, Joining, Kind, Phase};
use super::subscribe::{model_track, unsupported, wire_track};
use super::track_props::TrackProps;
use crate::engine::{FetchOptions, JoinStart, ObjectWrite, Shared};
use crate::error::CommandError;
use crate::event::{Event, Reason};
use crate::ids::{RequestHandle, StreamId};
use crate::io::Output;
use crate::model::{Location, ObjectInfo, ObjectProperties, ObjectStatus, TrackInfo, TrackName};
use crate::recv::Payload;

/// A FETCH's subscriber priority when it carries no SUBSCRIBER_PRIORITY (draft-18
/// "SUBSCRIBER PRIORITY Parameter": the publisher uses 128).
const DEFAULT_SUBSCRIBER_PRIORITY: u8 = 128;

impl MoqtEngine {
    pub(super) fn cmd_fetch(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
        start: Location,
        end: Location,
        options: FetchOptions,
    ) -> Result<RequestHandle, CommandError> {
        if super::reserved::engine_only(&track.namespace) {
            return Err(CommandError::InvalidState("reserved namespace"));
        }
        if !end_not_before_start(start, end) {
            return Err(CommandError::InvalidState("fetch End Location before its Start Location"));
        }
        let checked = self.staged_tokens(shared, None)?;
        let wire_id = self.next_request_id;
        let msg = Fetch {
            request_id: wire_id,
            kind: FetchKind::Standalone {
                track: wire_track(&track),
                start: WireLocation { group: start.group, object: start.object },
                end: WireLocation { group: end.group, object: end.object },
            },
            parameters: Self::with_tokens(fetch_parameters(options), &checked),
        };
        let handle = self.send_new_request(shared, Kind::Fetch, wire_id, &msg, &checked)?;
        if let Some(r) = self.requests.get_mut(&handle) {
            r.track = track;
            r.fetch_start = Some(start);
        }
        Ok(handle)
    }

    pub(super) fn cmd_joining_fetch(
        &mut self,
        shared: &mut Shared,
        subscription: RequestHandle,
        start: JoinStart,
        options: FetchOptions,
    ) -> Result<RequestHandle, CommandError> {
        let sub = self.requests.get(&subscription).ok_or(CommandError::UnknownRequest(subscription))?;
        if !(sub.kind == Kind::Subscribe && sub.outbound) {
            return Err(CommandError::UnknownRequest(subscription));
        }
        let (joining_request_id, track) = (sub.wire_id, sub.track.clone());
        let checked = self.staged_tokens(shared, None)?;
        let wire_id = self.next_request_id;
        let kind = match start {
            JoinStart::Relative(n) => FetchKind::RelativeJoining { joining_request_id, joining_start: n },
            JoinStart::Absolute(g) => FetchKind::AbsoluteJoining { joining_request_id, joining_start: g },
        };
        let msg = Fetch {
            request_id: wire_id,
            kind,
            parameters: Self::with_tokens(fetch_parameters(options), &checked),
        };
        let handle = self.send_new_request(shared, Kind::Fetch, wire_id, &msg, &checked)?;
        if let Some(r) = self.requests.get_mut(&handle) {
            r.track = track;
            if let JoinStart::Absolute(group) = start {
                r.fetch_start = Some(Location { group, object: 0 });
            }
        }
        Ok(handle)
    }

    pub(super) fn on_fetch(&mut self, shared: &mut Shared, stream: StreamId, m: Fetch) {
        let priority = m.parameters.iter().find_map(|p| match p {
            Parameter::SubscriberPriority(x) => Some(*x),
            _ => None,
        });
        let fill_timeout_ms = m.parameters.iter().find_map(|p| match p {
            Parameter::FillTimeout(ms) => Some(*ms),
            _ => None,
        });
        let (track, start, end, joining) = match m.kind {
            FetchKind::Standalone { track, start, end } => (
                model_track(&track),
                Location { group: start.group, object: start.object },
                Some(Location { group: end.group, object: end.object }),
                None,
            ),
            FetchKind::RelativeJoining { joining_request_id, joining_start }
            | FetchKind::AbsoluteJoining { joining_request_id, joining_start } => {
                let relative = matches!(m.kind, FetchKind::RelativeJoining { .. });
                let joined = self
                    .by_wire_id
                    .get(&(false, joining_request_id))
                    .copied()
                    .filter(|h| self.requests.get(h).is_some_and(|r| r.kind == Kind::Subscribe));
                let Some(subscription) = joined else {
                    self.refuse_new_request(
                        shared,
                        stream,
                        RequestErrorCode::INVALID_JOINING_REQUEST_ID,
                        "no such subscription",
                    );
                    return;
                };
                let joining = Joining { subscription, relative, start: joining_start, fill_timeout_ms };
                (TrackName::default(), Location { group: 0, object: 0 }, None, Some(joining))
            }
        };
        if let Some(end) = end
            && !end_not_before_start(start, end)
        {
            self.refuse_new_request(shared, stream, RequestErrorCode::INVALID_RANGE, "End before Start");
            return;
        }
        if joining.is_none()
            && let Some(largest) = self.published_largest(&track)
            && largest.is_none_or(|l| start > l)
        {
            // §Fetch Handling: nothing published, or Start past the Largest Object.
            let why =
                if largest.is_none() { "no objects published" } else { "Start after the Largest Object" };
            self.refuse_new_request(shared, stream, RequestErrorCode::INVALID_RANGE, why);
            return;
        }
        let handle = self.add_inbound(stream, Kind::Fetch, m.request_id, shared);
        if let Some(r) = self.requests.get_mut(&handle) {
            r.track = track.clone();
            if let Some(p) = priority {
                r.options.priority = p;
            }
            r.joining = joining;
        }
        match joining {
            None => {
                let priority = priority.unwrap_or(DEFAULT_SUBSCRIBER_PRIORITY);
                shared.event(Event::IncomingFetch {
                    request: handle,
                    track: Box::new(track),
                    start,
                    end,
                    priority,
                    fill_timeout_ms,
                })
            }
            Some(j) => {
                let pending = self.requests.get(&j.subscription).is_some_and(|r| r.phase == Phase::Pending);
                // §10.12.2: a Joining Fetch on a subscription not yet answered waits for it.
                if !pending {
                    self.resolve_joining_fetch(shared, handle);
                }
            }
        }
    }

    /// What this session knows of the Largest Object of `track` as its publisher: `None`
    /// when it does not publish the track here (no established peer SUBSCRIBE or accepted
    /// PUBLISH of it: the application alone knows, e.g. an archive served only by FETCH);
    /// `Some(None)` when it does and no object is published (the application's TrackInfo
    /// said none and nothing was written since); else the largest of what the application
    /// declared and wrote.
    fn published_largest(&self, track: &TrackName) -> Option<Option<Location>> {
        let mut known = None;
        for r in self.requests.values() {
            let ours = (r.kind == Kind::Subscribe && !r.outbound) || (r.kind == Kind::Publish && r.outbound);
            if ours && r.phase == Phase::Established && r.track == *track {
                let best: Option<Location> = known.flatten();
                known = Some(best.max(r.info.largest));
            }
        }
        known
    }

    /// Evaluates a Joining Fetch against its (now answered) subscription (§10.12.2): the
    /// subscription must be established with Forward State 1 and a Largest Location, else
    /// REQUEST_ERROR INVALID_RANGE (or INVALID_JOINING_REQUEST_ID when it is gone).
    pub(super) fn resolve_joining_fetch(&mut self, shared: &mut Shared, handle: RequestHandle) {
        let Some((j, stream)) =
            self.requests.get_mut(&handle).and_then(|r| r.joining.take().map(|j| (j, r.stream)))
        else {
            return;
        };
        let sub = self
            .requests
            .get(&j.subscription)
            .filter(|r| r.kind == Kind::Subscribe && r.phase == Phase::Established);
        let answer = match sub {
            None => Err((RequestErrorCode::INVALID_JOINING_REQUEST_ID, "no such subscription")),
            Some(s) if !s.options.forward => {
                Err((RequestErrorCode::INVALID_RANGE, "subscription not forwarding"))
            }
            Some(s) => match s.info.largest {
                None => Err((RequestErrorCode::INVALID_RANGE, "no objects published")),
                // §Fetch Handling: Start greater than the Largest Object.
                Some(l) if !j.relative && j.start > l.group => {
                    Err((RequestErrorCode::INVALID_RANGE, "Start after the Largest Object"))
                }
                Some(l) => {
                    let group = if j.relative { l.group.saturating_sub(j.start) } else { j.start };
                    Ok((s.track.clone(), Location { group, object: 0 }))
                }
            },
        };
        match answer {
            Err((code, text)) => {
                self.send_request_error(shared, stream, code, text);
                self.forget(shared, handle);
            }
            Ok((track, start)) => {
                let mut priority = DEFAULT_SUBSCRIBER_PRIORITY;
                if let Some(r) = self.requests.get_mut(&handle) {
                    r.track = track.clone();
                    priority = r.options.priority;
                }
                shared.event(Event::IncomingFetch {
                    request: handle,
                    track: Box::new(track),
                    start,
                    end: None,
                    priority,
                    fill_timeout_ms: j.fill_timeout_ms,
                });
            }
        }
    }

    /// The Joining Fetches buffered on `subscription` (which was just answered or ended).
    pub(super) fn resolve_joining_fetches(&mut self, shared: &mut Shared, subscription: RequestHandle) {
        let mut waiting: Vec<RequestHandle> = self
            .requests
            .iter()
            .filter(|(_, r)| r.joining.is_some_and(|j| j.subscription == subscription))
            .map(|(h, _)| *h)
            .collect();
        waiting.sort();
        for h in waiting {
            self.resolve_joining_fetch(shared, h);
        }
    }

    pub(super) fn cmd_accept_fetch(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        end: Location,
        info: Option<&TrackInfo>,
    ) -> Result<(), CommandError> {
        let req = self.requests.get(&handle).ok_or(CommandError::UnknownRequest(handle))?;
        if req.outbound || req.kind != Kind::Fetch {
            return Err(CommandError::UnknownRequest(handle));
        }
        if req.phase != Phase::Pending {
            return Err(CommandError::InvalidState("already answered"));
        }
        let stream = req.stream;
        let msg = FetchOk {
            end_of_track: false,
            end_location: WireLocation { group: end.group, object: end.object },
            parameters: Parameters::new(),
            track_properties: match info {
                Some(info) => super::track_props::track_properties(info)?,
                None => Properties::empty(),
            },
        };
        let bytes = self.encode(&msg)?;
        self.send_on(shared, stream, bytes, false);
        if let Some(r) = self.requests.get_mut(&handle) {
            r.phase = Phase::Established;
        }
        self.answer_pending_updates(shared, handle);
        Ok(())
    }

    /// Our fetch data stream for `handle`, opened (with its FETCH_HEADER in `buf`) if new.
    fn fetch_stream(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        buf: &mut Vec<u8>,
    ) -> Result<StreamId, CommandError> {
        let req = self.requests.get(&handle).ok_or(CommandError::UnknownRequest(handle))?;
        if req.outbound || req.kind != Kind::Fetch {
            return Err(CommandError::UnknownRequest(handle));
        }
        if req.phase != Phase::Established {
            return Err(CommandError::InvalidState("fetch not accepted"));
        }
        if let Some((s, _)) = &req.fetch_out {
            return Ok(*s);
        }
        let (wire_id, order) = (req.wire_id, fetch_order(req.options.priority, req.info.publisher_priority));
        FetchHeader { request_id: wire_id }.encode(buf, self.version)?;
        let stream = shared.next_stream();
        shared.push(Output::OpenStream { stream, bidi: false, order });
        let encoder = FetchObjectEncoder::new(FetchOrder::Ascending, self.version);
        if let Some(r) = self.requests.get_mut(&handle) {
            r.fetch_out = Some((stream, encoder));
        }
        Ok(stream)
    }

    pub(super) fn cmd_write_fetch_object(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        group: u64,
        subgroup: u64,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        if object.status != ObjectStatus::Normal {
            return Err(CommandError::InvalidState("fetch objects carry no status"));
        }
        let properties = super::object_props::object_properties(&object.properties)?;
        let header = FetchItemHeader::Object(FetchObjectHeader {
            group_id: group,
            subgroup_id: Some(subgroup),
            object_id: object.object,
            publisher_priority: self.requests.get(&handle).map_or(128, |r| r.info.publisher_priority),
            properties,
            payload_len: object.payload.len() as u64,
        });
        self.write_fetch_item(shared, handle, &header, object.payload)
    }

    /// Writes one entry (object header + payload, or End of Range marker) to a fetch's data
    /// stream, opening it first if needed. The entry is validated against a copy of the
    /// encoder first, so a refused entry sends nothing.
    fn write_fetch_item(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        header: &FetchItemHeader,
        payload: Payload,
    ) -> Result<(), CommandError> {
        let mut probe = match self.requests.get(&handle).and_then(|r| r.fetch_out.as_ref()) {
            Some((_, e)) => e.clone(),
            None => FetchObjectEncoder::new(FetchOrder::Ascending, self.version),
        };
        probe.encode_header(&mut Vec::new(), header)?;
        let mut buf = Vec::new();
        let stream = self.fetch_stream(shared, handle, &mut buf)?;
        if let Some((_, e)) = self.requests.get_mut(&handle).and_then(|r| r.fetch_out.as_mut()) {
            e.encode_header(&mut buf, header)?;
        }
        shared.write_payload(stream, HeaderBytes::from_slice(&buf), payload, false);
        Ok(())
    }

    /// An End of Range marker (§"End of Range"): the locations after the previous entry up
    /// to and including `through` do not exist (`unknown` false) or are unknown.
    pub(super) fn cmd_write_fetch_gap(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        through: Location,
        unknown: bool,
    ) -> Result<(), CommandError> {
        let kind = if unknown { EndOfRangeKind::Unknown } else { EndOfRangeKind::NonExistent };
        let header = FetchItemHeader::EndOfRange(EndOfRange {
            kind,
            group_id: through.group,
            object_id: through.object,
        });
        self.write_fetch_item(shared, handle, &header, Payload::empty())
    }

    pub(super) fn cmd_finish_fetch(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
    ) -> Result<(), CommandError> {
        let mut buf = Vec::new();
        let stream = self.fetch_stream(shared, handle, &mut buf)?;
        shared.push(Output::Write {
            stream,
            header: Bytes::from(buf).into(),
            payload: Bytes::new(),
            fin: true,
        });
        let req_stream = self.requests.get_mut(&handle).map(|r| {
            r.fetch_out = None;
            r.stream
        });
        if let Some(s) = req_stream {
            self.send_on(shared, s, Bytes::new(), true);
        }
        self.forget(shared, handle);
        Ok(())
    }

    pub(super) fn on_fetch_response(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        msg: ControlMessage,
    ) {
        let Some(req) = self.requests.get(&handle) else { return };
        let (phase, stream, start) = (req.phase, req.stream, req.fetch_start);
        match msg {
            ControlMessage::FetchOk(ok) if phase == Phase::Pending => {
                if start.is_some_and(|s| end_before_start(ok.end_location, s)) {
                    return self.fail(
                        shared,
                        SessionErrorCode::PROTOCOL_VIOLATION,
                        "FETCH_OK End Location before the Start Location",
                    );
                }
                match self.check_track_properties(shared, &ok.track_properties) {
                    TrackProps::Fine => {}
                    TrackProps::Closed => return,
                    TrackProps::UnknownMandatory(kind) => {
                        // §2.5.1: cancel the fetch and tell the application.
                        let _ = self.cmd_cancel(shared, handle);
                        shared.event(Event::FetchEnded { request: handle, reason: unsupported(kind) });
                        return;
                    }
                }
                let mut info = Box::default();
                if let Some(r) = self.requests.get_mut(&handle) {
                    r.phase = Phase::Established;
                    super::track_props::read_track_properties(&mut r.info, &ok.track_properties);
                    info = Box::new(r.info.clone());
                }
                let end = Location { group: ok.end_location.group, object: ok.end_location.object };
                shared.event(Event::FetchAccepted { request: handle, end, info });
                if self.requests.get(&handle).is_some_and(|r| r.fetch_data_done) {
                    self.fetch_complete(shared, handle);
                }
            }
            ControlMessage::RequestError(e) if phase == Phase::Pending => {
                let Some(why) = self.refusal(shared, handle, &e) else { return };
                shared.event(Event::FetchEnded { request: handle, reason: why });
                self.send_on(shared, stream, Bytes::new(), true);
                self.forget(shared, handle);
            }
            _ => self.unexpected(shared),
        }
    }

    /// Our fetch's data stream ended cleanly (and FETCH_OK has arrived): `FetchEnded` with
    /// code 0, and our request half finished too.
    fn fetch_complete(&mut self, shared: &mut Shared, handle: RequestHandle) {
        shared.event(Event::FetchEnded { request: handle, reason: Reason { code: 0, text: String::new() } });
        if let Some(s) = self.requests.get(&handle).map(|r| r.stream) {
            self.send_on(shared, s, Bytes::new(), true);
        }
        self.forget(shared, handle);
    }

    /// Delivers every complete object of a fetch stream.
    pub(super) fn process_fetch_stream(&mut self, shared: &mut Shared, stream: StreamId) {
        loop {
            if shared.closed {
                return;
            }
            let max_object = shared.config.max_object_size;
            let Some(InStream::Fetch(f)) = self.streams.get_mut(&stream) else { return };
            let Some(handle) = f.request else { return };
            if f.pending.is_none() {
                let FetchIn { buf, decoder, .. } = f;
                match decode_buffered(buf, |r| decoder.decode_header(r)) {
                    Ok(Some(FetchItemHeader::Object(h))) => f.pending = Some(h),
                    Ok(Some(FetchItemHeader::EndOfRange(m))) => {
                        shared.event(Event::FetchGap {
                            request: handle,
                            through: Location { group: m.group_id, object: m.object_id },
                            unknown: m.kind == EndOfRangeKind::Unknown,
                        });
                        continue;
                    }
                    Ok(None) => {
                        if f.fin {
                            if f.buf.is_empty() {
                                self.streams.remove(&stream);
                                match self.requests.get_mut(&handle) {
                                    // FETCH_OK not here yet: the end waits for it.
                                    Some(r) if r.phase == Phase::Pending => r.fetch_data_done = true,
                                    _ => self.fetch_complete(shared, handle),
                                }
                            } else {
                                self.fail(
                                    shared,
                                    SessionErrorCode::PROTOCOL_VIOLATION,
                                    "fetch stream ends inside an object",
                                );
                            }
                        }
                        return;
                    }
                    Err(v) => return self.fail_violation(shared, &v),
                }
            }
            let Some(h) = f.pending.as_ref() else { return };
            if h.payload_len > max_object {
                self.streams.remove(&stream);
                shared.push(Output::StopSending {
                    stream,
                    code: sluice_wire::moqt::codes::StreamResetCode::EXCESSIVE_LOAD.0,
                });
                return;
            }
            let need = usize::try_from(h.payload_len).unwrap_or(usize::MAX);
            if f.buf.len() < need {
                if f.fin {
                    self.fail(
                        shared,
                        SessionErrorCode::PROTOCOL_VIOLATION,
                        "fetch stream ends inside an object",
                    );
                }
                return;
            }
            let Some(h) = f.pending.take() else { return };
            let seen = Seen {
                group: h.group_id,
                subgroup: h.subgroup_id,
                object: h.object_id,
                status: ObjectStatus::Normal,
                priority: h.publisher_priority,
                properties: &h.properties,
            };
            if !self.check_object(shared, handle, &seen) {
                return;
            }
            let Some(InStream::Fetch(f)) = self.streams.get_mut(&stream) else { return };
            let payload = f.buf.take(need);
            let info = ObjectInfo {
                group: h.group_id,
                subgroup: h.subgroup_id.unwrap_or(0),
                object: h.object_id,
                status: ObjectStatus::Normal,
                publisher_priority: Some(h.publisher_priority),
                properties: ObjectProperties::new(h.properties.raw().clone()),
                timestamp: None,
                properties_present: !h.properties.is_empty(),
            };
            shared.event(Event::Object { request: handle, info, payload });
        }
    }

    /// The publisher reset the fetch data stream.
    pub(super) fn fetch_stream_reset(&mut self, shared: &mut Shared, f: FetchIn, code: u64) {
        if let Some(handle) = f.request
            && self.requests.contains_key(&handle)
        {
            shared.event(Event::FetchEnded { request: handle, reason: Reason { code, text: String::new() } });
            // The fetch is over: finish our (request) half, as on a complete fetch.
            if let Some(s) = self.requests.get(&handle).map(|r| r.stream) {
                self.send_on(shared, s, Bytes::new(), true);
            }
            self.forget(shared, handle);
        }
    }
}

/// A FETCH's parameters: its SUBSCRIBER_PRIORITY and, when given, FILL_TIMEOUT.
fn fetch_parameters(options: FetchOptions) -> Parameters {
    // Ascending type order (FILL_TIMEOUT 0x0A before SUBSCRIBER_PRIORITY 0x20).
    let mut params: Vec<Parameter> =
        options.fill_timeout_ms.map(Parameter::FillTimeout).into_iter().collect();
    params.push(Parameter::SubscriberPriority(options.priority));
    Parameters(params)
}

/// True when a FETCH_OK End Location is smaller than the FETCH's Start Location (§10.13).
/// The End Location is "last object plus one", or object 0 for the whole group: `{G, 0}`
/// reaches past every object of group G, so it is smaller only when G is.
fn end_before_start(end: WireLocation, start: Location) -> bool {
    if end.object == 0 {
        end.group < start.group
    } else {
        (end.group, end.object) < (start.group, start.object)
    }
}

/// §10.12 "End Location MUST specify the same or a larger Location than Start Location":
/// compared as encoded, except that an End object of 0 (the whole End group) only needs
/// the End group not to precede the Start group.
fn end_not_before_start(start: Location, end: Location) -> bool {
    if end.object == 0 { end.group >= start.group } else { end >= start }
}
