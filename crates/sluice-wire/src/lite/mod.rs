//! moq-lite, drafts 04 and 05 (ALPNs `moq-lite-04`, `moq-lite-05`).
//!
//! All integers are QUIC varints; every message is `Length (i), Body`, with a `Type (i)`
//! before the length where a stream carries several kinds of response.
