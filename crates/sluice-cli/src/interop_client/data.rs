//! The data cases of `sluice interop-client` (issue 6 adds them to the runner's eight):
//! objects written by a publisher session reach a subscriber session through the relay byte
//! for byte and in order. The module docs of [`super`] list names, namespaces and timeouts;
//! the conventions shared by every case here:
//!
//! * One namespace per case and run, `moq-test/data/<case>-<run id>`, track `test-track`
//!   (goaway: `old-track` and `new-track`). A relay may keep a track's cache, or a
//!   publisher's namespace, a while after they are gone; fresh names keep one case's (or
//!   run's) state out of the next.
//! * moq-lite has no answer to an announce (the relay learns it when it asks, with
//!   ANNOUNCE_INTEREST), so a lite subscriber first asks for the announces of the case's
//!   namespace and subscribes once the relay has announced it; MOQT's REQUEST_OK to
//!   PUBLISH_NAMESPACE already says the relay has it.
//! * Groups are numbered from 1 (group 0 is the empty group the lite-05 publisher opens so
//!   its SUBSCRIBE_OK can name a first group, see `Peer::pump`), one subgroup (0) each,
//!   objects from 0, every group stream finished with end of group. Payloads differ per
//!   (case, group, object); object 1 of a group is 3000 bytes (more than one QUIC packet).
//! * Lockstep: the publisher writes a group only after the watching subscribers received
//!   the previous one, so "in order" is the relay's order, not a race between group streams
//!   (streams of different groups may overtake each other, draft-18 §2.2).
//! * The track ends with PUBLISH_DONE TRACK_ENDED (MOQT) / the Subscribe stream's FIN
//!   (lite); the subscriber's objects up to that end must equal the expected list exactly.

use super::*;

/// (group, object, payload) as the subscriber saw it.
type Obj = (u64, u64, Bytes);

/// Objects per group.
const OBJECTS_PER_GROUP: u64 = 3;

/// The parent of every data case's namespace.
const DATA_PREFIX: &str = "moq-test/data";

fn data_namespace(ctx: &Ctx, case: &str) -> sluice::Namespace {
    sluice::Namespace::from_path(&format!("{DATA_PREFIX}/{case}-{}", ctx.run))
}

fn data_track(ctx: &Ctx, case: &str) -> TrackName {
    TrackName::new(data_namespace(ctx, case), "test-track")
}

/// The payload of `object` in `group` of `case`'s track.
fn payload(case: &str, group: u64, object: u64) -> Bytes {
    let text = format!("sluice interop {case} group {group} object {object}");
    if object != 1 {
        return Bytes::from(text);
    }
    let mut big = text.into_bytes();
    big.extend((0..3000u64).map(|i| (i.wrapping_mul(31).wrapping_add(group * 7 + object)) as u8));
    big.truncate(3000);
    Bytes::from(big)
}

/// What a subscriber must see of `groups` of `case`'s track.
fn expected(case: &str, groups: impl IntoIterator<Item = u64>) -> Vec<Obj> {
    groups
        .into_iter()
        .flat_map(|g| (0..OBJECTS_PER_GROUP).map(move |o| (g, o, payload(case, g, o))))
        .collect()
}

/// `(group, object, length)` of each object: what a failure message shows.
fn summary(objects: &[Obj]) -> String {
    let parts: Vec<String> = objects.iter().map(|(g, o, p)| format!("{g}/{o} ({} B)", p.len())).collect();
    format!("[{}]", parts.join(", "))
}

/// Fails unless `got` equals `want` exactly (ids, order and payload bytes).
fn same(what: &str, want: &[Obj], got: &[Obj]) -> Result<(), Failure> {
    if want == got {
        return Ok(());
    }
    let mismatch = want.iter().zip(got).position(|(a, b)| a != b);
    let received = match mismatch {
        Some(i) => format!("{} (first difference at #{i})", summary(got)),
        None => summary(got),
    };
    Err(fail(&format!("{what}: {}", summary(want)), received))
}

/// `first` followed by `others`, for the stepping helpers.
fn with<'a>(first: &'a mut Peer, others: &'a mut [&mut Peer]) -> Vec<&'a mut Peer> {
    let mut peers: Vec<&'a mut Peer> = vec![first];
    peers.extend(others.iter_mut().map(|p| &mut **p));
    peers
}

