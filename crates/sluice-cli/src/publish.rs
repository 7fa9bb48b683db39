//! `sluice publish`: stdin → one MoQ track through a relay.
//!
//! The publisher announces its namespace and answers every subscription for its track.
//! It reads stdin only while at least one subscription is being served (and while the
//! transport takes data: at most [`HIGH_WATER`] bytes queued in the adapter), so a pipe
//! feeding it blocks until somebody listens. Each read chunk (`--lines`: each line) is one
//! object; objects are numbered per track, `--group-size` to a group, each group on its
//! own subgroup (lite: group) stream. A subscription that arrives mid-group first gets the
//! current group's objects again from object 0 (they are kept until the group ends), then
//! follows live.
//!
//! End of input ends the track: the last group's stream is finished, and once everything is
//! *delivered to the relay* the subscriptions end (MOQT PUBLISH_DONE, lite: subscribe
//! stream FIN), and once those are delivered too the session closes with NO_ERROR and the
//! process exits 0. "Delivered" is exact: no byte waits in the adapter's queues and the
//! relay's QUIC stack has acknowledged every byte and the FIN of every stream the publisher
//! finished ([`sluice_quinn::Connection::unacked_streams`] is 0: quinn-proto's
//! `StreamEvent::Finished`, QUIC's "Data Recvd" state).
//!
//! GOAWAY (draft-18 §3.5, "Graceful Publisher Relay Switchover"; lite-04/05 §Goaway): a new
//! session is opened to the GOAWAY URI (else the same URL) and the namespace is announced
//! there; subscriptions on the old session are served until they end, new ones arrive on
//! the new session, and the old session is closed once it serves nothing.

use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sluice::{
    Event, Location, Namespace, ObjectWrite, RequestHandle, Session, StreamId, TrackInfo, TrackName, Version,
};
use sluice_quinn::ServerVerification;
use sluice_relay::codes::{self, Family};

use crate::client::{ClientArgs, ConnectError, Link, VersionOffer};
use crate::input::{self, Chunk};
use crate::vlog;

/// Bytes queued in the adapter above which the publisher stops reading input.
pub const HIGH_WATER: usize = 1 << 20;
/// Longest socket wait of the loop.
const WAIT: Duration = Duration::from_millis(5);
/// Objects published per loop round at most (the socket gets its turn in between).
const BURST: usize = 256;

/// `sluice publish` options.
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
    /// Objects per group.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub group_size: u64,
    /// One object per line (newline kept) instead of one per read.
    #[arg(long)]
    pub lines: bool,
    /// Largest object read at once (without `--lines`).
    #[arg(long, default_value_t = 16 * 1024)]
    pub chunk_size: usize,
    /// Objects per second at most (0: as fast as input and transport allow).
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
}

/// A `/`-separated namespace (empty fields are ignored).
pub fn namespace(text: &str) -> Namespace {
    Namespace::from_path(text)
}

/// One subscription being served.
#[derive(Debug)]
struct Serving {
    link: u64,
    request: RequestHandle,
    stream: Option<StreamId>,
}

/// One session and what we know of it.
#[derive(Debug)]
struct PubLink {
    id: u64,
    link: Link,
    version: Option<Version>,
}

/// Where the end of the track stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Publishing,
    /// Input ended; waiting for delivery before ending the subscriptions.
    Ending,
    /// Subscriptions ended; waiting for delivery before closing.
    Ended,
    /// Sessions closing.
    Closing {
        since: Instant,
    },
}

/// The publisher. See the module docs.
#[derive(Debug)]
pub struct Publisher {
    args: Args,
    versions: VersionOffer,
    verification: ServerVerification,
    track: TrackName,
    links: Vec<PubLink>,
    next_link: u64,
    serving: Vec<Serving>,
    input: Receiver<Chunk>,
    /// The next object's group and id.
    group: u64,
    object: u64,
    /// The current group's objects so far (replayed to a subscription joining mid-group).
    current: Vec<Bytes>,
    started: Instant,
    first_subscribed: Option<Instant>,
    phase: Phase,
    /// The streams of the last two groups that ended (oldest first): (group, streams).
    group_ends: std::collections::VecDeque<(u64, Vec<StreamId>)>,
    /// Objects published.
    pub sent: u64,
    /// Payload bytes published.
    pub sent_bytes: u64,
}

fn family(version: Option<Version>) -> Family {
    match version {
        Some(Version::Lite(_)) => Family::Lite,
        _ => Family::Moqt,
    }
}

