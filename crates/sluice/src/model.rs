//! The version-neutral data model the application sees.
//!
//! Namespace (tuple of byte fields) + track name → track → group → subgroup → object.
//! moq-lite maps onto it: a broadcast path is a namespace whose fields are the path's
//! `/`-separated segments (empty segments dropped), a lite frame is an object in subgroup 0
//! with consecutive ids from 0, and a lite group is a group. Priorities are MOQT's sense
//! (0 = most important); the lite engine inverts them on the wire (lite: higher = more
//! important). What a version cannot express is refused with
//! [`crate::CommandError::Unsupported`] (see each engine's module docs).

use bytes::Bytes;

/// A track namespace: an ordered tuple of non-empty byte fields.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Namespace(pub Vec<Bytes>);

impl Namespace {
    /// A namespace from text fields.
    pub fn from_fields<I, S>(fields: I) -> Namespace
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Namespace(fields.into_iter().map(|f| Bytes::copy_from_slice(f.as_ref().as_bytes())).collect())
    }

    /// The namespace of a moq-lite broadcast path: its `/`-separated non-empty segments.
    pub fn from_path(path: &str) -> Namespace {
        Namespace::from_fields(path.split('/').filter(|s| !s.is_empty()))
    }

    /// The moq-lite broadcast path of this namespace: fields joined with `/` (lossy for
    /// fields that are not UTF-8 or contain `/`).
    pub fn to_path(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
        parts.join("/")
    }

    /// True when `prefix`'s fields are the first fields of `self` (field-wise, exact).
    pub fn starts_with(&self, prefix: &Namespace) -> bool {
        self.0.len() >= prefix.0.len() && self.0.iter().zip(&prefix.0).all(|(a, b)| a == b)
    }
}

/// A full track name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TrackName {
    /// The namespace (lite: the broadcast path).
    pub namespace: Namespace,
    /// The track name within it.
    pub name: Bytes,
}

impl TrackName {
    /// A track name from text.
    pub fn new(namespace: Namespace, name: &str) -> TrackName {
        TrackName { namespace, name: Bytes::copy_from_slice(name.as_bytes()) }
    }
}

/// A position in a track: (group, object), ordered lexicographically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Location {
    /// Group id.
    pub group: u64,
    /// Object id within the group.
    pub object: u64,
}

/// The order in which a subscriber wants groups delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupOrder {
    /// Oldest group first.
    Ascending,
    /// Newest group first.
    Descending,
}

/// Where a subscription starts and ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Filter {
    /// From the start of the next group.
    NextGroup,
    /// From the object after the largest one published (lite: the latest group).
    LargestObject,
    /// From `start`, open ended.
    AbsoluteStart(Location),
    /// From `start` to the end of group `end_group` (inclusive).
    AbsoluteRange {
        /// First location.
        start: Location,
        /// Last group (inclusive).
        end_group: u64,
    },
}

/// What a subscriber asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeOptions {
    /// Start/end of the subscription.
    pub filter: Filter,
    /// Subscriber priority, 0 = most important (MOQT sense).
    pub priority: u8,
    /// Group order; `None` = the publisher's default.
    pub group_order: Option<GroupOrder>,
    /// Whether the publisher should forward objects (MOQT FORWARD); lite always forwards.
    pub forward: bool,
    /// Maximum latency before a group may be dropped, in ms (lite max latency, MOQT
    /// delivery timeout); 0 = none.
    pub max_latency_ms: u64,
    /// MOQT SUBSCRIBE RENDEZVOUS_TIMEOUT in ms: how long a relay may hold the subscription
    /// for a publisher of the track to appear (draft-18 "RENDEZVOUS TIMEOUT Parameter").
    /// `None`: absent, which the draft reads as 0 (answer at once). Sent in SUBSCRIBE
    /// only; PUBLISH_OK, REQUEST_UPDATE and moq-lite have no such field.
    pub rendezvous_timeout_ms: Option<u64>,
    /// MOQT NEW_GROUP_REQUEST (draft-18 "NEW GROUP REQUEST Parameter"): the largest group
    /// the subscriber knows plus 1 (0: none known), asking the original publisher to start
    /// a new group. A one-shot request, not a lasting option: received, it is reported in
    /// the event of the SUBSCRIBE / PUBLISH_OK / REQUEST_UPDATE that carried it and is
    /// `None` in every other. Sent in SUBSCRIBE always; in PUBLISH_OK and REQUEST_UPDATE
    /// only for a track whose properties said DYNAMIC_GROUPS=1 (else
    /// [`crate::CommandError::InvalidState`]). moq-lite has no such field (ignored).
    pub new_group_request: Option<u64>,
}

