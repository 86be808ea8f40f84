//! Facts: numbers beside the words they count, quoted passages, and the fact slots a fact
//! check compares.

use crate::config::Config;
use crate::hash::hash_keys;
use crate::tokenize::TermLike;

/// Number facts: each number beside a content word (the word before it and the word after
/// it), as pairs of positions `(number, word)` in `content`. Shared by the `facts` feature
/// family and by [`crate::explain`], which shows them.
pub fn number_facts(content: &[&impl TermLike]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, term) in content.iter().enumerate() {
        if !term.number() {
            continue;
        }
        for j in [i.checked_sub(1), Some(i + 1)].into_iter().flatten() {
            if content.get(j).is_some_and(|o| !o.number()) {
                out.push((i, j));
            }
        }
    }
    out
}

/// Quoted passages: the stems of 2 to 20 content words between a pair of double quotes.
pub fn quotes<'a, T: TermLike>(text: &str, terms: &[&'a T]) -> Vec<Vec<&'a T>> {
    quote_runs(text, terms)
        .into_iter()
        .map(|run| terms[run].to_vec())
        .collect()
}

/// [`quotes`] as ranges of positions in `terms` (in text order, so the terms inside a pair of
/// quotes are a run, found by two binary searches).
pub(super) fn quote_runs(text: &str, terms: &[&impl TermLike]) -> Vec<std::ops::Range<usize>> {
    let marks: Vec<usize> = text.match_indices('"').map(|(i, _)| i).collect();
    marks
        .chunks_exact(2)
        .map(|pair| {
            let start = terms.partition_point(|t| t.token().start <= pair[0]);
            let end = terms.partition_point(|t| t.token().end <= pair[1]);
            start..end.max(start)
        })
        .filter(|run| (2..=20).contains(&run.len()))
        .collect()
}

/// A fact slot: the key of a number's context word and the key of the number, e.g.
/// (prison, 23). Two stories that fill the same slot with different numbers ("sell 13.2
/// billion" / "sell 12.8 billion") report different events.
pub type Slot = (u64, u64);

/// Whether a number stem is a year (1900 to 2099): a date, whose next word is not what it
/// counts ("from 2007 Google penalised…").
fn is_year(stem: &str) -> bool {
    stem.len() == 4 && (stem.starts_with("19") || stem.starts_with("20"))
}

/// The fact slots of a document, sorted and distinct; none without `config.fact_check`. A
/// quantity is a run of adjacent number tokens ("13.2 billion", "three women" → 3); its slot is
/// the next content word, what it counts ("prisoners", "dlrs", "women"). Years fill no slot.
pub fn fact_slots(terms: &[impl TermLike], config: &Config) -> Vec<Slot> {
    let mut slots = Vec::new();
    if !config.fact_check {
        return slots;
    }
    let mut i = 0;
    while i < terms.len() {
        if !terms[i].number() {
            i += 1;
            continue;
        }
        let run = terms[i..].iter().take_while(|t| t.number()).count();
        let quantity = &terms[i..i + run];
        i += run;
        if let [only] = quantity
            && is_year(only.stem())
        {
            continue;
        }
        let unit = terms[i..]
            .iter()
            .find(|t| !(config.stop_words && t.stop()))
            .filter(|t| !t.number());
        if let Some(unit) = unit {
            let value = hash_keys(quantity.iter().map(|t| t.key()), 0);
            slots.push((unit.key(), value));
        }
    }
    slots.sort_unstable();
    slots.dedup();
    slots
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Language;
    use crate::hash::term_key;
    use crate::tokenize::{Analyzer, Term};

    #[test]
    fn fact_slots_pair_each_quantity_with_what_it_counts() {
        let config = Config::default();
        let terms = Analyzer::new(config.language)
            .terms("In 2025 he pardoned 23 of the prisoners and 13.2 million dollars, then 5 more");
        let value = |parts: &[&str]| hash_keys(parts.iter().map(|p| term_key(p)), 0);
        let mut expected = vec![
            (term_key("prison"), value(&["23"])),
            (term_key("dollar"), value(&["13.2", "1000000"])),
        ];
        expected.sort_unstable();
        // The year fills no slot; "5 more" counts nothing (a stop word, then the end).
        assert_eq!(fact_slots(&terms, &config), expected);
    }

    proptest::proptest! {
        /// Oracle: the quoted runs found by binary search are the content terms each pair of
        /// quotes encloses, filtered one by one.
        #[test]
        fn quote_runs_are_the_terms_between_quotes(text in "[a-c \"]{0,80}") {
            let terms = Analyzer::new(Language::English).terms(&text);
            let content: Vec<&Term> = terms.iter().filter(|t| !t.stop()).collect();
            let marks: Vec<usize> = text.match_indices('"').map(|(i, _)| i).collect();
            let slow: Vec<Vec<&Term>> = marks
                .chunks_exact(2)
                .map(|pair| {
                    content
                        .iter()
                        .copied()
                        .filter(|t| t.token.start > pair[0] && t.token.end <= pair[1])
                        .collect::<Vec<_>>()
                })
                .filter(|inside| (2..=20).contains(&inside.len()))
                .collect();
            proptest::prop_assert_eq!(quotes(&text, &content), slow);
        }
    }
}
