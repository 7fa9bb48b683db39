//! sluice clients against a moq-native 0.19.19 *server* (issue 6: "sluice as client against
//! their server"), every shared version, raw QUIC and WebTransport. The server runs in this
//! test process on its tokio runtime ([`NativeServer`]): it publishes its own broadcast
//! ([`PATH`] / [`TRACK`], groups written by the test) to every session, and subscribes to
//! whatever each session announces (its ingest origin). Two directions:
//! * moq-native server publisher → sluice subscriber client;
//! * sluice publisher client → moq-native server subscriber.
//!
//! Each case gets a fresh server; each sluice client runs on its own thread.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use common::matrix::{Cell, Outcome, record};
use common::native::{announced_with_track, read_groups, subscribe_to};
use common::script::{
    accept_incoming, check_groups, client, discover, ended, latest, objects_until, ok_after_data, options,
    publish_groups, publish_namespace, subscribed,
};
use common::sluice_side::Actor;
use common::{Dial, PATH, T, TRACK, TRANSPORTS, VERSIONS, alpn, frames, namespace, track};
use moq_native::moq_net;
use sluice::{Event, JoinStart, LiteVersion, Location, Version};

const PEER: &str = "moq-native 0.19.19 (server)";
const SERVER_TO_SLUICE: &str = "moq-native server pub → sluice client sub";
const SLUICE_TO_SERVER: &str = "sluice client pub → moq-native server sub";

/// The cases of the server-publishes direction.
const SERVER_PUB_CASES: [&str; 10] = [
    "setup-only",
    "announce-only",
    "publish-namespace-done",
    "subscribe-error",
    "subscribe-before-announce",
    "single-object",
    "multiple-groups",
    "late-subscriber",
    "fetch",
    "goaway",
];

/// The cases of the server-subscribes direction.
const SERVER_SUB_CASES: [&str; 6] = [
    "announce-only",
    "publish-namespace-done",
    "announce-subscribe",
    "publish-track-only",
    "single-object",
    "multiple-groups",
];

/// moq-net 0.2.22 (moq-native 0.19.19's session layer) never sends GOAWAY.
const NATIVE_NO_GOAWAY: &str = "moq-native 0.19.19's server cannot send GOAWAY: moq-net-0.2.22 \
    src/session.rs Session has no goaway call (version, stats, abort, closed only); lite Goaway is only \
    received (src/lite/publisher.rs ControlType::Goaway) and ietf GoAway only decoded \
    (src/ietf/session.rs run_goaway); moq-native src/server.rs closes listeners without one";

/// moq-net's draft-18 publisher refuses a standalone FETCH; it serves a relative joining
/// FETCH with offset 0 only.
const NATIVE_IETF_STANDALONE_FETCH: &str = "moq-net-0.2.22 src/ietf/publisher.rs run_fetch_stream \
    answers FetchType::Standalone and AbsoluteJoining with REQUEST_ERROR 0x3 (NOT_SUPPORTED)";

/// moq-net's draft-18 publisher answers SUBSCRIBE_NAMESPACE with REQUEST_OK and then
/// nothing, having announced through unsolicited PUBLISH_NAMESPACE.
const NATIVE_NO_NAMESPACE: &str = "the server's PUBLISH_NAMESPACE accepted (how sluice learned the \
    namespace), but SUBSCRIBE_NAMESPACE got no NAMESPACE for it (draft-18 §SUBSCRIBE_NAMESPACE: on success \
    the publisher sends matching NAMESPACE messages on the response stream): moq-net-0.2.22 \
    src/ietf/publisher.rs run_subscribe_namespace_stream sends them only to a peer that declared the \
    SOLICIT setup option (src/ietf/solicit.rs, draft-lcurley-moq-solicit), otherwise relying on its \
    unsolicited PUBLISH_NAMESPACE (run_publish_namespaces)";

/// A moq-native server on the test's runtime. Dropping it stops accepting and closes every
/// session it accepted.
struct NativeServer {
    /// Where clients connect (QUIC and WebTransport on the same UDP port).
    addr: SocketAddr,
    /// The track of the server's own broadcast.
    track: moq_net::track::Producer,
    /// The server's own broadcast (kept: dropping it withdraws the announce).
    broadcast: Option<moq_net::broadcast::Producer>,
    /// The origin the server publishes to every session.
    published: moq_net::origin::Producer,
    /// What the sessions announce to the server.
    ingest: moq_net::origin::Producer,
    /// The accept loop; it owns the server and every session task.
    accept: tokio::task::JoinHandle<()>,
}

