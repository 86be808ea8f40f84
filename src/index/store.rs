//! The index's tables and the byte layout of its records.
//!
//! Tables (redb B-trees, all written in one transaction per add):
//! - `meta`: `format_version` (u32), `config` (the engine [`Config`] as JSON), `params` (the
//!   signature [`Params`] as JSON), `banding` (bands, rows, min_hits as u32), `next_seq` (u64).
//! - `ids`: document id → sequence number.
//! - `docs`: sequence number → [`Record`] bytes.
//! - `bands`: band key → sequence numbers (a multimap: the LSH band tables). A band key is
//!   [`Banding::band_key`], xxh3 seeded by the band number, so the bands share one table.
//! - `doc_freq`: term key ([`crate::shingle::term_key`]) → number of documents holding it.
//!
//! Every integer is little-endian; every hash is xxh3, frozen across versions and platforms.

use redb::{MultimapTableDefinition, ReadableTable, TableDefinition};

use crate::error::{Error, Result};
use crate::lsh::Banding;
use crate::signature::Signature;

/// The version of the layout described above. Bump it on any change to tables, records, or
/// anything hashed into them (features, signatures, band keys), and commit a fixture of the
/// new version (`tests/fixtures/index-vN`).
pub const FORMAT_VERSION: u32 = 1;

/// Settings and counters.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Document id → sequence number.
pub const IDS: TableDefinition<&str, u64> = TableDefinition::new("ids");
/// Sequence number → record.
pub const DOCS: TableDefinition<u64, &[u8]> = TableDefinition::new("docs");
/// Band key → sequence numbers of the documents with that band.
pub const BANDS: MultimapTableDefinition<u64, u64> = MultimapTableDefinition::new("bands");
/// Term key → document frequency.
pub const DOC_FREQ: TableDefinition<u64, u64> = TableDefinition::new("doc_freq");

/// Meta keys.
pub const FORMAT_KEY: &str = "format_version";
/// The engine configuration, as JSON.
pub const CONFIG_KEY: &str = "config";
/// The signature parameters, as JSON.
pub const PARAMS_KEY: &str = "params";
/// The LSH banding fixed when the index was made.
pub const BANDING_KEY: &str = "banding";
/// The next sequence number to give.
pub const NEXT_SEQ_KEY: &str = "next_seq";

/// One indexed document.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The document id.
    pub id: String,
    /// When it was added (unix seconds).
    pub added_at: u64,
    /// xxh3 of the normalized text: tells an unchanged document from a replaced one.
    pub content_hash: u64,
    /// Its signature when it was added.
    pub signature: Signature,
    /// The normalized text: features for exact verification and explanations are recomputed
    /// from it with the current document frequencies.
    pub text: String,
}

impl Record {
    /// The record's bytes: added_at u64, content_hash u64, weight f64, K u32, K values u32,
    /// id length u32, id, text.
    pub fn encode(&self) -> Vec<u8> {
        let values = &self.signature.values;
        let mut out = Vec::with_capacity(32 + values.len() * 4 + self.id.len() + self.text.len());
        out.extend_from_slice(&self.added_at.to_le_bytes());
        out.extend_from_slice(&self.content_hash.to_le_bytes());
        out.extend_from_slice(&self.signature.weight.to_le_bytes());
        out.extend_from_slice(&(values.len() as u32).to_le_bytes());
        for v in values {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&(self.id.len() as u32).to_le_bytes());
        out.extend_from_slice(self.id.as_bytes());
        out.extend_from_slice(self.text.as_bytes());
        out
    }

    /// Decodes a record; `None` when the bytes are not a whole record.
    pub fn decode(bytes: &[u8]) -> Option<Record> {
        let mut reader = Reader { bytes };
        let added_at = reader.u64()?;
        let content_hash = reader.u64()?;
        let weight = f64::from_bits(reader.u64()?);
        let k = reader.u32()? as usize;
        let values = (0..k).map(|_| reader.u32()).collect::<Option<Vec<u32>>>()?;
        let id_len = reader.u32()? as usize;
        let id = String::from_utf8(reader.take(id_len)?.to_vec()).ok()?;
        let text = String::from_utf8(reader.bytes.to_vec()).ok()?;
        Some(Record {
            id,
            added_at,
            content_hash,
            signature: Signature { values, weight },
            text,
        })
    }
}

/// A cursor over bytes.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < n {
            return None;
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

/// The banding as stored bytes.
pub fn encode_banding(banding: &Banding) -> Vec<u8> {
    [banding.bands, banding.rows, banding.min_hits]
        .iter()
        .flat_map(|&n| (n as u32).to_le_bytes())
        .collect()
}

/// The banding from stored bytes.
pub fn decode_banding(bytes: &[u8]) -> Option<Banding> {
    let mut reader = Reader { bytes };
    Some(Banding {
        bands: reader.u32()? as usize,
        rows: reader.u32()? as usize,
        min_hits: reader.u32()? as usize,
    })
}

/// A meta value, or a corruption error naming the key.
pub fn meta_value(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<Option<Vec<u8>>> {
    Ok(meta.get(key)?.map(|v| v.value().to_vec()))
}

/// A u64 meta value (absent = 0).
pub fn meta_u64(meta: &impl ReadableTable<&'static str, &'static [u8]>, key: &str) -> Result<u64> {
    match meta_value(meta, key)? {
        None => Ok(0),
        Some(bytes) => bytes
            .as_slice()
            .try_into()
            .map(u64::from_le_bytes)
            .map_err(|_| Error::IndexCorrupt(format!("meta {key} is not a u64"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_truncations_are_refused() {
        let record = Record {
            id: "wire/ap-1.txt".into(),
            added_at: 1_700_000_000,
            content_hash: 42,
            signature: Signature {
                values: vec![1, 2, u32::MAX],
                weight: 12.5,
            },
            text: "Lukashenko pardoned 23 prisoners — «quote».".into(),
        };
        let bytes = record.encode();
        assert_eq!(Record::decode(&bytes), Some(record));
        assert_eq!(Record::decode(&bytes[..30]), None);
        assert_eq!(Record::decode(&bytes[..10]), None);
    }

    #[test]
    fn banding_round_trips() {
        let banding = Banding {
            bands: 256,
            rows: 1,
            min_hits: 10,
        };
        assert_eq!(decode_banding(&encode_banding(&banding)), Some(banding));
        assert_eq!(decode_banding(&[1, 2]), None);
    }
}
