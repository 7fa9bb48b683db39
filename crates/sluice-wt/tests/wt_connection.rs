//! sluice-wt against itself and by the byte: exact vectors (each byte reasoned from the RFC
//! or draft section named), a client and a server WtConnection wired together in memory, the
//! negative table (input → exact HTTP/3 code), and chunking independence.

use std::collections::HashMap;

use bytes::Bytes;
use proptest::prelude::*;
use sluice_wt::codes::error;
use sluice_wt::{Config, WtConnection, WtOutput, capsule, frame, message};

fn client() -> WtConnection {
    WtConnection::client(Config::default(), "example.com:443", "/moq", vec!["moqt-18".into()], None)
}

fn server() -> WtConnection {
    WtConnection::server(
        Config::default(),
        vec!["moq-lite-05".into(), "moqt-18".into()],
        Some("moqt-18".into()),
    )
}

fn drain(c: &mut WtConnection) -> Vec<WtOutput> {
    std::iter::from_fn(|| c.poll()).collect()
}

#[test]
fn server_settings_vector() {
    let mut s = server();
    let Some(WtOutput::OpenControl { data }) = s.poll() else { panic!() };
    #[rustfmt::skip]
    let want: &[u8] = &[
        0x00,                               // stream type: control (RFC 9114 §6.2.1)
        0x04, 0x21,                         // SETTINGS (§7.2.4), 33 bytes
        0x06, 0x80, 0x00, 0x40, 0x00,       // MAX_FIELD_SECTION_SIZE = 16384 (4-byte varint, RFC 9000 §16)
        0x08, 0x01,                         // ENABLE_CONNECT_PROTOCOL = 1 (RFC 9220 §3)
        0x33, 0x01,                         // H3_DATAGRAM = 1 (RFC 9297 §2.1.1)
        0x80, 0xff, 0xd2, 0x77, 0x01,       // H3_DATAGRAM draft-04 code 0xffd277 = 1
        0xab, 0x60, 0x37, 0x42, 0x01,       // ENABLE_WEBTRANSPORT (draft-02) 0x2b603742 = 1
        0xab, 0x60, 0x37, 0x43, 0x01,       // WEBTRANSPORT_MAX_SESSIONS (draft-02) 0x2b603743 = 1
        0xc0, 0x00, 0x00, 0x00, 0xc6, 0x71, 0x70, 0x6a, 0x01, // WT_MAX_SESSIONS 0xc671706a = 1 (8-byte varint)
    ];
    assert_eq!(&data[..], want);
    // The client sends the same minus ENABLE_CONNECT_PROTOCOL (a server setting).
    let Some(WtOutput::OpenControl { data }) = client().poll() else { panic!() };
    assert_eq!(data.len(), want.len() - 2);
    assert_eq!(data[2], 0x1f);
}

#[test]
fn connect_request_and_response_vectors() {
    let request = message::encode_request("example.com:443", "/moq", &["moqt-18".into()]).unwrap();
    let mut want = vec![0x01, 0x00]; // HEADERS (RFC 9114 §7.2.2), length patched below
    want.extend([0x00, 0x00]); // Required Insert Count 0, Delta Base 0 (RFC 9204 §4.5.1)
    want.push(0xcf); // indexed static 15 = :method CONNECT (§4.5.2: 1 T=1 index)
    want.extend([0x27, 0x02]); // literal name, 3-bit length prefix: 7 + 2 = 9 (§4.5.6)
    want.extend(b":protocol");
    want.push(0x0c); // value length 12, no Huffman
    want.extend(b"webtransport");
    want.push(0xd7); // indexed static 23 = :scheme https
    want.push(0x50); // literal with static name reference 0 = :authority (§4.5.4: 01 N=0 T=1)
    want.push(0x0f);
    want.extend(b"example.com:443");
    want.push(0x51); // static name 1 = :path
    want.push(0x04);
    want.extend(b"/moq");
    want.extend([0x27, 0x0f]); // literal name of 22 bytes
    want.extend(b"wt-available-protocols");
    want.push(0x09); // sf-list of one sf-string (RFC 9651 §3.1, §3.3.3)
    want.extend(b"\"moqt-18\"");
    // The frame length, 85, takes a 2-byte varint (RFC 9000 §16): 0x40 0x55.
    assert_eq!(want.len() - 2, 85);
    want.splice(1..2, [0x40, 0x55]);
    assert_eq!(request, want);

    let response = message::encode_response(200, Some("moqt-18")).unwrap();
    let mut want = vec![0x01, 0x00, 0x00, 0x00, 0xd9]; // static 25 = :status 200
    want.extend([0x27, 0x04]); // literal name of 11 bytes
    want.extend(b"wt-protocol");
    want.push(0x09);
    want.extend(b"\"moqt-18\"");
    want[1] = (want.len() - 2) as u8;
    assert_eq!(response, want);
}

