//! Mandatory Track Properties (draft-18 §2.5.1): a track whose PUBLISH, SUBSCRIBE_OK or
//! FETCH_OK carries a mandatory type (0x4000..=0x7FFF) we do not understand is not
//! processed. The peer is raw bytes fed to one `Session`.

use bytes::Bytes;
use sluice::{
    Config, Event, Input, Location, MoqtVersion, Namespace, Output, Reason, Role, Session, StreamId,
    SubscribeOptions, Time, TrackName, Version,
};
use sluice_wire::moqt::codes::{RequestErrorCode, StreamResetCode};
use sluice_wire::moqt::control::ControlMessage;
use sluice_wire::moqt::kvp::{KeyValue, Properties};
use sluice_wire::moqt::location::Location as WireLocation;
use sluice_wire::moqt::message::{FetchOk, Publish, SubscribeOk};
use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
use sluice_wire::moqt::setup::Setup;
use sluice_wire::{Decode, Encode, Reader};

const D18: MoqtVersion = MoqtVersion::Draft18;
const UNSUPPORTED: u64 = RequestErrorCode::UNSUPPORTED_EXTENSION.0;

fn enc<M: Encode<Version = MoqtVersion>>(m: &M) -> Bytes {
    Bytes::from(m.encode_to_vec(D18).unwrap())
}

fn props(kind: u64) -> Properties {
    // Even types carry a varint, odd types bytes (§1.4.3).
    let kv = if kind % 2 == 0 { KeyValue::varint(kind, 1) } else { KeyValue::bytes(kind, vec![1u8]) };
    Properties::from_pairs(&[kv]).unwrap()
}

/// A session of `role` whose peer has sent SETUP on `ctl`.
fn session(role: Role, ctl: u64) -> Session {
    let mut s = Session::new(Config::default(), role, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(D18) });
    s.handle(Time::ZERO, Input::StreamOpened { stream: StreamId(ctl), bidi: false });
    s.handle(Time::ZERO, Input::StreamData { stream: StreamId(ctl), data: enc(&Setup::default()) });
    while s.poll().is_some() {}
    s
}

fn drain(s: &mut Session) -> Vec<Output> {
    std::iter::from_fn(|| s.poll()).collect()
}

fn track() -> TrackName {
    TrackName::new(Namespace::from_fields(["a"]), "t")
}

/// The outputs that matter here: events, resets, stop-sendings, closes.
fn visible(out: Vec<Output>) -> Vec<Output> {
    out.into_iter()
        .filter(|o| {
            matches!(
                o,
                Output::Event(_) | Output::Reset { .. } | Output::StopSending { .. } | Output::Close { .. }
            )
        })
        .collect()
}

fn cancelled(stream: StreamId) -> Vec<Output> {
    let code = StreamResetCode::CANCELLED.0;
    vec![Output::Reset { stream, code }, Output::StopSending { stream, code }]
}

#[test]
fn publish_with_an_unknown_mandatory_property_is_refused_with_unsupported_extension() {
    for (kind, refused) in [(0x4000, true), (0x7FFF, true), (0x3FFE, false), (0x8000, false)] {
        let mut s = session(Role::Server, 2);
        let publish = Publish {
            request_id: 0,
            track: FullTrackName::new(TrackNamespace::from_fields(["a"]), Bytes::from_static(b"t")),
            track_alias: 1,
            parameters: Default::default(),
            track_properties: props(kind),
        };
        s.handle(Time::ZERO, Input::StreamOpened { stream: StreamId(0), bidi: true });
        s.handle(Time::ZERO, Input::StreamData { stream: StreamId(0), data: enc(&publish) });
        let out = drain(&mut s);
        let mut written = Vec::new();
        let mut fin = false;
        for o in &out {
            if let Output::Write { stream: StreamId(0), header, fin: f, .. } = o {
                written.extend_from_slice(header);
                fin |= *f;
            }
        }
        let events: Vec<_> =
            out.iter().filter(|o| matches!(o, Output::Event(_) | Output::Close { .. })).collect();
        if refused {
            let buf = Bytes::from(written);
            match ControlMessage::decode(&mut Reader::new(&buf), D18).unwrap() {
                ControlMessage::RequestError(e) => {
                    assert_eq!(e.code.0, UNSUPPORTED);
                    assert_eq!(e.reason.to_text(), format!("unknown mandatory track property {kind:#x}"));
                }
                other => panic!("{other:?}"),
            }
            assert!(fin);
            assert!(events.is_empty(), "{events:?}");
        } else {
            assert!(written.is_empty());
            assert!(
                matches!(events.as_slice(), [Output::Event(Event::IncomingPublish { .. })]),
                "{events:?}"
            );
        }
    }
}

#[test]
fn subscribe_ok_with_an_unknown_mandatory_property_cancels_the_subscription() {
    let mut s = session(Role::Client, 3);
    let h = s.subscribe(track(), SubscribeOptions::default()).unwrap();
    drain(&mut s);
    let ok = SubscribeOk { track_alias: 1, parameters: Default::default(), track_properties: props(0x4002) };
    let stream = StreamId::local(1);
    s.handle(Time::ZERO, Input::StreamData { stream, data: enc(&ok) });
    let mut expected = cancelled(stream);
    expected.push(Output::Event(Event::SubscribeFailed {
        request: h,
        reason: Reason { code: UNSUPPORTED, text: "unknown mandatory track property 0x4002".into() },
    }));
    assert_eq!(visible(drain(&mut s)), expected);
    assert!(!s.is_closed());
    assert_eq!(s.table_sizes(), 1, "only the SETUP-carrying control stream is left");
}

#[test]
fn fetch_ok_with_an_unknown_mandatory_property_cancels_the_fetch() {
    let mut s = session(Role::Client, 3);
    let h = s.fetch(track(), Location { group: 0, object: 0 }, Location { group: 2, object: 0 }, 0).unwrap();
    drain(&mut s);
    let ok = FetchOk {
        end_of_track: false,
        end_location: WireLocation { group: 2, object: 0 },
        parameters: Default::default(),
        track_properties: props(0x5000),
    };
    let stream = StreamId::local(1);
    s.handle(Time::ZERO, Input::StreamData { stream, data: enc(&ok) });
    let mut expected = cancelled(stream);
    expected.push(Output::Event(Event::FetchEnded {
        request: h,
        reason: Reason { code: UNSUPPORTED, text: "unknown mandatory track property 0x5000".into() },
    }));
    assert_eq!(visible(drain(&mut s)), expected);
    assert!(!s.is_closed());
}
