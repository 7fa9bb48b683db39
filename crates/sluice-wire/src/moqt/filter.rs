//! The Subscription Filter structure (draft-18 §5.1.2), the value of the
//! SUBSCRIPTION_FILTER Message Parameter (0x21).
//!
//! ```text
//! Subscription Filter { Filter Type (vi64), [Start Location (Location)], [End Group Delta (vi64)] }
//! ```
//! Next Group Start (0x1) and Largest Object (0x2) carry nothing more, AbsoluteStart (0x3)
//! a Start Location, AbsoluteRange (0x4) a Start Location and an End Group Delta. Any other
//! type, and an end group (start group + delta) past 2^64-1, are PROTOCOL_VIOLATIONs.
//! (draft-19 renames the parameter LOCATION_FILTER with the same layout; the editor's copy
//! after it changes the layout.)

use bytes::BufMut;

use crate::error::{DecodeError, EncodeError, Violation};
use crate::moqt::location::Location;
use crate::reader::Reader;
use crate::varint;
use crate::version::MoqtVersion;
use crate::{Decode, Encode};

/// Which Objects of a subscription pass to the subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionFilter {
    /// 0x1: from the start of the group after the Largest Object, open ended.
    NextGroupStart,
    /// 0x2: from the object after the Largest Object, open ended.
    LargestObject,
    /// 0x3: from `start`, open ended.
    AbsoluteStart {
        /// The first Location that passes.
        start: Location,
    },
    /// 0x4: from `start` to the end of group `start.group + end_group_delta`.
    AbsoluteRange {
        /// The first Location that passes.
        start: Location,
        /// The last group, as a delta from `start.group` (0 = the rest of the start group).
        end_group_delta: u64,
    },
}

impl SubscriptionFilter {
    /// The Filter Type code point.
    pub const fn filter_type(&self) -> u64 {
        match self {
            SubscriptionFilter::NextGroupStart => 0x1,
            SubscriptionFilter::LargestObject => 0x2,
            SubscriptionFilter::AbsoluteStart { .. } => 0x3,
            SubscriptionFilter::AbsoluteRange { .. } => 0x4,
        }
    }

    /// Bytes of its encoding (the value length of the SUBSCRIPTION_FILTER parameter).
    pub const fn encoded_len(&self) -> usize {
        let rest = match self {
            SubscriptionFilter::NextGroupStart | SubscriptionFilter::LargestObject => 0,
            SubscriptionFilter::AbsoluteStart { start } => {
                varint::vi64_len(start.group).saturating_add(varint::vi64_len(start.object))
            }
            SubscriptionFilter::AbsoluteRange { start, end_group_delta } => varint::vi64_len(start.group)
                .saturating_add(varint::vi64_len(start.object))
                .saturating_add(varint::vi64_len(*end_group_delta)),
        };
        // The filter type is 1..=4: one byte.
        rest.saturating_add(1)
    }

    /// The last group that passes, for AbsoluteRange.
    pub fn end_group(&self) -> Option<u64> {
        match self {
            SubscriptionFilter::AbsoluteRange { start, end_group_delta } => {
                start.group.checked_add(*end_group_delta)
            }
            _ => None,
        }
    }
}

impl Encode for SubscriptionFilter {
    type Version = MoqtVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, version: MoqtVersion) -> Result<(), EncodeError> {
        if let SubscriptionFilter::AbsoluteRange { .. } = self {
            if self.end_group().is_none() {
                return Err(Violation::Overflow { field: "subscription filter end group" }.into());
            }
        }
        varint::put_vi64(buf, self.filter_type());
        match self {
            SubscriptionFilter::NextGroupStart | SubscriptionFilter::LargestObject => {}
            SubscriptionFilter::AbsoluteStart { start } => start.encode(buf, version)?,
            SubscriptionFilter::AbsoluteRange { start, end_group_delta } => {
                start.encode(buf, version)?;
                varint::put_vi64(buf, *end_group_delta);
            }
        }
        Ok(())
    }
}

impl Decode for SubscriptionFilter {
    type Version = MoqtVersion;

    #[inline]
    fn decode(r: &mut Reader<'_>, version: MoqtVersion) -> Result<Self, DecodeError> {
        let filter_type = r.vi64()?;
        Ok(match filter_type {
            0x1 => SubscriptionFilter::NextGroupStart,
            0x2 => SubscriptionFilter::LargestObject,
            0x3 => SubscriptionFilter::AbsoluteStart { start: Location::decode(r, version)? },
            0x4 => {
                let start = Location::decode(r, version)?;
                let end_group_delta = r.vi64()?;
                if start.group.checked_add(end_group_delta).is_none() {
                    return Err(Violation::Overflow { field: "subscription filter end group" }.into());
                }
                SubscriptionFilter::AbsoluteRange { start, end_group_delta }
            }
            value => return Err(Violation::InvalidValue { field: "filter type", value }.into()),
        })
    }
}
