//! Subscriptions on Subscribe streams (bidi 0x2), both directions (lite-04 §SUBSCRIBE,
//! §SUBSCRIBE_UPDATE, §SUBSCRIBE_OK, §SUBSCRIBE_DROP; lite-05 §Subscribe, §SUBSCRIBE_OK,
//! §SUBSCRIBE_END, §SUBSCRIBE_DROP).
//!
//! Subscriber side ([`SubOut`]): `subscribe` picks the next Subscribe ID (from 0, never
//! reused), opens the stream with SUBSCRIBE; `update_subscription` writes SUBSCRIBE_UPDATE;
//! `cancel` resets both directions with [`super::codes::CANCELLED`]. The first
//! SUBSCRIBE_OK gives `Subscribed` (lite-04 may repeat SUBSCRIBE_OK to resolve its start;
//! repeats are absorbed; a second lite-05 SUBSCRIBE_OK is a violation), SUBSCRIBE_END is
//! recorded, SUBSCRIBE_DROP gives `GroupsDropped`. The publisher's FIN gives
//! `SubscriptionEnded` code 0 (or, before any SUBSCRIBE_OK, `SubscribeFailed` code 0: a
//! lite-05 track that ended with no matching group) — once the Group streams of the
//! subscription that are open when it arrives have ended: the FIN says every group is
//! accounted for, but the streams race on the transport, so their objects (and a GROUP
//! header read meanwhile) are still delivered first. Its reset gives `SubscribeFailed`
//! (before any SUBSCRIBE_OK: the draft's rejection) or `SubscriptionEnded` (after), with
//! the reset code. After the peer's GOAWAY, `subscribe` is refused (lite-05 §Goaway: no new
//! streams).
//!
//! Publisher side ([`SubIn`]): SUBSCRIBE gives `IncomingSubscribe`; an active Subscribe ID
//! repeated is a PROTOCOL_VIOLATION (we cannot remember every past id in bounded memory,
//! so only live ones are checked). `accept_subscribe` sends SUBSCRIBE_OK: lite-04 with the
//! publisher fields and the resolved start (0 = not yet known when neither the request
//! nor `TrackInfo::largest` gives one; a second SUBSCRIBE_OK resolves it when the first
//! group opens), lite-05 `{Group}` — withheld, as the draft allows, until the first group
//! opens when the start is not yet known. `reject` resets with the caller's code.
//! SUBSCRIBE_UPDATE gives `SubscribeUpdated` and re-orders the open group streams. The
//! subscriber's FIN or reset gives `SubscriberGone` and resets our open group streams.
//! `drop_groups` writes SUBSCRIBE_DROP {first, last, code} (resolving a withheld start to
//! `first` first). `end_subscription` with code 0 ends gracefully: lite-05 SUBSCRIBE_END
//! {largest group opened, else the resolved start, else 0} at once, then the FIN (lite-04:
//! only the FIN) once every group is accounted for (§Subscribe): no Group stream of the
//! subscription is open and, when the adapter reports acks (`Input::StreamAcked`; assumed
//! once it has reported one), every finished one is acknowledged. Group streams the
//! application leaves open past `Config::lite_subscribe_end_wait` are reset and the FIN
//! goes out; no new group may be opened meanwhile. Any other code resets the Subscribe and
//! Group streams at once.

use bytes::Bytes;
use sluice_wire::lite::stream::BidiStreamType;
use sluice_wire::lite::subscribe::{
    Subscribe, SubscribeDrop, SubscribeEnd, SubscribeOk, SubscribeOkLite04, SubscribeResponse,
    SubscribeUpdate,
};
use sluice_wire::{Encode, LiteVersion};

use super::LiteEngine;
use super::codes;
use super::priority::{CONTROL, from_lite, group_order, to_lite};
use super::streams::{Flow, State, Step, Stream, bad, read_message, violation};
use crate::engine::Shared;
use crate::error::CommandError;
use crate::event::{Event, Reason};
use crate::ids::{RequestHandle, StreamId};
use crate::io::Output;
use crate::model::{Filter, GroupOrder, Location, Namespace, SubscribeOptions, TrackInfo, TrackName};

