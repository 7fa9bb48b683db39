//! sluice against Cloudflare's moq-transport 0.17.0 (MOQT draft-18), on 127.0.0.1.
//!
//! Each test is one (case, direction) run over raw QUIC and WebTransport; every cell is
//! recorded in `target/interop/cloudflare.md` (see `support::matrix`). The peer runs on a
//! tokio runtime; sluice endpoints run blocking on std threads. Directions:
//! * `sluice pub → cf server sub` / `cf server pub → sluice sub`: a sluice client session
//!   against a moq-transport server session (the crate has no relay; its server session is
//!   the peer's server role);
//! * `cf → sluice relay → cf`: moq-transport clients through the sluice relay;
//! * `cf pub → sluice relay → sluice sub` and `sluice pub → sluice relay → cf sub`: mixed chains.

mod support;

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use moq_transport::serve::ServeError;
use sluice::{Event, SubscribeOptions, TrackInfo};
use support::cf::{self, CfClient, CfServer, within};
use support::matrix::Carrier;
use support::media::{self, TRACK};
use support::sluice_side::{self, SluiceClient, SluiceRelay};
use support::{Miss, both, not_applicable};

const SC_PUB: &str = "sluice pub → cf server sub";
const SC_SUB: &str = "cf server pub → sluice sub";
const SC: &str = "sluice client → cf server";
const CF_RELAY: &str = "cf client → sluice relay";
const CF_CF: &str = "cf pub → sluice relay → cf sub";
const CF_SL: &str = "cf pub → sluice relay → sluice sub";
const SL_CF: &str = "sluice pub → sluice relay → cf sub";

// ---------------------------------------------------------------- plumbing

fn sluice_connect(addr: std::net::SocketAddr, cert: &[u8], carrier: Carrier) -> Result<SluiceClient, Miss> {
    let mut client =
        SluiceClient::connect(addr, cert, carrier).map_err(|e| Miss::Fail(format!("sluice connect: {e}")))?;
    client.ready()?;
    Ok(client)
}

/// Runs a sluice script on its own thread.
fn spawn<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Miss> + Send + 'static,
) -> JoinHandle<Result<T, Miss>> {
    std::thread::spawn(f)
}

fn join<T>(h: JoinHandle<Result<T, Miss>>) -> Result<T, Miss> {
    h.join().map_err(|_| Miss::Fail("sluice thread panicked".into()))?
}

/// A cf client of the sluice relay.
async fn cf_client_of(relay: &SluiceRelay, carrier: Carrier) -> Result<CfClient, Miss> {
    let cert = rustls::pki_types::CertificateDer::from(relay.cert.clone());
    cf::connect(relay.addr, &cert, carrier).await.map_err(|e| Miss::Fail(format!("cf connect: {e}")))
}

