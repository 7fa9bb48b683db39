//! Runs the real `sluice` binary: `sluice demo --seconds 1` must prove every version
//! (relay + publisher + subscriber over QUIC on 127.0.0.1) and exit 0; single-version runs
//! with several groups (so several subgroup streams and group boundaries) print exactly
//! that version's line with the exact object and byte counts.

use std::process::Command;

/// Runs `sluice demo <args>`; returns the exit code, stdout and stderr.
fn demo(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice")).arg("demo").args(args).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn demo_proves_every_version() {
    let (code, stdout, stderr) = demo(&["--seconds", "1"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}{stderr}");
    for (line, alpn) in lines.iter().zip(["moq-lite-04", "moq-lite-05", "moqt-18"]) {
        let counts =
            format!("{alpn}: sent 30 objects (36000 bytes), received 30 objects (36000 bytes), latency p50 ");
        assert!(line.starts_with(&counts), "{line}\n{stderr}");
        assert!(line.ends_with("integrity OK"), "{line}\n{stderr}");
    }
}

#[test]
fn demo_lite04_many_groups() {
    let (code, stdout, stderr) = demo(&["--version", "lite-04", "--seconds", "1", "--group-size", "7"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.starts_with("moq-lite-04: sent 30 objects (36000 bytes), received 30 objects (36000 bytes)"),
        "{stdout}{stderr}"
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.trim_end().ends_with("integrity OK"), "{stdout}{stderr}");
}

#[test]
fn demo_d18_large_payloads_small_groups() {
    let args =
        ["--version", "d18", "--seconds", "0.5", "--rate", "40", "--group-size", "7", "--payload", "5000"];
    let (code, stdout, stderr) = demo(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.starts_with("moqt-18: sent 20 objects (100000 bytes), received 20 objects (100000 bytes)"),
        "{stdout}{stderr}"
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.trim_end().ends_with("integrity OK"), "{stdout}{stderr}");
}

#[test]
fn demo_rejects_unknown_version() {
    let (code, stdout, stderr) = demo(&["--version", "d99"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("invalid value 'd99'"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}

/// At 1000 objects/s in groups of 10 the next group's stream regularly overtakes the end of
/// the previous one between publisher and relay; the relay keeps the previous group's
/// stream open one group longer, so nothing is dropped.
#[test]
fn demo_high_rate_loses_nothing_at_group_boundaries() {
    for version in ["lite-04", "d18"] {
        let args = ["--version", version, "--seconds", "0.5", "--rate", "1000", "--group-size", "10"];
        let (code, stdout, stderr) = demo(&args);
        assert_eq!(code, 0, "{stdout}{stderr}");
        assert!(
            stdout.contains("sent 500 objects (600000 bytes), received 500 objects (600000 bytes)"),
            "{stdout}"
        );
        assert!(stdout.trim_end().ends_with("integrity OK"), "{stdout}{stderr}");
    }
}
