//! The messages of the Subscribe stream (bidi 0x2).
//!
//! Subscriber → publisher, `Message Length (i), Body`, same layout in lite-04 and lite-05:
//! ```text
//! SUBSCRIBE         Subscribe ID (i), Broadcast Path (s), Track Name (s), Subscriber Priority (8),
//!                   Subscriber Ordered (8), Subscriber Max Latency (i), Start Group (i), End Group (i)
//! SUBSCRIBE_UPDATE  Subscriber Priority (8), Subscriber Ordered (8), Subscriber Max Latency (i),
//!                   Start Group (i), End Group (i)
//! ```
//! Publisher → subscriber, `Type (i), Message Length (i), Body`, decoded as one
//! [`SubscribeResponse`] by the leading type (unknown type: [`Violation::UnknownMessageType`]):
//!
//! | Type | lite-04 (§SUBSCRIBE_OK, §SUBSCRIBE_DROP)               | lite-05                            |
//! |------|--------------------------------------------------------|------------------------------------|
//! | 0x0  | SUBSCRIBE_OK: priority (8), ordered (8), max latency (i), start (i), end (i) | SUBSCRIBE_OK: Group (i) |
//! | 0x1  | SUBSCRIBE_DROP: start (i), end (i), error code (i)     | SUBSCRIBE_END: Group (i)           |
//! | 0x2  | —                                                      | SUBSCRIBE_DROP: start, end, code   |
//!
//! # Group numbers
//!
//! Start/End Group in SUBSCRIBE, SUBSCRIBE_UPDATE (both versions) and the lite-04
//! SUBSCRIBE_OK are written as "0 = none, else absolute sequence + 1" (lite-04 §SUBSCRIBE,
//! lite-05 §SUBSCRIBE "Group Start"/"Group End"). sluice represents them as `Option<u64>`
//! holding the *real* group sequence: wire 0 ↔ `None` (latest / unbounded / not yet known,
//! depending on the field), wire n > 0 ↔ `Some(n - 1)`. So `Some(g)` can be encoded only
//! for g ≤ 2^62 - 2. Every other group field (lite-05 SUBSCRIBE_OK and SUBSCRIBE_END Group,
//! SUBSCRIBE_DROP start/end in both versions) is a plain absolute sequence, as the drafts
//! stress, and is a plain `u64`.
//!
//! Subscriber/Publisher Ordered is one byte, 0x1 ascending (`true`) or 0x0 descending
//! (`false`); the drafts define no other value, so others are [`Violation::InvalidValue`].

use bytes::BufMut;

use crate::error::{DecodeResult, EncodeError, Violation};
use crate::lite::framing::{
    MAX_NAME_LEN, decode_message, encode_message, encode_typed, get_group_plus_one, get_ordered, get_str,
    put_group_plus_one, put_ordered, put_str, require,
};
use crate::reader::Reader;
use crate::version::LiteVersion;
use crate::{Decode, Encode, varint};

/// SUBSCRIBE: starts a subscription to one track.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subscribe {
    /// Subscribe ID, unique in the session.
    pub id: u64,
    /// Broadcast Path, at most [`MAX_NAME_LEN`] bytes.
    pub broadcast: String,
    /// Track Name, at most [`MAX_NAME_LEN`] bytes.
    pub track: String,
    /// Subscriber Priority (higher = more important).
    pub priority: u8,
    /// Subscriber Ordered: true = ascending (oldest first).
    pub ordered: bool,
    /// Subscriber Max Latency, milliseconds.
    pub max_latency: u64,
    /// First group to deliver; `None` = the latest group.
    pub start: Option<u64>,
    /// Last group to deliver (inclusive); `None` = unbounded.
    pub end: Option<u64>,
}

/// SUBSCRIBE_UPDATE: replaces the subscriber's preferences and range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscribeUpdate {
    /// Subscriber Priority.
    pub priority: u8,
    /// Subscriber Ordered.
    pub ordered: bool,
    /// Subscriber Max Latency, milliseconds.
    pub max_latency: u64,
    /// First group to deliver; `None` = the latest group.
    pub start: Option<u64>,
    /// Last group to deliver (inclusive); `None` = unbounded.
    pub end: Option<u64>,
}

impl Decode for Subscribe {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, _version: LiteVersion) -> DecodeResult<Self> {
        decode_message(r, |b| {
            Ok(Subscribe {
                id: b.quic_varint()?,
                broadcast: get_str(b, "broadcast path", MAX_NAME_LEN)?,
                track: get_str(b, "track name", MAX_NAME_LEN)?,
                priority: b.u8()?,
                ordered: get_ordered(b, "subscriber ordered")?,
                max_latency: b.quic_varint()?,
                start: get_group_plus_one(b)?,
                end: get_group_plus_one(b)?,
            })
        })
    }
}

