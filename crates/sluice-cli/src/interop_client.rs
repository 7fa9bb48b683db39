//! `sluice interop-client`: the test client of the public MoQ interop runner, so that sluice
//! can take part in its client × relay matrix.
//!
//! The contract is the runner's, not ours (moq-interop-runner, `docs/TEST-CLIENT-INTERFACE.md`
//! and `docs/tests/TEST-CASES.md`, the draft-18 revision of the englishm/moq-interop-runner
//! repository):
//! * options `-r/--relay URL` (`https://` = WebTransport, `moqt://` = raw QUIC; default
//!   `https://localhost:4443`), `-t/--test NAME` (all when absent), `-l/--list` (one name a
//!   line, not TAP), `--tls-disable-verify`; the environment `RELAY_URL`, `TESTCASE`,
//!   `TLS_DISABLE_VERIFY=1`, `VERBOSE=1` and `MOQT_DRAFT=draft-NN` apply when the option is
//!   not given;
//! * TAP version 14 on stdout: the version line, `#` comments naming the client, relay and
//!   draft, the plan `1..N`, one `ok N - name` / `not ok N - name` per case with a YAML block
//!   (`duration_ms`, and `expected` / `received` / `message` on failure);
//! * exit 0 when every requested case passed, 1 when one failed, 127 when the case (or the
//!   version) is not supported by this client.
//!
//! The cases (names and timeouts exactly as TEST-CASES.md gives them; namespaces
//! `moq-test/interop`, `nonexistent/namespace`, `moq-test/publish`; tracks `test-track`,
//! `published-track`): `setup-only` (2 s), `announce-only` (2 s), `publish-namespace-done`
//! (2 s), `subscribe-error` (2 s), `announce-subscribe` (3 s), `subscribe-before-announce`
//! (3.5 s, publisher 500 ms after the subscriber; SUBSCRIBE_OK or REQUEST_ERROR both pass),
//! `publish-track-only` and `publish-track-subscribe` (10 s each; the PUBLISH flow of
//! draft-18 §9.5 / §10.10, which moq-lite does not have: those two are `# SKIP` in a run of
//! every case and exit 127 when asked for alone over moq-lite). publish-track-subscribe's
//! SUBSCRIBE carries RENDEZVOUS_TIMEOUT 5000 ms (draft-18 §"RENDEZVOUS TIMEOUT Parameter",
//! `SubscribeOptions::rendezvous_timeout_ms`), so the relay holds it for the publisher that
//! connects after it; every other SUBSCRIBE sends none (absent = answer at once).
//!
//! Then issue 6's data cases ([`data`]; namespace `moq-test/data/<case>-<run id>`, fresh
//! per case and run, track `test-track`; payloads checked byte for byte and in order), in
//! every version, each a `not ok` with `expected`/`received` when the relay gets it wrong:
//! * `single-object` (5 s): group 1 object 0, then the track's end;
//! * `multiple-groups` (10 s): groups 1..=5 of three objects (one of 3000 bytes);
//! * `late-subscriber` (10 s): a second subscriber joins after groups 1..=3 with the
//!   default filter and must get exactly, MOQT (Largest Object, draft-18 §5.1.2): groups 4
//!   and 5; moq-lite (the latest group): groups 3, 4 and 5;
//! * `fetch` (10 s): a standalone FETCH of group 2 (MOQT and both lite versions: lite-04
//!   §Fetch and lite-05 §Fetch both define the whole-group FETCH) and, MOQT only, a
//!   relative joining FETCH one group back (groups 2 and 3);
//! * `goaway` (10 s; tracks `old-track`, `new-track`): a relay's GOAWAY cannot be caused by
//!   a client, so the publisher sends its own, with the empty URI draft-18 §GOAWAY requires
//!   of a client (lite-04/05 §Goaway: either endpoint may), and checks what the draft gives
//!   it: its existing subscription keeps flowing ("does not impact subscription state"), a
//!   reconnected publisher session can announce again, and a new SUBSCRIBE goes to that
//!   session, not to the one that said GOAWAY (draft-18: the receiver "SHOULD NOT initiate
//!   new requests"; lite: "MUST NOT open new streams").
//!
//! Where a case needs a publisher and a subscriber the client opens both sessions to the
//! relay itself; a failed case's sessions are closed all the same (`Drop`), so the relay
//! routes nothing of the next case to them.
//!
//! Not done: the runner's SHOULD of reporting QUIC connection IDs (quinn-proto does not
//! expose them through `sluice-quinn`).

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sluice::{
    Event, LiteVersion, MoqtVersion, ObjectWrite, RequestHandle, Session, SubscribeOptions, TrackInfo,
    TrackName, Version,
};
use sluice_quinn::{Fingerprint, ServerVerification};
use sluice_relay::codes::{self, Family};

use crate::client::{Link, VersionArg, VersionOffer};
use crate::url::MoqUrl;

mod data;

/// Every case: the runner's eight in its order, then issue 6's data cases ([`data`]).
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

/// Exit code: every requested case passed.
pub const EXIT_PASS: u8 = 0;
/// Exit code: a case failed.
pub const EXIT_FAIL: u8 = 1;
/// Exit code: the case (or the version) is not supported by this client.
pub const EXIT_UNSUPPORTED: u8 = 127;

/// The relay URL when neither `--relay` nor `RELAY_URL` gives one.
pub const DEFAULT_RELAY: &str = "https://localhost:4443";

