//! Authorization-token alias caches (draft-18 §10.2.2, §10.3.1): the peer's
//! ([`TokenCache`]) and ours as the peer holds it ([`SentTokens`]).
//!
//! Receiving: every AUTHORIZATION_TOKEN the peer sends (in SETUP or in a request /
//! REQUEST_UPDATE) is checked against the alias rules: registering a registered alias
//! closes the session with DUPLICATE_AUTH_TOKEN_ALIAS; using or deleting an unregistered
//! alias closes it with UNKNOWN_AUTH_TOKEN_ALIAS (the draft lists that code only as a
//! session error); a registration that would take the cache past our
//! MAX_AUTH_TOKEN_CACHE_SIZE (`Config::max_auth_token_cache`, entry = 16 + value length)
//! closes it with AUTH_TOKEN_CACHE_OVERFLOW — except in SETUP, where it is treated as
//! USE_VALUE. A server receiving DELETE or USE_ALIAS in SETUP closes with
//! PROTOCOL_VIOLATION (checked by the engine's `apply_tokens`, which knows the role). The
//! cache keeps a copy of each registered value (so a USE_ALIAS resolves to it for
//! `Event::Authorization`) and is bounded by the Config value.
//!
//! Sending: [`SentTokens`] mirrors what the peer's cache holds of our registrations and
//! refuses a token list before anything is sent (see [`crate::authorize`] for the rules).
//! Our SETUP carries no tokens, so every registration is made by a request.

use std::collections::HashMap;

use bytes::Bytes;
use sluice_wire::moqt::codes::SessionErrorCode;
use sluice_wire::moqt::token::Token;

use crate::error::CommandError;
use crate::event::PresentedToken;
use crate::ids::StreamId;

/// The draft's size of a cache entry: 16 bytes plus the token value.
fn entry_size(value: &Bytes) -> u64 {
    16u64.saturating_add(value.len() as u64)
}

/// The peer's registered aliases.
#[derive(Debug, Default)]
pub(super) struct TokenCache {
    entries: HashMap<u64, (u64, PresentedToken)>,
    bytes: u64,
}

