//! The data of a Group stream (uni 0x0): one GROUP header, then FRAMEs; the Fetch stream
//! carries the same FRAMEs without a GROUP (lite-04/05 §GROUP, §FRAME).
//!
//! ```text
//! GROUP { Message Length (i), Subscribe ID (i), Group Sequence (i) }
//! FRAME (lite-04) { Message Length (i), Payload }
//! FRAME (lite-05) { Timestamp Delta (i), Message Length (i), Payload }
//! ```
//! The FRAME "Message Length" is the payload's length: the draft's `Payload (b)` is the same
//! bytes, not a second length prefix.
//!
//! Two ways to read a frame:
//! * [`FrameHeader`] stops before the payload: it never needs the payload bytes and never
//!   allocates, so a session can stream a large payload through without buffering it.
//! * [`Frame`] also takes the payload, as a zero-copy [`Bytes`] slice of the input.
//!
//! # Timestamp Delta (lite-05)
//!
//! A signed delta from the previous frame's timestamp (from 0 for a group's first frame),
//! zigzag-mapped to an unsigned varint: [`zigzag_encode`] / [`zigzag_decode`]. A QUIC varint
//! holds at most 2^62 - 1, so the deltas a FRAME can carry are -2^61 ..= 2^61 - 1; larger
//! magnitudes fail to encode with [`EncodeError::VarintTooLarge`].
//!
//! # Payload limit
//!
//! Frame payloads are media (a key frame can be megabytes), so they are not bound by
//! [`crate::lite::framing::MAX_MESSAGE_LEN`]. The drafts give no limit; sluice uses
//! [`MAX_FRAME_LEN`] = `u32::MAX` (4 GiB - 1) so that a length fits a `usize` on every
//! platform and an absurd claim (up to 2^62) is refused at once. How much of a frame a
//! session buffers is the session's memory policy, which [`FrameHeader`] lets it apply.

use bytes::{BufMut, Bytes};

use crate::error::{DecodeResult, EncodeError, Violation};
use crate::header_bytes::{HeaderBytes, INLINE_HEADER_CAP};
use crate::lite::framing::decode_message;
use crate::reader::Reader;
use crate::version::LiteVersion;
use crate::{Decode, Encode, varint};

/// The largest frame payload sluice accepts or sends, in bytes.
pub const MAX_FRAME_LEN: u64 = u32::MAX as u64;

/// Zigzag-maps a signed value: `(s << 1) ^ (s >> 63)` (lite-05 §FRAME).
pub const fn zigzag_encode(s: i64) -> u64 {
    (s.wrapping_shl(1) ^ s.wrapping_shr(63)) as u64
}

/// Inverse of [`zigzag_encode`]: `(u >> 1) ^ -(u & 1)` (lite-05 §FRAME).
pub const fn zigzag_decode(u: u64) -> i64 {
    (u.wrapping_shr(1) as i64) ^ ((u & 1) as i64).wrapping_neg()
}

/// GROUP: the header of a Group stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Group {
    /// The Subscribe ID this group serves.
    pub subscribe_id: u64,
    /// The group's sequence number.
    pub sequence: u64,
}

impl Decode for Group {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, _version: LiteVersion) -> DecodeResult<Self> {
        decode_message(r, |b| Ok(Group { subscribe_id: b.quic_varint()?, sequence: b.quic_varint()? }))
    }
}

impl Group {
    /// A whole GROUP at the front of `buf` and the bytes it takes, when `buf` holds one:
    /// exactly what [`Decode::decode`] gives then, and `None` whenever that fails (incomplete
    /// or invalid), which it then names. The receive path's fast path (no [`Reader`]).
    #[inline]
    pub fn decode_prefix(buf: &[u8]) -> Option<(Group, usize)> {
        let (claimed, n) = varint::decode_quic(buf)?;
        if claimed > crate::lite::framing::MAX_MESSAGE_LEN {
            return None;
        }
        let end = n.checked_add(usize::try_from(claimed).ok()?)?;
        let body = buf.get(n..end)?;
        let (subscribe_id, a) = varint::decode_quic(body)?;
        let (sequence, b) = varint::decode_quic(body.get(a..)?)?;
        // The body holds the two fields and nothing else.
        (a.checked_add(b)? == body.len()).then_some((Group { subscribe_id, sequence }, end))
    }
}

