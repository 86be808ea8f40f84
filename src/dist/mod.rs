//! Dist: the same dedup as the streaming runner (`dedup`), computed by timely/differential dataflow
//! workers spread over threads and processes (feature `dist`).
//!
//! The inputs are split into shards ([`crate::input::shards`]): whole files, or byte ranges
//! of a plain JSONL file (a range owns the lines that *start* in it; compressed files go
//! whole to one worker). Every worker computes the same plan and reads only its own shards,
//! signing their documents with the library's signing stage ([`Signing`]). Then:
//!
//! 1. *(IDF weighting only)* each worker counts the document frequencies of its shards; the
//!    partial tables are broadcast and summed, so every worker weighs with the global table.
//! 2. A census: each shard's document and line counts are broadcast, so every worker numbers
//!    its documents in input order (the documents of earlier shards first) and gives its
//!    problems their line in the file. The numbers are those `dedup` gives, whatever the
//!    plan, so "keep the first" and the outputs do not depend on W or N.
//! 3. `((band, band_key), doc)` is exchanged by bucket, so a bucket lands on one worker; its
//!    members are paired (a star from the first member when it holds more than
//!    [`crate::lsh::MAX_BUCKET`], as [`Banding::candidates`] does); pairs are exchanged by pair, and
//!    those that collide in at least `min_hits` bands are candidates (`dataflow::Buckets`, the
//!    dataflow's candidate source).
//! 4. A candidate is joined with both signatures (they meet on one worker) and kept when its
//!    estimated similarity reaches the threshold: the verified edges.
//! 5. Connected components of the verified edges, by label propagation (differential's
//!    `propagate_at`, each document taking the smallest label among itself and its
//!    neighbours): each component is labelled by its first document in input order.
//!
//! The verified edges (a few per document) and the labels are gathered on worker 0, which
//! runs the library's greedy keep pass ([`crate::keep`]) and writes the outputs with the
//! writing read both runners share ([`crate::runner`]), reading the inputs once more (one
//! output file in input order is written by one process): the kept documents and `removed.tsv` are byte for byte those of
//! `storyprint dedup`, and the clusters are the same for any number of workers and
//! processes.
//!
//! Fail-stop: a worker or process that dies ends the run with an error on the others (or
//! leaves them waiting for a peer that never connects); rerun the job.

use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use differential_dataflow::input::Input as _;
use serde::{Deserialize, Serialize};
use timely::dataflow::operators::probe::Handle as Probe;
use timely::dataflow::operators::vec::Input as _;
use timely::dataflow::operators::{Exchange as _, Inspect as _, Probe as _};
use timely::worker::Worker;

use crate::candidates::CandidateSource as _;
use crate::config::Weighting;
use crate::error::{Error, Result};
use crate::features::DocFreq;
use crate::input::{Problem, Reader, Record, Shard};
use crate::keep::{Keep, greedy, keep_order};
use crate::lsh::{Banding, Scan};
use crate::output::{OutputFile, tsv_field};
use crate::runner::{Dedup, Summary};
use crate::sign::Signing;
use crate::signature::{EMPTY, Signature};
use crate::similarity::{estimated_similarity, estimating};

mod dataflow;

use dataflow::{Buckets, Gathered, all_gather, components, consolidate, gather};

/// Where the workers run: the threads of each process and the processes' addresses (the
/// machine layout, not a group of documents: that is [`crate::cluster::Cluster`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workers {
    /// Worker threads per process.
    pub workers: usize,
    /// `host:port` of every process, in process order (empty: this process alone).
    pub addresses: Vec<String>,
    /// This process's index in `addresses`.
    pub process: usize,
}

impl Workers {
    /// One process with `workers` threads.
    pub fn local(workers: usize) -> Workers {
        Workers {
            workers,
            addresses: Vec::new(),
            process: 0,
        }
    }

