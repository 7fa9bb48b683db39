//! One scenario for "their publisher → sluice relay → sluice subscriber", shared by every
//! moq-dev client library: [`PeerPublisher`] is what a case needs of their publisher, and
//! [`peer_to_sluice`] runs a case with any of them. Where the libraries differ (a cited peer
//! behaviour, an outcome), the difference is a trait item, not a second copy of the cases.
//! `native::NativePub` and `tokio_peer::TokioPub` implement it where they are defined.

use std::time::Duration;

use bytes::Bytes;
use sluice::{Event, LiteVersion, Reason, RequestHandle, Version};

use super::matrix::Outcome;
use super::script::{
    check_groups, client, discover, early_options, ended, gone, latest, objects_until, ok_after_data,
    options, sluice_fetch, subscribed,
};
use super::sluice_side::{Actor, RelayThread};
use super::{Dial, LITE_NO_PUBLISH, T, frames, track};

/// A moq-dev publisher client of the [`super::PATH`] broadcast with track [`super::TRACK`].
pub trait PeerPublisher: Sized {
    /// Why it cannot send a draft-18 PUBLISH (the cited peer source).
    const NO_PUBLISH: &'static str;
    /// Why a lite-04 FETCH through the relay is not applicable with it, if it is not.
    const LITE04_NO_FETCH: Option<&'static str>;

    /// Connects to `addr` offering only `v`.
    async fn connect(addr: Dial, v: Version) -> Result<Self, String>;
    /// Announces the broadcast (its track exists first).
    fn announce(&mut self) -> Result<(), String>;
    /// Withdraws the announce.
    fn unannounce(&mut self);
    /// Writes `frames` as the track's next group and finishes it; returns its sequence.
    fn write_group(&mut self, frames: &[Bytes]) -> Result<u64, String>;
    /// Finishes the track.
    fn finish_track(&mut self) -> Result<(), String>;
    /// Waits until the relay subscribed upstream, so what is written next reaches it live.
    async fn used(&mut self) -> Result<(), String>;
    /// The outcome of the subscribe-error case, given the refusal the sluice subscriber saw.
    fn relayed_refusal(reason: &Reason, lite: bool, wt: bool) -> Outcome;
    /// Sends the relay's GOAWAY with `send` and checks, where the library reports one, that
    /// it reached this session: `None` where it does not.
    async fn goaway_seen(&self, send: impl FnOnce()) -> Option<Outcome>;
}

