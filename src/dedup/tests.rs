//! Tests of whole dedup runs.

use super::sketches::Store;
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

/// A crowd of `docs` short documents as JSONL: most copies of one of the first `kinds` of five
/// texts (two of them give a number, which a copy may give differently: the same words, other
/// fact slots), some a copy with one word changed, some a text of their own; every document
/// has a time, a day or a month apart.
fn crowd(seed: u64, docs: usize, kinds: usize) -> String {
    let mut state = seed | 1;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let texts = [
        "the central bank raised its key rate",
        "storm floods the harbour town overnight",
        "rail strike halts trains across the north",
        "the company sold 13 ships last year",
        "the mayor pardoned 23 prisoners on friday",
    ];
    (0..docs)
        .map(|i| {
            let base = texts[next(kinds as u64) as usize];
            let text = match next(10) {
                0 => base.replacen("the", &format!("a{}", next(3)), 1),
                1 => base.replace("13", "14").replace("23", "30"),
                2 => format!("{base} said w{}", next(1000)),
                _ => base.to_string(),
            };
            let time = next(2) * 30 * 86_400 + next(3) * 86_400;
            format!("{{\"id\":\"d{i}\",\"text\":\"{text}\",\"time\":{time}}}\n")
        })
        .collect()
}

#[test]
fn judging_classes_of_alike_documents_once_gives_every_pairs_own_verdict() {
    // Oracle: candidates found by banding one document per group of the same evidence, and
    // pairs judged once per pair of classes (exact similarity, story score, level), against
    // banding every document and judging every pair, on small crowds of copies with
    // near-identical members (a word changed, a number changed) and times that cap levels;
    // the last crowd has more copies of one text than a bucket pairs (a star), where every
    // document is banded.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crowd.jsonl");
    let paths = [path.clone()];
    for seed in 1..=6u64 {
        let star = seed == 6;
        let (docs, kinds) = if star {
            (500, 1)
        } else {
            (40 + 30 * seed as usize, 5)
        };
        std::fs::write(&path, crowd(seed, docs, kinds)).unwrap();
        let input = InputOptions {
            time_field: (seed % 2 == 0).then(|| "time".to_string()),
            ..InputOptions::default()
        };
        let dedup = Dedup::new(Config::default(), input);
        let signing = Signing::new(&dedup.config);
        let mut summary = Summary::default();
        let freq = dedup.frequencies(&paths, &signing, &mut (), &mut summary);
        let mut sketches = dedup
            .sketch(&paths, &freq, &signing, false, &mut (), &mut summary)
            .unwrap();
        let banding = dedup.banding();
        let Store::Memory { signatures, slots } = &sketches.store else {
            panic!("in memory");
        };
        let every = banding.candidates(signatures);
        let grouped = candidates::grouped_candidates(&banding, signatures, slots);
        assert_eq!(grouped.as_ref(), (!star).then_some(&every), "seed {seed}");
        let candidates = Candidates::Memory(every);
        let features = dedup
            .exact_features(&paths, &freq, &signing, &mut sketches, &candidates, &mut ())
            .unwrap();
        let classes = Classes::of_features(&sketches, &features).unwrap();
        assert!(classes.len() < sketches.n / 2, "seed {seed}");
        let docs: Vec<u32> = (0..sketches.n as u32).collect();
        let alone =
            Classes::by_key(sketches.n, &docs, |d| Ok(u128::from(d)), |_, _| Ok(false)).unwrap();
        let config = dedup.exact_config();
        let verify = |classes| {
            dedup
                .verify(&sketches, &candidates, &config, (&features, classes))
                .unwrap()
        };
        let edges = verify(None);
        assert_eq!(verify(Some(&classes)), edges, "seed {seed}");
        assert!(edges.iter().any(|e| e.2 < 1.0), "seed {seed}");
        let mut judge = |classes| {
            let judging = (&features, classes);
            let window = dedup.window;
            Levels::judge(
                &config,
                window,
                &mut sketches,
                &candidates,
                judging,
                edges.clone(),
            )
            .unwrap()
        };
        let (pairwise, levels) = judge(&alone);
        let (by_class, class_levels) = judge(&classes);
        assert_eq!(by_class, pairwise, "seed {seed}");
        for &(a, b, _) in &edges {
            assert_eq!(class_levels.get(a, b), levels.get(a, b), "seed {seed}");
        }
        assert!(
            pairwise.len() < edges.len(),
            "seed {seed}: some pairs are not copies"
        );
    }
}
