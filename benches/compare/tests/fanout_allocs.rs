//! Allocations per delivered object and zero payload copies on the relay fan-out path
//! (`sluice_bench_compare::fanout`: one publisher → sluice-relay → N subscribers in
//! sluice-sim), 1200-byte objects, 1 → 1 and 1 → 100. Issue 7's goal: ≤ 1 allocation per
//! object, 0 payload copies. The count covers everything on the path: both sessions of each
//! hop, the relay (routing, cache) and the simulator. Prints the figures.

use sluice::{LiteVersion, MoqtVersion, Version};
use sluice_bench_compare::codec_fixtures::payload;
use sluice_bench_compare::counting::{CountingAlloc, Snapshot};
use sluice_bench_compare::fanout::{Fanout, GROUP_LEN};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const VERSIONS: [(&str, Version); 3] = [
    ("lite-04", Version::Lite(LiteVersion::Lite04)),
    ("lite-05", Version::Lite(LiteVersion::Lite05)),
    ("draft-18", Version::Moqt(MoqtVersion::Draft18)),
];

/// Warms up, then measures `groups` groups; returns allocations per delivered object.
fn per_object(name: &str, version: Version, subscribers: usize, groups: u64) -> f64 {
    let mut fanout = Fanout::new(version, subscribers).expect("relay set up");
    let data = payload();
    let per_group = GROUP_LEN * subscribers as u64;
    for _ in 0..4 {
        assert_eq!(fanout.group(&data), Some(per_group), "{name}: warm-up delivery");
    }
    let before = Snapshot::now();
    for _ in 0..groups {
        assert_eq!(fanout.group(&data), Some(per_group), "{name}: every object to every subscriber");
    }
    let allocations = Snapshot::now().allocations_since(before);
    // Zero payload copies: the subscriber holds the publisher's own memory.
    let last = fanout.last_payload.take().expect("an object arrived");
    assert_eq!(last.chunks().len(), 1, "{name}: payload split");
    assert_eq!(last.chunks()[0].as_ptr(), data.as_ptr(), "{name}: payload was copied");
    assert_eq!(fanout.node.relay.stats().payload_copies, 0, "{name}: the relay copied a payload");
    let per = allocations as f64 / (groups * per_group) as f64;
    println!(
        "{name} 1 -> {subscribers}: {allocations} allocations for {} delivered objects = {per:.3} per object",
        groups * per_group
    );
    per
}

#[test]
fn relay_fanout_1_to_1_at_most_one_allocation_per_object_and_no_copy() {
    for (name, version) in VERSIONS {
        assert!(per_object(name, version, 1, 20) <= 1.0, "{name}: over one allocation per object");
    }
}

#[test]
fn relay_fanout_1_to_100_at_most_one_allocation_per_object_and_no_copy() {
    for (name, version) in VERSIONS {
        assert!(per_object(name, version, 100, 4) <= 1.0, "{name}: over one allocation per object");
    }
}
