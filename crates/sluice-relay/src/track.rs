//! One relayed track: its single upstream subscription, its downstream subscribers and
//! what each has open, and the forwarding of one object to one subscriber.
//!
//! Forwarding rules (what a subscriber sees):
//! * each (group, subgroup) gets its own downstream stream, opened at the first object the
//!   subscriber gets of it and written in arrival order, never reordered; objects are the
//!   upstream payload's chunks (reference-counted, not copied nor joined);
//! * a stream ends when its upstream stream ends ([`sluice::Event::SubgroupEnded`]; on a
//!   lite subscriber, when every upstream subgroup it carries has ended) or on the upstream
//!   END_OF_GROUP / END_OF_TRACK status object (MOQT). A newer group starting ends nothing:
//!   streams of different groups race on the transport, and a publisher may write several
//!   groups at once, so objects of an older group may arrive after a newer group's (and an
//!   older group's first object after a newer one's); draft-18 lets no relay drop them;
//! * a subscriber reported congested ([`crate::Relay::set_congested`]) gets no new groups:
//!   when the next group starts its older streams are *reset* (their queued bytes are
//!   dropped by the transport) and the new group is skipped, until it is no longer
//!   congested; it then resumes at the next group start, never mid-group. Each skipped
//!   group, and an older group first seen while congested (never opened for it), is
//!   reported to the subscriber once with [`sluice::Session::drop_groups`] (lite:
//!   SUBSCRIBE_DROP with EXPIRED, so a subscriber waiting for every group does not stall;
//!   MOQT: nothing on the wire), and the reset streams account for theirs; objects of the
//!   skipped group or older ones without an open stream are dropped and counted
//!   ([`crate::RelayStats::late_objects_dropped`]). A group that
//!   ends upstream while its subscriber is congested is not finished at once but kept until
//!   the next group starts, because the core forgets a finished stream and it could then no
//!   longer be reset;
//! * more than `max_open_streams_per_subscriber` open streams: the oldest is reset.
//!
//! Version mapping of an object (lossy where noted; see the crate docs):
//! * to moq-lite: every subgroup of a group goes onto the one lite group stream, object ids
//!   renumbered 0, 1, 2… in arrival order (lite frames have no ids); properties dropped;
//!   lite-05 needs a timestamp: a MOQT object has none, so the relay stamps its arrival
//!   time in milliseconds (the default timescale 1000);
//! * to MOQT: the lite-05 timestamp is dropped (MOQT has no such field); ids, subgroups,
//!   properties and publisher priority are kept.

use sluice::{
    Location, ObjectInfo, ObjectStatus, ObjectWrite, Payload, RequestHandle, Session, StreamId,
    SubscribeOptions, Time, TrackInfo,
};

use crate::cache::GroupCache;
use crate::codes::Family;
use crate::sessions::SessionId;
use crate::stats::RelayStats;

/// Reset code of a group stream dropped for a slow subscriber. MOQT: TOO_FAR_BEHIND
/// (draft-18 §13.1.4 stream reset codes); lite: EXPIRED (moq-dev's "old").
fn drop_code(family: Family) -> u64 {
    match family {
        Family::Moqt => sluice_wire::moqt::codes::StreamResetCode::TOO_FAR_BEHIND.0,
        Family::Lite => sluice::lite::codes::EXPIRED,
    }
}

/// How many recent groups a subscriber remembers as accounted for (see
/// [`Downstream::accounted`]); a straggler older than that may be reported dropped twice.
pub(crate) const RECENT_GROUPS: usize = 64;

/// Whether an object continues an open stream (see [`Downstream::forward`]).
enum Continues {
    Next,
    Duplicate,
    Unknown,
}

/// One downstream stream the relay has open.
#[derive(Debug)]
pub(crate) struct OpenStream {
    pub(crate) group: u64,
    pub(crate) subgroup: u64,
    pub(crate) stream: StreamId,
    /// Objects written (the next lite frame index).
    pub(crate) written: u64,
    /// Upstream subgroups carried on it whose upstream stream has not ended yet (one on
    /// MOQT; on lite every subgroup of the group shares the stream).
    pub(crate) upstream: Vec<u64>,
    /// The upstream group ended while the subscriber was congested: finish (or reset) it
    /// when the next group starts.
    pub(crate) ended: bool,
    /// The upstream object id last written on it.
    pub(crate) last_object: Option<u64>,
    /// Its upstream stream is gone (publisher switchover): the next object written on it
    /// must be known to be the next one (draft-18 §Closing Subgroup Streams).
    pub(crate) switched: bool,
}

