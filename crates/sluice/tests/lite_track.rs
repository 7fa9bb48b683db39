//! moq-lite Track streams (lite-05 TRACK → TRACK_INFO, through `track_status`) and Probe
//! streams (PROBE answers from `Input::PathEstimate`), in both roles, with exact bytes.

mod lite_common;

use std::time::Duration;

use bytes::Bytes;
use lite_common::*;
use sluice::lite::codes;
use sluice::{
    CommandError, Config, Event, GroupOrder, Input, LiteVersion, Output, Reason, Role, SendOrder, StreamId,
    TrackInfo,
};
use sluice_sim::Side;

/// TRACK for `room/alice` + `video`, after the stream type 0x06.
const TRACK: [u8; 19] = [
    0x06, 0x11, 0x0a, b'r', b'o', b'o', b'm', b'/', b'a', b'l', b'i', b'c', b'e', 0x05, b'v', b'i', b'd',
    b'e', b'o',
];

/// TRACK_INFO {priority 235 (MOQT 20), descending, max latency 250, timescale 90000}.
const TRACK_INFO: [u8; 9] = [0x08, 235, 0x00, 0x40, 0xfa, 0x80, 0x01, 0x5f, 0x90];

fn info() -> TrackInfo {
    TrackInfo {
        publisher_priority: 20,
        group_order: GroupOrder::Descending,
        largest: None,
        max_latency_ms: 250,
        timescale: 90_000,
        ..TrackInfo::default()
    }
}

fn write(stream: StreamId, bytes: &[u8], fin: bool) -> Output {
    Output::Write { stream, header: sluice::HeaderBytes::from_slice(bytes), payload: Bytes::new(), fin }
}

#[test]
fn track_info_request_and_answer_through_a_pair_in_both_roles() {
    for asker in [Side::Client, Side::Server] {
        let mut p = pair(LiteVersion::Lite05);
        let h = p.session(asker).track_status(track()).unwrap();
        p.run();
        let ev = p.take_events(asker.peer());
        let [Event::IncomingTrackStatus { request, track: t }] = ev.as_slice() else { panic!("{ev:?}") };
        assert_eq!(t, &track());
        let r = *request;
        p.session(asker.peer()).accept_subscribe(r, info()).unwrap();
        p.run();
        assert_eq!(
            p.take_events(asker),
            vec![Event::TrackStatus { request: h, result: Ok(Box::new(info())) }]
        );
        assert_eq!(p.session(asker.peer()).accept_subscribe(r, info()), Err(CommandError::UnknownRequest(r)));
        // Both FINs crossed: nothing is left of the stream on either side.
        assert_eq!((p.client.table_sizes(), p.server.table_sizes()), (0, 0), "{asker:?}");

        // A rejection reaches the asker as an error with the reset code.
        let h = p.session(asker).track_status(track()).unwrap();
        p.run();
        let ev = p.take_events(asker.peer());
        let [Event::IncomingTrackStatus { request, .. }] = ev.as_slice() else { panic!("{ev:?}") };
        p.session(asker.peer()).reject(*request, 404, "no such track").unwrap();
        p.run();
        let got = p.take_events(asker);
        assert!(
            matches!(got.as_slice(), [Event::TrackStatus { request, result: Err(Reason { code: 404, .. }) }] if *request == h),
            "{got:?}"
        );
        assert_eq!((p.client.table_sizes(), p.server.table_sizes()), (0, 0));
    }
}

