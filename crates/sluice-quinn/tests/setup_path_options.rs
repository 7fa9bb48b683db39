//! The MOQT PATH / AUTHORITY setup options over each transport (draft-18 §10.3.1): a client
//! sends them over raw QUIC and never over WebTransport, where the URI travels in the CONNECT
//! request. The sessions are created before the transport is known, so the adapter has to
//! tell them; a server that knows it runs WebTransport closes a session that sends PATH with
//! INVALID_PATH, which is what these tests look for.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sluice::{Config, Event, Version};
use sluice_quinn::{Endpoint, ServerIdentity, ServerVerification, Transport, client_config, server_config};

/// draft-18 §13.1 session error codes.
const INVALID_PATH: u64 = 0x8;
const INVALID_AUTHORITY: u64 = 0x19;

/// How a client's session ended up: `Ok` once both sides are Ready, else the close code
/// either side reported.
fn outcome(transport: Transport, server: Config) -> Result<(), u64> {
    let identity = ServerIdentity::self_signed(["localhost"]).unwrap();
    let verification = ServerVerification::Pin(identity.fingerprint());
    let version = Version::Moqt(sluice::MoqtVersion::Draft18);
    let mut server = Endpoint::server(
        "127.0.0.1:0".parse().unwrap(),
        server_config(identity, &[version]).unwrap(),
        server,
    )
    .unwrap();
    let client_cfg =
        Config { path: Some("/moq".into()), authority: Some("localhost".into()), ..Config::default() };
    let tls = client_config(verification, &[version]).unwrap();
    let mut client = Endpoint::client("127.0.0.1:0".parse().unwrap(), tls, client_cfg).unwrap();
    let addr: SocketAddr = server.local_addr().unwrap();
    let conn = client.connect_over(addr, "localhost", &transport).unwrap();
    let mut server_conn = None;
    let (mut client_ready, mut server_ready) = (false, false);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "no outcome");
        client.step(Duration::from_millis(1)).unwrap();
        server.step(Duration::from_millis(1)).unwrap();
        if let Some(h) = server.accept() {
            server_conn = Some(h);
        }
        let mut events = Vec::new();
        if let Some(c) = client.connection(conn) {
            events.extend(c.take_events().into_iter().map(|e| (true, e)));
        }
        if let Some(h) = server_conn
            && let Some(c) = server.connection(h)
        {
            events.extend(c.take_events().into_iter().map(|e| (false, e)));
        }
        for (is_client, event) in events {
            match event {
                Event::Ready { .. } if is_client => client_ready = true,
                Event::Ready { .. } => server_ready = true,
                Event::Closed { code, .. } => return Err(code),
                _ => {}
            }
        }
        if client_ready && server_ready {
            return Ok(());
        }
    }
}

#[test]
fn webtransport_client_sends_no_path_or_authority() {
    // The client is configured with both; the server serves neither value, so either one
    // on the wire would close the session (INVALID_PATH / INVALID_AUTHORITY).
    let wt = Transport::WebTransport { path: "/moq".into() };
    let server = Config {
        accepted_paths: Some(vec!["/nowhere".into()]),
        accepted_authorities: Some(vec!["nowhere".into()]),
        ..Config::default()
    };
    assert_eq!(outcome(wt, server), Ok(()));
}

#[test]
fn raw_quic_client_sends_path_and_authority() {
    // Each value is seen by the server: one it does not serve closes the session.
    let serve = |paths: &[&str], authorities: &[&str]| Config {
        accepted_paths: Some(paths.iter().map(|p| p.to_string()).collect()),
        accepted_authorities: Some(authorities.iter().map(|a| a.to_string()).collect()),
        ..Config::default()
    };
    assert_eq!(outcome(Transport::Quic, serve(&["/other"], &["localhost"])), Err(INVALID_PATH));
    assert_eq!(outcome(Transport::Quic, serve(&["/moq"], &["elsewhere"])), Err(INVALID_AUTHORITY));
    assert_eq!(outcome(Transport::Quic, serve(&["/moq"], &["localhost"])), Ok(()));
}
