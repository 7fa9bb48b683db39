//! A fast hasher for tables keyed by handles the core or the transport chooses.
//!
//! `StreamId`s come from the transport (sequential QUIC ids, bounded by MAX_STREAMS) or from
//! the core, and `RequestHandle`s from the core: no peer can pick them to collide, so the
//! DoS-resistant (and, on the object path, dominant) SipHash is not needed for them. Tables
//! keyed by values a peer chooses freely (request ids, track aliases, group ids) keep the
//! standard hasher.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Multiply-xorshift hashing of integer keys.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0 ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        // Fold the well-mixed high bits into the low bits the table indexes with.
        self.0 ^ (self.0 >> 29)
    }
}

/// A `HashMap` keyed by core/transport handles.
pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::StreamId;

    #[test]
    fn sequential_stream_ids_spread_over_buckets() {
        // QUIC ids of one kind step by 4; their hashes must differ in the low bits.
        let mut low = std::collections::HashSet::new();
        for n in 0..64u64 {
            let mut h = IdHasher::default();
            std::hash::Hash::hash(&StreamId(n * 4), &mut h);
            low.insert(h.finish() & 63);
        }
        assert!(low.len() > 32, "only {} of 64 low-bit buckets used", low.len());
    }
}
