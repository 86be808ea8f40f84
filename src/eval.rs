//! Evaluation against labelled data: pair labels (ROC AUC, best threshold, precision /
//! recall / F1 at the configured threshold through LSH) and cluster labels (pairwise
//! precision / recall / F1 and the Adjusted Rand Index, with a threshold sweep).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use crate::config::Policy;
use crate::error::{Error, Result};
use crate::pipeline::Fingerprints;
use crate::verdict::Level;

/// One labelled pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledPair {
    /// First document id.
    pub a: String,
    /// Second document id.
    pub b: String,
    /// The label column as written (`1`/`0`, or a level such as `heavy`).
    pub label: String,
}

/// The non-blank lines of a TSV file as (1-based line number, columns), each with at least
/// `min_columns` columns.
fn tsv_rows(path: &Path, min_columns: usize) -> Result<Vec<(usize, Vec<String>)>> {
    let text = std::fs::read_to_string(path).map_err(|error| Error::Io {
        path: path.into(),
        error,
    })?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<String> = line.split('\t').map(|c| c.trim().to_string()).collect();
        if cols.len() < min_columns {
            return Err(Error::Labels {
                path: path.into(),
                line: n + 1,
                message: format!(
                    "expected at least {min_columns} tab-separated columns, found {}",
                    cols.len()
                ),
            });
        }
        rows.push((n + 1, cols));
    }
    Ok(rows)
}

/// Reads a TSV with a header whose first three columns are two ids and a label.
pub fn read_pair_labels(path: &Path) -> Result<Vec<LabelledPair>> {
    Ok(tsv_rows(path, 3)?
        .into_iter()
        .filter(|(line, _)| *line > 1)
        .map(|(_, mut cols)| {
            cols.truncate(3);
            let label = cols.pop().unwrap_or_default();
            let b = cols.pop().unwrap_or_default();
            let a = cols.pop().unwrap_or_default();
            LabelledPair { a, b, label }
        })
        .collect())
}

/// Reads `doc<TAB>cluster` lines; a first line naming a column `doc`, `id` or `document` is a
/// header and skipped.
pub fn read_cluster_labels(path: &Path) -> Result<Vec<(String, String)>> {
    Ok(tsv_rows(path, 2)?
        .into_iter()
        .filter(|(line, cols)| {
            !(*line == 1 && matches!(cols[0].as_str(), "doc" | "id" | "document"))
        })
        .map(|(_, cols)| (cols[0].clone(), cols[1].clone()))
        .collect())
}

/// Whether a label means "same story / derived".
fn positive(label: &str) -> bool {
    !matches!(label, "0" | "non" | "false" | "no" | "")
}

/// ROC AUC by the Mann–Whitney statistic, ties counted half.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut ranks = vec![0.0; scores.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return f64::NAN;
    }
    let rank_sum: f64 = ranks
        .iter()
        .zip(labels)
        .filter(|(_, l)| **l)
        .map(|(r, _)| r)
        .sum();
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Precision, recall, F1 and accuracy of binary predictions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    /// The threshold the predictions came from.
    pub threshold: f64,
    /// TP / (TP + FP).
    pub precision: f64,
    /// TP / (TP + FN).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// (TP + TN) / all.
    pub accuracy: f64,
}

impl Scores {
    /// Scores predictions against labels.
    pub fn of(threshold: f64, predicted: &[bool], labels: &[bool]) -> Scores {
        let (mut tp, mut fp, mut fn_, mut tn) = (0.0, 0.0, 0.0, 0.0);
        for (&p, &l) in predicted.iter().zip(labels) {
            match (p, l) {
                (true, true) => tp += 1.0,
                (true, false) => fp += 1.0,
                (false, true) => fn_ += 1.0,
                (false, false) => tn += 1.0,
            }
        }
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        Scores {
            threshold,
            precision,
            recall,
            f1: ratio(2.0 * precision * recall, precision + recall),
            accuracy: ratio(tp + tn, tp + fp + fn_ + tn),
        }
    }
}

