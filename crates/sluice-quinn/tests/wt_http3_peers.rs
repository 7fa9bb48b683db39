//! A sluice server endpoint against hand-driven HTTP/3 clients on 127.0.0.1 (quinn-proto with
//! ALPN h3, bytes written by the test): a WebTransport CONNECT with no
//! `WT-Available-Protocols` gets the documented default (draft-18, and no `WT-Protocol` in the
//! 200), a plain GET gets 405, and broken HTTP/3 gets the RFC 9114 error code on the
//! connection instead of a panic.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use sluice::{Config, Event, Version};
use sluice_quinn::quinn_proto::{
    self, ConnectionError, ConnectionHandle, DatagramEvent, Dir, EndpointConfig, StreamId,
};
use sluice_quinn::{Endpoint, ServerIdentity, ServerVerification, client_config, server_config};
use sluice_wt::codes::error;
use sluice_wt::{frame, message, qpack};

/// A minimal HTTP/3 client: one quinn-proto connection, streams written by the test.
struct RawClient {
    socket: UdpSocket,
    endpoint: quinn_proto::Endpoint,
    handle: ConnectionHandle,
    conn: quinn_proto::Connection,
    connected: bool,
    /// The request stream.
    request: Option<StreamId>,
    /// Bytes received on the request stream, and whether it ended.
    response: Vec<u8>,
    response_end: bool,
    reset: Option<u64>,
    closed: Option<ConnectionError>,
}

impl RawClient {
    fn new(server: SocketAddr, verification: ServerVerification) -> RawClient {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
        let mut endpoint = quinn_proto::Endpoint::new(Arc::new(EndpointConfig::default()), None, false, None);
        let config = client_config(verification, &[]).unwrap().webtransport.unwrap();
        let (handle, conn) = endpoint.connect(Instant::now(), config, server, "localhost").unwrap();
        RawClient {
            socket,
            endpoint,
            handle,
            conn,
            connected: false,
            request: None,
            response: Vec::new(),
            response_end: false,
            reset: None,
            closed: None,
        }
    }

