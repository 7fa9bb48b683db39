#!/usr/bin/env bash
# The project's test command (README, second line): every test tier that runs on stable.
# Includes the fuzz corpus replay, the property tests and a compile check of the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked
# Benchmarks are measured by hand (see README); CI only checks that they build.
cargo bench --workspace --locked --no-run
# The README's demo command must keep working: it asserts delivery and payload bytes itself.
cargo run --locked -q -p sluice-sim --example relay_fanout > /dev/null
echo "demo: relay_fanout passed"
