//! Per-stage throughput on one core, on the Reuters-21578 corpus read from `../shared/corpora`
//! (skipped with a message when it is absent): tokenize, shingle, signature (classic preset
//! and defaults, tokenization included), LSH, and end-to-end dedup. The `…/unicode` cases
//! run on the same stories typeset as news sites write them (`bench/typeset.rs`: curly
//! quotes, dashes, non-breaking spaces, accented names), line by line.
//!
//! `cargo bench --bench stages`; criterion prints MB/s (bytes of document text).

#[path = "../bench/typeset.rs"]
mod typeset;

use std::hint::black_box;
use std::io::BufRead;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use storyprint::Config;
use storyprint::dedup::{Dedup, Outputs};
use storyprint::features::{DocFreq, features};
use storyprint::input::InputOptions;
use storyprint::lsh::{Banding, Scan};
use storyprint::normalize::{fold, normalize};
use storyprint::sign::Signing;
use storyprint::signature::Signature;
use storyprint::tokenize::{Analyzer, word_hashes};

fn corpus_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/reuters21578.jsonl.gz")
}

/// The corpus texts, or `None` (with a message) when the corpus is absent.
fn texts() -> Option<Vec<String>> {
    let path = corpus_path();
    let Ok(file) = std::fs::File::open(&path) else {
        eprintln!("{} is absent: stage benches skipped", path.display());
        return None;
    };
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let texts = reader
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(&line).ok())
        .filter_map(|doc| doc["text"].as_str().map(str::to_owned))
        .collect();
    Some(texts)
}

/// A text typeset as news sites write it, line by line ([`typeset::typeset`]).
fn typeset_text(text: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|line| typeset::typeset(&line.split(' ').collect::<Vec<_>>(), 1))
        .collect();
    lines.join("\n")
}

/// The total length of texts in bytes, for throughput.
fn total_bytes(texts: &[String]) -> Throughput {
    Throughput::Bytes(texts.iter().map(|t| t.len() as u64).sum())
}

/// Signatures of every text with a configuration, one core (document frequencies given), as
/// dedup's signature pass computes them.
fn sign_all(texts: &[String], config: &Config, freq: &DocFreq) -> Vec<Signature> {
    let signing = Signing::new(config);
    let mut state = signing.state(freq);
    texts
        .iter()
        .map(|text| signing.sign(&mut state, text).0)
        .collect()
}

fn stages(c: &mut Criterion) {
    let Some(texts) = texts() else { return };
    let classic = Config::classic();
    let default = Config::default();
    let analyzer = Analyzer::new(default.language);
    let mut freq = DocFreq::default();
    for text in &texts {
        freq.add(&analyzer.terms(&normalize(text, default.strip_chrome)));
    }
    let empty = DocFreq::default();
    let unicode: Vec<String> = texts.iter().map(|t| typeset_text(t)).collect();

    let mut group = c.benchmark_group("stages");
    group.sample_size(10);
    for (suffix, texts) in [("", &texts), ("/unicode", &unicode)] {
        group.throughput(total_bytes(texts));
        group.bench_function(format!("tokenize{suffix}"), |b| {
            b.iter(|| {
                for text in texts {
                    black_box(analyzer.terms(&normalize(text, false)));
                }
            })
        });
        group.bench_function(format!("tokenize/word-hashes{suffix}"), |b| {
            let (mut lower, mut hashes) = (Vec::new(), Vec::new());
            b.iter(|| {
                for text in texts {
                    hashes.clear();
                    word_hashes(&fold(text), &mut lower, &mut hashes);
                    black_box(&hashes);
                }
            })
        });
        for (name, config, freq) in [
            ("signature/classic", &classic, &empty),
            ("signature/default", &default, &freq),
        ] {
            group.bench_function(format!("{name}{suffix}"), |b| {
                b.iter(|| black_box(sign_all(texts, config, freq)))
            });
        }
    }
    group.throughput(total_bytes(&texts));
    let analysed: Vec<(String, Vec<_>)> = texts
        .iter()
        .map(|t| {
            let text = normalize(t, false);
            let terms = analyzer.terms(&text);
            (text, terms)
        })
        .collect();
    for (name, config, freq) in [
        ("shingle/classic", &classic, &empty),
        ("shingle/default", &default, &freq),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                for (text, terms) in &analysed {
                    black_box(features(text, terms, config, freq));
                }
            })
        });
    }
    let signatures = sign_all(&texts, &classic, &empty);
    let threshold = Config {
        threshold: 0.8,
        ..classic.clone()
    };
    let banding = Banding::for_config(&threshold, Scan::Batch);
    let one_core = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool");
    group.bench_function("lsh/classic", |b| {
        b.iter(|| one_core.install(|| black_box(banding.candidates(&signatures))))
    });
    let dedup = Dedup::new(threshold, InputOptions::default());
    let paths = [corpus_path()];
    group.bench_function("dedup/classic-0.8", |b| {
        b.iter(|| {
            one_core.install(|| {
                dedup
                    .run(
                        &paths,
                        Outputs {
                            unique: &mut std::io::sink(),
                            removed: None,
                            pairs: None,
                        },
                        &mut (),
                    )
                    .expect("dedup runs")
            })
        })
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
