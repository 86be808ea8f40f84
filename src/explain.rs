//! Explain stage: *why* two documents match. The facts both share (numbers with their
//! context words, capitalised names, quoted phrases) and their longest shared passages, each
//! as a byte range in either document's normalized text, so that a report can quote and
//! highlight the words as each document writes them.
//!
//! Everything is found by comparing the two documents' terms (stems, stop words marked):
//! a fact is shown because both documents have it, never because it is on a list.

use ahash::{AHashMap, AHashSet};
use serde::Serialize;

use crate::config::Config;
use crate::features::{DocFreq, number_facts, quotes};
use crate::sign::Analysis;
use crate::tokenize::{Term, TermLike};

/// Shared passages are at least this many content words long.
pub const MIN_PASSAGE_WORDS: usize = 3;

/// At most this many passages are kept per pair (the longest).
pub const MAX_PASSAGES: usize = 20;

/// A number fact is widened by up to this many shared content words on each side ("23
/// political" → "23 political prisoners").
const FACT_WIDENING: usize = 1;

/// A byte range in a normalized text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

/// What kind of fact two documents share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FactKind {
    /// A number with the content words beside it ("three women and 20 men").
    Number,
    /// A phrase between double quotes.
    Quote,
    /// A run of capitalised words (a person, a place, an organisation), unless a longer
    /// shared name or another shared fact already holds it.
    Name,
}

impl FactKind {
    /// The kind's name, as shown in reports.
    pub fn name(self) -> &'static str {
        match self {
            FactKind::Number => "number",
            FactKind::Quote => "quote",
            FactKind::Name => "name",
        }
    }
}

/// A fact both documents state: where each writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    /// Number, quote or name.
    pub kind: FactKind,
    /// Where the first document writes it.
    pub a: Span,
    /// Where the second document writes it.
    pub b: Span,
    /// How telling it is: the largest IDF of its stems (1 without IDF weighting).
    pub weight: f64,
}

/// A maximal run of content words (same stems, same order) in both documents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Passage {
    /// The run in the first document (stop words inside it included).
    pub a: Span,
    /// The run in the second document.
    pub b: Span,
    /// Content words in the run.
    pub words: usize,
}

/// The evidence that two documents tell the same story.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Explanation {
    /// Shared facts: numbers first, then quotes, then names; within a kind the most telling
    /// first.
    pub facts: Vec<Fact>,
    /// The longest shared passages (at most [`MAX_PASSAGES`]), longest first, not
    /// overlapping in either document.
    pub passages: Vec<Passage>,
}

/// One document's content words, with stems interned to ids shared by the pair.
struct Side<'a> {
    text: &'a str,
    terms: Vec<&'a Term>,
    ids: Vec<u32>,
}

impl<'a> Side<'a> {
    fn new(analysis: &'a Analysis, config: &Config, intern: &mut AHashMap<&'a str, u32>) -> Self {
        let terms: Vec<&Term> = analysis
            .terms
            .iter()
            .filter(|t| !(config.stop_words && t.stop()))
            .collect();
        let ids = terms
            .iter()
            .map(|&t| {
                let next = intern.len() as u32;
                *intern.entry(t.stem()).or_insert(next)
            })
            .collect();
        Side {
            text: &analysis.text,
            terms,
            ids,
        }
    }

    /// The text span of content words `first..=last`.
    fn span(&self, first: usize, last: usize) -> Span {
        Span {
            start: self.terms[first].token.start,
            end: self.terms[last].token.end,
        }
    }

    /// Whether the term starts with a capital letter and is not a number.
    fn capitalised(&self, i: usize) -> bool {
        let t = self.terms[i];
        !t.number()
            && self.text[t.token.start..]
                .chars()
                .next()
                .is_some_and(char::is_uppercase)
    }

    /// Whether the term opens a sentence or a line (so its capital says nothing).
    fn sentence_start(&self, i: usize) -> bool {
        let before = self.text[..self.terms[i].token.start].trim_end_matches([' ', '\t', '"']);
        before.is_empty() || before.ends_with(['.', '!', '?', '\n', ':'])
    }