/// A subscription we made.
#[derive(Debug)]
pub(crate) struct SubOut {
    /// Its Subscribe stream.
    pub stream: StreamId,
    /// Its Subscribe ID.
    pub id: u64,
    /// SUBSCRIBE_OK seen.
    pub subscribed: bool,
    /// lite-05 SUBSCRIBE_END: the last group that may arrive.
    pub end: Option<u64>,
    /// Our Subscriber Max Latency, ms (0 = none).
    pub max_latency: u64,
    /// lite-04: the Publisher Max Latency of SUBSCRIBE_OK, ms (0 = none / not known).
    pub publisher_latency: u64,
    /// The largest group sequence whose Group stream arrived.
    pub latest: Option<u64>,
    /// Groups we expired locally and reported, newest last (at most
    /// [`super::expiry::REMEMBERED_EXPIRIES`]): the publisher's SUBSCRIBE_DROP for one of
    /// them is not reported a second time.
    pub expired: std::collections::VecDeque<u64>,
    /// The publisher finished the Subscribe stream while Group streams of this subscription
    /// were still open: they are read to their end, then `SubscriptionEnded` is reported.
    pub draining: bool,
    /// lite-05: the Track-stream lookup of the publisher fields this subscription waits for.
    pub lookup: Option<RequestHandle>,
    /// lite-05: the publisher fields (TRACK_INFO), once known.
    pub publisher: Option<TrackInfo>,
    /// lite-05: SUBSCRIBE_OK's start group while `Subscribed` waits for the lookup.
    pub held_start: Option<u64>,
}

/// Our subscriptions by handle, with a count of removals: a Group stream that saw its
/// subscription at the current count knows it is still there without a lookup (per chunk).
/// Reads go through `Deref`; every way to remove an entry is a method here that counts it.
#[derive(Debug, Default)]
pub(crate) struct SubsOut {
    map: std::collections::BTreeMap<RequestHandle, SubOut>,
    removals: u64,
}

impl std::ops::Deref for SubsOut {
    type Target = std::collections::BTreeMap<RequestHandle, SubOut>;

    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl SubsOut {
    pub(crate) fn insert(&mut self, request: RequestHandle, sub: SubOut) {
        self.map.insert(request, sub);
    }

    pub(crate) fn get_mut(&mut self, request: &RequestHandle) -> Option<&mut SubOut> {
        self.map.get_mut(request)
    }

    pub(crate) fn iter_mut(&mut self) -> std::collections::btree_map::IterMut<'_, RequestHandle, SubOut> {
        self.map.iter_mut()
    }

    pub(crate) fn remove(&mut self, request: &RequestHandle) -> Option<SubOut> {
        self.removals = self.removals.wrapping_add(1);
        self.map.remove(request)
    }

    pub(crate) fn clear(&mut self) {
        self.removals = self.removals.wrapping_add(1);
        self.map.clear();
    }

    /// How many removals there were: a subscription present now is live while this stays.
    pub(crate) fn removals(&self) -> u64 {
        self.removals
    }

    /// A mark that [`Self::is_live`] accepts while no subscription is removed, if
    /// `request` is one of ours now.
    pub(crate) fn mark(&self, request: &RequestHandle) -> Option<u64> {
        self.map.contains_key(request).then_some(self.removals)
    }

    /// True if `request` is one of ours; `seen` (a [`Self::mark`]) skips the lookup when
    /// nothing was removed since it was taken, and is renewed after a lookup that finds it.
    #[inline]
    pub(crate) fn is_live(&self, request: &RequestHandle, seen: &mut Option<u64>) -> bool {
        if *seen == Some(self.removals) {
            return true;
        }
        *seen = self.mark(request);
        seen.is_some()
    }
}

/// What the accepting publisher said.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Accepted {
    /// Publisher priority, lite sense.
    pub priority: u8,
}

