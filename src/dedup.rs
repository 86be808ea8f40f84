//! Dedup: streams a corpus of any size, removes near-duplicates, and writes every kept
//! document's original line unchanged.
//!
//! Memory holds one signature per document (plus its length with `--keep longest`), never the
//! text, and features only for the documents in candidate pairs with exact verification, so
//! the corpus is read in passes. With a memory budget
//! ([`Dedup::memory`]) the signatures, band keys and candidate pairs move to disk once they
//! outgrow it (see *Beyond memory* below).
//!
//! 1. *(IDF weighting only)* document frequencies: the weights of the features depend on the
//!    whole corpus, so they are counted in a pass of their own (memory: the vocabulary).
//! 2. Signatures, in chunks of documents sketched in parallel with rayon.
//! 3. LSH candidates by sorting band keys ([`Banding::candidates`]); each candidate pair is
//!    verified by [`similarity_of`] as every command is, from the *estimated* similarity (the
//!    feature sets are not kept, so [`Config::exact`] does not apply) and, with
//!    [`Config::fact_check`], the documents' fact slots (kept per document: a few bytes per
//!    number); a greedy pass in keep order decides what stays.
//! 4. The inputs are read again and the kept lines written in input order.
//!
//! Exact verification ([`Dedup::verify_exact`]) recomputes the feature sets of the documents
//! in candidate pairs from the text. For [`Keep::First`] in memory it does so in the writing
//! read, deciding each chunk's documents before writing them ([`Streaming`]): one read of the
//! inputs fewer. Otherwise (the keep order is not the input order, or the pairs are on disk)
//! it takes a read of its own between steps 3 and 4.
//!
//! **Levels.** Above [`Level::Related`] (`config.level`), a verified pair must also reach the
//! level ([`crate::verdict`]): the run verifies exactly, contrasts the documents in verified
//! pairs with their candidates ([`Levels`]), and removes only what is a copy (or a rewrite).
//! The streaming verification does not apply then: a document's later neighbours are needed.
//!
//! **The keep rule.** Documents are visited in keep order: input order for
//! [`Keep::First`], longest text first for [`Keep::Longest`] (ties: input order). A document
//! is removed when it has a verified pair with a document already kept; it names the kept
//! document it is most similar to (ties: earliest in keep order) and that similarity.
//! Otherwise it is kept. So every removed document duplicates a kept one *directly*, never
//! through a chain (A ~ B ~ C with A and C unalike keeps A and C), and a removal can always
//! be checked by comparing the two documents named in `removed.tsv`.
//!
//! **Beyond memory.** While the state that the in-memory path holds per document (the
//! signature, its slots, and the band keys LSH sorts) fits the budget, nothing changes. When
//! it would not, the signatures seen so far and every later one are written to a
//! [`SignatureTable`] on disk, and each document's band entries go to sorted runs
//! ([`SortedRuns`]); LSH merges them k ways, bucket by bucket, and writes each bucket's pair
//! keys to runs of their own, whose merge counts the bands each pair collides in. The
//! candidate pairs come out in the same order as from [`Banding::candidates`] and are
//! verified in batches that read their two signatures back by position, so the output is
//! byte-identical to the in-memory path's for any budget. What stays in memory per
//! document: the keep pass's arrays, the verified pairs, and, during the first read, the
//! input's map of ids (later reads rename ids from the first read's [`Layout`]).
//!
//! Every step is in a fixed order, so the output is identical for any thread count.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;
use std::path::PathBuf;

use ahash::AHashMap;
use rayon::prelude::*;

use crate::config::{Config, Weighting};
use crate::error::{Error, Result};
use crate::features::{DocFreq, Feature, Slot, WordIdf, fact_slots, fast_features, features};
use crate::input::{InputOptions, Problem, Raw, Reader, Record, read_once};
use crate::lsh::{
    Banding, PairCounter, bucket_pairs, is_live, pair_key, split_band_entry, split_pair_key,
};
use crate::normalize::normalize;
use crate::output::tsv_field;
use crate::pipeline::{Evidence, Featureless, lsh_threshold, similarity_of};
use crate::pool::Pool;
use crate::signature::{Signature, SketchBuffers, Sketcher, fast_sketch, sketch_features};
use crate::spill::{FixedRecord, ListFile, Run, RunWriter, SignatureTable, SortedRuns, SpillDir};
use crate::tokenize::{Analyzer, TermRef};
use crate::verdict::Level;

mod levels;
pub use levels::Levels;

/// The level dedup removes at unless told otherwise: the lowest whose precision on the
/// Reuters audit (`tests/audit/`) is at least 0.95, so that a distinct story is not lost.
pub const DEFAULT_LEVEL: Level = Level::Copy;

/// Which document of a group of duplicates is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Keep {
    /// The first in input order.
    #[default]
    First,
    /// The one with the longest text (in bytes); ties: the first in input order.
    Longest,
}

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

/// A removed document, the kept document it duplicates, and their similarity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Removal {
    /// Index of the removed document, in input order.
    pub removed: u32,
    /// Index of the kept document.
    pub kept: u32,
    /// Their similarity under the configured measure (estimated, or exact with
    /// [`Dedup::verify_exact`]).
    pub similarity: f64,
}

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
    /// document (ids escaped by [`tsv_field`], as in every TSV; story and level empty when
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
    /// Bytes the per-document state (signatures, band keys, candidate pairs) may take in
    /// memory before it spills to sorted runs on disk; `None`: no limit, all in memory.
    pub memory: Option<u64>,
    /// The directory spill files go in (a fresh directory inside it, removed at the end).
    pub temp_dir: PathBuf,
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

/// Documents per piece of a chunk that one thread processes, at most. A piece runs to its
/// end on the thread that took it, so the other threads may wait for the chunk's last one:
/// rayon's own pieces (a quarter of a chunk on two threads) left them idle for 4 % of the
/// signature pass at 1 M documents, two threads; smaller pieces cost one state each.
const PIECE_DOCS: usize = 64;

/// A verified pair: two documents (input order, `a < b`) and their similarity (estimated, or
/// exact with [`Dedup::verify_exact`]).
pub type Edge = (u32, u32, f64);

/// How a pass reads the inputs (see [`Dedup::for_each_chunk`]).
#[derive(Clone, Copy)]
struct Reading<'a> {
    pass: Pass,
    /// Documents expected, when known (for the progress bar).
    total: Option<u64>,
    /// Report problems and renamed ids (the first pass does).
    report: bool,
    /// Hand the records' lines ([`Record::line`]) to `consume`; otherwise ids only. Either way
    /// a JSONL record's text is dropped once processed: its line holds it.
    keep_lines: bool,
    /// The first read's [`Layout`]: a later read of the same inputs numbers its documents
    /// before they are parsed (`process` knows which one it has) and renames ids from it.
    layout: Option<&'a Layout>,
}

impl Reading<'_> {
    /// A later read (problems were reported by the first).
    fn again(
        pass: Pass,
        total: Option<u64>,
        keep_lines: bool,
        layout: Option<&Layout>,
    ) -> Reading<'_> {
        Reading {
            pass,
            total,
            report: false,
            keep_lines,
            layout,
        }
    }
}

/// What a read of the inputs found.
struct Found {
    /// Documents.
    docs: u64,
    /// Their text bytes.
    bytes: u64,
    /// Documents skipped for a problem (notes excluded).
    skipped: u64,
    /// Where the documents were (recorded by a read without a layout).
    layout: Layout,
    /// A later read found a document where the first found none, or the reverse: the inputs
    /// changed between the reads, and the read stopped there.
    changed: bool,
}

impl Found {
    /// An error unless this later read found the first read's `n` documents where it found
    /// them.
    fn same_as_first(&self, n: usize) -> Result<()> {
        if self.changed {
            return Err(Error::Config(format!(
                "the inputs changed while being read: after {} documents a later read found a \
                 document where the first read found none, or none where it found one",
                self.docs
            )));
        }
        if self.docs != n as u64 {
            return Err(Error::Config(format!(
                "the inputs changed while being read: {n} documents in the first read, {} in a \
                 later one",
                self.docs
            )));
        }
        Ok(())
    }
}

/// Where the documents are among the items the reader gives, and which ids were renamed: the
/// same in every read of unchanged inputs, so a later read need not parse a line to number
/// its document, nor remember every id to rename the repeated ones.
#[derive(Default)]
struct Layout {
    /// The places, in the order the reader gives them, of the items that were not documents
    /// (problems).
    gaps: Vec<u64>,
    /// The documents whose repeated id was renamed, with the suffix renaming appended, in
    /// order.
    renamed: Vec<(usize, String)>,
}

/// The documents a later read recomputes exact feature sets for, by number, and how.
struct Recompute<'a> {
    /// The exact configuration.
    config: &'a Config,
    freq: &'a DocFreq,
    wanted: &'a (dyn Fn(usize) -> bool + Sync),
    /// Analyzers for `config`'s language, lent to the read's jobs.
    analyzers: &'a Pool<Analyzer>,
}

/// A parsed chunk: each item's number when the read numbers documents, and its record with
/// what `process` made of it and its text's length, or why it was skipped (see
/// [`Dedup::for_each_chunk`]).
type Parsed<T> = Vec<(
    Option<usize>,
    std::result::Result<(Record, T, u64), Problem>,
)>;

/// Candidate pairs verified per batch on the spill path.
const VERIFY_BATCH: usize = 1 << 16;

/// Per-document state kept between the passes.
struct Sketches {
    /// Documents sketched.
    n: usize,
    /// The signature pass's [`Layout`].
    layout: Layout,
    lengths: Vec<u32>,
    store: Store,
    /// Estimated bytes the in-memory store holds.
    held: u64,
    /// The documents without features, each with the key of its normalized text
    /// ([`featureless_pairs`]).
    featureless: Vec<(u128, u32)>,
}

