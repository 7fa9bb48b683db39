//! [`HeaderBytes`]: the encoded bytes of one stream or object header, held inline when short.
//!
//! A sender hands a transport each object as (header bytes, payload `Bytes`). Cutting every
//! header out of a shared `BytesMut` block as its own `Bytes` costs an atomic reference-count
//! increment when it is cut and a decrement when it is dropped, for a few bytes. A MOQT
//! object header without properties is at most 19 bytes (an Object ID delta of up to 9
//! bytes, a payload length of up to 9, a status byte) and a SUBGROUP_HEADER at most 29, so
//! [`HeaderBytes`] keeps up to [`INLINE_HEADER_CAP`] bytes in place: no allocation, no
//! reference count, `Clone` is a copy. A header that does not fit (objects with long
//! Properties) is kept in a `Bytes` of its own, allocated for it (unique, so dropping it
//! takes no atomic operation either).

use std::fmt;
use std::ops::Deref;

use bytes::{Bytes, BytesMut};

use crate::error::EncodeError;

/// The most bytes a [`HeaderBytes`] holds inline.
pub const INLINE_HEADER_CAP: usize = 30;

/// The bytes of one encoded header: inline up to [`INLINE_HEADER_CAP`] bytes, else a `Bytes`.
///
/// Compares, hashes and prints as its byte slice, whichever way it is held.
#[derive(Clone)]
pub struct HeaderBytes(Repr);

#[derive(Clone)]
enum Repr {
    Inline(InlineBuf),
    Shared(Bytes),
}

/// The inline bytes, then (in the last byte) how many are used; 8-byte aligned, 32 bytes.
/// A `HeaderBytes` is moved several times per object (into the output, into the queue, out
/// of it): an aligned buffer moves as two 16-byte words, and a length inside it leaves no
/// odd-size field beside it (a length byte of its own was moved as two overlapping 4-byte
/// words, each move stalling on the previous one's stores).
#[derive(Clone, Copy)]
#[repr(align(8))]
struct InlineBuf([u8; INLINE_BUF_LEN]);

/// [`InlineBuf`]'s size: [`INLINE_HEADER_CAP`] bytes, one spare, the length.
const INLINE_BUF_LEN: usize = 32;

impl InlineBuf {
    /// No bytes.
    const EMPTY: Self = InlineBuf([0; INLINE_BUF_LEN]);

    /// `self` with its length set to `len` (at most [`INLINE_HEADER_CAP`]).
    #[inline(always)]
    fn with_len(mut self, len: u8) -> Self {
        if let Some(last) = self.0.last_mut() {
            *last = len;
        }
        self
    }

    /// `head` then zeros, `len` bytes used (`len` <= [`INLINE_HEADER_CAP`], `N` <= 24). The
    /// length goes in with the last word's store, not as a byte of its own that the next
    /// wide move would wait for.
    #[inline(always)]
    fn with_head<const N: usize>(head: [u8; N], len: u8) -> Self {
        let mut buf = InlineBuf::EMPTY;
        if let Some(first) = buf.0.first_chunk_mut::<N>() {
            *first = head;
        }
        if let Some(last) = buf.0.last_chunk_mut::<8>() {
            *last = u64::from(len).to_be_bytes();
        }
        buf
    }

    /// The used bytes.
    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        self.0.get(..usize::from(self.len())).unwrap_or_default()
    }

    /// How many bytes are used.
    #[inline(always)]
    fn len(&self) -> u8 {
        self.0.last().copied().unwrap_or(0)
    }
}

impl HeaderBytes {
    /// No bytes.
    pub const fn new() -> Self {
        HeaderBytes(Repr::Inline(InlineBuf::EMPTY))
    }

    /// A copy of `bytes`: inline when it fits, else in a new allocation.
    pub fn from_slice(bytes: &[u8]) -> Self {
        let mut buf = InlineBuf::EMPTY;
        let fits = bytes.len() <= INLINE_HEADER_CAP;
        match (buf.0.get_mut(..bytes.len()).filter(|_| fits), u8::try_from(bytes.len())) {
            (Some(dst), Ok(len)) => {
                dst.copy_from_slice(bytes);
                HeaderBytes(Repr::Inline(buf.with_len(len)))
            }
            _ => HeaderBytes(Repr::Shared(Bytes::copy_from_slice(bytes))),
        }
    }

    /// Encodes inline through `encode`, which is given a cursor over [`INLINE_HEADER_CAP`]
    /// bytes. The caller guarantees `encode` writes at most that many (writing past the end
    /// of a `&mut [u8]` `BufMut` panics), by bounding the header's length before calling.
    #[inline]
    pub(crate) fn encode_inline<E>(encode: impl FnOnce(&mut &mut [u8]) -> Result<(), E>) -> Result<Self, E> {
        let mut buf = InlineBuf::EMPTY;
        let mut cursor: &mut [u8] = match buf.0.first_chunk_mut::<INLINE_HEADER_CAP>() {
            Some(head) => head,
            None => &mut [],
        };
        encode(&mut cursor)?;
        let written = INLINE_HEADER_CAP.saturating_sub(cursor.len());
        // `written` <= INLINE_HEADER_CAP < 256.
        let len = u8::try_from(written).unwrap_or(u8::MAX);
        Ok(HeaderBytes(Repr::Inline(buf.with_len(len))))
    }

