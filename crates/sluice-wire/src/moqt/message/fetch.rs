//! FETCH (0x16, draft-18 §10.12) in its three types, and FETCH_OK (0x18, §10.13).
//!
//! ```text
//! FETCH     { Request ID (vi64), Fetch Type (vi64), [Standalone (Standalone Fetch)],
//!             [Joining (Joining Fetch)], Number of Parameters (vi64), Parameters (..) ... }
//! Standalone Fetch { Track Namespace (..), Track Name Length (vi64), Track Name (..),
//!                    Start Location (Location), End Location (Location) }
//! Joining Fetch    { Joining Request ID (vi64), Joining Start (vi64) }
//! FETCH_OK  { End Of Track (8), End Location (Location), Number of Parameters (vi64),
//!             Parameters (..) ..., Track Properties (..) }
//! ```
//! Fetch Type 0x1 is standalone, 0x2 relative joining, 0x3 absolute joining; any other is a
//! PROTOCOL_VIOLATION. End Of Track is 1 or 0; the draft defines no other value, so any
//! other is rejected as invalid. Range checks that need the track's state (End >= Start,
//! Joining Start within the joined subscription) belong to the session layer.

use bytes::BufMut;

use crate::error::{DecodeError, EncodeError, Violation};
use crate::moqt::codes::MessageType;
use crate::moqt::control::ControlBody;
use crate::moqt::kvp::Properties;
use crate::moqt::location::Location;
use crate::moqt::namespace::FullTrackName;
use crate::moqt::params::{ParamScope, Parameters};
use crate::reader::Reader;
use crate::varint;
use crate::version::MoqtVersion;
use crate::{Decode, Encode};

/// What a FETCH asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FetchKind {
    /// 0x1: a range of a named track, independent of any subscription.
    Standalone {
        /// The track.
        track: FullTrackName,
        /// The first Location.
        start: Location,
        /// The end Location plus one object (Object 0 = the whole group).
        end: Location,
    },
    /// 0x2: the `joining_start` groups before the joined subscription's Joining Location.
    RelativeJoining {
        /// The Request ID of the subscription joined.
        joining_request_id: u64,
        /// How many groups back to start.
        joining_start: u64,
    },
    /// 0x3: from group `joining_start` up to the joined subscription's Joining Location.
    AbsoluteJoining {
        /// The Request ID of the subscription joined.
        joining_request_id: u64,
        /// The first group.
        joining_start: u64,
    },
}

impl FetchKind {
    /// The Fetch Type code point.
    pub const fn fetch_type(&self) -> u64 {
        match self {
            FetchKind::Standalone { .. } => 0x1,
            FetchKind::RelativeJoining { .. } => 0x2,
            FetchKind::AbsoluteJoining { .. } => 0x3,
        }
    }
}

/// FETCH: ask for already published objects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fetch {
    /// The request's ID.
    pub request_id: u64,
    /// Standalone or joining, with its fields.
    pub kind: FetchKind,
    /// Parameters ([`ParamScope::Fetch`]).
    pub parameters: Parameters,
}

impl ControlBody for Fetch {
    const TYPE: MessageType = MessageType::FETCH;

    fn decode_body(body: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
        let request_id = body.vi64()?;
        let fetch_type = body.vi64()?;
        let kind = match fetch_type {
            0x1 => {
                let track = FullTrackName::decode(body, version)?;
                let start = Location::decode(body, version)?;
                let end = Location::decode(body, version)?;
                FetchKind::Standalone { track, start, end }
            }
            0x2 | 0x3 => {
                let joining_request_id = body.vi64()?;
                let joining_start = body.vi64()?;
                if fetch_type == 0x2 {
                    FetchKind::RelativeJoining { joining_request_id, joining_start }
                } else {
                    FetchKind::AbsoluteJoining { joining_request_id, joining_start }
                }
            }
            value => return Err(Violation::InvalidValue { field: "fetch type", value }.into()),
        };
        let parameters = Parameters::decode(body, ParamScope::Fetch, version)?;
        Ok(Fetch { request_id, kind, parameters })
    }

    fn encode_body(&self, buf: &mut Vec<u8>, version: MoqtVersion) -> Result<(), EncodeError> {
        varint::put_vi64(buf, self.request_id);
        varint::put_vi64(buf, self.kind.fetch_type());
        match &self.kind {
            FetchKind::Standalone { track, start, end } => {
                track.encode(buf, version)?;
                start.encode(buf, version)?;
                end.encode(buf, version)?;
            }
            FetchKind::RelativeJoining { joining_request_id, joining_start }
            | FetchKind::AbsoluteJoining { joining_request_id, joining_start } => {
                varint::put_vi64(buf, *joining_request_id);
                varint::put_vi64(buf, *joining_start);
            }
        }
        self.parameters.encode(buf, ParamScope::Fetch, version)
    }
}

/// FETCH_OK: the fetch is accepted and its end is known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FetchOk {
    /// True when the End Location is the final object of the track.
    pub end_of_track: bool,
    /// The end of the range served, plus one object (Object 0 = the whole group).
    pub end_location: Location,
    /// Parameters ([`ParamScope::FetchOk`]: draft-18 allows none here).
    pub parameters: Parameters,
    /// Track Properties, to the end of the message.
    pub track_properties: Properties,
}

impl ControlBody for FetchOk {
    const TYPE: MessageType = MessageType::FETCH_OK;

    fn decode_body(body: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
        let end_of_track = match body.u8()? {
            0 => false,
            1 => true,
            v => return Err(Violation::InvalidValue { field: "end of track", value: v.into() }.into()),
        };
        let end_location = Location::decode(body, version)?;
        let parameters = Parameters::decode(body, ParamScope::FetchOk, version)?;
        let track_properties = Properties::decode_rest(body)?;
        Ok(FetchOk { end_of_track, end_location, parameters, track_properties })
    }

    fn encode_body(&self, buf: &mut Vec<u8>, version: MoqtVersion) -> Result<(), EncodeError> {
        buf.put_u8(u8::from(self.end_of_track));
        self.end_location.encode(buf, version)?;
        self.parameters.encode(buf, ParamScope::FetchOk, version)?;
        buf.extend_from_slice(self.track_properties.raw());
        Ok(())
    }
}
