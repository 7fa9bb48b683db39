//! REQUEST_UPDATE on the peer's FETCH, PUBLISH_NAMESPACE, SUBSCRIBE_NAMESPACE and
//! SUBSCRIBE_TRACKS requests (draft-18 §10.6 "REQUEST_UPDATE", "Updating Namespace
//! Subscriptions", §10.2.13 TRACK_NAMESPACE_PREFIX). Subscription updates live in
//! `subscribe`.
//!
//! Every update consumes a Request ID, applies its AUTHORIZATION_TOKENs, is checked against
//! the parameters allowed for its request kind (else PROTOCOL_VIOLATION) and gets exactly
//! one REQUEST_OK or REQUEST_ERROR:
//!
//! * FETCH: SUBSCRIBER_PRIORITY changes the fetch data stream's send order (`SetOrder` once
//!   it is open; later opened with the new order). Never fails. Before the application
//!   accepted the fetch, the REQUEST_OK waits until just after FETCH_OK (the response to
//!   the FETCH comes first).
//! * PUBLISH_NAMESPACE: only tokens may change; REQUEST_OK. An update that arrives before
//!   the application accepted the namespace is answered right after the acceptance's
//!   REQUEST_OK (answering first would read as the acceptance); a rejection ends the
//!   request and its pending updates with it.
//! * SUBSCRIBE_NAMESPACE / SUBSCRIBE_TRACKS: a TRACK_NAMESPACE_PREFIX that shares a
//!   common prefix with another active request of the same kind is refused with
//!   REQUEST_ERROR PREFIX_OVERLAP, and, as §10.6 requires for a failed update, the bidi
//!   stream is closed (FIN after the error; the request ends, a SUBSCRIBE_TRACKS with
//!   `IncomingTrackDiscoveryEnded`). Accepted: REQUEST_OK, then for SUBSCRIBE_NAMESPACE a
//!   NAMESPACE (suffix relative to the new prefix) for every announced namespace the new
//!   prefix matches and the old did not (namespaces outside the new prefix cannot be named
//!   relative to it, so they get no NAMESPACE_DONE); for SUBSCRIBE_TRACKS the application
//!   gets `IncomingTrackDiscovery` again with the same handle and the new prefix (existing
//!   PUBLISHes are unaffected).

use sluice_wire::moqt::codes::RequestErrorCode;
use sluice_wire::moqt::kvp::Properties;
use sluice_wire::moqt::message::{Namespace as NamespaceMsg, RequestOk, RequestUpdate};
use sluice_wire::moqt::namespace::TrackNamespace;
use sluice_wire::moqt::params::{ParamScope, Parameter, Parameters, RequestKind};

use super::MoqtEngine;
use super::priority::fetch_order;
use super::state::{Kind, Phase};
use super::subscribe::model_ns;
use crate::engine::Shared;
use crate::event::Event;
use crate::ids::{RequestHandle, StreamId};
use crate::io::Output;
use crate::model::Namespace;

