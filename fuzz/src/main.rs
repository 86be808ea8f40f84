//! The fuzzing binary: `storyprint-fuzz TARGET` runs one target of the library under AFL++
//! (`cargo afl fuzz -i corpus/TARGET -o out target/release/storyprint-fuzz TARGET`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(&(_, target)) = storyprint_fuzz::TARGETS.iter().find(|(n, _)| *n == name) else {
        let names: Vec<&str> = storyprint_fuzz::TARGETS.iter().map(|(n, _)| *n).collect();
        eprintln!("usage: storyprint-fuzz TARGET ({})", names.join(", "));
        return ExitCode::from(2);
    };
    // No panic hook: a damaged index's panic inside the store is caught by `guarded`, as the
    // command catches it; only a panic that escapes a target is a crash.
    afl::fuzz_nohook!(|data: &[u8]| target(data));
    ExitCode::SUCCESS
}
