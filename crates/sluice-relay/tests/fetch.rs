//! FETCH through the relay: from the cache (standalone, relative and absolute joining,
//! lite whole-group), forwarded to the publisher when the cache does not cover the range
//! (objects, End of Range markers, lite group by group), refusals and limits, and the cache
//! kept for a bounded time after the last subscriber left.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use sluice::{Event, JoinStart, Location, SubscribeOptions, TrackName, Version};
use sluice_relay::RelayConfig;
use sluice_sim::{ConnId, LinkConfig};
use sluice_wire::moqt::codes::RequestErrorCode;

const LEN: usize = 300;

fn config() -> RelayConfig {
    RelayConfig { cache_groups: 8, ..RelayConfig::default() }
}

fn loc(group: u64, object: u64) -> Location {
    Location { group, object }
}

/// A relay with a publisher of `live/video` in `version` and one live subscriber (so the
/// relay relays the track); groups 0..`groups` of 4 objects each written.
fn live_track(
    version: Version,
    sub_version: Version,
    config: RelayConfig,
    groups: u64,
) -> (Node, Publisher, TrackName, ConnId) {
    let mut node = Node::new(config);
    let (_, mut publisher, track) = Publisher::live_video(&mut node, version);
    let (_, sub) = node.connect(sub_version, LinkConfig::perfect());
    node.peer(sub).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
    node.pump();
    publisher.serve(&mut node);
    for g in 0..groups {
        publisher.write_group(&mut node, g, 0..4, LEN);
    }
    (node, publisher, track, sub)
}

/// What one fetch brought.
#[derive(Debug, Default)]
struct Fetched {
    objects: Vec<(u64, u64, Bytes)>,
    accepted: Option<Location>,
    gaps: Vec<(Location, bool)>,
    ended: Option<u64>,
}

impl Fetched {
    fn take(node: &mut Node, conn: ConnId, request: sluice::RequestHandle) -> Fetched {
        let mut f = Fetched::default();
        for event in node.events(conn) {
            match event {
                Event::Object { request: r, info, payload } if r == request => {
                    f.objects.push((info.group, info.object, payload.to_bytes()))
                }
                Event::FetchAccepted { request: r, end, .. } if r == request => f.accepted = Some(end),
                Event::FetchGap { request: r, through, unknown } if r == request => {
                    f.gaps.push((through, unknown))
                }
                Event::FetchEnded { request: r, reason } if r == request => f.ended = Some(reason.code),
                _ => {}
            }
        }
        f
    }

    fn ids(&self) -> Vec<(u64, u64)> {
        self.objects.iter().map(|o| (o.0, o.1)).collect()
    }

    /// Every payload is the publisher's, byte for byte (lite frames renumbered: `group`'s
    /// object `i` is the i-th frame).
    fn assert_bytes(&self) {
        for (g, o, payload) in &self.objects {
            assert_eq!(payload, &frame(*g, *o, LEN), "object {g}/{o}");
        }
    }
}

fn incoming_fetches(
    p: &mut Publisher,
    node: &mut Node,
) -> Vec<(sluice::RequestHandle, Location, Option<Location>)> {
    node.events(p.conn)
        .into_iter()
        .filter_map(|e| match e {
            Event::IncomingFetch { request, start, end, .. } => Some((request, start, end)),
            _ => None,
        })
        .collect()
}

fn ids(range: impl IntoIterator<Item = (u64, std::ops::Range<u64>)>) -> Vec<(u64, u64)> {
    range.into_iter().flat_map(|(g, objects)| objects.map(move |o| (g, o))).collect()
}

#[test]
fn standalone_fetch_is_served_from_the_cache_in_every_version() {
    for version in ALL {
        let (mut node, mut publisher, track, _sub) = live_track(version, version, config(), 4);
        let (_, fetcher) = node.connect(DRAFT18, LinkConfig::perfect());
        let h = node.peer(fetcher).fetch(track.clone(), loc(1, 2), loc(3, 1), 10).unwrap();
        node.pump();
        let f = Fetched::take(&mut node, fetcher, h);
        assert_eq!(f.ids(), ids([(1, 2..4), (2, 0..4), (3, 0..1)]), "{version:?}");
        f.assert_bytes();
        assert_eq!(f.accepted, Some(loc(3, 1)), "{version:?}");
        assert_eq!(f.ended, Some(0), "{version:?}");
        assert!(incoming_fetches(&mut publisher, &mut node).is_empty(), "{version:?}: not forwarded");
        assert_eq!(node.relay.stats().fetches_from_cache, 1);

        // A range past the largest object is clamped to it, as a publisher would.
        let h = node.peer(fetcher).fetch(track.clone(), loc(3, 2), loc(9, 0), 10).unwrap();
        node.pump();
        let f = Fetched::take(&mut node, fetcher, h);
        assert_eq!(f.ids(), ids([(3, 2..4)]), "{version:?}");
        assert_eq!(f.accepted, Some(loc(3, 4)), "{version:?}");
    }
}