/// Runs `sluice publish` over stdin.
pub fn run(args: Args) -> Result<(), ConnectError> {
    let input = input::spawn(std::io::stdin(), args.lines, args.chunk_size);
    let mut publisher = Publisher::new(args, input)?;
    publisher.run().map_err(ConnectError::Other)
}

impl Publisher {
    /// Connects and prepares to publish what `input` yields.
    pub fn new(args: Args, input: Receiver<Chunk>) -> Result<Publisher, ConnectError> {
        let versions = args.client.offer();
        let verification = args.client.verification().map_err(ConnectError::Other)?;
        let link = Link::connect(&args.client.url, &versions, verification.clone())?;
        let track = TrackName::new(namespace(&args.namespace), &args.track);
        Ok(Publisher {
            args,
            versions,
            verification,
            track,
            links: vec![PubLink { id: 0, link, version: None }],
            next_link: 1,
            serving: Vec::new(),
            input,
            group: 0,
            object: 0,
            current: Vec::new(),
            started: Instant::now(),
            first_subscribed: None,
            phase: Phase::Publishing,
            group_ends: std::collections::VecDeque::new(),
            sent: 0,
            sent_bytes: 0,
        })
    }

    /// Runs until the track is delivered (Ok) or the publisher cannot go on (Err).
    pub fn run(&mut self) -> Result<(), String> {
        let mut next_report = self.started + Duration::from_secs(2);
        loop {
            let now = Instant::now();
            self.handle_events(now)?;
            if self.phase == Phase::Publishing {
                self.pump(now)?;
            }
            if self.advance_end(now) {
                eprintln!("published {} objects ({} bytes)", self.sent, self.sent_bytes);
                return Ok(());
            }
            if now >= next_report {
                next_report += Duration::from_secs(2);
                eprintln!(
                    "publish: {} objects ({} bytes), {} subscription(s), {:.0} s",
                    self.sent,
                    self.sent_bytes,
                    self.serving.len(),
                    now.duration_since(self.started).as_secs_f64()
                );
            }
            self.step()?;
        }
    }

    fn step(&mut self) -> Result<(), String> {
        let wait = if self.links.len() == 1 { WAIT } else { Duration::from_millis(1) };
        for l in &mut self.links {
            l.link.step(wait)?;
        }
        // Drop sessions that are gone (closed by us after a GOAWAY, or by the peer).
        self.links.retain_mut(|l| !(l.link.is_gone() && (l.link.closing || l.link.going_away)));
        Ok(())
    }

    fn session(links: &mut [PubLink], id: u64) -> Option<&mut Session> {
        links.iter_mut().find(|l| l.id == id).and_then(|l| l.link.connection()).map(|c| c.session())
    }

    fn handle_events(&mut self, now: Instant) -> Result<(), String> {
        let mut events = Vec::new();
        for l in &mut self.links {
            if let Some(conn) = l.link.connection() {
                events.extend(conn.take_events().into_iter().map(|e| (l.id, e)));
            }
        }
        for (id, event) in events {
            self.on_event(now, id, event)?;
        }
        // An old session that serves nothing any more is closed.
        let serving = &self.serving;
        for l in &mut self.links {
            if l.link.going_away && !l.link.closing && !serving.iter().any(|s| s.link == l.id) {
                vlog!("closing the session to {} (GOAWAY, nothing served on it)", l.link.url);
                l.link.close("moved after GOAWAY");
            }
        }
        let usable = self.links.iter_mut().any(|l| !l.link.closing && !l.link.is_gone());
        if !usable && !matches!(self.phase, Phase::Closing { .. }) {
            return Err("every session closed".to_owned());
        }
        Ok(())
    }

