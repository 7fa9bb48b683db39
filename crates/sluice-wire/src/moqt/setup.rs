//! SETUP (type 0x2F00, draft-18 §10.3) and its Setup Options (§10.3.1).
//!
//! ```text
//! SETUP Message { Type (vi64) = 0x2F00, Length (16), Setup Options (..) ... }
//! ```
//! The options are Key-Value-Pairs spanning the whole body. Known options are typed;
//! unknown ones (including GREASE, and draft-19's MAX_FILTER_RANGES / MAX_REQUEST_UPDATES,
//! which draft-18 does not define) are kept as [`SetupOption::Unknown`] and re-encoded
//! unchanged, since receivers must ignore them and must allow them to repeat. A known
//! option other than AUTHORIZATION_TOKEN may not repeat.
//!
//! Role-dependent rules (PATH / AUTHORITY only from a client over native QUIC, DELETE and
//! USE_ALIAS tokens forbidden in SETUP) are for the session layer.

use bytes::Bytes;

use crate::error::{DecodeError, EncodeError, Violation};
use crate::moqt::codes::{MessageType, SetupOptionType};
use crate::moqt::control::ControlBody;
use crate::moqt::kvp::{self, KeyValue, KvValue};
use crate::moqt::token::Token;
use crate::reader::Reader;
use crate::version::MoqtVersion;

/// One Setup Option.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SetupOption {
    /// 0x01 PATH: the URI `path-abempty` [`?query`] (bytes, URI syntax not checked here).
    Path(Bytes),
    /// 0x03 AUTHORIZATION_TOKEN: a Token structure; may repeat.
    AuthorizationToken(Token),
    /// 0x04 MAX_AUTH_TOKEN_CACHE_SIZE: bytes of registered tokens the sender will keep.
    MaxAuthTokenCacheSize(u64),
    /// 0x05 AUTHORITY: the URI authority (bytes).
    Authority(Bytes),
    /// 0x07 MOQT_IMPLEMENTATION: implementation name and version (SHOULD be UTF-8, so kept
    /// as bytes).
    MoqtImplementation(Bytes),
    /// Any other option, kept as received. Its type must not be one of the above.
    Unknown(KeyValue),
}

impl SetupOption {
    /// The option's type.
    pub fn kind(&self) -> SetupOptionType {
        match self {
            SetupOption::Path(_) => SetupOptionType::PATH,
            SetupOption::AuthorizationToken(_) => SetupOptionType::AUTHORIZATION_TOKEN,
            SetupOption::MaxAuthTokenCacheSize(_) => SetupOptionType::MAX_AUTH_TOKEN_CACHE_SIZE,
            SetupOption::Authority(_) => SetupOptionType::AUTHORITY,
            SetupOption::MoqtImplementation(_) => SetupOptionType::MOQT_IMPLEMENTATION,
            SetupOption::Unknown(kv) => SetupOptionType(kv.kind),
        }
    }

    /// True for option types that may appear more than once: AUTHORIZATION_TOKEN and every
    /// unknown type (draft-18 §10.3).
    pub fn repeatable(kind: SetupOptionType) -> bool {
        kind == SetupOptionType::AUTHORIZATION_TOKEN || !kind.is_known()
    }

    /// Interprets one decoded pair.
    pub fn from_pair(kv: KeyValue) -> Result<Self, Violation> {
        let kind = SetupOptionType(kv.kind);
        Ok(match (kind, kv.value) {
            (SetupOptionType::PATH, KvValue::Bytes(b)) => SetupOption::Path(b),
            (SetupOptionType::AUTHORIZATION_TOKEN, KvValue::Bytes(b)) => {
                SetupOption::AuthorizationToken(Token::from_bytes(&b)?)
            }
            (SetupOptionType::MAX_AUTH_TOKEN_CACHE_SIZE, KvValue::Varint(v)) => {
                SetupOption::MaxAuthTokenCacheSize(v)
            }
            (SetupOptionType::AUTHORITY, KvValue::Bytes(b)) => SetupOption::Authority(b),
            (SetupOptionType::MOQT_IMPLEMENTATION, KvValue::Bytes(b)) => SetupOption::MoqtImplementation(b),
            (k, value) if k.is_known() => {
                // Unreachable on decode (the pair's shape follows its type's parity, and
                // every known option has the parity of its shape), kept for completeness.
                let _ = value;
                return Err(Violation::KeyValueParityMismatch { kind: k.0 });
            }
            (_, value) => SetupOption::Unknown(KeyValue { kind: kv.kind, value }),
        })
    }

    /// The pair this option encodes as.
    pub fn to_pair(&self) -> Result<KeyValue, EncodeError> {
        let kind = self.kind().0;
        Ok(match self {
            SetupOption::Path(b) | SetupOption::Authority(b) | SetupOption::MoqtImplementation(b) => {
                KeyValue::bytes(kind, b.clone())
            }
            SetupOption::AuthorizationToken(t) => KeyValue::bytes(kind, t.to_bytes()?),
            SetupOption::MaxAuthTokenCacheSize(v) => KeyValue::varint(kind, *v),
            SetupOption::Unknown(kv) => {
                if SetupOptionType(kv.kind).is_known() {
                    return Err(Violation::InvalidValue {
                        field: "unknown setup option type",
                        value: kv.kind,
                    }
                    .into());
                }
                kv.clone()
            }
        })
    }
}

/// SETUP: the first message on each control stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Setup {
    /// The options in wire order (types non-decreasing).
    pub options: Vec<SetupOption>,
}

impl Setup {
    /// The first option of type `kind`.
    pub fn get(&self, kind: SetupOptionType) -> Option<&SetupOption> {
        self.options.iter().find(|o| o.kind() == kind)
    }

    fn check_repeats(kinds: impl IntoIterator<Item = SetupOptionType>) -> Result<(), Violation> {
        let mut prev = None;
        for kind in kinds {
            if prev == Some(kind) && !SetupOption::repeatable(kind) {
                return Err(Violation::DuplicateSetupOption(kind.0));
            }
            prev = Some(kind);
        }
        Ok(())
    }
}

impl ControlBody for Setup {
    const TYPE: MessageType = MessageType::SETUP;

    fn decode_body(body: &mut Reader<'_>, _version: MoqtVersion) -> Result<Self, DecodeError> {
        let mut options = Vec::new();
        for pair in kvp::decode_pairs(body)? {
            options.push(SetupOption::from_pair(pair)?);
        }
        Setup::check_repeats(options.iter().map(SetupOption::kind))?;
        Ok(Setup { options })
    }

    fn encode_body(&self, buf: &mut Vec<u8>, _version: MoqtVersion) -> Result<(), EncodeError> {
        let pairs = self.options.iter().map(SetupOption::to_pair).collect::<Result<Vec<_>, _>>()?;
        Setup::check_repeats(self.options.iter().map(SetupOption::kind))?;
        kvp::encode_pairs(buf, &pairs)
    }
}
