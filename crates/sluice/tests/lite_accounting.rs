//! moq-lite: every group of a subscription is accounted for (lite-04/05 §Subscribe): groups
//! the publisher will not deliver are reported with SUBSCRIBE_DROP (`Session::drop_groups`),
//! the Subscribe stream's FIN waits until every Group stream is finished (and acknowledged,
//! when the adapter reports acks), and a subscriber reads Group streams still in flight
//! when the FIN arrives to their end before the subscription ends.

mod lite_common;

use bytes::Bytes;
use lite_common::*;
use sluice::lite::codes;
use sluice::{
    CommandError, Config, Event, Input, LiteVersion, Location, ObjectWrite, Output, Reason, RequestHandle,
    Role, StreamId, SubscribeOptions, Time, TrackInfo,
};

fn info_latest(group: u64) -> TrackInfo {
    TrackInfo { largest: Some(Location { group, object: 0 }), ..TrackInfo::default() }
}

fn frame(object: u64, payload: &'static [u8]) -> ObjectWrite {
    ObjectWrite { timestamp: Some(object), ..ObjectWrite::new(object, Bytes::from_static(payload)) }
}

/// SUBSCRIBE id 0, "a", "b", priority 0, ordered 0, latency 0, start 0 (latest), end 0.
const SUBSCRIBE: [u8; 12] = [0x02, 0x0A, 0x00, 0x01, b'a', 0x01, b'b', 0x00, 0x00, 0x00, 0x00, 0x00];

/// A publisher session with the peer's subscription accepted with `info`; returns the
/// session, the Subscribe stream and the request.
fn publisher(v: LiteVersion, config: Config, info: TrackInfo) -> (Raw, StreamId, RequestHandle) {
    let mut raw = Raw::ready(v, Role::Server, config);
    let (id, out) = raw.stream(true, &SUBSCRIBE);
    let [Event::IncomingSubscribe { request, .. }] = events(&out)[..] else { panic!("{out:?}") };
    raw.s.accept_subscribe(request, info).unwrap();
    raw.drain();
    (raw, id, request)
}

/// The index of the first output writing the FIN of `stream`.
fn fin_at(out: &[Output], stream: StreamId) -> Option<usize> {
    out.iter().position(|o| matches!(o, Output::Write { stream: s, fin: true, .. } if *s == stream))
}

/// Every write on `stream` (header bytes, fin).
fn writes(out: &[Output], stream: StreamId) -> Vec<(Bytes, bool)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Write { stream: s, header, fin, .. } if *s == stream => {
                Some((header.clone().into_bytes(), *fin))
            }
            _ => None,
        })
        .collect()
}

fn drop_type(v: LiteVersion) -> u8 {
    if v == LiteVersion::Lite05 { 0x02 } else { 0x01 }
}

#[test]
fn drop_groups_writes_subscribe_drop() {
    for v in VERSIONS {
        let (mut raw, id, r) = publisher(v, Config::default(), info_latest(3));
        raw.s.drop_groups(r, 5, 7, 9).unwrap();
        let out = raw.drain();
        // {Type, Length 3, Start Group 5, End Group 7, Error Code 9}: absolute sequences.
        assert_eq!(writes(&out, id), vec![(Bytes::from(vec![drop_type(v), 0x03, 0x05, 0x07, 0x09]), false)]);
        assert_eq!(
            raw.s.drop_groups(r, 8, 7, 0),
            Err(CommandError::InvalidState("drop_groups: first group after last"))
        );
        assert_eq!(
            raw.s.drop_groups(RequestHandle(999), 1, 1, 0),
            Err(CommandError::UnknownRequest(RequestHandle(999)))
        );
    }
}

#[test]
fn drop_groups_needs_an_accepted_subscription_and_resolves_a_withheld_start() {
    for v in VERSIONS {
        let mut raw = Raw::ready(v, Role::Server, Config::default());
        let (id, out) = raw.stream(true, &SUBSCRIBE);
        let [Event::IncomingSubscribe { request: r, .. }] = events(&out)[..] else { panic!("{out:?}") };
        assert_eq!(
            raw.s.drop_groups(r, 1, 1, 0),
            Err(CommandError::InvalidState("subscription not accepted"))
        );
        // Latest-group subscription, no group known yet: the start is unresolved.
        raw.s.accept_subscribe(r, TrackInfo::default()).unwrap();
        raw.drain();
        raw.s.drop_groups(r, 4, 4, 0).unwrap();
        let out = raw.drain();
        let drop = (Bytes::from(vec![drop_type(v), 0x03, 0x04, 0x04, 0x00]), false);
        let ok = match v {
            // SUBSCRIBE_OK {Group 4}.
            LiteVersion::Lite05 => Bytes::from_static(&[0x00, 0x01, 0x04]),
            // SUBSCRIBE_OK {priority 0x7F (MOQT 128), ascending (the default TrackInfo
            // order), latency none (sent as 2^32-1 ms, an 8-byte varint: 0 would mean
            // "latest group only"), start 4 + 1, end 0}.
            LiteVersion::Lite04 => Bytes::from_static(&[
                0x00, 0x0c, 0x7F, 0x01, 0xc0, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x05, 0x00,
            ]),
        };
        assert_eq!(writes(&out, id), vec![(ok, false), drop], "{v:?}: SUBSCRIBE_OK first");
    }
}