/// Where the signatures (and fact slots) are.
enum Store {
    Memory {
        signatures: Vec<Signature>,
        /// Fact slots per document, only with `config.fact_check`.
        slots: Vec<Vec<Slot>>,
    },
    Disk(Box<Spilled>),
}

/// The state of a run that outgrew its memory budget.
struct Spilled {
    /// Removed with its files when the run ends.
    dir: SpillDir,
    table: SignatureTable,
    band_entries: SortedRuns<u128>,
    /// Bytes of the budget (spill buffers and merges are sized from it).
    budget: u64,
}

/// Records of type `T` in half of a budget of `budget` bytes (at least 1024, so that a tiny
/// budget still makes runs of a useful size).
fn run_records<T: FixedRecord>(budget: u64) -> usize {
    usize::try_from(budget / 2 / T::SIZE as u64)
        .unwrap_or(usize::MAX)
        .max(1024)
}

impl Sketches {
    /// Document `i`'s signature and fact slots (none without the fact check): borrowed from
    /// memory, or read from the spill file.
    fn evidence(&self, i: u32) -> Result<(Cow<'_, Signature>, Cow<'_, [Slot]>)> {
        match &self.store {
            Store::Memory { signatures, slots } => Ok((
                Cow::Borrowed(&signatures[i as usize]),
                Cow::Borrowed(slots.get(i as usize).map_or(&[][..], Vec::as_slice)),
            )),
            Store::Disk(spilled) => {
                let (signature, slots) = spilled.table.get(i)?;
                Ok((Cow::Owned(signature), Cow::Owned(slots)))
            }
        }
    }

    /// Bytes written to disk so far.
    fn spilled(&self) -> u64 {
        match &self.store {
            Store::Memory { .. } => 0,
            Store::Disk(spilled) => spilled.dir.written(),
        }
    }
}

/// What the in-memory path holds for one document: its signature (header, values and the
/// allocator's share), its slots, and its band keys while LSH sorts them.
fn held_bytes(k: usize, bands: usize, slots: &[Slot]) -> u64 {
    let signature = std::mem::size_of::<Signature>() + 4 * k + 16;
    let slots = std::mem::size_of::<Vec<Slot>>() + std::mem::size_of_val(slots);
    (signature + slots + 16 * bands) as u64
}

impl Spilled {
    /// Starts spilling into a new directory inside `temp_dir`.
    fn new(temp_dir: &std::path::Path, k: usize, budget: u64) -> Result<Spilled> {
        let mut dir = SpillDir::new(temp_dir)?;
        let table = SignatureTable::new(&mut dir, k)?;
        Ok(Spilled {
            dir,
            table,
            band_entries: SortedRuns::new("bands", run_records::<u128>(budget)),
            budget,
        })
    }

    /// Writes documents `first..` (signatures, band entries, and slots when `slots` has them:
    /// it is empty without the fact check).
    fn add(
        &mut self,
        banding: &Banding,
        first: usize,
        signatures: &[Signature],
        slots: &[Vec<Slot>],
    ) -> Result<()> {
        let entries: Vec<Vec<u128>> = signatures
            .par_iter()
            .enumerate()
            .map(|(i, signature)| banding.band_entries(signature, (first + i) as u32))
            .collect();
        for (i, (signature, entries)) in signatures.iter().zip(entries).enumerate() {
            let doc_slots = slots.get(i).map_or(&[][..], Vec::as_slice);
            self.table.push(signature, doc_slots)?;
            for entry in entries {
                self.band_entries.push(entry, &mut self.dir)?;
            }
        }
        Ok(())
    }

    /// The candidate pairs, as [`Banding::candidates`] gives them, from the band runs: their
    /// merge visits each band's buckets in order; each bucket's pair keys go to runs, whose
    /// merge counts how many bands each pair collides in.
    fn candidates(&mut self, banding: &Banding) -> Result<Candidates> {
        let read_bytes = usize::try_from(self.budget / 4).unwrap_or(usize::MAX);
        let entries = std::mem::replace(&mut self.band_entries, SortedRuns::new("bands", 1));
        let mut pair_keys = SortedRuns::<u64>::new("pairs", run_records::<u64>(self.budget));
        let mut bucket: Vec<(u64, u32)> = Vec::new();
        let mut bucket_band = 0usize;
        let mut keys = Vec::new();
        let mut flush = |bucket: &mut Vec<(u64, u32)>, dir: &mut SpillDir| -> Result<()> {
            bucket_pairs(bucket, |key| keys.push(key));
            bucket.clear();
            for key in keys.drain(..) {
                pair_keys.push(key, dir)?;
            }
            Ok(())
        };
        for entry in entries.finish(&mut self.dir, read_bytes)? {
            let (band, key, doc) = split_band_entry(entry?);
            if bucket
                .first()
                .is_some_and(|&(k, _)| (bucket_band, k) != (band, key))
            {
                flush(&mut bucket, &mut self.dir)?;
            }
            bucket_band = band;
            bucket.push((key, doc));
        }
        flush(&mut bucket, &mut self.dir)?;
        let mut counter = PairCounter::new(banding.min_hits);
        let mut candidates = RunWriter::<u64>::new(&mut self.dir, "candidates")?;
        for key in pair_keys.finish(&mut self.dir, read_bytes)? {
            if let Some((a, b)) = counter.push(key?) {
                candidates.push(pair_key(a, b))?;
            }
        }
        if let Some((a, b)) = counter.finish() {
            candidates.push(pair_key(a, b))?;
        }
        Ok(Candidates::Disk(candidates.finish(&mut self.dir)?))
    }
}

/// The LSH candidate pairs `(a, b)`, `a < b`, sorted: in memory, or in a file on the spill
/// path.
enum Candidates {
    Memory(Vec<(u32, u32)>),
    Disk(Run<u64>),
}

/// The feature sets verification judges by: none (estimated similarity), per document in
/// memory, or on the spill path on disk for the documents in candidate pairs (`index`: each
/// one's document, offset and length in `list`, by document).
enum FeatureSets {
    Estimated,
    Memory(Vec<Vec<Feature>>),
    Disk {
        list: ListFile,
        index: Vec<(u32, u64, u32)>,
    },
}

impl FeatureSets {
    /// Document `i`'s features (none when estimating or when it is in no candidate pair).
    fn get(&self, i: u32) -> Result<Cow<'_, [Feature]>> {
        match self {
            FeatureSets::Estimated => Ok(Cow::Borrowed(&[])),
            FeatureSets::Memory(sets) => Ok(Cow::Borrowed(
                sets.get(i as usize).map_or(&[][..], Vec::as_slice),
            )),
            FeatureSets::Disk { list, index } => match index.binary_search_by_key(&i, |e| e.0) {
                Ok(at) => {
                    let (_, offset, len) = index[at];
                    let items = list.get(offset, len)?;
                    Ok(Cow::Owned(
                        items
                            .into_iter()
                            .map(|(hash, weight)| (hash, f64::from_bits(weight)))
                            .collect(),
                    ))
                }
                Err(_) => Ok(Cow::Borrowed(&[])),
            },
        }
    }

    /// Frees document `i`'s features (in memory; nothing to free otherwise).
    fn release(&mut self, i: u32) {
        if let FeatureSets::Memory(sets) = self {
            sets[i as usize] = Vec::new();
        }
    }

    /// Keeps document `i`'s features (documents come in input order).
    fn insert(&mut self, i: usize, features: Vec<Feature>) -> Result<()> {
        match self {
            FeatureSets::Estimated => Ok(()),
            FeatureSets::Memory(sets) => {
                sets[i] = features;
                Ok(())
            }
            FeatureSets::Disk { list, index } => {
                let items: Vec<(u64, u64)> =
                    features.iter().map(|&(h, w)| (h, w.to_bits())).collect();
                let (offset, len) = list.push(&items)?;
                index.push((i as u32, offset, len));
                Ok(())
            }
        }
    }
}

impl Candidates {
    fn len(&self) -> u64 {
        match self {
            Candidates::Memory(pairs) => pairs.len() as u64,
            Candidates::Disk(run) => run.len(),
        }
    }