/// A subscription the peer made to us.
#[derive(Debug)]
pub(crate) struct SubIn {
    /// Its Subscribe stream.
    pub stream: StreamId,
    /// Its Subscribe ID.
    pub id: u64,
    /// Subscriber priority, lite sense.
    pub priority: u8,
    /// Subscriber Ordered.
    pub ordered: bool,
    /// Requested start group (`None` = latest).
    pub start: Option<u64>,
    /// Requested end group, inclusive.
    pub end: Option<u64>,
    /// Set by `accept_subscribe`.
    pub accepted: Option<Accepted>,
    /// The start group our SUBSCRIBE_OK resolved (`None`: not yet resolved).
    pub resolved: Option<u64>,
    /// lite-04: the publisher fields of our SUBSCRIBE_OK, to repeat it.
    pub ok04: Option<SubscribeOkLite04>,
    /// The largest group we opened.
    pub largest: Option<u64>,
    /// The subscriber's Max Latency, ms (0 = none), from SUBSCRIBE / SUBSCRIBE_UPDATE.
    pub max_latency: u64,
    /// The publisher's Max Latency we accepted with, ms (0 = none).
    pub publisher_latency: u64,
    /// The track's timescale we accepted with (units per second).
    pub timescale: u64,
    /// lite-05: (group, first-frame timestamp) of the latest group with a frame.
    pub latest_timestamp: Option<(u64, u64)>,
    /// `end_subscription` (code 0) was called: the FIN waits until every group is accounted
    /// for, at the latest until this time (`Config::lite_subscribe_end_wait`).
    pub ending: Option<crate::time::Time>,
}

/// The wire fields of subscriber options: (priority, ordered, max latency, start, end).
pub(crate) fn options_to_wire(options: &SubscribeOptions) -> (u8, bool, u64, Option<u64>, Option<u64>) {
    let (start, end) = match options.filter {
        Filter::NextGroup | Filter::LargestObject => (None, None),
        Filter::AbsoluteStart(l) => (Some(l.group), None),
        Filter::AbsoluteRange { start, end_group } => (Some(start.group), Some(end_group)),
    };
    let ordered = options.group_order == Some(GroupOrder::Ascending);
    (to_lite(options.priority), ordered, super::expiry::wire_latency(options.max_latency_ms), start, end)
}

/// Subscriber options from wire fields (see the engine docs for what is lost).
pub(crate) fn options_from_wire(
    priority: u8,
    ordered: bool,
    max_latency: u64,
    start: Option<u64>,
    end: Option<u64>,
) -> SubscribeOptions {
    let filter = match (start, end) {
        (Some(g), Some(e)) => Filter::AbsoluteRange { start: Location { group: g, object: 0 }, end_group: e },
        (Some(g), None) => Filter::AbsoluteStart(Location { group: g, object: 0 }),
        (None, _) => Filter::LargestObject,
    };
    SubscribeOptions {
        filter,
        priority: from_lite(priority),
        group_order: Some(if ordered { GroupOrder::Ascending } else { GroupOrder::Descending }),
        forward: true,
        max_latency_ms: max_latency,
        rendezvous_timeout_ms: None,
        new_group_request: None,
    }
}

fn text(bytes: &Bytes, what: &'static str) -> Result<String, CommandError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| CommandError::InvalidState(what))
}

