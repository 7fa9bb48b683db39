//! The tables the MOQT engine keeps: the receive state of each stream ([`InStream`]), the
//! data streams we write ([`OutData`]) and each request in either direction ([`Request`]).
//!
//! Every receive buffer is a [`RecvBuffer`] (payloads are taken from it without copying)
//! and counts toward `Config::max_stream_buffer` / `max_session_buffer`.

use sluice_wire::moqt::fetch_stream::{FetchObjectDecoder, FetchObjectEncoder};
use sluice_wire::moqt::subgroup::{
    SubgroupHeader, SubgroupObjectDecoder, SubgroupObjectEncoder, SubgroupObjectHeader,
};

use crate::event::Reason;
use crate::ids::{RequestHandle, StreamId};
use crate::model::{Namespace, SubscribeOptions, TrackInfo, TrackName};
use crate::recv::RecvBuffer;
use crate::time::Time;

/// Receive state of one stream.
#[derive(Debug)]
pub(crate) enum InStream {
    /// A peer uni stream whose type has not arrived yet.
    Unidentified { buf: RecvBuffer },
    /// The peer's control stream (SETUP, then GOAWAY).
    Control { buf: RecvBuffer, got_setup: bool },
    /// A request bidi stream (ours or the peer's): its receive half.
    Request { buf: RecvBuffer, fin: bool, first_done: bool },
    /// A subgroup data stream.
    Subgroup(SubgroupIn),
    /// A fetch data stream.
    Fetch(FetchIn),
    /// Ignore whatever else arrives (padding, stopped streams).
    Discard,
}

impl InStream {
    pub(crate) fn unidentified() -> Self {
        InStream::Unidentified { buf: RecvBuffer::new() }
    }

    pub(crate) fn request_in() -> Self {
        InStream::Request { buf: RecvBuffer::new(), fin: false, first_done: false }
    }

    pub(crate) fn buffered(&self) -> usize {
        match self {
            InStream::Unidentified { buf }
            | InStream::Control { buf, .. }
            | InStream::Request { buf, .. } => buf.len(),
            InStream::Subgroup(s) => s.buf.len(),
            InStream::Fetch(f) => f.buf.len(),
            InStream::Discard => 0,
        }
    }

    pub(crate) fn push(&mut self, data: bytes::Bytes) {
        match self {
            InStream::Unidentified { buf }
            | InStream::Control { buf, .. }
            | InStream::Request { buf, .. } => buf.push(data),
            InStream::Subgroup(s) => s.buf.push(data),
            InStream::Fetch(f) => f.buf.push(data),
            InStream::Discard => {}
        }
    }

    pub(crate) fn set_fin(&mut self) {
        match self {
            InStream::Request { fin, .. } => *fin = true,
            InStream::Subgroup(s) => s.fin = true,
            InStream::Fetch(f) => f.fin = true,
            _ => {}
        }
    }

    /// True for streams that may be stopped on their own without closing the session.
    pub(crate) fn is_data_like(&self) -> bool {
        matches!(
            self,
            InStream::Subgroup(_) | InStream::Fetch(_) | InStream::Unidentified { .. } | InStream::Discard
        )
    }

    /// When a subgroup stream waiting for an unknown track alias is given up.
    pub(crate) fn alias_deadline(&self) -> Option<Time> {
        match self {
            InStream::Subgroup(s) if s.request.is_none() => Some(s.alias_deadline),
            _ => None,
        }
    }
}

/// Track alias the peer chose → our subscription / accepted incoming publish, remembering
/// the last alias found: every stream of a track carries the same alias, so the lookup
/// for a new stream is nearly always a repeat (served without hashing).
#[derive(Debug, Default)]
pub(crate) struct Aliases {
    map: std::collections::HashMap<u64, RequestHandle>,
    /// The last alias found and its request (always an entry of `map`).
    last: Option<(u64, RequestHandle)>,
}

impl Aliases {
    /// The request of `alias`, if known.
    pub(crate) fn get(&mut self, alias: u64) -> Option<RequestHandle> {
        if let Some((a, handle)) = self.last
            && a == alias
        {
            return Some(handle);
        }
        let handle = self.map.get(&alias).copied()?;
        self.last = Some((alias, handle));
        Some(handle)
    }

