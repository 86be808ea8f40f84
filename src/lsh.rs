//! LSH stage: banding over signatures to propose candidate pairs without comparing all pairs.
//!
//! The signature's K values are cut into `bands` bands of `rows` values; two documents whose
//! values agree on a whole band collide in that band. A pair is a candidate when it collides
//! in at least `min_hits` bands. With `min_hits = 1` this is textbook banding; a larger
//! `min_hits` with short bands keeps recall at the low similarities where rewrites live
//! while cutting the chance pairs that a single one-row band would let through. All three
//! numbers are chosen by the standard integral method: minimise the area of false positives
//! below the threshold plus the area of false negatives above it.

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::config::{Config, Measure, Policy};
use crate::pool::Pool;
use crate::signature::{EMPTY, Signature};
use crate::sort::radix_sort_by_key;

/// Buckets larger than this are linked as a star (first member to every other) rather than
/// all pairs: a value shared by thousands of documents is boilerplate, and all its pairs
/// would be quadratic.
pub const MAX_BUCKET: usize = 256;

/// For containment and cosine, LSH must find pairs whose *Jaccard* is lower than the
/// measure's threshold: for sizes 1 and `r`, `J = I / (1 + r − I)` where the intersection `I`
/// is `T` (containment) or `T·√r` (cosine). Recall is designed for pairs whose weighted sizes
/// differ by at most this ratio; more lopsided pairs are found when they collide anyway.
pub const SIZE_RATIO: f64 = 4.0;

/// The Jaccard similarity LSH is tuned to for a match policy.
pub fn lsh_threshold(policy: &Policy) -> f64 {
    let t = policy.threshold;
    let intersection = match policy.measure {
        Measure::Jaccard => return t,
        Measure::Containment => t,
        Measure::Cosine => (t * SIZE_RATIO.sqrt()).min(1.0),
    };
    intersection / (1.0 + SIZE_RATIO - intersection)
}

/// What a banding serves, which sets the similarity it is tuned to ([`Banding::for_policy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// A batch in memory or an index (`cluster`, `pairs`, `check`): tuned to the threshold
    /// ([`lsh_threshold`]).
    Batch,
    /// A streaming dedup (`dedup`, `dist`, the signatures file's band keys), whose pairs are
    /// verified by their estimate: tuned lower ([`Scan::threshold`]).
    Streaming,
}

impl Scan {
    /// The Jaccard similarity the banding is tuned to. Streaming: three standard deviations
    /// of a K-value estimate below [`lsh_threshold`] (but at least three quarters of it). The
    /// optimal banding puts the middle of its S-curve at the threshold, so a pair just above
    /// it would be a candidate only about half the time, and then pass the equally noisy
    /// estimate about half the time again; tuned lower, LSH lets through every pair whose
    /// estimate can reach the threshold and the verification alone decides (measured with
    /// `bench/compare.sh`: recall of verified pairs 0.90 → see docs/performance.md).
    pub fn threshold(self, policy: &Policy, k: usize) -> f64 {
        let t = lsh_threshold(policy);
        match self {
            Scan::Batch => t,
            Scan::Streaming => {
                let sigma = (t * (1.0 - t) / k as f64).sqrt();
                (t - 3.0 * sigma).max(0.75 * t)
            }
        }
    }
}

/// Banding parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Banding {
    /// Number of bands.
    pub bands: usize,
    /// Values per band.
    pub rows: usize,
    /// Bands a pair must collide in to be a candidate.
    pub min_hits: usize,
}

/// P(X >= m) for X ~ Binomial(n, p).
fn binomial_tail(n: usize, p: f64, m: usize) -> f64 {
    if m == 0 {
        return 1.0;
    }
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let mut below = 0.0;
    let mut term = (1.0 - p).powi(n as i32); // P(X = 0)
    for i in 0..m {
        below += term;
        term *= (n - i) as f64 / (i + 1) as f64 * p / (1.0 - p);
    }
    (1.0 - below).clamp(0.0, 1.0)
}

