//! Send order of data streams from the draft's priority rules (draft-18 §7).
//!
//! MOQT priorities are 0..=255 with lower numbers more important; the adapter's
//! [`SendOrder`] sends higher values first. The order compares, most significant first:
//! (1) subscriber priority, (2) publisher priority, (3) group, in the subscription's
//! group order (ascending: lower groups first). Packed into 30 bits: 8 + 8 + 14, so every
//! data stream sorts below the request streams and the control stream. Group ids are
//! compared modulo 2^14 (a window of 16384 groups; wider gaps between streams open at the
//! same time are not expected) and subgroups of one group share an order (the draft's
//! rule (4), lowest subgroup first, would need more bits than remain; documented loss).

use crate::io::SendOrder;
use crate::model::GroupOrder;

const GROUP_BITS: u32 = 14;
const GROUP_MASK: u64 = (1 << GROUP_BITS) - 1;

/// The send order of a subgroup stream.
pub(super) fn data_order(
    subscriber_priority: u8,
    publisher_priority: u8,
    order: GroupOrder,
    group: u64,
    _subgroup: u64,
) -> SendOrder {
    let sub = u32::from(u8::MAX - subscriber_priority);
    let publ = u32::from(u8::MAX - publisher_priority);
    let g = u32::try_from(group & GROUP_MASK).unwrap_or(0);
    let g = match order {
        GroupOrder::Ascending => (GROUP_MASK as u32).saturating_sub(g),
        GroupOrder::Descending => g,
    };
    let packed = (sub << (8 + GROUP_BITS)) | (publ << GROUP_BITS) | g;
    SendOrder(i32::try_from(packed).unwrap_or(0))
}

/// The send order of a fetch data stream: the lowest group rank of its priorities, so it
/// sends below subscription streams of the same priorities (it carries the past).
pub(super) fn fetch_order(subscriber_priority: u8, publisher_priority: u8) -> SendOrder {
    data_order(subscriber_priority, publisher_priority, GroupOrder::Descending, 0, 0)
}
