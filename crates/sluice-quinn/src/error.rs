//! The adapter's error type: setup failures (socket, TLS, certificate, connect). Protocol
//! errors never surface here: the session reports them as events and closes itself.

/// Why setting up an endpoint or a connection failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A socket operation failed.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// rustls refused the configuration.
    #[error("tls: {0}")]
    Tls(#[from] rustls::Error),
    /// The certificate could not be generated or used.
    #[error("certificate: {0}")]
    Certificate(String),
    /// A fingerprint was not 64 hex digits.
    #[error("a fingerprint is 64 hex digits, optionally separated by ':'")]
    BadFingerprint,
    /// quinn-proto refused to start the connection.
    #[error("connect: {0}")]
    Connect(#[from] quinn_proto::ConnectError),
    /// `connect` on an endpoint made without a client configuration.
    #[error("this endpoint has no client configuration")]
    NotAClient,
    /// The requested transport is not available in this build or on this endpoint.
    #[error("unsupported transport: {0}")]
    UnsupportedTransport(&'static str),
}
