//! The two message framings of moq-lite and the field helpers every message shares.
//!
//! lite-04/05 §"Message Length": most messages are `Message Length (i), Body`, where the
//! length counts the body only and a body of unexpected length is a PROTOCOL_VIOLATION.
//! Streams that carry more than one kind of response (the Subscribe stream) put a
//! `Type (i)` before the length. This module holds those framings, the limits that bound
//! them, and the `(s)` string / `(8)` flag field helpers.
//!
//! # Limits
//!
//! The drafts set no maximum message size. sluice picks [`MAX_MESSAGE_LEN`] = 65535 bytes
//! for every length-prefixed message (the largest legitimate lite message, a SETUP or an
//! ANNOUNCE with a long hop list, is far below it; MOQT uses the same bound for its control
//! messages). gomoqt accepts up to 50 MiB, which would let one peer make the other buffer
//! 50 MiB before it can judge a message; sluice does not. The bound is checked on the
//! length varint itself, before waiting for the body, so a claimed length of 2^62 fails at
//! once with [`Violation::LengthTooLarge`].
//!
//! Frame payloads are not messages: see [`crate::lite::group::MAX_FRAME_LEN`].
//!
//! Broadcast paths, prefixes and track names are at most [`MAX_NAME_LEN`] (4096) bytes, the
//! limit MOQT gives a full track name; the GOAWAY URI at most [`MAX_URI_LEN`] (8192), the
//! limit MOQT gives its GOAWAY URI. The lite drafts name no limit for either.

use bytes::BufMut;

use crate::error::{DecodeResult, EncodeError, Violation};
use crate::reader::Reader;
use crate::varint::{self, VarintKind};

/// The largest message body sluice accepts or sends, in bytes (see the module docs).
pub const MAX_MESSAGE_LEN: u64 = 65_535;

/// The largest broadcast path, path prefix/suffix or track name, in bytes.
pub const MAX_NAME_LEN: u64 = 4_096;

/// The largest GOAWAY New Session URI, in bytes.
pub const MAX_URI_LEN: u64 = 8_192;

/// Reads `Message Length (i), Body` and decodes the body with `body`, which must consume it
/// exactly (short: [`Violation::BodyTooShort`], long: [`Violation::TrailingBytes`]).
pub(crate) fn decode_message<'a, T>(
    r: &mut Reader<'a>,
    body: impl FnOnce(&mut Reader<'a>) -> DecodeResult<T>,
) -> DecodeResult<T> {
    let claimed = r.quic_varint()?;
    let n = r.check_len("message", claimed, MAX_MESSAGE_LEN)?;
    let mut b = r.body(n)?;
    let value = body(&mut b)?;
    b.finish()?;
    Ok(value)
}

/// Writes `Message Length (i), Body`, the body produced by `body` into a scratch buffer.
pub(crate) fn encode_message<B: BufMut>(
    buf: &mut B,
    body: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let mut scratch = Vec::new();
    body(&mut scratch)?;
    let len = scratch.len() as u64;
    if len > MAX_MESSAGE_LEN {
        return Err(Violation::LengthTooLarge { field: "message", claimed: len, max: MAX_MESSAGE_LEN }.into());
    }
    varint::put_quic(buf, len)?;
    buf.put_slice(&scratch);
    Ok(())
}

/// Writes `Type (i), Message Length (i), Body`.
pub(crate) fn encode_typed<B: BufMut>(
    buf: &mut B,
    kind: u64,
    body: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let mut out = Vec::new();
    varint::put_quic(&mut out, kind)?;
    encode_message(&mut out, body)?;
    buf.put_slice(&out);
    Ok(())
}

/// Reads a `(s)` field: varint length (at most `max`) then UTF-8 bytes.
pub(crate) fn get_str(r: &mut Reader<'_>, field: &'static str, max: u64) -> DecodeResult<String> {
    r.len_prefixed_str(VarintKind::Quic, field, max)
}

/// Writes a `(s)` field, refusing strings the decoder would reject as too long.
pub(crate) fn put_str<B: BufMut>(
    buf: &mut B,
    field: &'static str,
    s: &str,
    max: u64,
) -> Result<(), EncodeError> {
    let len = s.len() as u64;
    if len > max {
        return Err(Violation::LengthTooLarge { field, claimed: len, max }.into());
    }
    varint::put_len_prefixed(buf, VarintKind::Quic, s.as_bytes())
}

/// Reads an `Ordered (8)` byte: 0x1 ascending (true), 0x0 descending (false), anything
/// else [`Violation::InvalidValue`] (lite-04/05 §SUBSCRIBE "Subscriber Ordered").
pub(crate) fn get_ordered(r: &mut Reader<'_>, field: &'static str) -> DecodeResult<bool> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(Violation::InvalidValue { field, value: u64::from(other) }.into()),
    }
}

/// Writes an `Ordered (8)` byte.
pub(crate) fn put_ordered<B: BufMut>(buf: &mut B, ordered: bool) {
    buf.put_u8(u8::from(ordered));
}

/// Reads a `Group Start`/`Group End` field of SUBSCRIBE, SUBSCRIBE_UPDATE and the lite-04
/// SUBSCRIBE_OK: 0 means "none" (latest / unbounded / not yet known), any other value is
/// the absolute group sequence + 1. Returns the real group sequence.
pub(crate) fn get_group_plus_one(r: &mut Reader<'_>) -> DecodeResult<Option<u64>> {
    Ok(r.quic_varint()?.checked_sub(1))
}

/// Writes an optional group as `sequence + 1`, or 0 for `None`.
pub(crate) fn put_group_plus_one<B: BufMut>(
    buf: &mut B,
    field: &'static str,
    group: Option<u64>,
) -> Result<(), EncodeError> {
    let wire = match group {
        None => 0,
        Some(g) => g.checked_add(1).ok_or(Violation::Overflow { field })?,
    };
    varint::put_quic(buf, wire)
}

/// Rejects a message that `version` does not define.
pub(crate) fn require(present: bool, message: &'static str) -> Result<(), Violation> {
    if present { Ok(()) } else { Err(Violation::NotInVersion { message }) }
}
