//! Priorities under congestion: two tracks from one publisher to one subscriber over a
//! bandwidth-limited simulated link, the subscriber asking for one with a higher priority
//! than the other.
//!
//! The link (`sluice_sim::LinkConfig::with_bandwidth`) serialises one packet at a time and
//! picks the next packet from the stream with the highest send order, as quinn does; the
//! session derives each group stream's send order from the subscription's priority. The
//! publisher produces both tracks at 30 objects/s of 1200 bytes, groups of 10 objects
//! (72 kB/s of payload together), into a 50 kB/s link with 10 ms one-way latency, writing
//! the low-priority object first at each instant. It stops after [`GROUPS`] groups and the
//! link then drains. Everything is virtual time, so the run is deterministic.
//!
//! Direct publisher → subscriber (no relay): the relay does not yet carry downstream
//! priorities (see sluice-relay's crate docs), so this measures the session and link.

use std::time::Duration;

use bytes::Bytes;
use sluice::{
    Config, Event, Namespace, ObjectStatus, ObjectWrite, RequestHandle, SubscribeOptions, Time, TrackInfo,
    TrackName, Version,
};
use sluice_sim::{LinkConfig, Network, Side};

/// Groups written per track.
pub const GROUPS: u64 = 8;
/// Objects per group.
pub const GROUP_LEN: u64 = 10;
/// Link bandwidth, bytes per second (each direction).
pub const BANDWIDTH: u64 = 50_000;
/// Milliseconds between two objects of a track.
pub const FRAME_MS: u64 = 33;

/// Which of the two tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lane {
    /// The track subscribed with the better (numerically lower) priority.
    High,
    /// The other one.
    Low,
}

/// One group fully received by the subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// The track.
    pub lane: Lane,
    /// The group.
    pub group: u64,
    /// When the publisher wrote the group's last object.
    pub written: Time,
    /// When the subscriber received it.
    pub completed: Time,
}

impl Completion {
    /// Completion latency: last object written → last object received.
    pub fn latency(&self) -> Duration {
        self.completed - self.written
    }
}

/// Runs the scenario: the `High` lane is subscribed with priority `high`, the `Low` lane
/// with `low` (0 is most important). Returns every group completion in the order the
/// subscriber saw them, or `None` if the setup failed.
pub fn run(version: Version, high: u8, low: u8) -> Option<Vec<Completion>> {
    let ms = Duration::from_millis;
    let mut net: Network = Network::new(11);
    let link = LinkConfig::perfect().with_latency(ms(10)).with_bandwidth(BANDWIDTH);
    let conn = net.connect_sessions(version, Config::default(), Config::default(), link);
    net.settle();

    // Client: the subscriber. Server: the publisher.
    let namespace = Namespace::from_fields(["prio"]);
    let mut requests: Vec<(Lane, RequestHandle)> = Vec::new();
    for (lane, priority, name) in [(Lane::Low, low, "low"), (Lane::High, high, "high")] {
        let options = SubscribeOptions { priority, ..SubscribeOptions::default() };
        let request =
            net.session(conn, Side::Client).subscribe(TrackName::new(namespace.clone(), name), options);
        requests.push((lane, request.ok()?));
    }
    net.settle();
    let mut publications: Vec<(Lane, RequestHandle)> = Vec::new();
    for event in net.take_events(conn, Side::Server) {
        if let Event::IncomingSubscribe { request, track, .. } = event {
            net.session(conn, Side::Server).accept_subscribe(request, TrackInfo::default()).ok()?;
            let lane = if track.name.as_ref() == b"high" { Lane::High } else { Lane::Low };
            publications.push((lane, request));
        }
    }
    publications.sort_by_key(|(lane, _)| std::cmp::Reverse(*lane)); // Low first, as written
    if publications.len() != 2 {
        return None;
    }
    net.settle();
    net.take_events(conn, Side::Client);

    let payload = Bytes::from(vec![0x5A; 1200]);
    let mut open = [None, None];
    let mut written_last: Vec<(Lane, u64, Time)> = Vec::new();
    let mut received = [0u64; 2];
    let mut completions = Vec::new();
    let total = GROUPS * GROUP_LEN;
    let mut frame = 0u64;
    // Until every object of both lanes has arrived (bounded: the link needs ~15 s).
    for _tick in 0..120_000u64 {
        if frame < total && (net.now().as_micros() / 1000) >= frame * FRAME_MS {
            let (group, object) = (frame / GROUP_LEN, frame % GROUP_LEN);
            let now = net.now();
            let publisher = net.session(conn, Side::Server);
            for (i, &(lane, request)) in publications.iter().enumerate() {
                let stream = match open[i] {
                    Some(stream) => stream,
                    None => publisher.open_subgroup(request, group, 0, None).ok()?,
                };
                let mut write = ObjectWrite::new(object, payload.clone());
                write.timestamp = Some(frame * FRAME_MS);
                publisher.write_object(stream, write).ok()?;
                open[i] = Some(stream);
                if object + 1 == GROUP_LEN {
                    publisher.close_subgroup(stream, true).ok()?;
                    open[i] = None;
                    written_last.push((lane, group, now));
                }
            }
            frame += 1;
        }
        net.advance(ms(1));
        for event in net.take_events(conn, Side::Client) {
            let Event::Object { request, info, .. } = event else { continue };
            if info.status != ObjectStatus::Normal {
                continue;
            }
            let lane = requests.iter().find(|(_, r)| *r == request).map(|(lane, _)| *lane)?;
            received[lane as usize] += 1;
            if info.object + 1 == GROUP_LEN {
                let written = written_last.iter().find(|w| w.0 == lane && w.1 == info.group).map(|w| w.2)?;
                completions.push(Completion { lane, group: info.group, written, completed: net.now() });
            }
        }
        if received == [total, total] {
            return Some(completions);
        }
    }
    None
}

/// Median and maximum completion latency of one lane.
pub fn latency_summary(completions: &[Completion], lane: Lane) -> (Duration, Duration) {
    let mut latencies: Vec<Duration> =
        completions.iter().filter(|c| c.lane == lane).map(Completion::latency).collect();
    latencies.sort();
    let median = latencies.get(latencies.len() / 2).copied().unwrap_or_default();
    (median, latencies.last().copied().unwrap_or_default())
}
