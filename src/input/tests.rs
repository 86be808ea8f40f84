use std::io::Write;
use std::path::{Path, PathBuf};

use super::*;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    path
}

#[test]
fn directories_are_walked_in_sorted_order_with_relative_ids() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "b.txt", b"second");
    write(dir.path(), "a.txt", b"first");
    write(dir.path(), "sub/c.md", b"third");
    write(dir.path(), "notes.pdf", b"%PDF");
    let batch = Batch::read(&[dir.path().to_path_buf()], InputOptions::default());
    let ids: Vec<_> = batch.documents.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["a.txt", "b.txt", "sub/c.md"]);
    assert_eq!(batch.problems.len(), 1);
    assert!(batch.problems[0].is_note());
    assert_eq!(batch.skipped(), 0);
}

/// Regression: a `self -> .` link made the walk read each file 41 times (until the path
/// was too long), and two such links never ended.
#[cfg(unix)]
#[test]
fn finding_5_a_symlink_loop_is_walked_once() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", b"first");
    write(dir.path(), "sub/b.txt", b"second");
    std::os::unix::fs::symlink(".", dir.path().join("self")).unwrap();
    std::os::unix::fs::symlink("..", dir.path().join("sub/up")).unwrap();
    std::os::unix::fs::symlink("sub", dir.path().join("twin")).unwrap();
    let batch = Batch::read(&[dir.path().to_path_buf()], InputOptions::default());
    let ids: Vec<_> = batch.documents.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["a.txt", "sub/b.txt"]);
    assert_eq!(batch.skipped(), 0);
    assert_eq!(batch.problems.len(), 3);
    assert!(
        batch
            .problems
            .iter()
            .all(|p| p.kind == ProblemKind::AlreadyWalked)
    );
}

/// Regression: a FIFO met in a directory walk blocked the reader forever.
#[cfg(unix)]
#[test]
fn a_fifo_in_a_walked_directory_is_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", b"first");
    let fifo = dir.path().join("pipe.jsonl");
    let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: `name` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    let batch = Batch::read(&[dir.path().to_path_buf()], InputOptions::default());
    assert_eq!(batch.documents.len(), 1);
    assert_eq!(batch.problems[0].kind, ProblemKind::SpecialFile);
    assert!(batch.problems[0].is_note());
    assert_eq!(read_once(std::slice::from_ref(&fifo)), Some(&fifo));
    assert_eq!(read_once(&[dir.path().join("a.txt")]), None);
}

#[test]
fn jsonl_problems_name_the_line_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "docs.jsonl",
        b"{\"id\":\"a\",\"text\":\"one\"}\n{not json\n\n{\"id\":7,\"text\":\"two\"}\n{\"id\":\"c\"}\n[1]\n{\"id\":\"d\",\"text\":\"  \"}\n",
    );
    let batch = Batch::read(&[path], InputOptions::default());
    let ids: Vec<_> = batch.documents.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["a", "7"]);
    let lines: Vec<_> = batch.problems.iter().map(|p| p.origin.line).collect();
    assert_eq!(lines, [Some(2), Some(5), Some(6), Some(7)]);
    assert!(batch.problems[1].to_string().contains("no \"text\" field"));
}

/// Regression: an id that is an object, array, null or boolean silently became
/// `file:line`.
#[test]
fn an_id_that_is_not_text_is_named_by_its_place_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "d.jsonl",
        b"{\"id\":{\"a\":1},\"text\":\"one\"}\n{\"id\":[1],\"text\":\"two\"}\n\
          {\"id\":null,\"text\":\"three\"}\n{\"id\":true,\"text\":\"four\"}\n\
          {\"text\":\"five\"}\n{\"id\":6,\"text\":\"six\"}\n",
    );
    let batch = Batch::read(&[path], InputOptions::default());
    let ids: Vec<_> = batch.documents.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "d.jsonl:1",
            "d.jsonl:2",
            "d.jsonl:3",
            "d.jsonl:4",
            "d.jsonl:5",
            "6"
        ]
    );
    assert_eq!(batch.renamed.len(), 4, "{:?}", batch.renamed);
    for (warning, what) in batch
        .renamed
        .iter()
        .zip(["an object", "an array", "null", "a boolean"])
    {
        assert!(
            warning.contains(&format!("is {what}, not a string")),
            "{warning}"
        );
    }
    assert!(batch.renamed[2].contains("d.jsonl:3: id field \"id\""));
}

