//! Sequential sluice-side steps the cases share: connect, announce (and see it through
//! discovery), subscribe (and accept what the relay forwards), publish groups, check what
//! arrived byte for byte.

use std::time::Duration;

use sluice::{Event, Location, RequestHandle, SubscribeOptions, TrackInfo, Version};

use super::matrix::Outcome;
use super::sluice_side::Actor;
use super::{Dial, T, frames, namespace, track};

/// A connected client that negotiated `v`.
pub fn client(addr: Dial, v: Version) -> Result<Actor, String> {
    let mut a = Actor::connect(addr.addr, v, &addr.transport())?;
    let got = a.ready(T)?;
    if got != v {
        return Err(format!("negotiated {got:?}, wanted {v:?}"));
    }
    Ok(a)
}

/// The publisher announces and the subscriber sees the namespace through discovery.
pub fn announce(
    publisher: &mut Actor,
    subscriber: &mut Actor,
) -> Result<(RequestHandle, RequestHandle), String> {
    let ann = publish_namespace(publisher)?;
    let disc = discover(subscriber)?;
    Ok((ann, disc))
}

/// Announces [`namespace`] and waits for the acceptance.
pub fn publish_namespace(publisher: &mut Actor) -> Result<RequestHandle, String> {
    let ann = publisher.run(|s| s.announce(namespace()))?;
    publisher
        .wait(T, |e| matches!(e, Event::AnnounceAccepted { request } if *request == ann).then_some(()))?;
    Ok(ann)
}

/// Discovers [`namespace`] and waits until it is found.
pub fn discover(subscriber: &mut Actor) -> Result<RequestHandle, String> {
    let disc = subscriber.run(|s| s.discover(namespace()))?;
    subscriber.wait(T, |e| match e {
        Event::NamespaceFound { request, namespace: ns } if *request == disc && *ns == namespace() => {
            Some(())
        }
        _ => None,
    })?;
    Ok(disc)
}

/// Waits until discovery `disc` reports [`namespace`] gone.
pub fn gone(subscriber: &mut Actor, disc: RequestHandle) -> Result<(), String> {
    subscriber.wait(T, |e| match e {
        Event::NamespaceGone { request, namespace: ns } if *request == disc && *ns == namespace() => Some(()),
        _ => None,
    })
}

/// The graceful end-of-track code for `end_subscription`: MOQT PUBLISH_DONE TRACK_ENDED
/// (draft-18 §PUBLISH_DONE codes: 0x2; 0x0 is INTERNAL_ERROR), lite FIN (0).
pub fn track_ended(v: Version) -> u64 {
    match v {
        Version::Lite(_) => 0,
        _ => 0x2,
    }
}

/// Subscription options for data cases: a generous max latency, since moq-lite's 0 means
/// "expire a group as soon as a newer one exists" (lite-04 §Expiration), which would skip
/// groups the cases check for.
/// They start at group 0 (AbsoluteStart), so a relay's SUBSCRIBE_OK that races the first
/// object cannot exclude it (draft-18 §Subscription Filters: Largest Object starts after
/// the largest location the publisher reports).
pub fn options() -> SubscribeOptions {
    SubscribeOptions {
        filter: sluice::Filter::AbsoluteStart(sluice::Location { group: 0, object: 0 }),
        ..latest()
    }
}

/// [`options`] for a SUBSCRIBE sent before the publisher announced: it asks the relay to
/// hold it (draft-18 §RENDEZVOUS_TIMEOUT; without it a draft-18 relay answers DOES_NOT_EXIST
/// at once). moq-lite has no such parameter; its relays hold or refuse as they choose.
pub fn early_options() -> SubscribeOptions {
    SubscribeOptions { rendezvous_timeout_ms: Some(T.as_millis() as u64), ..options() }
}

/// Options for a late joiner: the latest group on (Largest Object), generous max latency.
pub fn latest() -> SubscribeOptions {
    SubscribeOptions { max_latency_ms: 10_000, ..SubscribeOptions::default() }
}

/// True when a relay may withhold SUBSCRIBE_OK until the first group resolves the start
/// (lite-05 §Subscribe); callers then check [`subscribed`] once a group was published.
pub fn ok_after_data(v: Version) -> bool {
    v == Version::Lite(sluice::LiteVersion::Lite05)
}

/// The subscriber subscribes; the publisher accepts what the relay forwards; unless
/// [`ok_after_data`], the subscriber's `Subscribed` is awaited too (a subscription forwards
/// only what is published after it: draft-18 §Subscription Filters, past objects are FETCH's).
pub fn subscribe(
    publisher: &mut Actor,
    subscriber: &mut Actor,
    options: SubscribeOptions,
    v: Version,
) -> Result<(RequestHandle, RequestHandle), String> {
    let sub = subscriber.run(move |s| s.subscribe(track(), options))?;
    let upstream = accept_incoming(publisher, T)?.ok_or_else(|| {
        format!(
            "the relay forwarded no SUBSCRIBE; publisher [{}]; subscriber [{}]",
            publisher.log(),
            subscriber.log()
        )
    })?;
    if !ok_after_data(v) {
        subscribed(subscriber, sub)?;
    }
    Ok((sub, upstream))
}

