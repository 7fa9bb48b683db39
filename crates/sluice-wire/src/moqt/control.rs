//! Control message framing and the [`ControlMessage`] enum (draft-18 §10).
//!
//! ```text
//! MOQT Control Message { Message Type (vi64), Message Length (16), Message Payload (..) }
//! ```
//! Every message on the control streams and the request streams has this frame. The type
//! is checked as soon as it is read (an unknown type closes the session; there is no need
//! to wait for its body), then the 16-bit length bounds the body: a body that ends before
//! its fields do, or has bytes left after them, is a PROTOCOL_VIOLATION
//! ([`Violation::BodyTooShort`], [`Violation::TrailingBytes`]).
//!
//! Each message struct implements [`ControlBody`] (its type and body codec) and, through
//! it, [`Encode`]/[`Decode`] of the whole frame; [`ControlMessage`] decodes whichever
//! message comes next.

use bytes::BufMut;

use crate::error::{DecodeError, EncodeError, Violation};
use crate::moqt::codes::MessageType;
use crate::moqt::message::{
    Fetch, FetchOk, GoAway, Namespace, NamespaceDone, Publish, PublishBlocked, PublishDone, PublishNamespace,
    RequestError, RequestOk, RequestUpdate, Subscribe, SubscribeNamespace, SubscribeOk, SubscribeTracks,
    TrackStatus,
};
use crate::moqt::setup::Setup;
use crate::reader::Reader;
use crate::varint;
use crate::version::MoqtVersion;
use crate::{Decode, Encode};

/// The largest control message body: its length is a u16 (draft-18 §10).
pub const MAX_BODY_LEN: usize = 65_535;

/// The body codec of one control message type.
pub trait ControlBody: Sized {
    /// The message's type.
    const TYPE: MessageType;

