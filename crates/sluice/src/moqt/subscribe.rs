//! Subscriptions in both directions (draft-18 §5, §10.7–§10.11) and TRACK_STATUS (§10.13).
//!
//! * SUBSCRIBE carries SUBSCRIBER_PRIORITY, GROUP_ORDER (when chosen), FORWARD,
//!   SUBSCRIPTION_FILTER and, when `max_latency_ms` is non-zero, OBJECT_DELIVERY_TIMEOUT.
//! * SUBSCRIBE, PUBLISH_OK and REQUEST_UPDATE carry NEW_GROUP_REQUEST when the options
//!   ask; PUBLISH_OK and REQUEST_UPDATE only for a track that said DYNAMIC_GROUPS=1 (else
//!   the command fails, draft-18 "NEW GROUP REQUEST Parameter"). Received, it is reported
//!   in that message's event only.
//! * SUBSCRIBE_OK carries the publisher-chosen Track Alias (a per-session counter, so
//!   never reused), LARGEST_OBJECT when known, and the Track Properties of the `TrackInfo`
//!   (see `track_props`). A second SUBSCRIBE_OK
//!   or PUBLISH naming a live alias closes the session with DUPLICATE_TRACK_ALIAS.
//! * REQUEST_UPDATE travels on the subscription's stream with a new Request ID and is
//!   answered with REQUEST_OK by the engine itself (the application sees SubscribeUpdated).
//! * PUBLISH_DONE (status, stream count) then FIN ends a subscription; `end_subscription`
//!   first resets (CANCELLED) every subgroup stream the application left open, since its
//!   subgroup was cut short ("Closing Subgroup Streams"). The subscriber
//!   reports SubscriptionEnded once it has seen `stream count` data streams for it and all
//!   of them have ended, or after a grace period (§10.11: "SHOULD use a timeout" of at
//!   least the larger delivery timeout): the larger of `Config::unknown_alias_timeout` and
//!   the effective delivery timeouts (see `timeouts`), whichever is first.
//! * PUBLISH pushes a track (alias chosen by the publisher); REQUEST_OK (PUBLISH_OK)
//!   carries the subscriber's options.
//! * TRACK_STATUS is answered through `accept_subscribe` (REQUEST_OK with LARGEST_OBJECT
//!   and the track properties) or `reject`.

use bytes::Bytes;
use sluice_wire::moqt::codes::{PropertyType, PublishDoneCode, SessionErrorCode};
use sluice_wire::moqt::control::ControlMessage;
use sluice_wire::moqt::filter::SubscriptionFilter;
use sluice_wire::moqt::kvp::Properties;
use sluice_wire::moqt::location::Location as WireLocation;
use sluice_wire::moqt::message::{
    Publish, PublishDone, RequestOk, RequestUpdate, Subscribe, SubscribeOk, TrackStatus,
};
use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
use sluice_wire::moqt::params::{GroupOrder as WireOrder, Parameter, Parameters, RequestKind};
use sluice_wire::moqt::reason::ReasonPhrase;

use super::MoqtEngine;
use super::requests::reason;
use super::state::{Done, Kind, Phase};
use super::timeouts::{subgroup_timeout_param, varint_property};
use super::track_props::{TrackProps, read_track_properties, track_properties};
use crate::engine::Shared;
use crate::error::CommandError;
use crate::event::{Event, Reason};
use crate::ids::{RequestHandle, StreamId};
use crate::model::{Filter, GroupOrder, Location, Namespace, SubscribeOptions, TrackInfo, TrackName};

pub(super) fn wire_ns(ns: &Namespace) -> TrackNamespace {
    TrackNamespace(ns.0.clone())
}

pub(super) fn model_ns(ns: &TrackNamespace) -> Namespace {
    Namespace(ns.0.clone())
}

pub(super) fn wire_track(t: &TrackName) -> FullTrackName {
    FullTrackName { namespace: wire_ns(&t.namespace), name: t.name.clone() }
}

pub(super) fn model_track(t: &FullTrackName) -> TrackName {
    TrackName { namespace: model_ns(&t.namespace), name: t.name.clone() }
}

pub(super) fn wire_order(o: GroupOrder) -> WireOrder {
    match o {
        GroupOrder::Ascending => WireOrder::Ascending,
        GroupOrder::Descending => WireOrder::Descending,
    }
}