impl Banding {
    /// The probability that a pair of Jaccard similarity `j` becomes a candidate.
    pub fn probability(&self, j: f64) -> f64 {
        binomial_tail(self.bands, j.powi(self.rows as i32), self.min_hits)
    }

    /// The banding for `k` values that minimises false positives below `threshold` plus false
    /// negatives above it (each the integral of the miss probability, weighted equally).
    pub fn optimal(threshold: f64, k: usize) -> Banding {
        const STEPS: usize = 200;
        let integral = |b: &Banding, from: f64, to: f64, positive: bool| -> f64 {
            let dx = (to - from) / STEPS as f64;
            (0..STEPS)
                .map(|i| {
                    let p = b.probability(from + (i as f64 + 0.5) * dx);
                    if positive { p } else { 1.0 - p }
                })
                .sum::<f64>()
                * dx
        };
        let mut best = Banding {
            bands: k,
            rows: 1,
            min_hits: 1,
        };
        let mut best_error = f64::INFINITY;
        for rows in 1..=k.min(32) {
            let bands = k / rows;
            for min_hits in 1..=bands.min(32) {
                let b = Banding {
                    bands,
                    rows,
                    min_hits,
                };
                let error =
                    integral(&b, 0.0, threshold, true) + integral(&b, threshold, 1.0, false);
                if error < best_error - 1e-12 {
                    best_error = error;
                    best = b;
                }
            }
        }
        best
    }

    /// The banding candidates are found with under a match policy, for signatures of `k`
    /// values and a purpose: the one place a banding is derived from a threshold.
    pub fn for_policy(policy: &Policy, k: usize, scan: Scan) -> Banding {
        Banding::optimal(scan.threshold(policy, k), k)
    }

    /// [`Banding::for_policy`] of a configuration's policy and K.
    pub fn for_config(config: &Config, scan: Scan) -> Banding {
        Banding::for_policy(&config.policy(), config.num_hashes, scan)
    }