    /// Reads a hostfile: one `host:port` per line, process 0 first; blank lines and lines
    /// starting with `#` are ignored.
    pub fn hostfile(path: &std::path::Path, workers: usize, process: usize) -> Result<Workers> {
        let text = std::fs::read_to_string(path).map_err(|error| Error::Io {
            path: path.to_path_buf(),
            error,
        })?;
        let addresses: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from)
            .collect();
        if let Some(bad) = addresses.iter().find(|a| !a.contains(':')) {
            return Err(Error::Config(format!(
                "{}: `{bad}` is not host:port",
                path.display()
            )));
        }
        if process >= addresses.len() {
            return Err(Error::Config(format!(
                "{}: process {process} is not listed ({} processes)",
                path.display(),
                addresses.len()
            )));
        }
        Ok(Workers {
            workers,
            addresses,
            process,
        })
    }

    fn timely(&self) -> Result<timely::Config> {
        if self.workers == 0 {
            return Err(Error::Config("--workers must be at least 1".into()));
        }
        let communication = if self.addresses.len() > 1 {
            timely::CommunicationConfig::Cluster {
                threads: self.workers,
                process: self.process,
                addresses: self.addresses.clone(),
                report: false,
                zerocopy: false,
            }
        } else {
            timely::CommunicationConfig::Process(self.workers)
        };
        Ok(timely::Config {
            communication,
            worker: timely::WorkerConfig::default(),
        })
    }
}

/// The files a run writes (on process 0 only); the writers they are opened into are a
/// [`crate::runner::Outputs`].
#[derive(Debug, Clone, Default)]
pub struct OutputFiles {
    /// The kept documents' original lines.
    pub unique: PathBuf,
    /// `removed_id`, `kept_id`, `similarity` (TSV), as `storyprint dedup --removed`.
    pub removed: Option<PathBuf>,
    /// `doc_id`, `cluster_id`, `kept` for every document (TSV; see [`Assignment`]).
    pub clusters: Option<PathBuf>,
    /// The same as Parquet (feature `parquet`).
    #[cfg(feature = "parquet")]
    pub clusters_parquet: Option<PathBuf>,
}

/// What a run did, on each process.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The whole run's outcome, on process 0 only.
    pub outcome: Option<Outcome>,
    /// Documents this process's workers read from their shards (the sketching passes; with
    /// IDF weighting each shard is read twice and counted once).
    pub documents_read: u64,
    /// Shards this process's workers read.
    pub shards_read: usize,
    /// Skipped documents and unreadable paths this process met, as messages.
    pub warnings: Vec<String>,
}

/// What the whole run did (process 0).
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Documents, bytes, verified pairs, kept and removed (`candidates` is not gathered: 0).
    pub summary: Summary,
    /// Connected components with at least two documents.
    pub components: u64,
}

/// Plain JSONL files are split into byte ranges of at least this size (smaller pieces would
/// cost more in coordination than they save).
pub const MIN_SHARD_BYTES: u64 = 1 << 20;

/// Each document's cluster: the index of the first document (input order) of its connected
/// component of verified pairs (itself when it has none), and whether it is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Cluster label per document.
    pub labels: Vec<u32>,
    /// Kept flag per document.
    pub kept: Vec<bool>,
}

/// A signature as dataflow data: ordered and serialisable (the weight by its bits).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Sketch {
    values: Vec<u32>,
    weight: u64,
    slots: Vec<(u64, u64)>,
}

impl Sketch {
    fn signature(&self) -> Signature {
        Signature {
            values: self.values.clone(),
            weight: f64::from_bits(self.weight),
        }
    }
}

/// Runs the distributed dedup of `paths` as this process of `workers`; every process must
/// be started with the same settings and inputs (at the same paths: each process lists them
/// and reads its own shards). Returns this process's report, with the run's outcome on
/// process 0.
pub fn run(
    dedup: &Dedup,
    workers: &Workers,
    paths: &[PathBuf],
    outputs: &OutputFiles,
) -> Result<Report> {
    dedup.config.validate()?;
    if paths.iter().any(|p| p.as_os_str() == "-") {
        return Err(Error::Config(
            "the workers share the inputs by file and byte range, so they cannot be standard \
             input (-)"
                .into(),
        ));
    }
    let job = Arc::new((dedup.clone(), paths.to_vec(), outputs.clone()));
    let guards = timely::execute(workers.timely()?, move |worker| {
        let (dedup, paths, outputs) = &*job;
        work(worker, dedup, paths, outputs)
    })
    .map_err(|e| Error::Dist(format!("starting the workers: {e}")))?;
    let mut report = Report::default();
    for result in guards.join() {
        match result {
            Ok(Ok(worker)) => {
                report.outcome = report.outcome.or(worker.outcome);
                report.documents_read += worker.documents_read;
                report.shards_read += worker.shards_read;
                report.warnings.extend(worker.warnings);
            }
            Ok(Err(e)) => return Err(e),
            Err(panic) => return Err(Error::Dist(format!("a worker failed: {panic}"))),
        }
    }
    Ok(report)
}

