//! The dataflow operators the distributed dedup is built of: LSH candidates from band keys in
//! two barriers, connected components by label propagation, and gathering and broadcasting
//! records between workers.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use differential_dataflow::algorithms::graphs::propagate::propagate_at;
use differential_dataflow::{AsCollection as _, VecCollection};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::StreamVec;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::Operator as _;
use timely::dataflow::operators::probe::Handle as Probe;
use timely::dataflow::operators::vec::Broadcast as _;
use timely::dataflow::operators::vec::Input as _;
use timely::dataflow::operators::{Capability, Exchange as _, Inspect as _, Probe as _};
use timely::worker::Worker;

use crate::candidates::CandidateSource;
use crate::hash::mix;
use crate::lsh::{Banding, each_bucket_pair, split_pair_key};

/// Records gathered on worker 0 with their diffs.
pub(super) type Gathered<D> = Rc<RefCell<Vec<(D, isize)>>>;

/// Connected components of undirected `edges`: `(doc, label)` for every document with an
/// edge, the label being the smallest document of its component. Label propagation (each
/// round, every document takes the smallest label among its own and its neighbours'), with
/// labels introduced by magnitude, small ones first ([`propagate_at`]): plain propagation
/// lets every local minimum of a long chain spread and be overwritten again, which on
/// Reuters at the defaults (one component of half the corpus) took 99 s and 4 GB.
pub(super) fn components<'scope>(
    edges: VecCollection<'scope, u32, (u32, u32)>,
) -> VecCollection<'scope, u32, (u32, u32)> {
    let links = edges.flat_map(|(a, b)| [(a, b), (b, a)]);
    let nodes = links.clone().map(|(a, _)| (a, a)).distinct();
    propagate_at(links, nodes, |&label| u64::from(label))
}

/// The workers' exchanged buckets as a candidate source ([`crate::candidates`]): the query is
/// the stream of `((band, band_key), doc)` records, what it finds the collection of
/// candidate pairs.
pub(super) struct Buckets;

impl<'scope> CandidateSource<'scope> for Buckets {
    type Query = StreamVec<'scope, u32, ((u32, u64), u32)>;
    type Found = VecCollection<'scope, u32, (u32, u32)>;

    fn find(&mut self, banding: &Banding, bands: Self::Query) -> Self::Found {
        candidates(bands, banding.min_hits)
    }
}

/// LSH candidates from `((band, band_key), doc)` records: each bucket is gathered on one
/// worker and its pairs are sent on by pair, where the pairs found in at least `min_hits`
/// bands are kept. The same computation as [`Banding::candidates`], in two [`barrier`]s of
/// plain timely: as differential operators (a `reduce` per bucket, then `count`) the pair
/// occurrences were arranged twice with their times and diffs, 4 GB on Reuters at the
/// defaults where `dedup` needs 0.8 GB; held as sorted `u64`s they cost what they cost in
/// `dedup`.
fn candidates<'scope>(
    bands: StreamVec<'scope, u32, ((u32, u64), u32)>,
    min_hits: usize,
) -> VecCollection<'scope, u32, (u32, u32)> {
    let pairs = barrier(
        bands,
        "Buckets",
        |&((band, key), _)| mix(key ^ u64::from(band)),
        |_, mut members, give: &mut dyn FnMut(u64)| {
            members.sort_unstable();
            for bucket in members.chunk_by(|x, y| x.0 == y.0) {
                each_bucket_pair(bucket, |&(_, doc)| doc, &mut *give);
            }
        },
    );
    barrier(
        pairs,
        "Hits",
        |&pair| mix(pair),
        move |time, mut pairs, give: &mut dyn FnMut(((u32, u32), u32, isize))| {
            pairs.sort_unstable();
            for run in pairs.chunk_by(|x, y| x == y) {
                if run.len() >= min_hits {
                    give((split_pair_key(run[0]), time, 1));
                }
            }
        },
    )
    .as_collection()
}

