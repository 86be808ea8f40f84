//! Tests of whole dedup runs.

use super::*;
use crate::input::InputOptions;

/// A story of 400 words drawn from `seed`, with the words at multiples of any of `edits`
/// replaced.
fn story(seed: u64, edits: &[usize]) -> String {
    (0..400usize)
        .map(|i| match edits.iter().any(|&e| i % e == 0) {
            true => format!("edit{i}"),
            false => format!(
                "w{}",
                xxhash_rust::xxh3::xxh3_64_with_seed(&i.to_le_bytes(), seed) % 5000
            ),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Deduplicates `path` with exact verification, returning the kept lines, removed.tsv and
/// the verified pairs.
fn exact_run(path: &std::path::Path, chunk_docs: usize, memory: Option<u64>) -> [String; 3] {
    let mut dedup = Dedup::new(Config::classic(), InputOptions::default());
    (dedup.verify_exact, dedup.chunk_docs, dedup.memory) = (true, Some(chunk_docs), memory);
    let (mut unique, mut removed, mut pairs) = (Vec::new(), Vec::new(), Vec::new());
    let outputs = Outputs {
        unique: &mut unique,
        removed: Some(&mut removed),
        pairs: Some(&mut pairs),
    };
    dedup.run(&[path.to_path_buf()], outputs, &mut ()).unwrap();
    [unique, removed, pairs].map(|out| String::from_utf8(out).unwrap())
}

#[test]
fn verifying_while_writing_decides_as_the_separate_passes_do() {
    // Oracle: keep-first exact verification in the writing read (in memory) against the
    // separate verification read and greedy pass (the spill path, forced by a 1-byte
    // budget), for chunks of 1, 2 and 64 documents: pairs span chunks, a document's
    // features outlive several chunks, and d9, most similar to d3 (removed), names d0.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docs.jsonl");
    let texts = [
        story(1, &[]),
        story(1, &[97]),
        story(2, &[]),
        story(1, &[97, 53]),
        story(3, &[]),
        story(2, &[83]),
        story(4, &[]),
        story(3, &[89]),
        story(2, &[83, 61]),
        story(1, &[53]),
    ];
    let lines: Vec<String> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| format!("{{\"id\":\"d{i}\",\"text\":\"{text}\"}}"))
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let separate = exact_run(&path, 64, Some(1));
    assert!(separate[1].lines().count() > 3, "{}", separate[1]);
    for chunk_docs in [1, 2, 64] {
        assert_eq!(exact_run(&path, chunk_docs, None), separate, "{chunk_docs}");
    }

    // Later reads number the documents before parsing them, past the lines that are not
    // documents (malformed, empty text, invalid UTF-8): the same outputs on both paths.
    let with_bad_lines = |lines: &[String]| {
        let mut bytes: Vec<u8> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            bytes.extend_from_slice(match i % 3 {
                0 => b"{\"id\":\"broken\",\n",
                1 => b"{\"id\":\"blank\",\"text\":\"  \"}\n",
                _ => b"{\"id\":\"bytes\",\"text\":\"\xff\"}\n",
            });
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
        }
        bytes
    };
    std::fs::write(&path, with_bad_lines(&lines)).unwrap();
    for (chunk_docs, memory) in [(1, None), (3, None), (64, None), (2, Some(1))] {
        assert_eq!(
            exact_run(&path, chunk_docs, memory),
            separate,
            "{chunk_docs}"
        );
    }

    // Every document with the same id: later reads rename them as the first did ("same",
    // "same#2", ...), from the first read's record of renames.
    let same = |text: &str| {
        (0..texts.len()).rev().fold(text.to_string(), |text, i| {
            let name = if i == 0 {
                "same".into()
            } else {
                format!("same#{}", i + 1)
            };
            text.replace(&format!("\"id\":\"d{i}\""), "\"id\":\"same\"")
                .replace(&format!("d{i}\t"), &format!("{name}\t"))
                .replace(&format!("d{i}\n"), &format!("{name}\n"))
        })
    };
    let renamed: Vec<String> = lines.iter().map(|line| same(line)).collect();
    std::fs::write(&path, with_bad_lines(&renamed)).unwrap();
    let expected = separate.clone().map(|out| same(&out));
    assert!(expected[1].contains("same#10\tsame\t"), "{}", expected[1]);
    for (chunk_docs, memory) in [(1, None), (64, None), (2, Some(1))] {
        assert_eq!(
            exact_run(&path, chunk_docs, memory),
            expected,
            "{chunk_docs}"
        );
    }
}
