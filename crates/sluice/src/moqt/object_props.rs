//! Checks on the Object Properties the application writes (draft-18 §13 "MOQT
//! Properties"): Immutable Properties, Prior Group ID Gap and Prior Object ID Gap may each
//! appear at most once in an Object. The gaps are counted both at the top level and inside
//! Immutable Properties (where a processor also looks for them, §13 "Immutable
//! Properties"). The write is refused with a `CommandError`; nothing is sent.

use bytes::Bytes;
use sluice_wire::moqt::codes::PropertyType;
use sluice_wire::moqt::kvp::{KvValue, Properties};

use crate::error::CommandError;
use crate::model::ObjectProperties;

/// Parses `raw` as the properties of one object written by the application.
#[inline]
pub(super) fn object_properties(raw: &ObjectProperties) -> Result<Properties, CommandError> {
    if raw.is_empty() {
        // The common case, kept off the parser (object path speed).
        return Ok(Properties::empty());
    }
    parse_object_properties(raw.to_bytes())
}

/// [`object_properties`] of a non-empty field.
fn parse_object_properties(raw: Bytes) -> Result<Properties, CommandError> {
    let props = Properties::from_raw(raw)
        .map_err(|_| CommandError::InvalidState("object properties are not valid key-value pairs"))?;
    if props.is_empty() {
        return Ok(props);
    }
    let (mut immutable, mut group_gap, mut object_gap) = (0u32, 0u32, 0u32);
    let mut count = |kind: u64| {
        if kind == PropertyType::PRIOR_GROUP_ID_GAP.0 {
            group_gap += 1;
        } else if kind == PropertyType::PRIOR_OBJECT_ID_GAP.0 {
            object_gap += 1;
        }
    };
    for pair in props.iter() {
        if pair.kind == PropertyType::IMMUTABLE_PROPERTIES.0 {
            immutable += 1;
            if let KvValue::Bytes(inner) = &pair.value {
                let inner = Properties::from_raw(inner.clone()).map_err(|_| {
                    CommandError::InvalidState("Immutable Properties are not valid key-value pairs")
                })?;
                inner.iter().for_each(|p| count(p.kind));
            }
        } else {
            count(pair.kind);
        }
    }
    if immutable > 1 || group_gap > 1 || object_gap > 1 {
        return Err(CommandError::InvalidState(
            "an object carries Immutable Properties, Prior Group ID Gap or Prior Object ID Gap more than once",
        ));
    }
    Ok(props)
}
