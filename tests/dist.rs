//! The distributed dedup (feature `dist`) against the single-machine one, on the Reuters
//! corpus: the same kept lines and removals, and the same clusters for 1 process, 2 processes
//! x 1 worker and 2 processes x 2 workers on loopback; the workers read the compressed file
//! whole, the plain one in byte ranges, each process its own share.

#![cfg(feature = "dist")]

mod util;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use util::{examples, shared, storyprint, without_shared};

/// A run bounded in time: every child is killed when it is over.
const TIMEOUT: Duration = Duration::from_secs(600);

/// What a run wrote: kept lines, removed.tsv, clusters TSV.
#[derive(Debug, PartialEq, Eq)]
struct Outputs {
    unique: Vec<u8>,
    removed: String,
    clusters: String,
}

fn read(dir: &Path) -> Outputs {
    let clusters = std::fs::read_to_string(dir.join("clusters.tsv")).unwrap_or_default();
    Outputs {
        unique: std::fs::read(dir.join("unique.jsonl")).unwrap(),
        removed: std::fs::read_to_string(dir.join("removed.tsv")).unwrap(),
        clusters,
    }
}

/// The dedup setting (word 5-grams, 128 hashes, Jaccard 0.8): on Reuters the rewrite-tuned
/// defaults chain half the corpus into one component, which is slow to label.
const CLASSIC: [&str; 4] = ["--preset", "classic", "--threshold", "0.8"];

/// A free loopback port: bound, then released.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `-o unique.jsonl --removed removed.tsv` in `dir`.
fn output_args(dir: &Path) -> Vec<String> {
    let path = |name: &str| dir.join(name).display().to_string();
    vec![
        "-o".into(),
        path("unique.jsonl"),
        "--removed".into(),
        path("removed.tsv"),
    ]
}

/// The Reuters corpus decompressed into `dir` (a plain JSONL file is read in byte ranges).
fn plain_reuters(dir: &Path) -> PathBuf {
    let path = dir.join("reuters.jsonl");
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(shared("corpora/reuters21578.jsonl.gz")).unwrap(),
    )
    .read_to_end(&mut text)
    .unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// Waits for every child, killing them all on the first failure or at the timeout; returns
