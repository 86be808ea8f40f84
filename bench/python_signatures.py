"""storyprint's signature throughput from Python, timed as bench/sign_corpus.rs times the
command's engine, beside the peers signing the same texts from Python: the corpus's texts read
into memory first, then the clock runs while `Fingerprinter.signatures` makes every row
(classic preset, twice: the first call also pays for the extension's fresh heap, which reading
the corpus has already grown in sign_corpus's process, so the second, as a job signing batch
after batch runs, is the one to compare; then the defaults, with the corpus's document
frequencies counted first, untimed: once with a fresh analyzer, once more with the analyzer
that has stemmed every word, as sign_corpus.rs times them). With --peers, datasketch, rensa
and gaoya then sign the same texts as bench/compare.py has them sign (word 5-grams, 128
permutations; their versions pinned by bench/compare.sh, installed in this python). One core:

    RAYON_NUM_THREADS=1 taskset -c 0 target/python/bin/python bench/python_signatures.py \
        corpus.jsonl [--peers]

Prints one JSON line per tool, seconds of wall time and (`*_cpu_seconds`) of the process's
CPU time, which a loaded machine inflates less: {"tool": "storyprint-python", "bytes": …,
"signature_seconds": …, "first_signature_seconds": …, "default_signature_seconds": …,
"default_fresh_signature_seconds": …, and the `_cpu_` twins}, then {"tool": PEER,
"bytes": …, "signature_seconds": …, "signature_cpu_seconds": …} for each peer.
"""

import json
import sys
import time

import storyprint

from compare import sign


def timed(work):
    """(wall seconds, CPU seconds) of `work()`."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def report(tool, size, **seconds):
    """One JSON line: the tool, the bytes signed, and each (wall, CPU) pair of seconds."""
    line = {"tool": tool, "bytes": size}
    for key, (wall, cpu) in seconds.items():
        line[f"{key}_seconds"] = round(wall, 4)
        line[f"{key}_cpu_seconds"] = round(cpu, 4)
    print(json.dumps(line), flush=True)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    texts = [r["text"] for r in records]
    ids = [str(r["id"]) for r in records]
    size = sum(len(t.encode()) for t in texts)
    classic = storyprint.Fingerprinter(preset="classic")
    first_seconds = timed(lambda: classic.signatures(texts, ids=ids))
    classic_seconds = timed(lambda: classic.signatures(texts, ids=ids))
    frequencies = storyprint.Fingerprinter().frequencies(texts)
    default = storyprint.Fingerprinter(frequencies=frequencies)
    fresh_seconds = timed(lambda: default.signatures(texts, ids=ids))
    # Again: its analyzer now has every word stemmed, as dedup's signature pass has.
    default_seconds = timed(lambda: default.signatures(texts, ids=ids))
    report("storyprint-python", size, signature=classic_seconds, first_signature=first_seconds,
           default_signature=default_seconds, default_fresh_signature=fresh_seconds)
    if "--peers" in sys.argv[2:]:
        for tool in ("datasketch", "rensa", "gaoya"):
            report(tool, size, signature=timed(lambda: sign(tool, texts)))


if __name__ == "__main__":
    main()
