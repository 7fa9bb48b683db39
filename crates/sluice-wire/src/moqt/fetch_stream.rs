//! Fetch data streams (draft-18 §"Fetch Header", §"Flags", §"End of Range"): the
//! FETCH_HEADER that opens the stream and the delta-coded objects that follow it.
//!
//! ```text
//! FETCH_HEADER { Type (vi64) = 0x05, Request ID (vi64) }
//! then, per object:
//! { Serialization Flags (vi64), [Group ID Delta (vi64)], [Subgroup ID (vi64)],
//!   [Object ID Delta (vi64)], [Publisher Priority (8)], [Properties (..)],
//!   Object Payload Length (vi64), [Object Payload (..)] }
//! ```
//!
//! Flags below 128: `& 0x03` subgroup mode (0 zero, 1 prior, 2 prior + 1, 3 field present),
//! 0x04 Object ID Delta present (else prior + 1), 0x08 Group ID Delta present (else prior
//! group), 0x10 priority present (else prior), 0x20 properties present, 0x40 datagram
//! object (no subgroup; the mode bits are ignored). Flags 0x8C and 0x10C are End of Range
//! markers (non-existent / unknown); any other value of 128 or more is a
//! PROTOCOL_VIOLATION.
//!
//! Group ID Delta, when present on an object other than the first, moves by `delta + 1` in
//! the fetch's group order (up when Ascending, down when Descending); on the first object it
//! is the absolute Group ID. Object ID Delta is absolute when the Group ID Delta is present,
//! otherwise it is added to the prior Object ID. Fetch objects have no Object Status
//! (draft-18 §"Object Status": absent in FETCH); a zero-length object is an empty Normal one.
//!
//! # Resolved ambiguity: End of Range fields
//!
//! draft-18 says only that "the Group ID and Object ID fields are present" in a marker. The
//! marker values 0x8C and 0x10C have the 0x08 and 0x04 bits set, so sluice reads them as a
//! Group ID Delta and an Object ID Delta under the normal rules (as google/quiche and
//! libquicr do), followed by nothing else (no Subgroup, Priority, Properties or Payload
//! Length). A consequence: a marker always changes group relative to the prior object (a
//! present Group ID Delta moves by at least one), so [`FetchObjectEncoder`] refuses a marker
//! in the prior object's group with [`Violation::FetchGroupOutOfOrder`].
//!
//! Properties present with a length of 0 are accepted (draft-18 forbids that only for
//! datagrams) and decode as empty properties; the encoder sets the flag only for non-empty
//! properties.

use bytes::{BufMut, Bytes};

use crate::error::{DecodeResult, EncodeError, Violation};
use crate::moqt::kvp::Properties;
use crate::moqt::object;
use crate::moqt::stream_type::FETCH_STREAM_TYPE;
use crate::reader::Reader;
use crate::varint;
use crate::{Decode, Encode, MoqtVersion};

/// Serialization Flags of an End of Non-Existent Range marker.
pub const END_OF_NON_EXISTENT_RANGE: u64 = 0x8C;
/// Serialization Flags of an End of Unknown Range marker.
pub const END_OF_UNKNOWN_RANGE: u64 = 0x10C;

/// Subgroup mode mask of the Serialization Flags.
pub const FLAG_SUBGROUP_MODE: u8 = 0x03;
/// Object ID Delta present.
pub const FLAG_OBJECT_ID: u8 = 0x04;
/// Group ID Delta present.
pub const FLAG_GROUP_ID: u8 = 0x08;
/// Publisher Priority present.
pub const FLAG_PRIORITY: u8 = 0x10;
/// Properties present.
pub const FLAG_PROPERTIES: u8 = 0x20;
/// Datagram object: no Subgroup ID, mode bits ignored.
pub const FLAG_DATAGRAM: u8 = 0x40;

/// FETCH_HEADER (draft-18 §"Fetch Header").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct FetchHeader {
    /// The FETCH request the objects answer.
    pub request_id: u64,
}

impl FetchHeader {
    /// Reads the fields after an already-read type.
    pub fn decode_after_type(r: &mut Reader<'_>, _version: MoqtVersion) -> DecodeResult<Self> {
        Ok(FetchHeader { request_id: r.vi64()? })
    }
}

impl Decode for FetchHeader {
    type Version = MoqtVersion;

    fn decode(r: &mut Reader<'_>, version: MoqtVersion) -> DecodeResult<Self> {
        let ty = r.vi64()?;
        if ty != FETCH_STREAM_TYPE {
            return Err(Violation::UnknownStreamType(ty).into());
        }
        FetchHeader::decode_after_type(r, version)
    }
}

