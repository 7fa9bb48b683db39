//! Broadcast discovery on Announce streams (bidi 0x1; lite-04 §ANNOUNCE_INTEREST/§ANNOUNCE,
//! lite-05 §Announce, §ANNOUNCE_REQUEST, §ANNOUNCE_OK, §ANNOUNCE_BROADCAST).
//!
//! Three tables:
//! * our announced broadcast paths (`announce` / `cancel`), kept as a set;
//! * [`Responder`]s: the peer's announce requests we answer. On the request we send (05)
//!   ANNOUNCE_OK {our Hop ID, number of matches} then one `active` per matching path
//!   (04: just the `active` ANNOUNCEs), and later push `active`/`ended` as our set
//!   changes. Matching is byte-wise (the draft's rule); an Exclude Hop equal to our
//!   non-zero Hop ID suppresses all of ours (see the engine docs on Hop IDs).
//! * [`Discovery`]: our own requests. Each `active` path (prefix ++ suffix) whose namespace
//!   starts field-wise with the requested namespace gives `NamespaceFound`, each `ended`
//!   `NamespaceGone`. An `ended` for a path not active (both versions), a repeated `active`
//!   (lite-04 only; lite-05 allows it as an atomic replace, reported as nothing), or more
//!   than `max_discovered_namespaces` paths reset the stream; when the stream ends every
//!   active path is reported gone, then `DiscoveryEnded`.

use std::collections::{BTreeMap, BTreeSet};

use sluice_wire::LiteVersion;
use sluice_wire::lite::announce::{AnnounceBroadcast, AnnounceOk, AnnounceRequest, AnnounceStatus};
use sluice_wire::lite::stream::BidiStreamType;

use super::LiteEngine;
use super::codes;
use super::priority::CONTROL;
use super::streams::{Flow, State, Step, Stream, bad, read_message};
use crate::engine::Shared;
use crate::error::CommandError;
use crate::event::Event;
use crate::ids::{RequestHandle, StreamId};
use crate::model::Namespace;

/// A peer announce request we answer.
#[derive(Debug)]
pub(crate) struct Responder {
    /// Broadcast Path Prefix (byte-wise).
    pub prefix: String,
    /// Its Exclude Hop is our Hop ID: it gets none of our broadcasts.
    pub excluded: bool,
    /// The paths we reported active on this stream.
    pub active: BTreeSet<String>,
}

/// One of our discoveries.
#[derive(Debug)]
pub(crate) struct Discovery {
    /// Its Announce stream.
    pub stream: StreamId,
    /// The requested prefix as a path.
    pub prefix: String,
    /// The requested prefix as a namespace (field-wise filter).
    pub prefix_ns: Namespace,
    /// Paths currently active.
    pub active: BTreeSet<String>,
    /// The hop path (origin first) each active path came by, for
    /// [`crate::Session::discovered_hops`].
    pub hops: BTreeMap<String, Vec<u64>>,
    /// lite-05: the responder's Hop ID from its ANNOUNCE_OK (the last hop of every path).
    pub peer_hop: u64,
}

impl LiteEngine {
    /// The hop list we put in an ANNOUNCE(_BROADCAST) of `path`: the path it came by when
    /// we relay it (`announce_relayed`), empty for a broadcast of our own; lite-04 appends
    /// our own non-zero Hop ID (lite-05 sends it once, in ANNOUNCE_OK).
    fn hops_of(&self, hop_id: u64, path: &str) -> Vec<u64> {
        let mut hops = self.relayed_hops.get(path).cloned().unwrap_or_default();
        if self.version == LiteVersion::Lite04 && hop_id != 0 {
            hops.push(hop_id);
        }
        hops
    }

    fn broadcast_bytes(&self, hop_id: u64, status: AnnounceStatus, path: &str, prefix: &str) -> Vec<u8> {
        let suffix = path.get(prefix.len()..).unwrap_or_default().to_owned();
        let msg = AnnounceBroadcast { status, suffix, hops: self.hops_of(hop_id, path) };
        self.encode(&msg).unwrap_or_default()
    }

