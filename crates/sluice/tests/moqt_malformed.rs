//! MOQT draft-18 malformed-track detection (§"Malformed Tracks"): raw subgroup streams and
//! datagrams from a hand-driven publisher → the exact cancellation (RESET_STREAM and
//! STOP_SENDING with MALFORMED_TRACK on the request stream) and the exact terminal event
//! (reason code 0x12 and the condition's text), the offending object never delivered, the
//! session left up. Two cases produce the malformed track with a real publisher through
//! `sluice_sim::Pair`.

use bytes::Bytes;
use sluice::{
    Config, Event, Input, Location, MoqtVersion, Namespace, ObjectStatus, ObjectWrite, Output, Reason,
    RequestHandle, Role, Session, StreamId, SubscribeOptions, Time, TrackInfo, TrackName, Version,
};
use sluice_sim::{Pair, Side};
use sluice_wire::Encode;
use sluice_wire::moqt::datagram::{DatagramBody, ObjectDatagram};
use sluice_wire::moqt::kvp::{KeyValue, Properties};
use sluice_wire::moqt::message::SubscribeOk;
use sluice_wire::moqt::object::ObjectStatus as WireStatus;
use sluice_wire::moqt::params::Parameters;
use sluice_wire::moqt::setup::Setup;
use sluice_wire::moqt::subgroup::{SubgroupHeader, SubgroupId, SubgroupObject, SubgroupObjectEncoder};

const D18: MoqtVersion = MoqtVersion::Draft18;
const MALFORMED_TRACK: u64 = 0x12;
const ALIAS: u64 = 1;

const PRIORITY: &str = "malformed track: publisher priority changed within a subgroup";
const SUBGROUP_END: &str = "malformed track: object after the end of its subgroup";
const SUBGROUP_ENDS: &str = "malformed track: subgroup ended with different final objects";
const GROUP_END: &str = "malformed track: object after the end of its group";
const TRACK_END: &str = "malformed track: object after the end of the track";
const MANDATORY: &str = "malformed track: mandatory track property on an object";

fn enc<M: Encode<Version = MoqtVersion>>(m: &M) -> Bytes {
    Bytes::from(m.encode_to_vec(D18).unwrap())
}

fn drain(s: &mut Session) -> Vec<Output> {
    std::iter::from_fn(|| s.poll()).collect()
}

fn track() -> TrackName {
    TrackName::new(Namespace::from_fields(["a"]), "t")
}

/// A client session subscribed to a hand-driven server publisher (alias [`ALIAS`]).
struct Sub {
    s: Session,
    h: RequestHandle,
    request_stream: StreamId,
    baseline: usize,
    next_stream: u64,
}

