//! Document times (`--time-field`, `--window`): a pair further apart than the window is at
//! most related, in every command that judges levels; without the flag nothing changes.

mod util;

use std::path::{Path, PathBuf};

use util::{dedup, shared, stdout_of, storyprint, without_shared};

const RATES: &str = "The central bank of Freedonia raised its key interest rate by half a point \
                     to 4.75 percent on Tuesday, citing inflation that reached 6.2 percent in \
                     November, the highest in a decade, and warned of further increases.";

const BUDGET: &str = "Sylvania's parliament approved a budget of 12.4 billion crowns for 2027 \
                      after a 14-hour debate, with 87 deputies in favour and 61 against, \
                      clearing the way for a rise in pensions and a cut in fuel duty.";

const FOOTBALL: &str = "Northfield beat Southport 3-1 at home on Saturday, with two goals in the \
                        last ten minutes from their 19-year-old striker before 41,000 fans.";

/// Writes `wire.jsonl` in `dir`: two copies of one story 10 days apart (`far1`, `far2`), two
/// copies of another one hour apart, in two formats (`near1`, `near2`), and `other`, whose
/// time field holds `other_time`.
fn wire(dir: &Path, other_time: &str) -> PathBuf {
    let line = |id: &str, text: &str, t: &str| {
        serde_json::json!({"id": id, "text": text, "t": t}).to_string()
    };
    let lines = [
        line("far1", RATES, "2026-12-01T10:00:00Z"),
        line("far2", RATES, "2026-12-11T10:00:00Z"),
        line("near1", BUDGET, "2026-12-07T06:54:00Z"),
        line("near2", BUDGET, "Mon, 07 Dec 2026 08:54:00 +0100"),
        line("other", FOOTBALL, other_time),
    ];
    let path = dir.join("wire.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// `storyprint pairs --level related PATH EXTRA`: each pair's `a b level`.
fn pairs(path: &Path, extra: &[&str]) -> Vec<String> {
    let out = stdout_of(
        storyprint()
            .args(["pairs", "--level", "related", "--format", "tsv"])
            .arg(path)
            .args(extra),
    );
    out.lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            format!("{} {} {}", fields[0], fields[1], fields[4])
        })
        .collect()
}

