//! `storyprint serve` on a loopback port: the API, its errors (400 to 421), a bounded
//! load of 10,000 mixed requests (one in five an add) from 8 clients, and a clean SIGTERM
//! shutdown.

#![cfg(feature = "serve")]

mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};
use storyprint::index::{Index, OpenOptions};
use util::Rng;

/// A running `storyprint serve` and the address it listens on.
struct Server {
    child: Child,
    addr: SocketAddr,
    /// What it printed up to its address (warnings included).
    banner: String,
}

impl Server {
    fn start(index: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_storyprint"))
            .env_remove("STORYPRINT_INDEX")
            .args(["serve", "--index"])
            .arg(index)
            .args(extra)
            .args(if extra.contains(&"--addr") {
                &[][..]
            } else {
                &["--addr", "127.0.0.1:0"][..]
            })
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut banner = String::new();
        let mut stderr = BufReader::new(child.stderr.as_mut().unwrap());
        // Warnings may come first: the address is on the `serving` line.
        while !line.contains("http://") {
            line.clear();
            if stderr.read_line(&mut line).unwrap() == 0 {
                break;
            }
            banner.push_str(&line);
        }
        let addr = line
            .trim()
            .rsplit("http://")
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Server {
            child,
            addr,
            banner,
        }
    }

    /// Sends SIGTERM and waits: the exit must be clean.
    fn terminate(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?} {stderr}");
        stderr
    }
}

/// One HTTP/1.1 request on its own connection: the status and the body.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> (u16, String) {
    let auth = auth.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    raw_request(addr, method, path, &headers, body)
}

/// One HTTP/1.1 request with these extra header lines (and `Host: localhost:PORT`,
/// `Content-Type: application/json` unless given).
fn raw_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let given = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let mut extra = String::new();
    if !given("Host") {
        extra.push_str(&format!("Host: localhost:{}\r\n", addr.port()));
    }
    if !given("Content-Type") {
        extra.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        extra.push_str(&format!("{name}: {value}\r\n"));
    }
    let head = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n{extra}\r\n",
        body.len()
    );
    // A refused body may be cut short by the server: what matters is its answer.
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response);
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"));
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_string())
}

fn post(addr: SocketAddr, path: &str, body: &Value) -> (u16, Value) {
    let (status, body) = request(addr, "POST", path, None, &body.to_string());
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[test]
fn api_round_trip_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("idx"), &["--max-body-bytes", "2000"]);
    let addr = server.addr;
    let mut rng = Rng(7);
    let story = rng.text(60);
    let (status, body) = post(addr, "/v1/documents", &json!({"id": "s1", "text": story}));
    assert_eq!((status, &body["status"]), (200, &json!("new")), "{body}");
    let (status, body) = post(addr, "/v1/check", &json!({"text": story}));
    assert_eq!(status, 200);
    assert_eq!(body["duplicate"], true);
    assert_eq!(body["matches"][0]["id"], "s1");
    assert_eq!(body["matches"][0]["similarity"], 1.0);
    assert_eq!(body["matches"][0]["level"], "copy", "{body}");
    // A copy is a match at every level; "level" names the lowest that blocks.
    let (_, body) = post(addr, "/v1/check", &json!({"text": story, "level": "copy"}));
    assert_eq!(body["duplicate"], true, "{body}");
    let (status, _) = post(addr, "/v1/check", &json!({"text": story, "level": "same"}));
    assert_eq!(status, 400);
    let (_, body) = post(
        addr,
        "/v1/check",
        &json!({"text": rng.text(60), "id": "s2", "add": true}),
    );
    assert_eq!(
        (&body["duplicate"], &body["added"]),
        (&json!(false), &json!("new")),
        "{body}"
    );
    let (status, body) = request(addr, "GET", "/v1/stats", None, "");
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["documents"],
        2
    );
    assert_eq!(request(addr, "DELETE", "/v1/documents/s1", None, "").0, 200);
    assert_eq!(request(addr, "DELETE", "/v1/documents/s1", None, "").0, 404);
    assert_eq!(request(addr, "GET", "/health", None, "").0, 200);
    let (status, body) = request(addr, "POST", "/v1/check", None, "{\"text\": ");
    assert_eq!(status, 400);
    assert!(body.contains("malformed JSON"), "{body}");
    let (status, body) = post(addr, "/v1/check", &json!({"txt": "typo"}));
    assert_eq!(status, 400, "{body}");
    let (status, _) = post(addr, "/v1/check", &json!({"text": "x", "add": true}));
    assert_eq!(status, 400, "add without an id");
    let (status, _) = post(addr, "/v1/check", &json!({"text": rng.text(500)}));
    assert_eq!(status, 413);
    assert!(server.terminate().contains("shut down cleanly"));
}

