//! Report stage: similarity reports people read. The clusters, each member with its title
//! and its similarity to the representative, and for each member the evidence that it is the
//! representative's story ([`crate::explain`]): on a terminal ([`write_terminal`]) or as one
//! self-contained HTML page ([`html::write_html`]).

pub mod html;

use std::io::Write;

use rayon::prelude::*;

use crate::cluster::Cluster;
use crate::error::Result;
use crate::explain::{Explanation, FactKind, Span, explain};
use crate::input::Document;
use crate::output::{singletons, terminal_text};
use crate::pipeline::Fingerprints;
use crate::verdict::Level;

/// Titles are cut to this many characters.
pub const TITLE_CHARS: usize = 100;

/// Quotes in the terminal report are cut to this many characters.
const QUOTE_CHARS: usize = 160;

/// Shared facts of one kind shown per pair on the terminal (the most telling ones).
fn terminal_facts(kind: FactKind) -> usize {
    match kind {
        FactKind::Number => 8,
        FactKind::Quote => 4,
        FactKind::Name => 6,
    }
}

/// Shared passages shown per pair on the terminal (the longest ones).
const TERMINAL_PASSAGES: usize = 3;

/// Why one pair of documents matched.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// The first document (a cluster's representative).
    pub a: u32,
    /// The second document.
    pub b: u32,
    /// Their score: the similarity, or the story score when the report is at a level above
    /// related (what put them in one cluster).
    pub similarity: f64,
    /// Their level ([`crate::verdict`]), when they are at least related.
    pub level: Option<Level>,
    /// Shared facts and passages.
    pub explanation: Explanation,
}

/// Everything a report shows.
#[derive(Debug, Clone)]
pub struct Report {
    /// Each document's title, in input order: the first non-empty line of its text as
    /// written (a headline, usually; page chrome when a scrape starts with it).
    pub titles: Vec<String>,
    /// The clusters, as `storyprint cluster` finds them.
    pub clusters: Vec<Cluster>,
    /// Documents in no cluster, in input order.
    pub singletons: Vec<u32>,
    /// Evidence for every member of every cluster against its representative, in cluster
    /// order: the pairs that put each member in its cluster.
    pub evidence: Vec<Evidence>,
}

impl Report {
    /// Clusters the fingerprinted documents (`docs` are the documents they were made from,
    /// in the same order) and explains every member against its representative.
    pub fn new(prints: &Fingerprints, docs: &[Document]) -> Report {
        let clusters = prints.clusters();
        let pairs: Vec<(u32, u32, f64)> = clusters
            .iter()
            .flat_map(|c| {
                c.members
                    .iter()
                    .zip(&c.to_representative)
                    .filter(|(m, _)| **m != c.representative)
                    .map(|(&m, &s)| (c.representative, m, s))
            })
            .collect();
        Report {
            titles: docs.iter().map(|d| title(&d.text)).collect(),
            singletons: singletons(prints.len(), &clusters),
            clusters,
            evidence: evidence(prints, &pairs),
        }
    }
}

/// Explains pairs `(a, b, similarity)` in parallel, in the given order.
pub fn evidence(prints: &Fingerprints, pairs: &[(u32, u32, f64)]) -> Vec<Evidence> {
    pairs
        .par_iter()
        .map(|&(a, b, similarity)| Evidence {
            a,
            b,
            similarity,
            level: prints.judge(a.min(b), a.max(b)).map(|e| e.level),
            explanation: explain(
                &prints.analyses[a as usize],
                &prints.analyses[b as usize],
                &prints.config,
                &prints.freq,
            ),
        })
        .collect()
}

/// A document's title: its first non-empty line, whitespace collapsed, cut to
/// [`TITLE_CHARS`] characters.
pub fn title(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    cut(
        &line.split_whitespace().collect::<Vec<_>>().join(" "),
        TITLE_CHARS,
    )
}

/// Cuts text to `max` characters, marking the cut with an ellipsis.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => format!("{}…", text[..end].trim_end()),
    }
}

/// The text of a span on one line, cut for the terminal.
fn quote(text: &str, span: Span) -> String {
    let words: Vec<&str> = text[span.start..span.end].split_whitespace().collect();
    cut(&words.join(" "), QUOTE_CHARS)
}

/// Terminal styles: ANSI colours, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Whether to colour.
    pub color: bool,
}

impl Style {
    /// Styles text from the inputs, its own control characters escaped ([`terminal_text`]).
    fn paint(self, code: &str, text: &str) -> String {
        let text = terminal_text(text);
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.into_owned()
        }
    }
    fn heading(self, text: &str) -> String {
        self.paint("1", text)
    }
    fn id(self, text: &str) -> String {
        self.paint("36", text)
    }
    fn value(self, text: &str) -> String {
        self.paint("1;33", text)
    }
    fn fact(self, text: &str) -> String {
        self.paint("1;32", text)
    }
    fn passage(self, text: &str) -> String {
        self.paint("34", text)
    }
    fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
}

