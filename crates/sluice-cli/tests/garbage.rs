//! Peers that send garbage on every stream kind and in datagrams, over real QUIC (and
//! WebTransport) against `sluice relay`, while a publisher and two subscribers run through the
//! same relay; each case asserts the outcome its draft prescribes (session closed with a
//! code, stream refused, or datagram ignored), and the pipeline's outputs must stay whole.
//!
//! The garbage client ([`Raw`]) is a bare quinn-proto connection with sluice-quinn's TLS
//! configuration and no sluice session, so it can write bytes no sluice session would.
//! "Ignored" and "stream refused" are shown by the session surviving: the case then sends a
//! fatal message and the close code must be that message's, not an earlier one.

mod common;

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use common::{Client, Relay, input_lines};
use sluice::{LiteVersion, MoqtVersion, Version};
use sluice_quinn::quinn_proto::{
    self, ConnectionError, ConnectionHandle, DatagramEvent, Dir, EndpointConfig, Event as QuicEvent,
    StreamEvent, StreamId,
};
use sluice_quinn::{ServerVerification, client_config};
use sluice_wt::{capsule, frame, message};

/// draft-18 §3.4 "Termination": PROTOCOL_VIOLATION.
const D18_PROTOCOL_VIOLATION: u64 = 0x3;
/// moq-lite's PROTOCOL_VIOLATION (see sluice::lite::codes).
const LITE_PROTOCOL_VIOLATION: u64 = sluice::lite::codes::PROTOCOL_VIOLATION;
/// RFC 9114 §8.1 H3_STREAM_CREATION_ERROR.
const H3_STREAM_CREATION_ERROR: u64 = 0x103;

const D18: Version = Version::Moqt(MoqtVersion::Draft18);
const LITE04: Version = Version::Lite(LiteVersion::Lite04);
const LITE05: Version = Version::Lite(LiteVersion::Lite05);

/// A bare QUIC client of the relay.
struct Raw {
    socket: UdpSocket,
    endpoint: quinn_proto::Endpoint,
    handle: ConnectionHandle,
    conn: quinn_proto::Connection,
    connected: bool,
    lost: Option<ConnectionError>,
    /// STOP_SENDING codes the relay sent for our streams.
    stopped: HashMap<StreamId, u64>,
    /// RESET_STREAM codes the relay sent on its half of our bidi streams.
    reset: HashMap<StreamId, u64>,
    /// What the relay wrote on our bidi streams.
    received: HashMap<StreamId, Vec<u8>>,
    bidi: Vec<StreamId>,
}

impl Raw {
    /// Connects with MoQ `version` as ALPN, or with `h3` (WebTransport) when `None`.
    fn connect(relay: &Relay, version: Option<Version>) -> Raw {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
        let server: SocketAddr = format!("127.0.0.1:{}", relay.port).parse().unwrap();
        let mut endpoint = quinn_proto::Endpoint::new(Arc::new(EndpointConfig::default()), None, false, None);
        let pin = ServerVerification::Pin(relay.fingerprint.parse().unwrap());
        let tls = match version {
            Some(v) => client_config(pin, &[v]).unwrap().quic,
            None => client_config(pin, &[D18]).unwrap().webtransport.unwrap(),
        };
        let (handle, conn) = endpoint.connect(Instant::now(), tls, server, "localhost").unwrap();
        let mut raw = Raw {
            socket,
            endpoint,
            handle,
            conn,
            connected: false,
            lost: None,
            stopped: HashMap::new(),
            reset: HashMap::new(),
            received: HashMap::new(),
            bidi: Vec::new(),
        };
        raw.run_until("the handshake", |r| r.connected);
        raw
    }

