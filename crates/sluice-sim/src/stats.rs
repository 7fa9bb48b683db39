//! [`LinkStats`]: counters a test can assert on (bytes put on the wire, datagrams sent and
//! lost, flow-control wake-ups), kept per direction of each link.

use crate::side::Side;

/// Counters for one direction of a link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectionStats {
    /// Stream bytes put on the wire.
    pub stream_bytes: u64,
    /// Datagrams sent by the endpoint.
    pub datagrams_sent: u64,
    /// Of those, lost on the link.
    pub datagrams_lost: u64,
    /// [`sluice::Input::Writable`] inputs given to the sender.
    pub writables: u64,
}

/// Counters for a link, per sending side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// What the client sent.
    pub client_to_server: DirectionStats,
    /// What the server sent.
    pub server_to_client: DirectionStats,
}

impl LinkStats {
    /// The counters of what `side` sent.
    pub fn sent_by(&self, side: Side) -> &DirectionStats {
        match side {
            Side::Client => &self.client_to_server,
            Side::Server => &self.server_to_client,
        }
    }

    pub(crate) fn sent_by_mut(&mut self, side: Side) -> &mut DirectionStats {
        match side {
            Side::Client => &mut self.client_to_server,
            Side::Server => &mut self.server_to_client,
        }
    }
}
