//! Subgroup data streams (draft-18 §"Subgroup Header"): the SUBGROUP_HEADER that opens the
//! stream and the objects that follow it.
//!
//! ```text
//! SUBGROUP_HEADER { Type (vi64) = 0b0XX1XXXX, Track Alias (vi64), Group ID (vi64),
//!                   [Subgroup ID (vi64)], [Publisher Priority (8)] }
//! then, per object:
//! { Object ID Delta (vi64), [Properties (..)], Object Payload Length (vi64),
//!   [Object Status (vi64)] (iff the length is 0), [Object Payload (..)] }
//! ```
//!
//! Type bits: 0x01 PROPERTIES (every object carries a Properties field), 0x06
//! SUBGROUP_ID_MODE (00 zero, 01 first object's id, 10 explicit, 11 reserved), 0x08
//! END_OF_GROUP, 0x10 always set, 0x20 DEFAULT_PRIORITY (no priority byte), 0x40
//! FIRST_OBJECT (draft-18: the stream starts with the first object the original publisher
//! published in the subgroup), 0x80 must be clear. The valid types are 0x10..0x15,
//! 0x18..0x1D, 0x30..0x35, 0x38..0x3D, 0x50..0x55, 0x58..0x5D, 0x70..0x75, 0x78..0x7D.
//!
//! Object IDs are delta coded against the previous object on the stream, so objects are
//! read and written through the stateful [`SubgroupObjectDecoder`] and
//! [`SubgroupObjectEncoder`]. Each has a header-only form ([`SubgroupObjectHeader`]: every
//! field up to the payload, no payload bytes needed, no allocation) for sessions that
//! stream payloads, and a whole-object form ([`SubgroupObject`]) whose payload is a
//! zero-copy slice of the input.

use bytes::{BufMut, Bytes};

use crate::error::{DecodeResult, EncodeError, Violation};
use crate::header_bytes::{HeaderBytes, INLINE_HEADER_CAP};
use crate::moqt::kvp::Properties;
use crate::moqt::object::{self, ObjectStatus};
use crate::reader::Reader;
use crate::varint;
use crate::{Decode, Encode, MoqtVersion};

/// A valid SUBGROUP_HEADER type byte (see the module docs for the bit layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubgroupType(u8);

impl SubgroupType {
    /// PROPERTIES: every object on the stream carries a Properties field.
    pub const PROPERTIES: u8 = 0x01;
    /// SUBGROUP_ID_MODE: how the Subgroup ID is coded (two bits).
    pub const SUBGROUP_ID_MODE: u8 = 0x06;
    /// END_OF_GROUP: the subgroup holds the largest object of its group.
    pub const END_OF_GROUP: u8 = 0x08;
    /// Always set in a SUBGROUP_HEADER type.
    pub const ALWAYS_SET: u8 = 0x10;
    /// DEFAULT_PRIORITY: the Publisher Priority byte is absent.
    pub const DEFAULT_PRIORITY: u8 = 0x20;
    /// FIRST_OBJECT: the stream starts with the first object of the subgroup.
    pub const FIRST_OBJECT: u8 = 0x40;

    /// Validates a stream type as a SUBGROUP_HEADER type, naming the broken bit rule.
    pub fn from_u64(value: u64) -> Result<Self, Violation> {
        let invalid = |reason| Violation::InvalidSubgroupType { value, reason };
        let byte = u8::try_from(value).map_err(|_| invalid("type must be a single byte below 0x80"))?;
        if byte & 0x80 != 0 {
            return Err(invalid("bit 0x80 must be 0"));
        }
        if byte & Self::ALWAYS_SET == 0 {
            return Err(invalid("bit 0x10 must be 1"));
        }
        if byte & Self::SUBGROUP_ID_MODE == Self::SUBGROUP_ID_MODE {
            return Err(invalid("SUBGROUP_ID_MODE 0b11 is reserved"));
        }
        Ok(SubgroupType(byte))
    }

    /// The type byte.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// True when objects carry a Properties field.
    pub const fn has_properties(self) -> bool {
        self.0 & Self::PROPERTIES != 0
    }

    /// The SUBGROUP_ID_MODE value (0, 1 or 2).
    pub const fn subgroup_id_mode(self) -> u8 {
        (self.0 & Self::SUBGROUP_ID_MODE) >> 1
    }

    /// True when END_OF_GROUP is set.
    pub const fn end_of_group(self) -> bool {
        self.0 & Self::END_OF_GROUP != 0
    }

