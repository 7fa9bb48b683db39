//! The transport mechanics of one simulated connection, under its [`LinkConfig`].
//!
//! A connection carries what QUIC would carry between two sans-IO endpoints, with the
//! properties MoQ logic depends on and nothing more:
//!
//! * **Opening** a stream always succeeds at once ([`Input::StreamOpenResult`] `opened:
//!   true`; no stream-count limit is modelled). The peer learns of it one latency later,
//!   under a QUIC-style id (RFC 9000 §2.1: bit 0 server-initiated, bit 1 unidirectional),
//!   before any of its data.
//! * **Streams** are reliable, ordered byte FIFOs. A chunk's arrival time is never earlier
//!   than the previous chunk's on the same stream, so jitter delays a stream but never
//!   reorders it. Chunks are the endpoint's own `Bytes` (split with `Bytes::split_to` only
//!   when a window or a packet boundary cuts them), never copied.
//! * **Flow control** (RFC 9000 §4): bytes sent on a stream count against a per-stream and a
//!   per-connection window until the receiving endpoint has been handed them; the credit
//!   then travels back (one-way latency). A stream that had bytes waiting for credit gets
//!   [`Input::Writable`] once its backlog has all left (one wake-up per blocked episode;
//!   bytes waiting only for bandwidth do not count as blocked). A receiver can be paused
//!   ([`crate::Network::set_reading`]): what arrives is held and its credit stays out.
//! * **Bandwidth**: each direction serialises one chunk (at most `packet_size` bytes) at a
//!   time at `bandwidth` bytes/s. When the link is busy, the next chunk comes from the
//!   stream with the highest [`SendOrder`] that has data and credit (ties: round-robin,
//!   then oldest stream), the way quinn's `set_priority` behaves; so congestion and
//!   priorities are observable. Datagrams jump the stream queue but take link time.
//! * **Resets and STOP_SENDING** (RFC 9000 §3.5): a reset drops the sender's queued bytes
//!   and reaches the peer after the bytes already on the wire. A STOP_SENDING makes the
//!   transport reset the stream with the same code (as QUIC stacks do) and is reported to
//!   the sender as [`Input::StopSending`].
//! * **Datagrams** (RFC 9221) may be lost (probability `datagram_loss`) and reordered (by
//!   jitter, and with probability `datagram_reorder` by an extra `reorder_delay`).
//! * **Close**: the peer learns of a close one latency later, exactly once; everything
//!   queued is dropped, and an endpoint that closed receives nothing more.
//!
//! Every random draw comes from the network's seeded [`Rng`], in processing order, with a
//! fixed number of draws per chunk and per datagram, so runs are reproducible.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use sluice::{Event, Input, Output, SendOrder, StreamId, Time};

use crate::config::LinkConfig;
use crate::endpoint::Endpoint;
use crate::rng::Rng;
use crate::side::Side;
use crate::stats::LinkStats;
use crate::trace::{ConnId, TraceEntry, Traced};

/// Mutable access to the two endpoints of a connection and their event queues.
pub(crate) struct Ends<'a, E> {
    pub(crate) endpoints: [&'a mut E; 2],
    pub(crate) events: [&'a mut Vec<Event>; 2],
}

impl<E: Endpoint> Ends<'_, E> {
    fn endpoint(&mut self, side: Side) -> &mut E {
        match side {
            Side::Client => &mut *self.endpoints[0],
            Side::Server => &mut *self.endpoints[1],
        }
    }

    fn events(&mut self, side: Side) -> &mut Vec<Event> {
        match side {
            Side::Client => &mut *self.events[0],
            Side::Server => &mut *self.events[1],
        }
    }
}

/// The network-wide state a link step needs.
pub(crate) struct Ctx<'a> {
    pub(crate) now: Time,
    pub(crate) conn: ConnId,
    pub(crate) rng: &'a mut Rng,
    pub(crate) trace: Option<&'a mut Vec<TraceEntry>>,
}

impl Ctx<'_> {
    fn record(&mut self, side: Side, what: Traced) {
        if let Some(trace) = self.trace.as_mut() {
            trace.push(TraceEntry { at: self.now, conn: self.conn, side, what });
        }
    }
}

