//! Fuzz target bodies (feature `fuzzing`), shared by `fuzz/` (libFuzzer) and the stable
//! corpus replay in `tests/fuzz_corpus.rs`.
//!
//! [`wt_connection`] plays an arbitrary sequence of peer stream opens, data chunks, FINs,
//! resets and datagrams (plus valid SETTINGS / CONNECT / response / close steps so the
//! session gets established) against a client or a server [`WtConnection`] with small
//! limits, as a QUIC stack would deliver them (nothing after a FIN or reset). Checked beyond
//! "no panic": held bytes stay within the [`Config`] limits; `StreamOpened` once per peer
//! stream and only after `Ready`; `StreamData` only for an opened (or locally opened)
//! stream, never after its FIN, and its bytes are exactly what the peer sent after the
//! WebTransport prefix; `Ready`, `Closed` and `CloseConnection` at most once; datagrams
//! unwrap only for the established session and round-trip through `wrap_datagram`.
//!
//! [`wt_qpack`] decodes arbitrary field sections, Huffman strings and structured fields;
//! whatever decodes is re-encoded and must decode to the same thing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::HashMap;

use arbitrary::Unstructured;
use bytes::Bytes;
use sluice_wire::varint::decode_quic;

use crate::codes::{capsule_type, frame_type, stream_type};
use crate::frame::{self, put_frame, put_varint};
use crate::{Config, WtConnection, WtOutput, capsule, huffman, message, qpack, sfv};

const PROTOCOLS: [&str; 3] = ["moqt-18", "moq-lite-05", "x\"y"];

/// The session-layer view of one QUIC stream, as the driver fed it and as it came out.
#[derive(Default)]
struct Track {
    fed: Vec<u8>,
    ended: bool,
    delivered: Vec<u8>,
    opened: bool,
    finished: bool,
}

struct Driver<'a> {
    u: Unstructured<'a>,
    conn: WtConnection,
    config: Config,
    server: bool,
    streams: HashMap<u64, Track>,
    next_remote: [u64; 2],
    ready: bool,
    closed: bool,
    connection_closed: bool,
    connect_asked: bool,
    seen_ids: Vec<u64>,
}

/// One stream id of `initiator` (true: the peer) and direction.
fn stream_id(n: u64, server_initiated: bool, uni: bool) -> u64 {
    (n << 2) | u64::from(uni) << 1 | u64::from(server_initiated)
}