    /// Calls `f` on the pairs in order: all at once from memory, in batches of
    /// [`VERIFY_BATCH`] from disk.
    fn for_each_batch(&self, mut f: impl FnMut(&[(u32, u32)]) -> Result<()>) -> Result<()> {
        match self {
            Candidates::Memory(pairs) => f(pairs),
            Candidates::Disk(run) => {
                let mut batch = Vec::with_capacity(VERIFY_BATCH);
                for key in run.read(1 << 16)? {
                    let key = key?;
                    batch.push(split_pair_key(key));
                    if batch.len() == VERIFY_BATCH {
                        f(&batch)?;
                        batch.clear();
                    }
                }
                if batch.is_empty() { Ok(()) } else { f(&batch) }
            }
        }
    }
}

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
        }
    }

    /// Documents per chunk ([`Dedup::chunk_docs`]), taken from the pool the run is in rather
    /// than the one current when the settings were made.
    fn chunk_docs(&self) -> usize {
        let threads = rayon::current_num_threads().clamp(1, CHUNK_THREADS);
        self.chunk_docs
            .unwrap_or(CHUNK_DOCS_PER_THREAD * threads)
            .max(1)
    }

    /// Deduplicates `paths`, writing kept lines, and when asked the removals and the verified
    /// pairs (see [`Outputs`]).
    ///
    /// ```
    /// use storyprint::Config;
    /// use storyprint::dedup::{Dedup, Outputs};
    /// use storyprint::input::InputOptions;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("docs.jsonl");
    /// let story = "the central bank raised its key interest rate by half a point on tuesday";
    /// std::fs::write(&path, format!(
    ///     "{{\"id\":\"a\",\"text\":\"{story}\"}}\n{{\"id\":\"b\",\"text\":\"{story}\",\"x\":1}}\n"
    /// )).unwrap();
    /// let (mut unique, mut removed) = (Vec::new(), Vec::new());
    /// let dedup = Dedup::new(Config::classic(), InputOptions::default());
    /// let outputs = Outputs { unique: &mut unique, removed: Some(&mut removed), pairs: None };
    /// let summary = dedup.run(&[path], outputs, &mut ()).unwrap();
    /// assert_eq!((summary.kept, summary.removed), (1, 1));
    /// assert!(String::from_utf8(unique).unwrap().starts_with("{\"id\":\"a\""));
    /// assert_eq!(
    ///     String::from_utf8(removed).unwrap(),
    ///     "removed_id\tkept_id\tsimilarity\tstory\tlevel\nb\ta\t1.0000\t\t\n"
    /// );
    /// ```
    pub fn run(
        &self,
        paths: &[PathBuf],
        outputs: Outputs<'_>,
        observer: &mut dyn Observer,
    ) -> Result<Summary> {
        self.config.validate()?;
        if let Some(path) = read_once(paths) {
            return Err(Error::Config(format!(
                "dedup reads its inputs twice, so it cannot read standard input or a pipe ({}); \
                 save it to a file first",
                path.display()
            )));
        }
        let mut summary = Summary::default();
        // The frequency pass's analyzers, with every word they stemmed, serve the next pass.
        let analyzers = Pool::default();
        let freq = match self.config.weighting {
            Weighting::Idf => self.frequencies(paths, &analyzers, observer, &mut summary),
            Weighting::None => DocFreq::default(),
        };
        let first_pass = self.config.weighting == Weighting::None;
        let mut sketches =
            self.sketch(paths, &freq, &analyzers, first_pass, observer, &mut summary)?;
        let exact = self.judges_levels() || self.verify_exact;
        // Every verified pair is wanted with --pairs: the twins' shortcut would not list them.
        if !exact
            && outputs.pairs.is_none()
            && let Some((edges, removals)) = Twins::select(self, &sketches, &mut summary)?
        {
            drop(freq);
            let known = Removals::Known {
                edges: &edges,
                removals: &removals,
                levels: None,
            };
            return self.write_known(paths, sketches, known, outputs, observer, summary);
        }
        let candidates = self.candidates(&mut sketches, &mut summary)?;
        let candidates = match candidates {
            Candidates::Memory(pairs)
                if self.verify_exact
                    && !self.judges_levels()
                    && self.keep == Keep::First
                    && featureless_pairs(&sketches, self.keep).is_empty() =>
            {
                let config = self.exact_config();
                let streaming = Streaming::new(config, &freq, &analyzers, &sketches, pairs);
                let removals = Removals::Streaming(Box::new(streaming));
                self.write_pass(paths, removals, None, outputs, observer, &mut summary)?;
                return Ok(summary);
            }
            candidates => candidates,
        };
        let (edges, mut levels) = if exact {
            let features = self.exact_features(
                paths,
                &freq,
                &analyzers,
                &mut sketches,
                &candidates,
                observer,
            )?;
            let config = &self.exact_config();
            let edges = self.verify(&sketches, &candidates, config, &features)?;
            if self.judges_levels() {
                let (edges, levels) =
                    Levels::judge(config, &sketches, &candidates, &features, edges)?;
                (edges, Some(levels))
            } else {
                (edges, None)
            }
        } else {
            let config = &estimating(&self.config);
            let edges = self.verify(&sketches, &candidates, config, &FeatureSets::Estimated)?;
            (edges, None)
        };
        drop(freq);
        drop(candidates);
        if let Some(levels) = &mut levels {
            levels.add_copies(&featureless_pairs(&sketches, self.keep));
        }
        let edges = with_featureless_pairs(edges, &sketches, self.keep);
        let removals = self.select(&sketches, &edges, &mut summary);
        let known = Removals::Known {
            edges: &edges,
            removals: &removals,
            levels: levels.as_ref(),
        };
        self.write_known(paths, sketches, known, outputs, observer, summary)
    }

    /// Whether the run judges each pair's level ([`crate::verdict`]): when it removes only
    /// rewrites or copies (`config.level` above related). It then verifies exactly, whatever
    /// [`Dedup::verify_exact`] says: the story score needs the feature sets.
    pub fn judges_levels(&self) -> bool {
        self.config.level > Level::Related
    }

    /// The writing read once the removals are `known` ([`Dedup::write_pass`]), the sketches
    /// dropped first.
    fn write_known(
        &self,
        paths: &[PathBuf],
        mut sketches: Sketches,
        known: Removals<'_>,
        outputs: Outputs<'_>,
        observer: &mut dyn Observer,
        mut summary: Summary,
    ) -> Result<Summary> {
        summary.spilled = sketches.spilled();
        let layout = std::mem::take(&mut sketches.layout);
        drop(sketches);
        self.write_pass(paths, known, Some(&layout), outputs, observer, &mut summary)?;
        Ok(summary)
    }

    /// Streams the inputs in chunks, in a pipeline of three stages: while the pool parses
    /// chunk *k* and gives each record to `process`, the calling thread reads chunk *k + 1*
    /// and completes chunk *k − 1* in order (repeated ids renamed) and hands its records to
    /// `consume` with what `process` made of them. So neither reading nor `consume` leaves the
    /// pool idle, and the result is the same for any thread count. `process` is given the
    /// document's number when the read has a [`Layout`]. What `consume` does not need of a
    /// record ([`Reading::keep_lines`]) is dropped on the thread that processed it.
    fn for_each_chunk<S, T: Send>(
        &self,
        paths: &[PathBuf],
        read: Reading<'_>,
        observer: &mut dyn Observer,
        init: impl Fn() -> S + Sync + Send,
        process: impl Fn(&mut S, Option<usize>, &Record) -> T + Sync + Send,
        mut consume: impl FnMut(&[Record], Vec<T>),
    ) -> Found {
        observer.start(read.pass, read.total);
        let mut reader = Reader::new(paths, self.input.clone());
        let mut found = Found {
            docs: 0,
            bytes: 0,
            skipped: 0,
            layout: Layout::default(),
            changed: false,
        };
        let chunk_docs = self.chunk_docs();
        // Places of the items read and completed so far, and documents numbered so far.
        let (mut read_items, mut completed_items, mut numbered) = (0u64, 0u64, 0usize);
        let mut gaps = read.layout.map_or(&[][..], |l| &l.gaps).iter().peekable();
        let mut renamed = read
            .layout
            .map_or(&[][..], |l| &l.renamed)
            .iter()
            .peekable();
        let mut next_chunk = |reader: &mut Reader| -> Vec<(Option<usize>, Raw)> {
            let mut number = || {
                let item = read_items;
                read_items += 1;
                read.layout?;
                if gaps.next_if_eq(&&item).is_some() {
                    return None;
                }
                numbered += 1;
                Some(numbered - 1)
            };
            std::iter::from_fn(|| reader.next_raw())
                .take(chunk_docs)
                .map(|raw| (number(), raw))
                .collect()
        };
        let parse = |raws: Vec<(Option<usize>, Raw)>| -> Parsed<T> {
            raws.into_par_iter()
                .with_max_len(PIECE_DOCS)
                .map_init(&init, |state, (doc, raw)| {
                    let parsed = raw.parse(&self.input).map(|mut record| {
                        let made = process(state, doc, &record);
                        let len = record.doc.text.len() as u64;
                        if !read.keep_lines {
                            record.raw = None;
                        }
                        if !read.keep_lines || record.raw.is_some() {
                            record.doc.text = String::new();
                        }
                        (record, made, len)
                    });
                    (doc, parsed)
                })
                .collect()
        };
        let mut chunk: Vec<Record> = Vec::with_capacity(chunk_docs);
        let mut made: Vec<T> = Vec::with_capacity(chunk_docs);
        // Completes a parsed chunk; false once a later read finds the documents elsewhere than
        // the first read did (the inputs changed): nothing more is consumed.
        let mut complete = |reader: &mut Reader, items: Parsed<T>, observer: &mut dyn Observer| {
            for (number, item) in items {
                let doc = (found.docs as usize) + chunk.len();
                if read.layout.is_some() && number != item.as_ref().ok().map(|_| doc) {
                    found.changed = true;
                    return false;
                }
                match item {
                    Ok((mut record, out, len)) => {
                        match read.layout {
                            Some(_) => {
                                if let Some((_, suffix)) = renamed.next_if(|(at, _)| *at == doc) {
                                    record.doc.id.push_str(suffix);
                                }
                            }
                            None => {
                                // Renaming only appends a suffix.
                                let given = record.doc.id.len();
                                record = reader.complete(record);
                                if record.doc.id.len() != given {
                                    let suffix = record.doc.id[given..].to_string();
                                    found.layout.renamed.push((doc, suffix));
                                }
                            }
                        }
                        found.bytes += len;
                        chunk.push(record);
                        made.push(out);
                    }
                    Err(problem) => {
                        if read.report {
                            observer.problem(&problem);
                        }
                        if !problem.is_note() {
                            found.skipped += 1;
                        }
                        if read.layout.is_none() {
                            found.layout.gaps.push(completed_items);
                        }
                    }
                }
                completed_items += 1;
            }
            if read.report {
                for warning in reader.take_renamed() {
                    observer.renamed(&warning);
                }
            }
            found.docs += chunk.len() as u64;
            consume(&chunk, std::mem::take(&mut made));
            chunk.clear();
            observer.progress(found.docs, found.bytes);
            true
        };
        let mut raws = next_chunk(&mut reader);
        let mut parsed: Option<Parsed<T>> = None;
        let mut going = true;
        while going && (!raws.is_empty() || parsed.is_some()) {
            let mut next_parsed = None;
            let mut next_raws = Vec::new();
            rayon::in_place_scope(|scope| {
                if !raws.is_empty() {
                    let raws = std::mem::take(&mut raws);
                    let next_parsed = &mut next_parsed;
                    scope.spawn(|_| *next_parsed = Some(parse(raws)));
                    next_raws = next_chunk(&mut reader);
                }
                if let Some(items) = parsed.take() {
                    going = complete(&mut reader, items, observer);
                }
            });
            (raws, parsed) = (next_raws, next_parsed);
        }
        observer.finish();
        found
    }

    /// A later read of the inputs: records handed to `consume` a chunk at a time in input
    /// order, with the feature sets `recompute` asks for (computed as the records are parsed;
    /// `read` must have a [`Layout`] for it).
    fn reread(
        &self,
        paths: &[PathBuf],
        read: Reading<'_>,
        observer: &mut dyn Observer,
        recompute: Option<&Recompute<'_>>,
        consume: impl FnMut(&[Record], Vec<Option<Vec<Feature>>>),
    ) -> Found {
        debug_assert!(recompute.is_none() || read.layout.is_some());
        self.for_each_chunk(
            paths,
            read,
            observer,
            || recompute.map(|r| r.analyzers.lend(|| Analyzer::new(r.config.language))),
            |analyzer, doc, record| {
                let (r, analyzer) = (recompute?, analyzer.as_deref()?);
                (doc.is_some_and(r.wanted))
                    .then(|| exact_features(&record.doc.text, analyzer, r.config, r.freq))
            },
            consume,
        )
    }

    fn frequencies(
        &self,
        paths: &[PathBuf],
        analyzers: &Pool<Analyzer>,
        observer: &mut dyn Observer,
        summary: &mut Summary,
    ) -> DocFreq {
        let config = &self.config;
        let mut freq = DocFreq::default();
        let read = Reading {
            pass: Pass::Frequencies,
            total: None,
            report: true,
            keep_lines: false,
            layout: None,
        };
        let found = self.for_each_chunk(
            paths,
            read,
            observer,
            || analyzers.lend(|| Analyzer::new(config.language)),
            |analyzer, _, record| {
                let mut one = DocFreq::default();
                count_terms(&mut one, analyzer, config, &record.doc.text);
                one
            },
            |_, counts| {
                freq.merge(counts.into_par_iter().reduce(DocFreq::default, |mut a, b| {
                    a.merge(b);
                    a
                }))
            },
        );
        (summary.documents, summary.bytes, summary.skipped) =
            (found.docs, found.bytes, found.skipped);
        freq
    }

    fn sketch(
        &self,
        paths: &[PathBuf],
        freq: &DocFreq,
        analyzers: &Pool<Analyzer>,
        report: bool,
        observer: &mut dyn Observer,
        summary: &mut Summary,
    ) -> Result<Sketches> {
        let config = &self.config;
        let sketcher = Sketcher::for_config(config);
        let banding = self.banding();
        let longest = self.keep == Keep::Longest;
        let mut sketches = Sketches {
            n: 0,
            layout: Layout::default(),
            lengths: Vec::new(),
            store: Store::Memory {
                signatures: Vec::new(),
                slots: Vec::new(),
            },
            held: 0,
            featureless: Vec::new(),
        };
        let mut failure: Option<Error> = None;
        let mut featureless = Featureless::default();
        let states = Pool::default();
        let read = Reading {
            pass: Pass::Signatures,
            total: (!report).then_some(summary.documents),
            report,
            keep_lines: false,
            layout: None,
        };
        let found = self.for_each_chunk(
            paths,
            read,
            observer,
            || {
                states.lend(|| {
                    let analyzer = analyzers.take();
                    Sketching::with_analyzer(config, freq, analyzer)
                })
            },
            |state, _, record| {
                let length = u32::try_from(record.doc.text.len()).unwrap_or(u32::MAX);
                let (signature, slots) = sketch_of(state, &sketcher, config, &record.doc.text);
                let text_key = signature
                    .is_empty()
                    .then(|| normalized_key(&record.doc.text, config));
                (signature, slots, length, text_key)
            },
            |records, made| {
                if failure.is_some() {
                    return;
                }
                let mut evidence = Vec::with_capacity(made.len());
                let first = sketches.n as u32;
                for (i, (record, (signature, slots, length, text_key))) in
                    records.iter().zip(made).enumerate()
                {
                    if let Some(key) = text_key {
                        featureless.add(&record.doc.id, &record.doc.origin);
                        sketches.featureless.push((key, first + i as u32));
                    }
                    evidence.push((signature, slots));
                    if longest {
                        sketches.lengths.push(length);
                    }
                }
                if let Err(e) = self.keep_sketches(&mut sketches, &banding, evidence) {
                    failure = Some(e);
                }
            },
        );
        (summary.documents, summary.bytes, summary.skipped) =
            (found.docs, found.bytes, found.skipped);
        if let Some(warning) = featureless.warning(true) {
            observer.warning(&warning);
        }
        sketches.layout = found.layout;
        for state in states.into_inner() {
            analyzers.give(state.analyzer);
        }
        if let Some(e) = failure {
            return Err(e);
        }
        if let Store::Disk(spilled) = &mut sketches.store {
            spilled.table.finish(&mut spilled.dir)?;
        }
        Ok(sketches)
    }

    /// The banding dedup uses.
    fn banding(&self) -> Banding {
        Banding::optimal(dedup_lsh_threshold(&self.config), self.config.num_hashes)
    }

    /// Keeps a chunk's signatures and slots: in memory while they fit the budget; once they
    /// do not, everything so far and from then on on disk.
    fn keep_sketches(
        &self,
        sketches: &mut Sketches,
        banding: &Banding,
        evidence: Vec<(Signature, Vec<Slot>)>,
    ) -> Result<()> {
        let first = sketches.n;
        sketches.n += evidence.len();
        let (signatures, slots) = match &mut sketches.store {
            Store::Disk(spilled) => {
                let (signatures, slots): (Vec<Signature>, Vec<Vec<Slot>>) =
                    evidence.into_iter().unzip();
                return spilled.add(banding, first, &signatures, &slots);
            }
            Store::Memory { signatures, slots } => (signatures, slots),
        };
        for (signature, doc_slots) in evidence {
            sketches.held += held_bytes(self.config.num_hashes, banding.bands, &doc_slots);
            signatures.push(signature);
            if self.config.fact_check {
                slots.push(doc_slots);
            }
        }
        // Half the budget: the band entries' buffer, once spilling, takes the other half.
        let Some(budget) = self.memory.filter(|&budget| sketches.held > budget / 2) else {
            return Ok(());
        };
        let mut spilled = Spilled::new(&self.temp_dir, self.config.num_hashes, budget)?;
        let chunk_docs = self.chunk_docs();
        for start in (0..signatures.len()).step_by(chunk_docs) {
            let end = (start + chunk_docs).min(signatures.len());
            let chunk_slots = slots.get(start..end).unwrap_or(&[]);
            spilled.add(banding, start, &signatures[start..end], chunk_slots)?;
        }
        sketches.store = Store::Disk(Box::new(spilled));
        sketches.held = 0;
        Ok(())
    }

    /// LSH candidate pairs over the signatures.
    fn candidates(&self, sketches: &mut Sketches, summary: &mut Summary) -> Result<Candidates> {
        let banding = self.banding();
        let candidates = match &mut sketches.store {
            Store::Memory { signatures, .. } => Candidates::Memory(banding.candidates(signatures)),
            Store::Disk(spilled) => spilled.candidates(&banding)?,
        };
        summary.candidates = candidates.len();
        Ok(candidates)
    }

    /// The candidate pairs whose similarity under `config` reaches its threshold, judged from
    /// the signatures, slots and (exact verification) `features` of both documents.
    fn verify(
        &self,
        sketches: &Sketches,
        candidates: &Candidates,
        config: &Config,
        features: &FeatureSets,
    ) -> Result<Vec<Edge>> {
        let mut edges = Vec::new();
        candidates.for_each_batch(|batch| {
            edges.extend(judge_all(config, sketches, features, batch)?);
            Ok(())
        })?;
        Ok(edges)
    }

    /// The configuration exact verification judges pairs with.
    fn exact_config(&self) -> Config {
        Config {
            exact: true,
            ..self.config.clone()
        }
    }

    /// The feature sets of the documents in candidate pairs, recomputed in one more read (only
    /// theirs are held, in memory, or on disk on the spill path), for exact verification.
    fn exact_features(
        &self,
        paths: &[PathBuf],
        freq: &DocFreq,
        analyzers: &Pool<Analyzer>,
        sketches: &mut Sketches,
        candidates: &Candidates,
        observer: &mut dyn Observer,
    ) -> Result<FeatureSets> {
        let config = &self.exact_config();
        let n = sketches.n;
        let mut wanted = vec![false; n];
        candidates.for_each_batch(|batch| {
            for &(a, b) in batch {
                wanted[a as usize] = true;
                wanted[b as usize] = true;
            }
            Ok(())
        })?;
        let mut features = match &mut sketches.store {
            Store::Memory { .. } => FeatureSets::Memory(vec![Vec::new(); n]),
            Store::Disk(spilled) => FeatureSets::Disk {
                list: ListFile::new(&mut spilled.dir, "features")?,
                index: Vec::new(),
            },
        };
        let recompute = Recompute {
            config,
            freq,
            wanted: &|doc| wanted.get(doc).copied().unwrap_or(false),
            analyzers,
        };
        let mut failure: Option<Error> = None;
        let mut next = 0usize;
        let read = Reading::again(
            Pass::Verifying,
            Some(n as u64),
            false,
            Some(&sketches.layout),
        );
        let found = self.reread(paths, read, observer, Some(&recompute), |chunk, made| {
            let first = next;
            next += chunk.len();
            for (i, f) in made.into_iter().enumerate() {
                if let Some(f) = f
                    && failure.is_none()
                    && let Err(e) = features.insert(first + i, f)
                {
                    failure = Some(e);
                }
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        found.same_as_first(n)?;
        if let (FeatureSets::Disk { list, .. }, Store::Disk(spilled)) =
            (&mut features, &mut sketches.store)
        {
            list.finish(&mut spilled.dir)?;
        }
        Ok(features)
    }

    /// The greedy keep pass over the verified pairs: the removals, sorted by removed document.
    fn select(&self, sketches: &Sketches, edges: &[Edge], summary: &mut Summary) -> Vec<Removal> {
        let n = sketches.n;
        summary.verified = edges.len() as u64;
        let order = keep_order(n, self.keep, &sketches.lengths);
        let removals = greedy(n, edges, &order);
        summary.removed = removals.len() as u64;
        summary.kept = n as u64 - summary.removed;
        removals
    }

    /// The last read: kept lines to `unique`, then `removed.tsv` and the verified pairs, from
    /// the removals already chosen, for the `summary.documents` documents of the first read.
    /// Public so that the distributed runner writes exactly what `dedup` writes from the same
    /// removals.
    #[allow(clippy::too_many_arguments)]
    pub fn write(
        &self,
        paths: &[PathBuf],
        edges: &[Edge],
        removals: &[Removal],
        outputs: Outputs<'_>,
        observer: &mut dyn Observer,
        summary: &mut Summary,
    ) -> Result<()> {
        let removals = Removals::Known {
            edges,
            removals,
            levels: None,
        };
        self.write_pass(paths, removals, None, outputs, observer, summary)
    }

    /// The last read (of `summary.documents` documents, laid out as in `layout` when known;
    /// [`Removals::Streaming`] brings its own): kept lines to `unique` in input order, then
    /// `removed.tsv` and the verified pairs. With [`Removals::Streaming`] the removals are
    /// decided chunk by chunk, each before its lines are written, and the summary's counts are
    /// set at the end.
    fn write_pass(
        &self,
        paths: &[PathBuf],
        mut removals: Removals<'_>,
        layout: Option<&Layout>,
        outputs: Outputs<'_>,
        observer: &mut dyn Observer,
        summary: &mut Summary,
    ) -> Result<()> {
        let n = usize::try_from(summary.documents).unwrap_or(usize::MAX);
        let Outputs {
            unique,
            removed,
            pairs,
        } = outputs;
        let mut is_removed = vec![false; n];
        let mut named: AHashMap<u32, String> = AHashMap::new();
        let mut name = |doc: u32| {
            named.insert(doc, String::new());
        };
        match &removals {
            Removals::Known {
                edges, removals, ..
            } => {
                for r in *removals {
                    is_removed[r.removed as usize] = true;
                    if removed.is_some() {
                        name(r.removed);
                        name(r.kept);
                    }
                }
                if pairs.is_some() {
                    for &(a, b, _) in *edges {
                        name(a);
                        name(b);
                    }
                }
            }
            Removals::Streaming(streaming) if removed.is_some() || pairs.is_some() => {
                let judging = &streaming.judging;
                (0..n)
                    .filter(|&doc| judging.in_pairs(doc))
                    .for_each(|doc| name(doc as u32));
            }
            Removals::Streaming(_) => {}
        }
        let mut failure: Option<Error> = None;
        let mut seen = 0usize;
        let (judging, mut decisions) = match &mut removals {
            Removals::Known { .. } => (None, None),
            Removals::Streaming(streaming) => {
                let Streaming { judging, decisions } = &mut **streaming;
                (Some(&*judging), Some(decisions))
            }
        };
        let layout = judging.map_or(layout, |judging| Some(&judging.sketches.layout));
        let wanted = |doc: usize| judging.is_some_and(|j| j.in_pairs(doc));
        let recompute = judging.map(|judging| Recompute {
            config: &judging.config,
            freq: judging.freq,
            wanted: &wanted,
            analyzers: judging.analyzers,
        });
        let read = Reading::again(Pass::Writing, Some(summary.documents), true, layout);
        let found = self.reread(
            paths,
            read,
            observer,
            recompute.as_ref(),
            |chunk, features| {
                let first = seen;
                seen += chunk.len();
                // Documents past the first read's are an error, reported at the end.
                if failure.is_some() || first >= n {
                    return;
                }
                let chunk = &chunk[..chunk.len().min(n - first)];
                let removed = &mut is_removed[first..first + chunk.len()];
                if let (Some(judging), Some(decisions)) = (judging, decisions.as_mut()) {
                    match decisions.decide(judging, first, features, removed) {
                        // A document no verified pair names needs no name.
                        Ok(done) => done
                            .into_iter()
                            .filter(|&doc| !decisions.linked[doc as usize])
                            .for_each(|doc| {
                                named.remove(&doc);
                            }),
                        Err(e) => {
                            failure = Some(e);
                            return;
                        }
                    }
                }
                for (i, (record, &removed)) in chunk.iter().zip(removed.iter()).enumerate() {
                    if let Some(id) = named.get_mut(&((first + i) as u32)) {
                        id.clone_from(&record.doc.id);
                    }
                    if !removed && let Err(e) = write_line(unique, &record.line(&self.input)) {
                        failure = Some(Error::Output(e));
                        return;
                    }
                }
            },
        );
        if let Some(e) = failure {
            return Err(e);
        }
        found.same_as_first(n)?;
        unique.flush()?;
        let (edges, removals, levels) = match removals {
            Removals::Known {
                edges,
                removals,
                levels,
            } => (Cow::Borrowed(edges), Cow::Borrowed(removals), levels),
            Removals::Streaming(streaming) => {
                let (edges, removals) = streaming.finish();
                summary.verified = edges.len() as u64;
                summary.removed = removals.len() as u64;
                summary.kept = n as u64 - summary.removed;
                (Cow::Owned(edges), Cow::Owned(removals), None)
            }
        };
        // The story score and level of a pair: empty when the run does not judge levels.
        let judged = |a: u32, b: u32| match levels.and_then(|l| l.get(a, b)) {
            Some((story, level)) => format!("{story:.4}\t{level}"),
            None => "\t".to_string(),
        };
        if let Some(out) = removed {
            writeln!(out, "removed_id\tkept_id\tsimilarity\tstory\tlevel")?;
            for r in removals.iter() {
                writeln!(
                    out,
                    "{}\t{}\t{:.4}\t{}",
                    tsv_field(&named[&r.removed]),
                    tsv_field(&named[&r.kept]),
                    r.similarity,
                    judged(r.removed, r.kept)
                )?;
            }
            out.flush()?;
        }
        if let Some(out) = pairs {
            writeln!(out, "a\tb\tsimilarity\tstory\tlevel")?;
            for &(a, b, similarity) in edges.iter() {
                writeln!(
                    out,
                    "{}\t{}\t{similarity:.4}\t{}",
                    tsv_field(&named[&a]),
                    tsv_field(&named[&b]),
                    judged(a, b)
                )?;
            }
            out.flush()?;
        }
        Ok(())
    }
}

/// Writes one line and its newline.
fn write_line(out: &mut dyn Write, line: &str) -> std::io::Result<()> {
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")
}

/// What the writing pass knows of the removals when it starts.
enum Removals<'a> {
    /// All of them: the verified pairs and the removals chosen from them.
    Known {
        edges: &'a [Edge],
        removals: &'a [Removal],
        /// Each pair's story score and level, when the run judges them.
        levels: Option<&'a Levels>,
    },
    /// None yet: they are decided as the documents are read ([`Streaming`]).
    Streaming(Box<Streaming<'a>>),
}

/// Exact verification and the keep pass for [`Keep::First`] (in memory), run in the writing
/// read, which saves the extra read [`Dedup::verify_exactly`] makes: the documents in candidate
/// pairs get their feature sets as they are parsed, the pairs whose later document is in the
/// chunk are judged, and the chunk's documents are removed or kept in input order, exactly as
/// [`greedy`] decides from all the verified pairs (in input order, a document's kept
/// neighbours all come before it). A document's features are held until its last pair is
/// judged.
struct Streaming<'a> {
    judging: Judging<'a>,
    decisions: Decisions,
}

/// What [`Streaming`] judges pairs with; it does not change during the read.
struct Judging<'a> {
    /// The exact configuration.
    config: Config,
    freq: &'a DocFreq,
    /// Analyzers for the configuration's language.
    analyzers: &'a Pool<Analyzer>,
    sketches: &'a Sketches,
    /// The candidate pairs as (later, earlier) document, sorted: by the document that decides
    /// when they are judged.
    pairs: Vec<(u32, u32)>,
    /// Per document, the last document of its candidate pairs ([`NO_PAIR`]: none).
    last_use: Vec<u32>,
}