/// Their publisher `P` → the sluice relay → a sluice subscriber: runs `case` on `v` over
/// raw QUIC or WebTransport (`wt`).
pub fn peer_to_sluice<P: PeerPublisher>(
    rt: &tokio::runtime::Runtime,
    relay: &RelayThread,
    v: Version,
    wt: bool,
    case: &str,
) -> Result<Outcome, String> {
    let addr = Dial { addr: relay.addr, wt };
    let lite = matches!(v, Version::Lite(_));
    // moq-net spawns tasks, so its calls need the runtime's context.
    let _runtime = rt.enter();
    let mut p = rt.block_on(P::connect(addr, v))?;
    let mut s = client(addr, v)?;
    Ok(match case {
        "setup-only" => Outcome::Pass("both clients completed SETUP on the offered version".into()),
        "announce-only" => {
            p.announce()?;
            discover(&mut s)?;
            Outcome::Pass("their announce reached the sluice subscriber's discovery".into())
        }
        "publish-namespace-done" => {
            p.announce()?;
            let disc = discover(&mut s)?;
            p.unannounce();
            gone(&mut s, disc)?;
            Outcome::Pass("their withdrawal reached the sluice subscriber".into())
        }
        "subscribe-error" => {
            p.announce()?;
            discover(&mut s)?;
            let missing = sluice::TrackName::new(super::namespace(), "no-such-track");
            let req = s.run(move |x| x.subscribe(missing, options()))?;
            let answer = s.wait(T, |e| match e {
                Event::SubscribeFailed { request, reason } if *request == req => Some(Ok(reason.clone())),
                Event::Subscribed { request, .. } if *request == req => Some(Err(())),
                _ => None,
            })?;
            match answer {
                Ok(reason) => P::relayed_refusal(&reason, lite, wt),
                Err(()) => Outcome::Fail("subscription to a missing track accepted".into()),
            }
        }
        "announce-subscribe" | "subscribe-before-announce" => {
            let early = case == "subscribe-before-announce";
            let req = if early { Some(s.run(|x| x.subscribe(track(), early_options()))?) } else { None };
            if early {
                // The relay holds the SUBSCRIBE (draft-18 §RENDEZVOUS_TIMEOUT); nothing to
                // await on its side, so let it arrive before the announce.
                std::thread::sleep(Duration::from_millis(50));
            }
            p.announce()?;
            let req = match req {
                Some(r) => r,
                None => {
                    discover(&mut s)?;
                    s.run(|x| x.subscribe(track(), options()))?
                }
            };
            rt.block_on(p.used())?;
            if ok_after_data(v) {
                // lite-05 §SUBSCRIBE: a publisher MAY withhold SUBSCRIBE_OK until the first
                // group resolves the start; moq-net does.
                p.write_group(&frames(0, 3))?;
            }
            subscribed(&mut s, req)?;
            Outcome::Pass(
                if early { "relay held the early SUBSCRIBE until their announce" } else { "accepted" }.into(),
            )
        }
        "publish-track-only" | "publish-track-subscribe" => {
            Outcome::NotApplicable(if lite { LITE_NO_PUBLISH } else { P::NO_PUBLISH }.into())
        }
        "fetch" if v == Version::Lite(LiteVersion::Lite04) && P::LITE04_NO_FETCH.is_some() => {
            Outcome::NotApplicable(P::LITE04_NO_FETCH.unwrap_or_default().into())
        }
        "single-object" | "multiple-groups" | "late-subscriber" | "fetch" => {
            let n = if case == "single-object" { 1 } else { 3 };
            let req = stream_groups(rt, &mut p, &mut s, v, n)?;
            match case {
                "late-subscriber" => {
                    let mut late = client(addr, v)?;
                    let lreq = late.run(|x| x.subscribe(track(), latest()))?;
                    // The relay has groups: it resolves the start at once on every version.
                    subscribed(&mut late, lreq)?;
                    for g in 3..5 {
                        p.write_group(&frames(g, 3))?;
                    }
                    let got = objects_until(&mut late, lreq, &[(3, 2), (4, 2)])?;
                    late_sluice_outcome(got, "started")?
                }
                "fetch" => sluice_fetch(addr, v, "from the relay")?,
                _ => {
                    p.finish_track()?;
                    ended(&mut s, req)?;
                    Outcome::Pass(format!("{n} group(s) byte-identical; their end of track relayed"))
                }
            }
        }
        "goaway" => {
            let theirs = rt.block_on(p.goaway_seen(|| relay.send_goaway()));
            let sluice_got = s.wait(T, |e| matches!(e, Event::GoAway { .. }).then_some(()));
            match (sluice_got, theirs) {
                (Ok(()), None) => Outcome::Pass(
                    "sluice relay GOAWAY reached the sluice subscriber while their publisher was attached"
                        .into(),
                ),
                (Ok(()), Some(Outcome::Pass(w))) => Outcome::Pass(format!("sluice subscriber and {w}")),
                (got, theirs) => Outcome::Fail(format!("sluice: {got:?}; theirs: {theirs:?}")),
            }
        }
        other => Outcome::Fail(format!("unknown case {other}")),
    })
}

/// Their publisher `p` announces; the sluice subscriber `s` discovers it, subscribes to the
/// track and must read groups `0..n` (3 frames each) byte for byte, and be answered
/// SUBSCRIBE_OK (after the first group where the version lets the publisher wait for it).
/// Returns the subscription.
pub fn stream_groups<P: PeerPublisher>(
    rt: &tokio::runtime::Runtime,
    p: &mut P,
    s: &mut Actor,
    v: Version,
    n: u64,
) -> Result<RequestHandle, String> {
    p.announce()?;
    discover(s)?;
    let req = s.run(|x| x.subscribe(track(), options()))?;
    rt.block_on(p.used())?;
    if !ok_after_data(v) {
        subscribed(s, req)?;
    }
    for g in 0..n {
        p.write_group(&frames(g, 3))?;
    }
    let got = s.objects(req, n as usize * 3, T)?;
    check_groups(&got, 0..n)?;
    if ok_after_data(v) {
        subscribed(s, req)?;
    }
    Ok(req)
}

/// Checks what a sluice late joiner read after groups 0..3 while 3..5 were published: groups
/// 3 and 4 intact and nothing older than group 2 (its latest when it joined). `verb` says
/// how it joined, for the outcome's message.
pub fn late_sluice_outcome(got: Vec<(u64, u64, Bytes)>, verb: &str) -> Result<Outcome, String> {
    let first = got.iter().map(|o| o.0).min().unwrap_or(0);
    let tail: Vec<_> = got.into_iter().filter(|o| o.0 >= 3).collect();
    check_groups(&tail, 3..5)?;
    Ok(if first < 2 {
        Outcome::Fail(format!("late subscriber got old group {first}"))
    } else {
        Outcome::Pass(format!("late sluice subscriber {verb} at group {first}; later groups intact"))
    })
}
