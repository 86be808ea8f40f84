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
//! ```
//! use storyprint::index::{AddOptions, Index, OpenOptions};
//! use storyprint::{Config, Document, Origin};
//! let dir = tempfile::tempdir().unwrap();
//! let index = Index::open(dir.path(), &OpenOptions::create(Config::default())).unwrap();
//! let doc = |id: &str, text: &str| Document {
//!     id: id.into(),
//!     text: text.into(),
//!     origin: Origin { path: id.into(), line: None },
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

mod cache;
#[cfg(feature = "serve")]
pub mod http;
mod repair;
mod store;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use redb::{
    Database, ReadOnlyDatabase, ReadTransaction, ReadableDatabase, ReadableMultimapTable,
    ReadableTable, ReadableTableMetadata, WriteTransaction,
};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::config::{Config, Language, Weighting};
use crate::contrast::contrast_group;
use crate::error::{Error, Result};
use crate::features::{DocFreq, Feature, FeatureTerms, Slot, fact_slots, features};
use crate::input::Document;
use crate::lsh::Banding;
use crate::normalize::normalize;
use crate::pipeline::{
    Analysis, Evidence, analyze, lsh_threshold, params, similarity_of, story_of,
};
use crate::signature::{EMPTY, Params, Signature, Sketcher};
use crate::tokenize::Analyzer;
use crate::verdict::{self, Level};

use cache::{FreqCache, Stamp};
pub use repair::{RepairOutcome, RepairReport, repair};
use store::{
    BANDING_KEY, BANDS, CONFIG_KEY, DOC_FREQ, DOCS, EVIDENCE, FORMAT_KEY, IDS, META, NEXT_SEQ_KEY,
    PARAMS_KEY, RecordHead, StoredEvidence, UPGRADE_KEY,
};
pub use store::{FORMAT_VERSION, Record, UPGRADABLE_VERSION};

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

/// A band value shared by more documents than this is boilerplate (a stock phrase of the
/// wire): checks skip it rather than read thousands of entries. A real duplicate collides in
/// many other bands. (Lower caps are faster but change verdicts: docs/performance.md, "`check` latency".)
pub const MAX_QUERY_BUCKET: u64 = 512;

/// At most this many candidates are verified per check: those colliding in the most bands
/// (ties: the earliest added). A near duplicate collides in far more bands than a chance
/// candidate, so the cap bounds the time of a query that collides with a crowd (a story held
/// hundreds of times); the matches reported are then the best of those verified, not every
/// copy. On the check bench's queries it changed no verdict and no best match
/// (docs/performance.md).
pub const MAX_VERIFIED: usize = 32;

/// The longest document id the service accepts and `index add` indexes, in bytes: an id is a
/// key in every table, not a place for text.
pub const MAX_ID_BYTES: usize = 1024;

/// How to open an index.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Create the index when it does not exist, with this configuration; `None`: fail with
    /// [`Error::NoIndex`].
    pub create: Option<Config>,
    /// When set, an existing index must have been made with signature parameters compatible
    /// with this configuration ([`Params::check_compatible`]).
    pub expect: Option<Config>,
    /// How long to wait for another process to close the index.
    pub wait: Duration,
    /// Open an existing index without writing to it (for `check`, `stats`, `verify`): its file
    /// is opened read-only, so a read-only file can be read, and the file is left byte for
    /// byte as it was. An index that must be written first (an older format to upgrade, a
    /// write interrupted by a crash to recover) is opened for writing when the file allows it.
    pub read_only: bool,
}

impl OpenOptions {
    /// Open or create with `config` (an existing index must be compatible with it).
    pub fn create(config: Config) -> OpenOptions {
        OpenOptions {
            create: Some(config.clone()),
            expect: Some(config),
            wait: Duration::ZERO,
            read_only: false,
        }
    }

    /// Open an existing index, whatever its settings.
    pub fn existing() -> OpenOptions {
        OpenOptions {
            create: None,
            expect: None,
            wait: Duration::ZERO,
            read_only: false,
        }
    }

    /// The same, accepting an existing index whatever its settings.
    pub fn any_settings(mut self) -> OpenOptions {
        self.expect = None;
        self
    }

    /// The same, waiting up to `wait` for another process to close the index.
    pub fn waiting(mut self, wait: Duration) -> OpenOptions {
        self.wait = wait;
        self
    }

    /// The same, without writing to an existing index ([`OpenOptions::read_only`]).
    pub fn read_only(mut self) -> OpenOptions {
        self.read_only = true;
        self
    }
}

/// How documents are added.
#[derive(Debug, Clone, Copy)]
pub struct AddOptions {
    /// The added-at time recorded (unix seconds).
    pub added_at: u64,
    /// Check each document against the index first, to count those already duplicates.
    pub find_duplicates: bool,
}

impl AddOptions {
    /// Added now, duplicates counted.
    pub fn now() -> AddOptions {
        AddOptions {
            added_at: unix_now(),
            find_duplicates: true,
        }
    }
}

/// The current time in unix seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What adding a document did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddStatus {
    /// A new id.
    New,
    /// A known id with different text: the old version was replaced.
    Replaced,
    /// A known id with the same (normalized) text: nothing written.
    Unchanged,
}

/// The outcome of adding one document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddOutcome {
    /// The document id.
    pub id: String,
    /// New, replaced or unchanged.
    pub status: AddStatus,
    /// The best match among the documents indexed before it, when it is a duplicate.
    pub duplicate_of: Option<Match>,
}

/// An indexed document similar to a checked one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    /// The indexed document's id.
    pub id: String,
    /// Similarity under the index's measure.
    pub similarity: f64,
    /// The story score ([`crate::verdict`]), when the index verifies exactly: the draft and
    /// the indexed documents LSH proposes with it, each contrasted with the others
    /// ([`crate::contrast::contrast_group`]).
    pub story: Option<f64>,
    /// How alike they are (`related` when there is no story score).
    pub level: Level,
}

/// Whether `matches` hold one at `level` or above: a duplicate at that level.
pub fn duplicate_at(matches: &[Match], level: Level) -> bool {
    matches.iter().any(|m| m.level >= level)
}

/// Figures about an index.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// The index directory.
    pub path: PathBuf,
    /// Format version of the index.
    pub format_version: u32,
    /// Documents held.
    pub documents: u64,
    /// Distinct terms with a document frequency.
    pub terms: u64,
    /// Entries in the LSH band tables.
    pub band_entries: u64,
    /// Size of the index file in bytes.
    pub file_bytes: u64,
    /// Oldest added-at (unix seconds), if any document.
    pub oldest: Option<u64>,
    /// Newest added-at (unix seconds), if any document.
    pub newest: Option<u64>,
    /// The engine configuration the index was made with.
    pub config: Config,
    /// LSH bands.
    pub bands: usize,
    /// Values per band.
    pub rows: usize,
    /// Bands a candidate must collide in.
    pub min_hits: usize,
}

/// What `verify` checked.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Documents checked.
    pub documents: u64,
    /// Band entries checked.
    pub band_entries: u64,
    /// Document frequencies checked.
    pub terms: u64,
}

/// A document analysed for the index: its normalized text, terms and content hash.
struct Prepared<'a> {
    id: &'a str,
    analysis: Analysis,
    content_hash: u64,
}

