//! The sluice side, in-process and blocking: a client endpoint driven by linear scripts
//! ([`SluiceClient::wait`] steps the socket until a wanted event arrives, keeping the rest),
//! and the sluice relay ([`RelayNode`]) stepped on its own std thread.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sluice::{
    Config, Event, MoqtVersion, Namespace, ObjectWrite, RequestHandle, Session, TrackName, Version,
};
use sluice_cli::relay_node::RelayNode;
use sluice_quinn::quinn_proto::ConnectionHandle;
use sluice_quinn::{Endpoint, Fingerprint, ServerIdentity, ServerVerification, Transport};
use sluice_relay::{Relay, RelayConfig};

use super::matrix::Carrier;
use super::media;

/// How long one wait of a script may take.
pub const STEP: Duration = Duration::from_secs(5);
const TICK: Duration = Duration::from_millis(2);

pub const DRAFT18: Version = Version::Moqt(MoqtVersion::Draft18);

pub fn namespace() -> Namespace {
    Namespace::from_path(media::NAMESPACE)
}

pub fn track(name: &str) -> TrackName {
    TrackName::new(namespace(), name)
}

/// The sluice transport for a matrix carrier.
pub fn transport(carrier: Carrier) -> Transport {
    match carrier {
        Carrier::Quic => Transport::Quic,
        Carrier::WebTransport => Transport::WebTransport { path: "/".to_owned() },
    }
}

/// A sluice client session on its own endpoint.
pub struct SluiceClient {
    pub endpoint: Endpoint,
    pub conn: ConnectionHandle,
    backlog: VecDeque<Event>,
}

impl SluiceClient {
    /// Connects to `addr`, pinning `cert`'s fingerprint, over `carrier`.
    pub fn connect(addr: SocketAddr, cert: &[u8], carrier: Carrier) -> Result<SluiceClient, String> {
        let tls = sluice_quinn::client_config(ServerVerification::Pin(Fingerprint::of(cert)), &[DRAFT18])
            .map_err(|e| e.to_string())?;
        let config = Config { implementation: Some("sluice-interop".into()), ..Config::default() };
        let mut endpoint =
            Endpoint::client("127.0.0.1:0".parse().unwrap(), tls, config).map_err(|e| e.to_string())?;
        let conn =
            endpoint.connect_over(addr, "localhost", &transport(carrier)).map_err(|e| e.to_string())?;
        Ok(SluiceClient { endpoint, conn, backlog: VecDeque::new() })
    }

    /// The session (panics if the connection is gone).
    pub fn session(&mut self) -> &mut Session {
        self.endpoint.connection(self.conn).expect("connection gone").session()
    }

    fn step(&mut self) -> Result<(), String> {
        self.endpoint.step(TICK).map_err(|e| format!("sluice endpoint: {e}"))?;
        if let Some(conn) = self.endpoint.connection(self.conn) {
            self.backlog.extend(conn.take_events());
        }
        Ok(())
    }

    /// Steps until an event for which `f` returns `Some` arrives (it is taken out of the
    /// backlog; other events stay), or fails after [`STEP`] naming `what`.
    pub fn wait<T>(&mut self, what: &str, mut f: impl FnMut(&Event) -> Option<T>) -> Result<T, String> {
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(i) = self.backlog.iter().position(|e| f(e).is_some()) {
                let event = self.backlog.remove(i).unwrap();
                return Ok(f(&event).unwrap());
            }
            if Instant::now() >= deadline {
                return Err(format!("sluice: no {what} in time; events: {:?}", self.backlog));
            }
            self.step()?;
        }
    }

    /// Steps for `d` (keeping every event).
    pub fn pump(&mut self, d: Duration) -> Result<(), String> {
        let until = Instant::now() + d;
        while Instant::now() < until {
            self.step()?;
        }
        Ok(())
    }

    /// Steps until `done()` or [`STEP`] passes.
    pub fn pump_until(&mut self, what: &str, mut done: impl FnMut() -> bool) -> Result<(), String> {
        let deadline = Instant::now() + STEP;
        while !done() {
            if Instant::now() >= deadline {
                return Err(format!("sluice: {what} did not happen in time"));
            }
            self.step()?;
        }
        Ok(())
    }

    /// Waits for Ready and checks the version.
    pub fn ready(&mut self) -> Result<(), String> {
        let version = self.wait("Ready", |e| match e {
            Event::Ready { version, .. } => Some(*version),
            _ => None,
        })?;
        if version != DRAFT18 {
            return Err(format!("negotiated {version:?}"));
        }
        Ok(())
    }

    /// Writes `groups` of an accepted subscription (or publish) as one finished subgroup
    /// stream per group.
    pub fn write_groups(
        &mut self,
        request: RequestHandle,
        groups: std::ops::Range<u64>,
        objects: u64,
    ) -> Result<(), String> {
        for group in groups {
            let session = self.session();
            let stream =
                session.open_subgroup(request, group, 0, None).map_err(|e| format!("open_subgroup: {e}"))?;
            for object in 0..objects {
                session
                    .write_object(stream, ObjectWrite::new(object, media::payload(group, object)))
                    .map_err(|e| format!("write_object: {e}"))?;
            }
            session.close_subgroup(stream, true).map_err(|e| format!("close_subgroup: {e}"))?;
        }
        Ok(())
    }

    /// Collects `want` normal objects of `request` (group, object, payload), in arrival order.
    pub fn collect(
        &mut self,
        request: RequestHandle,
        want: usize,
    ) -> Result<Vec<(u64, u64, bytes::Bytes)>, String> {
        let mut got = Vec::new();
        while got.len() < want {
            let item = self.wait(&format!("object {} of {want}", got.len() + 1), |e| match e {
                Event::Object { request: r, info, payload } if *r == request => {
                    Some((info.group, info.object, info.status, payload.to_bytes()))
                }
                Event::SubscriptionEnded { request: r, reason }
                | Event::SubscribeFailed { request: r, reason }
                    if *r == request =>
                {
                    Some((u64::MAX, reason.code, sluice::ObjectStatus::EndOfTrack, bytes::Bytes::new()))
                }
                _ => None,
            })?;
            match item {
                (u64::MAX, code, _, _) => {
                    return Err(format!(
                        "subscription ended (code {code}) after {} of {want} objects",
                        got.len()
                    ));
                }
                (g, o, sluice::ObjectStatus::Normal, p) => got.push((g, o, p)),
                _ => {}
            }
        }
        Ok(got)
    }
}

