"""`storyprint dedup` as a PySpark job: the same removals, computed by Spark.

    python spark_dedup.py INPUT OUTPUT [--threshold T] [--preset classic]
                          [--level copy|rewrite|related] [--master local[2]]
    spark-submit --master URL spark_dedup.py INPUT OUTPUT ...          (on a cluster)

INPUT is a JSONL file (plain or .gz), a Parquet file, or a directory of them (walked in
sorted order, as the command walks it); documents are numbered in input order. Then:

1. document frequencies (IDF weighting only): each partition counts its texts' terms with
   `Fingerprinter.frequencies`, Spark sums them, and every worker weighs with the global table;
2. signatures with `Fingerprinter.signatures` in `mapInArrow`;
3. candidates by joining documents on their band keys (a bucket of more than 256 documents
   pairs its first document with the others only, as the library does), kept when they collide
   in at least `min_hits` bands;
4. verification, the judgement `storyprint dedup` makes: at `--level related` (and at the
   classic preset) by the similarity estimated from the signatures
   (`Fingerprinter.similarities`); above it (the defaults: `copy`) exactly, from the feature
   sets (`Fingerprinter.features`, `exact_similarities`), and then each verified pair's story
   score and level: each document in a verified pair has its features contrasted with those of
   every document it is a candidate pair with (`contrasted`), and a pair counts when its level
   (`levels`) is the one asked or above;
5. connected components of the verified pairs by label propagation, and in each component the
   keep rule of `dedup --keep first`: a document is removed when it has a verified pair with a
   document already kept, in favour of the most similar one (ties: the earlier).

OUTPUT gets `kept/` (the kept records in input order: the original lines of JSONL input, the
original rows of Parquet input) and `removals/` (Parquet: `removed_id`, `kept_id`,
`similarity`, and above `related` the pair's `story` score and `level`). Documents without features (only punctuation or stop words) are kept: the
command's pairing of their copies by normalized text is not done here.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from pyspark import SparkConf
from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StructField, StructType

import storyprint
from storyprint import _native

# What the command's reader skips: documents over 16 MiB (its --max-doc-bytes default).
MAX_DOC_BYTES = 16 * 1024 * 1024

# A bucket larger than this pairs its first document with the others only (the library's
# `lsh::MAX_BUCKET`): a value thousands of documents share is boilerplate.
MAX_BUCKET = 256

SIGNATURES = (
    "doc long, signature array<long>, weight double, band_keys array<long>, "
    "fact_slots array<struct<context:long,number:long>>"
)


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--threshold", "-t", type=float)
    parser.add_argument("--preset", choices=["default", "classic"])
    parser.add_argument(
        "--level",
        choices=["copy", "rewrite", "related"],
        help="the lowest level removed (default: dedup's, copy; related at the classic preset)",
    )
    parser.add_argument("--id-field", default="id")
    parser.add_argument("--text-field", default="text")
    parser.add_argument("--master", help="Spark master (default: spark-submit's, else local[*])")
    return parser.parse_args()


def input_files(path):
    """The files the command reads for `path`: a file, or a directory walked in sorted order."""
    path = Path(path)
    if not path.is_dir():
        return [path]
    found = []
    for entry in sorted(path.iterdir()):
        if entry.is_dir():
            found.extend(input_files(entry))
        elif entry.name.lower().endswith((".jsonl", ".jsonl.gz", ".ndjson", ".parquet")):
            found.append(entry)
    return found


def a_document(text):
    """Whether the command reads `text` as a document (not empty, not over the limit)."""
    return isinstance(text, str) and text.strip() != "" and len(text.encode()) <= MAX_DOC_BYTES


def jsonl_records(spark, files, id_field, text_field):
    """(line, id, text) of every document line, in input order."""

    def parse(name):
        def record(numbered):
            line, number = numbered
            try:
                value = json.loads(line)
            except ValueError:
                return []
            if not isinstance(value, dict) or not a_document(value.get(text_field)):
                return []
            doc_id = value.get(id_field)
            if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int, float)):
                doc_id = f"{name}:{number + 1}"
            return [(line, str(doc_id), value[text_field])]

        return record

    rdds = [
        spark.sparkContext.textFile(str(f)).zipWithIndex().flatMap(parse(f.name)) for f in files
    ]
    return spark.sparkContext.union(rdds)


def parquet_records(spark, files, id_field, text_field):
    """(row, id, text) of every document row, in input order, and the rows' schema."""
    frames = [spark.read.parquet(str(f)) for f in files]

    def parse(name):
        def record(numbered):
            row, number = numbered
            text = row[text_field] if text_field in row else None
            if not a_document(text):
                return []
            doc_id = row[id_field] if id_field in row else None
            doc_id = f"{name}:{number + 1}" if doc_id is None else str(doc_id)
            return [(row, doc_id, text)]

        return record

    rdds = [frame.rdd.zipWithIndex().flatMap(parse(f.name)) for f, frame in zip(files, frames)]
    return spark.sparkContext.union(rdds), frames[0].schema