    fn step(&mut self) {
        let now = Instant::now();
        let mut buf = Vec::new();
        while let Some(t) = self.conn.poll_transmit(now, 1, &mut buf) {
            let _ = self.socket.send_to(&buf[..t.size], t.destination);
            buf.clear();
        }
        let mut recv = vec![0u8; 65_536];
        if let Ok((n, from)) = self.socket.recv_from(&mut recv) {
            let mut out = Vec::new();
            if let Some(DatagramEvent::ConnectionEvent(_, ev)) =
                self.endpoint.handle(Instant::now(), from, None, None, BytesMut::from(&recv[..n]), &mut out)
            {
                self.conn.handle_event(ev);
            }
        }
        let now = Instant::now();
        if self.conn.poll_timeout().is_some_and(|t| t <= now) {
            self.conn.handle_timeout(now);
        }
        while let Some(ev) = self.conn.poll_endpoint_events() {
            if let Some(reply) = self.endpoint.handle_event(self.handle, ev) {
                self.conn.handle_event(reply);
            }
        }
        while let Some(ev) = self.conn.poll() {
            match ev {
                QuicEvent::Connected => self.connected = true,
                QuicEvent::ConnectionLost { reason } => self.lost = Some(reason),
                QuicEvent::Stream(StreamEvent::Stopped { id, error_code }) => {
                    self.stopped.insert(id, error_code.into_inner());
                }
                _ => {}
            }
        }
        // Read every bidi stream we opened (Readable only fires after a blocked read).
        for id in self.bidi.clone() {
            if self.reset.contains_key(&id) {
                continue;
            }
            let mut recv = self.conn.recv_stream(id);
            let Ok(mut chunks) = recv.read(true) else { continue };
            loop {
                match chunks.next(usize::MAX) {
                    Ok(Some(c)) => self.received.entry(id).or_default().extend_from_slice(&c.bytes),
                    Err(quinn_proto::ReadError::Reset(code)) => {
                        self.reset.insert(id, code.into_inner());
                        break;
                    }
                    Ok(None) | Err(_) => break,
                }
            }
            let _ = chunks.finalize();
        }
    }

    fn run_until(&mut self, what: &str, mut done: impl FnMut(&Raw) -> bool) {
        let deadline = Instant::now() + common::TIMEOUT;
        while !done(self) {
            assert!(Instant::now() < deadline, "waiting for {what}: timed out (lost: {:?})", self.lost);
            self.step();
        }
    }

    fn open(&mut self, dir: Dir, data: &[u8]) -> StreamId {
        let id = self.conn.streams().open(dir).unwrap();
        self.conn.send_stream(id).write(data).unwrap();
        if dir == Dir::Bi {
            self.bidi.push(id);
        }
        id
    }

    fn datagram(&mut self, data: &[u8]) {
        self.conn.datagrams().send(Bytes::copy_from_slice(data), true).unwrap();
    }

    /// Waits for the relay to refuse stream `id` (STOP_SENDING, or a reset of its half);
    /// the session must still be open.
    fn wait_refused(&mut self, id: StreamId) {
        self.run_until("the stream to be refused", |r| {
            r.lost.is_some() || r.stopped.contains_key(&id) || r.reset.contains_key(&id)
        });
        assert!(
            self.lost.is_none(),
            "the relay closed the session instead of refusing the stream: {:?}",
            self.lost
        );
    }

    /// Waits for the relay to close the connection; its application error code.
    fn wait_closed(&mut self) -> u64 {
        self.wait_closed_with_reason().0
    }

    /// Waits for the relay to close the connection; its application error code and reason.
    fn wait_closed_with_reason(&mut self) -> (u64, String) {
        self.run_until("the relay to close the session", |r| r.lost.is_some());
        match self.lost.as_ref().unwrap() {
            ConnectionError::ApplicationClosed(close) => {
                (close.error_code.into_inner(), String::from_utf8_lossy(&close.reason).into_owned())
            }
            other => panic!("the relay closed the session without an application code: {other}"),
        }
    }
}

/// Pseudo-random filler (a fixed LCG, so the bytes are the same every run).
fn junk(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Runs a two-subscriber pipeline of `version` over raw QUIC while `attacks` talk garbage to
/// the same relay; the pipeline's outputs must be complete.
fn while_serving_others(version: &str, attacks: impl FnOnce(&Relay)) {
    let relay = Relay::start(&[]);
    let url = relay.url("moqt");
    let input = input_lines(200);
    let a = Client::subscribe(&relay, &url, version);
    let b = Client::subscribe(&relay, &url, version);
    relay.wait_for_line("subscriptions waiting for a publisher: 2");
    let publisher =
        Client::publish(&relay, &url, version, &input, &["--lines", "--group-size", "10", "--rate", "200"]);
    attacks(&relay);
    let (code, err) = publisher.finish();
    assert_eq!(code, 0, "{err}");
    for sub in [a, b] {
        let (code, out, err) = sub.finish_with_output();
        assert_eq!(code, 0, "{err}");
        assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&input));
    }
}

// ---- draft-18 -------------------------------------------------------------------------------

/// An empty SETUP: type 0x2F00 as a 2-byte vi64 (`AF 00`), 16-bit length 0 (draft-18 §9.3).
const D18_SETUP: &[u8] = &[0xAF, 0x00, 0x00, 0x00];

/// What a case writes on its garbage session.
type Attack = Box<dyn Fn(&mut Raw)>;

