//! The lite-05 QUIC datagram: a whole single-frame group (lite-05 §Datagrams). lite-04 has
//! no datagrams.
//!
//! ```text
//! DATAGRAM Body { Subscribe ID (i), Group Sequence (i), Timestamp (i), Payload (..) }
//! ```
//! There is no type and no length: the payload runs to the end of the datagram (the
//! draft writes `Payload (b)` but its text says "extending to the end of the datagram").
//! The Timestamp is absolute (not a delta, not zigzag), in the track's timescale.
//!
//! Decode from a reader spanning exactly one datagram, normally [`Reader::bounded`]: the
//! payload is everything after the header (a zero-copy slice), and a header cut short is
//! [`Violation::BodyTooShort`].
//!
//! # Size limit
//!
//! The whole body MUST NOT exceed [`MAX_DATAGRAM_LEN`] (1200) bytes. Encoding a larger one
//! is refused. Decoding a larger one is [`Violation::DatagramTooLarge`] without reading it:
//! the draft says a receiver MUST *silently drop* it, so the session should discard the
//! datagram on that error rather than treat it as a protocol violation.

use bytes::{BufMut, Bytes};

use crate::error::{DecodeResult, EncodeError, Violation};
use crate::lite::framing::require;
use crate::reader::Reader;
use crate::version::LiteVersion;
use crate::{Decode, Encode, varint};

/// The largest datagram body, header included, in bytes.
pub const MAX_DATAGRAM_LEN: usize = 1200;

/// A lite-05 datagram: one group holding one frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Datagram {
    /// The Subscribe ID of an active subscription (unknown ones are dropped silently).
    pub subscribe_id: u64,
    /// The group's absolute sequence number.
    pub group: u64,
    /// The frame's absolute timestamp, in the track's timescale.
    pub timestamp: u64,
    /// The frame payload.
    pub payload: Bytes,
}

impl Decode for Datagram {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, version: LiteVersion) -> DecodeResult<Self> {
        require(version == LiteVersion::Lite05, "DATAGRAM")?;
        let len = r.remaining();
        if len > MAX_DATAGRAM_LEN {
            return Err(Violation::DatagramTooLarge { len, max: MAX_DATAGRAM_LEN }.into());
        }
        Ok(Datagram {
            subscribe_id: r.quic_varint()?,
            group: r.quic_varint()?,
            timestamp: r.quic_varint()?,
            payload: r.rest(),
        })
    }
}

impl Encode for Datagram {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, version: LiteVersion) -> Result<(), EncodeError> {
        require(version == LiteVersion::Lite05, "DATAGRAM")?;
        let mut header = Vec::with_capacity(24);
        varint::put_quic(&mut header, self.subscribe_id)?;
        varint::put_quic(&mut header, self.group)?;
        varint::put_quic(&mut header, self.timestamp)?;
        let len = header.len().saturating_add(self.payload.len());
        if len > MAX_DATAGRAM_LEN {
            return Err(Violation::DatagramTooLarge { len, max: MAX_DATAGRAM_LEN }.into());
        }
        buf.put_slice(&header);
        buf.put_slice(&self.payload);
        Ok(())
    }
}
