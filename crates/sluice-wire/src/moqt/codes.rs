//! Code points of MOQT draft-18: error codes, Setup Option / Message Parameter / Property
//! types and control message types, and which session error code each codec
//! [`Violation`] closes the session with.
//!
//! Every registry is a newtype over `u64` with named constants, so that a value the draft
//! does not name (a later extension, a GREASE value) is kept as it is rather than lost:
//! draft-18 §14 "Grease" says unknown error codes are treated as `INTERNAL_ERROR` of their
//! context but never close the session by themselves. Sources: draft-18 §3.3.3 (stream
//! reset codes), §3.5 (session termination), §10 (message types), §10.2 (parameters),
//! §10.3.1 (setup options), §10.6 (REQUEST_ERROR), §10.11 (PUBLISH_DONE), §12 and §15
//! (properties, IANA tables).

use crate::error::Violation;

/// The GREASE code points of draft-18 §14: `0x7f * N + 0x9D` for N = 0, 1, ... up to the
/// draft's last listed value `0x3fffffffffffffde`.
pub mod grease {
    /// The first GREASE value (N = 0).
    pub const FIRST: u64 = 0x9D;
    /// The step between GREASE values.
    pub const STEP: u64 = 0x7f;
    /// The last GREASE value the draft lists.
    pub const LAST: u64 = 0x3fff_ffff_ffff_ffde;

    /// The `n`th GREASE value, if it is within the draft's range.
    pub const fn value(n: u64) -> Option<u64> {
        match STEP.checked_mul(n) {
            Some(v) => match v.checked_add(FIRST) {
                Some(g) if g <= LAST => Some(g),
                _ => None,
            },
            None => None,
        }
    }

    /// True when `v` is a GREASE value.
    pub const fn is_grease(v: u64) -> bool {
        v >= FIRST && v <= LAST && matches!(v.wrapping_sub(FIRST).checked_rem(STEP), Some(0))
    }
}