#[test]
fn stream_prefix_datagram_and_close_capsule_vectors() {
    let (mut c, mut s) = (client(), server());
    let mut pair = Pair::default();
    pair.run(&mut c, &mut s);
    assert_eq!(c.session_id(), Some(0));
    // draft-ietf-webtrans-http3 §4.2 / §4.3: 0x54 and 0x41 need 2-byte varints (> 63), then
    // session id 0.
    assert_eq!(&c.stream_prefix(false).unwrap()[..], [0x40, 0x54, 0x00]);
    assert_eq!(&c.stream_prefix(true).unwrap()[..], [0x40, 0x41, 0x00]);
    // RFC 9297 §2.1: quarter stream id 0 then the payload.
    assert_eq!(&c.wrap_datagram(b"hi").unwrap()[..], [0x00, b'h', b'i']);
    assert_eq!(
        s.unwrap_datagram(Bytes::from_static(&[0x00, b'h', b'i'])).unwrap(),
        Bytes::from_static(b"hi")
    );
    // Another session's datagram (quarter id 1 = session 4) is dropped.
    assert_eq!(s.unwrap_datagram(Bytes::from_static(&[0x01, b'h'])), None);
    // WT_CLOSE_SESSION (§6): type 0x2843 (2-byte varint 0x68 0x43), length 7, code 7 (32 bits), "bye".
    assert_eq!(capsule::close_session(7, "bye"), [0x68, 0x43, 0x07, 0, 0, 0, 7, b'b', b'y', b'e']);
    c.close(7, "bye");
    let out = drain(&mut c);
    let want_data = [0x00, 0x0a, 0x68, 0x43, 0x07, 0, 0, 0, 7, b'b', b'y', b'e']; // inside a DATA frame
    assert_eq!(out, vec![WtOutput::Write { stream: 0, data: Bytes::copy_from_slice(&want_data), fin: true }]);
}

/// Two connections wired in memory: stream ids assigned as QUIC would (RFC 9000 §2.1).
#[derive(Default)]
struct Pair {
    next: HashMap<(bool, bool), u64>,
    /// Outputs other than stream plumbing, per side (client = true).
    events: Vec<(bool, WtOutput)>,
}

impl Pair {
    fn open(&mut self, client: bool, bidi: bool) -> u64 {
        let n = self.next.entry((client, bidi)).or_default();
        let id = *n * 4 + u64::from(!client) + if bidi { 0 } else { 2 };
        *n += 1;
        id
    }

    fn run(&mut self, c: &mut WtConnection, s: &mut WtConnection) {
        loop {
            let mut moved = false;
            for client in [true, false] {
                let (me, peer) = if client { (&mut *c, &mut *s) } else { (&mut *s, &mut *c) };
                while let Some(out) = me.poll() {
                    moved = true;
                    match out {
                        WtOutput::OpenControl { data } => {
                            let id = self.open(client, false);
                            peer.stream_data(id, data, false);
                        }
                        WtOutput::OpenConnect { data } => {
                            let id = self.open(client, true);
                            me.connect_stream_opened(id);
                            peer.stream_data(id, data, false);
                        }
                        WtOutput::Write { stream, data, fin } => peer.stream_data(stream, data, fin),
                        other => self.events.push((client, other)),
                    }
                }
            }
            if !moved {
                return;
            }
        }
    }
}