impl Sub {
    fn new(config: Config) -> Sub {
        let mut s = Session::new(config, Role::Client, Time::ZERO);
        s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(D18) });
        let setup = StreamId(3);
        s.handle(Time::ZERO, Input::StreamOpened { stream: setup, bidi: false });
        s.handle(Time::ZERO, Input::StreamData { stream: setup, data: enc(&Setup::default()) });
        drain(&mut s);
        let baseline = s.table_sizes();
        let h = s.subscribe(track(), SubscribeOptions::default()).unwrap();
        let request_stream = open_bidi(&drain(&mut s));
        let ok = SubscribeOk {
            track_alias: ALIAS,
            parameters: Parameters::new(),
            track_properties: Properties::empty(),
        };
        s.handle(Time::ZERO, Input::StreamData { stream: request_stream, data: enc(&ok) });
        let ev = drain(&mut s);
        assert!(matches!(ev.as_slice(), [Output::Event(Event::Subscribed { .. })]), "{ev:?}");
        Sub { s, h, request_stream, baseline, next_stream: 7 }
    }

    /// Sends `bytes` on a new peer uni stream (finished if `fin`).
    fn stream(&mut self, bytes: Bytes, fin: bool) {
        let stream = StreamId(self.next_stream);
        self.next_stream += 4;
        self.s.handle(Time::ZERO, Input::StreamOpened { stream, bidi: false });
        self.s.handle(Time::ZERO, Input::StreamData { stream, data: bytes });
        if fin {
            self.s.handle(Time::ZERO, Input::StreamFinished { stream });
        }
    }

    fn datagram(&mut self, group: u64, object: u64, body: DatagramBody) {
        let d = ObjectDatagram {
            track_alias: ALIAS,
            group_id: group,
            object_id: object,
            publisher_priority: None,
            end_of_group: false,
            properties: Properties::empty(),
            body,
        };
        self.s.handle(Time::ZERO, Input::Datagram(enc(&d)));
    }

    /// The (group, object) of each delivered object and the other outputs, drained.
    fn take(&mut self) -> (Vec<(u64, u64)>, Vec<Output>) {
        let mut objects = Vec::new();
        let mut rest = Vec::new();
        for o in drain(&mut self.s) {
            match o {
                Output::Event(Event::Object { request, info, .. }) => {
                    assert_eq!(request, self.h);
                    objects.push((info.group, info.object));
                }
                // A well-formed stream end: not what these tests check.
                Output::Event(Event::SubgroupEnded { request, .. }) => assert_eq!(request, self.h),
                other => rest.push(other),
            }
        }
        (objects, rest)
    }

    /// Asserts the subscription was cancelled as malformed with `text`, after `objects`.
    fn assert_malformed(mut self, objects: &[(u64, u64)], text: &str) {
        let (got, rest) = self.take();
        assert_eq!(got, objects);
        let ended = Event::SubscriptionEnded {
            request: self.h,
            reason: Reason { code: MALFORMED_TRACK, text: text.to_owned() },
        };
        let stream = self.request_stream;
        assert!(rest.contains(&Output::Reset { stream, code: MALFORMED_TRACK }), "{rest:?}");
        assert!(rest.contains(&Output::StopSending { stream, code: MALFORMED_TRACK }), "{rest:?}");
        assert_eq!(
            rest.iter().filter(|o| matches!(o, Output::Event(_))).collect::<Vec<_>>(),
            vec![&Output::Event(ended)]
        );
        assert!(!rest.iter().any(|o| matches!(o, Output::Close { .. })), "the session stays up: {rest:?}");
        // Every table of the subscription is gone; late bytes are ignored.
        assert_eq!(self.s.table_sizes(), self.baseline);
        self.stream(subgroup(9, 0, None, false, &[SubgroupObject::normal(0, "late")]), true);
        assert_eq!(self.take(), (vec![], vec![]));
        self.s.close(0, "done");
        assert_eq!(self.s.table_sizes(), 0);
    }

    /// Asserts every object was delivered and nothing else happened.
    fn assert_well_formed(mut self, objects: &[(u64, u64)]) {
        let (got, rest) = self.take();
        assert_eq!(got, objects);
        assert_eq!(rest, vec![]);
    }
}

fn open_bidi(outputs: &[Output]) -> StreamId {
    outputs
        .iter()
        .find_map(|o| match o {
            Output::OpenStream { stream, bidi: true, .. } => Some(*stream),
            _ => None,
        })
        .unwrap()
}

/// A whole subgroup stream of the track: header then `objects`.
fn subgroup(
    group: u64,
    sub: u64,
    priority: Option<u8>,
    end_of_group: bool,
    objects: &[SubgroupObject],
) -> Bytes {
    let header = SubgroupHeader {
        track_alias: ALIAS,
        group_id: group,
        subgroup_id: SubgroupId::Explicit(sub),
        publisher_priority: priority,
        properties_present: objects.iter().any(|o| !o.properties.is_empty()),
        end_of_group,
        first_object: false,
    };
    let mut buf = Vec::new();
    header.encode(&mut buf, D18).unwrap();
    let mut e = SubgroupObjectEncoder::new(&header, D18);
    for o in objects {
        e.encode(&mut buf, o).unwrap();
    }
    Bytes::from(buf)
}

fn obj(id: u64) -> SubgroupObject {
    SubgroupObject::normal(id, "p")
}

fn status(id: u64, s: WireStatus) -> SubgroupObject {
    SubgroupObject::status(id, s)
}

#[test]
fn priority_change_within_a_subgroup() {
    let mut t = Sub::new(Config::default());
    t.stream(subgroup(1, 0, Some(10), false, &[obj(0)]), false);
    t.stream(subgroup(1, 0, Some(20), false, &[obj(1)]), false);
    t.assert_malformed(&[(1, 0)], PRIORITY);
}

#[test]
fn object_beyond_a_finished_subgroup() {
    let mut t = Sub::new(Config::default());
    t.stream(subgroup(1, 0, None, false, &[obj(0), obj(1)]), true);
    t.stream(subgroup(1, 0, None, false, &[obj(2)]), false);
    t.assert_malformed(&[(1, 0), (1, 1)], SUBGROUP_END);
}

