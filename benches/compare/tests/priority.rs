//! Priorities under congestion (issue 7): over a bandwidth-limited simulated link, the
//! groups of the track subscribed with the higher priority complete first. The simulator
//! is deterministic, so the completion ORDER is asserted (latencies are printed, not
//! asserted). Swapping the priorities must swap the order, so the test can fail.

use sluice::{LiteVersion, MoqtVersion, Version};
use sluice_bench_compare::priority::{Completion, GROUPS, Lane, latency_summary, run};

const VERSIONS: [(&str, Version); 3] = [
    ("lite-04", Version::Lite(LiteVersion::Lite04)),
    ("lite-05", Version::Lite(LiteVersion::Lite05)),
    ("draft-18", Version::Moqt(MoqtVersion::Draft18)),
];

fn position(c: &[Completion], lane: Lane, group: u64) -> usize {
    c.iter().position(|x| x.lane == lane && x.group == group).expect("every group completes")
}

/// Every group of `first` completes before the same group of `second`, and each completes
/// exactly once. (The order within the starved lane follows the version's group order:
/// moq-lite sends the newest group first, draft-18 by default the oldest, so it is printed,
/// not asserted here.)
fn assert_lane_first(name: &str, c: &[Completion], first: Lane, second: Lane) {
    assert_eq!(c.len() as u64, 2 * GROUPS, "{name}: every group of both tracks completed");
    for group in 0..GROUPS {
        assert!(
            position(c, first, group) < position(c, second, group),
            "{name}: group {group} of {second:?} completed before {first:?}'s: {c:?}"
        );
    }
    for lane in [first, second] {
        let mut groups: Vec<u64> = c.iter().filter(|x| x.lane == lane).map(|x| x.group).collect();
        groups.sort_unstable();
        assert_eq!(groups, (0..GROUPS).collect::<Vec<_>>(), "{name}: each {lane:?} group once");
    }
}

fn print(name: &str, c: &[Completion]) {
    let order: Vec<String> =
        c.iter().map(|x| format!("{}{}", if x.lane == Lane::High { 'H' } else { 'L' }, x.group)).collect();
    println!("{name}: completion order {}", order.join(" "));
    for lane in [Lane::High, Lane::Low] {
        let (median, max) = latency_summary(c, lane);
        println!("{name}: {lane:?} group completion latency median {median:?}, max {max:?}");
    }
}

#[test]
fn higher_priority_track_completes_first_under_congestion() {
    for (name, version) in VERSIONS {
        let c = run(version, 0, 255).expect("scenario ran");
        print(name, &c);
        assert_lane_first(name, &c, Lane::High, Lane::Low);
    }
}

#[test]
fn swapping_priorities_swaps_the_order() {
    for (name, version) in VERSIONS {
        let c = run(version, 255, 0).expect("scenario ran");
        assert_lane_first(name, &c, Lane::Low, Lane::High);
    }
}
