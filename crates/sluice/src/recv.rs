//! Per-stream receive buffering without copying payloads.
//!
//! A stream's bytes arrive as `Bytes` chunks of whatever size the transport delivers. Headers
//! and control messages are decoded from a contiguous view of the front of the buffer;
//! [`RecvBuffer::front`] makes the first `n` bytes contiguous by copying *only those n bytes*
//! when a header straddles chunks. Payloads are then taken with [`RecvBuffer::take`], which
//! splits chunks (reference-count bumps, no copies) into a [`Payload`].
//!
//! The buffer counts its bytes so the session can hold it to a `Config` limit.

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

/// An object or frame payload: the transport's own chunks, in order, never copied.
///
/// Most payloads arrive in one chunk ([`Payload::One`]: no allocation at all). The same
/// type is what [`crate::ObjectWrite`] sends, so a relay forwards a received payload
/// without joining its chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// The whole payload as one slice.
    One(Bytes),
    /// A payload that spans several received chunks.
    Chunks(Vec<Bytes>),
}

impl Payload {
    /// The empty payload.
    pub const fn empty() -> Payload {
        Payload::One(Bytes::new())
    }

    /// A payload of these chunks, in order (empty chunks are dropped; one chunk is
    /// [`Payload::One`], no chunk the empty payload).
    pub fn from_chunks(chunks: Vec<Bytes>) -> Payload {
        let mut chunks: Vec<Bytes> = chunks.into_iter().filter(|c| !c.is_empty()).collect();
        match chunks.len() {
            0 => Payload::empty(),
            1 => Payload::One(chunks.pop().unwrap_or_default()),
            _ => Payload::Chunks(chunks),
        }
    }

    /// Total length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Payload::One(b) => b.len(),
            Payload::Chunks(c) => c.iter().map(Bytes::len).sum(),
        }
    }

    /// True when the payload has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The chunks, in order.
    pub fn chunks(&self) -> &[Bytes] {
        match self {
            Payload::One(b) => std::slice::from_ref(b),
            Payload::Chunks(c) => c,
        }
    }

    /// The payload as one `Bytes`: free for [`Payload::One`], one copy otherwise.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            Payload::One(b) => b.clone(),
            Payload::Chunks(c) => {
                let mut out = BytesMut::with_capacity(self.len());
                for chunk in c {
                    out.extend_from_slice(chunk);
                }
                out.freeze()
            }
        }
    }
}

impl From<Bytes> for Payload {
    fn from(b: Bytes) -> Self {
        Payload::One(b)
    }
}

/// An owned buffer becomes one chunk (no copy: `Bytes` takes the allocation over).
impl From<Vec<u8>> for Payload {
    fn from(v: Vec<u8>) -> Self {
        Payload::One(Bytes::from(v))
    }
}

/// The unconsumed bytes of one receive stream. See the module docs.
///
/// The first chunk lives in `head`, outside the queue: a stream that holds one chunk at a
/// time (the usual case on the object path: a header, then a payload) never allocates a
/// queue.
#[derive(Debug, Default)]
pub struct RecvBuffer {
    /// The first chunk; `None` only when the buffer is empty (then `rest` is empty too).
    head: Option<Bytes>,
    /// The chunks after `head`, in order.
    rest: VecDeque<Bytes>,
    len: usize,
}