fn model_order(o: WireOrder) -> GroupOrder {
    match o {
        WireOrder::Ascending => GroupOrder::Ascending,
        WireOrder::Descending => GroupOrder::Descending,
    }
}

fn wire_loc(l: Location) -> WireLocation {
    WireLocation { group: l.group, object: l.object }
}

fn model_loc(l: WireLocation) -> Location {
    Location { group: l.group, object: l.object }
}

fn wire_filter(f: Filter) -> Result<SubscriptionFilter, CommandError> {
    Ok(match f {
        Filter::NextGroup => SubscriptionFilter::NextGroupStart,
        Filter::LargestObject => SubscriptionFilter::LargestObject,
        Filter::AbsoluteStart(start) => SubscriptionFilter::AbsoluteStart { start: wire_loc(start) },
        Filter::AbsoluteRange { start, end_group } => SubscriptionFilter::AbsoluteRange {
            start: wire_loc(start),
            end_group_delta: end_group
                .checked_sub(start.group)
                .ok_or(CommandError::InvalidState("filter ends before it starts"))?,
        },
    })
}

fn model_filter(f: SubscriptionFilter) -> Filter {
    match f {
        SubscriptionFilter::NextGroupStart => Filter::NextGroup,
        SubscriptionFilter::LargestObject => Filter::LargestObject,
        SubscriptionFilter::AbsoluteStart { start } => Filter::AbsoluteStart(model_loc(start)),
        SubscriptionFilter::AbsoluteRange { start, end_group_delta } => Filter::AbsoluteRange {
            start: model_loc(start),
            end_group: start.group.saturating_add(end_group_delta),
        },
    }
}

/// The subscriber's parameters for SUBSCRIBE / PUBLISH_OK / REQUEST_UPDATE.
pub(super) fn subscriber_params(o: &SubscribeOptions, with_order: bool) -> Result<Parameters, CommandError> {
    let mut p = Vec::new();
    if o.max_latency_ms > 0 {
        p.push(Parameter::ObjectDeliveryTimeout(o.max_latency_ms));
    }
    p.push(Parameter::Forward(o.forward));
    p.push(Parameter::SubscriberPriority(o.priority));
    p.push(Parameter::SubscriptionFilter(wire_filter(o.filter)?));
    if with_order && let Some(order) = o.group_order {
        p.push(Parameter::GroupOrder(wire_order(order)));
    }
    if let Some(v) = o.new_group_request {
        p.push(Parameter::NewGroupRequest(v));
    }
    Ok(Parameters(p))
}

/// The options of a SUBSCRIBE or PUBLISH_OK before its parameters apply: without a
/// SUBSCRIPTION_FILTER "the subscription is unfiltered" (draft-18 §SUBSCRIPTION FILTER
/// Parameter), which the model spells AbsoluteStart {0, 0} (§Subscription Filters: "equivalent
/// to an unfiltered subscription"). moq-net sends draft-18 subscriptions that way.
pub(super) fn unfiltered() -> SubscribeOptions {
    SubscribeOptions {
        filter: Filter::AbsoluteStart(Location { group: 0, object: 0 }),
        ..SubscribeOptions::default()
    }
}

/// Applies received parameters to `base` (absent ones keep their value, §10.8).
pub(super) fn apply_params(base: &mut SubscribeOptions, params: &Parameters) {
    for p in params.iter() {
        match p {
            Parameter::ObjectDeliveryTimeout(ms) => base.max_latency_ms = *ms,
            Parameter::Forward(f) => base.forward = *f,
            Parameter::SubscriberPriority(pr) => base.priority = *pr,
            Parameter::SubscriptionFilter(f) => base.filter = model_filter(*f),
            Parameter::GroupOrder(o) => base.group_order = Some(model_order(*o)),
            Parameter::RendezvousTimeout(ms) => base.rendezvous_timeout_ms = Some(*ms),
            Parameter::NewGroupRequest(v) => base.new_group_request = Some(*v),
            _ => {}
        }
    }
}

/// TrackInfo from parameters and track properties.
pub(super) fn track_info(params: &Parameters, props: &Properties) -> TrackInfo {
    let mut info = TrackInfo::default();
    for p in params.iter() {
        if let Parameter::LargestObject(l) = p {
            info.largest = Some(model_loc(*l));
        }
    }
    read_track_properties(&mut info, props);
    info
}

pub(super) fn largest_param(info: &TrackInfo) -> Vec<Parameter> {
    info.largest.map(|l| Parameter::LargestObject(wire_loc(l))).into_iter().collect()
}

