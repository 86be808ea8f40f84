//! The `storyprint` command: a thin layer over the library.

mod cli;

/// The command's allocator. `dedup` allocates each line on the reading thread and frees it on
/// the one that parsed it; glibc's allocator serialises such frees on its arena lock, where
/// mimalloc's per-thread heaps take them without contention. Measured on `bench/scaling.sh`'s
/// 1 M-document corpus (classic preset, `--exact`) against the same commit built with
/// `--no-default-features`: 16.3 → 12.0 s on two threads, 27.1 → 20.8 s on one, the same peak
/// memory; small runs hold a few tens of MB more. It is built without transparent huge pages
/// (the `no_thp` feature): the kernel zeroes a whole 2 MB page at the first touch of any of
/// it, which on the same corpus took 2.1 of the 13.4 s on one core (system time; 0.6 s
/// without), so one core is 13.4 → 12.1 s and two are 7.28 → 6.78 s (means of three
/// alternating runs), at 3 % less peak memory.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
