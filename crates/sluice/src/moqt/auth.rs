//! The peer's authorization-token alias cache (draft-18 §10.2.2, §10.3.1).
//!
//! Every AUTHORIZATION_TOKEN the peer sends (in SETUP or in a request / REQUEST_UPDATE)
//! is checked against the alias rules: registering a registered alias closes the session
//! with DUPLICATE_AUTH_TOKEN_ALIAS; using or deleting an unregistered alias closes it with
//! UNKNOWN_AUTH_TOKEN_ALIAS (the draft lists that code only as a session error); a
//! registration that would take the cache past our MAX_AUTH_TOKEN_CACHE_SIZE
//! (`Config::max_auth_token_cache`, entry = 16 + value length) closes it with
//! AUTH_TOKEN_CACHE_OVERFLOW — except in SETUP, where it is treated as USE_VALUE. A server
//! receiving DELETE or USE_ALIAS in SETUP closes with PROTOCOL_VIOLATION (checked by the
//! engine's `apply_tokens`, which knows the role).
//! The cache is therefore bounded by the Config value. Token values are not surfaced to
//! the application yet (the API has no authorization hook); only the sizes are kept.

use std::collections::HashMap;

use sluice_wire::moqt::codes::SessionErrorCode;
use sluice_wire::moqt::token::Token;

/// Registered aliases → their size in the cache.
#[derive(Debug, Default)]
pub(super) struct TokenCache {
    entries: HashMap<u64, u64>,
    bytes: u64,
}

impl TokenCache {
    /// Applies one token; `Err` is the session error it causes.
    pub(super) fn apply(
        &mut self,
        token: &Token,
        limit: u64,
        in_setup: bool,
    ) -> Result<(), SessionErrorCode> {
        match token {
            Token::Register { alias, value, .. } => {
                if self.entries.contains_key(alias) {
                    return Err(SessionErrorCode::DUPLICATE_AUTH_TOKEN_ALIAS);
                }
                let size = 16u64.saturating_add(value.len() as u64);
                if self.bytes.saturating_add(size) > limit {
                    return if in_setup { Ok(()) } else { Err(SessionErrorCode::AUTH_TOKEN_CACHE_OVERFLOW) };
                }
                self.bytes = self.bytes.saturating_add(size);
                self.entries.insert(*alias, size);
                Ok(())
            }
            Token::Delete { alias } => match self.entries.remove(alias) {
                Some(size) => {
                    self.bytes = self.bytes.saturating_sub(size);
                    Ok(())
                }
                None => Err(SessionErrorCode::UNKNOWN_AUTH_TOKEN_ALIAS),
            },
            Token::UseAlias { alias } => {
                if self.entries.contains_key(alias) {
                    Ok(())
                } else {
                    Err(SessionErrorCode::UNKNOWN_AUTH_TOKEN_ALIAS)
                }
            }
            Token::UseValue { .. } => Ok(()),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }
}
