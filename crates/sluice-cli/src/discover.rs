//! `sluice discover`: which namespaces a relay announces under a prefix, as they come and go.
//!
//! Opens one session, asks for the namespaces under `--prefix` (MOQT SUBSCRIBE_NAMESPACE,
//! lite ANNOUNCE_INTEREST) and writes one line per change to stdout, flushed at once:
//! `+PATH` when a namespace is announced, `-PATH` when it is withdrawn (PATH is the full
//! namespace, fields joined by `/`). It exits 0 after `--count` lines, and non-zero when
//! the discovery is refused or ended, the session closes, or `--timeout` seconds pass first.
//! Scripts use it to see a peer's announcements through a relay (scripts/browser-interop.sh).

use std::io::Write;
use std::time::{Duration, Instant};

use sluice::{Event, RequestHandle};

use crate::client::{ClientArgs, ConnectError, Link};
use crate::publish::namespace;
use crate::vlog;

/// Longest socket wait of the loop.
const WAIT: Duration = Duration::from_millis(5);
/// How long the final close may take before we stop waiting for it.
const CLOSE_WAIT: Duration = Duration::from_millis(200);

/// `sluice discover` options.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The namespace prefix, fields separated by `/` (empty: every namespace).
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// Exit 0 after this many `+`/`-` lines.
    #[arg(long, default_value_t = 1)]
    pub count: u64,
    /// Exit non-zero if `--count` lines have not been written after this many seconds.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
}

/// Runs `sluice discover` to stdout.
pub fn run(args: &Args) -> Result<(), ConnectError> {
    let stdout = std::io::stdout().lock();
    discover(args, stdout)
}

/// Discovers under `args.prefix`, writing the `+`/`-` lines to `out` (see the module docs).
pub fn discover(args: &Args, mut out: impl Write) -> Result<(), ConnectError> {
    if !(args.timeout.is_finite() && args.timeout >= 0.0) {
        return Err(ConnectError::Other("--timeout must be a number of seconds".to_owned()));
    }
    let deadline = Instant::now() + Duration::from_secs_f64(args.timeout);
    let verification = args.client.verification().map_err(ConnectError::Other)?;
    let mut link = Link::connect(&args.client.url, &args.client.offer(), verification)?;
    let mut request: Option<RequestHandle> = None;
    let mut written = 0;
    let outcome = loop {
        if written >= args.count {
            break Ok(());
        }
        if Instant::now() >= deadline {
            break Err(format!("{written} of {} change(s) seen in {} s", args.count, args.timeout));
        }
        if let Err(e) = link.step(WAIT) {
            break Err(e);
        }
        let Some(conn) = link.connection() else { break Err("the session is gone".to_owned()) };
        let mut failure = None;
        for event in conn.take_events() {
            let line = match event {
                Event::Ready { version, .. } => {
                    vlog!("session ready: {}", version.alpn());
                    match conn.session().discover(namespace(&args.prefix)) {
                        Ok(r) => request = Some(r),
                        Err(e) => failure = Some(format!("discover refused locally: {e}")),
                    }
                    continue;
                }
                Event::NamespaceFound { request: r, namespace } if Some(r) == request => {
                    format!("+{}", namespace.to_path())
                }
                Event::NamespaceGone { request: r, namespace } if Some(r) == request => {
                    format!("-{}", namespace.to_path())
                }
                Event::DiscoveryEnded { request: r, reason } if Some(r) == request => {
                    failure = Some(format!("discovery ended: {} {}", reason.code, reason.text));
                    continue;
                }
                Event::Closed { code, reason, .. } => {
                    failure = Some(format!("session closed: {code} {reason}"));
                    continue;
                }
                _ => continue,
            };
            if written < args.count {
                if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
                    failure = Some(format!("writing stdout: {e}"));
                }
                written += 1;
            }
        }
        if let Some(why) = failure {
            break Err(why);
        }
    };
    link.close("discovery done");
    let closed_by = Instant::now() + CLOSE_WAIT;
    while !link.is_gone() && Instant::now() < closed_by {
        let _ = link.step(Duration::from_millis(2));
    }
    outcome.map_err(ConnectError::Other)
}
