//! storyprint's signature throughput measured as the side-by-side harness measures the peers
//! (bench/compare.py): the corpus's texts are read into memory first, then the clock runs
//! while every text is tokenized, shingled and sketched, one after the other on one thread.
//! The classic preset (word 5-grams, 128 hashes) is what the peers compute; the defaults
//! (stems, facts, IDF weights, 256 hashes) are timed too, with the corpus's document
//! frequencies counted first, untimed, as `dedup`'s first pass counts them, and sketched as
//! `dedup`'s second pass sketches, with the analyzer of the first (whose vocabulary has every
//! word stemmed already); and once more with a fresh analyzer, which stems each distinct word
//! again. Prints one JSON line: `{"tool": "storyprint", "bytes": …, "signature_seconds": …,
//! "default_signature_seconds": …, "default_fresh_signature_seconds": …}`.
//!
//! ```text
//! cargo run --release --example sign_corpus -- corpus.jsonl
//! ```

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use storyprint::Config;
use storyprint::features::DocFreq;
use storyprint::input::{InputOptions, Reader};
use storyprint::sign::Signing;

/// The allocator the `storyprint` command runs with (src/main.rs).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Seconds to sketch every text on this thread with `signing`, analysing with one of its
/// analyzers (a fresh one when it has none yet).
fn sign_seconds(texts: &[String], signing: &Signing, freq: &DocFreq) -> f64 {
    let mut state = signing.state(freq);
    let started = Instant::now();
    for text in texts {
        black_box(signing.sign(&mut state, text));
    }
    started.elapsed().as_secs_f64()
}

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
    let classic = sign_seconds(
        &texts,
        &Signing::new(&Config::classic()),
        &DocFreq::default(),
    );
    let defaults = Config::default();
    let counted = Signing::new(&defaults);
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let freq = one_thread.install(|| {
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        counted.frequencies(&texts)
    });
    let fresh = sign_seconds(&texts, &Signing::new(&defaults), &freq);
    let default = sign_seconds(&texts, &counted, &freq);
    println!(
        "{}",
        serde_json::json!({
            "tool": "storyprint",
            "bytes": bytes,
            "signature_seconds": classic,
            "default_signature_seconds": default,
            "default_fresh_signature_seconds": fresh,
        })
    );
    Ok(())
}