/// A publisher session that announced the namespace of `tracks` and serves them.
fn announced_publisher(
    ctx: &Ctx,
    role: &'static str,
    tracks: Vec<TrackName>,
    others: &mut [&mut Peer],
    deadline: Instant,
) -> Result<Peer, Failure> {
    let mut publisher = Peer::connect(ctx, role)?;
    let namespace = tracks.first().map(|t| t.namespace.clone()).ok_or_else(|| fail("a track", "none"))?;
    publisher.serve = tracks;
    wait_for(&mut with(&mut publisher, others), 0, deadline, &format!("{role} SETUP"), |e| {
        matches!(e, Event::Ready { .. }).then_some(())
    })?;
    let request = publisher
        .session()?
        .announce(namespace)
        .map_err(|e| fail("PUBLISH_NAMESPACE sent", e.to_string()))?;
    announce_accepted(&mut with(&mut publisher, others), 0, request, deadline)?;
    Ok(publisher)
}

/// A subscriber session (collecting its objects), ready to subscribe to tracks in
/// `namespace` (lite: the relay has announced it to us).
pub(super) fn subscriber(
    ctx: &Ctx,
    role: &'static str,
    namespace: &sluice::Namespace,
    others: &mut [&mut Peer],
    deadline: Instant,
) -> Result<Peer, Failure> {
    let mut sub = Peer::connect(ctx, role)?;
    sub.collect = true;
    wait_for(&mut with(&mut sub, others), 0, deadline, &format!("{role} SETUP"), |e| {
        matches!(e, Event::Ready { .. }).then_some(())
    })?;
    if let Version::Lite(_) = ctx.version {
        let discovery = sub
            .session()?
            .discover(namespace.clone())
            .map_err(|e| fail("ANNOUNCE_INTEREST sent", e.to_string()))?;
        let found =
            wait_for(&mut with(&mut sub, others), 0, deadline, "the namespace announced", |e| match e {
                Event::NamespaceFound { request, namespace: n }
                    if *request == discovery && n == namespace =>
                {
                    Some(Ok(()))
                }
                Event::DiscoveryEnded { request, reason } if *request == discovery => {
                    Some(Err(format!("ANNOUNCE_INTEREST refused: {} ({})", reason.code, reason.text)))
                }
                _ => None,
            })?;
        found.map_err(|r| fail("the namespace announced", r))?;
    }
    Ok(sub)
}

/// `peers[who]` subscribes to `track` with the default filter and waits for SUBSCRIBE_OK.
fn subscribed(
    peers: &mut [&mut Peer],
    who: usize,
    track: &TrackName,
    deadline: Instant,
) -> Result<RequestHandle, Failure> {
    let request = match peers.get_mut(who) {
        Some(p) => p
            .session()?
            .subscribe(track.clone(), SubscribeOptions::default())
            .map_err(|e| fail("SUBSCRIBE sent", e.to_string()))?,
        None => return Err(fail("subscriber", "none")),
    };
    let got = wait_for(peers, who, deadline, "SUBSCRIBE_OK", |e| match e {
        Event::Subscribed { request: r, .. } if *r == request => Some(Ok(())),
        Event::SubscribeFailed { request: r, reason } if *r == request => {
            Some(Err(format!("REQUEST_ERROR {} ({})", reason.code, reason.text)))
        }
        _ => None,
    })?;
    got.map_err(|r| fail("SUBSCRIBE_OK", r))?;
    Ok(request)
}

/// The objects `peer` collected for `request`, in arrival order.
fn objects_of(peer: &Peer, request: RequestHandle) -> Vec<Obj> {
    peer.objects.iter().filter(|(r, _)| *r == request).map(|(_, o)| o.clone()).collect()
}

