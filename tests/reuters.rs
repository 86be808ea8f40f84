//! Reuters-21578: the wire repeated itself, and every exact repeat must come out as a duplicate.

mod util;

use std::collections::HashMap;
use std::io::BufRead;

use util::{shared, stdout_of, storyprint};

/// Groups of Reuters ids whose bodies (the text after the title line, as lower-case words
/// joined by single spaces) are identical and longer than 200 characters.
fn exact_repeat_groups() -> Vec<Vec<String>> {
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

#[test]
fn every_exact_repeat_group_is_clustered_at_defaults() {
    let groups = exact_repeat_groups();
    assert_eq!(groups.len(), 336);
    let tsv = stdout_of(
        storyprint()
            .args(["cluster", "--format", "tsv"])
            .arg(shared("corpora/reuters21578.jsonl.gz")),
    );
    let cluster: HashMap<&str, &str> = tsv
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once('\t'))
        .collect();
    assert_eq!(cluster.len(), 21_578);
    let split: Vec<&Vec<String>> = groups
        .iter()
        .filter(|g| {
            g.iter()
                .any(|id| cluster[id.as_str()] != cluster[g[0].as_str()])
        })
        .collect();
    assert!(
        split.is_empty(),
        "exact repeats split across clusters: {split:?}"
    );
}
