//! Input stage: turns paths (files, directories, `-`) into documents, in a stable order.
//!
//! A `.txt`/`.md` file is one document; a `.jsonl`/`.jsonl.gz`/`.jsonl.zst` file holds one
//! document per line, a `.parquet` file one per row ([`parquet`](self::parquet), feature
//! `parquet`). Directories are walked recursively in sorted order, following symbolic
//! links but each directory once, and skipping FIFOs, sockets and devices. A bad document (invalid UTF-8,
//! empty, too large, a malformed JSON line) becomes a [`Problem`] naming the file and line;
//! the reader goes on with the next one, so one bad file never loses the others.

use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use ahash::AHashMap;
use serde_json::Value;
use std::collections::hash_map::Entry;

mod parquet;

/// Where a document came from: shown in warnings and kept in reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file (`-` for standard input).
    pub path: PathBuf,
    /// 1-based line number for JSONL documents.
    pub line: Option<u64>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.path.display()),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

/// One input document.
#[derive(Debug, Clone)]
pub struct Document {
    /// Unique id: relative path, file name, or the JSONL id field (`id#2` for a repeat).
    pub id: String,
    /// The text as read.
    pub text: String,
    /// Where it came from.
    pub origin: Origin,
}

/// A document with the line it was read from, for commands that write inputs back unchanged
/// (`dedup`).
#[derive(Debug, Clone)]
pub struct Record {
    /// The document.
    pub doc: Document,
    /// The JSONL line, without its line terminator; `None` for a text file.
    pub raw: Option<String>,
    /// A warning about the record that does not skip it (its id field is not a string or a
    /// number), given out with the repeated-id warnings when the record is completed
    /// ([`Reader::complete`]).
    pub warning: Option<String>,
}

impl Record {
    /// The record as one JSONL line (no terminator): the original line (borrowed, not copied),
    /// or for a text file a JSON object with the id and text fields named in `options`.
    pub fn line(&self, options: &InputOptions) -> std::borrow::Cow<'_, str> {
        match &self.raw {
            Some(raw) => raw.into(),
            None => {
                let mut object = serde_json::Map::new();
                object.insert(options.id_field.clone(), Value::from(self.doc.id.as_str()));
                object.insert(
                    options.text_field.clone(),
                    Value::from(self.doc.text.as_str()),
                );
                Value::Object(object).to_string().into()
            }
        }
    }
}

/// Why a document or a path was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The path does not exist or cannot be opened.
    Unreadable(String),
    /// The bytes are not UTF-8; `offset` is the first bad byte.
    InvalidUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// The document has no text (or only white space).
    Empty,
    /// The document is larger than the configured limit.
    TooLarge {
        /// Its size in bytes (at least this much for streamed input).
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// A JSONL line is not a JSON object, or lacks the text field.
    MalformedJson(String),
    /// A directory entry with an extension storyprint does not read (a note, not an error).
    UnsupportedExtension,
    /// A directory met again in a walk, through a symbolic link (a loop such as `self -> .`,
    /// or two links to one directory): walked once only (a note).
    AlreadyWalked,
    /// A FIFO, socket or device met in a walk: reading it could block forever (a note).
    SpecialFile,
}

/// A skipped input, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file (and line) concerned.
    pub origin: Origin,
    /// What went wrong.
    pub kind: ProblemKind,
}

impl Problem {
    /// Notes (such as an unsupported file in a walked directory) do not count as skipped
    /// documents and never fail a `--strict` run.
    pub fn is_note(&self) -> bool {
        matches!(
            self.kind,
            ProblemKind::UnsupportedExtension
                | ProblemKind::AlreadyWalked
                | ProblemKind::SpecialFile
        )
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.origin)?;
        match &self.kind {
            ProblemKind::Unreadable(why) => write!(f, "cannot read: {why}"),
            ProblemKind::InvalidUtf8 { offset } => {
                write!(
                    f,
                    "not valid UTF-8 (first bad byte at offset {offset}); skipped"
                )
            }
            ProblemKind::Empty => write!(f, "empty document; skipped"),
            ProblemKind::TooLarge { bytes, limit } => write!(
                f,
                "document is {} bytes, over the limit of {limit} (raise --max-doc-bytes); skipped",
                bytes
            ),
            ProblemKind::MalformedJson(why) => write!(f, "malformed JSON line: {why}; skipped"),
            ProblemKind::UnsupportedExtension => {
                write!(
                    f,
                    "not a .txt, .md, .jsonl, .jsonl.gz, .jsonl.zst or .parquet file; ignored"
                )
            }
            ProblemKind::AlreadyWalked => write!(
                f,
                "a link to a directory already walked (each directory is read once); ignored"
            ),
            ProblemKind::SpecialFile => write!(
                f,
                "not a regular file (a FIFO, socket or device) in a directory; ignored (name it \
                 directly to read it once)"
            ),
        }
    }
}

/// How inputs are read.
#[derive(Debug, Clone)]
pub struct InputOptions {
    /// JSONL field (or Parquet column) holding the id (a string or a number).
    pub id_field: String,
    /// JSONL field (or Parquet column) holding the text.
    pub text_field: String,
    /// Documents larger than this many bytes are skipped with a problem.
    pub max_doc_bytes: u64,
    /// Read standard input (`-`) as JSONL instead of one text document.
    pub stdin_jsonl: bool,
}

