//! Media we send: Group streams (uni 0x0: GROUP then FRAMEs) and lite-05 datagrams
//! (lite-04/05 §GROUP, §FRAME; lite-05 §Datagrams).
//!
//! `open_subgroup` opens a Group stream for an accepted subscription (subgroup must be 0:
//! lite has no subgroups) with the send order of [`super::priority::group_order`] (the
//! `priority` argument, MOQT sense, overrides the publisher priority for that group), and
//! resolves a withheld SUBSCRIBE_OK with the group. `write_object` writes one FRAME: the
//! header bytes are encoded, the payload goes out as the caller's chunks (one write each,
//! never joined); object ids must
//! be consecutive from 0; lite-05 needs `ObjectWrite::timestamp` and sends the delta from
//! the group's previous frame (from 0 for the first). `close_subgroup` FINs the stream.
//! `send_datagram` (lite-05 only) sends a one-frame group; a body over 1200 bytes is refused
//! (the codec's encode error). A datagram is one `Bytes`, so its payload (one chunk or
//! several) is copied once into it: the only copy on the send path, forced by the single-buffer datagram output.

use bytes::Bytes;
use sluice_wire::lite::datagram::Datagram;
use sluice_wire::lite::group::{FrameHeader, Group};
use sluice_wire::lite::stream::UniStreamType;
use sluice_wire::{Encode, HeaderBytes, LiteVersion};

use super::LiteEngine;
use super::priority::{group_order, to_lite};
use crate::engine::{ObjectWrite, Shared};
use crate::error::CommandError;
use crate::ids::{RequestHandle, StreamId};
use crate::io::Output;
use crate::model::ObjectStatus;

/// A Group stream we write.
#[derive(Debug)]
pub(crate) struct GroupWriter {
    /// The subscription it serves.
    pub request: RequestHandle,
    /// The group sequence.
    pub group: u64,
    /// The publisher priority of this group (lite sense).
    pub publisher_priority: u8,
    /// The next frame index.
    pub next_object: u64,
    /// The previous frame's timestamp (lite-05).
    pub timestamp: u64,
    /// When it was opened (queued): its arrival, for expiry.
    pub since: crate::time::Time,
    /// lite-05: its first frame's timestamp, for the timestamp age of expiry.
    pub first_timestamp: Option<u64>,
}

/// Our Group streams; a publisher writes a group's frames to its newest stream, which the
/// table keeps beside its map ([`crate::hot_map`]).
pub(crate) type Writers = crate::hot_map::HotMap<GroupWriter>;

/// Checks a frame write and encodes its FRAME header; returns it with the frame's
/// timestamp (the new "previous" timestamp).
pub(crate) fn frame_header(
    version: LiteVersion,
    next_object: u64,
    previous: u64,
    object: &ObjectWrite,
) -> Result<(FrameHeader, u64), CommandError> {
    if object.object != next_object {
        return Err(CommandError::InvalidState("lite frame ids are consecutive from 0"));
    }
    check_plain(version, object)?;
    let (timestamp_delta, timestamp) = match version {
        LiteVersion::Lite04 => (None, previous),
        LiteVersion::Lite05 => {
            let ts = object.timestamp.ok_or(CommandError::InvalidState("lite-05 frames need a timestamp"))?;
            let delta = i64::try_from(i128::from(ts) - i128::from(previous))
                .map_err(|_| CommandError::InvalidState("timestamp delta out of range"))?;
            (Some(delta), ts)
        }
    };
    let header = FrameHeader { timestamp_delta, payload_len: object.payload.len() as u64 };
    Ok((header, timestamp))
}

/// Refuses what a lite frame cannot carry.
fn check_plain(version: LiteVersion, object: &ObjectWrite) -> Result<(), CommandError> {
    if !object.properties.is_empty() {
        return Err(CommandError::Unsupported { what: "object properties", version: version.into() });
    }
    if object.status != ObjectStatus::Normal {
        return Err(CommandError::Unsupported { what: "object status", version: version.into() });
    }
    Ok(())
}

