//! Shared pieces of the moq-dev interop tests: the matrix writer, the sluice side (threads),
//! the moq-dev side (tokio), and the test data.

// Each test binary uses a subset of these helpers.
#![allow(dead_code)]

// moq-net 0.2 (under moq-native) and 0.3 (under moq-tokio) share the shape of their
// group/frame API but not its types, so each step below is written once as a macro and
// expanded in `peer.rs` / `native.rs` (0.2) and `tokio_peer.rs` (0.3).

/// Writes `$frames` as the next group of track producer `$track` (stamped by `$net`'s
/// clock), finishes it and evaluates to `Ok(sequence)`.
macro_rules! moq_net_write_group {
    ($net:ident, $track:expr, $frames:expr) => {{
        let mut group = $track.append_group().map_err(|e| format!("append group: {e}"))?;
        let sequence = group.sequence;
        for f in $frames {
            group.write_frame($net::Timestamp::now(), f.clone()).map_err(|e| format!("write frame: {e}"))?;
        }
        group.finish().map_err(|e| format!("finish group: {e}"))?;
        Ok(sequence)
    }};
}

/// Reads `$groups` groups of track subscriber `$sub` in arrival order, `$frames` frames each
/// (counted rather than read to each group's end): `Ok(vec![(sequence, frames)])`.
macro_rules! moq_net_read_groups {
    ($sub:expr, $groups:expr, $frames:expr) => {{
        let mut out = Vec::new();
        while out.len() < $groups {
            let Some(mut group) = $sub.recv_group().await.map_err(|e| format!("recv group: {e}"))? else {
                return Err(format!("track ended after {} groups", out.len()));
            };
            let mut got = Vec::new();
            while got.len() < $frames {
                match group.read_frame().await.map_err(|e| format!("read frame: {e}"))? {
                    Some(frame) => got.push(frame.payload),
                    None => break,
                }
            }
            out.push((group.sequence, got));
        }
        Ok(out)
    }};
}

/// Fetches group `$g` of track consumer `$track` and reads its first `$frames` frames, each
/// step within [`T`]: `Ok(frames)`.
macro_rules! moq_net_fetch_group {
    ($track:expr, $g:expr, $frames:expr) => {{
        let mut group = tokio::time::timeout(T, $track.fetch_group($g, None))
            .await
            .map_err(|_| "fetch unanswered".to_owned())?
            .map_err(|e| format!("fetch refused: {e}"))?;
        let mut got = Vec::new();
        while got.len() < $frames {
            match tokio::time::timeout(T, group.read_frame())
                .await
                .map_err(|_| "fetch stalled".to_owned())?
                .map_err(|e| e.to_string())?
            {
                Some(fr) => got.push(fr.payload),
                None => break,
            }
        }
        Ok(got)
    }};
}

pub mod matrix;
pub mod native;
pub mod peer;
pub mod peer_to_sluice;
pub mod script;
pub mod sluice_side;
pub mod sluice_to_peer;
pub mod tokio_peer;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sluice::{LiteVersion, MoqtVersion, Namespace, TrackName, Version};

/// How long any one step of a case may take.
pub const T: Duration = Duration::from_secs(5);

/// The versions both sides share (sluice: lite-04, lite-05, draft-18; moq-dev: all three).
pub const VERSIONS: [Version; 3] = [
    Version::Lite(LiteVersion::Lite04),
    Version::Lite(LiteVersion::Lite05),
    Version::Moqt(MoqtVersion::Draft18),
];

/// The interop cases, by the public runner's names plus ours.
pub const CASES: [&str; 13] = [
    "setup-only",
    "announce-only",
    "publish-namespace-done",
    "subscribe-error",
    "announce-subscribe",
    "subscribe-before-announce",
    "publish-track-only",
    "publish-track-subscribe",
    "single-object",
    "multiple-groups",
    "late-subscriber",
    "fetch",
    "goaway",
];

/// Where and how a client reaches the relay under test: its UDP address and whether over
/// WebTransport (HTTP/3 extended CONNECT to `/`, served on the same port) or raw QUIC.
#[derive(Debug, Clone, Copy)]
pub struct Dial {
    /// The relay's UDP address.
    pub addr: SocketAddr,
    /// WebTransport instead of raw QUIC.
    pub wt: bool,
}

