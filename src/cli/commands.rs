//! One function per command: load, run the engine, print.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use storyprint::Fingerprints;
use storyprint::eval::{self, Pairwise};
use storyprint::input::Batch;
use storyprint::output::{self, Format};

use super::{
    CorpusArgs, EXIT_OK, EngineArgs, FormatArg, InputArgs, TimeArgs, check_outputs, choose_format,
    load, open_output, to_file,
};

/// Reads the inputs and fingerprints them with the configured engine.
fn fingerprints(
    input: &InputArgs,
    engine: &EngineArgs,
    time: Option<&TimeArgs>,
) -> anyhow::Result<Fingerprints> {
    Ok(fingerprint_batch(input, engine, time)?.1)
}

/// Reads the inputs and fingerprints them, keeping the documents as read; with `time`, with
/// the documents' times and its window.
pub(super) fn fingerprint_batch(
    input: &InputArgs,
    engine: &EngineArgs,
    time: Option<&TimeArgs>,
) -> anyhow::Result<(Batch, Fingerprints)> {
    let config = engine.config()?;
    engine.start_threads().context("starting the thread pool")?;
    let batch = load(input, time)?;
    let mut prints = Fingerprints::new(&batch.documents, &config)?;
    if let Some(time) = time {
        prints.window = time.window;
    }
    if let Some(warning) = prints.featureless_warning(&batch.documents) {
        eprintln!("storyprint: warning: {warning}");
    }
    if engine.verbose {
        let banding = prints.banding();
        let candidates = prints.candidates().len();
        eprintln!(
            "storyprint: {} documents; features {}; weighting {:?}; measure {:?} >= {}; K = {}; \
             LSH {} bands x {} rows, >= {} hit(s); {} candidate pairs ({:.2} per document)",
            prints.len(),
            config.features,
            config.weighting,
            config.measure,
            config.threshold,
            config.num_hashes,
            banding.bands,
            banding.rows,
            banding.min_hits,
            candidates,
            candidates as f64 / prints.len() as f64
        );
    }
    Ok((batch, prints))
}

/// Inputs, engine settings and an output file: what every batch command takes.
#[derive(Debug, Args)]
pub struct BatchArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Write to FILE instead of standard output (`-`: standard output). FILE is replaced
    /// only when the command succeeds, and may not be one of the inputs.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Fingerprints the inputs (with their times, when `time` is given) and writes one result in
/// the chosen format (`terminal` when stdout is a terminal, else `piped`, unless `--format`
/// says).
fn run_batch(
    batch: &BatchArgs,
    time: Option<&TimeArgs>,
    format: Option<FormatArg>,
    (terminal, piped): (Format, Format),
    write: impl FnOnce(&mut dyn Write, &Fingerprints, Format) -> anyhow::Result<()>,
) -> anyhow::Result<u8> {
    check_outputs(&batch.corpus.input, &[batch.output.as_ref()])?;
    let prints = fingerprints(&batch.corpus.input, &batch.corpus.engine, time)?;
    let format = choose_format(format, to_file(batch.output.as_ref()), terminal, piped);
    let mut out = open_output(batch.output.as_ref())?;
    write(&mut out, &prints, format)?;
    out.commit()?;
    Ok(EXIT_OK)
}

/// One table of clustering figures, a row per level or threshold: `(name, pairwise, ARI,
/// clusters)`.
fn figures_table(
    out: &mut dyn Write,
    heading: &str,
    note: &str,
    rows: impl Iterator<Item = (String, Pairwise, f64, usize)>,
) -> std::io::Result<()> {
    writeln!(
        out,
        "\n{heading:>9} {:>9} {:>7} {:>7} {:>7} {:>8}{note}",
        "precision", "recall", "F1", "ARI", "clusters"
    )?;
    for (name, p, ari, clusters) in rows {
        writeln!(
            out,
            "{name:>9} {:>9.4} {:>7.4} {:>7.4} {ari:>7.4} {clusters:>8}",
            p.precision, p.recall, p.f1
        )?;
    }
    Ok(())
}

/// Documents above which `matrix` writes the dense matrix only with `--force`: 4 million
/// cells, some 28 MB of CSV, and it grows with the square.
const MATRIX_DOCUMENTS: usize = 2000;

/// `storyprint matrix`.
#[derive(Debug, Args)]
pub struct MatrixArgs {
    #[command(flatten)]
    batch: BatchArgs,
    /// Output format: table, csv, tsv or json (default: table on a terminal, else csv).
    #[arg(long, short, value_enum, conflicts_with = "sparse")]
    format: Option<FormatArg>,
    /// Write the dense matrix of more than 2,000 documents (it grows with the square of their
    /// number).
    #[arg(long)]
    force: bool,
    /// Write only the entries at or above FLOOR (`--sparse=0.2`; default 0.1), above the
    /// diagonal, as CSV `a,b,similarity` (pandas, SciPy's coo_matrix), for any number of
    /// documents.
    #[arg(
        long,
        value_name = "FLOOR",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "0.1"
    )]
    sparse: Option<f64>,
}

/// Prints the dense similarity matrix, or its entries above a floor.
pub fn matrix(args: MatrixArgs) -> anyhow::Result<u8> {
    if let Some(floor) = args.sparse {
        anyhow::ensure!(
            (0.0..=1.0).contains(&floor),
            "--sparse {floor}: the floor is a similarity, from 0 to 1"
        );
    }
    run_batch(
        &args.batch,
        None,
        args.format,
        (Format::Table, Format::Csv),
        |out, p, format| {
            if let Some(floor) = args.sparse {
                output::write_sparse_matrix(out, &p.ids, &p.sparse_matrix(floor))?;
                return Ok(());
            }
            let n = p.len();
            if n > MATRIX_DOCUMENTS && !args.force {
                anyhow::bail!(
                    "{n} documents make a matrix of {} cells (about {} MB as CSV): pass --force \
                     to write it, --sparse[=FLOOR] for the entries at or above a floor, or use \
                     `storyprint pairs` for the pairs at or above the threshold",
                    n * n,
                    n * n * 7 / 1_000_000
                );
            }
            output::write_matrix(out, &p.ids, &p.matrix(), format)?;
            Ok(())
        },
    )
}

