//! The `sluice` binary end to end on 127.0.0.1: `sluice relay` in one process, `sluice
//! publish` fed on stdin and `sluice subscribe`s writing to stdout in others.
//!
//! Every case starts the subscribers first and waits until the relay reports both of them
//! waiting for a publisher (`-v` line), so both see the track from its first object; the
//! publisher then sends a multi-group input and every subscriber's output must be
//! byte-identical to it.

mod common;

use common::{Client, Relay, input_lines};

/// What one pipeline run left: each subscriber's stdout, and every client's stderr
/// (publisher first).
struct Run {
    outputs: [Vec<u8>; 2],
    stderr: [String; 3],
}

/// Two subscribers and one publisher of `input` through `relay`; `None` when the transport
/// is not supported yet.
fn pipeline(relay: &Relay, scheme: &str, version: &str, input: &[u8], publish_args: &[&str]) -> Run {
    let url = relay.url(scheme);
    let a = Client::subscribe(relay, &url, version);
    let b = Client::subscribe(relay, &url, version);
    relay.wait_for_line("subscriptions waiting for a publisher: 2");
    let publisher = Client::publish(relay, &url, version, input, publish_args);
    let (code, stderr) = publisher.finish();
    assert_eq!(code, 0, "publisher failed: {stderr}");
    let (code_a, out_a, err_a) = a.finish_with_output();
    let (code_b, out_b, err_b) = b.finish_with_output();
    assert_eq!(code_a, 0, "subscriber a failed: {err_a}");
    assert_eq!(code_b, 0, "subscriber b failed: {err_b}");
    Run { outputs: [out_a, out_b], stderr: [stderr, err_a, err_b] }
}

fn lines_case(scheme: &str, version: &str) {
    let relay = Relay::start(&[]);
    let input = input_lines(200);
    let run = pipeline(&relay, scheme, version, &input, &["--lines", "--group-size", "10"]);
    for (out, err) in run.outputs.iter().zip(&run.stderr[1..]) {
        assert_eq!(String::from_utf8_lossy(out), String::from_utf8_lossy(&input), "{err}");
    }
}

#[test]
fn quic_lite04_lines_in_20_groups_reach_two_subscribers_intact() {
    lines_case("moqt", "lite-04");
}

#[test]
fn quic_lite05_lines_in_20_groups_reach_two_subscribers_intact() {
    lines_case("moqt", "lite-05");
}

#[test]
fn quic_d18_lines_in_20_groups_reach_two_subscribers_intact() {
    lines_case("moqt", "d18");
}

#[test]
fn webtransport_lite04_lines_reach_two_subscribers_intact() {
    lines_case("https", "lite-04");
}

#[test]
fn webtransport_lite05_lines_reach_two_subscribers_intact() {
    lines_case("https", "lite-05");
}

#[test]
fn webtransport_d18_lines_reach_two_subscribers_intact() {
    lines_case("https", "d18");
}

/// Binary input in 1000-byte reads, 7 objects to a group: chunk boundaries are the
/// publisher's reads, so only the concatenation is compared.
#[test]
fn quic_d18_binary_chunks_reach_two_subscribers_intact() {
    let relay = Relay::start(&[]);
    let input: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let run = pipeline(&relay, "moqt", "d18", &input, &["--chunk-size", "1000", "--group-size", "7"]);
    for (out, err) in run.outputs.iter().zip(&run.stderr[1..]) {
        assert_eq!(
            out.len(),
            input.len(),
            "{err}\npublisher: {}\nrelay: {:?}",
            run.stderr[0],
            relay.lines_so_far()
        );
        assert!(*out == input, "output differs from the input");
    }
}

#[test]
fn quic_lite04_binary_chunks_reach_two_subscribers_intact() {
    let relay = Relay::start(&[]);
    let input: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2_246_822_519) >> 11) as u8).collect();
    let run = pipeline(&relay, "moqt", "lite-04", &input, &["--chunk-size", "1000", "--group-size", "7"]);
    for (out, err) in run.outputs.iter().zip(&run.stderr[1..]) {
        assert_eq!(
            out.len(),
            input.len(),
            "{err}\npublisher: {}\nrelay: {:?}",
            run.stderr[0],
            relay.lines_so_far()
        );
        assert!(*out == input, "output differs from the input");
    }
}