#[test]
fn lite_fetch_gets_a_whole_cached_group_as_frames() {
    for version in [LITE04, LITE05] {
        for publisher_version in ALL {
            let (mut node, mut publisher, track, _sub) = live_track(publisher_version, version, config(), 3);
            let (_, fetcher) = node.connect(version, LinkConfig::perfect());
            let h = node.peer(fetcher).fetch(track.clone(), loc(1, 0), loc(2, 0), 10).unwrap();
            node.pump();
            let f = Fetched::take(&mut node, fetcher, h);
            assert_eq!(f.ids(), ids([(1, 0..4)]), "{publisher_version:?} → {version:?}");
            f.assert_bytes();
            assert_eq!(f.ended, Some(0));
            assert!(incoming_fetches(&mut publisher, &mut node).is_empty());
        }
    }
}

/// A lite fetch of a group the cache has only part of (its stream still open) or none of
/// (a later group's stream arrived first) goes to the publisher, and the fetcher gets the
/// whole group: served from the cache it would end early or empty.
#[test]
fn lite_fetch_of_a_group_not_yet_whole_in_the_cache_is_forwarded() {
    for fetcher_version in [LITE04, LITE05] {
        for publisher_version in ALL {
            for partial in [true, false] {
                let case = format!("{publisher_version:?} → {fetcher_version:?}, partial {partial}");
                let (mut node, mut publisher, track, _sub) =
                    live_track(publisher_version, fetcher_version, config(), 1);
                if partial {
                    // Group 1's stream stays open after two objects.
                    let request = *publisher.subscriptions.last().unwrap();
                    let session = node.peer(publisher.conn);
                    let stream = session.open_subgroup(request, 1, 0, None).unwrap();
                    for o in 0..2 {
                        let mut w = sluice::ObjectWrite::new(o, frame(1, o, LEN));
                        w.timestamp = Some(1000 + o);
                        session.write_object(stream, w).unwrap();
                    }
                    node.pump();
                }
                publisher.write_group(&mut node, 2, 0..4, LEN);
                let (_, fetcher) = node.connect(fetcher_version, LinkConfig::perfect());
                let h = node.peer(fetcher).fetch(track.clone(), loc(1, 0), loc(2, 0), 10).unwrap();
                node.pump();
                assert_eq!(serve_fetches(&mut node, &mut publisher, None), 1, "{case}");
                let f = Fetched::take(&mut node, fetcher, h);
                assert_eq!(f.ids(), ids([(1, 0..4)]), "{case}");
                f.assert_bytes();
                assert_eq!(f.ended, Some(0), "{case}");
                assert_eq!(node.relay.stats().fetches_from_cache, 0, "{case}");
            }
        }
    }
}

#[test]
fn joining_fetches_end_where_the_subscription_joined() {
    for publisher_version in ALL {
        let (mut node, mut publisher, track, _sub) = live_track(publisher_version, DRAFT18, config(), 3);
        // A second subscriber joins at the largest location (2, 3).
        let (_, joiner) = node.connect(DRAFT18, LinkConfig::perfect());
        let sub = node.peer(joiner).subscribe(track.clone(), SubscribeOptions::default()).unwrap();
        node.pump();
        node.events(joiner);

        let rel = node.peer(joiner).joining_fetch(sub, JoinStart::Relative(1), 10).unwrap();
        node.pump();
        let f = Fetched::take(&mut node, joiner, rel);
        assert_eq!(f.ids(), ids([(1, 0..4), (2, 0..4)]), "{publisher_version:?}: relative");
        f.assert_bytes();
        assert_eq!(f.accepted, Some(loc(2, 4)));

        let abs = node.peer(joiner).joining_fetch(sub, JoinStart::Absolute(0), 10).unwrap();
        node.pump();
        let f = Fetched::take(&mut node, joiner, abs);
        assert_eq!(f.ids(), ids([(0, 0..4), (1, 0..4), (2, 0..4)]), "{publisher_version:?}: absolute");
        assert!(incoming_fetches(&mut publisher, &mut node).is_empty());
    }
}