/// Every stream kind and datagrams, draft-18 over raw QUIC:
/// * control stream: after SETUP, message type 0x30 (not in the §9 table): "An endpoint that
///   receives an unknown message type MUST close the session" → PROTOCOL_VIOLATION;
/// * request stream: a bidi stream whose first message is SUBSCRIBE_OK (0x04), not one of
///   the request messages (§3.3, request streams) → PROTOCOL_VIOLATION;
/// * uni stream of unknown type 0x06 (§3.3 "Unidirectional Stream Types": unknown → close
///   the session) → PROTOCOL_VIOLATION;
/// * subgroup stream with header type 0x16 (SUBGROUP_ID_MODE 0b11, §10.4.2: "MUST close the
///   session with a PROTOCOL_VIOLATION");
/// * a datagram of type 0x22 (STATUS and END_OF_GROUP both set, §10.3.1: invalid, "MUST close
///   the session with a PROTOCOL_VIOLATION").
#[test]
fn d18_garbage_on_every_stream_kind_and_datagrams_closes_only_that_session() {
    while_serving_others("d18", |relay| {
        // (case, what the close reason must name: the offending type, which shows the SETUP
        // before it was accepted, case's attack)
        let cases: Vec<(&str, &str, Attack)> = vec![
            (
                "control stream: unknown message type",
                "0x30",
                Box::new(|r: &mut Raw| {
                    r.open(Dir::Uni, &cat(&[D18_SETUP, &[0x30, 0x00, 0x00]]));
                }),
            ),
            (
                "request stream: SUBSCRIBE_OK first",
                "request",
                Box::new(|r: &mut Raw| {
                    r.open(Dir::Uni, D18_SETUP);
                    r.open(Dir::Bi, &[0x04, 0x00, 0x02, 0x00, 0x00]);
                }),
            ),
            (
                "uni stream of unknown type",
                "0x6",
                Box::new(|r: &mut Raw| {
                    r.open(Dir::Uni, &cat(&[&[0x06], &junk(200)]));
                }),
            ),
            (
                "subgroup header type 0x16",
                "0x16",
                Box::new(|r: &mut Raw| {
                    r.open(Dir::Uni, D18_SETUP);
                    r.open(Dir::Uni, &[0x16, 0x00, 0x00, 0x00, 0x80]);
                }),
            ),
            (
                "datagram type 0x22",
                "0x22",
                Box::new(|r: &mut Raw| {
                    r.open(Dir::Uni, D18_SETUP);
                    r.datagram(&[0x22, 0x00, 0x00, 0x00, 0x00]);
                }),
            ),
        ];
        for (what, names, attack) in cases {
            let mut raw = Raw::connect(relay, Some(D18));
            attack(&mut raw);
            let (code, reason) = raw.wait_closed_with_reason();
            assert_eq!(code, D18_PROTOCOL_VIOLATION, "{what}: {reason}");
            assert!(reason.contains(names), "{what}: closed for another reason: {reason}");
        }
    });
}

// ---- moq-lite-04 / -05 -------------------------------------------------------------------------

/// A malformed SUBSCRIBE (stream type 0x2, message length 3, bytes that are not a
/// SUBSCRIBE): the fatal message that ends every lite case.
const LITE_BAD_SUBSCRIBE: &[u8] = &[0x02, 0x03, 0xFF, 0xFF, 0xFF];

/// Every stream kind, moq-lite (§Encoding "STREAM_TYPE": "A receiver MUST reset the stream
/// if it receives an unknown stream type. Unknown stream types MUST NOT be treated as
/// fatal"; §"Message Length": "SHOULD close the connection with a PROTOCOL_VIOLATION if it
/// receives a message with an unexpected length"):
/// * bidi stream of unknown type 0x30 → refused, session stays;
/// * uni stream of unknown type 0x30 → refused, session stays;
/// * group stream (uni type 0x0) whose GROUP message's length (1) is shorter than its
///   fields (Subscribe ID, Group Sequence) → PROTOCOL_VIOLATION;
/// * lite-05 only: a datagram for an unknown Subscribe ID ("MUST silently drop it") →
///   ignored, session stays;
/// * then the malformed SUBSCRIBE closes the session with PROTOCOL_VIOLATION.
fn lite_cases(version: Version, name: &str) {
    while_serving_others(name, |relay| {
        // Unknown types are refused; the session survives both, then dies of the fatal one.
        let mut raw = Raw::connect(relay, Some(version));
        let bidi = raw.open(Dir::Bi, &cat(&[&[0x30], &junk(50)]));
        raw.wait_refused(bidi);
        let uni = raw.open(Dir::Uni, &cat(&[&[0x30], &junk(50)]));
        raw.wait_refused(uni);
        if version == LITE05 {
            // Subscribe ID 63 (never used), group 0, timestamp 1, payload.
            raw.datagram(&[0x3F, 0x00, 0x01, b'x', b'y']);
            // A later probe is refused, so the session outlived the datagram.
            let probe = raw.open(Dir::Bi, &[0x30]);
            raw.wait_refused(probe);
        }
        raw.open(Dir::Bi, LITE_BAD_SUBSCRIBE);
        let (code, reason) = raw.wait_closed_with_reason();
        assert_eq!(code, LITE_PROTOCOL_VIOLATION, "{name}: malformed SUBSCRIBE");
        assert!(reason.contains("SUBSCRIBE"), "{name}: closed for another reason: {reason}");

        // A group stream whose GROUP header has the wrong length.
        let mut raw = Raw::connect(relay, Some(version));
        raw.open(Dir::Uni, &[0x00, 0x01, 0x01, 0x00, 0x05, 0x01, 0x02]);
        let (code, reason) = raw.wait_closed_with_reason();
        assert_eq!(code, LITE_PROTOCOL_VIOLATION, "{name}: GROUP length");
        assert!(reason.contains("GROUP"), "{name}: closed for another reason: {reason}");
    });
}

