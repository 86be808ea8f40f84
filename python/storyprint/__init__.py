"""storyprint: fingerprints news articles and finds duplicates and rewrites of the same story.

The Python face of the storyprint library: every function runs the library's own pipeline
(the one the ``storyprint`` command runs) with the GIL released, so threads run in parallel.

Engine options are the command's engine flags, dashes as underscores: ``preset``
("default" or "classic"), ``features``, ``weighting``, ``hashes``, ``measure``,
``threshold``, ``level``, ``exact``, ``estimate``, ``language``, ``keep_stop_words``,
``no_fact_check``, ``keep_chrome``, ``statement_words``, ``seed``. A bad option raises
``ValueError`` with the command's message; a file that cannot be read or written raises
``OSError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native

__all__ = [
    "cluster",
    "matrix",
    "pairs",
    "dedup",
    "DedupResult",
    "Fingerprinter",
    "Index",
]


def _options(threshold=None, level=None, preset=None, **options) -> dict:
    """The engine options as the native module takes them."""
    given = dict(options, threshold=threshold, level=level, preset=preset)
    return {k: v for k, v in given.items() if v is not None}


def _ids_and_texts(texts: Iterable[str], ids: Optional[Sequence[Any]]) -> Tuple[List[str], List[str]]:
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"text {i} is {type(text).__name__}, not a str")
    if ids is None:
        ids = [str(i) for i in range(len(texts))]
    else:
        ids = [str(i) for i in ids]
        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids for {len(texts)} texts")
    return ids, texts


def cluster(
    texts: Iterable[str],
    ids: Optional[Sequence[Any]] = None,
    threshold: Optional[float] = None,
    level: Optional[str] = None,
    preset: Optional[str] = None,
    **options: Any,
) -> dict:
    """Groups texts that tell the same story, as ``storyprint cluster --format json`` does.

    Returns ``{"clusters": [{"id", "representative", "members", "pairs": [{"a", "b",
    "similarity", "story", "level"}]}], "singletons": [...]}``, documents named by ``ids``
    (default: their places, "0", "1", ...).

    Example::

        >>> import storyprint
        >>> texts = [
        ...     "Lukashenko pardoned 23 political prisoners: three women and 20 men.",
        ...     "Three women and 20 men, 23 political prisoners, were pardoned by Lukashenko.",
        ...     "Lukashenko met Putin in Minsk to discuss gas prices.",
        ... ]
        >>> result = storyprint.cluster(texts, ids=["a", "b", "c"])
        >>> result["clusters"][0]["members"], result["singletons"]
        (['a', 'b'], ['c'])
    """
    ids, texts = _ids_and_texts(texts, ids)
    found = _native.cluster_json(ids, texts, _options(threshold, level, preset, **options))
    return json.loads(found)


def pairs(
    texts: Iterable[str],
    ids: Optional[Sequence[Any]] = None,
    threshold: Optional[float] = None,
    level: Optional[str] = None,
    preset: Optional[str] = None,
    **options: Any,
) -> List[dict]:
    """The verified pairs, as ``storyprint pairs --format jsonl`` gives them.

    Each is ``{"a", "b", "similarity", "story", "level"}``; only LSH candidates that verify at
    or above the threshold.

    Example::

        >>> storyprint.pairs(["the bank raised rates by half a point on tuesday"] * 2)[0]["level"]
        'copy'
    """
    ids, texts = _ids_and_texts(texts, ids)
    found = _native.pairs_jsonl(ids, texts, _options(threshold, level, preset, **options))
    return [json.loads(line) for line in found.splitlines() if line]


def matrix(
    texts: Iterable[str],
    threshold: Optional[float] = None,
    preset: Optional[str] = None,
    **options: Any,
) -> np.ndarray:
    """The N x N similarity matrix (not the story score) as a float64 NumPy array.

    Example::

        >>> m = storyprint.matrix(["a rate rise of half a point", "a rate rise of half a point"])
        >>> m.shape
        (2, 2)
    """
    _, texts = _ids_and_texts(texts, None)
    return _native.matrix(texts, _options(threshold, None, preset, **options))


Record = Union[str, dict, Tuple[Any, str]]


@dataclass
class DedupResult:
    """What :func:`dedup` decided: the kept ids in input order, the removals as
    ``(removed_id, kept_id, similarity)`` (similarity to 4 decimals, as ``removed.tsv``), and
    the records skipped as ``(id, reason)`` (an empty text, one over 16 MiB)."""

    kept: List[str] = field(default_factory=list)
    removed: List[Tuple[str, str, float]] = field(default_factory=list)
    skipped: List[Tuple[str, str]] = field(default_factory=list)


def dedup(
    records: Iterable[Record],
    threshold: Optional[float] = None,
    preset: Optional[str] = None,
    keep: str = "first",
    exact: bool = False,
    memory_mb: Optional[int] = None,
    temp_dir: Optional[str] = None,
    id_field: str = "id",
    text_field: str = "text",
    **options: Any,
) -> DedupResult:
    """Removes near-duplicates from a stream of records with ``storyprint dedup``'s runner.

    ``records`` is any iterable, read once: texts (named by their place, "0", "1", ...),
    dicts (``id_field``, ``text_field``) or ``(id, text)`` pairs. The texts go to a temporary
    file in ``temp_dir`` (the runner reads its input twice), never all in memory; beyond
    ``memory_mb`` the runner spills to disk. ``keep`` is "first" or "longest"; ``exact``
    verifies pairs exactly (``--exact``). A record is removed when it has a verified pair with
    a record already kept, and each removal names that kept record. As the command, it removes
    copies only unless ``level`` ("rewrite", "related") or ``preset="classic"`` says otherwise.

    Example::

        >>> story = "the central bank raised its key interest rate by half a point on tuesday"
        >>> result = storyprint.dedup([("a", story), ("b", story), ("c", "grain prices fell")])
        >>> result.kept, result.removed
        (['a', 'c'], [('b', 'a', 1.0)])
    """
    ids: List[str] = []

    def texts() -> Iterator[str]:
        for i, record in enumerate(records):
            if isinstance(record, str):
                ids.append(str(i))
                yield record
            elif isinstance(record, dict):
                ids.append(str(record.get(id_field, i)))
                if text_field not in record:
                    raise ValueError(f"record {i} has no {text_field!r} field")
                yield record[text_field]
            else:
                record_id, text = record
                ids.append(str(record_id))
                yield text

    n, removals, skipped = _native.dedup(
        texts(),
        _options(threshold, None, preset, **options),
        keep,
        exact,
        memory_mb,
        temp_dir,
    )
    gone = {removed for removed, _, _ in removals} | {place for place, _ in skipped}
    return DedupResult(
        kept=[ids[i] for i in range(n) if i not in gone],
        removed=[(ids[r], ids[k], s) for r, k, s in removals],
        skipped=[(ids[i], why) for i, why in skipped],
    )


class Fingerprinter:
    """Signatures of texts, as ``storyprint signatures`` writes them, for jobs that take over
    from there (Spark, DataFusion, pandas).

    ``frequencies`` (a ``pyarrow.RecordBatch`` or ``Table`` of ``term`` and ``documents``,
    as :meth:`frequencies` returns; partial tables may be summed) gives the document
    frequencies that weight features, so that every worker of a distributed job weighs with
    the same, global ones; ``documents`` is the number of documents they count (default: the
    ``storyprint.documents`` metadata). Without them, each call weighs with its own texts'.

    Example::

        >>> fp = storyprint.Fingerprinter(preset="classic")
        >>> batch = fp.signatures(["a text of some words here", "another text"], ids=["x", "y"])
        >>> batch.schema.names
        ['doc_id', 'signature', 'weight', 'band_keys', 'fact_slots']
    """

    def __init__(
        self,
        frequencies: Any = None,
        documents: Optional[int] = None,
        threshold: Optional[float] = None,
        preset: Optional[str] = None,
        level: Optional[str] = None,
        **options: Any,
    ) -> None:
        if frequencies is not None and hasattr(frequencies, "combine_chunks"):
            table = frequencies.combine_chunks()
            batches = table.to_batches()
            if batches:
                frequencies = batches[0].replace_schema_metadata(table.schema.metadata)
            else:
                import pyarrow as pa

                frequencies = pa.RecordBatch.from_pylist([], schema=table.schema)
        self._native = _native.Fingerprinter(
            _options(threshold, level, preset, **options), frequencies, documents
        )

    @property
    def metadata(self) -> dict:
        """The signature parameters (``storyprint.num_hashes``, ``storyprint.bands``, ...), as
        in the signatures file's metadata."""
        return dict(self._native.metadata())

    def signatures(self, texts: Iterable[str], ids: Optional[Sequence[Any]] = None):
        """A ``pyarrow.RecordBatch`` of ``doc_id``, ``signature`` (list<uint32>), ``weight``,
        ``band_keys`` (list<uint64>) and ``fact_slots`` (list<struct<context, number>>), the
        parameters in the schema metadata: bit for bit the rows ``storyprint signatures``
        writes for the same documents and frequencies."""
        ids, texts = _ids_and_texts(texts, ids)
        return self._native.signatures(ids, texts)

    def frequencies(self, texts: Iterable[str]):
        """The document frequencies of ``texts``: a ``pyarrow.RecordBatch`` of ``term`` and
        ``documents`` (uint64), ``storyprint.documents`` in the metadata."""
        _, texts = _ids_and_texts(texts, None)
        return self._native.frequencies(texts)

    def similarity(self, a: str, b: str) -> float:
        """The similarity ``storyprint dedup`` judges two texts by (estimated from their
        signatures, with the fact check)."""
        return self._native.similarity(a, b)

    def similarities(self, left, right) -> np.ndarray:
        """The similarity ``storyprint dedup`` judges each pair by: row ``i`` of ``left`` with
        row ``i`` of ``right``, two ``pyarrow.RecordBatch`` es with the ``signature``,
        ``weight`` and ``fact_slots`` columns of :meth:`signatures`."""
        return self._native.similarities(left, right)

    # Judging pairs as ``dedup`` does above the ``related`` level, step by step, on rows
    # another engine holds (``examples/spark_dedup.py``).

    @property
    def level(self) -> str:
        """The lowest level that counts as a match: ``"copy"``, ``"rewrite"`` or
        ``"related"`` (the ``level`` option; the classic preset's is ``"related"``)."""
        return self._native.level

    def features(self, texts: Iterable[str]):
        """The exact feature sets of ``texts``, as ``dedup`` verifies pairs above the
        ``related`` level: a ``pyarrow.RecordBatch`` of one ``features`` column,
        list<struct<hash: uint64, weight: float64>> sorted by hash."""
        _, texts = _ids_and_texts(texts, None)
        return self._native.features(texts)

    def exact_similarities(self, left, right) -> np.ndarray:
        """The exact similarity of row ``i`` of ``left`` with row ``i`` of ``right``, two
        ``pyarrow.RecordBatch`` es with ``features`` (:meth:`features`) and ``fact_slots``
        (:meth:`signatures`) columns."""
        return self._native.exact_similarities(left, right)

    def contrasted(self, batch):
        """Each row's ``features`` contrasted with its ``neighbours`` (a list of feature
        sets: the documents it is a candidate pair with), as the story score contrasts them:
        a ``pyarrow.RecordBatch`` of one ``features`` column.

        Example::

            >>> import pyarrow as pa
            >>> fp = storyprint.Fingerprinter()
            >>> own = fp.features(["Rates rose by half a point.", "Rates rose again."]).column(0)
            >>> near = pa.array([[own[1].as_py()], [own[0].as_py()]], pa.list_(own.type))
            >>> rows = pa.RecordBatch.from_arrays([own, near], names=["features", "neighbours"])
            >>> fp.contrasted(rows).num_rows
            2
        """
        return self._native.contrasted(batch)

    def levels(self, left, right, similarities) -> Tuple[np.ndarray, List[Optional[str]]]:
        """The story score and level (``None`` below the threshold) of verified pairs: row
        ``i`` of ``left`` with row ``i`` of ``right`` (contrasted ``features`` and
        ``fact_slots``), whose similarity is ``similarities[i]``."""
        return self._native.levels(left, right, [float(s) for s in similarities])