impl Default for SubscribeOptions {
    fn default() -> Self {
        SubscribeOptions {
            filter: Filter::LargestObject,
            priority: 128,
            group_order: None,
            forward: true,
            max_latency_ms: 0,
            rendezvous_timeout_ms: None,
            new_group_request: None,
        }
    }
}

/// What a publisher says about a track when it accepts a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInfo {
    /// Publisher priority, 0 = most important (MOQT sense).
    pub publisher_priority: u8,
    /// The order the publisher delivers groups in.
    pub group_order: GroupOrder,
    /// The largest location published so far, if any.
    pub largest: Option<Location>,
    /// Publisher max latency in ms (lite); 0 = none.
    pub max_latency_ms: u64,
    /// Units per second of the track's frame timestamps (`ObjectWrite::timestamp`,
    /// `ObjectInfo::timestamp`): lite-05 TRACK_INFO Timescale, which must be non-zero.
    /// Default 1000 (milliseconds). MOQT has no such field and ignores it.
    pub timescale: u64,
    /// MOQT MAX_CACHE_DURATION Track Property (draft-18 §MAX CACHE DURATION): how many ms
    /// after it was received an object may still be served from a cache. `None`: absent
    /// (cache until evicted). lite has no such field.
    pub max_cache_duration_ms: Option<u64>,
    /// MOQT DYNAMIC_GROUPS Track Property = 1 (draft-18 §DYNAMIC GROUPS): subscribers may
    /// send NEW_GROUP_REQUEST in PUBLISH_OK / REQUEST_UPDATE. lite has no such field.
    pub dynamic_groups: bool,
    /// The MOQT Track Properties the fields above do not type, as received: an encoded
    /// list of Key-Value-Pairs (draft-18 §1.4.3, types ascending, delta-coded from 0) with
    /// unknown types and IMMUTABLE_PROPERTIES (whose contents keep their serialization
    /// byte for byte). Sent unchanged after the typed ones, so a relay that forwards a
    /// received `TrackInfo` forwards them. A typed property found only inside Immutable
    /// Properties is reported in its field and not sent again outside it. Sending refuses
    /// (`CommandError::InvalidState`) bytes that are not valid pairs or that repeat a
    /// typed property at top level. lite has no track properties (ignored).
    pub properties: Bytes,
}

impl Default for TrackInfo {
    fn default() -> Self {
        TrackInfo {
            publisher_priority: 128,
            group_order: GroupOrder::Ascending,
            largest: None,
            max_latency_ms: 0,
            timescale: 1000,
            max_cache_duration_ms: None,
            dynamic_groups: false,
            properties: Bytes::new(),
        }
    }
}

/// The status of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectStatus {
    /// A normal object (possibly with an empty payload).
    Normal,
    /// No more objects in this group.
    EndOfGroup,
    /// No more objects in this track.
    EndOfTrack,
}

/// The metadata of one received object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Group id (lite: group sequence).
    pub group: u64,
    /// Subgroup id (lite: 0).
    pub subgroup: u64,
    /// Object id (lite: frame index within the group).
    pub object: u64,
    /// Status.
    pub status: ObjectStatus,
    /// Publisher priority, if the data said (MOQT sense).
    pub publisher_priority: Option<u8>,
    /// Object properties as raw MOQT Key-Value-Pairs (lite: empty); see
    /// [`ObjectProperties`] for why they are not a plain `Bytes`.
    pub properties: ObjectProperties,
    /// lite-05 frame timestamp in the track's timescale (MOQT: `None`).
    pub timestamp: Option<u64>,
    /// MOQT: the object came with a properties field: on a subgroup stream, the
    /// SUBGROUP_HEADER type said every object of the stream carries one (even an empty
    /// one); in a datagram or fetch, the object had properties. A relay passes it on as
    /// `ObjectWrite::properties_present`, so a stream whose first object has none still
    /// takes later objects that have some. lite: false.
    pub properties_present: bool,
}