impl Default for InputOptions {
    fn default() -> Self {
        InputOptions {
            id_field: "id".into(),
            text_field: "text".into(),
            max_doc_bytes: 16 * 1024 * 1024,
            stdin_jsonl: false,
        }
    }
}

/// The kind of a source file, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SourceKind {
    Text,
    Jsonl,
    JsonlGz,
    JsonlZst,
    Parquet,
}

fn kind_of(path: &Path) -> Option<SourceKind> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".jsonl.gz") || name.ends_with(".ndjson.gz") {
        Some(SourceKind::JsonlGz)
    } else if name.ends_with(".jsonl.zst") || name.ends_with(".ndjson.zst") {
        Some(SourceKind::JsonlZst)
    } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        Some(SourceKind::Jsonl)
    } else if name.ends_with(".parquet") {
        Some(SourceKind::Parquet)
    } else if name.ends_with(".txt") || name.ends_with(".md") {
        Some(SourceKind::Text)
    } else {
        None
    }
}

/// One file to read, with the id prefix for text documents.
#[derive(Debug, Clone)]
struct Source {
    path: PathBuf,
    /// The id a text document gets: its path relative to the directory given, or its name.
    text_id: String,
    kind: SourceKind,
}

/// Expands the given paths into sources (sorted within each directory), and notes for the
/// paths that cannot be read and the files skipped for their extension.
fn expand(paths: &[PathBuf], options: &InputOptions) -> (Vec<Source>, Vec<Problem>) {
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let kind = if options.stdin_jsonl {
                SourceKind::Jsonl
            } else {
                SourceKind::Text
            };
            sources.push(Source {
                path: path.clone(),
                text_id: "-".into(),
                kind,
            });
            continue;
        }
        match std::fs::metadata(path) {
            Err(e) => problems.push(Problem {
                origin: Origin {
                    path: path.clone(),
                    line: None,
                },
                kind: ProblemKind::Unreadable(e.to_string()),
            }),
            Ok(meta) if meta.is_dir() => {
                let mut walked = HashSet::new();
                walked.extend(file_identity(path));
                let mut walk = Walk {
                    root: path,
                    walked,
                    sources: &mut sources,
                    problems: &mut problems,
                };
                walk.dir(path);
            }
            Ok(_) => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string());
                sources.push(Source {
                    path: path.clone(),
                    text_id: name,
                    // A file named explicitly is read even with an unknown extension: as text.
                    kind: kind_of(path).unwrap_or(SourceKind::Text),
                });
            }
        }
    }
    (sources, problems)
}

/// The files the given paths name or hold (directories walked as the reader walks them),
/// without opening any; standard input (`-`) is not a file.
pub fn input_files(paths: &[PathBuf], options: &InputOptions) -> Vec<PathBuf> {
    expand(paths, options)
        .0
        .into_iter()
        .map(|source| source.path)
        .filter(|path| path.as_os_str() != "-")
        .collect()
}

/// What a path is, for telling whether two paths name one file or directory: its device and
/// inode when it exists (so hard and symbolic links compare equal), else the canonical path it
/// would be created at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum FileIdentity {
    #[cfg(unix)]
    Inode(u64, u64),
    Path(PathBuf),
}

/// The identity of `path` (see [`FileIdentity`]); `None` when neither it nor its directory
/// exists.
pub(crate) fn file_identity(path: &Path) -> Option<FileIdentity> {
    match std::fs::metadata(path) {
        #[cfg(unix)]
        Ok(meta) => {
            use std::os::unix::fs::MetadataExt;
            Some(FileIdentity::Inode(meta.dev(), meta.ino()))
        }
        #[cfg(not(unix))]
        Ok(_) => std::fs::canonicalize(path).ok().map(FileIdentity::Path),
        Err(_) => {
            let parent = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            let dir = std::fs::canonicalize(parent).ok()?;
            Some(FileIdentity::Path(dir.join(path.file_name()?)))
        }
    }
}

/// A directory given as input, walked recursively in sorted order. Symbolic links are
/// followed, but each directory is walked once, by its identity: a loop (`self -> .`) ends.
struct Walk<'a> {
    root: &'a Path,
    walked: HashSet<FileIdentity>,
    sources: &'a mut Vec<Source>,
    problems: &'a mut Vec<Problem>,
}

impl Walk<'_> {
    fn note(&mut self, path: PathBuf, kind: ProblemKind) {
        self.problems.push(Problem {
            origin: Origin { path, line: None },
            kind,
        });
    }

    fn dir(&mut self, dir: &Path) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return self.note(dir.to_path_buf(), ProblemKind::Unreadable(e.to_string())),
        };
        let mut paths: Vec<PathBuf> = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => paths.push(entry.path()),
                Err(e) => self.note(dir.to_path_buf(), ProblemKind::Unreadable(e.to_string())),
            }
        }
        paths.sort();
        for path in paths {
            // A link that leads nowhere is taken for a file, which fails to open with a warning.
            let meta = std::fs::metadata(&path).ok();
            if meta.as_ref().is_some_and(|m| m.is_dir()) {
                let first_time = file_identity(&path).is_none_or(|id| self.walked.insert(id));
                if first_time {
                    self.dir(&path);
                } else {
                    self.note(path, ProblemKind::AlreadyWalked);
                }
                continue;
            }
            if meta.is_some_and(|m| !m.is_file()) {
                self.note(path, ProblemKind::SpecialFile);
                continue;
            }
            match kind_of(&path) {
                Some(kind) => {
                    let rel = path.strip_prefix(self.root).unwrap_or(&path);
                    let text_id = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/");
                    self.sources.push(Source {
                        path,
                        text_id,
                        kind,
                    });
                }
                None => self.note(path, ProblemKind::UnsupportedExtension),
            }
        }
    }
}