#[test]
fn subgroup_finished_before_an_object_already_seen() {
    let mut t = Sub::new(Config::default());
    t.stream(subgroup(1, 0, None, false, &[obj(5)]), false);
    t.stream(subgroup(1, 0, None, false, &[obj(0), obj(1)]), true);
    t.assert_malformed(&[(1, 5), (1, 0), (1, 1)], SUBGROUP_END);
}

#[test]
fn subgroup_finished_twice_with_different_final_objects() {
    let mut t = Sub::new(Config::default());
    t.stream(subgroup(1, 0, None, false, &[obj(0), obj(1)]), true);
    t.stream(subgroup(1, 0, None, false, &[obj(0)]), true);
    t.assert_malformed(&[(1, 0), (1, 1), (1, 0)], SUBGROUP_ENDS);
}

#[test]
fn object_beyond_an_end_of_group_status() {
    let mut t = Sub::new(Config::default());
    t.stream(subgroup(1, 0, None, false, &[obj(0), status(1, WireStatus::EndOfGroup)]), true);
    t.stream(subgroup(1, 1, None, false, &[obj(2)]), false);
    t.assert_malformed(&[(1, 0), (1, 1)], GROUP_END);
}

#[test]
fn object_beyond_an_end_of_group_stream() {
    let mut t = Sub::new(Config::default());
    t.stream(subgroup(1, 0, None, true, &[obj(0), obj(3)]), true);
    t.stream(subgroup(1, 1, None, false, &[obj(4)]), false);
    t.assert_malformed(&[(1, 0), (1, 3)], GROUP_END);
}

#[test]
fn end_of_group_below_an_object_already_seen() {
    let mut t = Sub::new(Config::default());
    t.stream(subgroup(1, 1, None, false, &[obj(9)]), false);
    t.stream(subgroup(1, 0, None, false, &[obj(0), status(1, WireStatus::EndOfGroup)]), false);
    t.assert_malformed(&[(1, 9), (1, 0)], GROUP_END);
}

/// Objects after a subgroup's first take `TrackCheck`'s in-order fast path: what it records
/// (the subgroup's and group's largest object, the track's largest location) must catch
/// later violations exactly as the full path does, and a group end it cannot vouch for
/// sends the object to the full path.
#[test]
fn in_order_objects_are_recorded_for_later_checks() {
    let mut t = Sub::new(Config::default());
    t.stream(subgroup(1, 0, None, false, &[obj(0), obj(1), obj(2)]), false);
    t.stream(subgroup(1, 0, None, false, &[obj(0), obj(1)]), true);
    t.assert_malformed(&[(1, 0), (1, 1), (1, 2), (1, 0), (1, 1)], SUBGROUP_END);

    let mut t = Sub::new(Config::default());
    t.stream(subgroup(1, 0, None, false, &[obj(0), obj(1), obj(3)]), false);
    t.stream(subgroup(1, 1, None, false, &[status(2, WireStatus::EndOfGroup)]), false);
    t.assert_malformed(&[(1, 0), (1, 1), (1, 3)], GROUP_END);

    // The same, the End of Group object arriving for the subgroup of the larger object.
    let mut t = Sub::new(Config::default());
    t.stream(subgroup(1, 0, None, false, &[obj(0), obj(1), obj(3)]), false);
    t.stream(subgroup(1, 0, None, false, &[status(2, WireStatus::EndOfGroup)]), false);
    t.assert_malformed(&[(1, 0), (1, 1), (1, 3)], GROUP_END);

    let mut t = Sub::new(Config::default());
    t.stream(subgroup(1, 0, None, false, &[obj(0), obj(1), obj(2)]), false);
    t.stream(subgroup(1, 1, None, false, &[status(1, WireStatus::EndOfTrack)]), false);
    t.assert_malformed(&[(1, 0), (1, 1), (1, 2)], TRACK_END);

    let mut t = Sub::new(Config::default());
    t.stream(subgroup(1, 0, None, false, &[obj(0), status(1, WireStatus::EndOfGroup)]), false);
    t.stream(subgroup(1, 0, None, false, &[obj(2)]), false);
    t.assert_malformed(&[(1, 0), (1, 1)], GROUP_END);
}

