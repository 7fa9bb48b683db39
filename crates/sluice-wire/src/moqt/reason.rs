//! The Reason Phrase structure (draft-18 §1.4.4): `{ Length (vi64), Value (..) }`, at most
//! 1024 bytes (more is a PROTOCOL_VIOLATION).
//!
//! The draft says the value "is encoded as UTF-8" but gives the receiver no rule for text
//! that is not, and the phrase is diagnostic only; so the bytes are kept as received
//! ([`Bytes`]) rather than turning a bad phrase into a session error. [`ReasonPhrase::to_text`]
//! gives a lossy string for logs.

use std::borrow::Cow;

use bytes::{BufMut, Bytes};

use crate::error::{DecodeError, EncodeError, Violation};
use crate::reader::Reader;
use crate::varint::{self, VarintKind};
use crate::version::MoqtVersion;
use crate::{Decode, Encode};

/// The largest Reason Phrase, in bytes (draft-18 §1.4.4).
pub const MAX_REASON_LEN: u64 = 1024;

/// Diagnostic text attached to an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ReasonPhrase(pub Bytes);

impl ReasonPhrase {
    /// An empty phrase.
    pub const fn empty() -> Self {
        ReasonPhrase(Bytes::new())
    }

    /// The phrase as text, with invalid UTF-8 replaced.
    pub fn to_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }
}

impl From<&'static str> for ReasonPhrase {
    fn from(s: &'static str) -> Self {
        ReasonPhrase(Bytes::from_static(s.as_bytes()))
    }
}

impl Encode for ReasonPhrase {
    type Version = MoqtVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, _version: MoqtVersion) -> Result<(), EncodeError> {
        put_bounded(buf, "reason phrase", &self.0, MAX_REASON_LEN)
    }
}

impl Decode for ReasonPhrase {
    type Version = MoqtVersion;

    fn decode(r: &mut Reader<'_>, _version: MoqtVersion) -> Result<Self, DecodeError> {
        Ok(ReasonPhrase(r.len_prefixed(VarintKind::Vi64, "reason phrase", MAX_REASON_LEN)?))
    }
}

/// Appends a vi64 length and `bytes`, refusing more than `max` bytes (the encoder-side
/// twin of [`Reader::len_prefixed`]).
pub(crate) fn put_bounded<B: BufMut>(
    buf: &mut B,
    field: &'static str,
    bytes: &[u8],
    max: u64,
) -> Result<(), EncodeError> {
    let len = bytes.len() as u64;
    if len > max {
        return Err(Violation::LengthTooLarge { field, claimed: len, max }.into());
    }
    varint::put_vi64(buf, len);
    buf.put_slice(bytes);
    Ok(())
}