/// Serves every IncomingFetch the publisher got from the groups `0..groups` (4 objects
/// each), as a publisher application would; MOQT publishers add `gap` after group 0.
fn serve_fetches(node: &mut Node, p: &mut Publisher, gap: Option<Location>) -> usize {
    let fetches = incoming_fetches(p, node);
    for (request, start, end) in &fetches {
        let session = node.peer(p.conn);
        session.accept_fetch(*request, end.unwrap_or(loc(start.group + 1, 0))).unwrap();
        // The exclusive end: a MOQT End Location with object 0 is group `end.group` whole
        // (draft-18 §10.12.1); moq-lite's is exclusive already.
        let end = match end {
            Some(e) if p.version == DRAFT18 && e.object == 0 => loc(e.group + 1, 0),
            Some(e) => *e,
            None => loc(start.group + 1, 0),
        };
        let mut index = 0;
        for g in start.group..=end.group {
            for o in 0..4 {
                let at = loc(g, o);
                if at < *start || at >= end {
                    continue;
                }
                let object = if p.version == DRAFT18 { o } else { index };
                let mut w = sluice::ObjectWrite::new(object, frame(g, o, LEN));
                w.timestamp = Some(g * 1000 + o);
                session.write_fetch_object(*request, g, 0, w).unwrap();
                index += 1;
            }
            if g == 0
                && let Some(through) = gap
            {
                session.write_fetch_gap(*request, through, true).unwrap();
                break;
            }
        }
        session.finish_fetch(*request).unwrap();
    }
    node.pump();
    fetches.len()
}

#[test]
fn an_uncached_range_is_forwarded_and_relayed_back() {
    // Only the latest group is cached, so older groups come from the publisher.
    let small = RelayConfig { cache_groups: 1, ..RelayConfig::default() };
    for (publisher_version, fetcher_version) in [(DRAFT18, DRAFT18), (DRAFT18, LITE05), (DRAFT18, LITE04)] {
        let (mut node, mut publisher, track, _sub) =
            live_track(publisher_version, fetcher_version, small.clone(), 3);
        let (_, fetcher) = node.connect(fetcher_version, LinkConfig::perfect());
        let h = node.peer(fetcher).fetch(track.clone(), loc(0, 1), loc(0, 4), 10).unwrap();
        node.pump();
        assert_eq!(node.relay.forwarded(), 1);
        assert_eq!(serve_fetches(&mut node, &mut publisher, None), 1, "{fetcher_version:?}");
        let f = Fetched::take(&mut node, fetcher, h);
        let want = if fetcher_version == DRAFT18 { ids([(0, 1..4)]) } else { ids([(0, 0..4)]) };
        let got: Vec<(u64, u64)> = f.ids();
        assert_eq!(got.len(), want.len(), "{fetcher_version:?}");
        assert_eq!(f.ended, Some(0), "{fetcher_version:?}");
        for ((g, o, payload), (wg, wo)) in f.objects.iter().zip(&want) {
            assert_eq!((*g, payload), (*wg, &frame(*wg, *wo, LEN)), "{fetcher_version:?} object {o}");
        }
        assert_eq!(node.relay.forwarded(), 0, "forwarded fetch forgotten");
        assert_eq!(node.relay.stats().fetches_forwarded, 1);
    }
}

#[test]
fn end_of_range_markers_are_relayed_between_moqt_sessions() {
    let small = RelayConfig { cache_groups: 1, ..RelayConfig::default() };
    // Five groups: only group 4 is cached, so the range (up to group 3) is wholly upstream.
    let (mut node, mut publisher, track, _sub) = live_track(DRAFT18, DRAFT18, small, 5);
    let (_, fetcher) = node.connect(DRAFT18, LinkConfig::perfect());
    let h = node.peer(fetcher).fetch(track, loc(0, 0), loc(3, 0), 10).unwrap();
    node.pump();
    serve_fetches(&mut node, &mut publisher, Some(loc(1, 3)));
    let f = Fetched::take(&mut node, fetcher, h);
    assert_eq!(f.ids(), ids([(0, 0..4)]));
    assert_eq!(f.gaps, vec![(loc(1, 3), true)]);
    assert_eq!(f.accepted, Some(loc(3, 0)));
    assert_eq!(f.ended, Some(0));
}

#[test]
fn a_range_from_a_lite_publisher_is_fetched_group_by_group() {
    let small = RelayConfig { cache_groups: 1, ..RelayConfig::default() };
    for publisher_version in [LITE04, LITE05] {
        let (mut node, mut publisher, track, _sub) = live_track(publisher_version, DRAFT18, small.clone(), 4);
        let (_, fetcher) = node.connect(DRAFT18, LinkConfig::perfect());
        let h = node.peer(fetcher).fetch(track.clone(), loc(0, 2), loc(2, 1), 10).unwrap();
        node.pump();
        // One lite fetch per group: 0, then 1, then 2.
        let mut asked = Vec::new();
        for _ in 0..3 {
            let fetches = incoming_fetches(&mut publisher, &mut node);
            assert_eq!(fetches.len(), 1, "{publisher_version:?}: one group at a time");
            asked.push(fetches[0].1.group);
            for (request, start, _) in fetches {
                let session = node.peer(publisher.conn);
                session.accept_fetch(request, loc(start.group + 1, 0)).unwrap();
                for o in 0..4 {
                    let mut w = sluice::ObjectWrite::new(o, frame(start.group, o, LEN));
                    w.timestamp = Some(o);
                    session.write_fetch_object(request, start.group, 0, w).unwrap();
                }
                session.finish_fetch(request).unwrap();
            }
            node.pump();
        }
        assert_eq!(asked, vec![0, 1, 2]);
        let f = Fetched::take(&mut node, fetcher, h);
        // Objects outside the asked range are dropped.
        assert_eq!(f.ids(), ids([(0, 2..4), (1, 0..4), (2, 0..1)]), "{publisher_version:?}");
        f.assert_bytes();
        assert_eq!(f.accepted, Some(loc(2, 1)));
        assert_eq!(f.ended, Some(0));
    }
}