impl LiteEngine {
    /// `subscribe`.
    pub(crate) fn start_subscription(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
        options: SubscribeOptions,
    ) -> Result<RequestHandle, CommandError> {
        if !options.forward {
            return Err(self.unsupported("subscriptions with forward = false"));
        }
        self.check_no_goaway()?;
        if self.subs_out.len() + self.subs_in.len() >= shared.config.max_subscriptions {
            return Err(CommandError::Limit("max_subscriptions"));
        }
        let (priority, ordered, max_latency, start, end) = options_to_wire(&options);
        let id = self.next_subscribe_id;
        let msg = Subscribe {
            id,
            broadcast: track.namespace.to_path(),
            track: text(&track.name, "lite track names are UTF-8")?,
            priority,
            ordered,
            max_latency,
            start,
            end,
        };
        let bytes = self.encode(&msg)?;
        let request = shared.next_request();
        let stream = self.open_bidi(
            shared,
            BidiStreamType::Subscribe,
            bytes,
            CONTROL,
            State::SubscribeOut { request },
        )?;
        self.next_subscribe_id = id.saturating_add(1);
        let (publisher, lookup) = self.track_info_for(&track);
        self.subs_out.insert(
            request,
            SubOut {
                stream,
                id,
                subscribed: false,
                end: None,
                max_latency,
                publisher_latency: 0,
                latest: None,
                expired: Default::default(),
                draining: false,
                lookup,
                publisher,
                held_start: None,
            },
        );
        self.sub_ids.insert(id, request);
        Ok(request)
    }

    /// `update_subscription`.
    pub(crate) fn send_update(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        options: SubscribeOptions,
    ) -> Result<(), CommandError> {
        let stream = self.subs_out.get(&request).ok_or(CommandError::UnknownRequest(request))?.stream;
        if !options.forward {
            return Err(self.unsupported("subscriptions with forward = false"));
        }
        let (priority, ordered, max_latency, start, end) = options_to_wire(&options);
        let bytes = self.encode(&SubscribeUpdate { priority, ordered, max_latency, start, end })?;
        Self::write(shared, stream, bytes, false);
        if let Some(sub) = self.subs_out.get_mut(&request) {
            sub.max_latency = max_latency;
        }
        self.expire_groups(shared);
        Ok(())
    }

    /// Reads SUBSCRIBE, then SUBSCRIBE_UPDATEs, on a peer's Subscribe stream.
    pub(crate) fn read_subscribe_in(
        &mut self,
        shared: &mut Shared,
        id: StreamId,
        s: &mut Stream,
        request: Option<RequestHandle>,
    ) -> Flow {
        let Some(request) = request else {
            let msg = match read_message::<Subscribe>(&mut s.buf, self.version, false) {
                Step::Done(msg) => msg,
                Step::More => return Flow::Wait,
                Step::Bad(v) => return bad(shared, "SUBSCRIBE", &v),
            };
            if self.subs_in.values().any(|sub| sub.id == msg.id) {
                return violation(shared, "Subscribe ID reused");
            }
            if self.subs_out.len() + self.subs_in.len() >= shared.config.max_subscriptions {
                return self.kill(shared, id, s, codes::LIMIT_EXCEEDED, "too many subscriptions");
            }
            let request = shared.next_request();
            let track = TrackName {
                namespace: Namespace::from_path(&msg.broadcast),
                name: Bytes::from(msg.track.into_bytes()),
            };
            let options = options_from_wire(msg.priority, msg.ordered, msg.max_latency, msg.start, msg.end);
            self.subs_in.insert(
                request,
                Box::new(SubIn {
                    stream: id,
                    id: msg.id,
                    priority: msg.priority,
                    ordered: msg.ordered,
                    start: msg.start,
                    end: msg.end,
                    accepted: None,
                    resolved: None,
                    ok04: None,
                    largest: None,
                    max_latency: msg.max_latency,
                    publisher_latency: 0,
                    timescale: 1000,
                    latest_timestamp: None,
                    ending: None,
                }),
            );
            s.state = State::SubscribeIn { request: Some(request) };
            shared.event(Event::IncomingSubscribe { request, track, options: Box::new(options) });
            return Flow::Continue;
        };
        let msg = match read_message::<SubscribeUpdate>(&mut s.buf, self.version, false) {
            Step::Done(msg) => msg,
            Step::More => return Flow::Wait,
            Step::Bad(v) => return bad(shared, "SUBSCRIBE_UPDATE", &v),
        };
        let Some(sub) = self.subs_in.get_mut(&request) else { return Flow::Drop };
        sub.priority = msg.priority;
        sub.ordered = msg.ordered;
        sub.start = msg.start;
        sub.end = msg.end;
        sub.max_latency = msg.max_latency;
        for (stream, w) in self.writers.iter() {
            if w.request == request {
                let order = group_order(msg.priority, w.publisher_priority, msg.ordered, w.group);
                shared.push(Output::SetOrder { stream: *stream, order });
            }
        }
        let options = options_from_wire(msg.priority, msg.ordered, msg.max_latency, msg.start, msg.end);
        shared.event(Event::SubscribeUpdated { request, options });
        self.expire_groups(shared);
        Flow::Continue
    }

