//! The library half of the `sluice` command line: the building blocks its subcommands run,
//! public so that integration tests (and the interop crates under `tests/`) can start a sluice
//! relay, publisher or subscriber in-process without spawning the binary.
//!
//! * [`relay_node`]: a server endpoint driven by the sans-IO relay.
//! * [`publisher`], [`subscriber`]: the demo's synthetic-media clients.
//! * [`payload`]: the demo payload format (sequence number, send time, checked filler).
//! * [`demo`]: relay + publisher + subscriber on loopback, checked end to end.

pub mod demo;
pub mod payload;
pub mod publisher;
pub mod relay_node;
pub mod subscriber;
