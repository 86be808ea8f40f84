//! The command line: parses flags, builds the engine's configuration, runs a command and
//! prints. Everything else lives in the library.

mod args;
mod commands;
mod dedup;
#[cfg(feature = "dist")]
mod dist;
#[cfg(feature = "parquet")]
mod export;
#[cfg(feature = "index")]
mod index;
mod report;
#[cfg(feature = "serve")]
mod serve;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use storyprint::input::Batch;
use storyprint::output::{Format, OutputFile, STDOUT, is_stdout};

pub use args::{CorpusArgs, EngineArgs, InputArgs, TimeArgs};

/// Exit status: success, or no duplicate found where that is the question.
pub const EXIT_OK: u8 = 0;
/// Exit status: an error (bad usage, nothing readable, `--strict` with skipped documents).
pub const EXIT_ERROR: u8 = 2;

/// Fingerprints news articles and finds duplicates and rewrites of the same story.
#[derive(Debug, Parser)]
#[command(name = "storyprint", version, about, long_about = None)]
#[command(after_help = "Exit status: 0 success, 1 duplicate found (check), 2 error.")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The dense N×N similarity matrix of the documents.
    #[command(after_help = "Example:\n  storyprint matrix examples --format csv -o matrix.csv")]
    Matrix(commands::MatrixArgs),
    /// Pairs of documents at or above the threshold (LSH candidates, verified).
    #[command(
        after_help = "Example:\n  storyprint pairs corpus.jsonl.gz --threshold 0.3 --format jsonl"
    )]
    Pairs(commands::PairsArgs),
    /// Clusters of documents that are the same story.
    #[command(after_help = "Example:\n  storyprint cluster examples --format json")]
    Cluster(commands::ClusterArgs),
    /// Measures the configuration on labelled pairs or clusters.
    #[command(
        after_help = "Examples:\n  storyprint eval examples --clusters examples/truth.tsv\n  storyprint eval ../shared/eval/clough-stevenson/docs.jsonl --pairs ../shared/eval/clough-stevenson/pairs.tsv --levels ../shared/eval/clough-stevenson/levels.tsv"
    )]
    Eval(commands::EvalArgs),
    /// A similarity report people read: clusters with titles and the evidence for each
    /// match (shared facts and passages), on the terminal or as one self-contained HTML page.
    #[command(
        after_help = "Examples:\n  storyprint report examples\n  storyprint report examples --html report.html"
    )]
    Report(report::ReportArgs),
    /// Removes near-duplicates from a corpus of any size, writing kept lines unchanged.
    #[command(
        after_help = "Example:\n  storyprint dedup corpus.jsonl.zst -o unique.jsonl --removed removed.tsv --preset classic --threshold 0.8"
    )]
    Dedup(dedup::DedupArgs),
    /// `dedup` on timely/differential dataflow workers, across threads and processes.
    #[cfg(feature = "dist")]
    #[command(
        after_help = "Examples:\n  storyprint dist corpus.jsonl.gz -o unique.jsonl --workers 2\n  storyprint dist corpus.jsonl.gz -o unique.jsonl --hostfile hosts.txt --process 0"
    )]
    Dist(dist::DistArgs),
    /// Every document's signature and LSH band keys as a Parquet file.
    #[cfg(feature = "parquet")]
    #[command(after_help = "Example:\n  storyprint signatures corpus.jsonl.gz -o sigs.parquet")]
    Signatures(export::SignaturesArgs),
    /// The persistent index: add, stats, remove, expire, verify.
    #[cfg(feature = "index")]
    Index(index::IndexArgs),
    /// Checks documents against the index: exit 0 no duplicate, 1 duplicate found, 2 error.
    #[cfg(feature = "index")]
    #[command(
        after_help = "Examples:\n  storyprint check draft.txt || echo 'already published'\n  storyprint check - --id draft-17 --add --format json < draft.txt"
    )]
    Check(index::CheckArgs),
    /// Serves the index over HTTP/JSON (loopback by default).
    #[cfg(feature = "serve")]
    #[command(
        after_help = "Example:\n  storyprint serve --index my-index --addr 127.0.0.1:7878 --token-file token.txt"
    )]
    Serve(serve::ServeArgs),
}