    /// Every band of a signature with its key ([`Banding::band_key`]), in band order.
    pub fn band_keys<'a>(
        &'a self,
        signature: &'a Signature,
    ) -> impl Iterator<Item = (usize, u64)> + 'a {
        (0..self.bands).map(move |band| (band, self.band_key(signature, band)))
    }

    /// The key of band `band` of a signature (stable: xxh3 of the values' bytes).
    pub fn band_key(&self, signature: &Signature, band: usize) -> u64 {
        let values = &signature.values[band * self.rows..(band + 1) * self.rows];
        // The values' little-endian bytes, on the stack for the usual band sizes.
        let mut stack = [0u8; 4 * 32];
        let mut heap = Vec::new();
        let bytes: &mut [u8] = if values.len() <= 32 {
            &mut stack[..4 * values.len()]
        } else {
            heap.resize(4 * values.len(), 0);
            &mut heap
        };
        for (slot, v) in bytes.chunks_exact_mut(4).zip(values) {
            slot.copy_from_slice(&v.to_le_bytes());
        }
        xxh3_64_with_seed(bytes, band as u64)
    }

    /// Candidate pairs `(i, j)`, `i < j`, sorted: the live documents that share a bucket in at
    /// least `min_hits` bands, a bucket larger than [`MAX_BUCKET`] pairing only its first
    /// document with each other one ([`each_bucket_pair`]). Bands are bucketed by sorting
    /// their keys (no hash map of vectors); then each document counts the later documents it
    /// shares a bucket with, in a table of one counter per document. Memory is the buckets
    /// and a table per thread, never the pairs of every bucket: at the low thresholds of the
    /// defaults (256 one-value bands) these outnumber the documents by thousands to one
    /// (`dedup` of the 20,000-document harness corpus peaked at 630 MB when they were sorted,
    /// 168 MB since). In parallel; the result is the same for any thread count.
    pub fn candidates(&self, signatures: &[Signature]) -> Vec<(u32, u32)> {
        self.weighted_candidates(signatures, None)
            .unwrap_or_else(|| unreachable!("a bucket's rule depends on weights only"))
    }

    /// [`Banding::candidates`] of documents that each stand for `weights[doc]` documents with
    /// the same signature (0: for none, nobody's candidate), as if those were all there:
    /// `None` when a bucket would then be larger than [`MAX_BUCKET`], whose star the group's
    /// other members would not be in.
    pub fn candidates_among(
        &self,
        signatures: &[Signature],
        weights: &[u32],
    ) -> Option<Vec<(u32, u32)>> {
        self.weighted_candidates(signatures, Some(weights))
    }

    fn weighted_candidates(
        &self,
        signatures: &[Signature],
        weights: Option<&[u32]>,
    ) -> Option<Vec<(u32, u32)>> {
        let live: Vec<u32> = (0..signatures.len() as u32)
            .filter(|&i| {
                is_live(&signatures[i as usize]) && weights.is_none_or(|w| w[i as usize] > 0)
            })
            .collect();
        // Bands are taken in groups of up to MAX_GROUP, each keyed in one pass over the
        // signatures: a signature is fetched once per group rather than once per band. The
        // groups differ by a band at most and their number is a multiple of the threads', so
        // that each thread keys and sorts as many bands (the result does not depend on it).
        let threads = rayon::current_num_threads().max(1);
        let jobs = threads * self.bands.div_ceil(threads * MAX_GROUP);
        let groups: Vec<std::ops::Range<usize>> = (0..jobs)
            .map(|j| j * self.bands / jobs..(j + 1) * self.bands / jobs)
            .filter(|bands| !bands.is_empty())
            .collect();
        let grouped: Option<Vec<Vec<BandBuckets>>> = groups
            .into_par_iter()
            .map(|bands| {
                let mut keys: Vec<Vec<(u64, u32)>> = bands
                    .clone()
                    .map(|_| Vec::with_capacity(live.len()))
                    .collect();
                for &i in &live {
                    let signature = &signatures[i as usize];
                    for (band, band_keys) in bands.clone().zip(&mut keys) {
                        band_keys.push((self.band_key(signature, band), i));
                    }
                }
                bands
                    .zip(keys)
                    .map(|(band, keys)| BandBuckets::new(band as u32, keys, weights))
                    .collect()
            })
            .collect();
        let bands: Vec<BandBuckets> = grouped?.into_iter().flatten().collect();
        let counters = Pool::default();
        let docs = signatures.len() as u32;
        let firsts: Vec<u32> = (0..docs).step_by(CANDIDATE_CHUNK).collect();
        let chunks: Vec<Vec<(u32, u32)>> = firsts
            .into_par_iter()
            .map(|first| {
                let range = first..first.saturating_add(CANDIDATE_CHUNK as u32).min(docs);
                let places = ChunkPlaces::new(&bands, range.clone());
                let mut counter = counters.lend(|| PairHits::new(signatures.len()));
                let mut out = Vec::new();
                for doc in range {
                    let later = counter.later(places.of(doc), &bands, self.min_hits);
                    out.extend(later.iter().map(|&other| (doc, other)));
                }
                out
            })
            .collect();
        Some(chunks.concat())
    }

    /// The entries of every band of a live signature, as [`band_entry`] encodes them (none for
    /// the signature of an empty document, which is nobody's candidate).
    pub fn band_entries(&self, signature: &Signature, doc: u32) -> Vec<u128> {
        if !is_live(signature) {
            return Vec::new();
        }
        self.band_keys(signature)
            .map(|(band, key)| band_entry(band, key, doc))
            .collect()
    }
}

/// Bands keyed per pass over the signatures in [`Banding::candidates`], at most: fewer passes
/// fetch each signature fewer times, but more key lists are filled at once (and held: 16
/// bytes per document each).
const MAX_GROUP: usize = 12;

/// Documents per parallel job of [`Banding::candidates`]' counting.
const CANDIDATE_CHUNK: usize = 256;

