//! moq-tokio 0.19.31 clients (moq-relay's client library, moq-net 0.3.18) through a sluice
//! relay (`RelayNode` on its own thread), every shared version and case, in three directions:
//! their publisher and subscriber; their publisher → sluice relay → sluice subscriber; sluice
//! publisher → sluice relay → their subscriber. Then the data cases through moq-relay 0.17.10
//! mixed with sluice clients: their publisher → moq-relay → sluice subscriber and the reverse.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use common::matrix::{Cell, Outcome, record};
use common::peer_to_sluice::{PeerPublisher, late_sluice_outcome, peer_to_sluice, stream_groups};
use common::script::{
    accept_incoming, client, objects_until, publish_groups, publish_namespace, sluice_fetch, subscribed,
};
use common::sluice_side::{Actor, RelayThread};
use common::sluice_to_peer::{PeerSubscriber, await_subscribed, reader, sluice_to_peer, want};
use common::tokio_peer::{
    Groups, RAW_QUIC_WT_CODES, TOKIO_NO_PUBLISH, TokioPub, TokioSub, announce_state, fetch_group,
    goaway_outcome, read_groups, spawn_reader, subscribe_to, tokio_version,
};
use common::{Dial, LITE_NO_PUBLISH, T, TRACK, TRANSPORTS, VERSIONS, frames, track};
use sluice::{Event, Location, RequestHandle, Version};

const PEER: &str = "moq-tokio 0.19.31 (moq-net 0.3.18)";
const TOKIO_BOTH: &str = "moq-tokio pub + moq-tokio sub → sluice relay";
const TOKIO_TO_SLUICE: &str = "moq-tokio pub → sluice relay → sluice sub";
const SLUICE_TO_TOKIO: &str = "sluice pub → sluice relay → moq-tokio sub";
const TOKIO_VIA_MOQ_RELAY: &str = "moq-tokio pub → moq-relay → sluice sub";
const SLUICE_VIA_MOQ_RELAY: &str = "sluice pub → moq-relay → moq-tokio sub";

/// The cases that move data, run through moq-relay.
const DATA_CASES: [&str; 4] = ["single-object", "multiple-groups", "late-subscriber", "fetch"];

/// moq-net 0.3 resolves a broadcast only once a route to it is announced.
const TOKIO_NO_EARLY_SUBSCRIBE: &str = "moq-net subscribes only to announced broadcasts: \
    origin::Consumer::request_broadcast fails with Error::Unroutable at once when no announced route \
    covers the path (moq-net-0.3.18 src/model/origin.rs request_broadcast), and a track::Consumer comes \
    only from a resolved broadcast::Consumer";

/// Sorts groups read in arrival order by sequence.
fn sorted(mut got: Groups) -> Groups {
    got.sort_by_key(|g| g.0);
    got
}

/// What a moq-tokio late joiner (no start group) must read after groups 0..3 and while 3..5
/// are published: on lite the latest group on (lite-04/05 §SUBSCRIBE: no Start Group means
/// the latest), so 2 on; on draft-18 moq-net joins with SUBSCRIBE NextObject plus a
/// relative joining FETCH at offset 0 (moq-net-0.3.18 src/ietf/subscriber.rs
/// `subscribe_join`), i.e. the current group 2 and everything after it.
fn late_ok(got: &Groups) -> bool {
    *got == want(2..5)
}

/// Reads single groups until groups 3 and 4 are in (or too many arrived), sorted.
async fn read_late(sub: &mut moq_tokio::moq_net::track::Subscriber) -> Result<Groups, String> {
    let mut got: Groups = Vec::new();
    while !(got.iter().any(|g| g.0 == 3) && got.iter().any(|g| g.0 == 4)) && got.len() < 4 {
        got.extend(read_groups(sub, 1, 3).await?);
    }
    Ok(sorted(got))
}

