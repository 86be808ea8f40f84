//! `check` latency against a 100,000-document index **derived from Reuters-21578**: every
//! Reuters document (`../shared/corpora/reuters21578.jsonl.gz`) and edited copies of it (copy
//! `r` drops every word whose position p has (p + r) % 9 == 0), until 100,000 documents.
//! The queries are 500 Reuters documents edited another way (not in the index): near
//! duplicates of indexed documents, as a re-sent wire story is.
//!
//! The index is built once into `target/bench-check-index` (minutes) and reused (built anew
//! when the default settings changed since). First each
//! query is checked once, as a new story is (redb's page cache cold: the process has not read
//! its pages yet). Criterion then reports the mean and median; the manual loop after it prints
//! p50 and p99 over 2,000 checks. Both loops time wall time and the time the checking thread
//! was on a CPU (`CLOCK_THREAD_CPUTIME_ID`): on a shared machine the difference is mostly time
//! spent waiting for a core. Then the CLI
//! `check` (process start included) is timed over 30 runs on the same index.
//!
//! `cargo bench --bench check`
//!
//! With `STORYPRINT_BENCH_VERDICTS=FILE`, every query's matches (ids and similarities, best
//! first) are also written to FILE, one JSON line per query; with
//! `STORYPRINT_BENCH_COMPARE=FILE` (a file written so by another version, on the same index),
//! the bench prints how many queries get another verdict, another best match (id or
//! similarity), another list of matches, and the matches reported by one version only.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use storyprint::index::{AddOptions, Index, OpenOptions};
use storyprint::input::{Batch, Document, InputOptions};
use storyprint::{Config, Origin};

/// Documents in the index: 100,000 under `cargo bench`; 2,000 when `cargo test
/// --all-targets` (CI) runs the bench once as a test, so CI never builds the big index.
fn documents() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        100_000
    } else {
        2_000
    }
}

/// `text` without the words whose position p has (p + r) % 9 == 0.
fn edited(text: &str, r: usize) -> String {
    text.split(' ')
        .enumerate()
        .filter(|(p, _)| !(p + r).is_multiple_of(9))
        .map(|(_, w)| w)
        .collect::<Vec<_>>()
        .join(" ")
}

fn reuters() -> Vec<Document> {
    let corpus =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/reuters21578.jsonl.gz");
    Batch::read(&[corpus], InputOptions::default()).documents
}

