//! [`Connection`]: one quinn-proto connection driving one sluice [`Session`].
//!
//! The adapter only translates; it holds no MoQ logic (DESIGN.md: "adapters contain no
//! protocol logic"). What it does own is the bookkeeping the core delegates to a transport:
//!
//! * **Stream names.** Streams the core opens carry a core handle (bit 63 set,
//!   [`sluice::StreamId::LOCAL_BIT`]); the adapter opens a QUIC stream for it, remembers the
//!   pair and reports [`Input::StreamOpenResult`]. When QUIC has no stream credit
//!   (`Streams::open` returns `None`) the open waits in a per-direction FIFO and is retried on
//!   `StreamEvent::Available`, so the core never blocks on credit. Streams the peer opens
//!   are named by their QUIC stream id (always below 2^62).
//! * **Send queues.** `Output::Write` bytes (header, then payload, then FIN) are queued per
//!   stream and handed to quinn-proto with `write_chunks`, which takes the `Bytes` without
//!   copying. The header comes from the core as inline bytes ([`sluice::HeaderBytes`]); it
//!   is copied into a per-connection block and cut off as a `Bytes`, many headers to one
//!   allocation (quinn-proto's `write(&[u8])` would instead allocate a `Vec` per call:
//!   `ByteSlice::pop_chunk` in quinn-proto 0.11's `streams/send.rs`). Whatever flow control
//!   refuses stays queued, in order, until
//!   `StreamEvent::Writable`, and [`Input::Writable`] is reported when a blocked queue
//!   drains. Writes to a stream still waiting for credit are queued the same way.
//! * **Receive.** Every readable stream is read to exhaustion in order; each quinn-proto
//!   `Chunk` is a `Bytes` slice of the received packet and goes to the session unchanged
//!   (zero copy). End of stream, reset and stop-sending become the matching inputs.
//! * **Path estimates.** With `Config::lite_probe` the adapter feeds
//!   [`Input::PathEstimate`] from quinn-proto's path stats: the smoothed RTT and
//!   `cwnd × 8 / rtt` as the bitrate estimate, whenever either moved by more than 1/8 since
//!   the last report (so a steady path does not produce a stream of PROBE messages).
//! * **Events.** Application events ([`Event`]) are queued for [`Connection::poll_event`].
//!
//! Time: the adapter owns a [`Clock`] and converts `Instant`s; the core only sees [`Time`](sluice::Time).

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use quinn_proto::{ConnectionError, ConnectionHandle, Dir, ReadError, StreamEvent, VarInt, WriteError};
use sluice::{Config, Event, Input, Output, Role, SendOrder, Session, StreamId, Version};

use crate::clock::Clock;
use crate::tls::H3_ALPN;
use crate::webtransport::WebTransport;

/// The send side of one stream: bytes not yet taken by quinn-proto, in order.
#[derive(Debug, Default)]
pub(crate) struct SendQueue {
    chunks: VecDeque<Bytes>,
    /// The bytes in `chunks`, kept as they change so [`Connection::queued_bytes`] walks
    /// streams, not chunks (it is read per connection on every relay step).
    bytes: usize,
    /// Finish the stream once `chunks` is empty.
    pub(crate) fin: bool,
    /// quinn-proto refused bytes; report `Writable` when the queue drains.
    blocked: bool,
}

impl SendQueue {
    /// Queues `bytes` after everything else.
    pub(crate) fn push_back(&mut self, bytes: Bytes) {
        self.bytes += bytes.len();
        self.chunks.push_back(bytes);
    }

    /// Queues `bytes` before everything else.
    fn push_front(&mut self, bytes: Bytes) {
        self.bytes += bytes.len();
        self.chunks.push_front(bytes);
    }
}

/// A core-opened stream waiting for QUIC stream credit.
#[derive(Debug)]
struct PendingOpen {
    stream: StreamId,
    order: SendOrder,
}

/// Close code used when the peer negotiated no ALPN sluice speaks (MoQ has no code for it;
/// 0x1 is the generic "internal/protocol" class shared by the drafts' session errors).
pub const NO_VERSION_CLOSE_CODE: u32 = 0x1;

