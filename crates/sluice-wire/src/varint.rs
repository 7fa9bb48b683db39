//! The two variable-length integer encodings of the MoQ family.
//!
//! * QUIC varints (RFC 9000 §16): 2-bit length prefix, 1/2/4/8 bytes, values below 2^62.
//!   moq-lite (all versions) and MOQT up to draft-16 use them.
//! * MOQT vi64 (draft-17+, draft-18 §1.4.1 "Variable-Length Integers"): the number of
//!   leading 1-bits of the first byte plus one is the length (1 to 9 bytes), covering all
//!   of u64. Non-minimal encodings are valid on decode; sluice always encodes minimally.
//!
//! Decoding works on a slice and returns `None` when the slice is shorter than the
//! encoding announces: both forms are self-delimiting from the first byte, so no value is
//! ever invalid, only incomplete.

use bytes::BufMut;

use crate::error::EncodeError;

/// Which varint encoding a version uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VarintKind {
    /// RFC 9000 QUIC varint (62-bit).
    Quic,
    /// MOQT vi64 (draft-17+, 64-bit).
    Vi64,
}

/// The largest value a QUIC varint can carry.
pub const QUIC_MAX: u64 = (1 << 62) - 1;

/// Decodes a QUIC varint from the start of `buf`: `(value, bytes used)`.
#[inline]
pub fn decode_quic(buf: &[u8]) -> Option<(u64, usize)> {
    let first = *buf.first()?;
    if first < 0x40 {
        return Some((u64::from(first), 1)); // the 1-byte form, the most common
    }
    let len = 1usize << (first >> 6);
    let bytes = buf.get(..len)?;
    let mut value = u64::from(first & 0x3f);
    for b in bytes.iter().skip(1) {
        value = (value << 8) | u64::from(*b);
    }
    Some((value, len))
}

/// Decodes a MOQT vi64 from the start of `buf`: `(value, bytes used)`.
#[inline]
pub fn decode_vi64(buf: &[u8]) -> Option<(u64, usize)> {
    let first = *buf.first()?;
    // Fast paths for the 1- and 2-byte forms (`0xxxxxxx`, `10xxxxxx xxxxxxxx`): object ids,
    // deltas, aliases and payload lengths up to 16 KiB, i.e. nearly every field on the
    // object path. Same result as the general loop below.
    if first < 0x80 {
        return Some((u64::from(first), 1));
    }
    if first < 0xC0 {
        let second = *buf.get(1)?;
        return Some(((u64::from(first & 0x3f) << 8) | u64::from(second), 2));
    }
    let ones = first.leading_ones() as usize; // 0..=8
    let len = ones.saturating_add(1).min(9);
    let bytes = buf.get(..len)?;
    // Bits of the first byte after its prefix (the prefix is `ones` 1-bits then a 0-bit);
    // for the 8- and 9-byte forms the first byte carries no value bits.
    let mut value = match len {
        9 | 8 => 0,
        _ => u64::from(first & (0x7fu8 >> ones)),
    };
    for b in bytes.iter().skip(1) {
        value = (value << 8) | u64::from(*b);
    }
    Some((value, len))
}

/// Bytes a QUIC varint of `v` takes, or `None` if `v` does not fit.
#[inline]
pub const fn quic_len(v: u64) -> Option<usize> {
    if v < (1 << 6) {
        Some(1)
    } else if v < (1 << 14) {
        Some(2)
    } else if v < (1 << 30) {
        Some(4)
    } else if v <= QUIC_MAX {
        Some(8)
    } else {
        None
    }
}

/// Bytes the minimal vi64 encoding of `v` takes (1 to 9).
#[inline]
pub const fn vi64_len(v: u64) -> usize {
    // 7 value bits per byte up to 8 bytes (56 bits); the 9-byte form carries 64.
    let bits = u64::BITS.saturating_sub(v.leading_zeros()) as usize;
    if bits <= 56 { if bits == 0 { 1 } else { bits.div_ceil(7) } } else { 9 }
}

