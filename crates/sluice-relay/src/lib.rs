//! sluice-relay: a sans-IO Media over QUIC relay over [`sluice::Session`]s.
//!
//! # Model
//!
//! The relay is a plain state machine, like the sessions it drives: no clock reads, no
//! sockets, no runtime, no threads. The caller's event loop owns the sessions (one per peer
//! connection, any mix of moq-lite-04, moq-lite-05 and MOQT draft-18) and names each with a
//! [`SessionId`]. It:
//!
//! 1. registers each session with [`Relay::add_session`] before feeding its events;
//! 2. feeds every application event a session produces to [`Relay::on_event`] (the
//!    session's `poll()` yields `Output::Event(e)`; transport outputs go to the transport as
//!    usual);
//! 3. arms a timer for [`Relay::poll_timeout`] and calls [`Relay::handle_timeout`];
//! 4. drains every session's `poll()` after each call, since the relay issues commands on
//!    them (through the [`Sessions`] trait, which gives the relay `&mut Session` by id for
//!    the duration of the call);
//! 5. optionally reports transport congestion per session with [`Relay::set_congested`].
//!
//! ```
//! use std::collections::BTreeMap;
//! use sluice::{Config, Input, Output, Role, Session, Time, Version};
//! use sluice_relay::{Relay, RelayConfig, SessionId};
//!
//! let mut relay = Relay::new(RelayConfig::default());
//! let mut sessions: BTreeMap<SessionId, Session> = BTreeMap::new();
//! let id = SessionId(7);
//! relay.add_session(id);
//! sessions.insert(id, Session::new(Config::default(), Role::Server, Time::ZERO));
//!
//! // The adapter reports a lite-04 connection (lite-04 is ready at once).
//! let now = Time::ZERO;
//! let version = Version::Lite(sluice::LiteVersion::Lite04);
//! sessions.get_mut(&id).unwrap().handle(now, Input::Connected { version });
//!
//! // Drain every session until quiet: events to the relay, the rest to the transport.
//! let mut to_transport = Vec::new();
//! loop {
//!     let mut moved = false;
//!     let ids: Vec<SessionId> = sessions.keys().copied().collect();
//!     for id in ids {
//!         while let Some(output) = sessions.get_mut(&id).and_then(Session::poll) {
//!             moved = true;
//!             match output {
//!                 Output::Event(event) => relay.on_event(now, id, event, &mut sessions),
//!                 other => to_transport.push((id, other)),
//!             }
//!         }
//!     }
//!     if !moved {
//!         break;
//!     }
//! }
//! // On `Ready` the relay asked the lite peer for its broadcasts: an Announce stream opened.
//! assert!(to_transport.iter().any(|(_, o)| matches!(o, Output::OpenStream { bidi: true, .. })));
//! ```
//!
//! The relay therefore never owns the sessions. This keeps it usable under any driver
//! (quinn, an io_uring loop, `sluice_sim::Network`, which owns its endpoints) and testable
//! with the simulator. It never touches a session's inputs except in one place
//! ([`track`]: resetting a downstream stream, for which the core has no command).
//!
//! # What it does
//!
//! * Namespace routing ([`routing`]): MOQT PUBLISH_NAMESPACE is accepted and registered;
//!   moq-lite has no unsolicited announce, so on each lite session's `Ready` the relay
//!   sends its own announce interest for the empty prefix (every broadcast) and registers
//!   each broadcast reported active. Every registered namespace is announced by the relay
//!   on every other session, and the sessions' engines answer discovery from that set
//!   (MOQT SUBSCRIBE_NAMESPACE → NAMESPACE / NAMESPACE_DONE; lite ANNOUNCE_INTEREST →
//!   ANNOUNCE active/ended), current and future matches, and withdrawals when the last
//!   publisher of a namespace leaves.
//! * Subscription aggregation ([`track`]): the first downstream SUBSCRIBE for a track makes
//!   one upstream subscription on the publisher of the longest matching namespace; later
//!   ones share it. Downstream subscriptions are accepted when the upstream is (and at once
//!   once it is live); the last one leaving cancels the upstream. An upstream end or
//!   failure is carried to every downstream subscription, its code mapped across families
//!   ([`codes`]).
//! * A SUBSCRIBE for a namespace nobody announced waits up to
//!   [`RelayConfig::subscribe_wait`] for a publisher, then fails with DOES_NOT_EXIST; a
//!   MOQT one waits its RENDEZVOUS_TIMEOUT (at most that), and without one (or with 0) is
//!   refused at once (draft-18 "RENDEZVOUS TIMEOUT Parameter";
//!   [`RelayConfig::moqt_default_rendezvous`]).
//! * Fan-out: each object goes to every accepted downstream subscription, on a stream per
//!   (group, subgroup), same payload `Bytes`, never reordered within a stream. Each
//!   downstream stream is opened on that subscriber's own subscription, so the core gives
//!   it that subscriber's priority and group order (and re-orders it on an update): under
//!   congestion each subscriber's important tracks and its preferred groups go first.
//! * Group order upstream: the upstream subscription asks the group order of the
//!   subscriber that created it (none: the publisher's default), so a first subscriber
//!   asking ascending gets a burst oldest-first and whole; later subscribers do not change
//!   it (draft-18 cannot update a subscription's group order).
//! * Slow subscribers: the core never blocks, so slowness is the transport's backlog; the
//!   caller reports it with [`Relay::set_congested`] and the relay stops opening groups for
//!   that session and resets its older group streams (freeing the transport's queued
//!   bytes), so the others are never stalled and nothing grows without bound.
//! * Group cache ([`cache`]): the latest groups of each track, bounded by count, bytes and
//!   age; a late moq-lite subscriber starts with the latest group from its start; a late
//!   MOQT `LargestObject` subscriber gets the objects after the Largest Location in its
//!   SUBSCRIBE_OK only (draft-18 §5.1.2), so the cache serves it nothing.
//! * FETCH (`relay/fetch.rs`): served from the cache when it covers the range (standalone,
//!   relative and absolute joining, lite whole-group), otherwise forwarded to the track's
//!   publisher and relayed back, End of Range markers included; a range the cache covers
//!   partly gets the uncached part from upstream, then the cached rest. The wait is bounded
//!   by the FETCH's FILL_TIMEOUT (else [`RelayConfig::fetch_fill_default`]); what did not
//!   come by then is an End of Unknown Range marker. FILL_TIMEOUT 0 never asks upstream. A track's cache is kept
//!   [`RelayConfig::cache_keep`] after its last subscriber left, for fetches and statuses.
//! * TRACK_STATUS (`relay/status.rs`): answered from what the relay knows of a relayed or
//!   kept track, else forwarded to the publisher.
//! * SUBSCRIBE_UPDATE / REQUEST_UPDATE (`relay/update.rs`): the upstream subscription takes
//!   the most important downstream priority and Forward=1 while any subscriber forwards;
//!   a subscriber with Forward=0 gets nothing until it forwards again (from a group start).
//! * Cascade: a relay's session to another relay is a session like any other (the caller
//!   adds it with [`Relay::add_session`], client or server side); namespaces announced on
//!   it are routed to it. Loops: a namespace is withdrawn from a session that is its only
//!   remaining publisher (split horizon; sessions the caller ties to one remote relay with
//!   [`Relay::set_neighbour`] count as one), and on moq-lite the relay carries each
//!   namespace's hop path and ignores its own announce coming back
//!   ([`RelayConfig::lite_hop_id`]).
//! * Publisher switchover (`relay/switchover.rs`): a publisher saying GOAWAY, or whose
//!   session dies, hands its live tracks to another publisher of the namespace (its
//!   reconnection announcing again, or a second publisher) without the subscribers
//!   resubscribing; the group in progress goes on from the new publisher, its repeats
//!   dropped, under draft-18's next-object rule (a downstream stream is continued only by
//!   its next object, else reset and a new one opened); with nobody to take over, MOQT
//!   subscribers get PUBLISH_DONE GOING_AWAY.
//! * MOQT PUBLISH (`relay/push.rs`): a pushed track is relayed like a subscribed one.
//! * SUBSCRIBE_TRACKS (`relay/track_push.rs`): a MOQT session asking for a prefix's tracks
//!   gets every matching live track PUBLISHed to it, now and as tracks go live; each
//!   accepted PUBLISH is a downstream subscription like a SUBSCRIBE. The request is
//!   forwarded to the draft-18 sessions publishing an overlapping namespace (one upstream
//!   SUBSCRIBE_TRACKS per upstream session covering every downstream prefix under it,
//!   cancelled with its last downstream one), and the PUBLISHes they send back are pushed
//!   on. A second subscription of one session to one track (a SUBSCRIBE for a track
//!   PUBLISHed to it, or a PUBLISH of a track the relay subscribed to on that session) is
//!   refused with DUPLICATE_SUBSCRIPTION (draft-18 §"Subscriptions").
//! * Limits ([`RelayConfig`]): namespaces, tracks, subscribers per track, waiting
//!   subscriptions, forwarded fetches and statuses, groups of a fetch forwarded to a lite
//!   publisher, kept caches; past one a request is refused with EXCESSIVE_LOAD (lite: reset
//!   with LIMIT_EXCEEDED).
//!
//! # Cross-version forwarding and what it loses
//!
//! The data model is version-neutral (`sluice::model`), so a lite publisher feeds MOQT
//! subscribers and the reverse. What does not survive:
//! * MOQT → lite: subgroups (all subgroups of a group share the one lite group stream, in
//!   arrival order), object ids (lite frames are numbered 0, 1, 2… in arrival order, so
//!   gaps vanish), object properties, status objects (END_OF_GROUP becomes the group
//!   stream's FIN), and lite-05 timestamps are invented (relay arrival time in ms);
//!   namespace fields containing `/` or non-UTF-8 bytes (lite paths are `/`-joined text);
//!   every Track Property but priority, group order and OBJECT_DELIVERY_TIMEOUT (lite's
//!   max latency), NEW_GROUP_REQUEST (see docs/wire.md).
//! * lite → MOQT: the lite-05 frame timestamp and TRACK_INFO timescale (MOQT has neither).
//! * MOQT → MOQT: Track Properties the relay does not type (unknown ones, Immutable
//!   Properties) are forwarded and cached with the track unchanged (`TrackInfo::properties`);
//!   MAX_CACHE_DURATION shortens the track's cache age; NEW_GROUP_REQUEST follows the
//!   draft's relay rules (`relay/new_group.rs`).
//! * Error/end codes: graceful ends map to graceful ends, anything else to the target
//!   family's generic code ([`codes`]).
//!
//! * Datagrams: an object that arrived as a datagram is forwarded on a subgroup stream.
//!
//! What maps where in the later features, and what is lost:
//! * FETCH, MOQT → lite: a lite FETCH is one whole group; the relay asks MOQT for
//!   `(g, 0)..(g + 1, 0)` and numbers the objects as frames 0, 1, 2… (ids and gaps lost);
//!   End of Range markers have no lite form and are dropped; a group still being published
//!   is served with what has arrived so far.
//! * FETCH, lite → MOQT: a multi-group range becomes one lite FETCH per group, one after
//!   the other (at most [`RelayConfig::max_lite_fetch_groups`]); the downstream FETCH_OK is
//!   sent at once with the asked end (lite has no FETCH_OK); a group the publisher refuses
//!   becomes an End of Unknown Range marker; objects outside the range are dropped.
//! * FETCH after the downstream was accepted: an upstream failure aborts it (its data
//!   stream reset with the upstream's code in the same family, else MOQT
//!   UNKNOWN_OBJECT_STATUS / lite NOT_FOUND); only a lite publisher refusing one group of
//!   a range served to MOQT becomes an End of Unknown Range marker and the fetch goes on.
//!   Upstream fetches go at the downstream FETCH's subscriber priority (lite: mapped
//!   `255 - p` both ways, so it survives a lite hop exactly).
//! * TRACK_STATUS: lite-05 TRACK_INFO has no largest location (lost toward MOQT askers);
//!   lite-04 has no status request (NOT_SUPPORTED). No forwarding state is reported:
//!   draft-18 TRACK_STATUS_OK carries SUBSCRIBE_OK's parameters, and FORWARD may only
//!   appear in SUBSCRIBE, REQUEST_UPDATE, PUBLISH, PUBLISH_OK and SUBSCRIBE_TRACKS
//!   ("FORWARD Parameter"), so the draft has no field for it.
//! * Priorities: a subscriber's priority and group order apply to its own downstream
//!   streams in any version (lite's priority sense is inverted by the core); upstream gets
//!   the most important downstream priority and the first subscriber's group order. lite
//!   subscribers ask either ascending (`ordered`) or descending, never "publisher's
//!   default".
//! * Updates: filter changes are recorded but not applied; moq-lite has no Forward state,
//!   so toward a lite publisher only the priority follows; the upstream group order is
//!   never updated (draft-18 REQUEST_UPDATE has no GROUP_ORDER).
//! * SUBSCRIBE_TRACKS → PUBLISH: the core's PUBLISH always says Forward=1, so a
//!   SUBSCRIBE_TRACKS with Forward=0 is honoured through the peer's PUBLISH_OK only; no
//!   PUBLISH_BLOCKED is sent (over the per-track subscriber limit a track is simply not
//!   pushed). Upstream, SUBSCRIBE_TRACKS goes to draft-18 publishers only: moq-lite has no
//!   push and announces broadcasts, not tracks, so a lite publisher's tracks reach a
//!   SUBSCRIBE_TRACKS only once someone subscribed to them (they are then live and
//!   pushed). The upstream request carries no FORWARD (the relay always takes the
//!   objects). A track pushed in answer stays until its publisher ends it, even after the
//!   SUBSCRIBE_TRACKS that asked for it ended (draft-18 §"Subscribing to Namespaces":
//!   cancelling does not end the PUBLISHes made).
//! * Switchover: past 64 subgroups in one group the relay stops tracking it, and the group
//!   in progress at a switch is cut (reset) instead of continued; moq-lite subscribers
//!   see no object ids, so a gap in a continued group is invisible to them.
//! * MOQT has no hop list: two relays joined by two sessions (a two-relay loop) keep a
//!   withdrawn namespace alive for each other until a session closes unless the caller
//!   ties the sessions to one neighbour ([`Relay::set_neighbour`]); rings of three or
//!   more converge by split horizon. A namespace is announced once, when first
//!   registered, and never re-announced after a split-horizon withdrawal (that is what
//!   makes rings converge), so a second publisher behind a neighbour is not announced
//!   back to it when the first one leaves.
//!
//! * FETCH fill, lite: a lite FETCH is one whole group with no FILL_TIMEOUT and no
//!   End of Range marker: the default budget applies, and what did not come in time is
//!   simply absent (frames renumbered). A lite group is partly cached only when the relay
//!   joined the track mid-group.
//!
//! # Where the core API made the relay work around it
//!
//! * Until `Event::SubgroupEnded` existed, no event said an upstream group/subgroup stream
//!   finished; downstream streams now end exactly when their upstream stream does.
//! * The core forgets a stream once it is finished, so a finished stream still queued in a
//!   slow transport cannot be reset; the relay keeps a congested subscriber's ended groups
//!   open until the next group starts for that reason.
//! * No signal of a session's transport backlog: the caller reports congestion
//!   ([`Relay::set_congested`]).
//! * No event for a peer's MOQT SUBSCRIBE_NAMESPACE (the engine answers it from the
//!   namespaces announced on that session): the relay therefore announces every namespace
//!   on every other MOQT session (PUBLISH_NAMESPACE), whether or not it asked, instead of
//!   only on those that subscribed to a matching prefix.
//! * Added to the core for the relay: `Session::announce_relayed` and
//!   `Session::discovered_hops` (moq-lite hop paths); `Event::PublishRefused` (a refused
//!   PUBLISH with its code); `reject` on an accepted MOQT fetch aborts it with a reset
//!   code; `Event::IncomingFetch::priority`.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod cache;
pub mod codes;
pub mod config;
pub mod relay;
pub mod routing;
pub mod sessions;
pub mod stats;
pub mod track;

pub use config::RelayConfig;
pub use relay::Relay;
pub use sessions::{SessionId, Sessions};
pub use stats::RelayStats;