/// What a worker met reading one shard: the census from which every worker numbers the
/// documents in input order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct ShardCount {
    docs: u64,
    bytes: u64,
    /// JSONL lines, blank and bad ones included (to give problems their line in the file).
    lines: u64,
    skipped: u64,
}

/// The shards each worker reads: in input order, each to the worker with the fewest bytes so
/// far (ties: the lowest index), so every worker computes the same plan.
fn owners(shards: &[Shard], peers: usize) -> Vec<usize> {
    let mut load = vec![0u64; peers];
    shards
        .iter()
        .map(|shard| {
            let owner = (0..peers).min_by_key(|&w| (load[w], w)).unwrap_or(0);
            load[owner] += shard.bytes;
            owner
        })
        .collect()
}

/// One worker's part of the run.
fn work(
    worker: &mut Worker,
    dedup: &Dedup,
    paths: &[PathBuf],
    outputs: &OutputFiles,
) -> Result<Report> {
    let leader = worker.index() == 0;
    let (shards, path_problems) =
        crate::input::shards(paths, &dedup.input, worker.peers(), MIN_SHARD_BYTES);
    let owner = owners(&shards, worker.peers());
    let mine: Vec<usize> = (0..shards.len())
        .filter(|&s| owner[s] == worker.index())
        .collect();
    let signing = Signing::new(&dedup.config);
    let freq = match dedup.config.weighting {
        Weighting::Idf => frequencies(worker, dedup, &signing, &shards, &mine),
        Weighting::None => DocFreq::default(),
    };

    // Sketch this worker's shards, numbering documents within each shard.
    let mut state = signing.state(&freq);
    let mut sketches: Vec<(usize, u32, Sketch, u32)> = Vec::new();
    let mut problems: Vec<(usize, Problem)> = Vec::new();
    let counts = read_shards(
        dedup,
        &shards,
        &mine,
        |shard, local, record| {
            let (signature, slots) = signing.sign(&mut state, &record.doc.text);
            let length = u32::try_from(record.doc.text.len()).unwrap_or(u32::MAX);
            let sketch = Sketch {
                weight: signature.weight.to_bits(),
                values: signature.values,
                slots,
            };
            sketches.push((shard, local, sketch, length));
        },
        |shard, problem| problems.push((shard, problem)),
    );
    drop(state);
    drop(freq);

    // The census: every shard's counts, so that each worker numbers its documents in input
    // order (documents of earlier shards first) and places its problems on their line.
    let census = Rc::new(RefCell::new(vec![ShardCount::default(); shards.len()]));
    let sink = Rc::clone(&census);
    all_gather(worker, counts, move |&(shard, count)| {
        sink.borrow_mut()[shard] = count;
    });
    let census = census.take();
    let mut first_doc = Vec::with_capacity(shards.len());
    let mut first_line = Vec::with_capacity(shards.len());
    let (mut docs, mut lines) = (0u64, 0u64);
    for (s, count) in census.iter().enumerate() {
        if s > 0 && shards[s].file != shards[s - 1].file {
            lines = 0;
        }
        first_doc.push(docs);
        first_line.push(lines);
        docs += count.docs;
        lines += count.lines;
    }
    let too_many = || Error::Config(format!("{docs} documents: dist numbers them with 32 bits"));
    let global = |shard: usize, local: u32| {
        u32::try_from(first_doc[shard] + u64::from(local)).map_err(|_| too_many())
    };
    let mut warnings: Vec<String> = Vec::new();
    if leader {
        warnings.extend(path_problems.iter().map(warning));
    }
    for (shard, mut problem) in problems {
        if let Some(line) = problem.origin.line.as_mut() {
            *line += first_line[shard];
        }
        warnings.push(warning(&problem));
    }

    let config = estimating(&dedup.config);
    let banding = Banding::for_config(&config, Scan::Streaming);
    let edges: Gathered<(u32, u32, u64)> = Rc::default();
    let labels: Gathered<(u32, u32)> = Rc::default();
    let lengths: Rc<RefCell<Vec<(u32, u32)>>> = Rc::default();
    let probe = Probe::new();
    let (mut sketch_input, mut band_input, mut length_input) =
        worker.dataflow::<u32, _, _>(|scope| {
            let (sketch_input, sketches) = scope.new_collection::<(u32, Sketch), isize>();
            let (band_input, bands) = scope.new_input::<((u32, u64), u32)>();
            let (length_input, doc_lengths) = scope.new_input::<(u32, u32)>();
            let candidates = Buckets.find(&banding, bands);
            let threshold = config.threshold;
            let judge = config.clone();
            let verified = candidates
                .join_map(sketches.clone(), |&a, &b, sketch_a| {
                    (b, (a, sketch_a.clone()))
                })
                .join_map(sketches, move |&b, (a, sketch_a), sketch_b| {
                    let s = estimated_similarity(
                        &judge,
                        (&sketch_a.signature(), &sketch_a.slots),
                        (&sketch_b.signature(), &sketch_b.slots),
                    );
                    (*a, b, s.to_bits())
                })
                .filter(move |&(_, _, s)| f64::from_bits(s) >= threshold);
            let components = components(verified.clone().map(|(a, b, _)| (a, b)));
            gather(verified.inner, &edges, &probe);
            gather(components.inner, &labels, &probe);
            let sink = Rc::clone(&lengths);
            doc_lengths
                .exchange(|_| 0)
                .inspect(move |&pair| sink.borrow_mut().push(pair))
                .probe_with(&probe);
            (sketch_input, band_input, length_input)
        });
    let longest = dedup.keep == Keep::Longest;
    let (documents_read, shards_read) = (sketches.len() as u64, mine.len());
    for (i, (shard, local, sketch, length)) in sketches.into_iter().enumerate() {
        let doc = global(shard, local)?;
        if longest {
            length_input.send((doc, length));
        }
        if sketch.values.first().is_some_and(|&v| v != EMPTY) {
            let signature = sketch.signature();
            for (band, key) in banding.band_keys(&signature) {
                band_input.send(((band as u32, key), doc));
            }
        }
        sketch_input.insert((doc, sketch));
        if (i + 1).is_multiple_of(1024) {
            sketch_input.flush();
            band_input.flush();
            worker.step();
        }
    }
    drop((sketch_input, band_input, length_input));
    worker.step_while(|| !probe.done());
    let mut report = Report {
        outcome: None,
        documents_read,
        shards_read,
        warnings,
    };
    if !leader {
        return Ok(report);
    }

    let mut summary = Summary {
        skipped: path_problems.iter().filter(|p| !p.is_note()).count() as u64,
        ..Summary::default()
    };
    for count in &census {
        summary.documents += count.docs;
        summary.bytes += count.bytes;
        summary.skipped += count.skipped;
    }
    let n = usize::try_from(summary.documents).map_err(|_| too_many())?;
    let mut doc_lengths = vec![0u32; if longest { n } else { 0 }];
    for &(doc, length) in lengths.borrow().iter() {
        doc_lengths[doc as usize] = length;
    }
    let edges: Vec<(u32, u32, f64)> = consolidate(&edges.borrow())
        .into_iter()
        .map(|(a, b, s)| (a, b, f64::from_bits(s)))
        .collect();
    summary.verified = edges.len() as u64;
    let removals = greedy(n, &edges, &keep_order(n, dedup.keep, &doc_lengths));
    summary.removed = removals.len() as u64;
    summary.kept = summary.documents - summary.removed;
    let mut assignment = Assignment {
        labels: (0..n as u32).collect(),
        kept: vec![true; n],
    };
    for (doc, label) in consolidate(&labels.borrow()) {
        assignment.labels[doc as usize] = label;
    }
    for r in &removals {
        assignment.kept[r.removed as usize] = false;
    }
    let components = assignment
        .labels
        .iter()
        .enumerate()
        .filter(|&(doc, &label)| label as usize != doc)
        .map(|(_, &label)| label)
        .collect::<std::collections::BTreeSet<u32>>()
        .len() as u64;

    let mut unique = OutputFile::create(&outputs.unique)?;
    let mut removed = outputs
        .removed
        .as_deref()
        .map(OutputFile::create)
        .transpose()?;
    let mut written = summary.clone();
    dedup.write(
        paths,
        &edges,
        &removals,
        crate::runner::Outputs {
            unique: &mut unique,
            removed: removed.as_mut().map(|w| w as &mut dyn Write),
            pairs: None,
        },
        &mut (),
        &mut written,
    )?;
    // Every output replaces its file only once all are written.
    let mut written_files: Vec<OutputFile> = std::iter::once(unique).chain(removed).collect();
    if let Some(path) = &outputs.clusters {
        let mut out = OutputFile::create(path)?;
        writeln!(out, "doc_id\tcluster_id\tkept")?;
        for_each_assignment(dedup, paths, &assignment, |id, cluster, kept| {
            writeln!(
                out,
                "{}\t{}\t{}",
                tsv_field(id),
                tsv_field(cluster),
                u8::from(kept)
            )
        })?;
        written_files.push(out);
    }
    #[cfg(feature = "parquet")]
    if let Some(path) = &outputs.clusters_parquet {
        let mut rows = Vec::with_capacity(n);
        for_each_assignment(dedup, paths, &assignment, |id, cluster, kept| {
            rows.push((id.to_string(), cluster.to_string(), kept));
            Ok(())
        })?;
        crate::output::parquet::write_clusters(path, &rows)?;
    }
    for file in written_files {
        file.commit()?;
    }
    report.outcome = Some(Outcome {
        summary,
        components,
    });
    Ok(report)
}