    fn on_event(&mut self, now: Instant, id: u64, event: Event) -> Result<(), String> {
        match event {
            Event::Ready { version, .. } => {
                vlog!("session {id} ready: {}", version.alpn());
                let ns = self.track.namespace.clone();
                if let Some(l) = self.links.iter_mut().find(|l| l.id == id) {
                    l.version = Some(version);
                }
                if let Some(s) = Self::session(&mut self.links, id) {
                    s.announce(ns).map_err(|e| format!("announce refused: {e}"))?;
                }
            }
            Event::AnnounceEnded { reason, .. } => {
                eprintln!("publish: the relay ended the announce ({} {})", reason.code, reason.text);
            }
            Event::IncomingSubscribe { request, track, .. } => self.on_subscribe(now, id, request, track),
            Event::SubscriberGone { request } => {
                vlog!("session {id}: subscription {request:?} gone");
                self.serving.retain(|s| !(s.link == id && s.request == request));
            }
            Event::GroupExpired { request, .. } => {
                if let Some(s) = self.serving.iter_mut().find(|s| s.link == id && s.request == request) {
                    s.stream = None;
                }
            }
            Event::GoAway { uri } => self.on_goaway(id, &uri)?,
            Event::Closed { code, reason, by_peer } => {
                vlog!("session {id} closed: {code} {reason} (by peer: {by_peer})");
                self.serving.retain(|s| s.link != id);
                let expected = self
                    .links
                    .iter()
                    .find(|l| l.id == id)
                    .is_some_and(|l| l.link.closing || l.link.going_away);
                if !expected && !matches!(self.phase, Phase::Closing { .. }) {
                    return Err(format!("session closed by the relay: code {code} ({reason})"));
                }
            }
            other => vlog!("session {id}: {other:?}"),
        }
        Ok(())
    }

    fn on_goaway(&mut self, id: u64, uri: &[u8]) -> Result<(), String> {
        let Some(l) = self.links.iter_mut().find(|l| l.id == id) else { return Ok(()) };
        if l.link.going_away {
            return Ok(());
        }
        l.link.going_away = true;
        let target = l.link.goaway_target(uri);
        eprintln!("publish: GOAWAY from {}: announcing again on {target}", l.link.url);
        if matches!(self.phase, Phase::Publishing) {
            let link = Link::connect(&target, &self.versions, self.verification.clone())
                .map_err(|e| e.to_string())?;
            self.links.push(PubLink { id: self.next_link, link, version: None });
            self.next_link += 1;
        }
        Ok(())
    }

    fn on_subscribe(&mut self, now: Instant, id: u64, request: RequestHandle, track: TrackName) {
        let version = self.links.iter().find(|l| l.id == id).and_then(|l| l.version);
        let Some(session) = Self::session(&mut self.links, id) else { return };
        if track != self.track || self.phase != Phase::Publishing {
            let _ = session.reject(request, codes::does_not_exist(family(version)), "no such track here");
            return;
        }
        let largest = (self.sent > 0).then(|| match self.object {
            0 => Location { group: self.group.saturating_sub(1), object: self.args.group_size - 1 },
            o => Location { group: self.group, object: o - 1 },
        });
        if let Err(e) = session.accept_subscribe(request, TrackInfo { largest, ..TrackInfo::default() }) {
            eprintln!("publish: accepting a subscription failed: {e}");
            return;
        }
        vlog!("session {id}: serving subscription {request:?} from group {} object 0", self.group);
        if self.first_subscribed.is_none() {
            self.first_subscribed = Some(now);
        }
        let mut serving = Serving { link: id, request, stream: None };
        if self.object > 0 {
            // Mid-group: the current group again from its first object.
            let group = self.group;
            let replay = self.current.clone();
            if let Some(stream) = open(session, request, group) {
                serving.stream = Some(stream);
                for (object, payload) in replay.into_iter().enumerate() {
                    let ms = self.ms();
                    let session = Self::session(&mut self.links, id);
                    if let Some(s) = session {
                        let _ = s.write_object(stream, write(object as u64, payload, ms));
                    }
                }
            }
        }
        self.serving.push(serving);
    }

    fn ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn queued(&mut self) -> usize {
        self.links.iter_mut().filter_map(|l| l.link.connection()).map(|c| c.queued_bytes()).sum()
    }

    /// Publishes what input is ready, as far as pacing and the transport allow.
    fn pump(&mut self, now: Instant) -> Result<(), String> {
        for _ in 0..BURST {
            if self.serving.is_empty() || self.queued() > HIGH_WATER || !self.may_start_group() {
                return Ok(());
            }
            if self.args.rate > 0.0
                && let Some(first) = self.first_subscribed
                && now < first + Duration::from_secs_f64(self.sent as f64 / self.args.rate)
            {
                return Ok(());
            }
            match self.input.try_recv() {
                Ok(Chunk::Object(payload)) => {
                    self.publish(payload);
                    if self.object == 0 {
                        // A group ended: let the socket loop send it before the next starts.
                        return Ok(());
                    }
                }
                Ok(Chunk::End) | Err(TryRecvError::Disconnected) => {
                    self.end_input();
                    return Ok(());
                }
                Ok(Chunk::Error(e)) => return Err(format!("reading stdin: {e}")),
                Err(TryRecvError::Empty) => return Ok(()),
            }
        }
        Ok(())
    }