    /// `announce`: adds a path and tells every matching responder.
    pub(crate) fn announce_path(
        &mut self,
        shared: &mut Shared,
        namespace: Namespace,
    ) -> Result<RequestHandle, CommandError> {
        let path = namespace.to_path();
        // Refuse what could not be encoded (too long a path) before changing anything.
        self.encode(&AnnounceBroadcast {
            status: AnnounceStatus::Active,
            suffix: path.clone(),
            hops: Vec::new(),
        })?;
        if self.announces.values().any(|p| *p == path) {
            return Err(CommandError::InvalidState("broadcast path already announced"));
        }
        let request = shared.next_request();
        let hop_id = shared.config.lite_hop_id;
        let mut out = Vec::new();
        for (stream, r) in &mut self.responders {
            if !r.excluded
                && path.as_bytes().starts_with(r.prefix.as_bytes())
                && r.active.insert(path.clone())
            {
                out.push((*stream, r.prefix.clone()));
            }
        }
        for (stream, prefix) in out {
            let bytes = self.broadcast_bytes(hop_id, AnnounceStatus::Active, &path, &prefix);
            Self::write(shared, stream, bytes, false);
        }
        self.announces.insert(request, path);
        shared.event(Event::AnnounceAccepted { request });
        Ok(request)
    }

    /// `announce_relayed`: `announce` of a broadcast that came by the hop path `hops`
    /// (origin first), which our ANNOUNCE(_BROADCAST)s of it carry (lite-04/05 §Hop IDs).
    pub(crate) fn announce_relayed_path(
        &mut self,
        shared: &mut Shared,
        namespace: Namespace,
        hops: Vec<u64>,
    ) -> Result<RequestHandle, CommandError> {
        let path = namespace.to_path();
        // Refuse what could not be encoded (too long a path or hop list) first.
        self.encode(&AnnounceBroadcast {
            status: AnnounceStatus::Active,
            suffix: path.clone(),
            hops: hops.clone(),
        })?;
        if self.announces.values().any(|p| *p == path) {
            return Err(CommandError::InvalidState("broadcast path already announced"));
        }
        self.relayed_hops.insert(path, hops);
        self.announce_path(shared, namespace)
    }

    /// The hop path of `namespace` as found by our discovery `request`: the announce's hop
    /// list (lite-04, which includes the sender) or that list followed by the responder's
    /// ANNOUNCE_OK Hop ID when non-zero (lite-05).
    pub(crate) fn hops_found(&self, request: RequestHandle, namespace: &Namespace) -> Option<Vec<u64>> {
        self.discoveries.get(&request)?.hops.get(&namespace.to_path()).cloned()
    }

    /// `cancel` of an announce: removes the path and reports it ended where it was active.
    pub(crate) fn withdraw(&mut self, shared: &mut Shared, request: RequestHandle) {
        let Some(path) = self.announces.get(&request).cloned() else { return };
        let hop_id = shared.config.lite_hop_id;
        let mut out = Vec::new();
        for (stream, r) in &mut self.responders {
            if r.active.remove(&path) {
                out.push((*stream, r.prefix.clone()));
            }
        }
        for (stream, prefix) in out {
            let bytes = self.broadcast_bytes(hop_id, AnnounceStatus::Ended, &path, &prefix);
            Self::write(shared, stream, bytes, false);
        }
        self.announces.remove(&request);
        self.relayed_hops.remove(&path);
    }

    /// Reads the peer's ANNOUNCE_REQUEST/INTEREST and answers with the matching set.
    pub(crate) fn read_announce_request(
        &mut self,
        shared: &mut Shared,
        id: StreamId,
        s: &mut Stream,
    ) -> Flow {
        let req = match read_message::<AnnounceRequest>(&mut s.buf, self.version, false) {
            Step::Done(req) => req,
            Step::More => return Flow::Wait,
            Step::Bad(v) => return bad(shared, "ANNOUNCE_REQUEST", &v),
        };
        let hop_id = shared.config.lite_hop_id;
        let excluded = req.exclude_hop != 0 && req.exclude_hop == hop_id;
        let active: BTreeSet<String> = if excluded {
            BTreeSet::new()
        } else {
            self.announces
                .values()
                .filter(|p| p.as_bytes().starts_with(req.prefix.as_bytes()))
                .cloned()
                .collect()
        };
        let mut out = Vec::new();
        if self.version == LiteVersion::Lite05 {
            let ok = AnnounceOk { hop_id, active_count: active.len() as u64 };
            out.extend(self.encode(&ok).unwrap_or_default());
        }
        for path in &active {
            out.extend(self.broadcast_bytes(hop_id, AnnounceStatus::Active, path, &req.prefix));
        }
        if !out.is_empty() {
            Self::write(shared, id, out, false);
        }
        self.responders.insert(id, Responder { prefix: req.prefix, excluded, active });
        s.state = State::AnnounceIn { answered: true };
        Flow::Continue
    }

