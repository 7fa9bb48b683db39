//! moq-native 0.19.19 clients through a sluice relay (`RelayNode` on its own thread), every
//! shared version, every case, in three directions: their publisher and subscriber; their
//! publisher → sluice relay → sluice subscriber; sluice publisher → sluice relay → their
//! subscriber.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::matrix::{Outcome, record};
use common::native::{NATIVE_NO_PUBLISH, NativePub, NativeSub, closed_within, read_groups, spawn_reader};
use common::peer_to_sluice::{PeerPublisher, peer_to_sluice};
use common::script::{accept_incoming, publish_groups};
use common::sluice_side::{Actor, RelayThread};
use common::sluice_to_peer::{Groups, PeerSubscriber, sluice_to_peer, want};
use common::{Dial, LITE_NO_PUBLISH, T, TRACK, VERSIONS, frames};
use sluice::{RequestHandle, Version};

const PEER: &str = "moq-native 0.19.19";
const NATIVE_BOTH: &str = "moq-native pub + moq-native sub → sluice relay";
const NATIVE_TO_SLUICE: &str = "moq-native pub → sluice relay → sluice sub";
const SLUICE_TO_NATIVE: &str = "sluice pub → sluice relay → moq-native sub";

/// moq-net subscribes only to broadcasts it has seen announced.
const NATIVE_NO_EARLY_SUBSCRIBE: &str = "moq-net subscribes only to announced broadcasts: a \
    track::Consumer comes from a broadcast::Consumer, which origin::Consumer hands out once announced \
    (moq-net-0.2.22 src/model/origin.rs announced_broadcast / request_broadcast)";
/// moq-native's draft-18 subscriber sends no FETCH.
const NATIVE_IETF_NO_FETCH: &str = "moq-net-0.2.22's draft-18 subscriber sends no FETCH (src/ietf/subscriber.rs \
    reads only draft-20 fill fetch streams); track::Consumer::fetch_group then resolves NotFound from its \
    local cache (src/model/track.rs fetch_group: no Dynamic on the track)";

/// What a moq-native late joiner (no start group) must read through the sluice relay after
/// groups 0..3 and while 3..5 are published: on lite the latest group on (lite-04/05
/// §SUBSCRIBE: no Start Group means the latest), so it starts at 2 or 3; on draft-18 moq-net
/// subscribes unfiltered (moq-net-0.2.22 src/ietf/subscriber.rs `subscribe_join`), which
/// draft-18 §Subscription Filters makes every object the relay still has (its cache keeps 2
/// groups, `RelayConfig::cache_groups`: 1 and 2), so it starts at 1. Groups arrive in any
/// order (one stream each), so readers read until 3 and 4 are in: [`late_done`].
fn late_ok(v: Version, got: &Groups) -> bool {
    let first = got.first().map_or(0, |g| g.0);
    let firsts: &[u64] = if matches!(v, Version::Lite(_)) { &[2, 3] } else { &[1] };
    firsts.contains(&first) && *got == want(first..5)
}

/// Whether a late reader has what [`late_ok`] judges (groups 3 and 4), or too much.
fn late_done(got: &[(u64, Vec<Bytes>)]) -> bool {
    (got.iter().any(|g| g.0 == 3) && got.iter().any(|g| g.0 == 4)) || got.len() >= 5
}

/// Reads single groups until [`late_done`], sorted.
async fn read_late(sub: &mut moq_native::moq_net::track::Subscriber) -> Result<Groups, String> {
    let mut got = Vec::new();
    while !late_done(&got) {
        got.extend(read_groups(sub, 1, 3).await?);
    }
    Ok(sorted(got))
}

/// Sorts groups read in arrival order by sequence.
fn sorted(mut got: Vec<(u64, Vec<Bytes>)>) -> Vec<(u64, Vec<Bytes>)> {
    got.sort_by_key(|g| g.0);
    got
}

