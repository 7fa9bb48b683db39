//! Network mechanics, tested with scripted endpoints (no MoQ engine involved): stream FIFO
//! order, flow control, bandwidth, priorities, datagram loss and reordering, resets,
//! STOP_SENDING, close, zero copy and determinism.

use std::time::Duration;

use bytes::Bytes;
use sluice::{Input, Output, SendOrder, StreamId, Time};
use sluice_sim::{ConnId, LinkConfig, Network, ScriptedEndpoint, Side, Traced};

type Net = Network<ScriptedEndpoint>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn net_with(link: LinkConfig, seed: u64) -> (Net, ConnId) {
    let mut net = Net::new(seed);
    let conn = net.connect(ScriptedEndpoint::new(), ScriptedEndpoint::new(), link);
    (net, conn)
}

/// (arrival time, data) of every chunk received on `stream`.
fn arrivals(ep: &ScriptedEndpoint, stream: StreamId) -> Vec<(Time, Bytes)> {
    ep.received
        .iter()
        .filter_map(|(t, input)| match input {
            Input::StreamData { stream: s, data } if *s == stream => Some((*t, data.clone())),
            _ => None,
        })
        .collect()
}

fn received_bytes(ep: &ScriptedEndpoint, stream: StreamId) -> usize {
    ep.stream_chunks(stream).iter().map(Bytes::len).sum()
}

fn inputs_matching(ep: &ScriptedEndpoint, f: impl Fn(&Input) -> bool) -> Vec<(Time, Input)> {
    ep.received.iter().filter(|(_, i)| f(i)).cloned().collect()
}

#[test]
fn streams_stay_fifo_under_jitter_while_datagrams_do_not() {
    let link = LinkConfig::perfect().with_latency(ms(5)).with_jitter(ms(20));
    let (mut net, conn) = net_with(link, 3);
    let stream = net.endpoint_mut(conn, Side::Client).open_stream(false, SendOrder(0));
    for i in 0u8..50 {
        let c = net.endpoint_mut(conn, Side::Client);
        c.write(stream, Bytes::from(vec![i; 10]), i == 49);
        c.datagram(Bytes::from(vec![i]));
        net.advance(ms(1));
    }
    net.settle();
    let server = net.endpoint(conn, Side::Server);
    let peer = server.opened_streams()[0];
    let got = arrivals(server, peer);
    let order: Vec<u8> = got.iter().map(|(_, d)| d[0]).collect();
    assert_eq!(order, (0u8..50).collect::<Vec<_>>());
    assert!(got.windows(2).all(|w| w[0].0 <= w[1].0), "stream arrivals go back in time");
    // The jitter really was there: some chunks waited behind a slower predecessor.
    let distinct: std::collections::BTreeSet<Time> = got.iter().map(|(t, _)| *t).collect();
    assert!(distinct.len() > 10);
    assert!(got.iter().all(|(t, _)| *t >= Time::from_millis(5)));
    // The FIN comes after the last byte.
    let last = server.received.iter().rposition(|(_, i)| matches!(i, Input::StreamData { .. })).unwrap();
    let fin = server.received.iter().position(|(_, i)| *i == Input::StreamFinished { stream: peer }).unwrap();
    assert!(fin > last);
    // Datagrams under the same jitter arrive complete but out of order.
    let datagrams: Vec<u8> = server.datagrams().iter().map(|d| d[0]).collect();
    let mut sorted = datagrams.clone();
    sorted.sort();
    assert_eq!(sorted, (0u8..50).collect::<Vec<_>>());
    assert_ne!(datagrams, sorted);
}

