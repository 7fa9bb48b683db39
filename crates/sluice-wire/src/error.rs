//! Typed codec errors.
//!
//! A decode either needs more bytes ([`DecodeError::Incomplete`]) or the input broke a rule
//! of the draft ([`DecodeError::Invalid`] carrying a [`Violation`] that names the rule). The
//! session layer maps a `Violation` to the draft's error code (see
//! [`crate::moqt::codes`] for MOQT); the codec itself never decides what to do about it.

/// Why a decode did not produce a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ends before the value does; call again with more bytes.
    #[error("incomplete input: more bytes are needed")]
    Incomplete,
    /// The input can never decode: a rule of the wire format is broken.
    #[error("invalid input: {0}")]
    Invalid(#[from] Violation),
}

/// Why a value could not be encoded. Always a caller error, never peer input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The value does not fit the varint encoding of the version (QUIC varints stop at 2^62-1).
    #[error("value {0} does not fit in a varint of this version")]
    VarintTooLarge(u64),
    /// The value breaks a rule the decoder enforces, so the peer would reject it.
    #[error("value would be rejected by the peer: {0}")]
    Invalid(#[from] Violation),
}

/// A rule of the wire format that the input (or a value to encode) breaks.
///
/// Variants are grouped by the part of the codec that raises them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    // ---------------------------------------------------------------- shared framing rules
    /// A length-delimited body ended before all of its fields were read.
    #[error("body ends before its fields do")]
    BodyTooShort,
    /// A length-delimited body has bytes left after its last field.
    #[error("{extra} trailing bytes after the body")]
    TrailingBytes {
        /// How many bytes were left over.
        extra: usize,
    },
    /// A length field inside a bounded body claims more bytes than the body holds.
    #[error("length {claimed} exceeds the {available} bytes available")]
    LengthExceedsBody {
        /// The length the peer wrote.
        claimed: u64,
        /// The bytes actually left in the body.
        available: usize,
    },
    /// A length field is above the maximum this field may have.
    #[error("{field} length {claimed} exceeds the maximum {max}")]
    LengthTooLarge {
        /// Which field.
        field: &'static str,
        /// The length the peer wrote.
        claimed: u64,
        /// The largest allowed value.
        max: u64,
    },
    /// A field that must be UTF-8 is not.
    #[error("{field} is not valid UTF-8")]
    InvalidUtf8 {
        /// Which field.
        field: &'static str,
    },
    /// An enumerated field holds a value the draft does not define.
    #[error("{field} has invalid value {value}")]
    InvalidValue {
        /// Which field.
        field: &'static str,
        /// The value found.
        value: u64,
    },
    /// A stream starts with a type the version does not define.
    #[error("unknown stream type {0:#x}")]
    UnknownStreamType(u64),
    /// A message type the version does not define (or not allowed where it appeared).
    #[error("unknown message type {0:#x}")]
    UnknownMessageType(u64),
    /// A sum of ids or deltas does not fit in the integer range of the field.
    #[error("{field} overflows")]
    Overflow {
        /// Which field.
        field: &'static str,
    },

    // ---------------------------------------------------------------- moq-lite rules

    // ---------------------------------------------------------------- MOQT shared rules
    /// A delta-coded type (Key-Value-Pair or Message Parameter) passes 2^64-1.
    #[error("delta-coded type overflows 64 bits")]
    TypeDeltaOverflow,
    /// Key-Value-Pairs to encode are not in non-decreasing type order.
    #[error("key-value pairs out of type order")]
    KeyValueOutOfOrder,
    /// A Key-Value-Pair value does not have the shape its type's parity demands.
    #[error("key-value type {kind:#x} has a value of the wrong shape")]
    KeyValueParityMismatch {
        /// The pair's type.
        kind: u64,
    },
    // ---------------------------------------------------------------- MOQT control rules
    /// A Track Namespace has more than 32 fields (draft-18 §2.4.1 "Track Naming").
    #[error("track namespace has {count} fields, more than 32")]
    TooManyNamespaceFields {
        /// The field count the peer wrote.
        count: u64,
    },
    /// A Track Namespace Field is empty (draft-18 §2.4.1: each field holds at least one byte).
    #[error("track namespace field of length 0")]
    EmptyNamespaceField,
    /// A Track Namespace is longer than 4096 bytes in total (draft-18 §2.4.1).
    #[error("track namespace of {len} bytes exceeds 4096")]
    TrackNamespaceTooLong {
        /// The total of the field lengths so far.
        len: u64,
    },
    /// A Full Track Name (namespace fields plus name) is longer than 4096 bytes (draft-18 §2.4.1).
    #[error("full track name of {len} bytes exceeds 4096")]
    FullTrackNameTooLong {
        /// The total length.
        len: u64,
    },
    /// A Message Parameter type this version does not define (draft-18 §10.2: unknown
    /// parameters cannot be skipped, the session closes).
    #[error("unknown message parameter type {0:#x}")]
    UnknownParameter(u64),
    /// A Message Parameter appears in a message its definition does not allow
    /// (draft-18 §10.2.1 "Parameter Scope").
    #[error("message parameter {kind:#x} is not allowed in message type {message:#x}")]
    ParameterNotAllowed {
        /// The parameter type.
        kind: u64,
        /// The control message type it appeared in.
        message: u64,
    },
    /// A Message Parameter that may not repeat appears twice (draft-18 §10.2).
    #[error("message parameter {0:#x} repeated")]
    DuplicateParameter(u64),
    /// Message Parameters to encode are not in ascending type order (draft-18 §10.2).
    #[error("message parameters out of ascending type order")]
    ParametersOutOfOrder,
    /// An AUTHORIZATION TOKEN has an Alias Type other than 0..=3 (draft-18 §10.2.2).
    #[error("unknown authorization token alias type {0:#x}")]
    UnknownTokenAliasType(u64),
    /// An AUTHORIZATION TOKEN structure is truncated or has extra bytes (draft-18 §10.2.2:
    /// an undecodable Token closes the session with KEY_VALUE_FORMATTING_ERROR).
    #[error("authorization token structure cannot be decoded")]
    MalformedAuthToken,
    /// A known Setup Option that may not repeat appears twice (draft-18 §10.3).
    #[error("setup option {0:#x} repeated")]
    DuplicateSetupOption(u64),
    /// A control message body is longer than its 16-bit length can say (draft-18 §10).
    #[error("control message body of {len} bytes exceeds 65535")]
    MessageTooLong {
        /// The body length.
        len: usize,
    },
    /// A control message of another type was found where a specific one was expected.
    #[error("expected control message type {expected:#x}, found {found:#x}")]
    UnexpectedMessageType {
        /// The type the caller asked for.
        expected: u64,
        /// The type on the wire.
        found: u64,
    },
    /// A REQUEST_ERROR carries a Redirect exactly when its code is REDIRECT (draft-18 §10.6);
    /// raised by the encoder when the value breaks that.
    #[error("redirect present without REDIRECT code, or REDIRECT without a redirect")]
    RedirectMismatch,
    // ---------------------------------------------------------------- MOQT data rules
}

pub(crate) type DecodeResult<T> = Result<T, DecodeError>;
