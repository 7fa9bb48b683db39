//! Probe streams (bidi 0x4), the publisher (answering) side (lite-04 §Probe, lite-05
//! §Probe, §Probe Parameter, §PROBE).
//!
//! The core cannot measure bitrate or RTT; the adapter can, and feeds its latest values
//! with [`crate::Input::PathEstimate`]. What we do depends on `Config::lite_probe`:
//!
//! * `false` (default): lite-05 SETUP carries no Probe parameter (level None) and a peer's
//!   Probe stream is reset with [`super::codes::UNSUPPORTED`] as soon as it is identified (lite-05:
//!   "At None ... the publisher MUST reset it"; lite-04: "If the publisher does not support
//!   PROBE ... it MUST reset the stream").
//! * `true`: lite-05 SETUP advertises level **Report** (1): we measure nothing ourselves and
//!   cannot pad, so never Increase; the subscriber's target bitrate is read and ignored, as
//!   a Report publisher must. Each PROBE the peer sends is answered at once with PROBE
//!   {bitrate, rtt} of the latest estimate (0 = unknown until the adapter reports), and
//!   every later `PathEstimate` that changes the values is sent on each open Probe stream:
//!   that is our "periodically replies", paced by the adapter. RTT goes out in whole
//!   milliseconds, rounded up so that a known sub-millisecond RTT is not sent as 0
//!   (= unknown). lite-04 has no SETUP: a peer probes by opening the stream, and gets the
//!   same answers.
//!
//! Probe streams count against `max_peer_streams` and `max_stream_buffer` like any
//! stream. The peer's FIN is answered with ours; its reset ends the stream. We never open a
//! Probe stream ourselves (no subscriber-side probing command).

use std::time::Duration;

use sluice_wire::lite::probe::Probe;

use super::LiteEngine;
use super::streams::{Flow, State, Step, Stream, bad, read_message};
use crate::engine::Shared;
use crate::ids::StreamId;

/// An RTT in whole milliseconds for PROBE: rounded up, zero stays zero (unknown).
pub fn rtt_millis(rtt: Duration) -> u64 {
    let micros = u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX);
    micros.div_ceil(1000)
}

impl LiteEngine {
    /// Reads one PROBE target on a peer's Probe stream and answers with our estimate.
    pub(crate) fn read_probe(&mut self, shared: &mut Shared, id: StreamId, s: &mut Stream) -> Flow {
        match read_message::<Probe>(&mut s.buf, self.version, false) {
            Step::Done(_target) => {}
            Step::More => return Flow::Wait,
            Step::Bad(v) => return bad(shared, "PROBE", &v),
        }
        if s.send_open
            && let Ok(bytes) = self.encode(&self.estimate)
        {
            Self::write(shared, id, bytes, false);
        }
        Flow::Continue
    }

    /// `Input::PathEstimate`: keep it and report changes on every open Probe stream.
    pub(crate) fn on_path_estimate(&mut self, shared: &mut Shared, bitrate: u64, rtt: Duration) {
        let estimate = Probe { bitrate, rtt: rtt_millis(rtt) };
        if estimate == self.estimate {
            return;
        }
        self.estimate = estimate;
        let Ok(bytes) = self.encode(&estimate) else { return };
        for (id, s) in self.streams.iter() {
            if s.state == State::ProbeIn && s.send_open {
                Self::write(shared, *id, bytes.clone(), false);
            }
        }
    }
}