#[test]
fn stream_window_blocks_the_sender_until_credit_returns_then_wakes_it() {
    let link = LinkConfig::perfect().with_latency(ms(10)).with_stream_window(1000);
    let (mut net, conn) = net_with(link, 1);
    let stream = net.endpoint_mut(conn, Side::Client).open_stream(false, SendOrder(0));
    net.endpoint_mut(conn, Side::Client).write(stream, Bytes::from(vec![1u8; 2500]), true);
    net.run();
    let peer = StreamId(2); // the client's first unidirectional stream (RFC 9000 §2.1)

    net.advance(ms(10));
    assert_eq!(received_bytes(net.endpoint(conn, Side::Server), peer), 1000);
    net.advance(ms(19));
    assert_eq!(received_bytes(net.endpoint(conn, Side::Server), peer), 1000, "sent beyond the window");
    net.advance(ms(1)); // t = 30: the credit came back at 20, the second window lands now
    assert_eq!(received_bytes(net.endpoint(conn, Side::Server), peer), 2000);
    net.settle();
    assert_eq!(received_bytes(net.endpoint(conn, Side::Server), peer), 2500);

    let client = net.endpoint(conn, Side::Client);
    let writable = inputs_matching(client, |i| matches!(i, Input::Writable { .. }));
    // The backlog left when the second credit arrived (t = 40): one wake-up, on our handle.
    assert_eq!(writable, vec![(Time::from_millis(40), Input::Writable { stream })]);
    assert_eq!(net.stats(conn).client_to_server.writables, 1);
    let fin =
        inputs_matching(net.endpoint(conn, Side::Server), |i| matches!(i, Input::StreamFinished { .. }));
    assert_eq!(fin, vec![(Time::from_millis(50), Input::StreamFinished { stream: peer })]);
}

#[test]
fn connection_window_is_shared_by_all_streams() {
    let link = LinkConfig::perfect().with_latency(ms(10)).with_connection_window(1500);
    let (mut net, conn) = net_with(link, 1);
    let c = net.endpoint_mut(conn, Side::Client);
    let a = c.open_stream(false, SendOrder(0));
    let b = c.open_stream(false, SendOrder(0));
    c.write(a, Bytes::from(vec![1u8; 1000]), false);
    c.write(b, Bytes::from(vec![2u8; 1000]), false);
    net.advance(ms(10));
    let server = net.endpoint(conn, Side::Server);
    assert_eq!(received_bytes(server, StreamId(2)), 1000);
    assert_eq!(received_bytes(server, StreamId(6)), 500);
    net.settle();
    assert_eq!(received_bytes(net.endpoint(conn, Side::Server), StreamId(6)), 1000);
    let writable = inputs_matching(net.endpoint(conn, Side::Client), |i| matches!(i, Input::Writable { .. }));
    assert_eq!(writable, vec![(Time::from_millis(20), Input::Writable { stream: b })]);
}

#[test]
fn a_paused_reader_holds_credit_until_it_reads_again() {
    let link = LinkConfig::perfect().with_latency(ms(5)).with_stream_window(100);
    let (mut net, conn) = net_with(link, 1);
    net.set_reading(conn, Side::Server, false);
    let stream = net.endpoint_mut(conn, Side::Client).open_stream(false, SendOrder(0));
    net.endpoint_mut(conn, Side::Client).write(stream, Bytes::from(vec![9u8; 250]), false);
    net.advance(ms(100));
    assert!(net.endpoint(conn, Side::Server).received.is_empty(), "a paused reader was handed data");
    assert_eq!(net.stats(conn).client_to_server.stream_bytes, 100);

    net.set_reading(conn, Side::Server, true); // t = 100: reads the held window
    let server = net.endpoint(conn, Side::Server);
    assert_eq!(
        server.received[0],
        (Time::from_millis(100), Input::StreamOpened { stream: StreamId(2), bidi: false })
    );
    assert_eq!(received_bytes(server, StreamId(2)), 100);
    net.settle();
    assert_eq!(received_bytes(net.endpoint(conn, Side::Server), StreamId(2)), 250);
    let writable = inputs_matching(net.endpoint(conn, Side::Client), |i| matches!(i, Input::Writable { .. }));
    // Credit for the held window is back at 105; the next window's at 115, when the last
    // 50 bytes leave and the backlog is gone.
    assert_eq!(writable, vec![(Time::from_millis(115), Input::Writable { stream })]);
}

