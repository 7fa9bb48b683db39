//! [`Rng`]: the simulator's only source of randomness, a seeded SplitMix64.
//!
//! Loss, reordering and jitter are drawn from one generator per network, in the order the
//! network processes outputs, so the same seed and the same calls give the same run. It is
//! written here (a dozen lines) rather than taken from a crate so that the sequence can
//! never change under us with a dependency update. SplitMix64 (Steele, Lea, Flood 2014)
//! passes BigCrush and is plenty for test randomness; it is not cryptographic.

use std::time::Duration;

/// A seeded deterministic pseudo-random generator (SplitMix64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose whole sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform value in `0..=max` (Lemire's multiply-shift; the tiny bias is irrelevant
    /// for test randomness and keeps one draw per call, which keeps runs aligned).
    pub fn up_to(&mut self, max: u64) -> u64 {
        if max == u64::MAX {
            return self.next_u64();
        }
        let span = u128::from(max) + 1;
        ((u128::from(self.next_u64()) * span) >> 64) as u64
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (always false for `p <= 0`, always true for `p >= 1`).
    /// Draws exactly one number whatever `p` is, so changing a probability does not shift
    /// the rest of the sequence.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniform duration in `0..=max`, at microsecond resolution.
    pub fn duration_up_to(&mut self, max: Duration) -> Duration {
        let micros = u64::try_from(max.as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(self.up_to(micros))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // Reference values of SplitMix64 seeded with 1234567 (from the published C code).
        let mut rng = Rng::new(1234567);
        assert_eq!(rng.next_u64(), 6457827717110365317);
        assert_eq!(rng.next_u64(), 3203168211198807973);
        assert_eq!(rng.next_u64(), 9817491932198370423);
    }

    #[test]
    fn ranges_hold_their_bounds() {
        let mut rng = Rng::new(7);
        for _ in 0..1000 {
            assert!(rng.up_to(9) <= 9);
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
            assert!(rng.duration_up_to(Duration::from_millis(3)) <= Duration::from_millis(3));
        }
        assert!(!rng.chance(0.0));
        assert!(rng.chance(1.0));
        assert_eq!(rng.up_to(0), 0);
    }
}