    /// Group `g + 2` starts only once group `g` has arrived: the adapter queue is empty and
    /// the relay acknowledged every byte of group `g`'s streams. Why: moq-lite
    /// sends newer groups first unless the subscriber asked for ascending order (the relay
    /// does not), and the relay drops a group whose first object arrives after a newer
    /// group's (and ends a group's stream when the group after the next starts), so a burst
    /// of queued groups would reach it newest first and lose the rest.
    fn may_start_group(&mut self) -> bool {
        if self.object != 0 || self.links.len() != 1 {
            return true;
        }
        let Some((group, streams)) = self.group_ends.front() else { return true };
        if group + 2 > self.group {
            return true;
        }
        let Some(conn) = self.links.first_mut().and_then(|l| l.link.connection()) else { return true };
        conn.queued_bytes() == 0 && !streams.iter().any(|s| conn.is_unacked(*s))
    }

    fn publish(&mut self, payload: Bytes) {
        let (group, object, ms) = (self.group, self.object, self.ms());
        for s in &mut self.serving {
            let Some(session) = Self::session(&mut self.links, s.link) else { continue };
            let stream = match s.stream {
                Some(stream) => stream,
                None if object == 0 => match open(session, s.request, group) {
                    Some(stream) => *s.stream.insert(stream),
                    None => continue,
                },
                // The group's stream was lost (expired): this subscription resumes next group.
                None => continue,
            };
            if let Err(e) = session.write_object(stream, write(object, payload.clone(), ms)) {
                vlog!("write of ({group}, {object}) refused: {e}");
                s.stream = None;
            }
        }
        self.sent += 1;
        self.sent_bytes += payload.len() as u64;
        self.current.push(payload);
        self.object += 1;
        if self.object == self.args.group_size {
            let streams = self.close_group();
            self.group_ends.push_back((self.group, streams));
            if self.group_ends.len() > 2 {
                self.group_ends.pop_front();
            }
            self.group += 1;
            self.object = 0;
        }
    }

    /// Finishes every subscription's stream of the current group; returns those streams.
    fn close_group(&mut self) -> Vec<StreamId> {
        let mut closed = Vec::new();
        for s in &mut self.serving {
            if let (Some(stream), Some(session)) = (s.stream.take(), Self::session(&mut self.links, s.link)) {
                let _ = session.close_subgroup(stream, true);
                closed.push(stream);
            }
        }
        self.current.clear();
        closed
    }

    fn end_input(&mut self) {
        vlog!("end of input after {} objects", self.sent);
        self.close_group();
        self.phase = Phase::Ending;
    }

    /// True when every finished stream's data has been acknowledged by the relay and nothing
    /// is left in the adapter's queues.
    fn delivered(&mut self) -> bool {
        self.links
            .iter_mut()
            .filter_map(|l| l.link.connection())
            .all(|c| c.queued_bytes() == 0 && c.unacked_streams() == 0)
    }

    /// Moves the end of the track along; true when the publisher is done.
    fn advance_end(&mut self, now: Instant) -> bool {
        match self.phase {
            Phase::Publishing => false,
            Phase::Ending => {
                if self.delivered() {
                    for s in std::mem::take(&mut self.serving) {
                        if let Some(session) = Self::session(&mut self.links, s.link) {
                            let code = codes::track_ended(family(session.version()));
                            let _ = session.end_subscription(s.request, code, "end of input");
                        }
                    }
                    self.phase = Phase::Ended;
                }
                false
            }
            Phase::Ended => {
                if self.delivered() {
                    for l in &mut self.links {
                        l.link.close("end of track");
                    }
                    self.phase = Phase::Closing { since: now };
                }
                false
            }
            Phase::Closing { since } => {
                self.links.iter_mut().all(|l| l.link.is_gone())
                    || now.duration_since(since) > Duration::from_millis(300)
            }
        }
    }
}

fn open(session: &mut Session, request: RequestHandle, group: u64) -> Option<StreamId> {
    match session.open_subgroup(request, group, 0, None) {
        Ok(stream) => Some(stream),
        Err(e) => {
            vlog!("opening group {group} refused: {e}");
            None
        }
    }
}

fn write(object: u64, payload: Bytes, ms: u64) -> ObjectWrite {
    // lite-05 needs a frame timestamp (timescale 1000: milliseconds); the others ignore it.
    ObjectWrite { timestamp: Some(ms), ..ObjectWrite::new(object, payload) }
}