/// The publisher `peers[who]` writes `group` of `track` (objects `0..count`, one subgroup,
/// end of group) on every subscription it serves for the track, waiting for one if there is none
/// yet, and remembers the objects for FETCH.
fn write_group(
    peers: &mut [&mut Peer],
    who: usize,
    case: &str,
    track: &TrackName,
    (group, count): (u64, u64),
    deadline: Instant,
) -> Result<(), Failure> {
    let served = |ps: &mut [&mut Peer]| ps.get(who).is_some_and(|p| p.served.iter().any(|(_, t)| t == track));
    if !step_until(peers, deadline, served)? {
        return Err(fail("the relay's SUBSCRIBE for the track at the publisher", "timeout"));
    }
    let Some(publisher) = peers.get_mut(who) else { return Err(fail("publisher", "none")) };
    let requests: Vec<RequestHandle> =
        publisher.served.iter().filter(|(_, t)| t == track).map(|(r, _)| *r).collect();
    for request in requests {
        let session = publisher.session()?;
        let stream = session
            .open_subgroup(request, group, 0, None)
            .map_err(|e| fail("subgroup stream opened", e.to_string()))?;
        for o in 0..count {
            // lite-05 frames carry a timestamp (its track timescale is ms); others ignore it.
            let object = ObjectWrite {
                timestamp: Some(group * 1000 + o),
                ..ObjectWrite::new(o, payload(case, group, o))
            };
            session.write_object(stream, object).map_err(|e| fail("object written", e.to_string()))?;
        }
        session.close_subgroup(stream, true).map_err(|e| fail("subgroup stream FIN", e.to_string()))?;
    }
    publisher.written.extend((0..count).map(|o| (track.clone(), group, o, payload(case, group, o))));
    Ok(())
}

/// Writes `groups` in lockstep: each one after every `(peer, request, count)` watcher has
/// `count` objects more than it had before the group (so groups arrive in order).
fn write_groups(
    peers: &mut [&mut Peer],
    who: usize,
    case: &str,
    track: &TrackName,
    groups: std::ops::RangeInclusive<u64>,
    watchers: &[(usize, RequestHandle)],
    deadline: Instant,
) -> Result<(), Failure> {
    for group in groups {
        let before: Vec<usize> =
            watchers.iter().map(|(i, r)| peers.get(*i).map_or(0, |p| objects_of(p, *r).len())).collect();
        write_group(peers, who, case, track, (group, OBJECTS_PER_GROUP), deadline)?;
        let arrived = step_until(peers, deadline, |ps| {
            watchers.iter().zip(&before).all(|((i, r), n)| {
                ps.get(*i).is_some_and(|p| objects_of(p, *r).len() >= n + OBJECTS_PER_GROUP as usize)
            })
        })?;
        if !arrived {
            let got: Vec<String> = watchers
                .iter()
                .map(|(i, r)| peers.get(*i).map_or_else(String::new, |p| summary(&objects_of(p, *r))))
                .collect();
            return Err(fail(&format!("group {group} at every subscriber"), format!("timeout; got {got:?}")));
        }
    }
    Ok(())
}

/// The publisher ends every subscription it serves for `track` (TRACK_ENDED / FIN).
fn end_track(ctx: &Ctx, publisher: &mut Peer, track: &TrackName) -> Result<(), Failure> {
    let requests: Vec<RequestHandle> =
        publisher.served.iter().filter(|(_, t)| t == track).map(|(r, _)| *r).collect();
    for request in requests {
        publisher
            .session()?
            .end_subscription(request, codes::track_ended(ctx.family()), "track ended")
            .map_err(|e| fail("PUBLISH_DONE sent", e.to_string()))?;
    }
    Ok(())
}

/// Waits for the end of subscription `request` at `peers[who]`, then checks that its
/// objects were exactly `want` (`what` names them) and the end was the graceful one (MOQT
/// TRACK_ENDED, lite FIN). Without an end, the failure still says whether the objects
/// that came were right.
fn await_end(
    ctx: &Ctx,
    peers: &mut [&mut Peer],
    (who, request): (usize, RequestHandle),
    (what, want): (&str, &[Obj]),
    deadline: Instant,
) -> Result<(), Failure> {
    let ended = wait_for(peers, who, deadline, "end of the track (PUBLISH_DONE / FIN)", |e| match e {
        Event::SubscriptionEnded { request: r, reason } if *r == request => Some(reason.clone()),
        _ => None,
    });
    let got = peers.get(who).map_or_else(Vec::new, |p| objects_of(p, request));
    let reason = ended.map_err(|f| {
        let before = match got == want {
            true => format!("the {} expected objects, byte-identical and in order", want.len()),
            false => summary(&got),
        };
        fail(&f.expected, format!("{}; before it: {before}", f.received))
    })?;
    same(what, want, &got)?;
    let code = codes::track_ended(ctx.family());
    if reason.code != code {
        return Err(fail(
            &format!("track end code {code}"),
            format!("code {} ({})", reason.code, reason.text),
        ));
    }
    Ok(())
}

