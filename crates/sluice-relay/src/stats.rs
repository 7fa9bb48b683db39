//! [`RelayStats`]: counters of what the relay did, for tests, metrics and the bench.

/// Counters since the relay was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Objects written to downstream subscriptions.
    pub objects_forwarded: u64,
    /// Upstream subscriptions made.
    pub upstream_subscribes: u64,
    /// Groups not sent to a congested subscriber.
    pub groups_skipped: u64,
    /// Downstream streams reset (congestion or the open-stream limit).
    pub streams_reset: u64,
    /// Objects of a group whose downstream stream was already finished.
    pub late_objects_dropped: u64,
    /// Payloads the relay copied (joined into one buffer). Objects are forwarded, cached
    /// and served to fetches as the chunks they arrived in (`ObjectWrite` takes a
    /// `Payload`), so the relay itself never copies one: this stays 0, and a test or bench
    /// asserting it proves the zero-copy path.
    pub payload_copies: u64,
    /// Requests refused because a relay limit was hit.
    pub refused_excessive_load: u64,
    /// FETCHes answered from a cache.
    pub fetches_from_cache: u64,
    /// FETCHes forwarded to a publisher.
    pub fetches_forwarded: u64,
    /// FETCHes answered partly from a cache and partly from upstream.
    pub fetches_filled: u64,
    /// FETCHes whose fill budget (FILL_TIMEOUT) ran out: the rest went as Unknown.
    pub fetch_fills_timed_out: u64,
    /// TRACK_STATUS requests answered (from what the relay knows, or relayed).
    pub statuses_answered: u64,
    /// Upstream subscription updates sent (priority / forward aggregation).
    pub upstream_updates: u64,
    /// lite announces ignored because their hop path held the relay's own Hop ID (its own
    /// announce come back around a loop of relays).
    pub looped_announces: u64,
    /// Live tracks moved to another publisher (GOAWAY, publisher gone).
    pub switchovers: u64,
    /// Tracks pushed to the relay (MOQT PUBLISH) and accepted.
    pub tracks_pushed: u64,
    /// Tracks the relay PUBLISHed to sessions that sent SUBSCRIBE_TRACKS.
    pub tracks_pushed_downstream: u64,
    /// SUBSCRIBE_TRACKS the relay sent upstream for its downstream ones.
    pub track_discoveries_forwarded: u64,
    /// SUBSCRIBEs refused with DUPLICATE_SUBSCRIPTION: the session already had the track
    /// (pushed to it, or subscribed).
    pub duplicate_subscriptions: u64,
    /// Commands a session refused (a session closing under us, a version that cannot
    /// express something); the relay goes on.
    pub command_errors: u64,
}