/// A problem as a printed message.
fn warning(problem: &Problem) -> String {
    let level = if problem.is_note() { "note" } else { "warning" };
    format!("{level}: {problem}")
}

/// Reads `mine` of the `shards`, calling `each` with every document's shard, its index in
/// the shard and its record, and `problem` with every skipped document; returns each shard's
/// counts.
fn read_shards(
    dedup: &Dedup,
    shards: &[Shard],
    mine: &[usize],
    mut each: impl FnMut(usize, u32, &Record),
    mut problem: impl FnMut(usize, Problem),
) -> Vec<(usize, ShardCount)> {
    let mut counts = Vec::with_capacity(mine.len());
    for &shard in mine {
        let mut reader = Reader::shard(&shards[shard], dedup.input.clone());
        let mut count = ShardCount::default();
        while let Some(item) = reader.next_record() {
            match item {
                Ok(record) => {
                    let local = u32::try_from(count.docs).unwrap_or(u32::MAX);
                    each(shard, local, &record);
                    count.docs += 1;
                    count.bytes += record.doc.text.len() as u64;
                }
                Err(p) => {
                    count.skipped += u64::from(!p.is_note());
                    problem(shard, p);
                }
            }
        }
        count.lines = reader.lines_read();
        counts.push((shard, count));
    }
    counts
}

