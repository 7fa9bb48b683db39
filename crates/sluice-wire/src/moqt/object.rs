//! Pieces shared by every MOQT object encoding (draft-18 §"Objects"): the Object Status
//! registry, the length-prefixed Object Properties field, and the payload length limit.
//!
//! Subgroup streams ([`super::subgroup`]), fetch streams ([`super::fetch_stream`]) and
//! datagrams ([`super::datagram`]) each lay these fields out differently, but the rules on
//! them are the same:
//!
//! * Object Status (draft-18 §"Object Status") is one of Normal (0x0), End of Group (0x3) or
//!   End of Track (0x4); any other value is a PROTOCOL_VIOLATION. Only Normal objects carry
//!   a payload. (draft-14 also had 0x1 "Object Does Not Exist"; it is gone in draft-18.
//!   draft-19 words the payload rule through an IANA registry column; same effect.)
//! * Object Properties (draft-18 §"Object Properties") are `Properties Length (vi64)`
//!   followed by Key-Value-Pairs, and only Normal objects may have any.

use bytes::BufMut;

use crate::error::{DecodeResult, EncodeError, Violation};
use crate::moqt::kvp::Properties;
use crate::reader::Reader;
use crate::varint::{self, VarintKind};

/// The largest Object Payload Length sluice accepts: `u32::MAX` bytes (4 GiB - 1).
///
/// draft-18 sets no limit (the length is a vi64); sluice refuses larger claims at once, as
/// soon as the length field is read, without waiting for the bytes or allocating for them.
pub const MAX_OBJECT_PAYLOAD_LEN: u64 = u32::MAX as u64;

/// The largest Properties Length sluice accepts on an object: 65535 bytes.
///
/// draft-18 sets no limit on the list as a whole (each odd-typed value is at most 65535
/// bytes). Properties are part of the object header, which is buffered before the payload
/// streams, so sluice bounds them like a control message body.
pub const MAX_OBJECT_PROPERTIES_LEN: u64 = 65_535;

/// Object Status (draft-18 §"Object Status").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub enum ObjectStatus {
    /// 0x0: a normal object. Implicit for any non-empty object; explicit for empty ones.
    Normal,
    /// 0x3: no object with this Group ID and an Object ID >= this one exists.
    EndOfGroup,
    /// 0x4: no object at a Location >= this one exists.
    EndOfTrack,
}

impl ObjectStatus {
    /// Every status draft-18 defines.
    pub const ALL: [ObjectStatus; 3] =
        [ObjectStatus::Normal, ObjectStatus::EndOfGroup, ObjectStatus::EndOfTrack];

    /// The wire value.
    pub const fn to_u64(self) -> u64 {
        match self {
            ObjectStatus::Normal => 0x0,
            ObjectStatus::EndOfGroup => 0x3,
            ObjectStatus::EndOfTrack => 0x4,
        }
    }

    /// The status a wire value names; any other value is [`Violation::InvalidValue`].
    pub fn from_u64(value: u64) -> Result<Self, Violation> {
        match value {
            0x0 => Ok(ObjectStatus::Normal),
            0x3 => Ok(ObjectStatus::EndOfGroup),
            0x4 => Ok(ObjectStatus::EndOfTrack),
            _ => Err(Violation::InvalidValue { field: "object status", value }),
        }
    }

    /// True for [`ObjectStatus::Normal`], the only status that may carry payload or properties.
    pub const fn is_normal(self) -> bool {
        matches!(self, ObjectStatus::Normal)
    }

    /// Reads an Object Status (vi64).
    pub fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        Ok(ObjectStatus::from_u64(r.vi64()?)?)
    }

    /// Writes an Object Status (vi64).
    pub fn encode<B: BufMut>(self, buf: &mut B) {
        varint::put_vi64(buf, self.to_u64());
    }
}

/// Reads `Properties Length (vi64), Properties (..)` and validates the pairs.
///
/// The length is checked against [`MAX_OBJECT_PROPERTIES_LEN`] before anything is sliced; on
/// an open reader a list that has not fully arrived is `Incomplete`.
pub fn decode_properties(r: &mut Reader<'_>) -> DecodeResult<Properties> {
    let raw = r.len_prefixed(VarintKind::Vi64, "object properties", MAX_OBJECT_PROPERTIES_LEN)?;
    Properties::from_raw(raw)
}

/// Writes `Properties Length (vi64), Properties (..)`.
pub fn encode_properties<B: BufMut>(buf: &mut B, properties: &Properties) -> Result<(), EncodeError> {
    check_properties_len(properties)?;
    varint::put_len_prefixed(buf, VarintKind::Vi64, properties.raw())
}

/// Refuses properties longer than [`MAX_OBJECT_PROPERTIES_LEN`].
pub fn check_properties_len(properties: &Properties) -> Result<(), Violation> {
    let len = properties.len() as u64;
    if len > MAX_OBJECT_PROPERTIES_LEN {
        return Err(Violation::LengthTooLarge {
            field: "object properties",
            claimed: len,
            max: MAX_OBJECT_PROPERTIES_LEN,
        });
    }
    Ok(())
}

/// Reads an Object Payload Length (vi64) and checks it against [`MAX_OBJECT_PAYLOAD_LEN`].
///
/// Only the limit is checked, not whether the payload has arrived: header-only decoders use
/// this so a session can stream the payload without buffering it.
#[inline]
pub fn decode_payload_len(r: &mut Reader<'_>) -> DecodeResult<u64> {
    let claimed = r.vi64()?;
    check_payload_len(claimed)?;
    Ok(claimed)
}

/// Refuses a payload length above [`MAX_OBJECT_PAYLOAD_LEN`].
#[inline]
pub fn check_payload_len(claimed: u64) -> Result<(), Violation> {
    if claimed > MAX_OBJECT_PAYLOAD_LEN {
        return Err(Violation::LengthTooLarge {
            field: "object payload",
            claimed,
            max: MAX_OBJECT_PAYLOAD_LEN,
        });
    }
    Ok(())
}

/// Reads the `payload_len` payload bytes that follow a header, as a zero-copy slice.
pub fn decode_payload(r: &mut Reader<'_>, payload_len: u64) -> DecodeResult<bytes::Bytes> {
    let n = r.check_len("object payload", payload_len, MAX_OBJECT_PAYLOAD_LEN)?;
    r.bytes(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_registry_is_exactly_0_3_4() {
        for v in 0..16u64 {
            let ok = ObjectStatus::from_u64(v);
            match v {
                0 | 3 | 4 => assert_eq!(ok.unwrap().to_u64(), v),
                _ => assert_eq!(ok, Err(Violation::InvalidValue { field: "object status", value: v })),
            }
        }
    }
}
