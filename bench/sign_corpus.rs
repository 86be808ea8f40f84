//! storyprint's signature throughput measured as the side-by-side harness measures the peers
//! (bench/compare.py): the corpus's texts are read into memory first, then the clock runs
//! while every text is tokenized, shingled and sketched, one after the other on one thread,
//! with the classic preset (word 5-grams, 128 hashes). Prints one JSON line:
//! `{"tool": "storyprint", "bytes": …, "signature_seconds": …}`.
//!
//! ```text
//! cargo run --release --example sign_corpus -- corpus.jsonl
//! ```

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use storyprint::Config;
use storyprint::dedup::{Sketching, sketch_of};
use storyprint::input::{InputOptions, Reader};
use storyprint::shingle::DocFreq;
use storyprint::signature::Sketcher;

fn main() -> anyhow::Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    anyhow::ensure!(!args.is_empty(), "usage: sign_corpus CORPUS.jsonl...");
    let mut texts = Vec::new();
    for item in Reader::new(&args, InputOptions::default()) {
        match item {
            Ok(doc) => texts.push(doc.text),
            Err(problem) => eprintln!("skipped: {problem}"),
        }
    }
    let bytes: usize = texts.iter().map(String::len).sum();
    let config = Config::classic();
    let sketcher = Sketcher::new(config.num_hashes, config.seed);
    let mut state = Sketching::new(&config);
    let freq = DocFreq::default();
    let started = Instant::now();
    for text in &texts {
        black_box(sketch_of(&mut state, &sketcher, &config, &freq, text));
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"tool": "storyprint", "bytes": bytes, "signature_seconds": seconds})
    );
    Ok(())
}
