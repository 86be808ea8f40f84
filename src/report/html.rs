//! The HTML report: one self-contained page (inline CSS and JavaScript, no network) with a
//! heatmap of the similarity matrix ordered by cluster, the cluster list, the explained pairs,
//! and the two articles of a pair side by side with shared facts and passages highlighted.
//!
//! The page's data is one JSON block (`<script type="application/json">`, every `<` escaped so
//! no text can close it); the script builds the heatmap and the pair view from it with DOM
//! text nodes, so no document text is ever parsed as HTML.
//!
//! It stays small for large batches: the heatmap shows at most [`HEATMAP_DOCS`] documents
//! (clustered ones first, by cluster), every pair of them is explained only up to
//! [`ALL_PAIRS_DOCS`], lists are paged by the script, and article texts are embedded only for
//! documents in a cluster or in the heatmap.

use std::io::Write;

use serde::Serialize;

use super::{Evidence, Report, evidence};
use crate::error::Result;
use crate::explain::Span;
use crate::pipeline::Fingerprints;
use crate::verdict::Level;

/// The heatmap shows at most this many documents.
pub const HEATMAP_DOCS: usize = 100;

/// Up to this many heatmap documents, every pair of them is explained (so every cell opens
/// its evidence); beyond, only the pairs of the clusters are.
pub const ALL_PAIRS_DOCS: usize = 40;

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// A document as the page knows it.
#[derive(Serialize)]
struct Doc<'a> {
    id: &'a str,
    title: &'a str,
    /// The normalized text, for documents the page can show.
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
}

/// A cluster: its representative and `[member, similarity]` pairs.
#[derive(Serialize)]
struct PageCluster {
    rep: u32,
    members: Vec<(u32, f64)>,
}