impl MoqtEngine {
    fn subscriptions(&self) -> usize {
        self.requests.values().filter(|r| r.is_subscription()).count()
    }

    fn next_track_alias(&mut self) -> u64 {
        let a = self.next_alias;
        self.next_alias = self.next_alias.saturating_add(1);
        a
    }

    pub(super) fn cmd_subscribe(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
        options: SubscribeOptions,
    ) -> Result<RequestHandle, CommandError> {
        if super::reserved::engine_only(&track.namespace) {
            return Err(CommandError::InvalidState("reserved namespace"));
        }
        if self.subscriptions() >= shared.config.max_subscriptions {
            return Err(CommandError::Limit("max_subscriptions"));
        }
        let checked = self.staged_tokens(shared, None)?;
        let wire_id = self.next_request_id;
        let mut params = subscriber_params(&options, true)?;
        if let Some(ms) = options.rendezvous_timeout_ms {
            // Parameters go in ascending type order (delta-coded types).
            params.0.push(Parameter::RendezvousTimeout(ms));
            params.0.sort_by_key(|p| p.kind());
        }
        let msg = Subscribe {
            request_id: wire_id,
            track: wire_track(&track),
            parameters: Self::with_tokens(params, &checked),
        };
        let handle = self.send_new_request(shared, Kind::Subscribe, wire_id, &msg, &checked)?;
        if let Some(r) = self.requests.get_mut(&handle) {
            r.track = track;
            r.options = options;
        }
        Ok(handle)
    }

    pub(super) fn on_subscribe(&mut self, shared: &mut Shared, stream: StreamId, m: Subscribe) {
        if self.subscriptions() >= shared.config.max_subscriptions {
            self.refuse_new_request(
                shared,
                stream,
                sluice_wire::moqt::codes::RequestErrorCode::EXCESSIVE_LOAD,
                "too many subscriptions",
            );
            return;
        }
        let handle = self.add_inbound(stream, Kind::Subscribe, m.request_id, shared);
        let mut options = unfiltered();
        apply_params(&mut options, &m.parameters);
        let track = model_track(&m.track);
        if let Some(r) = self.requests.get_mut(&handle) {
            r.track = track.clone();
            r.options = options.clone();
            r.peer_subgroup_timeout_ms = subgroup_timeout_param(&m.parameters).unwrap_or(0);
        }
        shared.event(Event::IncomingSubscribe { request: handle, track, options: Box::new(options) });
    }

    pub(super) fn cmd_accept_subscribe(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        info: TrackInfo,
    ) -> Result<(), CommandError> {
        let req = self.requests.get(&handle).ok_or(CommandError::UnknownRequest(handle))?;
        if req.outbound || !matches!(req.kind, Kind::Subscribe | Kind::TrackStatus) {
            return Err(CommandError::UnknownRequest(handle));
        }
        if req.phase != Phase::Pending {
            return Err(CommandError::InvalidState("already answered"));
        }
        let (stream, kind) = (req.stream, req.kind);
        let info = self.with_published_largest(&req.track, info);
        if kind == Kind::TrackStatus {
            let msg = RequestOk {
                parameters: Parameters(largest_param(&info)),
                track_properties: track_properties(&info)?,
            };
            let bytes = self.encode(&msg)?;
            self.send_on(shared, stream, bytes, true);
            self.forget(shared, handle);
            return Ok(());
        }
        let alias = self.next_alias;
        let msg = SubscribeOk {
            track_alias: alias,
            parameters: Parameters(largest_param(&info)),
            track_properties: track_properties(&info)?,
        };
        let bytes = self.encode(&msg)?;
        self.next_track_alias();
        self.send_on(shared, stream, bytes, false);
        if let Some(r) = self.requests.get_mut(&handle) {
            r.alias = Some(alias);
            r.info = info;
            r.phase = Phase::Established;
        }
        self.resolve_joining_fetches(shared, handle);
        Ok(())
    }

