//! Spawning the real `sluice` binary for the integration tests: a relay whose stderr is
//! read line by line (to learn its port and fingerprint and to wait for its `-v` reports),
//! and clients whose stdout and stderr are collected by threads.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long any wait in a test may take before it fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// `n` lines of 8 bytes each (`0000000\n`, `0000001\n`, …).
pub fn input_lines(n: usize) -> Vec<u8> {
    (0..n).flat_map(|i| format!("{i:07}\n").into_bytes()).collect()
}

fn sluice() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
}

/// A running `sluice -v relay`.
pub struct Relay {
    child: Child,
    lines: Receiver<String>,
    /// Every stderr line read so far.
    pub seen: Mutex<Vec<String>>,
    pub port: u16,
    pub fingerprint: String,
}

impl Relay {
    /// Starts a relay on an ephemeral port with `extra` options.
    pub fn start(extra: &[&str]) -> Relay {
        let mut child = sluice()
            .args(["-v", "relay", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut relay =
            Relay { child, lines, seen: Mutex::new(Vec::new()), port: 0, fingerprint: String::new() };
        let fingerprint = relay.wait_for_line("fingerprint: ");
        relay.fingerprint = fingerprint.trim_start_matches("fingerprint: ").to_owned();
        let listening = relay.wait_for_line("listening: ");
        relay.port = listening.rsplit(':').next().unwrap().parse().unwrap();
        relay
    }

    /// `scheme://127.0.0.1:port/moq`.
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}/moq", self.port)
    }

    /// Waits for a stderr line containing `text` (seen before or arriving); returns it.
    pub fn wait_for_line(&self, text: &str) -> String {
        if let Some(line) = self.seen.lock().unwrap().iter().find(|l| l.contains(text)) {
            return line.clone();
        }
        self.wait_for_new_line(text)
    }

    /// Waits for a stderr line containing `text` among those not yet read by a wait.
    pub fn wait_for_new_line(&self, text: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.lock().unwrap().push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "relay never printed {text:?}; it printed:\n{}",
                    self.seen.lock().unwrap().join("\n")
                ),
            }
        }
    }
}

impl Relay {
    /// Every stderr line printed so far (for failure messages).
    pub fn lines_so_far(&self) -> Vec<String> {
        let mut seen = self.seen.lock().unwrap();
        while let Ok(line) = self.lines.try_recv() {
            seen.push(line);
        }
        seen.clone()
    }

    /// Sends `signal` (`INT`, `TERM`, …) to the relay process with `kill`.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the relay to exit (failing after [`TIMEOUT`]); returns its exit code and
    /// every stderr line it printed.
    pub fn wait_exit(&mut self) -> (i32, Vec<String>) {
        let deadline = Instant::now() + TIMEOUT;
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "the relay did not exit");
            std::thread::sleep(Duration::from_millis(5));
        };
        // The reader thread ends at EOF; collect what is left.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.lock().unwrap().push(line);
        }
        (code, self.seen.lock().unwrap().clone())
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `sluice publish` or `sluice subscribe`.
pub struct Client {
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

fn collect(mut from: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    })
}

impl Client {
    fn spawn(mut command: Command, input: Option<Vec<u8>>) -> Client {
        let mut child = command
            .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = input {
            let mut stdin = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                let _ = stdin.write_all(&input);
            });
        }
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            collect(child.stdout.take().unwrap(), stdout.clone()),
            collect(child.stderr.take().unwrap(), stderr.clone()),
        ];
        Client { child, stdout, readers, stderr }
    }

    fn common(relay: &Relay, what: &str, url: &str, version: &str) -> Command {
        let mut c = sluice();
        c.args([what, "--url", url, "--fingerprint", &relay.fingerprint]);
        if !version.is_empty() {
            c.args(["--version", version]);
        }
        c.args(["--namespace", "test/ns", "--track", "lines"]);
        c
    }

    /// `sluice subscribe` to the test track (`version` empty: no `--version`).
    pub fn subscribe(relay: &Relay, url: &str, version: &str) -> Client {
        Client::subscribe_with(relay, url, version, &[])
    }

    /// `sluice subscribe` to the test track with `extra` options.
    pub fn subscribe_with(relay: &Relay, url: &str, version: &str, extra: &[&str]) -> Client {
        let mut c = Client::common(relay, "subscribe", url, version);
        c.args(extra);
        Client::spawn(c, None)
    }

    /// `sluice publish` of `input` on the test track.
    pub fn publish(relay: &Relay, url: &str, version: &str, input: &[u8], extra: &[&str]) -> Client {
        let mut c = Client::common(relay, "publish", url, version);
        c.args(extra);
        Client::spawn(c, Some(input.to_vec()))
    }

    /// `sluice discover` through `relay` with `extra` options (`--prefix`, `--count`, ...).
    pub fn discover(relay: &Relay, url: &str, version: &str, extra: &[&str]) -> Client {
        let mut c = sluice();
        c.args(["discover", "--url", url, "--fingerprint", &relay.fingerprint, "--version", version]);
        c.args(extra);
        Client::spawn(c, None)
    }

    /// Waits until `n` bytes were written to stdout.
    pub fn wait_for_output(&self, n: usize) {
        let deadline = Instant::now() + TIMEOUT;
        while self.stdout.lock().unwrap().len() < n {
            assert!(Instant::now() < deadline, "no {n} bytes of output in time");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Everything written to stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Kills the process.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for exit (killing it after [`TIMEOUT`]); returns (code, stdout, stderr).
    pub fn finish_with_output(mut self) -> (i32, Vec<u8>, String) {
        let deadline = Instant::now() + TIMEOUT;
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break -2;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        let out = std::mem::take(&mut *self.stdout.lock().unwrap());
        let err = String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned();
        (code, out, err)
    }

    /// Waits for exit; returns (code, stderr).
    pub fn finish(self) -> (i32, String) {
        let (code, _, err) = self.finish_with_output();
        (code, err)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
