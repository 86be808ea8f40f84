//! `storyprint index repair`: an index that fails its integrity check is recovered by redb
//! when it can, and otherwise rebuilt from the documents that can still be read.

use std::path::{Path, PathBuf};
use std::time::Duration;

use redb::{Database, ReadableTable};
use serde::Serialize;

use super::open::{incompatible, open_read_only, stored_settings, while_locked};
use super::store::{DOCS, META};
use super::{AddOptions, DB_FILE, Index, OpenOptions, Store, StoredDoc, guarded, unix_now};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::input::{Document, Origin};

/// Documents per transaction of a rebuild.
const REBUILD_BATCH: usize = 1000;

/// What [`repair`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairOutcome {
    /// The index passed its integrity check: nothing was changed.
    Sound,
    /// redb's integrity check found damage and repaired the store (from its last good
    /// commit); the tables then passed. The damaged file was kept.
    Recovered {
        /// Where the damaged file's copy is.
        kept_as: PathBuf,
    },
    /// The index was rebuilt from the documents still readable; the damaged file was kept.
    Rebuilt {
        /// Where the damaged file's copy is.
        kept_as: PathBuf,
    },
}

/// What [`repair`] did and how many documents the index holds after it.
#[derive(Debug, Clone, Serialize)]
pub struct RepairReport {
    /// What was done.
    pub outcome: RepairOutcome,
    /// Documents in the index after the repair.
    pub documents: u64,
}

/// Repairs the index in `dir`, waiting up to `wait` for another process to close it; nothing
/// else may use the index meanwhile.
///
/// The file is first copied to `index.redb.damaged-<unix time>` (removed again when the index
/// proves sound). Then the index is opened for writing (redb recovers a write a crash
/// interrupted) and checked ([`Index::check_integrity`]); when that fails on a damaged store or
/// tables that disagree, a new index is built, with the stored settings, from every record
/// that can still be read (their normalized texts, added again in order with their added-at
/// times, as `index add` would), and takes the damaged file's place. Documents whose records
/// cannot be read are lost: their ids are not known. Fails, leaving the file as it was given,
/// when not even the settings can be read.
pub fn repair(dir: &Path, wait: Duration) -> Result<RepairReport> {
    let file = dir.join(DB_FILE);
    if !file.is_file() {
        return Err(Error::NoIndex(dir.to_path_buf()));
    }
    let kept_as = dir.join(format!("{DB_FILE}.damaged-{}", unix_now()));
    std::fs::copy(&file, &kept_as).map_err(io_error(&kept_as))?;
    let checked = guarded(dir, || {
        let mut index = Index::open(dir, &OpenOptions::existing().waiting(wait))?;
        let clean = index.store_integrity()?;
        let documents = index.check_tables()?.documents;
        Ok((clean, documents))
    });
    let (outcome, documents) = match checked {
        Ok((true, documents)) => {
            std::fs::remove_file(&kept_as).map_err(io_error(&kept_as))?;
            (RepairOutcome::Sound, documents)
        }
        Ok((false, documents)) => (RepairOutcome::Recovered { kept_as }, documents),
        Err(e @ (Error::IndexLocked { .. } | Error::Io { .. })) => {
            let _ = std::fs::remove_file(&kept_as);
            return Err(e);
        }
        Err(_) => match rebuild(dir, wait) {
            Ok(documents) => (RepairOutcome::Rebuilt { kept_as }, documents),
            Err(e) => {
                // The file goes back as it was given.
                let _ = std::fs::rename(&kept_as, &file);
                return Err(e);
            }
        },
    };
    Ok(RepairReport { outcome, documents })
}

/// The I/O error for `path`.
fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + use<> {
    let path = path.to_path_buf();
    move |error| Error::Io { path, error }
}

/// What could be read of a damaged index.
#[derive(Default)]
struct Salvage {
    config: Option<Config>,
    records: Vec<StoredDoc>,
}

/// Reads the settings and, in sequence order, the records up to the first that cannot be
/// read; what was read before a failure stays in `found`.
fn salvage(dir: &Path, wait: Duration, found: &mut Salvage) -> Result<()> {
    let file = dir.join(DB_FILE);
    let store = match while_locked(dir, wait, || Database::builder().open(&file))? {
        Ok(db) => Store::Writable(db),
        Err(_) => match open_read_only(dir, wait)? {
            Some(db) => Store::ReadOnly(db),
            None => return Err(incompatible(dir, "redb cannot open the file".into())),
        },
    };
    let txn = store.begin_read()?;
    let settings = stored_settings(&txn.open_table(META)?, dir, &OpenOptions::existing())?;
    found.config = settings.map(|(config, _, _)| config);
    for entry in txn.open_table(DOCS)?.iter()? {
        let Ok((_, bytes)) = entry else { break };
        found.records.extend(StoredDoc::decode(bytes.value()));
    }
    Ok(())
}

/// Builds a new index from what [`salvage`] reads and puts it in the damaged one's place;
/// returns how many documents it holds.
fn rebuild(dir: &Path, wait: Duration) -> Result<u64> {
    let mut found = Salvage::default();
    let salvaged = guarded(dir, || salvage(dir, wait, &mut found));
    let Some(config) = found.config else {
        let detail = match salvaged {
            Err(Error::IndexDamaged { detail, .. }) => detail,
            Err(e) => e.to_string(),
            Ok(()) => "no settings are stored".into(),
        };
        return Err(Error::IndexDamaged {
            path: dir.to_path_buf(),
            detail: format!("not even its settings can be read: {detail}"),
        });
    };
    let fresh = tempfile::Builder::new()
        .prefix(".repair-")
        .tempdir_in(dir)
        .map_err(io_error(dir))?;
    {
        let index = Index::open(fresh.path(), &OpenOptions::create(config))?;
        for same_time in found.records.chunk_by(|a, b| a.added_at == b.added_at) {
            for batch in same_time.chunks(REBUILD_BATCH) {
                let docs: Vec<Document> = batch
                    .iter()
                    .map(|record| Document {
                        id: record.id.clone(),
                        text: record.text.clone(),
                        origin: Origin {
                            path: "repair".into(),
                            line: None,
                        },
                        time: None,
                    })
                    .collect();
                let options = AddOptions {
                    added_at: batch[0].added_at,
                    find_duplicates: false,
                };
                index.add(&docs, &options)?;
            }
        }
    }
    let file = dir.join(DB_FILE);
    std::fs::rename(fresh.path().join(DB_FILE), &file).map_err(io_error(&file))?;
    Ok(Index::open(dir, &OpenOptions::existing().read_only())?
        .stats()?
        .documents)
}
