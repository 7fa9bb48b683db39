//! The messages of the Announce stream (bidi 0x1): broadcast discovery.
//!
//! * lite-04 §ANNOUNCE_INTEREST / lite-05 §ANNOUNCE_REQUEST (same layout, renamed):
//!   `Message Length (i), Broadcast Path Prefix (s), Exclude Hop (i)` → [`AnnounceRequest`].
//! * lite-05 §ANNOUNCE_OK: `Message Length (i), Hop ID (i), Active Count (i)` →
//!   [`AnnounceOk`], lite-05 only.
//! * lite-04 §ANNOUNCE / lite-05 §ANNOUNCE_BROADCAST (same layout, renamed):
//!   `Message Length (i), Announce Status (i), Broadcast Path Suffix (s), Hop Count (i),
//!   Hop ID (i) ...` → [`AnnounceBroadcast`].
//!
//! The wire layout of the request and of the broadcast is identical in both versions; what
//! differs is the meaning of the Hop ID list (see [`AnnounceBroadcast::hops`]). Sequencing
//! rules (ANNOUNCE_OK first, status alternation) belong to the session.

use bytes::BufMut;

use crate::error::{DecodeResult, EncodeError, Violation};
use crate::lite::framing::{
    MAX_MESSAGE_LEN, MAX_NAME_LEN, decode_message, encode_message, get_str, put_str, require,
};
use crate::reader::Reader;
use crate::version::LiteVersion;
use crate::{Decode, Encode, varint};

/// ANNOUNCE_REQUEST (lite-05) / ANNOUNCE_INTEREST (lite-04): the subscriber's interest in
/// every broadcast whose path starts with `prefix` (byte-wise).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AnnounceRequest {
    /// Broadcast Path Prefix, at most [`MAX_NAME_LEN`] bytes.
    pub prefix: String,
    /// Exclude Hop: if non-zero, skip broadcasts whose hop list contains it.
    pub exclude_hop: u64,
}

/// The lite-04 name of [`AnnounceRequest`].
pub type AnnounceInterest = AnnounceRequest;

impl Decode for AnnounceRequest {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, _version: LiteVersion) -> DecodeResult<Self> {
        decode_message(r, |b| {
            Ok(AnnounceRequest {
                prefix: get_str(b, "broadcast path prefix", MAX_NAME_LEN)?,
                exclude_hop: b.quic_varint()?,
            })
        })
    }
}

impl Encode for AnnounceRequest {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, _version: LiteVersion) -> Result<(), EncodeError> {
        encode_message(buf, |out| {
            put_str(out, "broadcast path prefix", &self.prefix, MAX_NAME_LEN)?;
            varint::put_quic(out, self.exclude_hop)
        })
    }
}

/// ANNOUNCE_OK (lite-05 only): the publisher's first message on an Announce stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AnnounceOk {
    /// The publisher's own Hop ID (0 = unknown), the implicit last entry of every
    /// ANNOUNCE_BROADCAST hop list on the stream.
    pub hop_id: u64,
    /// How many `active` broadcasts make up the initial set.
    pub active_count: u64,
}

impl Decode for AnnounceOk {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, version: LiteVersion) -> DecodeResult<Self> {
        require(version == LiteVersion::Lite05, "ANNOUNCE_OK")?;
        decode_message(r, |b| Ok(AnnounceOk { hop_id: b.quic_varint()?, active_count: b.quic_varint()? }))
    }
}

impl Encode for AnnounceOk {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, version: LiteVersion) -> Result<(), EncodeError> {
        require(version == LiteVersion::Lite05, "ANNOUNCE_OK")?;
        encode_message(buf, |out| {
            varint::put_quic(out, self.hop_id)?;
            varint::put_quic(out, self.active_count)
        })
    }
}

/// Announce Status (lite-04 §ANNOUNCE, lite-05 §ANNOUNCE_BROADCAST).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnnounceStatus {
    /// 0: the path is no longer available.
    Ended,
    /// 1: the path is (now) available; in lite-05 a repeated `Active` replaces the prior one.
    Active,
}

impl AnnounceStatus {
    /// The wire value.
    pub const fn code(self) -> u64 {
        match self {
            AnnounceStatus::Ended => 0,
            AnnounceStatus::Active => 1,
        }
    }
}

/// ANNOUNCE_BROADCAST (lite-05) / ANNOUNCE (lite-04): a change in a broadcast's availability.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AnnounceBroadcast {
    /// Active or ended.
    pub status: AnnounceStatus,
    /// Broadcast Path Suffix (appended to the request's prefix), at most [`MAX_NAME_LEN`] bytes.
    pub suffix: String,
    /// The Hop IDs, origin first (Hop Count is their number; 0 entries = unknown path).
    ///
    /// lite-04: the list includes the sending relay's own Hop ID (each relay appends its
    /// own). lite-05: it does NOT include the responding publisher's Hop ID, which is sent
    /// once in [`AnnounceOk::hop_id`]; the full path is `hops ++ [AnnounceOk::hop_id]`
    /// (see [`AnnounceBroadcast::full_path`]).
    pub hops: Vec<u64>,
}

/// The lite-04 name of [`AnnounceBroadcast`].
pub type Announce = AnnounceBroadcast;

impl AnnounceBroadcast {
    /// lite-05 §ANNOUNCE_OK: the full relay path, the hop list followed by the publisher's
    /// own Hop ID from the stream's ANNOUNCE_OK. Its length is Hop Count + 1.
    pub fn full_path(&self, ok: &AnnounceOk) -> Vec<u64> {
        let mut path = self.hops.clone();
        path.push(ok.hop_id);
        path
    }
}

impl Decode for AnnounceBroadcast {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, _version: LiteVersion) -> DecodeResult<Self> {
        decode_message(r, |b| {
            let status = match b.quic_varint()? {
                0 => AnnounceStatus::Ended,
                1 => AnnounceStatus::Active,
                value => return Err(Violation::InvalidValue { field: "announce status", value }.into()),
            };
            let suffix = get_str(b, "broadcast path suffix", MAX_NAME_LEN)?;
            let count = b.quic_varint()?;
            // Each Hop ID takes at least one byte: a count past the body's end is wrong at once.
            b.check_len("hop count", count, MAX_MESSAGE_LEN)?;
            let mut hops = Vec::new();
            for _ in 0..count {
                hops.push(b.quic_varint()?);
            }
            Ok(AnnounceBroadcast { status, suffix, hops })
        })
    }
}

impl Encode for AnnounceBroadcast {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, _version: LiteVersion) -> Result<(), EncodeError> {
        encode_message(buf, |out| {
            varint::put_quic(out, self.status.code())?;
            put_str(out, "broadcast path suffix", &self.suffix, MAX_NAME_LEN)?;
            varint::put_quic(out, self.hops.len() as u64)?;
            for hop in &self.hops {
                varint::put_quic(out, *hop)?;
            }
            Ok(())
        })
    }
}
