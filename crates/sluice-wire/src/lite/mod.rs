//! moq-lite, drafts 04 and 05 (ALPNs `moq-lite-04`, `moq-lite-05`).
//!
//! All integers are QUIC varints; every message is `Length (i), Body`, with a `Type (i)`
//! before the length where a stream carries several kinds of response.
//!
//! One module per stream kind: [`stream`] (the STREAM_TYPE header), [`setup`] (uni 0x1,
//! lite-05), [`announce`] (bidi 0x1), [`subscribe`] (bidi 0x2), [`fetch`] (bidi 0x3),
//! [`probe`] (bidi 0x4), [`goaway`] (bidi 0x5), [`track`] (bidi 0x6, lite-05), [`group`]
//! (uni 0x0: GROUP and FRAME) and [`datagram`] (lite-05). [`framing`] holds the shared
//! message framing and limits. Every type takes a [`crate::LiteVersion`]; a message the
//! version does not define fails with [`crate::Violation::NotInVersion`].

pub mod announce;
pub mod datagram;
pub mod fetch;
pub mod framing;
pub mod goaway;
pub mod group;
pub mod probe;
pub mod setup;
pub mod stream;
pub mod subscribe;
pub mod track;
