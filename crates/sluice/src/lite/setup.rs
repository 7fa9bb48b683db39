//! Session start: `Event::Ready` and the lite-05 Setup streams (lite-05 §Session, §Setup,
//! §SETUP).
//!
//! lite-04 has no handshake: the session is ready as soon as it is connected. In lite-05
//! each endpoint opens one unidirectional Setup stream, writes one SETUP and FINs it; the
//! two SETUPs are independent and neither side waits for the other's before opening other
//! streams, so commands work before `Ready`. Our parameters: the Probe level Report when
//! `Config::lite_probe` is set (the adapter feeds path estimates, see [`super::probe`]),
//! else none (level None); never Path (the adapter's binding conveys the path, and a
//! server must not send one). `Event::Ready` is emitted when the peer's SETUP has arrived
//! and been validated: unknown parameters are ignored (the codec keeps them), a duplicate
//! parameter (codec), a second Setup stream, bytes after the SETUP, a FIN before it, or a
//! Path parameter sent by a server (to us as client) close the session with
//! PROTOCOL_VIOLATION.

use bytes::Bytes;
use sluice_wire::LiteVersion;
use sluice_wire::lite::setup::{ProbeLevel, Setup, SetupParameter};
use sluice_wire::lite::stream::UniStreamType;

use super::LiteEngine;
use super::priority::CONTROL;
use super::streams::{Flow, State, Step, Stream, bad, read_message, violation};
use crate::engine::Shared;
use crate::event::Event;
use crate::io::Output;
use crate::session::Role;

impl LiteEngine {
    fn ready(&self, shared: &mut Shared) {
        shared.event(Event::Ready { version: self.version.into(), peer_implementation: None });
    }

    /// Sends what the version sends first.
    pub(crate) fn start_setup(&mut self, shared: &mut Shared) {
        match self.version {
            LiteVersion::Lite04 => self.ready(shared),
            LiteVersion::Lite05 => {
                let mut header = self.encode(&UniStreamType::Setup).unwrap_or_default();
                let mut setup = Setup::default();
                if shared.config.lite_probe {
                    setup.parameters.push(SetupParameter::Probe(ProbeLevel::Report));
                }
                header.extend(self.encode(&setup).unwrap_or_default());
                let stream = shared.next_stream();
                shared.push(Output::OpenStream { stream, bidi: false, order: CONTROL });
                shared.push(Output::Write {
                    stream,
                    header: Bytes::from(header).into(),
                    payload: Bytes::new(),
                    fin: true,
                });
            }
        }
    }

    /// Reads the peer's SETUP.
    pub(crate) fn read_setup(&mut self, shared: &mut Shared, s: &mut Stream) -> Flow {
        let setup = match read_message::<Setup>(&mut s.buf, self.version, false) {
            Step::Done(setup) => setup,
            Step::More => return Flow::Wait,
            Step::Bad(v) => return bad(shared, "SETUP", &v),
        };
        if shared.role == Role::Client && setup.path().is_some() {
            return violation(shared, "a server sent the SETUP Path parameter");
        }
        self.setup_received = true;
        s.state = State::SetupDone;
        self.ready(shared);
        Flow::Continue
    }
}
