//! moq-lite hop paths through relays: `Session::announce_relayed` carries the path a
//! broadcast came by in our announces, and `Session::discovered_hops` reports the path of
//! a discovered one (lite-04/05 §Hop IDs), so a relay can refuse its own announce coming
//! back around a loop.

mod lite_common;

use bytes::Bytes;
use lite_common::*;
use sluice::{Config, Event, LiteVersion, Namespace, Output, Role};
use sluice_sim::Side;

fn ns(fields: &[&str]) -> Namespace {
    Namespace::from_fields(fields.iter().copied())
}

#[test]
fn relayed_announce_bytes_carry_the_path() {
    // Upstream path [3, 5], our Hop ID 7.
    // lite-05: ANNOUNCE_OK {hop 7, 1 active}, then ANNOUNCE_BROADCAST {active, "/a", [3, 5]}.
    // lite-04: ANNOUNCE {active, "/a", [3, 5, 7]} (the sender appends itself).
    for (v, want) in [
        (LiteVersion::Lite05, vec![0x02, 0x07, 0x01, 0x07, 0x01, 0x02, b'/', b'a', 0x02, 0x03, 0x05]),
        (LiteVersion::Lite04, vec![0x08, 0x01, 0x02, b'/', b'a', 0x03, 0x03, 0x05, 0x07]),
    ] {
        let mut raw = Raw::ready(v, Role::Server, Config { lite_hop_id: 7, ..Config::default() });
        raw.s.announce_relayed(ns(&["x", "a"]), vec![3, 5]).unwrap();
        raw.drain();
        let (id, out) = raw.stream(true, &[0x01, 0x03, 0x01, b'x', 0x00]);
        assert_eq!(
            out,
            vec![Output::Write {
                stream: id,
                header: Bytes::from(want).into(),
                payload: Bytes::new(),
                fin: false
            }],
            "{v:?}"
        );
    }
}

#[test]
fn discovery_reports_the_full_hop_path() {
    for v in VERSIONS {
        let client = Config { lite_hop_id: 9, ..Config::default() };
        let server = Config { lite_hop_id: 7, ..Config::default() };
        let mut p = pair_with(v, client, server);
        let relayed = p.server.announce_relayed(ns(&["far"]), vec![3]).unwrap();
        p.server.announce(ns(&["near"])).unwrap();
        let d = p.client.discover(ns(&[])).unwrap();
        p.run();
        let found = p.take_events(Side::Client);
        assert!(found.contains(&Event::NamespaceFound { request: d, namespace: ns(&["far"]) }), "{v:?}");
        // Origin first, the announcing peer last.
        assert_eq!(p.client.discovered_hops(d, &ns(&["far"])), Some(vec![3, 7]), "{v:?}");
        assert_eq!(p.client.discovered_hops(d, &ns(&["near"])), Some(vec![7]), "{v:?}");
        // Withdrawn: the path is forgotten on both sides.
        p.server.cancel(relayed).unwrap();
        p.run();
        assert_eq!(p.client.discovered_hops(d, &ns(&["far"])), None, "{v:?}");
        p.client.cancel(d).unwrap();
        p.run();
        p.server.close(0, "done");
        p.run();
        assert_eq!(p.server.table_sizes(), 0, "{v:?}");
    }
}
