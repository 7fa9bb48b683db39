//! MoQ URLs as the command line takes them: `moqt://host:port/path` for MoQ directly on
//! QUIC and `https://host:port/path` for MoQ inside WebTransport. The port defaults to 443.
//! GOAWAY URIs are parsed with the same rules.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;

use sluice_quinn::Transport;

/// A parsed MoQ URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoqUrl {
    /// Raw QUIC or WebTransport.
    pub transport: Transport,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// UDP port.
    pub port: u16,
    /// The path, at least `/`.
    pub path: String,
}

impl MoqUrl {
    /// The first address `host:port` resolves to.
    pub fn resolve(&self) -> Result<SocketAddr, String> {
        (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("resolving {}: {e}", self.host))?
            .next()
            .ok_or_else(|| format!("{} has no address", self.host))
    }

    /// `host:port` (brackets around IPv6 addresses).
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl FromStr for MoqUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<MoqUrl, String> {
        let (scheme, rest) = s.split_once("://").ok_or_else(|| format!("{s}: not a URL"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let transport = match scheme.to_ascii_lowercase().as_str() {
            "moqt" => Transport::Quic,
            "https" => Transport::WebTransport { path: path.to_owned() },
            other => {
                return Err(format!("{s}: scheme {other} is neither moqt (QUIC) nor https (WebTransport)"));
            }
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| format!("{s}: unclosed '['"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(format!("{s}: no host"));
        }
        let port = match port {
            Some(p) => p.parse().map_err(|_| format!("{s}: bad port {p}"))?,
            None => 443,
        };
        Ok(MoqUrl { transport, host: host.to_owned(), port, path: path.to_owned() })
    }
}

impl fmt::Display for MoqUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.transport {
            Transport::Quic => "moqt",
            Transport::WebTransport { .. } => "https",
        };
        write!(f, "{scheme}://{}{}", self.authority(), self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_schemes_ports_paths_and_ipv6() {
        let u: MoqUrl = "moqt://127.0.0.1:4443/live".parse().unwrap();
        assert_eq!(
            (u.transport.clone(), u.host.as_str(), u.port, u.path.as_str()),
            (Transport::Quic, "127.0.0.1", 4443, "/live")
        );
        assert_eq!(u.to_string(), "moqt://127.0.0.1:4443/live");
        let u: MoqUrl = "https://relay.example".parse().unwrap();
        assert_eq!(u.transport, Transport::WebTransport { path: "/".to_owned() });
        assert_eq!((u.port, u.path.as_str()), (443, "/"));
        let u: MoqUrl = "moqt://[::1]:9/".parse().unwrap();
        assert_eq!((u.host.as_str(), u.authority()), ("::1", "[::1]:9".to_owned()));
        assert!("http://x:1/".parse::<MoqUrl>().is_err());
        assert!("moqt://:1/".parse::<MoqUrl>().is_err());
        assert!("moqt://x:99999/".parse::<MoqUrl>().is_err());
        assert!("x:1".parse::<MoqUrl>().is_err());
    }
}
