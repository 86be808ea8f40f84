//! `storyprint index …` and `storyprint check`: the persistent index (feature `index`).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use storyprint::Config;
use storyprint::index::{
    AddCounts, AddOptions, DEFAULT_PATH, Index, MAX_ID_BYTES, Match, OpenOptions, RepairOutcome,
    duplicate_at, guarded, repair, unix_now,
};
use storyprint::output::{round4, short, terminal_text};
use storyprint::verdict::Level;

use super::{EXIT_OK, EngineArgs, InputArgs, load, open_output};

/// Exit status of `check`: a duplicate was found, as `diff` exits 1 on a difference.
pub const EXIT_DUPLICATE: u8 = 1;

/// Where the index is and how long to wait for another process using it.
#[derive(Debug, Args)]
pub struct IndexLocation {
    /// Index directory (default: $STORYPRINT_INDEX, else ./storyprint-index; created on
    /// first use).
    #[arg(long, value_name = "PATH")]
    index: Option<PathBuf>,
    /// Seconds to wait while another process has the index open (one process at a time).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    wait: u64,
}

impl IndexLocation {
    /// The index directory: `--index`, else `$STORYPRINT_INDEX`, else the default.
    fn path(&self) -> PathBuf {
        self.index
            .clone()
            .or_else(|| std::env::var_os("STORYPRINT_INDEX").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH))
    }

    /// Opens the index with `options`, waiting `--wait` seconds at most.
    pub(super) fn open(&self, options: OpenOptions) -> anyhow::Result<Index> {
        let path = self.path();
        Index::open(&path, &options.waiting(Duration::from_secs(self.wait)))
            .with_context(|| format!("opening the index {}", path.display()))
    }

    /// Opens an existing index.
    fn open_existing(&self) -> anyhow::Result<Index> {
        self.open(OpenOptions::existing())
    }

    /// Opens an existing index to read it only: the file is left as it was.
    fn open_to_read(&self) -> anyhow::Result<Index> {
        self.open(OpenOptions::existing().read_only())
    }
}

/// Output format of the index commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IndexFormat {
    /// Aligned text.
    Table,
    /// JSON (one object per line for `check`).
    Json,
}

/// `storyprint index`.
#[derive(Debug, Args)]
pub struct IndexArgs {
    #[command(subcommand)]
    command: IndexCommand,
}

#[derive(Debug, Subcommand)]
enum IndexCommand {
    /// Adds documents (new ids, or new text for known ids); counts those already duplicates.
    #[command(after_help = "Example:\n  storyprint index add examples --index my-index")]
    Add(AddArgs),
    /// Sizes, counts and settings.
    Stats(StatsArgs),
    /// Removes documents by id.
    Remove(RemoveArgs),
    /// Removes documents added longer ago than a duration.
    #[command(after_help = "Example:\n  storyprint index expire --older-than 30d")]
    Expire(ExpireArgs),
    /// Checks the index's integrity: store checksums, and that its tables agree.
    Verify(IntegrityArgs),
    /// Repairs a damaged index: redb's recovery, else a rebuild from the readable documents
    /// (the damaged file is kept beside it).
    #[command(after_help = "Example:\n  storyprint index repair --index my-index")]
    Repair(IntegrityArgs),
}

/// `storyprint index add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Engine settings: used when the index is created; an existing index keeps its own and
    /// refuses incompatible ones.
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    location: IndexLocation,
    /// Documents per transaction: each batch is committed (and reported) whole.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    batch_size: usize,
    /// Bulk load: do not check each document against the index first (faster; the
    /// duplicates count stays 0).
    #[arg(long)]
    no_duplicate_count: bool,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    format: IndexFormat,
}

/// `storyprint index stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    location: IndexLocation,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    format: IndexFormat,
}

/// `storyprint index remove`.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Ids to remove.
    #[arg(required = true, value_name = "ID")]
    ids: Vec<String>,
    #[command(flatten)]
    location: IndexLocation,
}

/// `storyprint index expire`.
#[derive(Debug, Args)]
pub struct ExpireArgs {
    /// Remove documents added longer ago than this: a number and a unit, s, m, h, d or w
    /// (`30d`, `12h`).
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    older_than: u64,
    #[command(flatten)]
    location: IndexLocation,
}

/// `storyprint index verify` and `storyprint index repair`.
#[derive(Debug, Args)]
pub struct IntegrityArgs {
    #[command(flatten)]
    location: IndexLocation,
}

/// `storyprint check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    location: IndexLocation,
    /// Similarity at or above which a document is related (default: the index's). The
    /// index's LSH bands were cut for its own threshold: far lower values lose recall.
    #[arg(long, short, value_name = "T")]
    threshold: Option<f64>,
    /// The lowest level that makes a duplicate: copy, rewrite or related (default: the
    /// index's, rewrite). Related matches below it are listed, and the draft is new.
    #[arg(long, value_name = "LEVEL")]
    level: Option<Level>,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    format: IndexFormat,
    /// Add each document that is not a duplicate, atomically with its check.
    #[arg(long)]
    add: bool,
    /// The id of the (single) document checked, instead of its file name (`-` for stdin).
    #[arg(long, value_name = "ID")]
    id: Option<String>,
}