/// One downstream subscription of a track.
#[derive(Debug)]
pub(crate) struct Downstream {
    pub(crate) session: SessionId,
    pub(crate) request: RequestHandle,
    pub(crate) options: SubscribeOptions,
    pub(crate) family: Family,
    /// lite-05: frames need a timestamp.
    pub(crate) needs_timestamp: bool,
    pub(crate) accepted: bool,
    /// The largest location the relay had when it accepted this subscription: where a
    /// joining fetch on it ends (draft-18 §10.12.2).
    pub(crate) joined_at: Option<Location>,
    /// The largest location the relay had when the SUBSCRIBE arrived: where a MOQT
    /// LargestObject filter starts after (`None`: at {0, 0}, draft-18 §5.1.2).
    pub(crate) requested_at: Option<Location>,
    /// First group this subscriber may get (set when accepted).
    pub(crate) start_group: Option<u64>,
    /// The track's newest group when this subscription arrived (`None`: no group yet). A
    /// LargestObject subscriber starts there, even if it is accepted later (it waited for
    /// the upstream SUBSCRIBE_OK while objects were already coming in).
    pub(crate) newest_at_arrival: Option<u64>,
    /// The newest group opened (or skipped) for this subscriber.
    pub(crate) newest_group: Option<u64>,
    /// A group skipped while congested: its objects are not sent.
    pub(crate) skipped_group: Option<u64>,
    /// Groups recently opened or reported dropped for this subscriber, newest last (at
    /// most [`RECENT_GROUPS`]): an older group first seen while congested is reported
    /// dropped once, and a group already opened (then reset) is not reported again.
    pub(crate) accounted: std::collections::VecDeque<u64>,
    pub(crate) open: Vec<OpenStream>,
    /// The relay pushed the track to this session with PUBLISH (its SUBSCRIBE_TRACKS);
    /// `request` is that PUBLISH. Accepted by the peer's PUBLISH_OK, ended with
    /// PUBLISH_DONE like a subscription.
    pub(crate) via_publish: bool,
}

/// One relayed track. See the module docs.
#[derive(Debug)]
pub(crate) struct Track {
    pub(crate) publisher: SessionId,
    pub(crate) upstream: RequestHandle,
    /// The options of the upstream subscription: the aggregate of the downstream ones
    /// (see [`Track::aggregate`]).
    pub(crate) upstream_options: SubscribeOptions,
    /// Where the upstream is in its newest group, and after a publisher switchover what
    /// the new publisher's objects may repeat (see `relay/switchover.rs`).
    pub(crate) switch: crate::relay::switchover::Switch,
    /// Pushed to the relay (MOQT PUBLISH): lives until its publisher ends it.
    pub(crate) pushed: bool,
    /// What the publisher said, once subscribed.
    pub(crate) info: Option<TrackInfo>,
    pub(crate) subscribers: Vec<Downstream>,
    pub(crate) cache: GroupCache,
    /// The newest group seen upstream.
    pub(crate) newest_group: Option<u64>,
    /// The largest location of any object received upstream, cached or not: a
    /// downstream's LARGEST_OBJECT is at least this (draft-18 "LARGEST OBJECT Parameter").
    pub(crate) largest_received: Option<Location>,
    /// The NEW_GROUP_REQUEST last sent upstream and the Largest Group known then: it is
    /// outstanding until the Largest Group increases (see `relay/new_group.rs`).
    pub(crate) new_group_outstanding: Option<(u64, Option<u64>)>,
    /// The largest NEW_GROUP_REQUEST value asked while the upstream SUBSCRIBE was unanswered.
    pub(crate) new_group_waiting: Option<u64>,
}

impl Track {
    /// The upstream options the downstream subscriptions call for: the most important
    /// (lowest) subscriber priority among them, and Forward=1 if any of them forwards
    /// (draft-18 §8: a relay forwards upstream if any downstream subscriber wants it). The
    /// filter stays LargestObject (the relay always wants the live edge) and the group
    /// order stays the one the first subscriber asked for (none: the publisher's): a
    /// draft-18 REQUEST_UPDATE cannot change it (draft-18 "GROUP ORDER Parameter": only in
    /// SUBSCRIBE, PUBLISH_OK and FETCH), and each downstream stream gets its own
    /// subscriber's order from the core anyway.
    pub(crate) fn aggregate(&self) -> SubscribeOptions {
        let mut options = self.upstream_options.clone();
        if let Some(p) = self.subscribers.iter().map(|d| d.options.priority).min() {
            options.priority = p;
        }
        options.forward = self.subscribers.iter().any(|d| d.options.forward);
        options
    }

