//! Every input kept in `corpus/TARGET/` (the seeds, and what fuzzing found worth keeping)
//! through its target: none may panic.

use std::path::PathBuf;

#[test]
fn every_kept_input_passes_its_target() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (name, target) in storyprint_fuzz::TARGETS {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(name))
            .unwrap_or_else(|e| panic!("corpus/{name}: {e}"))
            .map(|entry| entry.expect("a corpus entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "corpus/{name} is empty");
        for file in files {
            let bytes = std::fs::read(&file).expect("a corpus file");
            target(&bytes);
        }
    }
}