/// single-object (5 s): one object, group 1 object 0, reaches the subscriber unchanged.
pub(super) fn single_object(ctx: &Ctx) -> Result<String, Failure> {
    let case = "single-object";
    let deadline = Instant::now() + Duration::from_secs(5);
    let track = data_track(ctx, case);
    let mut publisher = announced_publisher(ctx, "publisher", vec![track.clone()], &mut [], deadline)?;
    let mut sub = subscriber(ctx, "subscriber", &track.namespace, &mut [&mut publisher], deadline)?;
    let peers = &mut [&mut sub, &mut publisher];
    let request = subscribed(peers, 0, &track, deadline)?;
    write_group(peers, 1, case, &track, (1, 1), deadline)?;
    let [_, p] = &mut *peers;
    end_track(ctx, p, &track)?;
    let want = [(1, 0, payload(case, 1, 0))];
    await_end(ctx, peers, (0, request), ("exactly group 1 object 0", &want), deadline)?;
    sub.close();
    publisher.close();
    Ok(String::new())
}

/// multiple-groups (10 s): groups 1..=5 of three objects each arrive complete, unchanged
/// and in order.
pub(super) fn multiple_groups(ctx: &Ctx) -> Result<String, Failure> {
    let case = "multiple-groups";
    let deadline = Instant::now() + Duration::from_secs(10);
    let track = data_track(ctx, case);
    let mut publisher = announced_publisher(ctx, "publisher", vec![track.clone()], &mut [], deadline)?;
    let mut sub = subscriber(ctx, "subscriber", &track.namespace, &mut [&mut publisher], deadline)?;
    let peers = &mut [&mut sub, &mut publisher];
    let request = subscribed(peers, 0, &track, deadline)?;
    write_groups(peers, 1, case, &track, 1..=5, &[(0, request)], deadline)?;
    let [_, p] = &mut *peers;
    end_track(ctx, p, &track)?;
    let want = expected(case, 1..=5);
    await_end(ctx, peers, (0, request), ("groups 1..=5, objects 0..3 each", &want), deadline)?;
    sub.close();
    publisher.close();
    Ok(String::new())
}

/// late-subscriber (10 s): a first subscriber gets groups 1..=5; a second one subscribes
/// with the default filter after groups 1..=3 are complete, then groups 4 and 5 follow. MOQT
/// (Largest Object, draft-18 §5.1.2: the first object after the Largest Location of its
/// SUBSCRIBE_OK, here {3, 2}): exactly groups 4 and 5. moq-lite (no start group: the latest
/// group, lite-04/05 §SUBSCRIBE): exactly groups 3, 4 and 5, group 3 from its first object.
pub(super) fn late_subscriber(ctx: &Ctx) -> Result<String, Failure> {
    let case = "late-subscriber";
    let deadline = Instant::now() + Duration::from_secs(10);
    let track = data_track(ctx, case);
    let mut publisher = announced_publisher(ctx, "publisher", vec![track.clone()], &mut [], deadline)?;
    let mut early = subscriber(ctx, "first subscriber", &track.namespace, &mut [&mut publisher], deadline)?;
    let first = subscribed(&mut [&mut early, &mut publisher], 0, &track, deadline)?;
    write_groups(&mut [&mut early, &mut publisher], 1, case, &track, 1..=3, &[(0, first)], deadline)?;
    let mut late =
        subscriber(ctx, "late subscriber", &track.namespace, &mut [&mut early, &mut publisher], deadline)?;
    let peers = &mut [&mut late, &mut early, &mut publisher];
    let second = subscribed(peers, 0, &track, deadline)?;
    let lite = matches!(ctx.version, Version::Lite(_));
    let late_groups = if lite { 3..=5 } else { 4..=5 };
    if lite {
        // The latest group comes from the relay's cache, whole, before anything new.
        let n = OBJECTS_PER_GROUP as usize;
        if !step_until(peers, deadline, |ps| ps.first().is_some_and(|p| objects_of(p, second).len() >= n))? {
            return Err(fail("group 3 (the latest) at the late subscriber", "timeout"));
        }
    }
    write_groups(peers, 2, case, &track, 4..=5, &[(0, second), (1, first)], deadline)?;
    let [_, _, p] = &mut *peers;
    end_track(ctx, p, &track)?;
    let which = if lite {
        "late subscriber: the latest group (3), then 4 and 5"
    } else {
        "late subscriber: groups 4 and 5"
    };
    await_end(ctx, peers, (0, second), (which, &expected(case, late_groups)), deadline)?;
    let all = expected(case, 1..=5);
    await_end(ctx, peers, (1, first), ("first subscriber: groups 1..=5", &all), deadline)?;
    late.close();
    early.close();
    publisher.close();
    Ok(if lite { "late subscriber got groups 3..=5" } else { "late subscriber got groups 4..=5" }.to_owned())
}