fn native_both(
    rt: &tokio::runtime::Runtime,
    relay: &RelayThread,
    v: Version,
    wt: bool,
    case: &str,
) -> Result<Outcome, String> {
    let addr = Dial { addr: relay.addr, wt };
    let lite = matches!(v, Version::Lite(_));
    rt.block_on(async move {
        let mut p = NativePub::connect(addr, v).await?;
        let s = NativeSub::connect(addr, v).await?;
        let nv = common::peer::native_version(v);
        if p.session.version() != nv || s.session.version() != nv {
            return Ok(Outcome::Fail(format!(
                "negotiated {} / {}",
                p.session.version(),
                s.session.version()
            )));
        }
        Ok(match case {
            "setup-only" => Outcome::Pass("both clients completed SETUP on the offered version".into()),
            "announce-only" => {
                p.announce()?;
                s.announced().await?;
                Outcome::Pass("announce relayed to the other client".into())
            }
            "publish-namespace-done" => {
                p.announce()?;
                s.announced_then_gone(|| {
                    p.unannounce();
                    Ok(())
                })
                .await?;
                Outcome::Pass("withdrawal relayed to the other client".into())
            }
            "subscribe-error" => {
                p.announce()?;
                let b = s.announced().await?;
                // moq-net may resolve the subscription locally; the refusal then ends the track.
                let refused = match s.subscribe(&b, "no-such-track").await {
                    Err(e) => Err(e),
                    Ok(mut sub) => match tokio::time::timeout(T, sub.recv_group()).await {
                        Ok(Err(e)) => Err(format!("track aborted: {e}")),
                        other => Ok(format!("{:?}", other.map(|r| r.map(|g| g.is_some())))),
                    },
                };
                match refused {
                    Err(e) => Outcome::Pass(format!("refusal relayed: {e}")),
                    Ok(what) => Outcome::Fail(format!("subscription to a missing track not refused: {what}")),
                }
            }
            "announce-subscribe" => {
                p.announce()?;
                let b = s.announced().await?;
                s.subscribe(&b, TRACK).await?;
                Outcome::Pass("subscription accepted end to end".into())
            }
            "subscribe-before-announce" => Outcome::NotApplicable(NATIVE_NO_EARLY_SUBSCRIBE.into()),
            "publish-track-only" | "publish-track-subscribe" => {
                Outcome::NotApplicable(if lite { LITE_NO_PUBLISH } else { NATIVE_NO_PUBLISH }.into())
            }
            "single-object" | "multiple-groups" => {
                p.announce()?;
                let b = s.announced().await?;
                let n = if case == "single-object" { 1 } else { 4 };
                let reader = spawn_reader(b, Some(0), n as usize, if n == 1 { 1 } else { 3 });
                p.used().await?;
                settle_upstream().await;
                for g in 0..n {
                    let f = if n == 1 { vec![Bytes::from_static(b"the one object")] } else { frames(g, 3) };
                    p.write_group(&f)?;
                }
                let (mut sub, got) = reader.await.map_err(|e| e.to_string())??;
                let expect =
                    if n == 1 { vec![(0, vec![Bytes::from_static(b"the one object")])] } else { want(0..n) };
                if got != expect {
                    return Ok(Outcome::Fail(format!(
                        "got {} groups differing from what was sent",
                        got.len()
                    )));
                }
                p.finish_track()?;
                match tokio::time::timeout(T, sub.recv_group()).await {
                    Ok(Ok(None)) => {
                        Outcome::Pass(format!("{n} group(s) byte-identical; end of track relayed"))
                    }
                    // draft-18 §PUBLISH_DONE: the publisher ends a subscription with PUBLISH_DONE
                    // on its request stream. moq-net-0.2.22's draft-18 subscriber accepts no
                    // message after SUBSCRIBE_OK there (src/ietf/subscriber.rs End::StreamClosed
                    // via Reader::closed, src/coding/reader.rs:140: any byte is DecodeError::Short).
                    Ok(Err(e)) if !lite && e.to_string().contains("short") => Outcome::PeerBug(format!(
                        "{n} group(s) byte-identical; the relayed PUBLISH_DONE fails moq-net's \
                         subscriber ({e}): moq-net-0.2.22 src/ietf/subscriber.rs reads nothing after \
                         SUBSCRIBE_OK (draft-18 §PUBLISH_DONE)"
                    )),
                    other => Outcome::Fail(format!(
                        "track end not relayed: {:?}",
                        other.map(|r| r.map(|g| g.is_some()))
                    )),
                }
            }
            "late-subscriber" => {
                p.announce()?;
                let b = s.announced().await?;
                let reader = spawn_reader(b, Some(0), 3, 3);
                p.used().await?;
                settle_upstream().await;
                for g in 0..3 {
                    p.write_group(&frames(g, 3))?;
                }
                let (_first, got) = reader.await.map_err(|e| e.to_string())??;
                if got != want(0..3) {
                    return Ok(Outcome::Fail("the first subscriber's groups differ".into()));
                }
                let late = NativeSub::connect(addr, v).await?;
                let lb = late.announced().await?;
                let lreader = tokio::spawn(async move {
                    let got = async {
                        let mut sub = late.subscribe(&lb, TRACK).await?;
                        read_late(&mut sub).await
                    }
                    .await;
                    (late, got)
                });
                // moq-net subscribes once the reader polls; give its SUBSCRIBE time to land.
                tokio::time::sleep(Duration::from_millis(200)).await;
                for g in 3..5 {
                    p.write_group(&frames(g, 3))?;
                }
                let got = lreader.await.map_err(|e| e.to_string())?.1?;
                let first = got.first().map_or(0, |g| g.0);
                if !late_ok(v, &got) {
                    return Ok(Outcome::Fail(format!(
                        "late subscriber got groups {:?}",
                        got.iter().map(|g| g.0).collect::<Vec<_>>()
                    )));
                }
                Outcome::Pass(format!(
                    "late subscriber started at group {first} ({}); later groups intact",
                    if lite { "latest" } else { "unfiltered: the relay's cache on" }
                ))
            }
            "fetch" if v == Version::Lite(sluice::LiteVersion::Lite04) => {
                Outcome::NotApplicable(common::LITE04_NO_FETCH.into())
            }
            "fetch" if !lite => Outcome::NotApplicable(NATIVE_IETF_NO_FETCH.into()),
            "fetch" => {
                p.announce()?;
                let b = s.announced().await?;
                let reader = spawn_reader(b, Some(0), 3, 3);
                p.used().await?;
                settle_upstream().await;
                for g in 0..3 {
                    p.write_group(&frames(g, 3))?;
                }
                let (_first, got) = reader.await.map_err(|e| e.to_string())??;
                if got != want(0..3) {
                    return Ok(Outcome::Fail("the first subscriber's groups differ".into()));
                }
                let f = NativeSub::connect(addr, v).await?;
                let fb = f.announced().await?;
                let t = fb.track(TRACK).map_err(|e| e.to_string())?;
                let mut group = tokio::time::timeout(T, t.fetch_group(1, None))
                    .await
                    .map_err(|_| "fetch unanswered".to_owned())?
                    .map_err(|e| format!("fetch refused: {e}"))?;
                let mut got = Vec::new();
                while let Some(fr) = tokio::time::timeout(T, group.read_frame())
                    .await
                    .map_err(|_| "fetch stalled".to_owned())?
                    .map_err(|e| e.to_string())?
                {
                    got.push(fr.payload);
                }
                if got == frames(1, 3) {
                    Outcome::Pass("group 1 fetched through the relay, byte-identical".into())
                } else {
                    Outcome::Fail(format!("fetched {} frames differing from group 1", got.len()))
                }
            }
            "goaway" => {
                relay.send_goaway();
                goaway_outcome(&s.session, lite).await
            }
            other => Outcome::Fail(format!("unknown case {other}")),
        })
    })
}