    /// Reads the body from the bounded reader over exactly the message payload. The caller
    /// checks that the body is consumed exactly.
    fn decode_body(body: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError>;

    /// Appends the body.
    fn encode_body(&self, buf: &mut Vec<u8>, version: MoqtVersion) -> Result<(), EncodeError>;
}

/// Reads `Length (16)` and the body it announces, decoding it with `f` and requiring the
/// body to be consumed exactly.
fn framed_body<T>(
    r: &mut Reader<'_>,
    f: impl FnOnce(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    let len = r.u16()?;
    let mut body = r.body(usize::from(len))?;
    let value = f(&mut body)?;
    body.finish()?;
    Ok(value)
}

/// Decodes a whole frame that must be of type `M`.
pub fn decode_framed<M: ControlBody>(r: &mut Reader<'_>, version: MoqtVersion) -> Result<M, DecodeError> {
    let found = r.vi64()?;
    if found != M::TYPE.0 {
        return Err(Violation::UnexpectedMessageType { expected: M::TYPE.0, found }.into());
    }
    framed_body(r, |body| M::decode_body(body, version))
}

/// Encodes a whole frame of `m`: type, 16-bit length, body.
pub fn encode_framed<M: ControlBody, B: BufMut>(
    m: &M,
    buf: &mut B,
    version: MoqtVersion,
) -> Result<(), EncodeError> {
    // Most bodies are well under 128 bytes: one allocation instead of a chain of regrowths.
    let mut body = Vec::with_capacity(128);
    m.encode_body(&mut body, version)?;
    let len = u16::try_from(body.len()).map_err(|_| Violation::MessageTooLong { len: body.len() })?;
    varint::put_vi64(buf, M::TYPE.0);
    buf.put_u16(len);
    buf.put_slice(&body);
    Ok(())
}

/// Appends a whole frame of `m` to `out` in one pass: type, a 16-bit length placeholder,
/// the body written in place, then the length patched. The same bytes as
/// [`encode_framed`] without its scratch body buffer; on error `out` is left as it was.
pub fn encode_framed_into_vec<M: ControlBody>(
    m: &M,
    out: &mut Vec<u8>,
    version: MoqtVersion,
) -> Result<(), EncodeError> {
    let start = out.len();
    // Most frames are well under 128 bytes: at most one growth of the caller's buffer.
    out.reserve(128);
    varint::put_vi64(out, M::TYPE.0);
    let len_at = out.len();
    out.extend_from_slice(&[0, 0]);
    let body_at = out.len();
    if let Err(e) = m.encode_body(out, version) {
        out.truncate(start);
        return Err(e);
    }
    let body_len = out.len().saturating_sub(body_at);
    let Ok(len) = u16::try_from(body_len) else {
        out.truncate(start);
        return Err(Violation::MessageTooLong { len: body_len }.into());
    };
    if let Some([hi, lo]) = out.get_mut(len_at..body_at) {
        [*hi, *lo] = len.to_be_bytes();
    }
    Ok(())
}

/// Implements [`Encode`] and [`Decode`] of the whole frame for a [`ControlBody`].
macro_rules! framed_codec {
    ($($t:ty),* $(,)?) => {$(
        impl Encode for $t {
            type Version = MoqtVersion;

            fn encode<B: BufMut>(&self, buf: &mut B, version: MoqtVersion) -> Result<(), EncodeError> {
                encode_framed(self, buf, version)
            }

            fn encode_into_vec(&self, out: &mut Vec<u8>, version: MoqtVersion) -> Result<(), EncodeError> {
                encode_framed_into_vec(self, out, version)
            }
        }

        impl Decode for $t {
            type Version = MoqtVersion;

            fn decode(r: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
                decode_framed(r, version)
            }
        }
    )*};
}

framed_codec!(
    Setup,
    GoAway,
    RequestOk,
    RequestError,
    Subscribe,
    SubscribeOk,
    RequestUpdate,
    Publish,
    PublishDone,
    Fetch,
    FetchOk,
    TrackStatus,
    PublishNamespace,
    Namespace,
    NamespaceDone,
    SubscribeNamespace,
    SubscribeTracks,
    PublishBlocked,
);

/// Any draft-18 control message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(clippy::large_enum_variant)]
pub enum ControlMessage {
    /// SETUP (0x2F00).
    Setup(Setup),
    /// GOAWAY (0x10).
    GoAway(GoAway),
    /// REQUEST_OK (0x7).
    RequestOk(RequestOk),
    /// REQUEST_ERROR (0x5).
    RequestError(RequestError),
    /// SUBSCRIBE (0x3).
    Subscribe(Subscribe),
    /// SUBSCRIBE_OK (0x4).
    SubscribeOk(SubscribeOk),
    /// REQUEST_UPDATE (0x2).
    RequestUpdate(RequestUpdate),
    /// PUBLISH (0x1D).
    Publish(Publish),
    /// PUBLISH_DONE (0xB).
    PublishDone(PublishDone),
    /// FETCH (0x16).
    Fetch(Fetch),
    /// FETCH_OK (0x18).
    FetchOk(FetchOk),
    /// TRACK_STATUS (0xD).
    TrackStatus(TrackStatus),
    /// PUBLISH_NAMESPACE (0x6).
    PublishNamespace(PublishNamespace),
    /// NAMESPACE (0x8).
    Namespace(Namespace),
    /// NAMESPACE_DONE (0xE).
    NamespaceDone(NamespaceDone),
    /// SUBSCRIBE_NAMESPACE (0x50).
    SubscribeNamespace(SubscribeNamespace),
    /// SUBSCRIBE_TRACKS (0x51).
    SubscribeTracks(SubscribeTracks),
    /// PUBLISH_BLOCKED (0xF).
    PublishBlocked(PublishBlocked),
}

/// Applies `$body` to the message inside every variant.
macro_rules! each_variant {
    ($self:expr, $m:ident => $body:expr) => {
        match $self {
            ControlMessage::Setup($m) => $body,
            ControlMessage::GoAway($m) => $body,
            ControlMessage::RequestOk($m) => $body,
            ControlMessage::RequestError($m) => $body,
            ControlMessage::Subscribe($m) => $body,
            ControlMessage::SubscribeOk($m) => $body,
            ControlMessage::RequestUpdate($m) => $body,
            ControlMessage::Publish($m) => $body,
            ControlMessage::PublishDone($m) => $body,
            ControlMessage::Fetch($m) => $body,
            ControlMessage::FetchOk($m) => $body,
            ControlMessage::TrackStatus($m) => $body,
            ControlMessage::PublishNamespace($m) => $body,
            ControlMessage::Namespace($m) => $body,
            ControlMessage::NamespaceDone($m) => $body,
            ControlMessage::SubscribeNamespace($m) => $body,
            ControlMessage::SubscribeTracks($m) => $body,
            ControlMessage::PublishBlocked($m) => $body,
        }
    };
}

macro_rules! from_impls {
    ($($variant:ident),* $(,)?) => {$(
        impl From<$variant> for ControlMessage {
            fn from(m: $variant) -> Self {
                ControlMessage::$variant(m)
            }
        }
    )*};
}

from_impls!(
    Setup,
    GoAway,
    RequestOk,
    RequestError,
    Subscribe,
    SubscribeOk,
    RequestUpdate,
    Publish,
    PublishDone,
    Fetch,
    FetchOk,
    TrackStatus,
    PublishNamespace,
    Namespace,
    NamespaceDone,
    SubscribeNamespace,
    SubscribeTracks,
    PublishBlocked,
);

fn type_of<M: ControlBody>(_: &M) -> MessageType {
    M::TYPE
}

impl ControlMessage {
    /// The message's type.
    pub fn message_type(&self) -> MessageType {
        each_variant!(self, m => type_of(m))
    }
}

impl Encode for ControlMessage {
    type Version = MoqtVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, version: MoqtVersion) -> Result<(), EncodeError> {
        each_variant!(self, m => encode_framed(m, buf, version))
    }

    fn encode_into_vec(&self, out: &mut Vec<u8>, version: MoqtVersion) -> Result<(), EncodeError> {
        each_variant!(self, m => encode_framed_into_vec(m, out, version))
    }
}

impl Decode for ControlMessage {
    type Version = MoqtVersion;

