//! The AUTHORIZATION TOKEN structure (draft-18 §10.2.2), carried by the AUTHORIZATION_TOKEN
//! Message Parameter (0x03) and Setup Option (0x03, §10.3.1.4).
//!
//! ```text
//! Token { Alias Type (vi64), [Token Alias (vi64)], [Token Type (vi64)], [Token Value (..)] }
//! ```
//! Which optional fields are present follows the Alias Type: DELETE and USE_ALIAS carry
//! only an alias, REGISTER an alias, type and value, USE_VALUE a type and value. The value
//! runs to the end of the enclosing length. A structure that cannot be decoded closes the
//! session with KEY_VALUE_FORMATTING_ERROR (see [`crate::moqt::codes::session_code`]).
//!
//! Alias bookkeeping (registration, cache size, DELETE/USE_ALIAS forbidden in a server's
//! received SETUP) is session state and lives above this codec.

use bytes::{BufMut, Bytes};

use crate::error::{EncodeError, Violation};
use crate::moqt::codes::TokenAliasType;
use crate::reader::Reader;
use crate::varint;

/// The largest encoded Token: both carriers bound it by 65535 bytes (a Key-Value-Pair value,
/// or a control message body).
pub const MAX_TOKEN_LEN: u64 = 65_535;

/// One authorization token, or a reference to a registered one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Token {
    /// Retire `alias` (Alias Type 0x0).
    Delete {
        /// The alias to retire.
        alias: u64,
    },
    /// Register `alias` for a token type and value, and use it (Alias Type 0x1).
    Register {
        /// The alias to register.
        alias: u64,
        /// The token type (MOQT Auth Token Type registry; 0 = out-of-band).
        token_type: u64,
        /// The token payload.
        value: Bytes,
    },
    /// Use the token registered as `alias` (Alias Type 0x2).
    UseAlias {
        /// The registered alias.
        alias: u64,
    },
    /// Use a token given in full, without registering it (Alias Type 0x3).
    UseValue {
        /// The token type.
        token_type: u64,
        /// The token payload.
        value: Bytes,
    },
}

impl Token {
    /// The Alias Type code point of this token.
    pub fn alias_type(&self) -> TokenAliasType {
        match self {
            Token::Delete { .. } => TokenAliasType::DELETE,
            Token::Register { .. } => TokenAliasType::REGISTER,
            Token::UseAlias { .. } => TokenAliasType::USE_ALIAS,
            Token::UseValue { .. } => TokenAliasType::USE_VALUE,
        }
    }

    /// Decodes a Token spanning all of `raw`.
    pub fn from_bytes(raw: &Bytes) -> Result<Token, Violation> {
        let mut r = Reader::bounded(raw);
        let malformed = |_| Violation::MalformedAuthToken;
        let alias_type = r.vi64().map_err(malformed)?;
        let token = match TokenAliasType(alias_type) {
            TokenAliasType::DELETE => Token::Delete { alias: r.vi64().map_err(malformed)? },
            TokenAliasType::USE_ALIAS => Token::UseAlias { alias: r.vi64().map_err(malformed)? },
            TokenAliasType::REGISTER => {
                let alias = r.vi64().map_err(malformed)?;
                let token_type = r.vi64().map_err(malformed)?;
                Token::Register { alias, token_type, value: r.rest() }
            }
            TokenAliasType::USE_VALUE => {
                let token_type = r.vi64().map_err(malformed)?;
                Token::UseValue { token_type, value: r.rest() }
            }
            _ => return Err(Violation::UnknownTokenAliasType(alias_type)),
        };
        if !r.is_empty() {
            return Err(Violation::MalformedAuthToken);
        }
        Ok(token)
    }

    /// The encoded structure (without any outer length).
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        varint::put_vi64(&mut out, self.alias_type().0);
        match self {
            Token::Delete { alias } | Token::UseAlias { alias } => varint::put_vi64(&mut out, *alias),
            Token::Register { alias, token_type, value } => {
                varint::put_vi64(&mut out, *alias);
                varint::put_vi64(&mut out, *token_type);
                out.put_slice(value);
            }
            Token::UseValue { token_type, value } => {
                varint::put_vi64(&mut out, *token_type);
                out.put_slice(value);
            }
        }
        let len = out.len() as u64;
        if len > MAX_TOKEN_LEN {
            return Err(Violation::LengthTooLarge {
                field: "authorization token",
                claimed: len,
                max: MAX_TOKEN_LEN,
            }
            .into());
        }
        Ok(out)
    }
}
