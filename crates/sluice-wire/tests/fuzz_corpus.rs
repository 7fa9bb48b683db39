//! Replays every committed fuzz input (fuzz/corpus/<target>/ and fuzz/regressions/<target>/)
//! through the same target bodies libFuzzer runs, on stable, as part of `cargo test`.

use std::path::PathBuf;

/// Runs every stored input of `target` through `body`; returns how many there were.
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

macro_rules! corpus_test {
    ($name:ident) => {
        #[test]
        fn $name() {
            let n = replay(stringify!($name), sluice_wire::fuzz::$name);
            // A missing corpus would make this test vacuous: the corpus is committed.
            assert!(n > 0, "no corpus committed for {}", stringify!($name));
        }
    };
}

corpus_test!(lite_stream);
corpus_test!(lite_datagram);
corpus_test!(moqt_data_stream);
corpus_test!(moqt_datagram);
corpus_test!(moqt_control);