fn wait_routed(relay: &SluiceRelay, yes: bool) -> Result<(), String> {
    let deadline = std::time::Instant::now() + cf::STEP;
    while relay.routes() != yes {
        if std::time::Instant::now() > deadline {
            return Err(format!("relay routes namespace: expected {yes}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

fn relay() -> SluiceRelay {
    SluiceRelay::start(Duration::from_secs(3))
}

// ---------------------------------------------------------------- setup-only

#[test]
fn setup_only_sluice_client_to_cf_server() {
    both("setup-only", SC, |rt, carrier| {
        let server =
            rt.block_on(async { CfServer::start(carrier) }).map_err(|e| Miss::Fail(e.to_string()))?;
        let cert = server.cert.to_vec();
        let addr = server.addr;
        let sl = spawn(move || {
            let mut c = sluice_connect(addr, &cert, carrier)?;
            c.pump(Duration::from_millis(50))?;
            Ok(())
        });
        let accepted = rt.block_on(server.accepted());
        join(sl)?;
        accepted.map(|_| ()).map_err(Miss::Fail)
    });
}

#[test]
fn setup_only_cf_client_to_sluice_relay() {
    both("setup-only", CF_RELAY, |rt, carrier| {
        let relay = relay();
        rt.block_on(async {
            let client = cf_client_of(&relay, carrier).await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
            if client.run.is_finished() {
                return Err(Miss::Fail("cf session ended right after setup".into()));
            }
            Ok(())
        })
    });
}

// ---------------------------------------------------------------- announce-only, publish-namespace-done

#[test]
fn announce_only_sluice_client_to_cf_server() {
    both("announce-only", SC_PUB, |rt, carrier| announce(rt, carrier, false));
}

#[test]
fn publish_namespace_done_sluice_client_to_cf_server() {
    both("publish-namespace-done", SC_PUB, |rt, carrier| announce(rt, carrier, true));
}

/// sluice announces to the cf server; with `done`, then withdraws and the peer must see
/// the namespace request end.
fn announce(rt: &tokio::runtime::Runtime, carrier: Carrier, done: bool) -> Result<(), Miss> {
    let server = rt.block_on(async { CfServer::start(carrier) }).map_err(|e| Miss::Fail(e.to_string()))?;
    let (cert, addr) = (server.cert.to_vec(), server.addr);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let sl = spawn(move || {
        let mut c = sluice_connect(addr, &cert, carrier)?;
        let ann = c.session().announce(sluice_side::namespace()).map_err(|e| format!("announce: {e}"))?;
        c.wait("AnnounceAccepted", |e| {
            matches!(e, Event::AnnounceAccepted { request } if *request == ann).then_some(())
        })?;
        if done {
            c.session().cancel(ann).map_err(|e| format!("cancel announce: {e}"))?;
        }
        // Keep stepping (the withdrawal has to reach the wire) until the peer is done.
        c.pump_until("peer done", || go_rx.try_recv().is_ok())?;
        Ok(())
    });
    let result = rt.block_on(async {
        let mut s = server.accepted().await.map_err(Miss::Fail)?;
        let mut ns = within("published_namespace", async {
            s.subscriber.published_namespace().await.ok_or("session ended")
        })
        .await?;
        if ns.info.namespace != cf::namespace() {
            return Err(Miss::Fail(format!(
                "peer saw namespace {}, expected {}",
                ns.info.namespace,
                media::NAMESPACE
            )));
        }
        ns.ok().map_err(|e| Miss::Fail(format!("ok: {e}")))?;
        if done {
            within("namespace closed after the withdrawal", ns.closed()).await?;
        }
        // Keep the accepted namespace (dropping it cancels its request stream) until sluice
        // has seen REQUEST_OK.
        Ok::<_, Miss>((s, ns))
    });
    let _ = go_tx.send(());
    let sl = join(sl);
    drop(result?);
    sl
}

#[test]
fn announce_only_cf_client_to_sluice_relay() {
    both("announce-only", CF_RELAY, |rt, carrier| cf_announce(rt, carrier, false));
}

#[test]
fn publish_namespace_done_cf_client_to_sluice_relay() {
    both("publish-namespace-done", CF_RELAY, |rt, carrier| cf_announce(rt, carrier, true));
}

fn cf_announce(rt: &tokio::runtime::Runtime, carrier: Carrier, done: bool) -> Result<(), Miss> {
    let relay = relay();
    rt.block_on(async {
        let mut client = cf_client_of(&relay, carrier).await?;
        let pn =
            client.publisher.publish_namespace_start(cf::namespace()).await.map_err(|e| format!("{e}"))?;
        within("PUBLISH_NAMESPACE ok", pn.ok()).await?;
        wait_routed(&relay, true)?;
        if done {
            drop(pn);
            wait_routed(&relay, false)?;
        }
        Ok(())
    })
}

// ---------------------------------------------------------------- subscribe-error

#[test]
fn subscribe_error_sluice_client_to_cf_server() {
    both("subscribe-error", SC_SUB, |rt, carrier| {
        let server =
            rt.block_on(async { CfServer::start(carrier) }).map_err(|e| Miss::Fail(e.to_string()))?;
        let (cert, addr) = (server.cert.to_vec(), server.addr);
        let sl = spawn(move || {
            let mut c = sluice_connect(addr, &cert, carrier)?;
            let sub = c
                .session()
                .subscribe(sluice_side::track("missing"), SubscribeOptions::default())
                .map_err(|e| format!("subscribe: {e}"))?;
            let code = c.wait("SubscribeFailed", |e| match e {
                Event::SubscribeFailed { request, reason } if *request == sub => Some(reason.code),
                Event::Subscribed { request, .. } if *request == sub => Some(u64::MAX),
                _ => None,
            })?;
            if code == u64::MAX {
                return Err(Miss::Fail("peer refused, but sluice reported Subscribed".into()));
            }
            Ok(code)
        });
        let peer = rt.block_on(async {
            let mut s = server.accepted().await?;
            let subscribed =
                within("subscribed", async { s.publisher.subscribed().await.ok_or("session ended") }).await?;
            subscribed.close(ServeError::not_found_ctx("no such track")).map_err(|e| e.to_string())?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok::<_, String>(s)
        });
        let code = join(sl)?;
        peer.map_err(Miss::Fail)?;
        // DOES_NOT_EXIST (0x10, draft-18 §13.1.2) is what the peer maps not-found to.
        if code != 0x10 {
            return Err(Miss::Fail(format!("REQUEST_ERROR code {code:#x}, expected DOES_NOT_EXIST 0x10")));
        }
        Ok(())
    });
}

#[test]
fn subscribe_error_cf_client_to_sluice_relay() {
    both("subscribe-error", CF_RELAY, |rt, carrier| {
        let relay = SluiceRelay::start(Duration::from_millis(200));
        rt.block_on(async {
            let mut client = cf_client_of(&relay, carrier).await?;
            let (writer, _reader) = cf::track("missing");
            match within("subscribe", client.subscriber.subscribe_open(writer)).await {
                Ok(_) => Err(Miss::Fail("relay accepted a subscription nobody publishes".into())),
                Err(e) if e.contains("timed out") => Err(Miss::Fail(e)),
                Err(_) => Ok(()),
            }
        })
    });
}

// ---------------------------------------------------------------- peer-to-peer subscriptions with data

/// cf server publishes (announces `interop/cf` to the sluice client, which subscribes);
/// `groups` × `objects` flow once sluice saw SUBSCRIBE_OK.
fn cf_server_pub(
    rt: &tokio::runtime::Runtime,
    carrier: Carrier,
    groups: u64,
    objects: u64,
) -> Result<(), Miss> {
    let server = rt.block_on(async { CfServer::start(carrier) }).map_err(|e| Miss::Fail(e.to_string()))?;
    let (cert, addr) = (server.cert.to_vec(), server.addr);
    let (ok_tx, ok_rx) = tokio::sync::oneshot::channel::<()>();
    let want = (groups * objects) as usize;
    let sl = spawn(move || {
        let mut c = sluice_connect(addr, &cert, carrier)?;
        let ann = c.wait("IncomingAnnounce", |e| match e {
            Event::IncomingAnnounce { request, namespace } if *namespace == sluice_side::namespace() => {
                Some(*request)
            }
            _ => None,
        })?;
        c.session().accept_announce(ann).map_err(|e| format!("accept_announce: {e}"))?;
        let sub = c
            .session()
            .subscribe(sluice_side::track(TRACK), SubscribeOptions::default())
            .map_err(|e| format!("subscribe: {e}"))?;
        c.wait("Subscribed", |e| {
            matches!(e, Event::Subscribed { request, .. } if *request == sub).then_some(())
        })?;
        let _ = ok_tx.send(());
        let got = c.collect(sub, want)?;
        media::check(&got, &media::coords(0..groups, objects))?;
        Ok(())
    });
    let peer = rt.block_on(async {
        let mut s = server.accepted().await?;
        let pn = s.publisher.publish_namespace_start(cf::namespace()).await.map_err(|e| e.to_string())?;
        within("PUBLISH_NAMESPACE ok", pn.ok()).await?;
        let subscribed =
            within("subscribed", async { pn.subscribed().await?.ok_or(ServeError::Done) }).await?;
        if subscribed.info.track_name.to_string() != TRACK {
            return Err(format!("peer saw track {}", subscribed.info.track_name));
        }
        let (writer, reader) = cf::track(TRACK);
        let mut subgroups = writer.subgroups().map_err(|e| e.to_string())?;
        let serve = tokio::spawn(subscribed.serve(reader));
        if groups > 0 {
            within("sluice SUBSCRIBE_OK", ok_rx).await?;
            cf::write_groups(&mut subgroups, 0..groups, objects);
        }
        Ok::<_, String>((s, pn, subgroups, serve))
    });
    let result = join(sl);
    drop(peer);
    result
}

#[test]
fn announce_subscribe_cf_server_pub_to_sluice_sub() {
    both("announce-subscribe", SC_SUB, |rt, carrier| cf_server_pub(rt, carrier, 0, 0));
}

#[test]
fn single_object_cf_server_pub_to_sluice_sub() {
    both("single-object", SC_SUB, |rt, carrier| cf_server_pub(rt, carrier, 1, 1));
}

#[test]
fn multiple_groups_cf_server_pub_to_sluice_sub() {
    both("multiple-groups", SC_SUB, |rt, carrier| cf_server_pub(rt, carrier, 4, 5));
}

/// sluice announces to the cf server, which subscribes; `groups` × `objects` flow.
fn sluice_pub_cf_server_sub(
    rt: &tokio::runtime::Runtime,
    carrier: Carrier,
    groups: u64,
    objects: u64,
) -> Result<(), Miss> {
    let server = rt.block_on(async { CfServer::start(carrier) }).map_err(|e| Miss::Fail(e.to_string()))?;
    let (cert, addr) = (server.cert.to_vec(), server.addr);
    let (ok_tx, ok_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let sl = spawn(move || {
        let mut c = sluice_connect(addr, &cert, carrier)?;
        c.session().announce(sluice_side::namespace()).map_err(|e| format!("announce: {e}"))?;
        let (sub, track) = c.wait("IncomingSubscribe", |e| match e {
            Event::IncomingSubscribe { request, track, .. } => Some((*request, track.clone())),
            _ => None,
        })?;
        if track != sluice_side::track(TRACK) {
            return Err(Miss::Fail(format!("peer subscribed to {track:?}")));
        }
        c.session().accept_subscribe(sub, TrackInfo::default()).map_err(|e| format!("accept: {e}"))?;
        c.pump_until("peer saw SUBSCRIBE_OK", || ok_rx.try_recv().is_ok())?;
        c.write_groups(sub, 0..groups, objects)?;
        c.pump_until("peer done", || done_rx.try_recv().is_ok())?;
        Ok(())
    });
    let peer = rt.block_on(async {
        let mut s = server.accepted().await?;
        let mut ns = within("published_namespace", async {
            s.subscriber.published_namespace().await.ok_or("session ended")
        })
        .await?;
        ns.ok().map_err(|e| e.to_string())?;
        let (writer, reader) = cf::track(TRACK);
        let subscription = within("SUBSCRIBE ok", s.subscriber.subscribe_open(writer)).await?;
        let _ = ok_tx.send(());
        let want = (groups * objects) as usize;
        let got = if want > 0 { cf::read_objects(reader, want).await? } else { Vec::new() };
        media::check(&got, &media::coords(0..groups, objects))?;
        drop(subscription);
        Ok::<_, String>(())
    });
    let _ = done_tx.send(());
    let sl = join(sl);
    peer.map_err(Miss::Fail)?;
    sl
}

#[test]
fn announce_subscribe_sluice_pub_to_cf_server_sub() {
    both("announce-subscribe", SC_PUB, |rt, carrier| sluice_pub_cf_server_sub(rt, carrier, 0, 0));
}

#[test]
fn single_object_sluice_pub_to_cf_server_sub() {
    both("single-object", SC_PUB, |rt, carrier| sluice_pub_cf_server_sub(rt, carrier, 1, 1));
}

#[test]
fn multiple_groups_sluice_pub_to_cf_server_sub() {
    both("multiple-groups", SC_PUB, |rt, carrier| sluice_pub_cf_server_sub(rt, carrier, 4, 5));
}

// ---------------------------------------------------------------- chains through the sluice relay

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Sluice,
    Cf,
}

fn flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false))
}

fn set(f: &std::sync::atomic::AtomicBool) {
    f.store(true, std::sync::atomic::Ordering::Release);
}

fn is_set(f: &std::sync::atomic::AtomicBool) -> bool {
    f.load(std::sync::atomic::Ordering::Acquire)
}

async fn until(what: &str, f: &std::sync::atomic::AtomicBool) -> Result<(), String> {
    within(what, async {
        while !is_set(f) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok::<(), String>(())
    })
    .await
}

/// Publisher `p` and subscriber `s` through a sluice relay: the subscriber subscribes (before
/// the publisher announces when `before_announce`), and once it has SUBSCRIBE_OK the
/// publisher sends `groups` × `objects`, which the subscriber checks byte for byte.
fn relay_chain(
    rt: &tokio::runtime::Runtime,
    carrier: Carrier,
    p: Side,
    s: Side,
    groups: u64,
    objects: u64,
    before_announce: bool,
) -> Result<(), Miss> {
    let relay = relay();
    let (addr, cert) = (relay.addr, relay.cert.clone());
    let (go, done, announce_now) = (flag(), flag(), flag());
    if !before_announce {
        set(&announce_now);
    }
    let want = (groups * objects) as usize;
    let expected = media::coords(0..groups, objects);

    // The publisher.
    let publisher: Box<dyn FnOnce() -> Result<(), Miss> + Send> = match p {
        Side::Sluice => {
            let (go, done, announce_now, cert) =
                (go.clone(), done.clone(), announce_now.clone(), cert.clone());
            let h = spawn(move || {
                let mut c = sluice_connect(addr, &cert, carrier)?;
                c.pump_until("announce turn", || is_set(&announce_now))?;
                let ann =
                    c.session().announce(sluice_side::namespace()).map_err(|e| format!("announce: {e}"))?;
                c.wait("AnnounceAccepted", |e| {
                    matches!(e, Event::AnnounceAccepted { request } if *request == ann).then_some(())
                })?;
                let sub = c.wait("IncomingSubscribe", |e| match e {
                    Event::IncomingSubscribe { request, .. } => Some(*request),
                    _ => None,
                })?;
                c.session()
                    .accept_subscribe(sub, TrackInfo::default())
                    .map_err(|e| format!("accept: {e}"))?;
                c.pump_until("subscriber has SUBSCRIBE_OK", || is_set(&go))?;
                c.write_groups(sub, 0..groups, objects)?;
                c.pump_until("subscriber done", || is_set(&done))?;
                Ok(())
            });
            Box::new(move || join(h))
        }
        Side::Cf => {
            let (go, done, announce_now) = (go.clone(), done.clone(), announce_now.clone());
            let cert = rustls::pki_types::CertificateDer::from(cert.clone());
            let h = rt.spawn(async move {
                let mut client = cf::connect(addr, &cert, carrier).await.map_err(|e| e.to_string())?;
                until("announce turn", &announce_now).await?;
                let pn = client
                    .publisher
                    .publish_namespace_start(cf::namespace())
                    .await
                    .map_err(|e| e.to_string())?;
                within("PUBLISH_NAMESPACE ok", pn.ok()).await?;
                let subscribed =
                    within("relay's SUBSCRIBE", async { pn.subscribed().await?.ok_or(ServeError::Done) })
                        .await?;
                let (writer, reader) = cf::track(TRACK);
                let mut subgroups = writer.subgroups().map_err(|e| e.to_string())?;
                let serve = tokio::spawn(subscribed.serve(reader));
                until("subscriber has SUBSCRIBE_OK", &go).await?;
                cf::write_groups(&mut subgroups, 0..groups, objects);
                until("subscriber done", &done).await?;
                drop((serve, subgroups, pn, client));
                Ok::<(), String>(())
            });
            Box::new(move || {
                rt.block_on(h).map_err(|e| Miss::Fail(format!("cf publisher task: {e}")))?.map_err(Miss::Fail)
            })
        }
    };

    // The subscriber.
    let subscribe_result: Result<(), Miss> = match s {
        Side::Sluice => {
            let (go, announce_now) = (go.clone(), announce_now.clone());
            let h = spawn(move || {
                let mut c = sluice_connect(addr, &cert, carrier)?;
                let sub = c
                    .session()
                    .subscribe(sluice_side::track(TRACK), SubscribeOptions::default())
                    .map_err(|e| format!("subscribe: {e}"))?;
                c.pump(Duration::from_millis(20))?;
                set(&announce_now);
                c.wait("Subscribed", |e| match e {
                    Event::Subscribed { request, .. } if *request == sub => Some(Ok(())),
                    Event::SubscribeFailed { request, reason } if *request == sub => {
                        Some(Err(format!("subscription refused: {reason:?}")))
                    }
                    _ => None,
                })??;
                set(&go);
                let got = c.collect(sub, want)?;
                media::check(&got, &expected)?;
                Ok(())
            });
            join(h)
        }
        Side::Cf => {
            let (go, announce_now) = (go.clone(), announce_now.clone());
            let relay = &relay;
            rt.block_on(async move {
                let mut client = cf_client_of(relay, carrier).await?;
                let (writer, reader) = cf::track(TRACK);
                let start = client.subscriber.subscribe_start(writer);
                let announce_later = async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    set(&announce_now);
                };
                let (subscription, ()) = tokio::join!(start, announce_later);
                let subscription = subscription.map_err(|e| format!("subscribe: {e}"))?;
                within("SUBSCRIBE ok", subscription.ok()).await?;
                set(&go);
                let got = if want > 0 { cf::read_objects(reader, want).await? } else { Vec::new() };
                media::check(&got, &expected)?;
                drop(subscription);
                Ok(())
            })
        }
    };
    set(&done);
    set(&go);
    let publish_result = publisher();
    subscribe_result?;
    publish_result
}

macro_rules! chain_tests {
    ($($name:ident: $case:expr, $dir:expr, $p:expr, $s:expr, $g:expr, $o:expr, $before:expr;)*) => {$(
        #[test]
        fn $name() {
            both($case, $dir, |rt, carrier| relay_chain(rt, carrier, $p, $s, $g, $o, $before));
        }
    )*};
}

chain_tests! {
    announce_subscribe_cf_cf: "announce-subscribe", CF_CF, Side::Cf, Side::Cf, 0, 0, false;
    announce_subscribe_cf_sluice: "announce-subscribe", CF_SL, Side::Cf, Side::Sluice, 0, 0, false;
    announce_subscribe_sluice_cf: "announce-subscribe", SL_CF, Side::Sluice, Side::Cf, 0, 0, false;
    subscribe_before_announce_cf_cf: "subscribe-before-announce", CF_CF, Side::Cf, Side::Cf, 1, 1, true;
    subscribe_before_announce_cf_sluice: "subscribe-before-announce", CF_SL, Side::Cf, Side::Sluice, 1, 1, true;
    subscribe_before_announce_sluice_cf: "subscribe-before-announce", SL_CF, Side::Sluice, Side::Cf, 1, 1, true;
    single_object_cf_cf: "single-object", CF_CF, Side::Cf, Side::Cf, 1, 1, false;
    single_object_cf_sluice: "single-object", CF_SL, Side::Cf, Side::Sluice, 1, 1, false;
    single_object_sluice_cf: "single-object", SL_CF, Side::Sluice, Side::Cf, 1, 1, false;
    multiple_groups_cf_cf: "multiple-groups", CF_CF, Side::Cf, Side::Cf, 4, 5, false;
    multiple_groups_cf_sluice: "multiple-groups", CF_SL, Side::Cf, Side::Sluice, 4, 5, false;
    multiple_groups_sluice_cf: "multiple-groups", SL_CF, Side::Sluice, Side::Cf, 4, 5, false;
}

// ---------------------------------------------------------------- goaway

/// The peer cannot originate GOAWAY: moq-transport 0.17.0 has no API to send one; its
/// `src/session/mod.rs` only parses a received GOAWAY ("TODO(itzmanish): trigger session
/// migration").
#[test]
fn goaway_cf_server_cannot_send() {
    not_applicable(
        "goaway",
        "cf server → sluice client",
        "moq-transport 0.17.0 cannot send GOAWAY (no API; src/session/mod.rs only parses a received one)",
    );
}

/// The sluice relay sends GOAWAY (empty New Session URI: reconnect to the same place,
/// timeout 300 ms) to a cf client that has a PUBLISH_NAMESPACE open. What draft-18 §10.4
/// expects of the peer: take one GOAWAY without error, make no new requests, and close or
/// migrate its requests before the relay closes the session with GOAWAY_TIMEOUT (0x10).
/// What it does: its GOAWAY decoder (src/message/go_away.rs) reads only the New Session
/// URI, not draft-18's Timeout and Request ID fields, so the message has bytes left over
/// and the peer closes the session with a decode error ("invalid message: 16", 16 being
/// GOAWAY's type). That is recorded as a peer bug (the test fails if it changes); were it
/// fixed, the GOAWAY_TIMEOUT close would be checked instead.
#[test]
fn goaway_sluice_relay_to_cf_client() {
    both("goaway", "sluice relay → cf client", |rt, carrier| {
        let relay = relay();
        rt.block_on(async {
            let mut client = cf_client_of(&relay, carrier).await?;
            let pn =
                client.publisher.publish_namespace_start(cf::namespace()).await.map_err(|e| e.to_string())?;
            within("PUBLISH_NAMESPACE ok", pn.ok()).await?;
            wait_routed(&relay, true)?;
            let (sent_tx, sent_rx) = std::sync::mpsc::channel();
            relay.command(move |node| {
                let sent: Vec<_> = node
                    .endpoint
                    .connections()
                    .map(|c| c.session().goaway(bytes::Bytes::new(), Duration::from_millis(300)).is_ok())
                    .collect();
                let _ = sent_tx.send(sent);
            });
            let sent = tokio::task::spawn_blocking(move || sent_rx.recv_timeout(cf::STEP))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("relay command: {e}"))?;
            if sent != [true] {
                return Err(Miss::Fail(format!("GOAWAY sent per connection: {sent:?}")));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            if client.run.is_finished() {
                return match client.run.await {
                    Ok(Err(e)) if e.contains("invalid message: 16") => Err(Miss::PeerBug(
                        "the peer cannot decode a draft-18 GOAWAY (it reads the New Session URI only, not \
                         Timeout and Request ID, draft-18 §10.4) and closes the session on it"
                            .into(),
                    )),
                    other => Err(Miss::Fail(format!("peer ended its session on GOAWAY: {other:?}"))),
                };
            }
            let ended = within("session end after the GOAWAY timeout", async {
                (&mut client.run).await.map_err(|e| e.to_string())
            })
            .await?;
            match ended {
                Err(e) if e.contains("16") || e.contains("0x10") || e.to_lowercase().contains("goaway") => {
                    Ok(())
                }
                other => {
                    Err(Miss::Fail(format!("session ended with {other:?}, expected GOAWAY_TIMEOUT (0x10)")))
                }
            }
        })
    });
}

// ---------------------------------------------------------------- publish-track (draft-18 PUBLISH)

/// Why the peer refuses sluice's PUBLISH, by draft-18.
const PUBLISH_REFUSED: &str = "the peer refuses every PUBLISH carrying a Track Property other than \
     DEFAULT_PUBLISHER_PRIORITY/DYNAMIC_GROUPS (REQUEST_ERROR NOT_SUPPORTED \"track extensions not \
     supported\", src/session/subscriber.rs recv_publish); sluice's carries DEFAULT_PUBLISHER_GROUP_ORDER \
     (0x22), a draft-18 Track Property (§12.5). Only an unknown Mandatory Track Property \
     (0x4000-0x7FFF) may make a subscriber refuse a PUBLISH, and then with UNSUPPORTED_EXTENSION \
     (draft-18 §2.5.1); other properties are processed or ignored (§2.5, §15.8)";

/// sluice PUBLISHes the track to the cf server. If the peer accepts (REQUEST_OK, forward),
/// `groups` × `objects` flow and the peer checks them byte for byte; today it refuses
/// (see [`PUBLISH_REFUSED`]), which the test asserts: sluice sees the refusal
/// (`PublishRefused` with NOT_SUPPORTED) and the peer's application is never offered the track.
fn sluice_publish_to_cf_server(
    rt: &tokio::runtime::Runtime,
    carrier: Carrier,
    groups: u64,
    objects: u64,
) -> Result<(), Miss> {
    let server = rt.block_on(async { CfServer::start(carrier) }).map_err(|e| Miss::Fail(e.to_string()))?;
    let (cert, addr) = (server.cert.to_vec(), server.addr);
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let sl = spawn(move || {
        let mut c = sluice_connect(addr, &cert, carrier)?;
        let publish = c
            .session()
            .publish(sluice_side::track(TRACK), TrackInfo::default())
            .map_err(|e| format!("publish: {e}"))?;
        let accepted = c.wait("PublishAccepted or the refusal", |e| match e {
            Event::PublishAccepted { request, options } if *request == publish => Some(options.forward),
            // NOT_SUPPORTED (0x3), the peer's answer described in PUBLISH_REFUSED.
            Event::PublishRefused { request, reason } if *request == publish && reason.code == 0x3 => {
                Some(false)
            }
            _ => None,
        })?;
        if accepted {
            c.write_groups(publish, 0..groups, objects)?;
        }
        c.pump_until("peer done", || done_rx.try_recv().is_ok())?;
        Ok(accepted)
    });
    let peer = rt.block_on(async {
        let mut s = server.accepted().await?;
        let received = tokio::time::timeout(Duration::from_millis(500), async {
            s.subscriber.publish_received().await.ok_or("session ended")
        })
        .await;
        let mut received = match received {
            Err(_) => return Ok::<_, String>(None),
            Ok(r) => r?,
        };
        if received.namespace() != &cf::namespace() || received.name().to_string() != TRACK {
            return Err(format!("peer saw PUBLISH of {}/{}", received.namespace(), received.name()));
        }
        let reader = received.ok(true).map_err(|e| format!("accept PUBLISH: {e}"))?;
        let want = (groups * objects) as usize;
        let got = if want > 0 { cf::read_objects(reader, want).await? } else { Vec::new() };
        media::check(&got, &media::coords(0..groups, objects))?;
        Ok(Some((s, received)))
    });
    let _ = done_tx.send(());
    let accepted = join(sl)?;
    match (peer.map_err(Miss::Fail)?, accepted) {
        (Some(_), true) => Ok(()),
        (None, false) => Err(Miss::PeerBug(PUBLISH_REFUSED.into())),
        (Some(_), false) => Err(Miss::Fail("the peer took the PUBLISH but sluice saw a refusal".into())),
        (None, true) => Err(Miss::Fail("sluice saw PUBLISH_OK but the peer offered no track".into())),
    }
}

#[test]
fn publish_track_only_sluice_client_to_cf_server() {
    both("publish-track-only", SC_PUB, |rt, carrier| sluice_publish_to_cf_server(rt, carrier, 0, 0));
}

#[test]
fn publish_track_subscribe_sluice_client_to_cf_server() {
    both("publish-track-subscribe", SC_PUB, |rt, carrier| sluice_publish_to_cf_server(rt, carrier, 3, 4));
}

/// The PUBLISH sluice's session writes, decoded by the peer's own decoder: the encodings
/// agree (namespace, name, alias, FORWARD parameter); its Track Properties are
/// DEFAULT_PUBLISHER_PRIORITY 128 and DEFAULT_PUBLISHER_GROUP_ORDER Ascending, the second of
/// which the peer refuses (see [`PUBLISH_REFUSED`]).
#[test]
fn sluice_publish_bytes_decode_with_the_peer_decoder() {
    use moq_transport::coding::Decode;
    let mut session =
        sluice::Session::new(sluice::Config::default(), sluice::Role::Client, sluice::Time::ZERO);
    session.handle(sluice::Time::ZERO, sluice::Input::Connected { version: sluice_side::DRAFT18 });
    session.publish(sluice_side::track(TRACK), TrackInfo::default()).unwrap();
    let mut bidi = None;
    let mut bytes = Vec::new();
    while let Some(output) = session.poll() {
        match output {
            sluice::Output::OpenStream { stream, bidi: true, .. } => bidi = Some(stream),
            sluice::Output::Write { stream, header, payload, .. } if Some(stream) == bidi => {
                bytes.extend_from_slice(&header);
                bytes.extend_from_slice(&payload);
            }
            _ => {}
        }
    }
    // Type 0x1D (PUBLISH), a 16-bit length, the body (draft-18 §10.10).
    assert_eq!(bytes.first(), Some(&0x1d), "PUBLISH type");
    let len = u16::from_be_bytes([bytes[1], bytes[2]]) as usize;
    assert_eq!(bytes.len(), 3 + len, "one whole message");
    let mut body = &bytes[3..];
    let publish = moq_transport::message::Publish::decode(&mut body).expect("the peer decodes it");
    assert!(body.is_empty(), "the peer consumed the whole body");
    assert_eq!(publish.track_namespace, cf::namespace());
    assert_eq!(publish.track_name.to_string(), TRACK);
    assert_eq!(publish.params.forward().unwrap(), Some(true));
    let keys: Vec<u64> = publish.track_extensions.0.iter().map(|kv| kv.key).collect();
    assert_eq!(keys, vec![0x0e, 0x22], "DEFAULT_PUBLISHER_PRIORITY, DEFAULT_PUBLISHER_GROUP_ORDER");
    assert_eq!(publish.track_extensions.default_publisher_priority().unwrap(), Some(128));
}

/// A cf client PUBLISHes to the sluice relay; returns the relay's answer (Ok = accepted).
async fn cf_publish_to_relay(relay: &SluiceRelay, carrier: Carrier) -> Result<Result<(), String>, Miss> {
    let mut client = cf_client_of(relay, carrier).await?;
    let (_writer, reader) = cf::track(TRACK);
    let mut published = client
        .publisher
        .publish(reader, Default::default())
        .await
        .map_err(|e| Miss::Fail(format!("publish: {e}")))?;
    match tokio::time::timeout(cf::STEP, published.ok()).await {
        Ok(answer) => Ok(answer.map_err(|e| e.to_string())),
        Err(_) => Err(Miss::Fail("the relay did not answer the PUBLISH".into())),
    }
}

#[test]
fn publish_track_only_cf_client_through_sluice_relay() {
    both("publish-track-only", CF_RELAY, |rt, carrier| {
        let relay = relay();
        rt.block_on(cf_publish_to_relay(&relay, carrier))?.map_err(Miss::Fail)
    });
}

#[test]
fn publish_track_subscribe_cf_pub_through_sluice_relay_to_sluice_sub() {
    both("publish-track-subscribe", CF_SL, |rt, carrier| {
        let relay = relay();
        let (addr, cert) = (relay.addr, relay.cert.clone());
        let certificate = rustls::pki_types::CertificateDer::from(cert.clone());
        let publisher = rt.spawn(async move {
            let mut client = cf::connect(addr, &certificate, carrier).await.map_err(|e| e.to_string())?;
            let (writer, reader) = cf::track(TRACK);
            let mut published =
                client.publisher.publish(reader, Default::default()).await.map_err(|e| e.to_string())?;
            within("PUBLISH ok", published.ok()).await?;
            let mut subgroups = writer.subgroups().map_err(|e| e.to_string())?;
            let serve = tokio::spawn(published.serve());
            tokio::time::sleep(Duration::from_millis(300)).await;
            cf::write_groups(&mut subgroups, 0..3, 4);
            tokio::time::sleep(Duration::from_secs(2)).await;
            drop((serve, subgroups, client));
            Ok::<(), String>(())
        });
        let mut c = sluice_connect(addr, &cert, carrier)?;
        let sub = c
            .session()
            .subscribe(sluice_side::track(TRACK), SubscribeOptions::default())
            .map_err(|e| format!("subscribe: {e}"))?;
        let got = c.collect(sub, 12)?;
        media::check(&got, &media::coords(0..3, 4))?;
        rt.block_on(publisher).map_err(|e| Miss::Fail(e.to_string()))?.map_err(Miss::Fail)
    });
}

// ---------------------------------------------------------------- late-subscriber, fetch (through the sluice relay)

/// Objects per group in the late-subscriber and fetch cases.
const LATE_OBJECTS: u64 = 3;
/// The standalone fetches: (start, End Location) as on the wire.
const STANDALONE_RANGES: [((u64, u64), (u64, u64)); 2] = [((0, 1), (1, 0)), ((0, 0), (1, 2))];

/// What the second subscriber of [`cf_pub_then_late`] does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Late {
    /// Subscribes (filter Largest Object) after groups 0..2 went out; must get exactly
    /// groups 2..4, written after its SUBSCRIBE_OK (draft-18 §5.1.2).
    Subscribe,
    /// Two Standalone FETCHes of what the relay holds (groups 0..2): from (0,1) to End
    /// Location (1,0), object 0 meaning group 1 whole, then from (0,0) to End Location
    /// (1,2), the last object plus one (draft-18 §10.12.1).
    Standalone,
    /// Subscribes as `Subscribe`, then a Relative Joining FETCH (Joining Start 1): groups 0
    /// and 1 whole, ending at the Joining Location (1, 2) included (draft-18 §10.12.2.1).
    Joining,
}