    /// The info a downstream subscriber is accepted with: the publisher's, with the
    /// largest location raised to what the relay has received upstream (draft-18 "LARGEST
    /// OBJECT Parameter": the largest of the upstream's LARGEST_OBJECT and of the objects
    /// received).
    pub(crate) fn downstream_info(&self) -> TrackInfo {
        let mut info = self.info.clone().unwrap_or_default();
        for l in [self.cache.largest(), self.largest_received].into_iter().flatten() {
            info.largest = Some(info.largest.map_or(l, |x| x.max(l)));
        }
        info
    }
}

/// Everything `forward` needs besides the subscriber.
pub(crate) struct ForwardCtx<'a> {
    pub(crate) now: Time,
    pub(crate) congested: bool,
    pub(crate) max_open: usize,
    pub(crate) stats: &'a mut RelayStats,
    pub(crate) bytes_written: &'a mut u64,
}

impl Downstream {
    /// Sends one upstream object to this subscriber (see the module docs).
    pub(crate) fn forward(
        &mut self,
        session: &mut Session,
        info: &ObjectInfo,
        payload: &Payload,
        ctx: ForwardCtx<'_>,
    ) {
        let subgroup = match self.family {
            Family::Lite => 0,
            Family::Moqt => info.subgroup,
        };
        if info.status != ObjectStatus::Normal {
            if let Some(i) = self.open.iter().position(|o| o.group == info.group && o.subgroup == subgroup) {
                if ctx.congested {
                    // Keep it, so it can still be reset (dropping its queued bytes) when a
                    // newer group starts; the core forgets a finished stream.
                    if let Some(o) = self.open.get_mut(i) {
                        o.ended = true;
                    }
                } else {
                    let o = self.open.remove(i);
                    if session.close_subgroup(o.stream, true).is_err() {
                        ctx.stats.command_errors += 1;
                    }
                }
            }
            return;
        }
        if self.start_group.is_some_and(|s| info.group < s) {
            return;
        }
        let found = self.open.iter().position(|o| o.group == info.group && o.subgroup == subgroup);
        let found = match found.map(|i| (i, self.continues(i, info.object))) {
            Some((_, Continues::Duplicate)) => {
                ctx.stats.late_objects_dropped += 1;
                return;
            }
            Some((i, Continues::Unknown)) => {
                // Not known to be the next object: reset that stream, open a new one.
                let o = self.open.remove(i);
                self.reset(session, o.stream, ctx.now, ctx.stats);
                None
            }
            Some((i, Continues::Next)) => Some(i),
            None => None,
        };
        let index = match found {
            Some(i) => i,
            None => {
                let older = self.newest_group.is_some_and(|n| info.group < n);
                if self.skipped_group.is_some_and(|s| info.group <= s) || (older && ctx.congested) {
                    // Skipped (or reset) while congested: never resumed mid-group. A group
                    // never opened nor reported for this subscriber is reported now.
                    ctx.stats.late_objects_dropped += 1;
                    if !self.accounted.contains(&info.group) {
                        self.drop_group(session, info.group, ctx.stats);
                    }
                    return;
                }
                if !older && self.newest_group != Some(info.group) {
                    // A newer group starts: older streams stay open until their upstream
                    // streams end (see the module docs); when congested they are reset and
                    // the new group is skipped.
                    self.newest_group = Some(info.group);
                    // Streams cut by a publisher switchover and never continued lack
                    // objects: reset, never finished (draft-18 §Closing Subgroup Streams).
                    for o in self.open.iter().filter(|o| o.switched && o.group < info.group) {
                        if session.reset_subgroup(o.stream, drop_code(self.family)).is_ok() {
                            ctx.stats.streams_reset += 1;
                        }
                    }
                    self.open.retain(|o| !(o.switched && o.group < info.group));
                    if !ctx.congested {
                        // Groups that ended upstream while congested, kept to be reset, are
                        // finished now.
                        for o in self.open.iter().filter(|o| o.ended) {
                            if session.close_subgroup(o.stream, true).is_err() {
                                ctx.stats.command_errors += 1;
                            }
                        }
                        self.open.retain(|o| !o.ended);
                    }
                    if ctx.congested {
                        for o in std::mem::take(&mut self.open) {
                            self.reset(session, o.stream, ctx.now, ctx.stats);
                        }
                        self.skipped_group = Some(info.group);
                        ctx.stats.groups_skipped += 1;
                        self.drop_group(session, info.group, ctx.stats);
                        return;
                    }
                }
                let Ok(stream) =
                    session.open_subgroup(self.request, info.group, subgroup, info.publisher_priority)
                else {
                    ctx.stats.command_errors += 1;
                    return;
                };
                self.remember(info.group);
                self.open.push(OpenStream {
                    group: info.group,
                    subgroup,
                    stream,
                    written: 0,
                    upstream: Vec::new(),
                    ended: false,
                    last_object: None,
                    switched: false,
                });
                while self.open.len() > ctx.max_open.max(1) {
                    let oldest = self.open.remove(0);
                    self.reset(session, oldest.stream, ctx.now, ctx.stats);
                }
                self.open.len().saturating_sub(1)
            }
        };
        let Some(open) = self.open.get_mut(index) else { return };
        if !open.upstream.contains(&info.subgroup) {
            open.upstream.push(info.subgroup);
        }
        let mut write = ObjectWrite::new(info.object, payload.clone());
        match self.family {
            Family::Lite => {
                write.object = open.written;
                if self.needs_timestamp {
                    write.timestamp = Some(info.timestamp.unwrap_or(ctx.now.as_micros() / 1000));
                }
            }
            Family::Moqt => {
                write.properties = info.properties.clone();
                // The upstream stream's header type: later objects may carry properties.
                write.properties_present = Some(info.properties_present);
            }
        }
        match session.write_object(open.stream, write) {
            Ok(()) => {
                open.written += 1;
                open.last_object = Some(info.object);
                open.switched = false;
                ctx.stats.objects_forwarded += 1;
                *ctx.bytes_written = ctx.bytes_written.saturating_add(payload.len() as u64);
            }
            Err(_) => {
                ctx.stats.command_errors += 1;
                self.open.remove(index);
            }
        }
    }

