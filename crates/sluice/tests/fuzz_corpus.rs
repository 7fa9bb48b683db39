//! Replays the committed session fuzz corpus (fuzz/corpus/session_inputs and
//! fuzz/regressions/session_inputs) through the target body on stable.

use std::path::PathBuf;

#[test]
fn session_inputs() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut count = 0;
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind).join("session_inputs")) else { continue };
        for entry in entries {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            sluice::fuzz::session_inputs(&data);
            count += 1;
        }
    }
    assert!(count > 0, "no corpus committed for session_inputs");
}
