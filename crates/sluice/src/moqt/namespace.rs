//! Namespaces (draft-18 §6, §10.17–§10.20): PUBLISH_NAMESPACE in both directions, and
//! SUBSCRIBE_NAMESPACE answered by the engine itself.
//!
//! * `announce` sends PUBLISH_NAMESPACE on a new bidi stream and adds the namespace to the
//!   local announced set; REQUEST_OK → AnnounceAccepted; `cancel` withdraws it (RESET +
//!   STOP_SENDING CANCELLED), which the peer reports as IncomingAnnounceEnded.
//! * A peer SUBSCRIBE_NAMESPACE (at most `Config::max_namespace_subscriptions` at once,
//!   else REQUEST_ERROR EXCESSIVE_LOAD) is accepted with REQUEST_OK, then answered with a
//!   NAMESPACE for every announced namespace under its prefix, later ones as they are
//!   announced, and NAMESPACE_DONE when one is withdrawn. The application is not asked,
//!   unless `Config::hold_namespace_subscriptions` is set (§10.19: the publisher must
//!   check the subscriber's authorization): then it gets `IncomingNamespaceSubscription`
//!   and the request stays pending (no REQUEST_OK, no NAMESPACE, REQUEST_UPDATEs queued)
//!   until `accept_discovery` or `reject`.
//! * SUBSCRIBE_TRACKS (`discover_tracks`): the engine accepts a peer's with REQUEST_OK
//!   (same limit, PREFIX_OVERLAP among SUBSCRIBE_TRACKS only) and reports
//!   `IncomingTrackDiscovery`; the application then `publish`es the matching tracks it
//!   has (the engine does not know tracks). With `hold_namespace_subscriptions` the
//!   REQUEST_OK waits for `accept_discovery` (or `reject` refuses it). PUBLISH_BLOCKED is
//!   accepted and not surfaced.
//! * Our SUBSCRIBE_NAMESPACE remembers the namespaces the peer reported (NAMESPACE) until
//!   withdrawn: a NAMESPACE_DONE for one not reported closes the session with
//!   PROTOCOL_VIOLATION (§10.19); more than `Config::max_discovered_namespaces` at once
//!   cancels the discovery (RESET + STOP_SENDING EXCESSIVE_LOAD, `DiscoveryEnded`).
//! * A peer SUBSCRIBE_NAMESPACE whose prefix shares a common prefix with an established one
//!   is refused with PREFIX_OVERLAP (§10.19).

use bytes::Bytes;
use sluice_wire::moqt::codes::{RequestErrorCode, StreamResetCode};
use sluice_wire::moqt::control::ControlMessage;
use sluice_wire::moqt::kvp::Properties;
use sluice_wire::moqt::message::{
    Namespace as NamespaceMsg, NamespaceDone, PublishBlocked, PublishNamespace, RequestOk,
    SubscribeNamespace, SubscribeTracks,
};
use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
use sluice_wire::moqt::params::{Parameters, RequestKind};
use sluice_wire::{Encode, MoqtVersion};

use super::MoqtEngine;
use super::state::{Kind, Phase};
use super::subscribe::{model_ns, wire_ns};
use crate::engine::Shared;
use crate::error::CommandError;
use crate::event::{Event, Reason};
use crate::ids::{RequestHandle, StreamId};
use crate::io::Output;
use crate::model::{Namespace, TrackName};

impl MoqtEngine {
    pub(super) fn cmd_announce(
        &mut self,
        shared: &mut Shared,
        namespace: Namespace,
    ) -> Result<RequestHandle, CommandError> {
        if super::reserved::is_reserved(&namespace) {
            return Err(CommandError::InvalidState("reserved namespace"));
        }
        let checked = self.staged_tokens(shared, None)?;
        let wire_id = self.next_request_id;
        let msg = PublishNamespace {
            request_id: wire_id,
            namespace: wire_ns(&namespace),
            parameters: Self::with_tokens(Parameters::new(), &checked),
        };
        let handle = self.send_new_request(shared, Kind::PublishNamespace, wire_id, &msg, &checked)?;
        if let Some(r) = self.requests.get_mut(&handle) {
            r.namespace = namespace.clone();
        }
        self.notify_namespace(shared, &namespace, true);
        self.announced.insert(handle, namespace);
        Ok(handle)
    }

