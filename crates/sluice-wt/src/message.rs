//! The extended CONNECT exchange (RFC 9220, RFC 9114 §4.3, draft-ietf-webtrans-http3 §3.2,
//! §3.3): building the request and response field sections, and checking a peer's. A
//! malformed message is H3_MESSAGE_ERROR (RFC 9114 §4.1.2); a well-formed request that is not
//! a WebTransport CONNECT gets an HTTP status instead.

use crate::codes::{error, frame_type};
use crate::frame::{H3Error, put_frame};
use crate::qpack::{self, Field};
use crate::sfv;

/// `WT-Available-Protocols` (lower case, as HTTP/3 requires).
pub const AVAILABLE_PROTOCOLS: &str = "wt-available-protocols";
/// `WT-Protocol`.
pub const SELECTED_PROTOCOL: &str = "wt-protocol";

/// A WebTransport CONNECT request as the server reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    /// `:authority`.
    pub authority: String,
    /// `:path`.
    pub path: String,
    /// `WT-Available-Protocols`, most preferred first (empty when absent or ignored).
    pub protocols: Vec<String>,
    /// `Origin`, when sent (browsers do).
    pub origin: Option<String>,
}

/// What a request stream's HEADERS asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A WebTransport session.
    WebTransport(ConnectRequest),
    /// A well-formed request that is not one: answer with this status and finish.
    Other {
        /// 405 for a method other than CONNECT, 501 for a CONNECT that is not
        /// `:protocol webtransport`, 400 for a WebTransport CONNECT whose scheme is not https.
        status: u16,
    },
}

/// A response as the client reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// 1xx: an interim response; a final one follows (RFC 9114 §4.1).
    Interim,
    /// 2xx: the session is established; `protocol` is `WT-Protocol` when sent and valid.
    Accepted {
        /// The selected protocol.
        protocol: Option<String>,
    },
    /// Any other status.
    Refused {
        /// The status code.
        status: u16,
    },
}

/// The HEADERS frame of a client's CONNECT request: `:method CONNECT`, `:protocol
/// webtransport`, `:scheme https`, `:authority`, `:path`, then `wt-available-protocols`
/// when `protocols` is not empty. `None` if a protocol cannot be an sf-string.
pub fn encode_request(authority: &str, path: &str, protocols: &[String]) -> Option<Vec<u8>> {
    let mut fields = vec![
        (":method", "CONNECT"),
        (":protocol", "webtransport"),
        (":scheme", "https"),
        (":authority", authority),
        (":path", path),
    ];
    let list;
    if !protocols.is_empty() {
        list = sfv::serialize_list(protocols)?;
        fields.push((AVAILABLE_PROTOCOLS, &list));
    }
    Some(headers_frame(&fields))
}

/// The HEADERS frame of a response: `:status`, then `wt-protocol` when given.
pub fn encode_response(status: u16, protocol: Option<&str>) -> Option<Vec<u8>> {
    let status = status.to_string();
    let mut fields = vec![(":status", status.as_str())];
    let item;
    if let Some(protocol) = protocol {
        item = sfv::serialize_string(protocol)?;
        fields.push((SELECTED_PROTOCOL, &item));
    }
    Some(headers_frame(&fields))
}

fn headers_frame(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut section = Vec::new();
    qpack::encode(fields, &mut section);
    let mut out = Vec::with_capacity(section.len() + 4);
    put_frame(&mut out, frame_type::HEADERS, &section);
    out
}

fn malformed(reason: &'static str) -> H3Error {
    H3Error::new(error::H3_MESSAGE_ERROR, reason)
}

/// Pseudo-header (name, value) pairs and the regular fields.
type Split<'a> = (Vec<(&'a str, &'a [u8])>, Vec<&'a Field>);

/// Splits pseudo-header fields from regular ones, checking the rules every message shares
/// (RFC 9114 §4.2, §4.3): lower-case names, no CR/LF/NUL in values, pseudo-headers first,
/// each at most once, and only those in `allowed`.
fn split<'a>(fields: &'a [Field], allowed: &[&'a str]) -> Result<Split<'a>, H3Error> {
    let mut pseudo: Vec<(&str, &[u8])> = Vec::new();
    let mut regular = Vec::new();
    for field in fields {
        let (name, value) = field;
        if name.is_empty() || name.iter().any(u8::is_ascii_uppercase) {
            return Err(malformed("field name empty or not lower case"));
        }
        if value.iter().any(|b| matches!(b, b'\0' | b'\r' | b'\n')) {
            return Err(malformed("field value holds CR, LF or NUL"));
        }
        if name.first() == Some(&b':') {
            if !regular.is_empty() {
                return Err(malformed("pseudo-header after a regular field"));
            }
            let Some(known) = allowed.iter().find(|a| a.as_bytes() == name.as_slice()) else {
                return Err(malformed("unknown or misplaced pseudo-header"));
            };
            if pseudo.iter().any(|(n, _)| n == known) {
                return Err(malformed("duplicate pseudo-header"));
            }
            pseudo.push((known, value));
        } else {
            regular.push(field);
        }
    }
    Ok((pseudo, regular))
}

fn get<'a>(pseudo: &[(&str, &'a [u8])], name: &str) -> Option<&'a [u8]> {
    pseudo.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