    /// Runs of capitalised words, as `(first, last)` content positions. Lines in title case
    /// that do not end a sentence (headlines, headings) are skipped. A capital opening a
    /// sentence says nothing, so the word opening a sentence is left out of a run when it
    /// is alone or when the pair writes it in lower case elsewhere (`common`): "Although
    /// BankAmerica" is the name "BankAmerica".
    fn names(&self, common: &AHashSet<&str>) -> Vec<(usize, usize)> {
        let mut title_case = vec![false; self.terms.len()];
        let mut line_start = 0;
        while line_start < self.terms.len() {
            let line_end = self.text[self.terms[line_start].token.start..]
                .find('\n')
                .map_or(usize::MAX, |n| self.terms[line_start].token.start + n);
            let end = (line_start..self.terms.len())
                .find(|&i| self.terms[i].token.start > line_end)
                .unwrap_or(self.terms.len());
            let capitals = (line_start..end).filter(|&i| self.capitalised(i)).count();
            let line =
                &self.text[self.terms[line_start].token.start..line_end.min(self.text.len())];
            let sentence = line.trim_end().ends_with(['.', '!', '?', '"', ')']);
            let whole =
                !sentence && end - line_start >= 2 && capitals * 10 >= (end - line_start) * 7;
            title_case[line_start..end].fill(whole);
            line_start = end;
        }
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.terms.len() {
            if title_case[i] || !self.capitalised(i) {
                i += 1;
                continue;
            }
            let first = i;
            while i + 1 < self.terms.len()
                && !title_case[i + 1]
                && self.capitalised(i + 1)
                && self.adjacent(i, i + 1)
            {
                i += 1;
            }
            let opener = self.sentence_start(first)
                && (first == i || common.contains(self.terms[first].stem()));
            if first + usize::from(opener) <= i {
                out.push((first + usize::from(opener), i));
            }
            i += 1;
        }
        out
    }

    /// Whether content words `i` and `j` are separated by spaces only (no stop word, no
    /// punctuation).
    fn adjacent(&self, i: usize, j: usize) -> bool {
        self.text[self.terms[i].token.end..self.terms[j].token.start]
            .chars()
            .all(|c| c == ' ')
    }

    /// The stem-id key of content words `first..=last`.
    fn key(&self, first: usize, last: usize) -> &[u32] {
        &self.ids[first..=last]
    }
}

/// The first occurrence of each key, in document order.
fn first_by_key<'s>(
    side: &'s Side,
    runs: impl IntoIterator<Item = (usize, usize)>,
) -> AHashMap<&'s [u32], (usize, usize)> {
    let mut map = AHashMap::new();
    for (first, last) in runs {
        map.entry(side.key(first, last)).or_insert((first, last));
    }
    map
}

/// Content positions `(first, last)` in each document of one shared fact.
type Pair = ((usize, usize), (usize, usize));

/// Runs present in both documents (by key), ordered by their position in the first.
fn shared_runs(
    a: &Side,
    b: &Side,
    runs_a: &[(usize, usize)],
    runs_b: &[(usize, usize)],
) -> Vec<Pair> {
    let in_b = first_by_key(b, runs_b.iter().copied());
    let mut out: Vec<Pair> = first_by_key(a, runs_a.iter().copied())
        .into_iter()
        .filter_map(|(key, ra)| in_b.get(key).map(|&rb| (ra, rb)))
        .collect();
    out.sort_unstable();
    out
}

