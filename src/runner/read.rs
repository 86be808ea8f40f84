//! The reads of a dedup run (either runner's writing read, and every pass of `dedup`): the
//! inputs streamed in chunks through a pipeline of parsing, processing and completion, in
//! input order, and the later reads that number documents from the first read's layout.

use rayon::prelude::*;

use super::{Dedup, Observer, Pass, Summary};
use crate::error::{Error, Result};
use crate::features::{DocFreq, Feature};
use crate::input::{Problem, Raw, Reader, Record};
use crate::sign::Signing;
use std::path::PathBuf;

/// Documents per piece of a chunk that one thread processes, at most. A piece runs to its
/// end on the thread that took it, so the other threads may wait for the chunk's last one:
/// rayon's own pieces (a quarter of a chunk on two threads) left them idle for 4 % of the
/// signature pass at 1 M documents, two threads; smaller pieces cost one state each.
const PIECE_DOCS: usize = 64;

/// How a pass reads the inputs (see [`Dedup::for_each_chunk`]).
#[derive(Clone, Copy)]
pub(crate) struct Reading<'a> {
    pub(crate) pass: Pass,
    /// Documents expected, when known (for the progress bar).
    pub(crate) total: Option<u64>,
    /// Report problems and renamed ids (the first pass does).
    pub(crate) report: bool,
    /// Hand the records' lines ([`Record::line`]) to `consume`; otherwise ids only. Either way
    /// a JSONL record's text is dropped once processed: its line holds it.
    pub(crate) keep_lines: bool,
    /// The first read's [`Layout`]: a later read of the same inputs numbers its documents
    /// before they are parsed (`process` knows which one it has) and renames ids from it.
    pub(crate) layout: Option<&'a Layout>,
}

impl Reading<'_> {
    /// A read without a layout, that numbers the documents as it finds them and keeps no
    /// lines: the first read of a run (`report`: it reports problems), or one that needs no
    /// numbers.
    pub(crate) fn new(pass: Pass, total: Option<u64>, report: bool) -> Reading<'static> {
        Reading {
            pass,
            total,
            report,
            keep_lines: false,
            layout: None,
        }
    }

    /// A later read (problems were reported by the first).
    pub(crate) fn again(
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
pub(crate) struct Found {
    /// Documents.
    pub(crate) docs: u64,
    /// Their text bytes.
    pub(crate) bytes: u64,
    /// Documents skipped for a problem (notes excluded).
    pub(crate) skipped: u64,
    /// Where the documents were (recorded by a read without a layout).
    pub(crate) layout: Layout,
    /// A later read found a document where the first found none, or the reverse: the inputs
    /// changed between the reads, and the read stopped there.
    pub(crate) changed: bool,
}

impl Found {
    /// An error unless this later read found the first read's `n` documents where it found
    /// them.
    pub(crate) fn same_as_first(&self, n: usize) -> Result<()> {
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
pub(crate) struct Layout {
    /// The places, in the order the reader gives them, of the items that were not documents
    /// (problems).
    pub(crate) gaps: Vec<u64>,
    /// The documents whose repeated id was renamed, with the suffix renaming appended, in
    /// order.
    pub(crate) renamed: Vec<(usize, String)>,
}

/// The documents a later read recomputes exact feature sets for, by number, and how.
pub(crate) struct Recompute<'a> {
    /// The signing stage, whose analyzers are lent to the read's jobs.
    pub(crate) signing: &'a Signing,
    pub(crate) freq: &'a DocFreq,
    pub(crate) wanted: &'a (dyn Fn(usize) -> bool + Sync),
}

/// A parsed chunk: each item's number when the read numbers documents, and its record with
/// what `process` made of it and its text's length, or why it was skipped (see
/// [`Dedup::for_each_chunk`]).
type Parsed<T> = Vec<(
    Option<usize>,
    std::result::Result<(Record, T, u64), Problem>,
)>;

impl Dedup {
    /// Streams the inputs in chunks, in a pipeline of three stages: while the pool parses
    /// chunk *k* and gives each record to `process`, the calling thread reads chunk *k + 1*
    /// and completes chunk *k − 1* in order (repeated ids renamed) and hands its records to
    /// `consume` with what `process` made of them. So neither reading nor `consume` leaves the
    /// pool idle, and the result is the same for any thread count. `process` is given the
    /// document's number when the read has a [`Layout`]. What `consume` does not need of a
    /// record ([`Reading::keep_lines`]) is dropped on the thread that processed it.
    pub(crate) fn for_each_chunk<S, T: Send>(
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
    pub(crate) fn reread(
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
            || recompute.map(|r| r.signing.analyzer()),
            |analyzer, doc, record| {
                let (r, analyzer) = (recompute?, analyzer.as_deref()?);
                (doc.is_some_and(r.wanted))
                    .then(|| r.signing.exact_features(analyzer, r.freq, &record.doc.text))
            },
            consume,
        )
    }

    pub(crate) fn frequencies(
        &self,
        paths: &[PathBuf],
        signing: &Signing,
        observer: &mut dyn Observer,
        summary: &mut Summary,
    ) -> DocFreq {
        let mut freq = DocFreq::default();
        let read = Reading::new(Pass::Frequencies, None, true);
        let found = self.for_each_chunk(
            paths,
            read,
            observer,
            || signing.analyzer(),
            |analyzer, _, record| {
                let mut one = DocFreq::default();
                signing.count_terms(&mut one, analyzer, &record.doc.text);
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
}