impl Encode for Group {
    type Version = LiteVersion;

    /// The body's length is known from the two varints, so it is written in place (no
    /// scratch buffer: a publisher writes one GROUP per group stream).
    fn encode<B: BufMut>(&self, buf: &mut B, _version: LiteVersion) -> Result<(), EncodeError> {
        let id_len =
            varint::quic_len(self.subscribe_id).ok_or(EncodeError::VarintTooLarge(self.subscribe_id))?;
        let seq_len = varint::quic_len(self.sequence).ok_or(EncodeError::VarintTooLarge(self.sequence))?;
        varint::put_quic(buf, id_len.saturating_add(seq_len) as u64)?;
        varint::put_quic(buf, self.subscribe_id)?;
        varint::put_quic(buf, self.sequence)
    }
}

/// The fields of a FRAME before its payload.
///
/// After a successful decode the reader stands at the first payload byte; the payload is
/// the next `payload_len` bytes, which need not have arrived yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameHeader {
    /// lite-05: the signed Timestamp Delta (always `Some`); lite-04: `None`.
    pub timestamp_delta: Option<i64>,
    /// The payload length, at most [`MAX_FRAME_LEN`].
    pub payload_len: u64,
}

/// Checks that `timestamp_delta` is present exactly when `version` has one.
fn check_timestamp(timestamp_delta: Option<i64>, version: LiteVersion) -> Result<(), Violation> {
    match (timestamp_delta, version) {
        (None, LiteVersion::Lite04) | (Some(_), LiteVersion::Lite05) => Ok(()),
        (Some(_), LiteVersion::Lite04) => Err(Violation::NotInVersion { message: "FRAME Timestamp Delta" }),
        (None, LiteVersion::Lite05) => Err(Violation::MissingTimestamp),
    }
}

impl Decode for FrameHeader {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, version: LiteVersion) -> DecodeResult<Self> {
        let timestamp_delta = match version {
            LiteVersion::Lite04 => None,
            LiteVersion::Lite05 => Some(zigzag_decode(r.quic_varint()?)),
        };
        let payload_len = r.quic_varint()?;
        if payload_len > MAX_FRAME_LEN {
            return Err(Violation::LengthTooLarge {
                field: "frame payload",
                claimed: payload_len,
                max: MAX_FRAME_LEN,
            }
            .into());
        }
        Ok(FrameHeader { timestamp_delta, payload_len })
    }
}

impl FrameHeader {
    /// Decodes a header lying wholly at the start of `buf`: `Some((header, bytes used))`,
    /// exactly what [`Decode::decode`] gives for it. `None` when `buf` holds only part of a
    /// header or the header is invalid: [`Decode::decode`] then says which. The receive
    /// path's fast path (no [`Reader`], no error values).
    #[inline]
    pub fn decode_prefix(buf: &[u8], version: LiteVersion) -> Option<(FrameHeader, usize)> {
        let (timestamp_delta, used) = match version {
            LiteVersion::Lite04 => (None, 0),
            LiteVersion::Lite05 => {
                let (z, n) = varint::decode_quic(buf)?;
                (Some(zigzag_decode(z)), n)
            }
        };
        let (payload_len, n) = varint::decode_quic(buf.get(used..)?)?;
        if payload_len > MAX_FRAME_LEN {
            return None;
        }
        Some((FrameHeader { timestamp_delta, payload_len }, used.saturating_add(n)))
    }