/// Checks a late joiner's groups.
fn late_outcome(got: &Groups, who: &str) -> Outcome {
    let first = got.first().map_or(0, |g| g.0);
    if late_ok(got) {
        Outcome::Pass(format!("{who} late subscriber started at group {first}; later groups intact"))
    } else {
        Outcome::Fail(format!("late subscriber got groups {:?}", got.iter().map(|g| g.0).collect::<Vec<_>>()))
    }
}

/// moq-net 0.3.18's draft-18 FETCH of one group: it asks Standalone {G, 0}..{G, 0} (End
/// Object 0 = the whole group, draft-18 §FETCH) but reads the FETCH_OK End Location that
/// echoes it as an exclusive end, so an answer covering exactly the request is "empty" and
/// the fetch fails NotFound (src/ietf/subscriber.rs, "Before draft-20, an empty answer opens
/// no fetch stream": `(end.group, end.object) <= (sequence, start)`). Draft-18 §FETCH_OK: End
/// Location uses the request's encoding and is the request's unless the range extends past
/// the published data.
fn ietf_fetch_outcome(got: Result<Vec<Bytes>, String>, via: &str) -> Outcome {
    match got {
        Ok(got) if got == frames(1, 3) => Outcome::Pass(format!("group 1 fetched {via}, byte-identical")),
        Ok(got) => Outcome::Fail(format!("fetched {} frames differing from group 1", got.len())),
        Err(e) if e.contains("not found") => Outcome::PeerBug(format!(
            "moq-net refuses its own FETCH's answer ({e}): FETCH_OK End Location {{1, 0}} (the whole group, \
             as asked) is read as an exclusive end (moq-net-0.3.18 src/ietf/subscriber.rs group fetch; \
             draft-18 §FETCH_OK)"
        )),
        Err(e) => Outcome::Fail(e),
    }
}

/// Their fetch of group 1 (on lite-05 or draft-18) through the relay at `addr`.
async fn tokio_fetch(addr: Dial, v: Version, via: &str) -> Result<Outcome, String> {
    let f = TokioSub::connect(addr, v).await?;
    let fb = f.announced().await?;
    let got = fetch_group(&fb, 1, 3).await;
    Ok(match v {
        Version::Moqt(_) => ietf_fetch_outcome(got, via),
        _ => match got {
            Ok(got) if got == frames(1, 3) => Outcome::Pass(format!("group 1 fetched {via}, byte-identical")),
            Ok(got) => Outcome::Fail(format!("fetched {} frames differing from group 1", got.len())),
            Err(e) => Outcome::Fail(e),
        },
    })
}

/// [`tokio_late`] on a task, for a publisher that must keep answering FETCHes meanwhile:
/// `first` fires once the joiner has read its first group, then it waits for `published`.
async fn tokio_late_signalled(
    addr: Dial,
    v: Version,
    first: std::sync::mpsc::Sender<()>,
    published: tokio::sync::oneshot::Receiver<()>,
) -> Result<Outcome, String> {
    let late = TokioSub::connect(addr, v).await?;
    let lb = late.announced().await?;
    let mut sub = subscribe_to(&lb, TRACK, None).await?;
    let mut got = read_groups(&mut sub, 1, 3).await?;
    let _ = first.send(());
    published.await.map_err(|_| "publisher gone".to_owned())?;
    got.extend(read_late(&mut sub).await?);
    Ok(late_outcome(&sorted(got), "their"))
}

/// A moq-tokio late joiner on `addr` (no start group): subscribes, reads its first group
/// (the relay's latest, 2, proving the subscription live), then `publish` writes groups 3
/// and 4, which it must read intact.
async fn tokio_late(
    addr: Dial,
    v: Version,
    publish: impl FnOnce() -> Result<(), String>,
) -> Result<Outcome, String> {
    let late = TokioSub::connect(addr, v).await?;
    let lb = late.announced().await?;
    let mut sub = subscribe_to(&lb, TRACK, None).await?;
    let mut got = read_groups(&mut sub, 1, 3).await?;
    publish()?;
    got.extend(read_late(&mut sub).await?);
    Ok(late_outcome(&sorted(got), "their"))
}

