//! Media we receive: Group streams and lite-05 datagrams (lite-04/05 §GROUP, §FRAME;
//! lite-05 §Datagrams), and the FRAMEs of our Fetch streams.
//!
//! A Group stream's GROUP names a Subscribe ID; one we do not have (never made, or already
//! ended) gets the stream stopped with [`codes::NOT_FOUND`] (the session lives on). Each
//! FRAME becomes `Event::Object` {group, subgroup 0, object = frame index from 0, lite-05
//! timestamp reconstructed as previous + delta}, the payload taken from the receive buffer
//! without copying (several chunks if the transport split it). A frame over
//! `max_object_size` resets the stream ([`codes::FRAME_TOO_LARGE`]); a timestamp that goes
//! below zero or past 2^64 cannot be decoded and resets the stream with
//! [`codes::PROTOCOL_VIOLATION`] (lite-05 §Track: "reset the affected stream with a protocol
//! violation"); a truncated frame at FIN closes the session. A Group stream whose
//! subscription we cancelled is stopped with [`codes::CANCELLED`].
//!
//! Datagrams: over 1200 bytes or for an unknown Subscribe ID are dropped silently (the
//! draft's MUSTs); a datagram whose header is cut short is malformed and closes the
//! session; lite-04 defines no datagrams, so any is ignored.

use std::collections::BTreeMap;

use bytes::{Buf, Bytes};
use sluice_wire::lite::datagram::Datagram;
use sluice_wire::lite::group::{FrameHeader, Group};
use sluice_wire::lite::stream::UniStreamType;
use sluice_wire::{Decode, DecodeError, LiteVersion, Reader, Violation, varint};

use super::LiteEngine;
use super::codes;
use super::streams::{Flow, FrameReader, State, Step, Stream, bad, read_message, read_small, violation};
use super::subscribe::SubsOut;
use crate::engine::Shared;
use crate::event::Event;
use crate::ids::{RequestHandle, StreamId};
use crate::model::{ObjectInfo, ObjectProperties, ObjectStatus};
use crate::recv::Payload;
use crate::time::Time;

impl LiteEngine {
    /// Reads the GROUP header of a peer Group stream and routes it.
    pub(crate) fn read_group_header(&mut self, shared: &mut Shared, id: StreamId, s: &mut Stream) -> Flow {
        let group = match read_message::<Group>(&mut s.buf, self.version, false) {
            Step::Done(g) => g,
            Step::More => return Flow::Wait,
            Step::Bad(v) => return bad(shared, "GROUP", &v),
        };
        let Some(request) = self.sub_ids.get(&group.subscribe_id).copied() else {
            return self.kill(shared, id, s, codes::NOT_FOUND, "unknown Subscribe ID");
        };
        s.state = route_group(shared, &mut self.subs_out, request, group.sequence, self.now);
        self.expire_groups(shared);
        Flow::Continue
    }

    /// Reads one FRAME (header, then payload) of a Group stream or of our Fetch stream.
    pub(crate) fn read_frames(&mut self, shared: &mut Shared, id: StreamId, s: &mut Stream) -> Flow {
        let (request, group, mut frames) = match s.state {
            State::Group { request, group, frames, .. } => {
                if !self.subs_out.contains_key(&request) {
                    return self.kill(shared, id, s, codes::CANCELLED, "subscription gone");
                }
                (request, group, frames)
            }
            State::FetchOut { request, group, frames } => (request, group, frames),
            _ => return Flow::Wait,
        };
        let Some(header) = frames.pending else {
            // A FRAME header is at least one byte: with none buffered `read_small` waits too.
            if s.buf.is_empty() {
                return Flow::Wait;
            }
            let header = match read_small::<FrameHeader>(&mut s.buf, self.version, 16) {
                Step::Done(h) => h,
                Step::More => return Flow::Wait,
                Step::Bad(v) => return bad(shared, "FRAME", &v),
            };
            if header.payload_len > shared.config.max_object_size {
                return self.kill(shared, id, s, codes::FRAME_TOO_LARGE, "frame above max_object_size");
            }
            frames.pending = Some(header);
            set_frames(s, frames);
            return Flow::Continue;
        };
        let len = usize::try_from(header.payload_len).unwrap_or(usize::MAX);
        if s.buf.len() < len {
            return Flow::Wait;
        }
        let timestamp = match header.timestamp_delta {
            None => None,
            Some(delta) => {
                let t = i128::from(frames.timestamp) + i128::from(delta);
                match u64::try_from(t) {
                    Ok(t) => Some(t),
                    Err(_) => {
                        return self.kill(shared, id, s, codes::PROTOCOL_VIOLATION, "timestamp out of range");
                    }
                }
            }
        };
        let payload = s.buf.take(len);
        let info = frames.complete(group, timestamp);
        set_frames(s, frames);
        shared.object(request, info, payload);
        Flow::Continue
    }