impl<'a> Prepared<'a> {
    fn new(id: &'a str, analysis: Analysis) -> Prepared<'a> {
        Prepared {
            id,
            content_hash: xxh3_64(analysis.text.as_bytes()),
            analysis,
        }
    }
}

thread_local! {
    /// The thread's analyzer for single documents, with the language it was made for.
    static ANALYZER: RefCell<Option<(Language, Analyzer)>> = const { RefCell::new(None) };
    /// The thread's band-hit counts, emptied and reused from one check to the next: a check
    /// counts thousands of documents, and a new map grows (rehashes) several times.
    static HITS: RefCell<ahash::AHashMap<u64, u32>> = RefCell::new(ahash::AHashMap::new());
}

/// One document normalized and tokenized on the calling thread, as [`analyze`] does for a
/// batch: a check pays no hop to the thread pool, and the thread's stem cache is kept from one
/// check to the next.
fn analyze_one(text: &str, config: &Config) -> Analysis {
    let text = normalize(text, config.strip_chrome);
    let terms = ANALYZER.with_borrow_mut(|slot| {
        if !matches!(slot, Some((language, _)) if *language == config.language) {
            *slot = Some((config.language, Analyzer::new(config.language)));
        }
        slot.as_ref()
            .map(|(_, analyzer)| analyzer.terms(&text))
            .unwrap_or_default()
    });
    Analysis { text, terms }
}

/// Sorted distinct non-stop term keys of an analysis (what document frequencies count).
fn term_keys(analysis: &Analysis) -> Vec<u64> {
    crate::features::term_keys(&analysis.terms)
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

/// Runs operations on the index in `dir`, turning a panic inside them into
/// [`Error::IndexDamaged`]: redb panics on some damaged files (a flipped byte in a page it
/// trusts) where it returns an error on others. For the boundary of a program: the index is
/// not to be used after such a failure.
///
/// ```
/// use std::path::Path;
/// use storyprint::Error;
/// use storyprint::index::guarded;
/// let failed: Result<(), Error> = guarded(Path::new("idx"), || panic!("page checksum"));
/// assert!(matches!(failed, Err(Error::IndexDamaged { .. })));
/// ```
pub fn guarded<T, E: From<Error>>(dir: &Path, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let detail = match panic.downcast::<String>() {
            Ok(message) => *message,
            Err(panic) => panic
                .downcast_ref::<&str>()
                .map_or("the store failed while reading it", |m| m)
                .to_string(),
        };
        Err(Error::IndexDamaged {
            path: dir.to_path_buf(),
            detail,
        }
        .into())
    })
}

/// Runs `open` again while another process holds the file, for `wait` at most.
fn while_locked<D>(
    dir: &Path,
    wait: Duration,
    open: impl Fn() -> std::result::Result<D, redb::DatabaseError>,
) -> Result<std::result::Result<D, redb::DatabaseError>> {
    let start = Instant::now();
    loop {
        match open() {
            Err(redb::DatabaseError::DatabaseAlreadyOpen) if start.elapsed() < wait => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(Error::IndexLocked {
                    path: dir.to_path_buf(),
                    waited_secs: start.elapsed().as_secs(),
                });
            }
            opened => return Ok(opened),
        }
    }
}

/// The error for an existing index file redb cannot open: one it may not write to is an I/O
/// error, anything else a damaged file.
fn unopenable(dir: &Path, error: redb::DatabaseError) -> Error {
    if let redb::DatabaseError::Storage(redb::StorageError::Io(io)) = &error
        && matches!(
            io.kind(),
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
        )
    {
        return Error::Io {
            path: dir.join(DB_FILE),
            error: std::io::Error::new(
                io.kind(),
                "the index must be written first (an older format to upgrade, or a write \
                 a crash interrupted to recover) and the file cannot be written",
            ),
        };
    }
    Error::IndexDamaged {
        path: dir.to_path_buf(),
        detail: error.to_string(),
    }
}

/// Opens the redb file, waiting while another process holds it. An existing file is opened,
/// never initialised: a 0-byte or foreign file is refused ([`Error::IndexDamaged`]) rather
/// than taken for a new, empty index.
fn open_database(dir: &Path, wait: Duration) -> Result<Database> {
    let file = dir.join(DB_FILE);
    let exists = file.exists();
    let opened = while_locked(dir, wait, || match exists {
        true => Database::builder().open(&file),
        false => Database::builder().create(&file),
    })?;
    match opened {
        Ok(db) => Ok(db),
        Err(e) if exists => Err(unopenable(dir, e)),
        Err(e) => Err(e.into()),
    }
}

/// Opens the existing redb file read-only, waiting while another process writes it; `None`
/// when a crash interrupted a write and redb must recover it (which writes).
fn open_read_only(dir: &Path, wait: Duration) -> Result<Option<ReadOnlyDatabase>> {
    let file = dir.join(DB_FILE);
    match while_locked(dir, wait, || Database::builder().open_read_only(&file))? {
        Ok(db) => Ok(Some(db)),
        Err(redb::DatabaseError::RepairAborted) => Ok(None),
        Err(e) => Err(unopenable(dir, e)),
    }
}