#[test]
fn subscribe_drop_surfaces_as_groups_dropped() {
    for (v, pub_side) in cases() {
        let sub_side = pub_side.peer();
        let mut p = pair(v);
        let (s, r) = subscribed(&mut p, pub_side, SubscribeOptions::default(), info_latest(0));
        p.session(pub_side).drop_groups(r, 2, 6, 0).unwrap();
        p.session(pub_side).drop_groups(r, 8, 8, 3).unwrap();
        p.run();
        assert_eq!(
            p.take_events(sub_side),
            vec![
                Event::GroupsDropped {
                    request: s,
                    first: 2,
                    last: 6,
                    reason: Reason { code: 0, text: String::new() }
                },
                Event::GroupsDropped {
                    request: s,
                    first: 8,
                    last: 8,
                    reason: Reason { code: 3, text: String::new() }
                },
            ],
            "{v:?} {pub_side:?}"
        );
    }
}

#[test]
fn subscribe_fin_waits_for_open_group_streams() {
    for v in VERSIONS {
        let (mut raw, id, r) = publisher(v, Config::default(), info_latest(3));
        let g = raw.s.open_subgroup(r, 4, 0, None).unwrap();
        raw.s.write_object(g, frame(0, b"x")).unwrap();
        raw.drain();
        raw.s.end_subscription(r, 0, "").unwrap();
        let out = raw.drain();
        assert_eq!(fin_at(&out, id), None, "{v:?}: no FIN while group 4 is open");
        if v == LiteVersion::Lite05 {
            // SUBSCRIBE_END {4} goes at once: no group after 4.
            assert_eq!(writes(&out, id), vec![(Bytes::from_static(&[0x01, 0x01, 0x04]), false)]);
        } else {
            assert_eq!(writes(&out, id), vec![]);
        }
        // No new group once ending; the open one may still be written.
        assert_eq!(
            raw.s.open_subgroup(r, 5, 0, None),
            Err(CommandError::InvalidState("subscription ending"))
        );
        raw.s.write_object(g, frame(1, b"y")).unwrap();
        raw.s.close_subgroup(g, true).unwrap();
        let out = raw.drain();
        let group_fin = fin_at(&out, g).expect("group FIN");
        let sub_fin = fin_at(&out, id).expect("subscribe FIN once the group stream is finished");
        assert!(group_fin < sub_fin, "{v:?}: {out:?}");
        assert_eq!(writes(&out, id), vec![(Bytes::new(), true)]);
        assert!(events(&out).is_empty(), "{v:?}: our own end reports nothing: {out:?}");
        assert_eq!(raw.s.poll_timeout(), None);
    }
}

#[test]
fn subscribe_fin_waits_for_acks_when_the_adapter_reports_them() {
    for v in VERSIONS {
        let (mut raw, id, r) = publisher(v, Config::default(), info_latest(3));
        let g4 = raw.s.open_subgroup(r, 4, 0, None).unwrap();
        raw.s.close_subgroup(g4, true).unwrap();
        raw.drain();
        // The adapter reports acks: finished Group streams count once acknowledged.
        raw.input(Input::StreamAcked { stream: g4 });
        let g5 = raw.s.open_subgroup(r, 5, 0, None).unwrap();
        let g6 = raw.s.open_subgroup(r, 6, 0, None).unwrap();
        raw.s.close_subgroup(g5, true).unwrap();
        raw.s.close_subgroup(g6, true).unwrap();
        raw.s.end_subscription(r, 0, "").unwrap();
        let out = raw.drain();
        assert_eq!(fin_at(&out, id), None, "{v:?}: groups 5 and 6 not acknowledged yet");
        let out = raw.input(Input::StreamAcked { stream: g6 });
        assert_eq!(fin_at(&out, id), None, "{v:?}: group 5 not acknowledged yet");
        // A stream the peer stopped is accounted for too (it wants none of it).
        let out = raw.input(Input::StopSending { stream: g5, code: 0 });
        assert_eq!(writes(&out, id), vec![(Bytes::new(), true)], "{v:?}");
        assert_eq!(raw.s.table_sizes(), 1, "{v:?}: only the closing Subscribe stream is left");
    }
}