#[test]
fn client_and_server_agree_and_streams_lose_their_prefix() {
    let (mut c, mut s) = (client(), server());
    let mut pair = Pair::default();
    pair.run(&mut c, &mut s);
    let ready: Vec<_> = pair.events.iter().filter(|(_, e)| matches!(e, WtOutput::Ready { .. })).collect();
    assert_eq!(
        ready,
        vec![
            &(false, WtOutput::Ready { protocol: Some("moqt-18".into()), path: "/moq".into() }),
            &(true, WtOutput::Ready { protocol: Some("moqt-18".into()), path: String::new() }),
        ]
    );
    // A server uni stream (id 7: server's second uni) with the prefix then "moq".
    let mut bytes = s.stream_prefix(false).unwrap().to_vec();
    bytes.extend(b"moq");
    c.stream_data(7, Bytes::from(bytes), true);
    assert_eq!(
        drain(&mut c),
        vec![
            WtOutput::StreamOpened { stream: 7, bidi: false },
            WtOutput::StreamData { stream: 7, data: Bytes::from_static(b"moq"), fin: true },
        ]
    );
    // The server closes; the client reports it and answers with FIN.
    s.close(3, "done");
    pair.events.clear();
    pair.run(&mut c, &mut s);
    assert!(
        pair.events.contains(&(true, WtOutput::Closed { code: 3, reason: "done".into() })),
        "{:?}",
        pair.events
    );
    assert!(
        pair.events.contains(&(
            false,
            WtOutput::CloseConnection { code: error::H3_NO_ERROR, reason: String::new() }
        )),
        "{:?}",
        pair.events
    );
}

#[test]
fn a_stream_that_arrives_before_the_response_is_held_then_delivered() {
    let (mut c, mut s) = (client(), server());
    // Client control, then server control (settings), which makes the client send CONNECT.
    let Some(WtOutput::OpenControl { data: cs }) = c.poll() else { panic!() };
    let Some(WtOutput::OpenControl { data: ss }) = s.poll() else { panic!() };
    c.stream_data(3, ss, false);
    let Some(WtOutput::OpenConnect { data: request }) = c.poll() else { panic!() };
    c.connect_stream_opened(0);
    // A server stream for session 0 overtakes the 200.
    c.stream_data(7, Bytes::from_static(&[0x40, 0x54, 0x00, b'x']), false);
    assert_eq!(drain(&mut c), vec![]);
    s.stream_data(2, cs, false);
    s.stream_data(0, request, false);
    let response = drain(&mut s)
        .into_iter()
        .find_map(|o| if let WtOutput::Write { data, .. } = o { Some(data) } else { None })
        .unwrap();
    c.stream_data(0, response, false);
    let out = drain(&mut c);
    assert_eq!(
        out[1..],
        [
            WtOutput::StreamOpened { stream: 7, bidi: false },
            WtOutput::StreamData { stream: 7, data: Bytes::from_static(b"x"), fin: false },
        ]
    );
}

/// Feeds a server its peer's control stream (`settings`) then `stream`'s bytes on `id`;
/// returns every output after the handshake's own.
fn server_after(settings: Option<&[u8]>, id: u64, bytes: &[u8]) -> Vec<WtOutput> {
    let mut s = server();
    drain(&mut s);
    if let Some(settings) = settings {
        s.stream_data(2, Bytes::copy_from_slice(settings), false);
    }
    s.stream_data(id, Bytes::copy_from_slice(bytes), false);
    drain(&mut s)
}

fn close_code(out: &[WtOutput]) -> Option<u64> {
    out.iter().find_map(|o| if let WtOutput::CloseConnection { code, .. } = o { Some(*code) } else { None })
}

fn client_settings() -> Vec<u8> {
    frame::control_stream_preamble(&frame::local_settings(false, 16 * 1024))
}

