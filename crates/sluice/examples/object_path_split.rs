//! Wall-clock split of the core object path: the publisher session's writes timed apart from
//! the carry and the subscriber session, per object, for every version.
//!
//! `cargo bench -p sluice --bench object_path` times both sessions and the pump together;
//! callgrind (`scripts/callgrind-core.sh`) counts instructions, which this machine showed to
//! miss store-to-load forwarding stalls (docs/bench-core.md, fifth round). This probe says
//! which side a wall-clock change moved:
//!
//! ```text
//! cargo run --release -p sluice --example object_path_split
//! ```
//!
//! Each round writes 300 objects (10 groups of 30) with the same pump as the benchmark, then
//! carries them; the figures are the medians of 400 rounds. Examples may read the clock; the
//! core never does.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

#[path = "../tests/pump/mod.rs"]
mod pump;

use std::time::Instant;

use pump::{GROUP_LEN, VERSIONS, payload, subscribed_pump};

const ROUNDS: usize = 400;
const OBJECTS: u64 = GROUP_LEN * 10;

fn median(mut ns_per_object: Vec<f64>) -> f64 {
    ns_per_object.sort_by(f64::total_cmp);
    ns_per_object.get(ns_per_object.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    for (name, version) in VERSIONS {
        let (mut pump, mut publication) = subscribed_pump(version);
        let data = payload();
        let (mut write, mut carry) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
        for _ in 0..ROUNDS {
            let start = Instant::now();
            for _ in 0..OBJECTS {
                publication.write(pump.publisher(), &data);
            }
            let written = Instant::now();
            pump.run();
            let carried = Instant::now();
            write.push((written - start).as_nanos() as f64 / OBJECTS as f64);
            carry.push((carried - written).as_nanos() as f64 / OBJECTS as f64);
        }
        assert_eq!(pump.delivered(), ROUNDS as u64 * OBJECTS, "every object delivered");
        println!(
            "{name}: publisher writes {:.1} ns/object, carry + subscriber {:.1} ns/object",
            median(write),
            median(carry)
        );
    }
}