/// A piece of a stream waiting to be sent.
#[derive(Debug)]
struct Chunk {
    data: Bytes,
    fin: bool,
}

/// One sending direction of a stream.
#[derive(Debug)]
struct Direction {
    queue: VecDeque<Chunk>,
    in_flight: u64,
    order: SendOrder,
    last_arrival: Time,
    last_served: u64,
    blocked: bool,
    fin_queued: bool,
    reset: bool,
    receive_done: bool,
}

impl Direction {
    fn new(order: SendOrder) -> Direction {
        Direction {
            queue: VecDeque::new(),
            in_flight: 0,
            order,
            last_arrival: Time::ZERO,
            last_served: 0,
            blocked: false,
            fin_queued: false,
            reset: false,
            receive_done: false,
        }
    }

    fn all_sent(&self) -> bool {
        self.fin_queued && self.queue.is_empty()
    }
}

#[derive(Debug)]
struct Stream {
    /// The name each side uses for the stream (index: [`Side::index`]).
    names: [StreamId; 2],
    /// Sending directions (index: the sending side); a uni stream has only the opener's.
    dirs: [Option<Direction>; 2],
}

impl Stream {
    fn dir(&mut self, sender: Side) -> Option<&mut Direction> {
        self.dirs.get_mut(sender.index()).and_then(Option::as_mut)
    }

    fn name(&self, side: Side) -> StreamId {
        self.names[side.index()]
    }
}

/// Something on its way to an endpoint (or, for `Credit`/`LinkFree`, to the link itself).
#[derive(Debug)]
enum Delivery {
    Opened { key: usize, to: Side, bidi: bool },
    Data { key: usize, from: Side, data: Bytes, fin: bool },
    Reset { key: usize, from: Side, code: u64 },
    StopSending { key: usize, to: Side, code: u64 },
    Credit { key: usize, sender: Side, bytes: u64 },
    Datagram { to: Side, data: Bytes },
    Closed { to: Side, code: u64, reason: Bytes },
    LinkFree { sender: Side },
}

#[derive(Debug)]
struct Scheduled {
    at: Time,
    seq: u64,
    what: Delivery,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Scheduled) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Scheduled) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Scheduled) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The transport state of one connection. See the module docs.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) config: LinkConfig,
    pub(crate) stats: LinkStats,
    streams: Vec<Stream>,
    names: [HashMap<StreamId, usize>; 2],
    /// Streams opened per (opener, bidi), for QUIC-style peer-side ids.
    opened: [[u64; 2]; 2],
    conn_in_flight: [u64; 2],
    link_free_at: [Time; 2],
    wake_pending: [bool; 2],
    in_flight: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    serve_counter: u64,
    closed: [bool; 2],
    paused: [bool; 2],
    held: [VecDeque<Delivery>; 2],
    /// Per sending side, the streams with queued bytes or a pending wake-up (so a link
    /// with thousands of finished streams does not scan them all per packet).
    active: [ActiveSet; 2],
    /// Scratch list of active streams for [`Link::pump`] (kept, so pumping does not allocate).
    scratch: Vec<usize>,
    /// Where written headers (inline bytes in the core's output) are copied to become the
    /// `Bytes` chunks the link carries, many to one allocation.
    header_block: BytesMut,
}

/// A set of stream keys iterated in ascending order (as a `BTreeSet` would be), kept in a
/// sorted `Vec` so that a stream going active and idle again, once per chunk, does not
/// allocate and free a tree node each time.
#[derive(Debug, Default)]
struct ActiveSet(Vec<usize>);

impl ActiveSet {
    fn insert(&mut self, key: usize) {
        if let Err(at) = self.0.binary_search(&key) {
            self.0.insert(at, key);
        }
    }

    fn remove(&mut self, key: &usize) {
        if let Ok(at) = self.0.binary_search(key) {
            self.0.remove(at);
        }
    }
}