impl NativeServer {
    /// Binds 127.0.0.1:0 with a generated certificate, every version, and starts accepting.
    async fn start() -> Result<NativeServer, String> {
        let mut config = moq_native::ServerConfig::default();
        config.bind = Some("127.0.0.1:0".into());
        config.tls.generate = vec!["localhost".into()];
        let published = moq_net::Origin::random().produce();
        let ingest = moq_net::Origin::random().produce();
        let mut broadcast = published
            .create_broadcast(PATH, moq_net::broadcast::Route::new().with_announce(true))
            .map_err(|e| format!("create broadcast: {e}"))?;
        let track = broadcast.create_track(TRACK, None).map_err(|e| format!("create track: {e}"))?;
        let mut server = config
            .init()
            .map_err(|e| format!("moq-native server: {e}"))?
            .with_publisher(published.consume())
            .with_subscriber(ingest.clone());
        let addr = server.local_addr().map_err(|e| format!("server addr: {e}"))?;
        let accept = tokio::spawn(async move {
            // Aborting this task drops the set, which aborts the session tasks, which drops
            // (and so closes) their sessions.
            let mut sessions = tokio::task::JoinSet::new();
            while let Some(request) = server.accept().await {
                sessions.spawn(async move {
                    if let Ok(session) = request.ok().await {
                        session.closed().await;
                    }
                });
            }
        });
        Ok(NativeServer { addr, track, broadcast: Some(broadcast), published, ingest, accept })
    }

    /// Writes `frames` as the server track's next group; returns its sequence.
    fn write_group(&mut self, frames: &[Bytes]) -> Result<u64, String> {
        common::peer::native_write_group(&mut self.track, frames)
    }

    /// Ends the server's broadcast, withdrawing its announce.
    fn unannounce(&mut self) {
        if let Some(mut b) = self.broadcast.take() {
            b.finish();
        }
    }

    /// Announces a second broadcast, `path`, with a track [`TRACK`].
    fn announce_later(
        &self,
        path: &str,
    ) -> Result<(moq_net::broadcast::Producer, moq_net::track::Producer), String> {
        announced_with_track(&self.published, path)
    }

    /// Waits until a session subscribed to the server's track.
    async fn used(&self) -> Result<(), String> {
        tokio::time::timeout(T, self.track.used())
            .await
            .map_err(|_| "no subscription reached the server's track".to_owned())?
            .map_err(|e| format!("track: {e}"))
    }

    /// Waits until a session announced [`PATH`] to the server.
    async fn announced(&self) -> Result<moq_net::broadcast::Consumer, String> {
        tokio::time::timeout(T, self.ingest.consume().announced_broadcast(PATH))
            .await
            .map_err(|_| "no announce reached the server".to_owned())?
            .ok_or_else(|| "ingest origin closed".to_owned())
    }
}

impl Drop for NativeServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// The payload frames of groups `range`, as moq-native reads them.
fn want(range: std::ops::Range<u64>) -> Vec<(u64, Vec<Bytes>)> {
    range.map(|g| (g, frames(g, 3))).collect()
}

/// Learns the server's namespace: lite through discovery (ANNOUNCE_INTEREST, answered with
/// ANNOUNCE); draft-18 through the PUBLISH_NAMESPACE moq-net sends unasked to every session
/// (moq-net-0.2.22 src/ietf/publisher.rs run_publish_namespaces), which is accepted (an
/// unanswered one is withdrawn and offered again). Returns the discovery (lite) or the
/// incoming announce (draft-18).
fn learn_namespace(s: &mut Actor, v: Version) -> Result<sluice::RequestHandle, String> {
    if matches!(v, Version::Lite(_)) {
        return discover(s);
    }
    let req = s.wait(T, |e| match e {
        Event::IncomingAnnounce { request, namespace: ns } if *ns == namespace() => Some(*request),
        _ => None,
    })?;
    s.run(move |x| x.accept_announce(req))?;
    Ok(req)
}