#[test]
fn track_request_bytes_and_answer_decoding() {
    for role in [Role::Client, Role::Server] {
        let mut raw = Raw::ready(LiteVersion::Lite05, role, Config::default());
        let h = raw.s.track_status(track()).unwrap();
        let stream = StreamId::local(1);
        assert_eq!(
            raw.drain(),
            vec![
                Output::OpenStream { stream, bidi: true, order: SendOrder(i32::MAX) },
                write(stream, &TRACK, false)
            ]
        );
        let out = raw.feed(stream, &TRACK_INFO);
        assert_eq!(events(&out), vec![Event::TrackStatus { request: h, result: Ok(Box::new(info())) }]);
        // Only the FIN may follow; it is answered with ours.
        let out = raw.input(Input::StreamFinished { stream });
        assert_eq!(out, vec![write(stream, &[], true)]);
        assert_eq!(raw.s.table_sizes(), 0);

        // Timescale 0: the stream is reset with a protocol violation, the session lives.
        let h = raw.s.track_status(track()).unwrap();
        let stream = StreamId::local(2);
        raw.drain();
        let out = raw.feed(stream, &[0x04, 235, 0x00, 0x00, 0x00]);
        assert_eq!(aborts(&out, stream), (vec![codes::PROTOCOL_VIOLATION], vec![codes::PROTOCOL_VIOLATION]));
        assert!(matches!(
            events(&out).as_slice(),
            [Event::TrackStatus { request, result: Err(Reason { code: codes::PROTOCOL_VIOLATION, .. }) }] if *request == h
        ));
        assert!(!raw.s.is_closed());

        // Bytes after TRACK_INFO close the session.
        raw.s.track_status(track()).unwrap();
        let stream = StreamId::local(3);
        raw.drain();
        let mut bytes = TRACK_INFO.to_vec();
        bytes.push(0x00);
        assert_eq!(close_code(&raw.feed(stream, &bytes)), Some(codes::PROTOCOL_VIOLATION));
    }
}

#[test]
fn track_answer_bytes_and_rules() {
    for role in [Role::Client, Role::Server] {
        let mut raw = Raw::ready(LiteVersion::Lite05, role, Config::default());
        let (id, out) = raw.stream(true, &TRACK);
        let ev = events(&out);
        let [Event::IncomingTrackStatus { request, track: t }] = ev.as_slice() else { panic!("{out:?}") };
        assert_eq!(t, &track());
        let r = *request;
        assert_eq!(
            raw.s.accept_subscribe(r, TrackInfo { timescale: 0, ..info() }),
            Err(CommandError::InvalidState("the TRACK_INFO timescale must be non-zero"))
        );
        assert!(raw.drain().is_empty());
        raw.s.accept_subscribe(r, info()).unwrap();
        assert_eq!(raw.drain(), vec![write(id, &TRACK_INFO, true)]);
        assert!(raw.input(Input::StreamFinished { stream: id }).is_empty());
        assert_eq!(raw.s.table_sizes(), 0);

        // A peer FIN right after TRACK is a half-close; the answer still goes out.
        let (id, _) = raw.stream(true, &TRACK);
        assert!(raw.input(Input::StreamFinished { stream: id }).is_empty());
        let r2 = sluice::RequestHandle(r.0 + 1);
        raw.s.accept_subscribe(r2, info()).unwrap();
        assert_eq!(raw.drain(), vec![write(id, &TRACK_INFO, true)]);
        assert_eq!(raw.s.table_sizes(), 0);

        // The peer's reset before our answer forgets the request silently.
        let (id, _) = raw.stream(true, &TRACK);
        let r3 = sluice::RequestHandle(r.0 + 2);
        let out = raw.input(Input::StreamReset { stream: id, code: 0 });
        assert!(events(&out).is_empty());
        assert_eq!(raw.s.accept_subscribe(r3, info()), Err(CommandError::UnknownRequest(r3)));

        // Bytes after TRACK close the session.
        let (id, _) = raw.stream(true, &TRACK);
        assert_eq!(close_code(&raw.feed(id, &[0x00])), Some(codes::PROTOCOL_VIOLATION));
    }
}