def numbered(records):
    """(doc, id, text, record): the records numbered in input order."""
    return records.zipWithIndex().map(lambda r: (r[1], r[0][1], r[0][2], r[0][0]))


def unique_ids(docs):
    """Repeated ids renamed `id#2`, `id#3`… in input order, as the command renames them."""
    rank = F.row_number().over(Window.partitionBy("given").orderBy("doc"))
    renamed = F.concat_ws("#", F.col("given"), rank.cast("string"))
    return (
        docs.withColumnRenamed("id", "given")
        .withColumn("id", F.when(rank == 1, F.col("given")).otherwise(renamed))
        .drop("given")
    )


def signed(column, to):
    """An Arrow column cast bit for bit to Spark's signed types (or back)."""
    return pc.cast(column, to, safe=False)


SPARK_TYPES = {
    "signature": pa.list_(pa.int64()),
    "band_keys": pa.list_(pa.int64()),
    "fact_slots": pa.list_(pa.struct([("context", pa.int64()), ("number", pa.int64())])),
    "features": pa.list_(pa.struct([("hash", pa.int64()), ("weight", pa.float64())])),
}
ARROW_TYPES = {
    "signature": pa.list_(pa.uint32()),
    "band_keys": pa.list_(pa.uint64()),
    "fact_slots": pa.list_(pa.struct([("context", pa.uint64()), ("number", pa.uint64())])),
    "features": pa.list_(pa.struct([("hash", pa.uint64()), ("weight", pa.float64())])),
}
FEATURES = "array<struct<hash:long,weight:double>>"
# The levels, from the least alike.
LEVELS = ["related", "rewrite", "copy"]


def rows_of(batch, columns, side=None):
    """A batch of `columns` of `batch` (named `NAME_side` there), cast back to the library's
    unsigned types, for the Fingerprinter."""
    name = (lambda c: f"{c}_{side}") if side else (lambda c: c)
    return pa.RecordBatch.from_arrays(
        [signed(batch.column(name(c)), ARROW_TYPES[c]) for c in columns], names=list(columns)
    )


