//! Texts analysed for the index: normalized and tokenized on the index's analyzers, and
//! what exact verification keeps of them.

use xxhash_rust::xxh3::xxh3_64;

use super::Index;
use super::store::{StoredDoc, StoredEvidence};
use crate::config::Config;
use crate::features::{FeatureTerms, fact_slots};
use crate::input::Document;
use crate::normalize::normalize;
use crate::sign::{Analysis, Analyzers, analyze_normalized, analyze_with};

/// Sorted distinct non-stop term keys of an analysis (what document frequencies count).
pub(super) fn term_keys(analysis: &Analysis) -> Vec<u64> {
    crate::features::term_keys(&analysis.terms)
}

/// What exact verification will need of a document (see [`StoredEvidence`]).
pub(super) fn evidence_of(analysis: &Analysis, config: &Config) -> StoredEvidence {
    StoredEvidence {
        features: if config.exact {
            FeatureTerms::new(&analysis.text, &analysis.terms, config)
        } else {
            FeatureTerms::default()
        },
        slots: fact_slots(&analysis.terms, config),
    }
}

/// Analyses of stored records (their normalized texts, tokenized exactly as when they were
/// added), in order.
pub(super) fn analyze_stored(analyzers: &Analyzers, records: &[(u64, StoredDoc)]) -> Vec<Analysis> {
    let texts: Vec<&str> = records.iter().map(|(_, r)| r.text.as_str()).collect();
    analyze_normalized(analyzers, &texts)
}

/// A document analysed for the index: its normalized text, terms and content hash.
pub(super) struct Prepared<'a> {
    pub(super) id: &'a str,
    pub(super) analysis: Analysis,
    pub(super) content_hash: u64,
}

impl<'a> Prepared<'a> {
    fn new(id: &'a str, analysis: Analysis) -> Prepared<'a> {
        Prepared {
            id,
            content_hash: xxh3_64(analysis.text.as_bytes()),
            analysis,
        }
    }
}

impl Index {
    pub(super) fn prepare<'a>(&self, docs: &'a [Document]) -> Vec<Prepared<'a>> {
        let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
        analyze_with(&self.analyzers, &texts, &self.config)
            .into_iter()
            .zip(docs)
            .map(|(analysis, doc)| Prepared::new(&doc.id, analysis))
            .collect()
    }

    /// One document normalized and tokenized on the calling thread, as [`Index::prepare`]
    /// does for a batch: a check pays no hop to the thread pool.
    pub(super) fn prepare_one<'a>(&self, doc: &'a Document) -> Prepared<'a> {
        let text = normalize(&doc.text, self.config.strip_chrome);
        let terms = self.analyzers.lend().terms(&text);
        Prepared::new(&doc.id, Analysis { text, terms })
    }
}
