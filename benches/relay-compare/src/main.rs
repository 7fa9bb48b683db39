//! `relay-compare`: issue 7's relay comparison over real QUIC on 127.0.0.1. For each MoQ
//! version and subscriber count, the same load (one publisher at a fixed object rate and
//! size, N subscribers, all in this process on sluice-quinn) runs through `sluice relay`
//! and through moq-relay 0.17.10 (`moq-relay-bench`), each a separate process, alternating
//! A B A B over the rounds. Per run it measures the relay process's CPU seconds (user +
//! system from `/proc/<pid>/stat`) per GB of payload delivered to the subscribers, the
//! delivered throughput, and the p50/p99 publish → receive latency; it prints every run
//! on stderr and a markdown table of medians and ratios on stdout.
//!
//!     relay-compare --sluice PATH --moq-relay PATH [--versions lite-04,d18]
//!         [--subscribers 1,10,100@200 (N, or N@RATE for its own objects/s)] [--rounds 2] [--seconds 5] [--warmup 1]
//!         [--rate 2000] [--size 1200] [--group 30] [--threads 2]
//!
//! With `RELAY_COMPARE_DUMP=DIR` each run also writes `DIR/<relay>-<version>-n<N>-<t>.txt`, one
//! line per received object: sequence number, send time (µs), latency (µs), for a breakdown
//! by object index in the group or over time.

mod load;
mod publisher;
mod relay_process;
mod subscribers;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use sluice::{LiteVersion, MoqtVersion, Version};

use load::{Flags, now_us};
use relay_process::{RelayKind, RelayProcess, ticks_per_second};

/// The command line.
#[derive(Debug, Clone)]
struct Args {
    sluice: String,
    moq_relay: String,
    versions: Vec<Version>,
    /// Subscriber counts, each with its object rate (`--rate` unless given as `N@RATE`).
    subscribers: Vec<(usize, Option<f64>)>,
    rounds: usize,
    seconds: f64,
    warmup: f64,
    rate: f64,
    size: usize,
    group: u64,
    threads: usize,
}

fn version(name: &str) -> Result<Version, String> {
    match name {
        "lite-04" => Ok(Version::Lite(LiteVersion::Lite04)),
        "lite-05" => Ok(Version::Lite(LiteVersion::Lite05)),
        "d18" | "draft-18" => Ok(Version::Moqt(MoqtVersion::Draft18)),
        _ => Err(format!("unknown version {name} (lite-04, lite-05, d18)")),
    }
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        sluice: String::new(),
        moq_relay: String::new(),
        versions: vec![version("lite-04")?, version("d18")?],
        subscribers: vec![(1, None), (10, None), (100, None)],
        rounds: 2,
        seconds: 5.0,
        warmup: 1.0,
        rate: 2000.0,
        size: 1200,
        group: 30,
        threads: 2,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let num = |v: &str| v.parse::<f64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--sluice" => a.sluice = value,
            "--moq-relay" => a.moq_relay = value,
            "--versions" => a.versions = value.split(',').map(version).collect::<Result<_, _>>()?,
            "--subscribers" => {
                a.subscribers = value
                    .split(',')
                    .map(|item| {
                        let (n, rate) = match item.split_once('@') {
                            Some((n, r)) => (n, Some(num(r)?)),
                            None => (item, None),
                        };
                        Ok((num(n)? as usize, rate))
                    })
                    .collect::<Result<_, String>>()?
            }
            "--rounds" => a.rounds = num(&value)? as usize,
            "--seconds" => a.seconds = num(&value)?,
            "--warmup" => a.warmup = num(&value)?,
            "--rate" => a.rate = num(&value)?,
            "--size" => a.size = num(&value)? as usize,
            "--group" => a.group = (num(&value)? as u64).max(1),
            "--threads" => a.threads = (num(&value)? as usize).max(1),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if a.sluice.is_empty() || a.moq_relay.is_empty() {
        return Err("--sluice and --moq-relay are required".into());
    }
    if !(a.rate > 0.0 && a.seconds > 0.0) {
        return Err("--rate and --seconds must be positive".into());
    }
    Ok(a)
}

/// The figures of one run.
#[derive(Debug, Clone, Copy)]
struct Run {
    cpu_s_per_gb: f64,
    mb_per_s: f64,
    /// Delivered bytes / (objects published in the window × size × subscribers).
    delivered: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default() as f64 / 1000.0
}