/// Payload of publish-track-only's one object (TEST-CASES.md).
pub const PUBLISH_TRACK_ONLY_PAYLOAD: &[u8] = b"moqt18-publish-track-only";
/// Payload of publish-track-subscribe's one object (TEST-CASES.md).
pub const PUBLISH_TRACK_SUBSCRIBE_PAYLOAD: &[u8] = b"moqt18-publish-track-subscribe";

/// Longest socket wait of a loop round (two sessions share the thread).
const WAIT: Duration = Duration::from_millis(2);
/// How long a graceful close may take before we stop waiting for it.
const CLOSE_WAIT: Duration = Duration::from_millis(100);

/// `sluice interop-client` options (see the module docs).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// Relay URL: `moqt://host:port/path` (raw QUIC) or `https://host:port/path`
    /// (WebTransport). Env RELAY_URL; default https://localhost:4443.
    #[arg(short = 'r', long)]
    pub relay: Option<String>,
    /// Run only this case (all when absent). Env TESTCASE.
    #[arg(short = 't', long)]
    pub test: Option<String>,
    /// List the cases, one a line.
    #[arg(short = 'l', long)]
    pub list: bool,
    /// Accept any relay certificate. Env TLS_DISABLE_VERIFY=1.
    #[arg(long)]
    pub tls_disable_verify: bool,
    /// Accept exactly the relay certificate with this SHA-256 fingerprint (hex).
    #[arg(long, conflicts_with = "tls_disable_verify")]
    pub fingerprint: Option<String>,
    /// The MoQ version to offer (only it). Env MOQT_DRAFT=draft-18; default d18.
    #[arg(long, value_enum)]
    pub version: Option<VersionArg>,
}

/// The outcome of a run: the process exit code and what goes to stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// 0 pass, 1 fail, 127 unsupported.
    pub exit_code: u8,
    /// TAP 14 (or, with `--list`, the case names).
    pub stdout: String,
}

/// The options after the environment filled in what the command line left out.
#[derive(Debug, Clone)]
struct Resolved {
    relay: String,
    test: Option<String>,
    list: bool,
    insecure: bool,
    fingerprint: Option<String>,
    version: Result<Version, String>,
}

fn resolve(args: &Args, env: &dyn Fn(&str) -> Option<String>) -> Resolved {
    let flag = |name: &str| env(name).is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
    let version = match (args.version, env("MOQT_DRAFT")) {
        (Some(v), _) => Ok(v.into()),
        (None, None) => Ok(Version::Moqt(MoqtVersion::Draft18)),
        (None, Some(draft)) => match draft.trim() {
            "draft-18" | "18" | "moqt-18" => Ok(Version::Moqt(MoqtVersion::Draft18)),
            "moq-lite-04" | "lite-04" => Ok(Version::Lite(LiteVersion::Lite04)),
            "moq-lite-05" | "lite-05" => Ok(Version::Lite(LiteVersion::Lite05)),
            other => Err(format!("MOQT_DRAFT={other}: sluice speaks draft-18, moq-lite-04 and moq-lite-05")),
        },
    };
    Resolved {
        relay: args.relay.clone().or_else(|| env("RELAY_URL")).unwrap_or_else(|| DEFAULT_RELAY.to_owned()),
        test: args.test.clone().or_else(|| env("TESTCASE")).filter(|t| !t.trim().is_empty()),
        list: args.list,
        insecure: args.tls_disable_verify || flag("TLS_DISABLE_VERIFY"),
        fingerprint: args.fingerprint.clone(),
        version,
    }
}

/// Runs `args` with the process environment (see [`run_with_env`]).
pub fn run(args: &Args) -> Outcome {
    if std::env::var("VERBOSE").is_ok_and(|v| v.trim() == "1") {
        crate::log::set_verbose(true);
    }
    run_with_env(args, &|name| std::env::var(name).ok())
}