#[test]
fn a_refused_upstream_fetch_is_refused_or_marked_unknown_downstream() {
    let small = RelayConfig { cache_groups: 1, ..RelayConfig::default() };
    // MOQT → MOQT: the refusal (not yet accepted downstream) is passed on with its code.
    let (mut node, mut publisher, track, _sub) = live_track(DRAFT18, DRAFT18, small.clone(), 3);
    let (_, fetcher) = node.connect(DRAFT18, LinkConfig::perfect());
    let h = node.peer(fetcher).fetch(track.clone(), loc(0, 0), loc(1, 0), 10).unwrap();
    node.pump();
    for (request, ..) in incoming_fetches(&mut publisher, &mut node) {
        node.peer(publisher.conn).reject(request, RequestErrorCode::INVALID_RANGE.0, "no").unwrap();
    }
    node.pump();
    let f = Fetched::take(&mut node, fetcher, h);
    assert_eq!(f.ended, Some(RequestErrorCode::INVALID_RANGE.0));
    assert_eq!(f.accepted, None);

    // A refusal with INTERNAL_ERROR has code 0, like a clean end: it is still a refusal
    // (no FETCH_OK came), not an empty answer accepted downstream.
    let small_too = RelayConfig { cache_groups: 1, ..RelayConfig::default() };
    let (mut node, mut publisher, track, _sub) = live_track(DRAFT18, DRAFT18, small_too, 3);
    let (_, fetcher) = node.connect(DRAFT18, LinkConfig::perfect());
    let h = node.peer(fetcher).fetch(track.clone(), loc(0, 0), loc(1, 0), 10).unwrap();
    node.pump();
    for (request, ..) in incoming_fetches(&mut publisher, &mut node) {
        node.peer(publisher.conn).reject(request, RequestErrorCode::INTERNAL_ERROR.0, "broken").unwrap();
    }
    node.pump();
    let f = Fetched::take(&mut node, fetcher, h);
    assert_eq!(f.accepted, None, "a refusal must not be accepted downstream");
    assert_eq!(f.ended, Some(RequestErrorCode::INTERNAL_ERROR.0));
    assert!(f.objects.is_empty());

    // lite → MOQT: the downstream fetch was accepted at once (lite has no FETCH_OK), so the
    // refused group becomes an End of Unknown Range marker and the fetch completes.
    let (mut node, mut publisher, track, _sub) = live_track(LITE05, DRAFT18, small, 3);
    let (_, fetcher) = node.connect(DRAFT18, LinkConfig::perfect());
    let h = node.peer(fetcher).fetch(track, loc(0, 0), loc(0, 3), 10).unwrap();
    node.pump();
    for (request, ..) in incoming_fetches(&mut publisher, &mut node) {
        node.peer(publisher.conn).reject(request, sluice::lite::codes::NOT_FOUND, "no").unwrap();
    }
    node.pump();
    let f = Fetched::take(&mut node, fetcher, h);
    assert_eq!(f.accepted, Some(loc(0, 3)));
    assert_eq!(f.gaps, vec![(loc(0, 2), true)]);
    assert!(f.objects.is_empty());
    assert_eq!(f.ended, Some(0));
    assert_eq!(node.relay.forwarded(), 0);
}

#[test]
fn forwarded_fetch_limits_answer_excessive_load() {
    let limited =
        RelayConfig { cache_groups: 1, max_forwarded_requests: 1, max_lite_fetch_groups: 2, ..config() };
    let (mut node, mut publisher, track, _sub) = live_track(DRAFT18, DRAFT18, limited.clone(), 3);
    let (_, fetcher) = node.connect(DRAFT18, LinkConfig::perfect());
    let first = node.peer(fetcher).fetch(track.clone(), loc(0, 0), loc(1, 0), 10).unwrap();
    let second = node.peer(fetcher).fetch(track.clone(), loc(1, 0), loc(2, 0), 10).unwrap();
    node.pump();
    let f = Fetched::take(&mut node, fetcher, second);
    assert_eq!(f.ended, Some(RequestErrorCode::EXCESSIVE_LOAD.0));
    assert_eq!(incoming_fetches(&mut publisher, &mut node).len(), 1, "only the first went upstream");
    assert_eq!(node.relay.stats().refused_excessive_load, 1);
    let _ = first;

    // A lite publisher: a range of three uncached groups is over the limit of two.
    let (mut node, mut publisher, track, _sub) = live_track(LITE04, DRAFT18, limited, 4);
    let (_, fetcher) = node.connect(DRAFT18, LinkConfig::perfect());
    let wide = node.peer(fetcher).fetch(track.clone(), loc(0, 0), loc(2, 1), 10).unwrap();
    node.pump();
    assert_eq!(Fetched::take(&mut node, fetcher, wide).ended, Some(RequestErrorCode::EXCESSIVE_LOAD.0));
    assert!(incoming_fetches(&mut publisher, &mut node).is_empty());
}

