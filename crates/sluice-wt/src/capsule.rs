//! WT_CLOSE_SESSION (draft-ietf-webtrans-http3 §6): the capsule that carries a session's
//! close code and message on the CONNECT stream (inside DATA frames, RFC 9297 §3.2).

use crate::codes::capsule_type;
use crate::frame::put_varint;

/// Longest message sent (draft-ietf-webtrans-http3 §6: at most 1024 bytes).
pub const MAX_MESSAGE: usize = 1024;

/// The capsule: type 0x2843, length, code (32 bits, big endian), message. The message is cut
/// to [`MAX_MESSAGE`] bytes at a character boundary.
pub fn close_session(code: u32, reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(MAX_MESSAGE);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let message = reason.as_bytes().get(..end).unwrap_or_default();
    let mut out = Vec::with_capacity(message.len() + 8);
    put_varint(&mut out, capsule_type::WT_CLOSE_SESSION);
    put_varint(&mut out, 4 + message.len() as u64);
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// The code and message of a WT_CLOSE_SESSION payload; `None` when shorter than 4 bytes or
/// the message is not UTF-8 (the draft requires UTF-8).
pub fn parse_close(payload: &[u8]) -> Option<(u32, String)> {
    let (code, message) = payload.split_first_chunk::<4>()?;
    Some((u32::from_be_bytes(*code), String::from_utf8(message.to_vec()).ok()?))
}