    /// `discover`: opens an Announce stream with our request.
    pub(crate) fn start_discovery(
        &mut self,
        shared: &mut Shared,
        prefix_ns: Namespace,
    ) -> Result<RequestHandle, CommandError> {
        self.check_no_goaway()?;
        let prefix = prefix_ns.to_path();
        let req = AnnounceRequest { prefix: prefix.clone(), exclude_hop: shared.config.lite_hop_id };
        let bytes = self.encode(&req)?;
        let request = shared.next_request();
        let stream = self.open_bidi(
            shared,
            BidiStreamType::Announce,
            bytes,
            CONTROL,
            State::Discovery { request, ok_seen: false },
        )?;
        self.discoveries.insert(
            request,
            Discovery {
                stream,
                prefix,
                prefix_ns,
                active: BTreeSet::new(),
                hops: BTreeMap::new(),
                peer_hop: 0,
            },
        );
        Ok(request)
    }

    /// Reads ANNOUNCE_OK (05) and ANNOUNCE(_BROADCAST)s on our discovery stream.
    pub(crate) fn read_discovery(
        &mut self,
        shared: &mut Shared,
        id: StreamId,
        s: &mut Stream,
        request: RequestHandle,
        ok_seen: bool,
    ) -> Flow {
        if self.version == LiteVersion::Lite05 && !ok_seen {
            return match read_message::<AnnounceOk>(&mut s.buf, self.version, false) {
                Step::Done(ok) => {
                    if let Some(d) = self.discoveries.get_mut(&request) {
                        d.peer_hop = ok.hop_id;
                    }
                    s.state = State::Discovery { request, ok_seen: true };
                    Flow::Continue
                }
                Step::More => Flow::Wait,
                Step::Bad(v) => bad(shared, "ANNOUNCE_OK", &v),
            };
        }
        let msg = match read_message::<AnnounceBroadcast>(&mut s.buf, self.version, false) {
            Step::Done(msg) => msg,
            Step::More => return Flow::Wait,
            Step::Bad(v) => return bad(shared, "ANNOUNCE_BROADCAST", &v),
        };
        let max = shared.config.max_discovered_namespaces;
        let Some(d) = self.discoveries.get_mut(&request) else { return Flow::Drop };
        let mut path = d.prefix.clone();
        path.push_str(&msg.suffix);
        let namespace = Namespace::from_path(&path);
        if !namespace.starts_with(&d.prefix_ns) {
            return Flow::Continue;
        }
        match msg.status {
            AnnounceStatus::Active if d.active.contains(&path) => {
                if self.version == LiteVersion::Lite04 {
                    return self.kill(shared, id, s, codes::PROTOCOL_VIOLATION, "repeated active announce");
                }
                // A re-announcement: its tracks' TRACK_INFO may have changed (lite-05 §Track).
                self.track_infos.invalidate(&namespace);
            }
            AnnounceStatus::Active => {
                if d.active.len() >= max {
                    return self.kill(shared, id, s, codes::LIMIT_EXCEEDED, "too many discovered paths");
                }
                let mut hops = msg.hops;
                if self.version == LiteVersion::Lite05 && d.peer_hop != 0 {
                    hops.push(d.peer_hop);
                }
                d.hops.insert(path.clone(), hops);
                d.active.insert(path);
                self.track_infos.invalidate(&namespace);
                shared.event(Event::NamespaceFound { request, namespace });
            }
            AnnounceStatus::Ended => {
                self.track_infos.invalidate(&namespace);
                d.hops.remove(&path);
                if !d.active.remove(&path) {
                    return self.kill(
                        shared,
                        id,
                        s,
                        codes::PROTOCOL_VIOLATION,
                        "ended announce for an inactive path",
                    );
                }
                shared.event(Event::NamespaceGone { request, namespace });
            }
        }
        Flow::Continue
    }
}
