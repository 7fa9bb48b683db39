//! Per-stream receive state and the incremental decoders that read lite messages out of a
//! [`RecvBuffer`] without copying payloads.
//!
//! Every stream with a receive side that the engine tracks (every peer-opened stream, and
//! the bidirectional streams we open) has a [`Stream`]: its unconsumed bytes and a
//! [`State`] saying what the next bytes must be. The state machine per stream kind lives
//! in the module of that kind (announce, subscribe, fetch, …); this module holds what they
//! share:
//!
//! * [`read_small`] decodes a short header (STREAM_TYPE, FRAME header) by joining at most as
//!   many bytes as the header needs, one at a time, so a payload that follows in another
//!   chunk is never copied.
//! * [`read_message`] decodes a length-prefixed message (optionally typed) only once all of
//!   its bytes have arrived, joining exactly those bytes once: O(message) work however the
//!   transport chunks it.
//! * [`FrameReader`] reads FRAME messages (Group and Fetch streams) and hands each payload
//!   out as a [`crate::Payload`] of the received chunks.

use sluice_wire::lite::framing::MAX_MESSAGE_LEN;
use sluice_wire::lite::group::FrameHeader;
use sluice_wire::{Decode, DecodeError, HeaderBytes, LiteVersion, Reader, Violation};

use crate::ids::RequestHandle;
use crate::recv::RecvBuffer;
use crate::time::Time;

/// What happened when a stream's buffered bytes were offered to its decoder.
#[derive(Debug)]
pub(crate) enum Step<T> {
    /// A value was decoded and its bytes consumed.
    Done(T),
    /// More bytes are needed.
    More,
    /// The bytes break the protocol.
    Bad(Violation),
}

/// Decodes a header of at most `max` bytes from the front of `buf`: first from the first
/// chunk as it is, then joining one more byte at a time (copies at most `max` bytes).
pub(crate) fn read_small<T: Decode<Version = LiteVersion>>(
    buf: &mut RecvBuffer,
    version: LiteVersion,
    max: usize,
) -> Step<T> {
    // The first chunk borrowed: the view `front(0)` would give, without its handle clone.
    let empty = Bytes::new();
    let first = buf.first_chunk().unwrap_or(&empty);
    let mut r = Reader::new(first);
    let tried = T::decode(&mut r, version).map(|value| (value, r.position()));
    let first_len = first.len();
    match tried {
        Ok((value, used)) => {
            buf.advance(used);
            return Step::Done(value);
        }
        Err(DecodeError::Invalid(v)) => return Step::Bad(v),
        Err(DecodeError::Incomplete) => {
            if first_len >= buf.len() || first_len >= max {
                return Step::More;
            }
        }
    }
    let mut view = buf.front(first_len.saturating_add(1));
    loop {
        let mut r = Reader::new(&view);
        match T::decode(&mut r, version) {
            Ok(value) => {
                buf.advance(r.position());
                return Step::Done(value);
            }
            Err(DecodeError::Invalid(v)) => return Step::Bad(v),
            Err(DecodeError::Incomplete) => {
                if view.len() >= buf.len() || view.len() >= max {
                    return Step::More;
                }
                view = buf.front(view.len().saturating_add(1));
            }
        }
    }
}

