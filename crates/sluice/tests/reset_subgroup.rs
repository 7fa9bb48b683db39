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