    pub(super) fn cmd_update(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        options: SubscribeOptions,
    ) -> Result<(), CommandError> {
        let req = self.requests.get(&handle).ok_or(CommandError::UnknownRequest(handle))?;
        let subscriber = matches!((req.kind, req.outbound), (Kind::Subscribe, true) | (Kind::Publish, false));
        if !subscriber {
            return Err(CommandError::UnknownRequest(handle));
        }
        // The request's first response (SUBSCRIBE_OK / our REQUEST_OK to a PUBLISH) must come
        // before any REQUEST_OK to an update on the same stream, so updates wait for it.
        if req.phase != Phase::Established {
            return Err(CommandError::InvalidState("subscription not established yet"));
        }
        if options.new_group_request.is_some() && !req.info.dynamic_groups {
            return Err(NO_DYNAMIC_GROUPS);
        }
        let stream = req.stream;
        let checked = self.staged_tokens(shared, Some(stream))?;
        let wire_id = self.next_request_id;
        // Group order of a subscription is immutable (§7): not sent in updates.
        let msg = RequestUpdate {
            request_id: wire_id,
            parameters: Self::with_tokens(subscriber_params(&options, false)?, &checked),
        };
        let bytes = self.encode(&msg)?;
        self.alloc_request_id();
        self.send_on(shared, stream, bytes, false);
        self.sent_tokens.commit(&checked, stream);
        if let Some(r) = self.requests.get_mut(&handle) {
            r.updates_pending = r.updates_pending.saturating_add(1);
            let order = r.options.group_order;
            r.options = options;
            r.options.group_order = order;
            // A one-shot request, not a lasting option.
            r.options.new_group_request = None;
        }
        Ok(())
    }

    pub(super) fn cmd_publish(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
        info: TrackInfo,
    ) -> Result<RequestHandle, CommandError> {
        if super::reserved::is_reserved(&track.namespace) {
            return Err(CommandError::InvalidState("reserved namespace"));
        }
        if self.subscriptions() >= shared.config.max_subscriptions {
            return Err(CommandError::Limit("max_subscriptions"));
        }
        let wire_id = self.next_request_id;
        let alias = self.next_alias;
        let info = self.with_published_largest(&track, info);
        // Parameters go in ascending type order: LARGEST_OBJECT (0x09) before FORWARD (0x10).
        let mut params: Vec<Parameter> = largest_param(&info).into_iter().collect();
        params.push(Parameter::Forward(true));
        let checked = self.staged_tokens(shared, None)?;
        let msg = Publish {
            request_id: wire_id,
            track: wire_track(&track),
            track_alias: alias,
            parameters: Self::with_tokens(Parameters(params), &checked),
            track_properties: track_properties(&info)?,
        };
        let bytes = self.encode(&msg)?;
        self.alloc_request_id();
        self.next_track_alias();
        let (handle, stream) = self.open_request(shared, Kind::Publish, wire_id, bytes);
        self.sent_tokens.commit(&checked, stream);
        if let Some(r) = self.requests.get_mut(&handle) {
            r.track = track;
            r.info = info;
            r.alias = Some(alias);
        }
        Ok(handle)
    }

    pub(super) fn on_publish(&mut self, shared: &mut Shared, stream: StreamId, m: Publish) {
        if self.aliases_in.contains(m.track_alias) {
            return self.fail(shared, SessionErrorCode::DUPLICATE_TRACK_ALIAS, "track alias in use");
        }
        if self.subscriptions() >= shared.config.max_subscriptions {
            self.refuse_new_request(
                shared,
                stream,
                sluice_wire::moqt::codes::RequestErrorCode::EXCESSIVE_LOAD,
                "too many subscriptions",
            );
            return;
        }
        match self.check_track_properties(shared, &m.track_properties) {
            TrackProps::Fine => {}
            TrackProps::Closed => return,
            TrackProps::UnknownMandatory(kind) => {
                // §2.5.1: the track must not be processed.
                let text = format!("unknown mandatory track property {kind:#x}");
                self.refuse_new_request(
                    shared,
                    stream,
                    sluice_wire::moqt::codes::RequestErrorCode::UNSUPPORTED_EXTENSION,
                    &text,
                );
                return;
            }
        }
        let handle = self.add_inbound(stream, Kind::Publish, m.request_id, shared);
        let info = track_info(&m.parameters, &m.track_properties);
        let track = model_track(&m.track);
        if let Some(r) = self.requests.get_mut(&handle) {
            r.track = track.clone();
            r.info = info.clone();
            r.alias = Some(m.track_alias);
            r.peer_subgroup_timeout_ms =
                varint_property(&m.track_properties, PropertyType::SUBGROUP_DELIVERY_TIMEOUT).unwrap_or(0);
        }
        self.aliases_in.insert(m.track_alias, handle);
        shared.event(Event::IncomingPublish { request: handle, track, info: Box::new(info) });
    }

