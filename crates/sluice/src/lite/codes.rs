//! The stream-reset and session-close codes the lite engine sends, in one place.
//!
//! The moq-lite drafts (04 and 05) define no error-code registry: a reset or close code is
//! implementation-defined (lite-05 §Termination only distinguishes FIN from RESET). sluice
//! uses the numbers moq-dev (the reference implementation of the drafts) uses for the same
//! conditions, so that a peer logging them reads the same meaning:
//!
//! | code | constant | used for |
//! |-----:|----------|----------|
//! | 0  | [`CANCELLED`] | unsubscribe, stop discovery, cancel fetch, subscriber left (group streams reset) |
//! | 2  | [`EXPIRED`] | a group older than max latency: our Group stream reset, their Group stream stopped, SUBSCRIBE_DROP's error code (see [`super::expiry`]) |
//! | 10 | [`UNKNOWN_STREAM`] | a peer stream whose STREAM_TYPE the version does not define (reset, not fatal: lite-05 §STREAM_TYPE) |
//! | 11 | [`LIMIT_EXCEEDED`] | a `Config` limit: too many peer streams / inbound requests / subscriptions / discovered paths, too many buffered or unidentified bytes |
//! | 13 | [`NOT_FOUND`] | a Group stream for a Subscribe ID we do not have |
//! | 15 | [`PROTOCOL_VIOLATION`] | **session close** on malformed bytes or a broken sequencing rule; also the reset code for announce-stream rule breaks and undecodable timestamps the drafts answer with a stream reset |
//! | 17 | [`UNSUPPORTED`] | Probe streams when `Config::lite_probe` is off (we advertise no Probe level) |
//! | 27 | [`FRAME_TOO_LARGE`] | a FRAME larger than `Config::max_object_size` |
//!
//! Applications pass their own codes to `reject`/`end_subscription`; those go on the wire as
//! given.

/// Graceful cancellation by the requester.
pub const CANCELLED: u64 = 0;
/// A group expired by max latency. moq-dev has two candidates: 2 "old" (a group superseded
/// and too old) and 31 "evicted" (dropped from a cache under pressure); expiry is the
/// former, so sluice sends 2.
pub const EXPIRED: u64 = 2;
/// Reset of a stream with an unknown STREAM_TYPE.
pub const UNKNOWN_STREAM: u64 = 10;
/// A configured limit was hit.
pub const LIMIT_EXCEEDED: u64 = 11;
/// Data for an unknown subscription.
pub const NOT_FOUND: u64 = 13;
/// The peer broke the protocol (session close code, or stream reset where the draft says so).
pub const PROTOCOL_VIOLATION: u64 = 15;
/// A stream kind this endpoint does not serve.
pub const UNSUPPORTED: u64 = 17;
/// A frame above `Config::max_object_size`.
pub const FRAME_TOO_LARGE: u64 = 27;
