//! A MOQT FETCH's answer travels on two streams: FETCH_OK on the request stream and the
//! objects on a FETCH_HEADER data stream. When the data stream's FIN is processed before
//! FETCH_OK, the core still reports `FetchAccepted` before `FetchEnded`, so an application
//! (the relay) can read `FetchEnded` without a prior `FetchAccepted` as a refusal, whatever
//! its code (REQUEST_ERROR INTERNAL_ERROR is code 0, like a clean end). The peer is raw
//! bytes fed to one client `Session`.

use bytes::Bytes;
use sluice::{
    Config, Event, Input, Location, MoqtVersion, Output, Reason, Role, Session, StreamId, Time, TrackName,
    Version,
};
use sluice_wire::Encode;
use sluice_wire::moqt::codes::RequestErrorCode;
use sluice_wire::moqt::fetch_stream::FetchHeader;
use sluice_wire::moqt::location::Location as WireLocation;
use sluice_wire::moqt::message::{FetchOk, RequestError};
use sluice_wire::moqt::setup::Setup;

const D18: MoqtVersion = MoqtVersion::Draft18;
/// The server's first uni stream (its control stream) and its second (our fetch's data).
const CONTROL: StreamId = StreamId(3);
const DATA: StreamId = StreamId(7);

fn enc<M: Encode<Version = MoqtVersion>>(m: &M) -> Bytes {
    Bytes::from(m.encode_to_vec(D18).unwrap())
}

/// A client whose server sent SETUP, with one FETCH sent: (session, fetch, request stream).
fn fetching() -> (Session, sluice::RequestHandle, StreamId) {
    let mut s = Session::new(Config::default(), Role::Client, Time::ZERO);
    s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(D18) });
    s.handle(Time::ZERO, Input::StreamOpened { stream: CONTROL, bidi: false });
    s.handle(Time::ZERO, Input::StreamData { stream: CONTROL, data: enc(&Setup::default()) });
    while s.poll().is_some() {}
    let track = TrackName::new(sluice::Namespace::from_fields(["a"]), "t");
    let h = s.fetch(track, Location { group: 0, object: 0 }, Location { group: 1, object: 0 }, 0).unwrap();
    let stream = std::iter::from_fn(|| s.poll())
        .find_map(|o| match o {
            Output::OpenStream { stream, bidi: true, .. } => Some(stream),
            _ => None,
        })
        .expect("the FETCH opens a request stream");
    while s.poll().is_some() {}
    (s, h, stream)
}

fn events(s: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| s.poll())
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

fn fetch_ok() -> FetchOk {
    FetchOk {
        end_of_track: false,
        end_location: WireLocation { group: 1, object: 0 },
        parameters: Default::default(),
        track_properties: Default::default(),
    }
}

#[test]
fn a_data_stream_ending_before_fetch_ok_ends_the_fetch_after_it_is_accepted() {
    let (mut s, h, request_stream) = fetching();
    s.handle(Time::ZERO, Input::StreamOpened { stream: DATA, bidi: false });
    s.handle(Time::ZERO, Input::StreamData { stream: DATA, data: enc(&FetchHeader { request_id: 0 }) });
    s.handle(Time::ZERO, Input::StreamFinished { stream: DATA });
    assert_eq!(events(&mut s), vec![], "no end reported before FETCH_OK");
    s.handle(Time::ZERO, Input::StreamData { stream: request_stream, data: enc(&fetch_ok()) });
    assert_eq!(
        events(&mut s),
        vec![
            Event::FetchAccepted { request: h, end: Location { group: 1, object: 0 }, info: Box::default() },
            Event::FetchEnded { request: h, reason: Reason { code: 0, text: String::new() } },
        ]
    );
}

#[test]
fn fetch_ok_first_then_the_data_stream_end_is_the_usual_order() {
    let (mut s, h, request_stream) = fetching();
    s.handle(Time::ZERO, Input::StreamData { stream: request_stream, data: enc(&fetch_ok()) });
    assert_eq!(
        events(&mut s),
        vec![Event::FetchAccepted {
            request: h,
            end: Location { group: 1, object: 0 },
            info: Box::default()
        }]
    );
    s.handle(Time::ZERO, Input::StreamOpened { stream: DATA, bidi: false });
    s.handle(Time::ZERO, Input::StreamData { stream: DATA, data: enc(&FetchHeader { request_id: 0 }) });
    s.handle(Time::ZERO, Input::StreamFinished { stream: DATA });
    assert_eq!(
        events(&mut s),
        vec![Event::FetchEnded { request: h, reason: Reason { code: 0, text: String::new() } }]
    );
}

#[test]
fn a_refusal_with_internal_error_ends_the_fetch_without_accepting_it() {
    let (mut s, h, request_stream) = fetching();
    let refusal = RequestError {
        code: RequestErrorCode::INTERNAL_ERROR,
        retry_interval: 0,
        reason: Default::default(),
        redirect: None,
    };
    s.handle(Time::ZERO, Input::StreamData { stream: request_stream, data: enc(&refusal) });
    let got = events(&mut s);
    assert!(!got.iter().any(|e| matches!(e, Event::FetchAccepted { .. })), "{got:?}");
    assert!(
        matches!(got.last(), Some(Event::FetchEnded { request, reason }) if *request == h && reason.code == 0),
        "{got:?}"
    );
}
