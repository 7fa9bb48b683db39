//! The uni control streams (draft-18 §3.3.1): each endpoint opens one, whose first
//! message is SETUP (§10.3); GOAWAY (§10.4) is the only other message on it. The peer's
//! control stream must start with SETUP and must never close (PROTOCOL_VIOLATION).
//!
//! SETUP options we send: PATH and AUTHORITY (client only, from `Config::path` /
//! `Config::authority`, never when `Config::webtransport`, §10.3.1),
//! MAX_AUTH_TOKEN_CACHE_SIZE when non-zero, MOQT_IMPLEMENTATION.
//!
//! PATH / AUTHORITY received (§10.3.1) close the session with INVALID_PATH /
//! INVALID_AUTHORITY when they come from a server, arrive over WebTransport, or (server)
//! name a value outside `Config::accepted_paths` / `Config::accepted_authorities`; with
//! MALFORMED_PATH / MALFORMED_AUTHORITY when they break RFC 3986 ([`super::uri`]).
//!
//! GOAWAY: [`MoqtEngine::cmd_goaway`] sends it and arms a deadline after which the session
//! closes with GOAWAY_TIMEOUT (§3.5); after sending or receiving it, new peer requests are
//! refused with REQUEST_ERROR GOING_AWAY.

use bytes::Bytes;
use sluice_wire::moqt::codes::{SessionErrorCode, SetupOptionType};
use sluice_wire::moqt::control::ControlMessage;
use sluice_wire::moqt::message::GoAway;
use sluice_wire::moqt::setup::{Setup, SetupOption};
use sluice_wire::{Decode, Encode};

use super::MoqtEngine;
use super::requests::{decode_buffered, frame_complete};
use super::state::InStream;
use super::uri;
use crate::engine::Shared;
use crate::error::CommandError;
use crate::event::Event;
use crate::ids::StreamId;
use crate::io::{Output, SendOrder};
use crate::session::Role;

impl MoqtEngine {
    /// Opens our control stream and writes SETUP.
    pub(super) fn send_setup(&mut self, shared: &mut Shared) {
        let mut options = Vec::new();
        let native = !shared.config.webtransport;
        if shared.role == Role::Client && native {
            if let Some(path) = &shared.config.path {
                options.push(SetupOption::Path(Bytes::copy_from_slice(path.as_bytes())));
            }
        }
        if shared.config.max_auth_token_cache > 0 {
            options.push(SetupOption::MaxAuthTokenCacheSize(shared.config.max_auth_token_cache));
        }
        if shared.role == Role::Client && native {
            if let Some(authority) = &shared.config.authority {
                options.push(SetupOption::Authority(Bytes::copy_from_slice(authority.as_bytes())));
            }
        }
        if let Some(name) = &shared.config.implementation {
            options.push(SetupOption::MoqtImplementation(Bytes::copy_from_slice(name.as_bytes())));
        }
        let setup = Setup { options };
        let mut buf = Vec::new();
        if let Err(e) = setup.encode(&mut buf, self.version) {
            let reason = e.to_string();
            self.fail(shared, SessionErrorCode::INTERNAL_ERROR, &reason);
            return;
        }
        let stream = shared.next_stream();
        self.control_out = Some(stream);
        shared.push(Output::OpenStream { stream, bidi: false, order: SendOrder(i32::MAX) });
        shared.push(Output::Write {
            stream,
            header: Bytes::from(buf).into(),
            payload: Bytes::new(),
            fin: false,
        });
    }

    /// The peer's control stream: SETUP first, then GOAWAY messages.
    pub(super) fn process_control(&mut self, shared: &mut Shared, stream: StreamId) {
        loop {
            if shared.closed {
                return;
            }
            let version = self.version;
            let Some(InStream::Control { buf, got_setup }) = self.streams.get_mut(&stream) else { return };
            let got = *got_setup;
            if !frame_complete(buf) {
                return;
            }
            let msg = match decode_buffered(buf, |r| ControlMessage::decode(r, version)) {
                Ok(Some(m)) => m,
                Ok(None) => return,
                Err(v) => return self.fail_violation(shared, &v),
            };
            match (got, msg) {
                (false, ControlMessage::Setup(setup)) => {
                    if let Some(InStream::Control { got_setup, .. }) = self.streams.get_mut(&stream) {
                        *got_setup = true;
                    }
                    self.peer_setup(shared, setup);
                }
                (true, ControlMessage::GoAway(g)) => self.peer_goaway(shared, g),
                (false, _) => {
                    return self.fail(
                        shared,
                        SessionErrorCode::PROTOCOL_VIOLATION,
                        "control stream must start with SETUP",
                    );
                }
                (true, _) => {
                    return self.fail(
                        shared,
                        SessionErrorCode::PROTOCOL_VIOLATION,
                        "unexpected message on the control stream",
                    );
                }
            }
        }
    }