/// Subscribes the sluice client to the server's track and waits until moq-net serves it:
/// on lite until the server's track is used (the subscription names Start Group 0, which
/// moq-net honours: moq-net-0.2.22 src/lite/publisher.rs `start_at`); on draft-18 until
/// SUBSCRIBE_OK, because moq-net's draft-18 publisher ignores the AbsoluteStart filter and
/// starts at its latest group when it begins serving (src/ietf/publisher.rs
/// `subscribe_range`, "filter not supported before draft-20", then `run_track`), which it
/// does right after sending SUBSCRIBE_OK: a first group written then is still served (it is
/// the latest), and callers write more only once it arrived. lite-05 withholds SUBSCRIBE_OK
/// until a group exists ([`ok_after_data`]); the caller checks it after writing.
fn subscribe_served(
    rt: &tokio::runtime::Runtime,
    server: &NativeServer,
    s: &mut Actor,
    v: Version,
) -> Result<sluice::RequestHandle, String> {
    let sub = s.run(|x| x.subscribe(track(), options()))?;
    rt.block_on(server.used())?;
    if !ok_after_data(v) {
        subscribed(s, sub)?;
    }
    Ok(sub)
}

/// Starts their server and connects a sluice client to it on `v` (WebTransport if `wt`);
/// the caller has entered `rt` (moq-native's server needs its context).
fn server_and_client(
    rt: &tokio::runtime::Runtime,
    v: Version,
    wt: bool,
) -> Result<(NativeServer, Actor), String> {
    let server = rt.block_on(NativeServer::start())?;
    let client = client(Dial { addr: server.addr, wt }, v)?;
    Ok((server, client))
}

