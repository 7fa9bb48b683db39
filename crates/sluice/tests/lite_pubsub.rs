//! moq-lite announce/discover, subscriptions and their data, datagrams and fetches, for
//! lite-04 and lite-05 with the client as publisher and as subscriber.

mod lite_common;

use bytes::Bytes;
use lite_common::*;
use sluice::lite::codes;
use sluice::{
    CommandError, Config, Event, Filter, GroupOrder, Input, LiteVersion, Location, Namespace, ObjectInfo,
    ObjectStatus, ObjectWrite, Output, Payload, Reason, Role, StreamId, SubscribeOptions, TrackInfo, Version,
};
use sluice_sim::Side;

fn ns(fields: &[&str]) -> Namespace {
    Namespace::from_fields(fields.iter().copied())
}

fn info_latest(group: u64) -> TrackInfo {
    TrackInfo { largest: Some(Location { group, object: 0 }), ..TrackInfo::default() }
}

fn frame(object: u64, payload: &'static [u8], ts: u64) -> ObjectWrite {
    ObjectWrite { timestamp: Some(ts), ..ObjectWrite::new(object, Bytes::from_static(payload)) }
}

fn object_info(v: LiteVersion, group: u64, object: u64, ts: u64) -> ObjectInfo {
    ObjectInfo {
        group,
        subgroup: 0,
        object,
        status: ObjectStatus::Normal,
        publisher_priority: None,
        properties: sluice::ObjectProperties::empty(),
        timestamp: (v == LiteVersion::Lite05).then_some(ts),
        properties_present: false,
    }
}

#[test]
fn announce_and_discover() {
    for (v, pub_side) in cases() {
        let sub_side = pub_side.peer();
        let mut p = pair(v);
        let alice = p.session(pub_side).announce(ns(&["room", "alice"])).unwrap();
        p.run();
        assert_eq!(p.take_events(pub_side), vec![Event::AnnounceAccepted { request: alice }]);
        let d = p.session(sub_side).discover(ns(&["room"])).unwrap();
        p.run();
        assert_eq!(
            p.take_events(sub_side),
            vec![Event::NamespaceFound { request: d, namespace: ns(&["room", "alice"]) }]
        );
        let bob = p.session(pub_side).announce(ns(&["room", "bob"])).unwrap();
        // Byte-prefix match on the wire, field-wise filter for the application.
        p.session(pub_side).announce(ns(&["roomx"])).unwrap();
        p.take_events(pub_side);
        p.run();
        assert_eq!(
            p.take_events(sub_side),
            vec![Event::NamespaceFound { request: d, namespace: ns(&["room", "bob"]) }],
            "{v:?} {pub_side:?}"
        );
        p.session(pub_side).cancel(bob).unwrap();
        p.run();
        assert_eq!(
            p.take_events(sub_side),
            vec![Event::NamespaceGone { request: d, namespace: ns(&["room", "bob"]) }]
        );
        assert_eq!(
            p.session(pub_side).announce(ns(&["room", "alice"])),
            Err(CommandError::InvalidState("broadcast path already announced"))
        );
        // Stopping the discovery: nothing more arrives, and the publisher forgets the stream.
        let before = p.session(pub_side).table_sizes();
        p.session(sub_side).cancel(d).unwrap();
        p.run();
        assert!(p.session(pub_side).table_sizes() < before);
        p.session(pub_side).announce(ns(&["room", "carol"])).unwrap();
        p.run();
        assert_eq!(p.take_events(sub_side), vec![]);
        assert_eq!(p.session(sub_side).cancel(d), Err(CommandError::UnknownRequest(d)));
    }
}

#[test]
fn exclude_hop_hides_our_broadcasts() {
    for v in VERSIONS {
        let config = Config { lite_hop_id: 7, ..Config::default() };
        let mut p = pair_with(v, config.clone(), config);
        p.server.announce(ns(&["a"])).unwrap();
        p.client.discover(ns(&[])).unwrap();
        p.run();
        assert_eq!(p.take_events(Side::Client), vec![], "{v:?}");
    }
}

