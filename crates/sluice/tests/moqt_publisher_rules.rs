//! draft-18 rules a publisher must follow that depend on what the application does:
//! refusing a REQUEST_UPDATE (§10.6 "Updating Subscriptions", with
//! `Config::hold_request_updates`), LARGEST_OBJECT from the objects the session wrote
//! (§"LARGEST OBJECT Parameter") and each object's Object Forwarding Preference (§"Object
//! Header"). The peer is raw bytes fed to one server `Session`, its output decoded back.

mod moqt_common;

use bytes::Bytes;
use moqt_common::written;
use sluice::{
    CommandError, Config, Event, Input, Location, MoqtVersion, ObjectWrite, Output, RequestHandle, Role,
    Session, StreamId, Time, TrackInfo, Version,
};
use sluice_wire::Encode;
use sluice_wire::moqt::codes::{PublishDoneCode, StreamResetCode};
use sluice_wire::moqt::control::ControlMessage;
use sluice_wire::moqt::location::Location as WireLocation;
use sluice_wire::moqt::message::{Fetch, FetchKind, RequestUpdate, Subscribe, TrackStatus};
use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
use sluice_wire::moqt::params::{Parameter, Parameters};
use sluice_wire::moqt::setup::Setup;

const D18: MoqtVersion = MoqtVersion::Draft18;

fn enc<M: Encode<Version = MoqtVersion>>(m: &M) -> Bytes {
    Bytes::from(m.encode_to_vec(D18).unwrap())
}

/// A server session whose client peer has sent SETUP.
fn server(cfg: Config) -> Session {
    let mut s = Session::new(cfg, Role::Server, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(D18) });
    s.handle(Time::ZERO, Input::StreamOpened { stream: StreamId(2), bidi: false });
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId(2), data: enc(&Setup::default()) });
    drain(&mut s);
    s
}

fn drain(s: &mut Session) -> Vec<Output> {
    std::iter::from_fn(|| s.poll()).collect()
}

fn track(name: &'static str) -> FullTrackName {
    FullTrackName::new(TrackNamespace::from_fields(["live"]), Bytes::from_static(name.as_bytes()))
}

/// Feeds `bytes` on peer bidi stream `stream` (opening it first when `open`).
fn feed(s: &mut Session, stream: u64, open: bool, bytes: Bytes) -> Vec<Output> {
    if open {
        s.handle(Time::ZERO, Input::StreamOpened { stream: StreamId(stream), bidi: true });
    }
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId(stream), data: bytes });
    drain(s)
}

/// The peer subscribes to `name` on `stream` with request id `id`; returns the handle.
fn subscribed(s: &mut Session, stream: u64, id: u64, name: &'static str) -> RequestHandle {
    let sub = Subscribe { request_id: id, track: track(name), parameters: Parameters::new() };
    let out = feed(s, stream, true, enc(&sub));
    out.iter()
        .find_map(|o| match o {
            Output::Event(Event::IncomingSubscribe { request, .. }) => Some(*request),
            _ => None,
        })
        .unwrap()
}

fn update(id: u64, priority: u8) -> Bytes {
    enc(&RequestUpdate {
        request_id: id,
        parameters: Parameters(vec![Parameter::SubscriberPriority(priority)]),
    })
}

fn largest(params: &Parameters) -> Option<(u64, u64)> {
    params.iter().find_map(|p| match p {
        Parameter::LargestObject(WireLocation { group, object }) => Some((*group, *object)),
        _ => None,
    })
}

fn hold() -> Config {
    Config { hold_request_updates: true, ..Config::default() }
}