impl<'a> IntoIterator for &'a ActiveSet {
    type Item = &'a usize;
    type IntoIter = std::slice::Iter<'a, usize>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Link {
    pub(crate) fn new(config: LinkConfig) -> Link {
        Link {
            config,
            stats: LinkStats::default(),
            streams: Vec::new(),
            names: [HashMap::new(), HashMap::new()],
            opened: [[0; 2]; 2],
            conn_in_flight: [0; 2],
            link_free_at: [Time::ZERO; 2],
            wake_pending: [false; 2],
            in_flight: BinaryHeap::new(),
            seq: 0,
            serve_counter: 0,
            closed: [false; 2],
            paused: [false; 2],
            held: [VecDeque::new(), VecDeque::new()],
            active: [ActiveSet::default(), ActiveSet::default()],
            scratch: Vec::new(),
            header_block: BytesMut::new(),
        }
    }

    /// True once `side` has closed or been told of the close.
    pub(crate) fn is_closed(&self, side: Side) -> bool {
        self.closed[side.index()]
    }

    /// When the next thing in flight arrives.
    pub(crate) fn next_due(&self) -> Option<Time> {
        self.in_flight.peek().map(|Reverse(s)| s.at)
    }

    /// True while anything is in flight or held for a paused reader.
    pub(crate) fn busy(&self) -> bool {
        !self.in_flight.is_empty()
    }

    fn schedule(&mut self, at: Time, what: Delivery) {
        self.seq += 1;
        self.in_flight.push(Reverse(Scheduled { at, seq: self.seq, what }));
    }

    /// One-way delay of one chunk or datagram: latency plus a jitter draw.
    fn one_way(&self, rng: &mut Rng) -> Duration {
        self.config.latency + rng.duration_up_to(self.config.jitter)
    }

    /// Hands `input` to `side` and processes what it answers.
    pub(crate) fn feed<E: Endpoint>(
        &mut self,
        side: Side,
        input: Input,
        ends: &mut Ends<'_, E>,
        ctx: &mut Ctx<'_>,
    ) {
        ctx.record(side, Traced::Input(input.clone()));
        ends.endpoint(side).handle(ctx.now, input);
        self.drain(side, ends, ctx);
    }

    /// Fires `side`'s timer if it is due.
    pub(crate) fn fire_timer<E: Endpoint>(&mut self, side: Side, ends: &mut Ends<'_, E>, ctx: &mut Ctx<'_>) {
        if ends.endpoint(side).poll_timeout().is_some_and(|t| t <= ctx.now) {
            ctx.record(side, Traced::Timeout);
            ends.endpoint(side).handle_timeout(ctx.now);
            self.drain(side, ends, ctx);
        }
    }

    /// Drains `side`'s outputs. Returns how many there were.
    pub(crate) fn drain<E: Endpoint>(
        &mut self,
        side: Side,
        ends: &mut Ends<'_, E>,
        ctx: &mut Ctx<'_>,
    ) -> usize {
        let mut n = 0;
        while let Some(output) = ends.endpoint(side).poll() {
            n += 1;
            self.on_output(side, output, ends, ctx);
        }
        n
    }

    /// Delivers everything due by `ctx.now`. Returns how many deliveries were processed.
    pub(crate) fn deliver_due<E: Endpoint>(&mut self, ends: &mut Ends<'_, E>, ctx: &mut Ctx<'_>) -> usize {
        let mut n = 0;
        while self.next_due().is_some_and(|t| t <= ctx.now) {
            let Some(Reverse(next)) = self.in_flight.pop() else { break };
            n += 1;
            self.on_delivery(next.what, ends, ctx);
        }
        n
    }

    fn refuse(ctx: &mut Ctx<'_>, side: Side, output: Output, why: &'static str) {
        ctx.record(side, Traced::Refused(output, why));
    }

    fn lookup(&self, side: Side, name: StreamId) -> Option<usize> {
        self.names[side.index()].get(&name).copied()
    }

