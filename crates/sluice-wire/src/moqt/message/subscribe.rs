//! Subscriptions: SUBSCRIBE (0x3, draft-18 §10.7), SUBSCRIBE_OK (0x4, §10.8), PUBLISH
//! (0x1D, §10.10), PUBLISH_DONE (0xB, §10.11) and TRACK_STATUS (0xD, §10.14).
//!
//! ```text
//! SUBSCRIBE    { Request ID (vi64), Track Namespace (..), Track Name Length (vi64),
//!                Track Name (..), Number of Parameters (vi64), Parameters (..) ... }
//! SUBSCRIBE_OK { Track Alias (vi64), Number of Parameters (vi64), Parameters (..) ...,
//!                Track Properties (..) }
//! PUBLISH      { Request ID (vi64), Track Namespace (..), Track Name Length (vi64),
//!                Track Name (..), Track Alias (vi64), Number of Parameters (vi64),
//!                Parameters (..) ..., Track Properties (..) }
//! PUBLISH_DONE { Status Code (vi64), Stream Count (vi64), Error Reason (Reason Phrase) }
//! TRACK_STATUS = the SUBSCRIBE layout with its own parameter table
//! ```
//! Track Properties run to the end of the message.

use crate::error::{DecodeError, EncodeError};
use crate::moqt::codes::{MessageType, PublishDoneCode};
use crate::moqt::control::ControlBody;
use crate::moqt::kvp::Properties;
use crate::moqt::namespace::FullTrackName;
use crate::moqt::params::{ParamScope, Parameters};
use crate::moqt::reason::ReasonPhrase;
use crate::reader::Reader;
use crate::varint;
use crate::version::MoqtVersion;
use crate::{Decode, Encode};

/// SUBSCRIBE: ask for a track's newly published objects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Subscribe {
    /// The request's ID.
    pub request_id: u64,
    /// The track.
    pub track: FullTrackName,
    /// Parameters ([`ParamScope::Subscribe`]).
    pub parameters: Parameters,
}

impl ControlBody for Subscribe {
    const TYPE: MessageType = MessageType::SUBSCRIBE;

    fn decode_body(body: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
        let request_id = body.vi64()?;
        let track = FullTrackName::decode(body, version)?;
        let parameters = Parameters::decode(body, ParamScope::Subscribe, version)?;
        Ok(Subscribe { request_id, track, parameters })
    }

    fn encode_body(&self, buf: &mut Vec<u8>, version: MoqtVersion) -> Result<(), EncodeError> {
        varint::put_vi64(buf, self.request_id);
        self.track.encode(buf, version)?;
        self.parameters.encode(buf, ParamScope::Subscribe, version)
    }
}

/// TRACK_STATUS: ask for a track's status without subscribing (same layout as SUBSCRIBE).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TrackStatus {
    /// The request's ID.
    pub request_id: u64,
    /// The track.
    pub track: FullTrackName,
    /// Parameters ([`ParamScope::TrackStatus`]: only AUTHORIZATION_TOKEN in draft-18).
    pub parameters: Parameters,
}

impl ControlBody for TrackStatus {
    const TYPE: MessageType = MessageType::TRACK_STATUS;

    fn decode_body(body: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
        let request_id = body.vi64()?;
        let track = FullTrackName::decode(body, version)?;
        let parameters = Parameters::decode(body, ParamScope::TrackStatus, version)?;
        Ok(TrackStatus { request_id, track, parameters })
    }

    fn encode_body(&self, buf: &mut Vec<u8>, version: MoqtVersion) -> Result<(), EncodeError> {
        varint::put_vi64(buf, self.request_id);
        self.track.encode(buf, version)?;
        self.parameters.encode(buf, ParamScope::TrackStatus, version)
    }
}

/// SUBSCRIBE_OK: the subscription is accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SubscribeOk {
    /// The alias objects of this track carry on data streams and datagrams.
    pub track_alias: u64,
    /// Parameters ([`ParamScope::SubscribeOk`]).
    pub parameters: Parameters,
    /// Track Properties, to the end of the message.
    pub track_properties: Properties,
}

impl ControlBody for SubscribeOk {
    const TYPE: MessageType = MessageType::SUBSCRIBE_OK;

    fn decode_body(body: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
        let track_alias = body.vi64()?;
        let parameters = Parameters::decode(body, ParamScope::SubscribeOk, version)?;
        let track_properties = Properties::decode_rest(body)?;
        Ok(SubscribeOk { track_alias, parameters, track_properties })
    }

    fn encode_body(&self, buf: &mut Vec<u8>, version: MoqtVersion) -> Result<(), EncodeError> {
        varint::put_vi64(buf, self.track_alias);
        self.parameters.encode(buf, ParamScope::SubscribeOk, version)?;
        buf.extend_from_slice(self.track_properties.raw());
        Ok(())
    }
}

/// PUBLISH: the publisher starts a subscription for a track.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Publish {
    /// The request's ID.
    pub request_id: u64,
    /// The track.
    pub track: FullTrackName,
    /// The alias objects of this track carry.
    pub track_alias: u64,
    /// Parameters ([`ParamScope::Publish`]).
    pub parameters: Parameters,
    /// Track Properties, to the end of the message.
    pub track_properties: Properties,
}

impl ControlBody for Publish {
    const TYPE: MessageType = MessageType::PUBLISH;

    fn decode_body(body: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
        let request_id = body.vi64()?;
        let track = FullTrackName::decode(body, version)?;
        let track_alias = body.vi64()?;
        let parameters = Parameters::decode(body, ParamScope::Publish, version)?;
        let track_properties = Properties::decode_rest(body)?;
        Ok(Publish { request_id, track, track_alias, parameters, track_properties })
    }

    fn encode_body(&self, buf: &mut Vec<u8>, version: MoqtVersion) -> Result<(), EncodeError> {
        varint::put_vi64(buf, self.request_id);
        self.track.encode(buf, version)?;
        varint::put_vi64(buf, self.track_alias);
        self.parameters.encode(buf, ParamScope::Publish, version)?;
        buf.extend_from_slice(self.track_properties.raw());
        Ok(())
    }
}

/// PUBLISH_DONE: the publisher has finished a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PublishDone {
    /// Why (unknown codes are kept; they mean INTERNAL_ERROR).
    pub status: PublishDoneCode,
    /// Data streams opened for the subscription (2^62-1 when not known exactly).
    pub stream_count: u64,
    /// Diagnostic text.
    pub reason: ReasonPhrase,
}

impl PublishDone {
    /// The Stream Count a publisher sends when it cannot count exactly (draft-18 §10.11;
    /// the editor's copy after draft-19 changes it to 2^64-1).
    pub const UNKNOWN_STREAM_COUNT: u64 = (1 << 62) - 1;
}

impl ControlBody for PublishDone {
    const TYPE: MessageType = MessageType::PUBLISH_DONE;

    fn decode_body(body: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
        let status = PublishDoneCode(body.vi64()?);
        let stream_count = body.vi64()?;
        let reason = ReasonPhrase::decode(body, version)?;
        Ok(PublishDone { status, stream_count, reason })
    }

    fn encode_body(&self, buf: &mut Vec<u8>, version: MoqtVersion) -> Result<(), EncodeError> {
        varint::put_vi64(buf, self.status.0);
        varint::put_vi64(buf, self.stream_count);
        self.reason.encode(buf, version)
    }
}
