"""Side-by-side harness: one peer tool (datasketch, rensa, gaoya) deduplicating a JSONL corpus
with word 5-grams, 128 permutations, threshold 0.8 — or the scoring of every tool's pairs.

    compare.py run TOOL CORPUS PAIRS_OUT   # prints JSON timings; writes verified pairs (TSV ids)
    compare.py score CORPUS TRUTH PAIRS... # exact Jaccard of the pair union; precision/recall
    compare.py table WORK                  # the Markdown table of a finished run
    compare.py ratio ASCII_WORK UNICODE_WORK  # storyprint's Unicode-twin times over ASCII's

The reference pairs are the pairs with exact Jaccard (same tokenization, word 5-grams) at or
above the threshold among the union of: every pair inside a planted cluster (an original and
all its copies) and every pair any tool reported. All-pairs Jaccard over the corpus is too
slow in Python; a true pair that no tool found and that was not planted (two unrelated
originals that happen to be near-identical) is missed, so recall is an upper bound shared by
all tools, while precision is exact.

Run through bench/compare.sh, which pins versions, one core each, and measures peak RSS.
"""

import json
import re
import sys
import time
from itertools import combinations

K = 128
THRESHOLD = 0.8
BANDS, ROWS = 16, 8  # the same banding for every Python tool: 16 x 8 = 128
WORD = re.compile(r"\w+")


def shingles(text):
    """Lower-cased word 5-grams (one shingle of everything for shorter texts)."""
    words = WORD.findall(text.lower())
    n = min(5, len(words))
    if n == 0:
        return set()
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def read(corpus):
    ids, texts = [], []
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            ids.append(doc["id"])
            texts.append(doc["text"])
    return ids, texts


def sign(tool, texts):
    """Every text's MinHash, made by `tool` as the harness times its signatures: datasketch's
    `MinHash` and rensa's `RMinHash` of the word 5-grams above; gaoya tokenizes, hashes and
    verifies natively (Rust) and exposes no signatures apart from insertion, so its signing is
    the insertion of every text into its index, which is returned."""
    if tool == "datasketch":
        from datasketch import MinHash

        sigs = []
        for text in texts:
            m = MinHash(num_perm=K, seed=1)
            m.update_batch([s.encode() for s in shingles(text)])
            sigs.append(m)
        return sigs
    if tool == "rensa":
        from rensa import RMinHash

        sigs = []
        for text in texts:
            m = RMinHash(num_perm=K, seed=1)
            m.update(list(shingles(text)))
            sigs.append(m)
        return sigs
    if tool == "gaoya":
        from gaoya.minhash import MinHashStringIndex

        index = MinHashStringIndex(
            hash_size=32,
            jaccard_threshold=THRESHOLD,
            num_bands=BANDS,
            band_size=ROWS,
            analyzer="word",
            lowercase=True,
            ngram_range=(5, 5),
        )
        for i, text in enumerate(texts):
            index.insert_document(i, text)
        return index
    sys.exit(f"unknown tool {tool}")


def run(tool, corpus, out):
    started = time.perf_counter()
    ids, texts = read(corpus)
    nbytes = sum(len(t.encode()) for t in texts)
    pairs = set()
    t0 = time.perf_counter()
    sigs = sign(tool, texts)
    sig_seconds = time.perf_counter() - t0
    if tool == "datasketch":
        from datasketch import MinHashLSH

        lsh = MinHashLSH(threshold=THRESHOLD, num_perm=K, params=(BANDS, ROWS))
        for i, m in enumerate(sigs):
            for j in lsh.query(m):
                if sigs[j].jaccard(m) >= THRESHOLD:
                    pairs.add((j, i))
            lsh.insert(i, m)
    elif tool == "rensa":
        from rensa import RMinHashLSH

        lsh = RMinHashLSH(threshold=THRESHOLD, num_perm=K, num_bands=BANDS)
        for i, m in enumerate(sigs):
            for j in lsh.query(m):
                if sigs[j].jaccard(m) >= THRESHOLD:
                    pairs.add((j, i))
            lsh.insert(i, m)
    else:
        for i, text in enumerate(texts):
            for j in sigs.query(text):
                if j != i:
                    pairs.add((min(i, j), max(i, j)))
    total = time.perf_counter() - started
    with open(out, "w") as f:
        for a, b in sorted(pairs):
            f.write(f"{ids[a]}\t{ids[b]}\n")
    print(json.dumps({"tool": tool, "bytes": nbytes, "signature_seconds": sig_seconds,
                      "total_seconds": total, "pairs": len(pairs)}))


def read_pairs(path):
    pairs = set()
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2 and parts[0] not in ("a", "removed_id", "copy_id", "id_a"):
                pairs.add((min(parts[0], parts[1]), max(parts[0], parts[1])))
    return pairs


