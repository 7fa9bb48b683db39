//! GOAWAY (type 0x10, draft-18 §10.4).
//!
//! ```text
//! GOAWAY Message { New Session URI Length (vi64), New Session URI (..), Timeout (vi64),
//!                  [Request ID (vi64)] }
//! ```
//! The URI is at most 8192 bytes (more is a PROTOCOL_VIOLATION). The Request ID is present
//! only on the control stream; since the draft marks it optional without a flag, it is
//! present exactly when bytes remain after Timeout. draft-19 drops the Request ID again.
//! Who may send a non-empty URI (servers only) is checked by the session layer.

use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::moqt::codes::MessageType;
use crate::moqt::control::ControlBody;
use crate::moqt::reason::put_bounded;
use crate::reader::Reader;
use crate::varint::{self, VarintKind};
use crate::version::MoqtVersion;

/// The longest New Session URI, in bytes (draft-18 §10.4).
pub const MAX_URI_LEN: u64 = 8192;

/// GOAWAY: the sender will close the session (or, on a request stream, this request) soon.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct GoAway {
    /// Where to reconnect; empty = the current URI.
    pub new_session_uri: Bytes,
    /// Milliseconds the sender waits for graceful closure (0 = no specific timeout).
    pub timeout: u64,
    /// Control stream only: the smallest peer Request ID that may not have been processed.
    pub request_id: Option<u64>,
}

impl ControlBody for GoAway {
    const TYPE: MessageType = MessageType::GOAWAY;

    fn decode_body(body: &mut Reader<'_>, _version: MoqtVersion) -> Result<Self, DecodeError> {
        let new_session_uri = body.len_prefixed(VarintKind::Vi64, "new session uri", MAX_URI_LEN)?;
        let timeout = body.vi64()?;
        let request_id = if body.is_empty() { None } else { Some(body.vi64()?) };
        Ok(GoAway { new_session_uri, timeout, request_id })
    }

    fn encode_body(&self, buf: &mut Vec<u8>, _version: MoqtVersion) -> Result<(), EncodeError> {
        put_bounded(buf, "new session uri", &self.new_session_uri, MAX_URI_LEN)?;
        varint::put_vi64(buf, self.timeout);
        if let Some(id) = self.request_id {
            varint::put_vi64(buf, id);
        }
        Ok(())
    }
}