fn tokio_both(
    rt: &tokio::runtime::Runtime,
    relay: &RelayThread,
    v: Version,
    wt: bool,
    case: &str,
) -> Result<Outcome, String> {
    let addr = Dial { addr: relay.addr, wt };
    let lite = matches!(v, Version::Lite(_));
    rt.block_on(async move {
        let mut p = TokioPub::connect(addr, v).await?;
        let s = TokioSub::connect(addr, v).await?;
        let tv = Some(tokio_version(v));
        if p.conn.version() != tv || s.conn.version() != tv {
            return Ok(Outcome::Fail(format!("negotiated {:?} / {:?}", p.conn.version(), s.conn.version())));
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
                let mut cursor = s.watch();
                announce_state(&mut cursor, true).await?;
                p.unannounce();
                announce_state(&mut cursor, false).await?;
                Outcome::Pass("withdrawal relayed to the other client".into())
            }
            "subscribe-error" => {
                p.announce()?;
                let b = s.announced().await?;
                let refused = match subscribe_to(&b, "no-such-track", None).await {
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
                let reader = spawn_reader(b, Some(0), 1, 3);
                p.used().await?;
                p.write_group(&frames(0, 3))?;
                let (_sub, got) = reader.await.map_err(|e| e.to_string())??;
                if got != want(0..1) {
                    return Ok(Outcome::Fail("the subscribed group differs".into()));
                }
                Outcome::Pass("subscription accepted end to end; its group arrived".into())
            }
            "subscribe-before-announce" => Outcome::NotApplicable(TOKIO_NO_EARLY_SUBSCRIBE.into()),
            "publish-track-only" | "publish-track-subscribe" => {
                Outcome::NotApplicable(if lite { LITE_NO_PUBLISH } else { TOKIO_NO_PUBLISH }.into())
            }
            "single-object" | "multiple-groups" => {
                p.announce()?;
                let b = s.announced().await?;
                let n = if case == "single-object" { 1 } else { 4 };
                let one = Bytes::from_static(b"the one object");
                let reader = spawn_reader(b, Some(0), n as usize, if n == 1 { 1 } else { 3 });
                p.used().await?;
                for g in 0..n {
                    p.write_group(&if n == 1 { vec![one.clone()] } else { frames(g, 3) })?;
                }
                let (mut sub, got) = reader.await.map_err(|e| e.to_string())??;
                let expect = if n == 1 { vec![(0, vec![one])] } else { want(0..n) };
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
                    other => Outcome::Fail(format!(
                        "track end not relayed: {:?}",
                        other.map(|r| r.map(|g| g.is_some()))
                    )),
                }
            }
            "late-subscriber" | "fetch" => {
                p.announce()?;
                let b = s.announced().await?;
                let reader = spawn_reader(b, Some(0), 3, 3);
                p.used().await?;
                for g in 0..3 {
                    p.write_group(&frames(g, 3))?;
                }
                let (_first, got) = reader.await.map_err(|e| e.to_string())??;
                if got != want(0..3) {
                    return Ok(Outcome::Fail("the first subscriber's groups differ".into()));
                }
                if case == "fetch" {
                    if v == Version::Lite(sluice::LiteVersion::Lite04) {
                        return Ok(Outcome::NotApplicable(common::LITE04_NO_FETCH.into()));
                    }
                    return tokio_fetch(addr, v, "through the relay").await;
                }
                let publish = || (3..5).try_for_each(|g| p.write_group(&frames(g, 3)).map(|_| ()));
                tokio_late(addr, v, publish).await?
            }
            "goaway" => goaway_outcome(&s.conn, || relay.send_goaway()).await,
            other => Outcome::Fail(format!("unknown case {other}")),
        })
    })
}

impl PeerSubscriber for TokioSub {
    type Broadcast = moq_tokio::moq_net::broadcast::Consumer;
    type Subscription = moq_tokio::moq_net::track::Subscriber;
    const NO_EARLY_SUBSCRIBE: &'static str = TOKIO_NO_EARLY_SUBSCRIBE;
    const IETF_NO_FETCH: Option<&'static str> = None;

