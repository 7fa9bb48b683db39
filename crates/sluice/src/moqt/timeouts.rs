//! Delivery timeouts (draft-18 §"Delivery Timeouts and Data Reliability", the
//! OBJECT_DELIVERY_TIMEOUT / SUBGROUP_DELIVERY_TIMEOUT parameters and track properties).
//!
//! Each subscription has two timeouts in ms, 0 meaning none. For each, when both the
//! subscriber (message parameter) and the publisher (track property) give a non-zero
//! value, the smaller is used ([`effective_ms`]).
//!
//! Where the values come from in this engine:
//! * subscriber's OBJECT_DELIVERY_TIMEOUT: `SubscribeOptions::max_latency_ms` (sent in
//!   SUBSCRIBE / PUBLISH_OK / REQUEST_UPDATE; a peer's value lands there too);
//! * publisher's OBJECT_DELIVERY_TIMEOUT: `TrackInfo::max_latency_ms` (track property);
//! * SUBGROUP_DELIVERY_TIMEOUT: the peer's value is kept per request
//!   (`Request::peer_subgroup_timeout_ms`); the model has no typed field for our own: a
//!   local publisher sets it for the track with a SUBGROUP_DELIVERY_TIMEOUT (0x06) pair in
//!   `TrackInfo::properties` (sent as the track property), or per subgroup with that
//!   property on the subgroup's first object, which replaces the track's value for that
//!   subgroup; an OBJECT_DELIVERY_TIMEOUT (0x02) property there likewise replaces the
//!   track's object timeout.
//!
//! The values are read when they are needed (object written, FIN written), so a
//! REQUEST_UPDATE changes the timeouts of later objects and subgroups.
//!
//! # Publisher side, per subgroup stream we write
//!
//! * Object timeout: the draft checks "the time elapsed since the first byte of the
//!   object before attempting to pass it to the underlying transport". A sans-IO core
//!   emits every write at once, so the only wait it can see is the adapter holding writes
//!   for a stream it has not opened yet (the core never blocks on stream credit: the
//!   adapter queues until the open succeeds). So an object counts as handed to the
//!   transport once it is written *and* the adapter reported the stream open
//!   (`Input::StreamOpenResult { opened: true }`); if the oldest object written before
//!   that is older than the timeout, the stream is reset with DELIVERY_TIMEOUT. Bytes the
//!   transport holds after that (flow control, loss) cannot be timed out by the core —
//!   the draft says as much ("any data buffered at this layer can no longer be timed
//!   out") — and the object's age before the application wrote it (a relay's upstream
//!   receive time) is not known to the core: both are the adapter's / application's.
//! * Subgroup timeout: starts when the subgroup's FIN is written (`close_subgroup`); if
//!   the adapter has not reported the stream acknowledged (`Input::StreamAcked`) when it
//!   runs out, the stream is reset with DELIVERY_TIMEOUT. An adapter that never reports
//!   acks gets a reset of a stream the peer may already have whole, which the draft lets
//!   the receiver ignore.
//! * After a reset the stream is forgotten: further writes to it fail with
//!   `CommandError::UnknownStream` (the draft: do not open a new stream for the rest of
//!   that subgroup).
//! * The object clock starts at the object's first payload byte: `ObjectWrite::first_byte_at`
//!   when the caller gives it (a relay that received the object earlier), else the time
//!   of the write. An object already older than the timeout when written is not passed to
//!   the transport: its stream is reset with DELIVERY_TIMEOUT at once and the write fails
//!   with `CommandError::DeliveryTimeout` ("MUST check the time elapsed since the first
//!   byte of the object before attempting to pass it to the underlying transport").
//!   "Exceeds" is strict: an object exactly as old as the timeout still goes.
//!
//! # Datagrams
//!
//! "For objects with Object Forwarding Preference set to Datagram, the
//! SUBGROUP_DELIVERY_TIMEOUT acts the same way as OBJECT_DELIVERY_TIMEOUT; if both are
//! non-zero, the smaller of the two is used", and an expired datagram MUST be dropped. The
//! core hands a datagram to the adapter the moment it is sent, so the only age it can
//! check is the one it is told: `send_datagram` with `first_byte_at` older than that
//! timeout, as of the session's clock (the time of its latest `handle` or
//! `handle_timeout`: an adapter that wants the check exact feeds `handle_timeout(now)`
//! first; a stale clock only errs towards sending), sends nothing and returns
//! `CommandError::DeliveryTimeout`. Datagrams use the subscription's values (subscriber
//! parameters, `TrackInfo::max_latency_ms`); there is no per-subgroup override. Queueing in
//! the adapter after that is the adapter's (the draft's `outgoingMaxAge` advice).
//!
//! # Fetch
//!
//! No delivery timeout applies to FETCH responses: the draft defines both timeouts per
//! subscription, with mechanisms only for the Subgroup and Datagram forwarding preferences,
//! and allows the parameters only in PUBLISH_OK, SUBSCRIBE and REQUEST_UPDATE (§"Message
//! Parameters"). A fetch stream is never reset for a delivery timeout, and
//! `first_byte_at` is ignored on fetch objects.
//!
//! # Subscriber side
//!
//! The draft's only duty: after PUBLISH_DONE, wait at least the larger of the two
//! effective timeouts for late objects — the grace period is the larger of that and
//! `Config::unknown_alias_timeout`.

