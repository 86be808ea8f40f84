//! Output stage: the similarity matrix, verified pairs and clusters as tables, CSV/TSV,
//! JSON and JSON Lines. Similarities are rounded to 4 decimals everywhere. Files are written
//! whole or not at all ([`OutputFile`]).

use std::borrow::Cow;
use std::io::Write;

use serde::Serialize;

use crate::cluster::{Cluster, Edge, Scored};
use crate::error::Result;
use crate::verdict::Level;

mod file;
#[cfg(feature = "parquet")]
pub(crate) mod parquet;

pub use file::{OutputFile, STDOUT, check_outputs, is_stdout};

/// Rounds a similarity to 4 decimals for display and serialisation.
pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Output formats; not every command accepts every one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned text for people.
    Table,
    /// Comma-separated values.
    Csv,
    /// Tab-separated values.
    Tsv,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Jsonl,
}

/// Quotes a CSV field when needed (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Escapes a TSV field: a backslash, tab, newline or carriage return becomes `\\`, `\t`, `\n`
/// or `\r` (the convention of PostgreSQL's and MySQL's text formats), so that a field never
/// splits a row and the escaping is reversible. Every TSV storyprint writes does this.
///
/// ```
/// use storyprint::output::tsv_field;
/// assert_eq!(tsv_field("plain id"), "plain id");
/// assert_eq!(tsv_field("a\tb\nc\\d"), "a\\tb\\nc\\\\d");
/// ```
pub fn tsv_field(s: &str) -> Cow<'_, str> {
    if !s.contains(['\\', '\t', '\n', '\r']) {
        return Cow::Borrowed(s);
    }
    let mut escaped = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '\t' => escaped.push_str("\\t"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// Whether a character could steer a terminal or hide text: control characters (escape
/// sequences start with one) and bidirectional overrides.
fn steers_terminal(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Makes text from the inputs safe to print on a terminal: each control character (an escape
/// sequence's start, a tab or newline in an id) and bidirectional override is shown as
/// `\u{…}`, so an id or title cannot move the cursor, recolour or retitle the terminal.
///
/// ```
/// use storyprint::output::terminal_text;
/// assert_eq!(terminal_text("Reuters 17"), "Reuters 17");
/// assert_eq!(terminal_text("x\x1b[2Jy"), "x\\u{1b}[2Jy");
/// ```
pub fn terminal_text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(steers_terminal) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match steers_terminal(c) {
                true => format!("\\u{{{:x}}}", u32::from(c)),
                false => c.to_string(),
            })
            .collect(),
    )
}

/// Writes the matrix. CSV/TSV have a header `id,<id1>,<id2>,…`; JSON is
/// `{"ids":[…],"matrix":[[…]]}`; the table labels columns by row number.
pub fn write_matrix(
    out: &mut dyn Write,
    ids: &[String],
    matrix: &[Vec<f64>],
    format: Format,
) -> Result<()> {
    match format {
        Format::Json | Format::Jsonl => {
            #[derive(Serialize)]
            struct M<'a> {
                ids: &'a [String],
                matrix: Vec<Vec<f64>>,
            }
            let matrix = matrix
                .iter()
                .map(|r| r.iter().map(|&x| round4(x)).collect())
                .collect();
            serde_json::to_writer(&mut *out, &M { ids, matrix })?;
            writeln!(out)?;
        }
        Format::Csv | Format::Tsv => {
            let (sep, field): (&str, fn(&str) -> String) = if format == Format::Csv {
                (",", csv_field)
            } else {
                ("\t", |id| tsv_field(id).into_owned())
            };
            let header: Vec<String> = std::iter::once("id".to_string())
                .chain(ids.iter().map(|id| field(id)))
                .collect();
            writeln!(out, "{}", header.join(sep))?;
            for (id, row) in ids.iter().zip(matrix) {
                let cells: Vec<String> = row.iter().map(|x| format!("{:.4}", x)).collect();
                writeln!(out, "{}{sep}{}", field(id), cells.join(sep))?;
            }
        }
        Format::Table => {
            let width = ids
                .iter()
                .map(|id| terminal_text(id).chars().count())
                .max()
                .unwrap_or(2)
                .min(40);
            write!(out, "{:>w$}      ", "", w = width)?;
            for j in 0..ids.len() {
                write!(out, " {:>6}", format!("[{j}]"))?;
            }
            writeln!(out)?;
            for (i, (id, row)) in ids.iter().zip(matrix).enumerate() {
                write!(
                    out,
                    "{:<w$} {:>5}",
                    short(&terminal_text(id), width),
                    format!("[{i}]"),
                    w = width
                )?;
                for (j, x) in row.iter().enumerate() {
                    if i == j {
                        write!(out, " {:>6}", "-")?;
                    } else {
                        write!(out, " {:>6.3}", x)?;
                    }
                }
                writeln!(out)?;
            }
        }
    }
    Ok(())
}

