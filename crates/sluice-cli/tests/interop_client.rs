//! `sluice interop-client` as the interop runner starts it (a process: options or
//! environment in, TAP 14 on stdout, exit 0/1/127 out), against a `sluice relay` process.

mod common;

use std::process::{Command, Stdio};

use common::Relay;
use sluice_cli::interop_client::CASES;

/// Runs `sluice interop-client args` with `env`; returns (exit code, stdout).
fn interop_client(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
    cmd.arg("interop-client").args(args).stdin(Stdio::null()).stderr(Stdio::inherit());
    for var in ["RELAY_URL", "TESTCASE", "TLS_DISABLE_VERIFY", "MOQT_DRAFT", "VERBOSE"] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap())
}

/// The TAP lines that are not YAML diagnostics.
fn tap_lines(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| !l.starts_with("  ")).collect()
}

/// A relay whose unanswered SUBSCRIBEs fail after one second (inside subscribe-error's two).
fn relay() -> Relay {
    Relay::start(&["--subscribe-wait", "1"])
}

/// Every case over raw QUIC and WebTransport in `version`: the version line first, the
/// header naming relay and draft, the plan, and one `ok` point per case in order (the
/// PUBLISH-flow cases `# SKIP` on moq-lite); exit 0. The data cases (single-object …
/// goaway) check payload bytes and order themselves and fail the point otherwise.
fn every_case(version: &str, draft: &str) {
    let relay = relay();
    for scheme in ["moqt", "https"] {
        let url = relay.url(scheme);
        let (code, stdout) = interop_client(&["-r", &url, "--tls-disable-verify", "--version", version], &[]);
        assert_eq!(code, 0, "{scheme} {version}:\n{stdout}");
        let lines = tap_lines(&stdout);
        let mut expected = vec![
            "TAP version 14".to_owned(),
            format!("# sluice interop-client {}", env!("CARGO_PKG_VERSION")),
            format!("# Relay: {url}"),
            format!("# Draft: {draft}"),
            format!("1..{}", CASES.len()),
        ];
        for (i, case) in CASES.iter().enumerate() {
            let skip = version != "d18" && case.starts_with("publish-track");
            expected.push(match skip {
                true => format!("ok {} - {case} # SKIP needs MOQT PUBLISH, not in {draft}", i + 1),
                false => format!("ok {} - {case}", i + 1),
            });
        }
        assert_eq!(lines, expected, "{scheme} {version}:\n{stdout}");
        // What the data cases say they checked: the late subscriber's filter (MOQT Largest
        // Object: only groups after SUBSCRIBE_OK's Largest Location; lite: the latest group
        // first) and which FETCH kinds ran.
        let (late, fetch) = match version {
            "d18" => (
                "late subscriber got groups 4..=5",
                "standalone and relative joining FETCH passed".to_owned(),
            ),
            _ => (
                "late subscriber got groups 3..=5",
                format!("standalone FETCH of group 2 passed; {draft} has no joining FETCH"),
            ),
        };
        assert!(stdout.contains(&format!("  message: \"{late}\"\n")), "{scheme} {version}:\n{stdout}");
        assert!(stdout.contains(&format!("  message: \"{fetch}\"\n")), "{scheme} {version}:\n{stdout}");
    }
}

#[test]
fn every_case_passes_in_draft_18_over_quic_and_webtransport() {
    every_case("d18", "draft-18");
}

#[test]
fn every_expressible_case_passes_in_lite_04() {
    every_case("lite-04", "moq-lite-04");
}

#[test]
fn every_expressible_case_passes_in_lite_05() {
    every_case("lite-05", "moq-lite-05");
}