def score(corpus, truth, pair_files):
    ids, texts = read(corpus)
    index = {d: i for i, d in enumerate(ids)}
    # Planted clusters: an original and all its copies, every pair among them.
    clusters = {}
    with open(truth) as f:
        next(f)
        for line in f:
            copy, original, _ = line.rstrip("\n").split("\t")
            clusters.setdefault(original, [original]).append(copy)
    union = set()
    for members in clusters.values():
        union.update((min(a, b), max(a, b)) for a, b in combinations(members, 2))
    found = {path: read_pairs(path) for path in pair_files}
    for pairs in found.values():
        union |= pairs
    cache = {}

    def sh(d):
        if d not in cache:
            cache[d] = shingles(texts[index[d]])
        return cache[d]

    def jaccard(a, b):
        x, y = sh(a), sh(b)
        return len(x & y) / len(x | y) if x or y else 0.0

    true = {p for p in union if jaccard(*p) >= THRESHOLD}
    result = {"reference_pairs": len(true), "checked_pairs": len(union)}
    for path, pairs in found.items():
        hits = len(pairs & true)
        result[path] = {
            "pairs": len(pairs),
            "precision": hits / len(pairs) if pairs else 1.0,
            "recall": hits / len(true) if true else 1.0,
        }
    print(json.dumps(result))


def peak_and_wall(path):
    rss, wall = 0, 0.0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("Maximum resident set size"):
                rss = int(line.rsplit(":", 1)[1])
            elif line.startswith("Elapsed (wall clock) time"):
                clock = line.split("): ", 1)[1].split(":")
                wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(clock)))
    return rss, wall


def cpu_seconds(path):
    """User + system seconds from a /usr/bin/time -v report."""
    total = 0.0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith(("User time", "System time")):
                total += float(line.rsplit(":", 1)[1])
    return total


def table(work):
    """The Markdown table of a finished run in WORK."""
    score = json.load(open(f"{work}/score.json"))
    rows = {}
    for tool in ("datasketch", "rensa", "gaoya"):
        r = json.load(open(f"{work}/{tool}.json"))
        rows[tool] = (r["bytes"], r["signature_seconds"])
    # The peers' signature time excludes reading the corpus; so does storyprint's, measured by
    # bench/sign_corpus.rs. Its dedup pass, reading and JSON included, is printed apart.
    ours = json.load(open(f"{work}/storyprint-signatures.json"))
    rows["storyprint"] = (ours["bytes"], ours["signature_seconds"])
    log = open(f"{work}/storyprint.log").read()
    pass_mb = float(re.search(r"\(([0-9.]+) MB\)", log).group(1))
    pass_seconds = float(re.search(r"signatures ([0-9.]+) s", log).group(1))
    ours_wall = peak_and_wall(f"{work}/storyprint.time")[1]
    ours_cpu = cpu_seconds(f"{work}/storyprint.time")
    ours_mbs = rows["storyprint"][0] / 1e6 / rows["storyprint"][1]
    print(f"corpus: {rows['storyprint'][0] / 1e6:.1f} MB of text; reference: "
          f"{score['reference_pairs']} pairs with exact Jaccard >= {THRESHOLD} among {score['checked_pairs']} checked\n")
    print("| tool | signatures MB/s (1 core, texts in memory) | end-to-end s (wall) | end-to-end CPU s "
          "| peak RSS MB | precision | recall | storyprint speed-up (signatures / wall / CPU) |")
    print("|---|---|---|---|---|---|---|---|")
    for tool, (nbytes, seconds) in rows.items():
        rss, wall = peak_and_wall(f"{work}/{tool}.time")
        q = score[f"{work}/pairs_{tool}.tsv"]
        mbs = nbytes / 1e6 / seconds
        cpu = cpu_seconds(f"{work}/{tool}.time")
        ratio = (
            "—"
            if tool == "storyprint"
            else f"{ours_mbs / mbs:.1f}x / {wall / ours_wall:.1f}x / {cpu / ours_cpu:.1f}x"
        )
        print(f"| {tool} | {mbs:.1f} | {wall:.2f} | {cpu:.2f} | {rss / 1024:.0f} "
              f"| {q['precision']:.4f} | {q['recall']:.4f} | {ratio} |")
    print(f"\nstoryprint dedup's signature pass, reading the file, JSON and ids included: "
          f"{pass_mb / pass_seconds:.1f} MB/s ({pass_seconds:.2f} s)")
    default_seconds = ours["default_signature_seconds"]
    print(f"storyprint's default signatures (stems, facts, IDF weights, 256 hashes), texts in "
          f"memory, 1 core: {rows['storyprint'][0] / 1e6 / default_seconds:.1f} MB/s "
          f"({default_seconds:.2f} s)")


def ratio(ascii_work, unicode_work):
    """storyprint's times on the Unicode twin over its times on the ASCII twin."""
    print("| storyprint, 1 core | ASCII twin | Unicode twin | Unicode / ASCII |")
    print("|---|---|---|---|")
    for name, label in (("storyprint", "classic dedup (0.8, --exact), wall s"),
                        ("storyprint-defaults", "dedup at the defaults, wall s")):
        a = peak_and_wall(f"{ascii_work}/{name}.time")[1]
        u = peak_and_wall(f"{unicode_work}/{name}.time")[1]
        print(f"| {label} | {a:.2f} | {u:.2f} | {u / a:.2f}x |")
    sigs = [json.load(open(f"{w}/storyprint-signatures.json")) for w in (ascii_work, unicode_work)]
    for key, label in (("signature_seconds", "classic signatures, MB/s"),
                       ("default_signature_seconds", "default signatures, MB/s")):
        a, u = (s["bytes"] / 1e6 / s[key] for s in sigs)
        print(f"| {label} | {a:.1f} | {u:.1f} | {a / u:.2f}x (time per MB) |")


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == "ratio":
        ratio(sys.argv[2], sys.argv[3])
    else:
        table(sys.argv[2])
