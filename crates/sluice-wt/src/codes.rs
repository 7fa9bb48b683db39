//! Every HTTP/3 and WebTransport code point sluice-wt sends or checks, with its source, so
//! no number appears bare anywhere else; plus the WebTransport application error mapping.

/// RFC 9114 §6.2: unidirectional stream types.
pub mod stream_type {
    /// The control stream (RFC 9114 §6.2.1).
    pub const CONTROL: u64 = 0x00;
    /// A push stream (RFC 9114 §4.6).
    pub const PUSH: u64 = 0x01;
    /// The QPACK encoder stream (RFC 9204 §4.2).
    pub const QPACK_ENCODER: u64 = 0x02;
    /// The QPACK decoder stream (RFC 9204 §4.2).
    pub const QPACK_DECODER: u64 = 0x03;
    /// A WebTransport unidirectional stream (draft-ietf-webtrans-http3 §4.2).
    pub const WEBTRANSPORT_UNI: u64 = 0x54;
}

/// HTTP/3 frame types (RFC 9114 §7.2, §11.2.1).
pub mod frame_type {
    /// DATA (RFC 9114 §7.2.1).
    pub const DATA: u64 = 0x00;
    /// HEADERS (RFC 9114 §7.2.2).
    pub const HEADERS: u64 = 0x01;
    /// CANCEL_PUSH (RFC 9114 §7.2.3).
    pub const CANCEL_PUSH: u64 = 0x03;
    /// SETTINGS (RFC 9114 §7.2.4).
    pub const SETTINGS: u64 = 0x04;
    /// PUSH_PROMISE (RFC 9114 §7.2.5).
    pub const PUSH_PROMISE: u64 = 0x05;
    /// GOAWAY (RFC 9114 §7.2.6).
    pub const GOAWAY: u64 = 0x07;
    /// MAX_PUSH_ID (RFC 9114 §7.2.7).
    pub const MAX_PUSH_ID: u64 = 0x0d;
    /// The WebTransport bidirectional stream signal, WT_STREAM (draft-ietf-webtrans-http3 §4.3).
    pub const WEBTRANSPORT_STREAM: u64 = 0x41;

    /// HTTP/2 frame types reserved in HTTP/3; receiving one is H3_FRAME_UNEXPECTED
    /// (RFC 9114 §7.2.8).
    pub fn is_reserved_http2(ty: u64) -> bool {
        matches!(ty, 0x02 | 0x06 | 0x08 | 0x09)
    }
}

/// HTTP/3 SETTINGS identifiers.
pub mod setting {
    /// SETTINGS_QPACK_MAX_TABLE_CAPACITY (RFC 9204 §5); sluice-wt leaves it at 0 (no dynamic table).
    pub const QPACK_MAX_TABLE_CAPACITY: u64 = 0x01;
    /// SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §7.2.4.1).
    pub const MAX_FIELD_SECTION_SIZE: u64 = 0x06;
    /// SETTINGS_QPACK_BLOCKED_STREAMS (RFC 9204 §5).
    pub const QPACK_BLOCKED_STREAMS: u64 = 0x07;
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220 §3).
    pub const ENABLE_CONNECT_PROTOCOL: u64 = 0x08;
    /// SETTINGS_H3_DATAGRAM (RFC 9297 §2.1.1).
    pub const H3_DATAGRAM: u64 = 0x33;
    /// The pre-RFC H3_DATAGRAM code (draft-ietf-masque-h3-datagram-04), still sent by
    /// Chromium and web-transport-quinn.
    pub const H3_DATAGRAM_DRAFT04: u64 = 0xff_d277;
    /// SETTINGS_ENABLE_WEBTRANSPORT of draft-ietf-webtrans-http3-02..05 (Chromium, and
    /// web-transport-quinn for compatibility).
    pub const ENABLE_WEBTRANSPORT_DRAFT02: u64 = 0x2b60_3742;
    /// SETTINGS_WEBTRANSPORT_MAX_SESSIONS of draft-ietf-webtrans-http3-02..06.
    pub const WEBTRANSPORT_MAX_SESSIONS_DRAFT02: u64 = 0x2b60_3743;
    /// SETTINGS_WT_MAX_SESSIONS (draft-ietf-webtrans-http3-07 and later, §9.2); the code
    /// web-transport-quinn (moq peers) and current browsers use.
    pub const WT_MAX_SESSIONS: u64 = 0xc671_706a;
    /// SETTINGS_WT_MAX_SESSIONS as renumbered by draft-ietf-webtrans-http3-13/14; accepted
    /// when received, not sent.
    pub const WT_MAX_SESSIONS_DRAFT13: u64 = 0x14e9_cd29;

    /// HTTP/2 settings identifiers reserved in HTTP/3; receiving one is H3_SETTINGS_ERROR
    /// (RFC 9114 §7.2.4.1).
    pub fn is_reserved_http2(id: u64) -> bool {
        matches!(id, 0x00 | 0x02 | 0x03 | 0x04 | 0x05)
    }
}

