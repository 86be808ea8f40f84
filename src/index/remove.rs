//! Removing documents: by id, or every one added before a time.

use redb::ReadableTable;

use super::Index;
use super::analysis::term_keys;
use super::candidates::band_keys;
use super::tables::{WriteTables, decode};
use crate::error::{Error, Result};
use crate::sign::analyze_normalized;

impl Index {
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

    /// Deletes a document: its record, id, band entries and document frequencies.
    pub(super) fn delete(&self, tables: &mut WriteTables, seq: u64) -> Result<()> {
        let bytes = tables.tables.docs.remove(seq)?.map(|v| v.value().to_vec());
        let Some(bytes) = bytes else {
            return Err(Error::IndexCorrupt(format!(
                "document {seq} has an id but no record"
            )));
        };
        let record = decode(seq, &bytes)?;
        tables.tables.ids.remove(record.id.as_str())?;
        tables.tables.evidence.remove(seq)?;
        for key in band_keys(&self.banding, &record.signature) {
            let pending = tables.pending.get_mut(&key).and_then(|seqs| {
                let at = seqs.iter().position(|&s| s == seq)?;
                Some(seqs.swap_remove(at))
            });
            if pending.is_none() {
                tables.tables.bands.remove(key, seq)?;
            }
        }
        let analysis = analyze_normalized(&self.analyzers, &[record.text.as_str()]);
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