#[test]
fn copies_further_apart_than_the_window_are_only_related() {
    let dir = tempfile::tempdir().unwrap();
    let path = wire(dir.path(), "2026-12-07T07:00:00Z");
    assert_eq!(pairs(&path, &[]), ["far1 far2 copy", "near1 near2 copy"]);
    assert_eq!(
        pairs(&path, &["--time-field", "t"]),
        ["far1 far2 related", "near1 near2 copy"]
    );
    assert_eq!(
        pairs(&path, &["--time-field", "t", "--window", "11d"]),
        ["far1 far2 copy", "near1 near2 copy"]
    );
    assert_eq!(
        pairs(&path, &["--time-field", "t", "--window", "30m"]),
        ["far1 far2 related", "near1 near2 related"]
    );
    // The scores are printed as before: only the level is capped.
    let scores = |extra: &[&str]| {
        let out = stdout_of(
            storyprint()
                .args(["pairs", "--level", "related"])
                .arg(&path)
                .args(extra),
        );
        out.lines()
            .map(|l| l.rsplit_once('\t').unwrap().0.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(scores(&[]), scores(&["--time-field", "t"]));
}

#[test]
fn far_copies_are_neither_clustered_nor_removed_at_copy_or_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = wire(dir.path(), "2026-12-07T07:00:00Z");
    for level in ["copy", "rewrite"] {
        let out = stdout_of(
            storyprint()
                .args([
                    "cluster",
                    "--format",
                    "tsv",
                    "--time-field",
                    "t",
                    "--level",
                    level,
                ])
                .arg(&path),
        );
        let cluster = |id: &str| {
            let line = out.lines().find(|l| l.starts_with(&format!("{id}\t")));
            line.unwrap().split('\t').nth(1).unwrap().to_string()
        };
        assert_ne!(cluster("far1"), cluster("far2"), "{level}: {out}");
        assert_eq!(cluster("near1"), cluster("near2"), "{level}: {out}");

        let (unique, removed, _) = dedup(
            dir.path(),
            &[&path],
            &["--time-field", "t", "--level", level],
        );
        assert!(
            unique.contains("\"far1\"") && unique.contains("\"far2\""),
            "{level}: {unique}"
        );
        assert!(!unique.contains("\"near2\""), "{level}: {unique}");
        assert_eq!(removed.lines().count(), 2, "{level}: {removed}");
    }
    // Without the flag, both copies go.
    let (unique, _, _) = dedup(dir.path(), &[&path], &[]);
    assert!(
        !unique.contains("\"far2\"") && !unique.contains("\"near2\""),
        "{unique}"
    );
}

#[test]
fn an_unreadable_time_is_a_warning_naming_file_and_line_and_the_rest_is_processed() {
    let dir = tempfile::tempdir().unwrap();
    let path = wire(dir.path(), "last Tuesday");
    let out = storyprint()
        .args(["pairs", "--level", "related", "--time-field", "t"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("wire.jsonl:5: time field \"t\": not a time: \"last Tuesday\""),
        "{stderr}"
    );
    assert_eq!(
        pairs(&path, &["--time-field", "t"]),
        ["far1 far2 related", "near1 near2 copy"]
    );
    // dedup warns once too, and still removes the near copy.
    let (unique, _, stderr) = dedup(dir.path(), &[&path], &["--time-field", "t", "-q"]);
    assert_eq!(
        stderr.matches("wire.jsonl:5: time field").count(),
        1,
        "{stderr}"
    );
    assert_eq!(unique.lines().count(), 4);
}

#[test]
fn a_missing_time_field_is_named_for_the_first_ten_documents_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("untimed.jsonl");
    let lines: Vec<String> = (0..30)
        .map(|i| serde_json::json!({"id": i, "text": format!("{FOOTBALL} {i}")}).to_string())
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let out = storyprint()
        .args(["cluster", "--time-field", "date"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings: Vec<&str> = stderr.lines().collect();
    assert_eq!(warnings.len(), 11, "{stderr}");
    assert!(warnings[0].contains("untimed.jsonl:1: no time field \"date\""));
    assert!(warnings[10].contains("untimed.jsonl:11: ") && warnings[10].contains("not named"));
}

#[test]
fn a_window_needs_a_time_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = wire(dir.path(), "2026-12-07T07:00:00Z");
    for bad in [
        &["--window", "3d"][..],
        &["--time-field", "t", "--window", "3 weeks"],
    ] {
        let out = storyprint()
            .arg("pairs")
            .arg(&path)
            .args(bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_time_columns_of_timestamps_strings_and_integers() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import sys, datetime, pyarrow as pa, pyarrow.parquet as pq
texts = [sys.argv[2], sys.argv[2], sys.argv[3], sys.argv[3]]
day = datetime.datetime(2026, 12, 7, tzinfo=datetime.timezone.utc)
times = [day, day + datetime.timedelta(days=10), day, day + datetime.timedelta(hours=1)]
pq.write_table(pa.table({
    "id": ["far1", "far2", "near1", "near2"],
    "text": texts,
    "stamp": pa.array(times, pa.timestamp("ms", tz="UTC")),
    "iso": [t.isoformat() for t in times],
    "unix": [int(t.timestamp()) for t in times],
}), sys.argv[1])
"#;
    let path = dir.path().join("wire.parquet");
    util::pyarrow(script, [path.as_os_str(), RATES.as_ref(), BUDGET.as_ref()]);
    for column in ["stamp", "iso", "unix"] {
        assert_eq!(
            pairs(&path, &["--time-field", column]),
            ["far1 far2 related", "near1 near2 copy"],
            "{column}"
        );
    }
}

#[test]
fn reuters_rewrites_weeks_apart_are_only_related() {
    if without_shared() {
        return;
    }
    let corpus = shared("corpora/reuters21578.jsonl.gz");
    let out = storyprint()
        .args(["pairs", "--level", "related", "--time-field", "date"])
        .arg(&corpus)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // Every Reuters date reads, wire codes after some of them included, but two: a note
    // after one ("# date added by S Finch as guesswork") and hour 605 in the other.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].contains("reuters21578.jsonl.gz:15370: time field \"date\""));
    assert!(lines[1].contains("reuters21578.jsonl.gz:17192: time field \"date\""));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let level = |a: &str, b: &str| {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{a}\t{b}\t")));
        line.unwrap().rsplit('\t').next().unwrap().to_string()
    };
    // The same company's items 20 and 28 days apart: rewrites without the window.
    assert_eq!(level("reuters-250", "reuters-8104"), "related");
    assert_eq!(level("reuters-81", "reuters-10156"), "related");
    // 54 hours apart: inside the window, still a rewrite.
    assert_eq!(level("reuters-13799", "reuters-15952"), "rewrite");
}