fn server_to_sluice(
    rt: &tokio::runtime::Runtime,
    v: Version,
    wt: bool,
    case: &str,
) -> Result<Outcome, String> {
    let _runtime = rt.enter();
    let (mut server, mut s) = server_and_client(rt, v, wt)?;
    let lite = matches!(v, Version::Lite(_));
    Ok(match case {
        "setup-only" => Outcome::Pass("SETUP completed with their server on the offered version".into()),
        "announce-only" if lite => {
            discover(&mut s)?;
            Outcome::Pass("the server's broadcast found through sluice discovery (ANNOUNCE_INTEREST)".into())
        }
        "announce-only" => {
            let disc = s.run(|x| x.discover(namespace()))?;
            learn_namespace(&mut s, v)?;
            // A SUBSCRIBE round trip after the server's PUBLISH_NAMESPACE: by its answer a
            // NAMESPACE sent with the REQUEST_OK to our SUBSCRIBE_NAMESPACE would be in too.
            let sub = s.run(|x| x.subscribe(track(), latest()))?;
            subscribed(&mut s, sub)?;
            let found = s.wait(Duration::ZERO, |e| match e {
                Event::NamespaceFound { request, namespace: ns } if *request == disc => Some(Ok(ns.clone())),
                Event::DiscoveryEnded { request, reason } if *request == disc => Some(Err(reason.clone())),
                _ => None,
            });
            match found {
                Ok(Ok(_)) => Outcome::Pass(
                    "the server's PUBLISH_NAMESPACE accepted, and its namespace found through \
                     SUBSCRIBE_NAMESPACE"
                        .into(),
                ),
                Ok(Err(reason)) => Outcome::Fail(format!("SUBSCRIBE_NAMESPACE refused: {reason:?}")),
                Err(_) => Outcome::PeerBug(NATIVE_NO_NAMESPACE.into()),
            }
        }
        "publish-namespace-done" => {
            let known = learn_namespace(&mut s, v)?;
            server.unannounce();
            // lite: ANNOUNCE with status ended, reported to the discovery; draft-18:
            // PUBLISH_NAMESPACE_DONE for the accepted PUBLISH_NAMESPACE.
            s.wait(T, |e| match e {
                Event::NamespaceGone { request, namespace: ns }
                    if *request == known && *ns == namespace() =>
                {
                    Some(())
                }
                Event::IncomingAnnounceEnded { request } if *request == known => Some(()),
                _ => None,
            })?;
            Outcome::Pass(if lite {
                "the server's withdrawal reported to sluice discovery".into()
            } else {
                "the server's PUBLISH_NAMESPACE_DONE ended the accepted announce".into()
            })
        }
        "subscribe-error" => {
            learn_namespace(&mut s, v)?;
            let missing = sluice::TrackName::new(namespace(), "no-such-track");
            let req = s.run(move |x| x.subscribe(missing, options()))?;
            let reason = s.wait(T, |e| match e {
                Event::SubscribeFailed { request, reason } if *request == req => Some(Ok(reason.clone())),
                Event::Subscribed { request, .. } if *request == req => Some(Err(())),
                _ => None,
            })?;
            let reason = match reason {
                Ok(reason) => reason,
                Err(()) => return Ok(Outcome::Fail("subscription to a missing track accepted".into())),
            };
            subscribe_error_outcome(&mut s, v, wt, &reason)?
        }
        "subscribe-before-announce" => {
            // A broadcast the server announces only after the SUBSCRIBE; on draft-18 the
            // SUBSCRIBE asks to be held (RENDEZVOUS_TIMEOUT).
            let later = sluice::TrackName::new(sluice::Namespace::from_fields(["later"]), TRACK);
            let req = s.run(move |x| x.subscribe(later, common::script::early_options()))?;
            let answer = |s: &mut Actor, within| {
                s.wait(within, |e| match e {
                    Event::Subscribed { request, .. } if *request == req => Some(Ok(())),
                    Event::SubscribeFailed { request, reason } if *request == req => {
                        Some(Err(reason.clone()))
                    }
                    _ => None,
                })
            };
            // Awaited before announcing: a held SUBSCRIBE is not answered until then.
            match answer(&mut s, T) {
                Ok(Err(reason)) => Outcome::NotApplicable(format!(
                    "their server answers a SUBSCRIBE for a broadcast it has not announced at once \
                     (code {:#x}) instead of holding it: moq-net-0.2.22 src/ietf/publisher.rs and \
                     src/lite/publisher.rs resolve it with request_broadcast, which fails Unroutable \
                     without a broadcast (src/model/origin.rs)",
                    reason.code
                )),
                Ok(Ok(())) => Outcome::Fail("SUBSCRIBE for an unannounced broadcast accepted".into()),
                Err(_) => {
                    let _later = server.announce_later("later")?;
                    answer(&mut s, T)?.map_err(|r| format!("refused after the announce: {r:?}"))?;
                    Outcome::Pass("SUBSCRIBE held until the server announced the broadcast".into())
                }
            }
        }
        "single-object" | "multiple-groups" => {
            learn_namespace(&mut s, v)?;
            let sub = subscribe_served(rt, &server, &mut s, v)?;
            let n = if case == "single-object" { 1 } else { 4 };
            if n == 1 {
                let f = Bytes::from_static(b"the one object");
                server.write_group(std::slice::from_ref(&f))?;
                let got = s.objects(sub, 1, T)?;
                if got != vec![(0, 0, f)] {
                    return Ok(Outcome::Fail(format!("got {got:?}")));
                }
            } else {
                // Group 0 alone first: once it arrived the server is serving, so the burst
                // after it cannot fall before the point a draft-18 session starts reading
                // from (its latest group; see `subscribe_served`).
                server.write_group(&frames(0, 3))?;
                let mut got = s.objects(sub, 3, T)?;
                for g in 1..n {
                    server.write_group(&frames(g, 3))?;
                }
                got.extend(s.objects(sub, (n as usize - 1) * 3, T)?);
                check_groups(&got, 0..n)?;
            }
            if ok_after_data(v) {
                subscribed(&mut s, sub)?;
            }
            server.track.finish().map_err(|e| format!("finish track: {e}"))?;
            ended(&mut s, sub)?;
            Outcome::Pass(format!("{n} group(s) byte-identical, in order; the server's end of track seen"))
        }
        "late-subscriber" => {
            for g in 0..3 {
                server.write_group(&frames(g, 3))?;
            }
            learn_namespace(&mut s, v)?;
            let sub = s.run(|x| x.subscribe(track(), latest()))?;
            // The server has groups, so it answers at once on every version.
            subscribed(&mut s, sub)?;
            for g in 3..5 {
                server.write_group(&frames(g, 3))?;
            }
            let got = objects_until(&mut s, sub, &[(3, 2), (4, 2)])?;
            let firsts: Vec<u64> = got.iter().map(|o| o.0).collect();
            // lite-04/05 §SUBSCRIBE: no Start Group means "the latest group": group 2 whole.
            // draft-18 §Subscription Filters, Largest Object (0x2): start at {2, 3}, after
            // everything already published, so nothing of groups 0..=2.
            let (from, filter) = if lite { (2, "latest group") } else { (3, "Largest Object") };
            check_groups(&got, from..5).map_err(|e| format!("{e}; groups {firsts:?}"))?;
            Outcome::Pass(format!("late subscriber got groups {from}..=4 ({filter}), byte-identical"))
        }
        "fetch" if v == Version::Lite(LiteVersion::Lite04) => {
            Outcome::NotApplicable(common::LITE04_NO_FETCH.into())
        }
        "fetch" => {
            for g in 0..3 {
                server.write_group(&frames(g, 3))?;
            }
            learn_namespace(&mut s, v)?;
            let req = s.run(|x| {
                x.fetch(track(), Location { group: 1, object: 0 }, Location { group: 1, object: 3 }, 0)
            })?;
            let (end, got) = fetch_result(&mut s, req)?;
            if lite {
                // lite-05 §FETCH: the whole group from the publisher's cache.
                if end.code != 0 || check_groups(&got, 1..2).is_err() {
                    return Ok(Outcome::Fail(format!("fetch ended {end:?} with {} objects", got.len())));
                }
                Outcome::Pass("group 1 fetched from their server, byte-identical".into())
            } else {
                // draft-18 §FETCH lets a publisher refuse (REQUEST_ERROR NOT_SUPPORTED, 0x3).
                if end.code != 0x3 || !got.is_empty() {
                    return Ok(Outcome::Fail(format!(
                        "standalone FETCH: ended {end:?} with {} objects (expected NOT_SUPPORTED)",
                        got.len()
                    )));
                }
                // A relative joining FETCH (draft-18 §Joining Fetches) with offset 0 on a
                // Largest Object subscription: {2, 0} up to the subscription's start {2, 3}.
                let sub = s.run(|x| x.subscribe(track(), latest()))?;
                subscribed(&mut s, sub)?;
                let jreq = s.run(move |x| x.joining_fetch(sub, JoinStart::Relative(0), 0))?;
                let (jend, jgot) = fetch_result(&mut s, jreq)?;
                if jend.code != 0 || check_groups(&jgot, 2..3).is_err() {
                    return Ok(Outcome::Fail(format!(
                        "joining fetch ended {jend:?} with {} objects",
                        jgot.len()
                    )));
                }
                Outcome::Pass(format!(
                    "standalone FETCH refused NOT_SUPPORTED ({NATIVE_IETF_STANDALONE_FETCH}); relative \
                     joining FETCH (offset 0) returned group 2 byte-identical"
                ))
            }
        }
        "goaway" => Outcome::NotApplicable(NATIVE_NO_GOAWAY.into()),
        other => Outcome::Fail(format!("unknown case {other}")),
    })
}