    pub(super) fn cmd_accept_publish(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        options: SubscribeOptions,
    ) -> Result<(), CommandError> {
        let req = self.requests.get(&handle).ok_or(CommandError::UnknownRequest(handle))?;
        if req.outbound || req.kind != Kind::Publish {
            return Err(CommandError::UnknownRequest(handle));
        }
        if req.phase != Phase::Pending {
            return Err(CommandError::InvalidState("already answered"));
        }
        if options.new_group_request.is_some() && !req.info.dynamic_groups {
            return Err(NO_DYNAMIC_GROUPS);
        }
        let stream = req.stream;
        let msg = RequestOk {
            parameters: subscriber_params(&options, true)?,
            track_properties: Properties::empty(),
        };
        let bytes = self.encode(&msg)?;
        self.send_on(shared, stream, bytes, false);
        if let Some(r) = self.requests.get_mut(&handle) {
            r.options = options;
            r.phase = Phase::Established;
        }
        if let Some(alias) = self.requests.get(&handle).and_then(|r| r.alias) {
            self.resolve_alias(shared, alias);
        }
        Ok(())
    }

    pub(super) fn cmd_end_subscription(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        code: u64,
        text: &str,
    ) -> Result<(), CommandError> {
        let req = self.requests.get(&handle).ok_or(CommandError::UnknownRequest(handle))?;
        if !req.we_publish() {
            return Err(CommandError::UnknownRequest(handle));
        }
        // PUBLISH_DONE ends an Established subscription; one not answered yet is refused with
        // REQUEST_ERROR (`reject`) instead, since PUBLISH_DONE before SUBSCRIBE_OK is a
        // protocol violation at the subscriber.
        if req.kind == super::state::Kind::Subscribe && req.phase != Phase::Established {
            return Err(CommandError::InvalidState("subscription not accepted: use reject"));
        }
        let stream = req.stream;
        // §10.11: every data stream is closed before PUBLISH_DONE. A stream the application
        // left open was not declared complete (`close_subgroup`), so its subgroup is cut
        // short: "Closing Subgroup Streams" requires a reset (CANCELLED; PUBLISH_DONE
        // carries the detailed status), not a FIN that would claim every object arrived.
        let mut open: Vec<StreamId> =
            self.data_out.iter().filter(|(_, d)| d.request == handle).map(|(s, _)| *s).collect();
        open.sort();
        for s in open {
            self.abandon_subgroup(shared, s, sluice_wire::moqt::codes::StreamResetCode::CANCELLED.0);
        }
        let count = self.requests.get(&handle).map_or(0, |r| r.streams_opened);
        let msg = PublishDone {
            status: PublishDoneCode(code),
            stream_count: count,
            reason: ReasonPhrase(Bytes::copy_from_slice(text.as_bytes())),
        };
        let bytes = self.encode(&msg)?;
        self.send_on(shared, stream, bytes, true);
        self.forget(shared, handle);
        Ok(())
    }