/// Waits for the end of fetch `request` at `peers[who]` (code 0) and returns its objects.
fn fetched(
    what: &str,
    peers: &mut [&mut Peer],
    who: usize,
    request: RequestHandle,
    deadline: Instant,
) -> Result<Vec<Obj>, Failure> {
    let reason = wait_for(peers, who, deadline, &format!("{what}: objects and the end"), |e| match e {
        Event::FetchEnded { request: r, reason } if *r == request => Some(reason.clone()),
        _ => None,
    })?;
    if reason.code != 0 {
        let got = peers.get(who).map_or_else(Vec::new, |p| objects_of(p, request));
        return Err(fail(
            &format!("{what}: complete (code 0)"),
            format!("ended with code {} ({}) after {}", reason.code, reason.text, summary(&got)),
        ));
    }
    Ok(peers.get(who).map_or_else(Vec::new, |p| objects_of(p, request)))
}

/// fetch (10 s): groups 1..=3 are published to a live subscriber; then a standalone FETCH of
/// the whole group 2 (MOQT Start {2, 0}, End {2, 0} = the entire group, draft-18 §10.12.1;
/// moq-lite FETCH of group 2, lite-04/05 §FETCH) gives exactly group 2. MOQT also: a
/// second subscriber subscribes (Largest Object) and makes a relative joining fetch with
/// Joining Start 1 (§10.12.2: Start {3 − 1, 0}, End the joining location {3, 2} + 1), which
/// gives exactly groups 2 and 3. moq-lite has no joining fetch (the message says so).
pub(super) fn fetch(ctx: &Ctx) -> Result<String, Failure> {
    let case = "fetch";
    let deadline = Instant::now() + Duration::from_secs(10);
    let track = data_track(ctx, case);
    let mut publisher = announced_publisher(ctx, "publisher", vec![track.clone()], &mut [], deadline)?;
    let mut sub = subscriber(ctx, "subscriber", &track.namespace, &mut [&mut publisher], deadline)?;
    let live = subscribed(&mut [&mut sub, &mut publisher], 0, &track, deadline)?;
    write_groups(&mut [&mut sub, &mut publisher], 1, case, &track, 1..=3, &[(0, live)], deadline)?;
    let whole_group_2 = sluice::Location { group: 2, object: 0 };
    let standalone = sub
        .session()?
        .fetch(track.clone(), whole_group_2, whole_group_2, 128)
        .map_err(|e| fail("FETCH sent", e.to_string()))?;
    let got = fetched("standalone FETCH", &mut [&mut sub, &mut publisher], 0, standalone, deadline)?;
    same("standalone FETCH: exactly group 2", &expected(case, 2..=2), &got)?;
    let note = if let Version::Lite(_) = ctx.version {
        format!("standalone FETCH of group 2 passed; {} has no joining FETCH", ctx.version.alpn())
    } else {
        let mut joiner = subscriber(
            ctx,
            "joining subscriber",
            &track.namespace,
            &mut [&mut sub, &mut publisher],
            deadline,
        )?;
        let peers = &mut [&mut joiner, &mut sub, &mut publisher];
        let joined = subscribed(peers, 0, &track, deadline)?;
        let joining = match peers.first_mut() {
            Some(j) => j
                .session()?
                .joining_fetch(joined, sluice::JoinStart::Relative(1), 128)
                .map_err(|e| fail("joining FETCH sent", e.to_string()))?,
            None => return Err(fail("joining subscriber", "none")),
        };
        let got = fetched("relative joining FETCH", peers, 0, joining, deadline)?;
        same("relative joining FETCH (1 group back): exactly groups 2 and 3", &expected(case, 2..=3), &got)?;
        let [_, _, p] = &mut *peers;
        end_track(ctx, p, &track)?;
        await_end(
            ctx,
            peers,
            (0, joined),
            ("joining subscriber's subscription: nothing new", &[]),
            deadline,
        )?;
        joiner.close();
        "standalone and relative joining FETCH passed".to_owned()
    };
    if matches!(ctx.version, Version::Lite(_)) {
        end_track(ctx, &mut publisher, &track)?;
    }
    let want = expected(case, 1..=3);
    let what = "live subscription: groups 1..=3";
    await_end(ctx, &mut [&mut sub, &mut publisher], (0, live), (what, &want), deadline)?;
    sub.close();
    publisher.close();
    Ok(note)
}