#[test]
fn bandwidth_limit_is_respected_over_time() {
    // 100 kB/s, 1000-byte packets: one packet every 10 ms.
    let link = LinkConfig::perfect().with_bandwidth(100_000).with_packet_size(1000).with_latency(ms(5));
    let (mut net, conn) = net_with(link, 1);
    let stream = net.endpoint_mut(conn, Side::Client).open_stream(false, SendOrder(0));
    net.endpoint_mut(conn, Side::Client).write(stream, Bytes::from(vec![0u8; 50_000]), true);
    net.advance(ms(255));
    // Packets finish serialising at 10, 20, ... ms and land 5 ms later: 25 by t = 255.
    assert_eq!(received_bytes(net.endpoint(conn, Side::Server), StreamId(2)), 25_000);
    // The last packet lands at 505 ms; the link is quiet once its credit is back at 510.
    let end = net.settle();
    assert_eq!(end, Time::from_millis(510));
    let got = arrivals(net.endpoint(conn, Side::Server), StreamId(2));
    assert_eq!(got.len(), 50);
    for (i, (t, data)) in got.iter().enumerate() {
        assert_eq!(*t, Time::from_millis(10 * (i as u64 + 1) + 5));
        assert_eq!(data.len(), 1000);
    }
    // Datagrams share the link: one sent now waits for the packet on the wire.
    net.endpoint_mut(conn, Side::Client).datagram(Bytes::from(vec![1u8; 500]));
    let sent_at = net.now();
    net.settle();
    let (t, _) = net.endpoint(conn, Side::Server).received.last().cloned().unwrap();
    assert_eq!(t, sent_at + ms(5) + ms(5));
}

#[test]
fn higher_send_order_goes_first_when_the_link_is_congested() {
    let link = LinkConfig::perfect().with_bandwidth(100_000).with_packet_size(1000);
    let (mut net, conn) = net_with(link, 1);
    let c = net.endpoint_mut(conn, Side::Client);
    let low = c.open_stream(false, SendOrder(1));
    let high = c.open_stream(false, SendOrder(5));
    c.write(low, Bytes::from(vec![b'l'; 5000]), false);
    c.write(high, Bytes::from(vec![b'h'; 5000]), false);
    net.settle();
    let server = net.endpoint(conn, Side::Server);
    let order: String = server
        .received
        .iter()
        .filter_map(|(_, i)| match i {
            Input::StreamData { data, .. } => Some(data[0] as char),
            _ => None,
        })
        .collect();
    // The low stream had the link first; after that packet the high one takes over.
    assert_eq!(order, "lhhhhhllll");

    // SetOrder re-ranks a stream mid-transfer.
    let c = net.endpoint_mut(conn, Side::Client);
    c.write(low, Bytes::from(vec![b'L'; 3000]), false);
    c.write(high, Bytes::from(vec![b'H'; 3000]), false);
    c.push(Output::SetOrder { stream: low, order: SendOrder(9) });
    net.settle();
    let tail: String = net
        .endpoint(conn, Side::Server)
        .received
        .iter()
        .filter_map(|(_, i)| match i {
            Input::StreamData { data, .. } => Some(data[0] as char),
            _ => None,
        })
        .skip(10)
        .collect();
    assert_eq!(tail, "LLLHHH");
}

#[test]
fn equal_send_orders_share_the_link_round_robin() {
    let link = LinkConfig::perfect().with_bandwidth(1_000_000).with_packet_size(100);
    let (mut net, conn) = net_with(link, 1);
    let c = net.endpoint_mut(conn, Side::Client);
    let a = c.open_stream(false, SendOrder(0));
    let b = c.open_stream(false, SendOrder(0));
    c.write(a, Bytes::from(vec![b'a'; 300]), false);
    c.write(b, Bytes::from(vec![b'b'; 300]), false);
    net.settle();
    let order: String = net
        .endpoint(conn, Side::Server)
        .received
        .iter()
        .filter_map(|(_, i)| match i {
            Input::StreamData { data, .. } => Some(data[0] as char),
            _ => None,
        })
        .collect();
    assert_eq!(order, "ababab");
}

