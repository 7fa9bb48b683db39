//! WebTransport glue: runs a [`sluice_wt::WtConnection`] between quinn-proto and the MoQ
//! [`Session`](sluice::Session) of a [`Connection`] whose ALPN is `h3`.
//!
//! * **Handshake.** Both sides open their control stream (SETTINGS). The client sends the
//!   extended CONNECT once the server's SETTINGS arrived, offering its MoQ versions' ALPN
//!   strings in `WT-Available-Protocols`; the server answers `200` with the first of its own
//!   versions (its preference order, as for ALPN on raw QUIC) that the client offered, in
//!   `WT-Protocol`. The session gets `Input::Connected` with that version only then.
//! * **Default version.** A client that sends no `WT-Available-Protocols` (moq-transport's
//!   WebTransport client does so and speaks draft-18) is served MOQT draft-18
//!   ([`DEFAULT_VERSION`]), if the server speaks it; otherwise the server's most preferred
//!   version. A server whose `200` names no protocol is taken to speak draft-18 when the
//!   client offered it, else the client's first version.
//! * **Streams.** Streams the session opens get the WebTransport prefix (`0x54`/`0x41` +
//!   session id) queued ahead of their first byte; incoming streams go through the
//!   `WtConnection`, which strips the prefix before the session sees a byte. Reset and
//!   STOP_SENDING codes are mapped into and out of the WT_APPLICATION_ERROR range.
//! * **Datagrams** carry the quarter stream id.
//! * **Close.** `Output::Close` becomes WT_CLOSE_SESSION + FIN on the CONNECT stream; the
//!   QUIC connection is closed (H3_NO_ERROR) once the peer finished its side. A peer's close
//!   reaches the session as `Input::Closed` with the capsule's code and message.
//!
//! Streams the WebTransport layer owns (control, CONNECT) share the connection's send queues
//! under their QUIC id and never reach the session.

use std::collections::{HashSet, VecDeque};
use std::time::Instant;

use bytes::Bytes;
use quinn_proto::{Dir, VarInt};
use sluice::{Input, MoqtVersion, StreamId, Version};
use sluice_wt::{WtConnection, WtOutput, codes};

use crate::connection::Connection;

/// What a server speaks to a WebTransport client that names no version, and what a client
/// assumes when the server's response names none (if it offered it).
pub const DEFAULT_VERSION: Version = Version::Moqt(MoqtVersion::Draft18);

/// A stream the WebTransport layer asked for while QUIC had no credit.
#[derive(Debug)]
struct DeferredOpen {
    bidi: bool,
    data: Bytes,
}

/// The WebTransport state of one connection.
#[derive(Debug)]
pub(crate) struct WebTransport {
    wt: WtConnection,
    /// QUIC streams the layer writes on (control, CONNECT).
    owned: HashSet<quinn_proto::StreamId>,
    deferred: VecDeque<DeferredOpen>,
    /// The QUIC handshake is done (streams may be accepted).
    connected: bool,
}

impl WebTransport {
    fn new(wt: WtConnection) -> WebTransport {
        WebTransport { wt, owned: HashSet::new(), deferred: VecDeque::new(), connected: false }
    }
}

fn alpns(versions: &[Version]) -> Vec<String> {
    versions.iter().map(|v| v.alpn().to_string()).collect()
}

/// A session close code as WT_CLOSE_SESSION's 32 bits (larger codes saturate).
fn close_code(code: u64) -> u32 {
    u32::try_from(code).unwrap_or(u32::MAX)
}

impl Connection {
    /// Makes this (client) connection a WebTransport one; `name_versions` false sends no
    /// `WT-Available-Protocols` (the default version then applies).
    pub(crate) fn start_webtransport_client(
        &mut self,
        authority: &str,
        path: &str,
        versions: &[Version],
        name_versions: bool,
    ) {
        let default = if versions.contains(&DEFAULT_VERSION) {
            Some(DEFAULT_VERSION)
        } else {
            versions.first().copied()
        };
        let wt = WtConnection::client(
            sluice_wt::Config::default(),
            authority,
            path,
            if name_versions { alpns(versions) } else { Vec::new() },
            default.map(|v| v.alpn().to_string()),
        );
        self.wt = Some(Box::new(WebTransport::new(wt)));
    }