/// Parses `30d`, `12h`, `90m`, `45s`, `2w` into seconds.
fn parse_age(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number and a unit, as 30d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" | "" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("{text:?}: unit must be s, m, h, d or w")),
    };
    Ok(number.saturating_mul(seconds))
}

impl IndexCommand {
    fn location(&self) -> &IndexLocation {
        match self {
            IndexCommand::Add(args) => &args.location,
            IndexCommand::Stats(args) => &args.location,
            IndexCommand::Remove(args) => &args.location,
            IndexCommand::Expire(args) => &args.location,
            IndexCommand::Verify(args) | IndexCommand::Repair(args) => &args.location,
        }
    }
}

/// Runs `storyprint index …`; a damaged index is an error, never a crash ([`guarded`]).
pub fn index(args: IndexArgs) -> anyhow::Result<u8> {
    let path = args.command.location().path();
    guarded(&path, || run_index(args))
}

fn run_index(args: IndexArgs) -> anyhow::Result<u8> {
    match args.command {
        IndexCommand::Add(args) => add(args),
        IndexCommand::Stats(args) => stats(args),
        IndexCommand::Remove(args) => {
            let index = args.location.open_existing()?;
            let missing = index.remove(&args.ids)?;
            for id in &missing {
                eprintln!("storyprint: warning: no document {id:?} in the index");
            }
            println!("removed {}", args.ids.len() - missing.len());
            Ok(EXIT_OK)
        }
        IndexCommand::Expire(args) => {
            let index = args.location.open_existing()?;
            let removed = index.expire(unix_now().saturating_sub(args.older_than))?;
            println!("removed {removed}");
            Ok(EXIT_OK)
        }
        IndexCommand::Verify(args) => {
            let mut index = args.location.open_to_read()?;
            let report = index.check_integrity()?;
            println!(
                "ok: {} documents, {} band entries, {} document frequencies",
                report.documents, report.band_entries, report.terms
            );
            Ok(EXIT_OK)
        }
        IndexCommand::Repair(args) => {
            let path = args.location.path();
            let report = repair(&path, Duration::from_secs(args.location.wait))
                .with_context(|| format!("repairing the index {}", path.display()))?;
            let documents = report.documents;
            match report.outcome {
                RepairOutcome::Sound => println!("sound: {documents} documents, nothing to do"),
                RepairOutcome::Recovered { kept_as } => println!(
                    "recovered: the store was repaired, {documents} documents verify; the \
                     damaged file is kept as {}",
                    kept_as.display()
                ),
                RepairOutcome::Rebuilt { kept_as } => println!(
                    "rebuilt from {documents} readable document(s); the damaged file is kept \
                     as {}",
                    kept_as.display()
                ),
            }
            Ok(EXIT_OK)
        }
    }
}

fn add(args: AddArgs) -> anyhow::Result<u8> {
    anyhow::ensure!(args.batch_size > 0, "--batch-size must be at least 1");
    let config = args.engine.config()?;
    // An existing index keeps its settings; only settings asked for explicitly must agree.
    let expect = (config != Config::default()).then(|| config.clone());
    let index = args.location.open(OpenOptions {
        expect,
        ..OpenOptions::create(config)
    })?;
    let mut batch = load(&args.input, None)?;
    batch.documents.retain(|doc| {
        let fits = doc.id.len() <= MAX_ID_BYTES;
        if !fits {
            eprintln!(
                "storyprint: warning: {}: id of {} bytes (over {MAX_ID_BYTES}), skipped",
                doc.origin,
                doc.id.len()
            );
        }
        fits
    });
    let total = batch.documents.len();
    let mut counts = AddCounts::default();
    let mut done = 0;
    for chunk in batch.documents.chunks(args.batch_size) {
        let options = AddOptions {
            find_duplicates: !args.no_duplicate_count,
            ..AddOptions::now()
        };
        let outcomes = index.add(chunk, &options)?;
        counts.tally(&outcomes);
        done += chunk.len();
        // Printed only once the transaction is durable: what a crash can no longer lose.
        eprintln!(
            "storyprint: committed {done}/{total} document(s) (through {:?})",
            chunk.last().map_or("", |d| d.id.as_str())
        );
    }
    let mut out = open_output(None)?;
    match args.format {
        IndexFormat::Json => writeln!(out, "{}", serde_json::to_string(&counts)?)?,
        IndexFormat::Table => {
            writeln!(out, "new         {}", counts.new)?;
            writeln!(out, "replaced    {}", counts.replaced)?;
            writeln!(out, "unchanged   {}", counts.unchanged)?;
            writeln!(
                out,
                "duplicates  {} (of documents already indexed)",
                counts.duplicates
            )?;
        }
    }
    out.commit()?;
    Ok(EXIT_OK)
}