use std::time::Duration;

use sluice_wire::moqt::codes::{PropertyType, StreamResetCode};
use sluice_wire::moqt::kvp::Properties;
use sluice_wire::moqt::params::{Parameter, Parameters};

use super::MoqtEngine;
use super::state::{Closing, OutData, Request};
use crate::engine::Shared;
use crate::ids::{RequestHandle, StreamId};
use crate::io::Output;
use crate::time::Time;

/// The timeout in force when one side says `a` and the other `b` (0 = none).
pub(super) fn effective_ms(a: u64, b: u64) -> u64 {
    match (a, b) {
        (0, x) | (x, 0) => x,
        (a, b) => a.min(b),
    }
}

/// `now + ms`, or `None` for 0 (no timeout).
fn deadline(now: Time, ms: u64) -> Option<Time> {
    (ms > 0).then(|| now + Duration::from_millis(ms))
}

/// The SUBGROUP_DELIVERY_TIMEOUT parameter among `params`, if present.
pub(super) fn subgroup_timeout_param(params: &Parameters) -> Option<u64> {
    params.iter().find_map(|p| match p {
        Parameter::SubgroupDeliveryTimeout(v) => Some(*v),
        _ => None,
    })
}

/// A varint property of `kind` among `props` or inside its Immutable Properties, if present.
pub(super) fn varint_property(props: &Properties, kind: PropertyType) -> Option<u64> {
    super::track_props::find_property(props, kind.0).and_then(|kv| kv.as_varint())
}

/// Our own SUBGROUP_DELIVERY_TIMEOUT for the track of `r` we publish: the track property
/// the application put in `TrackInfo::properties` (sent with the track), 0 = none.
fn track_subgroup_timeout_ms(r: &Request) -> u64 {
    if r.info.properties.is_empty() {
        return 0;
    }
    Properties::from_raw(r.info.properties.clone())
        .ok()
        .and_then(|props| varint_property(&props, PropertyType::SUBGROUP_DELIVERY_TIMEOUT))
        .unwrap_or(0)
}

/// The object timeout in ms in force for a subgroup stream `out` we write for `r`.
fn object_timeout_ms(r: &Request, out: &OutData) -> u64 {
    effective_ms(r.options.max_latency_ms, out.object_timeout_ms.unwrap_or(r.info.max_latency_ms))
}

/// The object delivery timeout in ms of a subgroup stream `out` we write for `r`, with the
/// subgroup's first-object properties (`first`) applied as `timing_object_written` will
/// apply them.
pub(super) fn subgroup_object_timeout_ms(
    r: Option<&Request>,
    out: &OutData,
    first: Option<&Properties>,
) -> u64 {
    let Some(r) = r else { return 0 };
    let own = first.and_then(|p| varint_property(p, PropertyType::OBJECT_DELIVERY_TIMEOUT));
    effective_ms(r.options.max_latency_ms, own.or(out.object_timeout_ms).unwrap_or(r.info.max_latency_ms))
}

/// True when an object whose first byte came at `first_byte_at` is, at `now` (the
/// session's current time), older than `timeout_ms` (0 = no timeout; `None` = now, never).
pub(super) fn expired(now: Time, first_byte_at: Option<Time>, timeout_ms: u64) -> bool {
    match first_byte_at {
        Some(at) if timeout_ms > 0 => now.saturating_since(at) > Duration::from_millis(timeout_ms),
        _ => false,
    }
}

impl MoqtEngine {
    /// The (object, subgroup) timeouts in ms in force for a subgroup stream we write.
    fn publisher_timeouts(&self, out: &OutData) -> (u64, u64) {
        let Some(r) = self.requests.get(&out.request) else { return (0, 0) };
        let object = object_timeout_ms(r, out);
        let own = out.subgroup_timeout_ms.unwrap_or_else(|| track_subgroup_timeout_ms(r));
        (object, effective_ms(r.peer_subgroup_timeout_ms, own))
    }