/// Global document frequencies: each worker counts its shards, the tables are broadcast and
/// summed (counts: the sum is the same in any order).
fn frequencies(
    worker: &mut Worker,
    dedup: &Dedup,
    signing: &Signing,
    shards: &[Shard],
    mine: &[usize],
) -> DocFreq {
    let analyzer = signing.analyzer();
    let mut local = DocFreq::default();
    read_shards(
        dedup,
        shards,
        mine,
        |_, _, record| signing.count_terms(&mut local, &analyzer, &record.doc.text),
        |_, _| {},
    );
    drop(analyzer);
    let global = Rc::new(RefCell::new(DocFreq::default()));
    let sink = Rc::clone(&global);
    let items = std::iter::once((None, local.docs)).chain(
        local
            .counts
            .into_iter()
            .map(|(key, count)| (Some(key), count)),
    );
    all_gather(worker, items, move |&(key, count): &(Option<u64>, u64)| {
        let mut freq = sink.borrow_mut();
        match key {
            Some(key) => *freq.counts.entry(key).or_insert(0) += count,
            None => freq.docs += count,
        }
    });
    global.take()
}

/// Reads the inputs again and calls `each` with every document's id, its cluster's id and
/// whether it is kept, in input order. Holds every id in memory (worker 0 only).
fn for_each_assignment(
    dedup: &Dedup,
    paths: &[PathBuf],
    assignment: &Assignment,
    mut each: impl FnMut(&str, &str, bool) -> std::io::Result<()>,
) -> Result<()> {
    let ids: Vec<String> = Reader::new(paths, dedup.input.clone())
        .filter_map(|item| item.ok().map(|doc| doc.id))
        .collect();
    if ids.len() != assignment.labels.len() {
        return Err(Error::Config(format!(
            "the inputs changed while being read: {} documents, then {}",
            assignment.labels.len(),
            ids.len()
        )));
    }
    for (doc, id) in ids.iter().enumerate() {
        let cluster = &ids[assignment.labels[doc] as usize];
        each(id, cluster, assignment.kept[doc])?;
    }
    Ok(())
}
