//! FETCH, the request of the Fetch stream (bidi 0x3): one whole group of a track
//! (lite-04 §FETCH, lite-05 §FETCH; same layout in both).
//!
//! ```text
//! FETCH { Message Length (i), Broadcast Path (s), Track Name (s), Subscriber Priority (8),
//!         Group Sequence (i) }
//! ```
//! The publisher answers with FRAME messages directly (no GROUP header): decode them with
//! [`crate::lite::group::Frame`] / [`crate::lite::group::FrameHeader`].

use bytes::BufMut;

use crate::error::{DecodeResult, EncodeError};
use crate::lite::framing::{MAX_NAME_LEN, decode_message, encode_message, get_str, put_str};
use crate::reader::Reader;
use crate::version::LiteVersion;
use crate::{Decode, Encode, varint};

/// FETCH: asks for one group.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fetch {
    /// Broadcast Path, at most [`MAX_NAME_LEN`] bytes.
    pub broadcast: String,
    /// Track Name, at most [`MAX_NAME_LEN`] bytes.
    pub track: String,
    /// Subscriber Priority (higher = more important).
    pub priority: u8,
    /// The group's sequence number.
    pub group: u64,
}

impl Decode for Fetch {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, _version: LiteVersion) -> DecodeResult<Self> {
        decode_message(r, |b| {
            Ok(Fetch {
                broadcast: get_str(b, "broadcast path", MAX_NAME_LEN)?,
                track: get_str(b, "track name", MAX_NAME_LEN)?,
                priority: b.u8()?,
                group: b.quic_varint()?,
            })
        })
    }
}

impl Encode for Fetch {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, _version: LiteVersion) -> Result<(), EncodeError> {
        encode_message(buf, |out| {
            put_str(out, "broadcast path", &self.broadcast, MAX_NAME_LEN)?;
            put_str(out, "track name", &self.track, MAX_NAME_LEN)?;
            out.put_u8(self.priority);
            varint::put_quic(out, self.group)
        })
    }
}