/// Decodes a `[Type (i),] Message Length (i), Body` message once all of it is buffered.
pub(crate) fn read_message<T: Decode<Version = LiteVersion>>(
    buf: &mut RecvBuffer,
    version: LiteVersion,
    typed: bool,
) -> Step<T> {
    let prefix_of = |head: &Bytes| {
        let mut r = Reader::new(head);
        if typed {
            r.quic_varint()?;
        }
        let len = r.quic_varint()?;
        Ok((r.position(), len))
    };
    // The first chunk borrowed first (the view `front(0)` would give, without its clone).
    let empty = Bytes::new();
    let first = buf.first_chunk().unwrap_or(&empty);
    let first_len = first.len();
    let (prefix, len) = match prefix_of(first) {
        Ok(found) => found,
        Err(DecodeError::Invalid(v)) => return Step::Bad(v),
        Err(DecodeError::Incomplete) => {
            if first_len >= buf.len() || first_len >= 16 {
                return Step::More;
            }
            let mut head = buf.front(first_len.saturating_add(1));
            loop {
                match prefix_of(&head) {
                    Ok(found) => break found,
                    Err(DecodeError::Invalid(v)) => return Step::Bad(v),
                    Err(DecodeError::Incomplete) => {
                        if head.len() >= buf.len() || head.len() >= 16 {
                            return Step::More;
                        }
                        head = buf.front(head.len().saturating_add(1));
                    }
                }
            }
        }
    };
    let total = if len > MAX_MESSAGE_LEN {
        // Let the decoder name the violation (LengthTooLarge) from the header alone.
        prefix
    } else {
        prefix.saturating_add(usize::try_from(len).unwrap_or(usize::MAX))
    };
    if len <= MAX_MESSAGE_LEN && buf.len() < total {
        return Step::More;
    }
    // A message inside the first chunk decodes from it as it lies (`front(total)` would
    // return that same chunk).
    let decoded = match buf.first_chunk() {
        Some(first) if first.len() >= total => {
            let mut r = Reader::new(first);
            T::decode(&mut r, version).map(|value| (value, r.position()))
        }
        _ => {
            let view = buf.front(total);
            let mut r = Reader::new(&view);
            T::decode(&mut r, version).map(|value| (value, r.position()))
        }
    };
    match decoded {
        Ok((value, used)) => {
            buf.advance(used);
            Step::Done(value)
        }
        Err(DecodeError::Invalid(v)) => Step::Bad(v),
        Err(DecodeError::Incomplete) => Step::Bad(Violation::BodyTooShort),
    }
}

/// A STREAM_TYPE code, read as a plain varint (the engine maps it per direction so that an
/// unknown code resets the stream instead of closing the session).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TypeCode(pub u64);

impl Decode for TypeCode {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, _version: LiteVersion) -> Result<Self, DecodeError> {
        Ok(TypeCode(r.quic_varint()?))
    }
}

/// Reading FRAME messages of one group (a Group stream after its GROUP, or a Fetch
/// stream): the next frame index, the running lite-05 timestamp, and the header of a frame
/// whose payload has not fully arrived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FrameReader {
    /// Index of the next frame (the object id).
    pub next_object: u64,
    /// Absolute timestamp of the previous frame (lite-05; 0 before the first).
    pub timestamp: u64,
    /// A decoded header whose payload is still arriving.
    pub pending: Option<FrameHeader>,
}

impl FrameReader {
    /// The pending frame's payload has arrived: its object info (ids counted from 0, the
    /// absolute `timestamp` if the frame had one), and the reader moves to the next frame.
    #[inline]
    pub(crate) fn complete(&mut self, group: u64, timestamp: Option<u64>) -> ObjectInfo {
        let info = ObjectInfo {
            group,
            subgroup: 0,
            object: self.next_object,
            status: ObjectStatus::Normal,
            publisher_priority: None,
            properties: ObjectProperties::empty(),
            timestamp,
            properties_present: false,
        };
        self.next_object = self.next_object.saturating_add(1);
        self.timestamp = timestamp.unwrap_or(self.timestamp);
        self.pending = None;
        info
    }
}

/// The receive-side state of one stream. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Peer-opened; STREAM_TYPE not read yet.
    Unidentified,
    /// Peer's lite-05 Setup stream, before its SETUP.
    Setup,
    /// Peer's Setup stream after its SETUP: nothing more may arrive.
    SetupDone,
    /// Peer's Group stream before its GROUP header.
    GroupHeader,
    /// Peer's Group stream routed to our subscription `request`.
    Group {
        /// Our subscription.
        request: RequestHandle,
        /// A [`super::subscribe::SubsOut::mark`] of `request`: it was live then.
        seen: Option<u64>,
        /// The group sequence.
        group: u64,
        /// When its GROUP header arrived (its arrival, for expiry).
        since: Time,
        /// Frame progress.
        frames: FrameReader,
    },
    /// Peer's Announce stream (we answer): before the request (`false`) or after (`true`).
    AnnounceIn {
        /// Whether the ANNOUNCE_REQUEST/INTEREST was read.
        answered: bool,
    },
    /// Our Announce stream (discovery `request`).
    Discovery {
        /// The discovery.
        request: RequestHandle,
        /// lite-05: ANNOUNCE_OK seen.
        ok_seen: bool,
    },
    /// Peer's Subscribe stream (we publish); `None` until SUBSCRIBE is read.
    SubscribeIn {
        /// The incoming subscription.
        request: Option<RequestHandle>,
    },
    /// Our Subscribe stream.
    SubscribeOut {
        /// Our subscription.
        request: RequestHandle,
    },
    /// Peer's Fetch stream (we serve); `None` until FETCH is read.
    FetchIn {
        /// The incoming fetch.
        request: Option<RequestHandle>,
    },
    /// Our Fetch stream: FRAMEs of `group`.
    FetchOut {
        /// Our fetch.
        request: RequestHandle,
        /// The fetched group.
        group: u64,
        /// Frame progress.
        frames: FrameReader,
    },
    /// Peer's Goaway stream, before (`false`) or after (`true`) its GOAWAY.
    GoawayIn {
        /// GOAWAY read.
        received: bool,
    },
    /// Our Goaway stream: the peer sends nothing on it.
    GoawayOut,
    /// lite-05: the peer's Track stream (we answer); `None` until TRACK is read.
    TrackIn {
        /// The incoming track-info request.
        request: Option<RequestHandle>,
    },
    /// lite-05: our Track stream, before TRACK_INFO (`Some`) or after it (`None`: only
    /// the FIN may follow).
    TrackOut {
        /// Our request, until answered.
        request: Option<RequestHandle>,
    },
    /// The peer's Probe stream: PROBE targets arrive, we answer with estimates.
    ProbeIn,
    /// A stream whose request ended on our side: absorb and drop what still arrives until
    /// the peer closes it.
    Closing,
}