    fn on_output<E: Endpoint>(
        &mut self,
        from: Side,
        output: Output,
        ends: &mut Ends<'_, E>,
        ctx: &mut Ctx<'_>,
    ) {
        if let Output::Event(event) = output {
            ends.events(from).push(event.clone());
            ctx.record(from, Traced::Output(Output::Event(event)));
            return;
        }
        if self.is_closed(from) {
            if let Output::OpenStream { stream, .. } = output {
                ctx.record(from, Traced::Output(output));
                self.feed(from, Input::StreamOpenResult { stream, opened: false }, ends, ctx);
            } else {
                Self::refuse(ctx, from, output, "connection closed");
            }
            return;
        }
        match output {
            Output::OpenStream { stream, bidi, order } => {
                if self.lookup(from, stream).is_some() {
                    Self::refuse(
                        ctx,
                        from,
                        Output::OpenStream { stream, bidi, order },
                        "stream handle in use",
                    );
                    return;
                }
                ctx.record(from, Traced::Output(Output::OpenStream { stream, bidi, order }));
                let kind = usize::from(!bidi);
                let count = self.opened[from.index()][kind];
                self.opened[from.index()][kind] += 1;
                // RFC 9000 §2.1: bit 0 = server-initiated, bit 1 = unidirectional.
                let peer_name =
                    StreamId((count << 2) | (u64::from(!bidi) << 1) | u64::from(from == Side::Server));
                let mut names = [stream; 2];
                names[from.peer().index()] = peer_name;
                let mut dirs = [None, None];
                dirs[from.index()] = Some(Direction::new(order));
                if bidi {
                    dirs[from.peer().index()] = Some(Direction::new(SendOrder(0)));
                }
                let key = self.streams.len();
                self.streams.push(Stream { names, dirs });
                self.names[from.index()].insert(stream, key);
                self.names[from.peer().index()].insert(peer_name, key);
                let arrival = ctx.now + self.one_way(ctx.rng);
                if let Some(dir) = self.streams[key].dir(from) {
                    dir.last_arrival = arrival;
                }
                self.schedule(arrival, Delivery::Opened { key, to: from.peer(), bidi });
                self.feed(from, Input::StreamOpenResult { stream, opened: true }, ends, ctx);
            }
            Output::Write { stream, header, payload, fin } => {
                let output = Output::Write { stream, header, payload, fin };
                let Some(key) = self.lookup(from, stream) else {
                    return Self::refuse(ctx, from, output, "unknown stream");
                };
                let Some(dir) = self.streams[key].dir(from) else {
                    return Self::refuse(ctx, from, output, "receive-only stream");
                };
                if dir.reset {
                    return Self::refuse(ctx, from, output, "stream reset");
                }
                if dir.fin_queued {
                    return Self::refuse(ctx, from, output, "stream finished");
                }
                ctx.record(from, Traced::Output(output.clone()));
                let Output::Write { header, payload, fin, .. } = output else { return };
                let header = header.to_bytes_in(&mut self.header_block);
                for data in [header, payload] {
                    if !data.is_empty() {
                        dir.queue.push_back(Chunk { data, fin: false });
                    }
                }
                if fin {
                    dir.fin_queued = true;
                    match dir.queue.back_mut() {
                        Some(last) if !last.fin => last.fin = true,
                        _ => dir.queue.push_back(Chunk { data: Bytes::new(), fin: true }),
                    }
                }
                self.active[from.index()].insert(key);
                self.pump(from, ends, ctx);
            }
            Output::Reset { stream, code } => {
                let output = Output::Reset { stream, code };
                let Some(key) = self.lookup(from, stream) else {
                    return Self::refuse(ctx, from, output, "unknown stream");
                };
                match self.streams[key].dir(from) {
                    None => return Self::refuse(ctx, from, output, "receive-only stream"),
                    Some(dir) if dir.reset => return Self::refuse(ctx, from, output, "stream reset"),
                    Some(_) => {}
                }
                ctx.record(from, Traced::Output(output));
                self.reset(key, from, code, ctx);
            }
            Output::StopSending { stream, code } => {
                let output = Output::StopSending { stream, code };
                let Some(key) = self.lookup(from, stream) else {
                    return Self::refuse(ctx, from, output, "unknown stream");
                };
                let sender = from.peer();
                if self.streams[key].dir(sender).is_none() {
                    return Self::refuse(ctx, from, output, "send-only stream");
                }
                ctx.record(from, Traced::Output(output));
                let at = ctx.now + self.one_way(ctx.rng);
                self.schedule(at, Delivery::StopSending { key, to: sender, code });
            }
            Output::SetOrder { stream, order } => {
                let output = Output::SetOrder { stream, order };
                let Some(key) = self.lookup(from, stream) else {
                    return Self::refuse(ctx, from, output, "unknown stream");
                };
                let Some(dir) = self.streams[key].dir(from) else {
                    return Self::refuse(ctx, from, output, "receive-only stream");
                };
                dir.order = order;
                ctx.record(from, Traced::Output(output));
            }
            Output::Datagram(data) => {
                ctx.record(from, Traced::Output(Output::Datagram(data.clone())));
                self.stats.sent_by_mut(from).datagrams_sent += 1;
                // Always three draws per datagram, so one outcome never shifts the others.
                let lost = ctx.rng.chance(self.config.datagram_loss);
                let delay = self.one_way(ctx.rng);
                let held_back = ctx.rng.chance(self.config.datagram_reorder);
                if lost {
                    self.stats.sent_by_mut(from).datagrams_lost += 1;
                    ctx.record(from, Traced::DatagramLost(data));
                    return;
                }
                let depart = self.occupy(from, data.len(), ctx.now);
                let mut at = depart + delay;
                if held_back {
                    at = at + self.config.reorder_delay;
                }
                self.schedule(at, Delivery::Datagram { to: from.peer(), data });
            }
            Output::Close { code, reason } => {
                ctx.record(from, Traced::Output(Output::Close { code, reason: reason.clone() }));
                self.closed[from.index()] = true;
                self.drop_queues();
                let at = ctx.now + self.one_way(ctx.rng);
                self.schedule(at, Delivery::Closed { to: from.peer(), code, reason: Bytes::from(reason) });
            }
            Output::Event(_) => {}
        }
    }