def judged_levels(signatures, candidates, edges, sides, worker_fingerprinter, level):
    """The verified pairs `edges` whose level is `level` or above, with their story score and
    level: each document in a verified pair gets its features contrasted with those of every
    document it is a candidate pair with, as dedup contrasts them."""
    involved = edges.select(F.col("a").alias("doc")).union(edges.select(F.col("b").alias("doc"))).distinct()
    near = candidates.union(candidates.select(F.col("b").alias("a"), F.col("a").alias("b")))
    neighbours = (
        near.join(involved.withColumnRenamed("doc", "a"), "a")
        .join(signatures.select(F.col("doc").alias("b"), F.col("features").alias("other")), "b")
        .groupBy("a")
        .agg(F.collect_list("other").alias("neighbours"))
        .join(signatures.select(F.col("doc").alias("a"), "features", "fact_slots"), "a")
    )
    neighbour_types = {"neighbours": pa.list_(ARROW_TYPES["features"]), **ARROW_TYPES}

    def contrast(batches):
        local = worker_fingerprinter()
        for batch in batches:
            rows = pa.RecordBatch.from_arrays(
                [signed(batch.column(c), neighbour_types[c]) for c in ("features", "neighbours")],
                names=["features", "neighbours"],
            )
            story = local.contrasted(rows).column(0)
            yield pa.RecordBatch.from_arrays(
                [batch.column("a"), signed(story, SPARK_TYPES["features"]), batch.column("fact_slots")],
                names=["doc", "features", "fact_slots"],
            )

    contrasted = neighbours.mapInArrow(
        contrast, f"doc long, features {FEATURES}, fact_slots {SIGNATURES.split('fact_slots ')[1]}"
    ).localCheckpoint()
    lowest = LEVELS.index(level)

    def judge(batches):
        local = worker_fingerprinter()
        for batch in batches:
            left, right = (rows_of(batch, ["features", "fact_slots"], s) for s in "ab")
            stories, levels = local.levels(left, right, batch.column("similarity").to_pylist())
            counted = pa.array([lv is not None and LEVELS.index(lv) >= lowest for lv in levels])
            yield pa.RecordBatch.from_arrays(
                [
                    batch.column("a").filter(counted),
                    batch.column("b").filter(counted),
                    batch.column("similarity").filter(counted),
                    pa.array(stories).filter(counted),
                    pa.array(levels, pa.string()).filter(counted),
                ],
                names=["a", "b", "similarity", "story", "level"],
            )

    return (
        sides(contrasted, ["features", "fact_slots"])(edges)
        .mapInArrow(judge, "a long, b long, similarity double, story double, level string")
        .localCheckpoint()
    )