/// The first of `paths` that can be read only once: standard input (`-`), or a FIFO, socket
/// or device named directly. Commands that read their inputs twice refuse it.
pub fn read_once(paths: &[PathBuf]) -> Option<&PathBuf> {
    paths.iter().find(|path| {
        path.as_os_str() == "-"
            || std::fs::metadata(path).is_ok_and(|meta| !meta.is_file() && !meta.is_dir())
    })
}

/// An item the reader yields: a document, or why one was skipped.
pub type Item = std::result::Result<Document, Problem>;

/// A record, or why a document was skipped.
pub type RecordItem = std::result::Result<Record, Problem>;

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
}

/// Bytes a [`Prefetch`] thread reads at a time.
const PREFETCH_BLOCK: usize = 1 << 20;

/// Blocks a [`Prefetch`] thread may read ahead of the consumer (bounds its memory).
const PREFETCH_AHEAD: usize = 4;

/// A reader whose reads (and decompression) run ahead on a thread of its own, in blocks, so
/// that they overlap with parsing and sketching instead of adding to the serial part of a
/// pass. The bytes are exactly the inner reader's; an error is returned where it happened.
struct Prefetch {
    blocks: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
}

impl Prefetch {
    fn new(mut inner: impl Read + Send + 'static) -> Prefetch {
        let (send, blocks) = std::sync::mpsc::sync_channel(PREFETCH_AHEAD);
        std::thread::spawn(move || {
            loop {
                // `read_to_end` fills the block without zeroing it first, and retries
                // interrupted reads.
                let mut block = Vec::with_capacity(PREFETCH_BLOCK);
                let read = (&mut inner)
                    .take(PREFETCH_BLOCK as u64)
                    .read_to_end(&mut block);
                let read_nothing = block.is_empty();
                // The bytes read come first, then an error; stop at an error, at the end, or
                // when the consumer has gone.
                let error = read.err();
                if !block.is_empty() && send.send(Ok(block)).is_err() {
                    return;
                }
                match error {
                    Some(e) => {
                        let _ = send.send(Err(e));
                        return;
                    }
                    None if read_nothing => return,
                    None => {}
                }
            }
        });
        Prefetch {
            blocks,
            current: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for Prefetch {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Prefetch {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.current.len() {
            match self.blocks.recv() {
                Ok(block) => {
                    self.current = block?;
                    self.pos = 0;
                }
                // The thread has finished: the end of the input.
                Err(_) => return Ok(&[]),
            }
        }
        Ok(&self.current[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.current.len());
    }
}

/// A JSONL source being read line by line.
struct Lines {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    line: u64,
    /// Offset of the next line in the file (plain files) or in the decompressed stream.
    pos: u64,
    /// Lines starting at or after this offset belong to the next shard.
    end: u64,
}

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
        Reader {
            sources: sources.into_iter(),
            pending: problems.into_iter(),
            current: None,
            rows: None,
            options,
            seen: AHashMap::new(),
            opened: Vec::new(),
            renamed: Vec::new(),
            range: None,
            lines_read: 0,
        }
    }

    /// Reads one shard only. JSONL line numbers in its documents and problems count from the
    /// start of the shard (add the lines of the file's earlier shards, [`Reader::lines_read`],
    /// for the line in the file); repeated ids are renamed within the shard only.
    pub fn shard(shard: &Shard, options: InputOptions) -> Reader {
        Reader {
            sources: vec![shard.source.clone()].into_iter(),
            pending: Vec::new().into_iter(),
            current: None,
            rows: None,
            options,
            seen: AHashMap::new(),
            opened: Vec::new(),
            renamed: Vec::new(),
            range: shard.range,
            lines_read: 0,
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
    pub fn unique(&mut self, doc: Document) -> Document {
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

    fn read_text(&self, source: &Source) -> Item {
        let origin = Origin {
            path: source.path.clone(),
            line: None,
        };
        let fail = |kind| Problem {
            origin: origin.clone(),
            kind,
        };
        let limit = self.options.max_doc_bytes;
        let mut bytes = Vec::new();
        let result = if source.path.as_os_str() == "-" {
            io::stdin().lock().take(limit + 1).read_to_end(&mut bytes)
        } else {
            File::open(&source.path).and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        };
        if let Err(e) = result {
            return Err(fail(ProblemKind::Unreadable(e.to_string())));
        }
        if bytes.len() as u64 > limit {
            let size = std::fs::metadata(&source.path)
                .map(|m| m.len())
                .unwrap_or(bytes.len() as u64);
            return Err(fail(ProblemKind::TooLarge { bytes: size, limit }));
        }
        let text = decode(bytes).map_err(fail)?;
        Ok(Document {
            id: source.text_id.clone(),
            text,
            origin,
        })
    }

    fn open_lines(&self, source: &Source) -> std::result::Result<Lines, Problem> {
        let mut pos = 0;
        let reader: Box<dyn BufRead + Send> = if source.path.as_os_str() == "-" {
            Box::new(Prefetch::new(io::stdin()))
        } else {
            let file = File::open(&source.path).map_err(|e| Problem {
                origin: Origin {
                    path: source.path.clone(),
                    line: None,
                },
                kind: ProblemKind::Unreadable(e.to_string()),
            })?;
            let (file, first) = match self.range {
                Some((start, _)) => enter_at_line(file, start).map_err(|e| Problem {
                    origin: Origin {
                        path: source.path.clone(),
                        line: None,
                    },
                    kind: ProblemKind::Unreadable(e.to_string()),
                })?,
                None => (file, 0),
            };
            pos = first;
            match source.kind {
                SourceKind::JsonlGz => Box::new(Prefetch::new(flate2::read::MultiGzDecoder::new(
                    BufReader::new(file),
                ))),
                SourceKind::JsonlZst => Box::new(Prefetch::new(
                    zstd::stream::read::Decoder::new(file).map_err(|e| Problem {
                        origin: Origin {
                            path: source.path.clone(),
                            line: None,
                        },
                        kind: ProblemKind::Unreadable(e.to_string()),
                    })?,
                )),
                _ => Box::new(Prefetch::new(file)),
            }
        };
        let end = self.range.map_or(u64::MAX, |(_, end)| end);
        Ok(Lines {
            path: source.path.clone(),
            reader,
            line: 0,
            pos,
            end,
        })
    }

    /// The next non-blank line of the current JSONL source, unparsed, or `None` at its end.
    fn next_line(&mut self) -> Option<Raw> {
        let limit = self.options.max_doc_bytes;
        let lines = self.current.as_mut()?;
        loop {
            lines.line += 1;
            let origin = Origin {
                path: lines.path.clone(),
                line: Some(lines.line),
            };
            let fail = |kind| {
                Some(Raw::Ready(Err(Problem {
                    origin: origin.clone(),
                    kind,
                })))
            };
            if lines.pos >= lines.end {
                self.current = None;
                return None;
            }
            let mut buf = Vec::new();
            let read = read_line_capped(&mut lines.reader, &mut buf, limit, &mut lines.pos);
            if !matches!(read, Ok(LineRead::End)) {
                self.lines_read += 1;
            }
            match read {
                Err(e) => {
                    self.current = None;
                    return fail(ProblemKind::Unreadable(e.to_string()));
                }
                Ok(LineRead::End) => {
                    self.current = None;
                    return None;
                }
                Ok(LineRead::TooLong(bytes)) => {
                    return fail(ProblemKind::TooLarge { bytes, limit });
                }
                Ok(LineRead::Line) => {}
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(Raw::Line(RawLine { origin, bytes: buf }));
        }
    }
}

/// A JSONL line as read, not yet decoded or parsed: reading is sequential, parsing can run on
/// many threads ([`RawLine::parse`]), and [`Reader::finish`] then gives ids in input order.
#[derive(Debug)]
pub struct RawLine {
    origin: Origin,
    bytes: Vec<u8>,
}

impl RawLine {
    /// The record of the line (decoded, parsed), or why it is skipped; its id is not yet
    /// made unique ([`Reader::finish`] does that).
    pub fn parse(self, options: &InputOptions) -> RecordItem {
        let RawLine { origin, bytes } = self;
        let line = match decode(bytes) {
            Ok(line) => line,
            Err(kind) => return Err(Problem { origin, kind }),
        };
        match parse_json_line(&line, options, origin.clone()) {
            Ok((doc, warning)) => {
                let mut raw = line;
                raw.truncate(raw.trim_end_matches(['\n', '\r']).len());
                Ok(Record {
                    doc,
                    raw: Some(raw),
                    warning,
                })
            }
            Err(kind) => Err(Problem { origin, kind }),
        }
    }
}

/// What [`Reader::next_raw`] yields: a JSONL line to parse, or an item already complete (a
/// text document, or a problem met while reading).
#[derive(Debug)]
pub enum Raw {
    /// A JSONL line.
    Line(RawLine),
    /// A record or problem needing no parse.
    Ready(RecordItem),
}

impl Raw {
    /// The item: parses a line, passes a ready item through.
    pub fn parse(self, options: &InputOptions) -> RecordItem {
        match self {
            Raw::Line(line) => line.parse(options),
            Raw::Ready(item) => item,
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
    /// this order, [`Reader::finish`] (or [`Reader::unique`] on the parsed document), as
    /// [`Reader::next_record`] does in one step — unless their ids are renamed as an earlier
    /// read of the same inputs renamed them (what `dedup`'s later reads do).
    pub fn next_raw(&mut self) -> Option<Raw> {
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
                    return Some(Raw::Ready(self.read_text(&source).map(|doc| Record {
                        doc,
                        raw: None,
                        warning: None,
                    })));
                }
                SourceKind::Parquet => match parquet::Rows::open(&source.path, &self.options) {
                    Ok(rows) => self.rows = Some(rows),
                    Err(problem) => return Some(Raw::Ready(Err(problem))),
                },
                SourceKind::Jsonl | SourceKind::JsonlGz | SourceKind::JsonlZst => {
                    match self.open_lines(&source) {
                        Ok(lines) => self.current = Some(lines),
                        Err(problem) => return Some(Raw::Ready(Err(problem))),
                    }
                }
            }
        }
    }

    /// Completes a parsed item, in input order ([`Reader::complete`]).
    pub fn finish(&mut self, item: RecordItem) -> RecordItem {
        item.map(|record| self.complete(record))
    }

    /// Completes a parsed record, in input order: its warning joins the repeated-id warnings
    /// ([`Reader::take_renamed`]), and a repeated id gets its `#N` suffix.
    pub fn complete(&mut self, mut record: Record) -> Record {
        self.renamed.extend(record.warning.take());
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

enum LineRead {
    Line,
    End,
    TooLong(u64),
}

/// Reads one line into `buf` without holding more than `limit` bytes of it: an over-long
/// line is consumed to its end and reported with its length.
fn read_line_capped(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    limit: u64,
    consumed: &mut u64,
) -> io::Result<LineRead> {
    let mut total: u64 = 0;
    let mut any = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(match (any, total > limit) {
                (false, _) => LineRead::End,
                (true, true) => LineRead::TooLong(total),
                (true, false) => LineRead::Line,
            });
        }
        any = true;
        let (take, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        total += take as u64;
        if total <= limit + 1 {
            buf.extend_from_slice(&chunk[..take]);
        }
        reader.consume(take);
        *consumed += take as u64;
        if done {
            if total > limit + 1 {
                return Ok(LineRead::TooLong(total - 1));
            }
            return Ok(LineRead::Line);
        }
    }
}

/// Positions `file` at the first line that starts at or after `start` (a line that starts
/// before it belongs to the previous shard) and returns that line's offset.
fn enter_at_line(mut file: File, start: u64) -> io::Result<(File, u64)> {
    if start == 0 {
        return Ok((file, 0));
    }
    file.seek(SeekFrom::Start(start - 1))?;
    let mut reader = BufReader::new(file);
    let mut offset = start - 1;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => {
                offset += i as u64 + 1;
                break;
            }
            None => {
                offset += chunk.len() as u64;
                let n = chunk.len();
                reader.consume(n);
            }
        }
    }
    let mut file = reader.into_inner();
    file.seek(SeekFrom::Start(offset))?;
    Ok((file, offset))
}

/// Decodes UTF-8, dropping a byte-order mark; empty (white-space only) text is a problem.
fn decode(bytes: Vec<u8>) -> std::result::Result<String, ProblemKind> {
    let text = String::from_utf8(bytes).map_err(|e| ProblemKind::InvalidUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })?;
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    };
    if text.trim().is_empty() {
        return Err(ProblemKind::Empty);
    }
    Ok(text)
}

/// The document of a JSONL line, with a warning when its id field is there but neither a
/// string nor a number (the document is then named `file:line`, as one without an id).
fn parse_json_line(
    line: &str,
    options: &InputOptions,
    origin: Origin,
) -> std::result::Result<(Document, Option<String>), ProblemKind> {
    let fields = parse_fields(line.trim_end_matches(['\n', '\r']), options).map_err(|e| {
        // serde_json says "… at line 1 column N": the line is ours, the column is useful.
        let message = e.to_string();
        let what = message.split(" at line ").next().unwrap_or(&message);
        ProblemKind::MalformedJson(format!("{what} at column {}", e.column()))
    })?;
    let Some(Fields { text, id }) = fields else {
        return Err(ProblemKind::MalformedJson("not a JSON object".into()));
    };
    let text = match text {
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err(ProblemKind::MalformedJson(format!(
                "field {:?} is not a string",
                options.text_field
            )));
        }
        None => {
            return Err(ProblemKind::MalformedJson(format!(
                "no {:?} field (set --text-field)",
                options.text_field
            )));
        }
    };
    if text.trim().is_empty() {
        return Err(ProblemKind::Empty);
    }
    let place = || {
        format!(
            "{}:{}",
            origin
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            origin.line.unwrap_or(0)
        )
    };
    let (id, warning) = match id {
        Some(Value::String(s)) => (s, None),
        Some(Value::Number(n)) => (n.to_string(), None),
        None => (place(), None),
        Some(other) => {
            let what = match other {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Array(_) => "an array",
                _ => "an object",
            };
            let id = place();
            let warning = format!(
                "{origin}: id field {:?} is {what}, not a string or a number; the document is \
                 named {id:?}",
                options.id_field
            );
            (id, Some(warning))
        }
    };
    Ok((Document { id, text, origin }, warning))
}

/// The two fields a JSONL line is read for; `None` when the line is not a JSON object.
struct Fields {
    text: Option<Value>,
    id: Option<Value>,
}

/// Parses one JSON value, keeping only the text and id fields of an object: every other field
/// is validated but not built (a full `Value` allocates every field and key). A repeated key
/// keeps its last value, as a `Value` map does.
fn parse_fields(line: &str, options: &InputOptions) -> serde_json::Result<Option<Fields>> {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

    struct Seed<'o>(&'o InputOptions);

