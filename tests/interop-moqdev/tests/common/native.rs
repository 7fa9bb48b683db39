//! moq-native 0.19.19 clients in the two parts a case needs: [`NativePub`] publishes the
//! [`PATH`] broadcast with track [`TRACK`]; [`NativeSub`] consumes what its session
//! announces. Both live on the test's tokio runtime.

use std::time::Duration;

use bytes::Bytes;
use moq_native::moq_net;
use sluice::{Reason, Version};

use super::matrix::Outcome;
use super::peer::{native_publisher, native_read_groups, native_subscriber, native_write_group};
use super::peer_to_sluice::PeerPublisher;
use super::{Dial, PATH, T, TRACK};

/// A moq-native publisher session.
pub struct NativePub {
    /// Its session (dropping it closes the connection).
    pub session: moq_net::Session,
    origin: moq_net::origin::Producer,
    broadcast: Option<moq_net::broadcast::Producer>,
    track: Option<moq_net::track::Producer>,
}

impl PeerPublisher for NativePub {
    const NO_PUBLISH: &'static str = NATIVE_NO_PUBLISH;
    const LITE04_NO_FETCH: Option<&'static str> = None;

    /// Connects to `addr` offering only `v`.
    async fn connect(addr: Dial, v: Version) -> Result<Self, String> {
        let origin = moq_net::Origin::random().produce();
        let session = native_publisher(addr, v, &origin).await?;
        Ok(NativePub { session, origin, broadcast: None, track: None })
    }

    /// Announces the broadcast and creates its track.
    fn announce(&mut self) -> Result<(), String> {
        let (b, t) = announced_with_track(&self.origin, PATH)?;
        self.track = Some(t);
        self.broadcast = Some(b);
        Ok(())
    }

    /// Ends the broadcast (its announce is withdrawn).
    fn unannounce(&mut self) {
        self.track.take();
        if let Some(mut b) = self.broadcast.take() {
            b.finish();
        }
    }

    /// Writes group `g`'s frames as the track's next group.
    fn write_group(&mut self, frames: &[Bytes]) -> Result<u64, String> {
        let track = self.track.as_mut().ok_or("not announced")?;
        native_write_group(track, frames)
    }

    /// Waits until someone (the relay, upstream) subscribes to the track, so what is
    /// written next reaches it live: moq-net's draft-18 publisher serves only the latest
    /// group to a later SUBSCRIBE, whatever its filter (see the README's peer bugs).
    async fn used(&mut self) -> Result<(), String> {
        let track = self.track.as_ref().ok_or("not announced")?;
        tokio::time::timeout(T, track.used())
            .await
            .map_err(|_| "the relay never subscribed upstream".to_owned())?
            .map_err(|e| format!("track: {e}"))
    }

    /// Finishes the track (subscribers see its end).
    fn finish_track(&mut self) -> Result<(), String> {
        let track = self.track.as_mut().ok_or("not announced")?;
        track.finish().map_err(|e| format!("finish track: {e}"))
    }
    fn relayed_refusal(reason: &Reason, _lite: bool, _wt: bool) -> Outcome {
        Outcome::Pass(format!("publisher's refusal relayed: refused: {reason:?}"))
    }
    async fn goaway_seen(&self, send: impl FnOnce()) -> Option<Outcome> {
        send();
        None
    }
}

/// A moq-native subscriber session.
pub struct NativeSub {
    /// Its session.
    pub session: moq_net::Session,
    origin: moq_net::origin::Producer,
}

impl NativeSub {
    /// Connects to `addr` offering only `v`.
    pub async fn connect(addr: Dial, v: Version) -> Result<NativeSub, String> {
        let origin = moq_net::Origin::random().produce();
        let session = native_subscriber(addr, v, origin.clone()).await?;
        Ok(NativeSub { session, origin })
    }

    /// Waits until [`PATH`] is announced to this session.
    pub async fn announced(&self) -> Result<moq_net::broadcast::Consumer, String> {
        let consumer = self.origin.consume();
        tokio::time::timeout(T, consumer.announced_broadcast(PATH))
            .await
            .map_err(|_| "no announce of the broadcast arrived".to_owned())?
            .ok_or_else(|| "origin closed before the announce".to_owned())
    }

    /// Waits until [`PATH`] is announced, calls `withdraw`, and waits until it is gone. The
    /// announce cursor exists before the withdrawal: a cursor taken after it could start from
    /// a state with the broadcast already gone and see neither change (moq-net merges the
    /// updates a cursor has not handed out).
    pub async fn announced_then_gone(
        &self,
        withdraw: impl FnOnce() -> Result<(), String>,
    ) -> Result<(), String> {
        let mut cursor = self.origin.consume().announced();
        let mut withdraw = Some(withdraw);
        let mut seen = false;
        let deadline = tokio::time::Instant::now() + T * 2;
        loop {
            let next = tokio::time::timeout_at(deadline, cursor.next())
                .await
                .map_err(|_| format!("timed out (announced: {seen})"))?
                .ok_or("announce cursor closed")?;
            if next.path.as_str().trim_matches('/') != PATH {
                continue;
            }
            match (next.broadcast.is_some(), seen) {
                (true, _) => {
                    seen = true;
                    if let Some(w) = withdraw.take() {
                        w()?;
                    }
                }
                (false, true) => return Ok(()),
                (false, false) => {}
            }
        }
    }

