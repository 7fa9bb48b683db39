//! Errors returned to the caller of a command. A peer's misbehaviour is never returned
//! here: the session answers it on the wire (close or reset with the draft's code) and
//! reports it as an [`crate::Event`].

use crate::ids::{RequestHandle, StreamId};

/// Why a command was refused. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The session has no version yet (no [`crate::Input::Connected`]).
    #[error("the session is not connected yet")]
    NotConnected,
    /// The session is closed.
    #[error("the session is closed")]
    Closed,
    /// The negotiated version cannot express this command.
    #[error("{what} is not supported by {version}")]
    Unsupported {
        /// What was asked for.
        what: &'static str,
        /// The negotiated version.
        version: sluice_wire::Version,
    },
    /// No live request has this handle, or it is of another kind.
    #[error("unknown request {0}")]
    UnknownRequest(RequestHandle),
    /// No writable data stream has this handle.
    #[error("unknown stream {0}")]
    UnknownStream(StreamId),
    /// The command is out of order for the request's state (e.g. accepting twice).
    #[error("invalid in the request's state: {0}")]
    InvalidState(&'static str),
    /// A value the wire cannot carry (too long a name, non-increasing object ids, …).
    #[error("cannot encode: {0}")]
    Encode(#[from] sluice_wire::EncodeError),
    /// A limit of this session's `Config` would be exceeded.
    #[error("limit reached: {0}")]
    Limit(&'static str),
    /// MOQT: the object's delivery timeout ran out before it could be handed to the
    /// transport (`ObjectWrite::first_byte_at` is older than the timeout), so it was not
    /// sent: a datagram is dropped (nothing sent); a subgroup stream is reset with
    /// DELIVERY_TIMEOUT, which the draft requires (draft-18 §"Delivery Timeouts and Data
    /// Reliability"), and further writes to it fail with `UnknownStream`.
    #[error("the object's delivery timeout ran out: not sent")]
    DeliveryTimeout,
    /// MOQT: this object of the subscription was already sent the other way (on a
    /// subgroup stream vs. as a datagram). An object's Object Forwarding Preference is
    /// fixed, and a subscription must send it accordingly (draft-18 §"Object Header"). Nothing
    /// was sent.
    #[error("object {group}/{object} was already sent with the other forwarding preference")]
    ForwardingPreference {
        /// The object's group.
        group: u64,
        /// The object id.
        object: u64,
    },
}
