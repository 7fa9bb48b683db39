//! The peer side: Cloudflare's moq-transport sessions (client and server) over raw QUIC
//! (quinn + web-transport-quinn's `Session::raw`, ALPN `moqt-18`) or WebTransport
//! (web-transport-quinn, ALPN `h3`), on the test's tokio runtime, 127.0.0.1 only.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use moq_transport::coding::{TrackName as CfTrackName, TrackNamespace};
use moq_transport::serve::{Subgroup, SubgroupsWriter, Track, TrackReader, TrackReaderMode, TrackWriter};
use moq_transport::session::{Publisher, Session, Subscriber, Transport};
use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use web_transport_quinn::http::StatusCode;

use super::matrix::Carrier;
use super::media;

/// ALPN of MOQT draft-18 over raw QUIC.
pub const ALPN: &[u8] = b"moqt-18";
/// How long any single step of a case may take before the case fails.
pub const STEP: Duration = Duration::from_secs(5);

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A self-signed certificate for `localhost` and its key.
pub struct Identity {
    pub cert: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
}

impl Identity {
    pub fn new() -> Identity {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        Identity {
            cert: certified.cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der())),
        }
    }
}

/// A quinn client endpoint trusting exactly `cert` (as its only root) and offering `alpn`.
fn client_endpoint(cert: &CertificateDer<'static>, alpn: &[u8]) -> Result<quinn::Endpoint, BoxError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone())?;
    let mut tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![alpn.to_vec()];
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse()?)?;
    endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(QuicClientConfig::try_from(tls)?)));
    Ok(endpoint)
}

fn server_endpoint(identity: &Identity, alpn: &[u8]) -> Result<quinn::Endpoint, BoxError> {
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(vec![identity.cert.clone()], identity.key.clone_key())?;
    tls.alpn_protocols = vec![alpn.to_vec()];
    let config = quinn::ServerConfig::with_crypto(Arc::new(QuicServerConfig::try_from(tls)?));
    Ok(quinn::Endpoint::server(config, "127.0.0.1:0".parse()?)?)
}

/// A connected peer client: its session runs on a spawned task.
pub struct CfClient {
    pub publisher: Publisher,
    pub subscriber: Subscriber,
    /// Resolves when the session's `run` returns (Err = it failed).
    pub run: tokio::task::JoinHandle<Result<(), String>>,
    /// Keeps the client endpoint alive.
    pub _endpoint: Option<quinn::Endpoint>,
}

/// Connects a moq-transport client to `addr` (certificate `cert`) over `carrier`.
pub async fn connect(
    addr: SocketAddr,
    cert: &CertificateDer<'static>,
    carrier: Carrier,
) -> Result<CfClient, BoxError> {
    let (wt, endpoint, transport) = match carrier {
        Carrier::Quic => {
            let endpoint = client_endpoint(cert, ALPN)?;
            let conn = tokio::time::timeout(STEP, endpoint.connect(addr, "localhost")?).await??;
            let url = url::Url::parse(&format!("moqt://localhost:{}/", addr.port()))?;
            let session = web_transport_quinn::Session::raw(conn, url, StatusCode::OK);
            (session, Some(endpoint), Transport::RawQuic)
        }
        Carrier::WebTransport => {
            let endpoint = client_endpoint(cert, web_transport_quinn::ALPN.as_bytes())?;
            let mut config = rustls::ClientConfig::builder_with_provider(provider())
                .with_protocol_versions(&[&rustls::version::TLS13])?
                .with_root_certificates({
                    let mut roots = rustls::RootCertStore::empty();
                    roots.add(cert.clone())?;
                    roots
                })
                .with_no_client_auth();
            config.alpn_protocols = vec![web_transport_quinn::ALPN.as_bytes().to_vec()];
            let client_config = quinn::ClientConfig::new(Arc::new(QuicClientConfig::try_from(config)?));
            let client = web_transport_quinn::Client::new(endpoint.clone(), client_config);
            let url = url::Url::parse(&format!("https://localhost:{}/", addr.port()))?;
            let session = tokio::time::timeout(STEP, client.connect(url)).await??;
            (session, Some(endpoint), Transport::WebTransport)
        }
    };
    let (session, publisher, subscriber) =
        tokio::time::timeout(STEP, Session::connect(wt.into(), None, transport)).await??;
    let run = tokio::spawn(async move { session.run().await.map_err(|e| e.to_string()) });
    Ok(CfClient { publisher, subscriber, run, _endpoint: endpoint })
}

/// A peer server accepting one session.
pub struct CfServer {
    pub addr: SocketAddr,
    pub cert: CertificateDer<'static>,
    accept: tokio::task::JoinHandle<Result<CfAccepted, String>>,
}

/// The session a [`CfServer`] accepted.
pub struct CfAccepted {
    pub publisher: Publisher,
    pub subscriber: Subscriber,
    pub run: tokio::task::JoinHandle<Result<(), String>>,
    pub _endpoint: quinn::Endpoint,
}