/// What a moq-native session does with the relay's GOAWAY.
async fn goaway_outcome(session: &moq_native::moq_net::Session, lite: bool) -> Outcome {
    let closed = closed_within(session, if lite { Duration::from_millis(300) } else { T }).await;
    match (lite, closed) {
        // moq-net-0.2.22 src/lite/publisher.rs: a Goaway stream is logged and otherwise ignored.
        (true, None) => Outcome::Pass(
            "GOAWAY stream accepted; moq-net only logs it (src/lite/publisher.rs ControlType::Goaway)".into(),
        ),
        (true, Some(e)) => Outcome::Fail(format!("session failed on GOAWAY: {e}")),
        // moq-net-0.2.22 src/ietf/session.rs run_goaway: decodes GOAWAY, then ends the session
        // with Error::Unsupported (it cannot migrate). A decode failure would be another error.
        (false, Some(e)) if e.to_lowercase().contains("unsupported") => Outcome::Pass(format!(
            "GOAWAY decoded; moq-net ends the session ({e}): src/ietf/session.rs run_goaway"
        )),
        // Same run_goaway: after Error::Unsupported moq-net stops its control stream (code
        // 3), which ends the session (draft-18 §GOAWAY expects the client to finish its
        // requests and move, not to fail the session).
        (false, Some(e)) if e.contains("control stream stopped") || e.contains("closed") => {
            Outcome::PeerBug(format!(
                "GOAWAY reached moq-net, which fails the session instead of draining ({e}): \
                 moq-net-0.2.22 src/ietf/session.rs run_goaway returns Error::Unsupported"
            ))
        }
        (false, other) => Outcome::Fail(format!("GOAWAY: {other:?}")),
    }
}

impl PeerSubscriber for NativeSub {
    type Broadcast = moq_native::moq_net::broadcast::Consumer;
    type Subscription = moq_native::moq_net::track::Subscriber;
    const NO_EARLY_SUBSCRIBE: &'static str = NATIVE_NO_EARLY_SUBSCRIBE;
    const IETF_NO_FETCH: Option<&'static str> = Some(NATIVE_IETF_NO_FETCH);

