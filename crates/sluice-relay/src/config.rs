//! [`RelayConfig`]: every table and buffer of the relay that peers can grow, with its limit.
//!
//! Peers grow the relay's state by announcing namespaces, subscribing to tracks (each
//! distinct track costs one upstream subscription and one group cache), waiting for
//! publishers that have not announced yet, and by publishing objects that the relay caches
//! and fans out. Each of those has a limit here; hitting one answers the request with the
//! version's "too much load" code (MOQT REQUEST_ERROR EXCESSIVE_LOAD 0x9, draft-18 §13.1.2;
//! moq-lite: a reset of the request stream with LIMIT_EXCEEDED, see [`crate::codes`]),
//! never with more memory.

use std::time::Duration;

/// Relay limits and knobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayConfig {
    /// Namespaces (announced broadcasts) routed at once, over all publishers. A further
    /// PUBLISH_NAMESPACE is refused with EXCESSIVE_LOAD; a further lite broadcast is ignored.
    pub max_namespaces: usize,
    /// Distinct tracks relayed at once (each one upstream subscription + one cache).
    pub max_tracks: usize,
    /// Downstream subscriptions sharing one track.
    pub max_subscribers_per_track: usize,
    /// Subscriptions waiting for a publisher of their namespace to appear.
    pub max_waiting_subscribes: usize,
    /// How long a subscription for a namespace nobody announced waits at most before it
    /// fails with DOES_NOT_EXIST (lite: NOT_FOUND). A MOQT subscriber waits its SUBSCRIBE's
    /// RENDEZVOUS_TIMEOUT, at most this (draft-18 "RENDEZVOUS TIMEOUT Parameter").
    pub subscribe_wait: Duration,
    /// The wait of a MOQT SUBSCRIBE without RENDEZVOUS_TIMEOUT. Draft-18 reads an absent
    /// parameter as 0, so the default is zero: refused at once with DOES_NOT_EXIST. A
    /// non-zero value holds such subscriptions like lite ones (off-draft; for clients that
    /// subscribe before their publisher connects without saying so).
    pub moqt_default_rendezvous: Duration,
    /// Subgroup (lite: group) streams one downstream subscription may have open at once;
    /// past it the oldest is reset. Streams of a group are finished as soon as a newer group
    /// starts, so this only bites with many concurrent MOQT subgroups.
    pub max_open_streams_per_subscriber: usize,
    /// Groups kept per track for late joiners (0 disables the cache).
    pub cache_groups: usize,
    /// Payload bytes kept per track. A group larger than this on its own is not cached.
    pub cache_bytes: usize,
    /// A cached group older than this (since its first object arrived) is dropped; a
    /// track's MAX_CACHE_DURATION Track Property shortens it for that track.
    pub cache_max_age: Duration,
    /// How long a track's cache is kept after its last subscriber left (or its upstream
    /// subscription ended), for FETCH and TRACK_STATUS; zero forgets it at once.
    pub cache_keep: Duration,
    /// Tracks whose cache is kept with nobody subscribed; past it the one kept longest is
    /// forgotten first.
    pub max_kept_tracks: usize,
    /// FETCH and TRACK_STATUS requests forwarded upstream and not yet answered, over all
    /// sessions. A further one is refused with EXCESSIVE_LOAD (lite: LIMIT_EXCEEDED).
    pub max_forwarded_requests: usize,
    /// Groups one FETCH may span when it is forwarded to a moq-lite publisher (lite
    /// fetches one group at a time, so the relay fetches them one after the other). A
    /// wider range is refused with EXCESSIVE_LOAD.
    pub max_lite_fetch_groups: u64,
    /// How long a FETCH without FILL_TIMEOUT (every moq-lite FETCH) may wait for upstream
    /// FETCHes to fill what the cache lacks before the rest is reported as Unknown
    /// (draft-18 "FILL TIMEOUT Parameter": absent = an implementation-specific duration).
    /// Zero: never wait (cached objects only).
    pub fetch_fill_default: Duration,
    /// The longest fill budget honoured: a larger FILL_TIMEOUT is cut to this (the draft
    /// lets a relay use a shorter timeout without saying so).
    pub fetch_fill_max: Duration,
    /// This relay's moq-lite Hop ID: set it to the `Config::lite_hop_id` its sessions use
    /// (non-zero, unique among the relays). A lite announce whose hop path holds it is the
    /// relay's own come back around a loop and is ignored. 0: no loop check.
    pub lite_hop_id: u64,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            max_namespaces: 4096,
            max_tracks: 4096,
            max_subscribers_per_track: 4096,
            max_waiting_subscribes: 1024,
            subscribe_wait: Duration::from_secs(2),
            moqt_default_rendezvous: Duration::ZERO,
            max_open_streams_per_subscriber: 8,
            cache_groups: 2,
            cache_bytes: 4 << 20,
            cache_max_age: Duration::from_secs(30),
            cache_keep: Duration::from_secs(10),
            max_kept_tracks: 1024,
            max_forwarded_requests: 1024,
            max_lite_fetch_groups: 64,
            fetch_fill_default: Duration::from_secs(5),
            fetch_fill_max: Duration::from_secs(30),
            lite_hop_id: 0,
        }
    }
}
