//! The trace: an optional record of everything that crossed the simulated network.
//!
//! A trace is what determinism is checked against (same seed and calls → equal traces) and
//! what a failing test prints to show what happened when. It records, per connection and
//! side, each input handed to an endpoint, each output it produced, each timer that fired,
//! each datagram the link lost and each output the network refused (with why).

use bytes::Bytes;
use sluice::{Input, Output, Time};

use crate::side::Side;

/// A connection in a [`crate::Network`]; returned by [`crate::Network::connect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub usize);

/// What happened at one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Traced {
    /// The endpoint was given this input.
    Input(Input),
    /// The endpoint produced this output.
    Output(Output),
    /// The endpoint's timer fired.
    Timeout,
    /// A datagram this endpoint sent was lost on the link.
    DatagramLost(Bytes),
    /// The network ignored an output of this endpoint, for the reason given (a write on a
    /// stream it does not know, after a reset or FIN, after close, ...).
    Refused(Output, &'static str),
}

/// One line of the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEntry {
    /// Virtual time.
    pub at: Time,
    /// The connection.
    pub conn: ConnId,
    /// The endpoint the entry is about.
    pub side: Side,
    /// What happened.
    pub what: Traced,
}
