//! Handles the session and its caller use to name streams and requests.
//!
//! * [`StreamId`] names a transport stream. Streams the *peer* opens are named by the
//!   adapter when it reports them (any value below 2^62, typically the QUIC stream id).
//!   Streams the *core* opens get a handle from the core with bit 63 set
//!   ([`StreamId::LOCAL_BIT`]); the adapter maps it to the transport's id once the open
//!   succeeds, so the core never waits for stream credit.
//! * [`RequestHandle`] names one request in the application API (a subscription, a fetch,
//!   an announce, a discovery, in either direction). It is chosen by the core and unique for
//!   the life of the session; it is *not* the MOQT wire Request ID.

use std::fmt;

/// A transport stream. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId(pub u64);

impl StreamId {
    /// Set on handles of streams the core opened.
    pub const LOCAL_BIT: u64 = 1 << 63;

    /// The `n`th stream the core opened.
    pub const fn local(n: u64) -> StreamId {
        StreamId(n | Self::LOCAL_BIT)
    }

    /// True for streams the core opened.
    pub const fn is_local(self) -> bool {
        self.0 & Self::LOCAL_BIT != 0
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_local() {
            write!(f, "local#{}", self.0 & !Self::LOCAL_BIT)
        } else {
            write!(f, "peer#{}", self.0)
        }
    }
}

/// One request of the application API. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestHandle(pub u64);

impl fmt::Display for RequestHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "req#{}", self.0)
    }
}
