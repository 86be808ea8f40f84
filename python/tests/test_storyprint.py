"""The Python package against the `storyprint` command: the same engine must give the same
answers, errors must be Python exceptions with the command's messages, and work must run
without the GIL."""

import doctest
import gzip
import json
import os
import pydoc
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import storyprint

REUTERS = "corpora/reuters21578.jsonl.gz"


def reuters_records(shared):
    with gzip.open(shared / REUTERS, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_the_seeds_make_one_cluster_of_the_rewrite_pair(shared):
    paths = sorted((shared / "seeds").glob("*.txt"))
    found = storyprint.cluster([p.read_text() for p in paths], ids=[p.name for p in paths])
    members = [sorted(c["members"]) for c in found["clusters"]]
    assert [[m[:3] for m in c] for c in members] == [["000", "003"]]


def test_cluster_gives_the_command_s_json(cli, examples):
    ids, texts = examples
    for options in ({}, {"level": "related"}, {"preset": "classic"}):
        flags = [f"--{k}={v}" for k, v in options.items()]
        expected = json.loads(cli("cluster", "--format", "json", *flags, "examples"))
        assert storyprint.cluster(texts, ids=ids, **options) == expected


def test_pairs_give_the_command_s_jsonl(cli, examples):
    ids, texts = examples
    expected = [json.loads(l) for l in cli("pairs", "--format", "jsonl", "examples").splitlines()]
    assert storyprint.pairs(texts, ids=ids) == expected
    classic = cli("pairs", "--format", "jsonl", "--preset", "classic", "-t", "0.5", "examples")
    expected = [json.loads(l) for l in classic.splitlines()]
    assert storyprint.pairs(texts, ids=ids, preset="classic", threshold=0.5) == expected


def test_matrix_is_a_numpy_array_of_the_command_s_similarities(cli, examples):
    _, texts = examples
    m = storyprint.matrix(texts)
    assert isinstance(m, np.ndarray) and m.dtype == np.float64 and m.shape == (12, 12)
    expected = np.array(json.loads(cli("matrix", "--format", "json", "examples"))["matrix"])
    assert np.allclose(m, expected, atol=5e-5)
    assert np.allclose(m, m.T)


def cli_dedup(cli, tmp_path, inputs, *flags):
    """The command's dedup: (kept ids, removed.tsv lines as removed, kept, similarity)."""
    unique, removed = tmp_path / "unique.jsonl", tmp_path / "removed.tsv"
    cli("dedup", *inputs, "-o", unique, "--removed", removed, *flags)
    kept = [json.loads(line)["id"] for line in unique.read_text().splitlines()]
    lines = removed.read_text().splitlines()[1:]
    return kept, ["\t".join(line.split("\t")[:3]) for line in lines]


def removed_lines(result):
    return [f"{r}\t{k}\t{s:.4f}" for r, k, s in result.removed]


def test_dedup_of_the_examples_equals_the_command_s(cli, examples, tmp_path):
    ids, texts = examples
    kept, removed = cli_dedup(cli, tmp_path, ["examples"])
    result = storyprint.dedup(zip(ids, texts))
    assert (result.kept, removed_lines(result)) == (kept, removed)
    records = [{"name": i, "body": t} for i, t in zip(ids, texts)]
    longest = storyprint.dedup(iter(records), id_field="name", text_field="body", keep="longest")
    kept, removed = cli_dedup(cli, tmp_path, ["examples"], "--keep", "longest")
    assert (longest.kept, removed_lines(longest)) == (kept, removed)


def test_dedup_names_records_by_place_and_reports_skipped_ones():
    story = "the central bank raised its key interest rate by half a point on tuesday"
    result = storyprint.dedup([story, "   ", story, "grain prices fell in may"])
    assert result.kept == ["0", "3"]
    assert result.removed == [("2", "0", 1.0)]
    assert result.skipped == [("1", "empty document; skipped")]


@pytest.mark.parametrize("preset", ["default", "classic"])
def test_dedup_of_reuters_equals_the_command_s(cli, shared, tmp_path, preset):
    kept, removed = cli_dedup(cli, tmp_path, [shared / REUTERS], "--preset", preset)
    result = storyprint.dedup(reuters_records(shared), preset=preset)
    assert result.kept == kept
    assert removed_lines(result) == removed
    assert len(removed) > 100


def cli_signatures(cli, tmp_path, inputs, *flags):
    """The command's signatures file: (its table, its key-value metadata)."""
    out = tmp_path / "sigs.parquet"
    cli("signatures", *inputs, "-o", out, *flags)
    return pq.read_table(out), pq.read_metadata(out).metadata


def assert_same_signatures(batch, written):
    table, metadata = written
    ours = pa.Table.from_batches([batch])
    assert ours.schema.remove_metadata() == table.schema.remove_metadata()
    assert ours.equals(table)
    theirs = {k: v for k, v in metadata.items() if k.startswith(b"storyprint.")}
    assert dict(batch.schema.metadata) == theirs


@pytest.mark.parametrize("preset", ["default", "classic"])
def test_signatures_equal_the_command_s_parquet_bit_for_bit(cli, examples, tmp_path, preset):
    ids, texts = examples
    written = cli_signatures(cli, tmp_path, ["examples"], "--preset", preset)
    batch = storyprint.Fingerprinter(preset=preset).signatures(texts, ids=ids)
    assert isinstance(batch, pa.RecordBatch)
    assert_same_signatures(batch, written)


def test_signatures_of_reuters_equal_the_command_s(cli, shared, tmp_path):
    records = reuters_records(shared)
    written = cli_signatures(cli, tmp_path, [shared / REUTERS])
    batch = storyprint.Fingerprinter().signatures(
        [r["text"] for r in records], ids=[r["id"] for r in records]
    )
    assert_same_signatures(batch, written)


def test_global_frequencies_summed_from_parts_give_the_whole_batch_s_signatures(examples):
    ids, texts = examples
    fp = storyprint.Fingerprinter()
    parts = [fp.frequencies(texts[:5]), fp.frequencies(texts[5:])]
    summed = (
        pa.Table.from_batches([pa.RecordBatch.from_arrays(p.columns, names=p.schema.names) for p in parts])
        .group_by("term")
        .aggregate([("documents", "sum")])
        .rename_columns(["term", "documents"])
        .cast(pa.schema([("term", pa.uint64()), ("documents", pa.uint64())]))
    )
    assert int(parts[0].schema.metadata[b"storyprint.documents"]) == 5
    global_fp = storyprint.Fingerprinter(frequencies=summed, documents=len(texts))
    first = global_fp.signatures(texts[:3], ids=ids[:3])
    whole = fp.signatures(texts, ids=ids)
    assert first.column("signature") == whole.column("signature").slice(0, 3)
    from_metadata = storyprint.Fingerprinter(frequencies=fp.frequencies(texts))
    assert from_metadata.signatures(texts, ids=ids).equals(whole)


def test_similarities_of_rows_are_dedup_s_judgements(cli, examples, tmp_path):
    ids, texts = examples
    # At level related dedup judges by the estimated similarity, as `similarities` does.
    _, removed = cli_dedup(cli, tmp_path, ["examples"], "--level", "related")
    fp = storyprint.Fingerprinter()
    batch = fp.signatures(texts, ids=ids)
    place = {doc: i for i, doc in enumerate(ids)}
    for line in removed:
        a, b, similarity = line.split("\t")
        left = batch.take(pa.array([place[a]]))
        right = batch.take(pa.array([place[b]]))
        assert round(float(fp.similarities(left, right)[0]), 4) == float(similarity)
    same = "The harbour workers' union called a strike at the port of Norvik on Monday."
    assert fp.similarity(same, same) == 1.0


def test_exact_similarities_contrast_and_levels_are_dedup_s_judgements(cli, examples, tmp_path):
    ids, texts = examples
    # Above level related dedup verifies exactly and judges the story score of each pair
    # from the features contrasted with the pair's candidates (here: the pairs dedup lists).
    pairs = tmp_path / "pairs.tsv"
    cli("dedup", "examples", "-o", tmp_path / "unique.jsonl", "--level", "rewrite", "--pairs", pairs)
    listed = [line.split("\t") for line in pairs.read_text().splitlines()[1:]]
    fp = storyprint.Fingerprinter(level="rewrite")
    assert fp.level == "rewrite" and storyprint.Fingerprinter().level == "rewrite"
    assert storyprint._native.DEDUP_LEVEL == "copy"
    features = fp.features(texts).column(0)
    slots = fp.signatures(texts, ids=ids).column("fact_slots")
    place = {doc: i for i, doc in enumerate(ids)}

    def rows(column, docs):
        at = pa.array([place[d] for d in docs])
        return pa.RecordBatch.from_arrays([column.take(at), slots.take(at)], names=["features", "fact_slots"])

    a, b = [p[0] for p in listed], [p[1] for p in listed]
    similarities = fp.exact_similarities(rows(features, a), rows(features, b))
    assert [f"{s:.4f}" for s in similarities] == [p[2] for p in listed]
    # Contrasted with every other document, the strike's rewrites stay above the others.
    others = [[features[j].as_py() for j in range(len(ids)) if j != i] for i in range(len(ids))]
    contrast = pa.RecordBatch.from_arrays(
        [features, pa.array(others, pa.list_(features.type))], names=["features", "neighbours"]
    )
    story = fp.contrasted(contrast).column(0)
    assert len(story) == len(ids) and story[0].as_py() != features[0].as_py()
    scores, levels = fp.levels(rows(story, a), rows(story, b), similarities)
    assert len(scores) == len(listed) and set(levels) <= {"copy", "rewrite", "related"}
    with pytest.raises(ValueError, match="no \"features\" column"):
        fp.exact_similarities(slots_only := pa.RecordBatch.from_arrays([slots], names=["fact_slots"]), slots_only)
    with pytest.raises(ValueError, match="1 similarities for 2 pairs"):
        fp.levels(rows(story, a[:2]), rows(story, b[:2]), [0.5])


def test_the_index_is_the_command_s(cli, examples, tmp_path):
    ids, texts = examples
    path = tmp_path / "index"
    index = storyprint.Index(path)
    wire = ids.index("port-strike-wire.txt")
    assert index.add(ids[wire], texts[wire]) == "new"
    assert index.add(ids[wire], texts[wire]) == "unchanged"
    assert len(index) == 1
    radio = texts[ids.index("port-strike-radio.txt")]
    verdict = index.check(radio)
    assert verdict["duplicate"] and verdict["matches"][0]["id"] == "port-strike-wire.txt"
    assert index.check(texts[wire], id=ids[wire]) == {"duplicate": False, "matches": []}
    del index
    expected = json.loads(cli("check", "--index", path, "--format", "json",
                              "examples/port-strike-radio.txt", check=False))
    assert expected["matches"] == verdict["matches"]
    cli("index", "add", "--index", path, "examples/norvik-results.txt")
    assert len(storyprint.Index(path)) == 2


def test_bad_options_are_value_errors_with_the_command_s_messages(examples):
    _, texts = examples
    with pytest.raises(ValueError, match=r"invalid setting: the threshold must be in \(0, 1\], not 0"):
        storyprint.cluster(texts, threshold=0)
    with pytest.raises(ValueError, match='unknown measure "dice"; one of: jaccard, containment, cosine'):
        storyprint.pairs(texts, measure="dice")
    with pytest.raises(ValueError, match='unknown level "same": copy, rewrite or related'):
        storyprint.cluster(texts, level="same")
    with pytest.raises(ValueError, match='unknown option "colour"'):
        storyprint.matrix(texts, colour=True)
    with pytest.raises(ValueError, match="invalid setting: unknown feature family"):
        storyprint.Fingerprinter(features="grams:3")
    with pytest.raises(ValueError, match="3 ids for 12 texts"):
        storyprint.cluster(texts, ids=["a", "b", "c"])
    with pytest.raises(ValueError, match="text 0 is int, not a str"):
        storyprint.cluster([1, 2])
    with pytest.raises(ValueError, match='keep must be "first" or "longest"'):
        storyprint.dedup(texts, keep="last")
    with pytest.raises(ValueError, match="hashes"):
        storyprint.cluster(texts, hashes="many")


def test_files_that_cannot_be_used_are_os_errors(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("not an index")
    with pytest.raises(OSError, match="it is a file; an index is a directory"):
        storyprint.Index(a_file)
    with pytest.raises(OSError, match=str(tmp_path / "missing")):
        storyprint.dedup(["some text"], temp_dir=str(tmp_path / "missing"))


def test_help_shows_an_example_and_the_examples_run():
    assert "storyprint.cluster(texts" in pydoc.render_doc(storyprint.cluster)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    here = os.getcwd()
    try:
        os.chdir(__import__("tempfile").mkdtemp())
        for test in finder.find(storyprint, globs={"storyprint": storyprint}):
            runner.run(test)
    finally:
        os.chdir(here)
    assert runner.failures == 0 and runner.tries >= 7


GIL_SCRIPT = textwrap.dedent(
    """
    import random, threading, time, storyprint
    rng = random.Random(7)
    words = [f"w{i}" for i in range(3000)]
    texts = [" ".join(rng.choice(words) for _ in range(150)) for _ in range(1500)]
    storyprint.cluster(texts[:50])
    start = time.perf_counter()
    storyprint.cluster(texts); storyprint.cluster(texts)
    sequential = time.perf_counter() - start
    threads = [threading.Thread(target=storyprint.cluster, args=(texts,)) for _ in range(2)]
    start = time.perf_counter()
    for t in threads: t.start()
    for t in threads: t.join()
    print(sequential, time.perf_counter() - start)
    """
)


def test_other_threads_run_python_while_the_engine_works():
    # Deterministic whatever the machine's load: a thread counting in Python while another
    # clusters makes progress only if the engine lets go of the GIL.
    import random
    import threading

    rng = random.Random(3)
    words = [f"w{i}" for i in range(2000)]
    texts = [" ".join(rng.choice(words) for _ in range(120)) for _ in range(800)]
    done = threading.Event()
    counts = []

    def engine():
        storyprint.cluster(texts)
        done.set()

    worker = threading.Thread(target=engine)
    worker.start()
    n = 0
    while not done.is_set():
        n += 1
        if n % 1000 == 0:
            counts.append(n)
    worker.join()
    assert len(counts) > 10, counts


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores")
def test_two_threads_cluster_at_once_faster_than_one_after_the_other():
    # Two free cores are what is measured: on a busy machine the threads cannot run at once,
    # whatever the GIL (the test above holds the GIL's release there).
    if os.getloadavg()[0] > (os.cpu_count() or 1) - 1.5:
        pytest.skip(f"the machine is busy (load average {os.getloadavg()[0]:.1f})")
    # One engine thread per call, so that only the GIL could keep the two calls apart.
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", GIL_SCRIPT], env=env, capture_output=True,
                          text=True, check=True)
    sequential, parallel = map(float, done.stdout.split())
    assert parallel < 0.8 * sequential, (sequential, parallel)