    /// The FIN of a Group stream with no bytes left ends it here (true), as `drive` would:
    /// `read_frames` waits on the empty buffer (or, the subscription gone, kills the stream,
    /// which at FIN on a unidirectional stream sends nothing and ends as below), then
    /// `finish` reports `SubgroupEnded` for a live subscription.
    pub(crate) fn end_drained_group(&mut self, shared: &mut Shared, s: &mut Stream) -> bool {
        let State::Group { request, group, seen, frames, .. } = &mut s.state else { return false };
        if !s.buf.is_empty() || frames.pending.is_some() || shared.closed || s.bidi {
            return false;
        }
        let (request, group) = (*request, *group);
        if self.subs_out.is_live(&request, seen) {
            shared.event(Event::SubgroupEnded { request, group, subgroup: 0 });
        }
        self.end_if_drained(shared, request);
        true
    }

    /// A QUIC datagram arrived.
    pub(crate) fn on_datagram(&mut self, shared: &mut Shared, data: Bytes) {
        if self.version == LiteVersion::Lite04 {
            return;
        }
        let mut r = Reader::bounded(&data);
        let d = match Datagram::decode(&mut r, self.version) {
            Ok(d) => d,
            Err(DecodeError::Invalid(Violation::DatagramTooLarge { .. })) => return,
            Err(DecodeError::Invalid(v)) => {
                bad(shared, "DATAGRAM", &v);
                return;
            }
            Err(DecodeError::Incomplete) => {
                violation(shared, "DATAGRAM: truncated");
                return;
            }
        };
        let Some(request) = self.sub_ids.get(&d.subscribe_id).copied() else { return };
        if let Some(sub) = self.subs_out.get_mut(&request) {
            super::track_info::release_subscribed_now(shared, request, sub);
        }
        let info = ObjectInfo {
            group: d.group,
            subgroup: 0,
            object: 0,
            status: ObjectStatus::Normal,
            publisher_priority: None,
            properties: ObjectProperties::empty(),
            timestamp: Some(d.timestamp),
            properties_present: false,
        };
        shared.event(Event::Object { request, info, payload: Payload::One(d.payload) });
    }
}

/// The first bytes of a peer stream, read where it lies in the table (no take/put): a
/// STREAM_TYPE Group and a GROUP for one of our subscriptions whole in the first chunk are
/// consumed and the stream becomes `Group`, exactly as `identify` and `read_group_header`
/// would leave it (the caller has checked that their `expire_groups` has nothing to do);
/// its frames then take the live Group path. Anything else changes nothing, for `drive`.
pub(crate) fn group_header_in_place(
    shared: &mut Shared,
    version: LiteVersion,
    now: Time,
    sub_ids: &BTreeMap<u64, RequestHandle>,
    subs_out: &mut SubsOut,
    s: &mut Stream,
) {
    if s.bidi || !matches!(s.state, State::Unidentified) {
        return;
    }
    let Some(first) = s.buf.first_chunk() else { return };
    // STREAM_TYPE as `TypeCode` reads it, then GROUP as `read_message` decodes it.
    let Some((code, n)) = varint::decode_quic(first) else { return };
    if UniStreamType::from_code(code, version) != Some(UniStreamType::Group) {
        return;
    }
    let Some((group, m)) = first.get(n..).and_then(Group::decode_prefix) else { return };
    let Some(&request) = sub_ids.get(&group.subscribe_id) else { return };
    s.buf.advance(n.saturating_add(m));
    s.state = route_group(shared, subs_out, request, group.sequence, now);
}

/// The state of a peer Group stream whose GROUP names our subscription `request` (arrived
/// at `now`); the subscription learns of the group.
fn route_group(
    shared: &mut Shared,
    subs_out: &mut SubsOut,
    request: RequestHandle,
    group: u64,
    now: Time,
) -> State {
    let mark = subs_out.removals();
    let mut seen = None;
    if let Some(sub) = subs_out.get_mut(&request) {
        seen = Some(mark);
        sub.latest = Some(sub.latest.map_or(group, |l| l.max(group)));
        // Data flows: `Subscribed` waits no longer for TRACK_INFO (see `track_info`).
        super::track_info::release_subscribed_now(shared, request, sub);
    }
    State::Group { request, seen, group, since: now, frames: Default::default() }
}

