//! Fuzz target body for a session driven by an arbitrary input sequence (feature `fuzzing`).
//!
//! The input is a little program: each step is one opcode byte and its operands, played
//! against a fresh [`Session`] with a virtual clock. Steps feed transport inputs (peer
//! streams opening, arbitrary bytes on them, FIN, resets, stop-sending, datagrams, timeouts)
//! and application commands (announce, discover, subscribe, cancel), and drain `poll()`
//! after each one, as the contract demands.
//!
//! Invariants checked beyond "no panic": outputs drain to `None`; nothing but a `Closed`
//! event follows a close; received bytes held never exceed `max_session_buffer`; after the
//! session is closed every engine table is empty.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::time::Duration;

use bytes::Bytes;

use crate::{
    Config, Event, Input, Namespace, Output, Role, Session, StreamId, SubscribeOptions, Time, TrackName,
    Version,
};

struct Program<'a> {
    data: &'a [u8],
}

impl Program<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }
}

/// Plays `data` against a session. See the module docs.
pub fn session_inputs(data: &[u8]) {
    let mut p = Program { data };
    let Some(head) = p.byte() else { return };
    let version = Version::ALL[usize::from(head % 3)];
    let role = if head & 0x80 == 0 { Role::Client } else { Role::Server };
    let config = Config { max_stream_buffer: 4096, max_session_buffer: 16384, ..Config::default() };
    let config_limit = config.max_session_buffer;
    let mut now = Time::ZERO;
    let mut session = Session::new(config, role, now);
    session.handle(now, Input::Connected { version });
    let mut closed_seen = false;
    drain(&mut session, &mut closed_seen);
    let mut requests = Vec::new();

    while let Some(op) = p.byte() {
        let arg = p.byte().unwrap_or(0);
        // Peer stream ids: QUIC-like numbering (client/server, uni/bidi bits) over 16 slots.
        let stream = StreamId(u64::from(arg & 0x3f));
        match op % 12 {
            0 => session.handle(now, Input::StreamOpened { stream, bidi: arg & 0x40 != 0 }),
            1..=3 => {
                let len = usize::from(p.byte().unwrap_or(0));
                let chunk = Bytes::copy_from_slice(p.bytes(len));
                session.handle(now, Input::StreamData { stream, data: chunk });
            }
            4 => session.handle(now, Input::StreamFinished { stream }),
            5 => session.handle(now, Input::StreamReset { stream, code: u64::from(arg) }),
            6 => session.handle(now, Input::StopSending { stream, code: u64::from(arg) }),
            7 => {
                let len = usize::from(p.byte().unwrap_or(0));
                session.handle(now, Input::Datagram(Bytes::copy_from_slice(p.bytes(len))));
            }
            8 => {
                now = now + Duration::from_millis(u64::from(arg) * 10);
                session.handle_timeout(now);
            }
            9 => {
                let track = TrackName::new(Namespace::from_fields(["fuzz", "ns"]), "t");
                if let Ok(h) = session.subscribe(track, SubscribeOptions::default()) {
                    requests.push(h);
                }
            }
            10 => {
                let ns = Namespace::from_fields(["fuzz", if arg & 1 == 0 { "a" } else { "b" }]);
                let result = if arg & 2 == 0 { session.announce(ns) } else { session.discover(ns) };
                if let Ok(h) = result {
                    requests.push(h);
                }
            }
            _ => {
                if let Some(h) = requests.get(usize::from(arg)).copied() {
                    let _ = session.cancel(h);
                }
            }
        }
        drain(&mut session, &mut closed_seen);
        assert!(
            session.buffered_bytes() <= config_limit,
            "{} bytes buffered, limit {config_limit}",
            session.buffered_bytes()
        );
        if session.is_closed() {
            assert_eq!(session.table_sizes(), 0, "tables not empty after close");
        }
    }
}

fn drain(session: &mut Session, closed_seen: &mut bool) {
    let mut n = 0usize;
    while let Some(output) = session.poll() {
        assert!(!*closed_seen, "output {output:?} after the Closed event");
        if let Output::Event(Event::Closed { .. }) = output {
            *closed_seen = true;
        }
        n += 1;
        assert!(n < 1_000_000, "poll() does not drain");
    }
}