def main():
    args = arguments()
    started = time.perf_counter()
    level = args.level or (None if args.preset == "classic" else _native.DEDUP_LEVEL)
    options = {"preset": args.preset, "threshold": args.threshold, "level": level}
    fingerprinter = storyprint.Fingerprinter(**options)
    # Above `related`, dedup verifies exactly and judges each pair's level.
    judging = fingerprinter.level != "related"
    metadata = fingerprinter.metadata
    threshold = float(metadata["storyprint.threshold"])
    min_hits = int(metadata["storyprint.min_hits"])
    idf = "weighting=Idf" in metadata["storyprint.features"]

    # One engine thread per Spark task: Spark runs as many tasks as it has cores.
    os.environ.setdefault("RAYON_NUM_THREADS", "1")
    conf = SparkConf()
    if args.master:
        conf.set("spark.master", args.master)
    elif "PYSPARK_GATEWAY_PORT" not in os.environ:
        conf.set("spark.master", "local[*]")
    conf.setIfMissing("spark.executorEnv.RAYON_NUM_THREADS", "1")
    conf.setIfMissing("spark.sql.shuffle.partitions", "16")
    # Local mode: the driver is the executor, and the bucket pairs go through its heap.
    conf.setIfMissing("spark.driver.memory", "4g")
    conf.setIfMissing("spark.ui.showConsoleProgress", "false")
    spark = SparkSession.builder.appName("storyprint dedup").config(conf=conf).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")

    files = input_files(args.input)
    if not files:
        sys.exit(f"spark_dedup: no JSONL or Parquet file in {args.input}")
    parquet = all(f.name.lower().endswith(".parquet") for f in files)
    if parquet:
        records, row_schema = parquet_records(spark, files, args.id_field, args.text_field)
    else:
        records = jsonl_records(spark, files, args.id_field, args.text_field)
    numbered_records = numbered(records).cache()
    docs = unique_ids(
        spark.createDataFrame(
            numbered_records.map(lambda r: (r[0], r[1], r[2])), "doc long, id string, text string"
        )
    ).cache()
    documents = docs.count()

    # 1. Document frequencies, summed over the partitions.
    frequencies = None
    if idf:

        def count(batches):
            local = storyprint.Fingerprinter(**options)
            for batch in batches:
                found = local.frequencies(batch.column("text").to_pylist())
                yield pa.RecordBatch.from_arrays(
                    [signed(found.column("term"), pa.int64()), signed(found.column("documents"), pa.int64())],
                    names=["term", "documents"],
                )

        summed = (
            docs.select("text")
            .mapInArrow(count, "term long, documents long")
            .groupBy("term")
            .agg(F.sum("documents").alias("documents"))
            .toArrow()
        )
        frequencies = pa.table(
            {
                "term": signed(summed.column("term"), pa.uint64()),
                "documents": signed(summed.column("documents"), pa.uint64()),
            }
        )
    shared = spark.sparkContext.broadcast((frequencies, documents))

    def worker_fingerprinter():
        table, n = shared.value
        return storyprint.Fingerprinter(frequencies=table, documents=n, **options)

    # 2. Signatures (and the exact feature sets, when judging levels).
    def sign(batches):
        local = worker_fingerprinter()
        names = ["signature", "weight", "band_keys", "fact_slots"]
        for batch in batches:
            doc = batch.column("doc")
            texts = batch.column("text").to_pylist()
            rows = local.signatures(texts, ids=[str(d) for d in doc.to_pylist()])
            columns = [doc] + [
                rows.column(name) if name == "weight" else signed(rows.column(name), SPARK_TYPES[name])
                for name in names
            ]
            if judging:
                columns.append(signed(local.features(texts).column(0), SPARK_TYPES["features"]))
            yield pa.RecordBatch.from_arrays(
                columns, names=["doc"] + names + (["features"] if judging else [])
            )

    schema = SIGNATURES + (f", features {FEATURES}" if judging else "")
    signatures = docs.select("doc", "text").mapInArrow(sign, schema).cache()

    # 3. Candidates: the pairs of each bucket (band, key), a pair key `a << 32 | b` each
    # (a < b), kept when they collide in at least min_hits bands.
    live = signatures.filter(F.col("signature")[0] != F.lit(_native.EMPTY))
    buckets = (
        live.select("doc", F.posexplode("band_keys").alias("band", "key"))
        .groupBy("band", "key")
        .agg(F.sort_array(F.collect_list("doc")).alias("docs"))
        .filter(F.size("docs") > 1)
    )
    bucket_pairs = F.expr(
        f"""IF(size(docs) <= {MAX_BUCKET},
               flatten(transform(sequence(1, size(docs) - 1), i ->
                   transform(slice(docs, i + 1, size(docs) - i), b -> docs[i - 1] * 4294967296 + b))),
               transform(slice(docs, 2, size(docs) - 1), b -> docs[0] * 4294967296 + b))"""
    )
    candidates = (
        buckets.select(F.explode(bucket_pairs).alias("pair"))
        .groupBy("pair")
        .count()
        .filter(F.col("count") >= min_hits)
        .select(F.shiftright("pair", 32).alias("a"), (F.col("pair") % 4294967296).alias("b"))
    )

    # 4. Verification: by the estimate, or exactly.
    def sides(table, columns):
        """`table`'s `columns` for the pair's document `a` and for `b`, joined to pairs."""
        side = lambda s: table.select(  # noqa: E731
            F.col("doc").alias(s), *[F.col(c).alias(f"{c}_{s}") for c in columns]
        )
        return lambda pairs: pairs.join(side("a"), "a").join(side("b"), "b")

    def verify(batches):
        local = worker_fingerprinter()
        for batch in batches:
            if judging:
                left, right = (rows_of(batch, ["features", "fact_slots"], s) for s in "ab")
                similarity = pa.array(local.exact_similarities(left, right))
            else:
                left, right = (
                    pa.RecordBatch.from_arrays(
                        [
                            signed(batch.column(f"signature_{s}"), ARROW_TYPES["signature"]),
                            batch.column(f"weight_{s}"),
                            signed(batch.column(f"fact_slots_{s}"), ARROW_TYPES["fact_slots"]),
                        ],
                        names=["signature", "weight", "fact_slots"],
                    )
                    for s in "ab"
                )
                similarity = pa.array(local.similarities(left, right))
            verified = pc.greater_equal(similarity, threshold)
            yield pa.RecordBatch.from_arrays(
                [batch.column("a").filter(verified), batch.column("b").filter(verified), similarity.filter(verified)],
                names=["a", "b", "similarity"],
            )

    evidence = ["features", "fact_slots"] if judging else ["signature", "weight", "fact_slots"]
    joined = sides(signatures, evidence)(candidates)
    edges = joined.mapInArrow(verify, "a long, b long, similarity double").localCheckpoint()
    if judging:
        edges = judged_levels(signatures, candidates, edges, sides, worker_fingerprinter, level)

    # 5. Connected components (label propagation: the smallest document of each), then the
    # keep rule in each.
    both = edges.select("a", "b").union(edges.select(F.col("b").alias("a"), F.col("a").alias("b")))
    labels = both.select(F.col("a").alias("doc")).distinct().withColumn("label", F.col("doc"))
    while True:
        offered = both.join(labels.withColumnRenamed("doc", "b"), "b").groupBy("a").agg(F.min("label").alias("offer"))
        updated = (
            labels.join(offered.withColumnRenamed("a", "doc"), "doc")
            .select("doc", F.least("label", "offer").alias("label"))
            .localCheckpoint()
        )
        changed = updated.join(labels.withColumnRenamed("label", "old"), "doc").filter(F.col("label") != F.col("old")).count()
        labels = updated
        if changed == 0:
            break

    def keep_first(component):
        """dedup's greedy pass over one component's verified pairs, in input order."""
        _, pairs = component
        neighbours = {}
        for a, b, s, story, level in pairs:
            neighbours.setdefault(a, []).append((b, s, story, level))
            neighbours.setdefault(b, []).append((a, s, story, level))
        kept = set()
        for doc in sorted(neighbours):
            choices = [(-s, other, story, level) for other, s, story, level in neighbours[doc] if other in kept]
            if choices:
                s, other, story, level = min(choices)
                yield (doc, other, -s, story, level)
            else:
                kept.add(doc)

    if not judging:
        edges = edges.withColumn("story", F.lit(None).cast("double")).withColumn("level", F.lit(None).cast("string"))
    by_component = edges.join(labels.withColumnRenamed("doc", "a"), "a")
    removals = spark.createDataFrame(
        by_component.rdd.map(
            lambda r: (r["label"], (r["a"], r["b"], r["similarity"], r["story"], r["level"]))
        )
        .groupByKey()
        .flatMap(keep_first),
        "removed long, kept long, similarity double, story double, level string",
    ).cache()

    ids = docs.select("doc", "id")
    named = (
        removals.join(ids.withColumnRenamed("doc", "removed").withColumnRenamed("id", "removed_id"), "removed")
        .join(ids.withColumnRenamed("doc", "kept").withColumnRenamed("id", "kept_id"), "kept")
        .orderBy("removed")
    )
    output = Path(args.output)
    named.select("removed_id", "kept_id", "similarity", "story", "level").coalesce(1).write.mode("overwrite").parquet(
        str(output / "removals")
    )
    gone = removals.select(F.col("removed").alias("doc"))
    if parquet:
        schema = StructType([StructField("doc", LongType())] + row_schema.fields)
        rows = spark.createDataFrame(numbered_records.map(lambda r: (r[0],) + tuple(r[3])), schema)
        kept = rows.join(gone, "doc", "left_anti").orderBy("doc").drop("doc")
        kept.write.mode("overwrite").parquet(str(output / "kept"))
    else:
        lines = spark.createDataFrame(numbered_records.map(lambda r: (r[0], r[3])), "doc long, value string")
        kept = lines.join(gone, "doc", "left_anti").orderBy("doc").select("value")
        kept.write.mode("overwrite").text(str(output / "kept"))
    removed = removals.count()
    print(
        f"spark_dedup: {documents} documents: kept {documents - removed}, removed {removed} "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    spark.stop()


if __name__ == "__main__":
    main()
