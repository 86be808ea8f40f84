//! `storyprint dedup` on real files: kept lines unchanged, removed.tsv, bad input, keep rules,
//! compressed input, and identical output for any thread count.

mod util;

use std::path::Path;
use std::time::Duration;

use util::{dedup, examples, shared, storyprint, without_shared};

const STORY: &str = "The central bank raised its key interest rate by half a point on Tuesday, \
                     the first increase in three years, citing inflation and a weak currency.";

#[test]
fn kept_lines_are_written_unchanged_and_removals_name_the_kept_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wire.jsonl");
    let lines = [
        format!("{{\"id\":\"a\",\"text\":\"{STORY}\",\"source\":\"x\"}}"),
        "{\"id\":\"b\",\"text\":\"Lukashenko met Putin in Minsk to discuss gas prices.\"}".into(),
        format!("{{ \"text\": \"{STORY}\", \"id\": \"c\", \"n\": [1, 2] }}\r"),
        "{\"id\":\"d\",\"text\":".into(),
    ];
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let (unique, removed, stderr) = dedup(dir.path(), &[&path], &["--preset", "classic"]);
    assert_eq!(unique, format!("{}\n{}\n", lines[0], lines[1]));
    assert_eq!(
        removed,
        "removed_id\tkept_id\tsimilarity\tstory\tlevel\nc\ta\t1.0000\t\t\n"
    );
    assert!(
        stderr.contains("wire.jsonl:4: malformed JSON line"),
        "{stderr}"
    );
    assert!(stderr.contains("kept 2, removed 1"), "{stderr}");
    assert!(stderr.contains("skipped 1"), "{stderr}");
}

/// Regression: reading runs ahead of completing records, and a repeated id's warning named
/// the file being read (the second) as where the id was first used.
#[test]
fn a_repeated_id_warning_names_the_file_that_used_it_first() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (
        dir.path().join("first.jsonl"),
        dir.path().join("second.jsonl"),
    );
    std::fs::write(&first, format!("{{\"id\":\"a\",\"text\":\"{STORY}\"}}\n")).unwrap();
    std::fs::write(
        &second,
        "{\"id\":\"a\",\"text\":\"Lukashenko met Putin.\"}\n",
    )
    .unwrap();
    let (_, _, stderr) = dedup(dir.path(), &[&first, &second], &[]);
    assert!(
        stderr.contains("second.jsonl:1: id \"a\" already used by ")
            && stderr.contains("first.jsonl:1; kept apart as \"a#2\""),
        "{stderr}"
    );
}

#[test]
fn keep_longest_keeps_the_longer_copy_and_text_files_become_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short.txt");
    let long = dir.path().join("long.txt");
    std::fs::write(&short, STORY).unwrap();
    std::fs::write(&long, format!("{STORY} Markets were calm.")).unwrap();
    let (unique, removed, _) = dedup(
        dir.path(),
        &[&short, &long],
        &[
            "--preset",
            "classic",
            "--threshold",
            "0.5",
            "--keep",
            "longest",
        ],
    );
    let kept: serde_json::Value = serde_json::from_str(unique.trim_end()).unwrap();
    assert_eq!(kept["id"], "long.txt");
    assert!(
        removed.starts_with("removed_id\tkept_id\tsimilarity\tstory\tlevel\nshort.txt\tlong.txt\t")
    );
    let (unique, _, _) = dedup(
        dir.path(),
        &[&short, &long],
        &["--preset", "classic", "--threshold", "0.5"],
    );
    let kept: serde_json::Value = serde_json::from_str(unique.trim_end()).unwrap();
    assert_eq!(kept["id"], "short.txt");
}

#[test]
fn zstd_input_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wire.jsonl.zst");
    let jsonl =
        format!("{{\"id\":\"a\",\"text\":\"{STORY}\"}}\n{{\"id\":\"b\",\"text\":\"{STORY}\"}}\n");
    std::fs::write(&path, zstd::encode_all(jsonl.as_bytes(), 3).unwrap()).unwrap();
    let (unique, removed, _) = dedup(dir.path(), &[&path], &[]);
    assert_eq!(unique.lines().count(), 1);
    assert!(removed.contains("b\ta\t"));
}

