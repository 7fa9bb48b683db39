//! [`WtConnection`]: the WebTransport-over-HTTP/3 state machine for one QUIC connection
//! carrying one WebTransport session, client or server.
//!
//! Bytes go in per QUIC stream ([`WtConnection::stream_data`]); commands and events come out
//! of [`WtConnection::poll`] ([`WtOutput`]). The caller owns the QUIC connection: it opens
//! the streams asked for, writes the bytes given, and hands every received stream chunk,
//! reset and datagram here. What this layer owns:
//!
//! * its control stream (type 0x00 + SETTINGS) and the peer's (RFC 9114 §6.2.1); peer QPACK
//!   streams are read and discarded (no dynamic table is announced);
//! * the CONNECT stream: request/response HEADERS (QPACK), then capsules in DATA frames;
//! * the identification of every peer stream: WebTransport streams of the session
//!   (uni `0x54`, bidi `0x41`, then the session id) lose their prefix and come out as
//!   [`WtOutput::StreamOpened`] + [`WtOutput::StreamData`]; the rest is HTTP/3's;
//! * prefixes for the application's own streams ([`WtConnection::stream_prefix`]) and
//!   datagrams ([`WtConnection::wrap_datagram`], [`WtConnection::unwrap_datagram`]).
//!
//! One session per connection: SETTINGS_WT_MAX_SESSIONS is 1 and a second CONNECT is
//! refused with H3_REQUEST_REJECTED (draft-ietf-webtrans-http3 §5.2).

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use sluice_wire::varint::decode_quic;

use crate::capsule;
use crate::codes::{self, error, frame_type, stream_type};
use crate::config::Config;
use crate::frame::{self, H3Error, Settings, put_varint};
use crate::message::{self, ConnectRequest, Request, Response};
use crate::qpack::{self, QpackError};
use crate::reader::{FrameEvent, FrameReader};

/// A command or event for the caller. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WtOutput {
    /// Open a unidirectional stream and write `data` on it: our control stream. Never
    /// finish it (a critical stream, RFC 9114 §6.2.1).
    OpenControl {
        /// Stream type and SETTINGS frame.
        data: Bytes,
    },
    /// Client: open a bidirectional stream, report its id with
    /// [`WtConnection::connect_stream_opened`], and write `data` (the CONNECT request).
    OpenConnect {
        /// The HEADERS frame.
        data: Bytes,
    },
    /// Write on a stream this layer owns (the CONNECT stream); finish it after if `fin`.
    Write {
        /// QUIC stream id.
        stream: u64,
        /// Bytes (may be empty with `fin`).
        data: Bytes,
        /// Finish the stream.
        fin: bool,
    },
    /// Reset the sending side of a stream with an HTTP/3 code.
    Reset {
        /// QUIC stream id.
        stream: u64,
        /// HTTP/3 error code.
        code: u64,
    },
    /// Abort reading a stream (STOP_SENDING) with an HTTP/3 code.
    StopSending {
        /// QUIC stream id.
        stream: u64,
        /// HTTP/3 error code.
        code: u64,
    },
    /// Close the QUIC connection with an HTTP/3 code (an error, or H3_NO_ERROR once a
    /// session close completed).
    CloseConnection {
        /// HTTP/3 error code.
        code: u64,
        /// Reason phrase.
        reason: String,
    },
    /// The session is established. `protocol` is the negotiated `WT-Protocol`, or the
    /// default given at construction when the peer negotiated none.
    Ready {
        /// The application protocol (for MoQ: the version's ALPN string).
        protocol: Option<String>,
        /// The CONNECT `:path`.
        path: String,
    },
    /// A peer-opened stream of the session; its data follows as `StreamData`.
    StreamOpened {
        /// QUIC stream id.
        stream: u64,
        /// Bidirectional.
        bidi: bool,
    },
    /// Session bytes received on a stream (prefix removed).
    StreamData {
        /// QUIC stream id.
        stream: u64,
        /// The bytes.
        data: Bytes,
        /// End of stream.
        fin: bool,
    },
    /// A session stream was reset by the peer. `code` is the WebTransport application code
    /// when the HTTP/3 code is in the WT_APPLICATION_ERROR range, else the HTTP/3 code.
    StreamReset {
        /// QUIC stream id.
        stream: u64,
        /// The code.
        code: u64,
    },
    /// The session is over (not reported for a close this side started). `code`: the
    /// WT_CLOSE_SESSION code (0 for a plain FIN), or the HTTP/3 code of a connection error
    /// or a CONNECT stream reset, or H3_REQUEST_REJECTED when the server answered non-2xx
    /// (the reason then says `HTTP status NNN`).
    Closed {
        /// The code.
        code: u64,
        /// The reason.
        reason: String,
    },
}

/// Who this side is.
#[derive(Debug, Clone)]
enum Role {
    Client { request: Vec<u8>, offered: Vec<String> },
    Server { supported: Vec<String> },
}

/// Where the session is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Client: waiting for the server's SETTINGS. Server: waiting for a CONNECT.
    Handshake,
    /// Client: CONNECT sent, waiting for the response.
    Requested,
    /// The session is up.
    Established,
    /// This side sent WT_CLOSE_SESSION + FIN; waiting for the peer to close its side.
    Closing,
    /// Over.
    Closed,
}