/// Appends the minimal QUIC varint encoding of `v`.
#[inline]
pub fn put_quic<B: BufMut>(buf: &mut B, v: u64) -> Result<(), EncodeError> {
    match quic_len(v) {
        Some(1) => buf.put_u8(v as u8),
        Some(2) => buf.put_u16(0x4000 | v as u16),
        Some(4) => buf.put_u32(0x8000_0000 | v as u32),
        Some(_) => buf.put_u64(0xc000_0000_0000_0000 | v),
        None => return Err(EncodeError::VarintTooLarge(v)),
    }
    Ok(())
}

/// Appends the minimal vi64 encoding of `v`. Every u64 fits.
#[inline]
pub fn put_vi64<B: BufMut>(buf: &mut B, v: u64) {
    // Fast paths for the 1- and 2-byte forms (ids, lengths, counts, type deltas): a byte
    // or a fixed-size pair instead of a variable-length copy.
    if v < 0x80 {
        buf.put_u8(v as u8);
        return;
    }
    if v < 0x4000 {
        buf.put_u16(0x8000 | v as u16);
        return;
    }
    let len = vi64_len(v);
    if len == 9 {
        buf.put_u8(0xff);
        buf.put_u64(v);
        return;
    }
    // `len - 1` leading 1-bits, then a 0-bit, then the value in the remaining bits
    // (len is 1..=8 here, so every shift below is in range).
    let ones = len.saturating_sub(1) as u32;
    let prefix: u64 = !(0xffu64.wrapping_shr(ones)) & 0xff;
    let shifted = prefix.wrapping_shl(ones.wrapping_mul(8)) | v;
    let be = shifted.to_be_bytes();
    buf.put_slice(be.get(8usize.saturating_sub(len)..).unwrap_or_default());
}

/// Appends `v` in the given varint kind.
pub fn put<B: BufMut>(buf: &mut B, kind: VarintKind, v: u64) -> Result<(), EncodeError> {
    match kind {
        VarintKind::Quic => put_quic(buf, v),
        VarintKind::Vi64 => {
            put_vi64(buf, v);
            Ok(())
        }
    }
}

/// Bytes `v` takes in the given kind, or `None` if it does not fit.
pub const fn len(kind: VarintKind, v: u64) -> Option<usize> {
    match kind {
        VarintKind::Quic => quic_len(v),
        VarintKind::Vi64 => Some(vi64_len(v)),
    }
}

