//! Sending quinn-proto's [`Transmit`](quinn_proto::Transmit)s on a `std::net::UdpSocket`,
//! batched with UDP generic segmentation offload (GSO) where the kernel has it.
//!
//! quinn-proto packs up to `max_datagrams` equally sized datagrams for one destination into
//! one buffer (the last may be shorter) and reports the size in `segment_size`. On Linux one
//! `sendmsg` with a `UDP_SEGMENT` control message hands the whole batch to the kernel, which
//! splits it into datagrams: one system call and one trip through the UDP stack instead of
//! one per datagram, which is most of a relay's fan-out cost. Elsewhere, or when the kernel
//! refuses (no GSO support on the route: `EIO`; an old kernel: `EINVAL`), every segment goes
//! out with its own `send_to` and [`UdpSender`] remembers to ask quinn-proto for single
//! datagrams from then on.
//!
//! The only `unsafe` code of the crate is the `sendmsg` / `getsockopt` calls in
//! [`sys`], each with its SAFETY note.

use std::io;
use std::net::{SocketAddr, UdpSocket};

/// Most datagrams asked of quinn-proto per transmit when GSO works. Linux accepts up to 64
/// (`UDP_MAX_SEGMENTS`) within 64 KiB; ten full-size QUIC packets (about 15 KB) already
/// take away nearly all of the per-datagram system call cost.
pub(crate) const MAX_GSO_SEGMENTS: usize = 10;
/// The kernel's bound on one GSO batch (a UDP payload's 16-bit length, less headers).
const MAX_GSO_BYTES: usize = 65_000;

/// Sends transmits on one socket, with GSO while the kernel accepts it.
#[derive(Debug)]
pub(crate) struct UdpSender {
    /// Datagrams per transmit to ask quinn-proto for: [`MAX_GSO_SEGMENTS`] with GSO, else 1.
    max_segments: usize,
}

impl UdpSender {
    /// A sender for `socket`, with GSO when the kernel reports support for it on the socket.
    pub(crate) fn new(socket: &UdpSocket) -> UdpSender {
        let max_segments = if sys::gso_supported(socket) { MAX_GSO_SEGMENTS } else { 1 };
        UdpSender { max_segments }
    }

    /// A sender that sends one datagram per system call.
    #[cfg(test)]
    pub(crate) fn without_gso() -> UdpSender {
        UdpSender { max_segments: 1 }
    }

    /// How many datagrams one transmit may hold (the `max_datagrams` for quinn-proto).
    pub(crate) fn max_segments(&self) -> usize {
        self.max_segments
    }