impl Dial {
    /// The matrix's transport column.
    pub fn name(&self) -> &'static str {
        if self.wt { "webtransport" } else { "quic" }
    }

    /// The sluice client transport.
    pub fn transport(&self) -> sluice_quinn::Transport {
        if self.wt {
            sluice_quinn::Transport::WebTransport { path: "/".into() }
        } else {
            sluice_quinn::Transport::Quic
        }
    }

    /// The moq-native URL: `https://` is WebTransport, `moqt://` raw QUIC.
    pub fn url(&self) -> String {
        format!("{}://{}/", if self.wt { "https" } else { "moqt" }, self.addr)
    }
}

/// Both transports, raw QUIC first.
pub const TRANSPORTS: [bool; 2] = [false, true];

/// moq-net has lite FETCH only from lite-05 on, although lite-04 §Fetch defines the Fetch
/// Stream (0x3); lite-04 lets a publisher answer it with a reset, which is what it does.
pub const LITE04_NO_FETCH: &str = "moq-net implements lite FETCH from lite-05 only (moq-net-0.3.18 \
    src/lite/publisher.rs:297 and moq-net-0.2.22 src/lite/publisher.rs recv_fetch reset a lite-04 Fetch \
    Stream; moq-net-0.2.22 src/lite/subscriber.rs TrackServe::run refuses to send one, Error::Version; \
    src/lite/version.rs has_track_stream), though lite-04 §Fetch defines it";

/// moq-lite has no PUBLISH message.
pub const LITE_NO_PUBLISH: &str = "moq-lite has no PUBLISH message (publisher-initiated track)";

/// The broadcast path / namespace every case publishes.
pub const PATH: &str = "interop";
/// The track name.
pub const TRACK: &str = "t";

/// The namespace of [`PATH`].
pub fn namespace() -> Namespace {
    Namespace::from_fields([PATH])
}

/// The track every case publishes.
pub fn track() -> TrackName {
    TrackName::new(namespace(), TRACK)
}

/// The frames of group `g`: `n` distinct payloads of different lengths (byte-exact checks).
pub fn frames(g: u64, n: usize) -> Vec<Bytes> {
    (0..n)
        .map(|o| {
            let mut v = format!("group {g} object {o} ").into_bytes();
            v.extend(
                (0..(o * 37 + g as usize * 11)).map(|i| (i as u8).wrapping_mul(7).wrapping_add(g as u8)),
            );
            Bytes::from(v)
        })
        .collect()
}

/// The version's ALPN, the matrix's version column.
pub fn alpn(v: Version) -> &'static str {
    v.alpn()
}

/// Debugging aid: `MOQDEV_CASE=name` runs only that case (the matrix then holds only it),
/// and `MOQDEV_LOG=debug` prints moq-dev's tracing output.
pub fn selected(case: &str) -> bool {
    static LOG: std::sync::Once = std::sync::Once::new();
    LOG.call_once(|| {
        if let Ok(level) = std::env::var("MOQDEV_LOG") {
            let level = level.parse().unwrap_or(tracing::Level::DEBUG);
            let _ = moq_native::Log::new(level).init();
        }
    });
    std::env::var("MOQDEV_CASE").map_or(true, |c| c == case)
}

/// The tokio runtime the moq-dev side of a test runs on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// The matrix cell of `peer` for one version, transport, case and direction.
pub fn cell(
    peer: &'static str,
    v: Version,
    wt: bool,
    case: &'static str,
    direction: &'static str,
    outcome: matrix::Outcome,
) -> matrix::Cell {
    let transport = Dial { addr: ([127, 0, 0, 1], 0).into(), wt }.name();
    matrix::Cell { peer, version: alpn(v), transport, case, direction, outcome }
}

/// Runs `scenario` for every transport and (selected) case, each on a fresh sluice relay,
/// and gives the cells of `peer` in `direction`.
pub fn relay_cells(
    peer: &'static str,
    v: Version,
    direction: &'static str,
    scenario: fn(
        &tokio::runtime::Runtime,
        &sluice_side::RelayThread,
        Version,
        bool,
        &str,
    ) -> Result<matrix::Outcome, String>,
) -> Vec<matrix::Cell> {
    let rt = runtime();
    let mut cells = Vec::new();
    for wt in TRANSPORTS {
        for case in CASES.into_iter().filter(|c| selected(c)) {
            let outcome = sluice_side::RelayThread::start()
                .and_then(|relay| {
                    let out = scenario(&rt, &relay, v, wt, case);
                    relay.stop()?;
                    out
                })
                .unwrap_or_else(matrix::Outcome::Fail);
            cells.push(cell(peer, v, wt, case, direction, outcome));
        }
    }
    cells
}