impl Encode for FetchHeader {
    type Version = MoqtVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, _version: MoqtVersion) -> Result<(), EncodeError> {
        varint::put_vi64(buf, FETCH_STREAM_TYPE);
        varint::put_vi64(buf, self.request_id);
        Ok(())
    }
}

/// The group order of a fetch (from FETCH_OK), which decides the sign of Group ID Deltas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub enum GroupOrder {
    /// Groups increase: Group ID = prior + delta + 1.
    Ascending,
    /// Groups decrease: Group ID = prior - (delta + 1).
    Descending,
}

/// Which End of Range marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub enum EndOfRangeKind {
    /// 0x8C: the objects up to and including the location do not exist.
    NonExistent,
    /// 0x10C: the status of the objects up to and including the location is unknown.
    Unknown,
}

impl EndOfRangeKind {
    /// The Serialization Flags value.
    pub const fn flags(self) -> u64 {
        match self {
            EndOfRangeKind::NonExistent => END_OF_NON_EXISTENT_RANGE,
            EndOfRangeKind::Unknown => END_OF_UNKNOWN_RANGE,
        }
    }
}

/// An End of Range marker (draft-18 §"End of Range"): every location after the last
/// serialized object up to and including `(group_id, object_id)` is of `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct EndOfRange {
    /// Non-existent or unknown.
    pub kind: EndOfRangeKind,
    /// The group of the range's last location.
    pub group_id: u64,
    /// The object of the range's last location.
    pub object_id: u64,
}

/// The fields of a fetch object up to its payload, absolute (after delta decoding).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FetchObjectHeader {
    /// The group.
    pub group_id: u64,
    /// The subgroup; `None` for an object with Forwarding Preference Datagram (flag 0x40).
    pub subgroup_id: Option<u64>,
    /// The object.
    pub object_id: u64,
    /// The Publisher Priority.
    pub publisher_priority: u8,
    /// The object's properties (empty when absent).
    pub properties: Properties,
    /// How many payload bytes follow.
    pub payload_len: u64,
}

/// A whole fetch object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FetchObject {
    /// The group.
    pub group_id: u64,
    /// The subgroup; `None` for a datagram object.
    pub subgroup_id: Option<u64>,
    /// The object.
    pub object_id: u64,
    /// The Publisher Priority.
    pub publisher_priority: u8,
    /// The object's properties (empty when absent).
    pub properties: Properties,
    /// The payload, a zero-copy slice of the input when decoded.
    pub payload: Bytes,
}

impl FetchObject {
    /// The header of this object.
    pub fn header(&self) -> FetchObjectHeader {
        FetchObjectHeader {
            group_id: self.group_id,
            subgroup_id: self.subgroup_id,
            object_id: self.object_id,
            publisher_priority: self.publisher_priority,
            properties: self.properties.clone(),
            payload_len: self.payload.len() as u64,
        }
    }
}

/// One entry of a fetch stream, header only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FetchItemHeader {
    /// An object's header; `payload_len` payload bytes follow.
    Object(FetchObjectHeader),
    /// An End of Range marker (nothing follows it).
    EndOfRange(EndOfRange),
}

/// One whole entry of a fetch stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FetchItem {
    /// An object.
    Object(FetchObject),
    /// An End of Range marker.
    EndOfRange(EndOfRange),
}

impl FetchItem {
    /// The header of this entry.
    pub fn header(&self) -> FetchItemHeader {
        match self {
            FetchItem::Object(o) => FetchItemHeader::Object(o.header()),
            FetchItem::EndOfRange(m) => FetchItemHeader::EndOfRange(*m),
        }
    }
}

/// The "prior object" values that flags may refer to (draft-18 §"End of Range" for how
/// markers update them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Prior {
    /// Group and Object ID of the last object or marker.
    location: Option<(u64, u64)>,
    /// Subgroup ID of the last actual object (`None` also when it was a datagram object).
    subgroup: Option<u64>,
    /// Priority of the last actual object.
    priority: Option<u8>,
}

impl Prior {
    fn after(self, item: &FetchItemHeader) -> Prior {
        match item {
            FetchItemHeader::Object(h) => Prior {
                location: Some((h.group_id, h.object_id)),
                subgroup: h.subgroup_id,
                priority: Some(h.publisher_priority),
            },
            FetchItemHeader::EndOfRange(m) => Prior { location: Some((m.group_id, m.object_id)), ..self },
        }
    }
}

fn missing(field: &'static str) -> Violation {
    Violation::FetchMissingPrior { field }
}

/// Reads the objects of one fetch stream, tracking the prior object's fields.
///
/// A decode that fails (including `Incomplete`) leaves the state untouched, so it can be
/// retried from the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchObjectDecoder {
    order: GroupOrder,
    prior: Prior,
}