    /// `accept_subscribe`.
    pub(crate) fn accept_incoming_subscription(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        info: TrackInfo,
    ) -> Result<(), CommandError> {
        let version = self.version;
        let sub = self.subs_in.get_mut(&request).ok_or(CommandError::UnknownRequest(request))?;
        if sub.accepted.is_some() {
            return Err(CommandError::InvalidState("subscription already accepted"));
        }
        let priority = to_lite(info.publisher_priority);
        let start = sub.start.or(info.largest.map(|l| l.group));
        let bytes = match version {
            LiteVersion::Lite04 => {
                let ok = SubscribeOkLite04 {
                    priority,
                    ordered: info.group_order == GroupOrder::Ascending,
                    max_latency: super::expiry::wire_latency(info.max_latency_ms),
                    start,
                    end: sub.end,
                };
                sub.ok04 = Some(ok);
                Some(SubscribeResponse::OkLite04(ok).encode_to_vec(version)?)
            }
            LiteVersion::Lite05 => match start {
                Some(group) => Some(SubscribeResponse::Ok(SubscribeOk { group }).encode_to_vec(version)?),
                None => None,
            },
        };
        sub.resolved = start;
        sub.accepted = Some(Accepted { priority });
        sub.publisher_latency = info.max_latency_ms;
        sub.timescale = info.timescale;
        let stream = sub.stream;
        if let Some(bytes) = bytes {
            Self::write(shared, stream, bytes, false);
        }
        Ok(())
    }

    /// Sends the SUBSCRIBE_OK that resolves the start group, if it is still unresolved
    /// (called when the first group of a subscription opens).
    pub(crate) fn resolve_start(&mut self, shared: &mut Shared, request: RequestHandle, group: u64) {
        let version = self.version;
        let Some(sub) = self.subs_in.get_mut(&request) else { return };
        if sub.resolved.is_some() {
            return;
        }
        sub.resolved = Some(group);
        let response = match (version, sub.ok04) {
            (LiteVersion::Lite04, Some(ok)) => {
                SubscribeResponse::OkLite04(SubscribeOkLite04 { start: Some(group), ..ok })
            }
            _ => SubscribeResponse::Ok(SubscribeOk { group }),
        };
        let stream = sub.stream;
        if let Ok(bytes) = response.encode_to_vec(version) {
            Self::write(shared, stream, bytes, false);
        }
    }

    /// `end_subscription`. Code 0 ends gracefully: lite-05 sends SUBSCRIBE_END at once (no
    /// group after it will be opened), but the FIN waits until every group is accounted for
    /// (see [`LiteEngine::finish_end_if_done`]); any other code resets the stream at once.
    pub(crate) fn end_incoming_subscription(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        code: u64,
    ) -> Result<(), CommandError> {
        let sub = self.subs_in.get(&request).ok_or(CommandError::UnknownRequest(request))?;
        if code != 0 {
            let stream = sub.stream;
            self.subs_in.remove(&request);
            self.forget_unacked(request);
            self.drop_writers_of(shared, request);
            self.abort_stream(shared, stream, code);
            return Ok(());
        }
        if sub.ending.is_some() {
            return Ok(());
        }
        let deadline = self.now + shared.config.lite_subscribe_end_wait;
        let (stream, group) = (sub.stream, sub.largest.or(sub.resolved).unwrap_or(0));
        if let Some(sub) = self.subs_in.get_mut(&request) {
            sub.ending = Some(deadline);
        }
        let end = match self.version {
            LiteVersion::Lite05 => {
                SubscribeResponse::End(SubscribeEnd { group }).encode_to_vec(self.version)?
            }
            LiteVersion::Lite04 => Vec::new(),
        };
        if !self.finish_end_if_done_with(shared, request, end.clone()) && !end.is_empty() {
            Self::write(shared, stream, end, false);
        }
        Ok(())
    }

