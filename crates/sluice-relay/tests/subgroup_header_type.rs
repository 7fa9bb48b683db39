//! The SUBGROUP_HEADER type says whether a stream's objects carry a properties field
//! (draft-18 §"Subgroup Header"); it is fixed by the stream's first byte. A publisher may
//! give a stream the properties-present type although its first object has none, and then
//! send later objects with properties. The relay mirrors the upstream stream's type (from
//! `ObjectInfo::properties_present`), so such objects are not dropped on the way.

mod common;

use bytes::Bytes;
use common::*;
use sluice::{Event, Namespace, ObjectWrite, SubscribeOptions, TrackName};
use sluice_relay::RelayConfig;
use sluice_sim::LinkConfig;

#[test]
fn later_objects_with_properties_cross_the_relay() {
    let mut node = Node::new(RelayConfig::default());
    let (_, mut publisher) = Publisher::new(&mut node, DRAFT18, LinkConfig::perfect());
    let ns = Namespace::from_fields(["live"]);
    node.peer(publisher.conn).announce(ns.clone()).unwrap();
    node.pump();
    let (_, sub) = node.connect(DRAFT18, LinkConfig::perfect());
    node.peer(sub).subscribe(TrackName::new(ns, "video"), SubscribeOptions::default()).unwrap();
    node.pump();
    publisher.serve(&mut node);
    let request = *publisher.subscriptions.last().unwrap();
    let props = Bytes::from_static(&[0x24, 0x09]); // unknown even type 0x24 = 9
    let session = node.peer(publisher.conn);
    let stream = session.open_subgroup(request, 0, 0, None).unwrap();
    let first = ObjectWrite { properties_present: Some(true), ..ObjectWrite::new(0, frame(0, 0, 10)) };
    session.write_object(stream, first).unwrap();
    let second = ObjectWrite { properties: props.clone().into(), ..ObjectWrite::new(1, frame(0, 1, 10)) };
    session.write_object(stream, second).unwrap();
    session.write_object(stream, ObjectWrite::new(2, frame(0, 2, 10))).unwrap();
    session.close_subgroup(stream, false).unwrap();
    node.pump();
    let got: Vec<(u64, Bytes, Bytes, bool)> = node
        .events(sub)
        .into_iter()
        .filter_map(|e| match e {
            Event::Object { info, payload, .. } => {
                Some((info.object, info.properties.into_bytes(), payload.to_bytes(), info.properties_present))
            }
            _ => None,
        })
        .collect();
    let expected: Vec<(u64, Bytes, Bytes, bool)> = (0..3)
        .map(|o| (o, if o == 1 { props.clone() } else { Bytes::new() }, frame(0, o, 10), true))
        .collect();
    assert_eq!(got, expected);
}