/// A server on a fresh index in `dir` that needs the token `s3cret`.
fn token_server(dir: &Path) -> Server {
    let token_file = dir.join("token");
    std::fs::write(&token_file, "s3cret\n").unwrap();
    Server::start(
        &dir.join("idx"),
        &["--token-file", token_file.to_str().unwrap()],
    )
}

#[test]
fn a_token_is_required_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let server = token_server(dir.path());
    let addr = server.addr;
    assert_eq!(request(addr, "GET", "/health", None, "").0, 401);
    assert_eq!(request(addr, "GET", "/v1/stats", Some("wrong"), "").0, 401);
    assert_eq!(request(addr, "GET", "/v1/stats", Some("s3cret"), "").0, 200);
    server.terminate();
}

#[test]
fn finding_13_token_compare_is_exact_and_scheme_case_insensitive() {
    let dir = tempfile::tempdir().unwrap();
    let server = token_server(dir.path());
    let addr = server.addr;
    let status =
        |auth: &str| raw_request(addr, "GET", "/v1/stats", &[("Authorization", auth)], "").0;
    assert_eq!(status("Bearer s3cret"), 200);
    assert_eq!(
        status("bearer s3cret"),
        200,
        "the scheme is case-insensitive"
    );
    assert_eq!(status("BEARER s3cret"), 200);
    assert_eq!(status("Bearer  s3cret"), 401, "a padded token is wrong");
    assert_eq!(status("Bearer s3cret x"), 401);
    assert_eq!(status("Bearer s3cre"), 401, "a prefix is wrong");
    assert_eq!(status("Bearer s3cretX"), 401, "a longer token is wrong");
    assert_eq!(status("Bearer S3CRET"), 401);
    assert_eq!(status("Basic s3cret"), 401);
    assert_eq!(status("s3cret"), 401);
    server.terminate();
}

#[test]
fn finding_12_cross_site_requests_and_foreign_hosts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("idx"), &[]);
    let addr = server.addr;
    let port = addr.port();
    let get = |headers: &[(&str, &str)]| raw_request(addr, "GET", "/v1/stats", headers, "");
    for host in [
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ] {
        assert_eq!(get(&[("Host", &host)]).0, 200, "{host}");
    }
    for host in [
        format!("evil.example:{port}"),
        "localhost".to_string(),
        format!("localhost:{}", port.wrapping_add(1)),
    ] {
        let (status, body) = get(&[("Host", &host)]);
        assert_eq!(status, 421, "{host}: {body}");
        assert!(body.contains("\"error\""), "{body}");
    }
    let same = format!("http://localhost:{port}");
    assert_eq!(get(&[("Origin", &same)]).0, 200);
    assert_eq!(
        get(&[("Origin", &format!("http://127.0.0.1:{port}"))]).0,
        200
    );
    for origin in [
        "http://evil.example",
        "null",
        &format!("http://evil.example:{port}"),
    ] {
        let (status, body) = get(&[("Origin", origin)]);
        assert_eq!(status, 403, "{origin}: {body}");
        assert!(body.contains("\"error\""), "{body}");
    }
    let form = [("Content-Type", "text/plain")];
    let body = json!({"id": "x", "text": "some words here"}).to_string();
    assert_eq!(
        raw_request(addr, "POST", "/v1/documents", &form, &body).0,
        415
    );
    assert_eq!(raw_request(addr, "POST", "/v1/check", &form, &body).0, 415);
    let none = [("Content-Type", "")];
    assert_eq!(raw_request(addr, "POST", "/v1/check", &none, &body).0, 415);
    assert_eq!(
        raw_request(addr, "DELETE", "/v1/documents/x", &form, "x").0,
        415
    );
    let charset = [("Content-Type", "application/json; charset=utf-8")];
    assert_eq!(
        raw_request(addr, "POST", "/v1/documents", &charset, &body).0,
        200
    );
    assert_eq!(
        raw_request(addr, "DELETE", "/v1/documents/x", &[], "").0,
        200
    );
    server.terminate();

    // A non-loopback bind needs a token, or an explicit override with a warning.
    let refused = Command::new(env!("CARGO_BIN_EXE_storyprint"))
        .env_remove("STORYPRINT_INDEX")
        .args(["serve", "--addr", "0.0.0.0:0", "--index"])
        .arg(dir.path().join("idx"))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--allow-remote-without-token"), "{stderr}");
    let server = Server::start(
        &dir.path().join("idx"),
        &["--addr", "0.0.0.0:0", "--allow-remote-without-token"],
    );
    assert!(
        server.banner.contains("warning: serving"),
        "{}",
        server.banner
    );
    let stderr = server.terminate();
    assert!(stderr.contains("shut down cleanly"), "{stderr}");
}