#[test]
fn negative_table() {
    let settings = client_settings();
    let s = Some(settings.as_slice());
    // (what, settings first, stream id, bytes, connection close code)
    let cases: &[(&str, bool, u64, &[u8], u64)] = &[
        (
            "control stream starts with GOAWAY (RFC 9114 §6.2.1)",
            false,
            2,
            &[0x00, 0x07, 0x01, 0x00],
            error::H3_MISSING_SETTINGS,
        ),
        ("second SETTINGS (§7.2.4)", true, 2, &[0x04, 0x00], error::H3_FRAME_UNEXPECTED),
        ("DATA on the control stream (§7.2.1)", true, 2, &[0x00, 0x00], error::H3_FRAME_UNEXPECTED),
        ("HTTP/2 frame type 0x06 on control (§7.2.8)", true, 2, &[0x06, 0x00], error::H3_FRAME_UNEXPECTED),
        (
            "HTTP/2 setting 0x02 (§7.2.4.1)",
            false,
            2,
            &[0x00, 0x04, 0x02, 0x02, 0x01],
            error::H3_SETTINGS_ERROR,
        ),
        (
            "duplicate setting (§7.2.4)",
            false,
            2,
            &[0x00, 0x04, 0x04, 0x33, 0x01, 0x33, 0x01],
            error::H3_SETTINGS_ERROR,
        ),
        (
            "H3_DATAGRAM = 2 (RFC 9297 §2.1.1)",
            false,
            2,
            &[0x00, 0x04, 0x02, 0x33, 0x02],
            error::H3_SETTINGS_ERROR,
        ),
        ("truncated setting pair (§7.1)", false, 2, &[0x00, 0x04, 0x01, 0x33], error::H3_FRAME_ERROR),
        ("second control stream (§6.2.1)", true, 6, &[0x00, 0x04, 0x00], error::H3_STREAM_CREATION_ERROR),
        ("push stream from a client (§6.2.2)", true, 6, &[0x01], error::H3_STREAM_CREATION_ERROR),
        ("DATA before HEADERS on a request (§4.1)", true, 0, &[0x00, 0x01, 0x00], error::H3_FRAME_UNEXPECTED),
        ("SETTINGS on a request stream (§7.2.4)", true, 0, &[0x04, 0x00], error::H3_FRAME_UNEXPECTED),
        (
            "dynamic-table QPACK reference (RFC 9204 §4.5.1.1)",
            true,
            0,
            &[0x01, 0x02, 0x05, 0x00],
            error::QPACK_DECOMPRESSION_FAILED,
        ),
        (
            "session id 1 is no client bidi stream (draft §4)",
            true,
            6,
            &[0x40, 0x54, 0x01],
            error::H3_ID_ERROR,
        ),
    ];
    for (what, with_settings, id, bytes, code) in cases {
        let out = server_after(if *with_settings { s } else { None }, *id, bytes);
        assert_eq!(close_code(&out), Some(*code), "{what}: {out:?}");
        assert!(
            out.contains(&WtOutput::Closed {
                code: *code,
                reason: match &out[0] {
                    WtOutput::CloseConnection { reason, .. } => reason.clone(),
                    _ => String::new(),
                }
            }),
            "{what}: {out:?}"
        );
    }

    // Stream-level refusals: the connection stays.
    let huge = {
        let mut b = vec![0x01];
        frame::put_varint(&mut b, 20_000);
        b
    };
    let stream_cases: &[(&str, u64, &[u8], u64)] = &[
        ("unknown uni stream type 0x21 (§6.2)", 6, &[0x21], error::H3_STREAM_CREATION_ERROR),
        ("HEADERS above max_field_section_size", 0, &huge, error::H3_EXCESSIVE_LOAD),
    ];
    for (what, id, bytes, code) in stream_cases {
        let out = server_after(s, *id, bytes);
        assert_eq!(close_code(&out), None, "{what}: {out:?}");
        assert!(out.contains(&WtOutput::StopSending { stream: *id, code: *code }), "{what}: {out:?}");
    }
    // A malformed CONNECT (no :path): H3_MESSAGE_ERROR on the stream (RFC 9114 §4.1.2).
    let mut section = Vec::new();
    sluice_wt::qpack::encode(
        &[(":method", "CONNECT"), (":protocol", "webtransport"), (":scheme", "https"), (":authority", "a")],
        &mut section,
    );
    let mut bad = Vec::new();
    frame::put_frame(&mut bad, 0x01, &section);
    let out = server_after(s, 0, &bad);
    assert_eq!(
        out,
        vec![
            WtOutput::StopSending { stream: 0, code: error::H3_MESSAGE_ERROR },
            WtOutput::Reset { stream: 0, code: error::H3_MESSAGE_ERROR },
        ]
    );
    // More WebTransport streams than max_buffered_streams before the session: refused.
    let mut srv = server();
    drain(&mut srv);
    for i in 0..17u64 {
        srv.stream_data(2 + 4 * (i + 1), Bytes::from_static(&[0x40, 0x54, 0x00]), false);
    }
    assert_eq!(
        drain(&mut srv),
        vec![WtOutput::StopSending { stream: 70, code: error::WT_BUFFERED_STREAM_REJECTED }]
    );
    // A CONNECT offering only versions the server lacks gets 400.
    let request = message::encode_request("a", "/", &["moq-lite-99".into()]).unwrap();
    let out = server_after(s, 0, &request);
    let Some(WtOutput::Write { data, fin: true, .. }) = out.first() else { panic!("{out:?}") };
    // Static 67 = :status 400: index 67 overflows the 6-bit prefix: 0xff, then 67 - 63 = 4.
    assert_eq!(data[4..6], [0xff, 0x04]);
}

