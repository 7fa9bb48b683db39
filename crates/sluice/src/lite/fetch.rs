//! Single-group fetches on Fetch streams (bidi 0x3; lite-04/05 §Fetch, §FETCH).
//!
//! `fetch(track, start, ..)` asks for the whole group `start.group` (lite fetches exactly
//! one group; the `end` argument has no wire field) with priority `255 - priority`; the
//! publisher's FRAMEs come back on the same stream with no header and become
//! `Event::Object`s (group = the fetched group, object = frame index); its FIN gives
//! `FetchEnded` code 0 and its reset `FetchEnded` with the reset code. lite has no FETCH_OK
//! (lite-05 removed it; lite-04's fetch has none either), so no `FetchAccepted` is emitted.
//!
//! Serving side: FETCH gives `IncomingFetch {start: (group, 0), end: (group + 1, 0)}`;
//! `accept_fetch` only records the acceptance (nothing goes on the wire), then
//! `write_fetch_object` writes FRAMEs of that group (subgroup 0, ids consecutive from 0,
//! lite-05 timestamps as on Group streams) and `finish_fetch` FINs the stream; `reject`
//! resets it with the caller's code. The subscriber's reset or STOP_SENDING gives
//! `FetchEnded` with its code; its FIN after FETCH is a normal half-close.

use sluice_wire::lite::fetch::Fetch;
use sluice_wire::lite::stream::BidiStreamType;

use super::LiteEngine;
use super::priority::{from_lite, group_order, to_lite};
use super::publish::frame_header;
use super::streams::{Flow, FrameReader, State, Step, Stream, bad, read_message};
use crate::engine::{ObjectWrite, Shared};
use crate::error::CommandError;
use crate::event::Event;
use crate::ids::{RequestHandle, StreamId};
use crate::model::{Location, Namespace, TrackName};

/// A fetch the peer made to us.
#[derive(Debug)]
pub(crate) struct FetchIn {
    /// Its Fetch stream.
    pub stream: StreamId,
    /// The requested group.
    pub group: u64,
    /// `accept_fetch` was called.
    pub accepted: bool,
    /// The next frame index.
    pub next_object: u64,
    /// The previous frame's timestamp (lite-05).
    pub timestamp: u64,
}

impl LiteEngine {
    /// `fetch`.
    pub(crate) fn start_fetch(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
        start: Location,
        priority: u8,
    ) -> Result<RequestHandle, CommandError> {
        self.check_no_goaway()?;
        let name = String::from_utf8(track.name.to_vec())
            .map_err(|_| CommandError::InvalidState("lite track names are UTF-8"))?;
        let msg = Fetch {
            broadcast: track.namespace.to_path(),
            track: name,
            priority: to_lite(priority),
            group: start.group,
        };
        let bytes = self.encode(&msg)?;
        let request = shared.next_request();
        let order = group_order(to_lite(priority), 0, true, start.group);
        let state = State::FetchOut { request, group: start.group, frames: FrameReader::default() };
        let stream = self.open_bidi(shared, BidiStreamType::Fetch, bytes, order, state)?;
        self.fetch_out.insert(request, stream);
        Ok(request)
    }

    /// Reads FETCH on a peer's Fetch stream.
    pub(crate) fn read_fetch(&mut self, shared: &mut Shared, id: StreamId, s: &mut Stream) -> Flow {
        let msg = match read_message::<Fetch>(&mut s.buf, self.version, false) {
            Step::Done(msg) => msg,
            Step::More => return Flow::Wait,
            Step::Bad(v) => return bad(shared, "FETCH", &v),
        };
        let request = shared.next_request();
        self.fetch_in.insert(
            request,
            FetchIn { stream: id, group: msg.group, accepted: false, next_object: 0, timestamp: 0 },
        );
        s.state = State::FetchIn { request: Some(request) };
        let track = TrackName {
            namespace: Namespace::from_path(&msg.broadcast),
            name: bytes::Bytes::from(msg.track.into_bytes()),
        };
        shared.event(Event::IncomingFetch {
            request,
            track: Box::new(track),
            start: Location { group: msg.group, object: 0 },
            end: Some(Location { group: msg.group.saturating_add(1), object: 0 }),
            priority: from_lite(msg.priority),
            fill_timeout_ms: None,
        });
        Flow::Continue
    }

    /// `write_fetch_object`.
    pub(crate) fn write_fetch_frame(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        subgroup: u64,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        let version = self.version;
        if subgroup != 0 {
            return Err(self.unsupported("subgroups other than 0"));
        }
        let f = self.fetch_in.get_mut(&request).ok_or(CommandError::UnknownRequest(request))?;
        if !f.accepted {
            return Err(CommandError::InvalidState("fetch not accepted"));
        }
        if group != f.group {
            return Err(CommandError::InvalidState("a lite fetch serves exactly the requested group"));
        }
        let (header, timestamp) = frame_header(version, f.next_object, f.timestamp, &object)?;
        let header = header.encode_header_bytes(version)?;
        f.next_object = f.next_object.saturating_add(1);
        f.timestamp = timestamp;
        shared.write_payload(f.stream, header, object.payload, false);
        Ok(())
    }

    /// `finish_fetch`.
    pub(crate) fn finish_incoming_fetch(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
    ) -> Result<(), CommandError> {
        let f = self.fetch_in.remove(&request).ok_or(CommandError::UnknownRequest(request))?;
        Self::write(shared, f.stream, Vec::new(), true);
        if let Some(mut s) = self.take_stream(f.stream) {
            s.send_open = false;
            s.state = State::Closing;
            s.buf.clear();
            if !s.fin {
                self.put_stream(shared, f.stream, s);
            }
        }
        Ok(())
    }
}
