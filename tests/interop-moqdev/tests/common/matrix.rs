//! The interop matrix: every test records its cells (peer × version × transport × case ×
//! direction → outcome) in its own file under `target/interop/moqdev/`, then rewrites
//! `target/interop/moqdev.md` from every cell file present, so parallel tests never lose
//! each other's rows (the last writer sees them all).

use std::fmt;
use std::path::PathBuf;

/// What a cell came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The case did what the draft says, with a note on what was checked.
    Pass(String),
    /// It did not (the test fails).
    Fail(String),
    /// A named limit of the peer makes the case impossible, with where it is in their code.
    NotApplicable(String),
    /// Waiting on sluice work that is not merged yet.
    Pending(String),
    /// The peer disagrees with the draft (the reason cites the section); what the peer
    /// does is what the test checks.
    PeerBug(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (word, why) = match self {
            Outcome::Pass(w) => ("pass", w),
            Outcome::Fail(w) => ("FAIL", w),
            Outcome::NotApplicable(w) => ("n/a", w),
            Outcome::Pending(w) => ("pending", w),
            Outcome::PeerBug(w) => ("n/a (peer bug)", w),
        };
        let why = why.replace(['|', '\n', '\t'], " ");
        if why.is_empty() { write!(f, "{word}") } else { write!(f, "{word}: {why}") }
    }
}

/// One cell of the matrix.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The other implementation (crate and version).
    pub peer: &'static str,
    /// The MoQ version (ALPN).
    pub version: &'static str,
    /// `quic` or `webtransport`.
    pub transport: &'static str,
    /// The interop case.
    pub case: &'static str,
    /// Who plays which part.
    pub direction: &'static str,
    /// The result.
    pub outcome: Outcome,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/interop")
}

/// Writes `cells` as the record of test `test`, regenerates the markdown matrix, and
/// panics (failing the test) if any cell failed.
pub fn record(test: &str, cells: &[Cell]) {
    let dir = root().join("moqdev");
    std::fs::create_dir_all(&dir).expect("create target/interop/moqdev");
    let mut text = String::new();
    for c in cells {
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            c.peer, c.version, c.transport, c.case, c.direction, c.outcome
        ));
    }
    let tmp = dir.join(format!("{test}.tsv.tmp"));
    std::fs::write(&tmp, text).expect("write cells");
    std::fs::rename(&tmp, dir.join(format!("{test}.tsv"))).expect("publish cells");
    write_markdown(&dir);

    let failed: Vec<String> = cells
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Fail(_)))
        .map(|c| {
            format!("{} {} {} {} [{}]: {}", c.peer, c.version, c.transport, c.case, c.direction, c.outcome)
        })
        .collect();
    assert!(failed.is_empty(), "failing interop cells:\n{}", failed.join("\n"));
}

/// Serializes the markdown rewrite among this binary's test threads.
static MARKDOWN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn write_markdown(dir: &std::path::Path) {
    let _guard = MARKDOWN.lock().unwrap_or_else(|e| e.into_inner());
    let mut rows: Vec<String> = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "tsv") {
            if let Ok(text) = std::fs::read_to_string(&path) {
                rows.extend(text.lines().map(str::to_owned));
            }
        }
    }
    rows.sort();
    rows.dedup();
    let mut md = String::from(
        "# sluice × moq-dev interop matrix\n\n\
         Written by `cargo test -p sluice-interop-moqdev`. Peers: moq-relay 0.17.10 \
         (`test_relay()`), moq-native 0.19.19 (client and server), moq-tokio 0.19.31 \
         (moq-net 0.3.18) clients, on 127.0.0.1.\n\n\
         | peer | version | transport | case | direction | result |\n\
         |---|---|---|---|---|---|\n",
    );
    for row in rows {
        let cols: Vec<&str> = row.split('\t').collect();
        md.push_str(&format!("| {} |\n", cols.join(" | ")));
    }
    let tmp = dir.with_extension("md.tmp");
    if std::fs::write(&tmp, md).is_ok() {
        let _ = std::fs::rename(&tmp, root().join("moqdev.md"));
    }
}
