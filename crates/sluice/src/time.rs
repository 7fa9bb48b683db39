//! Time as a value the caller passes in.
//!
//! The core never reads a clock: every input carries `now`, and the session answers with
//! [`crate::Session::poll_timeout`]. `Time` is a duration since an origin the caller picks
//! (an adapter uses the `Instant` it created the session at; a simulator starts at zero),
//! so tests are deterministic and no `std::time::Instant` is needed.

use std::ops::{Add, Sub};
use std::time::Duration;

/// A point in time: microseconds since a caller-chosen origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time(u64);

impl Time {
    /// The origin.
    pub const ZERO: Time = Time(0);
    /// Later than any real time (used for "never").
    pub const MAX: Time = Time(u64::MAX);

    /// A time `micros` after the origin.
    pub const fn from_micros(micros: u64) -> Time {
        Time(micros)
    }

    /// A time `millis` after the origin.
    pub const fn from_millis(millis: u64) -> Time {
        Time(millis.saturating_mul(1000))
    }

    /// Microseconds since the origin.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// The time elapsed since `earlier` (zero if `earlier` is later).
    pub fn saturating_since(self, earlier: Time) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Time {
    type Output = Time;

    /// Saturates at [`Time::MAX`].
    fn add(self, d: Duration) -> Time {
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        Time(self.0.saturating_add(micros))
    }
}

impl Sub for Time {
    type Output = Duration;

    /// Saturates at zero.
    fn sub(self, earlier: Time) -> Duration {
        self.saturating_since(earlier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_overflowing() {
        assert_eq!(Time::MAX + Duration::from_secs(1), Time::MAX);
        assert_eq!(Time::from_millis(1) - Time::from_millis(5), Duration::ZERO);
        assert_eq!(Time::from_millis(5) - Time::from_millis(1), Duration::from_millis(4));
        assert_eq!(Time::ZERO + Duration::from_millis(3), Time::from_micros(3000));
    }
}
