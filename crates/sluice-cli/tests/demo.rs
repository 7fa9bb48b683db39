//! Runs the real `sluice` binary: `sluice demo --seconds 1` must prove every version
//! (relay + publisher + subscriber over QUIC on 127.0.0.1) and exit 0; a one-version run
//! prints exactly that version.

use std::process::Command;

fn demo(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice")).arg("demo").args(args).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), format!("{stdout}\n--- stderr ---\n{stderr}"))
}

#[test]
fn demo_proves_every_version() {
    let (code, out) = demo(&["--seconds", "1"]);
    assert_eq!(code, 0, "{out}");
    for alpn in ["moq-lite-04", "moq-lite-05", "moqt-18"] {
        let line =
            out.lines().find(|l| l.starts_with(&format!("{alpn}: sent"))).unwrap_or_else(|| panic!("{out}"));
        assert!(line.contains("sent 30 objects (36000 bytes), received 30 objects (36000 bytes)"), "{line}");
        assert!(line.ends_with("integrity OK"), "{line}");
    }
}

#[test]
fn demo_single_version_with_small_groups() {
    let (code, out) = demo(&[
        "--version",
        "d18",
        "--seconds",
        "0.5",
        "--rate",
        "40",
        "--group-size",
        "7",
        "--payload",
        "5000",
    ]);
    assert_eq!(code, 0, "{out}");
    let stdout = out.split("--- stderr ---").next().unwrap();
    assert_eq!(stdout.trim_end().lines().count(), 1, "{out}");
    assert!(
        stdout.starts_with("moqt-18: sent 20 objects (100000 bytes), received 20 objects (100000 bytes)"),
        "{out}"
    );
    assert!(stdout.trim_end().ends_with("integrity OK"), "{out}");
}

#[test]
fn demo_rejects_unknown_version() {
    let (code, out) = demo(&["--version", "d99"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("invalid value 'd99'"), "{out}");
}