/// Runs `args`, taking what the command line left out from `env` (RELAY_URL, TESTCASE,
/// TLS_DISABLE_VERIFY, MOQT_DRAFT).
pub fn run_with_env(args: &Args, env: &dyn Fn(&str) -> Option<String>) -> Outcome {
    let opts = resolve(args, env);
    if opts.list {
        let stdout = CASES.iter().map(|c| format!("{c}\n")).collect();
        return Outcome { exit_code: EXIT_PASS, stdout };
    }
    let cases: Vec<&'static str> = match &opts.test {
        None => CASES.to_vec(),
        Some(name) => match CASES.iter().find(|c| **c == name.trim()) {
            Some(c) => vec![*c],
            None => return unsupported(&format!("unknown test case {name:?} (see --list)")),
        },
    };
    let version = match opts.version {
        Ok(v) => v,
        Err(e) => return unsupported(&e),
    };
    if let [only] = cases.as_slice()
        && !expressible(only, version)
    {
        return unsupported(&format!("{only} needs MOQT PUBLISH, which {} does not have", version.alpn()));
    }
    let mut tap = String::from("TAP version 14\n");
    let _ = writeln!(tap, "# sluice interop-client {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(tap, "# Relay: {}", opts.relay);
    let _ = writeln!(tap, "# Draft: {}", draft_name(version));
    let url: MoqUrl = match opts.relay.parse() {
        Ok(u) => u,
        Err(e) => return bail(tap, &format!("bad relay URL: {e}")),
    };
    let verification = match (&opts.fingerprint, opts.insecure) {
        (Some(hex), _) => match hex.parse::<Fingerprint>() {
            Ok(pin) => ServerVerification::Pin(pin),
            Err(e) => return bail(tap, &format!("--fingerprint: {e}")),
        },
        (None, true) => ServerVerification::Insecure,
        (None, false) => {
            return bail(
                tap,
                "no trust anchor: give --tls-disable-verify (TLS_DISABLE_VERIFY=1) or --fingerprint",
            );
        }
    };
    let ctx = Ctx { url, offer: VersionOffer::new(vec![version]), verification, version, run: run_id() };
    let _ = writeln!(tap, "1..{}", cases.len());
    let mut failed = false;
    for (i, case) in cases.iter().enumerate() {
        let n = i + 1;
        if !expressible(case, version) {
            let _ = writeln!(tap, "ok {n} - {case} # SKIP needs MOQT PUBLISH, not in {}", version.alpn());
            continue;
        }
        let started = Instant::now();
        let result = run_case(&ctx, case);
        let ms = started.elapsed().as_millis();
        match result {
            Ok(note) => {
                let _ = writeln!(tap, "ok {n} - {case}\n  ---\n  duration_ms: {ms}");
                if !note.is_empty() {
                    let _ = writeln!(tap, "  message: {}", yaml_str(&note));
                }
                tap.push_str("  ...\n");
            }
            Err(f) => {
                failed = true;
                let _ = writeln!(tap, "not ok {n} - {case}\n  ---\n  duration_ms: {ms}");
                let _ = writeln!(tap, "  expected: {}", yaml_str(&f.expected));
                let _ = writeln!(tap, "  received: {}", yaml_str(&f.received));
                tap.push_str("  ...\n");
            }
        }
    }
    Outcome { exit_code: if failed { EXIT_FAIL } else { EXIT_PASS }, stdout: tap }
}

fn unsupported(why: &str) -> Outcome {
    Outcome { exit_code: EXIT_UNSUPPORTED, stdout: format!("TAP version 14\n1..0 # SKIP {why}\n") }
}

fn bail(mut tap: String, why: &str) -> Outcome {
    let _ = writeln!(tap, "Bail out! {}", why.replace('\n', " "));
    Outcome { exit_code: EXIT_FAIL, stdout: tap }
}

fn yaml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', " "))
}

/// `draft-18`, `moq-lite-04`, … (the runner's `# Draft:` header).
fn draft_name(version: Version) -> String {
    match version {
        Version::Moqt(MoqtVersion::Draft18) => "draft-18".to_owned(),
        v => v.alpn().to_owned(),
    }
}

/// Whether `case` can be run over `version` (the PUBLISH flow is MOQT only).
pub fn expressible(case: &str, version: Version) -> bool {
    !(case.starts_with("publish-track") && matches!(version, Version::Lite(_)))
}

/// Where and how every session of a run connects.
struct Ctx {
    url: MoqUrl,
    offer: VersionOffer,
    verification: ServerVerification,
    version: Version,
    /// Names this run's data-case tracks apart from an earlier run's that a relay may
    /// still cache (see [`data`]).
    run: String,
}

impl Ctx {
    /// The wire family of the run's version (for end and error codes).
    fn family(&self) -> Family {
        match self.version {
            Version::Lite(_) => Family::Lite,
            _ => Family::Moqt,
        }
    }
}

/// A short id unique to this process and moment (hex of the process id and clock).
fn run_id() -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    format!("{:x}{:x}", std::process::id(), nanos & 0xff_ffff)
}

/// Why a case failed.
#[derive(Debug)]
struct Failure {
    expected: String,
    received: String,
}

fn fail(expected: &str, received: impl Into<String>) -> Failure {
    Failure { expected: expected.to_owned(), received: received.into() }
}

fn run_case(ctx: &Ctx, case: &str) -> Result<String, Failure> {
    match case {
        "setup-only" => setup_only(ctx),
        "announce-only" => announce_only(ctx, false),
        "publish-namespace-done" => announce_only(ctx, true),
        "subscribe-error" => subscribe_error(ctx),
        "announce-subscribe" => announce_subscribe(ctx),
        "subscribe-before-announce" => subscribe_before_announce(ctx),
        "publish-track-only" => publish_track_only(ctx),
        "publish-track-subscribe" => publish_track_subscribe(ctx),
        "single-object" => data::single_object(ctx),
        "multiple-groups" => data::multiple_groups(ctx),
        "late-subscriber" => data::late_subscriber(ctx),
        "fetch" => data::fetch(ctx),
        "goaway" => data::goaway(ctx),
        other => Err(fail("a known case", other)),
    }
}

/// One session of a case and the events it has not consumed yet.
struct Peer {
    role: &'static str,
    link: Link,
    events: VecDeque<Event>,
    /// Accept every incoming SUBSCRIBE for these tracks (the publisher role).
    serve: Vec<TrackName>,
    /// Subscriptions accepted for `serve` (the subscriber gone: removed).
    served: Vec<(RequestHandle, TrackName)>,
    /// The track of every SUBSCRIBE the relay sent us, served or not.
    subscribes_seen: Vec<TrackName>,
    /// Every object written for a served track (track, group, object, payload): what a
    /// FETCH forwarded to us is answered from.
    written: Vec<(TrackName, u64, u64, Bytes)>,
    /// Objects go to `objects` instead of `events` (the data cases).
    collect: bool,
    /// Objects received (with `collect`), per subscription or fetch, in arrival order.
    objects: Vec<(RequestHandle, (u64, u64, Bytes))>,
    /// The session closed: code, reason, by peer.
    closed: Option<(u64, String, bool)>,
}

