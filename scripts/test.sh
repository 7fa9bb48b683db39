#!/usr/bin/env bash
# The project's test command (README, second line): every test tier that runs on stable.
# Includes the fuzz corpus replay, the property tests and a compile check of the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked
# Benchmarks are measured by scripts/bench.sh (see README); CI only checks that they build.
# The interop crates have tests only; excluding them keeps their peers (tokio, quinn, iroh…)
# from being compiled a second time in the bench profile.
cargo bench --workspace --locked --no-run --exclude sluice-interop-cloudflare --exclude sluice-interop-moqdev
# The README's demo commands must keep working; both check delivery and payload bytes
# themselves and exit non-zero on any loss.
cargo run --release --locked -q -p sluice-cli -- demo
cargo run --locked -q -p sluice-sim --example relay_fanout > /dev/null
echo "demo: sluice demo and relay_fanout passed"
# Real-browser interop: headless Chromium + @moq/lite through `sluice relay` over WebTransport
# (installs Chromium and the npm packages with scripts/setup-browser.sh when missing).
bash scripts/browser-interop.sh