    /// True when the Publisher Priority byte is absent.
    pub const fn default_priority(self) -> bool {
        self.0 & Self::DEFAULT_PRIORITY != 0
    }

    /// True when FIRST_OBJECT is set.
    pub const fn first_object(self) -> bool {
        self.0 & Self::FIRST_OBJECT != 0
    }

    /// Every valid type, ascending (48 values).
    pub fn all() -> impl Iterator<Item = SubgroupType> {
        (0u64..0x80).filter_map(|v| SubgroupType::from_u64(v).ok())
    }
}

/// How a SUBGROUP_HEADER gives the Subgroup ID (its SUBGROUP_ID_MODE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub enum SubgroupId {
    /// Mode 0b00: the Subgroup ID is 0 and not on the wire.
    Zero,
    /// Mode 0b01: the Subgroup ID is the Object ID of the first object on the stream.
    FirstObject,
    /// Mode 0b10: the Subgroup ID is in the header.
    Explicit(u64),
}

impl SubgroupId {
    /// The Subgroup ID, given the first object id seen on the stream (needed for
    /// [`SubgroupId::FirstObject`] only).
    pub fn resolve(self, first_object_id: Option<u64>) -> Option<u64> {
        match self {
            SubgroupId::Zero => Some(0),
            SubgroupId::FirstObject => first_object_id,
            SubgroupId::Explicit(id) => Some(id),
        }
    }

    const fn mode(self) -> u8 {
        match self {
            SubgroupId::Zero => 0,
            SubgroupId::FirstObject => 1,
            SubgroupId::Explicit(_) => 2,
        }
    }
}

/// SUBGROUP_HEADER (draft-18 §"Subgroup Header"). Every combination of fields is valid; the
/// type byte is derived from them ([`SubgroupHeader::subgroup_type`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct SubgroupHeader {
    /// The track, by the alias its publisher chose.
    pub track_alias: u64,
    /// The group.
    pub group_id: u64,
    /// The subgroup, or how to derive it.
    pub subgroup_id: SubgroupId,
    /// The Publisher Priority; `None` inherits the subscription's (DEFAULT_PRIORITY set).
    pub publisher_priority: Option<u8>,
    /// Every object on the stream carries a Properties field (PROPERTIES bit).
    pub properties_present: bool,
    /// The subgroup holds the largest object of the group (END_OF_GROUP bit).
    pub end_of_group: bool,
    /// The stream starts with the first object of the subgroup (FIRST_OBJECT bit).
    pub first_object: bool,
}

impl SubgroupHeader {
    /// The type byte these fields encode to.
    pub fn subgroup_type(&self) -> SubgroupType {
        let mut t = SubgroupType::ALWAYS_SET | (self.subgroup_id.mode() << 1);
        if self.properties_present {
            t |= SubgroupType::PROPERTIES;
        }
        if self.end_of_group {
            t |= SubgroupType::END_OF_GROUP;
        }
        if self.publisher_priority.is_none() {
            t |= SubgroupType::DEFAULT_PRIORITY;
        }
        if self.first_object {
            t |= SubgroupType::FIRST_OBJECT;
        }
        SubgroupType(t)
    }

    /// Reads the fields after an already-read (and validated) type.
    pub fn decode_after_type(
        r: &mut Reader<'_>,
        ty: SubgroupType,
        _version: MoqtVersion,
    ) -> DecodeResult<Self> {
        let track_alias = r.vi64()?;
        let group_id = r.vi64()?;
        let subgroup_id = match ty.subgroup_id_mode() {
            0 => SubgroupId::Zero,
            1 => SubgroupId::FirstObject,
            _ => SubgroupId::Explicit(r.vi64()?),
        };
        let publisher_priority = if ty.default_priority() { None } else { Some(r.u8()?) };
        Ok(SubgroupHeader {
            track_alias,
            group_id,
            subgroup_id,
            publisher_priority,
            properties_present: ty.has_properties(),
            end_of_group: ty.end_of_group(),
            first_object: ty.first_object(),
        })
    }
}

impl SubgroupHeader {
    /// The most bytes a SUBGROUP_HEADER takes: type (1), alias, group and subgroup (9 each),
    /// priority (1). Within [`INLINE_HEADER_CAP`].
    pub const MAX_LEN: usize = 29;