impl Peer {
    fn connect(ctx: &Ctx, role: &'static str) -> Result<Peer, Failure> {
        let link = Link::connect(&ctx.url, &ctx.offer, ctx.verification.clone())
            .map_err(|e| fail(&format!("{role} connection"), e.to_string()))?;
        Ok(Peer {
            role,
            link,
            events: VecDeque::new(),
            serve: Vec::new(),
            served: Vec::new(),
            subscribes_seen: Vec::new(),
            written: Vec::new(),
            collect: false,
            objects: Vec::new(),
            closed: None,
        })
    }

    fn session(&mut self) -> Result<&mut Session, Failure> {
        let role = self.role;
        match self.link.connection() {
            Some(c) => Ok(c.session()),
            None => Err(fail(&format!("{role} session open"), "connection gone")),
        }
    }

    /// Steps the socket once and takes the session's events (answering SUBSCRIBEs for
    /// the served track at once).
    fn pump(&mut self, wait: Duration) -> Result<(), Failure> {
        self.link.step(wait).map_err(|e| fail(&format!("{} socket", self.role), e))?;
        let Some(conn) = self.link.connection() else { return Ok(()) };
        let events = conn.take_events();
        for event in events {
            match event {
                Event::IncomingSubscribe { request, track, .. } => {
                    let serve = self.serve.contains(&track);
                    self.subscribes_seen.push(track.clone());
                    crate::vlog!("{}: SUBSCRIBE {request:?} for {track:?} (serving it: {serve})", self.role);
                    let session = self.session()?;
                    if serve {
                        session
                            .accept_subscribe(request, TrackInfo::default())
                            .map_err(|e| fail("SUBSCRIBE_OK sent", e.to_string()))?;
                        if self.link.connection().and_then(|c| c.version())
                            == Some(Version::Lite(LiteVersion::Lite05))
                        {
                            // lite-05's SUBSCRIBE_OK names the subscription's first group, so
                            // a track with no group yet answers when one opens: open group 0
                            // (empty) so the answer goes out now.
                            let session = self.session()?;
                            let stream = session
                                .open_subgroup(request, 0, 0, None)
                                .map_err(|e| fail("group 0 opened", e.to_string()))?;
                            let _ = session.close_subgroup(stream, true);
                        }
                        self.served.push((request, track));
                    } else {
                        let _ = session.reject(request, codes::does_not_exist(Family::Moqt), "not here");
                    }
                }
                Event::IncomingTrackStatus { request, track } => {
                    // A relay may ask for the track's status before subscribing (moq-relay
                    // does on lite-05): the served track exists, nothing published yet.
                    let serve = self.serve.contains(&track);
                    crate::vlog!(
                        "{}: TRACK_STATUS {request:?} for {track:?} (serving it: {serve})",
                        self.role
                    );
                    let session = self.session()?;
                    if serve {
                        session
                            .accept_subscribe(request, TrackInfo::default())
                            .map_err(|e| fail("TRACK_STATUS answered", e.to_string()))?;
                    } else {
                        let _ = session.reject(request, codes::does_not_exist(Family::Moqt), "not here");
                    }
                }
                Event::IncomingFetch { request, track, start, end, .. } => {
                    crate::vlog!("{}: FETCH {request:?} for {track:?} {start:?}..{end:?}", self.role);
                    self.serve_fetch(request, &track, start, end)?;
                }
                Event::SubscriberGone { request } => {
                    crate::vlog!("{}: subscriber gone {request:?}", self.role);
                    self.served.retain(|(r, _)| *r != request);
                }
                // Status objects (END_OF_GROUP after a group's last object) carry no data.
                Event::Object { info, .. } if self.collect && info.status != sluice::ObjectStatus::Normal => {
                }
                Event::Object { request, info, payload } if self.collect => {
                    self.objects.push((request, (info.group, info.object, payload.to_bytes())));
                }
                Event::Closed { code, reason, by_peer } => {
                    crate::vlog!("{}: closed {code} {reason} (by peer: {by_peer})", self.role);
                    self.closed = Some((code, reason.clone(), by_peer));
                    self.events.push_back(Event::Closed { code, reason, by_peer });
                }
                other => {
                    crate::vlog!("{}: {other:?}", self.role);
                    self.events.push_back(other);
                }
            }
        }
        Ok(())
    }

