//! A minimal in-process transport for two sessions: the "core only" pump shared by the
//! object-path benchmark (`benches/object_path.rs`) and the allocation test
//! (`tests/alloc_per_object.rs`).
//!
//! It carries each session's outputs straight into the other session's inputs at one
//! instant, with nothing a network model would add (no latency, windows, queues or
//! tracing), so what it measures is the core: encoding on the publisher, decoding and
//! receive buffering on the subscriber. A core-opened stream gets a QUIC-style id at the
//! peer (RFC 9000 §2.1: bit 0 = server-initiated, bit 1 = unidirectional) and opens at
//! once; `Output::Write`'s header and payload arrive as two `StreamData` chunks, the
//! payload being the publisher's own `Bytes` (no copy), as a zero-copy transport would
//! hand them over, the header a copy cut from the pump's receive block (the core hands
//! headers over inline, as bytes, not as `Bytes`; a transport's receive buffer would hold
//! them in the same way).
//!
//! The pump itself does not allocate per object once warm: its stream map keeps its
//! capacity (unidirectional entries are removed when the stream finishes) and received
//! objects are counted, not stored. The map uses the core's integer hasher
//! (`sluice::hash::IdMap`), not SipHash, so the pump's own share of the figures stays small.
#![allow(dead_code)]

use bytes::{Bytes, BytesMut};
use sluice::hash::IdMap;
use sluice::{
    Config, Event, Input, LiteVersion, MoqtVersion, Namespace, ObjectStatus, ObjectWrite, Output, Payload,
    RequestHandle, Role, Session, StreamId, SubscribeOptions, Time, TrackInfo, TrackName, Version,
};

/// Every version the core speaks, with the names the benchmark prints.
pub const VERSIONS: [(&str, Version); 3] = [
    ("lite04", Version::Lite(LiteVersion::Lite04)),
    ("lite05", Version::Lite(LiteVersion::Lite05)),
    ("draft18", Version::Moqt(MoqtVersion::Draft18)),
];

/// The object size the figures are for.
pub const PAYLOAD_LEN: usize = 1200;

/// Objects per group (one subgroup stream each).
pub const GROUP_LEN: u64 = 30;

