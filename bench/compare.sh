#!/usr/bin/env bash
# Side-by-side: datasketch, rensa, gaoya (pinned, in a venv) and storyprint deduplicating the
# same derived corpus (bench/make_corpus.rs) with word 5-grams, 128 permutations, threshold
# 0.8, one core each (taskset -c 0, -j1). Prints a Markdown table: signature MB/s (texts
# already in memory, for every tool; bench/sign_corpus.rs for storyprint), end-to-end seconds,
# peak RSS, precision/recall of verified pairs against exact Jaccard, and storyprint's speed
# ratio to each tool; then the MB/s of storyprint's whole signature pass, reading included.
#
#   bench/compare.sh [DOCS]      (default 20000; WORK=dir to place the files, default
#                                 target/compare)
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS=${1:-20000}
WORK=${WORK:-target/compare}
mkdir -p "$WORK"
if [ ! -x "$WORK/venv/bin/python" ]; then
    python3 -m venv "$WORK/venv"
fi
"$WORK/venv/bin/pip" install -q datasketch==1.6.5 rensa==0.5.0 gaoya==0.2.2
PY="$WORK/venv/bin/python"
cargo build --release --quiet --bins --example make_corpus --example sign_corpus
target/release/examples/make_corpus --docs "$DOCS" --edit-rate 0.0..0.10 --dup-share 0.2 \
    -o "$WORK/corpus.jsonl"
CORPUS="$WORK/corpus.jsonl"

# Peak RSS (KB) and wall seconds of a command, one core.
measure() {
    local name=$1
    shift
    /usr/bin/time -v -o "$WORK/$name.time" taskset -c 0 "$@"
}

for tool in datasketch rensa gaoya; do
    echo "running $tool..." >&2
    measure "$tool" "$PY" bench/compare.py run "$tool" "$CORPUS" "$WORK/pairs_$tool.tsv" \
        >"$WORK/$tool.json"
done
echo "running storyprint..." >&2
taskset -c 0 target/release/examples/sign_corpus "$CORPUS" >"$WORK/storyprint-signatures.json"
measure storyprint target/release/storyprint dedup "$CORPUS" -o "$WORK/unique.jsonl" \
    --removed "$WORK/removed.tsv" --pairs "$WORK/pairs_storyprint.tsv" --preset classic \
    --threshold 0.8 --exact -j1 2>"$WORK/storyprint.log"
"$PY" bench/compare.py score "$CORPUS" "$CORPUS.truth.tsv" \
    "$WORK"/pairs_{datasketch,rensa,gaoya,storyprint}.tsv >"$WORK/score.json"
"$PY" bench/compare.py table "$WORK"