    /// Answers a FETCH the relay forwarded to us from `written`: the objects of a served
    /// track from `start` up to `end` (MOQT: the wire End Location, object 0 = the whole
    /// group; moq-lite: the one group `start.group`), or DOES_NOT_EXIST when there are none.
    fn serve_fetch(
        &mut self,
        request: RequestHandle,
        track: &TrackName,
        start: sluice::Location,
        end: Option<sluice::Location>,
    ) -> Result<(), Failure> {
        let lite = matches!(self.link.connection().and_then(|c| c.version()), Some(Version::Lite(_)));
        let wanted = |g: u64, o: u64| {
            let from = (g, o) >= (start.group, start.object);
            let to = match end {
                _ if lite => g == start.group,
                None => true,
                Some(e) if e.object == 0 => g <= e.group,
                Some(e) => (g, o) < (e.group, e.object),
            };
            from && to
        };
        let objects: Vec<(u64, u64, Bytes)> = self
            .written
            .iter()
            .filter(|(t, g, o, _)| t == track && wanted(*g, *o))
            .map(|(_, g, o, p)| (*g, *o, p.clone()))
            .collect();
        let family = if lite { Family::Lite } else { Family::Moqt };
        let session = self.session()?;
        let Some((last_g, last_o, _)) = objects.last() else {
            let _ = session.reject(request, codes::does_not_exist(family), "no such objects");
            return Ok(());
        };
        let end = sluice::Location { group: *last_g, object: last_o + 1 };
        session.accept_fetch(request, end).map_err(|e| fail("FETCH answered", e.to_string()))?;
        for (g, o, payload) in objects {
            let object = ObjectWrite { timestamp: Some(g * 1000 + o), ..ObjectWrite::new(o, payload) };
            session
                .write_fetch_object(request, g, 0, object)
                .map_err(|e| fail("fetch object written", e.to_string()))?;
        }
        session.finish_fetch(request).map_err(|e| fail("fetch finished", e.to_string()))
    }

    /// Removes and returns the first queued event `pick` maps to something.
    fn take<T>(&mut self, pick: &mut impl FnMut(&Event) -> Option<T>) -> Option<T> {
        let i = self.events.iter().position(|e| pick(e).is_some())?;
        self.events.remove(i).and_then(|e| pick(&e))
    }

    /// Closes with NO_ERROR and steps until the connection is gone (or [`CLOSE_WAIT`]).
    fn close(self) {
        drop(self);
    }
}

/// A case that fails returns early: its sessions still close properly, so the relay does
/// not route the next case's requests to a publisher that is gone.
impl Drop for Peer {
    fn drop(&mut self) {
        if self.link.is_gone() {
            return;
        }
        self.link.close("interop test done");
        let until = Instant::now() + CLOSE_WAIT;
        while !self.link.is_gone() && Instant::now() < until {
            if self.link.step(WAIT).is_err() {
                break;
            }
        }
    }
}