    /// One or two QUIC varints (`first`, when present, then `second`), inline: the bytes
    /// [`crate::varint::put_quic`] writes for each, built in one 16-byte word (no cursor, no
    /// per-byte bounds checks). A value over [`crate::varint::QUIC_MAX`] is
    /// [`EncodeError::VarintTooLarge`] (`first`'s if both are).
    #[inline]
    pub(crate) fn quic_varints(first: Option<u64>, second: u64) -> Result<Self, EncodeError> {
        let (a, a_len) = match first {
            Some(v) => quic_left_aligned(v)?,
            None => (0, 0),
        };
        let (b, b_len) = quic_left_aligned(second)?;
        // `a` fills the word's high bytes; `b` follows right after its `a_len` bytes.
        let word =
            (u128::from(a) << 64) | u128::from(b).wrapping_shl(64u32.wrapping_sub(a_len.wrapping_mul(8)));
        let mut buf = InlineBuf::EMPTY;
        if let Some(head) = buf.0.first_chunk_mut::<16>() {
            *head = word.to_be_bytes();
        }
        // At most 16 bytes < 256.
        Ok(HeaderBytes(Repr::Inline(buf.with_len(a_len.wrapping_add(b_len) as u8))))
    }

    /// Two vi64s of at most 2 bytes each (`a`, then `b`; both < 0x4000), inline: the bytes
    /// [`crate::varint::put_vi64`] writes for each, built in one word and stored at once (no
    /// byte stores that a wide move of the buffer would then have to wait for). `None` when
    /// either value is longer (the caller takes its general path).
    #[inline]
    pub(crate) fn short_vi64_pair(a: u64, b: u64) -> Option<Self> {
        let (a, a_len) = vi64_short_left_aligned(a)?;
        let (b, b_len) = vi64_short_left_aligned(b)?;
        // `a` fills the word's high bytes; `b` follows right after its `a_len` bytes.
        let word = a | b.wrapping_shr(a_len.wrapping_mul(8));
        // At most 4 bytes.
        let len = a_len.wrapping_add(b_len) as u8;
        Some(HeaderBytes(Repr::Inline(InlineBuf::with_head(word.to_be_bytes(), len))))
    }

    /// Encodes into a new allocation of `capacity` bytes (for headers too long to be inline).
    pub(crate) fn encode_heap<E>(
        capacity: usize,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<Self, E> {
        let mut out = Vec::with_capacity(capacity);
        encode(&mut out)?;
        Ok(HeaderBytes(Repr::Shared(Bytes::from(out))))
    }

    /// The bytes.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(buf) => buf.bytes(),
            Repr::Shared(bytes) => bytes,
        }
    }

    /// How many bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// True when there are no bytes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when the bytes are held inline (no allocation, no reference count).
    pub fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline(_))
    }

    /// The bytes as a `Bytes`, for transports that take only `Bytes`: a copy into a new
    /// allocation when inline, the held `Bytes` otherwise.
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Repr::Inline(_) => Bytes::copy_from_slice(self.as_slice()),
            Repr::Shared(bytes) => bytes,
        }
    }

    /// The bytes as a `Bytes` cut from `block`, a buffer the caller reuses for many headers
    /// (an in-memory transport handing them to a receiver as `Bytes`): a copy appended to
    /// `block` and split off, so short headers share one allocation of
    /// [`COPY_BLOCK_LEN`] bytes. A header already held as a `Bytes` is handed out as is.
    pub fn to_bytes_in(&self, block: &mut BytesMut) -> Bytes {
        match &self.0 {
            Repr::Inline(buf) if buf.len() == 0 => Bytes::new(),
            Repr::Inline(_) => {
                if block.capacity().saturating_sub(block.len()) < INLINE_HEADER_CAP {
                    *block = BytesMut::with_capacity(COPY_BLOCK_LEN);
                }
                block.extend_from_slice(self.as_slice());
                block.split().freeze()
            }
            Repr::Shared(bytes) => bytes.clone(),
        }
    }
}

/// The minimal QUIC varint encoding of `v` in the high bytes of a `u64` (big-endian), and
/// how many bytes it takes (1, 2, 4 or 8).
#[inline(always)]
fn quic_left_aligned(v: u64) -> Result<(u64, u32), EncodeError> {
    Ok(if v < 0x40 {
        (v << 56, 1)
    } else if v < 0x4000 {
        ((0x4000 | v) << 48, 2)
    } else if v < (1 << 30) {
        ((0x8000_0000 | v) << 32, 4)
    } else if v <= crate::varint::QUIC_MAX {
        (0xc000_0000_0000_0000 | v, 8)
    } else {
        return Err(EncodeError::VarintTooLarge(v));
    })
}