#[test]
fn datagram_loss_matches_the_probability_and_is_fixed_by_the_seed() {
    let link = LinkConfig::perfect().with_datagram_loss(0.1);
    let (mut net, conn) = net_with(link, 7);
    net.record_trace(true);
    for i in 0u32..10_000 {
        net.endpoint_mut(conn, Side::Client).datagram(Bytes::from(i.to_be_bytes().to_vec()));
    }
    net.settle();
    let received = net.endpoint(conn, Side::Server).datagrams().len();
    let stats = net.stats(conn).client_to_server;
    assert_eq!(stats.datagrams_sent, 10_000);
    assert_eq!(stats.datagrams_lost as usize + received, 10_000);
    // Binomial(10000, 0.1): mean 1000, sd 30.
    assert!((900..=1100).contains(&stats.datagrams_lost), "lost {}", stats.datagrams_lost);
    assert_eq!(stats.datagrams_lost, LOST_WITH_SEED_7);
    let lost_in_trace = net.trace().iter().filter(|e| matches!(e.what, Traced::DatagramLost(_))).count();
    assert_eq!(lost_in_trace as u64, LOST_WITH_SEED_7);
}

/// The exact loss count of the test above: pinned so that a change to the RNG or to the
/// order of draws (which would silently change every seeded scenario) fails loudly.
const LOST_WITH_SEED_7: u64 = 1016;

#[test]
fn datagrams_are_reordered_by_hold_backs_but_none_lost() {
    let link = LinkConfig::perfect().with_latency(ms(10)).with_datagram_reorder(0.25, ms(5));
    let (mut net, conn) = net_with(link, 11);
    for i in 0u8..100 {
        net.endpoint_mut(conn, Side::Client).datagram(Bytes::from(vec![i]));
        net.advance(ms(1));
    }
    net.settle();
    let got: Vec<u8> = net.endpoint(conn, Side::Server).datagrams().iter().map(|d| d[0]).collect();
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(sorted, (0u8..100).collect::<Vec<_>>());
    let overtaken = got.windows(2).filter(|w| w[0] > w[1]).count();
    assert!(overtaken > 0 && overtaken < 50, "{overtaken} inversions");
    // Each datagram arrives 10 ms after it was sent, or 15 ms if held back.
    for (t, input) in &net.endpoint(conn, Side::Server).received {
        let Input::Datagram(d) = input else { panic!("unexpected {input:?}") };
        let delay = *t - Time::from_millis(u64::from(d[0]));
        assert!(delay == ms(10) || delay == ms(15), "delay {delay:?}");
    }
}

#[test]
fn reset_reaches_the_peer_after_data_on_the_wire_and_drops_the_backlog() {
    let link = LinkConfig::perfect().with_latency(ms(10)).with_stream_window(100);
    let (mut net, conn) = net_with(link, 1);
    net.record_trace(true);
    let c = net.endpoint_mut(conn, Side::Client);
    let stream = c.open_stream(false, SendOrder(0));
    c.write(stream, Bytes::from(vec![1u8; 300]), false);
    c.push(Output::Reset { stream, code: 7 });
    c.write(stream, Bytes::from_static(b"late"), false);
    net.settle();
    let server = net.endpoint(conn, Side::Server);
    assert_eq!(
        server.received,
        vec![
            (Time::from_millis(10), Input::StreamOpened { stream: StreamId(2), bidi: false }),
            (
                Time::from_millis(10),
                Input::StreamData { stream: StreamId(2), data: Bytes::from(vec![1u8; 100]) }
            ),
            (Time::from_millis(10), Input::StreamReset { stream: StreamId(2), code: 7 }),
        ]
    );
    let refused: Vec<_> = net.trace().iter().filter(|e| matches!(e.what, Traced::Refused(..))).collect();
    assert_eq!(refused.len(), 1);
    assert!(matches!(refused[0].what, Traced::Refused(Output::Write { .. }, "stream reset")));
    // The reset released the stream's credit; no wake-up for an abandoned backlog.
    assert!(
        inputs_matching(net.endpoint(conn, Side::Client), |i| matches!(i, Input::Writable { .. })).is_empty()
    );
}