/// The threshold (one of the scores) that maximises accuracy, and that accuracy.
pub fn best_threshold(scores: &[f64], labels: &[bool]) -> (f64, f64) {
    let mut candidates: Vec<f64> = scores.to_vec();
    candidates.sort_by(f64::total_cmp);
    candidates.dedup();
    let mut best = (1.0, 0.0);
    for t in candidates {
        let predicted: Vec<bool> = scores.iter().map(|&s| s >= t).collect();
        let acc = Scores::of(t, &predicted, labels).accuracy;
        if acc > best.1 {
            best = (t, acc);
        }
    }
    best
}

/// Figures for one label value (e.g. one Clough–Stevenson level).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelFigures {
    /// The label or level.
    pub level: String,
    /// Pairs with it.
    pub pairs: usize,
    /// Of those, flagged as duplicates at the configured threshold (through LSH).
    pub flagged: usize,
    /// Smallest similarity.
    pub min: f64,
    /// Mean similarity.
    pub mean: f64,
    /// Largest similarity.
    pub max: f64,
}

/// The result of `eval --pairs`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairReport {
    /// Labelled pairs scored (pairs naming an unknown id are skipped and counted here).
    pub pairs: usize,
    /// Pairs skipped because an id was not among the documents.
    pub missing: usize,
    /// ROC AUC of the similarity.
    pub auc: f64,
    /// The accuracy-maximising threshold.
    pub best_threshold: f64,
    /// Its accuracy.
    pub best_accuracy: f64,
    /// Figures at the configured threshold, through LSH (a pair never proposed counts as
    /// "not duplicate").
    pub at_default: Scores,
    /// Average LSH candidates per document over the whole batch.
    pub candidates_per_doc: f64,
    /// Per label value (or per level, when levels are given).
    pub levels: Vec<LevelFigures>,
}

/// Scores labelled pairs. `levels` optionally maps a pair to a finer label for the per-level
/// table (Clough–Stevenson's cut/light/heavy/non).
pub fn evaluate_pairs(
    prints: &Fingerprints,
    labelled: &[LabelledPair],
    levels: Option<&[LabelledPair]>,
) -> PairReport {
    let index = prints.id_index();
    let candidates = prints.candidates();
    let candidates_per_doc = candidates.len() as f64 / prints.len().max(1) as f64;
    let flagged: HashSet<(usize, usize)> = prints
        .pairs()
        .iter()
        .map(|e| (e.a as usize, e.b as usize))
        .collect();
    let level_of: HashMap<(&str, &str), &str> = levels
        .unwrap_or_default()
        .iter()
        .map(|p| ((p.a.as_str(), p.b.as_str()), p.label.as_str()))
        .collect();
    let (mut scores, mut labels, mut predicted) = (Vec::new(), Vec::new(), Vec::new());
    let mut by_level: BTreeMap<String, Vec<(f64, bool)>> = BTreeMap::new();
    let mut missing = 0;
    for p in labelled {
        let (Some(&i), Some(&j)) = (index.get(p.a.as_str()), index.get(p.b.as_str())) else {
            missing += 1;
            continue;
        };
        let (lo, hi) = (i.min(j), i.max(j));
        let s = prints.similarity(lo, hi);
        let hit = flagged.contains(&(lo, hi));
        scores.push(s);
        labels.push(positive(&p.label));
        predicted.push(hit);
        let level = level_of
            .get(&(p.a.as_str(), p.b.as_str()))
            .copied()
            .unwrap_or(&p.label);
        by_level
            .entry(level.to_string())
            .or_default()
            .push((s, hit));
    }
    let (best_threshold, best_accuracy) = best_threshold(&scores, &labels);
    let levels = by_level
        .into_iter()
        .map(|(level, v)| LevelFigures {
            level,
            pairs: v.len(),
            flagged: v.iter().filter(|x| x.1).count(),
            min: v.iter().map(|x| x.0).fold(f64::INFINITY, f64::min),
            mean: v.iter().map(|x| x.0).sum::<f64>() / v.len() as f64,
            max: v.iter().map(|x| x.0).fold(f64::NEG_INFINITY, f64::max),
        })
        .collect();
    PairReport {
        pairs: scores.len(),
        missing,
        auc: roc_auc(&scores, &labels),
        best_threshold,
        best_accuracy,
        at_default: Scores::of(prints.config.threshold, &predicted, &labels),
        candidates_per_doc,
        levels,
    }
}