impl State {
    /// True for streams that are a request the peer made to us (counted against
    /// `Config::max_inbound_requests`).
    pub(crate) fn is_inbound_request(&self) -> bool {
        matches!(
            self,
            State::AnnounceIn { .. }
                | State::SubscribeIn { .. }
                | State::FetchIn { .. }
                | State::TrackIn { .. }
        )
    }
}

/// One tracked stream. See the module docs.
#[derive(Debug)]
pub(crate) struct Stream {
    /// Received, unconsumed bytes.
    pub buf: RecvBuffer,
    /// Bidirectional (we have a send side on it too).
    pub bidi: bool,
    /// Opened by the peer.
    pub peer_opened: bool,
    /// Our send side is still open (bidi only).
    pub send_open: bool,
    /// The peer finished its send side.
    pub fin: bool,
    /// What the next bytes are.
    pub state: State,
}

impl Stream {
    /// A stream the peer opened.
    pub(crate) fn peer(bidi: bool) -> Stream {
        Stream {
            buf: RecvBuffer::new(),
            bidi,
            peer_opened: true,
            send_open: bidi,
            fin: false,
            state: State::Unidentified,
        }
    }

    /// A bidirectional stream we opened.
    pub(crate) fn local(state: State) -> Stream {
        Stream { buf: RecvBuffer::new(), bidi: true, peer_opened: false, send_open: true, fin: false, state }
    }
}

/// The streams we track; media arrives on the newest Group stream, which the table keeps
/// beside its map ([`crate::hot_map`]).
pub(crate) type Streams = crate::hot_map::HotMap<Stream>;

/// What a state handler asks the driving loop to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Something was consumed; run the handler again.
    Continue,
    /// Wait for more bytes (or the FIN).
    Wait,
    /// Forget the stream (it was reset, finished, or the session closed).
    Drop,
}

// ------------------------------------------------------------------ the input driver

use crate::model::{ObjectInfo, ObjectProperties, ObjectStatus};
use bytes::Bytes;
use sluice_wire::lite::stream::{BidiStreamType, UniStreamType};

use super::LiteEngine;
use super::codes;
use crate::engine::Shared;
use crate::event::{Event, Reason};
use crate::ids::StreamId;
use crate::io::Output;

/// Closes the session for a peer protocol violation (see [`codes::PROTOCOL_VIOLATION`]).
pub(crate) fn violation(shared: &mut Shared, what: &str) -> Flow {
    shared.close(codes::PROTOCOL_VIOLATION, what, false);
    Flow::Drop
}

/// [`violation`] naming the codec's reason.
pub(crate) fn bad(shared: &mut Shared, on: &str, v: &Violation) -> Flow {
    violation(shared, &format!("{on}: {v}"))
}

