//! A fixed amount of the benchmark's `core_*` work, timed once: for A/B comparisons of two
//! builds in alternating runs, where divan's adaptive sampling makes alternating slow.
//!
//! Builds the same pumps as `benches/object_path.rs` (`fanout` of them: 1 is `core_1_to_1`'s
//! shape, 100 is `core_1_to_100`'s), then for each of `rounds` rounds writes one group of 30
//! objects to every pump's publisher and carries them; prints ns per delivered object,
//! including this loop's own share (it reads about 5 ns above `cargo bench`).
//!
//! ```text
//! cargo build --release -p sluice --example object_path_ab
//! cp target/release/examples/object_path_ab /tmp/ab-before   # then change, rebuild, and
//! for i in 1 2 3; do /tmp/ab-before draft18 300 100; target/release/examples/object_path_ab draft18 300 100; done
//! ```
//!
//! Arguments: version (`lite04`, `lite05`, `draft18`), rounds (default 1000), fan-out
//! (default 100). Examples may read the clock; the core never does.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

#[path = "../tests/pump/mod.rs"]
mod pump;

use std::time::Instant;

use pump::{GROUP_LEN, VERSIONS, payload, subscribed_pump};

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "draft18".to_owned());
    let rounds: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let fanout: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(100);
    let version =
        VERSIONS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).expect("lite04, lite05 or draft18");
    let mut pumps: Vec<_> = (0..fanout).map(|_| subscribed_pump(version)).collect();
    let data = payload();
    let start = Instant::now();
    for _ in 0..rounds {
        for _ in 0..GROUP_LEN {
            for (pump, publication) in &mut pumps {
                publication.write(pump.publisher(), &data);
            }
        }
        for (pump, _) in &mut pumps {
            pump.run();
        }
    }
    let elapsed = start.elapsed();
    let objects = rounds * GROUP_LEN * fanout as u64;
    let delivered: u64 = pumps.iter().map(|(pump, _)| pump.delivered()).sum();
    assert!(delivered >= objects, "{delivered} of {objects} objects delivered");
    println!(
        "{name}: {:.1} ns/object ({fanout} subscriber sessions)",
        elapsed.as_nanos() as f64 / objects as f64
    );
}
