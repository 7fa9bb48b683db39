//! Padding streams and padding datagrams (draft-18 §"Padding").
//!
//! ```text
//! PADDING STREAM   { Type (vi64) = 0x132B3E28, Padding Data (..) = 0x00.. }
//! PADDING DATAGRAM { Type (vi64) = 0x132B3E29, Padding Data (..) = 0x00.. }
//! ```
//!
//! Padding lets an endpoint probe for bandwidth without carrying data. The sender MUST send
//! zero bytes; the receiver MUST discard everything it receives. sluice therefore discards
//! the content without looking at it (no rule asks the receiver to check the zeros, and
//! checking would cost a pass over data that is only there to be thrown away), and always
//! writes zeros.

use bytes::BufMut;

use crate::error::{DecodeResult, EncodeError};
use crate::reader::Reader;
use crate::varint;
use crate::{Decode, Encode, MoqtVersion};

/// The padding stream type.
pub const PADDING_STREAM_TYPE: u64 = 0x132B_3E28;
/// The padding datagram type.
pub const PADDING_DATAGRAM_TYPE: u64 = 0x132B_3E29;

/// Consumes and discards everything left in `r` (the rest of a padding stream buffer, after
/// its type), returning how many bytes were dropped.
pub fn discard(r: &mut Reader<'_>) -> usize {
    let n = r.remaining();
    // `skip` of exactly `remaining()` cannot fail.
    let _ = r.skip(n);
    n
}

/// Appends `len` padding bytes (zeros), for the body of a padding stream.
pub fn put_padding<B: BufMut>(buf: &mut B, len: usize) {
    buf.put_bytes(0, len);
}

/// A padding datagram: its type and `len` bytes of padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PaddingDatagram {
    /// How many padding bytes follow the type.
    pub len: usize,
}

impl PaddingDatagram {
    /// Reads the body after an already-read type: everything left is padding.
    pub fn decode_after_type(r: &mut Reader<'_>) -> Self {
        PaddingDatagram { len: discard(r) }
    }
}

impl Decode for PaddingDatagram {
    type Version = MoqtVersion;

    /// Reads a whole padding datagram; `r` must be bounded to the datagram.
    fn decode(r: &mut Reader<'_>, _version: MoqtVersion) -> DecodeResult<Self> {
        let ty = r.vi64()?;
        if ty != PADDING_DATAGRAM_TYPE {
            return Err(crate::Violation::UnknownDatagramType(ty).into());
        }
        Ok(PaddingDatagram::decode_after_type(r))
    }
}

impl Encode for PaddingDatagram {
    type Version = MoqtVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, _version: MoqtVersion) -> Result<(), EncodeError> {
        varint::put_vi64(buf, PADDING_DATAGRAM_TYPE);
        put_padding(buf, self.len);
        Ok(())
    }
}
