//! Where the relay's one upstream subscription starts: at the latest group, unless the first
//! subscriber names a start (draft-18 §5.1.2 AbsoluteStart/AbsoluteRange, lite-04/05
//! §SUBSCRIBE Start Group), which may lie before the publisher's Largest Object and which
//! only the publisher can still serve. Found against moq-native, whose publisher wrote
//! groups 0..3 before a subscriber asked for them from group 0.

mod common;

use common::*;
use sluice::{Event, Filter, Location, Namespace, SubscribeOptions, TrackName};
use sluice_relay::RelayConfig;
use sluice_sim::LinkConfig;

/// The filter of the SUBSCRIBE the publisher got when the first subscriber asked `asked`.
fn upstream_filter(version: sluice::Version, asked: Filter) -> Option<Filter> {
    let mut node = Node::new(RelayConfig::default());
    let (_, mut publisher) = Publisher::new(&mut node, version, LinkConfig::perfect());
    let ns = Namespace::from_fields(["start"]);
    node.peer(publisher.conn).announce(ns.clone()).unwrap();
    node.pump();
    let (_, subscriber) = node.connect(version, LinkConfig::perfect());
    let options = SubscribeOptions { filter: asked, ..SubscribeOptions::default() };
    node.peer(subscriber).subscribe(TrackName::new(ns, "t"), options).unwrap();
    node.tick(30);
    publisher.serve(&mut node);
    publisher.log.iter().find_map(|e| match e {
        Event::IncomingSubscribe { options, .. } => Some(options.filter),
        _ => None,
    })
}

#[test]
fn an_explicit_start_is_asked_upstream_open_ended() {
    let start = Location { group: 0, object: 0 };
    for version in ALL {
        assert_eq!(
            upstream_filter(version, Filter::AbsoluteStart(start)),
            Some(Filter::AbsoluteStart(start)),
            "{version:?}"
        );
        assert_eq!(
            upstream_filter(version, Filter::AbsoluteRange { start, end_group: 1 }),
            Some(Filter::AbsoluteStart(start)),
            "{version:?}: a range is asked open ended, later subscribers may want more"
        );
    }
}

#[test]
fn latest_and_next_group_subscribe_upstream_from_the_latest_object() {
    for version in ALL {
        for asked in [Filter::LargestObject, Filter::NextGroup] {
            assert_eq!(upstream_filter(version, asked), Some(Filter::LargestObject), "{version:?} {asked:?}");
        }
    }
}
