//! The type that opens every MOQT unidirectional stream (draft-18 §"Unidirectional Stream
//! Types"), so a session can route a new stream before reading anything else.
//!
//! | ID | Stream |
//! |---:|:---|
//! | 0x05 | FETCH_HEADER ([`super::fetch_stream`]) |
//! | 0b0XX1XXXX | SUBGROUP_HEADER ([`super::subgroup`]) |
//! | 0x2F00 | SETUP (the uni control stream) |
//! | 0x132B3E28 | PADDING ([`super::padding`]) |
//!
//! Any other type is an unknown stream type, which MUST close the session. A value of the
//! subgroup form `0b0XX1XXXX` with the reserved SUBGROUP_ID_MODE 0b11 is reported as
//! [`Violation::InvalidSubgroupType`] (draft-18 §"Subgroup Header" lists those values as
//! invalid SUBGROUP_HEADER types).

use bytes::BufMut;

use crate::error::{DecodeResult, EncodeError, Violation};
use crate::moqt::padding::PADDING_STREAM_TYPE;
use crate::moqt::subgroup::SubgroupType;
use crate::reader::Reader;
use crate::varint;
use crate::{Decode, Encode, MoqtVersion};

/// The FETCH_HEADER stream type.
pub const FETCH_STREAM_TYPE: u64 = 0x05;
/// The SETUP (uni control) stream type.
pub const CONTROL_STREAM_TYPE: u64 = 0x2F00;

/// What a unidirectional stream carries, from its first vi64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UniStreamType {
    /// A subgroup data stream; the SUBGROUP_HEADER's remaining fields follow.
    Subgroup(SubgroupType),
    /// A fetch data stream; the FETCH_HEADER's Request ID follows.
    Fetch,
    /// The uni control stream; a SETUP message body follows.
    Control,
    /// A padding stream; discard the rest.
    Padding,
}

impl UniStreamType {
    /// The type a stream-type value names.
    pub fn from_u64(value: u64) -> Result<Self, Violation> {
        match value {
            FETCH_STREAM_TYPE => Ok(UniStreamType::Fetch),
            CONTROL_STREAM_TYPE => Ok(UniStreamType::Control),
            PADDING_STREAM_TYPE => Ok(UniStreamType::Padding),
            v if v < 0x80 && v & u64::from(SubgroupType::ALWAYS_SET) != 0 => {
                Ok(UniStreamType::Subgroup(SubgroupType::from_u64(v)?))
            }
            v => Err(Violation::UnknownStreamType(v)),
        }
    }

    /// The wire value.
    pub fn to_u64(self) -> u64 {
        match self {
            UniStreamType::Subgroup(t) => u64::from(t.bits()),
            UniStreamType::Fetch => FETCH_STREAM_TYPE,
            UniStreamType::Control => CONTROL_STREAM_TYPE,
            UniStreamType::Padding => PADDING_STREAM_TYPE,
        }
    }
}

impl Decode for UniStreamType {
    type Version = MoqtVersion;

    fn decode(r: &mut Reader<'_>, _version: MoqtVersion) -> DecodeResult<Self> {
        Ok(UniStreamType::from_u64(r.vi64()?)?)
    }
}

impl Encode for UniStreamType {
    type Version = MoqtVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, _version: MoqtVersion) -> Result<(), EncodeError> {
        varint::put_vi64(buf, self.to_u64());
        Ok(())
    }
}