#[test]
fn announce_bytes_carry_hop_ids() {
    // lite-05: ANNOUNCE_OK {hop 7, 1 active}, then ANNOUNCE_BROADCAST {active, "/a", 0 hops}.
    // lite-04: ANNOUNCE {active, "/a", [7]}.
    for (v, want) in [
        (LiteVersion::Lite05, vec![0x02, 0x07, 0x01, 0x05, 0x01, 0x02, b'/', b'a', 0x00]),
        (LiteVersion::Lite04, vec![0x06, 0x01, 0x02, b'/', b'a', 0x01, 0x07]),
    ] {
        let mut raw = Raw::ready(v, Role::Server, Config { lite_hop_id: 7, ..Config::default() });
        raw.s.announce(ns(&["x", "a"])).unwrap();
        raw.drain();
        let (id, out) = raw.stream(true, &[0x01, 0x03, 0x01, b'x', 0x00]);
        assert_eq!(
            out,
            vec![Output::Write {
                stream: id,
                header: Bytes::from(want).into(),
                payload: Bytes::new(),
                fin: false
            }],
            "{v:?}"
        );
    }
}

#[test]
fn subscribe_accept_carries_options_and_info() {
    for (v, pub_side) in cases() {
        let sub_side = pub_side.peer();
        let mut p = pair(v);
        let options = SubscribeOptions {
            filter: Filter::AbsoluteRange { start: Location { group: 5, object: 0 }, end_group: 9 },
            priority: 10,
            group_order: Some(GroupOrder::Ascending),
            forward: true,
            max_latency_ms: 300,
            rendezvous_timeout_ms: None,
            new_group_request: None,
        };
        let s = p.session(sub_side).subscribe(track(), options.clone()).unwrap();
        p.run();
        let ev = p.take_events(pub_side);
        let [Event::IncomingSubscribe { request: r, track: t, options: o }] = ev.as_slice() else {
            panic!("{ev:?}")
        };
        assert_eq!((t, &**o), (&track(), &options));
        let info = TrackInfo {
            publisher_priority: 20,
            group_order: GroupOrder::Descending,
            largest: Some(Location { group: 12, object: 3 }),
            max_latency_ms: 100,
            ..TrackInfo::default()
        };
        p.session(pub_side).accept_subscribe(*r, info).unwrap();
        assert_eq!(
            p.session(pub_side).accept_subscribe(*r, TrackInfo::default()),
            Err(CommandError::InvalidState("subscription already accepted"))
        );
        p.run();
        let want = match v {
            LiteVersion::Lite04 => TrackInfo {
                publisher_priority: 20,
                group_order: GroupOrder::Descending,
                largest: Some(Location { group: 5, object: 0 }),
                max_latency_ms: 100,
                ..TrackInfo::default()
            },
            LiteVersion::Lite05 => {
                TrackInfo { largest: Some(Location { group: 5, object: 0 }), ..TrackInfo::default() }
            }
        };
        assert_eq!(
            p.take_events(sub_side),
            vec![Event::Subscribed { request: s, info: Box::new(want) }],
            "{v:?} {pub_side:?}"
        );
    }
}

#[test]
fn latest_subscription_without_largest_resolves_at_the_first_group() {
    for (v, pub_side) in cases() {
        let sub_side = pub_side.peer();
        let mut p = pair(v);
        let s = p.session(sub_side).subscribe(track(), SubscribeOptions::default()).unwrap();
        p.run();
        let Some(Event::IncomingSubscribe { request: r, .. }) = p.take_events(pub_side).pop() else {
            panic!()
        };
        p.session(pub_side).accept_subscribe(r, TrackInfo::default()).unwrap();
        p.run();
        let early = p.take_events(sub_side);
        let g = p.session(pub_side).open_subgroup(r, 42, 0, None).unwrap();
        p.session(pub_side).write_object(g, frame(0, b"x", 1)).unwrap();
        p.run();
        let mut ev = early;
        ev.extend(p.take_events(sub_side));
        let subscribed: Vec<_> = ev
            .iter()
            .filter_map(|e| match e {
                Event::Subscribed { info, .. } => Some(info.largest),
                _ => None,
            })
            .collect();
        match v {
            // lite-04 answers at once with "start unknown", then resolves it.
            LiteVersion::Lite04 => assert_eq!(subscribed, vec![None]),
            LiteVersion::Lite05 => assert_eq!(subscribed, vec![Some(Location { group: 42, object: 0 })]),
        }
        assert!(
            matches!(ev.last(), Some(Event::Object { request, info, .. }) if *request == s && info.group == 42),
            "{ev:?}"
        );
    }
}

