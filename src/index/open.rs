//! Opening an index: the lock, the stored settings checked against those asked for, a new
//! index created or an older format upgraded.

use std::path::Path;
use std::time::{Duration, Instant};

use redb::{Database, ReadOnlyDatabase, ReadTransaction, ReadableDatabase, ReadableTable};

use super::cache::FreqCache;
use super::store::{
    self, BANDING_KEY, BANDS, CONFIG_KEY, DOC_FREQ, DOCS, EVIDENCE, FORMAT_KEY, IDS, META,
    PARAMS_KEY,
};
use super::upgrade::{UPGRADE_CHUNK, upgrade};
use super::{DB_FILE, FORMAT_VERSION, Index, Store, UPGRADABLE_VERSION};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::lsh::Banding;
use crate::lsh::Scan;
use crate::sign::Analyzers;
use crate::signature::{SignatureParams, Sketcher};

/// How to open an index.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Create the index when it does not exist, with this configuration; `None`: fail with
    /// [`Error::NoIndex`].
    pub create: Option<Config>,
    /// When set, an existing index must have been made with signature parameters compatible
    /// with this configuration ([`SignatureParams::check_compatible`]).
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
    crate::error::caught("the store failed while reading it", f).unwrap_or_else(|detail| {
        Err(Error::IndexDamaged {
            path: dir.to_path_buf(),
            detail,
        }
        .into())
    })
}

/// Runs `open` again while another process holds the file, for `wait` at most.
pub(super) fn while_locked<D>(
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
pub(super) fn unopenable(dir: &Path, error: redb::DatabaseError) -> Error {
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
pub(super) fn open_database(dir: &Path, wait: Duration) -> Result<Database> {
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
pub(super) fn open_read_only(dir: &Path, wait: Duration) -> Result<Option<ReadOnlyDatabase>> {
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
pub(super) fn incompatible(dir: &Path, message: String) -> Error {
    Error::IncompatibleIndex {
        path: dir.to_path_buf(),
        message,
    }
}

/// The stored settings and format version, checked against `options`; `None` when no format
/// version has been committed.
pub(super) fn stored_settings(
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
    let stored: SignatureParams = serde_json::from_slice(&read(PARAMS_KEY)?)
        .map_err(|e| incompatible(format!("stored parameters: {e}")))?;
    let banding = store::decode_banding(&read(BANDING_KEY)?)
        .ok_or_else(|| incompatible("unreadable banding".into()))?;
    stored
        .check_compatible(&SignatureParams::of(&config))
        .map_err(|e| {
            incompatible(format!(
                "stored settings disagree: its parameters have {} {}, its configuration {}",
                e.parameter, e.ours, e.theirs
            ))
        })?;
    if let Some(expected) = &options.expect {
        stored
            .check_compatible(&SignatureParams::of(expected))
            .map_err(|e| {
                incompatible(format!(
                    "made with other engine settings than asked for: its {} {}, asked for \
                     {}; use the index's settings or another --index",
                    e.parameter, e.ours, e.theirs
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
                let banding = Banding::for_config(config, Scan::Batch);
                meta.insert(FORMAT_KEY, FORMAT_VERSION.to_le_bytes().as_slice())?;
                meta.insert(CONFIG_KEY, serde_json::to_vec(config)?.as_slice())?;
                meta.insert(
                    PARAMS_KEY,
                    serde_json::to_vec(&SignatureParams::of(config))?.as_slice(),
                )?;
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
            analyzers: Analyzers::new(config.language),
            db,
            path: dir.to_path_buf(),
            config,
            banding,
            freq_cache: FreqCache::default(),
        }
    }
}