impl RecvBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        RecvBuffer::default()
    }

    /// Bytes buffered.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends received bytes.
    #[inline]
    pub fn push(&mut self, data: Bytes) {
        if self.head.is_some() {
            return self.push_back(data);
        }
        // Empty (no head means no bytes): the chunk becomes the head.
        if !data.is_empty() {
            self.len = data.len();
            self.head = Some(data);
        }
    }

    /// [`RecvBuffer::push`] behind a head chunk.
    #[inline(never)]
    fn push_back(&mut self, data: Bytes) {
        if !data.is_empty() {
            self.len = self.len.saturating_add(data.len());
            self.rest.push_back(data);
        }
    }

    /// Removes the first chunk (the byte count is the caller's).
    #[inline]
    fn pop_front(&mut self) -> Option<Bytes> {
        let first = self.head.take();
        self.head = self.rest.pop_front();
        first
    }

    /// Puts a chunk back in front (the byte count is the caller's).
    fn push_front(&mut self, chunk: Bytes) {
        if let Some(old) = self.head.replace(chunk) {
            self.rest.push_front(old);
        }
    }

    /// The first received chunk as it is, borrowed (no reference-count traffic): a header
    /// that lies wholly inside it decodes without [`RecvBuffer::front`].
    pub fn first_chunk(&self) -> Option<&Bytes> {
        self.head.as_ref()
    }

    /// A contiguous view of the first `min(n, len)` bytes (at least; it may be longer when
    /// the first chunk already is). Copies only the bytes needed to join chunks.
    pub fn front(&mut self, n: usize) -> Bytes {
        let want = n.min(self.len);
        let first_len = self.head.as_ref().map_or(0, Bytes::len);
        if first_len >= want {
            return self.head.clone().unwrap_or_default();
        }
        let mut joined = BytesMut::with_capacity(want);
        while joined.len() < want {
            let Some(mut chunk) = self.pop_front() else { break };
            let missing = want.saturating_sub(joined.len());
            if chunk.len() > missing {
                let head = chunk.split_to(missing);
                joined.extend_from_slice(&head);
                self.push_front(chunk);
            } else {
                joined.extend_from_slice(&chunk);
            }
        }
        let joined = joined.freeze();
        self.push_front(joined.clone());
        joined
    }

    /// Drops the first `n` bytes (at most everything).
    #[inline]
    pub fn advance(&mut self, n: usize) {
        let mut left = n.min(self.len);
        self.len = self.len.saturating_sub(left);
        while left > 0 {
            let Some(chunk) = self.head.as_mut() else { break };
            if chunk.len() > left {
                // Moves the chunk's start: no reference-count traffic (`split_to` would
                // clone the chunk's handle and drop the clone).
                chunk.advance(left);
                break;
            }
            left = left.saturating_sub(chunk.len());
            self.pop_front();
        }
    }

    /// Removes and returns the first `n` bytes (at most everything) without copying.
    #[inline]
    pub fn take(&mut self, n: usize) -> Payload {
        let left = n.min(self.len);
        // The commonest case, the payload is exactly the first chunk: hand it over as it is.
        if self.head.as_ref().is_some_and(|first| first.len() == left)
            && let Some(first) = self.pop_front()
        {
            self.len = self.len.saturating_sub(left);
            return Payload::One(first);
        }
        self.take_pieces(left)
    }

    /// [`RecvBuffer::take`] of `left` (≤ `len`) bytes that are not exactly the first chunk.
    fn take_pieces(&mut self, mut left: usize) -> Payload {
        // One chunk holds the whole payload: no piece list, no allocation.
        if let Some(first) = self.head.as_mut()
            && first.len() >= left
        {
            self.len = self.len.saturating_sub(left);
            let piece = first.split_to(left);
            if first.is_empty() {
                self.pop_front();
            }
            return Payload::One(piece);
        }
        self.len = self.len.saturating_sub(left);
        let mut pieces: Vec<Bytes> = Vec::new();
        while left > 0 {
            let Some(mut chunk) = self.pop_front() else { break };
            if chunk.len() > left {
                pieces.push(chunk.split_to(left));
                self.push_front(chunk);
                break;
            }
            left = left.saturating_sub(chunk.len());
            pieces.push(chunk);
        }
        match pieces.len() {
            0 => Payload::empty(),
            1 => Payload::One(pieces.pop().unwrap_or_default()),
            _ => Payload::Chunks(pieces),
        }
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        self.head = None;
        self.rest.clear();
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_joins_only_the_bytes_asked_for() {
        let mut buf = RecvBuffer::new();
        let a = Bytes::from_static(b"ab");
        let b = Bytes::from(b"cdefgh".to_vec());
        buf.push(a);
        buf.push(b.clone());
        assert_eq!(&buf.front(4)[..], b"abcd");
        assert_eq!(buf.len(), 8);
        buf.advance(4);
        // The rest of the second chunk is still the original memory.
        let rest = buf.take(4);
        assert_eq!(rest, Payload::One(b.slice(2..)));
        assert_eq!(rest.chunks()[0].as_ptr(), b[2..].as_ptr());
        assert!(buf.is_empty());
    }

    #[test]
    fn take_spans_chunks_without_copying() {
        let mut buf = RecvBuffer::new();
        let x = Bytes::from(vec![1u8; 10]);
        let y = Bytes::from(vec![2u8; 10]);
        buf.push(x.clone());
        buf.push(y.clone());
        let p = buf.take(15);
        assert_eq!(p.len(), 15);
        assert_eq!(p.chunks().len(), 2);
        assert_eq!(p.chunks()[0].as_ptr(), x.as_ptr());
        assert_eq!(p.chunks()[1].as_ptr(), y.as_ptr());
        assert_eq!(buf.len(), 5);
        assert_eq!(&buf.front(100)[..], &[2u8; 5]);
    }

    #[test]
    fn front_of_more_than_buffered_returns_everything() {
        let mut buf = RecvBuffer::new();
        buf.push(Bytes::from_static(b"a"));
        buf.push(Bytes::from_static(b"b"));
        assert_eq!(&buf.front(10)[..], b"ab");
        assert_eq!(buf.len(), 2);
    }
}
