//! moq-tokio 0.19.31 clients (moq-relay's own client library, over moq-net 0.3.18) in the two
//! parts a case needs: [`TokioPub`] publishes the [`PATH`] broadcast with track [`TRACK`];
//! [`TokioSub`] consumes what its session announces. Both live on the test's tokio runtime.
//! moq-net 0.3's model differs from 0.2's (routes, `routed_broadcast`, `Subscription` with
//! `max_age` and a start position), so this is a separate module from `native.rs`.

use std::time::Duration;

use bytes::Bytes;
use moq_tokio::moq_net;
use sluice::{LiteVersion, MoqtVersion, Reason, Version};

use super::matrix::Outcome;
use super::peer_to_sluice::PeerPublisher;
use super::{Dial, LITE04_NO_FETCH, PATH, T, TRACK};

/// The max age of every moq-tokio subscription. Not moq-net 0.3's zero default, which
/// delivers only the newest group (src/model/subscription.rs `Subscription::max_age`), and
/// short: on lite-04, whose Subscribe stream FIN carries no group count, moq-net's subscriber
/// ends the track only after this long a grace for straggling group streams
/// (moq-net-0.3.18 src/lite/subscriber.rs "subscribe complete" → `ServeMode::Tail`, grace =
/// the subscription's max age). Frames are stamped when written, milliseconds apart, so no
/// group of a case ages out.
pub const MAX_AGE: Duration = Duration::from_secs(2);

/// Groups as moq-net reads them: (sequence, frames).
pub type Groups = Vec<(u64, Vec<Bytes>)>;

/// moq-net 0.3's name for a sluice version (its `Version::from_str` names).
pub fn tokio_version(v: Version) -> moq_net::Version {
    let name = match v {
        Version::Lite(LiteVersion::Lite04) => "moq-lite-04",
        Version::Lite(LiteVersion::Lite05) => "moq-lite-05",
        Version::Moqt(MoqtVersion::Draft18) => "moq-transport-18",
        // sluice-wire's enums are non-exhaustive; a new version needs a name here.
        other => panic!("no moq-net name for {other:?}"),
    };
    name.parse().expect("moq-net knows every version sluice speaks")
}

/// A one-shot moq-tokio client bound to 127.0.0.1:0 that offers only `v` and skips
/// certificate verification (the relays' certificates are self-signed).
fn tokio_client(v: Version) -> Result<moq_tokio::Client, String> {
    let _ = moq_tokio::rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut config = moq_tokio::connect::Config::default();
    config.bind = Some("127.0.0.1:0".parse().map_err(|_| "addr")?);
    config.version = vec![tokio_version(v)];
    config.tls.insecure = Some(true);
    // One dial, no redial behind the case's back; no WebSocket racing the QUIC dial.
    config.once = Some(true);
    config.websocket.enabled = Some(false);
    config.timeout = T;
    config.init(Default::default()).map_err(|e| format!("moq-tokio client: {e}"))
}

/// Dials `addr` and waits for the MoQ session.
async fn dial(client: &moq_tokio::Client, addr: Dial) -> Result<moq_tokio::Connection, String> {
    let url: url::Url = addr.url().parse().map_err(|e| format!("url: {e}"))?;
    tokio::time::timeout(T, client.connect(url).established())
        .await
        .map_err(|_| "moq-tokio connect timed out".to_owned())?
        .map_err(|e| format!("moq-tokio connect: {e}"))
}

/// A moq-tokio publisher connection.
pub struct TokioPub {
    /// The connection (dropping it closes the session).
    pub conn: moq_tokio::Connection,
    origin: moq_net::origin::Producer,
    broadcast: Option<moq_net::broadcast::Producer>,
    track: Option<moq_net::track::Producer>,
}

impl PeerPublisher for TokioPub {
    const NO_PUBLISH: &'static str = TOKIO_NO_PUBLISH;
    const LITE04_NO_FETCH: Option<&'static str> = Some(LITE04_NO_FETCH);

    /// Connects to `addr` offering only `v`.
    async fn connect(addr: Dial, v: Version) -> Result<Self, String> {
        let origin = moq_tokio::origin::spawn();
        let client = tokio_client(v)?.with_publisher(&origin);
        let conn = dial(&client, addr).await?;
        Ok(TokioPub { conn, origin, broadcast: None, track: None })
    }

    /// Announces the broadcast and creates its track.
    fn announce(&mut self) -> Result<(), String> {
        let b = self.origin.create_broadcast(PATH).map_err(|e| format!("create broadcast: {e}"))?;
        // The track exists before the announce goes out: a relay subscribing as soon as the
        // announce reaches it must find it (see `native::announced_with_track`).
        self.track = Some(b.create_track(TRACK, None).map_err(|e| format!("create track: {e}"))?);
        b.announce(Default::default()).map_err(|e| format!("announce: {e}"))?;
        self.broadcast = Some(b);
        Ok(())
    }

