//! PROBE, the message of the Probe stream (bidi 0x4) in both directions
//! (lite-04 §PROBE, lite-05 §PROBE).
//!
//! ```text
//! PROBE { Message Length (i), Bitrate (i), RTT (i) }
//! ```
//! RTT is present in both lite-04 (its changelog: "Added RTT to PROBE message") and lite-05.

use bytes::BufMut;

use crate::error::{DecodeResult, EncodeError};
use crate::lite::framing::{decode_message, encode_message};
use crate::reader::Reader;
use crate::version::LiteVersion;
use crate::{Decode, Encode, varint};

/// PROBE: a target bitrate (from the subscriber) or an estimate (from the publisher).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Probe {
    /// Bits per second; 0 = unknown.
    pub bitrate: u64,
    /// Smoothed RTT in milliseconds; 0 = unknown.
    pub rtt: u64,
}

impl Decode for Probe {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, _version: LiteVersion) -> DecodeResult<Self> {
        decode_message(r, |b| Ok(Probe { bitrate: b.quic_varint()?, rtt: b.quic_varint()? }))
    }
}

impl Encode for Probe {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, _version: LiteVersion) -> Result<(), EncodeError> {
        encode_message(buf, |out| {
            varint::put_quic(out, self.bitrate)?;
            varint::put_quic(out, self.rtt)
        })
    }
}