    impl<'de> DeserializeSeed<'de> for Seed<'_> {
        type Value = Option<Fields>;

        fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
            de.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Seed<'_> {
        type Value = Option<Fields>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut fields = Fields {
                text: None,
                id: None,
            };
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if *key == self.0.text_field {
                    fields.text = Some(map.next_value()?);
                } else if *key == self.0.id_field {
                    fields.id = Some(map.next_value()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(Some(fields))
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            IgnoredAny.visit_seq(seq).map(|_| None)
        }

        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    let mut de = serde_json::Deserializer::from_str(line);
    let fields = Seed(options).deserialize(&mut de)?;
    de.end()?;
    Ok(fields)
}

/// All documents of the given paths, with the problems met on the way (repeated-id warnings
/// included as text in `renamed`).
#[derive(Debug, Default)]
pub struct Batch {
    /// The documents read, in input order.
    pub documents: Vec<Document>,
    /// Skipped documents and unreadable paths.
    pub problems: Vec<Problem>,
    /// Warnings about ids: repeated ones, and id fields that are not a string or a number.
    pub renamed: Vec<String>,
}

impl Batch {
    /// Reads everything into memory.
    pub fn read(paths: &[PathBuf], options: InputOptions) -> Batch {
        let mut reader = Reader::new(paths, options);
        let mut batch = Batch::default();
        for item in reader.by_ref() {
            match item {
                Ok(doc) => batch.documents.push(doc),
                Err(problem) => batch.problems.push(problem),
            }
        }
        batch.renamed = reader.take_renamed();
        batch
    }

