//! [`Endpoint`]: a blocking driver for QUIC MoQ connections on one `std::net::UdpSocket`,
//! with no async runtime.
//!
//! One endpoint serves as a client (any number of [`Endpoint::connect`]s), a server (every
//! incoming connection is accepted and gets its own [`Session`](sluice::Session)), or both.
//! Each [`Endpoint::step`] does one round of the sans-IO loop:
//!
//! 1. flush every connection (session commands issued since the last step reach quinn-proto),
//!    and send what quinn-proto has to send;
//! 2. wait on the socket until the earliest deadline of any QUIC connection or MoQ session,
//!    capped by the caller's `max_wait` (`set_read_timeout`), and take in every datagram
//!    that arrived;
//! 3. fire due timers, flush again, send, and drop connections that are fully drained and
//!    whose events were all taken.
//!
//! Callers embed `step` in their own loop, or use [`Endpoint::run_until`]. Two endpoints in
//! one thread can be stepped alternately with a short `max_wait` (the tests do that).
//! Outgoing datagrams go out in GSO batches of up to ten where the kernel supports it (one
//! `sendmsg` per batch, see [`crate::udp_send`]), else one per `send_to`.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use quinn_proto::{ConnectionHandle, DatagramEvent, EndpointConfig};
use sluice::{Config, Role};

use crate::clock::Clock;
use crate::connection::Connection;
use crate::error::Error;
use crate::tls::ClientTls;
use crate::transport::Transport;
use crate::udp_recv::UdpReceiver;
use crate::udp_send::UdpSender;

/// Room for one transmit (a QUIC datagram is at most 65527 bytes, a GSO batch about 64 KiB).
const RECV_BUF: usize = 65_536;
/// Datagrams taken in per step before timers and outputs get their turn.
const MAX_DATAGRAMS_PER_STEP: usize = 256;
/// Socket receive and send buffer asked for (the kernel caps it at `net.core.rmem_max` /
/// `wmem_max`). Linux's default of 208 KiB holds about 90 full-size datagrams: a client
/// socket carrying 50 subscriptions overflowed it whenever a relay's fan-out burst met a
/// busy step, and each dropped datagram cost one subscriber a loss recovery (the relay
/// benchmark's p99, docs/bench-relay.md).
const SOCKET_BUFFER: usize = 4 << 20;

/// A UDP socket, a quinn-proto endpoint and its MoQ connections. See the module docs.
#[derive(Debug)]
pub struct Endpoint {
    socket: UdpSocket,
    sender: UdpSender,
    endpoint: quinn_proto::Endpoint,
    client_config: Option<ClientTls>,
    session_config: Config,
    clock: Clock,
    connections: BTreeMap<ConnectionHandle, Connection>,
    accepted: VecDeque<ConnectionHandle>,
    receiver: UdpReceiver,
    send_buf: Vec<u8>,
}

impl Endpoint {
    /// An endpoint bound to `addr`. With `server` it accepts incoming connections (as
    /// [`Role::Server`] sessions); with `client` it can [`Endpoint::connect`].
    pub fn bind(
        addr: SocketAddr,
        server: Option<quinn_proto::ServerConfig>,
        client: Option<ClientTls>,
        session_config: Config,
    ) -> Result<Endpoint, Error> {
        let socket = UdpSocket::bind(addr)?;
        // Best effort: a smaller buffer than asked for only costs more drops under bursts.
        let sock = socket2::SockRef::from(&socket);
        let _ = sock.set_recv_buffer_size(SOCKET_BUFFER);
        let _ = sock.set_send_buffer_size(SOCKET_BUFFER);
        let endpoint = quinn_proto::Endpoint::new(
            Arc::new(EndpointConfig::default()),
            server.map(Arc::new),
            false,
            None,
        );
        let sender = UdpSender::new(&socket);
        Ok(Endpoint {
            socket,
            sender,
            endpoint,
            client_config: client,
            session_config,
            clock: Clock::new(Instant::now()),
            connections: BTreeMap::new(),
            accepted: VecDeque::new(),
            receiver: UdpReceiver::new(),
            send_buf: Vec::with_capacity(RECV_BUF),
        })
    }

    /// A server endpoint.
    pub fn server(
        addr: SocketAddr,
        server: quinn_proto::ServerConfig,
        session_config: Config,
    ) -> Result<Endpoint, Error> {
        Endpoint::bind(addr, Some(server), None, session_config)
    }

    /// A client endpoint. `client` is [`crate::client_config`]'s result (both transports) or
    /// a bare `quinn_proto::ClientConfig` (raw QUIC only).
    pub fn client(
        addr: SocketAddr,
        client: impl Into<ClientTls>,
        session_config: Config,
    ) -> Result<Endpoint, Error> {
        Endpoint::bind(addr, None, Some(client.into()), session_config)
    }