#[test]
fn output_is_identical_for_any_thread_count_at_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let one = dedup(dir.path(), &[&examples()], &["-j1"]);
    let two = dedup(dir.path(), &[&examples()], &["-j2"]);
    assert_eq!(one.0, two.0);
    assert_eq!(one.1, two.1);
    // At the default level, copy, only the refiled results go; the strike's rewrites stay.
    assert_eq!(
        one.1,
        "removed_id\tkept_id\tsimilarity\tstory\tlevel\n\
         norvik-results.txt\tnorvik-results-refile.txt\t0.9864\t0.9838\tcopy\n"
    );
    // At rewrite the strike's later versions go too.
    let one = dedup(dir.path(), &[&examples()], &["-j1", "--level", "rewrite"]);
    let two = dedup(dir.path(), &[&examples()], &["-j2", "--level", "rewrite"]);
    assert_eq!((&one.0, &one.1), (&two.0, &two.1));
    for later in ["port-strike-radio.txt", "port-strike-wire.txt"] {
        assert!(one.1.contains(&format!("{later}\t")), "{later}: {}", one.1);
    }
}

#[test]
fn reuters_output_is_identical_for_one_and_two_threads() {
    if without_shared() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let corpus = shared("corpora/reuters21578.jsonl.gz");
    let args = |j: &'static str| {
        [
            "--preset",
            "classic",
            "--threshold",
            "0.8",
            "--chunk-docs",
            "100",
            j,
        ]
    };
    // Estimated, and exact (verified in the writing read, chunk by chunk).
    for verify in [&[][..], &["--exact"]] {
        let one = dedup(dir.path(), &[&corpus], &[&args("-j1")[..], verify].concat());
        let two = dedup(dir.path(), &[&corpus], &[&args("-j2")[..], verify].concat());
        assert_eq!(one.0, two.0, "{verify:?}");
        assert_eq!(one.1, two.1, "{verify:?}");
        assert!(one.1.lines().count() > 300, "{verify:?}");
    }
}

#[test]
fn standard_input_is_refused_with_a_reason() {
    let out = storyprint()
        .args(["dedup", "-"])
        .write_stdin("text")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read standard input"));
}

#[test]
fn pairs_lists_every_verified_pair_not_only_the_removals() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wire.jsonl");
    let jsonl: String = ["a", "b", "c"]
        .iter()
        .map(|id| format!("{{\"id\":\"{id}\",\"text\":\"{STORY}\"}}\n"))
        .collect();
    std::fs::write(&path, jsonl).unwrap();
    let pairs = dir.path().join("pairs.tsv");
    let (unique, removed, _) = dedup(
        dir.path(),
        &[&path],
        &["--preset", "classic", "--pairs", pairs.to_str().unwrap()],
    );
    assert_eq!(unique.lines().count(), 1);
    assert_eq!(removed.lines().count(), 3);
    assert_eq!(
        std::fs::read_to_string(pairs).unwrap(),
        "a\tb\tsimilarity\tstory\tlevel\na\tb\t1.0000\t\t\na\tc\t1.0000\t\t\nb\tc\t1.0000\t\t\n"
    );
}

#[test]
fn exact_verification_reports_what_the_batch_engine_reports() {
    // Oracle: `--exact` judges candidate pairs on recomputed feature sets, so its verified
    // pairs and similarities are those of `storyprint pairs` (the batch engine, exact) whose
    // similarity reaches the threshold (at level related dedup judges with the similarity
    // alone, and leaves the story and level empty).
    let dir = tempfile::tempdir().unwrap();
    let pairs = dir.path().join("pairs.tsv");
    let (_, removed, stderr) = dedup(
        dir.path(),
        &[&examples()],
        &[
            "--exact",
            "--level",
            "related",
            "--pairs",
            pairs.to_str().unwrap(),
        ],
    );
    assert!(stderr.contains("(exact similarity"), "{stderr}");
    let batch = util::stdout_of(
        storyprint()
            .args(["pairs", "-f", "tsv", "--level", "related"])
            .arg(examples()),
    );
    let mut expected = String::from("a\tb\tsimilarity\tstory\tlevel\n");
    for row in batch.lines().skip(1) {
        let fields: Vec<&str> = row.split('\t').collect();
        if fields[2].parse::<f64>().unwrap() >= 0.134 {
            expected.push_str(&fields[..3].join("\t"));
            expected.push_str("\t\t\n");
        }
    }
    assert_eq!(std::fs::read_to_string(pairs).unwrap(), expected);
    assert!(removed.contains("port-strike-wire.txt\t"), "{removed}");
}