    /// Sends NAMESPACE (or NAMESPACE_DONE) to every peer namespace subscription matching.
    fn notify_namespace(&mut self, shared: &mut Shared, namespace: &Namespace, found: bool) {
        let mut targets: Vec<(StreamId, usize)> = self
            .requests
            .values()
            .filter(|r| {
                r.kind == Kind::SubscribeNamespace
                    && !r.outbound
                    && r.phase == Phase::Established
                    && namespace.starts_with(&r.namespace)
            })
            .map(|r| (r.stream, r.namespace.0.len()))
            .collect();
        targets.sort();
        for (stream, prefix_len) in targets {
            let suffix = TrackNamespace(namespace.0.iter().skip(prefix_len).cloned().collect());
            let bytes = if found {
                self.encode(&NamespaceMsg { suffix })
            } else {
                self.encode(&NamespaceDone { suffix })
            };
            if let Ok(b) = bytes {
                self.send_on(shared, stream, b, false);
            }
        }
    }

    /// Our announce is withdrawn: tell matching namespace subscribers.
    pub(super) fn withdraw_namespace(&mut self, shared: &mut Shared, handle: RequestHandle) {
        if let Some(ns) = self.announced.remove(&handle) {
            let still = self.announced.values().any(|n| n == &ns);
            if !still {
                self.notify_namespace(shared, &ns, false);
            }
        }
    }

    pub(super) fn cmd_accept_announce(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
    ) -> Result<(), CommandError> {
        let req = self.requests.get(&handle).ok_or(CommandError::UnknownRequest(handle))?;
        if req.outbound || req.kind != Kind::PublishNamespace {
            return Err(CommandError::UnknownRequest(handle));
        }
        if req.phase != Phase::Pending {
            return Err(CommandError::InvalidState("already answered"));
        }
        let stream = req.stream;
        let bytes =
            self.encode(&RequestOk { parameters: Parameters::new(), track_properties: Properties::empty() })?;
        self.send_on(shared, stream, bytes, false);
        if let Some(r) = self.requests.get_mut(&handle) {
            r.phase = Phase::Established;
        }
        self.answer_pending_updates(shared, handle);
        Ok(())
    }

    pub(super) fn on_publish_namespace(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        m: PublishNamespace,
    ) {
        let handle = self.add_inbound(stream, Kind::PublishNamespace, m.request_id, shared);
        let namespace = model_ns(&m.namespace);
        if let Some(r) = self.requests.get_mut(&handle) {
            r.namespace = namespace.clone();
        }
        shared.event(Event::IncomingAnnounce { request: handle, namespace });
    }

    pub(super) fn on_announce_response(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        msg: ControlMessage,
    ) {
        let Some(req) = self.requests.get(&handle) else { return };
        let (phase, stream) = (req.phase, req.stream);
        match msg {
            ControlMessage::RequestOk(ok) if phase == Phase::Pending => {
                if !self.check_request_ok(shared, &ok, RequestKind::PublishNamespace) {
                    return;
                }
                if let Some(r) = self.requests.get_mut(&handle) {
                    r.phase = Phase::Established;
                }
                shared.event(Event::AnnounceAccepted { request: handle });
            }
            ControlMessage::RequestError(e) => {
                let Some(why) = self.refusal(shared, handle, &e) else { return };
                shared.event(Event::AnnounceEnded { request: handle, reason: why });
                self.send_on(shared, stream, Bytes::new(), true);
                self.withdraw_namespace(shared, handle);
                self.forget(shared, handle);
            }
            _ => self.unexpected(shared),
        }
    }