    async fn connect(addr: Dial, v: Version) -> Result<Self, String> {
        NativeSub::connect(addr, v).await
    }
    async fn announced(&self) -> Result<Self::Broadcast, String> {
        NativeSub::announced(self).await
    }
    async fn announced_then_gone(&self, withdraw: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
        NativeSub::announced_then_gone(self, withdraw).await
    }
    async fn subscribe(
        b: &Self::Broadcast,
        name: &str,
        start: Option<u64>,
    ) -> Result<Self::Subscription, String> {
        common::native::subscribe_to(b, name, start).await
    }
    async fn read_groups(
        sub: &mut Self::Subscription,
        groups: usize,
        frames: usize,
    ) -> Result<Groups, String> {
        read_groups(sub, groups, frames).await
    }
    fn late(
        rt: &tokio::runtime::Runtime,
        addr: Dial,
        v: Version,
        p: &mut Actor,
        up: RequestHandle,
    ) -> Result<Outcome, String> {
        let late = rt.block_on(NativeSub::connect(addr, v))?;
        let lb = rt.block_on(late.announced())?;
        let lreader = rt.spawn(async move {
            let got = async {
                let mut sub = late.subscribe(&lb, TRACK).await?;
                read_late(&mut sub).await
            }
            .await;
            (late, got)
        });
        let mut ups = vec![up];
        ups.extend(accept_incoming(p, Duration::from_millis(300))?);
        // The late reader is subscribed once the relay has a second downstream.
        std::thread::sleep(Duration::from_millis(200));
        publish_groups(p, &ups, 3..5).map_err(|e| format!("{e}; publisher: {}", p.log()))?;
        let got = rt.block_on(lreader).map_err(|e| e.to_string())?.1?;
        let first = got.first().map_or(0, |g| g.0);
        if !late_ok(v, &got) {
            return Ok(Outcome::Fail(format!(
                "late subscriber got groups {:?}",
                got.iter().map(|g| g.0).collect::<Vec<_>>()
            )));
        }
        Ok(Outcome::Pass(format!("their late subscriber started at group {first}; later groups intact")))
    }
    fn fetch(rt: &tokio::runtime::Runtime, addr: Dial, v: Version) -> Result<Outcome, String> {
        let t = rt.block_on(async {
            let f = NativeSub::connect(addr, v).await?;
            let fb = f.announced().await?;
            common::native::fetch_group(&fb, 1, 3).await
        })?;
        Ok(if t == frames(1, 3) {
            Outcome::Pass("their fetch of group 1 answered by the sluice relay, byte-identical".into())
        } else {
            Outcome::Fail(format!("fetched {} frames differing from group 1", t.len()))
        })
    }
    async fn goaway(&self, lite: bool, send: impl FnOnce()) -> Outcome {
        send();
        goaway_outcome(&self.session, lite).await
    }
}

macro_rules! matrix_test {
    ($name:ident, $v:expr, $direction:expr, $scenario:expr) => {
        #[test]
        fn $name() {
            record(stringify!($name), &common::relay_cells(PEER, $v, $direction, $scenario));
        }
    };
}

matrix_test!(native_both_lite04, VERSIONS[0], NATIVE_BOTH, native_both);
matrix_test!(native_both_lite05, VERSIONS[1], NATIVE_BOTH, native_both);
matrix_test!(native_both_moqt18, VERSIONS[2], NATIVE_BOTH, native_both);
matrix_test!(native_to_sluice_lite04, VERSIONS[0], NATIVE_TO_SLUICE, peer_to_sluice::<NativePub>);
matrix_test!(native_to_sluice_lite05, VERSIONS[1], NATIVE_TO_SLUICE, peer_to_sluice::<NativePub>);
matrix_test!(native_to_sluice_moqt18, VERSIONS[2], NATIVE_TO_SLUICE, peer_to_sluice::<NativePub>);
matrix_test!(sluice_to_native_lite04, VERSIONS[0], SLUICE_TO_NATIVE, sluice_to_peer::<NativeSub>);
matrix_test!(sluice_to_native_lite05, VERSIONS[1], SLUICE_TO_NATIVE, sluice_to_peer::<NativeSub>);
matrix_test!(sluice_to_native_moqt18, VERSIONS[2], SLUICE_TO_NATIVE, sluice_to_peer::<NativeSub>);

/// moq-native's publisher reports its track used as soon as the relay's SUBSCRIBE arrives,
/// but its session starts serving a moment later from its newest group, ignoring the
/// relay's Absolute {0, 0} filter ("filter not supported before draft-20", a peer bug,
/// draft-18 §Subscription Filters). Groups written in between are never sent upstream, so
/// the publisher waits briefly before its first group; sluice is not involved in the race.
async fn settle_upstream() {
    tokio::time::sleep(Duration::from_millis(200)).await;
}