/// The runner's container interface: no options, everything from RELAY_URL, TESTCASE,
/// TLS_DISABLE_VERIFY and MOQT_DRAFT; one case, one test point.
#[test]
fn environment_gives_relay_case_trust_and_draft() {
    let relay = relay();
    let url = relay.url("moqt");
    let env = [
        ("RELAY_URL", url.as_str()),
        ("TESTCASE", "publish-track-subscribe"),
        ("TLS_DISABLE_VERIFY", "1"),
        ("MOQT_DRAFT", "draft-18"),
    ];
    let (code, stdout) = interop_client(&[], &env);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(tap_lines(&stdout)[4..], ["1..1", "ok 1 - publish-track-subscribe"], "{stdout}");
    // An explicit option beats the environment.
    let (code, stdout) = interop_client(&["-t", "setup-only"], &env);
    assert_eq!((code, tap_lines(&stdout)[4..].to_vec()), (0, vec!["1..1", "ok 1 - setup-only"]), "{stdout}");
}

#[test]
fn list_names_every_case_one_a_line() {
    let (code, stdout) = interop_client(&["-l"], &[]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
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
        ]
    );
}

/// 127 for a case this client does not know, a draft it does not speak, and a PUBLISH-flow
/// case asked for alone over moq-lite (no relay needed: nothing connects).
#[test]
fn unsupported_case_or_draft_exits_127() {
    let unreachable = ["-r", "moqt://127.0.0.1:9/", "--tls-disable-verify"];
    let (code, _) = interop_client(&[&unreachable[..], &["-t", "fetch-everything"]].concat(), &[]);
    assert_eq!(code, 127);
    let (code, _) =
        interop_client(&[&unreachable[..], &["-t", "setup-only"]].concat(), &[("MOQT_DRAFT", "draft-14")]);
    assert_eq!(code, 127);
    let (code, _) = interop_client(
        &[&unreachable[..], &["-t", "publish-track-only", "--version", "lite-04"]].concat(),
        &[],
    );
    assert_eq!(code, 127);
}

/// subscribe-error expects REQUEST_ERROR within 2 s. `sluice relay` follows draft-18
/// §"RENDEZVOUS TIMEOUT Parameter": a SUBSCRIBE without that parameter is refused at once
/// with DOES_NOT_EXIST (0x10) when no publisher is there, whatever `--subscribe-wait` says
/// (that wait is for moq-lite subscriptions and draft-18 ones that ask to wait). So both
/// subscribe-error and subscribe-before-announce (either outcome is valid for it) see
/// REQUEST_ERROR 16, over raw QUIC and WebTransport.
#[test]
fn refusing_relays_give_the_expected_results() {
    let relay = Relay::start(&[]);
    for scheme in ["moqt", "https"] {
        let url = relay.url(scheme);
        let (code, stdout) =
            interop_client(&["-r", &url, "--tls-disable-verify", "-t", "subscribe-error"], &[]);
        assert_eq!(code, 0, "{stdout}");
        // draft-18 §"REQUEST_ERROR": DOES_NOT_EXIST is 0x10.
        assert!(stdout.contains("  message: \"REQUEST_ERROR code 16\""), "{stdout}");
        let (code, stdout) =
            interop_client(&["-r", &url, "--tls-disable-verify", "-t", "subscribe-before-announce"], &[]);
        assert_eq!(code, 0, "{stdout}");
        assert!(stdout.contains("  message: \"REQUEST_ERROR code 16\""), "{stdout}");
    }
}

/// Trust is checked: the relay's own fingerprint passes, another one fails the case (the
/// handshake is refused), and without any trust option the run bails out.
#[test]
fn certificate_pin_is_enforced() {
    let relay = relay();
    let url = relay.url("moqt");
    let (code, stdout) =
        interop_client(&["-r", &url, "--fingerprint", &relay.fingerprint, "-t", "setup-only"], &[]);
    assert_eq!(code, 0, "{stdout}");
    let wrong: String = relay.fingerprint.chars().map(|c| if c == '0' { '1' } else { '0' }).collect();
    let (code, stdout) = interop_client(&["-r", &url, "--fingerprint", &wrong, "-t", "setup-only"], &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("not ok 1 - setup-only\n"), "{stdout}");
    let (code, stdout) = interop_client(&["-r", &url, "-t", "setup-only"], &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("Bail out! no trust anchor")), "{stdout}");
}
