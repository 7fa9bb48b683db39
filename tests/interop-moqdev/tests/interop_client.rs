//! `sluice interop-client` (the public interop runner's test client, called in-process as
//! [`sluice_cli::interop_client::run_with_env`]) against moq-relay 0.17.10's `test_relay()`:
//! every runner case, in every version both speak (moq-lite-04, moq-lite-05, draft-18),
//! over raw QUIC and WebTransport.
//!
//! Expected: every case passes, except these recorded peer limits (each asserted exactly):
//! * publish-track-only and publish-track-subscribe in draft-18: moq-relay answers every
//!   PUBLISH with REQUEST_ERROR (moq-net-0.3.18 src/ietf/subscriber.rs `run_publish_stream`,
//!   `Error::Unsupported`; draft-18 §"PUBLISH" lets a receiver refuse). The client reports
//!   `not ok` with the REQUEST_ERROR it received, which this test checks.
//! * over moq-lite those two have no PUBLISH message at all: `# SKIP` in the TAP output.
//! * fetch in draft-18: the standalone FETCH of one group passes, the relative joining FETCH
//!   of two groups is refused with NOT_SUPPORTED "FETCH spanning several groups not
//!   supported" (moq-net-0.3.18 src/ietf/publisher.rs, "One group per FETCH"), though
//!   draft-18 §10.12 "Fetch Handling" makes the publisher "responsible for delivering all
//!   available Objects in the requested range".
//! * fetch in lite-04: moq-net resets a lite-04 Fetch stream (it implements lite FETCH from
//!   lite-05 only: `common::LITE04_NO_FETCH`), though lite-04 §Fetch defines it.
//! * single-object in lite-04: the object arrives byte-identical, but moq-relay does not
//!   pass on the publisher's FIN of the Subscribe stream (lite-04 §Subscribe) within the
//!   case's 5 s (the same peer bug `via_moq_relay.rs` records for its single-object cell);
//!   in multiple-groups and late-subscriber (10 s) the end arrived in our runs, ~5 s late,
//!   so there either outcome is accepted as long as a failure is exactly that one.
//!
//! goaway is `ok` in most runs; sometimes moq-relay resets the new subscriber's SUBSCRIBE
//! while the successor publisher's announce of the same broadcast replaces the leaving one's
//! (timing-dependent, inside moq-relay: the SUBSCRIBE reached neither sluice publisher), which
//! [`goaway_failed_in_source_switch`] accepts in exactly that shape.
//!
//! subscribe-before-announce passes either way by the runner's definition; against
//! moq-relay it gets REQUEST_ERROR at once (moq-net answers a SUBSCRIBE for a broadcast not
//! yet announced immediately), which the diagnostics show.

use std::net::SocketAddr;
use std::time::Duration;

use sluice_cli::client::VersionArg;
use sluice_cli::interop_client::{Args, CASES, run_with_env};

/// moq-relay's `test_relay()` running on `rt`.
struct MoqRelay {
    addr: SocketAddr,
    trigger: moq_relay::shutdown::Trigger,
    task: tokio::task::JoinHandle<Result<(), String>>,
}

fn start_relay(rt: &tokio::runtime::Runtime) -> MoqRelay {
    rt.block_on(async {
        let fixture = moq_relay::test_relay().await.expect("test_relay");
        let relay = fixture.relay;
        let trigger = relay.shutdown_trigger().clone();
        let ready = relay.ready();
        let task = tokio::spawn(async move { relay.run().await.map_err(|e| e.to_string()) });
        ready.wait().await.expect("relay ready");
        MoqRelay { addr: fixture.quic, trigger, task }
    })
}

fn stop_relay(rt: &tokio::runtime::Runtime, relay: MoqRelay) {
    relay.trigger.start();
    let _ = rt.block_on(async { tokio::time::timeout(Duration::from_secs(2), relay.task).await });
}

/// Runs every case against a fresh moq-relay over `scheme` in `version`; returns the TAP.
fn run_all(version: VersionArg, scheme: &str) -> (u8, String) {
    run_cases(version, scheme, None)
}