/// A shared (reference-counted) payload, so cloning it per object is a count, not an
/// allocation: what an application that received or produced a frame holds.
pub fn payload() -> Bytes {
    let b = Bytes::from((0..PAYLOAD_LEN).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    drop(b.clone());
    b
}

/// The track every case uses.
pub fn track() -> TrackName {
    TrackName::new(Namespace::from_fields(["bench", "room"]), "video")
}

const CLIENT: usize = 0;
const SERVER: usize = 1;

/// Two sessions (client = subscriber, server = publisher) joined by the pump.
#[derive(Debug)]
pub struct CorePump {
    /// `[client, server]`.
    pub sessions: [Session; 2],
    /// Per side: its own name of a stream → the name the peer knows it by.
    peer_name: [IdMap<StreamId, StreamId>; 2],
    /// Per side: the next QUIC-style stream index, `[bidi, uni]`.
    next_index: [[u64; 2]; 2],
    /// Normal objects each side received.
    pub objects: [u64; 2],
    /// Payload bytes of those objects.
    pub payload_bytes: [u64; 2],
    /// The last object payload each side received (to check it is the publisher's memory).
    pub last_payload: [Option<Payload>; 2],
    /// Every other event each side received (setup, subscription answers), in order.
    pub events: [Vec<Event>; 2],
    /// Where received headers are copied to become `Bytes` (see `HeaderBytes::to_bytes_in`).
    rx_block: BytesMut,
}

impl CorePump {
    /// Two connected sessions speaking `version`, setup done.
    pub fn new(version: Version) -> CorePump {
        let mut pump = CorePump {
            sessions: [
                Session::new(Config::default(), Role::Client, Time::ZERO),
                Session::new(Config::default(), Role::Server, Time::ZERO),
            ],
            peer_name: [
                IdMap::with_capacity_and_hasher(64, Default::default()),
                IdMap::with_capacity_and_hasher(64, Default::default()),
            ],
            next_index: [[0; 2]; 2],
            objects: [0; 2],
            payload_bytes: [0; 2],
            last_payload: [None, None],
            events: [Vec::new(), Vec::new()],
            rx_block: BytesMut::new(),
        };
        for s in &mut pump.sessions {
            s.handle(Time::ZERO, Input::Connected { version });
        }
        pump.run();
        pump
    }

    /// The subscriber (client) session.
    pub fn subscriber(&mut self) -> &mut Session {
        &mut self.sessions[CLIENT]
    }

    /// The publisher (server) session.
    pub fn publisher(&mut self) -> &mut Session {
        &mut self.sessions[SERVER]
    }

    /// Normal objects the subscriber received so far.
    pub fn delivered(&self) -> u64 {
        self.objects[CLIENT]
    }

    /// Carries outputs both ways until neither session has any. Returns how many outputs
    /// were carried.
    pub fn run(&mut self) -> usize {
        let mut carried = 0;
        loop {
            let mut moved = 0;
            for side in [CLIENT, SERVER] {
                while let Some(output) = self.sessions[side].poll() {
                    self.carry(side, output);
                    moved += 1;
                }
            }
            if moved == 0 {
                return carried;
            }
            carried += moved;
        }
    }

    fn feed(&mut self, side: usize, input: Input) {
        self.sessions[side].handle(Time::ZERO, input);
    }

    fn carry(&mut self, from: usize, output: Output) {
        let to = 1 - from;
        match output {
            Output::OpenStream { stream, bidi, .. } => {
                let kind = usize::from(!bidi);
                let index = self.next_index[from][kind];
                self.next_index[from][kind] += 1;
                let peer = StreamId(index << 2 | (kind as u64) << 1 | from as u64);
                self.peer_name[from].insert(stream, peer);
                if bidi {
                    self.peer_name[to].insert(peer, stream);
                }
                self.feed(from, Input::StreamOpenResult { stream, opened: true });
                self.feed(to, Input::StreamOpened { stream: peer, bidi });
            }
            Output::Write { stream, header, payload, fin } => {
                let Some(&peer) = self.peer_name[from].get(&stream) else { return };
                if !header.is_empty() {
                    let data = header.to_bytes_in(&mut self.rx_block);
                    self.feed(to, Input::StreamData { stream: peer, data });
                }
                if !payload.is_empty() {
                    self.feed(to, Input::StreamData { stream: peer, data: payload });
                }
                if fin {
                    self.feed(to, Input::StreamFinished { stream: peer });
                    if !self.peer_name[to].contains_key(&peer) {
                        // Unidirectional: nothing more will use this name.
                        self.peer_name[from].remove(&stream);
                    }
                }
            }
            Output::Reset { stream, code } => {
                if let Some(&peer) = self.peer_name[from].get(&stream) {
                    self.feed(to, Input::StreamReset { stream: peer, code });
                }
            }
            Output::StopSending { stream, code } => {
                if let Some(&peer) = self.peer_name[from].get(&stream) {
                    self.feed(to, Input::StopSending { stream: peer, code });
                }
            }
            Output::SetOrder { .. } => {}
            Output::Datagram(data) => self.feed(to, Input::Datagram(data)),
            Output::Close { code, reason } => {
                self.feed(to, Input::Closed { code, reason: Bytes::from(reason.into_bytes()) })
            }
            Output::Event(Event::Object { info, payload, .. }) => {
                if info.status == ObjectStatus::Normal {
                    self.objects[from] += 1;
                    self.payload_bytes[from] += payload.len() as u64;
                    self.last_payload[from] = Some(payload);
                }
            }
            Output::Event(event) => self.events[from].push(event),
        }
    }
}

/// A publisher with one accepted subscription, writing 1200-byte objects into groups of
/// [`GROUP_LEN`] (one subgroup stream per group, closed at the group's end).
#[derive(Debug)]
pub struct Publication {
    /// The publisher-side handle of the subscription.
    pub request: RequestHandle,
    /// The open group's stream, its id and the next object id in it.
    open: Option<(StreamId, u64)>,
    group: u64,
    next_object: u64,
    timestamp: u64,
}

impl Publication {
    /// A publication for the accepted subscription `request`.
    pub fn new(request: RequestHandle) -> Publication {
        Publication { request, open: None, group: 0, next_object: 0, timestamp: 0 }
    }

    /// Writes one object on `session`, opening and closing groups as needed.
    pub fn write(&mut self, session: &mut Session, payload: &Bytes) {
        let stream = match self.open {
            Some((stream, _)) => stream,
            None => {
                let stream = session.open_subgroup(self.request, self.group, 0, None).expect("open group");
                self.open = Some((stream, self.group));
                self.next_object = 0;
                stream
            }
        };
        let mut object = ObjectWrite::new(self.next_object, payload.clone());
        object.timestamp = Some(self.timestamp); // lite-05 requires one; others ignore it
        session.write_object(stream, object).expect("write object");
        self.timestamp += 33;
        self.next_object += 1;
        if self.next_object == GROUP_LEN {
            session.close_subgroup(stream, true).expect("close group");
            self.open = None;
            self.group += 1;
        }
    }
}

/// A pump whose subscriber holds an accepted subscription to [`track`]; returns it with
/// the publisher's [`Publication`].
pub fn subscribed_pump(version: Version) -> (CorePump, Publication) {
    let mut pump = CorePump::new(version);
    pump.subscriber().subscribe(track(), SubscribeOptions::default()).expect("subscribe");
    pump.run();
    let request = pump.events[SERVER]
        .iter()
        .find_map(|e| match e {
            Event::IncomingSubscribe { request, .. } => Some(*request),
            _ => None,
        })
        .expect("IncomingSubscribe");
    pump.publisher().accept_subscribe(request, TrackInfo::default()).expect("accept");
    // lite-05 sends SUBSCRIBE_OK (and the subscriber sees `Subscribed`) only once the start
    // group is known, i.e. with the first group; the objects' arrival is what callers check.
    pump.run();
    (pump, Publication::new(request))
}