/// Counters of the adapter's own queueing (diagnostics; QUIC's own are in
/// `quinn_proto::Connection::stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdapterStats {
    /// Core stream opens that had to wait for QUIC stream credit.
    pub deferred_opens: u64,
    /// Times quinn-proto refused stream bytes for lack of flow-control window.
    pub blocked_writes: u64,
    /// `Input::Writable` reports (blocked queues that drained).
    pub writable_reports: u64,
}

/// One QUIC connection and its MoQ session. See the module docs.
#[derive(Debug)]
pub struct Connection {
    handle: ConnectionHandle,
    pub(crate) quic: quinn_proto::Connection,
    session: Session,
    clock: Clock,
    /// Core handle → QUIC stream, for streams the core opened.
    local_to_quic: HashMap<StreamId, quinn_proto::StreamId>,
    /// QUIC stream → core handle, for streams the core opened.
    quic_to_local: HashMap<quinn_proto::StreamId, StreamId>,
    /// Opens waiting for credit, per direction (index 0 uni, 1 bidi).
    pending_opens: [VecDeque<PendingOpen>; 2],
    /// Send queues, by the core's name for the stream (WebTransport's own streams: by QUIC id).
    pub(crate) send: HashMap<StreamId, SendQueue>,
    events: VecDeque<Event>,
    stats: AdapterStats,
    /// Feed `Input::PathEstimate` (the session asked for probes).
    report_path: bool,
    /// The last path estimate fed: (bitrate, rtt).
    last_path: Option<(u64, Duration)>,
    /// Set when the connection runs WebTransport (ALPN `h3`).
    pub(crate) wt: Option<Box<WebTransport>>,
    /// Streams finished (FIN handed to quinn-proto) whose data the peer has not yet
    /// acknowledged in full (`StreamEvent::Finished` removes them).
    pub(crate) unacked: HashSet<quinn_proto::StreamId>,
    /// Where written headers are copied to become `Bytes` for `write_chunks`.
    header_block: BytesMut,
}

fn dir_index(bidi: bool) -> usize {
    usize::from(bidi)
}

fn varint(code: u64) -> VarInt {
    VarInt::from_u64(code).unwrap_or(VarInt::MAX)
}

impl Connection {
    pub(crate) fn new(
        handle: ConnectionHandle,
        quic: quinn_proto::Connection,
        config: Config,
        role: Role,
        clock: Clock,
        now: Instant,
    ) -> Connection {
        let report_path = config.lite_probe;
        Connection {
            handle,
            quic,
            session: Session::new(config, role, clock.time(now)),
            clock,
            local_to_quic: HashMap::new(),
            quic_to_local: HashMap::new(),
            pending_opens: [VecDeque::new(), VecDeque::new()],
            send: HashMap::new(),
            events: VecDeque::new(),
            stats: AdapterStats::default(),
            report_path,
            last_path: None,
            wt: None,
            unacked: HashSet::new(),
            header_block: BytesMut::new(),
        }
    }

    /// quinn-proto's handle for this connection.
    pub fn handle(&self) -> ConnectionHandle {
        self.handle
    }

    /// The MoQ session. Commands issued on it take effect on the wire at the next
    /// [`crate::Endpoint::step`] (or [`Connection::flush`]).
    pub fn session(&mut self) -> &mut Session {
        &mut self.session
    }

    /// The QUIC connection (for stats, addresses; do not open or write streams on it).
    pub fn quic(&self) -> &quinn_proto::Connection {
        &self.quic
    }

    /// The negotiated MoQ version, once the handshake is done.
    pub fn version(&self) -> Option<Version> {
        self.session.version()
    }

