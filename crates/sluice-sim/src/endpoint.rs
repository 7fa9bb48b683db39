//! [`Endpoint`]: the seam between the simulated network and whatever runs at each end.
//!
//! The network only needs the sans-IO shape every sluice state machine has: feed an
//! [`Input`], drain [`Output`]s, ask for the next deadline, fire it. [`sluice::Session`]
//! implements it, and so does [`ScriptedEndpoint`], a fake that emits exactly the outputs a
//! test queues and records every input it receives. The fake lets the network's mechanics
//! (FIFOs, windows, bandwidth, loss) be tested without any MoQ engine, and lets users model
//! a peer that the real engines do not (yet) cover. [`AnyEndpoint`] puts both kinds on
//! one network.

use std::collections::VecDeque;

use bytes::Bytes;
use sluice::{HeaderBytes, Input, Output, SendOrder, Session, StreamId, Time};

/// One end of a simulated connection: a sans-IO state machine.
///
/// After every [`Endpoint::handle`] or [`Endpoint::handle_timeout`] (and whenever the
/// network runs) the network drains [`Endpoint::poll`] until it returns `None`.
pub trait Endpoint {
    /// Feeds one transport input at time `now`.
    fn handle(&mut self, now: Time, input: Input);
    /// The next output, or `None` when there is nothing more to send.
    fn poll(&mut self) -> Option<Output>;
    /// When [`Endpoint::handle_timeout`] should next be called.
    fn poll_timeout(&self) -> Option<Time>;
    /// The clock reached `now`.
    fn handle_timeout(&mut self, now: Time);
}

impl Endpoint for Session {
    fn handle(&mut self, now: Time, input: Input) {
        Session::handle(self, now, input);
    }

    fn poll(&mut self) -> Option<Output> {
        Session::poll(self)
    }

    fn poll_timeout(&self) -> Option<Time> {
        Session::poll_timeout(self)
    }

    fn handle_timeout(&mut self, now: Time) {
        Session::handle_timeout(self, now);
    }
}

impl<E: Endpoint + ?Sized> Endpoint for Box<E> {
    fn handle(&mut self, now: Time, input: Input) {
        (**self).handle(now, input);
    }

    fn poll(&mut self) -> Option<Output> {
        (**self).poll()
    }

    fn poll_timeout(&self) -> Option<Time> {
        (**self).poll_timeout()
    }

    fn handle_timeout(&mut self, now: Time) {
        (**self).handle_timeout(now);
    }
}

/// A fake endpoint driven by the test: it emits the outputs queued on it, in order, and
/// records every input it is given (with the time it arrived).
///
/// The helper methods build the same outputs a sluice session would, with core-style stream
/// handles (bit 63 set, see [`StreamId::local`]).
#[derive(Debug, Default)]
pub struct ScriptedEndpoint {
    outputs: VecDeque<Output>,
    /// Every input received so far, oldest first, with its arrival time.
    pub received: Vec<(Time, Input)>,
    /// Times at which [`Endpoint::handle_timeout`] fired.
    pub timeouts: Vec<Time>,
    wake_at: Option<Time>,
    next_stream: u64,
}

impl ScriptedEndpoint {
    /// An endpoint with nothing queued.
    pub fn new() -> ScriptedEndpoint {
        ScriptedEndpoint::default()
    }

    /// Queues one output, to be emitted when the network next drains this endpoint.
    pub fn push(&mut self, output: Output) {
        self.outputs.push_back(output);
    }

    /// Queues an [`Output::OpenStream`] with a fresh local handle and returns the handle.
    pub fn open_stream(&mut self, bidi: bool, order: SendOrder) -> StreamId {
        let stream = StreamId::local(self.next_stream);
        self.next_stream += 1;
        self.push(Output::OpenStream { stream, bidi, order });
        stream
    }

    /// Queues a write of `data` (as payload, with an empty header).
    pub fn write(&mut self, stream: StreamId, data: Bytes, fin: bool) {
        self.push(Output::Write { stream, header: HeaderBytes::new(), payload: data, fin });
    }

    /// Queues a datagram.
    pub fn datagram(&mut self, data: Bytes) {
        self.push(Output::Datagram(data));
    }

    /// Asks for a [`Endpoint::handle_timeout`] call at `at` (replacing any earlier request).
    pub fn wake_at(&mut self, at: Time) {
        self.wake_at = Some(at);
    }

