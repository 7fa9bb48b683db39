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
    /// A moq-lite message (or stream kind, on encode) that the requested version does not
    /// define, such as SETUP in lite-04 or SUBSCRIBE_END in lite-04 (lite-05 §Appendix A).
    #[error("{message} does not exist in this moq-lite version")]
    NotInVersion {
        /// The draft's name of the message or field.
        message: &'static str,
    },
    /// A lite-05 SETUP carries the same Parameter ID twice (lite-05 §SETUP: "MUST NOT appear
    /// more than once", PROTOCOL_VIOLATION).
    #[error("setup parameter {id:#x} appears more than once")]
    DuplicateSetupParameter {
        /// The repeated Parameter ID.
        id: u64,
    },
    /// A lite-05 SETUP Path parameter is empty or does not begin with `/`
    /// (lite-05 §Path Parameter, PROTOCOL_VIOLATION).
    #[error("setup path parameter is empty or does not begin with '/'")]
    InvalidSetupPath,
    /// A lite-05 FRAME to encode lacks its Timestamp Delta (lite-05 §FRAME: every frame has one).
    #[error("a lite-05 FRAME needs a timestamp delta")]
    MissingTimestamp,
    /// A lite-05 datagram body is larger than 1200 bytes (lite-05 §Datagrams: the sender MUST
    /// NOT send it and the receiver MUST silently drop it).
    #[error("datagram of {len} bytes exceeds the {max}-byte limit")]
    DatagramTooLarge {
        /// The datagram body's size.
        len: usize,
        /// The limit (1200).
        max: usize,
    },

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
    /// A SUBGROUP_HEADER type breaks the `0b0XX1XXXX` form or uses the reserved
    /// SUBGROUP_ID_MODE 0b11 (draft-18 §"Subgroup Header").
    #[error("invalid SUBGROUP_HEADER type {value:#x}: {reason}")]
    InvalidSubgroupType {
        /// The type found.
        value: u64,
        /// Which bit rule it breaks.
        reason: &'static str,
    },
    /// An OBJECT_DATAGRAM type breaks the `0b00X0XXXX` form or sets STATUS with
    /// END_OF_GROUP (draft-18 §"Object Datagram").
    #[error("invalid OBJECT_DATAGRAM type {value:#x}: {reason}")]
    InvalidDatagramType {
        /// The type found.
        value: u64,
        /// Which bit rule it breaks.
        reason: &'static str,
    },
    /// A datagram starts with a type draft-18 does not define (§"Data Streams and Datagrams").
    #[error("unknown datagram type {0:#x}")]
    UnknownDatagramType(u64),
    /// Fetch Serialization Flags of 128 or more that are not an End of Range marker
    /// (draft-18 §"Fetch Header").
    #[error("invalid fetch serialization flags {0:#x}")]
    InvalidFetchFlags(u64),
    /// A fetch object uses a flag that refers to a prior object's field when there is no
    /// prior value (first object, or only End of Range markers before it).
    #[error("fetch object refers to the prior {field} but there is none")]
    FetchMissingPrior {
        /// Which prior field it referred to.
        field: &'static str,
    },
    /// In a Descending fetch, the prior Group ID minus (Group ID Delta + 1) is below zero.
    #[error("fetch group id goes below zero")]
    FetchGroupIdUnderflow,
    /// A fetch object to encode moves to a group that the group order and the delta coding
    /// cannot express (a group delta always moves strictly forward in the fetch's order).
    #[error("fetch group {group} cannot follow prior group {prior} in this group order")]
    FetchGroupOutOfOrder {
        /// The prior object's group.
        prior: u64,
        /// The group to encode.
        group: u64,
    },
    /// A fetch object to encode has a smaller Object ID than the prior one in the same group
    /// (the Object ID Delta is unsigned).
    #[error("fetch object id {object_id} is below the prior object id {prior} in the same group")]
    FetchObjectIdBackwards {
        /// The prior object id.
        prior: u64,
        /// The object id to encode.
        object_id: u64,
    },
    /// A subgroup object to encode does not have a larger Object ID than the previous one
    /// on the stream (Object ID = previous + Delta + 1).
    #[error("subgroup object id {object_id} does not follow previous id {prev}")]
    SubgroupObjectIdNotIncreasing {
        /// The previous object id on the stream.
        prev: u64,
        /// The object id to encode.
        object_id: u64,
    },
    /// An object with a status other than Normal has properties (draft-18 §"Object Properties").
    #[error("object with status other than Normal has properties")]
    PropertiesOnNonNormalObject,
    /// An object to encode has a status other than Normal and a payload (draft-18
    /// §"Object Status": such objects MUST have an empty payload).
    #[error("object with status other than Normal has a payload")]
    PayloadOnNonNormalObject,
    /// An OBJECT_DATAGRAM sets the PROPERTIES bit with a Properties Length of 0.
    #[error("datagram PROPERTIES bit set with empty properties")]
    EmptyDatagramProperties,
    /// A subgroup object to encode has properties but its SUBGROUP_HEADER type says objects
    /// carry none.
    #[error("subgroup header type has no PROPERTIES bit but the object has properties")]
    PropertiesNotAllowedBySubgroupType,
}

pub(crate) type DecodeResult<T> = Result<T, DecodeError>;
