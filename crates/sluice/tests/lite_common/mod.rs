//! Shared helpers of the moq-lite integration tests: pairs for every (version, role)
//! combination and a raw single-session driver for byte-level tests.
#![allow(dead_code)]

use bytes::Bytes;
use sluice::{
    Config, Event, Input, LiteVersion, Namespace, Output, RequestHandle, Role, Session, StreamId,
    SubscribeOptions, Time, TrackInfo, TrackName, Version,
};
use sluice_sim::{Pair, Side};

/// Both lite versions.
pub const VERSIONS: [LiteVersion; 2] = [LiteVersion::Lite04, LiteVersion::Lite05];

/// Every (version, publisher side) combination: the publisher is the client or the server.
pub fn cases() -> Vec<(LiteVersion, Side)> {
    let mut out = Vec::new();
    for v in VERSIONS {
        for side in [Side::Client, Side::Server] {
            out.push((v, side));
        }
    }
    out
}

/// A connected pair with default configs, Ready events taken.
pub fn pair(v: LiteVersion) -> Pair {
    pair_with(v, Config::default(), Config::default())
}

/// A connected pair with the given configs, Ready events taken.
pub fn pair_with(v: LiteVersion, client: Config, server: Config) -> Pair {
    let mut p = Pair::new(Version::Lite(v), client, server);
    let ready = Event::Ready { version: Version::Lite(v), peer_implementation: None };
    assert_eq!(p.take_events(Side::Client), vec![ready.clone()]);
    assert_eq!(p.take_events(Side::Server), vec![ready]);
    p
}

/// The track every test uses.
pub fn track() -> TrackName {
    TrackName::new(Namespace::from_fields(["room", "alice"]), "video")
}

/// Subscribes from `sub` to `pb` and accepts with `info`; returns (subscriber handle,
/// publisher handle).
pub fn subscribed(
    p: &mut Pair,
    pub_side: Side,
    options: SubscribeOptions,
    info: TrackInfo,
) -> (RequestHandle, RequestHandle) {
    let sub_side = pub_side.peer();
    let s = p.session(sub_side).subscribe(track(), options).unwrap();
    p.run();
    let ev = p.take_events(pub_side);
    let Some(Event::IncomingSubscribe { request, .. }) = ev.first() else {
        panic!("expected IncomingSubscribe, got {ev:?}")
    };
    let r = *request;
    p.session(pub_side).accept_subscribe(r, info).unwrap();
    p.run();
    let ev = p.take_events(sub_side);
    assert!(matches!(ev.as_slice(), [Event::Subscribed { request, .. }] if *request == s), "{ev:?}");
    (s, r)
}

/// One session driven by hand: inputs in, outputs out.
pub struct Raw {
    pub s: Session,
    pub next_peer: u64,
}

impl Raw {
    /// A connected session; the outputs of connecting are returned.
    pub fn new(v: LiteVersion, role: Role, config: Config) -> (Raw, Vec<Output>) {
        let mut s = Session::new(config, role, Time::ZERO);
        s.handle(Time::ZERO, Input::Connected { version: Version::Lite(v) });
        let mut raw = Raw { s, next_peer: 0 };
        let out = raw.drain();
        (raw, out)
    }

    /// A lite-05 session that has seen the peer's empty SETUP (outputs dropped).
    pub fn ready(v: LiteVersion, role: Role, config: Config) -> Raw {
        let (mut raw, _) = Raw::new(v, role, config);
        if v == LiteVersion::Lite05 {
            let id = raw.open(false);
            raw.feed(id, &[0x01, 0x01, 0x00]);
            raw.input(Input::StreamFinished { stream: id });
        }
        raw
    }

    pub fn drain(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.s.poll()).collect()
    }

    pub fn input(&mut self, input: Input) -> Vec<Output> {
        self.s.handle(Time::ZERO, input);
        self.drain()
    }

    /// The peer opens a stream; returns its id.
    pub fn open(&mut self, bidi: bool) -> StreamId {
        let id = StreamId(self.next_peer * 4 + if bidi { 0 } else { 2 });
        self.next_peer += 1;
        self.s.handle(Time::ZERO, Input::StreamOpened { stream: id, bidi });
        id
    }

    /// Peer bytes on a stream; returns the outputs.
    pub fn feed(&mut self, stream: StreamId, data: &[u8]) -> Vec<Output> {
        self.input(Input::StreamData { stream, data: Bytes::copy_from_slice(data) })
    }

    /// Opens a peer stream and feeds `data`.
    pub fn stream(&mut self, bidi: bool, data: &[u8]) -> (StreamId, Vec<Output>) {
        let id = self.open(bidi);
        let mut out = self.drain();
        out.extend(self.feed(id, data));
        (id, out)
    }
}

/// The close code in outputs, if any.
pub fn close_code(out: &[Output]) -> Option<u64> {
    out.iter().find_map(|o| match o {
        Output::Close { code, .. } => Some(*code),
        _ => None,
    })
}

/// (stop-sending codes, reset codes) for a stream.
pub fn aborts(out: &[Output], stream: StreamId) -> (Vec<u64>, Vec<u64>) {
    let stops = out
        .iter()
        .filter_map(|o| match o {
            Output::StopSending { stream: s, code } if *s == stream => Some(*code),
            _ => None,
        })
        .collect();
    let resets = out
        .iter()
        .filter_map(|o| match o {
            Output::Reset { stream: s, code } if *s == stream => Some(*code),
            _ => None,
        })
        .collect();
    (stops, resets)
}

/// The events among outputs.
pub fn events(out: &[Output]) -> Vec<Event> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}