    fn decode(r: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
        // Later drafts get their own type tables here.
        match version {
            MoqtVersion::Draft18 => {}
        }
        let kind = MessageType(r.vi64()?);
        macro_rules! body {
            ($t:ident) => {
                framed_body(r, |b| <$t as ControlBody>::decode_body(b, version)).map(ControlMessage::$t)
            };
        }
        match kind {
            MessageType::SETUP => body!(Setup),
            MessageType::GOAWAY => body!(GoAway),
            MessageType::REQUEST_OK => body!(RequestOk),
            MessageType::REQUEST_ERROR => body!(RequestError),
            MessageType::SUBSCRIBE => body!(Subscribe),
            MessageType::SUBSCRIBE_OK => body!(SubscribeOk),
            MessageType::REQUEST_UPDATE => body!(RequestUpdate),
            MessageType::PUBLISH => body!(Publish),
            MessageType::PUBLISH_DONE => body!(PublishDone),
            MessageType::FETCH => body!(Fetch),
            MessageType::FETCH_OK => body!(FetchOk),
            MessageType::TRACK_STATUS => body!(TrackStatus),
            MessageType::PUBLISH_NAMESPACE => body!(PublishNamespace),
            MessageType::NAMESPACE => body!(Namespace),
            MessageType::NAMESPACE_DONE => body!(NamespaceDone),
            MessageType::SUBSCRIBE_NAMESPACE => body!(SubscribeNamespace),
            MessageType::SUBSCRIBE_TRACKS => body!(SubscribeTracks),
            MessageType::PUBLISH_BLOCKED => body!(PublishBlocked),
            other => Err(Violation::UnknownMessageType(other.0).into()),
        }
    }
}
