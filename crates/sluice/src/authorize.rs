//! Sending AUTHORIZATION_TOKENs with requests (draft-18 §10.2.2): [`Session::authorized`]
//! returns an [`Authorized`] view whose request commands attach the given tokens.
//!
//! ```text
//! session.authorized(vec![AuthToken::UseValue { token_type: 0, value }]).subscribe(track, options)?;
//! ```
//!
//! Which command carries them where (draft-18 allows the parameter in exactly these):
//!
//! | command | message |
//! |---|---|
//! | `subscribe` | SUBSCRIBE |
//! | `update_subscription` | REQUEST_UPDATE |
//! | `publish` | PUBLISH |
//! | `announce` | PUBLISH_NAMESPACE |
//! | `discover` / `discover_tracks` | SUBSCRIBE_NAMESPACE / SUBSCRIBE_TRACKS |
//! | `fetch` / `joining_fetch` | FETCH |
//! | `track_status` | TRACK_STATUS |
//!
//! The MOQT engine keeps the sending side of the alias cache and refuses, with nothing
//! sent, a token list that would break a rule: a REGISTER of an alias still registered or
//! past the peer's MAX_AUTH_TOKEN_CACHE_SIZE (`CommandError::Limit`; before the peer's
//! SETUP the draft's default of 0 applies), a USE_ALIAS or DELETE of an alias not
//! registered, a USE_ALIAS on another request stream than the REGISTER's before that
//! request was answered, a DELETE while a request that used the alias is unanswered, and
//! the same token twice after resolving aliases (`CommandError::InvalidState`).
//!
//! Receiving: the peer's tokens on a request (aliases resolved, DELETEs applied) reach the
//! application as [`crate::Event::Authorization`] just before the request's own event; to
//! refuse, answer the request with `reject(request, 0x1 /* UNAUTHORIZED */, ..)` (or
//! MALFORMED_AUTH_TOKEN 0x4, EXPIRED_AUTH_TOKEN 0x5). Requests the engine answers itself
//! (SUBSCRIBE_NAMESPACE) are already accepted when the event arrives: withdraw with
//! `cancel`.
//!
//! moq-lite has no token field: every `Authorized` command on a lite session returns
//! `CommandError::Unsupported` with nothing sent.

use sluice_wire::Version;

use crate::engine::{FetchOptions, JoinStart};
use crate::error::CommandError;
use crate::ids::RequestHandle;
use crate::model::{Location, Namespace, SubscribeOptions, TrackInfo, TrackName};
use crate::session::Session;

/// One AUTHORIZATION TOKEN (the wire structure: DELETE, REGISTER, USE_ALIAS, USE_VALUE).
pub use sluice_wire::moqt::token::Token as AuthToken;

/// A [`Session`] whose next request command carries AUTHORIZATION_TOKENs. See the module docs.
#[derive(Debug)]
pub struct Authorized<'a> {
    session: &'a mut Session,
    tokens: Vec<AuthToken>,
}

impl Session {
    /// The request commands of the returned view attach `tokens` (MOQT only; see
    /// [`crate::authorize`]).
    pub fn authorized(&mut self, tokens: Vec<AuthToken>) -> Authorized<'_> {
        Authorized { session: self, tokens }
    }
}

impl Authorized<'_> {
    /// Runs one command with the tokens staged in the shared state, then unstages them.
    fn run<T>(
        self,
        command: impl FnOnce(&mut Session) -> Result<T, CommandError>,
    ) -> Result<T, CommandError> {
        if let Some(Version::Lite(v)) = self.session.version()
            && !self.tokens.is_empty()
        {
            return Err(CommandError::Unsupported {
                what: "authorization tokens",
                version: Version::Lite(v),
            });
        }
        self.session.shared_mut().auth_tokens = self.tokens;
        let result = command(self.session);
        self.session.shared_mut().auth_tokens.clear();
        result
    }

    /// [`Session::subscribe`] with the tokens in SUBSCRIBE.
    pub fn subscribe(
        self,
        track: TrackName,
        options: SubscribeOptions,
    ) -> Result<RequestHandle, CommandError> {
        self.run(|s| s.subscribe(track, options))
    }

    /// [`Session::update_subscription`] with the tokens in REQUEST_UPDATE.
    pub fn update_subscription(
        self,
        request: RequestHandle,
        options: SubscribeOptions,
    ) -> Result<(), CommandError> {
        self.run(|s| s.update_subscription(request, options))
    }

    /// [`Session::publish`] with the tokens in PUBLISH.
    pub fn publish(self, track: TrackName, info: TrackInfo) -> Result<RequestHandle, CommandError> {
        self.run(|s| s.publish(track, info))
    }

    /// [`Session::announce`] with the tokens in PUBLISH_NAMESPACE.
    pub fn announce(self, namespace: Namespace) -> Result<RequestHandle, CommandError> {
        self.run(|s| s.announce(namespace))
    }

    /// [`Session::discover`] with the tokens in SUBSCRIBE_NAMESPACE.
    pub fn discover(self, prefix: Namespace) -> Result<RequestHandle, CommandError> {
        self.run(|s| s.discover(prefix))
    }

    /// [`Session::discover_tracks`] with the tokens in SUBSCRIBE_TRACKS.
    pub fn discover_tracks(self, prefix: Namespace) -> Result<RequestHandle, CommandError> {
        self.run(|s| s.discover_tracks(prefix))
    }

    /// [`Session::fetch`] with the tokens in FETCH.
    pub fn fetch(
        self,
        track: TrackName,
        start: Location,
        end: Location,
        priority: u8,
    ) -> Result<RequestHandle, CommandError> {
        self.run(|s| s.fetch(track, start, end, priority))
    }

    /// [`Session::joining_fetch`] with the tokens in FETCH.
    pub fn joining_fetch(
        self,
        subscription: RequestHandle,
        start: JoinStart,
        priority: u8,
    ) -> Result<RequestHandle, CommandError> {
        self.run(|s| s.joining_fetch(subscription, start, priority))
    }

    /// [`Session::fetch_with`] with the tokens in FETCH.
    pub fn fetch_with(
        self,
        track: TrackName,
        start: Location,
        end: Location,
        options: FetchOptions,
    ) -> Result<RequestHandle, CommandError> {
        self.run(|s| s.fetch_with(track, start, end, options))
    }

    /// [`Session::track_status`] with the tokens in TRACK_STATUS.
    pub fn track_status(self, track: TrackName) -> Result<RequestHandle, CommandError> {
        self.run(|s| s.track_status(track))
    }
}