#[test]
fn dedup_judges_the_levels_the_batch_engine_judges() {
    // The same pairs at the same levels as `storyprint pairs`; the story scores differ a
    // little, as dedup's LSH (tuned lower) proposes more neighbours to contrast with.
    let dir = tempfile::tempdir().unwrap();
    let pairs = dir.path().join("pairs.tsv");
    let (_, _, stderr) = dedup(
        dir.path(),
        &[&examples()],
        &["--level", "rewrite", "--pairs", pairs.to_str().unwrap()],
    );
    assert!(
        stderr.contains("verified at level rewrite (exact similarity"),
        "{stderr}"
    );
    let batch = util::stdout_of(
        storyprint()
            .args(["pairs", "-f", "tsv", "--level", "rewrite"])
            .arg(examples()),
    );
    let rows = |tsv: &str| -> Vec<(String, String, String, f64, String)> {
        tsv.lines()
            .skip(1)
            .map(|row| {
                let f: Vec<&str> = row.split('\t').collect();
                let story = f[3].parse().unwrap();
                (f[0].into(), f[1].into(), f[2].into(), story, f[4].into())
            })
            .collect()
    };
    let (ours, theirs) = (rows(&std::fs::read_to_string(pairs).unwrap()), rows(&batch));
    assert_eq!(ours.len(), 4);
    assert_eq!(ours.len(), theirs.len());
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!((&o.0, &o.1, &o.2, &o.4), (&t.0, &t.1, &t.2, &t.4));
        assert!((o.3 - t.3).abs() < 0.01, "{o:?} {t:?}");
    }
}

/// Runs dedup on `inputs` with `--pairs`, returning unique.jsonl, removed.tsv, pairs.tsv and
/// stderr.
fn dedup_with_pairs(dir: &Path, inputs: &[&Path], extra: &[&str]) -> [String; 4] {
    let pairs = dir.join("pairs.tsv");
    let (unique, removed, stderr) = dedup(
        dir,
        inputs,
        &[&["--pairs", pairs.to_str().unwrap()], extra].concat(),
    );
    [
        unique,
        removed,
        std::fs::read_to_string(pairs).unwrap(),
        stderr,
    ]
}

/// Oracle: the spill path under a budget of 1 MB (many runs of band keys and of pair keys)
/// writes byte for byte what the in-memory path writes, for `engine` settings and with and
/// without `--exact`, whatever the thread count; it says that it spilled, and leaves nothing
/// in its temporary directory, where it also removes what a killed run left there.
fn assert_spilling_changes_nothing(corpus: &Path, engine: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let temp = dir.path().join("spill");
    std::fs::create_dir(&temp).unwrap();
    for verify in [&[][..], &["--exact"]] {
        // A killed run's spill directory: its files, and its lock file that nobody holds.
        let killed = temp.join("storyprint-spill-killed");
        std::fs::create_dir(&killed).unwrap();
        std::fs::write(killed.join("lock"), b"").unwrap();
        std::fs::write(killed.join("bands-0.bin"), [0u8; 1024]).unwrap();
        let in_memory = dedup_with_pairs(
            dir.path(),
            &[corpus],
            &[engine, verify, &["--memory", "unlimited", "-j2"]].concat(),
        );
        let spilled = dedup_with_pairs(
            dir.path(),
            &[corpus],
            &[
                engine,
                verify,
                &["--memory", "1", "--temp-dir", temp.to_str().unwrap()],
                &["-j1", "--chunk-docs", "500"],
            ]
            .concat(),
        );
        assert_eq!(in_memory[..3], spilled[..3], "{verify:?}");
        assert!(in_memory[1].lines().count() > 100, "{}", in_memory[1]);
        assert!(!in_memory[3].contains("spilled"), "{}", in_memory[3]);
        assert!(spilled[3].contains("spilled"), "{}", spilled[3]);
        assert_eq!(std::fs::read_dir(&temp).unwrap().count(), 0);
    }
}

#[test]
fn spilling_to_disk_changes_nothing_in_the_output_at_the_classic_preset() {
    if without_shared() {
        return;
    }
    let corpus = shared("corpora/reuters21578.jsonl.gz");
    assert_spilling_changes_nothing(&corpus, &["--preset", "classic"]);
}

#[test]
fn spilling_to_disk_changes_nothing_in_the_output_at_the_defaults() {
    if without_shared() {
        return;
    }
    // The first 4,000 Reuters stories (read from ../shared at test time): the defaults' low
    // LSH threshold makes millions of pair keys over the whole corpus.
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let reuters = std::fs::File::open(shared("corpora/reuters21578.jsonl.gz")).unwrap();
    let lines: Vec<String> = std::io::BufReader::new(flate2::read::GzDecoder::new(reuters))
        .lines()
        .take(4000)
        .map(Result::unwrap)
        .collect();
    let slice = dir.path().join("reuters-4000.jsonl");
    std::fs::write(&slice, lines.join("\n") + "\n").unwrap();
    assert_spilling_changes_nothing(&slice, &[]);
}

