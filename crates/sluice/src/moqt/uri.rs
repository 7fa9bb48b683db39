//! `moqt://` URIs and the PATH / AUTHORITY setup options they become (draft-18 §3.1.2
//! "MOQT URI Scheme", §10.3.1 "AUTHORITY", "PATH"), checked by RFC 3986's grammar.
//!
//! A client over native QUIC sends the URI's `authority` as AUTHORITY and its
//! `path-abempty` (plus `?query`) as PATH: [`MoqtUri::parse`] splits a URI that way and
//! [`MoqtUri::apply`] puts both into a [`Config`]. A server receiving them checks the same
//! grammar with [`valid_authority`] / [`valid_path`] (MALFORMED_AUTHORITY / MALFORMED_PATH
//! when they fail). Pure functions: no name resolution.

use crate::config::Config;

/// A parsed `moqt://authority/path?query#fragment` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoqtUri {
    /// The `authority` portion, verbatim (`[userinfo@]host[:port]`; the host is never empty).
    pub authority: String,
    /// `path-abempty`, then `?` and the query when there is one: the PATH option.
    pub path: String,
    /// The fragment after `#` (not sent in SETUP), if any.
    pub fragment: Option<String>,
}

/// Why a string is not a `moqt` URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// The scheme is not `moqt` (case-insensitive) or `//` is missing.
    #[error("not a moqt:// URI")]
    Scheme,
    /// The authority breaks RFC 3986 or has an empty host (§3.1.2).
    #[error("malformed authority")]
    Authority,
    /// The path or query breaks RFC 3986.
    #[error("malformed path or query")]
    Path,
    /// The fragment does not start with a fragment type identifier (`[a-z0-9-]+`) and `:`
    /// (§3.1.3 "Fragment Identifiers").
    #[error("malformed fragment")]
    Fragment,
}

impl MoqtUri {
    /// Splits `uri` into the parts SETUP carries.
    pub fn parse(uri: &str) -> Result<MoqtUri, UriError> {
        let (scheme, rest) = uri.split_once("://").ok_or(UriError::Scheme)?;
        if !scheme.eq_ignore_ascii_case("moqt") {
            return Err(UriError::Scheme);
        }
        let (rest, fragment) = match rest.split_once('#') {
            Some((r, f)) => (r, Some(f)),
            None => (rest, None),
        };
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        if !valid_authority(authority.as_bytes()) {
            return Err(UriError::Authority);
        }
        if !valid_path(path.as_bytes()) {
            return Err(UriError::Path);
        }
        if let Some(f) = fragment
            && !valid_fragment(f.as_bytes())
        {
            return Err(UriError::Fragment);
        }
        Ok(MoqtUri {
            authority: authority.to_owned(),
            path: path.to_owned(),
            fragment: fragment.map(str::to_owned),
        })
    }

    /// Sets `Config::authority` and `Config::path` for a client over native QUIC: the
    /// URI's authority and its `path-abempty` with the query, verbatim (possibly empty).
    pub fn apply(&self, config: &mut Config) {
        config.authority = Some(self.authority.clone());
        config.path = Some(self.path.clone());
    }
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn sub_delim(b: u8) -> bool {
    matches!(b, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=')
}

/// True when every byte is `unreserved`, `sub-delims`, one of `extra`, or a `%XX` escape.
fn pct_chars(s: &[u8], extra: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'%' {
            let hex = |j: usize| s.get(j).is_some_and(|c| c.is_ascii_hexdigit());
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
            continue;
        }
        if !(unreserved(b) || sub_delim(b) || extra.contains(&b)) {
            return false;
        }
        i += 1;
    }
    true
}

/// RFC 3986 `authority` (`[userinfo "@"] host [":" port]`) with a non-empty host.
pub fn valid_authority(a: &[u8]) -> bool {
    let host_port = match a.iter().rposition(|&b| b == b'@') {
        Some(at) => {
            let (user, rest) = a.split_at(at);
            if !pct_chars(user, b":") {
                return false;
            }
            rest.get(1..).unwrap_or_default()
        }
        None => a,
    };
    let (host, port) = if host_port.first() == Some(&b'[') {
        let Some(close) = host_port.iter().position(|&b| b == b']') else { return false };
        let (lit, after) = host_port.split_at(close);
        let inner = lit.get(1..).unwrap_or_default();
        // IP-literal: IPv6address or IPvFuture, checked loosely by their alphabets.
        let ipv6 =
            !inner.is_empty() && inner.iter().all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        let future =
            matches!(inner.first(), Some(b'v' | b'V')) && pct_chars(inner, b":") && !inner.contains(&b'%');
        if !(ipv6 || future) {
            return false;
        }
        let after = after.get(1..).unwrap_or_default();
        match after.split_first() {
            None => (lit, None),
            Some((b':', port)) => (lit, Some(port)),
            Some(_) => return false,
        }
    } else {
        match host_port.iter().rposition(|&b| b == b':') {
            Some(c) => {
                let (h, p) = host_port.split_at(c);
                (h, Some(p.get(1..).unwrap_or_default()))
            }
            None => (host_port, None),
        }
    };
    if host.is_empty() || (host.first() != Some(&b'[') && !pct_chars(host, b"")) {
        return false;
    }
    port.is_none_or(|p| p.iter().all(u8::is_ascii_digit))
}

/// RFC 3986 `path-abempty [ "?" query ]`: empty, or segments each after a `/`, then an
/// optional query (`pchar`, `/`, `?`).
pub fn valid_path(p: &[u8]) -> bool {
    let (path, query) = match p.iter().position(|&b| b == b'?') {
        Some(q) => {
            let (path, query) = p.split_at(q);
            (path, Some(query.get(1..).unwrap_or_default()))
        }
        None => (p, None),
    };
    if !path.is_empty() && path.first() != Some(&b'/') {
        return false;
    }
    pct_chars(path, b":@/") && query.is_none_or(|q| pct_chars(q, b":@/?"))
}

/// §3.1.3: `<type>:<value>`, the type of ASCII lowercase letters, digits and hyphens.
fn valid_fragment(f: &[u8]) -> bool {
    let Some(colon) = f.iter().position(|&b| b == b':') else { return false };
    let (kind, value) = f.split_at(colon);
    !kind.is_empty()
        && kind.iter().all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && pct_chars(value.get(1..).unwrap_or_default(), b":@/?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_grammar() {
        for ok in ["relay.example", "relay.example:4443", "u:p@h:1", "[::1]:9", "[v1.x]", "h%41", "h:"] {
            assert!(valid_authority(ok.as_bytes()), "{ok}");
        }
        for bad in ["", ":443", "u@", "[::1", "[::1]x", "h:12a", "h h", "h/", "%4"] {
            assert!(!valid_authority(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn path_grammar() {
        for ok in ["", "/", "/live/a", "//x", "/a?b=c&d", "?q", "/%20"] {
            assert!(valid_path(ok.as_bytes()), "{ok}");
        }
        for bad in ["live", "/a b", "/a#f", "/%zz", "/a\"b"] {
            assert!(!valid_path(bad.as_bytes()), "{bad}");
        }
    }
}
