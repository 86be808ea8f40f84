//! Statements: short documents (a sentence, a claim), fingerprinted by their words.

use crate::config::{Config, Weighting};
use crate::tokenize::TermLike;

/// Whether a document is a *statement* under `config` (see [`Config::statement_words`]):
/// IDF weighting, and fewer content words (stop words aside) than `config.statement_words`.
///
/// A statement is fingerprinted by its words instead of the configured families: the stem of
/// each content word, IDF-weighted, and each stop word at the weight of a word in every
/// document (1, the floor of IDF). Phrase features (stem bigrams, number facts) are evidence of
/// shared wording across an article; a sentence rewritten by another writer keeps its words
/// and reorders them, so its phrases measure word order rather than content. The stop words
/// carry what the content words do not in one sentence: negation, tense, who did what to whom
/// ("was not", "has", "by"); across an article they average out and stay removed.
pub fn is_statement(terms: &[impl TermLike], config: &Config) -> bool {
    statement_of(config, || terms.iter().filter(|t| !t.stop()).count())
}

/// [`is_statement`] of a document whose content words `content_words` counts (only called
/// under IDF weighting).
pub(super) fn statement_of(config: &Config, content_words: impl FnOnce() -> usize) -> bool {
    config.weighting == Weighting::Idf && content_words() < config.statement_words
}