#[test]
fn an_unusable_temp_dir_is_an_error_naming_it() {
    if without_shared() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let corpus = shared("corpora/reuters21578.jsonl.gz");
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, "").unwrap();
    let mut unusable = vec![dir.path().join("missing"), not_a_dir];
    // A read-only directory stops everyone but root (who runs CI here: then the two above).
    #[cfg(unix)]
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        use std::os::unix::fs::PermissionsExt;
        let read_only = dir.path().join("read-only");
        std::fs::create_dir(&read_only).unwrap();
        std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o555)).unwrap();
        unusable.push(read_only);
    }
    for temp in unusable {
        let out = storyprint()
            .arg("dedup")
            .arg(&corpus)
            .args(["--preset", "classic", "--memory", "1", "-o"])
            .arg(dir.path().join("unique.jsonl"))
            .arg("--temp-dir")
            .arg(&temp)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("spilling to disk at"), "{stderr}");
        assert!(stderr.contains(&*temp.to_string_lossy()), "{stderr}");
        assert!(stderr.contains("--temp-dir"), "{stderr}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn spill_files_are_removed_when_the_run_fails() {
    if without_shared() {
        return;
    }
    // /dev/full refuses every write: the run fails after it has spilled.
    let dir = tempfile::tempdir().unwrap();
    let out = storyprint()
        .arg("dedup")
        .arg(shared("corpora/reuters21578.jsonl.gz"))
        .args(["--preset", "classic", "--memory", "1", "-o", "/dev/full"])
        .arg("--temp-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("No space left"), "{stderr}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_memory_budget_must_be_a_positive_number_or_unlimited() {
    for bad in ["0", "lots", "-5"] {
        let out = storyprint()
            .args(["dedup", "x.jsonl", &format!("--memory={bad}")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("`unlimited`"));
    }
}

/// Regression: a corpus of many copies of a few short documents (a million one-word documents,
/// twenty copies of each word) made dedup quadratic, every bucket pairing all its copies in
/// every band. Copies are now one document in LSH; oracle: the outputs and the summary's
/// counts are those of the path that pairs every document (taken when `--pairs` asks for
/// every pair), for both keep rules and with buckets past the star size.
#[test]
fn many_copies_of_few_documents_give_what_pairing_every_copy_gives() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("words.jsonl");
    let mut rng = util::Rng(17);
    let mut lines = String::new();
    for i in 0..4000 {
        // 150 words, and a few with 300 copies: more than a bucket pairs in full.
        let word = match i % 10 {
            0 => rng.below(2),
            _ => rng.below(150),
        };
        let text = rng_word(word) + if i % 7 == 0 { " again" } else { "" };
        lines.push_str(&format!("{{\"id\":\"d{i}\",\"text\":\"{text}\"}}\n"));
    }
    std::fs::write(&path, lines).unwrap();
    for extra in [&[][..], &["--keep", "longest"], &["--preset", "classic"]] {
        let run = |pairs: bool| {
            let (unique, removed) = (dir.path().join("u.jsonl"), dir.path().join("r.tsv"));
            let mut cmd = storyprint();
            cmd.arg("dedup")
                .arg(&path)
                .arg("-o")
                .arg(&unique)
                .arg("--removed")
                .arg(&removed)
                .args(extra);
            if pairs {
                cmd.args(["--pairs", "/dev/null"]);
            }
            let out = cmd.output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert_eq!(out.status.code(), Some(0), "{stderr}");
            let counts = stderr
                .split(": ")
                .nth(1)
                .and_then(|s| s.split(" (").next())
                .unwrap_or_default()
                .to_string();
            let summary = stderr.split(" s: ").nth(1).unwrap_or_default();
            let summary = summary
                .split("; passes")
                .next()
                .unwrap_or_default()
                .to_string();
            (
                std::fs::read_to_string(unique).unwrap(),
                std::fs::read_to_string(removed).unwrap(),
                counts,
                summary,
            )
        };
        let (grouped, every_pair) = (run(false), run(true));
        assert!(grouped.1.lines().count() > 3000, "{extra:?}");
        assert_eq!(grouped, every_pair, "{extra:?}");
    }
}

/// A made-up word for `n`.
fn rng_word(n: u64) -> String {
    let syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "bu"];
    format!(
        "{}{}{}",
        syllables[(n % 10) as usize],
        syllables[(n / 10 % 10) as usize],
        syllables[(n / 100 % 10) as usize]
    )
}

/// The names in `dir` that a killed run leaves: temporary outputs and spill directories.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".partial") || name.starts_with("storyprint-spill-"))
        .collect();
    names.sort();
    names
}

