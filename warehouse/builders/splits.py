"""Deterministic train/validation/test assignment by paper id, and category balancing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

SPLITS = ("train", "validation", "test")


def split_of(key: str, *, validation: float = 0.01, test: float = 0.01, salt: str = "") -> str:
    """The split a paper goes to: a hash of its id, so every row of a paper lands in the same
    split in every dataset and every version."""
    bucket = int.from_bytes(hashlib.sha256(f"{salt}{key}".encode()).digest()[:8], "big") / 2**64
    if bucket < test:
        return "test"
    if bucket < test + validation:
        return "validation"
    return "train"


def sample_id(dataset: str, *parts: str) -> str:
    """A stable id for a row: the same sources give the same id in every version."""
    return hashlib.sha256("\x1f".join((dataset, *parts)).encode()).hexdigest()[:24]


def split_tables(
    rows: Iterable[tuple[str, dict[str, Any]]], schema: pa.Schema, params: dict[str, Any]
) -> dict[str, pa.Table]:
    """``(split key, row)`` pairs -> one Arrow table per non-empty split, by ``split_of`` with
    the builder's ``validation``/``test`` shares."""
    kept: dict[str, list[dict[str, Any]]] = {}
    for key, row in rows:
        split = split_of(key, validation=params["validation"], test=params["test"])
        kept.setdefault(split, []).append(row)
    return {split: pa.Table.from_pylist(items, schema=schema) for split, items in kept.items()}