    /// The socket's local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Starts a connection to `remote`; its session (a [`Role::Client`]) becomes ready when
    /// `Event::Ready` is reported.
    pub fn connect(&mut self, remote: SocketAddr, server_name: &str) -> Result<ConnectionHandle, Error> {
        let config = self.client_config.as_ref().ok_or(Error::NotAClient)?.quic.clone();
        let now = Instant::now();
        let (handle, quic) = self.endpoint.connect(now, config, remote, server_name)?;
        let conn = Connection::new(handle, quic, self.session_config.clone(), Role::Client, self.clock, now);
        self.connections.insert(handle, conn);
        Ok(handle)
    }

    /// Like [`Endpoint::connect`], over the given [`Transport`]. For WebTransport the
    /// connection offers ALPN `h3`, sends the extended CONNECT for
    /// `https://{server_name}:{port}{path}` with the configured versions in
    /// `WT-Available-Protocols`, and starts the session on the version the server's
    /// `WT-Protocol` names (see [`crate::webtransport`]). A client endpoint made from a bare
    /// `quinn_proto::ClientConfig` has no `h3` configuration: `Error::UnsupportedTransport`.
    pub fn connect_over(
        &mut self,
        remote: SocketAddr,
        server_name: &str,
        transport: &Transport,
    ) -> Result<ConnectionHandle, Error> {
        match transport {
            Transport::Quic => self.connect(remote, server_name),
            Transport::WebTransport { path } => self.connect_webtransport(remote, server_name, path, true),
        }
    }

    /// A WebTransport client connection that names no MoQ version: its CONNECT carries no
    /// `WT-Available-Protocols` (as moq-transport's WebTransport client does). The version is
    /// then the one the server's `WT-Protocol` names, else draft-18 (the default of
    /// [`crate::webtransport::DEFAULT_VERSION`]) when this endpoint's client configuration
    /// includes it, else its first version.
    pub fn connect_webtransport_unnamed(
        &mut self,
        remote: SocketAddr,
        server_name: &str,
        path: &str,
    ) -> Result<ConnectionHandle, Error> {
        self.connect_webtransport(remote, server_name, path, false)
    }

    fn connect_webtransport(
        &mut self,
        remote: SocketAddr,
        server_name: &str,
        path: &str,
        name_versions: bool,
    ) -> Result<ConnectionHandle, Error> {
        let tls = self.client_config.as_ref().ok_or(Error::NotAClient)?;
        let config = tls
            .webtransport
            .clone()
            .ok_or(Error::UnsupportedTransport("webtransport needs a client configuration with ALPN h3"))?;
        let versions = tls.versions.clone();
        let now = Instant::now();
        let (handle, quic) = self.endpoint.connect(now, config, remote, server_name)?;
        let mut conn =
            Connection::new(handle, quic, self.session_config.clone(), Role::Client, self.clock, now);
        let authority = format!("{server_name}:{}", remote.port());
        conn.start_webtransport_client(&authority, path, &versions, name_versions);
        self.connections.insert(handle, conn);
        Ok(handle)
    }

    /// A connection by handle.
    pub fn connection(&mut self, handle: ConnectionHandle) -> Option<&mut Connection> {
        self.connections.get_mut(&handle)
    }

    /// Every live connection.
    pub fn connections(&mut self) -> impl Iterator<Item = &mut Connection> {
        self.connections.values_mut()
    }

    /// The next connection the server accepted since the last call.
    pub fn accept(&mut self) -> Option<ConnectionHandle> {
        self.accepted.pop_front()
    }