/// Regression: a killed `dedup` left its temporary outputs (`.NAME.*.partial`) behind for
/// good. Killed with SIGKILL while it spills, its temporary outputs and spill directory are
/// removed by the next run writing the same outputs, whose own outputs are complete.
#[test]
fn finding_3_a_killed_runs_temporary_files_are_removed_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let mut rng = util::Rng(31);
    let lines: Vec<String> = (0..4_000)
        .map(|i| serde_json::json!({"id": format!("d{i}"), "text": rng.text(30)}).to_string())
        .collect();
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let command = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_storyprint"));
        cmd.current_dir(dir.path())
            .args([
                "dedup",
                "in.jsonl",
                "-o",
                "unique.jsonl",
                "--removed",
                "removed.tsv",
            ])
            .args([
                "--memory",
                "1",
                "--temp-dir",
                ".",
                "-j1",
                "--chunk-docs",
                "500",
            ])
            .stderr(std::process::Stdio::null());
        cmd
    };
    let mut child = command().spawn().unwrap();
    let start = std::time::Instant::now();
    while leftovers(dir.path()).len() < 3 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let left = leftovers(dir.path());
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(left[0].starts_with(".removed.tsv.") && left[1].starts_with(".unique.jsonl."));
    assert!(!dir.path().join("unique.jsonl").exists());

    assert!(command().status().unwrap().success());
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    let kept = std::fs::read_to_string(dir.path().join("unique.jsonl")).unwrap();
    assert_eq!(kept.lines().count(), 4_000);
}

/// The megabytes a dedup run says it spilled (0 when it did not).
fn spilled_megabytes(stderr: &str) -> f64 {
    stderr
        .split("; spilled ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .map_or(0.0, |mb| mb.parse().unwrap())
}

/// Regression: a crowd of identical short documents (one-word documents, twenty copies of each
/// word) made the spill path pair every copy with every other in every band, a pair key each
/// on disk (25 GB at a million documents). Spilled under a tiny budget, a crowd of them (with
/// one word copied past the bucket limit, a star) gives byte for byte the in-memory run's
/// output, at the defaults (every verified pair listed) and at `--level related` (where the
/// in-memory run groups the copies itself), and spills about the signatures' size, not the
/// pairs'.
#[test]
fn finding_9_a_crowd_of_identical_short_documents_spills_what_its_groups_need() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("onewords.jsonl");
    let mut rng = util::Rng(9);
    let words: Vec<String> = (0..150).map(|_| rng.text(1)).collect();
    let lines: Vec<String> = (0..4_000)
        .map(|i| {
            let word = match i % 10 {
                0 => &words[0],
                _ => &words[rng.below(words.len() as u64) as usize],
            };
            serde_json::json!({"id": format!("d{i}"), "text": word}).to_string()
        })
        .collect();
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let temp = dir.path().join("spill");
    std::fs::create_dir(&temp).unwrap();
    let spill = ["--memory", "1", "--temp-dir", temp.to_str().unwrap()];
    let in_memory = dedup_with_pairs(dir.path(), &[&input], &["--memory", "unlimited"]);
    let spilled = dedup_with_pairs(dir.path(), &[&input], &spill);
    assert_eq!(in_memory[..3], spilled[..3]);
    assert!(in_memory[2].lines().count() > 40_000, "{}", in_memory[3]);
    // The signatures take 4,000 × 1 KB; every pair in every band would be some 70 MB.
    let megabytes = spilled_megabytes(&spilled[3]);
    assert!(megabytes > 0.0 && megabytes < 12.0, "{}", spilled[3]);
    let related = |extra: &[&str]| {
        dedup(
            dir.path(),
            &[&input],
            &[&["--level", "related"], extra].concat(),
        )
    };
    let (in_memory, spilled) = (related(&["--memory", "unlimited"]), related(&spill));
    assert_eq!((&in_memory.0, &in_memory.1), (&spilled.0, &spilled.1));
    assert!(spilled_megabytes(&spilled.2) > 0.0, "{}", spilled.2);
}
