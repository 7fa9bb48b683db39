//! The sluice half of each case, run through the libraries on blocking std threads:
//! [`Client`] is one sluice client connection; [`Actor`] runs a client on its own thread,
//! stepping it continuously (so it answers the peer at once) while the test sends it
//! commands and waits for its events; [`RelayThread`] is a sluice relay ([`RelayNode`]) on
//! its own thread.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sluice::{Config, Event, ObjectWrite, RequestHandle, Session, StreamId, Version};
use sluice_cli::relay_node::RelayNode;
use sluice_quinn::quinn_proto::ConnectionHandle;
use sluice_quinn::{Endpoint, ServerIdentity, ServerVerification, Transport, client_config, server_config};
use sluice_relay::{Relay, RelayConfig};

/// Longest single socket wait; a datagram wakes the loop at once.
const STEP: Duration = Duration::from_millis(5);

/// One sluice client connection and the events it has not consumed yet.
#[derive(Debug)]
pub struct Client {
    endpoint: Endpoint,
    conn: ConnectionHandle,
    pending: VecDeque<Event>,
    /// Every event seen, for failure messages.
    pub log: Vec<String>,
}

impl Client {
    /// Connects to `addr` over `transport`, offering only `version`, accepting any
    /// certificate (the peers generate theirs).
    pub fn connect(addr: SocketAddr, version: Version, transport: &Transport) -> Result<Client, String> {
        let tls = client_config(ServerVerification::Insecure, &[version]).map_err(|e| e.to_string())?;
        let mut endpoint =
            Endpoint::client("127.0.0.1:0".parse().map_err(|_| "addr")?, tls, Config::default())
                .map_err(|e| e.to_string())?;
        let conn =
            endpoint.connect_over(addr, "localhost", transport).map_err(|e| format!("connect: {e}"))?;
        Ok(Client { endpoint, conn, pending: VecDeque::new(), log: Vec::new() })
    }

    /// The session (fails once the connection is gone).
    pub fn session(&mut self) -> Result<&mut Session, String> {
        self.endpoint.connection(self.conn).map(|c| c.session()).ok_or_else(|| "connection gone".to_owned())
    }

    fn step(&mut self) -> Result<(), String> {
        self.endpoint.step(STEP).map_err(|e| format!("endpoint: {e}"))?;
        if let Some(conn) = self.endpoint.connection(self.conn) {
            for event in conn.take_events() {
                self.log.push(short(&event));
                self.pending.push_back(event);
            }
        }
        Ok(())
    }

    /// Steps until an event `pick` accepts (earlier unconsumed events first), consuming it;
    /// other events stay queued. Fails after `timeout`.
    pub fn wait<T>(
        &mut self,
        timeout: Duration,
        mut pick: impl FnMut(&Event) -> Option<T>,
    ) -> Result<T, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.pending.iter().position(|e| pick(e).is_some()) {
                let event = self.pending.remove(i).ok_or("queue")?;
                return pick(&event).ok_or_else(|| "pick changed its mind".to_owned());
            }
            if Instant::now() >= deadline {
                return Err(format!("timed out; events: [{}]", self.log.join(", ")));
            }
            self.step()?;
        }
    }

    /// Steps for `d`, keeping events queued.
    pub fn pump(&mut self, d: Duration) -> Result<(), String> {
        let deadline = Instant::now() + d;
        while Instant::now() < deadline {
            self.step()?;
        }
        Ok(())
    }

    /// Waits for `Ready` and returns the negotiated version.
    pub fn ready(&mut self, timeout: Duration) -> Result<Version, String> {
        self.wait(timeout, |e| match e {
            Event::Ready { version, .. } => Some(*version),
            _ => None,
        })
    }

    /// Writes one group of `frames` (one subgroup stream, closed with end of group).
    pub fn write_group(
        &mut self,
        request: RequestHandle,
        group: u64,
        frames: &[Bytes],
    ) -> Result<(), String> {
        let lite = matches!(self.session()?.version(), Some(Version::Lite(_)));
        let session = self.session()?;
        let stream: StreamId =
            session.open_subgroup(request, group, 0, None).map_err(|e| format!("open group {group}: {e}"))?;
        for (i, frame) in frames.iter().enumerate() {
            let object = ObjectWrite {
                timestamp: lite.then_some(group * 1000 + i as u64),
                ..ObjectWrite::new(i as u64, frame.clone())
            };
            session.write_object(stream, object).map_err(|e| format!("write {group}/{i}: {e}"))?;
        }
        session.close_subgroup(stream, true).map_err(|e| format!("close group {group}: {e}"))
    }

    /// Closes the session and steps briefly so the close leaves.
    pub fn close(mut self) {
        if let Ok(s) = self.session() {
            s.close(0, "done");
        }
        let _ = self.pump(Duration::from_millis(20));
    }
}

