//! sluice: a sans-IO Media over QUIC session.
//!
//! A [`Session`] is a pure state machine: transport events go in ([`Input`]), stream
//! commands, datagrams and application events come out ([`Output`]); application commands
//! are its methods. It never reads a clock (time is a [`Time`] parameter), opens a socket,
//! spawns a task or draws a random number. One version-neutral API drives whichever wire
//! version the transport negotiated: moq-lite-04/05 ([`lite`]) or MOQT draft-18 ([`moqt`]).
//!
//! See `docs/core.md` in the repository for the design and what maps where.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod config;
pub mod engine;
pub mod error;
pub mod event;
pub mod hash;
pub mod ids;
pub mod io;
pub mod lite;
pub mod model;
pub mod moqt;
pub mod recv;
pub mod session;
pub mod time;

#[cfg(feature = "fuzzing")]
pub mod fuzz;

pub use config::Config;
pub use engine::{JoinStart, ObjectWrite};
pub use error::CommandError;
pub use event::{Event, Reason};
pub use ids::{RequestHandle, StreamId};
pub use io::{Input, Output, SendOrder};
pub use model::{
    Filter, GroupOrder, Location, Namespace, ObjectInfo, ObjectStatus, Redirect, Rejection, SubscribeOptions,
    TrackInfo, TrackName,
};
pub use recv::Payload;
pub use session::{Role, Session};
pub use sluice_wire::{LiteVersion, MoqtVersion, Version};
pub use time::Time;