#[test]
fn subscribe_reject_update_unsubscribe_end() {
    for (v, pub_side) in cases() {
        let sub_side = pub_side.peer();
        // Reject.
        let mut p = pair(v);
        let s = p.session(sub_side).subscribe(track(), SubscribeOptions::default()).unwrap();
        p.run();
        let Some(Event::IncomingSubscribe { request: r, .. }) = p.take_events(pub_side).pop() else {
            panic!()
        };
        p.session(pub_side).reject(r, 0x44, "no such track").unwrap();
        p.run();
        assert_eq!(
            p.take_events(sub_side),
            vec![Event::SubscribeFailed {
                request: s,
                reason: Reason { code: 0x44, text: "reset by the peer".into() }
            }]
        );
        assert_eq!(p.take_events(pub_side), vec![]);
        assert_eq!(
            (p.client.table_sizes(), p.server.table_sizes()),
            (0, 0),
            "{v:?} {pub_side:?} after reject"
        );

        // Update.
        let (s, r) = subscribed(&mut p, pub_side, SubscribeOptions::default(), info_latest(0));
        let new = SubscribeOptions {
            priority: 1,
            group_order: Some(GroupOrder::Descending),
            max_latency_ms: 50,
            filter: Filter::AbsoluteStart(Location { group: 3, object: 0 }),
            forward: true,
            rendezvous_timeout_ms: None,
            new_group_request: None,
        };
        p.session(sub_side).update_subscription(s, new.clone()).unwrap();
        p.run();
        assert_eq!(p.take_events(pub_side), vec![Event::SubscribeUpdated { request: r, options: new }]);
        assert!(matches!(
            p.session(sub_side)
                .update_subscription(s, SubscribeOptions { forward: false, ..SubscribeOptions::default() }),
            Err(CommandError::Unsupported { .. })
        ));

        // Unsubscribe.
        p.session(sub_side).cancel(s).unwrap();
        p.run();
        assert_eq!(p.take_events(pub_side), vec![Event::SubscriberGone { request: r }]);
        assert_eq!(p.take_events(sub_side), vec![]);
        assert_eq!(p.session(pub_side).open_subgroup(r, 0, 0, None), Err(CommandError::UnknownRequest(r)));

        // End gracefully, and with a code.
        for code in [0, 9] {
            let (s, r) = subscribed(&mut p, pub_side, SubscribeOptions::default(), info_latest(0));
            p.session(pub_side).end_subscription(r, code, "done").unwrap();
            p.run();
            let text = if code == 0 { "finished" } else { "reset by the peer" };
            assert_eq!(
                p.take_events(sub_side),
                vec![Event::SubscriptionEnded { request: s, reason: Reason { code, text: text.into() } }],
                "{v:?} {pub_side:?} {code}"
            );
            assert_eq!(p.take_events(pub_side), vec![]);
        }
        assert_eq!((p.client.table_sizes(), p.server.table_sizes()), (0, 0), "{v:?} {pub_side:?}");
    }
}

#[test]
fn lite05_subscribe_end_names_the_last_group() {
    let (mut raw, _) = Raw::new(LiteVersion::Lite05, Role::Server, Config::default());
    // SUBSCRIBE id 0, "a", "b", priority 0, ordered 0, latency 0, start 0, end 0.
    let (id, out) =
        raw.stream(true, &[0x02, 0x0A, 0x00, 0x01, b'a', 0x01, b'b', 0x00, 0x00, 0x00, 0x00, 0x00]);
    let [Event::IncomingSubscribe { request: r, .. }] = events(&out)[..] else { panic!("{out:?}") };
    raw.s.accept_subscribe(r, info_latest(3)).unwrap();
    let g = raw.s.open_subgroup(r, 4, 0, None).unwrap();
    raw.s.close_subgroup(g, true).unwrap();
    raw.drain();
    raw.s.end_subscription(r, 0, "").unwrap();
    let out = raw.drain();
    // SUBSCRIBE_END {type 1, len 1, group 4}, FIN.
    assert_eq!(
        out,
        vec![Output::Write {
            stream: id,
            header: Bytes::from_static(&[0x01, 0x01, 0x04]).into(),
            payload: Bytes::new(),
            fin: true
        }]
    );
}