impl CfServer {
    /// Listens on 127.0.0.1 and accepts one session in the background.
    pub fn start(carrier: Carrier) -> Result<CfServer, BoxError> {
        let identity = Identity::new();
        let cert = identity.cert.clone();
        let (endpoint, transport) = match carrier {
            Carrier::Quic => (server_endpoint(&identity, ALPN)?, Transport::RawQuic),
            Carrier::WebTransport => {
                (server_endpoint(&identity, web_transport_quinn::ALPN.as_bytes())?, Transport::WebTransport)
            }
        };
        let addr = endpoint.local_addr()?;
        let accept = tokio::spawn(async move {
            let incoming = endpoint.accept().await.ok_or("endpoint closed")?;
            let conn = incoming.await.map_err(|e| e.to_string())?;
            let wt = match transport {
                Transport::RawQuic => {
                    let url = url::Url::parse(&format!("moqt://localhost:{}/", addr.port())).unwrap();
                    web_transport_quinn::Session::raw(conn, url, StatusCode::OK)
                }
                Transport::WebTransport => {
                    let request =
                        web_transport_quinn::Request::accept(conn).await.map_err(|e| e.to_string())?;
                    request.ok().await.map_err(|e| e.to_string())?
                }
            };
            let (session, publisher, subscriber) =
                Session::accept(wt.into(), None, transport).await.map_err(|e| e.to_string())?;
            let run = tokio::spawn(async move { session.run().await.map_err(|e| e.to_string()) });
            Ok(CfAccepted {
                publisher: publisher.ok_or("no publisher role")?,
                subscriber: subscriber.ok_or("no subscriber role")?,
                run,
                _endpoint: endpoint,
            })
        });
        Ok(CfServer { addr, cert, accept })
    }

    /// The accepted session (waits at most [`STEP`]).
    pub async fn accepted(self) -> Result<CfAccepted, String> {
        match tokio::time::timeout(STEP, self.accept).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(format!("accept task: {e}")),
            Err(_) => Err("peer server accepted no session in time".to_owned()),
        }
    }
}

/// The peer's namespace type for the test namespace.
pub fn namespace() -> TrackNamespace {
    TrackNamespace::from_utf8_path(media::NAMESPACE)
}

/// A fresh track of the test namespace.
pub fn track(name: &str) -> (TrackWriter, TrackReader) {
    Track::new(namespace(), CfTrackName::from(name)).produce()
}

/// Writes `groups` as one subgroup stream per group (object ids from 0), finishing each.
pub fn write_groups(writer: &mut SubgroupsWriter, groups: std::ops::Range<u64>, objects: u64) {
    for group in groups {
        let mut subgroup = writer.create(Subgroup { group_id: group, subgroup_id: 0, priority: 0 }).unwrap();
        for object in 0..objects {
            subgroup.write(Bytes::from(media::payload(group, object))).unwrap();
        }
        subgroup.finish().unwrap();
    }
}

/// Reads objects from a received track until `want` arrived; returns (group, object, payload)
/// in arrival order per group stream (streams are read one after another).
pub async fn read_objects(reader: TrackReader, want: usize) -> Result<Vec<(u64, u64, Bytes)>, String> {
    let mut got = Vec::new();
    let work = async {
        let mode = reader.mode().await.map_err(|e| format!("track mode: {e}"))?;
        let TrackReaderMode::Subgroups(mut subgroups) = mode else {
            return Err("peer delivered the track in a non-subgroup mode".to_owned());
        };
        while got.len() < want {
            let Some(mut subgroup) = subgroups.next().await.map_err(|e| format!("next subgroup: {e}"))?
            else {
                return Err(format!("track ended after {} of {want} objects", got.len()));
            };
            let group = subgroup.group_id;
            // A relay may keep a group's stream open until the next group starts: stop reading
            // as soon as every wanted object is in.
            while got.len() < want
                && let Some(mut object) = subgroup.next().await.map_err(|e| format!("next object: {e}"))?
            {
                let id = object.object_id;
                if object.status != moq_transport::data::ObjectStatus::NormalObject {
                    continue;
                }
                let payload = object.read_all().await.map_err(|e| format!("payload: {e}"))?;
                got.push((group, id, payload));
            }
        }
        Ok::<(), String>(())
    };
    match tokio::time::timeout(STEP, work).await {
        Ok(Ok(())) => Ok(got),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("timed out with {} of {want} objects", got.len())),
    }
}

/// Awaits `f` for at most [`STEP`], naming `what` on timeout.
pub async fn within<T, E: std::fmt::Display>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(STEP, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: timed out")),
    }
}

/// Reads a FETCH response to its end: (group, object, payload) of every object, in order.
pub async fn read_fetch(fetch: &mut moq_transport::session::Fetch) -> Result<Vec<(u64, u64, Bytes)>, String> {
    let work = async {
        let mut got = Vec::new();
        while let Some(record) = fetch.next().await.map_err(|e| format!("fetch record: {e}"))? {
            if let moq_transport::data::FetchRecord::Object(object) = record {
                let mut payload = Vec::new();
                while let Some(chunk) =
                    fetch.read_payload_chunk(usize::MAX).await.map_err(|e| format!("fetch payload: {e}"))?
                {
                    payload.extend_from_slice(&chunk);
                }
                got.push((object.group_id, object.object_id, Bytes::from(payload)));
            }
        }
        Ok::<_, String>(got)
    };
    match tokio::time::timeout(STEP, work).await {
        Ok(r) => r,
        Err(_) => Err("fetch response: timed out".to_owned()),
    }
}

/// A location in the peer's type.
pub fn location(group: u64, object: u64) -> moq_transport::coding::Location {
    moq_transport::coding::Location { group_id: group, object_id: object }
}
