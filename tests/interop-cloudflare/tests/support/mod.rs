//! Shared helpers of the Cloudflare interop tests.
#![allow(dead_code)]

pub mod cf;
pub mod matrix;
pub mod media;
pub mod sluice_side;

use matrix::{Carrier, Verdict};

/// Why a cell did not pass.
pub enum Miss {
    Fail(String),
    /// The peer is wrong by the draft text: the test observed exactly the recorded
    /// behaviour (anything else fails it); the cell records the failure with the section.
    PeerBug(String),
}

impl From<String> for Miss {
    fn from(s: String) -> Miss {
        Miss::Fail(s)
    }
}

/// Runs one cell on a fresh tokio runtime (the peer) and records it; returns the verdict.
pub fn cell<F>(case: &str, direction: &str, carrier: Carrier, f: F) -> Verdict
where
    F: FnOnce(&tokio::runtime::Runtime, Carrier) -> Result<(), Miss>,
{
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let verdict = match f(&rt, carrier) {
        Ok(()) => Verdict::Pass,
        Err(Miss::Fail(why)) => Verdict::Fail(why),
        Err(Miss::PeerBug(why)) => Verdict::Fail(format!("peer bug: {why}")),
    };
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    matrix::record(case, direction, carrier, verdict.clone());
    verdict
}

/// Runs a (case, direction) on both carriers and fails the test if any cell failed.
pub fn both<F>(case: &str, direction: &str, f: F)
where
    F: Fn(&tokio::runtime::Runtime, Carrier) -> Result<(), Miss>,
{
    let mut failures = Vec::new();
    for carrier in [Carrier::Quic, Carrier::WebTransport] {
        // A recorded peer bug is the behaviour the test expects (see `Miss::PeerBug`).
        if let Verdict::Fail(why) = cell(case, direction, carrier, &f)
            && !why.starts_with("peer bug:")
        {
            failures.push(format!("{carrier}: {why}"));
        }
    }
    assert!(failures.is_empty(), "{case} / {direction}: {}", failures.join("; "));
}

/// Records a named limit of the peer.
pub fn not_applicable(case: &str, direction: &str, why: &str) {
    for carrier in [Carrier::Quic, Carrier::WebTransport] {
        matrix::record(case, direction, carrier, Verdict::NotApplicable(why.to_owned()));
    }
}