/// Runs `case` (every case when `None`) against a fresh moq-relay; returns the TAP.
fn run_cases(version: VersionArg, scheme: &str, case: Option<&str>) -> (u8, String) {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let relay = start_relay(&rt);
    let args = Args {
        relay: Some(format!("{scheme}://127.0.0.1:{}/", relay.addr.port())),
        tls_disable_verify: true,
        version: Some(version),
        test: case.map(str::to_owned),
        ..Args::default()
    };
    sluice_cli::log::set_verbose(std::env::var("IC_DEBUG").is_ok());
    let outcome = run_with_env(&args, &|_| None);
    stop_relay(&rt, relay);
    (outcome.exit_code, outcome.stdout)
}

/// The test points (`ok …` / `not ok …` lines).
fn points(tap: &str) -> Vec<&str> {
    tap.lines().filter(|l| l.starts_with("ok ") || l.starts_with("not ok ")).collect()
}

/// The test point of `case` with its YAML block.
fn block<'a>(tap: &'a str, case: &str) -> &'a str {
    let n = CASES.iter().position(|c| *c == case).map_or(0, |i| i + 1);
    let start = [format!("ok {n} - {case}"), format!("not ok {n} - {case}")]
        .iter()
        .find_map(|head| tap.find(&format!("\n{head}\n")).map(|i| i + 1))
        .unwrap_or_else(|| panic!("no point for {case}:\n{tap}"));
    let rest = &tap[start..];
    let end = rest.find("  ...\n").map_or(rest.len(), |i| i + 6);
    &rest[..end]
}

/// lite-04's end-of-track peer bug: `case` failed only because the end did not come, after
/// all `objects` expected objects arrived byte-identical and in order.
fn failed_only_at_the_end(tap: &str, case: &str, role: &str, objects: usize) -> bool {
    let b = block(tap, case);
    let received = format!(
        "  received: \"timeout ({role}); before it: the {objects} expected objects, byte-identical and in order\"\n"
    );
    b.starts_with("not ok ")
        && b.contains("  expected: \"end of the track (PUBLISH_DONE / FIN)\"\n")
        && b.contains(&received)
}

/// goaway against moq-relay: `ok`, or (timing-dependent) the new subscriber's SUBSCRIBE
/// reset by moq-relay while the successor publisher's announce of the same broadcast replaces
/// the leaving one's (two sessions announcing one path: moq-net's origin switching the
/// broadcast's source). The SUBSCRIBE never reached either sluice publisher (it would have been
/// answered), so sluice is not involved; the sluice relay passes this case in every run.
/// Returns whether the case failed that way (then it counts as failing).
fn goaway_failed_in_source_switch(tap: &str) -> bool {
    subscribe_reset_by_moq_relay(tap, "goaway")
}

/// `case` is `ok`, or failed only because moq-relay reset a SUBSCRIBE made right after the
/// publisher's announce reached it (its lite route not settled yet; timing-dependent inside
/// moq-relay, the sluice relay passes the same case in every run). Returns whether it failed.
fn subscribe_reset_by_moq_relay(tap: &str, case: &str) -> bool {
    let b = block(tap, case);
    if b.starts_with("ok ") {
        return false;
    }
    assert!(
        b.contains("  expected: \"SUBSCRIBE_OK\"\n") && b.contains("(reset by the peer)\"\n"),
        "{case} failed otherwise:\n{tap}"
    );
    true
}

/// The points of a lite run: the PUBLISH-flow cases `# SKIP`, every other case `ok` except
/// those in `failing`, which are `not ok`.
fn lite_points(draft: &str, failing: &[&str]) -> Vec<String> {
    CASES
        .iter()
        .enumerate()
        .map(|(i, case)| match case {
            c if c.starts_with("publish-track") => {
                format!("ok {} - {case} # SKIP needs MOQT PUBLISH, not in {draft}", i + 1)
            }
            c if failing.contains(c) => format!("not ok {} - {case}", i + 1),
            _ => format!("ok {} - {case}", i + 1),
        })
        .collect()
}

