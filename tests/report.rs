//! `storyprint report` on the seeds: the terminal report's evidence, the HTML page's
//! self-containment, and the page rendered in a real browser (headless Chromium).

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use util::{examples, seeds, shared, stdout_of, storyprint, without_shared};

/// The lines of a report section: from the line starting with `start` to the next line
/// starting with `end`.
fn section<'a>(text: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| !l.trim_start().starts_with(start))
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with(end))
        .collect()
}

#[test]
fn seeds_terminal_report_explains_the_rewrite_pair_with_its_shared_facts() {
    if without_shared() {
        return;
    }
    let out = stdout_of(
        storyprint()
            .args(["report", "--color", "never"])
            .arg(seeds()),
    );
    assert!(!out.contains('\x1b'), "no colour when asked: {out}");
    let cluster = section(&out, "cluster 0", "singletons");
    let members: Vec<&str> = cluster
        .iter()
        .filter_map(|l| l.trim_start().trim_start_matches("* ").get(..4))
        .filter(|p| p.ends_with('_'))
        .collect();
    assert_eq!(members, ["000_", "003_"], "{out}");
    assert!(!out.contains("cluster 1 "), "one cluster only: {out}");
    let facts = section(&out, "shared facts", "longest shared passages").join("\n");
    let lower = facts.to_lowercase();
    for fact in [
        "23 political prisoners",
        "three women and 20 men",
        "three were women and 20 were men",
        "extremist orientation",
    ] {
        assert!(lower.contains(fact), "shared facts lack {fact:?}:\n{facts}");
    }
    assert!(
        !section(&out, "longest shared passages", "singletons").is_empty(),
        "{out}"
    );
    let singletons: Vec<&str> = section(&out, "singletons", "1 cluster(s)")
        .iter()
        .map(|l| &l.trim_start()[..3])
        .collect();
    assert_eq!(singletons, ["001", "002", "004"], "{out}");
}

#[test]
fn terminal_report_is_coloured_only_when_asked() {
    let plain = stdout_of(storyprint().arg("report").arg(examples()));
    assert!(!plain.contains('\x1b'), "piped output is plain");
    let coloured = stdout_of(
        storyprint()
            .args(["report", "--color", "always"])
            .arg(examples()),
    );
    assert!(coloured.contains("\x1b[1;32m"), "facts in colour");
    let stripped: String = coloured.split('\x1b').fold(String::new(), |mut s, part| {
        s.push_str(part.split_once('m').map_or(part, |(_, rest)| rest));
        s
    });
    assert_eq!(stripped, plain, "colour changes nothing but colour");
}

/// Writes the seeds' HTML report into a fresh directory, returning (directory, page path).
fn seeds_page() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    stdout_of(
        storyprint()
            .arg("report")
            .arg(seeds())
            .arg("--html")
            .arg(&page),
    );
    (dir, page)
}

/// The page's embedded data block and the page without it.
fn split_data(html: &str) -> (serde_json::Value, String) {
    let open = r#"<script type="application/json" id="data">"#;
    let start = html.find(open).expect("a data block") + open.len();
    let end = start
        + html[start..]
            .find("</script>")
            .expect("the data block ends");
    let json = &html[start..end];
    assert!(!json.contains('<'), "every < in the data is escaped");
    let rest = format!("{}{}", &html[..start], &html[end..]);
    (serde_json::from_str(json).expect("valid JSON data"), rest)
}

#[test]
fn html_report_loads_nothing_from_the_network() {
    if without_shared() {
        return;
    }
    let (_dir, page) = seeds_page();
    let html = std::fs::read_to_string(&page).unwrap();
    let (mut data, rest) = split_data(&html);
    let has_url = |s: &str| s.contains("http://") || s.contains("https://");
    assert!(!has_url(&rest), "a URL outside the data");
    for tag in ["<link", "<img", "<iframe", "@import", "url(", " src="] {
        assert!(!rest.contains(tag), "the page loads a resource: {tag}");
    }
    // The articles' own words (ids, titles, texts) may hold URLs; nothing else may.
    let docs = data["docs"].as_array_mut().unwrap();
    assert_eq!(docs.len(), 5);
    for doc in docs {
        for field in ["id", "title", "text"] {
            doc.as_object_mut().unwrap().remove(field);
        }
    }
    assert!(!has_url(&data.to_string()), "a URL in the data: {data}");
}