    /// The clock this endpoint converts `Instant`s with.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// The earliest deadline of any connection.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.connections.values_mut().filter_map(|c| c.poll_timeout()).min()
    }

    /// One round of the loop (see the module docs), waiting at most `max_wait` for a
    /// datagram.
    pub fn step(&mut self, max_wait: Duration) -> Result<(), Error> {
        self.drive_all(Instant::now())?;

        let now = Instant::now();
        let wait = match self.poll_timeout() {
            Some(deadline) => deadline.saturating_duration_since(now).min(max_wait),
            None => max_wait,
        };
        self.receive(wait)?;

        let now = Instant::now();
        for conn in self.connections.values_mut() {
            conn.handle_timeout(now);
        }
        self.drive_all(now)?;
        self.connections.retain(|_, conn| !(conn.is_drained() && conn.events_empty()));
        Ok(())
    }

    /// Steps until `done` returns true (checked after every step) or `deadline` passes;
    /// returns whether `done` did.
    pub fn run_until<F>(&mut self, deadline: Instant, mut done: F) -> Result<bool, Error>
    where
        F: FnMut(&mut Endpoint) -> bool,
    {
        loop {
            if done(self) {
                return Ok(true);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            self.step(deadline - now)?;
        }
    }

    /// Waits up to `wait` for the first datagram, then takes in whatever else is queued, in
    /// batches ([`crate::udp_recv`]).
    fn receive(&mut self, wait: Duration) -> Result<(), Error> {
        // A zero read timeout is an error for std; one microsecond is "poll".
        self.socket.set_nonblocking(false)?;
        self.socket.set_read_timeout(Some(wait.max(Duration::from_micros(1))))?;
        let mut taken = 0;
        while taken < MAX_DATAGRAMS_PER_STEP {
            match self.receiver.recv(&self.socket, taken == 0) {
                Ok(count) => {
                    taken += count.max(1);
                    for index in 0..count {
                        let Some((from, data)) = self.receiver.datagram(index) else { continue };
                        let data = BytesMut::from(data);
                        self.on_datagram(Instant::now(), from, data)?;
                    }
                }
                // A signal interrupting the wait ends it early, like a timeout, so the caller's
                // loop gets to look at whatever the signal handler set.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                    ) =>
                {
                    break;
                }
                // ICMP port unreachable and the like surface as errors on some systems; QUIC's
                // own timers deal with an unreachable peer.
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => taken += 1,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn on_datagram(&mut self, now: Instant, from: SocketAddr, data: BytesMut) -> Result<(), Error> {
        self.send_buf.clear();
        match self.endpoint.handle(now, from, None, None, data, &mut self.send_buf) {
            Some(DatagramEvent::ConnectionEvent(handle, event)) => {
                if let Some(conn) = self.connections.get_mut(&handle) {
                    conn.handle_quic_event(event);
                }
            }
            Some(DatagramEvent::NewConnection(incoming)) => {
                self.send_buf.clear();
                match self.endpoint.accept(incoming, now, &mut self.send_buf, None) {
                    Ok((handle, quic)) => {
                        let conn = Connection::new(
                            handle,
                            quic,
                            self.session_config.clone(),
                            Role::Server,
                            self.clock,
                            now,
                        );
                        self.connections.insert(handle, conn);
                        self.accepted.push_back(handle);
                    }
                    Err(e) => {
                        if let Some(transmit) = e.response {
                            send(&self.socket, &mut self.sender, &self.send_buf, &transmit)?;
                        }
                    }
                }
            }
            Some(DatagramEvent::Response(transmit)) => {
                send(&self.socket, &mut self.sender, &self.send_buf, &transmit)?
            }
            None => {}
        }
        Ok(())
    }

    /// Flushes every connection, exchanges endpoint events, sends every pending packet.
    fn drive_all(&mut self, now: Instant) -> Result<(), Error> {
        for conn in self.connections.values_mut() {
            loop {
                loop {
                    conn.flush(now);
                    let mut exchanged = false;
                    while let Some(event) = conn.poll_endpoint_event() {
                        exchanged = true;
                        if let Some(reply) = self.endpoint.handle_event(conn.handle(), event) {
                            conn.handle_quic_event(reply);
                        }
                    }
                    if !exchanged {
                        break;
                    }
                }
                // Sending frees congestion window and may let queued stream data go: flush
                // again until quinn-proto has nothing more to send (bounded by its
                // congestion controller and pacer).
                let mut sent = false;
                self.send_buf.clear();
                while let Some(transmit) =
                    conn.poll_transmit(now, self.sender.max_segments(), &mut self.send_buf)
                {
                    send(&self.socket, &mut self.sender, &self.send_buf, &transmit)?;
                    self.send_buf.clear();
                    sent = true;
                }
                if !sent {
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Sends one transmit (a datagram or a GSO batch); a full socket buffer drops it (QUIC
/// retransmits).
fn send(
    socket: &UdpSocket,
    sender: &mut UdpSender,
    buf: &[u8],
    transmit: &quinn_proto::Transmit,
) -> Result<(), Error> {
    let data = buf.get(..transmit.size).unwrap_or(buf);
    match sender.send(socket, transmit.destination, data, transmit.segment_size) {
        Ok(_) => Ok(()),
        // Interrupted by a signal: dropped like a full buffer (QUIC retransmits).
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::ConnectionRefused | io::ErrorKind::Interrupted
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::{ServerVerification, client_config};

    /// The kernel's cap on a socket buffer, where it can be read.
    fn kernel_cap(name: &str) -> Option<usize> {
        std::fs::read_to_string(format!("/proc/sys/net/core/{name}")).ok()?.trim().parse().ok()
    }

    /// The endpoint's socket gets the buffers it asks for, up to the kernel's cap (Linux
    /// reports twice the size it grants, for its bookkeeping, so at least the size itself).
    #[test]
    fn socket_buffers_are_enlarged_up_to_the_kernel_cap() {
        let (Some(rmem_max), Some(wmem_max)) = (kernel_cap("rmem_max"), kernel_cap("wmem_max")) else {
            return; // not Linux: nothing to compare against
        };
        let tls = client_config(
            ServerVerification::Insecure,
            &[sluice::Version::Moqt(sluice::MoqtVersion::Draft18)],
        )
        .unwrap();
        let endpoint =
            Endpoint::client(SocketAddr::from(([127, 0, 0, 1], 0)), tls, Config::default()).unwrap();
        let sock = socket2::SockRef::from(&endpoint.socket);
        assert!(sock.recv_buffer_size().unwrap() >= SOCKET_BUFFER.min(rmem_max));
        assert!(sock.send_buffer_size().unwrap() >= SOCKET_BUFFER.min(wmem_max));
    }
}