    /// Reserves the link of `sender` for `len` bytes; returns when they have left.
    fn occupy(&mut self, sender: Side, len: usize, now: Time) -> Time {
        if self.config.bandwidth.is_none() {
            return now;
        }
        let start = self.link_free_at[sender.index()].max(now);
        let done = start + self.config.transmit_time(len);
        self.link_free_at[sender.index()] = done;
        done
    }

    fn drop_queues(&mut self) {
        for stream in &mut self.streams {
            for dir in stream.dirs.iter_mut().flatten() {
                dir.queue.clear();
                dir.blocked = false;
            }
        }
        self.held = [VecDeque::new(), VecDeque::new()];
        self.active = [ActiveSet::default(), ActiveSet::default()];
    }

    /// The sender resets one direction: queued bytes are dropped, the peer is told after
    /// what is already on the wire.
    fn reset(&mut self, key: usize, sender: Side, code: u64, ctx: &mut Ctx<'_>) {
        let delay = self.one_way(ctx.rng);
        let Some(dir) = self.streams[key].dir(sender) else { return };
        dir.reset = true;
        dir.queue.clear();
        dir.blocked = false;
        self.active[sender.index()].remove(&key);
        let at = (ctx.now + delay).max(dir.last_arrival);
        dir.last_arrival = at;
        self.schedule(at, Delivery::Reset { key, from: sender, code });
    }

    /// Credit `sender` may still use on `key`'s direction: (stream, connection) minimum.
    fn credit(&self, key: usize, sender: Side) -> u64 {
        let Some(Some(dir)) = self.streams.get(key).map(|s| &s.dirs[sender.index()]) else { return 0 };
        let stream = self.config.stream_window.map_or(u64::MAX, |w| w.saturating_sub(dir.in_flight));
        let conn = self
            .config
            .connection_window
            .map_or(u64::MAX, |w| w.saturating_sub(self.conn_in_flight[sender.index()]));
        stream.min(conn)
    }