/// The relay sends GOAWAY (no URI) to every session once 60 objects were forwarded, in the
/// middle of a 200-object track paced at 200 objects/s. Every client must open a new
/// session to the same relay (draft-18 §3.5; lite-04/05 §Goaway), and both outputs must
/// still be the whole input, once, in order: the subscribers' old and new subscriptions
/// overlap and are deduplicated, the publisher re-announces and serves its old session
/// until it ends.
fn goaway_case(scheme: &str, version: &str) {
    let relay = Relay::start(&["--goaway-after-objects", "60"]);
    let input = input_lines(200);
    let run = pipeline(&relay, scheme, version, &input, &["--lines", "--group-size", "10", "--rate", "200"]);
    relay.wait_for_line("goaway: sent to 3 session(s)");
    for out in run.outputs {
        assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&input));
    }
    let same_url = format!("again on {}", relay.url(scheme));
    for stderr in &run.stderr {
        assert!(stderr.contains("GOAWAY from") && stderr.contains(&same_url), "{stderr}");
    }
    for stderr in &run.stderr[1..] {
        assert!(stderr.contains("received 200 objects (1600 bytes), 0 gap(s), 1 reconnect(s)"), "{stderr}");
    }
}

#[test]
fn goaway_lite04_clients_reconnect_and_output_stays_complete() {
    goaway_case("moqt", "lite-04");
}

#[test]
fn goaway_lite05_clients_reconnect_and_output_stays_complete() {
    goaway_case("moqt", "lite-05");
}

#[test]
fn goaway_d18_clients_reconnect_and_output_stays_complete() {
    goaway_case("moqt", "d18");
}

/// The same over WebTransport: GOAWAY travels inside the WebTransport session (MoQ's own
/// message on its control/announce stream), and the clients reconnect to the same https URL.
#[test]
fn goaway_webtransport_d18_clients_reconnect_and_output_stays_complete() {
    goaway_case("https", "d18");
}

#[test]
fn goaway_webtransport_lite05_clients_reconnect_and_output_stays_complete() {
    goaway_case("https", "lite-05");
}

#[test]
fn goaway_webtransport_lite04_clients_reconnect_and_output_stays_complete() {
    goaway_case("https", "lite-04");
}

/// WebTransport clients that send no `WT-Available-Protocols` (like moq-transport's) and
/// offer every version: the relay serves them its documented default, draft-18 (on raw QUIC
/// or with the header it would pick lite-05, its most preferred), and the whole pipeline
/// runs on it.
#[test]
fn webtransport_clients_naming_no_version_run_draft18_end_to_end() {
    let relay = Relay::start(&[]);
    let url = relay.url("https");
    let input = input_lines(100);
    let unnamed = ["-v", "--wt-unnamed-version"];
    let a = Client::subscribe_with(&relay, &url, "", &unnamed);
    let b = Client::subscribe_with(&relay, &url, "", &unnamed);
    relay.wait_for_line("subscriptions waiting for a publisher: 2");
    let publisher = Client::publish(&relay, &url, "", &input, &["-v", "--wt-unnamed-version", "--lines"]);
    let (code, err) = publisher.finish();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("session 0 ready: moqt-18"), "{err}");
    for sub in [a, b] {
        let (code, out, err) = sub.finish_with_output();
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("ready: moqt-18"), "{err}");
        assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&input));
    }
    // Control: the same clients naming their versions get the relay's preference instead.
    let named = Client::subscribe_with(&relay, &url, "", &["-v"]);
    let deadline = std::time::Instant::now() + common::TIMEOUT;
    while !named.stderr().contains("ready: ") {
        assert!(std::time::Instant::now() < deadline, "never ready: {}", named.stderr());
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(named.stderr().contains("session 0 ready: moq-lite-05"), "{}", named.stderr());
}

/// One subscriber is killed once it has output 50 lines; the other's output stays whole.
#[test]
fn a_killed_subscriber_leaves_the_other_complete() {
    let relay = Relay::start(&[]);
    let url = relay.url("moqt");
    let input = input_lines(300);
    let victim = Client::subscribe(&relay, &url, "d18");
    let survivor = Client::subscribe(&relay, &url, "d18");
    relay.wait_for_line("subscriptions waiting for a publisher: 2");
    let publisher =
        Client::publish(&relay, &url, "d18", &input, &["--lines", "--group-size", "10", "--rate", "300"]);
    victim.wait_for_output(50 * 8);
    victim.kill();
    let (code, stderr) = publisher.finish();
    assert_eq!(code, 0, "{stderr}");
    let (code, out, err) = survivor.finish_with_output();
    assert_eq!(code, 0, "{err}");
    assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&input));
}
