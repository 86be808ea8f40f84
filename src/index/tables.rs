//! The tables of an index as a check or a write reads them, and reading their values.

use std::collections::HashMap;

use redb::{ReadableMultimapTable, ReadableTable, WriteTransaction};

use super::cache::{FreqCache, Stamp};
use super::store::{BANDS, DOC_FREQ, DOCS, EVIDENCE, IDS, META, StoredDoc};
use crate::error::{Error, Result};
use crate::features::DocFreq;

pub(super) fn decode(seq: u64, bytes: &[u8]) -> Result<StoredDoc> {
    decoded(seq, StoredDoc::decode(bytes))
}

/// A decoded record (or its head), or a corruption error naming the record.
pub(super) fn decoded<T>(seq: u64, decoded: Option<T>) -> Result<T> {
    decoded.ok_or_else(|| Error::IndexCorrupt(format!("record {seq} does not decode")))
}

/// Loads the stored frequencies of `keys` not yet in `freq` (absent terms load as 0): from
/// `cache` when given and holding them, else from `table` (and then kept in `cache`).
pub(super) fn load_freq(
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

/// The tables a check reads, in a read or a write transaction.
pub(super) trait TableSet {
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
pub(super) struct Tables<I, D, B, F, E> {
    pub(super) ids: I,
    pub(super) docs: D,
    pub(super) bands: B,
    pub(super) freq: F,
    pub(super) evidence: E,
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
pub(super) type DataTables<'txn> = Tables<
    redb::Table<'txn, &'static str, u64>,
    redb::Table<'txn, u64, &'static [u8]>,
    redb::MultimapTable<'txn, u64, u64>,
    redb::Table<'txn, u64, u64>,
    redb::Table<'txn, u64, &'static [u8]>,
>;

/// Every table, open for writing.
pub(super) struct WriteTables<'txn> {
    pub(super) meta: redb::Table<'txn, &'static str, &'static [u8]>,
    pub(super) tables: DataTables<'txn>,
    /// Band entries of the documents added in this transaction, written sorted by
    /// [`WriteTables::flush`] before the commit: sorted inserts touch each B-tree page once,
    /// several times faster than inserting 256 scattered keys per document.
    pub(super) pending: HashMap<u64, Vec<u64>>,
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
    pub(super) fn content_hash(&self, seq: u64) -> Result<u64> {
        match self.tables.docs.get(seq)? {
            Some(bytes) => Ok(decode(seq, bytes.value())?.content_hash),
            None => Err(Error::IndexCorrupt(format!(
                "document {seq} has an id but no record"
            ))),
        }
    }

    pub(super) fn open(txn: &'txn WriteTransaction) -> Result<WriteTables<'txn>> {
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
    pub(super) fn flush(&mut self) -> Result<()> {
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