#[test]
fn groups_arrive_byte_identical_and_in_order() {
    for (v, pub_side) in cases() {
        let sub_side = pub_side.peer();
        let mut p = pair(v);
        let (s, r) = subscribed(&mut p, pub_side, SubscribeOptions::default(), info_latest(10));
        let payloads: [&[&'static [u8]]; 3] = [&[b"key", b"", b"delta-1"], &[b"k2"], &[b"a", b"bb", b"ccc"]];
        let stamps = [[1000u64, 990, 2000], [3000, 0, 0], [5, 5, 1 << 40]];
        let mut want = Vec::new();
        for (i, group) in payloads.iter().enumerate() {
            let gid = 10 + i as u64;
            let g = p.session(pub_side).open_subgroup(r, gid, 0, None).unwrap();
            for (j, payload) in group.iter().enumerate() {
                let ts = stamps[i][j];
                p.session(pub_side).write_object(g, frame(j as u64, payload, ts)).unwrap();
                want.push(Event::Object {
                    request: s,
                    info: object_info(v, gid, j as u64, ts),
                    payload: Payload::One(Bytes::from_static(payload)),
                });
            }
            p.session(pub_side).close_subgroup(g, true).unwrap();
            want.push(Event::SubgroupEnded { request: s, group: gid, subgroup: 0 });
            assert_eq!(
                p.session(pub_side).write_object(g, frame(9, b"", 0)),
                Err(CommandError::UnknownStream(g))
            );
        }
        p.run();
        let got: Vec<Event> = p
            .take_events(sub_side)
            .into_iter()
            .map(|e| match e {
                Event::Object { request, info, payload } => {
                    Event::Object { request, info, payload: Payload::One(payload.to_bytes()) }
                }
                other => other,
            })
            .collect();
        assert_eq!(got, want, "{v:?} {pub_side:?}");
        assert_eq!(p.take_events(pub_side), vec![]);
    }
}

#[test]
fn single_chunk_payloads_are_not_copied() {
    for (v, pub_side) in cases() {
        let mut p = pair(v);
        let (_, r) = subscribed(&mut p, pub_side, SubscribeOptions::default(), info_latest(0));
        let g = p.session(pub_side).open_subgroup(r, 0, 0, None).unwrap();
        let data = Bytes::from(vec![7u8; 5000]);
        let mut w = ObjectWrite::new(0, data.clone());
        w.timestamp = Some(1);
        p.session(pub_side).write_object(g, w).unwrap();
        p.run();
        let ev = p.take_events(pub_side.peer());
        let [Event::Object { payload: Payload::One(got), .. }] = ev.as_slice() else { panic!("{ev:?}") };
        assert_eq!(got.as_ptr(), data.as_ptr(), "{v:?} {pub_side:?}");
        assert_eq!(got.len(), 5000);
    }
}

#[test]
fn a_frame_split_into_small_chunks_is_handed_out_as_those_chunks() {
    for v in VERSIONS {
        let mut raw = Raw::ready(v, Role::Client, Config::default());
        let s = raw.s.subscribe(track(), SubscribeOptions::default()).unwrap();
        raw.drain();
        let id = raw.open(false);
        // Group stream, GROUP {sub 0, group 7}, FRAME header (05: delta 3), 10-byte payload.
        let mut head = vec![0x00, 0x02, 0x00, 0x07];
        if v == LiteVersion::Lite05 {
            head.push(0x06);
        }
        head.push(0x0A);
        // The header itself arrives one byte at a time.
        for b in &head {
            assert!(raw.feed(id, &[*b]).is_empty());
        }
        let chunks: Vec<Bytes> =
            [&b"012"[..], b"345", b"678", b"9"].iter().map(|c| Bytes::copy_from_slice(c)).collect();
        let mut out = Vec::new();
        for c in &chunks {
            out.extend(raw.input(Input::StreamData { stream: id, data: c.clone() }));
        }
        let ev = events(&out);
        let [Event::Object { request, info, payload: Payload::Chunks(got) }] = ev.as_slice() else {
            panic!("{ev:?}")
        };
        assert_eq!((*request, info), (s, &object_info(v, 7, 0, 3)));
        assert_eq!(got.len(), 4);
        for (g, c) in got.iter().zip(&chunks) {
            assert_eq!((g.as_ptr(), g.len()), (c.as_ptr(), c.len()));
        }
    }
}

/// The objects (info and payload bytes) and stream aborts of a peer Group stream fed as
/// `chunks` after its GROUP header arrived alone (so each chunk meets a stream with
/// nothing buffered first, or with a partial frame buffered).
fn group_fed_in(v: LiteVersion, config: Config, chunks: &[&[u8]]) -> (Vec<(ObjectInfo, Vec<u8>)>, Vec<u64>) {
    let mut raw = Raw::ready(v, Role::Client, config);
    raw.s.subscribe(track(), SubscribeOptions::default()).unwrap();
    raw.drain();
    let (id, mut out) = raw.stream(false, &[0x00, 0x02, 0x00, 0x07]);
    for c in chunks {
        out.extend(raw.feed(id, c));
    }
    let objects = events(&out)
        .into_iter()
        .filter_map(|e| match e {
            Event::Object { info, payload, .. } => Some((info, payload.to_bytes().to_vec())),
            _ => None,
        })
        .collect();
    (objects, aborts(&out, id).0)
}

#[test]
fn frames_read_as_they_arrive_match_frames_read_from_the_buffer() {
    for v in VERSIONS {
        // Three frames (05: deltas 1, 2, 3), payloads of 3, 0 and 5 bytes.
        let frame = |delta: u8, payload: &[u8]| {
            let mut f = if v == LiteVersion::Lite05 { vec![delta * 2] } else { vec![] };
            f.push(payload.len() as u8);
            f.extend_from_slice(payload);
            f
        };
        let bytes: Vec<u8> = [frame(1, b"abc"), frame(2, b""), frame(3, b"defgh")].concat();
        let (want, aborted) = group_fed_in(v, Config::default(), &[&bytes]);
        assert_eq!((want.len(), aborted), (3, vec![]), "{v:?}");
        assert_eq!(want[2].1, b"defgh");
        // Every split point into two chunks, and one byte at a time: the same objects.
        for cut in 0..=bytes.len() {
            let got = group_fed_in(v, Config::default(), &[&bytes[..cut], &bytes[cut..]]);
            assert_eq!(got, (want.clone(), vec![]), "{v:?} cut at {cut}");
        }
        let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(group_fed_in(v, Config::default(), &bytewise), (want.clone(), vec![]), "{v:?}");
        // A frame over max_object_size after a whole frame in the same chunk: the first is
        // delivered, then the stream is reset.
        let small = Config { max_object_size: 4, ..Config::default() };
        let (got, aborted) = group_fed_in(v, small, &[&bytes]);
        assert_eq!((got, aborted), (want[..2].to_vec(), vec![codes::FRAME_TOO_LARGE]), "{v:?}");
    }
    // lite-05: a delta taking the timestamp below zero after a whole frame in the same chunk.
    let (got, aborted) =
        group_fed_in(LiteVersion::Lite05, Config::default(), &[&[0x04, 0x01, b'x', 0x07, 0x00]]);
    assert_eq!(got.len(), 1);
    assert_eq!(aborted, vec![codes::PROTOCOL_VIOLATION]);
}

#[test]
fn group_for_an_unknown_subscribe_id_is_stopped() {
    for v in VERSIONS {
        let mut raw = Raw::ready(v, Role::Client, Config::default());
        let (id, out) = raw.stream(false, &[0x00, 0x02, 0x05, 0x00]);
        assert_eq!(aborts(&out, id), (vec![codes::NOT_FOUND], vec![]), "{v:?}");
        assert!(!raw.s.is_closed());
    }
}

#[test]
fn lite05_timestamps_below_zero_reset_the_group_stream() {
    let mut raw = Raw::ready(LiteVersion::Lite05, Role::Client, Config::default());
    raw.s.subscribe(track(), SubscribeOptions::default()).unwrap();
    raw.drain();
    // delta -1 (zigzag 1) on the first frame.
    let (id, out) = raw.stream(false, &[0x00, 0x02, 0x00, 0x00, 0x01, 0x00]);
    assert_eq!(aborts(&out, id), (vec![codes::PROTOCOL_VIOLATION], vec![]));
    assert!(!raw.s.is_closed());
}

#[test]
fn write_rules() {
    for (v, pub_side) in cases() {
        let mut p = pair(v);
        let (_, r) = subscribed(&mut p, pub_side, SubscribeOptions::default(), info_latest(0));
        let pb = p.session(pub_side);
        assert!(matches!(pb.open_subgroup(r, 0, 1, None), Err(CommandError::Unsupported { .. })));
        let g = pb.open_subgroup(r, 0, 0, None).unwrap();
        assert_eq!(
            pb.write_object(g, frame(1, b"x", 0)),
            Err(CommandError::InvalidState("lite frame ids are consecutive from 0"))
        );
        let mut props = frame(0, b"x", 0);
        props.properties = Bytes::from_static(&[1, 2]).into();
        assert!(matches!(pb.write_object(g, props), Err(CommandError::Unsupported { .. })));
        if v == LiteVersion::Lite05 {
            assert_eq!(
                pb.write_object(g, ObjectWrite::new(0, Bytes::new())),
                Err(CommandError::InvalidState("lite-05 frames need a timestamp"))
            );
        }
        assert!(pb.write_object(g, frame(0, b"x", 0)).is_ok());
        assert!(matches!(pb.publish(track(), TrackInfo::default()), Err(CommandError::Unsupported { .. })));
        if v == LiteVersion::Lite04 {
            assert!(matches!(pb.track_status(track()), Err(CommandError::Unsupported { .. })));
        }
        assert!(matches!(
            pb.joining_fetch(r, sluice::JoinStart::Relative(0), 0),
            Err(CommandError::Unsupported { .. })
        ));
        assert!(matches!(
            pb.subscribe(track(), SubscribeOptions { forward: false, ..SubscribeOptions::default() }),
            Err(CommandError::Unsupported { .. })
        ));
    }
}

#[test]
fn group_streams_are_ordered_by_lite_priority_rules() {
    for v in VERSIONS {
        let mut p = pair(v);
        // Subscriber priority 10 (MOQT) = 245 lite, ascending; publisher priority 0 = 255 lite.
        let options = SubscribeOptions {
            priority: 10,
            group_order: Some(GroupOrder::Ascending),
            ..SubscribeOptions::default()
        };
        let info = TrackInfo { publisher_priority: 0, ..info_latest(0) };
        let (s, r) = subscribed(&mut p, Side::Server, options, info);
        let g = p.server.open_subgroup(r, 3, 0, None).unwrap();
        let out: Vec<Output> = std::iter::from_fn(|| p.server.poll()).collect();
        let want = sluice::SendOrder((245 << 23) | (255 << 15) | (0x7FFF - 3));
        assert!(out.contains(&Output::OpenStream { stream: g, bidi: false, order: want }), "{out:?}");
        // A group-level priority override (MOQT 255 = lite 0) and the subscriber's update.
        let g2 = p.server.open_subgroup(r, 4, 0, Some(255)).unwrap();
        let out: Vec<Output> = std::iter::from_fn(|| p.server.poll()).collect();
        assert!(out.contains(&Output::OpenStream {
            stream: g2,
            bidi: false,
            order: sluice::SendOrder((245 << 23) | (0x7FFF - 4))
        }));
        p.client
            .update_subscription(
                s,
                SubscribeOptions {
                    priority: 255,
                    group_order: Some(GroupOrder::Descending),
                    ..SubscribeOptions::default()
                },
            )
            .unwrap();
        while let Some(o) = p.client.poll() {
            if let Output::Write { header, .. } = o {
                // Deliver the update by hand on the server's stream for this subscription: the
                // client's first bidirectional stream, QUIC id 0 (sluice-sim names peer
                // streams as RFC 9000 §2.1 does).
                let sid = StreamId(0);
                p.server.handle(p.now(), Input::StreamData { stream: sid, data: header.into_bytes() });
            }
        }
        let out: Vec<Output> = std::iter::from_fn(|| p.server.poll()).collect();
        assert!(
            out.contains(&Output::SetOrder { stream: g, order: sluice::SendOrder((255 << 15) | 3) }),
            "{v:?} {out:?}"
        );
        assert!(out.contains(&Output::SetOrder { stream: g2, order: sluice::SendOrder(4) }), "{v:?} {out:?}");
    }
}

#[test]
fn datagrams() {
    for (v, pub_side) in cases() {
        let sub_side = pub_side.peer();
        let mut p = pair(v);
        let (s, r) = subscribed(&mut p, pub_side, SubscribeOptions::default(), info_latest(0));
        let w = frame(0, b"tiny", 77);
        if v == LiteVersion::Lite04 {
            assert!(matches!(
                p.session(pub_side).send_datagram(r, 1, w),
                Err(CommandError::Unsupported { .. })
            ));
            continue;
        }
        p.session(pub_side).send_datagram(r, 1, w).unwrap();
        p.run();
        assert_eq!(
            p.take_events(sub_side),
            vec![Event::Object {
                request: s,
                info: object_info(v, 1, 0, 77),
                payload: Payload::One(Bytes::from_static(b"tiny"))
            }]
        );
        let big = ObjectWrite { timestamp: Some(0), ..ObjectWrite::new(0, Bytes::from(vec![0u8; 1200])) };
        assert!(matches!(p.session(pub_side).send_datagram(r, 2, big), Err(CommandError::Encode(_))));
        assert!(matches!(
            p.session(pub_side).send_datagram(r, 2, frame(1, b"x", 0)),
            Err(CommandError::InvalidState(_))
        ));
    }
    // Unknown Subscribe ID and oversized datagrams are dropped silently; a cut header closes.
    let mut raw = Raw::ready(LiteVersion::Lite05, Role::Client, Config::default());
    assert_eq!(raw.input(Input::Datagram(Bytes::from_static(&[0x09, 0x00, 0x00, b'x']))), vec![]);
    assert_eq!(raw.input(Input::Datagram(Bytes::from(vec![0u8; 1201]))), vec![]);
    assert_eq!(
        close_code(&raw.input(Input::Datagram(Bytes::from_static(&[0x00, 0x00])))),
        Some(codes::PROTOCOL_VIOLATION)
    );
}

#[test]
fn fetch_serves_one_group() {
    for (v, pub_side) in cases() {
        let sub_side = pub_side.peer();
        let mut p = pair(v);
        let f = p
            .session(sub_side)
            .fetch(track(), Location { group: 4, object: 0 }, Location { group: 5, object: 0 }, 7)
            .unwrap();
        p.run();
        let ev = p.take_events(pub_side);
        let [Event::IncomingFetch { request: r, track: t, start, end, priority, .. }] = ev.as_slice() else {
            panic!("{ev:?}")
        };
        assert_eq!(
            (&**t, *start, *end),
            (&track(), Location { group: 4, object: 0 }, Some(Location { group: 5, object: 0 }))
        );
        assert_eq!(*priority, 7, "the fetch priority survives the lite-sense mapping both ways");
        let r = *r;
        assert_eq!(
            p.session(pub_side).write_fetch_object(r, 4, 0, frame(0, b"a", 1)),
            Err(CommandError::InvalidState("fetch not accepted"))
        );
        p.session(pub_side).accept_fetch(r, Location { group: 5, object: 0 }).unwrap();
        assert!(matches!(
            p.session(pub_side).write_fetch_object(r, 3, 0, frame(0, b"a", 1)),
            Err(CommandError::InvalidState(_))
        ));
        p.session(pub_side).write_fetch_object(r, 4, 0, frame(0, b"first", 10)).unwrap();
        p.session(pub_side).write_fetch_object(r, 4, 0, frame(1, b"second", 20)).unwrap();
        p.session(pub_side).finish_fetch(r).unwrap();
        p.run();
        assert_eq!(
            p.take_events(sub_side),
            vec![
                Event::Object {
                    request: f,
                    info: object_info(v, 4, 0, 10),
                    payload: Payload::One(Bytes::from_static(b"first"))
                },
                Event::Object {
                    request: f,
                    info: object_info(v, 4, 1, 20),
                    payload: Payload::One(Bytes::from_static(b"second"))
                },
                Event::FetchEnded { request: f, reason: Reason { code: 0, text: "finished".into() } },
            ],
            "{v:?} {pub_side:?}"
        );
        assert_eq!((p.client.table_sizes(), p.server.table_sizes()), (0, 0), "{v:?} {pub_side:?}");

        // Rejected, and cancelled by the fetcher.
        let f = p
            .session(sub_side)
            .fetch(track(), Location { group: 1, object: 0 }, Location::default(), 0)
            .unwrap();
        p.run();
        let Some(Event::IncomingFetch { request: r, .. }) = p.take_events(pub_side).pop() else { panic!() };
        p.session(pub_side).reject(r, 13, "gone").unwrap();
        p.run();
        assert_eq!(
            p.take_events(sub_side),
            vec![Event::FetchEnded {
                request: f,
                reason: Reason { code: 13, text: "reset by the peer".into() }
            }]
        );
        let f = p
            .session(sub_side)
            .fetch(track(), Location { group: 1, object: 0 }, Location::default(), 0)
            .unwrap();
        p.run();
        let Some(Event::IncomingFetch { request: r, .. }) = p.take_events(pub_side).pop() else { panic!() };
        p.session(sub_side).cancel(f).unwrap();
        p.run();
        assert_eq!(
            p.take_events(pub_side),
            vec![Event::FetchEnded {
                request: r,
                reason: Reason { code: codes::CANCELLED, text: "reset by the peer".into() }
            }]
        );
        assert_eq!((p.client.table_sizes(), p.server.table_sizes()), (0, 0), "{v:?} {pub_side:?}");
        let _ = Version::Lite(v);
    }
}

#[test]
fn subscriber_reads_drops_and_refuses_a_second_lite05_ok() {
    for v in VERSIONS {
        let mut raw = Raw::ready(v, Role::Client, Config::default());
        let s = raw.s.subscribe(track(), SubscribeOptions::default()).unwrap();
        raw.drain();
        let stream = StreamId::local(if v == LiteVersion::Lite05 { 1 } else { 0 });
        let drop_type = if v == LiteVersion::Lite05 { 0x02 } else { 0x01 };
        let out = raw.feed(stream, &[drop_type, 0x03, 0x02, 0x04, 0x09]);
        assert_eq!(
            events(&out),
            vec![Event::GroupsDropped {
                request: s,
                first: 2,
                last: 4,
                reason: Reason { code: 9, text: String::new() }
            }],
            "{v:?}"
        );
        if v == LiteVersion::Lite05 {
            let out = raw.feed(stream, &[0x00, 0x01, 0x05]);
            assert_eq!(
                events(&out),
                vec![Event::Subscribed {
                    request: s,
                    info: Box::new(TrackInfo {
                        largest: Some(Location { group: 5, object: 0 }),
                        ..TrackInfo::default()
                    })
                }]
            );
            let out = raw.feed(stream, &[0x00, 0x01, 0x06]);
            assert_eq!(close_code(&out), Some(codes::PROTOCOL_VIOLATION));
        }
    }
}

#[test]
fn announce_rule_breaks_reset_the_discovery() {
    for v in VERSIONS {
        let mut raw = Raw::ready(v, Role::Client, Config::default());
        let d = raw.s.discover(ns(&["a"])).unwrap();
        raw.drain();
        let stream = StreamId::local(if v == LiteVersion::Lite05 { 1 } else { 0 });
        let mut data = Vec::new();
        if v == LiteVersion::Lite05 {
            data.extend([0x02, 0x00, 0x00]);
        }
        // active "/x", then ended "/y" (never active).
        data.extend([0x05, 0x01, 0x02, b'/', b'x', 0x00, 0x05, 0x00, 0x02, b'/', b'y', 0x00]);
        let out = raw.feed(stream, &data);
        assert_eq!(
            aborts(&out, stream),
            (vec![codes::PROTOCOL_VIOLATION], vec![codes::PROTOCOL_VIOLATION]),
            "{v:?}"
        );
        assert_eq!(
            events(&out),
            vec![
                Event::NamespaceFound { request: d, namespace: ns(&["a", "x"]) },
                Event::NamespaceGone { request: d, namespace: ns(&["a", "x"]) },
                Event::DiscoveryEnded {
                    request: d,
                    reason: Reason {
                        code: codes::PROTOCOL_VIOLATION,
                        text: "ended announce for an inactive path".into()
                    }
                },
            ],
            "{v:?}"
        );
        assert!(!raw.s.is_closed());
        assert_eq!(raw.s.table_sizes(), 0);
    }
}