/// Per-stream state of streams this layer reads.
#[derive(Debug)]
enum Stream {
    /// A peer stream whose first varints are still arriving.
    Identifying { bidi: bool, buf: Vec<u8> },
    /// The peer's control stream.
    Control { reader: FrameReader, got_settings: bool },
    /// A peer QPACK stream: read and dropped; its closing is a connection error.
    Qpack,
    /// Refused or unknown: further bytes are dropped.
    Ignored,
    /// The CONNECT stream (server: a request stream until it is accepted).
    Request(Box<RequestStream>),
    /// A session stream held until the session is established.
    Buffered { bidi: bool, session: u64, chunks: Vec<Bytes>, bytes: usize, fin: bool },
    /// A session stream: bytes pass through.
    Session,
}

/// The frames of a request stream: HEADERS first, then DATA carrying capsules.
#[derive(Debug)]
struct RequestStream {
    frames: FrameReader,
    capsules: FrameReader,
    /// HEADERS received (the request, or the final response).
    headers_done: bool,
    /// WT_CLOSE_SESSION received.
    close_received: bool,
}

impl RequestStream {
    fn new() -> RequestStream {
        RequestStream {
            frames: FrameReader::new(),
            capsules: FrameReader::new(),
            headers_done: false,
            close_received: false,
        }
    }
}

/// What a request stream's bytes amounted to.
enum RequestEvent {
    Headers(Vec<qpack::Field>),
    Close { code: u32, reason: String },
}

/// The state machine. See the module docs.
#[derive(Debug)]
pub struct WtConnection {
    config: Config,
    role: Role,
    default_protocol: Option<String>,
    phase: Phase,
    peer_settings: Option<Settings>,
    /// The CONNECT stream id (= the session id).
    session: Option<u64>,
    /// Server: a CONNECT request read before the client's SETTINGS.
    pending_request: Option<(u64, ConnectRequest)>,
    streams: HashMap<u64, Stream>,
    buffered_streams: usize,
    have_qpack: [bool; 2],
    have_control: bool,
    out: VecDeque<WtOutput>,
}

impl WtConnection {
    /// A client that will request `https://{authority}{path}` offering `protocols` (most
    /// preferred first; none sends no `WT-Available-Protocols`). `default_protocol` is what
    /// [`WtOutput::Ready`] reports when the server's response names no protocol.
    pub fn client(
        config: Config,
        authority: &str,
        path: &str,
        protocols: Vec<String>,
        default_protocol: Option<String>,
    ) -> WtConnection {
        let request = message::encode_request(authority, path, &protocols).unwrap_or_default();
        let mut c = WtConnection::new(config, Role::Client { request, offered: protocols }, default_protocol);
        if c.role_request().is_empty() {
            c.fail(H3Error::new(error::H3_INTERNAL_ERROR, "a protocol name is not an sf-string"));
        }
        c
    }

    /// A server speaking `supported` (most preferred first): it answers a CONNECT with the
    /// first of them the client offers; a client that offers none gets `default_protocol`
    /// (or 400 when that is `None`), and one whose offer shares nothing with `supported`
    /// gets 400.
    pub fn server(config: Config, supported: Vec<String>, default_protocol: Option<String>) -> WtConnection {
        WtConnection::new(config, Role::Server { supported }, default_protocol)
    }

    fn new(config: Config, role: Role, default_protocol: Option<String>) -> WtConnection {
        let server = matches!(role, Role::Server { .. });
        let settings = frame::local_settings(server, config.max_field_section_size);
        let mut out = VecDeque::new();
        out.push_back(WtOutput::OpenControl { data: Bytes::from(frame::control_stream_preamble(&settings)) });
        WtConnection {
            config,
            role,
            default_protocol,
            phase: Phase::Handshake,
            peer_settings: None,
            session: None,
            pending_request: None,
            streams: HashMap::new(),
            buffered_streams: 0,
            have_qpack: [false; 2],
            have_control: false,
            out,
        }
    }

    fn role_request(&self) -> &[u8] {
        match &self.role {
            Role::Client { request, .. } => request,
            Role::Server { .. } => &[],
        }
    }

    fn is_server(&self) -> bool {
        matches!(self.role, Role::Server { .. })
    }

    /// The next command or event.
    pub fn poll(&mut self) -> Option<WtOutput> {
        self.out.pop_front()
    }

    /// The session id (the CONNECT stream id), once known.
    pub fn session_id(&self) -> Option<u64> {
        self.session
    }

    /// True while the session is established (not closing or closed).
    pub fn is_established(&self) -> bool {
        self.phase == Phase::Established
    }

    /// True once the session is over (or never came to be).
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The peer's SETTINGS, once received.
    pub fn peer_settings(&self) -> Option<&Settings> {
        self.peer_settings.as_ref()
    }

    /// Client: the bidirectional stream asked for by [`WtOutput::OpenConnect`] is `id`.
    pub fn connect_stream_opened(&mut self, id: u64) {
        if self.is_server() || self.session.is_some() {
            return;
        }
        self.session = Some(id);
        self.streams.insert(id, Stream::Request(Box::new(RequestStream::new())));
    }

    /// The bytes to write first on a new stream the application opens in the session:
    /// `0x54` (uni) or `0x41` (bidi), then the session id (draft-ietf-webtrans-http3 §4.2,
    /// §4.3). `None` until the session id is known.
    pub fn stream_prefix(&self, bidi: bool) -> Option<Bytes> {
        let session = self.session?;
        let mut out = Vec::with_capacity(9);
        put_varint(
            &mut out,
            if bidi { frame_type::WEBTRANSPORT_STREAM } else { stream_type::WEBTRANSPORT_UNI },
        );
        put_varint(&mut out, session);
        Some(Bytes::from(out))
    }