/// The buckets of one band that hold two documents or more, for [`Banding::candidates`].
struct BandBuckets {
    /// The documents of each bucket of more than two in ascending order, bucket after bucket.
    members: Vec<u32>,
    /// Per member, the end of the members it pairs with, those after it up to there: its
    /// bucket's end, or itself when it pairs with none ([`pairs_with_later`]).
    pairs_until: Vec<u32>,
    /// The places of the documents that pair with a later one (not a bucket's last member,
    /// nor a star's members but the first), sorted by document (each is in one bucket).
    places: Vec<(u32, Place)>,
}

impl BandBuckets {
    /// The buckets of band `band` from its `(key, document)` entries, given in document order;
    /// `None` when a bucket's `weights` make it larger than [`MAX_BUCKET`]
    /// ([`Banding::candidates_among`]).
    fn new(band: u32, mut keys: Vec<(u64, u32)>, weights: Option<&[u32]>) -> Option<BandBuckets> {
        // Equal keys need only be adjacent, in document order: a stable radix sort on the
        // keys' top bytes (a byte more than log₂ of their number) does that but for the rare
        // keys that differ past them, whose runs are then sorted by (key, document).
        let top_bytes = (usize::BITS - keys.len().leading_zeros()).div_ceil(8) + 1;
        let shift = 64 - 8 * top_bytes.min(8);
        radix_sort_by_key(&mut keys, |e| e.0 >> shift);
        for run in keys.chunk_by_mut(|a, b| a.0 >> shift == b.0 >> shift) {
            if run.len() > 1 {
                run.sort_unstable();
            }
        }
        let mut buckets = BandBuckets {
            members: Vec::new(),
            pairs_until: Vec::new(),
            places: Vec::new(),
        };
        for bucket in keys.chunk_by(|a, b| a.0 == b.0) {
            if let Some(weights) = weights {
                let stands_for: u64 = bucket
                    .iter()
                    .map(|&(_, doc)| u64::from(weights[doc as usize]))
                    .sum();
                if stands_for != bucket.len() as u64 && stands_for > MAX_BUCKET as u64 {
                    return None;
                }
            }
            match bucket {
                [_] => {}
                [(_, a), (_, b)] => buckets.places.push((*a, (PAIR, *b))),
                _ => {
                    let start = buckets.members.len() as u32;
                    let end = start + bucket.len() as u32;
                    for (x, &(_, doc)) in bucket.iter().enumerate() {
                        let here = start + x as u32;
                        let pairs = pairs_with_later(bucket.len(), x) && here + 1 < end;
                        if pairs {
                            buckets.places.push((doc, (band, here)));
                        }
                        buckets.members.push(doc);
                        buckets.pairs_until.push(if pairs { end } else { here + 1 });
                    }
                }
            }
        }
        buckets.places.sort_unstable_by_key(|&(doc, _)| doc);
        Some(buckets)
    }

    /// The later documents a document pairs with at its place `x` in this band.
    fn later(&self, x: u32) -> &[u32] {
        &self.members[x as usize + 1..self.pairs_until[x as usize] as usize]
    }

    /// The places of the documents in `docs` ([`BandBuckets::places`]).
    fn places_of(&self, docs: std::ops::Range<u32>) -> &[(u32, Place)] {
        let start = self.places.partition_point(|&(doc, _)| doc < docs.start);
        let end = self.places.partition_point(|&(doc, _)| doc < docs.end);
        &self.places[start..end]
    }
}

/// A document's place in a band: `(band, x)` where `x` is its position among the band's
/// [`BandBuckets::members`], or `(PAIR, other)` in a bucket of two, with its later document.
type Place = (u32, u32);

/// The band of a [`Place`] in a bucket of two.
const PAIR: u32 = u32::MAX;

/// The places of a range of documents in every band, document by document: the bands' lists
/// gathered by a counting sort on the document, which keeps the bands in order.
struct ChunkPlaces {
    /// The range's first document.
    first: u32,
    /// The places of the range's `d`-th document are `places[starts[d]..starts[d + 1]]`.
    starts: Vec<usize>,
    places: Vec<Place>,
}