/// Shared number facts, merged where they chain in both documents ("3 women" + "women 20" +
/// "20 men") and widened by the shared content words around them.
fn number_runs(a: &Side, b: &Side) -> Vec<Pair> {
    let runs = |s: &Side| -> Vec<(usize, usize)> {
        number_facts(&s.terms)
            .into_iter()
            .map(|(n, w)| (n.min(w), n.max(w)))
            .collect()
    };
    let mut merged: Vec<Pair> = Vec::new();
    for (ra, rb) in shared_runs(a, b, &runs(a), &runs(b)) {
        if let Some((ma, mb)) = merged.last_mut()
            && ra.0 <= ma.1
            && rb.0 <= mb.1
            && rb.0 >= mb.0
        {
            ma.1 = ma.1.max(ra.1);
            mb.1 = mb.1.max(rb.1);
            continue;
        }
        merged.push((ra, rb));
    }
    for (ra, rb) in &mut merged {
        for _ in 0..FACT_WIDENING {
            if ra.0 > 0 && rb.0 > 0 && a.ids[ra.0 - 1] == b.ids[rb.0 - 1] {
                ra.0 -= 1;
                rb.0 -= 1;
            }
            if ra.1 + 1 < a.ids.len()
                && rb.1 + 1 < b.ids.len()
                && a.ids[ra.1 + 1] == b.ids[rb.1 + 1]
            {
                ra.1 += 1;
                rb.1 += 1;
            }
        }
    }
    merged.dedup_by_key(|(ra, _)| *ra);
    merged
}

/// Quoted phrases as content positions.
fn quote_runs(side: &Side) -> Vec<(usize, usize)> {
    let position: AHashMap<usize, usize> = side
        .terms
        .iter()
        .enumerate()
        .map(|(i, t)| (t.token.start, i))
        .collect();
    quotes(side.text, &side.terms)
        .iter()
        .filter_map(|q| {
            let first = position.get(&q.first()?.token.start)?;
            let last = position.get(&q.last()?.token.start)?;
            Some((*first, *last))
        })
        .collect()
}

/// Every maximal match of length at least `min` between `a` and `b`, as `(i, j, len)`:
/// `a[i..i+len] == b[j..j+len]`, extensible neither left nor right. The `min`-grams of `b`
/// are hashed, `a` is scanned, and each hit that cannot extend left is extended right.
pub fn maximal_matches(a: &[u32], b: &[u32], min: usize) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    if min == 0 || a.len() < min || b.len() < min {
        return out;
    }
    let mut grams: AHashMap<&[u32], Vec<usize>> = AHashMap::new();
    for (j, gram) in b.windows(min).enumerate() {
        grams.entry(gram).or_default().push(j);
    }
    for (i, gram) in a.windows(min).enumerate() {
        let Some(starts) = grams.get(gram) else {
            continue;
        };
        for &j in starts {
            if i > 0 && j > 0 && a[i - 1] == b[j - 1] {
                continue;
            }
            let mut len = min;
            while i + len < a.len() && j + len < b.len() && a[i + len] == b[j + len] {
                len += 1;
            }
            out.push((i, j, len));
        }
    }
    out
}

/// The longest matches that overlap no longer one in either sequence, longest first (ties:
/// earliest in `a`, then in `b`), at most `limit`.
pub fn longest_disjoint(
    mut matches: Vec<(usize, usize, usize)>,
    len_a: usize,
    len_b: usize,
    limit: usize,
) -> Vec<(usize, usize, usize)> {
    matches.sort_unstable_by(|x, y| y.2.cmp(&x.2).then(x.0.cmp(&y.0)).then(x.1.cmp(&y.1)));
    let (mut used_a, mut used_b) = (vec![false; len_a], vec![false; len_b]);
    let mut out = Vec::new();
    for (i, j, len) in matches {
        if out.len() == limit {
            break;
        }
        if used_a[i..i + len].iter().any(|&u| u) || used_b[j..j + len].iter().any(|&u| u) {
            continue;
        }
        used_a[i..i + len].fill(true);
        used_b[j..j + len].fill(true);
        out.push((i, j, len));
    }
    out
}