/// moq-net's `Error::NotFound` code (moq-net-0.2.22 src/error.rs `to_code`).
const NATIVE_NOT_FOUND: u64 = 13;

/// A WebTransport application error code as carried in a QUIC RESET_STREAM (the HTTP/3
/// mapping of draft-ietf-webtrans-http3 §Resetting Data Streams).
fn http3_mapped(code: u64) -> u64 {
    0x52e4_a40f_a8db + code + code / 0x1e
}

/// Judges the server's refusal of a subscription to a track its broadcast lacks.
///
/// lite: the Subscribe stream is reset with moq-net's NotFound (13); lite-04/05 leave the
/// code to the application. On raw QUIC the reset carries 13 in its HTTP/3 mapping, because
/// moq-native wraps raw QUIC connections in web-transport-quinn (`Session::raw`,
/// moq-native-0.19.19 src/quinn.rs), whose `SendStream::reset` maps every code
/// (web-transport-quinn-0.12.1 src/send.rs); sluice reports the code as received.
///
/// draft-18: moq-net answers REQUEST_ERROR 0x194 (an HTTP 404: src/ietf/publisher.rs
/// `reject_subscribe(.., 404, ..)`), a code draft-18 does not define, where §REQUEST_ERROR
/// has DOES_NOT_EXIST (0x10) for "the track ... is not available at the publisher". The
/// receiver treats an unknown code as INTERNAL_ERROR and MUST NOT close the session for it
/// (§Security Considerations): the same session then subscribes to the real track.
fn subscribe_error_outcome(
    s: &mut Actor,
    v: Version,
    wt: bool,
    reason: &sluice::Reason,
) -> Result<Outcome, String> {
    if matches!(v, Version::Lite(_)) {
        let want = if wt { NATIVE_NOT_FOUND } else { http3_mapped(NATIVE_NOT_FOUND) };
        if reason.code != want {
            return Ok(Outcome::Fail(format!("refused with {reason:?}, expected a reset with {want:#x}")));
        }
        return Ok(Outcome::Pass(if wt {
            format!("refused: Subscribe stream reset with {NATIVE_NOT_FOUND} (moq-net NotFound)")
        } else {
            format!(
                "refused: Subscribe stream reset with {want:#x}, moq-net's NotFound \
                 ({NATIVE_NOT_FOUND}) in its HTTP/3 mapping even on raw QUIC \
                 (web-transport-quinn-0.12.1 src/send.rs reset)"
            )
        }));
    }
    let sub = s.run(|x| x.subscribe(track(), latest()))?;
    subscribed(s, sub).map_err(|e| format!("session unusable after the refusal: {e}"))?;
    Ok(match reason.code {
        0x10 => Outcome::Pass("refused with DOES_NOT_EXIST".into()),
        0x194 => Outcome::PeerBug(
            "refused with REQUEST_ERROR 0x194 (HTTP 404; moq-net-0.2.22 src/ietf/publisher.rs \
             reject_subscribe), not DOES_NOT_EXIST 0x10 (draft-18 §REQUEST_ERROR); sluice kept the session \
             (§Security Considerations: an unknown code is INTERNAL_ERROR, no close) and subscribed next"
                .into(),
        ),
        other => Outcome::Fail(format!("refused with unexpected code {other:#x}: {reason:?}")),
    })
}