impl ChunkPlaces {
    /// The places of the documents `docs` in `bands`.
    fn new(bands: &[BandBuckets], docs: std::ops::Range<u32>) -> ChunkPlaces {
        let first = docs.start;
        let lists: Vec<&[(u32, Place)]> = bands
            .iter()
            .map(|band| band.places_of(docs.clone()))
            .collect();
        let mut starts = vec![0usize; docs.len() + 1];
        for &(doc, _) in lists.iter().copied().flatten() {
            starts[(doc - first) as usize + 1] += 1;
        }
        for d in 0..docs.len() {
            starts[d + 1] += starts[d];
        }
        let mut next = starts.clone();
        let mut places = vec![(0, 0); starts[docs.len()]];
        for list in lists {
            for &(doc, place) in list {
                let d = (doc - first) as usize;
                places[next[d]] = place;
                next[d] += 1;
            }
        }
        ChunkPlaces {
            first,
            starts,
            places,
        }
    }

    /// Document `doc`'s places.
    fn of(&self, doc: u32) -> &[Place] {
        let d = (doc - self.first) as usize;
        &self.places[self.starts[d]..self.starts[d + 1]]
    }
}

/// Counts, for one document at a time, the bands it shares with each later document.
struct PairHits {
    /// Per document, the bands counted so far (up to `min_hits`).
    hits: Vec<u16>,
    /// The documents whose count is not zero.
    touched: Vec<u32>,
    /// The documents whose count reached `min_hits`.
    found: Vec<u32>,
}

impl PairHits {
    /// A table for `docs` documents.
    fn new(docs: usize) -> PairHits {
        PairHits {
            hits: vec![0; docs],
            touched: Vec::new(),
            found: Vec::new(),
        }
    }

    /// The later documents that share a bucket with a document in at least `min_hits` of
    /// `bands`, given the document's `places` in them ([`ChunkPlaces::of`]), ascending.
    fn later(&mut self, places: &[Place], bands: &[BandBuckets], min_hits: usize) -> &[u32] {
        // Counts stop at the hits needed (at most one per band, so a `u16` holds them).
        let needed = min_hits.clamp(1, usize::from(u16::MAX)) as u16;
        for &t in &self.touched {
            self.hits[t as usize] = 0;
        }
        self.touched.clear();
        self.found.clear();
        for &(band, x) in places {
            let later = match band {
                PAIR => std::slice::from_ref(&x),
                band => bands[band as usize].later(x),
            };
            for &other in later {
                let hits = &mut self.hits[other as usize];
                if *hits == 0 {
                    self.touched.push(other);
                }
                if *hits < needed {
                    *hits += 1;
                    if *hits == needed {
                        self.found.push(other);
                    }
                }
            }
        }
        self.found.sort_unstable();
        &self.found
    }
}

/// Whether a signature takes part in LSH: an empty document's signature is nobody's candidate.
pub fn is_live(signature: &Signature) -> bool {
    signature.values.first().is_some_and(|&v| v != EMPTY)
}

/// One band of one document as a single sortable number: `band << 96 | key << 32 | doc`, so
/// that sorting entries groups each band's buckets with their members in document order
/// (what [`Banding::candidates`] sorts, band by band), e.g. in runs on disk.
pub fn band_entry(band: usize, key: u64, doc: u32) -> u128 {
    (band as u128) << 96 | (key as u128) << 32 | doc as u128
}

/// The band, key and document of a [`band_entry`].
pub fn split_band_entry(entry: u128) -> (usize, u64, u32) {
    ((entry >> 96) as usize, (entry >> 32) as u64, entry as u32)
}

/// Turns a sorted stream of pair keys (one per band a pair collides in) into the candidate
/// pairs: those seen at least `min_hits` times, in order.
#[derive(Debug)]
pub struct PairCounter {
    min_hits: usize,
    current: Option<u64>,
    hits: usize,
}

impl PairCounter {
    /// A counter for pairs that must collide in `min_hits` bands.
    pub fn new(min_hits: usize) -> PairCounter {
        PairCounter {
            min_hits,
            current: None,
            hits: 0,
        }
    }