    /// Picks the next stream `sender` should send from: highest order, then least
    /// recently served, then oldest.
    fn pick(&self, sender: Side) -> Option<usize> {
        let mut best: Option<(usize, SendOrder, u64)> = None;
        for &key in &self.active[sender.index()] {
            let Some(Some(dir)) = self.streams.get(key).map(|s| &s.dirs[sender.index()]) else { continue };
            let Some(head) = dir.queue.front() else { continue };
            if !head.data.is_empty() && self.credit(key, sender) == 0 {
                continue;
            }
            let better = match best {
                None => true,
                Some((_, order, served)) => {
                    dir.order > order || (dir.order == order && dir.last_served < served)
                }
            };
            if better {
                best = Some((key, dir.order, dir.last_served));
            }
        }
        best.map(|(key, _, _)| key)
    }

    /// Moves `sender`'s queued stream data onto the wire as far as credit and bandwidth
    /// allow, then reports [`Input::Writable`] for streams whose backlog cleared.
    fn pump<E: Endpoint>(&mut self, sender: Side, ends: &mut Ends<'_, E>, ctx: &mut Ctx<'_>) {
        let s = sender.index();
        while !self.closed[s] {
            if self.config.bandwidth.is_some() && self.link_free_at[s] > ctx.now {
                if !self.wake_pending[s] {
                    self.wake_pending[s] = true;
                    let at = self.link_free_at[s];
                    self.schedule(at, Delivery::LinkFree { sender });
                }
                break;
            }
            let Some(key) = self.pick(sender) else { break };
            let mut limit = self.credit(key, sender);
            if self.config.bandwidth.is_some() {
                limit = limit.min(self.config.packet_size as u64);
            }
            let delay = self.one_way(ctx.rng);
            self.serve_counter += 1;
            let served = self.serve_counter;
            let Some(dir) = self.streams[key].dir(sender) else { break };
            let Some(head) = dir.queue.front_mut() else { break };
            let chunk = if head.data.len() as u64 > limit {
                // `split_to` shares the allocation: a zero-copy cut at the credit/packet edge.
                let cut = usize::try_from(limit).unwrap_or(usize::MAX);
                Chunk { data: head.data.split_to(cut), fin: false }
            } else {
                let Some(whole) = dir.queue.pop_front() else { break };
                whole
            };
            let len = chunk.data.len();
            dir.in_flight += len as u64;
            dir.last_served = served;
            self.conn_in_flight[s] += len as u64;
            self.stats.sent_by_mut(sender).stream_bytes += len as u64;
            let depart = self.occupy(sender, len, ctx.now);
            let Some(dir) = self.streams[key].dir(sender) else { break };
            let at = (depart + delay).max(dir.last_arrival);
            dir.last_arrival = at;
            self.schedule(at, Delivery::Data { key, from: sender, data: chunk.data, fin: chunk.fin });
        }
        let mut writable = Vec::new();
        let mut active = std::mem::take(&mut self.scratch);
        active.clear();
        active.extend_from_slice(&self.active[s].0);
        for &key in &active {
            let credit = self.credit(key, sender);
            let Some(dir) = self.streams[key].dir(sender) else { continue };
            if dir.queue.front().is_some_and(|c| !c.data.is_empty()) && credit == 0 {
                dir.blocked = true;
            } else if dir.blocked && dir.queue.is_empty() {
                dir.blocked = false;
                writable.push(key);
            }
            if dir.queue.is_empty() && !dir.blocked {
                self.active[s].remove(&key);
            }
        }
        self.scratch = active;
        for key in writable {
            let stream = self.streams[key].name(sender);
            self.stats.sent_by_mut(sender).writables += 1;
            self.feed(sender, Input::Writable { stream }, ends, ctx);
        }
    }

    /// Stops (or resumes) handing stream data to `side`, as if its application stopped
    /// reading: what arrives meanwhile is held, and its credit does not return.
    pub(crate) fn set_reading<E: Endpoint>(
        &mut self,
        side: Side,
        reading: bool,
        ends: &mut Ends<'_, E>,
        ctx: &mut Ctx<'_>,
    ) {
        self.paused[side.index()] = !reading;
        if reading {
            while let Some(held) = self.held[side.index()].pop_front() {
                self.on_delivery(held, ends, ctx);
                if self.paused[side.index()] {
                    break;
                }
            }
        }
    }