    /// True while a group of this subscription is not yet accounted for on the wire: a
    /// Group stream still open, or (when the adapter reports acks) finished but not yet
    /// acknowledged.
    fn groups_pending(&self, request: RequestHandle) -> bool {
        self.writers.values().any(|w| w.request == request) || self.unacked.values().any(|r| *r == request)
    }

    /// Sends the deferred FIN of an ending subscription once every group is accounted for
    /// (lite-04/05 §Subscribe: "closes the stream (FIN) when every group from start to end
    /// has been accounted for"), so the end cannot overtake group data still queued.
    pub(crate) fn finish_end_if_done(&mut self, shared: &mut Shared, request: RequestHandle) {
        self.finish_end_if_done_with(shared, request, Vec::new());
    }

    /// [`Self::finish_end_if_done`], writing `last` before the FIN; true if it finished.
    fn finish_end_if_done_with(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        last: Vec<u8>,
    ) -> bool {
        let Some(sub) = self.subs_in.get(&request) else { return false };
        if sub.ending.is_none() || self.groups_pending(request) {
            return false;
        }
        let stream = sub.stream;
        self.subs_in.remove(&request);
        self.close_subscribe_stream(shared, stream, last);
        true
    }

    /// Writes `last` and the FIN on a Subscribe stream we answer and stops reading it.
    fn close_subscribe_stream(&mut self, shared: &mut Shared, stream: StreamId, last: Vec<u8>) {
        Self::write(shared, stream, last, true);
        if let Some(mut s) = self.take_stream(stream) {
            s.send_open = false;
            s.state = State::Closing;
            s.buf.clear();
            self.put_stream(shared, stream, s);
        }
    }

    /// The earliest deadline of an ending subscription (`poll_timeout`).
    pub(crate) fn next_end_deadline(&self) -> Option<crate::time::Time> {
        self.subs_in.values().filter_map(|s| s.ending).min()
    }

    /// Timer: an ending subscription whose wait ran out resets the Group streams it still
    /// has open (each accounts for its group: "completed or reset") and is finished.
    pub(crate) fn finish_overdue_ends(&mut self, shared: &mut Shared) {
        let now = self.now;
        let mut due: Vec<RequestHandle> = self
            .subs_in
            .iter()
            .filter(|(_, s)| s.ending.is_some_and(|d| d <= now))
            .map(|(r, _)| *r)
            .collect();
        due.sort_unstable();
        for request in due {
            self.drop_writers_of(shared, request);
            self.forget_unacked(request);
            self.finish_end_if_done(shared, request);
        }
    }

    /// Forgets the unacknowledged Group streams of a subscription that ended.
    pub(crate) fn forget_unacked(&mut self, request: RequestHandle) {
        self.unacked.retain(|_, r| *r != request);
    }

    /// The adapter reports every byte of one of our streams acknowledged.
    pub(crate) fn on_stream_acked(&mut self, shared: &mut Shared, stream: StreamId) {
        self.acks_reported = true;
        if let Some(request) = self.unacked.remove(&stream) {
            self.finish_end_if_done(shared, request);
        }
    }

