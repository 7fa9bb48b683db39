//! The interop matrix: every test records its cells here, and after each record the whole
//! table is rewritten to `target/interop/cloudflare.md` under the workspace root, so the file
//! always holds every cell recorded by this run (tests run in parallel in one process).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Mutex;

/// The peer, as the matrix names it.
pub const PEER: &str = "moq-transport 0.17.0 (Cloudflare)";
/// The only version both sides speak.
pub const VERSION: &str = "moqt-18";

/// How the session is carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Carrier {
    /// MoQ directly on QUIC (ALPN `moqt-18`).
    Quic,
    /// MoQ inside WebTransport over HTTP/3 (ALPN `h3`).
    WebTransport,
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Carrier::Quic => "raw QUIC",
            Carrier::WebTransport => "WebTransport",
        })
    }
}

/// A cell's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The case passed.
    Pass,
    /// The case failed, and why.
    Fail(String),
    /// A named limit of the peer (with where in its code).
    NotApplicable(String),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Pass => f.write_str("pass"),
            Verdict::Fail(why) => write!(f, "**fail**: {why}"),
            Verdict::NotApplicable(why) => write!(f, "n/a: {why}"),
        }
    }
}

type Key = (String, String, Carrier);

static CELLS: Mutex<BTreeMap<Key, Verdict>> = Mutex::new(BTreeMap::new());

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/interop/cloudflare.md")
}

/// Records one cell and rewrites the matrix file.
pub fn record(case: &str, direction: &str, carrier: Carrier, verdict: Verdict) {
    let mut cells = CELLS.lock().unwrap_or_else(|e| e.into_inner());
    cells.insert((case.to_owned(), direction.to_owned(), carrier), verdict);
    let mut text = format!(
        "# Interop matrix: sluice vs {PEER}\n\nVersion: {VERSION} (the only version the peer speaks). \
         Written by `cargo test -p sluice-interop-cloudflare`; cells of tests that did not run in \
         this invocation are absent.\n\n| peer | version | transport | case | direction | result |\n|---|---|---|---|---|---|\n"
    );
    for ((case, direction, carrier), verdict) in cells.iter() {
        let verdict = verdict.to_string().replace('|', "\\|").replace('\n', " ");
        text.push_str(&format!("| {PEER} | {VERSION} | {carrier} | {case} | {direction} | {verdict} |\n"));
    }
    let path = path();
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(&path, text);
}
