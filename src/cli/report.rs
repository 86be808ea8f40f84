//! `storyprint report`: the terminal report, or the HTML page with `--html`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use storyprint::output::is_stdout;
use storyprint::report::{Report, Style, html, write_terminal};

use super::commands::fingerprint_batch;
use super::{CorpusArgs, EXIT_OK, TimeArgs, check_outputs, open_output};

/// When to colour the terminal report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    /// When standard output is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// `storyprint report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    #[command(flatten)]
    time: TimeArgs,
    /// Write a self-contained HTML page to FILE instead of the terminal report (`-`: standard
    /// output).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Colour the terminal report.
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorArg,
}

/// Prints the report, or writes the HTML page.
pub fn report(args: ReportArgs) -> anyhow::Result<u8> {
    check_outputs(&args.corpus.input, &[args.html.as_ref()])?;
    let (batch, prints) =
        fingerprint_batch(&args.corpus.input, &args.corpus.engine, Some(&args.time))?;
    let report = Report::new(&prints, &batch.documents);
    match &args.html {
        Some(path) => {
            let mut out = open_output(Some(path))?;
            html::write_html(&mut out, &report, &prints)?;
            out.commit()?;
            let written = match is_stdout(path) {
                true => "standard output".to_string(),
                false => path.display().to_string(),
            };
            eprintln!(
                "storyprint: wrote {written}: {} documents, {} cluster(s), {} singleton(s)",
                prints.len(),
                report.clusters.len(),
                report.singletons.len()
            );
        }
        None => {
            let color = match args.color {
                ColorArg::Always => true,
                ColorArg::Never => false,
                ColorArg::Auto => {
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            let mut out = open_output(None)?;
            write_terminal(&mut out, &report, &prints, Style { color })?;
            out.commit()?;
        }
    }
    Ok(EXIT_OK)
}
