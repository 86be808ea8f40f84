//! Parquet input (feature `parquet`): rows read as documents give the same results as the
//! same records in JSONL, and bad files and rows are warnings naming the file and the row or
//! row group. The Parquet files are written at test time by pyarrow (`.ci/run` installs it).

#![cfg(feature = "parquet")]

mod util;

use std::path::Path;
use std::process::Command;

use util::{examples, shared, stdout_of, storyprint, without_shared};

/// Writes `jsonl` (a JSONL file) as a Parquet file with row groups of `group_rows` rows; the
/// columns are renamed by `rename` (`old=new,…`).
fn to_parquet(jsonl: &Path, parquet: &Path, group_rows: usize, rename: &str) {
    let script = r#"
import sys, gzip, json, pyarrow as pa, pyarrow.parquet as pq
src, dst, rows, rename = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
opener = gzip.open if src.endswith(".gz") else open
with opener(src, "rt", encoding="utf-8") as f:
    records = [json.loads(line) for line in f if line.strip()]
names = dict(pair.split("=") for pair in rename.split(",") if pair)
columns = {}
for key in ("id", "text"):
    columns[names.get(key, key)] = [r.get(key) for r in records]
pq.write_table(pa.table(columns), dst, row_group_size=rows, compression="snappy")
"#;
    let rows = group_rows.to_string();
    util::pyarrow(
        script,
        [
            jsonl.as_os_str(),
            parquet.as_os_str(),
            rows.as_ref(),
            rename.as_ref(),
        ],
    );
}

/// The example corpus as JSONL records `{"id","text"}`, written to `path`.
fn examples_jsonl(path: &Path) {
    let mut lines = String::new();
    let mut files: Vec<_> = std::fs::read_dir(examples())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    for file in files {
        let id = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        lines.push_str(&serde_json::json!({"id": id, "text": text}).to_string());
        lines.push('\n');
    }
    std::fs::write(path, lines).unwrap();
}

/// `storyprint dedup INPUT` with `extra`: (the kept ids in order, read from the field
/// `id_field` of the kept lines, removed.tsv, stderr).
fn dedup(
    dir: &Path,
    input: &Path,
    extra: &[&str],
    id_field: &str,
) -> (Vec<String>, String, String) {
    let (unique, removed, stderr) = util::dedup(dir, &[input], extra);
    let kept = unique
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            value[id_field].as_str().unwrap().to_string()
        })
        .collect();
    (kept, removed, stderr)
}

#[test]
fn dedup_of_reuters_as_parquet_equals_dedup_of_its_jsonl() {
    if without_shared() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let jsonl = shared("corpora/reuters21578.jsonl.gz");
    let parquet = dir.path().join("reuters.parquet");
    to_parquet(&jsonl, &parquet, 5000, "");
    for preset in [&["--preset", "default"][..], &["--preset", "classic"]] {
        let from_jsonl = dedup(dir.path(), &jsonl, preset, "id");
        let from_parquet = dedup(dir.path(), &parquet, preset, "id");
        assert_eq!(from_parquet.0, from_jsonl.0, "kept ids, {preset:?}");
        assert_eq!(from_parquet.1, from_jsonl.1, "removed.tsv, {preset:?}");
        assert!(
            from_parquet.1.lines().count() > 100,
            "{preset:?} removes copies"
        );
    }
}

#[test]
fn parquet_columns_are_named_by_the_id_and_text_fields_in_every_row_group() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("examples.jsonl");
    examples_jsonl(&jsonl);
    let parquet = dir.path().join("examples.parquet");
    // Row groups of 5 rows: documents of one story fall in different groups.
    to_parquet(&jsonl, &parquet, 5, "id=name,text=body");
    let cluster = |input: &Path, fields: &[&str]| {
        stdout_of(
            storyprint()
                .args(["cluster", "--format", "json"])
                .arg(input)
                .args(fields),
        )
    };
    let expected = cluster(&jsonl, &[]);
    assert!(expected.contains("port-strike-wire.txt"));
    let fields = ["--id-field", "name", "--text-field", "body"];
    assert_eq!(cluster(&parquet, &fields), expected);
    // A directory of Parquet files is walked like any other.
    let walked = dir.path().join("walked");
    std::fs::create_dir(&walked).unwrap();
    std::fs::rename(&parquet, walked.join("examples.parquet")).unwrap();
    assert_eq!(cluster(&walked, &fields), expected);
    let (kept, removed, _) = dedup(dir.path(), &walked, &fields, "name");
    let (kept_jsonl, removed_jsonl, _) = dedup(dir.path(), &jsonl, &[], "id");
    assert_eq!((kept, removed), (kept_jsonl, removed_jsonl));
}

