//! The STREAM_TYPE header that starts every moq-lite stream (lite-04/05 §STREAM_TYPE,
//! §Bidirectional Streams, §Unidirectional Streams).
//!
//! ```text
//! STREAM_TYPE { Stream Type (i) }
//! ```
//! The same code means different streams by direction (0x1 is Announce on a bidirectional
//! stream and Setup on a unidirectional one), so there is one type per direction.
//!
//! | Dir  | Code | Stream    | Versions |
//! |------|------|-----------|----------|
//! | bidi | 0x1  | Announce  | 04, 05   |
//! | bidi | 0x2  | Subscribe | 04, 05   |
//! | bidi | 0x3  | Fetch     | 04, 05   |
//! | bidi | 0x4  | Probe     | 04, 05   |
//! | bidi | 0x5  | Goaway    | 04, 05   |
//! | bidi | 0x6  | Track     | 05       |
//! | uni  | 0x0  | Group     | 04, 05   |
//! | uni  | 0x1  | Setup     | 05       |
//!
//! Decoding a code the version does not define, including a lite-05 code read in lite-04,
//! gives [`Violation::UnknownStreamType`]: the drafts say such a stream is reset, not fatal
//! (extension probing), and the session makes that call. Encoding a stream type the version
//! does not define is [`Violation::NotInVersion`] (a caller bug).

use bytes::BufMut;

use crate::error::{DecodeResult, EncodeError, Violation};
use crate::reader::Reader;
use crate::version::LiteVersion;
use crate::{Decode, Encode, varint};

/// The kind of a bidirectional moq-lite stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BidiStreamType {
    /// 0x1: ANNOUNCE_INTEREST/REQUEST → ANNOUNCE(_OK/_BROADCAST)*.
    Announce,
    /// 0x2: SUBSCRIBE, SUBSCRIBE_UPDATE* → subscribe responses.
    Subscribe,
    /// 0x3: FETCH → FRAME*.
    Fetch,
    /// 0x4: PROBE* ↔ PROBE*.
    Probe,
    /// 0x5: GOAWAY.
    Goaway,
    /// 0x6 (lite-05 only): TRACK → TRACK_INFO.
    Track,
}

/// The kind of a unidirectional moq-lite stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UniStreamType {
    /// 0x0: GROUP, FRAME*.
    Group,
    /// 0x1 (lite-05 only): SETUP.
    Setup,
}

impl BidiStreamType {
    /// The wire code.
    pub const fn code(self) -> u64 {
        match self {
            BidiStreamType::Announce => 0x1,
            BidiStreamType::Subscribe => 0x2,
            BidiStreamType::Fetch => 0x3,
            BidiStreamType::Probe => 0x4,
            BidiStreamType::Goaway => 0x5,
            BidiStreamType::Track => 0x6,
        }
    }

    /// The stream a code names in `version`, if that version defines it.
    pub const fn from_code(code: u64, version: LiteVersion) -> Option<Self> {
        match (code, version) {
            (0x1, _) => Some(BidiStreamType::Announce),
            (0x2, _) => Some(BidiStreamType::Subscribe),
            (0x3, _) => Some(BidiStreamType::Fetch),
            (0x4, _) => Some(BidiStreamType::Probe),
            (0x5, _) => Some(BidiStreamType::Goaway),
            (0x6, LiteVersion::Lite05) => Some(BidiStreamType::Track),
            _ => None,
        }
    }

    /// True if `version` defines this stream.
    pub const fn exists_in(self, version: LiteVersion) -> bool {
        !matches!((self, version), (BidiStreamType::Track, LiteVersion::Lite04))
    }
}

impl UniStreamType {
    /// The wire code.
    pub const fn code(self) -> u64 {
        match self {
            UniStreamType::Group => 0x0,
            UniStreamType::Setup => 0x1,
        }
    }

    /// The stream a code names in `version`, if that version defines it.
    pub const fn from_code(code: u64, version: LiteVersion) -> Option<Self> {
        match (code, version) {
            (0x0, _) => Some(UniStreamType::Group),
            (0x1, LiteVersion::Lite05) => Some(UniStreamType::Setup),
            _ => None,
        }
    }

    /// True if `version` defines this stream.
    pub const fn exists_in(self, version: LiteVersion) -> bool {
        !matches!((self, version), (UniStreamType::Setup, LiteVersion::Lite04))
    }
}

fn decode_code(r: &mut Reader<'_>) -> DecodeResult<u64> {
    r.quic_varint()
}

impl Decode for BidiStreamType {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, version: LiteVersion) -> DecodeResult<Self> {
        let code = decode_code(r)?;
        BidiStreamType::from_code(code, version).ok_or_else(|| Violation::UnknownStreamType(code).into())
    }
}

impl Encode for BidiStreamType {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, version: LiteVersion) -> Result<(), EncodeError> {
        if !self.exists_in(version) {
            return Err(Violation::NotInVersion { message: "Track stream" }.into());
        }
        varint::put_quic(buf, self.code())
    }
}

impl Decode for UniStreamType {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, version: LiteVersion) -> DecodeResult<Self> {
        let code = decode_code(r)?;
        UniStreamType::from_code(code, version).ok_or_else(|| Violation::UnknownStreamType(code).into())
    }
}

impl Encode for UniStreamType {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, version: LiteVersion) -> Result<(), EncodeError> {
        if !self.exists_in(version) {
            return Err(Violation::NotInVersion { message: "Setup stream" }.into());
        }
        varint::put_quic(buf, self.code())
    }
}