/// The stored settings of an index in the current format, read from `txn`; `None` when it has
/// none yet or an older format.
fn current_settings(
    txn: &ReadTransaction,
    dir: &Path,
    options: &OpenOptions,
) -> Result<Option<(Config, Banding)>> {
    match txn.open_table(META) {
        Ok(meta) => Ok(match stored_settings(&meta, dir, options)? {
            Some((config, banding, FORMAT_VERSION)) => Some((config, banding)),
            _ => None,
        }),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// An error saying why the index in `dir` cannot be used.
fn incompatible(dir: &Path, message: String) -> Error {
    Error::IncompatibleIndex {
        path: dir.to_path_buf(),
        message,
    }
}

/// The stored settings and format version, checked against `options`; `None` when no format
/// version has been committed.
fn stored_settings(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
    dir: &Path,
    options: &OpenOptions,
) -> Result<Option<(Config, Banding, u32)>> {
    let incompatible = |message: String| incompatible(dir, message);
    let Some(version) = store::meta_value(meta, FORMAT_KEY)? else {
        return Ok(None);
    };
    let version = <[u8; 4]>::try_from(version.as_slice())
        .map(u32::from_le_bytes)
        .map_err(|_| incompatible("unreadable format version".into()))?;
    if !(UPGRADABLE_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(incompatible(format!(
            "format version {version}, this storyprint reads versions \
             {UPGRADABLE_VERSION} to {FORMAT_VERSION}; rebuild the index with \
             `storyprint index add`"
        )));
    }
    let read = |key: &str| -> Result<Vec<u8>> {
        store::meta_value(meta, key)?.ok_or_else(|| incompatible(format!("meta {key} is missing")))
    };
    let config: Config = serde_json::from_slice(&read(CONFIG_KEY)?)
        .map_err(|e| incompatible(format!("stored configuration: {e}")))?;
    config
        .validate()
        .map_err(|e| incompatible(format!("stored configuration: {e}")))?;
    let stored: Params = serde_json::from_slice(&read(PARAMS_KEY)?)
        .map_err(|e| incompatible(format!("stored parameters: {e}")))?;
    let banding = store::decode_banding(&read(BANDING_KEY)?)
        .ok_or_else(|| incompatible("unreadable banding".into()))?;
    stored
        .check_compatible(&params(&config))
        .map_err(|e| incompatible(format!("stored settings disagree: {e}")))?;
    if let Some(expected) = &options.expect {
        stored.check_compatible(&params(expected)).map_err(|e| {
            incompatible(format!(
                "made with other engine settings than asked for ({e}); use the \
                 index's settings or another --index"
            ))
        })?;
    }
    Ok(Some((config, banding, version)))
}

/// Writes the settings of a new index in one transaction, or upgrades an older format
/// ([`upgrade`]).
fn create_or_upgrade(
    db: &Database,
    dir: &Path,
    options: &OpenOptions,
) -> Result<(Config, Banding)> {
    let txn = db.begin_write()?;
    let (config, banding, version) = {
        let mut meta = txn.open_table(META)?;
        // Decided under the lock, not from the file's existence: another process may have
        // created the file and not yet committed its settings.
        match (
            stored_settings(&meta, dir, options)?,
            options.create.as_ref(),
        ) {
            (Some(settings), _) => settings,
            (None, Some(config)) => {
                let banding = Banding::optimal(lsh_threshold(config), config.num_hashes);
                meta.insert(FORMAT_KEY, FORMAT_VERSION.to_le_bytes().as_slice())?;
                meta.insert(CONFIG_KEY, serde_json::to_vec(config)?.as_slice())?;
                meta.insert(PARAMS_KEY, serde_json::to_vec(&params(config))?.as_slice())?;
                meta.insert(BANDING_KEY, store::encode_banding(&banding).as_slice())?;
                (config.clone(), banding, FORMAT_VERSION)
            }
            (None, None) => {
                return Err(incompatible(
                    dir,
                    "not a storyprint index (no format version)".into(),
                ));
            }
        }
    };
    // Creating every table up front lets readers open them in any state.
    txn.open_table(IDS)?;
    txn.open_table(DOCS)?;
    txn.open_multimap_table(BANDS)?;
    txn.open_table(DOC_FREQ)?;
    txn.open_table(EVIDENCE)?;
    txn.commit()?;
    if version < FORMAT_VERSION {
        upgrade(db, &config, &banding, UPGRADE_CHUNK)?;
    }
    Ok((config, banding))
}

impl Index {
    /// Opens the index in directory `dir`, creating it when asked to.
    pub fn open(dir: &Path, options: &OpenOptions) -> Result<Index> {
        if dir.exists() && !dir.is_dir() {
            return Err(incompatible(
                dir,
                "it is a file; an index is a directory (give --index a directory)".into(),
            ));
        }
        let exists = dir.join(DB_FILE).exists();
        let create_with = match (&options.create, exists) {
            (_, true) => None,
            (Some(config), false) => Some(config),
            (None, false) => return Err(Error::NoIndex(dir.to_path_buf())),
        };
        if let Some(config) = create_with {
            config.validate()?;
            std::fs::create_dir_all(dir).map_err(|error| Error::Io {
                path: dir.to_path_buf(),
                error,
            })?;
        }
        if options.read_only
            && create_with.is_none()
            && let Some(db) = open_read_only(dir, options.wait)?
        {
            let current = current_settings(&db.begin_read()?, dir, options)?;
            if let Some((config, banding)) = current {
                return Ok(Index::new(Store::ReadOnly(db), dir, config, banding));
            }
        }
        let db = open_database(dir, options.wait)?;
        // An index already in the current format opens without writing (no commit, no sync):
        // what a one-off `check` pays.
        let (config, banding) = match current_settings(&db.begin_read()?, dir, options)? {
            Some(settings) => settings,
            None => create_or_upgrade(&db, dir, options)?,
        };
        Ok(Index::new(Store::Writable(db), dir, config, banding))
    }

    fn new(db: Store, dir: &Path, config: Config, banding: Banding) -> Index {
        Index {
            sketcher: Sketcher::for_config(&config),
            db,
            path: dir.to_path_buf(),
            config,
            banding,
            freq_cache: FreqCache::default(),
        }
    }

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

    fn prepare<'a>(&self, docs: &'a [Document]) -> Vec<Prepared<'a>> {
        let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
        analyze(&texts, &self.config)
            .into_iter()
            .zip(docs)
            .map(|(analysis, doc)| Prepared::new(&doc.id, analysis))
            .collect()
    }

    /// One document prepared on the calling thread (see [`analyze_one`]).
    fn prepare_one<'a>(&self, doc: &'a Document) -> Prepared<'a> {
        Prepared::new(&doc.id, analyze_one(&doc.text, &self.config))
    }

    /// Indexed documents similar to `text` at or above `threshold` (default: the index's),
    /// each with its level, best first. `id`, when given, is never reported as a match of itself.
    pub fn check(
        &self,
        text: &str,
        id: Option<&str>,
        threshold: Option<f64>,
    ) -> Result<Vec<Match>> {
        let doc = Document {
            id: id.unwrap_or_default().to_string(),
            text: text.to_string(),
            origin: crate::input::Origin {
                path: PathBuf::new(),
                line: None,
            },
        };
        let prepared = self.prepare_one(&doc);
        let txn = self.db.begin_read()?;
        let next_seq = store::meta_u64(&txn.open_table(META)?, NEXT_SEQ_KEY)?;
        let tables = Tables {
            ids: txn.open_table(IDS)?,
            docs: txn.open_table(DOCS)?,
            bands: txn.open_multimap_table(BANDS)?,
            freq: txn.open_table(DOC_FREQ)?,
            evidence: txn.open_table(EVIDENCE)?,
        };
        let exclude = match id {
            Some(id) => tables.ids.get(id)?.map(|v| v.value()),
            None => None,
        };
        let stamp = cache::stamp(next_seq, tables.docs.len()?);
        let query = self.query(&tables, &prepared.analysis, false, Some(stamp))?;
        self.matches(&tables, query, exclude, self.threshold(threshold)?)
    }

    /// Checks `doc` and, when it is not a duplicate at `level` (default: the index's), adds
    /// it, in one transaction: no other write can come between the verdict and the add.
    /// Returns the matches and, when added, what the add did.
    pub fn check_and_add(
        &self,
        doc: &Document,
        threshold: Option<f64>,
        level: Option<Level>,
        added_at: u64,
    ) -> Result<(Vec<Match>, Option<AddStatus>)> {
        let level = level.unwrap_or(self.config.level);
        let threshold = self.threshold(threshold)?;
        let prepared = self.prepare_one(doc);
        let txn = self.db.begin_write()?;
        let status = {
            let mut tables = WriteTables::open(&txn)?;
            let exclude = tables.tables.ids.get(doc.id.as_str())?.map(|v| v.value());
            let query = self.query(&tables, &prepared.analysis, false, None)?;
            let matches = self.matches(&tables, query, exclude, threshold)?;
            if duplicate_at(&matches, level) {
                return Ok((matches, None));
            }
            let status = self.insert(&mut tables, &prepared, added_at)?;
            tables.flush()?;
            (matches, Some(status))
        };
        txn.commit()?;
        Ok(status)
    }

    /// Adds documents in one transaction (all of them or none), in order. With
    /// `find_duplicates`, each is first checked against the index (including the documents
    /// before it in `docs`) at the index's threshold.
    pub fn add(&self, docs: &[Document], options: &AddOptions) -> Result<Vec<AddOutcome>> {
        let prepared = self.prepare(docs);
        let txn = self.db.begin_write()?;
        let mut outcomes = Vec::with_capacity(docs.len());
        {
            let mut tables = WriteTables::open(&txn)?;
            for doc in &prepared {
                let existing = tables.tables.ids.get(doc.id)?.map(|v| v.value());
                let unchanged = match existing {
                    Some(seq) => tables.content_hash(seq)? == doc.content_hash,
                    None => false,
                };
                let duplicate_of = if options.find_duplicates && !unchanged {
                    let query = self.query(&tables, &doc.analysis, false, None)?;
                    self.matches(&tables, query, existing, self.config.threshold)?
                        .into_iter()
                        .next()
                } else {
                    None
                };
                let status = self.insert(&mut tables, doc, options.added_at)?;
                outcomes.push(AddOutcome {
                    id: doc.id.to_string(),
                    status,
                    duplicate_of,
                });
            }
            tables.flush()?;
        }
        txn.commit()?;
        Ok(outcomes)
    }

    /// Removes documents by id in one transaction; returns the ids that were not indexed.
    pub fn remove(&self, ids: &[String]) -> Result<Vec<String>> {
        let txn = self.db.begin_write()?;
        let mut missing = Vec::new();
        {
            let mut tables = WriteTables::open(&txn)?;
            for id in ids {
                let seq = tables.tables.ids.get(id.as_str())?.map(|v| v.value());
                match seq {
                    Some(seq) => self.delete(&mut tables, seq)?,
                    None => missing.push(id.clone()),
                }
            }
        }
        txn.commit()?;
        Ok(missing)
    }

    /// Removes every document added before `cutoff` (unix seconds), in one transaction;
    /// returns how many.
    pub fn expire(&self, cutoff: u64) -> Result<u64> {
        let txn = self.db.begin_write()?;
        let removed = {
            let mut tables = WriteTables::open(&txn)?;
            let mut old = Vec::new();
            for entry in tables.tables.docs.iter()? {
                let (seq, bytes) = entry?;
                if decode(seq.value(), bytes.value())?.added_at < cutoff {
                    old.push(seq.value());
                }
            }
            for &seq in &old {
                self.delete(&mut tables, seq)?;
            }
            old.len() as u64
        };
        txn.commit()?;
        Ok(removed)
    }

    /// Whether a document id is indexed.
    pub fn contains(&self, id: &str) -> Result<bool> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(IDS)?.get(id)?.is_some())
    }

    /// The indexed document with this id (normalized text, signature, added-at).
    pub fn get(&self, id: &str) -> Result<Option<Record>> {
        let txn = self.db.begin_read()?;
        let Some(seq) = txn.open_table(IDS)?.get(id)?.map(|v| v.value()) else {
            return Ok(None);
        };
        match txn.open_table(DOCS)?.get(seq)? {
            Some(bytes) => Ok(Some(decode(seq, bytes.value())?)),
            None => Err(Error::IndexCorrupt(format!(
                "{id:?} has an id but no record"
            ))),
        }
    }

    /// Sizes and counts.
    pub fn stats(&self) -> Result<Stats> {
        let txn = self.db.begin_read()?;
        let docs = txn.open_table(DOCS)?;
        let (mut oldest, mut newest) = (None::<u64>, None::<u64>);
        for entry in docs.iter()? {
            let (seq, bytes) = entry?;
            let added = decode(seq.value(), bytes.value())?.added_at;
            oldest = Some(oldest.map_or(added, |o| o.min(added)));
            newest = Some(newest.map_or(added, |n| n.max(added)));
        }
        let file = self.path.join(DB_FILE);
        let format_version = store::meta_value(&txn.open_table(META)?, FORMAT_KEY)?
            .and_then(|bytes| Some(u32::from_le_bytes(bytes.as_slice().try_into().ok()?)))
            .ok_or_else(|| Error::IndexCorrupt("unreadable format version".into()))?;
        Ok(Stats {
            path: self.path.clone(),
            format_version,
            documents: docs.len()?,
            terms: txn.open_table(DOC_FREQ)?.len()?,
            band_entries: txn.open_multimap_table(BANDS)?.len()?,
            file_bytes: std::fs::metadata(&file)
                .map_err(|error| Error::Io { path: file, error })?
                .len(),
            oldest,
            newest,
            config: self.config.clone(),
            bands: self.banding.bands,
            rows: self.banding.rows,
            min_hits: self.banding.min_hits,
        })
    }

    /// Checks the store's integrity (redb's page checksums and B-tree structure) and that the
    /// tables agree: every record decodes, ids and records match one to one, every document's
    /// band entries are present and no other, and the document frequencies are those of the
    /// stored texts.
    pub fn verify(&mut self) -> Result<VerifyReport> {
        if !self.store_integrity()? {
            return Err(Error::IndexCorrupt(
                match self.db {
                    Store::Writable(_) => {
                        "the store failed its integrity check and was repaired; re-run verify"
                    }
                    Store::ReadOnly(_) => {
                        "the store failed its integrity check; `storyprint index repair` repairs it"
                    }
                }
                .into(),
            ));
        }
        self.verify_tables()
    }

    /// redb's integrity check (page checksums, B-tree structure): whether the store passed.
    /// It repairs what it can, so on a read-only index it runs on a copy of the file in the
    /// temporary directory, and the index itself is left as it was.
    fn store_integrity(&mut self) -> Result<bool> {
        match &mut self.db {
            Store::Writable(db) => Ok(db.check_integrity()?),
            Store::ReadOnly(_) => {
                let file = self.path.join(DB_FILE);
                let temp_error = |error| Error::Io {
                    path: std::env::temp_dir(),
                    error,
                };
                let copy = tempfile::NamedTempFile::new().map_err(temp_error)?;
                std::fs::copy(&file, copy.path()).map_err(temp_error)?;
                let mut db = Database::builder()
                    .open(copy.path())
                    .map_err(|e| unopenable(&self.path, e))?;
                Ok(db.check_integrity()?)
            }
        }
    }

    /// That the tables agree with each other and with the stored texts (see [`Index::verify`]).
    fn verify_tables(&self) -> Result<VerifyReport> {
        let txn = self.db.begin_read()?;
        let ids = txn.open_table(IDS)?;
        let docs = txn.open_table(DOCS)?;
        let bands = txn.open_multimap_table(BANDS)?;
        let freq = txn.open_table(DOC_FREQ)?;
        let evidence = txn.open_table(EVIDENCE)?;
        let next_seq = store::meta_u64(&txn.open_table(META)?, NEXT_SEQ_KEY)?;
        let corrupt = |m: String| Err(Error::IndexCorrupt(m));
        // Band entries are compared as an order-independent sum of mixed (key, seq) hashes
        // and a count: memory stays constant whatever the index size.
        let entry_hash = |key: u64, seq: u64| crate::hash::mix(key ^ crate::hash::mix(seq));
        let (mut expected_sum, mut expected_count) = (0u64, 0u64);
        let mut expected_freq: HashMap<u64, u64> = HashMap::new();
        let k = self.config.num_hashes;
        let mut chunk: Vec<(u64, Record)> = Vec::new();
        let mut check_chunk = |chunk: &mut Vec<(u64, Record)>| -> Result<()> {
            for ((seq, record), analysis) in chunk.iter().zip(analyze_records(chunk, &self.config))
            {
                for key in term_keys(&analysis) {
                    *expected_freq.entry(key).or_insert(0) += 1;
                }
                let stored = evidence.get(*seq)?;
                if stored.and_then(|e| StoredEvidence::decode(e.value()))
                    != Some(evidence_of(&analysis, &self.config))
                {
                    return Err(Error::IndexCorrupt(format!(
                        "document {:?} has missing or wrong evidence",
                        record.id
                    )));
                }
            }
            chunk.clear();
            Ok(())
        };
        for entry in docs.iter()? {
            let (seq, bytes) = entry?;
            let seq = seq.value();
            let record = decode(seq, bytes.value())?;
            if seq >= next_seq {
                return corrupt(format!("document {seq} is beyond the sequence {next_seq}"));
            }
            if record.signature.values.len() != k {
                return corrupt(format!(
                    "document {:?} has {} values, not {k}",
                    record.id,
                    record.signature.values.len()
                ));
            }
            if ids.get(record.id.as_str())?.map(|v| v.value()) != Some(seq) {
                return corrupt(format!(
                    "document {:?} is missing from the id table",
                    record.id
                ));
            }
            if has_features(&record.signature) {
                for band in 0..self.banding.bands {
                    let key = self.banding.band_key(&record.signature, band);
                    expected_sum = expected_sum.wrapping_add(entry_hash(key, seq));
                    expected_count += 1;
                }
            }
            chunk.push((seq, record));
            if chunk.len() >= 1024 {
                check_chunk(&mut chunk)?;
            }
        }
        check_chunk(&mut chunk)?;
        if ids.len()? != docs.len()? {
            return corrupt(format!("{} ids for {} documents", ids.len()?, docs.len()?));
        }
        if evidence.len()? != docs.len()? {
            return corrupt(format!(
                "evidence of {} documents for {} documents",
                evidence.len()?,
                docs.len()?
            ));
        }
        let (mut sum, mut count) = (0u64, 0u64);
        for entry in bands.iter()? {
            let (key, seqs) = entry?;
            for seq in seqs {
                sum = sum.wrapping_add(entry_hash(key.value(), seq?.value()));
                count += 1;
            }
        }
        if (sum, count) != (expected_sum, expected_count) {
            return corrupt(format!(
                "the band tables hold {count} entries, the documents need {expected_count} \
                 (or the entries differ)"
            ));
        }
        let mut terms = 0;
        for entry in freq.iter()? {
            let (key, df) = entry?;
            terms += 1;
            if expected_freq.get(&key.value()) != Some(&df.value()) {
                return corrupt(format!(
                    "document frequency of term {:#x} is {}, the texts give {}",
                    key.value(),
                    df.value(),
                    expected_freq.get(&key.value()).copied().unwrap_or(0)
                ));
            }
        }
        if terms != expected_freq.len() as u64 {
            return corrupt(format!(
                "{terms} document frequencies stored, the texts have {} terms",
                expected_freq.len()
            ));
        }
        Ok(VerifyReport {
            documents: docs.len()?,
            band_entries: count,
            terms,
        })
    }

    fn threshold(&self, threshold: Option<f64>) -> Result<f64> {
        let threshold = threshold.unwrap_or(self.config.threshold);
        if !(threshold > 0.0 && threshold <= 1.0) {
            return Err(Error::Config(format!(
                "the threshold must be in (0, 1], not {threshold}"
            )));
        }
        Ok(threshold)
    }

    /// The query's features and signature, weighted with the index's frequencies as if the
    /// query were one more document of the index (as it is once added). `counted`: its terms
    /// are already in the stored frequencies (it is being inserted), else they are counted
    /// here. `stamp`: the committed state the tables are read in, when they are (a read
    /// transaction), so that frequencies are taken from and kept in the cache.
    fn query<T: TableSet>(
        &self,
        tables: &T,
        analysis: &Analysis,
        counted: bool,
        stamp: Option<Stamp>,
    ) -> Result<Query> {
        let mut freq = DocFreq {
            docs: tables.docs().len()? + 1,
            ..DocFreq::default()
        };
        let keys = term_keys(analysis);
        load_freq(tables.freq(), &keys, &mut freq, self.cached(stamp))?;
        if !counted {
            for key in &keys {
                *freq.counts.entry(*key).or_insert(0) += 1;
            }
        }
        let features = features(&analysis.text, &analysis.terms, &self.config, &freq);
        let signature = self.sketcher.sketch(&features);
        let slots = fact_slots(&analysis.terms, &self.config);
        Ok(Query {
            features,
            signature,
            slots,
            freq,
            stamp,
        })
    }

    /// The frequency cache for tables read in state `stamp`.
    fn cached(&self, stamp: Option<Stamp>) -> Option<(&FreqCache, Stamp)> {
        stamp.map(|stamp| (&self.freq_cache, stamp))
    }

    /// The verified matches of a query, best first.
    fn matches<T: TableSet>(
        &self,
        tables: &T,
        mut query: Query,
        exclude: Option<u64>,
        threshold: f64,
    ) -> Result<Vec<Match>> {
        if !has_features(&query.signature) {
            return Ok(Vec::new());
        }
        // Band keys read in sorted order walk the B-tree from left to right.
        let mut keys: Vec<u64> = (0..self.banding.bands)
            .map(|band| self.banding.band_key(&query.signature, band))
            .collect();
        keys.sort_unstable();
        let mut candidates = HITS.with_borrow_mut(|hits| -> Result<Vec<(u32, u64)>> {
            hits.clear();
            for key in keys {
                let values = tables.bands().get(key)?;
                let pending = tables.pending(key);
                if values.len() + pending.len() as u64 > MAX_QUERY_BUCKET {
                    continue;
                }
                for seq in values {
                    *hits.entry(seq?.value()).or_insert(0) += 1;
                }
                for &seq in pending {
                    *hits.entry(seq).or_insert(0) += 1;
                }
            }
            Ok(hits
                .iter()
                .filter(|&(&seq, &n)| n as usize >= self.banding.min_hits && Some(seq) != exclude)
                .map(|(&seq, &n)| (n, seq))
                .collect())
        })?;
        candidates.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        candidates.truncate(MAX_VERIFIED);
        candidates.sort_unstable_by_key(|&(_, seq)| seq);
        let mut records = Vec::with_capacity(candidates.len());
        for (_, seq) in candidates {
            let Some(bytes) = tables.docs().get(seq)? else {
                continue;
            };
            let record = decoded(seq, RecordHead::decode(bytes.value()))?;
            let evidence = match tables.evidence().get(seq)? {
                Some(bytes) => StoredEvidence::decode(bytes.value()).ok_or_else(|| {
                    Error::IndexCorrupt(format!("evidence of document {seq} does not decode"))
                })?,
                None => {
                    return Err(Error::IndexCorrupt(format!(
                        "document {seq} has no evidence"
                    )));
                }
            };
            records.push((record, evidence));
        }
        // Verification as every command does it (pipeline::similarity_of), the candidates'
        // features weighted with the current frequencies.
        let config = &self.config;
        if config.exact && config.weighting == Weighting::Idf {
            let keys: Vec<u64> = records
                .iter()
                .flat_map(|(_, e)| e.features.keys.iter().copied())
                .collect();
            load_freq(
                tables.freq(),
                &keys,
                &mut query.freq,
                self.cached(query.stamp),
            )?;
        }
        let query_evidence = Evidence {
            features: &query.features,
            signature: &query.signature,
            slots: &query.slots,
        };
        let features: Vec<Vec<Feature>> = records
            .iter()
            .map(|(_, stored)| {
                if config.exact {
                    stored.features.weighted(config.weighting, &query.freq)
                } else {
                    Vec::new()
                }
            })
            .collect();
        fn evidence<'a>(
            (record, stored): &'a (RecordHead, StoredEvidence),
            features: &'a [Feature],
        ) -> Evidence<'a> {
            Evidence {
                features,
                signature: &record.signature,
                slots: &stored.slots,
            }
        }
        let similarities: Vec<f64> = (0..records.len())
            .map(|i| {
                similarity_of(
                    config,
                    &query_evidence,
                    &evidence(&records[i], &features[i]),
                )
            })
            .collect();
        // The story scores, from the draft and its candidates contrasted with each other.
        let stories: Vec<Option<f64>> = if config.exact {
            let group: Vec<&[Feature]> = std::iter::once(query.features.as_slice())
                .chain(features.iter().map(Vec::as_slice))
                .collect();
            let contrasted = contrast_group(&group);
            let draft = Evidence {
                features: &contrasted[0],
                ..query_evidence
            };
            (0..records.len())
                .map(|i| {
                    Some(story_of(
                        config,
                        &draft,
                        &evidence(&records[i], &contrasted[i + 1]),
                    ))
                })
                .collect()
        } else {
            vec![None; records.len()]
        };
        let mut matches: Vec<Match> = records
            .into_iter()
            .zip(similarities.into_iter().zip(stories))
            .filter(|(_, (s, _))| *s >= threshold)
            .map(|((r, _), (similarity, story))| Match {
                id: r.id,
                similarity,
                story,
                level: story
                    .and_then(|story| verdict::level(similarity, story, threshold))
                    .unwrap_or(Level::Related),
            })
            .collect();
        matches.sort_by(|a, b| b.similarity.total_cmp(&a.similarity).then(a.id.cmp(&b.id)));
        Ok(matches)
    }

    /// Writes one prepared document (replacing an older version of the same id).
    fn insert(&self, tables: &mut WriteTables, doc: &Prepared, added_at: u64) -> Result<AddStatus> {
        let existing = tables.tables.ids.get(doc.id)?.map(|v| v.value());
        let status = match existing {
            Some(seq) => {
                if tables.content_hash(seq)? == doc.content_hash {
                    return Ok(AddStatus::Unchanged);
                }
                self.delete(tables, seq)?;
                AddStatus::Replaced
            }
            None => AddStatus::New,
        };
        let keys = term_keys(&doc.analysis);
        for &key in &keys {
            let df = tables.tables.freq.get(key)?.map_or(0, |v| v.value());
            tables.tables.freq.insert(key, df + 1)?;
        }
        let query = self.query(&tables.tables, &doc.analysis, true, None)?;
        let seq = store::meta_u64(&tables.meta, NEXT_SEQ_KEY)?;
        tables
            .meta
            .insert(NEXT_SEQ_KEY, (seq + 1).to_le_bytes().as_slice())?;
        if has_features(&query.signature) {
            for band in 0..self.banding.bands {
                let key = self.banding.band_key(&query.signature, band);
                tables.pending.entry(key).or_default().push(seq);
            }
        }
        let record = Record {
            id: doc.id.to_string(),
            added_at,
            content_hash: doc.content_hash,
            signature: query.signature,
            text: doc.analysis.text.clone(),
        };
        tables.tables.docs.insert(seq, record.encode().as_slice())?;
        let evidence = evidence_of(&doc.analysis, &self.config);
        tables
            .tables
            .evidence
            .insert(seq, evidence.encode().as_slice())?;
        tables.tables.ids.insert(doc.id, seq)?;
        Ok(status)
    }

    /// Deletes a document: its record, id, band entries and document frequencies.
    fn delete(&self, tables: &mut WriteTables, seq: u64) -> Result<()> {
        let bytes = tables.tables.docs.remove(seq)?.map(|v| v.value().to_vec());
        let Some(bytes) = bytes else {
            return Err(Error::IndexCorrupt(format!(
                "document {seq} has an id but no record"
            )));
        };
        let record = decode(seq, &bytes)?;
        tables.tables.ids.remove(record.id.as_str())?;
        tables.tables.evidence.remove(seq)?;
        if has_features(&record.signature) {
            for band in 0..self.banding.bands {
                let key = self.banding.band_key(&record.signature, band);
                let pending = tables.pending.get_mut(&key).and_then(|seqs| {
                    let at = seqs.iter().position(|&s| s == seq)?;
                    Some(seqs.swap_remove(at))
                });
                if pending.is_none() {
                    tables.tables.bands.remove(key, seq)?;
                }
            }
        }
        let analysis = analyze_normalized(&[record.text.as_str()], &self.config);
        for key in term_keys(&analysis[0]) {
            let df = tables.tables.freq.get(key)?.map_or(0, |v| v.value());
            if df <= 1 {
                tables.tables.freq.remove(key)?;
            } else {
                tables.tables.freq.insert(key, df - 1)?;
            }
        }
        Ok(())
    }
}

