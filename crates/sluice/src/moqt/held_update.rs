//! REQUEST_UPDATEs of a subscription we publish (or a peer FETCH we serve) held for the
//! application with `Config::hold_request_updates`, so it can refuse one (draft-18 §10.6
//! "Updating Subscriptions": "When a REQUEST_UPDATE is unsuccessful, the publisher MUST also
//! terminate the subscription by sending a PUBLISH_DONE with error code UPDATE_FAILED";
//! "When a REQUEST_UPDATE fails for a FETCH, the publisher MUST reset the FETCH data
//! stream").
//!
//! A held update is reported as [`Event::IncomingRequestUpdate`] with the options it would
//! give the request. Updates that arrive before the answer are coalesced into one held
//! update (the draft lets the receiver skip intermediate states, but each update still gets
//! its own response), so the memory per request is one `SubscribeOptions` and a count:
//!
//! * `accept_update`: the options apply and every held update gets a REQUEST_OK (for a
//!   subscription with LARGEST_OBJECT when objects were published, §"LARGEST OBJECT
//!   Parameter"); a fetch not yet accepted gets them after FETCH_OK, as in `update`.
//! * `reject_update`: every held update gets a REQUEST_ERROR with the application's code,
//!   then a subscription ends with PUBLISH_DONE UPDATE_FAILED (its open subgroup streams
//!   reset, as `end_subscription` does), and a fetch has its data stream reset (CANCELLED)
//!   and its request stream finished (when no object was written yet there is no data
//!   stream: only the FIN). Both need the request accepted first (before that, `reject`
//!   the request itself).
//!
//! Without the flag the engine accepts every well-formed update at once (`subscribe`,
//! `update`).

use bytes::Bytes;
use sluice_wire::moqt::codes::{PublishDoneCode, RequestErrorCode, StreamResetCode};
use sluice_wire::moqt::kvp::Properties;
use sluice_wire::moqt::message::{RequestError, RequestOk};
use sluice_wire::moqt::params::Parameters;
use sluice_wire::moqt::reason::ReasonPhrase;

use super::MoqtEngine;
use super::priority::fetch_order;
use super::state::{Kind, Phase};
use super::subscribe::{apply_params, largest_param};
use super::timeouts::subgroup_timeout_param;
use crate::engine::Shared;
use crate::error::CommandError;
use crate::event::Event;
use crate::ids::RequestHandle;
use crate::io::Output;
use crate::model::SubscribeOptions;

/// The updates of one request waiting for the application, coalesced.
#[derive(Debug, Clone)]
pub(crate) struct HeldUpdate {
    /// How many REQUEST_UPDATEs it stands for (each gets one response).
    pub count: u32,
    /// The request's options with every held update applied.
    pub options: SubscribeOptions,
    /// The latest SUBGROUP_DELIVERY_TIMEOUT among them.
    pub subgroup_timeout_ms: Option<u64>,
}

impl MoqtEngine {
    /// Holds a peer's update of `handle` for the application when the config says so
    /// (true: held and reported; the caller answers nothing).
    pub(super) fn hold_update(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        params: &Parameters,
    ) -> bool {
        if !shared.config.hold_request_updates {
            return false;
        }
        let Some(r) = self.requests.get_mut(&handle) else { return true };
        let held = r.held_update.get_or_insert_with(|| HeldUpdate {
            count: 0,
            options: r.options.clone(),
            subgroup_timeout_ms: None,
        });
        held.count = held.count.saturating_add(1);
        // Group order of a subscription is immutable (§7).
        let order = held.options.group_order;
        apply_params(&mut held.options, params);
        held.options.group_order = order;
        if let Some(ms) = subgroup_timeout_param(params) {
            held.subgroup_timeout_ms = Some(ms);
        }
        let options = held.options.clone();
        shared.event(Event::IncomingRequestUpdate { request: handle, options });
        true
    }

