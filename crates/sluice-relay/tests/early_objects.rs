//! A publisher may write a group right after accepting the relay's subscription, and the
//! group streams race the SUBSCRIBE_OK (different streams; the adapter reports them in
//! whatever order it reads them), so the relay can see objects before it learns its
//! upstream subscription was accepted. The downstream subscriptions that were waiting for
//! that answer must still get every group, not only the latest one cached.
//! (The `sluice` pipeline test lost group 0 this way about one run in seven under load.)

mod common;

use common::*;
use sluice::{Event, SubscribeOptions, Version};
use sluice_relay::RelayConfig;
use sluice_sim::{LinkConfig, Side};

const OBJECTS: u64 = 3;
const LEN: usize = 200;

fn early_objects(version: Version) {
    let mut node = Node::new(RelayConfig::default());
    let (publisher_id, mut publisher, track) = Publisher::live_video(&mut node, version);
    let mut subs = Vec::new();
    for sub_version in ALL {
        let (_, conn) = node.connect(sub_version, LinkConfig::perfect());
        node.peer(conn).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
        subs.push((sub_version, conn, Received::default()));
    }
    node.pump();

    // Accept and write groups 0 and 1 at once, then hand the relay its publisher session's
    // events with the SUBSCRIBE_OK (`Subscribed`) last, as if the group streams had been
    // read first.
    let request = node
        .events(publisher.conn)
        .into_iter()
        .find_map(|e| match e {
            Event::IncomingSubscribe { request, .. } => Some(request),
            _ => None,
        })
        .expect("the relay subscribed upstream");
    node.peer(publisher.conn).accept_subscribe(request, sluice::TrackInfo::default()).unwrap();
    publisher.subscriptions.push(request);
    for group in 0..2 {
        let session = node.peer(publisher.conn);
        let stream = session.open_subgroup(request, group, 0, None).unwrap();
        for object in 0..OBJECTS {
            let mut write = sluice::ObjectWrite::new(object, frame(group, object, LEN));
            write.timestamp = Some(group * 1000 + object);
            session.write_object(stream, write).unwrap();
        }
        session.close_subgroup(stream, false).unwrap();
    }
    node.net.run();
    let (mut answer, mut rest): (Vec<Event>, Vec<Event>) = node
        .net
        .take_events(publisher.conn, Side::Server)
        .into_iter()
        .partition(|e| matches!(e, Event::Subscribed { .. }));
    assert_eq!(answer.len(), 1, "{version:?}: one SUBSCRIBE_OK");
    assert!(rest.iter().any(|e| matches!(e, Event::Object { .. })), "{version:?}: objects came too");
    rest.append(&mut answer);
    let now = node.now();
    for event in rest {
        let mut sessions = NetSessions { net: &mut node.net, conns: &node.conns };
        node.relay.on_event(now, publisher_id, event, &mut sessions);
    }
    node.pump();
    node.tick(1);

    let want: Vec<(u64, u64)> = (0..2).flat_map(|g| (0..OBJECTS).map(move |o| (g, o))).collect();
    for (sub_version, conn, got) in &mut subs {
        got.take(&mut node, *conn);
        let what = format!("{version:?} → {sub_version:?}");
        assert!(got.subscribed, "{what}: subscribed");
        let mut ids = got.ids();
        ids.sort_unstable();
        assert_eq!(ids, want, "{what}: both groups, every object once");
        for (group, _, object, payload, _) in &got.objects {
            assert_eq!(payload, &frame(*group, *object, LEN), "{what}: ({group}, {object}) bytes");
        }
    }
}

#[test]
fn lite04_objects_before_the_subscribe_ok_reach_waiting_subscribers() {
    early_objects(LITE04);
}

#[test]
fn lite05_objects_before_the_subscribe_ok_reach_waiting_subscribers() {
    early_objects(LITE05);
}

#[test]
fn draft18_objects_before_the_subscribe_ok_reach_waiting_subscribers() {
    early_objects(DRAFT18);
}
