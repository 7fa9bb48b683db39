//! Fuzz target bodies (feature `fuzzing`). Placeholder until the codecs land.
pub fn lite_stream(_data: &[u8]) {}