/// Objects as sluice delivers them: (group, object, payload).
type Objects = Vec<(u64, u64, Bytes)>;

/// Waits for fetch `req` to end; returns the reason and every object it delivered.
fn fetch_result(s: &mut Actor, req: sluice::RequestHandle) -> Result<(sluice::Reason, Objects), String> {
    let end = s.wait(T, |e| match e {
        Event::FetchEnded { request, reason } if *request == req => Some(reason.clone()),
        _ => None,
    })?;
    // Objects precede the end in the event queue; collect what is already there.
    let got =
        std::iter::from_fn(|| s.objects(req, 1, Duration::ZERO).ok().map(|mut v| v.remove(0))).collect();
    Ok((end, got))
}

fn sluice_to_server(
    rt: &tokio::runtime::Runtime,
    v: Version,
    wt: bool,
    case: &str,
) -> Result<Outcome, String> {
    let _runtime = rt.enter();
    let (server, mut p) = server_and_client(rt, v, wt)?;
    Ok(match case {
        "announce-only" => {
            publish_namespace(&mut p)?;
            rt.block_on(server.announced())?;
            Outcome::Pass("sluice announce accepted; the server's origin has the broadcast".into())
        }
        "publish-namespace-done" => {
            // One cursor from before the announce sees both changes, however fast they come.
            let mut cursor = server.ingest.consume().announced();
            let ann = publish_namespace(&mut p)?;
            rt.block_on(announce_change(&mut cursor, true))?;
            p.run(move |x| x.cancel(ann))?;
            rt.block_on(announce_change(&mut cursor, false))?;
            Outcome::Pass("sluice withdrawal removed the broadcast from the server's origin".into())
        }
        "publish-track-only" if matches!(v, Version::Lite(_)) => {
            Outcome::NotApplicable("moq-lite has no PUBLISH message (publisher-initiated track)".into())
        }
        "publish-track-only" => {
            publish_namespace(&mut p)?;
            let req = p.run(|x| x.publish(track(), sluice::TrackInfo::default()))?;
            let answer = p.wait(T, |e| match e {
                Event::PublishAccepted { request, .. } if *request == req => Some(Ok(())),
                Event::PublishRefused { request, reason } if *request == req => Some(Err(reason.clone())),
                _ => None,
            })?;
            match answer {
                Ok(()) => Outcome::Pass("their server accepted the PUBLISH".into()),
                // draft-18 §PUBLISH lets a receiver refuse; NOT_SUPPORTED is 0x3.
                Err(reason) if reason.code == 0x3 => Outcome::NotApplicable(
                    "their server refuses every PUBLISH with NOT_SUPPORTED (moq-net-0.2.22 \
                     src/ietf/subscriber.rs run_publish_stream); sluice saw the refusal"
                        .into(),
                ),
                Err(reason) => Outcome::Fail(format!("PUBLISH refused: {reason:?}")),
            }
        }
        "announce-subscribe" | "single-object" | "multiple-groups" => {
            publish_namespace(&mut p)?;
            let b = rt.block_on(server.announced())?;
            let n: u64 = if case == "multiple-groups" { 4 } else { 1 };
            let frames_per = if case == "single-object" { 1 } else { 3 };
            // moq-net sends its SUBSCRIBE once the subscriber is polled: read on a task.
            let reader = rt.spawn(async move {
                let mut sub = subscribe_to(&b, TRACK, Some(0)).await?;
                let got = read_groups(&mut sub, n as usize, frames_per).await?;
                Ok::<_, String>((sub, got))
            });
            let up = accept_incoming(&mut p, T)?
                .ok_or_else(|| format!("the server sent no SUBSCRIBE: {}", p.log()))?;
            if case == "single-object" {
                p.run_client(move |c| c.write_group(up, 0, &[Bytes::from_static(b"the one object")]))?;
            } else {
                publish_groups(&p, &[up], 0..n)?;
            }
            let (_sub, mut got) = rt.block_on(reader).map_err(|e| e.to_string())??;
            got.sort_by_key(|g| g.0);
            let expect = if case == "single-object" {
                vec![(0, vec![Bytes::from_static(b"the one object")])]
            } else {
                want(0..n)
            };
            if got != expect {
                return Ok(Outcome::Fail(format!("the server read {} differing groups", got.len())));
            }
            Outcome::Pass(match case {
                "announce-subscribe" => "the server's subscription accepted; first group arrived".into(),
                _ => format!("{n} group(s) byte-identical, in order, at the server"),
            })
        }
        other => Outcome::Fail(format!("unknown case {other}")),
    })
}