/// Writes a sparse similarity matrix: CSV `a,b,similarity` with a header, one line per entry
/// (as [`crate::Fingerprints::sparse_matrix`] gives them), which pandas reads with `read_csv`
/// and SciPy turns into a `coo_matrix` by id.
pub fn write_sparse_matrix(out: &mut dyn Write, ids: &[String], entries: &[Scored]) -> Result<()> {
    writeln!(out, "a,b,similarity")?;
    for &(a, b, similarity) in entries {
        writeln!(
            out,
            "{},{},{similarity:.4}",
            csv_field(&ids[a as usize]),
            csv_field(&ids[b as usize]),
        )?;
    }
    Ok(())
}

/// Shortens an id to `width` characters, keeping its start and marking the cut.
pub fn short(id: &str, width: usize) -> String {
    if id.chars().count() <= width {
        id.to_string()
    } else {
        let mut s: String = id.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// A pair as written in JSON outputs.
#[derive(Debug, Serialize)]
pub struct NamedPair<'a> {
    /// First document id.
    pub a: &'a str,
    /// Second document id.
    pub b: &'a str,
    /// Their similarity.
    pub similarity: f64,
    /// Their story score.
    pub story: f64,
    /// How alike they are: copy, rewrite or related.
    pub level: Level,
}

fn named<'a>(ids: &'a [String], e: &Edge) -> NamedPair<'a> {
    NamedPair {
        a: &ids[e.a as usize],
        b: &ids[e.b as usize],
        similarity: round4(e.similarity),
        story: round4(e.story),
        level: e.level,
    }
}

/// Writes verified pairs, one per line: TSV `a<TAB>b<TAB>similarity<TAB>story<TAB>level`
/// with a header, or JSONL.
pub fn write_pairs(
    out: &mut dyn Write,
    ids: &[String],
    pairs: &[Edge],
    format: Format,
) -> Result<()> {
    match format {
        Format::Jsonl | Format::Json => {
            for e in pairs {
                serde_json::to_writer(&mut *out, &named(ids, e))?;
                writeln!(out)?;
            }
        }
        _ => {
            writeln!(out, "a\tb\tsimilarity\tstory\tlevel")?;
            for e in pairs {
                writeln!(
                    out,
                    "{}\t{}\t{:.4}\t{:.4}\t{}",
                    tsv_field(&ids[e.a as usize]),
                    tsv_field(&ids[e.b as usize]),
                    e.similarity,
                    e.story,
                    e.level
                )?;
            }
        }
    }
    Ok(())
}

/// Documents in no cluster, in input order.
pub fn singletons(n: usize, clusters: &[Cluster]) -> Vec<u32> {
    let mut clustered = vec![false; n];
    for c in clusters {
        for &m in &c.members {
            clustered[m as usize] = true;
        }
    }
    (0..n as u32).filter(|&i| !clustered[i as usize]).collect()
}