impl LiteEngine {
    /// `open_subgroup`.
    pub(crate) fn open_group(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        subgroup: u64,
        priority: Option<u8>,
    ) -> Result<StreamId, CommandError> {
        if subgroup != 0 {
            return Err(self.unsupported("subgroups other than 0"));
        }
        let sub = self.subs_in.get_mut(&request).ok_or(CommandError::UnknownRequest(request))?;
        let accepted = sub.accepted.ok_or(CommandError::InvalidState("subscription not accepted"))?;
        if sub.ending.is_some() {
            return Err(CommandError::InvalidState("subscription ending"));
        }
        // STREAM_TYPE + GROUP, through the session's header scratch into inline bytes (no
        // allocation).
        let version = self.version;
        let group_header = Group { subscribe_id: sub.id, sequence: group };
        let header = shared.encode_header(|b| {
            UniStreamType::Group.encode(b, version)?;
            group_header.encode(b, version)
        })?;
        let publisher_priority = priority.map_or(accepted.priority, to_lite);
        let order = group_order(sub.priority, publisher_priority, sub.ordered, group);
        sub.largest = Some(sub.largest.map_or(group, |l| l.max(group)));
        // Only the first group resolves the start (`resolve_start` does nothing after).
        if sub.resolved.is_none() {
            self.resolve_start(shared, request, group);
        }
        let stream = shared.next_stream();
        shared.push(Output::OpenStream { stream, bidi: false, order });
        shared.push(Output::Write { stream, header, payload: Bytes::new(), fin: false });
        let since = self.now;
        self.writers.insert(
            stream,
            GroupWriter {
                request,
                group,
                publisher_priority,
                next_object: 0,
                timestamp: 0,
                since,
                first_timestamp: None,
            },
        );
        self.expire_groups(shared);
        Ok(stream)
    }

    /// `write_object`.
    pub(crate) fn write_frame(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        let version = self.version;
        let w = self.writers.get_mut(&stream).ok_or(CommandError::UnknownStream(stream))?;
        let (header, timestamp) = frame_header(version, w.next_object, w.timestamp, &object)?;
        let header = header.encode_header_bytes(version)?;
        let first = w.next_object == 0 && version == LiteVersion::Lite05;
        w.next_object = w.next_object.saturating_add(1);
        w.timestamp = timestamp;
        let (request, group) = (w.request, w.group);
        if first {
            w.first_timestamp = Some(timestamp);
        }
        shared.write_payload(stream, header, object.payload, false);
        if first {
            self.first_frame_written(shared, request, group, timestamp);
        }
        Ok(())
    }

    /// `close_subgroup`.
    pub(crate) fn close_group(&mut self, shared: &mut Shared, stream: StreamId) -> Result<(), CommandError> {
        let w = self.writers.remove(&stream).ok_or(CommandError::UnknownStream(stream))?;
        shared.push(Output::Write { stream, header: HeaderBytes::new(), payload: Bytes::new(), fin: true });
        if self.acks_reported {
            self.unacked.insert(stream, w.request);
        }
        self.finish_end_if_done(shared, w.request);
        Ok(())
    }

    /// Resets every Group stream of a subscription that ended.
    pub(crate) fn drop_writers_of(&mut self, shared: &mut Shared, request: RequestHandle) {
        let mut ids: Vec<StreamId> =
            self.writers.iter().filter(|(_, w)| w.request == request).map(|(id, _)| *id).collect();
        // Hash order is arbitrary: reset in stream order so outputs are deterministic.
        ids.sort_unstable();
        for stream in ids {
            self.writers.remove(&stream);
            shared.push(Output::Reset { stream, code: super::codes::CANCELLED });
        }
    }

    /// `send_datagram` (lite-05).
    pub(crate) fn send_group_datagram(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        if self.version == LiteVersion::Lite04 {
            return Err(self.unsupported("datagrams"));
        }
        let sub = self.subs_in.get(&request).ok_or(CommandError::UnknownRequest(request))?;
        if sub.accepted.is_none() {
            return Err(CommandError::InvalidState("subscription not accepted"));
        }
        if object.object != 0 {
            return Err(CommandError::InvalidState("a datagram carries a one-frame group (object 0)"));
        }
        check_plain(self.version, &object)?;
        let timestamp =
            object.timestamp.ok_or(CommandError::InvalidState("lite-05 frames need a timestamp"))?;
        // A datagram is one buffer: a payload in chunks is joined (copied once).
        let payload = object.payload.to_bytes();
        let datagram = Datagram { subscribe_id: sub.id, group, timestamp, payload };
        let bytes = self.encode(&datagram)?;
        self.resolve_start(shared, request, group);
        shared.push(Output::Datagram(Bytes::from(bytes)));
        Ok(())
    }
}