    pub(crate) fn contains(&self, alias: u64) -> bool {
        self.map.contains_key(&alias)
    }

    pub(crate) fn insert(&mut self, alias: u64, handle: RequestHandle) {
        self.last = None;
        self.map.insert(alias, handle);
    }

    /// Forgets `alias` if it still names `handle`.
    pub(crate) fn remove_if(&mut self, alias: u64, handle: RequestHandle) {
        if self.map.get(&alias) == Some(&handle) {
            self.last = None;
            self.map.remove(&alias);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.last = None;
        self.map.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// A received subgroup stream.
#[derive(Debug)]
pub(crate) struct SubgroupIn {
    pub buf: RecvBuffer,
    pub fin: bool,
    pub header: SubgroupHeader,
    pub decoder: SubgroupObjectDecoder,
    /// The subscription the alias resolved to; `None` while the alias is unknown.
    pub request: Option<RequestHandle>,
    /// When to give up waiting for the alias.
    pub alias_deadline: Time,
    /// The object whose header was read and whose payload is awaited.
    pub pending: Option<SubgroupObjectHeader>,
    /// The resolved subgroup id (mode "first object" resolves on the first object).
    pub subgroup: Option<u64>,
}

/// A received fetch stream.
#[derive(Debug)]
pub(crate) struct FetchIn {
    pub buf: RecvBuffer,
    pub fin: bool,
    pub request: Option<RequestHandle>,
    pub decoder: FetchObjectDecoder,
    pub pending: Option<sluice_wire::moqt::fetch_stream::FetchObjectHeader>,
}

/// A subgroup stream we write. Its SUBGROUP_HEADER is written with the first object (or
/// at close), so the type byte can say whether objects carry properties and, for an empty
/// stream closed as the end of its group, END_OF_GROUP.
#[derive(Debug)]
pub(crate) struct OutData {
    pub request: RequestHandle,
    pub header: SubgroupHeader,
    /// Set once the header is written.
    pub encoder: Option<SubgroupObjectEncoder>,
    pub last_object: Option<u64>,
    /// The adapter reported the stream open (`StreamOpenResult { opened: true }`): what
    /// was written to it is in the transport from then on (see `timeouts`).
    pub opened: bool,
    /// Publisher OBJECT_DELIVERY_TIMEOUT / SUBGROUP_DELIVERY_TIMEOUT (ms) set for this
    /// subgroup by its first object's properties; `None`: the track's value.
    pub object_timeout_ms: Option<u64>,
    pub subgroup_timeout_ms: Option<u64>,
    /// When the oldest object written while the stream was not yet open expires.
    pub object_deadline: Option<Time>,
}

impl OutData {
    pub(crate) fn new(request: RequestHandle, header: SubgroupHeader) -> Self {
        OutData {
            request,
            header,
            encoder: None,
            last_object: None,
            opened: false,
            object_timeout_ms: None,
            subgroup_timeout_ms: None,
            object_deadline: None,
        }
    }
}

/// The subgroup streams we write, by stream id; a publisher writes a group's objects to its
/// newest stream, which the table keeps beside its map ([`crate::hot_map`]).
pub(crate) type OutStreams = crate::hot_map::HotMap<OutData>;

/// A subgroup stream we finished (FIN written) whose delivery is still timed: objects
/// still waiting for the stream to open, and/or the SUBGROUP_DELIVERY_TIMEOUT running
/// until the adapter reports every byte acknowledged (`Input::StreamAcked`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Closing {
    pub object_deadline: Option<Time>,
    pub ack_deadline: Option<Time>,
}

impl Closing {
    pub(crate) fn deadline(&self) -> Option<Time> {
        self.object_deadline.into_iter().chain(self.ack_deadline).min()
    }
}

/// Which request a bidi stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Subscribe,
    Publish,
    Fetch,
    TrackStatus,
    PublishNamespace,
    SubscribeNamespace,
    SubscribeTracks,
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Sent / received, not answered.
    Pending,
    /// Answered OK.
    Established,
}

/// PUBLISH_DONE received; waiting for the counted data streams or the deadline.
#[derive(Debug, Clone)]
pub(crate) struct Done {
    pub reason: Reason,
    pub stream_count: u64,
    pub deadline: Time,
}

/// One request, either direction.
#[derive(Debug)]
pub(crate) struct Request {
    pub kind: Kind,
    /// True when we sent the request.
    pub outbound: bool,
    pub stream: StreamId,
    pub wire_id: u64,
    pub phase: Phase,
    pub track: TrackName,
    pub namespace: Namespace,
    /// The track alias (chosen by whichever side publishes).
    pub alias: Option<u64>,
    pub options: SubscribeOptions,
    pub info: TrackInfo,
    /// Our REQUEST_UPDATEs not yet answered.
    pub updates_pending: u32,
    /// Data streams we opened for it (PUBLISH_DONE stream count).
    pub streams_opened: u64,
    /// Data streams the peer opened for it that we saw.
    pub streams_seen: u64,
    /// Data streams of it still open on our receive side.
    pub streams_open_in: u64,
    pub done: Option<Done>,
    /// Fetch: our data stream (publisher side) and its encoder.
    pub fetch_out: Option<(StreamId, FetchObjectEncoder)>,
    /// The peer's SUBGROUP_DELIVERY_TIMEOUT in ms (0 = none): the subscriber's parameter
    /// when we publish, the publisher's track property when we subscribe.
    pub peer_subgroup_timeout_ms: u64,
    /// What we have seen of the track, for malformed-track checks (subscriber side).
    pub check: super::malformed::TrackCheck,
    /// A peer's Joining Fetch waiting for the subscription it joins to be answered.
    pub joining: Option<Joining>,
    /// Our FETCH's Start Location when we know it (standalone, absolute joining): the
    /// FETCH_OK End Location may not be smaller.
    pub fetch_start: Option<crate::model::Location>,
    /// Our SUBSCRIBE_NAMESPACE: the namespaces the peer reported with NAMESPACE and has
    /// not yet withdrawn (at most `Config::max_discovered_namespaces`).
    pub found: std::collections::HashSet<Namespace>,
    /// A subscription we publish: how its recent objects were sent (subgroup / datagram).
    pub forwarding: super::forwarding::ForwardingRecord,
    /// A subscription we publish / fetch we serve: the peer's updates waiting for the
    /// application (`Config::hold_request_updates`).
    pub held_update: Option<super::held_update::HeldUpdate>,
    /// Our FETCH: its data stream ended before FETCH_OK arrived (the two travel on different
    /// streams). The end is reported after `FetchAccepted`, so `FetchEnded` before
    /// `FetchAccepted` always means the peer refused the fetch.
    pub fetch_data_done: bool,
}

/// Every request, by handle: the requests in a slab with a handle → slot index, and the
/// slot of the last handle looked up mutably (`last`). The object paths look up the same
/// subscription object after object, so most lookups are one compare, not a hash lookup.
#[derive(Debug, Default)]
pub(crate) struct Requests {
    slots: Vec<(RequestHandle, Request)>,
    index: crate::hash::IdMap<RequestHandle, usize>,
    /// The last handle found by `get_mut` and its slot (always matching `index`).
    last: Option<(RequestHandle, usize)>,
}

impl Requests {
    /// The slot of `handle`, if present.
    #[inline]
    fn slot(&self, handle: &RequestHandle) -> Option<usize> {
        match self.last {
            Some((h, i)) if h == *handle => Some(i),
            _ => self.index.get(handle).copied(),
        }
    }