    pub(super) fn cmd_discover(
        &mut self,
        shared: &mut Shared,
        prefix: Namespace,
    ) -> Result<RequestHandle, CommandError> {
        self.open_prefix_request(
            shared,
            Kind::SubscribeNamespace,
            prefix,
            |request_id, prefix, parameters| SubscribeNamespace { request_id, prefix, parameters },
        )
    }

    /// Opens a SUBSCRIBE_NAMESPACE or SUBSCRIBE_TRACKS request for `prefix` (the two
    /// messages have the same fields): reserved namespaces refused, staged tokens attached.
    fn open_prefix_request<M: Encode<Version = MoqtVersion>>(
        &mut self,
        shared: &mut Shared,
        kind: Kind,
        prefix: Namespace,
        message: impl FnOnce(u64, TrackNamespace, Parameters) -> M,
    ) -> Result<RequestHandle, CommandError> {
        if super::reserved::engine_only(&prefix) {
            return Err(CommandError::InvalidState("reserved namespace"));
        }
        let checked = self.staged_tokens(shared, None)?;
        let wire_id = self.next_request_id;
        let msg = message(wire_id, wire_ns(&prefix), Self::with_tokens(Parameters::new(), &checked));
        let handle = self.send_new_request(shared, kind, wire_id, &msg, &checked)?;
        if let Some(r) = self.requests.get_mut(&handle) {
            r.namespace = prefix;
        }
        Ok(handle)
    }

    pub(super) fn on_subscribe_namespace(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        m: SubscribeNamespace,
    ) {
        if self.namespace_subscriptions() >= shared.config.max_namespace_subscriptions {
            self.refuse_new_request(
                shared,
                stream,
                RequestErrorCode::EXCESSIVE_LOAD,
                "too many namespace subscriptions",
            );
            return;
        }
        let prefix = model_ns(&m.prefix);
        if self.overlaps(Kind::SubscribeNamespace, &prefix) {
            self.refuse_new_request(shared, stream, RequestErrorCode::PREFIX_OVERLAP, "prefix overlap");
            return;
        }
        let handle = self.add_inbound(stream, Kind::SubscribeNamespace, m.request_id, shared);
        if let Some(r) = self.requests.get_mut(&handle) {
            r.namespace = prefix.clone();
        }
        if shared.config.hold_namespace_subscriptions {
            shared.event(Event::IncomingNamespaceSubscription { request: handle, prefix });
            return;
        }
        self.establish_discovery(shared, handle);
    }

    /// Accepts a peer's SUBSCRIBE_NAMESPACE or SUBSCRIBE_TRACKS: REQUEST_OK, the updates that
    /// waited for it, and (SUBSCRIBE_NAMESPACE) a NAMESPACE per matching announced namespace.
    fn establish_discovery(&mut self, shared: &mut Shared, handle: RequestHandle) {
        let Some(r) = self.requests.get_mut(&handle) else { return };
        r.phase = Phase::Established;
        let (kind, stream, prefix) = (r.kind, r.stream, r.namespace.clone());
        let Ok(ok) =
            self.encode(&RequestOk { parameters: Parameters::new(), track_properties: Properties::empty() })
        else {
            return;
        };
        self.send_on(shared, stream, ok, false);
        self.answer_pending_updates(shared, handle);
        if kind != Kind::SubscribeNamespace {
            return;
        }
        let mut matching: Vec<Namespace> =
            self.announced.values().filter(|n| n.starts_with(&prefix)).cloned().collect();
        matching.sort();
        matching.dedup();
        for ns in matching {
            let suffix = TrackNamespace(ns.0.iter().skip(prefix.0.len()).cloned().collect());
            if let Ok(b) = self.encode(&NamespaceMsg { suffix }) {
                self.send_on(shared, stream, b, false);
            }
        }
    }

