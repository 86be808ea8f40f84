//! Signature throughput on real news text: normalize + tokenize + features + weighted MinHash,
//! one core, on the Reuters-21578 corpus read from `../shared/corpora/` (research licence: it
//! is never copied into the repository).
//!
//! Three configurations in one run, so their costs compare directly: the defaults
//! (IDF-weighted stems + facts), the same features unweighted, and `--preset classic` (raw word
//! 5-grams, 128 unweighted hashes). Each is measured in MB/s and in documents/s.
//!
//! `cargo bench --bench signature`

use std::path::PathBuf;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use storyprint::config::Weighting;
use storyprint::input::{Batch, InputOptions};
use storyprint::{Config, Document, Fingerprints};

/// Documents used per iteration: enough to reach a steady state, few enough for a quick run.
const DOCS: usize = 3000;

fn corpus() -> Option<Vec<Document>> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/reuters21578.jsonl.gz");
    if !path.exists() {
        eprintln!("{}: not found; signature bench skipped", path.display());
        return None;
    }
    let mut batch = Batch::read(&[path], InputOptions::default());
    batch.documents.truncate(DOCS);
    Some(batch.documents)
}

fn configurations() -> [(&'static str, Config); 3] {
    [
        ("default", Config::default()),
        (
            "default-unweighted",
            Config {
                weighting: Weighting::None,
                ..Config::default()
            },
        ),
        ("classic", Config::classic()),
    ]
}

fn signatures(c: &mut Criterion) {
    let Some(docs) = corpus() else { return };
    let bytes: u64 = docs.iter().map(|d| d.text.len() as u64).sum();
    let one_core = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool");
    for (unit, throughput) in [
        ("bytes", Throughput::Bytes(bytes)),
        ("documents", Throughput::Elements(docs.len() as u64)),
    ] {
        let mut group = c.benchmark_group(format!("signature/{unit}"));
        group.sample_size(10).throughput(throughput);
        for (name, config) in configurations() {
            group.bench_with_input(BenchmarkId::from_parameter(name), &config, |b, config| {
                b.iter(|| {
                    one_core.install(|| Fingerprints::new(&docs, config).map(|p| p.signatures))
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, signatures);
criterion_main!(benches);