macro_rules! code_type {
    ($(#[$doc:meta])* $name:ident { $($(#[$cdoc:meta])* $cname:ident = $val:expr,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u64);

        impl $name {
            $($(#[$cdoc])* pub const $cname: Self = Self($val);)*

            /// Every code point the draft names, in registry order.
            pub const KNOWN: &'static [Self] = &[$(Self::$cname),*];

            /// The draft's name for this value, if it has one.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $(Self::$cname => Some(stringify!($cname)),)*
                    _ => None,
                }
            }

            /// True when the draft names this value.
            pub fn is_known(self) -> bool {
                self.name().is_some()
            }

            /// True when this is a GREASE value (draft-18 §14).
            pub const fn is_grease(self) -> bool {
                grease::is_grease(self.0)
            }
        }

        impl From<u64> for $name {
            fn from(v: u64) -> Self {
                Self(v)
            }
        }

        impl From<$name> for u64 {
            fn from(v: $name) -> u64 {
                v.0
            }
        }
    };
}

code_type! {
    /// Session termination error codes (draft-18 §3.5, §15 "Session Termination Error Codes").
    SessionErrorCode {
        /// The session is closed without an error.
        NO_ERROR = 0x0,
        /// An implementation specific error.
        INTERNAL_ERROR = 0x1,
        /// The client is not authorized to establish a session.
        UNAUTHORIZED = 0x2,
        /// The peer did something the specification disallows.
        PROTOCOL_VIOLATION = 0x3,
        /// A Request ID with the wrong parity or a duplicate.
        INVALID_REQUEST_ID = 0x4,
        /// A Track Alias already in use.
        DUPLICATE_TRACK_ALIAS = 0x5,
        /// A key-value pair (or Token structure) has a formatting error.
        KEY_VALUE_FORMATTING_ERROR = 0x6,
        /// PATH used by a server, over WebTransport, or unsupported.
        INVALID_PATH = 0x8,
        /// PATH does not follow the URI rules.
        MALFORMED_PATH = 0x9,
        /// The peer did not close in time after a GOAWAY.
        GOAWAY_TIMEOUT = 0x10,
        /// The peer did not answer a control message in time.
        CONTROL_MESSAGE_TIMEOUT = 0x11,
        /// The peer did not send expected data stream bytes in time.
        DATA_STREAM_TIMEOUT = 0x12,
        /// Registered tokens exceed MAX_AUTH_TOKEN_CACHE_SIZE.
        AUTH_TOKEN_CACHE_OVERFLOW = 0x13,
        /// A token alias was registered twice.
        DUPLICATE_AUTH_TOKEN_ALIAS = 0x14,
        /// No common version.
        VERSION_NEGOTIATION_FAILED = 0x15,
        /// Invalid token serialization during registration.
        MALFORMED_AUTH_TOKEN = 0x16,
        /// A token alias that is not registered.
        UNKNOWN_AUTH_TOKEN_ALIAS = 0x17,
        /// The authorization token has expired.
        EXPIRED_AUTH_TOKEN = 0x18,
        /// AUTHORITY does not fit this server or context.
        INVALID_AUTHORITY = 0x19,
        /// AUTHORITY is syntactically invalid.
        MALFORMED_AUTHORITY = 0x1A,
    }
}

code_type! {
    /// REQUEST_ERROR codes (draft-18 §10.6, §15 "REQUEST_ERROR Codes").
    RequestErrorCode {
        /// An implementation specific or generic error.
        INTERNAL_ERROR = 0x0,
        /// Not authorized for this request.
        UNAUTHORIZED = 0x1,
        /// Not completed before an implementation timeout.
        TIMEOUT = 0x2,
        /// The request type is not supported.
        NOT_SUPPORTED = 0x3,
        /// Invalid token serialization during registration.
        MALFORMED_AUTH_TOKEN = 0x4,
        /// The authorization token has expired.
        EXPIRED_AUTH_TOKEN = 0x5,
        /// The responder has sent or received a GOAWAY.
        GOING_AWAY = 0x6,
        /// The responder is overloaded.
        EXCESSIVE_LOAD = 0x9,
        /// The track or namespace does not exist.
        DOES_NOT_EXIST = 0x10,
        /// The filter or range cannot be satisfied.
        INVALID_RANGE = 0x11,
        /// A relay detected a malformed track (FETCH).
        MALFORMED_TRACK = 0x12,
        /// A subscription with the same role already exists.
        DUPLICATE_SUBSCRIPTION = 0x19,
        /// The subscriber is not interested (PUBLISH, PUBLISH_NAMESPACE).
        UNINTERESTED = 0x20,
        /// The prefix overlaps another namespace subscription of the same type.
        PREFIX_OVERLAP = 0x30,
        /// The prefix matches more publishers than the relay will enumerate.
        NAMESPACE_TOO_LARGE = 0x31,
        /// A Joining FETCH names no Established subscription.
        INVALID_JOINING_REQUEST_ID = 0x32,
        /// The track carries a Mandatory Track Property the endpoint does not understand.
        UNSUPPORTED_EXTENSION = 0x33,
        /// Retry elsewhere: the REQUEST_ERROR carries a Redirect.
        REDIRECT = 0x34,
    }
}

code_type! {
    /// PUBLISH_DONE status codes (draft-18 §10.11, §15 "PUBLISH_DONE Codes").
    ///
    /// Note: draft-14 had EXPIRED = 0x5 and TOO_FAR_BEHIND = 0x6; draft-18 swaps them.
    PublishDoneCode {
        /// An implementation specific or generic error.
        INTERNAL_ERROR = 0x0,
        /// The subscriber is no longer authorized.
        UNAUTHORIZED = 0x1,
        /// The track is no longer published.
        TRACK_ENDED = 0x2,
        /// The end of the subscription filter was reached.
        SUBSCRIPTION_ENDED = 0x3,
        /// A GOAWAY was issued.
        GOING_AWAY = 0x4,
        /// The subscriber's queue exceeded the publisher's limit.
        TOO_FAR_BEHIND = 0x5,
        /// The EXPIRES time was reached.
        EXPIRED = 0x6,
        /// A REQUEST_UPDATE on this subscription failed.
        UPDATE_FAILED = 0x8,
        /// The publisher is overloaded.
        EXCESSIVE_LOAD = 0x9,
        /// A relay detected a malformed track.
        MALFORMED_TRACK = 0x12,
    }
}

code_type! {
    /// RESET_STREAM / STOP_SENDING codes for every MOQT stream (draft-18 §3.3.3).
    StreamResetCode {
        /// An implementation specific error.
        INTERNAL_ERROR = 0x0,
        /// The stream was cancelled.
        CANCELLED = 0x1,
        /// A delivery timeout was exceeded.
        DELIVERY_TIMEOUT = 0x2,
        /// The session is closing.
        SESSION_CLOSED = 0x3,
        /// Rejected because of a GOAWAY.
        GOING_AWAY = 0x4,
        /// The subscription exceeded the publisher's resource limits.
        TOO_FAR_BEHIND = 0x5,
        /// FETCH: the status of the next object cannot be determined.
        UNKNOWN_OBJECT_STATUS = 0x6,
        /// The authorization token has expired.
        EXPIRED_AUTH_TOKEN = 0x7,
        /// The endpoint is overloaded.
        EXCESSIVE_LOAD = 0x9,
        /// A relay detected a malformed track.
        MALFORMED_TRACK = 0x12,
    }
}

code_type! {
    /// Setup Option types (draft-18 §10.3.1, §15 "Setup Options"). Key-Value-Pair types:
    /// odd types carry bytes, even types a varint.
    ///
    /// draft-19 adds MAX_FILTER_RANGES (0x06) and MAX_REQUEST_UPDATES (0x08); in draft-18
    /// they are unknown options and are kept untouched like any other.
    SetupOptionType {
        /// The URI path (client, native QUIC only). Bytes.
        PATH = 0x01,
        /// An authorization Token structure; may repeat. Bytes.
        AUTHORIZATION_TOKEN = 0x03,
        /// Bytes of registered tokens the sender will store. Varint.
        MAX_AUTH_TOKEN_CACHE_SIZE = 0x04,
        /// The URI authority (client, native QUIC only). Bytes.
        AUTHORITY = 0x05,
        /// Name and version of the implementation. Bytes (SHOULD be UTF-8).
        MOQT_IMPLEMENTATION = 0x07,
    }
}

code_type! {
    /// Message Parameter types (draft-18 §10.2, §15 "Message Parameters").
    ParameterType {
        /// Varint, milliseconds.
        OBJECT_DELIVERY_TIMEOUT = 0x02,
        /// Length-prefixed Token structure; may repeat.
        AUTHORIZATION_TOKEN = 0x03,
        /// Varint, milliseconds.
        RENDEZVOUS_TIMEOUT = 0x04,
        /// Varint, milliseconds.
        SUBGROUP_DELIVERY_TIMEOUT = 0x06,
        /// Varint, milliseconds.
        EXPIRES = 0x08,
        /// Location.
        LARGEST_OBJECT = 0x09,
        /// Varint, milliseconds.
        FILL_TIMEOUT = 0x0A,
        /// uint8, 0 or 1.
        FORWARD = 0x10,
        /// uint8.
        SUBSCRIBER_PRIORITY = 0x20,
        /// Length-prefixed Subscription Filter.
        SUBSCRIPTION_FILTER = 0x21,
        /// uint8, 1 (ascending) or 2 (descending).
        GROUP_ORDER = 0x22,
        /// Varint: largest known group + 1, 0 for none.
        NEW_GROUP_REQUEST = 0x32,
        /// Track Namespace encoding.
        TRACK_NAMESPACE_PREFIX = 0x34,
    }
}

code_type! {
    /// Property types for Track and Object Properties (draft-18 §12, §15 "Properties"),
    /// including the provisional LOC registrations that share the space.
    PropertyType {
        /// Track: varint milliseconds.
        OBJECT_DELIVERY_TIMEOUT = 0x02,
        /// Track: varint milliseconds.
        MAX_CACHE_DURATION = 0x04,
        /// Track: varint milliseconds (the LOC draft registers TIMESTAMP on 0x06 as well).
        SUBGROUP_DELIVERY_TIMEOUT = 0x06,
        /// Track/Object (draft-ietf-moq-loc).
        TIMESCALE = 0x08,
        /// Object (draft-ietf-moq-loc).
        VIDEO_FRAME_MARKING = 0x0A,
        /// Track/Object: nested Key-Value-Pairs.
        IMMUTABLE_PROPERTIES = 0x0B,
        /// Object (draft-ietf-moq-loc).
        AUDIO_LEVEL = 0x0C,
        /// Object (draft-ietf-moq-loc).
        VIDEO_CONFIG = 0x0D,
        /// Track: 0..=255.
        DEFAULT_PUBLISHER_PRIORITY = 0x0E,
        /// Track: 1 ascending, 2 descending.
        DEFAULT_PUBLISHER_GROUP_ORDER = 0x22,
        /// Track: 0 or 1.
        DYNAMIC_GROUPS = 0x30,
        /// Object: varint.
        PRIOR_GROUP_ID_GAP = 0x3C,
        /// Object: varint.
        PRIOR_OBJECT_ID_GAP = 0x3E,
    }
}

impl PropertyType {
    /// The LOC draft's TIMESTAMP, provisionally registered on the same value as
    /// SUBGROUP_DELIVERY_TIMEOUT (draft-18 §15 lists both on 0x06).
    pub const TIMESTAMP: Self = Self(0x06);

    /// Mandatory Track Properties: types 0x4000..=0x7FFF (draft-18 §2.5.1).
    pub const fn is_mandatory(self) -> bool {
        self.0 >= 0x4000 && self.0 <= 0x7FFF
    }

    /// Ranges reserved for application-specific use: 0x38..=0x3F and 0x3800..=0x3FFF
    /// (draft-18 §2.5).
    pub const fn is_application_specific(self) -> bool {
        (self.0 >= 0x38 && self.0 <= 0x3F) || (self.0 >= 0x3800 && self.0 <= 0x3FFF)
    }
}

code_type! {
    /// Control message types (draft-18 §10 table).
    ///
    /// 0x1E is listed in draft-18's table as "PUBLISH_OK" pointing at the REQUEST_OK section,
    /// but the same draft's change log says PUBLISH_OK was removed as a message type and made
    /// a REQUEST_OK alias (#1611), and draft-19 lists 0x1E as reserved; sluice treats 0x1E as
    /// an unknown type.
    MessageType {
        /// REQUEST_UPDATE.
        REQUEST_UPDATE = 0x02,
        /// SUBSCRIBE.
        SUBSCRIBE = 0x03,
        /// SUBSCRIBE_OK.
        SUBSCRIBE_OK = 0x04,
        /// REQUEST_ERROR.
        REQUEST_ERROR = 0x05,
        /// PUBLISH_NAMESPACE.
        PUBLISH_NAMESPACE = 0x06,
        /// REQUEST_OK (also called PUBLISH_OK, REQUEST_UPDATE_OK, TRACK_STATUS_OK, ...).
        REQUEST_OK = 0x07,
        /// NAMESPACE.
        NAMESPACE = 0x08,
        /// PUBLISH_DONE.
        PUBLISH_DONE = 0x0B,
        /// TRACK_STATUS.
        TRACK_STATUS = 0x0D,
        /// NAMESPACE_DONE.
        NAMESPACE_DONE = 0x0E,
        /// PUBLISH_BLOCKED (draft-19 renames it PUBLISH_SKIPPED, same type and layout).
        PUBLISH_BLOCKED = 0x0F,
        /// GOAWAY.
        GOAWAY = 0x10,
        /// FETCH.
        FETCH = 0x16,
        /// FETCH_OK.
        FETCH_OK = 0x18,
        /// PUBLISH.
        PUBLISH = 0x1D,
        /// SUBSCRIBE_NAMESPACE.
        SUBSCRIBE_NAMESPACE = 0x50,
        /// SUBSCRIBE_TRACKS.
        SUBSCRIBE_TRACKS = 0x51,
        /// SETUP (also the control stream's type).
        SETUP = 0x2F00,
    }
}

impl MessageType {
    /// True for the seven message types that may open a request stream (draft-18 §3.3).
    pub fn starts_request(self) -> bool {
        matches!(
            self,
            Self::TRACK_STATUS
                | Self::SUBSCRIBE
                | Self::PUBLISH
                | Self::FETCH
                | Self::PUBLISH_NAMESPACE
                | Self::SUBSCRIBE_NAMESPACE
                | Self::SUBSCRIBE_TRACKS
        )
    }
}

code_type! {
    /// Authorization Token Alias Types (draft-18 §10.2.2, §15).
    TokenAliasType {
        /// Retire an alias.
        DELETE = 0x0,
        /// Register an alias for a type and value.
        REGISTER = 0x1,
        /// Use a registered alias.
        USE_ALIAS = 0x2,
        /// Use a type and value directly.
        USE_VALUE = 0x3,
    }
}

/// The session error code a peer's [`Violation`] closes the session with.
///
/// Almost every rule of the control and data encodings is a `PROTOCOL_VIOLATION`
/// (draft-18 §10 framing, §2.4.1 naming, §10.2 parameters, ...). The exceptions:
/// * a known Key-Value-Pair whose value does not match its type's serialization, and an
///   AUTHORIZATION TOKEN structure that cannot be decoded: `KEY_VALUE_FORMATTING_ERROR`
///   (draft-18 §1.4.3, §10.2.2).
pub fn session_code(v: &Violation) -> SessionErrorCode {
    match v {
        Violation::KeyValueParityMismatch { .. }
        | Violation::UnknownTokenAliasType(_)
        | Violation::MalformedAuthToken => SessionErrorCode::KEY_VALUE_FORMATTING_ERROR,
        _ => SessionErrorCode::PROTOCOL_VIOLATION,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease_formula_matches_the_draft_examples() {
        assert_eq!(grease::value(0), Some(0x9D));
        assert_eq!(grease::value(1), Some(0x11C));
        assert_eq!(grease::value((0x3fff_ffff_ffff_ffde - 0x9D) / 0x7f), Some(0x3fff_ffff_ffff_ffde));
        assert_eq!(grease::value((0x3fff_ffff_ffff_ffde - 0x9D) / 0x7f + 1), None);
        assert_eq!(grease::value(u64::MAX), None);
        assert!(SetupOptionType(0x11C).is_grease());
        assert!(!SetupOptionType(0x11D).is_grease());
        assert!(!SetupOptionType(0x1).is_grease());
    }

    #[test]
    fn names_and_unknown_values() {
        assert_eq!(RequestErrorCode(0x34).name(), Some("REDIRECT"));
        assert_eq!(RequestErrorCode(0x35).name(), None);
        assert_eq!(MessageType(0x1E).name(), None);
        assert!(PropertyType(0x4000).is_mandatory());
        assert!(PropertyType(0x3C).is_application_specific());
    }

    #[test]
    fn violations_map_to_their_session_codes() {
        assert_eq!(
            session_code(&Violation::MalformedAuthToken),
            SessionErrorCode::KEY_VALUE_FORMATTING_ERROR
        );
        assert_eq!(session_code(&Violation::UnknownParameter(1)), SessionErrorCode::PROTOCOL_VIOLATION);
        assert_eq!(session_code(&Violation::EmptyNamespaceField), SessionErrorCode::PROTOCOL_VIOLATION);
    }
}