    /// Closes the connection under both endpoints, as a transport failure would.
    pub(crate) fn disconnect<E: Endpoint>(
        &mut self,
        code: u64,
        reason: &str,
        ends: &mut Ends<'_, E>,
        ctx: &mut Ctx<'_>,
    ) {
        self.drop_queues();
        self.in_flight.clear();
        for side in Side::BOTH {
            if !self.closed[side.index()] {
                self.closed[side.index()] = true;
                let reason = Bytes::copy_from_slice(reason.as_bytes());
                self.feed(side, Input::Closed { code, reason }, ends, ctx);
            }
        }
    }

    fn on_delivery<E: Endpoint>(&mut self, what: Delivery, ends: &mut Ends<'_, E>, ctx: &mut Ctx<'_>) {
        let to = match &what {
            Delivery::Opened { to, .. }
            | Delivery::StopSending { to, .. }
            | Delivery::Datagram { to, .. }
            | Delivery::Closed { to, .. } => *to,
            Delivery::Data { from, .. } | Delivery::Reset { from, .. } => from.peer(),
            Delivery::Credit { sender, .. } | Delivery::LinkFree { sender } => *sender,
        };
        if self.closed[to.index()] {
            return;
        }
        let stream_bound =
            matches!(what, Delivery::Opened { .. } | Delivery::Data { .. } | Delivery::Reset { .. });
        if stream_bound && self.paused[to.index()] {
            self.held[to.index()].push_back(what);
            return;
        }
        match what {
            Delivery::Opened { key, to, bidi } => {
                let stream = self.streams[key].name(to);
                self.feed(to, Input::StreamOpened { stream, bidi }, ends, ctx);
            }
            Delivery::Data { key, from, data, fin } => {
                let Some(dir) = self.streams[key].dir(from) else { return };
                if dir.receive_done {
                    return;
                }
                dir.receive_done = fin;
                let len = data.len() as u64;
                let stream = self.streams[key].name(to);
                if len > 0 {
                    let at = ctx.now + self.one_way(ctx.rng);
                    self.schedule(at, Delivery::Credit { key, sender: from, bytes: len });
                    self.feed(to, Input::StreamData { stream, data }, ends, ctx);
                }
                if fin {
                    self.feed(to, Input::StreamFinished { stream }, ends, ctx);
                }
            }
            Delivery::Reset { key, from, code } => {
                let Some(dir) = self.streams[key].dir(from) else { return };
                if dir.receive_done {
                    return;
                }
                dir.receive_done = true;
                // The receiver releases everything the reset stream still held.
                let at = ctx.now + self.one_way(ctx.rng);
                self.schedule(at, Delivery::Credit { key, sender: from, bytes: u64::MAX });
                let stream = self.streams[key].name(to);
                self.feed(to, Input::StreamReset { stream, code }, ends, ctx);
            }
            Delivery::StopSending { key, to, code } => {
                let stream = self.streams[key].name(to);
                let must_reset = self.streams[key].dir(to).is_some_and(|d| !d.reset && !d.all_sent());
                if must_reset {
                    self.reset(key, to, code, ctx);
                }
                self.feed(to, Input::StopSending { stream, code }, ends, ctx);
            }
            Delivery::Credit { key, sender, bytes } => {
                let Some(dir) = self.streams[key].dir(sender) else { return };
                let n = bytes.min(dir.in_flight);
                dir.in_flight -= n;
                self.conn_in_flight[sender.index()] -= n;
                self.pump(sender, ends, ctx);
            }
            Delivery::LinkFree { sender } => {
                self.wake_pending[sender.index()] = false;
                self.pump(sender, ends, ctx);
            }
            Delivery::Datagram { to, data } => self.feed(to, Input::Datagram(data), ends, ctx),
            Delivery::Closed { to, code, reason } => {
                self.closed[to.index()] = true;
                self.drop_queues();
                self.feed(to, Input::Closed { code, reason }, ends, ctx);
            }
        }
    }
}