    /// Makes this (server) connection a WebTransport one; it speaks `Version::ALL` in
    /// sluice's preference order.
    pub(crate) fn start_webtransport_server(&mut self) {
        let supported = Version::ALL;
        let default = if supported.contains(&DEFAULT_VERSION) {
            Some(DEFAULT_VERSION)
        } else {
            supported.first().copied()
        };
        let wt = WtConnection::server(
            sluice_wt::Config::default(),
            alpns(&supported),
            default.map(|v| v.alpn().to_string()),
        );
        self.wt = Some(Box::new(WebTransport::new(wt)));
    }

    /// True when this connection runs WebTransport.
    pub fn is_webtransport(&self) -> bool {
        self.wt.is_some()
    }

    pub(crate) fn wt_is_owned(&self, id: quinn_proto::StreamId) -> bool {
        self.wt.as_ref().is_some_and(|w| w.owned.contains(&id))
    }

    /// The QUIC handshake completed with ALPN `h3`.
    pub(crate) fn wt_connected(&mut self, now: Instant) {
        if let Some(wt) = self.wt.as_mut() {
            wt.connected = true;
        }
        self.wt_drain(now);
        self.accept_streams(now, Dir::Bi);
        self.accept_streams(now, Dir::Uni);
    }

    pub(crate) fn wt_accepting(&self) -> bool {
        self.wt.as_ref().is_some_and(|w| w.connected)
    }

    pub(crate) fn wt_stream_data(&mut self, now: Instant, id: quinn_proto::StreamId, data: Bytes, fin: bool) {
        if let Some(w) = self.wt.as_mut() {
            w.wt.stream_data(VarInt::from(id).into_inner(), data, fin);
        }
        self.wt_drain(now);
    }

    pub(crate) fn wt_stream_reset(&mut self, now: Instant, id: quinn_proto::StreamId, code: u64) {
        if let Some(w) = self.wt.as_mut() {
            w.wt.stream_reset(VarInt::from(id).into_inner(), code);
        }
        self.wt_drain(now);
    }

    pub(crate) fn wt_datagram(&mut self, now: Instant, datagram: Bytes) {
        let payload = self.wt.as_mut().and_then(|w| w.wt.unwrap_datagram(datagram));
        self.wt_drain(now);
        if let Some(payload) = payload {
            self.input(now, Input::Datagram(payload));
        }
    }

    pub(crate) fn wt_send_datagram(&mut self, payload: &[u8]) {
        if let Some(datagram) = self.wt.as_ref().and_then(|w| w.wt.wrap_datagram(payload)) {
            let _ = self.quic.datagrams().send(datagram, true);
        }
    }

    pub(crate) fn wt_close(&mut self, now: Instant, code: u64, reason: &str) {
        if let Some(w) = self.wt.as_mut() {
            w.wt.close(close_code(code), reason);
        }
        self.wt_drain(now);
    }

    pub(crate) fn wt_connection_lost(&mut self, now: Instant, code: u64, reason: &str) {
        if let Some(w) = self.wt.as_mut() {
            w.wt.connection_lost(code, reason);
        }
        self.wt_drain(now);
    }

    /// The prefix to queue ahead of a session stream's bytes.
    pub(crate) fn wt_stream_prefix(&self, bidi: bool) -> Option<Bytes> {
        self.wt.as_ref().and_then(|w| w.wt.stream_prefix(bidi))
    }

    /// A session reset/stop code as the HTTP/3 code on the wire.
    pub(crate) fn wt_error_code(&self, code: u64) -> u64 {
        if self.wt.is_some() { codes::app_error_to_h3(close_code(code)) } else { code }
    }

    /// A peer's HTTP/3 stop code as the session's code.
    pub(crate) fn wt_peer_code(&self, code: u64) -> u64 {
        if self.wt.is_some() { codes::h3_to_app_error(code).map_or(code, u64::from) } else { code }
    }

    /// Opens streams the layer asked for while credit was short.
    pub(crate) fn wt_open_deferred(&mut self, now: Instant) {
        let Some(w) = self.wt.as_mut() else { return };
        let pending: Vec<DeferredOpen> = w.deferred.drain(..).collect();
        for open in pending {
            self.wt_open(now, open.bidi, open.data);
        }
    }

