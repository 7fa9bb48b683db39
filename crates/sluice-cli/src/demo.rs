//! `sluice demo`: a relay, a publisher and a subscriber over real QUIC on 127.0.0.1, in one
//! process, for one MoQ version at a time.
//!
//! Sequence: a server endpoint runs the relay; the publisher connects (offering only the
//! version under test), announces `demo`, and once the relay routes that namespace the
//! subscriber connects and subscribes to `demo/video`. The relay forwards the subscription
//! upstream; the publisher paces objects for the configured duration and then ends the
//! track; the subscriber checks every object and the relay carries the end downstream.
//! Each endpoint runs its blocking loop on its own thread (relay, publisher, and the
//! subscriber on the caller's thread), so a datagram wakes its receiver at once: stepping
//! them alternately in one thread would add a socket timeout per endpoint per round, and
//! Linux rounds those up to a scheduler tick (4 ms at HZ=250). The threads share only
//! atomics (progress counters, "namespace routed", "stop"). The server's certificate is
//! self-signed and pinned by SHA-256 fingerprint.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sluice::{Config, Namespace, TrackName, Version};
use sluice_quinn::{Endpoint, ServerIdentity, ServerVerification, client_config, server_config};
use sluice_relay::{Relay, RelayConfig, RelayStats};

use crate::publisher::{Publisher, Schedule};
use crate::relay_node::RelayNode;
use crate::subscriber::{State, Subscriber};

/// Longest socket wait of each thread's loop (a datagram wakes it at once).
const THREAD_WAIT: Duration = Duration::from_millis(5);
/// Time allowed for connecting and routing before the track starts.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed after the track's nominal end for the end to arrive.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Demo parameters.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Track duration in seconds.
    pub seconds: f64,
    /// Objects per second.
    pub rate: u32,
    /// Objects per group.
    pub group_size: u32,
    /// Payload bytes per object.
    pub payload: usize,
}

/// What one run measured.
#[derive(Debug)]
pub struct Summary {
    /// The version under test.
    pub version: Version,
    /// Objects the track should have.
    pub expected: u64,
    /// Objects the publisher wrote.
    pub sent: u64,
    /// Payload bytes the publisher wrote.
    pub sent_bytes: u64,
    /// Objects received intact.
    pub received: u64,
    /// Payload bytes received.
    pub received_bytes: u64,
    /// Latency percentiles in microseconds: (p50, p99), if anything arrived.
    pub latency_us: Option<(u64, u64)>,
    /// The relay's counters at the end.
    pub relay: Option<RelayStats>,
    /// Every failure seen.
    pub errors: Vec<String>,
}

impl Summary {
    /// True when every object arrived intact, once, in order, and the track ended cleanly.
    pub fn intact(&self) -> bool {
        self.errors.is_empty()
            && self.sent == self.expected
            && self.received == self.sent
            && self.received_bytes == self.sent_bytes
    }

    /// The one-line report printed on stdout.
    pub fn line(&self) -> String {
        let latency = match self.latency_us {
            Some((p50, p99)) => format!("p50 {:.2} ms, p99 {:.2} ms", p50 as f64 / 1e3, p99 as f64 / 1e3),
            None => "n/a".to_owned(),
        };
        format!(
            "{}: sent {} objects ({} bytes), received {} objects ({} bytes), latency {latency}, integrity {}",
            self.version.alpn(),
            self.sent,
            self.sent_bytes,
            self.received,
            self.received_bytes,
            if self.intact() { "OK" } else { "FAILED" },
        )
    }
}

/// The `q`-th percentile (0..=100) of sorted values.
fn percentile(sorted: &[u64], q: usize) -> Option<u64> {
    let last = sorted.len().checked_sub(1)?;
    sorted.get(last * q / 100).copied()
}

/// Counters the threads publish for the live progress line and for coordination.
#[derive(Debug, Default)]
struct Shared {
    sent: AtomicU64,
    forwarded: AtomicU64,
    /// The relay routes the publisher's namespace: the subscriber may connect.
    routed: AtomicBool,
    /// The subscriber is done: the publisher and relay threads stop.
    stop: AtomicBool,
}

/// The relay thread: steps the server endpoint until told to stop.
fn relay_thread(
    mut node: RelayNode,
    namespace: Namespace,
    shared: Arc<Shared>,
) -> Result<RelayStats, String> {
    while !shared.stop.load(Ordering::Acquire) {
        node.step(THREAD_WAIT).map_err(|e| format!("relay: {e}"))?;
        shared.routed.store(node.relay.namespaces().contains(&namespace), Ordering::Release);
        shared.forwarded.store(node.relay.stats().objects_forwarded, Ordering::Relaxed);
    }
    Ok(node.relay.stats())
}

/// The publisher thread: publishes until told to stop (the track ends by itself).
fn publisher_thread(mut publisher: Publisher, shared: Arc<Shared>) -> Result<Publisher, String> {
    while !shared.stop.load(Ordering::Acquire) {
        publisher.step(THREAD_WAIT).map_err(|e| format!("publisher: {e}"))?;
        shared.sent.store(publisher.sent, Ordering::Relaxed);
    }
    Ok(publisher)
}

