//! Checks on the Track Properties the peer sends (draft-18 §2.5 "Properties", §2.5.1
//! "Mandatory Track Properties", §13 "MOQT Properties") in PUBLISH, SUBSCRIBE_OK,
//! FETCH_OK and TRACK_STATUS's REQUEST_OK.
//!
//! * Values out of their defined range close the session with PROTOCOL_VIOLATION:
//!   DEFAULT_PUBLISHER_GROUP_ORDER other than 1 or 2, DYNAMIC_GROUPS above 1.
//! * A Mandatory Track Property (types 0x4000..=0x7FFF) we do not understand — the engine
//!   understands none — means the track must not be processed: the caller refuses a PUBLISH
//!   with REQUEST_ERROR UNSUPPORTED_EXTENSION and cancels a subscription or fetch whose
//!   SUBSCRIBE_OK / FETCH_OK carries one (reporting the failure with that code).

use sluice_wire::moqt::codes::{PropertyType, SessionErrorCode};
use sluice_wire::moqt::kvp::Properties;

use super::MoqtEngine;
use crate::engine::Shared;

/// What the received Track Properties say about the track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TrackProps {
    /// Usable.
    Fine,
    /// Carries a Mandatory Track Property of this type that we do not understand.
    UnknownMandatory(u64),
    /// Broke a value rule; the session is closed.
    Closed,
}

/// The first value rule `props` breaks, as a close reason.
fn out_of_range(props: &Properties) -> Option<&'static str> {
    props.iter().find_map(|kv| match PropertyType(kv.kind) {
        PropertyType::DEFAULT_PUBLISHER_GROUP_ORDER if !matches!(kv.as_varint(), Some(1 | 2)) => {
            Some("DEFAULT_PUBLISHER_GROUP_ORDER out of range")
        }
        PropertyType::DYNAMIC_GROUPS if !matches!(kv.as_varint(), Some(0 | 1)) => {
            Some("DYNAMIC_GROUPS out of range")
        }
        _ => None,
    })
}

impl MoqtEngine {
    /// Checks received Track Properties; closes the session on a value out of range.
    pub(super) fn check_track_properties(&mut self, shared: &mut Shared, props: &Properties) -> TrackProps {
        if let Some(reason) = out_of_range(props) {
            self.fail(shared, SessionErrorCode::PROTOCOL_VIOLATION, reason);
            return TrackProps::Closed;
        }
        match props.iter().find(|kv| PropertyType(kv.kind).is_mandatory()) {
            Some(kv) => TrackProps::UnknownMandatory(kv.kind),
            None => TrackProps::Fine,
        }
    }
}