    /// The application accepts a peer namespace subscription held for it
    /// (`Config::hold_namespace_subscriptions`).
    pub(super) fn cmd_accept_discovery(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
    ) -> Result<(), CommandError> {
        let req = self.requests.get(&handle).ok_or(CommandError::UnknownRequest(handle))?;
        if req.outbound || !matches!(req.kind, Kind::SubscribeNamespace | Kind::SubscribeTracks) {
            return Err(CommandError::UnknownRequest(handle));
        }
        if req.phase != Phase::Pending {
            return Err(CommandError::InvalidState("already answered"));
        }
        self.establish_discovery(shared, handle);
        Ok(())
    }

    /// Peer namespace subscriptions (SUBSCRIBE_NAMESPACE and SUBSCRIBE_TRACKS) alive.
    fn namespace_subscriptions(&self) -> usize {
        self.requests
            .values()
            .filter(|r| matches!(r.kind, Kind::SubscribeNamespace | Kind::SubscribeTracks) && !r.outbound)
            .count()
    }

    /// True when `prefix` shares a common prefix with an established peer request of
    /// `kind` (§10.19, §10.20: PREFIX_OVERLAP; the two kinds overlap independently).
    fn overlaps(&self, kind: Kind, prefix: &Namespace) -> bool {
        self.requests.values().any(|r| {
            r.kind == kind
                && !r.outbound
                && (prefix.starts_with(&r.namespace) || r.namespace.starts_with(prefix))
        })
    }

    pub(super) fn cmd_discover_tracks(
        &mut self,
        shared: &mut Shared,
        prefix: Namespace,
    ) -> Result<RequestHandle, CommandError> {
        self.open_prefix_request(shared, Kind::SubscribeTracks, prefix, |request_id, prefix, parameters| {
            SubscribeTracks { request_id, prefix, parameters }
        })
    }

    pub(super) fn on_subscribe_tracks(&mut self, shared: &mut Shared, stream: StreamId, m: SubscribeTracks) {
        let prefix = model_ns(&m.prefix);
        let refusal = if self.namespace_subscriptions() >= shared.config.max_namespace_subscriptions {
            Some((RequestErrorCode::EXCESSIVE_LOAD, "too many namespace subscriptions"))
        } else if self.overlaps(Kind::SubscribeTracks, &prefix) {
            Some((RequestErrorCode::PREFIX_OVERLAP, "prefix overlap"))
        } else {
            None
        };
        if let Some((code, text)) = refusal {
            self.refuse_new_request(shared, stream, code, text);
            return;
        }
        let forward = !matches!(
            m.parameters.get(sluice_wire::moqt::codes::ParameterType::FORWARD),
            Some(sluice_wire::moqt::params::Parameter::Forward(false))
        );
        let handle = self.add_inbound(stream, Kind::SubscribeTracks, m.request_id, shared);
        if let Some(r) = self.requests.get_mut(&handle) {
            r.namespace = prefix.clone();
            r.options.forward = forward;
        }
        if !shared.config.hold_namespace_subscriptions {
            self.establish_discovery(shared, handle);
        }
        shared.event(Event::IncomingTrackDiscovery { request: handle, prefix, forward });
    }