/// Steps every peer until `peers[who]` has an event `pick` accepts (returned), the
/// deadline passes, or that peer's session closes.
fn wait_for<T>(
    peers: &mut [&mut Peer],
    who: usize,
    deadline: Instant,
    expected: &str,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> Result<T, Failure> {
    loop {
        if let Some(peer) = peers.get_mut(who) {
            if let Some(found) = peer.take(&mut pick) {
                return Ok(found);
            }
            if let Some((code, reason, _)) = &peer.closed {
                return Err(fail(expected, format!("{} session closed: code {code} ({reason})", peer.role)));
            }
        }
        if Instant::now() >= deadline {
            let role = peers.get(who).map_or("?", |p| p.role);
            return Err(fail(expected, format!("timeout ({role})")));
        }
        let wait = if peers.len() > 1 { Duration::from_millis(1) } else { WAIT };
        for p in peers.iter_mut() {
            p.pump(wait)?;
        }
    }
}

/// Steps every peer until `done` holds (true) or the deadline passes (false).
fn step_until(
    peers: &mut [&mut Peer],
    deadline: Instant,
    mut done: impl FnMut(&mut [&mut Peer]) -> bool,
) -> Result<bool, Failure> {
    loop {
        if done(peers) {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        for p in peers.iter_mut() {
            p.pump(Duration::from_millis(1))?;
        }
    }
}

fn ready(peer: &mut Peer, deadline: Instant) -> Result<Version, Failure> {
    wait_for(&mut [peer], 0, deadline, "SETUP exchange (session ready)", |e| match e {
        Event::Ready { version, .. } => Some(*version),
        _ => None,
    })
}

fn interop_ns() -> sluice::Namespace {
    sluice::Namespace::from_path("moq-test/interop")
}

fn interop_track() -> TrackName {
    TrackName::new(interop_ns(), "test-track")
}

fn published_track() -> TrackName {
    TrackName::new(sluice::Namespace::from_path("moq-test/publish"), "published-track")
}

fn announce_accepted(
    peers: &mut [&mut Peer],
    who: usize,
    request: RequestHandle,
    deadline: Instant,
) -> Result<(), Failure> {
    let got = wait_for(peers, who, deadline, "REQUEST_OK (PUBLISH_NAMESPACE_OK)", |e| match e {
        Event::AnnounceAccepted { request: r } if *r == request => Some(Ok(())),
        Event::AnnounceEnded { request: r, reason } if *r == request => {
            Some(Err(format!("REQUEST_ERROR {} ({})", reason.code, reason.text)))
        }
        _ => None,
    })?;
    got.map_err(|r| fail("REQUEST_OK (PUBLISH_NAMESPACE_OK)", r))
}

/// The session did not close with an error (by the relay) during the case.
fn no_error_close(peer: &Peer) -> Result<(), Failure> {
    match &peer.closed {
        Some((code, reason, true)) if *code != 0 => {
            Err(fail("clean session", format!("relay closed the session: code {code} ({reason})")))
        }
        _ => Ok(()),
    }
}

/// setup-only: SETUP exchanged, then a graceful close.
fn setup_only(ctx: &Ctx) -> Result<String, Failure> {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut peer = Peer::connect(ctx, "client")?;
    let version = ready(&mut peer, deadline)?;
    if version != ctx.version {
        return Err(fail(ctx.version.alpn(), format!("negotiated {}", version.alpn())));
    }
    peer.close();
    Ok(String::new())
}

/// announce-only (and, with `withdraw`, publish-namespace-done: the announce is then
/// withdrawn by cancelling its request, draft-18 §3.3.2, before the close).
fn announce_only(ctx: &Ctx, withdraw: bool) -> Result<String, Failure> {
    let mut peer = Peer::connect(ctx, "publisher")?;
    ready(&mut peer, Instant::now() + Duration::from_secs(2))?;
    let deadline = Instant::now() + Duration::from_secs(2);
    let request =
        peer.session()?.announce(interop_ns()).map_err(|e| fail("PUBLISH_NAMESPACE sent", e.to_string()))?;
    announce_accepted(&mut [&mut peer], 0, request, deadline)?;
    if withdraw {
        peer.session()?.cancel(request).map_err(|e| fail("PUBLISH_NAMESPACE_DONE sent", e.to_string()))?;
        // Let the withdrawal reach the relay; an error close would show up here.
        let settle = Instant::now() + Duration::from_millis(100);
        step_until(&mut [&mut peer], settle, |_| false)?;
        no_error_close(&peer)?;
        if peer.link.is_gone() {
            return Err(fail("clean session", "connection gone after PUBLISH_NAMESPACE_DONE"));
        }
    }
    peer.close();
    Ok(String::new())
}

/// subscribe-error: a SUBSCRIBE for a namespace nobody publishes is refused.
fn subscribe_error(ctx: &Ctx) -> Result<String, Failure> {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut peer = Peer::connect(ctx, "subscriber")?;
    ready(&mut peer, deadline)?;
    let track = TrackName::new(sluice::Namespace::from_path("nonexistent/namespace"), "test-track");
    let request = peer
        .session()?
        .subscribe(track, SubscribeOptions::default())
        .map_err(|e| fail("SUBSCRIBE sent", e.to_string()))?;
    let got = wait_for(&mut [&mut peer], 0, deadline, "REQUEST_ERROR", |e| match e {
        Event::SubscribeFailed { request: r, reason } if *r == request => Some(Ok(reason.code)),
        Event::Subscribed { request: r, .. } if *r == request => Some(Err(())),
        _ => None,
    })?;
    let code = got.map_err(|()| fail("REQUEST_ERROR", "SUBSCRIBE_OK (unexpected success)"))?;
    peer.close();
    Ok(format!("REQUEST_ERROR code {code}"))
}

/// announce-subscribe: a publisher announces, a subscriber's SUBSCRIBE is routed to it.
fn announce_subscribe(ctx: &Ctx) -> Result<String, Failure> {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut publisher = Peer::connect(ctx, "publisher")?;
    publisher.serve = vec![interop_track()];
    ready(&mut publisher, deadline)?;
    let announce = publisher
        .session()?
        .announce(interop_ns())
        .map_err(|e| fail("PUBLISH_NAMESPACE sent", e.to_string()))?;
    announce_accepted(&mut [&mut publisher], 0, announce, deadline)?;
    // Over moq-lite the subscriber first waits for the relay to announce the namespace to
    // it, so the SUBSCRIBE cannot race the relay's handling of the announce.
    let mut subscriber = data::subscriber(ctx, "subscriber", &interop_ns(), &mut [&mut publisher], deadline)?;
    let request = subscriber
        .session()?
        .subscribe(interop_track(), SubscribeOptions::default())
        .map_err(|e| fail("SUBSCRIBE sent", e.to_string()))?;
    let got = wait_for(&mut [&mut subscriber, &mut publisher], 0, deadline, "SUBSCRIBE_OK", |e| match e {
        Event::Subscribed { request: r, .. } if *r == request => Some(Ok(())),
        Event::SubscribeFailed { request: r, reason } if *r == request => {
            Some(Err(format!("REQUEST_ERROR {} ({})", reason.code, reason.text)))
        }
        _ => None,
    })?;
    got.map_err(|r| fail("SUBSCRIBE_OK", r))?;
    if publisher.served.is_empty() {
        return Err(fail(
            "SUBSCRIBE routed to the publisher",
            "SUBSCRIBE_OK without the publisher seeing it",
        ));
    }
    subscriber.close();
    publisher.close();
    Ok(String::new())
}

/// subscribe-before-announce: SUBSCRIBE first, PUBLISH_NAMESPACE 500 ms later; either
/// SUBSCRIBE_OK or REQUEST_ERROR passes (the runner's "graceful handling").
fn subscribe_before_announce(ctx: &Ctx) -> Result<String, Failure> {
    let start = Instant::now();
    let deadline = start + Duration::from_millis(3500);
    let mut subscriber = Peer::connect(ctx, "subscriber")?;
    ready(&mut subscriber, deadline)?;
    let request = subscriber
        .session()?
        .subscribe(interop_track(), SubscribeOptions::default())
        .map_err(|e| fail("SUBSCRIBE sent", e.to_string()))?;
    let mut answer = None;
    let mut pick = |e: &Event| match e {
        Event::Subscribed { request: r, .. } if *r == request => Some("SUBSCRIBE_OK".to_owned()),
        Event::SubscribeFailed { request: r, reason } if *r == request => {
            Some(format!("REQUEST_ERROR code {}", reason.code))
        }
        _ => None,
    };
    let publisher_at = start + Duration::from_millis(500);
    while Instant::now() < publisher_at && answer.is_none() {
        subscriber.pump(WAIT)?;
        answer = subscriber.take(&mut pick);
    }
    let mut publisher = Peer::connect(ctx, "publisher")?;
    publisher.serve = vec![interop_track()];
    let mut announce = None;
    while answer.is_none() {
        if Instant::now() >= deadline {
            return Err(fail("SUBSCRIBE_OK or REQUEST_ERROR", "timeout"));
        }
        subscriber.pump(Duration::from_millis(1))?;
        publisher.pump(Duration::from_millis(1))?;
        if announce.is_none()
            && publisher.take(&mut |e| matches!(e, Event::Ready { .. }).then_some(())).is_some()
        {
            announce = Some(
                publisher
                    .session()?
                    .announce(interop_ns())
                    .map_err(|e| fail("PUBLISH_NAMESPACE sent", e.to_string()))?,
            );
        }
        answer = subscriber.take(&mut pick);
        if let Some((code, reason, _)) = &subscriber.closed {
            return Err(fail("SUBSCRIBE_OK or REQUEST_ERROR", format!("session closed: {code} ({reason})")));
        }
    }
    subscriber.close();
    publisher.close();
    Ok(answer.unwrap_or_default())
}

/// PUBLISH the test track and wait for PUBLISH_OK; returns the request and Forward State.
fn publish_accepted(
    peers: &mut [&mut Peer],
    who: usize,
    deadline: Instant,
) -> Result<(RequestHandle, bool), Failure> {
    let request = match peers.get_mut(who) {
        Some(p) => p
            .session()?
            .publish(published_track(), TrackInfo::default())
            .map_err(|e| fail("PUBLISH sent", e.to_string()))?,
        None => return Err(fail("publisher", "none")),
    };
    let got = wait_for(peers, who, deadline, "REQUEST_OK (PUBLISH_OK)", |e| match e {
        Event::PublishAccepted { request: r, options } if *r == request => Some(Ok(options.forward)),
        Event::PublishRefused { request: r, reason } if *r == request => {
            Some(Err(format!("REQUEST_ERROR {} ({})", reason.code, reason.text)))
        }
        _ => None,
    })?;
    let forward = got.map_err(|r| fail("REQUEST_OK (PUBLISH_OK)", r))?;
    Ok((request, forward))
}

/// Group 0, subgroup 0, object 0 with `payload`, the stream finished.
fn write_one_object(peer: &mut Peer, request: RequestHandle, payload: &'static [u8]) -> Result<(), Failure> {
    let session = peer.session()?;
    let stream = session
        .open_subgroup(request, 0, 0, None)
        .map_err(|e| fail("subgroup stream opened", e.to_string()))?;
    session
        .write_object(stream, ObjectWrite::new(0, Bytes::from_static(payload)))
        .map_err(|e| fail("object written", e.to_string()))?;
    session.close_subgroup(stream, false).map_err(|e| fail("subgroup stream FIN", e.to_string()))
}

/// PUBLISH_DONE (TRACK_ENDED) after the data, then waits until the relay's QUIC stack has
/// acknowledged every byte and FIN (the subgroup stream and the request stream).
fn end_track(
    peers: &mut [&mut Peer],
    who: usize,
    request: RequestHandle,
    deadline: Instant,
) -> Result<(), Failure> {
    if let Some(p) = peers.get_mut(who) {
        p.session()?
            .end_subscription(request, codes::track_ended(Family::Moqt), "track ended")
            .map_err(|e| fail("PUBLISH_DONE sent", e.to_string()))?;
    }
    let delivered = step_until(peers, deadline, |peers| {
        peers
            .get_mut(who)
            .and_then(|p| p.link.connection())
            .is_some_and(|c| c.queued_bytes() == 0 && c.unacked_streams() == 0)
    })?;
    if delivered { Ok(()) } else { Err(fail("PUBLISH_DONE and streams acknowledged", "timeout")) }
}

/// publish-track-only: PUBLISH with nobody subscribed; honour the Forward State.
fn publish_track_only(ctx: &Ctx) -> Result<String, Failure> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut publisher = Peer::connect(ctx, "publisher")?;
    ready(&mut publisher, deadline)?;
    let (request, forward) = publish_accepted(&mut [&mut publisher], 0, deadline)?;
    if forward {
        write_one_object(&mut publisher, request, PUBLISH_TRACK_ONLY_PAYLOAD)?;
    }
    end_track(&mut [&mut publisher], 0, request, deadline)?;
    no_error_close(&publisher)?;
    publisher.close();
    Ok(format!("forward state {}", u8::from(forward)))
}

/// publish-track-subscribe: the subscriber's SUBSCRIBE waits at the relay, the publisher
/// PUBLISHes the track, one object flows, PUBLISH_DONE ends it.
fn publish_track_subscribe(ctx: &Ctx) -> Result<String, Failure> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut subscriber = Peer::connect(ctx, "subscriber")?;
    ready(&mut subscriber, deadline)?;
    let sub = subscriber
        .session()?
        .subscribe(
            published_track(),
            // The runner's case: the relay holds the SUBSCRIBE up to 5 s for a publisher
            // (draft-18 "RENDEZVOUS TIMEOUT Parameter"; absent would mean "refuse at once").
            SubscribeOptions { rendezvous_timeout_ms: Some(5000), ..SubscribeOptions::default() },
        )
        .map_err(|e| fail("SUBSCRIBE sent", e.to_string()))?;
    // The SUBSCRIBE bytes leave before the publisher connects.
    subscriber.pump(Duration::from_millis(1))?;
    let mut publisher = Peer::connect(ctx, "publisher")?;
    wait_for(&mut [&mut publisher, &mut subscriber], 0, deadline, "publisher SETUP", |e| {
        matches!(e, Event::Ready { .. }).then_some(())
    })?;
    let (request, forward) = publish_accepted(&mut [&mut publisher, &mut subscriber], 0, deadline)?;
    if !forward {
        return Err(fail("PUBLISH_OK with Forward State 1", "Forward State 0"));
    }
    let got = wait_for(&mut [&mut subscriber, &mut publisher], 0, deadline, "SUBSCRIBE_OK", |e| match e {
        Event::Subscribed { request: r, .. } if *r == sub => Some(Ok(())),
        Event::SubscribeFailed { request: r, reason } if *r == sub => {
            Some(Err(format!("REQUEST_ERROR {} ({})", reason.code, reason.text)))
        }
        _ => None,
    })?;
    got.map_err(|r| fail("SUBSCRIBE_OK", r))?;
    write_one_object(&mut publisher, request, PUBLISH_TRACK_SUBSCRIBE_PAYLOAD)?;
    end_track(&mut [&mut publisher, &mut subscriber], 0, request, deadline)?;
    // The subscriber: exactly one object (0/0/0, the payload), then the end of the track.
    let mut objects = Vec::new();
    let ended = loop {
        let end =
            wait_for(&mut [&mut subscriber, &mut publisher], 0, deadline, "object and PUBLISH_DONE", |e| {
                match e {
                    Event::Object { request: r, info, payload } if *r == sub => {
                        Some(Err((info.group, info.subgroup, info.object, payload.to_bytes())))
                    }
                    Event::SubscriptionEnded { request: r, reason } if *r == sub => Some(Ok(reason.clone())),
                    _ => None,
                }
            })?;
        match end {
            Ok(reason) => break reason,
            Err(object) => objects.push(object),
        }
    };
    let expected = vec![(0, 0, 0, Bytes::from_static(PUBLISH_TRACK_SUBSCRIBE_PAYLOAD))];
    if objects != expected {
        return Err(fail(
            "exactly group 0 subgroup 0 object 0 with the expected payload",
            format!(
                "{} object(s): {:?}",
                objects.len(),
                objects.iter().map(|o| (o.0, o.1, o.2)).collect::<Vec<_>>()
            ),
        ));
    }
    if ended.code != codes::track_ended(Family::Moqt) {
        return Err(fail("PUBLISH_DONE TRACK_ENDED", format!("code {} ({})", ended.code, ended.text)));
    }
    subscriber.close();
    publisher.close();
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn options_beat_environment_which_beats_defaults() {
        let env =
            env_of(&[("RELAY_URL", "moqt://a:1/"), ("TESTCASE", "setup-only"), ("TLS_DISABLE_VERIFY", "1")]);
        let r = resolve(&Args::default(), &env);
        assert_eq!(
            (r.relay.as_str(), r.test.as_deref(), r.insecure),
            ("moqt://a:1/", Some("setup-only"), true)
        );
        let args = Args {
            relay: Some("https://b:2/".into()),
            test: Some("announce-only".into()),
            ..Args::default()
        };
        let r = resolve(&args, &env);
        assert_eq!((r.relay.as_str(), r.test.as_deref()), ("https://b:2/", Some("announce-only")));
        let r = resolve(&Args::default(), &env_of(&[]));
        assert_eq!((r.relay.as_str(), r.test, r.insecure), (DEFAULT_RELAY, None, false));
        assert_eq!(r.version, Ok(Version::Moqt(MoqtVersion::Draft18)));
        assert!(resolve(&Args::default(), &env_of(&[("MOQT_DRAFT", "draft-16")])).version.is_err());
    }

    #[test]
    fn unknown_case_and_unspoken_draft_are_unsupported_not_failed() {
        let args = Args { test: Some("no-such-case".into()), tls_disable_verify: true, ..Args::default() };
        let out = run_with_env(&args, &env_of(&[]));
        assert_eq!(out.exit_code, EXIT_UNSUPPORTED);
        let args = Args { test: Some("setup-only".into()), tls_disable_verify: true, ..Args::default() };
        assert_eq!(run_with_env(&args, &env_of(&[("MOQT_DRAFT", "draft-14")])).exit_code, EXIT_UNSUPPORTED);
        let args = Args {
            test: Some("publish-track-only".into()),
            version: Some(VersionArg::Lite05),
            ..Args::default()
        };
        assert_eq!(run_with_env(&args, &env_of(&[])).exit_code, EXIT_UNSUPPORTED);
    }

    #[test]
    fn list_prints_every_case_one_a_line() {
        let out = run_with_env(&Args { list: true, ..Args::default() }, &env_of(&[]));
        assert_eq!(out.exit_code, EXIT_PASS);
        assert_eq!(out.stdout.lines().collect::<Vec<_>>(), CASES.to_vec());
    }
}
