//! FETCH End of Range markers (draft-18 §"End of Range"): written with
//! `Session::write_fetch_gap`, reported in order among the objects as `Event::FetchGap`.

use bytes::Bytes;
use sluice::{Config, Event, Location, MoqtVersion, Namespace, ObjectWrite, TrackName, Version};
use sluice_sim::{Pair, Side};

#[test]
fn gaps_arrive_in_order_between_objects() {
    let mut p = Pair::new(Version::Moqt(MoqtVersion::Draft18), Config::default(), Config::default());
    p.take_events(Side::Client);
    p.take_events(Side::Server);
    let track = TrackName::new(Namespace::from_fields(["vod"]), "v");
    let (start, end) = (Location { group: 0, object: 0 }, Location { group: 6, object: 0 });
    let f = p.client.fetch(track, start, end, 1).unwrap();
    p.run();
    let incoming = match p.take_events(Side::Server).as_slice() {
        [Event::IncomingFetch { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    let server = &mut p.server;
    server.accept_fetch(incoming, end).unwrap();
    server.write_fetch_object(incoming, 0, 0, ObjectWrite::new(0, Bytes::from_static(b"a"))).unwrap();
    // Groups 1..=2 were never published; group 3's status is unknown up to object 4.
    server.write_fetch_gap(incoming, Location { group: 2, object: 9 }, false).unwrap();
    server.write_fetch_gap(incoming, Location { group: 3, object: 4 }, true).unwrap();
    server.write_fetch_object(incoming, 4, 0, ObjectWrite::new(0, Bytes::from_static(b"b"))).unwrap();
    server.finish_fetch(incoming).unwrap();
    p.run();
    let seen: Vec<String> = p
        .take_events(Side::Client)
        .into_iter()
        .filter_map(|e| match e {
            Event::Object { info, .. } => Some(format!("object {}/{}", info.group, info.object)),
            Event::FetchGap { request, through, unknown } => {
                assert_eq!(request, f);
                Some(format!("gap to {}/{} unknown={unknown}", through.group, through.object))
            }
            _ => None,
        })
        .collect();
    assert_eq!(seen, ["object 0/0", "gap to 2/9 unknown=false", "gap to 3/4 unknown=true", "object 4/0"]);
}

#[test]
fn a_gap_that_goes_backwards_is_refused_and_sends_nothing() {
    let mut p = Pair::new(Version::Moqt(MoqtVersion::Draft18), Config::default(), Config::default());
    let track = TrackName::new(Namespace::from_fields(["vod"]), "v");
    p.client.fetch(track, Location { group: 0, object: 0 }, Location { group: 9, object: 0 }, 1).unwrap();
    p.run();
    let incoming = p
        .take_events(Side::Server)
        .into_iter()
        .find_map(|e| match e {
            Event::IncomingFetch { request, .. } => Some(request),
            _ => None,
        })
        .unwrap();
    p.server.accept_fetch(incoming, Location { group: 9, object: 0 }).unwrap();
    p.server.write_fetch_object(incoming, 5, 0, ObjectWrite::new(0, Bytes::from_static(b"x"))).unwrap();
    while p.server.poll().is_some() {}
    assert!(p.server.write_fetch_gap(incoming, Location { group: 3, object: 0 }, false).is_err());
    assert_eq!(p.server.poll(), None);
}