impl Driver<'_> {
    fn small(&mut self, max: u8) -> u8 {
        self.u.int_in_range(0..=max).unwrap_or(0)
    }

    fn flag(&mut self) -> bool {
        self.u.arbitrary::<bool>().unwrap_or(false)
    }

    fn blob(&mut self) -> Vec<u8> {
        let len = usize::from(self.small(255));
        let len = len.min(self.u.len());
        self.u.bytes(len).unwrap_or_default().to_vec()
    }

    fn pick_seen(&mut self) -> u64 {
        let i = usize::from(self.small(255));
        self.seen_ids[i % self.seen_ids.len()]
    }

    fn is_local(&self, id: u64) -> bool {
        (id & 1 == 1) == self.server
    }

    /// A fresh peer-initiated stream id.
    fn fresh_remote(&mut self, uni: bool) -> u64 {
        let n = self.next_remote[usize::from(uni)];
        self.next_remote[usize::from(uni)] += 1;
        stream_id(n, !self.server, uni)
    }

    /// Feeds `bytes` on `id` in arbitrary chunks, the last carrying `fin`. Nothing is fed
    /// after a FIN or a reset, as QUIC guarantees.
    fn feed(&mut self, id: u64, bytes: &[u8], fin: bool) {
        let track = self.streams.entry(id).or_default();
        if track.ended {
            return;
        }
        if !self.seen_ids.contains(&id) {
            self.seen_ids.push(id);
        }
        let mut rest = bytes;
        loop {
            // A chunk of 1..=254 bytes, or (0) all the rest.
            let n = usize::from(self.small(255));
            let last = n == 0 || n >= rest.len() || self.u.is_empty();
            let cut = if last { rest.len() } else { n };
            let (chunk, tail) = rest.split_at(cut);
            rest = tail;
            let track = self.streams.entry(id).or_default();
            track.fed.extend_from_slice(chunk);
            track.ended = last && fin;
            self.conn.stream_data(id, Bytes::copy_from_slice(chunk), last && fin);
            self.check();
            if last {
                return;
            }
        }
    }

    fn reset(&mut self, id: u64, code: u64) {
        let track = self.streams.entry(id).or_default();
        if track.ended {
            return;
        }
        track.ended = true;
        self.conn.stream_reset(id, code);
        self.check();
    }

    /// Drains the outputs and checks them, then the held state.
    fn check(&mut self) {
        while let Some(output) = self.conn.poll() {
            match output {
                WtOutput::Ready { .. } => {
                    assert!(!self.ready, "Ready twice");
                    assert!(!self.closed, "Ready after Closed");
                    self.ready = true;
                }
                WtOutput::Closed { .. } => {
                    assert!(!self.closed, "Closed twice");
                    self.closed = true;
                }
                WtOutput::CloseConnection { .. } => {
                    assert!(!self.connection_closed, "CloseConnection twice");
                    self.connection_closed = true;
                }
                WtOutput::OpenConnect { data } => {
                    assert!(!self.server && !self.connect_asked, "unexpected OpenConnect");
                    assert!(!data.is_empty());
                    self.connect_asked = true;
                }
                WtOutput::StreamOpened { stream, bidi } => {
                    assert!(!self.is_local(stream), "StreamOpened for local stream {stream}");
                    assert_eq!(bidi, stream & 2 == 0, "StreamOpened direction of {stream}");
                    assert!(self.ready, "StreamOpened {stream} before Ready");
                    let track = self.streams.entry(stream).or_default();
                    assert!(!track.opened, "StreamOpened twice for {stream}");
                    track.opened = true;
                }
                WtOutput::StreamData { stream, data, fin } => {
                    let local = self.is_local(stream);
                    let track = self.streams.entry(stream).or_default();
                    assert!(local || track.opened, "StreamData for unopened stream {stream}");
                    assert!(!track.finished, "StreamData after FIN/reset on {stream}");
                    track.delivered.extend_from_slice(&data);
                    let body = if local { &track.fed[..] } else { after_prefix(&track.fed) };
                    assert!(
                        body.starts_with(&track.delivered),
                        "StreamData on {stream} is not what the peer sent"
                    );
                    if fin {
                        assert!(track.ended, "FIN delivered on {stream} before the peer's");
                        assert_eq!(body.len(), track.delivered.len(), "FIN on {stream} with bytes missing");
                        track.finished = true;
                    }
                }
                WtOutput::StreamReset { stream, .. } => {
                    let local = self.is_local(stream);
                    let track = self.streams.entry(stream).or_default();
                    assert!(local || track.opened, "StreamReset for unopened stream {stream}");
                    assert!(!track.finished, "StreamReset after FIN on {stream}");
                    track.finished = true;
                }
                WtOutput::OpenControl { .. }
                | WtOutput::Write { .. }
                | WtOutput::Reset { .. }
                | WtOutput::StopSending { .. } => {}
            }
        }
        let held = self.conn.held();
        assert_eq!(held.buffered_count, held.buffered_streams, "buffered stream count drifted");
        assert!(held.buffered_streams <= self.config.max_buffered_streams, "too many buffered streams");
        for (counted, actual) in held.buffered_bytes {
            assert_eq!(counted, actual, "buffered byte count drifted");
            assert!(actual <= self.config.max_buffered_bytes, "buffered bytes over the limit");
        }
        assert!(held.identifying <= 16, "stream prefix buffer grew");
        let header = 16;
        let settings = (self.config.max_settings as u64).saturating_mul(16);
        assert!(held.control as u64 <= settings.max(header), "control frame buffer over the limit");
        assert!(
            held.request_frames as u64 <= self.config.max_field_section_size.max(header),
            "HEADERS buffer over the limit"
        );
        let close = 4 + self.config.max_close_message;
        assert!(held.request_capsules <= close.max(16), "capsule buffer over the limit");
    }

    fn datagram(&mut self, datagram: Vec<u8>) {
        let established = self.conn.is_established();
        let session = self.conn.session_id();
        let parsed = decode_quic(&datagram);
        let got = self.conn.unwrap_datagram(Bytes::from(datagram.clone()));
        if let Some(payload) = got {
            let (quarter, used) = parsed.expect("unwrapped a datagram without a quarter stream id");
            assert!(established, "datagram unwrapped outside the established session");
            assert_eq!(Some(quarter * 4), session, "datagram of another session unwrapped");
            assert_eq!(&payload[..], &datagram[used..]);
        } else {
            assert!(!established || parsed.is_none() || Some(parsed.unwrap().0.saturating_mul(4)) != session);
        }
        if self.conn.is_established() {
            let wrapped = self.conn.wrap_datagram(&datagram).expect("wrap on an established session");
            assert_eq!(self.conn.unwrap_datagram(wrapped).as_deref(), Some(&datagram[..]));
        }
        self.check();
    }

    fn step(&mut self) {
        match self.small(13) {
            0 => {
                // The peer's control stream with its real SETTINGS.
                let settings = frame::local_settings(!self.server, 16 * 1024);
                let bytes = frame::control_stream_preamble(&settings);
                let id = self.fresh_remote(true);
                self.feed(id, &bytes, false);
            }
            1 => {
                // Server: a CONNECT request on a fresh client bidi stream.
                let mut offered = Vec::new();
                for p in PROTOCOLS {
                    if self.flag() {
                        offered.push(p.to_string());
                    }
                }
                let bytes = message::encode_request("example.com:443", "/moq", &offered).unwrap_or_default();
                let id = if self.server { self.fresh_remote(false) } else { 0 };
                let fin = self.flag();
                self.feed(id, &bytes, fin);
            }
            2 => {
                // Client: a response on the CONNECT stream.
                let status = [200, 101, 404, 299, 200][usize::from(self.small(4))];
                let protocol =
                    [None, Some("moqt-18"), Some("moq-lite-05"), Some("other")][usize::from(self.small(3))];
                let bytes = message::encode_response(status, protocol).unwrap_or_default();
                let id = self.conn.session_id().unwrap_or(0);
                self.feed(id, &bytes, false);
            }
            3 => {
                // The contract: a client bidi stream id.
                let id = stream_id(u64::from(self.small(3)), false, false);
                self.conn.connect_stream_opened(id);
                self.check();
            }
            4 => {
                // A WebTransport stream (uni or bidi) for the session, another one, or a bad id.
                let uni = self.flag();
                let session = match self.small(3) {
                    0 => u64::from(self.small(3)) * 4 + 1,
                    1 => u64::from(self.small(15)) * 4,
                    _ => self.conn.session_id().unwrap_or(0),
                };
                let mut bytes = Vec::new();
                put_varint(
                    &mut bytes,
                    if uni { stream_type::WEBTRANSPORT_UNI } else { frame_type::WEBTRANSPORT_STREAM },
                );
                put_varint(&mut bytes, session);
                bytes.extend(self.blob());
                let id = self.fresh_remote(uni);
                let fin = self.flag();
                self.feed(id, &bytes, fin);
            }
            5 => {
                // Arbitrary bytes on an arbitrary stream (local uni streams receive nothing).
                let id = u64::from(self.small(63));
                if self.is_local(id) && id & 2 != 0 {
                    return;
                }
                let bytes = self.blob();
                let fin = self.flag();
                self.feed(id, &bytes, fin);
            }
            6 => {
                // More bytes on a stream already fed.
                if self.seen_ids.is_empty() {
                    return;
                }
                let id = self.pick_seen();
                let bytes = self.blob();
                let fin = self.flag();
                self.feed(id, &bytes, fin);
            }
            7 => {
                let id = if self.seen_ids.is_empty() || self.flag() {
                    u64::from(self.small(63))
                } else {
                    self.pick_seen()
                };
                let code = match self.small(2) {
                    0 => crate::codes::app_error_to_h3(u32::from(self.small(255))),
                    1 => 0x100 + u64::from(self.small(15)),
                    _ => u64::from(self.small(255)),
                };
                self.reset(id, code);
            }
            8 => {
                let bytes = self.blob();
                self.datagram(bytes);
            }
            9 => {
                // The peer closes the session: WT_CLOSE_SESSION in a DATA frame, maybe FIN.
                let reason = String::from_utf8_lossy(&self.blob()).into_owned();
                let mut close = capsule::close_session(u32::from(self.small(255)), &reason);
                if self.flag() {
                    // A capsule to skip first.
                    let mut other = Vec::new();
                    put_frame(&mut other, 0x1234, b"skip me");
                    other.extend(close);
                    close = other;
                }
                let mut bytes = Vec::new();
                put_frame(&mut bytes, frame_type::DATA, &close);
                let id = self.conn.session_id().unwrap_or(0);
                let fin = self.flag();
                self.feed(id, &bytes, fin);
            }
            10 => {
                let reason = String::from_utf8_lossy(&self.blob()).into_owned();
                let code = u32::from(self.small(255));
                self.conn.close(code, &reason);
                self.check();
            }
            11 => {
                self.conn.connection_lost(0x100, "lost");
                self.check();
            }
            12 => {
                // A QPACK stream, or a frame with a capsule type on a fresh stream.
                let ty =
                    [stream_type::QPACK_ENCODER, stream_type::QPACK_DECODER, capsule_type::WT_CLOSE_SESSION]
                        [usize::from(self.small(2))];
                let mut bytes = Vec::new();
                put_varint(&mut bytes, ty);
                bytes.extend(self.blob());
                let uni = self.flag();
                let id = self.fresh_remote(uni);
                let fin = self.flag();
                self.feed(id, &bytes, fin);
            }
            _ => {
                // Stream data on a stream this side opened (bidi: the application's own).
                let id = stream_id(u64::from(self.small(7)), self.server, false);
                let bytes = self.blob();
                let fin = self.flag();
                self.feed(id, &bytes, fin);
            }
        }
    }
}