/// What [`Streaming`] has decided so far.
struct Decisions {
    /// Pairs judged so far (a prefix of [`Judging::pairs`]).
    judged: usize,
    features: FeatureSets,
    /// The held feature sets by the document after which they are no longer needed, earliest
    /// first.
    expiry: BinaryHeap<Reverse<(u32, u32)>>,
    kept: Vec<bool>,
    /// Per document, whether it is in a verified pair judged so far.
    linked: Vec<bool>,
    edges: Vec<Edge>,
    removals: Vec<Removal>,
}

/// [`Judging::last_use`] of a document in no candidate pair.
const NO_PAIR: u32 = u32::MAX;

impl<'a> Streaming<'a> {
    /// Ready to judge the candidate `pairs` (`(a, b)`, `a < b`) under the exact `config`.
    fn new(
        config: Config,
        freq: &'a DocFreq,
        analyzers: &'a Pool<Analyzer>,
        sketches: &'a Sketches,
        mut pairs: Vec<(u32, u32)>,
    ) -> Streaming<'a> {
        let n = sketches.n;
        let mut last_use = vec![NO_PAIR; n];
        for pair in &mut pairs {
            let (a, b) = *pair;
            for doc in [a, b] {
                let last = &mut last_use[doc as usize];
                *last = if *last == NO_PAIR { b } else { (*last).max(b) };
            }
            *pair = (b, a);
        }
        pairs.sort_unstable();
        Streaming {
            judging: Judging {
                config,
                freq,
                analyzers,
                sketches,
                pairs,
                last_use,
            },
            decisions: Decisions {
                judged: 0,
                features: FeatureSets::Memory(vec![Vec::new(); n]),
                expiry: BinaryHeap::new(),
                kept: vec![false; n],
                linked: vec![false; n],
                edges: Vec::new(),
                removals: Vec::new(),
            },
        }
    }

    /// The verified pairs, sorted, and the removals, sorted by removed document.
    fn finish(self) -> (Vec<Edge>, Vec<Removal>) {
        let mut edges = self.decisions.edges;
        edges.sort_unstable_by_key(|&(a, b, _)| (a, b));
        (edges, self.decisions.removals)
    }
}

