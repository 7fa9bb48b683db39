//! HTTP/3 framing sluice-wt needs (RFC 9114 §7): frame headers, the SETTINGS frame with the
//! WebTransport settings, HEADERS and DATA frame encoding, and the error type every parser
//! here returns.

use sluice_wire::varint::{decode_quic, put_quic};

use crate::codes::{error, frame_type, setting, stream_type};

/// An HTTP/3 error: the code for CONNECTION_CLOSE / RESET_STREAM / STOP_SENDING and a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct H3Error {
    /// The HTTP/3 (or WebTransport, or QPACK) error code.
    pub code: u64,
    /// What was wrong.
    pub reason: &'static str,
}

impl H3Error {
    /// An error with `code`.
    pub const fn new(code: u64, reason: &'static str) -> H3Error {
        H3Error { code, reason }
    }
}

impl std::fmt::Display for H3Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP/3 error {:#x}: {}", self.code, self.reason)
    }
}

impl std::error::Error for H3Error {}

/// Appends a QUIC varint; values above 2^62 - 1 never occur here (ids and lengths come from
/// QUIC or from our own bounded buffers), and would be written as the maximum.
pub fn put_varint(out: &mut Vec<u8>, value: u64) {
    if put_quic(out, value).is_err() {
        let _ = put_quic(out, sluice_wire::varint::QUIC_MAX);
    }
}

/// Parses a frame header (Type, Length) from the start of `buf`: `(type, length, bytes
/// used)`, or `None` when more bytes are needed.
pub fn frame_header(buf: &[u8]) -> Option<(u64, u64, usize)> {
    let (ty, a) = decode_quic(buf)?;
    let (len, b) = decode_quic(buf.get(a..)?)?;
    Some((ty, len, a + b))
}

/// Appends a frame: type, length, payload.
pub fn put_frame(out: &mut Vec<u8>, ty: u64, payload: &[u8]) {
    put_varint(out, ty);
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

/// The settings sluice-wt sends (RFC 9114 §7.2.4, RFC 9220 §3, RFC 9297 §2.1.1,
/// draft-ietf-webtrans-http3 §3.1 and §9.2). Both the current SETTINGS_WT_MAX_SESSIONS and
/// the draft-02 enable/max-sessions pair are sent, with the pre-RFC datagram setting, so that
/// Chromium and web-transport-quinn (moq-native, moq-transport) both see WebTransport
/// support. WT_MAX_SESSIONS is 1: one session per connection, so WebTransport flow control
/// stays off (draft-ietf-webtrans-http3 §5.1).
pub fn local_settings(server: bool, max_field_section_size: u64) -> Vec<(u64, u64)> {
    let mut s = vec![(setting::MAX_FIELD_SECTION_SIZE, max_field_section_size)];
    if server {
        s.push((setting::ENABLE_CONNECT_PROTOCOL, 1));
    }
    s.extend([
        (setting::H3_DATAGRAM, 1),
        (setting::H3_DATAGRAM_DRAFT04, 1),
        (setting::ENABLE_WEBTRANSPORT_DRAFT02, 1),
        (setting::WEBTRANSPORT_MAX_SESSIONS_DRAFT02, 1),
        (setting::WT_MAX_SESSIONS, 1),
    ]);
    s
}

/// The control stream's opening bytes: stream type 0x00 then the SETTINGS frame
/// (RFC 9114 §6.2.1: SETTINGS is the first frame of each control stream).
pub fn control_stream_preamble(settings: &[(u64, u64)]) -> Vec<u8> {
    let mut payload = Vec::new();
    for (id, value) in settings {
        put_varint(&mut payload, *id);
        put_varint(&mut payload, *value);
    }
    let mut out = Vec::new();
    put_varint(&mut out, stream_type::CONTROL);
    put_frame(&mut out, frame_type::SETTINGS, &payload);
    out
}

/// A peer's SETTINGS, in arrival order (GREASE identifiers dropped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// (identifier, value) pairs.
    pub entries: Vec<(u64, u64)>,
}

impl Settings {
    /// Decodes a SETTINGS payload: a duplicate identifier or an HTTP/2 one is
    /// H3_SETTINGS_ERROR (RFC 9114 §7.2.4, §7.2.4.1), a truncated pair H3_FRAME_ERROR (§7.1),
    /// more than `max` identifiers H3_EXCESSIVE_LOAD; boolean settings (RFC 9220 §3,
    /// RFC 9297 §2.1.1) with a value other than 0 or 1 are H3_SETTINGS_ERROR.
    pub fn decode(mut payload: &[u8], max: usize) -> Result<Settings, H3Error> {
        let mut entries: Vec<(u64, u64)> = Vec::new();
        let mut seen = 0usize;
        while !payload.is_empty() {
            let truncated = H3Error::new(error::H3_FRAME_ERROR, "truncated SETTINGS frame");
            let (id, a) = decode_quic(payload).ok_or(truncated)?;
            let (value, b) = payload.get(a..).and_then(decode_quic).ok_or(truncated)?;
            payload = payload.get(a + b..).unwrap_or_default();
            seen += 1;
            if seen > max {
                return Err(H3Error::new(error::H3_EXCESSIVE_LOAD, "too many settings"));
            }
            if setting::is_reserved_http2(id) {
                return Err(H3Error::new(error::H3_SETTINGS_ERROR, "HTTP/2 setting identifier"));
            }
            if crate::codes::is_reserved_h3(id) {
                continue;
            }
            if entries.iter().any(|(i, _)| *i == id) {
                return Err(H3Error::new(error::H3_SETTINGS_ERROR, "duplicate setting"));
            }
            if matches!(id, setting::ENABLE_CONNECT_PROTOCOL | setting::H3_DATAGRAM) && value > 1 {
                return Err(H3Error::new(error::H3_SETTINGS_ERROR, "boolean setting above 1"));
            }
            entries.push((id, value));
        }
        Ok(Settings { entries })
    }

    /// The value of a setting, if sent.
    pub fn get(&self, id: u64) -> Option<u64> {
        self.entries.iter().find(|(i, _)| *i == id).map(|(_, v)| *v)
    }

    /// True when these settings announce WebTransport over HTTP/3 in any of the draft
    /// encodings sluice-wt knows: HTTP/3 datagrams (RFC or draft-04 code) and a non-zero
    /// WT_MAX_SESSIONS (either code point) or the draft-02 ENABLE_WEBTRANSPORT = 1.
    pub fn supports_webtransport(&self) -> bool {
        let datagrams =
            self.get(setting::H3_DATAGRAM) == Some(1) || self.get(setting::H3_DATAGRAM_DRAFT04) == Some(1);
        let sessions = self.get(setting::WT_MAX_SESSIONS).is_some_and(|n| n > 0)
            || self.get(setting::WT_MAX_SESSIONS_DRAFT13).is_some_and(|n| n > 0)
            || self.get(setting::ENABLE_WEBTRANSPORT_DRAFT02) == Some(1);
        datagrams && sessions
    }
}
