"""Exact and near-duplicate removal, and the cpt-corpus builder on parsed documents."""

from __future__ import annotations

import random

import pytest

from warehouse import Warehouse
from warehouse.builders.base import BuildError
from warehouse.builders.cpt_corpus import CptCorpusBuilder
from warehouse.builders.dedup import find_duplicates, naive_duplicates

WORDS = [
    "model",
    "data",
    "learning",
    "graph",
    "network",
    "training",
    "loss",
    "accuracy",
    "method",
    "result",
    "paper",
    "attention",
    "layer",
    "feature",
    "sample",
    "benchmark",
    "transformer",
    "vision",
    "language",
    "token",
]


def document(seed: int, n: int = 300) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) + str(rng.randint(0, 50)) for _ in range(n))


def mutate(text: str, share: float, seed: int) -> str:
    rng = random.Random(seed)
    words = text.split()
    for i in rng.sample(range(len(words)), int(len(words) * share)):
        words[i] = "changed" + str(i)
    return " ".join(words)


def test_constructed_duplicates_are_found() -> None:
    base = [document(i) for i in range(50)]
    docs = [(f"d{i}", t) for i, t in enumerate(base)]
    docs.append(("exact", "  " + base[3].upper().replace(" ", "\n  ") + "  "))  # same text
    docs.append(("near", mutate(base[7], 0.02, 1)))  # 2% of words changed
    docs.append(("far", mutate(base[9], 0.6, 2)))  # 60% changed: a different document
    drops = {d.source_id: d for d in find_duplicates(docs, threshold=0.8)}
    assert set(drops) == {"exact", "near"}
    assert (drops["exact"].reason, drops["exact"].duplicate_of) == ("exact duplicate", "d3")
    assert (drops["near"].reason, drops["near"].duplicate_of) == ("near duplicate", "d7")
    assert drops["near"].similarity is not None and drops["near"].similarity >= 0.8
    # The naive loop agrees on the near duplicate (it does not look for exact ones first).
    naive = {d.source_id for d in naive_duplicates(docs, threshold=0.8)}
    assert {"near", "exact"} <= naive and "far" not in naive


def test_order_decides_which_copy_is_kept() -> None:
    a, b = ("a", document(1)), ("b", mutate(document(1), 0.01, 3))
    assert [d.source_id for d in find_duplicates([a, b])] == ["b"]
    assert [d.source_id for d in find_duplicates([b, a])] == ["a"]


def _docs(mem_wh: Warehouse, items: list[tuple[str, str, str, str]]) -> None:
    with mem_wh.write() as con:
        for doc_id, paper_id, status, text in items:
            con.execute(
                "INSERT INTO documents (doc_id, paper_id, pdf_sha256, parser, parser_version, "
                "status, markdown) VALUES (?, ?, 'x', 'pymupdf', '1', ?, ?)",
                [doc_id, paper_id, status, text],
            )


def test_cpt_corpus_builder(mem_wh: Warehouse) -> None:
    base = [document(i) for i in range(6)]
    _docs(mem_wh, [
        ("doc0", "2401.00000", "ok", base[0]),
        ("doc1", "2401.00001", "ok", base[1]),
        ("doc2", "2401.00002", "ok", mutate(base[1], 0.01, 5)),  # near duplicate of doc1
        ("doc3", "2401.00003", "low_quality", base[3]),           # not ok: never considered
        ("doc4", "2401.00004", "ok", "too short"),
        ("doc5", "2401.00005", "ok", base[0]),                    # exact duplicate of doc0
    ])  # fmt: skip
    builder = CptCorpusBuilder()
    out = builder.build(mem_wh, builder.defaults)
    rows = [r for t in out.splits.values() for r in t.to_pylist()]
    assert sorted(r["doc_id"] for r in rows) == ["doc0", "doc1"]
    assert out.stats["dropped"] == {
        "near duplicate": 1, "exact duplicate": 1, "shorter than min_chars": 1,
    }  # fmt: skip
    with mem_wh.read() as con:
        drops = con.execute(
            "SELECT source_id, reason, duplicate_of FROM dataset_drops ORDER BY 1"
        ).fetchall()
    assert drops == [
        ("doc2", "near duplicate", "doc1"),
        ("doc4", "shorter than min_chars", None),
        ("doc5", "exact duplicate", "doc0"),
    ]
    out_again = builder.build(mem_wh, builder.defaults)  # rebuilding replaces, never piles up
    assert out_again.stats == out.stats
    with mem_wh.read() as con:
        assert con.execute("SELECT count(*) FROM dataset_drops").fetchall() == [(3,)]


def test_cpt_corpus_needs_parsed_documents(mem_wh: Warehouse) -> None:
    with pytest.raises(BuildError, match="no parsed documents"):
        CptCorpusBuilder().build(mem_wh, CptCorpusBuilder.defaults)