/// The 1- or 2-byte vi64 encoding of `v` in the high bytes of a `u64` (big-endian), and how
/// many bytes it takes; `None` from 0x4000 up.
#[inline(always)]
fn vi64_short_left_aligned(v: u64) -> Option<(u64, u32)> {
    if v < 0x80 {
        Some((v << 56, 1))
    } else if v < 0x4000 {
        Some(((0x8000 | v) << 48, 2))
    } else {
        None
    }
}

/// Size of the blocks [`HeaderBytes::to_bytes_in`] starts when its block is full.
pub const COPY_BLOCK_LEN: usize = 4096;

impl Default for HeaderBytes {
    fn default() -> Self {
        HeaderBytes::new()
    }
}

impl From<Bytes> for HeaderBytes {
    /// Keeps `bytes` as it is (no copy, even when short).
    fn from(bytes: Bytes) -> Self {
        HeaderBytes(Repr::Shared(bytes))
    }
}

impl Deref for HeaderBytes {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for HeaderBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for HeaderBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for HeaderBytes {}

impl PartialEq<[u8]> for HeaderBytes {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl std::hash::Hash for HeaderBytes {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl fmt::Debug for HeaderBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeaderBytes")
            .field("inline", &self.is_inline())
            .field("bytes", &self.as_slice())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_slice_is_inline_up_to_the_cap_and_allocated_past_it() {
        let long = [7u8; INLINE_HEADER_CAP + 1];
        for n in [0, 1, INLINE_HEADER_CAP - 1, INLINE_HEADER_CAP, INLINE_HEADER_CAP + 1] {
            let h = HeaderBytes::from_slice(&long[..n]);
            assert_eq!(h.as_slice(), &long[..n]);
            assert_eq!(h.len(), n);
            assert_eq!(h.is_inline(), n <= INLINE_HEADER_CAP, "n = {n}");
            assert_eq!(h.clone().into_bytes(), Bytes::copy_from_slice(&long[..n]));
        }
    }

    #[test]
    fn to_bytes_in_copies_inline_bytes_into_one_block_and_hands_shared_bytes_on() {
        let mut block = BytesMut::new();
        let a = HeaderBytes::from_slice(b"abc").to_bytes_in(&mut block);
        let b = HeaderBytes::from_slice(b"defg").to_bytes_in(&mut block);
        assert_eq!((&a[..], &b[..]), (&b"abc"[..], &b"defg"[..]));
        // Both cut from the same allocation, one after the other.
        assert_eq!(a.as_ptr().wrapping_add(3), b.as_ptr());
        let long = Bytes::from(vec![9u8; 40]);
        let c = HeaderBytes::from(long.clone()).to_bytes_in(&mut block);
        assert_eq!(c.as_ptr(), long.as_ptr());
    }

    #[test]
    fn equality_is_by_bytes_whichever_way_they_are_held() {
        let a = HeaderBytes::from_slice(b"abc");
        let b = HeaderBytes::from(Bytes::from_static(b"abc"));
        assert!(a.is_inline() && !b.is_inline());
        assert_eq!(a, b);
        assert_ne!(a, HeaderBytes::from_slice(b"abd"));
        assert!(HeaderBytes::new().is_empty());
    }

    #[test]
    fn quic_varints_writes_what_put_quic_writes() {
        let edges = [0, 0x3f, 0x40, 0x3fff, 0x4000, (1 << 30) - 1, 1 << 30, crate::varint::QUIC_MAX];
        for first in edges.iter().copied().map(Some).chain([None]) {
            for second in edges {
                let mut want = Vec::new();
                if let Some(a) = first {
                    crate::varint::put_quic(&mut want, a).unwrap();
                }
                crate::varint::put_quic(&mut want, second).unwrap();
                let got = HeaderBytes::quic_varints(first, second).unwrap();
                assert_eq!((got.as_slice(), got.is_inline()), (&want[..], true), "{first:?} {second}");
            }
        }
        let big = crate::varint::QUIC_MAX + 1;
        assert_eq!(HeaderBytes::quic_varints(Some(big), big + 1), Err(EncodeError::VarintTooLarge(big)));
        assert_eq!(HeaderBytes::quic_varints(Some(1), big), Err(EncodeError::VarintTooLarge(big)));
        assert_eq!(HeaderBytes::quic_varints(None, big), Err(EncodeError::VarintTooLarge(big)));
    }

    #[test]
    fn encode_inline_keeps_what_was_written_and_passes_errors_through() {
        let h = HeaderBytes::encode_inline(|c| -> Result<(), ()> {
            bytes::BufMut::put_slice(c, b"xyz");
            Ok(())
        })
        .unwrap();
        assert_eq!(h.as_slice(), b"xyz");
        assert_eq!(HeaderBytes::encode_inline(|_| Err::<(), _>(5)), Err(5));
    }
}
