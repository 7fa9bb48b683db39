//! STUB: the moq-lite engine is being written; every command is refused for now.

use bytes::Bytes;

use crate::engine::{Engine, JoinStart, ObjectWrite, Shared};
use crate::error::CommandError;
use crate::ids::{RequestHandle, StreamId};
use crate::io::Input;
use crate::model::{Location, Namespace, SubscribeOptions, TrackInfo, TrackName};
use crate::time::Time;

/// The moq-lite engine.
#[derive(Debug)]
pub struct LiteEngine {
    version: sluice_wire::LiteVersion,
}

impl LiteEngine {
    /// A new engine for `version`.
    pub fn new(version: sluice_wire::LiteVersion) -> Self {
        LiteEngine { version }
    }

    fn unsupported(&self, what: &'static str) -> CommandError {
        CommandError::Unsupported { what, version: self.version.into() }
    }
}

#[allow(unused_variables)]
impl Engine for LiteEngine {
    fn start(&mut self, shared: &mut Shared, now: Time) {}
    fn handle(&mut self, shared: &mut Shared, now: Time, input: Input) {}
    fn handle_timeout(&mut self, shared: &mut Shared, now: Time) {}
    fn poll_timeout(&self) -> Option<Time> {
        None
    }
    fn clear(&mut self) {}
    fn table_sizes(&self) -> usize {
        0
    }
    fn announce(&mut self, shared: &mut Shared, namespace: Namespace) -> Result<RequestHandle, CommandError> {
        Err(self.unsupported("announce"))
    }
    fn accept_announce(&mut self, shared: &mut Shared, request: RequestHandle) -> Result<(), CommandError> {
        Err(self.unsupported("accept_announce"))
    }
    fn discover(&mut self, shared: &mut Shared, prefix: Namespace) -> Result<RequestHandle, CommandError> {
        Err(self.unsupported("discover"))
    }
    fn subscribe(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
        options: SubscribeOptions,
    ) -> Result<RequestHandle, CommandError> {
        Err(self.unsupported("subscribe"))
    }
    fn update_subscription(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        options: SubscribeOptions,
    ) -> Result<(), CommandError> {
        Err(self.unsupported("update_subscription"))
    }
    fn accept_subscribe(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        info: TrackInfo,
    ) -> Result<(), CommandError> {
        Err(self.unsupported("accept_subscribe"))
    }
    fn publish(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
        info: TrackInfo,
    ) -> Result<RequestHandle, CommandError> {
        Err(self.unsupported("publish"))
    }
    fn accept_publish(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        options: SubscribeOptions,
    ) -> Result<(), CommandError> {
        Err(self.unsupported("accept_publish"))
    }
    fn reject(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        code: u64,
        reason: &str,
    ) -> Result<(), CommandError> {
        Err(self.unsupported("reject"))
    }
    fn cancel(&mut self, shared: &mut Shared, request: RequestHandle) -> Result<(), CommandError> {
        Err(self.unsupported("cancel"))
    }
    fn open_subgroup(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        subgroup: u64,
        priority: Option<u8>,
    ) -> Result<StreamId, CommandError> {
        Err(self.unsupported("open_subgroup"))
    }
    fn write_object(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        Err(self.unsupported("write_object"))
    }
    fn close_subgroup(
        &mut self,
        shared: &mut Shared,
        stream: StreamId,
        end_of_group: bool,
    ) -> Result<(), CommandError> {
        Err(self.unsupported("close_subgroup"))
    }
    fn send_datagram(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        Err(self.unsupported("send_datagram"))
    }
    fn end_subscription(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        code: u64,
        reason: &str,
    ) -> Result<(), CommandError> {
        Err(self.unsupported("end_subscription"))
    }
    fn fetch(
        &mut self,
        shared: &mut Shared,
        track: TrackName,
        start: Location,
        end: Location,
        priority: u8,
    ) -> Result<RequestHandle, CommandError> {
        Err(self.unsupported("fetch"))
    }
    fn joining_fetch(
        &mut self,
        shared: &mut Shared,
        subscription: RequestHandle,
        start: JoinStart,
        priority: u8,
    ) -> Result<RequestHandle, CommandError> {
        Err(self.unsupported("joining_fetch"))
    }
    fn accept_fetch(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        end: Location,
    ) -> Result<(), CommandError> {
        Err(self.unsupported("accept_fetch"))
    }
    fn write_fetch_object(
        &mut self,
        shared: &mut Shared,
        request: RequestHandle,
        group: u64,
        subgroup: u64,
        object: ObjectWrite,
    ) -> Result<(), CommandError> {
        Err(self.unsupported("write_fetch_object"))
    }
    fn finish_fetch(&mut self, shared: &mut Shared, request: RequestHandle) -> Result<(), CommandError> {
        Err(self.unsupported("finish_fetch"))
    }
    fn track_status(&mut self, shared: &mut Shared, track: TrackName) -> Result<RequestHandle, CommandError> {
        Err(self.unsupported("track_status"))
    }
    fn goaway(
        &mut self,
        shared: &mut Shared,
        uri: Bytes,
        timeout: std::time::Duration,
    ) -> Result<(), CommandError> {
        Err(self.unsupported("goaway"))
    }
}