#[test]
fn html_report_escapes_text_that_looks_like_markup() {
    let dir = tempfile::tempdir().unwrap();
    let story = "Officials freed 23 political prisoners, three women and 20 men, said <b>Ministry</b> </script><script>alert(1)</script> sources & aides.\n";
    for name in ["a.txt", "b.txt"] {
        std::fs::write(dir.path().join(name), story).unwrap();
    }
    let page = dir.path().join("r.html");
    stdout_of(
        storyprint()
            .arg("report")
            .arg(dir.path().join("a.txt"))
            .arg(dir.path().join("b.txt"))
            .arg("--html")
            .arg(&page),
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches("</script>").count(), 2, "only the page's own");
    let (data, _) = split_data(&html);
    assert!(
        data["docs"][0]["text"]
            .as_str()
            .unwrap()
            .contains("</script><script>alert(1)")
    );
}

/// Runs a command, killing it if it takes longer than `limit`; returns its stdout.
fn run_with_limit(cmd: &mut Command, limit: Duration) -> String {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts (Debian package `chromium`; .ci/run installs it)");
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap());
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium failed: {status}");
            return reader.join().unwrap();
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            panic!("chromium did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Headless Chromium on a page, with a fresh profile and no network services.
fn chromium(page: &Path, profile: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--virtual-time-budget=5000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(format!("file://{}", page.display()));
    cmd
}

#[test]
fn html_report_renders_heatmap_and_highlights_in_headless_chromium() {
    if without_shared() {
        return;
    }
    let (dir, page) = seeds_page();
    let limit = Duration::from_secs(90);
    let dom = run_with_limit(
        &mut chromium(&page, &dir.path().join("profile-dom"), &["--dump-dom"]),
        limit,
    );
    let cells = dom.matches(r#"role="gridcell""#).count();
    assert_eq!(cells, 25, "a 5×5 heatmap drawn by the script");
    assert!(
        dom.contains("000_230738a5742fa5e5.txt × 003_9a187d2a22a8d5d5.txt: 0.251"),
        "cells name the pair and its value"
    );
    assert!(dom.contains(">.251<"), "values as text in the cells");
    // Highlights in the articles carry the ids of their facts and passages.
    let marks: Vec<&str> = dom
        .split("<mark class=\"")
        .skip(1)
        .filter_map(|m| m.split_once("\" data-ref=\"").map(|(class, _)| class))
        .collect();
    let count = |class: &str| {
        marks
            .iter()
            .filter(|m| m.split(' ').any(|c| c == class))
            .count()
    };
    assert!(
        count("fact") >= 8,
        "shared facts highlighted in both articles: {marks:?}"
    );
    assert!(
        count("passage") >= 4,
        "shared passages highlighted: {marks:?}"
    );
    assert!(
        count("quote") >= 2 && count("number") >= 4 && count("name") >= 2,
        "{marks:?}"
    );
    assert!(dom.contains("extremist orientation</mark>"));
    assert!(dom.contains("Clusters (1)") && dom.contains("Singletons (3)"));

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-seeds.png");
    let _ = std::fs::remove_file(&shot);
    run_with_limit(
        &mut chromium(
            &page,
            &dir.path().join("profile-shot"),
            &[
                &format!("--screenshot={}", shot.display()),
                "--window-size=1400,1000",
            ],
        ),
        limit,
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    assert!(
        png.len() > 20_000,
        "a page, not a blank: {} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn reuters_html_report_stays_small_and_embeds_only_what_it_shows() {
    if without_shared() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("reuters.html");
    stdout_of(
        storyprint()
            .arg("report")
            .arg(shared("corpora/reuters21578.jsonl.gz"))
            .arg("--html")
            .arg(&page),
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.len() < 20_000_000, "{} bytes", html.len());
    let (data, _) = split_data(&html);
    let docs = data["docs"].as_array().unwrap();
    assert_eq!(docs.len(), 21_578);
    let heatmap = data["heatmap"]["docs"].as_array().unwrap().len();
    assert_eq!(heatmap, 100, "the heatmap is capped");
    assert_eq!(
        data["heatmap"]["values"].as_array().unwrap().len(),
        heatmap * heatmap
    );
    let clustered = data["clustered"].as_u64().unwrap() as usize;
    let with_text = docs.iter().filter(|d| d.get("text").is_some()).count();
    assert!(clustered > 1000, "Reuters repeats itself: {clustered}");
    assert!(
        (clustered..=clustered + heatmap).contains(&with_text),
        "texts only for clustered and heatmap documents: {with_text} of {clustered}"
    );
    let members: usize = data["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["members"].as_array().unwrap().len() - 1)
        .sum();
    assert_eq!(
        data["pairs"].as_array().unwrap().len(),
        members,
        "one explained pair per member, against its representative"
    );
}
