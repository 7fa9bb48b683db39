//! [`Transport`]: how a client carries its MoQ session to a server — directly on QUIC
//! (`moqt://host:port/path`, the MoQ version is the ALPN) or inside a WebTransport session
//! over HTTP/3 (`https://host:port/path`, ALPN `h3`, the MoQ version travels in
//! `WT-Available-Protocols` / `WT-Protocol`).
//!
//! A server endpoint needs no choice: it offers both, and a connection that negotiates `h3`
//! is served as WebTransport.

/// How a client reaches a MoQ server. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Transport {
    /// MoQ directly on QUIC.
    Quic,
    /// MoQ inside a WebTransport session; `path` is the CONNECT request's `:path`
    /// (e.g. `/moq`, at least `/`).
    WebTransport {
        /// The extended CONNECT `:path`.
        path: String,
    },
}