/// Terms of texts that are already normalized (stored records): tokenized exactly as when
/// they were added.
fn analyze_normalized(texts: &[&str], config: &Config) -> Vec<Analysis> {
    texts
        .par_iter()
        .map_init(
            || crate::tokenize::Analyzer::new(config.language),
            |analyzer, text| Analysis {
                text: text.to_string(),
                terms: analyzer.terms(text),
            },
        )
        .collect()
}

/// What exact verification will need of a document (see [`StoredEvidence`]).
fn evidence_of(analysis: &Analysis, config: &Config) -> StoredEvidence {
    StoredEvidence {
        features: if config.exact {
            FeatureTerms::new(&analysis.text, &analysis.terms, config)
        } else {
            FeatureTerms::default()
        },
        slots: fact_slots(&analysis.terms, config),
    }
}

/// Analyses of stored records (their normalized texts), in order.
fn analyze_records(records: &[(u64, Record)], config: &Config) -> Vec<Analysis> {
    let texts: Vec<&str> = records.iter().map(|(_, r)| r.text.as_str()).collect();
    analyze_normalized(&texts, config)
}

/// Documents re-fingerprinted per transaction by [`upgrade`].
const UPGRADE_CHUNK: usize = 1024;

/// Upgrades an older format to the current one. Format 3 changed how shingles and feature
/// copies are hashed, so every stored document is fingerprinted again from its stored text:
/// its evidence (format 1 had none), its signature (made with today's document frequencies,
/// as the frequencies at its adding are gone) and its band entries. The first transaction
/// empties the band table and sets a marker; each next one does `chunk` documents and moves
/// the marker past them; the last one writes the new format version. Memory is one chunk's,
/// whatever the index's size, and an upgrade that is interrupted goes on from the marker the
/// next time the index is opened (an index with a marker is never used in between: opening
/// finishes the upgrade first).
fn upgrade(db: &Database, config: &Config, banding: &Banding, chunk: usize) -> Result<()> {
    let freq = start_upgrade(db)?;
    let sketcher = Sketcher::for_config(config);
    while !upgrade_chunk(db, config, banding, (&freq, &sketcher), chunk)? {}
    Ok(())
}