impl SluiceClient {
    /// Collects a fetch's normal objects (group, object, payload) until it ends complete
    /// (FetchEnded code 0); any other end fails.
    pub fn collect_fetch(&mut self, request: RequestHandle) -> Result<Vec<(u64, u64, bytes::Bytes)>, String> {
        let mut got = Vec::new();
        loop {
            let item = self.wait("fetch object or end", |e| match e {
                Event::Object { request: r, info, payload } if *r == request => {
                    Some(Ok((info.group, info.object, info.status, payload.to_bytes())))
                }
                Event::FetchEnded { request: r, reason } if *r == request => Some(Err(reason.clone())),
                Event::SubscribeFailed { request: r, reason } if *r == request => {
                    Some(Err(sluice::Reason { code: u64::MAX, text: format!("refused: {reason:?}") }))
                }
                _ => None,
            })?;
            match item {
                Ok((g, o, sluice::ObjectStatus::Normal, p)) => got.push((g, o, p)),
                Ok(_) => {}
                Err(reason) if reason.code == 0 => return Ok(got),
                Err(reason) => return Err(format!("fetch ended {reason:?} after {} objects", got.len())),
            }
        }
    }
}

/// Work run on the relay thread.
type RelayCommand = Box<dyn FnOnce(&mut RelayNode) + Send>;

/// A sluice relay on a std thread.
pub struct SluiceRelay {
    pub addr: SocketAddr,
    pub cert: Vec<u8>,
    stop: Arc<AtomicBool>,
    commands: mpsc::Sender<RelayCommand>,
    /// Snapshots the thread refreshes every step: namespaces routed.
    pub namespaces: Arc<Mutex<Vec<Namespace>>>,
    thread: Option<JoinHandle<()>>,
}

impl SluiceRelay {
    /// Starts a relay whose subscriptions wait `subscribe_wait` for a publisher.
    pub fn start(subscribe_wait: Duration) -> SluiceRelay {
        let identity = ServerIdentity::self_signed(["localhost"]).unwrap();
        let cert = identity.certificate().unwrap().to_vec();
        let server = sluice_quinn::server_config(identity, &[DRAFT18]).unwrap();
        let endpoint = Endpoint::server("127.0.0.1:0".parse().unwrap(), server, Config::default()).unwrap();
        let addr = endpoint.local_addr().unwrap();
        let config = RelayConfig { subscribe_wait, ..RelayConfig::default() };
        let mut node = RelayNode::new(endpoint, Relay::new(config));
        let stop = Arc::new(AtomicBool::new(false));
        let (commands, rx) = mpsc::channel::<RelayCommand>();
        let namespaces = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let stop = Arc::clone(&stop);
            let namespaces = Arc::clone(&namespaces);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    if let Err(e) = node.step(TICK) {
                        eprintln!("sluice relay: {e}");
                        return;
                    }
                    while let Ok(command) = rx.try_recv() {
                        command(&mut node);
                    }
                    *namespaces.lock().unwrap() = node.relay.namespaces();
                }
            })
        };
        SluiceRelay { addr, cert, stop, commands, namespaces, thread: Some(thread) }
    }

    /// Runs `f` on the relay thread.
    pub fn command(&self, f: impl FnOnce(&mut RelayNode) + Send + 'static) {
        let _ = self.commands.send(Box::new(f));
    }

    /// Whether the relay routes the test namespace.
    pub fn routes(&self) -> bool {
        self.namespaces.lock().unwrap().contains(&namespace())
    }
}

impl Drop for SluiceRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
