//! Adding documents: each analysed, signed with the index's frequencies, and written with
//! its band entries, evidence and document frequencies, a batch per transaction.

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::analysis::{Prepared, evidence_of, term_keys};
use super::candidates::band_keys;
use super::check::{Match, duplicate_at};
use super::store::{NEXT_SEQ_KEY, StoredDoc};
use super::tables::WriteTables;
use super::{Index, store, unix_now};
use crate::error::Result;
use crate::input::Document;
use crate::verdict::Level;

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

impl Index {
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
        for key in band_keys(&self.banding, &query.signature) {
            tables.pending.entry(key).or_default().push(seq);
        }
        let record = StoredDoc {
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
}
