//! Dedup: streams a corpus of any size, removes near-duplicates, and writes every kept
//! document's original line unchanged.
//!
//! Memory holds one signature per document (plus its length with `--keep longest`), never the
//! text or the features, so the corpus is read in passes:
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
//! **The keep rule.** Documents are visited in keep order: input order for
//! [`Keep::First`], longest text first for [`Keep::Longest`] (ties: input order). A document
//! is removed when it has a verified pair with a document already kept; it names the kept
//! document it is most similar to (ties: earliest in keep order) and that similarity.
//! Otherwise it is kept. So every removed document duplicates a kept one *directly*, never
//! through a chain (A ~ B ~ C with A and C unalike keeps A and C), and a removal can always
//! be checked by comparing the two documents named in `removed.tsv`.
//!
//! Every step is in a fixed order, so the output is identical for any thread count.

use std::io::Write;
use std::path::PathBuf;

use ahash::AHashMap;
use rayon::prelude::*;

use crate::config::{Config, Weighting};
use crate::error::{Error, Result};
use crate::input::{InputOptions, Problem, Raw, Reader, Record};
use crate::lsh::Banding;
use crate::normalize::normalize;
use crate::pipeline::{Evidence, lsh_threshold, similarity_of};
use crate::shingle::{
    DocFreq, Feature, Slot, WordBuffers, fact_slots, fast_features, fast_sketch, features,
};
use crate::signature::{Signature, Sketcher};
use crate::tokenize::Analyzer;

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
    /// A repeated id renamed (first pass only).
    fn renamed(&mut self, _warning: &str) {}
    /// A pass starts; `total` is the number of documents when known.
    fn start(&mut self, _pass: Pass, _total: Option<u64>) {}
    /// Documents and text bytes read so far in the current pass.
    fn progress(&mut self, _docs: u64, _bytes: u64) {}
    /// The current pass is over.
    fn finish(&mut self) {}
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
}

/// Where a dedup run writes.
pub struct Outputs<'a> {
    /// The kept documents' lines.
    pub unique: &'a mut dyn Write,
    /// TSV `removed_id`, `kept_id`, `similarity`: one line per removed document.
    pub removed: Option<&'a mut dyn Write>,
    /// TSV `a`, `b`, `similarity`: every verified pair (what the removals were chosen from),
    /// sorted by document.
    pub pairs: Option<&'a mut dyn Write>,
}

/// Settings of a dedup run.
#[derive(Debug, Clone)]
pub struct Dedup {
    /// The engine configuration (`exact` is ignored: see `verify_exact`).
    pub config: Config,
    /// Judge candidate pairs by their exact similarity, from feature sets recomputed in an
    /// extra read of the documents that are in candidate pairs; `false`: by the estimate from
    /// the signatures (one read less, noisier near the threshold).
    pub verify_exact: bool,
    /// How inputs are read.
    pub input: InputOptions,
    /// Which document of a group is kept.
    pub keep: Keep,
    /// Documents sketched per parallel chunk (bounds the text held in memory).
    pub chunk_docs: usize,
}

/// Documents per chunk by default: enough to keep every core busy, a few MB of text.
pub const CHUNK_DOCS: usize = 2048;

/// A verified pair: two documents (input order, `a < b`) and their similarity (estimated, or
/// exact with [`Dedup::verify_exact`]).
pub type Edge = (u32, u32, f64);

/// How a pass reads the inputs (see [`Dedup::for_each_chunk`]).
#[derive(Clone, Copy)]
struct Reading {
    pass: Pass,
    /// Documents expected, when known (for the progress bar).
    total: Option<u64>,
    /// Report problems and renamed ids (the first pass does).
    report: bool,
    /// Hand the records' text and lines to `consume` (otherwise ids only).
    keep_text: bool,
}

/// Per-document state kept between the passes.
struct Sketches {
    signatures: Vec<Signature>,
    lengths: Vec<u32>,
    /// Fact slots per document, only with `config.fact_check`.
    slots: Vec<Vec<Slot>>,
}

impl Sketches {
    /// Document `i`'s fact slots (none without the fact check).
    fn slots_of(&self, i: u32) -> &[Slot] {
        self.slots.get(i as usize).map_or(&[][..], Vec::as_slice)
    }
}

