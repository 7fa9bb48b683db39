//! Goaway streams (bidi 0x5, either side; lite-04/05 §Goaway, §GOAWAY).
//!
//! `goaway(uri, _)` opens a Goaway stream with GOAWAY {uri} once (a second call is
//! `InvalidState`; a non-UTF-8 URI too: lite's URI is a string). lite has no timeout field,
//! so the timeout is ignored; we never FIN the stream ourselves (the caller closes the
//! session when it is done). The peer's GOAWAY gives `Event::GoAway {uri}`; validating the
//! URI against local policy is the application's job (lite-05 §GOAWAY). After it, our
//! `subscribe`, `fetch` and `discover` are refused with `InvalidState` (the peer "MUST NOT
//! open new streams"; existing requests go on). Any byte after
//! the GOAWAY, or on our own Goaway stream, is a violation; the peer's FIN is answered
//! with ours.

use bytes::Bytes;
use sluice_wire::lite::goaway::Goaway;
use sluice_wire::lite::stream::BidiStreamType;

use super::LiteEngine;
use super::priority::CONTROL;
use super::streams::{Flow, State, Step, Stream, bad, read_message};
use crate::engine::Shared;
use crate::error::CommandError;
use crate::event::Event;

impl LiteEngine {
    /// `goaway`.
    pub(crate) fn send_goaway(&mut self, shared: &mut Shared, uri: Bytes) -> Result<(), CommandError> {
        if self.goaway_sent {
            return Err(CommandError::InvalidState("GOAWAY already sent"));
        }
        let uri = String::from_utf8(uri.to_vec())
            .map_err(|_| CommandError::InvalidState("lite GOAWAY URIs are UTF-8"))?;
        let bytes = self.encode(&Goaway { uri })?;
        self.open_bidi(shared, BidiStreamType::Goaway, bytes, CONTROL, State::GoawayOut)?;
        self.goaway_sent = true;
        Ok(())
    }

    /// Reads the peer's GOAWAY.
    pub(crate) fn read_goaway(&mut self, shared: &mut Shared, s: &mut Stream) -> Flow {
        let msg = match read_message::<Goaway>(&mut s.buf, self.version, false) {
            Step::Done(msg) => msg,
            Step::More => return Flow::Wait,
            Step::Bad(v) => return bad(shared, "GOAWAY", &v),
        };
        s.state = State::GoawayIn { received: true };
        self.goaway_received = true;
        shared.event(Event::GoAway { uri: Bytes::from(msg.uri.into_bytes()) });
        Flow::Continue
    }
}