/// §10.6: a refused subscription update gets REQUEST_ERROR, then PUBLISH_DONE
/// UPDATE_FAILED ends the subscription (its open subgroup stream reset first).
#[test]
fn refused_subscription_update_ends_with_publish_done_update_failed() {
    let mut s = server(hold());
    let h = subscribed(&mut s, 0, 0, "t");
    s.accept_subscribe(h, TrackInfo::default()).unwrap();
    let data = s.open_subgroup(h, 0, 0, None).unwrap();
    s.write_object(data, ObjectWrite::new(0, Bytes::from_static(b"x"))).unwrap();
    drain(&mut s);
    let out = feed(&mut s, 0, false, update(2, 9));
    // Held: the application hears of it, the peer gets no answer yet.
    let held: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::Event(Event::IncomingRequestUpdate { request, options }) => {
                Some((*request, options.priority))
            }
            _ => None,
        })
        .collect();
    assert_eq!(held, vec![(h, 9)]);
    assert_eq!(written(&out, 0), (vec![], false));
    s.reject_update(h, 0x3, "not allowed").unwrap();
    let out = drain(&mut s);
    let (msgs, fin) = written(&out, 0);
    assert!(fin);
    match msgs.as_slice() {
        [ControlMessage::RequestError(e), ControlMessage::PublishDone(d)] => {
            assert_eq!(e.code.0, 0x3);
            assert_eq!(d.status, PublishDoneCode::UPDATE_FAILED);
            assert_eq!(d.stream_count, 1);
        }
        other => panic!("{other:?}"),
    }
    assert!(out.contains(&Output::Reset { stream: data, code: StreamResetCode::CANCELLED.0 }), "{out:?}");
    assert_eq!(
        s.write_object(data, ObjectWrite::new(1, Bytes::new())),
        Err(CommandError::UnknownStream(data))
    );
    assert_eq!(s.reject_update(h, 0, ""), Err(CommandError::UnknownRequest(h)));
}

