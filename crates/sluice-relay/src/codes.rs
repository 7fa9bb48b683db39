//! The wire codes the relay answers with, per wire family, and how a code from one family
//! is carried into the other.
//!
//! MOQT codes are draft-18 §13 (REQUEST_ERROR codes §13.1.2, PUBLISH_DONE status codes
//! §13.1.3), taken from `sluice_wire::moqt::codes`. moq-lite defines no registry (lite-05
//! §Termination distinguishes only FIN from RESET); the relay uses the numbers the sluice
//! lite engine uses (`sluice::lite::codes`, which follow moq-dev).
//!
//! Cross-family mapping (lossy, by necessity):
//! * a graceful end maps to a graceful end: lite FIN (code 0 in `SubscriptionEnded`) ↔
//!   MOQT PUBLISH_DONE TRACK_ENDED (0x2) or SUBSCRIPTION_ENDED (0x3);
//! * any other end or failure becomes the generic code of the target family (MOQT
//!   INTERNAL_ERROR 0x0, lite NOT_FOUND 13); the original number is not carried, because
//!   the two families give the same numbers different meanings. The reason text is kept.

use sluice_wire::moqt::codes::{PublishDoneCode, RequestErrorCode, StreamResetCode};

/// The wire family of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// moq-lite-04/05.
    Lite,
    /// MOQT (draft-18).
    Moqt,
}

/// lite: a configured limit was hit (moq-dev's "limit exceeded").
pub const LITE_LIMIT_EXCEEDED: u64 = sluice::lite::codes::LIMIT_EXCEEDED;
/// lite: no such broadcast/track.
pub const LITE_NOT_FOUND: u64 = sluice::lite::codes::NOT_FOUND;
/// lite: the request kind is not served.
pub const LITE_UNSUPPORTED: u64 = sluice::lite::codes::UNSUPPORTED;

/// The code refusing a request because a relay limit was hit.
pub fn excessive_load(family: Family) -> u64 {
    match family {
        Family::Moqt => RequestErrorCode::EXCESSIVE_LOAD.0,
        Family::Lite => LITE_LIMIT_EXCEEDED,
    }
}

/// The code refusing a request for a track nobody publishes.
pub fn does_not_exist(family: Family) -> u64 {
    match family {
        Family::Moqt => RequestErrorCode::DOES_NOT_EXIST.0,
        Family::Lite => LITE_NOT_FOUND,
    }
}

/// The code refusing a FETCH whose range the relay cannot resolve (a joining fetch with no
/// known joining point): MOQT INVALID_RANGE (0x11); lite has no such code, NOT_FOUND.
pub fn invalid_range(family: Family) -> u64 {
    match family {
        Family::Moqt => RequestErrorCode::INVALID_RANGE.0,
        Family::Lite => LITE_NOT_FOUND,
    }
}

/// The code refusing a request kind the relay does not serve (fetch, publish, status).
pub fn not_supported(family: Family) -> u64 {
    match family {
        Family::Moqt => RequestErrorCode::NOT_SUPPORTED.0,
        Family::Lite => LITE_UNSUPPORTED,
    }
}

/// The code ending (or failing) a downstream subscription because its publisher's session
/// went away: the family's generic error (MOQT INTERNAL_ERROR 0x0, which is also
/// REQUEST_ERROR INTERNAL_ERROR; lite NOT_FOUND).
pub fn publisher_gone(family: Family) -> u64 {
    match family {
        Family::Moqt => PublishDoneCode::INTERNAL_ERROR.0,
        Family::Lite => LITE_NOT_FOUND,
    }
}

/// The code a publisher ends a subscription with when its track is over: MOQT PUBLISH_DONE
/// TRACK_ENDED (0x2, draft-18 §13.1.3: "the track is no longer being published"; 0x0 would
/// be INTERNAL_ERROR), lite a FIN (code 0).
pub fn track_ended(family: Family) -> u64 {
    match family {
        Family::Moqt => PublishDoneCode::TRACK_ENDED.0,
        Family::Lite => 0,
    }
}

/// MOQT PUBLISH_DONE GOING_AWAY (draft-18 §13.1.3).
pub const GOING_AWAY: u64 = PublishDoneCode::GOING_AWAY.0;

/// The code ending a downstream subscription because its publisher said GOAWAY and left
/// with no other publisher to take over: MOQT GOING_AWAY (0x4); lite has no such code and
/// gets its generic NOT_FOUND.
pub fn publisher_going_away(family: Family) -> u64 {
    match family {
        Family::Moqt => GOING_AWAY,
        Family::Lite => LITE_NOT_FOUND,
    }
}

/// True when `code` from `family` is a graceful end of a subscription.
pub fn is_graceful_end(family: Family, code: u64) -> bool {
    match family {
        Family::Lite => code == 0,
        Family::Moqt => {
            code == PublishDoneCode::TRACK_ENDED.0 || code == PublishDoneCode::SUBSCRIPTION_ENDED.0
        }
    }
}

/// The code ending a downstream subscription of family `to` because the upstream one
/// (family `from`) ended with `code`.
pub fn map_end(from: Family, to: Family, code: u64) -> u64 {
    if from == to {
        return code;
    }
    match (to, is_graceful_end(from, code)) {
        (Family::Lite, true) => 0,
        (Family::Moqt, true) => PublishDoneCode::TRACK_ENDED.0,
        (Family::Lite, false) => LITE_NOT_FOUND,
        (Family::Moqt, false) => PublishDoneCode::INTERNAL_ERROR.0,
    }
}

/// The code failing a downstream subscription of family `to` because the upstream one
/// (family `from`) failed with `code`.
pub fn map_failure(from: Family, to: Family, code: u64) -> u64 {
    if from == to {
        return code;
    }
    match to {
        Family::Lite => LITE_NOT_FOUND,
        Family::Moqt => RequestErrorCode::INTERNAL_ERROR.0,
    }
}

/// The code aborting a downstream fetch of family `to` that was already accepted, because
/// its upstream fetch (family `from`; `None`: the publisher's session is gone) failed with
/// `code`. MOQT gets a stream reset code: the upstream's own when it is a MOQT failure
/// code (non-zero), else UNKNOWN_OBJECT_STATUS (0x6, draft-18 §3.3.3: "the status of the
/// next object cannot be determined", which is what a relay that lost its upstream knows).
/// lite gets the upstream lite code, else NOT_FOUND.
pub fn fetch_aborted(from: Option<Family>, to: Family, code: u64) -> u64 {
    match (from, to) {
        (Some(Family::Moqt), Family::Moqt) | (Some(Family::Lite), Family::Lite) if code != 0 => code,
        (_, Family::Moqt) => StreamResetCode::UNKNOWN_OBJECT_STATUS.0,
        (_, Family::Lite) => LITE_NOT_FOUND,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graceful_ends_cross_families_and_others_become_generic() {
        assert_eq!(map_end(Family::Lite, Family::Moqt, 0), 0x2);
        assert_eq!(map_end(Family::Moqt, Family::Lite, 0x2), 0);
        assert_eq!(map_end(Family::Moqt, Family::Lite, 0x3), 0);
        assert_eq!(map_end(Family::Moqt, Family::Lite, 0x6), LITE_NOT_FOUND);
        assert_eq!(map_end(Family::Lite, Family::Moqt, 13), 0x0);
        assert_eq!(map_end(Family::Moqt, Family::Moqt, 0x6), 0x6);
        assert_eq!(map_failure(Family::Lite, Family::Moqt, 13), 0x0);
        assert_eq!(excessive_load(Family::Moqt), 0x9);
        assert_eq!(excessive_load(Family::Lite), 11);
    }
}