#[test]
fn finding_12_an_unspecified_bind_answers_to_addresses_and_given_names_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &dir.path().join("idx"),
        &[
            "--addr",
            "0.0.0.0:0",
            "--allow-remote-without-token",
            "--host",
            "news.example",
        ],
    );
    let addr = SocketAddr::from(([127, 0, 0, 1], server.addr.port()));
    let port = addr.port();
    let get = |host: &str| raw_request(addr, "GET", "/v1/stats", &[("Host", host)], "").0;
    for host in [
        format!("127.0.0.1:{port}"),
        format!("192.0.2.7:{port}"),
        format!("[::1]:{port}"),
        format!("localhost:{port}"),
        format!("news.example:{port}"),
    ] {
        assert_eq!(get(&host), 200, "{host}");
    }
    for host in [
        format!("evil.example:{port}"),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        "news.example".to_string(),
    ] {
        assert_eq!(get(&host), 421, "{host}");
    }
    let origin = |origin: &str| {
        let host = format!("127.0.0.1:{port}");
        raw_request(
            addr,
            "GET",
            "/v1/stats",
            &[("Host", &host), ("Origin", origin)],
            "",
        )
        .0
    };
    assert_eq!(origin(&format!("http://192.0.2.7:{port}")), 200);
    assert_eq!(origin(&format!("http://evil.example:{port}")), 403);
    server.terminate();
}

#[test]
fn finding_14_ids_over_1024_bytes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("idx");
    let server = Server::start(&index, &[]);
    let addr = server.addr;
    let text = Rng(3).text(40);
    let long = "é".repeat(513);
    let (status, body) = post(addr, "/v1/documents", &json!({"id": long, "text": text}));
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap_or("").contains("1024"),
        "{body}"
    );
    let (status, _) = post(addr, "/v1/check", &json!({"id": long, "text": text}));
    assert_eq!(status, 400);
    let (status, _) = post(
        addr,
        "/v1/check",
        &json!({"id": long, "text": text, "add": true}),
    );
    assert_eq!(status, 400);
    let most = "a".repeat(1024);
    let (status, body) = post(addr, "/v1/documents", &json!({"id": most, "text": text}));
    assert_eq!(status, 200, "{body}");
    let (status, body) = request(
        addr,
        "DELETE",
        &format!("/v1/documents/{}", "a".repeat(1025)),
        None,
        "",
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("1024"), "{body}");
    let (status, body) = request(addr, "DELETE", &format!("/v1/documents/{most}"), None, "");
    assert_eq!(status, 200, "{body}");
    server.terminate();

    // `index add` skips such a document with a warning naming its file and line.
    let corpus = dir.path().join("corpus.jsonl");
    let lines = [
        json!({"id": "ok", "text": Rng(4).text(40)}),
        json!({"id": "b".repeat(1025), "text": Rng(5).text(40)}),
    ];
    std::fs::write(&corpus, format!("{}\n{}\n", lines[0], lines[1])).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_storyprint"))
        .env_remove("STORYPRINT_INDEX")
        .args(["index", "add", "--index"])
        .arg(&index)
        .arg(&corpus)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("corpus.jsonl:2: id of 1025 bytes"),
        "{stderr}"
    );
    let opened = Index::open(&index, &OpenOptions::existing()).unwrap();
    assert!(opened.contains("ok").unwrap());
    assert!(!opened.contains(&"b".repeat(1025)).unwrap());
}