    /// The most bytes a FRAME header takes: Timestamp Delta and Size, one QUIC varint
    /// (at most 8 bytes) each. Within [`INLINE_HEADER_CAP`].
    pub const MAX_LEN: usize = 16;

    /// Encodes the header as [`HeaderBytes`] (always inline: at most [`Self::MAX_LEN`]
    /// bytes): the same bytes and checks as [`Encode::encode`], without a buffer to cut
    /// them from. A sender hands the transport (these bytes, the payload `Bytes`).
    #[inline]
    pub fn encode_header_bytes(&self, version: LiteVersion) -> Result<HeaderBytes, EncodeError> {
        const { assert!(FrameHeader::MAX_LEN <= INLINE_HEADER_CAP) };
        check_timestamp(self.timestamp_delta, version)?;
        self.check_payload_len()?;
        // The Timestamp Delta's range is checked as it is written (the payload length,
        // at most MAX_FRAME_LEN, always fits): the same error `checked_delta` gives.
        HeaderBytes::quic_varints(self.timestamp_delta.map(zigzag_encode), self.payload_len)
    }

    /// Refuses a payload length over [`MAX_FRAME_LEN`].
    #[inline]
    fn check_payload_len(&self) -> Result<(), EncodeError> {
        if self.payload_len > MAX_FRAME_LEN {
            return Err(Violation::LengthTooLarge {
                field: "frame payload",
                claimed: self.payload_len,
                max: MAX_FRAME_LEN,
            }
            .into());
        }
        Ok(())
    }

    /// Checks every field (before anything is written, so a buffer is untouched on error)
    /// and returns the zigzag-encoded Timestamp Delta to write, if any.
    #[inline]
    fn checked_delta(&self, version: LiteVersion) -> Result<Option<u64>, EncodeError> {
        check_timestamp(self.timestamp_delta, version)?;
        self.check_payload_len()?;
        // Check the one field that can fail before writing, so `buf` is untouched on error
        // (the payload length is at most MAX_FRAME_LEN, which always fits a varint).
        let delta = self.timestamp_delta.map(zigzag_encode);
        if let Some(z) = delta
            && varint::quic_len(z).is_none()
        {
            return Err(EncodeError::VarintTooLarge(z));
        }
        Ok(delta)
    }

    /// Writes the checked fields.
    #[inline]
    fn put<B: BufMut>(buf: &mut B, delta: Option<u64>, payload_len: u64) -> Result<(), EncodeError> {
        if let Some(z) = delta {
            varint::put_quic(buf, z)?;
        }
        varint::put_quic(buf, payload_len)
    }
}

impl Encode for FrameHeader {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, version: LiteVersion) -> Result<(), EncodeError> {
        let delta = self.checked_delta(version)?;
        Self::put(buf, delta, self.payload_len)
    }
}

/// A whole FRAME with its payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Frame {
    /// lite-05: the signed Timestamp Delta (always `Some`); lite-04: `None`.
    pub timestamp_delta: Option<i64>,
    /// The payload (a zero-copy slice of the input when decoded), at most [`MAX_FRAME_LEN`].
    pub payload: Bytes,
}

impl Frame {
    /// The header of this frame.
    pub fn header(&self) -> FrameHeader {
        FrameHeader { timestamp_delta: self.timestamp_delta, payload_len: self.payload.len() as u64 }
    }
}

impl Decode for Frame {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, version: LiteVersion) -> DecodeResult<Self> {
        let header = FrameHeader::decode(r, version)?;
        let n = r.check_len("frame payload", header.payload_len, MAX_FRAME_LEN)?;
        let payload = r.bytes(n)?;
        Ok(Frame { timestamp_delta: header.timestamp_delta, payload })
    }
}

impl Encode for Frame {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, version: LiteVersion) -> Result<(), EncodeError> {
        self.header().encode(buf, version)?;
        buf.put_slice(&self.payload);
        Ok(())
    }
}
