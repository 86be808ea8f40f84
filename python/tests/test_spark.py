"""The Spark job (`examples/spark_dedup.py`, PySpark in local mode on two cores) removes
exactly what `storyprint dedup` removes, with the same similarity, story score and level, and
keeps the same records: at the defaults (exact verification and the story score, level
`copy`), at `--level rewrite`, at `--level related` and at the classic preset (the similarity
alone)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("pyspark")

JOB = Path(__file__).resolve().parents[1] / "examples" / "spark_dedup.py"


def spark_dedup(source, out, *flags):
    """Runs the job: (kept lines or rows, removals as removed.tsv lines)."""
    done = subprocess.run(
        [sys.executable, str(JOB), str(source), str(out), "--master", "local[2]", *flags],
        env=dict(os.environ, PYSPARK_PYTHON=sys.executable),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    removals = pq.read_table(out / "removals").to_pylist()
    story = lambda r: "" if r["story"] is None else f"{r['story']:.4f}"  # noqa: E731
    removed = [
        f"{r['removed_id']}\t{r['kept_id']}\t{r['similarity']:.4f}\t{story(r)}\t{r['level'] or ''}"
        for r in removals
    ]
    return out / "kept", removed


def kept_lines(kept):
    return [line for part in sorted(kept.glob("part-*")) for line in part.read_text().splitlines()]


def command_dedup(cli, tmp_path, source, *flags):
    """`storyprint dedup`: (kept lines, removed.tsv's lines)."""
    unique, removed = tmp_path / "unique.jsonl", tmp_path / "removed.tsv"
    cli("dedup", source, "-o", unique, "--removed", removed, *flags)
    return unique.read_text().splitlines(), removed.read_text().splitlines()[1:]


def examples_jsonl(examples, path):
    ids, texts = examples
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in zip(ids, texts)))
    return path


@pytest.mark.parametrize("level, count", [(None, 1), ("rewrite", 3), ("related", 3)])
def test_spark_removes_what_dedup_removes_from_jsonl_at_each_level(cli, examples, tmp_path, level, count):
    source = examples_jsonl(examples, tmp_path / "examples.jsonl")
    flags = ("--level", level) if level else ()
    kept, removed = spark_dedup(source, tmp_path / "out", *flags)
    unique, expected = command_dedup(cli, tmp_path, source, *flags)
    assert removed == expected and len(removed) == count
    assert kept_lines(kept) == unique


def test_spark_removes_what_dedup_removes_from_parquet_at_classic(cli, examples, tmp_path):
    ids, texts = examples
    source = tmp_path / "examples.parquet"
    pq.write_table(pa.table({"id": ids, "text": texts, "n": list(range(len(ids)))}), source,
                   row_group_size=5)
    kept, removed = spark_dedup(source, tmp_path / "out", "--preset", "classic", "--threshold", "0.5")
    unique, expected = command_dedup(cli, tmp_path, source, "--preset", "classic", "-t", "0.5")
    assert removed == expected and len(removed) >= 1
    rows = pq.read_table(kept).to_pylist()
    assert [r["id"] for r in rows] == [json.loads(line)["id"] for line in unique]
    assert [r["n"] for r in rows] == [ids.index(r["id"]) for r in rows]


@pytest.mark.parametrize("preset", ["classic", "default"])
def test_spark_removes_what_dedup_removes_from_reuters(cli, shared, tmp_path, preset):
    source = shared / "corpora" / "reuters21578.jsonl.gz"
    kept, removed = spark_dedup(source, tmp_path / "out", "--preset", preset)
    unique, expected = command_dedup(cli, tmp_path, source, "--preset", preset)
    assert removed == expected and len(removed) > 100
    assert kept_lines(kept) == unique
