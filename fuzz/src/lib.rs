//! Fuzz targets: storyprint's readers of outside data, each fed arbitrary bytes. A target
//! must answer (documents, a warning, an error) and never panic; `cargo afl` finds inputs
//! that make one panic, and `tests/corpus.rs` replays every input kept in `corpus/TARGET/`
//! through the targets on each `cargo test`.

use std::path::Path;

use storyprint::index::http::{AddRequest, CheckRequest};
use storyprint::index::{Index, OpenOptions, guarded};
use storyprint::normalize::normalize;
use storyprint::tokenize::Analyzer;
use storyprint::{Batch, InputOptions, Language};

/// A fuzz target: arbitrary bytes in, a panic the only failure.
pub type Target = fn(&[u8]);

/// Every target by name, as `storyprint-fuzz NAME` and `corpus/NAME/` call it.
pub const TARGETS: [(&str, Target); 4] = [
    ("input", input),
    ("text", text),
    ("index", index),
    ("requests", requests),
];

/// The file names the input readers tell formats by; the first byte of a fuzz input picks one.
const INPUT_NAMES: [&str; 6] = [
    "a.jsonl",
    "a.txt",
    "a.md",
    "a.jsonl.gz",
    "a.jsonl.zst",
    "a.parquet",
];

/// The input readers (JSONL, text, gzip, zstd, Parquet): the bytes after the first as a file
/// whose name the first byte picks. Every document read has text.
pub fn input(data: &[u8]) {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let name = INPUT_NAMES[usize::from(pick) % INPUT_NAMES.len()];
    with_file(name, bytes, |path| {
        let batch = Batch::read(&[path.to_path_buf()], InputOptions::default());
        for doc in &batch.documents {
            assert!(!doc.text.is_empty(), "{doc:?}");
        }
    });
}

/// Normalize and the English and German analysers, on the bytes as (lossy) UTF-8.
pub fn text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for strip_chrome in [false, true] {
        let normalized = normalize(&text, strip_chrome);
        for language in [Language::English, Language::German] {
            let _ = Analyzer::new(language).terms(&normalized);
        }
    }
}

/// A damaged index: the bytes as `index.redb`, opened read-only as `check`, `index stats` and
/// `index verify` open it, each guarded as the command guards it. Errors are answers.
pub fn index(data: &[u8]) {
    with_file("index.redb", data, |path| {
        let Some(dir) = path.parent() else {
            return;
        };
        let _ = guarded(dir, || {
            let mut index = Index::open(dir, &OpenOptions::existing().read_only())?;
            index.stats()?;
            index.check("Harbour workers end their strike at the port.", None, None)?;
            index.check_integrity()?;
            Ok::<(), storyprint::Error>(())
        });
    });
}

/// The service's request bodies.
pub fn requests(data: &[u8]) {
    let _ = serde_json::from_slice::<CheckRequest>(data);
    let _ = serde_json::from_slice::<AddRequest>(data);
}

/// Calls `f` with the path of a fresh file named `name` holding `bytes`, in a temporary
/// directory (set `TMPDIR` to a memory file system when fuzzing).
fn with_file(name: &str, bytes: &[u8], f: impl FnOnce(&Path)) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("the fuzz input written");
    f(&path);
}