/// (group, object) locations, in order.
type Coords = Vec<(u64, u64)>;

/// What the late side must receive (subscription objects, fetch objects).
fn late_expected(late: Late) -> (Coords, Coords) {
    let live = media::coords(2..4, LATE_OBJECTS);
    match late {
        Late::Subscribe => (live, Vec::new()),
        Late::Standalone => {
            // End (1, 0): group 1 whole; then End (1, 2): up to object (1, 1).
            let mut f = media::coords(0..2, LATE_OBJECTS)[1..].to_vec();
            f.extend_from_slice(&media::coords(0..2, LATE_OBJECTS)[..5]);
            (Vec::new(), f)
        }
        Late::Joining => (live, media::coords(0..2, LATE_OBJECTS)),
    }
}

/// Checks fetched objects: exactly `expected`, in order (a fetch is one stream, draft-18
/// §11.4.4), byte for byte.
fn check_fetched(got: &[(u64, u64, bytes::Bytes)], expected: &[(u64, u64)]) -> Result<(), String> {
    let coords: Vec<(u64, u64)> = got.iter().map(|(g, o, _)| (*g, *o)).collect();
    if coords != expected {
        return Err(format!("fetch returned {coords:?}, expected {expected:?}"));
    }
    match got.iter().find(|(g, o, p)| p[..] != media::payload(*g, *o)[..]) {
        Some((g, o, _)) => Err(format!("fetched payload of ({g}, {o}) differs")),
        None => Ok(()),
    }
}