/// The fast path raises the track's largest location only when it lies in the object's
/// group: once the check tables forgot a later group, in-order objects of an earlier one
/// leave it where it is (and a later End of Track below it is still caught).
#[test]
fn in_order_objects_below_the_largest_group_leave_it() {
    let mut t = Sub::new(Config { max_track_check_entries: 2, ..Config::default() });
    t.stream(subgroup(5, 0, None, false, &[obj(0)]), false);
    // Three entries: group 5 is forgotten; the largest location stays (5, 1).
    t.stream(subgroup(5, 1, None, false, &[obj(1)]), false);
    t.stream(subgroup(3, 0, None, false, &[obj(0), obj(1), obj(2)]), false);
    t.stream(subgroup(4, 0, None, false, &[status(0, WireStatus::EndOfTrack)]), false);
    t.assert_malformed(&[(5, 0), (5, 1), (3, 0), (3, 1), (3, 2)], TRACK_END);
}

#[test]
fn object_beyond_the_end_of_track() {
    let mut t = Sub::new(Config::default());
    t.stream(subgroup(2, 0, None, false, &[obj(0), status(1, WireStatus::EndOfTrack)]), true);
    t.stream(subgroup(3, 0, None, false, &[obj(0)]), false);
    t.assert_malformed(&[(2, 0), (2, 1)], TRACK_END);
}

#[test]
fn datagram_beyond_the_end_of_track() {
    let mut t = Sub::new(Config::default());
    t.datagram(2, 0, DatagramBody::Payload(Bytes::from_static(b"d")));
    t.datagram(2, 1, DatagramBody::Status(WireStatus::EndOfTrack));
    t.datagram(2, 5, DatagramBody::Payload(Bytes::from_static(b"d")));
    t.assert_malformed(&[(2, 0), (2, 1)], TRACK_END);
}

#[test]
fn datagram_beyond_an_end_of_group_stream() {
    let mut t = Sub::new(Config::default());
    t.stream(subgroup(4, 0, None, true, &[obj(0), obj(1)]), true);
    t.datagram(4, 2, DatagramBody::Payload(Bytes::from_static(b"d")));
    t.assert_malformed(&[(4, 0), (4, 1)], GROUP_END);
}

#[test]
fn mandatory_track_property_on_an_object() {
    let mut t = Sub::new(Config::default());
    let props = Properties::from_pairs(&[KeyValue::varint(0x4000, 1)]).unwrap();
    let bad = SubgroupObject { properties: props, ..obj(1) };
    t.stream(subgroup(1, 0, None, false, &[obj(0), bad]), false);
    t.assert_malformed(&[(1, 0)], MANDATORY);
}

#[test]
fn fetches_of_the_same_track_are_cancelled_too() {
    let mut t = Sub::new(Config::default());
    let f =
        t.s.fetch(track(), Location { group: 0, object: 0 }, Location { group: 1, object: 0 }, 0).unwrap();
    let fetch_stream = open_bidi(&drain(&mut t.s));
    t.stream(subgroup(1, 0, Some(1), false, &[obj(0)]), false);
    t.stream(subgroup(1, 0, Some(2), false, &[obj(1)]), false);
    let (objects, rest) = t.take();
    assert_eq!(objects, vec![(1, 0)]);
    let reason = Reason { code: MALFORMED_TRACK, text: PRIORITY.to_owned() };
    let events: Vec<&Output> = rest.iter().filter(|o| matches!(o, Output::Event(_))).collect();
    assert_eq!(
        events,
        vec![
            &Output::Event(Event::SubscriptionEnded { request: t.h, reason: reason.clone() }),
            &Output::Event(Event::FetchEnded { request: f, reason }),
        ]
    );
    assert!(rest.contains(&Output::Reset { stream: fetch_stream, code: MALFORMED_TRACK }), "{rest:?}");
    assert!(rest.contains(&Output::StopSending { stream: fetch_stream, code: MALFORMED_TRACK }), "{rest:?}");
    assert_eq!(t.s.table_sizes(), t.baseline);
}

