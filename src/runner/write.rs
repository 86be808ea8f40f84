//! The writing read every dedup runner ends with: kept lines in input order, then
//! `removed.tsv` and the verified pairs, from removals known before the read or decided during
//! it (by `dedup`'s streaming judgement, through [`Judged`] and [`Decide`]).

use std::borrow::Cow;
use std::io::Write;
use std::path::PathBuf;

use ahash::AHashMap;

use super::read::{Layout, Reading, Recompute};
use super::{Dedup, Observer, Outputs, Pass, Summary};
use crate::error::{Error, Result};
use crate::features::{DocFreq, Feature};
use crate::keep::{Link, Removal};
use crate::output::tsv_field;
use crate::sign::Signing;
use crate::verdict::Level;

/// Writes one line and its newline.
fn write_line(out: &mut dyn Write, line: &str) -> std::io::Result<()> {
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")
}

/// What the writing pass knows of the removals when it starts.
pub(crate) enum Removals<'a> {
    /// All of them: the verified pairs and the removals chosen from them.
    Known {
        edges: &'a [Link],
        removals: &'a [Removal],
        /// Each pair's story score and level, when the run judges them.
        levels: Option<&'a dyn PairLevels>,
    },
    /// None yet: they are decided as the documents are read, by `decide` from what `judged`
    /// holds.
    Streaming {
        judged: &'a dyn Judged,
        decide: Box<dyn Decide + 'a>,
    },
}

/// The story score and level of each verified pair, for a run that judges levels.
pub(crate) trait PairLevels {
    /// The story score and level of the pair of `a` and `b`, when it was judged.
    fn get(&self, a: u32, b: u32) -> Option<(f64, Level)>;
}

/// What removals decided during the writing read are judged from; it does not change during
/// the read.
pub(crate) trait Judged: Sync {
    /// Whether document `doc` is in a candidate pair (any removal or verified pair names only
    /// such documents).
    fn in_pairs(&self, doc: usize) -> bool;
    /// The first read's [`Layout`].
    fn layout(&self) -> &Layout;
    /// The signing stage and the document frequencies the feature sets of the documents in
    /// pairs are recomputed with.
    fn recompute(&self) -> (&Signing, &DocFreq);
}

/// Removals decided during the writing read, chunk by chunk, each before its lines are
/// written.
pub(crate) trait Decide {
    /// Decides the next chunk's documents, numbered from `first` (the chunks come in input
    /// order), given their recomputed `features`: marks the removed ones in `removed`.
    /// Returns the documents whose last pair is now judged and that no verified pair names.
    fn decide(
        &mut self,
        first: usize,
        features: Vec<Option<Vec<Feature>>>,
        removed: &mut [bool],
    ) -> Result<Vec<u32>>;
    /// The verified pairs, sorted, and the removals, sorted by removed document.
    fn finish(self: Box<Self>) -> (Vec<Link>, Vec<Removal>);
}

impl Dedup {
    /// The last read: kept lines to `unique`, then `removed.tsv` and the verified pairs, from
    /// the removals already chosen, for the `summary.documents` documents of the first read:
    /// what the distributed runner writes, exactly what `dedup` writes from the same removals.
    #[cfg(feature = "dist")]
    pub(crate) fn write(
        &self,
        paths: &[PathBuf],
        edges: &[Link],
        removals: &[Removal],
        outputs: Outputs<'_>,
        observer: &mut dyn Observer,
        summary: &mut Summary,
    ) -> Result<()> {
        let removals = Removals::Known {
            edges,
            removals,
            levels: None,
        };
        self.write_pass(paths, removals, None, outputs, observer, summary)
    }

