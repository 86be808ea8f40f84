//! The index's tables and the byte layout of its records.
//!
//! Tables (redb B-trees, all written in one transaction per add):
//! - `meta`: `format_version` (u32), `config` (the engine [`Config`] as JSON), `params` (the
//!   [`SignatureParams`](crate::signature::SignatureParams) as JSON), `banding` (bands, rows,
//!   min_hits as u32), `next_seq` (u64), and while an upgrade from an older format runs,
//!   `upgrade_next` (u64, where it goes on).
//! - `ids`: document id → sequence number.
//! - `docs`: sequence number → [`StoredDoc`] bytes.
//! - `bands`: band key → sequence numbers (a multimap: the LSH band tables). A band key is
//!   [`Banding::band_key`], xxh3 seeded by the band number, so the bands share one table.
//! - `doc_freq`: term key ([`crate::features::term_key`]) → number of documents holding it.
//! - `evidence` (since format 2): sequence number → [`StoredEvidence`] bytes, what exact
//!   verification needs of the document, so that a check reads it rather than tokenizing and
//!   stemming the stored text again.
//!
//! Every integer is little-endian; every hash is xxh3 or built from xxh3 hashes by the fixed
//! [`crate::hash::mix`], frozen across versions and platforms.

use redb::{MultimapTableDefinition, ReadableTable, TableDefinition};

use crate::error::{Error, Result};
use crate::features::{FeatureTerms, ShingleTerms, Slot};
use crate::lsh::Banding;
use crate::signature::Signature;

/// The version of the layout described above. Bump it on any change to tables, records, or
/// anything hashed into them (features, signatures, band keys: with
/// [`SIGNATURE_FORMAT`](crate::signature::SIGNATURE_FORMAT)), and commit a fixture of the new
/// version (`tests/fixtures/index-vN`).
pub const FORMAT_VERSION: u32 = 3;

/// The oldest format this storyprint opens: an older index (format 1 had no `evidence`
/// table; format 2 hashed shingles and feature copies otherwise) is upgraded in place when
/// opened, in one transaction.
pub const UPGRADABLE_VERSION: u32 = 1;

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
/// Sequence number → stored evidence.
pub const EVIDENCE: TableDefinition<u64, &[u8]> = TableDefinition::new("evidence");

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
/// While an upgrade from an older format runs: the sequence number it goes on from.
pub const UPGRADE_KEY: &str = "upgrade_next";

/// One indexed document.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDoc {
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

impl StoredDoc {
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
    pub fn decode(bytes: &[u8]) -> Option<StoredDoc> {
        let mut reader = ByteReader { bytes };
        let head = StoredDocHead::read(&mut reader)?;
        let text = String::from_utf8(reader.bytes.to_vec()).ok()?;
        Some(StoredDoc {
            id: head.id,
            added_at: head.added_at,
            content_hash: head.content_hash,
            signature: head.signature,
            text,
        })
    }
}

/// A record without its text: what a check needs of a candidate (the text, most of the
/// record's bytes, is neither copied nor validated).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDocHead {
    /// The document id.
    pub id: String,
    /// When it was added (unix seconds).
    pub added_at: u64,
    /// xxh3 of the normalized text.
    pub content_hash: u64,
    /// Its signature when it was added.
    pub signature: Signature,
}

impl StoredDocHead {
    /// Decodes the head of a record's bytes ([`StoredDoc::encode`]); `None` when they do not
    /// begin with a whole head.
    pub fn decode(bytes: &[u8]) -> Option<StoredDocHead> {
        StoredDocHead::read(&mut ByteReader { bytes })
    }

    fn read(reader: &mut ByteReader<'_>) -> Option<StoredDocHead> {
        let added_at = reader.u64()?;
        let content_hash = reader.u64()?;
        let weight = f64::from_bits(reader.u64()?);
        let k = reader.u32()? as usize;
        let values = reader.u32s(k)?.collect();
        let id_len = reader.u32()? as usize;
        let id = String::from_utf8(reader.take(id_len)?.to_vec()).ok()?;
        Some(StoredDocHead {
            id,
            added_at,
            content_hash,
            signature: Signature { values, weight },
        })
    }
}

/// What exact verification needs of an indexed document besides its signature: its features
/// with their weights left open (weighted at check time with the current document
/// frequencies; empty unless `config.exact`) and its fact slots (empty unless
/// `config.fact_check`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredEvidence {
    /// Open features.
    pub features: FeatureTerms,
    /// Fact slots.
    pub slots: Vec<Slot>,
}

impl StoredEvidence {
    /// The bytes: keys (u32 count, u64 each); family weights (u8 count, f64 each); shingles
    /// (u32 count, then per shingle hash u64, weight index u8, term count u16, term indices
    /// u16 each, or u32 each when there are over 65,536 keys); slots (u32 count, two u64 each).
    pub fn encode(&self) -> Vec<u8> {
        let features = &self.features;
        let mut weights: Vec<f64> = Vec::new();
        for s in &features.shingles {
            if !weights
                .iter()
                .any(|w| w.to_bits() == s.family_weight.to_bits())
            {
                weights.push(s.family_weight);
            }
        }
        let wide = features.keys.len() > 1 << 16;
        let mut out = Vec::with_capacity(
            16 + features.keys.len() * 8 + features.shingles.len() * 15 + self.slots.len() * 16,
        );
        out.extend_from_slice(&(features.keys.len() as u32).to_le_bytes());
        for key in &features.keys {
            out.extend_from_slice(&key.to_le_bytes());
        }
        out.push(weights.len() as u8);
        for w in &weights {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&(features.shingles.len() as u32).to_le_bytes());
        for s in &features.shingles {
            out.extend_from_slice(&s.hash.to_le_bytes());
            let weight = weights
                .iter()
                .position(|w| w.to_bits() == s.family_weight.to_bits())
                .unwrap_or_default();
            out.push(weight as u8);
            out.extend_from_slice(&(s.len as u16).to_le_bytes());
            for &i in &features.terms[s.start as usize..(s.start + s.len) as usize] {
                if wide {
                    out.extend_from_slice(&i.to_le_bytes());
                } else {
                    out.extend_from_slice(&(i as u16).to_le_bytes());
                }
            }
        }
        out.extend_from_slice(&(self.slots.len() as u32).to_le_bytes());
        for (context, value) in &self.slots {
            out.extend_from_slice(&context.to_le_bytes());
            out.extend_from_slice(&value.to_le_bytes());
        }
        out
    }

