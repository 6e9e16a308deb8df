"""The shared ICLR 2023/2024 official reviews (read from ../shared, never copied)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reviews.corpus import read_reviews

REVIEWS_V2 = Path("fixtures/openreview/reviews_v2/iclr2023_2024_official_reviews.jsonl.gz")


@pytest.fixture(scope="session")
def reviews_v2(shared: Path) -> list[dict[str, Any]]:
    return list(read_reviews(shared / REVIEWS_V2))


@pytest.fixture(scope="session")
def by_note(reviews_v2: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["note"]: r for r in reviews_v2}