    /// Encodes the header as [`HeaderBytes`] (always inline: at most [`Self::MAX_LEN`]
    /// bytes): the same bytes as [`Encode::encode`], without a buffer to cut them from.
    #[inline]
    pub fn encode_header_bytes(&self, version: MoqtVersion) -> Result<HeaderBytes, EncodeError> {
        const { assert!(SubgroupHeader::MAX_LEN <= INLINE_HEADER_CAP) };
        HeaderBytes::encode_inline(|cursor| self.encode(cursor, version))
    }
}

impl Decode for SubgroupHeader {
    type Version = MoqtVersion;

    fn decode(r: &mut Reader<'_>, version: MoqtVersion) -> DecodeResult<Self> {
        let ty = SubgroupType::from_u64(r.vi64()?)?;
        SubgroupHeader::decode_after_type(r, ty, version)
    }
}

impl Encode for SubgroupHeader {
    type Version = MoqtVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, _version: MoqtVersion) -> Result<(), EncodeError> {
        varint::put_vi64(buf, u64::from(self.subgroup_type().bits()));
        varint::put_vi64(buf, self.track_alias);
        varint::put_vi64(buf, self.group_id);
        if let SubgroupId::Explicit(id) = self.subgroup_id {
            varint::put_vi64(buf, id);
        }
        if let Some(p) = self.publisher_priority {
            buf.put_u8(p);
        }
        Ok(())
    }
}

/// The fields of a subgroup object up to its payload (no payload bytes, no allocation).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubgroupObjectHeader {
    /// The absolute Object ID (after delta decoding).
    pub object_id: u64,
    /// The object's properties (empty when the stream's type has none or the list is empty).
    pub properties: Properties,
    /// The Object Status: `Normal` for every object with a payload.
    pub status: ObjectStatus,
    /// How many payload bytes follow (0 for status objects).
    pub payload_len: u64,
}

/// A whole subgroup object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubgroupObject {
    /// The absolute Object ID.
    pub object_id: u64,
    /// The object's properties (must be empty unless the stream type has PROPERTIES and the
    /// status is Normal).
    pub properties: Properties,
    /// The Object Status (must be Normal when `payload` is non-empty).
    pub status: ObjectStatus,
    /// The payload, a zero-copy slice of the input when decoded.
    pub payload: Bytes,
}

impl SubgroupObject {
    /// A Normal object with a payload and no properties.
    pub fn normal(object_id: u64, payload: impl Into<Bytes>) -> Self {
        SubgroupObject {
            object_id,
            properties: Properties::empty(),
            status: ObjectStatus::Normal,
            payload: payload.into(),
        }
    }

    /// An empty object carrying `status`.
    pub fn status(object_id: u64, status: ObjectStatus) -> Self {
        SubgroupObject { object_id, properties: Properties::empty(), status, payload: Bytes::new() }
    }

    /// The header of this object.
    pub fn header(&self) -> SubgroupObjectHeader {
        SubgroupObjectHeader {
            object_id: self.object_id,
            properties: self.properties.clone(),
            status: self.status,
            payload_len: self.payload.len() as u64,
        }
    }
}

/// Reads the objects of one subgroup stream, tracking the previous Object ID.
///
/// A decode that fails (including `Incomplete`) leaves the state untouched, so it can be
/// retried from the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubgroupObjectDecoder {
    properties_present: bool,
    prev_object_id: Option<u64>,
}

impl SubgroupObjectDecoder {
    /// A decoder for the objects that follow `header`.
    pub fn new(header: &SubgroupHeader, _version: MoqtVersion) -> Self {
        SubgroupObjectDecoder { properties_present: header.properties_present, prev_object_id: None }
    }

    /// The Object ID of the last object decoded, if any.
    pub fn prev_object_id(&self) -> Option<u64> {
        self.prev_object_id
    }

    #[inline]
    fn peek_header(&self, r: &mut Reader<'_>) -> DecodeResult<SubgroupObjectHeader> {
        let delta = r.vi64()?;
        let object_id = match self.prev_object_id {
            None => delta,
            Some(prev) => prev
                .checked_add(delta)
                .and_then(|v| v.checked_add(1))
                .ok_or(Violation::Overflow { field: "object id" })?,
        };
        let properties =
            if self.properties_present { object::decode_properties(r)? } else { Properties::empty() };
        let payload_len = object::decode_payload_len(r)?;
        let status = if payload_len == 0 { ObjectStatus::decode(r)? } else { ObjectStatus::Normal };
        if !status.is_normal() && !properties.is_empty() {
            return Err(Violation::PropertiesOnNonNormalObject.into());
        }
        Ok(SubgroupObjectHeader { object_id, properties, status, payload_len })
    }

