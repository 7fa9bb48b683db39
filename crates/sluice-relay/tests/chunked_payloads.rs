//! Payloads that reach the relay in several stream chunks (the publisher's link cuts stream
//! data into 100-byte packets, as QUIC does into frames) are forwarded as those chunks: each
//! subscriber gets every object byte for byte, and each chunk it gets is a slice of the
//! publisher's own payload allocation at the right offset, so nothing was copied or joined
//! anywhere (`RelayStats::payload_copies` stays 0).

mod common;

use common::*;
use sluice::{Event, Namespace, ObjectStatus, Payload, SubscribeOptions, TrackName, Version};
use sluice_relay::RelayConfig;
use sluice_sim::LinkConfig;

const PACKET: usize = 100;
const LEN: usize = 1200;

fn chunked_upstream(version: Version) {
    let mut node = Node::new(RelayConfig::default());
    let upstream = LinkConfig::perfect().with_bandwidth(100_000_000).with_packet_size(PACKET);
    let (_, mut publisher) = Publisher::new(&mut node, version, upstream);
    node.tick(2);
    let ns = Namespace::from_fields(["live", "chunked"]);
    node.peer(publisher.conn).announce(ns.clone()).unwrap();
    node.tick(1);
    let track = TrackName::new(ns, "video");
    let subs: Vec<_> = (0..2)
        .map(|_| {
            let (_, conn) = node.connect(version, LinkConfig::perfect());
            node.peer(conn).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
            conn
        })
        .collect();
    node.tick(1);
    publisher.serve(&mut node);
    node.tick(1);
    for group in 0..2 {
        publisher.write_group(&mut node, group, 0..4, LEN);
        node.tick(2);
    }
    let expected: Vec<(u64, u64)> = (0..2).flat_map(|g| (0..4).map(move |o| (g, o))).collect();
    for conn in subs {
        let got: Vec<(u64, u64, Payload)> = node
            .events(conn)
            .into_iter()
            .filter_map(|e| match e {
                Event::Object { info, payload, .. } if info.status == ObjectStatus::Normal => {
                    Some((info.group, info.object, payload))
                }
                _ => None,
            })
            .collect();
        let ids: Vec<(u64, u64)> = got.iter().map(|(g, o, _)| (*g, *o)).collect();
        assert_eq!(ids, expected, "{version:?}: every object, in order");
        for ((g, o, payload), original) in got.iter().zip(&publisher.written) {
            assert_eq!(payload.to_bytes(), frame(*g, *o, LEN), "{version:?} ({g}, {o}): payload bytes");
            assert!(payload.chunks().len() > 1, "{version:?} ({g}, {o}): arrived in chunks");
            let mut offset = 0;
            for chunk in payload.chunks() {
                assert_eq!(
                    chunk.as_ptr(),
                    original[offset..].as_ptr(),
                    "{version:?} ({g}, {o}): chunk at {offset} is the publisher's memory"
                );
                offset += chunk.len();
            }
        }
    }
    assert_eq!(node.relay.stats().objects_forwarded, 16, "{version:?}");
    assert_eq!(node.relay.stats().payload_copies, 0, "{version:?}");
}

#[test]
fn lite04_chunked_payloads_are_forwarded_without_copies() {
    chunked_upstream(LITE04);
}

#[test]
fn lite05_chunked_payloads_are_forwarded_without_copies() {
    chunked_upstream(LITE05);
}

#[test]
fn draft18_chunked_payloads_are_forwarded_without_copies() {
    chunked_upstream(DRAFT18);
}
