//! IETF MOQT, draft-18 (ALPN `moqt-18`).
//!
//! Control messages travel framed as `Type (vi64), Length (16), Body` on the uni control
//! stream (SETUP, GOAWAY) and on one bidi stream per request; objects travel on uni data
//! streams (SUBGROUP_HEADER, FETCH_HEADER) and in datagrams.

pub mod codes;
pub mod control;
pub mod datagram;
pub mod fetch_stream;
pub mod filter;
pub mod kvp;
pub mod location;
pub mod message;
pub mod namespace;
pub mod object;
pub mod padding;
pub mod params;
pub mod reason;
pub mod setup;
pub mod stream_type;
pub mod subgroup;
pub mod token;
