//! [`Config`]: every limit sluice-wt applies to what a peer sends, with defaults.

/// Limits on peer input. Each violation gives the code named on its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Largest HEADERS frame payload and decoded field section (RFC 9114 §4.2.2 size), also
    /// sent as SETTINGS_MAX_FIELD_SECTION_SIZE. Over it: the request stream is reset with
    /// H3_EXCESSIVE_LOAD. Default 16 KiB.
    pub max_field_section_size: u64,
    /// Most identifiers in the peer's SETTINGS frame (GREASE included); over it:
    /// H3_EXCESSIVE_LOAD on the connection. Default 64.
    pub max_settings: usize,
    /// Most WebTransport streams held while their session is not yet established
    /// (draft-ietf-webtrans-http3 §4.6); a stream over it is refused with
    /// WT_BUFFERED_STREAM_REJECTED. Default 16.
    pub max_buffered_streams: usize,
    /// Most bytes held per such stream; over it, the same refusal. Default 64 KiB.
    pub max_buffered_bytes: usize,
    /// Longest WT_CLOSE_SESSION message accepted (draft-ietf-webtrans-http3 §6: at most 1024
    /// bytes); a longer capsule closes the connection with WT_INVALID_CAPSULE. Default 1024.
    pub max_close_message: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_field_section_size: 16 * 1024,
            max_settings: 64,
            max_buffered_streams: 16,
            max_buffered_bytes: 64 * 1024,
            max_close_message: 1024,
        }
    }
}
