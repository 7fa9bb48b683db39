//! MOQT Key-Value-Pairs (draft-18 §1.4.3), the encoding of Setup Options, Track Properties
//! and Object Properties.
//!
//! ```text
//! Key-Value-Pair { Delta Type (vi64), [Length (vi64)] (odd types only), Value (..) }
//! ```
//! The type is a delta from the previous pair's type (from 0 for the first), so types are
//! non-decreasing; a sum past 2^64-1 is a PROTOCOL_VIOLATION. Even types carry one vi64,
//! odd types carry at most 65535 bytes. A list of pairs is always bounded by an outer byte
//! length, never by a count.
//!
//! [`Properties`] keeps a validated list as its raw bytes, so decoding an object header
//! with properties allocates nothing; [`Properties::iter`] walks it on demand. Unknown types
//! survive untouched, which is what relays must do with unknown properties.

use bytes::{BufMut, Bytes};

use crate::error::{DecodeResult, EncodeError, Violation};
use crate::reader::Reader;
use crate::varint;

/// The largest odd-type value, in bytes (draft-18 §1.4.3).
pub const MAX_VALUE_LEN: u64 = 65_535;

/// The value of one pair; its shape follows the parity of the type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KvValue {
    /// Even types: one vi64.
    Varint(u64),
    /// Odd types: up to 65535 bytes.
    Bytes(Bytes),
}

/// One Key-Value-Pair with its absolute type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyValue {
    /// The absolute type (after delta decoding).
    pub kind: u64,
    /// The value.
    pub value: KvValue,
}

impl KeyValue {
    /// An even-typed pair. `kind` must be even.
    pub fn varint(kind: u64, value: u64) -> Self {
        KeyValue { kind, value: KvValue::Varint(value) }
    }

    /// An odd-typed pair. `kind` must be odd.
    pub fn bytes(kind: u64, value: impl Into<Bytes>) -> Self {
        KeyValue { kind, value: KvValue::Bytes(value.into()) }
    }

    /// The varint value, if this is an even-typed pair.
    pub fn as_varint(&self) -> Option<u64> {
        match self.value {
            KvValue::Varint(v) => Some(v),
            KvValue::Bytes(_) => None,
        }
    }

    /// The byte value, if this is an odd-typed pair.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match &self.value {
            KvValue::Bytes(b) => Some(b),
            KvValue::Varint(_) => None,
        }
    }
}

/// Reads one pair whose type is a delta from `prev`.
pub fn decode_pair(r: &mut Reader<'_>, prev: u64) -> DecodeResult<KeyValue> {
    let delta = r.vi64()?;
    let kind = prev.checked_add(delta).ok_or(Violation::TypeDeltaOverflow)?;
    let value = if kind % 2 == 0 {
        KvValue::Varint(r.vi64()?)
    } else {
        KvValue::Bytes(r.len_prefixed(crate::VarintKind::Vi64, "key-value value", MAX_VALUE_LEN)?)
    };
    Ok(KeyValue { kind, value })
}

/// Appends one pair, delta-coded against `prev`.
pub fn encode_pair<B: BufMut>(buf: &mut B, pair: &KeyValue, prev: u64) -> Result<(), EncodeError> {
    let delta = pair.kind.checked_sub(prev).ok_or(Violation::KeyValueOutOfOrder)?;
    match (&pair.value, pair.kind % 2 == 0) {
        (KvValue::Varint(v), true) => {
            varint::put_vi64(buf, delta);
            varint::put_vi64(buf, *v);
        }
        (KvValue::Bytes(b), false) => {
            if b.len() as u64 > MAX_VALUE_LEN {
                return Err(Violation::LengthTooLarge {
                    field: "key-value value",
                    claimed: b.len() as u64,
                    max: MAX_VALUE_LEN,
                }
                .into());
            }
            varint::put_vi64(buf, delta);
            varint::put_len_prefixed(buf, crate::VarintKind::Vi64, b)?;
        }
        _ => return Err(Violation::KeyValueParityMismatch { kind: pair.kind }.into()),
    }
    Ok(())
}

/// Appends pairs in order (types must be non-decreasing).
pub fn encode_pairs<'a, B: BufMut>(
    buf: &mut B,
    pairs: impl IntoIterator<Item = &'a KeyValue>,
) -> Result<(), EncodeError> {
    let mut prev = 0;
    for pair in pairs {
        encode_pair(buf, pair, prev)?;
        prev = pair.kind;
    }
    Ok(())
}

/// Reads pairs until the bounded reader `r` is exhausted.
pub fn decode_pairs(r: &mut Reader<'_>) -> DecodeResult<Vec<KeyValue>> {
    let mut out = Vec::new();
    let mut prev = 0;
    while !r.is_empty() {
        let pair = decode_pair(r, prev)?;
        prev = pair.kind;
        out.push(pair);
    }
    Ok(out)
}