impl Encode for Subscribe {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, _version: LiteVersion) -> Result<(), EncodeError> {
        encode_message(buf, |out| {
            varint::put_quic(out, self.id)?;
            put_str(out, "broadcast path", &self.broadcast, MAX_NAME_LEN)?;
            put_str(out, "track name", &self.track, MAX_NAME_LEN)?;
            out.put_u8(self.priority);
            put_ordered(out, self.ordered);
            varint::put_quic(out, self.max_latency)?;
            put_group_plus_one(out, "start group", self.start)?;
            put_group_plus_one(out, "end group", self.end)
        })
    }
}

impl Decode for SubscribeUpdate {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, _version: LiteVersion) -> DecodeResult<Self> {
        decode_message(r, |b| {
            Ok(SubscribeUpdate {
                priority: b.u8()?,
                ordered: get_ordered(b, "subscriber ordered")?,
                max_latency: b.quic_varint()?,
                start: get_group_plus_one(b)?,
                end: get_group_plus_one(b)?,
            })
        })
    }
}

impl Encode for SubscribeUpdate {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, _version: LiteVersion) -> Result<(), EncodeError> {
        encode_message(buf, |out| {
            out.put_u8(self.priority);
            put_ordered(out, self.ordered);
            varint::put_quic(out, self.max_latency)?;
            put_group_plus_one(out, "start group", self.start)?;
            put_group_plus_one(out, "end group", self.end)
        })
    }
}

/// lite-04 SUBSCRIBE_OK (type 0x0): the publisher's properties and the resolved range.
/// May be sent more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscribeOkLite04 {
    /// Publisher Priority.
    pub priority: u8,
    /// Publisher Ordered.
    pub ordered: bool,
    /// Publisher Max Latency, milliseconds.
    pub max_latency: u64,
    /// Resolved start group; `None` = not yet known (a later SUBSCRIBE_OK resolves it).
    pub start: Option<u64>,
    /// Resolved end group (inclusive); `None` = unbounded.
    pub end: Option<u64>,
}

/// lite-05 SUBSCRIBE_OK (type 0x0): the resolved absolute start group. Sent at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscribeOk {
    /// The first group that will be delivered (plain absolute sequence).
    pub group: u64,
}

/// lite-05 SUBSCRIBE_END (type 0x1): no group after `group` will be produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscribeEnd {
    /// The last group that may be delivered, inclusive (plain absolute sequence).
    pub group: u64,
}

/// SUBSCRIBE_DROP (lite-04 type 0x1, lite-05 type 0x2): groups that will not be served.
///
/// The codec does not check `start <= end`; the drafts state no rule for a reversed range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscribeDrop {
    /// First dropped group (plain absolute sequence).
    pub start: u64,
    /// Last dropped group, inclusive (plain absolute sequence).
    pub end: u64,
    /// Application error code; 0 = simply unavailable.
    pub error_code: u64,
}

/// Type code of SUBSCRIBE_OK in both versions.
const TYPE_OK: u64 = 0x0;
/// Type code of lite-05 SUBSCRIBE_END.
const TYPE_END_05: u64 = 0x1;

/// Type code of SUBSCRIBE_DROP in `version`.
const fn drop_type(version: LiteVersion) -> u64 {
    match version {
        LiteVersion::Lite04 => 0x1,
        LiteVersion::Lite05 => 0x2,
    }
}

/// Any message the publisher sends on a Subscribe stream, decoded by its leading `Type (i)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscribeResponse {
    /// lite-04 SUBSCRIBE_OK.
    OkLite04(SubscribeOkLite04),
    /// lite-05 SUBSCRIBE_OK.
    Ok(SubscribeOk),
    /// lite-05 SUBSCRIBE_END.
    End(SubscribeEnd),
    /// SUBSCRIBE_DROP (both versions).
    Drop(SubscribeDrop),
}

impl SubscribeOkLite04 {
    fn decode_body(b: &mut Reader<'_>) -> DecodeResult<Self> {
        Ok(SubscribeOkLite04 {
            priority: b.u8()?,
            ordered: get_ordered(b, "publisher ordered")?,
            max_latency: b.quic_varint()?,
            start: get_group_plus_one(b)?,
            end: get_group_plus_one(b)?,
        })
    }

    fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_u8(self.priority);
        put_ordered(out, self.ordered);
        varint::put_quic(out, self.max_latency)?;
        put_group_plus_one(out, "start group", self.start)?;
        put_group_plus_one(out, "end group", self.end)
    }
}

impl SubscribeDrop {
    fn decode_body(b: &mut Reader<'_>) -> DecodeResult<Self> {
        Ok(SubscribeDrop { start: b.quic_varint()?, end: b.quic_varint()?, error_code: b.quic_varint()? })
    }

    fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        varint::put_quic(out, self.start)?;
        varint::put_quic(out, self.end)?;
        varint::put_quic(out, self.error_code)
    }
}