/// A peer stream's bytes after its WebTransport prefix (type, session id).
fn after_prefix(fed: &[u8]) -> &[u8] {
    let Some((_, a)) = decode_quic(fed) else { return &[] };
    let Some((_, b)) = decode_quic(&fed[a..]) else { return &[] };
    &fed[a + b..]
}

/// Drives a client or server [`WtConnection`] with the steps `data` encodes.
pub fn wt_connection(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let server = u.arbitrary::<bool>().unwrap_or(false);
    let config = if u.arbitrary::<bool>().unwrap_or(false) {
        Config::default()
    } else {
        Config {
            max_field_section_size: u.int_in_range(0..=1024).unwrap_or(0),
            max_settings: u.int_in_range(0..=16).unwrap_or(0),
            max_buffered_streams: u.int_in_range(0..=4).unwrap_or(0),
            max_buffered_bytes: u.int_in_range(0..=512).unwrap_or(0),
            max_close_message: u.int_in_range(0..=64).unwrap_or(0),
        }
    };
    let default_protocol = u.arbitrary::<bool>().unwrap_or(false).then(|| "moqt-18".to_string());
    let conn = if server {
        WtConnection::server(config.clone(), vec!["moq-lite-05".into(), "moqt-18".into()], default_protocol)
    } else {
        WtConnection::client(
            config.clone(),
            "example.com:443",
            "/moq",
            vec!["moqt-18".into()],
            default_protocol,
        )
    };
    let mut driver = Driver {
        u,
        conn,
        config,
        server,
        streams: HashMap::new(),
        next_remote: [0, 0],
        ready: false,
        closed: false,
        connection_closed: false,
        connect_asked: false,
        seen_ids: Vec::new(),
    };
    driver.check();
    let mut steps = 0;
    while !driver.u.is_empty() && steps < 256 {
        driver.step();
        steps += 1;
    }
    // Ready only ever follows from a session this side knows.
    if driver.ready {
        assert!(driver.conn.session_id().is_some());
    }
}

