//! Priority mapping and the send order of lite streams (lite-04/05 §Prioritization).
//!
//! # Priority sense
//!
//! The data model uses MOQT's sense (0 = most important); moq-lite's u8 priorities are the
//! opposite ("higher values first"). The mapping is `lite = 255 - moqt` in both directions
//! ([`to_lite`], [`from_lite`]), so 0 ↔ 255 and 128 ↔ 127.
//!
//! # Send order
//!
//! lite-05 §Priority: the subscriber priority decides which track goes first, the publisher
//! priority only breaks ties, and within a track `Ordered` decides whether older (ascending)
//! or newer (descending) groups go first. [`group_order`] packs that into one
//! [`SendOrder`] (higher first):
//!
//! ```text
//! bit 31: 0 (positive)   bits 30..23: subscriber priority   bits 22..15: publisher priority
//! bits 14..0: the group's place: (sequence mod 2^15), inverted when ordered (older first)
//! ```
//! Only the low 15 bits of the group sequence fit, so the order between groups is exact for
//! groups less than 2^15 apart except across a wrap of those bits; live tracks only have a
//! handful of groups in flight, so this is the usual trade-off of an i32 send order.
//! Control streams (Setup, Announce, Subscribe, Goaway) use [`CONTROL`], above all data.

use crate::io::SendOrder;

/// The send order of control streams: ahead of all data.
pub const CONTROL: SendOrder = SendOrder(i32::MAX);

/// MOQT-sense priority (0 = most important) to lite sense (255 = most important).
pub const fn to_lite(moqt: u8) -> u8 {
    u8::MAX - moqt
}

/// lite-sense priority to MOQT sense.
pub const fn from_lite(lite: u8) -> u8 {
    u8::MAX - lite
}

/// The send order of a group (or fetch) stream; see the module docs.
pub fn group_order(subscriber: u8, publisher: u8, ordered: bool, group: u64) -> SendOrder {
    let low = i32::try_from(group & 0x7FFF).unwrap_or(0);
    let place = if ordered { 0x7FFF - low } else { low };
    SendOrder((i32::from(subscriber) << 23) | (i32::from(publisher) << 15) | place)
}
