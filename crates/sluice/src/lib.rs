//! sluice: a sans-IO Media over QUIC session.
//!
//! A [`Session`] is a pure state machine: transport events go in ([`Input`]), stream
//! commands, datagrams and application events come out ([`Output`]); application commands
//! are its methods. It never reads a clock (time is a [`Time`] parameter), opens a socket,
//! spawns a task or draws a random number. One version-neutral API drives whichever wire
//! version the transport negotiated: moq-lite-04/05 ([`lite`]) or MOQT draft-18 ([`moqt`]).
//!
//! ```
//! use sluice::{Config, Event, Input, LiteVersion, Output, Role, Session, Time, Version};
//!
//! let mut session = Session::new(Config::default(), Role::Client, Time::ZERO);
//! session.handle(Time::ZERO, Input::Connected { version: Version::Lite(LiteVersion::Lite05) });
//! let mut opened = 0;
//! while let Some(output) = session.poll() {
//!     match output {
//!         // Hand these to your QUIC stack; report the open with Input::StreamOpenResult.
//!         Output::OpenStream { .. } => opened += 1,
//!         Output::Write { .. } => {}
//!         Output::Event(event) => println!("{event:?}"),
//!         _ => {}
//!     }
//! }
//! assert_eq!(opened, 1, "lite-05 opens its SETUP stream at once");
//! ```
//!
//! Each engine's module docs ([`lite`], [`moqt`]) say what maps where and what every
//! `Config` limit answers; `sluice-sim` runs sessions against each other without QUIC.
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

pub mod authorize;
pub mod config;
pub mod engine;
pub mod error;
pub mod event;
pub mod hash;
mod hot_map;
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

pub use authorize::{AuthToken, Authorized};
pub use config::Config;
pub use engine::{FetchOptions, JoinStart, ObjectWrite};
pub use error::CommandError;
pub use event::{Event, PresentedToken, Reason};
pub use ids::{RequestHandle, StreamId};
pub use io::{Input, Output, SendOrder};
pub use model::{
    Filter, GroupOrder, Location, Namespace, ObjectInfo, ObjectProperties, ObjectStatus, Redirect, Rejection,
    SubscribeOptions, TrackInfo, TrackName,
};
pub use recv::Payload;
pub use session::{Role, Session};
pub use sluice_wire::{HeaderBytes, LiteVersion, MoqtVersion, Version};
pub use time::Time;