/// Where the index is kept.
fn index_dir() -> PathBuf {
    let documents = documents();
    let name = if documents == 100_000 {
        "target/bench-check-index".to_string()
    } else {
        format!("target/bench-check-index-{documents}")
    };
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// The 100,000-document index, built on first use, and built anew when it was made with other
/// settings than today's defaults.
fn index(reuters: &[Document]) -> Index {
    let documents = documents();
    let open = || Index::open(&index_dir(), &OpenOptions::create(Config::default()));
    let index = match open() {
        Err(storyprint::Error::IncompatibleIndex { message, .. }) => {
            eprintln!("rebuilding the bench index: {message}");
            std::fs::remove_dir_all(index_dir()).expect("remove the old bench index");
            open().expect("index")
        }
        opened => opened.expect("index"),
    };
    let held = index.stats().expect("stats").documents as usize;
    if held < documents {
        let docs: Vec<Document> = (0..)
            .flat_map(|r| {
                reuters.iter().map(move |d| Document {
                    id: format!("{}~{r}", d.id),
                    text: if r == 0 {
                        d.text.clone()
                    } else {
                        edited(&d.text, r)
                    },
                    origin: Origin {
                        path: d.origin.path.clone(),
                        line: d.origin.line,
                    },
                    time: None,
                })
            })
            .take(documents)
            .collect();
        let bulk = AddOptions {
            find_duplicates: false,
            ..AddOptions::now()
        };
        let start = Instant::now();
        for chunk in docs.chunks(5000) {
            index.add(chunk, &bulk).expect("add");
        }
        eprintln!(
            "built the {documents}-document index in {:?}",
            start.elapsed()
        );
    }
    index
}

fn bench_check(c: &mut Criterion) {
    let reuters = reuters();
    let index = index(&reuters);
    let queries: Vec<String> = reuters
        .iter()
        .step_by(reuters.len() / 500)
        .map(|d| edited(&d.text, 4) + " (updated)")
        .collect();
    timed_checks(
        &index,
        queries.iter(),
        "first check of each query (redb's page cache cold),",
    );
    let verdicts_file = std::env::var_os("STORYPRINT_BENCH_VERDICTS");
    let compare_file = std::env::var_os("STORYPRINT_BENCH_COMPARE");
    if verdicts_file.is_some() || compare_file.is_some() {
        // Compared as written (JSON), so that both sides went through the same parsing.
        let lines: Vec<String> = queries
            .iter()
            .map(|query| {
                let matches = index.check(query, None, None).expect("check");
                let verdict: Verdict = matches.into_iter().map(|m| (m.id, m.similarity)).collect();
                serde_json::to_string(&verdict).expect("json")
            })
            .collect();
        let text = lines.join("\n") + "\n";
        if let Some(file) = verdicts_file {
            std::fs::write(&file, &text).expect("verdicts file");
        }
        if let Some(file) = compare_file {
            let earlier = std::fs::read_to_string(&file).expect("verdicts file to compare with");
            eprintln!(
                "{}",
                compare_verdicts(&parse_verdicts(&earlier), &parse_verdicts(&text))
            );
        }
    }
    let mut next = 0;
    c.bench_function("check against 100k Reuters-derived documents", |b| {
        b.iter(|| {
            next = (next + 1) % queries.len();
            index.check(&queries[next], None, None).expect("check")
        })
    });
    timed_checks(&index, queries.iter().cycle().take(2000), "check over");
    drop(index);
    cli_check(&queries[0]);
}

/// A query's matches, best first: (id, similarity).
type Verdict = Vec<(String, f64)>;

/// Verdicts as written, one JSON line per query.
fn parse_verdicts(text: &str) -> Vec<Verdict> {
    text.lines()
        .map(|line| serde_json::from_str(line).expect("a verdicts line"))
        .collect()
}

/// How the verdicts of another version (`earlier`) and this one differ, query by query.
fn compare_verdicts(earlier: &[Verdict], now: &[Verdict]) -> String {
    assert_eq!(earlier.len(), now.len(), "not the same queries");
    let pairs = || earlier.iter().zip(now);
    let count =
        |differ: &dyn Fn(&Verdict, &Verdict) -> bool| pairs().filter(|(a, b)| differ(a, b)).count();
    let only_in = |a: &Verdict, b: &Verdict| -> Vec<f64> {
        a.iter()
            .filter(|(id, _)| !b.iter().any(|(other, _)| other == id))
            .map(|&(_, s)| s)
            .collect()
    };
    let (mut lost, mut gained) = (Vec::new(), Vec::new());
    for (a, b) in pairs() {
        lost.extend(only_in(a, b));
        gained.extend(only_in(b, a));
    }
    let highest = |s: &[f64]| s.iter().copied().fold(0.0, f64::max);
    format!(
        "against the earlier verdicts of {} queries: {} other verdicts, {} other best matches, \
         {} other match lists; {} matches no longer reported (highest similarity {:.3}), \
         {} newly reported (highest {:.3})",
        now.len(),
        count(&|a, b| a.is_empty() != b.is_empty()),
        count(&|a, b| a.first() != b.first()),
        count(&|a, b| a != b),
        lost.len(),
        highest(&lost),
        gained.len(),
        highest(&gained),
    )
}

/// Wall time of the CLI `check` (process start, opening the index, checking, printing) on
/// the same index, over 30 runs of the release binary.
fn cli_check(query: &str) {
    let file =
        std::env::temp_dir().join(format!("storyprint-bench-query-{}.txt", std::process::id()));
    std::fs::write(&file, query).expect("query file");
    let mut times: Vec<Duration> = (0..30)
        .map(|_| {
            let start = Instant::now();
            let status = std::process::Command::new(env!("CARGO_BIN_EXE_storyprint"))
                .arg("check")
                .arg("--index")
                .arg(index_dir())
                .arg(&file)
                .stdout(std::process::Stdio::null())
                .status()
                .expect("storyprint check");
            assert!(matches!(status.code(), Some(0 | 1)), "{status}");
            start.elapsed()
        })
        .collect();
    std::fs::remove_file(&file).expect("remove the query file");
    eprintln!("CLI check, 30 runs: {}", percentiles(&mut times));
}

/// Checks `queries` one by one and prints the percentiles of their wall times and of their
/// times on a CPU.
fn timed_checks<'q>(index: &Index, queries: impl Iterator<Item = &'q String>, what: &str) {
    let mut times: Vec<Duration> = Vec::new();
    let mut on_cpu: Vec<Duration> = Vec::new();
    let mut flagged = 0;
    for query in queries {
        let cpu = cpu_time();
        let start = Instant::now();
        let matches = index.check(query, None, None).expect("check");
        times.push(start.elapsed());
        if let (Some(before), Some(after)) = (cpu, cpu_time()) {
            on_cpu.push(after.saturating_sub(before));
        }
        flagged += usize::from(!matches.is_empty());
    }
    eprintln!(
        "{what} {} queries: wall {}; {flagged} flagged as duplicates",
        times.len(),
        percentiles(&mut times)
    );
    if !on_cpu.is_empty() {
        eprintln!("  on a CPU: {}", percentiles(&mut on_cpu));
    }
}

/// "p50 …, p99 …, max …" of durations.
fn percentiles(times: &mut [Duration]) -> String {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    format!("p50 {:?}, p99 {:?}, max {:?}", at(0.50), at(0.99), at(1.0))
}

/// Time this thread has spent on a CPU (`CLOCK_THREAD_CPUTIME_ID`).
fn cpu_time() -> Option<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    (status == 0).then(|| Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = bench_check
}
criterion_main!(benches);