impl FetchObjectDecoder {
    /// A decoder for a fetch whose FETCH_OK gave `order`.
    pub fn new(order: GroupOrder, _version: MoqtVersion) -> Self {
        FetchObjectDecoder { order, prior: Prior::default() }
    }

    #[inline]
    fn group(&self, r: &mut Reader<'_>, present: bool) -> DecodeResult<u64> {
        if !present {
            return Ok(self.prior.location.ok_or(missing("group id"))?.0);
        }
        let delta = r.vi64()?;
        let Some((prior, _)) = self.prior.location else { return Ok(delta) };
        match self.order {
            GroupOrder::Ascending => prior
                .checked_add(delta)
                .and_then(|g| g.checked_add(1))
                .ok_or(Violation::Overflow { field: "group id" }.into()),
            GroupOrder::Descending => delta
                .checked_add(1)
                .and_then(|step| prior.checked_sub(step))
                .ok_or(Violation::FetchGroupIdUnderflow.into()),
        }
    }

    #[inline]
    fn peek_header(&self, r: &mut Reader<'_>) -> DecodeResult<FetchItemHeader> {
        let flags = r.vi64()?;
        let kind = match flags {
            END_OF_NON_EXISTENT_RANGE => Some(EndOfRangeKind::NonExistent),
            END_OF_UNKNOWN_RANGE => Some(EndOfRangeKind::Unknown),
            0..0x80 => None,
            _ => return Err(Violation::InvalidFetchFlags(flags).into()),
        };
        if let Some(kind) = kind {
            // Both delta bits are set in a marker: the Object ID Delta is absolute.
            let group_id = self.group(r, true)?;
            let object_id = r.vi64()?;
            return Ok(FetchItemHeader::EndOfRange(EndOfRange { kind, group_id, object_id }));
        }
        let f = u8::try_from(flags).unwrap_or_default();
        let group_present = f & FLAG_GROUP_ID != 0;
        let group_id = self.group(r, group_present)?;
        let subgroup_id = if f & FLAG_DATAGRAM != 0 {
            None
        } else {
            Some(match f & FLAG_SUBGROUP_MODE {
                0 => 0,
                1 => self.prior.subgroup.ok_or(missing("subgroup id"))?,
                2 => self
                    .prior
                    .subgroup
                    .ok_or(missing("subgroup id"))?
                    .checked_add(1)
                    .ok_or(Violation::Overflow { field: "subgroup id" })?,
                _ => r.vi64()?,
            })
        };
        let prior_object = self.prior.location.map(|(_, o)| o);
        let object_id = if f & FLAG_OBJECT_ID != 0 {
            let delta = r.vi64()?;
            if group_present {
                delta
            } else {
                prior_object
                    .ok_or(missing("object id"))?
                    .checked_add(delta)
                    .ok_or(Violation::Overflow { field: "object id" })?
            }
        } else {
            prior_object
                .ok_or(missing("object id"))?
                .checked_add(1)
                .ok_or(Violation::Overflow { field: "object id" })?
        };
        let publisher_priority =
            if f & FLAG_PRIORITY != 0 { r.u8()? } else { self.prior.priority.ok_or(missing("priority"))? };
        let properties =
            if f & FLAG_PROPERTIES != 0 { object::decode_properties(r)? } else { Properties::empty() };
        let payload_len = object::decode_payload_len(r)?;
        Ok(FetchItemHeader::Object(FetchObjectHeader {
            group_id,
            subgroup_id,
            object_id,
            publisher_priority,
            properties,
            payload_len,
        }))
    }

    /// Reads the next entry's header, leaving `r` at the first payload byte of an object.
    /// The payload need not have arrived; the caller consumes `payload_len` bytes next.
    #[inline]
    pub fn decode_header(&mut self, r: &mut Reader<'_>) -> DecodeResult<FetchItemHeader> {
        let header = self.peek_header(r)?;
        self.prior = self.prior.after(&header);
        Ok(header)
    }

    /// Reads the next whole entry; `Incomplete` until an object's payload has arrived.
    pub fn decode(&mut self, r: &mut Reader<'_>) -> DecodeResult<FetchItem> {
        let header = self.peek_header(r)?;
        let next = self.prior.after(&header);
        let item = match header {
            FetchItemHeader::EndOfRange(m) => FetchItem::EndOfRange(m),
            FetchItemHeader::Object(h) => FetchItem::Object(FetchObject {
                payload: object::decode_payload(r, h.payload_len)?,
                group_id: h.group_id,
                subgroup_id: h.subgroup_id,
                object_id: h.object_id,
                publisher_priority: h.publisher_priority,
                properties: h.properties,
            }),
        };
        self.prior = next;
        Ok(item)
    }
}

