"""storyprint's signature throughput from Python, timed as bench/sign_corpus.rs times the
command's engine: the corpus's texts read into memory first, then the clock runs while
`Fingerprinter.signatures` makes every row (classic preset; then the defaults, with the
corpus's document frequencies counted first, untimed: once with a fresh analyzer, once more
with the analyzer that has stemmed every word, as sign_corpus.rs times them). One core:

    RAYON_NUM_THREADS=1 taskset -c 0 target/python/bin/python bench/python_signatures.py corpus.jsonl

Prints one JSON line: {"tool": "storyprint-python", "bytes": …, "signature_seconds": …,
"default_signature_seconds": …, "default_fresh_signature_seconds": …}.
"""

import json
import sys
import time

import storyprint


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    texts = [r["text"] for r in records]
    ids = [str(r["id"]) for r in records]
    size = sum(len(t.encode()) for t in texts)
    classic = storyprint.Fingerprinter(preset="classic")
    start = time.perf_counter()
    classic.signatures(texts, ids=ids)
    classic_seconds = time.perf_counter() - start
    frequencies = storyprint.Fingerprinter().frequencies(texts)
    default = storyprint.Fingerprinter(frequencies=frequencies)
    start = time.perf_counter()
    default.signatures(texts, ids=ids)
    fresh_seconds = time.perf_counter() - start
    # Again: its analyzer now has every word stemmed, as dedup's signature pass has.
    start = time.perf_counter()
    default.signatures(texts, ids=ids)
    default_seconds = time.perf_counter() - start
    print(json.dumps({
        "tool": "storyprint-python",
        "bytes": size,
        "signature_seconds": round(classic_seconds, 4),
        "default_signature_seconds": round(default_seconds, 4),
        "default_fresh_signature_seconds": round(fresh_seconds, 4),
    }))


if __name__ == "__main__":
    main()
