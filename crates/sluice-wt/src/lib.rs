//! sluice-wt: WebTransport over HTTP/3 (draft-ietf-webtrans-http3) as a sans-IO state
//! machine, for any QUIC stack.
//!
//! [`WtConnection`] takes the bytes of each QUIC stream and each datagram and says what to
//! do: open the control stream, send the extended CONNECT (client) or answer it (server),
//! strip the WebTransport prefix off incoming session streams, prefix outgoing ones, wrap and
//! unwrap datagrams, close the session with WT_CLOSE_SESSION. It never reads a clock, opens
//! a socket or spawns anything; `sluice-quinn` drives it over quinn-proto.
//!
//! What is on the wire is spelled out in the modules: [`frame`] (SETTINGS and frames),
//! [`qpack`] and [`huffman`] (field sections), [`message`] (the CONNECT request and
//! response, `WT-Available-Protocols` / `WT-Protocol` via [`sfv`]), [`capsule`]
//! (WT_CLOSE_SESSION), [`codes`] (every code point). Limits are in [`Config`].
//!
//! ```
//! use sluice_wt::{Config, WtConnection, WtOutput};
//!
//! let mut client = WtConnection::client(Config::default(), "localhost:4443", "/moq", vec!["moqt-18".into()], None);
//! // First command: open the control stream with our SETTINGS.
//! assert!(matches!(client.poll(), Some(WtOutput::OpenControl { .. })));
//! ```
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod capsule;
pub mod codes;
pub mod config;
pub mod connection;
pub mod frame;
#[cfg(feature = "fuzzing")]
pub mod fuzz;
pub mod huffman;
pub mod message;
pub mod qpack;
mod reader;
pub mod sfv;

pub use config::Config;
pub use connection::{WtConnection, WtOutput};
pub use frame::{H3Error, Settings};
