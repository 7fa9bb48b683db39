//! Send order of MOQT data streams (draft-18 §7): subscriber priority first, then
//! publisher priority, then group order; updated on REQUEST_UPDATE.

use bytes::Bytes;
use sluice::{
    Config, Event, GroupOrder, MoqtVersion, Namespace, Output, RequestHandle, SendOrder, StreamId,
    SubscribeOptions, TrackInfo, TrackName, Version,
};
use sluice_sim::{Pair, Side};

const V: Version = Version::Moqt(MoqtVersion::Draft18);

fn accepted(
    p: &mut Pair,
    name: &str,
    options: SubscribeOptions,
    info: TrackInfo,
) -> (RequestHandle, RequestHandle) {
    let track = TrackName::new(Namespace::from_fields(["p"]), name);
    let s = p.client.subscribe(track, options).unwrap();
    p.run();
    let incoming = match p.take_events(Side::Server).as_slice() {
        [Event::IncomingSubscribe { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    p.server.accept_subscribe(incoming, info).unwrap();
    p.run();
    p.take_events(Side::Client);
    (s, incoming)
}

/// Opens a subgroup and returns the send order the server gave it (outputs are inspected,
/// not delivered).
fn order_of(p: &mut Pair, request: RequestHandle, group: u64, priority: Option<u8>) -> (StreamId, SendOrder) {
    let stream = p.server.open_subgroup(request, group, 0, priority).unwrap();
    let mut found = None;
    while let Some(o) = p.server.poll() {
        if let Output::OpenStream { stream: s, order, .. } = o
            && s == stream
        {
            found = Some(order);
        }
    }
    (stream, found.unwrap())
}

fn pair() -> Pair {
    let mut p = Pair::new(V, Config::default(), Config::default());
    p.take_events(Side::Client);
    p.take_events(Side::Server);
    p
}

#[test]
fn subscriber_priority_then_publisher_priority_then_group_order() {
    let mut p = pair();
    let urgent = SubscribeOptions { priority: 1, ..SubscribeOptions::default() };
    let lazy = SubscribeOptions { priority: 200, ..SubscribeOptions::default() };
    let (_, a) = accepted(&mut p, "a", urgent, TrackInfo { publisher_priority: 250, ..TrackInfo::default() });
    let (_, b) = accepted(&mut p, "b", lazy, TrackInfo { publisher_priority: 0, ..TrackInfo::default() });
    let (_, oa) = order_of(&mut p, a, 0, None);
    let (_, ob) = order_of(&mut p, b, 0, None);
    assert!(oa > ob, "subscriber priority 1 beats 200 whatever the publisher says: {oa:?} {ob:?}");
    // Same subscription: the header's publisher priority decides.
    let (_, hi) = order_of(&mut p, a, 1, Some(3));
    let (_, lo) = order_of(&mut p, a, 1, Some(4));
    assert!(hi > lo);
    // Same priorities: ascending group order sends older groups first.
    let (_, g5) = order_of(&mut p, a, 5, Some(3));
    let (_, g6) = order_of(&mut p, a, 6, Some(3));
    assert!(g5 > g6);
    // Data streams stay below request and control streams.
    assert!(oa < SendOrder(i32::MAX - 1));
}

#[test]
fn descending_group_order_sends_newer_groups_first() {
    let mut p = pair();
    let opts = SubscribeOptions { group_order: Some(GroupOrder::Descending), ..SubscribeOptions::default() };
    let (_, a) = accepted(&mut p, "a", opts, TrackInfo::default());
    let (_, g5) = order_of(&mut p, a, 5, None);
    let (_, g6) = order_of(&mut p, a, 6, None);
    assert!(g6 > g5);
}

#[test]
fn request_update_reorders_open_streams() {
    use sluice::{Input, Role, Session, Time};
    use sluice_wire::Encode;
    use sluice_wire::moqt::message::{RequestUpdate, Subscribe};
    use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
    use sluice_wire::moqt::params::{Parameter, Parameters};
    use sluice_wire::moqt::setup::Setup;
    const D18: MoqtVersion = MoqtVersion::Draft18;

    let mut s = Session::new(Config::default(), Role::Server, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: V });
    let feed = |s: &mut Session, stream: u64, bidi: bool, open: bool, bytes: Vec<u8>| {
        let stream = StreamId(stream);
        if open {
            s.handle(Time::ZERO, Input::StreamOpened { stream, bidi });
        }
        s.handle(Time::ZERO, Input::StreamData { stream, data: Bytes::from(bytes) });
        std::iter::from_fn(|| s.poll()).collect::<Vec<Output>>()
    };
    feed(&mut s, 2, false, true, Setup::default().encode_to_vec(D18).unwrap());
    let sub = Subscribe {
        request_id: 0,
        track: FullTrackName::new(TrackNamespace::from_fields(["p"]), Bytes::from_static(b"a")),
        parameters: Parameters(vec![Parameter::SubscriberPriority(100)]),
    };
    let out = feed(&mut s, 0, true, true, sub.encode_to_vec(D18).unwrap());
    let incoming = out
        .iter()
        .find_map(|o| match o {
            Output::Event(Event::IncomingSubscribe { request, .. }) => Some(*request),
            _ => None,
        })
        .unwrap();
    s.accept_subscribe(incoming, TrackInfo::default()).unwrap();
    let stream = s.open_subgroup(incoming, 0, 0, None).unwrap();
    let before = std::iter::from_fn(|| s.poll())
        .find_map(|o| match o {
            Output::OpenStream { stream: st, order, .. } if st == stream => Some(order),
            _ => None,
        })
        .unwrap();
    let update =
        RequestUpdate { request_id: 2, parameters: Parameters(vec![Parameter::SubscriberPriority(0)]) };
    let out = feed(&mut s, 0, true, false, update.encode_to_vec(D18).unwrap());
    let after = out
        .iter()
        .find_map(|o| match o {
            Output::SetOrder { stream: st, order } if *st == stream => Some(*order),
            _ => None,
        })
        .unwrap();
    assert!(after > before, "{before:?} → {after:?}");
    assert!(out.iter().any(|o| matches!(o, Output::Event(Event::SubscribeUpdated { request, options }) if *request == incoming && options.priority == 0)));
}
