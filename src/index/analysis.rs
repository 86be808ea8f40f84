//! Texts analysed for the index: normalized and tokenized on the thread's analyzer, and
//! what exact verification keeps of them.

use std::cell::RefCell;

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use super::Index;
use super::store::{StoredDoc, StoredEvidence};
use crate::config::{Config, Language};
use crate::features::{FeatureTerms, fact_slots};
use crate::input::Document;
use crate::normalize::normalize;
use crate::sign::{Analysis, analyze};
use crate::tokenize::{Analyzer, Term};

thread_local! {
    /// The thread's analyzer, with the language it was made for.
    static ANALYZER: RefCell<Option<(Language, Analyzer)>> = const { RefCell::new(None) };
}

/// The terms of a normalized text, from the calling thread's analyzer for `language`: made
/// once per thread (and language) and kept, with its stem cache, from one text to the next.
fn terms(text: &str, language: Language) -> Vec<Term> {
    ANALYZER.with_borrow_mut(|slot| {
        if !matches!(slot, Some((made_for, _)) if *made_for == language) {
            *slot = Some((language, Analyzer::new(language)));
        }
        slot.as_ref()
            .map(|(_, analyzer)| analyzer.terms(text))
            .unwrap_or_default()
    })
}

/// One document normalized and tokenized on the calling thread, as [`analyze`] does for a
/// batch: a check pays no hop to the thread pool.
fn analyze_one(text: &str, config: &Config) -> Analysis {
    let text = normalize(text, config.strip_chrome);
    let terms = terms(&text, config.language);
    Analysis { text, terms }
}

/// Sorted distinct non-stop term keys of an analysis (what document frequencies count).
pub(super) fn term_keys(analysis: &Analysis) -> Vec<u64> {
    crate::features::term_keys(&analysis.terms)
}

/// Terms of texts that are already normalized (stored records): tokenized exactly as when
/// they were added.
pub(super) fn analyze_normalized(texts: &[&str], config: &Config) -> Vec<Analysis> {
    texts
        .par_iter()
        .map(|text| Analysis {
            text: text.to_string(),
            terms: terms(text, config.language),
        })
        .collect()
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

/// Analyses of stored records (their normalized texts), in order.
pub(super) fn analyze_stored(records: &[(u64, StoredDoc)], config: &Config) -> Vec<Analysis> {
    let texts: Vec<&str> = records.iter().map(|(_, r)| r.text.as_str()).collect();
    analyze_normalized(&texts, config)
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
        analyze(&texts, &self.config)
            .into_iter()
            .zip(docs)
            .map(|(analysis, doc)| Prepared::new(&doc.id, analysis))
            .collect()
    }

    /// One document prepared on the calling thread (see [`analyze_one`]).
    pub(super) fn prepare_one<'a>(&self, doc: &'a Document) -> Prepared<'a> {
        Prepared::new(&doc.id, analyze_one(&doc.text, &self.config))
    }
}