    /// Reads the next object's header, leaving `r` at the first payload byte. The payload
    /// itself need not have arrived; the caller consumes `payload_len` bytes next.
    #[inline]
    pub fn decode_header(&mut self, r: &mut Reader<'_>) -> DecodeResult<SubgroupObjectHeader> {
        let header = self.peek_header(r)?;
        self.prev_object_id = Some(header.object_id);
        Ok(header)
    }

    /// Reads the next whole object; `Incomplete` until all of its payload has arrived.
    pub fn decode(&mut self, r: &mut Reader<'_>) -> DecodeResult<SubgroupObject> {
        let header = self.peek_header(r)?;
        let payload = object::decode_payload(r, header.payload_len)?;
        self.prev_object_id = Some(header.object_id);
        Ok(SubgroupObject {
            object_id: header.object_id,
            properties: header.properties,
            status: header.status,
            payload,
        })
    }
}

/// The most bytes a subgroup object header without a Properties field takes: Object ID
/// Delta and Object Payload Length (a vi64 each, at most 9 bytes), Object Status (a vi64
/// below 0x80 when present: 1 byte).
pub const MAX_OBJECT_HEADER_LEN_WITHOUT_PROPERTIES: usize = 19;

/// Writes the objects of one subgroup stream, tracking the previous Object ID.
///
/// A write that fails leaves the state untouched and `buf` possibly partly written (see
/// [`Encode::encode`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubgroupObjectEncoder {
    properties_present: bool,
    prev_object_id: Option<u64>,
}

impl SubgroupObjectEncoder {
    /// An encoder for the objects that follow `header`.
    pub fn new(header: &SubgroupHeader, _version: MoqtVersion) -> Self {
        SubgroupObjectEncoder { properties_present: header.properties_present, prev_object_id: None }
    }

    /// The Object ID of the last object encoded, if any.
    pub fn prev_object_id(&self) -> Option<u64> {
        self.prev_object_id
    }

    /// Writes an object header; the caller writes exactly `header.payload_len` payload
    /// bytes after it.
    pub fn encode_header<B: BufMut>(
        &mut self,
        buf: &mut B,
        header: &SubgroupObjectHeader,
    ) -> Result<(), EncodeError> {
        self.put_header(buf, header.object_id, &header.properties, header.status, header.payload_len)
    }

    /// The header fields of one object, checked then written (shared by every form, so a
    /// whole object is written without building a [`SubgroupObjectHeader`] and cloning its
    /// properties).
    #[inline]
    fn put_header<B: BufMut>(
        &mut self,
        buf: &mut B,
        object_id: u64,
        properties: &Properties,
        status: ObjectStatus,
        payload_len: u64,
    ) -> Result<(), EncodeError> {
        let delta = match self.prev_object_id {
            None => object_id,
            Some(prev) if object_id > prev => object_id.wrapping_sub(prev).wrapping_sub(1),
            Some(prev) => {
                return Err(Violation::SubgroupObjectIdNotIncreasing { prev, object_id }.into());
            }
        };
        if !properties.is_empty() {
            if !self.properties_present {
                return Err(Violation::PropertiesNotAllowedBySubgroupType.into());
            }
            if !status.is_normal() {
                return Err(Violation::PropertiesOnNonNormalObject.into());
            }
        }
        if payload_len != 0 && !status.is_normal() {
            return Err(Violation::PayloadOnNonNormalObject.into());
        }
        object::check_payload_len(payload_len)?;
        if self.properties_present {
            object::check_properties_len(properties)?;
        }
        varint::put_vi64(buf, delta);
        if self.properties_present {
            object::encode_properties(buf, properties)?;
        }
        varint::put_vi64(buf, payload_len);
        if payload_len == 0 {
            status.encode(buf);
        }
        self.prev_object_id = Some(object_id);
        Ok(())
    }

    /// Writes an object header as [`HeaderBytes`]: the same bytes, checks and state change
    /// as [`SubgroupObjectEncoder::encode_header`], held inline (no allocation, no reference
    /// count) whenever they fit in [`INLINE_HEADER_CAP`] bytes, which every header without
    /// Properties does (at most [`MAX_OBJECT_HEADER_LEN_WITHOUT_PROPERTIES`] bytes). A header
    /// with longer Properties gets an allocation of its own. A sender hands the transport
    /// (these bytes, the payload `Bytes`).
    #[inline]
    pub fn encode_header_bytes(&mut self, header: &SubgroupObjectHeader) -> Result<HeaderBytes, EncodeError> {
        self.header_bytes(header.object_id, &header.properties, header.status, header.payload_len)
    }

