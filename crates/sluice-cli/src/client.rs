//! What `sluice publish` and `sluice subscribe` share: the URL, version and trust options
//! ([`ClientArgs`]) and opening one client session ([`Link::connect`]).
//!
//! Every (re)connection gets its own client [`Endpoint`] (its own UDP socket), which keeps a
//! session that is going away (GOAWAY) and its successor independent.

use std::time::Duration;

use clap::ValueEnum;
use sluice::{Config, LiteVersion, MoqtVersion, Version};
use sluice_quinn::quinn_proto::ConnectionHandle;
use sluice_quinn::{Connection, Endpoint, Error, Fingerprint, ServerVerification, Transport, client_config};

use crate::url::MoqUrl;

/// A MoQ version on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VersionArg {
    /// draft-lcurley-moq-lite-04
    #[value(name = "lite-04", alias = "moq-lite-04")]
    Lite04,
    /// draft-lcurley-moq-lite-05
    #[value(name = "lite-05", alias = "moq-lite-05")]
    Lite05,
    /// draft-ietf-moq-transport-18
    #[value(name = "d18", alias = "moqt-18")]
    D18,
}

impl From<VersionArg> for Version {
    fn from(v: VersionArg) -> Version {
        match v {
            VersionArg::Lite04 => Version::Lite(LiteVersion::Lite04),
            VersionArg::Lite05 => Version::Lite(LiteVersion::Lite05),
            VersionArg::D18 => Version::Moqt(MoqtVersion::Draft18),
        }
    }
}

/// Options every client subcommand takes.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// `moqt://host:port/path` (MoQ on QUIC) or `https://host:port/path` (WebTransport).
    #[arg(long)]
    pub url: MoqUrl,
    /// The MoQ version to offer; every version (server's choice) when absent.
    #[arg(long, value_enum)]
    pub version: Option<VersionArg>,
    /// Accept any server certificate (tests and debugging only).
    #[arg(long, conflicts_with = "fingerprint")]
    pub insecure: bool,
    /// Accept exactly the server certificate with this SHA-256 fingerprint (hex, as
    /// `sluice relay` prints it).
    #[arg(long)]
    pub fingerprint: Option<String>,
    /// Over WebTransport, send no `WT-Available-Protocols` (the server's default version,
    /// draft-18, applies). For tests of servers facing clients like moq-transport's.
    #[arg(long, hide = true)]
    pub wt_unnamed_version: bool,
}

/// What a client offers: MoQ versions in preference order, and whether a WebTransport
/// CONNECT names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionOffer {
    /// The versions (ALPNs on raw QUIC; `WT-Available-Protocols` over WebTransport).
    pub versions: Vec<Version>,
    /// Send `WT-Available-Protocols` (false: none; the server's default applies).
    pub name_over_webtransport: bool,
}

impl VersionOffer {
    /// `versions`, named over WebTransport.
    pub fn new(versions: Vec<Version>) -> VersionOffer {
        VersionOffer { versions, name_over_webtransport: true }
    }
}

impl ClientArgs {
    /// The versions to offer, in preference order.
    pub fn versions(&self) -> Vec<Version> {
        match self.version {
            Some(v) => vec![v.into()],
            None => Version::ALL.to_vec(),
        }
    }

    /// The versions to offer and how (`--version`, `--wt-unnamed-version`).
    pub fn offer(&self) -> VersionOffer {
        VersionOffer { versions: self.versions(), name_over_webtransport: !self.wt_unnamed_version }
    }

    /// How to check the server, from `--insecure` / `--fingerprint`.
    pub fn verification(&self) -> Result<ServerVerification, String> {
        match (&self.fingerprint, self.insecure) {
            (Some(hex), _) => {
                let pin: Fingerprint = hex.parse().map_err(|e: Error| format!("--fingerprint: {e}"))?;
                Ok(ServerVerification::Pin(pin))
            }
            (None, true) => Ok(ServerVerification::Insecure),
            (None, false) => {
                Err("give --fingerprint HEX (printed by `sluice relay`) or --insecure".to_owned())
            }
        }
    }
}