    /// An application datagram as an HTTP/3 datagram: the quarter stream id (session id / 4)
    /// then the payload (RFC 9297 §2.1). `None` unless the session is established.
    pub fn wrap_datagram(&self, payload: &[u8]) -> Option<Bytes> {
        if self.phase != Phase::Established {
            return None;
        }
        let mut out = Vec::with_capacity(payload.len() + 8);
        put_varint(&mut out, self.session? / 4);
        out.extend_from_slice(payload);
        Some(Bytes::from(out))
    }

    /// The application payload of a received QUIC datagram, when it belongs to the
    /// established session. Datagrams for another or a not-yet-established session are
    /// dropped (RFC 9297 §2.1 allows dropping); one whose quarter stream id does not parse
    /// closes the connection with H3_DATAGRAM_ERROR.
    pub fn unwrap_datagram(&mut self, datagram: Bytes) -> Option<Bytes> {
        let Some((quarter, used)) = decode_quic(&datagram) else {
            self.fail(H3Error::new(error::H3_DATAGRAM_ERROR, "datagram without a quarter stream id"));
            return None;
        };
        if self.phase != Phase::Established || Some(quarter.saturating_mul(4)) != self.session {
            return None;
        }
        Some(datagram.slice(used..))
    }

    /// Closes the session: WT_CLOSE_SESSION with `code` and `reason` (cut to the 1024-byte
    /// limit of draft-ietf-webtrans-http3 §6) in a DATA frame, then FIN on the CONNECT stream.
    /// Once the peer closes its side, [`WtOutput::CloseConnection`] with H3_NO_ERROR follows.
    pub fn close(&mut self, code: u32, reason: &str) {
        match self.phase {
            Phase::Established => {}
            Phase::Closing | Phase::Closed => return,
            Phase::Handshake | Phase::Requested => {
                self.phase = Phase::Closed;
                self.out
                    .push_back(WtOutput::CloseConnection { code: error::H3_NO_ERROR, reason: reason.into() });
                return;
            }
        }
        let Some(session) = self.session else { return };
        let capsule = capsule::close_session(code, reason);
        let mut data = Vec::with_capacity(capsule.len() + 4);
        frame::put_frame(&mut data, frame_type::DATA, &capsule);
        self.out.push_back(WtOutput::Write { stream: session, data: Bytes::from(data), fin: true });
        self.phase = Phase::Closing;
    }

