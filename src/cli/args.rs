//! Flags shared by every command, and their translation into the engine's [`Config`].

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use storyprint::config::{self, Config, Features, Language, Measure, Overrides, Weighting};
use storyprint::input::InputOptions;
use storyprint::verdict::{Level, Window};

/// Where documents come from.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files or directories to read (`-` for standard input). `.txt`/`.md` files are one
    /// document each; `.jsonl`/`.jsonl.gz`/`.jsonl.zst` files one per line, `.parquet` files
    /// one per row; directories are walked.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// JSONL field (Parquet column) holding the document id.
    #[arg(long, default_value = "id", help_heading = "Input")]
    pub id_field: String,
    /// JSONL field (Parquet column) holding the document text.
    #[arg(long, default_value = "text", help_heading = "Input")]
    pub text_field: String,
    /// Skip (with a warning) documents larger than this many bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024, help_heading = "Input")]
    pub max_doc_bytes: u64,
    /// Read standard input as JSONL rather than as one text document.
    #[arg(long, help_heading = "Input")]
    pub stdin_jsonl: bool,
    /// Exit with status 2 if any document was skipped.
    #[arg(long, help_heading = "Input")]
    pub strict: bool,
}

impl InputArgs {
    /// The library's input options.
    pub fn options(&self) -> InputOptions {
        InputOptions {
            id_field: self.id_field.clone(),
            text_field: self.text_field.clone(),
            max_doc_bytes: self.max_doc_bytes,
            stdin_jsonl: self.stdin_jsonl,
            time_field: None,
        }
    }
}

/// Documents' times, for the commands that judge levels: pairs further apart are at most
/// related.
#[derive(Debug, Args)]
pub struct TimeArgs {
    /// JSONL field (Parquet column) holding each document's time: RFC 3339
    /// (2026-12-07T06:54:00Z), RFC 2822, Unix seconds, or D-MON-YYYY HH:MM:SS. A document
    /// without a usable one is processed untimed, with a warning.
    #[arg(long, value_name = "FIELD", help_heading = "Time")]
    pub time_field: Option<String>,
    /// With --time-field: documents further apart than this (72h, 3d, 90m, 3600s) are at most
    /// related, never a rewrite or a copy of each other.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "72h",
        requires = "time_field",
        help_heading = "Time"
    )]
    pub window: Window,
}

impl TimeArgs {
    /// The input options of `input`, reading the time field.
    pub fn options(&self, input: &InputArgs) -> InputOptions {
        InputOptions {
            time_field: self.time_field.clone(),
            ..input.options()
        }
    }
}

/// A named starting configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// storyprint's defaults: IDF-weighted stems, containment (catches rewrites).
    Default,
    /// What the peer tools ship: raw word 5-grams, 128 unweighted hashes, Jaccard 0.7.
    Classic,
}

/// Feature weighting on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WeightingArg {
    /// Every feature weighs 1.
    None,
    /// Inverse document frequency of the feature's stems.
    Idf,
}

/// Similarity measure on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MeasureArg {
    /// |A ∩ B| / |A ∪ B|.
    Jaccard,
    /// |A ∩ B| / min(|A|, |B|).
    Containment,
    /// |A ∩ B| / sqrt(|A| |B|).
    Cosine,
}