/// Output formats on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Aligned text.
    Table,
    /// Comma-separated values.
    Csv,
    /// Tab-separated values.
    Tsv,
    /// JSON.
    Json,
    /// JSON Lines.
    Jsonl,
}

impl FormatArg {
    /// The library format.
    pub fn format(self) -> Format {
        match self {
            FormatArg::Table => Format::Table,
            FormatArg::Csv => Format::Csv,
            FormatArg::Tsv => Format::Tsv,
            FormatArg::Json => Format::Json,
            FormatArg::Jsonl => Format::Jsonl,
        }
    }
}

/// Picks the format: the one asked for, else `terminal` when stdout is a terminal (and no
/// `-o`), else `piped`.
pub fn choose_format(
    asked: Option<FormatArg>,
    to_file: bool,
    terminal: Format,
    piped: Format,
) -> Format {
    match asked {
        Some(f) => f.format(),
        None if !to_file && std::io::stdout().is_terminal() => terminal,
        None => piped,
    }
}

/// Reads the inputs (with their times when `time` names a field), reporting every skipped
/// document on stderr. Fails (exit 2) when nothing could be read, or with `--strict` when
/// anything was skipped.
pub fn load(input: &InputArgs, time: Option<&TimeArgs>) -> anyhow::Result<Batch> {
    let options = time.map_or_else(|| input.options(), |time| time.options(input));
    let batch = Batch::read(&input.paths, options);
    for problem in &batch.problems {
        let level = if problem.is_note() { "note" } else { "warning" };
        eprintln!("storyprint: {level}: {problem}");
    }
    for warning in &batch.renamed {
        eprintln!("storyprint: warning: {warning}");
    }
    let skipped = batch.skipped();
    if skipped > 0 {
        eprintln!(
            "storyprint: read {} document(s), skipped {skipped} (see the warnings above)",
            batch.documents.len()
        );
    }
    if batch.documents.is_empty() {
        anyhow::bail!("no document could be read");
    }
    if input.strict && skipped > 0 {
        anyhow::bail!("--strict: {skipped} document(s) skipped");
    }
    Ok(batch)
}

/// Refuses, before anything is opened for writing, an output that is one of the inputs or
/// another output.
pub fn check_outputs(input: &InputArgs, outputs: &[Option<&PathBuf>]) -> anyhow::Result<()> {
    let outputs: Vec<&Path> = outputs.iter().flatten().map(|p| p.as_path()).collect();
    storyprint::output::check_outputs(&outputs, &input.paths, &input.options())?;
    Ok(())
}

/// Opens the output: `-o FILE`, replaced whole by [`OutputFile::commit`], else (or with `-`)
/// standard output.
pub fn open_output(path: Option<&PathBuf>) -> anyhow::Result<OutputFile> {
    Ok(OutputFile::create(
        path.map_or(Path::new(STDOUT), |p| p.as_path()),
    )?)
}

/// Whether `-o` names a file rather than standard output.
pub fn to_file(path: Option<&PathBuf>) -> bool {
    path.is_some_and(|p| !is_stdout(p))
}

/// Whether an error is a closed pipe (`storyprint … | head`), which is not a failure.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<storyprint::Error>()
                .is_some_and(|e| matches!(e, storyprint::Error::Output(io) if io.kind() == std::io::ErrorKind::BrokenPipe))
    })
}

/// Parses the command line, runs the command, and maps the outcome to an exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; usage errors exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_ERROR } else { EXIT_OK });
        }
    };
    let result = match cli.command {
        Command::Matrix(args) => commands::matrix(args),
        Command::Pairs(args) => commands::pairs(args),
        Command::Cluster(args) => commands::cluster(args),
        Command::Eval(args) => commands::eval(args),
        Command::Report(args) => report::report(args),
        Command::Dedup(args) => dedup::dedup(args),
        #[cfg(feature = "dist")]
        Command::Dist(args) => dist::dist(args),
        #[cfg(feature = "parquet")]
        Command::Signatures(args) => export::signatures(args),
        #[cfg(feature = "index")]
        Command::Index(args) => index::index(args),
        #[cfg(feature = "index")]
        Command::Check(args) => index::check(args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::serve(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("storyprint: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