    /// Withdraws the announce (the broadcast ends).
    fn unannounce(&mut self) {
        self.track.take();
        if let Some(b) = self.broadcast.take() {
            b.unannounce();
            b.close();
        }
    }

    /// Writes `frames` as the track's next group and finishes it; returns its sequence.
    fn write_group(&mut self, frames: &[Bytes]) -> Result<u64, String> {
        let track = self.track.as_mut().ok_or("not announced")?;
        moq_net_write_group!(moq_net, track, frames)
    }

    /// Waits until the relay's upstream subscription is live on the track: its aggregate
    /// subscription exists. Not `track::Producer::used`, which any consumer handle satisfies
    /// (moq-net-0.3.18 src/model/track.rs `used`: "at least one active consumer") and which
    /// resolved before the relay's SUBSCRIBE had arrived, so groups written then were older
    /// than the subscription.
    async fn used(&mut self) -> Result<(), String> {
        let track = self.track.as_mut().ok_or("not announced")?;
        let live = async {
            while track.subscription().is_none() {
                track.subscription_changed().await.map_err(|e| format!("track: {e}"))?;
            }
            Ok(())
        };
        tokio::time::timeout(T, live).await.map_err(|_| "the relay never subscribed upstream".to_owned())?
    }

    /// Finishes the track (subscribers see its end).
    fn finish_track(&mut self) -> Result<(), String> {
        let track = self.track.as_mut().ok_or("not announced")?;
        track.finish().map_err(|e| format!("finish track: {e}"))
    }
    fn relayed_refusal(reason: &Reason, lite: bool, wt: bool) -> Outcome {
        if lite && !wt && reason.code >= WT_FIRST_CODE {
            Outcome::PeerBug(format!("{RAW_QUIC_WT_CODES}; refusal relayed as reset code {:#x}", reason.code))
        } else {
            Outcome::Pass(format!("publisher's refusal relayed: code {:#x}", reason.code))
        }
    }
    async fn goaway_seen(&self, send: impl FnOnce()) -> Option<Outcome> {
        Some(goaway_outcome(&self.conn, send).await)
    }
}

/// A moq-tokio subscriber connection.
pub struct TokioSub {
    /// The connection.
    pub conn: moq_tokio::Connection,
    origin: moq_net::origin::Producer,
}

impl TokioSub {
    /// Connects to `addr` offering only `v`.
    pub async fn connect(addr: Dial, v: Version) -> Result<TokioSub, String> {
        let origin = moq_tokio::origin::spawn();
        let client = tokio_client(v)?.with_subscriber(origin.clone());
        let conn = dial(&client, addr).await?;
        Ok(TokioSub { conn, origin })
    }

    /// Waits until [`PATH`] is announced to this session and resolves it.
    pub async fn announced(&self) -> Result<moq_net::broadcast::Consumer, String> {
        let consumer = self.origin.consume();
        tokio::time::timeout(T, consumer.routed_broadcast(PATH))
            .await
            .map_err(|_| "no announce of the broadcast arrived".to_owned())?
            .map_err(|e| format!("broadcast: {e}"))
    }

    /// An announce cursor, to be taken before the withdrawal it is to see (it replays the
    /// routes active when taken).
    pub fn watch(&self) -> moq_net::announce::Consumer {
        self.origin.consume().announced()
    }
}

/// Waits until `cursor` reports [`PATH`] active (`true`) or withdrawn (`false`). The cursor
/// coalesces updates it has not handed out, so a watcher takes the announce before the
/// withdrawal is sent, or it may see neither.
pub async fn announce_state(cursor: &mut moq_net::announce::Consumer, active: bool) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let next = tokio::time::timeout_at(deadline, cursor.next())
            .await
            .map_err(|_| {
                format!("timed out waiting for the broadcast {}", if active { "announced" } else { "gone" })
            })?
            .ok_or("announce cursor closed")?;
        if next.prefix.as_str().trim_matches('/') == PATH && next.kind.is_active() == active {
            return Ok(());
        }
    }
}

/// Subscribes to `name` in `broadcast` from group `start` (`None`: the latest), with a max
/// age of [`MAX_AGE`].
pub async fn subscribe_to(
    broadcast: &moq_net::broadcast::Consumer,
    name: &str,
    start: Option<u64>,
) -> Result<moq_net::track::Subscriber, String> {
    let track = broadcast.track(name).map_err(|e| format!("track: {e}"))?;
    let subscription = moq_net::track::Subscription::default()
        .with_max_age(MAX_AGE)
        .with_start(start.map(moq_net::track::Position::group));
    tokio::time::timeout(T, track.subscribe(subscription))
        .await
        .map_err(|_| "subscription unanswered".to_owned())?
        .map_err(|e| format!("subscription refused: {e}"))
}

