//! `sluice discover` as a process against a `sluice relay` process: the namespaces announced
//! under a prefix, as `+PATH` / `-PATH` lines, in every version and over both transports.

mod common;

use std::process::{Command, Stdio};

use common::{Client, Relay};

/// `sluice interop-client -t publish-namespace-done` in `version` (announces moq-test/interop,
/// then withdraws it); returns its exit code.
fn announce_and_withdraw(relay: &Relay, url: &str, version: &str) -> i32 {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["interop-client", "-r", url, "--fingerprint", &relay.fingerprint, "--version", version])
        .args(["-t", "publish-namespace-done"])
        .env_remove("TESTCASE")
        .env_remove("MOQT_DRAFT")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    out.status.code().unwrap_or(-1)
}

/// A discoverer in each version (lite-04 and draft-18 over WebTransport, lite-05 over raw
/// QUIC) first sees the namespace a publisher already announced (`test/ns`), then another
/// client's announce and withdrawal of `moq-test/interop` (announced in draft-18, so the
/// relay translates for the lite ones), exactly those three lines in order, and exits 0.
#[test]
fn every_version_sees_announcements_come_and_go_in_order() {
    let relay = Relay::start(&[]);
    let publisher = Client::publish(&relay, &relay.url("moqt"), "lite-04", b"", &[]);
    let found = "+test/ns\n";
    let discoverers: Vec<Client> = [("lite-04", "https"), ("lite-05", "moqt"), ("d18", "https")]
        .into_iter()
        .map(|(version, scheme)| Client::discover(&relay, &relay.url(scheme), version, &["--count", "3"]))
        .collect();
    for d in &discoverers {
        d.wait_for_output(found.len());
    }
    assert_eq!(announce_and_withdraw(&relay, &relay.url("moqt"), "d18"), 0);
    for d in discoverers {
        let (code, out, err) = d.finish_with_output();
        assert_eq!(code, 0, "{err}");
        assert_eq!(String::from_utf8(out).unwrap(), "+test/ns\n+moq-test/interop\n-moq-test/interop\n");
    }
    publisher.kill();
}

/// Only namespaces under the prefix are printed, and running out of time before `--count`
/// lines is a failure (exit 1) that says how many were seen.
#[test]
fn a_prefix_nobody_announces_under_times_out_with_exit_1() {
    let relay = Relay::start(&[]);
    let publisher = Client::publish(&relay, &relay.url("moqt"), "d18", b"", &[]);
    let d = Client::discover(&relay, &relay.url("moqt"), "d18", &["--prefix", "other", "--timeout", "1"]);
    let (code, out, err) = d.finish_with_output();
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
    assert!(err.contains("0 of 1 change(s) seen in 1 s"), "{err}");
    publisher.kill();
}