#[test]
fn consistent_duplicates_and_default_priority_are_well_formed() {
    let mut t = Sub::new(Config::default());
    // The same subgroup twice with the same final object (a relay re-sending it).
    t.stream(subgroup(1, 0, None, false, &[obj(0), obj(1)]), true);
    t.stream(subgroup(1, 0, None, false, &[obj(0), obj(1)]), true);
    // No priority byte means the track's default (128): the same as an explicit 128.
    t.stream(subgroup(1, 2, None, false, &[obj(2)]), false);
    t.stream(subgroup(1, 2, Some(128), false, &[obj(3), status(4, WireStatus::EndOfGroup)]), true);
    // A later group after an end of group; an end of track at the largest location.
    t.stream(subgroup(2, 0, None, false, &[obj(0), status(1, WireStatus::EndOfTrack)]), true);
    t.assert_well_formed(&[(1, 0), (1, 1), (1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (2, 0), (2, 1)]);
}

#[test]
fn remembered_groups_are_bounded_by_config() {
    let feed = |t: &mut Sub| {
        t.stream(subgroup(1, 0, None, false, &[obj(0), status(1, WireStatus::EndOfGroup)]), true);
        t.stream(subgroup(2, 0, None, false, &[obj(0)]), false);
        t.stream(subgroup(1, 1, None, false, &[obj(5)]), false);
    };
    // Default: group 1's end is remembered.
    let mut t = Sub::new(Config::default());
    feed(&mut t);
    t.assert_malformed(&[(1, 0), (1, 1), (2, 0)], GROUP_END);
    // Two entries: group 2 pushes group 1 out, and its late violation goes unseen.
    let mut t = Sub::new(Config { max_track_check_entries: 2, ..Config::default() });
    feed(&mut t);
    t.assert_well_formed(&[(1, 0), (1, 1), (2, 0), (1, 5)]);
}

fn pair_subscribed() -> (Pair, RequestHandle, RequestHandle) {
    let mut p = Pair::new(Version::Moqt(D18), Config::default(), Config::default());
    p.take_events(Side::Client);
    p.take_events(Side::Server);
    let sub = p.client.subscribe(track(), SubscribeOptions::default()).unwrap();
    p.run();
    let incoming = match p.take_events(Side::Server).as_slice() {
        [Event::IncomingSubscribe { request, .. }] => *request,
        other => panic!("{other:?}"),
    };
    p.server.accept_subscribe(incoming, TrackInfo::default()).unwrap();
    p.run();
    p.take_events(Side::Client);
    (p, sub, incoming)
}

fn pair_outcome(p: &mut Pair, sub: RequestHandle, incoming: RequestHandle, text: &str, objects: usize) {
    let ev = p.take_events(Side::Client);
    assert_eq!(ev.iter().filter(|e| matches!(e, Event::Object { .. })).count(), objects, "{ev:?}");
    assert_eq!(
        ev.last(),
        Some(&Event::SubscriptionEnded {
            request: sub,
            reason: Reason { code: MALFORMED_TRACK, text: text.to_owned() }
        })
    );
    // The publisher sees the subscriber leave.
    assert_eq!(p.take_events(Side::Server), vec![Event::SubscriberGone { request: incoming }]);
}

#[test]
fn pair_publisher_changing_a_subgroups_priority() {
    let (mut p, sub, incoming) = pair_subscribed();
    let a = p.server.open_subgroup(incoming, 0, 0, Some(1)).unwrap();
    p.server.write_object(a, ObjectWrite::new(0, Bytes::from_static(b"a"))).unwrap();
    p.run();
    let b = p.server.open_subgroup(incoming, 0, 0, Some(2)).unwrap();
    p.server.write_object(b, ObjectWrite::new(1, Bytes::from_static(b"b"))).unwrap();
    p.run();
    pair_outcome(&mut p, sub, incoming, PRIORITY, 1);
}

#[test]
fn pair_publisher_writing_past_the_end_of_track() {
    let (mut p, sub, incoming) = pair_subscribed();
    let a = p.server.open_subgroup(incoming, 3, 0, None).unwrap();
    p.server.write_object(a, ObjectWrite::new(0, Bytes::from_static(b"a"))).unwrap();
    let end = ObjectWrite { status: ObjectStatus::EndOfTrack, ..ObjectWrite::new(1, Bytes::new()) };
    p.server.write_object(a, end).unwrap();
    p.server.close_subgroup(a, false).unwrap();
    p.run();
    let b = p.server.open_subgroup(incoming, 4, 0, None).unwrap();
    p.server.write_object(b, ObjectWrite::new(0, Bytes::from_static(b"b"))).unwrap();
    p.run();
    pair_outcome(&mut p, sub, incoming, TRACK_END, 2);
}