/// Appends a varint length followed by `bytes`.
pub fn put_len_prefixed<B: BufMut>(buf: &mut B, kind: VarintKind, bytes: &[u8]) -> Result<(), EncodeError> {
    put(buf, kind, bytes.len() as u64)?;
    buf.put_slice(bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// draft-ietf-moq-transport-18 §1.4.1, "Example Integer Encodings".
    const VI64_EXAMPLES: &[(&str, u64)] = &[
        ("25", 37),
        ("8025", 37),
        ("bbbd", 15_293),
        ("ed7f3e7d", 226_442_877),
        ("faa1a0e403d8", 2_893_212_287_960),
        ("fc8998abc66bc0", 151_288_809_941_952),
        ("fefa318fa8e3ca11", 70_423_237_261_249_041),
        ("ffffffffffffffffff", 18_446_744_073_709_551_615),
    ];

    #[test]
    fn vi64_draft_examples_decode() {
        for (h, v) in VI64_EXAMPLES {
            let b = hex(h);
            assert_eq!(decode_vi64(&b), Some((*v, b.len())), "{h}");
        }
    }

    #[test]
    fn vi64_draft_examples_encode_minimally() {
        // Every example except the deliberately non-minimal 0x8025 is minimal.
        for (h, v) in VI64_EXAMPLES.iter().filter(|(h, _)| *h != "8025") {
            let mut out = Vec::new();
            put_vi64(&mut out, *v);
            assert_eq!(out, hex(h), "{v}");
        }
    }

    #[test]
    fn vi64_encodes_every_value_around_the_one_and_two_byte_fast_paths() {
        // 0..2^15 covers both fast paths and the first 3-byte values exhaustively.
        for v in 0..(1u64 << 15) {
            let mut out = Vec::new();
            put_vi64(&mut out, v);
            let expected_len = if v < 0x80 {
                1
            } else if v < 0x4000 {
                2
            } else {
                3
            };
            assert_eq!(out.len(), expected_len, "{v}");
            assert_eq!(decode_vi64(&out), Some((v, expected_len)), "{v}");
        }
        let mut out = Vec::new();
        put_vi64(&mut out, 0x3fff);
        assert_eq!(out, [0xbf, 0xff]);
    }

    #[test]
    fn vi64_non_minimal_forms_of_zero_decode() {
        for h in [
            "00",
            "8000",
            "c00000",
            "e0000000",
            "f000000000",
            "f80000000000",
            "fc000000000000",
            "fe00000000000000",
            "ff0000000000000000",
        ] {
            let b = hex(h);
            assert_eq!(decode_vi64(&b), Some((0, b.len())), "{h}");
        }
    }

    #[test]
    fn vi64_control_stream_type_is_af00() {
        let mut out = Vec::new();
        put_vi64(&mut out, 0x2F00);
        assert_eq!(out, [0xaf, 0x00]);
    }

    /// RFC 9000 Appendix A.1 sample varints.
    #[test]
    fn quic_rfc9000_examples() {
        for (h, v) in [
            ("c2197c5eff14e88c", 151_288_809_941_952_652u64),
            ("9d7f3e7d", 494_878_333),
            ("7bbd", 15_293),
            ("25", 37),
            ("4025", 37),
        ] {
            let b = hex(h);
            assert_eq!(decode_quic(&b), Some((v, b.len())), "{h}");
        }
        let mut out = Vec::new();
        put_quic(&mut out, 15_293).unwrap();
        assert_eq!(out, hex("7bbd"));
    }

    #[test]
    fn quic_rejects_values_of_2_pow_62() {
        assert_eq!(put_quic(&mut Vec::new(), 1 << 62), Err(EncodeError::VarintTooLarge(1 << 62)));
        assert!(put_quic(&mut Vec::new(), QUIC_MAX).is_ok());
    }

    #[test]
    fn truncated_varints_are_incomplete_at_every_length() {
        for v in [0u64, 200, 20_000, 1 << 40, u64::MAX] {
            let mut out = Vec::new();
            put_vi64(&mut out, v);
            for cut in 0..out.len() {
                assert_eq!(decode_vi64(&out[..cut]), None, "vi64 {v} cut at {cut}");
            }
        }
        for v in [0u64, 200, 20_000, 1 << 40] {
            let mut out = Vec::new();
            put_quic(&mut out, v).unwrap();
            for cut in 0..out.len() {
                assert_eq!(decode_quic(&out[..cut]), None, "quic {v} cut at {cut}");
            }
        }
    }

    proptest! {
        #[test]
        fn vi64_roundtrip(v in any::<u64>()) {
            let mut out = Vec::new();
            put_vi64(&mut out, v);
            prop_assert_eq!(out.len(), vi64_len(v));
            prop_assert_eq!(decode_vi64(&out), Some((v, out.len())));
        }

        #[test]
        fn quic_roundtrip(v in 0..=QUIC_MAX) {
            let mut out = Vec::new();
            put_quic(&mut out, v).unwrap();
            prop_assert_eq!(Some(out.len()), quic_len(v));
            prop_assert_eq!(decode_quic(&out), Some((v, out.len())));
        }

        #[test]
        fn vi64_decode_never_reads_past_its_length(bytes in proptest::collection::vec(any::<u8>(), 0..12)) {
            if let Some((_, n)) = decode_vi64(&bytes) {
                prop_assert!(n <= bytes.len() && (1..=9).contains(&n));
            }
        }
    }
}