    /// The delivery timeout in ms of a datagram of the subscription `handle` we publish:
    /// the object and subgroup timeouts combined, the smaller when both are set.
    pub(super) fn datagram_timeout_ms(&self, handle: RequestHandle) -> u64 {
        let Some(r) = self.requests.get(&handle) else { return 0 };
        let object = effective_ms(r.options.max_latency_ms, r.info.max_latency_ms);
        let subgroup = effective_ms(r.peer_subgroup_timeout_ms, track_subgroup_timeout_ms(r));
        effective_ms(object, subgroup)
    }

    /// An object was written to `out`'s stream, whose request is `r` (`first`: the
    /// subgroup's first object, whose properties may carry the publisher's timeouts for the
    /// subgroup): start the object timer if the stream is not open yet. Called by
    /// `cmd_write_object` with the request it already looked up.
    pub(super) fn timing_object_written(
        now: Time,
        r: Option<&Request>,
        out: &mut OutData,
        first: Option<&Properties>,
        first_byte_at: Option<Time>,
    ) {
        if let Some(props) = first {
            out.object_timeout_ms =
                varint_property(props, PropertyType::OBJECT_DELIVERY_TIMEOUT).or(out.object_timeout_ms);
            out.subgroup_timeout_ms =
                varint_property(props, PropertyType::SUBGROUP_DELIVERY_TIMEOUT).or(out.subgroup_timeout_ms);
        }
        if !out.opened && out.object_deadline.is_none() {
            // No timeout (the usual case): the deadline stays `None`, nothing to compute.
            let object_ms = r.map_or(0, |r| object_timeout_ms(r, out));
            if object_ms > 0 {
                out.object_deadline = deadline(first_byte_at.unwrap_or(now).min(now), object_ms);
            }
        }
    }

    /// The FIN of `out`'s stream was written: keep timing it if anything is still due.
    pub(super) fn timing_finished(&mut self, stream: StreamId, out: &OutData) {
        let (_, subgroup_ms) = self.publisher_timeouts(out);
        let closing = Closing {
            object_deadline: if out.opened { None } else { out.object_deadline },
            ack_deadline: deadline(self.now, subgroup_ms),
        };
        if closing.deadline().is_some() {
            self.closing.insert(stream, closing);
        }
    }

    /// The adapter opened one of our streams: what waited for it is in the transport.
    pub(super) fn timing_opened(&mut self, stream: StreamId) {
        if let Some(out) = self.data_out.get_mut(&stream) {
            out.opened = true;
            out.object_deadline = None;
        }
        // Nothing closing is timed (the usual case): no lookup.
        if !self.closing.is_empty()
            && let Some(c) = self.closing.get_mut(&stream)
        {
            c.object_deadline = None;
            if c.ack_deadline.is_none() {
                self.closing.remove(&stream);
            }
        }
    }

    /// The adapter reports every byte of `stream` (and its FIN) acknowledged.
    pub(super) fn timing_acked(&mut self, stream: StreamId) {
        self.closing.remove(&stream);
        self.timing_opened(stream);
    }

    /// The peer stopped one of our data streams, or its open failed: stop timing it.
    pub(super) fn timing_forget(&mut self, stream: StreamId) {
        self.closing.remove(&stream);
    }

    /// Timer: resets the subgroup streams whose delivery timeout ran out.
    pub(super) fn expire_deliveries(&mut self, shared: &mut Shared) {
        let now = self.now;
        let mut due: Vec<StreamId> = self
            .data_out
            .iter()
            .filter(|(_, d)| d.object_deadline.is_some_and(|t| t <= now))
            .map(|(s, _)| *s)
            .chain(
                self.closing.iter().filter(|(_, c)| c.deadline().is_some_and(|t| t <= now)).map(|(s, _)| *s),
            )
            .collect();
        due.sort();
        for stream in due {
            self.data_out.remove(&stream);
            self.closing.remove(&stream);
            shared.push(Output::Reset { stream, code: StreamResetCode::DELIVERY_TIMEOUT.0 });
        }
    }

    /// The earliest delivery deadline of our subgroup streams.
    pub(super) fn delivery_deadline(&self) -> Option<Time> {
        let open = self.data_out.values().filter_map(|d| d.object_deadline);
        let closing = self.closing.values().filter_map(Closing::deadline);
        open.chain(closing).min()
    }

    /// Subscriber side: how long after PUBLISH_DONE to wait for late objects — at least
    /// the larger of the two effective timeouts (§10.11), and at least `floor`.
    pub(super) fn done_grace(&self, handle: RequestHandle, floor: Duration) -> Duration {
        let Some(r) = self.requests.get(&handle) else { return floor };
        let object = effective_ms(r.options.max_latency_ms, r.info.max_latency_ms);
        let subgroup = effective_ms(0, r.peer_subgroup_timeout_ms);
        floor.max(Duration::from_millis(object.max(subgroup)))
    }
}
