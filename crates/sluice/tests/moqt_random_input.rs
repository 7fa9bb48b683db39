//! Random peer input against the MOQT engine: it never panics, closes only with codes
//! the draft defines, and after a close every table is empty.

use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;
use sluice::{Config, Input, MoqtVersion, Output, Role, Session, StreamId, Time, Version};
use sluice_wire::Encode;
use sluice_wire::moqt::codes::SessionErrorCode;
use sluice_wire::moqt::message::{Publish, Subscribe};
use sluice_wire::moqt::namespace::{FullTrackName, TrackNamespace};
use sluice_wire::moqt::setup::Setup;

const D18: MoqtVersion = MoqtVersion::Draft18;

#[derive(Debug, Clone)]
enum Step {
    Open(u64, bool),
    Data(u64, Vec<u8>),
    Fin(u64),
    Reset(u64),
    Stop(u64),
    Datagram(Vec<u8>),
    Wait(u64),
}

/// Byte strings that are often meaningful: request prefixes, subgroup headers, noise.
fn chunk() -> impl Strategy<Value = Vec<u8>> {
    let track = FullTrackName::new(TrackNamespace::from_fields(["a"]), Bytes::from_static(b"t"));
    let sub = Subscribe { request_id: 0, track: track.clone(), parameters: Default::default() };
    let publish = Publish {
        request_id: 2,
        track,
        track_alias: 0,
        parameters: Default::default(),
        track_properties: Default::default(),
    };
    prop_oneof![
        Just(sub.encode_to_vec(D18).unwrap()),
        Just(publish.encode_to_vec(D18).unwrap()),
        Just(vec![0x10, 0x00, 0x00]),
        Just(vec![0x05, 0x00]),
        proptest::collection::vec(any::<u8>(), 0..24),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let id = 0u64..6;
    prop_oneof![
        (id.clone(), any::<bool>()).prop_map(|(s, b)| Step::Open(s, b)),
        (id.clone(), chunk()).prop_map(|(s, d)| Step::Data(s, d)),
        id.clone().prop_map(Step::Fin),
        id.clone().prop_map(Step::Reset),
        id.prop_map(Step::Stop),
        chunk().prop_map(Step::Datagram),
        (0u64..800).prop_map(Step::Wait),
    ]
}

proptest! {
    #[test]
    fn random_peer_input_is_handled(role_server in any::<bool>(), steps in proptest::collection::vec(step(), 0..40)) {
        let role = if role_server { Role::Server } else { Role::Client };
        let cfg = Config { max_stream_buffer: 256, max_unidentified_bytes: 16, ..Config::default() };
        let mut s = Session::new(cfg, role, Time::ZERO);
        s.handle(Time::ZERO, Input::Connected { version: Version::Moqt(D18) });
        let ctl = StreamId(100);
        s.handle(Time::ZERO, Input::StreamOpened { stream: ctl, bidi: false });
        s.handle(Time::ZERO, Input::StreamData { stream: ctl, data: Bytes::from(Setup::default().encode_to_vec(D18).unwrap()) });
        let mut now = Time::ZERO;
        for st in steps {
            let input = match st {
                Step::Open(id, bidi) => Input::StreamOpened { stream: StreamId(id), bidi },
                Step::Data(id, d) => Input::StreamData { stream: StreamId(id), data: Bytes::from(d) },
                Step::Fin(id) => Input::StreamFinished { stream: StreamId(id) },
                Step::Reset(id) => Input::StreamReset { stream: StreamId(id), code: 1 },
                Step::Stop(id) => Input::StopSending { stream: StreamId(id), code: 1 },
                Step::Datagram(d) => Input::Datagram(Bytes::from(d)),
                Step::Wait(ms) => {
                    now = now + Duration::from_millis(ms);
                    s.handle_timeout(now);
                    continue;
                }
            };
            s.handle(now, input);
            while let Some(o) = s.poll() {
                if let Output::Close { code, .. } = o {
                    prop_assert!(SessionErrorCode(code).is_known(), "close code {code:#x}");
                }
            }
            if s.is_closed() {
                prop_assert_eq!(s.table_sizes(), 0);
            }
        }
    }
}