    /// [`SubgroupObjectEncoder::encode_header_bytes`] for the header of a whole object (its
    /// payload is not written: the sender hands `object.payload` over next to it).
    #[inline]
    pub fn encode_object_header_bytes(
        &mut self,
        object: &SubgroupObject,
    ) -> Result<HeaderBytes, EncodeError> {
        self.header_bytes(object.object_id, &object.properties, object.status, object.payload.len() as u64)
    }

    /// [`SubgroupObjectEncoder::encode_header_bytes`] from the header's fields, for a sender
    /// that has them apart (no [`SubgroupObjectHeader`] to build, no properties to clone).
    #[inline]
    pub fn header_bytes(
        &mut self,
        object_id: u64,
        properties: &Properties,
        status: ObjectStatus,
        payload_len: u64,
    ) -> Result<HeaderBytes, EncodeError> {
        if !self.properties_present && properties.is_empty() {
            return self.plain_header_bytes(object_id, status, payload_len);
        }
        self.header_bytes_with_properties(object_id, properties, status, payload_len)
    }

    /// [`SubgroupObjectEncoder::header_bytes`] on a stream whose objects have no Properties
    /// field, for an object without properties (the common case): the checks and bytes of
    /// `put_header` with the properties steps left out (they check and write nothing
    /// here), always inline (at most [`MAX_OBJECT_HEADER_LEN_WITHOUT_PROPERTIES`] bytes).
    #[inline]
    fn plain_header_bytes(
        &mut self,
        object_id: u64,
        status: ObjectStatus,
        payload_len: u64,
    ) -> Result<HeaderBytes, EncodeError> {
        const { assert!(MAX_OBJECT_HEADER_LEN_WITHOUT_PROPERTIES <= INLINE_HEADER_CAP) };
        let delta = match self.prev_object_id {
            None => object_id,
            Some(prev) if object_id > prev => object_id.wrapping_sub(prev).wrapping_sub(1),
            Some(prev) => {
                return Err(Violation::SubgroupObjectIdNotIncreasing { prev, object_id }.into());
            }
        };
        if payload_len != 0 && !status.is_normal() {
            return Err(Violation::PayloadOnNonNormalObject.into());
        }
        object::check_payload_len(payload_len)?;
        // A payload (so no status) and two short fields: the same bytes, built in a register.
        let short = if payload_len != 0 { HeaderBytes::short_vi64_pair(delta, payload_len) } else { None };
        if let Some(header) = short {
            self.prev_object_id = Some(object_id);
            return Ok(header);
        }
        let header = HeaderBytes::encode_inline(|cursor| -> Result<(), EncodeError> {
            varint::put_vi64(cursor, delta);
            varint::put_vi64(cursor, payload_len);
            if payload_len == 0 {
                status.encode(cursor);
            }
            Ok(())
        })?;
        self.prev_object_id = Some(object_id);
        Ok(header)
    }

    /// [`SubgroupObjectEncoder::header_bytes`] of every other case.
    #[inline(never)]
    fn header_bytes_with_properties(
        &mut self,
        object_id: u64,
        properties: &Properties,
        status: ObjectStatus,
        payload_len: u64,
    ) -> Result<HeaderBytes, EncodeError> {
        let properties_len = if self.properties_present {
            let len = properties.len();
            varint::vi64_len(len as u64).saturating_add(len)
        } else {
            0
        };
        let bound = MAX_OBJECT_HEADER_LEN_WITHOUT_PROPERTIES.saturating_add(properties_len);
        if bound <= INLINE_HEADER_CAP {
            HeaderBytes::encode_inline(|cursor| {
                self.put_header(cursor, object_id, properties, status, payload_len)
            })
        } else {
            HeaderBytes::encode_heap(bound, |out| {
                self.put_header(out, object_id, properties, status, payload_len)
            })
        }
    }

    /// Writes a whole object.
    pub fn encode<B: BufMut>(&mut self, buf: &mut B, object: &SubgroupObject) -> Result<(), EncodeError> {
        let payload_len = object.payload.len() as u64;
        self.put_header(buf, object.object_id, &object.properties, object.status, payload_len)?;
        buf.put_slice(&object.payload);
        Ok(())
    }
}