    /// The next application event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Every queued application event.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.events.drain(..).collect()
    }

    /// The adapter's queueing counters.
    pub fn stats(&self) -> AdapterStats {
        self.stats
    }

    /// True when every application event has been taken.
    pub fn events_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// True once quinn-proto has nothing left to do for this connection.
    pub fn is_drained(&self) -> bool {
        self.quic.is_drained()
    }

    /// Bytes queued in the adapter (not yet accepted by quinn-proto), across all streams.
    pub fn queued_bytes(&self) -> usize {
        // Debug builds (every test) check the kept count against the chunks themselves.
        debug_assert!(
            self.send.values().all(|q| q.bytes == q.chunks.iter().map(Bytes::len).sum::<usize>()),
            "send queue byte count out of step with its chunks"
        );
        self.send.values().map(|q| q.bytes).sum()
    }

    /// Streams this side finished whose every byte and FIN the peer has not acknowledged
    /// yet (QUIC "Data Recvd", reported by quinn-proto as `StreamEvent::Finished`). Streams
    /// reset or stopped stop counting. With [`Connection::queued_bytes`] at 0 and this at 0,
    /// everything written on a finished stream has been delivered to the peer's QUIC stack.
    pub fn unacked_streams(&self) -> usize {
        self.unacked.len()
    }

    /// True while `stream` (a core stream name) is finished but not yet acknowledged in
    /// full by the peer; false once acknowledged, reset or stopped, and for streams not
    /// finished yet.
    pub fn is_unacked(&self, stream: StreamId) -> bool {
        self.quic_id(stream).is_some_and(|id| self.unacked.contains(&id))
    }

    /// The earliest of the QUIC and MoQ deadlines.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let quic = self.quic.poll_timeout();
        let moq = self.session.poll_timeout().and_then(|t| self.clock.instant(t));
        match (quic, moq) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Fires whichever deadlines are due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.quic.poll_timeout().is_some_and(|t| t <= now) {
            self.quic.handle_timeout(now);
        }
        let t = self.clock.time(now);
        if self.session.poll_timeout().is_some_and(|d| d <= t) {
            self.session.handle_timeout(t);
        }
    }

    pub(crate) fn handle_quic_event(&mut self, event: quinn_proto::ConnectionEvent) {
        self.quic.handle_event(event);
    }

    pub(crate) fn poll_endpoint_event(&mut self) -> Option<quinn_proto::EndpointEvent> {
        self.quic.poll_endpoint_events()
    }

    /// The next transmit: up to `max_datagrams` equally sized datagrams (a GSO batch).
    pub(crate) fn poll_transmit(
        &mut self,
        now: Instant,
        max_datagrams: usize,
        buf: &mut Vec<u8>,
    ) -> Option<quinn_proto::Transmit> {
        self.quic.poll_transmit(now, max_datagrams, buf)
    }

    /// Moves everything that is ready between quinn-proto and the session: QUIC events
    /// become inputs, session outputs become stream operations, until neither side has
    /// anything more. Endpoint events still have to be exchanged by the caller.
    pub fn flush(&mut self, now: Instant) {
        self.feed_path_estimate(now);
        loop {
            let mut progressed = false;
            while let Some(event) = self.quic.poll() {
                progressed = true;
                self.on_quic_event(now, event);
            }
            while let Some(output) = self.session.poll() {
                progressed = true;
                self.on_output(now, output);
            }
            if !progressed {
                break;
            }
        }
    }

    fn feed_path_estimate(&mut self, now: Instant) {
        if !self.report_path || self.session.version().is_none() || self.session.is_closed() {
            return;
        }
        let path = self.quic.stats().path;
        let rtt = path.rtt;
        if rtt.is_zero() {
            return;
        }
        let bits = u128::from(path.cwnd).saturating_mul(8).saturating_mul(1_000_000);
        let bitrate = u64::try_from(bits / rtt.as_micros().max(1)).unwrap_or(u64::MAX);
        let moved = |old: u64, new: u64| old.abs_diff(new) > old / 8;
        let changed = match self.last_path {
            None => true,
            Some((b, r)) => {
                moved(b, bitrate)
                    || moved(
                        u64::try_from(r.as_micros()).unwrap_or(u64::MAX),
                        u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX),
                    )
            }
        };
        if changed {
            self.last_path = Some((bitrate, rtt));
            self.input(now, Input::PathEstimate { bitrate, rtt });
        }
    }

    pub(crate) fn input(&mut self, now: Instant, input: Input) {
        self.session.handle(self.clock.time(now), input);
    }

    fn on_quic_event(&mut self, now: Instant, event: quinn_proto::Event) {
        match event {
            quinn_proto::Event::HandshakeDataReady => {}
            quinn_proto::Event::Connected => self.on_connected(now),
            quinn_proto::Event::ConnectionLost { reason } => {
                let (code, reason) = close_reason(&reason);
                if self.wt.is_some() {
                    self.wt_connection_lost(now, code, &String::from_utf8_lossy(&reason));
                } else {
                    self.input(now, Input::Closed { code, reason });
                }
            }
            quinn_proto::Event::Stream(event) => self.on_stream_event(now, event),
            quinn_proto::Event::DatagramReceived => {
                while let Some(datagram) = self.quic.datagrams().recv() {
                    if self.wt.is_some() {
                        self.wt_datagram(now, datagram);
                    } else {
                        self.input(now, Input::Datagram(datagram));
                    }
                }
            }
            quinn_proto::Event::DatagramsUnblocked => {}
        }
    }

    fn on_connected(&mut self, now: Instant) {
        let alpn = self
            .quic
            .crypto_session()
            .handshake_data()
            .and_then(|data| data.downcast::<quinn_proto::crypto::rustls::HandshakeData>().ok())
            .and_then(|data| data.protocol);
        if alpn.as_deref() == Some(H3_ALPN) {
            if self.wt.is_none() {
                self.start_webtransport_server();
            }
            return self.wt_connected(now);
        }
        match alpn.as_deref().and_then(Version::from_alpn) {
            Some(version) => {
                self.input(now, Input::Connected { version });
                // Peer streams may have arrived with the handshake's last flight.
                self.accept_streams(now, Dir::Bi);
                self.accept_streams(now, Dir::Uni);
            }
            None => {
                self.quic.close(
                    now,
                    VarInt::from_u32(NO_VERSION_CLOSE_CODE),
                    Bytes::from_static(b"no MoQ ALPN"),
                );
                self.input(
                    now,
                    Input::Closed {
                        code: u64::from(NO_VERSION_CLOSE_CODE),
                        reason: Bytes::from_static(b"no MoQ ALPN"),
                    },
                );
            }
        }
    }

    fn on_stream_event(&mut self, now: Instant, event: StreamEvent) {
        match event {
            StreamEvent::Opened { dir } => {
                if self.session.version().is_some() || self.wt_accepting() {
                    self.accept_streams(now, dir);
                }
            }
            StreamEvent::Readable { id } => self.read_stream(now, id),
            StreamEvent::Writable { id } => {
                let name = self.core_name(id);
                self.write_queued(now, name);
            }
            StreamEvent::Finished { id } => {
                self.unacked.remove(&id);
                let name = self.core_name(id);
                if name.is_local() {
                    self.input(now, Input::StreamAcked { stream: name });
                }
                self.forget_send(name, id);
            }
            StreamEvent::Stopped { id, error_code } => {
                self.unacked.remove(&id);
                // What the peer sent on a bidi stream's other half before stopping ours
                // (a REQUEST_ERROR + FIN, say) may sit unread in the same packet: the
                // session sees it first, so an answered request is not taken as cancelled.
                if id.dir() == Dir::Bi {
                    self.read_stream(now, id);
                }
                let name = self.core_name(id);
                self.send.remove(&name);
                if !self.wt_is_owned(id) {
                    let code = self.wt_peer_code(error_code.into_inner());
                    self.input(now, Input::StopSending { stream: name, code });
                }
                self.forget_send(name, id);
            }
            StreamEvent::Available { dir } => {
                self.wt_open_deferred(now);
                self.open_pending(now, dir);
            }
        }
    }

    /// The core's name for a QUIC stream.
    pub(crate) fn core_name(&self, id: quinn_proto::StreamId) -> StreamId {
        self.quic_to_local.get(&id).copied().unwrap_or(StreamId(VarInt::from(id).into_inner()))
    }

    /// Drops the id mapping of a core-opened stream whose sending side is over (a uni
    /// stream is then gone; a bidi one keeps its receive side named by the map until the
    /// peer's FIN or reset, see `read_stream`).
    fn forget_send(&mut self, name: StreamId, id: quinn_proto::StreamId) {
        self.send.remove(&name);
        if name.is_local() && id.dir() == Dir::Uni {
            self.quic_to_local.remove(&id);
            self.local_to_quic.remove(&name);
        }
    }

    pub(crate) fn accept_streams(&mut self, now: Instant, dir: Dir) {
        while let Some(id) = self.quic.streams().accept(dir) {
            // Over WebTransport the stream is the session's only once its prefix is read.
            if self.wt.is_none() {
                let name = StreamId(VarInt::from(id).into_inner());
                self.input(now, Input::StreamOpened { stream: name, bidi: dir == Dir::Bi });
            }
            self.read_stream(now, id);
        }
    }

    /// Drops the id mapping of a core-opened stream whose receive side ended, when its send
    /// side is over too.
    pub(crate) fn forget_recv(&mut self, name: StreamId, id: quinn_proto::StreamId) {
        if name.is_local() && !self.send.contains_key(&name) {
            self.quic_to_local.remove(&id);
            self.local_to_quic.remove(&name);
        }
    }

    fn read_stream(&mut self, now: Instant, id: quinn_proto::StreamId) {
        if self.wt.is_some() {
            return self.read_stream_webtransport(now, id);
        }
        let name = self.core_name(id);
        let mut inputs = Vec::new();
        let mut ended = false;
        {
            let mut recv = self.quic.recv_stream(id);
            let Ok(mut chunks) = recv.read(true) else { return };
            loop {
                match chunks.next(usize::MAX) {
                    Ok(Some(chunk)) => inputs.push(Input::StreamData { stream: name, data: chunk.bytes }),
                    Ok(None) => {
                        inputs.push(Input::StreamFinished { stream: name });
                        ended = true;
                        break;
                    }
                    Err(ReadError::Blocked) => break,
                    Err(ReadError::Reset(code)) => {
                        inputs.push(Input::StreamReset { stream: name, code: code.into_inner() });
                        ended = true;
                        break;
                    }
                }
            }
            // Returns whether flow-control credit should be sent; quinn-proto queues it
            // itself and the next poll_transmit carries it.
            let _ = chunks.finalize();
        }
        for input in inputs {
            self.input(now, input);
        }
        if ended {
            self.forget_recv(name, id);
        }
    }

    /// Reads a stream for the WebTransport layer, which strips prefixes and routes bytes.
    fn read_stream_webtransport(&mut self, now: Instant, id: quinn_proto::StreamId) {
        let mut chunks = Vec::new();
        let mut end = None;
        {
            let mut recv = self.quic.recv_stream(id);
            let Ok(mut read) = recv.read(true) else { return };
            loop {
                match read.next(usize::MAX) {
                    Ok(Some(chunk)) => chunks.push(chunk.bytes),
                    Ok(None) => {
                        end = Some(None);
                        break;
                    }
                    Err(ReadError::Blocked) => break,
                    Err(ReadError::Reset(code)) => {
                        end = Some(Some(code.into_inner()));
                        break;
                    }
                }
            }
            let _ = read.finalize();
        }
        let last = chunks.len();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let fin = i + 1 == last && end == Some(None);
            self.wt_stream_data(now, id, chunk, fin);
        }
        match end {
            Some(None) if last == 0 => self.wt_stream_data(now, id, Bytes::new(), true),
            Some(Some(code)) => self.wt_stream_reset(now, id, code),
            _ => {}
        }
    }

    fn on_output(&mut self, now: Instant, output: Output) {
        match output {
            Output::OpenStream { stream, bidi, order } => {
                let queue = &mut self.pending_opens[dir_index(bidi)];
                queue.push_back(PendingOpen { stream, order });
                if queue.len() == 1 {
                    self.open_pending(now, if bidi { Dir::Bi } else { Dir::Uni });
                }
                if self.pending_opens[dir_index(bidi)].iter().any(|p| p.stream == stream) {
                    self.stats.deferred_opens += 1;
                }
            }
            Output::Write { stream, header, payload, fin } => {
                let queue = self.send.entry(stream).or_default();
                let header = header.to_bytes_in(&mut self.header_block);
                for bytes in [header, payload] {
                    if !bytes.is_empty() {
                        queue.push_back(bytes);
                    }
                }
                queue.fin |= fin;
                self.write_queued(now, stream);
            }
            Output::Reset { stream, code } => {
                let code = self.wt_error_code(code);
                self.send.remove(&stream);
                match self.quic_id(stream) {
                    Some(id) => {
                        self.unacked.remove(&id);
                        let _ = self.quic.send_stream(id).reset(varint(code));
                        self.forget_send(stream, id);
                    }
                    None => {
                        for queue in &mut self.pending_opens {
                            queue.retain(|p| p.stream != stream);
                        }
                    }
                }
            }
            Output::StopSending { stream, code } => {
                let code = self.wt_error_code(code);
                if let Some(id) = self.quic_id(stream) {
                    let _ = self.quic.recv_stream(id).stop(varint(code));
                }
            }
            Output::SetOrder { stream, order } => match self.quic_id(stream) {
                Some(id) => {
                    let _ = self.quic.send_stream(id).set_priority(order.0);
                }
                None => {
                    for pending in self.pending_opens.iter_mut().flatten() {
                        if pending.stream == stream {
                            pending.order = order;
                        }
                    }
                }
            },
            Output::Datagram(datagram) => {
                // Unreliable by definition: too large or unsupported by the peer means lost.
                if self.wt.is_some() {
                    self.wt_send_datagram(&datagram);
                } else {
                    let _ = self.quic.datagrams().send(datagram, true);
                }
            }
            Output::Close { code, reason } => {
                if self.wt.is_some() {
                    self.wt_close(now, code, &reason);
                } else {
                    self.quic.close(now, varint(code), Bytes::from(reason.into_bytes()));
                }
            }
            Output::Event(event) => self.events.push_back(event),
        }
    }

    /// The QUIC stream a core name refers to, if it is open.
    fn quic_id(&self, stream: StreamId) -> Option<quinn_proto::StreamId> {
        if stream.is_local() {
            self.local_to_quic.get(&stream).copied()
        } else {
            VarInt::from_u64(stream.0).ok().map(quinn_proto::StreamId::from)
        }
    }

    /// Opens queued core streams of `dir` while QUIC has credit, in the order asked.
    fn open_pending(&mut self, now: Instant, dir: Dir) {
        let index = dir_index(dir == Dir::Bi);
        while let Some(pending) = self.pending_opens[index].front() {
            let Some(id) = self.quic.streams().open(dir) else { break };
            let PendingOpen { stream, order } = *pending;
            self.pending_opens[index].pop_front();
            let _ = self.quic.send_stream(id).set_priority(order.0);
            self.local_to_quic.insert(stream, id);
            self.quic_to_local.insert(id, stream);
            // Over WebTransport the stream's first bytes say which session it belongs to.
            if let Some(prefix) = self.wt_stream_prefix(dir == Dir::Bi) {
                self.send.entry(stream).or_default().push_front(prefix);
            }
            self.input(now, Input::StreamOpenResult { stream, opened: true });
            self.write_queued(now, stream);
        }
    }

    /// Hands a stream's queued bytes (then its FIN) to quinn-proto, as far as flow control
    /// allows.
    pub(crate) fn write_queued(&mut self, now: Instant, stream: StreamId) {
        let Some(id) = self.quic_id(stream) else { return };
        let Some(queue) = self.send.get_mut(&stream) else { return };
        let mut send = self.quic.send_stream(id);
        while !queue.chunks.is_empty() {
            let slice = queue.chunks.make_contiguous();
            match send.write_chunks(slice) {
                Ok(written) => {
                    queue.chunks.drain(..written.chunks);
                    queue.bytes = queue.bytes.saturating_sub(written.bytes);
                    if queue.chunks.front().is_some_and(Bytes::is_empty) {
                        queue.chunks.pop_front();
                    }
                    if written.bytes == 0 && !queue.chunks.is_empty() {
                        queue.blocked = true;
                        self.stats.blocked_writes += 1;
                        return;
                    }
                }
                Err(WriteError::Blocked) => {
                    queue.blocked = true;
                    self.stats.blocked_writes += 1;
                    return;
                }
                // Stopped: the Stopped event reports it; ClosedStream: already reset/finished.
                Err(WriteError::Stopped(_) | WriteError::ClosedStream) => {
                    self.send.remove(&stream);
                    return;
                }
            }
        }
        let was_blocked = std::mem::take(&mut queue.blocked);
        if queue.fin {
            if send.finish().is_ok() {
                self.unacked.insert(id);
            }
            // Keep the entry out of the map: nothing more can be written. The id mapping
            // stays until the peer acknowledges (StreamEvent::Finished).
            self.send.remove(&stream);
        }
        if was_blocked && !self.wt_is_owned(id) {
            self.stats.writable_reports += 1;
            self.input(now, Input::Writable { stream });
        }
    }
}

/// The code and reason a lost connection reports to the session.
fn close_reason(reason: &ConnectionError) -> (u64, Bytes) {
    match reason {
        ConnectionError::ApplicationClosed(close) => (close.error_code.into_inner(), close.reason.clone()),
        ConnectionError::ConnectionClosed(close) => (u64::from(close.error_code), close.reason.clone()),
        ConnectionError::TransportError(error) => {
            (u64::from(error.code), Bytes::from(error.reason.clone().into_bytes()))
        }
        other => (0, Bytes::from(other.to_string().into_bytes())),
    }
}
