//! lite-05 Track streams (bidi 0x6): a track's immutable publisher properties, both
//! directions (lite-05 §Track, §TRACK, §TRACK_INFO). lite-04 has no Track stream: there
//! `track_status` is [`CommandError::Unsupported`] and a peer's bidi 0x6 is an unknown
//! stream type (reset, see [`super::streams`]).
//!
//! The data model reuses MOQT's TRACK_STATUS flow, so `Session::track_status` works the
//! same on both families:
//!
//! * Asking: `track_status(track)` opens a Track
//!   stream with TRACK {path, name}. TRACK_INFO gives `Event::TrackStatus {Ok(info)}` with
//!   `publisher_priority` (lite sense inverted), `group_order` (Publisher Ordered),
//!   `max_latency_ms` (Publisher Max Latency), `timescale`, and `largest: None` (lite has
//!   no largest location here). The publisher's reset before TRACK_INFO gives
//!   `TrackStatus {Err(reason)}` with the reset code ("the track does not exist"). A
//!   Timescale of 0 is answered as the draft says for an undecodable TRACK_INFO: the stream
//!   is reset with [`codes::PROTOCOL_VIOLATION`] and the request fails with that code (the
//!   session lives on); other malformed bytes close the session. After TRACK_INFO only the
//!   FIN may follow (we answer it with ours). `cancel` resets the stream
//!   ([`codes::CANCELLED`]), no event.
//! * Answering: TRACK gives `Event::IncomingTrackStatus {request, track}`;
//!   `accept_subscribe(request, info)` writes TRACK_INFO from `info` (its `timescale` must
//!   be non-zero: `InvalidState` otherwise, nothing sent) and FINs the stream, `reject`
//!   resets it with the caller's code. Peer Track streams count against
//!   `max_inbound_requests`. Bytes after TRACK close the session; the peer's FIN after TRACK
//!   is a normal half-close; its reset or STOP_SENDING before our answer forgets the
//!   request silently (a later answer gets `UnknownRequest`).
//!
//! TRACK_INFO goes out with the [`CONTROL`] send order, ahead of group data, as lite-05
//! asks ("SHOULD prioritize TRACK_INFO ahead of group data"). The engine does not cache
//! TRACK_INFO: the draft ties the cache to announcements the application sees, so caching
//! and re-requesting is the application's. Frame timestamps are handed out as absolute
//! values in the track's timescale (`ObjectInfo::timestamp`); the publisher side uses the
//! timescale it was given in `accept_subscribe` to compare timestamp ages with max
//! latency (see [`super::expiry`]).

use std::num::NonZeroU64;

use bytes::Bytes;
use sluice_wire::lite::stream::BidiStreamType;
use sluice_wire::lite::track::{Track, TrackInfo as WireTrackInfo};
use sluice_wire::{LiteVersion, Violation};

use super::LiteEngine;
use super::codes;
use super::priority::{CONTROL, from_lite, to_lite};
use super::streams::{Flow, State, Step, Stream, bad, read_message};
use crate::engine::Shared;
use crate::error::CommandError;
use crate::event::Event;
use crate::ids::{RequestHandle, StreamId};
use crate::model::{GroupOrder, Namespace, TrackInfo, TrackName};

impl LiteEngine {
    /// `track_status` (lite-05 Track stream).
    pub(crate) fn request_track_info(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
    ) -> Result<RequestHandle, CommandError> {
        if self.version == LiteVersion::Lite04 {
            return Err(self.unsupported("track_status"));
        }
        self.check_no_goaway()?;
        let name = String::from_utf8(track.name.to_vec())
            .map_err(|_| CommandError::InvalidState("lite track names are UTF-8"))?;
        let bytes = self.encode(&Track { broadcast: track.namespace.to_path(), track: name })?;
        let request = shared.next_request();
        let state = State::TrackOut { request: Some(request) };
        let stream = self.open_bidi(shared, BidiStreamType::Track, bytes, CONTROL, state)?;
        self.track_out.insert(request, stream);
        self.track_infos.lookups.insert(request, track);
        Ok(request)
    }

    /// Reads TRACK on a peer's Track stream.
    pub(crate) fn read_track(&mut self, shared: &mut Shared, id: StreamId, s: &mut Stream) -> Flow {
        let msg = match read_message::<Track>(&mut s.buf, self.version, false) {
            Step::Done(msg) => msg,
            Step::More => return Flow::Wait,
            Step::Bad(v) => return bad(shared, "TRACK", &v),
        };
        let request = shared.next_request();
        self.track_in.insert(request, id);
        s.state = State::TrackIn { request: Some(request) };
        let track = TrackName {
            namespace: Namespace::from_path(&msg.broadcast),
            name: Bytes::from(msg.track.into_bytes()),
        };
        shared.event(Event::IncomingTrackStatus { request, track });
        Flow::Continue
    }

    /// `accept_subscribe` for a Track-stream request: TRACK_INFO, then FIN.
    pub(crate) fn answer_track(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        info: TrackInfo,
    ) -> Result<(), CommandError> {
        let stream = *self.track_in.get(&request).ok_or(CommandError::UnknownRequest(request))?;
        let timescale = NonZeroU64::new(info.timescale)
            .ok_or(CommandError::InvalidState("the TRACK_INFO timescale must be non-zero"))?;
        let msg = WireTrackInfo {
            priority: to_lite(info.publisher_priority),
            ordered: info.group_order == GroupOrder::Ascending,
            max_latency: super::expiry::wire_latency(info.max_latency_ms),
            timescale,
        };
        let bytes = self.encode(&msg)?;
        self.track_in.remove(&request);
        Self::write(shared, stream, bytes, true);
        if let Some(mut s) = self.take_stream(stream) {
            s.send_open = false;
            s.state = State::Closing;
            s.buf.clear();
            if !s.fin {
                self.put_stream(shared, stream, s);
            }
        }
        Ok(())
    }

    /// Reads TRACK_INFO on our Track stream.
    pub(crate) fn read_track_info(
        &mut self,
        shared: &mut Shared,
        id: StreamId,
        s: &mut Stream,
        request: RequestHandle,
    ) -> Flow {
        let msg = match read_message::<WireTrackInfo>(&mut s.buf, self.version, false) {
            Step::Done(msg) => msg,
            Step::More => return Flow::Wait,
            Step::Bad(Violation::InvalidValue { field: "timescale", .. }) => {
                return self.kill(shared, id, s, codes::PROTOCOL_VIOLATION, "TRACK_INFO timescale 0");
            }
            Step::Bad(v) => return bad(shared, "TRACK_INFO", &v),
        };
        s.state = State::TrackOut { request: None };
        let info = TrackInfo {
            publisher_priority: from_lite(msg.priority),
            group_order: if msg.ordered { GroupOrder::Ascending } else { GroupOrder::Descending },
            largest: None,
            max_latency_ms: msg.max_latency,
            timescale: msg.timescale.get(),
            ..TrackInfo::default()
        };
        self.lookup_answered(shared, request, Some(info.clone()));
        if self.track_out.remove(&request).is_none() {
            return Flow::Continue;
        }
        shared.event(Event::TrackStatus { request, result: Ok(Box::new(info)) });
        Flow::Continue
    }
}