    /// Messages the subscriber side of a subscription receives.
    pub(super) fn on_subscriber_side_msg(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        msg: ControlMessage,
    ) {
        let Some(req) = self.requests.get(&handle) else { return };
        let (phase, kind, stream, updates) = (req.phase, req.kind, req.stream, req.updates_pending);
        match msg {
            ControlMessage::SubscribeOk(ok) if kind == Kind::Subscribe && phase == Phase::Pending => {
                if self.aliases_in.contains(ok.track_alias) {
                    return self.fail(shared, SessionErrorCode::DUPLICATE_TRACK_ALIAS, "track alias in use");
                }
                match self.check_track_properties(shared, &ok.track_properties) {
                    TrackProps::Fine => {}
                    TrackProps::Closed => return,
                    TrackProps::UnknownMandatory(kind) => {
                        // §2.5.1: cancel the subscription and tell the application.
                        let reason = unsupported(kind);
                        let _ = self.cmd_cancel(shared, handle);
                        shared.event(Event::SubscribeFailed { request: handle, reason });
                        return;
                    }
                }
                let info = track_info(&ok.parameters, &ok.track_properties);
                self.aliases_in.insert(ok.track_alias, handle);
                if let Some(r) = self.requests.get_mut(&handle) {
                    r.alias = Some(ok.track_alias);
                    r.info = info.clone();
                    r.phase = Phase::Established;
                    r.peer_subgroup_timeout_ms =
                        varint_property(&ok.track_properties, PropertyType::SUBGROUP_DELIVERY_TIMEOUT)
                            .unwrap_or(0);
                }
                shared.event(Event::Subscribed { request: handle, info: Box::new(info) });
                self.resolve_alias(shared, ok.track_alias);
            }
            ControlMessage::RequestError(e) if phase == Phase::Pending && kind == Kind::Subscribe => {
                let Some(why) = self.refusal(shared, handle, &e) else { return };
                shared.event(Event::SubscribeFailed { request: handle, reason: why });
                self.send_on(shared, stream, Bytes::new(), true);
                self.forget(shared, handle);
            }
            ControlMessage::RequestOk(ok) if phase == Phase::Established && updates > 0 => {
                if !self.check_request_ok(shared, &ok, RequestKind::RequestUpdate) {
                    return;
                }
                if let Some(r) = self.requests.get_mut(&handle) {
                    r.updates_pending = r.updates_pending.saturating_sub(1);
                }
            }
            ControlMessage::RequestError(_) if phase == Phase::Established && updates > 0 => {
                // REQUEST_UPDATE answered; a failure is followed by PUBLISH_DONE UPDATE_FAILED.
                if let Some(r) = self.requests.get_mut(&handle) {
                    r.updates_pending = r.updates_pending.saturating_sub(1);
                }
            }
            ControlMessage::PublishDone(d) if phase == Phase::Established => {
                let deadline = self.now + self.done_grace(handle, shared.config.unknown_alias_timeout);
                if let Some(r) = self.requests.get_mut(&handle) {
                    r.done = Some(Done {
                        reason: reason(d.status.0, &d.reason),
                        stream_count: d.stream_count,
                        deadline,
                    });
                }
                self.send_on(shared, stream, Bytes::new(), true);
                self.check_done(shared, handle, false);
            }
            _ => self.unexpected(shared),
        }
    }

    /// Messages the publisher side of a subscription receives.
    pub(super) fn on_publisher_side_msg(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        msg: ControlMessage,
    ) {
        let Some(req) = self.requests.get(&handle) else { return };
        let (phase, kind, stream) = (req.phase, req.kind, req.stream);
        match msg {
            ControlMessage::RequestUpdate(u) => {
                if !self.use_peer_request_id(shared, u.request_id) {
                    return;
                }
                let tokens: Vec<_> = u.parameters.auth_tokens().cloned().collect();
                if !self.apply_tokens(shared, tokens.iter(), false) {
                    return;
                }
                if let Err(v) = u.parameters.check(sluice_wire::moqt::params::ParamScope::RequestUpdate(
                    Some(match kind {
                        Kind::Publish => sluice_wire::moqt::params::RequestKind::Publish,
                        _ => sluice_wire::moqt::params::RequestKind::Subscribe,
                    }),
                )) {
                    return self.fail_violation(shared, &v);
                }
                self.present_tokens(shared, handle);
                if self.hold_update(shared, handle, &u.parameters) {
                    return;
                }
                let options = match self.requests.get_mut(&handle) {
                    Some(r) => {
                        let order = r.options.group_order;
                        // NEW_GROUP_REQUEST is reported only with the update carrying it.
                        r.options.new_group_request = None;
                        apply_params(&mut r.options, &u.parameters);
                        r.options.group_order = order;
                        if let Some(ms) = subgroup_timeout_param(&u.parameters) {
                            r.peer_subgroup_timeout_ms = ms;
                        }
                        r.options.clone()
                    }
                    None => return,
                };
                if let Ok(bytes) = self.update_ok(handle) {
                    self.send_on(shared, stream, bytes, false);
                }
                self.reprioritize(shared, handle);
                shared.event(Event::SubscribeUpdated { request: handle, options });
            }
            ControlMessage::RequestOk(ok) if kind == Kind::Publish && phase == Phase::Pending => {
                if !self.check_request_ok(shared, &ok, RequestKind::Publish) {
                    return;
                }
                let mut options = unfiltered();
                apply_params(&mut options, &ok.parameters);
                if let Some(r) = self.requests.get_mut(&handle) {
                    r.options = options.clone();
                    r.phase = Phase::Established;
                    r.peer_subgroup_timeout_ms = subgroup_timeout_param(&ok.parameters).unwrap_or(0);
                }
                self.reprioritize(shared, handle);
                shared.event(Event::PublishAccepted { request: handle, options });
            }
            ControlMessage::RequestError(e) if kind == Kind::Publish && phase == Phase::Pending => {
                let Some(why) = self.refusal(shared, handle, &e) else { return };
                shared.event(Event::PublishRefused { request: handle, reason: why });
                self.send_on(shared, stream, Bytes::new(), true);
                self.forget(shared, handle);
            }
            _ => self.unexpected(shared),
        }
    }