impl MoqtEngine {
    /// A REQUEST_UPDATE on a peer FETCH, PUBLISH_NAMESPACE, SUBSCRIBE_NAMESPACE or
    /// SUBSCRIBE_TRACKS stream.
    pub(super) fn on_request_update(&mut self, shared: &mut Shared, handle: RequestHandle, u: RequestUpdate) {
        let Some(req) = self.requests.get(&handle) else { return };
        let (kind, phase, stream) = (req.kind, req.phase, req.stream);
        let scope = match kind {
            Kind::Fetch => RequestKind::Fetch,
            Kind::PublishNamespace => RequestKind::PublishNamespace,
            Kind::SubscribeNamespace => RequestKind::SubscribeNamespace,
            Kind::SubscribeTracks => RequestKind::SubscribeTracks,
            _ => return self.unexpected(shared),
        };
        if !self.use_peer_request_id(shared, u.request_id) {
            return;
        }
        let tokens: Vec<_> = u.parameters.auth_tokens().cloned().collect();
        if !self.apply_tokens(shared, tokens.iter(), false) {
            return;
        }
        if let Err(v) = u.parameters.check(ParamScope::RequestUpdate(Some(scope))) {
            return self.fail_violation(shared, &v);
        }
        self.present_tokens(shared, handle);
        match kind {
            Kind::Fetch if self.hold_update(shared, handle, &u.parameters) => {}
            Kind::Fetch => {
                let priority = u.parameters.iter().find_map(|p| match p {
                    Parameter::SubscriberPriority(x) => Some(*x),
                    _ => None,
                });
                let mut reorder = None;
                if let (Some(priority), Some(r)) = (priority, self.requests.get_mut(&handle)) {
                    r.options.priority = priority;
                    if let Some((s, _)) = &r.fetch_out {
                        reorder = Some((*s, fetch_order(priority, r.info.publisher_priority)));
                    }
                }
                if phase == Phase::Pending {
                    // Answered after FETCH_OK, which must be the first response.
                    self.defer_update(handle);
                } else {
                    self.send_request_ok(shared, handle);
                }
                if let Some((stream, order)) = reorder {
                    shared.push(Output::SetOrder { stream, order });
                }
            }
            Kind::PublishNamespace if phase == Phase::Pending => {
                self.defer_update(handle);
            }
            Kind::PublishNamespace => self.send_request_ok(shared, handle),
            // A namespace subscription held for the application: answered on acceptance,
            // with the prefix as updated by then.
            _ if phase == Phase::Pending => {
                if let Some(prefix) = updated_prefix(&u.parameters) {
                    if self.refuse_overlapping_prefix(shared, kind, stream, handle, &prefix) {
                        return;
                    }
                    let forward = self.requests.get(&handle).is_none_or(|r| r.options.forward);
                    if let Some(r) = self.requests.get_mut(&handle) {
                        r.namespace = prefix.clone();
                    }
                    // The application is asked again about the new prefix.
                    shared.event(if kind == Kind::SubscribeTracks {
                        Event::IncomingTrackDiscovery { request: handle, prefix, forward }
                    } else {
                        Event::IncomingNamespaceSubscription { request: handle, prefix }
                    });
                }
                self.defer_update(handle);
            }
            _ => {
                let Some(prefix) = updated_prefix(&u.parameters) else {
                    return self.send_request_ok(shared, handle);
                };
                if self.refuse_overlapping_prefix(shared, kind, stream, handle, &prefix) {
                    return;
                }
                let old = match self.requests.get_mut(&handle) {
                    Some(r) => std::mem::replace(&mut r.namespace, prefix.clone()),
                    None => return,
                };
                self.send_request_ok(shared, handle);
                if kind == Kind::SubscribeNamespace {
                    let mut matching: Vec<Namespace> = self
                        .announced
                        .values()
                        .filter(|n| n.starts_with(&prefix) && !n.starts_with(&old))
                        .cloned()
                        .collect();
                    matching.sort();
                    matching.dedup();
                    for ns in matching {
                        let suffix = TrackNamespace(ns.0.iter().skip(prefix.0.len()).cloned().collect());
                        if let Ok(b) = self.encode(&NamespaceMsg { suffix }) {
                            self.send_on(shared, stream, b, false);
                        }
                    }
                } else {
                    let forward = self.requests.get(&handle).is_none_or(|r| r.options.forward);
                    shared.event(Event::IncomingTrackDiscovery { request: handle, prefix, forward });
                }
            }
        }
    }

    /// A namespace subscription's new prefix overlapping another of the peer's: refused
    /// with PREFIX_OVERLAP and forgotten (§10.19, §10.20). True when it was.
    fn refuse_overlapping_prefix(
        &mut self,
        shared: &mut Shared,
        kind: Kind,
        stream: StreamId,
        handle: RequestHandle,
        prefix: &Namespace,
    ) -> bool {
        if !self.overlaps_other(kind, prefix, handle) {
            return false;
        }
        self.send_request_error(shared, stream, RequestErrorCode::PREFIX_OVERLAP, "prefix overlap");
        if kind == Kind::SubscribeTracks {
            shared.event(Event::IncomingTrackDiscoveryEnded { request: handle });
        }
        self.forget(shared, handle);
        true
    }

    /// Counts an update to answer with REQUEST_OK once the request is accepted (see
    /// [`Self::answer_pending_updates`]).
    fn defer_update(&mut self, handle: RequestHandle) {
        if let Some(r) = self.requests.get_mut(&handle) {
            r.updates_pending = r.updates_pending.saturating_add(1);
        }
    }

    /// Sends an empty REQUEST_OK on a request's stream.
    pub(super) fn send_request_ok(&mut self, shared: &mut Shared, handle: RequestHandle) {
        let Some(stream) = self.requests.get(&handle).map(|r| r.stream) else { return };
        let ok = RequestOk { parameters: Parameters::new(), track_properties: Properties::empty() };
        if let Ok(bytes) = self.encode(&ok) {
            self.send_on(shared, stream, bytes, false);
        }
    }

    /// Answers the updates that waited for the acceptance of a peer's PUBLISH_NAMESPACE or
    /// FETCH.
    pub(super) fn answer_pending_updates(&mut self, shared: &mut Shared, handle: RequestHandle) {
        let n = self.requests.get_mut(&handle).map_or(0, |r| std::mem::take(&mut r.updates_pending));
        for _ in 0..n {
            self.send_request_ok(shared, handle);
        }
    }

    /// True when `prefix` shares a common prefix with another (not `except`) peer request
    /// of `kind` (§10.6 "Updating Namespace Subscriptions").
    fn overlaps_other(&self, kind: Kind, prefix: &Namespace, except: RequestHandle) -> bool {
        self.requests.iter().any(|(h, r)| {
            *h != except
                && r.kind == kind
                && !r.outbound
                && (prefix.starts_with(&r.namespace) || r.namespace.starts_with(prefix))
        })
    }
}

/// The TRACK_NAMESPACE_PREFIX a REQUEST_UPDATE carries, if any.
fn updated_prefix(parameters: &Parameters) -> Option<Namespace> {
    parameters.iter().find_map(|p| match p {
        Parameter::TrackNamespacePrefix(ns) => Some(model_ns(ns)),
        _ => None,
    })
}