/// A truncated `.gz` or `.zst` gives the documents of the complete lines its decoder can
/// still decompress, then a warning at the line where it stops. zstd decodes whole blocks
/// (up to 128 KiB of text) only, so the lines of the block the cut falls in are lost.
#[test]
fn finding_19_truncated_compressed_files_give_the_lines_before_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = 1u64;
    let mut word = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        format!("w{}", state >> 52)
    };
    let mut jsonl = String::new();
    for i in 0..4000 {
        let text: Vec<String> = (0..40).map(|_| word()).collect();
        jsonl.push_str(&format!(
            "{{\"id\":\"d{i}\",\"text\":\"{}\"}}\n",
            text.join(" ")
        ));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(jsonl.as_bytes()).unwrap();
    let compressed = [
        ("d.jsonl.gz", gz.finish().unwrap()),
        (
            "d.jsonl.zst",
            zstd::encode_all(jsonl.as_bytes(), 3).unwrap(),
        ),
    ];
    for (name, bytes) in compressed {
        let path = write(dir.path(), name, &bytes[..bytes.len() * 6 / 10]);
        let batch = Batch::read(&[path], InputOptions::default());
        let n = batch.documents.len();
        assert!((1000..4000).contains(&n), "{name}: {n} documents");
        let ids: Vec<_> = batch.documents.iter().map(|d| d.id.clone()).collect();
        let expected: Vec<_> = (0..n).map(|i| format!("d{i}")).collect();
        assert_eq!(ids, expected, "{name}");
        assert_eq!(batch.problems.len(), 1, "{name}");
        assert_eq!(batch.problems[0].origin.line, Some(n as u64 + 1), "{name}");
        assert!(
            matches!(batch.problems[0].kind, ProblemKind::Unreadable(_)),
            "{name}"
        );
    }
}

#[test]
fn gzipped_jsonl_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"{\"id\":\"x\",\"text\":\"hello\"}\n")
        .unwrap();
    let path = write(dir.path(), "d.jsonl.gz", &gz.finish().unwrap());
    let batch = Batch::read(&[path], InputOptions::default());
    assert_eq!(batch.documents[0].id, "x");
}

#[test]
fn zstd_jsonl_is_read_and_records_keep_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = b"{\"id\":\"x\", \"text\":\"hello\",\"n\":1}\r\n";
    let path = write(
        dir.path(),
        "d.jsonl.zst",
        &zstd::encode_all(&jsonl[..], 1).unwrap(),
    );
    let text = write(dir.path(), "t.txt", b"a \"quoted\" text");
    let mut reader = Reader::new(&[path, text], InputOptions::default());
    let record = reader.next_record().unwrap().unwrap();
    assert_eq!(record.doc.text, "hello");
    assert_eq!(
        record.line(&InputOptions::default()),
        "{\"id\":\"x\", \"text\":\"hello\",\"n\":1}"
    );
    let record = reader.next_record().unwrap().unwrap();
    assert_eq!(record.raw, None);
    assert_eq!(
        record.line(&InputOptions::default()),
        "{\"id\":\"t.txt\",\"text\":\"a \\\"quoted\\\" text\"}"
    );
    assert!(reader.next_record().is_none());
}

