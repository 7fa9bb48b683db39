//! MOQT draft-18 scenarios through `sluice_sim::Pair`: setup, subscribe (both roles),
//! data, datagrams, publish, namespaces, fetch, track status, GOAWAY.

use std::time::Duration;

use bytes::Bytes;
use sluice::{
    Config, Event, Filter, GroupOrder, Location, MoqtVersion, Namespace, ObjectStatus, ObjectWrite, Payload,
    Reason, RequestHandle, SubscribeOptions, TrackInfo, TrackName, Version,
};
use sluice_sim::{Pair, Side};
use sluice_wire::moqt::codes::{PublishDoneCode, RequestErrorCode, SessionErrorCode, StreamResetCode};

const V: Version = Version::Moqt(MoqtVersion::Draft18);

fn pair() -> Pair {
    let mut p = Pair::new(V, Config::default(), Config::default());
    p.take_events(Side::Client);
    p.take_events(Side::Server);
    p
}

fn track() -> TrackName {
    TrackName::new(Namespace::from_fields(["live", "room"]), "video")
}

fn incoming_subscribe(events: &[Event]) -> (RequestHandle, SubscribeOptions) {
    match events {
        [Event::IncomingSubscribe { request, options, .. }] => (*request, (**options).clone()),
        other => panic!("expected IncomingSubscribe, got {other:?}"),
    }
}

/// Subscribes `sub` side to the other side and accepts; returns (subscriber, publisher) handles.
fn subscribed(p: &mut Pair, sub: Side) -> (RequestHandle, RequestHandle) {
    let s = p.session(sub).subscribe(track(), SubscribeOptions::default()).unwrap();
    p.run();
    let (incoming, _) = incoming_subscribe(&p.take_events(sub.peer()));
    p.session(sub.peer()).accept_subscribe(incoming, TrackInfo::default()).unwrap();
    p.run();
    assert!(matches!(p.take_events(sub).as_slice(), [Event::Subscribed { request, .. }] if *request == s));
    (s, incoming)
}

#[test]
fn setup_exchanges_implementations_both_ways() {
    let client = Config {
        implementation: Some("client-impl".into()),
        path: Some("/moq".into()),
        authority: Some("example.com".into()),
        ..Config::default()
    };
    let server = Config { implementation: Some("server-impl".into()), ..Config::default() };
    let mut p = Pair::new(V, client, server);
    assert_eq!(
        p.take_events(Side::Client),
        vec![Event::Ready { version: V, peer_implementation: Some("server-impl".into()) }]
    );
    assert_eq!(
        p.take_events(Side::Server),
        vec![Event::Ready { version: V, peer_implementation: Some("client-impl".into()) }]
    );
}