    /// Takes the next key (not smaller than the last); returns the previous pair when this
    /// key ends its run and it had enough hits.
    pub fn push(&mut self, key: u64) -> Option<(u32, u32)> {
        if self.current == Some(key) {
            self.hits += 1;
            return None;
        }
        let done = self.finish();
        (self.current, self.hits) = (Some(key), 1);
        done
    }

    /// The last pair, if it had enough hits (the stream is over).
    pub fn finish(&mut self) -> Option<(u32, u32)> {
        let key = self.current.take()?;
        (self.hits >= self.min_hits).then_some(split_pair_key(key))
    }
}

/// Gives the pair key of each pair one bucket yields (each member's document read by `doc`):
/// all pairs, or a star from the first member for a bucket larger than [`MAX_BUCKET`].
pub fn each_bucket_pair<T>(bucket: &[T], doc: impl Fn(&T) -> u32, mut give: impl FnMut(u64)) {
    for (x, a) in bucket.iter().enumerate() {
        if pairs_with_later(bucket.len(), x) {
            let a = doc(a);
            bucket[x + 1..]
                .iter()
                .for_each(|b| give(pair_key(a, doc(b))));
        }
    }
}

/// Whether the member at `x` of a bucket of `len` pairs with the members after it: every
/// member of a bucket of at most [`MAX_BUCKET`], only the first of a larger one (a star).
fn pairs_with_later(len: usize, x: usize) -> bool {
    len <= MAX_BUCKET || x == 0
}

/// The key of a pair: the smaller document in the high half, so keys sort as pairs do.
pub fn pair_key(a: u32, b: u32) -> u64 {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    (lo as u64) << 32 | hi as u64
}

