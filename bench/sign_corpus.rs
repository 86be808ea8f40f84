//! storyprint's signature throughput measured as the side-by-side harness measures the peers
//! (bench/compare.py): the corpus's texts are read into memory first, then the clock runs
//! while every text is tokenized, shingled and sketched, one after the other on one thread.
//! The classic preset (word 5-grams, 128 hashes) is what the peers compute; the defaults
//! (stems, facts, IDF weights, 256 hashes) are timed too, with the corpus's document
//! frequencies counted first, untimed, as `dedup`'s first pass counts them, and sketched as
//! `dedup`'s second pass sketches, with the analyzer of the first (whose vocabulary has every
//! word stemmed already); and once more with a fresh analyzer, which stems each distinct word
//! again. With the `parquet` feature it also times the rows `storyprint signatures` writes
//! (`export::Signer::batch`: signatures, band keys and the Arrow columns, every document in
//! one batch on a one-thread pool, as the Python package's `Fingerprinter.signatures` makes
//! them), classic and defaults (the signer's analyzer warmed by counting the frequencies).
//! Prints one JSON line of seconds of wall time and (`*_cpu_seconds`) of the process's CPU
//! time, which a loaded machine inflates less: `{"tool": "storyprint", "bytes": …,
//! "signature_seconds": …, "default_signature_seconds": …, "default_fresh_signature_seconds":
//! …, "row_seconds": …, "default_row_seconds": …}` and the `_cpu_` twins (no `row` keys
//! without the feature).
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

/// Seconds of wall time and of the process's CPU time.
#[derive(Clone, Copy)]
struct Seconds {
    wall: f64,
    cpu: f64,
}

/// The CPU time of the process so far, in seconds (every thread's).
fn cpu_seconds() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "the process CPU clock is always there on Linux");
    now.tv_sec as f64 + now.tv_nsec as f64 * 1e-9
}

/// How long `work` takes.
fn timed<T>(work: impl FnOnce() -> T) -> Seconds {
    let (cpu, started) = (cpu_seconds(), Instant::now());
    black_box(work());
    Seconds {
        wall: started.elapsed().as_secs_f64(),
        cpu: cpu_seconds() - cpu,
    }
}

/// The time to sketch every text on this thread with `signing`, analysing with one of its
/// analyzers (a fresh one when it has none yet).
fn sign_seconds(texts: &[String], signing: &Signing, freq: &DocFreq) -> Seconds {
    let mut state = signing.state(freq);
    timed(|| {
        for text in texts {
            black_box(signing.sign(&mut state, text));
        }
    })
}

fn main() -> anyhow::Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    anyhow::ensure!(!args.is_empty(), "usage: sign_corpus CORPUS.jsonl...");
    let (mut ids, mut texts) = (Vec::new(), Vec::new());
    for item in Reader::new(&args, InputOptions::default()) {
        match item {
            Ok(doc) => {
                ids.push(doc.id);
                texts.push(doc.text);
            }
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
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let freq = one_thread.install(|| counted.frequencies(&refs));
    let fresh = sign_seconds(&texts, &Signing::new(&defaults), &freq);
    let default = sign_seconds(&texts, &counted, &freq);
    let mut times = vec![
        ("signature", classic),
        ("default_signature", default),
        ("default_fresh_signature", fresh),
    ];
    #[cfg(feature = "parquet")]
    {
        let (row, default_row) = one_thread.install(|| row_seconds(&ids, &refs))?;
        times.extend([("row", row), ("default_row", default_row)]);
    }
    let mut report = serde_json::json!({"tool": "storyprint", "bytes": bytes});
    for (key, seconds) in times {
        report[format!("{key}_seconds")] = seconds.wall.into();
        report[format!("{key}_cpu_seconds")] = seconds.cpu.into();
    }
    println!("{report}");
    Ok(())
}

/// The time to make the signatures file's rows of every document in one batch, classic then
/// defaults (frequencies counted first, untimed, by the signer, whose analyzer then has every
/// word stemmed).
#[cfg(feature = "parquet")]
fn row_seconds(ids: &[String], texts: &[&str]) -> anyhow::Result<(Seconds, Seconds)> {
    use storyprint::export::Signer;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let rows = |signer: &Signer, freq: &DocFreq| -> anyhow::Result<Seconds> {
        let mut made = Ok(());
        let seconds = timed(|| made = signer.batch(freq, &ids, texts).map(drop));
        made?;
        Ok(seconds)
    };
    let classic = rows(&Signer::new(Config::classic())?, &DocFreq::default())?;
    let signer = Signer::new(Config::default())?;
    let freq = signer.frequencies(texts);
    Ok((classic, rows(&signer, &freq)?))
}
