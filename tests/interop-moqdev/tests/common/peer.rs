//! The moq-dev half of each case, on the test's tokio runtime: moq-relay's `test_relay()`,
//! and moq-native 0.19.19 clients and a server (its model API: origin → broadcast → track
//! → group → frame, from moq-net 0.2).

use std::time::Duration;

use bytes::Bytes;
use moq_native::moq_net;
use sluice::{LiteVersion, MoqtVersion, Version};

use super::Dial;

/// moq-native's name for a sluice version (its `Version::from_str` names).
pub fn native_version(v: Version) -> moq_net::Version {
    let name = match v {
        Version::Lite(LiteVersion::Lite04) => "moq-lite-04",
        Version::Lite(LiteVersion::Lite05) => "moq-lite-05",
        Version::Moqt(MoqtVersion::Draft18) => "moq-transport-18",
        // sluice-wire's enums are non-exhaustive; a new version needs a name here.
        other => panic!("no moq-native name for {other:?}"),
    };
    name.parse().expect("moq-native knows every version sluice speaks")
}

/// A moq-native client bound to 127.0.0.1:0 that offers only `v` and skips certificate
/// verification (the sluice relay's certificate is self-signed).
pub fn native_client(v: Version) -> Result<moq_native::Client, String> {
    let mut config = moq_native::ClientConfig::default();
    config.bind = "127.0.0.1:0".parse().map_err(|_| "addr")?;
    config.version = vec![native_version(v)];
    config.tls.disable_verify = Some(true);
    // No WebSocket fallback racing the QUIC dial: nothing listens on TCP here.
    config.websocket.enabled = false;
    config.timeout = Some(Duration::from_secs(5));
    config.init().map_err(|e| format!("moq-native client: {e}"))
}

/// A moq-native publisher session to `addr` publishing `origin`.
pub async fn native_publisher(
    addr: Dial,
    v: Version,
    origin: &moq_net::origin::Producer,
) -> Result<moq_net::Session, String> {
    let client = native_client(v)?.with_publisher(origin);
    connect(client, addr).await
}

/// A moq-native subscriber session to `addr` feeding `origin`.
pub async fn native_subscriber(
    addr: Dial,
    v: Version,
    origin: moq_net::origin::Producer,
) -> Result<moq_net::Session, String> {
    let client = native_client(v)?.with_subscriber(origin);
    connect(client, addr).await
}

async fn connect(client: moq_native::Client, addr: Dial) -> Result<moq_net::Session, String> {
    let url = addr.url().parse().map_err(|e| format!("url: {e}"))?;
    client.connect(url).await.map_err(|e| format!("moq-native connect: {e}"))
}

/// Writes `frames` as the next group of `track` and finishes the group.
pub fn native_write_group(track: &mut moq_net::track::Producer, frames: &[Bytes]) -> Result<u64, String> {
    moq_net_write_group!(moq_net, track, frames)
}

/// Reads `groups` groups of `sub` in arrival order, `frames` frames each: (sequence,
/// frames). Counted rather than read to the group's end, because a sluice relay finishes a
/// group's stream only once the group after the next one starts (it cannot see the
/// publisher's FIN; see the report).
pub async fn native_read_groups(
    sub: &mut moq_net::track::Subscriber,
    groups: usize,
    frames: usize,
) -> Result<Vec<(u64, Vec<Bytes>)>, String> {
    moq_net_read_groups!(sub, groups, frames)
}