/// Writes the report for a terminal: each cluster with its members' titles and
/// similarities, the evidence for each member, then the singletons.
pub fn write_terminal(
    out: &mut dyn Write,
    report: &Report,
    prints: &Fingerprints,
    style: Style,
) -> Result<()> {
    let ids = &prints.ids;
    let mut evidence = report.evidence.iter().peekable();
    for (n, c) in report.clusters.iter().enumerate() {
        writeln!(
            out,
            "{}",
            style.heading(&format!("cluster {n} ({} documents)", c.members.len()))
        )?;
        for (&m, &s) in c.members.iter().zip(&c.to_representative) {
            let m = m as usize;
            if m == c.representative as usize {
                writeln!(out, "  * {}  (representative)", style.id(&ids[m]))?;
            } else {
                let level = (report.evidence.iter())
                    .find(|e| e.a == c.representative && e.b as usize == m)
                    .and_then(|e| e.level);
                writeln!(
                    out,
                    "    {}  {}{}",
                    style.id(&ids[m]),
                    style.value(&format!("{s:.3}")),
                    level.map_or(String::new(), |l| format!(" {l}"))
                )?;
            }
            writeln!(out, "      {}", terminal_text(&report.titles[m]))?;
        }
        while let Some(e) = evidence.next_if(|e| e.a == c.representative) {
            writeln!(out)?;
            write_evidence(out, e, prints, style)?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{}",
        style.heading(&format!("singletons ({})", report.singletons.len()))
    )?;
    for &s in &report.singletons {
        let s = s as usize;
        writeln!(
            out,
            "    {}  {}",
            style.id(&ids[s]),
            terminal_text(&report.titles[s])
        )?;
    }
    writeln!(
        out,
        "{} cluster(s), {} singleton(s)",
        report.clusters.len(),
        report.singletons.len()
    )?;
    Ok(())
}

/// Writes one pair's shared facts and longest shared passages, quoted from each text.
fn write_evidence(
    out: &mut dyn Write,
    e: &Evidence,
    prints: &Fingerprints,
    style: Style,
) -> Result<()> {
    let (a, b) = (e.a as usize, e.b as usize);
    let (text_a, text_b) = (&prints.analyses[a].text, &prints.analyses[b].text);
    writeln!(
        out,
        "  why {} matches {} ({}{})",
        style.id(&prints.ids[b]),
        style.id(&prints.ids[a]),
        style.value(&format!("{:.3}", e.similarity)),
        e.level.map_or(String::new(), |l| format!(", {l}"))
    )?;
    let why = &e.explanation;
    if why.facts.is_empty() {
        writeln!(out, "    {}", style.dim("no shared facts"))?;
    } else {
        writeln!(out, "    shared facts")?;
    }
    for kind in [FactKind::Number, FactKind::Quote, FactKind::Name] {
        let facts: Vec<_> = why.facts.iter().filter(|f| f.kind == kind).collect();
        for f in facts.iter().take(terminal_facts(kind)) {
            let (qa, qb) = (quote(text_a, f.a), quote(text_b, f.b));
            let shown = if qa == qb {
                style.fact(&format!("\"{qa}\""))
            } else {
                format!(
                    "{}  {}  {}",
                    style.fact(&format!("\"{qa}\"")),
                    style.dim("~"),
                    style.fact(&format!("\"{qb}\""))
                )
            };
            writeln!(out, "      {:<6}  {shown}", kind.name())?;
        }
        if facts.len() > terminal_facts(kind) {
            writeln!(
                out,
                "      {}",
                style.dim(&format!(
                    "… and {} more {}(s)",
                    facts.len() - terminal_facts(kind),
                    kind.name()
                ))
            )?;
        }
    }
    if why.passages.is_empty() {
        writeln!(out, "    {}", style.dim("no shared passage"))?;
        return Ok(());
    }
    writeln!(out, "    longest shared passages")?;
    for p in why.passages.iter().take(TERMINAL_PASSAGES) {
        let (qa, qb) = (quote(text_a, p.a), quote(text_b, p.b));
        writeln!(
            out,
            "      {:>2} words  {}",
            p.words,
            style.passage(&format!("\"{qa}\""))
        )?;
        if qa != qb {
            writeln!(
                out,
                "                {}",
                style.passage(&format!("\"{qb}\""))
            )?;
        }
    }
    if why.passages.len() > TERMINAL_PASSAGES {
        writeln!(
            out,
            "      {}",
            style.dim(&format!(
                "… and {} shorter passage(s)",
                why.passages.len() - TERMINAL_PASSAGES
            ))
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_the_first_non_empty_line_cut_on_a_character_boundary() {
        assert_eq!(
            title("\n\n  Belarus  pardons 23 \nbody"),
            "Belarus pardons 23"
        );
        let long = "é".repeat(TITLE_CHARS + 5);
        let t = title(&long);
        assert_eq!(t.chars().count(), TITLE_CHARS + 1);
        assert!(t.ends_with('…'));
        assert_eq!(title(""), "");
    }

    #[test]
    fn colour_only_when_asked() {
        assert_eq!(Style { color: false }.fact("x"), "x");
        assert_eq!(Style { color: true }.fact("x"), "\x1b[1;32mx\x1b[0m");
    }
}