#[test]
fn the_cache_is_kept_for_a_bounded_time_after_the_last_subscriber_leaves() {
    let keep = RelayConfig { cache_keep: Duration::from_millis(50), ..config() };
    for version in ALL {
        let (mut node, mut publisher, track, sub) = live_track(version, DRAFT18, keep.clone(), 3);
        let h = node
            .events(sub)
            .into_iter()
            .find_map(|e| match e {
                Event::Subscribed { request, .. } => Some(request),
                _ => None,
            })
            .unwrap();
        node.peer(sub).cancel(h).unwrap();
        node.pump();
        assert_eq!(node.relay.tracks(), 0, "{version:?}: upstream gone");
        assert_eq!(node.relay.kept_tracks(), 1);
        assert_eq!(node.relay.cached(&track).0, 3);

        let (_, fetcher) = node.connect(DRAFT18, LinkConfig::perfect());
        // End Location (1, 0): object 0 means group 1 whole (draft-18 §10.12.1).
        let h = node.peer(fetcher).fetch(track.clone(), loc(0, 0), loc(1, 0), 10).unwrap();
        node.pump();
        assert_eq!(Fetched::take(&mut node, fetcher, h).ids(), ids([(0, 0..4), (1, 0..4)]), "{version:?}");
        assert!(incoming_fetches(&mut publisher, &mut node).is_empty());

        node.tick(60);
        assert_eq!(node.relay.kept_tracks(), 0, "{version:?}: forgotten after cache_keep");
        assert_eq!(node.relay.cached(&track), (0, 0));
        node.peer(fetcher).fetch(track.clone(), loc(0, 0), loc(1, 0), 10).unwrap();
        node.pump();
        assert_eq!(incoming_fetches(&mut publisher, &mut node).len(), 1, "{version:?}: now forwarded");
    }
}

#[test]
fn a_forwarded_fetch_goes_upstream_at_the_fetchers_priority() {
    let small = RelayConfig { cache_groups: 1, ..RelayConfig::default() };
    for publisher_version in ALL {
        for (fetcher_version, priority) in [(DRAFT18, 7u8), (LITE05, 200)] {
            let (mut node, mut publisher, track, _sub) =
                live_track(publisher_version, fetcher_version, small.clone(), 3);
            let (_, fetcher) = node.connect(fetcher_version, LinkConfig::perfect());
            node.peer(fetcher).fetch(track, loc(0, 0), loc(1, 0), priority).unwrap();
            node.pump();
            let asked: Vec<u8> = node
                .events(publisher.conn)
                .into_iter()
                .filter_map(|e| match e {
                    Event::IncomingFetch { priority, .. } => Some(priority),
                    _ => None,
                })
                .collect();
            assert_eq!(asked, vec![priority], "{publisher_version:?} <- {fetcher_version:?}");
            let _ = &mut publisher;
        }
    }
}