/// The inputs and the engine settings: what every command that signs a corpus takes.
#[derive(Debug, Args)]
pub struct CorpusArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Fingerprint and similarity settings: a preset, then overrides.
#[derive(Debug, Args)]
pub struct EngineArgs {
    /// Starting configuration; the flags below override it.
    #[arg(long, value_enum, default_value = "default", help_heading = "Engine")]
    pub preset: Preset,
    /// Feature families, e.g. `stems:1,stems:2,facts*2` (families: stems:N, words:N, chars:N,
    /// facts; `*W` multiplies a family's weights).
    #[arg(long, value_name = "SPEC", help_heading = "Engine")]
    pub features: Option<Features>,
    /// Feature weighting.
    #[arg(long, value_enum, help_heading = "Engine")]
    pub weighting: Option<WeightingArg>,
    /// MinHash values per signature (K).
    #[arg(long, value_name = "K", help_heading = "Engine")]
    pub hashes: Option<usize>,
    /// Similarity measure.
    #[arg(long, value_enum, help_heading = "Engine")]
    pub measure: Option<MeasureArg>,
    /// Similarity at or above which two documents are the same story.
    #[arg(long, short, value_name = "T", help_heading = "Engine")]
    pub threshold: Option<f64>,
    /// The lowest level that counts as a match: copy (the same text), rewrite (the same news
    /// item told again) or related (the same subject). Default: rewrite (`dedup`: copy;
    /// related with `--preset classic`).
    #[arg(long, value_name = "LEVEL", help_heading = "Engine")]
    pub level: Option<Level>,
    /// Verify and report exact similarities from the feature sets (the default preset's
    /// behaviour; signatures only propose candidates).
    #[arg(long, help_heading = "Engine", conflicts_with = "estimate")]
    pub exact: bool,
    /// Report similarities estimated from signatures alone (faster, noisier at low values).
    #[arg(long, help_heading = "Engine")]
    pub estimate: bool,
    /// Stemming language (stop words are English-only).
    #[arg(long, value_name = "LANG", help_heading = "Engine")]
    pub language: Option<Language>,
    /// Keep stop words in stem shingles.
    #[arg(long, help_heading = "Engine")]
    pub keep_stop_words: bool,
    /// Judge pairs on their features alone, without the fact-agreement check (numbers in the
    /// same contexts must agree).
    #[arg(long, help_heading = "Engine")]
    pub no_fact_check: bool,
    /// Keep page chrome (short navigation lines, link lists).
    #[arg(long, help_heading = "Engine")]
    pub keep_chrome: bool,
    /// Documents with fewer content words than N are statements, fingerprinted by their words
    /// and compared with each other as sentences (0: off; default 20).
    #[arg(long, value_name = "N", help_heading = "Engine")]
    pub statement_words: Option<usize>,
    /// Hash seed (signatures made with different seeds do not compare).
    #[arg(long, help_heading = "Engine")]
    pub seed: Option<u64>,
    /// Print the configuration and LSH figures (bands, candidates per document) on stderr.
    #[arg(long, short, help_heading = "Engine")]
    pub verbose: bool,
    /// Worker threads (default: all cores; at most 4 per core and 1,024). Output is the same
    /// for any number. `dedup` reads (and decompresses) on threads of its own besides.
    #[arg(long, short = 'j', help_heading = "Engine")]
    pub threads: Option<usize>,
}

/// The most worker threads `-j` starts, whatever the machine.
const MAX_THREADS: usize = 1024;

/// Worker threads per core `-j` may ask for: more only add memory and switching.
const THREADS_PER_CORE: usize = 4;

impl EngineArgs {
    /// Starts the global thread pool with `--threads` workers (rayon's default otherwise),
    /// lowered with a note to [`THREADS_PER_CORE`] per core, at most [`MAX_THREADS`].
    pub fn start_threads(&self) -> Result<(), rayon::ThreadPoolBuildError> {
        let Some(asked) = self.threads else {
            return Ok(());
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cap = cores.saturating_mul(THREADS_PER_CORE).min(MAX_THREADS);
        if asked > cap {
            eprintln!(
                "storyprint: note: -j {asked} lowered to {cap} ({THREADS_PER_CORE} per core, at \
                 most {MAX_THREADS})"
            );
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(asked.min(cap))
            .build_global()
    }

    /// The validated engine configuration, at `level` unless `--level` or `--preset classic`
    /// says otherwise (a command whose default level is not the engine's).
    pub fn config_at(&self, level: Level) -> storyprint::Result<Config> {
        self.overrides().config_at(level)
    }

    /// The validated engine configuration.
    pub fn config(&self) -> storyprint::Result<Config> {
        self.overrides().config()
    }

    /// The settings as the library takes them.
    fn overrides(&self) -> Overrides {
        let exact = if self.estimate {
            Some(false)
        } else {
            self.exact.then_some(true)
        };
        Overrides {
            preset: match self.preset {
                Preset::Default => config::Preset::Default,
                Preset::Classic => config::Preset::Classic,
            },
            features: self.features.clone(),
            weighting: self.weighting.map(|w| match w {
                WeightingArg::None => Weighting::None,
                WeightingArg::Idf => Weighting::Idf,
            }),
            hashes: self.hashes,
            measure: self.measure.map(|m| match m {
                MeasureArg::Jaccard => Measure::Jaccard,
                MeasureArg::Containment => Measure::Containment,
                MeasureArg::Cosine => Measure::Cosine,
            }),
            threshold: self.threshold,
            level: self.level,
            exact,
            language: self.language,
            keep_stop_words: self.keep_stop_words,
            no_fact_check: self.no_fact_check,
            keep_chrome: self.keep_chrome,
            statement_words: self.statement_words,
            seed: self.seed,
        }
    }
}