    /// `drop_groups`: SUBSCRIBE_DROP {first, last, code} on the Subscribe stream. A start
    /// not yet resolved is resolved to `first` first (no SUBSCRIBE_DROP may precede
    /// SUBSCRIBE_OK).
    pub(crate) fn drop_incoming_groups(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        first: u64,
        last: u64,
        code: u64,
    ) -> Result<(), CommandError> {
        let sub = self.subs_in.get(&request).ok_or(CommandError::UnknownRequest(request))?;
        if sub.accepted.is_none() {
            return Err(CommandError::InvalidState("subscription not accepted"));
        }
        if first > last {
            return Err(CommandError::InvalidState("drop_groups: first group after last"));
        }
        let stream = sub.stream;
        let drop = SubscribeResponse::Drop(SubscribeDrop { start: first, end: last, error_code: code });
        let bytes = self.encode(&drop)?;
        self.resolve_start(shared, request, first);
        Self::write(shared, stream, bytes, false);
        Ok(())
    }

    /// The peer's Subscribe stream of an ending subscription went away: it is finished.
    pub(crate) fn subscriber_left(&mut self, shared: &mut Shared, request: RequestHandle) {
        if let Some(sub) = self.subs_in.remove(&request) {
            self.forget_unacked(request);
            self.drop_writers_of(shared, request);
            if sub.ending.is_none() {
                shared.event(Event::SubscriberGone { request });
            }
        }
    }

    /// A Group stream of our subscription ended: a drained subscription ends once its last
    /// open Group stream has (see [`SubOut::draining`]).
    pub(crate) fn end_if_drained(&mut self, shared: &mut Shared, request: RequestHandle) {
        let Some(sub) = self.subs_out.get(&request) else { return };
        if !sub.draining || self.group_streams_open(request) {
            return;
        }
        if let Some(mut sub) = self.subs_out.remove(&request) {
            self.sub_ids.remove(&sub.id);
            let reason = Reason { code: 0, text: "finished".to_owned() };
            super::track_info::release_subscribed_now(shared, request, &mut sub);
            if sub.subscribed {
                shared.event(Event::SubscriptionEnded { request, reason });
            } else {
                shared.event(Event::SubscribeFailed { request, reason });
            }
        }
    }

    /// True if a Group stream of our subscription is open.
    pub(crate) fn group_streams_open(&self, request: RequestHandle) -> bool {
        self.streams.values().any(|s| matches!(s.state, State::Group { request: r, .. } if r == request))
    }

    /// Reads the publisher's responses on our Subscribe stream.
    pub(crate) fn read_subscribe_out(
        &mut self,
        shared: &mut Shared,
        s: &mut Stream,
        request: RequestHandle,
    ) -> Flow {
        let msg = match read_message::<SubscribeResponse>(&mut s.buf, self.version, true) {
            Step::Done(msg) => msg,
            Step::More => return Flow::Wait,
            Step::Bad(v) => return bad(shared, "subscribe response", &v),
        };
        let Some(sub) = self.subs_out.get_mut(&request) else { return Flow::Drop };
        match msg {
            SubscribeResponse::OkLite04(ok) => {
                sub.publisher_latency = ok.max_latency;
                if !sub.subscribed {
                    sub.subscribed = true;
                    let info = TrackInfo {
                        publisher_priority: from_lite(ok.priority),
                        group_order: if ok.ordered { GroupOrder::Ascending } else { GroupOrder::Descending },
                        largest: ok.start.map(|group| Location { group, object: 0 }),
                        max_latency_ms: ok.max_latency,
                        ..TrackInfo::default()
                    };
                    shared.event(Event::Subscribed { request, info: Box::new(info) });
                }
            }
            SubscribeResponse::Ok(ok) => {
                if sub.subscribed {
                    return violation(shared, "a second SUBSCRIBE_OK");
                }
                sub.subscribed = true;
                super::track_info::subscribe_ok(shared, request, sub, ok.group);
            }
            SubscribeResponse::End(end) => sub.end = Some(end.group),
            SubscribeResponse::Drop(d)
                if d.start == d.end && d.error_code == codes::EXPIRED && sub.expired.contains(&d.start) =>
            {
                sub.expired.retain(|g| *g != d.start);
            }
            SubscribeResponse::Drop(d) => shared.event(Event::GroupsDropped {
                request,
                first: d.start,
                last: d.end,
                reason: Reason { code: d.error_code, text: String::new() },
            }),
        }
        Flow::Continue
    }
}