/// The object path of a Group stream whose subscription is live, run on the stream where
/// it lies in the table (no take/put per chunk): reads every frame whose header and
/// payload are buffered, exactly as [`LiteEngine::read_frames`] would, and returns true if
/// it ended waiting for more bytes with the stream within `max_stream_buffer`.
///
/// Anything else (a header split across chunks, a malformed or too large frame, a
/// timestamp out of range, the buffer limit) returns false *before* acting on it, with the
/// stream in the state `read_frames` would have left it between two frames, so the
/// general driver (`LiteEngine::drive`) takes over from there with the same outcome.
#[inline]
pub(crate) fn frames_in_place(shared: &mut Shared, version: LiteVersion, s: &mut Stream) -> bool {
    if s.fin {
        return false;
    }
    // The frame reader is updated where it lies (the buffer is a disjoint field), at the
    // same moments the general driver would update it.
    let State::Group { request, group, frames, .. } = &mut s.state else { return false };
    let (request, group) = (*request, *group);
    let buf = &mut s.buf;
    loop {
        let header = match frames.pending {
            Some(h) => h,
            None => {
                let Some(first) = buf.first_chunk() else { break };
                // A whole valid header in the first chunk skips the `Reader` (the same
                // header and length); anything else asks `decode` what it is.
                let decoded = FrameHeader::decode_prefix(first, version).ok_or(()).or_else(|()| {
                    let mut r = Reader::new(first);
                    FrameHeader::decode(&mut r, version).map(|h| (h, r.position()))
                });
                match decoded {
                    Ok((h, used)) if h.payload_len <= shared.config.max_object_size => {
                        buf.advance(used);
                        frames.pending = Some(h);
                        h
                    }
                    // All that is buffered is the start of a header: `read_small` waits too.
                    Err(DecodeError::Incomplete) if first.len() >= buf.len() => break,
                    _ => return false,
                }
            }
        };
        let len = usize::try_from(header.payload_len).unwrap_or(usize::MAX);
        if buf.len() < len {
            break;
        }
        let timestamp = match header.timestamp_delta {
            None => None,
            Some(delta) => match u64::try_from(i128::from(frames.timestamp) + i128::from(delta)) {
                Ok(t) => Some(t),
                Err(_) => return false,
            },
        };
        let payload = buf.take(len);
        let info = frames.complete(group, timestamp);
        shared.object(request, info, payload);
    }
    // Nothing left buffered (the usual end) is within any limit.
    if buf.is_empty() {
        return true;
    }
    let limit = match frames.pending {
        Some(h) => usize::try_from(h.payload_len)
            .unwrap_or(usize::MAX)
            .saturating_add(shared.config.max_stream_buffer),
        None => shared.config.max_stream_buffer,
    };
    buf.len() <= limit
}

/// The front of a chunk arriving on a live Group stream with nothing buffered, read before
/// it is buffered (no push and pop through the buffer): every whole frame and a trailing
/// whole header, exactly as [`frames_in_place`] reads them with the chunk as the buffer's
/// only chunk. Stops, before acting, at anything it does not read the same way (a cut or
/// malformed header, a frame over `max_object_size`, a timestamp out of range) and returns
/// the rest, which the caller buffers and hands on as before, and whether it stopped only
/// for want of bytes (false: the general path must see the stream even with no bytes left).
#[inline]
pub(crate) fn frames_from_chunk(
    shared: &mut Shared,
    version: LiteVersion,
    request: RequestHandle,
    group: u64,
    frames: &mut FrameReader,
    mut data: Bytes,
) -> (Bytes, bool) {
    loop {
        let header = match frames.pending {
            Some(h) => h,
            None => match FrameHeader::decode_prefix(&data, version) {
                Some((h, used)) if h.payload_len <= shared.config.max_object_size => {
                    data.advance(used);
                    frames.pending = Some(h);
                    h
                }
                // All of the chunk read (and an empty chunk is no header).
                _ if data.is_empty() => return (data, true),
                _ => return (data, false),
            },
        };
        let len = usize::try_from(header.payload_len).unwrap_or(usize::MAX);
        if data.len() < len {
            return (data, true);
        }
        let timestamp = match header.timestamp_delta {
            None => None,
            Some(delta) => match u64::try_from(i128::from(frames.timestamp) + i128::from(delta)) {
                Ok(t) => Some(t),
                Err(_) => return (data, false),
            },
        };
        // What `RecvBuffer::take` gives for the first `len` bytes of a lone chunk.
        let payload = if data.len() == len { std::mem::take(&mut data) } else { data.split_to(len) };
        let info = frames.complete(group, timestamp);
        shared.object(request, info, Payload::One(payload));
    }
}

fn set_frames(s: &mut Stream, new: super::streams::FrameReader) {
    match &mut s.state {
        State::Group { frames, .. } | State::FetchOut { frames, .. } => *frames = new,
        _ => {}
    }
}