impl TokenCache {
    /// Applies one token; `Ok(Some)` is the token it presents (DELETE presents none), `Err`
    /// the session error it causes.
    pub(super) fn apply(
        &mut self,
        token: &Token,
        limit: u64,
        in_setup: bool,
    ) -> Result<Option<PresentedToken>, SessionErrorCode> {
        match token {
            Token::Register { alias, token_type, value } => {
                if self.entries.contains_key(alias) {
                    return Err(SessionErrorCode::DUPLICATE_AUTH_TOKEN_ALIAS);
                }
                let presented =
                    PresentedToken { token_type: *token_type, value: Bytes::copy_from_slice(value) };
                let size = entry_size(value);
                if self.bytes.saturating_add(size) > limit {
                    return if in_setup {
                        Ok(Some(presented))
                    } else {
                        Err(SessionErrorCode::AUTH_TOKEN_CACHE_OVERFLOW)
                    };
                }
                self.bytes = self.bytes.saturating_add(size);
                self.entries.insert(*alias, (size, presented.clone()));
                Ok(Some(presented))
            }
            Token::Delete { alias } => match self.entries.remove(alias) {
                Some((size, _)) => {
                    self.bytes = self.bytes.saturating_sub(size);
                    Ok(None)
                }
                None => Err(SessionErrorCode::UNKNOWN_AUTH_TOKEN_ALIAS),
            },
            Token::UseAlias { alias } => match self.entries.get(alias) {
                Some((_, presented)) => Ok(Some(presented.clone())),
                None => Err(SessionErrorCode::UNKNOWN_AUTH_TOKEN_ALIAS),
            },
            Token::UseValue { token_type, value } => {
                Ok(Some(PresentedToken { token_type: *token_type, value: value.clone() }))
            }
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

/// One alias we registered, as the peer holds it.
#[derive(Debug)]
struct SentAlias {
    size: u64,
    token_type: u64,
    value: Bytes,
    /// The request stream the REGISTER went on, until that message is answered.
    unanswered_on: Option<StreamId>,
}

/// Our registrations in the peer's cache, and the USE_ALIASes still unanswered.
#[derive(Debug, Default)]
pub(super) struct SentTokens {
    aliases: HashMap<u64, SentAlias>,
    bytes: u64,
    /// (request stream, alias) of each USE_ALIAS sent and not yet answered.
    unanswered_uses: Vec<(StreamId, u64)>,
}

/// The token list of one message, checked against the cache and ready to commit.
#[derive(Debug)]
pub(super) struct Checked {
    tokens: Vec<Token>,
}

impl Checked {
    pub(super) fn tokens(&self) -> &[Token] {
        &self.tokens
    }
}

impl SentTokens {
    /// Checks `tokens` for one message on `stream` against the peer's cache of
    /// `peer_limit` bytes; nothing changes until [`SentTokens::commit`].
    pub(super) fn check(
        &self,
        tokens: Vec<Token>,
        stream: Option<StreamId>,
        peer_limit: u64,
    ) -> Result<Checked, CommandError> {
        // Simulate the message's effect in order on a copy of what matters.
        let mut registered: HashMap<u64, (u64, u64, Bytes, bool)> = self
            .aliases
            .iter()
            .map(|(a, s)| {
                let usable = s.unanswered_on.is_none() || s.unanswered_on == stream;
                (*a, (s.size, s.token_type, s.value.clone(), usable))
            })
            .collect();
        let mut bytes = self.bytes;
        let mut presented: Vec<(u64, Bytes)> = Vec::new();
        for t in &tokens {
            match t {
                Token::Register { alias, token_type, value } => {
                    if registered.contains_key(alias) {
                        return Err(CommandError::InvalidState("token alias already registered"));
                    }
                    let size = entry_size(value);
                    if bytes.saturating_add(size) > peer_limit {
                        return Err(CommandError::Limit("peer MAX_AUTH_TOKEN_CACHE_SIZE"));
                    }
                    bytes = bytes.saturating_add(size);
                    registered.insert(*alias, (size, *token_type, value.clone(), true));
                    presented.push((*token_type, value.clone()));
                }
                Token::UseAlias { alias } => match registered.get(alias) {
                    None => return Err(CommandError::InvalidState("token alias not registered")),
                    Some((.., false)) => {
                        return Err(CommandError::InvalidState("token alias registration not yet answered"));
                    }
                    Some((_, ty, value, true)) => presented.push((*ty, value.clone())),
                },
                Token::Delete { alias } => {
                    let Some((size, ..)) = registered.remove(alias) else {
                        return Err(CommandError::InvalidState("token alias not registered"));
                    };
                    if self.unanswered_uses.iter().any(|(_, a)| a == alias) {
                        return Err(CommandError::InvalidState("token alias used by an unanswered request"));
                    }
                    bytes = bytes.saturating_sub(size);
                }
                Token::UseValue { token_type, value } => presented.push((*token_type, value.clone())),
            }
        }
        let mut seen = presented.clone();
        seen.sort();
        seen.dedup();
        if seen.len() != presented.len() {
            return Err(CommandError::InvalidState("the same authorization token twice"));
        }
        Ok(Checked { tokens })
    }

    /// Records a checked token list as sent on `stream`.
    pub(super) fn commit(&mut self, checked: &Checked, stream: StreamId) {
        for t in &checked.tokens {
            match t {
                Token::Register { alias, token_type, value } => {
                    let size = entry_size(value);
                    self.bytes = self.bytes.saturating_add(size);
                    self.aliases.insert(
                        *alias,
                        SentAlias {
                            size,
                            token_type: *token_type,
                            value: value.clone(),
                            unanswered_on: Some(stream),
                        },
                    );
                }
                Token::UseAlias { alias } => self.unanswered_uses.push((stream, *alias)),
                Token::Delete { alias } => {
                    if let Some(a) = self.aliases.remove(alias) {
                        self.bytes = self.bytes.saturating_sub(a.size);
                    }
                }
                Token::UseValue { .. } => {}
            }
        }
    }

    /// A response arrived on request stream `stream`: its messages' tokens are answered.
    pub(super) fn answered(&mut self, stream: StreamId) {
        for a in self.aliases.values_mut() {
            if a.unanswered_on == Some(stream) {
                a.unanswered_on = None;
            }
        }
        self.unanswered_uses.retain(|(s, _)| *s != stream);
    }

    /// The request on `stream` is gone without (further) answers: its USE_ALIASes no longer
    /// hold a DELETE back. A REGISTER it carried stays unanswered: the peer may not have
    /// read it, so the alias is usable only on its own (now closed) stream.
    pub(super) fn request_gone(&mut self, stream: StreamId) {
        self.unanswered_uses.retain(|(s, _)| *s != stream);
    }

    pub(super) fn len(&self) -> usize {
        self.aliases.len() + self.unanswered_uses.len()
    }

    pub(super) fn clear(&mut self) {
        self.aliases.clear();
        self.unanswered_uses.clear();
        self.bytes = 0;
    }
}