/// The pair `(a, b)`, `a < b`, of a [`pair_key`].
pub fn split_pair_key(key: u64) -> (u32, u32) {
    ((key >> 32) as u32, key as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::Sketcher;
    use proptest::prelude::*;

    #[test]
    fn oversized_buckets_become_stars_from_their_first_member() {
        let mut pairs = Vec::new();
        each_bucket_pair(&[3, 5, 9], |&d| d, |key| pairs.push(split_pair_key(key)));
        assert_eq!(pairs, [(3, 5), (3, 9), (5, 9)]);
        pairs.clear();
        let big: Vec<u32> = (0..MAX_BUCKET as u32 + 1).collect();
        each_bucket_pair(&big, |&d| d, |key| pairs.push(split_pair_key(key)));
        assert_eq!(pairs.len(), MAX_BUCKET);
        assert!(pairs.iter().all(|&(hub, _)| hub == 0));
    }

    #[test]
    fn candidates_pair_an_oversized_bucket_as_a_star() {
        // Every document shares band 0; pairs (2i, 2i + 1) share band 1 too; band 2 is each
        // document's own.
        let docs = MAX_BUCKET as u32 * 2 + 1;
        let signatures: Vec<Signature> = (0..docs)
            .map(|d| Signature {
                values: vec![7, d / 2, 1000 + d],
                weight: 1.0,
            })
            .collect();
        let one_hit = Banding {
            bands: 3,
            rows: 1,
            min_hits: 1,
        };
        let mut expected: Vec<(u32, u32)> = (1..docs).map(|d| (0, d)).collect();
        expected.extend((1..docs / 2).map(|i| (2 * i, 2 * i + 1)));
        expected.sort_unstable();
        assert_eq!(one_hit.candidates(&signatures), expected);
        // Two hits: band 0's star and band 1 meet only in the pair (0, 1).
        let two_hits = Banding {
            min_hits: 2,
            ..one_hit
        };
        assert_eq!(two_hits.candidates(&signatures), [(0, 1)]);
    }

    #[test]
    fn band_keys_hash_the_values_little_endian_bytes() {
        let signature = Signature {
            values: (0..80u32).map(|v| v.wrapping_mul(2_654_435_761)).collect(),
            weight: 1.0,
        };
        for rows in [8, 40] {
            let banding = Banding {
                bands: 2,
                rows,
                min_hits: 1,
            };
            let bytes: Vec<u8> = signature.values[rows..2 * rows]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect();
            assert_eq!(
                banding.band_key(&signature, 1),
                xxh3_64_with_seed(&bytes, 1)
            );
        }
    }

    #[test]
    fn probability_curve_is_an_s_around_the_threshold() {
        for threshold in [0.05, 0.15, 0.5, 0.8, 0.95] {
            let b = Banding::optimal(threshold, 256);
            assert!(b.bands * b.rows <= 256);
            assert!(b.probability(threshold) > 0.2, "{threshold}: {b:?}");
            assert!(
                b.probability((threshold + 1.0) / 2.0) > 0.9,
                "{threshold}: {b:?}"
            );
            assert!(b.probability(threshold / 3.0) < 0.2, "{threshold}: {b:?}");
        }
    }

    #[test]
    fn binomial_tail_matches_a_direct_sum() {
        let (n, p) = (10usize, 0.3f64);
        let choose =
            |n: usize, k: usize| (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64);
        for m in 0..=n {
            let direct: f64 = (m..=n)
                .map(|i| choose(n, i) * p.powi(i as i32) * (1.0 - p).powi((n - i) as i32))
                .sum();
            assert!((binomial_tail(n, p, m) - direct).abs() < 1e-9);
        }
    }

    #[test]
    fn band_entries_sort_by_band_then_key_then_document() {
        let entries = [
            band_entry(1, 5, 0),
            band_entry(0, u64::MAX, 9),
            band_entry(0, 7, 3),
            band_entry(0, 7, 2),
        ];
        let mut sorted = entries;
        sorted.sort_unstable();
        let split: Vec<_> = sorted.iter().map(|&e| split_band_entry(e)).collect();
        assert_eq!(split, [(0, 7, 2), (0, 7, 3), (0, u64::MAX, 9), (1, 5, 0)]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(30))]

        /// Oracle: the streaming counter keeps exactly the keys that occur `min_hits` times
        /// or more in a sorted list, as grouping the list does.
        #[test]
        fn pair_counter_matches_grouping(mut keys in proptest::collection::vec(0u64..20, 0..100), min_hits in 1usize..4) {
            keys.sort_unstable();
            let mut counter = PairCounter::new(min_hits);
            let mut streamed: Vec<(u32, u32)> = keys.iter().filter_map(|&k| counter.push(k)).collect();
            streamed.extend(counter.finish());
            let grouped: Vec<(u32, u32)> = keys
                .chunk_by(|a, b| a == b)
                .filter(|run| run.len() >= min_hits)
                .map(|run| ((run[0] >> 32) as u32, run[0] as u32))
                .collect();
            prop_assert_eq!(streamed, grouped);
        }

        /// Oracle: the sorted-bucket candidates are exactly the pairs that, compared directly,
        /// agree on at least `min_hits` whole bands, in a pool of any size (the bands are
        /// grouped by the pool's threads).
        #[test]
        fn candidates_match_brute_force(seed in any::<u64>(), docs in 2usize..200, rows in 1usize..4, min_hits in 1usize..4, threads in 1usize..5) {
            let sketcher = Sketcher::new(32, seed, 1.0);
            let signatures: Vec<Signature> = (0..docs as u64)
                .map(|d| {
                    // Documents share a growing prefix of a common pool: a spread of similarities.
                    let features: Vec<_> = (0..20u64)
                        .map(|f| if f < d % 20 { (f, 1.0) } else { (seed ^ (d * 1000 + f), 1.0) })
                        .collect();
                    sketcher.sketch(&features)
                })
                .collect();
            let banding = Banding { bands: 32 / rows, rows, min_hits };
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
            let fast = pool.expect("a thread pool").install(|| banding.candidates(&signatures));
            let mut slow = Vec::new();
            for i in 0..docs {
                for j in i + 1..docs {
                    let hits = (0..banding.bands)
                        .filter(|&b| banding.band_key(&signatures[i], b) == banding.band_key(&signatures[j], b))
                        .count();
                    if hits >= min_hits {
                        slow.push((i as u32, j as u32));
                    }
                }
            }
            prop_assert_eq!(fast, slow);
        }
    }
}
