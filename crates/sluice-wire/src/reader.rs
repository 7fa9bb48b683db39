//! A bounds-checked cursor over received bytes.
//!
//! A [`Reader`] is either *open* (it reads a stream buffer whose end is just "what has
//! arrived so far": running out means [`DecodeError::Incomplete`]) or *bounded* (it reads a
//! body whose length was announced: running out means the body is too short, an invalid
//! input). [`Reader::body`] turns the next `n` bytes of any reader into a bounded one, which
//! is how length-prefixed messages are decoded.
//!
//! Byte fields are returned as [`Bytes`] slices of the underlying buffer: no copies.

use bytes::Bytes;

use crate::error::{DecodeError, DecodeResult, Violation};
use crate::varint::{self, VarintKind};

/// A cursor over a [`Bytes`] buffer. See the module docs.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a Bytes,
    pos: usize,
    end: usize,
    bounded: bool,
}

impl<'a> Reader<'a> {
    /// An open reader over everything received so far.
    #[inline]
    pub fn new(buf: &'a Bytes) -> Self {
        Reader { buf, pos: 0, end: buf.len(), bounded: false }
    }

    /// A bounded reader over all of `buf`: running out is [`Violation::BodyTooShort`].
    ///
    /// Use it for inputs whose end is known to be the end of the value, such as a datagram.
    #[inline]
    pub fn bounded(buf: &'a Bytes) -> Self {
        Reader { buf, pos: 0, end: buf.len(), bounded: true }
    }

    /// Bytes consumed since the start of the underlying buffer.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left to read.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    /// True when nothing is left.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// True for a reader over a length-delimited body.
    pub fn is_bounded(&self) -> bool {
        self.bounded
    }

    /// The error for "the input ended too early" in this reader's mode.
    #[inline]
    pub fn short(&self) -> DecodeError {
        if self.bounded { DecodeError::Invalid(Violation::BodyTooShort) } else { DecodeError::Incomplete }
    }