    fn step(&mut self) {
        let now = Instant::now();
        let mut buf = Vec::new();
        while let Some(t) = self.conn.poll_transmit(now, 1, &mut buf) {
            let _ = self.socket.send_to(&buf[..t.size], t.destination);
            buf.clear();
        }
        let mut recv = vec![0u8; 65536];
        while let Ok((n, from)) = self.socket.recv_from(&mut recv) {
            let mut out = Vec::new();
            if let Some(DatagramEvent::ConnectionEvent(_, ev)) =
                self.endpoint.handle(Instant::now(), from, None, None, BytesMut::from(&recv[..n]), &mut out)
            {
                self.conn.handle_event(ev);
            }
            self.socket.set_nonblocking(true).unwrap();
        }
        self.socket.set_nonblocking(false).unwrap();
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
                quinn_proto::Event::Connected => self.connected = true,
                quinn_proto::Event::ConnectionLost { reason } => self.closed = Some(reason),
                _ => {}
            }
        }
        // quinn-proto reports Readable only for streams a read found blocked: read every step.
        if let Some(id) = self.request
            && !self.response_end
            && self.reset.is_none()
        {
            let mut recv = self.conn.recv_stream(id);
            if let Ok(mut chunks) = recv.read(true) {
                loop {
                    match chunks.next(usize::MAX) {
                        Ok(Some(c)) => self.response.extend_from_slice(&c.bytes),
                        Ok(None) => {
                            self.response_end = true;
                            break;
                        }
                        Err(quinn_proto::ReadError::Reset(code)) => {
                            self.reset = Some(code.into_inner());
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let _ = chunks.finalize();
            }
        }
    }

    fn open(&mut self, dir: Dir, data: &[u8]) -> StreamId {
        let id = self.conn.streams().open(dir).unwrap();
        self.conn.send_stream(id).write(data).unwrap();
        if dir == Dir::Bi {
            self.request = Some(id);
        }
        id
    }

    fn error_code(&self) -> Option<u64> {
        match &self.closed {
            Some(ConnectionError::ApplicationClosed(c)) => Some(c.error_code.into_inner()),
            _ => None,
        }
    }
}

struct Setup {
    server: Endpoint,
    client: RawClient,
    server_events: Vec<Event>,
}

impl Setup {
    fn new() -> Setup {
        let identity = ServerIdentity::self_signed(["localhost"]).unwrap();
        let pin = ServerVerification::Pin(identity.fingerprint());
        let server = Endpoint::server(
            "127.0.0.1:0".parse().unwrap(),
            server_config(identity, &Version::ALL).unwrap(),
            Config::default(),
        )
        .unwrap();
        let client = RawClient::new(server.local_addr().unwrap(), pin);
        let mut setup = Setup { server, client, server_events: Vec::new() };
        setup.run_until(|s| s.client.connected);
        setup
    }

    fn run_until(&mut self, mut done: impl FnMut(&Setup) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(self) {
            assert!(Instant::now() < deadline, "timed out; client closed {:?}", self.client.closed);
            self.client.step();
            self.server.step(Duration::from_millis(1)).unwrap();
            for conn in self.server.connections() {
                self.server_events.extend(conn.take_events());
            }
        }
    }

    fn control(&mut self) {
        let settings = frame::control_stream_preamble(&frame::local_settings(false, 16 * 1024));
        self.client.open(Dir::Uni, &settings);
    }

    /// The HEADERS of the response, decoded.
    fn response_fields(&self) -> Vec<(String, String)> {
        let (ty, len, used) = frame::frame_header(&self.client.response).unwrap();
        assert_eq!(ty, 0x01, "a HEADERS frame");
        let fields = qpack::decode(&self.client.response[used..used + len as usize], 1 << 14).unwrap();
        fields
            .into_iter()
            .map(|(n, v)| (String::from_utf8(n).unwrap(), String::from_utf8(v).unwrap()))
            .collect()
    }
}

/// What a case writes on the client.
type Send = Box<dyn Fn(&mut RawClient)>;

fn headers(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut section = Vec::new();
    qpack::encode(fields, &mut section);
    let mut out = Vec::new();
    frame::put_frame(&mut out, 0x01, &section);
    out
}

#[test]
fn a_client_naming_no_protocol_gets_draft18() {
    let mut s = Setup::new();
    s.control();
    let request = message::encode_request("localhost", "/moq", &[]).unwrap();
    s.client.open(Dir::Bi, &request);
    s.run_until(|s| !s.client.response.is_empty());
    let fields = s.response_fields();
    assert_eq!(
        fields,
        vec![(":status".to_string(), "200".to_string())],
        "no WT-Protocol when none was offered"
    );
    // The server's session was started on draft-18 (its MoQ SETUP then waits for ours).
    let version = s.server.connections().next().and_then(|c| c.version());
    assert_eq!(version, Some(Version::Moqt(sluice::MoqtVersion::Draft18)));
}

#[test]
fn a_plain_get_gets_405_and_the_stream_ends() {
    let mut s = Setup::new();
    s.control();
    let get =
        headers(&[(":method", "GET"), (":scheme", "https"), (":authority", "localhost"), (":path", "/")]);
    s.client.open(Dir::Bi, &get);
    s.run_until(|s| s.client.response_end);
    assert_eq!(s.response_fields(), vec![(":status".to_string(), "405".to_string())]);
    assert!(s.client.closed.is_none());
    assert!(!s.server_events.iter().any(|e| matches!(e, Event::Ready { .. })));
}

#[test]
fn broken_http3_gets_the_rfc9114_error_code() {
    // (what, send our SETTINGS first, what the client sends, the code the server closes with)
    let cases: Vec<(&str, bool, Send, u64)> = vec![
        (
            "DATA before HEADERS on the request stream",
            true,
            Box::new(|c: &mut RawClient| {
                c.open(Dir::Bi, &[0x00, 0x02, 0xde, 0xad]);
            }),
            error::H3_FRAME_UNEXPECTED,
        ),
        (
            "a control stream that does not start with SETTINGS",
            false,
            Box::new(|c: &mut RawClient| {
                c.open(Dir::Uni, &[0x00, 0x07, 0x01, 0x00]); // GOAWAY first
            }),
            error::H3_MISSING_SETTINGS,
        ),
        (
            "a dynamic-table reference in the CONNECT's field section",
            true,
            Box::new(|c: &mut RawClient| {
                c.open(Dir::Bi, &[0x01, 0x03, 0x00, 0x00, 0x80]);
            }),
            error::QPACK_DECOMPRESSION_FAILED,
        ),
        (
            "a WebTransport stream naming a session id that is no client bidi stream",
            true,
            Box::new(|c: &mut RawClient| {
                c.open(Dir::Uni, &[0x40, 0x54, 0x01, b'x']);
            }),
            error::H3_ID_ERROR,
        ),
        (
            "a second control stream",
            true,
            Box::new(|c: &mut RawClient| {
                c.open(Dir::Uni, &frame::control_stream_preamble(&[]));
            }),
            error::H3_STREAM_CREATION_ERROR,
        ),
        (
            "a duplicate setting",
            false,
            Box::new(|c: &mut RawClient| {
                c.open(Dir::Uni, &frame::control_stream_preamble(&[(0x33, 1), (0x33, 1)]));
            }),
            error::H3_SETTINGS_ERROR,
        ),
    ];
    for (what, settings_first, send, code) in cases {
        let mut s = Setup::new();
        if settings_first {
            s.control();
        }
        send(&mut s.client);
        s.run_until(|s| s.client.closed.is_some());
        assert_eq!(s.client.error_code(), Some(code), "{what}: {:?}", s.client.closed);
    }
}

#[test]
fn a_malformed_connect_is_reset_with_h3_message_error() {
    let mut s = Setup::new();
    s.control();
    // Extended CONNECT without :path (RFC 9220 §3 / RFC 9114 §4.1.2: malformed).
    let bad = headers(&[
        (":method", "CONNECT"),
        (":protocol", "webtransport"),
        (":scheme", "https"),
        (":authority", "x"),
    ]);
    s.client.open(Dir::Bi, &bad);
    s.run_until(|s| s.client.reset.is_some());
    assert_eq!(s.client.reset, Some(error::H3_MESSAGE_ERROR));
}
