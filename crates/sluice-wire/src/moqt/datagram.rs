//! MOQT datagrams (draft-18 §"Datagrams", §"Object Datagram", §"Padding Datagrams").
//!
//! ```text
//! OBJECT_DATAGRAM { Type (vi64) = 0x00..0x0F / 0x20..0x21 / 0x24..0x25 / 0x28..0x29 / 0x2C..0x2D,
//!                   Track Alias (vi64), Group ID (vi64), [Object ID (vi64)],
//!                   [Publisher Priority (8)], [Properties (..)], [Object Status (vi64)],
//!                   [Object Payload (..)] }
//! ```
//!
//! Type bits: 0x01 PROPERTIES (present and non-empty), 0x02 END_OF_GROUP, 0x04
//! ZERO_OBJECT_ID (Object ID absent, = 0), 0x08 DEFAULT_PRIORITY (priority absent), 0x20
//! STATUS (Object Status present, no payload). Bit 0x10 and bits above 0x20 must be clear,
//! and STATUS with END_OF_GROUP is invalid. The payload has no length: it is the rest of
//! the datagram, so datagrams are decoded from a *bounded* reader over the whole datagram
//! (use [`Datagram::decode_datagram`]).
//!
//! Encoding is canonical: ZERO_OBJECT_ID is used whenever the Object ID is 0, and
//! PROPERTIES whenever there are properties (the draft forbids the bit with an empty list).
//! (draft-19 writes the type as `(vi64)` instead of `(i)`; draft-18's `(i)` is read as the
//! vi64 every other draft-18 field uses.)

use bytes::{BufMut, Bytes};

use crate::error::{DecodeResult, EncodeError, Violation};
use crate::moqt::kvp::Properties;
use crate::moqt::object::{self, ObjectStatus};
use crate::moqt::padding::{PADDING_DATAGRAM_TYPE, PaddingDatagram};
use crate::reader::Reader;
use crate::varint;
use crate::{Decode, Encode, MoqtVersion};

/// PROPERTIES bit of an OBJECT_DATAGRAM type.
pub const DATAGRAM_PROPERTIES: u8 = 0x01;
/// END_OF_GROUP bit of an OBJECT_DATAGRAM type.
pub const DATAGRAM_END_OF_GROUP: u8 = 0x02;
/// ZERO_OBJECT_ID bit of an OBJECT_DATAGRAM type.
pub const DATAGRAM_ZERO_OBJECT_ID: u8 = 0x04;
/// DEFAULT_PRIORITY bit of an OBJECT_DATAGRAM type.
pub const DATAGRAM_DEFAULT_PRIORITY: u8 = 0x08;
/// STATUS bit of an OBJECT_DATAGRAM type.
pub const DATAGRAM_STATUS: u8 = 0x20;

/// Validates an OBJECT_DATAGRAM type, naming the broken bit rule. Types at or above 0x40
/// are not of the datagram form at all and are [`Violation::UnknownDatagramType`].
pub fn validate_datagram_type(value: u64) -> Result<u8, Violation> {
    let invalid = |reason| Violation::InvalidDatagramType { value, reason };
    let byte = match u8::try_from(value) {
        Ok(b) if b < 0x40 => b,
        _ => return Err(Violation::UnknownDatagramType(value)),
    };
    if byte & 0x10 != 0 {
        return Err(invalid("bit 0x10 must be 0"));
    }
    if byte & DATAGRAM_STATUS != 0 && byte & DATAGRAM_END_OF_GROUP != 0 {
        return Err(invalid("STATUS and END_OF_GROUP cannot both be set"));
    }
    Ok(byte)
}

/// Every valid OBJECT_DATAGRAM type, ascending (24 values).
pub fn all_datagram_types() -> impl Iterator<Item = u8> {
    (0u8..0x40).filter(|t| validate_datagram_type(u64::from(*t)).is_ok())
}

/// What an object datagram carries after its header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DatagramBody {
    /// STATUS clear: the rest of the datagram is the payload (possibly empty); the status is
    /// Normal.
    Payload(Bytes),
    /// STATUS set: an Object Status and no payload.
    Status(ObjectStatus),
}

/// OBJECT_DATAGRAM (draft-18 §"Object Datagram").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectDatagram {
    /// The track, by alias.
    pub track_alias: u64,
    /// The group.
    pub group_id: u64,
    /// The object (0 is sent with ZERO_OBJECT_ID).
    pub object_id: u64,
    /// The Publisher Priority; `None` inherits the subscription's (DEFAULT_PRIORITY set).
    pub publisher_priority: Option<u8>,
    /// No object of this group has a larger Object ID (END_OF_GROUP). Not allowed with a
    /// [`DatagramBody::Status`] body.
    pub end_of_group: bool,
    /// The object's properties; empty means the PROPERTIES bit is clear. Only allowed with
    /// a payload or a Normal status.
    pub properties: Properties,
    /// The payload or the status.
    pub body: DatagramBody,
}