/// goaway (10 s). A client cannot make the relay send GOAWAY, so the case checks the other
/// direction, which draft-18 §GOAWAY allows a client ("A client MUST send a zero-length New
/// Session URI") and moq-lite too (lite-04/05 §Goaway: either endpoint): the publisher
/// sends GOAWAY with an empty URI on its session, then
/// 1. its existing subscription keeps flowing: group 2, written after the GOAWAY, reaches
///    the subscriber (§GOAWAY: "does not impact subscription state"; lite: only the peer
///    may not open new streams);
/// 2. it "reconnects": a second publisher session announces the namespace (REQUEST_OK);
/// 3. a new SUBSCRIBE (a second track) is routed to the new session, not the one that
///    said GOAWAY (§GOAWAY: the receiver "SHOULD NOT initiate new requests"; lite: "MUST
///    NOT open new streams"), and its group 1 reaches the subscriber;
/// 4. the relay closed no session with an error.
pub(super) fn goaway(ctx: &Ctx) -> Result<String, Failure> {
    let case = "goaway";
    let deadline = Instant::now() + Duration::from_secs(10);
    let namespace = data_namespace(ctx, case);
    let old_track = TrackName::new(namespace.clone(), "old-track");
    let new_track = TrackName::new(namespace, "new-track");
    let both = vec![old_track.clone(), new_track.clone()];
    let mut leaving = announced_publisher(ctx, "leaving publisher", both.clone(), &mut [], deadline)?;
    let mut sub = subscriber(ctx, "subscriber", &old_track.namespace, &mut [&mut leaving], deadline)?;
    let old = subscribed(&mut [&mut sub, &mut leaving], 0, &old_track, deadline)?;
    write_groups(&mut [&mut sub, &mut leaving], 1, case, &old_track, 1..=1, &[(0, old)], deadline)?;
    leaving
        .session()?
        .goaway(Bytes::new(), Duration::from_secs(10))
        .map_err(|e| fail("GOAWAY sent", e.to_string()))?;
    leaving.subscribes_seen.clear();
    write_groups(&mut [&mut sub, &mut leaving], 1, case, &old_track, 2..=2, &[(0, old)], deadline).map_err(
        |f| fail(&format!("after our GOAWAY, the existing subscription goes on: {}", f.expected), f.received),
    )?;
    let mut successor =
        announced_publisher(ctx, "new publisher", both, &mut [&mut sub, &mut leaving], deadline)?;
    let peers = &mut [&mut sub, &mut successor, &mut leaving];
    let new = subscribed(peers, 0, &new_track, deadline)?;
    let routed = |ps: &mut [&mut Peer]| ps.iter().skip(1).any(|p| p.subscribes_seen.contains(&new_track));
    if !step_until(peers, deadline, routed)? {
        return Err(fail("the SUBSCRIBE for the new track at a publisher", "timeout"));
    }
    if let [_, _, l] = peers
        && l.subscribes_seen.contains(&new_track)
    {
        return Err(fail(
            "no new SUBSCRIBE to the session that sent GOAWAY (draft-18 §GOAWAY SHOULD NOT; lite MUST NOT)",
            "the relay sent the SUBSCRIBE for the new track to the leaving publisher",
        ));
    }
    write_groups(peers, 1, case, &new_track, 1..=1, &[(0, new)], deadline)?;
    same("old track: groups 1 and 2", &expected(case, 1..=2), &objects_of(&sub, old))?;
    same("new track: group 1 from the new publisher", &expected(case, 1..=1), &objects_of(&sub, new))?;
    for p in [&sub, &successor, &leaving] {
        no_error_close(p)?;
    }
    sub.close();
    successor.close();
    leaving.close();
    Ok(String::new())
}