#[test]
fn bad_files_are_problems_not_failures() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.txt", b"caf\xe9 au lait");
    let empty = write(dir.path(), "empty.txt", b" \n");
    let big = write(dir.path(), "big.txt", &vec![b'a'; 2000]);
    let good = write(dir.path(), "good.txt", b"fine");
    let missing = dir.path().join("missing.txt");
    let options = InputOptions {
        max_doc_bytes: 1000,
        ..InputOptions::default()
    };
    let batch = Batch::read(&[bad, empty, big, missing, good], options);
    assert_eq!(batch.documents.len(), 1);
    let kinds: Vec<_> = batch.problems.iter().map(|p| p.kind.clone()).collect();
    assert!(kinds.contains(&ProblemKind::InvalidUtf8 { offset: 3 }));
    assert!(kinds.contains(&ProblemKind::Empty));
    assert!(kinds.contains(&ProblemKind::TooLarge {
        bytes: 2000,
        limit: 1000
    }));
    assert!(
        kinds
            .iter()
            .any(|k| matches!(k, ProblemKind::Unreadable(_)))
    );
}

#[test]
fn over_long_jsonl_lines_are_skipped_and_reading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = format!("{{\"id\":\"big\",\"text\":\"{}\"}}\n", "a".repeat(5000)).into_bytes();
    data.extend_from_slice(b"{\"id\":\"small\",\"text\":\"ok\"}\n");
    let path = write(dir.path(), "d.jsonl", &data);
    let options = InputOptions {
        max_doc_bytes: 100,
        ..InputOptions::default()
    };
    let batch = Batch::read(&[path], options);
    assert_eq!(batch.documents.len(), 1);
    assert_eq!(batch.documents[0].id, "small");
    assert_eq!(batch.problems[0].origin.line, Some(1));
}

#[test]
fn repeated_ids_are_kept_apart_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "d.jsonl",
        b"{\"id\":\"a\",\"text\":\"one\"}\n{\"id\":\"a\",\"text\":\"two\"}\n{\"id\":\"a#2\",\"text\":\"three\"}\n",
    );
    let batch = Batch::read(&[path], InputOptions::default());
    let ids: Vec<_> = batch.documents.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["a", "a#2", "a#2#2"]);
    assert_eq!(batch.renamed.len(), 2);
    assert!(batch.renamed[0].contains("d.jsonl:1"));
}

/// Oracle: the shards of a file, read one after the other, give the documents, problems
/// and line numbers of the whole file, for every number of pieces (ranges shorter than a
/// line, ranges starting on a line start, blank and bad lines, no final newline).
#[test]
fn shards_of_a_jsonl_file_read_in_order_give_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut jsonl = String::new();
    for i in 0..40 {
        match i % 7 {
            3 => jsonl.push('\n'),
            5 => jsonl.push_str("{not json\n"),
            _ => jsonl.push_str(&format!(
                "{{\"id\":\"d{i}\",\"text\":\"{}\"}}\n",
                "word ".repeat(i % 5 + 1)
            )),
        }
    }
    jsonl.push_str("{\"id\":\"last\",\"text\":\"no newline\"}");
    let path = write(dir.path(), "d.jsonl", jsonl.as_bytes());
    let text = write(dir.path(), "t.txt", b"a text file");
    let paths = [path, text];
    let whole: Vec<(String, Option<u64>)> = Reader::new(&paths, InputOptions::default())
        .map(|item| match item {
            Ok(doc) => (doc.id, doc.origin.line),
            Err(problem) => ("problem".into(), problem.origin.line),
        })
        .collect();
    for pieces in [1, 2, 3, 7, 50, 400] {
        let (shards, problems) = shards(&paths, &InputOptions::default(), pieces, 1);
        assert!(problems.is_empty());
        assert_eq!(shards.len() > 2, pieces > 1, "{pieces} pieces");
        let mut got = Vec::new();
        let mut lines_before = [0u64; 2];
        for shard in &shards {
            let mut reader = Reader::shard(shard, InputOptions::default());
            for item in reader.by_ref() {
                let shift = |line: Option<u64>| line.map(|l| l + lines_before[shard.file]);
                got.push(match item {
                    Ok(doc) => (doc.id, shift(doc.origin.line)),
                    Err(problem) => ("problem".into(), shift(problem.origin.line)),
                });
            }
            lines_before[shard.file] += reader.lines_read();
        }
        assert_eq!(got, whole, "{pieces} pieces");
    }
}