    /// Ends a subscription whose PUBLISH_DONE arrived once its data is in (or `force`d).
    pub(super) fn check_done(&mut self, shared: &mut Shared, handle: RequestHandle, force: bool) {
        let Some(req) = self.requests.get(&handle) else { return };
        let Some(done) = &req.done else { return };
        let complete = req.streams_seen >= done.stream_count && req.streams_open_in == 0;
        if complete || force {
            let reason = done.reason.clone();
            shared.event(Event::SubscriptionEnded { request: handle, reason });
            self.forget(shared, handle);
        }
    }

    /// Timer: subscriptions whose PUBLISH_DONE grace period ran out.
    pub(super) fn expire_done_subscriptions(&mut self, shared: &mut Shared) {
        let now = self.now;
        let due: Vec<RequestHandle> = self
            .requests
            .iter()
            .filter(|(_, r)| r.done.as_ref().is_some_and(|d| d.deadline <= now))
            .map(|(h, _)| *h)
            .collect();
        for h in due {
            self.check_done(shared, h, true);
        }
    }

    pub(super) fn cmd_track_status(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
    ) -> Result<RequestHandle, CommandError> {
        if super::reserved::engine_only(&track.namespace) {
            return Err(CommandError::InvalidState("reserved namespace"));
        }
        let checked = self.staged_tokens(shared, None)?;
        let wire_id = self.next_request_id;
        let msg = TrackStatus {
            request_id: wire_id,
            track: wire_track(&track),
            parameters: Self::with_tokens(Parameters::new(), &checked),
        };
        let handle = self.send_new_request(shared, Kind::TrackStatus, wire_id, &msg, &checked)?;
        if let Some(r) = self.requests.get_mut(&handle) {
            r.track = track;
        }
        Ok(handle)
    }

    pub(super) fn on_track_status(&mut self, shared: &mut Shared, stream: StreamId, m: TrackStatus) {
        let handle = self.add_inbound(stream, Kind::TrackStatus, m.request_id, shared);
        let track = model_track(&m.track);
        if let Some(r) = self.requests.get_mut(&handle) {
            r.track = track.clone();
        }
        shared.event(Event::IncomingTrackStatus { request: handle, track });
    }

    pub(super) fn on_track_status_response(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        msg: ControlMessage,
    ) {
        let stream = match self.requests.get(&handle) {
            Some(r) => r.stream,
            None => return,
        };
        let result = match msg {
            ControlMessage::RequestOk(ok) => {
                if !self.check_request_ok(shared, &ok, RequestKind::TrackStatus) {
                    return;
                }
                if self.check_track_properties(shared, &ok.track_properties) == TrackProps::Closed {
                    return;
                }
                Ok(Box::new(track_info(&ok.parameters, &ok.track_properties)))
            }
            ControlMessage::RequestError(e) => {
                Err(Reason { code: e.code.0, text: e.reason.to_text().into_owned() })
            }
            _ => return self.unexpected(shared),
        };
        shared.event(Event::TrackStatus { request: handle, result });
        self.send_on(shared, stream, Bytes::new(), true);
        self.forget(shared, handle);
    }
}

/// NEW_GROUP_REQUEST in PUBLISH_OK or REQUEST_UPDATE for a track without DYNAMIC_GROUPS=1,
/// which draft-18 "NEW GROUP REQUEST Parameter" forbids the subscriber to send.
const NO_DYNAMIC_GROUPS: CommandError =
    CommandError::InvalidState("NEW_GROUP_REQUEST needs a track with DYNAMIC_GROUPS=1");

/// The failure reported for a track carrying a Mandatory Track Property we do not know.
pub(super) fn unsupported(kind: u64) -> Reason {
    Reason {
        code: sluice_wire::moqt::codes::RequestErrorCode::UNSUPPORTED_EXTENSION.0,
        text: format!("unknown mandatory track property {kind:#x}"),
    }
}