    pub(crate) fn get(&self, handle: &RequestHandle) -> Option<&Request> {
        let i = self.slot(handle)?;
        self.slots.get(i).map(|(_, r)| r)
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, handle: &RequestHandle) -> Option<&mut Request> {
        let i = self.slot(handle)?;
        self.last = Some((*handle, i));
        self.slots.get_mut(i).map(|(_, r)| r)
    }

    pub(crate) fn contains_key(&self, handle: &RequestHandle) -> bool {
        self.slot(handle).is_some()
    }

    /// Adds (or replaces) the request of `handle`.
    pub(crate) fn insert(&mut self, handle: RequestHandle, request: Request) {
        if let Some(slot) = self.slot(&handle).and_then(|i| self.slots.get_mut(i)) {
            slot.1 = request;
            return;
        }
        self.index.insert(handle, self.slots.len());
        self.slots.push((handle, request));
    }

    pub(crate) fn remove(&mut self, handle: &RequestHandle) -> Option<Request> {
        let i = self.index.remove(handle)?;
        // The last slot moves into the freed one (unless it was the freed one).
        self.last = None;
        let (_, request) = self.slots.swap_remove(i);
        if let Some((moved, _)) = self.slots.get(i) {
            self.index.insert(*moved, i);
        }
        Some(request)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&RequestHandle, &Request)> {
        self.slots.iter().map(|(h, r)| (h, r))
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &Request> {
        self.slots.iter().map(|(_, r)| r)
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn clear(&mut self) {
        self.last = None;
        self.slots.clear();
        self.index.clear();
    }
}

/// A buffered Joining Fetch (draft-18 §10.12.2): the peer SUBSCRIBE it names, not yet
/// answered, and its Joining Start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Joining {
    pub subscription: RequestHandle,
    pub relative: bool,
    pub start: u64,
    /// The FETCH's FILL_TIMEOUT, reported when the fetch is.
    pub fill_timeout_ms: Option<u64>,
}

impl Request {
    pub(crate) fn new(kind: Kind, outbound: bool, stream: StreamId, wire_id: u64) -> Self {
        Request {
            kind,
            outbound,
            stream,
            wire_id,
            phase: Phase::Pending,
            track: TrackName::default(),
            namespace: Namespace::default(),
            alias: None,
            options: SubscribeOptions::default(),
            info: TrackInfo::default(),
            updates_pending: 0,
            streams_opened: 0,
            streams_seen: 0,
            streams_open_in: 0,
            done: None,
            fetch_out: None,
            peer_subgroup_timeout_ms: 0,
            check: super::malformed::TrackCheck::default(),
            joining: None,
            fetch_start: None,
            found: std::collections::HashSet::new(),
            forwarding: super::forwarding::ForwardingRecord::default(),
            held_update: None,
            fetch_data_done: false,
        }
    }