    /// The upstream stream of (`group`, `subgroup`) ended: finish ours once every upstream
    /// subgroup it carries has ended (kept open, marked ended, while congested: see the
    /// module docs).
    pub(crate) fn subgroup_ended(
        &mut self,
        session: &mut Session,
        group: u64,
        subgroup: u64,
        congested: bool,
        stats: &mut RelayStats,
    ) {
        let ours = match self.family {
            Family::Lite => 0,
            Family::Moqt => subgroup,
        };
        let Some(i) = self.open.iter().position(|o| o.group == group && o.subgroup == ours) else { return };
        let Some(o) = self.open.get_mut(i) else { return };
        o.upstream.retain(|s| *s != subgroup);
        if !o.upstream.is_empty() {
            return;
        }
        if congested {
            o.ended = true;
        } else {
            let o = self.open.remove(i);
            if session.close_subgroup(o.stream, false).is_err() {
                stats.command_errors += 1;
            }
        }
    }

    /// Records a group as accounted for (opened or reported dropped).
    fn remember(&mut self, group: u64) {
        if self.accounted.len() >= RECENT_GROUPS {
            self.accounted.pop_front();
        }
        self.accounted.push_back(group);
    }

    /// Reports a group this subscriber will not get (lite-04/05 §Subscribe: every group is
    /// accounted for; a lite subscriber waits for each group's stream or SUBSCRIBE_DROP;
    /// MOQT: nothing is sent).
    fn drop_group(&mut self, session: &mut Session, group: u64, stats: &mut RelayStats) {
        self.remember(group);
        if session.drop_groups(self.request, group, group, drop_code(self.family)).is_err() {
            stats.command_errors += 1;
        }
    }

    /// Resets one of our streams (dropping the group for this subscriber).
    fn reset(&self, session: &mut Session, stream: StreamId, _now: Time, stats: &mut RelayStats) {
        if session.reset_subgroup(stream, drop_code(self.family)).is_ok() {
            stats.streams_reset += 1;
        }
    }

    /// Whether an object with id `object` may go on open stream `i`: always, unless the
    /// stream's upstream was switched; then only the next object id (MOQT; lite frames have
    /// no ids, so a gap cannot be seen and any newer object continues), an already written
    /// one is a repeat, and anything else is unknown.
    fn continues(&self, i: usize, object: u64) -> Continues {
        let Some(o) = self.open.get(i) else { return Continues::Unknown };
        match o.last_object {
            _ if !o.switched => Continues::Next,
            Some(last) if object <= last => Continues::Duplicate,
            Some(last) if object == last.saturating_add(1) || self.family == Family::Lite => Continues::Next,
            None if self.family == Family::Lite => Continues::Next,
            _ => Continues::Unknown,
        }
    }

    /// The upstream of every open stream is gone (publisher switchover): each is continued
    /// only by its next object, else reset (see [`Downstream::forward`]).
    pub(crate) fn upstream_switched(&mut self) {
        for o in &mut self.open {
            o.switched = true;
        }
    }

    /// Finishes every open stream (the subscription is ending).
    pub(crate) fn close_all(&mut self, session: &mut Session) {
        for o in self.open.drain(..) {
            let _ = session.close_subgroup(o.stream, false);
        }
    }
}