/// A cf publisher announces to the sluice relay; a first cf subscriber gets groups 0..2
/// (so the relay has them); then the `late` side (a cf or sluice client) subscribes
/// and/or fetches, and the publisher writes groups 2..4.
fn cf_pub_then_late(rt: &tokio::runtime::Runtime, carrier: Carrier, s: Side, late: Late) -> Result<(), Miss> {
    let relay = relay();
    let (addr, cert) = (relay.addr, relay.cert.clone());
    let (late_ready, late_go) = (flag(), flag());
    let (want_live, want_fetch) = late_expected(late);
    // The sluice late side, on its thread.
    let sluice_late = (s == Side::Sluice).then(|| {
        let (late_ready, late_go, cert) = (late_ready.clone(), late_go.clone(), cert.clone());
        let (want_live, want_fetch) = (want_live.clone(), want_fetch.clone());
        spawn(move || {
            let mut c = sluice_connect(addr, &cert, carrier)?;
            c.pump_until("early groups delivered", || is_set(&late_go))?;
            let track = sluice_side::track(TRACK);
            let (sub, fetch) = match late {
                Late::Standalone => {
                    let mut got = Vec::new();
                    for (start, end) in STANDALONE_RANGES {
                        let start = sluice::Location { group: start.0, object: start.1 };
                        let end = sluice::Location { group: end.0, object: end.1 };
                        let f = c
                            .session()
                            .fetch(track.clone(), start, end, 128)
                            .map_err(|e| format!("fetch: {e}"))?;
                        got.extend(c.collect_fetch(f)?);
                    }
                    check_fetched(&got, &want_fetch)?;
                    (None, None)
                }
                Late::Subscribe | Late::Joining => {
                    let sub = c
                        .session()
                        .subscribe(track, SubscribeOptions::default())
                        .map_err(|e| format!("subscribe: {e}"))?;
                    c.wait("Subscribed", |e| match e {
                        Event::Subscribed { request, .. } if *request == sub => Some(Ok(())),
                        Event::SubscribeFailed { request, reason } if *request == sub => {
                            Some(Err(format!("refused: {reason:?}")))
                        }
                        _ => None,
                    })??;
                    let fetch = (late == Late::Joining)
                        .then(|| c.session().joining_fetch(sub, sluice::JoinStart::Relative(1), 128))
                        .transpose()
                        .map_err(|e| format!("joining fetch: {e}"))?;
                    (Some(sub), fetch)
                }
            };
            if let Some(f) = fetch {
                let got = c.collect_fetch(f)?;
                check_fetched(&got, &want_fetch)?;
            }
            set(&late_ready);
            if let Some(sub) = sub {
                let got = c.collect(sub, want_live.len())?;
                media::check(&got, &want_live)?;
            }
            Ok(())
        })
    });
    let certificate = rustls::pki_types::CertificateDer::from(cert.clone());
    let relay_ref = &relay;
    let (late_ready_cf, late_go_cf) = (late_ready.clone(), late_go.clone());
    let (late_ready, late_go) = (late_ready_cf.clone(), late_go_cf);
    let cf_result = rt.block_on(async move {
        let mut publisher = cf::connect(addr, &certificate, carrier).await.map_err(|e| e.to_string())?;
        let pn =
            publisher.publisher.publish_namespace_start(cf::namespace()).await.map_err(|e| e.to_string())?;
        within("PUBLISH_NAMESPACE ok", pn.ok()).await?;
        wait_routed(relay_ref, true)?;
        let mut first = cf_client_of(relay_ref, carrier).await?;
        let (writer, reader) = cf::track(TRACK);
        let start = first.subscriber.subscribe_start(writer);
        let served = async {
            let subscribed = pn.subscribed().await?.ok_or(ServeError::Done)?;
            Ok::<_, ServeError>(subscribed)
        };
        let (first_sub, subscribed) = tokio::join!(start, within("relay's SUBSCRIBE", served));
        let first_sub = first_sub.map_err(|e| format!("first subscribe: {e}"))?;
        let (pub_writer, pub_reader) = cf::track(TRACK);
        let mut subgroups = pub_writer.subgroups().map_err(|e| e.to_string())?;
        let serve = tokio::spawn(subscribed?.serve(pub_reader));
        within("first SUBSCRIBE ok", first_sub.ok()).await?;
        cf::write_groups(&mut subgroups, 0..2, LATE_OBJECTS);
        let early = cf::read_objects(reader, (2 * LATE_OBJECTS) as usize).await?;
        media::check(&early, &media::coords(0..2, LATE_OBJECTS))?;
        set(&late_go);
        // The late side.
        let mut late_client = None;
        if s == Side::Cf {
            let mut client = cf_client_of(relay_ref, carrier).await?;
            let mut late_sub = None;
            if late != Late::Standalone {
                let (w, r) = cf::track(TRACK);
                // Largest Object, asked for explicitly: moq-transport's plain subscribe sends no
                // filter, which draft-18 §SUBSCRIPTION_FILTER reads as unfiltered ({0, 0}).
                let mut params = moq_transport::coding::KeyValuePairs::default();
                params
                    .set_subscription_filter(&moq_transport::message::SubscriptionFilter::largest_object())
                    .map_err(|e| e.to_string())?;
                let open = client.subscriber.subscribe_open_with_params(w, params);
                let sub = within("late SUBSCRIBE ok", open).await?;
                late_sub = Some((sub, r));
            }
            let mut fetches = Vec::new();
            match late {
                Late::Subscribe => {}
                Late::Standalone => {
                    for (start, end) in STANDALONE_RANGES {
                        let range = moq_transport::message::StandaloneFetch {
                            track_namespace: cf::namespace(),
                            track_name: moq_transport::coding::TrackName::from(TRACK),
                            start_location: cf::location(start.0, start.1),
                            end_location: cf::location(end.0, end.1),
                        };
                        fetches.push(client.subscriber.fetch(range, Default::default()).await);
                    }
                }
                Late::Joining => {
                    let id = late_sub.as_ref().map(|(s, _)| s.id).unwrap_or_default();
                    let relative = moq_transport::message::FetchType::RelativeJoining;
                    fetches.push(client.subscriber.joining_fetch(relative, id, 1, Default::default()).await);
                }
            }
            let mut got = Vec::new();
            for fetch in fetches {
                let mut fetch = fetch.map_err(|e| format!("fetch: {e}"))?;
                within("FETCH_OK", fetch.ok()).await?;
                got.extend(cf::read_fetch(&mut fetch).await?);
            }
            check_fetched(&got, &want_fetch)?;
            late_client = Some((client, late_sub));
        } else {
            until("sluice late side ready", &late_ready).await?;
        }
        cf::write_groups(&mut subgroups, 2..4, LATE_OBJECTS);
        if let Some((_, Some((_sub, r)))) = late_client {
            let got = cf::read_objects(r, want_live.len()).await?;
            media::check(&got, &want_live)?;
        }
        drop((serve, subgroups, first_sub, first, pn, publisher));
        Ok::<(), Miss>(())
    });
    set(&late_ready_cf);
    // The sluice side's own failure explains a cf-side timeout waiting for it.
    sluice_late.map(join).transpose()?;
    cf_result
}

macro_rules! late_tests {
    ($($name:ident: $case:expr, $dir:expr, $s:expr, $late:expr;)*) => {$(
        #[test]
        fn $name() {
            both($case, $dir, |rt, carrier| cf_pub_then_late(rt, carrier, $s, $late));
        }
    )*};
}

late_tests! {
    late_subscriber_cf_cf: "late-subscriber", CF_CF, Side::Cf, Late::Subscribe;
    late_subscriber_cf_sluice: "late-subscriber", CF_SL, Side::Sluice, Late::Subscribe;
    fetch_standalone_cf_cf: "fetch (standalone)", CF_CF, Side::Cf, Late::Standalone;
    fetch_standalone_cf_sluice: "fetch (standalone)", CF_SL, Side::Sluice, Late::Standalone;
    fetch_joining_cf_cf: "fetch (joining)", CF_CF, Side::Cf, Late::Joining;
    fetch_joining_cf_sluice: "fetch (joining)", CF_SL, Side::Sluice, Late::Joining;
}