impl LiteEngine {
    /// The peer opened a stream.
    pub(crate) fn on_opened(&mut self, shared: &mut Shared, stream: StreamId, bidi: bool) {
        if self.streams.contains_key(&stream) {
            return;
        }
        let open = self.streams.values().filter(|s| s.peer_opened).count();
        if open >= shared.config.max_peer_streams {
            shared.push(Output::StopSending { stream, code: codes::LIMIT_EXCEEDED });
            if bidi {
                shared.push(Output::Reset { stream, code: codes::LIMIT_EXCEEDED });
            }
            return;
        }
        self.streams.insert(stream, Stream::peer(bidi));
    }

    /// Bytes arrived on a stream.
    ///
    /// The headers of a new Group stream ([`super::groups::group_header_in_place`]) and the
    /// frames of a live one are read where the stream lies
    /// ([`super::groups::frames_in_place`]); every other case, and anything unusual on a
    /// Group stream, takes the stream out of the table and runs [`LiteEngine::drive`].
    pub(crate) fn on_data(&mut self, shared: &mut Shared, stream: StreamId, data: Bytes) {
        let Some(s) = self.streams.get_mut(&stream) else { return };
        // A chunk of a live Group stream with nothing buffered is read before it is buffered
        // (what `frames_in_place` below would read of it); the rest goes on as usual.
        let mut data = data;
        if let State::Group { request, group, seen, frames, .. } = &mut s.state
            && s.buf.is_empty()
            && !s.fin
            && !shared.closed
            && self.subs_out.is_live(request, seen)
        {
            let waiting;
            (data, waiting) =
                super::groups::frames_from_chunk(shared, self.version, *request, *group, frames, data);
            // All of it read, nothing buffered: `frames_in_place` would end at once, done.
            if waiting && data.is_empty() && self.buffered <= shared.config.max_session_buffer {
                return;
            }
        }
        // The session total counts every byte in the table (`take_stream` subtracts them).
        let before = s.buf.len();
        s.buf.push(data);
        // A new Group stream's STREAM_TYPE and GROUP are read in place too, when no group can
        // expire (`read_group_header`'s `expire_groups` would do nothing).
        if matches!(s.state, State::Unidentified)
            && !shared.closed
            && !super::expiry::armed(&self.subs_in, &self.subs_out)
        {
            super::groups::group_header_in_place(
                shared,
                self.version,
                self.now,
                &self.sub_ids,
                &mut self.subs_out,
                s,
            );
        }
        let live_group = match &mut s.state {
            State::Group { request, seen, .. } => self.subs_out.is_live(request, seen),
            _ => false,
        };
        if live_group && !shared.closed {
            let done = super::groups::frames_in_place(shared, self.version, s);
            self.buffered = self.buffered.saturating_sub(before).saturating_add(s.buf.len());
            if done && self.buffered <= shared.config.max_session_buffer {
                return;
            }
        } else {
            self.buffered = self.buffered.saturating_sub(before).saturating_add(s.buf.len());
        }
        let Some(mut s) = self.take_stream(stream) else { return };
        if self.drive(shared, stream, &mut s) && !shared.closed {
            self.put_stream(shared, stream, s);
        }
    }

    /// Removes a stream from the table (its bytes leave the session total).
    pub(crate) fn take_stream(&mut self, id: StreamId) -> Option<Stream> {
        let s = self.streams.remove(&id)?;
        self.buffered = self.buffered.saturating_sub(s.buf.len());
        Some(s)
    }

    /// Puts a driven stream back, unless its bytes would take the session total past
    /// `max_session_buffer`, in which case it is aborted ([`codes::LIMIT_EXCEEDED`]).
    pub(crate) fn put_stream(&mut self, shared: &mut Shared, id: StreamId, mut s: Stream) {
        let total = self.buffered.saturating_add(s.buf.len());
        if total > shared.config.max_session_buffer {
            self.kill(shared, id, &mut s, codes::LIMIT_EXCEEDED, "session receive buffer limit");
            return;
        }
        self.buffered = total;
        self.streams.insert(id, s);
    }

    /// The peer finished a stream.
    pub(crate) fn on_fin(&mut self, shared: &mut Shared, stream: StreamId) {
        let Some(mut s) = self.take_stream(stream) else { return };
        s.fin = true;
        if self.end_drained_group(shared, &mut s) {
            return;
        }
        if self.drive(shared, stream, &mut s) && !shared.closed {
            self.put_stream(shared, stream, s);
        }
    }