    /// How many documents or paths were skipped (notes excluded).
    pub fn skipped(&self) -> usize {
        self.problems.iter().filter(|p| !p.is_note()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::File::create(&path)
            .unwrap()
            .write_all(bytes)
            .unwrap();
        path
    }

    #[test]
    fn directories_are_walked_in_sorted_order_with_relative_ids() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b.txt", b"second");
        write(dir.path(), "a.txt", b"first");
        write(dir.path(), "sub/c.md", b"third");
        write(dir.path(), "notes.pdf", b"%PDF");
        let batch = Batch::read(&[dir.path().to_path_buf()], InputOptions::default());
        let ids: Vec<_> = batch.documents.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["a.txt", "b.txt", "sub/c.md"]);
        assert_eq!(batch.problems.len(), 1);
        assert!(batch.problems[0].is_note());
        assert_eq!(batch.skipped(), 0);
    }

    /// Regression: a `self -> .` link made the walk read each file 41 times (until the path
    /// was too long), and two such links never ended.
    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_is_walked_once() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.txt", b"first");
        write(dir.path(), "sub/b.txt", b"second");
        std::os::unix::fs::symlink(".", dir.path().join("self")).unwrap();
        std::os::unix::fs::symlink("..", dir.path().join("sub/up")).unwrap();
        std::os::unix::fs::symlink("sub", dir.path().join("twin")).unwrap();
        let batch = Batch::read(&[dir.path().to_path_buf()], InputOptions::default());
        let ids: Vec<_> = batch.documents.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["a.txt", "sub/b.txt"]);
        assert_eq!(batch.skipped(), 0);
        assert_eq!(batch.problems.len(), 3);
        assert!(
            batch
                .problems
                .iter()
                .all(|p| p.kind == ProblemKind::AlreadyWalked)
        );
    }

    /// Regression: a FIFO met in a directory walk blocked the reader forever.
    #[cfg(unix)]
    #[test]
    fn a_fifo_in_a_walked_directory_is_skipped_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.txt", b"first");
        let fifo = dir.path().join("pipe.jsonl");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: `name` is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let batch = Batch::read(&[dir.path().to_path_buf()], InputOptions::default());
        assert_eq!(batch.documents.len(), 1);
        assert_eq!(batch.problems[0].kind, ProblemKind::SpecialFile);
        assert!(batch.problems[0].is_note());
        assert_eq!(read_once(std::slice::from_ref(&fifo)), Some(&fifo));
        assert_eq!(read_once(&[dir.path().join("a.txt")]), None);
    }

    #[test]
    fn jsonl_problems_name_the_line_and_the_rest_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "docs.jsonl",
            b"{\"id\":\"a\",\"text\":\"one\"}\n{not json\n\n{\"id\":7,\"text\":\"two\"}\n{\"id\":\"c\"}\n[1]\n{\"id\":\"d\",\"text\":\"  \"}\n",
        );
        let batch = Batch::read(&[path], InputOptions::default());
        let ids: Vec<_> = batch.documents.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["a", "7"]);
        let lines: Vec<_> = batch.problems.iter().map(|p| p.origin.line).collect();
        assert_eq!(lines, [Some(2), Some(5), Some(6), Some(7)]);
        assert!(batch.problems[1].to_string().contains("no \"text\" field"));
    }

    #[test]
    fn prefetch_yields_the_inner_bytes_and_then_its_error() {
        let data: Vec<u8> = (0..3 * PREFETCH_BLOCK + 17)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut read = Vec::new();
        Prefetch::new(io::Cursor::new(data.clone()))
            .read_to_end(&mut read)
            .unwrap();
        assert_eq!(read, data);

        /// Ten bytes, then a failure.
        struct Failing(bool);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if std::mem::replace(&mut self.0, true) {
                    return Err(io::Error::other("disk on fire"));
                }
                buf[..10].fill(b'x');
                Ok(10)
            }
        }
        let mut prefetch = Prefetch::new(Failing(false));
        let mut first = [0u8; 10];
        prefetch.read_exact(&mut first).unwrap();
        let error = prefetch.read(&mut first).unwrap_err();
        assert_eq!(error.to_string(), "disk on fire");
        assert_eq!(prefetch.read(&mut first).unwrap(), 0);
    }

    /// Oracle: the field parser reads what a full `serde_json::Value` holds (last of a repeated
    /// key, numbers as ids) and rejects what it rejects, other fields included.
    #[test]
    fn field_parser_agrees_with_full_values() {
        let options = InputOptions::default();
        let lines = [
            r#"{"id":"a","meta":{"x":[1,2,{"y":null}]},"text":"one"}"#,
            r#"{"text":"first","id":3,"text":"last"}"#,
            r#"{"id":1.5e3,"text":"t","extra":"\u00e9\n"}"#,
            r#"{"id":"a","meta":{"x":[1,2},"text":"one"}"#,
            r#"{"id":"a","text":"one"} trailing"#,
            r#"{"id":"a","text":7}"#,
            r#"[{"id":"a","text":"one"}]"#,
            r#""text""#,
        ];
        for line in lines {
            let full = serde_json::from_str::<Value>(line).ok().map(|v| match v {
                Value::Object(mut map) => Some((map.remove("text"), map.remove("id"))),
                _ => None,
            });
            let fast = parse_fields(line, &options)
                .ok()
                .map(|f| f.map(|f| (f.text, f.id)));
            assert_eq!(fast, full, "{line}");
        }
    }

    /// Regression: an id that is an object, array, null or boolean silently became
    /// `file:line`.
    #[test]
    fn an_id_that_is_not_text_is_named_by_its_place_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "d.jsonl",
            b"{\"id\":{\"a\":1},\"text\":\"one\"}\n{\"id\":[1],\"text\":\"two\"}\n\
              {\"id\":null,\"text\":\"three\"}\n{\"id\":true,\"text\":\"four\"}\n\
              {\"text\":\"five\"}\n{\"id\":6,\"text\":\"six\"}\n",
        );
        let batch = Batch::read(&[path], InputOptions::default());
        let ids: Vec<_> = batch.documents.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "d.jsonl:1",
                "d.jsonl:2",
                "d.jsonl:3",
                "d.jsonl:4",
                "d.jsonl:5",
                "6"
            ]
        );
        assert_eq!(batch.renamed.len(), 4, "{:?}", batch.renamed);
        for (warning, what) in
            batch
                .renamed
                .iter()
                .zip(["an object", "an array", "null", "a boolean"])
        {
            assert!(
                warning.contains(&format!("is {what}, not a string")),
                "{warning}"
            );
        }
        assert!(batch.renamed[2].contains("d.jsonl:3: id field \"id\""));
    }

    /// A truncated `.gz` or `.zst` gives the documents of the complete lines its decoder can
    /// still decompress, then a warning at the line where it stops. zstd decodes whole blocks
    /// (up to 128 KiB of text) only, so the lines of the block the cut falls in are lost.
    #[test]
    fn truncated_compressed_files_give_the_lines_before_the_cut() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = 1u64;
        let mut word = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            format!("w{}", state >> 52)
        };
        let mut jsonl = String::new();
        for i in 0..4000 {
            let text: Vec<String> = (0..40).map(|_| word()).collect();
            jsonl.push_str(&format!(
                "{{\"id\":\"d{i}\",\"text\":\"{}\"}}\n",
                text.join(" ")
            ));
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(jsonl.as_bytes()).unwrap();
        let compressed = [
            ("d.jsonl.gz", gz.finish().unwrap()),
            (
                "d.jsonl.zst",
                zstd::encode_all(jsonl.as_bytes(), 3).unwrap(),
            ),
        ];
        for (name, bytes) in compressed {
            let path = write(dir.path(), name, &bytes[..bytes.len() * 6 / 10]);
            let batch = Batch::read(&[path], InputOptions::default());
            let n = batch.documents.len();
            assert!((1000..4000).contains(&n), "{name}: {n} documents");
            let ids: Vec<_> = batch.documents.iter().map(|d| d.id.clone()).collect();
            let expected: Vec<_> = (0..n).map(|i| format!("d{i}")).collect();
            assert_eq!(ids, expected, "{name}");
            assert_eq!(batch.problems.len(), 1, "{name}");
            assert_eq!(batch.problems[0].origin.line, Some(n as u64 + 1), "{name}");
            assert!(
                matches!(batch.problems[0].kind, ProblemKind::Unreadable(_)),
                "{name}"
            );
        }
    }

    #[test]
    fn gzipped_jsonl_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"id\":\"x\",\"text\":\"hello\"}\n")
            .unwrap();
        let path = write(dir.path(), "d.jsonl.gz", &gz.finish().unwrap());
        let batch = Batch::read(&[path], InputOptions::default());
        assert_eq!(batch.documents[0].id, "x");
    }

    #[test]
    fn zstd_jsonl_is_read_and_records_keep_their_lines() {
        let dir = tempfile::tempdir().unwrap();
        let jsonl = b"{\"id\":\"x\", \"text\":\"hello\",\"n\":1}\r\n";
        let path = write(
            dir.path(),
            "d.jsonl.zst",
            &zstd::encode_all(&jsonl[..], 1).unwrap(),
        );
        let text = write(dir.path(), "t.txt", b"a \"quoted\" text");
        let mut reader = Reader::new(&[path, text], InputOptions::default());
        let record = reader.next_record().unwrap().unwrap();
        assert_eq!(record.doc.text, "hello");
        assert_eq!(
            record.line(&InputOptions::default()),
            "{\"id\":\"x\", \"text\":\"hello\",\"n\":1}"
        );
        let record = reader.next_record().unwrap().unwrap();
        assert_eq!(record.raw, None);
        assert_eq!(
            record.line(&InputOptions::default()),
            "{\"id\":\"t.txt\",\"text\":\"a \\\"quoted\\\" text\"}"
        );
        assert!(reader.next_record().is_none());
    }

    #[test]
    fn bad_files_are_problems_not_failures() {
        let dir = tempfile::tempdir().unwrap();
        let bad = write(dir.path(), "bad.txt", b"caf\xe9 au lait");
        let empty = write(dir.path(), "empty.txt", b" \n");
        let big = write(dir.path(), "big.txt", &vec![b'a'; 2000]);
        let good = write(dir.path(), "good.txt", b"fine");
        let missing = dir.path().join("missing.txt");
        let options = InputOptions {
            max_doc_bytes: 1000,
            ..InputOptions::default()
        };
        let batch = Batch::read(&[bad, empty, big, missing, good], options);
        assert_eq!(batch.documents.len(), 1);
        let kinds: Vec<_> = batch.problems.iter().map(|p| p.kind.clone()).collect();
        assert!(kinds.contains(&ProblemKind::InvalidUtf8 { offset: 3 }));
        assert!(kinds.contains(&ProblemKind::Empty));
        assert!(kinds.contains(&ProblemKind::TooLarge {
            bytes: 2000,
            limit: 1000
        }));
        assert!(
            kinds
                .iter()
                .any(|k| matches!(k, ProblemKind::Unreadable(_)))
        );
    }

    #[test]
    fn over_long_jsonl_lines_are_skipped_and_reading_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut data =
            format!("{{\"id\":\"big\",\"text\":\"{}\"}}\n", "a".repeat(5000)).into_bytes();
        data.extend_from_slice(b"{\"id\":\"small\",\"text\":\"ok\"}\n");
        let path = write(dir.path(), "d.jsonl", &data);
        let options = InputOptions {
            max_doc_bytes: 100,
            ..InputOptions::default()
        };
        let batch = Batch::read(&[path], options);
        assert_eq!(batch.documents.len(), 1);
        assert_eq!(batch.documents[0].id, "small");
        assert_eq!(batch.problems[0].origin.line, Some(1));
    }

    #[test]
    fn repeated_ids_are_kept_apart_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "d.jsonl",
            b"{\"id\":\"a\",\"text\":\"one\"}\n{\"id\":\"a\",\"text\":\"two\"}\n{\"id\":\"a#2\",\"text\":\"three\"}\n",
        );
        let batch = Batch::read(&[path], InputOptions::default());
        let ids: Vec<_> = batch.documents.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["a", "a#2", "a#2#2"]);
        assert_eq!(batch.renamed.len(), 2);
        assert!(batch.renamed[0].contains("d.jsonl:1"));
    }

    /// Oracle: the shards of a file, read one after the other, give the documents, problems
    /// and line numbers of the whole file, for every number of pieces (ranges shorter than a
    /// line, ranges starting on a line start, blank and bad lines, no final newline).
    #[test]
    fn shards_of_a_jsonl_file_read_in_order_give_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut jsonl = String::new();
        for i in 0..40 {
            match i % 7 {
                3 => jsonl.push('\n'),
                5 => jsonl.push_str("{not json\n"),
                _ => jsonl.push_str(&format!(
                    "{{\"id\":\"d{i}\",\"text\":\"{}\"}}\n",
                    "word ".repeat(i % 5 + 1)
                )),
            }
        }
        jsonl.push_str("{\"id\":\"last\",\"text\":\"no newline\"}");
        let path = write(dir.path(), "d.jsonl", jsonl.as_bytes());
        let text = write(dir.path(), "t.txt", b"a text file");
        let paths = [path, text];
        let whole: Vec<(String, Option<u64>)> = Reader::new(&paths, InputOptions::default())
            .map(|item| match item {
                Ok(doc) => (doc.id, doc.origin.line),
                Err(problem) => ("problem".into(), problem.origin.line),
            })
            .collect();
        for pieces in [1, 2, 3, 7, 50, 400] {
            let (shards, problems) = shards(&paths, &InputOptions::default(), pieces, 1);
            assert!(problems.is_empty());
            assert_eq!(shards.len() > 2, pieces > 1, "{pieces} pieces");
            let mut got = Vec::new();
            let mut lines_before = [0u64; 2];
            for shard in &shards {
                let mut reader = Reader::shard(shard, InputOptions::default());
                for item in reader.by_ref() {
                    let shift = |line: Option<u64>| line.map(|l| l + lines_before[shard.file]);
                    got.push(match item {
                        Ok(doc) => (doc.id, shift(doc.origin.line)),
                        Err(problem) => ("problem".into(), shift(problem.origin.line)),
                    });
                }
                lines_before[shard.file] += reader.lines_read();
            }
            assert_eq!(got, whole, "{pieces} pieces");
        }
    }
}
