//! Index stage: a persistent, crash-safe index of fingerprinted documents, to check new
//! documents against what is already published.
//!
//! The index is a directory holding one [redb](https://docs.rs/redb) file: ACID transactions
//! over copy-on-write B-trees with checksummed commits, so a process killed at any moment
//! leaves the last committed state. Every add (of one document or of a batch) is one write
//! transaction: a document is wholly in or not at all. Readers never block; writes are
//! serialised; one process at a time may open the index (others wait, see [`OpenOptions`]).
//!
//! **Weights follow the index.** Feature weights are IDF, from the document frequencies the
//! index keeps. A signature is made with the frequencies at the time its document is added
//! (its own batch included), and is never recomputed: as the index grows, early signatures
//! drift a little from what they would be today. Signatures only *propose* candidates (LSH
//! bands); the reported similarity is recomputed exactly from both texts with the current
//! frequencies (with the default `exact` configuration), so drift can cost a candidate, never
//! a wrong number. A checked document is weighted as if it had been added.
//!
//! The files: `open.rs` (the lock, the stored settings, creating), `upgrade.rs` (older
//! formats), `add.rs`, `check.rs` (a query signed, its candidates verified), `candidates.rs`
//! (band hit counts), `remove.rs`, `inspect.rs` (a document, figures, the integrity check),
//! `tables.rs`, `analysis.rs`, `store.rs` (table layout and encodings), `cache.rs`,
//! `repair.rs` and `http.rs` (the service).
//!
//! ```
//! use storyprint::index::{AddOptions, Index, OpenOptions};
//! use storyprint::{Config, Document, Origin};
//! let dir = tempfile::tempdir().unwrap();
//! let index = Index::open(dir.path(), &OpenOptions::create(Config::default())).unwrap();
//! let doc = |id: &str, text: &str| Document {
//!     id: id.into(),
//!     text: text.into(),
//!     origin: Origin { path: id.into(), line: None },
//!     time: None,
//! };
//! index
//!     .add(&[doc("a", "Lukashenko pardoned 23 political prisoners: three women and 20 men.")],
//!          &AddOptions::now())
//!     .unwrap();
//! let matches = index
//!     .check("Three women and 20 men, 23 political prisoners, were pardoned by Lukashenko.", None, None)
//!     .unwrap();
//! assert_eq!(matches[0].id, "a");
//! ```

mod add;
mod analysis;
mod cache;
mod candidates;
mod check;
#[cfg(feature = "serve")]
pub mod http;
mod inspect;
mod open;
mod remove;
mod repair;
mod store;
mod tables;
#[cfg(test)]
mod tests;
mod upgrade;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{Database, ReadOnlyDatabase, ReadTransaction, ReadableDatabase, WriteTransaction};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::lsh::Banding;
use crate::sign::Analyzers;
use crate::signature::Sketcher;

pub use add::{AddCounts, AddOptions, AddOutcome, AddStatus};
use cache::FreqCache;
pub use candidates::{MAX_QUERY_BUCKET, MAX_VERIFIED};
pub use check::{Match, duplicate_at};
pub use inspect::{IntegrityReport, Stats};
pub use open::{OpenOptions, guarded};
pub use repair::{RepairOutcome, RepairReport, repair};
pub use store::{FORMAT_VERSION, StoredDoc, UPGRADABLE_VERSION};

/// Every redb error converts into [`Error::Store`].
macro_rules! store_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Error {
                Error::Store(Box::new(e.into()))
            }
        }
    )*};
}

store_errors!(
    redb::Error,
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::DatabaseError
);

/// The file inside the index directory.
pub const DB_FILE: &str = "index.redb";

/// The default index directory.
pub const DEFAULT_PATH: &str = "storyprint-index";

/// The longest document id the service accepts and `index add` indexes, in bytes: an id is a
/// key in every table, not a place for text.
pub const MAX_ID_BYTES: usize = 1024;

/// The current time in unix seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The redb handle of an open index: one that may write, or one opened read-only.
enum Store {
    Writable(Database),
    ReadOnly(ReadOnlyDatabase),
}

impl Store {
    fn begin_read(&self) -> Result<ReadTransaction> {
        Ok(match self {
            Store::Writable(db) => db.begin_read()?,
            Store::ReadOnly(db) => db.begin_read()?,
        })
    }

    fn begin_write(&self) -> Result<WriteTransaction> {
        match self {
            Store::Writable(db) => Ok(db.begin_write()?),
            Store::ReadOnly(_) => Err(Error::IndexReadOnly),
        }
    }
}

/// An open index.
pub struct Index {
    db: Store,
    path: PathBuf,
    config: Config,
    banding: Banding,
    sketcher: Sketcher,
    /// The analyzers of the index's language, kept with their stems while it is open.
    analyzers: Analyzers,
    /// Document frequencies read by checks (see [`cache`]).
    freq_cache: FreqCache,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("path", &self.path)
            .field("banding", &self.banding)
            .finish_non_exhaustive()
    }
}

impl Index {
    /// The engine configuration the index was made with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The LSH banding fixed when the index was made.
    pub fn banding(&self) -> Banding {
        self.banding
    }

    /// The index directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
