//! sluice-sim: a deterministic in-memory network for sluice sessions.
//!
//! Test MoQ application logic (a publisher, a relay, N subscribers) without QUIC, sockets,
//! threads or a real clock. Everything runs on one virtual clock ([`sluice::Time`]) and
//! one seeded RNG, so the same seed and the same calls produce the same events, byte for
//! byte, on every machine.
//!
//! * [`Network`] holds any number of connections, each a client and a server
//!   [`Endpoint`] joined by a [`LinkConfig`]: one-way latency and jitter, bandwidth,
//!   per-stream and per-connection flow-control windows, datagram loss and reordering.
//!   Streams stay FIFO, resets / STOP_SENDING / close are carried as QUIC carries them,
//!   and payload `Bytes` pass through untouched (see [`link`] for the exact model).
//! * [`Endpoint`] is the seam: [`sluice::Session`] implements it, and so does
//!   [`ScriptedEndpoint`], a fake that emits queued outputs and records inputs, for peers
//!   the engines do not cover and for testing the network itself; [`AnyEndpoint`] mixes
//!   the two (a session under test facing a scripted, possibly misbehaving, peer).
//! * A node with several sessions (a relay) is the caller's own loop: between steps it
//!   takes each session's events ([`Network::take_events`]) and issues commands on them
//!   ([`Network::session`]); [`Network::step`] hands control back at every instant
//!   something happens.
//! * [`Pair`] is the two-session shortcut: public `client`/`server` sessions over a
//!   perfect (or configured) link.
//! * An optional [`TraceEntry`] log records every input, output, timer, loss and refused
//!   output, for determinism checks and for debugging a failing scenario.
//!
//! # Example
//!
//! A sender streams three chunks over a 10 ms link with a 1 kB stream window; the
//! receiver sees them in order, and the sender is told when its backlog has left.
//!
//! ```
//! use std::time::Duration;
//! use bytes::Bytes;
//! use sluice::{Input, SendOrder, Time};
//! use sluice_sim::{LinkConfig, Network, ScriptedEndpoint, Side};
//!
//! let mut net = Network::new(42);
//! let link = LinkConfig::perfect()
//!     .with_latency(Duration::from_millis(10))
//!     .with_stream_window(1000);
//! let conn = net.connect(ScriptedEndpoint::new(), ScriptedEndpoint::new(), link);
//!
//! let sender = net.endpoint_mut(conn, Side::Client);
//! let stream = sender.open_stream(false, SendOrder(0));
//! for _ in 0..3 {
//!     sender.write(stream, Bytes::from(vec![7u8; 800]), false);
//! }
//! let done = net.settle();
//!
//! // 2400 bytes through a 1000-byte window over a 20 ms round trip: the last bytes arrive
//! // at 50 ms, and the link is quiet once their credit is back at 60 ms.
//! assert_eq!(done, Time::from_millis(60));
//! let receiver = net.endpoint(conn, Side::Server);
//! let peer_stream = receiver.opened_streams()[0];
//! let total: usize = receiver.stream_chunks(peer_stream).iter().map(Bytes::len).sum();
//! assert_eq!(total, 2400);
//! let writable = net.endpoint(conn, Side::Client).received.iter()
//!     .any(|(_, input)| *input == Input::Writable { stream });
//! assert!(writable);
//! ```
//!
//! With real sessions, replace the scripted endpoints with
//! [`Network::connect_sessions`] and drive them with [`Network::session`]; the
//! `examples/` folder shows both, including a relay-shaped node that owns several
//! connections.

pub mod config;
pub mod endpoint;
pub mod link;
pub mod network;
pub mod pair;
pub mod rng;
pub mod side;
pub mod stats;
pub mod trace;

pub use config::LinkConfig;
pub use endpoint::{AnyEndpoint, Endpoint, ScriptedEndpoint};
pub use network::Network;
pub use pair::Pair;
pub use rng::Rng;
pub use side::Side;
pub use stats::{DirectionStats, LinkStats};
pub use trace::{ConnId, TraceEntry, Traced};
