//! The core object path through a relay in sluice-sim: one publisher session →
//! `sluice-relay` → 1 or 100 subscriber sessions (`sluice_bench_compare::fanout`), 1200-byte
//! objects in groups of 30, perfect links. One iteration writes one group and runs the
//! relay until every subscriber has it; divan's counter is the objects delivered (30 × N),
//! so the throughput column is delivered objects per second on one core.
//!
//! Allocations per object and the zero-copy check are in `tests/fanout_allocs.rs`.

use divan::{Bencher, counter::ItemsCount};
use sluice::{LiteVersion, MoqtVersion, Version};
use sluice_bench_compare::codec_fixtures::payload;
use sluice_bench_compare::fanout::{Fanout, GROUP_LEN};

fn main() {
    divan::main();
}

#[derive(Debug, Clone, Copy)]
enum V {
    Lite04,
    Draft18,
}

impl V {
    fn version(self) -> Version {
        match self {
            V::Lite04 => Version::Lite(LiteVersion::Lite04),
            V::Draft18 => Version::Moqt(MoqtVersion::Draft18),
        }
    }
}

impl std::fmt::Display for V {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            V::Lite04 => "lite04",
            V::Draft18 => "draft18",
        })
    }
}

fn run(b: Bencher<'_, '_>, v: V, subscribers: usize) {
    let mut fanout = Fanout::new(v.version(), subscribers).expect("relay set up");
    let data = payload();
    // Warm up: every table, queue and cache reaches its steady size.
    for _ in 0..4 {
        assert_eq!(fanout.group(&data), Some(GROUP_LEN * subscribers as u64));
    }
    b.counter(ItemsCount::new(GROUP_LEN as usize * subscribers)).bench_local(|| {
        let delivered = fanout.group(&data);
        assert_eq!(delivered, Some(GROUP_LEN * subscribers as u64), "every object reached every subscriber");
    });
}

#[divan::bench(args = [V::Lite04, V::Draft18])]
fn relay_1_to_1(b: Bencher<'_, '_>, v: V) {
    run(b, v, 1);
}

#[divan::bench(args = [V::Lite04, V::Draft18], sample_count = 30)]
fn relay_1_to_100(b: Bencher<'_, '_>, v: V) {
    run(b, v, 100);
}
