//! Interop with other people's WebTransport codec: web-transport-proto (the crate under
//! web-transport-quinn, moq-native and moq-transport) decodes what sluice-wt encodes, and
//! sluice-wt decodes what it encodes.

use bytes::{Bytes, BytesMut};
use sluice_wt::{Config, WtConnection, WtOutput, frame, message};
use web_transport_proto::{ConnectRequest, ConnectResponse, Settings};

#[test]
fn they_read_our_settings_request_and_response() {
    let ours = frame::control_stream_preamble(&frame::local_settings(true, 16 * 1024));
    let settings = Settings::decode(&mut ours.as_slice()).unwrap();
    assert_eq!(settings.supports_webtransport(), 1, "one session");

    let request =
        message::encode_request("localhost:4443", "/moq", &["moq-lite-05".into(), "moqt-18".into()]).unwrap();
    let theirs = ConnectRequest::decode(&mut request.as_slice()).unwrap();
    assert_eq!(theirs.url.as_str(), "https://localhost:4443/moq");
    assert_eq!(theirs.protocols, ["moq-lite-05", "moqt-18"]);

    let response = message::encode_response(200, Some("moqt-18")).unwrap();
    let theirs = ConnectResponse::decode(&mut response.as_slice()).unwrap();
    assert_eq!(theirs.status, 200);
    assert_eq!(theirs.protocol.as_deref(), Some("moqt-18"));
}

#[test]
fn we_read_their_settings_request_and_response() {
    let mut server = WtConnection::server(Config::default(), vec!["moqt-18".into()], None);
    while server.poll().is_some() {}
    let mut settings = Settings::default();
    settings.enable_webtransport(1);
    let mut buf = BytesMut::new();
    settings.encode(&mut buf);
    server.stream_data(2, buf.freeze(), false);
    let url = url_of("https://localhost:4443/moq");
    let mut buf = BytesMut::new();
    ConnectRequest::new(url).with_protocol("moq-lite-04").with_protocol("moqt-18").encode(&mut buf).unwrap();
    server.stream_data(0, buf.freeze(), false);
    let out: Vec<WtOutput> = std::iter::from_fn(|| server.poll()).collect();
    assert!(
        out.contains(&WtOutput::Ready { protocol: Some("moqt-18".into()), path: "/moq".into() }),
        "{out:?}"
    );

    // Their response, read by our client.
    let mut client =
        WtConnection::client(Config::default(), "localhost:4443", "/moq", vec!["moqt-18".into()], None);
    while client.poll().is_some() {}
    let mut settings = Settings::default();
    settings.enable_webtransport(1);
    let mut buf = BytesMut::new();
    settings.encode(&mut buf);
    client.stream_data(3, buf.freeze(), false);
    assert!(matches!(client.poll(), Some(WtOutput::OpenConnect { .. })));
    client.connect_stream_opened(0);
    let mut buf = BytesMut::new();
    ConnectResponse::OK.with_protocol("moqt-18").encode(&mut buf).unwrap();
    client.stream_data(0, Bytes::from(buf.to_vec()), false);
    assert_eq!(
        client.poll(),
        Some(WtOutput::Ready { protocol: Some("moqt-18".into()), path: String::new() })
    );
}

fn url_of(s: &str) -> url::Url {
    url::Url::parse(s).unwrap()
}
