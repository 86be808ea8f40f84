//! Shared harness for the integration tests: the real binary, the example corpus the
//! repository ships (`examples/`), and the read-only data in `../shared` (never copied into
//! the repository).
//!
//! Two tiers: a test on `examples/` or on text it writes always runs; a test that reads
//! `../shared` starts with `if without_shared() { return; }`, so that a clone without
//! `../shared` beside it runs the quick tier and passes.

#![allow(dead_code)]

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `storyprint` binary under test.
pub fn storyprint() -> Command {
    let mut cmd = Command::cargo_bin("storyprint").expect("the storyprint binary is built");
    cmd.env_remove("STORYPRINT_INDEX");
    cmd
}

/// The example corpus in `examples/`: invented wire stories and their truth.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// One file of the example corpus.
pub fn example(name: &str) -> PathBuf {
    examples().join(name)
}

/// `../shared`, which CI places beside the repository.
fn shared_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

/// Whether `../shared` is absent, after saying on standard error that the calling test is
/// skipped. Written to the process's standard error rather than through `eprintln!`, which
/// the test harness captures, so that the line shows in `cargo test`'s output.
pub fn without_shared() -> bool {
    if shared_root().is_dir() {
        return false;
    }
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let line = format!("skipped {test}: ../shared is absent beside the repository\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    true
}

/// `../shared/<rel>`; a test calls it only after [`without_shared`].
pub fn shared(rel: &str) -> PathBuf {
    let path = shared_root().join(rel);
    assert!(
        path.exists(),
        "{} is missing: the full tier needs ../shared beside the repository",
        path.display()
    );
    path
}

/// The seeds directory.
pub fn seeds() -> PathBuf {
    shared("seeds")
}

/// Runs a command expecting success, returning stdout.
pub fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the command runs");
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Parses JSON output.
pub fn json_of(cmd: &mut Command) -> serde_json::Value {
    serde_json::from_str(&stdout_of(cmd)).expect("valid JSON output")
}

/// Ids reduced to their 3-digit seed prefix ("000").
pub fn prefix(id: &serde_json::Value) -> String {
    id.as_str()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()[..3]
        .to_string()
}

/// Groups of Reuters ids whose bodies (the text after the title line, as lower-case words
/// joined by single spaces) are identical and longer than 200 characters.
pub fn exact_repeat_groups() -> Vec<Vec<String>> {
    let file = std::fs::File::open(shared("corpora/reuters21578.jsonl.gz")).expect("corpus");
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let mut by_body: HashMap<String, Vec<String>> = HashMap::new();
    for line in reader.lines() {
        let doc: serde_json::Value = serde_json::from_str(&line.expect("line")).expect("JSON");
        let text = doc["text"].as_str().unwrap_or_default();
        let body = text.split_once('\n').map_or("", |(_, b)| b).to_lowercase();
        let words: Vec<&str> = body
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        let key = words.join(" ");
        if key.len() > 200 {
            by_body
                .entry(key)
                .or_default()
                .push(doc["id"].as_str().unwrap_or_default().to_string());
        }
    }
    let mut groups: Vec<Vec<String>> = by_body.into_values().filter(|g| g.len() > 1).collect();
    groups.sort();
    groups
}

/// A deterministic pseudo-random generator (xorshift64*), so every run does the same thing.
pub struct Rng(pub u64);

impl Rng {
    /// The next value.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// `words` pseudo-random words from a 3,000-word made-up vocabulary: text no two calls
    /// share much of, written here rather than cut from ../shared.
    pub fn text(&mut self, words: usize) -> String {
        let syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "bu"];
        (0..words)
            .map(|_| {
                let w = self.below(3000) as usize;
                format!(
                    "{}{}{}{}",
                    syllables[w % 10],
                    syllables[w / 10 % 10],
                    syllables[w / 100 % 10],
                    "x".repeat(w / 1000)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Runs `storyprint dedup INPUTS -o unique.jsonl --removed removed.tsv EXTRA` in `dir`, which
/// must succeed: (unique.jsonl, removed.tsv, stderr).
pub fn dedup(dir: &Path, inputs: &[&Path], extra: &[&str]) -> (String, String, String) {
    let unique = dir.join("unique.jsonl");
    let removed = dir.join("removed.tsv");
    let out = storyprint()
        .arg("dedup")
        .args(inputs)
        .arg("-o")
        .arg(&unique)
        .arg("--removed")
        .arg(&removed)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    (
        std::fs::read_to_string(unique).unwrap(),
        std::fs::read_to_string(removed).unwrap(),
        stderr,
    )
}

/// Runs a Python snippet that uses pyarrow (`.ci/run` installs it) with `args`, which must
/// succeed: its stdout.
pub fn pyarrow<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(script: &str, args: I) -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "pyarrow failed (pip install pyarrow): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