/// A command for an [`Actor`]'s client, answered on the reply channel.
type Command = Box<dyn FnOnce(&mut Client) -> Result<(), String> + Send>;
/// A command and where its result goes.
type Envelope = (Command, mpsc::Sender<Result<(), String>>);

/// A sluice client on its own thread. See the module docs.
#[derive(Debug)]
pub struct Actor {
    commands: Option<mpsc::Sender<Envelope>>,
    events: mpsc::Receiver<Event>,
    pending: VecDeque<Event>,
    log: Vec<String>,
    thread: Option<JoinHandle<()>>,
}

impl Actor {
    /// Connects a client (see [`Client::connect`]) and starts its thread.
    pub fn connect(addr: SocketAddr, version: Version, transport: &Transport) -> Result<Actor, String> {
        let mut client = Client::connect(addr, version, transport)?;
        let (cmd_tx, cmd_rx) = mpsc::channel::<Envelope>();
        let (evt_tx, evt_rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            loop {
                loop {
                    match cmd_rx.try_recv() {
                        Ok((cmd, reply)) => {
                            let _ = reply.send(cmd(&mut client));
                        }
                        Err(mpsc::TryRecvError::Empty) => break,
                        Err(mpsc::TryRecvError::Disconnected) => {
                            client.close();
                            return;
                        }
                    }
                }
                if client.step().is_err() {
                    return;
                }
                while let Some(event) = client.pending.pop_front() {
                    if evt_tx.send(event).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Actor {
            commands: Some(cmd_tx),
            events: evt_rx,
            pending: VecDeque::new(),
            log: Vec::new(),
            thread: Some(thread),
        })
    }

    /// Runs `f` on the client's thread and returns its result.
    pub fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<T, sluice::CommandError> + Send + 'static,
    ) -> Result<T, String> {
        let (out_tx, out_rx) = mpsc::channel();
        self.run_client(move |c| {
            let out = f(c.session()?).map_err(|e| e.to_string())?;
            let _ = out_tx.send(out);
            Ok(())
        })?;
        out_rx.recv().map_err(|_| "no result".to_owned())
    }

    /// Runs `f` with the whole client on its thread.
    pub fn run_client(
        &self,
        f: impl FnOnce(&mut Client) -> Result<(), String> + Send + 'static,
    ) -> Result<(), String> {
        let (reply_tx, reply_rx) = mpsc::channel();
        let commands = self.commands.as_ref().ok_or("actor stopped")?;
        commands.send((Box::new(f), reply_tx)).map_err(|_| "actor thread gone".to_owned())?;
        reply_rx.recv_timeout(Duration::from_secs(5)).map_err(|_| "actor did not answer".to_owned())?
    }

    /// Waits for an event `pick` accepts (earlier unconsumed events first), consuming it.
    pub fn wait<T>(
        &mut self,
        timeout: Duration,
        mut pick: impl FnMut(&Event) -> Option<T>,
    ) -> Result<T, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.pending.iter().position(|e| pick(e).is_some()) {
                let event = self.pending.remove(i).ok_or("queue")?;
                return pick(&event).ok_or_else(|| "pick changed its mind".to_owned());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("timed out; events: [{}]", self.log.join(", ")));
            }
            match self.events.recv_timeout(left) {
                Ok(event) => {
                    self.log.push(short(&event));
                    self.pending.push_back(event);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(format!("connection ended; events: [{}]", self.log.join(", ")));
                }
            }
        }
    }

    /// Waits for `Ready` and returns the negotiated version.
    pub fn ready(&mut self, timeout: Duration) -> Result<Version, String> {
        self.wait(timeout, |e| match e {
            Event::Ready { version, .. } => Some(*version),
            _ => None,
        })
    }

    /// Collects `n` objects of `request` (payloads, with their group and object ids).
    pub fn objects(
        &mut self,
        request: RequestHandle,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<(u64, u64, Bytes)>, String> {
        let mut got = Vec::new();
        while got.len() < n {
            got.push(self.wait(timeout, |e| match e {
                Event::Object { request: r, info, payload } if *r == request => {
                    Some((info.group, info.object, payload.to_bytes()))
                }
                _ => None,
            })?);
        }
        Ok(got)
    }

    /// The events seen so far, for failure messages.
    pub fn log(&self) -> String {
        self.log.join(", ")
    }
}

