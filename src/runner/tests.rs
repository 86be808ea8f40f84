//! Tests of the runners' reads.

use super::read::{Layout, Reading};
use super::{Dedup, Pass};
use crate::config::Config;
use crate::input::InputOptions;

#[test]
fn a_later_read_that_finds_documents_elsewhere_stops_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docs.jsonl");
    let lines: Vec<String> = (0..3)
        .map(|i| format!("{{\"id\":\"d{i}\",\"text\":\"story number {i}\"}}"))
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let mut dedup = Dedup::new(Config::classic(), InputOptions::default());
    dedup.chunk_docs = Some(1);
    let read_with = |layout: &Layout| {
        let mut consumed = 0;
        let read = Reading::again(Pass::Writing, None, true, Some(layout));
        let found = dedup.reread(
            std::slice::from_ref(&path),
            read,
            &mut (),
            None,
            |chunk, _| {
                consumed += chunk.len();
            },
        );
        (found, consumed)
    };
    let (found, consumed) = read_with(&Layout::default());
    assert!(!found.changed && consumed == 3);
    found.same_as_first(3).unwrap();
    assert!(found.same_as_first(2).is_err());
    // The first read saw no document at place 1: this one does, and stops there.
    let moved = Layout {
        gaps: vec![1],
        renamed: Vec::new(),
    };
    let (found, consumed) = read_with(&moved);
    assert!(found.changed && consumed == 1);
    let message = found.same_as_first(2).unwrap_err().to_string();
    assert!(message.contains("the inputs changed"), "{message}");
}