/// Waits for the answer to subscription `sub`: Ok when accepted, Err with the refusal.
pub fn subscribed(subscriber: &mut Actor, sub: RequestHandle) -> Result<(), String> {
    subscriber.wait(T, |e| match e {
        Event::Subscribed { request, .. } if *request == sub => Some(Ok(())),
        Event::SubscribeFailed { request, reason } if *request == sub => {
            Some(Err(format!("refused: {reason:?}")))
        }
        _ => None,
    })?
}

/// Waits for the end of subscription `sub`.
pub fn ended(subscriber: &mut Actor, sub: RequestHandle) -> Result<(), String> {
    subscriber
        .wait(T, |e| matches!(e, Event::SubscriptionEnded { request, .. } if *request == sub).then_some(()))
}

/// Accepts one SUBSCRIBE for our track arriving within `within`, if any. A lite-05 relay
/// first asks for the track's info (TRACK stream, `IncomingTrackStatus`): that is answered
/// on the way.
pub fn accept_incoming(publisher: &mut Actor, within: Duration) -> Result<Option<RequestHandle>, String> {
    let deadline = std::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let incoming = publisher.wait(left, |e| match e {
            Event::IncomingSubscribe { request, track: t, .. } if *t == track() => Some((true, *request)),
            Event::IncomingTrackStatus { request, track: t } if *t == track() => Some((false, *request)),
            _ => None,
        });
        match incoming {
            Ok((true, req)) => {
                publisher.run(move |s| s.accept_subscribe(req, TrackInfo::default()))?;
                return Ok(Some(req));
            }
            Ok((false, req)) => publisher.run(move |s| s.accept_subscribe(req, TrackInfo::default()))?,
            Err(_) => return Ok(None),
        }
    }
}

/// Collects objects of `request` until every (group, last object) in `ends` arrived.
pub fn objects_until(
    subscriber: &mut Actor,
    request: RequestHandle,
    ends: &[(u64, u64)],
) -> Result<Vec<(u64, u64, bytes::Bytes)>, String> {
    let mut got: Vec<(u64, u64, bytes::Bytes)> = Vec::new();
    while !ends.iter().all(|(g, o)| got.iter().any(|x| x.0 == *g && x.1 == *o)) {
        got.extend(subscriber.objects(request, 1, T)?);
    }
    Ok(got)
}

/// Writes groups `groups` (3 frames each) on every upstream subscription in `to`.
pub fn publish_groups(
    publisher: &Actor,
    to: &[RequestHandle],
    groups: std::ops::Range<u64>,
) -> Result<(), String> {
    for g in groups {
        for &req in to {
            let f = frames(g, 3);
            publisher.run_client(move |c| c.write_group(req, g, &f))?;
        }
    }
    Ok(())
}

/// Checks that `got` is exactly groups `groups` × 3 frames, byte-identical and in order
/// within each group.
pub fn check_groups(got: &[(u64, u64, bytes::Bytes)], groups: std::ops::Range<u64>) -> Result<(), String> {
    let mut want: Vec<(u64, u64, bytes::Bytes)> = Vec::new();
    for g in groups {
        for (o, f) in frames(g, 3).into_iter().enumerate() {
            want.push((g, o as u64, f));
        }
    }
    let mut sorted = got.to_vec();
    // Groups may arrive interleaved (one stream each); within a group order must hold.
    sorted.sort_by_key(|(g, _, _)| *g);
    for g in sorted.chunk_by(|a, b| a.0 == b.0) {
        if !g.windows(2).all(|w| w[0].1 < w[1].1) {
            return Err(format!("objects of group {} out of order", g[0].0));
        }
    }
    if sorted != want {
        return Err(format!(
            "objects differ: got {:?}",
            got.iter().map(|(g, o, p)| (*g, *o, p.len())).collect::<Vec<_>>()
        ));
    }
    Ok(())
}

/// A sluice client fetches group 1 of the track and checks it byte for byte.
pub fn sluice_fetch(addr: Dial, v: Version, from: &str) -> Result<Outcome, String> {
    let mut f = client(addr, v)?;
    let freq =
        f.run(|x| x.fetch(track(), Location { group: 1, object: 0 }, Location { group: 1, object: 3 }, 0))?;
    let end = f.wait(T, |e| match e {
        Event::FetchEnded { request, reason } if *request == freq => Some(reason.clone()),
        _ => None,
    })?;
    let got: Vec<_> =
        std::iter::from_fn(|| f.objects(freq, 1, Duration::from_millis(1)).ok().map(|mut v| v.remove(0)))
            .collect();
    Ok(if end.code == 0 && check_groups(&got, 1..2).is_ok() {
        Outcome::Pass(format!("group 1 fetched {from}, byte-identical"))
    } else {
        Outcome::Fail(format!("fetch ended {end:?} with {} objects; {}", got.len(), f.log()))
    })
}
