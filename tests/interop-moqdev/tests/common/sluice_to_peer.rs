//! One scenario for "sluice publisher → sluice relay → their subscriber", shared by every
//! moq-dev client library: [`PeerSubscriber`] is what a case needs of their subscriber, and
//! [`sluice_to_peer`] runs a case with any of them. Where the libraries differ (a cited peer
//! behaviour, how a late joiner or a fetch is driven), the difference is a trait item; each
//! test file implements it next to the helpers its library needs.

use std::future::Future;
use std::sync::mpsc;

use bytes::Bytes;
use sluice::{Event, LiteVersion, RequestHandle, TrackInfo, Version};

use super::matrix::Outcome;
use super::script::{accept_incoming, client, publish_groups, publish_namespace};
use super::sluice_side::{Actor, RelayThread};
use super::{Dial, LITE_NO_PUBLISH, LITE04_NO_FETCH, T, TRACK, frames, track};

/// Groups as moq-net reads them: (sequence, frames).
pub type Groups = Vec<(u64, Vec<Bytes>)>;

/// A moq-dev subscriber client.
pub trait PeerSubscriber: Sized + Send + 'static {
    /// A resolved (announced) broadcast.
    type Broadcast: Send + 'static;
    /// An open track subscription (dropping it unsubscribes).
    type Subscription: Send + 'static;
    /// Why it cannot subscribe before the announce (the cited peer source).
    const NO_EARLY_SUBSCRIBE: &'static str;
    /// Why a draft-18 FETCH from it is not applicable, if it is not.
    const IETF_NO_FETCH: Option<&'static str>;

    /// Connects to `addr` offering only `v`.
    fn connect(addr: Dial, v: Version) -> impl Future<Output = Result<Self, String>>;
    /// Waits until [`super::PATH`] is announced to this session and resolves it.
    fn announced(&self) -> impl Future<Output = Result<Self::Broadcast, String>>;
    /// Waits until the broadcast is announced, calls `withdraw`, and waits until it is gone.
    fn announced_then_gone(
        &self,
        withdraw: impl FnOnce() -> Result<(), String>,
    ) -> impl Future<Output = Result<(), String>>;
    /// Subscribes to `name` in `b` from group `start` (`None`: the latest).
    fn subscribe(
        b: &Self::Broadcast,
        name: &str,
        start: Option<u64>,
    ) -> impl Future<Output = Result<Self::Subscription, String>> + Send;
    /// Reads `groups` groups of `frames` frames in arrival order within the case timeout.
    fn read_groups(
        sub: &mut Self::Subscription,
        groups: usize,
        frames: usize,
    ) -> impl Future<Output = Result<Groups, String>> + Send;
    /// The outcome of the subscribe-error case, given the error the subscription ended with.
    fn refusal(e: String, _wt: bool) -> Outcome {
        Outcome::Pass(format!("sluice refusal relayed: {e}"))
    }
    /// The late-subscriber case once groups 0..3 went to the first subscriber: the sluice
    /// publisher `p` serves the relay's subscription `up`.
    fn late(
        rt: &tokio::runtime::Runtime,
        addr: Dial,
        v: Version,
        p: &mut Actor,
        up: RequestHandle,
    ) -> Result<Outcome, String>;
    /// The fetch case once groups 0..3 are at the relay.
    fn fetch(rt: &tokio::runtime::Runtime, addr: Dial, v: Version) -> Result<Outcome, String>;
    /// Sends the relay's GOAWAY with `send` and checks what this session made of it.
    fn goaway(&self, lite: bool, send: impl FnOnce()) -> impl Future<Output = Outcome>;
}

/// The reader task of [`reader`]: the session, the still open subscription, the groups.
pub type Reader<S> =
    tokio::task::JoinHandle<(S, Option<<S as PeerSubscriber>::Subscription>, Result<Groups, String>)>;

/// Subscribes `s` to `name` on the runtime and reads `groups` groups of 3 frames there
/// (moq-net sends its SUBSCRIBE only once the subscriber is polled), handing back the
/// session and the still open subscription with the groups, sorted; the receiver gets a
/// message once the subscription resolved.
pub fn reader<S: PeerSubscriber>(
    rt: &tokio::runtime::Runtime,
    s: S,
    b: S::Broadcast,
    name: &'static str,
    start: Option<u64>,
    groups: usize,
) -> (Reader<S>, mpsc::Receiver<()>) {
    let (live_tx, live) = mpsc::channel();
    let reader = rt.spawn(async move {
        let mut sub = match S::subscribe(&b, name, start).await {
            Ok(sub) => sub,
            Err(e) => return (s, None, Err(e)),
        };
        let _ = live_tx.send(());
        let mut got = Vec::new();
        while got.len() < groups {
            match S::read_groups(&mut sub, 1, 3).await {
                Ok(g) => got.extend(g),
                Err(e) => return (s, Some(sub), Err(e)),
            }
        }
        got.sort_by_key(|g| g.0);
        (s, Some(sub), Ok(got))
    });
    (reader, live)
}

/// Waits until `reader`'s subscription resolved (moq-net resolves it on the relay's
/// SUBSCRIBE_OK), so what is published next is live for it: draft-18 moq-net 0.3 joins with
/// NextObject plus a joining FETCH of the current group only (moq-net-0.3.18
/// src/ietf/subscriber.rs `subscribe_join`), so groups published before its SUBSCRIBE_OK but
/// older than the current one would be outside both.
pub fn await_subscribed<S: PeerSubscriber>(
    live: &mpsc::Receiver<()>,
    reader: &Reader<S>,
) -> Result<(), String> {
    live.recv_timeout(T)
        .or_else(|_| if reader.is_finished() { Ok(()) } else { Err("subscription unanswered".into()) })
}