    /// The QUIC connection is gone: the session ends with it.
    pub fn connection_lost(&mut self, code: u64, reason: &str) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        let report = self.phase != Phase::Closing;
        self.phase = Phase::Closed;
        if report {
            self.out.push_back(WtOutput::Closed { code, reason: reason.into() });
        }
    }

    /// Bytes received on stream `id` (any stream: peer-opened, the CONNECT stream, or the
    /// receive side of a bidirectional stream the application opened).
    pub fn stream_data(&mut self, id: u64, data: Bytes, fin: bool) {
        if self.phase == Phase::Closed && !self.streams.contains_key(&id) {
            return;
        }
        let Some(state) = self.streams.remove(&id) else {
            if self.is_local(id) {
                // The receive side of an application bidi stream: no prefix on this side.
                self.out.push_back(WtOutput::StreamData { stream: id, data, fin });
            } else {
                let bidi = id & 0x2 == 0;
                self.identify(id, bidi, Vec::new(), data, fin);
            }
            return;
        };
        match state {
            Stream::Identifying { bidi, buf } => self.identify(id, bidi, buf, data, fin),
            Stream::Session => {
                self.out.push_back(WtOutput::StreamData { stream: id, data, fin });
                if !fin {
                    self.streams.insert(id, Stream::Session);
                }
            }
            Stream::Buffered { bidi, session, mut chunks, bytes, fin: _ } => {
                let bytes = bytes + data.len();
                if bytes > self.config.max_buffered_bytes {
                    self.buffered_streams = self.buffered_streams.saturating_sub(1);
                    self.refuse(id, bidi, error::WT_BUFFERED_STREAM_REJECTED);
                    if !fin {
                        self.streams.insert(id, Stream::Ignored);
                    }
                    return;
                }
                if !data.is_empty() {
                    chunks.push(data);
                }
                self.streams.insert(id, Stream::Buffered { bidi, session, chunks, bytes, fin });
            }
            Stream::Control { mut reader, mut got_settings } => {
                match self.read_control(&mut reader, &mut got_settings, &data) {
                    Err(e) => self.fail(e),
                    Ok(()) if fin => {
                        self.fail(H3Error::new(error::H3_CLOSED_CRITICAL_STREAM, "control stream finished"))
                    }
                    Ok(()) => {
                        self.streams.insert(id, Stream::Control { reader, got_settings });
                    }
                }
            }
            Stream::Qpack => {
                if fin {
                    self.fail(H3Error::new(error::H3_CLOSED_CRITICAL_STREAM, "QPACK stream finished"));
                } else {
                    self.streams.insert(id, Stream::Qpack);
                }
            }
            Stream::Ignored => {
                if !fin {
                    self.streams.insert(id, Stream::Ignored);
                }
            }
            Stream::Request(mut request) => self.on_request_data(id, &mut request, &data, fin),
        }
    }

    /// Stream `id` was reset by the peer with HTTP/3 code `code`.
    pub fn stream_reset(&mut self, id: u64, code: u64) {
        let app_code = codes::h3_to_app_error(code).map_or(code, u64::from);
        match self.streams.remove(&id) {
            None if self.is_local(id) => {
                self.out.push_back(WtOutput::StreamReset { stream: id, code: app_code })
            }
            None | Some(Stream::Identifying { .. } | Stream::Ignored) => {}
            Some(Stream::Session) => self.out.push_back(WtOutput::StreamReset { stream: id, code: app_code }),
            Some(Stream::Buffered { .. }) => self.buffered_streams = self.buffered_streams.saturating_sub(1),
            Some(Stream::Control { .. } | Stream::Qpack) => {
                self.fail(H3Error::new(error::H3_CLOSED_CRITICAL_STREAM, "critical stream reset"))
            }
            Some(Stream::Request(_)) => {
                if Some(id) == self.session {
                    self.session_over(code, "CONNECT stream reset");
                }
            }
        }
    }

    /// Whether `id` was opened by this side (bit 0 of a QUIC stream id is the initiator:
    /// 0 client, 1 server; RFC 9000 §2.1).
    fn is_local(&self, id: u64) -> bool {
        (id & 1 == 1) == self.is_server()
    }

    /// A connection error: close the QUIC connection with `e`'s code; the session is over.
    fn fail(&mut self, e: H3Error) {
        if self.phase == Phase::Closed {
            return;
        }
        let report = self.phase != Phase::Closing;
        self.phase = Phase::Closed;
        self.out.push_back(WtOutput::CloseConnection { code: e.code, reason: e.reason.into() });
        if report {
            self.out.push_back(WtOutput::Closed { code: e.code, reason: e.reason.into() });
        }
    }

    /// Refuses a stream: STOP_SENDING, plus RESET_STREAM when we have a send side.
    fn refuse(&mut self, id: u64, bidi: bool, code: u64) {
        self.out.push_back(WtOutput::StopSending { stream: id, code });
        if bidi {
            self.out.push_back(WtOutput::Reset { stream: id, code });
        }
    }

    /// Reads a peer stream's first varints (stream type or signal, then a session id).
    fn identify(&mut self, id: u64, bidi: bool, mut buf: Vec<u8>, data: Bytes, fin: bool) {
        let (rest, ty, session) = if buf.is_empty() {
            match parse_prefix(&data) {
                Prefix::Done { ty, session, used } => (data.slice(used..), ty, session),
                Prefix::Incomplete => {
                    if !fin {
                        buf.extend_from_slice(&data);
                        self.streams.insert(id, Stream::Identifying { bidi, buf });
                    }
                    return;
                }
            }
        } else {
            let before = buf.len();
            buf.extend_from_slice(&data);
            match parse_prefix(&buf) {
                Prefix::Done { ty, session, used } => {
                    (data.slice(used.saturating_sub(before).min(data.len())..), ty, session)
                }
                Prefix::Incomplete => {
                    // Two varints take at most 16 bytes; parse_prefix never needs more.
                    if !fin {
                        self.streams.insert(id, Stream::Identifying { bidi, buf });
                    }
                    return;
                }
            }
        };
        // The first varint alone decides every stream but a WebTransport one; for those,
        // parse_prefix waited for the session id too.
        if bidi {
            self.identify_bidi(id, ty, session, rest, fin, &buf, &data);
        } else {
            self.identify_uni(id, ty, session, rest, fin);
        }
    }

    fn identify_uni(&mut self, id: u64, ty: u64, session: Option<u64>, rest: Bytes, fin: bool) {
        match ty {
            stream_type::CONTROL => {
                if self.have_control {
                    return self.fail(H3Error::new(error::H3_STREAM_CREATION_ERROR, "second control stream"));
                }
                self.have_control = true;
                let state = Stream::Control { reader: FrameReader::new(), got_settings: false };
                self.streams.insert(id, state);
                self.stream_data(id, rest, fin);
            }
            stream_type::PUSH => {
                if self.is_server() {
                    self.fail(H3Error::new(error::H3_STREAM_CREATION_ERROR, "push stream from a client"));
                } else {
                    // We never sent MAX_PUSH_ID, so every push ID is above the limit (RFC 9114 §4.6).
                    self.fail(H3Error::new(error::H3_ID_ERROR, "push stream without MAX_PUSH_ID"));
                }
            }
            stream_type::QPACK_ENCODER | stream_type::QPACK_DECODER => {
                let which = usize::from(ty == stream_type::QPACK_DECODER);
                if self.have_qpack.get(which).copied().unwrap_or(true) {
                    return self.fail(H3Error::new(error::H3_STREAM_CREATION_ERROR, "second QPACK stream"));
                }
                if let Some(seen) = self.have_qpack.get_mut(which) {
                    *seen = true;
                }
                self.streams.insert(id, Stream::Qpack);
                self.stream_data(id, rest, fin);
            }
            stream_type::WEBTRANSPORT_UNI => self.webtransport_stream(id, false, session, rest, fin),
            _ => {
                // Unknown or reserved type: abort reading (RFC 9114 §6.2).
                self.out
                    .push_back(WtOutput::StopSending { stream: id, code: error::H3_STREAM_CREATION_ERROR });
                if !fin {
                    self.streams.insert(id, Stream::Ignored);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn identify_bidi(
        &mut self,
        id: u64,
        ty: u64,
        session: Option<u64>,
        rest: Bytes,
        fin: bool,
        buf: &[u8],
        data: &Bytes,
    ) {
        if ty == frame_type::WEBTRANSPORT_STREAM {
            return self.webtransport_stream(id, true, session, rest, fin);
        }
        if !self.is_server() {
            // RFC 9114 §6.1: server-initiated bidi streams only exist by extension; the only
            // one negotiated here is WebTransport's.
            return self.fail(H3Error::new(
                error::H3_STREAM_CREATION_ERROR,
                "server bidi stream is not WebTransport",
            ));
        }
        // A request stream: its bytes from the start are frames.
        let whole = if buf.is_empty() { data.clone() } else { Bytes::from(buf.to_vec()) };
        if self.session.is_some() || self.pending_request.is_some() || self.phase == Phase::Closed {
            self.refuse(id, true, error::H3_REQUEST_REJECTED);
            if !fin {
                self.streams.insert(id, Stream::Ignored);
            }
            return;
        }
        self.streams.insert(id, Stream::Request(Box::new(RequestStream::new())));
        self.stream_data(id, whole, fin);
    }

    /// A stream that carries a WebTransport prefix for `session`.
    fn webtransport_stream(&mut self, id: u64, bidi: bool, session: Option<u64>, rest: Bytes, fin: bool) {
        let Some(session) = session else { return };
        if session & 0x3 != 0 {
            // Not a client-initiated bidi stream id (draft-ietf-webtrans-http3 §4).
            return self.fail(H3Error::new(error::H3_ID_ERROR, "session id is not a client bidi stream"));
        }
        match self.phase {
            Phase::Established if Some(session) == self.session => {
                self.out.push_back(WtOutput::StreamOpened { stream: id, bidi });
                if !rest.is_empty() || fin {
                    self.out.push_back(WtOutput::StreamData { stream: id, data: rest, fin });
                }
                if !fin {
                    self.streams.insert(id, Stream::Session);
                }
            }
            Phase::Handshake | Phase::Requested => {
                if self.buffered_streams >= self.config.max_buffered_streams
                    || rest.len() > self.config.max_buffered_bytes
                {
                    self.refuse(id, bidi, error::WT_BUFFERED_STREAM_REJECTED);
                    if !fin {
                        self.streams.insert(id, Stream::Ignored);
                    }
                    return;
                }
                self.buffered_streams += 1;
                let bytes = rest.len();
                let chunks = if rest.is_empty() { Vec::new() } else { vec![rest] };
                self.streams.insert(id, Stream::Buffered { bidi, session, chunks, bytes, fin });
            }
            Phase::Established => {
                self.refuse(id, bidi, error::WT_BUFFERED_STREAM_REJECTED);
                if !fin {
                    self.streams.insert(id, Stream::Ignored);
                }
            }
            Phase::Closing | Phase::Closed => {
                self.refuse(id, bidi, error::WT_SESSION_GONE);
                if !fin {
                    self.streams.insert(id, Stream::Ignored);
                }
            }
        }
    }

    /// Frames of the peer's control stream (RFC 9114 §6.2.1, §7.2).
    fn read_control(
        &mut self,
        reader: &mut FrameReader,
        got_settings: &mut bool,
        data: &[u8],
    ) -> Result<(), H3Error> {
        let mut input = data;
        while let Some(event) = reader.poll(&mut input) {
            match event {
                FrameEvent::Header { ty, len } => {
                    if !*got_settings {
                        if ty != frame_type::SETTINGS {
                            return Err(H3Error::new(
                                error::H3_MISSING_SETTINGS,
                                "control stream does not start with SETTINGS",
                            ));
                        }
                        let max = (self.config.max_settings as u64).saturating_mul(16);
                        if len > max {
                            return Err(H3Error::new(error::H3_EXCESSIVE_LOAD, "SETTINGS frame too large"));
                        }
                        *got_settings = true;
                        reader.buffer(ty);
                        continue;
                    }
                    match ty {
                        frame_type::SETTINGS
                        | frame_type::DATA
                        | frame_type::HEADERS
                        | frame_type::PUSH_PROMISE => {
                            return Err(H3Error::new(
                                error::H3_FRAME_UNEXPECTED,
                                "frame not allowed on the control stream",
                            ));
                        }
                        frame_type::MAX_PUSH_ID if !self.is_server() => {
                            return Err(H3Error::new(
                                error::H3_FRAME_UNEXPECTED,
                                "MAX_PUSH_ID from a server",
                            ));
                        }
                        frame_type::WEBTRANSPORT_STREAM => {
                            return Err(H3Error::new(
                                error::H3_FRAME_ERROR,
                                "WT_STREAM on the control stream",
                            ));
                        }
                        t if frame_type::is_reserved_http2(t) => {
                            return Err(H3Error::new(error::H3_FRAME_UNEXPECTED, "HTTP/2 frame type"));
                        }
                        // GOAWAY, CANCEL_PUSH, MAX_PUSH_ID (server), PRIORITY_UPDATE, GREASE,
                        // unknown: nothing here depends on them.
                        _ => reader.skip(),
                    }
                }
                FrameEvent::Payload { payload, .. } => {
                    let settings = Settings::decode(&payload, self.config.max_settings)?;
                    self.on_settings(settings)?;
                }
                FrameEvent::Chunk(_) => {}
            }
        }
        Ok(())
    }

    fn on_settings(&mut self, settings: Settings) -> Result<(), H3Error> {
        let supports = settings.supports_webtransport();
        self.peer_settings = Some(settings);
        match &self.role {
            Role::Client { request, .. } => {
                if !supports {
                    return Err(H3Error::new(
                        error::H3_SETTINGS_ERROR,
                        "server does not announce WebTransport",
                    ));
                }
                if self.phase == Phase::Handshake {
                    // draft-ietf-webtrans-http3 §3.1: CONNECT only after the server's SETTINGS.
                    self.out.push_back(WtOutput::OpenConnect { data: Bytes::from(request.clone()) });
                    self.phase = Phase::Requested;
                }
            }
            Role::Server { .. } => {
                if let Some((id, request)) = self.pending_request.take()
                    && !self.answer_request(id, request)
                {
                    self.streams.insert(id, Stream::Ignored);
                }
            }
        }
        Ok(())
    }

    fn on_request_data(&mut self, id: u64, request: &mut RequestStream, data: &[u8], fin: bool) {
        let events = match self.read_request(request, data) {
            Ok(events) => events,
            Err(failure) => {
                self.request_failed(id, failure);
                if !fin {
                    self.streams.insert(id, Stream::Ignored);
                }
                return;
            }
        };
        for event in events {
            match event {
                RequestEvent::Headers(fields) => match self.on_headers(id, &fields) {
                    Ok(true) => {}
                    Ok(false) => {
                        if !fin {
                            self.streams.insert(id, Stream::Ignored);
                        }
                        return;
                    }
                    Err(failure) => {
                        self.request_failed(id, failure);
                        if !fin {
                            self.streams.insert(id, Stream::Ignored);
                        }
                        return;
                    }
                },
                RequestEvent::Close { code, reason } => self.on_close_capsule(code, reason),
            }
        }
        if fin {
            if Some(id) == self.session {
                self.on_connect_fin(request.close_received);
            } else if self.pending_request.as_ref().is_some_and(|(p, _)| *p == id) {
                // The client gave up on a request we had not answered yet.
                self.pending_request = None;
            }
            return;
        }
        let state = Stream::Request(Box::new(std::mem::replace(request, RequestStream::new())));
        self.streams.insert(id, state);
    }

    fn request_failed(&mut self, id: u64, failure: Failure) {
        match failure {
            Failure::Connection(e) => self.fail(e),
            Failure::Stream(e) => {
                self.refuse(id, true, e.code);
                if Some(id) == self.session {
                    self.session_over(e.code, e.reason);
                }
            }
        }
    }

    /// Walks a request stream's frames (RFC 9114 §4.1) and the capsules in its DATA frames
    /// (RFC 9297 §3.2).
    fn read_request(&self, request: &mut RequestStream, data: &[u8]) -> Result<Vec<RequestEvent>, Failure> {
        let mut events = Vec::new();
        let mut input = data;
        while let Some(event) = request.frames.poll(&mut input) {
            match event {
                FrameEvent::Header { ty, len } => match ty {
                    frame_type::HEADERS if !request.headers_done => {
                        if len > self.config.max_field_section_size {
                            return Err(Failure::Stream(H3Error::new(
                                error::H3_EXCESSIVE_LOAD,
                                "HEADERS frame too large",
                            )));
                        }
                        request.frames.buffer(ty);
                    }
                    frame_type::HEADERS => request.frames.skip(), // trailers: nothing to act on
                    frame_type::DATA if !request.headers_done => {
                        return Err(Failure::Connection(H3Error::new(
                            error::H3_FRAME_UNEXPECTED,
                            "DATA before HEADERS",
                        )));
                    }
                    frame_type::DATA => request.frames.stream(),
                    frame_type::WEBTRANSPORT_STREAM => {
                        return Err(Failure::Connection(H3Error::new(
                            error::H3_FRAME_ERROR,
                            "WT_STREAM inside a request stream",
                        )));
                    }
                    frame_type::PUSH_PROMISE if !self.is_server() => {
                        return Err(Failure::Connection(H3Error::new(
                            error::H3_ID_ERROR,
                            "PUSH_PROMISE without MAX_PUSH_ID",
                        )));
                    }
                    frame_type::SETTINGS
                    | frame_type::GOAWAY
                    | frame_type::MAX_PUSH_ID
                    | frame_type::CANCEL_PUSH
                    | frame_type::PUSH_PROMISE => {
                        return Err(Failure::Connection(H3Error::new(
                            error::H3_FRAME_UNEXPECTED,
                            "control frame on a request stream",
                        )));
                    }
                    t if frame_type::is_reserved_http2(t) => {
                        return Err(Failure::Connection(H3Error::new(
                            error::H3_FRAME_UNEXPECTED,
                            "HTTP/2 frame type",
                        )));
                    }
                    _ => request.frames.skip(),
                },
                FrameEvent::Payload { payload, .. } => {
                    let fields = match qpack::decode(&payload, self.config.max_field_section_size) {
                        Ok(fields) => fields,
                        Err(QpackError::TooLarge) => {
                            return Err(Failure::Stream(H3Error::new(
                                error::H3_EXCESSIVE_LOAD,
                                "field section too large",
                            )));
                        }
                        Err(QpackError::Decompression(reason)) => {
                            return Err(Failure::Connection(H3Error::new(
                                error::QPACK_DECOMPRESSION_FAILED,
                                reason,
                            )));
                        }
                    };
                    // A 1xx response is followed by the final one (RFC 9114 §4.1).
                    let interim = !self.is_server()
                        && fields.iter().any(|(n, v)| n.as_slice() == b":status" && v.first() == Some(&b'1'));
                    if !interim {
                        request.headers_done = true;
                        events.push(RequestEvent::Headers(fields));
                    }
                }
                FrameEvent::Chunk(chunk) => {
                    let mut capsule_input = chunk;
                    while let Some(event) = request.capsules.poll(&mut capsule_input) {
                        if request.close_received {
                            return Err(Failure::Stream(H3Error::new(
                                error::H3_MESSAGE_ERROR,
                                "data after WT_CLOSE_SESSION",
                            )));
                        }
                        match event {
                            FrameEvent::Header { ty, len } => {
                                if ty == codes::capsule_type::WT_CLOSE_SESSION {
                                    if len < 4 || len > 4 + self.config.max_close_message as u64 {
                                        return Err(Failure::Connection(H3Error::new(
                                            error::WT_INVALID_CAPSULE,
                                            "bad WT_CLOSE_SESSION length",
                                        )));
                                    }
                                    request.capsules.buffer(ty);
                                } else {
                                    request.capsules.skip(); // DRAIN, GREASE, unknown (RFC 9297 §3.2)
                                }
                            }
                            FrameEvent::Payload { payload, .. } => {
                                let (code, reason) =
                                    capsule::parse_close(&payload).ok_or(Failure::Connection(
                                        H3Error::new(error::WT_INVALID_CAPSULE, "bad WT_CLOSE_SESSION"),
                                    ))?;
                                request.close_received = true;
                                events.push(RequestEvent::Close { code, reason });
                            }
                            FrameEvent::Chunk(_) => {}
                        }
                    }
                }
            }
        }
        Ok(events)
    }

    /// Acts on a request's or response's fields; `Ok(false)` when the stream is done with
    /// (answered and finished, or refused).
    fn on_headers(&mut self, id: u64, fields: &[qpack::Field]) -> Result<bool, Failure> {
        match &self.role {
            Role::Server { .. } => match message::parse_request(fields).map_err(Failure::Stream)? {
                Request::Other { status } => {
                    self.respond(id, status, None, true);
                    Ok(false)
                }
                Request::WebTransport(request) => {
                    if self.peer_settings.is_some() {
                        Ok(self.answer_request(id, request))
                    } else {
                        // draft-ietf-webtrans-http3 §3.1: not before the client's SETTINGS.
                        self.pending_request = Some((id, request));
                        Ok(true)
                    }
                }
            },
            Role::Client { offered, .. } => {
                if Some(id) != self.session || self.phase != Phase::Requested {
                    return Err(Failure::Connection(H3Error::new(
                        error::H3_FRAME_UNEXPECTED,
                        "second response",
                    )));
                }
                match message::parse_response(fields, offered).map_err(Failure::Stream)? {
                    Response::Interim => Ok(true),
                    Response::Accepted { protocol } => {
                        let protocol = protocol.or_else(|| self.default_protocol.clone());
                        self.establish(protocol, String::new());
                        Ok(true)
                    }
                    Response::Refused { status } => {
                        self.phase = Phase::Closed;
                        self.reject_buffered(error::WT_SESSION_GONE);
                        self.out.push_back(WtOutput::Closed {
                            code: error::H3_REQUEST_REJECTED,
                            reason: format!("HTTP status {status}"),
                        });
                        Ok(false)
                    }
                }
            }
        }
    }

    /// Server: accepts or refuses a WebTransport CONNECT; true when accepted.
    fn answer_request(&mut self, id: u64, request: ConnectRequest) -> bool {
        let Role::Server { supported } = &self.role else { return false };
        let chosen = if request.protocols.is_empty() {
            self.default_protocol.clone().map(|p| (p, false))
        } else {
            supported.iter().find(|p| request.protocols.contains(p)).cloned().map(|p| (p, true))
        };
        if !self.peer_settings.as_ref().is_some_and(Settings::supports_webtransport) {
            // draft-ietf-webtrans-http3 §3.1: a request without datagrams enabled is malformed.
            self.refuse(id, true, error::H3_MESSAGE_ERROR);
            return false;
        }
        let Some((protocol, echo)) = chosen else {
            self.respond(id, 400, None, true);
            return false;
        };
        self.respond(id, 200, echo.then_some(protocol.as_str()), false);
        self.session = Some(id);
        self.establish(Some(protocol), request.path);
        true
    }

    fn respond(&mut self, id: u64, status: u16, protocol: Option<&str>, fin: bool) {
        let data = message::encode_response(status, protocol).unwrap_or_default();
        self.out.push_back(WtOutput::Write { stream: id, data: Bytes::from(data), fin });
        if fin {
            // Nothing more of this request is read.
            self.out.push_back(WtOutput::StopSending { stream: id, code: error::H3_NO_ERROR });
        }
    }

    fn establish(&mut self, protocol: Option<String>, path: String) {
        self.phase = Phase::Established;
        self.out.push_back(WtOutput::Ready { protocol, path });
        // Streams that arrived first.
        let ids: Vec<u64> = self
            .streams
            .iter()
            .filter(|(_, s)| matches!(s, Stream::Buffered { .. }))
            .map(|(id, _)| *id)
            .collect();
        let mut ids = ids;
        ids.sort_unstable();
        for id in ids {
            let Some(Stream::Buffered { bidi, session, chunks, fin, .. }) = self.streams.remove(&id) else {
                continue;
            };
            self.buffered_streams = self.buffered_streams.saturating_sub(1);
            if Some(session) != self.session {
                self.refuse(id, bidi, error::WT_BUFFERED_STREAM_REJECTED);
                if !fin {
                    self.streams.insert(id, Stream::Ignored);
                }
                continue;
            }
            self.out.push_back(WtOutput::StreamOpened { stream: id, bidi });
            let n = chunks.len();
            for (i, data) in chunks.into_iter().enumerate() {
                self.out.push_back(WtOutput::StreamData { stream: id, data, fin: fin && i + 1 == n });
            }
            if n == 0 && fin {
                self.out.push_back(WtOutput::StreamData { stream: id, data: Bytes::new(), fin: true });
            }
            if !fin {
                self.streams.insert(id, Stream::Session);
            }
        }
    }

    fn reject_buffered(&mut self, code: u64) {
        let ids: Vec<(u64, bool)> = self
            .streams
            .iter()
            .filter_map(|(id, s)| match s {
                Stream::Buffered { bidi, .. } => Some((*id, *bidi)),
                _ => None,
            })
            .collect();
        for (id, bidi) in ids {
            self.streams.insert(id, Stream::Ignored);
            self.refuse(id, bidi, code);
        }
        self.buffered_streams = 0;
    }

    fn on_close_capsule(&mut self, code: u32, reason: String) {
        match self.phase {
            Phase::Established => {
                self.phase = Phase::Closed;
                self.out.push_back(WtOutput::Closed { code: u64::from(code), reason });
                if let Some(session) = self.session {
                    // The recipient closes its side in response (draft §6).
                    self.out.push_back(WtOutput::Write { stream: session, data: Bytes::new(), fin: true });
                }
            }
            Phase::Closing => self.finish_close(),
            _ => {}
        }
    }

    fn on_connect_fin(&mut self, close_received: bool) {
        match self.phase {
            // A FIN without a capsule is a close with code 0 (draft §6).
            Phase::Established if !close_received => self.on_close_capsule(0, String::new()),
            Phase::Closing => self.finish_close(),
            Phase::Requested => self.session_over(error::H3_REQUEST_INCOMPLETE, "CONNECT stream finished"),
            _ => {}
        }
    }

    /// Both sides have closed the CONNECT stream: the connection can go.
    fn finish_close(&mut self) {
        self.phase = Phase::Closed;
        self.out.push_back(WtOutput::CloseConnection { code: error::H3_NO_ERROR, reason: String::new() });
    }

    /// The session ended abnormally (CONNECT stream reset or refused mid-way).
    fn session_over(&mut self, code: u64, reason: &str) {
        match self.phase {
            Phase::Closing => self.finish_close(),
            Phase::Closed => {}
            _ => {
                self.phase = Phase::Closed;
                self.reject_buffered(error::WT_SESSION_GONE);
                self.out.push_back(WtOutput::Closed { code, reason: reason.into() });
                self.out.push_back(WtOutput::CloseConnection { code, reason: reason.into() });
            }
        }
    }
}

/// Why reading a request stream stopped.
enum Failure {
    Connection(H3Error),
    Stream(H3Error),
}

/// The result of reading a stream's first varints.
enum Prefix {
    Incomplete,
    /// `ty` is the stream type (uni) or first frame type/signal (bidi); `session` is parsed
    /// for WebTransport types; `used` counts the bytes consumed (for non-WebTransport
    /// bidi streams nothing is consumed: the frame parser re-reads from the start).
    Done {
        ty: u64,
        session: Option<u64>,
        used: usize,
    },
}

fn parse_prefix(buf: &[u8]) -> Prefix {
    let Some((ty, a)) = decode_quic(buf) else { return Prefix::Incomplete };
    if ty == stream_type::WEBTRANSPORT_UNI || ty == frame_type::WEBTRANSPORT_STREAM {
        let Some((session, b)) = buf.get(a..).and_then(decode_quic) else { return Prefix::Incomplete };
        return Prefix::Done { ty, session: Some(session), used: a + b };
    }
    Prefix::Done { ty, session: None, used: a }
}

/// What a [`WtConnection`] holds of peer input, for the fuzz invariants (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
#[derive(Debug, Default)]
pub struct Held {
    /// The count of held session streams the connection keeps.
    pub buffered_count: usize,
    /// Streams actually in the buffered state.
    pub buffered_streams: usize,
    /// Per buffered stream: (bytes counted, bytes in its chunks).
    pub buffered_bytes: Vec<(usize, usize)>,
    /// Largest partial stream prefix held.
    pub identifying: usize,
    /// Largest control stream frame bytes held.
    pub control: usize,
    /// Largest request stream frame bytes held.
    pub request_frames: usize,
    /// Largest request stream capsule bytes held.
    pub request_capsules: usize,
}

#[cfg(feature = "fuzzing")]
impl WtConnection {
    /// What is held now; see [`Held`].
    pub fn held(&self) -> Held {
        let mut held = Held { buffered_count: self.buffered_streams, ..Held::default() };
        for stream in self.streams.values() {
            match stream {
                Stream::Identifying { buf, .. } => held.identifying = held.identifying.max(buf.len()),
                Stream::Control { reader, .. } => held.control = held.control.max(reader.held()),
                Stream::Request(request) => {
                    held.request_frames = held.request_frames.max(request.frames.held());
                    held.request_capsules = held.request_capsules.max(request.capsules.held());
                }
                Stream::Buffered { chunks, bytes, .. } => {
                    held.buffered_streams += 1;
                    held.buffered_bytes.push((*bytes, chunks.iter().map(Bytes::len).sum()));
                }
                Stream::Qpack | Stream::Ignored | Stream::Session => {}
            }
        }
        held
    }
}