/// Waits until `cursor` (over the server's ingest origin) reports [`PATH`] announced
/// (`present`) or withdrawn.
async fn announce_change(cursor: &mut moq_net::announce::Consumer, present: bool) -> Result<(), String> {
    let what = if present { "announce" } else { "withdrawal" };
    loop {
        let next = tokio::time::timeout(T, cursor.next())
            .await
            .map_err(|_| format!("no {what} of the broadcast reached the server"))?
            .ok_or("announce cursor closed")?;
        if next.path.as_str().trim_matches('/') == PATH && next.broadcast.is_some() == present {
            return Ok(());
        }
    }
}

type Scenario = fn(&tokio::runtime::Runtime, Version, bool, &str) -> Result<Outcome, String>;

fn cells_for(v: Version, direction: &'static str, cases: &[&'static str], scenario: Scenario) -> Vec<Cell> {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut cells = Vec::new();
    for wt in TRANSPORTS {
        for &case in cases.iter().filter(|c| common::selected(c)) {
            let outcome = scenario(&rt, v, wt, case).unwrap_or_else(Outcome::Fail);
            let transport = Dial { addr: ([127, 0, 0, 1], 0).into(), wt }.name();
            cells.push(Cell { peer: PEER, version: alpn(v), transport, case, direction, outcome });
        }
    }
    cells
}

fn both_directions(v: Version) -> Vec<Cell> {
    let mut cells = cells_for(v, SERVER_TO_SLUICE, &SERVER_PUB_CASES, server_to_sluice);
    cells.extend(cells_for(v, SLUICE_TO_SERVER, &SERVER_SUB_CASES, sluice_to_server));
    cells
}

#[test]
fn native_server_lite04() {
    record("native_server_lite04", &both_directions(VERSIONS[0]));
}

#[test]
fn native_server_lite05() {
    record("native_server_lite05", &both_directions(VERSIONS[1]));
}

#[test]
fn native_server_moqt18() {
    record("native_server_moqt18", &both_directions(VERSIONS[2]));
}
