//! sluice-wire: the codec layer of sluice.
//!
//! Typed values for every message, stream header, object and datagram of the wire versions
//! sluice speaks, each with [`Encode`] and [`Decode`]. This crate knows nothing of sessions,
//! streams or time: it turns bytes into values and values into bytes, and nothing else.
//!
//! * [`lite`]: moq-lite-04 and moq-lite-05 (QUIC varints, length-prefixed messages).
//! * [`moqt`]: IETF MOQT draft-18 (vi64 varints, u16-framed control messages, subgroup,
//!   fetch and datagram data).
//!
//! # Decoding model
//!
//! Decoders are *restartable*: the caller keeps the bytes of a stream that have not been
//! consumed yet, wraps them in a [`Reader`], and calls `decode`. The result is a value (and
//! [`Reader::position`] says how many bytes it used), [`DecodeError::Incomplete`] (feed more
//! bytes and call again from the same start), or [`DecodeError::Invalid`] naming the rule the
//! peer broke. Decoders never panic, never read past their input, never allocate in
//! proportion to a length the peer claims before those bytes are present, and hand out
//! byte fields and payloads as [`bytes::Bytes`] slices of the input (no copies).
//!
//! Encoders refuse to produce what the decoders would reject (for example a namespace of 33
//! fields), so a sluice peer is never the one who breaks a rule.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod error;
pub mod header_bytes;
pub mod reader;
pub mod varint;
pub mod version;

pub mod lite;
pub mod moqt;

#[cfg(feature = "fuzzing")]
pub mod fuzz;

pub use error::{DecodeError, EncodeError, Violation};
pub use header_bytes::HeaderBytes;
pub use reader::Reader;
pub use varint::VarintKind;
pub use version::{LiteVersion, MoqtVersion, Version};

/// A value that can be written to the wire in a given protocol version.
pub trait Encode {
    /// The versions of the family this value belongs to.
    type Version: Copy;

    /// Appends the encoding of `self` to `buf`.
    ///
    /// On error nothing useful has been written: callers encode into a scratch buffer or
    /// discard `buf` (encoding errors are caller bugs, never peer input).
    fn encode<B: bytes::BufMut>(&self, buf: &mut B, version: Self::Version) -> Result<(), EncodeError>;

    /// Appends the encoding of `self` to a `Vec`: the same bytes as [`Encode::encode`].
    ///
    /// Types whose generic encoding needs a scratch buffer write in place here instead: a
    /// control message's length precedes its body, so the generic path encodes the body
    /// aside and copies it, while this one leaves a length placeholder and patches it.
    /// Those types leave `out` as it was on error.
    fn encode_into_vec(&self, out: &mut Vec<u8>, version: Self::Version) -> Result<(), EncodeError> {
        self.encode(out, version)
    }

    /// Convenience: encodes into a fresh `Vec`.
    fn encode_to_vec(&self, version: Self::Version) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode_into_vec(&mut out, version)?;
        Ok(out)
    }
}

/// A value that can be read from the wire in a given protocol version.
pub trait Decode: Sized {
    /// The versions of the family this value belongs to.
    type Version: Copy;

    /// Reads one value from `r`, advancing it past the bytes used.
    ///
    /// On `Err(Incomplete)` the reader's position is unspecified: restart from the same
    /// bytes once more have arrived.
    fn decode(r: &mut Reader<'_>, version: Self::Version) -> Result<Self, DecodeError>;

    /// Convenience: decodes one value that must span all of `bytes` exactly.
    fn decode_exact(bytes: &bytes::Bytes, version: Self::Version) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let value = Self::decode(&mut r, version)?;
        r.finish()?;
        Ok(value)
    }
}