#[test]
fn stop_sending_is_reported_to_the_sender_and_resets_the_stream() {
    let link = LinkConfig::perfect().with_latency(ms(10));
    let (mut net, conn) = net_with(link, 1);
    let stream = net.endpoint_mut(conn, Side::Client).open_stream(false, SendOrder(0));
    net.endpoint_mut(conn, Side::Client).write(stream, Bytes::from_static(b"first"), false);
    net.advance(ms(10));
    net.endpoint_mut(conn, Side::Server).push(Output::StopSending { stream: StreamId(2), code: 9 });
    net.settle();
    let client = net.endpoint(conn, Side::Client);
    assert_eq!(
        client.received.last(),
        Some(&(Time::from_millis(20), Input::StopSending { stream, code: 9 }))
    );
    let server = net.endpoint(conn, Side::Server);
    assert_eq!(
        server.received.last(),
        Some(&(Time::from_millis(30), Input::StreamReset { stream: StreamId(2), code: 9 }))
    );
}

#[test]
fn bidirectional_streams_carry_replies_under_each_sides_name() {
    let link = LinkConfig::perfect().with_latency(ms(3));
    let (mut net, conn) = net_with(link, 1);
    let stream = net.endpoint_mut(conn, Side::Client).open_stream(true, SendOrder(0));
    net.endpoint_mut(conn, Side::Client).write(stream, Bytes::from_static(b"ping"), false);
    assert_eq!(net.settle(), Time::from_millis(6)); // ping lands at 3, its credit is back at 6
    assert_eq!(net.endpoint(conn, Side::Server).opened_streams(), vec![StreamId(0)]);
    net.endpoint_mut(conn, Side::Server).write(StreamId(0), Bytes::from_static(b"pong"), true);
    net.settle();
    let client = net.endpoint(conn, Side::Client);
    assert_eq!(client.stream_chunks(stream), vec![Bytes::from_static(b"pong")]);
    assert_eq!(client.received.last(), Some(&(Time::from_millis(9), Input::StreamFinished { stream })));
    // The server's own streams get server-initiated ids at the client.
    let s = net.endpoint_mut(conn, Side::Server);
    s.open_stream(true, SendOrder(0));
    s.open_stream(false, SendOrder(0));
    net.settle();
    assert_eq!(net.endpoint(conn, Side::Client).opened_streams(), vec![StreamId(1), StreamId(3)]);
}

#[test]
fn close_is_delivered_once_and_silences_the_connection() {
    let link = LinkConfig::perfect().with_latency(ms(10));
    let (mut net, conn) = net_with(link, 1);
    net.record_trace(true);
    let stream = net.endpoint_mut(conn, Side::Client).open_stream(false, SendOrder(0));
    net.endpoint_mut(conn, Side::Client).push(Output::Close { code: 3, reason: "bye".into() });
    net.endpoint_mut(conn, Side::Client).write(stream, Bytes::from_static(b"after"), false);
    net.advance(ms(5));
    // The server, not yet aware, also closes: that close reaches a closed client and is dropped.
    net.endpoint_mut(conn, Side::Server).push(Output::Close { code: 4, reason: "me too".into() });
    net.settle();
    let server = net.endpoint(conn, Side::Server);
    let closed = inputs_matching(server, |i| matches!(i, Input::Closed { .. }));
    assert!(closed.is_empty(), "a side that closed first was told again: {closed:?}");
    assert!(
        inputs_matching(net.endpoint(conn, Side::Client), |i| matches!(i, Input::Closed { .. })).is_empty()
    );

    let (mut net, conn) = net_with(LinkConfig::perfect().with_latency(ms(10)), 1);
    net.endpoint_mut(conn, Side::Client).push(Output::Close { code: 3, reason: "bye".into() });
    net.endpoint_mut(conn, Side::Client).push(Output::Close { code: 3, reason: "again".into() });
    net.settle();
    net.endpoint_mut(conn, Side::Server).datagram(Bytes::from_static(b"into the void"));
    net.settle();
    let server = net.endpoint(conn, Side::Server);
    assert_eq!(
        server.received,
        vec![(Time::from_millis(10), Input::Closed { code: 3, reason: Bytes::from_static(b"bye") })]
    );
    assert!(net.endpoint(conn, Side::Client).received.is_empty());
    assert!(net.is_closed(conn, Side::Client) && net.is_closed(conn, Side::Server));
}