impl ObjectDatagram {
    /// The type byte this datagram encodes with.
    pub fn datagram_type(&self) -> u8 {
        let mut t = 0;
        if !self.properties.is_empty() {
            t |= DATAGRAM_PROPERTIES;
        }
        if self.end_of_group {
            t |= DATAGRAM_END_OF_GROUP;
        }
        if self.object_id == 0 {
            t |= DATAGRAM_ZERO_OBJECT_ID;
        }
        if self.publisher_priority.is_none() {
            t |= DATAGRAM_DEFAULT_PRIORITY;
        }
        if matches!(self.body, DatagramBody::Status(_)) {
            t |= DATAGRAM_STATUS;
        }
        t
    }

    /// Reads the fields after an already-read and validated type, to the end of `r`.
    pub fn decode_after_type(r: &mut Reader<'_>, ty: u8) -> DecodeResult<Self> {
        let track_alias = r.vi64()?;
        let group_id = r.vi64()?;
        let object_id = if ty & DATAGRAM_ZERO_OBJECT_ID != 0 { 0 } else { r.vi64()? };
        let publisher_priority = if ty & DATAGRAM_DEFAULT_PRIORITY != 0 { None } else { Some(r.u8()?) };
        let properties = if ty & DATAGRAM_PROPERTIES != 0 {
            let p = object::decode_properties(r)?;
            if p.is_empty() {
                return Err(Violation::EmptyDatagramProperties.into());
            }
            p
        } else {
            Properties::empty()
        };
        let body = if ty & DATAGRAM_STATUS != 0 {
            let status = ObjectStatus::decode(r)?;
            if !status.is_normal() && !properties.is_empty() {
                return Err(Violation::PropertiesOnNonNormalObject.into());
            }
            DatagramBody::Status(status)
        } else {
            DatagramBody::Payload(r.rest())
        };
        Ok(ObjectDatagram {
            track_alias,
            group_id,
            object_id,
            publisher_priority,
            end_of_group: ty & DATAGRAM_END_OF_GROUP != 0,
            properties,
            body,
        })
    }
}

impl Decode for ObjectDatagram {
    type Version = MoqtVersion;

    /// Reads a whole datagram; `r` must be bounded to it (a status datagram with bytes after
    /// the status is [`Violation::TrailingBytes`]).
    fn decode(r: &mut Reader<'_>, _version: MoqtVersion) -> DecodeResult<Self> {
        let ty = validate_datagram_type(r.vi64()?)?;
        let d = ObjectDatagram::decode_after_type(r, ty)?;
        if !r.is_empty() {
            return Err(Violation::TrailingBytes { extra: r.remaining() }.into());
        }
        Ok(d)
    }
}

impl Encode for ObjectDatagram {
    type Version = MoqtVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, _version: MoqtVersion) -> Result<(), EncodeError> {
        let ty = self.datagram_type();
        validate_datagram_type(u64::from(ty))?;
        if let DatagramBody::Status(status) = self.body {
            if !status.is_normal() && !self.properties.is_empty() {
                return Err(Violation::PropertiesOnNonNormalObject.into());
            }
        }
        object::check_properties_len(&self.properties)?;
        varint::put_vi64(buf, u64::from(ty));
        varint::put_vi64(buf, self.track_alias);
        varint::put_vi64(buf, self.group_id);
        if self.object_id != 0 {
            varint::put_vi64(buf, self.object_id);
        }
        if let Some(p) = self.publisher_priority {
            buf.put_u8(p);
        }
        if !self.properties.is_empty() {
            object::encode_properties(buf, &self.properties)?;
        }
        match &self.body {
            DatagramBody::Status(status) => status.encode(buf),
            DatagramBody::Payload(payload) => buf.put_slice(payload),
        }
        Ok(())
    }
}

/// Any MOQT datagram: an object or padding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Datagram {
    /// OBJECT_DATAGRAM.
    Object(ObjectDatagram),
    /// PADDING datagram (content discarded).
    Padding(PaddingDatagram),
}

impl Datagram {
    /// Decodes one whole received datagram (bounded: its end is the payload's end).
    pub fn decode_datagram(datagram: &Bytes, version: MoqtVersion) -> DecodeResult<Self> {
        Datagram::decode(&mut Reader::bounded(datagram), version)
    }
}

impl Decode for Datagram {
    type Version = MoqtVersion;

    /// Reads a whole datagram; `r` must be bounded to it.
    fn decode(r: &mut Reader<'_>, _version: MoqtVersion) -> DecodeResult<Self> {
        let ty = r.vi64()?;
        if ty == PADDING_DATAGRAM_TYPE {
            return Ok(Datagram::Padding(PaddingDatagram::decode_after_type(r)));
        }
        let ty = validate_datagram_type(ty)?;
        let d = ObjectDatagram::decode_after_type(r, ty)?;
        if !r.is_empty() {
            return Err(Violation::TrailingBytes { extra: r.remaining() }.into());
        }
        Ok(Datagram::Object(d))
    }
}

impl Encode for Datagram {
    type Version = MoqtVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, version: MoqtVersion) -> Result<(), EncodeError> {
        match self {
            Datagram::Object(d) => d.encode(buf, version),
            Datagram::Padding(p) => p.encode(buf, version),
        }
    }
}
