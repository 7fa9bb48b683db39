//! A fixed amount of object-path work for instruction-count profiling (callgrind), where
//! the divan benchmark's wall-clock figures are too noisy on a shared machine.
//!
//! Runs the core-only pump of `tests/pump` (publisher session → subscriber session) for
//! one version and a given number of 1200-byte objects, after a warm-up of 600 objects,
//! writing one group (30 objects) and then carrying it, as the benchmark's `core_*` cases
//! do.
//! Instructions per object are the difference between two runs divided by the difference
//! in objects, which cancels setup and warm-up:
//!
//! ```text
//! cargo build --release -p sluice --example object_path_profile
//! valgrind --tool=callgrind target/release/examples/object_path_profile draft18 3000
//! valgrind --tool=callgrind target/release/examples/object_path_profile draft18 6000
//! ```
//!
//! `scripts/callgrind-core.sh` does exactly that for every version.

#[path = "../tests/pump/mod.rs"]
mod pump;

use pump::{GROUP_LEN, VERSIONS, payload, subscribed_pump};

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "draft18".to_owned());
    let objects: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(3000);
    let version =
        VERSIONS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).expect("lite04, lite05 or draft18");
    let (mut pump, mut publication) = subscribed_pump(version);
    let data = payload();
    let total = 600 + objects;
    for n in 0..total {
        publication.write(pump.publisher(), &data);
        if (n + 1) % GROUP_LEN == 0 || n + 1 == total {
            pump.run();
        }
    }
    assert_eq!(pump.delivered(), 600 + objects);
    println!("{name}: {objects} objects delivered");
}
