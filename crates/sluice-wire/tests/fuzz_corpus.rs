//! Replays every committed fuzz input (fuzz/corpus/<target>/ and fuzz/regressions/<target>/)
//! through the same target bodies libFuzzer runs, on stable, as part of `cargo test`.

use std::path::PathBuf;

fn replay(target: &str, body: fn(&[u8])) -> usize {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut count = 0;
    for kind in ["corpus", "regressions"] {
        let dir = root.join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            body(&data);
            count += 1;
        }
    }
    count
}

#[test]
fn lite_stream_corpus() {
    replay("lite_stream", sluice_wire::fuzz::lite_stream);
}