impl Dedup {
    /// Settings with the default keep rule and chunk size.
    pub fn new(config: Config, input: InputOptions) -> Dedup {
        Dedup {
            config,
            input,
            keep: Keep::First,
            chunk_docs: CHUNK_DOCS,
            verify_exact: false,
        }
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
    /// assert_eq!(String::from_utf8(removed).unwrap(), "removed_id\tkept_id\tsimilarity\nb\ta\t1.0000\n");
    /// ```
    pub fn run(
        &self,
        paths: &[PathBuf],
        outputs: Outputs<'_>,
        observer: &mut dyn Observer,
    ) -> Result<Summary> {
        self.config.validate()?;
        if paths.iter().any(|p| p.as_os_str() == "-") {
            return Err(Error::Config(
                "dedup reads its inputs twice, so it cannot read standard input (-); \
                 save it to a file first"
                    .into(),
            ));
        }
        let mut summary = Summary::default();
        let freq = match self.config.weighting {
            Weighting::Idf => self.frequencies(paths, observer, &mut summary),
            Weighting::None => DocFreq::default(),
        };
        let first_pass = self.config.weighting == Weighting::None;
        let sketches = self.sketch(paths, &freq, first_pass, observer, &mut summary);
        let candidates = self.candidates(&sketches, &mut summary);
        let edges = if self.verify_exact {
            self.verify_exactly(paths, &freq, &sketches, candidates, observer)
        } else {
            self.verify_estimated(&sketches, candidates)
        };
        drop(freq);
        let removals = self.select(&sketches, &edges, &mut summary);
        let n = sketches.signatures.len();
        drop(sketches);
        self.write(paths, n, &edges, &removals, outputs, observer, &mut summary)?;
        Ok(summary)
    }

    /// Streams the inputs in chunks. Lines are read in order on one thread while the chunk
    /// before is parsed and given to `process` on the others; records are then completed in
    /// order (repeated ids renamed) and handed to `consume` with what `process` made of them,
    /// so the result is the same for any thread count. Unless `read.keep_text`, each record's
    /// text and line are dropped on the thread that processed it (`consume` sees ids).
    fn for_each_chunk<S, T: Send>(
        &self,
        paths: &[PathBuf],
        read: Reading,
        observer: &mut dyn Observer,
        init: impl Fn() -> S + Sync + Send,
        process: impl Fn(&mut S, &Record) -> T + Sync + Send,
        mut consume: impl FnMut(&[Record], Vec<T>),
    ) -> (u64, u64, u64) {
        observer.start(read.pass, read.total);
        let mut reader = Reader::new(paths, self.input.clone());
        let (mut docs, mut bytes, mut skipped) = (0u64, 0u64, 0u64);
        let chunk_docs = self.chunk_docs.max(1);
        let next_chunk = |reader: &mut Reader| -> Vec<Raw> {
            std::iter::from_fn(|| reader.next_raw())
                .take(chunk_docs)
                .collect()
        };
        let parse = |raws: Vec<Raw>| -> Vec<std::result::Result<(Record, T, u64), Problem>> {
            raws.into_par_iter()
                .map_init(&init, |state, raw| {
                    let mut record = raw.parse(&self.input)?;
                    let made = process(state, &record);
                    let len = record.doc.text.len() as u64;
                    if !read.keep_text {
                        record.doc.text = String::new();
                        record.raw = None;
                    }
                    Ok((record, made, len))
                })
                .collect()
        };
        let mut chunk: Vec<Record> = Vec::with_capacity(chunk_docs);
        let mut made: Vec<T> = Vec::with_capacity(chunk_docs);
        let mut raws = next_chunk(&mut reader);
        while !raws.is_empty() {
            let (next, items) = rayon::join(|| next_chunk(&mut reader), || parse(raws));
            for item in items {
                match item.and_then(|(record, out, len)| Ok((reader.finish(Ok(record))?, out, len)))
                {
                    Ok((record, out, len)) => {
                        bytes += len;
                        chunk.push(record);
                        made.push(out);
                    }
                    Err(problem) => {
                        if read.report {
                            observer.problem(&problem);
                        }
                        if !problem.is_note() {
                            skipped += 1;
                        }
                    }
                }
            }
            if read.report {
                for warning in reader.take_renamed() {
                    observer.renamed(&warning);
                }
            }
            docs += chunk.len() as u64;
            consume(&chunk, std::mem::take(&mut made));
            chunk.clear();
            observer.progress(docs, bytes);
            raws = next;
        }
        observer.finish();
        (docs, bytes, skipped)
    }

    fn frequencies(
        &self,
        paths: &[PathBuf],
        observer: &mut dyn Observer,
        summary: &mut Summary,
    ) -> DocFreq {
        let config = &self.config;
        let mut freq = DocFreq::default();
        let read = Reading {
            pass: Pass::Frequencies,
            total: None,
            report: true,
            keep_text: false,
        };
        let (docs, bytes, skipped) = self.for_each_chunk(
            paths,
            read,
            observer,
            || Analyzer::new(config.language),
            |analyzer, record| {
                let mut one = DocFreq::default();
                one.add(&terms_of(analyzer, config, &record.doc.text));
                one
            },
            |_, counts| {
                freq.merge(counts.into_par_iter().reduce(DocFreq::default, |mut a, b| {
                    a.merge(b);
                    a
                }))
            },
        );
        (summary.documents, summary.bytes, summary.skipped) = (docs, bytes, skipped);
        freq
    }

    fn sketch(
        &self,
        paths: &[PathBuf],
        freq: &DocFreq,
        report: bool,
        observer: &mut dyn Observer,
        summary: &mut Summary,
    ) -> Sketches {
        let config = &self.config;
        let sketcher = Sketcher::new(config.num_hashes, config.seed);
        let longest = self.keep == Keep::Longest;
        let mut sketches = Sketches {
            signatures: Vec::new(),
            lengths: Vec::new(),
            slots: Vec::new(),
        };
        let read = Reading {
            pass: Pass::Signatures,
            total: (!report).then_some(summary.documents),
            report,
            keep_text: false,
        };
        let (docs, bytes, skipped) = self.for_each_chunk(
            paths,
            read,
            observer,
            || Sketching::new(config),
            |state, record| {
                let length = u32::try_from(record.doc.text.len()).unwrap_or(u32::MAX);
                let (signature, slots) =
                    sketch_of(state, &sketcher, config, freq, &record.doc.text);
                (signature, slots, length)
            },
            |_, made| {
                for (signature, slots, length) in made {
                    sketches.signatures.push(signature);
                    if config.fact_check {
                        sketches.slots.push(slots);
                    }
                    if longest {
                        sketches.lengths.push(length);
                    }
                }
            },
        );
        (summary.documents, summary.bytes, summary.skipped) = (docs, bytes, skipped);
        sketches
    }

    /// LSH candidate pairs over the signatures.
    fn candidates(&self, sketches: &Sketches, summary: &mut Summary) -> Vec<(u32, u32)> {
        let banding = Banding::optimal(dedup_lsh_threshold(&self.config), self.config.num_hashes);
        let candidates = banding.candidates(&sketches.signatures);
        summary.candidates = candidates.len() as u64;
        candidates
    }

    /// The candidate pairs whose estimated similarity reaches the threshold.
    fn verify_estimated(&self, sketches: &Sketches, candidates: Vec<(u32, u32)>) -> Vec<Edge> {
        let config = &estimating(&self.config);
        let signatures = &sketches.signatures;
        candidates
            .into_par_iter()
            .filter_map(|(a, b)| {
                let s = estimated_similarity(
                    config,
                    (&signatures[a as usize], sketches.slots_of(a)),
                    (&signatures[b as usize], sketches.slots_of(b)),
                );
                (s >= config.threshold).then_some((a, b, s))
            })
            .collect()
    }

    /// The candidate pairs whose exact similarity reaches the threshold: the feature sets of
    /// the documents in candidate pairs are recomputed in one more read (only theirs are held).
    fn verify_exactly(
        &self,
        paths: &[PathBuf],
        freq: &DocFreq,
        sketches: &Sketches,
        candidates: Vec<(u32, u32)>,
        observer: &mut dyn Observer,
    ) -> Vec<Edge> {
        let config = &Config {
            exact: true,
            ..self.config.clone()
        };
        let n = sketches.signatures.len();
        let mut wanted = vec![false; n];
        for &(a, b) in &candidates {
            wanted[a as usize] = true;
            wanted[b as usize] = true;
        }
        let mut features: Vec<Vec<Feature>> = vec![Vec::new(); n];
        let mut next = 0usize;
        let read = Reading {
            pass: Pass::Verifying,
            total: Some(n as u64),
            report: false,
            keep_text: true,
        };
        self.for_each_chunk(
            paths,
            read,
            observer,
            || (),
            |(), _| (),
            |chunk, _| {
                let first = next;
                next += chunk.len();
                let computed: Vec<(usize, Vec<Feature>)> = chunk
                    .par_iter()
                    .enumerate()
                    .filter(|&(i, _)| wanted.get(first + i).copied().unwrap_or(false))
                    .map_init(
                        || Analyzer::new(config.language),
                        |analyzer, (i, record)| {
                            let (f, _) =
                                document_evidence(&record.doc.text, analyzer, config, freq);
                            (first + i, f)
                        },
                    )
                    .collect();
                for (i, f) in computed {
                    features[i] = f;
                }
            },
        );
        let signatures = &sketches.signatures;
        let evidence = |i: u32| Evidence {
            features: &features[i as usize],
            signature: &signatures[i as usize],
            slots: sketches.slots_of(i),
        };
        candidates
            .into_par_iter()
            .filter_map(|(a, b)| {
                let s = similarity_of(config, &evidence(a), &evidence(b));
                (s >= config.threshold).then_some((a, b, s))
            })
            .collect()
    }

    /// The greedy keep pass over the verified pairs: the removals, sorted by removed document.
    fn select(&self, sketches: &Sketches, edges: &[Edge], summary: &mut Summary) -> Vec<Removal> {
        let n = sketches.signatures.len();
        summary.verified = edges.len() as u64;
        let order = keep_order(n, self.keep, &sketches.lengths);
        let removals = greedy(n, edges, &order);
        summary.removed = removals.len() as u64;
        summary.kept = n as u64 - summary.removed;
        removals
    }

    /// The second read: kept lines to `unique`, then `removed.tsv`. Public so that the
    /// distributed runner writes exactly what `dedup` writes from the same removals.
    #[allow(clippy::too_many_arguments)]
    pub fn write(
        &self,
        paths: &[PathBuf],
        n: usize,
        edges: &[Edge],
        removals: &[Removal],
        outputs: Outputs<'_>,
        observer: &mut dyn Observer,
        summary: &mut Summary,
    ) -> Result<()> {
        let Outputs {
            unique,
            removed,
            pairs,
        } = outputs;
        let mut is_removed = vec![false; n];
        let mut named: AHashMap<u32, String> = AHashMap::new();
        for r in removals {
            is_removed[r.removed as usize] = true;
            if removed.is_some() {
                named.insert(r.removed, String::new());
                named.insert(r.kept, String::new());
            }
        }
        if pairs.is_some() {
            for &(a, b, _) in edges {
                named.insert(a, String::new());
                named.insert(b, String::new());
            }
        }
        let mut failure: Option<std::io::Error> = None;
        let mut index = 0usize;
        let read = Reading {
            pass: Pass::Writing,
            total: Some(summary.documents),
            report: false,
            keep_text: true,
        };
        self.for_each_chunk(
            paths,
            read,
            observer,
            || (),
            |(), _| (),
            |chunk, _| {
                for record in chunk {
                    if index >= n {
                        break;
                    }
                    if let Some(id) = named.get_mut(&(index as u32)) {
                        id.clone_from(&record.doc.id);
                    }
                    if failure.is_none() && !is_removed[index] {
                        let line = record.line(&self.input);
                        if let Err(e) = unique
                            .write_all(line.as_bytes())
                            .and_then(|()| unique.write_all(b"\n"))
                        {
                            failure = Some(e);
                        }
                    }
                    index += 1;
                }
            },
        );
        if let Some(e) = failure {
            return Err(Error::Output(e));
        }
        if index != n {
            return Err(Error::Config(format!(
                "the inputs changed while being read: {n} documents in the first pass, {index} in \
                 the second"
            )));
        }
        unique.flush()?;
        if let Some(out) = removed {
            writeln!(out, "removed_id\tkept_id\tsimilarity")?;
            for r in removals {
                writeln!(
                    out,
                    "{}\t{}\t{:.4}",
                    named[&r.removed], named[&r.kept], r.similarity
                )?;
            }
            out.flush()?;
        }
        if let Some(out) = pairs {
            writeln!(out, "a\tb\tsimilarity")?;
            for &(a, b, similarity) in edges {
                writeln!(out, "{}\t{}\t{similarity:.4}", named[&a], named[&b])?;
            }
            out.flush()?;
        }
        Ok(())
    }
}

/// The features of a raw text and, with `config.fact_check`, its fact slots.
fn document_evidence(
    text: &str,
    analyzer: &Analyzer,
    config: &Config,
    freq: &DocFreq,
) -> (Vec<Feature>, Vec<Slot>) {
    if !config.fact_check
        && let Some(features) = fast_features(text, config)
    {
        return (features, Vec::new());
    }
    let text = normalize(text, config.strip_chrome);
    let terms = analyzer.terms(&text);
    let slots = fact_slots(&terms, config);
    (features(&text, &terms, config, freq), slots)
}

/// The Jaccard similarity dedup tunes LSH to: three standard deviations of a K-value estimate
/// below the engine's (but at least three quarters of it). The optimal banding puts the
/// middle of its S-curve at the threshold, so a pair just above it would be a candidate only
/// about half the time, and then pass the equally noisy estimate about half the time again;
/// tuned lower, LSH lets through every pair whose estimate can reach the threshold and the
/// verification alone decides (measured with `bench/compare.sh`: recall of verified pairs
/// 0.90 → see the README).
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

/// One document's terms, as the frequency pass counts them.
pub fn terms_of(analyzer: &Analyzer, config: &Config, text: &str) -> Vec<crate::tokenize::Term> {
    analyzer.terms(&normalize(text, config.strip_chrome))
}

/// What one thread sketches documents with: the analyzer, and the buffers the word path
/// reuses from one document to the next.
pub struct Sketching {
    analyzer: Analyzer,
    buffers: WordBuffers,
}

impl Sketching {
    /// A fresh state for a configuration's language.
    pub fn new(config: &Config) -> Sketching {
        Sketching {
            analyzer: Analyzer::new(config.language),
            buffers: WordBuffers::default(),
        }
    }
}

/// One document's signature and fact slots, as the signature pass computes them (also for
/// runners that sketch documents one at a time, such as the distributed one).
pub fn sketch_of(
    state: &mut Sketching,
    sketcher: &Sketcher,
    config: &Config,
    freq: &DocFreq,
    text: &str,
) -> (Signature, Vec<Slot>) {
    if !config.fact_check
        && let Some(signature) = fast_sketch(text, config, sketcher, &mut state.buffers)
    {
        return (signature, Vec::new());
    }
    let (features, slots) = document_evidence(text, &state.analyzer, config, freq);
    (sketcher.sketch(&features), slots)
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

/// The greedy keep pass (see the module docs): visits documents in `order`; one with a
/// verified pair to an already kept document is removed in favour of the most similar one.
/// Returns the removals sorted by removed document.
pub fn greedy(n: usize, edges: &[Edge], order: &[u32]) -> Vec<Removal> {
    let mut rank = vec![0u32; n];
    for (r, &i) in order.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    // Adjacency in compressed rows: each document's neighbours with their similarity.
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
    let mut kept = vec![false; n];
    let mut removals = Vec::new();
    for &doc in order {
        let best = neighbours[start[doc as usize]..start[doc as usize + 1]]
            .iter()
            .filter(|&&(other, _)| kept[other as usize])
            .min_by(|x, y| {
                y.1.total_cmp(&x.1)
                    .then(rank[x.0 as usize].cmp(&rank[y.0 as usize]))
            });
        match best {
            Some(&(other, similarity)) => removals.push(Removal {
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

#[cfg(test)]
mod tests {
    use super::*;

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
