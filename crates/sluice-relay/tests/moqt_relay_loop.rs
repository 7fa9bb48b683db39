//! Two relays peered both ways over MOQT (each dials the other: two sessions between
//! them). MOQT carries no hop list, so each relay's announce of a namespace would back the
//! other's after its publisher left; tied to one neighbour ([`Relay::set_neighbour`]),
//! the two sessions count as one for split horizon, and a withdrawal (PUBLISH_NAMESPACE_DONE
//! or the publisher's session closing) empties both relays.

mod common;

use common::mesh::Mesh;
use common::*;
use sluice::{Event, Namespace, SubscribeOptions, TrackName};
use sluice_relay::Relay;

fn ns() -> Namespace {
    Namespace::from_fields(["loop"])
}

/// R0 and R1 joined by two draft-18 sessions, one dialed each way; `tie`: each relay told
/// both sessions lead to the other.
fn pair(tie: bool) -> Mesh {
    let mut mesh = Mesh::new(2);
    let (a1, a0) = mesh.link(1, 0, DRAFT18);
    let (b0, b1) = mesh.link(0, 1, DRAFT18);
    if tie {
        for id in [a0, b0] {
            mesh.relays[0].set_neighbour(id, 1);
        }
        for id in [a1, b1] {
            mesh.relays[1].set_neighbour(id, 0);
        }
    }
    mesh
}

fn routed(mesh: &Mesh) -> Vec<Vec<Namespace>> {
    mesh.relays.iter().map(Relay::namespaces).collect()
}

#[test]
fn a_withdrawn_namespace_leaves_both_relays_peered_both_ways() {
    for cancel in [true, false] {
        let tag = if cancel { "PUBLISH_NAMESPACE_DONE" } else { "session closed" };
        let mut mesh = pair(true);
        let publisher = mesh.attach(0, DRAFT18);
        let announce = mesh.peer(publisher).announce(ns()).unwrap();
        mesh.pump();
        assert_eq!(routed(&mesh), vec![vec![ns()], vec![ns()]], "{tag}");
        // A namespace watcher on R1, and a subscriber there reaching the publisher once.
        let watcher = mesh.attach(1, DRAFT18);
        mesh.peer(watcher).discover(Namespace::default()).unwrap();
        let subscriber = mesh.attach(1, DRAFT18);
        mesh.peer(subscriber).subscribe(TrackName::new(ns(), "t"), SubscribeOptions::default()).unwrap();
        mesh.pump();
        let asked =
            mesh.events(publisher).iter().filter(|e| matches!(e, Event::IncomingSubscribe { .. })).count();
        assert_eq!(asked, 1, "{tag}: one subscription reaches the publisher");
        assert!(
            mesh.events(watcher).iter().any(|e| matches!(e, Event::NamespaceFound { .. })),
            "{tag}: the watcher found it"
        );

        if cancel {
            mesh.peer(publisher).cancel(announce).unwrap();
        } else {
            mesh.net.disconnect(publisher, 0, "bye");
        }
        mesh.pump();
        assert_eq!(routed(&mesh), vec![Vec::<Namespace>::new(), Vec::new()], "{tag}: forgotten by both");
        assert!(
            mesh.events(watcher).iter().any(|e| matches!(e, Event::NamespaceGone { .. })),
            "{tag}: the withdrawal reached the watcher"
        );
    }
}

#[test]
fn untied_the_two_sessions_keep_a_withdrawn_namespace_alive() {
    // The limitation the neighbour tie lifts: each relay's announce over one session backs
    // the other's over the other session (see the crate docs).
    let mut mesh = pair(false);
    let publisher = mesh.attach(0, DRAFT18);
    let announce = mesh.peer(publisher).announce(ns()).unwrap();
    mesh.pump();
    mesh.peer(publisher).cancel(announce).unwrap();
    mesh.pump();
    assert_eq!(routed(&mesh), vec![vec![ns()], vec![ns()]]);
}
