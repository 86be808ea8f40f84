//! One function per command: load, run the engine, print.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use storyprint::Fingerprints;
use storyprint::output::{self, Format};

use super::{EXIT_OK, EngineArgs, FormatArg, InputArgs, choose_format, load, open_output};

/// Reads the inputs and fingerprints them with the configured engine.
fn fingerprints(input: &InputArgs, engine: &EngineArgs) -> anyhow::Result<Fingerprints> {
    let config = engine.config()?;
    if let Some(threads) = engine.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .context("starting the thread pool")?;
    }
    let batch = load(input)?;
    Ok(Fingerprints::new(&batch.documents, &config)?)
}

/// `storyprint matrix`.
#[derive(Debug, Args)]
pub struct MatrixArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    engine: EngineArgs,
    /// Output format: table, csv, tsv or json (default: table on a terminal, else csv).
    #[arg(long, short, value_enum)]
    format: Option<FormatArg>,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Prints the dense similarity matrix.
pub fn matrix(args: MatrixArgs) -> anyhow::Result<u8> {
    let prints = fingerprints(&args.input, &args.engine)?;
    let format = choose_format(
        args.format,
        args.output.is_some(),
        Format::Table,
        Format::Csv,
    );
    let mut out = open_output(args.output.as_ref())?;
    output::write_matrix(&mut out, &prints.ids, &prints.matrix(), format)?;
    out.flush()?;
    Ok(EXIT_OK)
}

/// `storyprint pairs`.
#[derive(Debug, Args)]
pub struct PairsArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    engine: EngineArgs,
    /// Output format: tsv or jsonl.
    #[arg(long, short, value_enum)]
    format: Option<FormatArg>,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Prints the verified pairs.
pub fn pairs(args: PairsArgs) -> anyhow::Result<u8> {
    let prints = fingerprints(&args.input, &args.engine)?;
    let format = choose_format(args.format, args.output.is_some(), Format::Tsv, Format::Tsv);
    let mut out = open_output(args.output.as_ref())?;
    output::write_pairs(&mut out, &prints.ids, &prints.pairs(), format)?;
    out.flush()?;
    Ok(EXIT_OK)
}

/// `storyprint cluster`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    engine: EngineArgs,
    /// Output format: table, json or tsv (default: table on a terminal, else json).
    #[arg(long, short, value_enum)]
    format: Option<FormatArg>,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Prints the clusters.
pub fn cluster(args: ClusterArgs) -> anyhow::Result<u8> {
    let prints = fingerprints(&args.input, &args.engine)?;
    let format = choose_format(
        args.format,
        args.output.is_some(),
        Format::Table,
        Format::Json,
    );
    let mut out = open_output(args.output.as_ref())?;
    output::write_clusters(&mut out, &prints.ids, &prints.clusters(), format)?;
    out.flush()?;
    Ok(EXIT_OK)
}
