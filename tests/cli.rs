//! The real binary on real files: the example corpus, the seeds, the labelled sets, and bad
//! input.

mod util;

use std::io::Write;

use util::{
    example, examples, json_of, prefix, seeds, shared, stdout_of, storyprint, without_shared,
};

/// The example corpus's multi-document clusters, each as its sorted members.
fn example_clusters(extra: &[&str]) -> Vec<Vec<String>> {
    let json = json_of(
        storyprint()
            .args(["cluster", "--format", "json"])
            .args(extra)
            .arg(examples()),
    );
    let mut clusters: Vec<Vec<String>> = json["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut members: Vec<String> = c["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_string())
                .collect();
            members.sort();
            members
        })
        .collect();
    clusters.sort();
    clusters
}

#[test]
fn examples_cluster_the_rewrites_and_the_refile_and_nothing_else() {
    assert_eq!(
        example_clusters(&[]),
        [
            vec!["norvik-results-refile.txt", "norvik-results.txt"],
            vec![
                "port-strike-daily.txt",
                "port-strike-radio.txt",
                "port-strike-wire.txt"
            ],
        ]
    );
}

#[test]
fn examples_template_pairs_are_kept_apart_by_the_fact_check() {
    // Without the fact check the two dividend notices and the two auctions share enough words
    // to be one story each: what keeps them apart is that they give other numbers.
    let loose = example_clusters(&["--no-fact-check"]);
    for pair in [
        ["bill-auction-week14.txt", "bill-auction-week15.txt"],
        ["dividend-halvard.txt", "dividend-tessaline.txt"],
    ] {
        assert!(loose.iter().any(|c| c == &pair), "{pair:?} in {loose:?}");
    }
}

#[test]
fn examples_matrix_puts_every_rewrite_above_every_other_pair() {
    let json = json_of(
        storyprint()
            .args(["matrix", "--format", "json"])
            .arg(examples()),
    );
    let ids: Vec<&str> = json["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 12);
    let both = |a: &str, b: &str, story: &str| a.starts_with(story) && b.starts_with(story);
    let (mut rewrites, mut others) = (f64::MAX, 0.0f64);
    for a in 0..ids.len() {
        for b in a + 1..ids.len() {
            let value = json["matrix"][a][b].as_f64().unwrap();
            assert_eq!(json["matrix"][b][a].as_f64(), Some(value), "symmetric");
            if both(ids[a], ids[b], "port-strike") {
                rewrites = rewrites.min(value);
            } else if !both(ids[a], ids[b], "norvik-results") {
                others = others.max(value);
            }
        }
    }
    assert!(rewrites >= 0.134, "lowest rewrite pair {rewrites}");
    assert!(
        rewrites >= 3.0 * others,
        "rewrites {rewrites} vs next {others}"
    );
}

#[test]
fn examples_pairs_are_the_verified_pairs_in_every_format() {
    let tsv = stdout_of(
        storyprint()
            .args(["pairs", "--format", "tsv"])
            .arg(examples()),
    );
    let rows: Vec<Vec<&str>> = tsv.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows[0], ["a", "b", "similarity"]);
    let found: Vec<[&str; 2]> = rows[1..].iter().map(|r| [r[0], r[1]]).collect();
    assert_eq!(
        found,
        [
            ["norvik-results-refile.txt", "norvik-results.txt"],
            ["port-strike-daily.txt", "port-strike-radio.txt"],
            ["port-strike-daily.txt", "port-strike-wire.txt"],
            ["port-strike-radio.txt", "port-strike-wire.txt"],
        ]
    );
    let jsonl = stdout_of(
        storyprint()
            .args(["pairs", "--format", "jsonl"])
            .arg(examples()),
    );
    assert_eq!(jsonl.lines().count(), 4);
    for (line, row) in jsonl.lines().zip(&rows[1..]) {
        let pair: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(pair["a"], row[0]);
        assert_eq!(
            format!("{:.4}", pair["similarity"].as_f64().unwrap()),
            row[2]
        );
    }
}

#[test]
fn examples_eval_against_their_truth_gives_ari_one() {
    let json = json_of(
        storyprint()
            .args(["eval", "--format", "json", "--clusters"])
            .arg(example("truth.tsv"))
            .arg(examples()),
    );
    assert_eq!(json["documents"].as_u64(), Some(12));
    assert_eq!(json["missing"].as_u64(), Some(0));
    assert_eq!(json["ari"].as_f64(), Some(1.0));
    assert_eq!(json["pairwise"]["f1"].as_f64(), Some(1.0));
}