impl Judging<'_> {
    /// Whether document `doc` is in a candidate pair (any removal or verified pair names only
    /// such documents).
    fn in_pairs(&self, doc: usize) -> bool {
        self.last_use.get(doc).is_some_and(|&last| last != NO_PAIR)
    }
}

impl Decisions {
    /// Decides the next chunk's documents, numbered from `first` (the chunks come in input
    /// order), given their recomputed `features` (those in candidate pairs have them): marks
    /// the removed ones in `removed`. Returns the documents whose last pair is now judged,
    /// earlier ones included.
    fn decide(
        &mut self,
        judging: &Judging<'_>,
        first: usize,
        features: Vec<Option<Vec<Feature>>>,
        removed: &mut [bool],
    ) -> Result<Vec<u32>> {
        let end = first + removed.len();
        for (doc, features) in (first..end).zip(features) {
            if let Some(features) = features {
                self.expiry
                    .push(Reverse((judging.last_use[doc], doc as u32)));
                self.features.insert(doc, features)?;
            }
        }
        let pending = &judging.pairs[self.judged..];
        let count = pending.partition_point(|&(b, _)| (b as usize) < end);
        let chunk_pairs: Vec<(u32, u32)> = pending[..count].iter().map(|&(b, a)| (a, b)).collect();
        self.judged += count;
        let edges = judge_all(
            &judging.config,
            judging.sketches,
            &self.features,
            &chunk_pairs,
        )?;
        let mut at = 0;
        for doc in first..end {
            let from = at;
            while edges.get(at).is_some_and(|e| e.1 as usize == doc) {
                at += 1;
            }
            let neighbours = edges[from..at].iter().map(|&(a, _, s)| (a, s));
            match most_similar_kept(neighbours, &self.kept, |other| other) {
                Some((kept, similarity)) => {
                    removed[doc - first] = true;
                    self.removals.push(Removal {
                        removed: doc as u32,
                        kept,
                        similarity,
                    });
                }
                None => self.kept[doc] = true,
            }
        }
        for &(a, b, _) in &edges {
            (self.linked[a as usize], self.linked[b as usize]) = (true, true);
        }
        self.edges.extend(edges);
        let mut done = Vec::new();
        while let Some(&Reverse((last, doc))) = self.expiry.peek() {
            if last as usize >= end {
                break;
            }
            self.expiry.pop();
            self.features.release(doc);
            done.push(doc);
        }
        Ok(done)
    }
}

