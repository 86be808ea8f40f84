//! Upgrading an index of an older format: every stored document fingerprinted again, a
//! chunk per transaction.

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata};

use super::FORMAT_VERSION;
use super::analysis::{analyze_stored, evidence_of};
use super::candidates::band_keys;
use super::store::{
    self, BANDS, DOC_FREQ, DOCS, EVIDENCE, FORMAT_KEY, META, StoredDoc, UPGRADE_KEY,
};
use super::tables::decode;
use crate::config::Config;
use crate::error::Result;
use crate::features::{DocFreq, features};
use crate::lsh::Banding;
use crate::sign::Analyzers;
use crate::signature::Sketcher;

/// Documents re-fingerprinted per transaction by [`upgrade`].
pub(super) const UPGRADE_CHUNK: usize = 1024;

/// Upgrades an older format to the current one. Format 3 changed how shingles and feature
/// copies are hashed, so every stored document is fingerprinted again from its stored text:
/// its evidence (format 1 had none), its signature (made with today's document frequencies,
/// as the frequencies at its adding are gone) and its band entries. The first transaction
/// empties the band table and sets a marker; each next one does `chunk` documents and moves
/// the marker past them; the last one writes the new format version. Memory is one chunk's,
/// whatever the index's size, and an upgrade that is interrupted goes on from the marker the
/// next time the index is opened (an index with a marker is never used in between: opening
/// finishes the upgrade first).
pub(super) fn upgrade(
    db: &Database,
    config: &Config,
    banding: &Banding,
    chunk: usize,
) -> Result<()> {
    let freq = start_upgrade(db)?;
    let signing = (
        &freq,
        &Sketcher::for_config(config),
        &Analyzers::new(config.language),
    );
    while !upgrade_chunk(db, config, banding, signing, chunk)? {}
    Ok(())
}

/// The first transaction of [`upgrade`], unless an interrupted upgrade already made it: the
/// band table emptied and the marker set. Returns the stored document frequencies.
pub(super) fn start_upgrade(db: &Database) -> Result<DocFreq> {
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
pub(super) fn upgrade_chunk(
    db: &Database,
    config: &Config,
    banding: &Banding,
    (freq, sketcher, analyzers): (&DocFreq, &Sketcher, &Analyzers),
    chunk: usize,
) -> Result<bool> {
    let txn = db.begin_write()?;
    let done = {
        let mut meta = txn.open_table(META)?;
        let next = store::meta_u64(&meta, UPGRADE_KEY)?;
        let mut docs = txn.open_table(DOCS)?;
        let mut records: Vec<(u64, StoredDoc)> = Vec::with_capacity(chunk);
        for entry in docs.range(next..)?.take(chunk) {
            let (seq, bytes) = entry?;
            records.push((seq.value(), decode(seq.value(), bytes.value())?));
        }
        let after = records.last().and_then(|&(last, _)| last.checked_add(1));
        let mut evidence = txn.open_table(EVIDENCE)?;
        let mut bands = txn.open_multimap_table(BANDS)?;
        let analyses = analyze_stored(analyzers, &records);
        for ((seq, mut record), analysis) in records.into_iter().zip(analyses) {
            let features = features(&analysis.text, &analysis.terms, config, freq);
            record.signature = sketcher.sketch(&features);
            docs.insert(seq, record.encode().as_slice())?;
            evidence.insert(seq, evidence_of(&analysis, config).encode().as_slice())?;
            for key in band_keys(banding, &record.signature) {
                bands.insert(key, seq)?;
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