/// HTTP/3 error codes (RFC 9114 §8.1) and the WebTransport ones (draft-ietf-webtrans-http3 §9.5).
pub mod error {
    /// H3_NO_ERROR.
    pub const H3_NO_ERROR: u64 = 0x100;
    /// H3_GENERAL_PROTOCOL_ERROR.
    pub const H3_GENERAL_PROTOCOL_ERROR: u64 = 0x101;
    /// H3_INTERNAL_ERROR.
    pub const H3_INTERNAL_ERROR: u64 = 0x102;
    /// H3_STREAM_CREATION_ERROR.
    pub const H3_STREAM_CREATION_ERROR: u64 = 0x103;
    /// H3_CLOSED_CRITICAL_STREAM.
    pub const H3_CLOSED_CRITICAL_STREAM: u64 = 0x104;
    /// H3_FRAME_UNEXPECTED.
    pub const H3_FRAME_UNEXPECTED: u64 = 0x105;
    /// H3_FRAME_ERROR.
    pub const H3_FRAME_ERROR: u64 = 0x106;
    /// H3_EXCESSIVE_LOAD.
    pub const H3_EXCESSIVE_LOAD: u64 = 0x107;
    /// H3_ID_ERROR.
    pub const H3_ID_ERROR: u64 = 0x108;
    /// H3_SETTINGS_ERROR.
    pub const H3_SETTINGS_ERROR: u64 = 0x109;
    /// H3_MISSING_SETTINGS.
    pub const H3_MISSING_SETTINGS: u64 = 0x10a;
    /// H3_REQUEST_REJECTED.
    pub const H3_REQUEST_REJECTED: u64 = 0x10b;
    /// H3_REQUEST_CANCELLED.
    pub const H3_REQUEST_CANCELLED: u64 = 0x10c;
    /// H3_REQUEST_INCOMPLETE.
    pub const H3_REQUEST_INCOMPLETE: u64 = 0x10d;
    /// H3_MESSAGE_ERROR.
    pub const H3_MESSAGE_ERROR: u64 = 0x10e;
    /// H3_DATAGRAM_ERROR (RFC 9297 §2.1).
    pub const H3_DATAGRAM_ERROR: u64 = 0x33;
    /// QPACK_DECOMPRESSION_FAILED (RFC 9204 §6).
    pub const QPACK_DECOMPRESSION_FAILED: u64 = 0x200;
    /// WT_BUFFERED_STREAM_REJECTED (draft-ietf-webtrans-http3 §9.5).
    pub const WT_BUFFERED_STREAM_REJECTED: u64 = 0x3994_bd84;
    /// WT_SESSION_GONE (draft-ietf-webtrans-http3 §9.5).
    pub const WT_SESSION_GONE: u64 = 0x170d_7b68;
    /// WT_INVALID_CAPSULE (draft-ietf-webtrans-http3 §9.5).
    pub const WT_INVALID_CAPSULE: u64 = 0x0d18_9ed4;
}

/// Capsule types (RFC 9297 §3.2, draft-ietf-webtrans-http3 §9.6).
pub mod capsule_type {
    /// WT_CLOSE_SESSION.
    pub const WT_CLOSE_SESSION: u64 = 0x2843;
    /// WT_DRAIN_SESSION.
    pub const WT_DRAIN_SESSION: u64 = 0x78ae;
}

/// First HTTP/3 code of the WT_APPLICATION_ERROR range (draft-ietf-webtrans-http3 §4.4).
pub const WT_APPLICATION_ERROR_FIRST: u64 = 0x52e4_a40f_a8db;
/// Last HTTP/3 code of the WT_APPLICATION_ERROR range.
pub const WT_APPLICATION_ERROR_LAST: u64 = 0x52e5_ac98_3162;

/// A WebTransport application error code (what a stream reset carries for the
/// application) as the HTTP/3 code on the wire: `first + n + n / 0x1e`, which skips the
/// reserved `0x1f * N + 0x21` code points (draft-ietf-webtrans-http3 §4.4).
pub fn app_error_to_h3(code: u32) -> u64 {
    let n = u64::from(code);
    WT_APPLICATION_ERROR_FIRST + n + n / 0x1e
}

/// The inverse of [`app_error_to_h3`]; `None` outside the range or on a reserved code point.
pub fn h3_to_app_error(code: u64) -> Option<u32> {
    if !(WT_APPLICATION_ERROR_FIRST..=WT_APPLICATION_ERROR_LAST).contains(&code) || is_reserved_h3(code) {
        return None;
    }
    let shifted = code - WT_APPLICATION_ERROR_FIRST;
    u32::try_from(shifted - shifted / 0x1f).ok()
}

/// Reserved ("GREASE") code points of the form `0x1f * N + 0x21` (RFC 9114 §7.2.8, §8.1, §11.2).
pub fn is_reserved_h3(value: u64) -> bool {
    value >= 0x21 && (value - 0x21) % 0x1f == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_error_mapping_matches_the_draft_pseudocode() {
        // §4.4: 0 ↔ first, 0xffffffff ↔ last.
        assert_eq!(app_error_to_h3(0), WT_APPLICATION_ERROR_FIRST);
        assert_eq!(app_error_to_h3(u32::MAX), WT_APPLICATION_ERROR_LAST);
        for n in [0u32, 1, 0x1d, 0x1e, 0x1f, 1000, 0xdead_beef, u32::MAX] {
            let h3 = app_error_to_h3(n);
            assert!(!is_reserved_h3(h3), "{n:#x} maps onto a reserved code {h3:#x}");
            assert_eq!(h3_to_app_error(h3), Some(n));
        }
        // A reserved code inside the range maps to nothing.
        let reserved = (WT_APPLICATION_ERROR_FIRST..).find(|c| is_reserved_h3(*c)).unwrap();
        assert_eq!(h3_to_app_error(reserved), None);
        assert_eq!(h3_to_app_error(error::H3_NO_ERROR), None);
    }
}