#[test]
fn track_cancel_limits_and_lite04() {
    let mut raw = Raw::ready(LiteVersion::Lite05, Role::Client, Config::default());
    let h = raw.s.track_status(track()).unwrap();
    raw.drain();
    raw.s.cancel(h).unwrap();
    let out = raw.drain();
    let stream = StreamId::local(1);
    assert_eq!(aborts(&out, stream), (vec![codes::CANCELLED], vec![codes::CANCELLED]));
    assert!(events(&out).is_empty());
    assert_eq!(raw.s.table_sizes(), 0);

    // Peer Track streams are inbound requests.
    let config = Config { max_inbound_requests: 1, ..Config::default() };
    let mut raw = Raw::ready(LiteVersion::Lite05, Role::Server, config);
    raw.stream(true, &TRACK);
    let (id, out) = raw.stream(true, &TRACK);
    assert_eq!(aborts(&out, id), (vec![codes::LIMIT_EXCEEDED], vec![codes::LIMIT_EXCEEDED]));

    // lite-04 has no Track stream.
    let mut raw = Raw::ready(LiteVersion::Lite04, Role::Client, Config::default());
    assert!(matches!(raw.s.track_status(track()), Err(CommandError::Unsupported { .. })));
    assert!(raw.drain().is_empty());
}

#[test]
fn lite05_setup_advertises_report_when_probing_is_on() {
    let config = Config { lite_probe: true, ..Config::default() };
    let (_, out) = Raw::new(LiteVersion::Lite05, Role::Client, config);
    // Setup stream type, SETUP {length 4, one parameter: Probe (1), length 1, Report (1)}.
    assert_eq!(out[1], write(StreamId::local(0), &[0x01, 0x04, 0x01, 0x01, 0x01, 0x01], true));
}

#[test]
fn probe_streams_are_answered_with_the_latest_estimate() {
    for v in VERSIONS {
        for role in [Role::Client, Role::Server] {
            let config = Config { lite_probe: true, ..Config::default() };
            let mut raw = Raw::ready(v, role, config);
            // PROBE {target 0, rtt 0}: answered with "unknown" before any estimate.
            let (id, out) = raw.stream(true, &[0x04, 0x02, 0x00, 0x00]);
            assert_eq!(out, vec![write(id, &[0x02, 0x00, 0x00], false)], "{v:?} {role:?}");
            // A new estimate goes out at once: 1 Mbit/s, 25 ms.
            let est = [0x05, 0x80, 0x0f, 0x42, 0x40, 0x19];
            let out = raw.input(Input::PathEstimate { bitrate: 1_000_000, rtt: Duration::from_millis(25) });
            assert_eq!(out, vec![write(id, &est, false)]);
            // The same estimate again sends nothing.
            assert!(
                raw.input(Input::PathEstimate { bitrate: 1_000_000, rtt: Duration::from_millis(25) })
                    .is_empty()
            );
            // Another target (100 bit/s) is answered with the latest estimate.
            assert_eq!(raw.feed(id, &[0x03, 0x40, 0x64, 0x00]), vec![write(id, &est, false)]);
            // A sub-millisecond RTT is rounded up, not sent as "unknown".
            let out = raw.input(Input::PathEstimate { bitrate: 0, rtt: Duration::from_micros(1500) });
            assert_eq!(out, vec![write(id, &[0x02, 0x00, 0x02], false)]);
            // The peer's FIN is answered with ours and the stream is forgotten.
            assert_eq!(raw.input(Input::StreamFinished { stream: id }), vec![write(id, &[], true)]);
            assert_eq!(raw.s.table_sizes(), 0);
            // Malformed PROBE closes the session.
            let (_, out) = raw.stream(true, &[0x04, 0x01, 0x00]);
            assert_eq!(close_code(&out), Some(codes::PROTOCOL_VIOLATION), "{v:?} {role:?}");
        }
    }
}

#[test]
fn tables_are_empty_after_close_with_track_and_probe_streams() {
    for v in VERSIONS {
        let config = Config { lite_probe: true, ..Config::default() };
        let mut raw = Raw::ready(v, Role::Server, config);
        raw.stream(true, &[0x04, 0x02, 0x00, 0x00]);
        if v == LiteVersion::Lite05 {
            raw.stream(true, &TRACK);
            raw.s.track_status(track()).unwrap();
        }
        assert!(raw.s.table_sizes() > 0);
        raw.s.close(0, "bye");
        assert_eq!(raw.s.table_sizes(), 0, "{v:?}");
    }
}