/// Decodes `data` as a QPACK field section (first byte 0), a Huffman string (1), an
/// sf-list (2) or an sf-string item (3); what decodes must survive a re-encode.
pub fn wt_qpack(data: &[u8]) {
    let Some((&mode, input)) = data.split_first() else { return };
    match mode % 4 {
        0 => {
            let max = 4096;
            let Ok(fields) = qpack::decode(input, max) else { return };
            let size: u64 = fields.iter().map(|(n, v)| (n.len() + v.len() + 32) as u64).sum();
            assert!(size <= max, "decoded section over the size limit");
            let _ = message::parse_request(&fields);
            let _ = message::parse_response(&fields, &["moqt-18".to_string()]);
            let strings: Option<Vec<(&str, &str)>> = fields
                .iter()
                .map(|(n, v)| Some((std::str::from_utf8(n).ok()?, std::str::from_utf8(v).ok()?)))
                .collect();
            let Some(strings) = strings else { return };
            let mut encoded = Vec::new();
            qpack::encode(&strings, &mut encoded);
            let again = qpack::decode(&encoded, u64::MAX).expect("re-encoded section decodes");
            assert_eq!(again, fields, "re-encoded section decodes differently");
        }
        1 => {
            let mut out = Vec::new();
            if huffman::decode(input, &mut out).is_ok() {
                // The shortest code is 5 bits (RFC 7541 Appendix B): at most 8/5 symbols a byte.
                assert!(out.len() * 5 <= input.len() * 8, "Huffman output longer than its bits allow");
            }
        }
        2 => {
            let Some(list) = sfv::parse_string_list(input) else { return };
            let text = sfv::serialize_list(&list).expect("a parsed sf-string serializes");
            assert_eq!(sfv::parse_string_list(text.as_bytes()), Some(list), "sf-list round trip");
        }
        _ => {
            let Some(item) = sfv::parse_string_item(input) else { return };
            let text = sfv::serialize_string(&item).expect("a parsed sf-string serializes");
            assert_eq!(sfv::parse_string_item(text.as_bytes()), Some(item), "sf-string round trip");
        }
    }
}
