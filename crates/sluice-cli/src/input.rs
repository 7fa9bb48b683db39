//! The publisher's input: a thread that reads stdin (or any reader) into objects, so the
//! socket loop never blocks on a read. Each `read` result is one object (at most
//! `chunk_size` bytes), or with `lines` each line including its `\n` (a last line without
//! one is an object too). The channel is bounded: when the publisher stops taking objects
//! (no subscriber yet, transport backlog) the thread stops reading and the writer into
//! the pipe blocks, which is the back-pressure a pipeline expects.

use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use bytes::Bytes;

/// What the reader thread sends.
#[derive(Debug)]
pub enum Chunk {
    /// One object's payload.
    Object(Bytes),
    /// End of input.
    End,
    /// Reading failed.
    Error(String),
}

/// Objects buffered between the reader thread and the loop.
const CHANNEL_DEPTH: usize = 64;

/// Starts the reader thread over `input`.
pub fn spawn<R: Read + Send + 'static>(input: R, lines: bool, chunk_size: usize) -> Receiver<Chunk> {
    let (tx, rx) = sync_channel(CHANNEL_DEPTH);
    let chunk_size = chunk_size.max(1);
    let spawned = std::thread::Builder::new().name("stdin".into()).spawn(move || {
        let result = if lines { read_lines(input, &tx) } else { read_chunks(input, chunk_size, &tx) };
        let last = match result {
            Ok(()) => Chunk::End,
            Err(e) => Chunk::Error(e.to_string()),
        };
        let _ = tx.send(last);
    });
    if let Err(e) = spawned {
        let (tx, rx) = sync_channel(1);
        let _ = tx.send(Chunk::Error(format!("reader thread: {e}")));
        return rx;
    }
    rx
}

fn read_chunks<R: Read>(mut input: R, chunk_size: usize, tx: &SyncSender<Chunk>) -> std::io::Result<()> {
    let mut buf = vec![0u8; chunk_size];
    loop {
        match input.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                let chunk = Bytes::copy_from_slice(buf.get(..n).unwrap_or_default());
                if tx.send(Chunk::Object(chunk)).is_err() {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn read_lines<R: Read>(input: R, tx: &SyncSender<Chunk>) -> std::io::Result<()> {
    let mut reader = BufReader::new(input);
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        if tx.send(Chunk::Object(Bytes::from(line))).is_err() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(rx: Receiver<Chunk>) -> (Vec<Bytes>, bool) {
        let mut objects = Vec::new();
        loop {
            match rx.recv().unwrap() {
                Chunk::Object(b) => objects.push(b),
                Chunk::End => return (objects, true),
                Chunk::Error(_) => return (objects, false),
            }
        }
    }

    #[test]
    fn lines_keep_their_newlines_and_a_last_partial_line() {
        let (objects, ended) = collect(spawn(&b"a\n\nbc\nd"[..], true, 4));
        assert!(ended);
        assert_eq!(
            objects,
            vec![Bytes::from("a\n"), Bytes::from("\n"), Bytes::from("bc\n"), Bytes::from("d")]
        );
    }

    #[test]
    fn chunks_are_at_most_chunk_size_and_concatenate_to_the_input() {
        let input: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let (objects, ended) = collect(spawn(std::io::Cursor::new(input.clone()), false, 64));
        assert!(ended);
        assert!(objects.iter().all(|o| !o.is_empty() && o.len() <= 64));
        assert_eq!(objects.concat(), input);
    }
}
