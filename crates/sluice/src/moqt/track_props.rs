//! Track Properties (draft-18 §2.5 "Properties", §2.5.1 "Mandatory Track Properties", §13
//! "MOQT Properties") in PUBLISH, SUBSCRIBE_OK, FETCH_OK and TRACK_STATUS's REQUEST_OK:
//! checking what the peer sent, turning it into a [`TrackInfo`] and back.
//!
//! * Values out of their defined range close the session with PROTOCOL_VIOLATION:
//!   DEFAULT_PUBLISHER_GROUP_ORDER other than 1 or 2, DYNAMIC_GROUPS above 1.
//! * A Mandatory Track Property (types 0x4000..=0x7FFF) we do not understand — the engine
//!   understands none — means the track must not be processed: the caller refuses a PUBLISH
//!   with REQUEST_ERROR UNSUPPORTED_EXTENSION and cancels a subscription or fetch whose
//!   SUBSCRIBE_OK / FETCH_OK carries one (reporting the failure with that code).
//! * Typed in `TrackInfo`: DEFAULT_PUBLISHER_PRIORITY, DEFAULT_PUBLISHER_GROUP_ORDER,
//!   OBJECT_DELIVERY_TIMEOUT, MAX_CACHE_DURATION, DYNAMIC_GROUPS. Every other top-level pair
//!   (unknown types, SUBGROUP_DELIVERY_TIMEOUT, IMMUTABLE_PROPERTIES with its contents
//!   untouched) is kept in `TrackInfo::properties` and sent again unchanged, so a relay
//!   forwards and caches it (§2.5 "MUST NOT be modified, MUST be forwarded").
//! * Every lookup searches the mutable list and the contents of Immutable Properties
//!   (§13 "Immutable Properties"). A property in both is read from Immutable Properties,
//!   which no relay may alter; on sending, a typed property that Immutable Properties
//!   already carries is not repeated at top level (its value there wins).

use sluice_wire::moqt::codes::{PropertyType, SessionErrorCode};
use sluice_wire::moqt::kvp::{KeyValue, Properties};
use sluice_wire::moqt::params::GroupOrder as WireOrder;

use super::MoqtEngine;
use crate::engine::Shared;
use crate::error::CommandError;
use crate::model::{GroupOrder, TrackInfo};

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

/// The Track Properties `TrackInfo` has a field for.
fn is_typed(kind: u64) -> bool {
    matches!(
        PropertyType(kind),
        PropertyType::DEFAULT_PUBLISHER_PRIORITY
            | PropertyType::DEFAULT_PUBLISHER_GROUP_ORDER
            | PropertyType::OBJECT_DELIVERY_TIMEOUT
            | PropertyType::MAX_CACHE_DURATION
            | PropertyType::DYNAMIC_GROUPS
    )
}

/// The contents of `props`' Immutable Properties, when present and valid.
fn immutable(props: &Properties) -> Option<Properties> {
    let kv = props.get(PropertyType::IMMUTABLE_PROPERTIES.0)?;
    Properties::from_raw(kv.as_bytes()?.clone()).ok()
}

/// The first pair of `kind` inside `props`' Immutable Properties, else at top level.
pub(super) fn find_property(props: &Properties, kind: u64) -> Option<KeyValue> {
    if props.is_empty() {
        return None;
    }
    immutable(props).and_then(|inner| inner.get(kind)).or_else(|| props.get(kind))
}

/// Every pair of `props` and of its Immutable Properties' contents.
fn all_pairs(props: &Properties) -> Vec<KeyValue> {
    let mut pairs: Vec<KeyValue> = immutable(props).map(|i| i.to_vec()).unwrap_or_default();
    pairs.extend(props.iter());
    pairs
}

/// The first value rule `props` breaks, as a close reason.
fn out_of_range(pairs: &[KeyValue]) -> Option<&'static str> {
    pairs.iter().find_map(|kv| match PropertyType(kv.kind) {
        PropertyType::DEFAULT_PUBLISHER_GROUP_ORDER if !matches!(kv.as_varint(), Some(1 | 2)) => {
            Some("DEFAULT_PUBLISHER_GROUP_ORDER out of range")
        }
        PropertyType::DYNAMIC_GROUPS if !matches!(kv.as_varint(), Some(0 | 1)) => {
            Some("DYNAMIC_GROUPS out of range")
        }
        _ => None,
    })
}

