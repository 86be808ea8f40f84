//! Checking a document against the index: its signature weighted with the index's
//! frequencies, its candidates verified as every command verifies a pair.

use std::path::PathBuf;

use redb::{ReadableTable, ReadableTableMetadata};
use serde::Serialize;

use super::Index;
use super::analysis::term_keys;
use super::cache::{self, FreqCache, Stamp};
use super::candidates::{BandTable, has_features};
use super::store::{
    self, BANDS, DOC_FREQ, DOCS, EVIDENCE, IDS, META, NEXT_SEQ_KEY, StoredDocHead, StoredEvidence,
};
use super::tables::{TableSet, Tables, decoded, load_freq};
use crate::candidates::CandidateSource as _;
use crate::config::Weighting;
use crate::contrast::contrast_group;
use crate::error::{Error, Result};
use crate::features::{DocFreq, Feature, Slot, fact_slots, features};
use crate::input::Document;
use crate::sign::Analysis;
use crate::signature::Signature;
use crate::similarity::{Evidence, similarity_of, story_of};
use crate::verdict::{self, Level};

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

/// A checked document's features, signature, and the frequencies loaded so far.
pub(super) struct Query {
    features: Vec<Feature>,
    pub(super) signature: Signature,
    slots: Vec<Slot>,
    freq: DocFreq,
    /// The committed state the query is checked in, when it is read in one (see [`cache`]).
    stamp: Option<Stamp>,
}

impl Index {
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
            time: None,
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

    pub(super) fn threshold(&self, threshold: Option<f64>) -> Result<f64> {
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
    pub(super) fn query<T: TableSet>(
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
    pub(super) fn matches<T: TableSet>(
        &self,
        tables: &T,
        mut query: Query,
        exclude: Option<u64>,
        threshold: f64,
    ) -> Result<Vec<Match>> {
        if !has_features(&query.signature) {
            return Ok(Vec::new());
        }
        let candidates = BandTable(tables).find(&self.banding, (&query.signature, exclude))?;
        let mut records = Vec::with_capacity(candidates.len());
        for seq in candidates {
            let Some(bytes) = tables.docs().get(seq)? else {
                continue;
            };
            let record = decoded(seq, StoredDocHead::decode(bytes.value()))?;
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
        // Verification as every command does it (similarity::similarity_of), the candidates'
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
            (record, stored): &'a (StoredDocHead, StoredEvidence),
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
}
