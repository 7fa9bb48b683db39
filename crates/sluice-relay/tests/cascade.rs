//! Relays feeding relays: a chain publisher → R1 → R2 → R3 → subscriber (each relay's
//! session to the next is an ordinary client session the relay treats like any other),
//! in every version and in a mixed chain, and loops of relays that must neither bounce
//! announces forever nor keep a namespace alive after its publisher left.

mod common;

use common::mesh::Mesh;
use sluice::{
    Event, LiteVersion, MoqtVersion, Namespace, ObjectWrite, SubscribeOptions, TrackInfo, TrackName, Version,
};

const LITE04: Version = Version::Lite(LiteVersion::Lite04);
const LITE05: Version = Version::Lite(LiteVersion::Lite05);
const DRAFT18: Version = Version::Moqt(MoqtVersion::Draft18);

fn frame(group: u64, object: u64) -> bytes::Bytes {
    bytes::Bytes::from((0..200u64).map(|i| ((group * 13 + object * 5 + i) % 251) as u8).collect::<Vec<u8>>())
}

/// Publisher on R0, a chain R0 ← R1 ← R2 (each later relay a client of the one before),
/// subscriber on R2; `links` gives the version of each hop (publisher, R0-R1, R1-R2,
/// subscriber).
fn chain(versions: [Version; 4]) {
    let mut mesh = Mesh::new(3);
    let publisher = mesh.attach(0, versions[0]);
    mesh.link(1, 0, versions[1]);
    mesh.link(2, 1, versions[2]);
    let ns = Namespace::from_fields(["chain"]);
    mesh.peer(publisher).announce(ns.clone()).unwrap();
    mesh.pump();
    for r in 0..3 {
        assert_eq!(mesh.relays[r].namespaces(), vec![ns.clone()], "{versions:?}: R{r} routes it");
    }
    let subscriber = mesh.attach(2, versions[3]);
    let track = TrackName::new(ns.clone(), "video");
    mesh.peer(subscriber).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
    mesh.pump();

    let incoming: Vec<sluice::RequestHandle> = mesh
        .events(publisher)
        .into_iter()
        .filter_map(|e| match e {
            Event::IncomingSubscribe { request, .. } => Some(request),
            _ => None,
        })
        .collect();
    assert_eq!(incoming.len(), 1, "{versions:?}: one subscription reaches the publisher");
    mesh.peer(publisher).accept_subscribe(incoming[0], TrackInfo::default()).unwrap();
    mesh.pump();
    for group in 0..3 {
        let session = mesh.peer(publisher);
        let stream = session.open_subgroup(incoming[0], group, 0, None).unwrap();
        for object in 0..5 {
            let mut w = ObjectWrite::new(object, frame(group, object));
            w.timestamp = Some(group * 100 + object);
            session.write_object(stream, w).unwrap();
        }
        session.close_subgroup(stream, true).unwrap();
        mesh.pump();
    }
    let got: Vec<(u64, u64, bytes::Bytes)> = mesh
        .events(subscriber)
        .into_iter()
        .filter_map(|e| match e {
            Event::Object { info, payload, .. } if info.status == sluice::ObjectStatus::Normal => {
                Some((info.group, info.object, payload.to_bytes()))
            }
            _ => None,
        })
        .collect();
    let want: Vec<(u64, u64, bytes::Bytes)> =
        (0..3).flat_map(|g| (0..5).map(move |o| (g, o, frame(g, o)))).collect();
    assert_eq!(got, want, "{versions:?}: byte-identical through three relays");
    for r in 0..3 {
        assert_eq!(mesh.relays[r].tracks(), 1, "{versions:?}: R{r} relays one track");
    }

    // The publisher leaves: the namespace is withdrawn along the whole chain.
    mesh.net.disconnect(publisher, 0, "bye");
    mesh.pump();
    for r in 0..3 {
        assert!(mesh.relays[r].namespaces().is_empty(), "{versions:?}: R{r} forgot it");
        assert_eq!(mesh.relays[r].tracks(), 0, "{versions:?}: R{r} has no track left");
    }
}

#[test]
fn a_chain_of_three_relays_delivers_byte_identical_objects() {
    for v in [LITE04, LITE05, DRAFT18] {
        chain([v; 4]);
    }
    chain([LITE05, DRAFT18, LITE04, DRAFT18]);
    chain([DRAFT18, LITE05, DRAFT18, LITE04]);
}

/// Relays joined in a cycle learn a namespace once, and forget it when its publisher goes.
/// Returns how many looped announces R0 ignored.
fn cycle(relays: usize, version: Version) -> u64 {
    let mut mesh = Mesh::new(relays);
    for r in 0..relays {
        mesh.link((r + 1) % relays, r, version);
    }
    let publisher = mesh.attach(0, version);
    let ns = Namespace::from_fields(["loop"]);
    mesh.peer(publisher).announce(ns.clone()).unwrap();
    mesh.pump();
    for r in 0..relays {
        assert_eq!(mesh.relays[r].namespaces(), vec![ns.clone()], "{version:?}: R{r} of {relays}");
    }
    // A subscriber anywhere still gets the track.
    let subscriber = mesh.attach(relays - 1, version);
    mesh.peer(subscriber).subscribe(TrackName::new(ns.clone(), "t"), SubscribeOptions::default()).unwrap();
    mesh.pump();
    let asked =
        mesh.events(publisher).iter().filter(|e| matches!(e, Event::IncomingSubscribe { .. })).count();
    assert_eq!(asked, 1, "{version:?}: the subscription reaches the publisher once");

    mesh.net.disconnect(publisher, 0, "bye");
    mesh.pump();
    for r in 0..relays {
        assert!(mesh.relays[r].namespaces().is_empty(), "{version:?}: R{r} of {relays} still routes it");
    }
    mesh.relays[0].stats().looped_announces
}

#[test]
fn loops_of_relays_neither_bounce_announces_nor_keep_a_gone_namespace() {
    // Three relays in a ring: split-horizon withdrawal is enough, in every version.
    for v in [LITE04, LITE05, DRAFT18] {
        cycle(3, v);
    }
}

#[test]
fn lite_hop_ids_stop_an_announce_coming_back_to_its_relay() {
    // Two relays joined both ways: R1 re-announces R0's namespace to R0 over the second
    // connection. The hop path it carries holds R0's Hop ID, so R0 ignores it; without
    // it, R0 and R1 would keep the namespace alive for each other (MOQT has no hop list:
    // see the crate docs).
    for v in [LITE04, LITE05] {
        let looped = cycle(2, v);
        assert!(looped > 0, "{v:?}: R0 saw its own announce come back and ignored it");
    }
}
