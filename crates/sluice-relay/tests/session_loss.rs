//! A peer connection going away: a publisher's namespaces are withdrawn and its tracks end
//! downstream; a subscriber's subscriptions leave (the last one cancelling upstream).

mod common;

use common::*;
use sluice::{Event, Namespace, SubscribeOptions, TrackName};
use sluice_relay::RelayConfig;
use sluice_sim::LinkConfig;

#[test]
fn publisher_loss_ends_tracks_and_withdraws_namespaces() {
    let mut node = Node::new(RelayConfig::default());
    let (_, mut publisher) = Publisher::new(&mut node, LITE05, LinkConfig::perfect());
    let ns = Namespace::from_fields(["live"]);
    node.peer(publisher.conn).announce(ns.clone()).unwrap();
    node.pump();
    let track = TrackName::new(ns.clone(), "video");
    let (_, moqt) = node.connect(DRAFT18, LinkConfig::perfect());
    let discovery = node.peer(moqt).discover(ns.clone()).unwrap();
    node.peer(moqt).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
    let (_, lite) = node.connect(LITE05, LinkConfig::perfect());
    node.peer(lite).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
    node.pump();
    publisher.serve(&mut node);
    publisher.write_group(&mut node, 0, 0..2, 100);

    node.net.disconnect(publisher.conn, 0, "bye");
    node.pump();
    node.tick(1);
    assert!(node.relay.namespaces().is_empty());
    assert_eq!(node.relay.tracks(), 0);
    let (mut m, mut l) = (Received::default(), Received::default());
    m.take(&mut node, moqt);
    l.take(&mut node, lite);
    assert_eq!(m.ids(), vec![(0, 0), (0, 1)]);
    assert_eq!(l.ids(), vec![(0, 0), (0, 1)]);
    assert_eq!(m.ended, Some(0x0), "MOQT: PUBLISH_DONE INTERNAL_ERROR");
    assert_eq!(l.ended, Some(13), "lite: reset NOT_FOUND");
    assert!(m.other.contains(&Event::NamespaceGone { request: discovery, namespace: ns }));
}

#[test]
fn subscriber_loss_leaves_and_the_last_cancels_upstream() {
    let mut node = Node::new(RelayConfig::default());
    let (_, mut publisher, track) = Publisher::live_video(&mut node, DRAFT18);
    let mut subs = Vec::new();
    for version in [LITE04, DRAFT18] {
        let (_, conn) = node.connect(version, LinkConfig::perfect());
        node.peer(conn).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
        subs.push(conn);
    }
    node.pump();
    publisher.serve(&mut node);
    node.net.disconnect(subs[0], 0, "bye");
    node.pump();
    assert_eq!(node.relay.subscribers(&track), 1);
    node.net.disconnect(subs[1], 0, "bye");
    node.pump();
    node.tick(1);
    publisher.serve(&mut node);
    assert_eq!(node.relay.tracks(), 0);
    assert!(publisher.log.contains(&Event::SubscriberGone { request: publisher.subscriptions[0] }));
}
