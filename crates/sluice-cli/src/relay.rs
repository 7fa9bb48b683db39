//! `sluice relay`: the sans-IO relay ([`crate::relay_node`]) on one UDP port, serving every
//! MoQ version sluice speaks (ALPN picks), until SIGINT or SIGTERM.
//!
//! On SIGINT/SIGTERM the relay shuts down gracefully: every session is closed with NO_ERROR
//! (reason "relay shutting down"), the socket loop runs until the closes are sent (at most
//! [`SHUTDOWN_GRACE`]), the final relay counters are printed (`relay stopped: …`) and the
//! process exits 0. A second SIGINT during that exits at once with status 1.
//!
//! The certificate is a fresh self-signed one unless `--cert`/`--key` name PEM files; its
//! SHA-256 fingerprint is printed on stderr as `fingerprint: <hex>` (clients pin it with
//! `--fingerprint`), and the bound address as `listening: <addr>` (useful with port 0).
//!
//! moq-lite Probe streams (lite-04/05 §Probe) are answered with the connection's RTT and
//! bitrate estimates (`Config::lite_probe`); `--no-probe` resets them instead, as the drafts
//! require of a publisher without estimates.
//!
//! For tests of session migration, `--goaway-after SECS` and/or `--goaway-after-objects N`
//! make the relay send GOAWAY once (with `--goaway-uri`, default empty: reconnect to the
//! same URL) to every session open at that moment; sessions opened later are served
//! normally. `--goaway-timeout MS` is the draft-18 Timeout field (§10.4): 0, the default,
//! arms no deadline; otherwise sessions still open when it runs out are closed with
//! GOAWAY_TIMEOUT by the core.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sluice::{Config, Version};
use sluice_quinn::{Endpoint, ServerIdentity, server_config};
use sluice_relay::{Relay, RelayConfig};

use crate::relay_node::RelayNode;
use crate::vlog;

/// Longest socket wait of the loop.
const WAIT: Duration = Duration::from_millis(5);
/// Longest wait for closing sessions at shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// `sluice relay` options.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// UDP address to serve on.
    #[arg(long, default_value = "127.0.0.1:4443")]
    pub listen: SocketAddr,
    /// PEM certificate chain (leaf first); a self-signed certificate when absent.
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// PEM private key of `--cert`.
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// How long a subscription waits for a publisher of its namespace, in seconds: moq-lite
    /// subscriptions always, draft-18 ones up to their RENDEZVOUS_TIMEOUT (a draft-18
    /// SUBSCRIBE without it is refused at once with DOES_NOT_EXIST, as the draft says).
    #[arg(long, default_value_t = 10.0)]
    pub subscribe_wait: f64,
    /// Send GOAWAY to every open session this many seconds after start.
    #[arg(long)]
    pub goaway_after: Option<f64>,
    /// Send GOAWAY to every open session once this many objects have been forwarded.
    #[arg(long)]
    pub goaway_after_objects: Option<u64>,
    /// The GOAWAY's new session URI (empty: reconnect to the same URL).
    #[arg(long, default_value = "")]
    pub goaway_uri: String,
    /// The GOAWAY's timeout in milliseconds (0: none).
    #[arg(long, default_value_t = 0)]
    pub goaway_timeout: u64,
    /// Reset moq-lite Probe streams instead of answering them with RTT/bitrate estimates.
    #[arg(long)]
    pub no_probe: bool,
}

/// Sets the returned flag on SIGINT or SIGTERM; a second SIGINT exits with status 1.
fn shutdown_flag() -> Result<Arc<AtomicBool>, String> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag = Arc::new(AtomicBool::new(false));
    let err = |e: std::io::Error| format!("installing signal handlers: {e}");
    // Order matters: the conditional exit must see the flag before this signal sets it.
    signal_hook::flag::register_conditional_shutdown(SIGINT, 1, flag.clone()).map_err(err)?;
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register(signal, flag.clone()).map_err(err)?;
    }
    Ok(flag)
}