    /// The unread bytes, without consuming them.
    #[inline]
    pub fn peek_slice(&self) -> &'a [u8] {
        self.buf.get(self.pos..self.end).unwrap_or_default()
    }

    /// The next byte, without consuming it.
    #[inline]
    pub fn peek_u8(&self) -> DecodeResult<u8> {
        self.peek_slice().first().copied().ok_or_else(|| self.short())
    }

    /// Moves past `n` bytes.
    #[inline]
    pub fn skip(&mut self, n: usize) -> DecodeResult<()> {
        if n > self.remaining() {
            return Err(self.short());
        }
        self.pos = self.pos.saturating_add(n);
        Ok(())
    }

    /// One raw byte: the draft's `(8)`.
    #[inline]
    pub fn u8(&mut self) -> DecodeResult<u8> {
        let b = self.peek_u8()?;
        self.pos = self.pos.saturating_add(1);
        Ok(b)
    }

    /// A big-endian u16: the draft's `(16)`.
    #[inline]
    pub fn u16(&mut self) -> DecodeResult<u16> {
        match self.peek_slice() {
            [a, b, ..] => {
                let v = u16::from_be_bytes([*a, *b]);
                self.pos = self.pos.saturating_add(2);
                Ok(v)
            }
            _ => Err(self.short()),
        }
    }

    /// A varint of the given kind.
    #[inline]
    pub fn varint(&mut self, kind: VarintKind) -> DecodeResult<u64> {
        let (value, len) = match kind {
            VarintKind::Quic => varint::decode_quic(self.peek_slice()),
            VarintKind::Vi64 => varint::decode_vi64(self.peek_slice()),
        }
        .ok_or_else(|| self.short())?;
        self.pos = self.pos.saturating_add(len);
        Ok(value)
    }

    /// A QUIC (RFC 9000) varint: moq-lite's `(i)`.
    #[inline]
    pub fn quic_varint(&mut self) -> DecodeResult<u64> {
        self.varint(VarintKind::Quic)
    }

    /// A MOQT vi64: draft-17+'s `(vi64)`.
    #[inline]
    pub fn vi64(&mut self) -> DecodeResult<u64> {
        self.varint(VarintKind::Vi64)
    }

    /// The next `n` bytes as a zero-copy slice.
    #[inline]
    pub fn bytes(&mut self, n: usize) -> DecodeResult<Bytes> {
        if n > self.remaining() {
            return Err(self.short());
        }
        let start = self.pos;
        self.pos = self.pos.saturating_add(n);
        Ok(self.buf.slice(start..self.pos))
    }

    /// Everything left, as a zero-copy slice.
    pub fn rest(&mut self) -> Bytes {
        let start = self.pos;
        self.pos = self.end;
        self.buf.slice(start..self.end)
    }

    /// Checks a peer-supplied length against `max` (named `field` in the error) and against
    /// what is available, before anything is allocated or sliced.
    ///
    /// In an open reader a length that is within `max` but not yet fully received gives
    /// `Incomplete`; in a bounded reader it is [`Violation::LengthExceedsBody`].
    #[inline]
    pub fn check_len(&self, field: &'static str, claimed: u64, max: u64) -> DecodeResult<usize> {
        if claimed > max {
            return Err(Violation::LengthTooLarge { field, claimed, max }.into());
        }
        let n = usize::try_from(claimed).map_err(|_| Violation::LengthTooLarge {
            field,
            claimed,
            max: usize::MAX as u64,
        })?;
        if n > self.remaining() {
            if self.bounded {
                return Err(Violation::LengthExceedsBody { claimed, available: self.remaining() }.into());
            }
            return Err(DecodeError::Incomplete);
        }
        Ok(n)
    }

    /// The next `claimed` bytes as a zero-copy slice, once `claimed` is checked as
    /// [`Reader::check_len`] checks it (same errors), with one bounds check instead of two.
    #[inline]
    pub fn checked_bytes(&mut self, field: &'static str, claimed: u64, max: u64) -> DecodeResult<Bytes> {
        let n = self.check_len(field, claimed, max)?;
        let start = self.pos;
        let end = start.saturating_add(n);
        self.pos = end;
        Ok(self.buf.slice(start..end))
    }

    /// A varint length of the given kind followed by that many bytes, at most `max` long.
    pub fn len_prefixed(&mut self, kind: VarintKind, field: &'static str, max: u64) -> DecodeResult<Bytes> {
        let claimed = self.varint(kind)?;
        let n = self.check_len(field, claimed, max)?;
        self.bytes(n)
    }

    /// Like [`Reader::len_prefixed`], checked to be UTF-8.
    pub fn len_prefixed_str(
        &mut self,
        kind: VarintKind,
        field: &'static str,
        max: u64,
    ) -> DecodeResult<String> {
        let raw = self.len_prefixed(kind, field, max)?;
        String::from_utf8(raw.to_vec()).map_err(|_| Violation::InvalidUtf8 { field }.into())
    }

    /// Takes the next `n` bytes as a bounded sub-reader and moves past them.
    ///
    /// If fewer than `n` bytes are left this is [`Reader::short`] for this reader: an open
    /// stream buffer waits for more, a bounded body is too short.
    pub fn body(&mut self, n: usize) -> DecodeResult<Reader<'a>> {
        if n > self.remaining() {
            return Err(self.short());
        }
        let start = self.pos;
        self.pos = self.pos.saturating_add(n);
        Ok(Reader { buf: self.buf, pos: start, end: self.pos, bounded: true })
    }

    /// Ends a bounded body: any byte left over is [`Violation::TrailingBytes`].
    pub fn finish(self) -> DecodeResult<()> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(Violation::TrailingBytes { extra }.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_reader_reports_incomplete_and_bounded_reports_short_body() {
        let buf = Bytes::from_static(&[0x01]);
        let mut open = Reader::new(&buf);
        assert_eq!(open.u16(), Err(DecodeError::Incomplete));
        let mut bounded = Reader::bounded(&buf);
        assert_eq!(bounded.u16(), Err(DecodeError::Invalid(Violation::BodyTooShort)));
    }

    #[test]
    fn body_is_bounded_and_slices_share_memory() {
        let buf = Bytes::from_static(b"\x03abcd");
        let mut r = Reader::new(&buf);
        let n = r.u8().unwrap() as usize;
        let mut body = r.body(n).unwrap();
        let field = body.bytes(3).unwrap();
        assert_eq!(&field[..], b"abc");
        assert_eq!(field.as_ptr(), buf[1..].as_ptr());
        assert!(body.finish().is_ok());
        assert_eq!(r.position(), 4);
        assert_eq!(r.remaining(), 1);
    }

    #[test]
    fn huge_claimed_length_fails_without_waiting() {
        let buf = Bytes::from_static(&[]);
        let r = Reader::new(&buf);
        assert_eq!(
            r.check_len("x", 1 << 62, 1024),
            Err(DecodeError::Invalid(Violation::LengthTooLarge { field: "x", claimed: 1 << 62, max: 1024 }))
        );
    }

    #[test]
    fn checked_bytes_gives_check_len_errors_and_a_zero_copy_slice() {
        let buf = Bytes::from_static(b"abcdef");
        for bounded in [false, true] {
            let make = || if bounded { Reader::bounded(&buf) } else { Reader::new(&buf) };
            for (claimed, max) in [(3, 10), (6, 6), (7, 10), (4, 3)] {
                let (mut a, b) = (make(), make());
                let expected = b.check_len("f", claimed, max).map(|n| buf.slice(..n));
                let got = a.checked_bytes("f", claimed, max);
                assert_eq!(got, expected, "bounded {bounded}, claimed {claimed}, max {max}");
                if let Ok(slice) = got {
                    assert_eq!(slice.as_ptr(), buf.as_ptr());
                    assert_eq!(a.position(), slice.len());
                }
            }
        }
    }

    #[test]
    fn trailing_bytes_are_reported_with_their_count() {
        let buf = Bytes::from_static(b"abc");
        let mut r = Reader::bounded(&buf);
        r.u8().unwrap();
        assert_eq!(r.finish(), Err(DecodeError::Invalid(Violation::TrailingBytes { extra: 2 })));
    }
}