#[test]
fn examples_output_is_identical_for_one_and_two_threads() {
    let run = |command: &str, threads: &str| {
        stdout_of(storyprint().args([command, "-j", threads]).arg(examples()))
    };
    for command in ["cluster", "matrix", "pairs"] {
        assert_eq!(run(command, "1"), run(command, "2"), "{command}");
    }
}

#[test]
fn seeds_cluster_is_the_rewrite_pair_and_nothing_else() {
    if without_shared() {
        return;
    }
    let json = json_of(
        storyprint()
            .args(["cluster", "--format", "json"])
            .arg(seeds()),
    );
    let clusters = json["clusters"].as_array().unwrap();
    let multi: Vec<Vec<String>> = clusters
        .iter()
        .map(|c| {
            c["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(prefix)
                .collect()
        })
        .filter(|m: &Vec<String>| m.len() > 1)
        .collect();
    assert_eq!(multi, [["000", "003"]]);
    let singletons: Vec<String> = json["singletons"]
        .as_array()
        .unwrap()
        .iter()
        .map(prefix)
        .collect();
    assert_eq!(singletons, ["001", "002", "004"]);
}

#[test]
fn seeds_matrix_ranks_the_rewrite_pair_first_by_a_clear_margin() {
    if without_shared() {
        return;
    }
    let json = json_of(
        storyprint()
            .args(["matrix", "--format", "json"])
            .arg(seeds()),
    );
    let ids: Vec<String> = json["ids"].as_array().unwrap().iter().map(prefix).collect();
    let m = &json["matrix"];
    let (i, j) = (
        ids.iter().position(|x| x == "000").unwrap(),
        ids.iter().position(|x| x == "003").unwrap(),
    );
    let pair = m[i][j].as_f64().unwrap();
    let mut others = Vec::new();
    for a in 0..ids.len() {
        assert_eq!(m[a][a].as_f64(), Some(1.0));
        for b in a + 1..ids.len() {
            assert_eq!(m[a][b], m[b][a], "symmetric");
            if (a, b) != (i.min(j), i.max(j)) {
                others.push(m[a][b].as_f64().unwrap());
            }
        }
    }
    let next = others.iter().cloned().fold(0.0, f64::max);
    assert!(pair >= 1.5 * next, "000-003 {pair} vs next {next}");
}

#[test]
fn seeds_eval_against_the_truth_gives_ari_one() {
    if without_shared() {
        return;
    }
    let json = json_of(
        storyprint()
            .args(["eval", "--format", "json", "--clusters"])
            .arg(seeds().join("truth.tsv"))
            .arg(seeds()),
    );
    assert_eq!(json["ari"].as_f64(), Some(1.0));
    assert_eq!(json["pairwise"]["f1"].as_f64(), Some(1.0));
    assert_eq!(json["sweep"].as_array().unwrap().len(), 19);
}

#[test]
fn matrix_csv_and_tsv_have_an_id_header() {
    if without_shared() {
        return;
    }
    let csv = stdout_of(
        storyprint()
            .args(["matrix", "--format", "csv"])
            .arg(seeds()),
    );
    let header = csv.lines().next().unwrap();
    assert!(
        header.starts_with("id,000_230738a5742fa5e5.txt,001_"),
        "{header}"
    );
    assert_eq!(csv.lines().count(), 6);
    let tsv = stdout_of(
        storyprint()
            .args(["matrix", "--format", "tsv"])
            .arg(seeds()),
    );
    assert!(
        tsv.lines()
            .nth(1)
            .unwrap()
            .starts_with("000_230738a5742fa5e5.txt\t1.0000\t")
    );
}

#[test]
fn pairs_and_cluster_tsv_agree_on_the_seeds() {
    if without_shared() {
        return;
    }
    let pairs = stdout_of(storyprint().args(["pairs", "--format", "tsv"]).arg(seeds()));
    let rows: Vec<&str> = pairs.lines().collect();
    assert_eq!(rows[0], "a\tb\tsimilarity");
    assert_eq!(rows.len(), 2, "{pairs}");
    assert!(rows[1].starts_with("000_230738a5742fa5e5.txt\t003_9a187d2a22a8d5d5.txt\t"));
    let tsv = stdout_of(
        storyprint()
            .args(["cluster", "--format", "tsv"])
            .arg(seeds()),
    );
    assert_eq!(tsv.lines().count(), 6);
    let jsonl = stdout_of(
        storyprint()
            .args(["pairs", "--format", "jsonl"])
            .arg(seeds()),
    );
    let pair: serde_json::Value = serde_json::from_str(jsonl.trim()).unwrap();
    assert!(pair["similarity"].as_f64().unwrap() > 0.0);
}

#[test]
fn output_is_identical_for_any_thread_count() {
    if without_shared() {
        return;
    }
    let docs = shared("eval/clough-stevenson/docs.jsonl");
    let run = |threads: &str| {
        stdout_of(
            storyprint()
                .args(["cluster", "--format", "json", "-j", threads])
                .arg(&docs),
        )
    };
    assert_eq!(run("1"), run("2"));
    let matrix = |threads: &str| {
        stdout_of(
            storyprint()
                .args(["matrix", "--format", "csv", "-j", threads])
                .arg(&docs),
        )
    };
    assert_eq!(matrix("1"), matrix("2"));
}

#[test]
fn classic_preset_is_copy_detection() {
    if without_shared() {
        return;
    }
    let json = json_of(
        storyprint()
            .args(["matrix", "--format", "json", "--preset", "classic"])
            .arg(seeds()),
    );
    let m = &json["matrix"];
    // Word 5-shingles barely see the rewrite pair.
    assert!(m[0][3].as_f64().unwrap() < 0.05, "{}", m[0][3]);
}

#[test]
fn bad_input_is_reported_by_file_and_line_and_the_rest_is_processed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("latin1.txt"),
        b"Caf\xe9 au lait, the Minsk cafe reopened.",
    )
    .unwrap();
    std::fs::write(d.join("empty.txt"), b"").unwrap();
    std::fs::write(
        d.join("wire.jsonl"),
        "{\"id\":\"w1\",\"text\":\"The minister resigned on Friday.\"}\n{\"id\":\"w2\",\"text\":\n{\"id\":\"w3\",\"text\":\"Rates rose by half a point.\"}\n",
    )
    .unwrap();
    let mut big = std::fs::File::create(d.join("huge.txt")).unwrap();
    let line = "The quick brown fox jumps over the lazy dog near the river bank today.\n";
    for _ in 0..(50 * 1024 * 1024 / line.len() + 1) {
        big.write_all(line.as_bytes()).unwrap();
    }
    drop(big);
    std::fs::copy(example("port-strike-wire.txt"), d.join("good.txt")).unwrap();
    let missing = d.join("missing.txt");
    let out = storyprint()
        .args(["cluster", "--format", "tsv"])
        .arg(d)
        .arg(&missing)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("latin1.txt: not valid UTF-8"), "{stderr}");
    assert!(stderr.contains("empty.txt: empty document"), "{stderr}");
    assert!(
        stderr.contains("wire.jsonl:2: malformed JSON line"),
        "{stderr}"
    );
    assert!(stderr.contains("huge.txt: document is 52"), "{stderr}");
    assert!(stderr.contains("missing.txt: cannot read"), "{stderr}");
    assert!(stderr.contains("skipped 5"), "{stderr}");
    for id in ["good.txt", "w1", "w3"] {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("{id}\t"))),
            "{id} missing from {stdout}"
        );
    }
    let strict = storyprint()
        .args(["cluster", "--strict"])
        .arg(d)
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&strict.stderr).contains("--strict: 4 document(s) skipped"));
}

