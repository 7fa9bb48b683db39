//! Receiving datagrams in batches: one `recvmmsg` takes up to [`BATCH`] queued datagrams
//! on Linux, where a relay otherwise makes one `recv_from` per acknowledgement of each of its
//! subscribers. Elsewhere a batch is one `recv_from`.
//!
//! The `unsafe` code (the `recvmmsg` call and reading the addresses it wrote) is in [`sys`],
//! with SAFETY notes.

use std::io;
use std::net::{SocketAddr, UdpSocket};

/// Datagrams taken per system call.
pub(crate) const BATCH: usize = 32;
/// Room per datagram (QUIC datagrams are at most 65527 bytes).
const SLOT: usize = 65_536;

/// Receive buffers for one socket and what the last [`UdpReceiver::recv`] put in them.
#[derive(Debug)]
pub(crate) struct UdpReceiver {
    /// `BATCH` slots of `SLOT` bytes.
    buffers: Vec<u8>,
    /// Length and sender of each datagram of the last batch (a truncated one has none).
    received: Vec<(usize, Option<SocketAddr>)>,
}

impl UdpReceiver {
    pub(crate) fn new() -> UdpReceiver {
        UdpReceiver { buffers: vec![0; BATCH * SLOT], received: Vec::with_capacity(BATCH) }
    }

    /// Takes in a batch. With `wait` it blocks up to the socket's read timeout for the first
    /// datagram (then takes only what is already queued), else it does not block; the
    /// socket must be in blocking mode. Returns the number of datagrams, each available
    /// through [`UdpReceiver::datagram`]; errors are the socket's (`WouldBlock` when nothing
    /// came).
    pub(crate) fn recv(&mut self, socket: &UdpSocket, wait: bool) -> io::Result<usize> {
        self.received.clear();
        sys::recv_batch(socket, wait, &mut self.buffers, &mut self.received)?;
        Ok(self.received.len())
    }

    /// The `index`th datagram of the last batch and its sender; `None` for one that did not
    /// fit its buffer or whose sender is not an IP address (dropped, as an oversized
    /// datagram cannot be QUIC).
    pub(crate) fn datagram(&self, index: usize) -> Option<(SocketAddr, &[u8])> {
        let (len, from) = *self.received.get(index)?;
        let start = index * SLOT;
        Some((from?, self.buffers.get(start..start + len)?))
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod sys {
    //! `recvmmsg`.

    use std::io;
    use std::mem;
    use std::net::{SocketAddr, UdpSocket};
    use std::os::fd::AsRawFd;

    use super::{BATCH, SLOT};

    pub(super) fn recv_batch(
        socket: &UdpSocket,
        wait: bool,
        buffers: &mut [u8],
        received: &mut Vec<(usize, Option<SocketAddr>)>,
    ) -> io::Result<()> {
        let mut iovs: Vec<libc::iovec> = buffers
            .chunks_mut(SLOT)
            .take(BATCH)
            .map(|slot| libc::iovec { iov_base: slot.as_mut_ptr().cast(), iov_len: slot.len() })
            .collect();
        let mut addresses: Vec<socket2::SockAddrStorage> =
            (0..iovs.len()).map(|_| socket2::SockAddrStorage::zeroed()).collect();
        let mut messages: Vec<libc::mmsghdr> = iovs
            .iter_mut()
            .zip(addresses.iter_mut())
            .map(|(iov, address)| {
                // SAFETY: mmsghdr is plain data for which all-zero is a valid value.
                let mut message: libc::mmsghdr = unsafe { mem::zeroed() };
                message.msg_hdr.msg_name = (address as *mut socket2::SockAddrStorage).cast();
                message.msg_hdr.msg_namelen = mem::size_of::<socket2::SockAddrStorage>() as _;
                message.msg_hdr.msg_iov = iov;
                message.msg_hdr.msg_iovlen = 1;
                message
            })
            .collect();
        let flags = if wait { libc::MSG_WAITFORONE } else { libc::MSG_DONTWAIT };
        // SAFETY: every header points at its own iovec (a slot of `buffers`, of the length
        // given) and its own address storage (of the size given), all alive and not moved
        // until the call returns; `messages.len()` headers are passed; no timeout pointer.
        let count = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                messages.as_mut_ptr(),
                messages.len() as _,
                flags,
                std::ptr::null_mut(),
            )
        };
        if count < 0 {
            return Err(io::Error::last_os_error());
        }
        for (message, address) in messages.iter().zip(addresses).take(count as usize) {
            let truncated = message.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            // SAFETY: the kernel wrote a socket address of `msg_namelen` bytes into `address`.
            let from = unsafe { socket2::SockAddr::new(address, message.msg_hdr.msg_namelen) }.as_socket();
            received.push((message.msg_len as usize, if truncated { None } else { from }));
        }
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    //! One `recv_from` per batch.

    use std::io;
    use std::net::{SocketAddr, UdpSocket};

    pub(super) fn recv_batch(
        socket: &UdpSocket,
        wait: bool,
        buffers: &mut [u8],
        received: &mut Vec<(usize, Option<SocketAddr>)>,
    ) -> io::Result<()> {
        socket.set_nonblocking(!wait)?;
        let result = socket.recv_from(buffers.get_mut(..super::SLOT).unwrap_or_default());
        socket.set_nonblocking(false)?;
        let (len, from) = result?;
        received.push((len, Some(from)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Datagrams of different sizes and senders queued on a socket come out of batches in
    /// order, each whole and with its sender.
    #[test]
    fn queued_datagrams_come_out_whole_with_their_senders() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let senders = [UdpSocket::bind("127.0.0.1:0").unwrap(), UdpSocket::bind("127.0.0.1:0").unwrap()];
        let sent: Vec<(usize, Vec<u8>)> = (0..40usize).map(|i| (i % 2, vec![i as u8; 1 + i * 37])).collect();
        for (from, data) in &sent {
            senders[*from].send_to(data, rx.local_addr().unwrap()).unwrap();
        }
        let mut receiver = UdpReceiver::new();
        let mut got = Vec::new();
        let mut batches = Vec::new();
        while got.len() < sent.len() {
            let n = receiver.recv(&rx, true).unwrap();
            assert!((1..=BATCH).contains(&n));
            batches.push(n);
            for i in 0..n {
                let (from, data) = receiver.datagram(i).unwrap();
                got.push((from, data.to_vec()));
            }
        }
        let expected: Vec<(SocketAddr, Vec<u8>)> =
            sent.iter().map(|(from, data)| (senders[*from].local_addr().unwrap(), data.clone())).collect();
        assert_eq!(got, expected);
        // Loopback queues every datagram before the first call, so recvmmsg takes full batches.
        if cfg!(target_os = "linux") {
            assert_eq!(batches, [BATCH, sent.len() - BATCH]);
        }
    }

    #[test]
    fn nothing_queued_is_would_block_without_waiting() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let error = UdpReceiver::new().recv(&rx, false).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
    }
}
