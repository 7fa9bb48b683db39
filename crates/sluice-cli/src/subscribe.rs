//! `sluice subscribe`: one MoQ track through a relay → stdout.
//!
//! Payloads are written in (group, object) order, each once ([`crate::reorder`] says exactly
//! what is guaranteed). The process exits 0 when the track ends gracefully (MOQT
//! PUBLISH_DONE TRACK_ENDED or SUBSCRIPTION_ENDED, lite: the subscribe stream's FIN) and non-zero when it
//! cannot subscribe for `--retry-for` seconds in a row.
//!
//! A refused subscription (e.g. nobody announced the namespace yet: the relay's wait ran
//! out) or one that ended with an error (the publisher's session went away) is retried
//! every [`RETRY`]; a session the relay closes without GOAWAY is reopened to the same URL.
//!
//! GOAWAY (draft-18 §3.5 and "Graceful Subscriber Relay Switchover"; lite-04/05 §Goaway):
//! a new session is opened to the GOAWAY URI (else the same URL) and the track subscribed
//! there, while the old subscription goes on. Both feed the same reorder buffer, so
//! whatever both deliver is written once. As soon as the two overlap — the new
//! subscription delivers an object the old one already delivered — the old session is
//! closed with NO_ERROR: from then on the new subscription alone continues the output,
//! and since it is contiguous from its first object and that object was at or before the
//! old one's last, nothing is skipped. If the old session is closed before they overlap
//! (the relay's GOAWAY timeout), the output continues from the new subscription and a
//! jump, if there is one, is counted as a gap in the final line.

use std::io::Write;
use std::time::{Duration, Instant};

use sluice::{Event, GroupOrder, ObjectStatus, RequestHandle, SubscribeOptions, TrackName, Version};
use sluice_quinn::ServerVerification;
use sluice_relay::codes::{self, Family};

use crate::client::{ClientArgs, ConnectError, Link, VersionOffer};
use crate::publish::namespace;
use crate::reorder::{Offer, Reorder};
use crate::vlog;

/// Wait before re-subscribing after a refusal.
pub const RETRY: Duration = Duration::from_millis(100);
/// Longest socket wait of the loop.
const WAIT: Duration = Duration::from_millis(5);
/// Bytes the reorder buffer may hold before it writes past a hole.
const MAX_HELD: usize = 64 << 20;

/// `sluice subscribe` options.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The track's namespace, fields separated by `/`.
    #[arg(long)]
    pub namespace: String,
    /// The track name.
    #[arg(long)]
    pub track: String,
    /// Give up after this many seconds in a row without a live subscription.
    #[arg(long, default_value_t = 10.0)]
    pub retry_for: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Pending,
    Subscribed,
}

#[derive(Debug)]
struct SubLink {
    id: u64,
    link: Link,
    ready: bool,
    request: Option<RequestHandle>,
    state: State,
    retry_at: Option<Instant>,
}

/// What a finished subscription received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Objects written to the output.
    pub objects: u64,
    /// Payload bytes written.
    pub bytes: u64,
    /// Jumps over objects that never arrived.
    pub gaps: u64,
    /// Sessions opened after GOAWAY or loss.
    pub reconnects: u64,
}

/// The subscriber. See the module docs.
#[derive(Debug)]
pub struct Subscriber<W: Write> {
    args: Args,
    versions: VersionOffer,
    verification: ServerVerification,
    track: TrackName,
    links: Vec<SubLink>,
    next_link: u64,
    reorder: Reorder,
    out: W,
    totals: Totals,
    started: Instant,
    /// Since when no subscription has been live.
    unsubscribed_since: Option<Instant>,
}

/// Runs `sluice subscribe` to stdout.
pub fn run(args: Args) -> Result<(), ConnectError> {
    let stdout = std::io::stdout().lock();
    let mut subscriber = Subscriber::new(args, std::io::BufWriter::with_capacity(1 << 16, stdout))?;
    let totals = subscriber.run().map_err(ConnectError::Other)?;
    eprintln!(
        "received {} objects ({} bytes), {} gap(s), {} reconnect(s)",
        totals.objects, totals.bytes, totals.gaps, totals.reconnects
    );
    Ok(())
}