    /// The last read (of `summary.documents` documents, laid out as in `layout` when known;
    /// [`Removals::Streaming`] brings its own): kept lines to `unique` in input order, then
    /// `removed.tsv` and the verified pairs. With [`Removals::Streaming`] the removals are
    /// decided chunk by chunk, each before its lines are written, and the summary's counts are
    /// set at the end.
    pub(crate) fn write_pass(
        &self,
        paths: &[PathBuf],
        mut removals: Removals<'_>,
        layout: Option<&Layout>,
        outputs: Outputs<'_>,
        observer: &mut dyn Observer,
        summary: &mut Summary,
    ) -> Result<()> {
        let n = usize::try_from(summary.documents).unwrap_or(usize::MAX);
        let Outputs {
            unique,
            removed,
            pairs,
        } = outputs;
        let mut is_removed = vec![false; n];
        let mut named: AHashMap<u32, String> = AHashMap::new();
        let mut name = |doc: u32| {
            named.insert(doc, String::new());
        };
        match &removals {
            Removals::Known {
                edges, removals, ..
            } => {
                for r in *removals {
                    is_removed[r.removed as usize] = true;
                    if removed.is_some() {
                        name(r.removed);
                        name(r.kept);
                    }
                }
                if pairs.is_some() {
                    for &(a, b, _) in *edges {
                        name(a);
                        name(b);
                    }
                }
            }
            Removals::Streaming { judged, .. } if removed.is_some() || pairs.is_some() => {
                (0..n)
                    .filter(|&doc| judged.in_pairs(doc))
                    .for_each(|doc| name(doc as u32));
            }
            Removals::Streaming { .. } => {}
        }
        let mut failure: Option<Error> = None;
        let mut seen = 0usize;
        let (judging, mut decisions) = match &mut removals {
            Removals::Known { .. } => (None, None),
            Removals::Streaming { judged, decide } => (Some(*judged), Some(decide)),
        };
        let layout = judging.map_or(layout, |judging| Some(judging.layout()));
        let wanted = |doc: usize| judging.is_some_and(|j| j.in_pairs(doc));
        let recompute = judging.map(|judging| {
            let (signing, freq) = judging.recompute();
            Recompute {
                signing,
                freq,
                wanted: &wanted,
            }
        });
        let read = Reading::again(Pass::Writing, Some(summary.documents), true, layout);
        let found = self.reread(
            paths,
            read,
            observer,
            recompute.as_ref(),
            |chunk, features| {
                let first = seen;
                seen += chunk.len();
                // Documents past the first read's are an error, reported at the end.
                if failure.is_some() || first >= n {
                    return;
                }
                let chunk = &chunk[..chunk.len().min(n - first)];
                let removed = &mut is_removed[first..first + chunk.len()];
                if let Some(decisions) = decisions.as_mut() {
                    match decisions.decide(first, features, removed) {
                        // A document no verified pair names needs no name.
                        Ok(done) => done.into_iter().for_each(|doc| {
                            named.remove(&doc);
                        }),
                        Err(e) => {
                            failure = Some(e);
                            return;
                        }
                    }
                }
                for (i, (record, &removed)) in chunk.iter().zip(removed.iter()).enumerate() {
                    if let Some(id) = named.get_mut(&((first + i) as u32)) {
                        id.clone_from(&record.doc.id);
                    }
                    if !removed && let Err(e) = write_line(unique, &record.line(&self.input)) {
                        failure = Some(Error::Output(e));
                        return;
                    }
                }
            },
        );
        if let Some(e) = failure {
            return Err(e);
        }
        found.same_as_first(n)?;
        unique.flush()?;
        let (edges, removals, levels) = match removals {
            Removals::Known {
                edges,
                removals,
                levels,
            } => (Cow::Borrowed(edges), Cow::Borrowed(removals), levels),
            Removals::Streaming { decide, .. } => {
                let (edges, removals) = decide.finish();
                summary.verified = edges.len() as u64;
                summary.removed = removals.len() as u64;
                summary.kept = n as u64 - summary.removed;
                (Cow::Owned(edges), Cow::Owned(removals), None)
            }
        };
        // The story score and level of a pair: empty when the run does not judge levels.
        let judged = |a: u32, b: u32| match levels.and_then(|l| l.get(a, b)) {
            Some((story, level)) => format!("{story:.4}\t{level}"),
            None => "\t".to_string(),
        };
        if let Some(out) = removed {
            writeln!(out, "removed_id\tkept_id\tsimilarity\tstory\tlevel")?;
            for r in removals.iter() {
                writeln!(
                    out,
                    "{}\t{}\t{:.4}\t{}",
                    tsv_field(&named[&r.removed]),
                    tsv_field(&named[&r.kept]),
                    r.similarity,
                    judged(r.removed, r.kept)
                )?;
            }
            out.flush()?;
        }
        if let Some(out) = pairs {
            writeln!(out, "a\tb\tsimilarity\tstory\tlevel")?;
            for &(a, b, similarity) in edges.iter() {
                writeln!(
                    out,
                    "{}\t{}\t{similarity:.4}\t{}",
                    tsv_field(&named[&a]),
                    tsv_field(&named[&b]),
                    judged(a, b)
                )?;
            }
            out.flush()?;
        }
        Ok(())
    }
}
