//! The publisher: one connection that announces the namespace, accepts every SUBSCRIBE the
//! relay forwards for the track, and once told to go writes objects at a fixed rate,
//! `group` objects to a group, each group on its own subgroup (lite: group) stream.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sluice::{Event, ObjectWrite, RequestHandle, StreamId, TrackInfo, Version};

use crate::load::{Flags, client_endpoint, namespace, now_us, payload, track};

/// The publisher's parameters.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub version: Version,
    /// Objects per second.
    pub rate: f64,
    /// Payload bytes per object.
    pub size: usize,
    /// Objects per group.
    pub group: u64,
}

/// What the publisher did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sent {
    pub objects: u64,
    /// Upstream subscriptions the relay opened.
    pub subscriptions: u64,
}

/// One upstream subscription being served, with its open stream in the current group.
#[derive(Debug)]
struct Serving {
    request: RequestHandle,
    stream: Option<StreamId>,
}

/// Runs the publisher on the calling thread until `flags.stop`; `announced` is sent once
/// the relay accepted the namespace.
pub fn run(
    relay: SocketAddr,
    p: Params,
    flags: Arc<Flags>,
    announced: mpsc::Sender<Result<(), String>>,
) -> Result<Sent, String> {
    let mut endpoint = client_endpoint(p.version)?;
    let conn = endpoint.connect(relay, "localhost").map_err(|e| format!("connect: {e}"))?;
    let lite = matches!(p.version, Version::Lite(_));
    let mut ready = false;
    let mut announce = None;
    let mut serving: Vec<Serving> = Vec::new();
    let mut sent = Sent::default();
    let period = Duration::from_secs_f64(1.0 / p.rate);
    let mut next_due: Option<Instant> = None;
    let mut announced = Some(announced);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !flags.stop.load(Ordering::Acquire) {
        let now = Instant::now();
        let wait = next_due.map_or(Duration::from_millis(5), |d| d.saturating_duration_since(now));
        endpoint.step(wait.min(Duration::from_millis(5))).map_err(|e| format!("publisher: {e}"))?;
        let c = endpoint.connection(conn).ok_or("publisher connection closed")?;
        for event in c.take_events() {
            match event {
                Event::Ready { .. } => ready = true,
                Event::AnnounceAccepted { request } if Some(request) == announce => {
                    if let Some(tx) = announced.take() {
                        let _ = tx.send(Ok(()));
                    }
                }
                Event::IncomingSubscribe { request, track: t, .. } if t == track() => {
                    c.session().accept_subscribe(request, TrackInfo::default()).map_err(|e| e.to_string())?;
                    serving.push(Serving { request, stream: None });
                    sent.subscriptions += 1;
                }
                Event::SubscriberGone { request, .. } => {
                    serving.retain(|s| s.request != request);
                }
                _ => {}
            }
        }
        if ready && announce.is_none() {
            announce = Some(c.session().announce(namespace()).map_err(|e| e.to_string())?);
        }
        if announced.is_some() && Instant::now() > deadline {
            return Err("the relay did not accept the announce".into());
        }
        if !flags.go.load(Ordering::Acquire) {
            continue;
        }
        let due = *next_due.get_or_insert_with(Instant::now);
        let mut due = due;
        // Every object that is due now (a late wake-up catches up at once).
        while due <= Instant::now() {
            let seq = sent.objects;
            let (group, object) = (seq / p.group, seq % p.group);
            let data = payload(seq, now_us(), p.size);
            let session = c.session();
            for s in &mut serving {
                let stream = match s.stream {
                    Some(st) if object > 0 => st,
                    _ if object > 0 => continue, // joined mid-group: wait for the next one
                    _ => {
                        let st =
                            session.open_subgroup(s.request, group, 0, None).map_err(|e| e.to_string())?;
                        s.stream = Some(st);
                        st
                    }
                };
                let write =
                    ObjectWrite { timestamp: lite.then_some(seq), ..ObjectWrite::new(object, data.clone()) };
                session.write_object(stream, write).map_err(|e| format!("write {group}/{object}: {e}"))?;
                if object + 1 == p.group {
                    session.close_subgroup(stream, true).map_err(|e| e.to_string())?;
                    s.stream = None;
                }
            }
            sent.objects += 1;
            due += period;
        }
        next_due = Some(due);
    }
    if let Some(c) = endpoint.connection(conn) {
        c.session().close(0, "done");
    }
    let _ = endpoint.step(Duration::from_millis(1));
    Ok(sent)
}
