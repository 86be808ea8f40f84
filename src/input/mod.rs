//! Input stage: turns paths (files, directories, `-`) into documents, in a stable order.
//!
//! A `.txt`/`.md` file is one document (`text.rs`); a `.jsonl`/`.jsonl.gz`/`.jsonl.zst` file
//! holds one document per line (`jsonl.rs`), a `.parquet` file one per row (`parquet.rs`,
//! feature `parquet`). Directories are walked recursively in sorted order, following symbolic
//! links but each directory once, and skipping FIFOs, sockets and devices (`walk.rs`). A bad
//! document (invalid UTF-8, empty, too large, a malformed JSON line) becomes a [`Problem`]
//! naming the file and line; the [`Reader`] goes on with the next one, so one bad file never
//! loses the others.

use std::fmt;
use std::path::PathBuf;

use serde_json::Value;

mod jsonl;
mod parquet;
mod reader;
#[cfg(test)]
mod tests;
mod text;
mod time;
mod walk;

pub(crate) use jsonl::Raw;
pub use reader::{Reader, Shard, UNTIMED_NAMED, shards};
pub use time::{parse_time, time_of_json};
pub(crate) use walk::{FileIdentity, file_identity};
pub use walk::{input_files, read_once};

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
    /// When it was published, in Unix seconds (UTC), read from the time field
    /// ([`InputOptions::time_field`]); `None` without one, or when the document's value is
    /// missing or not a time.
    pub time: Option<i64>,
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
    /// number), given out with the repeated-id warnings ([`Reader::take_renamed`]) when the
    /// reader completes the record.
    pub warning: Option<String>,
    /// Why a document read with a time field has no time (the field is missing or not a
    /// time): a warning given out for the first [`UNTIMED_NAMED`] such documents of a read.
    pub untimed: Option<String>,
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
    /// JSONL field (or Parquet column) holding each document's time ([`parse_time`]);
    /// `None`: documents have no time.
    pub time_field: Option<String>,
}

impl Default for InputOptions {
    fn default() -> Self {
        InputOptions {
            id_field: "id".into(),
            text_field: "text".into(),
            max_doc_bytes: 16 * 1024 * 1024,
            stdin_jsonl: false,
            time_field: None,
        }
    }
}

/// An item the reader yields: a document, or why one was skipped.
pub type Item = std::result::Result<Document, Problem>;

/// A record, or why a document was skipped.
pub type RecordItem = std::result::Result<Record, Problem>;

/// All documents of the given paths, with the problems met on the way (repeated-id warnings
/// included as text in `renamed`).
#[derive(Debug, Default)]
pub struct Batch {
    /// The documents read, in input order.
    pub documents: Vec<Document>,
    /// Skipped documents and unreadable paths.
    pub problems: Vec<Problem>,
    /// Warnings about ids (repeated ones, id fields that are not a string or a number) and
    /// about missing or unreadable times.
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