/// An explained pair; spans are UTF-16 offsets (JavaScript string indices).
#[derive(Serialize)]
struct PagePair {
    a: u32,
    b: u32,
    s: f64,
    /// The pair's level, when it is at least related.
    l: Option<&'static str>,
    /// `[kind, start_a, end_a, start_b, end_b]`.
    facts: Vec<(&'static str, u32, u32, u32, u32)>,
    /// `[start_a, end_a, start_b, end_b, words]`.
    passages: Vec<(u32, u32, u32, u32, usize)>,
}

/// The heatmap: its documents (in order) and their similarities, row-major.
#[derive(Serialize)]
struct Heatmap {
    docs: Vec<u32>,
    values: Vec<f64>,
}

#[derive(Serialize)]
struct Page<'a> {
    docs: Vec<Doc<'a>>,
    threshold: f64,
    clustered: usize,
    heatmap: Heatmap,
    clusters: Vec<PageCluster>,
    singletons: &'a [u32],
    pairs: Vec<PagePair>,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Maps byte offsets of a text to UTF-16 offsets (one table lookup each).
struct Utf16 {
    /// The UTF-16 offset of each byte offset (valid at character boundaries).
    table: Vec<u32>,
}

impl Utf16 {
    fn new(text: &str) -> Utf16 {
        let mut table = Vec::with_capacity(text.len() + 1);
        let mut units = 0u32;
        for c in text.chars() {
            table.extend(std::iter::repeat_n(units, c.len_utf8()));
            units += c.len_utf16() as u32;
        }
        table.push(units);
        Utf16 { table }
    }
    fn offset(&self, byte: usize) -> u32 {
        self.table[byte]
    }
    fn span(&self, span: Span) -> (u32, u32) {
        (self.offset(span.start), self.offset(span.end))
    }
}

fn page_pair(e: &Evidence, prints: &Fingerprints) -> PagePair {
    let ua = Utf16::new(&prints.analyses[e.a as usize].text);
    let ub = Utf16::new(&prints.analyses[e.b as usize].text);
    PagePair {
        a: e.a,
        b: e.b,
        s: round3(e.similarity),
        l: e.level.map(Level::name),
        facts: e
            .explanation
            .facts
            .iter()
            .map(|f| {
                let ((sa, ea), (sb, eb)) = (ua.span(f.a), ub.span(f.b));
                (f.kind.name(), sa, ea, sb, eb)
            })
            .collect(),
        passages: e
            .explanation
            .passages
            .iter()
            .map(|p| {
                let ((sa, ea), (sb, eb)) = (ua.span(p.a), ub.span(p.b));
                (sa, ea, sb, eb, p.words)
            })
            .collect(),
    }
}

/// The heatmap's documents: clustered ones by cluster, then the singletons, at most
/// [`HEATMAP_DOCS`].
fn heatmap_docs(report: &Report) -> Vec<u32> {
    report
        .clusters
        .iter()
        .flat_map(|c| c.members.iter().copied())
        .chain(report.singletons.iter().copied())
        .take(HEATMAP_DOCS)
        .collect()
}

/// Writes the report as one self-contained HTML page.
pub fn write_html(out: &mut dyn Write, report: &Report, prints: &Fingerprints) -> Result<()> {
    let order = heatmap_docs(report);
    let values: Vec<f64> = order
        .iter()
        .flat_map(|&i| {
            order.iter().map(move |&j| match i.cmp(&j) {
                std::cmp::Ordering::Equal => 1.0,
                std::cmp::Ordering::Less => round3(prints.similarity(i as usize, j as usize)),
                std::cmp::Ordering::Greater => round3(prints.similarity(j as usize, i as usize)),
            })
        })
        .collect();
    let mut explained: Vec<&Evidence> = report.evidence.iter().collect();
    let extra = if order.len() <= ALL_PAIRS_DOCS {
        let known: ahash::AHashSet<(u32, u32)> = report
            .evidence
            .iter()
            .map(|e| (e.a.min(e.b), e.a.max(e.b)))
            .collect();
        let n = order.len();
        let pairs: Vec<(u32, u32, f64)> = (0..n)
            .flat_map(|x| (x + 1..n).map(move |y| (x, y)))
            .map(|(x, y)| (order[x], order[y], values[x * n + y]))
            .filter(|(a, b, _)| !known.contains(&((*a).min(*b), (*a).max(*b))))
            .collect();
        evidence(prints, &pairs)
    } else {
        Vec::new()
    };
    explained.extend(&extra);
    explained.sort_by(|x, y| y.similarity.total_cmp(&x.similarity));
    let mut shown = vec![false; prints.len()];
    for &i in &order {
        shown[i as usize] = true;
    }
    for e in &report.evidence {
        shown[e.a as usize] = true;
        shown[e.b as usize] = true;
    }
    let clustered = report.clusters.iter().map(|c| c.members.len()).sum();
    let page = Page {
        docs: (0..prints.len())
            .map(|i| Doc {
                id: &prints.ids[i],
                title: &report.titles[i],
                text: shown[i].then(|| prints.analyses[i].text.as_str()),
            })
            .collect(),
        threshold: prints.config.threshold,
        clustered,
        heatmap: Heatmap {
            docs: order,
            values,
        },
        clusters: report
            .clusters
            .iter()
            .map(|c| PageCluster {
                rep: c.representative,
                members: c
                    .members
                    .iter()
                    .zip(&c.to_representative)
                    .map(|(&m, &s)| (m, round3(s)))
                    .collect(),
            })
            .collect(),
        singletons: &report.singletons,
        pairs: explained.iter().map(|e| page_pair(e, prints)).collect(),
    };
    let json = serde_json::to_string(&page)?.replace('<', "\\u003c");
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>storyprint report</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
         <header><h1>storyprint report</h1><p id=\"summary\"></p></header>\n\
         <noscript><p>This report is drawn by its inline script; enable JavaScript.</p></noscript>\n\
         <main>\n<section id=\"matrix\"><h2>Similarity matrix</h2><p class=\"note\" id=\"heatmap-note\"></p>\
         <div id=\"legend\"></div><div id=\"heatmap\" role=\"grid\"></div></section>\n\
         <section id=\"pair\" aria-live=\"polite\"></section>\n\
         <section id=\"lists\"><div id=\"clusters\"></div><div id=\"pairs\"></div>\
         <div id=\"singletons\"></div></section>\n</main>\n\
         <script type=\"application/json\" id=\"data\">{json}</script>\n\
         <script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_offsets_count_code_units() {
        let u = Utf16::new("né 😀 x");
        assert_eq!(u.offset(0), 0);
        assert_eq!(u.offset(10), 7);
        assert_eq!(u.span(Span { start: 8, end: 9 }), (5, 6));
        assert_eq!(u.span(Span { start: 4, end: 8 }), (3, 5));
    }
}
