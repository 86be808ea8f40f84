//! The library's error type: one enum, each variant something a user can act on.

use std::path::PathBuf;

/// Everything the engine can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read, created or written.
    #[error("{path}: {error}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// What the operating system said (part of the message, not a separate cause, so that
        /// it is printed once).
        error: std::io::Error,
    },
    /// An output file is one of the inputs, or another output: writing it would replace what
    /// is being read or written. Refused before anything is written.
    #[error("refusing to write {output}: {reason}; choose another output file")]
    OutputConflict {
        /// The output refused.
        output: PathBuf,
        /// Which input or output it is.
        reason: String,
    },
    /// A setting is out of range or malformed (a bad `--features` spec, K = 0, …).
    #[error("invalid setting: {0}")]
    Config(String),
    /// Two signatures made with different parameters were compared; the number would be
    /// meaningless, so it is refused (as sourmash's `check_compatible` does), naming the
    /// first parameter that differs.
    #[error("incompatible signatures: {0}")]
    Incompatible(#[from] Incompatible),
    /// A document's time field holds no time storyprint can read
    /// ([`crate::input::parse_time`]).
    #[error("not a time: {value:?} ({why})")]
    Time {
        /// The value as written.
        value: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A labels file (for `eval`) is malformed.
    #[error("{path}:{line}: {message}")]
    Labels {
        /// The labels file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A spill file (dedup beyond its memory budget) could not be created, written or read:
    /// the temporary directory is missing, unwritable or full.
    #[error(
        "spilling to disk at {path}: {error} (dedup spills beyond --memory; choose a writable \
         directory with free space with --temp-dir, or raise --memory)"
    )]
    Spill {
        /// The file or directory that failed.
        path: PathBuf,
        /// What the operating system said (part of the message, not a separate cause, so that
        /// it is printed once).
        error: std::io::Error,
    },
    /// Writing output failed (the cause is part of the message, printed once).
    #[error("writing output: {0}")]
    Output(std::io::Error),
    /// A distributed run failed (a worker panicked, or the processes could not connect).
    #[error("distributed run: {0}")]
    Dist(String),
    /// Writing a Parquet file failed.
    #[error("Parquet: {0}")]
    Export(String),
    /// Serialising JSON failed (the cause is part of the message, printed once).
    #[error("JSON: {0}")]
    Json(serde_json::Error),
    /// Another process holds the index (one writer process at a time) and did not let go in
    /// time.
    #[error(
        "index {path} is in use by another storyprint process (waited {waited_secs} s); \
         try again when it has finished, or raise --wait"
    )]
    IndexLocked {
        /// The index directory.
        path: PathBuf,
        /// How long the open waited.
        waited_secs: u64,
    },
    /// The index was made by another format version or with incompatible engine settings.
    #[error("index {path} cannot be used: {message}")]
    IncompatibleIndex {
        /// The index directory.
        path: PathBuf,
        /// What differs.
        message: String,
    },
    /// There is no index where one was expected.
    #[error("no index at {0} (make one with `storyprint index add`)")]
    NoIndex(PathBuf),
    /// The index file is damaged, or is not a storyprint index (a 0-byte or foreign file):
    /// redb could not read it, or failed inside while reading it.
    #[error(
        "index {path} is damaged or is not a storyprint index ({detail}); restore it from a \
         backup, or move it away and rebuild it with `storyprint index add`"
    )]
    IndexDamaged {
        /// The index directory.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
    /// A write was asked of an index opened read-only.
    #[error("the index was opened read-only")]
    IndexReadOnly,
    /// The index's tables disagree with each other (found by `index verify`).
    #[error("index is corrupt: {0}")]
    IndexCorrupt(String),
    /// The embedded store (redb) failed.
    #[cfg(feature = "index")]
    #[error("index storage: {0}")]
    Store(Box<redb::Error>),
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::Output(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::Json(e)
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs `f`, a call into a dependency that panics on some damaged input (redb on a damaged
/// page, the Parquet decoder on a negative column range) where it should return an error:
/// its panic comes back as `Err` with the panic's message, or `fallback` when it has none.
#[cfg(any(feature = "index", feature = "parquet"))]
pub(crate) fn caught<T>(fallback: &str, f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        match panic.downcast::<String>() {
            Ok(message) => *message,
            Err(panic) => panic
                .downcast_ref::<&str>()
                .map_or(fallback, |m| m)
                .to_string(),
        }
    })
}

/// Two signatures' parameters differ: the first parameter that does, with both values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter} {ours} vs {theirs}")]
pub struct Incompatible {
    /// The parameter, as a user names it ("features", "K", "stop words", …).
    pub parameter: &'static str,
    /// Its value on the side the check was called on.
    pub ours: String,
    /// Its value on the other side.
    pub theirs: String,
}

impl Incompatible {
    /// `parameter` differs: `ours` on the side checked, `theirs` on the other.
    pub(crate) fn new(parameter: &'static str, ours: impl ToString, theirs: impl ToString) -> Self {
        Incompatible {
            parameter,
            ours: ours.to_string(),
            theirs: theirs.to_string(),
        }
    }
}