/// Pairwise clustering figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pairwise {
    /// Pairs put together that belong together / pairs put together.
    pub precision: f64,
    /// Pairs put together that belong together / pairs that belong together.
    pub recall: f64,
    /// Harmonic mean.
    pub f1: f64,
}

/// Clustering figures at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClusterFigures {
    /// The threshold.
    pub threshold: f64,
    /// Pairwise precision / recall / F1.
    pub pairwise: Pairwise,
    /// Adjusted Rand Index.
    pub ari: f64,
    /// Clusters with more than one member.
    pub clusters: usize,
}

/// The result of `eval --clusters`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterReport {
    /// Labelled documents found among the inputs.
    pub documents: usize,
    /// Labelled documents not among the inputs.
    pub missing: usize,
    /// Figures at the configured threshold.
    pub pairwise: Pairwise,
    /// Adjusted Rand Index at the configured threshold.
    pub ari: f64,
    /// The figures with each level as the lowest that counts ([`Level::ALL`] order).
    pub levels: Vec<LevelClusters>,
    /// The figures at level related over a range of similarity thresholds.
    pub sweep: Vec<ClusterFigures>,
}

/// Clustering figures with one level as the lowest that counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LevelClusters {
    /// The level.
    pub level: Level,
    /// Pairwise precision / recall / F1.
    pub pairwise: Pairwise,
    /// Adjusted Rand Index.
    pub ari: f64,
    /// Clusters with more than one member.
    pub clusters: usize,
}

fn choose2(n: usize) -> f64 {
    (n * n.saturating_sub(1)) as f64 / 2.0
}

/// Pairwise P/R/F1 and ARI of a predicted labelling against the truth (both per document).
pub fn compare_labellings(truth: &[usize], predicted: &[usize]) -> (Pairwise, f64) {
    let mut table: HashMap<(usize, usize), usize> = HashMap::new();
    let mut rows: HashMap<usize, usize> = HashMap::new();
    let mut cols: HashMap<usize, usize> = HashMap::new();
    for (&t, &p) in truth.iter().zip(predicted) {
        *table.entry((t, p)).or_default() += 1;
        *rows.entry(t).or_default() += 1;
        *cols.entry(p).or_default() += 1;
    }
    let together: f64 = table.values().map(|&n| choose2(n)).sum();
    let truth_pairs: f64 = rows.values().map(|&n| choose2(n)).sum();
    let predicted_pairs: f64 = cols.values().map(|&n| choose2(n)).sum();
    let total = choose2(truth.len());
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 1.0 };
    let precision = ratio(together, predicted_pairs);
    let recall = ratio(together, truth_pairs);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    let expected = if total > 0.0 {
        truth_pairs * predicted_pairs / total
    } else {
        0.0
    };
    let max = (truth_pairs + predicted_pairs) / 2.0;
    let ari = if (max - expected).abs() < 1e-12 {
        1.0
    } else {
        (together - expected) / (max - expected)
    };
    (
        Pairwise {
            precision,
            recall,
            f1,
        },
        ari,
    )
}

