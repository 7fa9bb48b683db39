//! `sluice demo`: a relay, a publisher and a subscriber over real QUIC on 127.0.0.1, in one
//! process and one thread, for one MoQ version at a time.
//!
//! Sequence: a server endpoint runs the relay; the publisher connects (offering only the
//! version under test), announces `demo`, and once the relay routes that namespace the
//! subscriber connects and subscribes to `demo/video`. The relay forwards the subscription
//! upstream; the publisher paces objects for the configured duration and then ends the
//! track; the subscriber checks every object and the relay carries the end downstream.
//! All three endpoints are stepped alternately with a short socket wait. The server's
//! certificate is self-signed and pinned by SHA-256 fingerprint.

use std::time::{Duration, Instant};

use sluice::{Config, Namespace, TrackName, Version};
use sluice_quinn::{Endpoint, ServerIdentity, ServerVerification, client_config, server_config};
use sluice_relay::{Relay, RelayConfig};

use crate::publisher::{Publisher, Schedule};
use crate::relay_node::RelayNode;
use crate::subscriber::{State, Subscriber};

/// Socket wait per endpoint per loop round.
const STEP_WAIT: Duration = Duration::from_millis(1);
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

/// Runs the demo for `version`; errors are setup failures (sockets, TLS), everything else
/// is in the summary.
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
    let mut relay = RelayNode::new(server, Relay::new(RelayConfig::default()));

    let client = |v: Version| -> Result<Endpoint, Box<dyn std::error::Error>> {
        let tls = client_config(ServerVerification::Pin(pin), &[v])?;
        Ok(Endpoint::client("127.0.0.1:0".parse()?, tls, Config::default())?)
    };
    let mut pub_endpoint = client(version)?;
    let pub_conn = pub_endpoint.connect(relay_addr, "localhost")?;
    let mut publisher = Publisher::new(pub_endpoint, pub_conn, namespace.clone(), schedule, base);

    // Connect the publisher and wait until the relay routes its namespace.
    let setup_deadline = Instant::now() + SETUP_TIMEOUT;
    while !relay.relay.namespaces().contains(&namespace) {
        if Instant::now() > setup_deadline {
            return Err(
                format!("{}: the relay never routed the publisher's namespace", version.alpn()).into()
            );
        }
        publisher.step(STEP_WAIT)?;
        relay.step(STEP_WAIT)?;
    }
    if publisher.version != Some(version) {
        return Err(format!("{}: publisher negotiated {:?}", version.alpn(), publisher.version).into());
    }

    let mut sub_endpoint = client(version)?;
    let sub_conn = sub_endpoint.connect(relay_addr, "localhost")?;
    let mut subscriber =
        Subscriber::new(sub_endpoint, sub_conn, track, u64::from(params.group_size), params.payload, base);

    let started = Instant::now();
    let deadline = started + SETUP_TIMEOUT + Duration::from_secs_f64(params.seconds) + DRAIN_TIMEOUT;
    let mut next_report = started + Duration::from_secs(1);
    let mut timed_out = false;
    while subscriber.state != State::Ended {
        let now = Instant::now();
        if now > deadline {
            timed_out = true;
            break;
        }
        if now >= next_report {
            next_report += Duration::from_secs(1);
            let mut sorted = subscriber.latencies_us.clone();
            sorted.sort_unstable();
            eprintln!(
                "  [{} {:>4.1}s] sent {}/{total}, received {}, p50 {:.2} ms, relay forwarded {}",
                version.alpn(),
                now.duration_since(started).as_secs_f64(),
                publisher.sent,
                subscriber.received,
                percentile(&sorted, 50).unwrap_or(0) as f64 / 1e3,
                relay.relay.stats().objects_forwarded,
            );
        }
        publisher.step(STEP_WAIT)?;
        relay.step(STEP_WAIT)?;
        subscriber.step(STEP_WAIT)?;
    }

    // Say goodbye so the relay sees both peers leave.
    subscriber.close();
    for _ in 0..20 {
        subscriber.step(STEP_WAIT)?;
        relay.step(STEP_WAIT)?;
        publisher.step(STEP_WAIT)?;
    }

    let mut errors = publisher.errors;
    errors.extend(subscriber.errors);
    if timed_out {
        errors.push(format!("timed out in state {:?}", subscriber.state));
    }
    let mut sorted = subscriber.latencies_us;
    sorted.sort_unstable();
    let latency_us = percentile(&sorted, 50).zip(percentile(&sorted, 99));
    Ok(Summary {
        version,
        expected: total,
        sent: publisher.sent,
        sent_bytes: publisher.sent_bytes,
        received: subscriber.received,
        received_bytes: subscriber.received_bytes,
        latency_us,
        errors,
    })
}
