//! GOAWAY, the message of the Goaway stream (bidi 0x5) (lite-04 §GOAWAY, lite-05 §GOAWAY).
//!
//! ```text
//! GOAWAY { Message Length (i), New Session URI (s) }
//! ```
//! An empty URI means "no redirect". Validating the URI against local policy is the
//! session's job; the codec only bounds it ([`MAX_URI_LEN`]) and checks it is UTF-8.

use bytes::BufMut;

use crate::error::{DecodeResult, EncodeError};
use crate::lite::framing::{MAX_URI_LEN, decode_message, encode_message, get_str, put_str};
use crate::reader::Reader;
use crate::version::LiteVersion;
use crate::{Decode, Encode};

/// GOAWAY: graceful shutdown, optionally redirecting to a new session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Goaway {
    /// New Session URI; empty = no redirect. At most [`MAX_URI_LEN`] bytes.
    pub uri: String,
}

impl Decode for Goaway {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, _version: LiteVersion) -> DecodeResult<Self> {
        decode_message(r, |b| Ok(Goaway { uri: get_str(b, "new session uri", MAX_URI_LEN)? }))
    }
}

impl Encode for Goaway {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, _version: LiteVersion) -> Result<(), EncodeError> {
        encode_message(buf, |out| put_str(out, "new session uri", &self.uri, MAX_URI_LEN))
    }
}
