//! The demo's object payloads: self-describing and checkable byte for byte.
//!
//! Layout: the object's sequence number (u64 big-endian), its send time in microseconds
//! since the demo's shared `Instant` base (u64 big-endian), then filler bytes that are a
//! pure function of (sequence, offset). The subscriber rebuilds the expected bytes from the
//! sequence number alone, so any corruption, truncation, reordering across objects or
//! duplication is detected, and the send time gives the publish → receive latency.

use bytes::{BufMut, Bytes, BytesMut};

/// Bytes taken by the sequence number and the send time.
pub const HEADER_LEN: usize = 16;

/// The filler byte at `offset` (counted from the start of the payload) of object `seq`.
fn filler(seq: u64, offset: usize) -> u8 {
    let x = seq.wrapping_mul(0x9E37_79B9).wrapping_add(offset as u64 * 7 + (offset as u64 >> 8));
    (x % 251) as u8
}

/// The payload of object `seq`, sent at `sent_us`, `len` bytes long (at least
/// [`HEADER_LEN`]).
pub fn encode(seq: u64, sent_us: u64, len: usize) -> Bytes {
    let len = len.max(HEADER_LEN);
    let mut out = BytesMut::with_capacity(len);
    out.put_u64(seq);
    out.put_u64(sent_us);
    for offset in HEADER_LEN..len {
        out.put_u8(filler(seq, offset));
    }
    out.freeze()
}

/// Checks a received payload against object `seq` of length `len`; returns its send time.
pub fn verify(payload: &[u8], seq: u64, len: usize) -> Result<u64, String> {
    let len = len.max(HEADER_LEN);
    if payload.len() != len {
        return Err(format!("object {seq}: {} bytes, expected {len}", payload.len()));
    }
    let (head, rest) = payload.split_at(HEADER_LEN);
    let (seq_bytes, time_bytes) = head.split_at(8);
    let got_seq = u64::from_be_bytes(seq_bytes.try_into().map_err(|_| "short header")?);
    if got_seq != seq {
        return Err(format!("object {seq}: payload carries sequence {got_seq}"));
    }
    let sent_us = u64::from_be_bytes(time_bytes.try_into().map_err(|_| "short header")?);
    if let Some(i) = rest.iter().enumerate().position(|(i, b)| *b != filler(seq, HEADER_LEN + i)) {
        return Err(format!("object {seq}: filler differs at byte {}", HEADER_LEN + i));
    }
    Ok(sent_us)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let p = encode(42, 1234, 100);
        assert_eq!(p.len(), 100);
        assert_eq!(verify(&p, 42, 100), Ok(1234));
        assert_eq!(verify(&p, 43, 100), Err("object 43: payload carries sequence 42".to_owned()));
        let mut bad = p.to_vec();
        bad[50] ^= 1;
        assert_eq!(verify(&bad, 42, 100), Err("object 42: filler differs at byte 50".to_owned()));
        assert_eq!(verify(&p[..99], 42, 100), Err("object 42: 99 bytes, expected 100".to_owned()));
        assert_eq!(encode(1, 2, 3).len(), HEADER_LEN);
    }
}
