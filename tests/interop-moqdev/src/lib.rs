//! Interop test crate: see tests/. No library code.