    /// The peer reset its send side: the request on it ends (lite-05 §Termination), and we
    /// close ours too.
    pub(crate) fn on_reset(&mut self, shared: &mut Shared, stream: StreamId, code: u64) {
        let Some(mut s) = self.take_stream(stream) else { return };
        s.fin = true;
        if s.bidi && s.send_open {
            shared.push(Output::Reset { stream, code: codes::CANCELLED });
        }
        // A reset group stream accounts for its group (lite-04 §SUBSCRIBE: "completed or
        // reset"): the rest of it will not come.
        if let State::Group { request, group, .. } = s.state
            && self.subs_out.contains_key(&request)
        {
            let reason = Reason { code, text: "group stream reset by the peer".to_owned() };
            shared.event(Event::GroupsDropped { request, first: group, last: group, reason });
        }
        self.request_ended(shared, stream, s.state, code, "reset by the peer");
    }

    /// The peer asked us to stop sending: reset our side; the request on it ends.
    pub(crate) fn on_stop_sending(&mut self, shared: &mut Shared, stream: StreamId, code: u64) {
        if let Some(w) = self.writers.remove(&stream) {
            shared.push(Output::Reset { stream, code });
            self.finish_end_if_done(shared, w.request);
            return;
        }
        if let Some(request) = self.unacked.remove(&stream) {
            self.finish_end_if_done(shared, request);
            return;
        }
        let Some(s) = self.take_stream(stream) else { return };
        if s.bidi && s.send_open {
            shared.push(Output::Reset { stream, code });
        }
        if !s.fin {
            shared.push(Output::StopSending { stream, code });
        }
        self.request_ended(shared, stream, s.state, code, "stopped by the peer");
    }

    /// Aborts a stream we hold (STOP_SENDING its receive side, RESET its send side).
    pub(crate) fn abort_taken(shared: &mut Shared, id: StreamId, s: &mut Stream, code: u64) {
        if s.bidi && s.send_open {
            shared.push(Output::Reset { stream: id, code });
            s.send_open = false;
        }
        if !s.fin {
            shared.push(Output::StopSending { stream: id, code });
            s.fin = true;
        }
    }

    /// Aborts a tracked stream and forgets it (for commands; no request bookkeeping).
    pub(crate) fn abort_stream(&mut self, shared: &mut Shared, id: StreamId, code: u64) {
        if let Some(mut s) = self.take_stream(id) {
            Self::abort_taken(shared, id, &mut s, code);
        }
    }

    /// Aborts a stream being driven and ends its request with `code`.
    pub(crate) fn kill(
        &mut self,
        shared: &mut Shared,
        id: StreamId,
        s: &mut Stream,
        code: u64,
        why: &str,
    ) -> Flow {
        Self::abort_taken(shared, id, s, code);
        self.request_ended(shared, id, s.state, code, why);
        Flow::Drop
    }

    /// Closes our send side gracefully (FIN), once.
    pub(crate) fn close_send(shared: &mut Shared, id: StreamId, s: &mut Stream) {
        if s.bidi && s.send_open {
            shared.push(Output::Write {
                stream: id,
                header: HeaderBytes::new(),
                payload: Bytes::new(),
                fin: true,
            });
            s.send_open = false;
        }
    }

    /// The request carried by a stream in `state` ended for a peer-side reason: drop its
    /// tables and tell the application.
    // The removals are the point of each arm; folding them into match guards would hide them.
    #[allow(clippy::collapsible_match)]
    pub(crate) fn request_ended(
        &mut self,
        shared: &mut Shared,
        id: StreamId,
        state: State,
        code: u64,
        why: &str,
    ) {
        let reason = Reason { code, text: why.to_owned() };
        match state {
            State::AnnounceIn { .. } => {
                self.responders.remove(&id);
            }
            State::Discovery { request, .. } => {
                if let Some(d) = self.discoveries.remove(&request) {
                    for path in d.active {
                        let namespace = crate::model::Namespace::from_path(&path);
                        shared.event(Event::NamespaceGone { request, namespace });
                    }
                    shared.event(Event::DiscoveryEnded { request, reason });
                }
            }
            State::SubscribeIn { request: Some(request) } => self.subscriber_left(shared, request),
            State::Group { request, .. } => self.end_if_drained(shared, request),
            State::SubscribeOut { request } => {
                if let Some(mut sub) = self.subs_out.remove(&request) {
                    self.sub_ids.remove(&sub.id);
                    super::track_info::release_subscribed_now(shared, request, &mut sub);
                    if sub.subscribed {
                        shared.event(Event::SubscriptionEnded { request, reason });
                    } else {
                        shared.event(Event::SubscribeFailed { request, reason });
                    }
                }
            }
            State::FetchIn { request: Some(request) } => {
                if self.fetch_in.remove(&request).is_some() {
                    shared.event(Event::FetchEnded { request, reason });
                }
            }
            State::FetchOut { request, .. } => {
                if self.fetch_out.remove(&request).is_some() {
                    shared.event(Event::FetchEnded { request, reason });
                }
            }
            State::TrackIn { request: Some(request) } => {
                self.track_in.remove(&request);
            }
            State::TrackOut { request: Some(request) } => {
                self.lookup_answered(shared, request, None);
                if self.track_out.remove(&request).is_some() {
                    shared.event(Event::TrackStatus { request, result: Err(reason) });
                }
            }
            _ => {}
        }
    }