#[test]
fn a_stuck_group_stream_holds_the_fin_only_until_the_bound() {
    let wait = std::time::Duration::from_millis(300);
    for v in VERSIONS {
        let config = Config { lite_subscribe_end_wait: wait, ..Config::default() };
        let (mut raw, id, r) = publisher(v, config, info_latest(3));
        let g = raw.s.open_subgroup(r, 4, 0, None).unwrap();
        raw.drain();
        raw.s.end_subscription(r, 0, "").unwrap();
        raw.drain();
        let deadline = Time::ZERO + wait;
        assert_eq!(raw.s.poll_timeout(), Some(deadline), "{v:?}");
        raw.s.handle_timeout(Time::ZERO + (wait - std::time::Duration::from_millis(1)));
        assert_eq!(fin_at(&raw.drain(), id), None, "{v:?}");
        raw.s.handle_timeout(deadline);
        let out = raw.drain();
        let reset = out.iter().position(
            |o| matches!(o, Output::Reset { stream, code } if *stream == g && *code == codes::CANCELLED),
        );
        let fin = fin_at(&out, id);
        assert!(reset.is_some() && fin.is_some() && reset < fin, "{v:?}: reset, then FIN: {out:?}");
        assert_eq!(raw.s.write_object(g, frame(0, b"x")), Err(CommandError::UnknownStream(g)));
    }
}

#[test]
fn end_with_a_code_resets_open_group_streams() {
    for v in VERSIONS {
        let (mut raw, id, r) = publisher(v, Config::default(), info_latest(3));
        let g = raw.s.open_subgroup(r, 4, 0, None).unwrap();
        raw.drain();
        raw.s.end_subscription(r, 7, "").unwrap();
        let out = raw.drain();
        assert_eq!(aborts(&out, g), (vec![], vec![codes::CANCELLED]), "{v:?}");
        assert_eq!(aborts(&out, id), (vec![7], vec![7]), "{v:?}");
    }
}

/// GROUP {subscribe id 0, `group`} on a fresh Group stream.
fn group_header(group: u8) -> Vec<u8> {
    vec![0x00, 0x02, 0x00, group]
}

/// One FRAME of one payload byte (lite-05: timestamp delta 0).
fn one_byte_frame(v: LiteVersion, byte: u8) -> Vec<u8> {
    match v {
        LiteVersion::Lite04 => vec![0x01, byte],
        LiteVersion::Lite05 => vec![0x00, 0x01, byte],
    }
}

#[test]
fn subscriber_reads_group_streams_in_flight_at_the_fin_to_their_end() {
    for v in VERSIONS {
        let mut raw = Raw::ready(v, Role::Client, Config::default());
        let s = raw.s.subscribe(track(), SubscribeOptions::default()).unwrap();
        raw.drain();
        let stream = StreamId::local(if v == LiteVersion::Lite05 { 1 } else { 0 });
        let ok: &[u8] = match v {
            LiteVersion::Lite05 => &[0x00, 0x01, 0x04],
            LiteVersion::Lite04 => &[0x00, 0x05, 0x00, 0x00, 0x00, 0x05, 0x00],
        };
        raw.feed(stream, ok);
        let mut first = group_header(4);
        first.extend(one_byte_frame(v, b'a'));
        let (g, out) = raw.stream(false, &first);
        assert_eq!(events(&out).len(), 1, "{v:?}: {out:?}");
        // The FIN overtakes the rest of group 4.
        let out = raw.input(Input::StreamFinished { stream });
        assert!(events(&out).is_empty(), "{v:?}: not ended while group 4 is in flight: {out:?}");
        let out = raw.feed(g, &one_byte_frame(v, b'b'));
        let [Event::Object { request, info, payload }] = &events(&out)[..] else { panic!("{v:?}: {out:?}") };
        assert_eq!(
            (*request, info.group, info.object, payload.to_bytes()),
            (s, 4, 1, Bytes::from_static(b"b"))
        );
        assert_eq!(aborts(&out, g), (vec![], vec![]), "{v:?}: the group stream is not stopped");
        let out = raw.input(Input::StreamFinished { stream: g });
        assert_eq!(
            events(&out),
            vec![
                Event::SubgroupEnded { request: s, group: 4, subgroup: 0 },
                Event::SubscriptionEnded { request: s, reason: Reason { code: 0, text: "finished".into() } },
            ],
            "{v:?}"
        );
        assert_eq!(raw.s.table_sizes(), 0, "{v:?}");
    }
}