/// Routes `stream` by `route`, holds every record until the input is complete, then hands
/// each time's records to `finish`, which gives the output: a barrier, for steps that need
/// whole groups (a bucket's members, a pair's hits) and hold them more compactly than an
/// arrangement.
pub(super) fn barrier<'scope, D, O>(
    stream: StreamVec<'scope, u32, D>,
    name: &str,
    route: impl Fn(&D) -> u64 + 'static,
    mut finish: impl FnMut(u32, Vec<D>, &mut dyn FnMut(O)) + 'static,
) -> StreamVec<'scope, u32, O>
where
    D: timely::ExchangeData + Clone,
    O: Clone + 'static,
{
    stream.unary_frontier::<CapacityContainerBuilder<Vec<O>>, _, _, _>(
        Exchange::new(move |d: &D| route(d)),
        name,
        |_capability, _info| {
            let mut stash: Vec<(Capability<u32>, Vec<D>)> = Vec::new();
            move |(input, frontier), output| {
                input.for_each_stamp(|cap, data| {
                    if let Some(cap) = cap.retain_least(output.output_index()) {
                        let at = match stash.iter().position(|(c, _)| c.time() == cap.time()) {
                            Some(at) => at,
                            None => {
                                stash.push((cap, Vec::new()));
                                stash.len() - 1
                            }
                        };
                        stash[at].1.extend(data.flat_map(|d| d.drain(..)));
                    }
                });
                stash.retain_mut(|(cap, records)| {
                    if frontier.frontier().less_equal(cap.time()) {
                        return true;
                    }
                    let mut give = output.session(cap);
                    finish(*cap.time(), std::mem::take(records), &mut |o| give.give(o));
                    false
                });
            }
        },
    )
}

/// Sends a collection's updates to worker 0, which keeps them in `into`.
pub(super) fn gather<D: timely::ExchangeData + Clone>(
    stream: timely::dataflow::StreamVec<'_, u32, (D, u32, isize)>,
    into: &Gathered<D>,
    probe: &Probe<u32>,
) {
    let into = Rc::clone(into);
    stream
        .exchange(|_| 0)
        .inspect(move |(data, _time, diff)| into.borrow_mut().push((data.clone(), *diff)))
        .probe_with(probe);
}

/// The records whose updates sum to a positive count, sorted.
pub(super) fn consolidate<D: Ord + Clone>(updates: &[(D, isize)]) -> Vec<D> {
    let mut sums: BTreeMap<&D, isize> = BTreeMap::new();
    for (data, diff) in updates {
        *sums.entry(data).or_insert(0) += diff;
    }
    sums.into_iter()
        .filter(|&(_, sum)| sum > 0)
        .map(|(data, _)| data.clone())
        .collect()
}

/// Sends `items` to every worker; each calls `sink` with every worker's items (in no fixed
/// order, so `sink` must not depend on it).
pub(super) fn all_gather<D: timely::ExchangeData + Clone>(
    worker: &mut Worker,
    items: impl IntoIterator<Item = D>,
    mut sink: impl FnMut(&D) + 'static,
) {
    let probe = Probe::new();
    let mut input = worker.dataflow::<u32, _, _>(|scope| {
        let (input, stream) = scope.new_input::<D>();
        stream
            .broadcast()
            .inspect(move |item| sink(item))
            .probe_with(&probe);
        input
    });
    for item in items {
        input.send(item);
    }
    drop(input);
    worker.step_while(|| !probe.done());
}

#[cfg(test)]
mod tests {
    use differential_dataflow::input::Input as _;

    use super::*;
    use crate::cluster::UnionFind;

    /// Oracle: label propagation in dataflow gives the components union-find gives.
    #[test]
    fn components_match_union_find() {
        for seed in 0..20u64 {
            let n = 60u32;
            let edges: Vec<(u32, u32)> = (0..40u64)
                .map(|i| {
                    let h = crate::hash::mix(seed * 1000 + i);
                    ((h % n as u64) as u32, ((h >> 32) % n as u64) as u32)
                })
                .filter(|(a, b)| a != b)
                .collect();
            let input = edges.clone();
            let labels = timely::execute_directly(move |worker| {
                let labels: Gathered<(u32, u32)> = Rc::default();
                let probe = Probe::new();
                let mut handle = worker.dataflow::<u32, _, _>(|scope| {
                    let (handle, edges) = scope.new_collection::<(u32, u32), isize>();
                    gather(components(edges).inner, &labels, &probe);
                    handle
                });
                for e in input {
                    handle.insert(e);
                }
                drop(handle);
                worker.step_while(|| !probe.done());
                consolidate(&labels.borrow())
            });
            let mut union = UnionFind::new(n as usize);
            for &(a, b) in &edges {
                union.union(a, b);
            }
            let mut smallest: BTreeMap<u32, u32> = BTreeMap::new();
            for &(a, b) in &edges {
                for d in [a, b] {
                    let root = union.find(d);
                    let e = smallest.entry(root).or_insert(d);
                    *e = (*e).min(d);
                }
            }
            let mut expected: Vec<(u32, u32)> = Vec::new();
            for &(a, b) in &edges {
                for d in [a, b] {
                    expected.push((d, smallest[&union.find(d)]));
                }
            }
            expected.sort_unstable();
            expected.dedup();
            assert_eq!(labels, expected, "seed {seed}");
        }
    }
}