/// each one's standard error.
fn wait_all(mut children: Vec<Child>) -> Vec<String> {
    let started = Instant::now();
    let mut done = vec![false; children.len()];
    while done.iter().any(|d| !d) {
        for (i, child) in children.iter_mut().enumerate() {
            if done[i] {
                continue;
            }
            if let Some(status) = child.try_wait().unwrap() {
                done[i] = true;
                if !status.success() {
                    children.iter_mut().for_each(|c| drop(c.kill()));
                    panic!("process {i} failed: {status}");
                }
            }
        }
        if started.elapsed() > TIMEOUT {
            children.iter_mut().for_each(|c| drop(c.kill()));
            panic!("the distributed run did not finish in {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    children
        .iter_mut()
        .map(|child| {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                pipe.read_to_string(&mut stderr).unwrap();
            }
            stderr
        })
        .collect()
}

/// Runs `storyprint dist` as `processes` processes of `workers` workers on loopback.
fn dist(corpus: &Path, engine: &[&str], processes: usize, workers: usize) -> Outputs {
    dist_reporting(corpus, engine, processes, workers).0
}

/// [`dist`], not quiet: also each process's standard error.
fn dist_reporting(
    corpus: &Path,
    engine: &[&str],
    processes: usize,
    workers: usize,
) -> (Outputs, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let hostfile = dir.path().join("hosts.txt");
    let hosts: Vec<String> = (0..processes)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    std::fs::write(&hostfile, hosts.join("\n") + "\n").unwrap();
    let binary: PathBuf = assert_cmd::cargo::cargo_bin("storyprint");
    let children = (0..processes)
        .map(|process| {
            let mut cmd = Command::new(&binary);
            cmd.arg("dist")
                .arg(corpus)
                .args(output_args(dir.path()))
                .arg("--clusters")
                .arg(dir.path().join("clusters.tsv"))
                .args(engine)
                .args(["--workers", &workers.to_string()])
                .stderr(Stdio::piped());
            if processes > 1 {
                cmd.arg("--hostfile")
                    .arg(&hostfile)
                    .args(["--process", &process.to_string()]);
            }
            cmd.spawn().unwrap()
        })
        .collect();
    let stderr = wait_all(children);
    (read(dir.path()), stderr)
}

/// Runs the single-machine `storyprint dedup`.
fn single(corpus: &Path, engine: &[&str]) -> Outputs {
    let dir = tempfile::tempdir().unwrap();
    storyprint()
        .arg("dedup")
        .arg(corpus)
        .args(output_args(dir.path()))
        .args(engine)
        .arg("--quiet")
        .timeout(TIMEOUT)
        .assert()
        .success();
    read(dir.path())
}

/// Components as sets of member ids, sorted: the canonical form of a cluster assignment.
fn components(clusters: &str) -> Vec<Vec<String>> {
    let mut groups: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for line in clusters.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        groups
            .entry(fields[1])
            .or_default()
            .push(fields[0].to_string());
    }
    let mut out: Vec<Vec<String>> = groups
        .into_values()
        .filter(|g| g.len() > 1)
        .map(|mut g| {
            g.sort();
            g
        })
        .collect();
    out.sort();
    out
}

#[test]
fn reuters_one_and_two_processes_match_single_machine_dedup() {
    if without_shared() {
        return;
    }
    let corpus = shared("corpora/reuters21578.jsonl.gz");
    let reference = single(&corpus, &CLASSIC);
    let one = dist(&corpus, &CLASSIC, 1, 1);
    assert_eq!(one.unique, reference.unique, "kept lines differ from dedup");
    assert_eq!(
        one.removed, reference.removed,
        "removed.tsv differs from dedup"
    );
    let clusters = components(&one.clusters);
    assert!(!clusters.is_empty());
    // Every removal is a verified pair, so both documents are in one component.
    let cluster_of: std::collections::HashMap<&str, &str> = one
        .clusters
        .lines()
        .skip(1)
        .map(|l| (l.split('\t').next().unwrap(), l.split('\t').nth(1).unwrap()))
        .collect();
    for line in one.removed.lines().skip(1) {
        let ids: Vec<&str> = line.split('\t').collect();
        assert_eq!(cluster_of[ids[0]], cluster_of[ids[1]], "{line}");
    }
    let dir = tempfile::tempdir().unwrap();
    let two = dist(&plain_reuters(dir.path()), &CLASSIC, 2, 1);
    assert_eq!(
        two, one,
        "2 processes x 1 worker (byte ranges) differ from 1 process"
    );
    assert_eq!(components(&two.clusters), clusters);
}

#[test]
fn reuters_two_processes_of_two_workers_match_one_process() {
    if without_shared() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let corpus = plain_reuters(dir.path());
    let one = dist(&corpus, &CLASSIC, 1, 3);
    let four = dist(&corpus, &CLASSIC, 2, 2);
    assert_eq!(
        four, one,
        "2 processes x 2 workers differ from 1 process x 3 workers"
    );
    assert_eq!(components(&four.clusters), components(&one.clusters));
}

#[test]
fn idf_weighting_uses_global_frequencies_across_two_processes() {
    if without_shared() {
        return;
    }
    let seeds = shared("seeds");
    // dist judges by the similarity alone: dedup's level related.
    let related = ["--level", "related"];
    let reference = single(&seeds, &related);
    let two = dist(&seeds, &related, 2, 1);
    assert_eq!(two.unique, reference.unique);
    assert_eq!(two.removed, reference.removed);
    assert!(
        reference.removed.lines().count() > 1,
        "the seeds hold duplicates"
    );
}

/// The number after `marker` in `text`.
fn figure_after(text: &str, marker: &str) -> u64 {
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in {text}"))
        + marker.len();
    text[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn each_process_reads_its_own_share_of_the_input() {
    if without_shared() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let corpus = plain_reuters(dir.path());
    let (outputs, stderr) = dist_reporting(&corpus, &CLASSIC, 2, 1);
    let total = figure_after(&stderr[0], "storyprint: ");
    assert_eq!(total, 21578, "{}", stderr[0]);
    let first = figure_after(&stderr[0], "process 0 read ");
    let second = figure_after(&stderr[1], "process 1: read ");
    assert_eq!(first + second, total, "{stderr:?}");
    assert!(
        first.abs_diff(second) < total / 10,
        "the byte ranges are not shared fairly: {first} and {second}"
    );
    assert!(stderr[1].contains("from 1 shard(s)"), "{}", stderr[1]);
    assert!(!outputs.unique.is_empty());
}

#[test]
fn a_hostfile_that_does_not_list_the_process_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let hostfile = dir.path().join("hosts.txt");
    std::fs::write(&hostfile, "127.0.0.1:1\n").unwrap();
    let out = storyprint()
        .arg("dist")
        .arg(examples())
        .arg("-o")
        .arg(dir.path().join("u.jsonl"))
        .arg("--hostfile")
        .arg(&hostfile)
        .args(["--process", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("process 3 is not listed"));
}