/// `storyprint pairs`.
#[derive(Debug, Args)]
pub struct PairsArgs {
    #[command(flatten)]
    batch: BatchArgs,
    #[command(flatten)]
    time: TimeArgs,
    /// Output format: tsv or jsonl.
    #[arg(long, short, value_enum)]
    format: Option<FormatArg>,
}

/// Prints the verified pairs.
pub fn pairs(args: PairsArgs) -> anyhow::Result<u8> {
    run_batch(
        &args.batch,
        Some(&args.time),
        args.format,
        (Format::Tsv, Format::Tsv),
        |out, p, format| Ok(output::write_pairs(out, &p.ids, &p.pairs(), format)?),
    )
}

/// `storyprint cluster`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    #[command(flatten)]
    batch: BatchArgs,
    #[command(flatten)]
    time: TimeArgs,
    /// Output format: table, json or tsv (default: table on a terminal, else json).
    #[arg(long, short, value_enum)]
    format: Option<FormatArg>,
}

/// Prints the clusters.
pub fn cluster(args: ClusterArgs) -> anyhow::Result<u8> {
    run_batch(
        &args.batch,
        Some(&args.time),
        args.format,
        (Format::Table, Format::Json),
        |out, p, format| Ok(output::write_clusters(out, &p.ids, &p.clusters(), format)?),
    )
}

/// `storyprint eval`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("labels").required(true).args(["pairs", "clusters"])))]
pub struct EvalArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    #[command(flatten)]
    time: TimeArgs,
    /// TSV of labelled pairs with a header: id, id, label (1 = same story, 0 = not).
    #[arg(long, value_name = "FILE")]
    pairs: Option<PathBuf>,
    /// With --pairs: TSV id, id, level (e.g. Clough–Stevenson's levels.tsv) for per-level figures.
    #[arg(long, value_name = "FILE", requires = "pairs")]
    levels: Option<PathBuf>,
    /// TSV `doc<TAB>cluster` of the true stories (header optional).
    #[arg(long, value_name = "FILE")]
    clusters: Option<PathBuf>,
    /// Output format: table or json.
    #[arg(long, short, value_enum)]
    format: Option<FormatArg>,
}

/// Evaluates the configuration on labelled data.
pub fn eval(args: EvalArgs) -> anyhow::Result<u8> {
    let prints = fingerprints(&args.corpus.input, &args.corpus.engine, Some(&args.time))?;
    let json = choose_format(args.format, false, Format::Table, Format::Json) == Format::Json;
    let mut out = open_output(None)?;
    if let Some(path) = &args.pairs {
        let labelled = eval::read_pair_labels(path)?;
        let levels = args
            .levels
            .as_deref()
            .map(eval::read_pair_labels)
            .transpose()?;
        let report = eval::evaluate_pairs(&prints, &labelled, levels.as_deref());
        if report.missing > 0 {
            eprintln!(
                "storyprint: warning: {} labelled pair(s) name a document not read",
                report.missing
            );
        }
        if json {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        } else {
            let d = &report.at_default;
            writeln!(out, "pairs                 {}", report.pairs)?;
            writeln!(out, "ROC AUC               {:.4}", report.auc)?;
            writeln!(
                out,
                "best threshold        {:.4} (accuracy {:.4})",
                report.best_threshold, report.best_accuracy
            )?;
            writeln!(
                out,
                "at threshold {:.4}     precision {:.4}  recall {:.4}  F1 {:.4}  accuracy {:.4}",
                d.threshold, d.precision, d.recall, d.f1, d.accuracy
            )?;
            writeln!(
                out,
                "LSH candidates/doc    {:.2}",
                report.candidates_per_doc
            )?;
            writeln!(
                out,
                "\n{:<10} {:>6} {:>8} {:>8} {:>8} {:>8}",
                "label", "pairs", "flagged", "min", "mean", "max"
            )?;
            for l in &report.levels {
                writeln!(
                    out,
                    "{:<10} {:>6} {:>8} {:>8.4} {:>8.4} {:>8.4}",
                    l.level, l.pairs, l.flagged, l.min, l.mean, l.max
                )?;
            }
        }
    }
    if let Some(path) = &args.clusters {
        let truth = eval::read_cluster_labels(path)?;
        let report = eval::evaluate_clusters(&prints, &truth);
        if report.missing > 0 {
            eprintln!(
                "storyprint: warning: {} labelled document(s) not read",
                report.missing
            );
        }
        if json {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        } else {
            let p = &report.pairwise;
            writeln!(out, "documents   {}", report.documents)?;
            writeln!(
                out,
                "pairwise    precision {:.4}  recall {:.4}  F1 {:.4}",
                p.precision, p.recall, p.f1
            )?;
            writeln!(out, "ARI         {:.4}", report.ari)?;
            let levels = (report.levels.iter())
                .map(|l| (l.level.name().to_string(), l.pairwise, l.ari, l.clusters));
            figures_table(&mut out, "level", "", levels)?;
            let sweep = (report.sweep.iter())
                .map(|s| (format!("{:.2}", s.threshold), s.pairwise, s.ari, s.clusters));
            figures_table(&mut out, "threshold", "  (level related)", sweep)?;
        }
    }
    out.commit()?;
    Ok(EXIT_OK)
}
