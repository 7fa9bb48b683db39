//! What the transport adapter feeds in ([`Input`]) and what it carries out ([`Output`]).

use bytes::Bytes;
use sluice_wire::{HeaderBytes, Version};

use crate::event::Event;
use crate::ids::StreamId;

/// A transport event, fed with [`crate::Session::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The connection is up and `version` was negotiated (ALPN or WebTransport protocol).
    Connected {
        /// The negotiated version.
        version: Version,
    },
    /// The peer opened a stream.
    StreamOpened {
        /// The adapter's name for it (below 2^62).
        stream: StreamId,
        /// True for a bidirectional stream.
        bidi: bool,
    },
    /// In-order bytes on a stream.
    StreamData {
        /// The stream.
        stream: StreamId,
        /// The bytes (handed on without copying where they are payload).
        data: Bytes,
    },
    /// The peer finished its sending side of a stream.
    StreamFinished {
        /// The stream.
        stream: StreamId,
    },
    /// The peer reset its sending side of a stream.
    StreamReset {
        /// The stream.
        stream: StreamId,
        /// The application error code.
        code: u64,
    },
    /// The peer asked us to stop sending on a stream.
    StopSending {
        /// The stream.
        stream: StreamId,
        /// The application error code.
        code: u64,
    },
    /// A stream the core opened was opened by the transport (or could not be: `opened`
    /// false, e.g. the connection is closing).
    StreamOpenResult {
        /// The core's handle.
        stream: StreamId,
        /// Whether it opened.
        opened: bool,
    },
    /// The transport has room again on a stream whose writes were queued.
    Writable {
        /// The stream.
        stream: StreamId,
    },
    /// Every byte written on a stream the core opened, its FIN included, has been
    /// acknowledged by the peer (QUIC "Data Recvd"; WebTransport "all data committed").
    /// Optional: MOQT uses it to stop the SUBGROUP_DELIVERY_TIMEOUT timer of a finished
    /// subgroup stream (draft-18 §"Delivery Timeouts"); an adapter that never reports it
    /// gets, when that timer runs out, a reset of a stream the peer may already have whole
    /// (which the draft lets the receiver ignore). lite: a graceful subscription end holds
    /// the Subscribe stream's FIN until its finished Group streams are acknowledged (once
    /// the adapter has reported any ack; bounded by `Config::lite_subscribe_end_wait`).
    StreamAcked {
        /// The stream.
        stream: StreamId,
    },
    /// A datagram.
    Datagram(Bytes),
    /// The transport's latest path estimates, for protocols that report them (moq-lite
    /// PROBE). The core cannot measure either itself: an adapter that can read its
    /// congestion controller feeds this whenever the values change (quinn:
    /// `Connection::stats().path`), and the core reports the latest values. 0 / zero =
    /// unknown.
    PathEstimate {
        /// Estimated available bitrate, bits per second.
        bitrate: u64,
        /// Smoothed round-trip time.
        rtt: std::time::Duration,
    },
    /// The connection is gone.
    Closed {
        /// The close code (application or transport).
        code: u64,
        /// The reason phrase.
        reason: Bytes,
    },
}

/// A stream's place in the send order: higher goes first. The adapter maps it onto its
/// QUIC stack (quinn: `set_priority(i32)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SendOrder(pub i32);

/// An instruction to the transport adapter, drained with [`crate::Session::poll`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Open a stream; report the result with [`Input::StreamOpenResult`].
    OpenStream {
        /// The core's handle for it.
        stream: StreamId,
        /// True for a bidirectional stream.
        bidi: bool,
        /// Its send order.
        order: SendOrder,
    },
    /// Write `header` then `payload` to a stream (either may be empty), then finish it if
    /// `fin`. The payload is the application's `Bytes`, not a copy.
    Write {
        /// The stream.
        stream: StreamId,
        /// Encoded headers/messages: inline when short (every object header without long
        /// properties), so an object's header costs no allocation and no reference count;
        /// a long control message is held as a `Bytes`. Derefs to `&[u8]`.
        header: HeaderBytes,
        /// Object payload.
        payload: Bytes,
        /// Finish the stream after these bytes.
        fin: bool,
    },
    /// Reset the sending side of a stream.
    Reset {
        /// The stream.
        stream: StreamId,
        /// The application error code.
        code: u64,
    },
    /// Ask the peer to stop sending on a stream.
    StopSending {
        /// The stream.
        stream: StreamId,
        /// The application error code.
        code: u64,
    },
    /// Change a stream's send order.
    SetOrder {
        /// The stream.
        stream: StreamId,
        /// The new order.
        order: SendOrder,
    },
    /// Send a datagram.
    Datagram(Bytes),
    /// Close the connection.
    Close {
        /// The application error code.
        code: u64,
        /// The reason phrase.
        reason: String,
    },
    /// Something for the application.
    Event(Event),
}
