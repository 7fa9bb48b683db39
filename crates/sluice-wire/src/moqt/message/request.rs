//! Request outcomes and updates: REQUEST_OK (0x7, draft-18 §10.5), REQUEST_ERROR (0x5,
//! §10.6, with the Redirect structure of §10.6.1) and REQUEST_UPDATE (0x2, §10.9).
//!
//! ```text
//! REQUEST_OK     { Number of Parameters (vi64), Parameters (..) ..., Track Properties (..) }
//! REQUEST_ERROR  { Error Code (vi64), Retry Interval (vi64), Error Reason (Reason Phrase),
//!                  [Redirect (Redirect)] }            -- Redirect iff Error Code == REDIRECT
//! Redirect       { Connect URI Length (vi64), Connect URI (..), Track Namespace (..),
//!                  Track Name Length (vi64), Track Name (..) }
//! REQUEST_UPDATE { Request ID (vi64), Number of Parameters (vi64), Parameters (..) ... }
//! ```
//! REQUEST_OK answers several requests (its aliases PUBLISH_OK, REQUEST_UPDATE_OK,
//! TRACK_STATUS_OK, SUBSCRIBE_NAMESPACE_OK, PUBLISH_NAMESPACE_OK); the codec does not know
//! which, so parameters are checked against the union of those uses and Track Properties
//! (non-empty only in TRACK_STATUS_OK) are kept for the session layer to judge.

use bytes::Bytes;

use crate::error::{DecodeError, EncodeError, Violation};
use crate::moqt::codes::{MessageType, RequestErrorCode};
use crate::moqt::control::ControlBody;
use crate::moqt::kvp::Properties;
use crate::moqt::namespace::FullTrackName;
use crate::moqt::params::{ParamScope, Parameters};
use crate::moqt::reason::{ReasonPhrase, put_bounded};
use crate::reader::Reader;
use crate::varint::{self, VarintKind};
use crate::version::MoqtVersion;
use crate::{Decode, Encode};

/// The longest Connect URI. draft-18 gives no limit of its own; the message body (65535)
/// bounds it.
pub const MAX_CONNECT_URI_LEN: u64 = 65_535;

/// REQUEST_OK: a request (or update) succeeded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RequestOk {
    /// Parameters (checked against [`ParamScope::RequestOk`]`(None)`).
    pub parameters: Parameters,
    /// Track Properties, to the end of the message (only TRACK_STATUS_OK may carry any).
    pub track_properties: Properties,
}

impl ControlBody for RequestOk {
    const TYPE: MessageType = MessageType::REQUEST_OK;

    fn decode_body(body: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
        let parameters = Parameters::decode(body, ParamScope::RequestOk(None), version)?;
        let track_properties = Properties::decode_rest(body)?;
        Ok(RequestOk { parameters, track_properties })
    }

    fn encode_body(&self, buf: &mut Vec<u8>, version: MoqtVersion) -> Result<(), EncodeError> {
        self.parameters.encode(buf, ParamScope::RequestOk(None), version)?;
        buf.extend_from_slice(self.track_properties.raw());
        Ok(())
    }
}

/// Where to retry a request (draft-18 §10.6.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Redirect {
    /// The URI to connect to; empty = the current session's URI.
    pub connect_uri: Bytes,
    /// The Full Track Name to request; empty namespace and name = the original one.
    pub track: FullTrackName,
}

impl Encode for Redirect {
    type Version = MoqtVersion;

    fn encode<B: bytes::BufMut>(&self, buf: &mut B, version: MoqtVersion) -> Result<(), EncodeError> {
        put_bounded(buf, "connect uri", &self.connect_uri, MAX_CONNECT_URI_LEN)?;
        self.track.encode(buf, version)
    }
}

impl Decode for Redirect {
    type Version = MoqtVersion;

    fn decode(r: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
        let connect_uri = r.len_prefixed(VarintKind::Vi64, "connect uri", MAX_CONNECT_URI_LEN)?;
        let track = FullTrackName::decode(r, version)?;
        Ok(Redirect { connect_uri, track })
    }
}

/// REQUEST_ERROR: a request (or update) failed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestError {
    /// Why (unknown codes are kept; they mean INTERNAL_ERROR).
    pub code: RequestErrorCode,
    /// Minimum milliseconds before retrying, plus one; 0 = do not retry.
    pub retry_interval: u64,
    /// Diagnostic text.
    pub reason: ReasonPhrase,
    /// Present exactly when `code` is [`RequestErrorCode::REDIRECT`].
    pub redirect: Option<Redirect>,
}

impl ControlBody for RequestError {
    const TYPE: MessageType = MessageType::REQUEST_ERROR;

    fn decode_body(body: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
        let code = RequestErrorCode(body.vi64()?);
        let retry_interval = body.vi64()?;
        let reason = ReasonPhrase::decode(body, version)?;
        let redirect =
            if code == RequestErrorCode::REDIRECT { Some(Redirect::decode(body, version)?) } else { None };
        Ok(RequestError { code, retry_interval, reason, redirect })
    }

    fn encode_body(&self, buf: &mut Vec<u8>, version: MoqtVersion) -> Result<(), EncodeError> {
        if (self.code == RequestErrorCode::REDIRECT) != self.redirect.is_some() {
            return Err(Violation::RedirectMismatch.into());
        }
        varint::put_vi64(buf, self.code.0);
        varint::put_vi64(buf, self.retry_interval);
        self.reason.encode(buf, version)?;
        if let Some(redirect) = &self.redirect {
            redirect.encode(buf, version)?;
        }
        Ok(())
    }
}

/// REQUEST_UPDATE: change the parameters of the request on this stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RequestUpdate {
    /// A new Request ID (updates consume one).
    pub request_id: u64,
    /// Parameters to change (checked against [`ParamScope::RequestUpdate`]`(None)`).
    pub parameters: Parameters,
}

impl ControlBody for RequestUpdate {
    const TYPE: MessageType = MessageType::REQUEST_UPDATE;

    fn decode_body(body: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
        let request_id = body.vi64()?;
        let parameters = Parameters::decode(body, ParamScope::RequestUpdate(None), version)?;
        Ok(RequestUpdate { request_id, parameters })
    }

    fn encode_body(&self, buf: &mut Vec<u8>, version: MoqtVersion) -> Result<(), EncodeError> {
        varint::put_vi64(buf, self.request_id);
        self.parameters.encode(buf, ParamScope::RequestUpdate(None), version)
    }
}
