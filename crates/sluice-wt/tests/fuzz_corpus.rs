//! Replays the committed sluice-wt fuzz corpora (fuzz/corpus/wt_* and fuzz/regressions/wt_*)
//! through the target bodies on stable.

use std::path::PathBuf;

fn replay(target: &str, body: fn(&[u8])) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut count = 0;
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind).join(target)) else { continue };
        for entry in entries {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            body(&data);
            count += 1;
        }
    }
    assert!(count > 0, "no corpus committed for {target}");
}

#[test]
fn wt_connection() {
    replay("wt_connection", sluice_wt::fuzz::wt_connection);
}

#[test]
fn wt_qpack() {
    replay("wt_qpack", sluice_wt::fuzz::wt_qpack);
}