/// A validated list of Key-Value-Pairs kept as its encoded bytes (zero-copy, no allocation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Properties {
    raw: Bytes,
}

impl Properties {
    /// No properties.
    pub const fn empty() -> Self {
        Properties { raw: Bytes::new() }
    }

    /// Validates `raw` as a complete list of pairs and keeps it.
    pub fn from_raw(raw: Bytes) -> DecodeResult<Self> {
        let mut r = Reader::bounded(&raw);
        let mut prev = 0;
        while !r.is_empty() {
            prev = decode_pair(&mut r, prev)?.kind;
        }
        Ok(Properties { raw })
    }

    /// Encodes `pairs` (types non-decreasing) into a new list.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = &'a KeyValue>) -> Result<Self, EncodeError> {
        let mut out = Vec::new();
        encode_pairs(&mut out, pairs)?;
        Ok(Properties { raw: Bytes::from(out) })
    }

    /// Reads properties spanning the rest of the bounded reader `r`.
    pub fn decode_rest(r: &mut Reader<'_>) -> DecodeResult<Self> {
        Properties::from_raw(r.rest())
    }

    /// The encoded bytes.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// The encoded pairs, taken out (no reference-count traffic).
    pub fn into_raw(self) -> Bytes {
        self.raw
    }

    /// Encoded length in bytes.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// True when there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Walks the pairs in order.
    pub fn iter(&self) -> PropertiesIter<'_> {
        PropertiesIter { reader: Reader::bounded(&self.raw), prev: 0 }
    }

    /// The first pair of type `kind`.
    pub fn get(&self, kind: u64) -> Option<KeyValue> {
        self.iter().find(|p| p.kind == kind)
    }

    /// Decoded pairs (allocates; for tests and control-plane use).
    pub fn to_vec(&self) -> Vec<KeyValue> {
        self.iter().collect()
    }
}

/// Iterator over [`Properties`]. The list was validated on construction, so it cannot fail.
#[derive(Debug, Clone)]
pub struct PropertiesIter<'a> {
    reader: Reader<'a>,
    prev: u64,
}

impl Iterator for PropertiesIter<'_> {
    type Item = KeyValue;

    fn next(&mut self) -> Option<KeyValue> {
        if self.reader.is_empty() {
            return None;
        }
        let pair = decode_pair(&mut self.reader, self.prev).ok()?;
        self.prev = pair.kind;
        Some(pair)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_delta_coded_with_length_only_on_odd_types() {
        // type 2 = 5 ; type 3 (delta 1) = "ab" ; type 0x40 (delta 0x3d) = 1
        let pairs = [KeyValue::varint(2, 5), KeyValue::bytes(3, &b"ab"[..]), KeyValue::varint(0x40, 1)];
        let props = Properties::from_pairs(&pairs).unwrap();
        assert_eq!(&props.raw()[..], &[0x02, 0x05, 0x01, 0x02, b'a', b'b', 0x3d, 0x01]);
        assert_eq!(props.to_vec(), pairs);
        assert_eq!(Properties::from_raw(props.raw().clone()).unwrap(), props);
    }

    #[test]
    fn delta_overflow_is_rejected() {
        // type 2^64-2 (even) then a delta of 2.
        let mut raw = Vec::new();
        varint::put_vi64(&mut raw, u64::MAX - 1);
        varint::put_vi64(&mut raw, 0);
        varint::put_vi64(&mut raw, 2);
        varint::put_vi64(&mut raw, 0);
        assert_eq!(Properties::from_raw(raw.into()), Err(Violation::TypeDeltaOverflow.into()));
    }

    #[test]
    fn odd_value_over_65535_is_rejected_before_reading_it() {
        let mut raw = vec![0x01];
        varint::put_vi64(&mut raw, 65_536);
        assert_eq!(
            Properties::from_raw(raw.into()),
            Err(Violation::LengthTooLarge { field: "key-value value", claimed: 65_536, max: 65_535 }.into())
        );
    }

    #[test]
    fn odd_value_past_the_list_end_is_rejected() {
        let raw = Bytes::from_static(&[0x01, 0x05, b'a']);
        assert_eq!(
            Properties::from_raw(raw),
            Err(Violation::LengthExceedsBody { claimed: 5, available: 1 }.into())
        );
    }

    #[test]
    fn encoder_refuses_out_of_order_and_wrong_parity() {
        let out_of_order = [KeyValue::varint(4, 0), KeyValue::varint(2, 0)];
        assert_eq!(Properties::from_pairs(&out_of_order), Err(Violation::KeyValueOutOfOrder.into()));
        let wrong = [KeyValue::bytes(2, &b"x"[..])];
        assert_eq!(Properties::from_pairs(&wrong), Err(Violation::KeyValueParityMismatch { kind: 2 }.into()));
    }
}