    /// Takes the inputs received so far.
    pub fn take_received(&mut self) -> Vec<(Time, Input)> {
        std::mem::take(&mut self.received)
    }

    /// The data received on `stream`, chunk by chunk, in arrival order.
    pub fn stream_chunks(&self, stream: StreamId) -> Vec<Bytes> {
        self.received
            .iter()
            .filter_map(|(_, input)| match input {
                Input::StreamData { stream: s, data } if *s == stream => Some(data.clone()),
                _ => None,
            })
            .collect()
    }

    /// The streams the peer opened, in the order they were reported.
    pub fn opened_streams(&self) -> Vec<StreamId> {
        self.received
            .iter()
            .filter_map(|(_, input)| match input {
                Input::StreamOpened { stream, .. } => Some(*stream),
                _ => None,
            })
            .collect()
    }

    /// The datagrams received, in arrival order.
    pub fn datagrams(&self) -> Vec<Bytes> {
        self.received
            .iter()
            .filter_map(|(_, input)| match input {
                Input::Datagram(data) => Some(data.clone()),
                _ => None,
            })
            .collect()
    }
}

impl Endpoint for ScriptedEndpoint {
    fn handle(&mut self, now: Time, input: Input) {
        self.received.push((now, input));
    }

    fn poll(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    fn poll_timeout(&self) -> Option<Time> {
        self.wake_at
    }

    fn handle_timeout(&mut self, now: Time) {
        if self.wake_at.is_some_and(|at| at <= now) {
            self.wake_at = None;
            self.timeouts.push(now);
        }
    }
}

/// Either a real session or a scripted fake, for networks that mix them: a session under
/// test facing a hand-written (possibly misbehaving) peer, or a relay of sessions with a
/// scripted client. Use it as `Network<AnyEndpoint>`.
#[derive(Debug)]
pub enum AnyEndpoint {
    /// A sluice session.
    Session(Box<Session>),
    /// A scripted fake.
    Scripted(ScriptedEndpoint),
}

impl AnyEndpoint {
    /// The session, if this is one.
    pub fn as_session_mut(&mut self) -> Option<&mut Session> {
        match self {
            AnyEndpoint::Session(s) => Some(s),
            AnyEndpoint::Scripted(_) => None,
        }
    }

    /// The scripted endpoint, if this is one.
    pub fn as_scripted_mut(&mut self) -> Option<&mut ScriptedEndpoint> {
        match self {
            AnyEndpoint::Scripted(s) => Some(s),
            AnyEndpoint::Session(_) => None,
        }
    }

    /// The scripted endpoint, if this is one.
    pub fn as_scripted(&self) -> Option<&ScriptedEndpoint> {
        match self {
            AnyEndpoint::Scripted(s) => Some(s),
            AnyEndpoint::Session(_) => None,
        }
    }
}

impl From<Session> for AnyEndpoint {
    fn from(session: Session) -> AnyEndpoint {
        AnyEndpoint::Session(Box::new(session))
    }
}

impl From<ScriptedEndpoint> for AnyEndpoint {
    fn from(scripted: ScriptedEndpoint) -> AnyEndpoint {
        AnyEndpoint::Scripted(scripted)
    }
}

impl Endpoint for AnyEndpoint {
    fn handle(&mut self, now: Time, input: Input) {
        match self {
            AnyEndpoint::Session(s) => Endpoint::handle(&mut **s, now, input),
            AnyEndpoint::Scripted(s) => s.handle(now, input),
        }
    }

    fn poll(&mut self) -> Option<Output> {
        match self {
            AnyEndpoint::Session(s) => Endpoint::poll(&mut **s),
            AnyEndpoint::Scripted(s) => s.poll(),
        }
    }

    fn poll_timeout(&self) -> Option<Time> {
        match self {
            AnyEndpoint::Session(s) => Endpoint::poll_timeout(&**s),
            AnyEndpoint::Scripted(s) => s.poll_timeout(),
        }
    }

    fn handle_timeout(&mut self, now: Time) {
        match self {
            AnyEndpoint::Session(s) => Endpoint::handle_timeout(&mut **s, now),
            AnyEndpoint::Scripted(s) => s.handle_timeout(now),
        }
    }
}
