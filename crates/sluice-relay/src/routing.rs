//! The namespace routing table: which session publishes which namespace, and which
//! announces the relay itself made on other sessions to advertise it.
//!
//! Publishers register a namespace in two ways: a MOQT PUBLISH_NAMESPACE (draft-18 §10.17,
//! `Event::IncomingAnnounce`), or, for moq-lite which has no unsolicited announce, an
//! ANNOUNCE `active` answering the relay's own announce interest on that session (lite-05
//! §Announce; `Event::NamespaceFound`). Either way the registration is an [`Origin`]: the
//! session and the request handle that carries it, so its withdrawal (IncomingAnnounceEnded,
//! NamespaceGone, DiscoveryEnded, session close) removes exactly it.
//!
//! Split horizon: a namespace is advertised on a session only while someone other than
//! that session's *neighbour* publishes it. A neighbour is the session itself, or every
//! session the caller tied to the same remote relay ([`crate::Relay::set_neighbour`]):
//! MOQT has no hop list, so two relays peered over two sessions would otherwise keep a
//! withdrawn namespace alive for each other, each one's announce backing the other's.
//!
//! Several sessions may publish the same namespace; the first registered is the one
//! subscriptions are routed to, later ones are kept as fall-backs that live tracks move to
//! when their publisher leaves or says GOAWAY (see `relay/switchover.rs`). A track is routed by longest registered namespace prefix (a lite
//! broadcast path may be announced at any depth of the track's namespace).

use std::collections::BTreeMap;

use sluice::{Namespace, RequestHandle};

use crate::sessions::SessionId;

/// One registration of a namespace by a publisher session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    /// The publisher session.
    pub session: SessionId,
    /// The request that carries the registration (incoming announce, or our discovery).
    pub request: RequestHandle,
}

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Routes {
    origins: BTreeMap<Namespace, Vec<Origin>>,
    /// Announces the relay made: (session it was made on, namespace) → its handle there.
    pub(crate) advertised: BTreeMap<(SessionId, Namespace), RequestHandle>,
    /// moq-lite hop path (origin first) of a namespace, as its first publisher reported
    /// it; carried in the relay's own announces of it.
    hops: BTreeMap<Namespace, Vec<u64>>,
}

impl Routes {
    /// Namespaces routed.
    pub(crate) fn len(&self) -> usize {
        self.origins.len()
    }

    /// True when `namespace` is routed.
    pub(crate) fn contains(&self, namespace: &Namespace) -> bool {
        self.origins.contains_key(namespace)
    }

    /// Records the hop path `namespace` came by, unless it is already routed (the first
    /// publisher's path is the one announced on).
    pub(crate) fn set_hops(&mut self, namespace: &Namespace, hops: Vec<u64>) {
        if !self.origins.contains_key(namespace) && !hops.is_empty() {
            self.hops.insert(namespace.clone(), hops);
        }
    }

    /// The hop path of `namespace` (empty when unknown or local).
    pub(crate) fn hops(&self, namespace: &Namespace) -> Vec<u64> {
        self.hops.get(namespace).cloned().unwrap_or_default()
    }

    /// Registers `origin` for `namespace`; true when the namespace is new.
    pub(crate) fn add(&mut self, namespace: Namespace, origin: Origin) -> bool {
        let list = self.origins.entry(namespace).or_default();
        if !list.contains(&origin) {
            list.push(origin);
        }
        list.len() == 1
    }

    /// Removes the registrations matching `keep == false`; returns the namespaces that lost
    /// their last origin.
    pub(crate) fn remove_where(
        &mut self,
        mut gone: impl FnMut(&Namespace, &Origin) -> bool,
    ) -> Vec<Namespace> {
        let mut emptied = Vec::new();
        self.origins.retain(|ns, list| {
            list.retain(|o| !gone(ns, o));
            if list.is_empty() {
                emptied.push(ns.clone());
            }
            !list.is_empty()
        });
        for ns in &emptied {
            self.hops.remove(ns);
        }
        emptied
    }

    /// The session to subscribe upstream for a track in `namespace`: the first `usable`
    /// origin of the longest registered prefix that has one.
    pub(crate) fn route(
        &self,
        namespace: &Namespace,
        usable: impl Fn(SessionId) -> bool,
    ) -> Option<SessionId> {
        (0..=namespace.0.len()).rev().find_map(|n| {
            let prefix = Namespace(namespace.0.iter().take(n).cloned().collect());
            self.origins.get(&prefix)?.iter().find(|o| usable(o.session)).map(|o| o.session)
        })
    }

    /// True when some session for which `other` holds publishes exactly `namespace`.
    pub(crate) fn published_by(&self, namespace: &Namespace, other: impl Fn(SessionId) -> bool) -> bool {
        self.origins.get(namespace).is_some_and(|list| list.iter().any(|o| other(o.session)))
    }

    /// Every routed namespace with the sessions publishing it.
    pub(crate) fn namespaces(&self) -> impl Iterator<Item = (&Namespace, &[Origin])> {
        self.origins.iter().map(|(ns, list)| (ns, list.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(s: u64, r: u64) -> Origin {
        Origin { session: SessionId(s), request: RequestHandle(r) }
    }

    #[test]
    fn routes_by_longest_prefix_and_skips_the_subscriber() {
        let mut routes = Routes::default();
        assert!(routes.add(Namespace::from_fields(["a"]), origin(1, 0)));
        assert!(routes.add(Namespace::from_fields(["a", "b"]), origin(2, 0)));
        assert!(!routes.add(Namespace::from_fields(["a", "b"]), origin(3, 0)));
        let ns = Namespace::from_fields(["a", "b", "c"]);
        assert_eq!(routes.route(&ns, |s| s != SessionId(9)), Some(SessionId(2)));
        assert_eq!(routes.route(&ns, |s| s != SessionId(2)), Some(SessionId(3)));
        assert_eq!(
            routes.route(&Namespace::from_fields(["a", "x"]), |s| s != SessionId(9)),
            Some(SessionId(1))
        );
        assert_eq!(routes.route(&Namespace::from_fields(["z"]), |_| true), None);
        let emptied = routes.remove_where(|_, o| o.session == SessionId(2) || o.session == SessionId(3));
        assert_eq!(emptied, vec![Namespace::from_fields(["a", "b"])]);
        assert_eq!(routes.route(&ns, |s| s != SessionId(9)), Some(SessionId(1)));
    }
}
