//! Objects on uni data streams and datagrams (draft-18 §11).
//!
//! Receiving: a new uni stream is routed by its type (`stream_type`): SUBGROUP_HEADER,
//! FETCH_HEADER, the control stream (SETUP) or PADDING (discarded); any other type closes
//! the session with PROTOCOL_VIOLATION. Until its header is complete a stream may hold at
//! most `Config::max_unidentified_bytes`, else it is stopped (EXCESSIVE_LOAD). Objects are
//! delivered as `Event::Object` once their whole payload is buffered; the payload is taken
//! from the receive buffer without copying (`RecvBuffer::take`). A subgroup stream whose
//! Track Alias is not (yet) known is buffered — at most `Config::max_unknown_alias_bytes`
//! across such streams, for at most `Config::unknown_alias_timeout` — then stopped
//! (STOP_SENDING CANCELLED, §11.3: "buffer briefly or drop"). Datagrams for an unknown
//! alias are dropped at once (they are unreliable by nature). A peer reset of a subgroup
//! stream is reported as `GroupsDropped` for that group. Datagram objects have no subgroup
//! and are reported with subgroup 0; their payload is a slice of the datagram (no copy).
//! Every received object (and every subgroup FIN) first passes the malformed-track checks
//! (`malformed`); an object that fails them is not delivered.
//!
//! Sending: `open_subgroup` opens the stream at once; its SUBGROUP_HEADER is written with
//! the first object so the type byte can be chosen: subgroup id mode "zero" for subgroup
//! 0 else explicit, the priority byte only when a priority was given, the PROPERTIES bit
//! when the first object carries properties (a later object with properties on a stream
//! without the bit is refused: put properties on the first object of such a subgroup).
//! FIRST_OBJECT is set when the first object written says it is the first of its subgroup
//! (`ObjectWrite::first_in_subgroup`, by default: object id 0).
//! `close_subgroup(end_of_group)`: the END_OF_GROUP header bit is used when no object was
//! written yet (the header is still unwritten, so it is known in time); otherwise an
//! End of Group status object (id = last + 1) is written before FIN (§11.2.1.1).
//! An object's payload goes out as the caller's chunks, one `Output::Write` each, never
//! joined (`Shared::write_payload`). Datagram payloads are copied once into the datagram
//! (a datagram is one buffer), whether they came as one chunk or several.
//! Writes, opens and FINs feed the delivery timers of `timeouts`.

use bytes::Bytes;
use sluice_wire::moqt::codes::{SessionErrorCode, StreamResetCode};
use sluice_wire::moqt::datagram::{Datagram, DatagramBody, ObjectDatagram};
use sluice_wire::moqt::fetch_stream::{FetchHeader, FetchObjectDecoder, GroupOrder as FetchOrder};
use sluice_wire::moqt::kvp::Properties;
use sluice_wire::moqt::object::ObjectStatus as WireStatus;
use sluice_wire::moqt::stream_type::UniStreamType;
use sluice_wire::moqt::subgroup::{
    SubgroupHeader, SubgroupId, SubgroupObjectDecoder, SubgroupObjectEncoder, SubgroupObjectHeader,
};
use sluice_wire::{Decode, Encode, HeaderBytes};

use super::MoqtEngine;
use super::forwarding::Preference;
use super::malformed::Seen;
use super::priority::data_order;
use super::requests::{decode_buffered, peek_buffered};
use super::state::{FetchIn, InStream, OutData, Phase, SubgroupIn};
use crate::engine::{ObjectWrite, Shared};
use crate::error::CommandError;
use crate::event::{Event, Reason};
use crate::ids::{RequestHandle, StreamId};
use crate::io::Output;
use crate::model::{Location, ObjectInfo, ObjectProperties, ObjectStatus};
use crate::recv::Payload;

/// The properties of an object written without any.
static NO_PROPERTIES: Properties = Properties::empty();

/// What a uni stream's first bytes say it is.
enum UniHeader {
    Control,
    Padding,
    Subgroup(SubgroupHeader),
    Fetch(FetchHeader),
}

