#!/usr/bin/env bash
# Side-by-side: datasketch, rensa, gaoya (pinned, in a venv) and storyprint deduplicating the
# same derived corpus (bench/make_corpus.rs) with word 5-grams, 128 permutations, threshold
# 0.8, one core each (taskset -c 0, -j1). Runs on two twins of the corpus, the Unicode twin
# (70 % of the documents typeset with curly quotes, dashes, non-breaking spaces and accented
# names: make_corpus --unicode 0.7) first, then the ASCII twin. For each, prints a Markdown
# table: signature MB/s (texts already in memory, for every tool; bench/sign_corpus.rs for
# storyprint), end-to-end seconds, peak RSS, precision/recall of verified pairs against exact
# Jaccard, and storyprint's speed ratio to each tool; then the MB/s of storyprint's whole
# signature pass, reading included. Last, the Unicode twin's times over the ASCII twin's for
# storyprint: classic dedup as above, dedup at the defaults (-j1), and signatures.
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

# Peak RSS (KB) and wall seconds of a command in the twin's directory, one core.
measure() {
    local dir=$1 name=$2
    shift 2
    /usr/bin/time -v -o "$dir/$name.time" taskset -c 0 "$@"
}

for twin in unicode ascii; do
    mkdir -p "$WORK/$twin"
    share=0
    [ "$twin" = unicode ] && share=0.7
    target/release/examples/make_corpus --docs "$DOCS" --edit-rate 0.0..0.10 --dup-share 0.2 \
        --unicode "$share" -o "$WORK/$twin/corpus.jsonl"
done
for twin in unicode ascii; do
    for tool in datasketch rensa gaoya; do
        echo "running $tool on the $twin twin..." >&2
        measure "$WORK/$twin" "$tool" "$PY" bench/compare.py run "$tool" \
            "$WORK/$twin/corpus.jsonl" "$WORK/$twin/pairs_$tool.tsv" >"$WORK/$twin/$tool.json"
    done
done
# storyprint on both twins one after the other, so that their ratio sees the same machine.
for twin in unicode ascii; do
    echo "running storyprint on the $twin twin..." >&2
    DIR="$WORK/$twin"
    taskset -c 0 target/release/examples/sign_corpus "$DIR/corpus.jsonl" \
        >"$DIR/storyprint-signatures.json"
    measure "$DIR" storyprint target/release/storyprint dedup "$DIR/corpus.jsonl" \
        -o "$DIR/unique.jsonl" --removed "$DIR/removed.tsv" --pairs "$DIR/pairs_storyprint.tsv" \
        --preset classic --threshold 0.8 --exact -j1 2>"$DIR/storyprint.log"
    measure "$DIR" storyprint-defaults target/release/storyprint dedup "$DIR/corpus.jsonl" \
        -o /dev/null -q -j1
done
for twin in unicode ascii; do
    DIR="$WORK/$twin"
    "$PY" bench/compare.py score "$DIR/corpus.jsonl" "$DIR/corpus.jsonl.truth.tsv" \
        "$DIR"/pairs_{datasketch,rensa,gaoya,storyprint}.tsv >"$DIR/score.json"
    echo "## The $twin twin"
    echo
    "$PY" bench/compare.py table "$DIR"
    echo
done
"$PY" bench/compare.py ratio "$WORK/ascii" "$WORK/unicode"