/// Process exit code of a client whose transport is not available in this build (the
/// integration tests skip WebTransport cases on it).
pub const EXIT_UNSUPPORTED_TRANSPORT: u8 = 3;

/// Why a connection could not be started.
#[derive(Debug)]
pub enum ConnectError {
    /// The transport (WebTransport) is not available yet.
    Unsupported(String),
    /// Anything else.
    Other(String),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Unsupported(s) | ConnectError::Other(s) => f.write_str(s),
        }
    }
}

/// One client session: its endpoint, its connection and the URL it went to.
#[derive(Debug)]
pub struct Link {
    /// The client endpoint (own socket).
    pub endpoint: Endpoint,
    /// The connection on it.
    pub conn: ConnectionHandle,
    /// Where it is connected.
    pub url: MoqUrl,
    /// The peer sent GOAWAY on it: a successor is (being) opened.
    pub going_away: bool,
    /// We closed it and only step it so the close leaves.
    pub closing: bool,
}

impl Link {
    /// Opens a session to `url` offering `offer`.
    pub fn connect(
        url: &MoqUrl,
        offer: &VersionOffer,
        verification: ServerVerification,
    ) -> Result<Link, ConnectError> {
        let versions = &offer.versions;
        let other = |e: Error| ConnectError::Other(format!("{url}: {e}"));
        let remote = url.resolve().map_err(ConnectError::Other)?;
        let tls = client_config(verification, versions).map_err(other)?;
        let mut config = Config::default();
        if url.transport == Transport::Quic {
            // MOQT SETUP PATH / AUTHORITY (draft-18 §10.3.1): raw QUIC only.
            config.path = Some(url.path.clone());
            config.authority = Some(url.authority());
        }
        let local = if remote.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
        let local = local.parse().map_err(|e| ConnectError::Other(format!("{e}")))?;
        let mut endpoint = Endpoint::client(local, tls, config).map_err(other)?;
        let connected = match &url.transport {
            Transport::WebTransport { path } if !offer.name_over_webtransport => {
                endpoint.connect_webtransport_unnamed(remote, &url.host, path)
            }
            transport => endpoint.connect_over(remote, &url.host, transport),
        };
        let conn = match connected {
            Ok(conn) => conn,
            Err(Error::UnsupportedTransport(what)) => {
                return Err(ConnectError::Unsupported(format!("{url}: unsupported transport: {what}")));
            }
            Err(e) => return Err(other(e)),
        };
        crate::vlog!("connecting to {url} ({remote})");
        Ok(Link { endpoint, conn, url: url.clone(), going_away: false, closing: false })
    }

    /// The connection, while it exists.
    pub fn connection(&mut self) -> Option<&mut Connection> {
        self.endpoint.connection(self.conn)
    }

    /// Steps the socket loop.
    pub fn step(&mut self, max_wait: Duration) -> Result<(), String> {
        self.endpoint.step(max_wait).map_err(|e| format!("{}: {e}", self.url))
    }

    /// Closes the session with NO_ERROR; keep stepping until [`Link::is_gone`].
    pub fn close(&mut self, reason: &str) {
        if let Some(conn) = self.connection() {
            conn.session().close(0, reason);
        }
        self.closing = true;
    }

    /// True once the connection is fully gone.
    pub fn is_gone(&mut self) -> bool {
        self.connection().is_none()
    }

    /// The URL a GOAWAY points to: its URI when it parses as a MoQ URL, else this link's
    /// URL (draft-18 §3.5: no URI = reuse the current one; lite-04/05 §GOAWAY: an empty URI
    /// means close this session, and a client that still wants the track opens a new one to
    /// the same URL).
    pub fn goaway_target(&self, uri: &[u8]) -> MoqUrl {
        if uri.is_empty() {
            return self.url.clone();
        }
        match std::str::from_utf8(uri).ok().and_then(|s| s.parse::<MoqUrl>().ok()) {
            Some(url) => url,
            None => {
                eprintln!(
                    "GOAWAY URI {:?} is not a MoQ URL; reconnecting to {}",
                    String::from_utf8_lossy(uri),
                    self.url
                );
                self.url.clone()
            }
        }
    }
}