/// Explains why documents `a` and `b` match: their shared facts and longest shared passages.
///
/// ```
/// use storyprint::{Config, explain::{FactKind, explain}, sign::analyze};
/// let config = Config::default();
/// let docs = analyze(
///     &[
///         "Lukashenko pardoned three women and 20 men for \"crimes of an extremist orientation\".",
///         "Three were women and 20 were men, convicted of \"crimes of an extremist orientation\".",
///     ],
///     &config,
/// );
/// let why = explain(&docs[0], &docs[1], &config, &Default::default());
/// let quoted = |kind: FactKind| -> Vec<&str> {
///     why.facts.iter().filter(|f| f.kind == kind).map(|f| &docs[1].text[f.b.start..f.b.end]).collect()
/// };
/// assert_eq!(quoted(FactKind::Number), ["Three were women and 20 were men"]);
/// assert_eq!(quoted(FactKind::Quote), ["crimes of an extremist orientation"]);
/// ```
pub fn explain(a: &Analysis, b: &Analysis, config: &Config, freq: &DocFreq) -> Explanation {
    let mut intern = AHashMap::new();
    let sa = Side::new(a, config, &mut intern);
    let sb = Side::new(b, config, &mut intern);
    let weight = |first: usize, last: usize| -> f64 {
        match config.weighting {
            crate::config::Weighting::None => 1.0,
            crate::config::Weighting::Idf => sa.terms[first..=last]
                .iter()
                .map(|t| freq.idf(t.key()))
                .fold(0.0, f64::max),
        }
    };
    let mut facts = Vec::new();
    let add = |kind: FactKind, runs: Vec<Pair>, facts: &mut Vec<Fact>| {
        let start = facts.len();
        for (ra, rb) in runs {
            facts.push(Fact {
                kind,
                a: sa.span(ra.0, ra.1),
                b: sb.span(rb.0, rb.1),
                weight: weight(ra.0, ra.1),
            });
        }
        facts[start..].sort_by(|x, y| {
            y.weight
                .total_cmp(&x.weight)
                .then(x.a.start.cmp(&y.a.start))
        });
    };
    add(FactKind::Number, number_runs(&sa, &sb), &mut facts);
    add(
        FactKind::Quote,
        shared_runs(&sa, &sb, &quote_runs(&sa), &quote_runs(&sb)),
        &mut facts,
    );
    let common: AHashSet<&str> = [&sa, &sb]
        .iter()
        .flat_map(|side| {
            (0..side.terms.len())
                .filter(|&i| !side.capitalised(i))
                .map(|i| side.terms[i].stem())
        })
        .collect();
    let names = shared_runs(&sa, &sb, &sa.names(&common), &sb.names(&common));
    let covered = |(first, last): (usize, usize)| {
        let key = sa.key(first, last);
        let span = sa.span(first, last);
        facts
            .iter()
            .any(|f| f.a.start <= span.start && span.end <= f.a.end)
            || names.iter().any(|&(other, _)| {
                let outer = sa.key(other.0, other.1);
                outer.len() > key.len() && outer.windows(key.len()).any(|w| w == key)
            })
    };
    let names: Vec<Pair> = names
        .iter()
        .copied()
        .filter(|&(ra, _)| !covered(ra))
        .collect();
    add(FactKind::Name, names, &mut facts);
    let matches = maximal_matches(&sa.ids, &sb.ids, MIN_PASSAGE_WORDS);
    let passages = longest_disjoint(matches, sa.ids.len(), sb.ids.len(), MAX_PASSAGES)
        .into_iter()
        .map(|(i, j, len)| Passage {
            a: sa.span(i, i + len - 1),
            b: sb.span(j, j + len - 1),
            words: len,
        })
        .collect();
    Explanation { facts, passages }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::analyze;
    use proptest::prelude::*;

    /// The obvious quadratic version: every start pair, extended as far as it goes.
    fn slow_maximal_matches(a: &[u32], b: &[u32], min: usize) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for i in 0..a.len() {
            for j in 0..b.len() {
                if i > 0 && j > 0 && a[i - 1] == b[j - 1] {
                    continue;
                }
                let len = (0..)
                    .take_while(|&k| i + k < a.len() && j + k < b.len() && a[i + k] == b[j + k])
                    .count();
                if len >= min && min > 0 {
                    out.push((i, j, len));
                }
            }
        }
        out
    }

    proptest! {
        #[test]
        fn maximal_matches_agree_with_the_slow_oracle(
            a in prop::collection::vec(0u32..4, 0..60),
            b in prop::collection::vec(0u32..4, 0..60),
            min in 1usize..5,
        ) {
            let mut fast = maximal_matches(&a, &b, min);
            fast.sort_unstable();
            prop_assert_eq!(fast, slow_maximal_matches(&a, &b, min));
        }

        #[test]
        fn chosen_passages_never_overlap(
            a in prop::collection::vec(0u32..3, 0..80),
            b in prop::collection::vec(0u32..3, 0..80),
        ) {
            let chosen = longest_disjoint(maximal_matches(&a, &b, 2), a.len(), b.len(), usize::MAX);
            for (n, x) in chosen.iter().enumerate() {
                prop_assert_eq!(&a[x.0..x.0 + x.2], &b[x.1..x.1 + x.2]);
                for y in &chosen[n + 1..] {
                    prop_assert!(x.2 >= y.2);
                    prop_assert!(x.0 + x.2 <= y.0 || y.0 + y.2 <= x.0);
                    prop_assert!(x.1 + x.2 <= y.1 || y.1 + y.2 <= x.1);
                }
            }
        }
    }

    /// Facts as (kind, text in the first, text in the second).
    type Quoted = Vec<(FactKind, String, String)>;

    fn quoted(texts: [&str; 2]) -> (Quoted, Vec<(String, String)>) {
        let config = Config::default();
        let docs = analyze(&texts, &config);
        let why = explain(&docs[0], &docs[1], &config, &DocFreq::default());
        let at = |d: usize, s: Span| docs[d].text[s.start..s.end].to_string();
        (
            why.facts
                .iter()
                .map(|f| (f.kind, at(0, f.a), at(1, f.b)))
                .collect(),
            why.passages
                .iter()
                .map(|p| (at(0, p.a), at(1, p.b)))
                .collect(),
        )
    }

    #[test]
    fn facts_are_quoted_as_each_document_writes_them() {
        let (facts, _) = quoted([
            "Officials freed 23 political prisoners on Saturday, three women and 20 men.",
            "Among the 23 political prisoners freed, three were women and 20 were men.",
        ]);
        let numbers: Vec<_> = facts.iter().filter(|f| f.0 == FactKind::Number).collect();
        assert_eq!(numbers.len(), 2, "{facts:?}");
        assert!(
            numbers
                .iter()
                .any(|f| f.1 == "23 political prisoners" && f.2 == "23 political prisoners")
        );
        assert!(
            numbers
                .iter()
                .any(|f| f.1 == "three women and 20 men"
                    && f.2 == "three were women and 20 were men")
        );
    }

    #[test]
    fn facts_only_one_document_states_are_not_shown() {
        let (facts, passages) = quoted([
            "The bank raised rates by 50 basis points, said Governor Andrew Bailey.",
            "Shares fell 3 percent as the \"market mood\" soured in London.",
        ]);
        assert!(facts.is_empty(), "{facts:?}");
        assert!(passages.is_empty());
    }

    #[test]
    fn names_are_capitalised_runs_but_not_sentence_openers_or_headlines() {
        let (facts, _) = quoted([
            "Pardons Ahead Of Election\nDespite this, Belarusian President Alexander Lukashenko spoke.",
            "Despite criticism, Belarusian President Alexander Lukashenko acted.\nPardons Ahead Of Election",
        ]);
        let names: Vec<&str> = facts
            .iter()
            .filter(|f| f.0 == FactKind::Name)
            .map(|f| f.1.as_str())
            .collect();
        assert_eq!(names, ["Belarusian President Alexander Lukashenko"]);
        let (facts, _) = quoted([
            "Although BankAmerica holds loans, although small ones.",
            "Although BankAmerica sold.",
        ]);
        let names: Vec<&str> = facts
            .iter()
            .filter(|f| f.0 == FactKind::Name)
            .map(|f| f.1.as_str())
            .collect();
        assert_eq!(names, ["BankAmerica"]);
    }

    #[test]
    fn passages_span_stop_words_and_map_to_each_text() {
        let (_, passages) = quoted([
            "The opposition said the vote was marred by widespread electoral fraud in the capital.",
            "Critics allege widespread electoral fraud in capital cities, the opposition said.",
        ]);
        assert_eq!(
            passages,
            [(
                "widespread electoral fraud in the capital".to_string(),
                "widespread electoral fraud in capital".to_string()
            )]
        );
    }
}