#[test]
fn nothing_readable_and_usage_errors_exit_2() {
    let out = storyprint()
        .args(["matrix", "/nonexistent/dir"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no document could be read"));
    let out = storyprint()
        .args(["matrix", "--threshold", "7"])
        .arg(examples())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("threshold"));
    let out = storyprint()
        .args(["matrix", "--features", "stems:0"])
        .arg(examples())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = storyprint().args(["frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_shows_an_example_for_every_command() {
    for command in ["matrix", "pairs", "cluster", "eval", "dedup"] {
        let help = stdout_of(storyprint().args([command, "--help"]));
        assert!(help.contains("Example"), "{command}: {help}");
    }
}

#[test]
fn stdin_is_one_document_or_jsonl() {
    let text = std::fs::read_to_string(example("port-strike-radio.txt")).unwrap();
    let json = json_of(
        storyprint()
            .args(["cluster", "--format", "json", "-"])
            .arg(example("port-strike-wire.txt"))
            .write_stdin(text),
    );
    assert_eq!(
        json["clusters"][0]["members"],
        serde_json::json!(["-", "port-strike-wire.txt"])
    );
    let jsonl =
        "{\"id\":\"a\",\"text\":\"one two three\"}\n{\"id\":\"b\",\"text\":\"one two three\"}\n";
    let json = json_of(
        storyprint()
            .args(["cluster", "--format", "json", "--stdin-jsonl", "-"])
            .write_stdin(jsonl),
    );
    assert_eq!(
        json["clusters"][0]["members"],
        serde_json::json!(["a", "b"])
    );
}