impl<W: Write> Subscriber<W> {
    /// Connects; payloads will go to `out`.
    pub fn new(args: Args, out: W) -> Result<Subscriber<W>, ConnectError> {
        let versions = args.client.offer();
        let verification = args.client.verification().map_err(ConnectError::Other)?;
        let link = Link::connect(&args.client.url, &versions, verification.clone())?;
        let track = TrackName::new(namespace(&args.namespace), &args.track);
        let now = Instant::now();
        Ok(Subscriber {
            args,
            versions,
            verification,
            track,
            links: vec![SubLink {
                id: 0,
                link,
                ready: false,
                request: None,
                state: State::Idle,
                retry_at: None,
            }],
            next_link: 1,
            reorder: Reorder::new(MAX_HELD),
            out,
            totals: Totals { objects: 0, bytes: 0, gaps: 0, reconnects: 0 },
            started: now,
            unsubscribed_since: Some(now),
        })
    }

    /// Runs until the track ends (Ok) or subscribing fails for too long (Err).
    pub fn run(&mut self) -> Result<Totals, String> {
        let mut next_report = self.started + Duration::from_secs(2);
        loop {
            let now = Instant::now();
            let ended = self.handle_events(now)?;
            self.write_ready(ended)?;
            if ended {
                self.close_all();
                self.totals.gaps = self.reorder.gaps;
                return Ok(self.totals);
            }
            self.subscribe_when_due(now);
            let live = self.links.iter().any(|l| l.state == State::Subscribed);
            match (live, self.unsubscribed_since) {
                (true, _) => self.unsubscribed_since = None,
                (false, None) => self.unsubscribed_since = Some(now),
                (false, Some(since)) if now.duration_since(since).as_secs_f64() > self.args.retry_for => {
                    return Err(format!(
                        "no subscription to {} for {} s",
                        self.args.track, self.args.retry_for
                    ));
                }
                (false, Some(_)) => {}
            }
            if now >= next_report {
                next_report += Duration::from_secs(2);
                eprintln!(
                    "subscribe: {} objects ({} bytes), {:.0} s",
                    self.totals.objects,
                    self.totals.bytes,
                    now.duration_since(self.started).as_secs_f64()
                );
            }
            let wait = if self.links.len() == 1 { WAIT } else { Duration::from_millis(1) };
            for l in &mut self.links {
                l.link.step(wait)?;
            }
            self.links.retain_mut(|l| !(l.link.closing && l.link.is_gone()));
        }
    }

    /// Handles every session's events; true when the track ended.
    fn handle_events(&mut self, now: Instant) -> Result<bool, String> {
        let mut events = Vec::new();
        for l in &mut self.links {
            if let Some(conn) = l.link.connection() {
                events.extend(conn.take_events().into_iter().map(|e| (l.id, e)));
            }
        }
        let mut ended = false;
        for (id, event) in events {
            ended |= self.on_event(now, id, event)?;
        }
        Ok(ended)
    }

    fn link(&mut self, id: u64) -> Option<&mut SubLink> {
        self.links.iter_mut().find(|l| l.id == id)
    }

    fn on_event(&mut self, now: Instant, id: u64, event: Event) -> Result<bool, String> {
        let newest = self.links.iter().filter(|l| !l.link.going_away).map(|l| l.id).max();
        let Some(l) = self.link(id) else { return Ok(false) };
        let mine = l.request;
        let ours = |request: RequestHandle| mine == Some(request);
        match event {
            Event::Ready { version, .. } => {
                vlog!("session {id} ready: {}", version.alpn());
                l.ready = true;
            }
            Event::Subscribed { request, info } if ours(request) => {
                vlog!("session {id}: subscribed");
                l.state = State::Subscribed;
                // moq-lite's SUBSCRIBE_OK carries the resolved start group (given as the
                // largest location); MOQT's largest is where the track stands, not a start.
                let version = l.link.connection().and_then(|c| c.session().version());
                let lite = matches!(version, Some(Version::Lite(_)));
                if let (true, Some(start)) = (lite, info.largest) {
                    self.reorder.start_at(start.group);
                }
            }
            Event::SubscribeFailed { request, reason } if ours(request) => {
                vlog!("session {id}: subscribe refused ({} {}), retrying", reason.code, reason.text);
                l.state = State::Idle;
                l.request = None;
                l.retry_at = Some(now + RETRY);
            }
            Event::SubscriptionEnded { request, reason } if ours(request) => {
                let family = match l.link.connection().and_then(|c| c.version()) {
                    Some(sluice::Version::Lite(_)) => Family::Lite,
                    _ => Family::Moqt,
                };
                if codes::is_graceful_end(family, reason.code) {
                    vlog!("session {id}: track ended");
                    return Ok(true);
                }
                eprintln!(
                    "subscribe: subscription ended ({} {}), subscribing again",
                    reason.code, reason.text
                );
                l.state = State::Idle;
                l.request = None;
                l.retry_at = Some(now + RETRY);
            }
            Event::Object { request, info, payload } if ours(request) => match info.status {
                ObjectStatus::EndOfGroup => self.reorder.end_group(info.group),
                ObjectStatus::EndOfTrack => {}
                ObjectStatus::Normal => {
                    let offer = self.reorder.offer((info.group, info.object), id, payload.to_bytes());
                    if matches!(offer, Offer::Overlap | Offer::Written) && Some(id) == newest {
                        self.retire_before(id);
                    }
                }
            },
            // A group is complete when its stream ends (and, with one stream per group,
            // that is every object of it); the reorder buffer waits for that, or for a drop,
            // before writing a later group.
            Event::SubgroupEnded { request, group, .. } if ours(request) => self.reorder.end_group(group),
            Event::GroupsDropped { request, first, last, reason } if ours(request) => {
                eprintln!("subscribe: groups {first}..={last} dropped (code {})", reason.code);
                self.reorder.drop_groups(first, last);
            }
            Event::GoAway { uri } if !l.link.going_away => {
                l.link.going_away = true;
                let target = l.link.goaway_target(&uri);
                eprintln!("subscribe: GOAWAY from {}: subscribing again on {target}", l.link.url);
                self.open_link(&target)?;
            }
            Event::Closed { code, reason, .. } => {
                vlog!("session {id} closed: {code} {reason}");
                let replace = !l.link.closing && !l.link.going_away;
                l.state = State::Idle;
                l.request = None;
                l.link.closing = true;
                if replace {
                    eprintln!("subscribe: session closed ({code} {reason}), reconnecting");
                    let url = l.link.url.clone();
                    self.open_link(&url)?;
                }
            }
            _ => {}
        }
        Ok(false)
    }

