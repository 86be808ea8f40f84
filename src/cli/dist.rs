//! `storyprint dist` (feature `dist`): dedup on timely/differential dataflow workers, in one
//! process or several; and `storyprint signatures` (feature `parquet`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use storyprint::dedup::{Dedup, Keep};
use storyprint::dist::{OutputFiles, Workers};
use storyprint::verdict::Level;

use super::dedup::KeepArg;
use super::{CorpusArgs, EXIT_OK, check_outputs};

/// `storyprint dist`.
#[derive(Debug, Args)]
pub struct DistArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Write the kept documents (their original lines) to FILE (process 0 only).
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
    /// Write a TSV of removed_id, kept_id, similarity, as `dedup --removed` (process 0).
    #[arg(long, value_name = "FILE")]
    removed: Option<PathBuf>,
    /// Write a TSV of doc_id, cluster_id, kept for every document: the connected components
    /// of verified pairs, each named by its first document in input order (process 0).
    #[arg(long, value_name = "FILE")]
    clusters: Option<PathBuf>,
    /// Write the same as Parquet (doc_id, cluster_id, kept) (process 0).
    #[cfg(feature = "parquet")]
    #[arg(long, value_name = "FILE")]
    clusters_parquet: Option<PathBuf>,
    /// Which document of a group of duplicates is kept.
    #[arg(long, value_enum, default_value = "first")]
    keep: KeepArg,
    /// Dataflow worker threads in this process.
    #[arg(long, short = 'w', default_value_t = 1, value_name = "W")]
    workers: usize,
    /// A file of `host:port` lines, one per process, process 0 first (omit for one process).
    #[arg(long, value_name = "FILE", requires = "process")]
    hostfile: Option<PathBuf>,
    /// This process's line in the hostfile, from 0.
    #[arg(long, value_name = "I", requires = "hostfile")]
    process: Option<usize>,
    /// Number of processes (a check: it must match the hostfile).
    #[arg(long, value_name = "N", requires = "hostfile")]
    processes: Option<usize>,
    /// No summary line (warnings are still printed).
    #[arg(long, short)]
    quiet: bool,
}

/// Deduplicates the inputs as one process of a dataflow job.
pub fn dist(args: DistArgs) -> anyhow::Result<u8> {
    #[cfg(feature = "parquet")]
    let parquet = args.clusters_parquet.as_ref();
    #[cfg(not(feature = "parquet"))]
    let parquet = None;
    check_outputs(
        &args.corpus.input,
        &[
            Some(&args.output),
            args.removed.as_ref(),
            args.clusters.as_ref(),
            parquet,
        ],
    )?;
    let config = args.corpus.engine.config_at(Level::Related)?;
    anyhow::ensure!(
        config.level == Level::Related,
        "dist judges pairs by their similarity alone (--level related); the copy and rewrite \
         levels need the neighbours' features: use dedup"
    );
    let mut dedup = Dedup::new(config, args.corpus.input.options());
    dedup.keep = match args.keep {
        KeepArg::First => Keep::First,
        KeepArg::Longest => Keep::Longest,
    };
    let workers = match (&args.hostfile, args.process) {
        (Some(path), Some(process)) => Workers::hostfile(path, args.workers, process)?,
        _ => Workers::local(args.workers),
    };
    if let Some(n) = args.processes
        && n != workers.addresses.len()
    {
        anyhow::bail!(
            "--processes {n}, but the hostfile lists {}",
            workers.addresses.len()
        );
    }
    let outputs = OutputFiles {
        unique: args.output.clone(),
        removed: args.removed.clone(),
        clusters: args.clusters.clone(),
        #[cfg(feature = "parquet")]
        clusters_parquet: args.clusters_parquet.clone(),
    };
    let started = Instant::now();
    let report = storyprint::dist::run(&dedup, &workers, &args.corpus.input.paths, &outputs)
        .context("distributed dedup")?;
    for warning in &report.warnings {
        eprintln!("storyprint: {warning}");
    }
    let Some(outcome) = &report.outcome else {
        if !args.quiet {
            eprintln!(
                "storyprint: process {}: read {} documents from {} shard(s) in {:.2} s",
                workers.process,
                report.documents_read,
                report.shards_read,
                started.elapsed().as_secs_f64(),
            );
        }
        return Ok(EXIT_OK);
    };
    let summary = &outcome.summary;
    if summary.documents == 0 {
        anyhow::bail!("no document could be read");
    }
    if args.corpus.input.strict && summary.skipped > 0 {
        anyhow::bail!("--strict: {} document(s) skipped", summary.skipped);
    }
    if !args.quiet {
        eprintln!(
            "storyprint: {} documents ({:.1} MB) in {:.2} s on {} worker(s) x {} process(es): \
             kept {}, removed {}; {} verified pairs, {} clusters; process 0 read {} documents \
             from {} shard(s)",
            summary.documents,
            summary.bytes as f64 / 1e6,
            started.elapsed().as_secs_f64(),
            workers.workers,
            workers.addresses.len().max(1),
            summary.kept,
            summary.removed,
            summary.verified,
            outcome.components,
            report.documents_read,
            report.shards_read,
        );
    }
    Ok(EXIT_OK)
}
