//! `Session::reset_subgroup`: the publisher abandons one open subgroup (lite: group)
//! stream; it is reset with the given code and forgotten, for every version.

use bytes::Bytes;
use sluice::{
    CommandError, Config, Event, Namespace, ObjectWrite, Output, SubscribeOptions, TrackInfo, TrackName,
    Version,
};
use sluice_sim::{Pair, Side};

#[test]
fn a_reset_subgroup_is_reset_with_its_code_and_forgotten() {
    for version in Version::ALL {
        let mut p = Pair::new(version, Config::default(), Config::default());
        p.take_events(Side::Client);
        p.take_events(Side::Server);
        let track = TrackName::new(Namespace::from_fields(["r"]), "t");
        p.client.subscribe(track, SubscribeOptions::default()).unwrap();
        p.run();
        let request = p
            .take_events(Side::Server)
            .into_iter()
            .find_map(|e| match e {
                Event::IncomingSubscribe { request, .. } => Some(request),
                _ => None,
            })
            .unwrap();
        p.server.accept_subscribe(request, TrackInfo::default()).unwrap();
        let stream = p.server.open_subgroup(request, 0, 0, None).unwrap();
        let mut first = ObjectWrite::new(0, Bytes::from_static(b"kept?"));
        first.timestamp = Some(0);
        p.server.write_object(stream, first).unwrap();
        while p.server.poll().is_some() {}

        p.server.reset_subgroup(stream, 7).unwrap();
        let outputs: Vec<Output> = std::iter::from_fn(|| p.server.poll()).collect();
        assert_eq!(outputs, vec![Output::Reset { stream, code: 7 }], "{version}");
        let mut again = ObjectWrite::new(1, Bytes::from_static(b"x"));
        again.timestamp = Some(1);
        assert_eq!(
            p.server.write_object(stream, again),
            Err(CommandError::UnknownStream(stream)),
            "{version}"
        );
        assert_eq!(p.server.reset_subgroup(stream, 7), Err(CommandError::UnknownStream(stream)), "{version}");
    }
}

/// The subscriber learns of the reset: its group is reported dropped (lite-04 §SUBSCRIBE:
/// a group is accounted for by its stream "completed or reset"; MOQT: a reset subgroup
/// stream), so it need not wait for the rest of the group.
#[test]
fn a_reset_group_stream_is_reported_dropped_to_the_subscriber() {
    for version in Version::ALL {
        let mut p = Pair::new(version, Config::default(), Config::default());
        p.take_events(Side::Client);
        p.take_events(Side::Server);
        let track = TrackName::new(Namespace::from_fields(["r"]), "t");
        let sub = p.client.subscribe(track, SubscribeOptions::default()).unwrap();
        p.run();
        let request = p
            .take_events(Side::Server)
            .into_iter()
            .find_map(|e| match e {
                Event::IncomingSubscribe { request, .. } => Some(request),
                _ => None,
            })
            .unwrap();
        p.server.accept_subscribe(request, TrackInfo::default()).unwrap();
        let stream = p.server.open_subgroup(request, 3, 0, None).unwrap();
        let mut first = ObjectWrite::new(0, Bytes::from_static(b"head"));
        first.timestamp = Some(0);
        p.server.write_object(stream, first).unwrap();
        p.run();
        let before = p.take_events(Side::Client);
        assert!(before.iter().any(|e| matches!(e, Event::Object { .. })), "{version}: {before:?}");

        p.server.reset_subgroup(stream, 7).unwrap();
        p.run();
        let dropped: Vec<(u64, u64, u64)> = p
            .take_events(Side::Client)
            .into_iter()
            .filter_map(|e| match e {
                Event::GroupsDropped { request, first, last, reason } if request == sub => {
                    Some((first, last, reason.code))
                }
                _ => None,
            })
            .collect();
        assert_eq!(dropped, vec![(3, 3, 7)], "{version}");
    }
}
