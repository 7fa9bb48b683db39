//! The relay under test as a child process: started, its listening address read from its
//! stderr, its CPU time read from `/proc/<pid>/stat`, killed at the end of a run.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Which relay a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayKind {
    /// `sluice relay` (crates/sluice-cli).
    Sluice,
    /// moq-relay 0.17.10 (`moq-relay-bench`, this crate).
    MoqRelay,
}

impl RelayKind {
    /// The table's name for it.
    pub fn name(self) -> &'static str {
        match self {
            RelayKind::Sluice => "sluice relay",
            RelayKind::MoqRelay => "moq-relay 0.17.10",
        }
    }
}

/// A running relay process.
#[derive(Debug)]
pub struct RelayProcess {
    child: Child,
    /// Where clients connect.
    pub addr: SocketAddr,
}

impl RelayProcess {
    /// Starts `program` (`sluice relay` when `kind` is Sluice, else `moq-relay-bench`) on an
    /// ephemeral port of 127.0.0.1 and waits for its `listening` line.
    pub fn start(kind: RelayKind, program: &str) -> Result<RelayProcess, String> {
        let mut cmd = Command::new(program);
        if kind == RelayKind::Sluice {
            cmd.args(["relay", "--listen", "127.0.0.1:0"]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {program}: {e}"))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, rx) = mpsc::channel();
        // Reads the relay's stderr to its end, so the pipe never fills; the first
        // `listening` line carries the address (`listening: ADDR` or `listening ADDR`).
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && line.starts_with("listening") {
                    let addr = line.rsplit(' ').next().unwrap_or_default().to_owned();
                    sent = tx.send(addr).is_ok();
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                return Err(format!("{program} printed no listening address"));
            }
        };
        let addr = addr.parse().map_err(|e| format!("address {addr:?}: {e}"))?;
        Ok(RelayProcess { child, addr })
    }

    /// The process's user + system CPU time so far, in clock ticks.
    pub fn cpu_ticks(&self) -> Result<u64, String> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .map_err(|e| format!("reading /proc stat: {e}"))?;
        // Fields after the command name, which is parenthesised and may contain spaces:
        // state is field 3, utime 14, stime 15 (proc(5)).
        let rest = stat.rsplit_once(')').map(|(_, r)| r).ok_or("malformed stat")?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| -> Result<u64, String> {
            fields.get(n - 3).and_then(|f| f.parse().ok()).ok_or_else(|| format!("stat field {n}"))
        };
        Ok(field(14)? + field(15)?)
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 if that fails).
pub fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}