/// Judges the candidate pair `(a, b)` under `config` from both documents' signatures, slots
/// and (exact verification) `features`: the verified pair, when it reaches the threshold.
fn judge(
    config: &Config,
    sketches: &Sketches,
    features: &FeatureSets,
    (a, b): (u32, u32),
) -> Result<Option<Edge>> {
    let (signature_a, slots_a) = sketches.evidence(a)?;
    let (signature_b, slots_b) = sketches.evidence(b)?;
    let (features_a, features_b) = (features.get(a)?, features.get(b)?);
    let s = similarity_of(
        config,
        &Evidence {
            features: &features_a,
            signature: &signature_a,
            slots: &slots_a,
        },
        &Evidence {
            features: &features_b,
            signature: &signature_b,
            slots: &slots_b,
        },
    );
    Ok((s >= config.threshold).then_some((a, b, s)))
}

/// [`judge`] on each pair: the verified ones, in the order of `pairs`. In parallel when there
/// are at least [`PARALLEL_JUDGING`] pairs: below, the calling thread judges them faster than
/// it can hand them over, in particular to a pool busy parsing the next chunk (verification
/// in the writing read).
fn judge_all(
    config: &Config,
    sketches: &Sketches,
    features: &FeatureSets,
    pairs: &[(u32, u32)],
) -> Result<Vec<Edge>> {
    let judged = |&pair: &(u32, u32)| judge(config, sketches, features, pair).transpose();
    if pairs.len() < PARALLEL_JUDGING {
        pairs.iter().filter_map(judged).collect()
    } else {
        pairs.par_iter().filter_map(judged).collect()
    }
}

/// Candidate pairs from which [`judge_all`] judges in parallel (one exact judgement takes a
/// few microseconds).
const PARALLEL_JUDGING: usize = 4096;

/// The features of a raw text, as exact verification compares them.
fn exact_features(
    text: &str,
    analyzer: &Analyzer,
    config: &Config,
    freq: &DocFreq,
) -> Vec<Feature> {
    if let Some(features) = fast_features(text, config) {
        return features;
    }
    analysed(analyzer, config, text, |text, terms| {
        features(text, terms, config, freq)
    })
}

/// `f` of a raw text's normalized text and its terms (borrowed from the analyzer's
/// vocabulary): what features and fact slots are made of.
fn analysed<R>(
    analyzer: &Analyzer,
    config: &Config,
    text: &str,
    f: impl FnOnce(&str, &[TermRef]) -> R,
) -> R {
    let text = normalize(text, config.strip_chrome);
    analyzer.with_terms(&text, |terms| f(&text, terms))
}

/// The Jaccard similarity dedup tunes LSH to: three standard deviations of a K-value estimate
/// below the engine's (but at least three quarters of it). The optimal banding puts the
/// middle of its S-curve at the threshold, so a pair just above it would be a candidate only
/// about half the time, and then pass the equally noisy estimate about half the time again;
/// tuned lower, LSH lets through every pair whose estimate can reach the threshold and the
/// verification alone decides (measured with `bench/compare.sh`: recall of verified pairs
/// 0.90 → see docs/performance.md).
pub fn dedup_lsh_threshold(config: &Config) -> f64 {
    let t = lsh_threshold(config);
    let sigma = (t * (1.0 - t) / config.num_hashes as f64).sqrt();
    (t - 3.0 * sigma).max(0.75 * t)
}

/// Documents in the order the keep rule visits them.
pub fn keep_order(n: usize, keep: Keep, lengths: &[u32]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    if keep == Keep::Longest {
        order.sort_by_key(|&i| (std::cmp::Reverse(lengths[i as usize]), i));
    }
    order
}

/// Counts one document's terms in `freq`, as the frequency pass counts them.
pub fn count_terms(freq: &mut DocFreq, analyzer: &Analyzer, config: &Config, text: &str) {
    analysed(analyzer, config, text, |_, terms| freq.add(terms));
}

/// What one thread sketches documents with: the analyzer, the document frequencies that weight
/// features (with the IDF of the words seen so far), and the buffers the signature paths reuse
/// from one document to the next.
pub struct Sketching<'f> {
    analyzer: Analyzer,
    idf: WordIdf<'f>,
    buffers: SketchBuffers,
}

impl<'f> Sketching<'f> {
    /// A fresh state for a configuration's language, weighting features with `freq`.
    pub fn new(config: &Config, freq: &'f DocFreq) -> Sketching<'f> {
        Sketching::with_analyzer(config, freq, None)
    }

    /// The state's analyzer, with the words it has stemmed, for a later state.
    pub fn into_analyzer(self) -> Analyzer {
        self.analyzer
    }

    /// A state that analyses with `analyzer` (one for the configuration's language, such as
    /// the frequency pass's, whose vocabulary has every word of the corpus stemmed already),
    /// or a fresh one.
    pub fn with_analyzer(
        config: &Config,
        freq: &'f DocFreq,
        analyzer: Option<Analyzer>,
    ) -> Sketching<'f> {
        Sketching {
            analyzer: analyzer.unwrap_or_else(|| Analyzer::new(config.language)),
            idf: WordIdf::new(freq),
            buffers: SketchBuffers::default(),
        }
    }
}

