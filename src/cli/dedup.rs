//! `storyprint dedup`: flags, progress on stderr, and the summary line.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use storyprint::dedup::{DEFAULT_LEVEL, Dedup, Keep, Observer, Outputs, Pass};
use storyprint::input::Problem;

use super::{CorpusArgs, EXIT_OK, TimeArgs, check_outputs, open_output};

/// The keep rule on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeepArg {
    /// The first in input order.
    First,
    /// The longest text (ties: the first in input order).
    Longest,
}

/// `storyprint dedup`.
#[derive(Debug, Args)]
pub struct DedupArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    #[command(flatten)]
    time: TimeArgs,
    /// Write the kept documents (their original lines) to FILE instead of standard output
    /// (`-`: standard output). Every output file is replaced only when dedup succeeds, and may
    /// not be one of the inputs.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Write a TSV of removed_id, kept_id, similarity, story, level: for each removed
    /// document, the kept document it duplicates (story and level are empty at `--level
    /// related`, which judges by the similarity alone).
    #[arg(long, value_name = "FILE")]
    removed: Option<PathBuf>,
    /// Write every verified pair at the level (TSV a, b, similarity, story, level) to FILE:
    /// what the removals were chosen from.
    #[arg(long, value_name = "FILE")]
    pairs: Option<PathBuf>,
    /// Which document of a group of duplicates is kept.
    #[arg(long, value_enum, default_value = "first")]
    keep: KeepArg,
    /// Documents read and sketched per parallel chunk (bounds the text held in memory: about
    /// three chunks at a time) [default: 2048 per thread, up to 16 threads]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    chunk_docs: Option<u32>,
    /// Memory in MB (2^20 bytes) for the run, or `unlimited`. When the per-document state
    /// (signatures, band keys, candidate pairs) outgrows it, it spills to sorted runs on disk,
    /// sized so that the run stays within it; the output is the same. Default: a quarter of
    /// the machine's physical memory.
    #[arg(long, value_name = "MB", value_parser = parse_memory)]
    memory: Option<Memory>,
    /// Directory for spill files (default: the system's temporary directory); they are removed
    /// when dedup ends.
    #[arg(long, value_name = "DIR")]
    temp_dir: Option<PathBuf>,
    /// No progress bar and no summary (warnings are still printed).
    #[arg(long, short)]
    quiet: bool,
}

/// `--memory`: bytes, or no limit.
#[derive(Debug, Clone, Copy)]
struct Memory(Option<u64>);

fn parse_memory(value: &str) -> Result<Memory, String> {
    if value == "unlimited" {
        return Ok(Memory(None));
    }
    match value.parse::<u64>() {
        Ok(mb) if mb > 0 => Ok(Memory(Some(mb.saturating_mul(1 << 20)))),
        _ => Err(format!(
            "expected a number of MB (at least 1) or `unlimited`, not `{value}`"
        )),
    }
}

/// Prints problems as warnings and, on a terminal, a progress bar per pass.
struct Console {
    bar: Option<ProgressBar>,
    show_progress: bool,
    started: Instant,
    skipped: u64,
    /// Each finished pass with its seconds, for the summary.
    passes: Vec<(Pass, f64)>,
    pass: Option<Pass>,
}

impl Observer for Console {
    fn problem(&mut self, problem: &Problem) {
        let level = if problem.is_note() { "note" } else { "warning" };
        self.println(&format!("storyprint: {level}: {problem}"));
        self.skipped += u64::from(!problem.is_note());
    }

    fn renamed(&mut self, warning: &str) {
        self.println(&format!("storyprint: warning: {warning}"));
    }

    fn warning(&mut self, warning: &str) {
        self.println(&format!("storyprint: warning: {warning}"));
    }