/// Writes clusters. JSON: `{"clusters":[{"id","representative","members","pairs"}],
/// "singletons":[…]}`. TSV: `doc<TAB>cluster` for every document, in input order; singletons
/// are numbered after the clusters, one number each. Table: one block per cluster.
pub fn write_clusters(
    out: &mut dyn Write,
    ids: &[String],
    clusters: &[Cluster],
    format: Format,
) -> Result<()> {
    let single = singletons(ids.len(), clusters);
    match format {
        Format::Json | Format::Jsonl => {
            #[derive(Serialize)]
            struct C<'a> {
                id: usize,
                representative: &'a str,
                members: Vec<&'a str>,
                pairs: Vec<NamedPair<'a>>,
            }
            #[derive(Serialize)]
            struct All<'a> {
                clusters: Vec<C<'a>>,
                singletons: Vec<&'a str>,
            }
            let all = All {
                clusters: clusters
                    .iter()
                    .enumerate()
                    .map(|(id, c)| C {
                        id,
                        representative: &ids[c.representative as usize],
                        members: c
                            .members
                            .iter()
                            .map(|&m| ids[m as usize].as_str())
                            .collect(),
                        pairs: c.pairs.iter().map(|e| named(ids, e)).collect(),
                    })
                    .collect(),
                singletons: single.iter().map(|&i| ids[i as usize].as_str()).collect(),
            };
            serde_json::to_writer(&mut *out, &all)?;
            writeln!(out)?;
        }
        Format::Tsv | Format::Csv => {
            let mut label = vec![0usize; ids.len()];
            for (n, c) in clusters.iter().enumerate() {
                for &m in &c.members {
                    label[m as usize] = n;
                }
            }
            for (n, &i) in single.iter().enumerate() {
                label[i as usize] = clusters.len() + n;
            }
            writeln!(out, "doc\tcluster")?;
            for (id, l) in ids.iter().zip(label) {
                writeln!(out, "{}\t{l}", tsv_field(id))?;
            }
        }
        Format::Table => {
            for (n, c) in clusters.iter().enumerate() {
                writeln!(out, "cluster {n} ({} documents)", c.members.len())?;
                for (&m, &s) in c.members.iter().zip(&c.to_representative) {
                    let id = terminal_text(&ids[m as usize]);
                    if m == c.representative {
                        writeln!(out, "  * {id}  (representative)")?;
                    } else {
                        let level = c
                            .pairs
                            .iter()
                            .find(|e| {
                                (e.a, e.b) == (m.min(c.representative), m.max(c.representative))
                            })
                            .map_or(String::new(), |e| format!(" {}", e.level));
                        writeln!(out, "    {id}  {s:.3}{level}")?;
                    }
                }
            }
            writeln!(
                out,
                "{} cluster(s), {} singleton(s){}",
                clusters.len(),
                single.len(),
                if single.is_empty() { "" } else { ":" }
            )?;
            for &i in &single {
                writeln!(out, "    {}", terminal_text(&ids[i as usize]))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        vec!["a,1".into(), "b".into(), "c".into()]
    }

    fn render(f: impl Fn(&mut Vec<u8>) -> Result<()>) -> String {
        let mut buf = Vec::new();
        f(&mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn matrix_formats() {
        let m = vec![
            vec![1.0, 0.123456, 0.0],
            vec![0.123456, 1.0, 0.5],
            vec![0.0, 0.5, 1.0],
        ];
        let csv = render(|b| write_matrix(b, &ids(), &m, Format::Csv));
        assert_eq!(csv.lines().next().unwrap(), "id,\"a,1\",b,c");
        assert_eq!(csv.lines().nth(1).unwrap(), "\"a,1\",1.0000,0.1235,0.0000");
        let json: serde_json::Value =
            serde_json::from_str(&render(|b| write_matrix(b, &ids(), &m, Format::Json))).unwrap();
        assert_eq!(json["matrix"][0][1], 0.1235);
        assert_eq!(json["ids"][2], "c");
        let table = render(|b| write_matrix(b, &ids(), &m, Format::Table));
        assert!(table.contains("0.123"), "{table}");
    }

    #[test]
    fn cluster_formats_cover_every_document() {
        let c = Cluster {
            representative: 0,
            members: vec![0, 2],
            to_representative: vec![1.0, 0.7],
            pairs: vec![Edge {
                a: 0,
                b: 2,
                similarity: 0.7,
                story: 0.3,
                level: Level::Rewrite,
            }],
        };
        let tsv = render(|b| write_clusters(b, &ids(), std::slice::from_ref(&c), Format::Tsv));
        assert_eq!(tsv, "doc\tcluster\na,1\t0\nb\t1\nc\t0\n");
        let json: serde_json::Value = serde_json::from_str(&render(|b| {
            write_clusters(b, &ids(), std::slice::from_ref(&c), Format::Json)
        }))
        .unwrap();
        assert_eq!(
            json["clusters"][0]["members"],
            serde_json::json!(["a,1", "c"])
        );
        assert_eq!(json["singletons"], serde_json::json!(["b"]));
        assert_eq!(json["clusters"][0]["pairs"][0]["similarity"], 0.7);
        assert_eq!(json["clusters"][0]["pairs"][0]["level"], "rewrite");
        let table = render(|b| write_clusters(b, &ids(), std::slice::from_ref(&c), Format::Table));
        assert!(table.contains("    c  0.700 rewrite\n"), "{table}");
    }

    /// Regression: ids with escape sequences were printed raw on the terminal, and ids with
    /// tabs or newlines broke TSV rows.
    #[test]
    fn ids_with_control_characters_are_escaped_in_tables_and_tsv() {
        let ids: Vec<String> = vec!["a\x1b]0;owned\x07".into(), "b\tc\nd\\".into()];
        let c = Cluster {
            representative: 0,
            members: vec![0, 1],
            to_representative: vec![1.0, 0.9],
            pairs: Vec::new(),
        };
        let table = render(|b| write_clusters(b, &ids, std::slice::from_ref(&c), Format::Table));
        assert!(
            !table.contains('\x1b') && !table.contains('\x07'),
            "{table:?}"
        );
        assert!(table.contains("a\\u{1b}]0;owned\\u{7}"), "{table}");
        assert!(table.contains("b\\u{9}c\\u{a}d"), "{table}");
        let matrix = vec![vec![1.0, 0.9], vec![0.9, 1.0]];
        let table = render(|b| write_matrix(b, &ids, &matrix, Format::Table));
        assert!(!table.contains('\x1b'), "{table:?}");
        let tsv = render(|b| write_clusters(b, &ids, std::slice::from_ref(&c), Format::Tsv));
        assert_eq!(tsv.lines().nth(2), Some("b\\tc\\nd\\\\\t0"));
        assert_eq!(tsv.lines().count(), 3);
    }

    #[test]
    fn a_sparse_matrix_is_a_csv_of_entries() {
        let entries = [(0, 2, 0.123456), (1, 2, 0.5)];
        assert_eq!(
            render(|b| write_sparse_matrix(b, &ids(), &entries)),
            "a,b,similarity\n\"a,1\",c,0.1235\nb,c,0.5000\n"
        );
    }

    #[test]
    fn pairs_as_tsv_and_jsonl() {
        let e = [Edge {
            a: 1,
            b: 2,
            similarity: 0.25,
            story: 0.75,
            level: Level::Copy,
        }];
        assert_eq!(
            render(|b| write_pairs(b, &ids(), &e, Format::Tsv)),
            "a\tb\tsimilarity\tstory\tlevel\nb\tc\t0.2500\t0.7500\tcopy\n"
        );
        assert_eq!(
            render(|b| write_pairs(b, &ids(), &e, Format::Jsonl)),
            "{\"a\":\"b\",\"b\":\"c\",\"similarity\":0.25,\"story\":0.75,\"level\":\"copy\"}\n"
        );
    }
}
