//! Shared nothing: the interop tests live in tests/.