    /// Sends `data` (a transmit's bytes) to `destination`: one datagram, or when
    /// `segment_size` is smaller than `data`, datagrams of `segment_size` bytes (the last
    /// one possibly shorter). Errors are the socket's, for the caller to classify; a batch
    /// the kernel refuses to segment is sent datagram by datagram instead, and GSO stays off.
    pub(crate) fn send(
        &mut self,
        socket: &UdpSocket,
        destination: SocketAddr,
        data: &[u8],
        segment_size: Option<usize>,
    ) -> io::Result<()> {
        let segment = match segment_size {
            Some(size) if size > 0 && size < data.len() => size,
            _ => return socket.send_to(data, destination).map(|_| ()),
        };
        if self.max_segments > 1 && data.len() <= MAX_GSO_BYTES {
            match sys::send_segmented(socket, destination, data, segment) {
                Ok(()) => return Ok(()),
                Err(e) if matches!(e.raw_os_error(), Some(code) if sys::means_no_gso(code)) => {
                    self.max_segments = 1;
                }
                Err(e) => return Err(e),
            }
        }
        for chunk in data.chunks(segment) {
            socket.send_to(chunk, destination)?;
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod sys {
    //! `sendmsg` with a `UDP_SEGMENT` control message, and the support probe.

    use std::io;
    use std::mem;
    use std::net::{SocketAddr, UdpSocket};
    use std::os::fd::AsRawFd;

    /// Whether the kernel knows the `UDP_SEGMENT` socket option (Linux 4.18 and later).
    pub(super) fn gso_supported(socket: &UdpSocket) -> bool {
        let mut value: libc::c_int = 0;
        let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `value` and `len` are live locals of the sizes passed; the kernel writes at
        // most `len` bytes into `value` and updates `len`.
        let rc = unsafe {
            libc::getsockopt(
                socket.as_raw_fd(),
                libc::SOL_UDP,
                libc::UDP_SEGMENT,
                (&mut value as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        rc == 0
    }

    /// Errors that mean "this socket or route cannot segment", not "this send failed".
    pub(super) fn means_no_gso(code: i32) -> bool {
        code == libc::EIO || code == libc::EINVAL || code == libc::EOPNOTSUPP
    }

    /// One `sendmsg` of `data` to `destination`, segmented by the kernel every `segment`
    /// bytes.
    pub(super) fn send_segmented(
        socket: &UdpSocket,
        destination: SocketAddr,
        data: &[u8],
        segment: usize,
    ) -> io::Result<()> {
        let segment = u16::try_from(segment).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let address = socket2::SockAddr::from(destination);
        let mut iov = libc::iovec { iov_base: data.as_ptr() as *mut libc::c_void, iov_len: data.len() };
        // Room for one cmsg carrying a u16, aligned as the kernel's cmsghdr requires.
        // SAFETY: CMSG_SPACE only computes a size.
        let space = unsafe { libc::CMSG_SPACE(mem::size_of::<u16>() as u32) } as usize;
        let mut control = [0u64; 4]; // 32 bytes, 8-aligned: more than CMSG_SPACE(2) (24 on 64-bit)
        if space > mem::size_of_val(&control) {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SAFETY: msghdr is plain data for which all-zero is a valid value.
        let mut msg: libc::msghdr = unsafe { mem::zeroed() };
        msg.msg_name = address.as_ptr() as *mut libc::c_void;
        msg.msg_namelen = address.len();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        // SAFETY: `msg` points at `control`, which is at least `space` bytes and 8-aligned, so
        // CMSG_FIRSTHDR returns a non-null header inside it and CMSG_DATA has room for the
        // u16 (CMSG_SPACE(2) bytes were reserved); the data pointer may be unaligned, hence
        // write_unaligned. sendmsg only reads `msg`, the address, `iov`'s buffer (`data`,
        // borrowed for the call) and `control`, all alive until it returns.
        let sent = unsafe {
            let header = libc::CMSG_FIRSTHDR(&msg);
            (*header).cmsg_level = libc::SOL_UDP;
            (*header).cmsg_type = libc::UDP_SEGMENT;
            (*header).cmsg_len = libc::CMSG_LEN(mem::size_of::<u16>() as u32) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(header).cast::<u16>(), segment);
            libc::sendmsg(socket.as_raw_fd(), &msg, 0)
        };
        if sent < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    //! No GSO off Linux: every segment is its own `send_to`.

    use std::io;
    use std::net::{SocketAddr, UdpSocket};

    pub(super) fn gso_supported(_socket: &UdpSocket) -> bool {
        false
    }

    pub(super) fn means_no_gso(_code: i32) -> bool {
        true
    }

    pub(super) fn send_segmented(_: &UdpSocket, _: SocketAddr, _: &[u8], _: usize) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A batch of three 1000-byte segments and a 500-byte tail, each segment filled with its
    /// index so that order and boundaries show.
    fn batch() -> Vec<u8> {
        let mut data = Vec::new();
        for (index, len) in [1000usize, 1000, 1000, 500].into_iter().enumerate() {
            data.extend(std::iter::repeat_n(index as u8, len));
        }
        data
    }

    /// Sends `batch()` with `sender` and returns the datagrams that arrive.
    fn send_and_collect(mut sender: UdpSender) -> Vec<Vec<u8>> {
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        sender.send(&tx, rx.local_addr().unwrap(), &batch(), Some(1000)).unwrap();
        let mut buf = vec![0; 65_536];
        (0..4)
            .map(|_| {
                let (len, from) = rx.recv_from(&mut buf).unwrap();
                assert_eq!(from, tx.local_addr().unwrap());
                buf[..len].to_vec()
            })
            .collect()
    }

    fn assert_segments(datagrams: &[Vec<u8>]) {
        let sizes: Vec<usize> = datagrams.iter().map(Vec::len).collect();
        assert_eq!(sizes, [1000, 1000, 1000, 500]);
        for (index, datagram) in datagrams.iter().enumerate() {
            assert!(datagram.iter().all(|&b| b == index as u8), "datagram {index} holds another segment");
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn gso_batch_arrives_as_one_datagram_per_segment() {
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let sender = UdpSender::new(&tx);
        if sender.max_segments() == 1 {
            return; // kernel without UDP_SEGMENT: the fallback test covers this machine
        }
        assert_eq!(sender.max_segments(), MAX_GSO_SEGMENTS);
        // Straight through the GSO path (no silent fallback to per-datagram sends).
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        sys::send_segmented(&tx, rx.local_addr().unwrap(), &batch(), 1000).unwrap();
        let mut buf = vec![0; 65_536];
        let datagrams: Vec<Vec<u8>> = (0..4)
            .map(|_| {
                let (len, _) = rx.recv_from(&mut buf).unwrap();
                buf[..len].to_vec()
            })
            .collect();
        assert_segments(&datagrams);
        // And through UdpSender, which keeps GSO on after a successful batch.
        assert_segments(&send_and_collect(UdpSender::new(&tx)));
    }

    /// A batch the kernel refuses to segment (more than its `UDP_MAX_SEGMENTS`, 64 or 128
    /// by kernel version: EINVAL) still
    /// arrives whole, datagram by datagram, and the sender stops asking for batches.
    #[test]
    #[cfg(target_os = "linux")]
    fn a_refused_batch_falls_back_and_gso_stays_off() {
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut sender = UdpSender::new(&tx);
        if sender.max_segments() == 1 {
            return; // no GSO here: nothing to refuse
        }
        socket2::SockRef::from(&rx).set_recv_buffer_size(1 << 20).unwrap();
        let data: Vec<u8> = (0..200u8).flat_map(|i| std::iter::repeat_n(i, 50)).collect();
        sender.send(&tx, rx.local_addr().unwrap(), &data, Some(50)).unwrap();
        assert_eq!(sender.max_segments(), 1);
        let mut buf = vec![0; 65_536];
        for i in 0..200u8 {
            let (len, _) = rx.recv_from(&mut buf).unwrap();
            assert_eq!(len, 50);
            assert!(buf[..len].iter().all(|&b| b == i));
        }
    }

    #[test]
    fn without_gso_a_batch_is_sent_datagram_by_datagram() {
        let sender = UdpSender::without_gso();
        assert_eq!(sender.max_segments(), 1);
        assert_segments(&send_and_collect(sender));
    }

    #[test]
    fn a_single_datagram_is_sent_whole() {
        for segment_size in [None, Some(3500)] {
            let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
            let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
            rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            UdpSender::new(&tx).send(&tx, rx.local_addr().unwrap(), &batch(), segment_size).unwrap();
            let mut buf = vec![0; 65_536];
            let (len, _) = rx.recv_from(&mut buf).unwrap();
            assert_eq!(buf[..len], batch()[..]);
        }
    }
}