    fn wt_open(&mut self, now: Instant, bidi: bool, data: Bytes) {
        let dir = if bidi { Dir::Bi } else { Dir::Uni };
        let Some(id) = self.quic.streams().open(dir) else {
            if let Some(w) = self.wt.as_mut() {
                w.deferred.push_back(DeferredOpen { bidi, data });
            }
            return;
        };
        if let Some(w) = self.wt.as_mut() {
            w.owned.insert(id);
            if bidi {
                w.wt.connect_stream_opened(VarInt::from(id).into_inner());
            }
        }
        // Ahead of every session stream.
        let _ = self.quic.send_stream(id).set_priority(i32::MAX);
        self.wt_write(now, id, data, false);
    }

    fn wt_write(&mut self, now: Instant, id: quinn_proto::StreamId, data: Bytes, fin: bool) {
        let name = StreamId(VarInt::from(id).into_inner());
        let queue = self.send.entry(name).or_default();
        if !data.is_empty() {
            queue.push_back(data);
        }
        queue.fin |= fin;
        self.write_queued(now, name);
    }

    /// Carries out everything the WebTransport layer asked for.
    pub(crate) fn wt_drain(&mut self, now: Instant) {
        while let Some(output) = self.wt.as_mut().and_then(|w| w.wt.poll()) {
            match output {
                WtOutput::OpenControl { data } => self.wt_open(now, false, data),
                WtOutput::OpenConnect { data } => self.wt_open(now, true, data),
                WtOutput::Write { stream, data, fin } => {
                    if let Ok(v) = VarInt::from_u64(stream) {
                        self.wt_write(now, quinn_proto::StreamId::from(v), data, fin);
                    }
                }
                WtOutput::Reset { stream, code } => {
                    if let (Ok(v), Ok(code)) = (VarInt::from_u64(stream), VarInt::from_u64(code)) {
                        let id = quinn_proto::StreamId::from(v);
                        self.send.remove(&StreamId(stream));
                        self.unacked.remove(&id);
                        let _ = self.quic.send_stream(id).reset(code);
                    }
                }
                WtOutput::StopSending { stream, code } => {
                    if let (Ok(v), Ok(code)) = (VarInt::from_u64(stream), VarInt::from_u64(code)) {
                        let _ = self.quic.recv_stream(quinn_proto::StreamId::from(v)).stop(code);
                    }
                }
                WtOutput::CloseConnection { code, reason } => {
                    let code = VarInt::from_u64(code).unwrap_or(VarInt::MAX);
                    self.quic.close(now, code, Bytes::from(reason.into_bytes()));
                }
                WtOutput::Ready { protocol, .. } => {
                    match protocol.as_deref().and_then(|p| Version::from_alpn(p.as_bytes())) {
                        Some(version) => {
                            // PATH / AUTHORITY travel in the CONNECT request (§10.3.1).
                            self.session().set_webtransport(true);
                            self.input(now, Input::Connected { version })
                        }
                        None => {
                            let reason = "no MoQ version negotiated over WebTransport";
                            self.wt_close(now, u64::from(crate::connection::NO_VERSION_CLOSE_CODE), reason);
                            self.input(
                                now,
                                Input::Closed {
                                    code: u64::from(crate::connection::NO_VERSION_CLOSE_CODE),
                                    reason: Bytes::from_static(reason.as_bytes()),
                                },
                            );
                        }
                    }
                }
                WtOutput::StreamOpened { stream, bidi } => {
                    self.input(now, Input::StreamOpened { stream: StreamId(stream), bidi });
                }
                WtOutput::StreamData { stream, data, fin } => {
                    let Ok(v) = VarInt::from_u64(stream) else { continue };
                    let id = quinn_proto::StreamId::from(v);
                    let name = self.core_name(id);
                    if !data.is_empty() {
                        self.input(now, Input::StreamData { stream: name, data });
                    }
                    if fin {
                        self.input(now, Input::StreamFinished { stream: name });
                        self.forget_recv(name, id);
                    }
                }
                WtOutput::StreamReset { stream, code } => {
                    let Ok(v) = VarInt::from_u64(stream) else { continue };
                    let id = quinn_proto::StreamId::from(v);
                    let name = self.core_name(id);
                    self.input(now, Input::StreamReset { stream: name, code });
                    self.forget_recv(name, id);
                }
                WtOutput::Closed { code, reason } => {
                    self.input(now, Input::Closed { code, reason: Bytes::from(reason.into_bytes()) });
                }
            }
        }
    }
}
