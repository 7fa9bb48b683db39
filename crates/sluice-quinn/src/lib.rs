//! sluice-quinn: drives sluice MoQ [`Session`](sluice::Session)s over real QUIC with
//! quinn-proto (sans-IO QUIC) and a blocking `std::net::UdpSocket`, with no async runtime.
//!
//! * [`Connection`]: one quinn-proto connection + one session; translates session outputs
//!   into stream operations and QUIC events into session inputs (no MoQ logic here).
//! * [`Endpoint`]: the socket loop for clients and servers ([`Endpoint::step`],
//!   [`Endpoint::run_until`]). A signal interrupting the socket wait (EINTR) only ends the
//!   wait early, so a caller's signal flag gets looked at.
//! * Delivery: [`Connection::queued_bytes`] (bytes not yet taken by quinn-proto) and
//!   [`Connection::unacked_streams`] (finished streams the peer has not acknowledged in
//!   full) tell an application when everything it finished has reached the peer.
//! * [`tls`]: self-signed server identities, SHA-256 certificate pinning, ALPN per version.
//! * [`Clock`]: `Instant` ↔ [`sluice::Time`].
//! * `udp_send` / `udp_recv`: GSO-batched sends (one `sendmsg` per batch) and `recvmmsg`
//!   receives on Linux, the crate's only `unsafe` code.
//!
//! * [`webtransport`]: the same session inside WebTransport over HTTP/3 ([`sluice_wt`]).
//!
//! The MoQ version is negotiated by ALPN: the server's list (in its preference order) and
//! the client's offer come from [`sluice::Version::ALL`] or any subset of it. A server
//! endpoint also offers `h3`: a connection that negotiates it runs WebTransport, and the MoQ
//! version then travels in `WT-Available-Protocols` / `WT-Protocol` (a client naming none
//! gets draft-18). Clients choose with [`Endpoint::connect_over`] and a [`Transport`]; see
//! `docs/webtransport.md`.
//!
//! See `examples/pubsub.rs` for a publisher and a subscriber in one program.

pub mod clock;
pub mod connection;
pub mod endpoint;
pub mod error;
pub mod tls;
pub mod transport;
mod udp_recv;
mod udp_send;
pub mod webtransport;

pub use clock::Clock;
pub use connection::{AdapterStats, Connection};
pub use endpoint::Endpoint;
pub use error::Error;
pub use quinn_proto;
pub use tls::{
    ClientTls, Fingerprint, SELF_SIGNED_VALIDITY, ServerIdentity, ServerVerification, client_config,
    server_config,
};
pub use transport::Transport;