    /// True for a subscription in either direction (SUBSCRIBE or PUBLISH).
    pub(crate) fn is_subscription(&self) -> bool {
        matches!(self.kind, Kind::Subscribe | Kind::Publish)
    }

    /// True when we publish the objects of this request (a SUBSCRIBE made to us, our PUBLISH).
    pub(crate) fn we_publish(&self) -> bool {
        match self.kind {
            Kind::Subscribe => !self.outbound,
            Kind::Publish => self.outbound,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_stay_found_after_removals_move_slots() {
        let mut t = Requests::default();
        for h in 0..4u64 {
            t.insert(RequestHandle(h), Request::new(Kind::Subscribe, false, StreamId(h * 4), h));
        }
        // Warm the last-lookup slot, then remove an earlier request: the last slot moves
        // into the freed one and must still be found (cached or not).
        assert_eq!(t.get_mut(&RequestHandle(3)).map(|r| r.wire_id), Some(3));
        assert_eq!(t.remove(&RequestHandle(1)).map(|r| r.wire_id), Some(1));
        assert!(t.remove(&RequestHandle(1)).is_none());
        assert!(t.get(&RequestHandle(1)).is_none() && !t.contains_key(&RequestHandle(1)));
        for h in [0u64, 2, 3] {
            assert_eq!(t.get(&RequestHandle(h)).map(|r| r.wire_id), Some(h));
            assert_eq!(t.get_mut(&RequestHandle(h)).map(|r| r.wire_id), Some(h));
        }
        // The cached one removed: no stale hit.
        assert!(t.remove(&RequestHandle(3)).is_some());
        assert!(t.get(&RequestHandle(3)).is_none() && t.get_mut(&RequestHandle(3)).is_none());
        // Re-inserting a handle replaces its request (one entry).
        t.insert(RequestHandle(0), Request::new(Kind::Fetch, true, StreamId(0), 40));
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(&RequestHandle(0)).map(|r| r.wire_id), Some(40));
        let mut ids: Vec<u64> = t.iter().map(|(h, _)| h.0).collect();
        ids.sort();
        assert_eq!(ids, vec![0, 2]);
        assert_eq!(t.values().count(), 2);
        t.clear();
        assert!(t.get(&RequestHandle(0)).is_none() && t.len() == 0);
    }
}