    fn peer_setup(&mut self, shared: &mut Shared, setup: Setup) {
        if let Some((code, why)) = uri_options_problem(shared, &setup) {
            return self.fail(shared, code, why);
        }
        let tokens: Vec<_> = setup
            .options
            .iter()
            .filter_map(|o| match o {
                SetupOption::AuthorizationToken(t) => Some(t.clone()),
                _ => None,
            })
            .collect();
        if !self.apply_tokens(shared, tokens.iter(), true) {
            return;
        }
        let implementation = match setup.get(SetupOptionType::MOQT_IMPLEMENTATION) {
            Some(SetupOption::MoqtImplementation(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        };
        // SETUP tokens authorise the session, not a request: none is reported.
        self.presented.clear();
        if let Some(SetupOption::MaxAuthTokenCacheSize(n)) =
            setup.get(SetupOptionType::MAX_AUTH_TOKEN_CACHE_SIZE)
        {
            self.peer_token_cache = *n;
        }
        self.peer_ready = true;
        shared.event(Event::Ready { version: self.version.into(), peer_implementation: implementation });
        self.process_all(shared);
    }

    /// §10.4: one GOAWAY per control stream, none with a URI from a client, and a Request
    /// ID (when present) of the receiver's parity.
    fn peer_goaway(&mut self, shared: &mut Shared, g: GoAway) {
        if self.peer_sent_goaway {
            return self.fail(
                shared,
                SessionErrorCode::PROTOCOL_VIOLATION,
                "second GOAWAY on the control stream",
            );
        }
        if shared.role == Role::Server && !g.new_session_uri.is_empty() {
            return self.fail(shared, SessionErrorCode::PROTOCOL_VIOLATION, "client GOAWAY with a URI");
        }
        let own_parity = match shared.role {
            Role::Client => 0,
            Role::Server => 1,
        };
        if g.request_id.is_some_and(|id| id % 2 != own_parity) {
            return self.fail(
                shared,
                SessionErrorCode::INVALID_REQUEST_ID,
                "GOAWAY Request ID of the wrong parity",
            );
        }
        self.peer_sent_goaway = true;
        self.going_away = true;
        shared.event(Event::GoAway { uri: g.new_session_uri });
    }

    /// Sends GOAWAY on our control stream and arms the GOAWAY_TIMEOUT deadline.
    pub(super) fn cmd_goaway(
        &mut self,
        shared: &mut Shared,
        uri: Bytes,
        timeout: std::time::Duration,
    ) -> Result<(), CommandError> {
        let stream = self.control_out.ok_or(CommandError::InvalidState("no control stream"))?;
        if shared.role == Role::Client && !uri.is_empty() {
            // §10.4: clients cannot send peers elsewhere.
            return Err(CommandError::InvalidState("a client's GOAWAY carries no URI"));
        }
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        // On the control stream the Request ID is the smallest peer request not processed.
        let msg = GoAway { new_session_uri: uri, timeout: ms, request_id: Some(self.peer_id_floor) };
        let header = self.encode(&msg)?;
        shared.push(Output::Write { stream, header: header.into(), payload: Bytes::new(), fin: false });
        self.going_away = true;
        if !timeout.is_zero() {
            self.goaway_deadline = Some(self.now + timeout);
        }
        Ok(())
    }
}

/// §10.3.1: what is wrong with the PATH / AUTHORITY options of the peer's SETUP, if anything.
fn uri_options_problem(shared: &Shared, setup: &Setup) -> Option<(SessionErrorCode, &'static str)> {
    let path = match setup.get(SetupOptionType::PATH) {
        Some(SetupOption::Path(p)) => Some(p),
        _ => None,
    };
    let authority = match setup.get(SetupOptionType::AUTHORITY) {
        Some(SetupOption::Authority(a)) => Some(a),
        _ => None,
    };
    let listed = |list: &Option<Vec<String>>, v: &Bytes| {
        list.as_ref().is_none_or(|l| l.iter().any(|x| x.as_bytes() == v.as_ref()))
    };
    if let Some(p) = path {
        if shared.role == Role::Client {
            return Some((SessionErrorCode::INVALID_PATH, "PATH sent by a server"));
        }
        if shared.config.webtransport {
            return Some((SessionErrorCode::INVALID_PATH, "PATH over WebTransport"));
        }
        if !uri::valid_path(p) {
            return Some((SessionErrorCode::MALFORMED_PATH, "PATH is not an RFC 3986 path-abempty"));
        }
        if !listed(&shared.config.accepted_paths, p) {
            return Some((SessionErrorCode::INVALID_PATH, "PATH not served here"));
        }
    }
    if let Some(a) = authority {
        if shared.role == Role::Client {
            return Some((SessionErrorCode::INVALID_AUTHORITY, "AUTHORITY sent by a server"));
        }
        if shared.config.webtransport {
            return Some((SessionErrorCode::INVALID_AUTHORITY, "AUTHORITY over WebTransport"));
        }
        if !uri::valid_authority(a) {
            return Some((SessionErrorCode::MALFORMED_AUTHORITY, "AUTHORITY is not an RFC 3986 authority"));
        }
        if !listed(&shared.config.accepted_authorities, a) {
            return Some((SessionErrorCode::INVALID_AUTHORITY, "AUTHORITY not served here"));
        }
    }
    None
}