/// The payload frames of groups `range`, as moq-net reads them.
pub fn want(range: std::ops::Range<u64>) -> Groups {
    range.map(|g| (g, frames(g, 3))).collect()
}

/// A sluice publisher → the sluice relay → their subscriber `S`: runs `case` on `v` over raw
/// QUIC or WebTransport (`wt`).
pub fn sluice_to_peer<S: PeerSubscriber>(
    rt: &tokio::runtime::Runtime,
    relay: &RelayThread,
    v: Version,
    wt: bool,
    case: &str,
) -> Result<Outcome, String> {
    let addr = Dial { addr: relay.addr, wt };
    let lite = matches!(v, Version::Lite(_));
    // moq-net's sessions (and their WebTransport drop) need the runtime's context.
    let _runtime = rt.enter();
    let mut p = client(addr, v)?;
    let s = rt.block_on(S::connect(addr, v))?;
    Ok(match case {
        "setup-only" => Outcome::Pass("both clients completed SETUP on the offered version".into()),
        "announce-only" => {
            publish_namespace(&mut p)?;
            rt.block_on(s.announced())?;
            Outcome::Pass("sluice announce reached their subscriber".into())
        }
        "publish-namespace-done" => {
            let ann = publish_namespace(&mut p)?;
            rt.block_on(s.announced_then_gone(|| p.run(move |x| x.cancel(ann)).map(drop)))?;
            Outcome::Pass("sluice withdrawal reached their subscriber".into())
        }
        "subscribe-error" => {
            publish_namespace(&mut p)?;
            let b = rt.block_on(s.announced())?;
            let (reader, _) = reader(rt, s, b, "no-such-track", None, 1);
            let incoming = p.wait(T, |e| match e {
                Event::IncomingSubscribe { request, track: t, .. } if t.name.as_ref() == b"no-such-track" => {
                    Some(*request)
                }
                Event::IncomingTrackStatus { request, track: t } if t.name.as_ref() == b"no-such-track" => {
                    Some(*request)
                }
                _ => None,
            })?;
            // DOES_NOT_EXIST (draft-18 §REQUEST_ERROR codes: 0x10); lite: a stream reset.
            let code = if lite { 0x4 } else { 0x10 };
            p.run(move |x| x.reject(incoming, code, "no such track"))?;
            match rt.block_on(reader).map_err(|e| e.to_string())?.2 {
                Err(e) => S::refusal(e, wt),
                Ok(_) => Outcome::Fail("refused subscription delivered groups".into()),
            }
        }
        "subscribe-before-announce" => Outcome::NotApplicable(S::NO_EARLY_SUBSCRIBE.into()),
        "publish-track-only" | "publish-track-subscribe" if lite => {
            Outcome::NotApplicable(LITE_NO_PUBLISH.into())
        }
        "publish-track-only" | "publish-track-subscribe" => {
            publish_namespace(&mut p)?;
            let pubreq = p.run(|x| x.publish(track(), TrackInfo::default()))?;
            let accepted = p.wait(T, |e| match e {
                Event::PublishAccepted { request, .. } if *request == pubreq => Some(true),
                Event::SubscriberGone { request } if *request == pubreq => Some(false),
                _ => None,
            })?;
            if !accepted {
                return Ok(Outcome::Fail(format!("sluice relay refused the PUBLISH: {}", p.log())));
            }
            if case == "publish-track-only" {
                Outcome::Pass("sluice relay accepted the PUBLISH".into())
            } else {
                let b = rt.block_on(s.announced())?;
                let (reader, live) = reader(rt, s, b, TRACK, Some(0), 2);
                await_subscribed(&live, &reader)?;
                publish_groups(&p, &[pubreq], 0..2)?;
                let got = rt.block_on(reader).map_err(|e| e.to_string())?.2?;
                if got != want(0..2) {
                    return Ok(Outcome::Fail("pushed track differs at their subscriber".into()));
                }
                Outcome::Pass("pushed track reached their subscriber byte-identical".into())
            }
        }
        "fetch" if v == Version::Lite(LiteVersion::Lite04) => Outcome::NotApplicable(LITE04_NO_FETCH.into()),
        "fetch" if !lite && S::IETF_NO_FETCH.is_some() => {
            Outcome::NotApplicable(S::IETF_NO_FETCH.unwrap_or_default().into())
        }
        "announce-subscribe" | "single-object" | "multiple-groups" | "late-subscriber" | "fetch" => {
            publish_namespace(&mut p)?;
            let b = rt.block_on(s.announced())?;
            let n: u64 = if matches!(case, "announce-subscribe" | "single-object") { 1 } else { 3 };
            let (reader, live) = reader(rt, s, b, TRACK, Some(0), n as usize);
            let up = accept_incoming(&mut p, T)?
                .ok_or_else(|| format!("relay forwarded no SUBSCRIBE: {}", p.log()))?;
            await_subscribed(&live, &reader)?;
            publish_groups(&p, &[up], 0..n)?;
            let (s, _sub, got) = rt.block_on(reader).map_err(|e| e.to_string())?;
            let got = got?;
            if got != want(0..n) {
                return Ok(Outcome::Fail(format!("their subscriber got {} differing groups", got.len())));
            }
            match case {
                "announce-subscribe" => {
                    Outcome::Pass("their subscription accepted by the sluice publisher".into())
                }
                "late-subscriber" => S::late(rt, addr, v, &mut p, up)?,
                "fetch" => S::fetch(rt, addr, v)?,
                _ => {
                    drop(s);
                    Outcome::Pass(format!("{n} group(s) byte-identical at their subscriber"))
                }
            }
        }
        "goaway" => rt.block_on(s.goaway(lite, || relay.send_goaway())),
        other => Outcome::Fail(format!("unknown case {other}")),
    })
}