/// Runs the demo for `version`; errors are setup failures (sockets, TLS, threads),
/// everything else is in the summary.
pub fn run(version: Version, params: Params) -> Result<Summary, Box<dyn std::error::Error>> {
    let base = Instant::now();
    let namespace = Namespace::from_fields(["demo"]);
    let track = TrackName::new(namespace.clone(), "video");
    let total = (params.seconds * f64::from(params.rate)).round() as u64;
    let schedule =
        Schedule { rate: params.rate, group_size: params.group_size, payload: params.payload, total };

    let identity = ServerIdentity::self_signed(["localhost"])?;
    let pin = identity.fingerprint();
    let server =
        Endpoint::server("127.0.0.1:0".parse()?, server_config(identity, &Version::ALL)?, Config::default())?;
    let relay_addr = server.local_addr()?;
    let node = RelayNode::new(server, Relay::new(RelayConfig::default()));

    let client = |v: Version| -> Result<Endpoint, Box<dyn std::error::Error>> {
        let tls = client_config(ServerVerification::Pin(pin), &[v])?;
        Ok(Endpoint::client("127.0.0.1:0".parse()?, tls, Config::default())?)
    };
    let mut pub_endpoint = client(version)?;
    let pub_conn = pub_endpoint.connect(relay_addr, "localhost")?;
    let publisher = Publisher::new(pub_endpoint, pub_conn, namespace.clone(), schedule, base);

    let shared = Arc::new(Shared::default());
    let relay_handle = {
        let shared = Arc::clone(&shared);
        let namespace = namespace.clone();
        std::thread::Builder::new()
            .name("relay".into())
            .spawn(move || relay_thread(node, namespace, shared))?
    };
    let pub_handle = {
        let shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("publisher".into())
            .spawn(move || publisher_thread(publisher, shared))?
    };

    let mut errors = Vec::new();
    let subscriber = subscribe(version, &shared, client(version)?, relay_addr, track, params, base, total);
    shared.stop.store(true, Ordering::Release);
    let relay_result = relay_handle.join().map_err(|_| "relay thread panicked")?;
    let publisher = pub_handle.join().map_err(|_| "publisher thread panicked")?;
    let subscriber = subscriber?;
    let relay_stats = relay_result.as_ref().ok().copied();
    match relay_result {
        Ok(stats) => {
            if stats.late_objects_dropped > 0 || stats.streams_reset > 0 || stats.groups_skipped > 0 {
                errors.push(format!("relay lost data: {stats:?}"));
            }
        }
        Err(e) => errors.push(e),
    }
    let (sent, sent_bytes) = match publisher {
        Ok(p) => {
            if p.version != Some(version) {
                errors.push(format!("publisher negotiated {:?}", p.version));
            }
            errors.extend(p.errors);
            (p.sent, p.sent_bytes)
        }
        Err(e) => {
            errors.push(e);
            (0, 0)
        }
    };
    let missing = subscriber.missing(total);
    if let (Some(first), Some(last)) = (missing.first(), missing.last()) {
        errors.push(format!("{} objects never arrived (sequence {first}..={last})", missing.len()));
    }
    errors.extend(subscriber.errors);
    let mut sorted = subscriber.latencies_us;
    sorted.sort_unstable();
    let latency_us = percentile(&sorted, 50).zip(percentile(&sorted, 99));
    Ok(Summary {
        version,
        expected: total,
        sent,
        sent_bytes,
        received: subscriber.received,
        received_bytes: subscriber.received_bytes,
        latency_us,
        relay: relay_stats,
        errors,
    })
}

/// The subscriber, on the calling thread: waits for the relay to route the namespace,
/// connects, subscribes, collects until the track ends, prints progress once a second,
/// then closes its session.
#[allow(clippy::too_many_arguments)]
fn subscribe(
    version: Version,
    shared: &Shared,
    mut endpoint: Endpoint,
    relay_addr: SocketAddr,
    track: TrackName,
    params: Params,
    base: Instant,
    total: u64,
) -> Result<Subscriber, Box<dyn std::error::Error>> {
    let setup_deadline = Instant::now() + SETUP_TIMEOUT;
    while !shared.routed.load(Ordering::Acquire) {
        if Instant::now() > setup_deadline {
            return Err(
                format!("{}: the relay never routed the publisher's namespace", version.alpn()).into()
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let conn = endpoint.connect(relay_addr, "localhost")?;
    let mut subscriber =
        Subscriber::new(endpoint, conn, track, u64::from(params.group_size), params.payload, base);

    let started = Instant::now();
    let deadline = started + SETUP_TIMEOUT + Duration::from_secs_f64(params.seconds) + DRAIN_TIMEOUT;
    let mut next_report = started + Duration::from_secs(1);
    while subscriber.state != State::Ended {
        let now = Instant::now();
        if now > deadline {
            subscriber.errors.push(format!("timed out in state {:?}", subscriber.state));
            break;
        }
        if now >= next_report {
            next_report += Duration::from_secs(1);
            let mut sorted = subscriber.latencies_us.clone();
            sorted.sort_unstable();
            eprintln!(
                "  [{} {:>4.1}s] sent {}/{total}, relay forwarded {}, received {}, latency p50 {:.2} ms",
                version.alpn(),
                now.duration_since(started).as_secs_f64(),
                shared.sent.load(Ordering::Relaxed),
                shared.forwarded.load(Ordering::Relaxed),
                subscriber.received,
                percentile(&sorted, 50).unwrap_or(0) as f64 / 1e3,
            );
        }
        subscriber.step(THREAD_WAIT)?;
    }
    // Let the CONNECTION_CLOSE leave before the threads stop.
    subscriber.close();
    for _ in 0..3 {
        subscriber.step(Duration::from_millis(2))?;
    }
    Ok(subscriber)
}