/// One document's signature and fact slots, as the signature pass computes them (also for
/// runners that sketch documents one at a time, such as the distributed one).
pub fn sketch_of(
    state: &mut Sketching,
    sketcher: &Sketcher,
    config: &Config,
    text: &str,
) -> (Signature, Vec<Slot>) {
    let Sketching {
        analyzer,
        idf,
        buffers,
    } = state;
    if !config.fact_check
        && let Some(signature) = fast_sketch(text, config, sketcher, buffers)
    {
        return (signature, Vec::new());
    }
    analysed(analyzer, config, text, |text, terms| {
        let slots = fact_slots(terms, config);
        let signature = sketch_features(text, terms, config, idf, sketcher, buffers);
        (signature, slots)
    })
}

/// The configuration dedup judges pairs with: `config` with estimates, since the feature sets
/// are not kept.
pub fn estimating(config: &Config) -> Config {
    Config {
        exact: false,
        ..config.clone()
    }
}

/// The similarity dedup judges a pair by, from each document's signature and fact slots: the
/// same judgement as every command ([`similarity_of`]) under an [`estimating`] configuration.
pub fn estimated_similarity(
    config: &Config,
    a: (&Signature, &[Slot]),
    b: (&Signature, &[Slot]),
) -> f64 {
    similarity_of(
        config,
        &Evidence {
            features: &[],
            signature: a.0,
            slots: a.1,
        },
        &Evidence {
            features: &[],
            signature: b.0,
            slots: b.1,
        },
    )
}

/// The kept document a document is removed in favour of, among its `neighbours` (document,
/// similarity): the most similar kept one, ties broken by the earlier `rank` in keep order;
/// `None` when no neighbour is kept (the document is kept).
fn most_similar_kept(
    neighbours: impl Iterator<Item = (u32, f64)>,
    kept: &[bool],
    rank: impl Fn(u32) -> u32,
) -> Option<(u32, f64)> {
    neighbours
        .filter(|&(other, _)| kept[other as usize])
        .min_by(|x, y| y.1.total_cmp(&x.1).then(rank(x.0).cmp(&rank(y.0))))
}

/// The greedy keep pass (see the module docs): visits documents in `order`; one with a
/// verified pair to an already kept document is removed in favour of the most similar one.
/// Returns the removals sorted by removed document.
pub fn greedy(n: usize, edges: &[Edge], order: &[u32]) -> Vec<Removal> {
    let rank = ranks(n, order);
    let neighbours = Adjacency::new(n, edges);
    let mut kept = vec![false; n];
    let mut removals = Vec::new();
    for &doc in order {
        let mine = neighbours.of(doc).iter();
        match most_similar_kept(mine.copied(), &kept, |other| rank[other as usize]) {
            Some((other, similarity)) => removals.push(Removal {
                removed: doc,
                kept: other,
                similarity,
            }),
            None => kept[doc as usize] = true,
        }
    }
    removals.sort_by_key(|r| r.removed);
    removals
}

/// The key of a text's normalized form: documents without features are duplicates when
/// their normalized texts are the same.
fn normalized_key(text: &str, config: &Config) -> u128 {
    xxhash_rust::xxh3::xxh3_128(normalize(text, config.strip_chrome).as_bytes())
}

/// Documents without features match no other by their features, not even a copy: those with
/// the same normalized text are paired here instead, at similarity 1, each with the group's
/// first in keep order (a star, linear in the group), sorted.
fn featureless_pairs(sketches: &Sketches, keep: Keep) -> Vec<Edge> {
    let mut groups = sketches.featureless.clone();
    if groups.len() < 2 {
        return Vec::new();
    }
    let rank = ranks(sketches.n, &keep_order(sketches.n, keep, &sketches.lengths));
    groups.sort_unstable_by_key(|&(key, doc)| (key, rank[doc as usize]));
    let mut pairs: Vec<Edge> = groups
        .chunk_by(|a, b| a.0 == b.0)
        .flat_map(|group| {
            let first = group[0].1;
            group[1..]
                .iter()
                .map(move |&(_, doc)| (first.min(doc), first.max(doc), 1.0))
        })
        .collect();
    pairs.sort_unstable_by_key(|&(a, b, _)| (a, b));
    pairs
}

/// The verified pairs with [`featureless_pairs`] added, in document order (unchanged when
/// every document has features).
fn with_featureless_pairs(mut edges: Vec<Edge>, sketches: &Sketches, keep: Keep) -> Vec<Edge> {
    let extra = featureless_pairs(sketches, keep);
    if !extra.is_empty() {
        edges.extend(extra);
        edges.sort_by_key(|&(a, b, _)| (a, b));
    }
    edges
}

/// Each document's place in `order`.
fn ranks(n: usize, order: &[u32]) -> Vec<u32> {
    let mut rank = vec![0u32; n];
    for (r, &i) in order.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    rank
}

/// Verified pairs in compressed rows: each document's neighbours with their similarity.
struct Adjacency {
    start: Vec<usize>,
    neighbours: Vec<(u32, f64)>,
}

