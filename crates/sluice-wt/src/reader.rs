//! [`FrameReader`]: an incremental reader of `Type (i) Length (i) Payload` sequences, the
//! shape both HTTP/3 frames (RFC 9114 §7.1) and capsules (RFC 9297 §3.2) share. Input may be
//! split anywhere; after each header the caller picks how the payload is taken: buffered
//! whole (bounded by the caller's limit), streamed in chunks, or skipped without buffering.

use crate::frame::frame_header;

/// The longest header: two 8-byte varints.
const MAX_HEADER: usize = 16;

/// What the reader found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FrameEvent<'a> {
    /// A header; call [`FrameReader::buffer`], [`FrameReader::stream`] or
    /// [`FrameReader::skip`] before polling again (polling again without a choice skips).
    Header { ty: u64, len: u64 },
    /// A whole buffered payload.
    Payload { ty: u64, payload: Vec<u8> },
    /// Part of a streamed payload.
    Chunk(&'a [u8]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Undecided { len: u64 },
    Buffer { ty: u64, len: u64 },
    Skip { left: u64 },
    Stream { left: u64 },
}

/// See the module docs.
#[derive(Debug)]
pub(crate) struct FrameReader {
    state: State,
    buf: Vec<u8>,
}

impl FrameReader {
    pub(crate) fn new() -> FrameReader {
        FrameReader { state: State::Header, buf: Vec::new() }
    }

    /// Bytes held (a partial header or a buffered payload), for the fuzz invariants.
    #[cfg(feature = "fuzzing")]
    pub(crate) fn held(&self) -> usize {
        self.buf.len()
    }

    /// Take the payload whole. The caller has checked `len` against its limit.
    pub(crate) fn buffer(&mut self, ty: u64) {
        if let State::Undecided { len } = self.state {
            self.state = State::Buffer { ty, len };
            self.buf.clear();
        }
    }

    /// Take the payload as chunks.
    pub(crate) fn stream(&mut self) {
        if let State::Undecided { len } = self.state {
            self.state = State::Stream { left: len };
        }
    }

    /// Drop the payload.
    pub(crate) fn skip(&mut self) {
        if let State::Undecided { len } = self.state {
            self.state = State::Skip { left: len };
        }
    }

    /// The next event from `input` (advanced past what was used); `None` when `input` is
    /// exhausted.
    pub(crate) fn poll<'a>(&mut self, input: &mut &'a [u8]) -> Option<FrameEvent<'a>> {
        loop {
            match self.state {
                State::Header => {
                    if input.is_empty() {
                        return None;
                    }
                    let before = self.buf.len();
                    let take = (MAX_HEADER - before).min(input.len());
                    self.buf.extend_from_slice(input.get(..take).unwrap_or_default());
                    match frame_header(&self.buf) {
                        Some((ty, len, used)) => {
                            *input = input.get(used.saturating_sub(before)..).unwrap_or_default();
                            self.buf.clear();
                            self.state = State::Undecided { len };
                            return Some(FrameEvent::Header { ty, len });
                        }
                        None => {
                            *input = input.get(take..).unwrap_or_default();
                            return None;
                        }
                    }
                }
                State::Undecided { len } => self.state = State::Skip { left: len },
                State::Skip { left } => {
                    if left == 0 {
                        self.state = State::Header;
                        continue;
                    }
                    if input.is_empty() {
                        return None;
                    }
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(input.len());
                    *input = input.get(n..).unwrap_or_default();
                    self.state = State::Skip { left: left - n as u64 };
                }
                State::Stream { left } => {
                    if left == 0 {
                        self.state = State::Header;
                        continue;
                    }
                    if input.is_empty() {
                        return None;
                    }
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(input.len());
                    let (chunk, rest) = input.split_at(n);
                    *input = rest;
                    self.state = State::Stream { left: left - n as u64 };
                    return Some(FrameEvent::Chunk(chunk));
                }
                State::Buffer { ty, len } => {
                    let want = usize::try_from(len).unwrap_or(usize::MAX).saturating_sub(self.buf.len());
                    let n = want.min(input.len());
                    self.buf.extend_from_slice(input.get(..n).unwrap_or_default());
                    *input = input.get(n..).unwrap_or_default();
                    if n < want {
                        return None;
                    }
                    self.state = State::Header;
                    return Some(FrameEvent::Payload { ty, payload: std::mem::take(&mut self.buf) });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` in chunks of `size`, buffering type-1 frames, streaming type-0, skipping
    /// the rest; returns (ty, payload) for buffered and streamed frames.
    fn read(bytes: &[u8], size: usize) -> Vec<(u64, Vec<u8>)> {
        let mut reader = FrameReader::new();
        let mut out: Vec<(u64, Vec<u8>)> = Vec::new();
        for chunk in bytes.chunks(size) {
            let mut input = chunk;
            while let Some(event) = reader.poll(&mut input) {
                match event {
                    FrameEvent::Header { ty: 1, .. } => reader.buffer(1),
                    FrameEvent::Header { ty: 0, .. } => {
                        out.push((0, Vec::new()));
                        reader.stream();
                    }
                    FrameEvent::Header { .. } => reader.skip(),
                    FrameEvent::Payload { ty, payload } => out.push((ty, payload)),
                    FrameEvent::Chunk(c) => out.last_mut().unwrap().1.extend_from_slice(c),
                }
            }
        }
        out
    }

    #[test]
    fn any_split_reads_the_same_frames() {
        // HEADERS(3 bytes), unknown 0x21 (2 bytes, skipped), DATA(4 bytes), HEADERS(0 bytes),
        // a frame type needing a 4-byte varint (skipped, 1 byte).
        let bytes =
            [1, 3, b'a', b'b', b'c', 0x21, 2, 9, 9, 0, 4, 1, 2, 3, 4, 1, 0, 0x80, 0, 0x12, 0x34, 1, 7];
        let want = vec![(1, b"abc".to_vec()), (0, vec![1, 2, 3, 4]), (1, vec![])];
        for size in 1..=bytes.len() {
            assert_eq!(read(&bytes, size), want, "chunk size {size}");
        }
    }
}
