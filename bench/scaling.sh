#!/usr/bin/env bash
# Scaling of `storyprint dedup` (classic preset, threshold 0.8, exact verification) on derived
# corpora (bench/make_corpus.rs, built when missing), each size in two twins: the Unicode twin
# (make_corpus --unicode 0.7: 70 % of the documents typeset with curly quotes, dashes,
# non-breaking spaces and accented names) and the ASCII twin. For each, one thread on one
# core and two threads on two cores, printing wall seconds, CPU seconds, peak RSS, bytes per
# document, the two-thread speed-up, the Unicode twin's one-thread wall time over the ASCII
# twin's, and the growth exponent of wall time and memory between consecutive sizes.
#
#   bench/scaling.sh [DOCS...]     (default 100000 1000000; WORK=dir for the corpora,
#                                   default target/scaling)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-target/scaling}
mkdir -p "$WORK"
[ $# -gt 0 ] || set -- 100000 1000000
cargo build --release --quiet --bins --example make_corpus
bin=target/release/storyprint

# Prints "wall cpu rss_kb" of a dedup run with the given thread count, on as many cores (the
# reading and decompressing thread shares them: -j1 is one core, as in bench/compare.sh).
run() {
    local corpus=$1 threads=$2
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" taskset -c "0-$((threads - 1))" \
        "$bin" dedup "$corpus" -o /dev/null --preset classic --threshold 0.8 --exact -q \
        -j "$threads"
    read -r wall user sys rss < "$WORK/time"
    echo "$wall $(echo "$user + $sys" | bc -l) $rss"
}

echo "| documents | twin | text MB | -j1 wall s | -j1 CPU s | -j2 wall s | speed-up | peak RSS MB (-j1) | bytes/doc | Unicode / ASCII (-j1 wall) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
declare -A prev
for docs in "$@"; do
    ascii_wall=""
    for twin in unicode ascii; do
        corpus="$WORK/c$docs-$twin.jsonl.zst"
        share=0
        [ "$twin" = unicode ] && share=0.7
        if [ ! -s "$corpus" ]; then
            target/release/examples/make_corpus --docs "$docs" --edit-rate 0.01..0.10 \
                --unicode "$share" -o "$corpus" >&2
        fi
        mb=$(zstd -dc "$corpus" | wc -c | awk '{printf "%.0f", $1 / 1e6}')
        read -r wall1 cpu1 rss1 < <(run "$corpus" 1)
        read -r wall2 _ _ < <(run "$corpus" 2)
        [ "$twin" = unicode ] && unicode_wall=$wall1 || ascii_wall=$wall1
        ratio=""
        [ -n "$ascii_wall" ] && ratio=$(printf '%.2fx' "$(echo "$unicode_wall / $ascii_wall" | bc -l)")
        printf '| %d | %s | %s | %.2f | %.2f | %.2f | %.2fx | %d | %d | %s |\n' "$docs" "$twin" \
            "$mb" "$wall1" "$cpu1" "$wall2" "$(echo "$wall1 / $wall2" | bc -l)" \
            $((rss1 / 1024)) $((rss1 * 1024 / docs)) "$ratio"
        if [ -n "${prev[$twin]:-}" ]; then
            read -r pdocs pwall prss <<< "${prev[$twin]}"
            echo "growth ($twin) $pdocs -> $docs: time N^$(echo "l($wall1 / $pwall) / l($docs / $pdocs)" | bc -l | cut -c1-4)," \
                "memory N^$(echo "l($rss1 / $prss) / l($docs / $pdocs)" | bc -l | cut -c1-4)" >&2
        fi
        prev[$twin]="$docs $wall1 $rss1"
    done
done