/// Clusters at the configured threshold and over a sweep, and compares with the truth.
pub fn evaluate_clusters(prints: &Fingerprints, truth: &[(String, String)]) -> ClusterReport {
    let index = prints.id_index();
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut docs = Vec::new();
    let mut labels = Vec::new();
    let mut missing = 0;
    for (doc, cluster) in truth {
        match index.get(doc.as_str()) {
            Some(&i) => {
                let next = names.len();
                labels.push(*names.entry(cluster.as_str()).or_insert(next));
                docs.push(i);
            }
            None => missing += 1,
        }
    }
    let configured = prints.config.policy();
    let figures_at = |level: Level, threshold: f64| {
        let clusters = prints.clusters_under(&Policy {
            threshold,
            level,
            ..configured
        });
        let mut assignment: Vec<usize> = (0..prints.len()).map(|i| clusters.len() + i).collect();
        for (n, c) in clusters.iter().enumerate() {
            for &m in &c.members {
                assignment[m as usize] = n;
            }
        }
        let predicted: Vec<usize> = docs.iter().map(|&i| assignment[i]).collect();
        let (pairwise, ari) = compare_labellings(&labels, &predicted);
        ClusterFigures {
            threshold,
            pairwise,
            ari,
            clusters: clusters.len(),
        }
    };
    let at = figures_at(configured.level, configured.threshold);
    let levels = Level::ALL
        .into_iter()
        .map(|level| {
            let f = figures_at(level, configured.threshold);
            LevelClusters {
                level,
                pairwise: f.pairwise,
                ari: f.ari,
                clusters: f.clusters,
            }
        })
        .collect();
    let sweep = (1..=19)
        .map(|i| figures_at(Level::Related, i as f64 * 0.05))
        .collect();
    ClusterReport {
        documents: docs.len(),
        missing,
        pairwise: at.pairwise,
        ari: at.ari,
        levels,
        sweep,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ties_half() {
        assert_eq!(
            roc_auc(&[0.1, 0.2, 0.3, 0.4], &[false, false, true, true]),
            1.0
        );
        assert_eq!(
            roc_auc(&[0.4, 0.3, 0.2, 0.1], &[false, false, true, true]),
            0.0
        );
        assert_eq!(roc_auc(&[0.5, 0.5], &[false, true]), 0.5);
    }

    #[test]
    fn scores_on_a_small_example() {
        let s = Scores::of(
            0.5,
            &[true, true, false, false],
            &[true, false, true, false],
        );
        assert_eq!(
            (s.precision, s.recall, s.f1, s.accuracy),
            (0.5, 0.5, 0.5, 0.5)
        );
        assert_eq!(
            best_threshold(&[0.1, 0.9, 0.8], &[false, true, true]),
            (0.8, 1.0)
        );
    }

    #[test]
    fn ari_is_one_for_equal_partitions_and_about_zero_for_unrelated() {
        let (pw, ari) = compare_labellings(&[0, 0, 1, 1, 2], &[5, 5, 7, 7, 9]);
        assert_eq!(ari, 1.0);
        assert_eq!(pw.f1, 1.0);
        let (_, ari) = compare_labellings(&[0, 0, 1, 1], &[0, 1, 0, 1]);
        assert!(ari < 0.0);
        // Known value: sklearn.metrics.adjusted_rand_score([0,0,0,1,1,1],[0,0,1,1,2,2]) = 0.2424…
        let (_, ari) = compare_labellings(&[0, 0, 0, 1, 1, 1], &[0, 0, 1, 1, 2, 2]);
        assert!((ari - 0.242_424_242).abs() < 1e-6, "{ari}");
    }

    #[test]
    fn label_files_parse_and_report_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let pairs = dir.path().join("p.tsv");
        std::fs::write(&pairs, "a\tb\tlabel\nx\ty\t1\nx\tz\t0\n").unwrap();
        let read = read_pair_labels(&pairs).unwrap();
        assert_eq!(read.len(), 2);
        assert!(positive(&read[0].label) && !positive(&read[1].label));
        std::fs::write(&pairs, "a\tb\tlabel\nx\ty\n").unwrap();
        let err = read_pair_labels(&pairs).unwrap_err().to_string();
        assert!(err.contains("p.tsv:2"), "{err}");
        let clusters = dir.path().join("c.tsv");
        std::fs::write(&clusters, "doc\tstory\nx\ts1\ny\ts1\n").unwrap();
        assert_eq!(read_cluster_labels(&clusters).unwrap().len(), 2);
    }
}