#[test]
fn moq_relay_lite04_every_case_fetch_and_track_end_limited_by_peer() {
    for scheme in ["moqt", "https"] {
        let (code, tap) = run_all(VersionArg::Lite04, scheme);
        // multiple-groups and late-subscriber: ok, or failed at the (late) end of the track
        // after every expected object arrived.
        // (case, the subscriber waited for first, its objects): late-subscriber waits for the
        // late subscriber first, which gets groups 3..=5 (three objects each).
        let late_end = [("multiple-groups", "subscriber", 15), ("late-subscriber", "late subscriber", 9)];
        let mut failing = vec!["single-object", "fetch"];
        if goaway_failed_in_source_switch(&tap) {
            failing.push("goaway");
        }
        if subscribe_reset_by_moq_relay(&tap, "announce-subscribe") {
            failing.push("announce-subscribe");
        }
        for (case, role, objects) in late_end {
            if block(&tap, case).starts_with("not ok ") {
                assert!(failed_only_at_the_end(&tap, case, role, objects), "{scheme} {case}:\n{tap}");
                failing.push(case);
            }
        }
        assert_eq!(points(&tap), lite_points("moq-lite-04", &failing), "{scheme}:\n{tap}");
        assert!(failed_only_at_the_end(&tap, "single-object", "subscriber", 1), "{scheme}:\n{tap}");
        let fetch = block(&tap, "fetch");
        assert!(fetch.contains("  expected: \"standalone FETCH: complete (code 0)\"\n"), "{scheme}:\n{tap}");
        assert!(fetch.contains("(reset by the peer) after []\"\n"), "{scheme}:\n{tap}");
        if !failing.contains(&"late-subscriber") {
            let late = "  message: \"late subscriber got groups 3..=5\"\n";
            assert!(block(&tap, "late-subscriber").contains(late), "{scheme}:\n{tap}");
        }
        assert_eq!(code, 1, "{scheme}:\n{tap}");
    }
}

#[test]
fn moq_relay_lite05_every_case() {
    for scheme in ["moqt", "https"] {
        let (code, tap) = run_all(VersionArg::Lite05, scheme);
        let failing: &[&str] = if goaway_failed_in_source_switch(&tap) { &["goaway"] } else { &[] };
        assert_eq!(points(&tap), lite_points("moq-lite-05", failing), "{scheme}:\n{tap}");
        // lite: the late subscriber starts with the latest group; lite-05 FETCH is whole-group.
        assert!(
            block(&tap, "late-subscriber").contains("  message: \"late subscriber got groups 3..=5\"\n"),
            "{tap}"
        );
        let fetch = "  message: \"standalone FETCH of group 2 passed; moq-lite-05 has no joining FETCH\"\n";
        assert!(block(&tap, "fetch").contains(fetch), "{scheme}:\n{tap}");
        assert_eq!(code, if failing.is_empty() { 0 } else { 1 }, "{scheme}:\n{tap}");
    }
}

#[test]
fn moq_relay_draft18_every_case_publish_refused_by_peer() {
    for scheme in ["moqt", "https"] {
        let (code, tap) = run_all(VersionArg::D18, scheme);
        let goaway_failed = goaway_failed_in_source_switch(&tap);
        let expected: Vec<String> = CASES
            .iter()
            .enumerate()
            .map(|(i, case)| {
                match case.starts_with("publish-track")
                    || *case == "fetch"
                    || (*case == "goaway" && goaway_failed)
                {
                    true => format!("not ok {} - {case}", i + 1),
                    false => format!("ok {} - {case}", i + 1),
                }
            })
            .collect();
        assert_eq!(points(&tap), expected, "{scheme}:\n{tap}");
        // fetch: the standalone FETCH of group 2 passed (it runs first), the two-group joining
        // FETCH is refused.
        let fetch = block(&tap, "fetch");
        assert!(
            fetch.contains("  expected: \"relative joining FETCH: complete (code 0)\"\n"),
            "{scheme}:\n{tap}"
        );
        assert!(
            fetch.contains("(FETCH spanning several groups not supported) after []\"\n"),
            "{scheme}:\n{tap}"
        );
        // MOQT Largest Object filter (draft-18 §5.1.2): only the groups after SUBSCRIBE_OK.
        let late = "  message: \"late subscriber got groups 4..=5\"\n";
        assert!(block(&tap, "late-subscriber").contains(late), "{scheme}:\n{tap}");
        // The failures are moq-relay's refusal of PUBLISH, nothing else.
        let refusals =
            tap.matches("  expected: \"REQUEST_OK (PUBLISH_OK)\"\n  received: \"REQUEST_ERROR").count();
        assert_eq!(refusals, 2, "{scheme}:\n{tap}");
        assert_eq!(code, 1, "{scheme}:\n{tap}");
    }
}