/// The raw MOQT Key-Value-Pairs of a received object ([`ObjectInfo::properties`]): derefs to
/// the bytes, [`ObjectProperties::to_bytes`] gives them as `Bytes` (no copy). Also what
/// [`crate::ObjectWrite::properties`] sends.
///
/// Nearly every object has none, and every received object's [`ObjectInfo`] travels through
/// the output queue inside [`crate::Event::Object`] (and every written one through
/// `Session::write_object`), so the empty case is kept to one word (a `Bytes` is four):
/// non-empty properties are put behind an `Arc` (one small allocation per object that has
/// properties, the bytes themselves still not copied). Cloning never allocates, so a relay
/// forwarding a received object's properties to many subscribers allocates nothing more.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct ObjectProperties(Option<std::sync::Arc<Bytes>>);

impl ObjectProperties {
    /// No properties.
    pub const fn empty() -> ObjectProperties {
        ObjectProperties(None)
    }

    /// These encoded pairs (not checked here).
    pub fn new(raw: Bytes) -> ObjectProperties {
        // Invariant: `Some` only when non-empty, so the derived comparisons compare bytes.
        if raw.is_empty() { ObjectProperties(None) } else { ObjectProperties(Some(std::sync::Arc::new(raw))) }
    }

    /// True when there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The encoded pairs.
    pub fn as_slice(&self) -> &[u8] {
        self.0.as_deref().map_or(&[], |b| b.as_ref())
    }

    /// The encoded pairs as `Bytes` (a reference-count increment, no copy).
    pub fn to_bytes(&self) -> Bytes {
        self.0.as_deref().cloned().unwrap_or_default()
    }

    /// The encoded pairs as `Bytes`, taken out (a reference-count increment when shared).
    pub fn into_bytes(mut self) -> Bytes {
        self.0.take().map(std::sync::Arc::unwrap_or_clone).unwrap_or_default()
    }
}

impl Drop for ObjectProperties {
    /// Keeps the `Arc` release (an atomic decrement and maybe a free) out of line: nearly
    /// every object has no properties, and every `Event::Object` and `ObjectWrite` drops one.
    #[inline]
    fn drop(&mut self) {
        if let Some(raw) = self.0.take() {
            release(raw);
        }
    }
}

/// [`ObjectProperties`]'s drop of non-empty properties.
#[inline(never)]
fn release(raw: std::sync::Arc<Bytes>) {
    drop(raw);
}

impl std::ops::Deref for ObjectProperties {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<Bytes> for ObjectProperties {
    fn from(raw: Bytes) -> ObjectProperties {
        ObjectProperties::new(raw)
    }
}

impl PartialEq<Bytes> for ObjectProperties {
    fn eq(&self, other: &Bytes) -> bool {
        self.as_slice() == other.as_ref()
    }
}

impl std::fmt::Debug for ObjectProperties {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(raw) => raw.fmt(f),
            None => Bytes::new().fmt(f),
        }
    }
}

/// Where a rejected request may be retried (MOQT REQUEST_ERROR REDIRECT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The session URI to connect to; empty = this session's URI.
    pub uri: Bytes,
    /// The track to request there; an empty namespace and name = the original track.
    pub track: TrackName,
}

/// A refusal with the optional advice MOQT can carry (REQUEST_ERROR retry interval and
/// redirect). moq-lite can carry only the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The wire error code (MOQT REQUEST_ERROR code; lite stream reset code).
    pub code: u64,
    /// Diagnostic text (MOQT only).
    pub reason: String,
    /// The least time before retrying (`Some(ZERO)` = at once); `None` = do not retry.
    pub retry_after: Option<std::time::Duration>,
    /// Where to retry instead (MOQT: the code must be REDIRECT, 0x34).
    pub redirect: Option<Redirect>,
}

impl Rejection {
    /// A plain refusal: no retry advice, no redirect.
    pub fn new(code: u64, reason: &str) -> Rejection {
        Rejection { code, reason: reason.to_owned(), retry_after: None, redirect: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_properties_clone_shares_and_each_copy_still_reads_and_drops() {
        let raw = Bytes::from(vec![0x3C, 0x05]);
        let a = ObjectProperties::new(raw.clone());
        let b = a.clone();
        // A clone shares the one allocation (what a relay forwarding to many subscribers relies on).
        assert!(matches!((&a.0, &b.0), (Some(x), Some(y)) if std::sync::Arc::ptr_eq(x, y)));
        assert_eq!((a.is_empty(), a.as_slice()), (false, &raw[..]));
        drop(a);
        assert_eq!(b.clone().into_bytes(), raw);
        assert_eq!(b.into_bytes(), raw);
        let empty = ObjectProperties::new(Bytes::new());
        assert!(empty.is_empty() && empty.0.is_none() && empty == ObjectProperties::empty());
    }
}