impl SubscribeResponse {
    /// The draft name of this message, for errors.
    fn name(&self) -> &'static str {
        match self {
            SubscribeResponse::OkLite04(_) => "SUBSCRIBE_OK (lite-04 layout)",
            SubscribeResponse::Ok(_) => "SUBSCRIBE_OK (lite-05 layout)",
            SubscribeResponse::End(_) => "SUBSCRIBE_END",
            SubscribeResponse::Drop(_) => "SUBSCRIBE_DROP",
        }
    }

    /// True if `version` defines this message.
    pub fn exists_in(&self, version: LiteVersion) -> bool {
        match self {
            SubscribeResponse::OkLite04(_) => version == LiteVersion::Lite04,
            SubscribeResponse::Ok(_) | SubscribeResponse::End(_) => version == LiteVersion::Lite05,
            SubscribeResponse::Drop(_) => true,
        }
    }
}

impl Decode for SubscribeResponse {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, version: LiteVersion) -> DecodeResult<Self> {
        let kind = r.quic_varint()?;
        match (kind, version) {
            (TYPE_OK, LiteVersion::Lite04) => {
                decode_message(r, SubscribeOkLite04::decode_body).map(SubscribeResponse::OkLite04)
            }
            (TYPE_OK, LiteVersion::Lite05) => {
                decode_message(r, |b| Ok(SubscribeOk { group: b.quic_varint()? })).map(SubscribeResponse::Ok)
            }
            (TYPE_END_05, LiteVersion::Lite05) => {
                decode_message(r, |b| Ok(SubscribeEnd { group: b.quic_varint()? }))
                    .map(SubscribeResponse::End)
            }
            (k, v) if k == drop_type(v) => {
                decode_message(r, SubscribeDrop::decode_body).map(SubscribeResponse::Drop)
            }
            (k, _) => Err(Violation::UnknownMessageType(k).into()),
        }
    }
}

impl Encode for SubscribeResponse {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, version: LiteVersion) -> Result<(), EncodeError> {
        require(self.exists_in(version), self.name())?;
        match self {
            SubscribeResponse::OkLite04(ok) => encode_typed(buf, TYPE_OK, |out| ok.encode_body(out)),
            SubscribeResponse::Ok(ok) => encode_typed(buf, TYPE_OK, |out| varint::put_quic(out, ok.group)),
            SubscribeResponse::End(end) => {
                encode_typed(buf, TYPE_END_05, |out| varint::put_quic(out, end.group))
            }
            SubscribeResponse::Drop(drop) => {
                encode_typed(buf, drop_type(version), |out| drop.encode_body(out))
            }
        }
    }
}

/// Decodes a response that must be of the kind `pick` selects; any other kind of the
/// version is [`Violation::UnknownMessageType`] (it is not allowed where it appeared).
fn decode_one<T>(
    r: &mut Reader<'_>,
    version: LiteVersion,
    name: &'static str,
    present: bool,
    pick: impl FnOnce(SubscribeResponse) -> Option<T>,
) -> DecodeResult<T> {
    require(present, name)?;
    let start = r.clone();
    let response = SubscribeResponse::decode(r, version)?;
    match pick(response) {
        Some(v) => Ok(v),
        None => {
            let mut again = start;
            Err(Violation::UnknownMessageType(again.quic_varint()?).into())
        }
    }
}

macro_rules! single_response {
    ($ty:ty, $variant:ident, $name:literal, $present:expr) => {
        impl Decode for $ty {
            type Version = LiteVersion;

            /// Reads the whole typed message (`Type (i), Message Length (i), Body`).
            fn decode(r: &mut Reader<'_>, version: LiteVersion) -> DecodeResult<Self> {
                let present: fn(LiteVersion) -> bool = $present;
                decode_one(r, version, $name, present(version), |m| match m {
                    SubscribeResponse::$variant(v) => Some(v),
                    _ => None,
                })
            }
        }

        impl Encode for $ty {
            type Version = LiteVersion;

            /// Writes the whole typed message (`Type (i), Message Length (i), Body`).
            fn encode<B: BufMut>(&self, buf: &mut B, version: LiteVersion) -> Result<(), EncodeError> {
                SubscribeResponse::$variant(*self).encode(buf, version)
            }
        }
    };
}

single_response!(SubscribeOkLite04, OkLite04, "SUBSCRIBE_OK (lite-04 layout)", |v| v == LiteVersion::Lite04);
single_response!(SubscribeOk, Ok, "SUBSCRIBE_OK (lite-05 layout)", |v| v == LiteVersion::Lite05);
single_response!(SubscribeEnd, End, "SUBSCRIBE_END", |v| v == LiteVersion::Lite05);
single_response!(SubscribeDrop, Drop, "SUBSCRIBE_DROP", |_| true);
