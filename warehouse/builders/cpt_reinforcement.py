"""``cpt-reinforcement``: more domain documents where the model lacked domain knowledge.

For every domain-knowledge error, the papers involved (the feedback's paper and its contexts'
papers) give categories and keywords; parsed documents (status ok) of other papers that share
a category and a keyword or query term are selected, best overlap first.
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa

from warehouse.builders.base import BuildOutput, Mapper, NothingToBuildError, local_map
from warehouse.builders.feedback_rows import routed
from warehouse.builders.splits import sample_id, split_tables
from warehouse.datasets.model import DatasetCard
from warehouse.db import Warehouse

SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("text", pa.string()),
        ("paper_id", pa.string()),
        ("matched_terms", pa.list_(pa.string())),
        ("feedback_ids", pa.list_(pa.string())),
    ]
)
_WORD = re.compile(r"[a-z][a-z0-9-]{3,}")


def _terms(*texts: str) -> set[str]:
    return {w for t in texts for w in _WORD.findall(t.lower())}


class CptReinforcementBuilder:
    name = "cpt-reinforcement"
    version = "1"
    defaults: dict[str, Any] = {"per_feedback": 5, "min_terms": 1, "validation": 0.0, "test": 0.0}

    def build(
        self, wh: Warehouse, params: dict[str, Any], mapper: Mapper = local_map
    ) -> BuildOutput:
        items = routed(wh, ("domain_knowledge",))
        if not items:
            raise NothingToBuildError("no domain-knowledge errors routed yet")
        with wh.read() as con:
            papers = {
                r[0]: (set(r[1] or []), _terms(" ".join(r[2] or []), r[3] or ""))
                for r in con.execute(
                    "SELECT paper_id, categories, keywords, title FROM papers"
                ).fetchall()
            }
            docs = con.execute(
                "SELECT paper_id, markdown FROM documents WHERE status = 'ok' "
                "AND markdown IS NOT NULL QUALIFY row_number() OVER "
                "(PARTITION BY paper_id ORDER BY parsed_at DESC) = 1"
            ).fetchall()
        chosen: dict[str, dict[str, Any]] = {}
        for r in items:
            involved = {r.paper_id, *(c.get("paper_id") for c in r.contexts)} - {None}
            cats = set().union(*(papers.get(p, (set(), set()))[0] for p in involved))
            terms = _terms(r.query, r.corrected_answer or "")
            terms |= set().union(*(papers.get(p, (set(), set()))[1] for p in involved))
            scored = []
            for paper_id, markdown in docs:
                if paper_id in involved:
                    continue
                p_cats, p_terms = papers.get(paper_id, (set(), set()))
                common = sorted(terms & p_terms)
                if cats & p_cats and len(common) >= params["min_terms"]:
                    scored.append((len(common), paper_id, markdown, common))
            scored.sort(key=lambda s: (-s[0], s[1]))
            for _, paper_id, markdown, common in scored[: params["per_feedback"]]:
                row = chosen.setdefault(
                    paper_id,
                    {
                        "text": markdown,
                        "paper_id": paper_id,
                        "matched_terms": [],
                        "feedback_ids": [],
                    },
                )
                row["matched_terms"] = sorted(set(row["matched_terms"]) | set(common))
                row["feedback_ids"].append(r.feedback_id)
        if not chosen:
            raise NothingToBuildError(
                "no parsed documents share a category and terms with the domain-knowledge errors"
            )
        rows = (
            (paper_id, {"sample_id": sample_id(self.name, paper_id), **row})
            for paper_id, row in sorted(chosen.items())
        )
        splits = split_tables(rows, SCHEMA, params)
        stats = {"rows": {k: t.num_rows for k, t in splits.items()}, "feedback": len(items)}
        card = DatasetCard(
            description="Continued pre-training text chosen to reinforce domain knowledge the "
            "model lacked: parsed papers related (category + terms) to its errors.",
            license_notes="Each paper keeps its own licence; check before redistribution.",
            how_built="For each domain-knowledge error: the categories and keywords of the "
            "papers involved, matched against parsed documents with status ok.",
            source_stats=stats,
            formatting="text",
            columns={"prompt": "text"},
        )
        return BuildOutput(splits=splits, card=card, params=params, stats=stats)