/// §10.6: updates held together are each answered (one REQUEST_OK per update) once
/// accepted, and the new options apply; the REQUEST_OK carries LARGEST_OBJECT since
/// objects were published (§"LARGEST OBJECT Parameter").
#[test]
fn accepted_held_updates_get_one_request_ok_each_with_largest_object() {
    let mut s = server(hold());
    let h = subscribed(&mut s, 0, 0, "t");
    s.accept_subscribe(h, TrackInfo::default()).unwrap();
    let data = s.open_subgroup(h, 4, 0, None).unwrap();
    s.write_object(data, ObjectWrite::new(6, Bytes::from_static(b"x"))).unwrap();
    drain(&mut s);
    let mut both = update(2, 9).to_vec();
    both.extend_from_slice(&update(4, 200));
    let out = feed(&mut s, 0, false, Bytes::from(both));
    let priorities: Vec<u8> = out
        .iter()
        .filter_map(|o| match o {
            Output::Event(Event::IncomingRequestUpdate { options, .. }) => Some(options.priority),
            _ => None,
        })
        .collect();
    assert_eq!(priorities, vec![9, 200]);
    assert_eq!(written(&out, 0), (vec![], false));
    s.accept_update(h).unwrap();
    let (msgs, fin) = written(&drain(&mut s), 0);
    assert!(!fin);
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    for m in &msgs {
        match m {
            ControlMessage::RequestOk(ok) => assert_eq!(largest(&ok.parameters), Some((4, 6))),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(s.accept_update(h), Err(CommandError::InvalidState("no update held")));
    // Without the flag the engine answers at once, with the same LARGEST_OBJECT.
    let mut s = server(Config::default());
    let h = subscribed(&mut s, 0, 0, "t");
    s.accept_subscribe(h, TrackInfo::default()).unwrap();
    let data = s.open_subgroup(h, 4, 0, None).unwrap();
    s.write_object(data, ObjectWrite::new(6, Bytes::from_static(b"x"))).unwrap();
    drain(&mut s);
    let out = feed(&mut s, 0, false, update(2, 9));
    match written(&out, 0).0.as_slice() {
        [ControlMessage::RequestOk(ok)] => assert_eq!(largest(&ok.parameters), Some((4, 6))),
        other => panic!("{other:?}"),
    }
    assert!(!out.iter().any(|o| matches!(o, Output::Event(Event::IncomingRequestUpdate { .. }))));
}

/// §10.6: "When a REQUEST_UPDATE fails for a FETCH, the publisher MUST reset the FETCH data
/// stream."
#[test]
fn refused_fetch_update_resets_the_fetch_data_stream() {
    let mut s = server(hold());
    let fetch = Fetch {
        request_id: 0,
        kind: FetchKind::Standalone {
            track: track("t"),
            start: WireLocation { group: 0, object: 0 },
            end: WireLocation { group: 5, object: 0 },
        },
        parameters: Parameters::new(),
    };
    let out = feed(&mut s, 0, true, enc(&fetch));
    let h = out
        .iter()
        .find_map(|o| match o {
            Output::Event(Event::IncomingFetch { request, .. }) => Some(*request),
            _ => None,
        })
        .unwrap();
    s.accept_fetch(h, Location { group: 5, object: 0 }).unwrap();
    s.write_fetch_object(h, 0, 0, ObjectWrite::new(0, Bytes::from_static(b"x"))).unwrap();
    let data = drain(&mut s)
        .iter()
        .find_map(|o| match o {
            Output::OpenStream { stream, bidi: false, .. } => Some(*stream),
            _ => None,
        })
        .unwrap();
    let out = feed(&mut s, 0, false, update(2, 1));
    assert!(
        out.iter().any(
            |o| matches!(o, Output::Event(Event::IncomingRequestUpdate { request, .. }) if *request == h)
        )
    );
    assert_eq!(written(&out, 0), (vec![], false));
    s.reject_update(h, 0x2, "no").unwrap();
    let out = drain(&mut s);
    match written(&out, 0) {
        (msgs, true) => match msgs.as_slice() {
            [ControlMessage::RequestError(e)] => assert_eq!(e.code.0, 0x2),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert!(out.contains(&Output::Reset { stream: data, code: StreamResetCode::CANCELLED.0 }), "{out:?}");
    assert!(s.write_fetch_object(h, 0, 0, ObjectWrite::new(1, Bytes::new())).is_err());
}

/// §"LARGEST OBJECT Parameter": "If Objects have been published on this Track the Publisher
/// MUST include this parameter": SUBSCRIBE_OK and TRACK_STATUS's REQUEST_OK carry the
/// largest Location written on the session even when the application's TrackInfo says
/// nothing or less; a track never written gets none.
#[test]
fn largest_object_covers_what_the_session_wrote() {
    let mut s = server(Config::default());
    let first = subscribed(&mut s, 0, 0, "t");
    s.accept_subscribe(first, TrackInfo::default()).unwrap();
    let data = s.open_subgroup(first, 3, 0, None).unwrap();
    for object in 0..8 {
        s.write_object(data, ObjectWrite::new(object, Bytes::from_static(b"x"))).unwrap();
    }
    s.send_datagram(first, 3, ObjectWrite::new(9, Bytes::from_static(b"d"))).unwrap();
    drain(&mut s);
    let ok_largest = |s: &mut Session, stream: u64, h: RequestHandle, info: TrackInfo| {
        s.accept_subscribe(h, info).unwrap();
        match written(&drain(s), stream).0.as_slice() {
            [ControlMessage::SubscribeOk(ok)] => largest(&ok.parameters),
            [ControlMessage::RequestOk(ok)] => largest(&ok.parameters),
            other => panic!("{other:?}"),
        }
    };
    // A second subscription while the first is live; then one after it ended.
    let second = subscribed(&mut s, 4, 2, "t");
    assert_eq!(ok_largest(&mut s, 4, second, TrackInfo::default()), Some((3, 9)));
    s.end_subscription(first, 0, "done").unwrap();
    s.end_subscription(second, 0, "done").unwrap();
    drain(&mut s);
    let third = subscribed(&mut s, 8, 4, "t");
    let lower = TrackInfo { largest: Some(Location { group: 2, object: 50 }), ..TrackInfo::default() };
    assert_eq!(ok_largest(&mut s, 8, third, lower), Some((3, 9)));
    // A larger value from the application stands.
    let fourth = subscribed(&mut s, 12, 6, "t");
    let higher = TrackInfo { largest: Some(Location { group: 7, object: 0 }), ..TrackInfo::default() };
    assert_eq!(ok_largest(&mut s, 12, fourth, higher), Some((7, 0)));
    // TRACK_STATUS of the written track, and a SUBSCRIBE of one never written.
    let status = TrackStatus { request_id: 8, track: track("t"), parameters: Parameters::new() };
    let out = feed(&mut s, 16, true, enc(&status));
    let h = out
        .iter()
        .find_map(|o| match o {
            Output::Event(Event::IncomingTrackStatus { request, .. }) => Some(*request),
            _ => None,
        })
        .unwrap();
    assert_eq!(ok_largest(&mut s, 16, h, TrackInfo::default()), Some((7, 0)));
    let other = subscribed(&mut s, 20, 10, "other");
    assert_eq!(ok_largest(&mut s, 20, other, TrackInfo::default()), None);
}

/// §"Object Header": the Object Forwarding Preference is per object ("can vary among
/// Objects in the same Track"), and "in a subscription, an Object MUST be sent according to
/// its Object Forwarding Preference": sending one object both ways is refused, mixing
/// different objects is not.
#[test]
fn an_object_keeps_its_forwarding_preference() {
    let mut s = server(Config::default());
    let h = subscribed(&mut s, 0, 0, "t");
    s.accept_subscribe(h, TrackInfo::default()).unwrap();
    let sg = s.open_subgroup(h, 0, 0, None).unwrap();
    s.write_object(sg, ObjectWrite::new(0, Bytes::from_static(b"a"))).unwrap();
    drain(&mut s);
    let refused = s.send_datagram(h, 0, ObjectWrite::new(0, Bytes::from_static(b"a")));
    assert_eq!(refused, Err(CommandError::ForwardingPreference { group: 0, object: 0 }));
    assert!(drain(&mut s).is_empty(), "nothing sent");
    // Another object of the same group may go as a datagram…
    s.send_datagram(h, 0, ObjectWrite::new(1, Bytes::from_static(b"b"))).unwrap();
    assert!(drain(&mut s).iter().any(|o| matches!(o, Output::Datagram(_))));
    // …but then not on a subgroup stream, while a later object may.
    let sg2 = s.open_subgroup(h, 0, 1, None).unwrap();
    let refused = s.write_object(sg2, ObjectWrite::new(1, Bytes::from_static(b"b")));
    assert_eq!(refused, Err(CommandError::ForwardingPreference { group: 0, object: 1 }));
    s.write_object(sg2, ObjectWrite::new(2, Bytes::from_static(b"c"))).unwrap();
}

/// `Config::max_forwarding_runs` bounds what the check remembers: a run of consecutive
/// objects of a group counts once, and past the bound the oldest runs are forgotten (the
/// check is best effort for them), never refused by mistake.
#[test]
fn the_forwarding_record_keeps_the_latest_runs() {
    let mut s = server(Config { max_forwarding_runs: 2, ..Config::default() });
    let h = subscribed(&mut s, 0, 0, "t");
    s.accept_subscribe(h, TrackInfo::default()).unwrap();
    // Groups 0, 1 and 2 on subgroup streams, ten objects each: three runs.
    for group in 0..3 {
        let sg = s.open_subgroup(h, group, 0, None).unwrap();
        for object in 0..10 {
            s.write_object(sg, ObjectWrite::new(object, Bytes::from_static(b"x"))).unwrap();
        }
        s.close_subgroup(sg, true).unwrap();
    }
    drain(&mut s);
    // Every object of groups 1 and 2 is still remembered (a refused object is not recorded)…
    for (group, object) in [(1, 0), (1, 9), (2, 0), (2, 9)] {
        let refused = s.send_datagram(h, group, ObjectWrite::new(object, Bytes::from_static(b"x")));
        assert_eq!(refused, Err(CommandError::ForwardingPreference { group, object }));
    }
    // …group 0's run was forgotten, and an object never sent is not refused.
    s.send_datagram(h, 0, ObjectWrite::new(9, Bytes::from_static(b"x"))).unwrap();
    s.send_datagram(h, 2, ObjectWrite::new(10, Bytes::from_static(b"x"))).unwrap();
    assert_eq!(drain(&mut s).iter().filter(|o| matches!(o, Output::Datagram(_))).count(), 2);
}