impl Drop for Actor {
    fn drop(&mut self) {
        self.commands.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A one-line rendering of an event for logs (payloads by length only).
pub fn short(event: &Event) -> String {
    match event {
        Event::Object { info, payload, .. } => {
            format!("Object({}/{} {}B)", info.group, info.object, payload.len())
        }
        other => {
            let mut s = format!("{other:?}");
            s.truncate(160);
            s
        }
    }
}

/// A sluice relay on its own thread, offering every version sluice speaks.
#[derive(Debug)]
pub struct RelayThread {
    /// Where clients connect.
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    goaway: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

impl RelayThread {
    /// Starts the relay on 127.0.0.1:0 with a self-signed certificate.
    pub fn start() -> Result<RelayThread, String> {
        let identity = ServerIdentity::self_signed(["localhost"]).map_err(|e| e.to_string())?;
        let tls = server_config(identity, &Version::ALL).map_err(|e| e.to_string())?;
        let server = Endpoint::server("127.0.0.1:0".parse().map_err(|_| "addr")?, tls, Config::default())
            .map_err(|e| e.to_string())?;
        let addr = server.local_addr().map_err(|e| e.to_string())?;
        let mut node = RelayNode::new(server, Relay::new(RelayConfig::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let goaway = Arc::new(AtomicBool::new(false));
        let (s, g) = (Arc::clone(&stop), Arc::clone(&goaway));
        let thread = std::thread::spawn(move || -> Result<(), String> {
            // A connection whose handshake the relay has not finished yet has no session to
            // carry GOAWAY (NotConnected); it is retried on every step until it takes one.
            let mut told = std::collections::HashSet::new();
            while !s.load(Ordering::Acquire) {
                node.step(STEP).map_err(|e| format!("relay: {e}"))?;
                if g.load(Ordering::Acquire) {
                    for conn in node.endpoint.connections() {
                        if !told.contains(&conn.handle())
                            && conn.session().goaway(Bytes::new(), Duration::from_secs(1)).is_ok()
                        {
                            told.insert(conn.handle());
                        }
                    }
                }
            }
            if std::env::var("MOQDEV_LOG").is_ok() {
                eprintln!("sluice relay stats: {:?}", node.relay.stats());
            }
            Ok(())
        });
        Ok(RelayThread { addr, stop, goaway, thread: Some(thread) })
    }

    /// Asks the relay to send GOAWAY (empty URI) on every session it has.
    pub fn send_goaway(&self) {
        self.goaway.store(true, Ordering::Release);
    }

    /// Stops the relay and reports whether its loop failed.
    pub fn stop(mut self) -> Result<(), String> {
        self.stop.store(true, Ordering::Release);
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| "relay thread panicked".to_owned())?,
            None => Ok(()),
        }
    }
}

impl Drop for RelayThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