#[test]
fn disconnect_closes_both_sides_at_once() {
    let (mut net, conn) = net_with(LinkConfig::perfect().with_latency(ms(10)), 1);
    net.endpoint_mut(conn, Side::Client).datagram(Bytes::from_static(b"lost in the break"));
    net.run();
    net.disconnect(conn, 0x10, "idle timeout");
    net.settle();
    for side in [Side::Client, Side::Server] {
        assert_eq!(
            net.endpoint(conn, side).received,
            vec![(Time::ZERO, Input::Closed { code: 0x10, reason: Bytes::from_static(b"idle timeout") })]
        );
    }
}

#[test]
fn payload_bytes_pass_through_without_copies() {
    let payload = Bytes::from(vec![5u8; 4000]);
    let link = LinkConfig::perfect().with_latency(ms(2)).with_jitter(ms(2)).with_datagram_reorder(0.5, ms(1));
    let (mut net, conn) = net_with(link, 5);
    let c = net.endpoint_mut(conn, Side::Client);
    let stream = c.open_stream(false, SendOrder(0));
    c.write(stream, payload.clone(), true);
    c.datagram(payload.clone());
    net.settle();
    let server = net.endpoint(conn, Side::Server);
    let chunks = server.stream_chunks(StreamId(2));
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].as_ptr(), payload.as_ptr());
    assert_eq!(chunks[0].len(), payload.len());
    assert_eq!(server.datagrams()[0].as_ptr(), payload.as_ptr());

    // Cut by packets and windows, the pieces are still views of the same allocation.
    let link =
        LinkConfig::perfect().with_bandwidth(1_000_000).with_packet_size(1000).with_stream_window(1500);
    let (mut net, conn) = net_with(link, 5);
    let c = net.endpoint_mut(conn, Side::Client);
    let stream = c.open_stream(false, SendOrder(0));
    c.write(stream, payload.clone(), true);
    net.settle();
    let chunks = net.endpoint(conn, Side::Server).stream_chunks(StreamId(2));
    assert_eq!(chunks.iter().map(Bytes::len).collect::<Vec<_>>(), vec![1000, 500, 1000, 500, 1000]);
    let mut offset = 0;
    for chunk in chunks {
        assert_eq!(chunk.as_ptr(), payload[offset..].as_ptr());
        offset += chunk.len();
    }
    assert_eq!(offset, payload.len());
}

#[test]
fn endpoint_timers_fire_at_their_deadline_on_the_shared_clock() {
    let (mut net, conn) = net_with(LinkConfig::perfect(), 1);
    let other = net.connect(ScriptedEndpoint::new(), ScriptedEndpoint::new(), LinkConfig::perfect());
    net.endpoint_mut(conn, Side::Server).wake_at(Time::from_millis(7));
    net.endpoint_mut(other, Side::Client).wake_at(Time::from_millis(3));
    net.advance(ms(5));
    assert_eq!(net.endpoint(other, Side::Client).timeouts, vec![Time::from_millis(3)]);
    assert!(net.endpoint(conn, Side::Server).timeouts.is_empty());
    net.advance(ms(5));
    assert_eq!(net.endpoint(conn, Side::Server).timeouts, vec![Time::from_millis(7)]);
    assert_eq!(net.now(), Time::from_millis(10));
}

#[test]
fn a_node_owning_several_connections_forwards_on_one_clock() {
    // publisher --10 ms--> relay --5 ms--> sub A
    //                            --20 ms--> sub B
    let mut net = Net::new(1);
    let upstream = net.connect(
        ScriptedEndpoint::new(),
        ScriptedEndpoint::new(),
        LinkConfig::perfect().with_latency(ms(10)),
    );
    let to_a = net.connect(
        ScriptedEndpoint::new(),
        ScriptedEndpoint::new(),
        LinkConfig::perfect().with_latency(ms(5)),
    );
    let to_b = net.connect(
        ScriptedEndpoint::new(),
        ScriptedEndpoint::new(),
        LinkConfig::perfect().with_latency(ms(20)),
    );
    net.endpoint_mut(upstream, Side::Client).datagram(Bytes::from_static(b"frame"));
    while net.now() < Time::from_millis(50) {
        net.advance(ms(1));
        // The relay logic: whatever arrived upstream goes to every subscriber.
        let arrived = net.endpoint_mut(upstream, Side::Server).take_received();
        for (_, input) in arrived {
            if let Input::Datagram(data) = input {
                for down in [to_a, to_b] {
                    net.endpoint_mut(down, Side::Server).datagram(data.clone());
                }
            }
        }
        net.run();
    }
    let at = |c| net.endpoint(c, Side::Client).received.clone();
    assert_eq!(at(to_a), vec![(Time::from_millis(15), Input::Datagram(Bytes::from_static(b"frame")))]);
    assert_eq!(at(to_b), vec![(Time::from_millis(30), Input::Datagram(Bytes::from_static(b"frame")))]);
}

