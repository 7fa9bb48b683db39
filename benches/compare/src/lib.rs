//! sluice-bench-compare: the benchmark-only crate of issue 7 (never published).
//!
//! It holds what the comparisons and figures share, so the core crates carry none of it:
//!
//! * [`codec_fixtures`]: the draft-18 messages sluice-wire and the peer codec
//!   (`moqtap-codec`, a dev-dependency of this crate only) are both measured on;
//! * [`counting`]: a counting global allocator (allocations and live heap bytes);
//! * [`relay_node`] and [`fanout`]: one publisher → `sluice-relay` → N subscribers in
//!   `sluice-sim`;
//! * [`memory`]: heap bytes per idle session, per subscription and per cached byte;
//! * [`priority`]: two tracks of different priority over a bandwidth-limited link.
//!
//! `scripts/bench.sh` runs the benchmarks (`benches/`) and prints the figures of the tests
//! (`tests/`); the README's Benchmarks section is a run of it.

pub mod codec_fixtures;
pub mod counting;
pub mod fanout;
pub mod memory;
pub mod priority;
pub mod relay_node;