/// The first transaction of [`upgrade`], unless an interrupted upgrade already made it: the
/// band table emptied and the marker set. Returns the stored document frequencies.
fn start_upgrade(db: &Database) -> Result<DocFreq> {
    let txn = db.begin_write()?;
    if store::meta_value(&txn.open_table(META)?, UPGRADE_KEY)?.is_none() {
        txn.delete_multimap_table(BANDS)?;
        txn.open_multimap_table(BANDS)?;
        txn.open_table(META)?
            .insert(UPGRADE_KEY, 0u64.to_le_bytes().as_slice())?;
    }
    txn.commit()?;
    let txn = db.begin_read()?;
    let mut freq = DocFreq {
        docs: txn.open_table(DOCS)?.len()?,
        ..DocFreq::default()
    };
    for entry in txn.open_table(DOC_FREQ)?.iter()? {
        let (key, df) = entry?;
        freq.counts.insert(key.value(), df.value());
    }
    Ok(freq)
}

/// One transaction of [`upgrade`]: the next `chunk` documents from the marker, or, when none
/// is left, the new format version. Returns whether the upgrade is done.
fn upgrade_chunk(
    db: &Database,
    config: &Config,
    banding: &Banding,
    (freq, sketcher): (&DocFreq, &Sketcher),
    chunk: usize,
) -> Result<bool> {
    let txn = db.begin_write()?;
    let done = {
        let mut meta = txn.open_table(META)?;
        let next = store::meta_u64(&meta, UPGRADE_KEY)?;
        let mut docs = txn.open_table(DOCS)?;
        let mut records: Vec<(u64, Record)> = Vec::with_capacity(chunk);
        for entry in docs.range(next..)?.take(chunk) {
            let (seq, bytes) = entry?;
            records.push((seq.value(), decode(seq.value(), bytes.value())?));
        }
        let after = records.last().and_then(|&(last, _)| last.checked_add(1));
        let mut evidence = txn.open_table(EVIDENCE)?;
        let mut bands = txn.open_multimap_table(BANDS)?;
        let analyses = analyze_records(&records, config);
        for ((seq, mut record), analysis) in records.into_iter().zip(analyses) {
            let features = features(&analysis.text, &analysis.terms, config, freq);
            record.signature = sketcher.sketch(&features);
            docs.insert(seq, record.encode().as_slice())?;
            evidence.insert(seq, evidence_of(&analysis, config).encode().as_slice())?;
            if has_features(&record.signature) {
                for band in 0..banding.bands {
                    bands.insert(banding.band_key(&record.signature, band), seq)?;
                }
            }
        }
        match after {
            Some(after) => {
                meta.insert(UPGRADE_KEY, after.to_le_bytes().as_slice())?;
                false
            }
            None => {
                meta.remove(UPGRADE_KEY)?;
                meta.insert(FORMAT_KEY, FORMAT_VERSION.to_le_bytes().as_slice())?;
                true
            }
        }
    };
    txn.commit()?;
    Ok(done)
}