/// The client's whole first flight as (stream, bytes).
fn client_flight() -> Vec<(u64, Vec<u8>)> {
    let mut request =
        message::encode_request("example.com", "/moq", &["moq-lite-04".into(), "moqt-18".into()]).unwrap();
    // An unknown frame on the request stream after the HEADERS is skipped (RFC 9114 §9).
    request.extend([0x21, 0x03, 1, 2, 3]);
    vec![(2, client_settings()), (0, request), (6, vec![0x40, 0x54, 0x00, b'a', b'b', b'c'])]
}

fn feed(chunks: &[usize]) -> Vec<WtOutput> {
    let mut s = server();
    let mut out = drain(&mut s);
    let mut k = 0;
    for (id, bytes) in client_flight() {
        let mut at = 0;
        while at < bytes.len() {
            let n = chunks[k % chunks.len()].clamp(1, bytes.len() - at);
            k += 1;
            s.stream_data(id, Bytes::copy_from_slice(&bytes[at..at + n]), false);
            at += n;
            out.extend(drain(&mut s));
        }
    }
    // Merge consecutive data of one stream: chunking may split it.
    let mut merged: Vec<WtOutput> = Vec::new();
    for o in out {
        if let (
            Some(WtOutput::StreamData { stream: a, data: d, .. }),
            WtOutput::StreamData { stream: b, data: e, .. },
        ) = (merged.last_mut(), &o)
            && a == b
        {
            *d = Bytes::from([&d[..], &e[..]].concat());
            continue;
        }
        merged.push(o);
    }
    merged
}

#[test]
fn whole_flight_result() {
    let out = feed(&[usize::MAX]);
    // The server prefers lite-05 then draft-18; of those the client offers draft-18.
    assert!(
        out.contains(&WtOutput::Ready { protocol: Some("moqt-18".into()), path: "/moq".into() }),
        "{out:?}"
    );
    assert!(out.contains(&WtOutput::StreamData { stream: 6, data: Bytes::from_static(b"abc"), fin: false }));
}

proptest! {
    #[test]
    fn any_chunking_gives_the_same_outputs(chunks in proptest::collection::vec(1usize..8, 1..20)) {
        prop_assert_eq!(feed(&chunks), feed(&[usize::MAX]));
    }
}