#[test]
fn a_reset_group_stream_in_flight_ends_the_drained_subscription_too() {
    for v in VERSIONS {
        let mut raw = Raw::ready(v, Role::Client, Config::default());
        let s = raw.s.subscribe(track(), SubscribeOptions::default()).unwrap();
        raw.drain();
        let stream = StreamId::local(if v == LiteVersion::Lite05 { 1 } else { 0 });
        let ok: &[u8] = match v {
            LiteVersion::Lite05 => &[0x00, 0x01, 0x04],
            LiteVersion::Lite04 => &[0x00, 0x05, 0x00, 0x00, 0x00, 0x05, 0x00],
        };
        raw.feed(stream, ok);
        let (g, _) = raw.stream(false, &group_header(4));
        raw.input(Input::StreamFinished { stream });
        let out = raw.input(Input::StreamReset { stream: g, code: 5 });
        assert_eq!(
            events(&out),
            vec![
                Event::GroupsDropped {
                    request: s,
                    first: 4,
                    last: 4,
                    reason: Reason { code: 5, text: "group stream reset by the peer".into() }
                },
                Event::SubscriptionEnded { request: s, reason: Reason { code: 0, text: "finished".into() } },
            ],
            "{v:?}"
        );
    }
}

#[test]
fn every_object_written_before_and_after_the_end_arrives_before_it() {
    for (v, pub_side) in cases() {
        let sub_side = pub_side.peer();
        let mut p = pair(v);
        let (s, r) = subscribed(&mut p, pub_side, SubscribeOptions::default(), info_latest(0));
        let g = p.session(pub_side).open_subgroup(r, 1, 0, None).unwrap();
        p.session(pub_side).write_object(g, frame(0, b"a")).unwrap();
        p.session(pub_side).end_subscription(r, 0, "").unwrap();
        p.run();
        p.session(pub_side).write_object(g, frame(1, b"b")).unwrap();
        p.session(pub_side).close_subgroup(g, true).unwrap();
        p.run();
        let ev = p.take_events(sub_side);
        let objects: Vec<u64> = ev
            .iter()
            .filter_map(|e| match e {
                Event::Object { request, info, .. } if *request == s && info.group == 1 => Some(info.object),
                _ => None,
            })
            .collect();
        assert_eq!(objects, vec![0, 1], "{v:?} {pub_side:?}: {ev:?}");
        assert!(
            matches!(ev.last(), Some(Event::SubscriptionEnded { request, reason }) if *request == s && reason.code == 0),
            "{v:?} {pub_side:?}: the end comes last: {ev:?}"
        );
        assert_eq!(p.take_events(pub_side), vec![]);
        assert_eq!((p.client.table_sizes(), p.server.table_sizes()), (0, 0), "{v:?} {pub_side:?}");
    }
}

/// The per-chunk liveness check of a Group stream (`SubsOut::is_live`): a cancelled
/// subscription's stream is stopped on its next bytes, and a removal of another
/// subscription does not stop a live one.
#[test]
fn a_group_stream_outlives_only_its_own_subscription() {
    for v in VERSIONS {
        let mut raw = Raw::ready(v, Role::Client, Config::default());
        let a = raw.s.subscribe(track(), SubscribeOptions::default()).unwrap();
        let b = raw.s.subscribe(track(), SubscribeOptions::default()).unwrap();
        raw.drain();
        // GROUP {subscribe id 0 / 1, group 4}, then one frame each.
        let (ga, _) = raw.stream(false, &group_header(4));
        let (gb, _) = raw.stream(false, &[0x00, 0x02, 0x01, 0x04]);
        let (gb5, _) = raw.stream(false, &[0x00, 0x02, 0x01, 0x05]);
        let objects = |out: &[Output]| -> Vec<RequestHandle> {
            events(out)
                .into_iter()
                .filter_map(|e| match e {
                    Event::Object { request, .. } => Some(request),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(objects(&raw.feed(ga, &one_byte_frame(v, b'a'))), vec![a], "{v:?}");
        assert_eq!(objects(&raw.feed(gb, &one_byte_frame(v, b'b'))), vec![b], "{v:?}");
        raw.s.cancel(b).unwrap();
        raw.drain();
        let out = raw.feed(gb, &one_byte_frame(v, b'c'));
        assert_eq!((objects(&out), aborts(&out, gb)), (vec![], (vec![codes::CANCELLED], vec![])), "{v:?}");
        let out = raw.feed(ga, &one_byte_frame(v, b'd'));
        assert_eq!((objects(&out), aborts(&out, ga)), (vec![a], (vec![], vec![])), "{v:?}");
        let out = raw.feed(ga, &one_byte_frame(v, b'e'));
        assert_eq!(objects(&out), vec![a], "{v:?}");
        // FINs: the cancelled subscription's stream ends silently, the live one's reports.
        let out = raw.input(Input::StreamFinished { stream: gb5 });
        assert_eq!((events(&out), aborts(&out, gb5)), (vec![], (vec![], vec![])), "{v:?}");
        let out = raw.input(Input::StreamFinished { stream: ga });
        assert_eq!(events(&out), vec![Event::SubgroupEnded { request: a, group: 4, subgroup: 0 }], "{v:?}");
    }
}