    fn open_link(&mut self, url: &crate::url::MoqUrl) -> Result<(), String> {
        let link =
            Link::connect(url, &self.versions, self.verification.clone()).map_err(|e| e.to_string())?;
        self.links.push(SubLink {
            id: self.next_link,
            link,
            ready: false,
            request: None,
            state: State::Idle,
            retry_at: None,
        });
        self.next_link += 1;
        self.totals.reconnects += 1;
        Ok(())
    }

    /// The subscription on session `id` overlaps the older ones: close those.
    fn retire_before(&mut self, id: u64) {
        for l in self.links.iter_mut().filter(|l| l.id < id && !l.link.closing) {
            vlog!("session {}: the new subscription overlaps it; closing", l.id);
            l.link.close("subscription moved");
            l.state = State::Idle;
        }
    }

    fn subscribe_when_due(&mut self, now: Instant) {
        for l in &mut self.links {
            let due = l.retry_at.is_none_or(|t| t <= now);
            if !(l.ready && due && l.state == State::Idle && !l.link.going_away && !l.link.closing) {
                continue;
            }
            let Some(conn) = l.link.connection() else { continue };
            // Oldest group first: the relay then sends a group's tail before the next groups,
            // which is the order the output needs.
            let options = SubscribeOptions {
                group_order: Some(GroupOrder::Ascending),
                // draft-18: ask the relay to hold the SUBSCRIBE while no publisher is
                // there, as long as we are willing to retry anyway (RENDEZVOUS_TIMEOUT;
                // absent means "refuse at once"). moq-lite relays hold by their own rule.
                rendezvous_timeout_ms: Some((self.args.retry_for * 1000.0) as u64),
                ..SubscribeOptions::default()
            };
            match conn.session().subscribe(self.track.clone(), options) {
                Ok(request) => {
                    vlog!("session {}: subscribing to {}", l.id, self.args.track);
                    l.request = Some(request);
                    l.state = State::Pending;
                }
                Err(e) => {
                    vlog!("session {}: subscribe refused locally: {e}", l.id);
                    l.retry_at = Some(now + RETRY);
                }
            }
        }
    }

    fn write_ready(&mut self, ended: bool) -> Result<(), String> {
        let mut ready = Vec::new();
        if ended {
            self.reorder.finish(&mut ready);
        } else {
            self.reorder.drain(&mut ready);
        }
        if ready.is_empty() {
            return Ok(());
        }
        for payload in &ready {
            self.out.write_all(payload).map_err(|e| format!("writing stdout: {e}"))?;
            self.totals.objects += 1;
            self.totals.bytes += payload.len() as u64;
        }
        self.out.flush().map_err(|e| format!("writing stdout: {e}"))
    }

    fn close_all(&mut self) {
        for l in &mut self.links {
            l.link.close("track ended");
        }
        let deadline = Instant::now() + Duration::from_millis(200);
        while Instant::now() < deadline && !self.links.iter_mut().all(|l| l.link.is_gone()) {
            for l in &mut self.links {
                let _ = l.link.step(Duration::from_millis(2));
            }
        }
    }
}
