//! Shared harness for the integration tests: the real binary, a scratch directory, and the
//! read-only data in `../shared` (never copied into the repository).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `storyprint` binary under test.
pub fn storyprint() -> Command {
    let mut cmd = Command::cargo_bin("storyprint").expect("the storyprint binary is built");
    cmd.env_remove("STORYPRINT_INDEX");
    cmd
}

/// `../shared/<rel>`, which CI places beside the repository.
pub fn shared(rel: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel);
    assert!(
        path.exists(),
        "{} is missing: the tests need ../shared beside the repository",
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
