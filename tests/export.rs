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

/// The judgement a job in another engine makes row by row (`Signer::features`,
/// `exact_similarities`, `contrasted`, `levels`), on the candidate pairs of the rows'
/// signatures, gives the verified pairs, similarities, story scores and levels
/// `dedup --pairs` gives.
#[test]
fn judging_rows_step_by_step_gives_what_dedup_gives() {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, ListArray, RecordBatch};
    use storyprint::config::Config;
    use storyprint::export::{Signer, evidence};
    use storyprint::input::{Batch, InputOptions};
    use storyprint::verdict::Level;

    let mut corpora = vec![util::examples()];
    if !without_shared() {
        corpora.push(shared("seeds"));
    }
    for corpus in corpora {
        let docs = Batch::read(std::slice::from_ref(&corpus), InputOptions::default()).documents;
        let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
        let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        let signer = Signer::new(Config {
            level: Level::Rewrite,
            ..Config::default()
        })
        .unwrap();
        let freq = signer.frequencies(&texts);
        let rows = signer.batch(&freq, &ids, &texts).unwrap();
        let signatures: Vec<_> = evidence(&rows).unwrap().into_iter().map(|e| e.0).collect();
        let candidates = signer.banding().candidates(&signatures);
        // Columns whose row `i` is document `docs[i]`'s.
        let texts_of =
            |docs: &[u32]| -> Vec<&str> { docs.iter().map(|&d| texts[d as usize]).collect() };
        let features_of = |docs: &[u32]| -> ArrayRef {
            signer
                .features(&freq, &texts_of(docs))
                .unwrap()
                .column(0)
                .clone()
        };
        let slots_of = |docs: &[u32]| -> ArrayRef {
            let ids: Vec<&str> = docs.iter().map(|&d| ids[d as usize]).collect();
            let rows = signer.batch(&freq, &ids, &texts_of(docs)).unwrap();
            rows.column_by_name("fact_slots").unwrap().clone()
        };
        let side = |docs: &[u32], features: ArrayRef| {
            RecordBatch::try_from_iter([("features", features), ("fact_slots", slots_of(docs))])
                .unwrap()
        };
        let (a, b): (Vec<u32>, Vec<u32>) = candidates.iter().copied().unzip();
        let similarities = signer
            .exact_similarities(&side(&a, features_of(&a)), &side(&b, features_of(&b)))
            .unwrap();
        let threshold = signer.config().threshold;
        let verified: Vec<(u32, u32, f64)> = candidates
            .iter()
            .zip(&similarities)
            .filter(|&(_, &s)| s >= threshold)
            .map(|(&(a, b), &s)| (a, b, s))
            .collect();
        // Each document's features contrasted with those of the documents it is a candidate
        // pair with.
        let contrasted_of = |docs: &[u32]| -> ArrayRef {
            let mut offsets = vec![0i32];
            let mut neighbours = Vec::new();
            for &doc in docs {
                for &(a, b) in &candidates {
                    if a == doc || b == doc {
                        neighbours.push(if a == doc { b } else { a });
                    }
                }
                offsets.push(neighbours.len() as i32);
            }
            let own = features_of(docs);
            let item = Arc::new(arrow_schema::Field::new(
                "item",
                own.data_type().clone(),
                true,
            ));
            let offsets = arrow_buffer::OffsetBuffer::new(offsets.into());
            let lists = ListArray::try_new(item, offsets, features_of(&neighbours), None).unwrap();
            let rows = RecordBatch::try_from_iter([
                ("features", own),
                ("neighbours", Arc::new(lists) as ArrayRef),
            ])
            .unwrap();
            signer.contrasted(&rows).unwrap().column(0).clone()
        };
        let (va, vb): (Vec<u32>, Vec<u32>) = verified.iter().map(|&(a, b, _)| (a, b)).unzip();
        let similarities: Vec<f64> = verified.iter().map(|&(_, _, s)| s).collect();
        let judged = signer
            .levels(
                &side(&va, contrasted_of(&va)),
                &side(&vb, contrasted_of(&vb)),
                &similarities,
            )
            .unwrap();
        let mut lines: Vec<String> = verified
            .iter()
            .zip(judged)
            .filter(|(_, (_, level))| level.is_some_and(|l| l >= Level::Rewrite))
            .map(|(&(a, b, s), (story, level))| {
                let (a, b) = (ids[a as usize], ids[b as usize]);
                format!("{a}\t{b}\t{s:.4}\t{story:.4}\t{}", level.unwrap().name())
            })
            .collect();
        lines.sort();
        let dir = tempfile::tempdir().unwrap();
        let pairs = dir.path().join("pairs.tsv");
        storyprint()
            .args(["dedup", "--level", "rewrite", "-o"])
            .arg(dir.path().join("unique.jsonl"))
            .arg("--pairs")
            .arg(&pairs)
            .arg(&corpus)
            .assert()
            .success();
        let written = std::fs::read_to_string(&pairs).unwrap();
        let mut expected: Vec<String> = written.lines().skip(1).map(String::from).collect();
        expected.sort();
        assert!(!expected.is_empty(), "{corpus:?}: {written}");
        assert_eq!(lines, expected, "{corpus:?}");
    }
}