/// Fills the typed fields of `info` from `props` and keeps the rest in `info.properties`.
pub(super) fn read_track_properties(info: &mut TrackInfo, props: &Properties) {
    let varint = |kind: PropertyType| find_property(props, kind.0).and_then(|kv| kv.as_varint());
    if let Some(v) = varint(PropertyType::DEFAULT_PUBLISHER_PRIORITY).and_then(|v| u8::try_from(v).ok()) {
        info.publisher_priority = v;
    }
    if let Some(o) = varint(PropertyType::DEFAULT_PUBLISHER_GROUP_ORDER).and_then(WireOrder::from_code) {
        info.group_order = match o {
            WireOrder::Ascending => GroupOrder::Ascending,
            WireOrder::Descending => GroupOrder::Descending,
        };
    }
    if let Some(ms) = varint(PropertyType::OBJECT_DELIVERY_TIMEOUT) {
        info.max_latency_ms = ms;
    }
    info.max_cache_duration_ms = varint(PropertyType::MAX_CACHE_DURATION);
    info.dynamic_groups = varint(PropertyType::DYNAMIC_GROUPS) == Some(1);
    let rest: Vec<KeyValue> = props.iter().filter(|kv| !is_typed(kv.kind)).collect();
    info.properties = if rest.len() == props.iter().count() {
        props.raw().clone()
    } else {
        // Re-encoding pairs taken from a valid list cannot fail.
        Properties::from_pairs(&rest).map(|p| p.raw().clone()).unwrap_or_default()
    };
}

/// The Track Properties that describe `info` (see the module docs).
pub(super) fn track_properties(info: &TrackInfo) -> Result<Properties, CommandError> {
    let others = Properties::from_raw(info.properties.clone())
        .map_err(|_| CommandError::InvalidState("track properties are not valid key-value pairs"))?;
    if others.iter().any(|kv| is_typed(kv.kind)) {
        return Err(CommandError::InvalidState("track properties repeat a property TrackInfo types"));
    }
    let fixed = immutable(&others).unwrap_or_default();
    let mut pairs = Vec::new();
    if info.max_latency_ms > 0 {
        pairs.push(KeyValue::varint(PropertyType::OBJECT_DELIVERY_TIMEOUT.0, info.max_latency_ms));
    }
    if let Some(ms) = info.max_cache_duration_ms {
        pairs.push(KeyValue::varint(PropertyType::MAX_CACHE_DURATION.0, ms));
    }
    pairs.push(KeyValue::varint(
        PropertyType::DEFAULT_PUBLISHER_PRIORITY.0,
        u64::from(info.publisher_priority),
    ));
    let order = match info.group_order {
        GroupOrder::Ascending => WireOrder::Ascending,
        GroupOrder::Descending => WireOrder::Descending,
    };
    pairs.push(KeyValue::varint(PropertyType::DEFAULT_PUBLISHER_GROUP_ORDER.0, u64::from(order.code())));
    if info.dynamic_groups {
        pairs.push(KeyValue::varint(PropertyType::DYNAMIC_GROUPS.0, 1));
    }
    pairs.retain(|kv| fixed.get(kv.kind).is_none());
    if others.is_empty() {
        return Ok(Properties::from_pairs(&pairs)?);
    }
    pairs.extend(others.iter());
    // Stable: pairs of one type keep their order; values (and Immutable Properties' bytes)
    // are carried as they are.
    pairs.sort_by_key(|kv| kv.kind);
    Ok(Properties::from_pairs(&pairs)?)
}

impl MoqtEngine {
    /// Checks received Track Properties; closes the session on a value out of range.
    pub(super) fn check_track_properties(&mut self, shared: &mut Shared, props: &Properties) -> TrackProps {
        if props.is_empty() {
            return TrackProps::Fine;
        }
        let pairs = all_pairs(props);
        if let Some(reason) = out_of_range(&pairs) {
            self.fail(shared, SessionErrorCode::PROTOCOL_VIOLATION, reason);
            return TrackProps::Closed;
        }
        match pairs.iter().find(|kv| PropertyType(kv.kind).is_mandatory()) {
            Some(kv) => TrackProps::UnknownMandatory(kv.kind),
            None => TrackProps::Fine,
        }
    }
}
