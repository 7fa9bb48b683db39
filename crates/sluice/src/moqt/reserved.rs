//! Reserved namespaces (draft-18 "Reserved Namespaces", "Session-Level Tracks and
//! Namespaces").
//!
//! Namespaces whose first field begins with `.` are reserved. Two of them are decided by
//! the engine itself, never reaching the application:
//!
//! * first field exactly `.`: no use at all; a peer request naming it is refused with
//!   REQUEST_ERROR DOES_NOT_EXIST;
//! * first field `.session`: session-level tracks and namespaces, which only extensions
//!   define — the engine implements none, so every peer request naming one (including the
//!   `.session` namespace with an empty track name) is refused with DOES_NOT_EXIST.
//!
//! Other reserved namespaces (e.g. `.future`) are passed to the application, so later
//! extensions work through it. The application may not publish or announce under any
//! reserved namespace (none is registered with a meaning it could use):
//! [`is_reserved`] makes `publish` / `announce` fail with `CommandError::InvalidState`.
//!
//! Our own side follows the same two rules: `subscribe`, `fetch`, `track_status`,
//! `discover` and `discover_tracks` naming `.` or `.session` fail with
//! `CommandError::InvalidState("reserved namespace")` before anything is sent ([`engine_only`]),
//! and a NAMESPACE / NAMESPACE_DONE the peer sends for such a namespace is not surfaced to
//! the application (the peer may not publish under `.`, and `.session` namespaces are
//! the implementation's, not the application's).
//!
//! "Naming" a namespace: the track of a SUBSCRIBE, PUBLISH, TRACK_STATUS or standalone
//! FETCH, the namespace of a PUBLISH_NAMESPACE, the prefix of a SUBSCRIBE_NAMESPACE or
//! SUBSCRIBE_TRACKS. A joining FETCH names its subscription's track, already checked.

use sluice_wire::moqt::control::ControlMessage;
use sluice_wire::moqt::message::FetchKind;
use sluice_wire::moqt::namespace::TrackNamespace;

use crate::model::Namespace;

/// True when the first field of `namespace` begins with `.` ("Reserved Namespaces").
pub(super) fn is_reserved(namespace: &Namespace) -> bool {
    namespace.0.first().is_some_and(|f| f.first() == Some(&b'.'))
}

/// True when the first field of `namespace` is exactly `.` or `.session`: the engine
/// decides requests naming it (it implements no session-level track), the application
/// never sees or sends them.
pub(super) fn engine_only(namespace: &Namespace) -> bool {
    namespace.0.first().is_some_and(|f| f.as_ref() == b"." || f.as_ref() == b".session")
}

/// True when a peer request names the `.` or the `.session` namespace, which the engine
/// refuses with DOES_NOT_EXIST.
pub(super) fn refused_by_engine(request: &ControlMessage) -> bool {
    let namespace: Option<&TrackNamespace> = match request {
        ControlMessage::Subscribe(m) => Some(&m.track.namespace),
        ControlMessage::Publish(m) => Some(&m.track.namespace),
        ControlMessage::TrackStatus(m) => Some(&m.track.namespace),
        ControlMessage::Fetch(m) => match &m.kind {
            FetchKind::Standalone { track, .. } => Some(&track.namespace),
            _ => None,
        },
        ControlMessage::PublishNamespace(m) => Some(&m.namespace),
        ControlMessage::SubscribeNamespace(m) => Some(&m.prefix),
        ControlMessage::SubscribeTracks(m) => Some(&m.prefix),
        _ => None,
    };
    namespace
        .and_then(|n| n.0.first())
        .is_some_and(|first| first.as_ref() == b"." || first.as_ref() == b".session")
}
