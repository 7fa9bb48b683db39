//! The messages of the lite-05 Track stream (bidi 0x6): a track's immutable publisher
//! properties (lite-05 §TRACK, §TRACK_INFO). lite-04 has neither message.
//!
//! ```text
//! TRACK      { Message Length (i), Broadcast Path (s), Track Name (s) }
//! TRACK_INFO { Message Length (i), Publisher Priority (8), Publisher Ordered (8),
//!              Publisher Max Latency (i), Timescale (i) }
//! ```
//! Timescale MUST be non-zero; a zero is [`Violation::InvalidValue`] on decode and cannot
//! be represented on encode ([`NonZeroU64`]).

use std::num::NonZeroU64;

use bytes::BufMut;

use crate::error::{DecodeResult, EncodeError, Violation};
use crate::lite::framing::{
    MAX_NAME_LEN, decode_message, encode_message, get_ordered, get_str, put_ordered, put_str, require,
};
use crate::reader::Reader;
use crate::version::LiteVersion;
use crate::{Decode, Encode, varint};

/// TRACK: asks for a track's TRACK_INFO.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Track {
    /// Broadcast Path, at most [`MAX_NAME_LEN`] bytes.
    pub broadcast: String,
    /// Track Name, at most [`MAX_NAME_LEN`] bytes.
    pub track: String,
}

/// TRACK_INFO: the publisher's properties, fixed for the track's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrackInfo {
    /// Publisher Priority (tie-breaker; higher = more important).
    pub priority: u8,
    /// Publisher Ordered: true = ascending.
    pub ordered: bool,
    /// Publisher Max Latency: how long a non-latest group is cached, milliseconds.
    pub max_latency: u64,
    /// Timestamp units per second of FRAME timestamps.
    pub timescale: NonZeroU64,
}

impl Decode for Track {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, version: LiteVersion) -> DecodeResult<Self> {
        require(version == LiteVersion::Lite05, "TRACK")?;
        decode_message(r, |b| {
            Ok(Track {
                broadcast: get_str(b, "broadcast path", MAX_NAME_LEN)?,
                track: get_str(b, "track name", MAX_NAME_LEN)?,
            })
        })
    }
}

impl Encode for Track {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, version: LiteVersion) -> Result<(), EncodeError> {
        require(version == LiteVersion::Lite05, "TRACK")?;
        encode_message(buf, |out| {
            put_str(out, "broadcast path", &self.broadcast, MAX_NAME_LEN)?;
            put_str(out, "track name", &self.track, MAX_NAME_LEN)
        })
    }
}

impl Decode for TrackInfo {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, version: LiteVersion) -> DecodeResult<Self> {
        require(version == LiteVersion::Lite05, "TRACK_INFO")?;
        decode_message(r, |b| {
            let priority = b.u8()?;
            let ordered = get_ordered(b, "publisher ordered")?;
            let max_latency = b.quic_varint()?;
            let timescale = NonZeroU64::new(b.quic_varint()?)
                .ok_or(Violation::InvalidValue { field: "timescale", value: 0 })?;
            Ok(TrackInfo { priority, ordered, max_latency, timescale })
        })
    }
}

impl Encode for TrackInfo {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, version: LiteVersion) -> Result<(), EncodeError> {
        require(version == LiteVersion::Lite05, "TRACK_INFO")?;
        encode_message(buf, |out| {
            out.put_u8(self.priority);
            put_ordered(out, self.ordered);
            varint::put_quic(out, self.max_latency)?;
            varint::put_quic(out, self.timescale.get())
        })
    }
}