/// Reads `groups` groups of `sub` in arrival order, `frames` frames each (counted rather
/// than read to each group's end), within the case timeout.
pub async fn read_groups(
    sub: &mut moq_net::track::Subscriber,
    groups: usize,
    frames: usize,
) -> Result<Groups, String> {
    let read = async { moq_net_read_groups!(sub, groups, frames) };
    tokio::time::timeout(T * 2, read).await.map_err(|_| "groups did not arrive".to_owned())?
}

/// Fetches group `g` of [`TRACK`] in `broadcast` and reads its `frames` frames.
pub async fn fetch_group(
    broadcast: &moq_net::broadcast::Consumer,
    g: u64,
    frames: usize,
) -> Result<Vec<Bytes>, String> {
    let t = broadcast.track(TRACK).map_err(|e| e.to_string())?;
    moq_net_fetch_group!(t, g, frames)
}

/// Subscribes to [`TRACK`] from `start` and reads `groups` groups of `frames` frames on a task
/// of the current runtime, handing back the open subscription with the groups, sorted.
pub fn spawn_reader(
    broadcast: moq_net::broadcast::Consumer,
    start: Option<u64>,
    groups: usize,
    frames: usize,
) -> tokio::task::JoinHandle<Result<(moq_net::track::Subscriber, Groups), String>> {
    tokio::spawn(async move {
        let mut sub = subscribe_to(&broadcast, TRACK, start).await?;
        let mut got = read_groups(&mut sub, groups, frames).await?;
        got.sort_by_key(|g| g.0);
        Ok((sub, got))
    })
}

/// The GOAWAY watch of `conn`'s session, taken before the GOAWAY is sent (a one-shot
/// connection's session may end at the GOAWAY's deadline, after which it has none).
pub fn goaway_watch(conn: &moq_tokio::Connection) -> Result<moq_net::goaway::Consumer, String> {
    conn.draining().ok_or_else(|| "no live session".to_owned())
}

/// Waits for the relay's GOAWAY on `watch`: its URI, or why none came.
pub async fn goaway_within(watch: &moq_net::goaway::Consumer) -> Result<String, String> {
    match tokio::time::timeout(T, watch.recv()).await {
        Ok(Some(g)) => Ok(g.uri().to_owned()),
        Ok(None) => Err("session closed without a GOAWAY".into()),
        Err(_) => Err("no GOAWAY arrived".into()),
    }
}

/// moq-net 0.3's draft-18 publisher never sends PUBLISH.
pub const TOKIO_NO_PUBLISH: &str = "moq-net-0.3.18 publishes tracks only by PUBLISH_NAMESPACE + answering \
    SUBSCRIBE: src/ietf/publisher.rs encodes no PUBLISH (and src/ietf/subscriber.rs run_publish_stream \
    refuses one, Error::Unsupported)";
/// The first stream error code of the WebTransport range in HTTP/3's code space
/// (draft-ietf-webtrans-http3: WebTransport codes are mapped to 0x52e4a40fa8db + n + n/0x1e).
pub const WT_FIRST_CODE: u64 = 0x52e4_a40f_a8db;
/// moq-tokio applies that mapping on raw QUIC too.
pub const RAW_QUIC_WT_CODES: &str = "moq-tokio maps stream reset codes into the WebTransport/HTTP3 range on raw \
    QUIC too, and reads plain ones as invalid (web-transport-moq-1.3.5 src/send.rs reset, src/recv.rs stop: \
    error_to_http3 for every session; src/error.rs ReadError::InvalidReset), where moq-lite over raw QUIC \
    uses QUIC's own codes (lite-04 §Connection, §Termination: the mapping is WebTransport's)";

/// Sends the relay's GOAWAY with `send` and checks that it reached the moq-tokio session of
/// `conn`.
pub async fn goaway_outcome(conn: &moq_tokio::Connection, send: impl FnOnce()) -> Outcome {
    let watch = match goaway_watch(conn) {
        Ok(w) => w,
        Err(e) => return Outcome::Fail(e),
    };
    send();
    match goaway_within(&watch).await {
        Ok(uri) => Outcome::Pass(format!("GOAWAY (uri {uri:?}) reached the moq-tokio session")),
        Err(e) => Outcome::Fail(format!("GOAWAY: {e}")),
    }
}
