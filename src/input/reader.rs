//! The reader: the documents of a list of paths, streamed in input order, repeated ids
//! renamed; or one shard of them, for a worker of a distributed run.

use std::collections::hash_map::Entry;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use ahash::AHashMap;

use super::jsonl::{Lines, Raw};
use super::text::read_text;
use super::time::document_time;
use super::walk::{Source, SourceKind, expand};
use super::{Document, InputOptions, Item, Origin, Problem, Record, RecordItem, parquet};

/// Streams the documents of a list of paths, in order, one at a time; memory is bounded by
/// the largest document. Repeated ids are renamed `id#2`, `id#3`… with a warning naming both
/// places (a [`Problem`] is not raised; see [`Reader::take_renamed`]).
pub struct Reader {
    sources: std::vec::IntoIter<Source>,
    pending: std::vec::IntoIter<Problem>,
    current: Option<Lines>,
    /// The Parquet file being read.
    rows: Option<parquet::Rows>,
    options: InputOptions,
    /// Each id seen, by its 128-bit hash ([`id_key`]): where it was first met (index into
    /// `opened`, line) and how many times. Keys, not strings: a fixed 16 bytes per document
    /// however long the ids, and no copy of each id.
    seen: AHashMap<u128, (u32, Option<u64>, u32)>,
    /// The sources opened so far, in order.
    opened: Vec<PathBuf>,
    renamed: Vec<String>,
    /// The byte range of a [`Shard`] of a plain JSONL file.
    range: Option<(u64, u64)>,
    /// JSONL lines read so far (blank ones included).
    lines_read: u64,
    /// Documents completed so far that were asked for a time and have none.
    untimed: u64,
}

/// Documents without a usable time named one by one in a read's warnings; after them, one
/// warning says that more are not named (a time field missing from a whole corpus is one
/// mistake, not thousands).
pub const UNTIMED_NAMED: u64 = 10;

/// A piece of the inputs that one worker of a distributed run reads: a whole file, or the
/// lines of a plain JSONL file that *start* inside a byte range. Compressed files are never
/// split (they cannot be entered in the middle). Shards are listed in input order, so a
/// document's place in the input is (shard index, place in the shard).
#[derive(Debug, Clone)]
pub struct Shard {
    source: Source,
    /// `start..end` in bytes, for a piece of a plain JSONL file.
    range: Option<(u64, u64)>,
    /// Bytes of the file (compressed size) this shard covers: its share of the work.
    pub bytes: u64,
    /// Index of the file in input order: the shards of one file share it.
    pub file: usize,
}

impl Shard {
    /// The file this shard is part of.
    pub fn path(&self) -> &Path {
        &self.source.path
    }
}

/// Splits the inputs into shards of about `total bytes / pieces` each: plain JSONL files in
/// byte ranges (at least `min_bytes` long), every other file whole. Returns the shards in
/// input order and the problems met expanding the paths (unreadable paths, skipped files),
/// which no shard reports.
pub fn shards(
    paths: &[PathBuf],
    options: &InputOptions,
    pieces: usize,
    min_bytes: u64,
) -> (Vec<Shard>, Vec<Problem>) {
    let (sources, problems) = expand(paths, options);
    let sizes: Vec<u64> = sources
        .iter()
        .map(|s| std::fs::metadata(&s.path).map_or(0, |m| m.len()))
        .collect();
    let total: u64 = sizes.iter().sum();
    let target = total.div_ceil(pieces.max(1) as u64).max(min_bytes.max(1));
    let mut shards = Vec::new();
    for (file, (source, size)) in sources.into_iter().zip(sizes).enumerate() {
        if source.kind != SourceKind::Jsonl || size <= target {
            shards.push(Shard {
                source,
                range: None,
                bytes: size,
                file,
            });
            continue;
        }
        let count = size.div_ceil(target);
        for k in 0..count {
            let (start, end) = (size * k / count, size * (k + 1) / count);
            shards.push(Shard {
                source: source.clone(),
                range: Some((start, end)),
                bytes: end - start,
                file,
            });
        }
    }
    (shards, problems)
}

impl Reader {
    /// Opens nothing yet: expands the paths and reads lazily.
    pub fn new(paths: &[PathBuf], options: InputOptions) -> Reader {
        let (sources, problems) = expand(paths, &options);
        Reader::over(sources, problems, None, options)
    }

    /// Reads one shard only. JSONL line numbers in its documents and problems count from the
    /// start of the shard (add the lines of the file's earlier shards, [`Reader::lines_read`],
    /// for the line in the file); repeated ids are renamed within the shard only.
    pub fn shard(shard: &Shard, options: InputOptions) -> Reader {
        Reader::over(vec![shard.source.clone()], Vec::new(), shard.range, options)
    }

    /// Reads `sources` (all of each, or the byte range `range` of the one source), giving out
    /// `problems` first.
    fn over(
        sources: Vec<Source>,
        problems: Vec<Problem>,
        range: Option<(u64, u64)>,
        options: InputOptions,
    ) -> Reader {
        Reader {
            sources: sources.into_iter(),
            pending: problems.into_iter(),
            current: None,
            rows: None,
            options,
            seen: AHashMap::new(),
            opened: Vec::new(),
            renamed: Vec::new(),
            range,
            lines_read: 0,
            untimed: 0,
        }
    }