/// Runs the relay until SIGINT or SIGTERM (see the module docs).
pub fn run(args: &Args) -> Result<(), String> {
    let stop = shutdown_flag()?;
    let identity = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => ServerIdentity::from_pem_files(cert, key),
        _ => ServerIdentity::self_signed(["localhost".to_owned(), args.listen.ip().to_string()]),
    }
    .map_err(|e| e.to_string())?;
    eprintln!("fingerprint: {}", identity.fingerprint());
    let tls = server_config(identity, &Version::ALL).map_err(|e| e.to_string())?;
    // Probe answers are on by default: @moq/lite (browsers) treats a reset Probe stream as fatal.
    let config = Config { lite_probe: !args.no_probe, ..Config::default() };
    let endpoint = Endpoint::server(args.listen, tls, config).map_err(|e| e.to_string())?;
    eprintln!("listening: {}", endpoint.local_addr().map_err(|e| e.to_string())?);
    if !(args.subscribe_wait.is_finite() && args.subscribe_wait >= 0.0) {
        return Err("--subscribe-wait must be a number of seconds".to_owned());
    }
    let subscribe_wait = Duration::from_secs_f64(args.subscribe_wait);
    let config = RelayConfig { subscribe_wait, ..RelayConfig::default() };
    let mut node = RelayNode::new(endpoint, Relay::new(config));
    let started = Instant::now();
    let goaway_at = args.goaway_after.map(|s| started + Duration::from_secs_f64(s.max(0.0)));
    let mut goaway_sent = false;
    let mut seen = Seen::default();
    while !stop.load(Ordering::Relaxed) {
        node.step(WAIT).map_err(|e| e.to_string())?;
        let forwarded = node.relay.stats().objects_forwarded;
        let due = goaway_at.is_some_and(|t| Instant::now() >= t)
            || args.goaway_after_objects.is_some_and(|n| forwarded >= n);
        if due && !goaway_sent {
            goaway_sent = true;
            send_goaway(&mut node, args);
        }
        seen.report(&mut node);
    }
    shutdown(&mut node)
}

/// Closes every session with NO_ERROR, steps until they are gone (or the grace runs out),
/// and prints the final counters.
fn shutdown(node: &mut RelayNode) -> Result<(), String> {
    let mut closed = 0;
    for conn in node.endpoint.connections() {
        if !conn.session().is_closed() {
            conn.session().close(0, "relay shutting down");
            closed += 1;
        }
    }
    eprintln!("shutting down: closing {closed} session(s)");
    let deadline = Instant::now() + SHUTDOWN_GRACE;
    while node.endpoint.connections().next().is_some() && Instant::now() < deadline {
        node.step(WAIT).map_err(|e| e.to_string())?;
    }
    let s = node.relay.stats();
    eprintln!(
        "relay stopped: {} objects forwarded, {} upstream subscription(s), {} groups skipped, {} streams reset, {} requests refused for load",
        s.objects_forwarded,
        s.upstream_subscribes,
        s.groups_skipped,
        s.streams_reset,
        s.refused_excessive_load
    );
    Ok(())
}

/// Sends GOAWAY on every open session.
fn send_goaway(node: &mut RelayNode, args: &Args) {
    let uri = Bytes::from(args.goaway_uri.clone().into_bytes());
    let timeout = Duration::from_millis(args.goaway_timeout);
    let mut sent = 0;
    for conn in node.endpoint.connections() {
        if conn.version().is_some() && conn.session().goaway(uri.clone(), timeout).is_ok() {
            sent += 1;
        }
    }
    eprintln!("goaway: sent to {sent} session(s)");
}

/// What `-v` reports when it changes.
#[derive(Debug, Default)]
struct Seen {
    sessions: usize,
    namespaces: usize,
    waiting: usize,
    tracks: usize,
}

impl Seen {
    fn report(&mut self, node: &mut RelayNode) {
        if !crate::log::verbose() {
            return;
        }
        let now = Seen {
            sessions: node.endpoint.connections().count(),
            namespaces: node.relay.namespaces().len(),
            waiting: node.relay.waiting(),
            tracks: node.relay.tracks(),
        };
        if now.sessions != self.sessions {
            vlog!("sessions: {}", now.sessions);
        }
        if now.namespaces != self.namespaces {
            vlog!("namespaces routed: {}", now.namespaces);
        }
        if now.waiting != self.waiting {
            vlog!("subscriptions waiting for a publisher: {}", now.waiting);
        }
        if now.tracks != self.tracks {
            vlog!("tracks relayed: {} (so far: {:?})", now.tracks, node.relay.stats());
        }
        *self = now;
    }
}