#[test]
fn lite04_garbage_on_every_stream_kind_gets_the_drafts_outcome() {
    lite_cases(LITE04, "lite-04");
}

#[test]
fn lite05_garbage_on_every_stream_kind_and_datagrams_gets_the_drafts_outcome() {
    lite_cases(LITE05, "lite-05");
}

// ---- WebTransport ----------------------------------------------------------------------------

/// An HTTP/3 connection with its control stream and an accepted WebTransport session
/// (draft-18 named in `WT-Available-Protocols`); returns the client and the CONNECT stream.
fn webtransport_session(relay: &Relay) -> (Raw, StreamId) {
    let mut raw = Raw::connect(relay, None);
    raw.open(Dir::Uni, &frame::control_stream_preamble(&frame::local_settings(false, 16 * 1024)));
    let request = message::encode_request("localhost", "/moq", &["moqt-18".to_owned()]).unwrap();
    let connect = raw.open(Dir::Bi, &request);
    raw.run_until("the CONNECT response", |r| r.received.get(&connect).is_some_and(|b| !b.is_empty()));
    (raw, connect)
}

/// The WT_CLOSE_SESSION capsule the relay wrote on the CONNECT stream, as (code, message).
fn close_capsule(raw: &mut Raw, connect: StreamId) -> (u32, String) {
    let mut found = None;
    raw.run_until("WT_CLOSE_SESSION", |r| {
        let Some(bytes) = r.received.get(&connect) else { return false };
        // Skip the response's HEADERS frame; the capsule (type 0x2843, length, payload) is the
        // payload of the DATA frame after it (RFC 9297 §3.2: capsules travel in DATA frames).
        let Some((_, len, used)) = frame::frame_header(bytes) else { return false };
        let rest = &bytes[used + len as usize..];
        let Some((0x00, len, used)) = frame::frame_header(rest) else { return false };
        let Some(rest) = rest.get(used..used + len as usize) else { return false };
        let Some((ty, len, used)) = frame::frame_header(rest) else { return false };
        if ty != 0x2843 || rest.len() < used + len as usize {
            return false;
        }
        found = capsule::parse_close(&rest[used..used + len as usize]);
        true
    });
    found.expect("a WT_CLOSE_SESSION capsule")
}

/// Over WebTransport (draft-18): a uni stream with a valid WebTransport prefix (0x54 and the
/// session id) followed by an unknown MoQ stream type closes the MoQ session with
/// PROTOCOL_VIOLATION, carried as WT_CLOSE_SESSION's code on the CONNECT stream
/// (draft-ietf-webtrans-http3 §6); and an h3-level error, a second HTTP/3 control stream
/// (RFC 9114 §6.2.1), closes the connection with H3_STREAM_CREATION_ERROR. The raw-QUIC
/// pipeline on the same relay stays whole.
#[test]
fn webtransport_garbage_closes_only_that_session() {
    while_serving_others("d18", |relay| {
        let (mut raw, connect) = webtransport_session(relay);
        let session_id = connect.index() * 4; // client bidi stream: id = 4 × index
        assert!(session_id < 64, "one-byte varint session id");
        raw.open(Dir::Uni, &cat(&[&[0x40, 0x54, session_id as u8, 0x06], &junk(100)]));
        let (code, _) = close_capsule(&mut raw, connect);
        assert_eq!(u64::from(code), D18_PROTOCOL_VIOLATION);

        let (mut raw, _) = webtransport_session(relay);
        raw.open(Dir::Uni, &frame::control_stream_preamble(&[]));
        assert_eq!(raw.wait_closed(), H3_STREAM_CREATION_ERROR);
    });
}