    async fn connect(addr: Dial, v: Version) -> Result<Self, String> {
        TokioSub::connect(addr, v).await
    }
    async fn announced(&self) -> Result<Self::Broadcast, String> {
        TokioSub::announced(self).await
    }
    async fn announced_then_gone(&self, withdraw: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
        let mut cursor = self.watch();
        announce_state(&mut cursor, true).await?;
        withdraw()?;
        announce_state(&mut cursor, false).await
    }
    async fn subscribe(
        b: &Self::Broadcast,
        name: &str,
        start: Option<u64>,
    ) -> Result<Self::Subscription, String> {
        subscribe_to(b, name, start).await
    }
    async fn read_groups(
        sub: &mut Self::Subscription,
        groups: usize,
        frames: usize,
    ) -> Result<Groups, String> {
        read_groups(sub, groups, frames).await
    }
    fn refusal(e: String, wt: bool) -> Outcome {
        if !wt && e.contains("invalid RESET_STREAM") {
            Outcome::PeerBug(format!("{RAW_QUIC_WT_CODES}; the relayed reset surfaced as: {e}"))
        } else {
            Outcome::Pass(format!("sluice refusal relayed: {e}"))
        }
    }
    fn late(
        rt: &tokio::runtime::Runtime,
        addr: Dial,
        v: Version,
        p: &mut Actor,
        up: RequestHandle,
    ) -> Result<Outcome, String> {
        rt.block_on(tokio_late(addr, v, || publish_groups(p, &[up], 3..5)))
    }
    fn fetch(rt: &tokio::runtime::Runtime, addr: Dial, v: Version) -> Result<Outcome, String> {
        rt.block_on(tokio_fetch(addr, v, "from the sluice relay"))
    }
    async fn goaway(&self, _lite: bool, send: impl FnOnce()) -> Outcome {
        goaway_outcome(&self.conn, send).await
    }
}

/// moq-relay's `test_relay()` on this runtime; dropping the trigger's relay shuts it down.
struct MoqRelay {
    addr: SocketAddr,
    trigger: moq_relay::shutdown::Trigger,
    task: tokio::task::JoinHandle<Result<(), String>>,
}

async fn start_moq_relay() -> Result<MoqRelay, String> {
    let fixture = moq_relay::test_relay().await.map_err(|e| format!("test_relay: {e}"))?;
    let relay = fixture.relay;
    let trigger = relay.shutdown_trigger().clone();
    let ready = relay.ready();
    let task = tokio::spawn(async move { relay.run().await.map_err(|e| e.to_string()) });
    ready.wait().await.map_err(|e| format!("relay ready: {e}"))?;
    Ok(MoqRelay { addr: fixture.quic, trigger, task })
}

/// Their publisher → moq-relay → sluice subscriber.
fn tokio_via_moq_relay(
    rt: &tokio::runtime::Runtime,
    addr: Dial,
    v: Version,
    case: &str,
) -> Result<Outcome, String> {
    let _runtime = rt.enter();
    let mut p = rt.block_on(TokioPub::connect(addr, v))?;
    let mut s = client(addr, v)?;
    let n = if case == "single-object" { 1 } else { 3 };
    stream_groups(rt, &mut p, &mut s, v, n)?;
    Ok(match case {
        "late-subscriber" => {
            let mut late = client(addr, v)?;
            let lreq = late.run(|x| x.subscribe(track(), common::script::latest()))?;
            subscribed(&mut late, lreq)?;
            // One group at a time: moq-relay answers a lite-04 SUBSCRIBE with Publisher Max
            // Latency 0 and then expires a group as soon as the next is queued (lite-04
            // §Expiration lets it), so back-to-back groups could skip group 3.
            p.write_group(&frames(3, 3))?;
            let mut got = objects_until(&mut late, lreq, &[(3, 2)])?;
            p.write_group(&frames(4, 3))?;
            got.extend(objects_until(&mut late, lreq, &[(4, 2)])?);
            late_sluice_outcome(got, "joined")?
        }
        "fetch" if v == Version::Lite(sluice::LiteVersion::Lite04) => {
            Outcome::NotApplicable(common::LITE04_NO_FETCH.into())
        }
        "fetch" => sluice_fetch(addr, v, "through moq-relay from their publisher")?,
        _ => Outcome::Pass(format!("{n} group(s) byte-identical through moq-relay")),
    })
}