/// [`decode_buffered`] that first decodes from the first received chunk as it is (borrowed:
/// no join, no reference-count traffic), the common case of a header inside one chunk.
fn decode_front<T>(
    buf: &mut crate::recv::RecvBuffer,
    mut f: impl FnMut(&mut sluice_wire::Reader<'_>) -> Result<T, sluice_wire::DecodeError>,
) -> Result<Option<T>, sluice_wire::Violation> {
    let Some(first) = buf.first_chunk() else { return Ok(None) };
    let mut r = sluice_wire::Reader::new(first);
    match f(&mut r) {
        Ok(v) => {
            let used = r.position();
            buf.advance(used);
            Ok(Some(v))
        }
        Err(sluice_wire::DecodeError::Incomplete) => decode_buffered(buf, f),
        Err(sluice_wire::DecodeError::Invalid(v)) => Err(v),
    }
}

/// True once an object header's Properties field is wholly buffered (or the header is
/// malformed, for the decoder to report). Checked before decoding so a large properties
/// field arriving in small chunks is joined once, not once per chunk.
fn properties_buffered(buf: &mut crate::recv::RecvBuffer) -> bool {
    let head = peek_buffered(buf, |r| {
        r.vi64()?;
        let len = r.vi64()?;
        Ok(usize::try_from(len).unwrap_or(usize::MAX))
    });
    match head {
        // Over the codec's bound: let the decoder report the violation now.
        Ok(Some((len, _))) if len as u64 > sluice_wire::moqt::object::MAX_OBJECT_PROPERTIES_LEN => true,
        Ok(Some((len, used))) => buf.len() >= used.saturating_add(len),
        Ok(None) => false,
        Err(_) => true,
    }
}

/// Raises `r`'s Largest Location to (group, object) if that is larger.
fn raise_largest(r: &mut super::state::Request, group: u64, object: u64) {
    if r.info.largest.is_none_or(|l| (l.group, l.object) < (group, object)) {
        r.info.largest = Some(Location { group, object });
    }
}

pub(super) fn model_status(s: WireStatus) -> ObjectStatus {
    match s {
        WireStatus::Normal => ObjectStatus::Normal,
        WireStatus::EndOfGroup => ObjectStatus::EndOfGroup,
        WireStatus::EndOfTrack => ObjectStatus::EndOfTrack,
    }
}

pub(super) fn wire_status(s: ObjectStatus) -> WireStatus {
    match s {
        ObjectStatus::Normal => WireStatus::Normal,
        ObjectStatus::EndOfGroup => WireStatus::EndOfGroup,
        ObjectStatus::EndOfTrack => WireStatus::EndOfTrack,
    }
}

impl MoqtEngine {
    /// Routes a new uni stream by its type.
    pub(super) fn identify_uni(&mut self, shared: &mut Shared, stream: StreamId) {
        let version = self.version;
        let Some(slot) = self.streams.get_mut(&stream) else { return };
        let InStream::Unidentified { buf } = slot else { return };
        let found = peek_buffered(buf, |r| {
            Ok(match UniStreamType::decode(r, version)? {
                UniStreamType::Control => UniHeader::Control,
                UniStreamType::Padding => UniHeader::Padding,
                UniStreamType::Subgroup(ty) => {
                    UniHeader::Subgroup(SubgroupHeader::decode_after_type(r, ty, version)?)
                }
                UniStreamType::Fetch => UniHeader::Fetch(FetchHeader::decode_after_type(r, version)?),
            })
        });
        let (header, used) = match found {
            Ok(Some(h)) => h,
            Ok(None) => {
                if buf.len() > shared.config.max_unidentified_bytes {
                    self.stop_data_stream(shared, stream, StreamResetCode::EXCESSIVE_LOAD.0);
                }
                return;
            }
            Err(v) => return self.fail_violation(shared, &v),
        };
        let mut buf = std::mem::take(buf);
        match header {
            UniHeader::Control => {
                if self.control_in.is_some() {
                    return self.fail(shared, SessionErrorCode::PROTOCOL_VIOLATION, "second control stream");
                }
                self.control_in = Some(stream);
                self.streams.insert(stream, InStream::Control { buf, got_setup: false });
                self.process_control(shared, stream);
            }
            UniHeader::Padding => {
                self.streams.insert(stream, InStream::Discard);
            }
            UniHeader::Subgroup(header) => {
                buf.advance(used);
                let mut sg = SubgroupIn {
                    buf,
                    fin: false,
                    header,
                    decoder: SubgroupObjectDecoder::new(&header, version),
                    request: None,
                    alias_deadline: self.now + shared.config.unknown_alias_timeout,
                    pending: None,
                    subgroup: match header.subgroup_id {
                        SubgroupId::Zero => Some(0),
                        SubgroupId::Explicit(id) => Some(id),
                        SubgroupId::FirstObject => None,
                    },
                };
                // Bound, stored and processed through the entry in hand (what
                // `bind_subgroup` and `process_subgroup` do after looking it up again).
                bind(&mut sg, &mut self.aliases_in, &mut self.requests);
                *slot = InStream::Subgroup(sg);
                let InStream::Subgroup(sg) = slot else { return };
                if shared.closed {
                    return;
                }
                let stop = deliver_subgroup(sg, &mut self.requests, shared);
                self.subgroup_stopped(shared, stream, stop);
            }
            UniHeader::Fetch(h) => {
                buf.advance(used);
                let Some(handle) = self.by_wire_id.get(&(true, h.request_id)).copied() else {
                    return self.fail(
                        shared,
                        SessionErrorCode::PROTOCOL_VIOLATION,
                        "fetch stream for an unknown request",
                    );
                };
                self.streams.insert(
                    stream,
                    InStream::Fetch(FetchIn {
                        buf,
                        fin: false,
                        request: Some(handle),
                        decoder: FetchObjectDecoder::new(FetchOrder::Ascending, version),
                        pending: None,
                    }),
                );
                self.process_fetch_stream(shared, stream);
            }
        }
    }

    /// Ties a subgroup stream to its subscription if its alias is known and live.
    fn bind_subgroup(&mut self, stream: StreamId) {
        if let Some(InStream::Subgroup(sg)) = self.streams.get_mut(&stream) {
            bind(sg, &mut self.aliases_in, &mut self.requests);
        }
    }

    /// A track alias became known: process the streams that waited for it.
    pub(super) fn resolve_alias(&mut self, shared: &mut Shared, alias: u64) {
        let mut waiting: Vec<StreamId> = self
            .streams
            .iter()
            .filter(|(_, s)| matches!(s, InStream::Subgroup(sg) if sg.request.is_none() && sg.header.track_alias == alias))
            .map(|(id, _)| *id)
            .collect();
        waiting.sort();
        for stream in waiting {
            self.bind_subgroup(stream);
            self.process_subgroup(shared, stream);
        }
    }

    fn unknown_alias_bytes(&self) -> usize {
        self.streams
            .values()
            .map(|s| match s {
                InStream::Subgroup(sg) if sg.request.is_none() => sg.buf.len(),
                _ => 0,
            })
            .sum()
    }

    /// Stops a data stream we receive and forgets it.
    pub(super) fn stop_data_stream(&mut self, shared: &mut Shared, stream: StreamId, code: u64) {
        if let Some(InStream::Subgroup(sg)) = self.streams.remove(&stream)
            && let Some(h) = sg.request
            && let Some(r) = self.requests.get_mut(&h)
        {
            r.streams_open_in = r.streams_open_in.saturating_sub(1);
            shared.push(Output::StopSending { stream, code });
            self.check_done(shared, h, false);
            return;
        }
        shared.push(Output::StopSending { stream, code });
    }

    /// Timer: subgroup streams that waited too long for their alias.
    pub(super) fn expire_unknown_aliases(&mut self, shared: &mut Shared) {
        let now = self.now;
        let due: Vec<StreamId> = self
            .streams
            .iter()
            .filter(|(_, s)| s.alias_deadline().is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for s in due {
            self.stop_data_stream(shared, s, StreamResetCode::CANCELLED.0);
        }
    }

    /// Delivers every complete object of a subgroup stream.
    pub(super) fn process_subgroup(&mut self, shared: &mut Shared, stream: StreamId) {
        if shared.closed {
            return;
        }
        let Some(InStream::Subgroup(sg)) = self.streams.get_mut(&stream) else { return };
        let stop = deliver_subgroup(sg, &mut self.requests, shared);
        self.subgroup_stopped(shared, stream, stop);
    }

    /// Acts on why [`deliver_subgroup`] stopped: everything that needs the whole engine.
    /// Waiting for bytes (nearly every call) needs nothing: one inlined compare.
    #[inline(always)]
    pub(super) fn subgroup_stopped(&mut self, shared: &mut Shared, stream: StreamId, stop: SubgroupStop) {
        if !matches!(stop, SubgroupStop::Wait) {
            self.subgroup_stopped_for(shared, stream, stop);
        }
    }

    // Out of line: kept out of `subgroup_stopped`, which stays one compare at its callers.
    #[inline(never)]
    fn subgroup_stopped_for(&mut self, shared: &mut Shared, stream: StreamId, stop: SubgroupStop) {
        match stop {
            SubgroupStop::Wait => {}
            SubgroupStop::NoRequest => {
                if self.unknown_alias_bytes() > shared.config.max_unknown_alias_bytes {
                    self.stop_data_stream(shared, stream, StreamResetCode::EXCESSIVE_LOAD.0);
                }
            }
            SubgroupStop::Ends(handle) => self.subgroup_ends(shared, stream, handle),
            SubgroupStop::Violation(v) => self.fail_violation(shared, &v),
            SubgroupStop::TooLarge => {
                self.stop_data_stream(shared, stream, StreamResetCode::EXCESSIVE_LOAD.0)
            }
            SubgroupStop::EndsInsideObject => self.fail(
                shared,
                SessionErrorCode::PROTOCOL_VIOLATION,
                "subgroup stream ends inside an object",
            ),
            SubgroupStop::Malformed(handle, m) => self.malformed(shared, handle, m),
        }
    }

    /// A finished subgroup stream has no whole object header left: it ends cleanly between
    /// objects, or inside one (a violation).
    fn subgroup_ends(&mut self, shared: &mut Shared, stream: StreamId, handle: RequestHandle) {
        let Some(InStream::Subgroup(sg)) = self.streams.get(&stream) else { return };
        if !sg.buf.is_empty() {
            return self.fail(
                shared,
                SessionErrorCode::PROTOCOL_VIOLATION,
                "subgroup stream ends inside an object",
            );
        }
        let fin = match (sg.subgroup, sg.decoder.prev_object_id()) {
            (Some(subgroup), Some(last)) => {
                Some((sg.header.group_id, subgroup, last, sg.header.end_of_group))
            }
            _ => None,
        };
        self.subgroup_finished(shared, stream, handle, fin);
    }

    /// A subgroup stream ended cleanly after `fin` (group, subgroup, last object,
    /// END_OF_GROUP; `None`: no object): the subgroup-end checks, `SubgroupEnded`, and the
    /// stream is forgotten. One lookup of the request serves the checks and the count.
    fn subgroup_finished(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        handle: RequestHandle,
        fin: Option<(u64, u64, u64, bool)>,
    ) {
        let limit = shared.config.max_track_check_entries;
        let Some(r) = self.requests.get_mut(&handle) else {
            // No request: the checks cannot run (the stream stays, as before), and without
            // an object there is nothing to check or count.
            if fin.is_none() {
                self.streams.remove(&stream);
            }
            return;
        };
        if let Some((group, subgroup, last, eog)) = fin {
            if let Err(m) = r.check.subgroup_fin(group, subgroup, last, eog, limit) {
                return self.malformed(shared, handle, m);
            }
            shared.event(Event::SubgroupEnded { request: handle, group, subgroup });
        }
        r.streams_open_in = r.streams_open_in.saturating_sub(1);
        // `check_done` acts only after PUBLISH_DONE: without one, its lookup is skipped.
        let done = r.done.is_some();
        self.streams.remove(&stream);
        if done {
            self.check_done(shared, handle, false);
        }
    }

    /// The peer reset a subgroup stream: its group (from this stream on) is dropped.
    pub(super) fn subgroup_gone(&mut self, shared: &mut Shared, sg: SubgroupIn, code: u64) {
        let Some(handle) = sg.request else { return };
        if let Some(r) = self.requests.get_mut(&handle) {
            r.streams_open_in = r.streams_open_in.saturating_sub(1);
        }
        let group = sg.header.group_id;
        shared.event(Event::GroupsDropped {
            request: handle,
            first: group,
            last: group,
            reason: Reason { code, text: String::new() },
        });
        self.check_done(shared, handle, false);
    }

    /// A received datagram.
    pub(super) fn handle_datagram(&mut self, shared: &mut Shared, data: Bytes) {
        let d = match Datagram::decode_datagram(&data, self.version) {
            Ok(Datagram::Object(d)) => d,
            Ok(Datagram::Padding(_)) => return,
            Err(e) => return self.fail_decode(shared, &e),
        };
        let Some(handle) = self.aliases_in.get(d.track_alias) else { return };
        if self.requests.get(&handle).is_none_or(|r| r.phase != Phase::Established) {
            return;
        }
        let (status, payload) = match d.body {
            DatagramBody::Payload(p) => (ObjectStatus::Normal, p),
            DatagramBody::Status(s) => (model_status(s), Bytes::new()),
        };
        let seen = Seen {
            group: d.group_id,
            subgroup: None,
            object: d.object_id,
            status,
            priority: 0,
            properties: &d.properties,
        };
        if !self.check_object(shared, handle, &seen) {
            return;
        }
        let info = ObjectInfo {
            group: d.group_id,
            subgroup: 0,
            object: d.object_id,
            status,
            publisher_priority: d.publisher_priority,
            properties: ObjectProperties::new(d.properties.raw().clone()),
            timestamp: None,
            properties_present: !d.properties.is_empty(),
        };
        shared.event(Event::Object { request: handle, info, payload: payload.into() });
    }

    /// The alias and send-order inputs of a subscription we publish.
    fn publishing(
        &self,
        handle: RequestHandle,
    ) -> Result<(u64, u8, u8, crate::model::GroupOrder), CommandError> {
        let req = self.requests.get(&handle).ok_or(CommandError::UnknownRequest(handle))?;
        publishing_of(req, handle)
    }

    pub(super) fn cmd_open_subgroup(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        subgroup: u64,
        priority: Option<u8>,
    ) -> Result<StreamId, CommandError> {
        // One lookup of the request for the checks and the stream count.
        let r = self.requests.get_mut(&request).ok_or(CommandError::UnknownRequest(request))?;
        let (alias, sub_pri, pub_pri, order) = publishing_of(r, request)?;
        r.streams_opened = r.streams_opened.saturating_add(1);
        let header = SubgroupHeader {
            track_alias: alias,
            group_id: group,
            subgroup_id: if subgroup == 0 { SubgroupId::Zero } else { SubgroupId::Explicit(subgroup) },
            publisher_priority: priority,
            properties_present: false,
            end_of_group: false,
            first_object: false,
        };
        let stream = shared.next_stream();
        let send_order = data_order(sub_pri, priority.unwrap_or(pub_pri), order, group, subgroup);
        shared.push(Output::OpenStream { stream, bidi: false, order: send_order });
        self.data_out.insert(stream, OutData::new(request, header));
        Ok(stream)
    }

    pub(super) fn cmd_write_object(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        let version = self.version;
        // One lookup of the stream and one of its request serve every step below (the
        // stream's and the request table are disjoint fields of the engine).
        let out = self.data_out.get_mut(&stream).ok_or(CommandError::UnknownStream(stream))?;
        let mut r = self.requests.get_mut(&out.request);
        let group = out.header.group_id;
        if let Some(r) = r.as_deref() {
            r.forwarding.check(group, object.object, Preference::Subgroup)?;
        }
        // No properties (the common case): the shared empty list, nothing parsed or dropped.
        let parsed = if object.properties.is_empty() {
            None
        } else {
            Some(super::object_props::object_properties(&object.properties)?)
        };
        let properties = parsed.as_ref().unwrap_or(&NO_PROPERTIES);
        if object.first_byte_at.is_some() {
            let first = out.encoder.is_none().then_some(properties);
            let timeout = super::timeouts::subgroup_object_timeout_ms(r.as_deref(), out, first);
            if super::timeouts::expired(self.now, object.first_byte_at, timeout) {
                self.abandon_subgroup(shared, stream, StreamResetCode::DELIVERY_TIMEOUT.0);
                self.timing_forget(stream);
                return Err(CommandError::DeliveryTimeout);
            }
        }
        let (status, payload_len) = (wire_status(object.status), object.payload.len() as u64);
        let first = out.encoder.is_none();
        let buf = match &mut out.encoder {
            // Every object after the first: the header straight into inline bytes.
            Some(e) => e.header_bytes(object.object, properties, status, payload_len)?,
            // The first: SUBGROUP_HEADER and object header together.
            None => shared.encode_header(|buf| -> Result<(), sluice_wire::EncodeError> {
                let header = SubgroupObjectHeader {
                    object_id: object.object,
                    properties: properties.clone(),
                    status,
                    payload_len,
                };
                let mut h = out.header;
                h.properties_present =
                    object.properties_present == Some(true) || !object.properties.is_empty();
                h.first_object = object.first_in_subgroup.unwrap_or(object.object == 0);
                h.encode(buf, version)?;
                let mut e = SubgroupObjectEncoder::new(&h, version);
                e.encode_header(buf, &header)?;
                out.header = h;
                out.encoder = Some(e);
                Ok(())
            })?,
        };
        out.last_object = Some(object.object);
        // The track's Largest Location, the forwarding record and the delivery timer.
        if let Some(r) = r.as_deref_mut() {
            raise_largest(r, group, object.object);
            let bound = shared.config.max_forwarding_runs;
            r.forwarding.record(group, object.object, Preference::Subgroup, bound);
        }
        let first_props = first.then_some(properties);
        Self::timing_object_written(self.now, r.as_deref(), out, first_props, object.first_byte_at);
        shared.write_payload(stream, buf, object.payload, false);
        Ok(())
    }

    /// Resets a subgroup stream we write whose objects were not all delivered (draft-18
    /// "Closing Subgroup Streams": closing early MUST reset, never FIN). A stream with no
    /// object yet first gets its SUBGROUP_HEADER, so the subscriber can tie the reset to
    /// the subscription and count it against PUBLISH_DONE (the draft's "header, then
    /// RESET_STREAM_AT"; without RESET_STREAM_AT the transport may drop the header, and
    /// the subscriber then waits out its PUBLISH_DONE grace period).
    pub(super) fn abandon_subgroup(&mut self, shared: &mut Shared, stream: StreamId, code: u64) {
        let Some(out) = self.data_out.remove(&stream) else { return };
        if out.encoder.is_none() {
            let mut buf = Vec::new();
            if out.header.encode(&mut buf, self.version).is_ok() {
                shared.push(Output::Write {
                    stream,
                    header: HeaderBytes::from_slice(&buf),
                    payload: Bytes::new(),
                    fin: false,
                });
            }
        }
        shared.push(Output::Reset { stream, code });
    }

    pub(super) fn cmd_close_subgroup(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        end_of_group: bool,
    ) -> Result<(), CommandError> {
        let version = self.version;
        // Taken out at once (one lookup); put back if the last header cannot be encoded.
        let mut out = self.data_out.remove(&stream).ok_or(CommandError::UnknownStream(stream))?;
        let header = match close_header(&mut out, end_of_group, version) {
            Ok(h) => h,
            Err(e) => {
                self.data_out.insert(stream, out);
                return Err(e.into());
            }
        };
        self.timing_finished(stream, &out);
        shared.push(Output::Write { stream, header, payload: Bytes::new(), fin: true });
        Ok(())
    }

    pub(super) fn cmd_send_datagram(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        let (alias, ..) = self.publishing(request)?;
        if let Some(r) = self.requests.get(&request) {
            r.forwarding.check(group, object.object, Preference::Datagram)?;
        }
        if super::timeouts::expired(self.now, object.first_byte_at, self.datagram_timeout_ms(request)) {
            // Expired before it could be handed to the transport: dropped (§"Delivery
            // Timeouts and Data Reliability").
            return Err(CommandError::DeliveryTimeout);
        }
        let properties = super::object_props::object_properties(&object.properties)?;
        let body = match object.status {
            // A datagram is one buffer: a payload in chunks is joined (copied once).
            ObjectStatus::Normal => DatagramBody::Payload(object.payload.to_bytes()),
            s => DatagramBody::Status(wire_status(s)),
        };
        let d = ObjectDatagram {
            track_alias: alias,
            group_id: group,
            object_id: object.object,
            publisher_priority: None,
            end_of_group: false,
            properties,
            body,
        };
        let mut buf = Vec::new();
        d.encode(&mut buf, self.version)?;
        shared.push(Output::Datagram(Bytes::from(buf)));
        self.note_published(request, group, object.object);
        if let Some(r) = self.requests.get_mut(&request) {
            let bound = shared.config.max_forwarding_runs;
            r.forwarding.record(group, object.object, Preference::Datagram, bound);
        }
        Ok(())
    }

    /// Raises the Largest Location of a track we publish (a Joining Fetch starts from it).
    fn note_published(&mut self, handle: RequestHandle, group: u64, object: u64) {
        if let Some(r) = self.requests.get_mut(&handle) {
            raise_largest(r, group, object);
        }
    }

    /// Recomputes the send order of a subscription's open data streams (after an update).
    pub(super) fn reprioritize(&mut self, shared: &mut Shared, handle: RequestHandle) {
        let Ok((_, sub_pri, pub_pri, order)) = self.publishing(handle) else { return };
        let mut streams: Vec<(StreamId, u64, u64, Option<u8>)> = self
            .data_out
            .iter()
            .filter(|(_, d)| d.request == handle)
            .map(|(s, d)| {
                let sub = match d.header.subgroup_id {
                    SubgroupId::Explicit(x) => x,
                    _ => 0,
                };
                (*s, d.header.group_id, sub, d.header.publisher_priority)
            })
            .collect();
        streams.sort();
        for (stream, group, subgroup, pri) in streams {
            let order = data_order(sub_pri, pri.unwrap_or(pub_pri), order, group, subgroup);
            shared.push(Output::SetOrder { stream, order });
        }
    }
}

/// The alias and send-order inputs of `req` (`handle`), a subscription we publish.
fn publishing_of(
    req: &super::state::Request,
    handle: RequestHandle,
) -> Result<(u64, u8, u8, crate::model::GroupOrder), CommandError> {
    if !req.we_publish() {
        return Err(CommandError::UnknownRequest(handle));
    }
    let alias = req.alias.ok_or(CommandError::InvalidState("subscription not accepted yet"))?;
    if req.kind == super::state::Kind::Subscribe && req.phase != Phase::Established {
        return Err(CommandError::InvalidState("subscription not accepted yet"));
    }
    let order = req.options.group_order.unwrap_or(req.info.group_order);
    Ok((alias, req.options.priority, req.info.publisher_priority, order))
}

/// Ties the subgroup stream `sg` to its subscription if its alias is known and live.
fn bind(sg: &mut SubgroupIn, aliases_in: &mut super::state::Aliases, requests: &mut super::state::Requests) {
    if sg.request.is_some() {
        return;
    }
    let Some(handle) = aliases_in.get(sg.header.track_alias) else { return };
    let Some(req) = requests.get_mut(&handle) else { return };
    if req.phase != Phase::Established {
        return;
    }
    req.streams_seen = req.streams_seen.saturating_add(1);
    req.streams_open_in = req.streams_open_in.saturating_add(1);
    sg.request = Some(handle);
}

/// What closing `out`'s stream writes before FIN: the SUBGROUP_HEADER of a stream with no
/// object (END_OF_GROUP bit as asked), an End of Group status object, or nothing.
fn close_header(
    out: &mut OutData,
    end_of_group: bool,
    version: sluice_wire::MoqtVersion,
) -> Result<HeaderBytes, sluice_wire::EncodeError> {
    match (&mut out.encoder, end_of_group) {
        (None, eog) => {
            let mut h = out.header;
            h.end_of_group = eog;
            h.encode_header_bytes(version)
        }
        (Some(e), true) => {
            let next = out.last_object.map_or(0, |l| l.saturating_add(1));
            let status = SubgroupObjectHeader {
                object_id: next,
                properties: Properties::empty(),
                status: WireStatus::EndOfGroup,
                payload_len: 0,
            };
            e.encode_header_bytes(&status)
        }
        (Some(_), false) => Ok(HeaderBytes::new()),
    }
}

/// Why [`deliver_subgroup`] stopped; [`MoqtEngine::subgroup_stopped`] acts on it.
pub(super) enum SubgroupStop {
    /// Waiting for more bytes (or the request is gone).
    Wait,
    /// The stream's Track Alias is not resolved yet.
    NoRequest,
    /// FIN with no whole object header left: ends cleanly or inside an object.
    Ends(RequestHandle),
    /// A malformed object header.
    Violation(sluice_wire::Violation),
    /// An object larger than `max_object_size`.
    TooLarge,
    /// FIN inside an object's payload.
    EndsInsideObject,
    /// The track broke one of the draft's malformed-track rules.
    Malformed(RequestHandle, super::malformed::Malformed),
}

/// A chunk that starts an object header while nothing is buffered (how a transport that
/// keeps writes apart hands over a header): the header is decoded straight from the chunk,
/// as [`deliver_subgroup`] would decode it from the buffer, without buffering the chunk.
/// Returns the bytes of the chunk it used (0: none, nothing decoded), or `None` when that
/// leaves nothing to do (a header alone, its payload still to come: [`deliver_subgroup`]
/// would wait). What is left of the chunk goes to the buffer and [`deliver_subgroup`].
#[inline]
pub(super) fn lone_header(sg: &mut SubgroupIn, data: &Bytes, max_object: u64) -> Option<usize> {
    if sg.pending.is_some() || sg.request.is_none() || sg.fin || !sg.buf.is_empty() {
        return Some(0);
    }
    let mut r = sluice_wire::Reader::new(data);
    // A failed decode leaves the decoder as it was: the full path decodes again.
    let Ok(h) = sg.decoder.decode_header(&mut r) else { return Some(0) };
    let used = r.position();
    let waits = used == data.len() && h.payload_len > 0 && h.payload_len <= max_object;
    sg.pending = Some(h);
    if waits { None } else { Some(used) }
}

/// The object loop of a subgroup stream: delivers every complete object, holding only the
/// stream's entry and the request table (disjoint fields of the engine), so the caller
/// that already holds the entry (`handle_data`) needs no second lookup. Every path that
/// needs the whole engine stops the loop with a [`SubgroupStop`].
pub(super) fn deliver_subgroup(
    sg: &mut SubgroupIn,
    requests: &mut super::state::Requests,
    shared: &mut Shared,
) -> SubgroupStop {
    let max_object = shared.config.max_object_size;
    let check_limit = shared.config.max_track_check_entries;
    if shared.closed {
        return SubgroupStop::Wait;
    }
    let Some(handle) = sg.request else { return SubgroupStop::NoRequest };
    loop {
        if sg.pending.is_none() {
            if sg.buf.is_empty() {
                // Between objects with nothing buffered (the usual state after one was
                // delivered): what `decode_front` would find, without the call.
                return if sg.fin { SubgroupStop::Ends(handle) } else { SubgroupStop::Wait };
            }
            if sg.header.properties_present && !properties_buffered(&mut sg.buf) {
                return if sg.fin { SubgroupStop::Ends(handle) } else { SubgroupStop::Wait };
            }
            let SubgroupIn { buf, decoder, .. } = &mut *sg;
            match decode_front(buf, |r| decoder.decode_header(r)) {
                Ok(Some(h)) => sg.pending = Some(h),
                Ok(None) => return if sg.fin { SubgroupStop::Ends(handle) } else { SubgroupStop::Wait },
                Err(v) => return SubgroupStop::Violation(v),
            }
        }
        let Some(h) = sg.pending.as_ref() else { return SubgroupStop::Wait };
        if h.payload_len > max_object {
            return SubgroupStop::TooLarge;
        }
        let need = usize::try_from(h.payload_len).unwrap_or(usize::MAX);
        if sg.buf.len() < need {
            return if sg.fin { SubgroupStop::EndsInsideObject } else { SubgroupStop::Wait };
        }
        let Some(h) = sg.pending.take() else { return SubgroupStop::Wait };
        let info = match checked_object(sg, h, handle, requests, check_limit) {
            Ok(info) => info,
            Err(stop) => return stop,
        };
        let payload = sg.buf.take(need);
        shared.object(handle, info, payload);
    }
}

/// The malformed-track checks of the object of header `h` (just taken from `sg.pending`),
/// then its `ObjectInfo`; the stop when the checks fail or the request is gone.
#[inline(always)]
fn checked_object(
    sg: &mut SubgroupIn,
    h: SubgroupObjectHeader,
    handle: RequestHandle,
    requests: &mut super::state::Requests,
    check_limit: usize,
) -> Result<ObjectInfo, SubgroupStop> {
    let subgroup = *sg.subgroup.get_or_insert(h.object_id);
    let (group, header_priority) = (sg.header.group_id, sg.header.publisher_priority);
    let status = model_status(h.status);
    let Some(r) = requests.get_mut(&handle) else { return Err(SubgroupStop::Wait) };
    let seen = Seen {
        group,
        subgroup: Some(subgroup),
        object: h.object_id,
        status,
        priority: header_priority.unwrap_or(r.info.publisher_priority),
        properties: &h.properties,
    };
    if let Err(m) = r.check.object(&seen, check_limit) {
        return Err(SubgroupStop::Malformed(handle, m));
    }
    Ok(ObjectInfo {
        group,
        subgroup,
        object: h.object_id,
        status,
        publisher_priority: header_priority,
        // Moved, not cloned: the header is done with. A stream without properties has
        // only empty ones (`ObjectProperties::new` of them is `empty()`), so no call.
        properties: if sg.header.properties_present {
            ObjectProperties::new(h.properties.into_raw())
        } else {
            ObjectProperties::empty()
        },
        timestamp: None,
        properties_present: sg.header.properties_present,
    })
}

/// A chunk that is exactly the payload of the pending object, nothing else buffered (how a
/// transport that keeps writes apart hands over a payload): the object is delivered with
/// the chunk as its payload, without buffering it. What [`deliver_subgroup`] would do after
/// buffering the chunk: take it whole as the payload, then find nothing buffered and wait
/// (no FIN yet). `None` leaves the chunk to the caller when that is not the case; when the
/// checks stop the object, the chunk is taken and buffered as the full path leaves it.
#[inline]
pub(super) fn lone_payload(
    sg: &mut SubgroupIn,
    data: &mut Bytes,
    requests: &mut super::state::Requests,
    shared: &mut Shared,
) -> Option<SubgroupStop> {
    let h = sg.pending.as_ref()?;
    let handle = sg.request?;
    if h.payload_len != data.len() as u64
        || h.payload_len > shared.config.max_object_size
        || sg.fin
        || !sg.buf.is_empty()
    {
        return None;
    }
    let h = sg.pending.take()?;
    let stop = match checked_object(sg, h, handle, requests, shared.config.max_track_check_entries) {
        Ok(info) => {
            shared.object(handle, info, Payload::One(std::mem::take(data)));
            SubgroupStop::Wait
        }
        Err(stop) => {
            sg.buf.push(std::mem::take(data));
            stop
        }
    };
    Some(stop)
}
