//! Parquet files written by storyprint (feature `parquet`) read back by an independent
//! reader, pyarrow (`.ci/run` installs it), with the documented schema.

#![cfg(feature = "parquet")]

mod util;

use util::{pyarrow, shared, storyprint, without_shared};

#[test]
fn signatures_are_read_back_by_pyarrow_with_the_documented_schema() {
    if without_shared() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sigs.parquet");
    storyprint()
        .arg("signatures")
        .arg(shared("seeds"))
        .arg("-o")
        .arg(&file)
        .assert()
        .success();
    let script = r#"
import sys, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
meta = pq.read_metadata(sys.argv[1]).metadata
print(t.num_rows)
print(t.schema.to_string(show_schema_metadata=False).replace("\n", ";"))
k = int(meta[b"storyprint.num_hashes"])
bands = int(meta[b"storyprint.bands"])
print(all(len(s) == k for s in t.column("signature").to_pylist()))
print(all(len(s) == bands for s in t.column("band_keys").to_pylist()))
print(sorted(x.decode() for x in meta if x.startswith(b"storyprint.")))
"#;
    let out = pyarrow(script, [&file]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "5", "one row per seed document");
    assert_eq!(
        lines[1],
        "doc_id: string not null;signature: list<item: uint32> not null;  child 0, item: uint32;\
         weight: double not null;band_keys: list<item: uint64> not null;  child 0, item: uint64;\
         fact_slots: list<item: struct<context: uint64 not null, number: uint64 not null>> not \
         null;  child 0, item: struct<context: uint64 not null, number: uint64 not null>;      \
         child 0, context: uint64 not null;      child 1, number: uint64 not null"
    );
    assert_eq!(lines[2..4], ["True", "True"]);
    assert_eq!(
        lines[4],
        "['storyprint.bands', 'storyprint.features', 'storyprint.format', \
         'storyprint.measure', 'storyprint.min_hits', 'storyprint.num_hashes', \
         'storyprint.rows', 'storyprint.seed', 'storyprint.threshold']"
    );
}

#[cfg(feature = "dist")]
#[test]
fn clusters_parquet_matches_the_clusters_tsv() {
    if without_shared() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (tsv, parquet) = (dir.path().join("c.tsv"), dir.path().join("c.parquet"));
    storyprint()
        .arg("dist")
        .arg(shared("seeds"))
        .arg("-o")
        .arg(dir.path().join("u.jsonl"))
        .arg("--clusters")
        .arg(&tsv)
        .arg("--clusters-parquet")
        .arg(&parquet)
        .assert()
        .success();
    let script = r#"
import sys, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
print(t.schema.to_string(show_schema_metadata=False).replace("\n", ";"))
for row in t.to_pylist():
    print(f"{row['doc_id']}\t{row['cluster_id']}\t{int(row['kept'])}")
"#;
    let out = pyarrow(script, [&parquet]);
    let (schema, rows) = out.split_once('\n').unwrap();
    assert_eq!(
        schema,
        "doc_id: string not null;cluster_id: string not null;kept: bool not null"
    );
    let expected = std::fs::read_to_string(&tsv).unwrap();
    assert_eq!(rows, expected.split_once('\n').unwrap().1);
}