/// sluice publisher → moq-relay → their subscriber.
fn sluice_via_moq_relay(
    rt: &tokio::runtime::Runtime,
    addr: Dial,
    v: Version,
    case: &str,
) -> Result<Outcome, String> {
    let _runtime = rt.enter();
    let mut p = client(addr, v)?;
    let s = rt.block_on(TokioSub::connect(addr, v))?;
    publish_namespace(&mut p)?;
    let b = rt.block_on(s.announced())?;
    let n: u64 = if case == "single-object" { 1 } else { 3 };
    let (reader, live) = reader(rt, s, b, TRACK, Some(0), n as usize);
    let up =
        accept_incoming(&mut p, T)?.ok_or_else(|| format!("relay forwarded no SUBSCRIBE: {}", p.log()))?;
    await_subscribed(&live, &reader)?;
    publish_groups(&p, &[up], 0..n)?;
    let (_s, _sub, got) = rt.block_on(reader).map_err(|e| e.to_string())?;
    if got? != want(0..n) {
        return Ok(Outcome::Fail("their subscriber got differing groups".into()));
    }
    Ok(match case {
        "late-subscriber" => {
            let (first_tx, first_rx) = std::sync::mpsc::channel();
            let (published_tx, published_rx) = tokio::sync::oneshot::channel();
            let late = rt.spawn(tokio_late_signalled(addr, v, first_tx, published_rx));
            serve_fetches(&mut p, 0..n, || first_rx.try_recv().is_ok() || late.is_finished())?;
            publish_groups(&p, &[up], 3..5)?;
            let _ = published_tx.send(());
            serve_fetches(&mut p, 0..5, || late.is_finished())?;
            rt.block_on(late).map_err(|e| e.to_string())??
        }
        "fetch" if v == Version::Lite(sluice::LiteVersion::Lite04) => {
            Outcome::NotApplicable(common::LITE04_NO_FETCH.into())
        }
        "fetch" => {
            let fetch = rt.spawn(async move { tokio_fetch(addr, v, "through moq-relay").await });
            serve_fetches(&mut p, 0..n, || fetch.is_finished())?;
            rt.block_on(fetch).map_err(|e| e.to_string())??
        }
        _ => Outcome::Pass(format!("{n} group(s) byte-identical at their subscriber through moq-relay")),
    })
}

/// Answers every FETCH the relay forwards to the sluice publisher `p` from the groups
/// `published` (3 frames each) until `done`.
fn serve_fetches(
    p: &mut common::sluice_side::Actor,
    published: std::ops::Range<u64>,
    done: impl Fn() -> bool,
) -> Result<(), String> {
    while !done() {
        let Ok((req, start, end)) = p.wait(Duration::from_millis(20), |e| match e {
            Event::IncomingFetch { request, start, end, .. } => Some((*request, *start, *end)),
            _ => None,
        }) else {
            continue;
        };
        // Wire End Location: object 0 = the whole group `end.group`, else objects of
        // `end.group` before `end.object`; either way `end.group` is the last group touched
        // (our groups have 3 objects, each asked whole). None = up to the largest.
        let last = end.map_or(published.end.saturating_sub(1), |e| e.group);
        let groups: Vec<u64> = (start.group..=last).filter(|g| published.contains(g)).collect();
        p.run_client(move |c| {
            let s = c.session()?;
            let through = groups.last().map_or(start, |g| Location { group: g + 1, object: 0 });
            s.accept_fetch(req, through).map_err(|e| e.to_string())?;
            for g in groups {
                for (o, fr) in frames(g, 3).into_iter().enumerate() {
                    s.write_fetch_object(req, g, 0, sluice::ObjectWrite::new(o as u64, fr))
                        .map_err(|e| e.to_string())?;
                }
            }
            s.finish_fetch(req).map_err(|e| e.to_string())
        })?;
    }
    Ok(())
}

