"""Exact and near-duplicate detection for documents (MinHash-LSH, via datasketch).

Shingles are word n-grams of the normalised text, hashed with a fast 32-bit hash into numpy
arrays and fed to ``MinHash.update_batch``-style vectorised permutation (``MinHash.bulk``), so
the per-document cost is a few numpy operations instead of a Python loop per shingle.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)


def normalise(text: str) -> str:
    return _WS.sub(" ", text.lower()).strip()


def exact_key(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()


def shingles(text: str, size: int) -> list[bytes]:
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return [" ".join(words).encode()] if words else [b""]
    return [" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)]


def _hash32(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


@dataclass(frozen=True)
class Drop:
    source_id: str
    reason: str  # "exact duplicate" | "near duplicate"
    duplicate_of: str
    similarity: float | None = None


@dataclass(frozen=True)
class SketchJob:
    """One chunk of texts to MinHash (picklable: it may run on another machine)."""

    texts: tuple[str, ...]
    num_perm: int
    shingle_size: int


def sketch(job: SketchJob) -> list[MinHash]:
    hashed = [
        np.fromiter((_hash32(s) for s in shingles(t, job.shingle_size)), dtype=np.uint64)
        for t in job.texts
    ]
    return list(MinHash.bulk(hashed, num_perm=job.num_perm, hashfunc=_identity))


def find_duplicates(
    docs: Sequence[tuple[str, str]],
    *,
    threshold: float = 0.8,
    num_perm: int = 128,
    shingle_size: int = 5,
    batch: int = 2048,
    mapper: Callable[[Callable[[Any], Any], list[Any]], list[Any]] | None = None,
) -> list[Drop]:
    """Which documents to drop: exact duplicates first, then near duplicates. The first
    document of each group (in the given order) is kept.

    The MinHash sketches (the expensive part) are computed by ``mapper`` over chunks of
    ``batch`` documents, so they can run as Dask tasks; the LSH pass is sequential, which
    keeps the result identical to a local run."""
    drops: list[Drop] = []
    first_by_key: dict[str, str] = {}
    survivors: list[tuple[str, str]] = []
    for source_id, text in docs:
        key = exact_key(text)
        if key in first_by_key:
            drops.append(Drop(source_id, "exact duplicate", first_by_key[key], 1.0))
        else:
            first_by_key[key] = source_id
            survivors.append((source_id, text))
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    kept: dict[str, MinHash] = {}
    chunks = [survivors[i : i + batch] for i in range(0, len(survivors), batch)]
    jobs = [SketchJob(tuple(t for _, t in c), num_perm, shingle_size) for c in chunks]
    results = (mapper or _map)(sketch, jobs)
    for chunk, sketches in zip(chunks, results, strict=True):
        for (source_id, _), sketch_ in zip(chunk, sketches, strict=True):
            near = lsh.query(sketch_)
            if near:
                best = max(near, key=lambda other: sketch_.jaccard(kept[other]))
                similarity = float(sketch_.jaccard(kept[best]))
                if similarity >= threshold:
                    drops.append(Drop(source_id, "near duplicate", best, similarity))
                    continue
            lsh.insert(source_id, sketch_)
            kept[source_id] = sketch_
    return drops


def _map(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    return [fn(item) for item in items]


def _identity(value: int) -> int:
    return value


def naive_duplicates(
    docs: Iterable[tuple[str, str]], *, threshold: float = 0.8, num_perm: int = 128,
    shingle_size: int = 5,
) -> list[Drop]:  # fmt: skip
    """The textbook datasketch loop (one ``update`` per shingle), kept as the benchmark's
    baseline."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    drops = []
    for source_id, text in docs:
        m = MinHash(num_perm=num_perm)
        for s in shingles(text, shingle_size):
            m.update(s)
        near = lsh.query(m)
        if near:
            drops.append(Drop(source_id, "near duplicate", near[0]))
            continue
        lsh.insert(source_id, m)
    return drops
