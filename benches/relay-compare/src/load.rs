//! What the load clients share: the benchmark track, the payload layout (sequence number
//! and send time up front, so a subscriber measures publish → receive latency with the
//! same clock), client connections, and the run's shared flags.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use sluice::{Config, Namespace, TrackName, Version};
use sluice_quinn::{Endpoint, ServerVerification, client_config};

/// Bytes of a payload taken by the sequence number and the send time.
pub const HEADER_LEN: usize = 16;

/// The namespace the publisher announces.
pub fn namespace() -> Namespace {
    Namespace::from_fields(["bench"])
}

/// The one track of the benchmark.
pub fn track() -> TrackName {
    TrackName::new(namespace(), "data")
}

/// Microseconds since the process's first call: publisher and subscribers run in this
/// process, so their timestamps share this base.
pub fn now_us() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// The payload of object `seq` sent at `sent_us`: both big-endian, then zeros to `len`.
pub fn payload(seq: u64, sent_us: u64, len: usize) -> Bytes {
    let mut out = BytesMut::zeroed(len.max(HEADER_LEN));
    let mut head = &mut out[..HEADER_LEN];
    head.put_u64(seq);
    head.put_u64(sent_us);
    out.freeze()
}

/// The send time carried by a payload whose first chunk is `first` (None if too short).
pub fn sent_us(first: &[u8]) -> Option<u64> {
    let time = first.get(8..HEADER_LEN)?;
    Some(u64::from_be_bytes(time.try_into().ok()?))
}

/// A client endpoint on 127.0.0.1 offering only `version`, accepting any certificate (each
/// relay generates its own).
pub fn client_endpoint(version: Version) -> Result<Endpoint, String> {
    let tls = client_config(ServerVerification::Insecure, &[version]).map_err(|e| e.to_string())?;
    Endpoint::client(SocketAddr::from(([127, 0, 0, 1], 0)), tls, Config::default()).map_err(|e| e.to_string())
}

/// Flags the driver raises for every client thread.
#[derive(Debug, Default)]
pub struct Flags {
    /// Publishing may start (every subscriber is subscribed).
    pub go: AtomicBool,
    /// Received objects count towards the figures.
    pub measuring: AtomicBool,
    /// Threads return.
    pub stop: AtomicBool,
}