fn stats(args: StatsArgs) -> anyhow::Result<u8> {
    let index = args.location.open_to_read()?;
    let stats = index.stats()?;
    let mut out = open_output(None)?;
    match args.format {
        IndexFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&stats)?)?,
        IndexFormat::Table => {
            let c = &stats.config;
            writeln!(out, "index          {}", stats.path.display())?;
            writeln!(out, "format         {}", stats.format_version)?;
            writeln!(out, "documents      {}", stats.documents)?;
            writeln!(out, "terms          {}", stats.terms)?;
            writeln!(out, "band entries   {}", stats.band_entries)?;
            writeln!(out, "file bytes     {}", stats.file_bytes)?;
            let time = |t: Option<u64>| t.map_or("-".to_string(), |t| t.to_string());
            writeln!(out, "oldest added   {}", time(stats.oldest))?;
            writeln!(out, "newest added   {}", time(stats.newest))?;
            writeln!(
                out,
                "settings       features {}; weighting {:?}; {:?} >= {}; K = {}; LSH {} bands x {} \
                 rows, >= {} hit(s)",
                c.features,
                c.weighting,
                c.measure,
                c.threshold,
                c.num_hashes,
                stats.bands,
                stats.rows,
                stats.min_hits
            )?;
        }
    }
    out.commit()?;
    Ok(EXIT_OK)
}

/// Runs `storyprint check`: exit 1 when any document has a duplicate in the index; a damaged
/// index is an error, never a crash ([`guarded`]).
pub fn check(args: CheckArgs) -> anyhow::Result<u8> {
    let path = args.location.path();
    guarded(&path, || run_check(args))
}

fn run_check(args: CheckArgs) -> anyhow::Result<u8> {
    let mut batch = load(&args.input, None)?;
    if let Some(id) = &args.id {
        anyhow::ensure!(
            batch.documents.len() == 1,
            "--id names one document, but {} were read",
            batch.documents.len()
        );
        batch.documents[0].id = id.clone();
    }
    let options = OpenOptions::create(Config::default()).any_settings();
    let index = args.location.open(match args.add {
        true => options,
        false => options.read_only(),
    })?;
    let mut out = open_output(None)?;
    if args.format == IndexFormat::Table {
        writeln!(
            out,
            "{:<40} {:<10} {:>10} {:<8} match",
            "document", "verdict", "similarity", "level"
        )?;
    }
    let level = args.level.unwrap_or(index.config().level);
    let mut any_duplicate = false;
    for doc in &batch.documents {
        let (matches, added) = if args.add {
            index.check_and_add(doc, args.threshold, Some(level), unix_now())?
        } else {
            (index.check(&doc.text, Some(&doc.id), args.threshold)?, None)
        };
        let duplicate = duplicate_at(&matches, level);
        any_duplicate |= duplicate;
        write_verdict(&mut out, &doc.id, duplicate, &matches, added, args.format)?;
    }
    out.commit()?;
    Ok(if any_duplicate {
        EXIT_DUPLICATE
    } else {
        EXIT_OK
    })
}

/// One document's verdict, as a table row per match or a JSON line.
fn write_verdict(
    out: &mut dyn Write,
    id: &str,
    duplicate: bool,
    matches: &[Match],
    added: Option<storyprint::index::AddStatus>,
    format: IndexFormat,
) -> anyhow::Result<()> {
    match format {
        IndexFormat::Json => {
            let matches: Vec<_> = matches
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "id": m.id,
                        "similarity": round4(m.similarity),
                        "story": m.story.map(round4),
                        "level": m.level,
                    })
                })
                .collect();
            let mut line = serde_json::json!({
                "id": id,
                "duplicate": duplicate,
                "matches": matches,
            });
            if let Some(status) = added {
                line["added"] = serde_json::to_value(status)?;
            }
            writeln!(out, "{line}")?;
        }
        IndexFormat::Table => {
            let verdict = match (duplicate, added) {
                (true, _) => "duplicate",
                (false, Some(_)) => "new, added",
                (false, None) => "new",
            };
            let id = short(&terminal_text(id), 40);
            if matches.is_empty() {
                writeln!(out, "{id:<40} {verdict:<10} {:>10} {:<8} -", "-", "-")?;
            }
            for m in matches {
                writeln!(
                    out,
                    "{id:<40} {verdict:<10} {:>10.4} {:<8} {}",
                    m.similarity,
                    m.level.name(),
                    terminal_text(&m.id)
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_age;

    #[test]
    fn ages_parse_with_units() {
        assert_eq!(parse_age("30d"), Ok(30 * 86_400));
        assert_eq!(parse_age("12h"), Ok(12 * 3600));
        assert_eq!(parse_age("2w"), Ok(14 * 86_400));
        assert_eq!(parse_age("45s"), Ok(45));
        assert!(parse_age("d").is_err());
        assert!(parse_age("3y").is_err());
    }
}