#[test]
fn a_forwarded_fetch_failing_midway_is_aborted_downstream() {
    use sluice_wire::moqt::codes::StreamResetCode;
    let small = RelayConfig { cache_groups: 1, ..RelayConfig::default() };
    // The MOQT publisher aborts its accepted fetch after one object: the fetcher gets that
    // object, then the publisher's reset code (not a clean end). Four groups: the range
    // (groups 0..=2) is wholly upstream, none of it cached.
    let (mut node, mut publisher, track, _sub) = live_track(DRAFT18, DRAFT18, small.clone(), 4);
    let (_, fetcher) = node.connect(DRAFT18, LinkConfig::perfect());
    let h = node.peer(fetcher).fetch(track.clone(), loc(0, 0), loc(2, 0), 10).unwrap();
    node.pump();
    let code = StreamResetCode::EXCESSIVE_LOAD.0;
    for (request, ..) in incoming_fetches(&mut publisher, &mut node) {
        let s = node.peer(publisher.conn);
        s.accept_fetch(request, loc(2, 0)).unwrap();
        s.write_fetch_object(request, 0, 0, sluice::ObjectWrite::new(0, frame(0, 0, LEN))).unwrap();
        s.reject(request, code, "overloaded").unwrap();
    }
    node.pump();
    let f = Fetched::take(&mut node, fetcher, h);
    assert_eq!((f.accepted, f.ids(), f.ended), (Some(loc(2, 0)), vec![(0, 0)], Some(code)));
    f.assert_bytes();
    assert_eq!(node.relay.forwarded(), 0);

    // The publisher's session goes mid-fetch: UNKNOWN_OBJECT_STATUS.
    let (mut node, mut publisher, track, _sub) = live_track(DRAFT18, DRAFT18, small, 4);
    let (_, fetcher) = node.connect(DRAFT18, LinkConfig::perfect());
    let h = node.peer(fetcher).fetch(track, loc(0, 0), loc(2, 0), 10).unwrap();
    node.pump();
    for (request, ..) in incoming_fetches(&mut publisher, &mut node) {
        let s = node.peer(publisher.conn);
        s.accept_fetch(request, loc(2, 0)).unwrap();
        s.write_fetch_object(request, 0, 0, sluice::ObjectWrite::new(0, frame(0, 0, LEN))).unwrap();
    }
    node.pump();
    node.net.disconnect(publisher.conn, 0, "gone");
    node.pump();
    let f = Fetched::take(&mut node, fetcher, h);
    assert_eq!(f.ids(), vec![(0, 0)]);
    assert_eq!(f.ended, Some(StreamResetCode::UNKNOWN_OBJECT_STATUS.0));
    assert_eq!(node.relay.forwarded(), 0);
}

/// The largest QUIC varint: an End of Range marker's "to the end of the group".
const GROUP_END: u64 = (1 << 62) - 1;

/// Five groups of 4 objects; the cache keeps the last two (3 and 4).
fn partly_cached(publisher_version: Version, config: RelayConfig) -> (Node, Publisher, TrackName, ConnId) {
    let config = RelayConfig { cache_groups: 2, ..config };
    let (mut node, publisher, track, _sub) = live_track(publisher_version, DRAFT18, config, 5);
    let (_, fetcher) = node.connect(DRAFT18, LinkConfig::perfect());
    assert_eq!(node.relay.cached(&track).0, 2);
    (node, publisher, track, fetcher)
}

/// A FETCH whose range the cache covers from group 3 on: groups 1 and 2 are fetched
/// upstream (from every publisher version), delivered first, then the cached groups, on the
/// one downstream fetch stream, in order and byte-identical; the downstream FETCH_OK is
/// sent at once with the end the cache gives, and no object goes before upstream answers.
#[test]
fn a_partly_cached_range_is_filled_from_upstream_then_served_from_the_cache() {
    for publisher_version in ALL {
        let (mut node, mut publisher, track, fetcher) = partly_cached(publisher_version, config());
        // End Location (4, 2): up to object (4, 1).
        let h = node.peer(fetcher).fetch(track.clone(), loc(1, 2), loc(4, 2), 10).unwrap();
        node.pump();
        let early = Fetched::take(&mut node, fetcher, h);
        assert_eq!(early.accepted, Some(loc(4, 2)), "{publisher_version:?}: FETCH_OK from the cache");
        assert!(early.objects.is_empty(), "{publisher_version:?}: nothing before upstream answers");
        let mut f = Fetched::default();
        let mut asked = Vec::new();
        loop {
            let fetches = incoming_fetches(&mut publisher, &mut node);
            if fetches.is_empty() {
                break;
            }
            for (request, start, end) in fetches {
                asked.push((start, end));
                let session = node.peer(publisher.conn);
                let stop = if publisher_version == DRAFT18 { loc(3, 0) } else { loc(start.group + 1, 0) };
                session.accept_fetch(request, end.unwrap_or(stop)).unwrap();
                for g in start.group..stop.group {
                    for o in 0..4 {
                        if loc(g, o) < start {
                            continue;
                        }
                        let mut w = sluice::ObjectWrite::new(o, frame(g, o, LEN));
                        w.timestamp = Some(o);
                        session.write_fetch_object(request, g, 0, w).unwrap();
                    }
                }
                session.finish_fetch(request).unwrap();
            }
            node.pump();
            let got = Fetched::take(&mut node, fetcher, h);
            f.objects.extend(got.objects);
            f.gaps.extend(got.gaps);
            f.ended = f.ended.or(got.ended);
        }
        // Upstream was asked only for what the cache lacks: MOQT End Location (2, 0) = the
        // whole group 2; lite one group at a time.
        let want_asked = if publisher_version == DRAFT18 {
            vec![(loc(1, 2), Some(loc(2, 0)))]
        } else {
            vec![(loc(1, 0), Some(loc(2, 0))), (loc(2, 0), Some(loc(3, 0)))]
        };
        assert_eq!(asked, want_asked, "{publisher_version:?}");
        assert_eq!(f.ids(), ids([(1, 2..4), (2, 0..4), (3, 0..4), (4, 0..2)]), "{publisher_version:?}");
        f.assert_bytes();
        assert_eq!(f.gaps, vec![], "{publisher_version:?}");
        assert_eq!(f.ended, Some(0), "{publisher_version:?}");
        assert_eq!(node.relay.stats().fetches_filled, 1);
        assert_eq!(node.relay.forwarded(), 0);
    }
}