    /// Runs the stream's decoder over its buffered bytes, applies the buffer limits, and
    /// handles a FIN. Returns whether to keep tracking the stream.
    fn drive(&mut self, shared: &mut Shared, id: StreamId, s: &mut Stream) -> bool {
        loop {
            if shared.closed {
                return false;
            }
            let flow = match s.state {
                State::Unidentified => self.identify(shared, id, s),
                State::Setup => self.read_setup(shared, s),
                State::SetupDone => expect_nothing(shared, s, "bytes after SETUP"),
                State::GroupHeader => self.read_group_header(shared, id, s),
                State::Group { .. } | State::FetchOut { .. } => self.read_frames(shared, id, s),
                State::AnnounceIn { answered: false } => self.read_announce_request(shared, id, s),
                State::AnnounceIn { answered: true } => {
                    expect_nothing(shared, s, "bytes after ANNOUNCE_REQUEST")
                }
                State::Discovery { request, ok_seen } => self.read_discovery(shared, id, s, request, ok_seen),
                State::SubscribeIn { request } => self.read_subscribe_in(shared, id, s, request),
                State::SubscribeOut { request } => self.read_subscribe_out(shared, s, request),
                State::FetchIn { request: None } => self.read_fetch(shared, id, s),
                State::FetchIn { request: Some(_) } => expect_nothing(shared, s, "bytes after FETCH"),
                State::GoawayIn { received: false } => self.read_goaway(shared, s),
                State::GoawayIn { received: true } => expect_nothing(shared, s, "bytes after GOAWAY"),
                State::GoawayOut => expect_nothing(shared, s, "bytes on our Goaway stream"),
                State::TrackIn { request: None } => self.read_track(shared, id, s),
                State::TrackIn { request: Some(_) } => expect_nothing(shared, s, "bytes after TRACK"),
                State::TrackOut { request: Some(request) } => self.read_track_info(shared, id, s, request),
                State::TrackOut { request: None } => expect_nothing(shared, s, "bytes after TRACK_INFO"),
                State::ProbeIn => self.read_probe(shared, id, s),
                State::Closing => {
                    s.buf.clear();
                    Flow::Wait
                }
            };
            match flow {
                Flow::Continue => {}
                Flow::Wait => break,
                Flow::Drop => return false,
            }
        }
        let limit = match s.state {
            State::Unidentified | State::GroupHeader => shared.config.max_unidentified_bytes,
            State::Group { frames, .. } | State::FetchOut { frames, .. } => match frames.pending {
                Some(h) => usize::try_from(h.payload_len)
                    .unwrap_or(usize::MAX)
                    .saturating_add(shared.config.max_stream_buffer),
                None => shared.config.max_stream_buffer,
            },
            _ => shared.config.max_stream_buffer,
        };
        if s.buf.len() > limit {
            self.kill(shared, id, s, codes::LIMIT_EXCEEDED, "receive buffer limit");
            return false;
        }
        if s.fin {
            return self.finish(shared, id, s);
        }
        true
    }