/// Whether a signature has any feature (an empty document has none and is never banded).
fn has_features(signature: &Signature) -> bool {
    signature.values.first().is_some_and(|&v| v != EMPTY)
}

fn decode(seq: u64, bytes: &[u8]) -> Result<Record> {
    decoded(seq, Record::decode(bytes))
}

/// A decoded record (or its head), or a corruption error naming the record.
fn decoded<T>(seq: u64, decoded: Option<T>) -> Result<T> {
    decoded.ok_or_else(|| Error::IndexCorrupt(format!("record {seq} does not decode")))
}

/// Loads the stored frequencies of `keys` not yet in `freq` (absent terms load as 0): from
/// `cache` when given and holding them, else from `table` (and then kept in `cache`).
fn load_freq(
    table: &impl ReadableTable<u64, u64>,
    keys: &[u64],
    freq: &mut DocFreq,
    cache: Option<(&FreqCache, Stamp)>,
) -> Result<()> {
    let mut missing: Vec<u64> = keys
        .iter()
        .copied()
        .filter(|k| !freq.counts.contains_key(k))
        .collect();
    if let Some((cache, stamp)) = cache {
        cache.take(stamp, &mut missing, freq);
    }
    // Keys read in sorted order walk the B-tree from left to right.
    missing.sort_unstable();
    missing.dedup();
    let mut read = Vec::with_capacity(missing.len());
    for key in missing {
        let df = table.get(key)?.map_or(0, |v| v.value());
        freq.counts.insert(key, df);
        read.push((key, df));
    }
    if let Some((cache, stamp)) = cache {
        cache.keep(stamp, &read);
    }
    Ok(())
}

