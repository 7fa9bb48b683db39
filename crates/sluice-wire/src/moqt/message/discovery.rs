//! Namespace discovery (draft-18 §6): PUBLISH_NAMESPACE (0x6, §10.15), NAMESPACE (0x8,
//! §10.16), NAMESPACE_DONE (0xE, §10.17), SUBSCRIBE_NAMESPACE (0x50, §10.18),
//! SUBSCRIBE_TRACKS (0x51, §10.19) and PUBLISH_BLOCKED (0xF, §10.20).
//!
//! ```text
//! PUBLISH_NAMESPACE   { Request ID (vi64), Track Namespace (..), Number of Parameters (vi64), Parameters .. }
//! SUBSCRIBE_NAMESPACE { Request ID (vi64), Track Namespace Prefix (..), Number of Parameters (vi64), Parameters .. }
//! SUBSCRIBE_TRACKS    { Request ID (vi64), Track Namespace Prefix (..), Number of Parameters (vi64), Parameters .. }
//! NAMESPACE           { Track Namespace Suffix (..) }
//! NAMESPACE_DONE      { Track Namespace Suffix (..) }
//! PUBLISH_BLOCKED     { Track Namespace Suffix (..), Track Name Length (vi64), Track Name (..) }
//! ```
//! draft-18 writes NAMESPACE and NAMESPACE_DONE's type as `(i)`, a leftover of the QUIC
//! varint era: like every other type it is a vi64 here. draft-19 renames PUBLISH_BLOCKED to
//! PUBLISH_SKIPPED with the same type and layout.

use crate::error::{DecodeError, EncodeError};
use crate::moqt::codes::MessageType;
use crate::moqt::control::ControlBody;
use crate::moqt::namespace::{FullTrackName, TrackNamespace};
use crate::moqt::params::{ParamScope, Parameters};
use crate::reader::Reader;
use crate::varint;
use crate::version::MoqtVersion;
use crate::{Decode, Encode};

/// Defines a `{ Request ID, Track Namespace, Parameters }` request message.
macro_rules! namespace_request {
    ($(#[$doc:meta])* $name:ident, $ty:expr, $scope:expr, $ns_field:ident, $ns_doc:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
        pub struct $name {
            /// The request's ID.
            pub request_id: u64,
            #[doc = $ns_doc]
            pub $ns_field: TrackNamespace,
            /// Parameters.
            pub parameters: Parameters,
        }

        impl ControlBody for $name {
            const TYPE: MessageType = $ty;

            fn decode_body(body: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
                let request_id = body.vi64()?;
                let $ns_field = TrackNamespace::decode(body, version)?;
                let parameters = Parameters::decode(body, $scope, version)?;
                Ok($name { request_id, $ns_field, parameters })
            }

            fn encode_body(&self, buf: &mut Vec<u8>, version: MoqtVersion) -> Result<(), EncodeError> {
                varint::put_vi64(buf, self.request_id);
                self.$ns_field.encode(buf, version)?;
                self.parameters.encode(buf, $scope, version)
            }
        }
    };
}

namespace_request!(
    /// PUBLISH_NAMESPACE: the sender has tracks in this namespace.
    PublishNamespace,
    MessageType::PUBLISH_NAMESPACE,
    ParamScope::PublishNamespace,
    namespace,
    "The namespace advertised."
);
namespace_request!(
    /// SUBSCRIBE_NAMESPACE: ask for NAMESPACE / NAMESPACE_DONE under a prefix.
    SubscribeNamespace,
    MessageType::SUBSCRIBE_NAMESPACE,
    ParamScope::SubscribeNamespace,
    prefix,
    "The namespace prefix (0 to 32 fields)."
);
namespace_request!(
    /// SUBSCRIBE_TRACKS: ask for PUBLISH of every track under a prefix.
    SubscribeTracks,
    MessageType::SUBSCRIBE_TRACKS,
    ParamScope::SubscribeTracks,
    prefix,
    "The namespace prefix (0 to 32 fields)."
);

/// Defines a `{ Track Namespace Suffix }` message.
macro_rules! namespace_suffix {
    ($(#[$doc:meta])* $name:ident, $ty:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
        pub struct $name {
            /// The namespace after the SUBSCRIBE_NAMESPACE prefix.
            pub suffix: TrackNamespace,
        }

        impl ControlBody for $name {
            const TYPE: MessageType = $ty;

            fn decode_body(body: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
                Ok($name { suffix: TrackNamespace::decode(body, version)? })
            }

            fn encode_body(&self, buf: &mut Vec<u8>, version: MoqtVersion) -> Result<(), EncodeError> {
                self.suffix.encode(buf, version)
            }
        }
    };
}

namespace_suffix!(
    /// NAMESPACE: a namespace under the prefix is now published.
    Namespace,
    MessageType::NAMESPACE
);
namespace_suffix!(
    /// NAMESPACE_DONE: a namespace under the prefix is no longer published.
    NamespaceDone,
    MessageType::NAMESPACE_DONE
);

/// PUBLISH_BLOCKED: the publisher cannot send PUBLISH for a track matching a
/// SUBSCRIBE_TRACKS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PublishBlocked {
    /// The namespace suffix (after the SUBSCRIBE_TRACKS prefix) and the track name.
    pub track: FullTrackName,
}

impl ControlBody for PublishBlocked {
    const TYPE: MessageType = MessageType::PUBLISH_BLOCKED;

    fn decode_body(body: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
        Ok(PublishBlocked { track: FullTrackName::decode(body, version)? })
    }

    fn encode_body(&self, buf: &mut Vec<u8>, version: MoqtVersion) -> Result<(), EncodeError> {
        self.track.encode(buf, version)
    }
}
