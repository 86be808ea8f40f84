//! What the dedup runners share: the settings of a run ([`Dedup`]), what it reports while it
//! works ([`Observer`], [`Pass`]) and when it is done ([`Summary`]), and where it writes
//! ([`Outputs`]), and the reads they make: the chunked, input-ordered read of the inputs
//! (`read`) and the writing read that ends a run (`write`). The streaming runner
//! ([`crate::dedup`]) and the dataflow runner (`dist`, feature `dist`) take the same settings
//! and write the same outputs through it, so neither imports the other.

use std::io::Write;
use std::path::PathBuf;

pub(crate) mod read;
#[cfg(test)]
mod tests;
pub(crate) mod write;

use crate::config::Config;
use crate::input::{InputOptions, Problem};
use crate::keep::Keep;
use crate::verdict::Window;

/// The passes over the input, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Counting document frequencies (IDF weighting only).
    Frequencies,
    /// Computing signatures.
    Signatures,
    /// Recomputing the feature sets of the documents in candidate pairs (exact verification).
    Verifying,
    /// Writing the kept documents.
    Writing,
}

impl Pass {
    /// A short name for progress lines.
    pub fn name(self) -> &'static str {
        match self {
            Pass::Frequencies => "frequencies",
            Pass::Signatures => "signatures",
            Pass::Verifying => "verifying",
            Pass::Writing => "writing",
        }
    }
}

/// What a dedup run reports while it works; the CLI prints it. Every method has a default
/// that ignores the event.
pub trait Observer {
    /// A skipped document or unreadable path (reported in the first pass only).
    fn problem(&mut self, _problem: &Problem) {}
    /// A warning about an id: a repeated one renamed, or an id field that is not a string or
    /// a number (first pass only).
    fn renamed(&mut self, _warning: &str) {}
    /// A pass starts; `total` is the number of documents when known.
    fn start(&mut self, _pass: Pass, _total: Option<u64>) {}
    /// Documents and text bytes read so far in the current pass.
    fn progress(&mut self, _docs: u64, _bytes: u64) {}
    /// The current pass is over.
    fn finish(&mut self) {}
    /// A warning about the documents read, such as those without features.
    fn warning(&mut self, _warning: &str) {}
}

/// An observer that ignores everything.
impl Observer for () {}

/// What a dedup run did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Documents read.
    pub documents: u64,
    /// Documents skipped (bad lines, unreadable files).
    pub skipped: u64,
    /// Text bytes read (one pass).
    pub bytes: u64,
    /// LSH candidate pairs.
    pub candidates: u64,
    /// Candidate pairs at or above the threshold.
    pub verified: u64,
    /// Documents written.
    pub kept: u64,
    /// Documents removed.
    pub removed: u64,
    /// Bytes written to spill files (0: everything stayed in memory).
    pub spilled: u64,
}

/// Where a dedup run writes.
pub struct Outputs<'a> {
    /// The kept documents' lines.
    pub unique: &'a mut dyn Write,
    /// TSV `removed_id`, `kept_id`, `similarity`, `story`, `level`: one line per removed
    /// document (ids escaped by [`crate::output::tsv_field`], as in every TSV; story and level empty when
    /// the run does not judge levels, [`Dedup::judges_levels`]).
    pub removed: Option<&'a mut dyn Write>,
    /// TSV `a`, `b`, `similarity`, `story`, `level`: every verified pair at the level (what
    /// the removals were chosen from), sorted by document.
    pub pairs: Option<&'a mut dyn Write>,
}

/// Settings of a dedup run.
#[derive(Debug, Clone)]
pub struct Dedup {
    /// The engine configuration (`exact` is ignored: see `verify_exact`).
    pub config: Config,
    /// Judge candidate pairs by their exact similarity, from the feature sets of the documents
    /// in candidate pairs, recomputed from their text: in the writing read for
    /// [`Keep::First`] in memory, in an extra read otherwise; `false`: by the estimate from
    /// the signatures (noisier near the threshold).
    pub verify_exact: bool,
    /// How inputs are read.
    pub input: InputOptions,
    /// Which document of a group is kept.
    pub keep: Keep,
    /// Documents sketched per parallel chunk (bounds the text held in memory: about three
    /// chunks are in flight); `None`: [`CHUNK_DOCS_PER_THREAD`] for each thread of the rayon
    /// pool the run is in, up to [`CHUNK_THREADS`] threads.
    pub chunk_docs: Option<usize>,
    /// Bytes the run may take: the per-document state (signatures, band keys, candidate
    /// pairs) spills to sorted runs on disk once it outgrows half of them, and the spilled
    /// run's buffers share them with what it holds per document; `None`: no limit, all in
    /// memory.
    pub memory: Option<u64>,
    /// The directory spill files go in (a fresh directory inside it, removed at the end).
    pub temp_dir: PathBuf,
    /// With a time field ([`InputOptions::time_field`]): documents further apart in time are
    /// at most related, so a run at copy or rewrite never removes one for the other.
    pub window: Window,
}

/// Documents per chunk by default, per thread of the pool: a few MB of text. Each chunk costs
/// a hand-over to the pool and a wait for its last piece, so a chunk grows with the threads
/// sharing it. At 1 M documents (classic preset, `--exact`), two threads: 6.72 s with chunks
/// of 2,048, 6.33 s with 4,096, 6.40 s with 8,192; one thread: 11.91 s with 2,048, 12.12 s
/// with 4,096 (medians of four alternating runs).
pub const CHUNK_DOCS_PER_THREAD: usize = 2048;

/// Threads a default chunk grows with, at most: beyond, the text in flight (about three
/// chunks) would grow with the machine rather than with the work (32,768 documents of 3 KB
/// are already some 300 MB of it).
pub const CHUNK_THREADS: usize = 16;

impl Dedup {
    /// Settings with the default keep rule and chunk size.
    pub fn new(config: Config, input: InputOptions) -> Dedup {
        Dedup {
            config,
            input,
            keep: Keep::First,
            chunk_docs: None,
            verify_exact: false,
            memory: None,
            temp_dir: std::env::temp_dir(),
            window: Window::DEFAULT,
        }
    }

    /// Documents per chunk ([`Dedup::chunk_docs`]), taken from the pool the run is in rather
    /// than the one current when the settings were made.
    pub(crate) fn chunk_docs(&self) -> usize {
        let threads = rayon::current_num_threads().clamp(1, CHUNK_THREADS);
        self.chunk_docs
            .unwrap_or(CHUNK_DOCS_PER_THREAD * threads)
            .max(1)
    }
}