    /// Subscribes to `name` in the announced broadcast from the latest group.
    pub async fn subscribe(
        &self,
        broadcast: &moq_net::broadcast::Consumer,
        name: &str,
    ) -> Result<moq_net::track::Subscriber, String> {
        self.subscribe_from(broadcast, name, None).await
    }

    /// Subscribes to `name` from group `start` (`None`: the latest group), with a generous
    /// max latency so no group of a case expires.
    pub async fn subscribe_from(
        &self,
        broadcast: &moq_net::broadcast::Consumer,
        name: &str,
        start: Option<u64>,
    ) -> Result<moq_net::track::Subscriber, String> {
        subscribe_to(broadcast, name, start).await
    }
}

/// Subscribes to `name` in `broadcast` from group `start` (`None`: the latest group), with a
/// generous max latency so no group of a case expires.
pub async fn subscribe_to(
    broadcast: &moq_net::broadcast::Consumer,
    name: &str,
    start: Option<u64>,
) -> Result<moq_net::track::Subscriber, String> {
    let track = broadcast.track(name).map_err(|e| format!("track: {e}"))?;
    let mut subscription = moq_net::track::Subscription::default();
    subscription.group_start = start;
    subscription.latency_max = Duration::from_secs(10);
    tokio::time::timeout(T, track.subscribe(subscription))
        .await
        .map_err(|_| "subscription unanswered".to_owned())?
        .map_err(|e| format!("subscription refused: {e}"))
}

/// The open subscription and the groups it read, sorted by sequence.
pub type Read = (moq_net::track::Subscriber, Vec<(u64, Vec<Bytes>)>);

/// Subscribes to [`TRACK`] of `broadcast` from `start` and reads `groups` groups of `frames`
/// frames, on a task of the current runtime: moq-net sends its SUBSCRIBE only once the
/// subscriber is polled, so the reader must run while the publisher waits for it.
pub fn spawn_reader(
    broadcast: moq_net::broadcast::Consumer,
    start: Option<u64>,
    groups: usize,
    frames: usize,
) -> tokio::task::JoinHandle<Result<Read, String>> {
    tokio::spawn(async move {
        let mut sub = subscribe_to(&broadcast, TRACK, start).await?;
        let mut got = read_groups(&mut sub, groups, frames).await?;
        got.sort_by_key(|g| g.0);
        Ok((sub, got))
    })
}

/// Reads `groups` groups of `frames` frames within the case timeout.
pub async fn read_groups(
    sub: &mut moq_net::track::Subscriber,
    groups: usize,
    frames: usize,
) -> Result<Vec<(u64, Vec<Bytes>)>, String> {
    tokio::time::timeout(T * 2, native_read_groups(sub, groups, frames))
        .await
        .map_err(|_| "groups did not arrive".to_owned())?
}

/// Waits up to `d` for `session` to close; returns its error if it did.
pub async fn closed_within(session: &moq_net::Session, d: Duration) -> Option<String> {
    tokio::time::timeout(d, session.closed()).await.ok().map(|e| format!("{e}"))
}

/// Creates broadcast `path` with its track [`TRACK`], and only then announces it. Announcing
/// first (`Route::with_announce(true)` at creation) races: a relay that subscribes as soon
/// as the announce reaches it can find the track not created yet, and moq-net answers
/// "not found" (seen on a loaded 2-core machine, moq-net-0.2.22 `origin_impl`: "every
/// source refused track").
pub fn announced_with_track(
    origin: &moq_net::origin::Producer,
    path: &str,
) -> Result<(moq_net::broadcast::Producer, moq_net::track::Producer), String> {
    let mut b = origin
        .create_broadcast(path, moq_net::broadcast::Route::new())
        .map_err(|e| format!("create broadcast: {e}"))?;
    let t = b.create_track(TRACK, None).map_err(|e| format!("create track: {e}"))?;
    b.set_route(moq_net::broadcast::Route::new().with_announce(true))
        .map_err(|e| format!("announce: {e}"))?;
    Ok((b, t))
}

/// moq-native's API has no publisher-initiated PUBLISH.
pub const NATIVE_NO_PUBLISH: &str = "moq-native/moq-net 0.2 expose no API to send MOQT PUBLISH (tracks are \
    published by announcing a broadcast; moq-net-0.2.22 src/ietf/publisher.rs answers SUBSCRIBEs only)";

/// Fetches group `g` of [`TRACK`] in `broadcast` and reads its `frames` frames.
pub async fn fetch_group(
    broadcast: &moq_net::broadcast::Consumer,
    g: u64,
    frames: usize,
) -> Result<Vec<Bytes>, String> {
    let t = broadcast.track(TRACK).map_err(|e| e.to_string())?;
    moq_net_fetch_group!(t, g, frames)
}
