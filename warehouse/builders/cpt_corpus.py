"""``cpt-corpus``: continued pre-training text from parsed documents with status ``ok``.

One row per paper (its most recent good parse). Exact duplicates (same normalised text) and
near duplicates (MinHash-LSH over word shingles) are dropped; every dropped document is
recorded in ``dataset_drops`` with its reason and the document it duplicates.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa

from warehouse.best_source import best_ok_documents_sql
from warehouse.builders.base import BuildOutput, Mapper, NothingToBuildError, local_map
from warehouse.builders.dedup import find_duplicates
from warehouse.builders.splits import sample_id, split_of
from warehouse.datasets.model import DatasetCard
from warehouse.db import Warehouse

SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("text", pa.string()),
        ("paper_id", pa.string()),
        ("doc_id", pa.string()),
        ("parser", pa.string()),
        ("chars", pa.int64()),
    ]
)


class CptCorpusBuilder:
    name = "cpt-corpus"
    version = "1"
    defaults: dict[str, Any] = {
        "min_chars": 500,
        "near_dup_threshold": 0.8,
        "num_perm": 128,
        "shingle_size": 5,
        "validation": 0.005,
        "test": 0.0,
    }

    def build(
        self, wh: Warehouse, params: dict[str, Any], mapper: Mapper = local_map
    ) -> BuildOutput:
        with wh.read() as con:
            best = best_ok_documents_sql("d.doc_id, d.paper_id, d.parser, d.markdown")
            docs = con.execute(f"SELECT * FROM ({best}) ORDER BY paper_id").fetchall()
        if not docs:
            raise NothingToBuildError(
                "no parsed documents with status ok yet; the PDF parser fills the documents table"
            )
        short = [d for d in docs if len(d[3]) < params["min_chars"]]
        usable = [d for d in docs if len(d[3]) >= params["min_chars"]]
        drops = find_duplicates(
            [(doc_id, text) for doc_id, _, _, text in usable],
            threshold=float(params["near_dup_threshold"]),
            num_perm=int(params["num_perm"]),
            shingle_size=int(params["shingle_size"]),
            mapper=mapper,
        )
        dropped = {d.source_id for d in drops}
        with wh.write() as con:
            con.execute("DELETE FROM dataset_drops WHERE dataset = ?", [self.name]).fetchall()
            rows: list[tuple[str, str, str, str | None, float | None]] = [
                (self.name, d.source_id, d.reason, d.duplicate_of, d.similarity) for d in drops
            ]
            rows += [
                (self.name, doc_id, "shorter than min_chars", None, None) for doc_id, *_ in short
            ]
            if rows:
                con.executemany(
                    "INSERT INTO dataset_drops (dataset, source_id, reason, duplicate_of, "
                    "similarity) VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
        kept: dict[str, list[dict[str, Any]]] = {"train": [], "validation": [], "test": []}
        for doc_id, paper_id, parser, text in usable:
            if doc_id in dropped:
                continue
            split = split_of(paper_id, validation=params["validation"], test=params["test"])
            kept[split].append(
                {
                    "sample_id": sample_id(self.name, paper_id),
                    "text": text,
                    "paper_id": paper_id,
                    "doc_id": doc_id,
                    "parser": parser,
                    "chars": len(text),
                }
            )
        splits = {s: pa.Table.from_pylist(r, schema=SCHEMA) for s, r in kept.items() if r}
        reasons = Counter({"exact duplicate": 0, "near duplicate": 0})  # zeros are shown too
        reasons.update(d.reason for d in drops)
        reasons["shorter than min_chars"] += len(short)
        stats = {
            "documents": len(docs),
            "rows": {s: t.num_rows for s, t in splits.items()},
            "dropped": dict(reasons),
        }
        card = DatasetCard(
            description="Full text of parsed papers for continued pre-training (one document "
            "per paper, markdown with LaTeX math).",
            license_notes="Each paper keeps its own licence; check `papers.license` before "
            "redistribution.",
            how_built=(
                "The best document with status ok of every paper (LaTeX source or arXiv "
                "HTML, then Nougat, then PyMuPDF; see best_documents); documents shorter than "
                f"{params['min_chars']} characters dropped; exact duplicates (normalised text) "
                f"and near duplicates (MinHash-LSH, {params['num_perm']} permutations, "
                f"{params['shingle_size']}-word shingles, Jaccard >= "
                f"{params['near_dup_threshold']}) dropped and listed in `dataset_drops`."
            ),
            source_stats=stats,
            formatting="alpaca",
            columns={"prompt": "text"},
        )
        return BuildOutput(splits=splits, card=card, params=params, stats=stats)
