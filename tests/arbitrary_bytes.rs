//! Arbitrary bytes through every reader of outside data: the input files (JSONL, text, `.gz`,
//! `.zst`), normalize and tokenize, and the service's request bodies. Each must answer (a
//! document, a warning, an error), never panic; proptest shrinks a failing input to a small
//! one. The committed inputs in `tests/fixtures/odd-inputs/` go through the real binary.

mod util;

use std::io::Write;
use std::path::PathBuf;

use proptest::prelude::*;
use storyprint::normalize::normalize;
use storyprint::tokenize::Analyzer;
use storyprint::{Batch, InputOptions, Language};
use util::storyprint;

/// Lines that look like JSONL often enough to reach the field parsing: fragments of JSON and
/// arbitrary bytes.
fn jsonl_like() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"{\"id\": ".to_vec()),
        Just(b"\"text\": \"".to_vec()),
        Just(b"\", ".to_vec()),
        Just(b"}\n".to_vec()),
        Just(b"[{\"id\": null}]\n".to_vec()),
        Just(b"\xef\xbb\xbf".to_vec()),
        Just(b"\\u0000\\ud800".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
    ];
    proptest::collection::vec(piece, 0..30).prop_map(|pieces| pieces.concat())
}

/// Reads `bytes` as a file named `name` (its extension says how), and checks that each
/// document read has text.
fn read_as(name: &str, bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let batch = Batch::read(&[path], InputOptions::default());
    for doc in &batch.documents {
        assert!(!doc.text.is_empty(), "{doc:?}");
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn input_readers_take_arbitrary_bytes(
        bytes in jsonl_like(),
        cut in any::<prop::sample::Index>(),
    ) {
        read_as("a.jsonl", &bytes);
        read_as("a.txt", &bytes);
        read_as("a.md", &bytes);
        // Raw bytes under a compressed name, a whole stream, and one cut short.
        read_as("a.jsonl.gz", &bytes);
        read_as("b.jsonl.zst", &bytes);
        let gz = gzip(&bytes);
        read_as("c.jsonl.gz", &gz[..cut.index(gz.len() + 1)]);
        let zst = zstd::encode_all(&bytes[..], 1).unwrap();
        read_as("d.jsonl.zst", &zst[..cut.index(zst.len() + 1)]);
    }

    #[test]
    fn normalize_and_tokenize_take_arbitrary_text(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        for strip_chrome in [false, true] {
            let normalized = normalize(&text, strip_chrome);
            for language in [Language::English, Language::German] {
                let _ = Analyzer::new(language).terms(&normalized);
            }
        }
    }
}

#[cfg(feature = "serve")]
proptest! {
    #[test]
    fn request_bodies_take_arbitrary_bytes(bytes in jsonl_like()) {
        use storyprint::index::http::{AddRequest, CheckRequest};
        let _ = serde_json::from_slice::<CheckRequest>(&bytes);
        let _ = serde_json::from_slice::<AddRequest>(&bytes);
    }
}

/// The committed odd inputs: each through `cluster` and `dedup`, exit 0 or 2, never a crash.
#[test]
fn the_committed_odd_inputs_are_read_or_refused() {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/odd-inputs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    let dir = tempfile::tempdir().unwrap();
    for file in &files {
        for args in [vec!["cluster", "--format", "tsv"], vec!["dedup", "-o", "-"]] {
            let run = storyprint()
                .current_dir(dir.path())
                .args(&args)
                .arg(file)
                .output()
                .unwrap();
            assert!(
                matches!(run.status.code(), Some(0 | 2)),
                "{args:?} {}: {:?}\n{}",
                file.display(),
                run.status.code(),
                String::from_utf8_lossy(&run.stderr)
            );
        }
    }
}