/// The fill budget (FILL_TIMEOUT 50 ms) runs out while upstream has brought only group 1:
/// the upstream fetch is cancelled, group 2 is reported as one End of Unknown Range, and
/// the cached groups are still delivered, then FIN (draft-18 "FILL TIMEOUT Parameter").
#[test]
fn a_fill_budget_running_out_reports_the_rest_unknown_and_still_serves_the_cache() {
    for publisher_version in ALL {
        let (mut node, mut publisher, track, fetcher) = partly_cached(publisher_version, config());
        let options = sluice::FetchOptions { priority: 10, fill_timeout_ms: Some(50) };
        let h = node.peer(fetcher).fetch_with(track.clone(), loc(1, 2), loc(4, 2), options).unwrap();
        node.pump();
        // Upstream answers group 1 only, and never group 2.
        for (request, start, _) in incoming_fetches(&mut publisher, &mut node) {
            let session = node.peer(publisher.conn);
            session.accept_fetch(request, loc(3, 0)).unwrap();
            for o in start.object..4 {
                let mut w = sluice::ObjectWrite::new(o, frame(1, o, LEN));
                w.timestamp = Some(o);
                session.write_fetch_object(request, 1, 0, w).unwrap();
            }
            if publisher_version != DRAFT18 {
                session.finish_fetch(request).unwrap();
            }
        }
        node.pump();
        node.tick(45);
        let before = Fetched::take(&mut node, fetcher, h);
        assert_eq!(before.ended, None, "{publisher_version:?}: still within the budget");
        node.tick(10);
        let after = Fetched::take(&mut node, fetcher, h);
        let mut objects = before.objects;
        objects.extend(after.objects);
        let f = Fetched { objects, gaps: after.gaps, ended: after.ended, accepted: before.accepted };
        assert_eq!(f.ids(), ids([(1, 2..4), (3, 0..4), (4, 0..2)]), "{publisher_version:?}");
        f.assert_bytes();
        assert_eq!(f.gaps, vec![(loc(2, GROUP_END), true)], "{publisher_version:?}");
        assert_eq!(f.ended, Some(0), "{publisher_version:?}");
        assert_eq!(node.relay.stats().fetch_fills_timed_out, 1);
        assert_eq!(node.relay.forwarded(), 0, "{publisher_version:?}: upstream fetch forgotten");
    }
}

/// Nothing of the range is cached and upstream never answers: after the relay's default
/// budget (no FILL_TIMEOUT) the fetch is accepted with its own end, the whole range is
/// Unknown, FIN. A FILL_TIMEOUT above `fetch_fill_max` is cut to it.
#[test]
fn the_default_and_maximum_fill_budgets_bound_a_wholly_forwarded_fetch() {
    let budgets = RelayConfig {
        fetch_fill_default: Duration::from_millis(30),
        fetch_fill_max: Duration::from_millis(40),
        ..config()
    };
    for (fill, budget) in [(None, 30), (Some(10_000), 40)] {
        let (mut node, mut publisher, track, fetcher) = partly_cached(DRAFT18, budgets.clone());
        let options = sluice::FetchOptions { priority: 10, fill_timeout_ms: fill };
        let h = node.peer(fetcher).fetch_with(track.clone(), loc(0, 0), loc(1, 0), options).unwrap();
        node.pump();
        assert_eq!(incoming_fetches(&mut publisher, &mut node).len(), 1, "forwarded whole");
        node.tick(budget - 1);
        assert_eq!(Fetched::take(&mut node, fetcher, h).ended, None, "{fill:?}");
        node.tick(1);
        let f = Fetched::take(&mut node, fetcher, h);
        assert_eq!(f.accepted, Some(loc(1, 0)), "{fill:?}");
        assert_eq!(f.gaps, vec![(loc(1, GROUP_END), true)], "{fill:?}");
        assert!(f.objects.is_empty());
        assert_eq!(f.ended, Some(0), "{fill:?}");
        assert_eq!(node.relay.forwarded(), 0);
    }
}