/// A checked document's features, signature, and the frequencies loaded so far.
struct Query {
    features: Vec<Feature>,
    signature: Signature,
    slots: Vec<Slot>,
    freq: DocFreq,
    /// The committed state the query is checked in, when it is read in one (see [`cache`]).
    stamp: Option<Stamp>,
}

/// The tables a check reads, in a read or a write transaction.
trait TableSet {
    type Docs: ReadableTable<u64, &'static [u8]>;
    type Bands: ReadableMultimapTable<u64, u64>;
    type Freq: ReadableTable<u64, u64>;
    type Evidence: ReadableTable<u64, &'static [u8]>;
    fn docs(&self) -> &Self::Docs;
    fn bands(&self) -> &Self::Bands;
    fn freq(&self) -> &Self::Freq;
    fn evidence(&self) -> &Self::Evidence;
    /// Band entries written in this transaction but not yet in the band table.
    fn pending(&self, _key: u64) -> &[u64] {
        &[]
    }
}

/// The data tables, opened in one transaction.
struct Tables<I, D, B, F, E> {
    ids: I,
    docs: D,
    bands: B,
    freq: F,
    evidence: E,
}

impl<I, D, B, F, E> TableSet for Tables<I, D, B, F, E>
where
    D: ReadableTable<u64, &'static [u8]>,
    B: ReadableMultimapTable<u64, u64>,
    F: ReadableTable<u64, u64>,
    E: ReadableTable<u64, &'static [u8]>,
{
    type Docs = D;
    type Bands = B;
    type Freq = F;
    type Evidence = E;
    fn docs(&self) -> &D {
        &self.docs
    }
    fn bands(&self) -> &B {
        &self.bands
    }
    fn freq(&self) -> &F {
        &self.freq
    }
    fn evidence(&self) -> &E {
        &self.evidence
    }
}

/// The data tables open for writing.
type DataTables<'txn> = Tables<
    redb::Table<'txn, &'static str, u64>,
    redb::Table<'txn, u64, &'static [u8]>,
    redb::MultimapTable<'txn, u64, u64>,
    redb::Table<'txn, u64, u64>,
    redb::Table<'txn, u64, &'static [u8]>,
>;

/// Every table, open for writing.
struct WriteTables<'txn> {
    meta: redb::Table<'txn, &'static str, &'static [u8]>,
    tables: DataTables<'txn>,
    /// Band entries of the documents added in this transaction, written sorted by
    /// [`WriteTables::flush`] before the commit: sorted inserts touch each B-tree page once,
    /// several times faster than inserting 256 scattered keys per document.
    pending: HashMap<u64, Vec<u64>>,
}

impl<'txn> TableSet for WriteTables<'txn> {
    type Docs = redb::Table<'txn, u64, &'static [u8]>;
    type Bands = redb::MultimapTable<'txn, u64, u64>;
    type Freq = redb::Table<'txn, u64, u64>;
    type Evidence = redb::Table<'txn, u64, &'static [u8]>;
    fn docs(&self) -> &Self::Docs {
        &self.tables.docs
    }
    fn bands(&self) -> &Self::Bands {
        &self.tables.bands
    }
    fn freq(&self) -> &Self::Freq {
        &self.tables.freq
    }
    fn evidence(&self) -> &Self::Evidence {
        &self.tables.evidence
    }
    fn pending(&self, key: u64) -> &[u64] {
        self.pending.get(&key).map_or(&[], Vec::as_slice)
    }
}

impl<'txn> WriteTables<'txn> {
    /// The content hash of an indexed document.
    fn content_hash(&self, seq: u64) -> Result<u64> {
        match self.tables.docs.get(seq)? {
            Some(bytes) => Ok(decode(seq, bytes.value())?.content_hash),
            None => Err(Error::IndexCorrupt(format!(
                "document {seq} has an id but no record"
            ))),
        }
    }

    fn open(txn: &'txn WriteTransaction) -> Result<WriteTables<'txn>> {
        Ok(WriteTables {
            meta: txn.open_table(META)?,
            tables: Tables {
                ids: txn.open_table(IDS)?,
                docs: txn.open_table(DOCS)?,
                bands: txn.open_multimap_table(BANDS)?,
                freq: txn.open_table(DOC_FREQ)?,
                evidence: txn.open_table(EVIDENCE)?,
            },
            pending: HashMap::new(),
        })
    }

    /// Writes the pending band entries, sorted.
    fn flush(&mut self) -> Result<()> {
        let mut entries: Vec<(u64, u64)> = self
            .pending
            .drain()
            .flat_map(|(key, seqs)| seqs.into_iter().map(move |seq| (key, seq)))
            .collect();
        entries.sort_unstable();
        for (key, seq) in entries {
            self.tables.bands.insert(key, seq)?;
        }
        Ok(())
    }
}

/// How many documents an add found new, replaced, unchanged, and already duplicates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AddCounts {
    /// New ids.
    pub new: u64,
    /// Known ids with new text.
    pub replaced: u64,
    /// Known ids with the same text.
    pub unchanged: u64,
    /// Documents (new or replaced) that already had a duplicate in the index.
    pub duplicates: u64,
}

