//! Every limit a peer could otherwise push without bound, with defaults.
//!
//! Hitting a limit never panics or grows memory: the session answers with the draft's
//! error (REQUEST_ERROR EXCESSIVE_LOAD, a stream reset, or a session close); each engine's
//! module docs say which, and the tests check each.

use std::time::Duration;

/// Session limits and knobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Requests the peer may have open at once (subscriptions, fetches, announces, …).
    pub max_inbound_requests: usize,
    /// Subscriptions (in either direction) alive at once.
    pub max_subscriptions: usize,
    /// Namespace/announce-interest subscriptions from the peer alive at once.
    pub max_namespace_subscriptions: usize,
    /// Peer-opened streams alive at once (beyond which new ones are reset).
    pub max_peer_streams: usize,
    /// Bytes buffered on one receive stream before it is reset / the session closed.
    pub max_stream_buffer: usize,
    /// Bytes buffered across all receive streams of the session.
    pub max_session_buffer: usize,
    /// Bytes a stream may carry before its type/header identifies it.
    pub max_unidentified_bytes: usize,
    /// Bytes of data buffered for a not-yet-known MOQT track alias.
    pub max_unknown_alias_bytes: usize,
    /// How long data for an unknown MOQT track alias is kept before it is dropped.
    pub unknown_alias_timeout: Duration,
    /// The largest object/frame payload accepted.
    pub max_object_size: u64,
    /// What this endpoint says it is (MOQT_IMPLEMENTATION); `None` sends nothing.
    pub implementation: Option<String>,
    /// MAX_AUTH_TOKEN_CACHE_SIZE this endpoint offers (0 = no aliases).
    pub max_auth_token_cache: u64,
    /// moq-lite Hop ID of this endpoint (0 = unknown / withheld, the drafts' reserved value).
    /// Sent in lite-05 ANNOUNCE_OK and lite-04 hop lists; a non-zero value also becomes the
    /// Exclude Hop of our own announce requests (loop avoidance).
    pub lite_hop_id: u64,
    /// moq-lite Probe streams: when true we advertise the Report level (lite-05 SETUP Probe
    /// parameter = 1) and answer a peer's Probe stream (lite-04 and lite-05) with PROBE
    /// estimates from [`crate::Input::PathEstimate`]; when false (default) we advertise
    /// nothing and reset Probe streams, as the drafts require. Enable it only when the
    /// adapter feeds `PathEstimate`.
    pub lite_probe: bool,
    /// moq-lite publisher: the longest a graceful `end_subscription` holds back the Subscribe
    /// stream's FIN (lite-04/05 §Subscribe: FIN only once every group is accounted for)
    /// while group streams of the subscription are still open or, when the adapter reports
    /// [`crate::Input::StreamAcked`], not yet acknowledged. When it runs out, the open group
    /// streams are reset and the FIN goes out anyway, so a stuck stream cannot hold the
    /// subscription forever.
    pub lite_subscribe_end_wait: Duration,
    /// Broadcast paths one discovery (lite announce stream) may hold active at once.
    pub max_discovered_namespaces: usize,
    /// MOQT client over native QUIC: the PATH setup option (`None` sends nothing; leave it
    /// `None` over WebTransport, where the URI travels in the CONNECT request).
    pub path: Option<String>,
    /// MOQT client over native QUIC: the AUTHORITY setup option (`None` sends nothing).
    pub authority: Option<String>,
    /// MOQT subscriber: groups + subgroups remembered per subscription or fetch for the
    /// malformed-track checks; past it the lowest groups are forgotten (those checks are
    /// best effort, so this only limits detection).
    pub max_track_check_entries: usize,
    /// MOQT publisher: runs of consecutive objects remembered per subscription to refuse an
    /// object sent one way (subgroup stream or datagram) after it went the other
    /// (`CommandError::ForwardingPreference`); past it the oldest runs are forgotten (the
    /// check is best effort beyond). A subgroup stream's objects are usually one run, so
    /// the default remembers about the last 32 groups in 1 KiB per subscription.
    pub max_forwarding_runs: usize,
    /// MOQT: hold a peer's SUBSCRIBE_NAMESPACE and SUBSCRIBE_TRACKS until the application
    /// answers ([`crate::Event::IncomingNamespaceSubscription`] /
    /// [`crate::Event::IncomingTrackDiscovery`], then [`crate::Session::accept_discovery`] or
    /// [`crate::Session::reject`]), so it can check the subscriber's authorization first
    /// (draft-18 §10.19, §10.21). `false` (default): the engine accepts them at once.
    pub hold_namespace_subscriptions: bool,
    /// MOQT publisher: hold a peer's REQUEST_UPDATE of a subscription we publish or of a
    /// FETCH we serve until the application answers ([`crate::Event::IncomingRequestUpdate`],
    /// then [`crate::Session::accept_update`] or [`crate::Session::reject_update`]), so it can
    /// refuse one: the subscription then ends with PUBLISH_DONE UPDATE_FAILED, the fetch's
    /// data stream is reset (draft-18 §10.6 "Updating Subscriptions"). `false` (default):
    /// every well-formed update is accepted at once ([`crate::Event::SubscribeUpdated`]).
    pub hold_request_updates: bool,
    /// MOQT: the session runs over WebTransport (set by the adapter). PATH and AUTHORITY are
    /// then never sent, and receiving either closes the session with INVALID_PATH /
    /// INVALID_AUTHORITY (draft-18 §10.3.1).
    pub webtransport: bool,
    /// MOQT server over native QUIC: the PATH values it serves (`None`: any well-formed
    /// PATH); a client PATH not listed closes the session with INVALID_PATH (§10.3.1).
    pub accepted_paths: Option<Vec<String>>,
    /// MOQT server over native QUIC: the AUTHORITY values it serves (`None`: any
    /// well-formed AUTHORITY); one not listed closes the session with INVALID_AUTHORITY.
    pub accepted_authorities: Option<Vec<String>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_inbound_requests: 1024,
            max_subscriptions: 1024,
            max_namespace_subscriptions: 64,
            max_peer_streams: 4096,
            max_stream_buffer: 1 << 20,
            max_session_buffer: 64 << 20,
            max_unidentified_bytes: 64,
            max_unknown_alias_bytes: 256 << 10,
            unknown_alias_timeout: Duration::from_millis(500),
            max_object_size: 16 << 20,
            implementation: Some(concat!("sluice/", env!("CARGO_PKG_VERSION")).to_owned()),
            max_auth_token_cache: 0,
            lite_hop_id: 0,
            lite_probe: false,
            lite_subscribe_end_wait: Duration::from_secs(5),
            max_discovered_namespaces: 4096,
            path: None,
            authority: None,
            max_track_check_entries: 256,
            max_forwarding_runs: 32,
            hold_namespace_subscriptions: false,
            hold_request_updates: false,
            webtransport: false,
            accepted_paths: None,
            accepted_authorities: None,
        }
    }
}