class Index:
    """A persistent index on disk, the ``storyprint index``/``check`` format: either opens
    the other's index.

    Created at ``path`` on first use with the engine options (default: storyprint's
    defaults); an existing index keeps its own settings (options given must agree).

    Example::

        >>> index = storyprint.Index("storyprint-index")
        >>> index.add("wire-1", "The port strike ended on Monday after 12 days.")
        'new'
        >>> index.check("After 12 days the port strike ended on Monday.")["duplicate"]
        True
    """

    def __init__(self, path: str, **options: Any) -> None:
        self._native = _native.Index(str(path), _options(**options))

    def add(self, id: str, text: str) -> str:
        """Adds a document, or replaces the one with this id: "new", "replaced" or
        "unchanged"."""
        return self._native.add(str(id), text)

    def check(self, text: str, id: Optional[str] = None, threshold: Optional[float] = None) -> dict:
        """The verdict on ``text``: ``{"duplicate": bool, "matches": [{"id", "similarity",
        "story", "level"}]}``, best match first, as ``storyprint check --format json`` gives it
        (``id`` is never its own match; a duplicate is a match at the index's level)."""
        duplicate, matches = self._native.check(text, id, threshold)
        return {
            "duplicate": duplicate,
            "matches": [
                {
                    "id": m,
                    "similarity": round(s, 4),
                    "story": None if story is None else round(story, 4),
                    "level": level,
                }
                for m, s, story, level in matches
            ],
        }

    def __len__(self) -> int:
        return len(self._native)