impl AddCounts {
    /// Counts outcomes into the totals.
    pub fn tally(&mut self, outcomes: &[AddOutcome]) {
        for o in outcomes {
            match o.status {
                AddStatus::New => self.new += 1,
                AddStatus::Replaced => self.replaced += 1,
                AddStatus::Unchanged => self.unchanged += 1,
            }
            self.duplicates += u64::from(o.duplicate_of.is_some());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Origin;

    /// An upgrade stopped after its first document (as by a kill between transactions) goes
    /// on from its marker when the index is next opened, and the index is whole.
    #[test]
    fn an_interrupted_upgrade_goes_on_when_the_index_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/index-v2");
        std::fs::copy(fixture.join(DB_FILE), dir.path().join(DB_FILE)).unwrap();
        {
            let db = open_database(dir.path(), Duration::ZERO).unwrap();
            let txn = db.begin_read().unwrap();
            let meta = txn.open_table(META).unwrap();
            let (config, banding, version) =
                stored_settings(&meta, dir.path(), &OpenOptions::existing())
                    .unwrap()
                    .unwrap();
            drop((meta, txn));
            assert_eq!(version, 2);
            let freq = start_upgrade(&db).unwrap();
            let sketcher = Sketcher::for_config(&config);
            let done = upgrade_chunk(&db, &config, &banding, (&freq, &sketcher), 1).unwrap();
            assert!(!done);
            let txn = db.begin_read().unwrap();
            let meta = txn.open_table(META).unwrap();
            assert!(store::meta_u64(&meta, UPGRADE_KEY).unwrap() > 0);
        }
        let mut index = Index::open(dir.path(), &OpenOptions::existing()).unwrap();
        assert_eq!(index.stats().unwrap().format_version, FORMAT_VERSION);
        assert_eq!(index.verify().unwrap().documents, 4);
        let txn = index.db.begin_read().unwrap();
        let meta = txn.open_table(META).unwrap();
        assert_eq!(store::meta_value(&meta, UPGRADE_KEY).unwrap(), None);
    }

    fn doc(id: &str, text: &str) -> Document {
        Document {
            id: id.into(),
            text: text.into(),
            origin: Origin {
                path: id.into(),
                line: None,
            },
        }
    }

    const PARDON: &str = "Belarus leader Alexander Lukashenko pardoned 23 political prisoners \
        on Friday, three women and 20 men convicted of crimes of an extremist orientation, \
        his press service said, ahead of talks with the European Union.";
    const PARDON_REWRITE: &str = "Twenty men and three women, 23 political prisoners in all, \
        were pardoned by Lukashenko on Friday; they had been convicted of crimes of an \
        extremist orientation, before talks with the European Union.";
    const RATES: &str = "The central bank raised its main interest rate by half a point to \
        4.5 percent on Thursday, citing stubborn inflation in services and wages.";

    fn open(dir: &Path) -> Index {
        Index::open(dir, &OpenOptions::create(Config::default())).unwrap()
    }

    fn at(added_at: u64) -> AddOptions {
        AddOptions {
            added_at,
            find_duplicates: true,
        }
    }

    #[test]
    fn add_check_replace_remove_and_verify() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = open(dir.path());
        let outcomes = index
            .add(&[doc("pardon", PARDON), doc("rates", RATES)], &at(100))
            .unwrap();
        assert_eq!(outcomes[0].status, AddStatus::New);
        let matches = index.check(PARDON_REWRITE, None, None).unwrap();
        assert_eq!(matches.len(), 1, "{matches:?}");
        assert_eq!(matches[0].id, "pardon");
        assert!(
            index
                .check(PARDON, Some("pardon"), None)
                .unwrap()
                .is_empty()
        );
        // Adding the rewrite counts it as a duplicate; adding the same text again is a no-op.
        let outcomes = index
            .add(
                &[doc("rewrite", PARDON_REWRITE), doc("rates", RATES)],
                &at(200),
            )
            .unwrap();
        assert_eq!(outcomes[0].duplicate_of.as_ref().unwrap().id, "pardon");
        assert_eq!(outcomes[1].status, AddStatus::Unchanged);
        // New text under a known id replaces the old version.
        let outcomes = index.add(&[doc("rates", PARDON)], &at(300)).unwrap();
        assert_eq!(outcomes[0].status, AddStatus::Replaced);
        assert!(index.check(RATES, None, None).unwrap().is_empty());
        index.verify().unwrap();
        assert_eq!(
            index.remove(&["rates".into(), "nope".into()]).unwrap(),
            ["nope"]
        );
        assert_eq!(index.expire(150).unwrap(), 1, "pardon was added at 100");
        assert_eq!(index.stats().unwrap().documents, 1);
        let report = index.verify().unwrap();
        assert_eq!(report.documents, 1);
        assert_eq!(report.band_entries, index.banding().bands as u64);
    }

    /// Regression: documents were signed with one document too few in the count (N), so a
    /// rewrite of an indexed story could miss every band.
    #[test]
    fn the_last_document_added_is_signed_as_the_batch_pipeline_signs_it() {
        let dir = tempfile::tempdir().unwrap();
        let index = open(dir.path());
        let docs = [doc("rates", RATES), doc("pardon", PARDON)];
        index.add(&docs, &at(1)).unwrap();
        let batch = crate::Fingerprints::new(&docs, &Config::default()).unwrap();
        let stored = index.get("pardon").unwrap().unwrap();
        assert_eq!(stored.signature, batch.signatures[1]);
        let matches = index.check(PARDON_REWRITE, None, None).unwrap();
        assert_eq!(matches[0].id, "pardon");
    }

    /// The document frequencies checks keep in memory are never used after a write: after an
    /// add and after a removal (which leaves the sequence number as it was), a check weighs
    /// with the new frequencies, as the same check of the freshly reopened index does.
    #[test]
    fn checks_after_a_write_weigh_with_the_new_frequencies() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = open(dir.path());
        index
            .add(&[doc("pardon", PARDON), doc("rates", RATES)], &at(1))
            .unwrap();
        let similarity =
            |index: &Index| index.check(PARDON_REWRITE, None, None).unwrap()[0].similarity;
        let more = "Lukashenko pardoned more political prisoners convicted of extremism.";
        let writes: [&dyn Fn(&Index); 2] = [
            &|index| drop(index.add(&[doc("more", more)], &at(2)).unwrap()),
            &|index| assert!(index.remove(&["more".into()]).unwrap().is_empty()),
        ];
        for write in writes {
            let before = similarity(&index);
            write(&index);
            let after = similarity(&index);
            assert_ne!(before.to_bits(), after.to_bits());
            drop(index);
            index = open(dir.path());
            assert_eq!(after.to_bits(), similarity(&index).to_bits());
        }
    }

    #[test]
    fn check_and_add_adds_only_what_is_new() {
        let dir = tempfile::tempdir().unwrap();
        let index = open(dir.path());
        let (matches, added) = index
            .check_and_add(&doc("a", PARDON), None, None, 1)
            .unwrap();
        assert!(matches.is_empty());
        assert_eq!(added, Some(AddStatus::New));
        // A match below the level asked for does not block the add.
        let (matches, added) =
            (index.check_and_add(&doc("b", PARDON_REWRITE), None, None, 2)).unwrap();
        assert_eq!(matches[0].id, "a");
        assert!(matches[0].level >= Level::Rewrite, "{matches:?}");
        assert_eq!(added, None);
        assert!(!index.contains("b").unwrap());
        let copy = Some(Level::Copy);
        let (matches, added) =
            (index.check_and_add(&doc("b", PARDON_REWRITE), None, copy, 2)).unwrap();
        assert_eq!((matches.len(), added), (1, Some(AddStatus::New)));
    }

    #[test]
    fn incompatible_settings_and_other_format_versions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(open(dir.path()));
        let other = Config {
            num_hashes: 128,
            ..Config::default()
        };
        let err = Index::open(dir.path(), &OpenOptions::create(other)).unwrap_err();
        assert!(matches!(err, Error::IncompatibleIndex { .. }), "{err}");
        assert!(err.to_string().contains("K=256"), "{err}");
        {
            let db = Database::create(dir.path().join(DB_FILE)).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(META)
                .unwrap()
                .insert(FORMAT_KEY, 99u32.to_le_bytes().as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        let err = Index::open(dir.path(), &OpenOptions::existing()).unwrap_err();
        assert!(err.to_string().contains("format version 99"), "{err}");
    }

    #[test]
    fn a_missing_index_is_created_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("idx");
        let err = Index::open(&path, &OpenOptions::existing()).unwrap_err();
        assert!(matches!(err, Error::NoIndex(_)));
        open(&path);
        assert!(path.join(DB_FILE).exists());
    }

    #[test]
    fn a_second_open_waits_then_fails_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let _held = open(dir.path());
        let options = OpenOptions::existing().waiting(Duration::from_millis(200));
        let err = Index::open(dir.path(), &options).unwrap_err();
        assert!(matches!(err, Error::IndexLocked { .. }), "{err}");
        assert!(err.to_string().contains("in use by another"), "{err}");
    }

    #[test]
    fn verify_finds_tables_that_disagree() {
        let dir = tempfile::tempdir().unwrap();
        {
            let index = open(dir.path());
            index.add(&[doc("a", PARDON)], &at(1)).unwrap();
            let txn = index.db.begin_write().unwrap();
            txn.open_table(DOC_FREQ).unwrap().insert(42, 7).unwrap();
            txn.commit().unwrap();
        }
        let mut index = Index::open(dir.path(), &OpenOptions::existing()).unwrap();
        let err = index.verify().unwrap_err();
        assert!(matches!(err, Error::IndexCorrupt(_)), "{err}");
    }
}
