//! Reading what an index holds: a document, its figures, and whether its store and tables
//! are sound.

use std::collections::HashMap;
use std::path::PathBuf;

use redb::{Database, ReadableMultimapTable, ReadableTable, ReadableTableMetadata};
use serde::Serialize;

use super::analysis::{analyze_stored, evidence_of, term_keys};
use super::candidates::band_keys;
use super::open::unopenable;
use super::store::{
    self, BANDS, DOC_FREQ, DOCS, EVIDENCE, FORMAT_KEY, IDS, META, NEXT_SEQ_KEY, StoredDoc,
    StoredEvidence,
};
use super::tables::decode;
use super::{DB_FILE, Index, Store};
use crate::config::Config;
use crate::error::{Error, Result};

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

/// What [`Index::check_integrity`] checked.
#[derive(Debug, Clone, Serialize)]
pub struct IntegrityReport {
    /// Documents checked.
    pub documents: u64,
    /// Band entries checked.
    pub band_entries: u64,
    /// Document frequencies checked.
    pub terms: u64,
}

impl Index {
    /// Whether a document id is indexed.
    pub fn contains(&self, id: &str) -> Result<bool> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(IDS)?.get(id)?.is_some())
    }

    /// The indexed document with this id (normalized text, signature, added-at).
    pub fn get(&self, id: &str) -> Result<Option<StoredDoc>> {
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
    pub fn check_integrity(&mut self) -> Result<IntegrityReport> {
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
        self.check_tables()
    }

    /// redb's integrity check (page checksums, B-tree structure): whether the store passed.
    /// It repairs what it can, so on a read-only index it runs on a copy of the file in the
    /// temporary directory, and the index itself is left as it was.
    pub(super) fn store_integrity(&mut self) -> Result<bool> {
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

    /// That the tables agree with each other and with the stored texts (see
    /// [`Index::check_integrity`]).
    pub(super) fn check_tables(&self) -> Result<IntegrityReport> {
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
        let mut chunk: Vec<(u64, StoredDoc)> = Vec::new();
        let mut check_chunk = |chunk: &mut Vec<(u64, StoredDoc)>| -> Result<()> {
            for ((seq, record), analysis) in
                chunk.iter().zip(analyze_stored(&self.analyzers, chunk))
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
            for key in band_keys(&self.banding, &record.signature) {
                expected_sum = expected_sum.wrapping_add(entry_hash(key, seq));
                expected_count += 1;
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
        Ok(IntegrityReport {
            documents: docs.len()?,
            band_entries: count,
            terms,
        })
    }
}