type MoqRelayScenario = fn(&tokio::runtime::Runtime, Dial, Version, &str) -> Result<Outcome, String>;

fn cell(v: Version, wt: bool, case: &'static str, direction: &'static str, outcome: Outcome) -> Cell {
    common::cell(PEER, v, wt, case, direction, outcome)
}

fn moq_relay_cells_for(v: Version, direction: &'static str, scenario: MoqRelayScenario) -> Vec<Cell> {
    let rt = common::runtime();
    let mut cells = Vec::new();
    for wt in TRANSPORTS {
        for case in DATA_CASES.into_iter().filter(|c| common::selected(c)) {
            let outcome = rt
                .block_on(start_moq_relay())
                .and_then(|relay| {
                    let out = scenario(&rt, Dial { addr: relay.addr, wt }, v, case);
                    relay.trigger.start();
                    let _ =
                        rt.block_on(async { tokio::time::timeout(Duration::from_secs(2), relay.task).await });
                    out
                })
                .unwrap_or_else(Outcome::Fail);
            cells.push(cell(v, wt, case, direction, outcome));
        }
    }
    cells
}

macro_rules! matrix_test {
    ($name:ident, $v:expr, $direction:expr, $scenario:expr) => {
        #[test]
        fn $name() {
            record(stringify!($name), &common::relay_cells(PEER, $v, $direction, $scenario));
        }
    };
}

macro_rules! moq_relay_test {
    ($name:ident, $v:expr, $direction:expr, $scenario:expr) => {
        #[test]
        fn $name() {
            record(stringify!($name), &moq_relay_cells_for($v, $direction, $scenario));
        }
    };
}

matrix_test!(tokio_both_lite04, VERSIONS[0], TOKIO_BOTH, tokio_both);
matrix_test!(tokio_both_lite05, VERSIONS[1], TOKIO_BOTH, tokio_both);
matrix_test!(tokio_both_moqt18, VERSIONS[2], TOKIO_BOTH, tokio_both);
matrix_test!(tokio_to_sluice_lite04, VERSIONS[0], TOKIO_TO_SLUICE, peer_to_sluice::<TokioPub>);
matrix_test!(tokio_to_sluice_lite05, VERSIONS[1], TOKIO_TO_SLUICE, peer_to_sluice::<TokioPub>);
matrix_test!(tokio_to_sluice_moqt18, VERSIONS[2], TOKIO_TO_SLUICE, peer_to_sluice::<TokioPub>);
matrix_test!(sluice_to_tokio_lite04, VERSIONS[0], SLUICE_TO_TOKIO, sluice_to_peer::<TokioSub>);
matrix_test!(sluice_to_tokio_lite05, VERSIONS[1], SLUICE_TO_TOKIO, sluice_to_peer::<TokioSub>);
matrix_test!(sluice_to_tokio_moqt18, VERSIONS[2], SLUICE_TO_TOKIO, sluice_to_peer::<TokioSub>);
moq_relay_test!(tokio_via_moq_relay_lite04, VERSIONS[0], TOKIO_VIA_MOQ_RELAY, tokio_via_moq_relay);
moq_relay_test!(tokio_via_moq_relay_lite05, VERSIONS[1], TOKIO_VIA_MOQ_RELAY, tokio_via_moq_relay);
moq_relay_test!(tokio_via_moq_relay_moqt18, VERSIONS[2], TOKIO_VIA_MOQ_RELAY, tokio_via_moq_relay);
moq_relay_test!(sluice_via_moq_relay_lite04, VERSIONS[0], SLUICE_VIA_MOQ_RELAY, sluice_via_moq_relay);
moq_relay_test!(sluice_via_moq_relay_lite05, VERSIONS[1], SLUICE_VIA_MOQ_RELAY, sluice_via_moq_relay);
moq_relay_test!(sluice_via_moq_relay_moqt18, VERSIONS[2], SLUICE_VIA_MOQ_RELAY, sluice_via_moq_relay);
