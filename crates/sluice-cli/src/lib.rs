//! The library half of the `sluice` command line: the building blocks its subcommands run,
//! public so that integration tests (and the interop crates under `tests/`) can start a sluice
//! relay, publisher or subscriber in-process without spawning the binary.
//!
//! Subcommands (one module each, with its clap `Args` and `run`):
//! * [`relay`]: `sluice relay`, the relay on one UDP port.
//! * [`publish`]: `sluice publish`, stdin → a track.
//! * [`subscribe`]: `sluice subscribe`, a track → stdout.
//! * [`discover`]: `sluice discover`, the namespaces announced under a prefix → stdout.
//! * [`interop_client`]: `sluice interop-client`, the public MoQ interop runner's test client.
//! * [`demo`]: `sluice demo`, relay + publisher + subscriber on loopback, checked end to end.
//!
//! Shared pieces:
//! * [`relay_node`]: a server endpoint driven by the sans-IO relay.
//! * [`client`]: client options (URL, version, trust) and one client session.
//! * [`url`]: `moqt://` and `https://` URLs.
//! * [`input`]: stdin → objects, on a reader thread.
//! * [`reorder`]: the subscriber's in-order, once-only output.
//! * [`log`]: the `-v` switch.
//! * [`publisher`], [`subscriber`], [`payload`]: the demo's synthetic-media clients.

pub mod client;
pub mod demo;
pub mod discover;
pub mod input;
pub mod interop_client;
pub mod log;
pub mod payload;
pub mod publish;
pub mod publisher;
pub mod relay;
pub mod relay_node;
pub mod reorder;
pub mod subscribe;
pub mod subscriber;
pub mod url;