    /// The REQUEST_OK for an update of `handle`: a subscription's carries LARGEST_OBJECT
    /// once objects of its track were published.
    pub(super) fn update_ok(&self, handle: RequestHandle) -> Result<Bytes, CommandError> {
        let parameters = match self.requests.get(&handle) {
            Some(r) if r.is_subscription() => {
                Parameters(largest_param(&self.with_published_largest(&r.track, r.info.clone())))
            }
            _ => Parameters::new(),
        };
        self.encode(&RequestOk { parameters, track_properties: Properties::empty() })
    }

    /// The held update of a request we serve, checked answerable: (kind, phase, count).
    fn held(&self, handle: RequestHandle) -> Result<(Kind, Phase, u32), CommandError> {
        let r = self.requests.get(&handle).ok_or(CommandError::UnknownRequest(handle))?;
        if !(r.we_publish() || (r.kind == Kind::Fetch && !r.outbound)) {
            return Err(CommandError::UnknownRequest(handle));
        }
        let held = r.held_update.as_ref().ok_or(CommandError::InvalidState("no update held"))?;
        Ok((r.kind, r.phase, held.count))
    }

    pub(super) fn cmd_accept_update(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
    ) -> Result<(), CommandError> {
        let (kind, phase, count) = self.held(handle)?;
        if kind != Kind::Fetch && phase != Phase::Established {
            return Err(CommandError::InvalidState("subscription not accepted yet"));
        }
        let Some(r) = self.requests.get_mut(&handle) else {
            return Err(CommandError::UnknownRequest(handle));
        };
        let Some(held) = r.held_update.take() else {
            return Err(CommandError::InvalidState("no update held"));
        };
        r.options = held.options;
        if let Some(ms) = held.subgroup_timeout_ms {
            r.peer_subgroup_timeout_ms = ms;
        }
        let stream = r.stream;
        if kind == Kind::Fetch {
            let reorder = r
                .fetch_out
                .as_ref()
                .map(|(s, _)| (*s, fetch_order(r.options.priority, r.info.publisher_priority)));
            if phase == Phase::Pending {
                // Answered after FETCH_OK, which must be the first response.
                r.updates_pending = r.updates_pending.saturating_add(count);
            } else {
                let ok = self.update_ok(handle)?;
                for _ in 0..count {
                    self.send_on(shared, stream, ok.clone(), false);
                }
            }
            if let Some((stream, order)) = reorder {
                shared.push(Output::SetOrder { stream, order });
            }
        } else {
            let ok = self.update_ok(handle)?;
            for _ in 0..count {
                self.send_on(shared, stream, ok.clone(), false);
            }
            self.reprioritize(shared, handle);
        }
        Ok(())
    }

    pub(super) fn cmd_reject_update(
        &mut self,
        shared: &mut Shared,
        handle: RequestHandle,
        code: u64,
        text: &str,
    ) -> Result<(), CommandError> {
        let (kind, phase, count) = self.held(handle)?;
        if phase != Phase::Established {
            return Err(CommandError::InvalidState("request not accepted yet: reject the request itself"));
        }
        let error = self.encode(&RequestError {
            code: RequestErrorCode(code),
            retry_interval: 0,
            reason: ReasonPhrase(Bytes::copy_from_slice(text.as_bytes())),
            redirect: None,
        })?;
        let stream =
            self.requests.get(&handle).map(|r| r.stream).ok_or(CommandError::UnknownRequest(handle))?;
        for _ in 0..count {
            self.send_on(shared, stream, error.clone(), false);
        }
        if kind == Kind::Fetch {
            let data = self.requests.get_mut(&handle).and_then(|r| r.fetch_out.take());
            match data {
                Some((data, _)) => {
                    shared.push(Output::Reset { stream: data, code: StreamResetCode::CANCELLED.0 });
                    self.send_on(shared, stream, Bytes::new(), true);
                }
                // No data stream yet: the fetch simply ends after the errors.
                None => self.send_on(shared, stream, Bytes::new(), true),
            }
            self.forget(shared, handle);
            Ok(())
        } else {
            self.cmd_end_subscription(shared, handle, PublishDoneCode::UPDATE_FAILED.0, "update failed")
        }
    }
}