/// FILL_TIMEOUT 0 (fill-timeout-1): the relay never asks upstream and never waits; what the
/// cache lacks is reported Unknown, what it has is delivered at once.
#[test]
fn fill_timeout_zero_never_contacts_upstream() {
    for publisher_version in ALL {
        let (mut node, mut publisher, track, fetcher) = partly_cached(publisher_version, config());
        let zero = sluice::FetchOptions { priority: 10, fill_timeout_ms: Some(0) };
        // Partly cached.
        let h = node.peer(fetcher).fetch_with(track.clone(), loc(1, 2), loc(4, 2), zero).unwrap();
        // Not cached at all: End Location (1, 0) = group 1 whole.
        let none = node.peer(fetcher).fetch_with(track.clone(), loc(0, 1), loc(1, 0), zero).unwrap();
        node.pump();
        assert!(incoming_fetches(&mut publisher, &mut node).is_empty(), "{publisher_version:?}");
        assert_eq!(node.relay.forwarded(), 0);
        let events = node.events(fetcher);
        let take = |request| {
            let mut f = Fetched::default();
            for e in &events {
                match e {
                    Event::Object { request: r, info, payload } if *r == request => {
                        f.objects.push((info.group, info.object, payload.to_bytes()))
                    }
                    Event::FetchAccepted { request: r, end, .. } if *r == request => f.accepted = Some(*end),
                    Event::FetchGap { request: r, through, unknown } if *r == request => {
                        f.gaps.push((*through, *unknown))
                    }
                    Event::FetchEnded { request: r, reason } if *r == request => f.ended = Some(reason.code),
                    _ => {}
                }
            }
            f
        };
        let f = take(h);
        assert_eq!(f.accepted, Some(loc(4, 2)));
        assert_eq!(f.gaps, vec![(loc(2, GROUP_END), true)], "{publisher_version:?}");
        assert_eq!(f.ids(), ids([(3, 0..4), (4, 0..2)]));
        f.assert_bytes();
        assert_eq!(f.ended, Some(0));
        let f = take(none);
        assert_eq!(
            (f.accepted, f.gaps.clone(), f.ids(), f.ended),
            (Some(loc(1, 0)), vec![(loc(1, GROUP_END), true)], vec![], Some(0))
        );
    }
}

/// fetch-handling-3 through the relay: a subscriber's FETCH starting past the Largest
/// Object the relay published to it is refused INVALID_RANGE by the relay's session
/// itself, never forwarded.
#[test]
fn a_fetch_past_the_largest_object_is_refused_by_the_relay() {
    for publisher_version in ALL {
        let (mut node, mut publisher, track, sub) = live_track(publisher_version, DRAFT18, config(), 3);
        node.events(sub);
        let h = node.peer(sub).fetch(track.clone(), loc(3, 0), loc(4, 0), 10).unwrap();
        node.pump();
        let f = Fetched::take(&mut node, sub, h);
        assert_eq!(f.ended, Some(RequestErrorCode::INVALID_RANGE.0), "{publisher_version:?}");
        assert!(incoming_fetches(&mut publisher, &mut node).is_empty());
        // At the Largest Object (2, 3) itself it is served.
        let h = node.peer(sub).fetch(track.clone(), loc(2, 3), loc(4, 0), 10).unwrap();
        node.pump();
        assert_eq!(Fetched::take(&mut node, sub, h).ids(), vec![(2, 3)], "{publisher_version:?}");
    }
}

/// A partly cached fetch whose upstream part is refused does not fail: the uncached part
/// is reported Unknown and the cached rest is delivered (draft-18 §Fetch Handling: a
/// publisher may "indicate the range of unknown Objects and continue serving other known
/// Objects").
#[test]
fn a_refused_upstream_fill_becomes_an_unknown_gap_before_the_cached_rest() {
    for publisher_version in ALL {
        let (mut node, mut publisher, track, fetcher) = partly_cached(publisher_version, config());
        let h = node.peer(fetcher).fetch(track.clone(), loc(1, 2), loc(4, 2), 10).unwrap();
        node.pump();
        let code = if publisher_version == DRAFT18 {
            // Not INTERNAL_ERROR: its code 0 reads as a clean end in `FetchEnded`.
            RequestErrorCode::UNAUTHORIZED.0
        } else {
            sluice::lite::codes::NOT_FOUND
        };
        for _ in 0..2 {
            for (request, ..) in incoming_fetches(&mut publisher, &mut node) {
                node.peer(publisher.conn).reject(request, code, "no").unwrap();
            }
            node.pump();
        }
        let f = Fetched::take(&mut node, fetcher, h);
        assert_eq!(f.accepted, Some(loc(4, 2)), "{publisher_version:?}");
        assert_eq!(f.ids(), ids([(3, 0..4), (4, 0..2)]), "{publisher_version:?}");
        f.assert_bytes();
        // lite refuses group by group: group 1, then group 2, each an Unknown range.
        let want = if publisher_version == DRAFT18 {
            vec![(loc(2, GROUP_END), true)]
        } else {
            vec![(loc(1, GROUP_END), true), (loc(2, GROUP_END), true)]
        };
        assert_eq!(f.gaps, want, "{publisher_version:?}");
        assert_eq!(f.ended, Some(0), "{publisher_version:?}");
        assert_eq!(node.relay.forwarded(), 0);
    }
}