/// A busy scenario touching every random draw: two connections, jitter, loss, reordering,
/// bandwidth, windows, streams and datagrams in both directions.
fn busy_run(seed: u64) -> Vec<sluice_sim::TraceEntry> {
    let link = LinkConfig::perfect()
        .with_latency(ms(8))
        .with_jitter(ms(6))
        .with_bandwidth(200_000)
        .with_packet_size(700)
        .with_stream_window(3000)
        .with_datagram_loss(0.2)
        .with_datagram_reorder(0.3, ms(4));
    let mut net = Net::new(seed);
    net.record_trace(true);
    let conns = [
        net.connect(ScriptedEndpoint::new(), ScriptedEndpoint::new(), link.clone()),
        net.connect(ScriptedEndpoint::new(), ScriptedEndpoint::new(), link),
    ];
    for (n, conn) in conns.into_iter().enumerate() {
        for side in [Side::Client, Side::Server] {
            let ep = net.endpoint_mut(conn, side);
            let s = ep.open_stream(n == 0, SendOrder(n as i32));
            for i in 0u8..5 {
                ep.write(s, Bytes::from(vec![i; 1500]), i == 4);
                ep.datagram(Bytes::from(vec![i; 100]));
            }
        }
    }
    net.settle();
    net.take_trace()
}

#[test]
fn same_seed_same_trace_different_seed_different_trace() {
    let a = busy_run(99);
    let b = busy_run(99);
    assert!(a.len() > 100);
    assert_eq!(a, b);
    let c = busy_run(100);
    assert_ne!(a, c);
}

#[test]
fn step_stops_at_every_instant_something_happens() {
    let link = LinkConfig::perfect().with_latency(ms(4));
    let (mut net, conn) = net_with(link, 1);
    net.endpoint_mut(conn, Side::Client).datagram(Bytes::from_static(b"a"));
    net.endpoint_mut(conn, Side::Server).wake_at(Time::from_millis(9));
    let mut instants = Vec::new();
    while let Some(t) = net.step() {
        instants.push(t);
        // Node logic between steps: answer every datagram once.
        let got = net.endpoint_mut(conn, Side::Server).take_received();
        if got.iter().any(|(_, i)| matches!(i, Input::Datagram(_))) {
            net.endpoint_mut(conn, Side::Server).datagram(Bytes::from_static(b"b"));
        }
    }
    assert_eq!(instants, vec![Time::from_millis(4), Time::from_millis(8), Time::from_millis(9)]);
    assert_eq!(net.endpoint(conn, Side::Client).datagrams(), vec![Bytes::from_static(b"b")]);
    assert_eq!(net.endpoint(conn, Side::Server).timeouts, vec![Time::from_millis(9)]);
}