#[test]
fn ten_thousand_mixed_requests_from_eight_clients_lose_nothing() {
    const CLIENTS: u64 = 8;
    const PER_CLIENT: u64 = 1250;
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("idx");
    let server = Server::start(&index, &[]);
    let addr = server.addr;
    let acknowledged = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for client in 0..CLIENTS {
            let acknowledged = &acknowledged;
            scope.spawn(move || {
                let mut rng = Rng(1000 + client);
                let mut mine: Vec<(String, String)> = Vec::new();
                for i in 0..PER_CLIENT {
                    let id = format!("c{client}-{i}");
                    let text = rng.text(40);
                    let (status, body) = match i % 10 {
                        0 => post(addr, "/v1/documents", &json!({"id": id, "text": text})),
                        1 => post(
                            addr,
                            "/v1/check",
                            &json!({"id": id, "text": text, "add": true}),
                        ),
                        // A check of something this client added: must be found.
                        _ if !mine.is_empty() => {
                            let (_, known) = &mine[rng.below(mine.len() as u64) as usize];
                            let (status, body) = post(addr, "/v1/check", &json!({"text": known}));
                            assert_eq!(body["duplicate"], true, "{body}");
                            (status, body)
                        }
                        _ => post(addr, "/v1/check", &json!({"text": text})),
                    };
                    assert_eq!(status, 200, "{body}");
                    let added = body["status"] == "new" || body["added"] == "new";
                    if added {
                        mine.push((id, text));
                    }
                }
                acknowledged
                    .lock()
                    .unwrap()
                    .extend(mine.into_iter().map(|(id, _)| id));
            });
        }
    });
    server.terminate();
    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(acknowledged.len() >= 1500, "{} adds", acknowledged.len());
    let mut opened = Index::open(&index, &OpenOptions::existing()).unwrap();
    for id in &acknowledged {
        assert!(opened.contains(id).unwrap(), "acknowledged add {id} lost");
    }
    assert_eq!(
        opened.check_integrity().unwrap().documents,
        acknowledged.len() as u64
    );
}

/// A connection that sends `head` (and `body`) and then holds the line open.
fn held_connection(addr: SocketAddr, sent: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(sent.as_bytes()).unwrap();
    stream
}

/// The status line a held connection gets within `wait`, or `None` when the server closes it
/// without an answer.
fn answer_within(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut response = Vec::new();
    match stream.read_to_end(&mut response) {
        Ok(_) => {}
        Err(e) if response.is_empty() => panic!("no answer within {wait:?}: {e}"),
        Err(_) => {}
    }
    let response = String::from_utf8_lossy(&response);
    response.lines().next().map(str::to_string)
}