    fn start(&mut self, pass: Pass, total: Option<u64>) {
        self.started = Instant::now();
        self.pass = Some(pass);
        if !self.show_progress {
            return;
        }
        let (bar, template) = match total {
            Some(total) => (
                ProgressBar::new(total),
                "{prefix:>11} {bar:30} {pos}/{len} docs {msg} ETA {eta}",
            ),
            None => (
                ProgressBar::new_spinner(),
                "{prefix:>11} {spinner} {pos} docs {msg} {elapsed}",
            ),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_prefix(pass.name());
        self.bar = Some(bar);
    }

    fn progress(&mut self, docs: u64, bytes: u64) {
        if let Some(bar) = &self.bar {
            let seconds = self.started.elapsed().as_secs_f64().max(1e-6);
            bar.set_position(docs);
            bar.set_message(format!("{:.1} MB/s", bytes as f64 / 1e6 / seconds));
        }
    }

    fn finish(&mut self) {
        if let Some(pass) = self.pass.take() {
            self.passes
                .push((pass, self.started.elapsed().as_secs_f64()));
        }
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Console {
    fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

/// Deduplicates the inputs.
pub fn dedup(args: DedupArgs) -> anyhow::Result<u8> {
    check_outputs(
        &args.corpus.input,
        &[
            args.output.as_ref(),
            args.removed.as_ref(),
            args.pairs.as_ref(),
        ],
    )?;
    let config = args.corpus.engine.config_at(DEFAULT_LEVEL)?;
    args.corpus
        .engine
        .start_threads()
        .context("starting the thread pool")?;
    let mut dedup = Dedup::new(config, args.time.options(&args.corpus.input));
    dedup.window = args.time.window;
    dedup.keep = match args.keep {
        KeepArg::First => Keep::First,
        KeepArg::Longest => Keep::Longest,
    };
    dedup.chunk_docs = args.chunk_docs.map(|n| n as usize);
    dedup.verify_exact = args.corpus.engine.exact;
    // A quarter of the machine: corpora of a few million documents stay in memory; beyond,
    // the run keeps within it, and the rest is for the page cache of the spill files.
    dedup.memory = match args.memory {
        Some(Memory(memory)) => memory,
        None => storyprint::dedup::physical_memory().map(|bytes| bytes / 4),
    };
    if let Some(dir) = args.temp_dir {
        dedup.temp_dir = dir;
    }
    let mut unique = open_output(args.output.as_ref())?;
    let mut removed = args
        .removed
        .as_ref()
        .map(|p| open_output(Some(p)))
        .transpose()?;
    let mut pairs = args
        .pairs
        .as_ref()
        .map(|p| open_output(Some(p)))
        .transpose()?;
    let mut console = Console {
        bar: None,
        show_progress: !args.quiet && std::io::stderr().is_terminal(),
        started: Instant::now(),
        skipped: 0,
        passes: Vec::new(),
        pass: None,
    };
    let started = Instant::now();
    let summary = dedup.run(
        &args.corpus.input.paths,
        Outputs {
            unique: &mut unique,
            removed: removed.as_mut().map(|w| w as &mut dyn std::io::Write),
            pairs: pairs.as_mut().map(|w| w as &mut dyn std::io::Write),
        },
        &mut console,
    )?;
    if summary.documents == 0 {
        anyhow::bail!("no document could be read");
    }
    if args.corpus.input.strict && console.skipped > 0 {
        anyhow::bail!("--strict: {} document(s) skipped", console.skipped);
    }
    // Only a run that succeeded replaces the files.
    for out in std::iter::once(unique).chain(removed).chain(pairs) {
        out.commit()?;
    }
    if !args.quiet {
        let seconds = started.elapsed().as_secs_f64();
        let passes: Vec<String> = console
            .passes
            .iter()
            .map(|(pass, s)| format!("{} {s:.2} s", pass.name()))
            .collect();
        eprintln!(
            "storyprint: {} documents ({:.1} MB) in {:.2} s: kept {}, removed {}; {} candidate \
             pairs, {} verified at level {} ({} similarity, {} hashes); passes: {}{}{}",
            summary.documents,
            summary.bytes as f64 / 1e6,
            seconds,
            summary.kept,
            summary.removed,
            summary.candidates,
            summary.verified,
            dedup.config.level,
            if dedup.verify_exact || dedup.judges_levels() {
                "exact"
            } else {
                "estimated"
            },
            dedup.config.num_hashes,
            passes.join(", "),
            if summary.spilled > 0 {
                format!(
                    "; spilled {:.1} MB to {}",
                    summary.spilled as f64 / 1e6,
                    dedup.temp_dir.display()
                )
            } else {
                String::new()
            },
            if summary.skipped > 0 {
                format!("; skipped {} (see the warnings above)", summary.skipped)
            } else {
                String::new()
            }
        );
    }
    Ok(EXIT_OK)
}