#[test]
fn subscribe_accept_and_objects_flow_for_both_roles() {
    for sub in [Side::Client, Side::Server] {
        let mut p = pair();
        let options = SubscribeOptions {
            filter: Filter::AbsoluteRange { start: Location { group: 3, object: 1 }, end_group: 9 },
            priority: 7,
            group_order: Some(GroupOrder::Descending),
            forward: true,
            max_latency_ms: 250,
            // Carried as SUBSCRIBE's RENDEZVOUS_TIMEOUT and reported as sent.
            rendezvous_timeout_ms: Some(1500),
            new_group_request: None,
        };
        let s = p.session(sub).subscribe(track(), options.clone()).unwrap();
        p.run();
        let ev = p.take_events(sub.peer());
        assert_eq!(
            ev,
            vec![Event::IncomingSubscribe {
                request: ev_req(&ev),
                track: track(),
                options: Box::new(options)
            }]
        );
        let incoming = ev_req(&ev);
        let info = TrackInfo {
            publisher_priority: 9,
            group_order: GroupOrder::Descending,
            largest: Some(Location { group: 5, object: 2 }),
            max_latency_ms: 0,
            ..TrackInfo::default()
        };
        p.session(sub.peer()).accept_subscribe(incoming, info.clone()).unwrap();
        p.run();
        assert_eq!(p.take_events(sub), vec![Event::Subscribed { request: s, info: Box::new(info) }]);

        let stream = p.session(sub.peer()).open_subgroup(incoming, 6, 0, Some(3)).unwrap();
        p.session(sub.peer())
            .write_object(stream, ObjectWrite::new(0, Bytes::from_static(b"hello")))
            .unwrap();
        p.session(sub.peer()).write_object(stream, ObjectWrite::new(2, Bytes::from_static(b""))).unwrap();
        p.session(sub.peer()).close_subgroup(stream, true).unwrap();
        p.run();
        let objs: Vec<_> = p
            .take_events(sub)
            .into_iter()
            .map(|e| match e {
                Event::Object { request, info, payload } => {
                    assert_eq!(request, s);
                    (
                        info.group,
                        info.subgroup,
                        info.object,
                        info.status,
                        info.publisher_priority,
                        payload.to_bytes(),
                    )
                }
                // The stream's FIN, after its last object (the status object's subgroup).
                Event::SubgroupEnded { request, group, subgroup } => {
                    assert_eq!((request, group, subgroup), (s, 6, 0));
                    (u64::MAX, 0, 0, ObjectStatus::Normal, None, Bytes::new())
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            objs,
            vec![
                (6, 0, 0, ObjectStatus::Normal, Some(3), Bytes::from_static(b"hello")),
                (6, 0, 2, ObjectStatus::Normal, Some(3), Bytes::new()),
                (6, 0, 3, ObjectStatus::EndOfGroup, Some(3), Bytes::new()),
                (u64::MAX, 0, 0, ObjectStatus::Normal, None, Bytes::new()),
            ]
        );
    }
}

fn ev_req(ev: &[Event]) -> RequestHandle {
    match ev.first() {
        Some(Event::IncomingSubscribe { request, .. })
        | Some(Event::IncomingPublish { request, .. })
        | Some(Event::IncomingFetch { request, .. })
        | Some(Event::IncomingAnnounce { request, .. })
        | Some(Event::IncomingTrackStatus { request, .. }) => *request,
        other => panic!("no incoming request: {other:?}"),
    }
}

#[test]
fn explicit_subgroup_and_properties_reach_the_subscriber() {
    let mut p = pair();
    let (s, incoming) = subscribed(&mut p, Side::Client);
    let stream = p.server.open_subgroup(incoming, 1, 4, None).unwrap();
    // Properties: type 0x3C (even) = varint 5 → bytes [0x3C, 0x05].
    let mut obj = ObjectWrite::new(8, Bytes::from_static(b"x"));
    obj.properties = Bytes::from_static(&[0x3C, 0x05]).into();
    p.server.write_object(stream, obj).unwrap();
    p.server.close_subgroup(stream, false).unwrap();
    p.run();
    match p.take_events(Side::Client).as_slice() {
        [
            Event::Object { request, info, payload },
            Event::SubgroupEnded { request: r2, group: 1, subgroup: 4 },
        ] => {
            assert_eq!(*request, s);
            assert_eq!(*r2, s);
            assert_eq!((info.group, info.subgroup, info.object), (1, 4, 8));
            assert_eq!(info.publisher_priority, None);
            assert_eq!(info.properties, Bytes::from_static(&[0x3C, 0x05]));
            assert_eq!(payload.to_bytes(), Bytes::from_static(b"x"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn single_chunk_payload_is_not_copied() {
    let mut p = pair();
    let (_, incoming) = subscribed(&mut p, Side::Client);
    let payload = Bytes::from(vec![42u8; 1000]);
    let stream = p.server.open_subgroup(incoming, 0, 0, None).unwrap();
    p.server.write_object(stream, ObjectWrite::new(0, payload.clone())).unwrap();
    p.run();
    match p.take_events(Side::Client).as_slice() {
        [Event::Object { payload: Payload::One(b), .. }] => {
            assert_eq!(b.as_ptr(), payload.as_ptr());
            assert_eq!(b.len(), 1000);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn empty_subgroup_closed_as_end_of_group_uses_the_header_bit() {
    let mut p = pair();
    let (_, incoming) = subscribed(&mut p, Side::Client);
    let stream = p.server.open_subgroup(incoming, 2, 0, None).unwrap();
    p.server.close_subgroup(stream, true).unwrap();
    let mut header = None;
    while let Some(o) = p.server.poll() {
        if let sluice::Output::Write { header: h, fin: true, .. } = o {
            header = Some(h);
        }
    }
    // SUBGROUP type 0x10 | END_OF_GROUP 0x08 | DEFAULT_PRIORITY 0x20 = 0x38, alias 0, group 2.
    assert_eq!(header.unwrap().as_slice(), &[0x38, 0x00, 0x02]);
}

#[test]
fn reject_subscribe_gives_subscribe_failed_with_code() {
    for sub in [Side::Client, Side::Server] {
        let mut p = pair();
        let s = p.session(sub).subscribe(track(), SubscribeOptions::default()).unwrap();
        p.run();
        let incoming = ev_req(&p.take_events(sub.peer()));
        p.session(sub.peer()).reject(incoming, RequestErrorCode::DOES_NOT_EXIST.0, "no such track").unwrap();
        p.run();
        assert_eq!(
            p.take_events(sub),
            vec![Event::SubscribeFailed {
                request: s,
                reason: Reason { code: RequestErrorCode::DOES_NOT_EXIST.0, text: "no such track".into() }
            }]
        );
        assert_eq!(p.client.table_sizes() + p.server.table_sizes(), 2, "only the control streams remain");
    }
}

#[test]
fn update_subscription_reaches_the_publisher() {
    let mut p = pair();
    let (s, incoming) = subscribed(&mut p, Side::Client);
    let new = SubscribeOptions { priority: 1, forward: false, ..SubscribeOptions::default() };
    p.client.update_subscription(s, new.clone()).unwrap();
    p.run();
    assert_eq!(
        p.take_events(Side::Server),
        vec![Event::SubscribeUpdated { request: incoming, options: new }]
    );
    assert!(p.take_events(Side::Client).is_empty());
    assert!(!p.client.is_closed());
}

#[test]
fn unsubscribe_tells_the_publisher() {
    for sub in [Side::Client, Side::Server] {
        let mut p = pair();
        let (s, incoming) = subscribed(&mut p, sub);
        p.session(sub).cancel(s).unwrap();
        p.run();
        assert_eq!(p.take_events(sub.peer()), vec![Event::SubscriberGone { request: incoming }]);
        assert_eq!(
            p.session(sub.peer()).open_subgroup(incoming, 0, 0, None),
            Err(sluice::CommandError::UnknownRequest(incoming))
        );
    }
}

#[test]
fn publish_done_ends_the_subscription_after_its_streams() {
    let mut p = pair();
    let (s, incoming) = subscribed(&mut p, Side::Client);
    let a = p.server.open_subgroup(incoming, 0, 0, None).unwrap();
    p.server.write_object(a, ObjectWrite::new(0, Bytes::from_static(b"a"))).unwrap();
    p.server.close_subgroup(a, false).unwrap();
    p.server.end_subscription(incoming, PublishDoneCode::TRACK_ENDED.0, "bye").unwrap();
    p.run();
    let ev = p.take_events(Side::Client);
    assert_eq!(ev.len(), 3, "{ev:?}");
    assert!(matches!(ev[0], Event::Object { .. }));
    assert_eq!(ev[1], Event::SubgroupEnded { request: s, group: 0, subgroup: 0 });
    assert_eq!(
        ev[2],
        Event::SubscriptionEnded {
            request: s,
            reason: Reason { code: PublishDoneCode::TRACK_ENDED.0, text: "bye".into() }
        }
    );
    assert_eq!(p.client.table_sizes(), 1);
}

#[test]
fn publish_done_waits_a_bounded_time_for_missing_streams() {
    let mut p = pair();
    let (s, incoming) = subscribed(&mut p, Side::Client);
    // One stream is counted but never arrives (the transport lost it: its open is
    // swallowed here before delivery).
    let a = p.server.open_subgroup(incoming, 0, 0, None).unwrap();
    p.server.close_subgroup(a, false).unwrap();
    while p.server.poll().is_some() {}
    p.server.end_subscription(incoming, PublishDoneCode::SUBSCRIPTION_ENDED.0, "").unwrap();
    p.run();
    assert!(p.take_events(Side::Client).is_empty());
    p.advance(Duration::from_millis(600));
    assert_eq!(
        p.take_events(Side::Client),
        vec![Event::SubscriptionEnded {
            request: s,
            reason: Reason { code: PublishDoneCode::SUBSCRIPTION_ENDED.0, text: String::new() }
        }]
    );
}

#[test]
fn datagrams_round_trip() {
    let mut p = pair();
    let (s, incoming) = subscribed(&mut p, Side::Server);
    p.client.send_datagram(incoming, 4, ObjectWrite::new(7, Bytes::from_static(b"dg"))).unwrap();
    let mut eot = ObjectWrite::new(8, Bytes::new());
    eot.status = ObjectStatus::EndOfTrack;
    p.client.send_datagram(incoming, 4, eot).unwrap();
    p.run();
    let ev = p.take_events(Side::Server);
    match ev.as_slice() {
        [
            Event::Object { request: r1, info: i1, payload: p1 },
            Event::Object { request: r2, info: i2, .. },
        ] => {
            assert_eq!((*r1, *r2), (s, s));
            assert_eq!((i1.group, i1.object, i1.status), (4, 7, ObjectStatus::Normal));
            assert_eq!(p1.to_bytes(), Bytes::from_static(b"dg"));
            assert_eq!((i2.group, i2.object, i2.status), (4, 8, ObjectStatus::EndOfTrack));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn publish_push_is_accepted_and_objects_flow() {
    for publisher in [Side::Client, Side::Server] {
        let mut p = pair();
        let info = TrackInfo { publisher_priority: 5, ..TrackInfo::default() };
        let h = p.session(publisher).publish(track(), info.clone()).unwrap();
        p.run();
        let ev = p.take_events(publisher.peer());
        let incoming = ev_req(&ev);
        assert_eq!(
            ev,
            vec![Event::IncomingPublish { request: incoming, track: track(), info: Box::new(info) }]
        );
        // Objects sent before PUBLISH_OK wait for the subscriber's answer.
        let st = p.session(publisher).open_subgroup(h, 0, 0, None).unwrap();
        p.session(publisher).write_object(st, ObjectWrite::new(0, Bytes::from_static(b"early"))).unwrap();
        p.run();
        assert!(p.take_events(publisher.peer()).is_empty());
        let opts = SubscribeOptions { priority: 3, ..SubscribeOptions::default() };
        p.session(publisher.peer()).accept_publish(incoming, opts.clone()).unwrap();
        p.run();
        assert_eq!(p.take_events(publisher), vec![Event::PublishAccepted { request: h, options: opts }]);
        match p.take_events(publisher.peer()).as_slice() {
            [Event::Object { request, payload, .. }] => {
                assert_eq!(*request, incoming);
                assert_eq!(payload.to_bytes(), Bytes::from_static(b"early"));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn announce_accept_and_withdraw() {
    for side in [Side::Client, Side::Server] {
        let mut p = pair();
        let ns = Namespace::from_fields(["a", "b"]);
        let h = p.session(side).announce(ns.clone()).unwrap();
        p.run();
        let ev = p.take_events(side.peer());
        let incoming = ev_req(&ev);
        assert_eq!(ev, vec![Event::IncomingAnnounce { request: incoming, namespace: ns }]);
        p.session(side.peer()).accept_announce(incoming).unwrap();
        p.run();
        assert_eq!(p.take_events(side), vec![Event::AnnounceAccepted { request: h }]);
        p.session(side).cancel(h).unwrap();
        p.run();
        assert_eq!(p.take_events(side.peer()), vec![Event::IncomingAnnounceEnded { request: incoming }]);
        assert_eq!(p.client.table_sizes() + p.server.table_sizes(), 2);
    }
}

#[test]
fn discovery_reports_existing_and_later_namespaces() {
    for sub in [Side::Client, Side::Server] {
        let publ = sub.peer();
        let mut p = pair();
        let ns1 = Namespace::from_fields(["live", "one"]);
        let other = Namespace::from_fields(["vod", "x"]);
        let a1 = p.session(publ).announce(ns1.clone()).unwrap();
        p.session(publ).announce(other).unwrap();
        p.run();
        p.take_events(sub);
        let d = p.session(sub).discover(Namespace::from_fields(["live"])).unwrap();
        p.run();
        assert_eq!(p.take_events(sub), vec![Event::NamespaceFound { request: d, namespace: ns1.clone() }]);
        let ns2 = Namespace::from_fields(["live", "two"]);
        p.session(publ).announce(ns2.clone()).unwrap();
        p.run();
        let ev = p.take_events(sub);
        assert!(ev.contains(&Event::NamespaceFound { request: d, namespace: ns2 }), "{ev:?}");
        p.session(publ).cancel(a1).unwrap();
        p.run();
        let ev = p.take_events(sub);
        assert!(ev.contains(&Event::NamespaceGone { request: d, namespace: ns1 }), "{ev:?}");
    }
}

#[test]
fn standalone_fetch_delivers_objects_then_ends() {
    for fetcher in [Side::Client, Side::Server] {
        let mut p = pair();
        let start = Location { group: 1, object: 0 };
        let end = Location { group: 3, object: 0 };
        let f = p.session(fetcher).fetch(track(), start, end, 10).unwrap();
        p.run();
        let ev = p.take_events(fetcher.peer());
        let incoming = ev_req(&ev);
        assert_eq!(
            ev,
            vec![Event::IncomingFetch {
                request: incoming,
                track: Box::new(track()),
                start,
                end: Some(end),
                priority: 10,
                fill_timeout_ms: None,
            }]
        );
        p.session(fetcher.peer()).accept_fetch(incoming, end).unwrap();
        p.session(fetcher.peer())
            .write_fetch_object(incoming, 1, 0, ObjectWrite::new(0, Bytes::from_static(b"g1")))
            .unwrap();
        p.session(fetcher.peer())
            .write_fetch_object(incoming, 2, 1, ObjectWrite::new(5, Bytes::from_static(b"g2")))
            .unwrap();
        p.session(fetcher.peer()).finish_fetch(incoming).unwrap();
        p.run();
        let ev = p.take_events(fetcher);
        assert_eq!(ev.first(), Some(&Event::FetchAccepted { request: f, end, info: Box::default() }));
        let objects: Vec<_> = ev
            .iter()
            .filter_map(|e| match e {
                Event::Object { info, payload, .. } => {
                    Some((info.group, info.subgroup, info.object, payload.to_bytes()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(objects, vec![(1, 0, 0, Bytes::from_static(b"g1")), (2, 1, 5, Bytes::from_static(b"g2"))]);
        assert_eq!(
            ev.last(),
            Some(&Event::FetchEnded { request: f, reason: Reason { code: 0, text: String::new() } })
        );
        assert_eq!(p.client.table_sizes() + p.server.table_sizes(), 2);
    }
}

#[test]
fn joining_fetch_refers_to_the_subscription() {
    let mut p = pair();
    let s = p.client.subscribe(track(), SubscribeOptions::default()).unwrap();
    p.run();
    let incoming = ev_req(&p.take_events(Side::Server));
    let info = TrackInfo { largest: Some(Location { group: 10, object: 4 }), ..TrackInfo::default() };
    p.server.accept_subscribe(incoming, info).unwrap();
    p.run();
    p.take_events(Side::Client);
    p.client.joining_fetch(s, sluice::JoinStart::Relative(3), 0).unwrap();
    p.run();
    match p.take_events(Side::Server).as_slice() {
        [Event::IncomingFetch { track: t, start, end: None, .. }] => {
            assert_eq!(**t, track());
            assert_eq!(*start, Location { group: 7, object: 0 });
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn track_status_answer_and_refusal() {
    for asker in [Side::Client, Side::Server] {
        let answerer = asker.peer();
        let mut p = pair();
        let h = p.session(asker).track_status(track()).unwrap();
        p.run();
        let ev = p.take_events(answerer);
        let incoming = ev_req(&ev);
        assert_eq!(ev, vec![Event::IncomingTrackStatus { request: incoming, track: track() }]);
        let info = TrackInfo {
            largest: Some(Location { group: 2, object: 9 }),
            publisher_priority: 1,
            ..TrackInfo::default()
        };
        p.session(answerer).accept_subscribe(incoming, info.clone()).unwrap();
        p.run();
        assert_eq!(p.take_events(asker), vec![Event::TrackStatus { request: h, result: Ok(Box::new(info)) }]);

        let h = p.session(asker).track_status(track()).unwrap();
        p.run();
        let incoming = ev_req(&p.take_events(answerer));
        p.session(answerer).reject(incoming, RequestErrorCode::DOES_NOT_EXIST.0, "none").unwrap();
        p.run();
        assert_eq!(
            p.take_events(asker),
            vec![Event::TrackStatus {
                request: h,
                result: Err(Reason { code: RequestErrorCode::DOES_NOT_EXIST.0, text: "none".into() })
            }]
        );
        assert_eq!(p.session(asker).table_sizes() + p.session(answerer).table_sizes(), 2);
    }
}

#[test]
fn goaway_rules_of_section_10_4() {
    // A client may not name a URI.
    let mut p = pair();
    assert_eq!(
        p.session(Side::Client).goaway(Bytes::from_static(b"x"), Duration::ZERO),
        Err(sluice::CommandError::InvalidState("a client's GOAWAY carries no URI"))
    );
    // A second GOAWAY on the control stream closes the session with PROTOCOL_VIOLATION.
    p.session(Side::Server).goaway(Bytes::new(), Duration::ZERO).unwrap();
    p.run();
    p.session(Side::Server).goaway(Bytes::new(), Duration::ZERO).unwrap();
    p.run();
    assert_eq!(
        p.take_events(Side::Client).last(),
        Some(&Event::Closed {
            code: SessionErrorCode::PROTOCOL_VIOLATION.0,
            reason: "second GOAWAY on the control stream".into(),
            by_peer: false
        })
    );
}

#[test]
fn goaway_is_reported_and_times_out() {
    for receiver in [Side::Client, Side::Server] {
        let sender = receiver.peer();
        let mut p = pair();
        // §10.4: only a server may name a new session URI; a client's GOAWAY is empty.
        let uri =
            if sender == Side::Server { Bytes::from_static(b"https://elsewhere") } else { Bytes::new() };
        p.session(sender).goaway(uri.clone(), Duration::from_secs(2)).unwrap();
        p.run();
        assert_eq!(p.take_events(receiver), vec![Event::GoAway { uri }]);
        // New requests to the sender are refused with GOING_AWAY.
        let s = p.session(receiver).subscribe(track(), SubscribeOptions::default()).unwrap();
        p.run();
        match p.take_events(receiver).as_slice() {
            [Event::SubscribeFailed { request, reason }] => {
                assert_eq!(*request, s);
                assert_eq!(reason.code, RequestErrorCode::GOING_AWAY.0);
            }
            other => panic!("{other:?}"),
        }
        p.advance(Duration::from_secs(2));
        assert!(p.session(sender).is_closed());
        assert_eq!(
            p.take_events(sender).last(),
            Some(&Event::Closed {
                code: SessionErrorCode::GOAWAY_TIMEOUT.0,
                reason: "GOAWAY timeout".into(),
                by_peer: false
            })
        );
        assert_eq!(p.session(sender).table_sizes(), 0);
        assert_eq!(p.session(receiver).table_sizes(), 0);
    }
}

#[test]
fn end_subscription_resets_streams_left_open_even_empty_ones() {
    let mut p = pair();
    let (s, incoming) = subscribed(&mut p, Side::Client);
    let st = p.server.open_subgroup(incoming, 4, 0, None).unwrap();
    p.server.write_object(st, ObjectWrite::new(0, Bytes::from_static(b"a"))).unwrap();
    p.run();
    p.take_events(Side::Client);
    let empty = p.server.open_subgroup(incoming, 5, 0, None).unwrap();
    let _ = empty;
    // The application ends the subscription with two streams it never closed (one without
    // any object): their subgroups were cut short, so the engine resets both with
    // CANCELLED ("Closing Subgroup Streams": early close MUST reset, a FIN would claim
    // completeness), writing the empty one's header first so it still counts. The
    // subscriber sees both groups dropped, then the subscription end at once.
    p.server.end_subscription(incoming, PublishDoneCode::INTERNAL_ERROR.0, "").unwrap();
    p.run();
    let cancelled = || Reason { code: StreamResetCode::CANCELLED.0, text: String::new() };
    assert_eq!(
        p.take_events(Side::Client),
        vec![
            Event::GroupsDropped { request: s, first: 4, last: 4, reason: cancelled() },
            Event::GroupsDropped { request: s, first: 5, last: 5, reason: cancelled() },
            Event::SubscriptionEnded {
                request: s,
                reason: Reason { code: PublishDoneCode::INTERNAL_ERROR.0, text: String::new() }
            }
        ]
    );
}

#[test]
fn closing_empties_every_table() {
    let mut p = pair();
    let (_, incoming) = subscribed(&mut p, Side::Client);
    let st = p.server.open_subgroup(incoming, 0, 0, None).unwrap();
    p.server.write_object(st, ObjectWrite::new(0, Bytes::from_static(b"a"))).unwrap();
    p.client.announce(Namespace::from_fields(["x"])).unwrap();
    p.client.discover(Namespace::from_fields(["y"])).unwrap();
    p.run();
    assert!(p.client.table_sizes() > 0 && p.server.table_sizes() > 0);
    p.client.close(0, "done");
    p.run();
    assert_eq!(p.client.table_sizes(), 0);
    assert_eq!(p.server.table_sizes(), 0);
    assert!(p.server.is_closed());
}

#[test]
fn cancelled_fetch_ends_at_the_publisher() {
    let mut p = pair();
    let f = p
        .client
        .fetch(track(), Location { group: 0, object: 0 }, Location { group: 2, object: 0 }, 0)
        .unwrap();
    p.run();
    let incoming = ev_req(&p.take_events(Side::Server));
    p.server.accept_fetch(incoming, Location { group: 2, object: 0 }).unwrap();
    p.server.write_fetch_object(incoming, 0, 0, ObjectWrite::new(0, Bytes::from_static(b"a"))).unwrap();
    p.run();
    assert_eq!(p.take_events(Side::Client).len(), 2, "FetchAccepted and one object");
    p.client.cancel(f).unwrap();
    p.run();
    assert_eq!(
        p.take_events(Side::Server),
        vec![Event::FetchEnded {
            request: incoming,
            reason: Reason { code: StreamResetCode::CANCELLED.0, text: String::new() }
        }]
    );
    assert_eq!(
        p.server.write_fetch_object(incoming, 0, 0, ObjectWrite::new(1, Bytes::new())),
        Err(sluice::CommandError::UnknownRequest(incoming))
    );
    assert_eq!(p.client.table_sizes() + p.server.table_sizes(), 2);
}

#[test]
fn subscriber_leaves_a_pushed_track() {
    let mut p = pair();
    let h = p.server.publish(track(), TrackInfo::default()).unwrap();
    p.run();
    let incoming = ev_req(&p.take_events(Side::Client));
    p.client.accept_publish(incoming, SubscribeOptions::default()).unwrap();
    p.run();
    p.take_events(Side::Server);
    p.client.cancel(incoming).unwrap();
    p.run();
    assert_eq!(p.take_events(Side::Server), vec![Event::SubscriberGone { request: h }]);
    assert_eq!(p.client.table_sizes() + p.server.table_sizes(), 2);
}

#[test]
fn absolute_joining_fetch_and_joining_an_unaccepted_subscription() {
    let mut p = pair();
    let s = p.client.subscribe(track(), SubscribeOptions::default()).unwrap();
    p.run();
    let incoming = ev_req(&p.take_events(Side::Server));
    // Not accepted yet (§10.12.2 `Pending`): the publisher buffers the joining fetch ...
    let early = p.client.joining_fetch(s, sluice::JoinStart::Absolute(2), 0).unwrap();
    p.run();
    assert_eq!(p.take_events(Side::Server), vec![]);
    assert_eq!(p.take_events(Side::Client), vec![]);
    // ... and serves it once the subscription is accepted.
    let info = TrackInfo { largest: Some(Location { group: 5, object: 1 }), ..TrackInfo::default() };
    p.server.accept_subscribe(incoming, info).unwrap();
    p.run();
    match p.take_events(Side::Server).as_slice() {
        [Event::IncomingFetch { request, track: t, start, end: None, .. }] => {
            assert_eq!(**t, track());
            assert_eq!(*start, Location { group: 2, object: 0 });
            p.server.accept_fetch(*request, Location { group: 5, object: 2 }).unwrap();
        }
        other => panic!("{other:?}"),
    }
    p.run();
    let client = p.take_events(Side::Client);
    assert_eq!(client.len(), 2, "{client:?}");
    assert!(
        matches!(&client[0], Event::Subscribed { request, info } if *request == s && info.largest == Some(Location { group: 5, object: 1 }))
    );
    assert_eq!(
        client[1],
        Event::FetchAccepted { request: early, end: Location { group: 5, object: 2 }, info: Box::default() }
    );
    // A joining fetch buffered on a subscription that is then rejected is refused with
    // INVALID_JOINING_REQUEST_ID.
    let other = TrackName::new(Namespace::from_fields(["ns"]), "other");
    let s2 = p.client.subscribe(other, SubscribeOptions::default()).unwrap();
    p.run();
    let incoming2 = ev_req(&p.take_events(Side::Server));
    let doomed = p.client.joining_fetch(s2, sluice::JoinStart::Absolute(0), 0).unwrap();
    p.run();
    assert_eq!(p.take_events(Side::Server), vec![]);
    p.server.reject(incoming2, RequestErrorCode::DOES_NOT_EXIST.0, "no").unwrap();
    p.run();
    assert_eq!(p.take_events(Side::Server), vec![]);
    let client = p.take_events(Side::Client);
    assert_eq!(client.len(), 2, "{client:?}");
    assert!(
        matches!(&client[0], Event::SubscribeFailed { request, reason } if *request == s2 && reason.code == RequestErrorCode::DOES_NOT_EXIST.0)
    );
    assert_eq!(
        client[1],
        Event::FetchEnded {
            request: doomed,
            reason: Reason {
                code: RequestErrorCode::INVALID_JOINING_REQUEST_ID.0,
                text: "no such subscription".into()
            }
        }
    );
}

#[test]
fn joining_fetch_needs_forward_state_1_and_a_largest_location() {
    let refused = |p: &mut Pair, f: RequestHandle, text: &str| {
        assert_eq!(
            p.take_events(Side::Client),
            vec![Event::FetchEnded {
                request: f,
                reason: Reason { code: RequestErrorCode::INVALID_RANGE.0, text: text.into() }
            }]
        );
        assert_eq!(p.take_events(Side::Server), vec![]);
    };
    // Forward State 0 → INVALID_RANGE (§10.12.2), even with objects published.
    let mut p = pair();
    let s = p
        .client
        .subscribe(track(), SubscribeOptions { forward: false, ..SubscribeOptions::default() })
        .unwrap();
    p.run();
    let incoming = ev_req(&p.take_events(Side::Server));
    let info = TrackInfo { largest: Some(Location { group: 3, object: 0 }), ..TrackInfo::default() };
    p.server.accept_subscribe(incoming, info).unwrap();
    p.run();
    p.take_events(Side::Client);
    let f = p.client.joining_fetch(s, sluice::JoinStart::Relative(1), 0).unwrap();
    p.run();
    refused(&mut p, f, "subscription not forwarding");
    // No Largest Location (nothing published) → INVALID_RANGE; after an object is written
    // the same request is served from it.
    let mut p = pair();
    let s = p.client.subscribe(track(), SubscribeOptions::default()).unwrap();
    p.run();
    let incoming = ev_req(&p.take_events(Side::Server));
    p.server.accept_subscribe(incoming, TrackInfo::default()).unwrap();
    p.run();
    p.take_events(Side::Client);
    let f = p.client.joining_fetch(s, sluice::JoinStart::Relative(1), 0).unwrap();
    p.run();
    refused(&mut p, f, "no objects published");
    let st = p.server.open_subgroup(incoming, 4, 0, None).unwrap();
    p.server.write_object(st, ObjectWrite::new(2, Bytes::from_static(b"a"))).unwrap();
    p.run();
    p.take_events(Side::Client);
    p.client.joining_fetch(s, sluice::JoinStart::Relative(1), 0).unwrap();
    p.run();
    match p.take_events(Side::Server).as_slice() {
        [Event::IncomingFetch { start, end: None, .. }] => {
            assert_eq!(*start, Location { group: 3, object: 0 })
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn subscribe_tracks_asks_the_peer_to_publish() {
    let mut p = pair();
    let prefix = Namespace::from_fields(["live"]);
    let d = p.client.discover_tracks(prefix.clone()).unwrap();
    p.run();
    let ev = p.take_events(Side::Server);
    let incoming = match ev.as_slice() {
        [Event::IncomingTrackDiscovery { request, prefix: pf, forward: true }] if *pf == prefix => *request,
        other => panic!("{other:?}"),
    };
    p.server.publish(track(), TrackInfo::default()).unwrap();
    p.run();
    assert!(
        matches!(p.take_events(Side::Client).as_slice(), [Event::IncomingPublish { track: t, .. }] if *t == track())
    );
    // A second, overlapping SUBSCRIBE_TRACKS is refused; an overlapping SUBSCRIBE_NAMESPACE
    // is not (independent overlap spaces).
    let d2 = p.client.discover_tracks(Namespace::from_fields(["live", "room"])).unwrap();
    let n = p.client.discover(Namespace::from_fields(["live", "room"])).unwrap();
    p.run();
    assert_eq!(
        p.take_events(Side::Client),
        vec![Event::DiscoveryEnded {
            request: d2,
            reason: Reason { code: RequestErrorCode::PREFIX_OVERLAP.0, text: "prefix overlap".into() }
        }]
    );
    let n2 = p.client.discover(Namespace::from_fields(["live"])).unwrap();
    p.run();
    assert_eq!(
        p.take_events(Side::Client),
        vec![Event::DiscoveryEnded {
            request: n2,
            reason: Reason { code: RequestErrorCode::PREFIX_OVERLAP.0, text: "prefix overlap".into() }
        }]
    );
    let _ = n;
    p.client.cancel(d).unwrap();
    p.run();
    assert_eq!(p.take_events(Side::Server), vec![Event::IncomingTrackDiscoveryEnded { request: incoming }]);
}

#[test]
fn fetch_ok_end_before_the_start_closes_with_protocol_violation() {
    // (FETCH_OK End Location, accepted?) for a FETCH starting at {5, 3}. The End Location
    // is "last object + 1", object 0 = the whole group (§10.13).
    let cases = [
        (Location { group: 5, object: 2 }, false),
        (Location { group: 4, object: 0 }, false),
        (Location { group: 4, object: 9 }, false),
        (Location { group: 5, object: 0 }, true),
        (Location { group: 5, object: 3 }, true),
        (Location { group: 6, object: 1 }, true),
    ];
    for (end, ok) in cases {
        let mut p = pair();
        let f = p
            .client
            .fetch(track(), Location { group: 5, object: 3 }, Location { group: 9, object: 0 }, 0)
            .unwrap();
        p.run();
        let incoming = ev_req(&p.take_events(Side::Server));
        p.server.accept_fetch(incoming, end).unwrap();
        p.run();
        let expected = if ok {
            Event::FetchAccepted { request: f, end, info: Box::default() }
        } else {
            Event::Closed {
                code: SessionErrorCode::PROTOCOL_VIOLATION.0,
                reason: "FETCH_OK End Location before the Start Location".into(),
                by_peer: false,
            }
        };
        assert_eq!(p.take_events(Side::Client), vec![expected], "{end:?}");
    }
}

#[test]
fn a_refused_publish_reaches_its_publisher_with_the_code() {
    let mut p = pair();
    let h = p.server.publish(track(), TrackInfo::default()).unwrap();
    p.run();
    let incoming = ev_req(&p.take_events(Side::Client));
    p.client.reject(incoming, RequestErrorCode::UNINTERESTED.0, "no thanks").unwrap();
    p.run();
    assert_eq!(
        p.take_events(Side::Server),
        vec![Event::PublishRefused {
            request: h,
            reason: Reason { code: RequestErrorCode::UNINTERESTED.0, text: "no thanks".to_owned() }
        }]
    );
    assert_eq!(p.client.table_sizes() + p.server.table_sizes(), 2);
}

#[test]
fn an_accepted_fetch_can_be_aborted_by_its_publisher() {
    // With objects already on the data stream, and before any.
    for objects in [2u64, 0] {
        let mut p = pair();
        let end = Location { group: 3, object: 0 };
        let f = p.client.fetch(track(), Location { group: 1, object: 0 }, end, 10).unwrap();
        p.run();
        let incoming = ev_req(&p.take_events(Side::Server));
        p.server.accept_fetch(incoming, end).unwrap();
        for object in 0..objects {
            p.server
                .write_fetch_object(incoming, 1, 0, ObjectWrite::new(object, Bytes::from_static(b"x")))
                .unwrap();
        }
        p.run();
        let code = StreamResetCode::INTERNAL_ERROR.0 + 0x10;
        p.server.reject(incoming, code, "upstream failed").unwrap();
        assert_eq!(
            p.server.write_fetch_object(incoming, 2, 0, ObjectWrite::new(0, Bytes::new())),
            Err(sluice::CommandError::UnknownRequest(incoming)),
            "forgotten once aborted"
        );
        p.run();
        let ev = p.take_events(Side::Client);
        let received =
            ev.iter().filter(|e| matches!(e, Event::Object { request, .. } if *request == f)).count();
        assert_eq!(received as u64, objects, "objects before the abort arrive ({objects})");
        let ends: Vec<&Event> = ev.iter().filter(|e| matches!(e, Event::FetchEnded { .. })).collect();
        assert_eq!(
            ends,
            vec![&Event::FetchEnded { request: f, reason: Reason { code, text: String::new() } }],
            "the fetcher sees the abort's code ({objects} objects)"
        );
        assert_eq!((p.client.table_sizes(), p.server.table_sizes()), (1, 1), "{objects}");
    }
}
