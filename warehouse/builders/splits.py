"""Deterministic train/validation/test assignment by paper id, and category balancing."""

from __future__ import annotations

import hashlib

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
