#!/usr/bin/env bash
# A crowd of identical short documents: DOCS one-word documents drawn from WORDS distinct
# made-up words (DOCS / WORDS copies of each on average), deduplicated at the default settings
# in memory and spilled under a small budget, printing wall seconds, peak RSS and the megabytes
# spilled. The corpus is the same for the same DOCS and WORDS on any machine.
#
#   bench/crowd.sh [DOCS [WORDS]]   (default 1000000 50000; BIN=the binary, default
#                                    target/release/storyprint; WORK=dir for the corpus and
#                                    outputs, default target/crowd; MEMORY=the spilled run's
#                                    budget in MB, default 64; RUNS=which runs, default
#                                    "memory spilled")
set -euo pipefail
cd "$(dirname "$0")/.."
docs=${1:-1000000}
words=${2:-50000}
BIN=${BIN:-target/release/storyprint}
WORK=${WORK:-target/crowd}
MEMORY=${MEMORY:-64}
RUNS=${RUNS:-memory spilled}
mkdir -p "$WORK/spill"
corpus="$WORK/crowd-$docs-$words.jsonl"
if [ ! -s "$corpus" ]; then
    # MINSTD (exact in awk's doubles); a word is five of ten syllables, so 100,000 at most.
    awk -v docs="$docs" -v words="$words" 'BEGIN {
        split("ka lo mi ne ru sa te vo zi bu", syl, " ")
        x = 12345
        for (i = 0; i < docs; i++) {
            x = (x * 48271) % 2147483647
            w = x % words
            word = ""
            for (s = 0; s < 5; s++) { word = word syl[w % 10 + 1]; w = int(w / 10) }
            printf "{\"id\":\"d%d\",\"text\":\"%s\"}\n", i, word
        }
    }' > "$corpus"
fi

# Prints "wall_s peak_rss_MB spilled_MB" of a dedup run with the given extra flags, its
# outputs in $WORK/NAME.{jsonl,removed,pairs}.
run() {
    local name=$1
    shift
    /usr/bin/time -f '%e %M' -o "$WORK/time" "$BIN" dedup "$corpus" -o "$WORK/$name.jsonl" \
        --removed "$WORK/$name.removed" --pairs "$WORK/$name.pairs" "$@" 2> "$WORK/$name.err"
    read -r wall rss < <(tail -n 1 "$WORK/time")
    spilled=$(sed -n 's/.*; spilled \([0-9.]*\) MB.*/\1/p' "$WORK/$name.err" | tail -1)
    echo "$wall $((rss / 1024)) ${spilled:-0}"
}

echo "| documents | words | run | wall s | peak RSS MB | spilled MB |"
echo "|---|---|---|---|---|---|"
for name in $RUNS; do
    case $name in
        memory) flags=(--memory unlimited) ;;
        spilled) flags=(--memory "$MEMORY" --temp-dir "$WORK/spill") ;;
        *) echo "unknown run $name" >&2; exit 2 ;;
    esac
    echo "| $docs | $words | ${flags[*]:0:2} | $(run "$name" "${flags[@]}" | sed 's/ / | /g') |"
done
