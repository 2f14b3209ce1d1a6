//! Every committed fuzz input, replayed on stable: each file of
//! `fuzz/corpus/<target>/` goes through the same `bad_input::<target>` the
//! fuzzer calls, so what a fuzz run found stays fixed in CI.

use std::path::{Path, PathBuf};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_corpus_file_replays() {
    for (target, check) in bad_input::TARGETS {
        let inputs = files(&corpus_root().join(target));
        assert!(!inputs.is_empty(), "fuzz/corpus/{target} has no inputs");
        for path in inputs {
            let data = std::fs::read(&path).expect("corpus file");
            let replayed = std::panic::catch_unwind(|| check(&data));
            assert!(replayed.is_ok(), "{target} fails on {}", path.display());
        }
    }
}

#[test]
fn every_corpus_folder_has_its_target() {
    for dir in files(&corpus_root()) {
        let name = dir.file_name().and_then(|name| name.to_str()).unwrap_or("");
        assert!(
            bad_input::TARGETS.iter().any(|(target, _)| *target == name),
            "fuzz/corpus/{name} matches no target"
        );
    }
}