/// One run: `kind` relay, `version`, `n` subscribers.
fn run_once(
    a: &Args,
    kind: RelayKind,
    version: Version,
    n: usize,
    rate: f64,
    tick: f64,
) -> Result<Run, String> {
    let program = match kind {
        RelayKind::Sluice => &a.sluice,
        RelayKind::MoqRelay => &a.moq_relay,
    };
    let relay = RelayProcess::start(kind, program)?;
    let addr = relay.addr;
    let flags = Arc::new(Flags::default());
    let params = publisher::Params { version, rate, size: a.size, group: a.group };
    let (ann_tx, ann_rx) = mpsc::channel();
    let pf = Arc::clone(&flags);
    let publisher = std::thread::spawn(move || publisher::run(addr, params, pf, ann_tx));
    let stop_all = |flags: &Flags| flags.stop.store(true, Ordering::Release);
    match ann_rx.recv_timeout(Duration::from_secs(20)) {
        Ok(Ok(())) => {}
        _ => {
            stop_all(&flags);
            let err = publisher.join().map_err(|_| "publisher panicked")?.err();
            return Err(format!("publisher did not announce: {err:?}"));
        }
    }
    let subscribed = Arc::new(AtomicUsize::new(0));
    let threads = a.threads.min(n).max(1);
    let mut subs = Vec::new();
    for t in 0..threads {
        let count = n / threads + usize::from(t < n % threads);
        let (f, s) = (Arc::clone(&flags), Arc::clone(&subscribed));
        subs.push(std::thread::spawn(move || subscribers::run(addr, version, count, f, s)));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while subscribed.load(Ordering::Acquire) < n {
        if Instant::now() > deadline || subs.iter().any(|h| h.is_finished()) {
            stop_all(&flags);
            let errs: Vec<String> =
                subs.into_iter().filter_map(|h| h.join().ok().and_then(|r| r.err())).collect();
            return Err(format!(
                "{} of {n} subscribed in time; errors: {errs:?}",
                subscribed.load(Ordering::Acquire)
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    flags.go.store(true, Ordering::Release);
    std::thread::sleep(Duration::from_secs_f64(a.warmup));
    let cpu0 = relay.cpu_ticks()?;
    let t0 = Instant::now();
    flags.measuring.store(true, Ordering::Release);
    std::thread::sleep(Duration::from_secs_f64(a.seconds));
    flags.measuring.store(false, Ordering::Release);
    let cpu1 = relay.cpu_ticks()?;
    let secs = t0.elapsed().as_secs_f64();
    stop_all(&flags);
    let sent = publisher.join().map_err(|_| "publisher panicked")??;
    let mut got = subscribers::Received::default();
    for h in subs {
        let r = h.join().map_err(|_| "subscriber panicked")??;
        got.objects += r.objects;
        got.bytes += r.bytes;
        got.latencies_us.extend(r.latencies_us);
        got.samples.extend(r.samples);
    }
    if let Some(dir) = std::env::var_os("RELAY_COMPARE_DUMP") {
        let name = format!("{}-{}-n{n}-{}.txt", kind.name().replace(' ', "_"), version.alpn(), now_us());
        let text: String =
            got.samples.iter().map(|(seq, sent, lat)| format!("{seq} {sent} {lat}\n")).collect();
        let _ = std::fs::write(std::path::Path::new(&dir).join(name), text);
    }
    drop(relay);
    got.latencies_us.sort_unstable();
    let cpu_s = (cpu1.saturating_sub(cpu0)) as f64 / tick;
    let offered = rate * secs * a.size as f64 * n as f64;
    let run = Run {
        cpu_s_per_gb: if got.bytes > 0 { cpu_s / (got.bytes as f64 / 1e9) } else { f64::NAN },
        mb_per_s: got.bytes as f64 / secs / 1e6,
        delivered: got.bytes as f64 / offered,
        p50_ms: percentile(&got.latencies_us, 0.50),
        p99_ms: percentile(&got.latencies_us, 0.99),
    };
    eprintln!(
        "{} {} n={n} at {rate} objects/s: cpu {cpu_s:.2} s over {secs:.2} s, {} objects / {} bytes delivered \
         ({:.3} of offered), {:.2} CPU s/GB, {:.1} MB/s, p50 {:.2} ms, p99 {:.2} ms \
         (publisher: {} objects, {} upstream subscription(s))",
        kind.name(),
        version.alpn(),
        got.objects,
        got.bytes,
        run.delivered,
        run.cpu_s_per_gb,
        run.mb_per_s,
        run.p50_ms,
        run.p99_ms,
        sent.objects,
        sent.subscriptions
    );
    Ok(run)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| !x.is_nan());
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn main() {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("relay-compare: {e}");
            std::process::exit(2);
        }
    };
    let tick = ticks_per_second();
    let kinds = [RelayKind::Sluice, RelayKind::MoqRelay];
    println!(
        "| version | subscribers | objects/s | relay CPU s/GB: sluice | moq-relay | sluice/moq-relay (goal ≤ 0.8) \
         | delivered MB/s: sluice | moq-relay | p50 / p99 ms: sluice | moq-relay | p99 no worse |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let mut failed = false;
    for &v in &a.versions {
        for &(n, rate) in &a.subscribers {
            let rate = rate.unwrap_or(a.rate);
            // runs[kind][round]
            let mut runs: [Vec<Run>; 2] = [Vec::new(), Vec::new()];
            for _ in 0..a.rounds {
                for (k, &kind) in kinds.iter().enumerate() {
                    match run_once(&a, kind, v, n, rate, tick) {
                        Ok(r) => runs[k].push(r),
                        Err(e) => {
                            eprintln!("{} {} n={n}: FAILED: {e}", kind.name(), v.alpn());
                            failed = true;
                        }
                    }
                }
            }
            let m = |k: usize, f: fn(&Run) -> f64| median(runs[k].iter().map(f).collect());
            let (cs, cm) = (m(0, |r| r.cpu_s_per_gb), m(1, |r| r.cpu_s_per_gb));
            let (p99s, p99m) = (m(0, |r| r.p99_ms), m(1, |r| r.p99_ms));
            let ratio = cs / cm;
            let verdict = |ok: bool| if ok { "met" } else { "not met" };
            println!(
                "| {} | {n} | {rate} | {cs:.2} | {cm:.2} | {ratio:.2}× ({}) | {:.1} ({:.0} %) | {:.1} ({:.0} %) \
                 | {:.2} / {p99s:.2} | {:.2} / {p99m:.2} | {} |",
                v.alpn(),
                verdict(ratio <= 0.8),
                m(0, |r| r.mb_per_s),
                100.0 * m(0, |r| r.delivered),
                m(1, |r| r.mb_per_s),
                100.0 * m(1, |r| r.delivered),
                m(0, |r| r.p50_ms),
                m(1, |r| r.p50_ms),
                verdict(p99s <= p99m),
            );
        }
    }
    if failed {
        std::process::exit(1);
    }
}
