//! `sluice relay` as a process: graceful shutdown on SIGINT/SIGTERM, and serving a
//! certificate given as PEM files (`--cert/--key`) that clients pin by its fingerprint.

mod common;

use common::{Client, Relay, input_lines};
use sluice_quinn::Fingerprint;

/// SIGINT (then, in a second relay, SIGTERM) while a subscriber waits for a publisher: the
/// relay closes the subscriber's session with NO_ERROR (code 0, which the subscriber
/// reports), prints its final counters and exits 0.
fn stops_gracefully_on(signal: &str) {
    let mut relay = Relay::start(&[]);
    let url = relay.url("moqt");
    let subscriber = Client::subscribe(&relay, &url, "d18");
    relay.wait_for_line("subscriptions waiting for a publisher: 1");
    relay.signal(signal);
    let (code, lines) = relay.wait_exit();
    assert_eq!(code, 0, "{lines:?}");
    assert!(lines.iter().any(|l| l == "shutting down: closing 1 session(s)"), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("relay stopped: 0 objects forwarded, 0 upstream subscription(s)")),
        "{lines:?}"
    );
    // The subscriber heard the close (then tries to reconnect, which cannot succeed).
    let deadline = std::time::Instant::now() + common::TIMEOUT;
    loop {
        let err = subscriber.stderr();
        if err.contains("session closed (0 relay shutting down)") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "subscriber never saw the close: {err}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn sigint_closes_sessions_with_no_error_prints_stats_and_exits_0() {
    stops_gracefully_on("INT");
}

#[test]
fn sigterm_closes_sessions_with_no_error_prints_stats_and_exits_0() {
    stops_gracefully_on("TERM");
}

/// After a whole pipeline, the final counters count what was forwarded: 100 objects to 2
/// subscribers.
#[test]
fn sigint_after_a_pipeline_reports_every_forwarded_object() {
    let mut relay = Relay::start(&[]);
    let url = relay.url("moqt");
    let input = input_lines(100);
    let a = Client::subscribe(&relay, &url, "lite-05");
    let b = Client::subscribe(&relay, &url, "lite-05");
    relay.wait_for_line("subscriptions waiting for a publisher: 2");
    let publisher = Client::publish(&relay, &url, "lite-05", &input, &["--lines", "--group-size", "10"]);
    assert_eq!(publisher.finish().0, 0);
    for sub in [a, b] {
        let (code, out, err) = sub.finish_with_output();
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, input);
    }
    relay.signal("INT");
    let (code, lines) = relay.wait_exit();
    assert_eq!(code, 0, "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("relay stopped: 200 objects forwarded, 1 upstream subscription(s)")),
        "{lines:?}"
    );
}

/// The relay serves a certificate from PEM files: it prints that certificate's SHA-256
/// fingerprint, and clients pinning it run the pipeline (raw QUIC and WebTransport).
#[test]
fn pem_certificate_is_served_and_pinned_by_its_fingerprint() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = std::env::temp_dir().join(format!("sluice-cli-pem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let relay = Relay::start(&["--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()]);
    assert_eq!(relay.fingerprint, Fingerprint::of(certified.cert.der()).to_string());
    for (scheme, version) in [("moqt", "d18"), ("https", "lite-04")] {
        let url = relay.url(scheme);
        let input = input_lines(50);
        let a = Client::subscribe(&relay, &url, version);
        let b = Client::subscribe(&relay, &url, version);
        // The first run's subscriptions are served and gone: the count starts again at 0.
        relay.wait_for_new_line("subscriptions waiting for a publisher: 2");
        let publisher = Client::publish(&relay, &url, version, &input, &["--lines", "--group-size", "10"]);
        assert_eq!(publisher.finish().0, 0);
        for sub in [a, b] {
            let (code, out, err) = sub.finish_with_output();
            assert_eq!(code, 0, "{scheme} {version}: {err}");
            assert_eq!(out, input);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