    pub(super) fn on_discover_response(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        msg: ControlMessage,
    ) {
        let Some(req) = self.requests.get(&handle) else { return };
        let (phase, stream) = (req.phase, req.stream);
        let full = |prefix: &Namespace, suffix: &TrackNamespace| {
            let mut n = prefix.clone();
            n.0.extend(suffix.0.iter().cloned());
            n
        };
        let kind = req.kind;
        match msg {
            ControlMessage::RequestOk(ok) if phase == Phase::Pending => {
                let as_kind = if kind == Kind::SubscribeTracks {
                    RequestKind::SubscribeTracks
                } else {
                    RequestKind::SubscribeNamespace
                };
                if !self.check_request_ok(shared, &ok, as_kind) {
                    return;
                }
                if let Some(r) = self.requests.get_mut(&handle) {
                    r.phase = Phase::Established;
                }
            }
            ControlMessage::RequestError(e) if phase == Phase::Pending => {
                let Some(why) = self.refusal(shared, handle, &e) else { return };
                shared.event(Event::DiscoveryEnded { request: handle, reason: why });
                self.send_on(shared, stream, Bytes::new(), true);
                self.forget(shared, handle);
            }
            // PUBLISH_BLOCKED: a matching track the publisher cannot PUBLISH to us.
            ControlMessage::PublishBlocked(b)
                if phase == Phase::Established && kind == Kind::SubscribeTracks =>
            {
                let namespace = full(&req.namespace, &b.track.namespace);
                let track = TrackName { namespace, name: b.track.name };
                shared.event(Event::PublishBlocked { request: handle, track });
            }
            ControlMessage::Namespace(n)
                if phase == Phase::Established && kind == Kind::SubscribeNamespace =>
            {
                let namespace = full(&req.namespace, &n.suffix);
                if super::reserved::engine_only(&namespace) {
                    return; // not the application's (see `reserved`)
                }
                let max = shared.config.max_discovered_namespaces;
                let Some(r) = self.requests.get_mut(&handle) else { return };
                if !r.found.contains(&namespace) && r.found.len() >= max {
                    // Bounded table: give the discovery up rather than grow.
                    shared.push(Output::Reset { stream, code: StreamResetCode::EXCESSIVE_LOAD.0 });
                    shared.push(Output::StopSending { stream, code: StreamResetCode::EXCESSIVE_LOAD.0 });
                    shared.event(Event::DiscoveryEnded {
                        request: handle,
                        reason: Reason {
                            code: StreamResetCode::EXCESSIVE_LOAD.0,
                            text: "too many namespaces".into(),
                        },
                    });
                    self.streams.remove(&stream);
                    self.forget(shared, handle);
                    return;
                }
                r.found.insert(namespace.clone());
                shared.event(Event::NamespaceFound { request: handle, namespace });
            }
            ControlMessage::NamespaceDone(n)
                if phase == Phase::Established && kind == Kind::SubscribeNamespace =>
            {
                let namespace = full(&req.namespace, &n.suffix);
                if super::reserved::engine_only(&namespace) {
                    return;
                }
                let known = self.requests.get_mut(&handle).is_some_and(|r| r.found.remove(&namespace));
                if !known {
                    // §10.19: NAMESPACE_DONE must follow its NAMESPACE.
                    return self.fail(
                        shared,
                        sluice_wire::moqt::codes::SessionErrorCode::PROTOCOL_VIOLATION,
                        "NAMESPACE_DONE before its NAMESPACE",
                    );
                }
                shared.event(Event::NamespaceGone { request: handle, namespace });
            }
            _ => self.unexpected(shared),
        }
    }

    /// PUBLISH_BLOCKED (§10.19) on a peer's SUBSCRIBE_TRACKS: `track` matches its prefix but
    /// will not be PUBLISHed to it.
    pub(super) fn cmd_publish_blocked(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        track: TrackName,
    ) -> Result<(), CommandError> {
        let req = self.requests.get(&handle).ok_or(CommandError::UnknownRequest(handle))?;
        if req.kind != Kind::SubscribeTracks || req.outbound {
            return Err(CommandError::UnknownRequest(handle));
        }
        if !track.namespace.starts_with(&req.namespace) {
            return Err(CommandError::InvalidState("the track is not under the request's prefix"));
        }
        let suffix: Vec<Bytes> = track.namespace.0.iter().skip(req.namespace.0.len()).cloned().collect();
        let stream = req.stream;
        let msg =
            PublishBlocked { track: FullTrackName { namespace: TrackNamespace(suffix), name: track.name } };
        let bytes = self.encode(&msg)?;
        self.send_on(shared, stream, bytes, false);
        Ok(())
    }
}
