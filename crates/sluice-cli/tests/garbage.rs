//! A peer that sends garbage gets its own session closed with the draft's code, while the
//! relay goes on serving a publisher and two subscribers on the same port.
//!
//! The garbage client is a bare quinn-proto connection (sluice-quinn's TLS configuration,
//! no sluice session), so it can write bytes no sluice session would.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use common::{Client, Relay, input_lines};
use sluice::{LiteVersion, MoqtVersion, Version};
use sluice_quinn::quinn_proto::{
    self, ConnectionError, DatagramEvent, Dir, EndpointConfig, Event as QuicEvent,
};
use sluice_quinn::{ServerVerification, client_config};

/// draft-18 §3.4 "Termination": PROTOCOL_VIOLATION.
const D18_PROTOCOL_VIOLATION: u64 = 0x3;

/// Connects with `version`, opens one stream (`bidi` or uni), writes `garbage` on it and
/// returns the application close code the relay answers with.
fn garbage_session(port: u16, fingerprint: &str, version: Version, bidi: bool, garbage: &[u8]) -> u64 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(2))).unwrap();
    let server: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut endpoint = quinn_proto::Endpoint::new(Arc::new(EndpointConfig::default()), None, false, None);
    let tls = client_config(ServerVerification::Pin(fingerprint.parse().unwrap()), &[version]).unwrap();
    let (handle, mut conn) = endpoint.connect(Instant::now(), tls.quic, server, "localhost").unwrap();
    let deadline = Instant::now() + common::TIMEOUT;
    let mut send_buf = Vec::new();
    let mut recv_buf = vec![0u8; 65_536];
    while Instant::now() < deadline {
        let now = Instant::now();
        while let Some(event) = conn.poll() {
            match event {
                QuicEvent::Connected => {
                    let id = conn.streams().open(if bidi { Dir::Bi } else { Dir::Uni }).unwrap();
                    conn.send_stream(id).write(garbage).unwrap();
                }
                QuicEvent::ConnectionLost { reason } => {
                    return match reason {
                        ConnectionError::ApplicationClosed(close) => close.error_code.into_inner(),
                        other => panic!(
                            "the relay closed the garbage session without an application code: {other}"
                        ),
                    };
                }
                _ => {}
            }
        }
        while let Some(event) = conn.poll_endpoint_events() {
            if let Some(reply) = endpoint.handle_event(handle, event) {
                conn.handle_event(reply);
            }
        }
        send_buf.clear();
        while let Some(transmit) = conn.poll_transmit(now, 1, &mut send_buf) {
            socket.send_to(&send_buf[..transmit.size], transmit.destination).unwrap();
            send_buf.clear();
        }
        if let Ok((n, from)) = socket.recv_from(&mut recv_buf) {
            let data = BytesMut::from(&recv_buf[..n]);
            let mut response = Vec::new();
            if let Some(DatagramEvent::ConnectionEvent(_, event)) =
                endpoint.handle(Instant::now(), from, None, None, data, &mut response)
            {
                conn.handle_event(event);
            }
        }
        if conn.poll_timeout().is_some_and(|t| t <= Instant::now()) {
            conn.handle_timeout(Instant::now());
        }
    }
    panic!("the relay never closed the garbage session");
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

/// Runs a two-subscriber pipeline while `attack` talks garbage to the same relay; the
/// pipeline's outputs must be complete.
fn while_serving_others(version: &str, attack: impl FnOnce(&Relay)) {
    let relay = Relay::start(&[]);
    let url = relay.url("moqt");
    let input = input_lines(200);
    let a = Client::subscribe(&relay, &url, version);
    let b = Client::subscribe(&relay, &url, version);
    relay.wait_for_line("subscriptions waiting for a publisher: 2");
    let publisher =
        Client::publish(&relay, &url, version, &input, &["--lines", "--group-size", "10", "--rate", "400"]);
    attack(&relay);
    let (code, err) = publisher.finish();
    assert_eq!(code, 0, "{err}");
    for sub in [a, b] {
        let (code, out, err) = sub.finish_with_output();
        assert_eq!(code, 0, "{err}");
        assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&input));
    }
}

/// draft-18 §3.3 ("Unidirectional Stream Types"): "An endpoint that receives an unknown
/// stream type MUST close the session"; 0x06 is neither FETCH_HEADER (0x05), a
/// SUBGROUP_HEADER (0b0XX1XXXX), SETUP (0x2F00) nor PADDING. The code is PROTOCOL_VIOLATION
/// (§3.4 "Termination", 0x3).
#[test]
fn d18_unknown_uni_stream_type_closes_only_that_session() {
    while_serving_others("d18", |relay| {
        let mut garbage = vec![0x06];
        garbage.extend(junk(200));
        let code = garbage_session(
            relay.port,
            &relay.fingerprint,
            Version::Moqt(MoqtVersion::Draft18),
            false,
            &garbage,
        );
        assert_eq!(code, D18_PROTOCOL_VIOLATION);
    });
}

/// moq-lite-04 §Streams: an unknown stream type only resets the stream, so the garbage is
/// a Subscribe stream (bidi type 0x2) whose SUBSCRIBE message is malformed: a length that
/// the message body contradicts. A malformed message closes the session with
/// PROTOCOL_VIOLATION (moq-lite's code 15, see sluice::lite::codes).
#[test]
fn lite04_malformed_subscribe_closes_only_that_session() {
    while_serving_others("lite-04", |relay| {
        // Stream type 0x2, message length 3, then bytes that are not a SUBSCRIBE.
        let mut garbage = vec![0x02, 0x03];
        garbage.extend([0xFF, 0xFF, 0xFF]);
        let code = garbage_session(
            relay.port,
            &relay.fingerprint,
            Version::Lite(LiteVersion::Lite04),
            true,
            &garbage,
        );
        assert_eq!(code, sluice::lite::codes::PROTOCOL_VIOLATION);
    });
}