impl Adjacency {
    fn new(n: usize, edges: &[Edge]) -> Adjacency {
        let mut start = vec![0usize; n + 1];
        for &(a, b, _) in edges {
            start[a as usize + 1] += 1;
            start[b as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut neighbours = vec![(0u32, 0.0f64); start[n]];
        for &(a, b, s) in edges {
            neighbours[fill[a as usize]] = (b, s);
            fill[a as usize] += 1;
            neighbours[fill[b as usize]] = (a, s);
            fill[b as usize] += 1;
        }
        Adjacency { start, neighbours }
    }

    fn of(&self, doc: u32) -> &[(u32, f64)] {
        &self.neighbours[self.start[doc as usize]..self.start[doc as usize + 1]]
    }
}

/// Groups of documents with identical signatures and fact slots (copies of one text, as a
/// rule), found before LSH so that a group is one document there. Each group's *leader* is
/// its first member in keep order; every other member, a *twin*, verifies as a duplicate of
/// it (estimated similarity, which identical evidence makes the same for every pair of the
/// group).
///
/// Without the groups, a bucket of `c` identical documents paired all its members in every
/// band: `c²/2` pairs, counted band by band (a million one-word documents, twenty copies of
/// each word, made dedup quadratic). With them, LSH, verification and the keep pass see the
/// leaders only, and each twin's removal follows from its leader's, exactly as the greedy
/// pass over every document decides it: a twin is never kept (its leader, or the kept
/// document its leader duplicates, comes first in keep order), and the kept documents it
/// pairs with are its leader and its leader's kept neighbours, at the same similarities.
struct Twins {
    /// Each document's leader (a leader, or a document in no group, is its own).
    leader: Vec<u32>,
    /// Each twin with its similarity to its leader, in keep order.
    twins: Vec<(u32, f64)>,
    /// The keep order.
    order: Vec<u32>,
}

impl Twins {
    /// The verified pairs among the leaders and the removals of every document, the summary's
    /// counts set as if every document had taken part; `None` when there is no group (the
    /// usual case) or the signatures are on disk.
    fn select(
        dedup: &Dedup,
        sketches: &Sketches,
        summary: &mut Summary,
    ) -> Result<Option<(Vec<Edge>, Vec<Removal>)>> {
        let Store::Memory { signatures, slots } = &sketches.store else {
            return Ok(None);
        };
        match Twins::find(dedup, sketches, signatures, slots)? {
            Some(twins) => twins.removals(dedup, sketches, signatures, summary),
            None => Ok(None),
        }
    }

    /// The groups; `None` when there is none.
    fn find(
        dedup: &Dedup,
        sketches: &Sketches,
        signatures: &[Signature],
        slots: &[Vec<Slot>],
    ) -> Result<Option<Twins>> {
        let n = sketches.n;
        let config = estimating(&dedup.config);
        let no_slots: &[Slot] = &[];
        let slots_of = |doc: u32| slots.get(doc as usize).map_or(no_slots, Vec::as_slice);
        let evidence_key = |doc: u32| {
            let signature = &signatures[doc as usize];
            let mut bytes = Vec::with_capacity(signature.values.len() * 4 + 8);
            for v in &signature.values {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
            bytes.extend_from_slice(&signature.weight.to_bits().to_le_bytes());
            for &(context, number) in slots_of(doc) {
                bytes.extend_from_slice(&context.to_le_bytes());
                bytes.extend_from_slice(&number.to_le_bytes());
            }
            xxhash_rust::xxh3::xxh3_128(&bytes)
        };
        let order = keep_order(n, dedup.keep, &sketches.lengths);
        let mut leader: Vec<u32> = (0..n as u32).collect();
        let mut leaders: AHashMap<u128, u32> = AHashMap::new();
        let mut twins = Vec::new();
        for &doc in &order {
            if !is_live(&signatures[doc as usize]) {
                continue;
            }
            let first = *leaders.entry(evidence_key(doc)).or_insert(doc);
            let same = first != doc
                && signatures[first as usize] == signatures[doc as usize]
                && slots_of(first) == slots_of(doc);
            if !same {
                continue;
            }
            let pair = (first.min(doc), first.max(doc));
            if let Some((_, _, similarity)) =
                judge(&config, sketches, &FeatureSets::Estimated, pair)?
            {
                leader[doc as usize] = first;
                twins.push((doc, similarity));
            }
        }
        Ok((!twins.is_empty()).then_some(Twins {
            leader,
            twins,
            order,
        }))
    }

    /// LSH and verification among the leaders, then the removals of every document; `None`
    /// when a bucket would be larger than [`crate::lsh::MAX_BUCKET`] with every document in
    /// it, so that LSH pairs the group's members through its first member only (a star), not
    /// with each other.
    fn removals(
        &self,
        dedup: &Dedup,
        sketches: &Sketches,
        signatures: &[Signature],
        summary: &mut Summary,
    ) -> Result<Option<(Vec<Edge>, Vec<Removal>)>> {
        let n = sketches.n;
        let is_leader = |doc: u32| self.leader[doc as usize] == doc;
        let mut size = vec![0u32; n];
        for &leader in &self.leader {
            size[leader as usize] += 1;
        }
        let Some(pairs) = dedup.banding().candidates_among(signatures, &size) else {
            return Ok(None);
        };
        let config = estimating(&dedup.config);
        let edges = judge_all(&config, sketches, &FeatureSets::Estimated, &pairs)?;
        let edges = with_featureless_pairs(edges, sketches, dedup.keep);
        // The counts of the pairs every document would have given: each pair of leaders
        // stands for the pairs of their groups, and the members of a group pair with each
        // other (in every band, and verified).
        let within: u64 = size
            .iter()
            .map(|&g| u64::from(g) * u64::from(g.saturating_sub(1)) / 2)
            .sum();
        let across = |pairs: &mut dyn Iterator<Item = (u32, u32)>| -> u64 {
            pairs
                .map(|(a, b)| u64::from(size[a as usize]) * u64::from(size[b as usize]))
                .sum()
        };
        summary.candidates = across(&mut pairs.iter().copied()) + within;
        summary.verified = across(&mut edges.iter().map(|&(a, b, _)| (a, b))) + within;
        let leader_order: Vec<u32> = self
            .order
            .iter()
            .copied()
            .filter(|&d| is_leader(d))
            .collect();
        let mut removals = greedy(n, &edges, &leader_order);
        let mut kept = vec![false; n];
        for &doc in &leader_order {
            kept[doc as usize] = true;
        }
        for r in &removals {
            kept[r.removed as usize] = false;
        }
        let rank = ranks(n, &self.order);
        let neighbours = Adjacency::new(n, &edges);
        for &(twin, to_leader) in &self.twins {
            let leader = self.leader[twin as usize];
            let options = neighbours
                .of(leader)
                .iter()
                .copied()
                .chain(std::iter::once((leader, to_leader)));
            if let Some((other, similarity)) =
                most_similar_kept(options, &kept, |other| rank[other as usize])
            {
                removals.push(Removal {
                    removed: twin,
                    kept: other,
                    similarity,
                });
            }
        }
        removals.sort_by_key(|r| r.removed);
        summary.removed = removals.len() as u64;
        summary.kept = n as u64 - summary.removed;
        Ok(Some((edges, removals)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A story of 400 words drawn from `seed`, with the words at multiples of any of `edits`
    /// replaced.
    fn story(seed: u64, edits: &[usize]) -> String {
        (0..400usize)
            .map(|i| match edits.iter().any(|&e| i % e == 0) {
                true => format!("edit{i}"),
                false => format!(
                    "w{}",
                    xxhash_rust::xxh3::xxh3_64_with_seed(&i.to_le_bytes(), seed) % 5000
                ),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Deduplicates `path` with exact verification, returning the kept lines, removed.tsv and
    /// the verified pairs.
    fn exact_run(path: &std::path::Path, chunk_docs: usize, memory: Option<u64>) -> [String; 3] {
        let mut dedup = Dedup::new(Config::classic(), InputOptions::default());
        (dedup.verify_exact, dedup.chunk_docs, dedup.memory) = (true, Some(chunk_docs), memory);
        let (mut unique, mut removed, mut pairs) = (Vec::new(), Vec::new(), Vec::new());
        let outputs = Outputs {
            unique: &mut unique,
            removed: Some(&mut removed),
            pairs: Some(&mut pairs),
        };
        dedup.run(&[path.to_path_buf()], outputs, &mut ()).unwrap();
        [unique, removed, pairs].map(|out| String::from_utf8(out).unwrap())
    }

    #[test]
    fn verifying_while_writing_decides_as_the_separate_passes_do() {
        // Oracle: keep-first exact verification in the writing read (in memory) against the
        // separate verification read and greedy pass (the spill path, forced by a 1-byte
        // budget), for chunks of 1, 2 and 64 documents: pairs span chunks, a document's
        // features outlive several chunks, and d9, most similar to d3 (removed), names d0.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docs.jsonl");
        let texts = [
            story(1, &[]),
            story(1, &[97]),
            story(2, &[]),
            story(1, &[97, 53]),
            story(3, &[]),
            story(2, &[83]),
            story(4, &[]),
            story(3, &[89]),
            story(2, &[83, 61]),
            story(1, &[53]),
        ];
        let lines: Vec<String> = texts
            .iter()
            .enumerate()
            .map(|(i, text)| format!("{{\"id\":\"d{i}\",\"text\":\"{text}\"}}"))
            .collect();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let separate = exact_run(&path, 64, Some(1));
        assert!(separate[1].lines().count() > 3, "{}", separate[1]);
        for chunk_docs in [1, 2, 64] {
            assert_eq!(exact_run(&path, chunk_docs, None), separate, "{chunk_docs}");
        }

        // Later reads number the documents before parsing them, past the lines that are not
        // documents (malformed, empty text, invalid UTF-8): the same outputs on both paths.
        let with_bad_lines = |lines: &[String]| {
            let mut bytes: Vec<u8> = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                bytes.extend_from_slice(match i % 3 {
                    0 => b"{\"id\":\"broken\",\n",
                    1 => b"{\"id\":\"blank\",\"text\":\"  \"}\n",
                    _ => b"{\"id\":\"bytes\",\"text\":\"\xff\"}\n",
                });
                bytes.extend_from_slice(line.as_bytes());
                bytes.push(b'\n');
            }
            bytes
        };
        std::fs::write(&path, with_bad_lines(&lines)).unwrap();
        for (chunk_docs, memory) in [(1, None), (3, None), (64, None), (2, Some(1))] {
            assert_eq!(
                exact_run(&path, chunk_docs, memory),
                separate,
                "{chunk_docs}"
            );
        }

        // Every document with the same id: later reads rename them as the first did ("same",
        // "same#2", ...), from the first read's record of renames.
        let same = |text: &str| {
            (0..texts.len()).rev().fold(text.to_string(), |text, i| {
                let name = if i == 0 {
                    "same".into()
                } else {
                    format!("same#{}", i + 1)
                };
                text.replace(&format!("\"id\":\"d{i}\""), "\"id\":\"same\"")
                    .replace(&format!("d{i}\t"), &format!("{name}\t"))
                    .replace(&format!("d{i}\n"), &format!("{name}\n"))
            })
        };
        let renamed: Vec<String> = lines.iter().map(|line| same(line)).collect();
        std::fs::write(&path, with_bad_lines(&renamed)).unwrap();
        let expected = separate.clone().map(|out| same(&out));
        assert!(expected[1].contains("same#10\tsame\t"), "{}", expected[1]);
        for (chunk_docs, memory) in [(1, None), (64, None), (2, Some(1))] {
            assert_eq!(
                exact_run(&path, chunk_docs, memory),
                expected,
                "{chunk_docs}"
            );
        }
    }

    #[test]
    fn a_later_read_that_finds_documents_elsewhere_stops_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docs.jsonl");
        let lines: Vec<String> = (0..3)
            .map(|i| format!("{{\"id\":\"d{i}\",\"text\":\"{}\"}}", story(i, &[])))
            .collect();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let mut dedup = Dedup::new(Config::classic(), InputOptions::default());
        dedup.chunk_docs = Some(1);
        let read_with = |layout: &Layout| {
            let mut consumed = 0;
            let read = Reading::again(Pass::Writing, None, true, Some(layout));
            let found = dedup.reread(
                std::slice::from_ref(&path),
                read,
                &mut (),
                None,
                |chunk, _| {
                    consumed += chunk.len();
                },
            );
            (found, consumed)
        };
        let (found, consumed) = read_with(&Layout::default());
        assert!(!found.changed && consumed == 3);
        found.same_as_first(3).unwrap();
        assert!(found.same_as_first(2).is_err());
        // The first read saw no document at place 1: this one does, and stops there.
        let moved = Layout {
            gaps: vec![1],
            renamed: Vec::new(),
        };
        let (found, consumed) = read_with(&moved);
        assert!(found.changed && consumed == 1);
        let message = found.same_as_first(2).unwrap_err().to_string();
        assert!(message.contains("the inputs changed"), "{message}");
    }

    #[test]
    fn greedy_removes_direct_duplicates_of_kept_documents_only() {
        // 0 ~ 1 ~ 2 (a chain: 0 and 2 unalike), 3 ~ 4.
        let edges = [(0, 1, 0.9), (1, 2, 0.85), (3, 4, 0.95)];
        let removals = greedy(5, &edges, &[0, 1, 2, 3, 4]);
        assert_eq!(
            removals,
            [
                Removal {
                    removed: 1,
                    kept: 0,
                    similarity: 0.9
                },
                Removal {
                    removed: 4,
                    kept: 3,
                    similarity: 0.95
                }
            ]
        );
    }

    #[test]
    fn greedy_names_the_most_similar_kept_document() {
        // 0 and 1 unalike, both kept; 2 is closer to 1.
        let edges = [(0, 2, 0.8), (1, 2, 0.9)];
        let removals = greedy(3, &edges, &[0, 1, 2]);
        assert_eq!(removals.len(), 1);
        assert_eq!((removals[0].removed, removals[0].kept), (2, 1));
    }

    #[test]
    fn keep_longest_visits_long_documents_first_ties_in_input_order() {
        assert_eq!(keep_order(4, Keep::Longest, &[5, 9, 5, 9]), [1, 3, 0, 2]);
        assert_eq!(keep_order(3, Keep::First, &[]), [0, 1, 2]);
        let removals = greedy(2, &[(0, 1, 0.9)], &keep_order(2, Keep::Longest, &[3, 7]));
        assert_eq!((removals[0].removed, removals[0].kept), (0, 1));
    }
}