fn text(bytes: &[u8]) -> Result<String, H3Error> {
    String::from_utf8(bytes.to_vec()).map_err(|_| malformed("pseudo-header is not UTF-8"))
}

/// Checks a request's fields (server side).
pub fn parse_request(fields: &[Field]) -> Result<Request, H3Error> {
    let (pseudo, regular) = split(fields, &[":method", ":scheme", ":authority", ":path", ":protocol"])?;
    let method = get(&pseudo, ":method").ok_or(malformed("no :method"))?;
    let protocol = get(&pseudo, ":protocol");
    let scheme = get(&pseudo, ":scheme");
    let authority = get(&pseudo, ":authority");
    let path = get(&pseudo, ":path");
    if method != b"CONNECT" {
        // RFC 9114 §4.3.1: :scheme and :path are mandatory; :protocol only with CONNECT (RFC 9220 §3).
        if protocol.is_some() {
            return Err(malformed(":protocol on a request that is not CONNECT"));
        }
        if scheme.is_none() || path.is_none_or(<[u8]>::is_empty) {
            return Err(malformed("request without :scheme or :path"));
        }
        return Ok(Request::Other { status: 405 });
    }
    let Some(protocol) = protocol else {
        // A classic CONNECT (RFC 9114 §4.4): :authority only.
        if scheme.is_some() || path.is_some() || authority.is_none() {
            return Err(malformed("CONNECT with :scheme/:path or without :authority"));
        }
        return Ok(Request::Other { status: 501 });
    };
    // Extended CONNECT (RFC 9220 §3, RFC 8441 §4): :scheme, :path and :authority required.
    let (Some(scheme), Some(authority), Some(path)) = (scheme, authority, path) else {
        return Err(malformed("extended CONNECT without :scheme, :authority or :path"));
    };
    if path.is_empty() || authority.is_empty() {
        return Err(malformed("empty :path or :authority"));
    }
    if protocol != b"webtransport" {
        return Ok(Request::Other { status: 501 });
    }
    if scheme != b"https" {
        return Ok(Request::Other { status: 400 });
    }
    let mut protocols = Vec::new();
    let mut origin = None;
    for (name, value) in regular {
        if name == AVAILABLE_PROTOCOLS.as_bytes() {
            // Malformed or non-String members: the field is ignored (draft §3.3).
            protocols = sfv::parse_string_list(value).unwrap_or_default();
        } else if name == b"origin" {
            origin = String::from_utf8(value.clone()).ok();
        }
    }
    Ok(Request::WebTransport(ConnectRequest {
        authority: text(authority)?,
        path: text(path)?,
        protocols,
        origin,
    }))
}

/// Checks a response's fields (client side). `offered` is what the client sent in
/// `WT-Available-Protocols`; a `WT-Protocol` not among them is ignored (draft §3.3).
pub fn parse_response(fields: &[Field], offered: &[String]) -> Result<Response, H3Error> {
    let (pseudo, regular) = split(fields, &[":status"])?;
    let status = get(&pseudo, ":status").ok_or(malformed("no :status"))?;
    let status: u16 = std::str::from_utf8(status)
        .ok()
        .filter(|s| s.len() == 3)
        .and_then(|s| s.parse().ok())
        .filter(|s| (100..=599).contains(s))
        .ok_or(malformed(":status is not a 3-digit code"))?;
    match status {
        100..=199 => Ok(Response::Interim),
        200..=299 => {
            let protocol = regular
                .iter()
                .find(|(name, _)| name == SELECTED_PROTOCOL.as_bytes())
                .and_then(|(_, value)| sfv::parse_string_item(value))
                .filter(|p| offered.contains(p));
            Ok(Response::Accepted { protocol })
        }
        _ => Ok(Response::Refused { status }),
    }
}