/// Random links and random traffic (seeded by the crate's own `Rng`): whatever the
/// impairments, every stream delivers exactly the bytes written, in order, then one FIN;
/// every datagram is delivered or counted lost; Writable only appears when a window
/// exists. (Credit accounting underflow would panic here: tests build with overflow checks.)
#[test]
fn random_impairments_never_corrupt_streams() {
    use sluice_sim::Rng;
    for seed in 0..40u64 {
        let mut r = Rng::new(seed ^ 0x5eed);
        let mut link = LinkConfig::perfect()
            .with_latency(ms(r.up_to(30)))
            .with_jitter(ms(r.up_to(30)))
            .with_datagram_loss(r.unit() * 0.5)
            .with_datagram_reorder(r.unit(), ms(r.up_to(10)))
            .with_packet_size(1 + r.up_to(1500) as usize);
        if r.chance(0.6) {
            link = link.with_bandwidth(10_000 + r.up_to(1_000_000));
        }
        if r.chance(0.6) {
            link = link.with_stream_window(1 + r.up_to(4000));
        }
        if r.chance(0.6) {
            link = link.with_connection_window(1 + r.up_to(8000));
        }
        let (mut net, conn) = net_with(link.clone(), seed);
        // (side, our handle, the peer's id for it, bytes written in order).
        let mut written: Vec<(Side, StreamId, StreamId, Vec<u8>)> = Vec::new();
        let mut opened = [[0u64; 2]; 2];
        let mut datagrams = 0usize;
        for step in 0..60u64 {
            let side = if r.chance(0.5) { Side::Client } else { Side::Server };
            match r.up_to(3) {
                0 if written.len() < 12 => {
                    let order = SendOrder(r.up_to(4) as i32);
                    let bidi = r.chance(0.3);
                    let s = net.endpoint_mut(conn, side).open_stream(bidi, order);
                    // RFC 9000 §2.1 numbering, per opener and direction.
                    let (who, kind) = (usize::from(side == Side::Server), usize::from(!bidi));
                    let peer = StreamId((opened[who][kind] << 2) | (kind as u64) << 1 | who as u64);
                    opened[who][kind] += 1;
                    written.push((side, s, peer, Vec::new()));
                }
                1 | 0 if !written.is_empty() => {
                    let i = r.up_to(written.len() as u64 - 1) as usize;
                    let (side, s, _, bytes) = &mut written[i];
                    let len = r.up_to(3000) as usize;
                    let data: Vec<u8> = (0..len).map(|k| (k as u64 + step) as u8).collect();
                    bytes.extend_from_slice(&data);
                    net.endpoint_mut(conn, *side).write(*s, Bytes::from(data), false);
                }
                2 => {
                    net.endpoint_mut(conn, side).datagram(Bytes::from(step.to_be_bytes().to_vec()));
                    datagrams += 1;
                }
                _ => {}
            }
            if r.chance(0.3) {
                let pick = SendOrder(r.up_to(4) as i32);
                if let Some((side, s, _, _)) = written.first() {
                    net.endpoint_mut(conn, *side).push(Output::SetOrder { stream: *s, order: pick });
                }
            }
            net.advance(ms(r.up_to(5)));
        }
        for (side, s, _, _) in &written {
            net.endpoint_mut(conn, *side).write(*s, Bytes::new(), true);
        }
        net.settle();

        for (side, _, peer_id, bytes) in &written {
            let peer = net.endpoint(conn, side.peer());
            let got: Vec<u8> = peer.stream_chunks(*peer_id).iter().flat_map(|c| c.to_vec()).collect();
            assert!(got == *bytes, "seed {seed}: {side:?} stream {peer_id} corrupted ({link:?})");
            let fins: Vec<usize> = peer
                .received
                .iter()
                .enumerate()
                .filter(|(_, (_, i))| *i == Input::StreamFinished { stream: *peer_id })
                .map(|(n, _)| n)
                .collect();
            let last_data = peer
                .received
                .iter()
                .rposition(|(_, i)| matches!(i, Input::StreamData { stream, .. } if stream == peer_id));
            assert_eq!(fins.len(), 1, "seed {seed}: FIN count on {peer_id}");
            assert!(last_data.is_none_or(|d| d < fins[0]), "seed {seed}: data after FIN on {peer_id}");
        }
        for side in [Side::Client, Side::Server] {
            assert!(
                net.endpoint(conn, side).received.iter().all(|(_, i)| !matches!(i, Input::Writable { .. }))
                    || link.stream_window.is_some()
                    || link.connection_window.is_some(),
                "seed {seed}: Writable without a window"
            );
        }
        let stats = net.stats(conn);
        let delivered = net.endpoint(conn, Side::Client).datagrams().len()
            + net.endpoint(conn, Side::Server).datagrams().len();
        let lost = stats.client_to_server.datagrams_lost + stats.server_to_client.datagrams_lost;
        assert_eq!(delivered + lost as usize, datagrams, "seed {seed}");
    }
}