/// Regression: with no header or body timeout and no connection limit, idle connections used
/// up the server's file descriptors and every other request timed out; a `Content-Length`
/// over the limit with a short body got no 413.
#[test]
fn finding_10_idle_connections_do_not_stop_a_normal_client() {
    const IDLE: usize = 500;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &dir.path().join("idx"),
        &[
            "--header-timeout",
            "2",
            "--body-timeout",
            "2",
            "--max-body-bytes",
            "1000",
        ],
    );
    let addr = server.addr;
    let host = format!("Host: localhost:{}\r\n", addr.port());
    // Silent connections, half-sent headers and half-sent bodies.
    let idle: Vec<TcpStream> = (0..IDLE)
        .map(|i| match i % 3 {
            0 => held_connection(addr, ""),
            1 => held_connection(addr, &format!("GET /v1/stats HTTP/1.1\r\n{host}")),
            _ => held_connection(
                addr,
                &format!(
                    "POST /v1/check HTTP/1.1\r\n{host}Content-Type: application/json\r\n\
                     Content-Length: 500\r\n\r\n{{\"text\": "
                ),
            ),
        })
        .collect();
    let text = Rng(11).text(40);
    let mut latencies: Vec<Duration> = (0..200)
        .map(|i| {
            let start = std::time::Instant::now();
            let (status, body) = if i % 2 == 0 {
                request(addr, "GET", "/v1/stats", None, "")
            } else {
                request(
                    addr,
                    "POST",
                    "/v1/check",
                    None,
                    &json!({"text": text}).to_string(),
                )
            };
            assert_eq!(status, 200, "{body}");
            start.elapsed()
        })
        .collect();
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100 - 1];
    let line = format!("normal client beside {IDLE} idle connections: p99 {p99:?}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    assert!(p99 < Duration::from_millis(500), "p99 {p99:?}");

    // The idle connections are closed by their timeouts: silent and half-sent headers without
    // an answer, half-sent bodies with 408.
    for (i, mut stream) in idle.into_iter().enumerate().take(6) {
        let answer = answer_within(&mut stream, Duration::from_secs(10));
        match i % 3 {
            2 => assert!(
                answer.as_deref().is_some_and(|a| a.contains(" 408 ")),
                "{answer:?}"
            ),
            _ => assert_eq!(answer, None),
        }
    }

    // A declared length over the limit is refused before any body is sent.
    let mut stream = held_connection(
        addr,
        &format!(
            "POST /v1/check HTTP/1.1\r\n{host}Content-Type: application/json\r\n\
             Content-Length: 10000000\r\n\r\n"
        ),
    );
    let start = std::time::Instant::now();
    let answer = answer_within(&mut stream, Duration::from_secs(1));
    assert!(
        answer.as_deref().is_some_and(|a| a.contains(" 413 ")),
        "{answer:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(1));
    server.terminate();
}

/// Regression: after SIGTERM, one half-sent request kept the server (and the index lock)
/// alive indefinitely.
#[test]
fn finding_11_sigterm_exits_within_its_deadline_with_a_half_sent_request_open() {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("idx");
    let server = Server::start(
        &index,
        &[
            "--shutdown-deadline",
            "1",
            "--header-timeout",
            "600",
            "--body-timeout",
            "600",
        ],
    );
    let addr = server.addr;
    let host = format!("Host: localhost:{}\r\n", addr.port());
    let _half_head = held_connection(addr, &format!("POST /v1/check HTTP/1.1\r\n{host}"));
    let _half_body = held_connection(
        addr,
        &format!(
            "POST /v1/check HTTP/1.1\r\n{host}Content-Type: application/json\r\n\
             Content-Length: 500\r\n\r\n{{\"text\": "
        ),
    );
    // Both are read by the server before the signal.
    assert_eq!(request(addr, "GET", "/health", None, "").0, 200);
    let start = std::time::Instant::now();
    let stderr = server.terminate();
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "exit after {took:?}: {stderr}"
    );
    assert!(stderr.contains("closed 2 connection(s)"), "{stderr}");
    assert!(stderr.contains("shut down cleanly"), "{stderr}");
    // The index lock is released: another process opens it at once.
    let opened = Index::open(&index, &OpenOptions::existing().waiting(Duration::ZERO));
    assert!(opened.is_ok(), "{opened:?}");
}

/// Beyond `--max-connections`, a client waits to be accepted until an idle connection's
/// header timeout frees a place, then is served.
#[test]
fn finding_10_the_connection_limit_holds_until_idle_ones_time_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &dir.path().join("idx"),
        &["--max-connections", "3", "--header-timeout", "1"],
    );
    let addr = server.addr;
    let _idle: Vec<TcpStream> = (0..3).map(|_| held_connection(addr, "")).collect();
    std::thread::sleep(Duration::from_millis(200));
    let start = std::time::Instant::now();
    assert_eq!(request(addr, "GET", "/health", None, "").0, 200);
    let waited = start.elapsed();
    assert!(
        waited > Duration::from_millis(500),
        "served after {waited:?}"
    );
    server.terminate();
}