    /// JSONL lines read so far, blank and bad ones included.
    pub fn lines_read(&self) -> u64 {
        self.lines_read
    }

    /// Warnings about repeated ids so far (and drains them).
    pub fn take_renamed(&mut self) -> Vec<String> {
        std::mem::take(&mut self.renamed)
    }

    /// Gives a repeated id a fresh `#N` suffix and records a warning naming both places.
    fn unique(&mut self, doc: Document) -> Document {
        let (source, line, count) = match self.seen.entry(id_key(&doc.id)) {
            Entry::Vacant(vacant) => {
                // Reading runs ahead of completing, so the document's source is not always
                // the last one opened.
                let path = doc.origin.path.as_os_str();
                let source = self
                    .opened
                    .iter()
                    .rposition(|opened| opened.as_os_str() == path)
                    .unwrap_or(0) as u32;
                vacant.insert((source, doc.origin.line, 1));
                return doc;
            }
            Entry::Occupied(mut occupied) => {
                let (source, line, count) = occupied.get_mut();
                *count += 1;
                (*source, *line, *count)
            }
        };
        let first = Origin {
            path: self.opened[source as usize].clone(),
            line,
        };
        let new_id = format!("{}#{}", doc.id, count);
        self.renamed.push(format!(
            "{}: id {:?} already used by {}; kept apart as {:?}",
            doc.origin, doc.id, first, new_id
        ));
        self.unique(Document { id: new_id, ..doc })
    }

    /// The next non-blank line of the current JSONL source, unparsed, or `None` at its end.
    fn next_line(&mut self) -> Option<Raw> {
        let lines = self.current.as_mut()?;
        match lines.next_raw(self.options.max_doc_bytes, &mut self.lines_read) {
            ControlFlow::Continue(raw) => Some(raw),
            ControlFlow::Break(last) => {
                self.current = None;
                last
            }
        }
    }
}

impl Reader {
    /// The next document with the line it was read from (the [`Iterator`] yields the
    /// documents alone).
    pub fn next_record(&mut self) -> Option<RecordItem> {
        let raw = self.next_raw()?;
        let item = raw.parse(&self.options);
        Some(self.finish(item))
    }

    /// The next item, JSONL lines unparsed. Items must go through [`Raw::parse`] and then, in
    /// this order, [`Reader::complete`] (on a record; [`Reader::finish`] on an item), as
    /// [`Reader::next_record`] does in one step — unless their ids are renamed as an earlier
    /// read of the same inputs renamed them (what `dedup`'s later reads do).
    pub(crate) fn next_raw(&mut self) -> Option<Raw> {
        if let Some(problem) = self.pending.next() {
            return Some(Raw::Ready(Err(problem)));
        }
        loop {
            if let Some(rows) = &mut self.rows {
                match rows.next_row() {
                    Some(item) => return Some(Raw::Ready(item)),
                    None => self.rows = None,
                }
            }
            if self.current.is_some() {
                match self.next_line() {
                    Some(raw) => return Some(raw),
                    None => continue,
                }
            }
            let source = self.sources.next()?;
            self.opened.push(source.path.clone());
            match source.kind {
                SourceKind::Text => {
                    let time_field = self.options.time_field.as_deref();
                    return Some(Raw::Ready(
                        read_text(&source, self.options.max_doc_bytes).map(|doc| Record {
                            untimed: time_field
                                .and_then(|field| document_time(&doc.origin, field, None).1),
                            doc,
                            raw: None,
                            warning: None,
                        }),
                    ));
                }
                SourceKind::Parquet => match parquet::Rows::open(&source.path, &self.options) {
                    Ok(rows) => self.rows = Some(rows),
                    Err(problem) => return Some(Raw::Ready(Err(problem))),
                },
                SourceKind::Jsonl | SourceKind::JsonlGz | SourceKind::JsonlZst => {
                    match Lines::open(&source, self.range) {
                        Ok(lines) => self.current = Some(lines),
                        Err(problem) => return Some(Raw::Ready(Err(problem))),
                    }
                }
            }
        }
    }

    /// Completes a parsed item, in input order ([`Reader::complete`]).
    fn finish(&mut self, item: RecordItem) -> RecordItem {
        item.map(|record| self.complete(record))
    }

    /// Completes a parsed record, in input order: its warnings join the repeated-id warnings
    /// ([`Reader::take_renamed`]; a missing time for the first [`UNTIMED_NAMED`] documents
    /// only), and a repeated id gets its `#N` suffix.
    pub(crate) fn complete(&mut self, mut record: Record) -> Record {
        self.renamed.extend(record.warning.take());
        if let Some(untimed) = record.untimed.take() {
            self.untimed += 1;
            if self.untimed <= UNTIMED_NAMED {
                self.renamed.push(untimed);
            } else if self.untimed == UNTIMED_NAMED + 1 {
                self.renamed.push(format!(
                    "{}: no usable time here either; further documents without one are not \
                     named (all are processed untimed)",
                    record.doc.origin
                ));
            }
        }
        Record {
            doc: self.unique(record.doc),
            ..record
        }
    }
}

impl Iterator for Reader {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        self.next_record().map(|item| item.map(|record| record.doc))
    }
}

/// The key a document id is remembered by for renaming repeats: its 128-bit xxh3. Two distinct
/// ids share a key with probability about n² / 2¹²⁹ (below 10⁻²² for a billion documents).
fn id_key(id: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}