/// Writes the objects of one fetch stream, choosing the most compact flags against the
/// prior object (fields equal to or derivable from the prior are omitted).
///
/// A write that fails leaves the state untouched and `buf` possibly partly written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchObjectEncoder {
    order: GroupOrder,
    prior: Prior,
}

impl FetchObjectEncoder {
    /// An encoder for a fetch answered in `order`.
    pub fn new(order: GroupOrder, _version: MoqtVersion) -> Self {
        FetchObjectEncoder { order, prior: Prior::default() }
    }

    /// The Group ID Delta for `group`, or `None` when the group is the prior one and an
    /// object may omit it (`force` makes it present, as markers need).
    fn group_delta(&self, group: u64, force: bool) -> Result<Option<u64>, Violation> {
        let Some((prior, _)) = self.prior.location else { return Ok(Some(group)) };
        if group == prior && !force {
            return Ok(None);
        }
        let step = match self.order {
            GroupOrder::Ascending => group.checked_sub(prior),
            GroupOrder::Descending => prior.checked_sub(group),
        };
        match step.and_then(|s| s.checked_sub(1)) {
            Some(delta) => Ok(Some(delta)),
            None => Err(Violation::FetchGroupOutOfOrder { prior, group }),
        }
    }

    /// Writes an entry's header; after an object header the caller writes exactly
    /// `payload_len` payload bytes.
    pub fn encode_header<B: BufMut>(
        &mut self,
        buf: &mut B,
        header: &FetchItemHeader,
    ) -> Result<(), EncodeError> {
        match header {
            FetchItemHeader::EndOfRange(m) => {
                let group_delta = self.group_delta(m.group_id, true)?.unwrap_or(m.group_id);
                varint::put_vi64(buf, m.kind.flags());
                varint::put_vi64(buf, group_delta);
                varint::put_vi64(buf, m.object_id);
            }
            FetchItemHeader::Object(h) => self.write_object_header(buf, h)?,
        }
        self.prior = self.prior.after(header);
        Ok(())
    }

    fn write_object_header<B: BufMut>(&self, buf: &mut B, h: &FetchObjectHeader) -> Result<(), EncodeError> {
        object::check_payload_len(h.payload_len)?;
        object::check_properties_len(&h.properties)?;
        let mut flags = 0u8;
        let group_delta = self.group_delta(h.group_id, false)?;
        if group_delta.is_some() {
            flags |= FLAG_GROUP_ID;
        }
        let mut subgroup_field = None;
        match h.subgroup_id {
            None => flags |= FLAG_DATAGRAM,
            Some(0) => {}
            Some(s) if self.prior.subgroup == Some(s) => flags |= 0x01,
            Some(s) if self.prior.subgroup.and_then(|p| p.checked_add(1)) == Some(s) => flags |= 0x02,
            Some(s) => {
                flags |= 0x03;
                subgroup_field = Some(s);
            }
        }
        let prior_object = self.prior.location.map(|(_, o)| o);
        let object_delta = if prior_object.and_then(|o| o.checked_add(1)) == Some(h.object_id) {
            None
        } else if group_delta.is_some() {
            Some(h.object_id)
        } else {
            // Same group as the prior object, so a prior exists.
            let prior = prior_object.unwrap_or_default();
            match h.object_id.checked_sub(prior) {
                Some(d) => Some(d),
                None => {
                    return Err(Violation::FetchObjectIdBackwards { prior, object_id: h.object_id }.into());
                }
            }
        };
        if object_delta.is_some() {
            flags |= FLAG_OBJECT_ID;
        }
        let priority = (self.prior.priority != Some(h.publisher_priority)).then_some(h.publisher_priority);
        if priority.is_some() {
            flags |= FLAG_PRIORITY;
        }
        if !h.properties.is_empty() {
            flags |= FLAG_PROPERTIES;
        }
        varint::put_vi64(buf, u64::from(flags));
        if let Some(d) = group_delta {
            varint::put_vi64(buf, d);
        }
        if let Some(s) = subgroup_field {
            varint::put_vi64(buf, s);
        }
        if let Some(d) = object_delta {
            varint::put_vi64(buf, d);
        }
        if let Some(p) = priority {
            buf.put_u8(p);
        }
        if !h.properties.is_empty() {
            object::encode_properties(buf, &h.properties)?;
        }
        varint::put_vi64(buf, h.payload_len);
        Ok(())
    }

    /// Writes a whole entry.
    pub fn encode<B: BufMut>(&mut self, buf: &mut B, item: &FetchItem) -> Result<(), EncodeError> {
        self.encode_header(buf, &item.header())?;
        if let FetchItem::Object(o) = item {
            buf.put_slice(&o.payload);
        }
        Ok(())
    }
}