    /// Decodes stored evidence; `None` when the bytes are not whole, consistent evidence.
    pub fn decode(bytes: &[u8]) -> Option<StoredEvidence> {
        let mut reader = ByteReader { bytes };
        let n_keys = reader.u32()? as usize;
        let keys: Vec<u64> = reader.u64s(n_keys)?.collect();
        let n_weights = reader.take(1)?[0] as usize;
        let weights: Vec<f64> = reader.u64s(n_weights)?.map(f64::from_bits).collect();
        let wide = n_keys > 1 << 16;
        let n_shingles = reader.u32()? as usize;
        let mut features = FeatureTerms {
            keys,
            shingles: Vec::with_capacity(n_shingles.min(bytes.len())),
            terms: Vec::with_capacity(bytes.len() / 2),
        };
        for _ in 0..n_shingles {
            let hash = reader.u64()?;
            let family_weight = *weights.get(reader.take(1)?[0] as usize)?;
            let len = u16::from_le_bytes(reader.take(2)?.try_into().ok()?) as u32;
            let start = features.terms.len() as u32;
            for _ in 0..len {
                let i = if wide {
                    reader.u32()?
                } else {
                    u16::from_le_bytes(reader.take(2)?.try_into().ok()?) as u32
                };
                if i as usize >= n_keys {
                    return None;
                }
                features.terms.push(i);
            }
            features.shingles.push(ShingleTerms {
                hash,
                family_weight,
                start,
                len,
            });
        }
        let n_slots = reader.u32()? as usize;
        let mut slot_values = reader.u64s(n_slots.checked_mul(2)?)?;
        let slots: Vec<Slot> =
            std::iter::from_fn(|| Some((slot_values.next()?, slot_values.next()?))).collect();
        reader
            .bytes
            .is_empty()
            .then_some(StoredEvidence { features, slots })
    }
}

/// A cursor over bytes.
struct ByteReader<'a> {
    bytes: &'a [u8],
}

impl<'a> ByteReader<'a> {
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

    /// The next `n` u32s (an exact-size iterator: collected without regrowing).
    fn u32s(&mut self, n: usize) -> Option<impl ExactSizeIterator<Item = u32> + 'a> {
        let bytes = self.take(n.checked_mul(4)?)?;
        Some(
            bytes
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        )
    }

    /// The next `n` u64s (an exact-size iterator: collected without regrowing).
    fn u64s(&mut self, n: usize) -> Option<impl ExactSizeIterator<Item = u64> + 'a> {
        let bytes = self.take(n.checked_mul(8)?)?;
        Some(
            bytes
                .chunks_exact(8)
                .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])),
        )
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
    let mut reader = ByteReader { bytes };
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
        let record = StoredDoc {
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
        let head = StoredDocHead::decode(&bytes).unwrap();
        assert_eq!(
            (
                head.id.as_str(),
                head.added_at,
                head.content_hash,
                &head.signature
            ),
            (
                record.id.as_str(),
                record.added_at,
                record.content_hash,
                &record.signature
            )
        );
        assert_eq!(StoredDoc::decode(&bytes), Some(record));
        assert_eq!(StoredDocHead::decode(&bytes[..20]), None);
        assert_eq!(StoredDoc::decode(&bytes[..30]), None);
        assert_eq!(StoredDoc::decode(&bytes[..10]), None);
    }

    #[test]
    fn evidence_round_trips_and_truncations_are_refused() {
        let config = crate::Config {
            features: "stems:1,stems:2,chars:3*0.5,facts*2".parse().unwrap(),
            ..crate::Config::default()
        };
        let text = "Lukashenko pardoned 23 prisoners, \"three women and 20 men\".";
        let terms = crate::tokenize::Analyzer::new(config.language).terms(text);
        let evidence = StoredEvidence {
            features: FeatureTerms::new(text, &terms, &config),
            slots: crate::features::fact_slots(&terms, &config),
        };
        assert!(!evidence.slots.is_empty());
        let bytes = evidence.encode();
        assert_eq!(StoredEvidence::decode(&bytes), Some(evidence));
        for cut in [0, 3, 9, bytes.len() / 2, bytes.len() - 1] {
            assert_eq!(StoredEvidence::decode(&bytes[..cut]), None, "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(StoredEvidence::decode(&longer), None);
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

    proptest::proptest! {
        /// Whatever bytes a damaged file holds, the decoders answer `None` or a value, never a
        /// panic; a record or evidence they accept encodes back to the same bytes.
        #[test]
        fn decoders_take_arbitrary_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            if let Some(record) = StoredDoc::decode(&bytes) {
                proptest::prop_assert_eq!(record.encode(), bytes.clone());
            }
            let _ = StoredDocHead::decode(&bytes);
            if let Some(evidence) = StoredEvidence::decode(&bytes) {
                proptest::prop_assert_eq!(evidence.encode(), bytes.clone());
            }
            let _ = decode_banding(&bytes);
        }
    }
}
