//! Random command sequences on two well-behaved MOQT sessions: neither ever accuses the
//! other of a violation, and closing empties every table on both sides.

use bytes::Bytes;
use proptest::prelude::*;
use sluice::{
    Config, Event, Location, MoqtVersion, Namespace, ObjectWrite, RequestHandle, StreamId, SubscribeOptions,
    TrackInfo, TrackName, Version,
};
use sluice_sim::{Pair, Side};

#[derive(Debug, Clone)]
enum Op {
    Subscribe(bool, u8),
    Update(bool, usize, u8),
    Cancel(bool, usize),
    Open(bool, usize, u64),
    Write(bool, usize, usize),
    Close(bool, usize, bool),
    Datagram(bool, usize),
    End(bool, usize),
    Announce(bool, u8),
    Discover(bool, u8),
    Fetch(bool),
    Publish(bool),
    TrackStatus(bool),
    Wait(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let b = any::<bool>();
    let i = 0usize..4;
    prop_oneof![
        (b, any::<u8>()).prop_map(|(s, p)| Op::Subscribe(s, p)),
        (b, i.clone(), any::<u8>()).prop_map(|(s, i, p)| Op::Update(s, i, p)),
        (b, i.clone()).prop_map(|(s, i)| Op::Cancel(s, i)),
        (b, i.clone(), 0u64..4).prop_map(|(s, i, g)| Op::Open(s, i, g)),
        (b, i.clone(), 0usize..40).prop_map(|(s, i, n)| Op::Write(s, i, n)),
        (b, i.clone(), any::<bool>()).prop_map(|(s, i, e)| Op::Close(s, i, e)),
        (b, i.clone()).prop_map(|(s, i)| Op::Datagram(s, i)),
        (b, i.clone()).prop_map(|(s, i)| Op::End(s, i)),
        (b, 0u8..3).prop_map(|(s, n)| Op::Announce(s, n)),
        (b, 0u8..3).prop_map(|(s, n)| Op::Discover(s, n)),
        b.prop_map(Op::Fetch),
        b.prop_map(Op::Publish),
        b.prop_map(Op::TrackStatus),
        (0u64..700).prop_map(Op::Wait),
    ]
}

fn side(client: bool) -> Side {
    if client { Side::Client } else { Side::Server }
}

#[derive(Default)]
struct Book {
    /// Per side: subscriptions it made / accepted publishes it receives.
    subs: [Vec<RequestHandle>; 2],
    /// Per side: subscriptions it serves.
    serving: [Vec<RequestHandle>; 2],
    /// Per side: open subgroup streams and their next object id.
    streams: [Vec<(StreamId, u64)>; 2],
}

fn idx(s: Side) -> usize {
    match s {
        Side::Client => 0,
        Side::Server => 1,
    }
}

/// Answers every incoming request the way a cooperative application would.
fn answer(p: &mut Pair, book: &mut Book) {
    for _ in 0..4 {
        let mut any = false;
        for s in [Side::Client, Side::Server] {
            for e in p.take_events(s) {
                any = true;
                let sess = p.session(s);
                match e {
                    Event::IncomingSubscribe { request, .. }
                        if sess.accept_subscribe(request, TrackInfo::default()).is_ok() =>
                    {
                        book.serving[idx(s)].push(request)
                    }
                    Event::IncomingPublish { request, .. }
                        if sess.accept_publish(request, SubscribeOptions::default()).is_ok() =>
                    {
                        book.subs[idx(s)].push(request)
                    }
                    Event::PublishAccepted { request, .. } => book.serving[idx(s)].push(request),
                    Event::Subscribed { request, .. } => book.subs[idx(s)].push(request),
                    Event::IncomingAnnounce { request, .. } => {
                        let _ = sess.accept_announce(request);
                    }
                    Event::IncomingFetch { request, start, .. } => {
                        let _ = sess.accept_fetch(request, Location { group: start.group + 1, object: 0 });
                        let _ = sess.write_fetch_object(
                            request,
                            start.group,
                            0,
                            ObjectWrite::new(0, Bytes::from_static(b"f")),
                        );
                        let _ = sess.finish_fetch(request);
                    }
                    Event::IncomingTrackStatus { request, .. } => {
                        let _ = sess.accept_subscribe(request, TrackInfo::default());
                    }
                    Event::Closed { .. } => panic!("unexpected close: {e:?}"),
                    _ => {}
                }
            }
            p.run();
        }
        if !any {
            break;
        }
    }
}

fn pick<T: Copy>(v: &[T], i: usize) -> Option<T> {
    if v.is_empty() { None } else { v.get(i % v.len()).copied() }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn cooperative_sessions_never_fail(ops in proptest::collection::vec(op(), 1..30)) {
        let mut p = Pair::new(Version::Moqt(MoqtVersion::Draft18), Config::default(), Config::default());
        p.take_events(Side::Client);
        p.take_events(Side::Server);
        let mut book = Book::default();
        let track = |n: u8| TrackName::new(Namespace::from_fields(["r", &n.to_string()]), "t");
        for op in ops {
            match op {
                Op::Subscribe(c, pr) => {
                    let _ = p.session(side(c)).subscribe(track(pr % 3), SubscribeOptions { priority: pr, ..SubscribeOptions::default() });
                }
                Op::Update(c, i, pr) => {
                    if let Some(h) = pick(&book.subs[idx(side(c))], i) {
                        let _ = p.session(side(c)).update_subscription(h, SubscribeOptions { priority: pr, ..SubscribeOptions::default() });
                    }
                }
                Op::Cancel(c, i) => {
                    if let Some(h) = pick(&book.subs[idx(side(c))], i) {
                        let _ = p.session(side(c)).cancel(h);
                    }
                }
                Op::Open(c, i, g) => {
                    if let Some(h) = pick(&book.serving[idx(side(c))], i)
                        && let Ok(st) = p.session(side(c)).open_subgroup(h, g, g % 2, None)
                    {
                        book.streams[idx(side(c))].push((st, 0));
                    }
                }
                Op::Write(c, i, n) => {
                    let v = &mut book.streams[idx(side(c))];
                    if !v.is_empty() {
                        let k = i % v.len();
                        let (st, next) = v[k];
                        if p.session(side(c)).write_object(st, ObjectWrite::new(next, Bytes::from(vec![7u8; n]))).is_ok() {
                            book.streams[idx(side(c))][k].1 = next + 1;
                        }
                    }
                }
                Op::Close(c, i, eog) => {
                    if let Some((st, _)) = pick(&book.streams[idx(side(c))], i) {
                        let _ = p.session(side(c)).close_subgroup(st, eog);
                        book.streams[idx(side(c))].retain(|(s, _)| *s != st);
                    }
                }
                Op::Datagram(c, i) => {
                    if let Some(h) = pick(&book.serving[idx(side(c))], i) {
                        let _ = p.session(side(c)).send_datagram(h, 1, ObjectWrite::new(3, Bytes::from_static(b"d")));
                    }
                }
                Op::End(c, i) => {
                    if let Some(h) = pick(&book.serving[idx(side(c))], i) {
                        let _ = p.session(side(c)).end_subscription(h, 2, "end");
                    }
                }
                Op::Announce(c, n) => {
                    let _ = p.session(side(c)).announce(Namespace::from_fields(["r", &n.to_string()]));
                }
                Op::Discover(c, n) => {
                    let prefix = if n == 0 { Namespace::default() } else { Namespace::from_fields(["r"]) };
                    let _ = p.session(side(c)).discover(prefix);
                }
                Op::Fetch(c) => {
                    let _ = p.session(side(c)).fetch(track(0), Location { group: 0, object: 0 }, Location { group: 1, object: 0 }, 0);
                }
                Op::Publish(c) => {
                    let _ = p.session(side(c)).publish(track(1), TrackInfo::default());
                }
                Op::TrackStatus(c) => {
                    let _ = p.session(side(c)).track_status(track(2));
                }
                Op::Wait(ms) => p.advance(std::time::Duration::from_millis(ms)),
            }
            p.run();
            answer(&mut p, &mut book);
            prop_assert!(!p.client.is_closed() && !p.server.is_closed());
        }
        p.client.close(0, "done");
        p.run();
        prop_assert_eq!(p.client.table_sizes(), 0);
        prop_assert_eq!(p.server.table_sizes(), 0);
    }
}