    /// The peer finished the stream and every complete message was consumed.
    fn finish(&mut self, shared: &mut Shared, id: StreamId, s: &mut Stream) -> bool {
        let clean = s.buf.is_empty();
        match s.state {
            State::Closing => {
                Self::close_send(shared, id, s);
                false
            }
            State::SetupDone
            | State::GoawayOut
            | State::GoawayIn { received: true }
            | State::TrackOut { request: None }
            | State::ProbeIn
                if clean =>
            {
                Self::close_send(shared, id, s);
                false
            }
            // HTTP-like requests: the peer may half-close after FETCH / TRACK.
            State::FetchIn { request: Some(_) } | State::TrackIn { request: Some(_) } => true,
            State::Unidentified if clean => {
                Self::close_send(shared, id, s);
                false
            }
            State::Group { request, group, frames, .. } if clean && frames.pending.is_none() => {
                if self.subs_out.contains_key(&request) {
                    shared.event(Event::SubgroupEnded { request, group, subgroup: 0 });
                }
                self.end_if_drained(shared, request);
                false
            }
            State::AnnounceIn { answered: true } => {
                Self::close_send(shared, id, s);
                self.responders.remove(&id);
                false
            }
            State::FetchOut { frames, .. } if clean && frames.pending.is_none() => {
                Self::close_send(shared, id, s);
                self.request_ended(shared, id, s.state, 0, "finished");
                false
            }
            // lite-04/05 §Subscribe: the FIN comes once every group is accounted for, but
            // Group streams may still be in flight: read them to their end first.
            State::SubscribeOut { request } if clean && self.group_streams_open(request) => {
                Self::close_send(shared, id, s);
                if let Some(sub) = self.subs_out.get_mut(&request) {
                    sub.draining = true;
                }
                false
            }
            State::Discovery { .. }
            | State::SubscribeIn { request: Some(_) }
            | State::SubscribeOut { .. }
                if clean =>
            {
                Self::close_send(shared, id, s);
                self.request_ended(shared, id, s.state, 0, "finished");
                false
            }
            _ => {
                violation(shared, "stream finished before its message was complete");
                false
            }
        }
    }

    /// Reads the STREAM_TYPE of a peer stream and sets its state.
    fn identify(&mut self, shared: &mut Shared, id: StreamId, s: &mut Stream) -> Flow {
        let code = match read_small::<TypeCode>(&mut s.buf, self.version, 8) {
            Step::Done(TypeCode(code)) => code,
            Step::More => return Flow::Wait,
            Step::Bad(v) => return bad(shared, "stream type", &v),
        };
        if !s.bidi {
            return match UniStreamType::from_code(code, self.version) {
                None => self.kill(shared, id, s, codes::UNKNOWN_STREAM, "unknown stream type"),
                Some(UniStreamType::Group) => {
                    s.state = State::GroupHeader;
                    Flow::Continue
                }
                Some(UniStreamType::Setup) => {
                    let second = self.setup_received
                        || self.streams.values().any(|o| matches!(o.state, State::Setup | State::SetupDone));
                    if second {
                        return violation(shared, "a second Setup stream");
                    }
                    s.state = State::Setup;
                    Flow::Continue
                }
            };
        }
        let Some(kind) = BidiStreamType::from_code(code, self.version) else {
            return self.kill(shared, id, s, codes::UNKNOWN_STREAM, "unknown stream type");
        };
        let request_stream = matches!(
            kind,
            BidiStreamType::Announce
                | BidiStreamType::Subscribe
                | BidiStreamType::Fetch
                | BidiStreamType::Track
        );
        if request_stream {
            let inbound = self.streams.values().filter(|o| o.state.is_inbound_request()).count();
            let announce_full = kind == BidiStreamType::Announce
                && self.streams.values().filter(|o| matches!(o.state, State::AnnounceIn { .. })).count()
                    >= shared.config.max_namespace_subscriptions;
            if inbound >= shared.config.max_inbound_requests || announce_full {
                return self.kill(shared, id, s, codes::LIMIT_EXCEEDED, "too many requests");
            }
        }
        s.state = match kind {
            BidiStreamType::Announce => State::AnnounceIn { answered: false },
            BidiStreamType::Subscribe => State::SubscribeIn { request: None },
            BidiStreamType::Fetch => State::FetchIn { request: None },
            BidiStreamType::Goaway => State::GoawayIn { received: false },
            BidiStreamType::Track => State::TrackIn { request: None },
            BidiStreamType::Probe if shared.config.lite_probe => State::ProbeIn,
            BidiStreamType::Probe => {
                return self.kill(shared, id, s, codes::UNSUPPORTED, "we advertise no Probe level");
            }
        };
        Flow::Continue
    }
}

/// A state in which the peer may send nothing more: any byte is a violation.
fn expect_nothing(shared: &mut Shared, s: &Stream, what: &str) -> Flow {
    if s.buf.is_empty() { Flow::Wait } else { violation(shared, what) }
}
