//! The Location structure (draft-18 §1.4.2): `{ Group (vi64), Object (vi64) }`, naming one
//! Object of a Track. Locations order lexicographically by (group, object), which the
//! derived `Ord` gives because `group` is the first field.

use bytes::BufMut;

use crate::error::{DecodeError, EncodeError};
use crate::reader::Reader;
use crate::varint;
use crate::version::MoqtVersion;
use crate::{Decode, Encode};

/// A position in a Track: a Group ID and an Object ID.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The Group ID.
    pub group: u64,
    /// The Object ID within the group.
    pub object: u64,
}

impl Location {
    /// The location `{group, object}`.
    pub const fn new(group: u64, object: u64) -> Self {
        Location { group, object }
    }
}

impl Encode for Location {
    type Version = MoqtVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, _version: MoqtVersion) -> Result<(), EncodeError> {
        varint::put_vi64(buf, self.group);
        varint::put_vi64(buf, self.object);
        Ok(())
    }
}

impl Decode for Location {
    type Version = MoqtVersion;

    #[inline]
    fn decode(r: &mut Reader<'_>, _version: MoqtVersion) -> Result<Self, DecodeError> {
        let group = r.vi64()?;
        let object = r.vi64()?;
        Ok(Location { group, object })
    }
}