#[test]
fn bad_parquet_rows_and_files_are_warnings_naming_the_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("rows.jsonl");
    let story = "The harbour workers' union called a strike at the port of Norvik on Monday.";
    std::fs::write(
        &jsonl,
        format!(
            "{}\n{}\n{}\n{}\n",
            serde_json::json!({"id": 7, "text": story}),
            serde_json::json!({"id": null, "text": "Another story about grain prices in May."}),
            serde_json::json!({"id": 9, "text": "   "}),
            serde_json::json!({"id": 10, "text": null}),
        ),
    )
    .unwrap();
    let parquet = dir.path().join("rows.parquet");
    to_parquet(&jsonl, &parquet, 2, "");
    let no_text = dir.path().join("no-text.parquet");
    to_parquet(&jsonl, &no_text, 2, "text=body");
    // A damaged page header in the second row group (rows 3 and 4) of a copy.
    let damaged = dir.path().join("damaged.parquet");
    to_parquet(&jsonl, &damaged, 2, "");
    let offset = Command::new("python3")
        .args([
            "-c",
            "import sys, pyarrow.parquet as pq; m = pq.read_metadata(sys.argv[1]); \
                      print(m.row_group(1).column(1).data_page_offset)",
        ])
        .arg(&damaged)
        .output()
        .unwrap();
    let offset: usize = String::from_utf8_lossy(&offset.stdout)
        .trim()
        .parse()
        .unwrap();
    let mut bytes = std::fs::read(&damaged).unwrap();
    bytes[offset..offset + 8].fill(0xff);
    std::fs::write(&damaged, bytes).unwrap();
    let broken = dir.path().join("broken.parquet");
    std::fs::write(&broken, b"PAR1 not really").unwrap();
    let out = storyprint()
        .args(["cluster", "--format", "tsv"])
        .args([&parquet, &no_text, &broken, &damaged])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let at = |name: &str| dir.path().join(name).display().to_string();
    assert!(stderr.contains(&format!(
        "{}:3: empty document; skipped",
        at("rows.parquet")
    )));
    assert!(stderr.contains(&format!(
        "{}:4: empty document; skipped",
        at("rows.parquet")
    )));
    assert!(stderr.contains(&format!(
        "{}: cannot read: no \"text\" column (set --text-field)",
        at("no-text.parquet")
    )));
    assert!(stderr.contains(&format!(
        "{}: cannot read: not a readable Parquet file",
        at("broken.parquet")
    )));
    assert!(stderr.contains(&format!(
        "{}: cannot read: row group 1 (rows 3 to 4): ",
        at("damaged.parquet")
    )));
    // An integer id is written in decimal; a null one is the row's place. The damaged copy's
    // first row group is read, its second skipped.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "doc\tcluster\n7\t0\nrows.parquet:2\t1\n7#2\t0\ndamaged.parquet:2\t1\n"
    );
}

/// Regression (found by the `input` fuzz target): a column chunk with a negative byte range
/// made the Parquet decoder panic and the command exit 101. It is a warning naming the file
/// and its row group, and the other files are still read.
#[test]
fn a_parquet_file_the_decoder_panics_on_is_a_warning_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let found = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus/input/parquet-negative-column-range"),
    )
    .unwrap();
    // The fuzz input's first byte picks the file type; the rest is the file.
    let damaged = dir.path().join("damaged.parquet");
    std::fs::write(&damaged, &found[1..]).unwrap();
    let out = storyprint()
        .args(["cluster", "--format", "tsv"])
        .arg(&damaged)
        .arg(examples())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}: cannot read: row group 0 (rows 1 to 2): ",
            damaged.display()
        )),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("norvik-results.txt"));
}
