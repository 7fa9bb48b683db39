//! The subscribers: `n` client connections spread over a few threads (each thread one UDP
//! socket carrying several connections), each subscribing to the track, re-subscribing
//! after a refusal (moq-relay refuses a track whose broadcast it does not know yet), and,
//! while measuring, counting the payload bytes it receives and each object's publish →
//! receive latency.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sluice::{Event, RequestHandle, SubscribeOptions, Version};
use sluice_quinn::quinn_proto::ConnectionHandle;

use crate::load::{Flags, client_endpoint, now_us, sent_us, track};

/// Wait before re-subscribing after a refusal or an end.
const RETRY: Duration = Duration::from_millis(100);

/// What one thread's subscribers received while measuring.
#[derive(Debug, Default)]
pub struct Received {
    pub objects: u64,
    pub bytes: u64,
    /// Publish → receive latency of each object, in microseconds.
    pub latencies_us: Vec<u32>,
    /// With `RELAY_COMPARE_DUMP` set: (sequence number, send time, latency) of each object,
    /// for a latency breakdown by object index or over time.
    pub samples: Vec<(u64, u64, u32)>,
}

#[derive(Debug)]
struct Sub {
    conn: ConnectionHandle,
    request: Option<RequestHandle>,
    subscribed: bool,
    retry_at: Option<Instant>,
}

/// Options every subscriber uses: the latest group on, and a generous max latency, since
/// moq-lite's 0 means "drop a group as soon as a newer one exists" (lite-04 §Expiration).
fn options() -> SubscribeOptions {
    SubscribeOptions { max_latency_ms: 10_000, ..SubscribeOptions::default() }
}

/// Runs `count` subscribers on the calling thread until `flags.stop`; `subscribed` counts
/// the subscriptions currently accepted.
pub fn run(
    relay: SocketAddr,
    version: Version,
    count: usize,
    flags: Arc<Flags>,
    subscribed: Arc<AtomicUsize>,
) -> Result<Received, String> {
    let mut endpoint = client_endpoint(version)?;
    let mut subs = Vec::with_capacity(count);
    for _ in 0..count {
        let conn = endpoint.connect(relay, "localhost").map_err(|e| format!("connect: {e}"))?;
        subs.push(Sub { conn, request: None, subscribed: false, retry_at: Some(Instant::now()) });
    }
    let mut got = Received::default();
    let dump = std::env::var_os("RELAY_COMPARE_DUMP").is_some();
    let mut ready = vec![false; count];
    while !flags.stop.load(Ordering::Acquire) {
        endpoint.step(Duration::from_millis(5)).map_err(|e| format!("subscriber: {e}"))?;
        let measuring = flags.measuring.load(Ordering::Acquire);
        let now = Instant::now();
        for (i, s) in subs.iter_mut().enumerate() {
            let c = endpoint.connection(s.conn).ok_or("a subscriber connection closed")?;
            for event in c.take_events() {
                match event {
                    Event::Ready { .. } => ready[i] = true,
                    Event::Subscribed { request, .. } if Some(request) == s.request && !s.subscribed => {
                        s.subscribed = true;
                        subscribed.fetch_add(1, Ordering::AcqRel);
                    }
                    Event::SubscribeFailed { request, .. } | Event::SubscriptionEnded { request, .. }
                        if Some(request) == s.request =>
                    {
                        if s.subscribed {
                            subscribed.fetch_sub(1, Ordering::AcqRel);
                        }
                        s.subscribed = false;
                        s.request = None;
                        s.retry_at = Some(now + RETRY);
                    }
                    Event::Object { request, payload, .. } if Some(request) == s.request && measuring => {
                        got.objects += 1;
                        got.bytes += payload.len() as u64;
                        let first = match payload.chunks().first() {
                            Some(b) if b.len() >= crate::load::HEADER_LEN => b.clone(),
                            _ => payload.to_bytes(),
                        };
                        if let Some(sent) = sent_us(&first) {
                            let latency = now_us().saturating_sub(sent).min(u32::MAX as u64) as u32;
                            got.latencies_us.push(latency);
                            if dump {
                                let seq =
                                    first.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes);
                                got.samples.push((seq.unwrap_or_default(), sent, latency));
                            }
                        }
                    }
                    _ => {}
                }
            }
            if ready[i] && s.request.is_none() && s.retry_at.is_some_and(|t| t <= now) {
                s.retry_at = None;
                s.request = Some(c.session().subscribe(track(), options()).map_err(|e| e.to_string())?);
            }
        }
    }
    for s in &subs {
        if let Some(c) = endpoint.connection(s.conn) {
            c.session().close(0, "done");
        }
    }
    let _ = endpoint.step(Duration::from_millis(1));
    Ok(got)
}
