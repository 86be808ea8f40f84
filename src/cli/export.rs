//! `storyprint signatures` (feature `parquet`): every document's signature and band keys as
//! a Parquet file.

use std::path::PathBuf;

use clap::Args;

use super::{CorpusArgs, EXIT_OK, check_outputs};

/// `storyprint signatures`.
#[derive(Debug, Args)]
pub struct SignaturesArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    /// The Parquet file to write (`-`: standard output).
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
}

/// Writes the signatures.
pub fn signatures(args: SignaturesArgs) -> anyhow::Result<u8> {
    check_outputs(&args.corpus.input, &[Some(&args.output)])?;
    let config = args.corpus.engine.config()?;
    args.corpus.engine.start_threads()?;
    let written = storyprint::export::signatures(
        &args.corpus.input.paths,
        &args.corpus.input.options(),
        &config,
        &args.output,
    )?;
    if written == 0 {
        anyhow::bail!("no document could be read");
    }
    eprintln!(
        "storyprint: {written} signatures written to {}",
        args.output.display()
    );
    Ok(EXIT_OK)
}
