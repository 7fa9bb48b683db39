//! The bridge between the wall clock the adapter reads and the core's [`Time`].
//!
//! The core never reads a clock (DESIGN.md "The core's contract"); quinn-proto takes
//! `Instant`s. A [`Clock`] fixes an origin `Instant` per endpoint and converts both ways, so
//! the session's and the QUIC connection's deadlines can be compared and waited for together.

use std::time::{Duration, Instant};

use sluice::Time;

/// Converts between `Instant` and [`Time`] around a fixed origin.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: Instant,
}

impl Clock {
    /// A clock whose [`Time::ZERO`] is `origin`.
    pub fn new(origin: Instant) -> Clock {
        Clock { origin }
    }

    /// `instant` as a [`Time`] (instants before the origin map to zero).
    pub fn time(&self, instant: Instant) -> Time {
        let micros = instant.saturating_duration_since(self.origin).as_micros();
        Time::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }

    /// `time` as an `Instant`; `None` for [`Time::MAX`] or anything too far to represent.
    pub fn instant(&self, time: Time) -> Option<Instant> {
        if time == Time::MAX {
            return None;
        }
        self.origin.checked_add(Duration::from_micros(time.as_micros()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_both_ways_at_microsecond_precision() {
        let origin = Instant::now();
        let c = Clock::new(origin);
        let later = origin + Duration::from_micros(1_234_567);
        assert_eq!(c.time(later), Time::from_micros(1_234_567));
        assert_eq!(c.instant(Time::from_micros(1_234_567)), Some(later));
        assert_eq!(c.time(origin.checked_sub(Duration::from_secs(1)).unwrap_or(origin)), Time::ZERO);
        assert_eq!(c.instant(Time::MAX), None);
    }
}
